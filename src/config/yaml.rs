//! Reading `reflex-django.yaml`: syntax and schema errors point at file:line:column.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::layers::schema_error;
use super::types::Config;
use crate::error::{Context, Error, Result};

/// The file as a JSON tree of the keys it sets, after checking it against the schema.
pub(super) fn read(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse(&text).map_err(|e| {
        let source = display_name(path, e.location);
        e.in_source(&source)
    })
}

fn display_name(path: &Path, location: Option<(usize, usize)>) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    match location {
        Some((line, column)) => format!("{name}:{line}:{column}"),
        None => name,
    }
}

/// A parse failure and where it happened.
#[derive(Debug)]
struct YamlError {
    error: Error,
    location: Option<(usize, usize)>,
}

impl YamlError {
    fn in_source(self, source: &str) -> Error {
        self.error.in_source(source)
    }
}

fn parse(text: &str) -> Result<Value, YamlError> {
    // Checking against the typed schema first gives precise, located errors.
    if let Err(e) = serde_yaml::from_str::<Option<Config>>(text) {
        let location = e.location().map(|l| (l.line(), l.column()));
        return Err(YamlError {
            error: describe(&e.to_string()),
            location,
        });
    }
    let tree: Option<Value> = serde_yaml::from_str(text).map_err(|e| YamlError {
        location: e.location().map(|l| (l.line(), l.column())),
        error: describe(&e.to_string()),
    })?;
    Ok(tree.unwrap_or(Value::Object(Default::default())))
}

static UNKNOWN_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:(?P<path>[\w.]+): )?unknown field `(?P<field>[^`]*)`, (?P<expected>.*)$")
        .expect("valid regex")
});
static KEYED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?P<path>[\w.]+): (?P<rest>.*)$").expect("valid regex"));
static BACKTICKED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"`([^`]*)`").expect("valid regex"));

/// Rewrites serde_yaml's message (minus its location suffix) as an error with a hint.
fn describe(message: &str) -> Error {
    let message = message
        .rsplit_once(" at line ")
        .map_or(message, |(m, _)| m)
        .trim();
    if let Some(caps) = UNKNOWN_FIELD.captures(message) {
        let field = &caps["field"];
        let section = caps.name("path").map(|m| m.as_str());
        let known: Vec<&str> = BACKTICKED
            .captures_iter(&caps["expected"])
            .map(|c| c.get(1).expect("group").as_str())
            .collect();
        let place = section.map_or(String::new(), |s| format!(" in `{s}`"));
        let mut hint = match did_you_mean(field, &known) {
            Some(best) => format!("did you mean `{best}`? "),
            None => String::new(),
        };
        hint.push_str(&format!("known keys here: {}", known.join(", ")));
        return Error::new(format!("unknown key `{field}`{place}")).hint(hint);
    }
    if let Some(caps) = KEYED.captures(message) {
        return schema_error(&caps["path"], &caps["rest"]);
    }
    if message.starts_with("invalid type") {
        return Error::new(format!(
            "the top level must be a mapping of settings ({message})"
        ))
        .hint("start from the commented example in the README, e.g. `proxy:\\n  port: 8000`");
    }
    Error::new(format!("invalid YAML: {message}")).hint(
        "check the indentation (spaces, not tabs), the `key: value` form and the quotes near \
         that position",
    )
}

/// The known name closest to a misspelt one, if any is close enough.
fn did_you_mean<'a>(typo: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(typo, k), *k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> (String, Option<(usize, usize)>) {
        let e = parse(text).unwrap_err();
        (e.error.to_string(), e.location)
    }

    #[test]
    fn unknown_key_suggests_the_right_one() {
        let (msg, loc) = err("proxy:\n  prot: 3\n");
        assert_eq!(loc, Some((2, 3)));
        assert!(msg.starts_with("unknown key `prot` in `proxy`"), "{msg}");
        assert!(msg.contains("did you mean `port`?"), "{msg}");
    }

    #[test]
    fn wrong_type_names_the_expected_type() {
        let (msg, loc) = err("proxy:\n  port: lots\n");
        assert_eq!(loc, Some((2, 9)));
        assert!(
            msg.starts_with(
                "`proxy.port`: expected a port number from 1 to 65535, found string \"lots\""
            ),
            "{msg}"
        );
    }

    #[test]
    fn bad_prefix_carries_the_prefix_hint() {
        let (msg, _) = err("prefixes:\n  extra: [/_event/x]\n");
        assert!(
            msg.contains("collides with Reflex's reserved path `/_event`"),
            "{msg}"
        );
        assert!(msg.contains("hint: Reflex needs these paths"), "{msg}");
    }

    #[test]
    fn syntax_error_is_located() {
        let (msg, loc) = err("proxy:\n\tport: 1\n");
        assert!(msg.starts_with("invalid YAML"), "{msg}");
        assert!(loc.is_some());
    }

    #[test]
    fn empty_sections_and_files_are_defaults() {
        assert_eq!(parse("").unwrap(), serde_json::json!({}));
        assert_eq!(
            parse("# nothing\nproxy:\n").unwrap(),
            serde_json::json!({"proxy": null})
        );
    }
}
