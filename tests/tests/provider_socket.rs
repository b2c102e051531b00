//! A provider started by hand (`IGLOO_SOCKET`) against a core with
//! `[core] provider_socket`: the SDK's example provider connects, its device
//! works through the API, a second provider with the same name is refused, and
//! its devices go offline when it disconnects.

use std::process::{Command, Stdio};

use igloo_tests::bins::bin_dir;
use igloo_tests::{Core, CoreSettings, TIMEOUT, wait_for};
use serde_json::json;

#[test]
fn provider_started_by_hand_connects_over_the_socket() {
    let core = Core::start_with(
        CoreSettings {
            provider_socket: true,
            ..CoreSettings::default()
        },
        "",
    );
    let example = bin_dir().join("examples/echo_light");
    assert!(
        example.is_file(),
        "{} missing: run `cargo build --workspace --examples` first",
        example.display()
    );
    let socket = core.provider_socket();
    let spawn = || {
        Command::new(&example)
            .env("IGLOO_SOCKET", &socket)
            .env_remove("IGLOO_FD")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", example.display()))
    };
    let mut first = spawn();

    let device = wait_for(
        TIMEOUT,
        "the hand-started provider's device to appear online",
        || {
            let devices = core.api().try_devices()?;
            devices
                .into_iter()
                .find(|d| d.provider == "echo-light" && d.available)
                .ok_or_else(|| "no online echo-light device yet".to_string())
        },
    );
    assert_eq!(device.key, "echo-1");

    // A change request goes to it and the confirmed state comes back.
    let (status, body) = core.api().set(
        device.id,
        "Light",
        &json!({"Switch": true, "Brightness": 30}),
    );
    assert_eq!(status, 202, "{body}");
    wait_for(TIMEOUT, "the confirmed Switch=true, Brightness=30", || {
        let d = core.api().device(device.id);
        match (d.value("Light", "Switch"), d.number("Light", "Brightness")) {
            (Some(s), Some(b)) if *s == json!(true) && (b - 30.0).abs() < 1e-9 => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });

    // The same name twice is refused with a reason, and the first keeps working.
    let second = spawn()
        .wait_with_output()
        .unwrap_or_else(|e| panic!("second provider: {e}"));
    assert!(
        !second.status.success(),
        "a second provider with the same name must be refused"
    );
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("already connected"),
        "refusal should say why; stderr: {stderr}"
    );
    assert!(core.api().device(device.id).available);

    // Disconnecting makes its devices unavailable; the id stays.
    let _ = first.kill();
    let _ = first.wait();
    wait_for(TIMEOUT, "the device to go offline", || {
        let d = core.api().device(device.id);
        if d.available {
            Err("still online".into())
        } else {
            Ok(())
        }
    });
}
