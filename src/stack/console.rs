//! What `run` shows: a banner with the URLs, a spinner per child while the stack
//! starts (the child's latest line and how long it has been going), then each
//! child's output with its prefix and the supervisor's news as plain lines. Without a
//! terminal there are no spinners: the output streams from the start.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use owo_colors::OwoColorize;

use super::noise::Noise;
use crate::supervisor::{Event, EventKind, Line, LineHook, LogMux, human};

pub struct Console {
    log: Arc<LogMux>,
    /// Spinners while the stack starts, on a terminal only.
    spinners: Option<Spinners>,
    /// Whether child output goes to the screen (after start-up, or always without a
    /// terminal). Hidden lines are still kept for error reports.
    streaming: Arc<AtomicBool>,
    root: std::path::PathBuf,
    /// Known noise of the children, kept off the screen; `None` shows everything.
    noise: Option<Arc<Noise>>,
}

struct Spinners {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Console {
    pub fn new(log: Arc<LogMux>, root: &Path, hide_noise: bool) -> Console {
        let tty = std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
        let spinners = tty.then(|| Spinners {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        });
        Console {
            log,
            streaming: Arc::new(AtomicBool::new(spinners.is_none())),
            spinners,
            root: root.to_path_buf(),
            noise: hide_noise.then(|| Arc::new(Noise::default())),
        }
    }

    /// A status line of our own, between the children's lines.
    pub fn say(&self, text: &str) {
        match &self.spinners {
            Some(s) if !self.streaming.load(Ordering::Relaxed) => {
                let _ = s.multi.println(text);
            }
            _ => self.log.message(text),
        }
    }

    /// Shows `child` as starting; its output lines become the spinner's message.
    pub fn starting(&self, child: &str) {
        if let Some(s) = &self.spinners {
            let bar = s.multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner:.cyan} {prefix:<7} {msg:.dim} {elapsed}")
                    .expect("valid template"),
            );
            bar.set_prefix(child.to_string());
            bar.set_message("starting");
            bar.enable_steady_tick(Duration::from_millis(100));
            lock(&s.bars).insert(child.to_string(), bar);
        }
    }

    /// The line hook for `child`: feeds the spinner, and hides lines until streaming.
    pub fn hook(&self, child: &str, extra: Option<LineHook>) -> LineHook {
        let streaming = self.streaming.clone();
        let bar = self
            .spinners
            .as_ref()
            .and_then(|s| lock(&s.bars).get(child).cloned());
        let noise = self.noise.clone();
        LineHook::new(move |line: &Line<'_>| {
            let keep = extra.as_ref().is_none_or(|hook| (hook.0)(line))
                && !noise
                    .as_ref()
                    .is_some_and(|n| n.hides(line.child, line.text));
            if streaming.load(Ordering::Relaxed) {
                return keep;
            }
            if let Some(bar) = &bar {
                let text = line.text.trim();
                if !text.is_empty() {
                    bar.set_message(truncate(text, 70));
                }
            }
            false
        })
    }

    /// Reports one piece of supervisor news.
    pub fn event(&self, event: &Event) {
        let child = event.child.as_ref();
        if let Some(bar) = self.bar(child) {
            match &event.kind {
                EventKind::Ready { after } => {
                    bar.finish_with_message(format!("ready in {}", human(*after)));
                    return;
                }
                EventKind::GaveUp { .. } => {
                    bar.abandon_with_message("failed".red().to_string());
                    return;
                }
                EventKind::Starting { .. } | EventKind::Restarting { .. } => {
                    bar.set_message(event.kind.to_string());
                    return;
                }
                _ => {}
            }
        }
        let text = match &event.kind {
            EventKind::ReloadRequested { path } => format!(
                "restarting because {} changed",
                path.strip_prefix(&self.root).unwrap_or(path).display()
            ),
            // The whole report: last lines, likely cause, hint.
            EventKind::GaveUp { error } => {
                let mut report = Vec::new();
                error.report(&mut report);
                format!("gave up:\n{}", String::from_utf8_lossy(&report).trim_end())
            }
            kind => kind.to_string(),
        };
        let mark = match &event.kind {
            EventKind::Ready { .. } => "✓".green().to_string(),
            EventKind::GaveUp { .. }
            | EventKind::Exited { .. }
            | EventKind::Unresponsive { .. } => "✗".red().to_string(),
            EventKind::Stopped { .. } => "■".dimmed().to_string(),
            _ => "↻".cyan().to_string(),
        };
        self.say(&format!("{mark} {} {text}", child.bold()));
    }

    /// Start-up is over: spinners go, child output streams from now on.
    pub fn started(&self) {
        if let Some(s) = &self.spinners {
            for (_, bar) in lock(&s.bars).drain() {
                if !bar.is_finished() {
                    bar.finish();
                }
            }
            let _ = s.multi.clear();
        }
        self.streaming.store(true, Ordering::Relaxed);
    }

    fn bar(&self, child: &str) -> Option<ProgressBar> {
        if self.streaming.load(Ordering::Relaxed) {
            return None;
        }
        self.spinners
            .as_ref()
            .and_then(|s| lock(&s.bars).get(child).cloned())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}
