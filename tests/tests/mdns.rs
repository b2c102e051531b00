//! The gateway found as `<hostname>.local` (`[mdns]`, docs/configuration.md):
//! the real core announces itself over mDNS on a LAN of two network
//! namespaces, and python-zeroconf (another mDNS implementation, as a phone
//! or a desktop on the LAN) browses for it from the other host.
//!
//! - `_igloo._tcp`, `_http._tcp` and `_mqtt._tcp` resolve to the core's
//!   host name, its API port and the configured broker port, with the
//!   version in TXT, at the namespace's LAN address; when the core stops,
//!   its goodbye packets remove them;
//! - a second gateway with the same name (on another host of the LAN)
//!   becomes `<name>-2.local` and `<name> (2)`, and logs it; the first keeps
//!   its name.

use std::cell::RefCell;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use igloo_tests::harness::fake::{fakes_dir, python};
use igloo_tests::harness::netns::{INTERFACE, LAN_V4, NetNs, enter_path};
use igloo_tests::harness::privileged::require_root;
use igloo_tests::{Core, CoreSettings};
use serde_json::Value;

/// How long one mDNS exchange may take (probing is ~750 ms, RFC 6762 §8.1).
const MDNS_WAIT: Duration = Duration::from_secs(20);

/// `tests/fakes/mdns_peer.py` as a child; its stdout lines on a channel.
struct Peer {
    child: Child,
    lines: mpsc::Receiver<String>,
    backlog: RefCell<Vec<String>>,
}

impl Peer {
    /// Runs `mdns_peer.py ARGS` on `host`.
    fn start(host: &PeerHost, args: &[&str]) -> Peer {
        let mut child = Command::new("nsenter")
            .arg(format!("--net=/run/netns/{}", host.name))
            .arg(python())
            .arg(fakes_dir().join("mdns_peer.py"))
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start mdns_peer.py: {e}"));
        let stdout = child
            .stdout
            .take()
            .unwrap_or_else(|| panic!("no stdout of mdns_peer.py"));
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Peer {
            child,
            lines,
            backlog: RefCell::new(Vec::new()),
        }
    }

    /// The first line that `want` accepts within `limit`, among the lines
    /// not taken yet (earlier ones that other waits passed over included).
    fn wait(&self, limit: Duration, what: &str, want: impl Fn(&str) -> bool) -> String {
        let mut backlog = self.backlog.borrow_mut();
        if let Some(i) = backlog.iter().position(|l| want(l)) {
            return backlog.remove(i);
        }
        let deadline = Instant::now() + limit;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if want(&line) => return line,
                Ok(line) => backlog.push(line),
                Err(_) => break,
            }
        }
        panic!("mdns_peer.py: no {what} within {limit:?}; it printed: {backlog:#?}")
    }

    /// The resolved service of type `ty` (the first announcement seen).
    fn service(&self, ty: &str) -> Value {
        let line = self.wait(MDNS_WAIT, &format!("{ty} service"), |l| {
            serde_json::from_str::<Value>(l)
                .is_ok_and(|v| v["type"] == ty && v["removed"].is_null())
        });
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Another host on the gateway's LAN: its own network namespace holding
/// the far end of the gateway namespace's veth pair, at [`PEER_V4`].
/// Separate hosts matter: mDNS answers probes by unicast to port 5353,
/// which on one host reaches only one of the sockets bound to it.
struct PeerHost {
    name: String,
}

/// The other host's address on the LAN.
const PEER_V4: &str = "192.0.2.77";

impl Drop for PeerHost {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn ip(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("ip {args:?}: {e}"));
    assert!(out.status.success(), "ip {args:?}: {out:?}");
}

/// A LAN of two hosts: the gateway's namespace (entered by this thread; its
/// LAN interface keeps only the LAN's IPv4 address, as a gateway on a home
/// LAN has) and a [`PeerHost`] on the other end of its veth pair.
fn lan(tag: &str) -> (NetNs, PeerHost) {
    let ns = NetNs::create(tag).unwrap_or_else(|e| panic!("network namespace: {e}"));
    for addr in ["203.0.113.1/24", "2001:db8:1::1/64", "2001:db8:2::1/64"] {
        ip(&["-n", ns.name(), "addr", "del", addr, "dev", INTERFACE]);
    }
    let peer = PeerHost {
        name: format!("{}-peer", ns.name()),
    };
    ip(&["netns", "add", &peer.name]);
    let far_end = format!("{INTERFACE}p");
    ip(&[
        "-n",
        ns.name(),
        "link",
        "set",
        &far_end,
        "netns",
        &peer.name,
    ]);
    ip(&[
        "-n",
        &peer.name,
        "addr",
        "add",
        &format!("{PEER_V4}/24"),
        "dev",
        &far_end,
    ]);
    ip(&["-n", &peer.name, "link", "set", &far_end, "up"]);
    ip(&["-n", &peer.name, "link", "set", "lo", "up"]);
    ns.enter_current_thread()
        .unwrap_or_else(|e| panic!("setns: {e}"));
    (ns, peer)
}

fn core_announcing(hostname: &str) -> Core {
    let settings = CoreSettings {
        extra_toml: format!(
            "[mdns]\nenabled = true\nhostname = \"{hostname}\"\nmqtt_port = 1883\n"
        ),
        ..CoreSettings::default()
    };
    Core::start_with(settings, "")
}

fn api_port(core: &Core) -> u64 {
    core.url()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {}", core.url()))
}

#[test]
fn the_gateway_is_found_as_its_hostname_with_its_api_and_broker_and_says_goodbye() {
    if !require_root(
        "the_gateway_is_found_as_its_hostname_with_its_api_and_broker_and_says_goodbye",
    ) {
        return;
    }
    let (_ns, peer) = lan("mdns");
    let mut core = core_announcing("igloo-test");
    core.wait_log(
        MDNS_WAIT,
        &["mDNS: announcing the gateway", "igloo-test.local"],
    );
    let port = api_port(&core);
    let browser = Peer::start(
        &peer,
        &[
            "browse",
            "_igloo._tcp.local.",
            "_http._tcp.local.",
            "_mqtt._tcp.local.",
            "--seconds",
            "60",
        ],
    );
    let igloo = browser.service("_igloo._tcp.local.");
    assert_eq!(igloo["server"], "igloo-test.local.", "{igloo}");
    assert_eq!(igloo["port"], port, "{igloo}");
    assert_eq!(
        igloo["properties"]["version"],
        env!("CARGO_PKG_VERSION"),
        "{igloo}"
    );
    assert_eq!(igloo["properties"]["api"], "/api/v1", "{igloo}");
    assert!(
        igloo["addresses"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == &LAN_V4.to_string())),
        "the LAN address is announced: {igloo}"
    );
    let http = browser.service("_http._tcp.local.");
    assert_eq!(http["server"], "igloo-test.local.", "{http}");
    assert_eq!(http["port"], port, "{http}");
    let mqtt = browser.service("_mqtt._tcp.local.");
    assert_eq!(mqtt["port"], 1883, "{mqtt}");

    // Goodbye packets (TTL 0) when the core stops: the browser drops it.
    core.stop();
    browser.wait(MDNS_WAIT, "goodbye of _igloo._tcp", |l| {
        serde_json::from_str::<Value>(l)
            .is_ok_and(|v| v["type"] == "_igloo._tcp.local." && v["removed"] == true)
    });
}

#[test]
fn a_second_gateway_with_the_same_name_becomes_name_2_and_logs_it() {
    if !require_root("a_second_gateway_with_the_same_name_becomes_name_2_and_logs_it") {
        return;
    }
    let (_ns, peer) = lan("mdns-dup");
    // The first gateway, on the other host of the LAN.
    let path = format!("/run/netns/{}", peer.name);
    let first = std::thread::spawn(move || {
        enter_path(Path::new(&path)).unwrap_or_else(|e| panic!("setns {path}: {e}"));
        let core = core_announcing("igloo-dup");
        core.wait_log(
            MDNS_WAIT,
            &["mDNS: announcing the gateway", "igloo-dup.local"],
        );
        core
    })
    .join()
    .unwrap_or_else(|_| panic!("the first gateway did not start"));
    let browser = Peer::start(&peer, &["browse", "_igloo._tcp.local.", "--seconds", "60"]);
    browser.wait(MDNS_WAIT, "the first gateway", |l| {
        l.contains("\"server\": \"igloo-dup.local.\"")
    });
    // The second one, on this host, with the same name.
    let second = core_announcing("igloo-dup");
    let renamed = browser.wait(MDNS_WAIT, "the second gateway", |l| {
        l.contains("\"server\": \"igloo-dup-2.local.\"")
    });
    let renamed: Value = serde_json::from_str(&renamed).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        renamed["name"], "igloo-dup (2)._igloo._tcp.local.",
        "{renamed}"
    );
    assert_eq!(
        renamed["addresses"],
        serde_json::json!([LAN_V4.to_string()]),
        "{renamed}"
    );
    second.wait_log(
        MDNS_WAIT,
        &[
            "igloo-dup.local is taken on the network",
            "igloo-dup-2.local",
        ],
    );
    assert!(
        !first.log_contains("is taken on the network"),
        "the first gateway keeps its name"
    );
}
