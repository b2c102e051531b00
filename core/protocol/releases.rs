//! The schema of `releases.toml`, shared by the history checks
//! (`tests/history/`) and the compatibility-test harness
//! (`tests/src/harness/compat.rs`), so both read the file the same way.
//! Plain serde types; included with `#[path]`, not part of the crate.
// Each includer uses a different subset.
#![allow(dead_code)]

/// The whole `releases.toml`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Releases {
    /// Releases, oldest first.
    #[serde(default)]
    pub release: Vec<Release>,
}

/// One released protocol version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// The annotated git tag on the release commit, e.g. `protocol-v1`.
    pub tag: String,
    /// The full id of the release commit (40 hex digits).
    pub commit: String,
    /// `major.minor` the release speaks.
    pub protocol: String,
    /// The highest component id the release knows.
    pub max_component_id: u16,
    /// The highest message id the release knows.
    pub max_message_id: u16,
}

impl Release {
    /// `(major, minor)` of [`Release::protocol`], if it is well formed.
    pub fn version(&self) -> Option<(u16, u16)> {
        let (major, minor) = self.protocol.split_once('.')?;
        Some((major.parse().ok()?, minor.parse().ok()?))
    }
}
