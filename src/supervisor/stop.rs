//! Stopping one child and everything it started: SIGTERM, a grace period, SIGKILL.
//!
//! The child's processes are found afresh at each step (see [`procs::members`]): its
//! process group, its descendants, and whatever carries its marker — grandchildren that
//! called `setsid` or were re-parented to us are still found and signalled.

use std::future::Future;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::procs;
use super::spawn::Process;

const POLL: Duration = Duration::from_millis(50);
/// After SIGKILL only a process stuck in the kernel (uninterruptible I/O) can linger;
/// we do not wait for it forever.
const KILL_WAIT: Duration = Duration::from_secs(3);

pub struct Stopped {
    /// It had to be SIGKILLed.
    pub forced: bool,
    pub took: Duration,
}

/// Stops `process` and every process of its `marker`. SIGTERM first; SIGKILL when they
/// are not all gone after `grace`, or as soon as `hurry` completes (a second Ctrl-C).
pub async fn stop(
    process: &mut Process,
    marker: &str,
    grace: Duration,
    hurry: impl Future<Output = ()>,
) -> Stopped {
    let started = Instant::now();
    signal_everyone(process.pid, marker, Signal::SIGTERM);
    // A stopped process (SIGSTOP, Ctrl-Z) only acts on its SIGTERM once continued.
    signal_everyone(process.pid, marker, Signal::SIGCONT);
    let gone = async {
        process.wait().await;
        while !procs::members(process.pid, marker).is_empty() {
            tokio::time::sleep(POLL).await;
        }
    };
    let graceful = tokio::select! {
        () = gone => true,
        () = tokio::time::sleep(grace) => false,
        () = hurry => false,
    };
    if !graceful {
        let deadline = Instant::now() + KILL_WAIT;
        loop {
            // Again each round: a process may have forked between scans.
            signal_everyone(process.pid, marker, Signal::SIGKILL);
            let exited = tokio::time::timeout(POLL, process.wait()).await.is_ok();
            if exited && procs::members(process.pid, marker).is_empty() || Instant::now() > deadline
            {
                break;
            }
            if exited {
                tokio::time::sleep(POLL).await;
            }
        }
    }
    Stopped {
        forced: !graceful,
        took: started.elapsed(),
    }
}

/// Signals the child's process group and each of its processes found in `/proc`.
pub fn signal_everyone(pid: i32, marker: &str, signal: Signal) {
    let _ = killpg(Pid::from_raw(pid), signal);
    procs::signal_all(&procs::members(pid, marker), signal);
}
