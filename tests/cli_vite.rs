//! `reflex-django vite patch` through the real binary.

use std::os::unix::fs::MetadataExt;

use assert_cmd::Command;
use predicates::prelude::*;

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

fn cmd(dir: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("reflex-django").unwrap();
    cmd.current_dir(dir)
        .env_remove("REFLEX_DJANGO_PROXY_PORT")
        .env("REFLEX_DJANGO_PREFIXES_STATIC", "/assets/")
        .args(["vite", "patch"]);
    cmd
}

#[test]
fn filters_stdin_to_stdout_with_the_projects_rules() {
    let dir = project();
    let out = cmd(dir.path()).write_stdin(CONFIG).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
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
        .write_stdin("export default { build: {} };")
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            predicate::str::contains("no `server: { … }` object")
                .and(predicate::str::contains("hint:")),
        );
}

#[test]
fn patches_a_file_in_place_only_when_it_changes() {
    let dir = project();
    let file = dir.path().join("vite.config.js");
    std::fs::write(&file, CONFIG).unwrap();
    cmd(dir.path())
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::starts_with("patched"));
    let patched = std::fs::read_to_string(&file).unwrap();
    assert!(patched.contains(reflex_django::vite::BEGIN));
    let before = std::fs::metadata(&file).unwrap();
    cmd(dir.path())
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains("already"));
    let after = std::fs::metadata(&file).unwrap();
    assert_eq!(
        (before.ino(), before.mtime_nsec()),
        (after.ino(), after.mtime_nsec())
    );

    cmd(dir.path())
        .arg(dir.path().join("missing.js"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does not exist"));
}
