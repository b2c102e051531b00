//! Append-only guards against this repository's git history (DESIGN §4.1–3, §5;
//! docs/compatibility.md).
//!
//! - every committed version of `components.toml` is a prefix of today's file
//!   (same names, kinds and units at the same ids; enum variants only appended);
//! - every committed version of `tests/golden/messages.txt` (the `Message`
//!   variant order) is a prefix of today's list;
//! - every file ever committed under `tests/golden/` still exists, byte for byte;
//! - every release in `releases.toml` has its tag on its commit, and that commit
//!   declared the release's max ids; this build declares at least as much.
//!
//! The checks live in `history/` and are proven to catch real breakages by
//! `scratch_commits.rs`. They need the full history: a shallow clone is an error.

mod history;

use std::path::{Path, PathBuf};

use history::{Entry, Violations};
use igloo_protocol::{MAX_COMPONENT_ID, MAX_MESSAGE_ID, PROTOCOL_MAJOR, PROTOCOL_MINOR};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Panics with every violation, one per line.
fn expect_ok(result: Result<(), Violations>, rule: &str) {
    if let Err(v) = result {
        panic!(
            "{rule}: {} violation(s) (docs/compatibility.md):{}",
            v.len(),
            history::report(&v, 40)
        );
    }
}

#[test]
fn components_toml_only_ever_grows() {
    expect_ok(
        history::check_components_history(&repo_root()),
        "components.toml breaks the append-only rule",
    );
}

#[test]
fn message_order_only_ever_grows() {
    expect_ok(
        history::check_messages_history(&repo_root()),
        "tests/golden/messages.txt (the Message enum order) breaks the append-only rule",
    );
}

#[test]
fn golden_vectors_are_never_regenerated() {
    expect_ok(
        history::check_golden_files_unchanged(&repo_root()),
        "a committed golden vector was changed or deleted",
    );
}

#[test]
fn releases_match_their_tags_and_only_grow() {
    expect_ok(
        history::check_releases(&repo_root()),
        "core/protocol/releases.toml does not match the repository",
    );
}

#[test]
fn this_build_covers_every_release() {
    let releases = history::releases_today(&repo_root()).unwrap_or_else(|e| panic!("{e}"));
    let ours = (PROTOCOL_MAJOR, PROTOCOL_MINOR);
    for r in &releases {
        assert!(
            MAX_COMPONENT_ID >= r.max_component_id && MAX_MESSAGE_ID >= r.max_message_id,
            "release {} declared max ids ({}, {}) but this build knows only ({MAX_COMPONENT_ID}, \
             {MAX_MESSAGE_ID}): released ids are never taken back",
            r.tag,
            r.max_component_id,
            r.max_message_id
        );
        let v = r.version().unwrap_or_else(|| {
            panic!(
                "release {}: protocol {:?} is not major.minor",
                r.tag, r.protocol
            )
        });
        assert!(
            ours >= v,
            "release {} is protocol {} but this build says {PROTOCOL_MAJOR}.{PROTOCOL_MINOR} \
             (handshake.rs): the protocol version never goes back",
            r.tag,
            r.protocol
        );
    }
    if let Some(last) = releases.last() {
        let grew = MAX_COMPONENT_ID > last.max_component_id || MAX_MESSAGE_ID > last.max_message_id;
        assert!(
            !grew || Some(ours) > last.version(),
            "components or messages were added since release {} (protocol {}, max ids {}, {}; \
             now {MAX_COMPONENT_ID}, {MAX_MESSAGE_ID}) but PROTOCOL_MINOR in handshake.rs still \
             says {PROTOCOL_MAJOR}.{PROTOCOL_MINOR}: bump it",
            last.tag,
            last.protocol,
            last.max_component_id,
            last.max_message_id
        );
    }
}

fn e(name: &str, kind: &str, unit: Option<&str>, variants: &[&str]) -> Entry {
    Entry {
        name: name.into(),
        kind: kind.into(),
        unit: unit.map(Into::into),
        variants: variants.iter().map(|s| s.to_string()).collect(),
        desc: String::new(),
    }
}

/// The pure comparisons, without git: each kind of break is named.
#[test]
fn violations_are_detected_and_named() {
    let old = vec![
        e("Light", "marker", None, &[]),
        e("Mode", "enum", None, &["A", "B"]),
        e("Temp", "float", Some("°C"), &[]),
    ];
    let only = |new: Vec<Entry>| -> String {
        let v = history::component_violations(&old, &new);
        assert_eq!(v.len(), 1, "{v:?}");
        v[0].clone()
    };
    // Appending entries and variants, and editing `desc`, is fine.
    let mut grown = vec![
        e("Light", "marker", None, &[]),
        e("Mode", "enum", None, &["A", "B", "C"]),
        e("Temp", "float", Some("°C"), &[]),
        e("New", "bool", None, &[]),
    ];
    grown[0].desc = "reworded".into();
    assert_eq!(
        history::component_violations(&old, &grown),
        Vec::<String>::new()
    );

    let v = history::component_violations(
        &old,
        &[
            e("Mode", "enum", None, &["A", "B"]),
            e("Light", "marker", None, &[]),
            e("Temp", "float", Some("°C"), &[]),
        ],
    );
    assert_eq!(
        v[0],
        "entry 0 \"Light\" is now at id 1 (id 0 is now \"Mode\"): entries are never reordered \
         (the position is the component id on the wire)"
    );
    assert_eq!(v.len(), 2);
    assert_eq!(
        only(vec![
            e("Light", "bool", None, &[]),
            e("Mode", "enum", None, &["A", "B"]),
            e("Temp", "float", Some("°C"), &[]),
        ]),
        "entry 0 \"Light\" changed kind from \"marker\" to \"bool\": kinds never change \
         (the payload encoding would change)"
    );
    assert_eq!(
        only(vec![
            e("Light", "marker", None, &[]),
            e("Mode", "enum", None, &["A", "B"]),
            e("Temp", "float", Some("°F"), &[]),
        ]),
        "entry 2 \"Temp\" changed unit from \"°C\" to \"°F\": units never change \
         (peers would misread the values)"
    );
    assert!(
        only(vec![
            e("Light", "marker", None, &[]),
            e("Mode", "enum", None, &["A", "B"]),
            e("Temp", "float", None, &[]),
        ])
        .contains("changed unit from \"°C\" to none")
    );
    let v = history::component_violations(
        &old,
        &[
            e("Light", "marker", None, &[]),
            e("Mode", "enum", None, &["B", "A"]),
            e("Temp", "float", Some("°C"), &[]),
        ],
    );
    assert_eq!(
        v[0],
        "variant 0 \"A\" of entry 1 \"Mode\" is now variant 1 (variant 0 is now \"B\"): enum \
         variants are only appended, never reordered (the index is the wire value)"
    );
    assert!(
        only(vec![
            e("Light", "marker", None, &[]),
            e("Mode", "enum", None, &["A"]),
            e("Temp", "float", Some("°C"), &[]),
        ])
        .starts_with("variant 1 \"B\" of entry 1 \"Mode\" was removed or renamed")
    );
    assert_eq!(
        only(vec![
            e("Light", "marker", None, &[]),
            e("Mode", "enum", None, &["A", "B"]),
        ]),
        "entry 2 \"Temp\" was removed or renamed (the file now ends at id 1): entries are never \
         removed or renamed"
    );

    // Messages.
    let old = ["Hello", "Welcome", "Ping"];
    assert!(history::message_violations(&old, &["Hello", "Welcome", "Ping", "New"]).is_empty());
    let v = history::message_violations(&old, &["Hello", "Ping", "Welcome"]);
    assert_eq!(
        v[0],
        "message id 1 \"Welcome\" is now at id 2 (id 1 is now \"Ping\"): the Message enum is \
         append-only, never reordered (line n is message id n-1 on the wire)"
    );
    let v = history::message_violations(&old, &["Hello", "Welcome"]);
    assert_eq!(
        v,
        [
            "message id 2 \"Ping\" was removed or renamed (the list now ends at id 1): the Message \
          enum is append-only, variants are never removed or renamed"
        ]
    );
}
