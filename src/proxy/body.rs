//! The bodies of the front door's answers: streamed from a child, or made here (a
//! short page, the health report, a file from disk).

use bytes::Bytes;
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use tower_http::services::fs::ServeFileSystemResponseBody;

/// The body of a file answer.
pub(crate) type FileBody = ServeFileSystemResponseBody;

/// An answer the front door makes itself.
pub(crate) type Own = Either<Full<Bytes>, FileBody>;

/// Every answer: a child's, streamed through, or our own.
pub(crate) type ResponseBody = Either<Incoming, Own>;

pub(crate) fn bytes(data: impl Into<Bytes>) -> Own {
    Either::Left(Full::new(data.into()))
}

pub(crate) fn empty() -> Own {
    bytes(Bytes::new())
}

/// A child's body, passed on.
pub(crate) fn upstream(body: Incoming) -> ResponseBody {
    Either::Left(body)
}

pub(crate) fn own(body: Own) -> ResponseBody {
    Either::Right(body)
}
