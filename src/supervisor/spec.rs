//! What to run and how to tell that it works: the description of one child.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::policy::RestartPolicy;

/// One supervised program. Build it with [`ChildSpec::new`] and struct update syntax:
///
/// ```
/// # use reflex_django::supervisor::{ChildSpec, Probe, Expect};
/// let spec = ChildSpec {
///     args: vec!["-m".into(), "uvicorn".into(), "backend.asgi:application".into()],
///     ready: Probe::Http { port: 8001, path: "/".into(), expect: Expect::AnyAnswer },
///     ..ChildSpec::new("django", "python3")
/// };
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildSpec {
    /// Shown in the log prefix and in every message about the child.
    pub name: String,
    pub program: PathBuf,
    #[serde(default)]
    pub args: Vec<String>,
    /// Set on top of the environment this process was started with.
    #[serde(default)]
    pub env: Vec<(String, String)>,
    /// Working directory; this process's when unset.
    #[serde(default)]
    pub cwd: Option<PathBuf>,
    #[serde(default)]
    pub ready: Probe,
    /// How long the child may take to become ready after each start.
    #[serde(default = "default_ready_timeout")]
    pub ready_timeout: Duration,
    /// Once ready, checks that it still answers; see [`AliveCheck`].
    #[serde(default)]
    pub alive: Option<AliveCheck>,
    #[serde(default)]
    pub restart: RestartPolicy,
    /// Files whose changes restart the child.
    #[serde(default)]
    pub watch: Option<Watch>,
    /// Sees every output line before it is printed; see [`LineHook`].
    #[serde(skip)]
    pub on_line: Option<LineHook>,
}

fn default_ready_timeout() -> Duration {
    Duration::from_secs(60)
}

impl ChildSpec {
    pub fn new(name: impl Into<String>, program: impl Into<PathBuf>) -> Self {
        ChildSpec {
            name: name.into(),
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            ready: Probe::None,
            ready_timeout: default_ready_timeout(),
            alive: None,
            restart: RestartPolicy::default(),
            watch: None,
            on_line: None,
        }
    }

    /// `python3 -m uvicorn …` as the user would type it, for messages.
    pub fn command_line(&self) -> String {
        std::iter::once(self.program.display().to_string())
            .chain(self.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// How to tell that a started child is ready to serve. Always on 127.0.0.1.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Probe {
    /// Ready as soon as it is started.
    #[default]
    None,
    /// Ready when a TCP connection to the port succeeds.
    Tcp { port: u16 },
    /// Ready when `GET http://127.0.0.1:<port><path>` answers as `expect` says.
    Http {
        port: u16,
        path: String,
        expect: Expect,
    },
    /// Ready when every one of these is (Reflex: its backend and its frontend).
    All(Vec<Probe>),
}

/// Asks a ready child, every `every`, whether it still answers as `probe` expects
/// (within `timeout`). After `failures` failed checks in a row it counts as hung (a
/// deadlock, a SIGSTOP): it is stopped and restarted like a crashed child, with the
/// reason in the log. Not during start-up: the readiness time limit covers that.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AliveCheck {
    pub probe: Probe,
    pub every: Duration,
    pub timeout: Duration,
    pub failures: u32,
}

/// What an HTTP readiness answer must look like.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Expect {
    /// Any HTTP answer, whatever its status: the server is up.
    AnyAnswer,
    /// This status code.
    Status(u16),
    /// A 2xx answer whose body, without surrounding white space, is this text.
    Body(String),
    /// A 2xx answer that is an HTML page.
    Html,
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Probe::None => f.write_str("nothing"),
            Probe::Tcp { port } => write!(f, "a connection to 127.0.0.1:{port}"),
            Probe::Http { port, path, expect } => {
                write!(f, "GET http://127.0.0.1:{port}{path} to answer ")?;
                match expect {
                    Expect::AnyAnswer => f.write_str("at all"),
                    Expect::Status(code) => write!(f, "with status {code}"),
                    Expect::Body(body) => write!(f, "`{body}`"),
                    Expect::Html => f.write_str("with an HTML page"),
                }
            }
            Probe::All(probes) => {
                let all: Vec<String> = probes.iter().map(ToString::to_string).collect();
                f.write_str(&all.join(" and "))
            }
        }
    }
}

/// Restart the child when files change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Watch {
    /// Files or directories (watched recursively).
    pub paths: Vec<PathBuf>,
    /// Glob patterns of the files that count (`*.py`, `templates/**/*.html`); every
    /// file when empty.
    pub include: Vec<String>,
    /// Glob patterns to ignore: `name/` skips every directory of that name (`.web/`,
    /// `__pycache__/`), an absolute path skips it and everything below it; a pattern
    /// without `/` matches a name at any depth (`*.sqlite3`), one with `/` the path
    /// below the watched directory (`**` spans directories). Files the project's
    /// `.gitignore` files ignore are skipped as well.
    pub ignore: Vec<String>,
}

/// One line of a child's output, as the hook sees it.
#[derive(Clone, Copy, Debug)]
pub struct Line<'a> {
    pub child: &'a str,
    pub stream: Stream,
    pub text: &'a str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Called for every output line of a child, before it is printed; return `false` to
/// keep the line off the screen (it is still kept for error reports). Use it to spot a
/// message (e.g. bun missing) or to show progress while a child starts. It runs on the
/// output reader: keep it quick and do not block.
#[derive(Clone)]
pub struct LineHook(pub Arc<dyn Fn(&Line<'_>) -> bool + Send + Sync>);

impl LineHook {
    pub fn new(f: impl Fn(&Line<'_>) -> bool + Send + Sync + 'static) -> Self {
        LineHook(Arc::new(f))
    }
}

impl fmt::Debug for LineHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LineHook")
    }
}
