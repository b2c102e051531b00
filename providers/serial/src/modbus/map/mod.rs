//! The register map of Modbus devices: configuration, validation, presets,
//! and the conversion between raw registers/bits and Igloo components.
//!
//! A device's configuration ([`DeviceConfig`], with its [`RegisterConfig`]s
//! and optionally a bundled [`preset`]) is checked by [`validate`] into a
//! [`DeviceMap`]: one [`Point`] per register (an Igloo entity carrying one
//! component) and the [`ReadGroup`]s that poll them. [`decode_registers`] and
//! [`decode_bits`] turn a group's answer into components; [`encode`] turns a
//! change request into a [`Write`].
//!
//! Addresses are protocol addresses, 0-based, per data model table (Modbus
//! Application Protocol Specification v1.1b3 §4.4): holding register
//! "40001" is holding address 0, input register "30001" is input address 0.
//! 32-bit types span two consecutive registers.

mod codec;
mod group;
mod preset;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::Duration;

use igloo_provider::protocol::{ComponentInfo, Kind};
use serde::Deserialize;

pub use codec::{Write, decode_bits, decode_registers, encode};
pub use group::{MAX_GAP, MAX_READ_BITS, MAX_READ_REGISTERS};
pub use preset::{preset, preset_names};

/// Lowest Modbus unit (slave) id a device may have: 0 is the broadcast
/// address (Modbus over Serial Line v1.02 §2.2).
pub const MIN_UNIT: i64 = 1;
/// Highest Modbus unit (slave) id: 248–255 are reserved (Modbus over Serial
/// Line v1.02 §2.2).
pub const MAX_UNIT: i64 = 247;
/// Poll interval when neither the register nor its device sets `poll_ms`, ms.
pub const DEFAULT_POLL_MS: i64 = 5000;
/// Shortest accepted poll interval, ms.
pub const MIN_POLL_MS: i64 = 100;
/// Longest accepted poll interval, ms (one day).
pub const MAX_POLL_MS: i64 = 86_400_000;
/// Most registers (entities) on one device: the core's limit of entities per
/// device.
pub const MAX_POINTS: usize = 512;
/// Longest device or entity name, bytes: the core's limit for names.
pub const MAX_NAME: usize = 1024;

/// One Modbus device on a bus, as written in the provider config
/// (`[[provider.config.modbus.device]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceConfig {
    /// Modbus unit (slave) id, [`MIN_UNIT`]..=[`MAX_UNIT`]; unique on the bus.
    pub unit: i64,
    /// Igloo device name.
    pub name: String,
    /// A bundled preset (see [`preset_names`]) whose registers come before
    /// [`DeviceConfig::register`]; matched ASCII case-insensitively.
    #[serde(default)]
    pub preset: Option<String>,
    /// Default poll interval of this device's registers, ms
    /// ([`MIN_POLL_MS`]..=[`MAX_POLL_MS`]; [`DEFAULT_POLL_MS`] when absent).
    #[serde(default)]
    pub poll_ms: Option<i64>,
    /// The registers (`[[provider.config.modbus.device.register]]`).
    #[serde(default)]
    pub register: Vec<RegisterConfig>,
}

/// One register (or coil/discrete input) of a device, as written in the
/// provider config or in a preset file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterConfig {
    /// Igloo entity name, unique on the device.
    pub name: String,
    /// Data model table: `"holding"`, `"input"`, `"coil"` or `"discrete"`
    /// (ASCII case-insensitive).
    pub kind: String,
    /// Protocol address, 0-based, 0..=65535 (including the second register
    /// of a 32-bit type).
    pub address: i64,
    /// Register type: `"u16"`, `"i16"`, `"u32"`, `"i32"` or `"f32"` (IEEE 754
    /// binary32). Required for holding/input registers; coils and discrete
    /// inputs are bits (omit it, or `"bool"`).
    #[serde(rename = "type", default)]
    pub data_type: Option<String>,
    /// Word order of 32-bit types: `"big"` (high word at the lower address,
    /// the default) or `"little"`. Bytes within a word are always big-endian
    /// (Modbus Application Protocol v1.1b3 §4.2). `"little"` only for 32-bit
    /// types.
    #[serde(default)]
    pub word_order: Option<String>,
    /// `value = raw * scale + offset`; finite and non-zero, default 1.
    /// Registers only.
    #[serde(default)]
    pub scale: Option<f64>,
    /// `value = raw * scale + offset`; finite, default 0. Registers only.
    #[serde(default)]
    pub offset: Option<f64>,
    /// Igloo component (from `components.toml`) of kind float or int for
    /// registers, bool for coils/discrete inputs; `"Number"` for a generic
    /// number.
    pub component: String,
    /// Unit of the value. For `Number` it becomes the entity's `unit`
    /// attribute; for a component with a unit it must equal that unit;
    /// other components take none.
    #[serde(default)]
    pub unit: Option<String>,
    /// Whether change requests write it; holding registers and coils only.
    #[serde(default)]
    pub writable: bool,
    /// Poll interval, ms ([`MIN_POLL_MS`]..=[`MAX_POLL_MS`]); the device's
    /// when absent.
    #[serde(default)]
    pub poll_ms: Option<i64>,
}

/// A validated device: its points and the read requests that poll them.
#[derive(Debug, Clone)]
pub struct DeviceMap {
    /// Modbus unit (slave) id, 1..=247.
    pub unit: u8,
    /// Igloo device name.
    pub name: String,
    /// One point per register, in config order (preset registers first).
    pub points: Vec<Point>,
    /// The read requests; every point is in exactly one group.
    pub groups: Vec<ReadGroup>,
}

/// One register/bit of a device mapped to one entity with one component.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Igloo entity name (unique on the device).
    pub entity: String,
    /// The component's name as in `components.toml` (canonical spelling).
    pub component: String,
    /// Data model table.
    pub kind: RegisterKind,
    /// Protocol address (0-based) of the first register or of the bit.
    pub address: u16,
    /// How the registers are interpreted; [`DataType::Bool`] for bits.
    pub data_type: DataType,
    /// Word order of 32-bit types; [`WordOrder::Big`] otherwise.
    pub word_order: WordOrder,
    /// `value = raw * scale + offset` (1 for bits).
    pub scale: f64,
    /// `value = raw * scale + offset` (0 for bits).
    pub offset: f64,
    /// Whether change requests write it (holding registers and coils only).
    pub writable: bool,
    /// Entity attributes: `unit` (when the value has one), `modbus_kind`,
    /// `address` (decimal), `type`, `word_order` (32-bit types), `scale` and
    /// `offset` (when not 1 and 0), `poll_ms`.
    pub attributes: Vec<(String, String)>,
}

/// The four Modbus data model tables (Modbus Application Protocol v1.1b3 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RegisterKind {
    /// Holding registers: 16-bit, read-write (function codes 03, 06, 16).
    Holding,
    /// Input registers: 16-bit, read-only (function code 04).
    Input,
    /// Coils: single bits, read-write (function codes 01, 05).
    Coil,
    /// Discrete inputs: single bits, read-only (function code 02).
    Discrete,
}

impl RegisterKind {
    /// Parses a config name (`holding`, `input`, `coil`, `discrete`; ASCII
    /// case-insensitive).
    pub fn parse(s: &str) -> Option<RegisterKind> {
        [
            RegisterKind::Holding,
            RegisterKind::Input,
            RegisterKind::Coil,
            RegisterKind::Discrete,
        ]
        .into_iter()
        .find(|k| k.name().eq_ignore_ascii_case(s))
    }

    /// The config name, e.g. `"holding"`.
    pub fn name(self) -> &'static str {
        match self {
            RegisterKind::Holding => "holding",
            RegisterKind::Input => "input",
            RegisterKind::Coil => "coil",
            RegisterKind::Discrete => "discrete",
        }
    }

    /// For messages: "a holding register", "an input register", "a coil",
    /// "a discrete input".
    pub fn with_article(self) -> &'static str {
        match self {
            RegisterKind::Holding => "a holding register",
            RegisterKind::Input => "an input register",
            RegisterKind::Coil => "a coil",
            RegisterKind::Discrete => "a discrete input",
        }
    }

    /// Whether the table holds single bits (coils, discrete inputs) rather
    /// than 16-bit registers.
    pub fn is_bits(self) -> bool {
        matches!(self, RegisterKind::Coil | RegisterKind::Discrete)
    }

    /// Whether the table can be written (holding registers, coils).
    pub fn is_writable(self) -> bool {
        matches!(self, RegisterKind::Holding | RegisterKind::Coil)
    }

    /// Most registers or bits one read request may cover:
    /// [`MAX_READ_BITS`] or [`MAX_READ_REGISTERS`].
    pub fn max_read(self) -> u16 {
        if self.is_bits() {
            MAX_READ_BITS
        } else {
            MAX_READ_REGISTERS
        }
    }
}

impl fmt::Display for RegisterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a point's registers are interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    /// One register, unsigned, 0..=65535.
    U16,
    /// One register, two's complement, -32768..=32767.
    I16,
    /// Two registers, unsigned, 0..=4294967295.
    U32,
    /// Two registers, two's complement, -2147483648..=2147483647.
    I32,
    /// Two registers, IEEE 754 binary32.
    F32,
    /// One coil or discrete input.
    Bool,
}

impl DataType {
    /// Parses a config name (`u16`, `i16`, `u32`, `i32`, `f32`, `bool`;
    /// ASCII case-insensitive).
    pub fn parse(s: &str) -> Option<DataType> {
        [
            DataType::U16,
            DataType::I16,
            DataType::U32,
            DataType::I32,
            DataType::F32,
            DataType::Bool,
        ]
        .into_iter()
        .find(|t| t.name().eq_ignore_ascii_case(s))
    }

    /// The config name, e.g. `"f32"`.
    pub fn name(self) -> &'static str {
        match self {
            DataType::U16 => "u16",
            DataType::I16 => "i16",
            DataType::U32 => "u32",
            DataType::I32 => "i32",
            DataType::F32 => "f32",
            DataType::Bool => "bool",
        }
    }

    /// Registers (or bits) the type occupies: 2 for 32-bit types, else 1.
    pub fn width(self) -> u16 {
        match self {
            DataType::U32 | DataType::I32 | DataType::F32 => 2,
            DataType::U16 | DataType::I16 | DataType::Bool => 1,
        }
    }

    /// The integer range of the raw value, `None` for `f32` and `bool`.
    pub fn int_range(self) -> Option<(i64, i64)> {
        match self {
            DataType::U16 => Some((0, i64::from(u16::MAX))),
            DataType::I16 => Some((i64::from(i16::MIN), i64::from(i16::MAX))),
            DataType::U32 => Some((0, i64::from(u32::MAX))),
            DataType::I32 => Some((i64::from(i32::MIN), i64::from(i32::MAX))),
            DataType::F32 | DataType::Bool => None,
        }
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Order of the two registers of a 32-bit value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum WordOrder {
    /// High word at the lower address (e.g. Eastron meters).
    #[default]
    Big,
    /// Low word at the lower address.
    Little,
}

impl WordOrder {
    /// Parses a config name (`big`, `little`; ASCII case-insensitive).
    pub fn parse(s: &str) -> Option<WordOrder> {
        [WordOrder::Big, WordOrder::Little]
            .into_iter()
            .find(|o| o.name().eq_ignore_ascii_case(s))
    }

    /// The config name, e.g. `"big"`.
    pub fn name(self) -> &'static str {
        match self {
            WordOrder::Big => "big",
            WordOrder::Little => "little",
        }
    }
}

impl fmt::Display for WordOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One read request: `count` registers/bits of `kind` from `start`, every
/// `interval`; `points` indexes into [`DeviceMap::points`] (in address
/// order). Points of the same kind and interval that are adjacent or near
/// (at most [`MAX_GAP`] unused registers/bits between them) share a request
/// of at most [`MAX_READ_REGISTERS`] registers or [`MAX_READ_BITS`] bits.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadGroup {
    /// Data model table.
    pub kind: RegisterKind,
    /// First address read.
    pub start: u16,
    /// Registers or bits read, 1..=[`RegisterKind::max_read`].
    pub count: u16,
    /// Poll interval.
    pub interval: Duration,
    /// Indexes into [`DeviceMap::points`], by address.
    pub points: Vec<usize>,
}

/// Validates the devices of one bus into their register maps.
///
/// # Errors
/// Every problem found, one per line, each naming the device (unit and name)
/// and, where it applies, the register: unit outside 1..=247, a unit used
/// twice, an unknown preset (the known ones are listed), an unknown kind,
/// type or word order, an unknown component or one that holds no number or
/// bool, a bool component on a register or a numeric one on a bit, a unit
/// that differs from the component's, overlapping registers of one kind
/// (both named), an address (plus width) beyond 65535, `writable` on an input
/// register or discrete input, a duplicate entity name, `poll_ms` outside
/// 100..=86400000, a zero or non-finite scale, a non-finite offset.
pub fn validate(devices: &[DeviceConfig]) -> Result<Vec<DeviceMap>, String> {
    let mut errors = Vec::new();
    let mut maps = Vec::with_capacity(devices.len());
    let mut units: HashMap<i64, &str> = HashMap::new();
    for dev in devices {
        let who = format!("modbus device {} {:?}", dev.unit, dev.name);
        if let Some(first) = units.get(&dev.unit) {
            errors.push(format!(
                "{who}: unit {} is already used by device {first:?}",
                dev.unit
            ));
        } else {
            units.insert(dev.unit, &dev.name);
        }
        if let Some(map) = validate_device(dev, &who, &mut errors) {
            maps.push(map);
        }
    }
    if errors.is_empty() {
        Ok(maps)
    } else {
        Err(errors.join("\n"))
    }
}

/// Validates one device; problems go to `errors` (prefixed with `who`), and
/// `None` is returned when there were any.
fn validate_device(dev: &DeviceConfig, who: &str, errors: &mut Vec<String>) -> Option<DeviceMap> {
    let before = errors.len();
    let unit = u8::try_from(dev.unit)
        .ok()
        .filter(|u| (MIN_UNIT..=MAX_UNIT).contains(&i64::from(*u)));
    if unit.is_none() {
        errors.push(format!(
            "{who}: unit {} is outside {MIN_UNIT}..={MAX_UNIT} (0 is broadcast, 248-255 are reserved)",
            dev.unit
        ));
    }
    check_name(&dev.name, "device name", who, errors);
    let poll_ms = match dev.poll_ms {
        Some(ms) => match check_poll(ms) {
            Ok(ms) => ms,
            Err(e) => {
                errors.push(format!("{who}: {e}"));
                DEFAULT_POLL_MS
            }
        },
        None => DEFAULT_POLL_MS,
    };

    // Preset registers first, then the device's own.
    let mut registers: Vec<(Option<&'static str>, RegisterConfig)> = Vec::new();
    if let Some(name) = &dev.preset {
        match preset::load(name) {
            Some((canonical, Ok(regs))) => {
                registers.extend(regs.into_iter().map(|r| (Some(canonical), r)));
            }
            Some((canonical, Err(e))) => {
                errors.push(format!("{who}: preset {canonical} is broken: {e}"));
            }
            None => errors.push(format!(
                "{who}: unknown preset {name:?} (known: {})",
                preset_names().join(", ")
            )),
        }
    }
    registers.extend(dev.register.iter().cloned().map(|r| (None, r)));
    if registers.len() > MAX_POINTS {
        errors.push(format!(
            "{who}: {} registers (at most {MAX_POINTS} per device)",
            registers.len()
        ));
    }

    let mut points = Vec::with_capacity(registers.len());
    let mut intervals = Vec::with_capacity(registers.len());
    let mut names: HashSet<&str> = HashSet::new();
    for (from, reg) in &registers {
        let at = match from {
            Some(p) => format!("{who}: register {:?} (preset {p})", reg.name),
            None => format!("{who}: register {:?}", reg.name),
        };
        if !names.insert(reg.name.as_str()) {
            errors.push(format!("{at}: duplicate entity name"));
        }
        if let Some((point, ms)) = validate_register(reg, poll_ms, &at, errors) {
            points.push(point);
            intervals.push(Duration::from_millis(ms.unsigned_abs()));
        }
    }
    check_overlaps(&points, who, errors);

    if errors.len() > before {
        return None;
    }
    let groups = group::build(&points, &intervals);
    Some(DeviceMap {
        unit: unit?,
        name: dev.name.clone(),
        points,
        groups,
    })
}

fn check_name(name: &str, what: &str, at: &str, errors: &mut Vec<String>) {
    if name.trim().is_empty() {
        errors.push(format!("{at}: {what} is empty"));
    } else if name.len() > MAX_NAME {
        errors.push(format!(
            "{at}: {what} is {} bytes (at most {MAX_NAME})",
            name.len()
        ));
    }
}

fn check_poll(ms: i64) -> Result<i64, String> {
    if (MIN_POLL_MS..=MAX_POLL_MS).contains(&ms) {
        Ok(ms)
    } else {
        Err(format!(
            "poll_ms {ms} is outside {MIN_POLL_MS}..={MAX_POLL_MS}"
        ))
    }
}

/// Validates one register; `at` names device and register. Returns the
/// point and its poll interval in ms.
fn validate_register(
    reg: &RegisterConfig,
    device_poll_ms: i64,
    at: &str,
    errors: &mut Vec<String>,
) -> Option<(Point, i64)> {
    let before = errors.len();
    check_name(&reg.name, "entity name", at, errors);
    let mut err = |e: String| errors.push(format!("{at}: {e}"));

    let kind = RegisterKind::parse(&reg.kind);
    if kind.is_none() {
        err(format!(
            "unknown kind {:?} (expected holding, input, coil or discrete)",
            reg.kind
        ));
    }

    // Type and word order.
    let mut data_type = None;
    let mut word_order = WordOrder::Big;
    if let Some(kind) = kind {
        if kind.is_bits() {
            match reg.data_type.as_deref() {
                None => data_type = Some(DataType::Bool),
                Some(t) if DataType::parse(t) == Some(DataType::Bool) => {
                    data_type = Some(DataType::Bool);
                }
                Some(t) => err(format!(
                    "{} is a single bit: type {t:?} does not apply (omit it, or \"bool\")",
                    kind.with_article()
                )),
            }
        } else {
            match reg.data_type.as_deref() {
                None => err(format!(
                    "{} needs a type (u16, i16, u32, i32 or f32)",
                    kind.with_article()
                )),
                Some(t) => match DataType::parse(t) {
                    Some(DataType::Bool) | None => err(format!(
                        "unknown type {t:?} for {} (expected u16, i16, u32, i32 or f32)",
                        kind.with_article()
                    )),
                    Some(dt) => data_type = Some(dt),
                },
            }
        }
    }
    if let Some(wo) = &reg.word_order {
        match WordOrder::parse(wo) {
            None => err(format!(
                "unknown word_order {wo:?} (expected big or little)"
            )),
            Some(o) => {
                word_order = o;
                // "big" is the default and harmless on any type; "little" on a
                // single register suggests byte swapping, which Modbus never does.
                if let Some(dt) = data_type.filter(|dt| dt.width() != 2 && o != WordOrder::Big) {
                    err(format!(
                        "word_order applies only to 32-bit types (u32, i32, f32), not {dt}"
                    ));
                }
            }
        }
    }

    // Scale and offset.
    let bits = kind.is_some_and(RegisterKind::is_bits);
    if bits && (reg.scale.is_some() || reg.offset.is_some()) {
        err(format!(
            "scale and offset do not apply to {} (a bit)",
            kind.map_or("a bit", RegisterKind::with_article)
        ));
    }
    let scale = reg.scale.unwrap_or(1.0);
    if scale == 0.0 || !scale.is_finite() {
        err(format!("scale {scale} must be finite and not zero"));
    }
    let offset = reg.offset.unwrap_or(0.0);
    if !offset.is_finite() {
        err(format!("offset {offset} must be finite"));
    }

    // Address.
    let width = data_type.map_or(1, DataType::width);
    let address = u16::try_from(reg.address).ok();
    let last = reg.address.checked_add(i64::from(width) - 1);
    match (address, last) {
        (Some(_), Some(last)) if last <= i64::from(u16::MAX) => {}
        (Some(_), _) => err(format!(
            "address {} + {width} registers goes beyond 65535",
            reg.address
        )),
        (None, _) => err(format!("address {} is outside 0..=65535", reg.address)),
    }

    // Component and unit.
    let info = ComponentInfo::by_name(&reg.component);
    match info {
        None => err(format!("unknown component {:?}", reg.component)),
        Some(info) => {
            let numeric = matches!(info.kind, Kind::Float | Kind::Int);
            if !numeric && info.kind != Kind::Bool {
                err(format!(
                    "component {} holds {} values; a register needs a float, int or bool component",
                    info.name, info.kind
                ));
            } else if let Some(kind) = kind {
                if kind.is_bits() && numeric {
                    err(format!(
                        "component {} holds {} values, but {} is a bit: use a bool component",
                        info.name,
                        info.kind,
                        kind.with_article()
                    ));
                } else if !kind.is_bits() && !numeric {
                    err(format!(
                        "component {} holds bool values: use it on a coil or discrete input, or use a float or int component",
                        info.name
                    ));
                }
            }
            if let Some(u) = &reg.unit {
                match info.unit {
                    Some(cu) if cu != u => err(format!(
                        "unit {u:?} differs from component {}'s unit {cu:?}",
                        info.name
                    )),
                    Some(_) => {}
                    None if info.name == "Number" => {
                        if u.trim().is_empty() {
                            err("unit is empty".to_string());
                        } else if u.len() > MAX_NAME {
                            err(format!("unit is {} bytes (at most {MAX_NAME})", u.len()));
                        }
                    }
                    None => err(format!(
                        "component {} has no unit, so unit {u:?} does not apply (use Number for a value with a unit)",
                        info.name
                    )),
                }
            }
        }
    }

    if reg.writable
        && let Some(kind) = kind.filter(|k| !k.is_writable())
    {
        err(format!(
            "{} is read-only: writable applies to holding registers and coils",
            kind.with_article()
        ));
    }

    let poll_ms = match reg.poll_ms {
        Some(ms) => match check_poll(ms) {
            Ok(ms) => ms,
            Err(e) => {
                err(e);
                DEFAULT_POLL_MS
            }
        },
        None => device_poll_ms,
    };

    if errors.len() > before {
        return None;
    }
    let (kind, data_type, address, info) = (kind?, data_type?, address?, info?);
    let (scale, offset) = if kind.is_bits() {
        (1.0, 0.0)
    } else {
        (scale, offset)
    };

    let mut attributes = Vec::new();
    if let Some(u) = reg.unit.as_deref().or(info.unit) {
        attributes.push(("unit".to_string(), u.to_string()));
    }
    attributes.push(("modbus_kind".to_string(), kind.name().to_string()));
    attributes.push(("address".to_string(), address.to_string()));
    attributes.push(("type".to_string(), data_type.name().to_string()));
    if data_type.width() == 2 {
        attributes.push(("word_order".to_string(), word_order.name().to_string()));
    }
    if scale != 1.0 {
        attributes.push(("scale".to_string(), scale.to_string()));
    }
    if offset != 0.0 {
        attributes.push(("offset".to_string(), offset.to_string()));
    }
    attributes.push(("poll_ms".to_string(), poll_ms.to_string()));

    let point = Point {
        entity: reg.name.clone(),
        component: info.name.to_string(),
        kind,
        address,
        data_type,
        word_order,
        scale,
        offset,
        writable: reg.writable,
        attributes,
    };
    Some((point, poll_ms))
}

/// Reports registers of the same kind whose address ranges overlap, naming
/// both.
fn check_overlaps(points: &[Point], who: &str, errors: &mut Vec<String>) {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by_key(|&i| (points[i].kind, points[i].address));
    // The point reaching furthest so far within the current kind.
    let mut reach: Option<(usize, u32)> = None;
    for &i in &order {
        let p = &points[i];
        let start = u32::from(p.address);
        let end = start + u32::from(p.data_type.width());
        if let Some((j, prev_end)) = reach
            && points[j].kind == p.kind
        {
            if start < prev_end {
                let q = &points[j];
                errors.push(format!(
                    "{who}: register {:?} ({} {} at {}) overlaps register {:?} ({} {} at {})",
                    p.entity,
                    p.kind,
                    p.data_type,
                    p.address,
                    q.entity,
                    q.kind,
                    q.data_type,
                    q.address
                ));
            }
            if end > prev_end {
                reach = Some((i, end));
            }
            continue;
        }
        reach = Some((i, end));
    }
}
