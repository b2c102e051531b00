//! Pure mapping of Igloo entities to Home Assistant MQTT discovery
//! (per-entity form, the schema Home Assistant documents for `sensor`,
//! `binary_sensor`, `switch`, `light` (JSON schema), `cover`, `climate`,
//! `number`, `select`, `button`), state payloads and commands.
//!
//! Every entity's state topic carries one JSON object with a key per
//! component: the component name in snake case (`temperature`,
//! `color_temperature`, `target_temperature`), booleans as `true`/`false`,
//! colours as `{"r","g","b"}`, enum variants in snake case (`heat_cool`,
//! `open`). A light's object adds what Home Assistant's JSON light schema
//! reads (`state`, `color_mode`, `color_temp`). Discovery templates read
//! these keys. Commands on the entity's `/set` topic are JSON objects with the
//! same keys (and the JSON light's `state`, `color_temp`, `color`), mapped
//! back to components by [`command_values`].

use igloo_provider::protocol::message::TreeEntity;
use igloo_provider::protocol::{Component, ComponentInfo, Kind, Value};
use serde_json::{Map, Value as Json, json};

/// One Home Assistant entity made from (part of) an Igloo entity.
#[derive(Debug, Clone, PartialEq)]
pub struct HaEntity {
    /// Platform (`sensor`, `light`…).
    pub platform: &'static str,
    /// The component it stands for when an Igloo entity gives several Home
    /// Assistant entities (the second and later get `_<component>` ids).
    pub component: Option<&'static str>,
    /// Platform-specific keys (templates, classes, payloads), without
    /// topics, names, ids, device and availability.
    pub config: Map<String, Json>,
    /// Whether it takes commands (a `command_topic` is added).
    pub commands: bool,
}

/// What one Igloo entity gives.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Planned {
    /// Its Home Assistant entities (first = primary).
    pub entities: Vec<HaEntity>,
    /// Why it gives none, when it gives none.
    pub skipped: Option<String>,
}

/// Snake case of a PascalCase name: `ColorTemperature` → `color_temperature`.
pub fn snake(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                s.push('_');
            }
            s.push(c.to_ascii_lowercase());
        } else {
            s.push(c);
        }
    }
    s
}

/// An MQTT-topic- and object-id-safe form of a name: lowercase ASCII letters
/// and digits, other runs as one `_`, no leading or trailing `_`; `entity`
/// when nothing is left.
pub fn slug(name: &str) -> String {
    let mut s = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('_') {
            s.push('_');
        }
    }
    let t = s.trim_matches('_');
    if t.is_empty() {
        "entity".into()
    } else {
        t.to_string()
    }
}

/// The JSON form of one value in a state payload.
fn value_json(c: &Component) -> Option<Json> {
    Some(match c.value() {
        Value::Marker => return None,
        Value::Color(col) => json!({"r": col.r, "g": col.g, "b": col.b}),
        Value::Enum(v) => Json::String(snake(v)),
        other => other.to_json(),
    })
}

fn has(values: &[Component], name: &str) -> bool {
    values.iter().any(|c| c.name() == name)
}

fn attribute<'a>(e: &'a TreeEntity, key: &str) -> Option<&'a str> {
    e.attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The names of a comma-separated list attribute (`effects`, `fan_modes` …),
/// trimmed, empty ones left out; none when the entity has no such attribute.
fn list_attribute<'a>(e: &'a TreeEntity, key: &str) -> Vec<&'a str> {
    attribute(e, key)
        .map(|l| {
            l.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the entity accepts changes of component `name` (its `writable`
/// list; an entity without one accepts every component, as the core does).
fn writable(e: &TreeEntity, name: &str) -> bool {
    match attribute(e, "writable") {
        None => true,
        Some(l) if l.trim() == "true" => true,
        Some(l) => l.split(',').map(str::trim).any(|w| w == name),
    }
}

/// The state payload of an entity with `values` (see the module docs).
pub fn state_payload(values: &[Component]) -> Json {
    let mut m = Map::new();
    for c in values {
        if let Some(v) = value_json(c) {
            m.insert(snake(c.name()), v);
        }
    }
    if has(values, "Light") {
        if let Some(Component::Switch(on)) = values.iter().find(|c| c.name() == "Switch") {
            m.insert("state".into(), json!(if *on { "ON" } else { "OFF" }));
        }
        if let Some(Component::ColorTemperature(t)) =
            values.iter().find(|c| c.name() == "ColorTemperature")
        {
            m.insert("color_temp".into(), json!(t));
        }
        if let Some(mode) = light_active_mode(values) {
            m.insert("color_mode".into(), json!(mode));
        }
    }
    Json::Object(m)
}

/// A light's colour modes (Home Assistant `supported_color_modes`).
fn light_modes(values: &[Component]) -> Vec<&'static str> {
    let mut modes = Vec::new();
    if has(values, "ColorTemperature") {
        modes.push("color_temp");
    }
    if has(values, "Color") {
        modes.push("rgb");
    }
    if modes.is_empty() {
        modes.push(if has(values, "Brightness") {
            "brightness"
        } else {
            "onoff"
        });
    }
    modes
}

fn light_active_mode(values: &[Component]) -> Option<&'static str> {
    let modes = light_modes(values);
    match modes.as_slice() {
        [one] => Some(one),
        _ => Some(if has(values, "Color") {
            "rgb"
        } else {
            "color_temp"
        }),
    }
}

/// Sensor classes: component → (device_class, default state_class).
fn sensor_class(name: &str) -> Option<(Option<&'static str>, &'static str)> {
    let m = "measurement";
    Some(match name {
        "Temperature" => (Some("temperature"), m),
        "Humidity" => (Some("humidity"), m),
        "Pressure" => (Some("pressure"), m),
        "Illuminance" => (Some("illuminance"), m),
        "Power" => (Some("power"), m),
        "Energy" => (Some("energy"), "total_increasing"),
        "Voltage" => (Some("voltage"), m),
        "Current" => (Some("current"), m),
        "Battery" => (Some("battery"), m),
        "Co2" => (Some("carbon_dioxide"), m),
        "Pm25" => (Some("pm25"), m),
        "Voc" => (Some("volatile_organic_compounds_parts"), m),
        "Frequency" => (Some("frequency"), m),
        "PowerFactor" => (Some("power_factor"), m),
        "SoilMoisture" => (Some("moisture"), m),
        "Gas" => (Some("gas"), "total_increasing"),
        "ApparentPower" => (Some("apparent_power"), m),
        "ReactivePower" => (Some("reactive_power"), m),
        "LinkQuality" | "Number" => (None, m),
        _ => return None,
    })
}

/// Binary sensor classes: component → device_class (`None`: no class).
fn binary_class(name: &str) -> Option<Option<&'static str>> {
    Some(match name {
        "Contact" => Some("door"),
        "Occupancy" => Some("occupancy"),
        "Motion" => Some("motion"),
        "WaterLeak" => Some("moisture"),
        "Smoke" => Some("smoke"),
        "Tamper" => Some("tamper"),
        "BatteryLow" => Some("battery"),
        "Vibration" => Some("vibration"),
        "Presence" => Some("presence"),
        "Binary" | "Switch" => None,
        _ => return None,
    })
}

fn obj(pairs: &[(&str, Json)]) -> Map<String, Json> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

fn template(key: &str) -> Json {
    json!(format!("{{{{ value_json.{key} }}}}"))
}

/// Plans the Home Assistant entities of one Igloo entity.
pub fn plan(e: &TreeEntity) -> Planned {
    let v = &e.values;
    let one = |h: HaEntity| Planned {
        entities: vec![h],
        skipped: None,
    };
    if has(v, "Light") {
        return one(light(e));
    }
    if has(v, "Cover") {
        return one(cover(e));
    }
    if has(v, "Climate") {
        return one(climate(e));
    }
    if has(v, "Fan") {
        return one(fan(e));
    }
    if has(v, "Lock") && writable(e, "Lock") {
        return one(lock());
    }
    if has(v, "ButtonPress") {
        return one(HaEntity {
            platform: "button",
            component: None,
            config: obj(&[("payload_press", json!(r#"{"button_press":true}"#))]),
            commands: true,
        });
    }
    let mut out = Vec::new();
    for c in v {
        if let Some(h) = simple(e, c) {
            out.push(h);
        }
    }
    if out.is_empty() {
        let names: Vec<&str> = v.iter().map(Component::name).collect();
        return Planned {
            entities: vec![],
            skipped: Some(if names.is_empty() {
                "no values yet".into()
            } else {
                format!("no Home Assistant platform for {}", names.join(", "))
            }),
        };
    }
    // The first keeps the entity's own id; later ones are told apart by component.
    for h in out.iter_mut().skip(1) {
        h.component = h.component.or(Some("value"));
    }
    if let Some(first) = out.first_mut() {
        first.component = None;
    }
    Planned {
        entities: out,
        skipped: None,
    }
}

/// A single-value entity: sensor, binary_sensor, switch, number, select.
fn simple(e: &TreeEntity, c: &Component) -> Option<HaEntity> {
    let name = c.name();
    let info: &ComponentInfo = c.info();
    let key = snake(name);
    let value_template = template(&key);
    let mut h = HaEntity {
        platform: "sensor",
        component: Some(name),
        config: Map::new(),
        commands: false,
    };
    match (name, info.kind) {
        ("Switch", _) if writable(e, name) => {
            h.platform = "switch";
            h.commands = true;
            h.config = obj(&[
                (
                    "value_template",
                    json!(format!("{{{{ 'ON' if value_json.{key} else 'OFF' }}}}")),
                ),
                ("payload_on", json!(r#"{"switch":true}"#)),
                ("payload_off", json!(r#"{"switch":false}"#)),
                ("state_on", json!("ON")),
                ("state_off", json!("OFF")),
            ]);
        }
        (_, Kind::Bool) => {
            let class = binary_class(name)?;
            h.platform = "binary_sensor";
            // Igloo's Contact is true when closed; Home Assistant's door is on when open.
            let on = if name == "Contact" { "not " } else { "" };
            h.config = obj(&[(
                "value_template",
                json!(format!("{{{{ 'ON' if {on}value_json.{key} else 'OFF' }}}}")),
            )]);
            let class = if name == "Contact" {
                attribute(e, "device_class")
                    .filter(|d| ["door", "window", "garage_door", "opening"].contains(d))
                    .or(class)
            } else {
                class
            };
            if let Some(dc) = class {
                h.config.insert("device_class".into(), json!(dc));
            }
        }
        ("Number", _) if writable(e, name) && attribute(e, "writable").is_some() => {
            h.platform = "number";
            h.commands = true;
            h.config = obj(&[
                ("value_template", value_template),
                ("command_template", json!(r#"{"number": {{ value }}}"#)),
            ]);
            for (attr, ha) in [("min", "min"), ("max", "max"), ("step", "step")] {
                if let Some(n) = attribute(e, attr).and_then(|t| t.parse::<f64>().ok()) {
                    h.config.insert(ha.into(), json!(n));
                }
            }
            if let Some(u) = attribute(e, "unit") {
                h.config.insert("unit_of_measurement".into(), json!(u));
            }
        }
        ("Select", _) if attribute(e, "options").is_some() && writable(e, name) => {
            h.platform = "select";
            h.commands = true;
            let options: Vec<&str> = attribute(e, "options")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .collect();
            h.config = obj(&[
                ("value_template", value_template),
                (
                    "command_template",
                    json!(r#"{"select": {{ value | tojson }}}"#),
                ),
                ("options", json!(options)),
            ]);
        }
        (_, Kind::Float | Kind::Int) => {
            let (class, default_state_class) = sensor_class(name)?;
            h.config = obj(&[("value_template", value_template)]);
            if let Some(dc) = class {
                h.config.insert("device_class".into(), json!(dc));
            }
            let unit = info.unit.or_else(|| attribute(e, "unit"));
            if let Some(u) = unit {
                h.config.insert("unit_of_measurement".into(), json!(u));
            }
            let state_class = attribute(e, "state_class")
                .filter(|s| ["measurement", "total", "total_increasing"].contains(s))
                .unwrap_or(default_state_class);
            h.config.insert("state_class".into(), json!(state_class));
            if name == "LinkQuality" {
                h.config
                    .insert("entity_category".into(), json!("diagnostic"));
            }
        }
        ("Text" | "Select" | "Action" | "Effect", Kind::String) => {
            h.config = obj(&[("value_template", value_template)]);
        }
        (_, Kind::Enum) if !matches!(name, "CoverCommand" | "LockCommand") => {
            h.config = obj(&[("value_template", value_template)]);
        }
        _ => return None,
    }
    Some(h)
}

fn light(e: &TreeEntity) -> HaEntity {
    let v = &e.values;
    // `color_mode: true` goes with `supported_color_modes`: Home Assistant
    // before 2024.4 refuses one without the other (a voluptuous inclusion
    // group, "some but not all values in the same group of inclusion
    // 'color_mode'", seen with 2024.3.3 in tests/tests/homeassistant.rs);
    // later releases ignore the flag.
    let mut config = obj(&[
        ("schema", json!("json")),
        ("color_mode", json!(true)),
        ("supported_color_modes", json!(light_modes(v))),
    ]);
    if has(v, "Brightness") {
        config.insert("brightness".into(), json!(true));
        config.insert("brightness_scale".into(), json!(100));
    }
    if has(v, "ColorTemperature") {
        for key in ["min_mireds", "max_mireds"] {
            if let Some(n) = attribute(e, key).and_then(|t| t.parse::<f64>().ok()) {
                config.insert(key.into(), json!(n.round() as i64));
            }
        }
    }
    // Effects by name: the state's `effect`, a command's `effect`.
    let effects = list_attribute(e, "effects");
    if has(v, "Effect") && writable(e, "Effect") && !effects.is_empty() {
        config.insert("effect".into(), json!(true));
        config.insert("effect_list".into(), json!(effects));
    }
    HaEntity {
        platform: "light",
        component: None,
        config,
        commands: true,
    }
}

fn cover(e: &TreeEntity) -> HaEntity {
    let mut config = obj(&[
        ("value_template", template("cover_state")),
        ("state_open", json!("open")),
        ("state_closed", json!("closed")),
        ("state_opening", json!("opening")),
        ("state_closing", json!("closing")),
        ("state_stopped", json!("stopped")),
        ("payload_open", json!(r#"{"cover_command":"open"}"#)),
        ("payload_close", json!(r#"{"cover_command":"close"}"#)),
        ("payload_stop", json!(r#"{"cover_command":"stop"}"#)),
    ]);
    if has(&e.values, "CoverPosition") {
        config.insert("position_template".into(), template("cover_position"));
        config.insert(
            "set_position_template".into(),
            json!(r#"{"cover_position": {{ position }}}"#),
        );
    }
    if let Some(dc) = attribute(e, "device_class") {
        config.insert("device_class".into(), json!(dc));
    }
    HaEntity {
        platform: "cover",
        component: None,
        config,
        commands: true,
    }
}

/// A fan: on/off, and speed (0–100 %), oscillation and direction when the
/// entity has them; each feature's topics only then (Home Assistant offers a
/// feature exactly when its command topic is configured; [`topic_needed`]).
fn fan(e: &TreeEntity) -> HaEntity {
    let v = &e.values;
    let mut config = obj(&[
        // Home Assistant's default payloads ON/OFF, both ways: its state is
        // the rendered value compared with `payload_on`, its command the
        // payload through `command_template`.
        (
            "state_value_template",
            json!("{{ 'ON' if value_json.switch else 'OFF' }}"),
        ),
        (
            "command_template",
            json!(r#"{"switch": {{ 'true' if value == 'ON' else 'false' }}}"#),
        ),
    ]);
    if has(v, "FanSpeed") {
        // An integer: Home Assistant 2024.3 refuses "40.0" as a speed.
        config.insert(
            "percentage_value_template".into(),
            json!("{{ value_json.fan_speed | round(0) | int }}"),
        );
        if writable(e, "FanSpeed") {
            config.insert(
                "percentage_command_template".into(),
                json!(r#"{"fan_speed": {{ value }}}"#),
            );
        }
    }
    if has(v, "FanOscillating") {
        // Home Assistant's default payloads oscillate_on/oscillate_off, both
        // ways, as for on/off: the rendered state is compared with them (so
        // they cannot be JSON of ours), the command goes through a template.
        config.insert(
            "oscillation_value_template".into(),
            json!("{{ 'oscillate_on' if value_json.fan_oscillating else 'oscillate_off' }}"),
        );
        if writable(e, "FanOscillating") {
            config.insert(
                "oscillation_command_template".into(),
                json!(
                    r#"{"fan_oscillating": {{ 'true' if value == 'oscillate_on' else 'false' }}}"#
                ),
            );
        }
    }
    if has(v, "FanDirection") {
        config.insert("direction_value_template".into(), template("fan_direction"));
        if writable(e, "FanDirection") {
            config.insert(
                "direction_command_template".into(),
                json!(r#"{"fan_direction": {{ value | tojson }}}"#),
            );
        }
    }
    named_modes(
        e,
        &mut config,
        NamedModes {
            component: "FanPreset",
            list: "preset_modes",
            state_template: "preset_mode_value_template",
            command_template: "preset_mode_command_template",
        },
    );
    HaEntity {
        platform: "fan",
        component: None,
        config,
        commands: true,
    }
}

/// A lock whose `Lock` state can be written (Zigbee's Door Lock, ESPHome's
/// lock): locked, unlocked, jammed, locking, unlocking; lock and unlock as
/// `Lock` change requests. A read-only lock state is a sensor.
fn lock() -> HaEntity {
    HaEntity {
        platform: "lock",
        component: None,
        config: obj(&[
            ("value_template", template("lock")),
            ("state_locked", json!("locked")),
            ("state_unlocked", json!("unlocked")),
            ("state_jammed", json!("jammed")),
            ("state_locking", json!("locking")),
            ("state_unlocking", json!("unlocking")),
            ("payload_lock", json!(r#"{"lock":"locked"}"#)),
            ("payload_unlock", json!(r#"{"lock":"unlocked"}"#)),
        ]),
        commands: true,
    }
}

fn climate(e: &TreeEntity) -> HaEntity {
    let v = &e.values;
    let modes: Vec<String> = match attribute(e, "modes") {
        Some(list) => list.split(',').map(|m| snake(m.trim())).collect(),
        None => ["off", "heat"].iter().map(|s| s.to_string()).collect(),
    };
    let mut config = obj(&[
        ("temperature_unit", json!("C")),
        ("modes", json!(modes)),
        ("mode_state_template", template("climate_mode")),
        (
            "mode_command_template",
            json!(r#"{"climate_mode": {{ value | tojson }}}"#),
        ),
        ("temperature_state_template", template("target_temperature")),
        (
            "temperature_command_template",
            json!(r#"{"target_temperature": {{ value }}}"#),
        ),
    ]);
    if has(v, "Temperature") {
        config.insert(
            "current_temperature_template".into(),
            template("temperature"),
        );
    }
    if has(v, "ClimateAction") {
        config.insert("action_template".into(), template("climate_action"));
    }
    for modes in [
        NamedModes {
            component: "ClimateFanMode",
            list: "fan_modes",
            state_template: "fan_mode_state_template",
            command_template: "fan_mode_command_template",
        },
        NamedModes {
            component: "ClimateSwingMode",
            list: "swing_modes",
            state_template: "swing_mode_state_template",
            command_template: "swing_mode_command_template",
        },
        NamedModes {
            component: "ClimatePreset",
            list: "preset_modes",
            state_template: "preset_mode_value_template",
            command_template: "preset_mode_command_template",
        },
    ] {
        named_modes(e, &mut config, modes);
    }
    for (attr, ha) in [
        ("min", "min_temp"),
        ("max", "max_temp"),
        ("step", "temp_step"),
    ] {
        if let Some(n) = attribute(e, attr).and_then(|t| t.parse::<f64>().ok()) {
            config.insert(ha.into(), json!(n));
        }
    }
    HaEntity {
        platform: "climate",
        component: None,
        config,
        commands: true,
    }
}

/// A named mode's keys in a Home Assistant config: the Igloo string
/// component, the entity attribute listing the names (Home Assistant's key
/// for the list) and the state and command template keys.
struct NamedModes {
    component: &'static str,
    list: &'static str,
    state_template: &'static str,
    command_template: &'static str,
}

/// Adds a named mode (a fan's preset, a climate device's fan, swing or
/// preset mode) when the entity has the component and lists its names: the
/// list, the state template, and the command template when it is writable.
/// A climate preset's list leaves out `none`, which Home Assistant reserves
/// for "no preset"; a preset (fan or climate) that is empty or `none` renders
/// as `None`, Home Assistant's default `payload_reset_preset_mode`.
fn named_modes(e: &TreeEntity, config: &mut Map<String, Json>, m: NamedModes) {
    let names = list_attribute(e, m.list);
    let climate_preset = m.component == "ClimatePreset";
    let names: Vec<&str> = names
        .into_iter()
        .filter(|n| !(climate_preset && n.eq_ignore_ascii_case("none")))
        .collect();
    if !has(&e.values, m.component) || names.is_empty() {
        return;
    }
    let key = snake(m.component);
    config.insert(m.list.into(), json!(names));
    let state = if m.list == "preset_modes" {
        format!(
            "{{{{ 'None' if (value_json.{key} | lower) in ('', 'none') else value_json.{key} }}}}"
        )
    } else {
        format!("{{{{ value_json.{key} }}}}")
    };
    config.insert(m.state_template.into(), json!(state));
    if writable(e, m.component) {
        config.insert(
            m.command_template.into(),
            json!(format!(r#"{{"{key}": {{{{ value | tojson }}}}}}"#)),
        );
    }
}

/// The topics keys a platform's config needs, each set to the entity's state
/// topic (`state`) or command topic (`command`).
pub fn topic_keys(platform: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match platform {
        "cover" => (
            &["state_topic", "position_topic"],
            &["command_topic", "set_position_topic"],
        ),
        "climate" => (
            &[
                "mode_state_topic",
                "temperature_state_topic",
                "current_temperature_topic",
                "action_topic",
                "fan_mode_state_topic",
                "swing_mode_state_topic",
                "preset_mode_state_topic",
            ],
            &[
                "mode_command_topic",
                "temperature_command_topic",
                "fan_mode_command_topic",
                "swing_mode_command_topic",
                "preset_mode_command_topic",
            ],
        ),
        "button" => (&[], &["command_topic"]),
        "fan" => (
            &[
                "state_topic",
                "percentage_state_topic",
                "oscillation_state_topic",
                "direction_state_topic",
                "preset_mode_state_topic",
            ],
            &[
                "command_topic",
                "percentage_command_topic",
                "oscillation_command_topic",
                "direction_command_topic",
                "preset_mode_command_topic",
            ],
        ),
        _ => (&["state_topic"], &["command_topic"]),
    }
}

/// Whether topic `key` of [`topic_keys`] belongs in a config of `platform`
/// that has the keys of `config`: a climate's optional state topics and a
/// fan's feature topics only with their template or payloads (Home
/// Assistant turns a feature on by its topic), every other topic always.
pub fn topic_needed(platform: &str, key: &str, config: &Map<String, Json>) -> bool {
    match (platform, key) {
        // Home Assistant names this one's template `…_value_template`.
        ("climate" | "fan", "preset_mode_state_topic") => {
            config.contains_key("preset_mode_value_template")
        }
        ("fan", "preset_mode_command_topic") => config.contains_key("preset_mode_command_template"),
        ("climate", k)
            if k.ends_with("_topic")
                && k != "mode_command_topic"
                && k != "temperature_command_topic" =>
        {
            config.contains_key(&k.replace("_topic", "_template"))
        }
        ("fan", "percentage_state_topic") => config.contains_key("percentage_value_template"),
        ("fan", "percentage_command_topic") => config.contains_key("percentage_command_template"),
        ("fan", "oscillation_state_topic") => config.contains_key("oscillation_value_template"),
        ("fan", "oscillation_command_topic") => config.contains_key("oscillation_command_template"),
        ("fan", "direction_state_topic") => config.contains_key("direction_value_template"),
        ("fan", "direction_command_topic") => config.contains_key("direction_command_template"),
        _ => true,
    }
}

/// Why a command payload cannot become a change request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CommandError {
    /// Not a JSON object.
    #[error("a command is a JSON object, e.g. {{\"switch\": true}}: {0}")]
    NotAnObject(String),
    /// A key names no component, or its value does not fit.
    #[error("{0}")]
    Value(String),
}

/// How much of a refused command payload an error quotes, in characters.
const QUOTED_CHARS: usize = 120;

/// The components a command payload asks for (see the module docs).
///
/// # Errors
/// [`CommandError`].
pub fn command_values(payload: &[u8]) -> Result<Vec<Component>, CommandError> {
    let text = String::from_utf8_lossy(payload);
    // A LAN client chooses the payload: errors (logged) quote its start only.
    let quoted = || {
        let head: String = text.chars().take(QUOTED_CHARS).collect();
        match head.len() < text.len() {
            true => format!("{head:?}… ({} bytes)", payload.len()),
            false => format!("{head:?}"),
        }
    };
    let json: Json = serde_json::from_str(&text)
        .map_err(|e| CommandError::NotAnObject(format!("{}: {e}", quoted())))?;
    let Json::Object(map) = json else {
        return Err(CommandError::NotAnObject(quoted()));
    };
    let mut out = Vec::new();
    for (key, value) in &map {
        let (name, value) = match key.as_str() {
            // Home Assistant's JSON light keys.
            "state" => ("Switch".to_string(), value.clone()),
            "color_temp" => ("ColorTemperature".to_string(), value.clone()),
            "transition" => continue,
            other => {
                let name = other.replace('_', "");
                let value = match (ComponentInfo::by_name(&name).map(|i| i.kind), value) {
                    (Some(Kind::Enum), Json::String(s)) => Json::String(s.replace('_', "")),
                    _ => value.clone(),
                };
                (name, value)
            }
        };
        let c = Component::from_json(&name, &value)
            .map_err(|e| CommandError::Value(format!("{key}: {e}")))?;
        out.push(c);
    }
    if out.is_empty() {
        return Err(CommandError::Value("no values in the command".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
