//! DSMR P1 smart-meter telegrams: framing, CRC-16/ARC and OBIS codes → components.
//!
//! Specification sources: *DSMR P1 Companion Standard* v5.0.2 and v4.2.2
//! (Netbeheer Nederland) and *DSMR 2.2* (NTA 8130 P1 section). The line
//! settings (v2.2: 9600 7E1, v4: 115200 7E1, v5: 115200 8N1) are the caller's
//! business; this module only sees the bytes.
//!
//! # Telegram shape
//!
//! ```text
//! /XMX5LGF0010444123456␍␊        header: '/' + identification line
//! ␍␊                              empty line
//! 1-3:0.2.8(50)␍␊                 data lines: OBIS reference + (value)…
//! 1-0:1.8.1(004527.112*kWh)␍␊     a value may carry a unit after '*'
//! …
//! !9CBA␍␊                         '!' + CRC-16/ARC over '/' … '!' (v4, v5)
//! ```
//!
//! DSMR 2.2 telegrams end with `!` + CRLF and carry no CRC; their gas reading
//! (`0-n:24.3.0`) puts its value on the following line, `(00012.345)`.
//!
//! [`Reader`] frames telegrams out of a byte stream (resynchronising on every
//! `/`), checks the CRC and parses each telegram into a [`Telegram`] with one
//! [`Reading`] per mapped OBIS code.
//!
//! # Entity table
//!
//! One Igloo entity per OBIS code, each with one component:
//!
//! | entity | OBIS | component | wire unit → component unit |
//! |---|---|---|---|
//! | `Energy import tariff 1` | `1-0:1.8.1` | [`Energy`] | kWh (Wh ÷ 1000) |
//! | `Energy import tariff 2` | `1-0:1.8.2` | [`Energy`] | kWh (Wh ÷ 1000) |
//! | `Energy export tariff 1` | `1-0:2.8.1` | [`Energy`] | kWh (Wh ÷ 1000) |
//! | `Energy export tariff 2` | `1-0:2.8.2` | [`Energy`] | kWh (Wh ÷ 1000) |
//! | `Tariff` | `0-0:96.14.0` | [`Number`] | tariff indicator, `(0002)` → 2 |
//! | `Power import` | `1-0:1.7.0` | [`Power`] | kW × 1000 → W |
//! | `Power export` | `1-0:2.7.0` | [`Power`] | kW × 1000 → W |
//! | `Power import L1` / `L2` / `L3` | `1-0:21.7.0` / `41.7.0` / `61.7.0` | [`Power`] | kW × 1000 → W |
//! | `Power export L1` / `L2` / `L3` | `1-0:22.7.0` / `42.7.0` / `62.7.0` | [`Power`] | kW × 1000 → W |
//! | `Voltage L1` / `L2` / `L3` | `1-0:32.7.0` / `52.7.0` / `72.7.0` | [`Voltage`] | V |
//! | `Current L1` / `L2` / `L3` | `1-0:31.7.0` / `51.7.0` / `71.7.0` | [`Current`] | A |
//! | `Gas` | `0-n:24.2.1` (v4/v5), `0-n:24.3.0` (v2.2) | [`Gas`] | m³ |
//!
//! Power values are unsigned on the wire: import and export are separate
//! entities, both ≥ 0. Units are compared case-insensitively (`kWh`, `KWH`);
//! a value without a unit is taken in the specified unit; `W`/`Wh` are accepted
//! and scaled. Any other unit on a mapped code makes the telegram
//! [`TelegramError::Malformed`].
//!
//! **Gas** comes from the M-Bus channel `n` (1–4) whose device type
//! `0-n:24.1.0` is 3 (gas), or which has no device type line and an `m3` unit.
//! Only the lowest such channel is reported; its equipment identifier
//! `0-n:96.1.0` becomes [`Telegram::gas_equipment_id`]. `0-n:24.2.3` (the
//! non-temperature-corrected reading some DSMR 5 derivatives such as the
//! Belgian e-MUC send instead of `24.2.1`) is accepted as well.
//!
//! Metadata lines (`1-3:0.2.8` version, `0-0:1.0.0` timestamp, `0-0:96.1.1`
//! and `0-n:96.1.0` equipment identifiers, `0-n:24.1.0` device types) fill the
//! [`Telegram`] fields. Every other data line (power-failure log `1-0:99.97.0`,
//! voltage sag/swell counters, text messages, other M-Bus devices, …) is
//! ignored and counted in [`Stats::unknown_obis`].
//!
//! [`Energy`]: igloo_provider::protocol::Component::Energy
//! [`Number`]: igloo_provider::protocol::Component::Number
//! [`Power`]: igloo_provider::protocol::Component::Power
//! [`Voltage`]: igloo_provider::protocol::Component::Voltage
//! [`Current`]: igloo_provider::protocol::Component::Current
//! [`Gas`]: igloo_provider::protocol::Component::Gas

mod obis;
mod parse;
mod reader;

#[cfg(test)]
mod tests;

pub use obis::ENTITIES;
pub use reader::Reader;

use igloo_provider::protocol::Component;

/// Default (and recommended) upper bound for one telegram in bytes, `/`
/// through the CRC digits, for [`Reader::new`]. DSMR 5.0.2 telegrams are
/// typically 700–1100 bytes; a text message (`0-0:96.13.0`, up to 1024
/// characters hex-encoded = 2048 bytes) and a full power-failure log still fit.
pub const MAX_TELEGRAM: usize = 8192;

/// CRC-16/ARC (polynomial 0x8005, reflected 0xA001, initial value 0, no final xor).
const CRC: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_ARC);

/// CRC-16/ARC of `bytes` (polynomial 0x8005, reflected 0xA001, initial value
/// 0, no final xor), the checksum of DSMR v4 and v5 telegrams (P1 Companion
/// Standard v5.0.2 §6.12). For a telegram pass `/` … `!` inclusive; the meter
/// sends the result as 4 upper-case hex digits after `!`.
pub fn checksum(bytes: &[u8]) -> u16 {
    CRC.checksum(bytes)
}

/// Counters kept by a [`Reader`] since its creation. Every completed or
/// rejected telegram increments exactly one of `telegrams`, `crc_errors`,
/// `truncated`, `too_long` and `malformed`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Stats {
    /// Valid telegrams returned as `Ok`.
    pub telegrams: u64,
    /// Telegrams rejected with [`TelegramError::Crc`].
    pub crc_errors: u64,
    /// Telegrams rejected with [`TelegramError::Truncated`].
    pub truncated: u64,
    /// Telegrams rejected with [`TelegramError::TooLong`].
    pub too_long: u64,
    /// Telegrams rejected with [`TelegramError::Malformed`].
    pub malformed: u64,
    /// Bytes seen outside any telegram (line noise before a `/`, the rest of
    /// a too-long telegram, …). The CR/LF ending a telegram is not counted.
    pub skipped_bytes: u64,
    /// Data lines of valid telegrams whose OBIS code is not mapped (see the
    /// module documentation), summed over all telegrams.
    pub unknown_obis: u64,
}

/// One parsed, valid P1 telegram.
#[derive(Debug, Clone, PartialEq)]
pub struct Telegram {
    /// The identification line after `/`, without CR/LF, e.g.
    /// `ISk5\2MT382-1000` or `KFM5KAIFA-METER` (3-letter manufacturer code,
    /// baud-rate character, meter type).
    pub header: String,
    /// DSMR version from `1-3:0.2.8`: two digits `XY` become `"X.Y"` (`(50)` →
    /// `"5.0"`, `(42)` → `"4.2"`), anything else is kept as sent. `None` when
    /// the line is absent (DSMR 2.2).
    pub version: Option<String>,
    /// Electricity equipment identifier `0-0:96.1.1`: decoded when it is
    /// hex-encoded printable ASCII (`4B38…` → `K8…`), else as sent. This is
    /// the meter's device key.
    pub equipment_id: Option<String>,
    /// Gas meter equipment identifier `0-n:96.1.0` of the M-Bus channel the
    /// `Gas` reading came from, decoded like [`Telegram::equipment_id`].
    pub gas_equipment_id: Option<String>,
    /// Raw `0-0:1.0.0` timestamp `YYMMDDhhmmssX` (X = `S` summer / `W` winter
    /// time); `None` when absent (DSMR 2.2).
    pub timestamp: Option<String>,
    /// `true` when the telegram carried a CRC and it matched; `false` for
    /// telegrams without CRC (DSMR 2.2).
    pub crc_checked: bool,
    /// The mapped values, electricity in telegram order, then gas.
    pub readings: Vec<Reading>,
}

impl Telegram {
    /// The reading for entity `entity` (see the module's entity table), if the
    /// telegram carried it.
    pub fn reading(&self, entity: &str) -> Option<&Reading> {
        self.readings.iter().find(|r| r.entity == entity)
    }
}

/// One value for the device tree: `entity` is the Igloo entity name (see the
/// module's entity table), with exactly one component.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// Igloo entity name, e.g. `"Energy import tariff 1"`.
    pub entity: &'static str,
    /// The OBIS reference it came from, e.g. `"1-0:1.8.1"`; for gas the
    /// channel-specific code, e.g. `"0-1:24.2.1"` or `"0-1:24.3.0"`.
    pub obis: &'static str,
    /// The value in the component's unit: `Energy` kWh, `Power` W, `Voltage`
    /// V, `Current` A, `Gas` m³, `Number` for the tariff indicator.
    pub value: Component,
}

/// Why a telegram was rejected by [`Reader::push`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TelegramError {
    /// The CRC after `!` does not match the bytes `/` … `!`.
    #[error("CRC mismatch: telegram says {expected:04X}, computed {computed:04X}")]
    Crc {
        /// The CRC sent by the meter.
        expected: u16,
        /// The CRC computed over the received bytes.
        computed: u16,
    },
    /// A new `/` arrived before the telegram's `!` and CRC were complete.
    #[error("telegram cut off after {bytes} bytes")]
    Truncated {
        /// Bytes of the cut-off telegram received (from its `/`).
        bytes: usize,
    },
    /// The telegram exceeded the reader's `max_len`; its remaining bytes are
    /// skipped up to the next `/`.
    #[error("telegram longer than the limit ({bytes} bytes received)")]
    TooLong {
        /// Bytes received when it was dropped (`max_len + 1`).
        bytes: usize,
    },
    /// The framing was complete (and the CRC, if any, matched) but the content
    /// does not follow the standard: bad CRC field, bad header, unparseable
    /// line or value, unexpected unit, a v4/v5 telegram without CRC, …
    #[error("malformed telegram: {0}")]
    Malformed(String),
}
