//! ESPHome state latency and reconnect time, end to end through the core.
//!
//! `cargo build --release --bins && cargo bench -p igloo-esphome --bench latency`
//! (`IGLOO_BENCH_QUICK=1` for a short run). Needs `igloo` and `igloo-esphome`
//! built next to the bench (`target/release/`).
//!
//! In this process: [`DEVICES`] fake ESPHome devices (plaintext native API
//! servers on 127.0.0.1, written with this crate's own framing and messages),
//! each with one temperature sensor that streams a state every
//! [`INTERVAL`]. The real `igloo` core runs the real `igloo-esphome`
//! provider connected to all of them; an SSE client reads
//! `GET /api/v1/events`. Each state carries a unique sequence number as its
//! value; latency = SSE event read − the instant the device wrote the frame
//! to its socket (one clock: both ends are in this process).
//!
//! Baseline in the same run: the same devices streaming to an in-process
//! client that only reads and decodes the frames (loopback TCP + framing,
//! no provider, no core). Reported: p50/p99 of both and the ratio of the
//! medians; then the reconnect time after a device reboot (graceful
//! DisconnectRequest, listener down [`DOWN`], back up → availability true on
//! the event stream), median over the reboots.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use igloo_esphome::api::frame::{ApiCodec, Framing};
use igloo_esphome::api::proto::{self, Incoming, Outgoing};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::codec::Framed;

/// Devices streaming at once.
const DEVICES: usize = 50;
/// Each device sends a state this often.
const INTERVAL: Duration = Duration::from_millis(20);
/// Measured time per phase (and with IGLOO_BENCH_QUICK).
const MEASURE: Duration = Duration::from_secs(10);
const QUICK_MEASURE: Duration = Duration::from_secs(3);
/// Reboots measured.
const REBOOTS: usize = 10;
const QUICK_REBOOTS: usize = 3;
/// How long a rebooting device stays off the network.
const DOWN: Duration = Duration::from_millis(500);
const SENSOR_KEY: u32 = 7;

type Sent = Arc<Mutex<HashMap<u32, Instant>>>;

/// What the fake devices share: send instants by sequence number and the
/// global sequence.
struct Shared {
    sent: Sent,
    seq: AtomicU32,
    streaming: AtomicBool,
}

/// One fake device; `reboot` takes it down for [`DOWN`].
async fn device(
    n: usize,
    shared: Arc<Shared>,
    listener: TcpListener,
    mut reboot: watch::Receiver<u32>,
) {
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let mut listener = Some(listener);
    loop {
        let l = match listener.take() {
            Some(l) => l,
            None => match TcpListener::bind(("127.0.0.1", port)).await {
                Ok(l) => l,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let (tcp, _) = tokio::select! {
            a = l.accept() => match a { Ok(v) => v, Err(_) => continue },
            _ = reboot.changed() => { drop(l); tokio::time::sleep(DOWN).await; continue; }
        };
        let _ = tcp.set_nodelay(true);
        let mut conn = Framed::new(tcp, ApiCodec::new(Framing::Plaintext));
        let mut tick = tokio::time::interval(INTERVAL);
        let mut subscribed = false;
        let rebooted = loop {
            tokio::select! {
                f = conn.next() => {
                    let Some(Ok(f)) = f else { break false };
                    let out = match proto::decode(f.msg_type, &f.payload) {
                        Ok(_) if f.msg_type == 1 => Some(Outgoing::encode(&proto::HelloResponse {
                            api_version_major: 1, api_version_minor: 14,
                            server_info: "bench".into(), name: format!("bench{n}"),
                        })),
                        Ok(_) if f.msg_type == 9 => Some(Outgoing::encode(&proto::DeviceInfoResponse {
                            name: format!("bench{n}"),
                            mac_address: format!("02:00:00:00:{:02X}:{:02X}", n / 256, n % 256),
                            esphome_version: "2026.11.0".into(),
                            ..Default::default()
                        })),
                        Ok(_) if f.msg_type == 11 => {
                            let _ = conn.feed(Outgoing::encode(&proto::ListEntitiesSensorResponse {
                                object_id: "value".into(), key: SENSOR_KEY, name: "Value".into(),
                                unit_of_measurement: "°C".into(), device_class: "temperature".into(),
                                ..Default::default()
                            })).await;
                            Some(Outgoing::encode(&proto::ListEntitiesDoneResponse::default()))
                        }
                        Ok(_) if f.msg_type == 20 => { subscribed = true; None }
                        Ok(Incoming::PingRequest) => Some(Outgoing::encode(&proto::PingResponse::default())),
                        Ok(Incoming::DisconnectRequest(_)) => {
                            let _ = conn.send(Outgoing::encode(&proto::DisconnectResponse::default())).await;
                            break false;
                        }
                        _ => None,
                    };
                    if let Some(o) = out && conn.send(o).await.is_err() { break false; }
                }
                // (The flag is read inside: a select! precondition is only
                // evaluated when the select starts.)
                _ = tick.tick(), if subscribed => {
                    if !shared.streaming.load(Ordering::Relaxed) {
                        continue;
                    }
                    let seq = shared.seq.fetch_add(1, Ordering::Relaxed);
                    let frame = Outgoing::encode(&proto::SensorStateResponse {
                        key: SENSOR_KEY, state: seq as f32, ..Default::default()
                    });
                    if conn.feed(frame).await.is_err() { break false; }
                    // The instant the bytes are handed to the socket.
                    if conn.flush().await.is_err() { break false; }
                    if let Ok(mut s) = shared.sent.lock() { s.insert(seq, Instant::now()); }
                }
                _ = reboot.changed() => {
                    let _ = conn.send(Outgoing::encode(&proto::DisconnectRequest::default())).await;
                    break true;
                }
            }
        };
        drop(conn);
        if rebooted {
            drop(l);
            tokio::time::sleep(DOWN).await;
        } else {
            listener = Some(l);
        }
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
    let mut dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

struct Core {
    child: Child,
    api: String,
    _dir: tempfile::TempDir,
}

impl Drop for Core {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_core(ports: &[u16]) -> Core {
    let bins = bin_dir();
    for b in ["igloo", "igloo-esphome"] {
        if !bins.join(b).is_file() {
            panic!(
                "{} missing: run `cargo build --release --bins` first",
                bins.join(b).display()
            );
        }
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let api_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("free port: {e}"));
    let devices: Vec<String> = ports
        .iter()
        .map(|p| format!("{{ host = \"127.0.0.1\", port = {p} }}"))
        .collect();
    let config = format!(
        "[core]\ndata_dir = \"{data}\"\napi_listen = \"127.0.0.1:{api_port}\"\nlog = \"warn\"\n\n[auth]\nenabled = false\n\n\
         [[provider]]\nname = \"esphome\"\nexec = \"{exe}\"\nnetwork = \"any\"\n\
         [provider.config]\ndiscovery = false\nreconnect_max_secs = 5\ndevice = [{list}]\n",
        data = dir.path().join("data").display(),
        exe = bins.join("igloo-esphome").display(),
        list = devices.join(", ")
    );
    let path = dir.path().join("igloo.toml");
    std::fs::write(&path, config).unwrap_or_else(|e| panic!("write config: {e}"));
    let child = Command::new(bins.join("igloo"))
        .args(["run", "--config"])
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start igloo: {e}"));
    Core {
        child,
        api: format!("http://127.0.0.1:{api_port}"),
        _dir: dir,
    }
}

/// SSE `data:` objects with the instant each was read.
fn subscribe(api: &str) -> mpsc::Receiver<(Instant, serde_json::Value)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let resp = loop {
        match ureq::get(&format!("{api}/api/v1/events")).call() {
            Ok(r) => break r,
            Err(e) if Instant::now() > deadline => panic!("event stream: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let reader = BufReader::new(resp.into_body().into_reader());
        for line in reader.lines() {
            let Ok(line) = line else { return };
            let Some(data) = line.strip_prefix("data:") else {
                continue;
            };
            let at = Instant::now();
            if let Ok(v) = serde_json::from_str(data.trim())
                && tx.send((at, v)).is_err()
            {
                return;
            }
        }
    });
    rx
}

/// Baseline: a client per device that only reads and decodes frames.
async fn baseline(ports: &[u16], shared: &Arc<Shared>, measure: Duration) -> Vec<f64> {
    let lat = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for &p in ports {
        let shared = shared.clone();
        let lat = lat.clone();
        tasks.push(tokio::spawn(async move {
            let Ok(tcp) = tokio::net::TcpStream::connect(("127.0.0.1", p)).await else {
                return;
            };
            let _ = tcp.set_nodelay(true);
            let mut conn = Framed::new(tcp, ApiCodec::new(Framing::Plaintext));
            for m in [
                Outgoing::encode(&proto::HelloRequest {
                    client_info: "baseline".into(),
                    api_version_major: 1,
                    api_version_minor: 14,
                    ..Default::default()
                }),
                Outgoing::encode(&proto::DeviceInfoRequest::default()),
                Outgoing::encode(&proto::ListEntitiesRequest::default()),
                Outgoing::encode(&proto::SubscribeStatesRequest::default()),
            ] {
                if conn.send(m).await.is_err() {
                    return;
                }
            }
            while let Some(Ok(f)) = conn.next().await {
                let at = Instant::now();
                if let Ok(Incoming::SensorState(s)) = proto::decode(f.msg_type, &f.payload) {
                    let seq = s.state as u32;
                    let sent = shared.sent.lock().ok().and_then(|m| m.get(&seq).copied());
                    if let (Some(t0), Ok(mut l)) = (sent, lat.lock()) {
                        l.push(at.saturating_duration_since(t0).as_secs_f64() * 1e6);
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    if let Ok(mut l) = lat.lock() {
        l.clear();
    }
    shared.streaming.store(true, Ordering::Relaxed);
    tokio::time::sleep(measure).await;
    shared.streaming.store(false, Ordering::Relaxed);
    for t in tasks {
        t.abort();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    lat.lock().map(|l| l.clone()).unwrap_or_default()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let quick =
        std::env::var_os("IGLOO_BENCH_QUICK").is_some() || std::env::args().any(|a| a == "--quick");
    let measure = if quick { QUICK_MEASURE } else { MEASURE };
    let reboots = if quick { QUICK_REBOOTS } else { REBOOTS };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let shared = Arc::new(Shared {
        sent: Arc::new(Mutex::new(HashMap::new())),
        seq: AtomicU32::new(0),
        streaming: AtomicBool::new(false),
    });
    let mut ports = Vec::new();
    let mut reboot_tx = Vec::new();
    rt.block_on(async {
        for n in 0..DEVICES {
            let l = TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap_or_else(|e| panic!("bind: {e}"));
            ports.push(l.local_addr().map(|a| a.port()).unwrap_or(0));
            let (tx, rx) = watch::channel(0u32);
            reboot_tx.push(tx);
            tokio::spawn(device(n, shared.clone(), l, rx));
        }
    });

    // Baseline first (devices accept one client at a time; the core comes after).
    let mut base = rt.block_on(baseline(&ports, &shared, measure));

    let core = start_core(&ports);
    let events = subscribe(&core.api);
    // Wait until every device is connected and available.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut device_of_port: HashMap<u64, usize> = HashMap::new();
    while device_of_port.len() < DEVICES {
        assert!(
            Instant::now() < deadline,
            "only {} of {DEVICES} devices came up",
            device_of_port.len()
        );
        if let Ok(mut r) = ureq::get(&format!("{}/api/v1/devices", core.api)).call()
            && let Ok(list) = r.body_mut().read_json::<Vec<serde_json::Value>>()
        {
            device_of_port = list
                .iter()
                .filter(|d| d["available"] == true)
                .filter_map(|d| {
                    let mac = d["key"].as_str()?;
                    let n = u64::from_str_radix(&mac.replace(':', "")[8..], 16).ok()?;
                    Some((d["id"].as_u64()?, n as usize))
                })
                .collect();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    while events.try_recv().is_ok() {}
    shared.sent.lock().map(|mut s| s.clear()).unwrap_or(());
    shared.streaming.store(true, Ordering::Relaxed);
    let end = Instant::now() + measure;
    let mut full = Vec::new();
    while Instant::now() < end {
        let Ok((at, v)) = events.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        if v["type"] != "state" {
            continue;
        }
        let Some(val) = v["components"]["Temperature"].as_f64() else {
            continue;
        };
        let sent = shared
            .sent
            .lock()
            .ok()
            .and_then(|m| m.get(&(val as u32)).copied());
        if let Some(t0) = sent {
            full.push(at.saturating_duration_since(t0).as_secs_f64() * 1e6);
        }
    }
    shared.streaming.store(false, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(300));
    while events.try_recv().is_ok() {}

    // Reboots of device 0.
    let id0 = device_of_port
        .iter()
        .find(|(_, n)| **n == 0)
        .map(|(id, _)| *id)
        .unwrap_or_else(|| panic!("device 0 not found"));
    let mut reconnect_ms = Vec::new();
    let mut total_ms = Vec::new();
    for k in 0..reboots {
        let t0 = Instant::now();
        let _ = reboot_tx[0].send(k as u32 + 1);
        let up_at = t0 + DOWN;
        let deadline = t0 + Duration::from_secs(30);
        let mut went_down = false;
        loop {
            let Ok((at, v)) =
                events.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            else {
                panic!("device 0 did not come back within 30 s");
            };
            if v["type"] == "availability" && v["device"].as_u64() == Some(id0) {
                if v["available"] == false {
                    went_down = true;
                } else if went_down {
                    reconnect_ms.push(at.saturating_duration_since(up_at).as_secs_f64() * 1e3);
                    total_ms.push(at.saturating_duration_since(t0).as_secs_f64() * 1e3);
                    break;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(core);

    let (b50, b99) = (pct(&mut base, 0.5), pct(&mut base, 0.99));
    let (f50, f99) = (pct(&mut full, 0.5), pct(&mut full, 0.99));
    println!(
        "ESPHome state latency, {DEVICES} devices × one state per {} ms, {} s each:",
        INTERVAL.as_millis(),
        measure.as_secs()
    );
    println!(
        "  baseline (device socket → in-process client, decode only): p50 {b50:.0} µs, p99 {b99:.0} µs over {} states",
        base.len()
    );
    println!(
        "  full path (device socket → igloo-esphome → core → SSE client): p50 {f50:.0} µs, p99 {f99:.0} µs over {} states",
        full.len()
    );
    println!("  ratio of medians full/baseline: {:.1}×", f50 / b50);
    println!(
        "reconnect after a device reboot (down {} ms, {} reboots): median {:.0} ms from the device listening again to availability true (max {:.0} ms); median {:.0} ms from the reboot",
        DOWN.as_millis(),
        reconnect_ms.len(),
        pct(&mut reconnect_ms.clone(), 0.5),
        pct(&mut reconnect_ms, 1.0),
        pct(&mut total_ms, 0.5)
    );
}
