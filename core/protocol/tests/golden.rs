//! Golden wire vectors: committed bytes ↔ values (DESIGN §4.3).
//!
//! `tests/golden/v<N>/<id>-<Name>.bin` holds one frame payload (bincode, no
//! length prefix) and `.json` the value it must decode to. Vectors are added
//! for every release and never regenerated: a change to the wire format of an
//! existing message or component makes this test fail.
//!
//! Add vectors for new messages/components with
//! `cargo test -p igloo-protocol --test golden -- --ignored write_missing_vectors`
//! (it writes only files that do not exist yet), then commit them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use igloo_protocol::message::*;
use igloo_protocol::*;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Every (bin, json) pair under tests/golden/v*/.
fn vectors() -> Vec<(PathBuf, Vec<u8>, serde_json::Value)> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("tests/golden exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        for bin in files
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        {
            let json_path = bin.with_extension("json");
            let bytes = std::fs::read(&bin).unwrap();
            let text = std::fs::read_to_string(&json_path).unwrap_or_else(|e| {
                panic!("{} has no {}: {e}", bin.display(), json_path.display())
            });
            let json = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", json_path.display()));
            out.push((bin, bytes, json));
        }
    }
    out
}

#[test]
fn golden_vectors_decode_and_reencode_byte_for_byte() {
    let v = vectors();
    assert!(
        !v.is_empty(),
        "no golden vectors found under {}",
        golden_dir().display()
    );
    for (path, bytes, json) in v {
        let expected: Message = serde_json::from_value(json.clone()).unwrap_or_else(|e| {
            panic!(
                "{}: the JSON no longer describes a Message: {e}",
                path.display()
            )
        });
        let decoded = decode_payload(&bytes).unwrap_or_else(|e| {
            panic!("{}: committed bytes no longer decode: {e}", path.display())
        });
        assert_eq!(
            decoded,
            expected,
            "{}: bytes decode to another value",
            path.display()
        );
        let frame = igloo_protocol::frame::to_frame_bytes(&expected, DEFAULT_MAX_FRAME).unwrap();
        assert_eq!(
            &frame[4..],
            &bytes[..],
            "{}: value no longer encodes to the committed bytes",
            path.display()
        );
        // The file name's id and name match the message's wire id and serde name.
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let (id, name) = stem
            .split_once('-')
            .expect("file name is <id>-<Name>[-suffix]");
        let name = name.split('-').next().unwrap();
        assert_eq!(
            id.parse::<u16>().unwrap(),
            expected.id(),
            "{}",
            path.display()
        );
        assert_eq!(name, expected.name(), "{}", path.display());
        let serde_name = json
            .as_object()
            .and_then(|o| o.keys().next().cloned())
            .unwrap_or_default();
        assert_eq!(
            serde_name,
            expected.name(),
            "{}: serde variant name differs from MESSAGE_NAMES",
            path.display()
        );
    }
}

#[test]
fn every_message_and_component_has_a_golden_vector() {
    let v = vectors();
    let mut messages = BTreeSet::new();
    let mut components = BTreeSet::new();
    for (_, bytes, _) in &v {
        let m = decode_payload(bytes).unwrap();
        messages.insert(m.id());
        if let Message::WriteComponents(w) = &m {
            components.extend(w.values.iter().map(Component::id));
        }
    }
    let missing_m: Vec<&str> = (0..=MAX_MESSAGE_ID)
        .filter(|i| !messages.contains(i))
        .map(|i| MESSAGE_NAMES[usize::from(i)])
        .collect();
    let missing_c: Vec<&str> = (0..=MAX_COMPONENT_ID)
        .filter(|i| !components.contains(i))
        .map(|i| COMPONENTS[usize::from(i)].name)
        .collect();
    assert!(
        missing_m.is_empty() && missing_c.is_empty(),
        "no golden vector for messages {missing_m:?} / components {missing_c:?}; run `cargo test -p igloo-protocol --test golden -- --ignored write_missing_vectors` and commit the new files"
    );
}

#[test]
fn message_names_file_matches_the_enum() {
    let text = std::fs::read_to_string(golden_dir().join("messages.txt")).unwrap();
    let names: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        names, MESSAGE_NAMES,
        "tests/golden/messages.txt must list the Message variants in wire order (append new ones at the end)"
    );
}

/// A sample value for every component id, for the vectors.
fn component_sample(info: &ComponentInfo) -> Component {
    let value = match info.kind {
        Kind::Marker => Value::Marker,
        Kind::Bool => Value::Bool(true),
        Kind::Int => Value::Int(-300 + i64::from(info.id) * 7),
        Kind::Float => Value::Float(21.5 + f64::from(info.id)),
        Kind::String => Value::String(format!("{} text ✓", info.name)),
        Kind::Color => Value::Color(Color {
            r: 255,
            g: 128,
            b: 1,
        }),
        Kind::Enum => Value::String(info.variants[info.variants.len() - 1].to_string()),
    };
    Component::from_value(info.id, value).unwrap()
}

fn message_samples() -> Vec<(String, Message)> {
    let mut v = vec![
        (
            "Hello".into(),
            Message::Hello(Hello {
                protocol_major: 1,
                protocol_minor: 0,
                name: "igloo-mqtt".into(),
                version: "0.1.0".into(),
                max_component_id: 50,
                max_message_id: 12,
            }),
        ),
        (
            "Welcome".into(),
            Message::Welcome(Welcome {
                protocol_major: 1,
                protocol_minor: 0,
                core_version: "0.1.0".into(),
                max_component_id: 50,
                max_message_id: 12,
                config: "broker = \"127.0.0.1:1883\"\n".into(),
                data_dir: "/var/lib/igloo/providers/mqtt".into(),
            }),
        ),
        (
            "CreateDevice".into(),
            Message::CreateDevice(CreateDevice {
                request_id: 7,
                key: "0x00158d0001a2b3c4".into(),
                name: "living_lamp".into(),
                attributes: vec![("model".into(), "LED1545G12".into())],
            }),
        ),
        (
            "DeviceCreated".into(),
            Message::DeviceCreated(DeviceCreated {
                request_id: 7,
                device: DeviceId(300),
            }),
        ),
        (
            "RegisterEntity".into(),
            Message::RegisterEntity(RegisterEntity {
                device: DeviceId(300),
                entity: 2,
                name: "Light".into(),
                attributes: vec![("writable".into(), "Switch,Brightness".into())],
            }),
        ),
        (
            "WriteComponents".into(),
            Message::WriteComponents(WriteComponents {
                device: DeviceId(42),
                entity: 3,
                values: vec![
                    Component::Switch(true),
                    Component::Brightness(75.0),
                    Component::Color(Color {
                        r: 255,
                        g: 128,
                        b: 0,
                    }),
                ],
            }),
        ),
        (
            "SetAvailability".into(),
            Message::SetAvailability(SetAvailability {
                device: DeviceId(42),
                available: false,
            }),
        ),
        (
            "RemoveDevice".into(),
            Message::RemoveDevice(RemoveDevice {
                device: DeviceId(42),
            }),
        ),
        (
            "Custom".into(),
            Message::Custom(Custom {
                request_id: 9,
                command: "mqtt.status".into(),
                body: "{}".into(),
            }),
        ),
        (
            "CustomReply".into(),
            Message::CustomReply(CustomReply {
                request_id: 9,
                body: "{\"connected\":true}".into(),
            }),
        ),
        ("Ping".into(), Message::Ping(u64::MAX)),
        ("Pong".into(), Message::Pong(1)),
        (
            "Error".into(),
            Message::Error(ErrorReply {
                request_id: 0,
                code: ErrorCode::NOT_OWNER,
                message: "device 5 belongs to provider esphome".into(),
            }),
        ),
        (
            "Grant".into(),
            Message::Grant(Grant {
                grant: 3,
                name: "ttyACM0".into(),
                attributes: vec![
                    ("vid".into(), "1cf1".into()),
                    ("pid".into(), "0030".into()),
                    ("known".into(), "conbee2".into()),
                ],
            }),
        ),
        (
            "Revoke".into(),
            Message::Revoke(Revoke {
                grant: 3,
                reason: "unplugged".into(),
            }),
        ),
    ];
    for info in COMPONENTS {
        v.push((
            format!("WriteComponents-c{:03}-{}", info.id, info.name),
            Message::WriteComponents(WriteComponents {
                device: DeviceId(1),
                entity: 0,
                values: vec![component_sample(info)],
            }),
        ));
    }
    v
}

/// Writes vectors that do not exist yet into the newest `v<N>` dir. Never overwrites.
#[test]
#[ignore = "writes files; run by hand when adding messages or components"]
fn write_missing_vectors() {
    let existing: BTreeSet<String> = vectors()
        .iter()
        .map(|(p, _, _)| {
            p.file_stem()
                .unwrap()
                .to_string_lossy()
                .split_once('-')
                .unwrap()
                .1
                .to_string()
        })
        .collect();
    let mut versions: Vec<u32> = std::fs::read_dir(golden_dir())
        .unwrap()
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_prefix('v')?
                .parse()
                .ok()
        })
        .collect();
    versions.sort();
    let dir = golden_dir().join(format!("v{}", versions.last().copied().unwrap_or(1)));
    std::fs::create_dir_all(&dir).unwrap();
    for (label, msg) in message_samples() {
        if existing.contains(&label) {
            continue;
        }
        let stem = format!("{:02}-{label}", msg.id());
        let frame = igloo_protocol::frame::to_frame_bytes(&msg, DEFAULT_MAX_FRAME).unwrap();
        std::fs::write(dir.join(format!("{stem}.bin")), &frame[4..]).unwrap();
        std::fs::write(
            dir.join(format!("{stem}.json")),
            serde_json::to_string_pretty(&msg).unwrap() + "\n",
        )
        .unwrap();
        eprintln!("wrote {stem}");
    }
}
