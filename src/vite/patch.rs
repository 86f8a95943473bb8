//! The patch: a marked block of proxy rules inside the `server: { … }` object of
//! `vite.config.js`, placed by a pure text → text function.
//!
//! The block is delimited by block comments, so it is valid wherever it lands (even
//! right before a `}` on the same line), and it is always inserted as
//! `"\n" + indent + BEGIN … END` right after an opening brace. Removing exactly that
//! span gives back the original text, which is what makes the patch idempotent and
//! leaves everything outside the block untouched.

use super::lexer::{self, Kind, Token};
use super::rules::ViteRules;
use crate::error::{Error, Result};

/// First bytes of the comment that opens the block.
pub const BEGIN: &str = "/* reflex-django:begin";
/// The comment that closes the block.
pub const END: &str = "/* reflex-django:end */";
const BEGIN_LINE: &str = "/* reflex-django:begin: Django's paths are proxied; \
                          written by reflex-django on every compile, edits are lost */";

const UNIT: &str = "  ";

/// Puts `rules` into `text` (the contents of `vite.config.js`), replacing a block from
/// an earlier run. Fails, and changes nothing, when it cannot place the block safely.
pub fn patch(text: &str, rules: &ViteRules) -> Result<String> {
    let clean = strip(text)?;
    let tokens = tokenize(&clean)?;
    let server = find_server(&clean, &tokens)?;
    let newline = if clean.contains("\r\n") { "\r\n" } else { "\n" };
    let inner = child_indent(&clean, &tokens, server);

    let (at, block) = match find_key(&clean, &tokens, server, "proxy")? {
        // The user's own `proxy: { … }`: our entries go first, so they win over a
        // broader user key (Vite uses the first matching key).
        Some(proxy) => {
            let indent = child_indent(&clean, &tokens, proxy);
            let mut block = format!("{newline}{indent}{BEGIN_LINE}{newline}");
            push_entries(&mut block, rules, &indent, newline);
            block.push_str(&format!("{indent}{END}"));
            (tokens[proxy].end, block)
        }
        None => {
            let entry_indent = format!("{inner}{UNIT}");
            let mut block =
                format!("{newline}{inner}{BEGIN_LINE}{newline}{inner}proxy: {{{newline}");
            push_entries(&mut block, rules, &entry_indent, newline);
            block.push_str(&format!("{inner}}},{newline}{inner}{END}"));
            (tokens[server].end, block)
        }
    };
    let mut out = String::with_capacity(clean.len() + block.len());
    out.push_str(&clean[..at]);
    out.push_str(&block);
    out.push_str(&clean[at..]);
    Ok(out)
}

fn push_entries(block: &mut String, rules: &ViteRules, indent: &str, newline: &str) {
    let target = js_string(&rules.target);
    for pattern in &rules.patterns {
        // No `changeOrigin`: Django must see the browser's Host for its CSRF check.
        block.push_str(&format!(
            "{indent}{}: {{ target: {target}, ws: true }},{newline}",
            js_string(pattern)
        ));
    }
}

/// A JavaScript string literal (JSON's syntax is a subset of it).
fn js_string(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

/// Removes every block an earlier [`patch`] placed; the text is otherwise unchanged.
pub fn strip(text: &str) -> Result<String> {
    let tokens = tokenize(text)?;
    let comments = tokens.iter().filter(|t| t.kind == Kind::Comment);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut open: Option<usize> = None;
    for comment in comments {
        let body = &text[comment.start..comment.end];
        if body.starts_with(BEGIN) {
            if open.is_some() {
                return Err(broken_block(
                    "a second begin marker comes before the end marker",
                ));
            }
            // Back over the indent and the line break that `patch` put before it.
            let before = text[..comment.start].trim_end_matches([' ', '\t']);
            let Some(before) = before.strip_suffix('\n') else {
                return Err(broken_block("the begin marker does not start a line"));
            };
            open = Some(before.strip_suffix('\r').unwrap_or(before).len());
        } else if body == END {
            let Some(start) = open.take() else {
                return Err(broken_block("an end marker has no begin marker"));
            };
            out.push_str(&text[copied..start]);
            copied = comment.end;
        }
    }
    if open.is_some() {
        return Err(broken_block("the begin marker has no end marker"));
    }
    out.push_str(&text[copied..]);
    Ok(out)
}

fn broken_block(problem: &str) -> Error {
    Error::new(format!(
        "the reflex-django block in vite.config.js is damaged: {problem}"
    ))
    .hint(
        "delete the lines from `/* reflex-django:begin` to `/* reflex-django:end */` \
         (Reflex also regenerates the file on its next compile)",
    )
}

fn tokenize(text: &str) -> Result<Vec<Token>> {
    lexer::tokenize(text).map_err(|e| {
        let (line, column) = line_column(text, e.offset);
        Error::new("cannot read vite.config.js as JavaScript")
            .cause(format!("line {line}, column {column}: {e}"))
            .hint(
                "the file looks cut short or is not JavaScript; let Reflex regenerate it \
                 (`reflex run` or delete .web/vite.config.js)",
            )
    })
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
    (line, column)
}

/// The `{` of the config's `server: { … }` object. With several `server` objects,
/// the one inside `defineConfig(…)` is the config's own.
fn find_server(text: &str, tokens: &[Token]) -> Result<usize> {
    let candidates: Vec<Value> = (0..tokens.len())
        .filter_map(|i| property_value(text, tokens, i, "server"))
        .collect();
    let chosen: Vec<&Value> = if candidates.len() > 1 {
        let define = define_config_span(text, tokens);
        candidates
            .iter()
            .filter(|v| define.is_some_and(|(open, close)| open < v.key && v.key < close))
            .collect()
    } else {
        candidates.iter().collect()
    };
    match chosen.as_slice() {
        [
            Value {
                open: Some(open), ..
            },
        ] => Ok(*open),
        [Value { open: None, .. }] => Err(Error::new(
            "the `server` option in vite.config.js is not an object literal",
        )
        .hint("write it as `server: { … }` so reflex-django can add its proxy rules")),
        [] if candidates.is_empty() => Err(Error::new(
            "vite.config.js has no `server: { … }` object to add the Django proxy rules to",
        )
        .hint(
            "add `server: {},` to the object passed to defineConfig, or let Reflex \
             regenerate the file",
        )),
        _ => Err(Error::new(format!(
            "vite.config.js has {} `server: {{ … }}` objects and none is clearly the \
             config's own",
            candidates.len()
        ))
        .hint("keep a single `server` object inside `defineConfig(…)`")),
    }
}

/// The `(`…`)` token indices of the first `defineConfig(` call.
fn define_config_span(text: &str, tokens: &[Token]) -> Option<(usize, usize)> {
    tokens.windows(2).enumerate().find_map(|(i, w)| {
        let is_call = w[0].kind == Kind::Ident
            && &text[w[0].start..w[0].end] == "defineConfig"
            && w[1].kind == Kind::Punct(b'(');
        is_call.then(|| (i + 1, w[1].pair.unwrap_or(tokens.len())))
    })
}

/// A property found in an object literal: its key token and, when its value is an
/// object literal, that value's `{` token.
struct Value {
    key: usize,
    open: Option<usize>,
}

/// `key` at token `i` as a property name (`key: …`, `"key": …`) in an object literal.
fn property_value(text: &str, tokens: &[Token], i: usize, key: &str) -> Option<Value> {
    let token = &tokens[i];
    let name = match token.kind {
        Kind::Ident => &text[token.start..token.end],
        Kind::Str => &text[token.start + 1..token.end - 1],
        _ => return None,
    };
    if name != key {
        return None;
    }
    let prev = significant(tokens, (0..i).rev())?;
    if !matches!(tokens[prev].kind, Kind::Punct(b'{' | b',')) {
        return None;
    }
    let colon = significant(tokens, i + 1..tokens.len())?;
    if tokens[colon].kind != Kind::Punct(b':') {
        return None;
    }
    let value = significant(tokens, colon + 1..tokens.len());
    let open = value.filter(|&v| tokens[v].kind == Kind::Punct(b'{'));
    Some(Value { key: i, open })
}

fn significant(tokens: &[Token], mut range: impl Iterator<Item = usize>) -> Option<usize> {
    range.find(|&i| tokens[i].kind != Kind::Comment)
}

/// The object literal value of the direct child property `key` of the object opened at
/// token `object`.
fn find_key(text: &str, tokens: &[Token], object: usize, key: &str) -> Result<Option<usize>> {
    let close = tokens[object].pair.unwrap_or(tokens.len());
    let depth = tokens[object].depth + 1;
    let found = (object + 1..close)
        .filter(|&i| tokens[i].depth == depth)
        .find_map(|i| property_value(text, tokens, i, key));
    match found {
        None => Ok(None),
        Some(Value {
            open: Some(open), ..
        }) => Ok(Some(open)),
        Some(Value { open: None, .. }) => Err(Error::new(format!(
            "`server.{key}` in vite.config.js is not an object literal"
        ))
        .hint(format!(
            "write it as `{key}: {{ … }}` so reflex-django can put its rules first"
        ))),
    }
}

/// The indent of the children of the object opened at token `open`: the indent of its
/// first child on a line of its own, else one unit more than the line of the `{`.
fn child_indent(text: &str, tokens: &[Token], open: usize) -> String {
    let brace_line = line_start(text, tokens[open].start);
    if let Some(child) = tokens.get(open + 1) {
        let line = line_start(text, child.start);
        let is_inside = Some(open + 1) != tokens[open].pair;
        let indent = &text[line..child.start];
        if is_inside && line > brace_line && indent.chars().all(|c| c == ' ' || c == '\t') {
            return indent.to_string();
        }
    }
    format!("{}{UNIT}", indent_of(text, brace_line))
}

fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |n| n + 1)
}

fn indent_of(text: &str, line: usize) -> &str {
    let rest = &text[line..];
    &rest[..rest.len() - rest.trim_start_matches([' ', '\t']).len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rules() -> ViteRules {
        ViteRules {
            patterns: vec!["^/admin(?:[/?#]|$)".into(), "^/static(?:[/?#]|$)".into()],
            target: "http://127.0.0.1:8000".into(),
        }
    }

    #[test]
    fn adds_a_proxy_object_to_the_server_object() {
        let text = "export default defineConfig({\n  server: {\n    port: 3000,\n  },\n});\n";
        insta::assert_snapshot!(patch(text, &rules()).unwrap(), @r#"
        export default defineConfig({
          server: {
            /* reflex-django:begin: Django's paths are proxied; written by reflex-django on every compile, edits are lost */
            proxy: {
              "^/admin(?:[/?#]|$)": { target: "http://127.0.0.1:8000", ws: true },
              "^/static(?:[/?#]|$)": { target: "http://127.0.0.1:8000", ws: true },
            },
            /* reflex-django:end */
            port: 3000,
          },
        });
        "#);
    }

    #[test]
    fn puts_its_entries_first_in_an_existing_user_proxy() {
        let text = "export default {\n  server: {\n    proxy: {\n      '/api': 'http://x',\n    },\n  },\n};\n";
        let out = patch(text, &rules()).unwrap();
        insta::assert_snapshot!(out, @r#"
        export default {
          server: {
            proxy: {
              /* reflex-django:begin: Django's paths are proxied; written by reflex-django on every compile, edits are lost */
              "^/admin(?:[/?#]|$)": { target: "http://127.0.0.1:8000", ws: true },
              "^/static(?:[/?#]|$)": { target: "http://127.0.0.1:8000", ws: true },
              /* reflex-django:end */
              '/api': 'http://x',
            },
          },
        };
        "#);
        assert_eq!(out.matches("proxy:").count(), 1);
    }

    #[test]
    fn braces_in_strings_comments_regexes_and_templates_do_not_mislead_it() {
        let text = r#"const re = /server: \{/; // server: {
/* server: { */ const s = "server: {", t = `server: ${ "{" } {`;
export default defineConfig({
  define: { x: '}' },
  server: { port: 1, open: `/${"}"}` },
});
"#;
        let out = patch(text, &rules()).unwrap();
        assert!(
            out.contains("server: {\n    /* reflex-django:begin"),
            "{out}"
        );
        assert!(
            out.ends_with("/* reflex-django:end */ port: 1, open: `/${\"}\"}` },\n});\n"),
            "{out}"
        );
        assert_eq!(strip(&out).unwrap(), text);
    }

    #[test]
    fn empty_and_quoted_server_objects() {
        let out = patch("export default { \"server\": {} }", &rules()).unwrap();
        insta::assert_snapshot!(out, @r#"
        export default { "server": {
          /* reflex-django:begin: Django's paths are proxied; written by reflex-django on every compile, edits are lost */
          proxy: {
            "^/admin(?:[/?#]|$)": { target: "http://127.0.0.1:8000", ws: true },
            "^/static(?:[/?#]|$)": { target: "http://127.0.0.1:8000", ws: true },
          },
          /* reflex-django:end */} }
        "#);
    }

    #[test]
    fn a_changed_rule_set_replaces_the_block() {
        let text = "export default {\n  server: {\n    port: 3000,\n  },\n};\n";
        let first = patch(text, &rules()).unwrap();
        let other = ViteRules {
            patterns: vec!["^/api(?:[/?#]|$)".into()],
            target: "http://127.0.0.1:9000".into(),
        };
        let second = patch(&first, &other).unwrap();
        assert_eq!(second, patch(text, &other).unwrap());
        assert!(!second.contains("/admin"));
        assert_eq!(second.matches(BEGIN).count(), 1);
    }

    #[test]
    fn crlf_files_keep_crlf() {
        let text = "export default {\r\n  server: {\r\n    port: 1,\r\n  },\r\n};\r\n";
        let out = patch(text, &rules()).unwrap();
        assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
        assert_eq!(strip(&out).unwrap(), text);
    }

    #[test]
    fn refuses_what_it_cannot_place_safely() {
        let no_server = patch("export default defineConfig({ build: {} });", &rules()).unwrap_err();
        assert!(no_server.message().contains("no `server: { … }` object"));
        assert!(no_server.hint_text().unwrap().contains("server: {}"));

        let not_literal = patch("export default { server: opts };", &rules()).unwrap_err();
        assert!(not_literal.message().contains("not an object literal"));

        let proxy_not_literal =
            patch("export default { server: { proxy: p } };", &rules()).unwrap_err();
        assert!(proxy_not_literal.message().contains("`server.proxy`"));

        let broken = patch("export default { server: { port: 1 };", &rules()).unwrap_err();
        assert!(broken.message().contains("cannot read vite.config.js"));
        assert!(broken.to_string().contains("line 1"), "{broken}");

        let two = "const a = { server: {} };\nconst b = { server: {} };";
        assert!(
            patch(two, &rules())
                .unwrap_err()
                .message()
                .contains("2 `server")
        );
    }

    #[test]
    fn prefers_the_server_inside_define_config() {
        let text = "const other = { server: { a: 1 } };\nexport default defineConfig({ server: { b: 2 } });";
        let out = patch(text, &rules()).unwrap();
        let block = out.find(BEGIN).unwrap();
        assert!(
            out[..block]
                .trim_end()
                .ends_with("defineConfig({ server: {"),
            "{out}"
        );
    }

    #[test]
    fn damaged_blocks_are_reported_not_guessed() {
        let text =
            "export default {\n  server: {\n    /* reflex-django:begin */\n    port: 1,\n  },\n};";
        let err = patch(text, &rules()).unwrap_err();
        assert!(err.message().contains("damaged"), "{err}");
        assert!(err.hint_text().unwrap().contains("reflex-django:end"));
    }

    /// Object bodies with the awkward parts: comments, strings and regexes with
    /// braces, template literals, nested objects, a user proxy, odd spacing.
    fn server_body() -> impl Strategy<Value = String> {
        let member = prop::sample::select(vec![
            "port: 3000",
            "hmr: true",
            "open: \"}{\"",
            "re: /[}{]\\//g",
            "t: `a${ {b: '}'}.b }c`",
            "watch: { ignored: [\"**/x/**\"] }",
            "// a } comment\n  a: 1",
            "/* { */ b: 2",
            "proxy: { '/api': 'http://x' }",
            "proxy: {}",
            "'quoted-key': 1",
        ]);
        (
            prop::collection::vec(member, 0..5),
            prop::sample::select(vec![",\n    ", ", ", ",\r\n\t"]),
            prop::bool::ANY,
        )
            .prop_map(|(members, sep, trailing)| {
                let mut seen_proxy = false;
                let members: Vec<&str> = members
                    .into_iter()
                    .filter(|m| {
                        !(m.starts_with("proxy") && std::mem::replace(&mut seen_proxy, true))
                    })
                    .collect();
                let mut body = members.join(sep);
                if trailing && !body.is_empty() {
                    body.push(',');
                }
                body
            })
    }

    proptest! {
        #[test]
        fn patching_is_idempotent_and_only_adds_the_block(
            body in server_body(),
            lead in prop::sample::select(vec!["", "\n    ", " "]),
        ) {
            let text = format!(
                "import {{ defineConfig }} from \"vite\";\nexport default defineConfig(() => ({{\n  server: {{{lead}{body}}},\n  x: /}}/,\n}}));\n"
            );
            let once = patch(&text, &rules()).unwrap();
            prop_assert_eq!(&patch(&once, &rules()).unwrap(), &once);
            prop_assert_eq!(strip(&once).unwrap(), text);
            prop_assert_eq!(once.matches(BEGIN).count(), 1);
            prop_assert!(lexer::tokenize(&once).is_ok());
        }
    }
}
