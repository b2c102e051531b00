//! The Zigbee gateway under test: the emulated Z-Stack stick
//! (`tests/fakes/znp_coordinator.py`) on a socat pty plugged in as a Sonoff
//! ZBDongle-P by a real uevent, the real core granting it to the confined
//! Zigbee provider (`providers/zigbee`), and the API to watch and drive it.
//! Used by `tests/tests/zigbee.rs` and the Zigbee bench.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::api::{Api, Device};
use crate::harness::core::{Core, ProviderSpec, providers_toml};
use crate::harness::fake::FakeProcess;
use crate::harness::hotplug::{FakeDongle, ZBDONGLE_P};
use crate::harness::python::Package;
use crate::harness::wait::{TIMEOUT, wait_for};

/// The stick, the core, its API and the package the provider runs from.
pub struct ZigbeeGateway {
    /// The emulated stick (JSON ops in, events out).
    pub stick: FakeProcess,
    /// The core.
    pub core: Core,
    /// Its API.
    pub api: Api,
    /// The fake USB dongle (pty, sysfs, uevents).
    pub dongle: FakeDongle,
    _package: Package,
}

impl ZigbeeGateway {
    /// Starts everything with `config` as the provider's `[provider.config]`
    /// entries and plugs the stick in; returns once the provider reports its
    /// network running, with its `zigbee.status`.
    ///
    /// # Panics
    /// When a part does not start or the network does not run in time.
    pub fn start(config: &[(&str, toml::Value)]) -> (ZigbeeGateway, Value) {
        let package = Package::zigbee();
        let dongle = FakeDongle::with_identity(ZBDONGLE_P);
        let peer = dongle.pty.peer.display().to_string();
        let mut stick =
            FakeProcess::spawn("znp stick", "znp_coordinator.py", &["--port".into(), peer]);
        stick.wait_event("listening", TIMEOUT, |e| e["event"] == "listening");
        let mut spec: ProviderSpec = package
            .zigbee_provider("zigbee", "")
            .table("[[provider.grant]]\nknown = \"zigbee\"");
        for (key, value) in config {
            spec = spec.config(key, value.clone());
        }
        let mut core = Core::start_with(dongle.core_settings(), &providers_toml(&[spec]));
        let api = core.api().clone();
        core.wait_provider_running("zigbee", TIMEOUT);
        dongle.plug();
        let gateway = ZigbeeGateway {
            stick,
            core,
            api,
            dongle,
            _package: package,
        };
        let status = gateway.wait_state("running");
        (gateway, status)
    }

    /// `zigbee.status` through the API (its body).
    pub fn status(&self) -> Value {
        let (_, body) = self.api.command("zigbee", "zigbee.status", &json!({}));
        body["body"].clone()
    }

    /// Waits for `zigbee.status` to say `state`; returns the status.
    ///
    /// # Panics
    /// On timeout, with the last status.
    pub fn wait_state(&self, state: &str) -> Value {
        let api = &self.api;
        wait_for(TIMEOUT, format!("the provider's state {state}"), || {
            let (code, body) = api.command("zigbee", "zigbee.status", &json!({}));
            (code == 200 && body["body"]["state"] == state)
                .then(|| body["body"].clone())
                .ok_or(format!("{code} {body}"))
        })
    }

    /// Opens joining through the API and joins `devices` on the stick.
    ///
    /// # Panics
    /// When the API or the stick refuses.
    pub fn join(&mut self, devices: &[&str]) {
        let (code, body) =
            self.api
                .command("zigbee", "zigbee.permit_join", &json!({"seconds": 120}));
        assert_eq!(code, 200, "{body}");
        for device in devices {
            self.stick.op(json!({"op": "join", "device": device}));
        }
    }

    /// Waits until device `id`'s availability is `available`.
    ///
    /// # Panics
    /// On timeout.
    pub fn wait_available(&self, id: u64, available: bool) {
        let api = &self.api;
        wait_for(
            TIMEOUT,
            format!("device {id} available={available}"),
            || {
                let d = api.device(id);
                (d.available == available)
                    .then_some(())
                    .ok_or(format!("{}", d.available))
            },
        );
    }

    /// Waits until `entity`.`component` of device `id` is `want` (numbers
    /// within 0.01); returns the device.
    ///
    /// # Panics
    /// On timeout, with what it is instead.
    pub fn wait_value(&self, id: u64, entity: &str, component: &str, want: Value) -> Device {
        let api = &self.api;
        wait_for(
            TIMEOUT,
            format!("device {id} {entity}.{component} = {want}"),
            || {
                let d = api.device(id);
                d.has(entity, component, &want).map(|()| d)
            },
        )
    }

    /// Asks the stick to send `attribute` = `value` of `cluster` from
    /// `device` (a report, or a zone status change notification).
    pub fn report(&mut self, device: &str, cluster: u16, attribute: u16, value: Value) {
        self.stick.op(json!({
            "op": "set", "device": device, "cluster": cluster,
            "attribute": attribute, "value": value,
        }));
    }

    /// Posts a change request `body` to `entity` of device `id` without
    /// waiting for its outcome, and waits until the stick records a ZCL
    /// command named `command` from `device`; returns that event.
    ///
    /// # Panics
    /// When the API does not accept the request or no such command comes.
    pub fn request(&mut self, id: u64, entity: &str, body: Value, command: &str) -> Value {
        let from = self.stick.events().len();
        let path = format!("/api/v1/devices/{id}/entities/{}", encode(entity));
        let (code, answer) = self.api.post(&path, &body).expect("post a change");
        assert_eq!(code, 202, "{body}: {answer}");
        self.stick.wait_event_from(
            from,
            &format!("the {command} command"),
            Duration::from_secs(10),
            |e| e["event"] == "zcl_command" && e["command"] == command,
        )
    }
}

/// An entity name as a path segment (spaces are the only special character
/// in the Zigbee provider's entity names).
fn encode(entity: &str) -> String {
    entity.replace(' ', "%20")
}
