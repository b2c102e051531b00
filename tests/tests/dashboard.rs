//! The web dashboard in a real browser (Debian's Chromium, headless, through
//! `tests/browser/driver.py`) against the real core, a real Mosquitto with a
//! simulated Zigbee2MQTT bridge, and the real MQTT provider: onboarding and
//! login, wrong passwords up to the rate limit, controls that publish the
//! right Zigbee2MQTT JSON and show only confirmed state, live values, rooms
//! and renames across a core restart, logout. Screenshots of the main pages
//! are saved to `target/test-artifacts/screenshots/` (docs/dashboard.md).

use igloo_tests::harness::auth::setup_code;
use igloo_tests::harness::browser::{Browser, BrowserOptions, WaitState};
use igloo_tests::harness::core::{OWNER, OWNER_PASSWORD};
use igloo_tests::harness::esphome::{FakeDevice, FakeOptions};
use igloo_tests::{
    Api, AuthMode, Core, CoreSettings, Mosquitto, ProviderSpec, TIMEOUT, providers_toml, wait_for,
};
use serde_json::{Value, json};

const HOME: &str = include_str!("../fixtures/bridge_devices_home.json");
const LAMP: &str = "0x000d6ffffe8a4c21";
const SENSOR: &str = "0x00158d0001a2b3c4";

fn visible(b: &mut Browser, selector: &str) {
    b.wait_selector(selector, WaitState::Visible, TIMEOUT)
        .unwrap_or_else(|e| panic!("{e}"));
}

fn ok<T>(r: Result<T, String>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// Saves a screenshot of the whole page, scrolled to the top first (the
/// sticky header would otherwise be drawn where the page was scrolled to).
fn shot(b: &mut Browser, name: &str) {
    ok(b.eval("window.scrollTo(0, 0)"));
    ok(b.screenshot(name));
}

/// Fills and sends the login form, and waits for its answer to be shown.
fn submit_login(b: &mut Browser, user: &str, password: &str) {
    ok(b.fill("form#login input[name=username]", user));
    ok(b.fill("form#login input[name=password]", password));
    ok(b.click("form#login button[type=submit]"));
}

/// Logs in through the page and waits for the dashboard.
fn login(b: &mut Browser, core: &Core) {
    ok(b.goto(&format!("{}/", core.url())));
    visible(b, "form#login");
    submit_login(b, OWNER, OWNER_PASSWORD);
    visible(b, "nav#nav");
    ok(b.wait_attr("#live", "data-state", "open", TIMEOUT));
}

/// The session cookie's value.
fn session(b: &mut Browser) -> String {
    let cookies = ok(b.cookies());
    let c = cookies
        .iter()
        .find(|c| c.name == "igloo_session")
        .unwrap_or_else(|| panic!("no session cookie: {cookies:?}"));
    assert!(c.http_only, "{c:?}");
    assert_eq!(c.same_site, "Strict", "{c:?}");
    c.value.clone()
}

/// `GET /api/v1/auth/me` with only this session cookie.
fn me_with_cookie(core: &Core, cookie: &str) -> u16 {
    core.anonymous_api()
        .request(
            "GET",
            "/api/v1/auth/me",
            &[("Cookie", &format!("igloo_session={cookie}"))],
            None,
        )
        .expect("me")
        .status
}

/// Nothing the page did was blocked by the CSP or threw.
fn assert_clean_console(b: &mut Browser) {
    let console = ok(b.console());
    let bad: Vec<_> = console
        .iter()
        .filter(|m| m.is_csp_violation() || m.kind == "pageerror")
        .collect();
    assert!(bad.is_empty(), "the page logged: {bad:?}");
}

#[test]
fn onboarding_then_login_and_logout_end_the_session() {
    let core = Core::start_with(
        CoreSettings {
            auth: AuthMode::Fresh,
            ..CoreSettings::default()
        },
        &providers_toml(&[ProviderSpec::test("good", "good")]),
    );
    let mut b = Browser::launch();
    ok(b.goto(&format!("{}/", core.url())));
    visible(&mut b, "form#onboarding");
    shot(&mut b, "onboarding");
    // A wrong code first: refused, with the server's reason.
    ok(b.fill("form#onboarding input[name=code]", "AAAA-BBBB-CCCC"));
    ok(b.fill("form#onboarding input[name=username]", OWNER));
    ok(b.fill("form#onboarding input[name=password]", OWNER_PASSWORD));
    ok(b.click("form#onboarding button[type=submit]"));
    ok(b.wait_text("#onboarding-error", "wrong setup code", TIMEOUT));
    let code = setup_code(&core.data_dir());
    ok(b.fill("form#onboarding input[name=code]", &code));
    ok(b.click("form#onboarding button[type=submit]"));
    visible(&mut b, "nav#nav");
    let first = session(&mut b);
    assert_eq!(
        me_with_cookie(&core, &first),
        200,
        "the onboarding's session"
    );

    ok(b.click("button#logout"));
    visible(&mut b, "form#login");
    assert_eq!(
        me_with_cookie(&core, &first),
        401,
        "logging out ends the session on the gateway, not only in the browser"
    );
    ok(b.fill("form#login input[name=username]", OWNER));
    shot(&mut b, "login");
    submit_login(&mut b, OWNER, OWNER_PASSWORD);
    visible(&mut b, "nav#nav");
    let second = session(&mut b);
    assert_ne!(first, second);
    assert_eq!(me_with_cookie(&core, &second), 200);
    assert_clean_console(&mut b);
}

#[test]
fn wrong_passwords_are_refused_then_rate_limited() {
    // Onboarded without a login, so that no attempt is counted before the page's.
    let core = Core::start_with(
        CoreSettings {
            auth: AuthMode::Fresh,
            ..CoreSettings::default()
        },
        &providers_toml(&[]),
    );
    let onboarded = core
        .anonymous_api()
        .request(
            "POST",
            "/api/v1/auth/onboarding",
            &[("Content-Type", "application/json")],
            Some(
                json!({"setup_code": setup_code(&core.data_dir()), "username": OWNER, "password": OWNER_PASSWORD})
                    .to_string()
                    .as_bytes(),
            ),
        )
        .expect("onboarding");
    assert_eq!(onboarded.status, 201, "{:?}", onboarded.body);
    let cookie = onboarded
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .and_then(|kv| kv.strip_prefix("igloo_session="))
        .expect("the onboarding's session cookie")
        .to_string();
    let mut b = Browser::launch();
    ok(b.goto(&format!("{}/", core.url())));
    visible(&mut b, "form#login");
    let mut refused = Vec::new();
    for attempt in 1..=10 {
        submit_login(&mut b, OWNER, &format!("not-the-password-{attempt}"));
        // The form is marked pending until the answer is shown.
        visible(&mut b, "form#login:not([data-pending])");
        let error = ok(b.text("#login-error"));
        assert!(!error.is_empty(), "attempt {attempt}: no error shown");
        refused.push(error.clone());
        if error.contains("too many attempts") {
            break;
        }
        assert!(
            error.contains("wrong user name or password"),
            "attempt {attempt}: {error:?}"
        );
    }
    // Five at once, then the limit (docs/security.md).
    assert_eq!(refused.len(), 6, "{refused:?}");
    shot(&mut b, "login-rate-limited");
    // The limit holds for the right password too, from this address...
    submit_login(&mut b, OWNER, OWNER_PASSWORD);
    visible(&mut b, "form#login:not([data-pending])");
    ok(b.wait_text("#login-error", "too many attempts", TIMEOUT));
    // ...and the baseline: the account itself is fine (the onboarding's session).
    assert_eq!(me_with_cookie(&core, &cookie), 200);
    assert_clean_console(&mut b);
}

/// A broker with the home's retained bridge messages, and a core with the MQTT provider.
struct Home {
    core: Core,
    broker: Mosquitto,
}

impl Home {
    fn start() -> Home {
        let broker = Mosquitto::start();
        broker.publish_str("zigbee2mqtt/bridge/state", r#"{"state":"online"}"#, true);
        broker.publish_str("zigbee2mqtt/bridge/devices", HOME, true);
        let names: Vec<String> = serde_json::from_str::<Vec<Value>>(HOME)
            .expect("fixture")
            .iter()
            .filter(|d| d["type"] != "Coordinator")
            .filter_map(|d| d["friendly_name"].as_str().map(str::to_string))
            .collect();
        for name in &names {
            broker.publish_str(
                &format!("zigbee2mqtt/{name}/availability"),
                r#"{"state":"online"}"#,
                true,
            );
        }
        let core = Core::start(&providers_toml(&[ProviderSpec::mqtt("mqtt", &broker)]));
        let home = Home { core, broker };
        let want = names.len();
        wait_for(TIMEOUT, "the home's devices", || {
            let n = home.api().try_devices()?.len();
            (n == want).then_some(()).ok_or(format!("{n} of {want}"))
        });
        home
    }

    fn api(&self) -> &Api {
        self.core.api()
    }

    fn id(&self, key: &str) -> u64 {
        self.api()
            .device_by_key(key)
            .unwrap_or_else(|| panic!("no device {key}"))
            .id
    }

    /// Publishes a device's state as the bridge does (not retained).
    fn state(&self, friendly_name: &str, payload: Value) {
        self.broker
            .publish_json(&format!("zigbee2mqtt/{friendly_name}"), &payload, false);
    }
}

#[test]
fn controls_publish_zigbee2mqtt_json_and_show_only_confirmed_live_state() {
    let home = Home::start();
    let (lamp, sensor) = (home.id(LAMP), home.id(SENSOR));
    home.state(
        "living_lamp",
        json!({"state": "OFF", "brightness": 254, "color_temp": 370}),
    );
    home.state(
        "bedroom_sensor",
        json!({"temperature": 20.5, "humidity": 40, "pressure": 1012.5, "battery": 91}),
    );
    home.state(
        "hall_ceiling",
        json!({"state": "ON", "brightness": 180, "color_temp": 300, "color": {"x": 0.6, "y": 0.35}}),
    );
    home.state(
        "living_blind",
        json!({"state": "OPEN", "position": 60, "battery": 87}),
    );
    home.state(
        "office_trv",
        json!({"child_lock": "LOCK", "current_heating_setpoint": 21, "local_temperature": 19.5, "system_mode": "heat"}),
    );
    home.state("front_door", json!({"contact": true, "battery": 100}));
    // Rooms, for the screenshot of devices by room.
    for (room, keys) in [
        ("Living room", vec![LAMP, "0x680ae2fffe5b6a7c"]),
        ("Bedroom", vec![SENSOR]),
    ] {
        let (status, r) = home
            .api()
            .post("/api/v1/rooms", &json!({"name": room}))
            .expect("room");
        assert_eq!(status, 201, "{r}");
        for key in keys {
            let path = format!("/api/v1/devices/{}", home.id(key));
            let (status, d) = home
                .api()
                .send_json("PATCH", &path, &json!({"room": r["id"]}))
                .expect("move");
            assert_eq!(status, 200, "{d}");
        }
    }
    let mut b = Browser::launch();
    login(&mut b, &home.core);
    let toggle = format!(
        r#"article.device[data-device="{lamp}"] [data-entity="Light"] button.toggle[data-component="Switch"]"#
    );
    ok(b.wait_attr(&toggle, "aria-pressed", "false", TIMEOUT));
    // A marker in the page: if the page reloaded, it would be gone.
    ok(b.eval("window.iglooTestMarker = 42"));

    let mut set = home.broker.subscribe(&["zigbee2mqtt/living_lamp/set"]);
    ok(b.click(&toggle));
    let msg = set.wait_message(TIMEOUT, "the toggle's /set", |m| {
        m.topic == "zigbee2mqtt/living_lamp/set"
    });
    assert_eq!(
        msg.json(),
        json!({"state": "ON"}),
        "payload {:?}",
        msg.payload
    );
    // Not confirmed yet: the page still shows off.
    assert_eq!(
        ok(b.attr(&toggle, "aria-pressed")).as_deref(),
        Some("false"),
        "the page showed the request as the state"
    );
    home.state("living_lamp", json!({"state": "ON", "brightness": 254}));
    ok(b.wait_attr(&toggle, "aria-pressed", "true", TIMEOUT));

    // The brightness slider: 50 % of Zigbee2MQTT's 0-254.
    let slider = format!(
        r#"article.device[data-device="{lamp}"] [data-entity="Light"] input[type=range][data-component="Brightness"]"#
    );
    ok(b.set_range(&slider, 50.0));
    let msg = set.wait_message(TIMEOUT, "the slider's /set", |m| {
        m.topic == "zigbee2mqtt/living_lamp/set" && m.json().get("brightness").is_some()
    });
    assert_eq!(
        msg.json(),
        json!({"brightness": 127}),
        "payload {:?}",
        msg.payload
    );

    // A sensor value published on the broker appears without a reload.
    let temperature = format!(
        r#"article.device[data-device="{sensor}"] [data-entity="Temperature"] [data-component="Temperature"]:not(.sparkline)"#
    );
    ok(b.wait_text(&temperature, "20.5", TIMEOUT));
    home.state(
        "bedroom_sensor",
        json!({"temperature": 23.4, "humidity": 41}),
    );
    let shown = ok(b.wait_text(&temperature, "23.4", TIMEOUT));
    assert!(shown.contains("°C"), "{shown:?}");
    assert_eq!(
        ok(b.eval("window.iglooTestMarker")),
        json!(42),
        "the page reloaded"
    );
    // Its sparkline: the point the core kept (GET /api/v1/history) and the live one.
    ok(b.wait_attr(
        &format!(
            r#"article.device[data-device="{sensor}"] [data-entity="Temperature"] svg.sparkline[data-component="Temperature"]"#
        ),
        "data-points",
        "2",
        TIMEOUT,
    ));

    // A lock changes only after a confirmation; cancelling sends nothing.
    let (trv, blind) = (home.id("0xa4c138f1e2d3c4b5"), home.id("0x680ae2fffe5b6a7c"));
    let mut trv_set = home.broker.subscribe(&["zigbee2mqtt/office_trv/set"]);
    let unlock = format!(
        r#"article.device[data-device="{trv}"] [data-entity="Child lock"] button[data-lock="Unlock"]"#
    );
    ok(b.click(&unlock));
    visible(&mut b, "dialog#confirm");
    ok(b.click("dialog#confirm button[value=cancel]"));
    ok(b.wait_selector("dialog#confirm", WaitState::Hidden, TIMEOUT));
    ok(b.click(&unlock));
    visible(&mut b, "dialog#confirm");
    ok(b.click("dialog#confirm button[value=ok]"));
    let msg = trv_set.wait_message(TIMEOUT, "the lock's /set", |_| true);
    assert_eq!(
        msg.json(),
        json!({"child_lock": "UNLOCK"}),
        "payload {:?}",
        msg.payload
    );
    assert_eq!(
        trv_set.seen().len(),
        1,
        "the cancelled confirmation sent something: {:?}",
        trv_set.seen()
    );
    // The climate mode and the cover's stop.
    ok(b.select(
        &format!(r#"article.device[data-device="{trv}"] [data-entity="Climate"] select[data-component="ClimateMode"]"#),
        "Auto",
    ));
    let msg = trv_set.wait_message(TIMEOUT, "the mode's /set", |m| {
        m.json().get("system_mode").is_some()
    });
    assert_eq!(
        msg.json(),
        json!({"system_mode": "auto"}),
        "payload {:?}",
        msg.payload
    );
    let mut blind_set = home.broker.subscribe(&["zigbee2mqtt/living_blind/set"]);
    ok(b.click(&format!(
        r#"article.device[data-device="{blind}"] [data-entity="Cover"] button[data-command="Stop"]"#
    )));
    let msg = blind_set.wait_message(TIMEOUT, "the cover's /set", |_| true);
    assert_eq!(
        msg.json(),
        json!({"state": "STOP"}),
        "payload {:?}",
        msg.payload
    );

    // Availability: the bridge says the sensor is offline.
    home.broker.publish_str(
        "zigbee2mqtt/bedroom_sensor/availability",
        r#"{"state":"offline"}"#,
        true,
    );
    ok(b.wait_attr(
        &format!(r#"article.device[data-device="{sensor}"] .availability"#),
        "data-available",
        "false",
        TIMEOUT,
    ));
    shot(&mut b, "devices");

    // The providers page: state and each sandbox layer.
    ok(b.click(r##"nav#nav a[href="#/providers"]"##));
    ok(b.wait_text(r#"tr[data-provider="mqtt"] td.state"#, "running", TIMEOUT));
    assert!(ok(b.count(r#"tr[data-provider="mqtt"] td.layer"#)) >= 3);
    shot(&mut b, "providers");
    ok(b.click(r##"nav#nav a[href="#/settings"]"##));
    visible(&mut b, "table#tokens");
    shot(&mut b, "settings");
    ok(b.click(r##"nav#nav a[href="#/system"]"##));
    visible(&mut b, "#ota");
    shot(&mut b, "system");
    assert_clean_console(&mut b);
}

#[test]
fn a_phone_sees_every_device_without_scrolling_sideways() {
    let home = Home::start();
    let mut b = Browser::launch_with(&BrowserOptions::default().viewport(390, 844));
    login(&mut b, &home.core);
    let n = home.api().devices().len();
    wait_for(TIMEOUT, "every device card", || {
        let shown = b_count(&mut b, "article.device");
        (shown == n).then_some(()).ok_or(format!("{shown} of {n}"))
    });
    let fits = ok(b.eval("document.documentElement.scrollWidth <= window.innerWidth"));
    assert_eq!(fits, json!(true), "the page is wider than the phone");
    shot(&mut b, "devices-phone");
    assert_clean_console(&mut b);
}

fn b_count(b: &mut Browser, selector: &str) -> usize {
    b.count(selector).unwrap_or(0)
}

#[test]
fn renaming_a_device_and_moving_it_to_a_room_survive_a_core_restart() {
    let mut core = Core::start(&providers_toml(&[ProviderSpec::test("good", "good")]));
    let device = core.api().wait_device_by_key("good-1");
    let id = device.id;
    let mut b = Browser::launch();
    login(&mut b, &core);
    ok(b.fill("form#add-room input[name=name]", "Living room"));
    ok(b.click("form#add-room button[type=submit]"));
    let room = wait_for(TIMEOUT, "the new room", || {
        let rooms: Vec<Value> = core.api().try_get_ok("/api/v1/rooms")?;
        rooms
            .iter()
            .find(|r| r["name"] == "Living room")
            .and_then(|r| r["id"].as_u64())
            .ok_or(format!("{rooms:?}"))
    });
    ok(b.click(&format!(
        r#"article.device[data-device="{id}"] button.edit-device"#
    )));
    visible(&mut b, "dialog#device-edit");
    // Removing from a network is for Zigbee devices (dashboard_zigbee.rs).
    ok(b.wait_selector(
        "dialog#device-edit button#device-edit-remove",
        WaitState::Hidden,
        TIMEOUT,
    ));
    ok(b.fill("dialog#device-edit input[name=name]", "Counter on the wall"));
    ok(b.select("dialog#device-edit select[name=room]", &room.to_string()));
    ok(b.click("dialog#device-edit button[value=save]"));
    let card = format!(
        r#"section.room[data-room="{room}"] article.device[data-device="{id}"] .device-name"#
    );
    ok(b.wait_text(&card, "Counter on the wall", TIMEOUT));
    let stored = core.api().device(id);
    assert_eq!(
        (stored.name.as_str(), stored.room),
        ("Counter on the wall", Some(room))
    );

    core.restart();
    // The session is kept by the gateway: a reload shows the page at once.
    ok(b.goto(&format!("{}/", core.url())));
    ok(b.wait_text(&card, "Counter on the wall", TIMEOUT));
    ok(b.wait_text(
        &format!(r#"section.room[data-room="{room}"] h2"#),
        "Living room",
        TIMEOUT,
    ));
    shot(&mut b, "rooms");
    assert_clean_console(&mut b);
}

#[test]
fn an_encrypted_esphome_device_added_in_the_page_appears_with_its_entities() {
    // A made-up API encryption key (32 bytes, base64), as in a device's YAML.
    const KEY: &str = "mK3pA9q1Zc8xV0tL5sR2yW7nB4hJ6dF1gE9uT3oI0aQ=";
    let mut fake = FakeDevice::start(
        FakeOptions::new("porch", "AA:BB:CC:DD:EE:42")
            .key(KEY)
            .all_entities(),
    );
    let core = Core::start(&providers_toml(&[ProviderSpec::esphome("esphome", &[])]));
    let mut b = Browser::launch();
    login(&mut b, &core);
    ok(b.click(r##"nav#nav a[href="#/providers"]"##));
    ok(b.wait_text(
        r#"tr[data-provider="esphome"] td.state"#,
        "running",
        TIMEOUT,
    ));
    ok(b.fill("form#esphome-add input[name=host]", "127.0.0.1"));
    ok(b.fill("form#esphome-add input[name=port]", &fake.port.to_string()));
    ok(b.fill("form#esphome-add input[name=key]", KEY));
    ok(b.click("form#esphome-add button[type=submit]"));
    ok(b.wait_text("#esphome-result", "Added 127.0.0.1", TIMEOUT));
    let device = core.api().wait_device_by_key("aa:bb:cc:dd:ee:42");
    ok(b.click(r##"nav#nav a[href="#/devices"]"##));
    ok(b.wait_text(
        &format!(
            r#"article.device[data-device="{}"] .device-name"#,
            device.id
        ),
        &device.name,
        TIMEOUT,
    ));
    assert!(
        !core.log_contains(&KEY[..20]),
        "the key typed in the page is in the core's log"
    );
    shot(&mut b, "esphome-added");

    // The thermostat's fan modes are a choice of the names it lists (its
    // `fan_modes`, the custom "Turbo" last); choosing one reaches the device
    // as its custom fan mode and comes back confirmed.
    let fan_mode = format!(
        r#"article.device[data-device="{}"] [data-entity="Thermostat"] select[data-component="ClimateFanMode"]"#,
        device.id
    );
    ok(b.wait_selector(&fan_mode, WaitState::Visible, TIMEOUT));
    let from = fake.events().len();
    ok(b.select(&fan_mode, "Turbo"));
    let cmd = fake.wait_message(from, "ClimateCommandRequest", TIMEOUT);
    assert_eq!(cmd["custom_fan_mode"], "Turbo", "{cmd}");
    core.api()
        .wait_device_where("aa:bb:cc:dd:ee:42", "the fan mode confirmed", |d| {
            d.has("Thermostat", "ClimateFanMode", &json!("Turbo"))
        });
    assert_clean_console(&mut b);
}
