//! The value types of settings: each parses what users write (in the file, the
//! environment or a flag) and says what it expected when it cannot.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::prefix::Prefix;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DjangoServer {
    /// uvicorn when installed, else granian.
    Auto,
    Uvicorn,
    Granian,
    Runserver,
}

/// An empty section or list (`proxy:` with every line commented out) means "defaults".
pub(super) fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A TCP port, 1–65535.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Port(pub u16);

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        positive(d, "a port number from 1 to 65535").map(Port)
    }
}

/// A whole number from 1 to `T::MAX`, written as a number or a numeric string (env
/// variables are strings).
fn positive<'de, D, T>(d: D, expecting: &'static str) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    struct V<T>(&'static str, std::marker::PhantomData<T>);
    impl<T: TryFrom<u64>> Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            match T::try_from(v) {
                Ok(n) if v > 0 => Ok(n),
                _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
            }
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            match u64::try_from(v) {
                Ok(v) => self.visit_u64(v),
                Err(_) => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            match v.trim().parse::<u64>() {
                Ok(n) => self.visit_u64(n),
                Err(_) => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
            }
        }
    }
    d.deserialize_any(V(expecting, std::marker::PhantomData))
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A path prefix as written in configuration, validated by the prefix rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ConfigPrefix(pub Prefix);

impl<'de> Deserialize<'de> for ConfigPrefix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Prefix::parse(&raw)
            .map(ConfigPrefix)
            // The hint travels inside the message; the loader splits it off again.
            .map_err(|e| de::Error::custom(format!("{e}{HINT_MARK}{}", e.hint())))
    }
}

/// A count of at least one (workers), written as a number or a numeric string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Count(pub u32);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        positive(d, "a whole number of at least 1").map(Count)
    }
}

/// An address range in CIDR notation (`10.0.0.0/8`, `::1/128`); a bare address is a
/// range of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr(pub ipnet::IpNet);

impl Cidr {
    pub fn parse(text: &str) -> Option<Cidr> {
        let text = text.trim();
        text.parse::<ipnet::IpNet>()
            .ok()
            .or_else(|| {
                text.parse::<std::net::IpAddr>()
                    .ok()
                    .map(ipnet::IpNet::from)
            })
            .map(|net| Cidr(net.trunc()))
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        // An IPv4 peer on a dual-stack socket shows up as ::ffff:a.b.c.d.
        let ip = match ip {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
            v4 => v4,
        };
        self.0.contains(&ip)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Cidr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Cidr::parse(&raw).ok_or_else(|| {
            de::Error::custom(format!(
                "`{raw}` is not an address or a CIDR range{HINT_MARK}write an address \
                 (`10.0.0.5`) or a range (`10.0.0.0/8`, `fd00::/8`)"
            ))
        })
    }
}

/// The public origin of the app: `http(s)://host[:port]`, without a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl {
    pub secure: bool,
    /// `host[:port]` as written.
    pub authority: String,
}

impl PublicUrl {
    pub fn parse(text: &str) -> Result<PublicUrl, String> {
        let text = text.trim().trim_end_matches('/');
        let uri: http::Uri = text.parse().map_err(|_| format!("`{text}` is not a URL"))?;
        let secure = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(format!("`{text}` must start with https:// or http://")),
        };
        let authority = uri
            .authority()
            .filter(|a| !a.host().is_empty())
            .ok_or_else(|| format!("`{text}` has no host name"))?
            .as_str()
            .to_ascii_lowercase();
        if authority.contains('@') {
            return Err(format!("`{text}` must not carry a user name"));
        }
        if uri.path_and_query().is_some_and(|p| p.as_str() != "/") {
            return Err(format!(
                "`{text}` has a path; the app is served from the root of its origin"
            ));
        }
        Ok(PublicUrl { secure, authority })
    }

    /// `https://example.com`, as browsers send it in `Origin`.
    pub fn origin(&self) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        format!("{scheme}://{}", self.authority)
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin())
    }
}

impl Serialize for PublicUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PublicUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        PublicUrl::parse(&raw).map_err(|problem| {
            de::Error::custom(format!(
                "{problem}{HINT_MARK}write the origin users type, e.g. `https://example.com`"
            ))
        })
    }
}

/// Separates a message from its hint inside serde's string-only custom errors.
pub(crate) const HINT_MARK: &str = "\u{1f}hint:";

/// A duration written as seconds (`5`, `0.5`) or with a unit (`500ms`, `5s`, `2m`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seconds(pub Duration);

impl Seconds {
    pub const fn from_secs(s: u64) -> Self {
        Seconds(Duration::from_secs(s))
    }

    pub fn parse(text: &str) -> Option<Seconds> {
        let text = text.trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: f64 = number.parse().ok()?;
        let scale = match unit.trim() {
            "" | "s" | "sec" | "secs" => 1.0,
            "ms" => 0.001,
            "m" | "min" => 60.0,
            _ => return None,
        };
        Duration::try_from_secs_f64(number * scale)
            .ok()
            .map(Seconds)
    }
}

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms.is_multiple_of(1000) {
            write!(f, "{}s", ms / 1000)
        } else {
            write!(f, "{ms}ms")
        }
    }
}

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Seconds;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as `5s`, `500ms` or a number of seconds")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seconds, E> {
                Ok(Seconds::from_secs(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seconds, E> {
                u64::try_from(v)
                    .map(Seconds::from_secs)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Seconds, E> {
                Duration::try_from_secs_f64(v)
                    .map(Seconds)
                    .map_err(|_| E::invalid_value(de::Unexpected::Float(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Seconds, E> {
                Seconds::parse(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_and_without_units() {
        assert_eq!(Seconds::parse("5"), Some(Seconds::from_secs(5)));
        assert_eq!(Seconds::parse("5s"), Some(Seconds::from_secs(5)));
        assert_eq!(
            Seconds::parse("500ms"),
            Some(Seconds(Duration::from_millis(500)))
        );
        assert_eq!(Seconds::parse("2m"), Some(Seconds::from_secs(120)));
        assert_eq!(
            Seconds::parse("0.25"),
            Some(Seconds(Duration::from_millis(250)))
        );
        assert_eq!(Seconds::parse("soon"), None);
        assert_eq!(Seconds::parse("5h"), None);
    }

    #[test]
    fn durations_round_trip_through_display() {
        for s in ["500ms", "5s", "60s"] {
            assert_eq!(Seconds::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn cidrs_and_bare_addresses() {
        let net = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.9.9.9".parse().unwrap()));
        let one = Cidr::parse(" 192.168.1.5 ").unwrap();
        assert_eq!(one.to_string(), "192.168.1.5/32");
        assert!(
            Cidr::parse("fd00::/8")
                .unwrap()
                .contains("fd12::1".parse().unwrap())
        );
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
        assert_eq!(Cidr::parse("proxy.local"), None);
    }

    #[test]
    fn public_urls() {
        let url = PublicUrl::parse("https://Example.com/").unwrap();
        assert!(url.secure);
        assert_eq!(url.origin(), "https://example.com");
        assert_eq!(
            PublicUrl::parse("http://localhost:8000").unwrap().origin(),
            "http://localhost:8000"
        );
        for bad in ["example.com", "ftp://x", "https://x/app", "https://"] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_survive_a_round_trip() {
        use super::super::settings::{Config, Layer, Sources};
        // Every value type reads back what it writes.
        let value = serde_json::to_value(Config::default()).unwrap();
        let layer: Layer = serde_json::from_value(value).unwrap();
        let mut config = Config::default();
        config.proxy.port = Port(1);
        layer.apply(
            &mut config,
            &mut Sources::default(),
            &super::super::Source::File,
        );
        assert_eq!(config, Config::default());
    }
}
