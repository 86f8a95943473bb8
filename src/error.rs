//! The one error type of the CLI: a message, the causes behind it, and a hint that
//! tells the user what to do about it.

use std::fmt;
use std::io::Write;

use owo_colors::OwoColorize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
    causes: Vec<String>,
    hint: Option<String>,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            causes: Vec::new(),
            hint: None,
        }
    }

    /// Adds (or replaces) the line that tells the user how to fix the problem.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the hint unless the error already has one (which knows better).
    pub fn or_hint(self, hint: impl Into<String>) -> Self {
        if self.hint.is_some() {
            self
        } else {
            self.hint(hint)
        }
    }

    /// Adds a lower-level reason, shown under the message.
    pub fn cause(mut self, cause: impl fmt::Display) -> Self {
        self.causes.push(cause.to_string());
        self
    }

    /// Prefixes the message with where the problem is (a file and line, a variable,
    /// a step); causes and hint stay.
    pub fn in_source(mut self, source: &str) -> Self {
        self.message = format!("{source}: {}", self.message);
        self
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn hint_text(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// Writes the error the way the CLI shows it: `error:`, causes, `hint:`.
    pub fn report(&self, out: &mut dyn Write) {
        let _ = writeln!(out, "{} {}", "error:".red().bold(), self.message);
        for cause in &self.causes {
            for (i, line) in cause.lines().enumerate() {
                let lead = if i == 0 {
                    "  caused by:"
                } else {
                    "            "
                };
                let _ = writeln!(out, "{} {}", lead.dimmed(), line);
            }
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(out, "{} {}", "hint:".cyan().bold(), hint);
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for cause in &self.causes {
            write!(f, "\n  caused by: {cause}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Attaches a message (and the original error as its cause) to a failing result.
pub trait Context<T> {
    fn context(self, message: impl Into<String>) -> Result<T>;
    fn with_context<M: Into<String>>(self, message: impl FnOnce() -> M) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, message: impl Into<String>) -> Result<T> {
        self.map_err(|e| Error::new(message).cause(e))
    }

    fn with_context<M: Into<String>>(self, message: impl FnOnce() -> M) -> Result<T> {
        self.map_err(|e| Error::new(message()).cause(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn or_hint_keeps_the_hint_that_knows_better() {
        let err = Error::new("x").hint("specific").or_hint("generic");
        assert_eq!(err.hint_text(), Some("specific"));
        assert_eq!(
            Error::new("x").or_hint("generic").hint_text(),
            Some("generic")
        );
    }

    #[test]
    fn display_has_causes_and_hint() {
        let err = Error::new("could not read x")
            .cause("permission denied")
            .hint("check the file mode");
        assert_eq!(
            err.to_string(),
            "could not read x\n  caused by: permission denied\nhint: check the file mode"
        );
    }

    #[test]
    fn in_source_keeps_causes_and_hint() {
        let err = Error::new("failed")
            .cause("line 1")
            .hint("fix it")
            .in_source("migrate");
        assert_eq!(
            err.to_string(),
            "migrate: failed\n  caused by: line 1\nhint: fix it"
        );
    }

    #[test]
    fn context_keeps_the_original_error_as_cause() {
        let r: std::result::Result<(), std::io::Error> =
            Err(std::io::Error::new(std::io::ErrorKind::NotFound, "gone"));
        let err = r.context("reading config").unwrap_err();
        assert_eq!(err.message(), "reading config");
        assert!(err.to_string().contains("caused by: gone"));
    }
}
