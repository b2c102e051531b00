//! The Wi-Fi interface's state as the kernel shows it: whether it exists,
//! its `operstate` (`/sys/class/net/<if>/operstate`, RFC 2863 names) and
//! its addresses (`getifaddrs(3)`).

use std::net::IpAddr;
use std::path::Path;

/// One interface's link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Whether the interface exists (a Pi without its Wi-Fi firmware, or a
    /// board without Wi-Fi, has none).
    pub present: bool,
    /// `up`, `down`, `dormant`, `unknown` …; `None` when absent.
    pub operstate: Option<String>,
    /// Its IPv4 and IPv6 addresses, IPv4 first.
    pub addresses: Vec<IpAddr>,
}

/// The link of `interface`, read from `sys_class_net` (`/sys/class/net`).
/// Blocking (small sysfs reads and a netlink dump): call it off the runtime.
pub fn read(sys_class_net: &Path, interface: &str) -> Link {
    let dir = sys_class_net.join(interface);
    if !dir.exists() {
        return Link {
            present: false,
            operstate: None,
            addresses: Vec::new(),
        };
    }
    let operstate = std::fs::read_to_string(dir.join("operstate"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    Link {
        present: true,
        operstate,
        addresses: addresses(interface),
    }
}

fn addresses(interface: &str) -> Vec<IpAddr> {
    let Ok(all) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    let mut out: Vec<IpAddr> = all
        .filter(|a| a.interface_name == interface)
        .filter_map(|a| {
            let addr = a.address?;
            if let Some(v4) = addr.as_sockaddr_in() {
                Some(IpAddr::V4(v4.ip()))
            } else {
                addr.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
            }
        })
        .collect();
    out.sort_by_key(IpAddr::is_ipv6);
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_present_with_its_address_and_a_missing_interface_is_not() {
        let lo = read(Path::new("/sys/class/net"), "lo");
        assert!(lo.present);
        assert!(lo.operstate.is_some());
        assert!(
            lo.addresses.contains(&IpAddr::from([127, 0, 0, 1])),
            "{lo:?}"
        );
        let none = read(Path::new("/sys/class/net"), "igloo-none0");
        assert_eq!(
            none,
            Link {
                present: false,
                operstate: None,
                addresses: Vec::new()
            }
        );
    }
}
