//! The dashboard in headless Chromium (figures only; nothing is asserted).
//!
//! `cargo build --release -p igloo -p igloo-tests --bins && cargo bench -p
//! igloo-tests --bench dashboard` (the bench runs the release binaries) prints, for a provider
//! writing one entity at each of several rates: the events per second the
//! page renders (its shown counter's rise per second, median over 200 ms
//! samples) against the events per second a plain event-stream client
//! receives in this process at the same time (the baseline), and their
//! ratio. A ratio near 1 means the page keeps up.
//!
//! `… --bench dashboard -- guest` (after `scripts/build-image qemu-aarch64`)
//! boots the appliance image in QEMU and prints the time to first
//! contentful paint and to live data (the page's `igloo-live` mark: devices
//! drawn and the event stream open) through the port forward, as medians of
//! `IGLOO_LOADS` (default 5) loads, against the same page served by a core on
//! this machine (the baseline).

use std::time::{Duration, Instant};

use igloo_tests::harness::browser::{Browser, WaitState};
use igloo_tests::harness::core::{OWNER, OWNER_PASSWORD};
use igloo_tests::harness::qemu::{Disk, Guest, image};
use igloo_tests::{Core, EventStream, ProviderSpec, TIMEOUT, providers_toml, wait_for};
use serde_json::Value;

const RATES: [u64; 5] = [20, 200, 1_000, 5_000, 20_000];
const WINDOW: Duration = Duration::from_secs(4);
const SAMPLE: Duration = Duration::from_millis(200);

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ok<T>(r: Result<T, String>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn login(b: &mut Browser, base: &str) {
    ok(b.goto(&format!("{base}/")));
    ok(b.wait_selector("form#login", WaitState::Visible, TIMEOUT));
    ok(b.fill("form#login input[name=username]", OWNER));
    ok(b.fill("form#login input[name=password]", OWNER_PASSWORD));
    ok(b.click("form#login button[type=submit]"));
    ok(b.wait_attr("#live", "data-state", "open", TIMEOUT));
}

/// The counter the page shows (an input's value, or an element's text), or
/// `None` before it shows one.
fn shown(b: &mut Browser, selector: &str) -> Option<f64> {
    let js = format!(
        "(() => {{ const e = document.querySelector({}); if (!e) return null; \
         const t = ('value' in e) ? e.value : e.textContent; return parseFloat(t); }})()",
        serde_json::to_string(selector).ok()?
    );
    b.eval(&js).ok()?.as_f64()
}

fn render_rate(rate: u64) -> (f64, f64) {
    let core = Core::start(&providers_toml(&[
        ProviderSpec::test("good", "good").config("rate", rate as i64)
    ]));
    let id = wait_for(TIMEOUT, "the counter device", || {
        core.api()
            .try_devices()?
            .into_iter()
            .find(|d| d.key == "good-1")
            .map(|d| d.id)
            .ok_or_else(|| "not yet".to_string())
    });
    let mut b = Browser::launch();
    login(&mut b, core.url());
    let selector = format!(
        r#"article.device[data-device="{id}"] [data-entity="Counter"] [data-component="Number"]:not(.sparkline)"#
    );
    wait_for(TIMEOUT, "the counter on the page", || {
        shown(&mut b, &selector).ok_or_else(|| "not yet".to_string())
    });
    // The baseline: a plain event-stream client in this process.
    let mut events = EventStream::connect_with(core.url(), core.token());
    let (mut page, mut stream) = (Vec::new(), Vec::new());
    let end = Instant::now() + WINDOW;
    let mut last = (Instant::now(), shown(&mut b, &selector).unwrap_or(0.0));
    while Instant::now() < end {
        let got = events.collect_for(SAMPLE);
        let now = Instant::now();
        let value = shown(&mut b, &selector).unwrap_or(last.1);
        let dt = now.duration_since(last.0).as_secs_f64();
        page.push((value - last.1) / dt);
        stream.push(got.iter().filter(|e| e["type"] == "state").count() as f64 / dt);
        last = (now, value);
    }
    (median(&mut page), median(&mut stream))
}

fn guest_loads() {
    let loads: usize = std::env::var("IGLOO_LOADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
        .max(1);
    let disk = Disk::new(&image("qemu-aarch64"), Some(1 << 30));
    let mut guest = Guest::boot(&disk);
    guest.wait_core_ready();
    let code = guest.setup_code();
    let (status, body) = guest
        .api()
        .with_token(None)
        .with_timeout(Duration::from_secs(60))
        .post(
            "/api/v1/auth/onboarding",
            &serde_json::json!({"setup_code": code, "username": OWNER, "password": OWNER_PASSWORD}),
        )
        .expect("onboarding");
    assert!(status == 201 || status == 200, "{status} {body}");
    guest.publish_bridge(include_bytes!("../fixtures/bridge_devices_home.json"));
    let host = Core::start(&providers_toml(&[ProviderSpec::test("good", "good")]));
    let guest_url = guest.api().base().to_string();
    for (name, base) in [
        ("host core", host.url().to_string()),
        ("QEMU guest", guest_url),
    ] {
        let mut b = Browser::launch();
        login(&mut b, &base);
        let (mut paint, mut live) = (Vec::new(), Vec::new());
        for _ in 0..loads {
            ok(b.goto(&format!("{base}/")));
            // The mark comes once the data is loaded, after the stream opened.
            let marks: Value = wait_for(Duration::from_secs(60), "the igloo-live mark", || {
                let m = b.eval(
                    "[performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null, \
                      performance.getEntriesByName('igloo-live')[0]?.startTime ?? null]",
                )?;
                m[1].is_number().then_some(m.clone()).ok_or(format!("{m}"))
            });
            if let Some(p) = marks[0].as_f64() {
                paint.push(p);
            }
            if let Some(l) = marks[1].as_f64() {
                live.push(l);
            }
        }
        println!(
            "{name:>10}: first contentful paint {:.0} ms, live data {:.0} ms (medians of {loads} loads)",
            median(&mut paint),
            median(&mut live)
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "guest") {
        guest_loads();
        return;
    }
    println!("events/s written | page renders | event-stream client | ratio");
    for rate in RATES {
        let (page, stream) = render_rate(rate);
        println!(
            "{rate:>16} | {page:>12.0} | {stream:>19.0} | {:>5.2}",
            page / stream
        );
    }
}
