//! Routing benchmark against real processes (issue: walking skeleton; DESIGN §11).
//!
//! `cargo bench -p igloo --bench routing` prints, each as medians over rounds:
//! - **throughput**: writes/s from a provider through the core to an event-stream
//!   (SSE) client, with the SDK's batched flushing, and the same frames pushed
//!   through a bare Unix socket into a decoder in this process as the baseline;
//! - **latency**: provider → core → SSE client, p50/p99, one write per millisecond;
//! - **RSS** of the core idle and with 1 000 devices × 5 entities × 4 components.
//!
//! The binary plays both sides: run with `IGLOO_BENCH_ROLE=provider` (set in the
//! config it writes) it is the provider.

use std::io::{BufRead, BufReader};
mod common;

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use igloo_provider::protocol::Component;
use igloo_provider::{Event, Provider};

use common::{Core, free_port, median};

const THROUGHPUT_WRITES: u64 = 200_000;
const LATENCY_SAMPLES: u64 = 3_000;
const ROUNDS: usize = 5;

fn monotonic_ns() -> u64 {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).expect("CLOCK_MONOTONIC");
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

// ---------------------------------------------------------------- provider role

async fn provider_main() -> Result<(), Box<dyn std::error::Error>> {
    let (p, mut events) = Provider::connect("bench", "0").await?;
    let mode = std::env::var("IGLOO_BENCH_MODE").unwrap_or_default();
    // Wait for the driver's go (a Custom command) so the SSE client is subscribed.
    let dev = p.create_device("bench-0", "bench", vec![]).await?;
    let ent = p.register_entity(dev, "Value", vec![]).await?;
    if mode == "rss" {
        {
            // One block keeps the loop's borrows short.
            for d in 0..1000 {
                let id = p
                    .create_device(
                        &format!("dev-{d}"),
                        &format!("Device {d}"),
                        vec![("model".into(), "bench".into())],
                    )
                    .await?;
                for e in 0..5 {
                    let en = p
                        .register_entity(id, &format!("Entity {e}"), vec![])
                        .await?;
                    p.write(
                        id,
                        en,
                        vec![
                            Component::Switch(true),
                            Component::Temperature(21.5),
                            Component::Humidity(40.0),
                            Component::Battery(99.0),
                        ],
                    )
                    .await?;
                }
            }
            p.write(dev, ent, vec![Component::Text("rss-ready".into())])
                .await?;
        }
    }
    while let Some(ev) = events.next().await {
        if let Event::Change { values, .. } = ev {
            match values.first() {
                Some(Component::Text(cmd)) if cmd == "throughput" => {
                    for i in 0..THROUGHPUT_WRITES {
                        p.write(dev, ent, vec![Component::Number(i as f64)]).await?;
                    }
                    p.write(dev, ent, vec![Component::Text("done".into())])
                        .await?;
                }
                Some(Component::Text(cmd)) if cmd == "latency" => {
                    for _ in 0..LATENCY_SAMPLES {
                        p.write(dev, ent, vec![Component::Number(monotonic_ns() as f64)])
                            .await?;
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    p.write(dev, ent, vec![Component::Text("done".into())])
                        .await?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- driver role

fn start_core(mode: &str) -> Core {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let me = std::env::current_exe().expect("current_exe");
    let config = format!(
        "[core]\ndata_dir = \"{}\"\napi_listen = \"127.0.0.1:{port}\"\nlog = \"warn\"\n\n# Routing is measured, not authentication (benches/auth.rs).\n[auth]\nenabled = false\n\n[[provider]]\nname = \"bench\"\nexec = \"{}\"\nenv = {{ IGLOO_BENCH_ROLE = \"provider\", IGLOO_BENCH_MODE = \"{mode}\" }}\n",
        dir.path().join("data").display(),
        me.display()
    );
    let path = dir.path().join("igloo.toml");
    std::fs::write(&path, config).expect("write config");
    let child = Command::new(env!("CARGO_BIN_EXE_igloo"))
        .args(["run", "--config"])
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start igloo");
    let core = Core {
        child,
        api: format!("http://127.0.0.1:{port}"),
        dir,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(mut r) = ureq::get(&format!("{}/api/v1/devices/1", core.api)).call()
            && r.body_mut()
                .read_to_string()
                .is_ok_and(|b| b.contains("Value"))
        {
            return core;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("core did not come up with the bench provider");
}

/// Streams `data:` JSON of state events on entity Value into a channel.
fn subscribe(api: &str) -> mpsc::Receiver<(Instant, u64, serde_json::Value)> {
    let (tx, rx) = mpsc::channel();
    let resp = ureq::get(&format!("{api}/api/v1/events"))
        .call()
        .expect("SSE");
    std::thread::spawn(move || {
        let reader = BufReader::new(resp.into_body().into_reader());
        for line in reader.lines() {
            let Ok(line) = line else { return };
            let Some(data) = line.strip_prefix("data:") else {
                continue;
            };
            let now = monotonic_ns();
            let Ok(v) = serde_json::from_str::<serde_json::Value>(data.trim()) else {
                continue;
            };
            if tx.send((Instant::now(), now, v)).is_err() {
                return;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(200));
    rx
}

fn command(api: &str, cmd: &str) {
    ureq::post(&format!("{api}/api/v1/devices/1/entities/Value"))
        .send_json(serde_json::json!({"Text": cmd}))
        .expect("command");
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn is_done(v: &serde_json::Value) -> bool {
    v["type"] == "state" && v["components"]["Text"] == "done"
}

/// Throughput through the core: (routed writes/s — delivered plus those the
/// bus dropped for the lagging SSE client —, delivered writes/s, dropped).
fn throughput_round(core: &Core) -> (f64, f64, u64) {
    let rx = subscribe(&core.api);
    command(&core.api, "throughput");
    let mut first = None;
    let mut n = 0u64;
    let mut missed = 0u64;
    loop {
        let (at, _, v) = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("events keep coming");
        if v["type"] == "lagged" {
            missed += v["missed"].as_u64().unwrap_or(0);
        }
        if v["type"] == "state" && v["components"].get("Number").is_some() {
            first.get_or_insert(at);
            n += 1;
        }
        if is_done(&v) {
            let secs = first.map_or(f64::NAN, |f| at.duration_since(f).as_secs_f64());
            return ((n + missed) as f64 / secs, n as f64 / secs, missed);
        }
    }
}

/// The same frames through a bare socketpair into a decoder: the baseline.
fn baseline_round() -> f64 {
    use igloo_provider::protocol::message::WriteComponents;
    use igloo_provider::protocol::{DEFAULT_MAX_FRAME, DeviceId, Message, try_decode_frame};
    use std::io::{Read, Write};
    let (mut a, mut b) = std::os::unix::net::UnixStream::pair().expect("pair");
    let writer = std::thread::spawn(move || {
        let mut buf = bytes::BytesMut::new();
        for i in 0..THROUGHPUT_WRITES {
            let m = Message::WriteComponents(WriteComponents {
                device: DeviceId(1),
                entity: 0,
                values: vec![Component::Number(i as f64)],
            });
            igloo_provider::protocol::encode_frame(&m, &mut buf, DEFAULT_MAX_FRAME)
                .expect("encode");
            if i % 256 == 255 {
                a.write_all(&buf).expect("write");
                buf.clear();
            }
        }
        a.write_all(&buf).expect("write");
    });
    let start = Instant::now();
    let mut buf = bytes::BytesMut::with_capacity(1 << 16);
    let mut chunk = [0u8; 65536];
    let mut n = 0;
    while n < THROUGHPUT_WRITES {
        let r = b.read(&mut chunk).expect("read");
        buf.extend_from_slice(&chunk[..r]);
        while let Ok(Some(_)) = try_decode_frame(&mut buf, DEFAULT_MAX_FRAME) {
            n += 1;
        }
    }
    writer.join().expect("writer");
    THROUGHPUT_WRITES as f64 / start.elapsed().as_secs_f64()
}

fn latency_round(core: &Core) -> Vec<f64> {
    let rx = subscribe(&core.api);
    command(&core.api, "latency");
    let mut lat = Vec::new();
    loop {
        let (_, now, v) = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("events keep coming");
        if let Some(t) = v["components"]["Number"].as_f64() {
            lat.push((now as f64 - t) / 1000.0);
        }
        if is_done(&v) {
            return lat;
        }
    }
}

fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    if std::env::var("IGLOO_BENCH_ROLE").as_deref() == Ok("provider") {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        if let Err(e) = rt.block_on(provider_main()) {
            eprintln!("bench provider: {e}");
            std::process::exit(1);
        }
        return;
    }
    // `cargo test --benches` runs bench targets with --bench absent: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }

    let core = start_core("routing");
    let (mut routed, mut delivered, mut base_rates, mut lost) =
        (Vec::new(), Vec::new(), Vec::new(), 0);
    for _ in 0..ROUNDS {
        base_rates.push(baseline_round());
        let (r, d, m) = throughput_round(&core);
        routed.push(r);
        delivered.push(d);
        lost += m;
    }
    let (r, d, b) = (
        median(&mut routed),
        median(&mut delivered),
        median(&mut base_rates),
    );
    println!(
        "routing throughput (provider → core → event bus, batched): median {r:.0} writes/s over {ROUNDS} rounds of {THROUGHPUT_WRITES}"
    );
    println!(
        "  delivered to one SSE client: median {d:.0} writes/s ({lost} writes dropped for it as lagging, all rounds)"
    );
    println!(
        "  baseline (same frames, bare socketpair → decoder, this process): median {b:.0} writes/s; ratio routed/baseline {:.3}",
        r / b
    );

    let mut lat = Vec::new();
    for _ in 0..2 {
        lat.extend(latency_round(&core));
    }
    let (p50, p99) = (percentile(&mut lat, 0.5), percentile(&mut lat, 0.99));
    println!(
        "routing latency (provider → core → SSE client, 1 write/ms, n={}): p50 {p50:.1} µs, p99 {p99:.1} µs",
        lat.len()
    );
    drop(core);

    let core = start_core("rss");
    let idle = rss_kib(core.child.id());
    let rx = subscribe(&core.api);
    // The rss-mode provider created its devices before we subscribed; poll the API instead.
    drop(rx);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut r = ureq::get(&format!("{}/api/v1/health", core.api))
            .call()
            .expect("health");
        let h: serde_json::Value = r.body_mut().read_json().expect("health json");
        if h["devices"].as_u64().unwrap_or(0) >= 1001 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "provider did not create 1000 devices"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500)); // let the once-a-second persist run
    let loaded = rss_kib(core.child.id());
    println!(
        "core RSS: {idle} KiB at start (1 device), {loaded} KiB with 1 001 devices × 5 entities × 4 components; ratio {:.2}",
        loaded as f64 / idle.max(1) as f64
    );
}
