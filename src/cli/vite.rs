//! `reflex-django vite patch [FILE]`: put the Django proxy rules into Reflex's
//! `vite.config.js`. Without FILE it is a filter (stdin → stdout), which the Python
//! plugin runs on the generated text during Reflex's compile.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::GlobalArgs;
use crate::error::{Context, Error, Result};
use crate::proxy::routes::{Prefix, Route, RouteKind, RouteTable};
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
        /// Send Django's paths here instead of the front door, e.g. Reflex's backend
        /// `http://127.0.0.1:8000` when Django runs inside Reflex (plain `reflex run`)
        #[arg(long, value_name = "URL")]
        target: Option<String>,
        /// Use this Django prefix instead of the project's (repeat for more); the
        /// project is then not read. reflex-django's own prefix is always added
        #[arg(long = "prefix", value_name = "PREFIX")]
        prefixes: Vec<String>,
        /// Take the rules out instead (the project is not read)
        #[arg(long, conflicts_with_all = ["target", "prefixes"])]
        remove: bool,
    },
}

pub fn run(global: &GlobalArgs, args: ViteArgs) -> Result<ExitCode> {
    let ViteCommand::Patch {
        file,
        target,
        prefixes,
        remove,
    } = args.command;
    let rules = if remove {
        None
    } else {
        Some(rules(global, target.as_deref(), &prefixes)?)
    };
    match file {
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read vite.config.js from stdin")?;
            let patched = match &rules {
                Some(rules) => vite::patch(&text, rules)?,
                None => vite::strip(&text)?,
            };
            // Written only once patched, so a failure leaves stdout empty.
            std::io::stdout()
                .lock()
                .write_all(patched.as_bytes())
                .context("cannot write the patched vite.config.js to stdout")?;
        }
        Some(file) => {
            let outcome = match &rules {
                Some(rules) => vite::patch_file(&file, rules)?,
                None => vite::strip_file(&file)?,
            };
            match outcome {
                Outcome::Patched if rules.is_none() => {
                    println!("removed the rules from {}", file.display())
                }
                Outcome::Patched => println!("patched {}", file.display()),
                Outcome::Unchanged if rules.is_none() => {
                    println!("{} has no rules", file.display())
                }
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

/// The rules: the given prefixes or the project's, sent to `target` or to the
/// project's front door.
fn rules(global: &GlobalArgs, target: Option<&str>, prefixes: &[String]) -> Result<ViteRules> {
    let target = target.map(check_target).transpose()?;
    if !prefixes.is_empty() {
        let Some(target) = target else {
            return Err(Error::new("--prefix needs --target").hint(
                "say where Vite should send these paths, e.g. `--target http://127.0.0.1:8000`",
            ));
        };
        let routes = prefixes
            .iter()
            .map(|raw| {
                Prefix::parse(raw)
                    .map(|prefix| Route::new(prefix, RouteKind::Extra))
                    .map_err(|e| Error::new(format!("--prefix {raw:?}: {e}")).hint(e.hint()))
            })
            .collect::<Result<Vec<_>>>()?;
        return Ok(ViteRules::with_target(
            &RouteTable::with_internal(routes),
            target,
        ));
    }
    let (project, resolved) = global.load(Vec::new())?;
    let static_prefix = crate::stack::static_prefix::find(&project, &resolved)?;
    let table = RouteTable::from_config(&resolved.config.prefixes, static_prefix.map(|(p, _)| p));
    let proxy = &resolved.config.proxy;
    Ok(match target {
        Some(target) => ViteRules::with_target(&table, target),
        None => ViteRules::new(&table, &proxy.host, proxy.port.0),
    })
}

/// An `http(s)://host[:port]` URL for Vite to proxy to, without a trailing slash.
fn check_target(raw: &str) -> Result<String> {
    let url = raw.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(authority)
            if !authority.is_empty() && !authority.contains(['/', '?', '#', ' ', '"', '\'']) =>
        {
            Ok(url.to_string())
        }
        _ => Err(
            Error::new(format!("--target {raw:?} is not an http(s) origin"))
                .hint("give the scheme, host and port only, e.g. `--target http://127.0.0.1:8000`"),
        ),
    }
}
