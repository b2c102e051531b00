//! Onboarding a core the way a new owner does (docs/security.md): the setup
//! code from the file the core wrote, the owner's account, then a login
//! that returns an `admin` token.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::harness::api::Api;
use crate::harness::core::{OWNER, OWNER_PASSWORD};
use crate::wait_for;

/// The setup code in `<data_dir>/setup-code`, once the core wrote it.
///
/// # Panics
/// If it does not appear within 10 s.
pub fn setup_code(data_dir: &Path) -> String {
    let path = data_dir.join("setup-code");
    wait_for(
        Duration::from_secs(10),
        "the core's setup-code file",
        || {
            std::fs::read_to_string(&path)
                .map(|c| c.trim().to_string())
                .map_err(|e| format!("{}: {e}", path.display()))
        },
    )
}

/// Onboards [`OWNER`] with the setup code and returns a new `admin` token.
///
/// # Panics
/// If onboarding or the login is refused.
pub fn onboard(api: &Api, data_dir: &Path) -> String {
    let code = setup_code(data_dir);
    let anonymous = api.with_token(None);
    let (status, body) = anonymous
        .post(
            "/api/v1/auth/onboarding",
            &json!({"setup_code": code, "username": OWNER, "password": OWNER_PASSWORD}),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, 201, "onboarding: {body}");
    login_token(api, "harness", "admin")
}

/// Logs in as [`OWNER`] and returns a new token with `scope`.
///
/// # Panics
/// If the login is refused.
pub fn login_token(api: &Api, name: &str, scope: &str) -> String {
    let (status, body) = api
        .with_token(None)
        .post(
            "/api/v1/auth/login",
            &json!({"username": OWNER, "password": OWNER_PASSWORD, "token": {"name": name, "scope": scope}}),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, 201, "login for a token: {body}");
    body["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login answered without a token: {body}"))
        .to_string()
}
