//! The marker that ties every process of one supervisor run together.
//!
//! Each child gets `REFLEX_DJANGO_SESSION=<session id>/<child name>` in its environment.
//! Descendants inherit it whatever they do with process groups and sessions, so
//! `/proc/<pid>/environ` finds them all: one child's processes by the whole value, the
//! whole run's by the `<session id>/` prefix.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub const SESSION_VAR: &str = "REFLEX_DJANGO_SESSION";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    id: String,
}

impl Session {
    /// A new id, unique on this machine: our pid, the time, and a counter for several
    /// supervisors in one process (tests).
    pub fn generate() -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Session::from_id(format!("{:x}-{nanos:x}-{n}", std::process::id()))
    }

    pub fn from_id(id: String) -> Self {
        Session { id }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The value set for `child`.
    pub fn value(&self, child: &str) -> String {
        format!("{}/{child}", self.id)
    }

    /// `NAME=value` as it appears in `/proc/<pid>/environ`, for one child.
    pub fn child_marker(&self, child: &str) -> String {
        format!("{SESSION_VAR}={}", self.value(child))
    }

    /// The prefix every process of this session carries (see `procs::has_marker`).
    pub fn marker_prefix(&self) -> String {
        format!("{SESSION_VAR}={}/", self.id)
    }
}
