//! The front door: routes Django's prefixes to Django and everything else (the
//! `/_event` WebSocket included) to Reflex.
//!
//! # Use (from `run`)
//!
//! ```no_run
//! # async fn example(table: reflex_django::proxy::routes::RouteTable) {
//! use std::time::Duration;
//! use reflex_django::proxy::{self, ChildState, FrontDoor, Limits, Pages, Upstream};
//! use tokio::sync::watch;
//!
//! // One state channel per child; whoever runs the children keeps the senders and
//! // publishes Starting → Ready → Restarting → Ready … → Stopped (`run`: the stack,
//! // following the supervisor).
//! let (django_state, django_rx) = watch::channel(ChildState::Starting);
//! let (reflex_state, reflex_rx) = watch::channel(ChildState::Starting);
//! let listener = proxy::bind("127.0.0.1", 8000).await.unwrap();
//! let front_door = FrontDoor {
//!     table,
//!     django: Upstream::new("django", ([127, 0, 0, 1], 8001).into(), django_rx),
//!     reflex: Upstream::new("reflex", ([127, 0, 0, 1], 8002).into(), reflex_rx),
//!     pages: Pages::Backend,
//!     hold_timeout: Duration::from_secs(10),
//!     trusted_proxies: Vec::new(),
//!     public_host: proxy::HeaderValue::from_static("localhost:8000"),
//!     django_key: None,
//!     limits: Limits::default(),
//! };
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let server = tokio::spawn(proxy::serve(listener, front_door, async {
//!     let _ = stopped.await;
//! }));
//! // … children start; ChildState::Ready is sent, and so on …
//! # let _ = (django_state, reflex_state);
//! let _ = stop.send(());
//! let _ = server.await;
//! # }
//! ```
//!
//! # Behaviour
//! - Routing by [`RouteTable::route`](routes::RouteTable::route) on the path: Django's
//!   prefixes to Django (or, for a prefix served from disk, to its files), Reflex's
//!   backend paths to Reflex's backend, everything else to the [`Pages`]. Django gets
//!   the full original path and the browser's `Host`; `X-Forwarded-For/-Proto/-Host`
//!   say who asked (believed from `trusted_proxies` only), and a request without a
//!   `Host` gets the public one; hop-by-hop headers are stripped both ways. Bodies stream both ways; upstream connections are pooled.
//! - Files (production): the built frontend and Django's `STATIC_ROOT`, with ETag,
//!   Last-Modified, Range, precompressed variants and `Cache-Control` by file name;
//!   never a file outside its root.
//! - [`HEALTH_PATH`](routes::HEALTH_PATH): `200` when both children are ready, `503`
//!   while one is not or the front door drains.
//! - WebSocket (any protocol switch): forwarded to the upstream; only its `101` is
//!   answered with `101` (its headers, subprotocol included), then bytes are copied
//!   both ways until either side closes. On shutdown a WebSocket gets a close frame
//!   with status 1001 (going away) between two of the upstream's frames.
//! - While a child is [`ChildState::Starting`] or [`ChildState::Restarting`], its
//!   requests wait (at most `hold_timeout`). A refused connection while it is
//!   `Ready` counts the same (it has likely just exited). Down or stopped: `502`;
//!   the hold ran out: `503`. Both with a short page (HTML for browsers, text
//!   otherwise) naming the child and its state.

mod body;
mod files;
mod forward;
pub mod frontend;
mod headers;
mod health;
mod hot;
mod lifetime;
mod pages;
mod replay;
pub mod routes;
mod server;
mod state;
mod tunnel;
mod ws_frames;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use frontend::Frontend;
pub use headers::{FRONT_DOOR_KEY, VIA, came_through_front_door};
/// How long the front door answers a small file from memory before it looks at the
/// disk again.
pub use hot::TTL as FILE_MEMORY_TTL;
pub use http::HeaderValue;
pub use ipnet::IpNet;
pub use server::serve;
pub use state::ChildState;

use crate::error::{Error, Result};

/// Everything the front door needs. Build it once; [`serve`] takes it.
pub struct FrontDoor {
    pub table: routes::RouteTable,
    pub django: Upstream,
    /// Reflex's backend: the `/_event` WebSocket, uploads, health checks.
    pub reflex: Upstream,
    /// Who answers the app's pages and assets.
    pub pages: Pages,
    /// How long a request waits for a starting or restarting child (`proxy.hold_timeout`).
    pub hold_timeout: Duration,
    /// Peers whose `X-Forwarded-*` headers are believed (a TLS terminator, a load
    /// balancer); see `proxy.trusted_proxies`.
    pub trusted_proxies: Vec<IpNet>,
    /// The `Host` given to a request that has none (HTTP/1.0): the app's public one,
    /// so Django never builds links with an internal port.
    pub public_host: HeaderValue,
    /// Sent to Django with every request ([`FRONT_DOOR_KEY`]); Django's side believes
    /// the forwarded headers only from a request that carries it, so a local program
    /// that goes round the front door cannot pose as another client.
    pub django_key: Option<HeaderValue>,
    pub limits: Limits,
}

/// Who answers the paths that are neither Django's nor Reflex's backend's: the pages.
pub enum Pages {
    /// Reflex's backend answers everything that is not Django's.
    Backend,
    /// Reflex's dev server (Vite), in development.
    DevServer(Upstream),
    /// The built frontend, from disk (production).
    Built(Frontend),
}

/// A child the front door forwards to.
pub struct Upstream {
    /// Shown on error pages: `django`, `reflex`.
    pub name: String,
    /// Where the child listens (an internal port on 127.0.0.1).
    pub addr: SocketAddr,
    /// The child's state, published by the supervisor.
    pub state: watch::Receiver<ChildState>,
}

impl Upstream {
    pub fn new(
        name: impl Into<String>,
        addr: SocketAddr,
        state: watch::Receiver<ChildState>,
    ) -> Self {
        Upstream {
            name: name.into(),
            addr,
            state,
        }
    }
}

/// Protective limits; the defaults suit development and a single-machine deployment.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Connecting to a child.
    pub connect_timeout: Duration,
    /// A browser must send a request's headers within this time (slow-loris guard).
    pub header_read_timeout: Duration,
    /// Largest request head (request line and headers); larger ones get `431`.
    pub max_header_bytes: usize,
    /// A request body that stops arriving for this long is abandoned with `408`.
    pub body_idle_timeout: Duration,
    /// How long a request may go without progress — no frame of its body read by the
    /// child, no answer — before the client gets `504`. A WebSocket or a streamed
    /// answer, once begun, is not limited.
    pub upstream_timeout: Duration,
    /// After shutdown is asked, how long the front door still accepts connections
    /// while its health endpoint reports draining (`shutdown.drain_delay`).
    pub drain_delay: Duration,
    /// Then, how long requests in flight may still finish.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect_timeout: Duration::from_secs(2),
            header_read_timeout: Duration::from_secs(30),
            max_header_bytes: 64 * 1024,
            body_idle_timeout: Duration::from_secs(30),
            upstream_timeout: Duration::from_secs(60),
            drain_delay: Duration::ZERO,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// Binds the front door's public address, with a hint when the port is taken.
pub async fn bind(host: &str, port: u16) -> Result<TcpListener> {
    TcpListener::bind((host, port)).await.map_err(|e| {
        let holder = crate::platform::port_holder(port)
            .map(|h| format!(" (held by {h})"))
            .unwrap_or_default();
        Error::new(format!(
            "cannot listen on {host}:{port} for the front door{holder}"
        ))
        .cause(e)
        .hint("stop the other program, or choose another port with --port or `proxy.port`")
    })
}
