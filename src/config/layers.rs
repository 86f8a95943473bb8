//! The merge rule and the per-layer conversions into JSON trees.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::types::{Config, HINT_MARK};
use super::{Source, env_var_name};
use crate::error::Error;
use crate::project::pyliteral::PluginArgs;

/// The configuration being merged: a tree of values and the source of each leaf.
pub(super) struct Merged {
    tree: Value,
    sources: BTreeMap<String, Source>,
}

impl Merged {
    pub fn new(defaults: Value) -> Self {
        let sources = leaves(&defaults)
            .into_iter()
            .map(|(path, _)| (path, Source::Default))
            .collect();
        Merged {
            tree: defaults,
            sources,
        }
    }

    /// Sets one leaf; `null` means "not set by this layer".
    pub fn set(&mut self, path: &str, value: Value, source: Source) {
        if value.is_null() {
            return;
        }
        let mut node = &mut self.tree;
        for key in path.split('.') {
            if !node.is_object() {
                *node = Value::Object(Map::new());
            }
            node = node
                .as_object_mut()
                .expect("just made an object")
                .entry(key)
                .or_insert(Value::Null);
        }
        *node = value;
        self.sources.insert(path.to_string(), source);
    }

    /// Sets every leaf of `layer`.
    pub fn overlay(&mut self, layer: &Value, source: &Source) {
        for (path, value) in leaves(layer) {
            self.set(&path, value.clone(), source.clone());
        }
    }

    pub fn get(&self, path: &str) -> Option<&Value> {
        path.split('.')
            .try_fold(&self.tree, |node, key| node.get(key))
    }

    pub fn source_of(&self, path: &str) -> &Source {
        self.sources.get(path).unwrap_or(&Source::Default)
    }

    pub fn finish(self) -> (Value, BTreeMap<String, Source>) {
        (self.tree, self.sources)
    }
}

/// Every leaf of a tree by dotted path; lists are leaves.
pub(super) fn leaves(tree: &Value) -> Vec<(String, &Value)> {
    fn walk<'a>(prefix: &str, node: &'a Value, out: &mut Vec<(String, &'a Value)>) {
        match node {
            Value::Object(map) => {
                for (key, child) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&path, child, out);
                }
            }
            leaf => out.push((prefix.to_string(), leaf)),
        }
    }
    let mut out = Vec::new();
    walk("", tree, &mut out);
    out
}

/// Validates one leaf value against the schema; the error names the key.
pub(super) fn validate_leaf(path: &str, value: &Value) -> Result<(), Error> {
    let mut tree = Value::Object(Map::new());
    let mut node = &mut tree;
    for key in path.split('.') {
        node = node
            .as_object_mut()
            .expect("built from objects")
            .entry(key)
            .or_insert(Value::Object(Map::new()));
    }
    *node = value.clone();
    match serde_json::from_value::<Config>(tree) {
        Ok(_) => Ok(()),
        Err(e) => Err(schema_error(path, &e.to_string())),
    }
}

/// Turns a serde message about `path` into an error with a hint.
pub(super) fn schema_error(path: &str, message: &str) -> Error {
    let message = message
        .split_once(" at line ")
        .map_or(message, |(m, _)| m)
        .to_string();
    if let Some((problem, hint)) = message.split_once(HINT_MARK) {
        return Error::new(format!("`{path}`: {problem}")).hint(hint.trim());
    }
    let problem = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .map(|rest| match rest.split_once(", expected ") {
            Some((found, expected)) => format!("expected {expected}, found {found}"),
            None => rest.to_string(),
        })
        .unwrap_or(message);
    let example = example_for(path);
    Error::new(format!("`{path}`: {problem}")).hint(format!(
        "write it like `{path}: {example}`; the README lists every setting"
    ))
}

/// An example value for a setting, from the defaults where there is one.
fn example_for(path: &str) -> String {
    let defaults = serde_json::to_value(Config::default()).expect("defaults serialize");
    let default = path
        .split('.')
        .try_fold(&defaults, |node, key| node.get(key))
        .filter(|v| !v.is_null());
    match (default, path) {
        (Some(Value::Array(_)), _) | (None, "prefixes.extra") => "[/billing, /hooks]".into(),
        (Some(Value::String(s)), _) => s.clone(),
        (Some(other), _) => other.to_string(),
        (None, p) if p.ends_with("port") => "8001".into(),
        (None, "prefixes.backend") | (None, "prefixes.static") => "/api".into(),
        (None, "settings_module") => "mysite.settings".into(),
        (None, "python") => ".venv/bin/python".into(),
        (None, "django.asgi") => "mysite.asgi:application".into(),
        (None, _) => "…".into(),
    }
}

/// An environment variable's text as a value of the leaf's type: lists split on
/// commas, numbers and booleans parsed where the default is one.
pub(super) fn env_value(raw: &str, default: &Value) -> Value {
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

/// The config paths that `ReflexDjangoPlugin(...)` literals set.
pub(super) fn rxconfig_layer(args: &PluginArgs) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    if let Some(s) = &args.settings_module {
        out.push(("settings_module", Value::String(s.clone())));
    }
    if let Some(s) = &args.admin_prefix {
        out.push(("prefixes.admin", Value::String(s.clone())));
    }
    // The plugin's convention: an empty backend prefix means "none".
    if let Some(s) = args
        .backend_prefix
        .as_ref()
        .filter(|s| !s.trim().is_empty())
    {
        out.push(("prefixes.backend", Value::String(s.clone())));
    }
    if let Some(list) = &args.extra_prefixes {
        out.push((
            "prefixes.extra",
            list.iter().cloned().map(Value::String).collect(),
        ));
    }
    out
}

/// The `ReflexDjangoPlugin` parameter behind a config path.
pub(super) fn plugin_param(path: &str) -> &'static str {
    match path {
        "prefixes.admin" => "admin_prefix",
        "prefixes.backend" => "backend_prefix",
        "prefixes.extra" => "extra_prefixes",
        _ => "settings_module",
    }
}

/// Every environment variable the configuration reads, with its config path.
pub fn env_vars() -> Vec<(String, String)> {
    let defaults = serde_json::to_value(Config::default()).expect("defaults serialize");
    leaves(&defaults)
        .into_iter()
        .map(|(path, _)| (env_var_name(&path), path))
        .collect()
}
