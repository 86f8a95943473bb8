//! Everything reflex-django asks of the operating system beyond what `std`, tokio and
//! POSIX give on every Unix, behind one interface. Linux (`linux.rs`) is the only
//! implementation: on any other system the crate does not build.
//!
//! # What a port (macOS) must provide
//! A sibling of `linux.rs`, selected below, with these items:
//!
//! - [`Proc`] for every process visible to this user: `processes()` lists them all,
//!   `process(pid)` gives one (`None` once it is gone). The supervisor finds a child's
//!   processes by parent links and process groups, and reaps the orphans it adopts.
//! - `environ_any(pid, matches) -> bool`: whether an entry (`NAME=value` bytes) of
//!   the environment of `pid` satisfies `matches`; `false` when it cannot be read. The
//!   supervisor finds the descendants that left a child's process group by the marker
//!   in their environment, also after a SIGKILL (the guardian).
//! - `become_subreaper() -> io::Result<()>`: orphaned descendants of our children are
//!   re-parented to this process instead of to init, so they stay ours to find and
//!   reap. A system without the notion may do nothing here: the marker still finds
//!   them.
//! - `die_with_parent(&mut tokio::process::Command)`: the child is killed by the
//!   kernel when this process dies, however it dies (Linux: `PR_SET_PDEATHSIG`, armed
//!   between fork and exec, then a check that the parent is still the same). Without
//!   it a SIGKILLed `run` leaves its direct children to the guardian alone.
//! - `cloexec_pipe() -> io::Result<(OwnedFd, OwnedFd)>`: a pipe whose two ends are
//!   closed on exec, set atomically (another thread may fork at any moment); the
//!   guardian's lifeline.
//! - `port_holder(port) -> Option<String>`: the process listening on a local TCP port,
//!   as `pid 1234 (its command line)`, for the message about a port in use; `None`
//!   when the system does not say.
//! - `sync_filesystem(&File)`: flushes the file system that holds the open file or
//!   directory (the build's files reach the disk before its stamp does).

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as imp;

#[cfg(not(target_os = "linux"))]
compile_error!(
    "reflex-django builds on Linux only: a port to this system provides the items \
     listed in src/platform/mod.rs in a module of its own"
);

/// One process, as the process table shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proc {
    pub pid: i32,
    pub ppid: i32,
    pub pgid: i32,
    /// `R`, `S`, `D`, `Z` (zombie), … as Linux spells them.
    pub state: char,
}

impl Proc {
    /// Dead but not reaped, or being torn down: nothing left to signal.
    pub fn is_dead(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// Every process visible right now.
pub fn processes() -> Vec<Proc> {
    imp::processes()
}

/// The process `pid`, or `None` when it is gone.
pub fn process(pid: i32) -> Option<Proc> {
    imp::process(pid)
}

/// Whether an entry (`NAME=value`) of the environment of `pid` satisfies `matches`.
/// Unreadable (another user's process, or gone) counts as no.
pub fn environ_any(pid: i32, matches: impl FnMut(&[u8]) -> bool) -> bool {
    imp::environ_any(pid, matches)
}

/// Makes this process the reaper of its descendants' orphans. Idempotent.
pub fn become_subreaper() -> io::Result<()> {
    imp::become_subreaper()
}

/// Has the kernel SIGKILL the child started by `command` when this process dies; the
/// child exits at once if this process died before that was armed.
pub fn die_with_parent(command: &mut tokio::process::Command) {
    imp::die_with_parent(command)
}

/// A pipe (read end, write end), both ends closed on exec.
pub fn cloexec_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    imp::cloexec_pipe()
}

/// `pid 1234 (python manage.py runserver)` for the process listening on `port`, when
/// the system tells (Linux does not for other users' processes without privileges).
pub fn port_holder(port: u16) -> Option<String> {
    imp::port_holder(port)
}

/// Flushes the file system that holds `file` (an open file or directory); errors are
/// ignored: this only makes a crash less likely to lose what was written.
pub fn sync_filesystem(file: &File) {
    imp::sync_filesystem(file)
}
