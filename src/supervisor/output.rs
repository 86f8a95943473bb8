//! Children's output: cut into whole lines, printed with an aligned coloured prefix
//! (`django │ …`), and the last lines of each child kept for error reports.
//!
//! Printing never waits for the reader. Lines for the terminal go through a bounded
//! queue to a thread of their own, so a stdout nobody reads (`run | less` paused, a
//! stalled log collector) stalls only that thread: children's pipes are still drained,
//! the front door still answers, Ctrl-C still works. While the queue is full, lines
//! are dropped, and once output flows again one line says how many.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

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

/// How many lines may wait for a slow reader before lines are dropped.
pub const QUEUE: usize = 4096;

/// Where every child's lines go. One lock around the bookkeeping keeps lines whole and
/// in order even when children write at the same time.
pub struct LogMux {
    inner: Mutex<Inner>,
}

struct Inner {
    out: Sink,
    color: bool,
    keep: usize,
    children: Vec<ChildLog>,
}

struct ChildLog {
    name: String,
    color: AnsiColors,
    last: VecDeque<String>,
}

/// Where printed lines go: straight into a writer that never blocks (memory), or to
/// the thread that writes them to one that may (stdout).
enum Sink {
    Direct(Box<dyn Write + Send>),
    Queued(Queue),
}

struct Queue {
    lines: SyncSender<String>,
    sent: u64,
    /// Lines dropped since the last one that got through.
    dropped: u64,
    written: Arc<AtomicU64>,
}

impl Queue {
    fn send(&mut self, line: String) -> bool {
        match self.lines.try_send(line) {
            Ok(()) => {
                self.sent += 1;
                true
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        }
    }
}

impl Sink {
    fn emit(&mut self, line: String) {
        match self {
            // A closed or broken writer must not stop the children: drop the line.
            Sink::Direct(out) => {
                let _ = out.write_all(line.as_bytes());
                let _ = out.flush();
            }
            Sink::Queued(queue) => {
                // Where lines went missing, say so, in their place.
                if queue.dropped > 0 {
                    let note = format!(
                        "reflex-django: {} lines of output were dropped while nobody read them\n",
                        queue.dropped
                    );
                    if !queue.send(note) {
                        queue.dropped += 1;
                        return;
                    }
                    queue.dropped = 0;
                }
                if !queue.send(line) {
                    queue.dropped += 1;
                }
            }
        }
    }
}

/// The writing thread: whatever the reader's pace, only it waits.
fn write_lines(mut out: Box<dyn Write + Send>, lines: Receiver<String>, written: Arc<AtomicU64>) {
    for line in lines {
        let _ = out.write_all(line.as_bytes());
        let _ = out.flush();
        written.fetch_add(1, Ordering::Release);
    }
}

impl LogMux {
    /// Prints to standard output, from a thread of its own; colours only when it is a
    /// terminal that wants them (`anstream` strips them otherwise and honours
    /// `NO_COLOR`).
    pub fn stdout() -> Self {
        Self::threaded(Box::new(anstream::stdout()), true, QUEUE)
    }

    /// Prints to `out` as lines come (a writer that never blocks: a buffer in tests).
    pub fn new(out: Box<dyn Write + Send>, color: bool) -> Self {
        Self::with_sink(Sink::Direct(out), color)
    }

    /// Prints to `out` from a thread of its own, at most `capacity` lines behind; when
    /// the writer is slower than that, lines are dropped (and counted), never waited for.
    pub fn threaded(out: Box<dyn Write + Send>, color: bool, capacity: usize) -> Self {
        let (lines, receiver) = std::sync::mpsc::sync_channel(capacity.max(1));
        let written = Arc::new(AtomicU64::new(0));
        let counter = written.clone();
        let spawned = std::thread::Builder::new()
            .name("reflex-django output".into())
            .spawn(move || write_lines(out, receiver, counter));
        match spawned {
            Ok(_) => Self::with_sink(
                Sink::Queued(Queue {
                    lines,
                    sent: 0,
                    dropped: 0,
                    written,
                }),
                color,
            ),
            // No thread to be had: print directly rather than not at all.
            Err(_) => Self::with_sink(Sink::Direct(Box::new(anstream::stdout())), color),
        }
    }

    fn with_sink(out: Sink, color: bool) -> Self {
        LogMux {
            inner: Mutex::new(Inner {
                out,
                color,
                keep: 200,
                children: Vec::new(),
            }),
        }
    }

    /// Waits (at most `deadline`) until the queued lines are written: the last words of
    /// a run reach a reader that keeps up, and a stalled one delays the exit no longer.
    pub fn drain(&self, deadline: Duration) {
        let (sent, written) = match &self.lock().out {
            Sink::Queued(q) => (q.sent, q.written.clone()),
            Sink::Direct(_) => return,
        };
        let until = Instant::now() + deadline;
        while written.load(Ordering::Acquire) < sent && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
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
        let line = if inner.color {
            format!("{} {text}\n", prefix.color(log.color))
        } else {
            format!("{prefix} {text}\n")
        };
        inner.out.emit(line);
    }

    /// Prints a line of our own (a status message), never cut in two by child output.
    pub fn message(&self, text: &str) {
        self.lock().out.emit(format!("{text}\n"));
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

impl Drop for LogMux {
    /// The last lines of a run (its shutdown report) reach a reader that keeps up; one
    /// that does not read delays the exit by a second at most.
    fn drop(&mut self) {
        self.drain(Duration::from_secs(1));
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

    /// A reader that does not read: every write waits until the test lets it through.
    struct Stalled {
        gate: Arc<(Mutex<bool>, std::sync::Condvar)>,
        out: Captured,
    }

    impl Write for Stalled {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let (open, cond) = &*self.gate;
            let mut open = open.lock().unwrap();
            while !*open {
                open = cond.wait(open).unwrap();
            }
            self.out.write(buf)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_reader_that_does_not_read_never_blocks_the_printer() {
        let gate = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let out = Captured::default();
        let writer = Stalled {
            gate: gate.clone(),
            out: out.clone(),
        };
        let mux = LogMux::threaded(Box::new(writer), false, 8);
        mux.register("django");
        let started = Instant::now();
        for n in 0..10_000 {
            mux.line("django", &format!("line {n}"), true);
        }
        mux.message("still here");
        // Returned without the reader: the lines that did not fit were dropped.
        let printing = started.elapsed();
        assert_eq!(mux.last_lines("django", 1), vec!["line 9999"]);
        // The reader comes back: what was queued is written, then the count of the
        // dropped lines comes before the next line.
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        mux.drain(Duration::from_secs(10));
        mux.line("django", "after", true);
        mux.drain(Duration::from_secs(10));
        let text = out.text();
        assert!(text.starts_with("django │ line 0\n"), "{text}");
        assert!(
            text.contains("lines of output were dropped while nobody read them"),
            "{text}"
        );
        assert!(text.ends_with("django │ after\n"), "{text}");
        eprintln!("10,000 lines to a stalled reader took {printing:?}");
    }

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
