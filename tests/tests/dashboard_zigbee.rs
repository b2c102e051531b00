//! Pairing a Zigbee device from the dashboard (docs/dashboard.md,
//! "Providers") in a real browser (Debian's Chromium through
//! `tests/browser/driver.py`): the emulated Z-Stack stick granted to the
//! confined Zigbee provider by the real core (`harness::zigbee`), the owner
//! logged in on the Providers page. Before the click the stick refuses a
//! bulb's join (the network is closed); the "Pair devices" button of the
//! stick's row opens it, and the bulb joins and appears in the API. Its
//! card's Edit dialog then removes it from the network: the stick sees the
//! bulb leave, and the card and the API device go.

use igloo_tests::harness::api::Api;
use igloo_tests::harness::browser::{Browser, WaitState};
use igloo_tests::harness::core::{OWNER, OWNER_PASSWORD};
use igloo_tests::harness::zigbee::ZigbeeGateway;
use igloo_tests::{TIMEOUT, wait_for};
use serde_json::json;

fn ok<T>(r: Result<T, String>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn pair_devices_opens_the_zigbee_network_and_remove_from_network_takes_a_device_out() {
    let (mut gw, _) = ZigbeeGateway::start(&[]);
    // The baseline: without permit-join the stick turns the bulb away.
    let refused = gw.stick.reply(json!({"op": "join", "device": "bulb"}));
    assert_eq!(refused["event"], "error", "{refused}");

    let mut b = Browser::launch();
    ok(b.goto(&format!("{}/", gw.core.url())));
    ok(b.wait_selector("form#login", WaitState::Visible, TIMEOUT));
    ok(b.fill("form#login input[name=username]", OWNER));
    ok(b.fill("form#login input[name=password]", OWNER_PASSWORD));
    ok(b.click("form#login button[type=submit]"));
    ok(b.wait_selector("nav#nav", WaitState::Visible, TIMEOUT));
    ok(b.click(r##"nav#nav a[href="#/providers"]"##));
    let button = "table#grants td.granted button.permit-join";
    ok(b.wait_selector(button, WaitState::Visible, TIMEOUT));
    ok(b.click(button));
    ok(b.wait_text("#toast", "can join through zigbee", TIMEOUT));

    let joined = gw.stick.reply(json!({"op": "join", "device": "bulb"}));
    assert_ne!(joined["event"], "error", "{joined}");
    let api: &Api = &gw.api;
    let bulb = wait_for(TIMEOUT, "the bulb in the API", || {
        api.devices()
            .into_iter()
            .find(|d| d.provider == "zigbee" && d.entities.contains_key("Light"))
            .ok_or("not yet".to_string())
    });

    // Removed from the network through the bulb's Edit dialog.
    ok(b.click(r##"nav#nav a[href="#/devices"]"##));
    let card = format!(r#"article.device[data-device="{}"]"#, bulb.id);
    ok(b.wait_selector(&card, WaitState::Visible, TIMEOUT));
    ok(b.click(&format!("{card} button.edit-device")));
    let remove = "dialog#device-edit button#device-edit-remove";
    ok(b.wait_selector(remove, WaitState::Visible, TIMEOUT));
    let from = gw.stick.events().len();
    ok(b.click(remove));
    ok(b.wait_selector("dialog#confirm", WaitState::Visible, TIMEOUT));
    // Asked first: nothing has been sent yet.
    assert!(
        api.device(bulb.id).available,
        "removed before the confirmation"
    );
    ok(b.click("dialog#confirm button[value=ok]"));
    ok(b.wait_text("#toast", "removed from the Zigbee network", TIMEOUT));
    gw.stick
        .wait_event_from(from, "the bulb leaving", TIMEOUT, |e| {
            e["event"] == "left" && e["device"] == "bulb"
        });
    ok(b.wait_selector(&card, WaitState::Detached, TIMEOUT));
    wait_for(TIMEOUT, "the bulb gone from the API", || {
        match api.devices().into_iter().find(|d| d.id == bulb.id) {
            None => Ok(()),
            Some(d) => Err(format!("{d:?}")),
        }
    });
    let console = ok(b.console());
    let bad: Vec<_> = console
        .iter()
        .filter(|m| m.is_csp_violation() || m.kind == "pageerror")
        .collect();
    assert!(bad.is_empty(), "the page logged: {bad:?}");
}
