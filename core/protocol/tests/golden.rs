//! Golden wire vectors: committed bytes ↔ values (DESIGN §4.3, docs/compatibility.md).
//!
//! `tests/golden/v<N>/<id>-<Message>[-c<NNN>-<Component>[-v<K>-<Variant>]].bin`
//! holds one frame payload (bincode, no length prefix) and the `.json` next to
//! it the value it must decode to. The name says what the vector covers: the
//! message id and name, for a `WriteComponents` the component id and name,
//! and for an enum component the variant index and name.
//!
//! Vectors are added for every message, component and enum variant, and never
//! regenerated: a change to the wire format of anything released makes
//! `golden_vectors_decode_and_reencode_byte_for_byte` fail, and
//! `append_only.rs` fails if a committed vector file is edited or deleted.
//!
//! Add vectors for new messages, components and variants with
//! `cargo test -p igloo-protocol --test golden -- --ignored write_missing_vectors`
//! (it writes only files that do not exist yet; `git status` must show only new
//! files under `core/protocol/tests/golden/`), then commit them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use igloo_protocol::message::*;
use igloo_protocol::*;

const WRITE_HINT: &str = "add it with `cargo test -p igloo-protocol --test golden -- --ignored \
     write_missing_vectors` (a new message first needs a sample in message_samples() in \
     core/protocol/tests/golden.rs), check that `git status` shows only new files under \
     core/protocol/tests/golden/, and commit them (docs/compatibility.md)";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// One committed vector.
struct Vector {
    /// The `.bin` file.
    path: PathBuf,
    /// Its bytes.
    bytes: Vec<u8>,
    /// The `.json` next to it.
    json: serde_json::Value,
}

impl Vector {
    /// The file stem without the leading `<id>-`, e.g. `WriteComponents-c023-CoverState`.
    fn label(&self) -> String {
        label_of(&self.path)
    }

    /// The bytes decoded; panics naming the file.
    fn message(&self) -> Message {
        decode_payload(&self.bytes).unwrap_or_else(|e| {
            panic!(
                "{}: committed bytes no longer decode: {e}",
                self.path.display()
            )
        })
    }
}

fn label_of(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match stem.split_once('-') {
        Some((_, label)) => label.to_string(),
        None => stem,
    }
}

/// The `v<N>` directories, oldest first.
fn version_dirs() -> Vec<(u32, PathBuf)> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir(golden_dir())
        .unwrap_or_else(|e| panic!("{}: {e}", golden_dir().display()))
        .filter_map(|e| {
            let e = e.ok()?;
            let n = e.file_name().to_str()?.strip_prefix('v')?.parse().ok()?;
            e.path().is_dir().then(|| (n, e.path()))
        })
        .collect();
    dirs.sort();
    dirs
}

/// Every (bin, json) pair under tests/golden/v*/.
fn vectors() -> Vec<Vector> {
    let mut out = Vec::new();
    for (_, dir) in version_dirs() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        for path in &files {
            let ext = path.extension().and_then(|e| e.to_str());
            let other = match ext {
                Some("bin") => path.with_extension("json"),
                Some("json") => path.with_extension("bin"),
                _ => panic!(
                    "{}: only <name>.bin and <name>.json belong in a golden vector directory",
                    path.display()
                ),
            };
            assert!(
                other.is_file(),
                "{} has no {}: a vector is a .bin and a .json with the same name",
                path.display(),
                other.display()
            );
        }
        for bin in files
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        {
            let json_path = bin.with_extension("json");
            let bytes = std::fs::read(&bin).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
            let text = std::fs::read_to_string(&json_path)
                .unwrap_or_else(|e| panic!("{}: {e}", json_path.display()));
            let json = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", json_path.display()));
            out.push(Vector {
                path: bin,
                bytes,
                json,
            });
        }
    }
    out
}

/// Frame payload of `msg` (the bytes after the length prefix).
fn payload(msg: &Message) -> Vec<u8> {
    let frame = igloo_protocol::frame::to_frame_bytes(msg, DEFAULT_MAX_FRAME)
        .unwrap_or_else(|e| panic!("cannot encode {}: {e}", msg.name()));
    frame[igloo_protocol::frame::HEADER_LEN..].to_vec()
}

#[test]
fn golden_vectors_decode_and_reencode_byte_for_byte() {
    let v = vectors();
    assert!(
        !v.is_empty(),
        "no golden vectors found under {}",
        golden_dir().display()
    );
    for vector in v {
        let path = vector.path.display();
        let expected: Message = serde_json::from_value(vector.json.clone())
            .unwrap_or_else(|e| panic!("{path}: the JSON no longer describes a Message: {e}"));
        let decoded = vector.message();
        assert_eq!(
            decoded, expected,
            "{path}: the committed bytes decode to another value than the .json says: the wire \
             format of a released message or component changed (it never may)"
        );
        assert_eq!(
            payload(&expected),
            vector.bytes,
            "{path}: the value no longer encodes to the committed bytes: the wire format of a \
             released message or component changed (it never may)"
        );
    }
}

/// What a vector's file name says it covers.
#[derive(Debug, PartialEq)]
struct Name {
    message_id: u16,
    message: String,
    component: Option<(u16, String)>,
    variant: Option<(usize, String)>,
}

/// Parses `<id>-<Message>[-c<NNN>-<Component>[-v<K>-<Variant>]]`.
fn parse_name(stem: &str) -> Result<Name, String> {
    let parts: Vec<&str> = stem.split('-').collect();
    let bad =
        || format!("the name {stem:?} is not <id>-<Message>[-c<NNN>-<Component>[-v<K>-<Variant>]]");
    let number = |s: &str, prefix: &str| -> Result<u64, String> {
        s.strip_prefix(prefix)
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse().ok())
            .ok_or_else(bad)
    };
    let (id, message) = match parts.as_slice() {
        [id, message, ..] => (*id, *message),
        _ => return Err(bad()),
    };
    let message_id = u16::try_from(number(id, "")?).map_err(|_| bad())?;
    let mut name = Name {
        message_id,
        message: message.to_string(),
        component: None,
        variant: None,
    };
    match parts.as_slice() {
        [_, _] => {}
        [_, _, c, cname, rest @ ..] => {
            let cid = u16::try_from(number(c, "c")?).map_err(|_| bad())?;
            name.component = Some((cid, cname.to_string()));
            match rest {
                [] => {}
                [v, vname] => {
                    let k = usize::try_from(number(v, "v")?).map_err(|_| bad())?;
                    name.variant = Some((k, vname.to_string()));
                }
                _ => return Err(bad()),
            }
        }
        _ => return Err(bad()),
    }
    Ok(name)
}

/// Enum variant index and name of a component value, if it is an enum.
fn variant_of(c: &Component) -> Option<(usize, &'static str)> {
    match c.value() {
        Value::Enum(name) => c
            .info()
            .variants
            .iter()
            .position(|v| *v == name)
            .map(|k| (k, name)),
        _ => None,
    }
}

#[test]
fn vector_file_names_match_their_contents() {
    for vector in vectors() {
        let path = vector.path.display();
        let stem = vector
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = parse_name(&stem).unwrap_or_else(|e| panic!("{path}: {e}"));
        let msg = vector.message();
        assert_eq!(
            (name.message_id, name.message.as_str()),
            (msg.id(), msg.name()),
            "{path}: the name says message {} {} but the bytes hold message {} {}",
            name.message_id,
            name.message,
            msg.id(),
            msg.name()
        );
        let serde_name = vector
            .json
            .as_object()
            .and_then(|o| o.keys().next().cloned())
            .unwrap_or_default();
        assert_eq!(
            serde_name,
            msg.name(),
            "{path}: the serde variant name differs from MESSAGE_NAMES[{}]",
            msg.id()
        );
        let Some((cid, cname)) = &name.component else {
            continue;
        };
        let Message::WriteComponents(w) = &msg else {
            panic!(
                "{path}: the name names component {cid} {cname} but the message is not WriteComponents"
            );
        };
        let c = w.values.iter().find(|c| c.id() == *cid).unwrap_or_else(|| {
            panic!("{path}: the name says component {cid} but the write does not hold it")
        });
        assert_eq!(
            c.name(),
            cname,
            "{path}: component {cid} is {} in components.toml, not {cname}",
            c.name()
        );
        if let Some((k, vname)) = &name.variant {
            assert_eq!(
                variant_of(c),
                Some((*k, vname.as_str())),
                "{path}: the name says variant {k} {vname} of {cname} but the bytes hold {:?}",
                c.value()
            );
        }
    }
}

#[test]
fn every_message_component_and_variant_has_a_golden_vector() {
    let mut messages = BTreeSet::new();
    let mut components = BTreeSet::new();
    let mut variants = BTreeSet::new();
    for vector in vectors() {
        let m = vector.message();
        messages.insert(m.id());
        if let Message::WriteComponents(w) = &m {
            for c in &w.values {
                components.insert(c.id());
                if let Some((k, _)) = variant_of(c) {
                    variants.insert((c.id(), k));
                }
            }
        }
    }
    let mut missing = Vec::new();
    for id in (0..=MAX_MESSAGE_ID).filter(|i| !messages.contains(i)) {
        missing.push(format!("message {id} {}", MESSAGE_NAMES[usize::from(id)]));
    }
    for info in COMPONENTS {
        if !components.contains(&info.id) {
            missing.push(format!(
                "component {} {} ({})",
                info.id, info.name, info.kind
            ));
        }
        for (k, v) in info.variants.iter().enumerate() {
            if !variants.contains(&(info.id, k)) {
                missing.push(format!(
                    "variant {k} {v} of enum component {} {}",
                    info.id, info.name
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "no golden vector for:\n  - {}\nEvery message id, component id and enum variant needs one; {WRITE_HINT}",
        missing.join("\n  - ")
    );
}

#[test]
fn message_names_file_matches_the_enum() {
    let path = golden_dir().join("messages.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let lines: Vec<&str> = text.lines().collect();
    for i in 0..lines.len().max(MESSAGE_NAMES.len()) {
        let file = lines.get(i).copied();
        let code = MESSAGE_NAMES.get(i).copied();
        assert_eq!(
            file,
            code,
            "tests/golden/messages.txt line {} is {file:?} but MESSAGE_NAMES[{i}] (message id {i}) \
             is {code:?}: the file lists the Message variants in wire order, one per line, and \
             grows only at the end",
            i + 1
        );
    }
    assert!(
        text.ends_with('\n'),
        "tests/golden/messages.txt must end with a newline"
    );
    assert_eq!(usize::from(MAX_MESSAGE_ID) + 1, MESSAGE_NAMES.len());
}

/// The leading bincode `standard()` varint of `bytes` (an enum discriminant).
fn leading_varint(bytes: &[u8]) -> Option<u64> {
    let le = |n: usize| -> Option<u64> {
        let b = bytes.get(1..1 + n)?;
        Some(
            b.iter()
                .rev()
                .fold(0u64, |acc, x| (acc << 8) | u64::from(*x)),
        )
    };
    match *bytes.first()? {
        b @ 0..=250 => Some(u64::from(b)),
        251 => le(2),
        252 => le(4),
        253 => le(8),
        _ => None,
    }
}

#[test]
fn leading_varint_reads_bincode_discriminants() {
    assert_eq!(leading_varint(&[5, 9]), Some(5));
    assert_eq!(leading_varint(&[251, 0x2c, 0x01]), Some(300));
    assert_eq!(leading_varint(&[252, 1, 0, 1, 0]), Some(65537));
    assert_eq!(leading_varint(&[251, 1]), None);
    assert_eq!(leading_varint(&[]), None);
}

#[test]
fn message_discriminants_are_their_ids() {
    let mut seen = BTreeMap::new();
    for (label, msg) in message_samples() {
        seen.entry(msg.id()).or_insert(label.clone());
        let bytes = payload(&msg);
        let id = msg.id();
        assert_eq!(
            leading_varint(&bytes),
            Some(u64::from(id)),
            "Message::{} encodes with bincode discriminant {:?} but its id is {id}: the variant \
             order of the Message enum must match Message::id() and messages.txt",
            msg.name(),
            leading_varint(&bytes)
        );
        let json = serde_json::to_value(&msg).unwrap_or_else(|e| panic!("{label}: {e}"));
        let serde_name = json
            .as_object()
            .and_then(|o| o.keys().next().cloned())
            .unwrap_or_default();
        assert_eq!(
            serde_name,
            MESSAGE_NAMES[usize::from(id)],
            "the Message variant with id {id} is named {serde_name} in the enum but \
             MESSAGE_NAMES[{id}] is {}",
            MESSAGE_NAMES[usize::from(id)]
        );
    }
    for id in 0..=MAX_MESSAGE_ID {
        assert!(
            seen.contains_key(&id),
            "message {id} {} has no sample in message_samples() (tests/golden.rs): add one so \
             its discriminant is checked and its golden vector can be written",
            MESSAGE_NAMES[usize::from(id)]
        );
    }
}

#[test]
fn component_discriminants_are_their_ids() {
    for info in COMPONENTS {
        for c in component_samples(info) {
            let bytes = bincode::serde::encode_to_vec(&c, bincode::config::standard())
                .unwrap_or_else(|e| panic!("cannot encode {}: {e}", info.name));
            assert_eq!(
                leading_varint(&bytes),
                Some(u64::from(info.id)),
                "component {} encodes with discriminant {:?} but its id is {}",
                info.name,
                leading_varint(&bytes),
                info.id
            );
            if let Some((k, _)) = variant_of(&c) {
                assert_eq!(
                    leading_varint(&bytes[1..]),
                    Some(k as u64),
                    "variant {k} of {} encodes with another index",
                    info.name
                );
            }
        }
    }
}

/// Sample values for a component: one for most kinds, one per variant for an enum.
fn component_samples(info: &ComponentInfo) -> Vec<Component> {
    let one = |value: Value| {
        Component::from_value(info.id, value)
            .unwrap_or_else(|e| panic!("sample for component {}: {e}", info.name))
    };
    match info.kind {
        Kind::Marker => vec![one(Value::Marker)],
        Kind::Bool => vec![one(Value::Bool(true))],
        Kind::Int => vec![one(Value::Int(-300 + i64::from(info.id) * 7))],
        Kind::Float => vec![one(Value::Float(21.5 + f64::from(info.id)))],
        Kind::String => vec![one(Value::String(format!("{} text ✓", info.name)))],
        Kind::Color => vec![one(Value::Color(Color {
            r: 255,
            g: 128,
            b: 1,
        }))],
        Kind::Enum => info
            .variants
            .iter()
            .map(|v| one(Value::String((*v).to_string())))
            .collect(),
    }
}

/// Every vector the writer knows, by label (the file name without `<id>-`).
///
/// The values of labels that already have files are frozen by those files;
/// editing a sample here changes nothing for them (the writer skips them).
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
        (
            "ObserveTree".into(),
            Message::ObserveTree(ObserveTree {
                request_id: 11,
                attributes: vec![],
            }),
        ),
        (
            "TreeDevice".into(),
            Message::TreeDevice(TreeDevice {
                device: DeviceId(300),
                provider: "esphome".into(),
                name: "Desk lamp".into(),
                room: "Office".into(),
                available: true,
                attributes: vec![("manufacturer".into(), "Espressif".into())],
                entities: vec![TreeEntity {
                    name: "Light".into(),
                    attributes: vec![("writable".into(), "Switch,Brightness".into())],
                    values: vec![
                        Component::Light,
                        Component::Switch(true),
                        Component::Brightness(40.0),
                    ],
                }],
            }),
        ),
        (
            "TreeState".into(),
            Message::TreeState(TreeState {
                device: DeviceId(300),
                entity: "Light".into(),
                values: vec![Component::Switch(false)],
            }),
        ),
        (
            "TreeAvailability".into(),
            Message::TreeAvailability(SetAvailability {
                device: DeviceId(300),
                available: false,
            }),
        ),
        (
            "TreeRemoved".into(),
            Message::TreeRemoved(RemoveDevice {
                device: DeviceId(300),
            }),
        ),
        (
            "TreeSynced".into(),
            Message::TreeSynced(TreeSynced {
                request_id: 11,
                devices: 1,
            }),
        ),
        (
            "RequestChange".into(),
            Message::RequestChange(RequestChange {
                request_id: 12,
                device: DeviceId(300),
                entity: "Light".into(),
                values: vec![Component::Switch(true), Component::Brightness(80.0)],
            }),
        ),
        (
            "RemoveEntity".into(),
            Message::RemoveEntity(RemoveEntity {
                device: DeviceId(300),
                entity: 7,
            }),
        ),
        (
            "CreateDeviceWithAvailability".into(),
            Message::CreateDeviceWithAvailability(CreateDeviceWithAvailability {
                create: CreateDevice {
                    request_id: 13,
                    key: "00:12:4b:00:1c:a1:b2:c3".into(),
                    name: "IKEA of Sweden TRADFRI control outlet".into(),
                    attributes: vec![("power_source".into(), "mains".into())],
                },
                available: false,
            }),
        ),
    ];
    for info in COMPONENTS {
        for c in component_samples(info) {
            // Enum components get one vector per variant (`-v<K>-<Variant>`). Their
            // 1.0 vectors without the suffix (last variant only) stay as committed.
            let label = match variant_of(&c) {
                Some((k, name)) => {
                    format!("WriteComponents-c{:03}-{}-v{k}-{name}", info.id, info.name)
                }
                None => format!("WriteComponents-c{:03}-{}", info.id, info.name),
            };
            v.push((
                label,
                Message::WriteComponents(WriteComponents {
                    device: DeviceId(1),
                    entity: 0,
                    values: vec![c],
                }),
            ));
        }
    }
    v
}

#[test]
fn sample_labels_parse_and_are_unique() {
    let mut seen = BTreeSet::new();
    for (label, msg) in message_samples() {
        let stem = format!("{:02}-{label}", msg.id());
        parse_name(&stem).unwrap_or_else(|e| panic!("sample {label}: {e}"));
        assert!(
            seen.insert(label.clone()),
            "two samples are labelled {label}"
        );
    }
    assert_eq!(
        parse_name("05-WriteComponents-c023-CoverState-v2-Opening"),
        Ok(Name {
            message_id: 5,
            message: "WriteComponents".into(),
            component: Some((23, "CoverState".into())),
            variant: Some((2, "Opening".into())),
        })
    );
    assert!(parse_name("05-WriteComponents-x023-CoverState").is_err());
    assert!(parse_name("05-WriteComponents-c023-CoverState-v2").is_err());
}

/// Writes the vectors that do not exist yet (in any `v<N>` directory) into the
/// newest `v<N>` directory. Never overwrites or rewrites a file: it refuses
/// to run if a vector is half there, and creates files with `create_new`.
#[test]
#[ignore = "writes files; run by hand when adding messages, components or variants"]
fn write_missing_vectors() {
    use std::io::Write as _;
    let existing: BTreeSet<String> = vectors().iter().map(Vector::label).collect();
    let dir = version_dirs()
        .pop()
        .map(|(_, d)| d)
        .unwrap_or_else(|| golden_dir().join("v1"));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let todo: Vec<(PathBuf, PathBuf, Message)> = message_samples()
        .into_iter()
        .filter(|(label, _)| !existing.contains(label))
        .map(|(label, msg)| {
            let stem = format!("{:02}-{label}", msg.id());
            let bin = dir.join(format!("{stem}.bin"));
            let json = dir.join(format!("{stem}.json"));
            assert!(
                !bin.exists() && !json.exists(),
                "{} or {} exists without its pair; fix that by hand (never regenerate a vector)",
                bin.display(),
                json.display()
            );
            (bin, json, msg)
        })
        .collect();
    let create = |path: &Path, bytes: &[u8]| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .unwrap_or_else(|e| panic!("{}: {e} (vectors are never overwritten)", path.display()));
        f.write_all(bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    };
    for (bin, json, msg) in &todo {
        let text = serde_json::to_string_pretty(msg)
            .unwrap_or_else(|e| panic!("{}: {e}", json.display()))
            + "\n";
        create(bin, &payload(msg));
        create(json, text.as_bytes());
        eprintln!("wrote {}", bin.display());
    }
    eprintln!(
        "{} new vector(s); commit them (git status must show only new files)",
        todo.len()
    );
}
