//! `reflex-django deploy nginx|compose|k8s`: files for running several replicas of the
//! app behind a load balancer (see `crate::deploy`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::GlobalArgs;
use crate::child_env;
use crate::deploy::{self, Files, Generated, Site};
use crate::error::{Error, Result};
use crate::project::Project;
use crate::proxy::routes::RouteTable;
use crate::python::{self, probe};
use crate::stack::static_prefix;

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(subcommand)]
    pub target: Target,
}

#[derive(Debug, Subcommand)]
pub enum Target {
    /// An nginx server block in front of the replicas (stdout, or --out FILE or DIR)
    Nginx(NginxArgs),
    /// A Dockerfile and a compose.yaml: N replicas, PostgreSQL, Redis, nginx
    Compose(ComposeArgs),
    /// Kubernetes manifests: Deployment, Service, Ingress, ConfigMap, Secret, migrations
    K8s(K8sArgs),
}

#[derive(Debug, Args)]
pub struct NginxArgs {
    /// A replica's front door, HOST:PORT (repeat for each) [default: 127.0.0.1:<proxy.port>]
    #[arg(long = "upstream", value_name = "HOST:PORT")]
    pub upstreams: Vec<String>,
    /// The port nginx listens on
    #[arg(long, default_value_t = 80)]
    pub listen: u16,
    /// nginx's server_name
    #[arg(long, default_value = "_")]
    pub server_name: String,
    /// nginx serves Django's static files and the built frontend from this machine's
    /// disk (after `reflex-django build`); everything else goes to the replicas
    #[arg(long)]
    pub serve_files: bool,
    #[command(flatten)]
    pub out: OutArgs,
}

#[derive(Debug, Args)]
pub struct ComposeArgs {
    /// How many replicas of the app
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub replicas: u32,
    /// The image name [default: <project>:latest]
    #[arg(long)]
    pub image: Option<String>,
    #[command(flatten)]
    pub out: OutArgs,
}

#[derive(Debug, Args)]
pub struct K8sArgs {
    /// How many replicas of the app
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub replicas: u32,
    /// The image the cluster pulls [default: <project>:latest]
    #[arg(long)]
    pub image: Option<String>,
    /// The public host name of the Ingress (none: any host)
    #[arg(long)]
    pub host: Option<String>,
    #[command(flatten)]
    pub out: OutArgs,
}

#[derive(Debug, Args)]
pub struct OutArgs {
    /// Where to write (a directory; for nginx also a file name)
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Replace files even if they were edited since they were made
    #[arg(long)]
    pub force: bool,
}

pub fn run(global: &GlobalArgs, args: DeployArgs) -> Result<ExitCode> {
    let (project, resolved) = global.load(Vec::new())?;
    let port = resolved.config.proxy.port.0;
    let mut site = Site {
        name: project_name(&project),
        port,
        replicas: 1,
        image: String::new(),
        upstreams: Vec::new(),
        listen: 80,
        server_name: "_".into(),
        host: None,
        files: None,
        requirements: project.root.join("requirements.txt").is_file(),
        out_dir: "deploy".into(),
        python_version: "3.13".into(),
    };
    let (files, out, force) = match args.target {
        Target::Nginx(a) => {
            site.upstreams = if a.upstreams.is_empty() {
                vec![format!("127.0.0.1:{port}")]
            } else {
                a.upstreams
                    .iter()
                    .map(|u| upstream(u))
                    .collect::<Result<_>>()?
            };
            site.listen = a.listen;
            site.server_name = a.server_name;
            if a.serve_files {
                site.files = Some(served_files(&project, &resolved)?);
            }
            (deploy::nginx(&site)?, a.out.out, a.out.force)
        }
        Target::Compose(a) => {
            site.replicas = a.replicas;
            site.image = a.image.unwrap_or_else(|| format!("{}:latest", site.name));
            let out = a.out.out.unwrap_or_else(|| project.root.join("deploy"));
            site.out_dir = relative_to(&project.root, &out)?;
            (deploy::compose(&site)?, Some(out), a.out.force)
        }
        Target::K8s(a) => {
            site.replicas = a.replicas;
            site.image = a.image.unwrap_or_else(|| format!("{}:latest", site.name));
            site.host = a.host;
            let out = a.out.out.unwrap_or_else(|| project.root.join("deploy/k8s"));
            (deploy::k8s(&site)?, Some(out), a.out.force)
        }
    };
    emit(&files, out.as_deref(), force)
}

/// Prints the one file (no `--out`), or writes the files and says what was written.
fn emit(files: &[Generated], out: Option<&Path>, force: bool) -> Result<ExitCode> {
    let Some(out) = out else {
        let mut stdout = std::io::stdout().lock();
        for file in files {
            let _ = stdout.write_all(file.text.as_bytes());
        }
        return Ok(ExitCode::SUCCESS);
    };
    // `--out deploy/nginx.conf` names the file; `--out deploy/` the directory.
    let (dir, files) = match (files, out.extension()) {
        ([one], Some(_)) if !out.is_dir() => {
            let dir = out.parent().unwrap_or(Path::new(".")).to_path_buf();
            let name = out.file_name().expect("a file name").into();
            (
                dir,
                vec![Generated {
                    path: name,
                    text: one.text.clone(),
                }],
            )
        }
        _ => (
            out.to_path_buf(),
            files
                .iter()
                .map(|f| Generated {
                    path: f.path.clone(),
                    text: f.text.clone(),
                })
                .collect(),
        ),
    };
    let written = deploy::write(&dir, &files, force)?;
    let mut stderr = anstream::stderr().lock();
    for (label, paths) in [
        ("created", &written.created),
        ("replaced", &written.replaced),
        ("unchanged", &written.unchanged),
    ] {
        for path in paths {
            let _ = writeln!(stderr, "{label:>9} {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn upstream(value: &str) -> Result<String> {
    let bad = || {
        Error::new(format!("--upstream {value:?} is not HOST:PORT"))
            .hint("give each replica's front door, e.g. --upstream 10.0.0.5:8000")
    };
    let (host, port) = value.rsplit_once(':').ok_or_else(bad)?;
    if host.is_empty() || host.contains(char::is_whitespace) || port.parse::<u16>().is_err() {
        return Err(bad());
    }
    Ok(value.to_string())
}

/// The project's name as services and Kubernetes objects accept it.
fn project_name(project: &Project) -> String {
    let raw = project
        .root
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = name.trim_matches('-').to_string();
    if name.is_empty() { "app".into() } else { name }
}

fn relative_to(root: &Path, out: &Path) -> Result<String> {
    let out = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf());
    out.strip_prefix(root)
        .map(|p| p.to_string_lossy().into_owned())
        .map_err(|_| {
            Error::new(format!("{} is outside the project", out.display())).hint(
                "the compose files build the image from the project's root: put them in a \
                 directory inside it, e.g. --out deploy",
            )
        })
}

/// What nginx needs to serve files itself: Django's static prefix and STATIC_ROOT (a
/// Python call that loads the settings), and the built frontend.
fn served_files(project: &Project, resolved: &crate::config::Resolved) -> Result<Files> {
    let python = python::find(project, resolved)?;
    let report = probe::probe(&python, &project.root, &child_env::contract(resolved), true)?;
    let settings = report
        .django_settings(resolved)
        .map_err(|e| e.or_hint("run `reflex-django doctor`"))?;
    let static_prefix = static_prefix::resolve(resolved, Some(settings))?.map(|(p, _)| p);
    let no_files = |what: &str| {
        Error::new(format!("--serve-files needs {what}"))
            .hint("run `reflex-django build` first, or leave out --serve-files (the replicas serve the files)")
    };
    let static_root = settings
        .static_root
        .clone()
        .ok_or_else(|| no_files("STATIC_ROOT in Django's settings"))?;
    let frontend_root = project.root.join(crate::build::FRONTEND_DIR);
    if !frontend_root.join("index.html").is_file() {
        return Err(no_files(&format!(
            "the built frontend in {}",
            frontend_root.display()
        )));
    }
    let table = RouteTable::from_config(&resolved.config.prefixes, static_prefix);
    Files::new(&table, static_root, frontend_root)
        .ok_or_else(|| no_files("a static prefix (Django's STATIC_URL is on another origin)"))
}
