//! `reflex-django run`: Django and Reflex as one dev stack behind the front door.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use owo_colors::OwoColorize;
use serde_json::Value;

use super::GlobalArgs;
use crate::config::FlagValue;
use crate::error::{Context, Error, Result};
use crate::proxy::{self, FrontDoor, Limits, Upstream};
use crate::stack::console::Console;
use crate::stack::{Stack, django, live, reflex};
use crate::supervisor::{
    ChildSpec, Expect, LineHook, Options, Probe, Startup, State, Supervisor, Watch, human,
};
use crate::vite::{self, KeeperEvent, ViteRules};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Port of the front door, the app's public address [default: 8000]
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Port of Reflex's dev server [default: 3000]
    #[arg(long, value_name = "PORT")]
    pub frontend_port: Option<u16>,
    /// Address the front door listens on [default: 127.0.0.1]
    #[arg(long, value_name = "ADDR")]
    pub host: Option<String>,
    /// Exit with an error when a child crashes, instead of restarting it (for scripts
    /// and CI)
    #[arg(long)]
    pub exit_on_crash: bool,
}

impl RunArgs {
    fn flag_values(&self) -> Vec<FlagValue> {
        let mut flags = Vec::new();
        if let Some(port) = self.port {
            flags.push(FlagValue {
                path: "proxy.port",
                flag: "--port",
                value: Value::from(port),
            });
        }
        if let Some(port) = self.frontend_port {
            flags.push(FlagValue {
                path: "reflex.frontend_port",
                flag: "--frontend-port",
                value: Value::from(port),
            });
        }
        if let Some(host) = &self.host {
            flags.push(FlagValue {
                path: "proxy.host",
                flag: "--host",
                value: Value::from(host.clone()),
            });
        }
        flags
    }
}

pub fn run(global: &GlobalArgs, args: RunArgs) -> Result<ExitCode> {
    let (project, resolved) = global.load(args.flag_values())?;
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
    runtime.block_on(async move {
        let started = Instant::now();
        let stack = tokio::task::spawn_blocking(move || Stack::prepare(project, resolved))
            .await
            .map_err(|e| Error::new("start-up preparation failed").cause(e))??;
        serve(stack, args.exit_on_crash, started).await
    })
}

async fn serve(stack: Stack, exit_on_crash: bool, started: Instant) -> Result<ExitCode> {
    let config = &stack.resolved.config;
    let supervisor = Supervisor::start(Options {
        shutdown: config.shutdown.clone(),
        exit_on_crash,
        ..Options::default()
    })
    .await?;
    let console = Arc::new(Console::new(supervisor.log().clone(), &stack.project.root));
    print_banner(&console, &stack);

    let listener = proxy::bind(&config.proxy.host, stack.ports.proxy).await?;
    let rules = ViteRules::new(&stack.table, &config.proxy.host, stack.ports.proxy);
    let (repatched, mut repatches) = tokio::sync::watch::channel(0u64);
    let keeper_console = console.clone();
    let vite_config = stack.project.root.join(vite::CONFIG_PATH);
    let keeper = vite::spawn_keeper(vite_config.clone(), rules, move |event| match event {
        KeeperEvent::Patched => repatched.send_modify(|n| *n += 1),
        KeeperEvent::Failed(e) => keeper_console.say(&format!(
            "{} cannot keep Django's proxy rules in {}: {e}",
            "✗".red(),
            vite::CONFIG_PATH
        )),
    })?;

    let mut news = supervisor.subscribe();
    console.starting("django");
    console.starting("reflex");
    let django = supervisor.spawn(django_spec(&stack, &console)?)?;
    let reflex = supervisor.spawn(reflex_spec(&stack, &console))?;
    let _live = live::LiveRun::record(&stack)?;

    let local = |port| SocketAddr::from(([127, 0, 0, 1], port));
    let front_door = FrontDoor {
        table: stack.table.clone(),
        django: Upstream::new("django", local(stack.ports.django), django.state()),
        reflex: Upstream::new("reflex", local(stack.ports.reflex_backend), reflex.state()),
        // Pages come from Reflex's dev server, so the front door serves the whole app.
        frontend: Some(Upstream::new(
            "reflex",
            local(stack.ports.frontend),
            reflex.state(),
        )),
        hold_timeout: config.proxy.hold_timeout.0,
        limits: Limits::default(),
    };
    let (stop_proxy, proxy_stopped) = tokio::sync::oneshot::channel::<()>();
    let proxy_task = tokio::spawn(proxy::serve(listener, front_door, async {
        let _ = proxy_stopped.await;
    }));

    // After each re-patch, make sure the running Vite really uses the rules.
    let verify_console = console.clone();
    let mut reflex_state = reflex.state();
    let probe_path = format!("{}/", config.prefixes.admin.0);
    let frontend_port = stack.ports.frontend;
    let verifier = tokio::spawn(async move {
        while repatches.changed().await.is_ok() {
            if reflex_state.wait_for(|s| *s == State::Ready).await.is_err() {
                break;
            }
            if let Err(e) = vite::ensure_live(&vite_config, frontend_port, &probe_path).await {
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
    console.say("stopping…");
    supervisor.shutdown().await;
    let _ = stop_proxy.send(());
    let _ = proxy_task.await;
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
    console.say(&format!(
        "{} {}\n  {:<11}{}\n  {:<11}{}\n  {:<11}{}{admin}/\n  {:<11}{} on 127.0.0.1:{} · reflex backend on 127.0.0.1:{}",
        "reflex-django run".bold(),
        name.dimmed(),
        "app",
        stack.app_url().bold(),
        "front door",
        stack.front_door_url(),
        "admin",
        stack.app_url(),
        "internal",
        stack.django_server.name(),
        stack.ports.django,
        stack.ports.reflex_backend,
    ));
}

fn django_spec(stack: &Stack, console: &Console) -> Result<ChildSpec> {
    let plan = django::plan(stack, stack.django_server, stack.ports.django)?;
    let config = &stack.resolved.config;
    Ok(ChildSpec {
        args: plan.args,
        env: plan.env,
        cwd: Some(stack.project.root.clone()),
        ready: Probe::Http {
            port: plan.port,
            path: "/".into(),
            expect: Expect::AnyAnswer,
        },
        ready_timeout: config.django.startup_timeout,
        restart: config.restart.clone(),
        watch: Some(Watch {
            paths: stack.django_watch_paths(),
            include: vec!["*.py".into(), "*.html".into()],
            ignore: django_watch_ignores(stack),
        }),
        on_line: Some(console.hook("django", None)),
        ..ChildSpec::new("django", plan.program)
    })
}

fn django_watch_ignores(stack: &Stack) -> Vec<String> {
    let mut ignore: Vec<String> = [
        ".web/",
        ".git/",
        ".venv/",
        "venv/",
        "node_modules/",
        "__pycache__/",
        "*.pyc",
        "*.sqlite3",
        "*.sqlite3-journal",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    if let Ok(Some(app)) = stack.project.reflex_app_dir() {
        ignore.push(app.to_string_lossy().into_owned());
    }
    if let Some(settings) = &stack.django_settings {
        ignore.extend(
            settings
                .sqlite_files
                .iter()
                .chain(settings.media_root.iter())
                .map(|p| p.to_string_lossy().into_owned()),
        );
    }
    ignore
}

fn reflex_spec(stack: &Stack, console: &Arc<Console>) -> ChildSpec {
    let plan = reflex::plan(stack);
    let config = &stack.resolved.config;
    ChildSpec {
        args: plan.args,
        env: plan.env,
        cwd: Some(stack.project.root.clone()),
        ready: Probe::All(vec![
            Probe::Http {
                port: stack.ports.reflex_backend,
                path: "/ping".into(),
                expect: Expect::Body("\"pong\"".into()),
            },
            Probe::Http {
                port: stack.ports.frontend,
                path: "/".into(),
                expect: Expect::Html,
            },
        ]),
        ready_timeout: config.reflex.startup_timeout,
        restart: config.restart.clone(),
        on_line: Some(console.hook("reflex", Some(bun_download_hint(console)))),
        ..ChildSpec::new("reflex", plan.program)
    }
}

/// Reflex tries to download bun when it finds none, which fails offline; say what
/// to do instead of leaving only Reflex's download error.
fn bun_download_hint(console: &Arc<Console>) -> LineHook {
    let said = std::sync::atomic::AtomicBool::new(false);
    let hint = crate::bun::install_hint();
    let console = console.clone();
    LineHook::new(move |line| {
        let text = line.text.to_ascii_lowercase();
        let about_bun =
            text.contains("bun") && (text.contains("download") || text.contains("install"));
        let failed = text.contains("fail") || text.contains("error") || text.contains("could not");
        if about_bun && failed && !said.swap(true, std::sync::atomic::Ordering::Relaxed) {
            console.say(&format!(
                "{} Reflex cannot get bun here. hint: {hint}",
                "✗".red()
            ));
        }
        true
    })
}
