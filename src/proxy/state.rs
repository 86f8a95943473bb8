//! The state of each child as the supervisor publishes it, and the hold: a request for
//! a child that is starting or restarting waits until it is ready (bounded).

use std::fmt;

use tokio::sync::watch;
use tokio::time::Instant;

/// A child's state. The supervisor owns the [`watch::Sender`]; the front door reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChildState {
    /// Launched, not yet answering its readiness probe. Requests are held.
    Starting,
    /// Answering; requests go through.
    Ready,
    /// Being restarted (a code change, or after a crash). Requests are held.
    Restarting,
    /// Crashed and not coming back by itself (e.g. too many crashes).
    Down { reason: String },
    /// Stopped on purpose (shutdown).
    Stopped,
}

impl ChildState {
    /// Whether requests wait for this state to pass.
    fn is_transient(&self) -> bool {
        matches!(self, ChildState::Starting | ChildState::Restarting)
    }
}

impl fmt::Display for ChildState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildState::Starting => f.write_str("starting"),
            ChildState::Ready => f.write_str("ready"),
            ChildState::Restarting => f.write_str("restarting"),
            ChildState::Down { reason } => write!(f, "down ({reason})"),
            ChildState::Stopped => f.write_str("stopped"),
        }
    }
}

/// Why a held request cannot go through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NotReady {
    /// The child is down or stopped: waiting would not help.
    Unavailable(ChildState),
    /// The hold ran out while the child was still in this (transient) state.
    TimedOut(ChildState),
}

/// Waits until the child is ready or `deadline` passes. A dropped sender (the
/// supervisor is gone) counts as stopped.
pub(crate) async fn wait_ready(
    state: &mut watch::Receiver<ChildState>,
    deadline: Instant,
) -> Result<(), NotReady> {
    loop {
        let current = state.borrow_and_update().clone();
        match current {
            ChildState::Ready => return Ok(()),
            s if !s.is_transient() => return Err(NotReady::Unavailable(s)),
            s => match tokio::time::timeout_at(deadline, state.changed()).await {
                Ok(Ok(())) => continue,
                Ok(Err(_)) => return Err(NotReady::Unavailable(ChildState::Stopped)),
                Err(_) => return Err(NotReady::TimedOut(s)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn holds_until_ready() {
        let (tx, mut rx) = watch::channel(ChildState::Restarting);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = tx.send(ChildState::Ready);
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        let deadline = Instant::now() + Duration::from_secs(5);
        assert_eq!(wait_ready(&mut rx, deadline).await, Ok(()));
    }

    #[tokio::test]
    async fn gives_up_at_the_deadline_or_when_down() {
        let (tx, mut rx) = watch::channel(ChildState::Starting);
        let deadline = Instant::now() + Duration::from_millis(30);
        assert_eq!(
            wait_ready(&mut rx, deadline).await,
            Err(NotReady::TimedOut(ChildState::Starting))
        );
        let down = ChildState::Down {
            reason: "exit 1".into(),
        };
        tx.send(down.clone()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        assert_eq!(
            wait_ready(&mut rx, deadline).await,
            Err(NotReady::Unavailable(down))
        );
        let (tx, mut rx) = watch::channel(ChildState::Starting);
        drop(tx);
        assert_eq!(
            wait_ready(&mut rx, deadline).await,
            Err(NotReady::Unavailable(ChildState::Stopped))
        );
    }
}
