//! Linux: the process table and environments from `/proc`, `prctl` for the subreaper
//! and the parent-death signal, `pipe2`, `syncfs`.

use std::fs::{self, File};
use std::io;
use std::os::fd::OwnedFd;

use nix::fcntl::OFlag;
use nix::libc;

use super::Proc;

pub fn processes() -> Vec<Proc> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(process)
        .collect()
}

/// From `/proc/<pid>/stat`.
pub fn process(pid: i32) -> Option<Proc> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

fn parse_stat(text: &str) -> Option<Proc> {
    // The command name is in parentheses and may itself contain spaces and ')'.
    let (head, rest) = text.rsplit_once(')')?;
    let pid = head.split_once(' ')?.0.trim().parse().ok()?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let mut number = || fields.next()?.parse::<i32>().ok();
    Some(Proc {
        pid,
        ppid: number()?,
        pgid: number()?,
        state,
    })
}

/// From `/proc/<pid>/environ`, NUL-separated entries.
pub fn environ_any(pid: i32, matches: impl FnMut(&[u8]) -> bool) -> bool {
    let Ok(environ) = fs::read(format!("/proc/{pid}/environ")) else {
        return false;
    };
    environ.split(|b| *b == 0).any(matches)
}

pub fn become_subreaper() -> io::Result<()> {
    nix::sys::prctl::set_child_subreaper(true).map_err(io::Error::from)
}

/// `PR_SET_PDEATHSIG` fires when the *thread* that forked the child ends, not the
/// process: fork from a thread that lives as long as the process (the supervisor's
/// spawner does).
pub fn die_with_parent(command: &mut tokio::process::Command) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs between fork and exec and only makes two system calls;
    // it allocates nothing (the error is built from a raw errno).
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

pub fn cloexec_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(io::Error::from)
}

/// The socket inodes listening on `port` (`/proc/net/tcp{,6}`), then the process with
/// one of them among its file descriptors (`/proc/<pid>/fd`).
pub fn port_holder(port: u16) -> Option<String> {
    let inodes = listening_inodes(port);
    if inodes.is_empty() {
        return None;
    }
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            fs::read_link(fd.path())
                .ok()
                .and_then(|target| {
                    let t = target.to_string_lossy().into_owned();
                    t.strip_prefix("socket:[")?
                        .strip_suffix(']')
                        .map(str::to_owned)
                })
                .is_some_and(|inode| inodes.contains(&inode))
        });
        if holds {
            let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmdline)
                .split('\0')
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            return Some(if cmd.is_empty() {
                format!("pid {pid}")
            } else {
                format!("pid {pid} ({cmd})")
            });
        }
    }
    None
}

/// Socket inodes in LISTEN state on `port`, from `/proc/net/tcp{,6}`.
fn listening_inodes(port: u16) -> Vec<String> {
    const LISTEN: &str = "0A";
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() < 10 || cols[3] != LISTEN {
                continue;
            }
            let local_port = cols[1]
                .rsplit(':')
                .next()
                .and_then(|hex| u16::from_str_radix(hex, 16).ok());
            if local_port == Some(port) {
                inodes.push(cols[9].to_string());
            }
        }
    }
    inodes
}

pub fn sync_filesystem(file: &File) {
    let _ = nix::unistd::syncfs(file);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_command_names_parse() {
        let line = "4242 (we ird) (x)) S 1 4242 4242 0 -1 4194560 0 0";
        assert_eq!(
            parse_stat(line),
            Some(Proc {
                pid: 4242,
                ppid: 1,
                pgid: 4242,
                state: 'S'
            })
        );
    }

    #[test]
    fn this_process_is_in_the_table_with_its_parent() {
        let me = std::process::id() as i32;
        let found = processes().into_iter().find(|p| p.pid == me).unwrap();
        assert_eq!(found.ppid, nix::unistd::getppid().as_raw());
        assert_eq!(found.pgid, nix::unistd::getpgrp().as_raw());
        assert_eq!(
            process(me).map(|p| (p.ppid, p.pgid)),
            Some((found.ppid, found.pgid))
        );
    }

    #[test]
    fn a_listening_port_names_this_process() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let holder = port_holder(port).unwrap();
        assert!(
            holder.starts_with(&format!("pid {} (", std::process::id())),
            "{holder}"
        );
    }
}
