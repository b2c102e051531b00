//! Zigbee on the appliance (issue 18): the Z-Stack coordinator emulator
//! (`tests/fakes/znp_coordinator.py`, on zigpy-znp's own MT definitions) is
//! checked against zigpy-znp's real `ControllerApplication` over a socat pty:
//! formation, a kept network, permit-join, interview, reports, commands and
//! a device leaving (`tests/fakes/check_znp_coordinator.py`). Then the
//! Zigbee provider (`providers/zigbee`, zigpy on the core-granted fd),
//! confined, against that stick.

use igloo_tests::harness::fake::FakeProcess;
use igloo_tests::harness::hotplug::{FakeDongle, ZBDONGLE_P};
use igloo_tests::harness::privileged::require_root;
use igloo_tests::harness::python::Package;
use igloo_tests::{Core, TIMEOUT, providers_toml, wait_for};
use serde_json::json;

/// The emulated stick is checked against zigpy-znp itself.
#[test]
fn the_znp_coordinator_emulator_passes_the_zigpy_znp_check() {
    igloo_tests::fake::run_self_check("check_znp_coordinator.py");
}

/// A Sonoff ZBDongle-P (the emulated Z-Stack stick on a pty, plugged by a
/// real uevent) is granted by the core to the confined Zigbee provider,
/// which forms a network on the granted fd; permit-join from the API lets
/// emulated devices join; their interview becomes devices with entities and
/// units; a report updates a value; a change request reaches the device as
/// the right ZCL command and the tree changes on the device's report.
#[test]
fn a_granted_zbdongle_p_forms_a_network_and_joined_devices_become_entities() {
    if !require_root("a_granted_zbdongle_p_forms_a_network_and_joined_devices_become_entities") {
        return;
    }
    let package = Package::zigbee();
    let dongle = FakeDongle::with_identity(ZBDONGLE_P);
    let peer = dongle.pty.peer.display().to_string();
    let mut stick = FakeProcess::spawn("znp stick", "znp_coordinator.py", &["--port".into(), peer]);
    stick.wait_event("listening", TIMEOUT, |e| e["event"] == "listening");
    let spec = package
        .zigbee_provider("zigbee", "")
        .table("[[provider.grant]]\nknown = \"zigbee\"");
    let mut core = Core::start_with(dongle.core_settings(), &providers_toml(&[spec]));
    let api = core.api().clone();
    core.wait_provider_running("zigbee", TIMEOUT);
    dongle.plug();

    // The provider forms a network through the granted fd.
    stick.wait_event("network_started", TIMEOUT, |e| {
        e["event"] == "network_started"
    });
    let status = wait_for(TIMEOUT, "the network to run", || {
        let (code, body) = api.command("zigbee", "zigbee.status", &json!({}));
        (code == 200 && body["body"]["state"] == "running")
            .then(|| body["body"].clone())
            .ok_or(format!("{code} {body}"))
    });
    assert_eq!(status["radio"], "znp", "{status}");
    let on_stick = stick.op(json!({"op": "status"}));
    assert_eq!(on_stick["formed"], true, "{on_stick}");
    assert_eq!(
        status["pan_id"], on_stick["pan_id"],
        "{status} vs {on_stick}"
    );

    // Joining needs permit-join, asked through the API.
    let refused = stick.reply(json!({"op": "join", "device": "bulb"}));
    assert_eq!(refused["event"], "error", "{refused}");
    let (code, body) = api.command("zigbee", "zigbee.permit_join", &json!({"seconds": 120}));
    assert_eq!(code, 200, "{body}");
    stick.wait_event("permit_join", TIMEOUT, |e| e["event"] == "permit_join");
    for device in ["bulb", "climate"] {
        stick.op(json!({"op": "join", "device": device}));
    }

    // Interviewed: devices keyed by IEEE address, named from the Basic cluster.
    let bulb = api.wait_device_by_key("00:17:88:01:0b:1c:00:01");
    assert_eq!(bulb.name, "Igloo Test Colour bulb");
    let climate = api.wait_device_by_key("00:15:8d:00:0a:1c:00:02");
    assert_eq!(climate.name, "Igloo Test Climate sensor");
    wait_for(TIMEOUT, "the sensor's values", || {
        let d = api.device(climate.id);
        let t = d.number("Temperature", "Temperature");
        let h = d.number("Humidity", "Humidity");
        let b = d.number("Battery", "Battery");
        (t == Some(21.5) && h == Some(45.0) && b == Some(90.0))
            .then_some(())
            .ok_or(format!("{t:?} {h:?} {b:?}"))
    });

    // A report updates the value.
    stick.op(
        json!({"op": "set", "device": "climate", "cluster": 0x0402, "attribute": 0, "value": 2345}),
    );
    wait_for(TIMEOUT, "the reported temperature", || {
        let t = api.device(climate.id).number("Temperature", "Temperature");
        (t == Some(23.45)).then_some(()).ok_or(format!("{t:?}"))
    });

    // A change request becomes the On command; the tree follows the report.
    let from = stick.events().len();
    let path = format!("/api/v1/devices/{}/entities/Light?wait_ms=10000", bulb.id);
    let (code, body) = api.post(&path, &json!({"Switch": true})).expect("set");
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["components"]["Switch"], true, "{body}");
    let cmd = stick.wait_event_from(from, "the On command", TIMEOUT, |e| {
        e["event"] == "zcl_command"
    });
    assert_eq!(cmd["command"], "on", "{cmd}");
    assert_eq!(cmd["cluster"], 6, "{cmd}");
    let (code, body) = api
        .post(&path, &json!({"ColorTemperature": 250}))
        .expect("set");
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["components"]["ColorTemperature"], 250, "{body}");
}
