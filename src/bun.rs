//! The JavaScript runtime Reflex uses: bun, found the way Reflex finds it.
//!
//! Reflex downloads bun from the web when it has none, which fails on machines that
//! reach only package registries; bun from the npm registry on `PATH` works.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::error::Error;
use crate::python::{find_program, probe::output_with_timeout};

/// The oldest bun Reflex 0.10 accepts.
pub const MIN_VERSION: (u64, u64, u64) = (1, 4, 4);

#[derive(Clone, Debug)]
pub struct Bun {
    pub path: PathBuf,
    pub version: String,
}

/// Reflex's data directory: `$REFLEX_DIR`, else `$XDG_DATA_HOME/reflex`, else
/// `~/.local/share/reflex`.
pub fn reflex_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("REFLEX_DIR") {
        return Some(dir.into());
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(data.join("reflex"))
}

/// Where `scripts/env.sh` and the install hint put bun from the npm registry:
/// `$XDG_CACHE_HOME/reflex-django/bun` (`~/.cache/…`); its `node_modules/.bin/bun`.
pub fn shared_install() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(cache.join("reflex-django/bun/node_modules/.bin/bun"))
}

/// Whether Reflex uses bun: unless `REFLEX_USE_NPM` asks it for npm.
pub fn wanted() -> bool {
    std::env::var_os("REFLEX_USE_NPM").is_none()
}

/// Finds bun as Reflex does (its own install under `REFLEX_DIR`, then `PATH`), then in
/// the shared install a new shell has not put on `PATH`; checks the version.
pub fn find() -> Result<Bun, Error> {
    let own = reflex_dir()
        .map(|d| d.join("bun/bin/bun"))
        .filter(|p| p.is_file());
    let shared = || shared_install().filter(|p| p.is_file());
    let Some(path) = own.or_else(|| find_program("bun".as_ref())).or_else(shared) else {
        return Err(
            Error::new("bun is not installed, and Reflex cannot download it here")
                .hint(install_hint()),
        );
    };
    let mut cmd = Command::new(&path);
    cmd.arg("--version");
    let version = output_with_timeout(cmd, Duration::from_secs(20))
        .ok()
        .filter(|o| o.success)
        .map(|o| o.stdout.trim().to_string())
        .ok_or_else(|| {
            Error::new(format!("{} does not run", path.display())).hint(install_hint())
        })?;
    if parse_version(&version).is_none_or(|v| v < MIN_VERSION) {
        let (a, b, c) = MIN_VERSION;
        return Err(Error::new(format!(
            "bun {version} at {} is older than the {a}.{b}.{c} Reflex needs",
            path.display()
        ))
        .hint(install_hint()));
    }
    Ok(Bun { path, version })
}

impl Bun {
    /// `PATH` for a child that runs Reflex, with this bun's directory first when it
    /// is not on `PATH` already (Reflex looks there, and downloads bun otherwise).
    pub fn path_env(&self) -> Option<(String, String)> {
        let dir = self.path.parent()?;
        let path = std::env::var_os("PATH").unwrap_or_default();
        if std::env::split_paths(&path).any(|p| p == dir) {
            return None;
        }
        let joined = std::env::join_paths(
            std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&path)),
        )
        .ok()?;
        Some(("PATH".into(), joined.to_string_lossy().into_owned()))
    }
}

pub fn install_hint() -> String {
    let (a, b, c) = MIN_VERSION;
    format!(
        "install bun from the npm registry where reflex-django looks for it: `npm install \
         --prefix ~/.cache/reflex-django/bun bun@{a}.{b}.{c}` (or put a bun {a}.{b}.{c}+ on PATH)"
    )
}

fn parse_version(text: &str) -> Option<(u64, u64, u64)> {
    let mut parts = text
        .trim()
        .split(['.', '-', '+'])
        .map(|p| p.parse::<u64>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(parse_version("1.4.4"), Some((1, 4, 4)));
        assert_eq!(parse_version("1.10.0-canary"), Some((1, 10, 0)));
        assert!(parse_version("1.10.0").unwrap() > MIN_VERSION);
        assert!(parse_version("1.3.9").unwrap() < MIN_VERSION);
        assert_eq!(parse_version("bun"), None);
    }
}
