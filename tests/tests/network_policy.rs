//! Network policies (issue 3, DESIGN §7) inside a network namespace made by
//! the test: the whole core runs there, with LAN (192.0.2.0/24,
//! 2001:db8:1::/48) and "WAN" (203.0.113.0/24, 2001:db8:2::/48) documentation
//! addresses on a local interface, so nothing is sent anywhere else and the
//! host's own ruleset is never touched. A `lan` provider reaches LAN
//! listeners and is refused towards WAN over IPv4, IPv6, UDP, TCP Fast Open
//! and MPTCP; a `none` provider has no network at all; the same binary
//! unconfined reaches everything (the baseline). Needs root.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, UdpSocket};

use igloo_tests::harness::bins::bin;
use igloo_tests::harness::core::{Core, CoreSettings, ProviderSpec, providers_toml};
use igloo_tests::harness::netns::{LAN_PREFIXES, LAN_V4, LAN_V6, NetNs, WAN_V4, WAN_V6};
use igloo_tests::harness::privileged::require_root;
use igloo_tests::harness::wait::TIMEOUT;
use serde_json::{Value, json};

fn checks(core: &Core, name: &str, list: &[&str], args: &Value) -> BTreeMap<String, Value> {
    let (status, reply) = core
        .api()
        .command(name, "check", &json!({"checks": list, "args": args}));
    assert_eq!(status, 200, "{reply}");
    reply["body"]["results"]
        .as_object()
        .unwrap_or_else(|| panic!("{reply}"))
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn listen_tcp(addr: SocketAddr) -> TcpListener {
    TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"))
}

#[test]
fn lan_provider_reaches_lan_only_and_none_provider_nothing() {
    if !require_root("lan_provider_reaches_lan_only_and_none_provider_nothing") {
        return;
    }
    let ns = NetNs::create("policy").expect("network namespace");
    // This test thread (and the core it starts) live in the namespace from here on.
    ns.enter_current_thread().expect("setns");
    let lan4 = listen_tcp(SocketAddr::new(LAN_V4.into(), 0));
    let lan6 = listen_tcp(SocketAddr::new(LAN_V6.into(), 0));
    let wan4 = listen_tcp(SocketAddr::new(WAN_V4.into(), 0));
    let wan6 = listen_tcp(SocketAddr::new(WAN_V6.into(), 0));
    let udp4 = UdpSocket::bind(SocketAddr::new(WAN_V4.into(), 0)).expect("udp4");
    let udp6 = UdpSocket::bind(SocketAddr::new(WAN_V6.into(), 0)).expect("udp6");
    let addr = |l: &TcpListener| l.local_addr().expect("addr").to_string();
    let args = json!({
        "lan_tcp4": addr(&lan4),
        "lan_tcp6": addr(&lan6),
        "wan_tcp4": addr(&wan4),
        "wan_tcp6": addr(&wan6),
        "wan_udp4": udp4.local_addr().expect("addr").to_string(),
        "wan_udp6": udp6.local_addr().expect("addr").to_string(),
    });
    let prefixes: Vec<String> = LAN_PREFIXES.iter().map(|p| format!("\"{p}\"")).collect();
    let settings = CoreSettings {
        extra_core: format!("lan_prefixes = [{}]\n", prefixes.join(", ")),
        ..CoreSettings::default()
    };
    let hostile = |name: &str| ProviderSpec::new(name, bin("igloo-hostile"));
    let mut core = Core::start_with(
        settings,
        &providers_toml(&[
            hostile("lan").network("lan"),
            hostile("isolated").network("none"),
            hostile("baseline").unconfined(),
        ]),
    );
    for p in ["lan", "isolated", "baseline"] {
        core.wait_provider_running(p, TIMEOUT);
    }
    let table = core
        .config_path()
        .parent()
        .and_then(|_| std::fs::read_to_string(core.config_path()).ok())
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("nft_table = ")
                    .map(|v| v.trim_matches('"').to_string())
            })
        })
        .expect("the harness names the table");
    let ruleset = ns.nft_list();
    assert!(
        ruleset.contains(&format!("table inet {table}")),
        "{ruleset}"
    );

    let all = [
        "lan_tcp4",
        "lan_tcp6",
        "wan_tcp4",
        "wan_tcp6",
        "wan_udp4",
        "wan_udp6",
        "wan_tfo",
        "wan_mptcp",
    ];
    let lan = checks(&core, "lan", &all, &args);
    let base = checks(&core, "baseline", &all, &args);
    for c in all {
        assert_eq!(
            base[c]["ok"],
            json!(true),
            "baseline {c} must reach its listener: {}",
            base[c]
        );
    }
    for c in ["lan_tcp4", "lan_tcp6"] {
        assert_eq!(lan[c]["ok"], json!(true), "{c}: {}", lan[c]);
    }
    let expect = |c: &str, errors: &[&str]| {
        assert_eq!(
            lan[c]["ok"],
            json!(false),
            "{c} must be refused: {}",
            lan[c]
        );
        let e = lan[c]["error"].as_str().unwrap_or_default();
        assert!(
            errors.contains(&e),
            "{c}: {e}, expected {errors:?}: {}",
            lan[c]
        );
    };
    // nftables: TCP gets a reset (ECONNREFUSED at once), UDP is dropped (EPERM).
    expect("wan_tcp4", &["ECONNREFUSED"]);
    expect("wan_tcp6", &["ECONNREFUSED"]);
    expect("wan_udp4", &["EPERM"]);
    expect("wan_udp6", &["EPERM"]);
    // seccomp: the two ways around Landlock's port rules.
    expect("wan_tfo", &["EPERM"]);
    expect("wan_mptcp", &["EPERM"]);

    let isolated = checks(&core, "isolated", &["lan_tcp4", "wan_tcp6"], &args);
    for c in ["lan_tcp4", "wan_tcp6"] {
        assert_eq!(isolated[c]["ok"], json!(false), "{c}: {}", isolated[c]);
        // An empty namespace: no route (IPv4), no usable source address (IPv6).
        let e = isolated[c]["error"].as_str().unwrap_or_default();
        assert!(
            ["ENETUNREACH", "EADDRNOTAVAIL"].contains(&e),
            "{c}: {}",
            isolated[c]
        );
    }

    // The core removes its table when it stops, and only its table.
    core.stop();
    let after = ns.nft_list();
    assert!(!after.contains(&format!("table inet {table}")), "{after}");
}
