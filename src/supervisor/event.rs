//! What the supervisor tells the rest of the program: the current state of each child
//! (a `watch`, for the front door) and the news as it happens (a `broadcast`, for the UI).

use std::fmt;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use std::os::unix::process::ExitStatusExt as _;

use crate::error::Error;

/// Where a child is in its life. The front door holds requests while `Starting` or
/// `Restarting` and answers with an error page when `Down` or `Stopped`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    Starting,
    Ready,
    Restarting,
    /// Gave up: crashed too often, not ready in time, or could not be started. The
    /// error has the last lines and a hint; `reason.message()` is one line.
    Down {
        reason: Error,
    },
    Stopped,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::Starting => f.write_str("starting"),
            State::Ready => f.write_str("ready"),
            State::Restarting => f.write_str("restarting"),
            State::Down { reason } => write!(f, "down ({})", reason.message()),
            State::Stopped => f.write_str("stopped"),
        }
    }
}

/// One piece of news about a child.
#[derive(Clone, Debug)]
pub struct Event {
    pub child: Arc<str>,
    pub kind: EventKind,
}

#[derive(Clone, Debug)]
pub enum EventKind {
    /// `attempt` is 1 for the first start, then counts restarts after crashes.
    Starting {
        attempt: u32,
        pid: u32,
    },
    Ready {
        after: Duration,
    },
    /// The child ended on its own (not stopped by us).
    Exited {
        exit: Exit,
        uptime: Duration,
    },
    Restarting {
        delay: Duration,
        attempt: u32,
    },
    /// The child is `Down`; the error has the last lines and a hint.
    GaveUp {
        error: Error,
    },
    ReloadRequested {
        path: PathBuf,
    },
    /// A ready child failed its liveness checks; it is stopped, then restarted.
    Unresponsive {
        why: String,
    },
    /// Stopped on request; `forced` when it had to be SIGKILLed after the grace period.
    Stopped {
        forced: bool,
        took: Duration,
    },
}

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl From<ExitStatus> for Exit {
    fn from(status: ExitStatus) -> Self {
        match (status.code(), status.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(signal)) => Exit::Signal(signal),
            (None, None) => Exit::Code(-1),
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Exit::Code(code) => write!(f, "exit code {code}"),
            Exit::Signal(signal) => match nix::sys::signal::Signal::try_from(signal) {
                Ok(name) => write!(f, "killed by {name}"),
                Err(_) => write!(f, "killed by signal {signal}"),
            },
        }
    }
}

/// Durations as people read them in a log: `850ms`, `2.5s`.
pub fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        let tenths = (d.as_millis() + 50) / 100;
        if tenths.is_multiple_of(10) {
            format!("{}s", tenths / 10)
        } else {
            format!("{}.{}s", tenths / 10, tenths % 10)
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventKind::Starting { attempt: 1, pid } => write!(f, "starting (pid {pid})"),
            EventKind::Starting { attempt, pid } => {
                write!(f, "starting again (pid {pid}, attempt {attempt})")
            }
            EventKind::Ready { after } => write!(f, "ready after {}", human(*after)),
            EventKind::Exited {
                exit: Exit::Code(code),
                uptime,
            } => write!(f, "exited with code {code} after {}", human(*uptime)),
            EventKind::Exited { exit, uptime } => {
                write!(f, "was {exit} after {}", human(*uptime))
            }
            EventKind::Restarting { delay, attempt } => {
                write!(f, "restarting in {} (attempt {attempt})", human(*delay))
            }
            EventKind::GaveUp { error } => write!(f, "gave up: {}", error.message()),
            EventKind::ReloadRequested { path } => {
                write!(f, "restarting because {} changed", path.display())
            }
            EventKind::Unresponsive { why } => {
                write!(f, "stopped answering, stopping it: {why}")
            }
            EventKind::Stopped {
                forced: false,
                took,
            } => {
                write!(f, "stopped in {}", human(*took))
            }
            EventKind::Stopped { forced: true, took } => write!(
                f,
                "stopped in {} (killed: it did not stop after SIGTERM)",
                human(*took)
            ),
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.child, self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human(Duration::from_millis(850)), "850ms");
        assert_eq!(human(Duration::from_millis(2500)), "2.5s");
        assert_eq!(human(Duration::from_secs(10)), "10s");
    }

    #[test]
    fn exits_name_their_signal() {
        assert_eq!(Exit::Signal(9).to_string(), "killed by SIGKILL");
        assert_eq!(Exit::Code(3).to_string(), "exit code 3");
    }
}
