//! Reading `reflex-django.yaml`: syntax and schema errors point at file:line:column.

use std::path::Path;

use super::layers::schema_error;
use super::settings::{self, Layer};
use crate::error::{Context, Error, Result};

/// The file's settings as a layer, checked against the schema; errors name the file,
/// line and column.
pub(super) fn read(path: &Path) -> Result<Layer> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse(&text).map_err(|e| {
        let source = display_name(path, e.location);
        e.error.in_source(&source)
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

fn parse(text: &str) -> Result<Layer, YamlError> {
    let located = |e: &yaml_serde::Error| e.location().map(|l| (l.line(), l.column()));
    // Is it YAML at all? Then: does it fit the schema?
    if let Err(e) = yaml_serde::from_str::<yaml_serde::Value>(text) {
        return Err(YamlError {
            location: located(&e),
            error: syntax_error(&message_of(&e, "")),
        });
    }
    let deserializer = yaml_serde::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, Option<Layer>>(deserializer)
        .map(Option::unwrap_or_default)
        .map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            YamlError {
                location: located(&inner),
                error: schema_problem(&path, &message_of(&inner, &path)),
            }
        })
}

/// The parser's message without the path and position it adds (we report both
/// ourselves).
fn message_of(error: &yaml_serde::Error, path: &str) -> String {
    let text = error.to_string();
    let text = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m);
    // The parser names the innermost key it was in, which for a value inside an
    // optional one is the parent of `path`.
    match text.split_once(": ") {
        Some((place, rest)) if !path.is_empty() && path.starts_with(place) => rest.trim().into(),
        _ => text.trim().into(),
    }
}

fn syntax_error(message: &str) -> Error {
    Error::new(format!("invalid YAML: {message}")).hint(
        "check the indentation (spaces, not tabs), the `key: value` form and the quotes near \
         that position",
    )
}

/// An error with a hint for what does not fit the schema at `path` (`.` is the top
/// level).
fn schema_problem(path: &str, message: &str) -> Error {
    if message.starts_with("unknown field") {
        let (section, field) = match path.rsplit_once('.') {
            Some((section, field)) => (Some(section), field),
            None => (None, path),
        };
        let known = keys_in(section);
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        let place = section.map_or(String::new(), |s| format!(" in `{s}`"));
        let mut hint = match did_you_mean(field, &known) {
            Some(best) => format!("did you mean `{best}`? "),
            None => String::new(),
        };
        hint.push_str(&format!("known keys here: {}", known.join(", ")));
        return Error::new(format!("unknown key `{field}`{place}")).hint(hint);
    }
    if path == "." {
        let found = message
            .strip_prefix("invalid type: ")
            .and_then(|rest| rest.split_once(", expected"))
            .map_or(message, |(found, _)| found);
        return Error::new(format!(
            "the top level must be a mapping of settings, found {found}"
        ))
        .hint("start from the commented example in the README, e.g. `proxy:\\n  port: 8000`");
    }
    schema_error(path, message)
}

/// The keys of a section (or of the top level), as written in the file.
fn keys_in(section: Option<&str>) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for path in settings::paths() {
        let key = match section {
            None => path.split('.').next().map(str::to_string),
            Some(s) => path
                .strip_prefix(s)
                .and_then(|rest| rest.strip_prefix('.'))
                .map(str::to_string),
        };
        if let Some(key) = key.filter(|k| !keys.contains(k)) {
            keys.push(key);
        }
    }
    keys
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
    fn errors_inside_optional_values_name_the_key() {
        let (msg, loc) = err("prefixes:\n  backend: /ping\n");
        assert_eq!(loc, Some((2, 3)));
        assert!(
            msg.starts_with("`prefixes.backend`: `/ping` collides"),
            "{msg}"
        );
        let (msg, _) = err("reflex:\n  backend_port: 0\n");
        assert!(
            msg.starts_with("`reflex.backend_port`: expected a port"),
            "{msg}"
        );
    }

    #[test]
    fn a_section_that_is_not_a_mapping_says_so() {
        let (msg, loc) = err("proxy: 5\n");
        assert_eq!(loc, Some((1, 8)));
        assert!(
            msg.starts_with("`proxy`: expected a mapping of settings, found integer `5`"),
            "{msg}"
        );
        assert!(msg.contains("hint: `proxy` is a section"), "{msg}");
        let (msg, _) = err("- proxy\n");
        assert!(
            msg.starts_with("the top level must be a mapping of settings, found sequence"),
            "{msg}"
        );
    }

    #[test]
    fn syntax_error_is_located() {
        let (msg, loc) = err("proxy:\n\tport: 1\n");
        assert!(msg.starts_with("invalid YAML"), "{msg}");
        assert!(loc.is_some());
    }

    #[test]
    fn empty_sections_and_files_are_defaults() {
        for text in ["", "# nothing\nproxy:\n", "prefixes:\n  extra:\n"] {
            let mut config = settings::Config::default();
            let mut sources = settings::Sources::default();
            parse(text)
                .unwrap()
                .apply(&mut config, &mut sources, &super::super::Source::File);
            assert_eq!(config, settings::Config::default(), "{text:?}");
            assert_eq!(sources, settings::Sources::default(), "{text:?}");
        }
    }
}
