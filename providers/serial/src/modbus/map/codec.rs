//! Raw registers/bits ↔ component values.
//!
//! Registers are 16-bit words, big-endian on the wire (Modbus Application
//! Protocol v1.1b3 §4.2); tokio-modbus hands them over as `u16`. A 32-bit
//! value spans two consecutive registers in the point's [`WordOrder`].

use igloo_provider::protocol::{Component, ComponentInfo, Kind, Value};

use super::{DataType, DeviceMap, Point, ReadGroup, RegisterKind, WordOrder};

/// The write that carries out a change request.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Write `words` to holding registers from `address`: one word (Write
    /// Single Register, function 06) or two for a 32-bit type, already in the
    /// point's word order (Write Multiple Registers, function 16).
    Registers {
        /// Address of the first register.
        address: u16,
        /// The register values, 1 or 2 words.
        words: Vec<u16>,
    },
    /// Write Single Coil (function 05).
    Coil {
        /// Coil address.
        address: u16,
        /// `true` = ON (0xFF00), `false` = OFF (0x0000).
        value: bool,
    },
}

/// Decodes a register group's answer: `words` are the `group.count`
/// registers from `group.start`. Returns, for each of the group's points, its
/// index in [`DeviceMap::points`] and its component. Points whose registers
/// are missing from `words`, whose value is NaN or infinite after scaling, or
/// whose value does not fit the component (an int beyond `i64`) are skipped.
pub fn decode_registers(
    map: &DeviceMap,
    group: &ReadGroup,
    words: &[u16],
) -> Vec<(usize, Component)> {
    let mut out = Vec::with_capacity(group.points.len());
    for &i in &group.points {
        let Some(p) = map.points.get(i) else {
            continue;
        };
        if p.kind.is_bits() {
            continue;
        }
        let Some(off) = p.address.checked_sub(group.start).map(usize::from) else {
            continue;
        };
        let Some(w) = words.get(off..off + usize::from(p.data_type.width())) else {
            continue;
        };
        if let Some(c) = raw_value(p.data_type, p.word_order, w).and_then(|raw| component(p, raw)) {
            out.push((i, c));
        }
    }
    out
}

/// Decodes a bit group's answer: `bits` are the `group.count` coils or
/// discrete inputs from `group.start`. Returns, for each of the group's
/// points, its index in [`DeviceMap::points`] and its bool component; points
/// whose bit is missing from `bits` are skipped.
pub fn decode_bits(map: &DeviceMap, group: &ReadGroup, bits: &[bool]) -> Vec<(usize, Component)> {
    let mut out = Vec::with_capacity(group.points.len());
    for &i in &group.points {
        let Some(p) = map.points.get(i) else {
            continue;
        };
        if !p.kind.is_bits() {
            continue;
        }
        let Some(&bit) = p
            .address
            .checked_sub(group.start)
            .and_then(|off| bits.get(usize::from(off)))
        else {
            continue;
        };
        let c = ComponentInfo::by_name(&p.component)
            .and_then(|info| Component::from_value(info.id, Value::Bool(bit)).ok());
        if let Some(c) = c {
            out.push((i, c));
        }
    }
    out
}

/// Turns a change request's value into the write that carries it out.
///
/// Registers: `raw = (value - offset) / scale`; integer types round to the
/// nearest integer, `f32` rounds to the nearest binary32.
///
/// # Errors
/// The point is not writable (or not a holding register/coil), `value` is
/// another component than the point's, or the raw value is outside the
/// type's range (the message names the raw and the scaled limits).
pub fn encode(point: &Point, value: &Component) -> Result<Write, String> {
    let entity = &point.entity;
    if !point.writable || !point.kind.is_writable() {
        return Err(format!("entity {entity:?} is not writable"));
    }
    if value.name() != point.component {
        return Err(format!(
            "entity {entity:?} takes component {}, not {}",
            point.component,
            value.name()
        ));
    }
    let v = value.value();
    match point.kind {
        RegisterKind::Coil => match v {
            Value::Bool(b) => Ok(Write::Coil {
                address: point.address,
                value: b,
            }),
            other => Err(format!(
                "entity {entity:?}: a coil takes a bool, got {}",
                other.describe()
            )),
        },
        RegisterKind::Holding => {
            let Some(x) = v.as_float().filter(|x| x.is_finite()) else {
                return Err(format!(
                    "entity {entity:?}: a {} register takes a finite number, got {}",
                    point.data_type,
                    v.describe()
                ));
            };
            let raw = (x - point.offset) / point.scale;
            let words = to_words(point, raw).ok_or_else(|| range_error(point, x))?;
            Ok(Write::Registers {
                address: point.address,
                words,
            })
        }
        RegisterKind::Input | RegisterKind::Discrete => {
            Err(format!("entity {entity:?} is not writable"))
        }
    }
}

/// The raw value of one point's registers (`w` has the type's width), as
/// `f64` (exact for every integer type; `f32` via its shortest decimal form,
/// so 0.1f32 becomes 0.1, not 0.10000000149011612). `None` for bits or a
/// wrong width.
fn raw_value(dt: DataType, order: WordOrder, w: &[u16]) -> Option<f64> {
    let pair = || -> Option<u32> {
        let (hi, lo) = match (order, w) {
            (WordOrder::Big, [hi, lo]) => (*hi, *lo),
            (WordOrder::Little, [lo, hi]) => (*hi, *lo),
            _ => return None,
        };
        Some((u32::from(hi) << 16) | u32::from(lo))
    };
    Some(match (dt, w) {
        (DataType::U16, [x]) => f64::from(*x),
        (DataType::I16, [x]) => f64::from(x.cast_signed()),
        (DataType::U32, _) => f64::from(pair()?),
        (DataType::I32, _) => f64::from(pair()?.cast_signed()),
        (DataType::F32, _) => {
            let f = f32::from_bits(pair()?);
            if !f.is_finite() {
                return None;
            }
            f.to_string().parse::<f64>().unwrap_or(f64::from(f))
        }
        _ => return None,
    })
}

/// `raw * scale + offset` as the point's component; `None` when not finite
/// or not representable.
fn component(p: &Point, raw: f64) -> Option<Component> {
    let info = ComponentInfo::by_name(&p.component)?;
    let v = if p.scale == 1.0 && p.offset == 0.0 {
        raw
    } else {
        tidy(raw * p.scale + p.offset)
    };
    if !v.is_finite() {
        return None;
    }
    let value = match info.kind {
        Kind::Float => Value::Float(v),
        Kind::Int => {
            let r = v.round();
            if r.abs() >= 9.0e18 {
                return None;
            }
            Value::Int(r as i64)
        }
        _ => return None,
    };
    Component::from_value(info.id, value).ok()
}

/// Rounds to 15 significant digits, dropping the binary noise of scaling
/// (2305 × 0.1 = 230.50000000000003 → 230.5). Every 32-bit integer has at
/// most 10 digits, so no information is lost.
fn tidy(v: f64) -> f64 {
    if !v.is_finite() {
        return v;
    }
    format!("{v:.14e}").parse().unwrap_or(v)
}

/// The register words of `raw` for `point`; `None` when out of range.
fn to_words(point: &Point, raw: f64) -> Option<Vec<u16>> {
    let split = |x: u32| -> Vec<u16> {
        let (hi, lo) = ((x >> 16) as u16, (x & 0xFFFF) as u16);
        match point.word_order {
            WordOrder::Big => vec![hi, lo],
            WordOrder::Little => vec![lo, hi],
        }
    };
    if point.data_type == DataType::F32 {
        let f = raw as f32;
        return f.is_finite().then(|| split(f.to_bits()));
    }
    let (lo, hi) = point.data_type.int_range()?;
    let r = raw.round();
    // Compare as f64 first: `as i64` saturates, which would hide overflow.
    if !(r >= lo as f64 && r <= hi as f64) {
        return None;
    }
    let r = r as i64;
    Some(match point.data_type {
        DataType::U16 => vec![u16::try_from(r).ok()?],
        DataType::I16 => vec![i16::try_from(r).ok()?.cast_unsigned()],
        DataType::U32 => split(u32::try_from(r).ok()?),
        DataType::I32 => split(i32::try_from(r).ok()?.cast_unsigned()),
        DataType::F32 | DataType::Bool => return None,
    })
}

/// "out of range" for `value` on `point`, naming the raw limits and the
/// values they allow.
fn range_error(point: &Point, value: f64) -> String {
    let (raw_lo, raw_hi, raw_text) = match point.data_type.int_range() {
        Some((lo, hi)) => (lo as f64, hi as f64, format!("{lo}..={hi}")),
        None => {
            let m = f64::from(f32::MAX);
            (-m, m, format!("{}..={}", -f32::MAX, f32::MAX))
        }
    };
    let a = tidy(raw_lo * point.scale + point.offset);
    let b = tidy(raw_hi * point.scale + point.offset);
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    format!(
        "entity {:?}: {value} is out of range: {} holds {raw_text}, which with scale {} and offset {} is {lo}..={hi}",
        point.entity, point.data_type, point.scale, point.offset
    )
}
