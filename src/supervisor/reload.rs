//! Restart on file change: a debounced watch of a child's files.
//!
//! Directories are watched one by one, not recursively: a recursive watch of a project
//! root would put an inotify watch on every directory of `node_modules/` and `.venv/`
//! (tens of thousands) before any ignore pattern is applied. We walk the tree ourselves,
//! skip ignored directories, and add directories created later as they appear.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify_debouncer_full::notify::event::{CreateKind, MetadataKind, ModifyKind};
use notify_debouncer_full::notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, new_debouncer};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::spec::Watch;
use crate::error::{Error, Result};

/// Editors save in bursts (write a temporary file, rename, touch): one restart per save.
const DEBOUNCE: Duration = Duration::from_millis(250);

/// Watches while it lives.
pub struct Reloader {
    task: JoinHandle<()>,
}

impl Drop for Reloader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Calls `changed` with the first relevant path of each burst of changes.
pub fn start(watch: Watch, changed: impl Fn(PathBuf) + Send + 'static) -> Result<Reloader> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut debouncer = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
        let _ = tx.send(result);
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
        for dir in watchable(root, &watch) {
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
    let task = tokio::spawn(async move {
        while let Some(result) = rx.recv().await {
            // Errors of the watcher (a watched directory removed, a full queue) are
            // not worth stopping for: the next save is seen again.
            let Ok(events) = result else { continue };
            let mut first = None;
            for event in &events {
                if event.kind == EventKind::Create(CreateKind::Folder) {
                    for path in &event.paths {
                        for dir in watchable(path, &watch) {
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
                if first.is_none() {
                    first = event.paths.iter().find(|p| watch.counts(p)).cloned();
                }
            }
            if let Some(path) = first {
                changed(relative(path));
            }
        }
    });
    Ok(Reloader { task })
}

/// `root` (a file, or a directory and its subdirectories) minus ignored directories.
fn watchable(root: &Path, watch: &Watch) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        if watch.ignores(&path) {
            continue;
        }
        if let Ok(entries) = std::fs::read_dir(&path) {
            stack.extend(
                entries
                    .flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path()),
            );
        }
        found.push(path);
    }
    found
}

/// Shorter in messages: `backend/views.py changed`.
fn relative(path: PathBuf) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or(path)
}

impl Watch {
    /// Whether a change of `path` should restart the child.
    pub fn counts(&self, path: &Path) -> bool {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        !self.ignores(path)
            && (self.include.is_empty() || self.include.iter().any(|p| glob(p, name)))
    }

    /// Whether `path` is ignored by a pattern (see [`Watch::ignore`]).
    pub fn ignores(&self, path: &Path) -> bool {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        self.ignore.iter().any(|pattern| {
            if let Some(dir) = pattern.strip_suffix('/') {
                path.components().any(|c| c.as_os_str() == dir)
            } else if pattern.starts_with('/') {
                path.starts_with(pattern)
            } else {
                glob(pattern, name)
            }
        })
    }
}

/// `*` is any run of characters, `?` any one character.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Classic two-pointer matcher with backtracking to the last `*`.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("*.py", "views.py"));
        assert!(!glob("*.py", "views.pyc"));
        assert!(glob("db.sqlite3*", "db.sqlite3-journal"));
        assert!(glob("?b*c", "abxxc"));
        assert!(!glob("?b*c", "abxxd"));
        assert!(glob("*", ""));
    }

    fn django_watch(root: &Path) -> Watch {
        Watch {
            paths: vec![root.to_path_buf()],
            include: vec!["*.py".into()],
            ignore: vec![
                "__pycache__/".into(),
                "node_modules/".into(),
                "*.sqlite3".into(),
                root.join("reflex_app").display().to_string(),
            ],
        }
    }

    #[test]
    fn patterns_select_what_counts() {
        let w = django_watch(Path::new("/p"));
        assert!(w.counts(Path::new("/p/backend/views.py")));
        assert!(!w.counts(Path::new("/p/backend/__pycache__/views.py")));
        assert!(!w.counts(Path::new("/p/backend/notes.txt")));
        assert!(!w.counts(Path::new("/p/db.sqlite3")));
        assert!(!w.counts(Path::new("/p/reflex_app/state.py")));
        assert!(w.counts(Path::new("/p/reflex_app_other/state.py")));
    }

    #[test]
    fn ignored_directories_are_not_walked() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["backend/app", "node_modules/x/y", "reflex_app"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let mut dirs = watchable(dir.path(), &django_watch(dir.path()));
        dirs.sort();
        let root = dir.path().to_path_buf();
        assert_eq!(
            dirs,
            vec![root.clone(), root.join("backend"), root.join("backend/app")]
        );
    }

    #[tokio::test]
    async fn a_saved_file_is_reported_once_ignored_ones_never() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("backend")).unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let _reloader = start(django_watch(dir.path()), move |p| {
            let _ = tx.send(p);
        })
        .unwrap();
        std::fs::write(dir.path().join("db.sqlite3"), "x").unwrap();
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
    }
}
