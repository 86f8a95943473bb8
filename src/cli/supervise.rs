//! Hidden commands of the supervisor: `__supervise <spec.json>`, a driver that runs the
//! supervisor on children described in a file (tests start it as a separate process, so
//! they can SIGKILL it), and `__guardian <session>` (see `supervisor::guardian`).

use std::path::Path;
use std::process::ExitCode;

use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use crate::config::Seconds;
use crate::error::{Context, Result};
use crate::supervisor::{ChildSpec, LogMux, Options, Startup, Supervisor};

/// The driver's input.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DriverSpec {
    #[serde(default)]
    grace: Option<Seconds>,
    #[serde(default)]
    exit_on_crash: bool,
    /// Off only to show what `PR_SET_PDEATHSIG` alone does.
    #[serde(default = "yes")]
    guardian: bool,
    children: Vec<ChildSpec>,
}

fn yes() -> bool {
    true
}

/// Runs the children of `spec_file` until a signal; prints each event as
/// `[supervisor] <child> <event>` and `[supervisor] all ready` once they are.
pub fn run(spec_file: &Path) -> Result<ExitCode> {
    let text = std::fs::read_to_string(spec_file)
        .with_context(|| format!("cannot read {}", spec_file.display()))?;
    let spec: DriverSpec = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid driver spec", spec_file.display()))?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(drive(spec))?;
    Ok(ExitCode::SUCCESS)
}

async fn drive(spec: DriverSpec) -> Result<()> {
    let mut options = Options {
        exit_on_crash: spec.exit_on_crash,
        log: LogMux::stdout(),
        ..Options::default()
    };
    if let Some(grace) = spec.grace {
        options.grace = grace.0;
    }
    if !spec.guardian {
        options.guardian = None;
    }
    let sup = Supervisor::start(options).await?;
    let log = sup.log().clone();
    let mut events = sup.subscribe();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => log.message(&format!("[supervisor] {event}")),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            }
        }
    });
    let result = async {
        for child in spec.children {
            sup.spawn(child)?;
        }
        match sup.wait_ready().await? {
            Startup::Ready => {
                sup.log().message("[supervisor] all ready");
                sup.wait().await
            }
            Startup::Interrupted => Ok(()),
        }
    }
    .await;
    sup.shutdown().await;
    sup.log().message("[supervisor] stopped");
    result
}
