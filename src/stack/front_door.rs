//! The front door as `run` serves the stack: the children's internal addresses and
//! states, who answers the pages, and the configuration's limits and trusted proxies.

use std::net::SocketAddr;

use tokio::sync::watch;

use crate::error::{Context, Result};
use crate::proxy::{ChildState, FrontDoor, Frontend, HeaderValue, Limits, Pages, Upstream};

use super::Stack;

/// The states of the two children, as the front door reads them.
pub struct States {
    pub django: watch::Receiver<ChildState>,
    pub reflex: watch::Receiver<ChildState>,
}

/// The built frontend (production), opened before anything starts: a broken build is
/// an error, not a half-started run.
pub fn open_build(stack: &Stack) -> Result<Option<Frontend>> {
    let Some(build) = &stack.build else {
        return Ok(None);
    };
    let dir = stack.project.root.join(crate::build::FRONTEND_DIR);
    Frontend::new(&dir, &build.routes)
        .with_context(|| format!("cannot open the built frontend in {}", dir.display()))
        .map(Some)
}

/// The front door of `stack`; `django_key` is shared with Django only (it believes
/// forwarded headers from the front door alone).
pub fn plan(stack: &Stack, states: States, built: Option<Frontend>, django_key: &str) -> FrontDoor {
    let config = &stack.resolved.config;
    let local = |port| SocketAddr::from(([127, 0, 0, 1], port));
    let pages = match (built, stack.ports.frontend) {
        // Pages come from the build, served from disk.
        (Some(frontend), _) => Pages::Built(frontend),
        // Pages come from Reflex's dev server, so the front door serves the whole app.
        (None, Some(frontend)) => Pages::DevServer(Upstream::new(
            "reflex",
            local(frontend),
            states.reflex.clone(),
        )),
        (None, None) => Pages::Backend,
    };
    FrontDoor {
        table: stack.table.clone(),
        django: Upstream::new("django", local(stack.ports.django), states.django),
        reflex: Upstream::new("reflex", local(stack.ports.reflex_backend), states.reflex),
        pages,
        hold_timeout: config.proxy.hold_timeout.0,
        trusted_proxies: config.proxy.trusted_proxies.iter().map(|c| c.0).collect(),
        public_host: public_host(stack),
        django_key: HeaderValue::try_from(django_key).ok(),
        limits: Limits {
            upstream_timeout: config.proxy.upstream_timeout.0,
            body_idle_timeout: config.proxy.body_timeout.0,
            drain_delay: config.shutdown.drain_delay.0,
            shutdown_grace: config.shutdown.grace.0,
            ..Limits::default()
        },
    }
}

/// The authority of the app's public address (`localhost:8000`, `example.com`).
fn public_host(stack: &Stack) -> HeaderValue {
    let url = stack.app_url();
    let authority = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    HeaderValue::from_str(authority.trim_end_matches('/'))
        .unwrap_or_else(|_| HeaderValue::from_static("localhost"))
}
