//! Header rules of a forwarding proxy: hop-by-hop headers stay on their hop, the
//! browser's `Host` is kept, and `X-Forwarded-*` tell the upstream who asked.

use std::net::IpAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// Hop-by-hop fields (RFC 9110 §7.6.1), on top of those the `Connection` header names.
const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    HeaderName::from_static("proxy-connection"),
    HeaderName::from_static("keep-alive"),
    header::TE,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// Whether the request asks to switch protocols (a WebSocket handshake): a `Connection`
/// header with the `upgrade` token and an `Upgrade` header.
pub(crate) fn upgrade_of(headers: &HeaderMap) -> Option<HeaderValue> {
    let asks = connection_tokens(headers).any(|t| t.eq_ignore_ascii_case("upgrade"));
    asks.then(|| headers.get(header::UPGRADE).cloned())
        .flatten()
}

/// Removes the hop-by-hop headers. For a protocol switch, `Upgrade` and
/// `Connection: upgrade` are put back: they must reach the other side for it to happen.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap, upgrade: Option<&HeaderValue>) {
    let named: Vec<HeaderName> = connection_tokens(headers)
        .filter_map(|t| HeaderName::from_bytes(t.as_bytes()).ok())
        .collect();
    for name in named.iter().chain(HOP_BY_HOP.iter()) {
        headers.remove(name);
    }
    if let Some(upgrade) = upgrade {
        headers.insert(header::UPGRADE, upgrade.clone());
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
}

fn connection_tokens(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Appends the client to `X-Forwarded-For` and sets `X-Forwarded-Proto` and
/// `X-Forwarded-Host`. `Host` itself is left alone: Django's CSRF check compares the
/// browser's `Origin` with it.
pub(crate) fn add_forwarded(headers: &mut HeaderMap, client: IpAddr) {
    let mut chain: Vec<String> = headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    chain.push(client.to_string());
    if let Ok(value) = HeaderValue::try_from(chain.join(", ")) {
        headers.insert(X_FORWARDED_FOR.clone(), value);
    }
    // The front door speaks plain HTTP; a client-sent value would be a lie we pass on.
    headers.insert(X_FORWARDED_PROTO.clone(), HeaderValue::from_static("http"));
    match headers.get(header::HOST).cloned() {
        Some(host) => headers.insert(X_FORWARDED_HOST.clone(), host),
        None => headers.remove(&X_FORWARDED_HOST),
    };
}

/// What the front door adds to `Via` (RFC 9110 §7.6.3) on the responses it passes
/// on; it also tells that a response really came through the front door.
pub const VIA: &str = "1.1 reflex-django";

/// Appends the front door to the response's `Via` chain.
pub(crate) fn add_via(headers: &mut HeaderMap) {
    headers.append(header::VIA, HeaderValue::from_static(VIA));
}

/// Whether a response passed through a reflex-django front door.
pub fn came_through_front_door(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::VIA)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|hop| hop.trim() == VIA))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (k, v) in pairs {
            headers.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        headers
    }

    #[test]
    fn strips_listed_and_named_hop_by_hop_headers() {
        let mut headers = map(&[
            ("connection", "keep-alive, X-Secret"),
            ("connection", "close"),
            ("keep-alive", "timeout=5"),
            ("x-secret", "1"),
            ("te", "trailers"),
            ("transfer-encoding", "chunked"),
            ("proxy-connection", "keep-alive"),
            ("upgrade", "h2c"),
            ("cookie", "a=b"),
        ]);
        // `Upgrade` without the `upgrade` token in `Connection` asks for nothing.
        assert_eq!(upgrade_of(&headers), None);
        strip_hop_by_hop(&mut headers, None);
        let left: Vec<_> = headers.keys().map(|k| k.as_str()).collect();
        assert_eq!(left, ["cookie"]);
    }

    #[test]
    fn an_upgrade_keeps_upgrade_and_connection() {
        let mut headers = map(&[
            ("connection", "keep-alive, Upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-protocol", "chat"),
        ]);
        let upgrade = upgrade_of(&headers);
        assert_eq!(upgrade, Some(HeaderValue::from_static("websocket")));
        strip_hop_by_hop(&mut headers, upgrade.as_ref());
        assert_eq!(headers["connection"], "upgrade");
        assert_eq!(headers["upgrade"], "websocket");
        assert_eq!(headers["sec-websocket-protocol"], "chat");
        assert_eq!(upgrade_of(&map(&[("upgrade", "websocket")])), None);
    }

    #[test]
    fn forwarded_headers() {
        let mut headers = map(&[
            ("host", "localhost:3000"),
            ("x-forwarded-for", "10.0.0.1"),
            ("x-forwarded-for", "10.0.0.2"),
            ("x-forwarded-proto", "https"),
        ]);
        add_forwarded(&mut headers, "127.0.0.1".parse().unwrap());
        assert_eq!(headers["x-forwarded-for"], "10.0.0.1, 10.0.0.2, 127.0.0.1");
        assert_eq!(headers["x-forwarded-proto"], "http");
        assert_eq!(headers["x-forwarded-host"], "localhost:3000");
        assert_eq!(headers["host"], "localhost:3000");
    }
}
