//! The restart policy: exponential back-off between restarts, reset once a child has
//! stayed up for a while, and a limit on crashes within a time window.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::config::Restart;

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
    policy: Restart,
    next_delay: Duration,
    attempt: u32,
    crashes: VecDeque<Instant>,
}

impl Backoff {
    pub fn new(policy: Restart) -> Self {
        Backoff {
            next_delay: policy.backoff_initial.0,
            policy,
            attempt: 0,
            crashes: VecDeque::new(),
        }
    }

    /// Records an exit at `now` after the child ran for `uptime`.
    pub fn on_exit(&mut self, now: Instant, uptime: Duration) -> Decision {
        if uptime >= self.policy.stable_after.0 {
            self.reset();
        }
        let window = self.policy.crash_window.0;
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
        self.next_delay = (delay * 2).min(self.policy.backoff_max.0);
        self.attempt += 1;
        Decision::Restart {
            delay,
            attempt: self.attempt,
        }
    }

    /// Forgets past crashes: after a stable run, or when the user restarts by hand or
    /// by saving a file.
    pub fn reset(&mut self) {
        self.next_delay = self.policy.backoff_initial.0;
        self.attempt = 0;
        self.crashes.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Seconds;

    fn policy() -> Restart {
        // The defaults (0.5 s doubling to 10 s), with room for the whole progression.
        Restart {
            max_crashes: 7,
            ..Restart::default()
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
        let mut b = Backoff::new(Restart {
            max_crashes: 2,
            crash_window: Seconds::from_secs(5),
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
