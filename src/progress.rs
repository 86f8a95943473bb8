//! Progress for long work: a spinner with elapsed time per step on a terminal, plain
//! lines otherwise (logs and CI stay readable).

use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use owo_colors::OwoColorize;

use crate::error::{Context, Error, Result};

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

/// Runs `cmd` as the work of `step`, its output captured: on a terminal the spinner
/// shows the latest line. On failure the error names `what`, carries the last lines
/// and `hint`; on success the output is returned.
pub fn run(step: Step, cmd: &mut Command, what: &str, hint: &str) -> Result<String> {
    match capture(&step, cmd, what) {
        Ok(output) => {
            step.done("");
            Ok(output)
        }
        Err(e) => {
            step.fail();
            Err(e.hint(hint))
        }
    }
}

/// Runs `cmd` as part of `step` (which goes on); see [`run`].
pub fn capture(step: &Step, cmd: &mut Command, what: &str) -> Result<String> {
    let (status, output) = run_captured(step, cmd)?;
    if status.success() {
        return Ok(output);
    }
    let tail: Vec<&str> = output.lines().rev().take(TAIL_LINES).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(Error::new(format!("{what} failed ({status})")).cause(tail.join("\n")))
}

/// Lines of a failed command's output shown with its error.
const TAIL_LINES: usize = 30;

fn run_captured(step: &Step, cmd: &mut Command) -> Result<(ExitStatus, String)> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {program}"))?;
    let (lines, received) = std::sync::mpsc::channel::<String>();
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|pipe| {
        let lines = lines.clone();
        std::thread::spawn(move || {
            // Bytes, not UTF-8 lines: a tool that prints something else must not make
            // us stop reading (and leave it blocked on a full pipe).
            let mut reader = BufReader::new(pipe);
            let mut line = Vec::new();
            while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                let text = String::from_utf8_lossy(&line)
                    .trim_end_matches(['\n', '\r'])
                    .to_string();
                line.clear();
                if lines.send(text).is_err() {
                    return;
                }
            }
        })
    })
    .collect();
    drop(lines);
    let mut output = String::new();
    for line in received {
        let shown = strip_ansi(&line);
        let shown = shown.trim();
        if !shown.is_empty() {
            step.set_message(shown);
        }
        output.push_str(&line);
        output.push('\n');
    }
    for reader in readers {
        let _ = reader.join();
    }
    let status = child
        .wait()
        .with_context(|| format!("cannot wait for {program}"))?;
    Ok((status, output))
}

/// `text` as a terminal would end up showing it, for the one-line spinner message:
/// without colour codes, and only what follows the last carriage return (progress
/// bars redraw themselves that way).
fn strip_ansi(text: &str) -> String {
    let shown = text.rsplit('\r').next().unwrap_or(text);
    console::strip_ansi_codes(shown).into_owned()
}

pub fn format_elapsed(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn spinner_text_is_what_a_terminal_shows() {
        assert_eq!(
            super::strip_ansi("\u{1b}[32mCompiling\u{1b}[0m 3/4"),
            "Compiling 3/4"
        );
        assert_eq!(
            super::strip_ansi("10%\r50%\r\u{1b}[1m100%\u{1b}[0m"),
            "100%"
        );
    }
}
