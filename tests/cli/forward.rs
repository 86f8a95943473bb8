//! `reflex-django <cmd>` forwards to `manage.py` with the project's settings: real
//! Django projects, the real binary, checked from outside.

use crate::common::{DjangoProject, Test};

#[test]
fn migrate_creates_the_database() {
    let project = DjangoProject::new();
    project.test().arg("migrate").run();
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
    project.test().args(["shell", "-c", "print('ok')"]).run();
    project
        .test()
        .args(["shell", "-c", "import sys; sys.exit(7)"])
        .status(7)
        .run();
    // A Django command that fails, and one that does not exist: the same code as
    // running manage.py directly.
    for args in [&["check", "--tag", "nosuchtag"][..], &["nosuchcommand"][..]] {
        let direct = std::process::Command::new(crate::common::python())
            .arg("manage.py")
            .args(args)
            .current_dir(project.root())
            .output()
            .unwrap()
            .status;
        assert!(!direct.success());
        project
            .test()
            .args(args)
            .status(direct.code().unwrap())
            .run();
    }
}

#[test]
fn stdin_reaches_the_command() {
    let project = DjangoProject::new();
    let out = project
        .test()
        .arg("shell")
        .stdin("from django.conf import settings\nprint('from-stdin', settings.ROOT_URLCONF)\n")
        .run();
    assert!(
        out.stdout.contains("from-stdin mysite.urls"),
        "{}",
        out.stdout
    );
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
        let out = project.test().args(form).arg("echoargs").args(args).run();
        let got: Vec<String> = serde_json::from_str(out.stdout.trim()).unwrap();
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
    let out = project.test().args(["manage", "routes"]).run();
    assert_eq!(out.stdout, "django routes\n");
}

#[test]
fn createsuperuser_noinput_with_env() {
    let project = DjangoProject::new();
    project.test().arg("migrate").run();
    project
        .test()
        .args(["createsuperuser", "--noinput"])
        .env("DJANGO_SUPERUSER_USERNAME", "ada")
        .env("DJANGO_SUPERUSER_EMAIL", "ada@example.com")
        .env("DJANGO_SUPERUSER_PASSWORD", "correct horse battery")
        .run();
    let out = project.python(
        "import sqlite3; c = sqlite3.connect('db.sqlite3'); \
         print(c.execute('select username, is_superuser from auth_user').fetchall())",
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[('ada', 1)]");
}

#[test]
fn help_is_djangos_and_dash_dash_help_is_ours() {
    let project = DjangoProject::new();
    let django = project.test().arg("help").run().stdout;
    assert!(django.contains("Available subcommands"), "{django}");
    let ours = project.test().arg("--help").run().stdout;
    assert!(ours.contains("Run Django and Reflex together"), "{ours}");
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
    let which = |extra: &dyn Fn(Test) -> Test| {
        let out = extra(project.test()).arg("whichsettings").run();
        out.stdout.trim().to_string()
    };
    let nothing = |test: Test| test;
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
    let env = |test: Test| test.env("DJANGO_SETTINGS_MODULE", "mysite.settings_env");
    assert_eq!(which(&env), "mysite.settings_env");
    let flag = |test: Test| {
        test.env("DJANGO_SETTINGS_MODULE", "mysite.settings_env")
            .args(["--settings", "mysite.settings_flag"])
    };
    assert_eq!(which(&flag), "mysite.settings_flag");
}

#[test]
fn env_file_is_loaded_and_the_environment_wins() {
    let project = DjangoProject::new();
    project.write(".env", "FROM_FILE=file\nBOTH=file\n");
    let code = "import os; print(os.environ.get('FROM_FILE'), os.environ.get('BOTH'), os.environ.get('PYTHONUNBUFFERED'))";
    let out = project
        .test()
        .args(["shell", "-c", code])
        .env("BOTH", "process")
        .run();
    assert!(out.stdout.ends_with("file process 1\n"), "{}", out.stdout);
}

#[test]
fn works_from_a_subdirectory() {
    let project = DjangoProject::new();
    let sub = project.root().join("mysite");
    let out = Test::new(&sub).venv().arg("whichsettings").run();
    assert_eq!(out.stdout, "mysite.settings\n");
}
