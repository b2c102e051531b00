//! `GET`, `PUT` and `DELETE /api/v1/wifi` (admin): the gateway's Wi-Fi
//! network (crate::wifi, docs/api.md). The `PUT` body holds the password:
//! it goes into the key derivation and nowhere else (no log line, no
//! error message, no answer carries it).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::{ApiError, AppState, body_error, views};
use crate::wifi::{SetRequest, Wifi, WifiError};

/// Largest `PUT /api/v1/wifi` body, bytes: a 32-byte SSID and a 64-digit
/// key fit many times over.
pub const BODY_LIMIT: usize = 1024;

impl From<WifiError> for ApiError {
    fn from(e: WifiError) -> Self {
        let status = match &e {
            WifiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WifiError::NotIgloos { .. } => StatusCode::CONFLICT,
            WifiError::Read { .. } | WifiError::Write(_) | WifiError::Task(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        ApiError(status, e.to_string())
    }
}

/// The handle, or 404 when this gateway does not manage Wi-Fi.
fn managed(s: &AppState) -> Result<&Wifi, ApiError> {
    s.wifi.as_deref().ok_or_else(|| {
        ApiError(
            StatusCode::NOT_FOUND,
            "Wi-Fi is not managed by this gateway (no [wifi] config in igloo.toml; see docs/configuration.md)"
                .into(),
        )
    })
}

/// `GET /api/v1/wifi`: [`views::wifi`].
pub async fn status(State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    let status = managed(&s)?.status().await?;
    Ok(Json(views::wifi(&status)))
}

fn invalid(message: String) -> ApiError {
    ApiError(StatusCode::UNPROCESSABLE_ENTITY, message)
}

/// Field `key` of `body` as text: `Ok(None)` when absent or null.
fn text(body: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(t)) => Ok(Some(t.clone())),
        Some(_) => Err(invalid(format!("{key}: must be a string"))),
    }
}

/// The request of a `PUT` body: `{"ssid", "password"?, "country", "force"?}`.
fn request(body: &Value) -> Result<SetRequest, ApiError> {
    let Some(map) = body.as_object() else {
        return Err(invalid(
            "the body must be a JSON object: {\"ssid\": \"…\", \"password\": \"…\", \"country\": \"NL\"}".into(),
        ));
    };
    if let Some(other) = map
        .keys()
        .find(|k| !matches!(k.as_str(), "ssid" | "password" | "country" | "force"))
    {
        return Err(invalid(format!(
            "{other}: not a field of a Wi-Fi network (ssid, password, country, force)"
        )));
    }
    let required = |key: &str, what: &str| {
        text(map, key)?.ok_or_else(|| invalid(format!("{key}: required ({what})")))
    };
    let force = match map.get("force") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("force: must be true or false".into())),
    };
    Ok(SetRequest {
        ssid: required("ssid", "the network's name")?,
        password: text(map, "password")?,
        country: required("country", "ISO 3166-1 alpha-2, e.g. NL, or 00")?,
        force,
    })
}

/// `PUT /api/v1/wifi` `{"ssid", "password"?, "country", "force"?}`: writes
/// the network and reloads the supplicant; 200 with
/// [`views::wifi_change`]. 422 for a field that breaks the rules, 409 for a
/// file that is not igloo's (without `force`); nothing is written then.
pub async fn set(
    State(s): State<AppState>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let wifi = managed(&s)?;
    let Json(body) = body.map_err(body_error)?;
    let change = wifi.set(request(&body)?).await?;
    Ok(Json(views::wifi_change(&change)))
}

/// Query of `DELETE /api/v1/wifi`.
#[derive(serde::Deserialize)]
pub struct ForgetQuery {
    /// Remove a file that is not igloo's too.
    #[serde(default)]
    force: bool,
}

/// `DELETE /api/v1/wifi[?force=true]`: removes the file and reloads the
/// supplicant; 200 with [`views::wifi_change`] (`removed`: whether there
/// was a file).
pub async fn forget(
    State(s): State<AppState>,
    q: Result<Query<ForgetQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let wifi = managed(&s)?;
    let Query(q) = q.map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("query: {e}")))?;
    let change = wifi.forget(q.force).await?;
    Ok(Json(views::wifi_change(&change)))
}
