//! Caps on what one client can hold open (docs/security.md): TCP
//! connections per client address and in total (an accepted connection over
//! a cap is closed at once), and event streams likewise (429). Without
//! them one client could open thousands of idle event streams and take the
//! gateway's memory.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Open TCP connections allowed per client address.
pub const CONNECTIONS_PER_ADDRESS: usize = 64;
/// Open TCP connections allowed in total.
pub const CONNECTIONS_TOTAL: usize = 512;
/// Open event streams allowed per client address.
pub const STREAMS_PER_ADDRESS: usize = 8;
/// Open event streams allowed in total.
pub const STREAMS_TOTAL: usize = 64;

/// Counts of open things per key and in total, with caps.
#[derive(Debug)]
pub struct Counter {
    per_key: usize,
    total: usize,
    open: Mutex<(HashMap<IpAddr, usize>, usize)>,
}

/// A counted open thing; dropping it frees its place.
#[derive(Debug)]
pub struct Slot {
    counter: Arc<Counter>,
    key: IpAddr,
}

/// Which cap a refused thing hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The client's own cap.
    PerAddress(usize),
    /// The gateway's total cap.
    Total(usize),
}

impl Counter {
    /// A counter allowing `per_key` per address and `total` overall.
    pub fn new(per_key: usize, total: usize) -> Arc<Counter> {
        Arc::new(Counter {
            per_key,
            total,
            open: Mutex::new((HashMap::new(), 0)),
        })
    }

    /// Takes a place for `key`.
    ///
    /// # Errors
    /// [`Full`] naming the cap that was hit.
    pub fn acquire(self: &Arc<Self>, key: IpAddr) -> Result<Slot, Full> {
        let mut open = self.open.lock().map_err(|_| Full::Total(self.total))?;
        let (map, total) = &mut *open;
        if *total >= self.total {
            return Err(Full::Total(self.total));
        }
        let n = map.entry(key).or_insert(0);
        if *n >= self.per_key {
            return Err(Full::PerAddress(self.per_key));
        }
        *n += 1;
        *total += 1;
        Ok(Slot {
            counter: self.clone(),
            key,
        })
    }

    /// How many are open in total.
    #[cfg(test)]
    pub fn open(&self) -> usize {
        self.open.lock().map_or(0, |o| o.1)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.counter.open.lock() {
            let (map, total) = &mut *open;
            *total = total.saturating_sub(1);
            if let Some(n) = map.get_mut(&self.key) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&self.key);
                }
            }
        }
    }
}

/// A TCP listener that closes connections over the caps at once and sets
/// `TCP_NODELAY` on the others (event streams write one small chunk per
/// event; with Nagle's algorithm it waits for the client's delayed ACK).
pub struct CappedListener {
    inner: TcpListener,
    counter: Arc<Counter>,
    last_warning: Option<Instant>,
}

impl CappedListener {
    /// Wraps `inner` with [`CONNECTIONS_PER_ADDRESS`] and [`CONNECTIONS_TOTAL`].
    pub fn new(inner: TcpListener) -> CappedListener {
        CappedListener {
            inner,
            counter: Counter::new(CONNECTIONS_PER_ADDRESS, CONNECTIONS_TOTAL),
            last_warning: None,
        }
    }

    fn warn(&mut self, addr: SocketAddr, full: Full) {
        // At most one line a minute: a flood must not flood the log too.
        if self
            .last_warning
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(60))
        {
            self.last_warning = Some(Instant::now());
            tracing::warn!(client = %addr.ip(), "API connection refused: {}", describe(full, "connections"));
        }
    }
}

/// `too many open <what> from this address (max N)` or `… in total`.
pub fn describe(full: Full, what: &str) -> String {
    match full {
        Full::PerAddress(n) => format!("too many open {what} from this address (max {n})"),
        Full::Total(n) => format!("too many open {what} on the gateway (max {n})"),
    }
}

impl axum::serve::Listener for CappedListener {
    type Io = Counted;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Counted, SocketAddr) {
        loop {
            let (stream, addr) = match self.inner.accept().await {
                Ok(c) => c,
                Err(e) => {
                    // EMFILE and friends: wait instead of spinning.
                    tracing::warn!("accepting an API connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            match self.counter.acquire(addr.ip()) {
                Ok(slot) => {
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!("TCP_NODELAY on an API connection: {e}");
                    }
                    return (
                        Counted {
                            stream,
                            _slot: slot,
                        },
                        addr,
                    );
                }
                Err(full) => {
                    self.warn(addr, full);
                    drop(stream);
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// An accepted connection holding its place under the caps.
pub struct Counted {
    stream: TcpStream,
    _slot: Slot,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_capped_per_address_and_in_total_and_freed_on_drop() {
        let c = Counter::new(2, 3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let s1 = c.acquire(a).unwrap();
        let _s2 = c.acquire(a).unwrap();
        assert_eq!(c.acquire(a).unwrap_err(), Full::PerAddress(2));
        let _s3 = c.acquire(b).unwrap();
        assert_eq!(c.acquire(b).unwrap_err(), Full::Total(3));
        drop(s1);
        assert_eq!(c.open(), 2);
        assert!(c.acquire(b).is_ok());
    }
}
