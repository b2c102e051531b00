//! The browser driver (`tests/browser/driver.py` through
//! `harness::browser`) against a real core: Debian's chromium opens the
//! core's pages under the core's own Content-Security-Policy, runs
//! JavaScript through DevTools, logs in from the page and keeps the session
//! cookie, and saves a screenshot.

use std::time::Duration;

use igloo_tests::harness::browser::Browser;
use igloo_tests::harness::core::{OWNER, OWNER_PASSWORD};
use igloo_tests::{Core, providers_toml};
use serde_json::{Value, json};

/// The JSON body chromium shows for a JSON response.
fn json_body(browser: &mut Browser) -> Value {
    let text = browser.text("body").expect("the page's text");
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"))
}

#[test]
fn chromium_reads_a_real_core_and_logs_in_with_its_session_cookie() {
    let core = Core::start(&providers_toml(&[]));
    let mut browser = Browser::launch();
    let version = browser.version().to_string();
    let major = version.split('.').next().unwrap_or_default();
    assert!(
        major.parse::<u32>().is_ok(),
        "chromium reports version {version:?}"
    );
    eprintln!("chromium {version}");

    // The public health page, under the core's CSP (no inline script, no eval).
    let health = browser
        .goto(&format!("{}/api/v1/health", core.url()))
        .expect("open the health page");
    assert_eq!(health.status, Some(200), "{health:?}");
    assert_eq!(json_body(&mut browser), json!({"status": "ok"}));
    assert_eq!(browser.count("body").expect("count"), 1);
    // DevTools evaluation is not bound by the page's CSP.
    assert_eq!(
        browser.eval("document.contentType").expect("eval"),
        json!("application/json")
    );

    // Baseline: without a session the core refuses, and there is no cookie.
    let me_url = format!("{}/api/v1/auth/me", core.url());
    let anonymous = browser.goto(&me_url).expect("open /auth/me");
    assert_eq!(anonymous.status, Some(401), "{anonymous:?}");
    // A wait that cannot succeed says what it waited for and what it saw.
    let refused = browser
        .wait_text("body", "username", Duration::from_millis(300))
        .expect_err("no user without a session");
    assert!(
        refused.contains("'body'")
            && refused.contains("'username'")
            && refused.contains("authentication required"),
        "{refused}"
    );
    assert_eq!(browser.cookies().expect("cookies"), Vec::new());

    // Log in from the page itself, as the dashboard will (same origin).
    let credentials = json!({"username": OWNER, "password": OWNER_PASSWORD});
    let login = format!(
        "fetch('/api/v1/auth/login', {{method: 'POST', headers: {{'Content-Type': \
         'application/json'}}, body: JSON.stringify({credentials})}}).then((r) => r.status)"
    );
    assert_eq!(browser.eval(&login).expect("log in"), json!(200));
    let cookies = browser.cookies().expect("cookies");
    let session = cookies
        .iter()
        .find(|c| c.name == "igloo_session")
        .unwrap_or_else(|| panic!("no session cookie after the login: {cookies:?}"));
    assert!(session.http_only, "{session:?}");
    assert_eq!(session.same_site, "Strict", "{session:?}");
    assert_eq!(session.domain, "127.0.0.1", "{session:?}");
    // HttpOnly: the page's scripts never see it.
    assert_eq!(browser.eval("document.cookie").expect("eval"), json!(""));

    // The same page now answers for the owner's session.
    let me = browser.goto(&me_url).expect("open /auth/me again");
    assert_eq!(me.status, Some(200), "{me:?}");
    let who = json_body(&mut browser);
    assert_eq!(who["kind"], "session", "{who}");
    assert_eq!(who["username"], OWNER, "{who}");

    let shot = browser
        .screenshot("browser_driver-auth-me")
        .expect("screenshot");
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{}: {e}", shot.display()));
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 100,
        "{} is not a PNG ({} bytes)",
        shot.display(),
        png.len()
    );

    // What the pages logged: chromium's line for the 401 above, never a CSP
    // violation.
    let console = browser.console().expect("console");
    assert!(
        console.iter().any(|m| m.is_error()
            && m.text.contains("401")
            && m.location
                .as_deref()
                .is_some_and(|l| l.contains("/api/v1/auth/me"))),
        "no console error for the 401: {console:?}"
    );
    assert!(
        !console.iter().any(|m| m.is_csp_violation()),
        "the core's pages broke their own CSP: {console:?}"
    );
    browser.close().expect("close chromium");
}
