//! Modbus RTU poll cycle for 50 registers against the line time of the same
//! frames, at 9600 and 115200 baud.
//!
//! `cargo bench -p igloo-serial --bench poll_cycle` (`IGLOO_BENCH_QUICK=1`
//! for fewer cycles).
//!
//! A pty has no baud rate: bytes cross it at once. So the bench puts a
//! **wire** between two pty pairs: two threads copy bytes from one master to
//! the other, each byte released when a real line at the chosen rate would
//! have finished sending it (10 bits per byte, 8N1). The client end is
//! opened with this crate's [`port::open`] and polled with tokio-modbus's RTU
//! client as the provider does (the groups come from [`map::validate`], the
//! silence between exchanges is [`frame_gap`]); the far end runs tokio-modbus's own RTU server.
//!
//! Two maps of 50 `u16` holding registers: **contiguous** (one group, one
//! request) and **scattered** (every 10th address: no merging, 50 requests).
//! Line time of one request = (8-byte request + 5 + 2·n-byte response +
//! 2 × 3.5 characters of inter-frame silence, Modbus over Serial Line
//! V1.02 §2.5.1.1) × 10 bits / baud. Printed: the median measured cycle, the
//! line time and their ratio.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use igloo_serial::modbus::line::frame_gap;
use igloo_serial::modbus::map::{self, DeviceConfig, DeviceMap};
use igloo_serial::port::{self, LineSettings, Parity};
use tokio_modbus::client::Reader;
use tokio_modbus::prelude::{Request, Response, Slave, SlaveContext};

/// Answers every read with the register's address.
struct Registers;

impl tokio_modbus::server::Service for Registers {
    type Request = Request<'static>;
    type Response = Response;
    type Exception = tokio_modbus::ExceptionCode;
    type Future = std::future::Ready<Result<Response, tokio_modbus::ExceptionCode>>;

    fn call(&self, req: Request<'static>) -> Self::Future {
        std::future::ready(match req {
            Request::ReadHoldingRegisters(start, n) => Ok(Response::ReadHoldingRegisters(
                (start..start.saturating_add(n)).collect(),
            )),
            _ => Err(tokio_modbus::ExceptionCode::IllegalFunction),
        })
    }
}

/// Copies `from` → `to`, releasing each byte when a line at `baud` (10 bits
/// per byte) would have finished sending it.
fn wire(mut from: std::fs::File, mut to: std::fs::File, baud: u32) {
    let byte = Duration::from_secs_f64(10.0 / f64::from(baud));
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        let mut free = Instant::now();
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let now = Instant::now();
            if free < now {
                free = now;
            }
            for b in &buf[..n] {
                free += byte;
                let wait = free.saturating_duration_since(Instant::now());
                if !wait.is_zero() {
                    std::thread::sleep(wait);
                }
                if to.write_all(std::slice::from_ref(b)).is_err() {
                    return;
                }
            }
        }
    });
}

fn map_of(addresses: impl Iterator<Item = u16>) -> DeviceMap {
    let regs: Vec<String> = addresses
        .enumerate()
        .map(|(i, a)| {
            format!(
                "{{ name = \"r{i}\", kind = \"holding\", address = {a}, type = \"u16\", component = \"Number\" }}"
            )
        })
        .collect();
    let text = format!(
        "unit = 1\nname = \"bench\"\npoll_ms = 1000\nregister = [{}]\n",
        regs.join(", ")
    );
    let cfg: DeviceConfig = toml::from_str(&text).unwrap_or_else(|e| panic!("bench map: {e}"));
    map::validate(&[cfg])
        .unwrap_or_else(|e| panic!("bench map: {e}"))
        .remove(0)
}

fn line_time(map: &DeviceMap, s: &LineSettings) -> Duration {
    map.groups
        .iter()
        .map(|g| s.line_time(8 + 5 + 2 * usize::from(g.count) + 7))
        .sum()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn run(baud: u32, map: &DeviceMap, cycles: usize) -> (f64, f64) {
    let s = LineSettings {
        baud,
        parity: Parity::None,
        data_bits: 8,
        stop_bits: 1,
    };
    let client = nix::pty::openpty(None, None).unwrap_or_else(|e| panic!("openpty: {e}"));
    let server = nix::pty::openpty(None, None).unwrap_or_else(|e| panic!("openpty: {e}"));
    let (cm, sm): (OwnedFd, OwnedFd) = (client.master, server.master);
    let clone =
        |fd: &OwnedFd| std::fs::File::from(fd.try_clone().unwrap_or_else(|e| panic!("dup: {e}")));
    // The masters must be raw too, or the pty would translate bytes.
    for m in [&cm, &sm] {
        let mut t = nix::sys::termios::tcgetattr(m).unwrap_or_else(|e| panic!("tcgetattr: {e}"));
        nix::sys::termios::cfmakeraw(&mut t);
        nix::sys::termios::tcsetattr(m, nix::sys::termios::SetArg::TCSANOW, &t)
            .unwrap_or_else(|e| panic!("tcsetattr: {e}"));
    }
    wire(clone(&cm), clone(&sm), baud);
    wire(clone(&sm), clone(&cm), baud);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    rt.block_on(async {
        let srv = port::open(server.slave, &s).unwrap_or_else(|e| panic!("server port: {e}"));
        tokio::spawn(tokio_modbus::server::rtu::Server::new(srv).serve_forever(Registers));
        let cli = port::open(client.slave, &s).unwrap_or_else(|e| panic!("client port: {e}"));
        let mut ctx = tokio_modbus::client::rtu::attach_slave(cli, Slave(1));
        ctx.set_slave(Slave(1));
        let gap = frame_gap(&s);
        let mut last: Option<tokio::time::Instant> = None;
        let mut times = Vec::new();
        for i in 0..cycles + 2 {
            let t0 = Instant::now();
            for g in &map.groups {
                // The same silence the provider keeps between exchanges.
                if let Some(at) = last {
                    tokio::time::sleep_until(at + gap).await;
                }
                let words = tokio::time::timeout(
                    Duration::from_secs(5),
                    ctx.read_holding_registers(g.start, g.count),
                )
                .await
                .unwrap_or_else(|_| panic!("no answer"))
                .unwrap_or_else(|e| panic!("transport: {e}"))
                .unwrap_or_else(|e| panic!("exception: {e}"));
                last = Some(tokio::time::Instant::now());
                assert_eq!(words.first().copied(), Some(g.start));
            }
            if i >= 2 {
                times.push(t0.elapsed().as_secs_f64() * 1e3);
            }
        }
        (median(&mut times), line_time(map, &s).as_secs_f64() * 1e3)
    })
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let quick = std::env::var_os("IGLOO_BENCH_QUICK").is_some();
    let contiguous = map_of(0..50);
    let scattered = map_of((0..50).map(|i| i * 10));
    println!(
        "Modbus RTU poll cycle, 50 u16 holding registers, median over cycles (8N1, paced wire between ptys):"
    );
    for (name, map) in [("contiguous", &contiguous), ("scattered", &scattered)] {
        for baud in [9600, 115_200] {
            let cycles = match (quick, baud) {
                (true, _) => 3,
                (false, 9600) => 10,
                _ => 30,
            };
            let (measured, line) = run(baud, map, cycles);
            println!(
                "  {name:<10} {baud:>6} baud: {} request(s), cycle {measured:.1} ms, line time {line:.1} ms, ratio {:.2}",
                map.groups.len(),
                measured / line
            );
        }
    }
}
