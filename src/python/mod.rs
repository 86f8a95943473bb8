//! Finding the project's Python interpreter, and asking it about the environment.

pub mod probe;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::{Resolved, Source};
use crate::error::{Error, Result};
use crate::project::Project;

/// The interpreter that runs `manage.py`, Django and Reflex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Python {
    pub path: PathBuf,
    pub found_by: FoundBy,
}

/// How the interpreter was found, in order of precedence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FoundBy {
    /// The `python` setting (flag, env or file).
    Setting(Source),
    /// `$VIRTUAL_ENV`, the activated virtual environment.
    VirtualEnv,
    /// `<root>/.venv`.
    ProjectVenv,
    /// The environment this binary was installed into (`pip install reflex-django`).
    BesideBinary,
    /// `python3` on `PATH`.
    Path,
}

impl fmt::Display for FoundBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FoundBy::Setting(source) => write!(f, "`python` setting, {source}"),
            FoundBy::VirtualEnv => f.write_str("$VIRTUAL_ENV"),
            FoundBy::ProjectVenv => f.write_str("the project's .venv"),
            FoundBy::BesideBinary => f.write_str("the environment reflex-django is installed in"),
            FoundBy::Path => f.write_str("python3 on PATH"),
        }
    }
}

/// Finds the interpreter: `python` setting > `$VIRTUAL_ENV` > `<root>/.venv` > the
/// environment of this binary > `python3` on `PATH`. Starts no process.
pub fn find(project: &Project, resolved: &Resolved) -> Result<Python> {
    find_with(
        project,
        resolved,
        std::env::var_os("VIRTUAL_ENV").map(PathBuf::from),
        std::env::current_exe().ok(),
    )
}

fn find_with(
    project: &Project,
    resolved: &Resolved,
    virtual_env: Option<PathBuf>,
    current_exe: Option<PathBuf>,
) -> Result<Python> {
    if let Some(setting) = &resolved.config.python {
        let path = if setting.components().count() == 1 && !setting.is_absolute() {
            // A bare name such as `python3.12` is looked up on PATH.
            find_program(setting.as_os_str()).unwrap_or_else(|| project.root.join(setting))
        } else {
            project.root.join(setting)
        };
        let source = resolved.sources.python.clone();
        if !is_executable(&path) {
            return Err(Error::new(format!(
                "the Python interpreter {} (from {source}) does not exist or is not executable",
                path.display()
            ))
            .hint("point `python` at your virtualenv's interpreter, e.g. `.venv/bin/python`"));
        }
        return Ok(Python {
            path,
            found_by: FoundBy::Setting(source),
        });
    }
    let candidates = [
        (virtual_env.map(|v| venv_python(&v)), FoundBy::VirtualEnv),
        (
            Some(venv_python(&project.root.join(".venv"))),
            FoundBy::ProjectVenv,
        ),
        (
            current_exe.and_then(|exe| Some(exe.parent()?.join("python"))),
            FoundBy::BesideBinary,
        ),
        (find_program("python3".as_ref()), FoundBy::Path),
    ];
    for (path, found_by) in candidates {
        if let Some(path) = path.filter(|p| is_executable(p)) {
            return Ok(Python { path, found_by });
        }
    }
    Err(Error::new("no Python interpreter found").hint(
        "activate your project's virtualenv, create one with `python3 -m venv .venv`, or set \
         `python: path/to/python` in reflex-django.yaml",
    ))
}

fn venv_python(venv: &Path) -> PathBuf {
    venv.join("bin").join("python")
}

/// The first executable called `name` on `PATH`.
pub fn find_program(name: &std::ffi::OsStr) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    fn executable(path: &Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn resolve(project: &Project) -> Resolved {
        config::load_with_env(project, &[], &|_| None).unwrap()
    }

    #[test]
    fn precedence_virtual_env_then_project_venv_then_beside_binary() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("proj");
        std::fs::create_dir_all(&root).unwrap();
        let project = Project::at(&root);
        let resolved = resolve(&project);
        let active = dir.path().join("active");
        let installed = dir.path().join("installed/bin/reflex-django");
        executable(&venv_python(&active));
        executable(&root.join(".venv/bin/python"));
        executable(&installed.with_file_name("python"));

        let found = |venv: Option<&Path>| {
            find_with(
                &project,
                &resolved,
                venv.map(Path::to_path_buf),
                Some(installed.clone()),
            )
            .unwrap()
            .found_by
        };
        assert_eq!(found(Some(&active)), FoundBy::VirtualEnv);
        assert_eq!(found(None), FoundBy::ProjectVenv);
        std::fs::remove_file(root.join(".venv/bin/python")).unwrap();
        assert_eq!(found(None), FoundBy::BesideBinary);
    }

    #[test]
    fn a_missing_configured_python_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("reflex-django.yaml"),
            "python: nope/python\n",
        )
        .unwrap();
        let project = Project::at(dir.path());
        let err = find_with(&project, &resolve(&project), None, None).unwrap_err();
        assert!(err.message().contains("(from reflex-django.yaml)"), "{err}");
        assert!(err.hint_text().unwrap().contains(".venv/bin/python"));
    }
}
