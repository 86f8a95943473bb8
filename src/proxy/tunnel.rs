//! The protocol-switch tunnel: once both sides switched protocols, bytes are copied
//! both ways, so frames, subprotocols and close codes pass through untouched.
//!
//! When the front door shuts down, a WebSocket tunnel ends the way a server that goes
//! away should: the browser gets a close frame with status 1001, put between two of
//! the upstream's frames, so the Reflex client reconnects (to another instance, or
//! to this one once it is back). To know where frames end, the upstream's side is read
//! through [`Frames`]; the copying itself stays tokio's `copy_bidirectional`, one task
//! and no extra buffering, so a tunnel costs no more than a plain one.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;

use super::lifetime::Lifetime;
use super::ws_frames::{Boundaries, GOING_AWAY};

/// How long a shutdown waits for the frame in flight and the browser's goodbye.
const FINISH: Duration = Duration::from_secs(1);

/// Spawns the copy between the browser's and the upstream's upgraded connections. A
/// failure ends this tunnel only; shutdown ends every tunnel.
pub(crate) fn spawn(client: OnUpgrade, upstream: OnUpgrade, websocket: bool, lifetime: Lifetime) {
    tokio::spawn(async move {
        let Lifetime {
            mut shutdown,
            _in_flight,
            ..
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
        let going_away = Arc::new(AtomicBool::new(false));
        let mut upstream = Frames::new(upstream, shutdown.clone(), going_away.clone());
        let mut client = Goodbye::new(client, going_away);
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
            () = async {
                stopping(&mut shutdown).await;
                tokio::time::sleep(FINISH).await;
            } => {}
        }
    });
}

/// Completes once shutdown is asked (or nobody can ask any more).
async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// The upstream's side of a WebSocket tunnel. It follows the frame boundaries of what
/// it reads; once shutdown is asked it reads no further than the end of the current
/// frame and then reports the end of the stream, with `going_away` set, so the copy
/// ends the browser's side through [`Goodbye`].
struct Frames<T> {
    inner: T,
    boundaries: Boundaries,
    stop: Pin<Box<dyn Future<Output = ()> + Send>>,
    draining: bool,
    going_away: Arc<AtomicBool>,
}

impl<T> Frames<T> {
    fn new(inner: T, mut shutdown: watch::Receiver<bool>, going_away: Arc<AtomicBool>) -> Self {
        Frames {
            inner,
            boundaries: Boundaries::default(),
            stop: Box::pin(async move { stopping(&mut shutdown).await }),
            draining: false,
            going_away,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Frames<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // Polled with every read, so a shutdown wakes a tunnel that waits for data.
        if !this.draining && this.stop.as_mut().poll(cx).is_ready() {
            this.draining = true;
        }
        if !this.draining {
            let before = buf.filled().len();
            ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
            this.boundaries.feed(&buf.filled()[before..]);
            return Poll::Ready(Ok(()));
        }
        if this.boundaries.at_boundary() {
            this.going_away.store(true, Ordering::Relaxed);
            return Poll::Ready(Ok(()));
        }
        // Finish the frame in flight, and not a byte more.
        let mut scratch = [0u8; 4096];
        let limit = (this.boundaries.to_boundary() as usize)
            .min(scratch.len())
            .min(buf.remaining());
        let mut limited = ReadBuf::new(&mut scratch[..limit]);
        ready!(Pin::new(&mut this.inner).poll_read(cx, &mut limited))?;
        // Nothing read: the upstream itself ended mid-frame, and so does the copy.
        let read = limited.filled();
        this.boundaries.feed(read);
        buf.put_slice(read);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Frames<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The browser's side of a WebSocket tunnel: when the upstream's side ended because
/// the front door goes away, it sends the going-away close frame before its own end.
struct Goodbye<T> {
    inner: T,
    going_away: Arc<AtomicBool>,
    /// Bytes of the close frame already written.
    sent: usize,
}

impl<T> Goodbye<T> {
    fn new(inner: T, going_away: Arc<AtomicBool>) -> Self {
        Goodbye {
            inner,
            going_away,
            sent: 0,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Goodbye<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Goodbye<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.going_away.load(Ordering::Relaxed) {
            while this.sent < GOING_AWAY.len() {
                let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &GOING_AWAY[this.sent..]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                this.sent += n;
            }
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}
