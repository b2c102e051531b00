//! The schema of `components.toml`, shared by `build.rs` (code generation)
//! and `tests/append_only.rs` (the history check), so both read the file the
//! same way. Plain serde types; included with `#[path]`, not part of the crate.
// Each includer reads a different subset of the fields.
#![allow(dead_code)]

/// The whole file.
#[derive(Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    /// Entries in id order.
    pub component: Vec<Entry>,
}

/// One `[[component]]` entry.
#[derive(Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// PascalCase name.
    pub name: String,
    /// marker | bool | int | float | string | color | enum.
    pub kind: String,
    /// Unit, where one applies.
    #[serde(default)]
    pub unit: Option<String>,
    /// Variant names of an enum, in wire order.
    #[serde(default)]
    pub variants: Vec<String>,
    /// One-line description.
    #[serde(default)]
    pub desc: String,
}
