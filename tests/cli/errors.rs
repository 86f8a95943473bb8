//! Every configuration and environment error: the message names the problem and the
//! hint names the fix. Snapshots of what the user actually sees on stderr.

use std::path::Path;

use crate::common::{DjangoProject, Test};

/// Runs `reflex-django args…` in `dir`, expects failure with `code`, returns stderr
/// with the temp path replaced by `[DIR]`.
fn fails(dir: &Path, args: &[&str], env: &[(&str, &str)], code: i32) -> String {
    env.iter()
        .fold(Test::new(dir).args(args), |test, (k, v)| test.env(k, v))
        .status(code)
        .run()
        .stderr_scrubbed()
}

fn project_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

const MANAGE: &str =
    "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n";

#[test]
fn malformed_yaml_points_at_line_and_column() {
    let dir = project_with(&[
        ("reflex-django.yaml", "proxy:\n  port: 8000\n\thost: x\n"),
        ("manage.py", MANAGE),
    ]);
    insta::assert_snapshot!(fails(dir.path(), &["check"], &[], 2));
}

#[test]
fn unknown_key_suggests_the_right_one() {
    let dir = project_with(&[
        ("reflex-django.yaml", "proxy:\n  prot: 8001\n"),
        ("manage.py", MANAGE),
    ]);
    insta::assert_snapshot!(fails(dir.path(), &["check"], &[], 2));
    let dir = project_with(&[("reflex-django.yaml", "setings_module: a.b\n")]);
    insta::assert_snapshot!(
        "unknown_top_level_key",
        fails(dir.path(), &["routes"], &[], 2)
    );
}

#[test]
fn wrong_type_names_the_expected_type() {
    let dir = project_with(&[("reflex-django.yaml", "restart:\n  backoff_max: soon\n")]);
    insta::assert_snapshot!(fails(dir.path(), &["routes"], &[], 2));
    let dir = project_with(&[("reflex-django.yaml", "prefixes:\n  extra: /billing\n")]);
    insta::assert_snapshot!("list_expected", fails(dir.path(), &["routes"], &[], 2));
}

#[test]
fn prefix_colliding_with_reflex_is_refused_wherever_it_is_written() {
    let dir = project_with(&[("reflex-django.yaml", "prefixes:\n  backend: /_event/api\n")]);
    insta::assert_snapshot!("in_yaml", fails(dir.path(), &["routes"], &[], 2));
    let dir = project_with(&[(
        "rxconfig.py",
        "from reflex_django import ReflexDjangoPlugin\nplugins = [ReflexDjangoPlugin(extra_prefixes=('/ping',))]\n",
    )]);
    insta::assert_snapshot!("in_rxconfig", fails(dir.path(), &["routes"], &[], 2));
    let dir = project_with(&[("manage.py", MANAGE)]);
    insta::assert_snapshot!(
        "in_env",
        fails(
            dir.path(),
            &["routes"],
            &[("REFLEX_DJANGO_PREFIXES_ADMIN", "/")],
            2
        )
    );
}

#[test]
fn bad_environment_value_names_the_variable() {
    let dir = project_with(&[("manage.py", MANAGE)]);
    insta::assert_snapshot!(fails(
        dir.path(),
        &["routes"],
        &[("REFLEX_DJANGO_PROXY_PORT", "70000")],
        2
    ));
}

#[test]
fn no_project() {
    let dir = tempfile::tempdir().unwrap();
    insta::assert_snapshot!(fails(dir.path(), &["migrate"], &[], 2));
}

#[test]
fn missing_manage_py() {
    let dir = project_with(&[("reflex-django.yaml", "")]);
    insta::assert_snapshot!(fails(dir.path(), &["migrate"], &[], 2));
}

#[test]
fn configured_python_that_does_not_exist() {
    let dir = project_with(&[
        ("reflex-django.yaml", "python: .venv311/bin/python\n"),
        ("manage.py", MANAGE),
    ]);
    insta::assert_snapshot!(fails(dir.path(), &["migrate"], &[], 2));
}

#[test]
fn no_python_anywhere() {
    let dir = project_with(&[("manage.py", MANAGE)]);
    let empty = tempfile::tempdir().unwrap();
    let path = empty.path().to_str().unwrap();
    insta::assert_snapshot!(fails(dir.path(), &["migrate"], &[("PATH", path)], 2));
}

#[test]
fn explicit_env_file_that_does_not_exist() {
    let dir = project_with(&[("manage.py", MANAGE)]);
    insta::assert_snapshot!(fails(
        dir.path(),
        &["--env-file", "prod.env", "migrate"],
        &[],
        2
    ));
}

#[test]
fn unparsable_env_file() {
    let dir = project_with(&[("manage.py", MANAGE), (".env", "GOOD=1\nBAD LINE\n")]);
    insta::assert_snapshot!(fails(dir.path(), &["migrate"], &[], 2));
}

/// `doctor` with everything wrong: Python without Django/Reflex, settings that do not
/// import, no bun, both ports taken. Every ✗ has a hint; exit code 1.
#[test]
fn doctor_reports_each_problem_with_a_fix() {
    let dir = project_with(&[
        ("manage.py", MANAGE),
        ("reflex-django.yaml", "settings_module: nosuch.settings\n"),
    ]);
    // A bare venv of the test Python: no Django, no Reflex.
    let bare = dir.path().join("bare");
    let made = std::process::Command::new(crate::common::python())
        .args(["-m", "venv", "--without-pip"])
        .arg(&bare)
        .status()
        .unwrap();
    assert!(made.success());
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let frontend = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let proxy_port = proxy.local_addr().unwrap().port().to_string();
    let frontend_port = frontend.local_addr().unwrap().port().to_string();
    let reflex_dir = tempfile::tempdir().unwrap();
    let out = Test::new(dir.path())
        .arg("doctor")
        .env("VIRTUAL_ENV", &bare)
        .env("PATH", "/usr/bin:/bin")
        .env("REFLEX_DIR", reflex_dir.path())
        .env("XDG_CACHE_HOME", reflex_dir.path())
        .env("REFLEX_DJANGO_PROXY_PORT", &proxy_port)
        .env("REFLEX_DJANGO_REFLEX_FRONTEND_PORT", &frontend_port)
        .status(1)
        .run();
    let dir_text = dir.path().to_string_lossy();
    let real = std::fs::canonicalize(dir.path()).unwrap();
    let text = out
        .stdout
        .replace(real.to_string_lossy().as_ref(), "[DIR]")
        .replace(dir_text.as_ref(), "[DIR]")
        .replace(&proxy_port, "[PROXY_PORT]")
        .replace(&frontend_port, "[FRONTEND_PORT]")
        .replace(&std::process::id().to_string(), "[PID]");
    let text = regex::Regex::new(r"3\.\d+\.\d+")
        .unwrap()
        .replace_all(&text, "3.X.Y");
    let text = regex::Regex::new(r"by pid \[PID\] \([^)]*\)")
        .unwrap()
        .replace_all(&text, "by pid [PID] (test)");
    insta::assert_snapshot!(text);
}

/// The happy path of `doctor` in a real project with the test venv.
#[test]
fn doctor_passes_in_a_working_project() {
    let project = DjangoProject::new();
    let text = project
        .test()
        .arg("doctor")
        .env("REFLEX_DJANGO_PROXY_PORT", "18743")
        .env("REFLEX_DJANGO_REFLEX_FRONTEND_PORT", "18744")
        .run()
        .stdout;
    assert!(
        text.contains("✓ settings         mysite.settings (manage.py) loads"),
        "{text}"
    );
    assert!(text.contains("✓ django"), "{text}");
    assert!(text.contains("✓ reflex "), "{text}");
    assert!(text.contains("✓ asgi server      uvicorn"), "{text}");
}

const RXCONFIG: &str = "import reflex as rx\nconfig = rx.Config(app_name='app')\n";

#[test]
fn run_without_a_reflex_app() {
    let dir = project_with(&[("manage.py", MANAGE)]);
    insta::assert_snapshot!(fails(dir.path(), &["run"], &[], 2));
}

#[test]
fn run_with_the_front_door_port_taken_names_the_holder() {
    let dir = project_with(&[("manage.py", MANAGE), ("rxconfig.py", RXCONFIG)]);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let text = fails(dir.path(), &["run", "--port", &port], &[], 2)
        .replace(&port, "[PORT]")
        .replace(&std::process::id().to_string(), "[PID]");
    let text = regex::Regex::new(r"by pid \[PID\] \([^)]*\)")
        .unwrap()
        .replace_all(&text, "by pid [PID] (test)")
        .into_owned();
    let text = regex::Regex::new(r"caused by: .*")
        .unwrap()
        .replace_all(&text, "caused by: [OS ERROR]")
        .into_owned();
    insta::assert_snapshot!(text);
}

#[test]
fn run_without_bun_says_how_to_get_it() {
    let dir = project_with(&[("manage.py", MANAGE), ("rxconfig.py", RXCONFIG)]);
    let reflex_dir = tempfile::tempdir().unwrap();
    let venv = crate::common::venv();
    insta::assert_snapshot!(fails(
        dir.path(),
        &["run", "--port", "18751", "--frontend-port", "18752"],
        &[
            ("PATH", "/usr/bin:/bin"),
            ("REFLEX_DIR", reflex_dir.path().to_str().unwrap()),
            ("XDG_CACHE_HOME", reflex_dir.path().to_str().unwrap()),
            ("VIRTUAL_ENV", venv.to_str().unwrap()),
        ],
        2
    ));
}

/// `doctor --prod` on a fresh `startproject`: no build, and the audit's three errors,
/// each with its fix.
#[test]
fn doctor_prod_audits_a_startproject() {
    let project = DjangoProject::new();
    let text = project
        .test()
        .args(["doctor", "--prod"])
        .env("REFLEX_DJANGO_PROXY_PORT", "18745")
        .status(1)
        .run()
        .stdout;
    for expected in [
        "✗ build            there is no production build",
        "hint: run `reflex-django build` first",
        "✗ audit            DEBUG is on",
        "✗ audit            SECRET_KEY is not fit for production: it is the insecure key Django's startproject makes",
        "✗ audit            ALLOWED_HOSTS is empty",
        "secrets.token_urlsafe(50)",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
    // Production needs no bun and no Vite port.
    assert!(!text.contains("bun"), "{text}");
    assert!(!text.contains("frontend port"), "{text}");
}

/// A key made at random when the settings load differs in every process: the audit
/// asks a second Python process and refuses it.
#[test]
fn doctor_prod_refuses_a_key_made_per_process() {
    let project = DjangoProject::new();
    let settings = project.read("mysite/settings.py");
    let settings = regex::Regex::new(r"(?m)^SECRET_KEY = .*$")
        .unwrap()
        .replace(
            &settings,
            "import secrets\nSECRET_KEY = secrets.token_urlsafe(60)",
        );
    project.write("mysite/settings.py", &settings);
    let text = project
        .test()
        .args(["doctor", "--prod"])
        .env("REFLEX_DJANGO_PROXY_PORT", "18746")
        .status(1)
        .run()
        .stdout;
    assert!(
        text.contains("SECRET_KEY changes from one process to the next"),
        "{text}"
    );
    assert!(!text.contains("SECRET_KEY is not fit"), "{text}");
}

/// A build stamp for the project as it is now, as `build` would leave it.
fn fake_build(root: &Path) {
    let project = reflex_django::project::Project::at(root);
    std::fs::create_dir_all(root.join(".web/build/client")).unwrap();
    std::fs::write(root.join(".web/build/client/index.html"), "<html>").unwrap();
    let stamp = reflex_django::build::Stamp {
        version: "test".into(),
        built_at: 0,
        api_url: "http://localhost:8000".into(),
        same_origin: true,
        routes: vec!["index".into()],
        static_root: None,
        sources: reflex_django::build::stamp::fingerprint(&project).unwrap(),
    };
    stamp.write(root).unwrap();
}

#[test]
fn run_env_prod_needs_a_build_and_passes_the_audit() {
    let project = DjangoProject::new();
    project.write("rxconfig.py", RXCONFIG);
    project.write("app/app.py", "app = None\n");
    let run = |project: &DjangoProject| {
        project
            .test()
            .args(["run", "--env", "prod", "--port", "18746"])
            .status(2)
            .run()
            .stderr_scrubbed()
    };
    insta::assert_snapshot!("run_env_prod_without_a_build", run(&project));

    fake_build(project.root());
    let text = run(&project);
    assert!(
        text.starts_with("error: the production audit: DEBUG is on"),
        "{text}"
    );
    assert!(text.contains("hint: set DEBUG = False"), "{text}");

    project.write("app/app.py", "app = 'changed'\n");
    let text = run(&project);
    assert!(
        text.contains(
            "the production build is stale: app/app.py changed since `reflex-django build`"
        ),
        "{text}"
    );
}

/// A new shell, without `scripts/env.sh`: bun is not on `PATH`, but where the scripts
/// and the hint put it. `doctor` finds it there.
#[test]
fn bun_in_the_shared_install_is_found_without_path() {
    use std::os::unix::fs::PermissionsExt;

    let dir = project_with(&[("manage.py", MANAGE), ("rxconfig.py", RXCONFIG)]);
    let cache = tempfile::tempdir().unwrap();
    let bin = cache.path().join("reflex-django/bun/node_modules/.bin");
    std::fs::create_dir_all(&bin).unwrap();
    let bun = bin.join("bun");
    std::fs::write(&bun, "#!/bin/sh\necho 1.4.4\n").unwrap();
    std::fs::set_permissions(&bun, std::fs::Permissions::from_mode(0o755)).unwrap();
    let reflex_dir = tempfile::tempdir().unwrap();
    let out = Test::new(dir.path())
        .arg("doctor")
        .env("PATH", "/usr/bin:/bin")
        .env("REFLEX_DIR", reflex_dir.path())
        .env("XDG_CACHE_HOME", cache.path())
        .venv()
        .status(1)
        .run();
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text.contains(&format!("1.4.4 at {}", bun.display())),
        "{text}"
    );
}
