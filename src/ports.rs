//! Port checks: is a port free, and if not, which process holds it.

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
            let holder = crate::platform::port_holder(port)
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
