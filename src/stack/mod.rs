//! The stack that `run` supervises, in development or production: what it needs to
//! know before anything starts (interpreter, ports, Django's facts, the route table,
//! in production the build and the audit), and the Django and Reflex child plans
//! built from that.

pub mod audit;
pub mod console;
pub mod django;
pub mod front_door;
pub mod live;
pub mod noise;
pub mod reflex;
pub mod supervision;

use std::path::{Path, PathBuf};

use crate::build::Stamp;
use crate::config::{Port, Resolved, Source, env_var_name};
use crate::error::{Context, Error, Result};
pub use crate::mode::Mode;
use crate::project::Project;
use crate::proxy::routes::{Prefix, RouteTable};
use crate::python::probe::{self, Report};
use crate::python::{self, Python};
use crate::{bun, child_env, ports};
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
    /// and in production the build and the audit.
    pub fn prepare(project: Project, resolved: Resolved, mode: Mode) -> Result<Stack> {
        let config = &resolved.config;
        let proxy_port = config.proxy.port.0;
        let frontend_port = match mode {
            Mode::Dev => Some(config.reflex.frontend_port.0),
            Mode::Prod => None,
        };
        if frontend_port == Some(proxy_port) {
            return Err(Error::new(format!(
                "the front door and Reflex's frontend both want port {proxy_port}"
            ))
            .hint("give them different ports: --port and --frontend-port"));
        }
        ports::ensure_free(&config.proxy.host, proxy_port, "the front door", "--port")?;
        if let Some(port) = frontend_port {
            ports::ensure_free("0.0.0.0", port, "Reflex's frontend", "--frontend-port")?;
        }
        let python = python::find(&project, &resolved)?;
        let bun = if mode == Mode::Dev && std::env::var_os("REFLEX_USE_NPM").is_none() {
            Some(bun::find()?)
        } else {
            None
        };
        // Django's settings may follow the mode; the probe sees what the children will.
        let mut child_env = child_env::contract_for(&resolved, mode);
        child_env.extend(bun.as_ref().and_then(bun::Bun::path_env));
        let report = probe::probe(&python, &project.root, &child_env, true)?;
        let django_settings = report.django_settings()?.clone();
        report.require_django_and_reflex(&python.path)?;
        let django_server = django::Server::resolve(config.django.server, &report)?;
        let django_workers = match mode {
            Mode::Dev => 1,
            Mode::Prod => django_workers(&resolved),
        };
        let static_prefix =
            static_prefix(&resolved, Some(&django_settings))?.map(|(prefix, _)| prefix);
        let table = RouteTable::from_config(&config.prefixes, static_prefix.clone());
        let (table, build, warnings) = match mode {
            Mode::Dev => (table, None, Vec::new()),
            Mode::Prod => {
                let checked = Production {
                    project: &project,
                    resolved: &resolved,
                    settings: &django_settings,
                    server: django_server,
                    workers: django_workers,
                };
                let (table, stamp, warnings) = checked.prepare(table)?;
                (table, Some(stamp), warnings)
            }
        };
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

/// Production's share of the preflight.
struct Production<'a> {
    project: &'a Project,
    resolved: &'a Resolved,
    settings: &'a probe::Settings,
    server: django::Server,
    workers: u32,
}

impl Production<'_> {
    /// Refuses Django's development server, a missing or stale build and what the audit
    /// calls an error; serves the static prefix from the build's `STATIC_ROOT`. Gives
    /// the route table, the build and the audit's warnings.
    fn prepare(self, table: RouteTable) -> Result<(RouteTable, Stamp, Vec<Finding>)> {
        if self.server == django::Server::Runserver {
            return Err(Error::new(
                "django.server is `runserver`, Django's development server, which is not for \
                 production",
            )
            .hint("set `django.server: auto` (uvicorn or granian, with workers)"));
        }
        let (stamp, findings) =
            production_checks(self.project, self.resolved, self.settings, self.workers);
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

/// Worker processes for Django in production: `django.workers`, else one per CPU.
pub fn django_workers(resolved: &Resolved) -> u32 {
    resolved.config.django.workers.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        |w| w.0,
    )
}

/// The production preflight shared by `run --env prod` and `doctor --prod`: the
/// build (missing or stale is an error) and the audit of Django's settings.
pub fn production_checks(
    project: &Project,
    resolved: &Resolved,
    settings: &probe::Settings,
    django_workers: u32,
) -> (Result<Stamp>, Vec<Finding>) {
    let deployment = audit::Deployment {
        public_url: resolved.config.public_url.as_ref(),
        django_workers,
        behind_proxy: !resolved.config.proxy.trusted_proxies.is_empty(),
    };
    let findings = audit::audit(settings, &deployment);
    let stamp = Stamp::current(project).and_then(|stamp| {
        if let Some(dir) = &stamp.static_root {
            crate::build::check_static_root(project, dir)?;
            if !dir.is_dir() {
                return Err(Error::new(format!(
                    "Django's static files are missing from {}",
                    dir.display()
                ))
                .hint("run `reflex-django build` again (it runs collectstatic)"));
            }
        }
        let serves = crate::build::api_url(resolved);
        if !stamp.same_origin && stamp.api_url != serves {
            return Err(Error::new(format!(
                "the build's frontend talks to {}, but this run is reached at {serves}",
                stamp.api_url
            ))
            .hint(
                "build again for this address (`reflex-django build` with the same --port or \
                 public_url), or install reflex-django in the project's Python: its builds \
                 talk to whatever origin serves them",
            ));
        }
        Ok(stamp)
    });
    (stamp, findings)
}

/// The static prefix and where it came from: the `prefixes.static` setting, else
/// Django's `STATIC_URL` (from `django`, the probe's facts); `None` when static files
/// live on another origin or Django's settings are not known.
pub fn static_prefix(
    resolved: &Resolved,
    django: Option<&probe::Settings>,
) -> Result<Option<(Prefix, Source)>> {
    if let Some(p) = &resolved.config.prefixes.static_ {
        return Ok(Some((
            p.0.clone(),
            resolved.source("prefixes.static").clone(),
        )));
    }
    let Some(settings) = django else {
        return Ok(None);
    };
    let static_url = &settings.static_url;
    let source = Source::Django {
        setting: "STATIC_URL".into(),
    };
    match Prefix::from_static_url(static_url) {
        None => Ok(None),
        Some(Ok(p)) => Ok(Some((p, source))),
        Some(Err(e)) => Err(
            Error::new(format!("Django's STATIC_URL `{static_url}`: {e}")).hint(format!(
                "{}; or set `prefixes.static` in reflex-django.yaml",
                e.hint()
            )),
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
