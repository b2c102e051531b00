//! The appliance image, booted for real: the aarch64 image from
//! `scripts/build-image qemu-aarch64` under QEMU (TCG) through U-Boot, and the
//! Raspberry Pi image's boot partition as the Pi's boot ROM would read it.
//!
//! What the first test shows, in one run because every boot costs ~15-30 s:
//! U-Boot's A/B script picks slot A and counts the try; the core comes up
//! with the image's default config; through the port forward the API
//! answers, the MQTT provider runs against the image's own Mosquitto, and a
//! Zigbee2MQTT device published to that broker appears; the data partition
//! grows to the end of a bigger disk; the rootfs is mounted read-only and no
//! byte of slot A is ever written; after a clean power-off and a second boot
//! the device keeps its id (the core's database lives on /data) and the clock
//! does not go back past the last known time kept there. The same boot runs
//! the image's Python (Debian's arm64 CPython with the SDK's aarch64 wheel)
//! as a provider under the full sandbox ([`python_provider_runs_confined`]).

use std::time::Duration;

use igloo_tests::harness::api::{Api, Device};
use igloo_tests::harness::browser::{Browser, WaitState};
use igloo_tests::harness::mosquitto::{Credentials, try_publish, try_read_one};
use igloo_tests::harness::ntp::NtpServer;
use igloo_tests::harness::qemu::{Disk, Guest, image, partitions, wait_marked_good};
use igloo_tests::harness::sandbox_fixture::{denied_with_baseline, run_checks_on};
use igloo_tests::harness::wait_for;
use serde_json::json;

const BRIDGE_DEVICES: &str = include_str!("../fixtures/bridge_devices.json");
/// The hostile Python provider, copied into the guest.
const HOSTILE_PY: &str = include_str!("../python/hostile_provider.py");

/// The disk the guest gets: 1 GiB, bigger than the image (as an SD card is),
/// so the first boot grows the data partition.
const DISK_SIZE: u64 = 1 << 30;

#[test]
fn qemu_image_boots_to_the_api_and_keeps_its_data() {
    let img = image("qemu-aarch64");
    let (label, parts) = partitions(&img);
    assert_eq!(label, "gpt", "QEMU virt image uses GPT");
    assert_eq!(parts.len(), 4, "boot, rootfs A, rootfs B, data: {parts:?}");
    let (slot_a, data) = (&parts[1], &parts[3]);
    let disk = Disk::new(&img, Some(DISK_SIZE));

    // ---- first boot ----
    let mut guest = Guest::boot(&disk);
    let boot1 = guest.wait_core_ready();
    eprintln!(
        "first boot: core ready {:.1} s after QEMU started",
        boot1.as_secs_f64()
    );
    guest.wait_console(Duration::from_secs(5), &["igloo: slot A, 2 tries left"]);
    let api = guest.api();
    let health = wait_for(
        Duration::from_secs(60),
        "GET /api/v1/health through the port forward",
        || api.health(),
    );
    assert_eq!(health["status"], "ok", "{health}");
    // Nothing without a login through the port forward (the LAN's view):
    // anonymous requests are refused, a token made on the console works.
    // Argon2id (onboarding, login) on the emulated CPU may take seconds when
    // other guests share the machine.
    let anonymous = api.with_token(None).with_timeout(Duration::from_secs(60));
    assert_eq!(
        anonymous.health().expect("health"),
        serde_json::json!({"status": "ok"})
    );
    for path in [
        "/api/v1/devices",
        "/api/v1/providers",
        "/api/v1/ota",
        "/api/v1/events",
    ] {
        let r = anonymous.request("GET", path, &[], None).expect(path);
        assert_eq!(r.status, 401, "anonymous GET {path}: {:?}", r.body);
    }
    let r = anonymous
        .request("POST", "/api/v1/providers/mqtt/restart", &[], Some(b"{}"))
        .expect("restart");
    assert_eq!(r.status, 401, "anonymous restart: {:?}", r.body);
    let read = guest.console_token("lan-read", "read");
    let reader = api.with_token(Some(&read));
    assert_eq!(reader.get("/api/v1/devices").expect("devices").0, 200);
    assert_eq!(
        reader
            .post("/api/v1/providers/mqtt/restart", &serde_json::json!({}))
            .expect("restart")
            .0,
        403,
        "a read token cannot restart a provider"
    );
    let onboarding = anonymous
        .get("/api/v1/auth/onboarding")
        .expect("onboarding");
    assert_eq!(onboarding, (200, serde_json::json!({"needed": true})));
    let code = guest.setup_code();
    // Shown on the console for the person holding the gateway.
    guest.wait_console(Duration::from_secs(30), &["Igloo setup code:", &code]);
    // The owner onboards through the port forward and logs in; the login's
    // Argon2id (m = 19 MiB, t = 2, p = 1) timed on the emulated aarch64 CPU.
    let (status, body) = anonymous
        .post(
            "/api/v1/auth/onboarding",
            &serde_json::json!({"setup_code": code, "username": "owner", "password": "guest-owner-pw-1"}),
        )
        .expect("onboarding");
    assert_eq!(status, 201, "{body}");
    let started = std::time::Instant::now();
    let (status, body) = anonymous
        .post(
            "/api/v1/auth/login",
            &serde_json::json!({"username": "owner", "password": "guest-owner-pw-1"}),
        )
        .expect("login");
    assert_eq!(status, 200, "{body}");
    eprintln!(
        "owner login in the aarch64 guest (QEMU TCG): {} ms",
        started.elapsed().as_millis()
    );
    let (_, rc) = guest.shell("test ! -e /data/igloo/setup-code");
    assert_eq!(rc, 0, "the used setup code is deleted");

    // The MQTT provider runs and is connected to the image's own Mosquitto
    // (whose log is on the console).
    wait_for(Duration::from_secs(60), "the mqtt provider running", || {
        let p = api.try_provider("mqtt")?;
        (p.state == "running")
            .then_some(())
            .ok_or(format!("state {}", p.state))
    });
    guest.wait_console(
        Duration::from_secs(60),
        &["New client connected", "as igloo-mqtt"],
    );
    // The image's kernel (Debian 6.12 from bookworm-backports: Landlock ABI
    // 6) and its nftables give the provider every sandbox layer.
    let sandbox = api.provider("mqtt").sandbox.unwrap_or_default();
    for layer in ["uid", "landlock", "seccomp", "cgroup", "network", "rlimits"] {
        assert_eq!(
            sandbox[layer]["enforced"], true,
            "sandbox layer {layer} not enforced in the guest: {}",
            sandbox[layer]
        );
    }

    // A Zigbee2MQTT bridge on the LAN publishes to the appliance's broker
    // with the zigbee2mqtt account the first boot made (the baseline of the
    // refusals below).
    guest.publish_bridge(BRIDGE_DEVICES.as_bytes());
    let mqtt = guest.mqtt_port();
    let login = guest.bridge_credentials();
    // The owner sees the same account through the API (admin only).
    let shown = api
        .get("/api/v1/mqtt/credentials")
        .expect("mqtt credentials");
    assert_eq!(shown.0, 200, "{}", shown.1);
    assert_eq!(shown.1["username"], login.username.as_str());
    assert_eq!(shown.1["password"], login.password.as_str());
    let state = json!({"state": "ON", "brightness": 200, "linkquality": 90});
    try_publish(
        mqtt,
        Some(&login),
        "zigbee2mqtt/living_lamp",
        state.to_string().as_bytes(),
        true,
    )
    .unwrap_or_else(|e| panic!("the zigbee2mqtt account publishes: {e}"));
    // Nobody else: an anonymous client and a wrong password are refused at
    // CONNACK (not authorised), so they cannot publish a /set.
    let wrong = Credentials::new("zigbee2mqtt", &format!("{}x", login.password));
    for (who, creds) in [
        ("an anonymous client", None),
        ("a wrong password", Some(&wrong)),
    ] {
        let refused = try_publish(
            mqtt,
            creds,
            "zigbee2mqtt/living_lamp/set",
            b"{\"state\":\"OFF\"}",
            false,
        )
        .err()
        .unwrap_or_else(|| panic!("{who} must be refused by the guest's broker"));
        assert!(refused.contains("not authorised"), "{who}: {refused}");
    }
    // The passwords are on /data, root only; the broker's file holds hashes.
    let (out, rc) = guest.shell(
        "stat -c '%a %U %n' /data/igloo/secrets /data/igloo/secrets/mqtt-igloo-mqtt \
         /data/igloo/secrets/mqtt-zigbee2mqtt /data/etc/mosquitto/passwd; \
         grep -c -F -f /data/igloo/secrets/mqtt-zigbee2mqtt /data/etc/mosquitto/passwd",
    );
    assert_eq!(
        out,
        [
            "700 root /data/igloo/secrets",
            "600 root /data/igloo/secrets/mqtt-igloo-mqtt",
            "600 root /data/igloo/secrets/mqtt-zigbee2mqtt",
            "600 mosquitto /data/etc/mosquitto/passwd",
            "0",
        ],
        "modes, owners, no plaintext in the password file (rc {rc})"
    );
    let lamp = wait_for(
        Duration::from_secs(60),
        "living_lamp in the API with its state",
        || {
            let d = api
                .try_devices()?
                .into_iter()
                .find(|d| d.key.ends_with("0x000d6ffffe8a4c21"))
                .ok_or("no such device yet")?;
            let full = api.device(d.id);
            full.entities
                .iter()
                .any(|(_, e)| e.components.get("Switch") == Some(&json!(true)))
                .then_some(full)
                .ok_or("no Switch=true yet".to_string())
        },
    );
    let ids: Vec<(String, u64)> = api.devices().into_iter().map(|d| (d.key, d.id)).collect();
    assert!(ids.len() >= 3, "the fixture's devices: {ids:?}");
    other_mqtt_devices_use_their_own_account(&api, mqtt, &lamp);

    // The dashboard embedded in the aarch64 release binary, in a real
    // browser through the port forward: login, the lamp's confirmed state.
    let mut browser = Browser::launch();
    let page = |r: Result<(), String>| r.unwrap_or_else(|e| panic!("dashboard in the guest: {e}"));
    page(browser.goto(&format!("{}/", api.base())).map(drop));
    page(browser.wait_selector("form#login", WaitState::Visible, Duration::from_secs(60)));
    page(browser.fill("form#login input[name=username]", "owner"));
    page(browser.fill("form#login input[name=password]", "guest-owner-pw-1"));
    page(browser.click("form#login button[type=submit]"));
    page(browser.wait_attr("#live", "data-state", "open", Duration::from_secs(60)));
    page(browser.wait_attr(
        &format!(
            r#"article.device[data-device="{}"] button.toggle[data-component="Switch"]"#,
            lamp.id
        ),
        "aria-pressed",
        "true",
        Duration::from_secs(60),
    ));
    let csp: Vec<_> = browser
        .console()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.is_csp_violation())
        .collect();
    assert!(csp.is_empty(), "{csp:?}");
    let _ = browser.screenshot("guest-devices");
    drop(browser);

    // Read-only rootfs, grown /data, and what the services take.
    let (out, rc) = guest.shell("touch /etc/igloo-write-test");
    assert_ne!(rc, 0, "writing to the rootfs must fail: {out:?}");
    assert!(
        out.iter().any(|l| l.contains("Read-only file system")),
        "expected EROFS, got {out:?}"
    );
    let (mounts, _) = guest.shell("grep -E ' / | /data ' /proc/mounts");
    assert!(
        mounts.iter().any(|l| l.contains(" / ext4 ro")),
        "/ must be mounted read-only: {mounts:?}"
    );
    assert!(
        mounts.iter().any(|l| l.contains(" /data ext4 rw")),
        "/data must be mounted read-write: {mounts:?}"
    );
    let (df, rc) = guest.shell("df -k /data | tail -n 1");
    assert_eq!(rc, 0, "{df:?}");
    let data_kib: u64 = df
        .last()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("cannot read df's output: {df:?}"));
    assert!(
        data_kib > 2 * data.size / 1024,
        "/data must have grown to the disk's end: {data_kib} KiB (partition was {} KiB)",
        data.size / 1024
    );
    let (rss, _) = guest.shell(
        "for p in igloo igloo-mqtt igloo-esphome mosquitto; do echo \"$p $(grep VmRSS /proc/$(pidof $p)/status)\"; done",
    );
    eprintln!("RSS in the guest:\n  {}", rss.join("\n  "));
    // The first boot used a try of slot A; the healthy core gives it back
    // (marks the slot good, docs/ota.md).
    let ota = wait_marked_good(&api, Duration::from_secs(300));
    eprintln!("first boot: {}", ota["health"]);
    zigbee_provider_waits_for_a_stick(&mut guest);
    python_provider_runs_confined(&mut guest);
    // The last known time is kept on /data; a clock behind it at the next
    // boot (a Pi has no battery-backed clock) is set forward to it. Here it
    // is set a year ahead, as if this boot's clock had been wrong.
    let (clock, rc) = guest.shell("cat /data/clock");
    // (Core log lines on the console may fall between the markers.)
    let saved: u64 = clock
        .iter()
        .find_map(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no time saved in /data/clock: {clock:?} (rc {rc})"));
    let ahead = saved + 365 * 86_400;
    let (out, rc) = guest.shell(&format!("echo {ahead} > /data/clock"));
    assert_eq!(rc, 0, "{out:?}");
    wifi_file_with_a_mistake_is_kept(&mut guest);
    // The owner's Wi-Fi file on the boot partition, as a Windows editor
    // saves it; imported at the next boot.
    let (out, rc) = guest.shell(&format!(
        "printf '{WIFI_TXT}' > /boot/firmware/igloo-wifi.txt && sync"
    ));
    assert_eq!(rc, 0, "{out:?}");
    guest.poweroff();

    // Slot A was never written (the rootfs is read-only down to the block
    // device); the data partition was.
    assert_eq!(disk.written_in(slot_a), 0, "bytes written to rootfs slot A");
    assert!(
        disk.written_in(data) > 0,
        "nothing was written to the data partition"
    );
    let raw = disk.snapshot_raw();
    let (_, grown) = partitions(&raw);
    assert!(
        grown[3].start + grown[3].size > DISK_SIZE - (2 << 20),
        "data partition must reach the end of the disk: {:?}",
        grown[3]
    );
    assert_eq!(
        disk.uboot_env("BOOT_A_LEFT").as_deref(),
        Some("3"),
        "the try of slot A the first boot used was given back by the core"
    );

    // ---- second boot: same data, same ids ----
    let mut guest = Guest::boot(&disk);
    let boot2 = guest.wait_core_ready();
    eprintln!(
        "second boot: core ready {:.1} s after QEMU started",
        boot2.as_secs_f64()
    );
    guest.wait_console(
        Duration::from_secs(5),
        &["clock: set to the last known time"],
    );
    // The core's log shares the console: a line of it may come between.
    let (now, _) = guest.shell("date +%s");
    let now: u64 = now
        .iter()
        .rev()
        .find_map(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("date +%s: {now:?}"));
    assert!(
        now >= ahead,
        "the clock ({now}) went back past the last known time ({ahead})"
    );
    let api = guest.api();
    wait_for(Duration::from_secs(60), "the API after the reboot", || {
        api.health()
    });
    let after: Vec<(String, u64)> = api.devices().into_iter().map(|d| (d.key, d.id)).collect();
    for (key, id) in &ids {
        assert!(
            after.contains(&(key.clone(), *id)),
            "device {key} had id {id} before the reboot; after: {after:?}"
        );
    }
    assert_eq!(api.device(lamp.id).key, lamp.key);
    wifi_file_was_imported(&mut guest);
    ntp_sets_the_clock(&mut guest);
    guest.poweroff();
    assert_eq!(
        disk.written_in(slot_a),
        0,
        "bytes written to rootfs slot A after two boots"
    );
}

/// `igloo-wifi.txt` as the owner writes it (CRLF line ends, a comment,
/// lowercase country), with the second test vector of IEEE 802.11i-2004
/// Annex H.4.2 as network: passphrase "ThisIsAPassword", SSID "ThisIsASSID".
const WIFI_TXT: &str =
    "# my network\\r\\ncountry=nl\\r\\nssid=ThisIsASSID\\r\\npassword=ThisIsAPassword\\r\\n";
/// The PSK IEEE 802.11i-2004 Annex H.4.2 gives for that passphrase and SSID.
const WIFI_PSK: &str = "0dc0d6eb90555ed6419756b9a15ec3e3209b63df707dd508d14581f8982721af";

/// A Wi-Fi file with a mistake (a 7-character password) is not imported:
/// it stays on the boot partition with the reason beside it, nothing is
/// written to the data partition, and the password is not printed. Run on
/// the guest with the script's paths moved to /tmp.
fn wifi_file_with_a_mistake_is_kept(guest: &mut Guest) {
    let (out, rc) = guest.shell(
        "mkdir -p /tmp/fat && printf 'country=DE\\nssid=Home\\npassword=Short77\\n' > /tmp/fat/igloo-wifi.txt && \
         IGLOO_BOOT=/tmp/fat IGLOO_WIFI_DIR=/tmp/wifi /usr/libexec/igloo/wifi-import; echo \"rc=$?\"; \
         cat /tmp/fat/igloo-wifi-error.txt; ls /tmp/fat /tmp/wifi 2>&1; true",
    );
    let text = out.join("\n");
    assert_eq!(rc, 0, "{text}");
    assert!(
        text.contains("rc=1"),
        "a rejected file must fail the import: {text}"
    );
    assert!(
        text.contains("the password must be 8 to 63 characters (or 64 hex digits), it is 7"),
        "{text}"
    );
    assert!(
        text.contains("igloo-wifi.txt"),
        "the file must stay: {text}"
    );
    assert!(
        text.contains("/tmp/wifi: No such file"),
        "nothing written: {text}"
    );
    assert!(
        !text.contains("Short77"),
        "the password was printed: {text}"
    );
}

/// At the second boot `igloo-wifi.txt` became wpa_supplicant's config on
/// /data (0600, the SSID in hex, the PSK of the IEEE test vector, no
/// password) and left the boot partition; the password was never printed.
fn wifi_file_was_imported(guest: &mut Guest) {
    guest.console().wait_line(
        Duration::from_secs(5),
        &["wifi: network \"ThisIsASSID\" (country NL) imported from igloo-wifi.txt"],
    );
    let (out, rc) = guest.shell(
        "stat -c '%a %U' /data/etc/wifi/wpa_supplicant.conf; cat /data/etc/wifi/wpa_supplicant.conf; \
         ls /boot/firmware/igloo-wifi.txt 2>&1; true",
    );
    assert_eq!(rc, 0, "{out:?}");
    let text = out.join("\n");
    let ssid_hex: String = b"ThisIsASSID".iter().map(|b| format!("{b:02x}")).collect();
    for want in [
        "600 root".to_string(),
        "country=NL".to_string(),
        format!("\tssid={ssid_hex}"),
        format!("\tpsk={WIFI_PSK}"),
        "igloo-wifi.txt: No such file".to_string(),
    ] {
        assert!(text.contains(&want), "{want:?} not in {text}");
    }
    assert!(
        !text.contains("ThisIsAPassword"),
        "the password was kept: {text}"
    );
    assert!(
        !guest.console().contains("ThisIsAPassword"),
        "the Wi-Fi password was printed on the console"
    );
}

/// chronyd with the owner's servers (`/data/etc/chrony/sources`; here a real
/// chronyd on this machine, reached through QEMU's user network) steps the
/// guest's clock, a year ahead after the restore above, to this machine's
/// time, and the core's health then says the time is synchronised, where
/// before (no server reachable: the public pool is not) it said it is not.
fn ntp_sets_the_clock(guest: &mut Guest) {
    let api = guest.api();
    let before = api.health().expect("health");
    assert_eq!(before["time"]["synchronized"], false, "{}", before["time"]);
    let mut server = NtpServer::start();
    let (out, rc) = guest.shell(&format!(
        "mkdir -p /data/etc/chrony && echo 'server 10.0.2.2 port {} iburst minpoll 0 maxpoll 2' > /data/etc/chrony/sources && killall chronyd",
        server.port()
    ));
    assert_eq!(rc, 0, "{out:?}");
    let health = wait_for(
        Duration::from_secs(120),
        "the guest's clock synchronised",
        || {
            server.check_running()?;
            let h = api.health()?;
            (h["time"]["synchronized"] == true)
                .then_some(h.clone())
                .ok_or(format!("{}", h["time"]))
        },
    );
    eprintln!("time in the guest: {}", health["time"]);
    let (out, _) = guest.shell("date +%s");
    let guest_now: i64 = out
        .iter()
        .rev()
        .find_map(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("date +%s: {out:?}"));
    let host_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    assert!(
        (guest_now - host_now).abs() < 30,
        "the guest's clock ({guest_now}) was not set to the server's ({host_now})"
    );
    let (doctor, _) = guest.shell("igloo doctor");
    assert!(
        doctor
            .iter()
            .any(|l| l.trim().starts_with("time") && l.contains("yes")),
        "igloo doctor's time line: {doctor:?}"
    );
}

/// A Wi-Fi MQTT device (a Tasmota plug announcing itself with Home
/// Assistant's discovery, as its SetOption19 publishes) on the appliance's
/// broker with the `devices` account the owner reads through the API: its
/// device appears with its confirmed state. The same account cannot touch
/// Zigbee2MQTT's topics: its retained "OFF" for the lamp is dropped by the
/// broker, and the lamp stays on.
fn other_mqtt_devices_use_their_own_account(api: &Api, mqtt: u16, lamp: &Device) {
    let (status, body) = api
        .get("/api/v1/mqtt/credentials?account=devices")
        .expect("the devices account");
    assert_eq!(status, 200, "{body}");
    let devices = Credentials::new(
        body["username"].as_str().unwrap_or_default(),
        body["password"].as_str().unwrap_or_default(),
    );
    assert_eq!(devices.username, "devices");
    let publish = |topic: &str, payload: &str| {
        try_publish(mqtt, Some(&devices), topic, payload.as_bytes(), true)
            .unwrap_or_else(|e| panic!("the devices account publishes {topic}: {e}"))
    };
    publish("zigbee2mqtt/living_lamp", r#"{"state":"OFF"}"#);
    publish(
        "homeassistant/switch/5CCF7F_RL_1/config",
        r#"{"name":"Kitchen Plug","cmd_t":"cmnd/kitchen_plug/POWER","stat_t":"tele/kitchen_plug/STATE","val_tpl":"{{value_json.POWER}}","pl_off":"OFF","pl_on":"ON","avty_t":"tele/kitchen_plug/LWT","pl_avail":"Online","pl_not_avail":"Offline","uniq_id":"5CCF7F_RL_1","dev":{"ids":["5CCF7F"],"name":"Kitchen Plug"}}"#,
    );
    publish("tele/kitchen_plug/LWT", "Online");
    publish("tele/kitchen_plug/STATE", r#"{"POWER":"ON"}"#);
    wait_for(
        Duration::from_secs(60),
        "the Tasmota plug with its state",
        || {
            let plug = api
                .try_devices()?
                .into_iter()
                .find(|d| d.name == "Kitchen Plug")
                .ok_or("no Kitchen Plug yet")?;
            api.device(plug.id)
                .entities
                .values()
                .any(|e| e.components.get("Switch") == Some(&json!(true)))
                .then_some(())
                .ok_or("no Switch=true yet".to_string())
        },
    );
    let still = api.device(lamp.id);
    assert!(
        still
            .entities
            .values()
            .any(|e| e.components.get("Switch") == Some(&json!(true))),
        "the devices account switched a Zigbee2MQTT lamp: {still:?}"
    );
    // Igloo's own topics (discovery out: states and Home Assistant's
    // commands under igloo/) belong to the homeassistant account: what it
    // writes there stays, what the devices account writes after it is
    // dropped by the broker (mosquitto_pub's QoS 1 waits for the broker).
    let (status, body) = api
        .get("/api/v1/mqtt/credentials?account=homeassistant")
        .expect("the homeassistant account");
    assert_eq!(status, 200, "{body}");
    let ha = Credentials::new(
        body["username"].as_str().unwrap_or_default(),
        body["password"].as_str().unwrap_or_default(),
    );
    let probe = "igloo/acl-probe/light/set";
    try_publish(mqtt, Some(&ha), probe, b"from-homeassistant", true)
        .unwrap_or_else(|e| panic!("the homeassistant account publishes {probe}: {e}"));
    publish(probe, "from-devices");
    let seen = try_read_one(mqtt, Some(&ha), probe, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("reading {probe}: {e}"));
    assert_eq!(
        String::from_utf8_lossy(&seen),
        "from-homeassistant",
        "the devices account wrote under igloo/"
    );
}

/// The default config's Zigbee provider waits, with no process, for a
/// coordinator stick (none is plugged into the guest; the wire-level tests
/// with an emulated stick are tests/tests/zigbee.rs), and the image's python3
/// imports it with zigpy and the radio libraries from
/// /usr/lib/igloo/zigbee, their aarch64 extension modules included.
fn zigbee_provider_waits_for_a_stick(guest: &mut Guest) {
    let api = guest.api();
    let p = wait_for(
        Duration::from_secs(60),
        "the zigbee provider waiting for a stick",
        || {
            let p = api.try_provider("zigbee")?;
            (p.state == "waiting_for_device")
                .then_some(p.clone())
                .ok_or(format!("{p:?}"))
        },
    );
    assert_eq!(p.pid, None, "no process without a stick: {p:?}");
    let (out, rc) = guest.shell(
        "PYTHONPATH=/usr/lib/igloo/zigbee python3 -c 'import time; t = time.monotonic(); \
         import igloo_zigbee.provider, zigpy_znp.zigbee.application, cryptography.hazmat.bindings._rust; \
         rss = [l.split()[1] for l in open(\"/proc/self/status\") if l.startswith(\"VmRSS\")][0]; \
         print(\"zigbee-ok\", round(time.monotonic() - t, 2), \"s\", rss, \"kB\")'",
    );
    assert!(
        rc == 0 && out.iter().any(|l| l.starts_with("zigbee-ok ")),
        "importing the Zigbee provider on the guest (rc {rc}): {out:?}"
    );
    eprintln!("zigbee provider import in the guest (QEMU TCG): {out:?}");
    // Copyleft code ships its source beside its bytecode (zigpy GPL-3.0,
    // frozendict LGPL-3.0, and ours); permissive libraries and the
    // standard library are bytecode only, where CPython imports it from.
    let (out, rc) = guest.shell(
        "cd /usr/lib/igloo/zigbee; for f in zigpy/application.py zigpy_znp/__init__.py \
         bellows/__init__.py frozendict/__init__.py igloo_zigbee/provider.py \
         aiohttp/__init__.py aiohttp/__init__.pyc /usr/lib/python3.11/os.py \
         /usr/lib/python3.11/os.pyc; do [ -f $f ] && echo \"has $f\" || echo \"no $f\"; done",
    );
    assert_eq!(rc, 0, "{out:?}");
    for want in [
        "has zigpy/application.py",
        "has zigpy_znp/__init__.py",
        "has bellows/__init__.py",
        "has frozendict/__init__.py",
        "has igloo_zigbee/provider.py",
        "no aiohttp/__init__.py",
        "has aiohttp/__init__.pyc",
        "no /usr/lib/python3.11/os.py",
        "has /usr/lib/python3.11/os.pyc",
    ] {
        assert!(out.iter().any(|l| l.trim() == want), "{want}: {out:?}");
    }
}

/// The example Python provider shipped in the image
/// (`/usr/share/igloo/examples/lamp.py`, not enabled by default) added to the
/// guest's config on /data the way an owner would, run by the image's
/// `/usr/bin/python3` with the `igloo` package from its aarch64 wheel: it
/// runs with every sandbox layer (the API and `igloo doctor` say so), its
/// devices appear, a change request is confirmed and one is refused with
/// the provider's reason.
fn python_provider_runs_confined(guest: &mut Guest) {
    let api = guest.api();
    // The baseline: the image's python3 imports the SDK unconfined (as root).
    let (out, rc) =
        guest.shell("python3 -c 'import igloo; print(\"igloo-ok\", len(igloo.components()))'");
    assert!(
        rc == 0 && out.iter().any(|l| l.starts_with("igloo-ok ")),
        "python3 -c 'import igloo' on the guest (rc {rc}): {out:?}"
    );
    // The hostile Python provider (tests/python/hostile_provider.py), copied
    // in as a test artefact, confined to `tcp_connect = [8080]` (the core's
    // API), and the same script unconfined as its baseline: the kernel's
    // Landlock must deny it the broker's port 1883.
    guest.copy_in(HOSTILE_PY.as_bytes(), "/data/test/hostile_provider.py");
    let extra = r#"
[[provider]]
name = "lamp"
exec = "/usr/bin/python3"
args = ["/usr/share/igloo/examples/lamp.py"]
network = "none"
[provider.sandbox]
read_paths = ["/usr/share/igloo/examples"]
[provider.config]
interval_s = 1

[[provider]]
name = "hostile"
exec = "/usr/bin/python3"
args = ["/data/test/hostile_provider.py"]
network = "any"
[provider.sandbox]
read_paths = ["/data/test"]
tcp_connect = [8080]
[provider.limits]
pids = 24
memory_mib = 48

[[provider]]
name = "baseline"
exec = "/usr/bin/python3"
args = ["/data/test/hostile_provider.py"]
network = "any"
[provider.sandbox]
enabled = false
"#;
    let (out, rc) = guest.shell(&format!(
        "mkdir -p /data/etc/igloo && {{ cat /etc/igloo/igloo.toml; printf '{}'; }} > /data/etc/igloo/igloo.toml && killall igloo",
        extra.replace('\n', "\\n")
    ));
    assert_eq!(rc, 0, "writing the config on /data: {out:?}");
    let started = std::time::Instant::now();
    wait_for(
        Duration::from_secs(120),
        "the Python provider running",
        || {
            let p = api.try_provider("lamp")?;
            (p.state == "running")
                .then_some(())
                .ok_or(format!("state {} ({:?})", p.state, p.last_exit))
        },
    );
    let lamp = wait_for(Duration::from_secs(120), "the Python lamp's device", || {
        api.try_devices()?
            .into_iter()
            .find(|d| d.key == "lamp-1" && d.available)
            .ok_or("no lamp-1 yet".to_string())
    });
    eprintln!(
        "Python provider in the guest: core restart to its device {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(lamp.name, "Desk lamp");
    wait_for(Duration::from_secs(60), "the Python thermometer", || {
        let meter = api
            .try_devices()?
            .into_iter()
            .find(|d| d.key == "thermometer-1")
            .ok_or("no thermometer-1 yet")?;
        api.device(meter.id)
            .number("Temperature", "Temperature")
            .ok_or("no temperature yet".to_string())
    });
    let sandbox = api.provider("lamp").sandbox.unwrap_or_default();
    for layer in ["uid", "landlock", "seccomp", "cgroup", "network", "rlimits"] {
        assert_eq!(
            sandbox[layer]["enforced"], true,
            "sandbox layer {layer} not enforced for the Python provider: {}",
            sandbox[layer]
        );
    }
    // `igloo doctor` on the gateway shows the same layers.
    let (out, rc) = guest.shell("igloo doctor");
    assert_eq!(rc, 0, "igloo doctor: {out:?}");
    let from = out
        .iter()
        .position(|l| l.starts_with("provider lamp (running"))
        .unwrap_or_else(|| panic!("no running lamp in igloo doctor: {out:?}"));
    let section: Vec<&str> = out[from + 1..]
        .iter()
        .map(|l| l.trim())
        .take_while(|l| !l.starts_with("provider ") && !l.starts_with("serial ports"))
        .collect();
    for layer in ["uid", "landlock", "seccomp", "network", "cgroup", "rlimits"] {
        assert!(
            section
                .iter()
                .any(|l| l.split_whitespace().take(2).eq([layer, "yes"])),
            "igloo doctor: {layer} not enforced for lamp: {section:?}"
        );
    }
    // A change request confirmed by the Python provider, one refused by it.
    let path = format!("/api/v1/devices/{}/entities/Light?wait_ms=30000", lamp.id);
    let (status, body) = api
        .post(&path, &json!({"Switch": true, "Brightness": 70}))
        .expect("set the Python lamp");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["components"]["Switch"], true, "{body}");
    assert_eq!(body["components"]["Brightness"], 70.0, "{body}");
    let (status, body) = api
        .post(&path, &json!({"Brightness": 13}))
        .expect("set the Python lamp");
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("13 % is unlucky")),
        "{body}"
    );
    let pid = api.provider("lamp").pid.expect("the lamp's pid");
    let (rss, _) = guest.shell(&format!("grep VmRSS /proc/{pid}/status"));
    eprintln!("Python provider in the guest: {}", rss.join(" "));
    tcp_port_rules_are_enforced(guest, &out);
    cgroup_v2_limits_hold(guest, &out);
}

/// The appliance runs cgroup v2 only (no v1 hierarchy mounted; `nsdelegate`
/// and, on this kernel, `favordynmods`), and its limits hold for real: the
/// hostile provider (`pids = 24`, `memory_mib = 48`) is stopped forking by
/// `EAGAIN` below 24 tasks where its unconfined twin reaches 40 children;
/// touching 96 MiB gets it OOM-killed in its cgroup, the core reports that
/// and restarts it in a fresh cgroup (no task of the old run left).
fn cgroup_v2_limits_hold(guest: &mut Guest, doctor: &[String]) {
    let (mounts, _) = guest.shell("grep cgroup /proc/mounts");
    let v2: Vec<&String> = mounts
        .iter()
        .filter(|l| l.starts_with("cgroup2 /sys/fs/cgroup cgroup2 "))
        .collect();
    assert_eq!(
        v2.len(),
        1,
        "one cgroup2 mount at /sys/fs/cgroup: {mounts:?}"
    );
    for option in ["nsdelegate", "favordynmods"] {
        assert!(
            v2[0].contains(option),
            "cgroup2 mounted without {option}: {}",
            v2[0]
        );
    }
    assert!(
        !mounts.iter().any(|l| l.contains(" cgroup ")),
        "a cgroup v1 hierarchy is mounted: {mounts:?}"
    );
    let cgroup_line = doctor
        .iter()
        .map(|l| l.trim())
        .find(|l| l.starts_with("cgroup ") && l.contains("/lamp"))
        .unwrap_or_else(|| panic!("no cgroup line for lamp in igloo doctor: {doctor:?}"));
    assert!(
        cgroup_line.contains("v2 memory+pids at /sys/fs/cgroup/"),
        "{cgroup_line}"
    );

    let api = guest.api().with_timeout(Duration::from_secs(60));
    let (max, _) = guest
        .shell("cat /sys/fs/cgroup/igloo/hostile/pids.max /sys/fs/cgroup/igloo/hostile/memory.max");
    assert!(
        max.iter().any(|l| l.trim() == "24")
            && max.iter().any(|l| l.trim() == (48u64 << 20).to_string()),
        "the hostile provider's v2 limits: {max:?}"
    );
    let args = json!({"fork_cap": 40});
    let confined = run_checks_on(&api, "hostile", &["fork_bomb"], &args);
    let baseline = run_checks_on(&api, "baseline", &["fork_bomb"], &args);
    eprintln!("fork bomb in the guest: {}", confined["fork_bomb"]);
    denied_with_baseline(&confined, &baseline, "fork_bomb", &["EAGAIN"]);
    let baseline_made = baseline["fork_bomb"]["detail"].as_str().unwrap_or_default();
    assert!(
        baseline_made.contains("40 children made"),
        "{baseline_made}"
    );

    let touch = json!({"touch_mib": 96});
    let baseline = run_checks_on(&api, "baseline", &["touch_memory"], &touch);
    assert_eq!(
        baseline["touch_memory"]["ok"], true,
        "{}",
        baseline["touch_memory"]
    );
    let before = api.provider("hostile");
    let (status, reply) = api.command(
        "hostile",
        "check",
        &json!({"checks": ["touch_memory"], "args": touch}),
    );
    assert_ne!(
        status, 200,
        "touching 96 MiB under memory_mib = 48 answered: {reply}"
    );
    let after = wait_for(
        Duration::from_secs(120),
        "the hostile provider restarted after the OOM kill",
        || {
            let p = api.try_provider("hostile")?;
            (p.restarts > before.restarts && p.state == "running")
                .then_some(p.clone())
                .ok_or(format!("{p:?}"))
        },
    );
    let exit = after.last_exit.clone().unwrap_or_default();
    assert!(
        exit.contains("OOM-killed in its cgroup"),
        "last_exit: {exit}"
    );
    let pid = after.pid.expect("the restarted provider's pid");
    let (procs, _) = guest.shell("cat /sys/fs/cgroup/igloo/hostile/cgroup.procs; grep oom_kill /sys/fs/cgroup/igloo/hostile/memory.events");
    assert!(
        procs.iter().any(|l| l.trim() == pid.to_string()),
        "{procs:?}"
    );
    assert!(
        procs.iter().any(|l| l.trim() == "oom_kill 0"),
        "the restarted provider's cgroup must be a fresh one: {procs:?}"
    );
    let others: Vec<&String> = procs
        .iter()
        .filter(|l| l.trim().parse::<u32>().is_ok_and(|p| p != pid))
        .collect();
    assert!(
        others.is_empty(),
        "tasks of the killed run left in its cgroup: {others:?}"
    );
}

/// The hostile Python provider's TCP port rule holds on the appliance's
/// kernel: `igloo doctor` reports a Landlock ABI with port rules (4 or
/// higher), the confined provider reaches its `tcp_connect` port (the core's
/// API, 8080) and is denied the broker's 1883 with `EACCES`, which its
/// unconfined twin reaches.
fn tcp_port_rules_are_enforced(guest: &mut Guest, doctor: &[String]) {
    let landlock = doctor
        .iter()
        .map(|l| l.trim())
        .find(|l| l.starts_with("landlock ") && l.contains("kernel ABI"))
        .unwrap_or_else(|| panic!("no landlock line in igloo doctor: {doctor:?}"));
    let abi: u32 = landlock
        .split("kernel ABI ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no kernel ABI in {landlock:?}"));
    eprintln!("Landlock in the guest: {landlock}");
    assert!(
        abi >= 4,
        "the guest's Landlock ABI {abi} has no TCP port rules: {landlock}"
    );
    let api = guest.api();
    for p in ["hostile", "baseline"] {
        wait_for(Duration::from_secs(120), format!("{p} running"), || {
            let s = api.try_provider(p)?;
            (s.state == "running")
                .then_some(())
                .ok_or(format!("state {} ({:?})", s.state, s.last_exit))
        });
    }
    let sandbox = api.provider("hostile").sandbox.unwrap_or_default();
    assert_eq!(
        sandbox["landlock"]["enforced"], true,
        "{}",
        sandbox["landlock"]
    );
    let checks = ["tcp_allowed", "tcp_denied"];
    let args = json!({"tcp_allowed": "127.0.0.1:8080", "tcp_denied": "127.0.0.1:1883"});
    let api = api.with_timeout(Duration::from_secs(60));
    let confined = run_checks_on(&api, "hostile", &checks, &args);
    let baseline = run_checks_on(&api, "baseline", &checks, &args);
    eprintln!("hostile provider in the guest: {confined:?}");
    assert_eq!(
        confined["tcp_allowed"]["ok"], true,
        "{}",
        confined["tcp_allowed"]
    );
    denied_with_baseline(&confined, &baseline, "tcp_denied", &["EACCES"]);
}

/// The appliance's `[watchdog] timeout_s` (the default).
const WATCHDOG_TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn a_frozen_core_is_rebooted_by_the_hardware_watchdog_and_the_slot_stays_good() {
    let disk = Disk::new(&image("qemu-aarch64"), Some(DISK_SIZE));
    let mut guest = Guest::boot(&disk);
    guest.wait_console(
        Duration::from_secs(120),
        &[
            "watchdog armed",
            "reboots 60 s after the core stops answering",
        ],
    );
    guest.wait_core_ready();
    wait_marked_good(&guest.api(), Duration::from_secs(300));
    // The baseline: a core that answers is fed past the timeout.
    // (The console answers within a minute: two halves.)
    for _ in 0..2 {
        let (out, rc) = guest.shell(&format!("sleep {}", WATCHDOG_TIMEOUT.as_secs() / 2 + 5));
        assert_eq!(rc, 0, "{out:?}");
    }
    // Frozen: nothing feeds the watchdog; QEMU's i6300esb resets the board
    // (which -no-reboot turns into QEMU exiting).
    let (out, rc) = guest.shell("kill -STOP $(pidof igloo)");
    assert_eq!(rc, 0, "{out:?}");
    let frozen_for = guest.wait_exit(WATCHDOG_TIMEOUT + Duration::from_secs(60));
    eprintln!(
        "frozen core to board reset: {:.1} s (timeout {} s)",
        frozen_for.as_secs_f64(),
        WATCHDOG_TIMEOUT.as_secs()
    );
    drop(guest);
    // The reboot took one of slot A's tries; the healthy core gives it back.
    let mut guest = Guest::boot(&disk);
    guest.wait_console(Duration::from_secs(60), &["igloo: slot A, 2 tries left"]);
    guest.wait_core_ready();
    wait_marked_good(&guest.api(), Duration::from_secs(300));
    guest.poweroff();
    assert_eq!(disk.uboot_env("BOOT_A_LEFT").as_deref(), Some("3"));
}

/// The Raspberry Pi 4 image: MBR (the boot ROM reads no GPT), a FAT first
/// partition with everything the firmware and U-Boot need, and slot A with
/// the kernel and the Pi 4 DTB that boot.cmd loads.
#[test]
fn rpi4_image_has_what_the_pi_boots_from() {
    let img = image("rpi4");
    let (label, parts) = partitions(&img);
    assert_eq!(label, "dos", "the Pi boot ROM needs an MBR");
    assert_eq!(parts.len(), 4, "{parts:?}");
    assert_eq!(
        parts[0].kind, "c",
        "partition 1 must be FAT32 LBA (0x0c): {:?}",
        parts[0]
    );
    let fat = format!("{}@@{}", img.display(), parts[0].start);
    let listing = igloo_tests::harness::qemu::run(
        std::process::Command::new("mdir").args(["-b", "-i", &fat, "::"]),
    );
    let listing = String::from_utf8_lossy(&listing).to_lowercase();
    eprintln!("boot partition:\n{listing}");
    for file in [
        "start4.elf",
        "fixup4.dat",
        "config.txt",
        "u-boot.bin",
        "boot.scr",
        "bcm2711-rpi-4-b.dtb",
    ] {
        assert!(
            listing.contains(&format!("::/{file}")),
            "{file} missing from the boot FAT"
        );
    }
    let config = igloo_tests::harness::qemu::run(std::process::Command::new("mtype").args([
        "-i",
        &fat,
        "::/config.txt",
    ]));
    let config = String::from_utf8_lossy(&config);
    for line in ["arm_64bit=1", "kernel=u-boot.bin", "enable_uart=1"] {
        assert!(
            config.lines().any(|l| l.trim() == line),
            "config.txt lacks {line}: {config}"
        );
    }
    // The boot script is a U-Boot script image (mkimage -T script).
    let scr = igloo_tests::harness::qemu::run(std::process::Command::new("mtype").args([
        "-i",
        &fat,
        "::/boot.scr",
    ]));
    assert_eq!(
        &scr[..4],
        &[0x27, 0x05, 0x19, 0x56],
        "boot.scr is not a U-Boot image"
    );
    assert!(String::from_utf8_lossy(&scr).contains("BOOT_ORDER"));
    pi_wifi_is_in_slot_a(&img, &parts[1]);
}

/// Slot A of a Pi image holds what its Wi-Fi needs: the CYW43430 (Pi 3) and
/// CYW43455 (Pi 3 B+, Pi 4) firmware with the boards' NVRAM files, the
/// signed regulatory database, the brcmfmac and cfg80211 modules and
/// wpa_supplicant. Read from the ext4 with `debugfs`, as the board would.
fn pi_wifi_is_in_slot_a(img: &std::path::Path, slot: &igloo_tests::harness::qemu::Partition) {
    let dir = tempfile::tempdir().expect("temp dir");
    let ext4 = dir.path().join("slot-a.ext4");
    {
        use std::io::{Read, Seek, SeekFrom};
        let mut from = std::fs::File::open(img).expect("open the image");
        from.seek(SeekFrom::Start(slot.start))
            .expect("seek to slot A");
        let mut to = std::fs::File::create(&ext4).expect("create the slot copy");
        let n = std::io::copy(&mut from.take(slot.size), &mut to).expect("copy slot A");
        assert_eq!(n, slot.size, "slot A is cut short");
    }
    let ls = |path: &str| -> String {
        let out = igloo_tests::harness::qemu::run(
            std::process::Command::new("debugfs")
                .args(["-R", &format!("ls -p {path}")])
                .arg(&ext4),
        );
        String::from_utf8_lossy(&out).into_owned()
    };
    let names = |path: &str| -> Vec<String> {
        ls(path)
            .lines()
            .filter_map(|l| l.split('/').nth(5).map(str::to_string))
            .filter(|n| !n.is_empty() && n != "." && n != "..")
            .collect()
    };
    let firmware = names("/usr/lib/firmware/brcm");
    for f in [
        "brcmfmac43430-sdio.bin",
        "brcmfmac43430-sdio.clm_blob",
        "brcmfmac43430-sdio.raspberrypi,3-model-b.txt",
        "brcmfmac43455-sdio.bin",
        "brcmfmac43455-sdio.clm_blob",
        "brcmfmac43455-sdio.raspberrypi,3-model-b-plus.txt",
        "brcmfmac43455-sdio.raspberrypi,4-model-b.txt",
    ] {
        assert!(firmware.iter().any(|n| n == f), "{f} missing: {firmware:?}");
    }
    let top = names("/usr/lib/firmware");
    for f in ["regulatory.db", "regulatory.db.p7s"] {
        assert!(top.iter().any(|n| n == f), "{f} missing: {top:?}");
    }
    let kver = names("/usr/lib/modules")
        .into_iter()
        .next()
        .expect("a kernel's modules");
    let kernel = format!("/usr/lib/modules/{kver}/kernel");
    let brcmfmac = names(&format!(
        "{kernel}/drivers/net/wireless/broadcom/brcm80211/brcmfmac"
    ));
    assert!(brcmfmac.iter().any(|n| n == "brcmfmac.ko"), "{brcmfmac:?}");
    let wireless = names(&format!("{kernel}/net/wireless"));
    assert!(wireless.iter().any(|n| n == "cfg80211.ko"), "{wireless:?}");
    let sbin = names("/usr/sbin");
    for f in ["wpa_supplicant", "chronyd"] {
        assert!(sbin.iter().any(|n| n == f), "/usr/sbin/{f} missing");
    }
}

/// The Raspberry Pi 3 image boots on QEMU's `raspi3b` model through its own
/// U-Boot, boot script, Pi 3 DTB (from slot A), initramfs and rootfs to the
/// core's "core ready": the Pi boot chain after the GPU firmware, on the
/// SD-card controller and mini UART the real board has.
#[test]
fn rpi3_image_boots_on_raspi3b_to_core_ready() {
    let img = image("rpi3");
    let disk = Disk::new(&img, Some(DISK_SIZE));
    // QEMU's raspi3b resets the moment bcm2835_wdt is armed (its PM model
    // takes the arm for a reset request): the owner's way to keep the
    // watchdog off, which also proves igloo-boot.txt reaches the kernel.
    disk.put_boot_file(
        "igloo-boot.txt",
        b"# kernel arguments for the next boots\r\ncmdline=igloo.watchdog=off\r\n",
    );
    let mut guest = Guest::boot_raspi3b(&disk);
    guest.wait_console(Duration::from_secs(120), &["igloo: slot A, 2 tries left"]);
    guest.wait_console(
        Duration::from_secs(60),
        &["igloo: extra kernel arguments from igloo-boot.txt: igloo.watchdog=off"],
    );
    let ready = guest.wait_core_ready();
    guest.wait_console(
        Duration::from_secs(30),
        &["the watchdog stays off: igloo.watchdog=off is on the kernel command line"],
    );
    // The Pi's watchdog is there for the core: the driver bound, and the
    // image's config names it with the hardware's 15 s.
    let (out, rc) = guest.shell(
        "cat /sys/class/watchdog/watchdog0/identity; ls /dev/watchdog; \
         grep -A3 '^\\[watchdog\\]' /etc/igloo/igloo.toml; \
         cat /sys/class/watchdog/watchdog0/max_timeout 2>&1 || true",
    );
    assert_eq!(rc, 0, "{out:?}");
    assert!(
        out.iter()
            .any(|l| l.trim() == "Broadcom BCM2835 Watchdog timer"),
        "bcm2835_wdt is not bound: {out:?}"
    );
    assert!(
        out.iter()
            .any(|l| l.starts_with("device = \"/dev/watchdog\"")),
        "{out:?}"
    );
    assert!(
        out.iter().any(|l| l.starts_with("hardware_timeout_s = 15")),
        "{out:?}"
    );
    eprintln!("raspi3b watchdog: {out:?}");
    guest.wait_console(
        Duration::from_secs(5),
        &["initramfs: root PART:2 is /dev/mmcblk0p2"],
    );
    eprintln!(
        "raspi3b: core ready {:.1} s after QEMU started",
        ready.as_secs_f64()
    );
    // The system reads the boot state U-Boot wrote before partition 1 (what
    // RAUC uses to mark a slot good or switch slots): one try used, or all 3
    // again once the core has marked the slot good.
    let (out, rc) = guest.shell("fw_printenv -n BOOT_A_LEFT; fw_printenv -n BOOT_ORDER");
    assert_eq!(rc, 0, "fw_printenv failed: {out:?}");
    assert!(
        out.iter().any(|l| l.trim() == "2" || l.trim() == "3"),
        "BOOT_A_LEFT after one boot: {out:?}"
    );
    assert!(out.iter().any(|l| l.trim() == "A B"), "BOOT_ORDER: {out:?}");
}
