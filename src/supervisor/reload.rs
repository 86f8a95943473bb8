//! Restart on file change: a debounced watch of a child's files.
//!
//! Directories are watched one by one, not recursively: a recursive watch of a project
//! root would put an inotify watch on every directory of `node_modules/` and `.venv/`
//! (tens of thousands) before any ignore pattern is applied. We walk the tree ourselves
//! (with the `ignore` crate's walker), never entering a directory that the watch's
//! patterns or the project's `.gitignore` files ignore, and add directories created
//! later as they appear.
//!
//! Patterns (globs, `**` spans directories) are matched against the path below the
//! watched directory: one without a `/` against a name at any depth (`*.py`,
//! `__pycache__/`), one with a `/` from the watched directory down
//! (`templates/**/*.html`); an absolute path is that path and everything below it. An
//! ignored directory ignores everything below it. `.gitignore` files are read from the
//! watched trees and, inside a git repository, the directories above them up to its
//! root, as git reads them; one that changes is read again.
//!
//! [`start`] walks the trees once, on the caller's thread, to report a path that does
//! not exist or a full inotify table before the child runs (the supervisor calls it
//! outside the async runtime's scheduling, in `block_in_place`). After that, events
//! are handled on a thread of their own, not on the async runtime: a new directory is
//! walked and `.gitignore` files are read there.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use ignore::WalkBuilder;
use ignore::gitignore::Gitignore;
use notify_debouncer_full::notify::event::{CreateKind, MetadataKind, ModifyKind};
use notify_debouncer_full::notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, new_debouncer};
use std::sync::mpsc;

use super::spec::Watch;
use crate::error::{Error, Result};

/// Editors save in bursts (write a temporary file, rename, touch): one restart per save.
const DEBOUNCE: Duration = Duration::from_millis(250);

/// Watches while it lives.
pub struct Reloader {
    stop: mpsc::Sender<Message>,
}

impl Drop for Reloader {
    fn drop(&mut self) {
        let _ = self.stop.send(Message::Stop);
    }
}

enum Message {
    Events(DebounceEventResult),
    Stop,
}

/// Calls `changed` with the first relevant path of each burst of changes.
pub fn start(watch: Watch, changed: impl Fn(PathBuf) + Send + 'static) -> Result<Reloader> {
    let mut rules = Rules::new(&watch)?;
    let (stop, rx) = mpsc::channel();
    let events = stop.clone();
    let mut debouncer = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
        let _ = events.send(Message::Events(result));
    })
    .map_err(|e| Error::new("cannot watch files for changes").cause(e))?;
    for root in &watch.paths {
        if !root.exists() {
            return Err(Error::new(format!(
                "cannot watch {}: it does not exist",
                root.display()
            ))
            .hint("fix the path in the watch list (django.watch in reflex-django.yaml)"));
        }
        for dir in rules.watchable(root) {
            debouncer
                .watch(&dir, RecursiveMode::NonRecursive)
                .map_err(|e| {
                    Error::new(format!("cannot watch {}", dir.display()))
                        .cause(e)
                        .hint(
                            "raise the inotify limit (sysctl fs.inotify.max_user_watches) or \
                             watch fewer directories",
                        )
                })?;
        }
    }
    let handle_events = move || {
        // The debouncer lives, and watches, as long as this loop runs.
        while let Ok(Message::Events(result)) = rx.recv() {
            // Errors of the watcher (a watched directory removed, a full queue) are
            // not worth stopping for: the next save is seen again.
            let Ok(events) = result else { continue };
            let mut first = None;
            for event in &events {
                if event.kind == EventKind::Create(CreateKind::Folder) {
                    for path in &event.paths {
                        if rules.ignores(path, true) {
                            continue;
                        }
                        for dir in rules.watchable(path) {
                            let _ = debouncer.watch(&dir, RecursiveMode::NonRecursive);
                        }
                    }
                    continue;
                }
                // A `touch` counts, as it does for Django's runserver and Reflex's own
                // reloader: one rule for both children. Reading a file does not.
                if matches!(
                    event.kind,
                    EventKind::Access(_)
                        | EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime))
                ) {
                    continue;
                }
                for path in &event.paths {
                    if path.file_name().is_some_and(|n| n == ".gitignore")
                        && let Some(dir) = path.parent()
                    {
                        rules.read_gitignore(dir);
                    }
                }
                if first.is_none() {
                    first = event.paths.iter().find(|p| rules.counts(p)).cloned();
                }
            }
            if let Some(path) = first {
                changed(relative(path));
            }
        }
        drop(debouncer);
    };
    std::thread::Builder::new()
        .name("reload".into())
        .spawn(handle_events)
        .map_err(|e| Error::new("cannot start the file watch's thread").cause(e))?;
    Ok(Reloader { stop })
}

/// Shorter in messages: `backend/views.py changed`.
fn relative(path: PathBuf) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or(path)
}

/// What a watch counts and what it skips.
struct Rules {
    patterns: Arc<Patterns>,
    /// The `.gitignore` files read so far, the deepest directory first (a deeper file
    /// overrides the ones above it).
    gitignores: Vec<Gitignore>,
    /// Whether a watched tree is inside a git repository, whose `.gitignore` files
    /// above it then count too.
    in_repository: bool,
}

/// The watch's own patterns, compiled.
struct Patterns {
    /// The directories the patterns are anchored at: each watched directory, and the
    /// directory of each watched file.
    bases: Vec<PathBuf>,
    /// What counts; everything when `None`.
    include: Option<GlobSet>,
    ignore: GlobSet,
    /// The absolute paths ignored, with everything below them.
    ignore_under: Vec<PathBuf>,
}

impl Rules {
    fn new(watch: &Watch) -> Result<Rules> {
        let (absolute, relative): (Vec<&String>, Vec<&String>) =
            watch.ignore.iter().partition(|p| p.starts_with('/'));
        let bases: Vec<PathBuf> = watch
            .paths
            .iter()
            .map(|p| match p.parent() {
                Some(parent) if p.is_file() => parent.to_path_buf(),
                _ => p.clone(),
            })
            .collect();
        let mut rules = Rules {
            patterns: Arc::new(Patterns {
                include: (!watch.include.is_empty())
                    .then(|| globs(&watch.include, false))
                    .transpose()?,
                ignore: globs(&relative, true)?,
                ignore_under: absolute.into_iter().map(PathBuf::from).collect(),
                bases: bases.clone(),
            }),
            gitignores: Vec::new(),
            in_repository: false,
        };
        // The `.gitignore` files above the watched trees, up to the repository's root
        // (outside a repository, none: a stray one higher up must not silence the
        // project); those inside are read as the trees are walked.
        for base in &bases {
            let Some(repository) = base.ancestors().find(|dir| dir.join(".git").exists()) else {
                continue;
            };
            rules.in_repository = true;
            for dir in base.ancestors() {
                rules.read_gitignore(dir);
                if dir == repository {
                    break;
                }
            }
        }
        Ok(rules)
    }

    /// Whether a change of `path` should restart the child.
    fn counts(&self, path: &Path) -> bool {
        !self.ignores(path, path.is_dir())
            && self
                .patterns
                .include
                .as_ref()
                .is_none_or(|set| set.is_match(self.patterns.below_base(path)))
    }

    /// Whether `path` is ignored by a pattern or a `.gitignore`.
    fn ignores(&self, path: &Path, is_dir: bool) -> bool {
        if self.patterns.ignores(path) {
            return true;
        }
        for gitignore in &self.gitignores {
            if !path.starts_with(gitignore.path()) || path == gitignore.path() {
                continue;
            }
            let found = gitignore.matched(path, is_dir);
            if found.is_ignore() || found.is_whitelist() {
                return found.is_ignore();
            }
        }
        false
    }

    /// `root` (a file, or a directory and its subdirectories) minus ignored
    /// directories, which are not entered. The `.gitignore` files found are kept.
    fn watchable(&mut self, root: &Path) -> Vec<PathBuf> {
        let patterns = Arc::clone(&self.patterns);
        let walk = WalkBuilder::new(root)
            .standard_filters(false)
            .git_ignore(true)
            .parents(self.in_repository)
            .require_git(false)
            .filter_entry(move |entry| !patterns.ignores(entry.path()))
            .build();
        let mut found = Vec::new();
        for entry in walk.flatten() {
            if entry.depth() == 0 || entry.file_type().is_some_and(|t| t.is_dir()) {
                found.push(entry.into_path());
            } else if entry.file_name() == ".gitignore"
                && let Some(dir) = entry.path().parent()
            {
                self.read_gitignore(dir);
            }
        }
        found
    }

    /// (Re)reads `dir/.gitignore`, or forgets it once it is gone.
    fn read_gitignore(&mut self, dir: &Path) {
        self.gitignores.retain(|g| g.path() != dir);
        let file = dir.join(".gitignore");
        if file.is_file() {
            // A line git cannot read is skipped, as git skips it.
            let (gitignore, _) = Gitignore::new(&file);
            self.gitignores.push(gitignore);
            self.gitignores
                .sort_by_key(|g| std::cmp::Reverse(g.path().components().count()));
        }
    }
}

impl Patterns {
    fn ignores(&self, path: &Path) -> bool {
        self.ignore_under.iter().any(|p| path.starts_with(p))
            || self.ignore.is_match(self.below_base(path))
    }

    /// `path` below the deepest base it is under (itself when under none).
    fn below_base<'a>(&self, path: &'a Path) -> &'a Path {
        self.bases
            .iter()
            .filter_map(|base| path.strip_prefix(base).ok())
            .min_by_key(|rest| rest.components().count())
            .unwrap_or(path)
    }
}

/// The watch's patterns (see the module's comment) as one set; with `below`, each also
/// matches everything below what it matches.
fn globs(patterns: &[impl AsRef<str>], below: bool) -> Result<GlobSet> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        let pattern = pattern.as_ref();
        let bare = pattern.strip_suffix('/').unwrap_or(pattern);
        let anchored = if bare.contains('/') {
            bare.to_string()
        } else {
            format!("**/{bare}")
        };
        let under = format!("{anchored}/**");
        for glob in std::iter::once(&anchored).chain(below.then_some(&under)) {
            let glob = GlobBuilder::new(glob)
                .literal_separator(true)
                .build()
                .map_err(|e| {
                    Error::new(format!("the watch pattern `{pattern}` is not a valid glob"))
                        .cause(e)
                        .hint("`*` and `?` match within a name, `**` across directories")
                })?;
            set.add(glob);
        }
    }
    set.build()
        .map_err(|e| Error::new("cannot compile the watch patterns").cause(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn django_watch(root: &Path) -> Watch {
        Watch {
            paths: vec![root.to_path_buf()],
            include: vec!["*.py".into(), "templates/**/*.html".into()],
            ignore: vec![
                "__pycache__/".into(),
                "node_modules/".into(),
                "*.sqlite3".into(),
                "*.py[co]".into(),
                root.join("reflex_app").display().to_string(),
            ],
        }
    }

    fn rules(watch: &Watch) -> Rules {
        Rules::new(watch).unwrap()
    }

    #[test]
    fn patterns_select_what_counts() {
        let w = rules(&django_watch(Path::new("/p")));
        assert!(w.counts(Path::new("/p/backend/views.py")));
        assert!(w.counts(Path::new("/p/views.py")));
        assert!(!w.counts(Path::new("/p/backend/__pycache__/views.py")));
        assert!(!w.counts(Path::new("/p/backend/views.pyc")));
        assert!(!w.counts(Path::new("/p/backend/notes.txt")));
        assert!(!w.counts(Path::new("/p/db.sqlite3")));
        assert!(!w.counts(Path::new("/p/reflex_app/state.py")));
        assert!(w.counts(Path::new("/p/reflex_app_other/state.py")));
        // Names above the watched directory are not the project's: a project kept
        // under a directory called `node_modules` is still watched.
        let w = rules(&django_watch(Path::new("/srv/node_modules/p")));
        assert!(w.counts(Path::new("/srv/node_modules/p/backend/views.py")));
    }

    #[test]
    fn two_stars_span_directories_from_the_watched_one() {
        let w = rules(&django_watch(Path::new("/p")));
        assert!(w.counts(Path::new("/p/templates/index.html")));
        assert!(w.counts(Path::new("/p/templates/notes/list/item.html")));
        // Anchored at the watched directory, and `*` stays within a name.
        assert!(!w.counts(Path::new("/p/notes/templates/index.html")));
        assert!(!w.counts(Path::new("/p/index.html")));
        let deep = Watch {
            ignore: vec!["**/migrations/**/*.py".into()],
            ..django_watch(Path::new("/p"))
        };
        let w = rules(&deep);
        assert!(!w.counts(Path::new("/p/notes/migrations/0001_initial.py")));
        assert!(!w.counts(Path::new("/p/notes/migrations/old/0001_initial.py")));
        assert!(w.counts(Path::new("/p/notes/models.py")));
    }

    #[test]
    fn a_bad_pattern_is_an_error_that_names_it() {
        let bad = Watch {
            include: vec!["*.{py".into()],
            ..django_watch(Path::new("/p"))
        };
        let err = Rules::new(&bad)
            .err()
            .expect("an unclosed brace is refused");
        assert!(err.message().contains("`*.{py`"), "{err}");
        assert!(err.hint_text().is_some());
    }

    fn tree(root: &Path, dirs: &[&str], files: &[(&str, &str)]) {
        for d in dirs {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        for (f, text) in files {
            std::fs::write(root.join(f), text).unwrap();
        }
    }

    fn sorted_below(root: &Path, dirs: Vec<PathBuf>) -> Vec<String> {
        let mut dirs: Vec<String> = dirs
            .iter()
            .map(|d| d.strip_prefix(root).unwrap().display().to_string())
            .collect();
        dirs.sort();
        dirs
    }

    #[test]
    fn ignored_directories_are_not_walked() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        tree(
            root,
            &["backend/app", "node_modules/x/y", "reflex_app"],
            &[],
        );
        let mut w = rules(&django_watch(root));
        assert_eq!(
            sorted_below(root, w.watchable(root)),
            ["", "backend", "backend/app"]
        );
    }

    #[test]
    fn what_the_project_gitignores_is_neither_walked_nor_counted() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        tree(
            root,
            &[".git", "backend/generated/deep", "backend/cache", "notes"],
            &[
                (".gitignore", "generated/\n*.local.py\n!keep.local.py\n"),
                ("backend/.gitignore", "cache/\nscratch.py\n"),
            ],
        );
        // Only `backend/` is watched: the project's `.gitignore` above it still rules.
        let mut w = rules(&Watch {
            paths: vec![root.join("backend")],
            ..django_watch(root)
        });
        assert_eq!(
            sorted_below(root, w.watchable(&root.join("backend"))),
            ["backend"]
        );
        assert!(w.counts(&root.join("backend/views.py")));
        assert!(!w.counts(&root.join("backend/settings.local.py")));
        assert!(w.counts(&root.join("backend/keep.local.py")));
        assert!(!w.counts(&root.join("backend/scratch.py")));
        // A `.gitignore` that changes is read again.
        std::fs::write(root.join("backend/.gitignore"), "cache/\n").unwrap();
        w.read_gitignore(&root.join("backend"));
        assert!(w.counts(&root.join("backend/scratch.py")));
        // Above the repository's root, a `.gitignore` is not the project's.
        let outer = tempfile::tempdir().unwrap();
        tree(
            outer.path(),
            &["p/.git", "p/backend"],
            &[(".gitignore", "*.py\n")],
        );
        let w = rules(&django_watch(&outer.path().join("p")));
        assert!(w.counts(&outer.path().join("p/backend/views.py")));
        // Outside any repository, only the project's own `.gitignore` files count.
        let loose = tempfile::tempdir().unwrap();
        tree(
            loose.path(),
            &["p/backend"],
            &[
                (
                    ".gitignore",
                    "*
",
                ),
                (
                    "p/.gitignore",
                    "*.log
",
                ),
            ],
        );
        let mut w = rules(&django_watch(&loose.path().join("p")));
        assert_eq!(
            sorted_below(
                &loose.path().join("p"),
                w.watchable(&loose.path().join("p"))
            ),
            ["", "backend"]
        );
        assert!(w.counts(&loose.path().join("p/backend/views.py")));
        assert!(!w.counts(&loose.path().join("p/backend/debug.log")));
    }

    #[tokio::test]
    async fn a_saved_file_is_reported_once_ignored_ones_never() {
        let dir = tempfile::tempdir().unwrap();
        tree(
            dir.path(),
            &["backend"],
            &[(".gitignore", "generated.py\n")],
        );
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let reloader = start(django_watch(dir.path()), move |p| {
            let _ = tx.send(p);
        })
        .unwrap();
        std::fs::write(dir.path().join("db.sqlite3"), "x").unwrap();
        std::fs::write(dir.path().join("backend/generated.py"), "x = 1\n").unwrap();
        std::fs::write(dir.path().join("backend/views.py"), "a = 1\n").unwrap();
        std::fs::write(dir.path().join("backend/views.py"), "a = 2\n").unwrap();
        let changed = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
        assert_eq!(
            changed.unwrap().unwrap(),
            dir.path().join("backend/views.py")
        );
        // A new directory is watched too.
        std::fs::create_dir_all(dir.path().join("shop")).unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        std::fs::write(dir.path().join("shop/models.py"), "").unwrap();
        let changed = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
        assert_eq!(changed.unwrap().unwrap(), dir.path().join("shop/models.py"));
        let quiet = tokio::time::timeout(Duration::from_millis(600), rx.recv()).await;
        assert!(quiet.is_err(), "one report per burst: {quiet:?}");
        // Dropped, it stops: its thread ends and lets go of the callback.
        drop(reloader);
        let closed = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
        assert_eq!(closed, Ok(None));
    }
}
