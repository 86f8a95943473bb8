//! Files the front door serves from disk in production: Django's `STATIC_ROOT` under
//! the static prefix, and the built Reflex frontend.
//!
//! tower-http's `ServeFile` does the HTTP work for one file: content type, `Range`,
//! `Last-Modified`/`If-Modified-Since`, and the precompressed `.br`/`.gz` variants
//! that `build` writes. This module decides which file a path names — never one
//! outside the root — and adds what `ServeFile` leaves out: `ETag`/`If-None-Match`,
//! `Cache-Control` by file name, and `Vary`.

use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use tower_http::services::ServeFile;

use super::body::{self, Own};

/// For file names with a content hash: the name changes whenever the content does.
pub(crate) const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For everything else: keep a copy, but ask (cheaply, with `If-None-Match`) each time.
pub(crate) const REVALIDATE: &str = "no-cache";

/// Why a request path cannot name a file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BadPath {
    /// `..`, `.`, a NUL byte, a backslash or bytes that are not UTF-8, encoded or not:
    /// the client asks for something no link produces.
    Malformed,
    /// A hidden file or directory (`.env`, `.git`); served as not found.
    Hidden,
}

/// The segments of `path` (already relative to the served root), percent-decoded and
/// checked. An encoded `/` separates segments like a plain one.
pub(crate) fn segments(path: &str) -> Result<Vec<String>, BadPath> {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| BadPath::Malformed)?;
    let mut out = Vec::new();
    for segment in decoded.split('/').filter(|s| !s.is_empty()) {
        if segment == "." || segment == ".." || segment.contains(['\\', '\0']) {
            return Err(BadPath::Malformed);
        }
        // `.well-known` holds files meant for the public (ACME, app links).
        if segment.starts_with('.') && segment != ".well-known" {
            return Err(BadPath::Hidden);
        }
        out.push(segment.to_string());
    }
    Ok(out)
}

/// A directory whose files may be served; every lookup stays inside it.
#[derive(Clone, Debug)]
pub struct Root {
    /// Canonical (symlinks resolved), so a lookup can be compared against it. Shared:
    /// every request clones the root into its blocking lookup.
    path: std::sync::Arc<Path>,
}

impl Root {
    pub fn new(path: &Path) -> io::Result<Root> {
        Ok(Root {
            path: std::fs::canonicalize(path)?.into(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The regular file at `rel` under the root, if there is one. Symbolic links are
    /// followed only while they stay inside the root. Blocking: call it off the
    /// async runtime.
    pub(crate) fn file(&self, rel: &Path) -> io::Result<Option<Found>> {
        let real = match std::fs::canonicalize(self.path.join(rel)) {
            Ok(real) => real,
            Err(e) if is_absent(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        if !real.starts_with(&self.path) {
            return Ok(None);
        }
        let meta = std::fs::metadata(&real)?;
        Ok(meta.is_file().then_some(Found { path: real, meta }))
    }
}

fn is_absent(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::InvalidFilename
    ) || e.raw_os_error() == Some(nix::libc::ENAMETOOLONG)
}

/// A file found under a root.
#[derive(Debug)]
pub(crate) struct Found {
    pub path: PathBuf,
    pub meta: Metadata,
}

/// How to answer with a found file.
pub(crate) struct Answer {
    pub file: Found,
    /// `Some(404)` for the not-found page; conditional and range headers are ignored
    /// then, as they make no sense for an error.
    pub status: Option<StatusCode>,
    pub cache_control: &'static str,
    /// Whether the path names this file (not the app shell answering any dynamic
    /// route), so it may be kept in memory under that path.
    pub remember: bool,
}

/// Whether `file` has a precompressed variant older than itself. Blocking.
fn stale_variant(file: &Path, modified: Option<std::time::SystemTime>) -> bool {
    [".br", ".gz"].iter().any(|suffix| {
        std::fs::metadata(variant_path(file, suffix)).is_ok_and(|m| m.modified().ok() < modified)
    })
}

fn variant_path(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// The precompressed variant `file` + `suffix` (`.br`, `.gz`) if it exists and is at
/// least as new as `file`: a variant left from an older file is never served.
/// Blocking.
pub(crate) fn fresh_variant(
    file: &Path,
    modified: Option<std::time::SystemTime>,
    suffix: &str,
) -> Option<PathBuf> {
    let variant = variant_path(file, suffix);
    let meta = std::fs::metadata(&variant).ok()?;
    (meta.is_file() && meta.modified().ok() >= modified).then_some(variant)
}

/// Answers `method` + `request_headers` with `answer.file`.
pub(crate) async fn respond(
    method: &Method,
    request_headers: &HeaderMap,
    answer: Answer,
) -> Response<Own> {
    let Answer {
        file,
        status,
        cache_control,
        ..
    } = answer;
    let etag = etag(&file.meta);
    let mut headers = HeaderMap::new();
    let error_page = status.is_some_and(|s| s != StatusCode::OK);
    if !error_page
        && let Some(inm) = request_headers.get(header::IF_NONE_MATCH)
        && none_match_fails(inm, &etag)
    {
        let mut response = Response::new(body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        finish_headers(response.headers_mut(), &etag, cache_control);
        return response;
    }
    let has = |name| request_headers.contains_key(name);
    for name in [
        header::ACCEPT_ENCODING,
        header::RANGE,
        header::IF_MODIFIED_SINCE,
        header::IF_UNMODIFIED_SINCE,
    ] {
        let skip = match name {
            // An error page is sent whole, whatever was asked.
            _ if error_page => name != header::ACCEPT_ENCODING,
            // With If-None-Match present, If-Modified-Since is ignored (RFC 9110
            // §13.2.2); If-None-Match was evaluated above.
            header::IF_MODIFIED_SINCE => has(header::IF_NONE_MATCH),
            // Our validators are weak, and a weak one never satisfies If-Range: the
            // answer to a range with If-Range is the whole file (RFC 9110 §13.1.5),
            // never a piece of a newer file glued to an older one.
            header::RANGE => has(header::IF_RANGE),
            _ => false,
        };
        if !skip && let Some(v) = request_headers.get(&name) {
            headers.insert(name, v.clone());
        }
    }
    // tower-http serves a variant whenever one exists; one left from an older file
    // must not be, so such a request gets the file itself.
    if headers.contains_key(header::ACCEPT_ENCODING) {
        let (path, modified) = (file.path.clone(), file.meta.modified().ok());
        let stale = tokio::task::spawn_blocking(move || stale_variant(&path, modified))
            .await
            .unwrap_or(true);
        if stale {
            headers.remove(header::ACCEPT_ENCODING);
        }
    }
    let mut request = Request::new(());
    *request.method_mut() = method.clone();
    *request.headers_mut() = headers;
    let mut service = ServeFile::new(&file.path)
        .precompressed_br()
        .precompressed_gzip();
    let mut response = match service.try_call(request).await {
        Ok(response) => response.map(http_body_util::Either::Right),
        Err(_) => {
            // Removed or unreadable between the lookup and the open.
            let mut response = Response::new(body::empty());
            *response.status_mut() = StatusCode::NOT_FOUND;
            return response;
        }
    };
    if let Some(status) = status
        && response.status() == StatusCode::OK
    {
        *response.status_mut() = status;
    }
    let served = response.status();
    if served.is_success() || served == StatusCode::NOT_MODIFIED || error_page {
        finish_headers(response.headers_mut(), &etag, cache_control);
    }
    if served.is_success() || error_page {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type(&file.path));
    }
    response
}

/// The content type of a file, by its name (the same guess tower-http makes); pages
/// say their charset.
pub(crate) fn content_type(path: &Path) -> HeaderValue {
    if path.extension().is_some_and(|e| e == "html") {
        return HeaderValue::from_static("text/html; charset=utf-8");
    }
    mime_guess::from_path(path).first_raw().map_or(
        HeaderValue::from_static("application/octet-stream"),
        HeaderValue::from_static,
    )
}

pub(crate) fn finish_headers(
    headers: &mut HeaderMap,
    etag: &HeaderValue,
    cache_control: &'static str,
) {
    headers.insert(header::ETAG, etag.clone());
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    // The answer depends on Accept-Encoding whenever a compressed variant exists.
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
}

/// A weak validator from size and modification time, as nginx and Apache make them:
/// it changes when the file is replaced (a new build, `collectstatic`).
pub(crate) fn etag(meta: &Metadata) -> HeaderValue {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    HeaderValue::try_from(format!("W/\"{:x}-{:x}\"", meta.len(), mtime))
        .expect("hex digits make a valid header")
}

/// Whether `If-None-Match` matches `etag` (weak comparison), so the answer is `304`.
pub(crate) fn none_match_fails(if_none_match: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(list) = if_none_match.to_str() else {
        return false;
    };
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    let ours = opaque(etag.to_str().unwrap_or_default());
    list.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || opaque(tag) == ours)
}

/// The `Cache-Control` of a file under its root: [`IMMUTABLE`] when its name carries
/// a hash of its content (see [`is_content_hashed`]), else [`REVALIDATE`].
pub(crate) fn cache_control(rel: &Path, vite: bool) -> &'static str {
    if is_content_hashed(rel, vite) {
        IMMUTABLE
    } else {
        REVALIDATE
    }
}

/// Whether a file's name carries a hash of its content: Django's
/// `ManifestStaticFilesStorage` `name.HASH12.ext`, and with `vite` (the built
/// frontend only) Vite's `name-HASH8.ext` under `assets/`. Those names never get new
/// content, so browsers may keep them for a year.
fn is_content_hashed(rel: &Path, vite: bool) -> bool {
    let Some(name) = rel.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    // Precompressed variants carry the name of the file they compress.
    let name = name
        .strip_suffix(".br")
        .or_else(|| name.strip_suffix(".gz"))
        .unwrap_or(name);
    let Some((stem, _ext)) = name.rsplit_once('.') else {
        return false;
    };
    let django = stem
        .rsplit_once('.')
        .is_some_and(|(_, hash)| hash.len() == 12 && hash.bytes().all(|b| b.is_ascii_hexdigit()));
    let in_assets = rel
        .components()
        .next()
        .is_some_and(|c| c.as_os_str() == "assets");
    let vite = vite
        && in_assets
        && stem.len() > 9
        && stem.as_bytes()[stem.len() - 9] == b'-'
        && stem[stem.len() - 8..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    django || vite
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_decoded_and_checked() {
        assert_eq!(
            segments("admin/css/base.css"),
            Ok(vec!["admin".into(), "css".into(), "base.css".into()])
        );
        assert_eq!(segments("//a//b/"), Ok(vec!["a".into(), "b".into()]));
        assert_eq!(segments("a%20b.txt"), Ok(vec!["a b.txt".into()]));
        assert_eq!(segments("a%2Fb"), Ok(vec!["a".into(), "b".into()]));
        for bad in [
            "../etc/passwd",
            "a/../../b",
            "%2e%2e/secret",
            "%2E%2E%2Fsecret",
            "a/./b",
            "a%5C..%5Cb",
            "a%00b",
            "%ff",
        ] {
            assert_eq!(segments(bad), Err(BadPath::Malformed), "{bad}");
        }
        assert_eq!(segments(".env"), Err(BadPath::Hidden));
        assert_eq!(segments("a/.git/config"), Err(BadPath::Hidden));
        assert!(segments(".well-known/security.txt").is_ok());
    }

    #[test]
    fn hashed_names_are_recognised() {
        for hashed in [
            "assets/_index-BhQ9MRhD.js",
            "assets/components-BkVO-4Gy.js",
            "assets/__reflex_global_styles-NccINl-w.css",
            "assets/_404_._index-Dfwd_-i3.js.br",
            "admin/css/base.5af66c1b1797.css",
            "admin/js/core.0123456789ab.js.gz",
        ] {
            assert!(is_content_hashed(Path::new(hashed), true), "{hashed}");
        }
        for plain in [
            "index.html",
            "favicon.ico",
            "notes.html",
            "admin/css/base.css",
            "jquery-3.7.1.min.js",
            "assets-BhQ9MRhD.js",
            "logo-BhQ9MRhD.png",
            "admin/js/core.0123456789.js",
        ] {
            assert!(!is_content_hashed(Path::new(plain), true), "{plain}");
        }
        // Under STATIC_ROOT an `assets/` folder is the project's own, not Vite's.
        assert!(!is_content_hashed(
            Path::new("assets/img/icon-facebook.svg"),
            false
        ));
        assert!(is_content_hashed(
            Path::new("assets/base.5af66c1b1797.css"),
            false
        ));
    }

    #[test]
    fn if_none_match_uses_weak_comparison() {
        let etag = HeaderValue::from_static("W/\"1f-abc\"");
        for matching in ["W/\"1f-abc\"", "\"1f-abc\"", "\"x\", W/\"1f-abc\"", "*"] {
            assert!(
                none_match_fails(&HeaderValue::from_static(matching), &etag),
                "{matching}"
            );
        }
        assert!(!none_match_fails(
            &HeaderValue::from_static("W/\"1f-abd\""),
            &etag
        ));
    }

    #[test]
    fn lookups_stay_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
        std::fs::create_dir(dir.path().join("css")).unwrap();
        std::fs::write(dir.path().join("css/site.css"), "body{}").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
        std::os::unix::fs::symlink("css/site.css", dir.path().join("alias.css")).unwrap();
        let root = Root::new(dir.path()).unwrap();
        assert!(root.file(Path::new("css/site.css")).unwrap().is_some());
        assert!(root.file(Path::new("alias.css")).unwrap().is_some());
        assert!(
            root.file(Path::new("css")).unwrap().is_none(),
            "a directory"
        );
        assert!(root.file(Path::new("out/secret.txt")).unwrap().is_none());
        assert!(root.file(Path::new("missing/x.css")).unwrap().is_none());
        assert!(root.file(Path::new("css/site.css/x")).unwrap().is_none());
    }
}
