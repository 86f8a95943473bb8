//! Header rules of a forwarding proxy: hop-by-hop headers stay on their hop, the
//! browser's `Host` is kept, and `X-Forwarded-*` tell the upstream who asked.

use std::net::IpAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use ipnet::IpNet;

/// Hop-by-hop fields (RFC 9110 §7.6.1), on top of those the `Connection` header names.
const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    HeaderName::from_static("proxy-connection"),
    HeaderName::from_static("keep-alive"),
    header::TE,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// The header that carries the front door's key to Django (see
/// [`FrontDoor::django_key`](super::FrontDoor::django_key)); never taken from a client.
pub const FRONT_DOOR_KEY: &str = "x-reflex-django-front-door";
/// [`FRONT_DOOR_KEY`] as a header name, parsed once (it is on every request's path).
pub(crate) static FRONT_DOOR_KEY_HEADER: HeaderName = HeaderName::from_static(FRONT_DOOR_KEY);

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// Headers a client could send to pose as its own proxy; dropped unless the peer is a
/// trusted proxy.
const UNTRUSTED_FROM_CLIENTS: [HeaderName; 4] = [
    header::FORWARDED,
    HeaderName::from_static("x-real-ip"),
    HeaderName::from_static("x-forwarded-port"),
    HeaderName::from_static("x-forwarded-prefix"),
];

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

/// Tells the child who asked: `X-Forwarded-For` (the client's address alone),
/// `X-Forwarded-Proto` and `X-Forwarded-Host`, replacing whatever the request carried.
///
/// The request's own `X-Forwarded-*` are believed only when `peer` is one of the
/// `trusted` proxies (a TLS terminator, a load balancer): then the client is the
/// right-most address of the chain that is not a trusted proxy itself. From anyone
/// else they are lies a client may tell, so the peer is the client and the scheme is
/// plain HTTP. The children trust the front door, so they see one resolved answer
/// and need no list of proxies of their own. `Host` is left alone: Django's CSRF
/// check compares the browser's `Origin` with it.
pub(crate) fn set_forwarded(headers: &mut HeaderMap, peer: IpAddr, trusted: &[IpNet]) {
    let peer = canonical(peer);
    let believed = is_trusted(peer, trusted);
    // The right-most value is the one the nearest (trusted) proxy added; a proxy that
    // appends instead of replacing leaves the client's own claims to its left.
    let nearest = |name: &HeaderName| -> Option<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| !v.is_empty())
            .map(str::to_string)
    };
    let mut client = peer;
    let mut https = false;
    let mut host = None;
    if believed {
        let chain: Vec<&str> = headers
            .get_all(&X_FORWARDED_FOR)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        for hop in chain.iter().rev() {
            let Some(ip) = parse_hop(hop) else { break };
            client = ip;
            if !is_trusted(ip, trusted) {
                break;
            }
        }
        https = nearest(&X_FORWARDED_PROTO).is_some_and(|p| p.eq_ignore_ascii_case("https"));
        host = nearest(&X_FORWARDED_HOST).and_then(|h| HeaderValue::try_from(h).ok());
    } else {
        // Other ways of saying who asked, equally untrustworthy from a client.
        for name in UNTRUSTED_FROM_CLIENTS {
            headers.remove(name);
        }
    }
    headers.insert(
        X_FORWARDED_FOR.clone(),
        HeaderValue::try_from(client.to_string()).expect("an address is a valid header"),
    );
    headers.insert(
        X_FORWARDED_PROTO.clone(),
        HeaderValue::from_static(if https { "https" } else { "http" }),
    );
    match host.or_else(|| headers.get(header::HOST).cloned()) {
        Some(host) => headers.insert(X_FORWARDED_HOST.clone(), host),
        None => headers.remove(&X_FORWARDED_HOST),
    };
}

/// An address of an `X-Forwarded-For` chain: `1.2.3.4`, `1.2.3.4:5678`, `[::1]:80`,
/// `::1`. `None` for anything else (`unknown`, an obfuscated name).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    hop.parse::<std::net::SocketAddr>()
        .ok()
        .map(|s| canonical(s.ip()))
}

/// IPv4 peers of a dual-stack socket arrive as `::ffff:a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
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

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn forwarded_headers_from_an_untrusted_peer_are_replaced() {
        let mut headers = map(&[
            ("host", "localhost:3000"),
            ("x-forwarded-for", "10.0.0.1"),
            ("x-forwarded-for", "10.0.0.2"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "evil.test"),
            ("forwarded", "for=10.0.0.1;proto=https"),
            ("x-real-ip", "10.0.0.1"),
            ("x-forwarded-port", "443"),
        ]);
        set_forwarded(&mut headers, "127.0.0.1".parse().unwrap(), &[]);
        for gone in ["forwarded", "x-real-ip", "x-forwarded-port"] {
            assert!(!headers.contains_key(gone), "{gone}");
        }
        assert_eq!(headers["x-forwarded-for"], "127.0.0.1");
        assert_eq!(headers["x-forwarded-proto"], "http");
        assert_eq!(headers["x-forwarded-host"], "localhost:3000");
        assert_eq!(headers["host"], "localhost:3000");
    }

    #[test]
    fn a_trusted_proxy_is_believed_up_to_the_first_untrusted_hop() {
        let trusted = nets(&["10.0.0.0/8"]);
        let mut headers = map(&[
            ("host", "example.com"),
            // A client-made entry, the real client, then a trusted inner proxy.
            ("x-forwarded-for", "6.6.6.6, 203.0.113.7"),
            ("x-forwarded-for", "10.1.1.1"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "example.com"),
        ]);
        set_forwarded(&mut headers, "10.0.0.5".parse().unwrap(), &trusted);
        assert_eq!(headers["x-forwarded-for"], "203.0.113.7");
        assert_eq!(headers["x-forwarded-proto"], "https");
        assert_eq!(headers["x-forwarded-host"], "example.com");

        // The same headers from a peer outside the list are not believed.
        let mut spoofed = map(&[
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-proto", "https"),
        ]);
        set_forwarded(&mut spoofed, "198.51.100.9".parse().unwrap(), &trusted);
        assert_eq!(spoofed["x-forwarded-for"], "198.51.100.9");
        assert_eq!(spoofed["x-forwarded-proto"], "http");

        // A dual-stack socket reports IPv4 peers as mapped IPv6 addresses.
        let mut mapped = map(&[("x-forwarded-for", "[2001:db8::1]:443")]);
        set_forwarded(&mut mapped, "::ffff:10.0.0.5".parse().unwrap(), &trusted);
        assert_eq!(mapped["x-forwarded-for"], "2001:db8::1");
        // A trusted proxy that appends: the client's own claim on the left loses.
        let mut appended = map(&[
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-proto", "https, http"),
        ]);
        set_forwarded(&mut appended, "10.0.0.5".parse().unwrap(), &trusted);
        assert_eq!(appended["x-forwarded-proto"], "http");
        // A trusted proxy that sends no chain is itself the client.
        let mut bare = HeaderMap::new();
        set_forwarded(&mut bare, "10.0.0.5".parse().unwrap(), &trusted);
        assert_eq!(bare["x-forwarded-for"], "10.0.0.5");
    }
}
