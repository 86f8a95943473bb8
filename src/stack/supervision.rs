//! The stack in the supervisor's terms, and back: the configuration becomes the
//! supervisor's options, restart policy and liveness checks; the supervisor's child
//! states become the front door's. The supervisor and the front door know nothing of
//! the configuration nor of each other; this is where they meet.

use tokio::sync::watch;

use crate::config::{self, Config};
use crate::proxy::ChildState;
use crate::supervisor::{AliveCheck, Options, Probe, RestartPolicy, State};

/// The supervisor's options for `run`: the grace period of `shutdown.grace`.
pub fn supervisor_options(config: &Config, exit_on_crash: bool) -> Options {
    Options {
        grace: config.shutdown.grace.0,
        exit_on_crash,
        ..Options::default()
    }
}

/// `restart:` as the supervisor's restart policy.
pub fn restart_policy(restart: &config::Restart) -> RestartPolicy {
    RestartPolicy {
        backoff_initial: restart.backoff_initial.0,
        backoff_max: restart.backoff_max.0,
        stable_after: restart.stable_after.0,
        max_crashes: restart.max_crashes,
        crash_window: restart.crash_window.0,
    }
}

/// The liveness checks of `liveness:` with `probe`; none when `failures` is 0.
pub fn alive_check(liveness: &config::Liveness, probe: Probe) -> Option<AliveCheck> {
    (liveness.failures > 0).then_some(AliveCheck {
        probe,
        every: liveness.every.0,
        timeout: liveness.timeout.0,
        failures: liveness.failures,
    })
}

/// A child's state as the front door reads it, following the supervisor's. Ends (the
/// front door then counts the child as stopped) when the supervisor drops the child.
/// Must run inside a tokio runtime.
pub fn availability(mut supervised: watch::Receiver<State>) -> watch::Receiver<ChildState> {
    let (publish, available) = watch::channel(child_state(&supervised.borrow_and_update()));
    tokio::spawn(async move {
        loop {
            tokio::select! {
                changed = supervised.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    publish.send_replace(child_state(&supervised.borrow_and_update()));
                }
                () = publish.closed() => return,
            }
        }
    });
    available
}

fn child_state(state: &State) -> ChildState {
    match state {
        State::Starting => ChildState::Starting,
        State::Ready => ChildState::Ready,
        State::Restarting => ChildState::Restarting,
        State::Down { reason } => ChildState::Down {
            reason: reason.message().to_string(),
        },
        State::Stopped => ChildState::Stopped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use std::time::Duration;

    #[test]
    fn every_setting_reaches_the_supervisor() {
        let secs = |s| config::Seconds::from_secs(s);
        let restart = config::Restart {
            backoff_initial: secs(1),
            backoff_max: secs(2),
            stable_after: secs(3),
            max_crashes: 4,
            crash_window: secs(5),
        };
        let d = Duration::from_secs;
        assert_eq!(
            restart_policy(&restart),
            RestartPolicy {
                backoff_initial: d(1),
                backoff_max: d(2),
                stable_after: d(3),
                max_crashes: 4,
                crash_window: d(5),
            }
        );
        let liveness = config::Liveness {
            every: secs(6),
            timeout: secs(7),
            failures: 8,
        };
        let check = alive_check(&liveness, Probe::Tcp { port: 9 }).unwrap();
        assert_eq!(
            (check.every, check.timeout, check.failures),
            (d(6), d(7), 8)
        );
        let off = config::Liveness {
            failures: 0,
            ..liveness
        };
        assert_eq!(alive_check(&off, Probe::None), None);
        // The defaults of the configuration are the supervisor's own.
        let config = Config::default();
        assert_eq!(restart_policy(&config.restart), RestartPolicy::default());
        assert_eq!(
            supervisor_options(&config, false).grace,
            Options::default().grace
        );
    }

    #[tokio::test]
    async fn the_front_door_follows_the_supervisor() {
        let (supervised, rx) = watch::channel(State::Starting);
        let mut available = availability(rx);
        assert_eq!(*available.borrow_and_update(), ChildState::Starting);
        supervised.send_replace(State::Ready);
        available.changed().await.unwrap();
        assert_eq!(*available.borrow_and_update(), ChildState::Ready);
        supervised.send_replace(State::Down {
            reason: Error::new("django keeps crashing").hint("fix it"),
        });
        available.changed().await.unwrap();
        assert_eq!(
            available.borrow_and_update().to_string(),
            "down (django keeps crashing)"
        );
        drop(supervised);
        assert!(available.changed().await.is_err());
    }
}
