//! The protocol-switch tunnel: once both sides switched protocols, bytes are copied
//! both ways, so frames, subprotocols and close codes pass through untouched.
//!
//! When the front door shuts down, a WebSocket tunnel ends the way a server that goes
//! away should: the browser gets a close frame with status 1001, put between two of
//! the upstream's frames, so the Reflex client reconnects (to another instance, or
//! to this one once it is back).

use std::time::Duration;

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::server::Lifetime;
use super::ws_frames::{Boundaries, GOING_AWAY};

/// How long a shutdown waits for the upstream to finish the frame it is sending.
const FINISH_FRAME: Duration = Duration::from_secs(1);

const BUFFER: usize = 16 * 1024;

/// Spawns the copy between the browser's and the upstream's upgraded connections. A
/// failure ends this tunnel only; shutdown ends every tunnel.
pub(crate) fn spawn(client: OnUpgrade, upstream: OnUpgrade, websocket: bool, lifetime: Lifetime) {
    tokio::spawn(async move {
        let Lifetime {
            mut shutdown,
            _in_flight,
        } = lifetime;
        // hyper resolves the client side once the 101 has been written to it.
        let Ok((client, upstream)) = tokio::try_join!(client, upstream) else {
            return;
        };
        let mut client = TokioIo::new(client);
        let mut upstream = TokioIo::new(upstream);
        if !websocket {
            tokio::select! {
                // Ends when both directions reached EOF (each EOF is passed on as a
                // shutdown of the other side's write half) or one side failed.
                _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
                () = stopping(&mut shutdown) => {}
            }
            return;
        }
        let (mut client_read, mut client_write) = tokio::io::split(client);
        let (mut upstream_read, mut upstream_write) = tokio::io::split(upstream);
        tokio::select! {
            () = async {
                let _ = tokio::io::copy(&mut client_read, &mut upstream_write).await;
                let _ = upstream_write.shutdown().await;
            } => {
                // The browser closed its side and the upstream has been told; let the
                // rest of the upstream's answer (its close frame) pass.
                let rest = copy_down(&mut upstream_read, &mut client_write, shutdown);
                let _ = tokio::time::timeout(FINISH_FRAME, rest).await;
            }
            () = copy_down(&mut upstream_read, &mut client_write, shutdown.clone()) => {}
        }
    });
}

/// Copies the upstream's frames to the browser until either side ends; on shutdown,
/// finishes the frame in flight and sends `going away` instead of the next one.
async fn copy_down(
    upstream: &mut (impl AsyncRead + Unpin),
    client: &mut (impl AsyncWrite + Unpin),
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut frames = Boundaries::default();
    let mut buf = vec![0u8; BUFFER];
    let mut draining = false;
    let finish_by = tokio::time::sleep(Duration::MAX);
    tokio::pin!(finish_by);
    loop {
        if draining && frames.at_boundary() {
            let _ = client.write_all(&GOING_AWAY).await;
            let _ = client.shutdown().await;
            return;
        }
        // While draining, read no further than the end of the current frame.
        let limit = if draining {
            (frames.to_boundary() as usize).min(BUFFER)
        } else {
            BUFFER
        };
        tokio::select! {
            read = upstream.read(&mut buf[..limit]) => {
                let n = match read {
                    Ok(0) | Err(_) => {
                        let _ = client.shutdown().await;
                        return;
                    }
                    Ok(n) => n,
                };
                if client.write_all(&buf[..n]).await.is_err() {
                    return;
                }
                frames.feed(&buf[..n]);
            }
            () = stopping(&mut shutdown), if !draining => {
                draining = true;
                finish_by.as_mut().reset(tokio::time::Instant::now() + FINISH_FRAME);
            }
            () = &mut finish_by, if draining => {
                // The upstream stalled inside a frame: a close frame now would be
                // garbage, so just end the connection.
                let _ = client.shutdown().await;
                return;
            }
        }
    }
}

/// Completes once shutdown is asked (or nobody can ask any more).
async fn stopping(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}
