//! A request body that can be taken back if the upstream never read from it.
//!
//! hyper's client consumes the request even when the connection is refused. When a
//! child has just died (or is restarting) the front door retries within the hold, and
//! it needs the body for that retry. The body is never buffered: it is either still
//! untouched in the shared slot, or streaming to the one upstream that took it.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;

pub(crate) struct Replayable {
    slot: Arc<Mutex<Option<Incoming>>>,
    /// The body, once the upstream started reading it.
    taken: Option<Incoming>,
    /// Set when reading the client's body failed (bad chunked encoding, a client gone).
    client_failed: Arc<AtomicBool>,
}

/// The owner's handle: gets the body back when the request failed before reading it.
pub(crate) struct Reclaim {
    slot: Arc<Mutex<Option<Incoming>>>,
    client_failed: Arc<AtomicBool>,
}

pub(crate) fn replayable(body: Incoming) -> (Replayable, Reclaim) {
    let slot = Arc::new(Mutex::new(Some(body)));
    let client_failed = Arc::new(AtomicBool::new(false));
    let reclaim = Reclaim {
        slot: slot.clone(),
        client_failed: client_failed.clone(),
    };
    let body = Replayable {
        slot,
        taken: None,
        client_failed,
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

    /// Whether the request failed because the client's own body could not be read:
    /// the client's fault, not the upstream's.
    pub fn client_failed(&self) -> bool {
        self.client_failed.load(Ordering::Relaxed)
    }
}

impl Body for Replayable {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        if this.taken.is_none() {
            this.taken = lock(&this.slot).take();
        }
        match &mut this.taken {
            Some(body) => {
                let frame = Pin::new(body).poll_frame(cx);
                if let Poll::Ready(Some(Err(_))) = &frame {
                    this.client_failed.store(true, Ordering::Relaxed);
                }
                frame
            }
            None => Poll::Ready(None),
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
