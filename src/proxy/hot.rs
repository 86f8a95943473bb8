//! Small files the front door has just served, kept in memory for a moment: the
//! frontend's pages and bundles and Django's CSS/JS are asked for again and again,
//! and reading them from disk on every request (a blocking-pool hop per open, stat
//! and read) costs most of a request's time.
//!
//! An entry lives [`TTL`]; after that the next request reads the file again, so a new
//! build or `collectstatic` shows within a couple of seconds. Only plain GET/HEAD
//! (with `If-None-Match` or `If-Modified-Since`) are answered from memory; ranges and
//! `If-Unmodified-Since` go to tower-http's file service, which answers everything.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode};

use super::body::{self, Own};
use super::files::{self, Answer};

/// How long an entry is trusted without looking at the disk.
pub const TTL: Duration = Duration::from_secs(2);
/// Larger files stream from disk.
const MAX_FILE: u64 = 512 * 1024;
/// Bytes kept at most, variants included.
const BUDGET: usize = 64 * 1024 * 1024;
/// Paths remembered at most. Keys are decoded, normalised paths of files that exist
/// (never the app shell answering an arbitrary dynamic route), so a client cannot
/// make many entries of one file by spelling its path differently.
const MAX_PATHS: usize = 8192;

/// The files in memory: by normalised request path, sharing one copy per file.
#[derive(Default)]
pub(crate) struct Hot {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    by_path: HashMap<String, Arc<Entry>>,
    by_file: HashMap<std::path::PathBuf, Arc<Entry>>,
    bytes: usize,
    purged: Option<Instant>,
}

impl Inner {
    /// Drops what has expired, at most once per [`TTL`] (it walks every entry).
    fn purge(&mut self) {
        if self.purged.is_some_and(|at| at.elapsed() < TTL) {
            return;
        }
        self.purged = Some(Instant::now());
        self.by_path.retain(|_, e| e.fresh());
        self.by_file.retain(|_, e| e.fresh());
        self.bytes = self.by_file.values().map(|e| e.size()).sum();
    }
}

impl Hot {
    /// The entry for `key` (see [`key`]), if it is fresh.
    pub fn get(&self, key: &str) -> Option<Arc<Entry>> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.by_path.get(key).filter(|e| e.fresh()).cloned()
    }

    /// Remembers `entry` for `key`, within the bounds; returns the entry to answer
    /// with (an equal one already in memory, or `entry`).
    pub fn put(&self, key: String, entry: Arc<Entry>) -> Arc<Entry> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let shared = inner
            .by_file
            .get(&entry.file)
            .filter(|known| known.fresh() && known.etag == entry.etag)
            .cloned();
        let entry = match shared {
            Some(known) => known,
            None => {
                if inner.bytes + entry.size() > BUDGET {
                    inner.purge();
                    if inner.bytes + entry.size() > BUDGET {
                        return entry;
                    }
                }
                if let Some(old) = inner.by_file.insert(entry.file.clone(), entry.clone()) {
                    inner.bytes -= old.size();
                }
                inner.bytes += entry.size();
                entry
            }
        };
        if inner.by_path.len() >= MAX_PATHS {
            inner.purge();
        }
        if inner.by_path.len() < MAX_PATHS {
            inner.by_path.insert(key, entry.clone());
        }
        entry
    }
}

/// The key of a request path: decoded, without empty segments, keeping a trailing
/// slash (`/notes/` is another page than `/notes`). `None` for paths that name no file.
pub(crate) fn key(path: &str) -> Option<String> {
    let segments = files::segments(path).ok()?;
    let mut key = format!("/{}", segments.join("/"));
    if path.ends_with('/') && !segments.is_empty() {
        key.push('/');
    }
    Some(key)
}

/// One file and its precompressed variants, with the headers every answer carries.
pub(crate) struct Entry {
    loaded: Instant,
    /// The file (canonical), so paths naming the same file share one copy.
    file: std::path::PathBuf,
    etag: HeaderValue,
    last_modified: Option<std::time::SystemTime>,
    /// `last_modified` as the header says it, made once.
    last_modified_header: Option<HeaderValue>,
    content_type: HeaderValue,
    cache_control: &'static str,
    identity: Bytes,
    br: Option<Bytes>,
    gzip: Option<Bytes>,
}

impl Entry {
    fn fresh(&self) -> bool {
        self.loaded.elapsed() < TTL
    }

    fn size(&self) -> usize {
        self.identity.len()
            + self.br.as_ref().map_or(0, Bytes::len)
            + self.gzip.as_ref().map_or(0, Bytes::len)
    }

    /// Reads `answer`'s file and variants when it is a plain `200` of a small file
    /// that may be remembered. Blocking: call it off the async runtime.
    pub fn load(answer: &Answer) -> Option<Entry> {
        if !answer.remember || answer.status.is_some() || answer.file.meta.len() > MAX_FILE {
            return None;
        }
        let path = &answer.file.path;
        let identity = Bytes::from(std::fs::read(path).ok()?);
        let modified = answer.file.meta.modified().ok();
        let variant = |suffix: &str| {
            let variant = files::fresh_variant(path, modified, suffix)?;
            std::fs::read(variant)
                .ok()
                .filter(|data| data.len() as u64 <= MAX_FILE)
                .map(Bytes::from)
        };
        Some(Entry {
            loaded: Instant::now(),
            file: path.clone(),
            etag: files::etag(&answer.file.meta),
            last_modified: modified,
            last_modified_header: modified
                .and_then(|m| HeaderValue::try_from(httpdate::fmt_http_date(m)).ok()),
            content_type: files::content_type(path),
            cache_control: answer.cache_control,
            br: variant(".br"),
            gzip: variant(".gz"),
            identity,
        })
    }

    /// The answer to `method` with `headers` from memory; `None` when the request needs
    /// the file service (a range, `If-Unmodified-Since`, `If-Range`).
    pub fn respond(&self, method: &Method, headers: &HeaderMap) -> Option<Response<Own>> {
        if [header::RANGE, header::IF_RANGE, header::IF_UNMODIFIED_SINCE]
            .iter()
            .any(|h| headers.contains_key(h))
        {
            return None;
        }
        let not_modified = match headers.get(header::IF_NONE_MATCH) {
            Some(inm) => files::none_match_fails(inm, &self.etag),
            None => headers
                .get(header::IF_MODIFIED_SINCE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| httpdate::parse_http_date(v).ok())
                .zip(self.last_modified)
                .is_some_and(|(since, modified)| {
                    // HTTP dates have whole seconds.
                    modified
                        .duration_since(since)
                        .map_or(true, |d| d < Duration::from_secs(1))
                }),
        };
        let mut response = Response::new(body::empty());
        let out = response.headers_mut();
        if not_modified {
            *response.status_mut() = StatusCode::NOT_MODIFIED;
        } else {
            let (data, encoding) = self.negotiate(headers);
            out.insert(header::CONTENT_TYPE, self.content_type.clone());
            out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            out.insert(header::CONTENT_LENGTH, HeaderValue::from(data.len()));
            if let Some(encoding) = encoding {
                out.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
            }
            if method != Method::HEAD {
                *response.body_mut() = body::bytes(data.clone());
            }
        }
        let out = response.headers_mut();
        if let Some(value) = &self.last_modified_header {
            out.insert(header::LAST_MODIFIED, value.clone());
        }
        files::finish_headers(out, &self.etag, self.cache_control);
        Some(response)
    }

    /// The best variant the client accepts: brotli, then gzip, then the file itself.
    fn negotiate(&self, headers: &HeaderMap) -> (&Bytes, Option<&'static str>) {
        let accept = headers.get_all(header::ACCEPT_ENCODING);
        let quality = |coding: &str| {
            let values = accept.iter().filter_map(|v| v.to_str().ok());
            quality_of(values, coding)
        };
        let (br, gzip) = (quality("br"), quality("gzip"));
        match (&self.br, &self.gzip) {
            (Some(data), _) if br > 0.0 && br >= gzip => (data, Some("br")),
            (_, Some(data)) if gzip > 0.0 => (data, Some("gzip")),
            (Some(data), None) if br > 0.0 => (data, Some("br")),
            _ => (&self.identity, None),
        }
    }
}

/// The quality (`q`) the `Accept-Encoding` values give `coding`; `*` stands in for
/// codings they do not name.
fn quality_of<'a>(accept: impl Iterator<Item = &'a str>, coding: &str) -> f32 {
    let mut wildcard = 0.0;
    for item in accept.flat_map(|value| value.split(',')) {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(coding) {
            return q;
        }
        if name == "*" {
            wildcard = q;
        }
    }
    wildcard
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_normalised() {
        assert_eq!(key("/assets/app.js").as_deref(), Some("/assets/app.js"));
        assert_eq!(key("/%61ssets//app.js").as_deref(), Some("/assets/app.js"));
        assert_eq!(key("/notes/").as_deref(), Some("/notes/"));
        assert_eq!(key("/").as_deref(), Some("/"));
        assert_eq!(key("/../x"), None);
    }

    #[test]
    fn accept_encoding_qualities() {
        let q = |accept: &str, coding| quality_of(std::iter::once(accept), coding);
        assert_eq!(q("gzip, deflate, br, zstd", "br"), 1.0);
        assert_eq!(q("gzip;q=0.5, br;q=0", "br"), 0.0);
        assert_eq!(q("gzip;q=0.5, br;q=0", "gzip"), 0.5);
        assert_eq!(q("*;q=0.2", "gzip"), 0.2);
        assert_eq!(q("", "gzip"), 0.0);
        assert_eq!(q("identity", "br"), 0.0);
        // Several header lines count as one list.
        assert_eq!(quality_of(["gzip", "br;q=0.3"].into_iter(), "br"), 0.3);
    }
}
