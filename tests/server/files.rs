//! The front door as a production file server: the built frontend and Django's
//! STATIC_ROOT from disk, next to the forwarding to real upstreams.

use std::io::Read;
use std::path::Path;

use crate::route_table::table;
use crate::support::*;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use reflex_django::proxy::Frontend;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Site {
    _dirs: (tempfile::TempDir, tempfile::TempDir, tempfile::TempDir),
    /// The built frontend.
    root: std::path::PathBuf,
    door: Door,
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &data[..], &mut out, &Default::default()).unwrap();
    out
}

const APP_JS: &str = "console.log('app');\n";

/// A built frontend and a STATIC_ROOT like `build` leaves them, behind a front door
/// whose Django and Reflex are echo servers.
async fn site() -> Site {
    let frontend = tempfile::tempdir().unwrap();
    let statics = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let f = frontend.path();
    write(f, "index.html", b"<!doctype html><title>home</title>");
    write(f, "404.html", b"<!doctype html><title>shell</title>");
    write(f, "notes.html", b"<!doctype html><title>notes</title>");
    write(
        f,
        "notes/index.html",
        b"<!doctype html><title>notes</title>",
    );
    let js = APP_JS.repeat(100);
    write(f, "assets/app-BhQ9MRhD.js", js.as_bytes());
    write(f, "assets/app-BhQ9MRhD.js.br", &brotli(js.as_bytes()));
    write(f, "favicon.ico", b"ico");
    let s = statics.path();
    write(s, "admin/css/base.css", b"body { margin: 0 }");
    write(s, "admin/css/base.5af66c1b1797.css", b"body { margin: 0 }");
    write(s, "big.txt", &b"0123456789".repeat(100));
    // Larger than what the front door keeps in memory: always read from disk.
    write(s, "huge.txt", &b"0123456789".repeat(60_000));
    // Hidden files that exist, so only the hidden-file rule keeps them private.
    write(s, ".env", b"SECRET_KEY=x");
    write(f, ".git/config", b"[core]");
    write(outside.path(), "secret.txt", b"secret");
    std::os::unix::fs::symlink(outside.path(), s.join("out")).unwrap();

    let routes: Vec<String> = ["index", "notes", "post/[id]", "404"]
        .iter()
        .map(|r| r.to_string())
        .collect();
    let door = Door::spec(echo_upstream("django").await, echo_upstream("reflex").await)
        .built(Frontend::new(f, &routes).unwrap())
        .table(table().serve_static_from(s.to_path_buf()))
        .start()
        .await;
    Site {
        root: frontend.path().to_path_buf(),
        _dirs: (frontend, statics, outside),
        door,
    }
}

struct Got {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Bytes,
}

impl Got {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map_or("", |v| v.to_str().unwrap_or(""))
    }
}

async fn fetch(site: &Site, method: &str, path: &str, headers: &[(&str, &str)]) -> Got {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "shop.test");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let request = request.body(Empty::<Bytes>::new()).unwrap();
    let stream = TcpStream::connect(site.door.addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let response = sender.send_request(request).await.unwrap();
    let (parts, body) = response.into_parts();
    Got {
        status: parts.status,
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes(),
    }
}

async fn get(site: &Site, path: &str) -> Got {
    fetch(site, "GET", path, &[]).await
}

/// Sends `path` byte for byte (no client normalises it) and returns the status.
async fn raw_status(site: &Site, path: &str) -> u16 {
    let mut stream = TcpStream::connect(site.door.addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: shop.test\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    text.split(' ').nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn pages_resolve_like_reflex_prod_server() {
    let site = site().await;
    let home = get(&site, "/").await;
    assert_eq!(home.status, 200);
    assert_eq!(home.header("content-type"), "text/html; charset=utf-8");
    assert!(home.text().contains("<title>home</title>"));
    assert_eq!(home.header("cache-control"), "no-cache");

    for path in ["/notes", "/notes/", "/notes?tab=2"] {
        let page = get(&site, path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.text().contains("<title>notes</title>"), "{path}");
    }
    // A dynamic route has no file of its own: the app shell, with 200.
    let dynamic = get(&site, "/post/42").await;
    assert_eq!(dynamic.status, 200);
    assert!(dynamic.text().contains("<title>shell</title>"));
    // Unknown paths: the shell with 404, so crawlers and monitors see the truth.
    for path in ["/nope", "/post/42/edit", "/assets/missing.js"] {
        let missing = get(&site, path).await;
        assert_eq!(missing.status, 404, "{path}");
        assert!(missing.text().contains("<title>shell</title>"), "{path}");
    }
}

#[tokio::test]
async fn django_and_reflex_paths_still_go_to_their_children() {
    let site = site().await;
    for (path, upstream) in [
        ("/admin/login/", "django"),
        ("/api/items", "django"),
        ("/_reflex_django/session/", "django"),
        ("/_event/?EIO=4", "reflex"),
        ("/ping", "reflex"),
        ("/_upload/a.png", "reflex"),
    ] {
        let got = get(&site, path).await;
        assert_eq!(got.status, 200, "{path}");
        let json: Value = serde_json::from_slice(&got.body).unwrap();
        assert_eq!(json["upstream"], upstream, "{path}");
    }
}

#[tokio::test]
async fn precompressed_variants_validators_and_ranges() {
    let site = site().await;
    let js = "/assets/app-BhQ9MRhD.js";
    let plain = get(&site, js).await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.text(), APP_JS.repeat(100));
    assert_eq!(plain.header("content-encoding"), "");
    assert_eq!(
        plain.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(plain.header("vary"), "Accept-Encoding");
    assert!(plain.header("content-type").contains("javascript"));

    let br = fetch(&site, "GET", js, &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(br.header("content-encoding"), "br");
    let mut back = String::new();
    brotli::Decompressor::new(&br.body[..], 4096)
        .read_to_string(&mut back)
        .unwrap();
    assert_eq!(back, APP_JS.repeat(100));

    let etag = plain.header("etag").to_string();
    assert!(etag.starts_with("W/\""), "{etag}");
    let again = fetch(&site, "GET", js, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), etag);
    let last_modified = plain.header("last-modified").to_string();
    let since = fetch(&site, "GET", js, &[("if-modified-since", &last_modified)]).await;
    assert_eq!(since.status, 304);
    // If-None-Match decides when both are sent.
    let stale = fetch(
        &site,
        "GET",
        js,
        &[
            ("if-none-match", "W/\"other\""),
            ("if-modified-since", &last_modified),
        ],
    )
    .await;
    assert_eq!(stale.status, 200);

    let part = fetch(&site, "GET", "/static/big.txt", &[("range", "bytes=10-19")]).await;
    assert_eq!(part.status, 206);
    assert_eq!(part.text(), "0123456789");
    assert_eq!(part.header("content-range"), "bytes 10-19/1000");

    let head = fetch(&site, "HEAD", "/static/big.txt", &[]).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), "1000");
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn large_files_from_disk_answer_the_same_validators() {
    let site = site().await;
    let url = "/static/huge.txt";
    let full = get(&site, url).await;
    assert_eq!(full.status, 200);
    assert_eq!(full.body.len(), 600_000);
    let etag = full.header("etag").to_string();
    let last_modified = full.header("last-modified").to_string();
    assert_eq!(
        fetch(&site, "GET", url, &[("if-none-match", &etag)])
            .await
            .status,
        304
    );
    assert_eq!(
        fetch(&site, "GET", url, &[("if-modified-since", &last_modified)])
            .await
            .status,
        304
    );
    let part = fetch(&site, "GET", url, &[("range", "bytes=0-9")]).await;
    assert_eq!(
        (part.status.as_u16(), part.text().as_str()),
        (206, "0123456789")
    );
    // If-Range with our weak validator never matches: the whole file, not a piece.
    for if_range in [etag.as_str(), last_modified.as_str()] {
        let whole = fetch(
            &site,
            "GET",
            url,
            &[("range", "bytes=0-9"), ("if-range", if_range)],
        )
        .await;
        assert_eq!(whole.status, 200, "{if_range}");
        assert_eq!(whole.body.len(), 600_000);
    }
}

#[tokio::test]
async fn a_variant_older_than_its_file_is_never_served() {
    let site = site().await;
    let root = site.root.clone();
    // A rebuild replaced the bundle but left the old brotli variant behind.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let js = APP_JS.replace("app", "new").repeat(100);
    std::fs::write(root.join("assets/app-BhQ9MRhD.js"), &js).unwrap();
    let got = fetch(
        &site,
        "GET",
        "/assets/app-BhQ9MRhD.js",
        &[("accept-encoding", "br")],
    )
    .await;
    assert_eq!(got.header("content-encoding"), "");
    assert_eq!(got.text(), js);
}

#[tokio::test]
async fn static_files_are_cached_by_name() {
    let site = site().await;
    let hashed = get(&site, "/static/admin/css/base.5af66c1b1797.css").await;
    assert_eq!(hashed.status, 200);
    assert_eq!(hashed.header("content-type"), "text/css");
    assert_eq!(
        hashed.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    let plain = get(&site, "/static/admin/css/base.css").await;
    assert_eq!(plain.header("cache-control"), "no-cache");
    assert_eq!(get(&site, "/static/admin/css/nope.css").await.status, 404);
    assert_eq!(get(&site, "/static/admin").await.status, 404, "a directory");
}

#[tokio::test]
async fn nothing_outside_the_roots_is_served() {
    let site = site().await;
    for path in [
        "/static/../../etc/passwd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/admin/%2E%2E%2F%2E%2E%2Fsecret.txt",
        "/static/a%5C..%5Cb",
        "/static/a%00b",
        "/../etc/passwd",
        "/assets/..%2f..%2fetc/passwd",
    ] {
        assert_eq!(raw_status(&site, path).await, 400, "{path}");
    }
    // A symbolic link out of the root, hidden files, encoded or not.
    for path in [
        "/static/out/secret.txt",
        "/static/.env",
        "/.git/config",
        "/%2Egit/config",
    ] {
        assert_eq!(raw_status(&site, path).await, 404, "{path}");
    }
}

#[tokio::test]
async fn files_are_read_only() {
    let site = site().await;
    for path in ["/", "/static/admin/css/base.css"] {
        let got = fetch(&site, "POST", path, &[]).await;
        assert_eq!(got.status, 405, "{path}");
        assert_eq!(got.header("allow"), "GET, HEAD");
    }
}

#[tokio::test]
async fn a_new_build_is_served_within_moments() {
    let site = site().await;
    let first = get(&site, "/favicon.ico").await;
    assert_eq!(first.text(), "ico");
    // Served from memory now; the file changes on disk as a rebuild would change it.
    let root = site.root.clone();
    std::fs::write(root.join("favicon.ico"), "new icon").unwrap();
    tokio::time::sleep(
        reflex_django::proxy::FILE_MEMORY_TTL + std::time::Duration::from_millis(300),
    )
    .await;
    let again = get(&site, "/favicon.ico").await;
    assert_eq!(again.text(), "new icon");
    assert_ne!(again.header("etag"), first.header("etag"));
}
