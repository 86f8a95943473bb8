//! The route table most tests use, shared by the test binaries.

use reflex_django::config::{ConfigPrefix, Prefixes};
use reflex_django::proxy::routes::{Prefix, RouteTable};

/// The table of a project with `/api` as backend and two extra prefixes: `/admin`,
/// `/static`, `/api`, `/media`, `/v1.0/x` and reflex-django's own go to Django.
pub fn table() -> RouteTable {
    let prefix = |p: &str| ConfigPrefix(Prefix::parse(p).unwrap());
    let prefixes = Prefixes {
        admin: prefix("/admin"),
        backend: Some(prefix("/api")),
        extra: vec![prefix("/media"), prefix("/v1.0/x")],
        static_: None,
    };
    RouteTable::from_config(&prefixes, Some(Prefix::parse("/static/").unwrap()))
}
