//! What authentication costs per request, against the real core.
//!
//! `cargo bench -p igloo --bench auth` prints medians over rounds of
//! `GET /api/v1/health` (a route that answers every caller and always asks
//! the tree task) made
//! - without credentials (the baseline: the access check finds none),
//! - with a bearer token (digest + one read transaction of the accounts database),
//! - with a session cookie (the same, for a session),
//!
//! interleaved in each round so that the machine's noise hits all three, with
//! the ratios against the baseline; and the time of an owner login (Argon2id
//! m = 19 MiB, t = 2, p = 1) over HTTP and of the bare hash verification in
//! this process. (The answer with credentials is a few bytes longer.)

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde_json::json;

use common::{Core, free_port, median};

const REQUESTS: usize = 2_000;
const ROUNDS: usize = 5;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn start_core() -> Core {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let config = format!(
        "[core]\ndata_dir = \"{}\"\napi_listen = \"127.0.0.1:{port}\"\nlog = \"warn\"\n\n[auth]\nlocal_socket = \"{}\"\n",
        dir.path().join("data").display(),
        dir.path().join("api.sock").display(),
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
        if ureq::get(&format!("{}/api/v1/health", core.api))
            .call()
            .is_ok()
        {
            return core;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("core did not come up");
}

/// Mean µs per request of `REQUESTS` health requests with `header`.
fn round(a: &ureq::Agent, base: &str, header: Option<(&str, &str)>) -> f64 {
    let url = format!("{base}/api/v1/health");
    let started = Instant::now();
    for _ in 0..REQUESTS {
        let mut r = a.get(&url);
        if let Some((k, v)) = header {
            r = r.header(k, v);
        }
        let mut resp = r.call().expect("health");
        assert_eq!(resp.status(), 200);
        resp.body_mut().read_to_string().expect("body");
    }
    started.elapsed().as_secs_f64() * 1e6 / REQUESTS as f64
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let core = start_core();
    let a = agent();
    let code_path = core.dir.path().join("data").join("setup-code");
    let code = std::fs::read_to_string(&code_path).expect("setup code");
    let password = "bench-owner-password";
    let post = |path: &str, body: serde_json::Value| {
        a.post(&format!("{}{path}", core.api))
            .send_json(body)
            .expect(path)
    };
    let r = post(
        "/api/v1/auth/onboarding",
        json!({"setup_code": code.trim(), "username": "owner", "password": password}),
    );
    assert_eq!(r.status(), 201);
    // Logins over HTTP: 4 fit the attempt quota (5 at once, onboarding took one).
    let mut logins = Vec::new();
    let mut cookie = String::new();
    let mut token = String::new();
    for i in 0..4 {
        let body = if i == 0 {
            json!({"username": "owner", "password": password, "token": {"name": "bench", "scope": "read"}})
        } else {
            json!({"username": "owner", "password": password})
        };
        let started = Instant::now();
        let mut r = post("/api/v1/auth/login", body);
        logins.push(started.elapsed().as_secs_f64() * 1e3);
        if i == 0 {
            let v: serde_json::Value = r.body_mut().read_json().expect("token");
            token = v["token"].as_str().expect("token").to_string();
        } else if let Some(c) = r.headers().get("set-cookie") {
            cookie = c
                .to_str()
                .expect("cookie")
                .split(';')
                .next()
                .expect("cookie")
                .to_string();
        }
    }
    let bearer = format!("Bearer {token}");
    let (mut none, mut tok, mut ses) = (Vec::new(), Vec::new(), Vec::new());
    round(&a, &core.api, None); // warm-up
    for _ in 0..ROUNDS {
        none.push(round(&a, &core.api, None));
        tok.push(round(&a, &core.api, Some(("Authorization", &bearer))));
        ses.push(round(&a, &core.api, Some(("Cookie", &cookie))));
    }
    let (n, t, s) = (median(&mut none), median(&mut tok), median(&mut ses));
    println!(
        "GET /api/v1/health, {REQUESTS} requests × {ROUNDS} rounds, one keep-alive connection:"
    );
    println!("  no credentials (baseline): {n:8.1} µs/request");
    println!(
        "  bearer token:              {t:8.1} µs/request  ({:.2}× baseline, +{:.1} µs)",
        t / n,
        t - n
    );
    println!(
        "  session cookie:            {s:8.1} µs/request  ({:.2}× baseline, +{:.1} µs)",
        s / n,
        s - n
    );
    println!(
        "owner login over HTTP (Argon2id verify + session or token): median {:.1} ms of {}",
        median(&mut logins),
        logins.len()
    );

    // The bare hash in this process, same parameters as auth::password.
    let params = Params::new(19_456, 2, 1, None).expect("params");
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::encode_b64(b"bench-salt-16byt").expect("salt");
    let phc = argon
        .hash_password(password.as_bytes(), &salt)
        .expect("hash")
        .to_string();
    let parsed = PasswordHash::new(&phc).expect("phc");
    let mut verify: Vec<f64> = (0..10)
        .map(|_| {
            let started = Instant::now();
            assert!(
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            );
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    println!(
        "Argon2id verify (m=19456 KiB, t=2, p=1) in this process: median {:.1} ms of 10",
        median(&mut verify)
    );
}
