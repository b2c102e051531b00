//! The network-namespace harness itself: its addresses work between threads
//! and processes inside the namespace, and the host sees none of it. Needs
//! root (see `harness::privileged::require_root`).

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use igloo_tests::harness::netns::{LAN_V4, LAN_V6, NetNs, WAN_V4, WAN_V6};
use igloo_tests::harness::privileged::require_root;

const TEST: &str = "netns_is_reachable_inside_and_invisible_outside";

#[test]
fn netns_is_reachable_inside_and_invisible_outside() {
    if !require_root(TEST) {
        return;
    }
    let ns = NetNs::create("harness").unwrap_or_else(|e| panic!("{e}"));
    assert!(ns.path().exists(), "{}", ns.path().display());

    // A server on the WAN address in one namespace thread, a client in another.
    let (port_tx, port_rx) = mpsc::channel();
    let server = ns.spawn_thread(move || -> Result<SocketAddr, String> {
        let listener = TcpListener::bind((WAN_V4, 0)).map_err(|e| format!("bind {WAN_V4}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        port_tx.send(addr.port()).map_err(|e| e.to_string())?;
        let (stream, peer) = listener.accept().map_err(|e| format!("accept: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        let mut line = String::new();
        BufReader::new(&stream)
            .read_line(&mut line)
            .map_err(|e| format!("read: {e}"))?;
        (&stream)
            .write_all(format!("pong {}", line.trim()).as_bytes())
            .map_err(|e| format!("write: {e}"))?;
        Ok(peer)
    });
    let port = port_rx
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("the server thread did not bind: {e}"));
    let client = ns.spawn_thread(move || -> Result<String, String> {
        let to = SocketAddr::new(IpAddr::V4(WAN_V4), port);
        let mut stream = TcpStream::connect_timeout(&to, Duration::from_secs(5))
            .map_err(|e| format!("connect {to}: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        stream.write_all(b"ping\n").map_err(|e| e.to_string())?;
        let mut reply = String::new();
        BufReader::new(stream)
            .read_line(&mut reply)
            .map_err(|e| format!("read: {e}"))?;
        Ok(reply)
    });
    let reply = client
        .join()
        .unwrap_or_else(|_| panic!("client thread panicked"))
        .unwrap_or_else(|e| panic!("client: {e}"));
    assert_eq!(reply, "pong ping");
    let peer = server
        .join()
        .unwrap_or_else(|_| panic!("server thread panicked"))
        .unwrap_or_else(|e| panic!("server: {e}"));
    assert_eq!(
        peer.ip(),
        IpAddr::V4(WAN_V4),
        "a local connection comes from the same address"
    );

    // A child process put there with pre_exec sees all four addresses.
    let mut cmd = Command::new("ip");
    cmd.args(["-o", "addr"]);
    // SAFETY: the closure only calls setns(2) on an fd opened before fork.
    unsafe { cmd.pre_exec(ns.pre_exec_enter()) };
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("ip -o addr in the namespace: {e}"));
    let inside = String::from_utf8_lossy(&out.stdout);
    for addr in [
        LAN_V4.to_string(),
        WAN_V4.to_string(),
        LAN_V6.to_string(),
        WAN_V6.to_string(),
    ] {
        assert!(
            inside.contains(&format!(" {addr}/")),
            "{addr} missing inside: {inside}"
        );
    }

    // nftables inside the namespace is its own.
    let nft_in_ns = |args: &[&str]| {
        let mut cmd = Command::new("nft");
        cmd.args(args);
        // SAFETY: as above.
        unsafe { cmd.pre_exec(ns.pre_exec_enter()) };
        let out = cmd.output().unwrap_or_else(|e| panic!("nft {args:?}: {e}"));
        assert!(
            out.status.success(),
            "nft {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    nft_in_ns(&["add", "table", "inet", "igloo_harness_probe"]);
    assert!(
        ns.nft_list().contains("table inet igloo_harness_probe"),
        "{}",
        ns.nft_list()
    );

    // The host sees none of it. Binding is purely local (no packet leaves),
    // unlike a connect, which in the host namespace would be routed out.
    let host = Command::new("ip")
        .args(["-o", "addr"])
        .output()
        .unwrap_or_else(|e| panic!("ip -o addr on the host: {e}"));
    let host = String::from_utf8_lossy(&host.stdout);
    assert!(
        !host.contains(&format!(" {WAN_V4}/")),
        "the host has {WAN_V4}: {host}"
    );
    let nonlocal_bind = std::fs::read_to_string("/proc/sys/net/ipv4/ip_nonlocal_bind")
        .is_ok_and(|v| v.trim() != "0");
    if !nonlocal_bind {
        let bound = TcpListener::bind((WAN_V4, 0));
        assert!(bound.is_err(), "the host could bind {WAN_V4}: {bound:?}");
    }
    let host_tables = Command::new("nft")
        .args(["list", "tables"])
        .output()
        .unwrap_or_else(|e| panic!("nft list tables on the host: {e}"));
    let host_tables = String::from_utf8_lossy(&host_tables.stdout);
    assert!(
        !host_tables.contains("igloo_harness_probe"),
        "{host_tables}"
    );

    let (name, path) = (ns.name().to_string(), ns.path().to_path_buf());
    drop(ns);
    assert!(!path.exists(), "{} still exists", path.display());
    let list = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap_or_else(|e| panic!("ip netns list: {e}"));
    assert!(!String::from_utf8_lossy(&list.stdout).contains(&name));
}

#[test]
fn bad_tags_are_refused() {
    // No privileges needed: the tag is checked before anything runs.
    for tag in ["", "Upper", "a/b", "spaces here", "x".repeat(21).as_str()] {
        let err = NetNs::create(tag).err();
        assert!(
            err.as_deref().is_some_and(|e| e.contains("tag")),
            "{tag:?}: {err:?}"
        );
    }
}
