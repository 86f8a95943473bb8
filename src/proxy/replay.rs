//! A request body that can be taken back if the upstream never read from it.
//!
//! hyper's client consumes the request even when the connection is refused. When a
//! child has just died (or is restarting) the front door retries within the hold, and
//! it needs the body for that retry. The body is never buffered: it is either still
//! untouched in the shared slot, or streaming to the one upstream that took it.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::sync::watch;
use tokio::time::Sleep;

/// How reading the client's body went, as far as the upstream request got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum ClientBody {
    Fine = 0,
    /// It could not be read (bad chunked encoding, a client gone).
    Failed = 1,
    /// Nothing came for longer than the idle limit.
    Stalled = 2,
}

/// The error of a body the client stopped sending.
#[derive(Debug)]
pub(crate) struct Stalled(Duration);

impl std::fmt::Display for Stalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the client sent no body data for {:?}", self.0)
    }
}

impl std::error::Error for Stalled {}

pub(crate) struct Replayable {
    slot: Arc<Mutex<Option<Incoming>>>,
    /// The body, once the upstream started reading it.
    taken: Option<Incoming>,
    /// Set when reading the client's body failed (bad chunked encoding, a client gone)
    /// or stalled for longer than `idle`.
    client: Arc<AtomicU8>,
    idle: Duration,
    timer: Option<Pin<Box<Sleep>>>,
    /// Counts the body's frames as they go to the upstream (and its end).
    progress: watch::Sender<u64>,
}

/// The owner's handle: gets the body back when the request failed before reading it.
pub(crate) struct Reclaim {
    slot: Arc<Mutex<Option<Incoming>>>,
    client: Arc<AtomicU8>,
    progress: watch::Receiver<u64>,
}

pub(crate) fn replayable(body: Incoming, idle: Duration) -> (Replayable, Reclaim) {
    let (progress, progress_rx) = watch::channel(0);
    let slot = Arc::new(Mutex::new(Some(body)));
    let client = Arc::new(AtomicU8::new(ClientBody::Fine as u8));
    let reclaim = Reclaim {
        slot: slot.clone(),
        client: client.clone(),
        progress: progress_rx,
    };
    let body = Replayable {
        slot,
        taken: None,
        client,
        idle,
        timer: None,
        progress,
    };
    (body, reclaim)
}

fn lock(slot: &Mutex<Option<Incoming>>) -> MutexGuard<'_, Option<Incoming>> {
    // The slot holds plain data; a panic elsewhere cannot leave it half-updated.
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Reclaim {
    /// The body, if nobody started reading it; otherwise the request cannot be retried.
    pub fn take(self) -> Option<Incoming> {
        lock(&self.slot).take()
    }

    /// Returns once the request has made no progress for `limit`: no frame of its
    /// body went to the upstream (it has the whole request and does not answer, or it
    /// stopped reading the body), counted from the start or the last frame.
    pub async fn quiet_for(&self, limit: Duration) {
        let mut progress = self.progress.clone();
        loop {
            match tokio::time::timeout(limit, progress.changed()).await {
                Err(_) => return,
                Ok(Ok(())) => continue,
                // The body is gone (all sent): from now on, only the answer.
                Ok(Err(_)) => return tokio::time::sleep(limit).await,
            }
        }
    }

    /// How reading the client's body went: when it failed or stalled, a failed
    /// request is the client's fault, not the upstream's.
    pub fn client_body(&self) -> ClientBody {
        match self.client.load(Ordering::Relaxed) {
            1 => ClientBody::Failed,
            2 => ClientBody::Stalled,
            _ => ClientBody::Fine,
        }
    }
}

impl Body for Replayable {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.taken.is_none() {
            this.taken = lock(&this.slot).take();
        }
        let Some(body) = &mut this.taken else {
            return Poll::Ready(None);
        };
        match Pin::new(&mut *body).poll_frame(cx) {
            Poll::Ready(Some(Err(e))) => {
                this.client
                    .store(ClientBody::Failed as u8, Ordering::Relaxed);
                Poll::Ready(Some(Err(e.into())))
            }
            Poll::Ready(frame) => {
                this.timer = None; // data came: the idle clock starts again
                this.progress.send_modify(|frames| *frames += 1);
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                // Nothing from the client yet: it may take `idle`, not for ever.
                let idle = this.idle;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        this.client
                            .store(ClientBody::Stalled as u8, Ordering::Relaxed);
                        Poll::Ready(Some(Err(Box::new(Stalled(idle)))))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.taken {
            Some(body) => body.is_end_stream(),
            None => lock(&self.slot).as_ref().is_none_or(Body::is_end_stream),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.taken {
            Some(body) => body.size_hint(),
            None => lock(&self.slot)
                .as_ref()
                .map_or_else(|| SizeHint::with_exact(0), Body::size_hint),
        }
    }
}
