//! A provider cannot flood the core's log, and its log levels survive.
//!
//! The budgets (docs/providers.md#logging): a provider's output gets 200
//! lines per 10 s per stream and level; refusals, violations and
//! per-connection lines get 20 per 10 s per provider, kind and level. Over
//! a budget, one notice, then the lines are only counted; the count is
//! logged when the window ends or the provider goes away. The tests count
//! lines: every line the provider caused is either in the log or in a count,
//! and the log holds a small, stated number of lines about it.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

use igloo_tests::{Core, CoreSettings, LONG, ProviderSpec, TIMEOUT, providers_toml, wait_for};

/// Lines per stream and level a provider's output may put in a window.
const OUTPUT_BUDGET: usize = 200;
/// Refusals (and other per-event lines) per provider a window may hold.
const EVENTS_BUDGET: usize = 20;

/// The `flood` test provider (see `igloo-test-provider`): `lines` INFO and
/// as many WARN lines, one ERROR line, `frames` refused writes, then it
/// exits. Not restarted within the test.
fn flood(lines: i64, frames: i64) -> ProviderSpec {
    ProviderSpec::test("flood", "flood")
        .config("lines", lines)
        .config("frames", frames)
        .backoff(600_000, 600_000)
}

fn core_with(rust_log: &str, provider_socket: bool, providers: &[ProviderSpec]) -> Core {
    let settings = CoreSettings {
        rust_log: Some(rust_log.to_string()),
        provider_socket,
        ..CoreSettings::default()
    };
    Core::start_with(settings, &providers_toml(providers))
}

/// The level column of a core log line (`<time>  WARN target: …`).
fn level(line: &str) -> &str {
    line.split_whitespace().nth(1).unwrap_or_default()
}

/// One kind of line in the core's log: how many were logged at its level,
/// how many the core said it suppressed, and how many notices said the
/// budget ran out (one per window that ran over).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tally {
    logged: usize,
    suppressed: u64,
    notices: usize,
    /// Lines the kind cost the log: logged + notices + counts.
    cost: usize,
}

/// Tallies the lines at `level` that contain every one of `needles`, and
/// the notices and counts of `category` (with `about`: `provider=<name>`,
/// or empty for connections without a name).
fn tally(lines: &[String], level_: &str, needles: &[&str], category: &str, about: &str) -> Tally {
    let at_level: Vec<&String> = lines
        .iter()
        .filter(|l| level(l) == level_ && l.contains(about))
        .collect();
    let cat = format!("category={category}");
    let logged = at_level
        .iter()
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .count();
    let counts: Vec<u64> = at_level
        .iter()
        .filter(|l| l.contains(&cat))
        .filter_map(|l| {
            let (_, after) = l.split_once("suppressed=")?;
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect();
    let notices = at_level
        .iter()
        .filter(|l| l.contains(&cat) && l.contains("further ones are counted"))
        .count();
    Tally {
        logged,
        suppressed: counts.iter().sum(),
        notices,
        cost: logged + notices + counts.len(),
    }
}

#[test]
fn a_flooding_provider_is_logged_within_its_budget_and_the_rest_is_counted() {
    const LINES: u64 = 5_000;
    const FRAMES: u64 = 5_000;
    // 15 000 lines and refusals; within one 10 s window they cost about 450
    // lines, and each further window at most 225 more.
    const MOST_LINES: usize = 1_000;
    let core = core_with("info", false, &[flood(LINES as i64, FRAMES as i64)]);
    let kinds: [(&str, &[&str], &str, u64, usize); 3] = [
        (
            "INFO",
            &["fd=stderr", "flood info "],
            "stderr",
            LINES,
            OUTPUT_BUDGET,
        ),
        (
            "WARN",
            &["fd=stderr", "flood warning "],
            "stderr",
            LINES,
            OUTPUT_BUDGET,
        ),
        ("WARN", &["refused: "], "refused", FRAMES, EVENTS_BUDGET),
    ];
    let tallies = wait_for(
        LONG,
        "every flood line and refusal in the log or in a suppressed count",
        || {
            let lines = core.log().find_lines(&["provider=flood"]);
            let t: Vec<Tally> = kinds
                .iter()
                .map(|(lvl, needles, cat, _, _)| tally(&lines, lvl, needles, cat, "provider=flood"))
                .collect();
            let complete = t
                .iter()
                .zip(&kinds)
                .all(|(t, k)| t.logged as u64 + t.suppressed == k.3);
            if complete {
                Ok(t)
            } else {
                Err(format!("{t:?}"))
            }
        },
    );
    for (t, (lvl, _, category, _, budget)) in tallies.iter().zip(&kinds) {
        assert!(
            t.notices >= 1 && t.suppressed > 0,
            "the {lvl} {category} flood ran over its budget and the log says so: {t:?}"
        );
        // Each window that ran over logged its budget and one notice; the
        // last one may not have run over.
        assert!(
            t.logged <= budget * (t.notices + 1),
            "{lvl} {category}: more than {budget} lines per window: {t:?}"
        );
    }
    let about = core.log().find_lines(&["provider=flood"]);
    assert!(
        about.len() <= MOST_LINES,
        "{} lines about the flooding provider in the core's log, more than {MOST_LINES}; {tallies:?}",
        about.len()
    );
    let error = core.log().find_line(&["provider=flood", "flood error"]);
    assert_eq!(
        error.as_deref().map(level),
        Some("ERROR"),
        "the provider's ERROR line, after its floods, is logged at ERROR: {error:?}"
    );
}

#[test]
fn a_provider_warning_passes_a_warn_filter_and_its_info_lines_do_not() {
    let core = core_with("warn", false, &[flood(3, 3)]);
    // Its last line: every line before it has been forwarded (one reader per stream).
    let error = core.wait_log(TIMEOUT, &["provider=flood", "flood error"]);
    assert_eq!(level(&error), "ERROR", "{error}");
    let warning = core
        .log()
        .find_line(&["provider=flood", "flood warning 0 seq=0"])
        .unwrap_or_else(|| {
            panic!(
                "the provider's WARN line is missing:\n{}",
                core.log().tail(30)
            )
        });
    assert_eq!(level(&warning), "WARN", "{warning}");
    for field in [
        " provider: ",
        "fd=stderr",
        "module=igloo_test_provider::flood",
    ] {
        assert!(warning.contains(field), "{field:?} missing from {warning}");
    }
    let info = core.log().find_lines(&["flood info"]);
    assert!(
        info.is_empty(),
        "the provider's INFO lines passed a warn filter: {info:?}"
    );
    // The refusals are WARN and pass; the core's own INFO lines do not.
    core.wait_log(TIMEOUT, &["provider=flood", "refused: "]);
    assert!(
        !core.log_contains("provider connected"),
        "the core logged INFO lines under RUST_LOG=warn:\n{}",
        core.log().tail(30)
    );
}

#[test]
fn garbage_on_the_provider_socket_is_logged_within_one_shared_budget() {
    const CONNECTIONS: u64 = 500;
    const MOST_LINES: usize = 100;
    let mut core = core_with("info", true, &[]);
    let socket = core.provider_socket();
    // A frame with message id 250, which does not exist.
    let mut garbage = 64u32.to_le_bytes().to_vec();
    garbage.push(250);
    garbage.extend([0x55; 63]);
    for i in 0..CONNECTIONS {
        let mut s = UnixStream::connect(&socket)
            .unwrap_or_else(|e| panic!("connection {i} to {}: {e}", socket.display()));
        s.write_all(&garbage)
            .unwrap_or_else(|e| panic!("connection {i}: writing: {e}"));
        let _ = s.shutdown(std::net::Shutdown::Write);
        // The core closes the connection once it has refused the frame.
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
    }
    // Stopping the core reports what the shared budget still counts.
    core.stop();
    let lines = core.log().lines();
    let t = tally(&lines, "WARN", &["provider socket: "], "handshake", "");
    assert_eq!(
        t.logged as u64 + t.suppressed,
        CONNECTIONS,
        "every garbage connection is logged or counted: {t:?}\n{}",
        core.log().tail(30)
    );
    assert!(t.notices >= 1, "{t:?}");
    assert!(
        t.cost <= MOST_LINES,
        "{CONNECTIONS} garbage connections cost {} log lines, more than {MOST_LINES}: {t:?}",
        t.cost
    );
    let named = core.log().find_lines(&["provider socket: ", "provider="]);
    assert!(
        named.is_empty(),
        "connections that never said Hello have no provider name: {named:?}"
    );
}

#[test]
fn a_provider_that_reconnects_in_a_loop_is_logged_within_its_budget() {
    use igloo_protocol::frame::to_frame_bytes;
    use igloo_protocol::message::{Hello, Message};
    use igloo_protocol::{DEFAULT_MAX_FRAME, MAX_COMPONENT_ID, MAX_MESSAGE_ID, decode_payload};

    const CONNECTIONS: u64 = 300;
    // Two kinds of line per connection ("provider connected" and "ended"),
    // each within its budget, plus notices and counts.
    const MOST_LINES: usize = 4 * EVENTS_BUDGET;
    let mut core = core_with("info", true, &[]);
    let socket = core.provider_socket();
    let hello = Message::Hello(Hello {
        protocol_major: igloo_protocol::PROTOCOL_MAJOR,
        protocol_minor: igloo_protocol::PROTOCOL_MINOR,
        name: "looping".into(),
        version: "0.0.1".into(),
        max_component_id: MAX_COMPONENT_ID,
        max_message_id: MAX_MESSAGE_ID,
    });
    let frame = to_frame_bytes(&hello, DEFAULT_MAX_FRAME).expect("a Hello encodes");
    // One handshake: Some(true) when welcomed, Some(false) when refused
    // because the core still serves the previous connection of that name.
    let connect = |i: u64| -> bool {
        let mut s = UnixStream::connect(&socket)
            .unwrap_or_else(|e| panic!("connection {i} to {}: {e}", socket.display()));
        s.write_all(&frame)
            .unwrap_or_else(|e| panic!("connection {i}: writing Hello: {e}"));
        let mut len = [0u8; 4];
        s.read_exact(&mut len)
            .unwrap_or_else(|e| panic!("connection {i}: no reply to Hello: {e}"));
        let mut payload = vec![0u8; u32::from_le_bytes(len) as usize];
        s.read_exact(&mut payload)
            .unwrap_or_else(|e| panic!("connection {i}: short reply: {e}"));
        match decode_payload(&payload) {
            Ok(Message::Welcome(_)) => true,
            Ok(Message::Error(e)) if e.message.contains("already connected") => false,
            other => panic!("connection {i}: unexpected reply {other:?}"),
        }
    };
    let mut welcomed = 0;
    let mut attempts = 0;
    while welcomed < CONNECTIONS {
        attempts += 1;
        assert!(
            attempts < 100 * CONNECTIONS,
            "the core keeps refusing reconnections"
        );
        match connect(welcomed) {
            true => welcomed += 1,
            false => std::thread::sleep(std::time::Duration::from_millis(2)),
        }
    }
    core.stop();
    let lines = core.log().lines();
    let t = tally(
        &lines,
        "INFO",
        &["provider connected"],
        "lifecycle",
        "provider=looping",
    );
    assert_eq!(
        t.logged as u64 + t.suppressed,
        CONNECTIONS,
        "every connection is logged or counted: {t:?}\n{}",
        core.log().tail(30)
    );
    assert!(t.logged <= EVENTS_BUDGET, "{t:?}");
    assert!(t.notices >= 1, "{t:?}");
    let about = core.log().find_lines(&["provider=looping"]);
    assert!(
        about.len() <= MOST_LINES,
        "{} lines about the reconnecting provider, more than {MOST_LINES}",
        about.len()
    );
}
