//! The Vite proxy rules, derived from the [`RouteTable`] so Vite and the front door
//! always agree on what belongs to Django.

use crate::proxy::routes::{Prefix, RouteTable};

/// What the marked block in `vite.config.js` says: one rule per Django prefix, all
/// sent to the front door.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViteRules {
    /// Regex sources, one per prefix, in route-table order (see [`ViteRules::pattern`]).
    pub patterns: Vec<String>,
    /// Where Vite sends the matching requests: the front door, e.g. `http://127.0.0.1:8000`.
    pub target: String,
}

impl ViteRules {
    /// Rules for `table`, targeting the front door that listens on `host:port`.
    pub fn new(table: &RouteTable, host: &str, port: u16) -> Self {
        Self::with_target(table, front_door_url(host, port))
    }

    /// Rules for `table`, sending the paths to `target` (an `http://host:port` origin).
    pub fn with_target(table: &RouteTable, target: String) -> Self {
        ViteRules {
            patterns: table
                .routes()
                .iter()
                .map(|r| Self::pattern(&r.prefix))
                .collect(),
            target,
        }
    }

    /// The regex key for one prefix. Vite treats a key starting with `^` as a regex and
    /// tests it against `req.url` (path and query); a plain key would be a bare
    /// `startsWith`, which sends `/administrator` to Django too. The tail accepts the
    /// same boundaries as [`Prefix::matches`]: end of path, `/`, or the query.
    pub fn pattern(prefix: &Prefix) -> String {
        let mut out = String::from("^");
        for c in prefix.as_str().chars() {
            // Prefix characters that are regex syntax in both JavaScript and the `regex`
            // crate; the escapes are valid in both.
            if ".$()*+?[]{}|^\\".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
        out.push_str("(?:[/?#]|$)");
        out
    }
}

/// The URL Vite should use to reach the front door. A wildcard listen address is not
/// an address to connect to, so loopback is used instead.
pub fn front_door_url(host: &str, port: u16) -> String {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    let host = match host {
        "" | "0.0.0.0" | "::" | "*" => "127.0.0.1",
        other => other,
    };
    if host.contains(':') {
        format!("http://[{host}]:{port}")
    } else {
        format!("http://{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::routes::{Route, RouteKind, Target};
    use proptest::prelude::*;

    #[test]
    fn wildcard_hosts_become_loopback() {
        assert_eq!(front_door_url("0.0.0.0", 8000), "http://127.0.0.1:8000");
        assert_eq!(front_door_url("::", 8000), "http://127.0.0.1:8000");
        assert_eq!(front_door_url("[::]", 8000), "http://127.0.0.1:8000");
        assert_eq!(front_door_url("localhost", 9), "http://localhost:9");
        assert_eq!(front_door_url("::1", 8000), "http://[::1]:8000");
    }

    #[test]
    fn patterns_escape_regex_syntax() {
        let p = Prefix::parse("/v1.0/a+b$(x)").unwrap();
        assert_eq!(ViteRules::pattern(&p), r"^/v1\.0/a\+b\$\(x\)(?:[/?#]|$)");
    }

    fn table() -> RouteTable {
        let route = |p: &str, kind| Route::new(Prefix::parse(p).unwrap(), kind);
        RouteTable::new([
            route("/admin", RouteKind::Admin),
            route("/static", RouteKind::Static),
            route("/api/v1.0", RouteKind::Backend),
            route("/a+b", RouteKind::Extra),
            route(crate::proxy::routes::INTERNAL_PREFIX, RouteKind::Internal),
        ])
    }

    /// Segments built from pieces of the prefixes, so near misses (`/administrator`,
    /// `/api/v1x0`, `/a+bb`) come up often.
    fn path_strategy() -> impl Strategy<Value = (String, Option<String>)> {
        let segment = prop::sample::select(vec![
            "admin",
            "administrator",
            "adm",
            "static",
            "staticx",
            "api",
            "v1.0",
            "v1x0",
            "a+b",
            "a+bb",
            "ab",
            "_reflex_django",
            "_event",
            "x",
            "",
            ".",
        ]);
        (
            prop::collection::vec(segment, 0..4),
            prop::bool::ANY,
            prop::option::of("[a-z=&/]{0,6}"),
        )
            .prop_map(|(segments, trailing, query)| {
                let mut path = String::new();
                for s in segments {
                    path.push('/');
                    path.push_str(s);
                }
                if trailing || path.is_empty() {
                    path.push('/');
                }
                (path, query)
            })
    }

    proptest! {
        /// Vite tests the rules against `req.url` (path + query); the front door routes
        /// on the path. Both must send the same requests to Django.
        #[test]
        fn vite_rules_and_route_table_agree((path, query) in path_strategy()) {
            let table = table();
            let rules = ViteRules::new(&table, "127.0.0.1", 8000);
            let regexes: Vec<regex::Regex> =
                rules.patterns.iter().map(|p| regex::Regex::new(p).unwrap()).collect();
            let url = match &query {
                Some(q) => format!("{path}?{q}"),
                None => path.clone(),
            };
            let vite = if regexes.iter().any(|r| r.is_match(&url)) {
                Target::Django
            } else {
                Target::Reflex
            };
            prop_assert_eq!(vite, table.target(&path), "url {}", url);
        }
    }
}
