//! The patch on the `vite.config.js` that the installed Reflex generates, checked by
//! a real JavaScript engine (bun) with Vite's own matching rule.

use std::path::Path;
use std::process::Command;

use crate::route_table::table;
use reflex_django::proxy::routes::Target;
use reflex_django::vite::{self, ViteRules};

/// Renders Reflex's template through Reflex's own functions: once as `reflex run`
/// does for a default app, once with every optional part switched on.
const RENDER: &str = r#"
import sys, pathlib
import reflex as rx
from reflex.utils import frontend_skeleton
from reflex_base.compiler import templates
out = pathlib.Path(sys.argv[1])
(out / "default.js").write_text(frontend_skeleton._compile_vite_config(rx.Config(app_name="app")))
(out / "everything.js").write_text(templates.vite_config_template(
    base="/app/", hmr=True, force_full_reload=True, experimental_hmr=True,
    sourcemap="inline", minify=False, allowed_hosts=["example.com"], prod_react=True,
    warmup_routes=True, react_compiler=True,
))
"#;

fn reflex_fixtures(dir: &Path) -> Vec<(String, String)> {
    let python = crate::common::python();
    let reflex_dir = dir.join("reflex-dir");
    let output = Command::new(&python)
        .arg("-c")
        .arg(RENDER)
        .arg(dir)
        .current_dir(dir)
        .env("REFLEX_DIR", &reflex_dir)
        .env("REFLEX_CHECK_LATEST_VERSION", "0")
        .env("REFLEX_TELEMETRY_ENABLED", "false")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        output.status.success(),
        "rendering Reflex's vite.config.js failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    ["default.js", "everything.js"]
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(dir.join(name)).unwrap();
            (name.to_string(), text)
        })
        .collect()
}

/// The `server: { … }` object of a config, for snapshots.
fn server_section(text: &str) -> &str {
    let start = text.find("\n  server: {").expect("a server object");
    let end = start + text[start..].find("\n  },").expect("its end") + 5;
    &text[start + 1..end]
}

#[test]
fn patches_the_config_reflex_generates() {
    let dir = tempfile::tempdir().unwrap();
    let rules = ViteRules::new(&table(), "0.0.0.0", 8123);
    for (name, text) in reflex_fixtures(dir.path()) {
        let once = vite::patch(&text, &rules).unwrap();
        assert_eq!(
            vite::patch(&once, &rules).unwrap(),
            once,
            "{name}: not idempotent"
        );
        assert_eq!(
            vite::strip(&once).unwrap(),
            text,
            "{name}: changed outside the block"
        );
        assert_eq!(once.matches(vite::BEGIN).count(), 1, "{name}");
        if name == "default.js" {
            insta::assert_snapshot!(server_section(&once));
        }
    }
}

#[test]
fn vite_sends_exactly_the_route_tables_paths_to_the_front_door() {
    let bun = reflex_django::python::find_program("bun".as_ref()).expect(
        "bun is not on PATH: this test evaluates the patched config with it \
         (source scripts/env.sh, which puts it on PATH)",
    );
    let dir = tempfile::tempdir().unwrap();
    let table = table();
    let rules = ViteRules::new(&table, "127.0.0.1", 8123);
    let urls = [
        "/",
        "/admin",
        "/admin/",
        "/admin/login/?next=/admin/",
        "/admin?x=1",
        "/administrator",
        "/static/admin/css/base.css",
        "/staticfiles",
        "/api/users",
        "/apis",
        "/v1.0/x/y",
        "/v1x0/x",
        "/media",
        "/_reflex_django/session",
        "/_event/?EIO=4&transport=websocket",
        "/ping",
        "/about",
    ];
    for (name, text) in reflex_fixtures(dir.path()) {
        let patched = vite::patch(&text, &rules).unwrap();
        let answers = evaluate_with_bun(&bun, dir.path(), &patched, &urls);
        for (url, answer) in urls.iter().zip(answers) {
            let path = url.split('?').next().unwrap();
            let expected = match table.target(path) {
                Target::Django => Some(rules.target.as_str()),
                Target::Reflex => None,
            };
            assert_eq!(answer.as_deref(), expected, "{name}: {url}");
        }
    }
}

/// Loads the config in bun (imports stubbed) and, for each URL, applies Vite's rule:
/// the first key that is a `^` regex matching `req.url`, or a `startsWith` prefix.
/// Prints the matching entry's target (and checks `ws` and `changeOrigin`).
fn evaluate_with_bun(bun: &Path, dir: &Path, config: &str, urls: &[&str]) -> Vec<Option<String>> {
    let stub = r#"
export const reactRouter = () => ({});
export const defineConfig = (c) => c;
export default () => ({});
"#;
    let harness = r#"
import config from "./vite.config.mjs";
const c = typeof config === "function" ? config({ command: "serve", mode: "development" }) : config;
const proxy = c.server.proxy;
const urls = JSON.parse(process.argv[2]);
console.log(JSON.stringify(urls.map((url) => {
  const key = Object.keys(proxy).find(
    (k) => (k.startsWith("^") && new RegExp(k).test(url)) || url.startsWith(k));
  if (!key) return null;
  const opts = proxy[key];
  if (opts.ws !== true || "changeOrigin" in opts) throw new Error("bad options for " + key);
  return opts.target;
})));
"#;
    let mut module = config.to_string();
    for from in [
        "\"@react-router/dev/vite\"",
        "\"vite\"",
        "\"./vite-plugin-safari-cachebust.js\"",
        "\"./vite-plugin-react-compiler.js\"",
    ] {
        module = module.replace(&format!("from {from}"), "from \"./stub.mjs\"");
    }
    std::fs::write(dir.join("stub.mjs"), stub).unwrap();
    std::fs::write(dir.join("vite.config.mjs"), module).unwrap();
    std::fs::write(dir.join("harness.mjs"), harness).unwrap();
    let output = Command::new(bun)
        .arg("harness.mjs")
        .arg(serde_json::to_string(urls).unwrap())
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "bun could not load the patched config:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}
