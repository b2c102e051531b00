//! Nothing without a login (docs/security.md), against the real core with a
//! real HTTP client: onboarding once, logins and their rate limit, every
//! route of the route table refusing anonymous and too-weak requests, token
//! scopes and revocation, session cookies and cross-origin requests, body
//! limits, caps on connections and event streams, the local socket for root
//! only, and no secret in any log line.

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::time::Duration;

use igloo_tests::harness::auth::{login_token, setup_code};
use igloo_tests::harness::cli::{igloo_env, igloo_with_token};
use igloo_tests::harness::core::{OWNER, OWNER_PASSWORD};
use igloo_tests::{
    Api, AuthMode, Core, CoreSettings, EventStream, ProviderSpec, bin, providers_toml, run_config,
    wait_for,
};
use serde_json::{Value, json};

fn fresh_core() -> Core {
    Core::start_with(
        CoreSettings {
            auth: AuthMode::Fresh,
            ..CoreSettings::default()
        },
        &providers_toml(&[ProviderSpec::test("good", "good")]),
    )
}

/// A token with `scope`, made with the core's admin token.
fn token(core: &Core, name: &str, scope: &str) -> String {
    let (status, body) = core
        .api()
        .post(
            "/api/v1/auth/tokens",
            &json!({"name": name, "scope": scope}),
        )
        .expect("create a token");
    assert_eq!(status, 201, "{body}");
    body["token"].as_str().expect("token").to_string()
}

/// Every secret a test handled must be absent from the core's log.
fn assert_not_logged(core: &Core, secrets: &[&str]) {
    let log = core.log().text();
    assert!(!log.is_empty(), "the core logged nothing");
    for s in secrets {
        assert!(s.len() >= 8, "a secret to look for: {s:?}");
        assert!(!log.contains(s), "a secret is in the core's log: {s:?}");
    }
}

#[test]
fn a_fresh_gateway_serves_only_onboarding_and_onboards_its_owner_once() {
    let core = fresh_core();
    let anon = core.anonymous_api();
    // Anonymous: health says only "ok"; everything else needs credentials.
    let health = anon.health().expect("health");
    assert_eq!(health, json!({"status": "ok"}));
    assert_eq!(anon.get("/api/v1/devices").unwrap().0, 401);
    let needed = anon.get("/api/v1/auth/onboarding").unwrap();
    assert_eq!(needed, (200, json!({"needed": true})));
    // The setup code is in a root-only file, and never in the log.
    let code_file = core.data_dir().join("setup-code");
    let mode = std::fs::metadata(&code_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "setup-code mode {mode:o}");
    let code = setup_code(&core.data_dir());
    assert!(core.log_contains(&code_file.display().to_string()));

    let onboard = |code: &str, password: &str| {
        anon.post(
            "/api/v1/auth/onboarding",
            &json!({"setup_code": code, "username": OWNER, "password": password}),
        )
        .unwrap()
    };
    let wrong = onboard("AAAA-BBBB-CCCC", OWNER_PASSWORD);
    assert_eq!(wrong.0, 401, "{}", wrong.1);
    let short = onboard(&code, "short");
    assert_eq!(short.0, 422, "{}", short.1);
    // Typed in lower case with spaces: still the code.
    let ok = onboard(&code.to_lowercase().replace('-', " "), OWNER_PASSWORD);
    assert_eq!(ok.0, 201, "{}", ok.1);
    assert!(!code_file.exists(), "the used setup code is deleted");
    assert_eq!(
        anon.get("/api/v1/auth/onboarding").unwrap(),
        (200, json!({"needed": false}))
    );
    // Never again, not even with the right code.
    let again = onboard(&code, "another-password-1");
    assert_eq!(again.0, 409, "{}", again.1);
    // The owner logs in; after a restart too (the account is on the data dir).
    let t = login_token(&anon, "cli", "read");
    let api = anon.with_token(Some(&t));
    assert_eq!(api.get("/api/v1/devices").unwrap().0, 200);
    let full = api.health().expect("health with a token");
    assert!(
        full["version"].is_string() && full["providers"].is_object(),
        "{full}"
    );
    assert_not_logged(&core, &[&code, OWNER_PASSWORD, &t]);
}

#[test]
fn wrong_passwords_are_refused_then_rate_limited_per_address_and_shown_to_the_owner() {
    let core = fresh_core();
    let admin = igloo_tests::harness::auth::onboard(&core.anonymous_api(), &core.data_dir());
    let anon = core.anonymous_api();
    let login = |password: &str| {
        anon.request(
            "POST",
            "/api/v1/auth/login",
            &[("Content-Type", "application/json")],
            Some(
                json!({"username": OWNER, "password": password})
                    .to_string()
                    .as_bytes(),
            ),
        )
        .unwrap()
    };
    // The harness's onboarding used one attempt of the login quota already
    // (5 at once, then one every 20 s).
    let mut refused = Vec::new();
    for i in 0..4 {
        let r = login(&format!("wrong-password-{i}"));
        refused.push(r.status);
    }
    assert_eq!(refused, [401, 401, 401, 401], "wrong passwords are 401");
    let limited = login(OWNER_PASSWORD);
    assert_eq!(
        limited.status, 429,
        "over the quota, even the right password waits: {:?}",
        limited.body
    );
    let retry: u64 = limited
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("429 without Retry-After: {:?}", limited.headers));
    assert!((1..=20).contains(&retry), "Retry-After {retry}");
    // The owner sees where the failures came from.
    let owner = core.anonymous_api().with_token(Some(&admin));
    let (status, failures) = owner.get("/api/v1/auth/failures").unwrap();
    assert_eq!(status, 200);
    let local = failures
        .as_array()
        .and_then(|a| a.iter().find(|f| f["address"] == "127.0.0.1"))
        .unwrap_or_else(|| panic!("no failures for 127.0.0.1: {failures}"));
    assert_eq!(local["count"], 4, "{failures}");
    assert!(core.log_contains("failed login"));
    let doctor = igloo_with_token(core.url(), Some(&admin), &["doctor"]);
    doctor.assert_success();
    assert!(
        doctor.stdout.contains("failed logins")
            && doctor.stdout.contains("127.0.0.1")
            && doctor.stdout.contains("4 failed"),
        "{}",
        doctor.stdout
    );
    // After the wait the quota allows one more, and the right password works.
    std::thread::sleep(Duration::from_secs(retry));
    let ok = wait_for(Duration::from_secs(5), "the login quota to refill", || {
        let r = login(OWNER_PASSWORD);
        if r.status == 200 {
            Ok(r)
        } else {
            Err(format!("{} {}", r.status, r.body))
        }
    });
    let cookie = ok
        .header("set-cookie")
        .expect("a session cookie")
        .to_string();
    assert_not_logged(
        &core,
        &[
            OWNER_PASSWORD,
            "wrong-password-0",
            &admin,
            &session_value(&cookie),
        ],
    );
}

/// The value of `igloo_session=…` in a `Set-Cookie` header.
fn session_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.strip_prefix("igloo_session="))
        .unwrap_or_else(|| panic!("not a session cookie: {set_cookie}"))
        .to_string()
}

/// `path` with each `{param}` replaced by a value no object has.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                if seg == "{id}" {
                    "999999"
                } else {
                    "nothing-here"
                }
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn every_route_refuses_anonymous_and_too_weak_requests_and_admits_its_scope() {
    let core = Core::start(&providers_toml(&[ProviderSpec::test("good", "good")]));
    let (status, routes) = core.api().get("/api/v1/routes").unwrap();
    assert_eq!(status, 200, "{routes}");
    let routes = routes.as_array().expect("a list").clone();
    assert!(routes.len() >= 20, "{routes:?}");
    let tokens: Vec<(&str, String)> = ["read", "control", "admin"]
        .iter()
        .map(|s| (*s, token(&core, &format!("enumeration {s}"), s)))
        .collect();
    let rank = |s: &str| ["read", "control", "admin"].iter().position(|x| *x == s);
    // The only public routes, named: the dashboard's files (no data in them),
    // health (which says only "ok" to anonymous clients), onboarding, login.
    let mut public: Vec<String> = routes
        .iter()
        .filter(|r| r["access"]["kind"] == "public")
        .map(|r| {
            format!(
                "{} {}",
                r["method"].as_str().unwrap_or("?"),
                r["path"].as_str().unwrap_or("?")
            )
        })
        .collect();
    public.sort();
    assert_eq!(
        public,
        [
            "GET /",
            "GET /api/v1/auth/onboarding",
            "GET /api/v1/health",
            "GET /assets/{*file}",
            "POST /api/v1/auth/login",
            "POST /api/v1/auth/onboarding",
        ]
    );
    let anon = core.anonymous_api();
    let mut checked = 0;
    for r in &routes {
        let method = r["method"].as_str().expect("method");
        let path = concrete(r["path"].as_str().expect("path"));
        let send = |api: &Api| {
            let body = (method != "GET").then_some(b"{}".as_slice());
            api.request(method, &path, &[("Content-Type", "application/json")], body)
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let nobody = send(&anon);
        match r["access"]["kind"].as_str() {
            Some("public") => {
                assert_ne!(
                    nobody.status, 401,
                    "{method} {path} is public: {:?}",
                    nobody.body
                );
                assert_ne!(
                    nobody.status, 403,
                    "{method} {path} is public: {:?}",
                    nobody.body
                );
            }
            Some("scope") => {
                let need = r["access"]["scope"].as_str().expect("scope");
                assert_eq!(
                    nobody.status, 401,
                    "{method} {path} without credentials: {:?}",
                    nobody.body
                );
                assert!(
                    nobody.header("www-authenticate").is_some(),
                    "{method} {path}"
                );
                let forged = send(&anon.with_token(Some(
                    "igloo_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                )));
                assert_eq!(forged.status, 401, "{method} {path} with a forged token");
                for (scope, t) in &tokens {
                    let got = send(&anon.with_token(Some(t)));
                    if rank(scope) < rank(need) {
                        assert_eq!(
                            got.status, 403,
                            "{method} {path} with a {scope} token: {:?}",
                            got.body
                        );
                    } else {
                        // The baseline: the same request with enough scope gets past the check.
                        assert!(
                            got.status != 401 && got.status != 403,
                            "{method} {path} with a {scope} token: {} {:?}",
                            got.status,
                            got.body
                        );
                    }
                }
            }
            other => panic!("{method} {path}: unknown access {other:?}"),
        }
        checked += 1;
    }
    assert_eq!(checked, routes.len());
    // The SSE stream needs read: without credentials it is refused.
    let events = anon.request("GET", "/api/v1/events", &[], None).unwrap();
    assert_eq!(events.status, 401);
    let secrets: Vec<&str> = tokens.iter().map(|(_, t)| t.as_str()).collect();
    assert_not_logged(&core, &secrets);
}

#[test]
fn scopes_limit_tokens_and_a_revoked_token_is_refused() {
    let core = Core::start(&providers_toml(&[ProviderSpec::test("good", "good")]));
    let device = core.api().wait_device_by_key("good-1");
    let entity = device.entities.keys().next().expect("an entity").clone();
    let set_path = format!(
        "/api/v1/devices/{}/entities/{}",
        device.id,
        igloo_tests::harness::api::encode_segment(&entity)
    );
    let read = core
        .anonymous_api()
        .with_token(Some(&token(&core, "wall display", "read")));
    let control = core
        .anonymous_api()
        .with_token(Some(&token(&core, "automations", "control")));
    // read: sees, cannot change.
    assert_eq!(
        read.get(&format!("/api/v1/devices/{}", device.id))
            .unwrap()
            .0,
        200
    );
    assert_eq!(
        read.post(&set_path, &json!({"Switch": true})).unwrap().0,
        403
    );
    // control: changes devices, cannot restart providers or make tokens.
    let (status, body) = control.post(&set_path, &json!({"Switch": true})).unwrap();
    assert!(
        status == 202 || status == 409 || status == 400,
        "control may ask: {status} {body}"
    );
    assert_eq!(
        control
            .post("/api/v1/providers/good/restart", &json!({}))
            .unwrap()
            .0,
        403
    );
    assert_eq!(
        control
            .post(
                "/api/v1/auth/tokens",
                &json!({"name": "x", "scope": "admin"})
            )
            .unwrap()
            .0,
        403
    );
    // admin (the harness's token) restarts.
    assert_eq!(
        core.api()
            .post("/api/v1/providers/good/restart", &json!({}))
            .unwrap()
            .0,
        202
    );
    // Listed without secrets; revoked → refused.
    let (_, list) = core.api().get("/api/v1/auth/tokens").unwrap();
    let listed = list.to_string();
    assert!(listed.contains("wall display") && !listed.contains(read.token().unwrap()));
    let id = list
        .as_array()
        .and_then(|l| l.iter().find(|t| t["name"] == "wall display"))
        .and_then(|t| t["id"].as_str())
        .expect("the read token's id")
        .to_string();
    let revoke = core
        .api()
        .request("DELETE", &format!("/api/v1/auth/tokens/{id}"), &[], None)
        .unwrap();
    assert_eq!(revoke.status, 200, "{:?}", revoke.body);
    let after = read.get("/api/v1/devices").unwrap();
    assert_eq!(after.0, 401, "a revoked token: {}", after.1);
    // The CLI: tokens list, with the harness's admin token.
    let out = core.cli(&["tokens", "list"]);
    out.assert_success();
    assert!(out.stdout.contains("automations") && !out.stdout.contains("wall display"));
    let out = igloo_with_token(core.url(), read.token(), &["devices"]);
    assert!(!out.success() && out.stderr.contains("401"), "{out:?}");
    assert_not_logged(&core, &[read.token().unwrap(), control.token().unwrap()]);
}

#[test]
fn a_session_cookie_works_same_origin_only_and_ends_at_logout() {
    let core = Core::start(&providers_toml(&[]));
    let anon = core.anonymous_api();
    let login = anon
        .request(
            "POST",
            "/api/v1/auth/login",
            &[("Content-Type", "application/json")],
            Some(
                json!({"username": OWNER, "password": OWNER_PASSWORD})
                    .to_string()
                    .as_bytes(),
            ),
        )
        .unwrap();
    assert_eq!(login.status, 200, "{:?}", login.body);
    let set_cookie = login.header("set-cookie").expect("Set-Cookie").to_string();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(set_cookie.contains(attr), "{attr} missing: {set_cookie}");
    }
    let cookie = format!("igloo_session={}", session_value(&set_cookie));
    let host = core.url().trim_start_matches("http://").to_string();
    let origin = core.url().to_string();
    let me = anon
        .request("GET", "/api/v1/auth/me", &[("Cookie", &cookie)], None)
        .unwrap();
    assert_eq!(me.status, 200);
    assert_eq!(me.body["kind"], "session");
    assert_eq!(me.body["username"], OWNER);
    let make_token = |headers: &[(&str, &str)]| {
        let mut all = vec![
            ("Cookie", cookie.as_str()),
            ("Content-Type", "application/json"),
        ];
        all.extend_from_slice(headers);
        anon.request(
            "POST",
            "/api/v1/auth/tokens",
            &all,
            Some(br#"{"name": "from the browser", "scope": "read"}"#),
        )
        .unwrap()
    };
    // Cross-origin state changes with the cookie are refused.
    for headers in [
        vec![("Origin", "http://evil.example")],
        vec![("Sec-Fetch-Site", "cross-site")],
        vec![("Sec-Fetch-Site", "same-site"), ("Origin", origin.as_str())],
        vec![],
    ] {
        let r = make_token(&headers);
        assert_eq!(r.status, 403, "{headers:?}: {:?}", r.body);
    }
    // The baseline: the same request from the gateway's own page works.
    let same = make_token(&[("Origin", origin.as_str()), ("Host", host.as_str())]);
    assert_eq!(same.status, 201, "{:?}", same.body);
    let same = make_token(&[("Sec-Fetch-Site", "same-origin")]);
    assert_eq!(same.status, 201, "{:?}", same.body);
    // Logout ends the session; the cookie no longer works.
    let out = anon
        .request(
            "POST",
            "/api/v1/auth/logout",
            &[("Cookie", &cookie), ("Sec-Fetch-Site", "same-origin")],
            None,
        )
        .unwrap();
    assert_eq!(out.status, 200, "{:?}", out.body);
    assert_eq!(out.body["ended"], true);
    let after = anon
        .request("GET", "/api/v1/auth/me", &[("Cookie", &cookie)], None)
        .unwrap();
    assert_eq!(after.status, 401);
    assert_not_logged(&core, &[&session_value(&set_cookie), OWNER_PASSWORD]);
}

#[test]
fn bodies_connections_and_event_streams_are_capped_and_responses_carry_security_headers() {
    let core = Core::start(&providers_toml(&[]));
    let api = core.api();
    // A JSON body over the 64 KiB limit: 413, and the core carries on.
    let big = format!("{{\"Text\": \"{}\"}}", "x".repeat(100 << 10));
    let r = api
        .request(
            "POST",
            "/api/v1/devices/1/entities/x",
            &[("Content-Type", "application/json")],
            Some(big.as_bytes()),
        )
        .unwrap();
    assert_eq!(r.status, 413, "{:?}", r.body);
    // Security headers on every answer, errors included.
    for path in ["/api/v1/health", "/api/v1/devices", "/api/v1/nothing"] {
        let r = core
            .anonymous_api()
            .request("GET", path, &[], None)
            .unwrap();
        let csp = r
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"));
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
    // Event streams: 8 per client address; the 9th is 429 until one closes.
    let mut streams: Vec<EventStream> = (0..8).map(|_| core.events()).collect();
    let ninth = api.request("GET", "/api/v1/events", &[], None).unwrap();
    assert_eq!(ninth.status, 429, "{:?}", ninth.body);
    drop(streams.pop());
    wait_for(Duration::from_secs(5), "a freed event-stream place", || {
        let r = api.request(
            "GET",
            "/api/v1/events?probe=1",
            &[("Connection", "close")],
            None,
        );
        match r {
            Ok(r) if r.status == 429 => Err("still full".to_string()),
            Ok(_) => Ok(()),
            Err(e) if e.contains("timed out") || e.contains("Timeout") => Ok(()),
            Err(e) => Err(e),
        }
    });
    drop(streams);
    // Connections: 64 per client address; the 65th is closed at once. They
    // come from 127.0.0.2, an address with no connection yet: the core may
    // not have seen the streams above close when these open (CI once had
    // one of the 64 refused for them, and the 65th accepted).
    let addr: SocketAddrV4 = core
        .url()
        .trim_start_matches("http://")
        .parse()
        .expect("the API's address");
    let client = Ipv4Addr::new(127, 0, 0, 2);
    let held: Vec<TcpStream> = (0..64)
        .map(|_| connect_from(client, addr).expect("connect"))
        .collect();
    wait_for(
        Duration::from_secs(5),
        "the 65th connection to be closed by the core",
        || {
            let mut extra = connect_from(client, addr).map_err(|e| e.to_string())?;
            extra
                .set_read_timeout(Some(Duration::from_secs(2)))
                .map_err(|e| e.to_string())?;
            let mut buf = [0u8; 1];
            match extra.read(&mut buf) {
                Ok(0) => Ok(()),
                other => Err(format!("not closed: {other:?}")),
            }
        },
    );
    drop(held);
    // The baseline: with the idle connections gone, requests are served again.
    wait_for(
        Duration::from_secs(5),
        "the API after the connections closed",
        || api.try_devices().map(|_| ()),
    );
    core.wait_log(
        Duration::from_secs(5),
        &[
            "too many open connections from this address",
            "client=127.0.0.2",
        ],
    );
}

/// A TCP connection to `to` from the local address `from` (any 127.x.y.z
/// is this machine's loopback), so the core counts it for that address.
fn connect_from(from: Ipv4Addr, to: SocketAddrV4) -> nix::Result<TcpStream> {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, SockaddrIn, bind, connect, socket};
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    bind(
        fd.as_raw_fd(),
        &SockaddrIn::from(SocketAddrV4::new(from, 0)),
    )?;
    connect(fd.as_raw_fd(), &SockaddrIn::from(to))?;
    Ok(TcpStream::from(fd))
}

#[test]
fn root_on_the_gateway_uses_the_local_socket_without_a_token_and_other_users_are_refused() {
    let core = Core::start(&providers_toml(&[ProviderSpec::test("good", "good")]));
    let sock = core.local_socket().to_path_buf();
    let mode = std::fs::metadata(&sock)
        .expect("the local socket")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "socket mode {mode:o}");
    let sock_env = sock.to_string_lossy().to_string();
    let local = |args: &[&str]| igloo_env(args, &[("IGLOO_SOCKET", &sock_env)]);
    // No --api, no token: the CLI uses the socket, as root.
    let out = local(&["providers", "--json"]);
    out.assert_success();
    assert!(out.stdout.contains("\"good\""), "{}", out.stdout);
    let me = local(&["--json", "routes"]);
    me.assert_success();
    // Recovery: root sets a new owner password without the old one.
    let new_password = "recovered-password-42";
    let out = std::process::Command::new(bin("igloo"))
        .args(["owner", "reset-password"])
        .env("IGLOO_SOCKET", &sock_env)
        .env_remove("IGLOO_TOKEN")
        .env_remove("IGLOO_API")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .expect("stdin")
                .write_all(format!("{new_password}\n").as_bytes())?;
            c.wait_with_output()
        })
        .expect("igloo owner reset-password");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let login = |password: &str| {
        core.anonymous_api()
            .post(
                "/api/v1/auth/login",
                &json!({"username": OWNER, "password": password}),
            )
            .unwrap()
            .0
    };
    assert_eq!(login(OWNER_PASSWORD), 401, "the old password is gone");
    assert_eq!(login(new_password), 200);
    // Another uid on the socket is refused by SO_PEERCRED even when the
    // socket's mode would let it connect.
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o666)).unwrap();
    let nobody = std::process::Command::new(bin("igloo"))
        .args(["providers"])
        .env("IGLOO_SOCKET", &sock_env)
        .env_remove("IGLOO_TOKEN")
        .env_remove("IGLOO_API")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .uid(65534)
        .gid(65534)
        .output()
        .expect("igloo as nobody");
    let stderr = String::from_utf8_lossy(&nobody.stderr);
    assert!(
        !nobody.status.success(),
        "nobody was let in: {}",
        String::from_utf8_lossy(&nobody.stdout)
    );
    assert!(
        stderr.contains("only root may use the local socket (peer uid 65534)"),
        "{stderr}"
    );
    assert_not_logged(&core, &[new_password]);
}

#[test]
fn authentication_can_be_off_only_on_loopback() {
    let refused = run_config(
        "[core]\napi_listen = \"0.0.0.0:0\"\ndata_dir = \"data\"\n\n[auth]\nenabled = false\n",
    );
    assert_ne!(refused.code, Some(0));
    assert!(
        refused.output.contains("igloo.toml:6")
            && refused.output.contains("enabled = false is refused"),
        "{}",
        refused.output
    );
    // The baseline: on loopback it is accepted, and the API is open.
    let core = Core::start_with(
        CoreSettings {
            extra_toml: "[auth]\nenabled = false\n".into(),
            auth: AuthMode::Fresh,
            ..CoreSettings::default()
        },
        &providers_toml(&[]),
    );
    let (status, body) = core.anonymous_api().get("/api/v1/auth/me").unwrap();
    assert_eq!(
        (status, &body["kind"]),
        (200, &Value::from("open")),
        "{body}"
    );
}

#[test]
fn the_bridge_account_on_the_gateways_broker_is_shown_to_admin_only() {
    let core = Core::start(&providers_toml(&[]));
    // Without the secret the image makes on first boot: a clear 404.
    let (status, body) = core.api().get("/api/v1/mqtt/credentials").unwrap();
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .contains("mqtt-zigbee2mqtt"),
        "{body}"
    );
    let secrets = core.data_dir().join("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    let password = "bridge-password-from-first-boot";
    std::fs::write(secrets.join("mqtt-zigbee2mqtt"), format!("{password}\n")).unwrap();
    let out = core.cli(&["mqtt", "credentials"]);
    out.assert_success();
    assert!(out.stdout.contains("user: zigbee2mqtt"), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!("password: {password}\n")),
        "{}",
        out.stdout
    );
    // The account of the LAN's other MQTT devices, likewise; an unknown
    // account is a clear 400.
    let devices_password = "devices-password-from-first-boot";
    std::fs::write(
        secrets.join("mqtt-devices"),
        format!("{devices_password}\n"),
    )
    .unwrap();
    let out = core.cli(&["mqtt", "credentials", "--devices"]);
    out.assert_success();
    assert!(out.stdout.contains("user: devices\n"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains(&format!("password: {devices_password}\n")),
        "{}",
        out.stdout
    );
    // Home Assistant's account (discovery out), likewise.
    let ha_password = "homeassistant-password-from-first-boot";
    std::fs::write(
        secrets.join("mqtt-homeassistant"),
        format!("{ha_password}\n"),
    )
    .unwrap();
    let out = core.cli(&["mqtt", "credentials", "--homeassistant"]);
    out.assert_success();
    assert!(
        out.stdout.contains("username: homeassistant\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("password: {ha_password}\n")),
        "{}",
        out.stdout
    );
    let (status, body) = core
        .api()
        .get("/api/v1/mqtt/credentials?account=igloo-mqtt")
        .unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(!body.to_string().contains(password), "{body}");
    // read and control tokens do not see them.
    for scope in ["read", "control"] {
        let t = token(&core, &format!("{scope} token"), scope);
        let (status, body) = core
            .anonymous_api()
            .with_token(Some(&t))
            .get("/api/v1/mqtt/credentials")
            .unwrap();
        assert_eq!(status, 403, "{scope}: {body}");
        assert!(!body.to_string().contains(password));
        let (status, body) = core
            .anonymous_api()
            .with_token(Some(&t))
            .get("/api/v1/mqtt/credentials?account=devices")
            .unwrap();
        assert_eq!(status, 403, "{scope}: {body}");
        assert!(!body.to_string().contains(devices_password));
        let (status, body) = core
            .anonymous_api()
            .with_token(Some(&t))
            .get("/api/v1/mqtt/credentials?account=homeassistant")
            .unwrap();
        assert_eq!(status, 403, "{scope}: {body}");
        assert!(!body.to_string().contains(ha_password));
    }
    assert_not_logged(&core, &[password, devices_password, ha_password]);
}
