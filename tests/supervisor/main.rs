//! The supervisor against real processes: small Python fake children
//! (`tests/fixtures/fake_child.py`). Survivors are found by scanning `/proc/*/environ`
//! for a marker unique to each test, not by asking the supervisor.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use reflex_django::supervisor::{
    AliveCheck, Captured, ChildHandle, ChildSpec, Event, EventKind, Expect, LineHook, LogMux,
    Options, Probe, RestartPolicy, State, Supervisor, Watch,
};
use tokio::sync::broadcast;

const BIN: &str = env!("CARGO_BIN_EXE_reflex-django");

/// A marker unique to one test; every process it starts carries it. Dropping it kills
/// whatever still carries it, so a failing test cleans up too.
struct Marker {
    value: String,
}

impl Marker {
    fn new(test: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        Marker {
            value: format!("{test}-{}-{nanos}", std::process::id()),
        }
    }

    fn entry(&self) -> String {
        format!("RDJ_TEST_MARKER={}", self.value)
    }

    /// Living processes carrying the marker.
    fn survivors(&self) -> Vec<i32> {
        let entry = self.entry();
        let mut found = Vec::new();
        for dir in std::fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = dir.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            let Ok(environ) = std::fs::read(dir.path().join("environ")) else {
                continue;
            };
            let zombie = std::fs::read_to_string(dir.path().join("stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit_once(')')
                        .map(|(_, rest)| rest.trim_start().starts_with('Z'))
                })
                .unwrap_or(true);
            if !zombie && environ.split(|b| *b == 0).any(|e| e == entry.as_bytes()) {
                found.push(pid);
            }
        }
        found
    }

    /// Polls until no process carries the marker; returns how long that took.
    fn wait_until_none_left(&self, limit: Duration) -> Result<Duration, Vec<i32>> {
        let start = Instant::now();
        loop {
            let left = self.survivors();
            if left.is_empty() {
                return Ok(start.elapsed());
            }
            if start.elapsed() > limit {
                return Err(left);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Marker {
    fn drop(&mut self) {
        for pid in self.survivors() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fake_child.py")
}

fn fake(name: &str, marker: &Marker, args: &[&str]) -> ChildSpec {
    ChildSpec {
        args: std::iter::once(fixture().display().to_string())
            .chain(args.iter().map(|a| a.to_string()))
            .collect(),
        env: vec![("RDJ_TEST_MARKER".into(), marker.value.clone())],
        ..ChildSpec::new(name, "python3")
    }
}

/// A fake child that serves `/ping` (`pong`) on a free port after `delay_ms`, ready
/// when it answers.
fn pong_server(marker: &Marker, delay_ms: &str) -> ChildSpec {
    let port = reflex_django::ports::free_local_port().unwrap();
    let mut spec = fake("server", marker, &["serve", delay_ms]);
    spec.env.push(("PORT".into(), port.to_string()));
    spec.ready = Probe::Http {
        port,
        path: "/ping".into(),
        expect: Expect::Body("pong".into()),
    };
    spec
}

/// Waits for the first restart of `child` and for it to be ready again, in a new
/// process (not `first`); then shuts down and checks that nothing is left.
async fn restarted_then_shut_down(
    sup: &Supervisor,
    marker: &Marker,
    child: &ChildHandle,
    events: &mut broadcast::Receiver<Event>,
    first: u32,
) {
    next_event(events, child.name(), Duration::from_secs(10), |k| match k {
        EventKind::Restarting { attempt: 1, .. } => Some(()),
        _ => None,
    })
    .await;
    child
        .state()
        .wait_for(|s| *s == State::Ready)
        .await
        .unwrap();
    assert_ne!(child.pid().unwrap(), first);
    shut_down_and_check(sup, marker).await;
}

async fn supervisor(grace: Duration, exit_on_crash: bool) -> (Supervisor, Captured) {
    let (log, printed) = LogMux::captured();
    let sup = Supervisor::start(Options {
        grace,
        exit_on_crash,
        guardian: Some(BIN.into()),
        // Several tests run in this process at once: no process-wide signal handling.
        handle_signals: false,
        log,
    })
    .await
    .unwrap();
    (sup, printed)
}

/// Shuts `sup` down and checks that nothing of the test is left.
async fn shut_down_and_check(sup: &Supervisor, marker: &Marker) {
    sup.shutdown().await;
    assert_eq!(marker.survivors(), Vec::<i32>::new());
}

/// The next event of `child` that `pick` accepts, with the time it arrived.
async fn next_event<T>(
    events: &mut broadcast::Receiver<Event>,
    child: &str,
    limit: Duration,
    mut pick: impl FnMut(&EventKind) -> Option<T>,
) -> (T, Instant) {
    let wait = async {
        loop {
            let event = events.recv().await.expect("event stream open");
            if &*event.child == child
                && let Some(found) = pick(&event.kind)
            {
                return (found, Instant::now());
            }
        }
    };
    tokio::time::timeout(limit, wait)
        .await
        .unwrap_or_else(|_| panic!("no such event of {child} within {limit:?}"))
}

async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(
            start.elapsed() < limit,
            "condition not met within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashing_child_backs_off_then_gives_up_with_its_last_lines() {
    let marker = Marker::new("crash");
    let (sup, _) = supervisor(Duration::from_secs(1), false).await;
    let mut events = sup.subscribe();
    let child = sup
        .spawn(ChildSpec {
            restart: RestartPolicy {
                backoff_initial: Duration::from_millis(200),
                backoff_max: Duration::from_millis(800),
                stable_after: Duration::from_secs(30),
                max_crashes: 4,
                crash_window: Duration::from_secs(60),
            },
            ..fake("crashy", &marker, &["crash"])
        })
        .unwrap();

    let mut starts = Vec::new();
    let mut delays = Vec::new();
    let error = loop {
        let (kind, at) = next_event(&mut events, "crashy", Duration::from_secs(20), |k| {
            Some(k.clone())
        })
        .await;
        match kind {
            EventKind::Starting { .. } => starts.push(at),
            EventKind::Restarting { delay, .. } => delays.push(delay),
            EventKind::GaveUp { error } => break error,
            _ => {}
        }
    };
    let ms = Duration::from_millis;
    assert_eq!(delays, vec![ms(200), ms(400), ms(800)]);
    assert_eq!(starts.len(), 4);
    let gaps: Vec<Duration> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    eprintln!("gaps between starts: {gaps:?}");
    for (gap, delay) in gaps.iter().zip(&delays) {
        assert!(gap >= delay, "a restart came before its back-off: {gaps:?}");
    }
    assert!(
        gaps[0] < gaps[1] && gaps[1] < gaps[2],
        "gaps grow: {gaps:?}"
    );

    let report = error.to_string();
    assert!(
        error
            .message()
            .contains("crashy keeps crashing: 4 times within 60s (last: exited with exit code 1)"),
        "{report}"
    );
    assert!(report.contains("booting the app"), "{report}");
    assert!(
        report.contains("likely cause: ModuleNotFoundError: No module named 'nope'"),
        "{report}"
    );
    assert!(
        error
            .hint_text()
            .unwrap()
            .contains("install the missing package"),
        "{report}"
    );
    assert!(matches!(child.current(), State::Down { .. }));
    assert_eq!(sup.wait_ready().await.unwrap_err(), error);

    shut_down_and_check(&sup, &marker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let marker = Marker::new("stubborn");
    let grace = Duration::from_millis(1500);
    let (sup, _) = supervisor(grace, false).await;
    let mut events = sup.subscribe();
    let child = sup.spawn(fake("stubborn", &marker, &["stubborn"])).unwrap();
    child.wait_ready().await.unwrap();
    eventually(Duration::from_secs(5), || {
        child.last_lines(1) == ["ignoring SIGTERM"]
    })
    .await;
    assert_eq!(marker.survivors().len(), 1);

    let asked = Instant::now();
    child.stop().await;
    let took = asked.elapsed();
    let (stopped, _) = next_event(
        &mut events,
        "stubborn",
        Duration::from_secs(1),
        |k| match k {
            EventKind::Stopped { forced, took } => Some((*forced, *took)),
            _ => None,
        },
    )
    .await;
    eprintln!("SIGTERM → SIGKILL escalation took {took:?} (grace {grace:?})");
    assert!(stopped.0, "it had to be killed");
    assert!(
        took >= grace && took < grace + Duration::from_millis(700),
        "{took:?}"
    );
    assert_eq!(child.current(), State::Stopped);
    assert_eq!(marker.survivors(), Vec::<i32>::new());
    sup.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grandchild_that_left_with_setsid_and_ignores_sigterm_is_still_stopped() {
    let marker = Marker::new("forker");
    let (sup, _) = supervisor(Duration::from_millis(800), false).await;
    let child = sup.spawn(fake("forker", &marker, &["forker"])).unwrap();
    child.wait_ready().await.unwrap();
    let grandchild = grandchild_of(&child).await;
    let stat = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    assert_eq!(
        fields[3],
        grandchild.to_string(),
        "the grandchild leads its own session"
    );
    assert_ne!(
        fields[2],
        child.pid().unwrap().to_string(),
        "it left the child's group"
    );
    assert_eq!(marker.survivors().len(), 2);

    child.stop().await;
    assert_eq!(marker.survivors(), Vec::<i32>::new());
    // Its parent died first, so it was re-parented to us (the subreaper): we reaped it
    // rather than leave a zombie.
    eventually(Duration::from_secs(2), || {
        !Path::new(&format!("/proc/{grandchild}")).exists()
    })
    .await;
    sup.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_not_ready_in_time_fails_the_start_with_its_last_lines() {
    let marker = Marker::new("slow");
    let (sup, _) = supervisor(Duration::from_secs(1), false).await;
    let port = reflex_django::ports::free_local_port().unwrap();
    sup.spawn(ChildSpec {
        ready: Probe::Http {
            port,
            path: "/ping".into(),
            expect: Expect::Body("pong".into()),
        },
        ready_timeout: Duration::from_secs(1),
        ..fake("slowpoke", &marker, &["slow"])
    })
    .unwrap();
    let started = Instant::now();
    let error = sup.wait_ready().await.unwrap_err();
    let took = started.elapsed();
    let report = error.to_string();
    eprintln!("readiness failure after {took:?}:\n{report}");
    assert_eq!(error.message(), "slowpoke was not ready within 1s");
    assert!(report.contains(&format!(
        "waiting for GET http://127.0.0.1:{port}/ping to answer `pong`"
    )));
    assert!(report.contains("Connection refused"), "{report}");
    assert!(
        report.contains("last output of slowpoke:\nstill loading"),
        "{report}"
    );
    assert!(error.hint_text().unwrap().contains("allow it more time"));
    eprintln!("a child not ready within 1s was given up after {took:?}");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(30),
        "{took:?}"
    );
    assert_eq!(
        marker.survivors(),
        Vec::<i32>::new(),
        "a child that failed the start is stopped"
    );
    sup.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_comes_out_in_whole_lines_and_hooks_see_every_line() {
    let marker = Marker::new("partial");
    let (sup, printed) = supervisor(Duration::from_secs(1), false).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let hook_seen = seen.clone();
    sup.spawn(fake("long-name", &marker, &["crash"])).unwrap();
    let child = sup
        .spawn(ChildSpec {
            on_line: Some(LineHook::new(move |line| {
                hook_seen.lock().unwrap().push(line.text.to_string());
                line.text != "second line"
            })),
            ..fake("partial", &marker, &["partial"])
        })
        .unwrap();
    child.wait_ready().await.unwrap();
    eventually(Duration::from_secs(5), || seen.lock().unwrap().len() >= 2).await;
    assert_eq!(*seen.lock().unwrap(), vec!["hello world", "second line"]);
    assert!(
        printed.text().contains("partial   │ hello world\n"),
        "{}",
        printed.text()
    );
    assert!(!printed.text().contains("second line"), "the hook hid it");
    assert_eq!(child.last_lines(5), vec!["hello world", "second line"]);

    // The line without a newline (written 50 ms after the others) comes out whole when
    // the stream ends.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(child.last_lines(1), vec!["second line"]);
    child.stop().await;
    assert_eq!(child.last_lines(1), vec!["no newline at the end"]);
    shut_down_and_check(&sup, &marker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_is_restarted_and_ready_again() {
    let marker = Marker::new("serve");
    let (sup, _) = supervisor(Duration::from_secs(1), false).await;
    let mut events = sup.subscribe();
    let child = sup.spawn(pong_server(&marker, "300")).unwrap();
    let mut state = child.state();
    assert_eq!(*state.borrow_and_update(), State::Starting);
    let (after, _) = next_event(
        &mut events,
        "server",
        Duration::from_secs(10),
        |k| match k {
            EventKind::Ready { after } => Some(*after),
            _ => None,
        },
    )
    .await;
    assert!(after >= Duration::from_millis(300), "{after:?}");
    assert_eq!(
        sup.wait_ready().await.unwrap(),
        reflex_django::supervisor::Startup::Ready
    );

    let first = child.pid().unwrap();
    kill(Pid::from_raw(first as i32), Signal::SIGKILL).unwrap();
    let (exit, _) = next_event(&mut events, "server", Duration::from_secs(5), |k| match k {
        EventKind::Exited { exit, .. } => Some(*exit),
        _ => None,
    })
    .await;
    assert_eq!(exit.to_string(), "killed by SIGKILL");
    restarted_then_shut_down(&sup, &marker, &child, &mut events, first).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_answering_is_restarted_by_its_liveness_checks() {
    let marker = Marker::new("hung");
    let (sup, _) = supervisor(Duration::from_secs(1), false).await;
    let mut events = sup.subscribe();
    let mut spec = pong_server(&marker, "0");
    spec.alive = Some(AliveCheck {
        probe: spec.ready.clone(),
        every: Duration::from_millis(100),
        timeout: Duration::from_millis(300),
        failures: 3,
    });
    let child = sup.spawn(spec).unwrap();
    let mut state = child.state();
    state.wait_for(|s| *s == State::Ready).await.unwrap();
    // Answering checks keeps it running.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let first = child.pid().unwrap();
    assert_eq!(*state.borrow(), State::Ready);

    // Frozen, as by a debugger or a deadlock: it still holds its port, answers nothing.
    child.signal(Signal::SIGSTOP).await.unwrap();
    let stopped = Instant::now();
    let (why, _) = next_event(
        &mut events,
        "server",
        Duration::from_secs(20),
        |k| match k {
            EventKind::Unresponsive { why } => Some(why.clone()),
            _ => None,
        },
    )
    .await;
    eprintln!(
        "a frozen server was found out after {:?}: {why}",
        stopped.elapsed()
    );
    assert!(why.contains("/ping"), "{why}");
    assert!(why.contains("3 checks in a row"), "{why}");
    restarted_then_shut_down(&sup, &marker, &child, &mut events, first).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_while_supervising_ends_the_run_instead_of_hanging_it() {
    let marker = Marker::new("panic");
    let (sup, _) = supervisor(Duration::from_secs(1), false).await;
    sup.spawn(ChildSpec {
        on_line: Some(LineHook::new(|line| {
            assert!(
                line.text != "booting the app",
                "a hook that cannot take this line"
            );
            true
        })),
        ..fake("panicky", &marker, &["crash"])
    })
    .unwrap();
    let error = tokio::time::timeout(Duration::from_secs(20), sup.wait())
        .await
        .expect("the run ends")
        .unwrap_err();
    assert!(
        error
            .message()
            .contains("the output reader of panicky failed: a hook that cannot take this line"),
        "{error}"
    );
    assert!(
        error.to_string().contains("this is a bug in reflex-django"),
        "{error}"
    );
    assert_eq!(marker.survivors(), Vec::<i32>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_on_crash_ends_the_run_with_the_report() {
    let marker = Marker::new("exit-on-crash");
    let (sup, _) = supervisor(Duration::from_secs(1), true).await;
    sup.spawn(fake("stubborn", &marker, &["stubborn"])).unwrap();
    sup.spawn(fake("crashy", &marker, &["crash"])).unwrap();
    let error = tokio::time::timeout(Duration::from_secs(10), sup.wait())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(error.message(), "crashy exited with exit code 1");
    assert!(error.to_string().contains("No module named 'nope'"));
    shut_down_and_check(&sup, &marker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saving_a_watched_file_restarts_the_child_and_says_which() {
    let marker = Marker::new("reload");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("app")).unwrap();
    let (sup, _) = supervisor(Duration::from_secs(1), false).await;
    let mut events = sup.subscribe();
    let child = sup
        .spawn(ChildSpec {
            watch: Some(Watch {
                paths: vec![dir.path().to_path_buf()],
                include: vec!["*.py".into()],
                ignore: vec!["*.sqlite3".into()],
            }),
            ..fake("forker", &marker, &["forker"])
        })
        .unwrap();
    child.wait_ready().await.unwrap();
    let first = child.pid().unwrap();
    let old_grandchild = grandchild_of(&child).await;
    std::fs::write(dir.path().join("db.sqlite3"), "written by a login").unwrap();
    std::fs::write(dir.path().join("app/views.py"), "x = 1\n").unwrap();
    let (path, _) = next_event(&mut events, "forker", Duration::from_secs(5), |k| match k {
        EventKind::ReloadRequested { path } => Some(path.clone()),
        _ => None,
    })
    .await;
    assert_eq!(path, dir.path().join("app/views.py"));
    child
        .state()
        .wait_for(|s| *s == State::Ready)
        .await
        .unwrap();
    assert_ne!(child.pid().unwrap(), first);
    let new_grandchild = grandchild_of(&child).await;
    // The old instance's setsid'd grandchild went with it.
    assert_ne!(new_grandchild, old_grandchild);
    let mut left = marker.survivors();
    left.sort();
    let mut expected = vec![child.pid().unwrap() as i32, new_grandchild];
    expected.sort();
    assert_eq!(left, expected);
    shut_down_and_check(&sup, &marker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn touching_a_watched_file_restarts_the_child() {
    let marker = Marker::new("touch");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.py");
    std::fs::write(&file, "DEBUG = True\n").unwrap();
    let (sup, _) = supervisor(Duration::from_secs(1), false).await;
    let mut events = sup.subscribe();
    let child = sup
        .spawn(ChildSpec {
            watch: Some(Watch {
                paths: vec![dir.path().to_path_buf()],
                include: vec!["*.py".into()],
                ignore: Vec::new(),
            }),
            ..fake("server", &marker, &["stubborn"])
        })
        .unwrap();
    child.wait_ready().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await; // the watch is in place
    // `touch settings.py`: the time changes, the text does not.
    let later = std::time::SystemTime::now() + Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let (path, _) = next_event(
        &mut events,
        "server",
        Duration::from_secs(10),
        |k| match k {
            EventKind::ReloadRequested { path } => Some(path.clone()),
            _ => None,
        },
    )
    .await;
    assert_eq!(path, file);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "DEBUG = True\n");
    shut_down_and_check(&sup, &marker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_that_gave_up_starts_again_when_a_file_is_saved() {
    let marker = Marker::new("revive");
    let dir = tempfile::tempdir().unwrap();
    let (sup, _) = supervisor(Duration::from_secs(1), false).await;
    let mut events = sup.subscribe();
    let child = sup
        .spawn(ChildSpec {
            restart: RestartPolicy {
                max_crashes: 1,
                ..RestartPolicy::default()
            },
            watch: Some(Watch {
                paths: vec![dir.path().to_path_buf()],
                ..Watch::default()
            }),
            ..fake("crashy", &marker, &["crash"])
        })
        .unwrap();
    let (hint, _) = next_event(
        &mut events,
        "crashy",
        Duration::from_secs(10),
        |k| match k {
            EventKind::GaveUp { error } => Some(error.to_string()),
            _ => None,
        },
    )
    .await;
    assert!(hint.contains("keeps crashing: 1 time within"), "{hint}");
    assert!(matches!(child.current(), State::Down { .. }));
    std::fs::write(dir.path().join("fix.py"), "").unwrap();
    next_event(&mut events, "crashy", Duration::from_secs(5), |k| match k {
        EventKind::ReloadRequested { .. } => Some(()),
        _ => None,
    })
    .await;
    next_event(&mut events, "crashy", Duration::from_secs(5), |k| match k {
        EventKind::Starting { attempt: 1, .. } => Some(()),
        _ => None,
    })
    .await;
    shut_down_and_check(&sup, &marker).await;
}

/// The pid a `forker` child's latest instance printed for its grandchild.
async fn grandchild_of(child: &ChildHandle) -> i32 {
    let latest = || {
        child
            .last_lines(1)
            .first()
            .and_then(|l| l.strip_prefix("grandchild ")?.parse().ok())
    };
    let start = Instant::now();
    loop {
        // Each instance prints exactly one line: a new one means a new grandchild.
        if let Some(pid) = latest()
            && child.pid().is_some_and(|p| is_parent_of(p as i32, pid))
        {
            return pid;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no grandchild line"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether `parent` forked `pid` (it is still `pid`'s parent).
fn is_parent_of(parent: i32, pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse::<i32>()
                .ok()
        })
        == Some(parent)
}

/// The driver (`reflex-django __supervise`) as a separate process, so it can be killed.
struct Driver {
    process: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    errors: std::sync::mpsc::Receiver<String>,
    _spec: tempfile::NamedTempFile,
}

impl Driver {
    fn start(json: serde_json::Value) -> Driver {
        let mut spec = tempfile::NamedTempFile::new().unwrap();
        spec.write_all(json.to_string().as_bytes()).unwrap();
        let mut process = Command::new(BIN)
            .arg("__supervise")
            .arg(spec.path())
            .stdout(Stdio::piped())
            // Captured: the guardian, which outlives the driver, reports there.
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Driver {
            lines: lines_of(process.stdout.take().unwrap()),
            errors: lines_of(process.stderr.take().unwrap()),
            process,
            _spec: spec,
        }
    }

    /// Reads stdout lines until one satisfies `pick`.
    fn wait_for_line(&self, limit: Duration, pick: impl Fn(&str) -> bool) -> String {
        wait_for(&self.lines, limit, pick)
    }

    /// Reads stderr lines (the driver's and the guardian's) until one satisfies `pick`.
    fn wait_for_error_line(&self, limit: Duration, pick: impl Fn(&str) -> bool) -> String {
        wait_for(&self.errors, limit, pick)
    }

    fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.process.id() as i32), signal).unwrap();
    }
}

/// The lines of `pipe`, read on a thread of their own.
fn lines_of(pipe: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    lines
}

fn wait_for(
    lines: &std::sync::mpsc::Receiver<String>,
    limit: Duration,
    pick: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if pick(&line) => return line,
            Ok(_) => continue,
            Err(_) => panic!("the driver did not print the expected line in {limit:?}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// The driver running the stack of the driver tests — a child whose grandchild left
/// with setsid, and a child that ignores SIGTERM — once all three processes run.
/// Returns the grandchild's pid.
fn driver_stack(marker: &Marker, grace: &str, guardian: bool) -> (Driver, i32) {
    let children = [
        fake("forker", marker, &["forker"]),
        fake("stubborn", marker, &["stubborn"]),
    ];
    let driver = Driver::start(serde_json::json!({
        "grace": grace, "guardian": guardian, "children": children
    }));
    let line = driver.wait_for_line(Duration::from_secs(10), |l| l.contains("grandchild "));
    let grandchild = line.rsplit(' ').next().unwrap().parse().unwrap();
    let start = Instant::now();
    while marker.survivors().len() < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the stack did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (driver, grandchild)
}

#[test]
fn a_sigkilled_supervisor_leaves_no_descendant_behind() {
    let marker = Marker::new("sigkill");
    let (mut driver, _) = driver_stack(&marker, "5s", true);
    driver.signal(Signal::SIGKILL);
    let killed = Instant::now();
    driver.process.wait().unwrap();
    let cleaned = marker.wait_until_none_left(Duration::from_secs(2));
    eprintln!(
        "after SIGKILL of the supervisor: {cleaned:?} until no descendant was left \
         (measured from the kill: {:?})",
        killed.elapsed()
    );
    assert!(cleaned.is_ok(), "left behind: {cleaned:?}");
    // The guardian says what it did.
    driver.wait_for_error_line(Duration::from_secs(5), |l| {
        l.contains("the supervisor ended without stopping its processes; killed")
    });
}

#[test]
fn parent_death_signal_alone_takes_the_children_but_not_the_grandchild() {
    // Without the guardian, PR_SET_PDEATHSIG is all that is left: it must still take
    // every direct child (it would not if they had been forked from a thread that
    // ended), and it cannot take the grandchild — the reason the guardian exists.
    let marker = Marker::new("pdeathsig");
    let (mut driver, grandchild) = driver_stack(&marker, "5s", false);
    driver.signal(Signal::SIGKILL);
    driver.process.wait().unwrap();
    let start = Instant::now();
    while marker.survivors() != [grandchild] {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "left: {:?}, grandchild {grandchild}",
            marker.survivors()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn ctrl_c_stops_everything_and_a_second_one_kills_at_once() {
    // One Ctrl-C: SIGTERM, the grace period for the stubborn child, then SIGKILL.
    let marker = Marker::new("ctrl-c");
    let (mut driver, _) = driver_stack(&marker, "1s", true);
    let asked = Instant::now();
    driver.signal(Signal::SIGINT);
    let status = driver.process.wait().unwrap();
    let took = asked.elapsed();
    eprintln!("one Ctrl-C with a 1s grace: stopped in {took:?}");
    assert!(status.success(), "{status:?}");
    // At least the grace (the stubborn child ignores SIGTERM); no timed upper goal.
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(30),
        "{took:?}"
    );
    assert_eq!(marker.survivors(), Vec::<i32>::new());

    // Two: no waiting for the 30 s grace period.
    let marker = Marker::new("ctrl-c-twice");
    let (mut driver, _) = driver_stack(&marker, "30s", true);
    let asked = Instant::now();
    driver.signal(Signal::SIGINT);
    std::thread::sleep(Duration::from_millis(200));
    driver.signal(Signal::SIGINT);
    let status = driver.process.wait().unwrap();
    let took = asked.elapsed();
    eprintln!("two Ctrl-C with a 30s grace: stopped in {took:?}");
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(marker.survivors(), Vec::<i32>::new());
}

/// `run | less`, paused: the supervisor's stdout is a pipe nobody reads while a child
/// floods its own output. The child is still drained and Ctrl-C still stops it all.
#[test]
fn a_stdout_nobody_reads_stalls_nothing() {
    let marker = Marker::new("unread");
    let mut spec = tempfile::NamedTempFile::new().unwrap();
    let children = [fake("flood", &marker, &["flood"])];
    spec.write_all(
        serde_json::json!({"grace": "2s", "guardian": true, "children": children})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    let mut process = Command::new(BIN)
        .arg("__supervise")
        .arg(spec.path())
        .stdout(Stdio::piped()) // and never read
        .spawn()
        .unwrap();
    // Long enough for the pipe (64 KiB) and the queue (4096 lines) to fill many times.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        marker.survivors().len(),
        1,
        "the flooding child is not running"
    );
    kill(Pid::from_raw(process.id() as i32), Signal::SIGINT).unwrap();
    let asked = Instant::now();
    let deadline = asked + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = process.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = process.kill();
            panic!("Ctrl-C did not stop a supervisor whose stdout is not read");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!(
        "Ctrl-C with an unread stdout: stopped in {:?}",
        asked.elapsed()
    );
    assert!(status.success(), "{status:?}");
    let left = marker.wait_until_none_left(Duration::from_secs(10));
    assert!(left.is_ok(), "left behind: {left:?}");
}

#[test]
fn handles_can_be_shared_between_tasks() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Supervisor>();
    shareable::<ChildHandle>();
}
