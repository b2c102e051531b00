//! `igloo.toml` parsing: defaults, errors at their lines, every section.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::sandbox::netpolicy::NetworkPolicy;
use crate::sandbox::settings::{ProviderLimits, SocketFamily};

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/etc/igloo/igloo.toml"))
}

#[test]
fn defaults_apply() {
    let c = parse("").unwrap();
    assert_eq!(c.core.api_listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.core.data_dir, PathBuf::from("/var/lib/igloo"));
    assert!(c.providers.is_empty());
}

#[test]
fn syntax_error_names_line() {
    let e = parse("[core]\napi_listen = \"127.0.0.1:80\"\nlog = \n").unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.to_string().starts_with("/etc/igloo/igloo.toml:3:"), "{e}");
}

#[test]
fn unknown_key_names_line() {
    let e = parse("[core]\n\nlisten = 1\n").unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.message.contains("listen"), "{e}");
}

#[test]
fn duplicate_provider_names_line() {
    let text = "[[provider]]\nname = \"a\"\nexec = \"/bin/sh\"\n\n[[provider]]\nname = \"a\"\nexec = \"/bin/sh\"\n";
    let e = parse(text).unwrap_err();
    assert_eq!(e.line, Some(6), "{e}");
    assert!(e.message.contains("duplicate provider name"), "{e}");
}

#[test]
fn missing_exec_and_bad_address() {
    let e = parse("[[provider]]\nname = \"a\"\nexec = \"/nonexistent/x\"\n").unwrap_err();
    assert_eq!(e.line, Some(3));
    assert!(e.message.contains("not found"));
    let e = parse("[core]\napi_listen = \"localhost\"\n").unwrap_err();
    assert_eq!(e.line, Some(2));
}

#[test]
fn update_policy_and_versions_dir() {
    let c = parse("[core]\ndata_dir = \"/d\"\n[[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\n")
        .unwrap();
    assert_eq!(c.core.versions_dir, PathBuf::from("/d/provider-versions"));
    assert_eq!(c.providers[0].update, UpdatePolicy::default());
    let c = parse("[core]\nversions_dir = \"/v\"\n[[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\n[provider.update]\nwindow_ms = 5000\nmax_failures = 1\n").unwrap();
    assert_eq!(c.core.versions_dir, PathBuf::from("/v"));
    assert_eq!(
        c.providers[0].update,
        UpdatePolicy {
            window: Duration::from_secs(5),
            max_failures: 1
        }
    );
    for bad in ["window_ms = 0", "max_failures = 0", "max_failures = 101"] {
        let e = parse(&format!(
            "[[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\n[provider.update]\n{bad}\n"
        ))
        .unwrap_err();
        assert!(e.message.contains("[provider.update] needs"), "{bad}: {e}");
        assert_eq!(e.line, Some(5), "at the key, {bad}: {e}");
    }
    let e =
        parse("[[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\n[provider.update]\nwindow = 1\n")
            .unwrap_err();
    assert!(e.message.contains("window"), "{e}");
}

#[test]
fn sandbox_defaults_are_confining() {
    let c = parse("[[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\n").unwrap();
    let p = &c.providers[0];
    assert_eq!(p.network, NetworkPolicy::Lan);
    assert!(p.sandbox.enabled && !p.untrusted && !p.wait_for_grant);
    assert_eq!(p.sandbox.tcp_connect, None);
    assert!(p.sandbox.tcp_bind.is_empty());
    assert_eq!(
        p.sandbox.socket_families,
        vec![SocketFamily::Inet, SocketFamily::Inet6]
    );
    assert_eq!(p.limits, ProviderLimits::default());
    assert_eq!(c.core.sandbox.uid_range, (64000, 64999));
    assert_eq!(c.core.sandbox.cgroup.as_deref(), Some("igloo"));
    assert!(!c.core.sandbox.lan_prefixes.is_empty());
}

#[test]
fn sandbox_keys_parse() {
    let text = "[core]\nuid_range = [5000, 5009]\ncgroup = \"\"\nlan_prefixes = [\"10.1.0.0/16\"]\n\
                [[provider]]\nname = \"z\"\nexec = \"/bin/sh\"\nnetwork = \"none\"\nuntrusted = true\nwait_for_grant = true\n\
                [provider.sandbox]\ntcp_connect = [1883, 8883]\nsocket_families = [\"inet\", \"netlink\"]\n\
                [provider.limits]\nmemory_mib = 64\npids = 16\n\
                [[provider.grant]]\nknown = \"zigbee\"\n[[provider.grant]]\nusb = \"10c4:ea60\"\nproduct = \"Sonoff\"\n";
    let c = parse(text).unwrap();
    assert_eq!(c.core.sandbox.uid_range, (5000, 5009));
    assert_eq!(c.core.sandbox.cgroup, None);
    assert_eq!(c.core.sandbox.lan_prefixes.len(), 1);
    let p = &c.providers[0];
    assert_eq!(p.network, NetworkPolicy::None);
    assert!(p.untrusted && p.wait_for_grant);
    assert_eq!(p.sandbox.tcp_connect, Some(vec![1883, 8883]));
    assert_eq!(
        p.sandbox.socket_families,
        vec![SocketFamily::Inet, SocketFamily::Netlink]
    );
    assert_eq!(
        (p.limits.memory_mib, p.limits.pids, p.limits.open_files),
        (64, 16, 1024)
    );
    assert_eq!(p.grants.len(), 2);
}

#[test]
fn sandbox_mistakes_name_the_line() {
    let e = parse("[[provider]]\nname = \"z\"\nexec = \"/bin/sh\"\nnetwork = \"internet\"\n")
        .unwrap_err();
    assert_eq!(e.line, Some(4), "{e}");
    let e = parse(
        "[[provider]]\nname = \"z\"\nexec = \"/bin/sh\"\n[[provider.grant]]\nusb = \"1cf1-0030\"\n",
    )
    .unwrap_err();
    // The rule's [[provider.grant]] header.
    assert_eq!(e.line, Some(4), "{e}");
    assert!(e.message.contains("grant rule"), "{e}");
    let e = parse("[[provider]]\nname = \"z\"\nexec = \"/bin/sh\"\nwait_for_grant = true\n")
        .unwrap_err();
    assert!(e.message.contains("wait_for_grant"), "{e}");
    let e = parse("[[provider]]\nname = \"z\"\nexec = \"/bin/sh\"\n[provider.sandbox]\nuid = 0\n")
        .unwrap_err();
    assert!(e.message.contains("root"), "{e}");
    let e =
        parse("[[provider]]\nname = \"z\"\nexec = \"/bin/sh\"\n[provider.sandbox]\nuid = 64001\n")
            .unwrap_err();
    assert!(e.message.contains("inside [core] uid_range"), "{e}");
    let two = "[[provider]]\nname = \"a\"\nexec = \"/bin/sh\"\n[provider.sandbox]\nuid = 5000\n\
               [[provider]]\nname = \"b\"\nexec = \"/bin/sh\"\n[provider.sandbox]\nuid = 5000\n";
    let e = parse(two).unwrap_err();
    assert!(e.message.contains("already another provider's"), "{e}");
    let e = parse("[core]\nlan_prefixes = [\"10.0.0.0/33\"]\n").unwrap_err();
    assert_eq!(e.line, Some(2), "{e}");
    let e = parse("[core]\nuid_range = [0, 10]\n").unwrap_err();
    assert_eq!(e.line, Some(2), "{e}");
}

#[test]
fn config_keys_are_found_at_their_lines() {
    let text = r#"[[provider]]
name = "a"
exec = "/bin/true"

[[provider]]
name = "serial"
exec = "/bin/true"

[provider.config]
broker = "x"
tls.ca = "ca.pem"
limits = { baud = 9600 }

[[provider.config.modbus]]
grant = 0
baud = 9601

[[provider.config.modbus]]
grant = 1
"#;
    let c = parse(text).unwrap();
    assert_eq!(c.providers[0].config_line("broker"), None, "no section");
    let p = &c.providers[1];
    assert_eq!(p.config_line("broker"), Some(10));
    assert_eq!(p.config_line("tls.ca"), Some(11), "dotted key");
    assert_eq!(p.config_line("limits.baud"), Some(12), "inline table");
    assert_eq!(p.config_line("modbus.0.baud"), Some(16), "array of tables");
    assert_eq!(p.config_line("modbus.1.grant"), Some(19));
    assert_eq!(p.config_line("modbus.1.nope"), Some(18), "nearest ancestor");
    assert_eq!(p.config_line("nope"), p.config_line(""), "the section");
    assert!(p.config_line("").is_some());
}

#[test]
fn grant_indices_without_a_rule_are_warned_about_with_their_line() {
    let text = r#"[[provider]]
name = "serial"
exec = "/bin/true"

[[provider.grant]]
usb = "1a86:55d4"

[provider.config]
[[provider.config.modbus]]
grant = 0
[[provider.config.p1]]
grant = 2
"#;
    let c = parse(text).unwrap();
    let w = &c.providers[0].warnings;
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with("/etc/igloo/igloo.toml:12: [provider.config] p1.0.grant = 2")
            && w[0].contains("1 [[provider.grant]] rule"),
        "{w:?}"
    );
}

#[test]
fn provider_config_is_passed_as_toml() {
    let c = parse("[[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\n[provider.config]\nbroker = \"127.0.0.1:1883\"\n").unwrap();
    let t: toml::Table = toml::from_str(&c.providers[0].config_toml).unwrap();
    assert_eq!(t["broker"].as_str(), Some("127.0.0.1:1883"));
}

#[test]
fn provider_mistakes_point_at_the_key_not_the_provider() {
    // (section text, line of the bad key, words in the message)
    let cases = [
        (
            "[provider.restart]\ninitial_backoff_ms = 0\n",
            5,
            "initial_backoff_ms",
        ),
        (
            "[provider.restart]\ninitial_backoff_ms = 900\nmax_backoff_ms = 100\n",
            6,
            "max_backoff_ms (100)",
        ),
        (
            "[provider.update]\n\nmax_failures = 101\n",
            6,
            "max_failures",
        ),
        ("[provider.limits]\nmemory_mib = 1\npids = 0\n", 6, "pids"),
        ("[provider.limits]\nopen_files = 3\n", 5, "open_files"),
        ("[provider.sandbox]\nenabled = true\ngid = 0\n", 6, "root"),
        (
            "[provider.sandbox]\nuid = 64001\n",
            5,
            "inside [core] uid_range",
        ),
        ("wait_for_grant = true\n", 4, "wait_for_grant"),
        ("[[provider.grant]]\nusb = \"x\"\n", 4, "grant rule"),
    ];
    for (section, line, words) in cases {
        let text = format!("[[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\n{section}");
        let e = parse(&text).unwrap_err();
        assert_eq!(e.line, Some(line), "{section:?}: {e}");
        assert!(e.message.contains(words), "{section:?}: {e}");
        assert!(
            e.message.starts_with("provider \"m\": "),
            "{section:?}: {e}"
        );
    }
    // The same sections, valid, parse (the baseline).
    let ok = "[[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\n\
              [provider.restart]\ninitial_backoff_ms = 100\nmax_backoff_ms = 100\n\
              [provider.limits]\npids = 1\nopen_files = 16\n\
              [provider.sandbox]\nuid = 5000\ngid = 5000\n";
    let c = parse(ok).unwrap();
    let p = &c.providers[0];
    assert_eq!(p.restart.max_backoff, Duration::from_millis(100));
    assert_eq!((p.limits.pids, p.limits.open_files), (1, 16));
    assert_eq!((p.sandbox.uid, p.sandbox.gid), (Some(5000), Some(5000)));
    assert_eq!(
        p.restart.stable_after,
        RestartPolicy::default().stable_after
    );
}

#[test]
fn core_mistakes_point_at_the_key() {
    let cases = [
        (
            "[core]\nlog = \"debug\"\ncgroup = \"Bad Name\"\n",
            3,
            "cgroup",
        ),
        ("[core]\nnft_table = \"\"\n", 2, "nft_table"),
        ("[core]\nmax_frame = 10\n", 2, "max_frame"),
        (
            "[core]\nheartbeat_interval_ms = 100\nheartbeat_timeout_ms = 100\n",
            3,
            "heartbeat_timeout_ms",
        ),
    ];
    for (text, line, words) in cases {
        let e = parse(text).unwrap_err();
        assert_eq!(e.line, Some(line), "{text:?}: {e}");
        assert!(e.message.contains(words), "{text:?}: {e}");
    }
}

#[test]
fn relative_paths_are_relative_to_the_config_file() {
    let text = "[core]\ndata_dir = \"data\"\nsysfs_root = \"fake/sys\"\nprovider_socket = \"@igloo\"\n\
                [[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\n[provider.sandbox]\nread_paths = [\"share\", \"/abs\"]\n";
    let c = parse(text).unwrap();
    assert_eq!(c.core.data_dir, PathBuf::from("/etc/igloo/data"));
    assert_eq!(
        c.core.hardware.sysfs_root,
        PathBuf::from("/etc/igloo/fake/sys")
    );
    assert_eq!(c.core.hardware.dev_root, PathBuf::from("/dev"));
    assert_eq!(c.core.provider_socket, Some(PathBuf::from("@igloo")));
    assert_eq!(
        c.providers[0].sandbox.read_paths,
        vec![PathBuf::from("/etc/igloo/share"), PathBuf::from("/abs")]
    );
}

#[test]
fn ota_section_defaults_under_data_dir_and_errors_at_the_key() {
    let c = parse("[core]\ndata_dir = \"/d\"\n").unwrap();
    assert!(c.ota.enabled);
    assert_eq!(c.ota.download_dir, PathBuf::from("/d/ota"));
    assert_eq!(c.ota.health_timeout, Duration::from_secs(300));
    let c = parse("[ota]\nhealth_timeout_s = 30\nrauc = \"/usr/bin/rauc\"\n").unwrap();
    assert_eq!(c.ota.health_timeout, Duration::from_secs(30));
    assert_eq!(c.ota.rauc, PathBuf::from("/usr/bin/rauc"));
    let e = parse("[core]\n\n[ota]\nhealth_timeout_s = 7200\n").unwrap_err();
    assert_eq!(e.line, Some(4), "{e}");
    assert!(e.message.contains("outside 1..=3600"), "{e}");
    let e = parse("[ota]\nenable = false\n").unwrap_err();
    assert_eq!(e.line, Some(2), "{e}");
    assert!(e.message.contains("enable"), "{e}");
}

#[test]
fn provider_secrets_are_names_at_their_lines_under_secrets_dir() {
    let text = "[core]\ndata_dir = \"/d\"\n[[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\n\
                [provider.config]\nusername = \"igloo-mqtt\"\n[provider.secrets]\n\
                password = \"mqtt-igloo-mqtt\"\ntoken = \"t.key\"\n";
    let c = parse(text).unwrap();
    assert_eq!(c.core.secrets_dir, PathBuf::from("/d/secrets"));
    let p = &c.providers[0];
    let got: Vec<(&str, &str, usize)> = p
        .secrets
        .iter()
        .map(|s| (s.key.as_str(), s.name.as_str(), s.line))
        .collect();
    assert_eq!(
        got,
        [("password", "mqtt-igloo-mqtt", 9), ("token", "t.key", 10)]
    );
    // The config sent in Welcome holds the names of nothing secret.
    let t: toml::Table = toml::from_str(&p.config_toml).unwrap();
    assert_eq!(t.len(), 1, "{t:?}");
    let c = parse("[core]\nsecrets_dir = \"keys\"\n").unwrap();
    assert_eq!(c.core.secrets_dir, PathBuf::from("/etc/igloo/keys"));
    assert!(
        parse("")
            .unwrap()
            .core
            .secrets_dir
            .ends_with("igloo/secrets")
    );
}

#[test]
fn provider_secret_mistakes_name_the_line() {
    let base = "[[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\n[provider.config]\npassword = \"x\"\n[provider.secrets]\n";
    for (entry, needle) in [
        ("token = \"../etc/shadow\"", "must be a plain file name"),
        ("token = \"a/b\"", "must be a plain file name"),
        ("token = \"..\"", "must be a plain file name"),
        ("token = \"\"", "must be a plain file name"),
        ("password = \"pw\"", "also set in [provider.config]"),
        ("token = 5", "invalid type"),
    ] {
        let e = parse(&format!("{base}{entry}\n")).unwrap_err();
        assert_eq!(e.line, Some(7), "{entry}: {e}");
        assert!(e.message.contains(needle), "{entry}: {e}");
    }
    let e = parse(&format!("{base}\"a.b\" = \"x\"\n")).unwrap();
    assert_eq!(e.providers[0].secrets[0].key, "a.b");
}

#[test]
fn wifi_is_managed_only_with_a_config_path_and_errors_are_at_the_key() {
    assert_eq!(parse("").unwrap().wifi.config, None);
    let c = parse("[wifi]\nconfig = \"wifi/wpa_supplicant.conf\"\n").unwrap();
    assert_eq!(
        c.wifi.config,
        Some(PathBuf::from("/etc/igloo/wifi/wpa_supplicant.conf"))
    );
    assert_eq!(c.wifi.pid_file, PathBuf::from("/run/wpa_supplicant.pid"));
    assert_eq!(c.wifi.interface, "wlan0");
    let e = parse("[core]\n\n[wifi]\nconfig = \"/w.conf\"\nssid = \"Home\"\n").unwrap_err();
    assert_eq!(e.line, Some(5), "{e}");
    assert!(e.message.contains("ssid"), "{e}");
    let e = parse("[wifi]\nconfig = \"/w.conf\"\ninterface = \"wlan0:1\"\n").unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.message.starts_with("interface \"wlan0:1\""), "{e}");
}

#[test]
fn tree_access_defaults_to_none_and_names_its_line() {
    use super::provider::TreeAccess;
    let c = parse("[[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\n").unwrap();
    assert_eq!(c.providers[0].tree, TreeAccess::None);
    for (text, want) in [("read", TreeAccess::Read), ("control", TreeAccess::Control)] {
        let c = parse(&format!(
            "[[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\ntree = \"{text}\"\n"
        ))
        .unwrap();
        assert_eq!(c.providers[0].tree, want);
        assert_eq!(want.as_str(), text);
    }
    let e =
        parse("[[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\ntree = \"write\"\n").unwrap_err();
    assert_eq!(e.line, Some(4), "{e}");
    assert!(e.message.contains("control"), "{e}");
}
