//! `reflex-django doctor`: checks the environment, one line per check, with a fix for
//! every problem. Exits 1 when any check fails. `--prod` checks what `run --env prod`
//! needs instead: the build and the production audit (whose warnings do not fail).

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use owo_colors::OwoColorize;

use super::GlobalArgs;
use crate::config::{Config, Resolved};
use crate::error::Error;
use crate::python::{self, probe, probe::Report};
use crate::stack::Mode;
use crate::stack::audit::Severity;
use crate::stack::django::Server;
use crate::stack::preflight;

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
    // The ports checked when the configuration cannot be read: the defaults.
    let mut public = preflight::public_ports(&Config::default(), mode);
    // A `run` serving this project holds its ports: that is no conflict.
    let mut running = None;
    // Asked first, as `run` does: its directory goes on the probe's PATH.
    let bun = preflight::bun(mode);

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
            match global
                .flag_values()
                .and_then(|flags| crate::config::load(&project, &flags))
            {
                Err(e) => checks.push(Check::new("configuration", Err(e))),
                Ok(resolved) => {
                    checks.push(Check::new("configuration", Ok("valid".into())));
                    public = preflight::public_ports(&resolved.config, mode);
                    let bun = bun.as_ref().ok().and_then(Option::as_ref);
                    let report = python::find(&project, &resolved).and_then(|py| {
                        preflight::probe(&project, &resolved, mode, &py, bun)
                            .map(|(_, report)| (py, report))
                    });
                    match report {
                        Err(e) => checks.push(Check::new("python", Err(e))),
                        Ok((py, report)) => {
                            checks.push(python_check(&py, &report));
                            checks.extend(package_checks(&resolved, &report, mode));
                            let settings = report.django_settings(&resolved);
                            checks.push(settings_check(&resolved, settings.clone()));
                            if let (Mode::Prod, Ok(settings)) = (mode, settings) {
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
        let found = bun.map(|bun| match bun {
            Some(b) => format!("{} at {}", b.version, b.path.display()),
            None => "not needed: REFLEX_USE_NPM is set".into(),
        });
        checks.push(Check::new("bun", found));
    }
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
    let distinct = preflight::distinct(&public);
    for (i, port) in public.iter().enumerate() {
        let (name, free) = match i {
            0 => (
                "front door port",
                format!("{}:{} is free", port.host, port.port),
            ),
            _ => ("frontend port", format!("{} is free", port.port)),
        };
        let outcome = match ours(port.port) {
            Some(served) => Ok(served),
            // A clash is the second port's problem.
            None if i > 0 => distinct
                .clone()
                .and_then(|()| port.ensure_free())
                .map(|()| free),
            None => port.ensure_free().map(|()| free),
        };
        checks.push(Check::new(name, outcome));
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
    resolved: &Resolved,
    settings: &probe::Settings,
) -> Vec<Check> {
    let workers = preflight::django_workers(resolved, Mode::Prod);
    let (stamp, findings) = preflight::production(project, resolved, settings, workers);
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

/// The packages `run` needs, the server that runs Django (as `run` picks it), and the
/// plugin's package.
fn package_checks(resolved: &Resolved, report: &Report, mode: Mode) -> Vec<Check> {
    let server =
        preflight::django_server(&resolved.config, report, mode).and_then(|server| match server {
            Server::Runserver => Ok("runserver (Django's own)".to_string()),
            _ => report
                .require(server.name(), server.name())
                .map(|v| format!("{} {v}", server.name())),
        });
    vec![
        Check::new("django", report.require("django", "django")),
        Check::new("reflex", report.require("reflex", "reflex")),
        Check::new("asgi server", server),
        Check::new(
            "reflex_django",
            report.require("reflex_django", "reflex-django"),
        ),
    ]
}

fn settings_check(resolved: &Resolved, settings: Result<&probe::Settings, Error>) -> Check {
    let outcome = settings.map(|facts| {
        format!(
            "{} ({}) loads; DEBUG {}, STATIC_URL {}",
            resolved
                .config
                .settings_module
                .as_deref()
                .unwrap_or_default(),
            resolved.sources.settings_module,
            if facts.debug { "on" } else { "off" },
            facts.static_url
        )
    });
    Check::new("settings", outcome)
}
