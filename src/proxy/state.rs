//! Whether each child can take requests, and the hold: a request for a child that is
//! starting or restarting waits until it is ready (bounded).

use std::fmt;

use tokio::sync::watch;
use tokio::time::Instant;

/// Whether a child can take requests, as the front door sees it. Whoever runs the
/// children publishes it (`run` maps the supervisor's states to it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChildState {
    Starting,
    Ready,
    Restarting,
    /// Gave up: crashed too often, not ready in time, or could not be started;
    /// `reason` is one line.
    Down {
        reason: String,
    },
    Stopped,
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

/// Whether requests wait for this state to pass.
fn is_transient(state: &ChildState) -> bool {
    matches!(state, ChildState::Starting | ChildState::Restarting)
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
            s if !is_transient(&s) => return Err(NotReady::Unavailable(s)),
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
