//! `reflex-django vite patch [FILE]`: put the Django proxy rules into Reflex's
//! `vite.config.js`. Without FILE it is a filter (stdin → stdout), which the Python
//! plugin runs on the generated text during Reflex's compile.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::GlobalArgs;
use crate::error::{Context, Error, Result};
use crate::proxy::routes::RouteTable;
use crate::vite::{self, Outcome, ViteRules};

#[derive(Debug, Args)]
pub struct ViteArgs {
    #[command(subcommand)]
    command: ViteCommand,
}

#[derive(Debug, Subcommand)]
enum ViteCommand {
    /// Add the Django proxy rules to vite.config.js (stdin → stdout without FILE)
    ///
    /// The rules send Django's prefixes (admin, static, backend, extra and
    /// reflex-django's own) to the front door. Running it again replaces the rules.
    Patch {
        /// The file to patch in place, e.g. .web/vite.config.js; it is written only
        /// when its content changes
        file: Option<PathBuf>,
    },
}

pub fn run(global: &GlobalArgs, args: ViteArgs) -> Result<ExitCode> {
    let ViteCommand::Patch { file } = args.command;
    let rules = rules(global)?;
    match file {
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read vite.config.js from stdin")?;
            let patched = vite::patch(&text, &rules)?;
            // Written only once patched, so a failure leaves stdout empty.
            std::io::stdout()
                .lock()
                .write_all(patched.as_bytes())
                .context("cannot write the patched vite.config.js to stdout")?;
        }
        Some(file) => {
            match vite::patch_file(&file, &rules)? {
                Outcome::Patched => println!("patched {}", file.display()),
                Outcome::Unchanged => println!("{} already has these rules", file.display()),
                Outcome::Missing => {
                    return Err(Error::new(format!("{} does not exist", file.display())).hint(
                    "Reflex writes .web/vite.config.js on `reflex run`; or pass the file on \
                     stdin: `reflex-django vite patch < vite.config.js`",
                ));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The rules for the project's configuration, targeting its front door.
fn rules(global: &GlobalArgs) -> Result<ViteRules> {
    let (project, resolved) = global.load(Vec::new())?;
    let static_prefix = super::routes::static_prefix(&project, &resolved)?;
    let table = RouteTable::from_config(&resolved.config.prefixes, static_prefix.map(|(p, _)| p));
    let proxy = &resolved.config.proxy;
    Ok(ViteRules::new(&table, &proxy.host, proxy.port.0))
}
