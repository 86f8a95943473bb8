//! Forwarding to `manage.py`: `reflex-django migrate`, `manage …`, `django …`.
//!
//! The forwarded command replaces this process (exec), so the terminal, stdin,
//! signals and the exit code are exactly manage.py's. Nothing else is started on
//! this path: it costs a config read and an exec.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

use clap::Args;

use super::GlobalArgs;
use crate::child_env;
use crate::error::{Error, Result};
use crate::python;

#[derive(Debug, Args)]
pub struct ManageArgs {
    /// The manage.py command and its arguments, passed through untouched
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub args: Vec<OsString>,
}

pub fn forward(global: &GlobalArgs, args: Vec<OsString>) -> Result<ExitCode> {
    let (project, resolved) = global.load(Vec::new())?;
    let manage_py = project.require_manage_py()?;
    let python = python::find(&project, &resolved)?;
    let err = Command::new(&python.path)
        .arg(manage_py)
        .args(&args)
        .envs(child_env::contract(&resolved))
        .exec();
    Err(Error::new(format!(
        "cannot run {} (found by {})",
        python.path.display(),
        python.found_by
    ))
    .cause(err)
    .hint("check that the interpreter exists and is executable, or pass --python PATH"))
}
