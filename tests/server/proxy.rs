//! The front door against real upstreams (hyper servers and a tokio-tungstenite
//! WebSocket server on 127.0.0.1).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::support::*;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use reflex_django::proxy::{ChildState, Limits};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Sends one request on a fresh connection, with exactly the given headers.
async fn send<B>(addr: std::net::SocketAddr, request: Request<B>) -> Response<Incoming>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender.send_request(request).await.unwrap()
}

async fn get(
    addr: std::net::SocketAddr,
    path: &str,
    accept: &str,
) -> (StatusCode, http::HeaderMap, String) {
    let request = Request::get(path)
        .header("host", "app.test:3000")
        .header("accept", accept)
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = send(addr, request).await;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

async fn two_echoes() -> Door {
    Door::start(echo_upstream("django").await, echo_upstream("reflex").await).await
}

/// Two echoes behind a front door with these limits and a 1 s hold.
async fn two_echoes_with(limits: Limits) -> Door {
    Door::start_with(
        echo_upstream("django").await,
        echo_upstream("reflex").await,
        Duration::from_secs(1),
        limits,
    )
    .await
}

/// In development `run` sends pages to Reflex's dev server and only Reflex's own
/// backend paths to its backend, so the front door serves the whole app.
#[tokio::test]
async fn pages_go_to_the_dev_server_and_reflex_paths_to_the_backend() {
    let door = Door::start_with_frontend(
        echo_upstream("django").await,
        echo_upstream("reflex").await,
        echo_upstream("vite").await,
    )
    .await;
    for (path, upstream) in [
        ("/", "vite"),
        ("/notes?id=3", "vite"),
        ("/assets/app.js", "vite"),
        ("/pingpong", "vite"),
        ("/_event/?EIO=4&transport=websocket", "reflex"),
        ("/ping", "reflex"),
        ("/_upload/a.png", "reflex"),
        ("/admin/login/", "django"),
    ] {
        let (status, _, body) = get(door.addr, path, "*/*").await;
        assert_eq!(status, 200, "{path}: {body}");
        let json: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["upstream"], upstream, "{path}");
    }
}

#[tokio::test]
async fn routes_by_prefix_with_the_full_path() {
    let door = two_echoes().await;
    for (path, upstream) in [
        ("/admin/login/?next=/admin/", "django"),
        ("/admin", "django"),
        ("/static/admin/css/base.css", "django"),
        ("/api/v1/items?x=1", "django"),
        ("/administrator", "reflex"),
        ("/", "reflex"),
        ("/_event/?EIO=4", "reflex"),
    ] {
        let (status, _, body) = get(door.addr, path, "*/*").await;
        assert_eq!(status, 200, "{path}: {body}");
        let json: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["upstream"], upstream, "{path}");
        assert_eq!(json["path"], path, "Django sees the full original path");
    }
}

#[tokio::test]
async fn keeps_host_sets_forwarded_headers_and_strips_hop_by_hop() {
    let door = two_echoes().await;
    let request = Request::post("/admin/login/")
        .header("host", "localhost:3000")
        .header("connection", "keep-alive, x-hop")
        .header("x-hop", "must not pass")
        .header("keep-alive", "timeout=9")
        .header("te", "trailers")
        .header("proxy-connection", "keep-alive")
        .header("x-forwarded-for", "203.0.113.7")
        .header("x-forwarded-proto", "https")
        .header("cookie", "sessionid=abc")
        .header("origin", "http://localhost:3000")
        .body(Full::new(Bytes::from_static(b"a=1&b=2")))
        .unwrap();
    let response = send(door.addr, request).await;
    for hop in ["x-upstream-hop", "keep-alive"] {
        assert!(
            response.headers().get(hop).is_none(),
            "{hop} leaked to the client"
        );
    }
    assert!(
        response
            .headers()
            .get("connection")
            .is_none_or(|v| v != "x-upstream-hop"),
        "the upstream's Connection header leaked"
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let json: Value = serde_json::from_slice(&body).unwrap();
    let headers = &json["headers"];
    assert_eq!(headers["host"], "localhost:3000");
    // The peer is not a trusted proxy, so its X-Forwarded-For is not believed.
    assert_eq!(headers["x-forwarded-for"], "127.0.0.1");
    assert_eq!(headers["x-forwarded-proto"], "http");
    assert_eq!(headers["x-forwarded-host"], "localhost:3000");
    assert_eq!(headers["cookie"], "sessionid=abc");
    assert_eq!(headers["origin"], "http://localhost:3000");
    for hop in ["x-hop", "te", "proxy-connection"] {
        assert!(
            headers.get(hop).is_none(),
            "{hop} reached the upstream: {headers}"
        );
    }
    assert!(headers.get("keep-alive").is_none_or(|v| v != "timeout=9"));
    assert_eq!(json["body_len"], 7);
}

const MB: u64 = 1024 * 1024;

/// 100 MB up through the proxy: the upstream must see the first megabyte while the
/// client still holds the rest back, so the proxy cannot be buffering the body.
#[tokio::test]
async fn uploads_stream_through() {
    let received = Arc::new(AtomicU64::new(0));
    let (listener, django) = local_listener().await;
    let counter = received.clone();
    serve_http(listener, move |req: Request<Incoming>| {
        let counter = counter.clone();
        async move {
            let mut body = req.into_body();
            while let Some(Ok(frame)) = body.frame().await {
                if let Some(data) = frame.data_ref() {
                    counter.fetch_add(data.len() as u64, Ordering::SeqCst);
                }
            }
            Response::new(Full::new(Bytes::from(
                counter.load(Ordering::SeqCst).to_string(),
            )))
        }
    });
    let door = Door::start(django, hello_upstream().await).await;

    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    let body = StreamBody::new(
        tokio_stream_from(rx).map(|chunk| Ok::<_, std::convert::Infallible>(Frame::data(chunk))),
    );
    let request = Request::post("/api/upload")
        .header("host", "app.test")
        .header("content-length", (100 * MB).to_string())
        .body(body)
        .unwrap();
    let response = tokio::spawn(send(door.addr, request));
    let chunk = Bytes::from(vec![7u8; MB as usize]);
    tx.send(chunk.clone()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while received.load(Ordering::SeqCst) == 0 {
        assert!(
            Instant::now() < deadline,
            "the upstream saw nothing of the first megabyte"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for _ in 1..100 {
        tx.send(chunk.clone()).await.unwrap();
    }
    drop(tx);
    let response = response.await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, (100 * MB).to_string());
}

/// 100 MB down: the client gets the first megabyte before the upstream produced the
/// second, and the whole body arrives.
#[tokio::test]
async fn downloads_stream_through() {
    let (go_on_tx, go_on_rx) = tokio::sync::watch::channel(false);
    let (listener, reflex) = local_listener().await;
    serve_http(listener, move |_req| {
        let go_on = go_on_rx.clone();
        async move {
            let chunks = futures_util::stream::unfold(0u64, move |sent| {
                let mut go_on = go_on.clone();
                async move {
                    if sent == 100 {
                        return None;
                    }
                    if sent == 1 {
                        // Hold the rest until the client says it got the first chunk.
                        let _ = go_on.wait_for(|go| *go).await;
                    }
                    let chunk = Bytes::from(vec![1u8; MB as usize]);
                    Some((
                        Ok::<_, std::convert::Infallible>(Frame::data(chunk)),
                        sent + 1,
                    ))
                }
            });
            Response::new(StreamBody::new(chunks))
        }
    });
    let door = Door::start(hello_upstream().await, reflex).await;
    let request = Request::get("/big")
        .header("host", "app.test")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let mut body = send(door.addr, request).await.into_body();
    let mut total = 0u64;
    while let Some(frame) = tokio::time::timeout(Duration::from_secs(10), body.frame())
        .await
        .expect("the first megabyte did not arrive while the upstream waited")
    {
        if let Some(data) = frame.unwrap().data_ref() {
            total += data.len() as u64;
        }
        if total >= MB {
            let _ = go_on_tx.send(true);
        }
    }
    assert_eq!(total, 100 * MB);
}

#[tokio::test]
async fn websocket_subprotocol_messages_and_close_codes_pass_through() {
    let (reflex, mut closes) = ws_echo_upstream().await;
    let door = Door::start(hello_upstream().await, reflex).await;
    let connect = || {
        let mut request = format!("ws://{}/_event/?EIO=4&transport=websocket", door.addr)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("sec-websocket-protocol", "superchat, chat".parse().unwrap());
        tokio_tungstenite::connect_async(request)
    };

    let (mut ws, response) = connect().await.unwrap();
    assert_eq!(response.status(), 101);
    assert_eq!(response.headers()["sec-websocket-protocol"], "chat");
    ws.send(Message::text("hello")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("hello"));
    ws.send(Message::binary(vec![0u8, 1, 2, 255]))
        .await
        .unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::binary(vec![0u8, 1, 2, 255])
    );

    // The server closes with its code and reason.
    ws.send(Message::text("close me")).await.unwrap();
    match ws.next().await.unwrap().unwrap() {
        Message::Close(Some(frame)) => {
            assert_eq!(u16::from(frame.code), 4001);
            assert_eq!(frame.reason.as_str(), "bye");
        }
        other => panic!("expected the server's close frame, got {other:?}"),
    }

    // The client closes with its code and reason.
    let (mut ws, _) = connect().await.unwrap();
    ws.close(Some(CloseFrame {
        code: CloseCode::from(4002),
        reason: "client leaves".into(),
    }))
    .await
    .unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(5), closes.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen, Some((4002, "client leaves".to_string())));
}

#[tokio::test]
async fn a_refused_upgrade_is_passed_back_as_is() {
    // The echo upstream is no WebSocket server: it answers 200, which the client gets.
    let door = two_echoes().await;
    let request = Request::get("/_event/")
        .header("host", "app.test")
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = send(door.addr, request).await;
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let json: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["headers"]["upgrade"], "websocket");
    assert_eq!(json["headers"]["connection"], "upgrade");
}

#[tokio::test]
async fn a_down_child_gets_a_502_page_naming_it() {
    let door = two_echoes().await;
    door.django_state
        .send(ChildState::Down {
            reason: "exited with status 1".into(),
        })
        .unwrap();
    let (status, headers, body) =
        get(door.addr, "/admin/", "text/html,application/xhtml+xml").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(
        body.contains("<h1>django is down (exited with status 1)</h1>"),
        "{body}"
    );

    let (status, headers, body) = get(door.addr, "/admin/", "application/json").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    assert!(
        body.starts_with("django is down (exited with status 1)\nhint: "),
        "{body}"
    );

    // Reflex is unaffected.
    let (status, _, _) = get(door.addr, "/", "*/*").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_request_during_a_restart_waits_and_succeeds() {
    let django = ReservedPort::new();
    let door = Door::start(django.addr, hello_upstream().await).await;
    door.django_state.send(ChildState::Restarting).unwrap();
    let started = Instant::now();
    let request = tokio::spawn(get(door.addr, "/admin/login/", "*/*"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    start_echo(django.listen(), "django");
    door.django_state.send(ChildState::Ready).unwrap();
    let (status, _, body) = request.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_refused_connection_while_ready_is_retried_within_the_hold() {
    let django = ReservedPort::new();
    let door = Door::start(django.addr, hello_upstream().await).await;
    // The state says ready, but nothing listens yet (the child has just died and the
    // supervisor has not noticed).
    let request = tokio::spawn(get(door.addr, "/api/items", "*/*"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    start_echo(django.listen(), "django");
    let (status, _, body) = request.await.unwrap();
    assert_eq!(status, 200, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["upstream"], "django");
}

#[tokio::test]
async fn the_hold_runs_out_with_a_503() {
    let hold = Duration::from_millis(300);
    let django = ReservedPort::new();
    let door = Door::start_with(django.addr, hello_upstream().await, hold, Limits::default()).await;
    door.django_state.send(ChildState::Starting).unwrap();
    let started = Instant::now();
    let (status, headers, body) = get(door.addr, "/admin/", "*/*").await;
    assert!(started.elapsed() >= hold);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["retry-after"], "1");
    assert!(
        body.starts_with("django is still starting after 0.3s"),
        "{body}"
    );

    // Ready but nobody listening, for the whole hold: 503 too, naming the address.
    door.django_state.send(ChildState::Ready).unwrap();
    let (status, _, body) = get(door.addr, "/admin/", "*/*").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body.contains("django does not accept connections on 127.0.0.1:"),
        "{body}"
    );
}

#[tokio::test]
async fn oversized_request_heads_are_refused() {
    let limits = Limits {
        max_header_bytes: 16 * 1024,
        ..Limits::default()
    };
    let door = two_echoes_with(limits).await;
    let mut stream = TcpStream::connect(door.addr).await.unwrap();
    let big = "x".repeat(32 * 1024);
    let head = format!("GET / HTTP/1.1\r\nhost: a\r\nx-big: {big}\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 64];
    let n = stream.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 431"));
}

#[tokio::test]
async fn a_broken_client_does_not_disturb_the_others() {
    let (reflex, _closes) = ws_echo_upstream().await;
    let door = Door::start(echo_upstream("django").await, reflex).await;
    // Garbage, then a WebSocket whose TCP connection is dropped without a close frame.
    let mut junk = TcpStream::connect(door.addr).await.unwrap();
    junk.write_all(b"\x16\x03\x01 not http\r\n\r\n")
        .await
        .unwrap();
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/_event/", door.addr))
        .await
        .unwrap();
    drop(ws);
    drop(junk);
    let (status, _, _) = get(door.addr, "/admin/", "*/*").await;
    assert_eq!(status, 200);
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/_event/", door.addr))
        .await
        .unwrap();
    ws.send(Message::text("still here")).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::text("still here")
    );
}

#[tokio::test]
async fn shutdown_stops_accepting_and_tells_websockets_the_server_goes_away() {
    let (reflex, _closes) = ws_echo_upstream().await;
    let mut door = Door::start(echo_upstream("django").await, reflex).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/_event/", door.addr))
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), door.shut_down())
        .await
        .expect("serve did not return after shutdown");
    assert!(
        TcpStream::connect(door.addr).await.is_err(),
        "still accepting"
    );
    let end = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap();
    match end {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1001),
        other => panic!("expected a going-away close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn health_says_draining_while_the_drain_delay_runs() {
    let limits = Limits {
        drain_delay: Duration::from_millis(600),
        ..Limits::default()
    };
    let mut door = Door::start_with(
        echo_upstream("django").await,
        echo_upstream("reflex").await,
        Duration::from_secs(10),
        limits,
    )
    .await;
    let addr = door.addr;
    let (status, _, _) = get(addr, "/_reflex_django/health", "*/*").await;
    assert_eq!(status, 200);
    let stopping = tokio::spawn(async move { door.shut_down().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Still accepting, but telling load balancers to go elsewhere.
    let (status, _, body) = get(addr, "/_reflex_django/health", "*/*").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["status"],
        "draining"
    );
    let (status, _, _) = get(addr, "/admin/", "*/*").await;
    assert_eq!(status, 200, "requests are still served while draining");
    stopping.await.unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
}

#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish() {
    let (listener, slow) = local_listener().await;
    serve_http(listener, |_req: Request<Incoming>| async {
        tokio::time::sleep(Duration::from_millis(800)).await;
        Response::new(Full::new(Bytes::from_static(b"finished")))
    });
    let mut door = Door::start(slow, echo_upstream("reflex").await).await;
    let addr = door.addr;
    let in_flight = tokio::spawn(async move { get(addr, "/admin/slow/", "*/*").await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    door.shut_down().await;
    let (status, _, body) = in_flight.await.unwrap();
    assert_eq!((status.as_u16(), body.as_str()), (200, "finished"));
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "shutdown returned before the request finished"
    );
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
}

/// A WebSocket upstream that sends large binary messages without pause.
async fn ws_flood_upstream() -> std::net::SocketAddr {
    let (listener, addr) = local_listener().await;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                let mut n = 0u8;
                loop {
                    n = n.wrapping_add(1);
                    if ws.send(Message::binary(vec![n; 100_000])).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn the_going_away_frame_never_cuts_a_frame_in_two() {
    let door_reflex = ws_flood_upstream().await;
    let mut door = Door::start(echo_upstream("django").await, door_reflex).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/_event/", door.addr))
        .await
        .unwrap();
    // Mid-stream: frames keep coming while the front door shuts down.
    for _ in 0..3 {
        assert!(matches!(ws.next().await, Some(Ok(Message::Binary(_)))));
    }
    let stop = tokio::spawn(async move { door.shut_down().await });
    let mut whole = 0;
    loop {
        let next = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("the stream ended without a close frame");
        match next {
            Some(Ok(Message::Binary(data))) => {
                assert_eq!(data.len(), 100_000, "a cut message");
                assert!(data.iter().all(|b| *b == data[0]), "a garbled message");
                whole += 1;
            }
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), 1001);
                break;
            }
            other => {
                panic!("expected whole messages, then going away; got {other:?} after {whole}")
            }
        }
    }
    stop.await.unwrap();
}

#[tokio::test]
async fn health_says_whether_both_children_are_ready() {
    let door = two_echoes().await;
    let (status, headers, body) = get(door.addr, "/_reflex_django/health", "*/*").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "ready");
    door.reflex_state.send(ChildState::Restarting).unwrap();
    let (status, _, body) = get(door.addr, "/_reflex_django/health", "*/*").await;
    assert_eq!(status, 503);
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["children"]["reflex"], "restarting");
    assert_eq!(json["children"]["django"], "ready");
    // The rest of the reserved prefix still belongs to Django.
    door.reflex_state.send(ChildState::Ready).unwrap();
    let (_, _, body) = get(door.addr, "/_reflex_django/session/", "*/*").await;
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["upstream"], "django");
}

#[tokio::test]
async fn forwarded_headers_are_believed_from_trusted_proxies_only() {
    let django = echo_upstream("django").await;
    let seen = |door: &Door| {
        let addr = door.addr;
        async move {
            let request = Request::get("/admin/")
                .header("host", "shop.example.com")
                .header("x-forwarded-for", "198.51.100.4, 203.0.113.9")
                .header("x-forwarded-proto", "https")
                .header("x-forwarded-host", "shop.example.com")
                .body(Empty::<Bytes>::new())
                .unwrap();
            let body = send(addr, request)
                .await
                .into_body()
                .collect()
                .await
                .unwrap();
            let json: Value = serde_json::from_slice(&body.to_bytes()).unwrap();
            json["headers"].clone()
        }
    };
    // Our test client connects from 127.0.0.1.
    let trusting = Door::spec(django, echo_upstream("reflex").await)
        .trusted(&["127.0.0.0/8"])
        .start()
        .await;
    let headers = seen(&trusting).await;
    assert_eq!(headers["x-forwarded-for"], "203.0.113.9");
    assert_eq!(headers["x-forwarded-proto"], "https");
    assert_eq!(headers["x-forwarded-host"], "shop.example.com");

    let wary = Door::spec(django, echo_upstream("reflex").await)
        .trusted(&["10.0.0.0/8"])
        .start()
        .await;
    let headers = seen(&wary).await;
    assert_eq!(headers["x-forwarded-for"], "127.0.0.1");
    assert_eq!(headers["x-forwarded-proto"], "http");
}

/// A `Stream` of a tokio channel's items.
fn tokio_stream_from<T: Send + 'static>(
    rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send {
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}

/// Writes `request` as is and reads the answer until the connection closes (or 5 s).
async fn raw(addr: std::net::SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn client_faults_are_answered_as_client_faults() {
    let door = Door::start(echo_upstream("django").await, echo_upstream("reflex").await).await;
    // CONNECT: the front door is no forward proxy.
    let answer = raw(
        door.addr,
        "CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    assert!(
        answer.to_lowercase().contains("allow: get, head"),
        "{answer}"
    );
    // A chunked body whose chunk size is not hexadecimal: the client's fault (400), not
    // "django did not answer" (502).
    let answer = raw(
        door.addr,
        "POST /admin/x HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(!answer.contains("did not answer"), "{answer}");
    // The door still serves.
    let (status, _, _) = get(door.addr, "/admin/", "*/*").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_abandoned_with_408() {
    let limits = Limits {
        body_idle_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let door = two_echoes_with(limits).await;
    let mut stream = TcpStream::connect(door.addr).await.unwrap();
    // 10 of the 100 bytes announced, then nothing.
    stream
        .write_all(b"POST /admin/x HTTP/1.1\r\nhost: a\r\ncontent-length: 100\r\n\r\n0123456789")
        .await
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    eprintln!("a stalled body was answered after {:?}", started.elapsed());
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("stopped arriving"), "{answer}");
    // The door still serves.
    let (status, _, _) = get(door.addr, "/admin/", "*/*").await;
    assert_eq!(status, 200);
}

/// An upstream whose first `dies` connections end as a crash would: the request is
/// read, then the connection closes without an answer. Later ones get the echo.
async fn dies_then_echoes(dies: usize) -> std::net::SocketAddr {
    let (listener, addr) = local_listener().await;
    tokio::spawn(async move {
        for _ in 0..dies {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut head = [0u8; 4096];
            let _ = stream.read(&mut head).await;
            drop(stream);
        }
        start_echo(listener, "django");
    });
    addr
}

#[tokio::test]
async fn a_get_whose_child_died_before_answering_is_sent_again() {
    let door = Door::start(dies_then_echoes(1).await, hello_upstream().await).await;
    let (status, _, body) = get(door.addr, "/api/items", "*/*").await;
    assert_eq!(status, 200, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["method"], "GET");

    // Only once: a request that kills its child each time is not sent a third time.
    let door = Door::start(dies_then_echoes(2).await, hello_upstream().await).await;
    let (status, _, body) = get(door.addr, "/api/items", "*/*").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(body.starts_with("django did not answer"), "{body}");
}

#[tokio::test]
async fn a_post_whose_child_died_before_answering_is_not_sent_again() {
    let door = Door::start(dies_then_echoes(1).await, hello_upstream().await).await;
    let request = Request::post("/api/items")
        .header("host", "app.test")
        .body(Full::new(Bytes::from_static(b"charge the card")))
        .unwrap();
    let response = send(door.addr, request).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    // The next request finds the child back.
    let (status, _, _) = get(door.addr, "/api/items", "*/*").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_child_that_takes_too_long_to_answer_gets_a_504() {
    // Reads requests, never answers.
    let (listener, silent) = local_listener().await;
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let limits = Limits {
        upstream_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let door = Door::spec(silent, echo_upstream("reflex").await)
        .limits(limits.clone())
        .start()
        .await;
    let started = Instant::now();
    let (status, _, body) = get(door.addr, "/admin/", "*/*").await;
    eprintln!(
        "a silent child was answered for after {:?}",
        started.elapsed()
    );
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert!(
        body.starts_with("django did not answer within 0.3s"),
        "{body}"
    );
    assert!(body.contains("proxy.upstream_timeout"), "{body}");
    assert!(started.elapsed() >= Duration::from_millis(300));

    // The time limit starts once the child has the whole request: an upload slower
    // than the limit is not cut off.
    let door = Door::spec(echo_upstream("django").await, hello_upstream().await)
        .limits(limits)
        .start()
        .await;
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let chunk = Frame::data(Bytes::from_static(b"0123456789"));
            let _ = tx.send(Ok::<_, std::io::Error>(chunk)).await;
        }
    });
    let chunks = tokio_stream_from(rx);
    let request = Request::post("/api/upload")
        .header("host", "app.test")
        .body(StreamBody::new(chunks))
        .unwrap();
    let response = send(door.addr, request).await;
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let json: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["body_len"], 40);
}

#[tokio::test]
async fn django_gets_the_front_doors_key_and_a_host_always() {
    let door = two_echoes().await;
    // A client that knows the header's name gains nothing by sending it.
    let answer = raw(
        door.addr,
        "GET /admin/x HTTP/1.0\r\nx-reflex-django-front-door: guessed\r\n\r\n",
    )
    .await;
    let json: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(json["headers"]["x-reflex-django-front-door"], "the-key");
    // HTTP/1.0 without Host: the public host, not the upstream's address.
    assert_eq!(json["headers"]["host"], "public.test:8000");
    assert_eq!(json["headers"]["x-forwarded-host"], "public.test:8000");

    // Reflex never gets it.
    let answer = raw(
        door.addr,
        "GET /_event/x HTTP/1.0\r\nx-reflex-django-front-door: guessed\r\n\r\n",
    )
    .await;
    let json: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(json["upstream"], "reflex");
    assert!(
        json["headers"].get("x-reflex-django-front-door").is_none(),
        "{json}"
    );
}

#[tokio::test]
async fn a_child_that_stops_reading_a_big_upload_gets_a_504_too() {
    // Reads the request head, then nothing: the upload fills the socket buffers and
    // stops moving.
    let (listener, stalled) = local_listener().await;
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut head = [0u8; 1024];
            let _ = stream.read(&mut head).await;
            held.push(stream);
        }
    });
    let limits = Limits {
        upstream_timeout: Duration::from_millis(500),
        ..Limits::default()
    };
    let door = Door::spec(stalled, hello_upstream().await)
        .limits(limits)
        .start()
        .await;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        let chunk = Bytes::from(vec![0u8; 64 * 1024]);
        for _ in 0..512 {
            if tx
                .send(Ok::<_, std::io::Error>(Frame::data(chunk.clone())))
                .await
                .is_err()
            {
                return;
            }
        }
    });
    let request = Request::post("/admin/upload")
        .header("host", "app.test")
        .header("content-length", (512 * 64 * 1024).to_string())
        .body(StreamBody::new(tokio_stream_from(rx)))
        .unwrap();
    let started = Instant::now();
    let response = tokio::time::timeout(Duration::from_secs(30), send(door.addr, request))
        .await
        .expect("an answer, not a hang");
    eprintln!(
        "a child that stopped reading was answered for after {:?}",
        started.elapsed()
    );
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
}
