//! Discovery out at scale (figures only, no assertions):
//!
//! `cargo build --profile bench -p igloo -p igloo-mqtt -p igloo-tests --bins && cargo bench -p igloo-tests --bench mqtt_publish`
//!
//! `igloo-tree-probe` owns `DEVICES` lamps, each with a dimmable `Light` and a
//! `Temperature` sensor; `igloo-mqtt` publishes them to a real Mosquitto as
//! Home Assistant per-entity discovery. Measured: the time from the core's
//! API answering until the broker holds every config (the provider's
//! `mqtt.status` says all are published, then a subscriber receives them all),
//! the retained messages and bytes Home Assistant downloads when it
//! subscribes, the time to publish everything again on Home Assistant's
//! birth message, and the provider's RSS.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use igloo_tests::{Core, Mosquitto, ProviderSpec, bin, providers_toml, wait_for};
use serde_json::{Value, json};

const DEVICES: usize = 1_000;

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

/// Subscribes with `mosquitto_sub` at QoS 0 and returns (topic, payload
/// length) of the first `n` messages (fewer after 60 s of silence). With
/// `-R` in `extra`, retained messages are skipped and `homeassistant/status`
/// `online` is published once the subscription is live, so only the
/// republished configs count (`n` then is twice the configs: see below).
fn count(broker: &Mosquitto, filters: &[&str], n: usize, extra: &[&str]) -> Vec<(String, usize)> {
    let mut cmd = Command::new("mosquitto_sub");
    cmd.args([
        "-h",
        "127.0.0.1",
        "-p",
        &broker.port().to_string(),
        "-q",
        "0",
    ])
    .args(["-F", "%l %t", "-W", "60"])
    .args(extra)
    .stdout(Stdio::piped());
    let republish = extra.contains(&"-R");
    let n = if republish { n / 2 } else { n };
    cmd.args(["-C", &n.to_string()]);
    for f in filters {
        cmd.args(["-t", f]);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("mosquitto_sub: {e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    if republish {
        // Give the subscription a moment to be live before asking.
        std::thread::sleep(Duration::from_millis(300));
        broker.publish_str("homeassistant/status", "online", false);
    }
    let out: Vec<(String, usize)> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| {
            let (len, topic) = l.split_once(' ')?;
            Some((topic.to_string(), len.parse().ok()?))
        })
        .collect();
    let _ = child.wait();
    out
}

fn publish_status(core: &Core) -> Value {
    let (_, reply) = core.api().command("mqtt", "mqtt.status", &json!({}));
    let text = reply["body"]
        .as_str()
        .map_or_else(|| reply["body"].to_string(), str::to_string);
    serde_json::from_str::<Value>(&text).unwrap_or_default()["publish"].clone()
}

fn main() {
    let broker = Mosquitto::start();
    let mqtt = ProviderSpec::mqtt("mqtt", &broker)
        .config("discovery", false)
        .line("tree = \"control\"")
        .table("[provider.config.publish]\nenabled = true");
    let probe = ProviderSpec::new("probe", bin("igloo-tree-probe")).config("lamps", DEVICES as i64);
    let core = Core::start(&providers_toml(&[mqtt, probe]));
    let started = Instant::now();
    let want_configs = 2 * (DEVICES + 1);
    wait_for(Duration::from_secs(300), "every config published", || {
        let p = publish_status(&core);
        (p["configs"].as_u64() == Some(want_configs as u64))
            .then_some(())
            .ok_or_else(|| format!("{p}"))
    });
    let published = started.elapsed();
    // What Home Assistant downloads when it subscribes: every retained
    // message (QoS 0, as Home Assistant subscribes to discovery; a QoS 1
    // subscriber would meet Mosquitto's default queue of 1 000 messages).
    let want_messages = want_configs + 1 + want_configs + (DEVICES + 1) + 1;
    let t = Instant::now();
    let retained = count(&broker, &["homeassistant/#", "igloo/#"], want_messages, &[]);
    let download = t.elapsed();
    let bytes: usize = retained.iter().map(|(topic, len)| topic.len() + len).sum();
    let configs: Vec<&(String, usize)> = retained
        .iter()
        .filter(|(t, _)| t.ends_with("/config"))
        .collect();
    let config_bytes: usize = configs.iter().map(|(t, l)| t.len() + l).sum();
    let pid = core.api().provider("mqtt").pid.unwrap_or(0);
    let rss = rss_kib(pid);
    // Home Assistant's birth message: every config again, live.
    let t = Instant::now();
    let again = count(
        &broker,
        &["homeassistant/+/+/+/config"],
        2 * want_configs,
        &["-R"],
    );
    let republish = t.elapsed();
    println!("discovery out, {DEVICES} devices ({want_configs} configs with the gateway's):");
    println!("  core API up → every config published (mqtt.status): {published:.2?}");
    println!(
        "  retained on the broker: {} messages, {} KiB ({} configs, {} KiB, {} B each on average); a new subscriber has them all in {download:.2?}",
        retained.len(),
        bytes / 1024,
        configs.len(),
        config_bytes / 1024,
        config_bytes / configs.len().max(1)
    );
    println!(
        "  homeassistant/status online → {} configs again in {republish:.2?} (from the subscription, 0.3 s of it waiting for it to be live)",
        again.len()
    );
    println!("  igloo-mqtt RSS after publishing: {rss} KiB");
}
