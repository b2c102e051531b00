//! Stopping the core: SIGTERM stops it promptly and cleanly, with its
//! providers, whatever API clients are connected.

use std::time::{Duration, Instant};

use igloo_tests::{Core, EventStream, ProviderSpec, SHORT, TIMEOUT, providers_toml, wait_for};

fn assert_stops_cleanly(core: &mut Core, events: Option<EventStream>) {
    let provider = core.wait_provider_running("good", TIMEOUT);
    let started = Instant::now();
    let status = core.stop();
    let took = started.elapsed();
    drop(events);
    assert!(
        status.is_some_and(|s| s.success()) && took < Duration::from_secs(5),
        "SIGTERM should stop the core with exit status 0 within 5 s; it took {took:?} and ended with {status:?} \
         (the harness sends SIGKILL after 10 s)"
    );
    wait_for(
        SHORT,
        "the provider to stop with the core",
        || match std::fs::read_to_string(format!("/proc/{provider}/stat")) {
            Ok(stat) if !stat.contains(") Z ") => Err(format!("pid {provider} still runs")),
            _ => Ok(()),
        },
    );
}

#[test]
fn core_stops_on_sigterm_with_its_providers() {
    let mut core = Core::start(&providers_toml(&[ProviderSpec::test("good", "good")]));
    assert_stops_cleanly(&mut core, None);
}

#[test]
fn core_stops_on_sigterm_with_an_open_event_stream() {
    let mut core = Core::start(&providers_toml(&[ProviderSpec::test("good", "good")]));
    let mut events = core.events();
    events.wait_event(SHORT, "any event (the stream is live)", |_| true);
    assert_stops_cleanly(&mut core, Some(events));
}
