//! `reflex-django build`: the production build that `run --env prod` serves.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use owo_colors::OwoColorize;

use super::GlobalArgs;
use crate::build::{self, Tally};
use crate::config::FlagValue;
use crate::error::Result;

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The app's public address, when the built frontend must reach its backend at a
    /// fixed origin (only needed without the reflex_django package) [default: the front
    /// door, http://localhost:<port>]
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Port of the front door that will serve the build [default: 8000]
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
}

pub fn run(global: &GlobalArgs, args: BuildArgs) -> Result<ExitCode> {
    let flags = [
        args.public_url.map(|url| {
            FlagValue::new("--public-url", url, |l, url| l.public_url = Some(Some(url)))
        }),
        args.port
            .map(|port| FlagValue::new("--port", port, |l, port| l.proxy.port = Some(port))),
    ]
    .into_iter()
    .flatten()
    .collect::<Result<Vec<_>>>()?;
    let (project, resolved) = global.load(flags)?;
    let built = build::build(&project, &resolved)?;

    let mut out = anstream::stdout().lock();
    let line = |what: &str, tally: &Tally| {
        let c = tally.compressed;
        let saved = if c.bytes > 0 {
            format!(
                ", {} compressible → {} with brotli",
                human_bytes(c.bytes),
                human_bytes(c.brotli_bytes)
            )
        } else {
            String::new()
        };
        format!(
            "  {what:<9}{} files, {}{saved}",
            tally.files,
            human_bytes(tally.bytes)
        )
    };
    let _ = writeln!(out, "\n{} built in {:.1}s", "✓".green(), built.seconds);
    let _ = writeln!(out, "{}", line("frontend", &built.frontend));
    if let Some(tally) = &built.static_files {
        let _ = writeln!(out, "{}", line("static", tally));
    }
    if built.stamp.same_origin {
        let _ = writeln!(
            out,
            "  {:<9}talks to the origin that serves it (any host name, port or TLS edge)",
            "backend"
        );
    } else {
        let _ = writeln!(
            out,
            "  {:<9}{} {} (without the reflex_django package the address is fixed at \
             build time; rebuild with --public-url for another one)",
            "backend",
            "fixed to".yellow(),
            built.stamp.api_url
        );
    }
    let _ = writeln!(out, "\nNext: reflex-django run --env prod");
    Ok(ExitCode::SUCCESS)
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
