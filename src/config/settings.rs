//! Every setting of `reflex-django.yaml`: its section, type and default.
//!
//! Each section is declared once and becomes three types: the resolved values
//! (`Proxy`), one layer's contribution with every setting optional (`ProxyLayer`), and
//! the source of each resolved value (`ProxySources`). Layers are typed, so code that
//! sets or reads a setting names a field: a misspelt key is a compile error, not a
//! lookup that silently finds nothing.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Source;
use super::types::{Cidr, ConfigPrefix, Count, DjangoServer, Port, PublicUrl, Seconds, or_default};
use crate::prefix::Prefix;

/// A setting's key as written in the file: the field's name unless it is renamed.
macro_rules! key {
    ($field:ident) => {
        stringify!($field)
    };
    ($field:ident $rename:literal) => {
        $rename
    };
}

macro_rules! settings {
    (
        $(#[$meta:meta])*
        pub struct $name:ident, $layer:ident, $sources:ident {
            $(
                $(#[$field_meta:meta])*
                $field:ident $(as $rename:literal)? : $ty:ty = $default:expr
            ),* $(,)?
        }
        $( sections { $( $section:ident : $sec_ty:ident, $sec_layer:ident, $sec_sources:ident ),* $(,)? } )?
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Serialize)]
        pub struct $name {
            $( $(#[$field_meta])* $(#[serde(rename = $rename)])? pub $field: $ty, )*
            $($( pub $section: $sec_ty, )*)?
        }

        impl Default for $name {
            fn default() -> Self {
                $name {
                    $( $field: $default, )*
                    $($( $section: $sec_ty::default(), )*)?
                }
            }
        }

        #[doc = concat!("What one configuration layer sets of [`", stringify!($name), "`]; `None` where it says nothing.")]
        #[derive(Clone, Debug, Default, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $layer {
            $( $(#[serde(rename = $rename)])? pub $field: Option<$ty>, )*
            // An empty section (every line commented out) says nothing.
            $($( #[serde(deserialize_with = "or_default")] pub $section: $sec_layer, )*)?
        }

        #[doc = concat!("Where each value of [`", stringify!($name), "`] came from.")]
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $sources {
            $( pub $field: Source, )*
            $($( pub $section: $sec_sources, )*)?
        }

        impl Default for $sources {
            fn default() -> Self {
                $sources {
                    $( $field: Source::Default, )*
                    $($( $section: $sec_sources::default(), )*)?
                }
            }
        }

        impl $layer {
            /// Puts every value this layer sets into `config`, and `source` as its
            /// source into `sources`.
            pub fn apply(self, config: &mut $name, sources: &mut $sources, source: &Source) {
                $(
                    if let Some(value) = self.$field {
                        config.$field = value;
                        sources.$field = source.clone();
                    }
                )*
                $($( self.$section.apply(&mut config.$section, &mut sources.$section, source); )*)?
            }
        }

        impl $sources {
            /// Every setting's dotted path and source, in declaration order.
            pub(super) fn collect_at<'a>(&'a self, at: &str, out: &mut Vec<(String, &'a Source)>) {
                $( out.push((join(at, key!($field $($rename)?)), &self.$field)); )*
                $($( self.$section.collect_at(&join(at, stringify!($section)), out); )*)?
            }
        }
    };
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

settings! {
    pub struct Config, Layer, Sources {
        /// Django settings module, e.g. `backend.settings`.
        settings_module: Option<String> = None,
        /// Python interpreter of the project's environment.
        python: Option<PathBuf> = None,
        /// Environment file loaded for every child and forwarded command.
        env_file: PathBuf = PathBuf::from(".env"),
        /// The app's public origin in production (`https://example.com`), when it is
        /// not the front door itself: links in emails, the production audit's cookie
        /// and CSRF checks, and the backend address of a build made without the plugin.
        public_url: Option<PublicUrl> = None,
    }
    sections {
        prefixes: Prefixes, PrefixesLayer, PrefixesSources,
        proxy: Proxy, ProxyLayer, ProxySources,
        reflex: Reflex, ReflexLayer, ReflexSources,
        django: Django, DjangoLayer, DjangoSources,
        restart: Restart, RestartLayer, RestartSources,
        shutdown: Shutdown, ShutdownLayer, ShutdownSources,
        liveness: Liveness, LivenessLayer, LivenessSources,
        output: Output, OutputLayer, OutputSources,
    }
}

settings! {
    /// Path prefixes that go to Django; everything else goes to Reflex.
    pub struct Prefixes, PrefixesLayer, PrefixesSources {
        admin: ConfigPrefix = ConfigPrefix(Prefix::parse("/admin").expect("valid default")),
        /// Your own Django views, e.g. `/api`.
        backend: Option<ConfigPrefix> = None,
        extra: Vec<ConfigPrefix> = Vec::new(),
        /// Overrides the prefix taken from Django's `STATIC_URL`.
        static_ as "static": Option<ConfigPrefix> = None,
    }
}

settings! {
    /// The front door: the public address of the whole app.
    pub struct Proxy, ProxyLayer, ProxySources {
        host: String = "127.0.0.1".into(),
        port: Port = Port(8000),
        /// How long a request waits for a starting or restarting child.
        hold_timeout: Seconds = Seconds::from_secs(10),
        /// Addresses (CIDRs) of the proxies in front of the front door, e.g. a TLS
        /// terminator; only their `X-Forwarded-*` headers are believed.
        trusted_proxies: Vec<Cidr> = Vec::new(),
        /// How long a request may make no progress (the child neither reads more of
        /// its body nor starts its answer); then the browser gets `504`. WebSockets and
        /// streamed answers, once begun, are not limited.
        upstream_timeout: Seconds = Seconds::from_secs(60),
        /// A request body that stops arriving for this long is abandoned with `408`.
        body_timeout: Seconds = Seconds::from_secs(30),
    }
}

settings! {
    pub struct Reflex, ReflexLayer, ReflexSources {
        /// Port of Reflex's Vite dev server.
        frontend_port: Port = Port(3000),
        /// Internal port of the Reflex backend; a free one is picked when unset.
        backend_port: Option<Port> = None,
        /// How long Reflex may take to become ready (the first run installs packages).
        startup_timeout: Seconds = Seconds::from_secs(300),
    }
}

settings! {
    pub struct Django, DjangoLayer, DjangoSources {
        server: DjangoServer = DjangoServer::Auto,
        /// Internal port of the Django server; a free one is picked when unset.
        port: Option<Port> = None,
        /// ASGI application, e.g. `backend.asgi:application`; derived from the
        /// settings module when unset.
        asgi: Option<String> = None,
        /// Extra files or directories whose changes restart Django.
        watch: Vec<PathBuf> = Vec::new(),
        startup_timeout: Seconds = Seconds::from_secs(60),
        /// Worker processes of Django's server under `run --env prod`; the number of
        /// CPUs when unset.
        workers: Option<Count> = None,
    }
}

settings! {
    /// Restart policy for crashed children.
    pub struct Restart, RestartLayer, RestartSources {
        backoff_initial: Seconds = Seconds(Duration::from_millis(500)),
        backoff_max: Seconds = Seconds::from_secs(10),
        /// A child that stays up this long has its back-off reset.
        stable_after: Seconds = Seconds::from_secs(30),
        /// Give up after this many crashes within `crash_window`.
        max_crashes: u32 = 5,
        crash_window: Seconds = Seconds::from_secs(60),
    }
}

settings! {
    pub struct Shutdown, ShutdownLayer, ShutdownSources {
        /// Time between SIGTERM and SIGKILL; also the time requests in flight get to
        /// finish when the front door stops.
        grace: Seconds = Seconds::from_secs(5),
        /// How long the front door keeps accepting after a stop is asked, its health
        /// endpoint answering 503, so a load balancer stops sending first.
        drain_delay: Seconds = Seconds::from_secs(0),
    }
}

settings! {
    /// Checks that a ready child still answers: one that fails `failures` checks in a
    /// row (each allowed `timeout`) is hung, e.g. deadlocked or stopped, and is
    /// restarted. Never during start-up, which `startup_timeout` covers.
    pub struct Liveness, LivenessLayer, LivenessSources {
        /// Time between two checks.
        every: Seconds = Seconds::from_secs(10),
        timeout: Seconds = Seconds::from_secs(5),
        /// Failed checks in a row before a restart; 0 turns the checks off.
        failures: u32 = 3,
    }
}

settings! {
    /// What `run` shows of the children's output.
    pub struct Output, OutputLayer, OutputSources {
        /// Keep known noise off the screen: the access log of our own liveness checks,
        /// Reflex's `uv run reflex run` advice, its repeated Node.js warning.
        hide_noise: bool = true,
    }
}

impl Sources {
    /// Every setting's dotted path (`proxy.port`) and source.
    pub fn list(&self) -> Vec<(String, &Source)> {
        let mut out = Vec::new();
        self.collect_at("", &mut out);
        out
    }
}

/// The dotted path of every setting, in declaration order.
pub fn paths() -> Vec<String> {
    Sources::default()
        .list()
        .into_iter()
        .map(|(path, _)| path)
        .collect()
}
