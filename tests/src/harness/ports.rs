//! Free loopback ports.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Ports handed out by this process, never handed out twice (tests run in parallel).
static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A TCP port on 127.0.0.1 that was free a moment ago and that this process
/// has not handed out before.
pub fn free_port() -> u16 {
    loop {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("bound listener has no address: {e}"))
            .port();
        let mut used = HANDED_OUT.lock().unwrap_or_else(|p| p.into_inner());
        if used.insert(port) {
            return port;
        }
    }
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
