//! `reflex-django doctor`: checks the environment, one line per check, with a fix for
//! every problem. Exits 1 when any check fails. `--prod` checks what `run --env prod`
//! needs instead: the build and the production audit (whose warnings do not fail).

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use owo_colors::OwoColorize;

use super::GlobalArgs;
use crate::config::DjangoServer;
use crate::error::Error;
use crate::python::probe::{self, DjangoFacts, Report};
use crate::stack::audit::Severity;
use crate::stack::{self, Mode};
use crate::{bun, child_env, ports, python};

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Check for `run --env prod`: the build and the production audit of Django's
    /// settings
    #[arg(long)]
    pub prod: bool,
}

struct Check {
    name: &'static str,
    outcome: Result<String, Error>,
    /// A problem that does not fail the check (production audit warnings).
    warning: bool,
}

impl Check {
    fn new(name: &'static str, outcome: Result<String, Error>) -> Self {
        Check {
            name,
            outcome,
            warning: false,
        }
    }
}

pub fn run(global: &GlobalArgs, args: DoctorArgs) -> crate::error::Result<ExitCode> {
    let mode = if args.prod { Mode::Prod } else { Mode::Dev };
    let mut checks = Vec::new();
    let mut proxy_port = (String::from("127.0.0.1"), 8000);
    let mut frontend_port = 3000;
    // A `run` serving this project holds its ports: that is no conflict.
    let mut running = None;

    match global.project() {
        Err(e) => checks.push(Check::new("project", Err(e))),
        Ok(project) => {
            running = crate::stack::live::read(&project.root);
            let markers: Vec<&str> = [
                (project.config_file.is_some(), crate::project::CONFIG_FILE),
                (project.rxconfig.is_some(), crate::project::RXCONFIG_FILE),
                (project.manage_py.is_some(), crate::project::MANAGE_FILE),
            ]
            .into_iter()
            .filter_map(|(has, name)| has.then_some(name))
            .collect();
            checks.push(Check::new(
                "project",
                Ok(format!(
                    "{} ({})",
                    project.root.display(),
                    markers.join(", ")
                )),
            ));
            checks.push(Check::new(
                "manage.py",
                project.require_manage_py().map(|p| p.display().to_string()),
            ));
            match crate::config::load(&project, &global.flag_values()) {
                Err(e) => checks.push(Check::new("configuration", Err(e))),
                Ok(resolved) => {
                    checks.push(Check::new("configuration", Ok("valid".into())));
                    let config = &resolved.config;
                    proxy_port = (config.proxy.host.clone(), config.proxy.port.0);
                    frontend_port = config.reflex.frontend_port.0;
                    let report = python::find(&project, &resolved).and_then(|py| {
                        let env = child_env::contract_for(&resolved, mode);
                        let django = resolved.config.settings_module.is_some();
                        probe::probe(&py, &project.root, &env, django).map(|r| (py, r))
                    });
                    match report {
                        Err(e) => checks.push(Check::new("python", Err(e))),
                        Ok((py, report)) => {
                            checks.push(python_check(&py, &report));
                            checks.extend(package_checks(&report, config.django.server));
                            checks.push(settings_check(&resolved, &report));
                            if let (Mode::Prod, Some(DjangoFacts::Loaded(settings))) =
                                (mode, &report.django)
                            {
                                checks.extend(production_checks(&project, &resolved, settings));
                            }
                        }
                    }
                }
            }
        }
    }
    // Production needs bun to build only, not to run.
    if mode == Mode::Dev {
        checks.push(Check::new(
            "bun",
            bun::find().map(|b| format!("{} at {}", b.version, b.path.display())),
        ));
    }
    let (host, port) = proxy_port;
    let ours = |port: u16| {
        running
            .as_ref()
            .filter(|run| run.proxy == port || run.frontend == Some(port))
            .map(|run| {
                format!(
                    "{port} is served by `reflex-django run` (pid {}) for this project",
                    run.pid
                )
            })
    };
    checks.push(Check::new(
        "front door port",
        match ours(port) {
            Some(served) => Ok(served),
            None => ports::ensure_free(&host, port, "the front door", "--port")
                .map(|_| format!("{host}:{port} is free")),
        },
    ));
    if mode == Mode::Dev {
        checks.push(Check::new(
            "frontend port",
            match ours(frontend_port) {
                Some(served) => Ok(served),
                None => ports::ensure_free(
                    "0.0.0.0",
                    frontend_port,
                    "Reflex's frontend",
                    "--frontend-port",
                )
                .map(|_| format!("{frontend_port} is free")),
            },
        ));
    }

    let mut out = anstream::stdout().lock();
    let failed = checks
        .iter()
        .filter(|c| c.outcome.is_err() && !c.warning)
        .count();
    for check in &checks {
        match &check.outcome {
            Ok(detail) => {
                let _ = writeln!(out, "{} {:<16} {}", "✓".green(), check.name, detail);
            }
            Err(e) => {
                let mark = if check.warning {
                    "!".yellow().to_string()
                } else {
                    "✗".red().to_string()
                };
                let _ = writeln!(out, "{mark} {:<16} {}", check.name, e.message());
                if let Some(hint) = e.hint_text() {
                    let _ = writeln!(out, "  {:<16} {} {}", "", "hint:".cyan(), hint);
                }
            }
        }
    }
    if failed == 0 {
        let _ = writeln!(out, "\nAll {} checks passed.", checks.len());
        Ok(ExitCode::SUCCESS)
    } else {
        let _ = writeln!(out, "\n{failed} of {} checks failed.", checks.len());
        Ok(ExitCode::FAILURE)
    }
}

/// The build and the production audit, as `run --env prod` sees them.
fn production_checks(
    project: &crate::project::Project,
    resolved: &crate::config::Resolved,
    settings: &probe::Settings,
) -> Vec<Check> {
    let workers = stack::django_workers(resolved);
    let (stamp, findings) = stack::production_checks(project, resolved, settings, workers);
    let mut checks = vec![Check::new(
        "build",
        stamp.map(|s| {
            let origin = if s.same_origin {
                "same-origin".to_string()
            } else {
                format!("backend fixed to {}", s.api_url)
            };
            format!("{} pages, up to date, {origin}", s.routes.len())
        }),
    )];
    let clean = findings.is_empty();
    for finding in findings {
        checks.push(Check {
            name: "audit",
            warning: finding.severity == Severity::Warning,
            outcome: Err(finding.problem),
        });
    }
    if clean {
        checks.push(Check::new(
            "audit",
            Ok("DEBUG, SECRET_KEY, hosts, cookies and CSRF are fit for production".into()),
        ));
    }
    checks
}

fn python_check(py: &python::Python, report: &Report) -> Check {
    let version: Vec<u32> = report
        .python
        .split('.')
        .filter_map(|p| p.parse().ok())
        .collect();
    let detail = format!(
        "{} at {} ({})",
        report.python,
        py.path.display(),
        py.found_by
    );
    if version < vec![3, 12] {
        Check::new(
            "python",
            Err(Error::new(format!("{detail} is too old")).hint(
                "Django 6 needs Python 3.12 or newer; create the virtualenv with a newer Python",
            )),
        )
    } else {
        Check::new("python", Ok(detail))
    }
}

fn package_checks(report: &Report, server: DjangoServer) -> Vec<Check> {
    let installed = |module: &str| {
        report
            .package(module)
            .filter(|p| p.importable)
            .map(|p| p.version.clone().unwrap_or_else(|| "installed".into()))
    };
    let missing = |what: &str, dist: &str| {
        Error::new(format!("{what} in this Python")).hint(format!(
            "{} -m pip install {dist}",
            report.executable.display()
        ))
    };
    let require = |name: &'static str, module: &str, dist: &str| {
        Check::new(
            name,
            installed(module).ok_or_else(|| missing(&format!("{module} is not installed"), dist)),
        )
    };
    let server_check = match server {
        DjangoServer::Runserver => Ok("runserver (Django's own)".to_string()),
        DjangoServer::Uvicorn => installed("uvicorn")
            .map(|v| format!("uvicorn {v}"))
            .ok_or_else(|| missing("uvicorn is not installed", "uvicorn")),
        DjangoServer::Granian => installed("granian")
            .map(|v| format!("granian {v}"))
            .ok_or_else(|| missing("granian is not installed", "granian")),
        DjangoServer::Auto => installed("uvicorn")
            .map(|v| format!("uvicorn {v}"))
            .or_else(|| installed("granian").map(|v| format!("granian {v}")))
            .ok_or_else(|| missing("neither uvicorn nor granian is installed", "uvicorn")),
    };
    vec![
        require("django", "django", "django"),
        require("reflex", "reflex", "reflex"),
        Check::new("asgi server", server_check),
        require("reflex_django", "reflex_django", "reflex-django"),
    ]
}

fn settings_check(resolved: &crate::config::Resolved, report: &Report) -> Check {
    let settings = match resolved.settings_module() {
        Ok(s) => s,
        Err(e) => return Check::new("settings", Err(e)),
    };
    let outcome = match &report.django {
        Some(DjangoFacts::Loaded(facts)) => Ok(format!(
            "{settings} ({}) loads; DEBUG {}, STATIC_URL {}",
            resolved.source("settings_module"),
            if facts.debug { "on" } else { "off" },
            facts.static_url
        )),
        Some(DjangoFacts::Failed { error }) => Err(Error::new(format!(
            "{settings} (from {}) does not load: {error}",
            resolved.source("settings_module")
        ))
        .hint(
            "run `reflex-django check` to see Django's full error, and check that the module \
             path is importable from the project root",
        )),
        None => Err(Error::new("Django's settings were not checked")),
    };
    Check::new("settings", outcome)
}
