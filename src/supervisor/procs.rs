//! Which processes belong to a child: parent links, process groups, and the marker a
//! child's environment carries, from the process table the platform gives.
//!
//! Stopping a child cannot trust parent links alone: once a child has died its own
//! children are re-parented to us (we are a subreaper), and a grandchild that called
//! `setsid` has left the child's process group. The marker in the environment is what
//! every descendant keeps, so a child's processes are those in its process group, those
//! below it, and those that carry its marker.

use std::collections::HashSet;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::platform::{self, Proc};

/// Whether the environment of `pid` has the entry `marker` (`NAME=value`) exactly, or,
/// when `marker` ends with `/`, an entry that starts with it. Unreadable (another
/// user's process, or gone) counts as no.
pub fn has_marker(pid: i32, marker: &str) -> bool {
    platform::environ_any(pid, |entry| {
        if marker.ends_with('/') {
            entry.starts_with(marker.as_bytes())
        } else {
            entry == marker.as_bytes()
        }
    })
}

/// The living processes below `root` by parent links (not `root` itself).
pub fn descendants(table: &[Proc], root: i32) -> HashSet<i32> {
    let mut found = HashSet::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for p in table.iter().filter(|p| p.ppid == parent && !p.is_dead()) {
            if found.insert(p.pid) {
                frontier.push(p.pid);
            }
        }
    }
    found
}

/// Living processes that carry `marker` in their environment (see [`has_marker`]).
pub fn marked(table: &[Proc], marker: &str) -> Vec<i32> {
    let me = std::process::id() as i32;
    table
        .iter()
        .filter(|p| !p.is_dead() && p.pid != me && has_marker(p.pid, marker))
        .map(|p| p.pid)
        .collect()
}

/// The living processes of one child: its process group `pgid` (the child's own pid),
/// everything below `root` while it lives, and everything that carries `marker`.
pub fn members(root: i32, marker: &str) -> Vec<i32> {
    let table = platform::processes();
    let me = std::process::id() as i32;
    let mut pids = descendants(&table, root);
    pids.extend(
        table
            .iter()
            .filter(|p| p.pgid == root && !p.is_dead())
            .map(|p| p.pid),
    );
    if platform::process(root).is_some_and(|p| !p.is_dead()) {
        pids.insert(root);
    }
    pids.extend(marked(&table, marker));
    pids.remove(&me);
    let mut pids: Vec<i32> = pids.into_iter().collect();
    pids.sort_unstable();
    pids
}

/// Sends `signal` to each pid; a process that is already gone is not an error.
pub fn signal_all(pids: &[i32], signal: Signal) {
    for &pid in pids {
        let _ = kill(Pid::from_raw(pid), signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_in_the_table_under_its_parent() {
        let table = platform::processes();
        let me = std::process::id() as i32;
        let parent = nix::unistd::getppid().as_raw();
        assert!(descendants(&table, parent).contains(&me));
    }

    #[test]
    fn markers_match_whole_entries_or_prefixes() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .env("RDJ_PROCS_TEST", "abc/django")
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        // Until the child has exec'd, /proc shows the parent's environment.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while !has_marker(pid, "RDJ_PROCS_TEST=abc/django") && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(has_marker(pid, "RDJ_PROCS_TEST=abc/django"));
        assert!(has_marker(pid, "RDJ_PROCS_TEST=abc/"));
        assert!(!has_marker(pid, "RDJ_PROCS_TEST=abc/d"));
        assert!(!has_marker(pid, "RDJ_PROCS_TEST=ab/"));
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
