//! The project `reflex-django init` makes: templates embedded in the binary, rendered
//! with minijinja, written atomically without ever deleting a user's file.

use std::path::{Path, PathBuf};

use minijinja::Environment;
use serde::Serialize;

use crate::error::{Context, Error, Result};

/// The names that fill the templates.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Names {
    /// Distribution name (pyproject), from the directory name.
    pub name: String,
    /// The Reflex app package.
    pub app: String,
    /// The Django project package (settings, urls, asgi).
    pub django_project: String,
    /// Human title for the page and README.
    pub title: String,
}

/// Where the project's template `name` (`backend/settings.py.j2`, a path under
/// `templates/project/`) goes: its path without `.j2`, except that the dot files are
/// kept visible in the repository (`gitignore.j2` is `.gitignore`) and the package
/// directories take the names chosen (`app/` and its `app.py` the Reflex app's,
/// `backend/` the Django project's).
fn target(name: &str, names: &Names) -> PathBuf {
    let path = name.strip_suffix(".j2").unwrap_or(name);
    match path.split_once('/') {
        None if matches!(path, "gitignore" | "env.example") => format!(".{path}").into(),
        Some(("app", "app.py")) => Path::new(&names.app).join(format!("{}.py", names.app)),
        Some(("app", rest)) => Path::new(&names.app).join(rest),
        Some(("backend", rest)) => Path::new(&names.django_project).join(rest),
        _ => path.into(),
    }
}

/// Module names a generated package must not take: they would shadow what the
/// project imports.
const TAKEN: &[&str] = &[
    "notes",
    "django",
    "reflex",
    "reflex_django",
    "uvicorn",
    "granian",
    "test",
    "tests",
    "site",
    "abc",
    "asyncio",
    "builtins",
    "code",
    "collections",
    "copy",
    "csv",
    "datetime",
    "email",
    "enum",
    "functools",
    "html",
    "http",
    "io",
    "json",
    "logging",
    "math",
    "os",
    "pathlib",
    "platform",
    "queue",
    "random",
    "re",
    "secrets",
    "select",
    "signal",
    "socket",
    "sqlite3",
    "ssl",
    "string",
    "struct",
    "sys",
    "tempfile",
    "threading",
    "time",
    "token",
    "types",
    "typing",
    "unittest",
    "urllib",
    "uuid",
    "warnings",
    "xml",
    "zipfile",
];

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Checks that `value` can be the Python package `what` (e.g. "--name").
pub fn validate_package(value: &str, flag: &str) -> Result<()> {
    let mut chars = value.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !identifier {
        return Err(Error::new(format!(
            "`{value}` ({flag}) is not a valid Python package name"
        ))
        .hint("use letters, digits and underscores, starting with a letter, e.g. `my_app`"));
    }
    if KEYWORDS.contains(&value) {
        return Err(
            Error::new(format!("`{value}` ({flag}) is a Python keyword"))
                .hint("pick another name, e.g. `my_app`"),
        );
    }
    if TAKEN.contains(&value) {
        return Err(Error::new(format!(
            "`{value}` ({flag}) would shadow the `{value}` module the project imports"
        ))
        .hint("pick another name, e.g. `my_app`"));
    }
    Ok(())
}

/// A package name made from a directory name: `My Site` → `my_site`.
pub fn package_from(dir_name: &str) -> String {
    let mut name: String = dir_name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "app_");
    }
    name
}

impl Names {
    pub fn new(dir: &Path, app: Option<String>, django_project: Option<String>) -> Result<Names> {
        let dir_name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "app".into());
        let app = app.unwrap_or_else(|| package_from(&dir_name));
        let django_project = django_project.unwrap_or_else(|| "backend".into());
        validate_package(&app, "--name")?;
        validate_package(&django_project, "--django-project")?;
        if app == django_project {
            return Err(Error::new(format!(
                "the Reflex app and the Django project would both be `{app}`"
            ))
            .hint("give them different names with --name and --django-project"));
        }
        let title = dir_name
            .split(['-', '_', ' '])
            .filter(|w| !w.is_empty())
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect::<String>())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Names {
            name: dir_name.trim().replace([' ', '_'], "-").to_lowercase(),
            app,
            django_project,
            title,
        })
    }
}

/// The template engine of the files we write (`init`, `deploy`): files keep their
/// final newline, and nothing is escaped (the files are code and configuration, not
/// HTML, whatever their names end with).
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
            .expect("valid syntax config"),
    );
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env
}

/// Every file of the project, rendered: `(relative path, text)`, one for each
/// template under `templates/project/` (embedded by build.rs).
pub fn render(names: &Names) -> Result<Vec<(PathBuf, String)>> {
    let mut env = environment();
    minijinja_embed::load_templates!(&mut env, "project");
    // `version`: the project's pyproject.toml asks for the reflex-django that `init`
    // installs, or `uv run`, which syncs the environment to that file, would swap it
    // for the index's newest.
    let context = minijinja::context! {
        version => env!("CARGO_PKG_VERSION"),
        ..minijinja::Value::from(minijinja::value::Serde(names))
    };
    env.templates()
        .map(|(name, template)| {
            let text = template
                .render(&context)
                .with_context(|| format!("cannot render the template {name}"))?;
            Ok((target(name, names), text))
        })
        .collect()
}

/// What writing the project did.
#[derive(Debug, Default)]
pub struct Written {
    pub created: Vec<PathBuf>,
    pub overwritten: Vec<PathBuf>,
}

/// Writes `files` under `dir`. An existing non-empty directory is refused unless
/// `force`; with `force`, files of the same name are replaced and nothing else is
/// touched. Each file is written to a temporary file and renamed into place.
pub fn write(dir: &Path, files: &[(PathBuf, String)], force: bool) -> Result<Written> {
    if !force && dir.is_dir() {
        let mut entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        if entries.next().is_some() {
            return Err(Error::new(format!("{} is not empty", dir.display())).hint(
                "choose a new directory, or pass --force to add the project's files here \
                 (files with the same names are replaced; nothing is deleted)",
            ));
        }
    }
    let mut written = Written::default();
    for (rel, text) in files {
        let path = dir.join(rel);
        let existed = path.exists();
        let mode = if rel == Path::new("manage.py") {
            0o755
        } else {
            0o644
        };
        crate::atomic::write(&path, text.as_bytes(), mode)?;
        if existed {
            written.overwritten.push(rel.clone());
        } else {
            written.created.push(rel.clone());
        }
    }
    Ok(written)
}

/// `.env` with a fresh secret key, unless the project already has one: a key must
/// stay stable, or every restart would sign everyone out.
pub fn write_env_file(dir: &Path) -> Result<bool> {
    let path = dir.join(".env");
    if path.exists() {
        return Ok(false);
    }
    crate::atomic::write(&path, env_file_text(&secret_key()?).as_bytes(), 0o600)?;
    Ok(true)
}

/// The key is single-quoted: unquoted, a key that starts with `#` would read as an
/// empty value followed by a comment.
fn env_file_text(secret_key: &str) -> String {
    format!(
        "# Made by `reflex-django init`. Keep it secret; it is in .gitignore.\n\
         SECRET_KEY='{secret_key}'\nALLOWED_HOSTS=localhost,127.0.0.1,[::1]\n\
         # DEBUG is on under `reflex-django run` and off under `run --env prod`;\n\
         # DEBUG=0 or DEBUG=1 here decides for both.\n"
    )
}

/// 50 characters from the kernel's random source, like Django's own generator.
fn secret_key() -> Result<String> {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789!@#%^&*(-_=+)";
    // 256 % 49 != 0, so reject the bytes that would bias the choice.
    let limit = 256 - 256 % CHARS.len();
    let mut key = String::new();
    let mut pool = crate::random::bytes::<50>()?.to_vec();
    while key.len() < 50 {
        if pool.is_empty() {
            pool.extend_from_slice(&crate::random::bytes::<16>()?);
        }
        let b = pool.pop().expect("refilled") as usize;
        if b < limit {
            key.push(CHARS[b % CHARS.len()] as char);
        }
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_directories() {
        assert_eq!(package_from("My Site"), "my_site");
        assert_eq!(package_from("2048-game"), "app_2048_game");
        let names = Names::new(Path::new("/x/my-site"), None, None).unwrap();
        assert_eq!(names.app, "my_site");
        assert_eq!(names.django_project, "backend");
        assert_eq!(names.title, "My Site");
        assert_eq!(names.name, "my-site");
    }

    #[test]
    fn each_template_has_its_own_place_under_the_names_chosen() {
        let names = Names::new(
            Path::new("/x/site"),
            Some("shop".into()),
            Some("core".into()),
        );
        let names = names.unwrap();
        for (template, path) in [
            ("gitignore.j2", ".gitignore"),
            ("env.example.j2", ".env.example"),
            ("manage.py.j2", "manage.py"),
            ("app/app.py.j2", "shop/shop.py"),
            ("app/__init__.py.j2", "shop/__init__.py"),
            ("backend/settings.py.j2", "core/settings.py"),
            (
                "notes/migrations/__init__.py.j2",
                "notes/migrations/__init__.py",
            ),
        ] {
            assert_eq!(target(template, &names), Path::new(path), "{template}");
        }
        let files = render(&names).unwrap();
        let places: std::collections::HashSet<_> = files.iter().map(|(p, _)| p).collect();
        assert_eq!(
            places.len(),
            files.len(),
            "two templates, one file: {files:?}"
        );
        assert!(places.contains(&PathBuf::from("shop/shop.py")));
    }

    #[test]
    fn the_project_asks_for_the_reflex_django_init_installs() {
        let names = Names::new(Path::new("/x/shop"), None, None).unwrap();
        let files = render(&names).unwrap();
        let (_, pyproject) = files
            .iter()
            .find(|(path, _)| path == Path::new("pyproject.toml"))
            .unwrap();
        let wanted = format!("\"reflex-django=={}\"", env!("CARGO_PKG_VERSION"));
        assert!(pyproject.contains(&wanted), "{pyproject}");
    }

    #[test]
    fn bad_names_are_refused_with_a_hint() {
        for (bad, why) in [
            ("1app", "not a valid Python package name"),
            ("my-app", "not a valid Python package name"),
            ("class", "Python keyword"),
            ("django", "would shadow"),
            ("notes", "would shadow"),
        ] {
            let err = validate_package(bad, "--name").unwrap_err();
            assert!(err.message().contains(why), "{bad}: {err}");
            assert!(err.hint_text().is_some());
        }
        let err = Names::new(Path::new("/x/site"), Some("web".into()), Some("web".into()));
        assert!(err.unwrap_err().message().contains("both be `web`"));
    }

    #[test]
    fn every_secret_key_reads_back_from_the_env_file() {
        for key in ["#starts-with-a-hash=x", &secret_key().unwrap()] {
            let text = env_file_text(key);
            let read: Vec<(String, String)> = dotenvy::from_read_iter(text.as_bytes())
                .map(Result::unwrap)
                .collect();
            assert!(
                read.contains(&("SECRET_KEY".into(), key.to_string())),
                "{read:?}"
            );
        }
    }

    #[test]
    fn secret_keys_are_fresh() {
        let a = secret_key().unwrap();
        assert_eq!(a.len(), 50);
        assert_ne!(a, secret_key().unwrap());
    }
}
