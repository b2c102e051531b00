//! The HTTP API (axum), shapes in `docs/api.md`. Reads go to the tree task
//! through its handle; change requests are forwarded, never applied here.
//! The supervisor's typed statuses become JSON in [`views`]. Every route is
//! declared with the access it needs in [`routes`], checked by [`access`]
//! (docs/security.md); [`limits`] caps connections and event streams.

pub mod access;
mod arrange;
mod auth;
mod dashboard;
pub mod limits;
mod logs;
mod mqtt;
pub mod probe;
pub mod routes;
pub mod views;
mod wait;
mod wifi;

pub use self::routes::router;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use futures::Stream;
use futures::StreamExt;
use igloo_protocol::{Component, DeviceId};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_util::sync::CancellationToken;

use self::access::RouteInfo;
use self::limits::Counter;
use crate::auth::{Auth, Principal};
use crate::events::Event;
use crate::grants::Registry;
use crate::ota::{InstallError, Ota, Source};
use crate::supervisor::{CommandError, Supervisor, UpdateError, UpdateTarget};
use crate::tree::{RequestError, TreeHandle};
use crate::versions::VersionError;

/// Shared state of the API handlers.
#[derive(Clone)]
pub struct AppState {
    /// The device tree.
    pub tree: TreeHandle,
    /// Provider supervision.
    pub supervisor: Arc<Supervisor>,
    /// The event bus.
    pub events: broadcast::Sender<Event>,
    /// Cancelled at shutdown: ends open event streams so the server can stop.
    pub shutdown: CancellationToken,
    /// Serial ports and grants.
    pub grants: Registry,
    /// Host confinement facts (`GET /api/v1/sandbox`), probed once at start.
    pub host_facts: Arc<Value>,
    /// Over-the-air updates of the system.
    pub ota: Arc<Ota>,
    /// Accounts, sessions and tokens.
    pub auth: Arc<Auth>,
    /// Open event streams, capped per client address and in total.
    pub streams: Arc<Counter>,
    /// The route table's listing (filled in by [`router`]).
    pub routes: Arc<Vec<RouteInfo>>,
    /// The appliance's broker, for `GET /api/v1/mqtt/credentials`.
    pub broker: Arc<BrokerInfo>,
    /// Recent values of numeric components (`GET /api/v1/history`).
    pub history: Arc<crate::history::History>,
    /// The log files (`GET /api/v1/logs`).
    pub logs: Arc<crate::logs::Logs>,
    /// The Wi-Fi network (`/api/v1/wifi`); `None` = not managed here.
    pub wifi: Option<Arc<crate::wifi::Wifi>>,
}

/// Where the broker's account secrets are and which port it is on.
#[derive(Debug, Clone)]
pub struct BrokerInfo {
    /// `[core] secrets_dir`.
    pub secrets_dir: std::path::PathBuf,
    /// `[mdns] mqtt_port`, when the gateway announces its broker.
    pub port: Option<u16>,
}

/// An API error: status + `{"error": message}`.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
    }
}

/// A JSON body that could not be read: 413 when it is over the limit
/// ([`routes::BODY_LIMIT`]), else 400.
fn body_error(e: axum::extract::rejection::JsonRejection) -> ApiError {
    let status = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        StatusCode::PAYLOAD_TOO_LARGE
    } else {
        StatusCode::BAD_REQUEST
    };
    ApiError(status, format!("body: {}", e.body_text()))
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> Self {
        let status = match e {
            RequestError::UnknownDevice(_) | RequestError::UnknownEntity(..) => {
                StatusCode::NOT_FOUND
            }
            RequestError::ProviderDown(_) | RequestError::Busy(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            RequestError::Unsupported(..) => StatusCode::BAD_REQUEST,
            RequestError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            RequestError::Unavailable(_) | RequestError::ReadOnly { .. } => StatusCode::CONFLICT,
            RequestError::NotAnOption { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError(status, e.to_string())
    }
}

/// `GET /api/v1/health`: public, but without a `read` credential it says
/// only `{"status": "ok"}` (nothing an anonymous LAN client could use).
/// It always asks the tree task, so that an answer also proves the tree
/// responds (the watchdog and the OTA health check rely on that).
async fn health(State(s): State<AppState>, who: Option<Extension<Principal>>) -> Json<Value> {
    let devices: usize = s.tree.counts().await.values().sum();
    if who.is_none() {
        return Json(json!({"status": "ok"}));
    }
    let (running, total) = s.supervisor.running();
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "devices": devices,
        "providers": {"running": running, "total": total},
        "time": views::time(crate::clock::status()),
    }))
}

async fn devices(State(s): State<AppState>) -> Json<Value> {
    Json(Value::Array(
        s.tree.devices().await.iter().map(views::device).collect(),
    ))
}

fn parse_id(id: &str) -> Result<DeviceId, ApiError> {
    id.parse::<u64>().map(DeviceId).map_err(|_| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("device id {id:?} is not a number"),
        )
    })
}

async fn device(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    s.tree
        .device(id)
        .await
        .map(|d| Json(views::device(&d)))
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("device {id} not found")))
}

/// Query of `POST …/entities/{entity}`.
#[derive(serde::Deserialize)]
struct SetQuery {
    /// Wait this long (ms, at most 60 000) for the provider to confirm or refuse.
    wait_ms: Option<u64>,
}

async fn set_entity(
    State(s): State<AppState>,
    Path((id, entity)): Path<(String, String)>,
    query: Result<Query<SetQuery>, axum::extract::rejection::QueryRejection>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Query(query) =
        query.map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("query: {e}")))?;
    let id = parse_id(&id)?;
    let Json(body) = body.map_err(body_error)?;
    let map = body.as_object().ok_or_else(|| {
        ApiError(
            StatusCode::BAD_REQUEST,
            "body must be a JSON object of component name → value".into(),
        )
    })?;
    if map.is_empty() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "no components given".into(),
        ));
    }
    let values = map
        .iter()
        .map(|(k, v)| Component::from_json(k, v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.to_string()))?;
    let ids: Vec<_> = values.iter().map(Component::id).collect();
    // Subscribed before sending, so the confirmation cannot be missed.
    let events = s.events.subscribe();
    s.tree.request(id, entity.clone(), values).await?;
    let Some(wait_ms) = query.wait_ms else {
        return Ok((StatusCode::ACCEPTED, Json(json!({"status": "sent"}))));
    };
    let wait = Duration::from_millis(wait_ms);
    Ok(match wait::outcome(events, id, &entity, &ids, wait).await {
        wait::Outcome::Confirmed(values) => (
            StatusCode::OK,
            Json(json!({"status": "confirmed", "components": views::components(&values)})),
        ),
        wait::Outcome::Refused(reason) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"status": "refused", "error": format!("the provider refused: {reason}")})),
        ),
        wait::Outcome::Offline => (
            StatusCode::CONFLICT,
            Json(
                json!({"status": "offline", "error": format!("device {id} went offline before confirming")}),
            ),
        ),
        wait::Outcome::Timeout => (
            StatusCode::GATEWAY_TIMEOUT,
            Json(json!({
                "status": "timeout",
                "error": format!("no confirmation within {} ms; the provider may not have carried it out (see its log)", wait.min(wait::MAX_WAIT).as_millis()),
            })),
        ),
    })
}

async fn providers(State(s): State<AppState>) -> Json<Value> {
    let counts = s.tree.counts().await;
    let list = s
        .supervisor
        .statuses()
        .iter()
        .map(|r| {
            let name = &*r.status.name;
            views::provider(
                r,
                counts.get(name).copied().unwrap_or(0),
                s.grants.unmatched_rules(name),
                &s.grants.of_provider(name),
            )
        })
        .collect();
    Json(Value::Array(list))
}

async fn grants(State(s): State<AppState>) -> Json<Value> {
    Json(views::grants(&s.grants))
}

async fn sandbox(State(s): State<AppState>) -> Json<Value> {
    Json((*s.host_facts).clone())
}

/// `POST /api/v1/providers/{name}/command` with `{"command": "...", "body": <JSON>}`:
/// forwards a custom command and returns `{"body": <the provider's JSON reply>}`.
async fn command(
    State(s): State<AppState>,
    Path(name): Path<String>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body.map_err(body_error)?;
    let command = body["command"]
        .as_str()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            ApiError(
                StatusCode::BAD_REQUEST,
                "\"command\" (a non-empty string) is required".into(),
            )
        })?
        .to_string();
    let arg = match body.get("body") {
        None | Some(Value::Null) => "{}".to_string(),
        Some(v) => v.to_string(),
    };
    let reply = s
        .supervisor
        .command(&name, command, arg)
        .await
        .map_err(|e| {
            let status = match e {
                CommandError::Unknown(_) => StatusCode::NOT_FOUND,
                CommandError::NotRunning(_) | CommandError::Undeliverable(..) => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                CommandError::Refused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                CommandError::NoReply(_) => StatusCode::GATEWAY_TIMEOUT,
            };
            ApiError(status, e.to_string())
        })?;
    // A reply that is not JSON is returned as a string.
    let parsed = serde_json::from_str::<Value>(&reply).unwrap_or(Value::String(reply));
    Ok(Json(json!({"body": parsed})))
}

async fn restart(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    s.supervisor
        .restart(&name)
        .map_err(|e| ApiError(StatusCode::NOT_FOUND, e.to_string()))?;
    Ok((StatusCode::ACCEPTED, Json(json!({"status": "restarting"}))))
}

/// `POST /api/v1/providers/{name}/update` with `{"path": "/abs/exe", "version": "LABEL"?}`
/// (install, then switch) or `{"version": "LABEL"}` (switch to an installed
/// version, or `configured`). 202 with the switch; the outcome (`kept` or
/// `rolled_back`) shows in the provider's `update` field.
async fn update(
    State(s): State<AppState>,
    Path(name): Path<String>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(body) = body.map_err(body_error)?;
    let text = |key: &str| -> Result<Option<String>, ApiError> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(v)) => Ok(Some(v.clone())),
            Some(_) => Err(ApiError(
                StatusCode::BAD_REQUEST,
                format!("\"{key}\" must be a string"),
            )),
        }
    };
    let target = match (text("path")?, text("version")?) {
        (Some(path), label) => UpdateTarget::Install {
            path: path.into(),
            label,
        },
        (None, Some(label)) => UpdateTarget::Installed(label),
        (None, None) => {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                "give \"path\" (an executable to install) or \"version\" (an installed version)"
                    .into(),
            ));
        }
    };
    let answer = s.supervisor.update(&name, target).await.map_err(|e| {
        let status = match &e {
            UpdateError::Unknown(_) | UpdateError::Version(VersionError::NotInstalled { .. }) => {
                StatusCode::NOT_FOUND
            }
            UpdateError::Version(VersionError::Label(_) | VersionError::Source { .. }) => {
                StatusCode::BAD_REQUEST
            }
            UpdateError::Version(VersionError::Exists { .. }) | UpdateError::Refused(_) => {
                StatusCode::CONFLICT
            }
            UpdateError::Version(VersionError::Io { .. } | VersionError::Damaged { .. }) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        ApiError(status, e.to_string())
    })?;
    Ok((StatusCode::ACCEPTED, Json(json!(answer))))
}

/// `GET /api/v1/history`: `{"<device id>": {"<entity>": {"<Component>":
/// [[unix ms, value], …]}}}`, the recent values of numeric components
/// (`history.rs`: at most 60 points each, 10 s or more apart).
async fn history(State(s): State<AppState>) -> Json<Value> {
    let mut out = serde_json::Map::new();
    for series in s.history.all() {
        let device = out
            .entry(series.device.0.to_string())
            .or_insert_with(|| json!({}));
        device[&*series.entity][series.component] = json!(series.points);
    }
    Json(Value::Object(out))
}

/// `GET /api/v1/routes`: the route table (method, path, access).
async fn routes(State(s): State<AppState>) -> Json<Value> {
    Json(json!(*s.routes))
}

/// `GET /api/v1/events`: the event stream (SSE). At most
/// [`limits::STREAMS_PER_ADDRESS`] per client address and
/// [`limits::STREAMS_TOTAL`] in all; over: 429.
async fn events(
    State(s): State<AppState>,
    peer: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    // The local socket counts as one address of its own.
    let ip = peer.map_or(std::net::IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED), |p| {
        p.0.0.ip()
    });
    let slot = s.streams.acquire(ip).map_err(|full| {
        ApiError(
            StatusCode::TOO_MANY_REQUESTS,
            limits::describe(full, "event streams"),
        )
    })?;
    let stream = BroadcastStream::new(s.events.subscribe())
        .take_until(s.shutdown.cancelled_owned())
        .map(move |item| {
            // Held as long as the stream: dropping it frees the place.
            let _held = &slot;
            Ok(match item {
                Ok(e) => SseEvent::default().event(e.kind()).data(e.to_json_text()),
                Err(BroadcastStreamRecvError::Lagged(n)) => SseEvent::default()
                    .event("lagged")
                    .data(json!({"type": "lagged", "missed": n}).to_string()),
            })
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

async fn ota_status(State(s): State<AppState>) -> Json<Value> {
    Json(views::ota(&s.ota.status().await))
}

/// Largest JSON body of `POST /api/v1/ota/install`.
const OTA_REQUEST_LIMIT: usize = 64 << 10;

/// `POST /api/v1/ota/install`: `{"url": "http://…"}` or `{"path": "/data/…"}`
/// as JSON, or the bundle itself as an `application/octet-stream` body. 202
/// with the install's id; the progress is in `GET /api/v1/ota` and `ota` events.
async fn ota_install(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<Value>), Response> {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let upload = content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/octet-stream"));
    let id = if upload {
        let len = headers
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        s.ota.upload(len, body.into_data_stream()).await
    } else {
        let bytes = axum::body::to_bytes(body, OTA_REQUEST_LIMIT)
            .await
            .map_err(|e| ota_error(InstallError::BadRequest(format!("body: {e}"))))?;
        let source = ota_source(&bytes).map_err(|e| ota_error(InstallError::BadRequest(e)))?;
        s.ota.install(source)
    }
    .map_err(ota_error)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"id": id, "status": "started"})),
    ))
}

/// The source named by a JSON install request: exactly one of `url` and `path`.
fn ota_source(bytes: &[u8]) -> Result<Source, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "give {{\"url\": \"http://…\"}} or {{\"path\": \"/data/…\"}} as JSON, or the bundle as an application/octet-stream body ({e})"
        )
    })?;
    let text = |key: &str| match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(t)) if !t.is_empty() => Ok(Some(t.clone())),
        Some(_) => Err(format!("\"{key}\" must be a non-empty string")),
    };
    match (text("url")?, text("path")?) {
        (Some(url), None) => Ok(Source::Url(url)),
        (None, Some(path)) => Ok(Source::Path(path.into())),
        (Some(_), Some(_)) => Err("give either \"url\" or \"path\", not both".into()),
        (None, None) => {
            Err("give \"url\" (a bundle to download) or \"path\" (a bundle on the gateway)".into())
        }
    }
}

/// An install error as its response: 503 unavailable, 409 busy (with the
/// running install), 422 bad request, 411 no length, 507 no room, 400 a
/// broken upload, 500 a file error.
fn ota_error(e: InstallError) -> Response {
    use crate::ota::download::DownloadError;
    let status = match &e {
        InstallError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        InstallError::Busy(_) => StatusCode::CONFLICT,
        InstallError::BadRequest(_) => StatusCode::UNPROCESSABLE_ENTITY,
        InstallError::LengthRequired => StatusCode::LENGTH_REQUIRED,
        InstallError::Storage(DownloadError::NoSpace { .. }) => StatusCode::INSUFFICIENT_STORAGE,
        InstallError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        InstallError::Upload(_) => StatusCode::BAD_REQUEST,
    };
    let mut body = json!({"error": e.to_string()});
    if let InstallError::Busy(running) = &e {
        body["running"] = views::ota_install(running);
    }
    (status, Json(body)).into_response()
}
