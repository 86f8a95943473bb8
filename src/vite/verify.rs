//! Checks that the running Vite dev server really uses the rules on disk.
//!
//! Vite reads its config once per (re)start. When Reflex rewrites `vite.config.js`
//! without the rules and the keeper puts them back a few milliseconds later, the
//! second write lands while Vite is still restarting on the first, and Vite keeps the
//! config without rules. So after a re-patch we ask the dev server for a Django path:
//! the answer must have come through the front door (its `Via` header); if not, the
//! file is written again (same text) so Vite loads it once more.

use std::path::Path;
use std::time::Duration;

use crate::error::{Context, Error, Result};
use crate::proxy::came_through_front_door;

/// Waits between checks: quick at first, patient when Vite restarts slowly.
const CHECKS: [Duration; 6] = [
    Duration::from_millis(300),
    Duration::from_millis(700),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
];

/// Makes sure `http://127.0.0.1:<frontend_port><probe_path>` is proxied to the front
/// door, rewriting `config` to restart Vite while it is not.
pub async fn ensure_live(config: &Path, frontend_port: u16, probe_path: &str) -> Result<()> {
    let client = reqwest::Client::builder()
        // 127.0.0.1 only: an HTTP_PROXY from the environment would answer instead.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .context("cannot build an HTTP client")?;
    let url = format!("http://127.0.0.1:{frontend_port}{probe_path}");
    for delay in CHECKS {
        tokio::time::sleep(delay).await;
        let proxied = client
            .get(&url)
            .send()
            .await
            .is_ok_and(|answer| came_through_front_door(answer.headers()));
        if proxied {
            return Ok(());
        }
        nudge(config)?;
    }
    Err(Error::new(format!(
        "Vite's dev server does not send {probe_path} to the front door"
    ))
    .hint("restart `reflex-django run`; the front door's own port serves Django meanwhile"))
}

/// Writes the file again with the same text: Vite sees a change and reloads it.
fn nudge(config: &Path) -> Result<()> {
    let text =
        std::fs::read(config).with_context(|| format!("cannot read {}", config.display()))?;
    crate::atomic::write(config, &text, 0o644)
}
