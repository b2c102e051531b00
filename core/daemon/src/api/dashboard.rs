//! The web dashboard's files (`dashboard/` at the repository root), served
//! at `/` and `/assets/…` (docs/dashboard.md). A release build carries them
//! inside the binary; a debug build reads the folder at request time, so
//! that an edit shows on reload without recompiling (rust-embed's rule).
//! The files are public: they hold no data, and every API call the page
//! makes is checked like any other client's.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::ApiError;

/// The dashboard folder, relative to this crate.
#[derive(rust_embed::Embed)]
#[folder = "../../dashboard/"]
struct Assets;

/// The page every dashboard view starts from.
const INDEX: &str = "index.html";

/// `GET /`: the dashboard's page.
pub async fn index(headers: HeaderMap) -> Response {
    file(INDEX, &headers)
}

/// `GET /assets/{*file}`: a script, style sheet or picture of the dashboard.
pub async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    if path == INDEX {
        return not_found(&path);
    }
    file(&path, &headers)
}

/// The file at `path`, or `304 Not Modified` when the browser's copy
/// (`If-None-Match`) is this one.
fn file(path: &str, request: &HeaderMap) -> Response {
    let Some(f) = Assets::get(path) else {
        return not_found(path);
    };
    let etag = format!("\"{}\"", hex(&f.metadata.sha256_hash()[..12]));
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut r = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, f.data.into_owned()).into_response()
    };
    let headers = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(f.metadata.mimetype()) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    // The files change only with the core: a browser may keep them but asks
    // again each time (an update must show without a forced reload).
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    r
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn not_found(path: &str) -> Response {
    ApiError(StatusCode::NOT_FOUND, format!("no dashboard file {path:?}")).into_response()
}
