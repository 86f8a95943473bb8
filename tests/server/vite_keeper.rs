//! The keeper re-applies the patch when the file is (re)written, and leaves an
//! already patched file alone.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reflex_django::vite::{self, KeeperEvent, ViteRules};

const CONFIG: &str =
    "export default defineConfig(() => ({\n  server: {\n    port: 3000,\n  },\n}));\n";

fn rules() -> ViteRules {
    ViteRules {
        patterns: vec!["^/admin(?:[/?#]|$)".into()],
        target: "http://127.0.0.1:8000".into(),
    }
}

/// Waits until the file holds the patched config; returns how long that took.
fn wait_patched(path: &Path, since: Instant) -> Duration {
    let expected = vite::patch(CONFIG, &rules()).unwrap();
    loop {
        if std::fs::read_to_string(path).is_ok_and(|text| text == expected) {
            return since.elapsed();
        }
        // A generous bound: the times are printed, and `bench` measures them.
        assert!(
            since.elapsed() < Duration::from_secs(20),
            "not re-patched within 20s"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Writes the way Reflex does (`Path.write_text`: truncate, then write in place).
fn reflex_writes(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

fn identity(path: &Path) -> (u64, i64, i64) {
    let meta = std::fs::metadata(path).unwrap();
    (meta.ino(), meta.mtime(), meta.mtime_nsec())
}

#[test]
fn keeps_the_patch_across_rewrites_and_does_not_touch_a_patched_file() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join(".web");
    let path = web.join("vite.config.js");
    let (events_tx, events) = mpsc::channel();
    let keeper = vite::spawn_keeper(path.clone(), rules(), move |event| {
        let _ = events_tx.send(event);
    })
    .unwrap();

    // Neither .web nor the file exist yet.
    std::thread::sleep(Duration::from_millis(100));
    std::fs::create_dir(&web).unwrap();
    let start = Instant::now();
    reflex_writes(&path, CONFIG);
    let first = wait_patched(&path, start);

    // Every recompile rewrites the file.
    let mut latencies = vec![first];
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(150));
        let start = Instant::now();
        reflex_writes(&path, CONFIG);
        latencies.push(wait_patched(&path, start));
    }
    eprintln!("re-patched after {latencies:?}");
    assert!(matches!(
        events.recv_timeout(Duration::from_secs(1)),
        Ok(KeeperEvent::Patched)
    ));

    // Already patched: other files change, ticks pass, the file stays the same inode
    // with the same mtime (no write, so Vite does not restart).
    std::thread::sleep(Duration::from_millis(200));
    let before = identity(&path);
    std::fs::write(web.join("other.js"), "x").unwrap();
    std::thread::sleep(Duration::from_millis(1300));
    assert_eq!(identity(&path), before);

    // .web deleted and created again (a fresh `reflex init`): still kept.
    std::fs::remove_dir_all(&web).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    std::fs::create_dir(&web).unwrap();
    let start = Instant::now();
    reflex_writes(&path, CONFIG);
    wait_patched(&path, start);
    keeper.stop();
}

#[test]
fn reports_a_file_it_cannot_patch_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vite.config.js");
    std::fs::write(&path, "export default { build: {} };").unwrap();
    let (events_tx, events) = mpsc::channel();
    let keeper = vite::spawn_keeper(path.clone(), rules(), move |event| {
        let _ = events_tx.send(event);
    })
    .unwrap();
    match events.recv_timeout(Duration::from_secs(2)) {
        Ok(KeeperEvent::Failed(error)) => assert!(error.message().contains("no `server")),
        other => panic!("expected a failure report, got {other:?}"),
    }
    // Not again for the same text, even after a tick.
    assert!(events.recv_timeout(Duration::from_millis(1500)).is_err());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "export default { build: {} };"
    );
    drop(keeper);
}
