//! The dashboard's Wi-Fi panel (#/system, docs/dashboard.md) in a real
//! browser (Debian's Chromium through `tests/browser/driver.py`) against the
//! real core with `[wifi] config` in a temporary directory: the owner sets
//! the network and the file on disk is the agreed one (0600, the IEEE
//! 802.11i key); a password the core refuses is shown at its field and
//! changes nothing; forgetting removes the file; the password stays out of
//! the page and its storage; a core without `[wifi]` says Wi-Fi is not
//! managed and shows no form. A screenshot goes to
//! `target/test-artifacts/screenshots/wifi.png`.

use std::os::unix::fs::PermissionsExt;

use igloo_tests::harness::browser::{Browser, WaitState};
use igloo_tests::harness::core::{OWNER, OWNER_PASSWORD};
use igloo_tests::harness::wifi::WifiGateway;
use igloo_tests::{Core, CoreSettings, TIMEOUT};
use serde_json::json;

/// The key of passphrase "password" on SSID "IEEE" (IEEE 802.11i-2004 H.4.2).
const IEEE_PSK: &str = "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e";
/// A password one character too short (IEEE 802.11i: 8 to 63).
const SHORT: &str = "short12";
const SSID_FACT: &str = r#"#wifi-facts dd[data-field="ssid"]"#;

fn ok<T>(r: Result<T, String>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn visible(b: &mut Browser, selector: &str) {
    ok(b.wait_selector(selector, WaitState::Visible, TIMEOUT));
}

/// Logs in as the owner and opens the system page.
fn open_system_page(b: &mut Browser, core: &Core) {
    ok(b.goto(&format!("{}/", core.url())));
    visible(b, "form#login");
    ok(b.fill("form#login input[name=username]", OWNER));
    ok(b.fill("form#login input[name=password]", OWNER_PASSWORD));
    ok(b.click("form#login button[type=submit]"));
    visible(b, "nav#nav");
    ok(b.click(r##"nav#nav a[href="#/system"]"##));
    visible(b, "section#wifi");
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

/// Fills and sends the Wi-Fi form.
fn set_network(b: &mut Browser, ssid: &str, password: &str, country: &str) {
    ok(b.fill("form#wifi-set input[name=ssid]", ssid));
    ok(b.fill("form#wifi-set input[name=password]", password));
    ok(b.fill("form#wifi-set input[name=country]", country));
    ok(b.click("form#wifi-set button[type=submit]"));
}

/// The password field is empty and neither storage holds anything.
fn assert_no_password_kept(b: &mut Browser) {
    let kept = ok(b.eval(
        "({field: document.querySelector('form#wifi-set input[name=password]').value, \
          local: localStorage.length, session: sessionStorage.length})",
    ));
    assert_eq!(kept, json!({"field": "", "local": 0, "session": 0}));
}

#[test]
fn the_owner_sets_and_forgets_the_wifi_network_in_the_page() {
    let gw = WifiGateway::start();
    let mut b = Browser::launch();
    open_system_page(&mut b, &gw.core);
    ok(b.wait_text(SSID_FACT, "Not configured", TIMEOUT));
    assert_eq!(
        ok(b.attr("form#wifi-set input[name=password]", "autocomplete")).as_deref(),
        Some("new-password")
    );
    assert_eq!(ok(b.count("button#wifi-forget:visible")), 0);

    set_network(&mut b, "IEEE", "password", "nl");
    ok(b.wait_text(SSID_FACT, "IEEE", TIMEOUT));
    ok(b.wait_text(r#"#wifi-facts dd[data-field="country"]"#, "NL", TIMEOUT));
    ok(b.wait_text(
        r#"#wifi-facts dd[data-field="security"]"#,
        "WPA-PSK",
        TIMEOUT,
    ));
    // No wpa_supplicant runs here: the page says the start script picks it up.
    ok(b.wait_text("#wifi-result", "within 10 s", TIMEOUT));
    let text = gw.read_config();
    assert!(text.contains(&format!("\tpsk={IEEE_PSK}\n")), "{text}");
    assert!(text.contains("\ncountry=NL\n"), "{text}");
    let mode = std::fs::metadata(gw.config())
        .unwrap_or_else(|e| panic!("{e}"))
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    assert_no_password_kept(&mut b);
    assert_eq!(
        ok(b.attr("form#wifi-set input[name=country]", "aria-invalid")),
        None
    );
    visible(&mut b, "button#wifi-forget");
    // The whole page, from the top (the sticky header is drawn where it is scrolled to).
    ok(b.eval("window.scrollTo(0, 0)"));
    ok(b.screenshot("wifi"));

    // Seven characters: the core's 422 is shown at the password field, and
    // the file is the one written before.
    set_network(&mut b, "IEEE", SHORT, "NL");
    let error = ok(b.wait_text("#wifi-password-error", "8 to 63 characters", TIMEOUT));
    assert!(!error.contains(SHORT), "{error}");
    assert_eq!(
        ok(b.attr("form#wifi-set input[name=password]", "aria-invalid")).as_deref(),
        Some("true")
    );
    assert_eq!(
        gw.read_config(),
        text,
        "a refused password changed the file"
    );
    assert_no_password_kept(&mut b);
    let html = ok(b.eval("document.documentElement.outerHTML"));
    assert!(
        !html.as_str().unwrap_or_default().contains(SHORT),
        "the password is in the page"
    );
    // Typing nothing is not taken for an open network.
    ok(b.fill("form#wifi-set input[name=password]", ""));
    ok(b.click("form#wifi-set button[type=submit]"));
    ok(b.wait_text("#wifi-password-error", "Open network", TIMEOUT));
    assert_eq!(gw.read_config(), text);

    // Forget: nothing happens until the dialog is confirmed.
    ok(b.click("button#wifi-forget"));
    visible(&mut b, "dialog#confirm");
    ok(b.click("dialog#confirm button[value=cancel]"));
    ok(b.wait_selector("dialog#confirm", WaitState::Hidden, TIMEOUT));
    assert!(gw.config().exists(), "a cancelled forget removed the file");
    ok(b.click("button#wifi-forget"));
    visible(&mut b, "dialog#confirm");
    ok(b.click("dialog#confirm button[value=ok]"));
    ok(b.wait_text("#wifi-result", "Forgotten", TIMEOUT));
    ok(b.wait_text(SSID_FACT, "Not configured", TIMEOUT));
    assert!(!gw.config().exists(), "the file is still there");
    ok(b.wait_selector("button#wifi-forget", WaitState::Hidden, TIMEOUT));

    let console = ok(b.console());
    assert!(
        !console.iter().any(|m| m.text.contains(SHORT)),
        "the password is in the console: {console:?}"
    );
    assert_clean_console(&mut b);
}

#[test]
fn a_file_igloo_did_not_write_is_shown_and_replaced_only_when_ticked() {
    let gw = WifiGateway::start();
    let theirs = "network={\n\tssid=\"Home\"\n\tpsk=\"hunter2hunter2\"\n}\n";
    let dir = gw.config();
    let dir = dir.parent().unwrap_or_else(|| panic!("no parent"));
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(gw.config(), theirs).unwrap_or_else(|e| panic!("{e}"));
    let mut b = Browser::launch();
    open_system_page(&mut b, &gw.core);
    ok(b.wait_text(SSID_FACT, "Home", TIMEOUT));
    ok(b.wait_text("#wifi-file-problem", "not written by Igloo", TIMEOUT));

    // Without the tick: the core's 409 under the form, the file as it was.
    set_network(&mut b, "IEEE", "password", "NL");
    ok(b.wait_text("#wifi-error", "was not written by igloo", TIMEOUT));
    assert_eq!(gw.read_config(), theirs);
    // With it: replaced.
    ok(b.click("form#wifi-set input[name=force]"));
    set_network(&mut b, "IEEE", "password", "NL");
    ok(b.wait_text(SSID_FACT, "IEEE", TIMEOUT));
    assert!(gw.read_config().contains(IEEE_PSK));
    ok(b.wait_selector("#wifi-file-problem", WaitState::Detached, TIMEOUT));
    assert_clean_console(&mut b);
}

#[test]
fn a_core_without_wifi_says_it_does_not_manage_it_and_shows_no_form() {
    let core = Core::start_with(CoreSettings::default(), "");
    let mut b = Browser::launch();
    open_system_page(&mut b, &core);
    ok(b.wait_text("#wifi-unmanaged", "not managed by this gateway", TIMEOUT));
    assert_eq!(ok(b.count("form#wifi-set")), 0);
    // A credential without the admin scope (a read or control token; the
    // page's own sessions are the owner's) is told why instead of asking.
    let shown = ok(b.eval(
        "import('/assets/js/views/wifi.js').then((m) => m.wifiSection({scope: 'control'}).textContent)",
    ));
    assert!(
        shown
            .as_str()
            .unwrap_or_default()
            .contains("Only the owner"),
        "{shown}"
    );
    assert_clean_console(&mut b);
}
