//! Hardware grants (DESIGN §7): the core, not the provider, opens serial
//! device nodes and passes the fds to the provider whose `[[provider.grant]]`
//! rules match. At start the core scans sysfs; afterwards it follows kernel
//! uevents (netlink, no libudev) so plugging a dongle grants it (starting a
//! provider that waits for it) and unplugging revokes it.
//!
//! - [`sysfs`]: serial ports and their USB identity, from a sysfs tree.
//! - [`uevent`]: the kernel uevent socket and message format.
//! - [`known`]: the shipped table of common Zigbee/Z-Wave/serial sticks.
//! - [`rules`]: grant rules from the config.
//! - [`open`]: opening a device exclusively and passing an fd.
//! - [`settings`]: the hardware keys of `[core]`.

pub mod known;
pub mod open;
pub mod rules;
pub mod settings;
pub mod sysfs;
pub mod uevent;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::supervisor::{ActiveGrant, ToProvider};
use rules::GrantRule;
use settings::HardwareSettings;
use sysfs::SerialPort;

/// One provider's grant rules and its inbox.
pub struct Claimant {
    /// Provider name.
    pub name: String,
    /// Its rules, in config order.
    pub rules: Vec<GrantRule>,
    /// Where grants go.
    pub inbox: mpsc::Sender<ToProvider>,
}

/// A serial port the core knows about, and who holds it.
#[derive(Debug, Clone)]
pub struct PortState {
    /// The port as read from sysfs.
    pub port: SerialPort,
    /// What the core recognises it as ([`known::KNOWN`]).
    pub known: Option<&'static known::KnownDongle>,
    /// (provider, grant number) while granted.
    pub granted: Option<(String, u32)>,
    /// Why it could not be granted.
    pub error: Option<String>,
}

/// The ports the core sees and who holds them, for the API and `igloo doctor`.
#[derive(Clone, Default)]
pub struct Registry {
    ports: Arc<Mutex<BTreeMap<String, PortState>>>,
    hotplug: Arc<Mutex<String>>,
    /// Per provider, its rules that match no port now (one sentence each).
    unmatched: Arc<Mutex<BTreeMap<String, Vec<String>>>>,
}

impl Registry {
    /// Every serial port the core sees, by devpath.
    pub fn ports(&self) -> Vec<PortState> {
        self.ports
            .lock()
            .map(|p| p.values().cloned().collect())
            .unwrap_or_default()
    }

    /// How hot-plug is followed (`"uevent"`, `"off"`, or why it failed).
    pub fn hotplug(&self) -> String {
        self.hotplug.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// Per provider, its grant rules that match no serial port now.
    pub fn unmatched(&self) -> BTreeMap<String, Vec<String>> {
        self.unmatched.lock().map(|u| u.clone()).unwrap_or_default()
    }

    /// Provider `name`'s grant rules that match no serial port now, e.g.
    /// `grant rule 0 (usb "1a86:55d4") matches no serial port now`.
    pub fn unmatched_rules(&self, name: &str) -> Vec<String> {
        self.unmatched
            .lock()
            .ok()
            .and_then(|u| u.get(name).cloned())
            .unwrap_or_default()
    }

    /// The ports provider `name` holds.
    pub fn of_provider(&self, name: &str) -> Vec<PortState> {
        self.ports()
            .into_iter()
            .filter(|s| s.granted.as_ref().is_some_and(|(n, _)| n == name))
            .collect()
    }
}

struct Manager {
    claimants: Vec<Claimant>,
    sysfs_root: PathBuf,
    dev_root: PathBuf,
    registry: Registry,
    next_grant: AtomicU32,
}

/// Starts the grant manager: grants what is plugged in now, then follows
/// hot-plug events until `shutdown` (when `[core] hotplug` is on).
pub fn spawn(
    core: &HardwareSettings,
    claimants: Vec<Claimant>,
    shutdown: CancellationToken,
) -> Registry {
    let registry = Registry::default();
    let m = Manager {
        claimants,
        sysfs_root: core.sysfs_root.clone(),
        dev_root: core.dev_root.clone(),
        registry: registry.clone(),
        next_grant: AtomicU32::new(1),
    };
    let hotplug = core.hotplug;
    tokio::spawn(async move { m.run(hotplug, shutdown).await });
    registry
}

impl Manager {
    async fn run(self, hotplug: bool, shutdown: CancellationToken) {
        // Subscribe before scanning so nothing plugged in between is missed.
        let mut socket = if hotplug {
            match uevent::UeventSocket::open() {
                Ok(s) => {
                    self.set_hotplug("listening to kernel uevents".into());
                    Some(s)
                }
                Err(e) => {
                    tracing::warn!("hot-plug off: cannot open the kernel uevent socket: {e}");
                    self.set_hotplug(format!("off: cannot open the kernel uevent socket: {e}"));
                    None
                }
            }
        } else {
            self.set_hotplug("off ([core] hotplug = false)".into());
            None
        };
        let ports = {
            let (sys, dev) = (self.sysfs_root.clone(), self.dev_root.clone());
            tokio::task::spawn_blocking(move || sysfs::scan(&sys, &dev))
                .await
                .unwrap_or_default()
        };
        for p in ports {
            self.consider(p).await;
        }
        self.check_rules(true);
        let Some(socket) = socket.as_mut() else {
            shutdown.cancelled().await;
            return;
        };
        loop {
            let ev = tokio::select! {
                ev = socket.next() => ev,
                _ = shutdown.cancelled() => return,
            };
            let ev = match ev {
                Ok(ev) => ev,
                Err(e) => {
                    // ENOBUFS: the kernel dropped events; rescan to catch up.
                    tracing::warn!("uevent socket: {e}; rescanning serial ports");
                    let (sys, dev) = (self.sysfs_root.clone(), self.dev_root.clone());
                    let ports = tokio::task::spawn_blocking(move || sysfs::scan(&sys, &dev))
                        .await
                        .unwrap_or_default();
                    for p in ports {
                        self.consider(p).await;
                    }
                    continue;
                }
            };
            if ev.subsystem.as_deref() != Some("tty") {
                continue;
            }
            match ev.action {
                uevent::Action::Add => {
                    let devname = ev
                        .devname
                        .clone()
                        .or_else(|| ev.devpath.rsplit('/').next().map(str::to_string))
                        .unwrap_or_default();
                    match sysfs::read_port(&self.sysfs_root, &ev.devpath, &devname, &self.dev_root)
                    {
                        Ok(p) => {
                            self.consider(p).await;
                            self.check_rules(false);
                        }
                        Err(e) => tracing::debug!(
                            devpath = ev.devpath,
                            "uevent for a port that cannot be read: {e}"
                        ),
                    }
                }
                uevent::Action::Remove => {
                    self.unplugged(&ev.devpath).await;
                    self.check_rules(false);
                }
                _ => {}
            }
        }
    }

    /// Records which rules match no port now (`log`: warn about each, at start).
    fn check_rules(&self, log: bool) {
        let Ok(ports) = self.registry.ports.lock().map(|p| p.clone()) else {
            return;
        };
        let mut unmatched = BTreeMap::new();
        for c in &self.claimants {
            let missing: Vec<String> = c
                .rules
                .iter()
                .enumerate()
                .filter(|(_, r)| !ports.values().any(|s| r.matches(&s.port, &self.dev_root)))
                .map(|(i, r)| {
                    format!(
                        "grant rule {i} ({}) matches no serial port now",
                        r.describe()
                    )
                })
                .collect();
            if log {
                for m in &missing {
                    tracing::warn!(
                        provider = c.name,
                        "{m}; plug the device in, or fix the rule"
                    );
                }
            }
            if !missing.is_empty() {
                unmatched.insert(c.name.clone(), missing);
            }
        }
        if let Ok(mut u) = self.registry.unmatched.lock() {
            *u = unmatched;
        }
    }

    fn set_hotplug(&self, s: String) {
        if let Ok(mut h) = self.registry.hotplug.lock() {
            *h = s;
        }
    }

    /// Grants `port` to the first provider whose rules match, if it is not held already.
    async fn consider(&self, port: SerialPort) {
        let known = port.usb.as_ref().and_then(known::identify);
        let held = self
            .registry
            .ports
            .lock()
            .ok()
            .and_then(|p| p.get(&port.devpath).and_then(|s| s.granted.clone()));
        if held.is_some() {
            return;
        }
        let claim = self.claimants.iter().find_map(|c| {
            c.rules
                .iter()
                .position(|r| r.matches(&port, &self.dev_root))
                .map(|i| (c, i))
        });
        let mut state = PortState {
            port: port.clone(),
            known,
            granted: None,
            error: None,
        };
        if let Some((claimant, rule)) = claim {
            let devnode = port.devnode.clone();
            let opened = tokio::task::spawn_blocking(move || open::open_exclusive(&devnode))
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
            match opened {
                Ok(fd) => {
                    let grant = self.next_grant.fetch_add(1, Ordering::Relaxed);
                    let attributes = attributes(&port, known, rule);
                    let g = ActiveGrant {
                        grant,
                        name: port.name.clone(),
                        attributes,
                        fd: Arc::new(fd),
                    };
                    tracing::info!(provider = claimant.name, device = port.name, devnode = %port.devnode.display(), known = known.map(|k| k.name), grant, "granting device");
                    if claimant.inbox.send(ToProvider::Grant(g)).await.is_ok() {
                        state.granted = Some((claimant.name.clone(), grant));
                    } else {
                        state.error = Some(format!("provider {} is gone", claimant.name));
                    }
                }
                Err(e) => {
                    tracing::error!(provider = claimant.name, device = port.name, devnode = %port.devnode.display(), "cannot open the device to grant it: {e}");
                    state.error = Some(format!("cannot open {}: {e}", port.devnode.display()));
                }
            }
        } else {
            tracing::debug!(device = port.name, "serial port matches no grant rule");
        }
        if let Ok(mut p) = self.registry.ports.lock() {
            p.insert(port.devpath.clone(), state);
        }
    }

    /// The port at `devpath` went away: revoke its grant.
    async fn unplugged(&self, devpath: &str) {
        let state = self
            .registry
            .ports
            .lock()
            .ok()
            .and_then(|mut p| p.remove(devpath));
        let Some(state) = state else {
            return;
        };
        if let Some((provider, grant)) = state.granted {
            tracing::info!(
                provider,
                device = state.port.name,
                grant,
                "device unplugged; revoking"
            );
            if let Some(c) = self.claimants.iter().find(|c| c.name == provider) {
                let _ = c
                    .inbox
                    .send(ToProvider::Revoke {
                        grant,
                        reason: "unplugged".into(),
                    })
                    .await;
            }
        }
    }
}

fn attributes(
    port: &SerialPort,
    known: Option<&'static known::KnownDongle>,
    rule: usize,
) -> Vec<(String, String)> {
    let mut a = Vec::new();
    if let Some(u) = &port.usb {
        a.push(("vid".into(), format!("{:04x}", u.vid)));
        a.push(("pid".into(), format!("{:04x}", u.pid)));
        for (k, v) in [
            ("serial", &u.serial),
            ("manufacturer", &u.manufacturer),
            ("product", &u.product),
        ] {
            if let Some(v) = v {
                a.push((k.into(), v.clone()));
            }
        }
    }
    if let Some(k) = known {
        a.push(("known".into(), k.id.into()));
        a.push(("kind".into(), k.kind.as_str().into()));
    }
    a.push(("rule".into(), rule.to_string()));
    a
}
