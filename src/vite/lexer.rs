//! Just enough of a JavaScript tokenizer to find object literals in a Vite config.
//!
//! It knows strings, template literals (with nested `${…}`), line and block comments,
//! regex literals and brackets, so a brace inside any of them is never mistaken for
//! structure. It does not parse: it only pairs brackets and classifies tokens.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One punctuation byte; brackets are paired (see [`Token::pair`]).
    Punct(u8),
    Ident,
    Number,
    /// A quoted string, quotes included.
    Str,
    /// A piece of a template literal: from a backtick or `}` to a backtick or `${`.
    Template {
        opens_expr: bool,
    },
    Regex,
    Comment,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    /// Byte range in the source.
    pub start: usize,
    pub end: usize,
    /// How many brackets enclose the token (an opening bracket does not count itself).
    pub depth: usize,
    /// For `(`, `[`, `{`: the index of the matching closing token, and vice versa.
    pub pair: Option<usize>,
}

/// Why the text could not be tokenized; `offset` is a byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    pub offset: usize,
    pub problem: &'static str,
}

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.problem)
    }
}

/// Keywords after which a `/` starts a regex rather than a division.
const REGEX_AFTER: &[&str] = &[
    "return",
    "typeof",
    "instanceof",
    "in",
    "of",
    "new",
    "delete",
    "void",
    "throw",
    "case",
    "do",
    "else",
    "yield",
    "await",
];

/// An open bracket on the stack: a real bracket token, or the `${` of a template.
enum Open {
    Bracket(usize),
    TemplateExpr,
}

pub fn tokenize(text: &str) -> Result<Vec<Token>, LexError> {
    let bytes = text.as_bytes();
    let mut tokens: Vec<Token> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut i = 0;
    let err = |offset, problem| Err(LexError { offset, problem });

    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let depth = stack.len();
        let kind = match b {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => {
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = memchr(b'\n', bytes, i).unwrap_or(bytes.len());
                Kind::Comment
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                match text[i + 2..].find("*/") {
                    Some(at) => i += 2 + at + 2,
                    None => return err(start, "a block comment is never closed"),
                }
                Kind::Comment
            }
            b'/' if regex_allowed(text, &tokens) => {
                i = skip_regex(bytes, i).ok_or(LexError {
                    offset: start,
                    problem: "a regular expression literal is never closed",
                })?;
                Kind::Regex
            }
            b'"' | b'\'' => {
                i = skip_string(bytes, i).ok_or(LexError {
                    offset: start,
                    problem: "a string is never closed",
                })?;
                Kind::Str
            }
            b'`' => template_piece(bytes, &mut i, &mut stack)?,
            b'(' | b'[' | b'{' => {
                stack.push(Open::Bracket(tokens.len()));
                i += 1;
                Kind::Punct(b)
            }
            b')' | b']' | b'}' => match stack.pop() {
                // The `}` of a `${…}` resumes the template it came from.
                Some(Open::TemplateExpr) if b == b'}' => template_piece(bytes, &mut i, &mut stack)?,
                Some(Open::Bracket(open)) if closes(bytes[tokens[open].start], b) => {
                    tokens[open].pair = Some(tokens.len());
                    tokens.push(Token {
                        kind: Kind::Punct(b),
                        start,
                        end: i + 1,
                        depth: depth - 1,
                        pair: Some(open),
                    });
                    i += 1;
                    continue;
                }
                _ => return err(start, "brackets do not match"),
            },
            b'0'..=b'9' => {
                i = skip_while(bytes, i, |c| {
                    c.is_ascii_alphanumeric() || c == b'.' || c == b'_'
                });
                Kind::Number
            }
            b'.' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i = skip_while(bytes, i + 1, |c| c.is_ascii_alphanumeric() || c == b'_');
                Kind::Number
            }
            c if is_ident_byte(c) => {
                i = skip_while(bytes, i, is_ident_byte);
                Kind::Ident
            }
            _ => {
                // Any other ASCII byte is punctuation of its own; operators made of
                // several bytes do not matter for finding objects.
                i += 1;
                Kind::Punct(b)
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: i,
            depth,
            pair: None,
        });
    }
    if !stack.is_empty() {
        let offset = match stack.last() {
            Some(Open::Bracket(open)) => tokens[*open].start,
            _ => text.len(),
        };
        return err(offset, "a bracket or template literal is never closed");
    }
    Ok(tokens)
}

/// A `/` starts a regex unless it follows something that ends an expression.
fn regex_allowed(text: &str, tokens: &[Token]) -> bool {
    let Some(prev) = tokens.iter().rev().find(|t| t.kind != Kind::Comment) else {
        return true;
    };
    match prev.kind {
        Kind::Punct(b')' | b']' | b'}') => false,
        Kind::Punct(_) => true,
        Kind::Ident => REGEX_AFTER.contains(&&text[prev.start..prev.end]),
        Kind::Template { opens_expr } => opens_expr,
        Kind::Number | Kind::Str | Kind::Regex => false,
        Kind::Comment => unreachable!("comments are skipped above"),
    }
}

fn closes(open: u8, close: u8) -> bool {
    matches!((open, close), (b'(', b')') | (b'[', b']') | (b'{', b'}'))
}

/// Identifier bytes; any non-ASCII byte is taken as part of an identifier (or of the
/// string or comment it sits in), so spans always fall on character boundaries.
fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

fn skip_while(bytes: &[u8], mut i: usize, keep: impl Fn(u8) -> bool) -> usize {
    while i < bytes.len() && keep(bytes[i]) {
        i += 1;
    }
    i
}

fn memchr(needle: u8, bytes: &[u8], from: usize) -> Option<usize> {
    bytes[from..]
        .iter()
        .position(|&b| b == needle)
        .map(|p| from + p)
}

/// From an opening quote to just past the closing one.
fn skip_string(bytes: &[u8], open: usize) -> Option<usize> {
    let quote = bytes[open];
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' => return None,
            c if c == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The template piece that starts at `*i` (a backtick, or the `}` that ends a `${…}`);
/// moves `*i` past it and remembers an opened `${`.
fn template_piece(bytes: &[u8], i: &mut usize, stack: &mut Vec<Open>) -> Result<Kind, LexError> {
    let (end, opens_expr) = skip_template(bytes, *i + 1).ok_or(LexError {
        offset: *i,
        problem: "a template literal is never closed",
    })?;
    *i = end;
    if opens_expr {
        stack.push(Open::TemplateExpr);
    }
    Ok(Kind::Template { opens_expr })
}

/// From just inside a template piece to just past its closing backtick (`false`) or
/// its `${` (`true`).
fn skip_template(bytes: &[u8], mut i: usize) -> Option<(usize, bool)> {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'`' => return Some((i + 1, false)),
            b'$' if bytes.get(i + 1) == Some(&b'{') => return Some((i + 2, true)),
            _ => i += 1,
        }
    }
    None
}

/// From the opening `/` to just past the flags. A `/` inside `[…]` does not end it.
fn skip_regex(bytes: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    let mut in_class = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' | b'\r' => return None,
            b'[' => {
                in_class = true;
                i += 1;
            }
            b']' => {
                in_class = false;
                i += 1;
            }
            b'/' if !in_class => return Some(skip_while(bytes, i + 1, is_ident_byte)),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, &text[t.start..t.end]))
            .collect()
    }

    #[test]
    fn braces_inside_strings_comments_regexes_and_templates_are_not_structure() {
        let text = r#"a = { s: "}", t: '{', // }
          /* { */ r: /\{[}/]/g, u: `x${ {y: 1}.y }}`, d: 4 / 2 / 1 };"#;
        let tokens = tokenize(text).unwrap();
        let open = tokens
            .iter()
            .position(|t| t.kind == Kind::Punct(b'{'))
            .unwrap();
        let close = tokens[open].pair.unwrap();
        assert_eq!(&text[tokens[close].start..], "};");
        let got = kinds(text);
        assert!(got.contains(&(Kind::Regex, r"/\{[}/]/g")));
        assert!(got.contains(&(Kind::Comment, "// }")));
        assert!(got.contains(&(Kind::Template { opens_expr: true }, "`x${")));
        assert!(got.contains(&(Kind::Template { opens_expr: false }, "}}`")));
        // `4 / 2 / 1` is division, not a regex.
        assert!(
            !got.iter()
                .any(|(k, s)| *k == Kind::Regex && s.contains('2'))
        );
    }

    #[test]
    fn regex_after_keywords_and_operators() {
        assert!(kinds("return /}/.test(x)").contains(&(Kind::Regex, "/}/")));
        assert!(kinds("x = a ? /}/ : b").contains(&(Kind::Regex, "/}/")));
        assert!(!kinds("f(x) / 2").iter().any(|(k, _)| *k == Kind::Regex));
    }

    #[test]
    fn nested_templates() {
        let text = "`a${ `b${ {c: '}'} }` }d`";
        let got = kinds(text);
        assert_eq!(
            got.last().unwrap(),
            &(Kind::Template { opens_expr: false }, "}d`")
        );
    }

    #[test]
    fn unbalanced_or_unterminated_text_is_an_error() {
        for bad in ["{", "}", "{ ( }", "'abc", "`abc${", "/* x", "x = /abc\n"] {
            assert!(tokenize(bad).is_err(), "{bad:?} should not tokenize");
        }
    }
}
