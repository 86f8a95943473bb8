//! The HTTP forwarder: picks the upstream by path, holds the request while that child
//! is (re)starting, and streams the request and the response through.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::header::HeaderMap;
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::time::Instant;

use super::headers::{add_forwarded, add_via, strip_hop_by_hop, upgrade_of};
use super::pages::{Problem, page};
use super::replay::{Replayable, replayable};
use super::routes::{Target, is_reflex_backend};
use super::server::Lifetime;
use super::state::{NotReady, wait_ready};
use super::{FrontDoor, Upstream, tunnel};

/// The body of every answer: the upstream's, streamed, or one of our pages.
pub(crate) type ResponseBody = Either<Incoming, Full<Bytes>>;

/// Pause between connection attempts to a child that refuses connections while it
/// is said to be ready (it has probably just exited; the supervisor will tell).
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Idle upstream connections are dropped before the upstream's own keep-alive timeout
/// (uvicorn's is 5 s), so a request is rarely sent on a connection being closed.
const POOL_IDLE: Duration = Duration::from_secs(3);

pub(crate) struct Forwarder {
    front_door: FrontDoor,
    client: Client<HttpConnector, Replayable>,
}

impl Forwarder {
    pub fn new(front_door: FrontDoor) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(front_door.limits.connect_timeout));
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE)
            .build(connector);
        Forwarder { front_door, client }
    }

    pub async fn handle(
        &self,
        mut request: Request<Incoming>,
        client: SocketAddr,
        lifetime: Lifetime,
    ) -> Response<ResponseBody> {
        let path = request.uri().path();
        let upstream = match (
            self.front_door.table.target(path),
            &self.front_door.frontend,
        ) {
            (Target::Django, _) => &self.front_door.django,
            (Target::Reflex, Some(pages)) if !is_reflex_backend(path) => pages,
            (Target::Reflex, _) => &self.front_door.reflex,
        };
        let upgrade = upgrade_of(request.headers());
        let client_upgrade = upgrade.is_some().then(|| hyper::upgrade::on(&mut request));
        let (parts, body) = request.into_parts();
        let mut headers = parts.headers;
        strip_hop_by_hop(&mut headers, upgrade.as_ref());
        add_forwarded(&mut headers, client.ip());
        let uri = upstream_uri(upstream.addr, &parts.uri);

        let mut response = match self.send(upstream, parts.method, uri, &headers, body).await {
            Ok(response) => response,
            Err(problem) => return page(&problem, &headers).map(Either::Right),
        };
        if response.status() == StatusCode::SWITCHING_PROTOCOLS
            && let Some(client_upgrade) = client_upgrade
        {
            let upstream_upgrade = hyper::upgrade::on(&mut response);
            let agreed = upgrade_of(response.headers());
            strip_hop_by_hop(response.headers_mut(), agreed.as_ref());
            tunnel::spawn(client_upgrade, upstream_upgrade, lifetime);
            return response.map(|_| Either::Right(Full::new(Bytes::new())));
        }
        strip_hop_by_hop(response.headers_mut(), None);
        add_via(response.headers_mut());
        response.map(Either::Left)
    }

    /// Sends the request once the child is ready; a refused connection is retried
    /// within the same hold, with the same (still unread) body.
    async fn send(
        &self,
        upstream: &Upstream,
        method: Method,
        uri: Uri,
        headers: &HeaderMap,
        mut body: Incoming,
    ) -> Result<Response<Incoming>, Problem> {
        let hold = self.front_door.hold_timeout;
        let deadline = Instant::now() + hold;
        let mut state = upstream.state.clone();
        loop {
            wait_ready(&mut state, deadline)
                .await
                .map_err(|not_ready| not_ready_problem(upstream, hold, not_ready))?;
            let (replay, reclaim) = replayable(body);
            let mut request = Request::new(replay);
            *request.method_mut() = method.clone();
            *request.uri_mut() = uri.clone();
            *request.headers_mut() = headers.clone();
            let error = match self.client.request(request).await {
                Ok(response) => return Ok(response),
                Err(error) => error,
            };
            let retry = error.is_connect().then(|| reclaim.take()).flatten();
            let Some(unread) = retry else {
                return Err(Problem {
                    status: StatusCode::BAD_GATEWAY,
                    headline: format!("{} did not answer: {}", upstream.name, chain(&error)),
                    hint: format!(
                        "see {}'s output in the reflex-django terminal",
                        upstream.name
                    ),
                });
            };
            body = unread;
            if Instant::now() >= deadline {
                return Err(Problem {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    headline: format!(
                        "{} does not accept connections on {} (waited {}s): {}",
                        upstream.name,
                        upstream.addr,
                        hold.as_secs_f32(),
                        chain(&error)
                    ),
                    hint: format!(
                        "it may have just exited; see its output in the reflex-django \
                         terminal, or raise `proxy.hold_timeout` if {} starts slowly",
                        upstream.name
                    ),
                });
            }
            // Wait a little, or less if the supervisor says something new.
            let changed = async {
                if state.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                _ = tokio::time::sleep_until((Instant::now() + RETRY_PAUSE).min(deadline)) => {}
                _ = changed => {}
            }
        }
    }
}

fn not_ready_problem(upstream: &Upstream, hold: Duration, not_ready: NotReady) -> Problem {
    let name = &upstream.name;
    match not_ready {
        NotReady::Unavailable(state) => Problem {
            status: StatusCode::BAD_GATEWAY,
            headline: format!("{name} is {state}"),
            hint: format!(
                "see {name}'s output in the reflex-django terminal; it restarts when you \
                 save a change"
            ),
        },
        NotReady::TimedOut(state) => Problem {
            status: StatusCode::SERVICE_UNAVAILABLE,
            headline: format!("{name} is still {state} after {}s", hold.as_secs_f32()),
            hint: format!(
                "try again in a moment; raise `proxy.hold_timeout` in reflex-django.yaml if \
                 {name} needs longer"
            ),
        },
    }
}

/// `http://127.0.0.1:PORT/original/path?query`: the client connects there and sends
/// the path unchanged (Django sees the full original path).
fn upstream_uri(addr: SocketAddr, original: &Uri) -> Uri {
    let path = original.path_and_query().map_or("/", |pq| pq.as_str());
    Uri::builder()
        .scheme("http")
        .authority(addr.to_string())
        .path_and_query(path)
        .build()
        .unwrap_or_else(|_| Uri::from_static("/"))
}

/// An error and its causes on one line (hyper's own message is only the outer layer).
fn chain(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
