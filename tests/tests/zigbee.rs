//! Zigbee on the appliance (issue 18): the Z-Stack coordinator emulator
//! (`tests/fakes/znp_coordinator.py`, on zigpy-znp's own MT definitions) is
//! checked against zigpy-znp's real `ControllerApplication` over a socat pty:
//! formation, a kept network, permit-join, interview, reports, commands and
//! a device leaving (`tests/fakes/check_znp_coordinator.py`). Then the
//! Zigbee provider (`providers/zigbee`, zigpy on the core-granted fd),
//! confined, against that stick.

use igloo_tests::harness::events::{EventStream, is_availability};
use igloo_tests::harness::privileged::require_root;
use igloo_tests::harness::python::Package;
use igloo_tests::harness::zigbee::ZigbeeGateway;
use igloo_tests::{Core, TIMEOUT, providers_toml, wait_for};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The emulated stick is checked against zigpy-znp itself.
#[test]
fn the_znp_coordinator_emulator_passes_the_zigpy_znp_check() {
    igloo_tests::fake::run_self_check("check_znp_coordinator.py");
}

/// `VmRSS` of process `pid`, as /proc prints it.
fn rss(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

const BULB: &str = "00:17:88:01:0b:1c:00:01";
const CLIMATE: &str = "00:15:8d:00:0a:1c:00:02";
const PLUG: &str = "00:0d:6f:00:0a:1c:00:04";

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
    let (mut b, status) = ZigbeeGateway::start(&[]);
    let api = b.api.clone();
    let stick = &mut b.stick;

    // The provider formed a network through the granted fd.
    assert_eq!(status["radio"], "znp", "{status}");
    let on_stick = stick.op(json!({"op": "status"}));
    assert_eq!(on_stick["formed"], true, "{on_stick}");
    assert_eq!(
        status["pan_id"], on_stick["pan_id"],
        "{status} vs {on_stick}"
    );
    // Sandboxed: its own uid, Landlock, seccomp.
    let sandbox = api.provider("zigbee").sandbox.clone().unwrap_or_default();
    for layer in ["uid", "landlock", "seccomp"] {
        assert_eq!(sandbox[layer]["enforced"], true, "{layer}: {sandbox}");
    }
    // `igloo doctor` says so too, with the network closed.
    let doctor = b.core.cli(&["doctor"]);
    doctor.assert_success();
    doctor.assert_doctor_enforces("zigbee", &["uid", "landlock", "seccomp", "network"]);

    // Joining needs permit-join, asked through the API.
    let refused = stick.reply(json!({"op": "join", "device": "bulb"}));
    assert_eq!(refused["event"], "error", "{refused}");
    // Figures, printed (not asserted): the provider's idle RSS, join to values.
    let pid = b.core.wait_provider_running("zigbee", TIMEOUT);
    eprintln!("zigbee provider idle RSS: {}", rss(pid));
    let joined = Instant::now();
    b.join(&["bulb", "climate"]);
    let stick = &mut b.stick;

    // Interviewed: devices keyed by IEEE address, named from the Basic cluster.
    let bulb = api.wait_device_by_key(BULB);
    assert_eq!(bulb.name, "Igloo Test Colour bulb");
    let climate = api.wait_device_by_key(CLIMATE);
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

    eprintln!("join to entities with values: {:?}", joined.elapsed());

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

    // Removed through the API: asked to leave on the air (the emulated
    // stick sees the Mgmt_Leave_req and the sensor leaves), gone from the
    // tree; the other device stays. An id that is no Zigbee device is refused.
    let (code, body) = api.command("zigbee", "zigbee.remove", &json!({"device": 999_999}));
    assert_eq!(code, 422, "{body}");
    let from = stick.events().len();
    let (code, body) = api.command("zigbee", "zigbee.remove", &json!({"device": climate.id}));
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["body"]["removed"], CLIMATE, "{body}");
    stick.wait_event_from(from, "the sensor leaving", TIMEOUT, |e| {
        e["event"] == "left" && e["device"] == "climate"
    });
    wait_for(TIMEOUT, "the sensor gone from the API", || {
        match api.device_by_key(CLIMATE) {
            None => Ok(()),
            Some(d) => Err(format!("{d:?}")),
        }
    });
    assert!(api.device_by_key(BULB).is_some_and(|d| d.available));

    // Paired again, the sensor gets its old id back (it follows the IEEE
    // address), with its entities and the values read at its new interview
    // (it measured 19.9 °C meanwhile, off the network).
    b.report("climate", 0x0402, 0, json!(1990));
    b.join(&["climate"]);
    let back = api.wait_device_by_key(CLIMATE);
    assert_eq!(back.id, climate.id, "{back:?}");
    b.wait_value(climate.id, "Temperature", "Temperature", json!(19.9));
}

/// A device that leaves becomes unavailable; unplugging the stick stops the
/// network and makes every device unavailable; plugging it back resumes the
/// same network with the same ids; so does a stick that fails under the
/// provider (EIO, hang-up) before the core revokes it, the provider running
/// on; a killed provider comes back on the grant it keeps, with the same
/// network and ids.
#[test]
fn leave_unplug_replug_and_a_provider_restart_keep_the_network_and_ids() {
    if !require_root("leave_unplug_replug_and_a_provider_restart_keep_the_network_and_ids") {
        return;
    }
    let (mut b, first) = ZigbeeGateway::start(&[]);
    b.join(&["bulb", "plug"]);
    let bulb = b.api.wait_device_by_key(BULB);
    let plug = b.api.wait_device_by_key(PLUG);
    // Interviewed and set up: their values have been read.
    let api = b.api.clone();
    wait_for(TIMEOUT, "the bulb's and plug's values", || {
        let on = api
            .device(bulb.id)
            .entities
            .get("Light")
            .and_then(|e| e.components.get("Switch").cloned());
        let w = api.device(plug.id).number("Power", "Power");
        (on.is_some() && w == Some(60.0))
            .then_some(())
            .ok_or(format!("{on:?} {w:?}"))
    });

    // The plug leaves.
    b.stick.op(json!({"op": "leave", "device": "plug"}));
    b.wait_available(plug.id, false);
    assert!(b.api.device(bulb.id).available);

    // Unplugged: revoked, the network stops, devices are unavailable.
    b.dongle.unplug();
    b.wait_available(bulb.id, false);
    wait_for(TIMEOUT, "the provider to wait for its stick", || {
        let (_, body) = api.command("zigbee", "zigbee.status", &json!({}));
        (body["body"]["state"] == "waiting_for_stick")
            .then_some(())
            .ok_or(format!("{body}"))
    });

    // Plugged back: the same network, the same ids.
    b.dongle.plug();
    let again = b.wait_state("running");
    assert_eq!(again["pan_id"], first["pan_id"], "{again} vs {first}");
    assert_eq!(again["extended_pan_id"], first["extended_pan_id"]);
    b.wait_available(bulb.id, true);
    assert_eq!(b.api.wait_device_by_key(BULB).id, bulb.id);

    // The stick fails under the provider without a uevent: its pty vanishes
    // (reads give EIO, the fd hangs up) while the core still holds the
    // grant. zigpy stops, the devices are unavailable, the provider runs on.
    let pid = b.core.wait_provider_running("zigbee", TIMEOUT);
    b.dongle.hang_up();
    let lost = b.wait_state("stick_lost");
    assert!(
        lost["error"]
            .as_str()
            .is_some_and(|e| e.contains("connection lost")),
        "{lost}"
    );
    b.wait_available(bulb.id, false);
    assert_eq!(b.api.provider("zigbee").pid, Some(pid), "the same process");
    // Replugged (remove, then add on a new pty): the next grant resumes the
    // same network and ids.
    b.dongle.unplug();
    b.dongle.reconnect();
    b.stick.op(json!({"op": "reopen"}));
    b.dongle.plug();
    let resumed = b.wait_state("running");
    assert_eq!(resumed["pan_id"], first["pan_id"], "{resumed} vs {first}");
    assert_eq!(resumed["extended_pan_id"], first["extended_pan_id"]);
    b.wait_available(bulb.id, true);
    assert_eq!(b.api.wait_device_by_key(BULB).id, bulb.id);

    // Killed: restarted on the grant it keeps, same network and ids.
    let pid = b.core.wait_provider_running("zigbee", TIMEOUT);
    let mut events = b.core.events();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill");
    wait_for(Duration::from_secs(30), "the provider to run again", || {
        let p = api.try_provider("zigbee")?;
        (p.state == "running" && p.pid.is_some_and(|n| n != pid))
            .then_some(())
            .ok_or(format!("{p:?}"))
    });
    let restarted = b.wait_state("running");
    assert_eq!(restarted["pan_id"], first["pan_id"], "{restarted}");
    b.wait_available(bulb.id, true);
    assert_eq!(b.api.wait_device_by_key(BULB).id, bulb.id);
    // The plug left before the restart: the same id, and the restarted
    // provider keeps it unavailable (it answered the status only after
    // announcing every device again).
    let again = b.api.device_by_key(PLUG).expect("the plug is listed");
    assert_eq!(again.id, plug.id);
    assert!(
        !again.available,
        "the plug that left is available again after the restart"
    );
    // Not even for a moment: it was announced unavailable
    // (`CreateDeviceWithAvailability`), while the bulb, announced available,
    // says so on the same stream (the baseline).
    events.wait_event(TIMEOUT, "the bulb available again", |e| {
        is_availability(e, bulb.id, true)
    });
    // The tree emitted every event of the announcements before it answered
    // `device_by_key` above; this lets the stream deliver those still on
    // their way.
    events.collect_for(Duration::from_secs(1));
    assert!(
        !events
            .seen()
            .iter()
            .any(|e| is_availability(e, plug.id, true)),
        "the plug that left was shown available during the restart: {:?}",
        events.seen()
    );
}

const MULTISENSOR: &str = "00:15:8d:00:0a:1c:00:05";
const BLIND: &str = "00:0d:6f:00:0a:1c:00:09";
const THERMOSTAT: &str = "00:15:8d:00:0a:1c:00:0a";
const LOCK: &str = "00:15:8d:00:0a:1c:00:0b";

/// Pressure, illuminance, occupancy, IAS zones by type, electrical
/// measurement, a window covering, a thermostat and a door lock become
/// their components in Igloo's units; their change requests reach the
/// emulated devices as the ZCL commands and attribute writes the ZCL
/// specifies, and the tree takes the value the device reported (the
/// thermostat keeps 0.5 °C steps, so a 21.3 °C request reads 21.5 °C).
#[test]
fn more_clusters_become_components_and_their_changes_become_zcl_commands() {
    if !require_root("more_clusters_become_components_and_their_changes_become_zcl_commands") {
        return;
    }
    let (mut b, _) = ZigbeeGateway::start(&[]);
    let all = [
        "multisensor",
        "motion",
        "leak",
        "smoke",
        "plug",
        "blind",
        "thermostat",
        "lock",
    ];
    b.join(&all);
    let api = b.api.clone();

    // Sensors: pressure in hPa, illuminance from 10000·log10(lux)+1, occupancy.
    let multi = api.wait_device_by_key(MULTISENSOR);
    b.wait_value(multi.id, "Pressure", "Pressure", json!(1013.0));
    b.wait_value(multi.id, "Occupancy", "Occupancy", json!(false));
    b.wait_value(multi.id, "Illuminance", "Illuminance", json!(500.0));
    b.wait_value(multi.id, "Battery", "Battery", json!(80.0));
    b.report("multisensor", 0x0406, 0, json!(1));
    b.wait_value(multi.id, "Occupancy", "Occupancy", json!(true));
    b.report("multisensor", 0x0400, 0, json!(30001)); // 10000·log10(1000 lx) + 1
    b.wait_value(multi.id, "Illuminance", "Illuminance", json!(1000.0));

    // IAS zones by zone type: each its own component, from the notification.
    for (name, key, entity, component) in [
        ("motion", "00:15:8d:00:0a:1c:00:06", "Motion", "Motion"),
        ("leak", "00:15:8d:00:0a:1c:00:07", "Water leak", "WaterLeak"),
        ("smoke", "00:15:8d:00:0a:1c:00:08", "Smoke", "Smoke"),
    ] {
        let zone = api.wait_device_by_key(key);
        b.wait_value(zone.id, entity, component, json!(false));
        b.report(name, 0x0500, 2, json!(1)); // alarm 1
        b.wait_value(zone.id, entity, component, json!(true));
    }

    // Electrical measurement with its multipliers and divisors.
    let plug = api.wait_device_by_key(PLUG);
    b.wait_value(plug.id, "Power", "Voltage", json!(230.1));
    b.wait_value(plug.id, "Power", "Current", json!(0.261));
    b.wait_value(plug.id, "Power", "Power", json!(60.0));

    // Window covering: ZCL lift 0 % is open, Igloo's CoverPosition 100 %.
    let blind = api.wait_device_by_key(BLIND);
    b.wait_value(blind.id, "Cover", "CoverPosition", json!(100.0));
    b.wait_value(blind.id, "Cover", "CoverState", json!("Open"));
    let cmd = b.request(
        blind.id,
        "Cover",
        json!({"CoverCommand": "Close"}),
        "down_close",
    );
    assert_eq!(cmd["cluster"], 0x0102, "{cmd}");
    b.wait_value(blind.id, "Cover", "CoverPosition", json!(0.0));
    b.wait_value(blind.id, "Cover", "CoverState", json!("Closed"));
    let cmd = b.request(
        blind.id,
        "Cover",
        json!({"CoverPosition": 30}),
        "go_to_lift_percentage",
    );
    assert_eq!(cmd["args"]["percentage_lift_value"], 70, "{cmd}");
    b.wait_value(blind.id, "Cover", "CoverPosition", json!(30.0));
    b.request(blind.id, "Cover", json!({"CoverCommand": "Stop"}), "stop");
    b.request(
        blind.id,
        "Cover",
        json!({"CoverCommand": "Open"}),
        "up_open",
    );
    b.wait_value(blind.id, "Cover", "CoverPosition", json!(100.0));

    // Thermostat: local temperature, setpoint (0.01 °C) and system mode.
    let thermostat = api.wait_device_by_key(THERMOSTAT);
    for (component, want) in [
        ("TargetTemperature", json!(20.0)),
        ("Temperature", json!(20.5)),
        ("ClimateMode", json!("Heat")),
    ] {
        b.wait_value(thermostat.id, "Thermostat", component, want);
    }
    let path = format!(
        "/api/v1/devices/{}/entities/Thermostat?wait_ms=10000",
        thermostat.id
    );
    let from = b.stick.events().len();
    let (code, body) = api
        .post(&path, &json!({"TargetTemperature": 21.3}))
        .expect("set");
    assert_eq!(code, 200, "{body}");
    // What the device kept (its report and read-back), not what was asked.
    assert_eq!(body["components"]["TargetTemperature"], 21.5, "{body}");
    let cmd = b
        .stick
        .wait_event_from(from, "the setpoint write", TIMEOUT, |e| {
            e["command"] == "write_attributes" && e["device"] == "thermostat"
        });
    assert_eq!(cmd["args"]["occupied_heating_setpoint"], 2130, "{cmd}");
    let cmd = b.request(
        thermostat.id,
        "Thermostat",
        json!({"ClimateMode": "Off"}),
        "write_attributes",
    );
    assert_eq!(cmd["args"]["system_mode"], 0, "{cmd}");
    b.wait_value(thermostat.id, "Thermostat", "ClimateMode", json!("Off"));
    // A mode the ZCL has not is refused by the provider (watched on the
    // event stream: a late report of the mode would confirm a waiting request).
    let mut events = EventStream::connect_with(api.base(), api.token());
    let from = b.stick.events().len();
    let path = format!("/api/v1/devices/{}/entities/Thermostat", thermostat.id);
    let (code, body) = api
        .post(&path, &json!({"ClimateMode": "HeatCool"}))
        .expect("set");
    assert_eq!(code, 202, "{body}");
    let refused = events.wait_event(TIMEOUT, "the refusal", |e| {
        e["type"] == "refused" && e["device"] == thermostat.id
    });
    assert!(
        refused["reason"]
            .as_str()
            .is_some_and(|r| r.contains("HeatCool")),
        "{refused}"
    );
    assert!(
        !b.stick.events()[from..]
            .iter()
            .any(|e| e["device"] == "thermostat"),
        "nothing sent to the device"
    );

    // Door lock: lock state; Lock and LockCommand become lock/unlock commands.
    let lock = api.wait_device_by_key(LOCK);
    b.wait_value(lock.id, "Lock", "Lock", json!("Locked"));
    b.request(lock.id, "Lock", json!({"Lock": "Unlocked"}), "unlock_door");
    b.wait_value(lock.id, "Lock", "Lock", json!("Unlocked"));
    b.request(lock.id, "Lock", json!({"LockCommand": "Lock"}), "lock_door");
    b.wait_value(lock.id, "Lock", "Lock", json!("Locked"));
}

/// Availability by silence per power source: with a short mains timeout
/// and a long battery one, the silent bulb (mains) is polled and, answering,
/// stays available; powered off it becomes unavailable while the climate
/// sensor (battery) stays; powered on, its next report makes it available
/// again. The devices carry their power source.
#[test]
fn a_silent_mains_device_is_polled_and_unavailable_only_when_it_does_not_answer() {
    if !require_root("a_silent_mains_device_is_polled_and_unavailable_only_when_it_does_not_answer")
    {
        return;
    }
    let (mut b, _) = ZigbeeGateway::start(&[
        ("consider_unavailable_mains", toml::Value::Integer(2)),
        ("consider_unavailable_battery", toml::Value::Integer(3600)),
    ]);
    b.join(&["bulb", "climate"]);
    let bulb = b.api.wait_device_by_key(BULB);
    let climate = b.api.wait_device_by_key(CLIMATE);
    let attr = |id: u64| b.api.device(id).attributes.get("power_source").cloned();
    assert_eq!(attr(bulb.id), Some(json!("mains")));
    assert_eq!(attr(climate.id), Some(json!("battery")));

    // Silent past its 2 s timeout, twice: each time the bulb is asked for
    // its Basic cluster's manufacturer (0x0004), answers, and stays.
    let mut events = b.core.events();
    let poll = |e: &Value| {
        e["event"] == "zcl_read"
            && e["device"] == "bulb"
            && e["cluster"] == 0
            && e["attributes"] == json!([4])
    };
    let from = b.stick.events().len();
    b.stick
        .wait_event_from(from, "a poll of the bulb", TIMEOUT, poll);
    let from = b.stick.events().len();
    b.stick
        .wait_event_from(from, "a second poll of the bulb", TIMEOUT, poll);
    assert!(b.api.device(bulb.id).available, "an answering bulb stays");
    let seen = events.collect_for(Duration::ZERO);
    assert!(
        !seen.iter().any(|e| is_availability(e, bulb.id, false)),
        "the answering bulb was marked unavailable: {seen:?}"
    );

    // Switched off at the wall: the poll is not delivered (MAC_NO_ACK).
    b.stick
        .op(json!({"op": "power", "device": "bulb", "on": false}));
    b.wait_available(bulb.id, false);
    assert!(
        b.api.device(climate.id).available,
        "a battery device keeps its hour"
    );
    b.stick
        .op(json!({"op": "power", "device": "bulb", "on": true}));
    b.report("bulb", 0x0006, 0, json!(true));
    b.wait_available(bulb.id, true);
    b.wait_value(bulb.id, "Light", "Switch", json!(true));
}

/// A wrong `[provider.config]` reaches the core with its key: the provider
/// is held in `config_error` at that key's line of igloo.toml, with the
/// provider's own exit status 78, and is not restarted.
#[test]
fn a_wrong_zigbee_config_is_a_config_error_at_its_line() {
    let package = Package::zigbee();
    let spec = package.zigbee_provider("zigbee", "").config("baudrate", -5);
    let core = Core::start(&providers_toml(&[spec]));
    let api = core.api().clone();
    let p = wait_for(TIMEOUT, "the provider in config_error", || {
        let p = api.try_provider("zigbee")?;
        (p.state == "config_error")
            .then_some(p.clone())
            .ok_or(format!("{p:?}"))
    });
    let problem = p.config_error.clone().expect("config_error is set");
    assert_eq!(problem["key"], "baudrate", "{problem}");
    let text = std::fs::read_to_string(core.config_path()).expect("the core's config");
    let line = text
        .lines()
        .position(|l| l.starts_with("baudrate = -5"))
        .map(|i| i + 1);
    assert_eq!(
        problem["line"].as_u64(),
        line.map(|n| n as u64),
        "{problem}"
    );
    assert!(
        problem["message"]
            .as_str()
            .is_some_and(|m| m.contains("positive integer")),
        "{problem}"
    );
    assert_eq!(p.exit.clone().expect("exit")["code"], 78, "{p:?}");
    assert_eq!(p.pid, None, "not restarted: {p:?}");
}
