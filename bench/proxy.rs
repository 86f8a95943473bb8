//! The front door's own cost: a trivial upstream measured directly and through the
//! proxy (throughput ratio, added latency), plus a WebSocket echo message rate.
//!
//! `cargo bench --bench proxy` (release build). Knobs: `BENCH_SECONDS` per phase
//! (default 3), `BENCH_CONNECTIONS` for the throughput phase (default 16),
//! `BENCH_CPU_US` busy time per request of the second upstream (default 500, roughly
//! what a small Django view costs). Prints figures and ratios; asserts nothing.
//!
//! Each side runs on its own runtime and thread, as they would be separate processes:
//! the upstreams on one current-thread runtime, the front door on a two-worker
//! runtime (as in `run`), the load generator on another current-thread runtime.

#[path = "../tests/shared/route_table.rs"]
mod route_table;
#[path = "../tests/server/support.rs"]
#[allow(
    dead_code,
    reason = "the benchmark runs the servers, not every test helper"
)]
mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Starts `f` on a runtime of its own in a thread of its own, returning its output.
fn on_own_runtime<T: Send + 'static>(
    workers: usize,
    f: impl AsyncFnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = if workers == 0 {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        } else {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .enable_all()
                .build()
        }
        .unwrap();
        runtime.block_on(async move {
            let _ = tx.send(f().await);
            std::future::pending::<()>().await
        });
    });
    rx.recv().unwrap()
}

struct Upstreams {
    hello: SocketAddr,
    busy: SocketAddr,
    ws: SocketAddr,
}

fn main() {
    let seconds = Duration::from_secs(env_number("BENCH_SECONDS", 3));
    let connections = env_number("BENCH_CONNECTIONS", 16) as usize;
    let busy = Duration::from_micros(env_number("BENCH_CPU_US", 500));

    let upstreams = on_own_runtime(0, async move || Upstreams {
        hello: support::hello_upstream().await,
        busy: busy_upstream(busy).await,
        ws: support::ws_echo_upstream().await.0,
    });
    // Django's prefixes go to the hello (or the busy) upstream, everything else to the
    // WebSocket echo server.
    // Kept until the end of `main`: dropping a door shuts it down.
    let doors = on_own_runtime(2, async move || {
        let hello = support::Door::start(upstreams.hello, upstreams.ws).await;
        let busy = support::Door::start(upstreams.busy, upstreams.ws).await;
        (hello, busy)
    });
    let (hello_door, busy_door) = (doors.0.addr, doors.1.addr);
    let ws = upstreams.ws;
    let hello = upstreams.hello;
    let busy_direct = upstreams.busy;

    on_own_runtime(0, async move || {
        println!(
            "front door benchmark: {}s per phase, {connections} connections, {} CPUs",
            seconds.as_secs(),
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );

        // Latency: one connection, one request at a time.
        let direct = latencies(hello, "/admin/", seconds).await;
        let proxied = latencies(hello_door, "/admin/", seconds).await;
        let (d50, d99) = (percentile(&direct, 50.0), percentile(&direct, 99.0));
        let (p50, p99) = (percentile(&proxied, 50.0), percentile(&proxied, 99.0));
        println!(
            "latency, trivial upstream   direct p50 {d50:>6.1} µs p99 {d99:>6.1} µs | proxied p50 {p50:>6.1} µs p99 {p99:>6.1} µs | added p50 {:>6.1} µs p99 {:>6.1} µs (goal: p50 < 100 µs)",
            p50 - d50,
            p99 - d99
        );

        // Throughput: many connections, as fast as they go.
        for (name, direct_addr, door) in [
            ("trivial upstream", hello, hello_door),
            ("busy upstream   ", busy_direct, busy_door),
        ] {
            let direct = throughput(direct_addr, "/admin/", connections, seconds).await;
            let proxied = throughput(door, "/admin/", connections, seconds).await;
            println!(
                "throughput, {name} direct {direct:>9.0} req/s | proxied {proxied:>9.0} req/s | ratio {:.3} (goal ≥ 0.95)",
                proxied / direct
            );
        }

        // WebSocket: one connection, one message in flight.
        let direct = ws_rate(ws, seconds).await;
        let proxied = ws_rate(hello_door, seconds).await;
        println!(
            "websocket echo, 1 connection direct {direct:>9.0} msg/s | proxied {proxied:>9.0} msg/s | ratio {:.3}",
            proxied / direct
        );
    });
    drop(doors);
}

/// An upstream that spins the CPU for `busy` per request, on one thread: a stand-in
/// for a Django worker.
async fn busy_upstream(busy: Duration) -> SocketAddr {
    let (listener, addr) = support::local_listener().await;
    support::serve_http(listener, move |_req| async move {
        let start = Instant::now();
        while start.elapsed() < busy {
            std::hint::spin_loop();
        }
        Response::new(Full::new(Bytes::from_static(b"busy")))
    });
    addr
}

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

async fn connect(addr: SocketAddr) -> Sender {
    let stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

async fn one_request(sender: &mut Sender, path: &str) {
    sender.ready().await.unwrap();
    let request = Request::get(path)
        .header("host", "bench.test")
        .body(Empty::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.into_body().collect().await.unwrap();
}

/// Round-trip times in µs, after a short warm-up.
async fn latencies(addr: SocketAddr, path: &str, duration: Duration) -> Vec<f64> {
    let mut sender = connect(addr).await;
    for _ in 0..1000 {
        one_request(&mut sender, path).await;
    }
    let mut samples = Vec::new();
    let end = Instant::now() + duration;
    while Instant::now() < end {
        let start = Instant::now();
        one_request(&mut sender, path).await;
        samples.push(start.elapsed().as_secs_f64() * 1e6);
    }
    samples.sort_by(f64::total_cmp);
    samples
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p / 100.0).round() as usize;
    sorted[index]
}

/// Requests per second over `connections` keep-alive connections.
async fn throughput(
    addr: SocketAddr,
    path: &'static str,
    connections: usize,
    duration: Duration,
) -> f64 {
    let mut senders = Vec::new();
    for _ in 0..connections {
        let mut sender = connect(addr).await;
        one_request(&mut sender, path).await;
        senders.push(sender);
    }
    let start = Instant::now();
    let end = start + duration;
    let tasks: Vec<_> = senders
        .into_iter()
        .map(|mut sender| {
            tokio::spawn(async move {
                let mut done = 0u64;
                while Instant::now() < end {
                    one_request(&mut sender, path).await;
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    total as f64 / start.elapsed().as_secs_f64()
}

/// Echoed messages per second on one WebSocket, one message in flight.
async fn ws_rate(addr: SocketAddr, duration: Duration) -> f64 {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/_event/"))
        .await
        .unwrap();
    let message = Message::text("{\"event\":\"state.update\",\"payload\":{}}");
    for _ in 0..1000 {
        ws.send(message.clone()).await.unwrap();
        ws.next().await.unwrap().unwrap();
    }
    let start = Instant::now();
    let end = start + duration;
    let mut count = 0u64;
    while Instant::now() < end {
        ws.send(message.clone()).await.unwrap();
        ws.next().await.unwrap().unwrap();
        count += 1;
    }
    count as f64 / start.elapsed().as_secs_f64()
}
