//! Finding the project: its root, its marker files, and the settings module and
//! prefixes that `rxconfig.py` and `manage.py` already name.
//!
//! Nothing here starts Python: the forwarding path must stay fast.

pub mod pyliteral;

use std::path::{Path, PathBuf};

use crate::error::{Context, Error, Result};

pub const CONFIG_FILE: &str = "reflex-django.yaml";
pub const RXCONFIG_FILE: &str = "rxconfig.py";
pub const MANAGE_FILE: &str = "manage.py";

#[derive(Clone, Debug)]
pub struct Project {
    pub root: PathBuf,
    /// `reflex-django.yaml`, when the project has one.
    pub config_file: Option<PathBuf>,
    /// `rxconfig.py`, when the project has one.
    pub rxconfig: Option<PathBuf>,
    /// `manage.py`, when the project has one.
    pub manage_py: Option<PathBuf>,
}

impl Project {
    /// The project root is the nearest directory upwards from `start` that holds
    /// `reflex-django.yaml`; failing that, `rxconfig.py`; failing that, `manage.py`.
    pub fn discover(start: &Path) -> Result<Project> {
        let start = std::path::absolute(start)
            .with_context(|| format!("cannot resolve the directory {}", start.display()))?;
        for marker in [CONFIG_FILE, RXCONFIG_FILE, MANAGE_FILE] {
            if let Some(root) = start.ancestors().find(|d| d.join(marker).is_file()) {
                return Ok(Project::at(root));
            }
        }
        Err(Error::new(format!(
            "no Django + Reflex project found in {} or any parent directory",
            start.display()
        ))
        .hint(format!(
            "run this inside your project (a directory with {CONFIG_FILE}, {RXCONFIG_FILE} or \
             {MANAGE_FILE}), pass --project DIR, or create one with `reflex-django init`"
        )))
    }

    /// A project rooted at `root`, with whichever marker files it has.
    pub fn at(root: &Path) -> Project {
        let existing = |name: &str| Some(root.join(name)).filter(|p| p.is_file());
        Project {
            root: root.to_path_buf(),
            config_file: existing(CONFIG_FILE),
            rxconfig: existing(RXCONFIG_FILE),
            manage_py: existing(MANAGE_FILE),
        }
    }

    /// `manage.py`, or an error that says how to get one.
    pub fn require_manage_py(&self) -> Result<&Path> {
        self.manage_py.as_deref().ok_or_else(|| {
            Error::new(format!("no {MANAGE_FILE} in {}", self.root.display())).hint(
                "reflex-django forwards Django commands to manage.py; create one with \
                 `django-admin startproject <name> .` in the project root",
            )
        })
    }

    /// The literal arguments of `ReflexDjangoPlugin(...)` in `rxconfig.py`.
    pub fn plugin_args(&self) -> Result<Option<pyliteral::PluginArgs>> {
        let Some(path) = &self.rxconfig else {
            return Ok(None);
        };
        let text = read(path)?;
        Ok(pyliteral::plugin_args(&text))
    }

    /// The Reflex app's package directory (`<root>/<app_name>`), from `rxconfig.py`.
    pub fn reflex_app_dir(&self) -> Result<Option<PathBuf>> {
        let Some(path) = &self.rxconfig else {
            return Ok(None);
        };
        Ok(pyliteral::config_app_name(&read(path)?).map(|name| self.root.join(name)))
    }

    /// The settings module that `manage.py` puts in `os.environ.setdefault(...)`.
    pub fn manage_py_settings(&self) -> Result<Option<String>> {
        let Some(path) = &self.manage_py else {
            return Ok(None);
        };
        Ok(pyliteral::setdefault_settings_module(&read(path)?))
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_wins_over_nearer_rxconfig_and_manage_py() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "").unwrap();
        std::fs::write(dir.path().join("a").join(MANAGE_FILE), "").unwrap();
        let project = Project::discover(&sub).unwrap();
        assert_eq!(project.root, dir.path());
        assert!(project.manage_py.is_none());
    }

    #[test]
    fn falls_back_to_rxconfig_then_manage_py() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(MANAGE_FILE), "").unwrap();
        assert_eq!(Project::discover(&sub).unwrap().root, sub);
        std::fs::write(dir.path().join(RXCONFIG_FILE), "").unwrap();
        assert_eq!(Project::discover(&sub).unwrap().root, dir.path());
    }

    #[test]
    fn no_project_is_an_error_with_a_hint() {
        let dir = tempfile::tempdir().unwrap();
        let err = Project::discover(dir.path()).unwrap_err();
        assert!(err.message().contains("no Django + Reflex project found"));
        assert!(err.hint_text().unwrap().contains("reflex-django init"));
    }
}
