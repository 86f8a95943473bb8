//! The restart policy: exponential back-off between restarts, reset once a child has
//! stayed up for a while, and a limit on crashes within a time window.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// When and how often a child that exits on its own is started again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RestartPolicy {
    /// The delay before the first restart; it doubles with each crash after that.
    pub backoff_initial: Duration,
    /// The longest delay.
    pub backoff_max: Duration,
    /// A child that stays up this long has its back-off reset.
    pub stable_after: Duration,
    /// Give up after this many crashes within `crash_window`.
    pub max_crashes: u32,
    pub crash_window: Duration,
}

impl Default for RestartPolicy {
    /// 0.5 s doubling up to 10 s; reset after 30 s up; 5 crashes within 60 s give up.
    fn default() -> Self {
        RestartPolicy {
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(10),
            stable_after: Duration::from_secs(30),
            max_crashes: 5,
            crash_window: Duration::from_secs(60),
        }
    }
}

/// What to do after a child exited on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Start it again after `delay`; `attempt` counts the restarts in the current run
    /// of crashes (1 for the first restart).
    Restart { delay: Duration, attempt: u32 },
    /// Too many crashes: `crashes` within `window`.
    GiveUp { crashes: u32, window: Duration },
}

#[derive(Clone, Debug)]
pub struct Backoff {
    policy: RestartPolicy,
    next_delay: Duration,
    attempt: u32,
    crashes: VecDeque<Instant>,
}

impl Backoff {
    pub fn new(policy: RestartPolicy) -> Self {
        Backoff {
            next_delay: policy.backoff_initial,
            policy,
            attempt: 0,
            crashes: VecDeque::new(),
        }
    }

    /// Records an exit at `now` after the child ran for `uptime`.
    pub fn on_exit(&mut self, now: Instant, uptime: Duration) -> Decision {
        if uptime >= self.policy.stable_after {
            self.reset();
        }
        let window = self.policy.crash_window;
        self.crashes.push_back(now);
        while self
            .crashes
            .front()
            .is_some_and(|t| now.duration_since(*t) > window)
        {
            self.crashes.pop_front();
        }
        let crashes = self.crashes.len() as u32;
        if crashes >= self.policy.max_crashes.max(1) {
            return Decision::GiveUp { crashes, window };
        }
        let delay = self.next_delay;
        self.next_delay = (delay * 2).min(self.policy.backoff_max);
        self.attempt += 1;
        Decision::Restart {
            delay,
            attempt: self.attempt,
        }
    }

    /// Forgets past crashes: after a stable run, or when the user restarts by hand or
    /// by saving a file.
    pub fn reset(&mut self) {
        self.next_delay = self.policy.backoff_initial;
        self.attempt = 0;
        self.crashes.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RestartPolicy {
        // The defaults (0.5 s doubling to 10 s), with room for the whole progression.
        RestartPolicy {
            max_crashes: 7,
            ..RestartPolicy::default()
        }
    }

    fn delays(backoff: &mut Backoff, start: Instant, n: u64) -> Vec<Decision> {
        (0..n)
            .map(|i| backoff.on_exit(start + Duration::from_secs(i), Duration::from_millis(10)))
            .collect()
    }

    #[test]
    fn delays_double_up_to_the_maximum_then_it_gives_up() {
        let mut b = Backoff::new(policy());
        let ms = |d: u64, attempt| Decision::Restart {
            delay: Duration::from_millis(d),
            attempt,
        };
        assert_eq!(
            delays(&mut b, Instant::now(), 7),
            vec![
                ms(500, 1),
                ms(1000, 2),
                ms(2000, 3),
                ms(4000, 4),
                ms(8000, 5),
                ms(10000, 6),
                Decision::GiveUp {
                    crashes: 7,
                    window: Duration::from_secs(60)
                },
            ]
        );
    }

    #[test]
    fn crashes_outside_the_window_do_not_count() {
        let mut b = Backoff::new(RestartPolicy {
            max_crashes: 2,
            crash_window: Duration::from_secs(5),
            ..policy()
        });
        let t = Instant::now();
        let short = Duration::from_millis(10);
        assert!(matches!(b.on_exit(t, short), Decision::Restart { .. }));
        assert!(matches!(
            b.on_exit(t + Duration::from_secs(6), short),
            Decision::Restart { .. }
        ));
        assert!(matches!(
            b.on_exit(t + Duration::from_secs(7), short),
            Decision::GiveUp { crashes: 2, .. }
        ));
    }

    #[test]
    fn a_stable_run_resets_the_delay() {
        let mut b = Backoff::new(policy());
        let t = Instant::now();
        delays(&mut b, t, 3);
        assert_eq!(
            b.on_exit(t + Duration::from_secs(40), Duration::from_secs(31)),
            Decision::Restart {
                delay: Duration::from_millis(500),
                attempt: 1
            }
        );
    }
}
