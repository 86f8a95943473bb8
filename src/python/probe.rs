//! One Python call that reports versions and, on request, facts from Django's settings.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::Deserialize;
use wait_timeout::ChildExt as _;

use super::Python;
use crate::config::Resolved;
use crate::error::{Context, Error, Result};

const SCRIPT: &str = include_str!("probe.py");

#[derive(Clone, Debug, Deserialize)]
pub struct Report {
    pub python: String,
    pub executable: PathBuf,
    pub packages: BTreeMap<String, Package>,
    /// Present when Django facts were asked for.
    pub django: Option<DjangoFacts>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Package {
    pub importable: bool,
    pub version: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum DjangoFacts {
    Loaded(Box<Settings>),
    Failed { error: String },
}

/// What reflex-django needs from Django's settings.
#[derive(Clone, Debug, Deserialize)]
pub struct Settings {
    pub settings_file: Option<PathBuf>,
    pub static_url: String,
    /// Where `collectstatic` puts the files (absolute), if set.
    pub static_root: Option<PathBuf>,
    pub debug: bool,
    /// Absolute paths of SQLite database files.
    pub sqlite_files: Vec<PathBuf>,
    /// `ENGINE` of every configured database.
    pub database_engines: Vec<String>,
    pub media_root: Option<PathBuf>,
    pub apps: Vec<App>,
    pub security: Security,
}

/// The settings the production audit looks at.
#[derive(Clone, Debug, Deserialize)]
pub struct Security {
    /// Why `SECRET_KEY` is unfit for production; `None` when it is fine.
    pub weak_secret_key: Option<String>,
    /// Whether another process loading the settings gets another `SECRET_KEY`
    /// (production only; `None` when not asked or not known).
    #[serde(default)]
    pub secret_key_changes: Option<bool>,
    pub allowed_hosts: Vec<String>,
    pub csrf_trusted_origins: Vec<String>,
    pub session_cookie_secure: bool,
    pub session_cookie_httponly: bool,
    pub csrf_cookie_secure: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct App {
    pub label: String,
    pub path: PathBuf,
}

impl Report {
    pub fn package(&self, module: &str) -> Option<&Package> {
        self.packages.get(module)
    }

    /// The version of `module` in this Python (`installed` when it has none); an error
    /// that names it and says how to install `dist` when it cannot be imported.
    pub fn require(&self, module: &str, dist: &str) -> Result<String> {
        match self.package(module).filter(|p| p.importable) {
            Some(found) => Ok(found.version.clone().unwrap_or_else(|| "installed".into())),
            None => Err(Error::new(format!(
                "{module} is not installed in {}",
                self.executable.display()
            ))
            .hint(format!(
                "{} -m pip install {dist}",
                self.executable.display()
            ))),
        }
    }

    /// Django and Reflex, which `run` and `build` cannot do without; the error names
    /// the first one missing.
    pub fn require_django_and_reflex(&self) -> Result<()> {
        for module in ["django", "reflex"] {
            self.require(module, module)?;
        }
        Ok(())
    }

    /// Django's settings as the probe loaded them (it was asked with `django`); an
    /// error that names the settings module, where it came from, and how to see the
    /// whole traceback when they failed to load.
    pub fn django_settings(&self, resolved: &Resolved) -> Result<&Settings> {
        let module = resolved.settings_module()?;
        match &self.django {
            Some(DjangoFacts::Loaded(settings)) => Ok(settings),
            Some(DjangoFacts::Failed { error }) => Err(Error::new(format!(
                "{module} (from {}) does not load: {error}",
                resolved.sources.settings_module
            ))
            .hint(
                "run `reflex-django check` to see Django's full error, and check that the \
                 module path is importable from the project root",
            )),
            None => Err(Error::new("Django's settings were not checked")
                .hint("this is a bug in reflex-django; please report it")),
        }
    }
}

/// Runs the probe with `env` on top of ours. `django` also loads the settings (which
/// runs the project's settings code) and reports what it found.
pub fn probe(
    python: &Python,
    root: &Path,
    env: &[(String, String)],
    django: bool,
) -> Result<Report> {
    let mut cmd = Command::new(&python.path);
    cmd.arg("-c")
        .arg(SCRIPT)
        .arg("--path")
        .arg(root)
        .current_dir(root)
        .envs(env.iter().map(|(k, v)| (k, v)));
    if django {
        cmd.arg("--django");
    }
    let output = output_with_timeout(cmd, Duration::from_secs(60))
        .with_context(|| format!("cannot run {}", python.path.display()))?;
    let last_line = output.stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last_line).map_err(|_| {
        Error::new(format!(
            "{} did not answer reflex-django's environment check",
            python.path.display()
        ))
        .cause(output.stderr.trim())
        .hint("make sure this is a working Python 3 interpreter (try running it by hand)")
    })
}

#[derive(Debug)]
pub struct Output {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` to completion with captured output, killing it after `timeout`.
pub fn output_with_timeout(mut cmd: Command, timeout: Duration) -> std::io::Result<Output> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let mut bytes = Vec::new();
                let _ = pipe.read_to_end(&mut bytes);
                text = String::from_utf8_lossy(&bytes).into_owned();
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let Some(status) = child.wait_timeout(timeout)? else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {}s", timeout.as_secs()),
        ));
    };
    Ok(Output {
        success: status.success(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}
