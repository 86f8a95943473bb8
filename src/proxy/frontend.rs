//! The built Reflex frontend (`reflex export`'s static files), served the way Reflex's
//! own production server resolves a path:
//!
//! 1. a file (`/assets/app-HASH.js`, `/favicon.ico`);
//! 2. a page: `/notes` → `notes.html`, `/notes/` → `notes/index.html`, `/` →
//!    `index.html` (Reflex redirects `/notes` to `/notes/`; serving `notes.html`, which
//!    the export writes for exactly this, saves the round trip);
//! 3. a path that one of the app's routes matches but that has no file of its own
//!    (dynamic routes such as `/post/[id]`): the app shell, `404.html`, with `200`;
//! 4. anything else: `404.html` with `404`.
//!
//! Route matching follows `reflex.route.get_router`: routes sorted by specificity, the
//! first regex match wins, and matching the app's own `404` page (or `index` through
//! an `/index` alias) does not count.

use std::path::{Path, PathBuf};

use regex::Regex;

use super::files::{self, Answer, BadPath, Root};

/// The page every unknown path gets (React Router's SPA fallback, copied by Reflex).
pub const NOT_FOUND_PAGE: &str = "404.html";

/// A built frontend: its files and its routes.
#[derive(Clone, Debug)]
pub struct Frontend {
    root: Root,
    routes: std::sync::Arc<PageRoutes>,
}

impl Frontend {
    /// `dir` is the export's output (`.web/build/client`); `routes` the app's routes
    /// as Reflex lists them (`index`, `notes`, `post/[id]`, `404`).
    pub fn new(dir: &Path, routes: &[String]) -> std::io::Result<Frontend> {
        Ok(Frontend {
            root: Root::new(dir)?,
            routes: std::sync::Arc::new(PageRoutes::new(routes)),
        })
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// What answers `path` (the URL path, still percent-encoded). Blocking: it looks
    /// at the disk.
    pub(crate) fn resolve(&self, path: &str) -> Result<Option<Answer>, BadPath> {
        let segments = files::segments(path)?;
        let directory = path.ends_with('/') || segments.is_empty();
        let joined: PathBuf = segments.iter().collect();
        let mut candidates = Vec::with_capacity(3);
        if directory {
            candidates.push(joined.join("index.html"));
        } else {
            candidates.push(joined.clone());
            if let Some(name) = joined.file_name() {
                let mut html = name.to_os_string();
                html.push(".html");
                let page = joined.with_file_name(html);
                // `/404` names the app's not-found page, which keeps its status.
                if page != Path::new(NOT_FOUND_PAGE) {
                    candidates.push(page);
                }
            }
            candidates.push(joined.join("index.html"));
        }
        for rel in &candidates {
            if let Ok(Some(file)) = self.root.file(rel) {
                return Ok(Some(Answer {
                    cache_control: files::cache_control(rel, true),
                    file,
                    status: None,
                    remember: true,
                }));
            }
        }
        let routable = self.routes.routable(&segments.join("/"));
        let status = (!routable).then_some(http::StatusCode::NOT_FOUND);
        Ok(self
            .root
            .file(Path::new(NOT_FOUND_PAGE))
            .ok()
            .flatten()
            .map(|file| Answer {
                file,
                status,
                cache_control: files::REVALIDATE,
                remember: false,
            }))
    }
}

/// The app's routes, most specific first.
#[derive(Clone, Debug)]
struct PageRoutes {
    routes: Vec<(Regex, String)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part<'a> {
    Literal(&'a str),
    /// `[name]`: one segment, possibly empty.
    Single,
    /// `[[name]]`: one segment or none.
    Optional,
    /// `[[...splat]]`: the rest of the path, or nothing.
    CatchAll,
}

fn part(text: &str) -> Part<'_> {
    let inner = |s: &'_ str, open: &str, close: &str| {
        s.strip_prefix(open)
            .and_then(|s| s.strip_suffix(close))
            .is_some_and(|name| {
                let mut chars = name.chars();
                chars
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && chars.all(|c| c.is_alphanumeric() || c == '_')
            })
    };
    if text == "[[...splat]]" {
        Part::CatchAll
    } else if inner(text, "[[", "]]") {
        Part::Optional
    } else if inner(text, "[", "]") {
        Part::Single
    } else {
        Part::Literal(text)
    }
}

impl PageRoutes {
    fn new(routes: &[String]) -> Self {
        let mut keyed: Vec<((usize, usize, usize), Regex, String)> = routes
            .iter()
            .filter_map(|route| {
                let parts: Vec<Part> = route.split('/').map(part).collect();
                let count = |kind: Part| parts.iter().filter(|p| **p == kind).count();
                let specificity = (
                    count(Part::CatchAll),
                    count(Part::Optional),
                    count(Part::Single),
                );
                let pattern = if route == "index" {
                    "^/$".to_string()
                } else {
                    let body: String = parts
                        .iter()
                        .map(|p| match p {
                            Part::Literal(text) => regex::escape(&format!("/{text}")),
                            Part::Single => "/[^/]*".into(),
                            Part::Optional => "(/[^/]+)?".into(),
                            Part::CatchAll => "(/.*)?".into(),
                        })
                        .collect();
                    format!("^{body}/?$")
                };
                Regex::new(&pattern)
                    .ok()
                    .map(|re| (specificity, re, route.clone()))
            })
            .collect();
        // Stable: routes equally specific keep the app's order, as in Reflex.
        keyed.sort_by_key(|(specificity, _, _)| *specificity);
        PageRoutes {
            routes: keyed.into_iter().map(|(_, re, r)| (re, r)).collect(),
        }
    }

    /// Whether `path` (decoded, without the leading slash) is one of the app's pages.
    fn routable(&self, path: &str) -> bool {
        let trimmed = path.trim_matches('/');
        let mut probe = format!("/{trimmed}");
        if probe == "/index" {
            probe = "/".into();
        }
        let matched = self
            .routes
            .iter()
            .find(|(re, _)| re.is_match(&probe))
            .map(|(_, route)| route.as_str());
        match matched {
            None | Some("404") => false,
            Some("index") => trimmed.is_empty(),
            Some(_) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(list: &[&str]) -> PageRoutes {
        PageRoutes::new(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn routes_match_like_reflex() {
        let r = routes(&[
            "index",
            "notes",
            "post/[id]",
            "password-reset/confirm/[uid]/[key]",
            "docs/[[...splat]]",
            "shop/[[category]]",
            "404",
        ]);
        for page in [
            "",
            "notes",
            "notes/",
            "post/7",
            "password-reset/confirm/MQ/abc-123",
            "docs",
            "docs/a/b/c",
            "shop",
            "shop/shoes",
        ] {
            assert!(r.routable(page), "{page}");
        }
        for unknown in [
            "index",
            "404",
            "nope",
            "post/7/edit",
            "notes/x",
            "shop/shoes/red",
            "docsx",
        ] {
            assert!(!r.routable(unknown), "{unknown}");
        }
    }

    #[test]
    fn a_literal_route_beats_a_dynamic_one() {
        // `404` is literal, so it is tried before `[slug]` and keeps its 404 status.
        let r = routes(&["[slug]", "404"]);
        assert!(!r.routable("404"));
        assert!(r.routable("anything"));
    }

    fn build() -> (tempfile::TempDir, Frontend) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (rel, text) in [
            ("index.html", "home"),
            ("404.html", "shell"),
            ("notes.html", "notes"),
            ("notes/index.html", "notes"),
            ("assets/app-BhQ9MRhD.js", "js"),
            ("favicon.ico", "ico"),
        ] {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let routes: Vec<String> = ["index", "notes", "post/[id]", "404"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let frontend = Frontend::new(root, &routes).unwrap();
        (dir, frontend)
    }

    fn served(frontend: &Frontend, path: &str) -> (String, Option<u16>, &'static str) {
        let answer = frontend.resolve(path).unwrap().expect("an answer");
        let name = answer
            .file
            .path
            .strip_prefix(frontend.root())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        (
            name,
            answer.status.map(|s| s.as_u16()),
            answer.cache_control,
        )
    }

    #[test]
    fn resolves_pages_files_dynamic_routes_and_unknown_paths() {
        let (_dir, f) = build();
        assert_eq!(
            served(&f, "/"),
            ("index.html".into(), None, files::REVALIDATE)
        );
        assert_eq!(served(&f, "/notes").0, "notes.html");
        assert_eq!(served(&f, "/notes/").0, "notes/index.html");
        assert_eq!(
            served(&f, "/assets/app-BhQ9MRhD.js"),
            ("assets/app-BhQ9MRhD.js".into(), None, files::IMMUTABLE)
        );
        assert_eq!(served(&f, "/favicon.ico").2, files::REVALIDATE);
        // A dynamic route has no file: the shell, with 200.
        assert_eq!(
            served(&f, "/post/42"),
            ("404.html".into(), None, files::REVALIDATE)
        );
        // Unknown: the shell, with 404.
        assert_eq!(
            served(&f, "/nope"),
            ("404.html".into(), Some(404), files::REVALIDATE)
        );
        assert_eq!(served(&f, "/assets/missing.js").1, Some(404));
        assert_eq!(served(&f, "/404").1, Some(404));
    }

    #[test]
    fn traversal_is_refused() {
        let (_dir, f) = build();
        assert_eq!(f.resolve("/../etc/passwd").err(), Some(BadPath::Malformed));
        assert_eq!(
            f.resolve("/%2e%2e/etc/passwd").err(),
            Some(BadPath::Malformed)
        );
        assert_eq!(f.resolve("/.web/x").err(), Some(BadPath::Hidden));
    }
}
