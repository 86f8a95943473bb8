//! Lines of the children's output that mislead or repeat under reflex-django, kept off
//! the screen (they are still kept for error reports). `output.hide_noise: false`
//! shows everything.
//!
//! - django: the access-log line of our own liveness checks (`/_reflex_django/alive`),
//!   one every `liveness.every`;
//! - reflex: "Run `uv run reflex run` to start the app", printed when Reflex makes its
//!   web directory; `reflex-django run` is what runs it;
//! - reflex: the Node.js version warning after the first time (Reflex repeats it at
//!   each compile; with bun, Node.js is not used to serve).

use std::collections::HashSet;
use std::sync::Mutex;

struct Rule {
    child: &'static str,
    /// Text the line contains.
    contains: &'static str,
    /// Shown the first time, hidden afterwards.
    once: bool,
    /// Reflex wraps long messages at 80 columns: the next line, when it does not start
    /// a new message, is the rest of this one.
    wraps: bool,
}

const RULES: &[Rule] = &[
    Rule {
        child: "django",
        contains: "/_reflex_django/alive HTTP/",
        once: false,
        wraps: false,
    },
    Rule {
        child: "reflex",
        contains: "Run `uv run reflex run` to start the app",
        once: false,
        wraps: false,
    },
    Rule {
        child: "reflex",
        contains: "of Node.js is out of date",
        once: true,
        wraps: true,
    },
];

#[derive(Default)]
pub struct Noise {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Rules (by index) already shown once.
    shown: HashSet<usize>,
    /// Children whose next line may be the rest of a hidden, wrapped one.
    wrapped: HashSet<String>,
}

impl Noise {
    /// Whether to keep this line of `child` off the screen.
    pub fn hides(&self, child: &str, text: &str) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.wrapped.remove(child) && is_continuation(text) {
            state.wrapped.insert(child.to_string());
            return true;
        }
        let Some((index, rule)) = RULES
            .iter()
            .enumerate()
            .find(|(_, rule)| rule.child == child && text.contains(rule.contains))
        else {
            return false;
        };
        if rule.once && state.shown.insert(index) {
            return false;
        }
        if rule.wraps {
            state.wrapped.insert(child.to_string());
        }
        true
    }
}

/// A line that goes on with the message above it rather than starting one: not
/// empty, not a rule, not a `Word:` label (`Info:`, `Warning:`, `App running at:`).
fn is_continuation(text: &str) -> bool {
    let text = text.trim();
    !text.is_empty()
        && !text.starts_with('─')
        && !text.split_once(':').is_some_and(|(label, _)| {
            !label.is_empty() && label.len() <= 24 && !label.contains('.')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_noise_is_hidden_and_the_rest_shown() {
        let noise = Noise::default();
        let shown = |child: &str, lines: &[&str]| -> Vec<String> {
            lines
                .iter()
                .filter(|line| !noise.hides(child, line))
                .map(|line| line.to_string())
                .collect()
        };
        assert_eq!(
            shown(
                "django",
                &[
                    "INFO:     127.0.0.1:52020 - \"GET /_reflex_django/alive HTTP/1.1\" 200 OK",
                    "INFO:     127.0.0.1:52021 - \"GET /admin/ HTTP/1.1\" 302 Found",
                ]
            ),
            ["INFO:     127.0.0.1:52021 - \"GET /admin/ HTTP/1.1\" 302 Found"]
        );
        let node = [
            "Warning: Your version (20.20.2) of Node.js is out of date. Upgrade to 22.22.0 or",
            "higher.",
        ];
        let mut reflex =
            vec!["Success: Initialized demo. Run `uv run reflex run` to start the app."];
        reflex.extend(node);
        reflex.push("──────────── App Running ────────────");
        reflex.extend(node);
        reflex.push("App running at: http://localhost:3000/");
        assert_eq!(
            shown("reflex", &reflex),
            [
                node[0],
                node[1],
                "──────────── App Running ────────────",
                "App running at: http://localhost:3000/"
            ]
        );
    }
}
