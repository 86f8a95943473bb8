//! Children's output: cut into whole lines, printed with an aligned coloured prefix
//! (`django │ …`), and the last lines of each child kept for error reports.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

use owo_colors::{AnsiColors, OwoColorize};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::spec::{Line, LineHook, Stream};

/// Longer lines are cut here: a child that prints megabytes without a newline must not
/// grow our memory without bound.
pub const MAX_LINE: usize = 8 * 1024;
const TRUNCATED: &str = " …[line cut]";
const COLORS: [AnsiColors; 6] = [
    AnsiColors::Cyan,
    AnsiColors::Magenta,
    AnsiColors::Yellow,
    AnsiColors::Green,
    AnsiColors::Blue,
    AnsiColors::BrightRed,
];

/// Where every child's lines go. One lock around the writer keeps lines whole even when
/// children write at the same time.
pub struct LogMux {
    inner: Mutex<Inner>,
}

struct Inner {
    out: Box<dyn Write + Send>,
    color: bool,
    keep: usize,
    children: Vec<ChildLog>,
}

struct ChildLog {
    name: String,
    color: AnsiColors,
    last: VecDeque<String>,
}

impl LogMux {
    /// Prints to standard output; colours only when it is a terminal that wants them
    /// (`anstream` strips them otherwise and honours `NO_COLOR`).
    pub fn stdout() -> Self {
        Self::new(Box::new(anstream::stdout()), true)
    }

    /// Prints to `out` (e.g. a progress bar's `println`, or a buffer in tests).
    pub fn new(out: Box<dyn Write + Send>, color: bool) -> Self {
        LogMux {
            inner: Mutex::new(Inner {
                out,
                color,
                keep: 200,
                children: Vec::new(),
            }),
        }
    }

    /// Prints into memory, without colours: for tests of code that supervises.
    pub fn captured() -> (Self, Captured) {
        let captured = Captured::default();
        (Self::new(Box::new(captured.clone()), false), captured)
    }

    /// How many lines to keep per child for error reports (200 by default).
    pub fn keep(self, lines: usize) -> Self {
        self.lock().keep = lines.max(1);
        self
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while printing leaves nothing inconsistent behind.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Gives `name` a colour and a place in the prefix alignment.
    pub fn register(&self, name: &str) {
        let mut inner = self.lock();
        if inner.children.iter().all(|c| c.name != name) {
            let color = COLORS[inner.children.len() % COLORS.len()];
            inner.children.push(ChildLog {
                name: name.to_string(),
                color,
                last: VecDeque::new(),
            });
        }
    }

    /// Keeps `text` as `child`'s latest line and prints it when `show`.
    pub fn line(&self, child: &str, text: &str, show: bool) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let width = inner
            .children
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(0);
        let keep = inner.keep;
        let Some(log) = inner.children.iter_mut().find(|c| c.name == child) else {
            return;
        };
        if log.last.len() == keep {
            log.last.pop_front();
        }
        log.last.push_back(text.to_string());
        if !show {
            return;
        }
        let prefix = format!("{child:<width$} │");
        let color = log.color;
        // A closed or broken stdout must not stop the children: drop the line.
        let _ = if inner.color {
            writeln!(inner.out, "{} {text}", prefix.color(color))
        } else {
            writeln!(inner.out, "{prefix} {text}")
        };
        let _ = inner.out.flush();
    }

    /// Prints a line of our own (a status message), never cut in two by child output.
    pub fn message(&self, text: &str) {
        let mut inner = self.lock();
        let _ = writeln!(inner.out, "{text}");
        let _ = inner.out.flush();
    }

    /// The last `n` lines `child` wrote, oldest first.
    pub fn last_lines(&self, child: &str, n: usize) -> Vec<String> {
        let inner = self.lock();
        inner
            .children
            .iter()
            .find(|c| c.name == child)
            .map(|c| {
                c.last
                    .iter()
                    .skip(c.last.len().saturating_sub(n))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// What a [`LogMux::captured`] printed.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Cuts a byte stream into lines: only whole lines come out, however the writer split
/// its writes; a line longer than [`MAX_LINE`] is cut and the rest of it skipped.
#[derive(Default)]
pub struct LineSplitter {
    buf: Vec<u8>,
    /// Skipping the rest of a line that was too long.
    skipping: bool,
}

impl LineSplitter {
    pub fn feed(&mut self, mut bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        while !bytes.is_empty() {
            let newline = bytes.iter().position(|b| *b == b'\n');
            let (chunk, rest) = match newline {
                Some(i) => (&bytes[..i], &bytes[i + 1..]),
                None => (bytes, &[][..]),
            };
            bytes = rest;
            if !self.skipping {
                let room = MAX_LINE - self.buf.len();
                self.buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if chunk.len() > room {
                    let mut line = decode(&std::mem::take(&mut self.buf));
                    line.push_str(TRUNCATED);
                    lines.push(line);
                    self.skipping = true;
                }
            }
            if newline.is_some() {
                if self.skipping {
                    self.skipping = false;
                } else {
                    lines.push(decode(&std::mem::take(&mut self.buf)));
                }
            }
        }
        lines
    }

    /// The last line, when the stream ended without a newline.
    pub fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.buf);
        (!rest.is_empty() && !std::mem::take(&mut self.skipping)).then(|| decode(&rest))
    }
}

/// Lossy UTF-8, and of a line redrawn with carriage returns (progress bars) only what a
/// terminal would finally show: the text after the last `\r`.
fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    let shown = match bytes.iter().rposition(|b| *b == b'\r') {
        Some(i) => &bytes[i + 1..],
        None => bytes,
    };
    String::from_utf8_lossy(shown).into_owned()
}

/// Reads one output stream of `child` to its end, line by line, into `mux`.
pub async fn pump(
    mut reader: impl AsyncRead + Unpin,
    child: Arc<str>,
    stream: Stream,
    mux: Arc<LogMux>,
    hook: Option<LineHook>,
) {
    let mut splitter = LineSplitter::default();
    let mut buf = vec![0u8; 16 * 1024];
    let emit = |text: String| {
        let line = Line {
            child: &child,
            stream,
            text: &text,
        };
        let show = hook.as_ref().is_none_or(|hook| (hook.0)(&line));
        mux.line(&child, &text, show);
    };
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => splitter.feed(&buf[..n]).into_iter().for_each(emit),
        }
    }
    splitter.finish().into_iter().for_each(emit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_writes_come_out_as_whole_lines() {
        let mut s = LineSplitter::default();
        assert!(s.feed(b"hel").is_empty());
        assert_eq!(s.feed(b"lo\nwor"), vec!["hello"]);
        assert_eq!(s.feed(b"ld\r\n\nlast"), vec!["world", ""]);
        assert_eq!(s.finish(), Some("last".to_string()));
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn progress_redraws_keep_the_final_text() {
        let mut s = LineSplitter::default();
        assert_eq!(s.feed(b"10%\r50%\r100%\n"), vec!["100%"]);
    }

    #[test]
    fn long_lines_are_cut_and_the_rest_skipped() {
        let mut s = LineSplitter::default();
        let long = vec![b'x'; MAX_LINE + 10];
        let lines = s.feed(&long);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].ends_with(TRUNCATED));
        assert_eq!(lines[0].len(), MAX_LINE + TRUNCATED.len());
        assert!(s.feed(b"more of it").is_empty());
        assert_eq!(s.feed(b"\nnext\n"), vec!["next"]);
    }

    #[test]
    fn prefixes_align_and_last_lines_are_kept() {
        let (mux, out) = LogMux::captured();
        let mux = mux.keep(2);
        mux.register("django");
        mux.register("ui");
        mux.line("ui", "one", true);
        mux.line("django", "two", true);
        mux.line("ui", "hidden", false);
        mux.line("ui", "three", true);
        assert_eq!(out.text(), "ui     │ one\ndjango │ two\nui     │ three\n");
        assert_eq!(mux.last_lines("ui", 5), vec!["hidden", "three"]);
        assert_eq!(mux.last_lines("ui", 1), vec!["three"]);
    }
}
