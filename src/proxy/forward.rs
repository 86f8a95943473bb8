//! The HTTP forwarder: picks the upstream by path, holds the request while that child
//! is (re)starting, and streams the request and the response through.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::time::Duration;

use std::path::PathBuf;

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::time::Instant;

use super::body::{self, Own, ResponseBody};
use super::files::{self, Answer, BadPath, Root};
use super::frontend::Frontend;
use super::headers::{FRONT_DOOR_KEY_HEADER, add_via, set_forwarded, strip_hop_by_hop, upgrade_of};
use super::hot::{self, Entry, Hot};
use super::lifetime::Lifetime;
use super::pages::{Problem, page};
use super::replay::{ClientBody, Replayable, replayable};
use super::routes::{HEALTH_PATH, Prefix, Route, Serve, is_reflex_backend};
use super::state::{NotReady, wait_ready};
use super::{FrontDoor, Pages, Upstream, health, tunnel};

/// Pause between connection attempts to a child that refuses connections while it
/// is said to be ready (it has probably just exited; the supervisor will tell).
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Idle upstream connections are dropped before the upstream's own keep-alive timeout
/// (uvicorn's is 5 s), so a request is rarely sent on a connection being closed.
const POOL_IDLE: Duration = Duration::from_secs(3);

pub(crate) struct Forwarder {
    front_door: FrontDoor,
    client: Client<HttpConnector, Replayable>,
    /// The roots of the prefixes served from disk, opened once.
    file_roots: Vec<(Prefix, Option<Root>)>,
    /// Small files served a moment ago.
    hot: Hot,
}

/// Who answers a request.
enum Handler<'a> {
    Upstream(&'a Upstream),
    Files(&'a Prefix, Option<&'a Root>),
    Frontend(&'a Frontend),
    Health,
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
        let file_roots = front_door
            .table
            .routes()
            .iter()
            .filter_map(|route| match &route.serve {
                Serve::Files(dir) => Some((route.prefix.clone(), Root::new(dir).ok())),
                Serve::Django => None,
            })
            .collect();
        Forwarder {
            front_door,
            client,
            file_roots,
            hot: Hot::default(),
        }
    }

    fn handler(&self, path: &str) -> Handler<'_> {
        let door = &self.front_door;
        if path == HEALTH_PATH {
            return Handler::Health;
        }
        match door.table.route(path) {
            Some(Route {
                serve: Serve::Files(_),
                prefix,
                ..
            }) => {
                let root = self
                    .file_roots
                    .iter()
                    .find(|(p, _)| p == prefix)
                    .and_then(|(_, root)| root.as_ref());
                Handler::Files(prefix, root)
            }
            Some(_) => Handler::Upstream(&door.django),
            None if is_reflex_backend(path) => Handler::Upstream(&door.reflex),
            None => match &door.pages {
                Pages::Backend => Handler::Upstream(&door.reflex),
                Pages::DevServer(vite) => Handler::Upstream(vite),
                Pages::Built(frontend) => Handler::Frontend(frontend),
            },
        }
    }

    /// Answers one request. Every answer says it came through the front door (`Via`):
    /// its own pages and files as well as the children's.
    pub async fn handle(
        &self,
        request: Request<Incoming>,
        client: SocketAddr,
        lifetime: Lifetime,
    ) -> Response<ResponseBody> {
        let mut response = self.answer(request, client, lifetime).await;
        add_via(response.headers_mut());
        response
    }

    async fn answer(
        &self,
        mut request: Request<Incoming>,
        client: SocketAddr,
        lifetime: Lifetime,
    ) -> Response<ResponseBody> {
        if request.method() == Method::CONNECT {
            // A tunnel request: the front door is no forward proxy.
            let problem = Problem {
                status: StatusCode::METHOD_NOT_ALLOWED,
                headline: "CONNECT is not served here: this is the app's front door, not a proxy"
                    .into(),
                hint: "send the request itself (GET, POST, …) to this address".into(),
            };
            let mut response = page(&problem, request.headers()).map(body::own);
            response.headers_mut().insert(
                header::ALLOW,
                HeaderValue::from_static("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"),
            );
            return response;
        }
        let upstream = match self.handler(request.uri().path()) {
            Handler::Upstream(upstream) => upstream,
            Handler::Health => {
                let door = &self.front_door;
                let children = [
                    (
                        door.django.name.as_str(),
                        door.django.state.borrow().clone(),
                    ),
                    (
                        door.reflex.name.as_str(),
                        door.reflex.state.borrow().clone(),
                    ),
                ];
                let draining = *lifetime.draining.borrow();
                return health::report(request.method(), &children, draining).map(body::own);
            }
            Handler::Files(prefix, root) => {
                return serve_static(&self.hot, root, prefix, &request)
                    .await
                    .map(body::own);
            }
            Handler::Frontend(frontend) => {
                return serve_frontend(&self.hot, frontend, &request)
                    .await
                    .map(body::own);
            }
        };
        let upgrade = upgrade_of(request.headers());
        let client_upgrade = upgrade.is_some().then(|| hyper::upgrade::on(&mut request));
        let (parts, body) = request.into_parts();
        let mut headers = parts.headers;
        let door = &self.front_door;
        strip_hop_by_hop(&mut headers, upgrade.as_ref());
        if !headers.contains_key(header::HOST) {
            // HTTP/1.0: else the upstream would see its own internal address.
            let named = parts
                .uri
                .authority()
                .and_then(|a| HeaderValue::from_str(a.as_str()).ok());
            headers.insert(
                header::HOST,
                named.unwrap_or_else(|| door.public_host.clone()),
            );
        }
        set_forwarded(&mut headers, client.ip(), &door.trusted_proxies);
        headers.remove(&FRONT_DOOR_KEY_HEADER);
        if std::ptr::eq(upstream, &door.django)
            && let Some(key) = &door.django_key
        {
            headers.insert(FRONT_DOOR_KEY_HEADER.clone(), key.clone());
        }
        let uri = upstream_uri(upstream.addr, &parts.uri);

        let mut response = match self.send(upstream, parts.method, uri, &headers, body).await {
            Ok(response) => response,
            Err(problem) => return page(&problem, &headers).map(body::own),
        };
        if response.status() == StatusCode::SWITCHING_PROTOCOLS
            && let Some(client_upgrade) = client_upgrade
        {
            let upstream_upgrade = hyper::upgrade::on(&mut response);
            let agreed = upgrade_of(response.headers());
            let websocket = agreed
                .as_ref()
                .is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(b"websocket"));
            strip_hop_by_hop(response.headers_mut(), agreed.as_ref());
            tunnel::spawn(client_upgrade, upstream_upgrade, websocket, lifetime);
            return response.map(|_| body::own(body::empty()));
        }
        strip_hop_by_hop(response.headers_mut(), None);
        response.map(body::upstream)
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
        let mut deadline = Instant::now() + hold;
        let mut state = upstream.state.clone();
        // A request that may be repeated without harm is sent again once, when the
        // child died before it answered (as load balancers do).
        let mut may_resend = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
        loop {
            wait_ready(&mut state, deadline)
                .await
                .map_err(|not_ready| not_ready_problem(upstream, hold, not_ready))?;
            let (replay, reclaim) = replayable(body, self.front_door.limits.body_idle_timeout);
            let mut request = Request::new(replay);
            *request.method_mut() = method.clone();
            *request.uri_mut() = uri.clone();
            *request.headers_mut() = headers.clone();
            let answered = self.client.request(request);
            let too_late = reclaim.quiet_for(self.front_door.limits.upstream_timeout);
            let error = tokio::select! {
                result = answered => match result {
                    Ok(response) => return Ok(response),
                    Err(error) => error,
                },
                () = too_late => return Err(self.no_answer_in_time(upstream)),
            };
            match reclaim.client_body() {
                ClientBody::Fine => {}
                ClientBody::Stalled => {
                    return Err(Problem {
                        status: StatusCode::REQUEST_TIMEOUT,
                        headline: format!(
                            "the request body stopped arriving for {}s",
                            self.front_door.limits.body_idle_timeout.as_secs_f32()
                        ),
                        hint: "send the body without long pauses; this is not an error of the app"
                            .into(),
                    });
                }
                ClientBody::Failed => {
                    return Err(Problem {
                        status: StatusCode::BAD_REQUEST,
                        headline: "the request body could not be read (malformed chunked \
                                   encoding, or the client stopped sending it)"
                            .into(),
                        hint: "send a well-formed body; this is not an error of the app".into(),
                    });
                }
            }
            let retry = if error.is_connect() {
                reclaim.take()
            } else if std::mem::take(&mut may_resend) {
                // It went down with the request: hold this one until it is back.
                deadline = Instant::now() + hold;
                reclaim.take()
            } else {
                None
            };
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

impl Forwarder {
    fn no_answer_in_time(&self, upstream: &Upstream) -> Problem {
        let name = &upstream.name;
        Problem {
            status: StatusCode::GATEWAY_TIMEOUT,
            headline: format!(
                "{name} did not answer within {}s",
                self.front_door.limits.upstream_timeout.as_secs_f32()
            ),
            hint: format!(
                "the view may hang or wait on something slow (see {name}'s output); raise \
                 `proxy.upstream_timeout` in reflex-django.yaml if it is only slow"
            ),
        }
    }
}

/// Answers a request for a file under a prefix served from disk.
async fn serve_static<B>(
    hot: &Hot,
    root: Option<&Root>,
    prefix: &Prefix,
    request: &Request<B>,
) -> Response<Own> {
    let Some(root) = root.cloned() else {
        return not_found(request.headers());
    };
    let rel = request.uri().path()[prefix.as_str().len()..].to_string();
    serve_file(hot, request, move || {
        let rel: PathBuf = files::segments(&rel)?.iter().collect();
        Ok(root.file(&rel).ok().flatten().map(|file| Answer {
            file,
            status: None,
            cache_control: files::cache_control(&rel, false),
            remember: true,
        }))
    })
    .await
}

/// Answers a request for a page or an asset of the built frontend.
async fn serve_frontend<B>(hot: &Hot, frontend: &Frontend, request: &Request<B>) -> Response<Own> {
    let frontend = frontend.clone();
    let path = request.uri().path().to_string();
    serve_file(hot, request, move || frontend.resolve(&path)).await
}

/// Answers with the file `lookup` finds (a blocking function, run off the runtime):
/// from memory when it was served a moment ago, else from disk.
async fn serve_file<B>(
    hot: &Hot,
    request: &Request<B>,
    lookup: impl FnOnce() -> Result<Option<Answer>, BadPath> + Send + 'static,
) -> Response<Own> {
    if let Some(refused) = refuse_method(request) {
        return refused;
    }
    let (method, headers) = (request.method(), request.headers());
    let key = hot::key(request.uri().path());
    let remembered = key.as_deref().and_then(|key| hot.get(key));
    if let Some(response) = remembered.and_then(|entry| entry.respond(method, headers)) {
        return response;
    }
    let found = tokio::task::spawn_blocking(move || {
        lookup().map(|answer| {
            answer.map(|answer| {
                let entry = Entry::load(&answer).map(std::sync::Arc::new);
                (answer, entry)
            })
        })
    })
    .await
    .unwrap_or(Ok(None));
    match found {
        Ok(Some((answer, entry))) => {
            if let (Some(entry), Some(key)) = (entry, key) {
                let entry = hot.put(key, entry);
                if let Some(response) = entry.respond(method, headers) {
                    return response;
                }
            }
            files::respond(method, headers, answer).await
        }
        Ok(None) => not_found(headers),
        Err(bad) => bad_path(bad, headers),
    }
}

/// Files are read, never written: anything but GET and HEAD gets `405`.
fn refuse_method<B>(request: &Request<B>) -> Option<Response<Own>> {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return None;
    }
    let mut response = page(
        &Problem {
            status: StatusCode::METHOD_NOT_ALLOWED,
            headline: format!("{} is not allowed here", request.method()),
            hint: "these files can only be read (GET, HEAD)".into(),
        },
        request.headers(),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    Some(response)
}

fn not_found(headers: &HeaderMap) -> Response<Own> {
    page(
        &Problem {
            status: StatusCode::NOT_FOUND,
            headline: "not found".into(),
            hint: "check the address".into(),
        },
        headers,
    )
}

fn bad_path(bad: BadPath, headers: &HeaderMap) -> Response<Own> {
    match bad {
        BadPath::Hidden => not_found(headers),
        BadPath::Malformed => page(
            &Problem {
                status: StatusCode::BAD_REQUEST,
                headline: "this path cannot name a file".into(),
                hint: "paths with `..`, `.`, backslashes or NUL bytes are refused".into(),
            },
            headers,
        ),
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
