//! Announcing the gateway on the LAN over mDNS / DNS-SD (RFC 6762, RFC
//! 6763) with `mdns-sd`, so people and programs find it as
//! `<hostname>.local` without the router's DHCP table:
//!
//! - `<hostname>.local` (A/AAAA of every interface, kept up to date);
//! - `_http._tcp` on the API's port (TXT `path=/`): browsers and apps;
//! - `_igloo._tcp` on the API's port (TXT `version`, `api=/api/v1`);
//! - `_mqtt._tcp` on `[mdns] mqtt_port`, when set (the appliance's broker).
//!
//! A name another host already uses is changed by `mdns-sd` as RFC 6762
//! §9 says (`igloo` → `igloo-2.local`, instance `igloo` → `igloo (2)`); the
//! change is logged. Settings: [`settings`] (`[mdns]`).

pub mod settings;

use mdns_sd::{DaemonEvent, IfKind, ServiceDaemon, ServiceInfo};
use tokio_util::sync::CancellationToken;

use self::settings::MdnsSettings;

/// The service type of the API for browsers (RFC 6763 §7, IANA registry).
pub const HTTP_SERVICE: &str = "_http._tcp.local.";
/// The service type of an Igloo gateway's API.
pub const IGLOO_SERVICE: &str = "_igloo._tcp.local.";
/// The service type of an MQTT broker.
pub const MQTT_SERVICE: &str = "_mqtt._tcp.local.";

/// How long the goodbye packets may delay the core's exit.
const GOODBYE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The running announcement.
#[derive(Debug)]
pub struct Announcer {
    /// Full names of the services (`igloo._igloo._tcp.local.` …).
    pub services: Vec<String>,
    task: tokio::task::JoinHandle<()>,
}

impl Announcer {
    /// Waits (up to 2 s) until the goodbye packets are sent, once the
    /// shutdown token given to [`start`] is cancelled.
    pub async fn finished(self) {
        let _ = tokio::time::timeout(GOODBYE_WAIT, self.task).await;
    }
}

/// TXT records of one service: (key, value) pairs.
type Txt<'a> = Vec<(&'a str, &'a str)>;

/// The services of this gateway: the API on `api_port`, the broker on
/// `settings.mqtt_port`, all on `hostname`.
///
/// # Errors
/// A service `mdns-sd` refuses (a name it cannot encode).
pub fn services(
    hostname: &str,
    api_port: u16,
    settings: &MdnsSettings,
) -> Result<Vec<ServiceInfo>, String> {
    let host = format!("{hostname}.local.");
    let version = env!("CARGO_PKG_VERSION");
    let mut wanted: Vec<(&str, u16, Txt)> = vec![
        (HTTP_SERVICE, api_port, vec![("path", "/")]),
        (
            IGLOO_SERVICE,
            api_port,
            vec![("version", version), ("api", "/api/v1")],
        ),
    ];
    if let Some(port) = settings.mqtt_port {
        wanted.push((MQTT_SERVICE, port, Vec::new()));
    }
    wanted
        .into_iter()
        .map(|(ty, port, txt)| {
            ServiceInfo::new(ty, hostname, &host, "", port, &txt[..])
                .map(ServiceInfo::enable_addr_auto)
                .map_err(|e| format!("mDNS service {ty}: {e}"))
        })
        .collect()
}

/// The system's host name (`/proc/sys/kernel/hostname`, its first label),
/// when it is a valid DNS label.
fn system_hostname() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let first = name.trim().split('.').next()?.to_string();
    settings::check_label(&first).ok().map(|()| first)
}

/// Starts announcing, unless `settings` say not to; the announcements end
/// (with goodbye packets) when `shutdown` is cancelled. Never fails the
/// core: a daemon that cannot start is logged and nothing is announced.
pub fn start(
    settings: &MdnsSettings,
    api_port: u16,
    shutdown: CancellationToken,
) -> Option<Announcer> {
    if !settings.enabled {
        return None;
    }
    let Some(hostname) = settings.hostname.clone().or_else(system_hostname) else {
        tracing::warn!(
            "mDNS: the system's host name is not one DNS label; set [mdns] hostname to announce the gateway"
        );
        return None;
    };
    match announce(&hostname, api_port, settings, shutdown) {
        Ok(a) => {
            tracing::info!(
                hostname = %format!("{hostname}.local"),
                services = %a.services.join(", "),
                "mDNS: announcing the gateway"
            );
            Some(a)
        }
        Err(e) => {
            tracing::warn!("mDNS: not announcing the gateway: {e}");
            None
        }
    }
}

fn announce(
    hostname: &str,
    api_port: u16,
    settings: &MdnsSettings,
    shutdown: CancellationToken,
) -> Result<Announcer, String> {
    let daemon = ServiceDaemon::new().map_err(|e| format!("mDNS daemon: {e}"))?;
    // Only the LAN: a loopback address is no use to another host, and the
    // daemon would hear its own announcements there as a conflict.
    daemon
        .disable_interface(vec![IfKind::LoopbackV4, IfKind::LoopbackV6])
        .map_err(|e| format!("mDNS daemon: {e}"))?;
    let events = daemon.monitor().map_err(|e| format!("mDNS daemon: {e}"))?;
    let mut names = Vec::new();
    for info in services(hostname, api_port, settings)? {
        names.push(info.get_fullname().to_string());
        daemon
            .register(info)
            .map_err(|e| format!("mDNS register: {e}"))?;
    }
    let task = tokio::spawn(async move {
        // The daemon reports a change once per socket; log it once.
        let mut changes = std::collections::BTreeSet::new();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                event = events.recv_async() => match event {
                    Ok(DaemonEvent::NameChange(c)) => {
                        if changes.insert((c.original.clone(), c.new_name.clone())) {
                            tracing::warn!(
                                "mDNS: {} is taken on the network; announced as {} instead",
                                c.original.trim_end_matches('.'),
                                c.new_name.trim_end_matches('.')
                            );
                        }
                    }
                    Ok(DaemonEvent::Error(e)) => tracing::debug!("mDNS: {e}"),
                    Ok(_) => {}
                    Err(_) => return,
                },
            }
        }
        // Goodbye packets for every service, then the daemon stops.
        if let Ok(done) = daemon.shutdown() {
            let _ = done.recv_async().await;
        }
    });
    Ok(Announcer {
        services: names,
        task,
    })
}
