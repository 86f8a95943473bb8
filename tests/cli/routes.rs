//! `reflex-django routes`: the table, the URLs, and where every setting came from.

use crate::common::DjangoProject;
use serde_json::Value;

#[test]
fn json_names_every_route_and_the_source_of_every_setting() {
    let project = DjangoProject::new();
    project.write(
        "rxconfig.py",
        "from reflex_django import ReflexDjangoPlugin\n\
         plugins = [ReflexDjangoPlugin(settings_module='mysite.settings', backend_prefix='/api')]\n",
    );
    project.write(
        "reflex-django.yaml",
        "prefixes:\n  extra: [/hooks]\nproxy:\n  port: 9001\n",
    );
    project.write(".env", "REFLEX_DJANGO_REFLEX_FRONTEND_PORT=3301\n");
    let out = project
        .test()
        .args(["routes", "--json"])
        .env("REFLEX_DJANGO_PROXY_HOST", "0.0.0.0")
        .run();
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();

    let routes: Vec<(String, String, String)> = doc["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["prefix"].as_str().unwrap().to_string(),
                r["kind"].as_str().unwrap().to_string(),
                r["source"]["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect = |p: &str, k: &str, s: &str| (p.to_string(), k.to_string(), s.to_string());
    assert_eq!(
        routes,
        vec![
            expect("/admin", "admin", "default"),
            expect("/static", "static", "django"),
            expect("/api", "backend", "rxconfig"),
            expect("/hooks", "extra", "file"),
            expect("/_reflex_django", "internal", "default"),
        ]
    );
    assert_eq!(doc["public"]["front_door"], "http://0.0.0.0:9001");
    assert_eq!(doc["public"]["app"], "http://localhost:3301");
    let source = |path: &str| doc["settings"][path]["source"].clone();
    assert_eq!(source("proxy.port")["kind"], "file");
    assert_eq!(source("proxy.host")["var"], "REFLEX_DJANGO_PROXY_HOST");
    assert_eq!(source("reflex.frontend_port")["from_env_file"], true);
    assert_eq!(source("settings_module")["kind"], "rxconfig");
    assert_eq!(
        doc["settings"]["prefixes.extra"]["value"],
        serde_json::json!(["/hooks"])
    );
    assert_eq!(doc["live"], Value::Null);
}

#[test]
fn text_lists_routes_urls_and_settings() {
    let project = DjangoProject::new();
    let text = project.test().arg("routes").run().stdout;
    for needle in [
        "/admin               → django  admin     default",
        "/static              → django  static    Django STATIC_URL",
        "everything else      → reflex",
        "front door  http://127.0.0.1:8000",
        "settings_module            mysite.settings              manage.py",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}
