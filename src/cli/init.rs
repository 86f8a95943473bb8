//! `reflex-django init [DIR]`: a new, working Django + Reflex project.

use std::ffi::OsStr;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use clap::Args;

use super::GlobalArgs;
use crate::error::{Context, Error, Result};
use crate::progress::{self, Step};
use crate::project::Project;
use crate::python::probe::{self, Report};
use crate::python::{FoundBy, Python, find_program};
use crate::scaffold::{self, Names};
use crate::{child_env, config};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to create the project in [default: the current directory]
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Name of the Reflex app package [default: from the directory name]
    #[arg(long, value_name = "APP")]
    pub name: Option<String>,
    /// Name of the Django project package (settings, urls, asgi)
    #[arg(long, value_name = "NAME", default_value = "backend")]
    pub django_project: String,
    /// Add the files to a non-empty directory, replacing files of the same name
    /// (nothing is deleted)
    #[arg(long)]
    pub force: bool,
    /// Only write the files: no virtualenv, no migrate
    #[arg(long)]
    pub no_install: bool,
    /// Create a Django superuser with this username (password from
    /// DJANGO_SUPERUSER_PASSWORD, else asked)
    #[arg(long, value_name = "NAME")]
    pub superuser: Option<String>,
}

/// The packages a generated project needs in its environment.
const REQUIRED: &[(&str, &str)] = &[
    (
        "reflex_django",
        concat!("reflex-django==", env!("CARGO_PKG_VERSION")),
    ),
    ("reflex", "reflex>=0.10,<0.11"),
    ("django", "django>=6.0"),
    ("uvicorn", "uvicorn>=0.30"),
    ("dj_database_url", "dj-database-url>=3.1"),
];

pub fn run(_global: &GlobalArgs, args: InitArgs) -> Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let dir = std::path::absolute(cwd.join(args.dir.as_deref().unwrap_or(Path::new("."))))
        .context("cannot resolve the project directory")?;
    let names = Names::new(&dir, args.name.clone(), Some(args.django_project.clone()))?;
    if args.superuser.is_some() && args.no_install {
        return Err(Error::new("--superuser needs the install steps").hint(
            "drop --no-install, or create the user later with `reflex-django createsuperuser`",
        ));
    }

    let step = Step::start(format!("Writing the project to {}", dir.display()));
    let files = scaffold::render(&names)?;
    let written = match scaffold::write(&dir, &files, args.force) {
        Ok(w) => w,
        Err(e) => {
            step.fail();
            return Err(e);
        }
    };
    let made_env = scaffold::write_env_file(&dir)?;
    let mut detail = format!("{} files", written.created.len());
    if !written.overwritten.is_empty() {
        detail.push_str(&format!(", {} replaced", written.overwritten.len()));
    }
    if made_env {
        detail.push_str(", .env with a new SECRET_KEY");
    }
    step.done(&detail);

    if !args.no_install {
        let python = environment(&dir)?;
        let project = Project::at(&dir);
        let resolved = config::load(&project, &[])?;
        let env = child_env::contract(&resolved);
        let step = Step::start("Creating the database (migrate)");
        run_step(
            step,
            Command::new(&python.path)
                .args(["manage.py", "migrate", "--noinput"])
                .current_dir(&dir)
                .envs(env.iter().map(|(k, v)| (k, v))),
            "migrate",
        )?;
        if let Some(username) = &args.superuser {
            create_superuser(&python, &dir, &env, username)?;
        }
    }

    let mut out = anstream::stdout().lock();
    let cd = pathdiff(&cwd, &dir);
    let _ = writeln!(out, "\nDone. Next:");
    if !cd.as_os_str().is_empty() {
        let _ = writeln!(out, "  cd {}", cd.display());
    }
    if args.no_install {
        let _ = writeln!(
            out,
            "  python3 -m venv .venv && .venv/bin/pip install reflex-django reflex django uvicorn"
        );
        let _ = writeln!(out, "  reflex-django migrate");
    }
    if args.superuser.is_none() {
        let _ = writeln!(out, "  reflex-django createsuperuser");
    }
    let _ = writeln!(
        out,
        "  reflex-django run      # http://localhost:3000 (admin: /admin/)"
    );
    Ok(ExitCode::SUCCESS)
}

/// The Python environment of the new project: the active virtualenv or the one this
/// binary is installed in when they already have everything; else a new `.venv`
/// (with uv when available).
fn environment(dir: &Path) -> Result<Python> {
    let step = Step::start("Preparing the Python environment");
    let candidates = [
        std::env::var_os("VIRTUAL_ENV")
            .map(|v| (PathBuf::from(v).join("bin/python"), FoundBy::VirtualEnv)),
        std::env::current_exe()
            .ok()
            .and_then(|exe| Some((exe.parent()?.join("python"), FoundBy::BesideBinary))),
        Some((dir.join(".venv/bin/python"), FoundBy::ProjectVenv)),
    ];
    for (path, found_by) in candidates.into_iter().flatten() {
        if !path.is_file() {
            continue;
        }
        let python = Python { path, found_by };
        if let Ok(report) = probe::probe(&python, dir, &[], false)
            && missing(&report).is_empty()
        {
            step.done(&format!(
                "reusing {} ({})",
                python.path.display(),
                python.found_by
            ));
            return Ok(python);
        }
    }

    let venv = dir.join(".venv");
    let python = Python {
        path: venv.join("bin/python"),
        found_by: FoundBy::ProjectVenv,
    };
    let uv = find_program(OsStr::new("uv"));
    if !python.path.is_file() {
        step.set_message("creating .venv");
        let base = base_python()?;
        let mut cmd = match &uv {
            Some(uv) => {
                let mut c = Command::new(uv);
                c.arg("venv").arg("--python").arg(&base).arg(&venv);
                c
            }
            None => {
                let mut c = Command::new(&base);
                c.arg("-m").arg("venv").arg(&venv);
                c
            }
        };
        if let Err(e) = progress::capture(&step, &mut cmd, "creating the virtualenv") {
            step.fail();
            return Err(e);
        }
    }
    step.set_message("installing reflex-django, Reflex, Django and uvicorn");
    let specs: Vec<&str> = REQUIRED.iter().map(|(_, spec)| *spec).collect();
    let mut cmd = match &uv {
        Some(uv) => {
            let mut c = Command::new(uv);
            c.args(["pip", "install", "--python"]).arg(&python.path);
            c.args(uv_find_links());
            c
        }
        None => {
            let mut c = Command::new(&python.path);
            c.args(["-m", "pip", "install", "--quiet"]);
            c
        }
    };
    cmd.args(&specs);
    if let Err(e) = progress::capture(&step, &mut cmd, "installing packages") {
        step.fail();
        return Err(e.hint(
            "check the network access to the package index; or install reflex-django, \
             reflex, django and uvicorn into a virtualenv yourself and run \
             `reflex-django init` with it active (it is reused)",
        ));
    }
    step.done(&format!("new {}", venv.display()));
    Ok(python)
}

/// pip's `PIP_FIND_LINKS` (space-separated) as uv's `--find-links`: uv reads only its
/// own `UV_FIND_LINKS`, which wins when set. One setting then finds a local wheel of
/// reflex-django whichever installer `init` picks.
fn uv_find_links() -> Vec<String> {
    if std::env::var_os("UV_FIND_LINKS").is_some() {
        return Vec::new();
    }
    std::env::var("PIP_FIND_LINKS")
        .unwrap_or_default()
        .split_whitespace()
        .flat_map(|place| ["--find-links".to_string(), place.to_string()])
        .collect()
}

/// The required packages that `report`'s environment lacks.
fn missing(report: &Report) -> Vec<&'static str> {
    REQUIRED
        .iter()
        .filter(|(module, _)| !report.package(module).is_some_and(|p| p.importable))
        .map(|(module, _)| *module)
        .collect()
}

/// A Python ≥ 3.12 to create the virtualenv with (Django 6 needs it).
fn base_python() -> Result<PathBuf> {
    for name in ["python3.13", "python3.12", "python3", "python"] {
        let Some(path) = find_program(OsStr::new(name)) else {
            continue;
        };
        let ok = Command::new(&path)
            .args(["-c", "import sys; sys.exit(sys.version_info < (3, 12))"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok(path);
        }
    }
    Err(Error::new("no Python 3.12 or newer found to create the virtualenv with")
        .hint("install Python 3.12+ and put it on PATH, or activate a virtualenv that has reflex-django, reflex and django"))
}

/// Runs `cmd` as `step`; a failure says how to finish by hand.
fn run_step(step: Step, cmd: &mut Command, what: &str) -> Result<()> {
    progress::run(
        step,
        cmd,
        what,
        "its last lines are shown above; fix the cause, then finish by hand (e.g. \
         `reflex-django migrate` in the project) or run `reflex-django init --force` again \
         (it replaces only the files it generates)",
    )
    .map(drop)
}

fn create_superuser(
    python: &Python,
    dir: &Path,
    env: &[(String, String)],
    username: &str,
) -> Result<()> {
    let mut cmd = Command::new(&python.path);
    cmd.args(["manage.py", "createsuperuser", "--username", username])
        .arg("--email")
        .arg(format!("{username}@example.com"))
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k, v)));
    if std::env::var_os("DJANGO_SUPERUSER_PASSWORD").is_some() {
        cmd.arg("--noinput");
        return run_step(
            Step::start(format!("Creating the superuser {username}")),
            &mut cmd,
            "createsuperuser",
        );
    }
    if !std::io::stdin().is_terminal() {
        return Err(
            Error::new(format!("cannot ask for {username}'s password: no terminal")).hint(
                "set DJANGO_SUPERUSER_PASSWORD, or run `reflex-django createsuperuser` later",
            ),
        );
    }
    // Django asks for the password itself, with its validators.
    eprintln!("Creating the superuser {username}:");
    let status = cmd.status().context("cannot run createsuperuser")?;
    if !status.success() {
        return Err(Error::new(format!("createsuperuser failed ({status})"))
            .hint("run `reflex-django createsuperuser` to try again"));
    }
    Ok(())
}

/// `to` relative to `from` when it is below it, else `to` itself.
fn pathdiff(from: &Path, to: &Path) -> PathBuf {
    to.strip_prefix(from)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| to.to_path_buf())
}
