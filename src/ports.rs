//! Port checks: is a port free, and if not, which process holds it (from `/proc`).

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

use crate::error::{Error, Result};

/// Checks that `host:port` can be bound, naming the holder when it cannot.
/// `flag` is the command-line option that changes this port, for the hint.
pub fn ensure_free(host: &str, port: u16, what: &str, flag: &str) -> Result<()> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| {
            Error::new(format!(
                "cannot resolve the address {host}:{port} for {what}"
            ))
            .cause(e)
            .hint("use an IP address such as 127.0.0.1 or 0.0.0.0")
        })?
        .collect();
    for addr in addrs {
        if let Err(e) = TcpListener::bind(addr) {
            let holder = holder_of(port)
                .map(|h| format!(" by {h}"))
                .unwrap_or_default();
            return Err(
                Error::new(format!("port {port} ({what}) is already in use{holder}"))
                    .cause(e)
                    .hint(format!(
                        "stop the other program, or pick another port with {flag} (or in \
                 reflex-django.yaml)"
                    )),
            );
        }
    }
    Ok(())
}

/// A free port on 127.0.0.1, picked by the kernel.
pub fn free_local_port() -> Result<u16> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| {
            Error::new("cannot find a free local port").cause(e).hint(
                "set `django.port` and `reflex.backend_port` in reflex-django.yaml to ports \
                 you know are free",
            )
        })
}

/// `pid 1234 (python manage.py runserver)` for the process listening on `port`, when
/// `/proc` tells (it does not for other users' processes without privileges).
pub fn holder_of(port: u16) -> Option<String> {
    let inodes = listening_inodes(port);
    if inodes.is_empty() {
        return None;
    }
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path())
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
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
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
        let Ok(text) = std::fs::read_to_string(table) else {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_port_names_this_process() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let err = ensure_free("127.0.0.1", port, "the front door", "--port").unwrap_err();
        assert!(
            err.message().contains(&format!(
                "port {port} (the front door) is already in use by pid {}",
                std::process::id()
            )),
            "{err}"
        );
        assert!(err.hint_text().unwrap().contains("--port"));
        drop(listener);
        ensure_free("127.0.0.1", port, "the front door", "--port").unwrap();
    }
}
