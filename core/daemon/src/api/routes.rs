//! The route table: every route of the API with the access it needs. The
//! router is built from this table only ([`router`]), each handler behind
//! its access check ([`Route::new`]), so no route exists without a rule.
//! docs/api.md documents each route; docs/security.md has this table.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::PeerIpKeyExtractor;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use super::access::{Access, Route, RouteInfo};
use super::{ApiError, AppState, arrange, auth, dashboard, logs, wifi};
use crate::auth::{Auth, Scope};

/// Largest request body of the JSON routes, bytes. A system update uploaded
/// as `application/octet-stream` streams to disk instead and is not bound by it.
pub const BODY_LIMIT: usize = 64 << 10;

/// The Content-Security-Policy of every response: only this origin's own
/// scripts, styles and connections; no inline script; no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Every route, in the order docs/api.md lists them.
pub fn table(auth: &Arc<Auth>) -> Vec<Route> {
    use Access::{Public, Scope as Need};
    use Scope::{Admin, Control, Read};
    let r = |method: Method, path, access, handler: MethodRouter<AppState>| {
        Route::new(auth, method, path, access, handler)
    };
    vec![
        // The dashboard's files: no data in them (docs/dashboard.md).
        r(Method::GET, "/", Public, get(dashboard::index)),
        r(
            Method::GET,
            "/assets/{*file}",
            Public,
            get(dashboard::asset),
        ),
        r(Method::GET, "/api/v1/health", Public, get(super::health)),
        r(
            Method::GET,
            "/api/v1/devices",
            Need(Read),
            get(super::devices),
        ),
        r(
            Method::GET,
            "/api/v1/devices/{id}",
            Need(Read),
            get(super::device),
        ),
        r(
            Method::PATCH,
            "/api/v1/devices/{id}",
            Need(Admin),
            patch(arrange::edit_device),
        ),
        r(
            Method::GET,
            "/api/v1/rooms",
            Need(Read),
            get(arrange::rooms),
        ),
        r(
            Method::POST,
            "/api/v1/rooms",
            Need(Admin),
            post(arrange::create_room),
        ),
        r(
            Method::PATCH,
            "/api/v1/rooms/{id}",
            Need(Admin),
            patch(arrange::rename_room),
        ),
        r(
            Method::DELETE,
            "/api/v1/rooms/{id}",
            Need(Admin),
            delete(arrange::delete_room),
        ),
        r(
            Method::GET,
            "/api/v1/history",
            Need(Read),
            get(super::history),
        ),
        r(
            Method::POST,
            "/api/v1/devices/{id}/entities/{entity}",
            Need(Control),
            post(super::set_entity),
        ),
        r(
            Method::GET,
            "/api/v1/providers",
            Need(Read),
            get(super::providers),
        ),
        r(
            Method::POST,
            "/api/v1/providers/{name}/restart",
            Need(Admin),
            post(super::restart),
        ),
        r(
            Method::POST,
            "/api/v1/providers/{name}/command",
            Need(Admin),
            post(super::command),
        ),
        r(
            Method::POST,
            "/api/v1/providers/{name}/update",
            Need(Admin),
            post(super::update),
        ),
        r(
            Method::GET,
            "/api/v1/grants",
            Need(Admin),
            get(super::grants),
        ),
        r(
            Method::GET,
            "/api/v1/sandbox",
            Need(Read),
            get(super::sandbox),
        ),
        r(
            Method::GET,
            "/api/v1/events",
            Need(Read),
            get(super::events),
        ),
        r(Method::GET, "/api/v1/logs", Need(Admin), get(logs::tail)),
        r(
            Method::GET,
            "/api/v1/logs/stream",
            Need(Admin),
            get(logs::stream),
        ),
        r(
            Method::GET,
            "/api/v1/ota",
            Need(Read),
            get(super::ota_status),
        ),
        r(
            Method::POST,
            "/api/v1/ota/install",
            Need(Admin),
            post(super::ota_install),
        )
        .streamed_body(),
        r(
            Method::GET,
            "/api/v1/auth/onboarding",
            Public,
            get(auth::onboarding_status),
        ),
        r(
            Method::POST,
            "/api/v1/auth/onboarding",
            Public,
            login_limited(post(auth::onboard)),
        ),
        r(
            Method::POST,
            "/api/v1/auth/login",
            Public,
            login_limited(post(auth::login)),
        ),
        r(
            Method::POST,
            "/api/v1/auth/logout",
            Need(Read),
            post(auth::logout),
        ),
        r(Method::GET, "/api/v1/auth/me", Need(Read), get(auth::me)),
        r(
            Method::GET,
            "/api/v1/auth/tokens",
            Need(Admin),
            get(auth::tokens),
        ),
        r(
            Method::POST,
            "/api/v1/auth/tokens",
            Need(Admin),
            post(auth::create_token),
        ),
        r(
            Method::DELETE,
            "/api/v1/auth/tokens/{id}",
            Need(Admin),
            delete(auth::revoke_token),
        ),
        r(
            Method::GET,
            "/api/v1/auth/sessions",
            Need(Admin),
            get(auth::sessions),
        ),
        r(
            Method::DELETE,
            "/api/v1/auth/sessions",
            Need(Admin),
            delete(auth::end_sessions),
        ),
        r(
            Method::POST,
            "/api/v1/auth/password",
            Need(Admin),
            post(auth::set_password),
        ),
        r(
            Method::GET,
            "/api/v1/auth/failures",
            Need(Admin),
            get(auth::failures),
        ),
        r(
            Method::GET,
            "/api/v1/mqtt/credentials",
            Need(Admin),
            get(super::mqtt::credentials),
        ),
        r(Method::GET, "/api/v1/wifi", Need(Admin), get(wifi::status)),
        r(Method::PUT, "/api/v1/wifi", Need(Admin), put(wifi::set)).body_limit(wifi::BODY_LIMIT),
        r(
            Method::DELETE,
            "/api/v1/wifi",
            Need(Admin),
            delete(wifi::forget),
        ),
        r(
            Method::GET,
            "/api/v1/routes",
            Need(Admin),
            get(super::routes),
        ),
    ]
}

/// Login and onboarding attempts per client address, in two tiers of
/// governor's GCRA so that the wait grows with persistence: 5 at once, then
/// one every 20 s; and 20 at once, then one every 5 minutes. Over either:
/// 429 with `Retry-After`.
fn login_limited(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    let mut route = route;
    for (period_s, burst) in [(300, 20), (20, 5)] {
        let Some(config) = GovernorConfigBuilder::default()
            .per_second(period_s)
            .burst_size(burst)
            .key_extractor(PeerIpKeyExtractor)
            .finish()
        else {
            continue;
        };
        let config = Arc::new(config);
        let limiter = config.limiter().clone();
        // Forget addresses whose quota has refilled, so the table stays small.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(60));
                loop {
                    tick.tick().await;
                    limiter.retain_recent();
                }
            });
        }
        route = route.layer(GovernorLayer::new(config).error_handler(too_many));
    }
    route
}

fn too_many(e: tower_governor::GovernorError) -> Response {
    match e {
        tower_governor::GovernorError::TooManyRequests { wait_time, .. } => {
            // Not a warning per refusal: a client hammering the login would
            // flood the log. The failures themselves are logged and listed.
            tracing::debug!(retry_after_s = wait_time, "login attempts rate-limited");
            let mut r = ApiError(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many attempts from this address; try again in {wait_time} s"),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&wait_time.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        other => ApiError(
            StatusCode::FORBIDDEN,
            format!("logins are accepted over TCP only ({other})"),
        )
        .into_response(),
    }
}

/// Reads a (limited) request body whole before the access check and the
/// handler run. An answer given before the body was read (a refusal, or a
/// handler that takes no body) would otherwise leave bytes on the
/// connection, and the server would close it under a client that is about
/// to send its next request there.
async fn read_whole_body(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        // The limit layer outside makes an over-long body fail here.
        Err(e) => ApiError(StatusCode::PAYLOAD_TOO_LARGE, format!("body: {e}")).into_response(),
    }
}

/// A 413 is sent without reading the body, so the connection cannot be
/// used again: `Connection: close` tells the client before it tries.
async fn close_if_too_large(mut r: Response) -> Response {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    r
}

/// The router: the [`table`], a 404 for everything else, the body limit
/// and the security headers on every response. `routes` receives the
/// listing for `GET /api/v1/routes`.
pub fn router(mut state: AppState) -> Router {
    let table = table(&state.auth);
    state.routes = Arc::new(table.iter().map(Route::info).collect::<Vec<RouteInfo>>());
    let mut router = Router::new();
    for route in table {
        // Over the limit: 413 before the handler runs (by Content-Length,
        // or when a chunked body grows past it).
        let handler = match route.body_limit {
            Some(limit) => route
                .handler
                .layer::<_, std::convert::Infallible>(middleware::from_fn(read_whole_body))
                .layer(RequestBodyLimitLayer::new(limit))
                .layer::<_, std::convert::Infallible>(middleware::map_response(close_if_too_large)),
            None => route.handler,
        };
        router = router.route(route.path, handler);
    }
    router
        .fallback(|| async {
            ApiError(
                StatusCode::NOT_FOUND,
                "no such endpoint; see docs/api.md".into(),
            )
        })
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(state)
}
