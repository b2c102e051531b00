//! The provider's config section (`[provider.config]` in `igloo.toml`) and its validation.
//!
//! Each serial line is one table, tied to a `[[provider.grant]]` rule of the
//! same provider by that rule's position (`grant = 0` is the first rule): the
//! core opens the port matching that rule and passes it over; this provider
//! never names a `/dev` path.
//!
//! ```toml
//! [[provider.grant]]
//! usb = "0403:6001"                  # rule 0: the RS-485 adapter
//! [[provider.grant]]
//! by_id = "usb-P1_Converter_Cable-if00-port0"   # rule 1: the P1 cable
//!
//! [[provider.config.modbus]]
//! grant = 0
//! baud = 9600                         # default 9600
//! parity = "none"                     # none | even | odd (default none)
//! data_bits = 8                       # default 8
//! stop_bits = 1                       # default 1
//! timeout_ms = 500                    # per request (default 500)
//! [[provider.config.modbus.device]]
//! unit = 1
//! name = "Heat pump meter"
//! preset = "sdm120"
//!
//! [[provider.config.p1]]
//! grant = 1
//! dsmr = "5"                          # "5" (115200 8N1), "4" (115200 7E1), "2.2" (9600 7E1)
//! stale_secs = 30                     # unavailable after this long without a good telegram
//! ```
//!
//! Register maps are described in [`crate::modbus::map`]. Unknown keys are
//! errors, and every error names the table (`modbus[0]`, `p1[0]`) and key.

use std::time::Duration;

use serde::Deserialize;

use crate::modbus::map::{self, DeviceConfig, DeviceMap};
use crate::port::{LineSettings, Parity};

/// The raw section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Modbus RTU lines.
    #[serde(default)]
    pub modbus: Vec<ModbusConfig>,
    /// DSMR P1 ports.
    #[serde(default)]
    pub p1: Vec<P1Config>,
}

/// One `[[provider.config.modbus]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModbusConfig {
    /// Index of the `[[provider.grant]]` rule that gives the port (default 0).
    #[serde(default)]
    pub grant: usize,
    /// Baud rate (default 9600).
    #[serde(default)]
    pub baud: Option<u32>,
    /// Parity (default none).
    #[serde(default)]
    pub parity: Option<Parity>,
    /// Data bits (default 8).
    #[serde(default)]
    pub data_bits: Option<u8>,
    /// Stop bits (default 1).
    #[serde(default)]
    pub stop_bits: Option<u8>,
    /// Answer timeout per request in ms (default 500).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Devices (slave units) on the line.
    #[serde(default)]
    pub device: Vec<DeviceConfig>,
}

/// One `[[provider.config.p1]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P1Config {
    /// Index of the `[[provider.grant]]` rule that gives the port (default 0).
    #[serde(default)]
    pub grant: usize,
    /// DSMR version: "5" (default), "4" or "2.2"; sets the line defaults.
    #[serde(default)]
    pub dsmr: Option<String>,
    /// Overrides of the line settings.
    #[serde(default)]
    pub baud: Option<u32>,
    /// Parity override.
    #[serde(default)]
    pub parity: Option<Parity>,
    /// Data bits override.
    #[serde(default)]
    pub data_bits: Option<u8>,
    /// Stop bits override.
    #[serde(default)]
    pub stop_bits: Option<u8>,
    /// Seconds without a valid telegram before the meter is unavailable (default 30).
    #[serde(default)]
    pub stale_secs: Option<u64>,
}

/// A validated Modbus line.
#[derive(Debug, Clone)]
pub struct ModbusLine {
    /// Grant rule index.
    pub grant: usize,
    /// Line settings.
    pub line: LineSettings,
    /// Answer timeout per request.
    pub timeout: Duration,
    /// Its devices.
    pub devices: Vec<DeviceMap>,
}

/// A validated P1 port.
#[derive(Debug, Clone)]
pub struct P1Line {
    /// Grant rule index.
    pub grant: usize,
    /// Line settings.
    pub line: LineSettings,
    /// Staleness limit.
    pub stale: Duration,
}

/// Everything the provider runs.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Modbus lines.
    pub modbus: Vec<ModbusLine>,
    /// P1 ports.
    pub p1: Vec<P1Line>,
}

impl Config {
    /// Validates the section.
    ///
    /// # Errors
    /// The first problem found, naming the table and key: impossible line
    /// settings, two lines on one grant rule, and every register-map error
    /// of [`map::validate`].
    pub fn validate(self) -> Result<Settings, String> {
        let mut used: Vec<(usize, String)> = Vec::new();
        let mut claim = |grant: usize, what: String| -> Result<(), String> {
            if let Some((_, other)) = used.iter().find(|(g, _)| *g == grant) {
                return Err(format!(
                    "{what} and {other} both use grant rule {grant}: one serial line per port"
                ));
            }
            used.push((grant, what));
            Ok(())
        };
        let mut settings = Settings::default();
        for (i, m) in self.modbus.into_iter().enumerate() {
            let name = format!("modbus[{i}]");
            claim(m.grant, name.clone())?;
            let line = LineSettings {
                baud: m.baud.unwrap_or(9600),
                parity: m.parity.unwrap_or(Parity::None),
                data_bits: m.data_bits.unwrap_or(8),
                stop_bits: m.stop_bits.unwrap_or(1),
            };
            line.validate().map_err(|e| format!("{name}: {e}"))?;
            let timeout_ms = m.timeout_ms.unwrap_or(500);
            if !(10..=60_000).contains(&timeout_ms) {
                return Err(format!(
                    "{name}: timeout_ms = {timeout_ms}: must be 10..=60000"
                ));
            }
            if m.device.is_empty() {
                return Err(format!(
                    "{name}: no [[provider.config.modbus.device]] listed"
                ));
            }
            let devices = map::validate(&m.device).map_err(|e| format!("{name}: {e}"))?;
            settings.modbus.push(ModbusLine {
                grant: m.grant,
                line,
                timeout: Duration::from_millis(timeout_ms),
                devices,
            });
        }
        for (i, p) in self.p1.into_iter().enumerate() {
            let name = format!("p1[{i}]");
            claim(p.grant, name.clone())?;
            let defaults = match p.dsmr.as_deref().unwrap_or("5") {
                "5" | "5.0" => (115_200, Parity::None, 8),
                "4" | "4.0" | "4.2" => (115_200, Parity::Even, 7),
                "2.2" | "2" | "3" => (9600, Parity::Even, 7),
                other => {
                    return Err(format!(
                        "{name}: dsmr = {other:?}: use \"5\", \"4\" or \"2.2\""
                    ));
                }
            };
            let line = LineSettings {
                baud: p.baud.unwrap_or(defaults.0),
                parity: p.parity.unwrap_or(defaults.1),
                data_bits: p.data_bits.unwrap_or(defaults.2),
                stop_bits: p.stop_bits.unwrap_or(1),
            };
            line.validate().map_err(|e| format!("{name}: {e}"))?;
            let stale = p.stale_secs.unwrap_or(30);
            if stale == 0 {
                return Err(format!("{name}: stale_secs must be at least 1"));
            }
            settings.p1.push(P1Line {
                grant: p.grant,
                line,
                stale: Duration::from_secs(stale),
            });
        }
        if settings.modbus.is_empty() && settings.p1.is_empty() {
            return Err(
                "nothing to do: add a [[provider.config.modbus]] or [[provider.config.p1]] table"
                    .into(),
            );
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, String> {
        toml::from_str::<Config>(text)
            .map_err(|e| e.to_string())?
            .validate()
    }

    const DEVICE: &str = "[[modbus.device]]\nunit = 1\nname = \"m\"\npreset = \"sdm120\"\n";

    #[test]
    fn defaults_per_line_kind() {
        let s = parse(&format!("[[modbus]]\n{DEVICE}\n[[p1]]\ngrant = 1\n")).expect("valid");
        assert_eq!(s.modbus[0].line.to_string(), "9600 8N1");
        assert_eq!(s.modbus[0].timeout, Duration::from_millis(500));
        assert_eq!(s.p1[0].line.to_string(), "115200 8N1");
        let s = parse("[[p1]]\ndsmr = \"4\"\n").expect("valid");
        assert_eq!(s.p1[0].line.to_string(), "115200 7E1");
        let s = parse("[[p1]]\ndsmr = \"2.2\"\nstale_secs = 60\n").expect("valid");
        assert_eq!(s.p1[0].line.to_string(), "9600 7E1");
        assert_eq!(s.p1[0].stale, Duration::from_secs(60));
    }

    #[test]
    fn errors_name_the_table_and_key() {
        let e = parse(&format!("[[modbus]]\nbaud = 12345\n{DEVICE}")).unwrap_err();
        assert!(e.starts_with("modbus[0]: baud = 12345"), "{e}");
        let e = parse(&format!("[[modbus]]\nstop_bits = 3\n{DEVICE}")).unwrap_err();
        assert!(e.contains("stop_bits = 3"), "{e}");
        let e = parse("[[modbus]]\n").unwrap_err();
        assert!(e.contains("no [[provider.config.modbus.device]]"), "{e}");
        let e = parse(&format!("[[modbus]]\n{DEVICE}\n[[p1]]\ngrant = 0\n")).unwrap_err();
        assert!(e.contains("both use grant rule 0"), "{e}");
        let e = parse("[[p1]]\ndsmr = \"6\"\n").unwrap_err();
        assert!(e.contains("dsmr = \"6\""), "{e}");
        let e = parse("").unwrap_err();
        assert!(e.contains("nothing to do"), "{e}");
        let e = parse("[[p1]]\nbaudrate = 9600\n").unwrap_err();
        assert!(e.contains("unknown field"), "{e}");
        let e = parse(&format!("[[modbus]]\ntimeout_ms = 1\n{DEVICE}")).unwrap_err();
        assert!(e.contains("timeout_ms = 1"), "{e}");
    }
}
