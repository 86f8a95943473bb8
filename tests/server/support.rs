//! Real upstream servers on 127.0.0.1:0 and a front door in front of them, for the
//! proxy tests and the benchmark.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use reflex_django::proxy::routes::RouteTable;

use crate::route_table::table;
use reflex_django::proxy::{self, ChildState, FrontDoor, Frontend, IpNet, Limits, Pages, Upstream};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{
    Request as WsRequest, Response as WsResponse,
};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Accepts connections on `listener` until the test ends, each handled in a task.
fn accept_each<F, Fut>(listener: TcpListener, handle: F)
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(handle(stream));
        }
    });
}

/// Serves `handler` with hyper on `listener` until the test ends.
pub fn serve_http<F, Fut, B>(listener: TcpListener, handler: F)
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response<B>> + Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    accept_each(listener, move |stream| {
        let handler = handler.clone();
        async move {
            let service = service_fn(move |req| {
                let handler = handler.clone();
                async move { Ok::<_, Infallible>(handler(req).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        }
    });
}

pub async fn local_listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// An upstream that answers `hello`.
pub async fn hello_upstream() -> SocketAddr {
    let (listener, addr) = local_listener().await;
    serve_http(listener, |_req| async {
        Response::new(Full::new(Bytes::from_static(b"hello")))
    });
    addr
}

/// An upstream that answers with what it received, as JSON: its own `name`, the
/// method, the path with query, every header (values joined by "\n"), and the body
/// length. Its response also carries hop-by-hop headers, which must not get through.
pub async fn echo_upstream(name: &'static str) -> SocketAddr {
    let (listener, addr) = local_listener().await;
    start_echo(listener, name);
    addr
}

pub fn start_echo(listener: TcpListener, name: &'static str) {
    serve_http(listener, move |req: Request<Incoming>| async move {
        let mut headers = serde_json::Map::new();
        for key in req.headers().keys() {
            let values: Vec<&str> = req
                .headers()
                .get_all(key)
                .iter()
                .map(|v| v.to_str().unwrap_or("?"))
                .collect();
            headers.insert(key.to_string(), values.join("\n").into());
        }
        let method = req.method().to_string();
        let path = req.uri().path_and_query().map(|p| p.to_string());
        let body = req
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes().len())
            .unwrap_or(0);
        let json = serde_json::json!({
            "upstream": name, "method": method, "path": path,
            "headers": headers, "body_len": body,
        });
        Response::builder()
            .header("content-type", "application/json")
            .header("connection", "x-upstream-hop")
            .header("x-upstream-hop", "secret")
            .header("keep-alive", "timeout=5")
            .body(Full::new(Bytes::from(json.to_string())))
            .unwrap()
    });
}

/// A WebSocket echo server. It picks `chat` from the offered subprotocols, echoes
/// every message, answers the text `close me` with a close frame (4001, "bye"), and
/// reports the close frame a client sends on `closes`.
pub async fn ws_echo_upstream() -> (
    SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<Option<(u16, String)>>,
) {
    let (listener, addr) = local_listener().await;
    let (closes_tx, closes) = tokio::sync::mpsc::unbounded_channel();
    accept_each(listener, move |stream| {
        let closes_tx = closes_tx.clone();
        async move {
            // The error type is tungstenite's `Callback` signature, not ours.
            #[allow(clippy::result_large_err)]
            let pick = |req: &WsRequest, mut res: WsResponse| {
                let offered = req
                    .headers()
                    .get("sec-websocket-protocol")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if offered.split(',').any(|p| p.trim() == "chat") {
                    res.headers_mut()
                        .insert("sec-websocket-protocol", "chat".parse().unwrap());
                }
                Ok(res)
            };
            let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, pick).await else {
                return;
            };
            while let Some(Ok(message)) = ws.next().await {
                match message {
                    Message::Text(t) if t.as_str() == "close me" => {
                        let frame = CloseFrame {
                            code: CloseCode::from(4001),
                            reason: "bye".into(),
                        };
                        let _ = ws.close(Some(frame)).await;
                    }
                    Message::Close(frame) => {
                        let _ = closes_tx
                            .send(frame.map(|f| (u16::from(f.code), f.reason.to_string())));
                    }
                    // A failed send ends the loop at the next read.
                    m @ (Message::Text(_) | Message::Binary(_)) => {
                        let _ = ws.send(m).await;
                    }
                    _ => {}
                }
            }
        }
    });
    (addr, closes)
}

/// A running front door and the supervisor's side of the child states.
pub struct Door {
    pub addr: SocketAddr,
    pub django_state: watch::Sender<ChildState>,
    pub reflex_state: watch::Sender<ChildState>,
    stop: Option<oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<()>>,
}

impl Door {
    pub async fn start(django: SocketAddr, reflex: SocketAddr) -> Door {
        Door::spec(django, reflex).start().await
    }

    /// A front door that sends pages to `frontend` (Reflex's dev server) and only
    /// Reflex's backend paths to `reflex`, as `run` does.
    pub async fn start_with_frontend(
        django: SocketAddr,
        reflex: SocketAddr,
        frontend: SocketAddr,
    ) -> Door {
        Door::spec(django, reflex)
            .dev_server(frontend)
            .start()
            .await
    }

    pub async fn start_with(
        django: SocketAddr,
        reflex: SocketAddr,
        hold_timeout: Duration,
        limits: Limits,
    ) -> Door {
        Door::spec(django, reflex)
            .hold(hold_timeout)
            .limits(limits)
            .start()
            .await
    }

    /// A front door to be configured, then started: `Door::spec(d, r).built(f).start()`.
    pub fn spec(django: SocketAddr, reflex: SocketAddr) -> DoorSpec {
        DoorSpec {
            django,
            reflex,
            pages: PagesSpec::Backend,
            table: table(),
            trusted: Vec::new(),
            hold_timeout: Duration::from_secs(10),
            limits: Limits::default(),
        }
    }

    /// Asks for shutdown and waits for `serve` to return.
    pub async fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
    }
}

enum PagesSpec {
    Backend,
    DevServer(SocketAddr),
    Built(Frontend),
}

/// How to build a [`Door`]; see [`Door::spec`].
pub struct DoorSpec {
    django: SocketAddr,
    reflex: SocketAddr,
    pages: PagesSpec,
    table: RouteTable,
    trusted: Vec<IpNet>,
    hold_timeout: Duration,
    limits: Limits,
}

impl DoorSpec {
    pub fn dev_server(mut self, addr: SocketAddr) -> Self {
        self.pages = PagesSpec::DevServer(addr);
        self
    }

    pub fn built(mut self, frontend: Frontend) -> Self {
        self.pages = PagesSpec::Built(frontend);
        self
    }

    pub fn table(mut self, table: RouteTable) -> Self {
        self.table = table;
        self
    }

    pub fn trusted(mut self, nets: &[&str]) -> Self {
        self.trusted = nets.iter().map(|n| n.parse().unwrap()).collect();
        self
    }

    pub fn hold(mut self, hold_timeout: Duration) -> Self {
        self.hold_timeout = hold_timeout;
        self
    }

    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub async fn start(self) -> Door {
        let (django_state, django_rx) = watch::channel(ChildState::Ready);
        let (reflex_state, reflex_rx) = watch::channel(ChildState::Ready);
        let listener = proxy::bind("127.0.0.1", 0).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let pages = match self.pages {
            PagesSpec::Backend => Pages::Backend,
            PagesSpec::DevServer(vite) => {
                Pages::DevServer(Upstream::new("reflex", vite, reflex_rx.clone()))
            }
            PagesSpec::Built(frontend) => Pages::Built(frontend),
        };
        let front_door = FrontDoor {
            table: self.table,
            django: Upstream::new("django", self.django, django_rx),
            reflex: Upstream::new("reflex", self.reflex, reflex_rx),
            pages,
            hold_timeout: self.hold_timeout,
            trusted_proxies: self.trusted,
            public_host: http::HeaderValue::from_static("public.test:8000"),
            django_key: Some(http::HeaderValue::from_static("the-key")),
            limits: self.limits,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(proxy::serve(listener, front_door, async {
            let _ = stopped.await;
        }));
        Door {
            addr,
            django_state,
            reflex_state,
            stop: Some(stop),
            server: Some(server),
        }
    }
}

/// A port kept for one test: bound, so no other test (running in parallel) can take
/// it, but not listening, so connections to it are refused until `listen()`.
pub struct ReservedPort {
    socket: tokio::net::TcpSocket,
    pub addr: SocketAddr,
}

impl ReservedPort {
    pub fn new() -> Self {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = socket.local_addr().unwrap();
        ReservedPort { socket, addr }
    }

    pub fn listen(self) -> tokio::net::TcpListener {
        self.socket.listen(128).unwrap()
    }
}
