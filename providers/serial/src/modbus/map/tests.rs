use std::time::Duration;

use igloo_provider::protocol::Component;
use serde::Deserialize;

use super::*;

#[derive(Deserialize)]
struct Bus {
    device: Vec<DeviceConfig>,
}

/// Devices from TOML `[[device]]` tables.
fn devices(text: &str) -> Vec<DeviceConfig> {
    match toml::from_str::<Bus>(text) {
        Ok(b) => b.device,
        Err(e) => panic!("test config does not parse: {e}"),
    }
}

fn ok(text: &str) -> Vec<DeviceMap> {
    match validate(&devices(text)) {
        Ok(m) => m,
        Err(e) => panic!("expected valid, got:\n{e}"),
    }
}

fn one(text: &str) -> DeviceMap {
    let mut maps = ok(text);
    assert_eq!(maps.len(), 1);
    maps.remove(0)
}

fn err(text: &str) -> String {
    match validate(&devices(text)) {
        Ok(m) => panic!("expected an error, got {m:?}"),
        Err(e) => e,
    }
}

/// One register on device 1 "Dev", from its TOML body.
fn reg(body: &str) -> String {
    format!("[[device]]\nunit = 1\nname = \"Dev\"\n[[device.register]]\nname = \"R\"\n{body}\n")
}

fn point(kind: RegisterKind, dt: DataType, order: WordOrder, scale: f64, offset: f64) -> Point {
    Point {
        entity: "R".into(),
        component: if kind.is_bits() { "Switch" } else { "Number" }.into(),
        kind,
        address: 10,
        data_type: dt,
        word_order: order,
        scale,
        offset,
        writable: true,
        attributes: vec![],
    }
}

/// Decodes `words` as one point starting the group.
fn decode_one(p: Point, words: &[u16]) -> Option<Component> {
    let map = DeviceMap {
        unit: 1,
        name: "Dev".into(),
        groups: vec![],
        points: vec![p.clone()],
    };
    let group = ReadGroup {
        kind: p.kind,
        start: p.address,
        count: p.data_type.width(),
        interval: Duration::from_secs(1),
        points: vec![0],
    };
    let mut out = decode_registers(&map, &group, words);
    assert!(out.len() <= 1);
    out.pop().map(|(i, c)| {
        assert_eq!(i, 0);
        c
    })
}

fn num(dt: DataType, order: WordOrder, words: &[u16]) -> Option<Component> {
    decode_one(point(RegisterKind::Holding, dt, order, 1.0, 0.0), words)
}

use DataType::*;
use WordOrder::{Big, Little};

// ---- decoding ----

#[test]
fn decodes_16_bit_types() {
    assert_eq!(num(U16, Big, &[0xFFFF]), Some(Component::Number(65535.0)));
    assert_eq!(num(I16, Big, &[0xFFFF]), Some(Component::Number(-1.0)));
    assert_eq!(num(I16, Big, &[0x8000]), Some(Component::Number(-32768.0)));
    assert_eq!(num(I16, Big, &[0x7FFF]), Some(Component::Number(32767.0)));
    assert_eq!(num(U16, Big, &[0x1234]), Some(Component::Number(4660.0)));
}

#[test]
fn decodes_32_bit_types_in_both_word_orders() {
    // 0x0001_0002 = 65538
    assert_eq!(
        num(U32, Big, &[0x0001, 0x0002]),
        Some(Component::Number(65538.0))
    );
    assert_eq!(
        num(U32, Little, &[0x0002, 0x0001]),
        Some(Component::Number(65538.0))
    );
    assert_eq!(
        num(U32, Big, &[0xFFFF, 0xFFFF]),
        Some(Component::Number(4_294_967_295.0))
    );
    // 0xFFFF_FFFE = -2
    assert_eq!(
        num(I32, Big, &[0xFFFF, 0xFFFE]),
        Some(Component::Number(-2.0))
    );
    assert_eq!(
        num(I32, Little, &[0xFFFE, 0xFFFF]),
        Some(Component::Number(-2.0))
    );
    assert_eq!(
        num(I32, Big, &[0x8000, 0x0000]),
        Some(Component::Number(-2_147_483_648.0))
    );
    // 230.5f32 = 0x4366_8000
    assert_eq!(
        num(F32, Big, &[0x4366, 0x8000]),
        Some(Component::Number(230.5))
    );
    assert_eq!(
        num(F32, Little, &[0x8000, 0x4366]),
        Some(Component::Number(230.5))
    );
    // -1.5f32 = 0xBFC0_0000
    assert_eq!(
        num(F32, Big, &[0xBFC0, 0x0000]),
        Some(Component::Number(-1.5))
    );
    // 0.1f32 = 0x3DCC_CCCD reads as 0.1, not 0.10000000149011612
    assert_eq!(
        num(F32, Big, &[0x3DCC, 0xCCCD]),
        Some(Component::Number(0.1))
    );
}

#[test]
fn nan_and_infinite_values_are_skipped() {
    assert_eq!(num(F32, Big, &[0x7FC0, 0x0000]), None); // NaN
    assert_eq!(num(F32, Big, &[0x7F80, 0x0000]), None); // +inf
    // f32::MAX × 1e300 overflows f64.
    let p = point(RegisterKind::Input, F32, Big, 1e300, 0.0);
    assert_eq!(decode_one(p, &[0x7F7F, 0xFFFF]), None);
}

#[test]
fn scale_and_offset_apply() {
    let p = point(RegisterKind::Holding, I16, Big, 0.1, 0.0);
    assert_eq!(
        decode_one(p.clone(), &[2305]),
        Some(Component::Number(230.5))
    );
    assert_eq!(
        decode_one(p, &[(-123i16).cast_unsigned()]),
        Some(Component::Number(-12.3))
    );
    let p = point(RegisterKind::Holding, U16, Big, 0.5, -40.0);
    assert_eq!(decode_one(p, &[100]), Some(Component::Number(10.0)));
    let p = point(RegisterKind::Input, U32, Big, 0.001, 0.0);
    assert_eq!(
        decode_one(p, &[0x0001, 0xE240]),
        Some(Component::Number(123.456))
    );
}

#[test]
fn int_components_round() {
    let mut p = point(RegisterKind::Holding, U16, Big, 0.5, 0.0);
    p.component = "ColorTemperature".into();
    assert_eq!(
        decode_one(p.clone(), &[501]),
        Some(Component::ColorTemperature(251))
    );
    assert_eq!(
        decode_one(p, &[500]),
        Some(Component::ColorTemperature(250))
    );
}

#[test]
fn short_answers_are_skipped_not_panicked_on() {
    assert_eq!(num(F32, Big, &[0x4366]), None);
    assert_eq!(num(U16, Big, &[]), None);
    let map = one(&reg(
        "kind = \"holding\"\naddress = 0\ntype = \"u16\"\ncomponent = \"Number\"",
    ));
    let mut g = map.groups[0].clone();
    g.start = 5; // points before the group's start
    assert!(decode_registers(&map, &g, &[1, 2, 3]).is_empty());
    g.points = vec![7]; // no such point
    assert!(decode_registers(&map, &g, &[1, 2, 3]).is_empty());
    assert!(decode_bits(&map, &map.groups[0], &[true]).is_empty()); // registers, not bits
}

#[test]
fn decodes_bits_and_a_whole_group() {
    let map = one("[[device]]\nunit = 3\nname = \"Relay\"\n\
         [[device.register]]\nname = \"A\"\nkind = \"coil\"\naddress = 0\ncomponent = \"Switch\"\nwritable = true\n\
         [[device.register]]\nname = \"B\"\nkind = \"coil\"\naddress = 2\ncomponent = \"Switch\"\n\
         [[device.register]]\nname = \"C\"\nkind = \"discrete\"\naddress = 0\ncomponent = \"Contact\"\n");
    assert_eq!(map.groups.len(), 2);
    let coils = &map.groups[0];
    assert_eq!(
        (coils.kind, coils.start, coils.count),
        (RegisterKind::Coil, 0, 3)
    );
    assert_eq!(
        decode_bits(&map, coils, &[true, false, false]),
        vec![(0, Component::Switch(true)), (1, Component::Switch(false))]
    );
    assert_eq!(
        decode_bits(&map, coils, &[true]),
        vec![(0, Component::Switch(true))]
    );
    let inputs = &map.groups[1];
    assert_eq!(
        decode_bits(&map, inputs, &[true]),
        vec![(2, Component::Contact(true))]
    );
    assert!(decode_registers(&map, coils, &[1, 2, 3]).is_empty());
}

#[test]
fn decodes_a_merged_register_group() {
    let map = one("[[device]]\nunit = 1\nname = \"Dev\"\n\
         [[device.register]]\nname = \"T\"\nkind = \"input\"\naddress = 10\ntype = \"i16\"\nscale = 0.1\ncomponent = \"Temperature\"\n\
         [[device.register]]\nname = \"V\"\nkind = \"input\"\naddress = 12\ntype = \"f32\"\ncomponent = \"Voltage\"\n");
    assert_eq!(map.groups.len(), 1);
    let g = &map.groups[0];
    assert_eq!((g.start, g.count, g.points.clone()), (10, 4, vec![0, 1]));
    assert_eq!(
        decode_registers(&map, g, &[215, 0xDEAD, 0x4366, 0x8000]),
        vec![
            (0, Component::Temperature(21.5)),
            (1, Component::Voltage(230.5))
        ]
    );
}

// ---- encoding ----

fn enc(p: &Point, x: f64) -> Result<Write, String> {
    encode(p, &Component::Number(x))
}

fn words(address: u16, words: &[u16]) -> Result<Write, String> {
    Ok(Write::Registers {
        address,
        words: words.to_vec(),
    })
}

#[test]
fn encodes_each_type() {
    let p = |dt, order| point(RegisterKind::Holding, dt, order, 1.0, 0.0);
    assert_eq!(enc(&p(U16, Big), 65535.0), words(10, &[0xFFFF]));
    assert_eq!(enc(&p(I16, Big), -1.0), words(10, &[0xFFFF]));
    assert_eq!(enc(&p(U32, Big), 65538.0), words(10, &[1, 2]));
    assert_eq!(enc(&p(U32, Little), 65538.0), words(10, &[2, 1]));
    assert_eq!(enc(&p(I32, Big), -2.0), words(10, &[0xFFFF, 0xFFFE]));
    assert_eq!(enc(&p(I32, Little), -2.0), words(10, &[0xFFFE, 0xFFFF]));
    assert_eq!(enc(&p(F32, Big), 230.5), words(10, &[0x4366, 0x8000]));
    assert_eq!(enc(&p(F32, Little), 230.5), words(10, &[0x8000, 0x4366]));
    // Int component values are accepted for numeric points.
    let mut q = p(U16, Big);
    q.component = "ColorTemperature".into();
    assert_eq!(
        encode(&q, &Component::ColorTemperature(370)),
        words(10, &[370])
    );
}

#[test]
fn encode_round_trips_with_scale_and_offset() {
    for (dt, order) in [
        (U16, Big),
        (I16, Big),
        (U32, Little),
        (I32, Big),
        (F32, Little),
    ] {
        for (scale, offset) in [(1.0, 0.0), (0.1, 0.0), (0.5, -40.0), (-2.0, 3.0)] {
            let p = point(RegisterKind::Holding, dt, order, scale, offset);
            for x in [0.0, 21.5, 100.0, 3.0, -1.5, -40.0] {
                let raw = (x - offset) / scale;
                let Ok(Write::Registers { words, .. }) = enc(&p, x) else {
                    assert!(
                        matches!(dt, U16 | U32) && raw.round() < 0.0,
                        "{dt} {scale} {offset} {x}"
                    );
                    continue;
                };
                let Some(Component::Number(back)) = decode_one(p.clone(), &words) else {
                    panic!("{dt} {x}: no value from {words:?}");
                };
                // Integer types keep the nearest representable value.
                let expect = if dt == F32 {
                    x
                } else {
                    raw.round() * scale + offset
                };
                assert!(
                    (back - expect).abs() < 1e-9,
                    "{dt} {order} scale {scale} offset {offset}: {x} → {words:?} → {back}"
                );
            }
        }
    }
}

#[test]
fn encode_rounds_integers_to_nearest() {
    let p = point(RegisterKind::Holding, I16, Big, 0.1, 0.0);
    assert_eq!(enc(&p, 21.54), words(10, &[215]));
    assert_eq!(enc(&p, 21.56), words(10, &[216]));
}

#[test]
fn encode_range_errors_name_the_limits() {
    let p = point(RegisterKind::Holding, I16, Big, 0.1, 0.0);
    let e = enc(&p, 7000.0).unwrap_err();
    assert_eq!(
        e,
        "entity \"R\": 7000 is out of range: i16 holds -32768..=32767, which with scale 0.1 and offset 0 is -3276.8..=3276.7"
    );
    let p = point(RegisterKind::Holding, U16, Big, 1.0, 0.0);
    let e = enc(&p, -1.0).unwrap_err();
    assert!(e.contains("u16 holds 0..=65535"), "{e}");
    assert!(enc(&p, 65535.4).is_ok());
    assert!(enc(&p, 65535.6).is_err());
    let p = point(RegisterKind::Holding, U32, Big, 1.0, 0.0);
    assert!(
        enc(&p, 4_294_967_296.0)
            .unwrap_err()
            .contains("0..=4294967295")
    );
    let p = point(RegisterKind::Holding, I32, Big, 1.0, 0.0);
    assert!(
        enc(&p, 1e300)
            .unwrap_err()
            .contains("-2147483648..=2147483647")
    );
    let p = point(RegisterKind::Holding, F32, Big, 1.0, 0.0);
    let e = enc(&p, 1e39).unwrap_err();
    assert!(
        e.contains("f32 holds -340282350000000000000000000000000000000.."),
        "{e}"
    );
    // Negative scale swaps the limits.
    let p = point(RegisterKind::Holding, U16, Big, -1.0, 0.0);
    assert!(enc(&p, 1.0).unwrap_err().ends_with("is -65535..=0"));
    assert!(enc(&p, f64::NAN).unwrap_err().contains("finite number"));
}

#[test]
fn encode_refusals() {
    let mut p = point(RegisterKind::Holding, U16, Big, 1.0, 0.0);
    p.writable = false;
    assert_eq!(enc(&p, 1.0).unwrap_err(), "entity \"R\" is not writable");
    let p = point(RegisterKind::Input, U16, Big, 1.0, 0.0);
    assert_eq!(enc(&p, 1.0).unwrap_err(), "entity \"R\" is not writable");
    let p = point(RegisterKind::Holding, U16, Big, 1.0, 0.0);
    assert_eq!(
        encode(&p, &Component::Temperature(1.0)).unwrap_err(),
        "entity \"R\" takes component Number, not Temperature"
    );
    let c = point(RegisterKind::Coil, Bool, Big, 1.0, 0.0);
    assert_eq!(
        encode(&c, &Component::Switch(true)),
        Ok(Write::Coil {
            address: 10,
            value: true
        })
    );
    assert_eq!(
        encode(&c, &Component::Switch(false)),
        Ok(Write::Coil {
            address: 10,
            value: false
        })
    );
    assert!(encode(&c, &Component::Number(1.0)).is_err());
}

// ---- grouping ----

/// Holding u16 registers at `addrs`, optional per-register poll_ms.
fn holding(regs: &[(u16, &str, Option<u32>)]) -> DeviceMap {
    let mut t = String::from("[[device]]\nunit = 1\nname = \"Dev\"\n");
    for (i, (a, ty, poll)) in regs.iter().enumerate() {
        t += &format!(
            "[[device.register]]\nname = \"R{i}\"\nkind = \"holding\"\naddress = {a}\ntype = \"{ty}\"\ncomponent = \"Number\"\n"
        );
        if let Some(ms) = poll {
            t += &format!("poll_ms = {ms}\n");
        }
    }
    one(&t)
}

fn spans(map: &DeviceMap) -> Vec<(u16, u16)> {
    map.groups.iter().map(|g| (g.start, g.count)).collect()
}

#[test]
fn groups_merge_adjacent_and_near_points() {
    // 0..2 f32, 2 u16, gap of 4 (3..=6), 7 u16: one group.
    let m = holding(&[(7, "u16", None), (0, "f32", None), (2, "u16", None)]);
    assert_eq!(spans(&m), [(0, 8)]);
    assert_eq!(m.groups[0].points, [1, 2, 0]); // by address
    assert_eq!(m.groups[0].interval, Duration::from_millis(5000));
    // A gap of 5 splits.
    let m = holding(&[(0, "u16", None), (6, "u16", None)]);
    assert_eq!(spans(&m), [(0, 1), (6, 1)]);
}

#[test]
fn groups_split_by_interval_and_kind() {
    let m = holding(&[(0, "u16", None), (1, "u16", Some(1000)), (2, "u16", None)]);
    assert_eq!(spans(&m), [(1, 1), (0, 3)]);
    assert_eq!(m.groups[0].interval, Duration::from_millis(1000));
    assert_eq!(m.groups[1].points, [0, 2]);
    let m = one("[[device]]\nunit = 1\nname = \"Dev\"\npoll_ms = 250\n\
         [[device.register]]\nname = \"A\"\nkind = \"holding\"\naddress = 0\ntype = \"u16\"\ncomponent = \"Number\"\n\
         [[device.register]]\nname = \"B\"\nkind = \"input\"\naddress = 1\ntype = \"u16\"\ncomponent = \"Number\"\n");
    assert_eq!(m.groups.len(), 2);
    assert_eq!(m.groups[0].kind, RegisterKind::Holding);
    assert_eq!(m.groups[1].kind, RegisterKind::Input);
    assert!(
        m.groups
            .iter()
            .all(|g| g.interval == Duration::from_millis(250))
    );
}

#[test]
fn groups_respect_the_register_limit() {
    // u16 every 5 addresses (gap 4): 0, 5, …, 125. The one at 125 would
    // make the request 126 registers long.
    let regs: Vec<(u16, &str, Option<u32>)> = (0..=25).map(|i| (i * 5, "u16", None)).collect();
    let m = holding(&regs);
    assert_eq!(spans(&m), [(0, 121), (125, 1)]);
    // Exactly 125 fits; a f32 that would cross the limit starts a new one.
    let m = holding(&[(0, "u16", None), (4, "u16", None), (124, "u16", None)]);
    assert_eq!(spans(&m), [(0, 5), (124, 1)]);
    let contiguous: Vec<(u16, &str, Option<u32>)> = (0..63).map(|i| (i * 2, "f32", None)).collect();
    let m = holding(&contiguous);
    assert_eq!(spans(&m), [(0, 124), (124, 2)]);
    let contiguous: Vec<(u16, &str, Option<u32>)> = (0..125).map(|i| (i, "u16", None)).collect();
    assert_eq!(spans(&holding(&contiguous)), [(0, 125)]);
    // The last register address.
    let m = holding(&[(65534, "f32", None), (65530, "u16", None)]);
    assert_eq!(spans(&m), [(65530, 6)]);
}

#[test]
fn groups_respect_the_bit_limit() {
    let mut t = String::from("[[device]]\nunit = 1\nname = \"Dev\"\n");
    for i in 0..=400u32 {
        t += &format!(
            "[[device.register]]\nname = \"C{i}\"\nkind = \"coil\"\naddress = {}\ncomponent = \"Switch\"\n",
            i * 5
        );
    }
    let m = one(&t);
    assert_eq!(spans(&m), [(0, 1996), (2000, 1)]);
    assert_eq!(m.groups[0].points.len(), 400);
}

// ---- validation ----

#[test]
fn a_full_register_is_mapped() {
    let m = one(r#"
[[device]]
unit = 1
name = "Heat pump meter"
poll_ms = 2000
[[device.register]]
name = "Flow temperature"
kind = "holding"
address = 0
type = "i16"
word_order = "big"
scale = 0.1
offset = 0.0
component = "Temperature"
unit = "°C"
writable = true
poll_ms = 10000
[[device.register]]
name = "Setpoint"
kind = "Holding"
address = 0x10
type = "F32"
word_order = "little"
scale = 2
component = "number"
unit = "bar"
"#);
    assert_eq!((m.unit, m.name.as_str()), (1, "Heat pump meter"));
    let attrs = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(
        m.points[0],
        Point {
            entity: "Flow temperature".into(),
            component: "Temperature".into(),
            kind: RegisterKind::Holding,
            address: 0,
            data_type: I16,
            word_order: Big,
            scale: 0.1,
            offset: 0.0,
            writable: true,
            attributes: attrs(&[
                ("unit", "°C"),
                ("modbus_kind", "holding"),
                ("address", "0"),
                ("type", "i16"),
                ("scale", "0.1"),
                ("poll_ms", "10000"),
            ]),
        }
    );
    let p = &m.points[1];
    assert_eq!(p.component, "Number"); // canonical spelling
    assert_eq!(
        (p.kind, p.address, p.data_type, p.word_order),
        (RegisterKind::Holding, 16, F32, Little)
    );
    assert_eq!(p.scale, 2.0);
    assert!(!p.writable);
    assert_eq!(
        p.attributes,
        attrs(&[
            ("unit", "bar"),
            ("modbus_kind", "holding"),
            ("address", "16"),
            ("type", "f32"),
            ("word_order", "little"),
            ("scale", "2"),
            ("poll_ms", "2000"),
        ])
    );
    assert_eq!(
        m.groups,
        [
            ReadGroup {
                kind: RegisterKind::Holding,
                start: 16,
                count: 2,
                interval: Duration::from_millis(2000),
                points: vec![1],
            },
            ReadGroup {
                kind: RegisterKind::Holding,
                start: 0,
                count: 1,
                interval: Duration::from_millis(10000),
                points: vec![0],
            },
        ]
    );
}

#[test]
fn component_units_become_the_unit_attribute() {
    let m = one(&reg(
        "kind = \"input\"\naddress = 0\ntype = \"u16\"\ncomponent = \"Power\"",
    ));
    assert_eq!(
        m.points[0].attributes[0],
        ("unit".to_string(), "W".to_string())
    );
    let m = one(&reg(
        "kind = \"input\"\naddress = 0\ntype = \"u16\"\ncomponent = \"Number\"",
    ));
    assert!(!m.points[0].attributes.iter().any(|(k, _)| k == "unit"));
    let m = one(&reg(
        "kind = \"coil\"\naddress = 0\ntype = \"bool\"\ncomponent = \"Switch\"",
    ));
    assert_eq!(m.points[0].data_type, Bool);
    assert_eq!((m.points[0].scale, m.points[0].offset), (1.0, 0.0));
}

#[test]
fn unknown_fields_are_refused_by_the_parser() {
    let r = toml::from_str::<Bus>(&reg(
        "kind = \"input\"\naddress = 0\ntype = \"u16\"\ncomponent = \"Number\"\nbogus = 1",
    ));
    assert!(r.err().is_some_and(|e| e.to_string().contains("bogus")));
    let r = toml::from_str::<Bus>("[[device]]\nunit = 1\nname = \"D\"\nregisters = []\n");
    assert!(r.err().is_some_and(|e| e.to_string().contains("registers")));
}

/// The single error line for one bad register.
fn reg_err(body: &str) -> String {
    let e = err(&reg(body));
    assert_eq!(e.lines().count(), 1, "{e}");
    e
}

const U16_IN: &str = "kind = \"input\"\naddress = 0\ntype = \"u16\"\ncomponent = \"Number\"";
const AT: &str = "modbus device 1 \"Dev\": register \"R\": ";

#[test]
fn unit_errors() {
    for u in ["0", "248", "-1", "1000"] {
        let e = err(&format!("[[device]]\nunit = {u}\nname = \"Dev\"\n"));
        assert_eq!(
            e,
            format!(
                "modbus device {u} \"Dev\": unit {u} is outside 1..=247 (0 is broadcast, 248-255 are reserved)"
            )
        );
    }
    ok("[[device]]\nunit = 247\nname = \"Dev\"\n");
    let e = err("[[device]]\nunit = 5\nname = \"A\"\n[[device]]\nunit = 5\nname = \"B\"\n");
    assert_eq!(
        e,
        "modbus device 5 \"B\": unit 5 is already used by device \"A\""
    );
    let e = err("[[device]]\nunit = 5\nname = \" \"\n");
    assert_eq!(e, "modbus device 5 \" \": device name is empty");
}

#[test]
fn preset_errors() {
    let e = err("[[device]]\nunit = 2\nname = \"Meter\"\npreset = \"sdm999\"\n");
    assert_eq!(
        e,
        "modbus device 2 \"Meter\": unknown preset \"sdm999\" (known: sdm120, sdm630)"
    );
    // A register named like a preset's.
    let e = err(
        "[[device]]\nunit = 2\nname = \"Meter\"\npreset = \"sdm120\"\n\
         [[device.register]]\nname = \"Voltage\"\nkind = \"holding\"\naddress = 0\ntype = \"u16\"\ncomponent = \"Number\"\n",
    );
    assert_eq!(
        e,
        "modbus device 2 \"Meter\": register \"Voltage\": duplicate entity name"
    );
    // Overlap with a preset register names the preset.
    let e = err(
        "[[device]]\nunit = 2\nname = \"Meter\"\npreset = \"sdm120\"\n\
         [[device.register]]\nname = \"Extra\"\nkind = \"input\"\naddress = 1\ntype = \"u16\"\ncomponent = \"Number\"\n",
    );
    assert_eq!(
        e,
        "modbus device 2 \"Meter\": register \"Extra\" (input u16 at 1) overlaps register \"Voltage\" (input f32 at 0)"
    );
}

#[test]
fn kind_type_and_word_order_errors() {
    assert_eq!(
        reg_err("kind = \"holdin\"\naddress = 0\ntype = \"u16\"\ncomponent = \"Number\""),
        format!("{AT}unknown kind \"holdin\" (expected holding, input, coil or discrete)")
    );
    assert_eq!(
        reg_err("kind = \"input\"\naddress = 0\ntype = \"u64\"\ncomponent = \"Number\""),
        format!(
            "{AT}unknown type \"u64\" for an input register (expected u16, i16, u32, i32 or f32)"
        )
    );
    assert_eq!(
        reg_err("kind = \"input\"\naddress = 0\ntype = \"bool\"\ncomponent = \"Number\""),
        format!(
            "{AT}unknown type \"bool\" for an input register (expected u16, i16, u32, i32 or f32)"
        )
    );
    assert_eq!(
        reg_err("kind = \"holding\"\naddress = 0\ncomponent = \"Number\""),
        format!("{AT}a holding register needs a type (u16, i16, u32, i32 or f32)")
    );
    assert_eq!(
        reg_err("kind = \"coil\"\naddress = 0\ntype = \"u16\"\ncomponent = \"Switch\""),
        format!("{AT}a coil is a single bit: type \"u16\" does not apply (omit it, or \"bool\")")
    );
    assert_eq!(
        reg_err(
            "kind = \"input\"\naddress = 0\ntype = \"u32\"\nword_order = \"middle\"\ncomponent = \"Number\""
        ),
        format!("{AT}unknown word_order \"middle\" (expected big or little)")
    );
    assert_eq!(
        reg_err(
            "kind = \"input\"\naddress = 0\ntype = \"u16\"\nword_order = \"little\"\ncomponent = \"Number\""
        ),
        format!("{AT}word_order applies only to 32-bit types (u32, i32, f32), not u16")
    );
}

#[test]
fn component_errors() {
    assert_eq!(
        reg_err("kind = \"input\"\naddress = 0\ntype = \"u16\"\ncomponent = \"Temprature\""),
        format!("{AT}unknown component \"Temprature\"")
    );
    for (c, k) in [
        ("Text", "string"),
        ("Color", "color"),
        ("CoverState", "enum"),
        ("Light", "marker"),
    ] {
        assert_eq!(
            reg_err(&format!(
                "kind = \"input\"\naddress = 0\ntype = \"u16\"\ncomponent = \"{c}\""
            )),
            format!(
                "{AT}component {c} holds {k} values; a register needs a float, int or bool component"
            )
        );
    }
    assert_eq!(
        reg_err("kind = \"holding\"\naddress = 0\ntype = \"u16\"\ncomponent = \"Switch\""),
        format!(
            "{AT}component Switch holds bool values: use it on a coil or discrete input, or use a float or int component"
        )
    );
    assert_eq!(
        reg_err("kind = \"discrete\"\naddress = 0\ncomponent = \"Power\""),
        format!(
            "{AT}component Power holds float values, but a discrete input is a bit: use a bool component"
        )
    );
    assert_eq!(
        reg_err(
            "kind = \"input\"\naddress = 0\ntype = \"u16\"\ncomponent = \"Temperature\"\nunit = \"°F\""
        ),
        format!("{AT}unit \"°F\" differs from component Temperature's unit \"°C\"")
    );
    assert_eq!(
        reg_err(
            "kind = \"input\"\naddress = 0\ntype = \"u16\"\ncomponent = \"PowerFactor\"\nunit = \"%\""
        ),
        format!(
            "{AT}component PowerFactor has no unit, so unit \"%\" does not apply (use Number for a value with a unit)"
        )
    );
    assert_eq!(
        reg_err(
            "kind = \"input\"\naddress = 0\ntype = \"u16\"\ncomponent = \"Number\"\nunit = \"\""
        ),
        format!("{AT}unit is empty")
    );
}

#[test]
fn address_errors() {
    assert_eq!(
        reg_err("kind = \"input\"\naddress = 65535\ntype = \"f32\"\ncomponent = \"Number\""),
        format!("{AT}address 65535 + 2 registers goes beyond 65535")
    );
    assert_eq!(
        reg_err("kind = \"input\"\naddress = 65536\ntype = \"u16\"\ncomponent = \"Number\""),
        format!("{AT}address 65536 is outside 0..=65535")
    );
    assert_eq!(
        reg_err("kind = \"coil\"\naddress = -1\ncomponent = \"Switch\""),
        format!("{AT}address -1 is outside 0..=65535")
    );
    ok(&reg(
        "kind = \"input\"\naddress = 65534\ntype = \"f32\"\ncomponent = \"Number\"",
    ));
    ok(&reg(
        "kind = \"coil\"\naddress = 65535\ncomponent = \"Switch\"",
    ));
}

#[test]
fn overlap_errors_name_both_registers() {
    let e = err("[[device]]\nunit = 1\nname = \"Dev\"\n\
         [[device.register]]\nname = \"A\"\nkind = \"holding\"\naddress = 0\ntype = \"f32\"\ncomponent = \"Number\"\n\
         [[device.register]]\nname = \"B\"\nkind = \"holding\"\naddress = 1\ntype = \"u16\"\ncomponent = \"Number\"\n");
    assert_eq!(
        e,
        "modbus device 1 \"Dev\": register \"B\" (holding u16 at 1) overlaps register \"A\" (holding f32 at 0)"
    );
    // Same address in different tables is fine.
    ok("[[device]]\nunit = 1\nname = \"Dev\"\n\
        [[device.register]]\nname = \"A\"\nkind = \"holding\"\naddress = 0\ntype = \"f32\"\ncomponent = \"Number\"\n\
        [[device.register]]\nname = \"B\"\nkind = \"input\"\naddress = 1\ntype = \"u16\"\ncomponent = \"Number\"\n\
        [[device.register]]\nname = \"C\"\nkind = \"coil\"\naddress = 0\ncomponent = \"Switch\"\n\
        [[device.register]]\nname = \"D\"\nkind = \"discrete\"\naddress = 0\ncomponent = \"Switch\"\n");
    // Two bits at one address.
    let e = err("[[device]]\nunit = 1\nname = \"Dev\"\n\
         [[device.register]]\nname = \"A\"\nkind = \"coil\"\naddress = 3\ncomponent = \"Switch\"\n\
         [[device.register]]\nname = \"B\"\nkind = \"coil\"\naddress = 3\ncomponent = \"Switch\"\n");
    assert_eq!(
        e,
        "modbus device 1 \"Dev\": register \"B\" (coil bool at 3) overlaps register \"A\" (coil bool at 3)"
    );
}

#[test]
fn writable_errors() {
    assert_eq!(
        reg_err(
            "kind = \"input\"\naddress = 0\ntype = \"u16\"\ncomponent = \"Number\"\nwritable = true"
        ),
        format!(
            "{AT}an input register is read-only: writable applies to holding registers and coils"
        )
    );
    assert_eq!(
        reg_err("kind = \"discrete\"\naddress = 0\ncomponent = \"Contact\"\nwritable = true"),
        format!(
            "{AT}a discrete input is read-only: writable applies to holding registers and coils"
        )
    );
}

#[test]
fn duplicate_entity_names() {
    let e = err("[[device]]\nunit = 1\nname = \"Dev\"\n\
         [[device.register]]\nname = \"A\"\nkind = \"holding\"\naddress = 0\ntype = \"u16\"\ncomponent = \"Number\"\n\
         [[device.register]]\nname = \"A\"\nkind = \"holding\"\naddress = 1\ntype = \"u16\"\ncomponent = \"Number\"\n");
    assert_eq!(
        e,
        "modbus device 1 \"Dev\": register \"A\": duplicate entity name"
    );
}

#[test]
fn poll_errors() {
    assert_eq!(
        reg_err(&format!("{U16_IN}\npoll_ms = 99")),
        format!("{AT}poll_ms 99 is outside 100..=86400000")
    );
    let e = err("[[device]]\nunit = 1\nname = \"Dev\"\npoll_ms = 0\n");
    assert_eq!(
        e,
        "modbus device 1 \"Dev\": poll_ms 0 is outside 100..=86400000"
    );
    let e = err("[[device]]\nunit = 1\nname = \"Dev\"\npoll_ms = 86400001\n");
    assert!(
        e.ends_with("poll_ms 86400001 is outside 100..=86400000"),
        "{e}"
    );
    ok(&reg(&format!("{U16_IN}\npoll_ms = 100")));
}

#[test]
fn scale_and_offset_errors() {
    assert_eq!(
        reg_err(&format!("{U16_IN}\nscale = 0")),
        format!("{AT}scale 0 must be finite and not zero")
    );
    assert_eq!(
        reg_err(&format!("{U16_IN}\nscale = inf")),
        format!("{AT}scale inf must be finite and not zero")
    );
    assert_eq!(
        reg_err(&format!("{U16_IN}\nscale = nan")),
        format!("{AT}scale NaN must be finite and not zero")
    );
    assert_eq!(
        reg_err(&format!("{U16_IN}\noffset = -inf")),
        format!("{AT}offset -inf must be finite")
    );
    assert_eq!(
        reg_err("kind = \"coil\"\naddress = 0\ncomponent = \"Switch\"\nscale = 2"),
        format!("{AT}scale and offset do not apply to a coil (a bit)")
    );
}

#[test]
fn every_problem_is_reported() {
    let e = err("[[device]]\nunit = 0\nname = \"A\"\n\
         [[device.register]]\nname = \"X\"\nkind = \"input\"\naddress = 0\ntype = \"u16\"\ncomponent = \"Nope\"\nwritable = true\n\
         [[device]]\nunit = 3\nname = \"B\"\n\
         [[device.register]]\nname = \"Y\"\nkind = \"holding\"\naddress = 0\ntype = \"x\"\ncomponent = \"Number\"\n");
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 4, "{e}");
    assert!(lines[0].starts_with("modbus device 0 \"A\": unit 0"));
    assert!(lines[1].starts_with("modbus device 0 \"A\": register \"X\": unknown component"));
    assert!(
        lines[2]
            .starts_with("modbus device 0 \"A\": register \"X\": an input register is read-only")
    );
    assert!(lines[3].starts_with("modbus device 3 \"B\": register \"Y\": unknown type \"x\""));
}

// ---- presets ----

#[test]
fn presets_parse_and_validate() {
    assert_eq!(preset_names(), ["sdm120", "sdm630"]);
    for name in preset_names() {
        let regs = preset(name).unwrap_or_else(|| panic!("preset {name} does not parse"));
        assert!(!regs.is_empty());
        let m = one(&format!(
            "[[device]]\nunit = 1\nname = \"Meter\"\npreset = \"{name}\"\n"
        ));
        assert_eq!(m.points.len(), regs.len());
        for p in &m.points {
            assert_eq!(
                (p.kind, p.data_type, p.word_order),
                (RegisterKind::Input, F32, Big),
                "{name}"
            );
            assert!(!p.writable);
        }
        // Eastron meters answer at most 40 parameters (80 registers) per request.
        assert!(
            m.groups.iter().all(|g| g.count <= 80),
            "{name}: {:?}",
            m.groups
        );
    }
    assert!(preset("SDM120").is_some());
    assert!(preset("nope").is_none());
}

fn find<'a>(m: &'a DeviceMap, entity: &str) -> &'a Point {
    m.points
        .iter()
        .find(|p| p.entity == entity)
        .unwrap_or_else(|| panic!("no {entity}"))
}

#[test]
fn sdm120_preset_addresses() {
    let m = one(
        "[[device]]\nunit = 7\nname = \"Meter\"\npreset = \"SDM120\"\npoll_ms = 1000\n\
         [[device.register]]\nname = \"Extra\"\nkind = \"holding\"\naddress = 0x0C\ntype = \"f32\"\ncomponent = \"Number\"\n",
    );
    let expect = [
        ("Voltage", 0x0000, "Voltage"),
        ("Current", 0x0006, "Current"),
        ("Power", 0x000C, "Power"),
        ("Apparent power", 0x0012, "ApparentPower"),
        ("Reactive power", 0x0018, "ReactivePower"),
        ("Power factor", 0x001E, "PowerFactor"),
        ("Frequency", 0x0046, "Frequency"),
        ("Energy import", 0x0048, "Energy"),
        ("Energy export", 0x004A, "Energy"),
        ("Energy total", 0x0156, "Energy"),
    ];
    assert_eq!(m.points.len(), expect.len() + 1);
    for (entity, address, component) in expect {
        let p = find(&m, entity);
        assert_eq!(
            (p.address, p.component.as_str()),
            (address, component),
            "{entity}"
        );
    }
    assert_eq!(m.points.last().map(|p| p.entity.as_str()), Some("Extra"));
    let v = m
        .groups
        .iter()
        .find(|g| g.kind == RegisterKind::Input && g.start == 0);
    let v = v.unwrap_or_else(|| panic!("no group at 0: {:?}", m.groups));
    let mut words = vec![0u16; usize::from(v.count)];
    words[0..2].copy_from_slice(&[0x4366, 0x8000]);
    let values = decode_registers(&m, v, &words);
    assert_eq!(values[0], (0, Component::Voltage(230.5)));
}

#[test]
fn sdm630_preset_addresses() {
    let m = one("[[device]]\nunit = 1\nname = \"Meter\"\npreset = \"sdm630\"\n");
    let expect = [
        ("Voltage L1", 0x0000, "Voltage"),
        ("Voltage L2", 0x0002, "Voltage"),
        ("Voltage L3", 0x0004, "Voltage"),
        ("Current L1", 0x0006, "Current"),
        ("Current L2", 0x0008, "Current"),
        ("Current L3", 0x000A, "Current"),
        ("Power L1", 0x000C, "Power"),
        ("Power L2", 0x000E, "Power"),
        ("Power L3", 0x0010, "Power"),
        ("Power factor L1", 0x001E, "PowerFactor"),
        ("Power factor L2", 0x0020, "PowerFactor"),
        ("Power factor L3", 0x0022, "PowerFactor"),
        ("Power", 0x0034, "Power"),
        ("Apparent power", 0x0038, "ApparentPower"),
        ("Reactive power", 0x003C, "ReactivePower"),
        ("Power factor", 0x003E, "PowerFactor"),
        ("Frequency", 0x0046, "Frequency"),
        ("Energy import", 0x0048, "Energy"),
        ("Energy export", 0x004A, "Energy"),
        ("Energy total", 0x0156, "Energy"),
    ];
    assert_eq!(m.points.len(), expect.len());
    for (entity, address, component) in expect {
        let p = find(&m, entity);
        assert_eq!(
            (p.address, p.component.as_str()),
            (address, component),
            "{entity}"
        );
    }
}

#[test]
fn name_and_size_errors() {
    let e = err(
        "[[device]]\nunit = 1\nname = \"Dev\"\n[[device.register]]\nname = \"\"\nkind = \"coil\"\naddress = 0\ncomponent = \"Switch\"\n",
    );
    assert_eq!(
        e,
        "modbus device 1 \"Dev\": register \"\": entity name is empty"
    );
    let long = "x".repeat(MAX_NAME + 1);
    let e = err(&format!("[[device]]\nunit = 1\nname = \"{long}\"\n"));
    assert!(
        e.ends_with(": device name is 1025 bytes (at most 1024)"),
        "{e}"
    );
    let mut t = String::from("[[device]]\nunit = 9\nname = \"Big\"\n");
    for i in 0..=MAX_POINTS {
        t += &format!(
            "[[device.register]]\nname = \"C{i}\"\nkind = \"coil\"\naddress = {i}\ncomponent = \"Switch\"\n"
        );
    }
    assert_eq!(
        err(&t),
        "modbus device 9 \"Big\": 513 registers (at most 512 per device)"
    );
}
