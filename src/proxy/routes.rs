//! The route table: which paths belong to Django. The front-door proxy and the Vite
//! proxy rules are both derived from a [`RouteTable`]; the rules for a prefix itself
//! are in [`crate::prefix`] (re-exported here).

use std::path::PathBuf;

use serde::Serialize;

use crate::config::Prefixes;
pub use crate::prefix::{
    HEALTH_PATH, INTERNAL_PREFIX, Prefix, PrefixError, is_reflex_backend, reflex_reserved,
};

/// Why a prefix belongs to Django; shown by `routes` and used in error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteKind {
    Admin,
    Static,
    Backend,
    Extra,
    Internal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Django,
    Reflex,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Route {
    pub prefix: Prefix,
    pub kind: RouteKind,
    /// Who answers: Django, unless the front door serves the prefix from disk.
    #[serde(skip)]
    pub serve: Serve,
}

impl Route {
    /// A prefix answered by Django.
    pub fn new(prefix: Prefix, kind: RouteKind) -> Route {
        Route {
            prefix,
            kind,
            serve: Serve::Django,
        }
    }
}

/// Who answers a Django prefix.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Serve {
    #[default]
    Django,
    /// Files from this directory (Django's `STATIC_ROOT` in production), by the path
    /// below the prefix.
    Files(PathBuf),
}

/// The Django prefixes; every other path goes to Reflex.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// Builds the table; a prefix listed twice is kept once, under its first kind.
    pub fn new(routes: impl IntoIterator<Item = Route>) -> Self {
        let mut table = RouteTable::default();
        for route in routes {
            if !table.routes.iter().any(|r| r.prefix == route.prefix) {
                table.routes.push(route);
            }
        }
        table
    }

    /// The table for a configuration: admin, static, backend, extra and internal
    /// prefixes. `static_prefix` comes from Django's `STATIC_URL` unless configured.
    pub fn from_config(prefixes: &Prefixes, static_prefix: Option<Prefix>) -> Self {
        let configured_static = prefixes.static_.as_ref().map(|p| p.0.clone());
        let route = Route::new;
        let mut routes = vec![route(prefixes.admin.0.clone(), RouteKind::Admin)];
        routes.extend(
            configured_static
                .or(static_prefix)
                .map(|p| route(p, RouteKind::Static)),
        );
        routes.extend(
            prefixes
                .backend
                .as_ref()
                .map(|p| route(p.0.clone(), RouteKind::Backend)),
        );
        routes.extend(
            prefixes
                .extra
                .iter()
                .map(|p| route(p.0.clone(), RouteKind::Extra)),
        );
        RouteTable::with_internal(routes)
    }

    /// The table of `routes` plus the package's own prefix, which every table has.
    pub fn with_internal(routes: impl IntoIterator<Item = Route>) -> Self {
        let internal = Route::new(Prefix::internal(), RouteKind::Internal);
        RouteTable::new(routes.into_iter().chain([internal]))
    }

    /// Serves the static prefix from `dir` instead of asking Django (production,
    /// after `collectstatic`). Without a static route this changes nothing.
    pub fn serve_static_from(mut self, dir: PathBuf) -> Self {
        for route in &mut self.routes {
            if route.kind == RouteKind::Static {
                route.serve = Serve::Files(dir.clone());
            }
        }
        self
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The Django route that `path` falls under, if any.
    pub fn route(&self, path: &str) -> Option<&Route> {
        self.routes.iter().find(|r| r.prefix.matches(path))
    }

    pub fn target(&self, path: &str) -> Target {
        match self.route(path) {
            Some(_) => Target::Django,
            None => Target::Reflex,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Prefix {
        Prefix::parse(s).unwrap()
    }

    #[test]
    fn normalises() {
        assert_eq!(p("/admin/").as_str(), "/admin");
        assert_eq!(p("admin").as_str(), "/admin");
        assert_eq!(p("//api//v1/").as_str(), "/api/v1");
        assert_eq!(p("  /static/ ").as_str(), "/static");
    }

    #[test]
    fn refuses_root_and_junk() {
        assert_eq!(Prefix::parse("/"), Err(PrefixError::Root));
        assert_eq!(Prefix::parse(""), Err(PrefixError::Root));
        assert_eq!(Prefix::parse("///"), Err(PrefixError::Root));
        assert!(matches!(
            Prefix::parse("/a b"),
            Err(PrefixError::BadChar { bad: ' ', .. })
        ));
        assert!(matches!(
            Prefix::parse("/api?x=1"),
            Err(PrefixError::BadChar { bad: '?', .. })
        ));
        assert!(matches!(
            Prefix::parse("/a/../b"),
            Err(PrefixError::DotSegment { .. })
        ));
    }

    #[test]
    fn refuses_reflex_paths_and_paths_under_them() {
        for bad in [
            "/_event",
            "/_event/",
            "/_event/x",
            "/ping",
            "/_upload/files",
        ] {
            assert!(
                matches!(Prefix::parse(bad), Err(PrefixError::Reserved { .. })),
                "{bad} should be refused"
            );
        }
        // Only segment boundaries count.
        assert!(Prefix::parse("/pingpong").is_ok());
        assert!(Prefix::parse("/_events").is_ok());
    }

    #[test]
    fn reflex_backend_paths() {
        for path in [
            "/_event",
            "/_event/",
            "/_event/?EIO=4",
            "/ping",
            "/_upload/a.png",
        ] {
            assert!(is_reflex_backend(path.split('?').next().unwrap()), "{path}");
        }
        for path in ["/", "/notes", "/pingpong", "/_events", "/assets/x.js"] {
            assert!(!is_reflex_backend(path), "{path}");
        }
    }

    #[test]
    fn matches_on_segment_boundaries() {
        let admin = p("/admin");
        assert!(admin.matches("/admin"));
        assert!(admin.matches("/admin/"));
        assert!(admin.matches("/admin/x/y"));
        assert!(!admin.matches("/administrator"));
        assert!(!admin.matches("/adm"));
        assert!(!admin.matches("/x/admin"));
    }

    #[test]
    fn static_url_from_other_origins_is_not_routed() {
        assert_eq!(Prefix::from_static_url("/static/"), Some(Ok(p("/static"))));
        assert_eq!(Prefix::from_static_url("static/"), Some(Ok(p("/static"))));
        assert_eq!(Prefix::from_static_url("https://cdn.example.com/s/"), None);
        assert_eq!(Prefix::from_static_url("//cdn.example.com/s/"), None);
    }

    #[test]
    fn table_routes_to_django_only_under_prefixes() {
        let route = |prefix: &str, kind| Route::new(p(prefix), kind);
        let table = RouteTable::new([
            route("/admin", RouteKind::Admin),
            route("/api", RouteKind::Backend),
            route("/admin", RouteKind::Extra),
        ]);
        assert_eq!(table.routes().len(), 2);
        assert_eq!(table.target("/admin/login/"), Target::Django);
        assert_eq!(table.target("/api"), Target::Django);
        assert_eq!(table.target("/apix"), Target::Reflex);
        assert_eq!(table.target("/"), Target::Reflex);
        assert_eq!(table.target("/_event/"), Target::Reflex);
    }

    #[test]
    fn the_static_route_can_be_served_from_disk() {
        let prefixes = crate::config::Prefixes::default();
        let table = RouteTable::from_config(&prefixes, Some(p("/static")))
            .serve_static_from(PathBuf::from("/srv/static"));
        let served = table.route("/static/admin/css/base.css").unwrap();
        assert_eq!(served.kind, RouteKind::Static);
        assert_eq!(served.serve, Serve::Files(PathBuf::from("/srv/static")));
        assert_eq!(table.route("/admin/").unwrap().serve, Serve::Django);
        assert_eq!(table.target("/static/x.css"), Target::Django);
    }
}

/// The shared case table (`tests/prefix_cases.json`): the Python rules are tested
/// against the same file, so the two implementations agree.
#[cfg(test)]
mod shared_cases {
    use super::*;
    use serde_json::Value;

    fn cases() -> Value {
        serde_json::from_str(include_str!("../../tests/prefix_cases.json")).unwrap()
    }

    fn error_kind(error: &PrefixError) -> &'static str {
        match error {
            PrefixError::Root => "root",
            PrefixError::BadChar { .. } => "bad_char",
            PrefixError::DotSegment { .. } => "dot_segment",
            PrefixError::Reserved { .. } => "reserved",
        }
    }

    #[test]
    fn the_shared_rules_load_and_name_the_internal_prefix() {
        let rules: Value =
            serde_json::from_str(include_str!("../../python/reflex_django/prefix_rules.json"))
                .unwrap();
        assert_eq!(rules["internal"], INTERNAL_PREFIX);
        assert!(reflex_reserved().iter().any(|r| r == "/_event"));
    }

    #[test]
    fn normalising_agrees_with_the_table() {
        let cases = cases();
        let rows = cases["normalise"].as_array().unwrap();
        assert!(rows.len() > 20);
        for row in rows {
            let raw = row["raw"].as_str().unwrap();
            let got = match Prefix::parse(raw) {
                Ok(prefix) => ("prefix", prefix.as_str().to_string()),
                Err(error) => ("error", error_kind(&error).to_string()),
            };
            let want = if let Some(p) = row["prefix"].as_str() {
                ("prefix", p.to_string())
            } else {
                ("error", row["error"].as_str().unwrap().to_string())
            };
            assert_eq!(got, want, "Prefix::parse({raw:?})");
        }
    }

    #[test]
    fn routing_agrees_with_the_table() {
        let cases = cases();
        let route = &cases["route"];
        let table = RouteTable::new(route["prefixes"].as_array().unwrap().iter().map(|p| {
            Route::new(
                Prefix::parse(p.as_str().unwrap()).unwrap(),
                RouteKind::Extra,
            )
        }));
        let rows = route["cases"].as_array().unwrap();
        assert!(rows.len() > 20);
        for row in rows {
            let path = row[0].as_str().unwrap();
            let want = match row[1].as_str().unwrap() {
                "django" => Target::Django,
                "reflex" => Target::Reflex,
                other => panic!("unknown target {other}"),
            };
            assert_eq!(table.target(path), want, "{path}");
        }
    }
}
