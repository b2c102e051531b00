//! `GET /api/v1/mqtt/credentials` (admin): the account a Zigbee2MQTT bridge
//! uses on the appliance's own broker, made on first boot by the image's
//! `mqtt-accounts` (docs/image.md). The one answer besides token creation
//! that carries a secret, so it needs `admin` (and, like every answer,
//! `Cache-Control: no-store`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{ApiError, AppState};

/// The bridge's account name on the appliance's broker.
pub const BRIDGE_USER: &str = "zigbee2mqtt";
/// The broker port when `[mdns] mqtt_port` does not name one.
const DEFAULT_PORT: u16 = 1883;

/// `{"username", "password", "port", "base_topic"}` from
/// `<secrets_dir>/mqtt-zigbee2mqtt`; 404 when this gateway has no such file
/// (it does not manage a broker).
pub async fn credentials(State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    let path = s.broker.secrets_dir.join(format!("mqtt-{BRIDGE_USER}"));
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
    Ok(Json(json!({
        "username": BRIDGE_USER,
        "password": password,
        "port": s.broker.port.unwrap_or(DEFAULT_PORT),
        "base_topic": "zigbee2mqtt",
    })))
}
