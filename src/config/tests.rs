use super::*;
use crate::project::Project;

fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, Project) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let project = Project::at(dir.path());
    (dir, project)
}

fn load_env(project: &Project, flags: &[FlagValue], env: &[(&str, &str)]) -> Result<Resolved> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    load_with_env(project, flags, &move |name| {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
}

const MANAGE: &str = "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'from_manage.settings')\n";
const RXCONFIG: &str =
    "ReflexDjangoPlugin(settings_module='from_rx.settings', backend_prefix='/api')\n";

#[test]
fn defaults_when_nothing_is_configured() {
    let (_d, p) = project(&[]);
    let r = load_env(&p, &[], &[]).unwrap();
    assert_eq!(r.config, Config::default());
    assert!(r.sources == Sources::default());
}

#[test]
fn settings_module_precedence_all_five_ways() {
    let flag = FlagValue::new("--settings", "from_flag.settings", |l, s| {
        l.settings_module = Some(Some(s))
    })
    .unwrap();
    let (_d, p) = project(&[("manage.py", MANAGE)]);
    let r = load_env(&p, &[], &[]).unwrap();
    assert_eq!(
        r.config.settings_module.as_deref(),
        Some("from_manage.settings")
    );
    assert_eq!(&r.sources.settings_module, &Source::ManagePy);

    let (_d, p) = project(&[("manage.py", MANAGE), ("rxconfig.py", RXCONFIG)]);
    let r = load_env(&p, &[], &[]).unwrap();
    assert_eq!(
        r.config.settings_module.as_deref(),
        Some("from_rx.settings")
    );
    assert_eq!(&r.sources.settings_module, &Source::Rxconfig);

    let files = [
        ("manage.py", MANAGE),
        ("rxconfig.py", RXCONFIG),
        (
            "reflex-django.yaml",
            "settings_module: from_yaml.settings\n",
        ),
    ];
    let (_d, p) = project(&files);
    let r = load_env(&p, &[], &[]).unwrap();
    assert_eq!(
        r.config.settings_module.as_deref(),
        Some("from_yaml.settings")
    );

    let env = [("DJANGO_SETTINGS_MODULE", "from_env.settings")];
    let r = load_env(&p, &[], &env).unwrap();
    assert_eq!(
        r.config.settings_module.as_deref(),
        Some("from_env.settings")
    );
    assert_eq!(
        &r.sources.settings_module,
        &Source::Env {
            var: "DJANGO_SETTINGS_MODULE".into(),
            from_env_file: false
        }
    );

    let r = load_env(&p, &[flag], &env).unwrap();
    assert_eq!(
        r.config.settings_module.as_deref(),
        Some("from_flag.settings")
    );
    assert_eq!(
        &r.sources.settings_module,
        &Source::Flag {
            flag: "--settings".into()
        }
    );
}

#[test]
fn one_merge_rule_for_every_setting() {
    let yaml = "proxy:\n  port: 9000\n  host: 0.0.0.0\nprefixes:\n  extra: [/hooks/]\n";
    let (_d, p) = project(&[("rxconfig.py", RXCONFIG), ("reflex-django.yaml", yaml)]);
    let env = [
        ("REFLEX_DJANGO_PROXY_PORT", "9100"),
        ("REFLEX_DJANGO_RESTART_MAX_CRASHES", "7"),
        ("REFLEX_DJANGO_SHUTDOWN_GRACE", "250ms"),
    ];
    let r = load_env(&p, &[], &env).unwrap();
    let c = &r.config;
    assert_eq!(c.proxy.port, Port(9100));
    assert_eq!(c.proxy.host, "0.0.0.0");
    assert_eq!(c.restart.max_crashes, 7);
    assert_eq!(
        c.shutdown.grace,
        Seconds(std::time::Duration::from_millis(250))
    );
    assert_eq!(c.prefixes.backend.as_ref().unwrap().0.as_str(), "/api");
    assert_eq!(c.prefixes.extra[0].0.as_str(), "/hooks");
    assert_eq!(&r.sources.proxy.host, &Source::File);
    assert_eq!(&r.sources.prefixes.backend, &Source::Rxconfig);
    assert_eq!(&r.sources.prefixes.admin, &Source::Default);
    assert!(
        matches!(&r.sources.proxy.port, Source::Env { var, .. } if var == "REFLEX_DJANGO_PROXY_PORT")
    );
}

#[test]
fn env_file_values_count_but_the_environment_wins() {
    let dotenv =
        "REFLEX_DJANGO_PROXY_PORT=9200\nREFLEX_DJANGO_REFLEX_FRONTEND_PORT=3300\nSECRET=x\n";
    let (_d, p) = project(&[(".env", dotenv)]);
    let r = load_env(&p, &[], &[("REFLEX_DJANGO_PROXY_PORT", "9300")]).unwrap();
    assert_eq!(r.config.proxy.port, Port(9300));
    assert_eq!(r.config.reflex.frontend_port, Port(3300));
    assert!(matches!(
        &r.sources.reflex.frontend_port,
        Source::Env {
            from_env_file: true,
            ..
        }
    ));
    assert!(
        r.env_file_vars
            .iter()
            .any(|(k, v)| k == "SECRET" && v == "x")
    );
}

#[test]
fn a_missing_explicit_env_file_is_an_error() {
    let (_d, p) = project(&[("reflex-django.yaml", "env_file: prod.env\n")]);
    let err = load_env(&p, &[], &[]).unwrap_err();
    assert!(err.message().contains("prod.env does not exist"), "{err}");
}

#[test]
fn bad_env_value_names_the_variable() {
    let (_d, p) = project(&[]);
    let err = load_env(&p, &[], &[("REFLEX_DJANGO_PROXY_PORT", "eighty")]).unwrap_err();
    assert_eq!(
        err.message(),
        "environment variable REFLEX_DJANGO_PROXY_PORT=eighty: `proxy.port`: expected a port number from 1 to 65535, found string \"eighty\""
    );
}

#[test]
fn bad_rxconfig_prefix_names_the_plugin_argument() {
    let (_d, p) = project(&[("rxconfig.py", "ReflexDjangoPlugin(admin_prefix='/_upload')")]);
    let err = load_env(&p, &[], &[]).unwrap_err();
    assert!(
        err.message().starts_with(
            "rxconfig.py: ReflexDjangoPlugin(admin_prefix=…): `prefixes.admin`: `/_upload` collides"
        ),
        "{err}"
    );
}

#[test]
fn every_setting_has_an_env_var() {
    let vars = layers::env_vars();
    assert!(vars.contains(&("REFLEX_DJANGO_PROXY_PORT".into(), "proxy.port".into())));
    assert!(vars.contains(&(
        "REFLEX_DJANGO_PREFIXES_EXTRA".into(),
        "prefixes.extra".into()
    )));
    assert!(vars.contains(&(
        "REFLEX_DJANGO_SETTINGS_MODULE".into(),
        "settings_module".into()
    )));
}

#[test]
fn every_setting_has_a_path_named_as_in_the_file() {
    // The paths that sources and environment variables use are the file's keys.
    fn leaves(prefix: &str, node: &serde_json::Value, out: &mut Vec<String>) {
        match node.as_object() {
            Some(map) => {
                for (key, child) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    leaves(&path, child, out);
                }
            }
            None => out.push(prefix.to_string()),
        }
    }
    let mut from_file = Vec::new();
    leaves(
        "",
        &serde_json::to_value(Config::default()).unwrap(),
        &mut from_file,
    );
    let mut from_sources = settings::paths();
    from_file.sort();
    from_sources.sort();
    assert_eq!(from_sources, from_file);
    assert!(from_sources.contains(&"prefixes.static".to_string()));
}

#[test]
fn a_bad_flag_value_names_the_flag() {
    let err = FlagValue::new("--port", 0, |l, p| l.proxy.port = Some(p)).unwrap_err();
    assert_eq!(
        err.message(),
        "flag --port: expected a port number from 1 to 65535, found integer `0`"
    );
    let err = FlagValue::new("--workers", 0, |l, w| l.django.workers = Some(Some(w))).unwrap_err();
    assert!(
        err.message()
            .starts_with("flag --workers: expected a whole number"),
        "{err}"
    );
}

#[test]
fn each_flag_is_the_source_of_its_setting() {
    let (_d, p) = project(&[(
        "reflex-django.yaml",
        "proxy:\n  port: 9000\n  host: 0.0.0.0\n",
    )]);
    let flags = [
        FlagValue::new("--port", 9100, |l, p| l.proxy.port = Some(p)).unwrap(),
        FlagValue::new("--frontend-port", 3100, |l, p| {
            l.reflex.frontend_port = Some(p)
        })
        .unwrap(),
    ];
    let r = load_env(&p, &flags, &[]).unwrap();
    assert_eq!(r.config.proxy.port, Port(9100));
    assert_eq!(r.config.proxy.host, "0.0.0.0");
    assert_eq!(r.config.reflex.frontend_port, Port(3100));
    assert_eq!(
        r.sources.proxy.port,
        Source::Flag {
            flag: "--port".into()
        }
    );
    assert_eq!(
        r.sources.reflex.frontend_port,
        Source::Flag {
            flag: "--frontend-port".into()
        }
    );
    assert_eq!(r.sources.proxy.host, Source::File);
}
