//! Writing files so that nobody (Vite, Django, an editor) ever sees half of one, and an
//! interrupted write leaves the old file intact.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::error::{Context, Error, Result};

/// Replaces `path` with `contents` through a temporary file in the same directory,
/// synced, then renamed over it. An existing file keeps its permissions; a new one
/// gets `new_mode`. Missing parent directories are created.
pub fn write(path: &Path, contents: &[u8], new_mode: u32) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let failed = || format!("cannot write {}", path.display());
    let mut tmp = tempfile::Builder::new()
        .prefix(".reflex-django-")
        .tempfile_in(dir)
        .with_context(failed)?;
    tmp.write_all(contents)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(failed)?;
    let permissions = std::fs::metadata(path)
        .map(|m| m.permissions())
        .unwrap_or_else(|_| std::fs::Permissions::from_mode(new_mode));
    tmp.as_file()
        .set_permissions(permissions)
        .with_context(failed)?;
    tmp.persist(path).map_err(|e| {
        Error::new(failed())
            .cause(e.error)
            .hint("check that the directory is writable")
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_mode_of_an_existing_file_and_sets_it_for_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("a/b/new.txt");
        write(&new, b"one", 0o640).unwrap();
        assert_eq!(std::fs::read(&new).unwrap(), b"one");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&new), 0o640);
        std::fs::set_permissions(&new, std::fs::Permissions::from_mode(0o755)).unwrap();
        write(&new, b"two", 0o600).unwrap();
        assert_eq!(std::fs::read(&new).unwrap(), b"two");
        assert_eq!(mode(&new), 0o755);
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(new.parent().unwrap()).unwrap().count(), 1);
    }
}
