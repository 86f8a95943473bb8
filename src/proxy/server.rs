//! The listener: accepts browser connections, serves HTTP/1.1 on them with upgrades,
//! and shuts down gracefully.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use super::FrontDoor;
use super::forward::Forwarder;
use super::lifetime::Lifetime;

/// Serves the front door on `listener` until `shutdown` completes; then reports
/// draining on the health endpoint while it still accepts for `limits.drain_delay`
/// (so load balancers stop sending), stops accepting, lets requests in flight finish
/// (at most `limits.shutdown_grace`), and closes WebSocket tunnels.
pub async fn serve(
    listener: TcpListener,
    front_door: FrontDoor,
    shutdown: impl Future<Output = ()>,
) {
    let limits = front_door.limits.clone();
    let forwarder = Arc::new(Forwarder::new(front_door));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        // hyper refuses (panics on) a buffer below its 8 KiB minimum.
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_header_size(limits.max_header_bytes);
    let (stop, stopped) = watch::channel(false);
    let (drain, draining) = watch::channel(false);
    let (in_flight, mut all_done) = mpsc::channel::<()>(1);
    let lifetime = Lifetime {
        shutdown: stopped,
        draining,
        _in_flight: in_flight,
    };

    let mut shutdown = std::pin::pin!(shutdown);
    let stop_accepting = tokio::time::sleep(Duration::MAX);
    let mut stop_accepting = std::pin::pin!(stop_accepting);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown, if !*drain.borrow() => {
                drain.send_replace(true);
                if limits.drain_delay.is_zero() {
                    break;
                }
                stop_accepting
                    .as_mut()
                    .reset(tokio::time::Instant::now() + limits.drain_delay);
                continue;
            }
            () = &mut stop_accepting => break,
        };
        let _ = stream.set_nodelay(true);
        let conn_lifetime = lifetime.clone();
        let forwarder = forwarder.clone();
        let service_lifetime = lifetime.clone();
        let service = service_fn(move |request| {
            let forwarder = forwarder.clone();
            let lifetime = service_lifetime.clone();
            async move { Ok::<_, Infallible>(forwarder.handle(request, peer, lifetime).await) }
        });
        let connection = http
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        tokio::spawn(async move {
            let Lifetime {
                mut shutdown,
                _in_flight,
                ..
            } = conn_lifetime;
            let mut connection = std::pin::pin!(connection);
            // A connection error (client gone, bad request) ends this connection only.
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = shutdown.wait_for(|stop| *stop) => {}
            }
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(lifetime);
    let _ = tokio::time::timeout(limits.shutdown_grace, all_done.recv()).await;
}
