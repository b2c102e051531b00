//! The core asking its own API whether it answers: the health check before
//! a slot is marked good (`ota::health`) and the watchdog's liveness check
//! (`watchdog`) both use it, so "the core works" means the same to both.

use std::net::SocketAddr;
use std::time::Duration;

/// Whether the API answers `GET /api/v1/health` with a 2xx status at `addr`
/// within `timeout` (an unspecified address such as `0.0.0.0` is asked on
/// loopback). The health handler asks the tree task, so an answer also
/// means the tree task runs.
///
/// # Errors
/// What went wrong: the status it answered, or the connection error.
pub async fn health_answers(addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let url = format!("http://{addr}/api/v1/health");
    let asked = tokio::task::spawn_blocking(move || {
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(timeout))
                .build(),
        );
        match agent.get(&url).call() {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("GET {url} answered {}", r.status())),
            Err(e) => Err(format!("GET {url}: {e}")),
        }
    })
    .await;
    asked.unwrap_or_else(|e| Err(format!("the request task failed: {e}")))
}
