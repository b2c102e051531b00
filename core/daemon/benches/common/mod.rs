//! What the core's benchmarks share: the running core they measure, a free
//! loopback port for its API, and the median of a round's figures.

use std::process::Child;

/// A core started by a benchmark, killed when dropped.
pub struct Core {
    /// The `igloo run` process.
    pub child: Child,
    /// Its API base, `http://127.0.0.1:<port>`.
    pub api: String,
    /// Its config and data dir, removed after.
    #[allow(
        dead_code,
        reason = "each bench is its own crate; not every one reads it"
    )]
    pub dir: tempfile::TempDir,
}

impl Drop for Core {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback TCP port nothing listens on (right now).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The median of `v` (sorted in place); `v` must not be empty.
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
