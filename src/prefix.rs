//! The prefix rules: what a Django prefix may be, and the paths Reflex keeps for
//! itself. A leaf module: the configuration (which parses prefixes) and the route table
//! (which matches them) both build on it.
//!
//! The rules' data (Reflex's reserved paths, the characters a prefix may hold) lives in
//! `python/reflex_django/prefix_rules.json`, which the Python package reads too, and
//! `tests/prefix_cases.json` is a table of cases both implementations must agree on.

use std::fmt;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// The rules' data, shared with the Python package (compiled in).
#[derive(Deserialize)]
struct SharedRules {
    reflex_reserved: Vec<String>,
    path_chars: String,
}

static SHARED: LazyLock<SharedRules> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../python/reflex_django/prefix_rules.json"))
        .expect("prefix_rules.json is valid (checked by a unit test)")
});

/// Paths Reflex serves itself. They never go to Django, and a configured prefix that
/// equals or sits under one of them is a configuration error.
pub fn reflex_reserved() -> &'static [String] {
    &SHARED.reflex_reserved
}

/// Whether `path` is one of Reflex's backend paths (the event WebSocket, uploads,
/// health checks). In development the other Reflex paths are pages, served by Reflex's
/// dev server.
pub fn is_reflex_backend(path: &str) -> bool {
    reflex_path_of(path).is_some()
}

/// The reserved Reflex path that `path` equals or sits under.
fn reflex_path_of(path: &str) -> Option<&'static str> {
    reflex_reserved()
        .iter()
        .map(String::as_str)
        .find(|reserved| under(path, reserved))
}

/// The prefix rule: `path` is `prefix` or below it on a segment boundary.
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Prefix of the Django views that ship with the `reflex_django` Python package
/// (e.g. the session hand-off used by the auth pages).
pub const INTERNAL_PREFIX: &str = "/_reflex_django";

/// The front door's own health endpoint, under the package's reserved prefix: load
/// balancers ask it whether this instance serves (both children ready, not draining).
pub const HEALTH_PATH: &str = "/_reflex_django/health";

/// A normalised URL path prefix: `/seg[/seg…]`, no trailing slash, never `/`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Prefix(String);

/// Why a prefix was refused; `Display` gives the problem, [`PrefixError::hint`] the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    #[error("a prefix cannot be empty or `/` (that would send every path to Django)")]
    Root,
    #[error("`{raw}` is not a path prefix: `{bad}` is not allowed in a URL path")]
    BadChar { raw: String, bad: char },
    #[error("`{raw}` is not a path prefix: `.` and `..` segments are not allowed")]
    DotSegment { raw: String },
    #[error("`{prefix}` collides with Reflex's reserved path `{reserved}`")]
    Reserved { prefix: String, reserved: String },
}

impl PrefixError {
    pub fn hint(&self) -> String {
        match self {
            PrefixError::Root => {
                "use a path such as `/admin` or `/api`; Reflex serves everything else".into()
            }
            PrefixError::BadChar { .. } | PrefixError::DotSegment { .. } => {
                "write the prefix as a plain path, e.g. `/api` or `/billing/v2`".into()
            }
            PrefixError::Reserved { .. } => format!(
                "Reflex needs these paths for itself: {}; pick another prefix",
                reflex_reserved().join(", ")
            ),
        }
    }
}

impl Prefix {
    /// Normalises and validates a prefix: a missing leading `/` is added, repeated and
    /// trailing slashes are dropped; `/`, odd characters and Reflex's paths are refused.
    pub fn parse(raw: &str) -> Result<Prefix, PrefixError> {
        let trimmed = raw.trim();
        let mut out = String::with_capacity(trimmed.len() + 1);
        for segment in trimmed.split('/').filter(|s| !s.is_empty()) {
            if segment == "." || segment == ".." {
                return Err(PrefixError::DotSegment { raw: raw.into() });
            }
            if let Some(bad) = segment.chars().find(|c| !is_path_char(*c)) {
                return Err(PrefixError::BadChar {
                    raw: raw.into(),
                    bad,
                });
            }
            out.push('/');
            out.push_str(segment);
        }
        if out.is_empty() {
            return Err(PrefixError::Root);
        }
        if let Some(reserved) = reflex_path_of(&out) {
            return Err(PrefixError::Reserved {
                prefix: out,
                reserved: reserved.into(),
            });
        }
        Ok(Prefix(out))
    }

    /// A prefix for Django's `STATIC_URL`, or `None` when static files are served from
    /// another origin (`https://cdn…/static/`, `//cdn…`) and so never reach us.
    pub fn from_static_url(static_url: &str) -> Option<Result<Prefix, PrefixError>> {
        let url = static_url.trim();
        if url.is_empty() || url.starts_with("//") || url.contains("://") {
            return None;
        }
        Some(Prefix::parse(url))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The package's own prefix ([`INTERNAL_PREFIX`]), which no configuration sets.
    pub(crate) fn internal() -> Prefix {
        Prefix(INTERNAL_PREFIX.to_string())
    }

    /// Segment-boundary match: `/admin` matches `/admin` and `/admin/x`, not `/administrator`.
    pub fn matches(&self, path: &str) -> bool {
        under(path, &self.0)
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// RFC 3986 `pchar`: unreserved, sub-delims, `:`, `@`, and `%` (for escapes).
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || SHARED.path_chars.contains(c)
}
