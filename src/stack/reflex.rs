//! The Reflex child of the stack: `reflex run` with its backend on an internal port
//! behind the front door; in production its backend alone, in prod mode (the front
//! door serves the built frontend).

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use owo_colors::OwoColorize;

use crate::supervisor::{ChildSpec, Expect, LineHook, Probe};

use super::console::Console;
use super::supervision::{alive_check, restart_policy};
use super::{Mode, Stack};

/// Reflex as the supervisor runs it: `reflex run` with its backend behind the front
/// door, ready once its backend (and in development its dev server) answers.
pub fn child(stack: &Stack, console: &Arc<Console>) -> ChildSpec {
    let plan = plan(stack);
    let config = &stack.resolved.config;
    let backend = Probe::Http {
        port: stack.ports.reflex_backend,
        path: "/ping".into(),
        expect: Expect::Body("\"pong\"".into()),
    };
    let alive = alive_check(&config.liveness, backend.clone());
    let ready = match stack.ports.frontend {
        Some(port) => Probe::All(vec![
            backend,
            Probe::Http {
                port,
                path: "/".into(),
                expect: Expect::Html,
            },
        ]),
        None => backend,
    };
    ChildSpec {
        args: plan.args,
        env: plan.env,
        cwd: Some(stack.project.root.clone()),
        ready,
        alive,
        ready_timeout: config.reflex.startup_timeout.0,
        restart: restart_policy(&config.restart),
        on_line: Some(console.hook("reflex", Some(bun_download_hint(console)))),
        ..ChildSpec::new("reflex", plan.program)
    }
}

/// Reflex tries to download bun when it finds none, which fails offline; say what
/// to do instead of leaving only Reflex's download error.
fn bun_download_hint(console: &Arc<Console>) -> LineHook {
    let said = AtomicBool::new(false);
    let hint = crate::bun::install_hint();
    let console = console.clone();
    LineHook::new(move |line| {
        let text = line.text.to_ascii_lowercase();
        let about_bun =
            text.contains("bun") && (text.contains("download") || text.contains("install"));
        let failed = text.contains("fail") || text.contains("error") || text.contains("could not");
        if about_bun && failed && !said.swap(true, Ordering::Relaxed) {
            console.say(&format!(
                "{} Reflex cannot get bun here. hint: {hint}",
                "✗".red()
            ));
        }
        true
    })
}

/// How to start Reflex.
struct Plan {
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

fn plan(stack: &Stack) -> Plan {
    let ports = &stack.ports;
    let mut args: Vec<String> = ["-m", "reflex", "run", "--env", stack.mode.name()]
        .into_iter()
        .map(String::from)
        .collect();
    match (stack.mode, ports.frontend) {
        (Mode::Dev, Some(frontend)) => {
            args.extend(["--frontend-port".into(), frontend.to_string()]);
        }
        _ => args.push("--backend-only".into()),
    }
    args.extend([
        "--backend-port".into(),
        ports.reflex_backend.to_string(),
        "--backend-host".into(),
        "127.0.0.1".into(),
    ]);

    let mut env = stack.child_env.clone();
    // The browser's Socket.IO traffic goes to the front door, which forwards it.
    env.push(("REFLEX_API_URL".into(), stack.front_door_url()));
    if let Ok(exe) = std::env::current_exe() {
        // The plugin patches vite.config.js with this very binary.
        env.push((
            "REFLEX_DJANGO_BIN".into(),
            exe.to_string_lossy().into_owned(),
        ));
    }
    // The front door appends the browser's address to X-Forwarded-For; trusting one
    // hop gives the event bridge the real client IP instead of 127.0.0.1.
    env.push(("REFLEX_TRUSTED_PROXY_HOPS".into(), "1".into()));
    if stack.mode == Mode::Dev
        && let Some(excluded) = hot_reload_exclusions(stack)
    {
        env.push(("REFLEX_HOT_RELOAD_EXCLUDE_PATHS".into(), excluded));
    }
    Plan {
        program: stack.python.path.clone(),
        args,
        env,
    }
}

/// Reflex's backend reloader watches every entry of the project root and does not
/// ignore `db.sqlite3`, so each database write (an admin login) would recompile the
/// app. Exclude the SQLite files and the media directory (Reflex's variable is a
/// `:`-separated list; Reflex fails on paths that do not exist, so only existing ones).
fn hot_reload_exclusions(stack: &Stack) -> Option<String> {
    let mut paths: Vec<PathBuf> = std::env::var_os("REFLEX_HOT_RELOAD_EXCLUDE_PATHS")
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default();
    paths.extend(stack.django_settings.sqlite_files.iter().cloned());
    paths.extend(stack.django_settings.media_root.iter().cloned());
    paths.retain(|p| p.exists());
    paths.dedup();
    if paths.is_empty() {
        return None;
    }
    std::env::join_paths(paths)
        .ok()
        .map(|v| v.to_string_lossy().into_owned())
}

/// The host the browser uses for a bind address: loopback and wildcard binds are
/// reached as `localhost`.
pub fn browser_host(bind: &str) -> String {
    match bind.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() || ip.is_unspecified() => "localhost".into(),
        Ok(IpAddr::V6(ip)) => format!("[{ip}]"),
        _ if bind == "localhost" => "localhost".into(),
        _ => bind.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_hosts() {
        assert_eq!(browser_host("127.0.0.1"), "localhost");
        assert_eq!(browser_host("0.0.0.0"), "localhost");
        assert_eq!(browser_host("::"), "localhost");
        assert_eq!(browser_host("192.168.1.5"), "192.168.1.5");
        assert_eq!(browser_host("fe80::1"), "[fe80::1]");
    }
}
