//! The short pages the front door answers with when a child cannot: HTML for a
//! browser, plain text for everything else. They name the child and its state and
//! say what to do.

use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};

use super::body::{self, Own};

/// What went wrong, in words: a headline naming the child and a hint.
pub(crate) struct Problem {
    pub status: StatusCode,
    pub headline: String,
    pub hint: String,
}

/// The page for `problem`, shaped after the request's `Accept` header.
pub(crate) fn page(problem: &Problem, request_headers: &HeaderMap) -> Response<Own> {
    let (content_type, body) = if wants_html(request_headers) {
        ("text/html; charset=utf-8", html(problem))
    } else {
        (
            "text/plain; charset=utf-8",
            format!("{}\nhint: {}\n", problem.headline, problem.hint),
        )
    };
    let mut response = Response::new(body::bytes(body));
    *response.status_mut() = problem.status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if problem.status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"))
}

fn html(problem: &Problem) -> String {
    let status = problem.status.as_u16();
    let headline = escape(&problem.headline);
    let hint = escape(&problem.hint);
    // A 503 page reloads itself: the child is on its way back.
    let refresh = if problem.status == StatusCode::SERVICE_UNAVAILABLE {
        "<meta http-equiv=\"refresh\" content=\"2\">"
    } else {
        ""
    };
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\">{refresh}\
         <title>{status} · {headline}</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;\
         padding:0 1em;color:#222}}code{{background:#f3f3f3;padding:0 .2em}}\
         .hint{{color:#555}}</style></head>\
         <body><h1>{headline}</h1><p class=\"hint\">{hint}</p>\
         <p><small>reflex-django front door · {status}</small></p></body></html>\n"
    )
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn problem() -> Problem {
        Problem {
            status: StatusCode::BAD_GATEWAY,
            headline: "django is down (exit <1>)".into(),
            hint: "see its log".into(),
        }
    }

    async fn text(response: Response<Own>) -> String {
        let body = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(body.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn html_for_browsers_text_for_the_rest() {
        let mut browser = HeaderMap::new();
        browser.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,*/*;q=0.8"),
        );
        let html_page = page(&problem(), &browser);
        assert_eq!(html_page.status(), 502);
        assert_eq!(
            html_page.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        let body = text(html_page).await;
        assert!(
            body.contains("<h1>django is down (exit &lt;1&gt;)</h1>"),
            "{body}"
        );

        let plain = page(&problem(), &HeaderMap::new());
        assert_eq!(
            plain.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            text(plain).await,
            "django is down (exit <1>)\nhint: see its log\n"
        );
    }
}
