//! The WebSocket tunnel: once both sides switched protocols, bytes are copied both
//! ways, so frames, subprotocols and close codes pass through untouched.

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use super::server::Lifetime;

/// Spawns the copy between the browser's and the upstream's upgraded connections. A
/// failure ends this tunnel only; shutdown ends every tunnel.
pub(crate) fn spawn(client: OnUpgrade, upstream: OnUpgrade, lifetime: Lifetime) {
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
        tokio::select! {
            // Ends when both directions reached EOF (each EOF is passed on as a
            // shutdown of the other side's write half) or one side failed.
            _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
            _ = shutdown.wait_for(|stop| *stop) => {}
        }
    });
}
