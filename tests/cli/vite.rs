//! `reflex-django vite patch` through the real binary.

use std::os::unix::fs::MetadataExt;

use crate::common::Test;

const CONFIG: &str =
    "export default defineConfig(() => ({\n  server: {\n    port: 3000,\n  },\n}));\n";

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("reflex-django.yaml"),
        "prefixes:\n  backend: /api\nproxy:\n  port: 8123\n",
    )
    .unwrap();
    dir
}

fn cmd(dir: &std::path::Path) -> Test {
    Test::new(dir)
        .env("REFLEX_DJANGO_PREFIXES_STATIC", "/assets/")
        .args(["vite", "patch"])
}

#[test]
fn filters_stdin_to_stdout_with_the_projects_rules() {
    let dir = project();
    let text = cmd(dir.path()).stdin(CONFIG).run().stdout;
    for prefix in ["/admin", "/assets", "/api", "/_reflex_django"] {
        let entry =
            format!("\"^{prefix}(?:[/?#]|$)\": {{ target: \"http://127.0.0.1:8123\", ws: true }}");
        assert!(text.contains(&entry), "{entry} missing from:\n{text}");
    }
    assert_eq!(reflex_django::vite::strip(&text).unwrap(), CONFIG);
}

#[test]
fn an_unpatchable_file_is_an_error_with_a_hint_and_no_output() {
    let dir = project();
    cmd(dir.path())
        .stdin("export default { build: {} };")
        .status(2)
        .stdout("")
        .stderr_has("no `server: { … }` object")
        .stderr_has("hint:")
        .run();
}

#[test]
fn patches_a_file_in_place_only_when_it_changes() {
    let dir = project();
    let file = dir.path().join("vite.config.js");
    std::fs::write(&file, CONFIG).unwrap();
    cmd(dir.path()).arg(&file).stdout_has("patched").run();
    let patched = std::fs::read_to_string(&file).unwrap();
    assert!(patched.contains(reflex_django::vite::BEGIN));
    let before = std::fs::metadata(&file).unwrap();
    cmd(dir.path()).arg(&file).stdout_has("already").run();
    let after = std::fs::metadata(&file).unwrap();
    assert_eq!(
        (before.ino(), before.mtime_nsec()),
        (after.ino(), after.mtime_nsec())
    );

    cmd(dir.path())
        .arg(dir.path().join("missing.js"))
        .status(2)
        .stderr_has("does not exist")
        .run();
}

/// Without `prefixes.static`, the static prefix comes from Django's `STATIC_URL`.
#[test]
fn asks_django_for_the_static_prefix_when_it_is_not_configured() {
    let python = crate::common::python();
    let dir = project();
    std::fs::write(
        dir.path().join("manage.py"),
        "import os\nos.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"mysite.settings\")\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("mysite")).unwrap();
    std::fs::write(dir.path().join("mysite/__init__.py"), "").unwrap();
    std::fs::write(
        dir.path().join("mysite/settings.py"),
        "SECRET_KEY = \"x\"\nINSTALLED_APPS = []\nSTATIC_URL = \"/assets-from-django/\"\n",
    )
    .unwrap();
    let text = cmd(dir.path())
        .env_remove("REFLEX_DJANGO_PREFIXES_STATIC")
        .arg("--python")
        .arg(&python)
        .stdin(CONFIG)
        .run()
        .stdout;
    assert!(
        text.contains("\"^/assets-from-django(?:[/?#]|$)\""),
        "{text}"
    );

    // Settings that do not load: an error that says so, and nothing on stdout.
    std::fs::write(
        dir.path().join("mysite/settings.py"),
        "raise RuntimeError('boom')\n",
    )
    .unwrap();
    cmd(dir.path())
        .env_remove("REFLEX_DJANGO_PREFIXES_STATIC")
        .arg("--python")
        .arg(&python)
        .stdin(CONFIG)
        .status(2)
        .stdout("")
        .stderr_has("RuntimeError: boom")
        .stderr_has("hint:")
        .run();
}

#[test]
fn target_sends_the_projects_prefixes_elsewhere() {
    let dir = project();
    let text = cmd(dir.path())
        .args(["--target", "http://127.0.0.1:8311/"])
        .stdin(CONFIG)
        .run()
        .stdout;
    for prefix in ["/admin", "/assets", "/api", "/_reflex_django"] {
        let entry =
            format!("\"^{prefix}(?:[/?#]|$)\": {{ target: \"http://127.0.0.1:8311\", ws: true }}");
        assert!(text.contains(&entry), "{entry} missing from:\n{text}");
    }
    assert!(!text.contains("8123"), "{text}");
}

#[test]
fn given_prefixes_replace_the_projects_without_reading_it() {
    // No project at all: the rules come from the flags alone.
    let dir = tempfile::tempdir().unwrap();
    let text = Test::new(dir.path())
        .args(["vite", "patch", "--target", "http://127.0.0.1:9"])
        .args(["--prefix", "billing/", "--prefix=/admin"])
        .stdin(CONFIG)
        .run()
        .stdout;
    let keys: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("\"^"))
        .map(|l| l.split('(').next().unwrap())
        .collect();
    assert_eq!(keys, ["/billing", "/admin", "/_reflex_django"], "{text}");
}

#[test]
fn bad_targets_and_prefixes_are_errors_with_hints() {
    let dir = project();
    for (args, problem) in [
        (
            vec!["--target", "localhost:8000"],
            "is not an http(s) origin",
        ),
        (
            vec!["--target", "http://x/path"],
            "is not an http(s) origin",
        ),
        (vec!["--prefix", "/admin"], "--prefix needs --target"),
        (
            vec!["--target", "http://x:1", "--prefix", "/_event/x"],
            "collides with Reflex's reserved path",
        ),
    ] {
        cmd(dir.path())
            .args(&args)
            .stdin(CONFIG)
            .status(2)
            .stdout("")
            .stderr_has(problem)
            .stderr_has("hint:")
            .run();
    }
}

#[test]
fn remove_takes_the_rules_out_without_reading_the_project() {
    let dir = project();
    let patched = cmd(dir.path()).stdin(CONFIG).run().stdout;
    let empty = tempfile::tempdir().unwrap();
    Test::new(empty.path())
        .args(["vite", "patch", "--remove"])
        .stdin(&patched)
        .stdout(CONFIG)
        .run();
    // In place, written only when there was something to remove.
    let file = dir.path().join("vite.config.js");
    std::fs::write(&file, &patched).unwrap();
    for expected in ["removed the rules from", "has no rules"] {
        Test::new(empty.path())
            .args(["vite", "patch", "--remove"])
            .arg(&file)
            .stdout_has(expected)
            .run();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), CONFIG);
    }
    cmd(dir.path())
        .args(["--remove", "--target", "http://x:1"])
        .stdin(CONFIG)
        .status(2)
        .stderr_has("cannot be used with")
        .run();
}
