//! Cross-checks `igloo_esphome::api::proto` against the peer's own definitions.
//!
//! `tests/vectors/` holds one message of each kind we define, serialized by
//! aioesphomeapi's generated `api_pb2` with every field set (see
//! `tests/vectors/generate.py`), its `MessageToDict` JSON, and `schema.json`
//! (ids, field numbers and types, enum values). For each message this test:
//!
//! 1. decodes the `.bin` with our struct (through [`proto::decode`] for
//!    messages the device sends, `prost::Message::decode` for the others);
//! 2. checks every field we define against the JSON, and that the fields we
//!    do not define are exactly deprecated fields or nested messages;
//! 3. re-encodes it and checks that our bytes decode back to the same value,
//!    carry exactly the field numbers `schema.json` gives for our fields, and
//!    equal the vector's bytes with the left-out fields removed;
//! 4. checks [`ApiMessage::TYPE`]/`NAME` and [`proto::message_name`] against the ids.
//!
//! Since every field holds a distinct non-default value, a wrong field number
//! or wire type shows up as a mismatch in step 2 or 3.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use igloo_esphome::api::proto::{self, ApiMessage, Incoming};
use prost::Message;
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn read(name: &str) -> Vec<u8> {
    let path = vectors_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json(name: &str) -> Value {
    serde_json::from_slice(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `schema.json`, parsed once per test.
struct Schema {
    raw: Value,
    /// Enum value name → number, over all enums (proto3 enum value names are
    /// unique within a package).
    enum_values: HashMap<String, i64>,
}

impl Schema {
    fn load() -> Schema {
        let raw = json("schema.json");
        let mut enum_values = HashMap::new();
        for values in raw["enums"].as_object().expect("enums").values() {
            for (name, n) in values.as_object().expect("enum values") {
                enum_values.insert(name.clone(), n.as_i64().expect("enum number"));
            }
        }
        Schema { raw, enum_values }
    }

    fn message(&self, name: &str) -> &Value {
        let m = &self.raw["messages"][name];
        assert!(m.is_object(), "{name} is not in schema.json");
        m
    }
}

/// Compares one of our field values with its `MessageToDict` JSON form.
trait JsonEq {
    fn json_eq(&self, j: &Value, schema: &Schema) -> bool;
}

impl JsonEq for String {
    fn json_eq(&self, j: &Value, _: &Schema) -> bool {
        j.as_str() == Some(self.as_str())
    }
}

impl JsonEq for u32 {
    fn json_eq(&self, j: &Value, _: &Schema) -> bool {
        j.as_u64() == Some(u64::from(*self))
    }
}

impl JsonEq for bool {
    fn json_eq(&self, j: &Value, _: &Schema) -> bool {
        j.as_bool() == Some(*self)
    }
}

impl JsonEq for f32 {
    fn json_eq(&self, j: &Value, _: &Schema) -> bool {
        // MessageToDict prints a float32 in its shortest form; compare as f32.
        j.as_f64().is_some_and(|x| x as f32 == *self)
    }
}

/// `int32` fields are numbers in JSON; enum fields (also `i32` here) are value names.
impl JsonEq for i32 {
    fn json_eq(&self, j: &Value, schema: &Schema) -> bool {
        match j {
            Value::String(name) => schema.enum_values.get(name) == Some(&i64::from(*self)),
            other => other.as_i64() == Some(i64::from(*self)),
        }
    }
}

impl<T: JsonEq> JsonEq for Vec<T> {
    fn json_eq(&self, j: &Value, schema: &Schema) -> bool {
        j.as_array().is_some_and(|a| {
            a.len() == self.len() && self.iter().zip(a).all(|(x, y)| x.json_eq(y, schema))
        })
    }
}

/// One record of a protobuf encoding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Record {
    number: u32,
    /// The whole record: key and value bytes.
    bytes: Vec<u8>,
}

fn varint(buf: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = buf[*pos];
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return v;
        }
    }
    panic!("varint too long");
}

/// Splits an encoding into its records (panics on malformed input: test data).
fn records(buf: &[u8]) -> Vec<Record> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let start = pos;
        let key = varint(buf, &mut pos);
        match key & 7 {
            0 => {
                varint(buf, &mut pos);
            }
            1 => pos += 8,
            2 => {
                let len = varint(buf, &mut pos) as usize;
                pos += len;
            }
            5 => pos += 4,
            w => panic!("wire type {w}"),
        }
        out.push(Record {
            number: (key >> 3) as u32,
            bytes: buf[start..pos].to_vec(),
        });
    }
    out
}

/// What one message check found, for the summary.
struct Outcome {
    name: &'static str,
    skipped: Vec<String>,
    same_bytes: bool,
}

/// Steps 2-4 for one decoded message. `fields` are our fields as
/// `(name, matches-the-JSON)`.
fn check_message<M: ApiMessage + PartialEq + std::fmt::Debug>(
    schema: &Schema,
    decoded: &M,
    fields: &[(&'static str, bool)],
) -> Outcome {
    let name = M::NAME;
    let bin = read(&format!("{name}.bin"));
    let dict = json(&format!("{name}.json"));
    let dict = dict.as_object().expect("JSON object");
    let info = schema.message(name);
    let schema_fields = info["fields"].as_object().expect("fields");

    // Ids.
    assert_eq!(
        info["id"].as_u64(),
        Some(u64::from(M::TYPE)),
        "{name}: TYPE differs from the published id"
    );
    assert_eq!(
        proto::message_name(M::TYPE),
        Some(name),
        "message_name({})",
        M::TYPE
    );

    // Every field we define equals the JSON.
    let ours: BTreeSet<&str> = fields.iter().map(|(f, _)| *f).collect();
    assert_eq!(ours.len(), fields.len(), "{name}: a field is listed twice");
    for (field, ok) in fields {
        assert!(
            schema_fields.contains_key(*field),
            "{name}.{field} is not a field of the published message"
        );
        assert!(
            ok,
            "{name}.{field}: decoded {decoded:?}, expected {}",
            dict.get(*field).unwrap_or(&Value::Null)
        );
    }

    // The fields we leave out are deprecated ones or nested messages.
    let mut skipped = Vec::new();
    let mut skipped_numbers = BTreeSet::new();
    for (field, f) in schema_fields {
        if ours.contains(field.as_str()) {
            continue;
        }
        assert!(
            dict.contains_key(field),
            "{name}.{field} is not set in the vector"
        );
        let deprecated = f["deprecated"].as_bool() == Some(true);
        let nested = f["type"] == "message";
        assert!(
            deprecated || nested,
            "{name}.{field} (field {}) is neither deprecated nor a nested message but our struct lacks it",
            f["number"]
        );
        skipped.push(field.clone());
        skipped_numbers.insert(f["number"].as_u64().expect("number") as u32);
    }
    for key in dict.keys() {
        assert!(
            schema_fields.contains_key(key),
            "{name}: JSON key {key} not in schema"
        );
    }

    // Re-encode: decodes back to the same value, with exactly our field numbers.
    let ours_bin = decoded.encode_to_vec();
    let back = M::decode(ours_bin.as_slice()).expect("our own encoding decodes");
    assert_eq!(&back, decoded, "{name}: re-encoding changed the value");
    let our_numbers: BTreeSet<u32> = records(&ours_bin).iter().map(|r| r.number).collect();
    let expected_numbers: BTreeSet<u32> = fields
        .iter()
        .map(|(f, _)| schema_fields[*f]["number"].as_u64().expect("number") as u32)
        .collect();
    assert_eq!(
        our_numbers, expected_numbers,
        "{name}: our encoding carries other field numbers than the published ones for our fields"
    );

    // Byte comparison with the vector minus the left-out fields.
    let theirs: Vec<Record> = records(&bin)
        .into_iter()
        .filter(|r| !skipped_numbers.contains(&r.number))
        .collect();
    let theirs_bytes: Vec<u8> = theirs.iter().flat_map(|r| r.bytes.clone()).collect();
    let same_bytes = theirs_bytes == ours_bin;
    if !same_bytes {
        let mut a = theirs.clone();
        let mut b = records(&ours_bin);
        a.sort();
        b.sort();
        assert_eq!(
            a, b,
            "{name}: our encoding differs from the vector's beyond field order"
        );
    }
    Outcome {
        name,
        skipped,
        same_bytes,
    }
}

/// Decodes a message the device sends through [`proto::decode`] and unwraps its variant.
macro_rules! incoming {
    ($ty:ident, $variant:ident) => {{
        let bin = read(concat!(stringify!($ty), ".bin"));
        match proto::decode(<proto::$ty as ApiMessage>::TYPE, &bin).expect("decodes") {
            Incoming::$variant(m) => m,
            other => panic!("{} decoded as {other:?}", stringify!($ty)),
        }
    }};
}

/// Decodes a message with `prost::Message::decode` (client-sent ones).
macro_rules! plain {
    ($ty:ident) => {{
        let bin = read(concat!(stringify!($ty), ".bin"));
        proto::$ty::decode(bin.as_slice()).expect("decodes")
    }};
}

/// Checks message `$m` (decoded by `$decode`) whose fields are `$field…`.
macro_rules! check {
    ($schema:expr, $outcomes:expr, $ty:ident, $decode:expr, [$($field:ident),* $(,)?]) => {{
        let m: proto::$ty = $decode;
        #[allow(unused_variables)]
        let dict = json(concat!(stringify!($ty), ".json"));
        #[allow(unused_variables)]
        let null = Value::Null;
        let fields: Vec<(&'static str, bool)> = vec![
            $((stringify!($field), m.$field.json_eq(dict.get(stringify!($field)).unwrap_or(&null), $schema)),)*
        ];
        $outcomes.push(check_message($schema, &m, &fields));
    }};
}

/// Messages without fields that the device sends: `decode` gives a unit variant.
macro_rules! unit_incoming {
    ($schema:expr, $outcomes:expr, $ty:ident, $variant:ident) => {{
        let bin = read(concat!(stringify!($ty), ".bin"));
        assert_eq!(
            proto::decode(<proto::$ty as ApiMessage>::TYPE, &bin).expect("decodes"),
            Incoming::$variant
        );
        check!($schema, $outcomes, $ty, plain!($ty), []);
    }};
}

#[test]
fn vectors_match_our_structs() {
    let schema = &Schema::load();
    let mut outcomes: Vec<Outcome> = Vec::new();
    let o = &mut outcomes;

    check!(
        schema,
        o,
        HelloRequest,
        plain!(HelloRequest),
        [
            client_info,
            api_version_major,
            api_version_minor,
            outgoing_connection_target,
        ]
    );
    check!(
        schema,
        o,
        HelloResponse,
        incoming!(HelloResponse, HelloResponse),
        [api_version_major, api_version_minor, server_info, name,]
    );
    check!(
        schema,
        o,
        DisconnectRequest,
        incoming!(DisconnectRequest, DisconnectRequest),
        [reason]
    );
    unit_incoming!(schema, o, DisconnectResponse, DisconnectResponse);
    unit_incoming!(schema, o, PingRequest, PingRequest);
    unit_incoming!(schema, o, PingResponse, PingResponse);
    check!(schema, o, DeviceInfoRequest, plain!(DeviceInfoRequest), []);
    check!(
        schema,
        o,
        DeviceInfoResponse,
        incoming!(DeviceInfoResponse, DeviceInfoResponse),
        [
            name,
            mac_address,
            esphome_version,
            compilation_time,
            model,
            has_deep_sleep,
            project_name,
            project_version,
            webserver_port,
            manufacturer,
            friendly_name,
            bluetooth_proxy_feature_flags,
            suggested_area,
            voice_assistant_feature_flags,
            bluetooth_mac_address,
            api_encryption_supported,
            zwave_proxy_feature_flags,
            zwave_home_id,
            api_encryption_provisionable,
            api_outgoing_connection_supported,
        ]
    );
    check!(
        schema,
        o,
        ListEntitiesRequest,
        plain!(ListEntitiesRequest),
        []
    );
    unit_incoming!(schema, o, ListEntitiesDoneResponse, ListEntitiesDone);
    check!(
        schema,
        o,
        SubscribeStatesRequest,
        plain!(SubscribeStatesRequest),
        []
    );
    unit_incoming!(schema, o, GetTimeRequest, GetTimeRequest);
    check!(
        schema,
        o,
        GetTimeResponse,
        plain!(GetTimeResponse),
        [epoch_seconds]
    );

    check!(
        schema,
        o,
        ListEntitiesBinarySensorResponse,
        incoming!(ListEntitiesBinarySensorResponse, ListBinarySensor),
        [
            object_id,
            key,
            name,
            device_class,
            is_status_binary_sensor,
            disabled_by_default,
            icon,
            entity_category,
            device_id,
        ]
    );
    check!(
        schema,
        o,
        BinarySensorStateResponse,
        incoming!(BinarySensorStateResponse, BinarySensorState),
        [key, state, missing_state, device_id,]
    );
    check!(
        schema,
        o,
        ListEntitiesSensorResponse,
        incoming!(ListEntitiesSensorResponse, ListSensor),
        [
            object_id,
            key,
            name,
            icon,
            unit_of_measurement,
            accuracy_decimals,
            force_update,
            device_class,
            state_class,
            disabled_by_default,
            entity_category,
            device_id,
        ]
    );
    check!(
        schema,
        o,
        SensorStateResponse,
        incoming!(SensorStateResponse, SensorState),
        [key, state, missing_state, device_id,]
    );
    check!(
        schema,
        o,
        ListEntitiesTextSensorResponse,
        incoming!(ListEntitiesTextSensorResponse, ListTextSensor),
        [
            object_id,
            key,
            name,
            icon,
            disabled_by_default,
            entity_category,
            device_class,
            device_id,
        ]
    );
    check!(
        schema,
        o,
        TextSensorStateResponse,
        incoming!(TextSensorStateResponse, TextSensorState),
        [key, state, missing_state, device_id,]
    );
    check!(
        schema,
        o,
        ListEntitiesSwitchResponse,
        incoming!(ListEntitiesSwitchResponse, ListSwitch),
        [
            object_id,
            key,
            name,
            icon,
            assumed_state,
            disabled_by_default,
            entity_category,
            device_class,
            device_id,
        ]
    );
    check!(
        schema,
        o,
        SwitchStateResponse,
        incoming!(SwitchStateResponse, SwitchState),
        [key, state, device_id, missing_state,]
    );
    check!(
        schema,
        o,
        SwitchCommandRequest,
        plain!(SwitchCommandRequest),
        [key, state, device_id]
    );
    check!(
        schema,
        o,
        ListEntitiesLightResponse,
        incoming!(ListEntitiesLightResponse, ListLight),
        [
            object_id,
            key,
            name,
            supported_color_modes,
            min_mireds,
            max_mireds,
            effects,
            disabled_by_default,
            icon,
            entity_category,
            device_id,
        ]
    );
    check!(
        schema,
        o,
        LightStateResponse,
        incoming!(LightStateResponse, LightState),
        [
            key,
            state,
            brightness,
            color_mode,
            color_brightness,
            red,
            green,
            blue,
            white,
            color_temperature,
            cold_white,
            warm_white,
            effect,
            device_id,
        ]
    );
    check!(
        schema,
        o,
        LightCommandRequest,
        plain!(LightCommandRequest),
        [
            key,
            has_state,
            state,
            has_brightness,
            brightness,
            has_color_mode,
            color_mode,
            has_color_brightness,
            color_brightness,
            has_rgb,
            red,
            green,
            blue,
            has_white,
            white,
            has_color_temperature,
            color_temperature,
            has_cold_white,
            cold_white,
            has_warm_white,
            warm_white,
            has_transition_length,
            transition_length,
            has_flash_length,
            flash_length,
            has_effect,
            effect,
            device_id,
        ]
    );
    check!(
        schema,
        o,
        ListEntitiesCoverResponse,
        incoming!(ListEntitiesCoverResponse, ListCover),
        [
            object_id,
            key,
            name,
            assumed_state,
            supports_position,
            supports_tilt,
            device_class,
            disabled_by_default,
            icon,
            entity_category,
            supports_stop,
            device_id,
            supports_stop_tilt,
            supports_toggle,
        ]
    );
    check!(
        schema,
        o,
        CoverStateResponse,
        incoming!(CoverStateResponse, CoverState),
        [key, position, tilt, current_operation, device_id,]
    );
    check!(
        schema,
        o,
        CoverCommandRequest,
        plain!(CoverCommandRequest),
        [
            key,
            has_position,
            position,
            has_tilt,
            tilt,
            stop,
            device_id,
            stop_tilt,
            toggle,
        ]
    );
    check!(
        schema,
        o,
        ListEntitiesFanResponse,
        incoming!(ListEntitiesFanResponse, ListFan),
        [
            object_id,
            key,
            name,
            supports_oscillation,
            supports_speed,
            supports_direction,
            supported_speed_count,
            disabled_by_default,
            icon,
            entity_category,
            supported_preset_modes,
            device_id,
        ]
    );
    check!(
        schema,
        o,
        FanStateResponse,
        incoming!(FanStateResponse, FanState),
        [
            key,
            state,
            oscillating,
            direction,
            speed_level,
            preset_mode,
            device_id,
        ]
    );
    check!(
        schema,
        o,
        FanCommandRequest,
        plain!(FanCommandRequest),
        [
            key,
            has_state,
            state,
            has_oscillating,
            oscillating,
            has_direction,
            direction,
            has_speed_level,
            speed_level,
            has_preset_mode,
            preset_mode,
            device_id,
        ]
    );
    check!(
        schema,
        o,
        ListEntitiesClimateResponse,
        incoming!(ListEntitiesClimateResponse, ListClimate),
        [
            object_id,
            key,
            name,
            supports_current_temperature,
            supports_two_point_target_temperature,
            supported_modes,
            visual_min_temperature,
            visual_max_temperature,
            visual_target_temperature_step,
            supports_action,
            supported_fan_modes,
            supported_swing_modes,
            supported_custom_fan_modes,
            supported_presets,
            supported_custom_presets,
            disabled_by_default,
            icon,
            entity_category,
            visual_current_temperature_step,
            supports_current_humidity,
            supports_target_humidity,
            visual_min_humidity,
            visual_max_humidity,
            device_id,
            feature_flags,
            temperature_unit,
        ]
    );
    check!(
        schema,
        o,
        ClimateStateResponse,
        incoming!(ClimateStateResponse, ClimateState),
        [
            key,
            mode,
            current_temperature,
            target_temperature,
            target_temperature_low,
            target_temperature_high,
            action,
            fan_mode,
            swing_mode,
            custom_fan_mode,
            preset,
            custom_preset,
            current_humidity,
            target_humidity,
            device_id,
            missing_state,
        ]
    );
    check!(
        schema,
        o,
        ClimateCommandRequest,
        plain!(ClimateCommandRequest),
        [
            key,
            has_mode,
            mode,
            has_target_temperature,
            target_temperature,
            has_target_temperature_low,
            target_temperature_low,
            has_target_temperature_high,
            target_temperature_high,
            has_fan_mode,
            fan_mode,
            has_swing_mode,
            swing_mode,
            has_custom_fan_mode,
            custom_fan_mode,
            has_preset,
            preset,
            has_custom_preset,
            custom_preset,
            has_target_humidity,
            target_humidity,
            device_id,
        ]
    );
    check!(
        schema,
        o,
        ListEntitiesNumberResponse,
        incoming!(ListEntitiesNumberResponse, ListNumber),
        [
            object_id,
            key,
            name,
            icon,
            min_value,
            max_value,
            step,
            disabled_by_default,
            entity_category,
            unit_of_measurement,
            mode,
            device_class,
            device_id,
        ]
    );
    check!(
        schema,
        o,
        NumberStateResponse,
        incoming!(NumberStateResponse, NumberState),
        [key, state, missing_state, device_id,]
    );
    check!(
        schema,
        o,
        NumberCommandRequest,
        plain!(NumberCommandRequest),
        [key, state, device_id]
    );
    check!(
        schema,
        o,
        ListEntitiesSelectResponse,
        incoming!(ListEntitiesSelectResponse, ListSelect),
        [
            object_id,
            key,
            name,
            icon,
            options,
            disabled_by_default,
            entity_category,
            device_id,
        ]
    );
    check!(
        schema,
        o,
        SelectStateResponse,
        incoming!(SelectStateResponse, SelectState),
        [key, state, missing_state, device_id,]
    );
    check!(
        schema,
        o,
        SelectCommandRequest,
        plain!(SelectCommandRequest),
        [key, state, device_id]
    );
    check!(
        schema,
        o,
        ListEntitiesButtonResponse,
        incoming!(ListEntitiesButtonResponse, ListButton),
        [
            object_id,
            key,
            name,
            icon,
            disabled_by_default,
            entity_category,
            device_class,
            device_id,
        ]
    );
    check!(
        schema,
        o,
        ButtonCommandRequest,
        plain!(ButtonCommandRequest),
        [key, device_id]
    );
    check!(
        schema,
        o,
        ListEntitiesLockResponse,
        incoming!(ListEntitiesLockResponse, ListLock),
        [
            object_id,
            key,
            name,
            icon,
            disabled_by_default,
            entity_category,
            assumed_state,
            supports_open,
            requires_code,
            code_format,
            device_id,
        ]
    );
    check!(
        schema,
        o,
        LockStateResponse,
        incoming!(LockStateResponse, LockState),
        [key, state, device_id,]
    );
    check!(
        schema,
        o,
        LockCommandRequest,
        plain!(LockCommandRequest),
        [key, command, has_code, code, device_id,]
    );

    // Every vector was checked.
    let checked: BTreeSet<&str> = outcomes.iter().map(|o| o.name).collect();
    let published: BTreeSet<&str> = schema.raw["messages"]
        .as_object()
        .expect("messages")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        checked, published,
        "vectors without a check, or checks without a vector"
    );

    // Summary (shown with --nocapture).
    for o in &outcomes {
        println!(
            "{:<34} bytes {:<9} left out: {}",
            o.name,
            if o.same_bytes {
                "identical"
            } else {
                "reordered"
            },
            if o.skipped.is_empty() {
                "-".to_string()
            } else {
                o.skipped.join(", ")
            }
        );
    }
    let reordered: Vec<&str> = outcomes
        .iter()
        .filter(|o| !o.same_bytes)
        .map(|o| o.name)
        .collect();
    assert!(
        reordered.is_empty(),
        "our encoding orders fields differently from api_pb2 for {reordered:?}"
    );
}

#[test]
fn message_names_cover_every_published_id() {
    let schema = Schema::load();
    let ids = schema.raw["ids"].as_object().expect("ids");
    assert!(ids.len() >= 162);
    let mut by_id = BTreeMap::new();
    for (id, name) in ids {
        let id: u16 = id.parse().expect("numeric id");
        by_id.insert(id, name.as_str().expect("name"));
        assert_eq!(proto::message_name(id), name.as_str(), "message_name({id})");
    }
    let max = by_id.keys().max().copied().unwrap_or(0);
    for id in (0..=max + 10).filter(|id| !by_id.contains_key(id)) {
        assert_eq!(
            proto::message_name(id),
            None,
            "message_name({id}) for an unknown id"
        );
    }
}

#[test]
fn unsupported_entity_types_are_the_unmapped_list_entities_ids() {
    let schema = Schema::load();
    let mapped: BTreeSet<u16> = [12, 13, 14, 15, 16, 17, 18, 46, 49, 52, 58, 61].into();
    for (id, name) in schema.raw["ids"].as_object().expect("ids") {
        let id: u16 = id.parse().expect("numeric id");
        let name = name.as_str().expect("name");
        let is_list = name.starts_with("ListEntities")
            && name.ends_with("Response")
            && name != "ListEntitiesDoneResponse";
        let domain = proto::unsupported_entity_type(id);
        if is_list && !mapped.contains(&id) {
            let domain = domain.unwrap_or_else(|| panic!("{name} ({id}) has no domain"));
            // ListEntitiesAlarmControlPanelResponse → alarm_control_panel, …
            let camel = name
                .trim_start_matches("ListEntities")
                .trim_end_matches("Response");
            let snake: String = domain.split('_').map(capitalize).collect();
            let expected = match camel {
                "DateTime" => "Datetime",
                other => other,
            };
            assert_eq!(snake, expected, "{name} ({id}) → {domain}");
        } else {
            assert_eq!(domain, None, "{name} ({id})");
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// `RgbColdWarmWhite` → `RGB_COLD_WARM_WHITE`.
fn screaming(camel: &str) -> String {
    let mut out = String::new();
    for (i, ch) in camel.chars().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(ch.to_ascii_uppercase());
    }
    out
}

/// Our enum `E` has exactly the published values, named after them
/// (`COLOR_MODE_RGB` ↔ `ColorMode::Rgb`: the values' common prefix dropped).
fn check_enum<E>(schema: &Schema, name: &str)
where
    E: TryFrom<i32> + std::fmt::Debug,
{
    let values = schema.raw["enums"][name]
        .as_object()
        .unwrap_or_else(|| panic!("enum {name} not in schema.json"));
    let names: Vec<&str> = values.keys().map(String::as_str).collect();
    // Longest common prefix ending in '_'.
    let first = names[0];
    let mut prefix_len = 0;
    for (i, ch) in first.char_indices() {
        if ch == '_'
            && names
                .iter()
                .all(|n| n.len() > i + 1 && n[..=i] == first[..=i])
        {
            prefix_len = i + 1;
        }
    }
    let mut numbers = BTreeSet::new();
    for (value_name, n) in values {
        let n = n.as_i64().expect("number") as i32;
        numbers.insert(n);
        let ours = E::try_from(n).unwrap_or_else(|_| panic!("{name}: {value_name} = {n} missing"));
        assert_eq!(
            screaming(&format!("{ours:?}")),
            value_name[prefix_len..],
            "{name} value {n}"
        );
    }
    for n in (-5..300).filter(|n| !numbers.contains(n)) {
        assert!(E::try_from(n).is_err(), "{name}: {n} is not published");
    }
}

#[test]
fn enums_match_the_published_values() {
    let s = &Schema::load();
    check_enum::<proto::DisconnectReason>(s, "DisconnectReason");
    check_enum::<proto::EntityCategory>(s, "EntityCategory");
    check_enum::<proto::SensorStateClass>(s, "SensorStateClass");
    check_enum::<proto::ColorMode>(s, "ColorMode");
    check_enum::<proto::CoverOperation>(s, "CoverOperation");
    check_enum::<proto::FanDirection>(s, "FanDirection");
    check_enum::<proto::ClimateMode>(s, "ClimateMode");
    check_enum::<proto::ClimateAction>(s, "ClimateAction");
    check_enum::<proto::ClimateFanMode>(s, "ClimateFanMode");
    check_enum::<proto::ClimateSwingMode>(s, "ClimateSwingMode");
    check_enum::<proto::ClimatePreset>(s, "ClimatePreset");
    check_enum::<proto::TemperatureUnit>(s, "TemperatureUnit");
    check_enum::<proto::NumberMode>(s, "NumberMode");
    check_enum::<proto::LockState>(s, "LockState");
    check_enum::<proto::LockCommand>(s, "LockCommand");
}

#[test]
fn decode_rejects_malformed_payloads_and_passes_unknown_ids() {
    // A length-delimited field whose length runs past the end.
    let truncated = [0x1a, 0x05, b'a'];
    assert!(proto::decode(2, &truncated).is_err());
    // Messages without fields are still checked.
    assert!(proto::decode(7, &truncated).is_err());
    assert_eq!(proto::decode(7, &[]), Ok(Incoming::PingRequest));
    // Unknown fields are skipped.
    assert_eq!(
        proto::decode(8, &[0xf8, 0x01, 0x01]),
        Ok(Incoming::PingResponse)
    );
    // Ids we do not handle are not decoded at all.
    assert_eq!(proto::decode(44, &truncated), Ok(Incoming::Other(44)));
    assert_eq!(proto::decode(9999, &[]), Ok(Incoming::Other(9999)));
    // Client-sent ids are not device messages.
    assert_eq!(proto::decode(1, &[]), Ok(Incoming::Other(1)));
}

#[test]
fn repeated_enums_decode_packed_and_unpacked() {
    // supported_color_modes (12): packed [RGB, COLOR_TEMPERATURE] and the same unpacked.
    let packed = [0x62, 0x02, 35, 11];
    let unpacked = [0x60, 35, 0x60, 11];
    for bytes in [&packed[..], &unpacked[..]] {
        let Ok(Incoming::ListLight(m)) = proto::decode(15, bytes) else {
            panic!("ListEntitiesLightResponse did not decode");
        };
        assert_eq!(m.supported_color_modes, vec![35, 11]);
        assert_eq!(
            m.supported_color_modes().collect::<Vec<_>>(),
            vec![proto::ColorMode::Rgb, proto::ColorMode::ColorTemperature]
        );
    }
}

#[test]
fn outgoing_carries_the_id_and_the_encoding() {
    let m = proto::HelloRequest {
        client_info: "igloo".into(),
        api_version_major: 1,
        api_version_minor: 10,
        outgoing_connection_target: false,
    };
    let out = proto::Outgoing::encode(&m);
    assert_eq!(out.msg_type, 1);
    assert_eq!(
        out.payload,
        vec![0x0a, 5, b'i', b'g', b'l', b'o', b'o', 0x10, 1, 0x18, 10]
    );
    assert_eq!(
        proto::Outgoing::encode(&proto::PingRequest {}).payload,
        Vec::<u8>::new()
    );
}
