//! Free loopback ports.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Ports handed out by this process, never handed out twice (tests run in parallel).
static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A TCP port on 127.0.0.1 that was free a moment ago and that this process
/// has not handed out before.
///
/// It is taken from outside the kernel's ephemeral range
/// (`/proc/sys/net/ipv4/ip_local_port_range`) when there is room: a port from
/// inside it can be given to any process's outgoing connection before the
/// server it was meant for binds it, and a connect to it while nothing listens
/// can meet itself (TCP simultaneous open) and look like a server.
pub fn free_port() -> u16 {
    let mut used = HANDED_OUT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((first, last)) = outside_ephemeral_range() {
        let span = u32::from(last - first) + 1;
        // Each test process starts at its own place, so two processes that
        // run at once (cargo runs one test binary at a time, but a person may
        // not) rarely try the same ports.
        let start = std::process::id().wrapping_mul(7919) % span;
        for i in 0..span {
            let Ok(port) = u16::try_from(u32::from(first) + (start + i) % span) else {
                continue;
            };
            if !used.contains(&port) && TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
                used.insert(port);
                return port;
            }
        }
    }
    loop {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("bound listener has no address: {e}"))
            .port();
        if used.insert(port) {
            return port;
        }
    }
}

/// The widest block of ports of at least 1 000 outside the ephemeral range
/// and above 10 000 (below that live the well-known services people run), or
/// `None` when the range file cannot be read or leaves no such room.
fn outside_ephemeral_range() -> Option<(u16, u16)> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut bounds = text.split_whitespace().map(str::parse::<u16>);
    let (low, high) = (bounds.next()?.ok()?, bounds.next()?.ok()?);
    let below = (10_000u16, low.saturating_sub(1));
    let above = (high.saturating_add(1), u16::MAX);
    [below, above]
        .into_iter()
        .filter(|&(a, b)| b >= a && b - a >= 1_000)
        .max_by_key(|&(a, b)| b - a)
}

/// Waits until 127.0.0.1:`port` accepts a TCP connection from another port
/// (a socket connected to itself does not count); `false` on timeout.
pub fn wait_port(port: u16, timeout: Duration) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            // With nothing listening, a connect from an ephemeral port equal to
            // `port` meets itself (TCP simultaneous open) and "succeeds".
            if stream.local_addr().ok() != Some(addr) {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}
