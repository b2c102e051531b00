//! Parsing one framed telegram (the bytes between `/` and `!`) into a
//! [`Telegram`].

use super::obis::{self, GasLine, Obis, clip};
use super::{Reading, Telegram, TelegramError};
use igloo_provider::protocol::Component;

/// One data line: `OBIS(value)(value)…`, with v2.2 continuation lines
/// (`(value)` alone) appended to the groups of the line before.
struct Line<'a> {
    code: Obis,
    groups: Vec<&'a str>,
}

impl<'a> Line<'a> {
    /// The only value group of the line.
    fn single(&self) -> Result<&'a str, TelegramError> {
        match self.groups.as_slice() {
            [one] => Ok(one),
            other => Err(malformed(format!(
                "{}: expected one value, got {}",
                self.code,
                other.len()
            ))),
        }
    }
}

fn malformed(msg: String) -> TelegramError {
    TelegramError::Malformed(msg)
}

/// Parses `body` (the bytes after `/` up to, excluding, `!`). Returns the
/// telegram and the number of data lines whose code is not mapped.
/// `crc_checked` tells whether the telegram carried a (matching) CRC.
pub(crate) fn parse(body: &[u8], crc_checked: bool) -> Result<(Telegram, u64), TelegramError> {
    let text = String::from_utf8_lossy(body);
    let mut raw_lines = text.split('\n');
    let header = raw_lines.next().unwrap_or("").trim_end_matches('\r');
    if header.is_empty() || !header.chars().all(|c| matches!(c, ' '..='~')) {
        return Err(malformed(format!("bad header line {:?}", clip(header))));
    }

    let mut lines: Vec<Line<'_>> = Vec::new();
    for raw in raw_lines {
        let line = raw.trim_end_matches(['\r', ' ', '\t']);
        if line.is_empty() {
            continue;
        }
        let Some(start) = line.find('(') else {
            return Err(malformed(format!("line without value {:?}", clip(line))));
        };
        let (reference, values) = line.split_at(start);
        let groups =
            groups(values).ok_or_else(|| malformed(format!("bad value list {:?}", clip(line))))?;
        let reference = reference.trim();
        if reference.is_empty() {
            // DSMR 2.2: the gas value `(00012.345)` on the line after
            // `0-n:24.3.0(…)(m3)`.
            let Some(prev) = lines.last_mut() else {
                return Err(malformed(format!(
                    "value line before any OBIS line {:?}",
                    clip(line)
                )));
            };
            prev.groups.extend(groups);
            continue;
        }
        let code = Obis::parse(reference)
            .ok_or_else(|| malformed(format!("bad OBIS reference {:?}", clip(reference))))?;
        lines.push(Line { code, groups });
    }
    if lines.is_empty() {
        return Err(malformed("no data lines".to_owned()));
    }

    // M-Bus metadata first: a channel's device type and identifier may follow
    // its reading.
    let mut device_types: [Option<u32>; 5] = [None; 5];
    let mut mbus_ids: [Option<&str>; 5] = [None; 5];
    for line in &lines {
        let channel = usize::from(line.code.b);
        if !(1..=4).contains(&channel) {
            continue;
        }
        let general = line.code.without_channel();
        if general == obis::MBUS_DEVICE_TYPE {
            let raw = line.single()?.trim();
            let kind = (!raw.is_empty()
                && raw.len() <= 3
                && raw.bytes().all(|b| b.is_ascii_digit()))
            .then(|| raw.parse::<u32>().ok())
            .flatten()
            .ok_or_else(|| malformed(format!("{}: bad device type {:?}", line.code, clip(raw))))?;
            if let Some(slot) = device_types.get_mut(channel) {
                *slot = Some(kind);
            }
        } else if general == obis::MBUS_EQUIPMENT_ID
            && let Some(slot) = mbus_ids.get_mut(channel)
        {
            *slot = Some(line.single()?);
        }
    }

    let mut telegram = Telegram {
        header: header.to_owned(),
        version: None,
        equipment_id: None,
        gas_equipment_id: None,
        timestamp: None,
        crc_checked,
        readings: Vec::new(),
    };
    let mut gas: Option<Reading> = None;
    let mut unknown = 0u64;
    for line in &lines {
        let code = line.code;
        let channel = usize::from(code.b);
        let general = code.without_channel();
        if code == obis::VERSION {
            telegram.version = Some(obis::version(line.single()?));
        } else if code == obis::TIMESTAMP {
            telegram.timestamp = Some(line.single()?.trim().to_owned());
        } else if code == obis::EQUIPMENT_ID {
            telegram.equipment_id = obis::equipment_id(line.single()?);
        } else if (1..=4).contains(&channel)
            && (general == obis::MBUS_DEVICE_TYPE || general == obis::MBUS_EQUIPMENT_ID)
        {
            // Used above.
        } else if let Some(map) = obis::lookup(code) {
            let value = obis::decode(map.kind, line.single()?)
                .map_err(|e| malformed(format!("{}: {e}", map.obis)))?;
            if telegram.reading(map.entity).is_some() {
                return Err(malformed(format!("{} sent twice", map.obis)));
            }
            telegram.readings.push(Reading {
                entity: map.entity,
                obis: map.obis,
                value,
            });
        } else if let Some((name, shape)) = obis::gas_code(code) {
            let (value, separate_unit) = match (shape, line.groups.as_slice()) {
                (GasLine::Hourly, [.., value]) => (*value, None),
                (GasLine::Legacy, [.., unit, value]) => (*value, Some(*unit)),
                _ => return Err(malformed(format!("{name}: missing value"))),
            };
            let is_gas = match device_types.get(channel).copied().flatten() {
                Some(kind) => kind == obis::DEVICE_TYPE_GAS,
                None => obis::is_m3(value, separate_unit),
            };
            if !is_gas || gas.is_some() {
                unknown += 1;
                continue;
            }
            let m3 = obis::decode_gas(value, separate_unit)
                .map_err(|e| malformed(format!("{name}: {e}")))?;
            gas = Some(Reading {
                entity: obis::GAS_ENTITY,
                obis: name,
                value: Component::Gas(m3),
            });
            telegram.gas_equipment_id = mbus_ids
                .get(channel)
                .copied()
                .flatten()
                .and_then(obis::equipment_id);
        } else {
            unknown += 1;
        }
    }
    telegram.readings.extend(gas);

    if !crc_checked && let Some(version) = &telegram.version {
        return Err(malformed(format!(
            "DSMR {} telegram without CRC",
            clip(version)
        )));
    }
    Ok((telegram, unknown))
}

/// Splits `(a)(b)()…` into its group contents; `None` unless the whole text is
/// such a list (no nesting, nothing between or after the groups).
fn groups(mut rest: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    while !rest.is_empty() {
        let inner = rest.strip_prefix('(')?;
        let (value, after) = inner.split_once(')')?;
        if value.contains('(') {
            return None;
        }
        out.push(value);
        rest = after;
    }
    Some(out)
}
