//! ESPHome entities ↔ Igloo entities and components, and change requests →
//! command messages.
//!
//! [`entity_info`] turns a `ListEntities*Response` into an [`EntityInfo`]
//! (name, attributes, marker components and what the mapping needs later);
//! [`state`] turns a `*StateResponse` into component values; [`command`] turns
//! a change request into the command message to send. Everything here is pure.
//!
//! # Mapping rules
//!
//! Every entity is named by ESPHome's `name`, else its `object_id` (the caller
//! makes names unique). Values from the device are `f32`; they are widened
//! through their shortest decimal form (`21.3f32` → `21.3`, not
//! `21.299999…`), and percentages derived from 0.0-1.0 values are rounded to
//! 0.01 %. A state with `missing_state` set, or a NaN reading, gives no
//! components.
//!
//! - `binary_sensor` (read-only): by `device_class`: `door`, `window`,
//!   `garage_door`, `opening` → `Contact` (inverted: ESPHome true = open,
//!   Igloo `Contact` true = closed); `motion` → `Motion`; `occupancy` →
//!   `Occupancy`; `presence` → `Presence`; `moisture` → `WaterLeak`; `smoke` →
//!   `Smoke`; `tamper` → `Tamper`; `vibration` → `Vibration`; `battery` →
//!   `BatteryLow`; anything else → `Binary`.
//! - `sensor` (read-only, marker `Sensor`): by `device_class` and
//!   `unit_of_measurement` (see [`SENSOR_CLASSES`]): `temperature` → `Temperature`
//!   (°C; °F and K converted), `humidity` → `Humidity` (%), `pressure` and
//!   `atmospheric_pressure` → `Pressure` (hPa; Pa, kPa, mbar, bar, mmHg, inHg,
//!   psi converted), `illuminance` → `Illuminance` (lx), `power` → `Power` (W;
//!   mW, kW), `energy` → `Energy` (kWh; Wh, MWh), `voltage` → `Voltage` (V;
//!   mV, kV), `current` → `Current` (A; mA), `battery` → `Battery` (%),
//!   `carbon_dioxide` → `Co2` (ppm), `pm25` → `Pm25` (µg/m³),
//!   `volatile_organic_compounds_parts` → `Voc` (ppb; ppm), `frequency` →
//!   `Frequency` (Hz; kHz), `power_factor` → `PowerFactor` (no unit, or %),
//!   `gas` → `Gas` (m³; L, ft³), `apparent_power` → `ApparentPower` (VA; kVA),
//!   `reactive_power` → `ReactivePower` (var; kvar). Any other class, no class,
//!   or a unit that does not convert (an empty one included) → `Number`, with
//!   the device's unit in the `unit` attribute.
//! - `text_sensor` (read-only, marker `Sensor`) → `Text`.
//! - `switch` → `Switch`; commanded with `SwitchCommandRequest`.
//! - `light` (marker `Light`) → `Switch` (on/off); `Brightness` (%) when a
//!   supported colour mode has the brightness capability; `Color` (each of
//!   ESPHome's normalised `red`/`green`/`blue` × 255) when one has RGB;
//!   `ColorTemperature` (mired, rounded; omitted when ≤ 0) when one has colour
//!   temperature or cold/warm white; `Effect` when the light has effects.
//!   All requested values go into one `LightCommandRequest`; `Color` and
//!   `ColorTemperature` also set `color_mode`, preferring the plainest mode
//!   that can show the request (RGB before RGB+white…; a mode with both when
//!   both are requested). `Brightness` is clamped to 0-100 %.
//! - `cover` (marker `Cover`) → `CoverPosition`/`CoverTilt` (%) when
//!   supported, and `CoverState`: `Opening`/`Closing` while moving, else `Open`
//!   when the position is above 0 (covers without position support report 1.0
//!   open / 0.0 closed), else `Closed`. `CoverCommand` Open/Close send position
//!   1.0/0.0, Stop sends `stop` (refused unless `supports_stop`).
//! - `fan` (marker `Fan`) → `Switch`; `FanSpeed` (`speed_level` /
//!   `supported_speed_count` in %) when `supports_speed`; `FanOscillating`,
//!   `FanDirection` when supported. A `FanSpeed` request above 0 % sends the
//!   nearest level (at least 1) and turns the fan on; 0 % turns it off (an
//!   explicit `Switch` in the same request wins).
//! - `climate` (marker `Climate`) → `Temperature` (current, when supported);
//!   `TargetTemperature`, or `TargetTemperatureLow`/`TargetTemperatureHigh` for
//!   two-point devices (both when the device supports either; from the
//!   booleans or the newer `feature_flags`); `ClimateMode` (by name);
//!   `ClimateAction` when `supports_action` (`DEFROSTING` has no Igloo variant
//!   and is left out); `Humidity` (current, when supported). Temperatures are
//!   converted from and to the entity's `temperature_unit` (°C by default). A
//!   mode the device does not list is refused.
//! - `number` → `Number`; a value outside `min..=max` is refused.
//! - `select` → `Select`; an option the device does not list is refused
//!   (options match ASCII case-insensitively and are sent as the device spells them).
//! - `button` (marker `ButtonPress`): writing `ButtonPress` presses it.
//! - `lock` → `Lock`: `LOCKED` → Locked, `UNLOCKED` and `OPEN` → Unlocked,
//!   `JAMMED` → Jammed, `LOCKING` → Locking, `UNLOCKING` and `OPENING` →
//!   Unlocking, `NONE` → nothing. `Lock` Locked/Unlocked and `LockCommand`
//!   Lock/Unlock/Open send `LockCommandRequest` (Open only with `supports_open`).
//!
//! A change request may carry the entity's own marker components (e.g.
//! `Light`); they are accepted and ignored. Any other component the entity
//! does not accept refuses the whole request with a [`CommandError`].
//!
//! # Attributes
//!
//! Every entity: `object_id`, `esphome_domain` (e.g. `light`), `device_class`
//! when set, `category` (`config`/`diagnostic`) when set, and `writable` (the
//! comma-joined components [`command`] accepts; absent for read-only
//! entities), last. Per domain, following the MQTT provider's names: sensor
//! `unit` (the component's unit, or the device's for `Number`),
//! `accuracy_decimals`, `state_class` (`measurement`, `total_increasing`,
//! `total`, `measurement_angle`); light `color_modes` (snake_case ESPHome names,
//! e.g. `rgb,color_temperature`), `min_mireds`/`max_mireds` (colour temperature
//! lights), `effects` (comma-joined); fan `speed_count` (its number of speed
//! levels, when it has speeds); climate `modes` (snake_case ESPHome
//! names, e.g. `off,heat,heat_cool`) and `min`/`max`/`step` (°C, from the
//! `visual_*` fields); number `unit`, `min`, `max`, `step`, `mode`
//! (`auto`/`box`/`slider`); select `options` (comma-joined).
//!
//! # Layout
//!
//! This file holds what every domain shares: [`Domain`], [`EntityInfo`],
//! [`CommandError`], the dispatching [`entity_info`], [`state_key`], [`state`]
//! and [`command`], the common attributes and the value helpers. Each
//! domain's own mapping (capabilities, attributes, states, commands) is in
//! its file: `sensor` (sensor classes, units and conversions; `sensor`,
//! `binary_sensor`, `text_sensor`), `light`, `cover`, `fan`, `climate`, and
//! `controls` (`switch`, `number`, `select`, `button`, `lock`).

mod climate;
mod controls;
mod cover;
mod fan;
mod light;
mod sensor;
#[cfg(test)]
mod test_support;

use igloo_provider::Attributes;
use igloo_provider::protocol::Component;

use crate::api::proto::{self, ApiMessage, Incoming, Outgoing};

pub use sensor::{Conversion, Measure, SENSOR_CLASSES, SensorClass, sensor_measure};

pub(crate) use climate::ClimateCaps;
pub(crate) use controls::NumberRange;
pub(crate) use cover::CoverCaps;
pub(crate) use fan::FanCaps;
pub(crate) use light::LightCaps;
pub(crate) use sensor::{BinaryKind, SensorMap};

/// The ESPHome entity domains this provider maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// `binary_sensor`.
    BinarySensor,
    /// `sensor` (numeric).
    Sensor,
    /// `text_sensor`.
    TextSensor,
    /// `switch`.
    Switch,
    /// `light`.
    Light,
    /// `cover`.
    Cover,
    /// `fan`.
    Fan,
    /// `climate`.
    Climate,
    /// `number`.
    Number,
    /// `select`.
    Select,
    /// `button`.
    Button,
    /// `lock`.
    Lock,
}

impl Domain {
    /// ESPHome's name for the domain, e.g. `binary_sensor` (the `esphome_domain` attribute).
    pub fn name(self) -> &'static str {
        match self {
            Domain::BinarySensor => "binary_sensor",
            Domain::Sensor => "sensor",
            Domain::TextSensor => "text_sensor",
            Domain::Switch => "switch",
            Domain::Light => "light",
            Domain::Cover => "cover",
            Domain::Fan => "fan",
            Domain::Climate => "climate",
            Domain::Number => "number",
            Domain::Select => "select",
            Domain::Button => "button",
            Domain::Lock => "lock",
        }
    }
}

impl std::fmt::Display for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One entity as listed by the device (from its `ListEntities*Response`).
#[derive(Debug, Clone, PartialEq)]
pub struct EntityInfo {
    /// ESPHome's entity key (fixed32), used in state and command messages.
    pub key: u32,
    /// ESPHome's object id (snake_case, unique per domain on the device).
    pub object_id: String,
    /// The Igloo entity name: ESPHome's `name`, else `object_id` (the caller
    /// makes names unique).
    pub name: String,
    /// The ESPHome domain.
    pub domain: Domain,
    /// ESPHome sub-device id (0 = main device), echoed in commands.
    pub device_id: u32,
    /// Attributes for `register_entity` (see the module docs).
    pub attributes: Attributes,
    /// Marker components written once at registration (`Light`, `Cover`,
    /// `Fan`, `Climate`, `Sensor`, `ButtonPress`); empty for the others.
    pub markers: Vec<Component>,
    /// What the mapping needs for states and commands.
    pub(crate) detail: Detail,
}

/// Per-domain mapping details of an entity.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Detail {
    BinarySensor(BinaryKind),
    Sensor(SensorMap),
    TextSensor,
    Switch,
    Light(LightCaps),
    Cover(CoverCaps),
    Fan(FanCaps),
    Climate(ClimateCaps),
    Number(NumberRange),
    Select(Vec<String>),
    Button,
    Lock { supports_open: bool },
}

/// The fields every `ListEntities*Response` shares.
struct Common<'a> {
    object_id: &'a str,
    key: u32,
    name: &'a str,
    device_class: &'a str,
    entity_category: i32,
    device_id: u32,
}

/// The [`Common`] fields of a `ListEntities*Response` `m`; with a second
/// argument, the `device_class` of a message that has none.
macro_rules! common {
    ($m:ident) => {
        common!($m, &$m.device_class)
    };
    ($m:ident, $device_class:expr) => {
        Common {
            object_id: &$m.object_id,
            key: $m.key,
            name: &$m.name,
            device_class: $device_class,
            entity_category: $m.entity_category,
            device_id: $m.device_id,
        }
    };
}

/// Builds the [`EntityInfo`] of a `ListEntities*Response`; `None` for any other message.
pub fn entity_info(msg: &Incoming) -> Option<EntityInfo> {
    let mut attrs: Attributes = Vec::new();
    let mut markers = Vec::new();
    let (common, domain, detail) = match msg {
        Incoming::ListBinarySensor(m) => (
            common!(m),
            Domain::BinarySensor,
            Detail::BinarySensor(BinaryKind::from_device_class(&m.device_class)),
        ),
        Incoming::ListSensor(m) => {
            let map = sensor::sensor_info(m, &mut attrs);
            markers.push(Component::Sensor);
            (common!(m), Domain::Sensor, Detail::Sensor(map))
        }
        Incoming::ListTextSensor(m) => {
            markers.push(Component::Sensor);
            (common!(m), Domain::TextSensor, Detail::TextSensor)
        }
        Incoming::ListSwitch(m) => (common!(m), Domain::Switch, Detail::Switch),
        Incoming::ListLight(m) => {
            let caps = light::light_info(m, &mut attrs);
            markers.push(Component::Light);
            (common!(m, ""), Domain::Light, Detail::Light(caps))
        }
        Incoming::ListCover(m) => {
            markers.push(Component::Cover);
            (
                common!(m),
                Domain::Cover,
                Detail::Cover(cover::cover_info(m)),
            )
        }
        Incoming::ListFan(m) => {
            let caps = fan::fan_info(m, &mut attrs);
            markers.push(Component::Fan);
            (common!(m, ""), Domain::Fan, Detail::Fan(caps))
        }
        Incoming::ListClimate(m) => {
            let caps = climate::climate_info(m, &mut attrs);
            markers.push(Component::Climate);
            (common!(m, ""), Domain::Climate, Detail::Climate(caps))
        }
        Incoming::ListNumber(m) => {
            let range = controls::number_info(m, &mut attrs);
            (common!(m), Domain::Number, Detail::Number(range))
        }
        Incoming::ListSelect(m) => {
            let options = controls::select_info(m, &mut attrs);
            (common!(m, ""), Domain::Select, Detail::Select(options))
        }
        Incoming::ListButton(m) => {
            markers.push(Component::ButtonPress);
            (common!(m), Domain::Button, Detail::Button)
        }
        Incoming::ListLock(m) => (
            common!(m, ""),
            Domain::Lock,
            Detail::Lock {
                supports_open: m.supports_open,
            },
        ),
        _ => return None,
    };

    let mut attributes: Attributes = vec![
        ("object_id".into(), common.object_id.to_string()),
        ("esphome_domain".into(), domain.name().into()),
    ];
    attributes.extend(attrs);
    if !common.device_class.is_empty() {
        attributes.push(("device_class".into(), common.device_class.to_string()));
    }
    match proto::EntityCategory::try_from(common.entity_category) {
        Ok(proto::EntityCategory::Config) => attributes.push(("category".into(), "config".into())),
        Ok(proto::EntityCategory::Diagnostic) => {
            attributes.push(("category".into(), "diagnostic".into()))
        }
        Ok(proto::EntityCategory::None) | Err(_) => {}
    }
    let writable = writable(&detail);
    if !writable.is_empty() {
        attributes.push(("writable".into(), writable.join(",")));
    }
    let name = if common.name.is_empty() {
        common.object_id
    } else {
        common.name
    };
    Some(EntityInfo {
        key: common.key,
        object_id: common.object_id.to_string(),
        name: name.to_string(),
        domain,
        device_id: common.device_id,
        attributes,
        markers,
        detail,
    })
}

/// The components [`command`] accepts for an entity (markers other than
/// `ButtonPress` are accepted too but not listed).
fn writable(detail: &Detail) -> Vec<&'static str> {
    let mut w = Vec::new();
    match detail {
        Detail::BinarySensor(_) | Detail::Sensor(_) | Detail::TextSensor => {}
        Detail::Switch => w.push("Switch"),
        Detail::Light(caps) => light::light_writable(caps, &mut w),
        Detail::Cover(caps) => cover::cover_writable(caps, &mut w),
        Detail::Fan(caps) => fan::fan_writable(caps, &mut w),
        Detail::Climate(caps) => climate::climate_writable(caps, &mut w),
        Detail::Number(_) => w.push("Number"),
        Detail::Select(_) => w.push("Select"),
        Detail::Button => w.push("ButtonPress"),
        Detail::Lock { .. } => w.extend(["Lock", "LockCommand"]),
    }
    w
}

/// The entity key of a `*StateResponse`; `None` for any other message.
pub fn state_key(msg: &Incoming) -> Option<u32> {
    Some(match msg {
        Incoming::BinarySensorState(m) => m.key,
        Incoming::SensorState(m) => m.key,
        Incoming::TextSensorState(m) => m.key,
        Incoming::SwitchState(m) => m.key,
        Incoming::LightState(m) => m.key,
        Incoming::CoverState(m) => m.key,
        Incoming::FanState(m) => m.key,
        Incoming::ClimateState(m) => m.key,
        Incoming::NumberState(m) => m.key,
        Incoming::SelectState(m) => m.key,
        Incoming::LockState(m) => m.key,
        _ => return None,
    })
}

/// Components for a state message of this entity; empty when the state is
/// missing (`missing_state`, a NaN reading), or when the message is not a
/// state of this entity's domain.
pub fn state(info: &EntityInfo, msg: &Incoming) -> Vec<Component> {
    let mut out = Vec::new();
    let missing = match msg {
        Incoming::BinarySensorState(m) => m.missing_state,
        Incoming::SensorState(m) => m.missing_state,
        Incoming::TextSensorState(m) => m.missing_state,
        Incoming::SwitchState(m) => m.missing_state,
        Incoming::ClimateState(m) => m.missing_state,
        Incoming::NumberState(m) => m.missing_state,
        Incoming::SelectState(m) => m.missing_state,
        _ => false,
    };
    if missing {
        return out;
    }
    match (&info.detail, msg) {
        (Detail::BinarySensor(kind), Incoming::BinarySensorState(m)) => {
            out.push(kind.component(m.state));
        }
        (Detail::Sensor(map), Incoming::SensorState(m)) => {
            sensor::sensor_components(map, m, &mut out);
        }
        (Detail::TextSensor, Incoming::TextSensorState(m)) => {
            out.push(Component::Text(m.state.clone()));
        }
        (Detail::Switch, Incoming::SwitchState(m)) => {
            out.push(Component::Switch(m.state));
        }
        (Detail::Light(caps), Incoming::LightState(m)) => {
            light::light_components(caps, m, &mut out);
        }
        (Detail::Cover(caps), Incoming::CoverState(m)) => {
            cover::cover_components(caps, m, &mut out);
        }
        (Detail::Fan(caps), Incoming::FanState(m)) => {
            fan::fan_components(caps, m, &mut out);
        }
        (Detail::Climate(caps), Incoming::ClimateState(m)) => {
            climate::climate_components(caps, m, &mut out);
        }
        (Detail::Number(_), Incoming::NumberState(m)) => {
            controls::number_components(m, &mut out);
        }
        (Detail::Select(_), Incoming::SelectState(m)) => {
            out.push(Component::Select(m.state.clone()));
        }
        (Detail::Lock { .. }, Incoming::LockState(m)) => {
            controls::lock_components(m, &mut out);
        }
        _ => {}
    }
    out
}

/// A change request this entity cannot carry out.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("entity {entity:?}: cannot write {component}: {reason}")]
pub struct CommandError {
    /// The entity's name.
    pub entity: String,
    /// The name of the component that was refused.
    pub component: &'static str,
    /// Why.
    pub reason: String,
}

/// A change request (values a user asked for) → the command message(s) to
/// send: at most one message; none when the request holds only the entity's
/// own markers.
///
/// # Errors
/// A value this entity cannot take: a component its domain does not have, a
/// feature the device does not support, a value out of range or not listed
/// (select option, effect, climate mode), or any value for a read-only entity.
pub fn command(info: &EntityInfo, values: &[Component]) -> Result<Vec<Outgoing>, CommandError> {
    let refuse = |c: &Component, reason: &str| CommandError {
        entity: info.name.clone(),
        component: c.name(),
        reason: reason.to_string(),
    };
    let values: Vec<&Component> = values
        .iter()
        .filter(|v| !(info.markers.contains(v) && **v != Component::ButtonPress))
        .collect();
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let key = info.key;
    let device_id = info.device_id;
    let out = match &info.detail {
        Detail::BinarySensor(_) | Detail::Sensor(_) | Detail::TextSensor => {
            return Err(refuse(values[0], "the entity is read-only"));
        }
        Detail::Switch => controls::switch_command(key, device_id, &values, &refuse)?,
        Detail::Light(caps) => light::light_command(caps, key, device_id, &values, &refuse)?,
        Detail::Cover(caps) => cover::cover_command(caps, key, device_id, &values, &refuse)?,
        Detail::Fan(caps) => fan::fan_command(caps, key, device_id, &values, &refuse)?,
        Detail::Climate(caps) => climate::climate_command(caps, key, device_id, &values, &refuse)?,
        Detail::Number(range) => controls::number_command(range, key, device_id, &values, &refuse)?,
        Detail::Select(options) => {
            controls::select_command(options, key, device_id, &values, &refuse)?
        }
        Detail::Button => controls::button_command(key, device_id, &values, &refuse)?,
        Detail::Lock { supports_open } => {
            controls::lock_command(*supports_open, key, device_id, &values, &refuse)?
        }
    };
    Ok(vec![out])
}

const NOT_WRITABLE: &str = "the entity has no such writable component";
const NOT_FINITE: &str = "the value is not a finite number";

fn encode<M: ApiMessage>(m: &M) -> Outgoing {
    Outgoing::encode(m)
}

/// An `f32` from the device as the `f64` of its shortest decimal form
/// (`21.3f32` → `21.3`); NaN and infinities are kept.
fn widen(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::from(v))
}

/// `v` rounded to `decimals` decimal places.
fn round_to(v: f64, decimals: i32) -> f64 {
    let p = 10f64.powi(decimals);
    (v * p).round() / p
}

/// A device fraction 0.0-1.0 as a percentage rounded to 0.01 %; `None` when not finite.
fn percent(v: f32) -> Option<f64> {
    let p = round_to(widen(v) * 100.0, 2);
    p.is_finite().then(|| p.clamp(0.0, 100.0))
}

/// A requested percentage as a device fraction 0.0-1.0 (clamped); `None` when not finite.
fn fraction(p: f64) -> Option<f32> {
    p.is_finite().then(|| (p.clamp(0.0, 100.0) / 100.0) as f32)
}

/// A normalised colour channel 0.0-1.0 as 0-255.
fn channel(v: f32) -> u8 {
    // NaN fails both comparisons of `clamp`'s result and casts to 0.
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// `250.0` → `250`, `0.5` → `0.5` (as the MQTT provider writes numbers).
fn number_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use igloo_provider::protocol::Color;
    use igloo_provider::protocol::component::{
        ClimateMode as IglooClimateMode, CoverCommand, FanDirection as IglooFanDirection, Lock,
        LockCommand as IglooLockCommand,
    };

    use super::sensor::FAHRENHEIT;
    use super::test_support::*;
    use super::*;
    use proto::ColorMode as CM;

    // ---- across domains -----------------------------------------------------

    #[test]
    fn name_falls_back_to_object_id() {
        let e = info(Incoming::ListBinarySensor(
            proto::ListEntitiesBinarySensorResponse {
                object_id: "status".into(),
                is_status_binary_sensor: true,
                ..Default::default()
            },
        ));
        assert_eq!(e.name, "status");
        assert_eq!(attr(&e, "category"), None);
        assert_eq!(attr(&e, "device_class"), None);
    }

    #[test]
    fn non_list_messages_are_not_entities_and_states_have_keys() {
        assert_eq!(entity_info(&Incoming::PingRequest), None);
        assert_eq!(entity_info(&binary_state(true, false)), None);
        assert_eq!(entity_info(&Incoming::Other(43)), None);
        assert_eq!(state_key(&Incoming::ListEntitiesDone), None);
        assert_eq!(state_key(&binary_state(true, false)), Some(0xDEAD_BEEF));
        assert_eq!(state_key(&reading(1.0)), Some(5));
        assert_eq!(state_key(&Incoming::LightState(light_state())), Some(42));
        let idle = proto::CoverOperation::Idle;
        assert_eq!(state_key(&cover_state(0.0, 0.0, idle)), Some(77));
        assert_eq!(
            state_key(&Incoming::ClimateState(climate_state())),
            Some(99)
        );
        let text = proto::TextSensorStateResponse {
            key: 1,
            ..Default::default()
        };
        let fan = proto::FanStateResponse {
            key: 2,
            ..Default::default()
        };
        let number = proto::NumberStateResponse {
            key: 3,
            ..Default::default()
        };
        let select = proto::SelectStateResponse {
            key: 4,
            ..Default::default()
        };
        assert_eq!(state_key(&Incoming::TextSensorState(text)), Some(1));
        assert_eq!(state_key(&Incoming::FanState(fan)), Some(2));
        assert_eq!(state_key(&Incoming::NumberState(number)), Some(3));
        assert_eq!(state_key(&Incoming::SelectState(select)), Some(4));
    }

    /// Every component listed in `writable` is accepted by `command`, and
    /// read-only entities list none.
    #[test]
    fn writable_attribute_matches_command() {
        let sample = |name: &str| -> Component {
            match name {
                "Switch" => Component::Switch(true),
                "Brightness" => Component::Brightness(40.0),
                "Color" => Component::Color(Color { r: 1, g: 2, b: 3 }),
                "ColorTemperature" => Component::ColorTemperature(300),
                "Effect" => Component::Effect("None".into()),
                "CoverCommand" => Component::CoverCommand(CoverCommand::Open),
                "CoverPosition" => Component::CoverPosition(10.0),
                "CoverTilt" => Component::CoverTilt(10.0),
                "FanSpeed" => Component::FanSpeed(10.0),
                "FanOscillating" => Component::FanOscillating(true),
                "FanDirection" => Component::FanDirection(IglooFanDirection::Forward),
                "FanPreset" => Component::FanPreset("Sleep".into()),
                "ClimateMode" => Component::ClimateMode(IglooClimateMode::Off),
                "ClimateFanMode" => Component::ClimateFanMode("low".into()),
                "ClimateSwingMode" => Component::ClimateSwingMode("vertical".into()),
                "ClimatePreset" => Component::ClimatePreset("eco".into()),
                "TargetTemperature" => Component::TargetTemperature(20.0),
                "TargetTemperatureLow" => Component::TargetTemperatureLow(18.0),
                "TargetTemperatureHigh" => Component::TargetTemperatureHigh(24.0),
                "Number" => Component::Number(1.0),
                "Select" => Component::Select("Eco".into()),
                "ButtonPress" => Component::ButtonPress,
                "Lock" => Component::Lock(Lock::Locked),
                "LockCommand" => Component::LockCommand(IglooLockCommand::Unlock),
                other => panic!("no sample for {other}"),
            }
        };
        let entities = [
            binary("door"),
            sensor("temperature", "°C"),
            switch(),
            rgbct(),
            light(&[CM::OnOff], &[]),
            cover(true, true, true),
            fan(true, 3),
            fan_with_presets(&["Auto", "Sleep"]),
            thermostat(),
            air_conditioner(),
            number(),
            select(),
            lock(true),
        ];
        for e in &entities {
            let writable = attr(e, "writable").unwrap_or_default();
            for name in writable.split(',').filter(|n| !n.is_empty()) {
                let value = sample(name);
                assert_eq!(
                    command(e, std::slice::from_ref(&value)).map(|v| v.len()),
                    Ok(1),
                    "{} {name}",
                    e.name
                );
            }
            let read_only = matches!(
                e.domain,
                Domain::BinarySensor | Domain::Sensor | Domain::TextSensor
            );
            assert_eq!(attr(e, "writable").is_none(), read_only, "{}", e.name);
            assert_eq!(attr(e, "esphome_domain"), Some(e.domain.name()));
            let last_is_writable = keys(e).last().copied() == Some("writable");
            assert_eq!(last_is_writable, !read_only, "{}", e.name);
        }
    }

    #[test]
    fn widening_uses_the_shortest_decimal() {
        assert_eq!(widen(21.3), 21.3);
        assert_eq!(widen(0.1), 0.1);
        assert!(widen(f32::NAN).is_nan());
        assert_eq!(widen(f32::INFINITY), f64::INFINITY);
        assert_eq!(channel(f32::NAN), 0);
        assert_eq!(channel(2.0), 255);
        assert_eq!(percent(f32::NAN), None);
        assert_eq!(fraction(f64::NAN), None);
        assert_eq!(sensor_measure("temperature", "°F").0, Measure::Temperature);
        assert_eq!(FAHRENHEIT.invert(FAHRENHEIT.apply(71.6)), 71.6);
    }
}
