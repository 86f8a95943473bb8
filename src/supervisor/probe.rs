//! Readiness probes: asking a started child, every so often, whether it serves yet.

use std::sync::Mutex;
use std::time::Duration;

use tokio::net::TcpStream;

use super::event::human;
use super::spec::{AliveCheck, Expect, Probe};

const INTERVAL: Duration = Duration::from_millis(100);
/// A hung server must not hold one attempt for the whole readiness time limit.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);

pub struct Prober {
    probe: Probe,
    attempt_timeout: Duration,
    client: Result<reqwest::Client, String>,
    /// Why the latest attempt failed, for the "not ready in time" report.
    last_failure: Mutex<Option<String>>,
}

impl Prober {
    pub fn new(probe: Probe) -> Self {
        Prober::with_attempt_timeout(probe, ATTEMPT_TIMEOUT)
    }

    pub fn with_attempt_timeout(probe: Probe, attempt_timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            // The probe talks to 127.0.0.1 only; an HTTP_PROXY from the environment
            // would send it elsewhere.
            .no_proxy()
            .timeout(attempt_timeout)
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"));
        Prober {
            probe,
            attempt_timeout,
            client,
            last_failure: Mutex::new(None),
        }
    }

    /// Returns once the child answers as expected; never gives up by itself.
    pub async fn wait_ready(&self) {
        loop {
            match self.check().await {
                Ok(()) => return,
                Err(why) => {
                    *self.last_failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
                }
            }
            tokio::time::sleep(INTERVAL).await;
        }
    }

    pub fn last_failure(&self) -> Option<String> {
        self.last_failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    async fn check(&self) -> Result<(), String> {
        self.check_one(&self.probe).await
    }

    async fn check_one(&self, probe: &Probe) -> Result<(), String> {
        match probe {
            Probe::None => Ok(()),
            Probe::Tcp { port } => {
                let connect = TcpStream::connect(("127.0.0.1", *port));
                match tokio::time::timeout(self.attempt_timeout, connect).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(format!("connecting to 127.0.0.1:{port}: {e}")),
                    Err(_) => Err(format!("connecting to 127.0.0.1:{port} timed out")),
                }
            }
            Probe::All(probes) => {
                for probe in probes {
                    // Boxed: the future of a probe that contains probes is recursive.
                    Box::pin(self.check_one(probe)).await?;
                }
                Ok(())
            }
            Probe::Http { port, path, expect } => {
                let client = self.client.as_ref().map_err(Clone::clone)?;
                let url = format!("http://127.0.0.1:{port}{path}");
                let response = client
                    .get(&url)
                    .send()
                    .await
                    .map_err(|e| format!("GET {url}: {}", root_cause(&e)))?;
                let status = response.status();
                let html_type = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("text/html"));
                let body = response
                    .bytes()
                    .await
                    .map_err(|e| format!("GET {url}: reading the body: {}", root_cause(&e)))?;
                let body = String::from_utf8_lossy(&body);
                if answers(expect, status.as_u16(), html_type, &body) {
                    Ok(())
                } else {
                    let excerpt: String = body.trim().chars().take(80).collect();
                    Err(format!("GET {url} answered {status}: {excerpt:?}"))
                }
            }
        }
    }
}

/// Returns, with the reason, once a ready child has failed `check.failures` checks in
/// a row; never when `failures` is 0.
pub async fn until_unresponsive(check: &AliveCheck) -> String {
    if check.failures == 0 {
        return std::future::pending().await;
    }
    let prober = Prober::with_attempt_timeout(check.probe.clone(), check.timeout);
    let mut failed = 0;
    loop {
        tokio::time::sleep(check.every).await;
        // The client's own timeout covers HTTP; this one covers everything else too.
        let why = match tokio::time::timeout(check.timeout, prober.check()).await {
            Ok(Ok(())) => {
                failed = 0;
                continue;
            }
            Ok(Err(why)) => why,
            Err(_) => format!(
                "no answer to {} within {}",
                check.probe,
                human(check.timeout)
            ),
        };
        failed += 1;
        if failed >= check.failures {
            return format!("{why} ({failed} checks in a row)");
        }
    }
}

/// Whether an HTTP answer is what `expect` waits for.
fn answers(expect: &Expect, status: u16, html_type: bool, body: &str) -> bool {
    let success = (200..300).contains(&status);
    match expect {
        Expect::AnyAnswer => true,
        Expect::Status(code) => status == *code,
        Expect::Body(text) => success && body.trim() == text,
        Expect::Html => {
            let start = body
                .trim_start()
                .get(..14)
                .unwrap_or("")
                .to_ascii_lowercase();
            success
                && (html_type || start.starts_with("<!doctype html") || start.starts_with("<html"))
        }
    }
}

/// reqwest's own message ("error sending request") hides the useful part
/// ("Connection refused") in its source chain.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations() {
        assert!(answers(&Expect::AnyAnswer, 500, false, ""));
        assert!(answers(&Expect::Body("pong".into()), 200, false, "pong\n"));
        assert!(!answers(&Expect::Body("pong".into()), 500, false, "pong"));
        assert!(!answers(&Expect::Body("pong".into()), 200, false, "ping"));
        assert!(answers(&Expect::Html, 200, true, ""));
        assert!(answers(
            &Expect::Html,
            200,
            false,
            "\n<!DOCTYPE html><html>"
        ));
        assert!(!answers(&Expect::Html, 200, false, "{\"json\": 1}"));
        assert!(answers(&Expect::Status(404), 404, false, ""));
    }

    #[tokio::test]
    async fn an_http_server_is_ready_when_it_answers_as_expected() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            for body in ["ping", "pong"] {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut request = [0u8; 1024];
                let _ = socket.read(&mut request).await;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                socket.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        let prober = Prober::new(Probe::Http {
            port,
            path: "/ping".into(),
            expect: Expect::Body("pong".into()),
        });
        tokio::time::timeout(Duration::from_secs(5), prober.wait_ready())
            .await
            .expect("ready on the second answer");
        assert!(
            prober
                .last_failure()
                .unwrap()
                .contains("answered 200 OK: \"ping\"")
        );
        server.await.unwrap();
    }

    /// A port on 127.0.0.1 that nothing listens on (the kernel's pick, released).
    fn closed_local_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }

    #[tokio::test]
    async fn all_probes_must_pass() {
        let open = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open_port = open.local_addr().unwrap().port();
        let closed_port = closed_local_port();
        let both = Probe::All(vec![
            Probe::Tcp { port: open_port },
            Probe::Tcp { port: closed_port },
        ]);
        assert_eq!(
            both.to_string(),
            format!(
                "a connection to 127.0.0.1:{open_port} and a connection to 127.0.0.1:{closed_port}"
            )
        );
        let prober = Prober::new(both);
        let waited = tokio::time::timeout(Duration::from_millis(300), prober.wait_ready()).await;
        assert!(waited.is_err());
        assert!(
            prober
                .last_failure()
                .unwrap()
                .contains(&closed_port.to_string())
        );
        let prober = Prober::new(Probe::All(vec![Probe::Tcp { port: open_port }]));
        tokio::time::timeout(Duration::from_secs(2), prober.wait_ready())
            .await
            .expect("ready");
    }

    #[tokio::test]
    async fn a_closed_port_says_so() {
        let port = closed_local_port();
        let prober = Prober::new(Probe::Tcp { port });
        let waited = tokio::time::timeout(Duration::from_millis(300), prober.wait_ready()).await;
        assert!(waited.is_err());
        assert!(
            prober.last_failure().unwrap().contains("refused"),
            "{:?}",
            prober.last_failure()
        );
    }
}
