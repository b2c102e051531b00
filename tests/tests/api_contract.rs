//! The HTTP API answers with the objects `docs/api.md` documents.

use igloo_tests::{Core, ProviderSpec, TIMEOUT, providers_toml, wait_for};
use serde_json::Value;

fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn health_and_provider_status_have_the_documented_fields() {
    let mut core = Core::start(&providers_toml(&[ProviderSpec::test("good", "good")]));
    core.wait_provider_running("good", TIMEOUT);
    let api = core.api().clone();
    let health = wait_for(
        TIMEOUT,
        "health to count the good provider's device",
        || {
            let h = api.health()?;
            if h["devices"] == 1 && h["providers"]["running"] == 1 {
                Ok(h)
            } else {
                Err(h.to_string())
            }
        },
    );
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["providers"]["total"], 1, "{health}");
    assert!(health["version"].is_string(), "{health}");

    let (status, providers) = api
        .get("/api/v1/providers")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, 200, "{providers}");
    let p = providers
        .as_array()
        .and_then(|a| a.first())
        .unwrap_or_else(|| panic!("no provider listed: {providers}"));
    let documented = [
        "name",
        "exec",
        "state",
        "pid",
        "restarts",
        "last_exit",
        "version",
        "protocol",
        "devices",
        "dropped_components",
        "installed_version",
        "versions",
        "update",
    ];
    let missing: Vec<&str> = documented
        .iter()
        .copied()
        .filter(|k| p.get(*k).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "GET /api/v1/providers lacks documented fields {missing:?}; it has {:?}",
        keys(p)
    );
    assert_eq!(p["devices"], 1, "{p}");
    let protocol = format!(
        "{}.{}",
        igloo_protocol::PROTOCOL_MAJOR,
        igloo_protocol::PROTOCOL_MINOR
    );
    assert_eq!(p["protocol"], protocol.as_str(), "{p}");
    assert_eq!(p["installed_version"], "configured", "{p}");
}
