//! The Zigbee provider against the emulated Z-Stack stick, through the real
//! core and its confinement (figures only; needs root, like the e2e test).
//!
//! `scripts/build-python-wheel --arch host && cargo build -p igloo --bins &&
//! cargo bench -p igloo-tests --bench zigbee` prints medians of:
//! the provider's RSS idle with a formed network and with `DEVICES`
//! emulated sensors joined; the time from a device's join (the stick's
//! trust-centre indication and announcement) to its entities with values in
//! the API's event stream (interview, entity registration, binding,
//! reporting configuration, first reads); and report-to-API latency (an
//! attribute report leaving the emulated stick until its `state` event
//! arrives at an SSE client). The stick is a pty (no baud-rate limit) and
//! the devices answer at once: radio airtime is not part of these figures.

use std::time::{Duration, Instant};

use igloo_tests::harness::events::{EventStream, is_state};
use igloo_tests::harness::privileged::require_root;
use igloo_tests::harness::zigbee::ZigbeeGateway;
use igloo_tests::{TIMEOUT, wait_for};
use serde_json::{Value, json};

const DEVICES: usize = 50;
const REPORTS: usize = 50;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

/// `VmRSS` of `pid` in MiB.
fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// The median of 5 RSS samples, 200 ms apart.
fn rss_median(pid: u32) -> f64 {
    let mut samples: Vec<f64> = (0..5)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(200));
            rss_mib(pid)
        })
        .collect();
    median(&mut samples)
}

fn main() {
    if !require_root("zigbee bench") {
        return;
    }
    let (mut gw, _) = ZigbeeGateway::start(&[]);
    let pid = gw.core.wait_provider_running("zigbee", TIMEOUT);
    std::thread::sleep(Duration::from_secs(1));
    let idle = rss_median(pid);

    let api = gw.api.clone();
    let mut events = EventStream::connect_with(api.base(), api.token());
    let clones = gw
        .stick
        .op(json!({"op": "clone", "device": "climate", "count": DEVICES}));
    let names: Vec<String> = serde_json::from_value(clones["devices"].clone()).expect("names");
    let ieees: Vec<String> = serde_json::from_value(clones["ieee"].clone()).expect("ieee");
    gw.join(&[]);

    // Join to entities with values, one device after the other.
    let mut join_ms = Vec::new();
    let mut ids = Vec::new();
    for (name, ieee) in names.iter().zip(&ieees) {
        let started = Instant::now();
        gw.stick.op(json!({"op": "join", "device": name}));
        let created = events.wait_event(TIMEOUT, "the device", |e| {
            e["type"] == "device" && e["device"]["key"] == ieee.as_str()
        });
        let id = created["device"]["id"].as_u64().expect("device id");
        events.wait_event(TIMEOUT, "its temperature", |e| {
            is_state(e, id, Some("Temperature")) && e["components"]["Temperature"].is_number()
        });
        join_ms.push(started.elapsed().as_secs_f64() * 1e3);
        ids.push(id);
    }
    // Every device's last entity in place before the RSS.
    wait_for(TIMEOUT, "every device's battery", || {
        let all = api.try_devices()?;
        let done = all
            .iter()
            .filter(|d| d.number("Battery", "Battery").is_some())
            .count();
        (done >= DEVICES).then_some(()).ok_or(format!("{done}"))
    });
    std::thread::sleep(Duration::from_secs(1));
    let joined = rss_median(pid);

    // Report to API: an attribute report from the stick to the SSE client.
    let first = &names[0];
    let mut report_ms = Vec::new();
    for k in 0..REPORTS {
        let raw = 1000 + k as i64;
        let want: Value = json!(raw as f64 / 100.0);
        let started = Instant::now();
        gw.report(first, 0x0402, 0, json!(raw));
        events.wait_event(TIMEOUT, "the report", |e| {
            is_state(e, ids[0], Some("Temperature")) && e["components"]["Temperature"] == want
        });
        report_ms.push(started.elapsed().as_secs_f64() * 1e3);
    }

    println!("zigbee provider RSS, idle with a formed network: {idle:.1} MiB");
    println!("zigbee provider RSS, {DEVICES} devices joined: {joined:.1} MiB");
    println!(
        "join to entities with values (interview, set-up, reads), {DEVICES} devices one by one: median {:.0} ms, p90 {:.0} ms",
        median(&mut join_ms.clone()),
        percentile(&mut join_ms, 0.9)
    );
    println!(
        "report to API (stick → provider → core → SSE client), {REPORTS} reports: median {:.2} ms, p90 {:.2} ms",
        median(&mut report_ms.clone()),
        percentile(&mut report_ms, 0.9)
    );
}
