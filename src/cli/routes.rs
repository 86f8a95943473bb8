//! `reflex-django routes [--json]`: the routing table, the URLs, and where every
//! setting came from.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;
use serde_json::{Value, json};

use super::GlobalArgs;
use crate::config::{Resolved, Source};
use crate::error::Result;
use crate::project::Project;
use crate::proxy::routes::{Prefix, RouteTable};
use crate::stack::static_prefix;

#[derive(Debug, Args)]
pub struct RoutesArgs {
    /// Print the table as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct RouteRow {
    prefix: String,
    target: &'static str,
    kind: crate::proxy::routes::RouteKind,
    source: Source,
}

pub fn run(global: &GlobalArgs, args: RoutesArgs) -> Result<ExitCode> {
    let (project, resolved) = global.load(Vec::new())?;
    // A running `run` knows the real internal ports and Django's static prefix.
    let live = crate::stack::live::read(&project.root);
    let (static_prefix, notes) = match live.as_ref().map(|l| l.static_prefix.as_deref()) {
        Some(Some(p)) => (
            Prefix::parse(p).ok().map(|p| {
                let source = Source::Django {
                    setting: "STATIC_URL".into(),
                };
                (p, source)
            }),
            Vec::new(),
        ),
        Some(None) => (None, Vec::new()),
        None => static_prefix_or_note(&project, &resolved),
    };
    let table = RouteTable::from_config(
        &resolved.config.prefixes,
        static_prefix.as_ref().map(|(p, _)| p.clone()),
    );
    let rows: Vec<RouteRow> = table
        .routes()
        .iter()
        .map(|route| {
            use crate::proxy::routes::RouteKind::*;
            let source = match route.kind {
                Admin => resolved.sources.prefixes.admin.clone(),
                Backend => resolved.sources.prefixes.backend.clone(),
                Extra => resolved.sources.prefixes.extra.clone(),
                Static => static_prefix
                    .as_ref()
                    .map_or(Source::Default, |(_, s)| s.clone()),
                Internal => Source::Default,
            };
            RouteRow {
                prefix: route.prefix.to_string(),
                target: "django",
                kind: route.kind,
                source,
            }
        })
        .collect();
    let config = &resolved.config;
    let (proxy_port, frontend_port) = match &live {
        Some(l) => (l.proxy, l.frontend),
        None => (config.proxy.port.0, Some(config.reflex.frontend_port.0)),
    };
    let front_door = format!("http://{}:{proxy_port}", config.proxy.host);
    // A production run serves the whole app from the front door.
    let app = match frontend_port {
        Some(port) => format!("http://localhost:{port}"),
        None => front_door.clone(),
    };
    let settings: Vec<(String, Value, Source)> = settings_rows(&resolved);
    let server_setting = serde_json::to_value(config.django.server)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let (django_port, reflex_port, server) = match &live {
        Some(l) => (
            Some(l.django),
            Some(l.reflex_backend),
            l.django_server.clone(),
        ),
        None => (
            config.django.port.map(|p| p.0),
            config.reflex.backend_port.map(|p| p.0),
            server_setting,
        ),
    };

    let mut out = anstream::stdout().lock();
    if args.json {
        let settings: serde_json::Map<String, Value> = settings
            .into_iter()
            .map(|(path, value, source)| (path, json!({"value": value, "source": source})))
            .collect();
        let doc = json!({
            "project": project.root,
            "routes": rows,
            "fallback": "reflex",
            "public": {"app": app, "front_door": front_door},
            "internal": {
                "django": {"host": "127.0.0.1", "port": django_port, "server": server},
                "reflex": {"host": "127.0.0.1", "port": reflex_port},
            },
            "live": live.as_ref().map(|l| json!({"pid": l.pid})),
            "settings": settings,
            "notes": notes,
        });
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&doc).expect("serializable")
        );
        return Ok(ExitCode::SUCCESS);
    }

    let _ = writeln!(out, "Project  {}\n", project.root.display());
    let _ = writeln!(
        out,
        "Routes (first match wins; prefixes match whole path segments)"
    );
    for row in &rows {
        let _ = writeln!(
            out,
            "  {:<20} → {:<7} {:<9} {}",
            row.prefix,
            row.target,
            format!("{:?}", row.kind).to_lowercase(),
            row.source
        );
    }
    let _ = writeln!(
        out,
        "  {:<20} → {:<7} pages, /_event WebSocket, /_upload, /ping",
        "everything else", "reflex"
    );
    let _ = writeln!(out, "\nPublic URLs");
    let what = match frontend_port {
        Some(_) => "Reflex dev server; Django prefixes go through the front door",
        None => "production: the front door serves the built frontend",
    };
    let _ = writeln!(out, "  {:<11} {:<28} {what}", "app", app);
    let _ = writeln!(out, "  {:<11} {front_door}", "front door");
    match &live {
        Some(l) => {
            let _ = writeln!(
                out,
                "\nInternal targets (live: `run` is serving, pid {})",
                l.pid
            );
        }
        None => {
            let _ = writeln!(out, "\nInternal targets (127.0.0.1)");
        }
    }
    let port = |p: Option<u16>| {
        p.map_or("a free port, picked at start".to_string(), |p| {
            format!("127.0.0.1:{p}")
        })
    };
    let _ = writeln!(out, "  {:<11} {:<28} {server}", "django", port(django_port));
    let _ = writeln!(out, "  {:<11} {}", "reflex", port(reflex_port));
    let _ = writeln!(out, "\nSettings");
    for (path, value, source) in &settings {
        let _ = writeln!(
            out,
            "  {:<26} {:<28} {}",
            path,
            display_value(value),
            source
        );
    }
    for note in &notes {
        let _ = writeln!(out, "\nnote: {note}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The static prefix and its source ([`static_prefix::find`]); a problem becomes a note
/// instead of a failure.
fn static_prefix_or_note(
    project: &Project,
    resolved: &Resolved,
) -> (Option<(Prefix, Source)>, Vec<String>) {
    match static_prefix::find(project, resolved) {
        Ok(found) => (found, Vec::new()),
        Err(e) => {
            let mut text = format!("the static prefix is unknown: {}", e.message());
            if let Some(h) = e.hint_text() {
                text.push_str(&format!(" (hint: {h})"));
            }
            (None, vec![text])
        }
    }
}

fn settings_rows(resolved: &Resolved) -> Vec<(String, Value, Source)> {
    let tree = serde_json::to_value(&resolved.config).expect("config serializes");
    resolved
        .sources
        .list()
        .into_iter()
        .map(|(path, source)| {
            let value = path
                .split('.')
                .try_fold(&tree, |node, key| node.get(key))
                .cloned()
                .unwrap_or(Value::Null);
            (path.clone(), value, source.clone())
        })
        .collect()
}

fn display_value(value: &Value) -> String {
    match value {
        Value::Null => "(unset)".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "[]".into(),
        Value::Array(items) => items
            .iter()
            .map(display_value)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}
