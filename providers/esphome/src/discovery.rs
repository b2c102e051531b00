//! mDNS discovery of ESPHome devices with `mdns-sd`.
//!
//! ESPHome devices announce `_esphomelib._tcp.local.` (port 6053 by default)
//! with TXT records `mac` (12 hex digits), `friendly_name`, `version`,
//! `platform`, `board`, `network` and, when an API encryption key is set,
//! `api_encryption` (newer firmware that can take a key later announces
//! `api_encryption_supported` instead, which does not mean a key is needed).

use std::net::IpAddr;

use mdns_sd::{ServiceDaemon, ServiceEvent};
use tokio::sync::mpsc;

/// The service type ESPHome announces.
pub const SERVICE_TYPE: &str = "_esphomelib._tcp.local.";

/// One resolved announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// The mDNS instance name (ESPHome's node name).
    pub instance: String,
    /// An address to connect to (IPv4 preferred).
    pub address: IpAddr,
    /// The API port.
    pub port: u16,
    /// TXT `mac`, normalised (see [`crate::mac::normalize`]).
    pub mac: Option<String>,
    /// TXT `friendly_name`.
    pub friendly_name: Option<String>,
    /// TXT `api_encryption` is present: the device needs a key.
    pub encrypted: bool,
}

/// Starts browsing; announcements arrive on the returned channel. The daemon
/// must be kept alive (dropping it stops discovery).
///
/// # Errors
/// The mDNS daemon cannot start (no usable interface, the socket is refused).
pub fn start() -> Result<(ServiceDaemon, mpsc::Receiver<Discovered>), String> {
    let daemon = ServiceDaemon::new().map_err(|e| format!("mDNS daemon: {e}"))?;
    let events = daemon
        .browse(SERVICE_TYPE)
        .map_err(|e| format!("mDNS browse {SERVICE_TYPE}: {e}"))?;
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        while let Ok(event) = events.recv_async().await {
            if let ServiceEvent::ServiceResolved(s) = event {
                let address = s
                    .addresses
                    .iter()
                    .map(|a| a.to_ip_addr())
                    .min_by_key(|a| (a.is_ipv6(), *a));
                let Some(address) = address else {
                    continue;
                };
                let instance = s
                    .fullname
                    .strip_suffix(SERVICE_TYPE)
                    .unwrap_or(&s.fullname)
                    .trim_end_matches('.')
                    .to_string();
                let d = Discovered {
                    instance,
                    address,
                    port: s.port,
                    mac: s
                        .get_property_val_str("mac")
                        .and_then(crate::mac::normalize),
                    friendly_name: s.get_property_val_str("friendly_name").map(str::to_string),
                    encrypted: s.get_property("api_encryption").is_some(),
                };
                if tx.send(d).await.is_err() {
                    break;
                }
            }
        }
    });
    Ok((daemon, rx))
}
