//! While `run` serves a project it records its ports and pid, so `routes` can show the
//! live table (the internal ports are picked at start).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Ports, Stack};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub pid: u32,
    pub root: PathBuf,
    pub proxy: u16,
    /// Reflex's dev server; `None` in production.
    pub frontend: Option<u16>,
    pub django: u16,
    pub reflex_backend: u16,
    pub django_server: String,
    pub static_prefix: Option<String>,
    /// `dev` or `prod`.
    pub mode: String,
}

/// The record of this run; removed when dropped (the run ends).
pub struct LiveRun {
    path: PathBuf,
}

impl LiveRun {
    pub fn record(stack: &Stack) -> Result<LiveRun> {
        let Ports {
            proxy,
            frontend,
            django,
            reflex_backend,
        } = stack.ports;
        let record = Record {
            pid: std::process::id(),
            root: stack.project.root.clone(),
            proxy,
            frontend,
            django,
            reflex_backend,
            django_server: stack.django_server.name().into(),
            static_prefix: stack.static_prefix.as_ref().map(|p| p.to_string()),
            mode: stack.mode.name().into(),
        };
        let path = path_for(&stack.project.root);
        let text = serde_json::to_vec_pretty(&record).expect("record serializes");
        crate::atomic::write(&path, &text, 0o600)?;
        Ok(LiveRun { path })
    }
}

impl Drop for LiveRun {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The record of a `run` that is serving `root` now, if any.
pub fn read(root: &Path) -> Option<Record> {
    let text = std::fs::read(path_for(root)).ok()?;
    let record: Record = serde_json::from_slice(&text).ok()?;
    let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(record.pid as i32), None).is_ok();
    (alive && record.root == root).then_some(record)
}

fn path_for(root: &Path) -> PathBuf {
    let hash = crate::hash::fnv1a(root.as_os_str().as_encoded_bytes());
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    base.join(format!("reflex-django-{}", nix::unistd::getuid()))
        .join(format!("run-{hash:016x}.json"))
}
