//! The checks made before anything starts, shared by `run` and `doctor`: one function
//! per question, so both ask it the same way and say the same thing. `run` stops at
//! the first problem ([`Stack::prepare`](super::Stack::prepare)); `doctor` asks every
//! question and prints a line for each, with what it found (and adds a few of its own:
//! the project's files, the Python version, the `reflex_django` package).

use crate::bun::{self, Bun};
use crate::child_env;
use crate::config::{Config, Resolved};
use crate::error::{Error, Result};
use crate::mode::Mode;
use crate::ports;
use crate::project::Project;
use crate::python::Python;
use crate::python::probe::{self, Report};

use super::audit::{self, Finding};
use super::django::Server;
use crate::build::Stamp;

/// A port the stack listens on for the browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicPort {
    pub host: String,
    pub port: u16,
    /// `the front door`, `Reflex's frontend`.
    pub what: &'static str,
    /// The option that changes it, for the hint.
    pub flag: &'static str,
}

impl PublicPort {
    /// Whether it can be bound now, naming the holder when it cannot.
    pub fn ensure_free(&self) -> Result<()> {
        ports::ensure_free(&self.host, self.port, self.what, self.flag)
    }
}

/// The public ports of `run` in `mode`: the front door, and in development Reflex's dev
/// server (which listens on every interface).
pub fn public_ports(config: &Config, mode: Mode) -> Vec<PublicPort> {
    let mut public = vec![PublicPort {
        host: config.proxy.host.clone(),
        port: config.proxy.port.0,
        what: "the front door",
        flag: "--port",
    }];
    if mode == Mode::Dev {
        public.push(PublicPort {
            host: "0.0.0.0".into(),
            port: config.reflex.frontend_port.0,
            what: "Reflex's frontend",
            flag: "--frontend-port",
        });
    }
    public
}

/// The front door and Reflex's frontend cannot share a port.
pub fn distinct(public: &[PublicPort]) -> Result<()> {
    for (i, a) in public.iter().enumerate() {
        if public[..i].iter().any(|b| b.port == a.port) {
            return Err(Error::new(format!(
                "the front door and Reflex's frontend both want port {}",
                a.port
            ))
            .hint("give them different ports: --port and --frontend-port"));
        }
    }
    Ok(())
}

/// bun, which Reflex's dev server needs: in development, unless `REFLEX_USE_NPM` asks
/// Reflex for npm. Production runs the build, without bun.
pub fn bun(mode: Mode) -> Result<Option<Bun>> {
    if mode == Mode::Dev && bun::wanted() {
        bun::find().map(Some)
    } else {
        Ok(None)
    }
}

/// The environment both children get in `mode` (with `bun` on their `PATH`), and what
/// the project's Python says in it: versions, and Django's settings loaded as the
/// children will load them.
pub fn probe(
    project: &Project,
    resolved: &Resolved,
    mode: Mode,
    python: &Python,
    bun: Option<&Bun>,
) -> Result<(Vec<(String, String)>, Report)> {
    // Django's settings may follow the mode; the probe sees what the children will.
    let mut child_env = child_env::contract_for(resolved, mode);
    child_env.extend(bun.and_then(Bun::path_env));
    let report = probe::probe(python, &project.root, &child_env, true)?;
    Ok((child_env, report))
}

/// The server that runs Django (`django.server`, with `auto` resolved); in production
/// not Django's development server.
pub fn django_server(config: &Config, report: &Report, mode: Mode) -> Result<Server> {
    let server = Server::resolve(config.django.server, report)?;
    if mode == Mode::Prod && server == Server::Runserver {
        return Err(Error::new(
            "django.server is `runserver`, Django's development server, which is not for \
             production",
        )
        .hint("set `django.server: auto` (uvicorn or granian, with workers)"));
    }
    Ok(server)
}

/// Worker processes for Django: one in development; in production `django.workers`,
/// else one per CPU.
pub fn django_workers(resolved: &Resolved, mode: Mode) -> u32 {
    match mode {
        Mode::Dev => 1,
        Mode::Prod => resolved.config.django.workers.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
            |w| w.0,
        ),
    }
}

/// Production's share: the build (missing or stale is an error) and the audit of
/// Django's settings.
pub fn production(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn development_has_two_public_ports_that_must_differ() {
        let mut config = Config::default();
        let prod = public_ports(&config, Mode::Prod);
        assert_eq!(prod.len(), 1);
        assert_eq!((prod[0].host.as_str(), prod[0].port), ("127.0.0.1", 8000));
        let dev = public_ports(&config, Mode::Dev);
        assert_eq!((dev[1].host.as_str(), dev[1].port), ("0.0.0.0", 3000));
        assert!(distinct(&dev).is_ok());
        config.reflex.frontend_port = config.proxy.port;
        let clash = distinct(&public_ports(&config, Mode::Dev)).unwrap_err();
        assert_eq!(
            clash.message(),
            "the front door and Reflex's frontend both want port 8000"
        );
        assert!(distinct(&public_ports(&config, Mode::Prod)).is_ok());
    }
}
