//! Guessing why a child failed from its last lines, so the report can say what to do.

/// A likely cause found in a child's output, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnosis {
    pub cause: String,
    pub hint: String,
}

/// Looks for well-known failures in `lines`, the latest first (a traceback ends with the
/// error that matters).
pub fn diagnose(lines: &[String]) -> Option<Diagnosis> {
    lines.iter().rev().find_map(|line| known(line.trim()))
}

fn known(line: &str) -> Option<Diagnosis> {
    let lower = line.to_ascii_lowercase();
    let found = |cause: String, hint: &str| {
        Some(Diagnosis {
            cause,
            hint: hint.to_string(),
        })
    };
    if lower.contains("address already in use") || lower.contains("errno 98") {
        return found(
            "a port it needs is already in use".into(),
            "stop the other program on that port (`ss -ltnp` shows it) or configure another port",
        );
    }
    if let Some(at) = line.find("ModuleNotFoundError:") {
        return found(
            line[at..].to_string(),
            "install the missing package in the project's Python environment, or fix the \
             import; check that reflex-django uses that environment (--python)",
        );
    }
    if let Some(at) = line.find("ImportError:") {
        return found(
            line[at..].to_string(),
            "check the import named above and the installed package versions",
        );
    }
    if let Some(at) = line.find("SyntaxError:") {
        return found(
            line[at..].to_string(),
            "fix the syntax error in the file named above",
        );
    }
    if let Some(at) = line.find("ImproperlyConfigured:") {
        return found(line[at..].to_string(), "fix the Django setting named above");
    }
    if lower.contains("command not found") || lower.contains("no such file or directory") {
        return found(
            line.to_string(),
            "install the missing program or put it on PATH",
        );
    }
    if lower.contains("permission denied") {
        return found(line.to_string(), "check the file and directory permissions");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn the_last_known_error_of_a_traceback_wins() {
        let out = lines(
            "Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\n    \
             import missing\nModuleNotFoundError: No module named 'missing'",
        );
        let d = diagnose(&out).unwrap();
        assert_eq!(d.cause, "ModuleNotFoundError: No module named 'missing'");
        assert!(d.hint.contains("install the missing package"));
    }

    #[test]
    fn ports_in_use_are_recognised() {
        let out = lines("ERROR:    [Errno 98] error while attempting to bind on address");
        assert_eq!(
            diagnose(&out).unwrap().cause,
            "a port it needs is already in use"
        );
    }

    #[test]
    fn ordinary_output_has_no_diagnosis() {
        assert_eq!(diagnose(&lines("Starting server\nbye")), None);
    }
}
