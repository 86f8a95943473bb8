//! Shared test harness: the real `reflex-django` binary run against real Django
//! projects in temporary directories, with the suite's one Python venv.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The Python of the shared test venv (`scripts/env.sh` sets `REFLEX_DJANGO_TEST_PYTHON`).
pub fn python() -> PathBuf {
    let path = std::env::var_os("REFLEX_DJANGO_TEST_PYTHON").unwrap_or_else(|| {
        panic!(
            "REFLEX_DJANGO_TEST_PYTHON is not set: run the tests with `scripts/test`, or \
             `source scripts/env.sh` first"
        )
    });
    let path = PathBuf::from(path);
    assert!(
        path.exists(),
        "REFLEX_DJANGO_TEST_PYTHON={} does not exist",
        path.display()
    );
    path
}

/// The venv directory that holds [`python`].
pub fn venv() -> PathBuf {
    python()
        .parent()
        .and_then(Path::parent)
        .expect("venv/bin/python")
        .to_path_buf()
}

/// Variables a developer's shell may carry that would leak into the tests.
const SCRUBBED: &[&str] = &["VIRTUAL_ENV", "DJANGO_SETTINGS_MODULE", "PYTHONPATH"];

/// One run of `reflex-django`, built fluently: where, with what, and which exit status
/// to expect (0 unless told). Output is always captured, never mixed into the test
/// runner's, and shown in full when the status is not the expected one.
#[must_use = "a Test does nothing until `.run()`"]
pub struct Test {
    cmd: assert_cmd::Command,
    dir: PathBuf,
    status: i32,
    stdout: Option<String>,
    stdout_has: Vec<String>,
    stderr_has: Vec<String>,
}

impl Test {
    /// `reflex-django` in `dir`, with a clean environment and no colours.
    pub fn new(dir: &Path) -> Self {
        let mut cmd = assert_cmd::Command::cargo_bin("reflex-django").expect("binary built");
        cmd.current_dir(dir);
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            if key.starts_with("REFLEX_DJANGO_") && key != "REFLEX_DJANGO_TEST_PYTHON"
                || SCRUBBED.contains(&key.as_str())
            {
                cmd.env_remove(&key);
            }
        }
        cmd.env("NO_COLOR", "1");
        // A command that hangs fails its test instead of stalling the suite.
        cmd.timeout(std::time::Duration::from_secs(300));
        Test {
            cmd,
            dir: dir.to_path_buf(),
            status: 0,
            stdout: None,
            stdout_has: Vec::new(),
            stderr_has: Vec::new(),
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.cmd.arg(arg);
        self
    }

    pub fn args(mut self, args: impl IntoIterator<Item = impl AsRef<OsStr>>) -> Self {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// Finds Python through `$VIRTUAL_ENV`, set to the suite's venv.
    pub fn venv(self) -> Self {
        self.env("VIRTUAL_ENV", venv())
    }

    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.cmd.env_remove(key);
        self
    }

    pub fn stdin(mut self, text: &str) -> Self {
        self.cmd.write_stdin(text.to_string());
        self
    }

    /// The exit status the run must end with.
    pub fn status(mut self, code: i32) -> Self {
        self.status = code;
        self
    }

    /// The whole of stdout must be `text`.
    pub fn stdout(mut self, text: &str) -> Self {
        self.stdout = Some(text.to_string());
        self
    }

    /// stdout must contain `text`.
    pub fn stdout_has(mut self, text: &str) -> Self {
        self.stdout_has.push(text.to_string());
        self
    }

    /// stderr must contain `text`.
    pub fn stderr_has(mut self, text: &str) -> Self {
        self.stderr_has.push(text.to_string());
        self
    }

    /// Runs the command and checks every expectation, showing all output when one
    /// is not met.
    pub fn run(mut self) -> Ran {
        let out = self
            .cmd
            .output()
            .expect("reflex-django ran (and ended within the test's 300 s)");
        let ran = Ran {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            dir: self.dir,
        };
        let shown = format!("\n--- stdout\n{}\n--- stderr\n{}", ran.stdout, ran.stderr);
        assert_eq!(out.status.code(), Some(self.status), "exit status{shown}");
        if let Some(expected) = &self.stdout {
            assert_eq!(&ran.stdout, expected, "stdout{shown}");
        }
        for text in &self.stdout_has {
            assert!(ran.stdout.contains(text), "stdout lacks {text:?}{shown}");
        }
        for text in &self.stderr_has {
            assert!(ran.stderr.contains(text), "stderr lacks {text:?}{shown}");
        }
        ran
    }
}

/// What a [`Test`] printed.
pub struct Ran {
    pub stdout: String,
    pub stderr: String,
    dir: PathBuf,
}

impl Ran {
    /// stderr with the run's directory written `[DIR]`, for snapshots.
    pub fn stderr_scrubbed(&self) -> String {
        let dir = self.dir.to_string_lossy();
        let real = std::fs::canonicalize(&self.dir).unwrap_or_else(|_| self.dir.clone());
        self.stderr
            .replace(real.to_string_lossy().as_ref(), "[DIR]")
            .replace(dir.as_ref(), "[DIR]")
    }
}

/// A real Django project made by `django-admin startproject mysite` in a temp dir,
/// with a `probe` app whose management commands report what Django received.
pub struct DjangoProject {
    pub dir: tempfile::TempDir,
}

const PROBE_COMMANDS: &[(&str, &str)] = &[
    (
        "echoargs",
        r#"import json, sys
from django.core.management.base import BaseCommand

class Command(BaseCommand):
    def run_from_argv(self, argv):
        print(json.dumps(argv[2:]))
"#,
    ),
    (
        "whichsettings",
        r#"from django.conf import settings
from django.core.management.base import BaseCommand

class Command(BaseCommand):
    def handle(self, *args, **options):
        self.stdout.write(settings.SETTINGS_MODULE)
"#,
    ),
];

impl DjangoProject {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = std::process::Command::new(python())
            .args(["-m", "django", "startproject", "mysite"])
            .arg(dir.path())
            .output()
            .expect("run django-admin");
        assert!(out.status.success(), "startproject failed: {out:?}");
        let project = DjangoProject { dir };
        let commands = project.root().join("probe/management/commands");
        std::fs::create_dir_all(&commands).unwrap();
        for init in ["probe", "probe/management", "probe/management/commands"] {
            project.write(&format!("{init}/__init__.py"), "");
        }
        for (name, code) in PROBE_COMMANDS {
            project.write(&format!("probe/management/commands/{name}.py"), code);
        }
        let settings = project
            .read("mysite/settings.py")
            .replace("INSTALLED_APPS = [", "INSTALLED_APPS = [\n    \"probe\",");
        project.write("mysite/settings.py", &settings);
        project
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.root().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root().join(rel)).unwrap()
    }

    /// `reflex-django` in the project, finding Python through `$VIRTUAL_ENV`.
    pub fn test(&self) -> Test {
        Test::new(self.root()).venv()
    }

    /// Runs a Python snippet with the test venv (not through reflex-django), e.g. to
    /// inspect the database independently of the code under test.
    pub fn python(&self, code: &str) -> Output {
        std::process::Command::new(python())
            .arg("-c")
            .arg(code)
            .current_dir(self.root())
            .output()
            .expect("run python")
    }

    /// Names of the tables in the project's SQLite database.
    pub fn tables(&self) -> Vec<String> {
        let out = self.python(
            "import sqlite3; c = sqlite3.connect('db.sqlite3'); \
             print('\\n'.join(r[0] for r in c.execute(\"select name from sqlite_master where type='table'\")))",
        );
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}
