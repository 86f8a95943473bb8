//! Patching `vite.config.js` on disk: atomically, and only when the content changes.

use std::io::{ErrorKind, Write};
use std::path::Path;

use super::patch::patch;
use super::rules::ViteRules;
use crate::error::{Context, Error, Result};

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
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Outcome::Missing),
        Err(e) => return Err(Error::new(format!("cannot read {}", path.display())).cause(e)),
    };
    let patched = patch(&text, rules).map_err(|e| e.cause(format!("in {}", path.display())))?;
    if patched == text {
        return Ok(Outcome::Unchanged);
    }
    write_atomic(path, patched.as_bytes())?;
    Ok(Outcome::Patched)
}

/// Replaces `path` with `contents` through a temporary file in the same directory and a
/// rename, so readers (Vite) see the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let failed = || format!("cannot write {}", path.display());
    let mut tmp = tempfile::Builder::new()
        .prefix(".reflex-django-")
        .tempfile_in(dir)
        .with_context(failed)?;
    tmp.write_all(contents).with_context(failed)?;
    if let Ok(meta) = std::fs::metadata(path) {
        // Keep the mode of the file being replaced (the temp file is 0600).
        tmp.as_file()
            .set_permissions(meta.permissions())
            .with_context(failed)?;
    }
    tmp.persist(path).map_err(|e| {
        Error::new(failed())
            .cause(e.error)
            .hint("check that the directory is writable")
    })?;
    Ok(())
}
