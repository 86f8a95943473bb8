//! Patching `vite.config.js` on disk: atomically, and only when the content changes.

use std::io::ErrorKind;
use std::path::Path;

use super::patch::{patch, strip};
use super::rules::ViteRules;
use crate::error::{Error, Result};

/// What [`patch_file`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The file was rewritten with the rules.
    Patched,
    /// The file already had these rules; it was not touched.
    Unchanged,
    /// There is no file (yet).
    Missing,
}

/// Applies the patch to the file at `path`. Nothing is written when the content is
/// already right, so Vite (which restarts on every write) is not restarted for nothing.
pub fn patch_file(path: &Path, rules: &ViteRules) -> Result<Outcome> {
    rewrite(path, |text| patch(text, rules))
}

/// Removes the rules from the file at `path` (written only when it had them).
pub fn strip_file(path: &Path) -> Result<Outcome> {
    rewrite(path, strip)
}

fn rewrite(path: &Path, change: impl FnOnce(&str) -> Result<String>) -> Result<Outcome> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Outcome::Missing),
        Err(e) => return Err(Error::new(format!("cannot read {}", path.display())).cause(e)),
    };
    let changed = change(&text).map_err(|e| e.cause(format!("in {}", path.display())))?;
    if changed == text {
        return Ok(Outcome::Unchanged);
    }
    crate::atomic::write(path, changed.as_bytes(), 0o644)?;
    Ok(Outcome::Patched)
}
