//! The Django child of the stack: a real ASGI server on 127.0.0.1 and an internal
//! port (in production with several workers), or `runserver` on request in
//! development.

use std::path::{Path, PathBuf};

use crate::config::DjangoServer;
use crate::error::{Error, Result};
use crate::python::probe::Report;
use crate::supervisor::{ChildSpec, Expect, Probe, Watch};

use super::console::Console;
use super::supervision::{alive_check, restart_policy};
use super::{Mode, Stack};

/// The ASGI wrapper module written into the run's private directory.
pub const ASGI_MODULE: &str = "reflex_django_dev_asgi";
/// Answered `alive` by [`ASGI_MODULE`] itself, without Django: the readiness and
/// liveness checks of the Django child.
pub const ALIVE_PATH: &str = "/_reflex_django/alive";
/// The environment variable that gives [`ASGI_MODULE`] the front door's key.
pub const FRONT_DOOR_KEY_VAR: &str = "REFLEX_DJANGO_FRONT_DOOR_KEY";
const ASGI_SOURCE: &str = include_str!("django_asgi.py");

/// Which server runs Django, after `auto` is resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    Uvicorn,
    Granian,
    Runserver,
}

impl Server {
    pub fn name(self) -> &'static str {
        match self {
            Server::Uvicorn => "uvicorn",
            Server::Granian => "granian",
            Server::Runserver => "runserver",
        }
    }

    /// `auto` prefers uvicorn, then granian (which Reflex installs).
    pub fn resolve(setting: DjangoServer, report: &Report) -> Result<Server> {
        let has = |module: &str| report.package(module).is_some_and(|p| p.importable);
        // A server the settings name must be there; the error says where to install it.
        let named = |name: &str, server: Server| {
            report.require(name, name).map(|_| server).map_err(|e| {
                let hint = e.hint_text().unwrap_or_default().to_string();
                Error::new(format!("django.server is `{name}`, but {}", e.message())).hint(hint)
            })
        };
        match setting {
            DjangoServer::Runserver => Ok(Server::Runserver),
            DjangoServer::Uvicorn => named("uvicorn", Server::Uvicorn),
            DjangoServer::Granian => named("granian", Server::Granian),
            DjangoServer::Auto if has("uvicorn") => Ok(Server::Uvicorn),
            DjangoServer::Auto if has("granian") => Ok(Server::Granian),
            DjangoServer::Auto => Err(Error::new(
                "no ASGI server to run Django: neither uvicorn nor granian is installed",
            )
            .hint(format!(
                "{} -m pip install uvicorn, or set `django.server: runserver`",
                report.executable.display()
            ))),
        }
    }
}

/// How to start Django.
#[derive(Clone, Debug)]
struct Plan {
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    port: u16,
}

/// Writes the ASGI wrapper into `runtime_dir` (the run's private directory).
pub fn write_asgi_module(runtime_dir: &Path) -> Result<()> {
    let path = runtime_dir.join(format!("{ASGI_MODULE}.py"));
    std::fs::write(&path, ASGI_SOURCE).map_err(|e| {
        Error::new(format!("cannot write {}", path.display()))
            .cause(e)
            .hint("check that the temporary directory ($TMPDIR) is writable and not full")
    })
}

/// Django as the supervisor runs it: the server's command line with the front door's
/// `key`, the checks that it is ready and still alive, the restart policy, and in
/// development the files whose changes restart it.
pub fn child(stack: &Stack, console: &Console, key: &str) -> Result<ChildSpec> {
    let mut plan = plan(stack, stack.django_server, stack.ports.django)?;
    plan.env.push((FRONT_DOOR_KEY_VAR.into(), key.into()));
    let config = &stack.resolved.config;
    // Under uvicorn and granian our ASGI module answers the check itself, so Django
    // logs no `Not Found` for it; `runserver` is only asked whether it listens.
    let (ready, alive) = match stack.django_server {
        Server::Runserver => (Probe::Tcp { port: plan.port }, None),
        _ => {
            let probe = Probe::Http {
                port: plan.port,
                path: ALIVE_PATH.into(),
                expect: Expect::Body("alive".into()),
            };
            (probe.clone(), alive_check(&config.liveness, probe))
        }
    };
    Ok(ChildSpec {
        args: plan.args,
        env: plan.env,
        cwd: Some(stack.project.root.clone()),
        ready,
        alive,
        ready_timeout: config.django.startup_timeout.0,
        restart: restart_policy(&config.restart),
        // Production code does not change under a running server.
        watch: (stack.mode == Mode::Dev).then(|| Watch {
            paths: stack.django_watch_paths(),
            include: vec!["*.py".into(), "*.html".into()],
            ignore: watch_ignores(stack),
        }),
        on_line: Some(console.hook("django", None)),
        ..ChildSpec::new("django", plan.program)
    })
}

fn watch_ignores(stack: &Stack) -> Vec<String> {
    let mut ignore: Vec<String> = [
        ".web/",
        ".git/",
        ".venv/",
        "venv/",
        "node_modules/",
        "__pycache__/",
        "*.pyc",
        "*.sqlite3",
        "*.sqlite3-journal",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    if let Ok(Some(app)) = stack.project.reflex_app_dir() {
        ignore.push(app.to_string_lossy().into_owned());
    }
    let settings = &stack.django_settings;
    ignore.extend(
        settings
            .sqlite_files
            .iter()
            .chain(settings.media_root.iter())
            .map(|p| p.to_string_lossy().into_owned()),
    );
    ignore
}

fn plan(stack: &Stack, server: Server, port: u16) -> Result<Plan> {
    let address = format!("127.0.0.1:{port}");
    let port_s = port.to_string();
    let mut env = stack.child_env.clone();
    let args: Vec<String> = match server {
        Server::Runserver => {
            let manage = stack.project.require_manage_py()?;
            vec![
                manage.to_string_lossy().into_owned(),
                "runserver".into(),
                address,
                "--noreload".into(),
            ]
        }
        Server::Uvicorn | Server::Granian => {
            let pythonpath = std::env::join_paths(
                [stack.runtime_dir.clone(), stack.project.root.clone()]
                    .into_iter()
                    .chain(std::env::var_os("PYTHONPATH").map(PathBuf::from)),
            )
            .map_err(|e| {
                Error::new("cannot build PYTHONPATH").cause(e).hint(
                    "a path in PYTHONPATH or the project's path contains `:`; move or rename it",
                )
            })?;
            env.push((
                "PYTHONPATH".into(),
                pythonpath.to_string_lossy().into_owned(),
            ));
            if let Some(asgi) = asgi_app(stack) {
                env.push(("REFLEX_DJANGO_ASGI_APP".into(), asgi));
            }
            let target = format!("{ASGI_MODULE}:application");
            let workers = stack.django_workers.to_string();
            let mut args: Vec<&str> = if server == Server::Uvicorn {
                vec![
                    "-m",
                    "uvicorn",
                    &target,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    &port_s,
                    "--lifespan",
                    "off",
                    // Our ASGI module decides whom to believe (the front door's key);
                    // uvicorn's own rule would believe any local peer.
                    "--no-proxy-headers",
                ]
            } else {
                vec![
                    "-m",
                    "granian",
                    "--interface",
                    "asginl",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    &port_s,
                ]
            };
            if stack.mode == Mode::Prod {
                args.extend(["--workers", &workers]);
                if server == Server::Uvicorn {
                    // A line per request costs every request; the edge logs them.
                    args.push("--no-access-log");
                }
            }
            if server == Server::Granian {
                args.push(&target);
            }
            args.into_iter().map(String::from).collect()
        }
    };
    Ok(Plan {
        program: stack.python.path.clone(),
        args,
        env,
        port,
    })
}

/// The project's ASGI application: the `django.asgi` setting, else the `asgi.py` next
/// to the settings module (or one package up); `None` means Django's default one.
fn asgi_app(stack: &Stack) -> Option<String> {
    if let Some(asgi) = &stack.resolved.config.django.asgi {
        return Some(asgi.clone());
    }
    let settings = stack.resolved.config.settings_module.as_deref()?;
    let mut package: Vec<&str> = settings.split('.').collect();
    package.pop();
    while !package.is_empty() {
        let module = format!("{}.asgi", package.join("."));
        let file = stack.project.root.join(package.join("/")).join("asgi.py");
        if file.is_file() {
            return Some(format!("{module}:application"));
        }
        package.pop();
    }
    None
}
