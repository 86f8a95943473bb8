//! The guardian: a tiny process that outlives a killed supervisor and cleans up.
//!
//! `PR_SET_PDEATHSIG` takes the direct children with a SIGKILLed supervisor, but not
//! their descendants (bun, Vite, granian workers), which would run on as orphans. So
//! the supervisor starts this helper — the same binary, `reflex-django __guardian <id>`,
//! in a process group of its own (a Ctrl-C does not reach it) and without the session
//! marker. Its stdin is a pipe whose only writer is the supervisor: when the
//! supervisor ends, however it ends, the kernel closes the pipe and the guardian reads
//! end-of-file. It then SIGKILLs every process that carries the session marker, until
//! none is left, and exits. After a clean shutdown it finds nothing and exits at once.

use std::collections::HashSet;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{SigHandler, Signal, signal};
use tokio::process::Command;

use super::procs;
use super::session::Session;
use super::spawn::{self, Process};
use crate::error::{Error, Result};
use crate::platform;

/// The hidden subcommand that runs [`run`].
pub const SUBCOMMAND: &str = "__guardian";
/// Processes forking while we kill them could keep us busy; this is plenty for a dev
/// stack and bounds the guardian's own life.
const GIVE_UP_AFTER: Duration = Duration::from_secs(10);

/// The supervisor's side: the running guardian and the pipe that keeps it waiting.
pub struct Guardian {
    process: Process,
    lifeline: Option<OwnedFd>,
}

impl Guardian {
    pub async fn start(program: &Path, session: &Session) -> Result<Guardian> {
        // O_CLOEXEC: the write end must stay in this process only, or a child holding
        // a copy would keep the pipe open after we die.
        let (read, write) = platform::cloexec_pipe()
            .map_err(|e| Error::new("cannot create the guardian's pipe").cause(e))?;
        let mut command = Command::new(program);
        command
            .arg(SUBCOMMAND)
            .arg(session.id())
            .stdin(Stdio::from(read))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let child = spawn::spawn(command, false).await.map_err(|e| {
            Error::new(format!(
                "cannot start the guardian process {}",
                program.display()
            ))
            .cause(e)
            .hint("reinstall reflex-django; the guardian is the reflex-django binary itself")
        })?;
        let process = Process::new(child)
            .ok_or_else(|| Error::new("the guardian process ended as it started"))?;
        Ok(Guardian {
            process,
            lifeline: Some(write),
        })
    }

    /// Lets the guardian go (it finds nothing left) and waits for it to end.
    pub async fn finish(mut self) {
        self.lifeline.take();
        let ended = tokio::time::timeout(Duration::from_secs(3), self.process.wait()).await;
        if ended.is_err() {
            let _ = self.process.child.start_kill();
            self.process.wait().await;
        }
    }
}

/// The guardian's side: waits for the supervisor to end, then kills what is left.
pub fn run(session_id: &str) -> ExitCode {
    // Only the pipe tells us when to act; a terminal's Ctrl-C or hang-up must not end
    // us before the supervisor.
    // SAFETY: installing SIG_IGN runs no handler code.
    unsafe {
        let _ = signal(Signal::SIGINT, SigHandler::SigIgn);
        let _ = signal(Signal::SIGHUP, SigHandler::SigIgn);
    }
    let mut stdin = std::io::stdin().lock();
    let mut buf = [0u8; 64];
    loop {
        match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    let killed = kill_session(&Session::from_id(session_id.to_string()));
    if killed > 0 {
        eprintln!(
            "reflex-django: the supervisor ended without stopping its processes; \
             killed {killed} left behind"
        );
    }
    ExitCode::SUCCESS
}

/// SIGKILLs every process carrying the session marker until none is left; returns how
/// many were killed.
pub fn kill_session(session: &Session) -> usize {
    let marker = session.marker_prefix();
    let deadline = Instant::now() + GIVE_UP_AFTER;
    let mut killed = HashSet::new();
    loop {
        let pids = procs::marked(&platform::processes(), &marker);
        if pids.is_empty() || Instant::now() > deadline {
            return killed.len();
        }
        procs::signal_all(&pids, Signal::SIGKILL);
        killed.extend(pids);
        std::thread::sleep(Duration::from_millis(20));
    }
}
