//! The environment contract: what every child process and forwarded command gets on
//! top of the environment reflex-django was started with.

use crate::config::{Resolved, env_var_name};
use crate::mode::Mode;

/// Variables to set for a child: the env file's values (the environment wins), the
/// settings module, unbuffered Python output, and the resolved prefixes so Django's
/// settings and nested `reflex-django` calls see the same routing.
pub fn contract(resolved: &Resolved) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = resolved
        .env_file_vars
        .iter()
        .filter(|(key, _)| std::env::var_os(key).is_none())
        .cloned()
        .collect();
    let config = &resolved.config;
    if let Some(settings) = &config.settings_module {
        vars.push(("DJANGO_SETTINGS_MODULE".into(), settings.clone()));
    }
    vars.push(("PYTHONUNBUFFERED".into(), "1".into()));
    let prefixes = &config.prefixes;
    let exports = [
        ("prefixes.admin", Some(prefixes.admin.0.to_string())),
        (
            "prefixes.backend",
            prefixes.backend.as_ref().map(|p| p.0.to_string()),
        ),
        (
            "prefixes.extra",
            Some(
                prefixes
                    .extra
                    .iter()
                    .map(|p| p.0.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        ),
    ];
    for (path, value) in exports {
        if let Some(value) = value {
            vars.push((env_var_name(path), value));
        }
    }
    vars
}

/// Tells Django's settings the mode (`dev` or `prod`): the settings `init` writes turn
/// DEBUG off in production.
pub const MODE_VAR: &str = "REFLEX_DJANGO_ENV";

/// [`contract`] for a run, a build or a check in `mode`.
pub fn contract_for(resolved: &Resolved, mode: Mode) -> Vec<(String, String)> {
    let mut vars = contract(resolved);
    vars.push((MODE_VAR.into(), mode.name().into()));
    vars
}
