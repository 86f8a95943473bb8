//! Reads literal values out of Python source without running Python: the arguments of
//! `ReflexDjangoPlugin(...)` in `rxconfig.py` and the settings module that `manage.py`
//! passes to `os.environ.setdefault`.
//!
//! A small tokenizer is enough: it skips comments, understands every string form
//! (prefixes, triple quotes, escapes), and tracks bracket depth. Arguments that are not
//! literals (names, calls, f-strings) are ignored rather than guessed.

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PluginArgs {
    pub settings_module: Option<String>,
    pub backend_prefix: Option<String>,
    pub admin_prefix: Option<String>,
    pub extra_prefixes: Option<Vec<String>>,
    pub install_event_bridge: Option<bool>,
}

/// The parameters of `ReflexDjangoPlugin`, in positional order.
const PLUGIN_PARAMS: [&str; 5] = [
    "settings_module",
    "backend_prefix",
    "admin_prefix",
    "extra_prefixes",
    "install_event_bridge",
];

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Ident(String),
    /// A plain (non-f, non-bytes) string literal, decoded.
    Str(String),
    Punct(char),
    /// Numbers, f-strings, bytes and anything else that is not one of the above.
    Other,
}

#[derive(Clone, Debug, PartialEq)]
enum Literal {
    Str(String),
    StrList(Vec<String>),
    Bool(bool),
    None,
}

/// The literal arguments of the first `ReflexDjangoPlugin(...)` call, if any.
pub fn plugin_args(source: &str) -> Option<PluginArgs> {
    let tokens = tokenize(source);
    let start = tokens.windows(2).position(|w| {
        w[0] == Token::Ident("ReflexDjangoPlugin".into()) && w[1] == Token::Punct('(')
    })?;
    let mut args = PluginArgs::default();
    for (index, (name, value)) in call_arguments(&tokens[start + 2..]).into_iter().enumerate() {
        let name = match name {
            Some(name) => name,
            None => match PLUGIN_PARAMS.get(index) {
                Some(name) => (*name).to_string(),
                None => continue,
            },
        };
        match (name.as_str(), value) {
            ("settings_module", Some(Literal::Str(s))) => args.settings_module = Some(s),
            ("backend_prefix", Some(Literal::Str(s))) => args.backend_prefix = Some(s),
            ("admin_prefix", Some(Literal::Str(s))) => args.admin_prefix = Some(s),
            ("extra_prefixes", Some(Literal::StrList(v))) => args.extra_prefixes = Some(v),
            ("extra_prefixes", Some(Literal::Str(s))) => args.extra_prefixes = Some(vec![s]),
            ("install_event_bridge", Some(Literal::Bool(b))) => args.install_event_bridge = Some(b),
            _ => {}
        }
    }
    Some(args)
}

/// The value in `os.environ.setdefault("DJANGO_SETTINGS_MODULE", "<value>")`.
pub fn setdefault_settings_module(source: &str) -> Option<String> {
    let tokens = tokenize(source);
    tokens.windows(6).find_map(|w| match w {
        [
            Token::Ident(f),
            Token::Punct('('),
            Token::Str(key),
            Token::Punct(','),
            Token::Str(value),
            Token::Punct(')' | ','),
        ] if f == "setdefault" && key == "DJANGO_SETTINGS_MODULE" => Some(value.clone()),
        _ => None,
    })
}

/// Splits the tokens after `(` into `(keyword, literal value)` pairs up to the
/// matching `)`.
fn call_arguments(tokens: &[Token]) -> Vec<(Option<String>, Option<Literal>)> {
    let mut args = Vec::new();
    let mut depth = 0usize;
    let mut current: Vec<&Token> = Vec::new();
    for token in tokens {
        match token {
            Token::Punct('(' | '[' | '{') => depth += 1,
            Token::Punct(')' | ']' | '}') if depth == 0 => {
                if !current.is_empty() {
                    args.push(argument(&current));
                }
                return args;
            }
            Token::Punct(')' | ']' | '}') => depth -= 1,
            Token::Punct(',') if depth == 0 => {
                args.push(argument(&current));
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(token);
    }
    args
}

fn argument(tokens: &[&Token]) -> (Option<String>, Option<Literal>) {
    match tokens {
        [Token::Ident(name), Token::Punct('='), rest @ ..] => (Some(name.clone()), literal(rest)),
        _ => (None, literal(tokens)),
    }
}

fn literal(tokens: &[&Token]) -> Option<Literal> {
    match tokens {
        [Token::Ident(word)] => match word.as_str() {
            "True" => Some(Literal::Bool(true)),
            "False" => Some(Literal::Bool(false)),
            "None" => Some(Literal::None),
            _ => None,
        },
        [
            Token::Punct(open @ ('(' | '[')),
            inner @ ..,
            Token::Punct(close),
        ] if matches!((open, close), ('(', ')') | ('[', ']')) => {
            let mut items = Vec::new();
            for chunk in inner.split(|t| **t == Token::Punct(',')) {
                if chunk.is_empty() {
                    continue;
                }
                match literal(chunk)? {
                    Literal::Str(s) => items.push(s),
                    _ => return None,
                }
            }
            Some(Literal::StrList(items))
        }
        // Adjacent string literals concatenate, as in Python.
        strings if !strings.is_empty() => strings
            .iter()
            .map(|t| match t {
                Token::Str(s) => Some(s.as_str()),
                _ => None,
            })
            .collect::<Option<String>>()
            .map(Literal::Str),
        _ => None,
    }
}

fn tokenize(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c.is_whitespace() || c == '\\' {
            i += 1;
        } else if let Some((token, next)) = string_at(&chars, i) {
            tokens.push(token);
            i = next;
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token::Ident(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            tokens.push(Token::Other);
        } else if c == '=' && chars.get(i + 1) == Some(&'=') {
            // `==` is a comparison, not a keyword argument.
            tokens.push(Token::Other);
            i += 2;
        } else {
            tokens.push(Token::Punct(c));
            i += 1;
        }
    }
    tokens
}

/// A string literal starting at `i` (with an optional prefix such as `r`, `b`, `f`):
/// the token and the index just past it.
fn string_at(chars: &[char], i: usize) -> Option<(Token, usize)> {
    let mut j = i;
    while j < chars.len() && j - i < 2 && "rRbBuUfF".contains(chars[j]) {
        j += 1;
    }
    let quote = *chars.get(j)?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let prefix: String = chars[i..j].iter().collect::<String>().to_lowercase();
    let raw = prefix.contains('r');
    let plain = !prefix.contains('b') && !prefix.contains('f');
    let triple = chars.get(j + 1) == Some(&quote) && chars.get(j + 2) == Some(&quote);
    let mut k = if triple { j + 3 } else { j + 1 };
    let mut value = String::new();
    while k < chars.len() {
        let c = chars[k];
        if c == '\\' && k + 1 < chars.len() {
            let next = chars[k + 1];
            if raw {
                value.push(c);
                value.push(next);
            } else {
                match next {
                    'n' => value.push('\n'),
                    't' => value.push('\t'),
                    '\n' => {}
                    '\\' | '\'' | '"' => value.push(next),
                    other => {
                        value.push('\\');
                        value.push(other);
                    }
                }
            }
            k += 2;
            continue;
        }
        if c == quote {
            let closes =
                !triple || (chars.get(k + 1) == Some(&quote) && chars.get(k + 2) == Some(&quote));
            if closes {
                let end = if triple { k + 3 } else { k + 1 };
                let token = if plain {
                    Token::Str(value)
                } else {
                    Token::Other
                };
                return Some((token, end));
            }
        }
        if c == '\n' && !triple {
            // An unterminated string: stop at the end of the line.
            return Some((Token::Other, k));
        }
        value.push(c);
        k += 1;
    }
    Some((Token::Other, chars.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_plugin_call() {
        let src = r#"
import reflex as rx
from reflex_django import ReflexDjangoPlugin

config = rx.Config(
    app_name="myapp",
    plugins=[
        ReflexDjangoPlugin(
            settings_module="backend.settings",  # the Django settings
            backend_prefix='/api',
            admin_prefix="/admin",
            extra_prefixes=("/billing", "/hooks",),
            install_event_bridge=False,
        ),
    ],
)
"#;
        assert_eq!(
            plugin_args(src),
            Some(PluginArgs {
                settings_module: Some("backend.settings".into()),
                backend_prefix: Some("/api".into()),
                admin_prefix: Some("/admin".into()),
                extra_prefixes: Some(vec!["/billing".into(), "/hooks".into()]),
                install_event_bridge: Some(false),
            })
        );
    }

    #[test]
    fn positional_arguments_and_lists() {
        let src = r#"p = ReflexDjangoPlugin("a.settings", "/api", extra_prefixes=["/x"])"#;
        let args = plugin_args(src).unwrap();
        assert_eq!(args.settings_module.as_deref(), Some("a.settings"));
        assert_eq!(args.backend_prefix.as_deref(), Some("/api"));
        assert_eq!(args.extra_prefixes, Some(vec!["/x".to_string()]));
    }

    #[test]
    fn ignores_comments_non_literals_and_strings_that_look_like_calls() {
        let src = r#"
# ReflexDjangoPlugin(settings_module="commented.out")
doc = "ReflexDjangoPlugin(settings_module='in.a.string')"
ReflexDjangoPlugin(settings_module=os.environ["X"], admin_prefix=f"/{name}", backend_prefix=PREFIX)
"#;
        assert_eq!(plugin_args(src), Some(PluginArgs::default()));
    }

    #[test]
    fn string_forms() {
        let src = r#"ReflexDjangoPlugin(settings_module="back" 'end.settings', admin_prefix=r'/ad\min', backend_prefix="""/api""")"#;
        let args = plugin_args(src).unwrap();
        assert_eq!(args.settings_module.as_deref(), Some("backend.settings"));
        assert_eq!(args.admin_prefix.as_deref(), Some(r"/ad\min"));
        assert_eq!(args.backend_prefix.as_deref(), Some("/api"));
    }

    #[test]
    fn no_plugin_call() {
        assert_eq!(
            plugin_args("import reflex as rx\nReflexDjangoPlugin\n"),
            None
        );
    }

    #[test]
    fn manage_py_setdefault() {
        let src = r#"
def main():
    # os.environ.setdefault("DJANGO_SETTINGS_MODULE", "old.settings")
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')
"#;
        assert_eq!(
            setdefault_settings_module(src).as_deref(),
            Some("mysite.settings")
        );
        assert_eq!(setdefault_settings_module("print(1)"), None);
    }
}
