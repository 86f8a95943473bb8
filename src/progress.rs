//! Progress for long work: a spinner with elapsed time per step on a terminal, plain
//! lines otherwise (logs and CI stay readable).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use owo_colors::OwoColorize;

/// One step of long work.
pub struct Step {
    name: String,
    started: Instant,
    bar: Option<ProgressBar>,
}

/// Whether progress is drawn as spinners (stderr is a terminal).
pub fn interactive() -> bool {
    std::io::stderr().is_terminal()
}

impl Step {
    pub fn start(name: impl Into<String>) -> Step {
        let name = name.into();
        let bar = if interactive() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed:.dim}")
                    .expect("valid template"),
            );
            bar.set_message(name.clone());
            bar.enable_steady_tick(Duration::from_millis(100));
            Some(bar)
        } else {
            eprintln!("… {name}");
            None
        };
        Step {
            name,
            started: Instant::now(),
            bar,
        }
    }

    /// Shows what the step is doing right now (spinner only).
    pub fn set_message(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{} — {message}", self.name));
        }
    }

    /// Ends the step as done, with an optional detail.
    pub fn done(self, detail: &str) {
        let elapsed = format_elapsed(self.started.elapsed());
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(" — {detail}")
        };
        let line = format!("{} {}{detail} {}", "✓".green(), self.name, elapsed.dimmed());
        self.finish(&line);
    }

    /// Ends the step as failed (the caller reports the error).
    pub fn fail(self) {
        let elapsed = format_elapsed(self.started.elapsed());
        let line = format!("{} {} {}", "✗".red(), self.name, elapsed.dimmed());
        self.finish(&line);
    }

    fn finish(self, line: &str) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let mut err = anstream::stderr().lock();
        let _ = writeln!(err, "{line}");
    }
}

pub fn format_elapsed(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
