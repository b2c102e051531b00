//! Spawn-to-hello benchmark of a confined provider against an unconfined one
//! in the same run (target ≤ 5 ms).
//!
//! `cargo bench -p igloo --bench spawn` (add `-- --quick`, or set
//! `IGLOO_BENCH_QUICK=1`, for fewer restarts) starts the real `igloo` binary
//! with two providers, both this binary in provider role: `confined` (sandbox
//! on, default limits) and `unconfined` (`[provider.sandbox] enabled = false`).
//! It restarts them alternately through `POST /api/v1/providers/{name}/restart`
//! and, after each restart, waits until that provider runs again with a new
//! pid, then reads `spawn_to_hello_us` (preparing the confinement + spawn →
//! `Hello` answered, as measured by the core) from `GET /api/v1/providers`.
//! Prints median and p99 of both, the ratio of the medians, and the sandbox
//! layers the core reports as enforced for the confined provider.
//!
//! Run as root for the full sandbox (own uid, cgroup); otherwise the output
//! says which layers are missing. The provider executable (this binary, in
//! `target/*/deps`) must be reachable by the provider's uid: every parent
//! directory must be searchable by others.
//!
//! The core logs at `error` to `core.log` in its temp dir (printed when the
//! bench fails); set `IGLOO_BENCH_LOG=info` for more.
//!
//! The binary plays both sides: run with `IGLOO_BENCH_ROLE=spawn-provider`
//! (set in the config it writes) it is a minimal SDK provider.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use igloo_provider::Provider;
use serde_json::Value;

/// Recorded restarts per provider.
const RESTARTS: usize = 200;
/// Recorded restarts per provider with `--quick` / `IGLOO_BENCH_QUICK`.
const QUICK_RESTARTS: usize = 20;
/// Unrecorded restarts per provider first (page cache, allocator, cgroup dirs).
const WARMUP: usize = 5;
/// Pause between restarts, so one restart's tail never overlaps the next.
const SETTLE: Duration = Duration::from_millis(10);
/// Longest wait for a provider to be running again.
const TIMEOUT: Duration = Duration::from_secs(20);
/// The goal for the confined median, µs.
const TARGET_US: u64 = 5_000;
const ROLE_ENV: &str = "IGLOO_BENCH_ROLE";
const ROLE: &str = "spawn-provider";

// ---------------------------------------------------------------- provider role

/// Connects (the handshake is what the core times), then idles until the core
/// closes the connection or stops the process.
async fn provider_main() -> Result<(), Box<dyn std::error::Error>> {
    let (provider, mut events) = Provider::connect("bench-spawn", "0").await?;
    while events.next().await.is_some() {}
    drop(provider);
    Ok(())
}

// ---------------------------------------------------------------- driver role

struct Core {
    child: Option<Child>,
    api: String,
    log: PathBuf,
    cgroup: String,
    dir: Option<tempfile::TempDir>,
}

impl Core {
    fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// SIGTERM, then SIGKILL after 10 s; reaps the core.
    fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(st)) = child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("core did not stop within 10 s of SIGTERM; killing it");
        let _ = child.kill();
        child.wait().ok()
    }

    /// Removes what is left of the core's cgroup parent (only empty
    /// directories; the core normally removes them itself).
    fn remove_cgroups(&self) {
        for root in [
            "/sys/fs/cgroup",
            "/sys/fs/cgroup/unified",
            "/sys/fs/cgroup/memory",
            "/sys/fs/cgroup/pids",
        ] {
            let parent = Path::new(root).join(&self.cgroup);
            if let Ok(entries) = std::fs::read_dir(&parent) {
                for e in entries.flatten() {
                    if e.path().is_dir() {
                        let _ = std::fs::remove_dir(e.path());
                    }
                }
                let _ = std::fs::remove_dir(&parent);
            }
        }
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "----- igloo core log tail ({}) -----\n{}\n-----",
                self.log.display(),
                self.log_tail(60)
            );
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.remove_cgroups();
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("cannot chmod {:o} {}: {e}", mode, path.display()));
}

/// Panics unless a process with another uid (the confined provider's own)
/// can reach and execute `exe`: every parent directory o+x, the file o+x.
fn check_reachable_by_others(exe: &Path) {
    let mut dirs: Vec<&Path> = exe.ancestors().skip(1).collect();
    dirs.reverse();
    for d in dirs {
        let meta = std::fs::metadata(d).unwrap_or_else(|e| {
            panic!(
                "cannot stat {} (parent of {}): {e}",
                d.display(),
                exe.display()
            )
        });
        let mode = meta.permissions().mode() & 0o7777;
        assert!(
            mode & 0o001 != 0,
            "{} is mode {mode:04o} (not searchable by others), so the confined provider, running \
             under its own uid, cannot reach the bench binary {}; build with every parent \
             directory o+x (e.g. `chmod o+x {}` or CARGO_TARGET_DIR=/tmp/igloo-target)",
            d.display(),
            exe.display(),
            d.display()
        );
    }
    let mode = std::fs::metadata(exe)
        .unwrap_or_else(|e| panic!("cannot stat {}: {e}", exe.display()))
        .permissions()
        .mode()
        & 0o7777;
    assert!(
        mode & 0o001 != 0,
        "{} is mode {mode:04o}: not executable by others, so the confined provider's uid cannot run it",
        exe.display()
    );
}

fn start_core(exe: &Path) -> Core {
    let dir = tempfile::Builder::new()
        .prefix("igloo-bench-spawn-")
        .tempdir()
        .expect("tempdir");
    // The confined provider runs under its own uid: let it reach its data dir.
    set_mode(dir.path(), 0o755);
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("create data dir");
    set_mode(&data, 0o755);
    let port = free_port();
    let unique = format!("igloo-bench-{}", std::process::id());
    let log_level = std::env::var("IGLOO_BENCH_LOG").unwrap_or_else(|_| "error".to_string());
    let provider = |name: &str, extra: &str| {
        format!(
            "[[provider]]\nname = {}\nexec = {}\nnetwork = \"any\"\nenv = {{ {ROLE_ENV} = {} }}\n{extra}\n",
            toml_str(name),
            toml_str(&exe.to_string_lossy()),
            toml_str(ROLE),
        )
    };
    let config = format!(
        "# Written by core/daemon/benches/spawn.rs.\n[core]\ndata_dir = {}\napi_listen = {}\nlog = {}\n\
         cgroup = {}\nnft_table = {}\n\n[auth]\nenabled = false\n\n{}\n{}",
        toml_str(&data.to_string_lossy()),
        toml_str(&format!("127.0.0.1:{port}")),
        toml_str(&log_level),
        toml_str(&unique),
        toml_str(&unique),
        provider("confined", ""),
        provider("unconfined", "\n[provider.sandbox]\nenabled = false\n"),
    );
    let path = dir.path().join("igloo.toml");
    std::fs::write(&path, config).expect("write config");
    let log = dir.path().join("core.log");
    let out = std::fs::File::create(&log).expect("create core log");
    let err = out.try_clone().expect("clone log handle");
    let child = Command::new(env!("CARGO_BIN_EXE_igloo"))
        .args(["run", "--config"])
        .arg(&path)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("start igloo");
    let mut core = Core {
        child: Some(child),
        api: format!("http://127.0.0.1:{port}"),
        log,
        cgroup: unique,
        dir: Some(dir),
    };
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(all) = try_providers(&core.api)
            && ["confined", "unconfined"]
                .iter()
                .all(|n| find(&all, n).is_some_and(|p| p["state"] == "running"))
        {
            return core;
        }
        if let Some(Ok(Some(st))) = core.child.as_mut().map(Child::try_wait) {
            panic!("igloo exited with {st} before both providers were running");
        }
        assert!(
            Instant::now() < deadline,
            "both providers were not running within {TIMEOUT:?}: {:?}",
            try_providers(&core.api)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn try_providers(api: &str) -> Option<Vec<Value>> {
    let mut r = ureq::get(&format!("{api}/api/v1/providers")).call().ok()?;
    r.body_mut().read_json::<Vec<Value>>().ok()
}

fn providers(api: &str) -> Vec<Value> {
    try_providers(api).expect("GET /api/v1/providers")
}

fn find<'a>(all: &'a [Value], name: &str) -> Option<&'a Value> {
    all.iter().find(|p| p["name"] == name)
}

/// Streams the `provider` objects of provider events into a channel.
fn subscribe(api: &str) -> mpsc::Receiver<Value> {
    let (tx, rx) = mpsc::channel();
    let resp = ureq::get(&format!("{api}/api/v1/events"))
        .call()
        .expect("GET /api/v1/events");
    std::thread::spawn(move || {
        let reader = BufReader::new(resp.into_body().into_reader());
        for line in reader.lines() {
            let Ok(line) = line else { return };
            let Some(data) = line.strip_prefix("data:") else {
                continue;
            };
            let Ok(mut v) = serde_json::from_str::<Value>(data.trim()) else {
                continue;
            };
            if v["type"] == "provider" && tx.send(v["provider"].take()).is_err() {
                return;
            }
        }
    });
    // Let the subscription reach the core's bus before anything is restarted.
    std::thread::sleep(Duration::from_millis(200));
    rx
}

/// One restart's figures.
struct Sample {
    /// The core's `spawn_to_hello_us`.
    spawn_to_hello_us: u64,
    /// Restart request sent → running event received, here (includes stopping
    /// the old process).
    round_trip: Duration,
}

/// Restarts `name` and waits until it runs again with a new pid and a higher
/// restart count; returns its figures from that start.
fn restart(api: &str, events: &mpsc::Receiver<Value>, name: &str) -> Sample {
    let all = providers(api);
    let before = find(&all, name).unwrap_or_else(|| panic!("provider {name} not listed"));
    assert_eq!(
        before["state"], "running",
        "{name} before restart: {before}"
    );
    let old_pid = before["pid"].as_u64().expect("running provider has a pid");
    let old_restarts = before["restarts"].as_u64().unwrap_or(0);
    // Events from before the request are stale.
    while events.try_recv().is_ok() {}
    let sent = Instant::now();
    ureq::post(&format!("{api}/api/v1/providers/{name}/restart"))
        .send_empty()
        .unwrap_or_else(|e| panic!("POST restart {name}: {e}"));
    let deadline = sent + TIMEOUT;
    let (new_pid, from_event) = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let p = events
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("{name} was not running again within {TIMEOUT:?}"));
        if p["name"] != name || p["state"] != "running" {
            continue;
        }
        let (Some(pid), Some(restarts)) = (p["pid"].as_u64(), p["restarts"].as_u64()) else {
            continue;
        };
        if pid != old_pid && restarts > old_restarts {
            break (pid, p["spawn_to_hello_us"].as_u64());
        }
    };
    let round_trip = sent.elapsed();
    // The figure of record comes from the providers API, for this very start.
    let all = providers(api);
    let now = find(&all, name).unwrap_or_else(|| panic!("provider {name} not listed"));
    assert!(
        now["state"] == "running" && now["pid"].as_u64() == Some(new_pid),
        "{name} changed again before it was read: {now}"
    );
    let us = now["spawn_to_hello_us"]
        .as_u64()
        .unwrap_or_else(|| panic!("{name} has no spawn_to_hello_us: {now}"));
    assert_eq!(
        Some(us),
        from_event,
        "{name}: spawn_to_hello_us differs between event and API"
    );
    Sample {
        spawn_to_hello_us: us,
        round_trip,
    }
}

fn percentile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, samples: &[Sample]) -> f64 {
    let us: Vec<f64> = samples.iter().map(|s| s.spawn_to_hello_us as f64).collect();
    let rt: Vec<f64> = samples
        .iter()
        .map(|s| s.round_trip.as_secs_f64() * 1e6)
        .collect();
    let (p50, p99) = (percentile(&us, 0.5), percentile(&us, 0.99));
    println!(
        "  {name:<10}: median {p50:.0} µs, p99 {p99:.0} µs (min {:.0}, p10 {:.0}, p90 {:.0}, max {:.0}; {} of {} over {TARGET_US} µs); restart request → running seen here: median {:.0} µs",
        percentile(&us, 0.0),
        percentile(&us, 0.1),
        percentile(&us, 0.9),
        percentile(&us, 1.0),
        us.iter().filter(|v| **v > TARGET_US as f64).count(),
        us.len(),
        percentile(&rt, 0.5),
    );
    p50
}

fn main() {
    if std::env::var(ROLE_ENV).as_deref() == Ok(ROLE) {
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
    let quick = std::env::args().any(|a| a == "--quick")
        || std::env::var_os("IGLOO_BENCH_QUICK").is_some_and(|v| !v.is_empty() && v != "0");
    let n = if quick { QUICK_RESTARTS } else { RESTARTS };

    let exe = std::env::current_exe().expect("current_exe");
    let root = nix::unistd::geteuid().is_root();
    if root {
        check_reachable_by_others(&exe);
    } else {
        println!(
            "note: not running as root (euid {}): the confined provider keeps this uid (no uid layer) \
             and most likely gets no cgroup; the confined figure leaves those layers out",
            nix::unistd::geteuid()
        );
    }
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".to_string());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());

    let mut core = start_core(&exe);
    let events = subscribe(&core.api);
    for _ in 0..WARMUP {
        for name in ["confined", "unconfined"] {
            restart(&core.api, &events, name);
            std::thread::sleep(SETTLE);
        }
    }
    let (mut confined, mut unconfined) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        confined.push(restart(&core.api, &events, "confined"));
        std::thread::sleep(SETTLE);
        unconfined.push(restart(&core.api, &events, "unconfined"));
        std::thread::sleep(SETTLE);
    }
    let all = providers(&core.api);

    println!(
        "spawn-to-hello (core: prepare confinement + spawn → Hello answered), {n} restarts each, alternating, after {WARMUP} warm-up restarts each; kernel {kernel}, {cpus} CPUs"
    );
    let c = report("confined", &confined);
    let u = report("unconfined", &unconfined);
    println!(
        "  ratio confined/unconfined (medians): {:.2}; confinement adds {:.0} µs at the median; target ≤ {TARGET_US} µs (confined median): {}",
        c / u,
        c - u,
        if c <= TARGET_US as f64 {
            "met"
        } else {
            "NOT met"
        }
    );

    let conf = find(&all, "confined").expect("confined listed");
    let sb = &conf["sandbox"];
    assert_eq!(
        sb["enabled"], true,
        "confined provider has its sandbox off: {sb}"
    );
    assert_eq!(
        find(&all, "unconfined").map(|p| p["sandbox"]["enabled"].clone()),
        Some(Value::Bool(false)),
        "unconfined provider is confined"
    );
    let layers = ["uid", "landlock", "seccomp", "network", "cgroup", "rlimits"];
    let on: Vec<&str> = layers
        .iter()
        .copied()
        .filter(|l| sb[*l]["enforced"] == true)
        .collect();
    let off: Vec<&str> = layers
        .iter()
        .copied()
        .filter(|l| sb[*l]["enforced"] != true)
        .collect();
    println!(
        "confined provider layers (from GET /api/v1/providers): enforced [{}]; not enforced [{}]",
        on.join(", "),
        off.join(", ")
    );
    for l in layers {
        println!(
            "  {l:<8} {:<12} {}",
            if sb[l]["enforced"] == true {
                "enforced"
            } else {
                "NOT enforced"
            },
            sb[l]["detail"].as_str().unwrap_or("?")
        );
    }
    println!(
        "  (uid {}, network policy {}; the network layer with \"any\" restricts nothing)",
        conf["uid"], sb["network_policy"]
    );

    match core.stop() {
        Some(st) if st.success() => {}
        other => eprintln!("igloo exited with {other:?} after SIGTERM"),
    }
    drop(events);
    drop(core);
}
