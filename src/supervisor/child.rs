//! One supervised child: a task that owns its process, runs it through its life
//! (start, readiness, crash, back-off, reload, stop), and a handle to command it.
//!
//! Only the task touches the process, so there is no race between a crash, a reload and
//! a stop: commands wait in the task's mailbox until it gets to them.
//!
//! The rules:
//! - A child that exits on its own, ready or not, is restarted by the restart policy,
//!   until the policy gives up (`Down`). In exit-on-crash mode it is `Down` at once, and
//!   the whole run ends.
//! - A child not ready within its time limit is stopped and `Down`; retrying a start that
//!   hangs would rarely help and would hide the problem for minutes.
//! - A saved watched file restarts a running child, and starts a `Down` one again (the
//!   save is likely the fix); a child stopped on request stays stopped.
//! - Before any restart, everything the old instance started is gone (its port is free).

use std::future::Future;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::AsyncRead;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::diagnose::diagnose;
use super::event::{EventKind, Exit, State, human};
use super::output::{self, LogMux};
use super::policy::{Backoff, Decision};
use super::probe::{self, Prober};
use super::reload::Reloader;
use super::session::SESSION_VAR;
use super::spawn::{self, Process};
use super::spec::{ChildSpec, Probe, Stream};
use super::{Shared, stop};
use crate::error::{Error, Result};

/// Lines of output shown in an error report.
pub const REPORT_LINES: usize = 20;
/// How long to wait, after a child exited, for the rest of its output; a grandchild
/// that still holds the pipe must not delay the restart.
const OUTPUT_DRAIN: Duration = Duration::from_secs(1);

enum Command {
    Start,
    Restart,
    Reload(PathBuf),
    Stop(oneshot::Sender<()>),
    Signal(Signal, oneshot::Sender<Result<()>>),
}

/// Commands one child and watches its state. Cheap to clone.
#[derive(Clone)]
pub struct ChildHandle {
    name: Arc<str>,
    commands: mpsc::UnboundedSender<Command>,
    state: watch::Receiver<State>,
    pid: Arc<AtomicU32>,
    log: Arc<LogMux>,
}

impl ChildHandle {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The child's state as it changes: the proxy holds requests while it is
    /// `Starting` or `Restarting`.
    pub fn state(&self) -> watch::Receiver<State> {
        self.state.clone()
    }

    pub fn current(&self) -> State {
        self.state.borrow().clone()
    }

    /// The pid of the running process, if one runs.
    pub fn pid(&self) -> Option<u32> {
        Some(self.pid.load(Ordering::Relaxed)).filter(|pid| *pid != 0)
    }

    /// The last `n` lines it wrote (stdout and stderr), oldest first.
    pub fn last_lines(&self, n: usize) -> Vec<String> {
        self.log.last_lines(&self.name, n)
    }

    /// Starts a stopped or given-up child; nothing when it runs.
    pub fn start(&self) {
        let _ = self.commands.send(Command::Start);
    }

    /// Stops the running process (with the grace period) and starts a new one at once,
    /// with a fresh restart policy.
    pub fn restart(&self) {
        let _ = self.commands.send(Command::Restart);
    }

    /// Stops the child and everything it started; returns once they are gone.
    pub async fn stop(&self) {
        let (reply, done) = oneshot::channel();
        if self.commands.send(Command::Stop(reply)).is_ok() {
            let _ = done.await;
        }
    }

    /// Sends `signal` to the child's process group.
    pub async fn signal(&self, signal: Signal) -> Result<()> {
        let (reply, done) = oneshot::channel();
        let gone = || Error::new(format!("{} is not supervised any more", self.name));
        self.commands
            .send(Command::Signal(signal, reply))
            .map_err(|_| gone())?;
        done.await.map_err(|_| gone())?
    }

    /// Waits until the child is ready; fails with the report when it goes down.
    pub async fn wait_ready(&self) -> Result<()> {
        let mut state = self.state.clone();
        let settled = state
            .wait_for(|s| !matches!(s, State::Starting | State::Restarting))
            .await
            .map(|s| s.clone());
        match settled {
            Ok(State::Ready) => Ok(()),
            Ok(State::Down { reason }) => Err(reason),
            _ => Err(Error::new(format!(
                "{} was stopped before it was ready",
                self.name
            ))),
        }
    }

    /// A reload request, as the file watcher sends it.
    fn reload(&self, path: PathBuf) {
        let _ = self.commands.send(Command::Reload(path));
    }
}

/// Starts the task for `spec`, and its file watch when it has one.
pub(super) fn launch(spec: ChildSpec, shared: Arc<Shared>) -> Result<ChildHandle> {
    let name: Arc<str> = Arc::from(spec.name.as_str());
    shared.log.register(&name);
    let (commands, mailbox) = mpsc::unbounded_channel();
    let (state_tx, state) = watch::channel(State::Starting);
    let handle = ChildHandle {
        name: name.clone(),
        commands,
        state,
        pid: Arc::new(AtomicU32::new(0)),
        log: shared.log.clone(),
    };
    let reloader = match spec.watch.clone() {
        Some(watch) => {
            let target = handle.clone();
            Some(super::reload::start(watch, move |path| {
                target.reload(path)
            })?)
        }
        None => None,
    };
    let (shared_for_panics, name_for_panics) = (shared.clone(), name.clone());
    let actor = Actor {
        name,
        backoff: Backoff::new(spec.restart.clone()),
        spec,
        shared,
        state: state_tx,
        pid: handle.pid.clone(),
        mailbox,
        _reloader: reloader,
    };
    spawn_minded(
        shared_for_panics,
        format!("the supervisor of {name_for_panics}"),
        actor.run(),
    );
    Ok(handle)
}

struct Actor {
    name: Arc<str>,
    spec: ChildSpec,
    shared: Arc<Shared>,
    state: watch::Sender<State>,
    pid: Arc<AtomicU32>,
    mailbox: mpsc::UnboundedReceiver<Command>,
    backoff: Backoff,
    /// Watches files for as long as the child is supervised.
    _reloader: Option<Reloader>,
}

/// A running process and the tasks that read its output.
struct Instance {
    process: Process,
    output: Vec<JoinHandle<()>>,
}

enum Next {
    Start { attempt: u32 },
    Wait { delay: Duration, attempt: u32 },
    Idle,
    Quit,
}

impl Actor {
    async fn run(mut self) {
        let mut next = Next::Start { attempt: 1 };
        loop {
            next = match next {
                Next::Start { attempt } => self.run_instance(attempt).await,
                Next::Wait { delay, attempt } => self.back_off(delay, attempt).await,
                Next::Idle => match self.mailbox.recv().await {
                    Some(command) => self.when_idle(command),
                    None => Next::Quit,
                },
                Next::Quit => return,
            };
        }
    }

    async fn run_instance(&mut self, attempt: u32) -> Next {
        if self.shared.shutting_down() {
            self.set(State::Stopped);
            return Next::Idle;
        }
        self.set(State::Starting);
        let started = Instant::now();
        let mut instance = match self.spawn().await {
            Ok(instance) => instance,
            Err(error) => return self.give_up(error),
        };
        self.emit(EventKind::Starting {
            attempt,
            pid: instance.process.pid as u32,
        });
        let prober = Prober::new(self.spec.ready.clone());
        let probe = prober.wait_ready();
        let deadline = tokio::time::sleep(self.spec.ready_timeout);
        // Polled only once ready: its first check comes one interval after that.
        let alive = self.spec.alive.clone();
        let hung = async move {
            match &alive {
                Some(check) => probe::until_unresponsive(check).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(probe, deadline, hung);
        let mut ready = false;
        loop {
            tokio::select! {
                exit = instance.process.wait() => {
                    return self.exited(instance, exit, started.elapsed()).await;
                }
                () = &mut probe, if !ready => {
                    ready = true;
                    // The news first: whoever waits on the state finds it queued.
                    self.emit(EventKind::Ready { after: started.elapsed() });
                    self.set(State::Ready);
                }
                why = &mut hung, if ready => {
                    return self.unresponsive(instance, why, started.elapsed()).await;
                }
                () = &mut deadline, if !ready => {
                    let error = self.not_ready_error(&prober);
                    self.stop_instance(&mut instance).await;
                    return self.give_up(error);
                }
                command = self.mailbox.recv() => match command {
                    None => {
                        self.stop_instance(&mut instance).await;
                        return Next::Quit;
                    }
                    Some(Command::Stop(reply)) => {
                        self.stop_instance(&mut instance).await;
                        self.set(State::Stopped);
                        let _ = reply.send(());
                        return Next::Idle;
                    }
                    Some(Command::Restart) => {
                        self.set(State::Restarting);
                        self.stop_instance(&mut instance).await;
                        self.backoff.reset();
                        return Next::Start { attempt: 1 };
                    }
                    Some(Command::Reload(path)) => {
                        if self.shared.shutting_down() {
                            continue;
                        }
                        self.set(State::Restarting);
                        self.emit(EventKind::ReloadRequested { path });
                        self.stop_instance(&mut instance).await;
                        self.backoff.reset();
                        return Next::Start { attempt: 1 };
                    }
                    Some(Command::Start) => {}
                    Some(Command::Signal(signal, reply)) => {
                        let sent = killpg(Pid::from_raw(instance.process.pid), signal)
                            .map_err(|e| Error::new(format!("cannot signal {}", self.name)).cause(e));
                        let _ = reply.send(sent);
                    }
                }
            }
        }
    }

    /// The process ended on its own.
    async fn exited(&mut self, mut instance: Instance, exit: Exit, uptime: Duration) -> Next {
        self.pid.store(0, Ordering::Relaxed);
        let shutting_down = self.shared.shutting_down();
        if !shutting_down {
            // At once, so the proxy holds requests instead of sending them to nobody.
            self.set(State::Restarting);
            self.emit(EventKind::Exited { exit, uptime });
        }
        // What it started may still run (and hold its port, and its output pipes):
        // clear it before a restart or a report.
        self.stop_instance(&mut instance).await;
        if shutting_down {
            self.set(State::Stopped);
            return Next::Idle;
        }
        self.after_crash(&format!("exited with {exit}"), uptime)
    }

    /// The child stopped answering its liveness checks: it is stopped, then treated as
    /// a crashed child.
    async fn unresponsive(
        &mut self,
        mut instance: Instance,
        why: String,
        uptime: Duration,
    ) -> Next {
        self.set(State::Restarting);
        self.emit(EventKind::Unresponsive { why: why.clone() });
        self.stop_instance(&mut instance).await;
        if self.shared.shutting_down() {
            self.set(State::Stopped);
            return Next::Idle;
        }
        self.after_crash(&format!("stopped answering: {why}"), uptime)
    }

    /// Restart after back-off, or give up (crash loop, exit-on-crash mode); `what`
    /// says how the instance ended.
    fn after_crash(&mut self, what: &str, uptime: Duration) -> Next {
        if self.shared.exit_on_crash {
            let error = self.report(
                format!("{} {what}", self.name),
                "exit-on-crash mode stops everything when a child exits; see its last lines",
            );
            return self.give_up(error);
        }
        match self.backoff.on_exit(Instant::now(), uptime) {
            Decision::Restart { delay, attempt } => Next::Wait { delay, attempt },
            Decision::GiveUp { crashes, window } => {
                let error = self.report(
                    format!(
                        "{} keeps crashing: {crashes} time{} within {} (last: {what}); not \
                         restarting it",
                        self.name,
                        if crashes == 1 { "" } else { "s" },
                        human(window)
                    ),
                    &self.fix_hint(),
                );
                self.give_up(error)
            }
        }
    }

    async fn back_off(&mut self, delay: Duration, attempt: u32) -> Next {
        self.set(State::Restarting);
        self.emit(EventKind::Restarting { delay, attempt });
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => return Next::Start { attempt: attempt + 1 },
                command = self.mailbox.recv() => match command {
                    None => return Next::Quit,
                    Some(Command::Stop(reply)) => {
                        self.set(State::Stopped);
                        let _ = reply.send(());
                        return Next::Idle;
                    }
                    Some(Command::Start | Command::Restart) => return Next::Start { attempt: attempt + 1 },
                    Some(Command::Reload(path)) => {
                        self.emit(EventKind::ReloadRequested { path });
                        self.backoff.reset();
                        return Next::Start { attempt: 1 };
                    }
                    Some(Command::Signal(_, reply)) => {
                        let _ = reply.send(Err(self.not_running()));
                    }
                }
            }
        }
    }

    fn when_idle(&mut self, command: Command) -> Next {
        if self.shared.shutting_down() {
            if let Command::Stop(reply) = command {
                self.set(State::Stopped);
                let _ = reply.send(());
            }
            return Next::Idle;
        }
        match command {
            Command::Stop(reply) => {
                self.set(State::Stopped);
                let _ = reply.send(());
                Next::Idle
            }
            Command::Start | Command::Restart => {
                self.backoff.reset();
                Next::Start { attempt: 1 }
            }
            // A save may well be the fix for a child that gave up; a child stopped on
            // purpose stays stopped.
            Command::Reload(path) if matches!(*self.state.borrow(), State::Down { .. }) => {
                self.emit(EventKind::ReloadRequested { path });
                self.backoff.reset();
                Next::Start { attempt: 1 }
            }
            Command::Reload(_) => Next::Idle,
            Command::Signal(_, reply) => {
                let _ = reply.send(Err(self.not_running()));
                Next::Idle
            }
        }
    }

    async fn spawn(&mut self) -> Result<Instance> {
        let spec = &self.spec;
        if let Some(cwd) = &spec.cwd
            && !cwd.is_dir()
        {
            return Err(Error::new(format!(
                "cannot start {}: its working directory {} does not exist",
                self.name,
                cwd.display()
            )));
        }
        let mut command = tokio::process::Command::new(&spec.program);
        command
            .args(&spec.args)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .env(SESSION_VAR, self.shared.session.value(&self.name))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(cwd) = &spec.cwd {
            command.current_dir(cwd);
        }
        let child = spawn::spawn(command, true).await.map_err(|e| {
            let error = Error::new(format!(
                "cannot start {}: {}",
                self.name,
                spec.command_line()
            ));
            if e.kind() == std::io::ErrorKind::NotFound {
                error
                    .cause(format!("{} was not found", spec.program.display()))
                    .hint("install it, or check the path and PATH")
            } else {
                error.cause(e)
            }
        })?;
        let mut process = Process::new(child)
            .ok_or_else(|| Error::new(format!("{} ended as it started", self.name)))?;
        let streams: [(Option<Box<dyn AsyncRead + Unpin + Send>>, Stream); 2] = [
            (
                process.child.stdout.take().map(|r| Box::new(r) as _),
                Stream::Stdout,
            ),
            (
                process.child.stderr.take().map(|r| Box::new(r) as _),
                Stream::Stderr,
            ),
        ];
        let output = streams
            .into_iter()
            .filter_map(|(reader, stream)| {
                let log = self.shared.log.clone();
                let pump = output::pump(
                    reader?,
                    self.name.clone(),
                    stream,
                    log,
                    spec.on_line.clone(),
                );
                Some(spawn_minded(
                    self.shared.clone(),
                    format!("the output reader of {}", self.name),
                    pump,
                ))
            })
            .collect();
        self.pid.store(process.pid as u32, Ordering::Relaxed);
        Ok(Instance { process, output })
    }

    /// Stops the instance and what it started (after a crash: what it left behind).
    async fn stop_instance(&mut self, instance: &mut Instance) {
        let was_running = !instance.process.has_exited();
        let marker = self.shared.session.child_marker(&self.name);
        let shared = self.shared.clone();
        let stopped = stop::stop(
            &mut instance.process,
            &marker,
            self.shared.grace,
            async move { shared.hurried().await },
        )
        .await;
        self.pid.store(0, Ordering::Relaxed);
        if was_running {
            self.emit(EventKind::Stopped {
                forced: stopped.forced,
                took: stopped.took,
            });
        }
        drain(&mut instance.output).await;
    }

    fn give_up(&mut self, error: Error) -> Next {
        self.set(State::Down {
            reason: error.clone(),
        });
        self.emit(EventKind::GaveUp {
            error: error.clone(),
        });
        if self.shared.exit_on_crash {
            self.shared.fail(error);
        }
        Next::Idle
    }

    fn not_ready_error(&self, prober: &Prober) -> Error {
        let mut error = Error::new(format!(
            "{} was not ready within {}",
            self.name,
            human(self.spec.ready_timeout)
        ));
        if self.spec.ready != Probe::None {
            error = error.cause(format!("it was waiting for {}", self.spec.ready));
        }
        if let Some(failure) = prober.last_failure() {
            error = error.cause(format!("last attempt: {failure}"));
        }
        self.with_output(
            error,
            &format!(
                "see {}'s last output above; if it is only slow to start, allow it more time",
                self.name
            ),
        )
    }

    /// An error with the last lines and, when they show one, the likely cause.
    fn report(&self, message: String, hint: &str) -> Error {
        self.with_output(Error::new(message), hint)
    }

    fn with_output(&self, mut error: Error, hint: &str) -> Error {
        let lines = self.shared.log.last_lines(&self.name, REPORT_LINES);
        if lines.is_empty() {
            error = error.cause(format!("{} printed nothing", self.name));
        } else {
            error = error.cause(format!(
                "last output of {}:\n{}",
                self.name,
                lines.join("\n")
            ));
        }
        match diagnose(&lines) {
            Some(found) => error
                .cause(format!("likely cause: {}", found.cause))
                .hint(found.hint),
            None => error.hint(hint),
        }
    }

    fn fix_hint(&self) -> String {
        if self.spec.watch.is_some() {
            format!(
                "fix the error shown above; {} starts again when you save a watched file",
                self.name
            )
        } else {
            "fix the error shown above and start again".to_string()
        }
    }

    fn not_running(&self) -> Error {
        Error::new(format!("{} is not running", self.name))
    }

    fn set(&self, state: State) {
        self.state.send_replace(state);
        self.shared.state_changed();
    }

    fn emit(&self, kind: EventKind) {
        self.shared.emit(&self.name, kind);
    }
}

/// Spawns `task`, minding it: if it panics, the run ends with an error naming `what`.
/// A panic must not leave a child unsupervised, or its pipes unread, while everyone
/// waits. The handle completes when `task` does.
fn spawn_minded(
    shared: Arc<Shared>,
    what: String,
    task: impl Future<Output = ()> + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(failed) = tokio::spawn(task).await
            && failed.is_panic()
        {
            let panic = failed.into_panic();
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            shared
                .fail(Error::new(format!("{what} failed: {message}")).hint(
                    "this is a bug in reflex-django; please report it with the output above",
                ));
        }
    })
}

/// Waits a little for the output readers to reach the end of the pipes.
async fn drain(output: &mut Vec<JoinHandle<()>>) {
    let deadline = tokio::time::Instant::now() + OUTPUT_DRAIN;
    for reader in output.drain(..) {
        let _ = tokio::time::timeout_at(deadline, reader).await;
    }
}
