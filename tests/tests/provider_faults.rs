//! A misbehaving provider is contained: the core logs the fault with the
//! provider's name, refuses or restarts that provider, and keeps serving the
//! API and the other providers. Each test runs a well-behaved `good` test
//! provider alongside the faulty one and checks that its writes keep
//! arriving and that its process is never restarted.

use igloo_tests::events::is_state;
use igloo_tests::{
    Core, CoreSettings, EventStream, ProviderSpec, SHORT, TIMEOUT, providers_toml, wait_for,
};

/// The core with `good` and `faulty`, the good provider's pid and device id.
struct Faults {
    core: Core,
    good_pid: u32,
    good_device: u64,
}

fn start_with(faulty: ProviderSpec) -> Faults {
    start_with_settings(CoreSettings::default(), faulty)
}

fn start_with_settings(settings: CoreSettings, faulty: ProviderSpec) -> Faults {
    let good = ProviderSpec::test("good", "good");
    let mut core = Core::start_with(settings, &providers_toml(&[good, faulty]));
    let good_pid = core.wait_provider_running("good", TIMEOUT);
    let api = core.api().clone();
    let good_device = wait_for(
        TIMEOUT,
        "the good provider's device good-1 with a Counter",
        || {
            let devices = api.try_devices()?;
            devices
                .iter()
                .find(|d| {
                    d.key == "good-1"
                        && d.provider == "good"
                        && d.value("Counter", "Number").is_some()
                })
                .map(|d| d.id)
                .ok_or_else(|| format!("devices: {devices:?}"))
        },
    );
    Faults {
        core,
        good_pid,
        good_device,
    }
}

impl Faults {
    /// The good provider is unaffected: same pid, never restarted, its writes
    /// still arrive (in the API and on the event stream), and the API answers.
    fn assert_good_unaffected(&self, events: &mut EventStream) {
        let api = self.core.api();
        api.health()
            .unwrap_or_else(|e| panic!("the core's API stopped answering: {e}"));
        let p = api.provider("good");
        assert_eq!(
            (p.state.as_str(), p.pid, p.restarts),
            ("running", Some(self.good_pid), 0),
            "the good provider must be untouched by the other's fault: {p:?}"
        );
        let counter = |api: &igloo_tests::Api| -> Result<f64, String> {
            api.try_get_ok::<igloo_tests::Device>(&format!("/api/v1/devices/{}", self.good_device))?
                .number("Counter", "Number")
                .ok_or_else(|| "Counter.Number missing".to_string())
        };
        let before = counter(api).unwrap_or_else(|e| panic!("good device: {e}"));
        wait_for(
            SHORT,
            format!("the good Counter to move on from {before}"),
            || {
                let now = counter(api)?;
                if now >= before + 5.0 {
                    Ok(())
                } else {
                    Err(format!("Counter = {now}"))
                }
            },
        );
        let dev = self.good_device;
        for _ in 0..3 {
            events.wait_event(SHORT, "a state event from the good provider", |ev| {
                is_state(ev, dev, Some("Counter"))
            });
        }
    }

    /// Waits until provider `name` has been restarted at least once after a
    /// fault whose `last_exit` contains `reason`; returns its status.
    fn wait_restarted(&self, name: &str, reason: &str) -> igloo_tests::Provider {
        let api = self.core.api().clone();
        wait_for(
            TIMEOUT,
            format!("provider {name} restarted with last_exit containing {reason:?}"),
            || {
                let p = api.try_provider(name)?;
                if p.restarts >= 1 && p.last_exit.as_deref().is_some_and(|e| e.contains(reason)) {
                    Ok(p)
                } else {
                    Err(format!("{p:?}"))
                }
            },
        )
    }
}

#[test]
fn garbage_frame_is_logged_with_provider_name_and_others_keep_running() {
    let f = start_with(ProviderSpec::test("garbage", "garbage"));
    let mut events = f.core.events();
    let line = f.core.wait_log(
        TIMEOUT,
        &["provider=garbage", "protocol violation", "undecodable"],
    );
    assert!(
        line.contains("ERROR") || line.contains("error"),
        "a protocol violation is logged as an error: {line}"
    );
    // Treated as a crash: killed and restarted with back-off.
    f.wait_restarted("garbage", "protocol violation");
    f.assert_good_unaffected(&mut events);
}

#[test]
fn oversize_frame_is_refused() {
    let f = start_with(ProviderSpec::test("oversize", "oversize"));
    let mut events = f.core.events();
    // The 64 MiB length is refused from the header, before any payload is buffered.
    f.core.wait_log(
        TIMEOUT,
        &[
            "provider=oversize",
            "protocol violation",
            "67108864",
            "exceeds",
        ],
    );
    let p = f.wait_restarted("oversize", "protocol violation");
    assert!(
        p.last_exit
            .as_deref()
            .is_some_and(|e| e.contains("67108864")),
        "last_exit names the refused length: {p:?}"
    );
    f.assert_good_unaffected(&mut events);
}

#[test]
fn writes_to_foreign_device_are_refused() {
    let f = start_with(ProviderSpec::test("foreign", "foreign"));
    let mut events = f.core.events();
    let foreign_device = wait_for(TIMEOUT, "the foreign provider's own device", || {
        f.core
            .api()
            .try_devices()?
            .into_iter()
            .find(|d| d.key == "foreign-1")
            .map(|d| d.id)
            .ok_or_else(|| "not yet".to_string())
    });
    // Refused with NOT_OWNER (4) and UNKNOWN_ENTITY (5), logged with its name…
    f.core.wait_log(
        TIMEOUT,
        &[
            "provider=foreign",
            "code=4",
            &format!("device {}", f.good_device),
        ],
    );
    f.core
        .wait_log(TIMEOUT, &["provider=foreign", "code=5", "42"]);
    // …and answered to the provider, which logs what it got.
    f.core
        .wait_log(TIMEOUT, &["provider=foreign", "core replied Error code 4"]);
    f.core
        .wait_log(TIMEOUT, &["provider=foreign", "core replied Error code 5"]);

    f.assert_good_unaffected(&mut events);
    // The good device never took the foreign values.
    let forged: Vec<&serde_json::Value> = events
        .seen()
        .iter()
        .filter(|ev| {
            is_state(ev, f.good_device, None)
                && (ev["components"]["Number"].as_f64() == Some(-666.0)
                    || ev["components"].get("Switch").is_some())
        })
        .collect();
    assert!(
        forged.is_empty(),
        "foreign writes reached the good device: {forged:?}"
    );
    let good = f.core.api().device(f.good_device);
    assert_eq!(
        good.entities.keys().collect::<Vec<_>>(),
        vec!["Counter"],
        "the good device has only its own entity: {good:?}"
    );
    assert!(
        !good.entity("Counter").components.contains_key("Switch"),
        "the foreign Switch reached the good device: {good:?}"
    );
    // The entity the foreign provider never registered did not appear.
    let own = f.core.api().device(foreign_device);
    assert_eq!(
        own.entities.keys().collect::<Vec<_>>(),
        vec!["Value"],
        "the foreign device has only its registered entity: {own:?}"
    );
    // A refused write is an error reply, not a crash: the foreign provider keeps running.
    let p = f.core.api().provider("foreign");
    assert_eq!((p.state.as_str(), p.restarts), ("running", 0), "{p:?}");
}

#[test]
fn unknown_protocol_major_is_refused_with_both_versions() {
    let f = start_with(ProviderSpec::test("old_major", "old_major").arg("--mode=old_major"));
    let mut events = f.core.events();
    let line = f.core.wait_log(
        TIMEOUT,
        &["provider=old_major", "protocol major 99", "major 1"],
    );
    assert!(
        line.contains("ERROR") || line.contains("error"),
        "the refusal is logged as an error: {line}"
    );
    // The provider was told why (it logs the Error reply it received).
    f.core.wait_log(
        TIMEOUT,
        &[
            "provider=old_major",
            "core refused the Hello: error code 1",
            "99",
        ],
    );
    let p = f.wait_restarted("old_major", "99");
    assert_ne!(
        p.state, "running",
        "a refused provider never counts as running: {p:?}"
    );
    f.assert_good_unaffected(&mut events);
}

#[test]
fn hung_provider_is_restarted() {
    let settings = CoreSettings {
        heartbeat_interval_ms: 100,
        heartbeat_timeout_ms: 800,
        ..CoreSettings::default()
    };
    let f = start_with_settings(settings, ProviderSpec::test("hang", "hang"));
    let mut events = f.core.events();
    let first_pid = wait_for(TIMEOUT, "the hanging provider's pid", || {
        f.core
            .api()
            .provider("hang")
            .pid
            .ok_or_else(|| "no pid yet".to_string())
    });
    f.core
        .wait_log(TIMEOUT, &["provider=hang", "heartbeat timeout"]);
    let p = f.wait_restarted("hang", "heartbeat timeout");
    let api = f.core.api().clone();
    wait_for(
        TIMEOUT,
        "the hanging provider to run again under a new pid",
        || {
            let p = api.try_provider("hang")?;
            match p.pid {
                Some(pid) if pid != first_pid => Ok(()),
                _ => Err(format!("{p:?}")),
            }
        },
    );
    // The old process was killed, not left behind.
    let stat = std::fs::read_to_string(format!("/proc/{first_pid}/stat")).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z "),
        "the hung provider (pid {first_pid}) must be killed; it still runs: {stat}; status {p:?}"
    );
    f.assert_good_unaffected(&mut events);
    // The good provider answered every ping meanwhile.
    assert!(
        f.core
            .log()
            .find_line(&["provider=good", "heartbeat timeout"])
            .is_none(),
        "the good provider was considered hung"
    );
}
