//! What every connection and tunnel task holds while the front door serves: the
//! shutdown signal, and a token whose drop tells the server the task is done. A leaf:
//! the server makes it, the forwarder and the tunnels only hold it.

use tokio::sync::{mpsc, watch};

#[derive(Clone)]
pub(crate) struct Lifetime {
    pub shutdown: watch::Receiver<bool>,
    /// Set as soon as shutdown is asked, before the front door stops accepting: the
    /// health endpoint answers 503 from then on.
    pub draining: watch::Receiver<bool>,
    pub _in_flight: mpsc::Sender<()>,
}
