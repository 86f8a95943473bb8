//! The static prefix, decided here only: the `prefixes.static` setting, else Django's
//! `STATIC_URL`. `run` knows Django's settings already; `routes`, `vite patch` and
//! `deploy` ask through [`find`].

use crate::child_env;
use crate::config::{Resolved, Source};
use crate::error::{Error, Result};
use crate::project::Project;
use crate::proxy::routes::Prefix;
use crate::python::{self, probe};

/// The static prefix and where it came from: the `prefixes.static` setting, else
/// Django's `STATIC_URL` (from `django`, the probe's facts); `None` when static files
/// live on another origin or Django's settings are not known.
pub fn resolve(
    resolved: &Resolved,
    django: Option<&probe::Settings>,
) -> Result<Option<(Prefix, Source)>> {
    if let Some(p) = &resolved.config.prefixes.static_ {
        return Ok(Some((
            p.0.clone(),
            resolved.sources.prefixes.static_.clone(),
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

/// [`resolve`] for a project; asks Django (a Python call that loads the project's
/// settings) only when `prefixes.static` is not set.
pub fn find(project: &Project, resolved: &Resolved) -> Result<Option<(Prefix, Source)>> {
    if resolved.config.prefixes.static_.is_some() {
        return resolve(resolved, None);
    }
    let python = python::find(project, resolved)?;
    let report = probe::probe(&python, &project.root, &child_env::contract(resolved), true)?;
    let settings = report.django_settings(resolved).map_err(|e| {
        let hint = match e.hint_text() {
            Some(first) => format!("{first}; or set `prefixes.static` in reflex-django.yaml"),
            None => {
                "run `reflex-django doctor`, or set `prefixes.static` in reflex-django.yaml".into()
            }
        };
        e.hint(hint)
    })?;
    resolve(resolved, Some(settings))
}
