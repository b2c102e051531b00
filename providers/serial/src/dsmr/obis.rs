//! OBIS references (IEC 62056-61 `A-B:C.D.E`), the DSMR → Igloo mapping table
//! and value decoding (numbers with units, hex-encoded identifiers).

use std::fmt;

use igloo_provider::protocol::Component;

/// An OBIS reference `A-B:C.D.E` as written in P1 telegrams (the `*F` group is
/// never sent). `B` is the channel: 0 for the electricity meter, 1–4 for
/// M-Bus devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Obis {
    pub a: u8,
    pub b: u8,
    pub c: u8,
    pub d: u8,
    pub e: u8,
}

const fn o(a: u8, b: u8, c: u8, d: u8, e: u8) -> Obis {
    Obis { a, b, c, d, e }
}

impl Obis {
    /// Parses `A-B:C.D.E` (each group 1–3 decimal digits, ≤ 255).
    pub(crate) fn parse(s: &str) -> Option<Obis> {
        let (a, rest) = s.split_once('-')?;
        let (b, rest) = rest.split_once(':')?;
        let mut groups = rest.split('.');
        let c = groups.next()?;
        let d = groups.next()?;
        let e = groups.next()?;
        if groups.next().is_some() {
            return None;
        }
        Some(o(group(a)?, group(b)?, group(c)?, group(d)?, group(e)?))
    }

    /// This reference on M-Bus channel 0 (for comparing channel-independent
    /// codes such as `0-n:24.2.1`).
    pub(crate) fn without_channel(self) -> Obis {
        Obis { b: 0, ..self }
    }
}

fn group(s: &str) -> Option<u8> {
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl fmt::Display for Obis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}:{}.{}.{}", self.a, self.b, self.c, self.d, self.e)
    }
}

/// `1-3:0.2.8` DSMR version (v4, v5).
pub(crate) const VERSION: Obis = o(1, 3, 0, 2, 8);
/// `0-0:1.0.0` telegram timestamp (v4, v5).
pub(crate) const TIMESTAMP: Obis = o(0, 0, 1, 0, 0);
/// `0-0:96.1.1` electricity equipment identifier.
pub(crate) const EQUIPMENT_ID: Obis = o(0, 0, 96, 1, 1);
/// `0-n:24.1.0` M-Bus device type (with the channel cleared).
pub(crate) const MBUS_DEVICE_TYPE: Obis = o(0, 0, 24, 1, 0);
/// `0-n:96.1.0` M-Bus equipment identifier (with the channel cleared).
pub(crate) const MBUS_EQUIPMENT_ID: Obis = o(0, 0, 96, 1, 0);
/// M-Bus device type of a gas meter (EN 13757-3).
pub(crate) const DEVICE_TYPE_GAS: u32 = 3;

/// How a mapped electricity value is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// kWh (Wh accepted) → `Component::Energy` kWh.
    Energy,
    /// kW (W accepted) → `Component::Power` W.
    Power,
    /// V → `Component::Voltage`.
    Voltage,
    /// A → `Component::Current`.
    Current,
    /// Unitless tariff indicator → `Component::Number`.
    Tariff,
}

/// One mapped electricity OBIS code.
pub(crate) struct Mapping {
    pub code: Obis,
    pub obis: &'static str,
    pub entity: &'static str,
    pub kind: Kind,
}

const fn m(code: Obis, obis: &'static str, entity: &'static str, kind: Kind) -> Mapping {
    Mapping {
        code,
        obis,
        entity,
        kind,
    }
}

/// The electricity mapping (P1 Companion Standard v5.0.2 §7, v4.2.2 §6.12,
/// DSMR 2.2 §5.8). `code` and `obis` spell the same reference (unit-tested).
pub(crate) const MAP: &[Mapping] = &[
    m(
        o(1, 0, 1, 8, 1),
        "1-0:1.8.1",
        "Energy import tariff 1",
        Kind::Energy,
    ),
    m(
        o(1, 0, 1, 8, 2),
        "1-0:1.8.2",
        "Energy import tariff 2",
        Kind::Energy,
    ),
    m(
        o(1, 0, 2, 8, 1),
        "1-0:2.8.1",
        "Energy export tariff 1",
        Kind::Energy,
    ),
    m(
        o(1, 0, 2, 8, 2),
        "1-0:2.8.2",
        "Energy export tariff 2",
        Kind::Energy,
    ),
    m(o(0, 0, 96, 14, 0), "0-0:96.14.0", "Tariff", Kind::Tariff),
    m(o(1, 0, 1, 7, 0), "1-0:1.7.0", "Power import", Kind::Power),
    m(o(1, 0, 2, 7, 0), "1-0:2.7.0", "Power export", Kind::Power),
    m(
        o(1, 0, 21, 7, 0),
        "1-0:21.7.0",
        "Power import L1",
        Kind::Power,
    ),
    m(
        o(1, 0, 41, 7, 0),
        "1-0:41.7.0",
        "Power import L2",
        Kind::Power,
    ),
    m(
        o(1, 0, 61, 7, 0),
        "1-0:61.7.0",
        "Power import L3",
        Kind::Power,
    ),
    m(
        o(1, 0, 22, 7, 0),
        "1-0:22.7.0",
        "Power export L1",
        Kind::Power,
    ),
    m(
        o(1, 0, 42, 7, 0),
        "1-0:42.7.0",
        "Power export L2",
        Kind::Power,
    ),
    m(
        o(1, 0, 62, 7, 0),
        "1-0:62.7.0",
        "Power export L3",
        Kind::Power,
    ),
    m(o(1, 0, 32, 7, 0), "1-0:32.7.0", "Voltage L1", Kind::Voltage),
    m(o(1, 0, 52, 7, 0), "1-0:52.7.0", "Voltage L2", Kind::Voltage),
    m(o(1, 0, 72, 7, 0), "1-0:72.7.0", "Voltage L3", Kind::Voltage),
    m(o(1, 0, 31, 7, 0), "1-0:31.7.0", "Current L1", Kind::Current),
    m(o(1, 0, 51, 7, 0), "1-0:51.7.0", "Current L2", Kind::Current),
    m(o(1, 0, 71, 7, 0), "1-0:71.7.0", "Current L3", Kind::Current),
];

/// Entity name of the gas reading.
pub(crate) const GAS_ENTITY: &str = "Gas";

/// Every entity name a [`Reading`](super::Reading) can carry, in the order of
/// the module's entity table: the 19 electricity entities, then `"Gas"`.
pub const ENTITIES: &[&str] = &[
    "Energy import tariff 1",
    "Energy import tariff 2",
    "Energy export tariff 1",
    "Energy export tariff 2",
    "Tariff",
    "Power import",
    "Power export",
    "Power import L1",
    "Power import L2",
    "Power import L3",
    "Power export L1",
    "Power export L2",
    "Power export L3",
    "Voltage L1",
    "Voltage L2",
    "Voltage L3",
    "Current L1",
    "Current L2",
    "Current L3",
    GAS_ENTITY,
];

/// The mapping of an electricity code, if any.
pub(crate) fn lookup(code: Obis) -> Option<&'static Mapping> {
    MAP.iter().find(|m| m.code == code)
}

/// Which kind of gas line a code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GasLine {
    /// `0-n:24.2.1` / `0-n:24.2.3` `(timestamp)(value*m3)` (v4, v5).
    Hourly,
    /// `0-n:24.3.0` `(timestamp)(00)(60)(1)(0-n:24.2.1)(m3)` + `(value)` on
    /// the next line (v2.2).
    Legacy,
}

/// The gas reading codes per M-Bus channel 1–4, as static strings for
/// [`Reading::obis`](super::Reading::obis).
const GAS_CODES: &[(Obis, &str, GasLine)] = &[
    (o(0, 1, 24, 2, 1), "0-1:24.2.1", GasLine::Hourly),
    (o(0, 2, 24, 2, 1), "0-2:24.2.1", GasLine::Hourly),
    (o(0, 3, 24, 2, 1), "0-3:24.2.1", GasLine::Hourly),
    (o(0, 4, 24, 2, 1), "0-4:24.2.1", GasLine::Hourly),
    (o(0, 1, 24, 2, 3), "0-1:24.2.3", GasLine::Hourly),
    (o(0, 2, 24, 2, 3), "0-2:24.2.3", GasLine::Hourly),
    (o(0, 3, 24, 2, 3), "0-3:24.2.3", GasLine::Hourly),
    (o(0, 4, 24, 2, 3), "0-4:24.2.3", GasLine::Hourly),
    (o(0, 1, 24, 3, 0), "0-1:24.3.0", GasLine::Legacy),
    (o(0, 2, 24, 3, 0), "0-2:24.3.0", GasLine::Legacy),
    (o(0, 3, 24, 3, 0), "0-3:24.3.0", GasLine::Legacy),
    (o(0, 4, 24, 3, 0), "0-4:24.3.0", GasLine::Legacy),
];

/// The static spelling and kind of a gas reading code on channels 1–4.
pub(crate) fn gas_code(code: Obis) -> Option<(&'static str, GasLine)> {
    GAS_CODES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, s, l)| (*s, *l))
}

/// Splits a value group `001234.567*kWh` into number and unit.
pub(crate) fn split_unit(group: &str) -> (&str, Option<&str>) {
    match group.split_once('*') {
        Some((num, unit)) => (num, Some(unit)),
        None => (group, None),
    }
}

/// Exact powers of ten (every one up to 1e22 is representable in f64).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Most digits a value may have: keeps the mantissa exact in an f64 (< 2^53).
const MAX_DIGITS: usize = 15;

/// Parses an unsigned decimal `digits[.digits]` and multiplies it by
/// 10^`shift` (`shift` in -3..=3). The result is the correctly rounded f64 of
/// the exact decimal value (`"01.193"` with shift 3 is exactly 1193.0).
pub(crate) fn decimal(s: &str, shift: i32) -> Option<f64> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    let digits = int.len() + frac.len();
    if digits == 0
        || digits > MAX_DIGITS
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut mantissa: u64 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        mantissa = mantissa * 10 + u64::from(b - b'0');
    }
    // ≤ 15 digits, so both the mantissa and the exponent stay small.
    let exp = shift - i32::try_from(frac.len()).ok()?;
    let scale = *POW10.get(usize::try_from(exp.unsigned_abs()).ok()?)?;
    // < 10^15 < 2^53: exact.
    let mantissa = mantissa as f64;
    Some(if exp >= 0 {
        mantissa * scale
    } else {
        mantissa / scale
    })
}

/// Decodes the value group of a mapped electricity code into its component.
pub(crate) fn decode(kind: Kind, group: &str) -> Result<Component, String> {
    let (num, unit) = split_unit(group);
    let unit_is = |u: &str| unit.is_some_and(|got| got.eq_ignore_ascii_case(u));
    let shift = match (kind, unit) {
        (_, None) => Some(if kind == Kind::Power { 3 } else { 0 }),
        (Kind::Energy, _) if unit_is("kWh") => Some(0),
        (Kind::Energy, _) if unit_is("Wh") => Some(-3),
        (Kind::Power, _) if unit_is("kW") => Some(3),
        (Kind::Power, _) if unit_is("W") => Some(0),
        (Kind::Voltage, _) if unit_is("V") => Some(0),
        (Kind::Current, _) if unit_is("A") => Some(0),
        _ => None,
    };
    let Some(shift) = shift else {
        return Err(format!("unexpected unit {:?}", clip(unit.unwrap_or(""))));
    };
    let value = decimal(num, shift).ok_or_else(|| format!("bad number {:?}", clip(num)))?;
    Ok(match kind {
        Kind::Energy => Component::Energy(value),
        Kind::Power => Component::Power(value),
        Kind::Voltage => Component::Voltage(value),
        Kind::Current => Component::Current(value),
        Kind::Tariff => Component::Number(value),
    })
}

/// Decodes a gas value group (`00012.345*m3`, or `00012.345` with the unit
/// given separately) into m³.
pub(crate) fn decode_gas(group: &str, separate_unit: Option<&str>) -> Result<f64, String> {
    let (num, unit) = split_unit(group);
    if let Some(unit) = unit.or(separate_unit)
        && !unit.eq_ignore_ascii_case("m3")
    {
        return Err(format!("unexpected gas unit {:?}", clip(unit)));
    }
    decimal(num, 0).ok_or_else(|| format!("bad gas number {:?}", clip(num)))
}

/// Whether a gas value group (or its separately given unit) says m³.
pub(crate) fn is_m3(group: &str, separate_unit: Option<&str>) -> bool {
    split_unit(group)
        .1
        .or(separate_unit)
        .is_some_and(|u| u.eq_ignore_ascii_case("m3"))
}

/// An equipment identifier: decoded when it is hex-encoded printable ASCII
/// (even length, hex digits only, every byte 0x20–0x7E), else as sent;
/// surrounding spaces trimmed. `None` when empty.
pub(crate) fn equipment_id(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let decoded = hex_ascii(raw);
    let id = decoded.as_deref().unwrap_or(raw).trim();
    (!id.is_empty()).then(|| id.to_owned())
}

fn hex_ascii(s: &str) -> Option<String> {
    if s.is_empty() || !s.len().is_multiple_of(2) {
        return None;
    }
    let mut out = String::with_capacity(s.len() / 2);
    for pair in s.as_bytes().chunks_exact(2) {
        let hi = hex_digit(*pair.first()?)?;
        let lo = hex_digit(*pair.get(1)?)?;
        let byte = (hi << 4) | lo;
        if !(0x20..=0x7E).contains(&byte) {
            return None;
        }
        out.push(char::from(byte));
    }
    Some(out)
}

fn hex_digit(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// DSMR version text: `"50"` → `"5.0"`, other shapes as sent.
pub(crate) fn version(raw: &str) -> String {
    let raw = raw.trim();
    match raw.as_bytes() {
        [major, minor] if major.is_ascii_digit() && minor.is_ascii_digit() => {
            format!("{}.{}", char::from(*major), char::from(*minor))
        }
        _ => raw.to_owned(),
    }
}

/// At most 40 characters of `s`, for error messages about external input.
pub(crate) fn clip(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    }
}
