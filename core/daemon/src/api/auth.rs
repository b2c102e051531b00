//! The `/api/v1/auth/…` handlers: onboarding, login and logout, the
//! current principal, tokens, sessions, the owner's password, failed
//! logins. Shapes in docs/api.md; rules in docs/security.md.

use axum::extract::rejection::JsonRejection;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, AppState};
use crate::auth::tokens::NewToken;
use crate::auth::{AccountError, NewSession, Principal, SESSION_COOKIE, Scope};

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        let status = match &e {
            AccountError::AlreadyOnboarded | AccountError::NotOnboarded => StatusCode::CONFLICT,
            AccountError::WrongCode | AccountError::WrongPassword => StatusCode::UNAUTHORIZED,
            AccountError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AccountError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(status, e.to_string())
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(v)| v).map_err(super::body_error)
}

/// The `Set-Cookie` value that starts a session.
fn session_cookie(s: &NewSession) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        s.cookie, s.max_age_s
    ))
    .map_err(internal)
}

fn with_cookie(status: StatusCode, body: Value, cookie: HeaderValue) -> Response {
    let mut r = (status, Json(body)).into_response();
    r.headers_mut().insert(header::SET_COOKIE, cookie);
    r
}

/// `GET /api/v1/auth/onboarding`: `{"needed": bool}`.
pub async fn onboarding_status(State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    let needed = s.auth.onboarding_needed().map_err(internal)?;
    Ok(Json(json!({"needed": needed})))
}

/// Body of `POST /api/v1/auth/onboarding`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Onboarding {
    setup_code: String,
    username: String,
    password: String,
}

/// `POST /api/v1/auth/onboarding`: creates the owner (once) and logs them in.
pub async fn onboard(
    State(s): State<AppState>,
    b: Result<Json<Onboarding>, JsonRejection>,
) -> Result<Response, ApiError> {
    let b = body(b)?;
    let session = s
        .auth
        .onboard(&b.setup_code, &b.username, &b.password)
        .await?;
    Ok(with_cookie(
        StatusCode::CREATED,
        json!({"status": "created", "username": b.username}),
        session_cookie(&session)?,
    ))
}

/// A token asked for at login (`igloo login`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    name: String,
    scope: Scope,
}

/// Body of `POST /api/v1/auth/login`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    username: String,
    password: String,
    /// Instead of a session cookie, answer with a new token.
    token: Option<TokenRequest>,
}

/// The client's IP address on TCP (`None` on the local socket).
fn client_ip(peer: Option<Extension<ConnectInfo<SocketAddr>>>) -> Option<IpAddr> {
    peer.map(|Extension(ConnectInfo(addr))| addr.ip())
}

/// `201 {"id", "token", "name", "scope"}`: a new token, shown this once.
fn token_created(t: &NewToken) -> (StatusCode, Json<Value>) {
    (
        StatusCode::CREATED,
        Json(json!({"id": t.id, "token": t.token, "name": t.record.name, "scope": t.record.scope})),
    )
}

/// `POST /api/v1/auth/login`: a session cookie, or with `token` a new
/// token. Rate-limited per client address (`routes.rs`).
pub async fn login(
    State(s): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    b: Result<Json<Login>, JsonRejection>,
) -> Result<Response, ApiError> {
    let b = body(b)?;
    s.auth
        .check_login(&b.username, &b.password, client_ip(peer))
        .await?;
    if let Some(t) = b.token {
        let t = s.auth.create_token(&t.name, t.scope)?;
        return Ok(token_created(&t).into_response());
    }
    let session = s.auth.new_session().map_err(internal)?;
    Ok(with_cookie(
        StatusCode::OK,
        json!({"status": "logged_in"}),
        session_cookie(&session)?,
    ))
}

/// `POST /api/v1/auth/logout`: ends the session (a token stays valid:
/// revoke it instead) and clears the cookie.
pub async fn logout(
    State(s): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<Response, ApiError> {
    let ended = match &who {
        Principal::Owner { session } => s.auth.end_session(session).map_err(internal)?,
        _ => false,
    };
    let clear =
        HeaderValue::from_static("igloo_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    Ok(with_cookie(StatusCode::OK, json!({"ended": ended}), clear))
}

/// `GET /api/v1/auth/me`: how the request authenticated and what it may do.
pub async fn me(
    State(s): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    let mut v = json!({"kind": who.kind(), "scope": who.scope()});
    if let Principal::Token { id, .. } = &who {
        v["token_id"] = json!(id);
    }
    if matches!(who, Principal::Owner { .. } | Principal::Local) {
        v["username"] = json!(s.auth.owner_name().map_err(internal)?);
    }
    Ok(Json(v))
}

/// `GET /api/v1/auth/tokens`: every token, without secrets.
pub async fn tokens(State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    let list = s.auth.tokens().map_err(internal)?;
    Ok(Json(Value::Array(
        list.iter()
            .map(|t| {
                json!({
                    "id": t.id,
                    "name": t.record.name,
                    "scope": t.record.scope,
                    "created": t.record.created,
                    "last_used": t.last_used,
                })
            })
            .collect(),
    )))
}

/// `POST /api/v1/auth/tokens` `{"name", "scope"}`: 201 with the token,
/// shown this once.
pub async fn create_token(
    State(s): State<AppState>,
    b: Result<Json<TokenRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b = body(b)?;
    let t = s.auth.create_token(&b.name, b.scope)?;
    Ok(token_created(&t))
}

/// `DELETE /api/v1/auth/tokens/{id}`: revokes a token (404 if unknown).
pub async fn revoke_token(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if s.auth.revoke_token(&id).map_err(internal)? {
        Ok(Json(json!({"revoked": id})))
    } else {
        Err(ApiError(StatusCode::NOT_FOUND, format!("no token {id:?}")))
    }
}

/// `GET /api/v1/auth/sessions`: live sessions (id = a digest prefix).
pub async fn sessions(State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    let list = s.auth.sessions().map_err(internal)?;
    Ok(Json(Value::Array(
        list.iter()
            .map(|(id, r)| json!({"id": id, "created": r.created, "expires": r.expires}))
            .collect(),
    )))
}

/// `DELETE /api/v1/auth/sessions`: ends every session.
pub async fn end_sessions(State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    let n = s.auth.end_all_sessions().map_err(internal)?;
    Ok(Json(json!({"ended": n})))
}

/// Body of `POST /api/v1/auth/password`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current: Option<String>,
    password: String,
}

/// `POST /api/v1/auth/password`: sets the owner's password and ends every
/// session. `current` is required except for root on the local socket
/// (recovery without the old password).
pub async fn set_password(
    State(s): State<AppState>,
    Extension(who): Extension<Principal>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    b: Result<Json<PasswordChange>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = body(b)?;
    let current = match (&who, b.current.as_deref()) {
        (Principal::Local | Principal::Open, c) => c,
        (_, Some(c)) => Some(c),
        (_, None) => {
            return Err(ApiError(
                StatusCode::UNPROCESSABLE_ENTITY,
                "\"current\" (the current password) is required; root on the gateway can reset it without (igloo owner reset-password)".into(),
            ));
        }
    };
    s.auth
        .set_password(current, &b.password, client_ip(peer))
        .await?;
    Ok(Json(json!({"status": "changed", "sessions_ended": true})))
}

/// `GET /api/v1/auth/failures`: failed logins per client address since start.
pub async fn failures(State(s): State<AppState>) -> Json<Value> {
    Json(Value::Array(
        s.auth
            .failures()
            .iter()
            .map(|(ip, f)| json!({"address": ip.to_string(), "count": f.count, "last": f.last}))
            .collect(),
    ))
}
