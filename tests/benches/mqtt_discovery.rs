//! Home Assistant discovery at scale through the real core and provider
//! (figures only, no assertions):
//!
//! `cargo build --profile bench -p igloo -p igloo-mqtt && cargo bench -p igloo-tests --bench mqtt_discovery`
//!
//! 1. `DEVICES` × `PER_DEVICE` retained sensor configs (Zigbee2MQTT-shaped:
//!    JSON state with `value_json` templates) wait on a Mosquitto; the core
//!    starts; time from its API answering until every entity is listed,
//!    and the provider's RSS then (and idle, with nothing announced).
//! 2. `MESSAGES` state messages on one device's topic (each rendering
//!    `PER_DEVICE` templates), published at once with `mosquitto_pub -l`;
//!    time until the last value is in the tree: the end-to-end cost per
//!    message (broker, provider with its templates, core).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use igloo_tests::{Core, Mosquitto, ProviderSpec, providers_toml, wait_for};
use serde_json::json;

const DEVICES: usize = 100;
const PER_DEVICE: usize = 5;
const MESSAGES: usize = 2_000;
const QUANTITIES: [(&str, &str, &str); PER_DEVICE] = [
    ("temperature", "temperature", "°C"),
    ("humidity", "humidity", "%"),
    ("pressure", "pressure", "hPa"),
    ("battery", "battery", "%"),
    ("voltage", "voltage", "mV"),
];

fn config(dev: usize, key: &str, class: &str, unit: &str) -> String {
    json!({
        "availability": [{"topic": "bench/bridge/state", "value_template": "{{ value_json.state }}"}],
        "device": {"identifiers": [format!("bench_{dev:04}")], "name": format!("sensor {dev}"), "manufacturer": "Bench"},
        "device_class": class,
        "unit_of_measurement": unit,
        "state_class": "measurement",
        "name": null,
        "state_topic": format!("bench/sensor_{dev}"),
        "unique_id": format!("bench_{dev:04}_{key}"),
        "value_template": format!("{{{{ value_json.{key} }}}}"),
    })
    .to_string()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn entities(core: &Core) -> usize {
    core.api()
        .try_devices()
        .map(|ds| {
            ds.iter()
                .filter(|d| d.key.starts_with("ha:bench_"))
                .map(|d| d.entities.len())
                .sum()
        })
        .unwrap_or(0)
}

/// The provider's RSS with an empty broker (discovery on, nothing announced).
fn baseline_rss() -> u64 {
    let broker = Mosquitto::start();
    let spec = ProviderSpec::mqtt("mqtt", &broker).config("base_topic", "bench-native");
    let mut core = Core::start(&providers_toml(&[spec]));
    let pid = core.wait_provider_running("mqtt", Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(1000));
    rss_kib(pid)
}

fn main() {
    let idle = baseline_rss();
    let broker = Mosquitto::start();
    let t = Instant::now();
    for dev in 0..DEVICES {
        for (key, class, unit) in QUANTITIES {
            broker.publish_str(
                &format!("homeassistant/sensor/bench_{dev:04}/{key}/config"),
                &config(dev, key, class, unit),
                true,
            );
        }
    }
    broker.publish_str("bench/bridge/state", r#"{"state":"online"}"#, true);
    eprintln!(
        "published {} retained configs in {:?}",
        DEVICES * PER_DEVICE,
        t.elapsed()
    );

    let started = Instant::now();
    let spec = ProviderSpec::mqtt("mqtt", &broker).config("base_topic", "bench-native");
    let core = Core::start(&providers_toml(&[spec]));
    let want = DEVICES * PER_DEVICE;
    wait_for(Duration::from_secs(120), format!("{want} entities"), || {
        let n = entities(&core);
        if n >= want {
            Ok(())
        } else {
            Err(format!("{n} listed"))
        }
    });
    let discovered = started.elapsed();
    let pid = core.api().provider("mqtt").pid.unwrap_or(0);
    std::thread::sleep(Duration::from_millis(500));
    let rss_after_discovery = rss_kib(pid);

    // State messages: `mosquitto_pub -l` publishes each stdin line as one message.
    let lines: String = (1..=MESSAGES)
        .map(|i| {
            format!(
                "{{\"battery\":97,\"humidity\":55.2,\"linkquality\":120,\"pressure\":1012.3,\"temperature\":{i},\"voltage\":3005}}\n"
            )
        })
        .collect();
    let api = core.api().clone();
    let t = Instant::now();
    let mut child = Command::new("mosquitto_pub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &broker.port().to_string(),
            "-q",
            "1",
            "-t",
            "bench/sensor_0",
            "-l",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("mosquitto_pub: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(lines.as_bytes())
            .unwrap_or_else(|e| panic!("mosquitto_pub stdin: {e}"));
    }
    let _ = child.wait();
    wait_for(Duration::from_secs(120), "the last state message", || {
        let d = api.device_by_key("ha:bench_0000").ok_or("no device")?;
        d.has("Temperature", "Temperature", &json!(MESSAGES as f64))
    });
    let per_message = t.elapsed() / MESSAGES as u32;
    let rss_after_messages = rss_kib(pid);

    println!(
        "discovery of {want} entities ({DEVICES} devices): {discovered:?} from the core answering to all listed"
    );
    println!(
        "provider RSS: {idle} KiB idle with nothing announced, {rss_after_discovery} KiB after discovery, {rss_after_messages} KiB after {MESSAGES} messages"
    );
    println!(
        "{MESSAGES} state messages × {PER_DEVICE} templates: {:?} in all, {per_message:?} per message end to end",
        t.elapsed()
    );
}
