//! `GET /api/v1/logs` and `GET /api/v1/logs/stream`: the core's log files
//! (crate::logs), admin only (docs/security.md: lines name devices and LAN
//! addresses).

use std::convert::Infallible;
use std::time::Duration;

use axum::Extension;
use axum::Json;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use serde_json::{Value, json};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use super::{ApiError, AppState, limits};
use crate::logs::{LogsError, read};

/// Query of both routes.
#[derive(serde::Deserialize)]
pub struct LogsQuery {
    /// Only this provider's lines (field `provider`).
    provider: Option<String>,
    /// How many of the last lines (`GET /api/v1/logs` only; 1..=5000).
    lines: Option<usize>,
}

fn check_provider(p: Option<&str>) -> Result<(), ApiError> {
    match p {
        Some(name) if !crate::config::valid_provider_name(name) => Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("provider {name:?} is not a provider name ([a-z0-9_-], at most 64)"),
        )),
        _ => Ok(()),
    }
}

fn query(
    q: Result<Query<LogsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<LogsQuery, ApiError> {
    let Query(q) = q.map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("query: {e}")))?;
    check_provider(q.provider.as_deref())?;
    Ok(q)
}

impl From<LogsError> for ApiError {
    fn from(e: LogsError) -> Self {
        let status = match e {
            LogsError::Unavailable(_) => StatusCode::NOT_FOUND,
            LogsError::Read { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(status, e.to_string())
    }
}

/// `GET /api/v1/logs?provider=NAME&lines=N`: `{"lines": [...], "dropped": n}`,
/// the last N lines (default 200) oldest first, each the JSON object of
/// the file; `dropped` counts lines lost since the core started.
pub async fn tail(
    State(s): State<AppState>,
    q: Result<Query<LogsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let q = query(q)?;
    let n = q.lines.unwrap_or(read::DEFAULT_LINES);
    if !(1..=read::MAX_LINES).contains(&n) {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("lines {n} is outside 1..={}", read::MAX_LINES),
        ));
    }
    let logs = s.logs.clone();
    let lines = tokio::task::spawn_blocking(move || logs.tail(n, q.provider.as_deref()))
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    Ok(Json(json!({"lines": lines, "dropped": s.logs.dropped()})))
}

/// `GET /api/v1/logs/stream?provider=NAME`: server-sent events, one `log`
/// event per line from now on (data: the line's JSON object); `lagged`
/// with the number missed when the client reads too slowly. Counted with
/// the event streams.
pub async fn stream(
    State(s): State<AppState>,
    peer: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    q: Result<Query<LogsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let q = query(q)?;
    let ip = peer.map_or(std::net::IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED), |p| {
        p.0.0.ip()
    });
    let live = s.logs.follow()?;
    let slot = s.streams.acquire(ip).map_err(|full| {
        ApiError(
            StatusCode::TOO_MANY_REQUESTS,
            limits::describe(full, "event streams"),
        )
    })?;
    let provider = q.provider;
    let stream = BroadcastStream::new(live)
        .take_until(s.shutdown.cancelled_owned())
        .filter_map(move |item| {
            // Held as long as the stream: dropping it frees the place.
            let _held = &slot;
            let event = match item {
                Ok(line) => match &provider {
                    Some(p) if !read::parse(&line).is_some_and(|m| read::is_about(&m, p)) => None,
                    _ => Some(SseEvent::default().event("log").data(&*line)),
                },
                Err(BroadcastStreamRecvError::Lagged(n)) => Some(
                    SseEvent::default()
                        .event("lagged")
                        .data(json!({"type": "lagged", "missed": n}).to_string()),
                ),
            };
            std::future::ready(event.map(Ok))
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
