//! The build stamp: what `build` made and from which sources, so `run --env prod`
//! can refuse a missing or stale build instead of serving an old app.
//!
//! It lives inside Reflex's build directory, so whatever removes the build (a new
//! export, `rm -rf .web`) removes the stamp with it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Context, Error, Result};
use crate::project::Project;

/// Reflex's build output, relative to the project root.
pub const FRONTEND_DIR: &str = ".web/build/client";
/// The stamp, relative to the project root.
pub const STAMP_FILE: &str = ".web/build/reflex-django-build.json";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// The reflex-django that made the build.
    pub version: String,
    /// Seconds since the Unix epoch.
    pub built_at: u64,
    /// The backend address given to Reflex's export.
    pub api_url: String,
    /// Whether the frontend talks to the origin that serves it (see
    /// `reflex_django.build`); otherwise only to `api_url`.
    pub same_origin: bool,
    /// The app's routes as Reflex compiled them (`index`, `notes`, `post/[id]`).
    pub routes: Vec<String>,
    /// Where `collectstatic` put Django's static files, when it ran.
    pub static_root: Option<PathBuf>,
    /// A hash of every source file the frontend is built from, by path relative to
    /// the project root.
    pub sources: BTreeMap<String, String>,
}

impl Stamp {
    pub fn path(root: &Path) -> PathBuf {
        root.join(STAMP_FILE)
    }

    pub fn write(&self, root: &Path) -> Result<()> {
        let text = serde_json::to_vec_pretty(self).expect("a stamp serializes");
        crate::atomic::write(&Self::path(root), &text, 0o644)
    }

    /// The stamp of the build in `project`, checked against the sources as they are
    /// now: an error with a hint when there is no build or it is stale.
    pub fn current(project: &Project) -> Result<Stamp> {
        let path = Self::path(&project.root);
        let rebuild = "run `reflex-django build` first (it compiles the frontend and collects \
                       Django's static files)";
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::new(format!(
                    "there is no production build in {}",
                    project.root.display()
                ))
                .hint(rebuild));
            }
            Err(e) => {
                return Err(Error::new(format!("cannot read {}", path.display()))
                    .cause(e)
                    .hint(rebuild));
            }
        };
        let stamp: Stamp = serde_json::from_slice(&text).map_err(|e| {
            Error::new(format!("{} is not a build stamp", path.display()))
                .cause(e)
                .hint(rebuild)
        })?;
        if !project.root.join(FRONTEND_DIR).join("index.html").is_file() {
            return Err(Error::new(format!(
                "the built frontend in {FRONTEND_DIR} is incomplete (no index.html)"
            ))
            .hint(rebuild));
        }
        let now = fingerprint(project)?;
        if let Some(change) = describe_change(&stamp.sources, &now) {
            return Err(Error::new(format!(
                "the production build is stale: {change} since `reflex-django build`"
            ))
            .hint("run `reflex-django build` again, so the app you serve is the app you wrote"));
        }
        Ok(stamp)
    }
}

/// The first difference between the sources of a build and the sources now.
fn describe_change(
    built: &BTreeMap<String, String>,
    now: &BTreeMap<String, String>,
) -> Option<String> {
    let mut changes = Vec::new();
    for (file, hash) in now {
        match built.get(file) {
            None => changes.push(format!("{file} is new")),
            Some(old) if old != hash => changes.push(format!("{file} changed")),
            Some(_) => {}
        }
    }
    changes.extend(
        built
            .keys()
            .filter(|file| !now.contains_key(*file))
            .map(|file| format!("{file} was removed")),
    );
    let first = changes.first()?.clone();
    Some(match changes.len() {
        1 => first,
        n => format!(
            "{first} (and {} more file{})",
            n - 1,
            if n == 2 { "" } else { "s" }
        ),
    })
}

/// The sources the frontend is built from: `rxconfig.py`, the Reflex app's package
/// and Reflex's `assets/` directory. Bytecode caches do not count, nor
/// `assets/external/` (links Reflex itself makes while it compiles, to assets that
/// Python packages share), nor directories reached through symbolic links.
pub fn fingerprint(project: &Project) -> Result<BTreeMap<String, String>> {
    let root = &project.root;
    let mut tops: Vec<PathBuf> = vec![
        root.join(crate::project::RXCONFIG_FILE),
        root.join("assets"),
    ];
    tops.extend(project.reflex_app_dir()?);
    let generated = root.join("assets").join("external");
    let mut out = BTreeMap::new();
    for top in tops {
        let mut stack = vec![top];
        while let Some(path) = stack.pop() {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if meta.is_dir() {
                let linked = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink());
                if name.as_deref() == Some("__pycache__") || path == generated || linked {
                    continue;
                }
                let entries = std::fs::read_dir(&path)
                    .with_context(|| format!("cannot list {}", path.display()))?;
                stack.extend(entries.filter_map(|e| e.ok().map(|e| e.path())));
            } else if meta.is_file() && !name.is_some_and(|n| n.ends_with(".pyc")) {
                let bytes = std::fs::read(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let rel = path.strip_prefix(root).unwrap_or(&path);
                out.insert(
                    rel.to_string_lossy().into_owned(),
                    format!("{:016x}", crate::hash::fnv1a(&bytes)),
                );
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> (tempfile::TempDir, Project) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("rxconfig.py"),
            "config = rx.Config(app_name=\"shop\")\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("shop/__pycache__")).unwrap();
        std::fs::write(root.join("shop/shop.py"), "app = 1\n").unwrap();
        std::fs::write(root.join("shop/__pycache__/shop.cpython-313.pyc"), "x").unwrap();
        std::fs::create_dir_all(root.join(FRONTEND_DIR)).unwrap();
        std::fs::write(root.join(FRONTEND_DIR).join("index.html"), "<html>").unwrap();
        let project = Project::at(root);
        (dir, project)
    }

    fn stamp(project: &Project) -> Stamp {
        Stamp {
            version: "0".into(),
            built_at: 0,
            api_url: "http://localhost:8000".into(),
            same_origin: true,
            routes: vec!["index".into()],
            static_root: None,
            sources: fingerprint(project).unwrap(),
        }
    }

    #[test]
    fn a_fresh_build_passes_and_a_changed_source_is_named() {
        let (_dir, project) = project();
        let sources = fingerprint(&project).unwrap();
        assert_eq!(
            sources.keys().collect::<Vec<_>>(),
            ["rxconfig.py", "shop/shop.py"]
        );
        stamp(&project).write(&project.root).unwrap();
        assert!(Stamp::current(&project).is_ok());

        std::fs::write(project.root.join("shop/shop.py"), "app = 2\n").unwrap();
        let error = Stamp::current(&project).unwrap_err();
        assert!(
            error.message().contains("shop/shop.py changed"),
            "{}",
            error.message()
        );
        assert!(error.hint_text().unwrap().contains("reflex-django build"));

        std::fs::create_dir(project.root.join("assets")).unwrap();
        // What Reflex links into assets/external while it compiles does not count.
        std::fs::create_dir_all(project.root.join("assets/external/pkg")).unwrap();
        std::fs::write(project.root.join("assets/external/pkg/x.css"), "a{}").unwrap();
        let error = Stamp::current(&project).unwrap_err();
        assert_eq!(
            error.message(),
            "the production build is stale: shop/shop.py changed since `reflex-django build`"
        );
        std::fs::write(project.root.join("assets/logo.svg"), "<svg/>").unwrap();
        let error = Stamp::current(&project).unwrap_err();
        assert!(
            error.message().contains("and 1 more file"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn no_build_says_to_build() {
        let (_dir, project) = project();
        let error = Stamp::current(&project).unwrap_err();
        assert!(
            error.message().contains("no production build"),
            "{}",
            error.message()
        );
        assert!(error.hint_text().unwrap().contains("reflex-django build"));
    }
}
