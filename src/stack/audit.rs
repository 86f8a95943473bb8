//! The production audit: the settings that make a Django + Reflex deployment unsafe or
//! broken, each with its fix. Errors refuse `run --env prod`; warnings are printed.
//! `doctor --prod` shows the same findings.

use crate::config::PublicUrl;
use crate::error::Error;
use crate::python::probe::Settings;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Warning,
    Error,
}

/// One problem: what is wrong (`problem.message()`) and how to fix it (its hint).
#[derive(Clone, Debug)]
pub struct Finding {
    pub severity: Severity,
    pub problem: Error,
}

/// What the audit looks at besides Django's settings.
pub struct Deployment<'a> {
    pub public_url: Option<&'a PublicUrl>,
    pub django_workers: u32,
    /// Whether `proxy.trusted_proxies` is set: a TLS terminator is likely in front.
    pub behind_proxy: bool,
}

pub fn audit(settings: &Settings, deployment: &Deployment) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut error = |problem: Error| {
        out.push(Finding {
            severity: Severity::Error,
            problem,
        })
    };
    // Settings made by `init` read these from the environment; others need an edit.
    let env_hint = |setting: &str, var: &str| {
        format!(
            "{setting} in your settings (projects made by `reflex-django init` read it from \
             the environment: {var} in the server's environment or .env)"
        )
    };
    let security = &settings.security;
    if settings.debug {
        error(
            Error::new("DEBUG is on: Django shows tracebacks and settings to anyone")
                .hint(env_hint("set DEBUG = False", "DEBUG=0")),
        );
    }
    if let Some(why) = &security.weak_secret_key {
        error(Error::new(format!(
            "SECRET_KEY is not fit for production: {why}"
        ))
        .hint(
            "generate one with `python -c \"import secrets; print(secrets.token_urlsafe(50))\"` \
             and pass it as SECRET_KEY in the server's environment (the same on every \
             replica)",
        ));
    }
    if security.secret_key_changes == Some(true) {
        error(
            Error::new(
                "SECRET_KEY changes from one process to the next (it is made at random when the \
                 settings load): a session signed by one Django or Reflex worker is refused by \
                 the others, and every restart signs everybody out",
            )
            .hint(
                "read it from the environment instead, e.g. SECRET_KEY = os.environ[\"SECRET_KEY\"], \
                 and give every process and replica the same value",
            ),
        );
    }
    let hosts = &security.allowed_hosts;
    if hosts.is_empty() {
        error(
            Error::new("ALLOWED_HOSTS is empty: Django answers every request with 400").hint(
                env_hint(
                    "list the host names the app is served under in ALLOWED_HOSTS",
                    "ALLOWED_HOSTS=example.com",
                ),
            ),
        );
    } else if let Some(url) = deployment.public_url
        && !host_allowed(hosts, host_of(&url.authority))
    {
        error(
            Error::new(format!(
                "ALLOWED_HOSTS ({}) does not allow {}, the host of public_url",
                hosts.join(", "),
                host_of(&url.authority)
            ))
            .hint(env_hint(
                &format!("add \"{}\" to ALLOWED_HOSTS", host_of(&url.authority)),
                &format!("ALLOWED_HOSTS={}", host_of(&url.authority)),
            )),
        );
    }
    let mut warn = |problem: Error| {
        out.push(Finding {
            severity: Severity::Warning,
            problem,
        })
    };
    if hosts.iter().any(|h| h == "*") {
        warn(
            Error::new("ALLOWED_HOSTS contains `*`: any Host header is accepted")
                .hint("list the host names the app is served under"),
        );
    }
    if !security.session_cookie_httponly {
        warn(
            Error::new("SESSION_COOKIE_HTTPONLY is off: scripts on the page can read the session")
                .hint("set SESSION_COOKIE_HTTPONLY = True; reflex-django never needs the cookie in JavaScript"),
        );
    }
    let https = deployment.public_url.map(|u| u.secure);
    if https == Some(true) || (https.is_none() && deployment.behind_proxy) {
        for (name, secure) in [
            ("SESSION_COOKIE_SECURE", security.session_cookie_secure),
            ("CSRF_COOKIE_SECURE", security.csrf_cookie_secure),
        ] {
            if !secure {
                warn(
                    Error::new(format!(
                        "{name} is off although the app is served over https: the cookie also \
                     travels over plain http"
                    ))
                    .hint(format!("set {name} = True")),
                );
            }
        }
    }
    if https == Some(true) && !deployment.behind_proxy {
        warn(
            Error::new(
                "public_url is https but no proxy is trusted: the front door speaks plain http, \
             so Django sees every request as insecure (redirect loops with \
             SECURE_SSL_REDIRECT, http:// in absolute links)",
            )
            .hint(
                "list the TLS terminator's address in `proxy.trusted_proxies` so its \
             X-Forwarded-Proto is believed",
            ),
        );
    }
    if let Some(url) = deployment.public_url {
        let host = host_of(&url.authority);
        let local = host == "localhost" || host.ends_with(".localhost") || host == "127.0.0.1";
        if !url.secure && !local && security.session_cookie_secure {
            warn(
                Error::new(format!(
                    "SESSION_COOKIE_SECURE is on but public_url is {}: browsers never send the \
                 session cookie over http, so nobody stays signed in",
                    url.origin()
                ))
                .hint("serve the app over https (set public_url to its https:// address)"),
            );
        }
        let origin = url.origin();
        if !security
            .csrf_trusted_origins
            .iter()
            .any(|o| origin_trusted(o, &origin))
        {
            warn(
                Error::new(format!(
                    "CSRF_TRUSTED_ORIGINS does not list {origin}: form posts (the admin's \
                 sign-in) fail with 403 wherever the Host a proxy passes differs from it"
                ))
                .hint(format!("add \"{origin}\" to CSRF_TRUSTED_ORIGINS")),
            );
        }
    }
    let sqlite = settings
        .database_engines
        .iter()
        .any(|e| e.contains("sqlite"));
    if sqlite && deployment.django_workers > 1 {
        warn(
            Error::new(format!(
                "SQLite with {} Django workers: concurrent writes wait for each other and may \
             fail with `database is locked`",
                deployment.django_workers
            ))
            .hint("use PostgreSQL for production, or set `django.workers: 1`"),
        );
    }
    out
}

/// `example.com` of `example.com:8443`, `::1` of `[::1]:80`.
fn host_of(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

/// Django's host validation: exact names, `.example.com` for it and its subdomains,
/// `*` for any.
fn host_allowed(allowed: &[String], host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    allowed.iter().any(|pattern| {
        let pattern = pattern.to_ascii_lowercase();
        pattern == "*"
            || pattern == host
            || pattern
                .strip_prefix('.')
                .is_some_and(|domain| host == domain || host.ends_with(&format!(".{domain}")))
    })
}

/// Django's CSRF_TRUSTED_ORIGINS entries: `https://example.com`, `https://*.example.com`.
fn origin_trusted(entry: &str, origin: &str) -> bool {
    let entry = entry.trim_end_matches('/').to_ascii_lowercase();
    if entry == origin {
        return true;
    }
    let (Some((scheme, host)), Some((o_scheme, o_host))) =
        (entry.split_once("://*."), origin.split_once("://"))
    else {
        return false;
    };
    scheme == o_scheme && o_host.ends_with(&format!(".{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::probe::Security;

    fn settings() -> Settings {
        Settings {
            settings_file: None,
            static_url: "/static/".into(),
            static_root: None,
            debug: false,
            sqlite_files: Vec::new(),
            database_engines: vec!["django.db.backends.postgresql".into()],
            media_root: None,
            apps: Vec::new(),
            security: Security {
                weak_secret_key: None,
                secret_key_changes: None,
                allowed_hosts: vec!["example.com".into()],
                csrf_trusted_origins: vec!["https://example.com".into()],
                session_cookie_secure: true,
                session_cookie_httponly: true,
                csrf_cookie_secure: true,
            },
        }
    }

    fn deployment(public_url: Option<&PublicUrl>) -> Deployment<'_> {
        Deployment {
            public_url,
            django_workers: 4,
            behind_proxy: false,
        }
    }

    fn messages(findings: &[Finding], severity: Severity) -> Vec<String> {
        findings
            .iter()
            .filter(|f| f.severity == severity)
            .map(|f| f.problem.message().to_string())
            .collect()
    }

    #[test]
    fn a_sound_deployment_has_no_findings() {
        let url = PublicUrl::parse("https://example.com").unwrap();
        let behind_tls = Deployment {
            behind_proxy: true,
            ..deployment(Some(&url))
        };
        assert!(audit(&settings(), &behind_tls).is_empty());
        assert!(audit(&settings(), &deployment(None)).is_empty());
        // https, but the TLS terminator's X-Forwarded-Proto is not believed.
        let warnings = messages(
            &audit(&settings(), &deployment(Some(&url))),
            Severity::Warning,
        );
        assert!(warnings[0].contains("no proxy is trusted"), "{warnings:?}");
    }

    #[test]
    fn errors_refuse_and_say_how_to_fix() {
        let mut s = settings();
        s.debug = true;
        s.security.weak_secret_key = Some("it has 20 characters; use at least 50".into());
        s.security.allowed_hosts = Vec::new();
        let findings = audit(&s, &deployment(None));
        let errors = messages(&findings, Severity::Error);
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].starts_with("DEBUG is on"));
        assert!(errors[1].contains("20 characters"));
        assert!(errors[2].starts_with("ALLOWED_HOSTS is empty"));
        assert!(findings.iter().all(|f| f.problem.hint_text().is_some()));
    }

    #[test]
    fn a_key_made_at_random_per_process_is_refused() {
        let mut s = settings();
        s.security.secret_key_changes = Some(true);
        let findings = audit(&s, &deployment(None));
        let errors = messages(&findings, Severity::Error);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("changes from one process to the next"));
        s.security.secret_key_changes = None; // not asked (development) or not known
        assert!(messages(&audit(&s, &deployment(None)), Severity::Error).is_empty());
    }

    #[test]
    fn the_public_host_must_be_allowed() {
        let mut s = settings();
        s.security.allowed_hosts = vec![".example.org".into()];
        let url = PublicUrl::parse("https://app.example.org:8443").unwrap();
        assert!(messages(&audit(&s, &deployment(Some(&url))), Severity::Error).is_empty());
        let other = PublicUrl::parse("https://example.com").unwrap();
        let errors = messages(&audit(&s, &deployment(Some(&other))), Severity::Error);
        assert!(
            errors[0].contains("does not allow example.com"),
            "{errors:?}"
        );
    }

    #[test]
    fn warnings() {
        let mut s = settings();
        s.security.allowed_hosts = vec!["*".into()];
        s.security.session_cookie_httponly = false;
        s.security.session_cookie_secure = false;
        s.security.csrf_trusted_origins = vec!["https://*.example.net".into()];
        s.database_engines = vec!["django.db.backends.sqlite3".into()];
        let url = PublicUrl::parse("https://example.com").unwrap();
        let warnings = messages(&audit(&s, &deployment(Some(&url))), Severity::Warning);
        let joined = warnings.join("\n");
        for expected in [
            "contains `*`",
            "SESSION_COOKIE_HTTPONLY is off",
            "SESSION_COOKIE_SECURE is off",
            "CSRF_TRUSTED_ORIGINS does not list https://example.com",
            "SQLite with 4 Django workers",
        ] {
            assert!(joined.contains(expected), "{expected} in {joined}");
        }
        let wildcard = PublicUrl::parse("https://shop.example.net").unwrap();
        let warnings = messages(&audit(&s, &deployment(Some(&wildcard))), Severity::Warning);
        assert!(!warnings.iter().any(|w| w.contains("CSRF_TRUSTED_ORIGINS")));
    }

    #[test]
    fn secure_cookies_on_plain_http_lock_everyone_out() {
        let url = PublicUrl::parse("http://example.com").unwrap();
        let warnings = messages(
            &audit(&settings(), &deployment(Some(&url))),
            Severity::Warning,
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("never send the session cookie"))
        );
        let local = PublicUrl::parse("http://localhost:8000").unwrap();
        let warnings = messages(
            &audit(&settings(), &deployment(Some(&local))),
            Severity::Warning,
        );
        assert!(!warnings.iter().any(|w| w.contains("never send")));
    }
}
