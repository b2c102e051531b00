//! The hardware keys of `[core]` (docs/configuration.md): where the grant
//! manager reads serial ports and opens their device nodes, and whether it
//! follows hot-plug.

use std::path::{Path, PathBuf};

/// `sysfs_root`, `dev_root` and `hotplug` of `[core]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HardwareSettings {
    /// `sysfs_root = "/sys"`: where USB attributes of serial ports are read.
    pub sysfs_root: PathBuf,
    /// `dev_root = "/dev"`: where device nodes of granted ports are opened.
    pub dev_root: PathBuf,
    /// `hotplug = true`: listen to kernel uevents and grant/revoke on plug/unplug.
    pub hotplug: bool,
}

impl Default for HardwareSettings {
    fn default() -> Self {
        HardwareSettings {
            sysfs_root: PathBuf::from("/sys"),
            dev_root: PathBuf::from("/dev"),
            hotplug: true,
        }
    }
}

impl HardwareSettings {
    /// The settings with relative roots made absolute against `base` (the
    /// config file's directory, so a test tree can sit next to its config).
    pub fn resolved(self, base: &Path) -> HardwareSettings {
        let abs = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
        HardwareSettings {
            sysfs_root: abs(self.sysfs_root),
            dev_root: abs(self.dev_root),
            hotplug: self.hotplug,
        }
    }
}
