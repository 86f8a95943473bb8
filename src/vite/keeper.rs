//! The keeper: re-applies the patch whenever Reflex rewrites `vite.config.js`.
//!
//! Reflex regenerates the file on every compile, so a patch written once is lost on
//! the next hot reload. The keeper watches the file's directory (or, until it exists,
//! the nearest existing ancestor) and re-patches shortly after each write. It runs on
//! a thread of its own: the work is a small blocking read and rename, and a thread
//! keeps it independent of whichever async runtime `run` uses.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};

use super::file::{Outcome, patch_file};
use super::rules::ViteRules;
use crate::error::Error;

/// Quiet time after the last event before the file is read: Reflex's truncate and
/// write come as separate events, and reading between them would see half a file.
const SETTLE: Duration = Duration::from_millis(20);
/// Longest wait for quiet, so a stream of unrelated events cannot delay the patch.
const SETTLE_MAX: Duration = Duration::from_millis(80);
/// Safety net: look again this often even without events (a missed event, a
/// directory deleted and created again).
const TICK: Duration = Duration::from_secs(1);

/// What the keeper did; `run` decides what to show.
#[derive(Debug)]
pub enum KeeperEvent {
    /// The file was rewritten with the rules.
    Patched,
    /// The file cannot be patched (reported once per distinct file content).
    Failed(Error),
}

/// The running keeper; dropping it stops the thread.
pub struct Keeper {
    wake: mpsc::Sender<Wake>,
    thread: Option<JoinHandle<()>>,
}

enum Wake {
    Changed,
    Stop,
}

/// Starts keeping the patch in `path` (usually `<root>/.web/vite.config.js`). Neither
/// the file nor its directory need exist yet. `report` is called from the keeper's
/// thread.
pub fn spawn_keeper(
    path: PathBuf,
    rules: ViteRules,
    report: impl Fn(KeeperEvent) + Send + 'static,
) -> crate::error::Result<Keeper> {
    let (wake, woken) = mpsc::channel();
    let events = wake.clone();
    let target = path.clone();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // A change to the file, or to a directory on the way to it (`.web` created).
        // Reads are not changes: our own reads would wake us forever.
        let relevant = event.map_or(true, |e| {
            !matches!(e.kind, notify::EventKind::Access(_))
                && e.paths.iter().any(|p| p == &target || target.starts_with(p))
        });
        if relevant {
            let _ = events.send(Wake::Changed);
        }
    })
    .map_err(|e| {
        Error::new("cannot watch .web/vite.config.js for Reflex's rewrites")
            .cause(e)
            .hint("raise fs.inotify.max_user_instances, or patch by hand with `reflex-django vite patch`")
    })?;
    let thread = std::thread::Builder::new()
        .name("vite-keeper".into())
        .spawn(move || keep(path, rules, report, watcher, woken))
        .map_err(|e| Error::new("cannot start the vite.config.js keeper").cause(e))?;
    Ok(Keeper {
        wake,
        thread: Some(thread),
    })
}

impl Keeper {
    /// Stops the keeper and waits for its thread to end.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.wake.send(Wake::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn keep(
    path: PathBuf,
    rules: ViteRules,
    report: impl Fn(KeeperEvent),
    mut watcher: RecommendedWatcher,
    woken: mpsc::Receiver<Wake>,
) {
    let mut watched: Option<(PathBuf, u64)> = None;
    // The text that last failed to patch, and whether that was reported.
    let mut failed: Option<(String, bool)> = None;
    loop {
        rewatch(&mut watcher, &path, &mut watched);
        match patch_file(&path, &rules) {
            Ok(outcome) => {
                failed = None;
                if outcome == Outcome::Patched {
                    report(KeeperEvent::Patched);
                }
            }
            Err(error) => {
                // A first failure may be a half-written file: look again soon, and
                // report only when the same text fails twice (once per text).
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                match &mut failed {
                    Some((seen, reported)) if *seen == text => {
                        if !*reported {
                            *reported = true;
                            report(KeeperEvent::Failed(error));
                        }
                    }
                    _ => {
                        failed = Some((text, false));
                        if quiet(&woken, SETTLE_MAX * 2, SETTLE_MAX * 2).is_err() {
                            return;
                        }
                        continue;
                    }
                }
            }
        }
        match woken.recv_timeout(TICK) {
            Ok(Wake::Changed) => {
                if quiet(&woken, SETTLE, SETTLE_MAX).is_err() {
                    return;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Waits until no event came for `gap`, at most `max` in all; `Err` when stopped.
fn quiet(woken: &mpsc::Receiver<Wake>, gap: Duration, max: Duration) -> Result<(), Stopped> {
    let deadline = Instant::now() + max;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        match woken.recv_timeout(gap.min(left)) {
            Ok(Wake::Changed) => continue,
            Err(RecvTimeoutError::Timeout) => return Ok(()),
            Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected) => return Err(Stopped),
        }
    }
}

struct Stopped;

/// Watches the file's directory, or the nearest ancestor that exists. A directory
/// deleted and created again is a new inode, which needs a new watch.
fn rewatch(watcher: &mut RecommendedWatcher, path: &Path, watched: &mut Option<(PathBuf, u64)>) {
    let Some(dir) = path
        .parent()
        .into_iter()
        .flat_map(Path::ancestors)
        .find_map(|dir| Some((dir.to_path_buf(), std::fs::metadata(dir).ok()?.ino())))
    else {
        return;
    };
    if watched.as_ref() == Some(&dir) {
        return;
    }
    if let Some((old, _)) = watched.take() {
        let _ = watcher.unwatch(&old);
    }
    if watcher.watch(&dir.0, RecursiveMode::NonRecursive).is_ok() {
        *watched = Some(dir);
    }
}
