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
/// Paths remembered at most (unknown paths are never remembered, so this bounds the
/// memory against clients asking for many distinct dynamic routes).
const MAX_ENTRIES: usize = 4096;

/// The files in memory, by request path.
#[derive(Default)]
pub(crate) struct Hot {
    entries: Mutex<HashMap<String, Arc<Entry>>>,
}

impl Hot {
    /// The entry for `path`, if it is fresh.
    pub fn get(&self, path: &str) -> Option<Arc<Entry>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(path)
            .filter(|e| e.loaded.elapsed() < TTL)
            .cloned()
    }

    pub fn put(&self, path: &str, entry: Arc<Entry>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.loaded.elapsed() < TTL);
            if entries.len() >= MAX_ENTRIES {
                return;
            }
        }
        entries.insert(path.to_string(), entry);
    }
}

/// One file and its precompressed variants, with the headers every answer carries.
pub(crate) struct Entry {
    loaded: Instant,
    etag: HeaderValue,
    last_modified: Option<std::time::SystemTime>,
    content_type: HeaderValue,
    cache_control: &'static str,
    identity: Bytes,
    br: Option<Bytes>,
    gzip: Option<Bytes>,
}

impl Entry {
    /// Reads `answer`'s file and variants when it is a plain `200` of a small file.
    /// Blocking: call it off the async runtime.
    pub fn load(answer: &Answer) -> Option<Entry> {
        if answer.status.is_some() || answer.file.meta.len() > MAX_FILE {
            return None;
        }
        let path = &answer.file.path;
        let identity = Bytes::from(std::fs::read(path).ok()?);
        let variant = |suffix: &str| {
            let mut name = path.as_os_str().to_os_string();
            name.push(suffix);
            std::fs::read(std::path::PathBuf::from(name))
                .ok()
                .map(Bytes::from)
        };
        Some(Entry {
            loaded: Instant::now(),
            etag: files::etag(&answer.file.meta),
            last_modified: answer.file.meta.modified().ok(),
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
        if let Some(modified) = self.last_modified
            && let Ok(value) = HeaderValue::try_from(httpdate::fmt_http_date(modified))
        {
            out.insert(header::LAST_MODIFIED, value);
        }
        files::finish_headers(out, &self.etag, self.cache_control);
        Some(response)
    }

    /// The best variant the client accepts: brotli, then gzip, then the file itself.
    fn negotiate(&self, headers: &HeaderMap) -> (&Bytes, Option<&'static str>) {
        let accept = headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        let quality = |coding: &str| quality_of(&accept, coding);
        let (br, gzip) = (quality("br"), quality("gzip"));
        match (&self.br, &self.gzip) {
            (Some(data), _) if br > 0.0 && br >= gzip => (data, Some("br")),
            (_, Some(data)) if gzip > 0.0 => (data, Some("gzip")),
            (Some(data), None) if br > 0.0 => (data, Some("br")),
            _ => (&self.identity, None),
        }
    }
}

/// The quality (`q`) an `Accept-Encoding` value gives `coding`; `*` stands in for
/// codings it does not name.
fn quality_of(accept: &str, coding: &str) -> f32 {
    let mut wildcard = 0.0;
    for item in accept.split(',') {
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
    fn accept_encoding_qualities() {
        assert_eq!(quality_of("gzip, deflate, br, zstd", "br"), 1.0);
        assert_eq!(quality_of("gzip;q=0.5, br;q=0", "br"), 0.0);
        assert_eq!(quality_of("gzip;q=0.5, br;q=0", "gzip"), 0.5);
        assert_eq!(quality_of("*;q=0.2", "gzip"), 0.2);
        assert_eq!(quality_of("", "gzip"), 0.0);
        assert_eq!(quality_of("identity", "br"), 0.0);
    }
}
