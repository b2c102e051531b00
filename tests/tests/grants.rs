//! Hardware grants and hot-plug (issue 3, DESIGN §7), with real kernel
//! uevents and a socat pty standing in for a ConBee II
//! ([`igloo_tests::harness::hotplug`]). Needs root (CI runs as root).

use std::io::Write;
use std::time::Duration;

use igloo_tests::harness::bins::bin;
use igloo_tests::harness::core::{Core, ProviderSpec, providers_toml};
use igloo_tests::harness::hotplug::{FakeDongle, read_until};
use igloo_tests::harness::privileged::require_root;
use igloo_tests::harness::wait::{TIMEOUT, wait_for};
use serde_json::{Value, json};

#[test]
fn plugging_a_dongle_starts_its_provider_with_the_port_and_unplugging_revokes_it() {
    if !require_root(
        "plugging_a_dongle_starts_its_provider_with_the_port_and_unplugging_revokes_it",
    ) {
        return;
    }
    let dongle = FakeDongle::conbee();
    let name = dongle.name().to_string();
    let pty = &dongle.pty;
    let settings = dongle.core_settings();
    let zigbee = ProviderSpec::new("zigbee", bin("igloo-hostile"))
        .line("wait_for_grant = true")
        .table("[[provider.grant]]\nknown = \"zigbee\"");
    let other = ProviderSpec::new("other", bin("igloo-hostile"))
        .table("[[provider.grant]]\nusb = \"0403:6001\"");
    let baseline = ProviderSpec::new("baseline", bin("igloo-hostile")).unconfined();
    let mut core = Core::start_with(settings, &providers_toml(&[zigbee, other, baseline]));
    core.wait_provider_running("baseline", TIMEOUT);
    core.wait_provider_running("other", TIMEOUT);

    // Nothing plugged in yet: the provider waits, without a process.
    let waiting = wait_for(TIMEOUT, "zigbee to wait for its device", || {
        let p = core.api().provider("zigbee");
        if p.state == "waiting_for_device" {
            Ok(p)
        } else {
            Err(format!("{p:?}"))
        }
    });
    assert!(waiting.pid.is_none(), "{waiting:?}");
    // Rules that match no port are shown as warnings (and logged at start),
    // once the first scan is done.
    wait_for(TIMEOUT, "zigbee's unmatched rule in its warnings", || {
        let p = core.api().provider("zigbee");
        match p.warnings.as_slice() {
            [w] if w == "grant rule 0 (known \"zigbee\") matches no serial port now" => Ok(()),
            _ => Err(format!("{p:?}")),
        }
    });
    assert!(core.log_contains("grant rule 0 (usb \"0403:6001\") matches no serial port now"));

    // Plug in: a real kernel uevent.
    dongle.plug();
    core.wait_provider_running("zigbee", TIMEOUT);
    let p = wait_for(TIMEOUT, "the grant to show in the API", || {
        let p = core.api().provider("zigbee");
        if p.grants.is_empty() {
            Err(format!("{p:?}"))
        } else {
            Ok(p)
        }
    });
    let g = &p.grants[0];
    assert_eq!(g["device"], json!(name), "{g}");
    assert_eq!(g["known"]["id"], json!("conbee2"), "{g}");
    assert_eq!(g["usb"]["serial"], json!("DE2412345"), "{g}");
    assert!(
        core.api().provider("other").grants.is_empty(),
        "a non-matching rule gets nothing"
    );
    // The plugged-in device matches zigbee's rule now; other's still matches nothing.
    wait_for(TIMEOUT, "zigbee's warning to clear", || {
        let p = core.api().provider("zigbee");
        match p.warnings.is_empty() {
            true => Ok(()),
            false => Err(format!("{p:?}")),
        }
    });
    assert_eq!(
        core.api().provider("other").warnings,
        ["grant rule 0 (usb \"0403:6001\") matches no serial port now"]
    );
    let (_, grants) = core.api().get("/api/v1/grants").expect("grants");
    assert_eq!(grants["unmatched"]["zigbee"], Value::Null, "{grants}");
    assert_eq!(
        grants["unmatched"]["other"][0],
        json!("grant rule 0 (usb \"0403:6001\") matches no serial port now"),
        "{grants}"
    );
    // `igloo doctor` shows the warning under its provider.
    let doctor = core.cli(&["doctor"]);
    doctor.assert_success();
    let section: Vec<&str> = doctor
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("provider other "))
        .take_while(|l| l.starts_with("provider other ") || l.starts_with("  "))
        .collect();
    assert!(
        section.contains(&"  warning: grant rule 0 (usb \"0403:6001\") matches no serial port now"),
        "igloo doctor:\n{}",
        doctor.stdout
    );

    // The granted fd works inside the sandbox: write, read, termios.
    let mut peer = dongle.open_peer();
    let api = core.api().clone();
    let check = std::thread::spawn(move || {
        api.command(
            "zigbee",
            "check",
            &json!({"checks": ["granted_tty"], "args": {"write": "ping\n"}}),
        )
    });
    let seen = read_until(&mut peer, "ping", Duration::from_secs(5));
    assert!(
        seen.contains("ping"),
        "the provider wrote through its granted fd: {seen:?}"
    );
    peer.write_all(b"pong\n").expect("answer");
    let (status, reply) = check.join().expect("check thread");
    assert_eq!(status, 200, "{reply}");
    let r = &reply["body"]["results"]["granted_tty"];
    assert_eq!(r["ok"], json!(true), "{r}");
    assert!(
        r["detail"].as_str().unwrap_or_default().contains("pong"),
        "{r}"
    );

    // The same tty by path: denied in the sandbox, possible without it.
    let args = json!({"tty_path": pty.device_node()});
    let (_, confined) = core.api().command(
        "zigbee",
        "check",
        &json!({"checks": ["open_tty"], "args": args}),
    );
    let (_, base) = core.api().command(
        "baseline",
        "check",
        &json!({"checks": ["open_tty"], "args": args}),
    );
    assert_eq!(
        base["body"]["results"]["open_tty"]["ok"],
        json!(true),
        "{base}"
    );
    let c = &confined["body"]["results"]["open_tty"];
    assert_eq!(c["ok"], json!(false), "{c}");
    assert_eq!(c["error"], json!("EACCES"), "{c}");

    // Unplug: a real `remove` event revokes the grant; the provider keeps running.
    let pid = p.pid;
    dongle.unplug();
    wait_for(TIMEOUT, "the grant to be revoked", || {
        let p = core.api().provider("zigbee");
        if p.grants.is_empty() {
            Ok(())
        } else {
            Err(format!("{p:?}"))
        }
    });
    let ports: Value = core.api().get_ok("/api/v1/grants");
    assert!(
        !ports["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["device"] == json!(name)),
        "{ports}"
    );
    let (_, after) = core.api().command(
        "zigbee",
        "check",
        &json!({"checks": ["granted_tty"], "args": {"write": "x"}}),
    );
    assert_eq!(
        after["body"]["results"]["granted_tty"]["ok"],
        json!(false),
        "{after}"
    );
    assert_eq!(
        core.api().provider("zigbee").pid,
        pid,
        "unplugging does not restart the provider"
    );

    // Plug in again: granted again.
    dongle.plug();
    wait_for(TIMEOUT, "the device to be granted again", || {
        let p = core.api().provider("zigbee");
        if p.grants.is_empty() {
            Err(format!("{p:?}"))
        } else {
            Ok(())
        }
    });
    assert!(core.log_contains("device granted"));
    drop(core);
}
