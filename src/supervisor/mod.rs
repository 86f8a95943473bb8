//! Runs child processes as one dev stack: starts them in parallel, waits until they are
//! ready, restarts them when they crash or when their files change, prints their output
//! with a prefix, and stops them — and everything they started — on Ctrl-C.
//!
//! Nothing here knows about Django or Reflex, the configuration or the front door: the
//! stack (`crate::stack`) describes those children with [`ChildSpec`]s and plain
//! [`Options`], and passes their [`State`]s on to the front door.
//!
//! # No process is left behind
//! Children start whole trees (Reflex → bun → node/Vite, granian workers) and some of
//! those processes leave their process group (`setsid`, double fork). Four measures,
//! each covering what the one before cannot:
//!
//! 1. **Process groups.** Every child leads a group of its own, so one `killpg` reaches
//!    it and whatever stayed in its group; the terminal's Ctrl-C reaches only us, and we
//!    decide the order of the shutdown (SIGTERM, grace period, SIGKILL).
//! 2. **A session marker.** Every child gets `REFLEX_DJANGO_SESSION=<id>/<name>` in its
//!    environment, which all its descendants inherit. Stopping a child signals its group,
//!    its descendants by parent links, and every process carrying its marker (found in
//!    `/proc/<pid>/environ`) — so grandchildren that left the group are stopped too.
//! 3. **Subreaper.** This process is a child subreaper, so orphaned descendants are
//!    re-parented to us instead of to init: they stay ours to reap (see `spawn`).
//! 4. **If we are SIGKILLed**, nothing of ours runs. Direct children get SIGKILL from the
//!    kernel (`PR_SET_PDEATHSIG`, armed from a dedicated forking thread); their
//!    descendants are killed by the guardian, a small helper process that waits on a
//!    pipe from us and, when the pipe breaks, kills every process carrying the session's
//!    marker (see `guardian`).
//!
//! A process that clears its environment *and* leaves the group while its parent is
//! already dead escapes 2 and 4; no tool we start does that.
//!
//! What these measures need from the operating system (the process table, other
//! processes' environments, the subreaper, the parent-death signal, the guardian's
//! pipe) comes from [`crate::platform`], Linux's in `/proc` and `prctl`.
//!
//! # Use
//! ```no_run
//! # async fn demo(django: reflex_django::supervisor::ChildSpec) -> reflex_django::error::Result<()> {
//! use reflex_django::supervisor::{Options, Startup, Supervisor};
//! let sup = Supervisor::start(Options::default()).await?;
//! let django = sup.spawn(django)?;
//! let _for_the_proxy = django.state();
//! let result = match sup.wait_ready().await {
//!     Ok(Startup::Ready) => sup.wait().await, // until Ctrl-C, or a crash in exit-on-crash mode
//!     Ok(Startup::Interrupted) => Ok(()),
//!     Err(e) => Err(e),
//! };
//! sup.shutdown().await;
//! result
//! # }
//! ```

mod child;
mod diagnose;
mod event;
pub(crate) mod guardian;
mod output;
mod policy;
mod probe;
mod procs;
mod reload;
mod session;
mod spawn;
mod spec;
mod stop;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::runtime::RuntimeFlavor;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{broadcast, watch};
use tokio::task::{JoinHandle, JoinSet};

pub use child::{ChildHandle, REPORT_LINES};
pub use diagnose::{Diagnosis, diagnose};
pub use event::{Event, EventKind, Exit, State, human};
pub use output::{Captured, LogMux};
pub use policy::RestartPolicy;
pub use session::SESSION_VAR;
pub use spec::{AliveCheck, ChildSpec, Expect, Line, LineHook, Probe, Stream, Watch};

use crate::error::{Error, Result};
use guardian::Guardian;
use session::Session;

pub struct Options {
    /// The grace period between SIGTERM and SIGKILL.
    pub grace: Duration,
    /// Any child exiting, or giving up, ends the whole supervisor with its error
    /// (`--exit-on-crash`), instead of restarting.
    pub exit_on_crash: bool,
    /// The reflex-django binary, started as the guardian (`__guardian`); `None` goes
    /// without one, and a SIGKILLed supervisor may then leave grandchildren running.
    pub guardian: Option<PathBuf>,
    /// SIGINT, SIGTERM and SIGHUP start the shutdown; a second one makes it kill at
    /// once. Off in tests that run several supervisors in one process.
    pub handle_signals: bool,
    /// Where the children's output goes.
    pub log: LogMux,
}

impl Default for Options {
    /// The terminal settings of `run`: a 5 s grace period, stdout, signals handled,
    /// this binary as the guardian.
    fn default() -> Self {
        Options {
            grace: Duration::from_secs(5),
            exit_on_crash: false,
            guardian: std::env::current_exe().ok(),
            handle_signals: true,
            log: LogMux::stdout(),
        }
    }
}

/// Whether all children became ready, or a Ctrl-C came first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Startup {
    Ready,
    Interrupted,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Running,
    ShuttingDown,
    /// Shutting down without waiting for the grace period (a second Ctrl-C).
    Hurry,
}

/// What the supervisor and its child tasks share.
struct Shared {
    session: Session,
    log: Arc<LogMux>,
    events: broadcast::Sender<Event>,
    phase: watch::Sender<Phase>,
    /// Bumped on every state change of any child, so one wait can watch them all.
    changes: watch::Sender<u64>,
    grace: Duration,
    exit_on_crash: bool,
    /// The error that ended the run in exit-on-crash mode.
    failure: Mutex<Option<Error>>,
}

impl Shared {
    fn emit(&self, child: &Arc<str>, kind: EventKind) {
        // No subscriber is fine: nobody is listening yet.
        let _ = self.events.send(Event {
            child: child.clone(),
            kind,
        });
    }

    fn state_changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn shutting_down(&self) -> bool {
        *self.phase.borrow() != Phase::Running
    }

    /// The first call starts the shutdown, the next ones make it hurry.
    fn interrupt(&self) {
        self.phase.send_modify(|phase| {
            *phase = match phase {
                Phase::Running => Phase::ShuttingDown,
                _ => Phase::Hurry,
            }
        });
    }

    /// Ends the run with `error` (exit-on-crash mode).
    fn fail(&self, error: Error) {
        lock(&self.failure).get_or_insert(error);
        self.begin_shutdown();
    }

    fn begin_shutdown(&self) {
        self.phase.send_if_modified(|phase| {
            let running = *phase == Phase::Running;
            if running {
                *phase = Phase::ShuttingDown;
            }
            running
        });
    }

    /// Completes when the shutdown must not wait any longer.
    async fn hurried(&self) {
        let mut phase = self.phase.subscribe();
        let _ = phase.wait_for(|p| *p == Phase::Hurry).await;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every value behind our locks stays valid if a holder panicked.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The running supervisor. Call [`Supervisor::shutdown`] before dropping it; dropping
/// it without kills every child at once (SIGKILL).
pub struct Supervisor {
    shared: Arc<Shared>,
    children: Mutex<Vec<ChildHandle>>,
    guardian: Mutex<Option<Guardian>>,
    tasks: Vec<JoinHandle<()>>,
    finished: AtomicBool,
}

impl Supervisor {
    /// Becomes the subreaper, starts the guardian and the signal handling. Must run
    /// inside a tokio runtime with I/O and time enabled.
    pub async fn start(options: Options) -> Result<Supervisor> {
        crate::platform::become_subreaper().map_err(|e| {
            Error::new("cannot become the reaper of the children's processes").cause(e)
        })?;
        let session = Session::generate();
        let guardian = match &options.guardian {
            Some(program) => Some(Guardian::start(program, &session).await?),
            None => None,
        };
        let shared = Arc::new(Shared {
            session,
            log: Arc::new(options.log),
            events: broadcast::channel(1024).0,
            phase: watch::channel(Phase::Running).0,
            changes: watch::channel(0).0,
            grace: options.grace,
            exit_on_crash: options.exit_on_crash,
            failure: Mutex::new(None),
        });
        let mut tasks = vec![reap_orphans()?];
        if options.handle_signals {
            tasks.push(handle_signals(shared.clone())?);
        }
        Ok(Supervisor {
            shared,
            children: Mutex::new(Vec::new()),
            guardian: Mutex::new(guardian),
            tasks,
            finished: AtomicBool::new(false),
        })
    }

    /// Starts supervising `spec` at once; the start itself goes on in the background.
    pub fn spawn(&self, spec: ChildSpec) -> Result<ChildHandle> {
        let mut children = lock(&self.children);
        if children.iter().any(|c| c.name() == spec.name) {
            return Err(Error::new(format!("two children are named {}", spec.name))
                .hint("give each child its own name"));
        }
        // A child with a file watch walks the watched trees as it launches (directory
        // reads): on a multi-threaded runtime, this worker hands its other tasks on first.
        let shared = self.shared.clone();
        let launch = move || child::launch(spec, shared);
        let handle = match tokio::runtime::Handle::try_current() {
            Ok(runtime) if runtime.runtime_flavor() == RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(launch)
            }
            _ => launch(),
        }?;
        children.push(handle.clone());
        Ok(handle)
    }

    /// The news about every child, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.shared.events.subscribe()
    }

    pub fn log(&self) -> &Arc<LogMux> {
        &self.shared.log
    }

    /// The `REFLEX_DJANGO_SESSION` id of this run (every child's value starts with it).
    pub fn session_id(&self) -> &str {
        self.shared.session.id()
    }

    pub fn child(&self, name: &str) -> Option<ChildHandle> {
        lock(&self.children)
            .iter()
            .find(|c| c.name() == name)
            .cloned()
    }

    /// Waits until every child is ready. Fails with the report of the first child that
    /// goes down (not ready in time, crashing, not startable).
    pub async fn wait_ready(&self) -> Result<Startup> {
        let mut changes = self.shared.changes.subscribe();
        let mut phase = self.shared.phase.subscribe();
        loop {
            changes.borrow_and_update();
            if *phase.borrow_and_update() != Phase::Running {
                return match lock(&self.shared.failure).clone() {
                    Some(error) => Err(error),
                    None => Ok(Startup::Interrupted),
                };
            }
            let states: Vec<(String, State)> = lock(&self.children)
                .iter()
                .map(|c| (c.name().to_string(), c.current()))
                .collect();
            for (name, state) in &states {
                match state {
                    State::Down { reason } => return Err(reason.clone()),
                    State::Stopped => {
                        return Err(Error::new(format!(
                            "{name} was stopped before it was ready"
                        )));
                    }
                    _ => {}
                }
            }
            if states.iter().all(|(_, s)| *s == State::Ready) {
                return Ok(Startup::Ready);
            }
            tokio::select! {
                _ = changes.changed() => {}
                _ = phase.changed() => {}
            }
        }
    }

    /// Waits until the run should end: a signal (or [`Supervisor::interrupt`]) gives
    /// `Ok`, a crash in exit-on-crash mode gives its error. Then call `shutdown`.
    pub async fn wait(&self) -> Result<()> {
        let mut phase = self.shared.phase.subscribe();
        let _ = phase.wait_for(|p| *p != Phase::Running).await;
        match lock(&self.shared.failure).clone() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Completes when the shutdown must not wait any longer (a second Ctrl-C), so
    /// work done before [`Supervisor::shutdown`] (draining the front door) can stop.
    pub async fn hurried(&self) {
        self.shared.hurried().await;
    }

    /// What a Ctrl-C does: the first starts the shutdown, the second skips the grace
    /// period.
    pub fn interrupt(&self) {
        self.shared.interrupt();
    }

    /// Stops every child (SIGTERM, grace period, SIGKILL — all children at once), kills
    /// anything of this session that is still around, and lets the guardian go.
    pub async fn shutdown(&self) {
        self.shared.begin_shutdown();
        let mut stopping = JoinSet::new();
        let children = lock(&self.children).clone();
        for child in children {
            stopping.spawn(async move { child.stop().await });
        }
        while stopping.join_next().await.is_some() {}
        // Each child's stop found its own processes; this catches anything that slipped
        // between them, such as a child that was starting as the shutdown began.
        let session = self.shared.session.clone();
        let _ = tokio::task::spawn_blocking(move || guardian::kill_session(&session)).await;
        spawn::reap_adopted();
        let guardian = lock(&self.guardian).take();
        if let Some(guardian) = guardian {
            guardian.finish().await;
        }
        self.finished.store(true, Ordering::Relaxed);
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        if !self.finished.load(Ordering::Relaxed) {
            // No restart may follow the kills below.
            self.shared.phase.send_replace(Phase::Hurry);
            guardian::kill_session(&self.shared.session);
        }
    }
}

/// Reaps adopted orphans whenever a child of ours ends.
fn reap_orphans() -> Result<JoinHandle<()>> {
    let mut sigchld = signal(SignalKind::child())
        .map_err(|e| Error::new("cannot listen for SIGCHLD").cause(e))?;
    Ok(tokio::spawn(async move {
        while sigchld.recv().await.is_some() {
            spawn::reap_adopted();
        }
    }))
}

/// SIGINT, SIGTERM, SIGHUP: shut down; again: hurry.
fn handle_signals(shared: Arc<Shared>) -> Result<JoinHandle<()>> {
    let listen = |kind: SignalKind| {
        signal(kind).map_err(|e| Error::new("cannot install the signal handlers").cause(e))
    };
    let mut interrupt = listen(SignalKind::interrupt())?;
    let mut terminate = listen(SignalKind::terminate())?;
    let mut hangup = listen(SignalKind::hangup())?;
    Ok(tokio::spawn(async move {
        loop {
            let received = tokio::select! {
                got = interrupt.recv() => got,
                got = terminate.recv() => got,
                got = hangup.recv() => got,
            };
            // `None`: the runtime is going away, and with it this task.
            if received.is_none() {
                return;
            }
            shared.interrupt();
        }
    }))
}
