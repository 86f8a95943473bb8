//! `reflex-django deploy`: the configuration of the engines that put several replicas
//! of `reflex-django run --env prod` behind one address — nginx, Docker Compose,
//! Kubernetes — made from the same route table as the front door.
//!
//! Generators are plain templates (`templates/deploy/`) rendered from a [`Site`]; what
//! they write is protected by [`protect`]: a generated file carries a digest of its
//! text, so a later run replaces it only while nobody has edited it (else `--force`).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Context, Error, Result};
use crate::proxy::routes::{INTERNAL_PREFIX, RouteTable, reflex_reserved};

/// The path of Reflex's event WebSocket (Socket.IO).
pub const EVENT_PATH: &str = "/_event";

/// What every generator needs to know about the deployment.
#[derive(Clone, Debug, Serialize)]
pub struct Site {
    /// The project's name, for services, images and Kubernetes objects.
    pub name: String,
    /// The port each replica's front door listens on.
    pub port: u16,
    /// Replicas (compose, Kubernetes).
    pub replicas: u32,
    /// The image the replicas run.
    pub image: String,
    /// nginx: the replicas' addresses (`host:port`).
    pub upstreams: Vec<String>,
    /// nginx: the port it listens on, and its `server_name`.
    pub listen: u16,
    pub server_name: String,
    /// Kubernetes: the host name of the Ingress, if any.
    pub host: Option<String>,
    /// nginx serves these files itself instead of asking a replica.
    pub files: Option<Files>,
    /// Whether the project installs from `requirements.txt` (else `pyproject.toml`).
    pub requirements: bool,
    /// Where the compose files go, relative to the project root (Dockerfile paths).
    pub out_dir: String,
    pub python_version: String,
}

/// Files nginx serves itself (`deploy nginx --serve-files`).
#[derive(Clone, Debug, Serialize)]
pub struct Files {
    /// Django's static prefix (no trailing slash) and `STATIC_ROOT`.
    pub static_prefix: String,
    pub static_root: PathBuf,
    /// The built frontend (`.web/build/client`).
    pub frontend_root: PathBuf,
    /// The paths that still go to the replicas: Django's prefixes (but the static
    /// one) and Reflex's backend paths (but the event WebSocket, which has its own
    /// location).
    pub proxied: Vec<String>,
}

impl Files {
    pub fn new(table: &RouteTable, static_root: PathBuf, frontend_root: PathBuf) -> Option<Files> {
        use crate::proxy::routes::RouteKind;
        let static_prefix = table
            .routes()
            .iter()
            .find(|r| r.kind == RouteKind::Static)?
            .prefix
            .to_string();
        let mut proxied: Vec<String> = table
            .routes()
            .iter()
            .filter(|r| r.kind != RouteKind::Static)
            .map(|r| r.prefix.to_string())
            .chain(
                reflex_reserved()
                    .iter()
                    .filter(|p| p.as_str() != EVENT_PATH)
                    .cloned(),
            )
            .collect();
        proxied.sort();
        proxied.dedup();
        Some(Files {
            static_prefix: static_prefix.trim_end_matches('/').to_string(),
            static_root,
            frontend_root,
            proxied,
        })
    }
}

/// One file a generator makes: where (relative to the output) and what.
#[derive(Debug, PartialEq)]
pub struct Generated {
    pub path: PathBuf,
    pub text: String,
}

pub fn nginx(site: &Site) -> Result<Vec<Generated>> {
    render(site, "nginx", |name| name == "nginx.conf.j2")
}

/// Every template at the top of `templates/deploy/`: the image, its stack, and the
/// nginx in front.
pub fn compose(site: &Site) -> Result<Vec<Generated>> {
    // nginx in compose reaches the replicas by their service names.
    let mut inner = site.clone();
    inner.upstreams = (1..=site.replicas)
        .map(|i| format!("app-{i}:{}", site.port))
        .collect();
    inner.listen = 80;
    inner.files = None;
    render(&inner, "compose", |name| !name.contains('/'))
}

/// Every template under `templates/deploy/k8s/`.
pub fn k8s(site: &Site) -> Result<Vec<Generated>> {
    render(site, "k8s", |name| name.starts_with("k8s/"))
}

#[derive(Serialize)]
struct Values<'a> {
    #[serde(flatten)]
    site: &'a Site,
    upstream_name: String,
    health_path: String,
    event_path: &'static str,
    event_timeout: u32,
    body_size: &'static str,
}

/// The files of the templates of `templates/deploy/` (embedded by build.rs) that
/// `wanted` picks by name; each file is named as its template without the directory
/// and `.j2`, and they come in the order of these names.
fn render(site: &Site, kind: &str, wanted: impl Fn(&str) -> bool) -> Result<Vec<Generated>> {
    let mut env = crate::scaffold::environment();
    minijinja_embed::load_templates!(&mut env, "deploy");
    let context = Values {
        site,
        upstream_name: site.name.replace('-', "_"),
        health_path: format!("{INTERNAL_PREFIX}/health"),
        event_path: EVENT_PATH,
        // An idle event socket is kept an hour; Socket.IO pings long before that.
        event_timeout: 3600,
        body_size: "100m",
    };
    let context = minijinja::Value::from(minijinja::value::Serde(&context));
    let mut files = env
        .templates()
        .filter(|(name, _)| wanted(name))
        .map(|(name, template)| {
            let text = template
                .render(&context)
                .with_context(|| format!("cannot render the {kind} template {name}"))?;
            let file = name.rsplit('/').next().unwrap_or(name);
            Ok(Generated {
                path: PathBuf::from(file.strip_suffix(".j2").unwrap_or(file)),
                text: protect(kind, &text),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The first line of a generated file: what made it, and a digest of the rest, so
/// that an edit can be told from our own text.
fn marker(kind: &str, body: &str) -> String {
    format!(
        "# Made by `reflex-django deploy {kind}` (reflex-django {}); edit freely: once edited, \
         it is only replaced with --force. digest:{:016x}\n",
        env!("CARGO_PKG_VERSION"),
        crate::hash::fnv1a(body.as_bytes())
    )
}

/// `body` with its marker line on top.
pub fn protect(kind: &str, body: &str) -> String {
    // Dockerfile parser directives must stay first: the marker goes after them.
    if let Some(rest) = body.strip_prefix("# syntax=")
        && let Some((directive, rest)) = rest.split_once('\n')
    {
        return format!("# syntax={directive}\n{}{rest}", marker(kind, rest));
    }
    format!("{}{body}", marker(kind, body))
}

/// Whether `text` is a file we generated and nobody has changed since.
pub fn untouched(text: &str) -> bool {
    let text = match text.strip_prefix("# syntax=") {
        Some(rest) => match rest.split_once('\n') {
            Some((_, rest)) => rest,
            None => return false,
        },
        None => text,
    };
    let Some((first, body)) = text.split_once('\n') else {
        return false;
    };
    first
        .strip_prefix("# Made by `reflex-django deploy ")
        .and_then(|rest| rest.rsplit_once("digest:"))
        .is_some_and(|(_, digest)| {
            digest == format!("{:016x}", crate::hash::fnv1a(body.as_bytes()))
        })
}

/// What writing the files did, for the report.
#[derive(Debug, Default)]
pub struct Written {
    pub created: Vec<PathBuf>,
    pub replaced: Vec<PathBuf>,
    pub unchanged: Vec<PathBuf>,
}

/// Writes `files` under `dir`, atomically. A file that exists is replaced only if it
/// is one we generated and nobody edited (or with `force`); all are checked before any
/// is written, so a refusal leaves everything as it was.
pub fn write(dir: &Path, files: &[Generated], force: bool) -> Result<Written> {
    let mut written = Written::default();
    let mut plan = Vec::new();
    for file in files {
        let path = dir.join(&file.path);
        match std::fs::read_to_string(&path) {
            Ok(existing) if existing == file.text => written.unchanged.push(path),
            Ok(existing) if force || untouched(&existing) => plan.push((path, file, true)),
            Ok(_) => {
                return Err(Error::new(format!(
                    "{} was edited since reflex-django made it",
                    path.display()
                ))
                .hint(
                    "keep your version (write the new files elsewhere with --out), or pass \
                     --force to replace it (your edits are lost)",
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => plan.push((path, file, false)),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData && force => {
                plan.push((path, file, true))
            }
            Err(e) => {
                return Err(Error::new(format!("cannot read {}", path.display()))
                    .cause(e)
                    .hint("pass --force to replace it, or choose another --out"));
            }
        }
    }
    for (path, file, existed) in plan {
        crate::atomic::write(&path, file.text.as_bytes(), 0o644)?;
        if existed {
            written.replaced.push(path);
        } else {
            written.created.push(path);
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests;
