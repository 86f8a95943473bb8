//! `GET /_reflex_django/health`: whether this instance serves, for load balancers and
//! orchestrators. `200` when every child is ready and the front door is not draining,
//! `503` otherwise; the JSON body says which child is in which state (no details: the
//! endpoint is public).

use http::header::{self, HeaderValue};
use http::{Method, Response, StatusCode};

use super::body::{self, Own};
use super::state::ChildState;

/// One word per state; the reasons stay in the log.
fn word(state: &ChildState) -> &'static str {
    match state {
        ChildState::Starting => "starting",
        ChildState::Ready => "ready",
        ChildState::Restarting => "restarting",
        ChildState::Down { .. } => "down",
        ChildState::Stopped => "stopped",
    }
}

/// The answer for `children` (name, state) while the front door is `draining` or not.
pub(crate) fn report(
    method: &Method,
    children: &[(&str, ChildState)],
    draining: bool,
) -> Response<Own> {
    if method != Method::GET && method != Method::HEAD {
        let mut response = Response::new(body::empty());
        *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let ready = !draining && children.iter().all(|(_, s)| *s == ChildState::Ready);
    let down = children
        .iter()
        .any(|(_, s)| matches!(s, ChildState::Down { .. } | ChildState::Stopped));
    let status = if draining {
        "draining"
    } else if ready {
        "ready"
    } else if down {
        "down"
    } else {
        "starting"
    };
    let states: serde_json::Map<String, serde_json::Value> = children
        .iter()
        .map(|(name, state)| (name.to_string(), word(state).into()))
        .collect();
    let text = serde_json::json!({"status": status, "children": states}).to_string() + "\n";
    let body = if method == Method::HEAD {
        body::empty()
    } else {
        body::bytes(text)
    };
    let mut response = Response::new(body);
    *response.status_mut() = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn json(response: Response<Own>) -> serde_json::Value {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn ready_only_when_every_child_is_and_not_draining() {
        let ready = [("django", ChildState::Ready), ("reflex", ChildState::Ready)];
        let response = report(&Method::GET, &ready, false);
        assert_eq!(response.status(), 200);
        assert_eq!(json(response).await["status"], "ready");

        let starting = [
            ("django", ChildState::Ready),
            ("reflex", ChildState::Starting),
        ];
        let response = report(&Method::GET, &starting, false);
        assert_eq!(response.status(), 503);
        let body = json(response).await;
        assert_eq!(body["children"]["reflex"], "starting");

        let response = report(&Method::GET, &ready, true);
        assert_eq!(response.status(), 503);
        assert_eq!(json(response).await["status"], "draining");

        assert_eq!(report(&Method::POST, &ready, false).status(), 405);
    }
}
