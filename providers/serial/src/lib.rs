//! # igloo-serial
//!
//! The Igloo provider for devices on serial lines (DESIGN §8): Modbus RTU
//! meters and heat pumps, and DSMR P1 smart meters. It only ever uses serial
//! ports the core granted it (fds received over the grant socket); it never
//! opens a `/dev` path.
//!
//! Code map:
//! - [`modbus`]: the register map ([`modbus::map`]: config, validation,
//!   presets, value decoding/encoding).
//! - [`dsmr`]: DSMR P1 telegrams (framing, CRC-16/ARC, OBIS codes → components).
//! - [`modbus`]: [`modbus::map`] (register map: config, validation, presets,
//!   value decoding/encoding) and [`modbus::line`] (polling, writes, health).
//! - [`p1`]: a P1 port: telegrams → the meter's device.
//! - [`port`]: line settings; a granted fd → an async serial port.
//! - [`config`]: the `[provider.config]` section; [`manager`]: grants,
//!   revocations, change routing, `serial.status`.
#![warn(missing_docs)]

pub mod config;
pub mod dsmr;
pub mod manager;
pub mod modbus;
pub mod p1;
pub mod port;
