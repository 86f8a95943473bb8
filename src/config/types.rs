//! The `reflex-django.yaml` schema: every setting, its type and its default.
//!
//! Every struct denies unknown keys and fills missing ones with defaults, so the same
//! types validate each configuration layer on its own and hold the merged result.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::prefix::Prefix;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Django settings module, e.g. `backend.settings`.
    pub settings_module: Option<String>,
    /// Python interpreter of the project's environment.
    pub python: Option<PathBuf>,
    /// Environment file loaded for every child and forwarded command.
    pub env_file: PathBuf,
    /// The app's public origin in production (`https://example.com`), when it is not
    /// the front door itself: links in emails, the production audit's cookie and CSRF
    /// checks, and the backend address of a build made without the plugin.
    pub public_url: Option<PublicUrl>,
    #[serde(deserialize_with = "or_default")]
    pub prefixes: Prefixes,
    #[serde(deserialize_with = "or_default")]
    pub proxy: Proxy,
    #[serde(deserialize_with = "or_default")]
    pub reflex: Reflex,
    #[serde(deserialize_with = "or_default")]
    pub django: Django,
    #[serde(deserialize_with = "or_default")]
    pub restart: Restart,
    #[serde(deserialize_with = "or_default")]
    pub shutdown: Shutdown,
    #[serde(deserialize_with = "or_default")]
    pub liveness: Liveness,
    #[serde(deserialize_with = "or_default")]
    pub output: Output,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            settings_module: None,
            python: None,
            env_file: PathBuf::from(".env"),
            public_url: None,
            prefixes: Prefixes::default(),
            proxy: Proxy::default(),
            reflex: Reflex::default(),
            django: Django::default(),
            restart: Restart::default(),
            shutdown: Shutdown::default(),
            liveness: Liveness::default(),
            output: Output::default(),
        }
    }
}

/// Path prefixes that go to Django; everything else goes to Reflex.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Prefixes {
    pub admin: ConfigPrefix,
    /// Your own Django views, e.g. `/api`.
    pub backend: Option<ConfigPrefix>,
    #[serde(deserialize_with = "or_default")]
    pub extra: Vec<ConfigPrefix>,
    /// Overrides the prefix taken from Django's `STATIC_URL`.
    #[serde(rename = "static")]
    pub static_: Option<ConfigPrefix>,
}

impl Default for Prefixes {
    fn default() -> Self {
        Prefixes {
            admin: ConfigPrefix(Prefix::parse("/admin").expect("valid default")),
            backend: None,
            extra: Vec::new(),
            static_: None,
        }
    }
}

/// The front door: the public address of the whole app.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Proxy {
    pub host: String,
    pub port: Port,
    /// How long a request waits for a starting or restarting child.
    pub hold_timeout: Seconds,
    /// Addresses (CIDRs) of the proxies in front of the front door, e.g. a TLS
    /// terminator; only their `X-Forwarded-*` headers are believed.
    #[serde(deserialize_with = "or_default")]
    pub trusted_proxies: Vec<Cidr>,
    /// How long a request may make no progress (the child neither reads more of its
    /// body nor starts its answer); then the browser gets `504`. WebSockets and
    /// streamed answers, once begun, are not limited.
    pub upstream_timeout: Seconds,
    /// A request body that stops arriving for this long is abandoned with `408`.
    pub body_timeout: Seconds,
}

impl Default for Proxy {
    fn default() -> Self {
        Proxy {
            host: "127.0.0.1".into(),
            port: Port(8000),
            hold_timeout: Seconds::from_secs(10),
            trusted_proxies: Vec::new(),
            upstream_timeout: Seconds::from_secs(60),
            body_timeout: Seconds::from_secs(30),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Reflex {
    /// Port of Reflex's Vite dev server.
    pub frontend_port: Port,
    /// Internal port of the Reflex backend; a free one is picked when unset.
    pub backend_port: Option<Port>,
    /// How long Reflex may take to become ready (the first run installs packages).
    pub startup_timeout: Seconds,
}

impl Default for Reflex {
    fn default() -> Self {
        Reflex {
            frontend_port: Port(3000),
            backend_port: None,
            startup_timeout: Seconds::from_secs(300),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Django {
    pub server: DjangoServer,
    /// Internal port of the Django server; a free one is picked when unset.
    pub port: Option<Port>,
    /// ASGI application, e.g. `backend.asgi:application`; derived from the settings
    /// module when unset.
    pub asgi: Option<String>,
    /// Extra files or directories whose changes restart Django.
    #[serde(deserialize_with = "or_default")]
    pub watch: Vec<PathBuf>,
    pub startup_timeout: Seconds,
    /// Worker processes of Django's server under `run --env prod`; the number of CPUs
    /// when unset.
    pub workers: Option<Count>,
}

impl Default for Django {
    fn default() -> Self {
        Django {
            server: DjangoServer::Auto,
            port: None,
            asgi: None,
            watch: Vec::new(),
            startup_timeout: Seconds::from_secs(60),
            workers: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DjangoServer {
    /// uvicorn when installed, else granian.
    Auto,
    Uvicorn,
    Granian,
    Runserver,
}

/// Restart policy for crashed children.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Restart {
    pub backoff_initial: Seconds,
    pub backoff_max: Seconds,
    /// A child that stays up this long has its back-off reset.
    pub stable_after: Seconds,
    /// Give up after this many crashes within `crash_window`.
    pub max_crashes: u32,
    pub crash_window: Seconds,
}

impl Default for Restart {
    fn default() -> Self {
        Restart {
            backoff_initial: Seconds(Duration::from_millis(500)),
            backoff_max: Seconds::from_secs(10),
            stable_after: Seconds::from_secs(30),
            max_crashes: 5,
            crash_window: Seconds::from_secs(60),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Shutdown {
    /// Time between SIGTERM and SIGKILL; also the time requests in flight get to
    /// finish when the front door stops.
    pub grace: Seconds,
    /// How long the front door keeps accepting after a stop is asked, its health
    /// endpoint answering 503, so a load balancer stops sending first.
    pub drain_delay: Seconds,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            grace: Seconds::from_secs(5),
            drain_delay: Seconds::from_secs(0),
        }
    }
}

/// Checks that a ready child still answers: one that fails `failures` checks in a row
/// (each allowed `timeout`) is hung, e.g. deadlocked or stopped, and is restarted.
/// Never during start-up, which `startup_timeout` covers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Liveness {
    /// Time between two checks.
    pub every: Seconds,
    pub timeout: Seconds,
    /// Failed checks in a row before a restart; 0 turns the checks off.
    pub failures: u32,
}

impl Default for Liveness {
    fn default() -> Self {
        Liveness {
            every: Seconds::from_secs(10),
            timeout: Seconds::from_secs(5),
            failures: 3,
        }
    }
}

/// What `run` shows of the children's output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Output {
    /// Keep known noise off the screen: the access log of our own liveness checks,
    /// Reflex's `uv run reflex run` advice, its repeated Node.js warning.
    pub hide_noise: bool,
}

impl Default for Output {
    fn default() -> Self {
        Output { hide_noise: true }
    }
}

/// An empty section or list (`proxy:` with every line commented out) means "defaults".
fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
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
        if ms % 1000 == 0 {
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
        let value = serde_json::to_value(Config::default()).unwrap();
        let back: Config = serde_json::from_value(value).unwrap();
        assert_eq!(back, Config::default());
    }
}
