//! Configuration: the settings ([`settings`]), their value types ([`types`]), and the
//! layering that resolves them.
//!
//! Layers, lowest first: defaults < `manage.py` < `rxconfig.py` plugin literals <
//! `reflex-django.yaml` < environment (`REFLEX_DJANGO_*`, the env file) < flags.
//! Every layer is a typed [`Layer`] checked on its own against the schema; one rule
//! merges them: for each setting, the highest layer that sets it wins, and the winner
//! is recorded as that setting's source.

mod layers;
pub use layers::{FlagValue, env_vars};
pub mod settings;
pub mod types;
mod yaml;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Context, Error, Result};
use crate::project::Project;
pub use settings::*;
pub use types::*;

/// Where a setting's value came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Source {
    Default,
    /// `os.environ.setdefault(...)` in `manage.py`.
    ManagePy,
    /// `ReflexDjangoPlugin(...)` in `rxconfig.py`.
    Rxconfig,
    /// `reflex-django.yaml`.
    File,
    /// An environment variable, possibly from the env file.
    Env {
        var: String,
        from_env_file: bool,
    },
    Flag {
        flag: String,
    },
    /// Asked from Django at start-up (e.g. `STATIC_URL`).
    Django {
        setting: String,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::ManagePy => f.write_str("manage.py"),
            Source::Rxconfig => f.write_str("rxconfig.py"),
            Source::File => f.write_str(crate::project::CONFIG_FILE),
            Source::Env {
                var,
                from_env_file: false,
            } => write!(f, "env {var}"),
            Source::Env {
                var,
                from_env_file: true,
            } => write!(f, "env file {var}"),
            Source::Flag { flag } => write!(f, "flag {flag}"),
            Source::Django { setting } => write!(f, "Django {setting}"),
        }
    }
}

/// The resolved configuration of a project.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub config: Config,
    /// The source of every setting.
    pub sources: Sources,
    /// The env file that was loaded, if any.
    pub env_file: Option<PathBuf>,
    /// Variables from the env file that the environment does not already set.
    pub env_file_vars: Vec<(String, String)>,
}

impl Resolved {
    /// The settings module, or an error that lists the five ways to set it.
    pub fn settings_module(&self) -> Result<&str> {
        self.config.settings_module.as_deref().ok_or_else(|| {
            Error::new("no Django settings module is configured").hint(
                "set `settings_module: mysite.settings` in reflex-django.yaml, pass \
                 --settings, export DJANGO_SETTINGS_MODULE, or pass settings_module= to \
                 ReflexDjangoPlugin in rxconfig.py",
            )
        })
    }
}

/// Environment variable that sets a config path: `proxy.port` → `REFLEX_DJANGO_PROXY_PORT`.
pub fn env_var_name(path: &str) -> String {
    format!("REFLEX_DJANGO_{}", path.replace('.', "_").to_uppercase())
}

/// Resolves the project's configuration from every layer.
pub fn load(project: &Project, flags: &[FlagValue]) -> Result<Resolved> {
    load_with_env(project, flags, &|name| std::env::var(name).ok())
}

/// [`load`] with an explicit environment lookup (tests use a fixed one).
pub fn load_with_env(
    project: &Project,
    flags: &[FlagValue],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Resolved> {
    let mut config = Config::default();
    let mut sources = Sources::default();

    if let Some(settings) = project.manage_py_settings()? {
        let layer = Layer {
            settings_module: Some(Some(settings)),
            ..Layer::default()
        };
        layer.apply(&mut config, &mut sources, &Source::ManagePy);
    }
    if let Some(args) = project.plugin_args()? {
        layers::rxconfig_layer(&args)?.apply(&mut config, &mut sources, &Source::Rxconfig);
    }
    if let Some(file) = &project.config_file {
        yaml::read(file)?.apply(&mut config, &mut sources, &Source::File);
    }

    // The env file's location is itself a setting, so resolve it before reading it.
    let env_file_setting = match flags.iter().find_map(FlagValue::env_file) {
        Some(path) => Some(path.to_path_buf()),
        None => env(&env_var_name("env_file")).map(PathBuf::from),
    };
    let explicit = env_file_setting.is_some() || sources.env_file != Source::Default;
    let env_file_path = project
        .root
        .join(env_file_setting.unwrap_or_else(|| config.env_file.clone()));
    let env_file_vars = read_env_file(&env_file_path, explicit)?;
    let from_file = |name: &str| {
        env_file_vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let lookup = |name: &str| -> Option<(String, bool)> {
        env(name)
            .map(|v| (v, false))
            .or_else(|| from_file(name).map(|v| (v, true)))
    };
    for path in settings::paths() {
        let var = env_var_name(&path);
        let found = lookup(&var).map(|v| (var.clone(), v)).or_else(|| {
            // Django's own variable names the settings module too.
            (path == "settings_module")
                .then(|| lookup("DJANGO_SETTINGS_MODULE"))
                .flatten()
                .map(|v| ("DJANGO_SETTINGS_MODULE".to_string(), v))
        });
        let Some((var, (raw, from_env_file))) = found else {
            continue;
        };
        if raw.is_empty() {
            continue;
        }
        let layer = layers::env_layer(&path, &raw)
            .map_err(|e| e.in_source(&format!("environment variable {var}={raw}")))?;
        layer.apply(
            &mut config,
            &mut sources,
            &Source::Env { var, from_env_file },
        );
    }

    for flag in flags {
        let source = Source::Flag {
            flag: flag.flag.to_string(),
        };
        flag.layer.clone().apply(&mut config, &mut sources, &source);
    }

    let loaded = env_file_path.is_file().then_some(env_file_path);
    Ok(Resolved {
        config,
        sources,
        env_file: loaded,
        env_file_vars,
    })
}

/// Reads `KEY=value` pairs; a missing file is fine unless it was asked for explicitly.
fn read_env_file(path: &Path, explicit: bool) -> Result<Vec<(String, String)>> {
    if !path.is_file() {
        if explicit {
            return Err(
                Error::new(format!("the env file {} does not exist", path.display()))
                    .hint("create it, or point `env_file` in reflex-django.yaml at the right file"),
            );
        }
        return Ok(Vec::new());
    }
    let iter = dotenvy::from_path_iter(path)
        .with_context(|| format!("cannot read the env file {}", path.display()))?;
    iter.map(|item| {
        item.map_err(|e| {
            let place = match &e {
                dotenvy::Error::LineParse(line, _) => std::fs::read_to_string(path)
                    .ok()
                    .and_then(|text| text.lines().position(|l| l.contains(line.as_str())))
                    .map(|n| format!(", line {}: `{line}`", n + 1))
                    .unwrap_or_else(|| format!(": `{line}`")),
                other => format!(": {other}"),
            };
            Error::new(format!(
                "cannot parse the env file {}{place}",
                path.display()
            ))
            .hint("each line must be KEY=value; quote values that contain spaces or #")
        })
    })
    .collect()
}

#[cfg(test)]
mod tests;
