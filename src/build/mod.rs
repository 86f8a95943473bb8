//! `reflex-django build`: what `run --env prod` serves. Compiles the Reflex frontend
//! for production (Reflex's own static export), collects Django's static files,
//! writes precompressed variants of both, and stamps the result.

pub mod precompress;
pub mod stamp;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::config::Resolved;
use crate::error::{Context, Error, Result};
use crate::mode::Mode;
use crate::progress::{self, Step};
use crate::project::Project;
use crate::python::Python;
use crate::python::probe;
use crate::{bun, child_env, python};

pub use stamp::{FRONTEND_DIR, Stamp};

/// The plugin that makes the built frontend talk to the origin that serves it.
const SAME_ORIGIN_PLUGIN: &str = "reflex_django.build.SameOriginBuild";
/// Its `env.json` flag, cleared after the export.
const SAME_ORIGIN_FLAG: &str = "REFLEX_DJANGO_SAME_ORIGIN";
/// A name only its patch of Reflex's `getBackendURL` puts in the bundle: found there,
/// it proves the patch took effect (`reflex_django.build.BUNDLE_MARK`).
const SAME_ORIGIN_MARK: &str = "__reflexDjangoSameOrigin";

/// The backend address a build without the same-origin patch bakes in: `public_url`,
/// else the front door on localhost (the browser swaps in the page's host name).
pub fn api_url(resolved: &Resolved) -> String {
    match &resolved.config.public_url {
        Some(url) => url.origin(),
        None => format!("http://localhost:{}", resolved.config.proxy.port),
    }
}

/// What a build made, for the summary.
#[derive(Debug)]
pub struct Built {
    pub stamp: Stamp,
    pub frontend: Tally,
    pub static_files: Option<Tally>,
    pub seconds: f64,
}

/// Files and bytes of one output directory.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    pub files: u64,
    pub bytes: u64,
    pub compressed: precompress::Summary,
}

/// Builds the project for production.
pub fn build(project: &Project, resolved: &Resolved) -> Result<Built> {
    let started = Instant::now();
    if project.rxconfig.is_none() {
        return Err(Error::new(format!(
            "no rxconfig.py in {}: `build` needs a Reflex app",
            project.root.display()
        ))
        .hint("create one with `reflex-django init`, or add a Reflex app with `reflex init`"));
    }
    let step = Step::start("Checking the project");
    let checked = check(project, resolved);
    let Checked {
        python,
        env,
        settings,
        has_plugin,
    } = match checked {
        Ok(found) => {
            step.done("");
            found
        }
        Err(e) => {
            step.fail();
            return Err(e);
        }
    };

    // Taken before the export reads them: an edit made during the build makes it stale.
    let sources = stamp::fingerprint(project)?;
    let api_url = api_url(resolved);
    export_frontend(project, &python, &env, &api_url, has_plugin)?;
    let frontend_dir = project.root.join(FRONTEND_DIR);
    let same_origin = bundle_mentions(&frontend_dir.join("assets"), SAME_ORIGIN_MARK);
    let routes = read_routes(&project.root.join(".web/routes.json"))?;

    let static_root = collect_static(project, &python, &env, &settings)?;

    let step = Step::start("Compressing (brotli, gzip)");
    let compressed = precompress::precompress(&frontend_dir).and_then(|front| {
        let back = match &static_root {
            Some(dir) => Some(precompress::precompress(dir)?),
            None => None,
        };
        Ok((front, back))
    });
    let (front_compressed, static_compressed) = match compressed {
        Ok(done) => {
            let files = done.0.files + done.1.map_or(0, |s| s.files);
            step.done(&format!("{files} files"));
            done
        }
        Err(e) => {
            step.fail();
            return Err(e);
        }
    };

    let stamp = Stamp {
        version: env!("CARGO_PKG_VERSION").into(),
        built_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        api_url,
        same_origin,
        routes,
        static_root: static_root.clone(),
        sources,
    };
    // Everything the stamp vouches for reaches the disk before the stamp does.
    sync(&project.root);
    stamp.write(&project.root)?;
    Ok(Built {
        frontend: tally(&frontend_dir, front_compressed)?,
        static_files: match (&static_root, static_compressed) {
            (Some(dir), Some(c)) => Some(tally(dir, c)?),
            _ => None,
        },
        stamp,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// What the build works with, once checked.
struct Checked {
    python: Python,
    /// The children's environment, in production mode.
    env: Vec<(String, String)>,
    settings: probe::Settings,
    /// Whether the project's Python has the `reflex_django` package (same-origin builds).
    has_plugin: bool,
}

/// The interpreter, the children's environment and Django's settings; errors for
/// what would make the build fail halfway.
fn check(project: &Project, resolved: &Resolved) -> Result<Checked> {
    let python = python::find(project, resolved)?;
    // Collect and compile with the settings production will run with.
    let mut env = child_env::contract_for(resolved, Mode::Prod);
    let report = probe::probe(&python, &project.root, &env, true)?;
    report.require_django_and_reflex()?;
    let has_plugin = report
        .package("reflex_django")
        .is_some_and(|p| p.importable);
    let settings = report.django_settings(resolved)?.clone();
    if bun::wanted() {
        env.extend(bun::find()?.path_env());
    }
    Ok(Checked {
        python,
        env,
        settings,
        has_plugin,
    })
}

fn export_frontend(
    project: &Project,
    python: &Python,
    env: &[(String, String)],
    api_url: &str,
    has_plugin: bool,
) -> Result<()> {
    let mut cmd = Command::new(&python.path);
    cmd.args([
        "-m",
        "reflex",
        "export",
        "--frontend-only",
        "--no-zip",
        "--env",
        "prod",
    ])
    .current_dir(&project.root)
    .envs(env.iter().map(|(k, v)| (k, v)))
    .env("REFLEX_API_URL", api_url)
    // Reflex's progress bars would fill the captured output with redraws.
    .env("NO_COLOR", "1")
    .env("PYTHONUNBUFFERED", "1");
    if has_plugin {
        let mut plugins = std::env::var("REFLEX_EXTRA_PLUGINS").unwrap_or_default();
        if !plugins.split(':').any(|p| p == SAME_ORIGIN_PLUGIN) {
            if !plugins.is_empty() {
                plugins.push(':');
            }
            plugins.push_str(SAME_ORIGIN_PLUGIN);
        }
        cmd.env("REFLEX_EXTRA_PLUGINS", plugins);
    }
    let step = Step::start("Compiling the frontend (reflex export)");
    let result = progress::run(
        step,
        &mut cmd,
        "Reflex's export",
        "its last lines are shown above; `reflex export --frontend-only --no-zip` in the \
         project shows the same error; bun must be on PATH (see `reflex-django doctor`)",
    );
    // The flag belongs to this bundle only; later dev compiles must not inherit it.
    clear_env_json_flag(&project.root.join(".web/env.json"));
    result?;
    if !project.root.join(FRONTEND_DIR).join("index.html").is_file() {
        return Err(Error::new(format!(
            "Reflex's export finished but wrote no {FRONTEND_DIR}/index.html"
        ))
        .hint("run `reflex export --frontend-only --no-zip --loglevel debug` in the project"));
    }
    Ok(())
}

fn clear_env_json_flag(path: &Path) {
    let Ok(text) = std::fs::read(path) else {
        return;
    };
    let Ok(serde_json::Value::Object(mut map)) = serde_json::from_slice(&text) else {
        return;
    };
    if map.remove(SAME_ORIGIN_FLAG).is_some() {
        let text = serde_json::to_vec(&map).expect("JSON serializes");
        let _ = crate::atomic::write(path, &text, 0o644);
    }
}

/// Whether a file under `dir` contains `needle`.
fn bundle_mentions(dir: &Path, needle: &str) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.filter_map(|e| e.ok()).any(|entry| {
        let path = entry.path();
        path.extension().is_some_and(|e| e == "js")
            && std::fs::read(&path)
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
    })
}

fn read_routes(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read(path).with_context(|| {
        format!(
            "cannot read {}, the app's routes that Reflex writes when it compiles",
            path.display()
        )
    })?;
    serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a list of routes", path.display()))
}

/// Runs `collectstatic`; `Some(STATIC_ROOT)` when Django has static files to serve.
fn collect_static(
    project: &Project,
    python: &Python,
    env: &[(String, String)],
    settings: &probe::Settings,
) -> Result<Option<PathBuf>> {
    if !settings.apps.iter().any(|a| a.label == "staticfiles") {
        return Ok(None);
    }
    let Some(static_root) = settings.static_root.clone() else {
        return Err(Error::new(
            "Django's STATIC_ROOT is not set, so there is nowhere to collect static files to",
        )
        .hint(
            "set `STATIC_ROOT = BASE_DIR / \"staticfiles\"` in your settings; the front door \
             serves that directory under the static prefix",
        ));
    };
    check_static_root(project, &static_root)?;
    let mut cmd = Command::new(&python.path);
    cmd.args(["-m", "django", "collectstatic", "--noinput"])
        .current_dir(&project.root)
        .envs(env.iter().map(|(k, v)| (k, v)));
    let what = format!(
        "Collecting Django's static files into {}",
        static_root.display()
    );
    progress::run(
        Step::start(what),
        &mut cmd,
        "collectstatic",
        "its last lines are shown above; `reflex-django collectstatic` shows the same error",
    )?;
    Ok(Some(static_root))
}

/// The front door serves every file under `STATIC_ROOT`: it must not hold the project
/// (settings, the database, `.env` would be public).
pub fn check_static_root(project: &Project, static_root: &Path) -> Result<()> {
    if project.root.starts_with(static_root) {
        return Err(Error::new(format!(
            "STATIC_ROOT ({}) contains the project, so serving it would publish the \
             settings and the database",
            static_root.display()
        ))
        .hint("point STATIC_ROOT at a directory of its own, e.g. BASE_DIR / \"staticfiles\""));
    }
    Ok(())
}

fn tally(dir: &Path, compressed: precompress::Summary) -> Result<Tally> {
    fn walk(dir: &Path, tally: &mut Tally) -> Result<()> {
        for entry in
            std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?
        {
            let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
            let path = entry.path();
            let meta = entry
                .metadata()
                .with_context(|| format!("cannot read {}", path.display()))?;
            if meta.is_dir() {
                walk(&path, tally)?;
            } else if !path.extension().is_some_and(|e| e == "br" || e == "gz") {
                tally.files += 1;
                tally.bytes += meta.len();
            }
        }
        Ok(())
    }
    let mut tally = Tally {
        compressed,
        ..Tally::default()
    };
    walk(dir, &mut tally)?;
    Ok(tally)
}

/// Flushes the file system that holds `root`; written files survive a crash.
fn sync(root: &Path) {
    if let Ok(dir) = std::fs::File::open(root) {
        crate::platform::sync_filesystem(&dir);
    }
}
