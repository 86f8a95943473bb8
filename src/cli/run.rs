//! `reflex-django run`: Django and Reflex behind the front door, as a dev stack or
//! (`--env prod`, after `build`) as the production server of the app.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use owo_colors::OwoColorize;

use super::GlobalArgs;
use crate::config::FlagValue;
use crate::error::{Context, Error, Result};
use crate::proxy;
use crate::stack::console::Console;
use crate::stack::front_door::{self, States};
use crate::stack::supervision::{availability, supervisor_options};
use crate::stack::{Mode, Stack, django, live, reflex};
use crate::supervisor::{Startup, State, Supervisor, human};
use crate::vite::{self, KeeperEvent, ViteRules};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// `dev`: dev servers and reloads; `prod`: serve the build of `reflex-django build`
    /// on one port, Django with workers
    #[arg(long = "env", value_enum, default_value_t = EnvArg::Dev, value_name = "ENV")]
    pub env: EnvArg,
    /// Port of the front door, the app's public address [default: 8000]
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Port of Reflex's dev server [default: 3000]
    #[arg(long, value_name = "PORT")]
    pub frontend_port: Option<u16>,
    /// Address the front door listens on [default: 127.0.0.1]
    #[arg(long, value_name = "ADDR")]
    pub host: Option<String>,
    /// Worker processes of Django's server with `--env prod` [default: one per CPU]
    #[arg(long, value_name = "N")]
    pub workers: Option<u32>,
    /// Exit with an error when a child crashes, instead of restarting it (for scripts
    /// and CI)
    #[arg(long)]
    pub exit_on_crash: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EnvArg {
    Dev,
    Prod,
}

impl From<EnvArg> for Mode {
    fn from(env: EnvArg) -> Mode {
        match env {
            EnvArg::Dev => Mode::Dev,
            EnvArg::Prod => Mode::Prod,
        }
    }
}

impl RunArgs {
    fn flag_values(&self) -> Result<Vec<FlagValue>> {
        [
            self.port
                .map(|p| FlagValue::new("--port", p, |l, p| l.proxy.port = Some(p))),
            self.frontend_port.map(|p| {
                FlagValue::new("--frontend-port", p, |l, p| {
                    l.reflex.frontend_port = Some(p)
                })
            }),
            self.host
                .clone()
                .map(|h| FlagValue::new("--host", h, |l, h| l.proxy.host = Some(h))),
            self.workers
                .map(|w| FlagValue::new("--workers", w, |l, w| l.django.workers = Some(Some(w)))),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

pub fn run(global: &GlobalArgs, args: RunArgs) -> Result<ExitCode> {
    let (project, resolved) = global.load(args.flag_values()?)?;
    if project.rxconfig.is_none() {
        return Err(Error::new(format!(
            "no rxconfig.py in {}: `run` needs a Reflex app",
            project.root.display()
        ))
        .hint("create one with `reflex-django init`, or add a Reflex app with `reflex init`"));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mode = Mode::from(args.env);
    runtime.block_on(async move {
        let started = Instant::now();
        let stack = tokio::task::spawn_blocking(move || Stack::prepare(project, resolved, mode))
            .await
            .map_err(|e| Error::new("start-up preparation failed").cause(e))??;
        serve(stack, args.exit_on_crash, started).await
    })
}

async fn serve(stack: Stack, exit_on_crash: bool, started: Instant) -> Result<ExitCode> {
    let config = &stack.resolved.config;
    let supervisor = Supervisor::start(supervisor_options(config, exit_on_crash)).await?;
    let console = Arc::new(Console::new(
        supervisor.log().clone(),
        &stack.project.root,
        config.output.hide_noise,
    ));
    print_banner(&console, &stack);

    let listener = proxy::bind(&config.proxy.host, stack.ports.proxy).await?;
    // Development only: the Vite rules, kept in .web/vite.config.js.
    let (repatched, mut repatches) = tokio::sync::watch::channel(0u64);
    let vite_config = stack.project.root.join(vite::CONFIG_PATH);
    let keeper = match stack.mode {
        Mode::Dev => {
            let rules = ViteRules::new(&stack.table, &config.proxy.host, stack.ports.proxy);
            let keeper_console = console.clone();
            Some(vite::spawn_keeper(
                vite_config.clone(),
                rules,
                move |event| match event {
                    KeeperEvent::Patched => repatched.send_modify(|n| *n += 1),
                    KeeperEvent::Failed(e) => keeper_console.say(&format!(
                        "{} cannot keep Django's proxy rules in {}: {e}",
                        "✗".red(),
                        vite::CONFIG_PATH
                    )),
                },
            )?)
        }
        Mode::Prod => None,
    };

    let built = front_door::open_build(&stack)?;

    let mut news = supervisor.subscribe();
    console.starting("django");
    console.starting("reflex");
    // Shared with Django only: it believes forwarded headers from the front door alone.
    let django_key = crate::random::hex_token::<16>()?;
    let django = supervisor.spawn(django::child(&stack, &console, &django_key)?)?;
    let reflex = supervisor.spawn(reflex::child(&stack, &console))?;
    let _live = live::LiveRun::record(&stack)?;

    let states = States {
        django: availability(django.state()),
        reflex: availability(reflex.state()),
    };
    let front_door = front_door::plan(&stack, states, built, &django_key);
    let (stop_proxy, proxy_stopped) = tokio::sync::oneshot::channel::<()>();
    let proxy_task = tokio::spawn(proxy::serve(listener, front_door, async {
        let _ = proxy_stopped.await;
    }));

    // After each re-patch, make sure the running Vite really uses the rules.
    let verify_console = console.clone();
    let mut reflex_state = reflex.state();
    // The front door answers its health path itself, at once, whatever Django's state:
    // a Django restart cannot pass for a Vite without the rules.
    let probe_path = proxy::routes::HEALTH_PATH;
    let frontend_port = stack.ports.frontend;
    let verifier = tokio::spawn(async move {
        let Some(frontend_port) = frontend_port else {
            return;
        };
        while repatches.changed().await.is_ok() {
            if reflex_state.wait_for(|s| *s == State::Ready).await.is_err() {
                break;
            }
            if let Err(e) = vite::ensure_live(&vite_config, frontend_port, probe_path).await {
                verify_console.say(&format!("{} {e}", "✗".red()));
            }
        }
    });

    // One task prints the supervisor's news; our own lines go through it too, so a
    // line about an event never overtakes the event.
    let (say, mut said) = tokio::sync::mpsc::unbounded_channel::<String>();
    let news_console = console.clone();
    let news_task = tokio::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            tokio::select! {
                event = news.recv() => match event {
                    Ok(event) => news_console.event(&event),
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                },
                Some(text) = said.recv() => {
                    while let Ok(event) = news.try_recv() {
                        news_console.event(&event);
                    }
                    news_console.say(&text);
                }
            }
        }
    });

    let result = match supervisor.wait_ready().await {
        Ok(Startup::Ready) => {
            console.started();
            let _ = say.send(format!(
                "{} ready in {} — open {}",
                "✓".green(),
                human(started.elapsed()),
                stack.app_url().bold()
            ));
            supervisor.wait().await
        }
        Ok(Startup::Interrupted) => Ok(()),
        Err(e) => {
            console.started();
            Err(e)
        }
    };
    // The front door drains first (requests in flight finish, WebSockets are told
    // the server goes away) while the children still serve; then they stop. A
    // second Ctrl-C cuts the drain short.
    console.say("stopping…");
    let _ = stop_proxy.send(());
    tokio::select! {
        _ = proxy_task => {}
        () = supervisor.hurried() => {}
    }
    supervisor.shutdown().await;
    drop(keeper);
    verifier.abort();
    news_task.abort();
    result.map(|()| ExitCode::SUCCESS)
}

fn print_banner(console: &Console, stack: &Stack) {
    let admin = stack.resolved.config.prefixes.admin.0.as_str();
    let name = stack
        .project
        .root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let title = match stack.mode {
        Mode::Dev => "reflex-django run".bold().to_string(),
        Mode::Prod => format!("{} {}", "reflex-django run".bold(), "--env prod".yellow()),
    };
    let mut lines = vec![
        format!("{title} {}", name.dimmed()),
        format!("  {:<11}{}", "app", stack.app_url().bold()),
    ];
    if stack.mode == Mode::Dev {
        lines.push(format!("  {:<11}{}", "front door", stack.front_door_url()));
    }
    lines.push(format!("  {:<11}{}{admin}/", "admin", stack.app_url()));
    match stack.mode {
        Mode::Dev => lines.push(format!(
            "  {:<11}{} on 127.0.0.1:{} · reflex backend on 127.0.0.1:{}",
            "internal",
            stack.django_server.name(),
            stack.ports.django,
            stack.ports.reflex_backend,
        )),
        Mode::Prod => {
            let workers = |n: u32| format!("{n} worker{}", if n == 1 { "" } else { "s" });
            lines.push(format!(
                "  {:<11}{} with {} on 127.0.0.1:{}",
                "django",
                stack.django_server.name(),
                workers(stack.django_workers),
                stack.ports.django,
            ));
            lines.push(format!(
                "  {:<11}backend on 127.0.0.1:{} · {}",
                "reflex",
                stack.ports.reflex_backend,
                reflex_workers(stack),
            ));
            lines.push(format!(
                "  {:<11}built frontend and {} served from disk by the front door · health at {}",
                "files",
                stack
                    .static_prefix
                    .as_ref()
                    .map_or("no static files".to_string(), |p| format!("{p}/")),
                crate::proxy::routes::HEALTH_PATH,
            ));
        }
    }
    for warning in &stack.warnings {
        let mut text = format!(
            "{} {}",
            "warning:".yellow().bold(),
            warning.problem.message()
        );
        if let Some(hint) = warning.problem.hint_text() {
            text.push_str(&format!("\n  {} {hint}", "hint:".cyan()));
        }
        lines.push(text);
    }
    console.say(&lines.join("\n"));
}

/// How many workers Reflex's production backend runs: one, unless its state lives in
/// Redis (`REFLEX_REDIS_URL`); then Reflex starts 2 × CPUs + 1 (at most 8), or
/// `GRANIAN_WORKERS`.
fn reflex_workers(stack: &Stack) -> String {
    let redis = std::env::var_os("REFLEX_REDIS_URL").is_some()
        || stack
            .resolved
            .env_file_vars
            .iter()
            .any(|(k, _)| k == "REFLEX_REDIS_URL");
    if redis {
        match std::env::var("GRANIAN_WORKERS") {
            Ok(n) => format!("{n} workers (GRANIAN_WORKERS; Reflex's state in Redis)"),
            Err(_) => {
                "2 × CPUs + 1 workers, at most 8 (Reflex's state in Redis: REFLEX_REDIS_URL)".into()
            }
        }
    } else {
        "1 worker (Reflex keeps its state on disk; set REFLEX_REDIS_URL for more)".into()
    }
}
