use super::*;
use crate::proxy::routes::{Prefix, Route, RouteKind};

fn site() -> Site {
    Site {
        name: "notes-app".into(),
        port: 8000,
        replicas: 2,
        image: "notes-app:latest".into(),
        upstreams: vec!["10.0.0.11:8000".into(), "10.0.0.12:8000".into()],
        listen: 80,
        server_name: "notes.example.com".into(),
        host: Some("notes.example.com".into()),
        files: None,
        requirements: false,
        out_dir: "deploy".into(),
        python_version: "3.13".into(),
    }
}

fn table() -> RouteTable {
    let route = |p: &str, kind| Route::new(Prefix::parse(p).unwrap(), kind);
    RouteTable::with_internal([
        route("/admin", RouteKind::Admin),
        route("/api", RouteKind::Backend),
        route("/static", RouteKind::Static),
    ])
}

fn text(files: &[Generated], name: &str) -> String {
    files
        .iter()
        .find(|f| f.path == Path::new(name))
        .unwrap_or_else(|| panic!("no {name}"))
        .text
        .clone()
}

#[test]
fn nginx_proxies_everything_to_the_replicas() {
    let files = nginx(&site()).unwrap();
    assert_eq!(files.len(), 1);
    insta::assert_snapshot!(text(&files, "nginx.conf"));
}

#[test]
fn nginx_can_serve_the_files_itself() {
    let mut site = site();
    site.files = Files::new(
        &table(),
        "/srv/app/staticfiles".into(),
        "/srv/app/.web/build/client".into(),
    );
    let files = site.files.as_ref().unwrap();
    assert_eq!(files.static_prefix, "/static");
    // Django's prefixes and Reflex's backend paths, not the event socket (its own
    // location) nor the static prefix (served from disk).
    assert!(files.proxied.contains(&"/admin".to_string()));
    assert!(files.proxied.contains(&"/_reflex_django".to_string()));
    assert!(files.proxied.contains(&"/_upload".to_string()));
    assert!(
        !files
            .proxied
            .iter()
            .any(|p| p == "/_event" || p == "/static")
    );
    insta::assert_snapshot!(text(&nginx(&site).unwrap(), "nginx.conf"));
}

#[test]
fn compose_makes_an_image_a_stack_and_its_nginx() {
    let files = compose(&site()).unwrap();
    let names: Vec<_> = files.iter().map(|f| f.path.display().to_string()).collect();
    assert_eq!(
        names,
        [
            "Dockerfile",
            "Dockerfile.dockerignore",
            "compose.yaml",
            "nginx.conf"
        ]
    );
    insta::assert_snapshot!("compose_dockerfile", text(&files, "Dockerfile"));
    insta::assert_snapshot!("compose_yaml", text(&files, "compose.yaml"));
    let nginx_conf = text(&files, "nginx.conf");
    assert!(nginx_conf.contains("server app-1:8000") && nginx_conf.contains("server app-2:8000"));
    // The Dockerfile's parser directive stays on the first line.
    assert!(text(&files, "Dockerfile").starts_with("# syntax=docker/dockerfile:1\n# Made by"));
}

#[test]
fn compose_installs_from_requirements_txt_when_there_is_one() {
    let mut site = site();
    site.requirements = true;
    let dockerfile = text(&compose(&site).unwrap(), "Dockerfile");
    assert!(dockerfile.contains("pip install -r requirements.txt"));
    assert!(!dockerfile.contains("tomllib"));
}

#[test]
fn k8s_makes_a_deployment_a_service_an_ingress_and_their_settings() {
    let files = k8s(&site()).unwrap();
    for file in &files {
        insta::assert_snapshot!(format!("k8s_{}", file.path.display()), file.text);
    }
    let mut no_host = site();
    no_host.host = None;
    let ingress = text(&k8s(&no_host).unwrap(), "ingress.yaml");
    assert!(!ingress.contains("host:"), "{ingress}");
}

#[test]
fn a_generated_file_is_told_from_an_edited_one() {
    for body in [
        "upstream x {}\n",
        "# syntax=docker/dockerfile:1\nFROM python\n",
    ] {
        let made = protect("nginx", body);
        assert!(untouched(&made), "{made}");
        let last = body.trim_end().lines().last().unwrap();
        assert!(!untouched(&made.replace(last, &format!("{last} edited"))));
        assert!(!untouched(&format!("{made}# mine\n")));
    }
    assert!(!untouched("server {}\n"));
    assert!(!untouched(""));
}

#[test]
fn write_replaces_only_untouched_files_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let first = nginx(&site()).unwrap();
    let written = write(dir.path(), &first, false).unwrap();
    assert_eq!(written.created.len(), 1);
    let mut other = site();
    other.listen = 8080;
    let second = nginx(&other).unwrap();
    // Not edited: regenerating replaces it.
    assert_eq!(write(dir.path(), &second, false).unwrap().replaced.len(), 1);
    assert_eq!(
        write(dir.path(), &second, false).unwrap().unchanged.len(),
        1
    );
    // Edited: refused, and the file is as the user left it.
    let path = dir.path().join("nginx.conf");
    let edited = std::fs::read_to_string(&path)
        .unwrap()
        .replace("listen 8080", "listen 9090");
    std::fs::write(&path, &edited).unwrap();
    let err = write(dir.path(), &first, false).unwrap_err();
    assert!(err.message().contains("was edited"), "{}", err.message());
    assert!(err.hint_text().unwrap().contains("--force"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited);
    // A file of the user's that we never made: refused too.
    std::fs::write(&path, "server {}\n").unwrap();
    assert!(write(dir.path(), &first, false).is_err());
    // --force replaces it.
    assert_eq!(write(dir.path(), &first, true).unwrap().replaced.len(), 1);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), first[0].text);
}

#[test]
fn a_refusal_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), "services: {}\n").unwrap();
    assert!(write(dir.path(), &compose(&site()).unwrap(), false).is_err());
    assert!(!dir.path().join("Dockerfile").exists());
}
