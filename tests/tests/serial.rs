//! The serial provider end to end: the real core grants socat ptys through
//! its sysfs path (fake UARTs, see `igloo_tests::serial::FakePorts`) to the
//! real `igloo-serial`; on the other ends run a real pymodbus RTU server and
//! the test writing DSMR P1 telegrams.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use igloo_tests::serial::{FakePorts, ModbusServer, Pty};
use igloo_tests::{
    Api, Core, CoreSettings, ProviderSpec, SHORT, TIMEOUT, providers_toml, wait_for,
};
use serde_json::{Value, json};

fn toml_value(text: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {text}"))
        .unwrap_or_else(|e| panic!("bad TOML in the test: {e}\n{text}"))["v"]
        .clone()
}

fn core_with(ports: &FakePorts, spec: ProviderSpec) -> Core {
    let settings = CoreSettings {
        extra_core: ports.core_lines(),
        ..CoreSettings::default()
    };
    Core::start_with(settings, &providers_toml(&[spec]))
}

fn status(api: &Api) -> Value {
    let (code, body) = api.command("serial", "serial.status", &json!({}));
    assert_eq!(code, 200, "serial.status: {body}");
    body["body"].clone()
}

fn modbus_health(api: &Api, unit: u8) -> Value {
    status(api)["modbus"][0]["devices"]
        .as_array()
        .and_then(|d| d.iter().find(|x| x["unit"] == unit).cloned())
        .unwrap_or(Value::Null)
}

/// The Modbus config: an SDM120 (preset) at unit 1 and a heat pump with a
/// hand-written map at unit 2.
fn modbus_config() -> toml::Value {
    toml_value(
        r#"[{ grant = 0, baud = 9600, timeout_ms = 300, device = [
            { unit = 1, name = "Meter", preset = "sdm120", poll_ms = 300 },
            { unit = 2, name = "Heat pump", poll_ms = 300, register = [
                { name = "Flow temperature", kind = "holding", address = 0, type = "i16", scale = 0.1, component = "Temperature", unit = "°C" },
                { name = "Pump speed", kind = "holding", address = 1, type = "u16", component = "Number", unit = "%", writable = true },
                { name = "Heat energy", kind = "holding", address = 10, type = "u32", word_order = "little", scale = 0.01, component = "Energy", unit = "kWh" },
                { name = "Heater", kind = "coil", address = 0, component = "Switch", writable = true },
            ] },
        ] }]"#,
    )
}

#[test]
fn modbus_values_writes_and_availability_against_a_real_pymodbus_server() {
    let pty = Pty::open();
    let ports = FakePorts::new(&[("ttyIGLOO0", &pty.device_node())]);
    let mut server = ModbusServer::start(&pty.peer, 9600, &[1, 2]);
    // SDM120: input registers, f32.
    server.set_f32(1, "input", 0x0000, 230.5);
    server.set_f32(1, "input", 0x0006, 1.25);
    server.set_f32(1, "input", 0x000C, 288.0);
    server.set_f32(1, "input", 0x0046, 50.0);
    server.set_f32(1, "input", 0x0048, 1234.5);
    // Like a real SDM120, no registers between voltage (0) and current (6):
    // the merged read of the preset is refused and must be split.
    server.op(json!({"op": "undefine", "unit": 1, "kind": "input", "address": 2, "count": 4}));
    // Heat pump: 21.5 °C as i16 × 0.1; 40 %; 123456.78 kWh as u32 × 0.01, low word first.
    let raw: u32 = 12_345_678;
    server.set(2, "holding", 0, json!([215]));
    server.set(2, "holding", 1, json!([40]));
    server.set(2, "holding", 10, json!([raw & 0xffff, raw >> 16]));
    server.set(2, "coil", 0, json!([false]));

    let core = core_with(
        &ports,
        ProviderSpec::serial("serial", &["ttyIGLOO0"]).config("modbus", modbus_config()),
    );
    let api = core.api();
    let meter = api.wait_device_where("modbus:ttyIGLOO0:1", "SDM120 values", |d| {
        d.has("Voltage", "Voltage", &json!(230.5))?;
        d.has("Current", "Current", &json!(1.25))?;
        d.has("Power", "Power", &json!(288.0))?;
        d.has("Frequency", "Frequency", &json!(50.0))?;
        d.has("Energy import", "Energy", &json!(1234.5))
    });
    assert_eq!(meter.entity("Voltage").unit("Voltage"), Some("V"));
    assert!(
        modbus_health(api, 1)["exceptions"].as_u64().unwrap_or(0) >= 1,
        "the merged read was not refused"
    );
    core.wait_log(SHORT, &["refused a merged read"]);
    assert_eq!(meter.entity("Energy import").unit("Energy"), Some("kWh"));
    assert!(meter.available);
    let pump = api.wait_device_where("modbus:ttyIGLOO0:2", "heat pump values", |d| {
        d.has("Flow temperature", "Temperature", &json!(21.5))?;
        d.has("Pump speed", "Number", &json!(40.0))?;
        d.has("Heat energy", "Energy", &json!(123_456.78))?;
        d.has("Heater", "Switch", &json!(false))
    });
    assert_eq!(
        pump.entity("Flow temperature").unit("Temperature"),
        Some("°C")
    );
    assert_eq!(
        pump.entity("Pump speed")
            .attributes
            .get("unit")
            .and_then(Value::as_str),
        Some("%")
    );

    // A write from `igloo set` changes the server's register; the read-back is reported.
    let from = server.events().len();
    core.cli(&["set", &pump.id.to_string(), "Pump speed", "Number=55"])
        .assert_success();
    let w = server.wait_event_from(from, "the write", SHORT, |e| e["event"] == "write");
    assert_eq!(
        (
            w["unit"].clone(),
            w["kind"].clone(),
            w["address"].clone(),
            w["values"].clone()
        ),
        (json!(2), json!("holding"), json!(1), json!([55])),
        "{w}"
    );
    api.wait_device_where("modbus:ttyIGLOO0:2", "pump speed 55 read back", |d| {
        d.has("Pump speed", "Number", &json!(55.0))
    });
    let from = server.events().len();
    let (code, body) = api.set(pump.id, "Heater", &json!({"Switch": true}));
    assert_eq!(code, 202, "{body}");
    let w = server.wait_event_from(from, "the coil write", SHORT, |e| e["event"] == "write");
    assert_eq!(
        (w["kind"].clone(), w["address"].clone()),
        (json!("coil"), json!(0)),
        "{w}"
    );
    api.wait_device_where("modbus:ttyIGLOO0:2", "heater on", |d| {
        d.has("Heater", "Switch", &json!(true))
    });
    // Read-only registers refuse writes before anything reaches the line.
    let from = server.events().len();
    let _ = api.set(meter.id, "Voltage", &json!({"Voltage": 1.0}));
    core.wait_log(SHORT, &["Voltage"]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        server.events()[from..]
            .iter()
            .filter(|e| e["event"] == "write")
            .count(),
        0
    );

    // The server stops answering: both devices become unavailable; timeouts are counted.
    server.op(json!({"op": "stop"}));
    for key in ["modbus:ttyIGLOO0:1", "modbus:ttyIGLOO0:2"] {
        api.wait_device_where(key, "unavailable", |d| {
            if d.available {
                Err("still available".into())
            } else {
                Ok(())
            }
        });
    }
    let h = modbus_health(api, 1);
    assert!(h["timeouts"].as_u64().unwrap_or(0) >= 3, "{h}");
    assert_eq!(h["available"], json!(false), "{h}");
    // It comes back: available again, new values flow.
    server.op(json!({"op": "start"}));
    server.set_f32(1, "input", 0x0000, 231.0);
    api.wait_device_where("modbus:ttyIGLOO0:1", "back with a new value", |d| {
        if !d.available {
            return Err("unavailable".into());
        }
        d.has("Voltage", "Voltage", &json!(231.0))
    });
    api.wait_device_where("modbus:ttyIGLOO0:2", "back", |d| {
        if d.available {
            Ok(())
        } else {
            Err("unavailable".into())
        }
    });
    let p = api.provider("serial");
    assert_eq!(p.restarts, 0, "{p:?}");
}

/// CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF; sent low byte first).
fn modbus_crc(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for b in data {
        crc ^= u16::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

fn crc16_arc(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for b in data {
        crc ^= u16::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// A DSMR 4/5 telegram from `body` (the lines between the header and '!'),
/// with its CRC (computed here independently of the provider's code).
fn telegram(header: &str, body: &[&str]) -> Vec<u8> {
    let mut t = format!("/{header}\r\n\r\n");
    for l in body {
        t.push_str(l);
        t.push_str("\r\n");
    }
    t.push('!');
    let crc = crc16_arc(t.as_bytes());
    format!("{t}{crc:04X}\r\n").into_bytes()
}

fn write_all(peer: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(peer)
        .unwrap_or_else(|e| panic!("open {}: {e}", peer.display()));
    f.write_all(bytes)
        .unwrap_or_else(|e| panic!("write {}: {e}", peer.display()));
}

const V5_ID: &str = "4530303435303034303639353030373137";

fn v5(import_t1: &str, power: &str) -> Vec<u8> {
    telegram(
        "Ene5\\T210-D ESMR5.0",
        &[
            "1-3:0.2.8(50)",
            "0-0:1.0.0(261121103000W)",
            &format!("0-0:96.1.1({V5_ID})"),
            &format!("1-0:1.8.1({import_t1}*kWh)"),
            "1-0:1.8.2(002345.678*kWh)",
            "1-0:2.8.1(000012.345*kWh)",
            "1-0:2.8.2(000023.456*kWh)",
            "0-0:96.14.0(0002)",
            &format!("1-0:1.7.0({power}*kW)"),
            "1-0:2.7.0(00.000*kW)",
            "1-0:32.7.0(230.1*V)",
            "1-0:52.7.0(231.2*V)",
            "1-0:72.7.0(229.8*V)",
            "1-0:31.7.0(002*A)",
            "1-0:21.7.0(00.345*kW)",
            "1-0:99.97.0(1)(0-0:96.7.19)(200101120000W)(0000000240*s)",
            "0-1:24.1.0(003)",
            "0-1:96.1.0(4730303339303031363532303530323136)",
            "0-1:24.2.1(261121103000W)(01234.567*m3)",
        ],
    )
}

#[test]
fn dsmr_p1_v22_v4_v5_telegrams_and_rejections() {
    let (a, b, c) = (Pty::open(), Pty::open(), Pty::open());
    let ports = FakePorts::new(&[
        ("ttyP5", &a.device_node()),
        ("ttyP4", &b.device_node()),
        ("ttyP2", &c.device_node()),
    ]);
    // DSMR 4 and 2.2 meters send 7E1; this kernel refuses parity and 7 data
    // bits on a pty (EINVAL), so those lines run 8N1 here. The telegram
    // formats are what these tests are about.
    let p1 = toml_value(
        r#"[{ grant = 0, dsmr = "5" },
            { grant = 1, dsmr = "4", parity = "none", data_bits = 8 },
            { grant = 2, dsmr = "2.2", parity = "none", data_bits = 8 }]"#,
    );
    let core = core_with(
        &ports,
        ProviderSpec::serial("serial", &["ttyP5", "ttyP4", "ttyP2"]).config("p1", p1),
    );
    let api = core.api();
    core.wait_log(TIMEOUT, &["P1 port started", "ttyP2"]);

    // DSMR 5.
    write_all(&a.peer, &v5("001234.567", "01.193"));
    let key5 = "dsmr:E0045004069500717";
    let d = api.wait_device_where(key5, "v5 readings", |d| {
        d.has("Energy import tariff 1", "Energy", &json!(1234.567))?;
        d.has("Energy import tariff 2", "Energy", &json!(2345.678))?;
        d.has("Energy export tariff 1", "Energy", &json!(12.345))?;
        d.has("Power import", "Power", &json!(1193.0))?;
        d.has("Power import L1", "Power", &json!(345.0))?;
        d.has("Voltage L2", "Voltage", &json!(231.2))?;
        d.has("Current L1", "Current", &json!(2.0))?;
        d.has("Gas", "Gas", &json!(1234.567))
    });
    assert_eq!(d.entity("Gas").unit("Gas"), Some("m³"));
    assert_eq!(d.entity("Power import").unit("Power"), Some("W"));
    assert!(d.available);

    // A wrong CRC is rejected and counted; the next good telegram applies.
    let mut bad = v5("009999.999", "09.999");
    let flip = bad.iter().position(|b| *b == b'9').unwrap_or(10);
    bad[flip] = b'8';
    write_all(&a.peer, &bad);
    let st = wait_for(SHORT, "the CRC error counted", || {
        let s = status(api);
        let p = s["p1"]
            .as_array()
            .and_then(|v| v.iter().find(|x| x["status"]["port"] == "ttyP5").cloned())
            .unwrap_or(Value::Null);
        if p["status"]["crc_errors"].as_u64() == Some(1) {
            Ok(p)
        } else {
            Err(p.to_string())
        }
    });
    assert!(
        st["status"]["last_error"]
            .as_str()
            .unwrap_or("")
            .to_ascii_lowercase()
            .contains("crc"),
        "{st}"
    );
    assert!(
        api.device_by_key(key5).is_some_and(|d| d
            .has("Energy import tariff 1", "Energy", &json!(1234.567))
            .is_ok()),
        "a bad telegram was applied"
    );
    // A telegram cut in the middle, then a good one.
    let good = v5("001300.000", "00.500");
    let cut = &v5("005555.555", "05.555")[..200];
    let mut both = cut.to_vec();
    both.extend_from_slice(&good);
    write_all(&a.peer, &both);
    api.wait_device_where(key5, "the good telegram after the cut one", |d| {
        d.has("Energy import tariff 1", "Energy", &json!(1300.0))
    });
    let s = status(api);
    let p = s["p1"]
        .as_array()
        .and_then(|v| v.iter().find(|x| x["status"]["port"] == "ttyP5").cloned())
        .unwrap_or(Value::Null);
    assert_eq!(p["status"]["truncated"], json!(1), "{p}");
    assert!(api.device_by_key(key5).is_some_and(|d| {
        d.value("Energy import tariff 1", "Energy")
            .and_then(Value::as_f64)
            != Some(5555.555)
    }));

    // DSMR 4.2 (7E1).
    let v4 = telegram(
        "ISk5\\2MT382-1000",
        &[
            "1-3:0.2.8(42)",
            "0-0:1.0.0(261121103000W)",
            "0-0:96.1.1(4B384547303034303436333935353037)",
            "1-0:1.8.1(012345.678*kWh)",
            "1-0:1.8.2(000001.000*kWh)",
            "1-0:2.8.1(000000.000*kWh)",
            "1-0:2.8.2(000000.000*kWh)",
            "0-0:96.14.0(0001)",
            "1-0:1.7.0(00.250*kW)",
            "1-0:2.7.0(00.000*kW)",
            "1-0:32.7.0(228.0*V)",
            "0-1:24.1.0(003)",
            "0-1:24.2.1(261121100000W)(00042.123*m3)",
        ],
    );
    write_all(&b.peer, &v4);
    api.wait_device_where("dsmr:K8EG004046395507", "v4 readings", |d| {
        d.has("Energy import tariff 1", "Energy", &json!(12345.678))?;
        d.has("Power import", "Power", &json!(250.0))?;
        d.has("Voltage L1", "Voltage", &json!(228.0))?;
        d.has("Gas", "Gas", &json!(42.123))
    });

    // DSMR 2.2 (no CRC; gas value on the next line).
    let v22 = "/KMP5 KA6U001585575011\r\n\r\n\
        0-0:96.1.1(4B413655303031353835353735303131)\r\n\
        1-0:1.8.1(00123.456*kWh)\r\n1-0:1.8.2(00234.567*kWh)\r\n\
        1-0:2.8.1(00000.000*kWh)\r\n1-0:2.8.2(00000.000*kWh)\r\n\
        0-0:96.14.0(0002)\r\n1-0:1.7.0(0000.42*kW)\r\n1-0:2.7.0(0000.00*kW)\r\n\
        0-1:24.1.0(3)\r\n0-1:96.1.0(3238313031353431303031333030303131)\r\n\
        0-1:24.3.0(261121100000)(00)(60)(1)(0-1:24.2.1)(m3)\r\n(00987.654)\r\n!\r\n";
    write_all(&c.peer, v22.as_bytes());
    api.wait_device_where("dsmr:KA6U001585575011", "v2.2 readings", |d| {
        d.has("Energy import tariff 2", "Energy", &json!(234.567))?;
        d.has("Power import", "Power", &json!(420.0))?;
        d.has("Gas", "Gas", &json!(987.654))
    });
    let p = api.provider("serial");
    assert_eq!(p.restarts, 0, "{p:?}");
}

#[test]
fn garbage_and_line_noise_never_panic_the_provider() {
    let (p1_pty, bus_pty) = (Pty::open(), Pty::open());
    let ports = FakePorts::new(&[
        ("ttyNOISE0", &p1_pty.device_node()),
        ("ttyNOISE1", &bus_pty.device_node()),
    ]);
    // A Modbus line whose "device" is this test, answering with noise.
    let modbus = toml_value(
        r#"[{ grant = 1, baud = 115200, timeout_ms = 100, device = [
            { unit = 7, name = "Noisy", poll_ms = 100, register = [
                { name = "Value", kind = "holding", address = 0, type = "u16", component = "Number" } ] } ] }]"#,
    );
    let spec = ProviderSpec::serial("serial", &["ttyNOISE0", "ttyNOISE1"])
        .config("p1", toml_value(r#"[{ grant = 0, dsmr = "5" }]"#))
        .config("modbus", modbus);
    let core = core_with(&ports, spec);
    let api = core.api();
    core.wait_log(TIMEOUT, &["Modbus line started"]);
    let pid = wait_for(TIMEOUT, "the provider running", || {
        api.try_provider("serial")?.pid.ok_or("no pid".to_string())
    });
    let mut seed: u32 = 0x2545_f491;
    let mut noise = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                (seed >> 3) as u8
            })
            .collect()
    };
    for round in 0..20 {
        let mut chunk = noise(2000);
        // Now and then something that looks like the start of a telegram or a frame.
        if round % 3 == 0 {
            chunk.extend_from_slice(b"/XYZ5\r\n\r\n1-0:1.8.1(12");
        }
        if round % 4 == 0 {
            chunk.extend_from_slice(&[0x07, 0x03, 0xFF, 0xFF, 0xFF]);
        }
        write_all(&p1_pty.peer, &chunk);
        write_all(&bus_pty.peer, &chunk[..300]);
        std::thread::sleep(Duration::from_millis(50));
    }
    // Then the test answers the polls itself: first with a bad CRC (counted
    // as such, not as a timeout), then correctly (the value arrives).
    let mut peer = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&bus_pty.peer)
        .unwrap_or_else(|e| panic!("open {}: {e}", bus_pty.peer.display()));
    let crc_before = modbus_health(api, 7)["crc_errors"].as_u64().unwrap_or(0);
    let answer = |peer: &mut std::fs::File, good: bool| {
        // Requests sent while nobody listened are stale: drop them, then
        // wait for a fresh request for unit 7 (07 03 00 00 00 01 + CRC).
        let mut buf = [0u8; 4096];
        while std::io::Read::read(peer, &mut buf).is_ok_and(|n| n > 0) {}
        let mut got = Vec::new();
        while !got.windows(6).any(|w| w == [7, 3, 0, 0, 0, 1]) {
            match std::io::Read::read(peer, &mut buf) {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(_) => std::thread::sleep(Duration::from_millis(2)),
            }
        }
        let mut frame = vec![7u8, 3, 2, 0, 42];
        let crc = modbus_crc(&frame);
        frame.extend_from_slice(&crc.to_le_bytes());
        if !good {
            frame[5] ^= 0xff;
        }
        peer.write_all(&frame)
            .unwrap_or_else(|e| panic!("answer: {e}"));
    };
    for _ in 0..3 {
        answer(&mut peer, false);
    }
    wait_for(SHORT, "bad-CRC answers counted as CRC errors", || {
        let h = modbus_health(api, 7);
        if h["crc_errors"].as_u64().unwrap_or(0) >= crc_before + 2 {
            Ok(())
        } else {
            Err(h.to_string())
        }
    });
    let noisy = wait_for(SHORT, "the noisy device listed", || {
        api.try_devices()?
            .into_iter()
            .find(|d| d.key == "modbus:ttyNOISE1:7")
            .ok_or("not yet".to_string())
    });
    assert!(
        noisy.value("Value", "Number") != Some(&json!(42.0)),
        "a bad-CRC answer was applied"
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let answering = std::thread::spawn(move || {
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            answer(&mut peer, true);
        }
    });
    api.wait_device_where("modbus:ttyNOISE1:7", "the good answer applied", |d| {
        d.has("Value", "Number", &json!(42.0))
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    drop(answering);

    // A good telegram still gets through afterwards.
    write_all(&p1_pty.peer, &v5("000100.000", "00.100"));
    api.wait_device_where(
        "dsmr:E0045004069500717",
        "a good telegram after the noise",
        |d| d.has("Energy import tariff 1", "Energy", &json!(100.0)),
    );
    let h = modbus_health(api, 7);
    let bad = ["timeouts", "crc_errors", "errors"]
        .iter()
        .map(|k| h[*k].as_u64().unwrap_or(0))
        .sum::<u64>();
    assert!(bad > 0, "noise on the Modbus line must be counted: {h}");
    let p = api.provider("serial");
    assert_eq!(
        (p.pid, p.restarts),
        (Some(pid), 0),
        "the provider restarted: {p:?}"
    );
    assert!(!core.log_contains("panicked"));
}

/// A wrong register map is refused at start with the device and registers named.
#[test]
fn a_wrong_register_map_is_refused_with_a_clear_error() {
    let pty = Pty::open();
    let ports = FakePorts::new(&[("ttyBAD0", &pty.device_node())]);
    let modbus = toml_value(
        r#"[{ grant = 0, baud = 9601, device = [
            { unit = 3, name = "Boiler", register = [
                { name = "A", kind = "holding", address = 0, type = "f32", component = "Temperature" },
                { name = "B", kind = "holding", address = 1, type = "u16", component = "Number" } ] } ] }]"#,
    );
    let core = core_with(
        &ports,
        ProviderSpec::serial("serial", &["ttyBAD0"]).config("modbus", modbus.clone()),
    );
    core.wait_log(
        TIMEOUT,
        &["invalid [provider.config] for igloo-serial", "baud = 9601"],
    );
    drop(core);
    let fixed = toml::Value::Array(vec![{
        let mut t = modbus
            .as_array()
            .and_then(|a| a.first())
            .cloned()
            .unwrap_or(toml::Value::Integer(0));
        if let Some(tab) = t.as_table_mut() {
            tab.insert("baud".into(), toml::Value::Integer(9600));
        }
        t
    }]);
    let core = core_with(
        &ports,
        ProviderSpec::serial("serial", &["ttyBAD0"]).config("modbus", fixed),
    );
    let line = core.wait_log(
        TIMEOUT,
        &[
            "invalid [provider.config] for igloo-serial",
            "\"A\"",
            "\"B\"",
        ],
    );
    assert!(line.contains("overlap"), "{line}");
}

/// The fake bus is checked against pymodbus's own client.
#[test]
fn the_modbus_server_passes_the_pymodbus_client_check() {
    igloo_tests::fake::run_self_check("check_modbus_server.py");
}
