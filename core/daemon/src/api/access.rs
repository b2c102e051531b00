//! Access control of the API by construction: every route is declared with
//! the [`Access`] it needs in one table (`routes.rs`), and [`Route::new`] is
//! the only way onto the router; it wraps the handler in [`check`]. A route
//! cannot be added without saying who may use it, and `GET /api/v1/routes`
//! lists the table so that a test can try each route without credentials
//! and with a too-weak scope (tests/tests/auth.rs).

use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use serde::Serialize;

use super::{ApiError, AppState};
use crate::auth::{Auth, Principal, Scope};

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "scope")]
pub enum Access {
    /// Anyone (health, onboarding, login). Valid credentials, when
    /// presented, are still made available to the handler.
    Public,
    /// A credential with at least this scope.
    Scope(Scope),
}

/// One row of the route table.
pub struct Route {
    /// HTTP method.
    pub method: Method,
    /// axum path pattern (`/api/v1/devices/{id}`).
    pub path: &'static str,
    /// Who may use it.
    pub access: Access,
    /// The handler, already behind its access check.
    pub handler: MethodRouter<AppState>,
    /// Largest request body, bytes (`None`: streamed, like a system update upload).
    pub body_limit: Option<usize>,
}

/// A route as listed by `GET /api/v1/routes`.
#[derive(Debug, Clone, Serialize)]
pub struct RouteInfo {
    /// HTTP method.
    pub method: String,
    /// Path pattern.
    pub path: &'static str,
    /// Who may use it.
    pub access: Access,
}

impl Route {
    /// Declares `method path` with `handler` (a `MethodRouter` for that one
    /// method) behind the access check for `access`.
    pub fn new(
        auth: &Arc<Auth>,
        method: Method,
        path: &'static str,
        access: Access,
        handler: MethodRouter<AppState>,
    ) -> Route {
        let gate = Gate {
            auth: auth.clone(),
            access,
        };
        Route {
            method,
            path,
            access,
            handler: handler.route_layer(middleware::from_fn_with_state(gate, check)),
            body_limit: Some(super::routes::BODY_LIMIT),
        }
    }

    /// The same route without the body limit: for a handler that streams its
    /// body to disk and bounds it itself.
    pub fn streamed_body(mut self) -> Route {
        self.body_limit = None;
        self
    }

    /// The same route with a smaller body limit than [`super::routes::BODY_LIMIT`].
    pub fn body_limit(mut self, limit: usize) -> Route {
        self.body_limit = Some(limit);
        self
    }

    /// The listing of this route.
    pub fn info(&self) -> RouteInfo {
        RouteInfo {
            method: self.method.to_string(),
            path: self.path,
            access: self.access,
        }
    }
}

/// The peer of a request on the local Unix socket (from `SO_PEERCRED`).
#[derive(Debug, Clone, Copy)]
pub struct LocalPeer {
    /// The peer process's uid (`u32::MAX` when the kernel did not say).
    pub uid: u32,
}

impl
    axum::extract::connect_info::Connected<
        axum::serve::IncomingStream<'_, tokio::net::UnixListener>,
    > for LocalPeer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, tokio::net::UnixListener>) -> Self {
        LocalPeer {
            uid: stream.io().peer_cred().map_or(u32::MAX, |c| c.uid()),
        }
    }
}

#[derive(Clone)]
struct Gate {
    auth: Arc<Auth>,
    access: Access,
}

/// The access check in front of every handler: 401 without valid
/// credentials, 403 with a too-weak scope, 403 for a cookie-authenticated
/// state change from another origin. The [`Principal`] is passed to the
/// handler as a request extension.
async fn check(State(gate): State<Gate>, mut req: Request, next: Next) -> Response {
    let local_uid = req
        .extensions()
        .get::<ConnectInfo<LocalPeer>>()
        .map(|c| c.0.uid);
    let who = gate.auth.authenticate(req.headers(), local_uid);
    let need = match gate.access {
        Access::Public => {
            if let Ok(Some(p)) = who {
                req.extensions_mut().insert(p);
            }
            return next.run(req).await;
        }
        Access::Scope(need) => need,
    };
    let principal = match who {
        Ok(Some(p)) => p,
        Ok(None) => {
            return unauthorized(
                "authentication required: log in, or send `Authorization: Bearer <token>` (see docs/security.md)",
            );
        }
        Err(e) => return unauthorized(&e.to_string()),
    };
    if principal.scope() < need {
        return ApiError(
            StatusCode::FORBIDDEN,
            format!(
                "this needs the {need} scope; the {} used has {}",
                principal.kind(),
                principal.scope()
            ),
        )
        .into_response();
    }
    if matches!(principal, Principal::Owner { .. })
        && !is_safe(req.method())
        && let Err(why) = same_origin(req.headers())
    {
        return ApiError(StatusCode::FORBIDDEN, why).into_response();
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

fn unauthorized(message: &str) -> Response {
    let mut r = ApiError(StatusCode::UNAUTHORIZED, message.to_string()).into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"igloo\""),
    );
    r
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether a state-changing request that carries the session cookie comes
/// from a page of this gateway: `Sec-Fetch-Site: same-origin` (Fetch
/// Metadata, sent by every current browser), else an `Origin` whose host
/// is the request's `Host`. Neither header: refused, since a browser sends
/// `Origin` with every cross-site POST and only a non-browser omits both.
///
/// # Errors
/// Why it is refused.
pub fn same_origin(headers: &HeaderMap) -> Result<(), String> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return match site {
            "same-origin" | "none" => Ok(()),
            other => Err(format!(
                "cross-origin request refused (Sec-Fetch-Site: {other}): a session may change things only from the gateway's own pages"
            )),
        };
    }
    let Some(origin) = text("origin") else {
        return Err(
            "a state change with a session cookie needs an Origin header (use a token for scripts)"
                .into(),
        );
    };
    let host = text("host").unwrap_or("");
    let origin_host = origin
        .split_once("://")
        .map_or("", |(_, rest)| rest.trim_end_matches('/'));
    if !host.is_empty() && origin_host.eq_ignore_ascii_case(host) {
        Ok(())
    } else {
        Err(format!(
            "cross-origin request refused (Origin {origin} is not this gateway, {host})"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn only_same_origin_state_changes_pass() {
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])).is_ok());
        assert!(same_origin(&headers(&[("sec-fetch-site", "cross-site")])).is_err());
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-site")])).is_err());
        let same = [
            ("host", "igloo.local:8080"),
            ("origin", "http://igloo.local:8080"),
        ];
        assert!(same_origin(&headers(&same)).is_ok());
        let other = [
            ("host", "igloo.local:8080"),
            ("origin", "http://evil.example"),
        ];
        assert!(same_origin(&headers(&other)).is_err());
        assert!(same_origin(&headers(&[("host", "igloo.local")])).is_err());
    }
}
