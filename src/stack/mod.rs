//! The stack that `run` supervises, in development or production: what it needs to
//! know before anything starts (the [`preflight`] it shares with `doctor`: ports, the
//! interpreter, Django's facts, in production the build and the audit; the route table
//! with the [`static_prefix`]), and the plans built from that: the Django and Reflex
//! children ([`django::child`], [`reflex::child`], in the supervisor's terms through
//! [`supervision`]) and the [`front_door`].

pub mod audit;
pub mod console;
pub mod django;
pub mod front_door;
pub mod live;
pub mod noise;
pub mod preflight;
pub mod reflex;
pub mod static_prefix;
pub mod supervision;

use std::path::{Path, PathBuf};

use crate::build::Stamp;
use crate::config::{Port, Resolved, env_var_name};
use crate::error::{Context, Result};
pub use crate::mode::Mode;
use crate::ports;
use crate::project::Project;
use crate::proxy::routes::{Prefix, RouteTable};
use crate::python::probe::{self, Report};
use crate::python::{self, Python};
use audit::{Finding, Severity};

/// Every port of the stack: the public ones and the internal ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ports {
    /// The front door.
    pub proxy: u16,
    /// Reflex's Vite dev server (development only).
    pub frontend: Option<u16>,
    /// Django's server, on 127.0.0.1.
    pub django: u16,
    /// Reflex's backend, on 127.0.0.1.
    pub reflex_backend: u16,
}

pub struct Stack {
    pub mode: Mode,
    pub project: Project,
    pub resolved: Resolved,
    pub python: Python,
    pub report: Report,
    /// Django's settings as the probe saw them.
    pub django_settings: probe::Settings,
    pub static_prefix: Option<Prefix>,
    pub table: RouteTable,
    /// The environment contract, shared by both children.
    pub child_env: Vec<(String, String)>,
    pub ports: Ports,
    pub django_server: django::Server,
    /// Worker processes of Django's server (1 in development).
    pub django_workers: u32,
    /// The production build being served.
    pub build: Option<Stamp>,
    /// What the production audit found that does not refuse the start.
    pub warnings: Vec<Finding>,
    /// Private files of this run (the ASGI wrapper); removed when the run ends.
    pub runtime_dir: PathBuf,
    _runtime_dir_guard: tempfile::TempDir,
}

impl Stack {
    /// Checks everything that can be checked before a child starts, so that mistakes
    /// are one clear error instead of a crashing child: ports, bun (development), the
    /// interpreter, Django's settings (one Python call, which also gives `STATIC_URL`),
    /// and in production the build and the audit; each check is [`preflight`]'s, which
    /// `doctor` reports one by one.
    pub fn prepare(project: Project, resolved: Resolved, mode: Mode) -> Result<Stack> {
        let config = &resolved.config;
        let public = preflight::public_ports(config, mode);
        preflight::distinct(&public)?;
        for port in &public {
            port.ensure_free()?;
        }
        let python = python::find(&project, &resolved)?;
        let bun = preflight::bun(mode)?;
        let (mut child_env, report) =
            preflight::probe(&project, &resolved, mode, &python, bun.as_ref())?;
        report.require_django_and_reflex()?;
        let django_settings = report.django_settings(&resolved)?.clone();
        let django_server = preflight::django_server(config, &report, mode)?;
        let django_workers = preflight::django_workers(&resolved, mode);
        let static_prefix =
            static_prefix::resolve(&resolved, Some(&django_settings))?.map(|(prefix, _)| prefix);
        let table = RouteTable::from_config(&config.prefixes, static_prefix.clone());
        let (table, build, warnings) = match mode {
            Mode::Dev => (table, None, Vec::new()),
            Mode::Prod => {
                let (table, stamp, warnings) =
                    production(&project, &resolved, &django_settings, django_workers, table)?;
                (table, Some(stamp), warnings)
            }
        };
        let proxy_port = config.proxy.port.0;
        let frontend_port = (mode == Mode::Dev).then_some(config.reflex.frontend_port.0);
        let internal = |setting: Option<Port>, taken: &[u16]| -> Result<u16> {
            match setting {
                Some(p) => Ok(p.0),
                None => loop {
                    let port = ports::free_local_port()?;
                    if !taken.contains(&port) {
                        break Ok(port);
                    }
                },
            }
        };
        let public: Vec<u16> = std::iter::once(proxy_port).chain(frontend_port).collect();
        let django_port = internal(config.django.port, &public)?;
        let mut taken = public.clone();
        taken.push(django_port);
        let reflex_backend = internal(config.reflex.backend_port, &taken)?;
        let ports = Ports {
            proxy: proxy_port,
            frontend: frontend_port,
            django: django_port,
            reflex_backend,
        };
        // Both children see how this run is wired: the plugin's `vite patch` must agree
        // with the front door, and Django builds absolute links (password-reset mail)
        // from the app's address.
        child_env.extend([
            ("REFLEX_DJANGO_RUN".to_string(), "1".to_string()),
            (env_var_name("proxy.host"), config.proxy.host.clone()),
            (env_var_name("proxy.port"), proxy_port.to_string()),
            (
                "REFLEX_DJANGO_APP_URL".to_string(),
                app_url(&resolved, mode, &ports),
            ),
        ]);
        child_env.extend(
            static_prefix
                .as_ref()
                .map(|p| (env_var_name("prefixes.static"), p.to_string())),
        );
        // Named after this process, so a later run can tell the directory of a run that
        // was killed (or interrupted before it could clean up) and remove it.
        sweep_run_dirs(&std::env::temp_dir());
        let guard = tempfile::Builder::new()
            .prefix(&format!("{RUN_DIR_PREFIX}{}-", std::process::id()))
            .tempdir()
            .context("cannot create a private directory for this run")?;
        let runtime_dir = guard.path().to_path_buf();
        django::write_asgi_module(&runtime_dir)?;
        Ok(Stack {
            mode,
            ports,
            project,
            resolved,
            python,
            report,
            django_settings,
            static_prefix,
            table,
            child_env,
            django_server,
            django_workers,
            build,
            warnings,
            runtime_dir,
            _runtime_dir_guard: guard,
        })
    }

    /// The front door as the browser reaches it.
    pub fn front_door_url(&self) -> String {
        format!(
            "http://{}:{}",
            reflex::browser_host(&self.resolved.config.proxy.host),
            self.ports.proxy
        )
    }

    /// The app as the browser reaches it: Reflex's dev server in development, the
    /// front door (or `public_url`) in production.
    pub fn app_url(&self) -> String {
        app_url(&self.resolved, self.mode, &self.ports)
    }

    /// What restarts Django when it changes: the settings package, the project's own
    /// Django apps, and `django.watch`. Not the Reflex app (Reflex reloads itself),
    /// not installed packages.
    pub fn django_watch_paths(&self) -> Vec<PathBuf> {
        let root = &self.project.root;
        let reflex_app = self.project.reflex_app_dir().ok().flatten();
        let mut paths: Vec<PathBuf> = Vec::new();
        let settings = &self.django_settings;
        paths.extend(
            settings
                .settings_file
                .as_deref()
                .and_then(Path::parent)
                .map(Path::to_path_buf),
        );
        paths.extend(settings.apps.iter().map(|a| a.path.clone()));
        paths.retain(|p| p.starts_with(root) && !is_ignored_dir(root, p));
        if let Some(app) = &reflex_app {
            paths.retain(|p| !p.starts_with(app));
        }
        paths.extend(
            self.resolved
                .config
                .django
                .watch
                .iter()
                .map(|p| root.join(p)),
        );
        paths.sort();
        paths.dedup();
        // A directory inside another one is watched through its parent already.
        let all = paths.clone();
        paths.retain(|p| !all.iter().any(|q| q != p && p.starts_with(q)));
        paths
    }
}

/// Production's share of the preflight: refuses a missing or stale build and what
/// the audit calls an error; serves the static prefix from the build's `STATIC_ROOT`.
/// Gives the route table, the build and the audit's warnings.
fn production(
    project: &Project,
    resolved: &Resolved,
    settings: &probe::Settings,
    workers: u32,
    table: RouteTable,
) -> Result<(RouteTable, Stamp, Vec<Finding>)> {
    let (stamp, findings) = preflight::production(project, resolved, settings, workers);
    let stamp = stamp?;
    let (errors, warnings): (Vec<Finding>, Vec<Finding>) = findings
        .into_iter()
        .partition(|f| f.severity == Severity::Error);
    if let Some(first) = errors.into_iter().next() {
        return Err(first.problem.in_source("the production audit"));
    }
    let table = match &stamp.static_root {
        Some(dir) => table.serve_static_from(dir.clone()),
        None => table,
    };
    Ok((table, stamp, warnings))
}

/// The start of a run directory's name: `reflex-django-run-<pid>-<random>`.
const RUN_DIR_PREFIX: &str = "reflex-django-run-";

/// Removes the run directories in `parent` left by runs that are gone (SIGKILL, a
/// Ctrl-C before the run could clean up): those of this user whose pid is not alive.
fn sweep_run_dirs(parent: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let me = nix::unistd::getuid().as_raw();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(RUN_DIR_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<i32>().ok())
        else {
            continue;
        };
        let mine = entry.metadata().is_ok_and(|m| m.is_dir() && m.uid() == me);
        let gone = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None)
            == Err(nix::errno::Errno::ESRCH);
        if mine && gone {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn app_url(resolved: &Resolved, mode: Mode, ports: &Ports) -> String {
    match (mode, ports.frontend, &resolved.config.public_url) {
        (Mode::Dev, Some(frontend), _) => format!("http://localhost:{frontend}"),
        (_, _, Some(url)) => url.origin(),
        _ => format!(
            "http://{}:{}",
            reflex::browser_host(&resolved.config.proxy.host),
            ports.proxy
        ),
    }
}

/// Directories under the project root that never restart Django.
pub fn is_ignored_dir(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return true;
    };
    rel.components().any(|c| {
        let name = c.as_os_str().to_string_lossy();
        name.starts_with('.')
            || matches!(
                name.as_ref(),
                "node_modules" | "__pycache__" | "site-packages" | "venv" | "env"
            )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_dirs_of_runs_that_are_gone_are_swept() {
        let parent = tempfile::tempdir().unwrap();
        let mut exited = std::process::Command::new("true").spawn().unwrap();
        exited.wait().unwrap();
        let dead = parent
            .path()
            .join(format!("{RUN_DIR_PREFIX}{}-abc", exited.id()));
        let alive = parent
            .path()
            .join(format!("{RUN_DIR_PREFIX}{}-def", std::process::id()));
        let other = parent.path().join("reflex-django-run-notapid");
        for dir in [&dead, &alive, &other] {
            std::fs::create_dir(dir).unwrap();
            std::fs::write(dir.join("reflex_django_dev_asgi.py"), "").unwrap();
        }
        sweep_run_dirs(parent.path());
        assert!(!dead.exists());
        assert!(alive.exists() && other.exists());
    }
}
