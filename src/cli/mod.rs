//! The command line: clap definitions and dispatch, one module per command.

mod build;
mod deploy;
mod doctor;
mod init;
mod manage;
mod routes;
mod run;
mod supervise;
mod vite;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{self, FlagValue, Resolved};
use crate::error::Result;
use crate::project::Project;

/// Run Django and Reflex together: one command, one front door.
///
/// Any other command is forwarded to Django's manage.py with the project's settings,
/// e.g. `reflex-django migrate`. `reflex-django help` shows Django's commands.
#[derive(Debug, Parser)]
#[command(
    name = "reflex-django",
    version,
    disable_help_subcommand = true,
    subcommand_required = true,
    arg_required_else_help = true,
    after_help = "Django commands: reflex-django <command> [args...] runs `python manage.py \
                  <command> [args...]`.\nSee `reflex-django help` for the list."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Project options")]
pub struct GlobalArgs {
    /// The project directory [default: found upwards from the current directory]
    #[arg(long, global = true, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Django settings module, e.g. mysite.settings
    #[arg(long, global = true, value_name = "MODULE")]
    pub settings: Option<String>,
    /// Python interpreter of the project's environment
    #[arg(long, global = true, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Environment file to load [default: .env]
    #[arg(long, global = true, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start Django and Reflex behind the front door, and keep them running
    Run(run::RunArgs),
    /// Build for production: the Reflex frontend, Django's static files, compressed
    Build(build::BuildArgs),
    /// Create a new, working Django + Reflex project
    Init(init::InitArgs),
    /// Show the routing table and where each setting came from
    Routes(routes::RoutesArgs),
    /// Check Python, Django, Reflex, bun and the ports, with a fix for each problem
    Doctor(doctor::DoctorArgs),
    /// Keep Vite's proxy rules for the Django prefixes in .web/vite.config.js
    Vite(vite::ViteArgs),
    /// Files for several replicas behind a load balancer: nginx, compose, k8s
    Deploy(deploy::DeployArgs),
    /// Run a manage.py command, also one whose name clashes with ours
    #[command(visible_alias = "django")]
    Manage(manage::ManageArgs),
    #[command(name = "__supervise", hide = true)]
    Supervise { spec: PathBuf },
    #[command(name = "__guardian", hide = true)]
    Guardian { session: String },
    #[command(external_subcommand)]
    Forward(Vec<OsString>),
}

pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            let mut stderr = anstream::stderr().lock();
            e.report(&mut stderr);
            let _ = stderr.flush();
            ExitCode::from(2)
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    let global = cli.global;
    match cli.command {
        Command::Run(args) => run::run(&global, args),
        Command::Routes(args) => routes::run(&global, args),
        Command::Build(args) => build::run(&global, args),
        Command::Doctor(args) => doctor::run(&global, args),
        Command::Init(args) => init::run(&global, args),
        Command::Vite(args) => vite::run(&global, args),
        Command::Deploy(args) => deploy::run(&global, args),
        Command::Manage(args) => manage::forward(&global, args.args),
        Command::Forward(args) => manage::forward(&global, args),
        Command::Supervise { spec } => supervise::run(&spec),
        Command::Guardian { session } => Ok(crate::supervisor::guardian::run(&session)),
    }
}

impl GlobalArgs {
    /// The configuration values given as flags.
    pub fn flag_values(&self) -> Result<Vec<FlagValue>> {
        let path = |p: &PathBuf| p.to_string_lossy().into_owned();
        [
            self.settings
                .clone()
                .map(|s| FlagValue::new("--settings", s, |l, s| l.settings_module = Some(Some(s)))),
            self.python
                .as_ref()
                .map(|p| FlagValue::new("--python", path(p), |l, p| l.python = Some(Some(p)))),
            self.env_file
                .as_ref()
                .map(|p| FlagValue::new("--env-file", path(p), |l, p| l.env_file = Some(p))),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    pub fn project(&self) -> Result<Project> {
        match &self.project {
            Some(dir) => Project::discover(dir),
            None => Project::discover(&std::env::current_dir().unwrap_or_else(|_| ".".into())),
        }
    }

    /// The project and its resolved configuration, with `extra` flags on top.
    pub fn load(&self, extra: Vec<FlagValue>) -> Result<(Project, Resolved)> {
        let project = self.project()?;
        let mut flags = self.flag_values()?;
        flags.extend(extra);
        let resolved = config::load(&project, &flags)?;
        Ok((project, resolved))
    }
}
