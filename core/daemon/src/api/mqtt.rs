//! `GET /api/v1/mqtt/credentials[?account=devices|homeassistant]` (admin): the
//! account a Zigbee2MQTT bridge, the LAN's other MQTT devices, or Home
//! Assistant use on the
//! appliance's own broker, made on first boot by the image's
//! `mqtt-accounts` (docs/image.md). The one answer besides token creation
//! that carries a secret, so it needs `admin` (and, like every answer,
//! `Cache-Control: no-store`).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, AppState};

/// The bridge's account name on the appliance's broker.
pub const BRIDGE_USER: &str = "zigbee2mqtt";
/// The account of the LAN's other MQTT devices (Tasmota, Shelly, ESPHome's
/// MQTT component …) on the appliance's broker: every topic but
/// Zigbee2MQTT's (image/overlay/etc/mosquitto/acl).
pub const DEVICES_USER: &str = "devices";
/// Home Assistant's account on the appliance's broker: discovery, Igloo's
/// discovery out (`igloo/#`, whose `/set` topics switch Igloo devices) and
/// Zigbee2MQTT's topics.
pub const HOMEASSISTANT_USER: &str = "homeassistant";
/// The broker port when `[mdns] mqtt_port` does not name one.
const DEFAULT_PORT: u16 = 1883;

/// `?account=zigbee2mqtt|devices|homeassistant` (default `zigbee2mqtt`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsQuery {
    account: Option<String>,
}

/// `{"username", "password", "port", "base_topic"}` from
/// `<secrets_dir>/mqtt-<account>` (`base_topic` only for the bridge);
/// 400 for an account other than [`BRIDGE_USER`], [`DEVICES_USER`] and
/// [`HOMEASSISTANT_USER`],
/// 404 when this gateway has no such file (it does not manage a broker).
pub async fn credentials(
    State(s): State<AppState>,
    Query(q): Query<CredentialsQuery>,
) -> Result<Json<Value>, ApiError> {
    let account = match q.account.as_deref() {
        None | Some(BRIDGE_USER) => BRIDGE_USER,
        Some(DEVICES_USER) => DEVICES_USER,
        Some(HOMEASSISTANT_USER) => HOMEASSISTANT_USER,
        Some(other) => {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                format!(
                    "no broker account {other:?}: the accounts are {BRIDGE_USER:?} (a Zigbee2MQTT bridge), {DEVICES_USER:?} (other MQTT devices) and {HOMEASSISTANT_USER:?} (Home Assistant)"
                ),
            ));
        }
    };
    let path = s.broker.secrets_dir.join(format!("mqtt-{account}"));
    let text = tokio::fs::read_to_string(&path).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ApiError(
                StatusCode::NOT_FOUND,
                format!(
                    "this gateway manages no MQTT broker accounts ({} does not exist; the appliance image makes it on first boot)",
                    path.display()
                ),
            )
        } else {
            ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot read {}: {e}", path.display()),
            )
        }
    })?;
    let password = text.strip_suffix('\n').unwrap_or(&text);
    let mut reply = json!({
        "username": account,
        "password": password,
        "port": s.broker.port.unwrap_or(DEFAULT_PORT),
    });
    if account == BRIDGE_USER {
        reply["base_topic"] = json!("zigbee2mqtt");
    }
    Ok(Json(reply))
}
