//! `reflex-django <cmd>` forwards to `manage.py` with the project's settings: real
//! Django projects, the real binary, checked from outside.

mod common;

use common::{DjangoProject, stdout};

#[test]
fn migrate_creates_the_database() {
    let project = DjangoProject::new();
    project.cmd().arg("migrate").assert().success();
    let tables = project.tables();
    for table in ["auth_user", "django_session", "django_migrations"] {
        assert!(
            tables.iter().any(|t| t == table),
            "{table} missing: {tables:?}"
        );
    }
}

#[test]
fn exit_codes_propagate_unchanged() {
    let project = DjangoProject::new();
    project
        .cmd()
        .args(["shell", "-c", "print('ok')"])
        .assert()
        .code(0);
    project
        .cmd()
        .args(["shell", "-c", "import sys; sys.exit(7)"])
        .assert()
        .code(7);
    // A Django command that fails, and one that does not exist: the same code as
    // running manage.py directly.
    for args in [&["check", "--tag", "nosuchtag"][..], &["nosuchcommand"][..]] {
        let direct = std::process::Command::new(common::python())
            .arg("manage.py")
            .args(args)
            .current_dir(project.root())
            .status()
            .unwrap();
        assert!(!direct.success());
        project
            .cmd()
            .args(args)
            .assert()
            .code(direct.code().unwrap());
    }
}

#[test]
fn stdin_reaches_the_command() {
    let project = DjangoProject::new();
    project
        .cmd()
        .arg("shell")
        .write_stdin(
            "from django.conf import settings\nprint('from-stdin', settings.ROOT_URLCONF)\n",
        )
        .assert()
        .success()
        .stdout(predicates::str::contains("from-stdin mysite.urls"));
}

#[test]
fn arguments_arrive_untouched_in_every_form() {
    let project = DjangoProject::new();
    let args = [
        "a b",
        "it's",
        "\"quoted\"",
        "--flag",
        "--opt=x y",
        "-v",
        "3",
        "",
        "ü",
    ];
    for form in [&[][..], &["manage"][..], &["django"][..]] {
        let out = project
            .cmd()
            .args(form)
            .arg("echoargs")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let got: Vec<String> = serde_json::from_str(stdout(&out).trim()).unwrap();
        assert_eq!(got, args, "form {form:?}");
    }
}

#[test]
fn manage_runs_commands_whose_names_clash_with_ours() {
    let project = DjangoProject::new();
    project.write(
        "probe/management/commands/routes.py",
        "from django.core.management.base import BaseCommand\n\
         class Command(BaseCommand):\n    def handle(self, *a, **o):\n        self.stdout.write('django routes')\n",
    );
    project
        .cmd()
        .args(["manage", "routes"])
        .assert()
        .success()
        .stdout("django routes\n");
}

#[test]
fn createsuperuser_noinput_with_env() {
    let project = DjangoProject::new();
    project.cmd().arg("migrate").assert().success();
    project
        .cmd()
        .args(["createsuperuser", "--noinput"])
        .env("DJANGO_SUPERUSER_USERNAME", "ada")
        .env("DJANGO_SUPERUSER_EMAIL", "ada@example.com")
        .env("DJANGO_SUPERUSER_PASSWORD", "correct horse battery")
        .assert()
        .success();
    let out = project.python(
        "import sqlite3; c = sqlite3.connect('db.sqlite3'); \
         print(c.execute('select username, is_superuser from auth_user').fetchall())",
    );
    assert_eq!(stdout(&out).trim(), "[('ada', 1)]");
}

#[test]
fn help_is_djangos_and_dash_dash_help_is_ours() {
    let project = DjangoProject::new();
    project
        .cmd()
        .arg("help")
        .assert()
        .success()
        .stdout(predicates::str::contains("Available subcommands"));
    project
        .cmd()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicates::str::contains("Run Django and Reflex together"));
}

/// The settings module is found each of the five ways, in precedence order:
/// flag > DJANGO_SETTINGS_MODULE > reflex-django.yaml > rxconfig.py > manage.py.
#[test]
fn settings_module_found_each_way() {
    let project = DjangoProject::new();
    for variant in ["rx", "yaml", "env", "flag"] {
        project.write(
            &format!("mysite/settings_{variant}.py"),
            "from .settings import *\n",
        );
    }
    let which = |extra: &dyn Fn(&mut assert_cmd::Command)| {
        let mut cmd = project.cmd();
        extra(&mut cmd);
        let out = cmd.arg("whichsettings").output().unwrap();
        assert!(out.status.success(), "{out:?}");
        stdout(&out).trim().to_string()
    };
    let nothing = |_: &mut assert_cmd::Command| {};
    assert_eq!(which(&nothing), "mysite.settings");
    project.write(
        "rxconfig.py",
        "import reflex as rx\nfrom reflex_django import ReflexDjangoPlugin\n\
         config = rx.Config(app_name='app', plugins=[ReflexDjangoPlugin(settings_module='mysite.settings_rx')])\n",
    );
    assert_eq!(which(&nothing), "mysite.settings_rx");
    project.write(
        "reflex-django.yaml",
        "settings_module: mysite.settings_yaml\n",
    );
    assert_eq!(which(&nothing), "mysite.settings_yaml");
    let env = |cmd: &mut assert_cmd::Command| {
        cmd.env("DJANGO_SETTINGS_MODULE", "mysite.settings_env");
    };
    assert_eq!(which(&env), "mysite.settings_env");
    let flag = |cmd: &mut assert_cmd::Command| {
        cmd.env("DJANGO_SETTINGS_MODULE", "mysite.settings_env")
            .args(["--settings", "mysite.settings_flag"]);
    };
    assert_eq!(which(&flag), "mysite.settings_flag");
}

#[test]
fn env_file_is_loaded_and_the_environment_wins() {
    let project = DjangoProject::new();
    project.write(".env", "FROM_FILE=file\nBOTH=file\n");
    let code = "import os; print(os.environ.get('FROM_FILE'), os.environ.get('BOTH'), os.environ.get('PYTHONUNBUFFERED'))";
    project
        .cmd()
        .args(["shell", "-c", code])
        .env("BOTH", "process")
        .assert()
        .success()
        .stdout(predicates::str::ends_with("file process 1\n"));
}

#[test]
fn works_from_a_subdirectory() {
    let project = DjangoProject::new();
    let sub = project.root().join("mysite");
    common::reflex_django(&sub)
        .env("VIRTUAL_ENV", common::venv())
        .arg("whichsettings")
        .assert()
        .success()
        .stdout("mysite.settings\n");
}
