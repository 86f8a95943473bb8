//! Building the typed layers that are not a file: `rxconfig.py`'s plugin literals, the
//! environment and the flags; and turning serde's messages into errors with hints.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::env_var_name;
use super::settings::{self, Config, Layer};
use super::types::{ConfigPrefix, HINT_MARK};
use crate::error::{Error, Result};
use crate::project::pyliteral::PluginArgs;

/// A setting given on the command line: one flag, one layer of its own, so its source
/// names the flag.
#[derive(Clone, Debug)]
pub struct FlagValue {
    pub(super) flag: &'static str,
    pub(super) layer: Layer,
}

impl FlagValue {
    /// The flag's `raw` value read as the setting's type (checked as the file's values
    /// are) and put into its layer by `set`.
    pub fn new<T: DeserializeOwned>(
        flag: &'static str,
        raw: impl Into<Value>,
        set: fn(&mut Layer, T),
    ) -> Result<Self> {
        let value = serde_json::from_value::<T>(raw.into()).map_err(|e| {
            let (problem, hint) = split_message(&e.to_string());
            Error::new(format!("flag {flag}: {problem}")).hint(
                hint.unwrap_or_else(|| format!("the command's --help says what {flag} takes")),
            )
        })?;
        let mut layer = Layer::default();
        set(&mut layer, value);
        Ok(FlagValue { flag, layer })
    }

    /// Whether this flag sets the env file (which is read before the other layers).
    pub(super) fn env_file(&self) -> Option<&std::path::Path> {
        self.layer.env_file.as_deref()
    }
}

/// The layer of `ReflexDjangoPlugin(...)`'s literal arguments in `rxconfig.py`.
pub(super) fn rxconfig_layer(args: &PluginArgs) -> Result<Layer> {
    fn in_param(param: &'static str) -> impl Fn(Error) -> Error {
        move |e| e.in_source(&format!("rxconfig.py: ReflexDjangoPlugin({param}=…)"))
    }
    let mut layer = Layer {
        settings_module: args.settings_module.clone().map(Some),
        ..Layer::default()
    };
    if let Some(s) = &args.admin_prefix {
        layer.prefixes.admin = Some(
            parse::<ConfigPrefix>("prefixes.admin", s.as_str().into())
                .map_err(in_param("admin_prefix"))?,
        );
    }
    // The plugin's convention: an empty backend prefix means "none".
    if let Some(s) = args
        .backend_prefix
        .as_ref()
        .filter(|s| !s.trim().is_empty())
    {
        layer.prefixes.backend = Some(Some(
            parse("prefixes.backend", s.as_str().into()).map_err(in_param("backend_prefix"))?,
        ));
    }
    if let Some(list) = &args.extra_prefixes {
        layer.prefixes.extra =
            Some(parse("prefixes.extra", list.clone().into()).map_err(in_param("extra_prefixes"))?);
    }
    Ok(layer)
}

/// The layer of one environment variable that sets the setting at `path`: lists split
/// on commas, numbers and booleans parsed where the setting's default is one.
pub(super) fn env_layer(path: &str, raw: &str) -> Result<Layer> {
    let defaults = serde_json::to_value(Config::default()).expect("defaults serialize");
    let default = lookup(&defaults, path).unwrap_or(&Value::Null);
    let mut tree = Value::Object(Map::new());
    let mut node = &mut tree;
    for key in path.split('.') {
        node = node
            .as_object_mut()
            .expect("built from objects")
            .entry(key)
            .or_insert(Value::Object(Map::new()));
    }
    *node = env_value(raw, default);
    serde_path_to_error::deserialize::<_, Layer>(tree)
        .map_err(|e| schema_error(path, &e.inner().to_string()))
}

/// A value of type `T` for the setting at `path`, or an error that names the setting.
fn parse<T: DeserializeOwned>(path: &str, value: Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| schema_error(path, &e.to_string()))
}

/// Every environment variable the configuration reads, with its setting's path.
pub fn env_vars() -> Vec<(String, String)> {
    settings::paths()
        .into_iter()
        .map(|path| (env_var_name(&path), path))
        .collect()
}

/// A serde message as the problem and, when the value's type carries one, its hint.
fn split_message(message: &str) -> (String, Option<String>) {
    let message = message.split_once(" at line ").map_or(message, |(m, _)| m);
    if let Some((problem, hint)) = message.split_once(HINT_MARK) {
        return (problem.to_string(), Some(hint.trim().to_string()));
    }
    // The layers' type names mean nothing to users: a section is a mapping.
    let message = match message.split_once("expected struct ") {
        Some((before, after)) => {
            let rest = after.split_once(' ').map_or("", |(_, rest)| rest);
            format!("{before}expected a mapping of settings {rest}")
                .trim_end()
                .to_string()
        }
        None => message.to_string(),
    };
    let message = message.as_str();
    let problem = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .map(|rest| match rest.split_once(", expected ") {
            Some((found, expected)) => format!("expected {expected}, found {found}"),
            None => rest.to_string(),
        })
        .unwrap_or_else(|| message.to_string());
    (problem, None)
}

/// Turns a serde message about the setting at `path` into an error with a hint.
pub(super) fn schema_error(path: &str, message: &str) -> Error {
    let (problem, hint) = split_message(message);
    let defaults = serde_json::to_value(Config::default()).expect("defaults serialize");
    let section = lookup(&defaults, path).and_then(Value::as_object);
    let hint = hint.unwrap_or_else(|| match section.and_then(|keys| keys.iter().next()) {
        Some((key, value)) => format!(
            "`{path}` is a section: put its settings on indented lines below it, e.g. \
             `{path}:\\n  {key}: {}`; the README lists every setting",
            display(value)
        ),
        None => format!(
            "write it like `{path}: {}`; the README lists every setting",
            example_for(path)
        ),
    });
    Error::new(format!("`{path}`: {problem}")).hint(hint)
}

/// An example value for a setting, from the defaults where there is one.
fn example_for(path: &str) -> String {
    // `prefixes.extra[1]` is an item of `prefixes.extra`.
    let path = path.split('[').next().unwrap_or(path);
    let defaults = serde_json::to_value(Config::default()).expect("defaults serialize");
    match (lookup(&defaults, path).filter(|v| !v.is_null()), path) {
        (Some(Value::Array(_)), _) => "[/billing, /hooks]".into(),
        (Some(Value::String(s)), _) => s.clone(),
        (Some(other), _) => other.to_string(),
        (None, p) if p.ends_with("port") => "8001".into(),
        (None, "prefixes.backend" | "prefixes.static") => "/api".into(),
        (None, "settings_module") => "mysite.settings".into(),
        (None, "python") => ".venv/bin/python".into(),
        (None, "django.asgi") => "mysite.asgi:application".into(),
        (None, _) => "…".into(),
    }
}

fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "…".into(),
        other => other.to_string(),
    }
}

fn lookup<'a>(tree: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(tree, |node, key| node.get(key))
}

/// An environment variable's text as a value of the setting's type, told by its
/// default.
fn env_value(raw: &str, default: &Value) -> Value {
    match default {
        Value::Array(_) => Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        ),
        Value::Number(_) => serde_json::from_str::<serde_json::Number>(raw.trim())
            .map(Value::Number)
            .unwrap_or_else(|_| Value::String(raw.to_string())),
        Value::Bool(_) => match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Value::Bool(true),
            "0" | "false" | "no" | "off" => Value::Bool(false),
            _ => Value::String(raw.to_string()),
        },
        _ => Value::String(raw.to_string()),
    }
}
