//! Zigbee2MQTT `exposes` → Igloo entities and components.
//!
//! Source of the format: <https://www.zigbee2mqtt.io/guide/usage/exposes.html>.
//! Every expose has a `type`. Generic types (`binary`, `numeric`, `enum`, `text`)
//! carry `name` (the context, without endpoint), `property` (the key in the
//! device's state JSON; `name_endpoint` when an `endpoint` is set) and
//! `access` (bit 1: in the published state, bit 2: settable with `/set`,
//! bit 3: readable with `/get`). Specific types (`light`, `switch`, `cover`,
//! `climate`, `lock`, `fan`) and the generic `composite` carry `features`, an
//! array of generic exposes.
//!
//! Mapping rules (the plan is pure data, see [`EntityPlan`]):
//! - A specific type becomes one entity named after the type (`Light`,
//!   `Switch`, `Cover`, `Climate`, `Lock`, `Fan`), with `" <endpoint>"` appended
//!   when the expose has an endpoint. A `lock` with a `label` (e.g. Zigbee2MQTT's
//!   "Child lock") is named by the label. Features are matched by `name`:
//!   - `light`: marker `Light`; `state` → `Switch`; `brightness` → `Brightness`
//!     (0..`value_max`, default 254, scaled to 0–100 %); `color_temp` →
//!     `ColorTemperature` (mired); `color_xy`/`color_hs` → `Color` (sRGB).
//!   - `switch`: `state` → `Switch`.
//!   - `cover`: marker `Cover`; `state` → `CoverState` (commanded with
//!     `CoverCommand`); `position` → `CoverPosition`; `tilt` → `CoverTilt`
//!     (both 0..`value_max`, default 100, as 0–100 %, written as integers).
//!   - `climate`: marker `Climate`; `local_temperature` → `Temperature`;
//!     `occupied_heating_setpoint` or `current_heating_setpoint` (else
//!     `occupied_cooling_setpoint`) → `TargetTemperature`; `system_mode` → `ClimateMode`;
//!     `preset`, `fan_mode`, `swing_mode` → `ClimatePreset`, `ClimateFanMode`,
//!     `ClimateSwingMode` as text, their values in `preset_modes`, `fan_modes`,
//!     `swing_modes`.
//!   - `lock`: `state` → `Lock` (`value_on` = Locked, `value_off` = Unlocked).
//!   - `fan`: marker `Fan`; `state` → `Switch`; `mode` → `FanSpeed` through the
//!     levels `low`/`medium`/`high` present in its values (`off` = 0 %); a numeric
//!     `speed` → `FanSpeed` scaled from 0..`value_max`.
//! - Each top-level generic expose becomes its own entity, named by its `label`,
//!   else by its property with the first letter upper-cased and `_` as spaces.
//!   - `numeric`: by `name` (see [`numeric_component`]); the value is converted
//!     when the expose's unit is a known multiple of the component's (e.g. `mV`
//!     → `V`); an unknown name or an incompatible unit gives `Number` with the
//!     entity attribute `unit`.
//!   - `binary`: by `name` (see [`binary_component`]), else `Binary`.
//!     `contact` keeps Zigbee2MQTT's raw boolean (true = closed) because its
//!     `value_on` is `false` (on = open, Home Assistant's door semantics);
//!     the others compare with `value_on`/`value_off`.
//!   - `enum`: `action` → `Action`, else `Select` with attribute `options`.
//!   - `text` → `Text`.
//! - Top-level `composite` and `list` exposes are not mapped yet; other types are
//!   unknown. Both are reported in [`Exposes::skipped`].
//!
//! Entity attributes: `property` (generic), `endpoint`, `unit` (`Number`),
//! `options` (`Select`), `min`/`max`/`step` (`Number`, climate setpoint),
//! `min_mireds`/`max_mireds` (light), `modes` (climate), `category` (Zigbee2MQTT's
//! `config`/`diagnostic`), and `writable`: the comma-joined component names that
//! can be written (access bit 2).

use igloo_provider::Attributes;
use igloo_provider::protocol::component::{ClimateMode, CoverState, Lock as LockState};
use igloo_provider::protocol::{Color, Component, ComponentInfo};
use serde::Deserialize;
use serde_json::Value as J;

/// Access bit 2: the property can be set with a `/set` command.
pub const ACCESS_SET: u64 = 0b010;

/// An entity planned from exposes: what to register and how its components
/// map to and from the device's state JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityPlan {
    /// Entity name, unique within the device.
    pub name: String,
    /// Marker component written once at registration (`Light`, `Cover`, …).
    pub marker: Option<Component>,
    /// Attributes for `register_entity`.
    pub attributes: Attributes,
    /// Component ↔ state property bindings.
    pub bindings: Vec<Binding>,
}

impl EntityPlan {
    /// Names of the components this entity carries (marker first), for logs and tests.
    pub fn component_names(&self) -> Vec<&'static str> {
        self.marker
            .iter()
            .map(Component::name)
            .chain(self.bindings.iter().map(|b| b.component.name))
            .collect()
    }
}

/// One component of an entity bound to one property of the device's state JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The component this property reports.
    pub component: &'static ComponentInfo,
    /// Key in the state JSON and in the `/set` JSON.
    pub property: String,
    /// Access bit 2 (settable) was set.
    pub writable: bool,
    /// How the JSON value and the component value convert.
    pub conv: Conv,
}

/// How a Zigbee2MQTT JSON value converts to and from a component value.
#[derive(Debug, Clone, PartialEq)]
pub enum Conv {
    /// A JSON number times 10^`exp10` (unit conversion, e.g. -3 for mV → V);
    /// rounded for int components.
    Number {
        /// Power of ten from the device's unit to the component's.
        exp10: i32,
    },
    /// Device range `0..=max` ↔ 0–100 % (brightness 0–254, cover position,
    /// numeric fan speed); written rounded to an integer.
    Percent {
        /// The device's `value_max`.
        max: f64,
    },
    /// `value_on` ↔ `true`, `value_off` ↔ `false` (strings compare ASCII case-insensitively).
    OnOff {
        /// The expose's `value_on`.
        on: J,
        /// The expose's `value_off`.
        off: J,
    },
    /// The raw JSON boolean (Zigbee2MQTT `contact`: true = closed).
    Bool,
    /// A JSON string (numbers and booleans are shown as text); `skip_empty`
    /// drops `""` (Zigbee2MQTT clears `action` with an empty string).
    Text {
        /// Ignore empty strings.
        skip_empty: bool,
        /// The enum's values are JSON numbers (e.g. `[1, 2]`): write a
        /// numeric option back as a number.
        numeric: bool,
    },
    /// `color` object: `{x, y}` (CIE 1931) or `{hue, saturation}` → sRGB;
    /// written as `{"r", "g", "b"}`.
    Color,
    /// Zigbee2MQTT string ↔ component enum variant, by a fixed table
    /// ([`COVER_STATE`], [`CLIMATE_MODE`]); `values` are those the device lists (empty = any).
    Enum {
        /// `(Zigbee2MQTT value, variant name)` pairs; the first pair per variant is used for writing.
        table: &'static [(&'static str, &'static str)],
        /// The expose's `values`, lower-cased.
        values: Vec<String>,
    },
    /// Lock `state`: `value_on` ↔ `Locked`, `value_off` ↔ `Unlocked`.
    LockState {
        /// The expose's `value_on` (usually `"LOCK"`).
        locked: J,
        /// The expose's `value_off` (usually `"UNLOCK"`).
        unlocked: J,
    },
    /// Fan `mode` levels ↔ %: level `i` of `n` is `i/n × 100 %`, `off` is 0 %.
    Levels {
        /// Speed levels present in the device's values, slowest first.
        levels: Vec<String>,
        /// The value meaning off, if the device lists one.
        off: Option<String>,
    },
}

/// Zigbee2MQTT cover `state` values → `CoverState` variants (ASCII case-insensitive).
/// The first three are also what `CoverCommand` Open/Close/Stop write.
pub const COVER_STATE: &[(&str, &str)] = &[
    ("OPEN", "Open"),
    ("CLOSE", "Closed"),
    ("STOP", "Stopped"),
    ("CLOSED", "Closed"),
    ("OPENING", "Opening"),
    ("CLOSING", "Closing"),
    ("STOPPED", "Stopped"),
];

/// Zigbee2MQTT `system_mode` values → `ClimateMode` variants. Zigbee2MQTT's
/// climate docs list `off`, `heat`, `cool`, `auto`, `dry`, `fan_only`.
pub const CLIMATE_MODE: &[(&str, &str)] = &[
    ("off", "Off"),
    ("heat", "Heat"),
    ("cool", "Cool"),
    ("auto", "Auto"),
    ("heat_cool", "HeatCool"),
    ("dry", "Dry"),
    ("fan_only", "FanOnly"),
];

/// Fan speed levels recognised in a fan `mode`'s values, slowest first.
const FAN_LEVELS: &[&str] = &["low", "medium", "high"];

/// Why an expose did not become an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// A `type` this provider does not know (log at warn).
    UnknownType,
    /// A known type this provider does not map yet (`composite`, `list`), or a
    /// specific type with none of the features it maps.
    NotMapped,
    /// The expose lacks a field it needs (`property`) or does not parse.
    Malformed,
}

/// An expose that did not become an entity.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// The expose's `type` (`"?"` when missing).
    pub kind: String,
    /// Its property or name, when it has one.
    pub property: Option<String>,
    /// Why.
    pub reason: SkipReason,
}

/// The entities planned from one device's exposes, plus what was skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exposes {
    /// Entities with unique names, in expose order.
    pub entities: Vec<EntityPlan>,
    /// Exposes that did not become entities.
    pub skipped: Vec<Skipped>,
}

/// One expose as Zigbee2MQTT publishes it; unknown fields are ignored.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct Expose {
    #[serde(rename = "type")]
    kind: String,
    name: Option<String>,
    property: Option<String>,
    label: Option<String>,
    access: Option<u64>,
    /// A string in practice (`l1`, `left`); numbers are accepted and shown as text.
    endpoint: Option<J>,
    unit: Option<String>,
    value_on: Option<J>,
    value_off: Option<J>,
    value_min: Option<f64>,
    value_max: Option<f64>,
    value_step: Option<f64>,
    values: Option<Vec<J>>,
    features: Option<Vec<J>>,
    category: Option<String>,
}

impl Expose {
    fn writable(&self) -> bool {
        self.access.unwrap_or(0) & ACCESS_SET != 0
    }

    /// Parsed features; ones that do not parse are dropped.
    fn features(&self) -> Vec<Expose> {
        self.features
            .iter()
            .flatten()
            .filter_map(|f| Expose::deserialize(f).ok())
            .collect()
    }

    /// Composite access: the union of its features' (a composite has no own `access`).
    fn composite_writable(&self) -> bool {
        self.writable() || self.features().iter().any(Expose::writable)
    }

    fn values_text(&self) -> Vec<String> {
        self.values.iter().flatten().map(json_text).collect()
    }
}

/// Plans the entities of one device from its `definition.exposes` array.
pub fn plan_entities(exposes: &[J]) -> Exposes {
    let mut out = Exposes::default();
    for raw in exposes {
        let expose = match Expose::deserialize(raw) {
            Ok(e) if !e.kind.is_empty() => e,
            _ => {
                out.skipped.push(Skipped {
                    kind: raw
                        .get("type")
                        .and_then(J::as_str)
                        .unwrap_or("?")
                        .to_string(),
                    property: raw.get("property").and_then(J::as_str).map(str::to_string),
                    reason: SkipReason::Malformed,
                });
                continue;
            }
        };
        let planned = match expose.kind.as_str() {
            "light" | "switch" | "cover" | "climate" | "lock" | "fan" => specific(&expose),
            "numeric" | "binary" | "enum" | "text" => generic(&expose),
            "composite" | "list" => Err(SkipReason::NotMapped),
            _ => Err(SkipReason::UnknownType),
        };
        match planned {
            Ok(mut entity) => {
                entity.name = unique_name(&out.entities, entity.name);
                out.entities.push(entity);
            }
            Err(reason) => out.skipped.push(Skipped {
                kind: expose.kind.clone(),
                property: expose.property.clone().or_else(|| expose.name.clone()),
                reason,
            }),
        }
    }
    out
}

/// Appends " 2", " 3"… until `name` is not taken.
fn unique_name(taken: &[EntityPlan], name: String) -> String {
    let exists = |n: &str| taken.iter().any(|e| e.name == n);
    if !exists(&name) {
        return name;
    }
    (2..)
        .map(|i| format!("{name} {i}"))
        .find(|n| !exists(n))
        .unwrap_or(name)
}

fn info(sample: Component) -> &'static ComponentInfo {
    sample.info()
}

fn on_off(e: &Expose) -> Conv {
    Conv::OnOff {
        on: e.value_on.clone().unwrap_or(J::Bool(true)),
        off: e.value_off.clone().unwrap_or(J::Bool(false)),
    }
}

/// A specific (composite) expose → one entity.
fn specific(e: &Expose) -> Result<EntityPlan, SkipReason> {
    let features = e.features();
    let find = |name: &str| features.iter().find(|f| f.name.as_deref() == Some(name));
    let mut bindings = Vec::new();
    let mut attributes: Attributes = Vec::new();
    let mut bind = |component: Component, f: &Expose, writable: bool, conv: Conv| {
        if let Some(property) = &f.property {
            bindings.push(Binding {
                component: info(component),
                property: property.clone(),
                writable,
                conv,
            });
        }
    };
    let (default_name, marker) = match e.kind.as_str() {
        "light" => {
            if let Some(f) = find("state") {
                bind(Component::Switch(false), f, f.writable(), on_off(f));
            }
            if let Some(f) = find("brightness") {
                let max = f.value_max.filter(|m| *m > 0.0).unwrap_or(254.0);
                bind(
                    Component::Brightness(0.0),
                    f,
                    f.writable(),
                    Conv::Percent { max },
                );
            }
            if let Some(f) = find("color_temp") {
                bind(
                    Component::ColorTemperature(0),
                    f,
                    f.writable(),
                    Conv::Number { exp10: 0 },
                );
                if let Some(min) = f.value_min {
                    attributes.push(("min_mireds".into(), number_text(min)));
                }
                if let Some(max) = f.value_max {
                    attributes.push(("max_mireds".into(), number_text(max)));
                }
            }
            if let Some(f) = find("color_xy").or_else(|| find("color_hs")) {
                let writable = [find("color_xy"), find("color_hs")]
                    .into_iter()
                    .flatten()
                    .any(Expose::composite_writable);
                bind(
                    Component::Color(Color { r: 0, g: 0, b: 0 }),
                    f,
                    writable,
                    Conv::Color,
                );
            }
            ("Light", Some(Component::Light))
        }
        "switch" => {
            if let Some(f) = find("state") {
                bind(Component::Switch(false), f, f.writable(), on_off(f));
            }
            ("Switch", None)
        }
        "cover" => {
            if let Some(f) = find("state") {
                let conv = Conv::Enum {
                    table: COVER_STATE,
                    values: Vec::new(),
                };
                bind(
                    Component::CoverState(CoverState::Open),
                    f,
                    f.writable(),
                    conv,
                );
            }
            if let Some(f) = find("position") {
                let max = f.value_max.filter(|m| *m > 0.0).unwrap_or(100.0);
                bind(
                    Component::CoverPosition(0.0),
                    f,
                    f.writable(),
                    Conv::Percent { max },
                );
            }
            if let Some(f) = find("tilt") {
                let max = f.value_max.filter(|m| *m > 0.0).unwrap_or(100.0);
                bind(
                    Component::CoverTilt(0.0),
                    f,
                    f.writable(),
                    Conv::Percent { max },
                );
            }
            ("Cover", Some(Component::Cover))
        }
        "climate" => {
            if let Some(f) = find("local_temperature") {
                let conv = Conv::Number { exp10: 0 };
                bind(Component::Temperature(0.0), f, false, conv);
            }
            let setpoint = find("occupied_heating_setpoint")
                .or_else(|| find("current_heating_setpoint"))
                .or_else(|| find("occupied_cooling_setpoint"));
            if let Some(f) = setpoint {
                let conv = Conv::Number { exp10: 0 };
                bind(Component::TargetTemperature(0.0), f, f.writable(), conv);
                push_range(&mut attributes, f);
            }
            if let Some(f) = find("system_mode") {
                let values: Vec<String> =
                    f.values_text().iter().map(|v| v.to_lowercase()).collect();
                attributes.push(("modes".into(), values.join(",")));
                let conv = Conv::Enum {
                    table: CLIMATE_MODE,
                    values,
                };
                bind(
                    Component::ClimateMode(ClimateMode::Off),
                    f,
                    f.writable(),
                    conv,
                );
            }
            // Zigbee2MQTT's climate `withPreset`, `withFanMode`, `withSwingMode`:
            // the names as the device lists them.
            for (feature, component, list) in [
                (
                    "preset",
                    Component::ClimatePreset(String::new()),
                    "preset_modes",
                ),
                (
                    "fan_mode",
                    Component::ClimateFanMode(String::new()),
                    "fan_modes",
                ),
                (
                    "swing_mode",
                    Component::ClimateSwingMode(String::new()),
                    "swing_modes",
                ),
            ] {
                if let Some(f) = find(feature) {
                    let names = f.values_text();
                    if !names.is_empty() {
                        attributes.push((list.into(), names.join(",")));
                    }
                    let conv = Conv::Text {
                        skip_empty: false,
                        numeric: false,
                    };
                    bind(component, f, f.writable(), conv);
                }
            }
            ("Climate", Some(Component::Climate))
        }
        "lock" => {
            if let Some(f) = find("state") {
                let conv = Conv::LockState {
                    locked: f.value_on.clone().unwrap_or_else(|| J::from("LOCK")),
                    unlocked: f.value_off.clone().unwrap_or_else(|| J::from("UNLOCK")),
                };
                bind(Component::Lock(LockState::Locked), f, f.writable(), conv);
            }
            ("Lock", None)
        }
        "fan" => {
            if let Some(f) = find("state") {
                bind(Component::Switch(false), f, f.writable(), on_off(f));
            }
            let levels = find("mode").and_then(|f| {
                let values: Vec<String> =
                    f.values_text().iter().map(|v| v.to_lowercase()).collect();
                let levels: Vec<String> = FAN_LEVELS
                    .iter()
                    .filter(|l| values.iter().any(|v| v == *l))
                    .map(|l| l.to_string())
                    .collect();
                let off = values.iter().find(|v| *v == "off").cloned();
                (!levels.is_empty()).then_some((f, Conv::Levels { levels, off }))
            });
            let speed = || {
                find("speed").map(|f| {
                    let max = f.value_max.filter(|m| *m > 0.0).unwrap_or(100.0);
                    (f, Conv::Percent { max })
                })
            };
            if let Some((f, conv)) = levels.or_else(speed) {
                bind(Component::FanSpeed(0.0), f, f.writable(), conv);
            }
            ("Fan", Some(Component::Fan))
        }
        _ => return Err(SkipReason::UnknownType),
    };
    if bindings.is_empty() {
        return Err(SkipReason::NotMapped);
    }
    let base = match (&e.label, e.kind.as_str()) {
        (Some(label), "lock") if !label.is_empty() => label.clone(),
        _ => default_name.to_string(),
    };
    let endpoint = e.endpoint.as_ref().map(json_text);
    let name = match &endpoint {
        Some(ep) if !ep.is_empty() => format!("{base} {ep}"),
        _ => base,
    };
    if let Some(ep) = endpoint {
        attributes.insert(0, ("endpoint".into(), ep));
    }
    if let Some(c) = &e.category {
        attributes.push(("category".into(), c.clone()));
    }
    push_writable(&mut attributes, &bindings);
    Ok(EntityPlan {
        name,
        marker,
        attributes,
        bindings,
    })
}

/// A top-level generic expose → one entity.
fn generic(e: &Expose) -> Result<EntityPlan, SkipReason> {
    let Some(property) = e.property.clone().filter(|p| !p.is_empty()) else {
        return Err(SkipReason::Malformed);
    };
    let name_key = e.name.as_deref().unwrap_or(&property);
    let writable = e.writable();
    let mut attributes: Attributes = vec![("property".into(), property.clone())];
    let (component, conv) = match e.kind.as_str() {
        "numeric" => {
            let known = numeric_component(name_key).and_then(|c| {
                let exp10 = unit_exp10(c.info().unit, e.unit.as_deref())?;
                Some((c, exp10))
            });
            match known {
                Some((c, exp10)) => (c, Conv::Number { exp10 }),
                None => {
                    if let Some(unit) = &e.unit {
                        attributes.push(("unit".into(), unit.clone()));
                    }
                    push_range(&mut attributes, e);
                    (Component::Number(0.0), Conv::Number { exp10: 0 })
                }
            }
        }
        "binary" => match binary_component(name_key) {
            Some(c @ Component::Contact(_)) => (c, Conv::Bool),
            Some(c) => (c, on_off(e)),
            None => (Component::Binary(false), on_off(e)),
        },
        "enum" if name_key == "action" => (
            Component::Action(String::new()),
            Conv::Text {
                skip_empty: true,
                numeric: false,
            },
        ),
        "enum" => {
            attributes.push(("options".into(), e.values_text().join(",")));
            let numeric = e
                .values
                .as_ref()
                .is_some_and(|v| !v.is_empty() && v.iter().all(J::is_number));
            let conv = Conv::Text {
                skip_empty: false,
                numeric,
            };
            (Component::Select(String::new()), conv)
        }
        "text" => (
            Component::Text(String::new()),
            Conv::Text {
                skip_empty: false,
                numeric: false,
            },
        ),
        _ => return Err(SkipReason::UnknownType),
    };
    if let Some(ep) = e.endpoint.as_ref().map(json_text) {
        attributes.push(("endpoint".into(), ep));
    }
    if let Some(c) = &e.category {
        attributes.push(("category".into(), c.clone()));
    }
    let bindings = vec![Binding {
        component: component.info(),
        property: property.clone(),
        writable,
        conv,
    }];
    push_writable(&mut attributes, &bindings);
    let name = match &e.label {
        Some(label) if !label.is_empty() => label.clone(),
        _ => humanize(&property),
    };
    Ok(EntityPlan {
        name,
        marker: None,
        attributes,
        bindings,
    })
}

/// The component for a top-level `numeric` expose, by its `name`
/// (Zigbee2MQTT's generic names from zigbee-herdsman-converters' `exposes.ts`).
pub fn numeric_component(name: &str) -> Option<Component> {
    Some(match name {
        "temperature" | "local_temperature" => Component::Temperature(0.0),
        "humidity" => Component::Humidity(0.0),
        "pressure" => Component::Pressure(0.0),
        "illuminance" | "illuminance_lux" => Component::Illuminance(0.0),
        "power" => Component::Power(0.0),
        "energy" => Component::Energy(0.0),
        "voltage" => Component::Voltage(0.0),
        "current" => Component::Current(0.0),
        "battery" => Component::Battery(0.0),
        "linkquality" => Component::LinkQuality(0),
        "co2" => Component::Co2(0.0),
        "pm25" => Component::Pm25(0.0),
        "voc" => Component::Voc(0.0),
        "soil_moisture" => Component::SoilMoisture(0.0),
        _ => return None,
    })
}

/// The component for a top-level `binary` expose, by its `name`.
pub fn binary_component(name: &str) -> Option<Component> {
    Some(match name {
        "contact" => Component::Contact(false),
        "occupancy" => Component::Occupancy(false),
        "water_leak" => Component::WaterLeak(false),
        "smoke" => Component::Smoke(false),
        "tamper" => Component::Tamper(false),
        "battery_low" => Component::BatteryLow(false),
        "vibration" => Component::Vibration(false),
        "presence" => Component::Presence(false),
        _ => return None,
    })
}

/// Power of ten from the expose's unit to the component's (`mV` → `V` is -3),
/// or `None` when the units are incompatible. A missing expose unit, or the
/// same unit, is 0.
pub fn unit_exp10(component_unit: Option<&str>, expose_unit: Option<&str>) -> Option<i32> {
    let Some(from) = expose_unit.filter(|u| !u.is_empty()) else {
        return Some(0);
    };
    let to = component_unit.unwrap_or("");
    if from == to {
        return Some(0);
    }
    Some(match (to, from) {
        ("V", "mV") | ("A", "mA") | ("kWh", "Wh") | ("W", "mW") => -3,
        ("W", "kW") => 3,
        ("hPa", "Pa") => -2,
        ("hPa", "kPa") => 1,
        ("hPa", "mbar") | ("lx", "lux") => 0,
        _ => return None,
    })
}

/// `v` × 10^`exp10`, dividing for negative powers so that e.g. 2995 mV is exactly 2.995 V.
pub fn scale10(v: f64, exp10: i32) -> f64 {
    let p = 10f64.powi(exp10.abs());
    if exp10 < 0 { v / p } else { v * p }
}

fn push_range(attributes: &mut Attributes, e: &Expose) {
    for (key, v) in [
        ("min", e.value_min),
        ("max", e.value_max),
        ("step", e.value_step),
    ] {
        if let Some(v) = v {
            attributes.push((key.into(), number_text(v)));
        }
    }
}

fn push_writable(attributes: &mut Attributes, bindings: &[Binding]) {
    let writable: Vec<&str> = bindings
        .iter()
        .filter(|b| b.writable)
        .map(|b| writes_as(b.component))
        .collect();
    if !writable.is_empty() {
        attributes.push(("writable".into(), writable.join(",")));
    }
}

/// The component a user writes to change a binding: `CoverState` is
/// commanded through `CoverCommand`; everything else is written as itself.
pub fn writes_as(component: &'static ComponentInfo) -> &'static str {
    if component.name == "CoverState" {
        "CoverCommand"
    } else {
        component.name
    }
}

/// `water_leak` → `Water leak`.
pub fn humanize(property: &str) -> String {
    let spaced = property.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

/// JSON scalar as plain text (`"a"` → `a`, `1` → `1`).
pub fn json_text(v: &J) -> String {
    match v {
        J::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `250.0` → `250`, `0.5` → `0.5`.
pub fn number_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
pub(crate) mod tests;
