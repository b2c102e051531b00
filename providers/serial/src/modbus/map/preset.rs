//! Bundled register-map presets (`providers/serial/presets/*.toml`).

use serde::Deserialize;

use super::RegisterConfig;

/// Name and TOML text of every bundled preset, sorted by name.
const PRESETS: &[(&str, &str)] = &[
    ("sdm120", include_str!("../../../presets/sdm120.toml")),
    ("sdm630", include_str!("../../../presets/sdm630.toml")),
];

/// A preset file: `[[register]]` tables with the schema of
/// [`RegisterConfig`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetFile {
    register: Vec<RegisterConfig>,
}

/// Names of the bundled presets, e.g. `["sdm120", "sdm630"]`.
pub fn preset_names() -> Vec<&'static str> {
    PRESETS.iter().map(|(name, _)| *name).collect()
}

/// The registers of a bundled preset (name matched ASCII
/// case-insensitively); `None` for an unknown name.
pub fn preset(name: &str) -> Option<Vec<RegisterConfig>> {
    load(name).and_then(|(_, regs)| regs.ok())
}

/// Looks a preset up: its canonical name and its parsed registers (or why
/// its file does not parse). `None` for an unknown name.
pub(super) fn load(name: &str) -> Option<(&'static str, Result<Vec<RegisterConfig>, String>)> {
    let (canonical, text) = PRESETS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))?;
    let parsed = toml::from_str::<PresetFile>(text)
        .map(|f| f.register)
        .map_err(|e| e.to_string());
    Some((canonical, parsed))
}
