//! `reflex-django init`: the files it writes, what it refuses, and that the project it
//! makes works with real Django.

use std::path::Path;

use crate::common::{Ran, Test};

/// `init args…` in `dir`, expecting exit status `status`.
fn init(dir: &Path, args: &[&str], status: i32) -> Ran {
    Test::new(dir)
        .arg("init")
        .args(args)
        .venv()
        .status(status)
        .run()
}

fn files_under(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out.sort();
    out
}

#[test]
fn writes_the_project_files() {
    let tmp = tempfile::tempdir().unwrap();
    init(tmp.path(), &["my-site", "--no-install"], 0);
    let root = tmp.path().join("my-site");
    insta::assert_snapshot!("file_list", files_under(&root).join("\n"));
    insta::assert_snapshot!(
        "reflex_django_yaml",
        std::fs::read_to_string(root.join("reflex-django.yaml")).unwrap()
    );
    insta::assert_snapshot!(
        "rxconfig_py",
        std::fs::read_to_string(root.join("rxconfig.py")).unwrap()
    );
    // The secret key is fresh, private, and not in the example.
    let env = std::fs::read_to_string(root.join(".env")).unwrap();
    let key = env
        .lines()
        .find_map(|l| l.strip_prefix("SECRET_KEY='")?.strip_suffix('\''))
        .unwrap();
    assert_eq!(key.len(), 50);
    assert!(
        !std::fs::read_to_string(root.join(".env.example"))
            .unwrap()
            .contains(key)
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &str| {
        std::fs::metadata(root.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(".env"), 0o600);
    assert_eq!(mode("manage.py"), 0o755);
    assert_eq!(mode("rxconfig.py"), 0o644);
}

#[test]
fn the_generated_config_is_the_documented_defaults() {
    let tmp = tempfile::tempdir().unwrap();
    init(tmp.path(), &["blog", "--no-install"], 0);
    let project = reflex_django::project::Project::at(&tmp.path().join("blog"));
    let resolved = reflex_django::config::load_with_env(&project, &[], &|_| None).unwrap();
    let defaults = reflex_django::config::Config::default();
    let expected = reflex_django::config::Config {
        settings_module: Some("backend.settings".into()),
        prefixes: reflex_django::config::Prefixes {
            backend: resolved.config.prefixes.backend.clone(),
            ..defaults.prefixes.clone()
        },
        ..defaults
    };
    assert_eq!(resolved.config, expected);
    assert_eq!(expected.prefixes.backend.unwrap().0.as_str(), "/api");
}

#[test]
fn refuses_a_non_empty_directory_without_force_and_never_deletes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("blog");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("mine.txt"), "keep me").unwrap();
    std::fs::write(root.join("README.md"), "my readme").unwrap();
    std::fs::write(root.join(".env"), "SECRET_KEY=mine\n").unwrap();

    let out = init(tmp.path(), &["blog", "--no-install"], 2);
    assert!(out.stderr.contains("is not empty"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("hint: choose a new directory, or pass --force")
    );
    assert_eq!(
        std::fs::read_to_string(root.join("README.md")).unwrap(),
        "my readme"
    );
    assert!(
        !root.join("manage.py").exists(),
        "nothing written on refusal"
    );

    let out = init(tmp.path(), &["blog", "--no-install", "--force"], 0);
    assert_eq!(
        std::fs::read_to_string(root.join("mine.txt")).unwrap(),
        "keep me"
    );
    assert!(
        std::fs::read_to_string(root.join("README.md"))
            .unwrap()
            .contains("reflex-django init")
    );
    // The secret key is the user's: never replaced.
    assert_eq!(
        std::fs::read_to_string(root.join(".env")).unwrap(),
        "SECRET_KEY=mine\n"
    );
    assert!(out.stderr.contains("1 replaced"), "{}", out.stderr);
}

#[test]
fn bad_names_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, message) in [
        (
            &["x", "--name", "my-app"][..],
            "`my-app` (--name) is not a valid Python package name",
        ),
        (
            &["x", "--name", "django"][..],
            "`django` (--name) would shadow the `django` module",
        ),
        (
            &["x", "--django-project", "import"][..],
            "`import` (--django-project) is a Python keyword",
        ),
        (
            &["x", "--name", "web", "--django-project", "web"][..],
            "would both be `web`",
        ),
        (&["123"][..], "`app_123`"),
    ] {
        let args = [args, &["--no-install"]].concat();
        if message.starts_with("`app_") {
            // A directory name that is not an identifier is made into one.
            init(tmp.path(), &args, 0);
            assert!(tmp.path().join("123/app_123/app_123.py").is_file());
            continue;
        }
        let out = init(tmp.path(), &args, 2);
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("hint:"));
        assert!(!tmp.path().join("x").exists());
    }
}

/// With install: the active venv (which has everything) is reused, the database is
/// migrated, a superuser made; then the project passes `check` and its own tests.
#[test]
fn the_generated_project_works() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Test::new(tmp.path())
        .args(["init", "blog", "--superuser", "ada"])
        .venv()
        .env("DJANGO_SUPERUSER_PASSWORD", "correct horse battery")
        .run();
    assert!(out.stderr.contains("reusing"), "{}", out.stderr);
    let root = tmp.path().join("blog");
    let run = |args: &[&str]| {
        let out = Test::new(&root).args(args).venv().run();
        format!("{}{}", out.stdout, out.stderr)
    };
    assert!(run(&["check"]).contains("no issues"));
    assert!(run(&["makemigrations", "--check", "--dry-run"]).contains("No changes detected"));
    let tests = run(&["test", "notes"]);
    assert!(
        tests.contains("Ran 2 tests") && tests.contains("OK"),
        "{tests}"
    );
    let users = run(&[
        "shell",
        "-c",
        "from django.contrib.auth.models import User; print(list(User.objects.values_list('username', 'is_superuser')))",
    ]);
    assert!(users.contains("[('ada', True)]"), "{users}");
}
