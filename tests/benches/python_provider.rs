//! A Python provider (the `igloo` wheel, Debian's python3) against a Rust
//! one (the Rust SDK) in the same core, both confined (figures only).
//!
//! `scripts/build-python-wheel && cargo build --release -p igloo -p igloo-tests --bins &&
//! cargo bench -p igloo-tests --bench python_provider` prints, as medians of
//! `ROUNDS`: writes per second into the core (from the command until its
//! reply, which follows the writes on the connection), one write awaited
//! after the other and all at once; the providers' idle RSS (fresh, and after
//! the rounds); spawn-to-hello of each, over
//! restarts. Ratios are Python / Rust.

use std::time::{Duration, Instant};

use igloo_tests::harness::bins::bin;
use igloo_tests::harness::python::{Package, SYSTEM_PYTHON};
use igloo_tests::{Core, ProviderSpec, TIMEOUT, providers_toml, wait_for};
use serde_json::json;

const WRITES: u64 = 20_000;
const ROUNDS: usize = 5;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn script() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/bench_provider.py")
}

/// Writes per second of `provider` in one round: values `start`+1 ..=
/// `start`+WRITES, timed until the command's reply, which the provider
/// sends after the writes on the same connection: the core has read them
/// all by then. (Written all at once, their order is not kept, so the last
/// value in the tree says nothing; the count of values does.)
fn round(core: &Core, provider: &str, device: u64, start: f64, concurrent: bool) -> f64 {
    let api = core.api().with_timeout(Duration::from_secs(120));
    let started = Instant::now();
    let (status, body) = api.command(
        provider,
        "bench.write",
        &json!({"n": WRITES, "start": start, "concurrent": concurrent}),
    );
    let rate = WRITES as f64 / started.elapsed().as_secs_f64();
    assert_eq!(status, 200, "{body}");
    // And they reached the tree: a value of this round is there.
    wait_for(
        Duration::from_secs(30),
        "a value of this round in the tree",
        || {
            let n = api
                .device(device)
                .number("Counter", "Number")
                .unwrap_or(0.0);
            (n > start).then_some(()).ok_or(format!("{n} ≤ {start}"))
        },
    );
    rate
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

/// Prints both providers' RSS and their ratio.
fn print_rss(core: &Core, what: &str) {
    let rss: Vec<u64> = ["rust", "python"]
        .iter()
        .map(|n| core.api().provider(n).pid.map_or(0, rss_kib))
        .collect();
    println!(
        "{what}: Rust {} KiB, Python {} KiB, ratio {:.1}",
        rss[0],
        rss[1],
        rss[1] as f64 / rss[0].max(1) as f64
    );
}

fn main() {
    let package = Package::build();
    let bench = package.add_script(&script());
    let dir = package.path().display().to_string();
    let python = ProviderSpec::new("python", SYSTEM_PYTHON.into())
        .arg(&bench.display().to_string())
        .line(&format!("env = {{ PYTHONPATH = {dir:?} }}"))
        .table(&format!("[provider.sandbox]\nread_paths = [{dir:?}]"));
    let rust = ProviderSpec::new("rust", bin("igloo-sdk-bench"));
    let mut core = Core::start(&providers_toml(&[rust, python]));
    let mut devices = Vec::new();
    for name in ["rust", "python"] {
        core.wait_provider_running(name, TIMEOUT);
        let id = wait_for(TIMEOUT, "the bench device", || {
            core.api()
                .try_devices()?
                .into_iter()
                .find(|d| d.provider == name)
                .map(|d| d.id)
                .ok_or_else(|| "not yet".to_string())
        });
        devices.push((name, id));
    }
    std::thread::sleep(Duration::from_secs(2));
    print_rss(&core, "idle RSS, fresh");
    println!("{WRITES} writes per round, medians of {ROUNDS} rounds");
    let mut next_start = 0;
    for concurrent in [false, true] {
        let mut rates = Vec::new();
        for (name, device) in &devices {
            let mut r: Vec<f64> = (0..ROUNDS)
                .map(|i| {
                    let start = (next_start + i as u64 * WRITES) as f64;
                    round(&core, name, *device, start, concurrent)
                })
                .collect();
            rates.push((name, median(&mut r)));
        }
        next_start += ROUNDS as u64 * WRITES;
        let mode = if concurrent {
            "all at once"
        } else {
            "one by one"
        };
        println!(
            "writes/s ({mode}): Rust {:.0}, Python {:.0}, ratio {:.2}",
            rates[0].1,
            rates[1].1,
            rates[1].1 / rates[0].1
        );
    }
    std::thread::sleep(Duration::from_secs(2));
    print_rss(&core, "idle RSS, after the rounds");
    let mut hello = Vec::new();
    for name in ["rust", "python"] {
        let mut v: Vec<f64> = (0..ROUNDS)
            .map(|_| {
                let before = core.api().provider(name).pid;
                core.api().restart_provider(name);
                wait_for(TIMEOUT, "a new process", || {
                    let p = core.api().try_provider(name)?;
                    (p.state == "running" && p.pid != before && p.pid.is_some())
                        .then_some(())
                        .ok_or(format!("{p:?}"))
                });
                let v: serde_json::Value = core.api().get_ok("/api/v1/providers");
                v.as_array()
                    .and_then(|a| a.iter().find(|p| p["name"] == name))
                    .and_then(|p| p["spawn_to_hello_us"].as_f64())
                    .unwrap_or(f64::NAN)
            })
            .collect();
        hello.push(median(&mut v));
    }
    println!(
        "spawn to hello (confined): Rust {:.0} µs, Python {:.0} µs, ratio {:.0}",
        hello[0],
        hello[1],
        hello[1] / hello[0]
    );
}
