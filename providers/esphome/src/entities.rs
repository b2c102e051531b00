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

use igloo_provider::Attributes;
use igloo_provider::protocol::component::{
    ClimateAction as IglooClimateAction, ClimateMode as IglooClimateMode, CoverCommand, CoverState,
    FanDirection as IglooFanDirection, Lock, LockCommand as IglooLockCommand,
};
use igloo_provider::protocol::{Color, Component};

use crate::api::proto::{self, ApiMessage, Incoming, Outgoing};

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

/// The component a binary sensor reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinaryKind {
    /// `Contact`, inverted.
    Contact,
    Motion,
    Occupancy,
    Presence,
    WaterLeak,
    Smoke,
    Tamper,
    Vibration,
    BatteryLow,
    Binary,
}

impl BinaryKind {
    fn from_device_class(class: &str) -> BinaryKind {
        match class {
            "door" | "window" | "garage_door" | "opening" => BinaryKind::Contact,
            "motion" => BinaryKind::Motion,
            "occupancy" => BinaryKind::Occupancy,
            "presence" => BinaryKind::Presence,
            "moisture" => BinaryKind::WaterLeak,
            "smoke" => BinaryKind::Smoke,
            "tamper" => BinaryKind::Tamper,
            "vibration" => BinaryKind::Vibration,
            "battery" => BinaryKind::BatteryLow,
            _ => BinaryKind::Binary,
        }
    }

    fn component(self, on: bool) -> Component {
        match self {
            BinaryKind::Contact => Component::Contact(!on),
            BinaryKind::Motion => Component::Motion(on),
            BinaryKind::Occupancy => Component::Occupancy(on),
            BinaryKind::Presence => Component::Presence(on),
            BinaryKind::WaterLeak => Component::WaterLeak(on),
            BinaryKind::Smoke => Component::Smoke(on),
            BinaryKind::Tamper => Component::Tamper(on),
            BinaryKind::Vibration => Component::Vibration(on),
            BinaryKind::BatteryLow => Component::BatteryLow(on),
            BinaryKind::Binary => Component::Binary(on),
        }
    }
}

/// The component a numeric sensor reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// [`Component::Temperature`], °C.
    Temperature,
    /// [`Component::Humidity`], %.
    Humidity,
    /// [`Component::Pressure`], hPa.
    Pressure,
    /// [`Component::Illuminance`], lx.
    Illuminance,
    /// [`Component::Power`], W.
    Power,
    /// [`Component::Energy`], kWh.
    Energy,
    /// [`Component::Voltage`], V.
    Voltage,
    /// [`Component::Current`], A.
    Current,
    /// [`Component::Battery`], %.
    Battery,
    /// [`Component::Co2`], ppm.
    Co2,
    /// [`Component::Pm25`], µg/m³.
    Pm25,
    /// [`Component::Voc`], ppb.
    Voc,
    /// [`Component::Frequency`], Hz.
    Frequency,
    /// [`Component::PowerFactor`], no unit.
    PowerFactor,
    /// [`Component::Gas`], m³.
    Gas,
    /// [`Component::ApparentPower`], VA.
    ApparentPower,
    /// [`Component::ReactivePower`], var.
    ReactivePower,
    /// [`Component::Number`], in the device's unit.
    Number,
}

impl Measure {
    /// The component carrying `v` (already in the component's unit).
    pub fn component(self, v: f64) -> Component {
        match self {
            Measure::Temperature => Component::Temperature(v),
            Measure::Humidity => Component::Humidity(v),
            Measure::Pressure => Component::Pressure(v),
            Measure::Illuminance => Component::Illuminance(v),
            Measure::Power => Component::Power(v),
            Measure::Energy => Component::Energy(v),
            Measure::Voltage => Component::Voltage(v),
            Measure::Current => Component::Current(v),
            Measure::Battery => Component::Battery(v),
            Measure::Co2 => Component::Co2(v),
            Measure::Pm25 => Component::Pm25(v),
            Measure::Voc => Component::Voc(v),
            Measure::Frequency => Component::Frequency(v),
            Measure::PowerFactor => Component::PowerFactor(v),
            Measure::Gas => Component::Gas(v),
            Measure::ApparentPower => Component::ApparentPower(v),
            Measure::ReactivePower => Component::ReactivePower(v),
            Measure::Number => Component::Number(v),
        }
    }
}

/// A linear unit conversion to the component's unit: `(v + offset) × num / den`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conversion {
    /// Added first (e.g. -32 for °F).
    pub offset: f64,
    /// Multiplier.
    pub num: f64,
    /// Divisor (kept separate so that e.g. 2995 mV gives exactly 2.995 V).
    pub den: f64,
}

impl Conversion {
    /// No conversion.
    pub const SAME: Conversion = Conversion::scale(1.0, 1.0);

    const fn scale(num: f64, den: f64) -> Conversion {
        Conversion {
            offset: 0.0,
            num,
            den,
        }
    }

    /// Converts a device value to the component's unit.
    pub fn apply(&self, v: f64) -> f64 {
        (v + self.offset) * self.num / self.den
    }

    /// Converts a component value back to the device's unit.
    pub fn invert(&self, v: f64) -> f64 {
        v * self.den / self.num - self.offset
    }
}

const FAHRENHEIT: Conversion = Conversion {
    offset: -32.0,
    num: 5.0,
    den: 9.0,
};
const KELVIN: Conversion = Conversion {
    offset: -273.15,
    num: 1.0,
    den: 1.0,
};

/// A sensor device class, the component it maps to, and the units (as ESPHome
/// spells them) it converts from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SensorClass {
    /// Home Assistant device class, e.g. `temperature`.
    pub device_class: &'static str,
    /// The component.
    pub measure: Measure,
    /// Accepted units and their conversion to the component's unit.
    pub units: &'static [(&'static str, Conversion)],
}

/// Sensor device classes this provider maps. A class missing here, or a unit
/// not listed for its class, maps to [`Measure::Number`].
pub const SENSOR_CLASSES: &[SensorClass] = &[
    SensorClass::new(
        "temperature",
        Measure::Temperature,
        &[("°C", Conversion::SAME), ("°F", FAHRENHEIT), ("K", KELVIN)],
    ),
    SensorClass::new("humidity", Measure::Humidity, &[("%", Conversion::SAME)]),
    SensorClass::new("pressure", Measure::Pressure, PRESSURE_UNITS),
    SensorClass::new("atmospheric_pressure", Measure::Pressure, PRESSURE_UNITS),
    SensorClass::new(
        "illuminance",
        Measure::Illuminance,
        &[("lx", Conversion::SAME), ("lux", Conversion::SAME)],
    ),
    SensorClass::new(
        "power",
        Measure::Power,
        &[
            ("W", Conversion::SAME),
            ("kW", Conversion::scale(1000.0, 1.0)),
            ("mW", Conversion::scale(1.0, 1000.0)),
        ],
    ),
    SensorClass::new(
        "energy",
        Measure::Energy,
        &[
            ("kWh", Conversion::SAME),
            ("Wh", Conversion::scale(1.0, 1000.0)),
            ("MWh", Conversion::scale(1000.0, 1.0)),
        ],
    ),
    SensorClass::new(
        "voltage",
        Measure::Voltage,
        &[
            ("V", Conversion::SAME),
            ("mV", Conversion::scale(1.0, 1000.0)),
            ("kV", Conversion::scale(1000.0, 1.0)),
        ],
    ),
    SensorClass::new(
        "current",
        Measure::Current,
        &[
            ("A", Conversion::SAME),
            ("mA", Conversion::scale(1.0, 1000.0)),
        ],
    ),
    SensorClass::new("battery", Measure::Battery, &[("%", Conversion::SAME)]),
    SensorClass::new("carbon_dioxide", Measure::Co2, &[("ppm", Conversion::SAME)]),
    SensorClass::new(
        "pm25",
        Measure::Pm25,
        // Micro sign (U+00B5, ESPHome's spelling) and Greek mu (U+03BC).
        &[("µg/m³", Conversion::SAME), ("μg/m³", Conversion::SAME)],
    ),
    SensorClass::new(
        "volatile_organic_compounds_parts",
        Measure::Voc,
        &[
            ("ppb", Conversion::SAME),
            ("ppm", Conversion::scale(1000.0, 1.0)),
        ],
    ),
    SensorClass::new(
        "frequency",
        Measure::Frequency,
        &[
            ("Hz", Conversion::SAME),
            ("kHz", Conversion::scale(1000.0, 1.0)),
        ],
    ),
    SensorClass::new(
        "power_factor",
        Measure::PowerFactor,
        &[("", Conversion::SAME), ("%", Conversion::scale(1.0, 100.0))],
    ),
    SensorClass::new(
        "gas",
        Measure::Gas,
        &[
            ("m³", Conversion::SAME),
            ("L", Conversion::scale(1.0, 1000.0)),
            ("ft³", Conversion::scale(28.316846592, 1000.0)),
        ],
    ),
    SensorClass::new(
        "apparent_power",
        Measure::ApparentPower,
        &[
            ("VA", Conversion::SAME),
            ("kVA", Conversion::scale(1000.0, 1.0)),
        ],
    ),
    SensorClass::new(
        "reactive_power",
        Measure::ReactivePower,
        &[
            ("var", Conversion::SAME),
            ("kvar", Conversion::scale(1000.0, 1.0)),
        ],
    ),
];

impl SensorClass {
    const fn new(
        device_class: &'static str,
        measure: Measure,
        units: &'static [(&'static str, Conversion)],
    ) -> SensorClass {
        SensorClass {
            device_class,
            measure,
            units,
        }
    }
}

const PRESSURE_UNITS: &[(&str, Conversion)] = &[
    ("hPa", Conversion::SAME),
    ("mbar", Conversion::SAME),
    ("Pa", Conversion::scale(1.0, 100.0)),
    ("kPa", Conversion::scale(10.0, 1.0)),
    ("bar", Conversion::scale(1000.0, 1.0)),
    // 1 mmHg = 133.322387415 Pa, 1 inHg = 3386.388640341 Pa, 1 psi = 6894.757293168 Pa.
    ("mmHg", Conversion::scale(133.322387415, 100.0)),
    ("inHg", Conversion::scale(3386.388640341, 100.0)),
    ("psi", Conversion::scale(6894.757293168, 100.0)),
];

/// The component and conversion for a sensor's device class and unit.
pub fn sensor_measure(device_class: &str, unit: &str) -> (Measure, Conversion) {
    SENSOR_CLASSES
        .iter()
        .find(|c| c.device_class == device_class)
        .and_then(|c| {
            c.units
                .iter()
                .find(|(u, _)| *u == unit)
                .map(|(_, conv)| (c.measure, *conv))
        })
        .unwrap_or((Measure::Number, Conversion::SAME))
}

/// How a numeric sensor's state becomes a component.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SensorMap {
    pub(crate) measure: Measure,
    pub(crate) conversion: Conversion,
}

/// What a light supports.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LightCaps {
    /// Supported [`proto::ColorMode`] values.
    pub(crate) modes: Vec<i32>,
    pub(crate) effects: Vec<String>,
}

impl LightCaps {
    fn any(&self, cap: i32) -> bool {
        self.modes.iter().any(|m| m & cap != 0)
    }
    fn brightness(&self) -> bool {
        self.any(proto::ColorMode::CAP_BRIGHTNESS)
    }
    fn rgb(&self) -> bool {
        self.any(proto::ColorMode::CAP_RGB)
    }
    fn color_temperature(&self) -> bool {
        self.any(proto::ColorMode::CAP_COLOR_TEMPERATURE | proto::ColorMode::CAP_COLD_WARM_WHITE)
    }
    /// The first mode of `preference` the light supports.
    fn pick(&self, preference: &[proto::ColorMode]) -> Option<proto::ColorMode> {
        preference
            .iter()
            .copied()
            .find(|p| self.modes.contains(&(*p as i32)))
    }
}

/// What a cover supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CoverCaps {
    pub(crate) position: bool,
    pub(crate) tilt: bool,
    pub(crate) stop: bool,
}

/// What a fan supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FanCaps {
    /// Speed levels (1..=count); 0 when speed is not supported.
    pub(crate) speed_count: i32,
    pub(crate) oscillation: bool,
    pub(crate) direction: bool,
}

/// What a climate device supports.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClimateCaps {
    pub(crate) current_temperature: bool,
    /// Single set point (`TargetTemperature`).
    pub(crate) single: bool,
    /// Low/high set points.
    pub(crate) two_point: bool,
    pub(crate) action: bool,
    pub(crate) current_humidity: bool,
    /// Supported [`proto::ClimateMode`] values.
    pub(crate) modes: Vec<i32>,
    /// Device unit → °C.
    pub(crate) unit: Conversion,
}

/// A number's accepted range, as the device sent it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct NumberRange {
    pub(crate) min: f32,
    pub(crate) max: f32,
}

// Feature bits of `ListEntitiesClimateResponse::feature_flags` (aioesphomeapi's ClimateFeature).
const CLIMATE_CURRENT_TEMPERATURE: u32 = 1 << 0;
const CLIMATE_TWO_POINT: u32 = 1 << 1;
const CLIMATE_REQUIRES_TWO_POINT: u32 = 1 << 2;
const CLIMATE_CURRENT_HUMIDITY: u32 = 1 << 3;
const CLIMATE_ACTION: u32 = 1 << 5;

/// The fields every `ListEntities*Response` shares.
struct Common<'a> {
    object_id: &'a str,
    key: u32,
    name: &'a str,
    device_class: &'a str,
    entity_category: i32,
    device_id: u32,
}

/// Builds the [`EntityInfo`] of a `ListEntities*Response`; `None` for any other message.
pub fn entity_info(msg: &Incoming) -> Option<EntityInfo> {
    let mut attrs: Attributes = Vec::new();
    let mut markers = Vec::new();
    let (common, domain, detail) = match msg {
        Incoming::ListBinarySensor(m) => (
            Common {
                object_id: &m.object_id,
                key: m.key,
                name: &m.name,
                device_class: &m.device_class,
                entity_category: m.entity_category,
                device_id: m.device_id,
            },
            Domain::BinarySensor,
            Detail::BinarySensor(BinaryKind::from_device_class(&m.device_class)),
        ),
        Incoming::ListSensor(m) => {
            let (measure, conversion) = sensor_measure(&m.device_class, &m.unit_of_measurement);
            let unit = match measure {
                Measure::Number => Some(m.unit_of_measurement.as_str()),
                other => other.component(0.0).info().unit,
            };
            if let Some(unit) = unit.filter(|u| !u.is_empty()) {
                attrs.push(("unit".into(), unit.to_string()));
            }
            attrs.push(("accuracy_decimals".into(), m.accuracy_decimals.to_string()));
            let state_class = match proto::SensorStateClass::try_from(m.state_class) {
                Ok(proto::SensorStateClass::Measurement) => Some("measurement"),
                Ok(proto::SensorStateClass::TotalIncreasing) => Some("total_increasing"),
                Ok(proto::SensorStateClass::Total) => Some("total"),
                Ok(proto::SensorStateClass::MeasurementAngle) => Some("measurement_angle"),
                Ok(proto::SensorStateClass::None) | Err(_) => None,
            };
            if let Some(sc) = state_class {
                attrs.push(("state_class".into(), sc.into()));
            }
            markers.push(Component::Sensor);
            (
                Common {
                    object_id: &m.object_id,
                    key: m.key,
                    name: &m.name,
                    device_class: &m.device_class,
                    entity_category: m.entity_category,
                    device_id: m.device_id,
                },
                Domain::Sensor,
                Detail::Sensor(SensorMap {
                    measure,
                    conversion,
                }),
            )
        }
        Incoming::ListTextSensor(m) => {
            markers.push(Component::Sensor);
            (
                Common {
                    object_id: &m.object_id,
                    key: m.key,
                    name: &m.name,
                    device_class: &m.device_class,
                    entity_category: m.entity_category,
                    device_id: m.device_id,
                },
                Domain::TextSensor,
                Detail::TextSensor,
            )
        }
        Incoming::ListSwitch(m) => (
            Common {
                object_id: &m.object_id,
                key: m.key,
                name: &m.name,
                device_class: &m.device_class,
                entity_category: m.entity_category,
                device_id: m.device_id,
            },
            Domain::Switch,
            Detail::Switch,
        ),
        Incoming::ListLight(m) => {
            let caps = LightCaps {
                modes: m.supported_color_modes.clone(),
                effects: m.effects.clone(),
            };
            let modes: Vec<&str> = caps.modes.iter().map(|&v| color_mode_name(v)).collect();
            if !modes.is_empty() {
                attrs.push(("color_modes".into(), modes.join(",")));
            }
            if caps.color_temperature() {
                for (k, v) in [("min_mireds", m.min_mireds), ("max_mireds", m.max_mireds)] {
                    if v.is_finite() && v > 0.0 {
                        attrs.push((k.into(), number_text(widen(v))));
                    }
                }
            }
            if !caps.effects.is_empty() {
                attrs.push(("effects".into(), caps.effects.join(",")));
            }
            markers.push(Component::Light);
            (
                Common {
                    object_id: &m.object_id,
                    key: m.key,
                    name: &m.name,
                    device_class: "",
                    entity_category: m.entity_category,
                    device_id: m.device_id,
                },
                Domain::Light,
                Detail::Light(caps),
            )
        }
        Incoming::ListCover(m) => {
            markers.push(Component::Cover);
            (
                Common {
                    object_id: &m.object_id,
                    key: m.key,
                    name: &m.name,
                    device_class: &m.device_class,
                    entity_category: m.entity_category,
                    device_id: m.device_id,
                },
                Domain::Cover,
                Detail::Cover(CoverCaps {
                    position: m.supports_position,
                    tilt: m.supports_tilt,
                    stop: m.supports_stop,
                }),
            )
        }
        Incoming::ListFan(m) => {
            let speed_count = if m.supports_speed {
                m.supported_speed_count.max(0)
            } else {
                0
            };
            if speed_count > 0 {
                attrs.push(("speed_count".into(), speed_count.to_string()));
            }
            markers.push(Component::Fan);
            (
                Common {
                    object_id: &m.object_id,
                    key: m.key,
                    name: &m.name,
                    device_class: "",
                    entity_category: m.entity_category,
                    device_id: m.device_id,
                },
                Domain::Fan,
                Detail::Fan(FanCaps {
                    speed_count,
                    oscillation: m.supports_oscillation,
                    direction: m.supports_direction,
                }),
            )
        }
        Incoming::ListClimate(m) => {
            let flags = m.feature_flags;
            let two_point = m.supports_two_point_target_temperature
                || flags & (CLIMATE_TWO_POINT | CLIMATE_REQUIRES_TWO_POINT) != 0;
            // Newer firmware: SUPPORTS_TWO_POINT without REQUIRES_TWO_POINT has both kinds.
            let single = !two_point
                || (flags & CLIMATE_TWO_POINT != 0 && flags & CLIMATE_REQUIRES_TWO_POINT == 0);
            let unit = match proto::TemperatureUnit::try_from(m.temperature_unit) {
                Ok(proto::TemperatureUnit::Fahrenheit) => FAHRENHEIT,
                Ok(proto::TemperatureUnit::Kelvin) => KELVIN,
                Ok(proto::TemperatureUnit::Celsius) | Err(_) => Conversion::SAME,
            };
            let caps = ClimateCaps {
                current_temperature: m.supports_current_temperature
                    || flags & CLIMATE_CURRENT_TEMPERATURE != 0,
                single,
                two_point,
                action: m.supports_action || flags & CLIMATE_ACTION != 0,
                current_humidity: m.supports_current_humidity
                    || flags & CLIMATE_CURRENT_HUMIDITY != 0,
                modes: m.supported_modes.clone(),
                unit,
            };
            let modes: Vec<&str> = caps
                .modes
                .iter()
                .filter_map(|&v| proto::ClimateMode::try_from(v).ok())
                .map(climate_mode_name)
                .collect();
            if !modes.is_empty() {
                attrs.push(("modes".into(), modes.join(",")));
            }
            let min = unit.apply(widen(m.visual_min_temperature));
            let max = unit.apply(widen(m.visual_max_temperature));
            let step = widen(m.visual_target_temperature_step) * unit.num / unit.den;
            if min.is_finite() && max.is_finite() && min < max {
                attrs.push(("min".into(), number_text(round_to(min, 4))));
                attrs.push(("max".into(), number_text(round_to(max, 4))));
            }
            if step.is_finite() && step > 0.0 {
                attrs.push(("step".into(), number_text(round_to(step, 4))));
            }
            markers.push(Component::Climate);
            (
                Common {
                    object_id: &m.object_id,
                    key: m.key,
                    name: &m.name,
                    device_class: "",
                    entity_category: m.entity_category,
                    device_id: m.device_id,
                },
                Domain::Climate,
                Detail::Climate(caps),
            )
        }
        Incoming::ListNumber(m) => {
            if !m.unit_of_measurement.is_empty() {
                attrs.push(("unit".into(), m.unit_of_measurement.clone()));
            }
            let (min, max, step) = (widen(m.min_value), widen(m.max_value), widen(m.step));
            for (k, v) in [("min", min), ("max", max), ("step", step)] {
                if v.is_finite() {
                    attrs.push((k.into(), number_text(v)));
                }
            }
            let mode = match proto::NumberMode::try_from(m.mode) {
                Ok(proto::NumberMode::Box) => "box",
                Ok(proto::NumberMode::Slider) => "slider",
                Ok(proto::NumberMode::Auto) | Err(_) => "auto",
            };
            attrs.push(("mode".into(), mode.into()));
            (
                Common {
                    object_id: &m.object_id,
                    key: m.key,
                    name: &m.name,
                    device_class: &m.device_class,
                    entity_category: m.entity_category,
                    device_id: m.device_id,
                },
                Domain::Number,
                Detail::Number(NumberRange {
                    min: m.min_value,
                    max: m.max_value,
                }),
            )
        }
        Incoming::ListSelect(m) => {
            attrs.push(("options".into(), m.options.join(",")));
            (
                Common {
                    object_id: &m.object_id,
                    key: m.key,
                    name: &m.name,
                    device_class: "",
                    entity_category: m.entity_category,
                    device_id: m.device_id,
                },
                Domain::Select,
                Detail::Select(m.options.clone()),
            )
        }
        Incoming::ListButton(m) => {
            markers.push(Component::ButtonPress);
            (
                Common {
                    object_id: &m.object_id,
                    key: m.key,
                    name: &m.name,
                    device_class: &m.device_class,
                    entity_category: m.entity_category,
                    device_id: m.device_id,
                },
                Domain::Button,
                Detail::Button,
            )
        }
        Incoming::ListLock(m) => (
            Common {
                object_id: &m.object_id,
                key: m.key,
                name: &m.name,
                device_class: "",
                entity_category: m.entity_category,
                device_id: m.device_id,
            },
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
        Detail::Light(caps) => {
            w.push("Switch");
            if caps.brightness() {
                w.push("Brightness");
            }
            if caps.rgb() {
                w.push("Color");
            }
            if caps.color_temperature() {
                w.push("ColorTemperature");
            }
            if !caps.effects.is_empty() {
                w.push("Effect");
            }
        }
        Detail::Cover(caps) => {
            w.push("CoverCommand");
            if caps.position {
                w.push("CoverPosition");
            }
            if caps.tilt {
                w.push("CoverTilt");
            }
        }
        Detail::Fan(caps) => {
            w.push("Switch");
            if caps.speed_count > 0 {
                w.push("FanSpeed");
            }
            if caps.oscillation {
                w.push("FanOscillating");
            }
            if caps.direction {
                w.push("FanDirection");
            }
        }
        Detail::Climate(caps) => {
            if !caps.modes.is_empty() {
                w.push("ClimateMode");
            }
            if caps.single {
                w.push("TargetTemperature");
            }
            if caps.two_point {
                w.extend(["TargetTemperatureLow", "TargetTemperatureHigh"]);
            }
        }
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
            let v = map.conversion.apply(widen(m.state));
            if v.is_finite() {
                out.push(map.measure.component(v));
            }
        }
        (Detail::TextSensor, Incoming::TextSensorState(m)) => {
            out.push(Component::Text(m.state.clone()));
        }
        (Detail::Switch, Incoming::SwitchState(m)) => {
            out.push(Component::Switch(m.state));
        }
        (Detail::Light(caps), Incoming::LightState(m)) => {
            out.push(Component::Switch(m.state));
            if caps.brightness()
                && let Some(p) = percent(m.brightness)
            {
                out.push(Component::Brightness(p));
            }
            if caps.rgb() {
                out.push(Component::Color(Color {
                    r: channel(m.red),
                    g: channel(m.green),
                    b: channel(m.blue),
                }));
            }
            if caps.color_temperature() && m.color_temperature.is_finite() {
                let mired = widen(m.color_temperature).round();
                if mired > 0.0 {
                    out.push(Component::ColorTemperature(mired as i64));
                }
            }
            if !caps.effects.is_empty() && !m.effect.is_empty() {
                out.push(Component::Effect(m.effect.clone()));
            }
        }
        (Detail::Cover(caps), Incoming::CoverState(m)) => {
            if caps.position
                && let Some(p) = percent(m.position)
            {
                out.push(Component::CoverPosition(p));
            }
            if caps.tilt
                && let Some(t) = percent(m.tilt)
            {
                out.push(Component::CoverTilt(t));
            }
            let state = match proto::CoverOperation::try_from(m.current_operation) {
                Ok(proto::CoverOperation::IsOpening) => Some(CoverState::Opening),
                Ok(proto::CoverOperation::IsClosing) => Some(CoverState::Closing),
                Ok(proto::CoverOperation::Idle) if m.position > 0.0 => Some(CoverState::Open),
                Ok(proto::CoverOperation::Idle) if m.position.is_finite() => {
                    Some(CoverState::Closed)
                }
                _ => None,
            };
            out.extend(state.map(Component::CoverState));
        }
        (Detail::Fan(caps), Incoming::FanState(m)) => {
            out.push(Component::Switch(m.state));
            if caps.speed_count > 0 {
                let p = f64::from(m.speed_level) / f64::from(caps.speed_count) * 100.0;
                out.push(Component::FanSpeed(round_to(p.clamp(0.0, 100.0), 2)));
            }
            if caps.oscillation {
                out.push(Component::FanOscillating(m.oscillating));
            }
            if caps.direction {
                match proto::FanDirection::try_from(m.direction) {
                    Ok(proto::FanDirection::Forward) => {
                        out.push(Component::FanDirection(IglooFanDirection::Forward))
                    }
                    Ok(proto::FanDirection::Reverse) => {
                        out.push(Component::FanDirection(IglooFanDirection::Reverse))
                    }
                    Err(_) => {}
                }
            }
        }
        (Detail::Climate(caps), Incoming::ClimateState(m)) => {
            let temp = |v: f32| Some(caps.unit.apply(widen(v))).filter(|t| t.is_finite());
            if caps.current_temperature {
                out.extend(temp(m.current_temperature).map(Component::Temperature));
            }
            if caps.single {
                out.extend(temp(m.target_temperature).map(Component::TargetTemperature));
            }
            if caps.two_point {
                out.extend(temp(m.target_temperature_low).map(Component::TargetTemperatureLow));
                out.extend(temp(m.target_temperature_high).map(Component::TargetTemperatureHigh));
            }
            if let Ok(mode) = proto::ClimateMode::try_from(m.mode) {
                out.push(Component::ClimateMode(igloo_climate_mode(mode)));
            }
            if caps.action {
                let action = match proto::ClimateAction::try_from(m.action) {
                    Ok(proto::ClimateAction::Off) => Some(IglooClimateAction::Off),
                    Ok(proto::ClimateAction::Cooling) => Some(IglooClimateAction::Cooling),
                    Ok(proto::ClimateAction::Heating) => Some(IglooClimateAction::Heating),
                    Ok(proto::ClimateAction::Idle) => Some(IglooClimateAction::Idle),
                    Ok(proto::ClimateAction::Drying) => Some(IglooClimateAction::Drying),
                    Ok(proto::ClimateAction::Fan) => Some(IglooClimateAction::Fan),
                    Ok(proto::ClimateAction::Defrosting) | Err(_) => None,
                };
                out.extend(action.map(Component::ClimateAction));
            }
            if caps.current_humidity {
                let h = widen(m.current_humidity);
                if h.is_finite() {
                    out.push(Component::Humidity(h));
                }
            }
        }
        (Detail::Number(_), Incoming::NumberState(m)) => {
            let v = widen(m.state);
            if v.is_finite() {
                out.push(Component::Number(v));
            }
        }
        (Detail::Select(_), Incoming::SelectState(m)) => {
            out.push(Component::Select(m.state.clone()));
        }
        (Detail::Lock { .. }, Incoming::LockState(m)) => {
            let lock = match proto::LockState::try_from(m.state) {
                Ok(proto::LockState::Locked) => Some(Lock::Locked),
                Ok(proto::LockState::Unlocked | proto::LockState::Open) => Some(Lock::Unlocked),
                Ok(proto::LockState::Jammed) => Some(Lock::Jammed),
                Ok(proto::LockState::Locking) => Some(Lock::Locking),
                Ok(proto::LockState::Unlocking | proto::LockState::Opening) => {
                    Some(Lock::Unlocking)
                }
                Ok(proto::LockState::None) | Err(_) => None,
            };
            out.extend(lock.map(Component::Lock));
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
        Detail::Switch => {
            let mut msg = proto::SwitchCommandRequest {
                key,
                device_id,
                ..Default::default()
            };
            for v in values {
                match v {
                    Component::Switch(on) => msg.state = *on,
                    other => return Err(refuse(other, NOT_WRITABLE)),
                }
            }
            encode(&msg)
        }
        Detail::Light(caps) => light_command(caps, key, device_id, &values, &refuse)?,
        Detail::Cover(caps) => {
            let mut msg = proto::CoverCommandRequest {
                key,
                device_id,
                ..Default::default()
            };
            for v in values {
                match v {
                    Component::CoverCommand(CoverCommand::Open) => {
                        msg.has_position = true;
                        msg.position = 1.0;
                    }
                    Component::CoverCommand(CoverCommand::Close) => {
                        msg.has_position = true;
                        msg.position = 0.0;
                    }
                    Component::CoverCommand(CoverCommand::Stop) if caps.stop => msg.stop = true,
                    Component::CoverCommand(CoverCommand::Stop) => {
                        return Err(refuse(v, "the cover cannot be stopped"));
                    }
                    Component::CoverPosition(p) if caps.position => {
                        msg.has_position = true;
                        msg.position = fraction(*p).ok_or_else(|| refuse(v, NOT_FINITE))?;
                    }
                    Component::CoverTilt(t) if caps.tilt => {
                        msg.has_tilt = true;
                        msg.tilt = fraction(*t).ok_or_else(|| refuse(v, NOT_FINITE))?;
                    }
                    other => return Err(refuse(other, NOT_WRITABLE)),
                }
            }
            encode(&msg)
        }
        Detail::Fan(caps) => {
            let mut msg = proto::FanCommandRequest {
                key,
                device_id,
                ..Default::default()
            };
            let mut implied_state = None;
            for v in values {
                match v {
                    Component::Switch(on) => {
                        msg.has_state = true;
                        msg.state = *on;
                    }
                    Component::FanSpeed(p) if caps.speed_count > 0 => {
                        if !p.is_finite() {
                            return Err(refuse(v, NOT_FINITE));
                        }
                        if *p <= 0.0 {
                            implied_state = Some(false);
                        } else {
                            let n = f64::from(caps.speed_count);
                            let level = (p.min(100.0) / 100.0 * n).round().clamp(1.0, n);
                            msg.has_speed_level = true;
                            msg.speed_level = level as i32;
                            implied_state = Some(true);
                        }
                    }
                    Component::FanOscillating(on) if caps.oscillation => {
                        msg.has_oscillating = true;
                        msg.oscillating = *on;
                    }
                    Component::FanDirection(d) if caps.direction => {
                        msg.has_direction = true;
                        msg.direction = match d {
                            IglooFanDirection::Forward => proto::FanDirection::Forward,
                            IglooFanDirection::Reverse => proto::FanDirection::Reverse,
                        } as i32;
                    }
                    other => return Err(refuse(other, NOT_WRITABLE)),
                }
            }
            if let (false, Some(on)) = (msg.has_state, implied_state) {
                msg.has_state = true;
                msg.state = on;
            }
            encode(&msg)
        }
        Detail::Climate(caps) => {
            let mut msg = proto::ClimateCommandRequest {
                key,
                device_id,
                ..Default::default()
            };
            let to_device = |v: &Component, t: f64| {
                let d = caps.unit.invert(t);
                if d.is_finite() {
                    Ok(d as f32)
                } else {
                    Err(refuse(v, NOT_FINITE))
                }
            };
            for v in values {
                match v {
                    Component::ClimateMode(mode) => {
                        let m = esphome_climate_mode(*mode) as i32;
                        if !caps.modes.contains(&m) {
                            return Err(refuse(v, "the device does not list this mode"));
                        }
                        msg.has_mode = true;
                        msg.mode = m;
                    }
                    Component::TargetTemperature(t) if caps.single => {
                        msg.has_target_temperature = true;
                        msg.target_temperature = to_device(v, *t)?;
                    }
                    Component::TargetTemperatureLow(t) if caps.two_point => {
                        msg.has_target_temperature_low = true;
                        msg.target_temperature_low = to_device(v, *t)?;
                    }
                    Component::TargetTemperatureHigh(t) if caps.two_point => {
                        msg.has_target_temperature_high = true;
                        msg.target_temperature_high = to_device(v, *t)?;
                    }
                    other => return Err(refuse(other, NOT_WRITABLE)),
                }
            }
            encode(&msg)
        }
        Detail::Number(range) => {
            let mut msg = proto::NumberCommandRequest {
                key,
                device_id,
                ..Default::default()
            };
            for v in values {
                match v {
                    Component::Number(x) => {
                        if !x.is_finite() {
                            return Err(refuse(v, NOT_FINITE));
                        }
                        // Compared in f32, as the device will.
                        let x32 = *x as f32;
                        let below = range.min.is_finite() && x32 < range.min;
                        let above = range.max.is_finite() && x32 > range.max;
                        if below || above {
                            return Err(refuse(
                                v,
                                &format!(
                                    "{} is outside {}..={}",
                                    number_text(*x),
                                    number_text(widen(range.min)),
                                    number_text(widen(range.max))
                                ),
                            ));
                        }
                        msg.state = x32;
                    }
                    other => return Err(refuse(other, NOT_WRITABLE)),
                }
            }
            encode(&msg)
        }
        Detail::Select(options) => {
            let mut msg = proto::SelectCommandRequest {
                key,
                device_id,
                ..Default::default()
            };
            for v in values {
                match v {
                    Component::Select(s) => {
                        let option = options
                            .iter()
                            .find(|o| *o == s)
                            .or_else(|| options.iter().find(|o| o.eq_ignore_ascii_case(s)))
                            .ok_or_else(|| {
                                refuse(v, &format!("{s:?} is not one of the options"))
                            })?;
                        msg.state = option.clone();
                    }
                    other => return Err(refuse(other, NOT_WRITABLE)),
                }
            }
            encode(&msg)
        }
        Detail::Button => {
            for v in &values {
                if **v != Component::ButtonPress {
                    return Err(refuse(v, NOT_WRITABLE));
                }
            }
            encode(&proto::ButtonCommandRequest { key, device_id })
        }
        Detail::Lock { supports_open } => {
            let mut msg = proto::LockCommandRequest {
                key,
                device_id,
                ..Default::default()
            };
            for v in values {
                let cmd = match v {
                    Component::Lock(Lock::Locked)
                    | Component::LockCommand(IglooLockCommand::Lock) => proto::LockCommand::Lock,
                    Component::Lock(Lock::Unlocked)
                    | Component::LockCommand(IglooLockCommand::Unlock) => {
                        proto::LockCommand::Unlock
                    }
                    Component::Lock(_) => {
                        return Err(refuse(v, "only Locked and Unlocked can be requested"));
                    }
                    Component::LockCommand(IglooLockCommand::Open) if *supports_open => {
                        proto::LockCommand::Open
                    }
                    Component::LockCommand(IglooLockCommand::Open) => {
                        return Err(refuse(v, "the lock cannot open its latch"));
                    }
                    other => return Err(refuse(other, NOT_WRITABLE)),
                };
                msg.command = cmd as i32;
            }
            encode(&msg)
        }
    };
    Ok(vec![out])
}

const NOT_WRITABLE: &str = "the entity has no such writable component";
const NOT_FINITE: &str = "the value is not a finite number";

fn encode<M: ApiMessage>(m: &M) -> Outgoing {
    Outgoing::encode(m)
}

/// Builds the one `LightCommandRequest` for a light change request.
fn light_command(
    caps: &LightCaps,
    key: u32,
    device_id: u32,
    values: &[&Component],
    refuse: &dyn Fn(&Component, &str) -> CommandError,
) -> Result<Outgoing, CommandError> {
    use proto::ColorMode as M;
    let mut msg = proto::LightCommandRequest {
        key,
        device_id,
        ..Default::default()
    };
    let mut rgb = None;
    let mut ct = None;
    for &v in values {
        match v {
            Component::Switch(on) => {
                msg.has_state = true;
                msg.state = *on;
            }
            Component::Brightness(p) if caps.brightness() => {
                msg.has_brightness = true;
                msg.brightness = fraction(*p).ok_or_else(|| refuse(v, NOT_FINITE))?;
            }
            Component::Color(c) if caps.rgb() => {
                msg.has_rgb = true;
                msg.red = f32::from(c.r) / 255.0;
                msg.green = f32::from(c.g) / 255.0;
                msg.blue = f32::from(c.b) / 255.0;
                rgb = Some(v);
            }
            Component::ColorTemperature(mired) if caps.color_temperature() => {
                if *mired <= 0 {
                    return Err(refuse(v, "the colour temperature must be above 0 mired"));
                }
                msg.has_color_temperature = true;
                msg.color_temperature = *mired as f32;
                ct = Some(v);
            }
            Component::Effect(name) if !caps.effects.is_empty() => {
                let effect = caps
                    .effects
                    .iter()
                    .find(|e| *e == name)
                    .or_else(|| caps.effects.iter().find(|e| e.eq_ignore_ascii_case(name)))
                    .ok_or_else(|| refuse(v, &format!("{name:?} is not one of the effects")))?;
                msg.has_effect = true;
                msg.effect = effect.clone();
            }
            other => return Err(refuse(other, NOT_WRITABLE)),
        }
    }
    let mode = match (rgb, ct) {
        (Some(v), Some(_)) => Some(
            caps.pick(&[M::RgbColorTemperature, M::RgbColdWarmWhite])
                .ok_or_else(|| {
                    refuse(
                        v,
                        "the light has no colour mode with both RGB and colour temperature",
                    )
                })?,
        ),
        (Some(_), None) => caps.pick(&[
            M::Rgb,
            M::RgbWhite,
            M::RgbColorTemperature,
            M::RgbColdWarmWhite,
        ]),
        (None, Some(_)) => caps.pick(&[
            M::ColorTemperature,
            M::ColdWarmWhite,
            M::RgbColorTemperature,
            M::RgbColdWarmWhite,
        ]),
        (None, None) => None,
    };
    if let Some(mode) = mode {
        msg.has_color_mode = true;
        msg.color_mode = mode as i32;
    }
    Ok(encode(&msg))
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

/// ESPHome's snake_case name of a colour mode (`rgb_white`), `unknown` for values it does not define.
fn color_mode_name(v: i32) -> &'static str {
    use proto::ColorMode as M;
    match M::try_from(v) {
        Ok(M::Unknown) | Err(_) => "unknown",
        Ok(M::OnOff) => "on_off",
        Ok(M::LegacyBrightness) => "legacy_brightness",
        Ok(M::Brightness) => "brightness",
        Ok(M::White) => "white",
        Ok(M::ColorTemperature) => "color_temperature",
        Ok(M::ColdWarmWhite) => "cold_warm_white",
        Ok(M::Rgb) => "rgb",
        Ok(M::RgbWhite) => "rgb_white",
        Ok(M::RgbColorTemperature) => "rgb_color_temperature",
        Ok(M::RgbColdWarmWhite) => "rgb_cold_warm_white",
    }
}

/// ESPHome's snake_case name of a climate mode (`heat_cool`).
fn climate_mode_name(m: proto::ClimateMode) -> &'static str {
    use proto::ClimateMode as M;
    match m {
        M::Off => "off",
        M::HeatCool => "heat_cool",
        M::Cool => "cool",
        M::Heat => "heat",
        M::FanOnly => "fan_only",
        M::Dry => "dry",
        M::Auto => "auto",
    }
}

fn igloo_climate_mode(m: proto::ClimateMode) -> IglooClimateMode {
    use proto::ClimateMode as M;
    match m {
        M::Off => IglooClimateMode::Off,
        M::HeatCool => IglooClimateMode::HeatCool,
        M::Cool => IglooClimateMode::Cool,
        M::Heat => IglooClimateMode::Heat,
        M::FanOnly => IglooClimateMode::FanOnly,
        M::Dry => IglooClimateMode::Dry,
        M::Auto => IglooClimateMode::Auto,
    }
}

fn esphome_climate_mode(m: IglooClimateMode) -> proto::ClimateMode {
    use proto::ClimateMode as M;
    match m {
        IglooClimateMode::Off => M::Off,
        IglooClimateMode::HeatCool => M::HeatCool,
        IglooClimateMode::Cool => M::Cool,
        IglooClimateMode::Heat => M::Heat,
        IglooClimateMode::FanOnly => M::FanOnly,
        IglooClimateMode::Dry => M::Dry,
        IglooClimateMode::Auto => M::Auto,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::ColorMode as CM;

    fn attr<'a>(info: &'a EntityInfo, key: &str) -> Option<&'a str> {
        info.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn keys(info: &EntityInfo) -> Vec<&str> {
        info.attributes.iter().map(|(k, _)| k.as_str()).collect()
    }

    /// The one message of a command, decoded as `M`.
    fn sent<M: ApiMessage>(out: Result<Vec<Outgoing>, CommandError>) -> M {
        let out = out.expect("command accepted");
        assert_eq!(out.len(), 1, "one message");
        assert_eq!(out[0].msg_type, M::TYPE, "message id");
        M::decode(out[0].payload.as_slice()).expect("decodes")
    }

    fn refused(out: Result<Vec<Outgoing>, CommandError>) -> CommandError {
        out.expect_err("command refused")
    }

    fn info(msg: Incoming) -> EntityInfo {
        entity_info(&msg).expect("a ListEntities message")
    }

    // ---- binary_sensor ------------------------------------------------------

    fn binary(device_class: &str) -> EntityInfo {
        info(Incoming::ListBinarySensor(
            proto::ListEntitiesBinarySensorResponse {
                object_id: "front_door".into(),
                key: 0xDEAD_BEEF,
                name: "Front door".into(),
                device_class: device_class.into(),
                entity_category: proto::EntityCategory::Diagnostic as i32,
                device_id: 7,
                ..Default::default()
            },
        ))
    }

    fn binary_state(on: bool, missing: bool) -> Incoming {
        Incoming::BinarySensorState(proto::BinarySensorStateResponse {
            key: 0xDEAD_BEEF,
            state: on,
            missing_state: missing,
            device_id: 7,
        })
    }

    #[test]
    fn binary_sensor_info() {
        let e = binary("door");
        assert_eq!(e.key, 0xDEAD_BEEF);
        assert_eq!(e.name, "Front door");
        assert_eq!(e.object_id, "front_door");
        assert_eq!(e.domain, Domain::BinarySensor);
        assert_eq!(e.device_id, 7);
        assert!(e.markers.is_empty());
        assert_eq!(
            e.attributes,
            vec![
                ("object_id".to_string(), "front_door".to_string()),
                ("esphome_domain".into(), "binary_sensor".into()),
                ("device_class".into(), "door".into()),
                ("category".into(), "diagnostic".into()),
            ]
        );
    }

    #[test]
    fn binary_sensor_components_by_device_class() {
        type Make = fn(bool) -> Component;
        let cases: &[(&str, Make)] = &[
            ("motion", Component::Motion),
            ("occupancy", Component::Occupancy),
            ("presence", Component::Presence),
            ("moisture", Component::WaterLeak),
            ("smoke", Component::Smoke),
            ("tamper", Component::Tamper),
            ("vibration", Component::Vibration),
            ("battery", Component::BatteryLow),
            ("", Component::Binary),
            ("problem", Component::Binary),
        ];
        for (class, make) in cases {
            let e = binary(class);
            assert_eq!(
                state(&e, &binary_state(true, false)),
                vec![make(true)],
                "{class}"
            );
            assert_eq!(
                state(&e, &binary_state(false, false)),
                vec![make(false)],
                "{class}"
            );
        }
    }

    #[test]
    fn binary_sensor_contact_is_inverted() {
        for class in ["door", "window", "garage_door", "opening"] {
            let e = binary(class);
            // ESPHome true = open; Igloo Contact true = closed.
            assert_eq!(
                state(&e, &binary_state(true, false)),
                vec![Component::Contact(false)]
            );
            assert_eq!(
                state(&e, &binary_state(false, false)),
                vec![Component::Contact(true)]
            );
        }
    }

    #[test]
    fn binary_sensor_missing_state_and_read_only() {
        let e = binary("motion");
        assert!(state(&e, &binary_state(true, true)).is_empty());
        let err = refused(command(&e, &[Component::Motion(true)]));
        assert_eq!(err.component, "Motion");
        assert!(err.reason.contains("read-only"));
    }

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

    // ---- sensor -------------------------------------------------------------

    fn sensor(device_class: &str, unit: &str) -> EntityInfo {
        info(Incoming::ListSensor(proto::ListEntitiesSensorResponse {
            object_id: "s".into(),
            key: 5,
            name: "S".into(),
            unit_of_measurement: unit.into(),
            accuracy_decimals: 1,
            device_class: device_class.into(),
            state_class: proto::SensorStateClass::Measurement as i32,
            ..Default::default()
        }))
    }

    fn reading(v: f32) -> Incoming {
        Incoming::SensorState(proto::SensorStateResponse {
            key: 5,
            state: v,
            ..Default::default()
        })
    }

    #[test]
    fn sensor_info_attributes() {
        let e = sensor("temperature", "°F");
        assert_eq!(e.domain, Domain::Sensor);
        assert_eq!(e.markers, vec![Component::Sensor]);
        assert_eq!(
            keys(&e),
            vec![
                "object_id",
                "esphome_domain",
                "unit",
                "accuracy_decimals",
                "state_class",
                "device_class"
            ]
        );
        // The component's unit, not the device's.
        assert_eq!(attr(&e, "unit"), Some("°C"));
        assert_eq!(attr(&e, "accuracy_decimals"), Some("1"));
        assert_eq!(attr(&e, "state_class"), Some("measurement"));
        assert_eq!(attr(&e, "device_class"), Some("temperature"));
        assert_eq!(attr(&e, "esphome_domain"), Some("sensor"));
        assert_eq!(attr(&e, "writable"), None);
    }

    #[test]
    fn sensor_components_and_conversions() {
        let cases: &[(&str, &str, f32, Component)] = &[
            ("temperature", "°C", 21.3, Component::Temperature(21.3)),
            ("temperature", "°F", 68.0, Component::Temperature(20.0)),
            ("temperature", "K", 293.15, Component::Temperature(20.0)),
            ("humidity", "%", 45.5, Component::Humidity(45.5)),
            ("pressure", "hPa", 1013.2, Component::Pressure(1013.2)),
            ("pressure", "Pa", 101325.0, Component::Pressure(1013.25)),
            ("pressure", "kPa", 101.5, Component::Pressure(1015.0)),
            (
                "atmospheric_pressure",
                "mbar",
                990.0,
                Component::Pressure(990.0),
            ),
            ("illuminance", "lx", 320.0, Component::Illuminance(320.0)),
            ("power", "W", 60.5, Component::Power(60.5)),
            ("power", "kW", 1.5, Component::Power(1500.0)),
            ("energy", "kWh", 12.5, Component::Energy(12.5)),
            ("energy", "Wh", 2995.0, Component::Energy(2.995)),
            ("voltage", "V", 230.1, Component::Voltage(230.1)),
            ("voltage", "mV", 2995.0, Component::Voltage(2.995)),
            ("current", "A", 0.25, Component::Current(0.25)),
            ("current", "mA", 250.0, Component::Current(0.25)),
            ("battery", "%", 87.0, Component::Battery(87.0)),
            ("carbon_dioxide", "ppm", 612.0, Component::Co2(612.0)),
            ("pm25", "µg/m³", 8.0, Component::Pm25(8.0)),
            (
                "volatile_organic_compounds_parts",
                "ppb",
                120.0,
                Component::Voc(120.0),
            ),
            ("frequency", "Hz", 50.02, Component::Frequency(50.02)),
            ("power_factor", "", 0.95, Component::PowerFactor(0.95)),
            ("power_factor", "%", 95.0, Component::PowerFactor(0.95)),
            ("gas", "m³", 1234.5, Component::Gas(1234.5)),
            ("apparent_power", "VA", 70.0, Component::ApparentPower(70.0)),
            (
                "reactive_power",
                "var",
                12.0,
                Component::ReactivePower(12.0),
            ),
        ];
        for (class, unit, v, expected) in cases {
            let e = sensor(class, unit);
            assert_eq!(
                state(&e, &reading(*v)),
                vec![expected.clone()],
                "{class} {unit}"
            );
            assert_eq!(attr(&e, "unit"), expected.info().unit, "{class} {unit}");
        }
    }

    #[test]
    fn sensor_without_a_known_class_or_unit_is_a_number() {
        for (class, unit) in [
            ("signal_strength", "dBm"),
            ("", "dBm"),
            ("temperature", "°R"),
            ("humidity", ""),
        ] {
            let e = sensor(class, unit);
            assert_eq!(
                state(&e, &reading(-61.5)),
                vec![Component::Number(-61.5)],
                "{class} {unit}"
            );
            let expected = (!unit.is_empty()).then_some(unit);
            assert_eq!(attr(&e, "unit"), expected, "{class} {unit}");
        }
    }

    #[test]
    fn sensor_nan_and_missing_give_nothing() {
        let e = sensor("temperature", "°C");
        assert!(state(&e, &reading(f32::NAN)).is_empty());
        let missing = Incoming::SensorState(proto::SensorStateResponse {
            key: 5,
            state: 20.0,
            missing_state: true,
            device_id: 0,
        });
        assert!(state(&e, &missing).is_empty());
        // Another domain's state gives nothing either.
        assert!(state(&e, &binary_state(true, false)).is_empty());
    }

    #[test]
    fn sensor_is_read_only_but_its_marker_is_accepted() {
        let e = sensor("temperature", "°C");
        assert_eq!(
            command(&e, &[Component::Sensor]).expect("marker ignored"),
            vec![]
        );
        let err = refused(command(&e, &[Component::Temperature(20.0)]));
        assert_eq!(err.component, "Temperature");
    }

    // ---- text_sensor --------------------------------------------------------

    #[test]
    fn text_sensor() {
        let e = info(Incoming::ListTextSensor(
            proto::ListEntitiesTextSensorResponse {
                object_id: "ip".into(),
                key: 9,
                name: "IP address".into(),
                entity_category: proto::EntityCategory::Diagnostic as i32,
                ..Default::default()
            },
        ));
        assert_eq!(e.domain, Domain::TextSensor);
        assert_eq!(e.markers, vec![Component::Sensor]);
        assert_eq!(attr(&e, "category"), Some("diagnostic"));
        assert_eq!(attr(&e, "writable"), None);
        let msg = |s: &str, missing| {
            Incoming::TextSensorState(proto::TextSensorStateResponse {
                key: 9,
                state: s.into(),
                missing_state: missing,
                device_id: 0,
            })
        };
        assert_eq!(
            state(&e, &msg("10.0.0.7", false)),
            vec![Component::Text("10.0.0.7".into())]
        );
        assert!(state(&e, &msg("", true)).is_empty());
        refused(command(&e, &[Component::Text("x".into())]));
    }

    // ---- switch -------------------------------------------------------------

    fn switch() -> EntityInfo {
        info(Incoming::ListSwitch(proto::ListEntitiesSwitchResponse {
            object_id: "relay".into(),
            key: 0x8000_0001,
            name: "Relay".into(),
            device_class: "outlet".into(),
            entity_category: proto::EntityCategory::Config as i32,
            device_id: 3,
            ..Default::default()
        }))
    }

    #[test]
    fn switch_info_state_and_command() {
        let e = switch();
        assert!(e.markers.is_empty());
        assert_eq!(
            keys(&e),
            vec![
                "object_id",
                "esphome_domain",
                "device_class",
                "category",
                "writable"
            ]
        );
        assert_eq!(attr(&e, "category"), Some("config"));
        assert_eq!(attr(&e, "writable"), Some("Switch"));
        let st = |on, missing| {
            Incoming::SwitchState(proto::SwitchStateResponse {
                key: 0x8000_0001,
                state: on,
                device_id: 3,
                missing_state: missing,
            })
        };
        assert_eq!(state_key(&st(true, false)), Some(0x8000_0001));
        assert_eq!(state(&e, &st(true, false)), vec![Component::Switch(true)]);
        assert!(state(&e, &st(true, true)).is_empty());
        let m: proto::SwitchCommandRequest = sent(command(&e, &[Component::Switch(true)]));
        assert_eq!(
            m,
            proto::SwitchCommandRequest {
                key: 0x8000_0001,
                state: true,
                device_id: 3
            }
        );
        let m: proto::SwitchCommandRequest = sent(command(&e, &[Component::Switch(false)]));
        assert!(!m.state);
        let err = refused(command(&e, &[Component::Brightness(50.0)]));
        assert_eq!(err.entity, "Relay");
        assert_eq!(err.component, "Brightness");
        assert!(err.to_string().contains("\"Relay\""));
        assert!(err.to_string().contains("Brightness"));
    }

    // ---- light --------------------------------------------------------------

    fn light(modes: &[CM], effects: &[&str]) -> EntityInfo {
        info(Incoming::ListLight(proto::ListEntitiesLightResponse {
            object_id: "lamp".into(),
            key: 42,
            name: "Lamp".into(),
            supported_color_modes: modes.iter().map(|m| *m as i32).collect(),
            min_mireds: 153.0,
            max_mireds: 500.0,
            effects: effects.iter().map(|s| s.to_string()).collect(),
            device_id: 2,
            ..Default::default()
        }))
    }

    fn rgbct() -> EntityInfo {
        light(&[CM::Rgb, CM::ColorTemperature], &["None", "Rainbow"])
    }

    #[test]
    fn light_info() {
        let e = rgbct();
        assert_eq!(e.domain, Domain::Light);
        assert_eq!(e.markers, vec![Component::Light]);
        assert_eq!(
            e.attributes,
            vec![
                ("object_id".to_string(), "lamp".to_string()),
                ("esphome_domain".into(), "light".into()),
                ("color_modes".into(), "rgb,color_temperature".into()),
                ("min_mireds".into(), "153".into()),
                ("max_mireds".into(), "500".into()),
                ("effects".into(), "None,Rainbow".into()),
                (
                    "writable".into(),
                    "Switch,Brightness,Color,ColorTemperature,Effect".into()
                ),
            ]
        );
        let plain = light(&[CM::OnOff], &[]);
        assert_eq!(attr(&plain, "writable"), Some("Switch"));
        assert_eq!(attr(&plain, "color_modes"), Some("on_off"));
        assert_eq!(attr(&plain, "min_mireds"), None);
        assert_eq!(attr(&plain, "effects"), None);
        let dimmer = light(&[CM::Brightness], &[]);
        assert_eq!(attr(&dimmer, "writable"), Some("Switch,Brightness"));
        let cwww = light(&[CM::ColdWarmWhite], &[]);
        assert_eq!(
            attr(&cwww, "writable"),
            Some("Switch,Brightness,ColorTemperature")
        );
        assert_eq!(attr(&cwww, "min_mireds"), Some("153"));
    }

    fn light_state() -> proto::LightStateResponse {
        proto::LightStateResponse {
            key: 42,
            state: true,
            brightness: 0.5,
            color_mode: CM::Rgb as i32,
            red: 1.0,
            green: 0.5,
            blue: 0.0,
            color_temperature: 370.4,
            effect: "Rainbow".into(),
            ..Default::default()
        }
    }

    #[test]
    fn light_state_components() {
        let e = rgbct();
        assert_eq!(
            state(&e, &Incoming::LightState(light_state())),
            vec![
                Component::Switch(true),
                Component::Brightness(50.0),
                Component::Color(Color {
                    r: 255,
                    g: 128,
                    b: 0
                }),
                Component::ColorTemperature(370),
                Component::Effect("Rainbow".into()),
            ]
        );
        // Brightness from a 0-255 slider: rounded to 0.01 %.
        let mut m = light_state();
        m.brightness = 128.0 / 255.0;
        m.color_temperature = 0.0;
        m.effect = String::new();
        assert_eq!(
            state(&e, &Incoming::LightState(m)),
            vec![
                Component::Switch(true),
                Component::Brightness(50.2),
                Component::Color(Color {
                    r: 255,
                    g: 128,
                    b: 0
                }),
            ]
        );
        let plain = light(&[CM::OnOff], &[]);
        assert_eq!(
            state(&plain, &Incoming::LightState(light_state())),
            vec![Component::Switch(true)]
        );
    }

    #[test]
    fn light_command_puts_everything_in_one_message() {
        let e = rgbct();
        let m: proto::LightCommandRequest = sent(command(
            &e,
            &[
                Component::Light,
                Component::Switch(true),
                Component::Brightness(25.0),
                Component::Color(Color {
                    r: 255,
                    g: 0,
                    b: 51,
                }),
                Component::Effect("rainbow".into()),
            ],
        ));
        assert_eq!(
            m,
            proto::LightCommandRequest {
                key: 42,
                device_id: 2,
                has_state: true,
                state: true,
                has_brightness: true,
                brightness: 0.25,
                has_rgb: true,
                red: 1.0,
                green: 0.0,
                blue: 0.2,
                has_color_mode: true,
                color_mode: CM::Rgb as i32,
                has_effect: true,
                effect: "Rainbow".into(),
                ..Default::default()
            }
        );
    }

    #[test]
    fn light_command_color_temperature_and_modes() {
        let m: proto::LightCommandRequest =
            sent(command(&rgbct(), &[Component::ColorTemperature(250)]));
        assert!(m.has_color_temperature);
        assert_eq!(m.color_temperature, 250.0);
        assert!(m.has_color_mode);
        assert_eq!(m.color_mode, CM::ColorTemperature as i32);
        assert!(!m.has_state && !m.has_brightness && !m.has_rgb);

        // Cold/warm white lights take colour temperature in their own mode.
        let cwww = light(&[CM::ColdWarmWhite], &[]);
        let m: proto::LightCommandRequest =
            sent(command(&cwww, &[Component::ColorTemperature(300)]));
        assert_eq!(m.color_mode, CM::ColdWarmWhite as i32);

        // Colour and colour temperature together need a mode with both.
        let both_values = [
            Component::Color(Color { r: 1, g: 2, b: 3 }),
            Component::ColorTemperature(300),
        ];
        let err = refused(command(&rgbct(), &both_values));
        assert_eq!(err.component, "Color");
        let both = light(&[CM::RgbColorTemperature], &[]);
        let m: proto::LightCommandRequest = sent(command(&both, &both_values));
        assert_eq!(m.color_mode, CM::RgbColorTemperature as i32);
        assert!(m.has_rgb && m.has_color_temperature);

        // RGBW: the plainest RGB mode is picked.
        let rgbw = light(&[CM::RgbWhite, CM::White], &[]);
        let m: proto::LightCommandRequest = sent(command(
            &rgbw,
            &[Component::Color(Color { r: 0, g: 255, b: 0 })],
        ));
        assert_eq!(m.color_mode, CM::RgbWhite as i32);
    }

    #[test]
    fn light_command_errors_and_clamping() {
        let e = rgbct();
        let err = refused(command(&e, &[Component::Effect("Strobe".into())]));
        assert_eq!(err.component, "Effect");
        assert!(err.reason.contains("Strobe"));
        let plain = light(&[CM::OnOff], &[]);
        for c in [
            Component::Brightness(50.0),
            Component::Color(Color { r: 0, g: 0, b: 0 }),
            Component::ColorTemperature(300),
            Component::Effect("None".into()),
            Component::CoverPosition(1.0),
        ] {
            let err = refused(command(&plain, &[Component::Switch(true), c.clone()]));
            assert_eq!(err.component, c.name());
            assert_eq!(err.entity, "Lamp");
        }
        refused(command(&e, &[Component::Brightness(f64::NAN)]));
        refused(command(&e, &[Component::ColorTemperature(0)]));
        let m: proto::LightCommandRequest = sent(command(&e, &[Component::Brightness(150.0)]));
        assert_eq!(m.brightness, 1.0);
        let m: proto::LightCommandRequest = sent(command(&e, &[Component::Brightness(-5.0)]));
        assert_eq!(m.brightness, 0.0);
        // Markers alone send nothing; another domain's marker is refused.
        assert_eq!(command(&e, &[Component::Light]).expect("ok"), vec![]);
        assert_eq!(command(&e, &[]).expect("ok"), vec![]);
        refused(command(&e, &[Component::Cover]));
    }

    // ---- cover --------------------------------------------------------------

    fn cover(position: bool, tilt: bool, stop: bool) -> EntityInfo {
        info(Incoming::ListCover(proto::ListEntitiesCoverResponse {
            object_id: "blind".into(),
            key: 77,
            name: "Blind".into(),
            supports_position: position,
            supports_tilt: tilt,
            supports_stop: stop,
            device_class: "shutter".into(),
            ..Default::default()
        }))
    }

    fn cover_state(position: f32, tilt: f32, op: proto::CoverOperation) -> Incoming {
        Incoming::CoverState(proto::CoverStateResponse {
            key: 77,
            position,
            tilt,
            current_operation: op as i32,
            device_id: 0,
        })
    }

    #[test]
    fn cover_info_and_state() {
        use proto::CoverOperation as Op;
        let e = cover(true, true, true);
        assert_eq!(e.markers, vec![Component::Cover]);
        assert_eq!(
            attr(&e, "writable"),
            Some("CoverCommand,CoverPosition,CoverTilt")
        );
        assert_eq!(attr(&e, "device_class"), Some("shutter"));
        assert_eq!(
            state(&e, &cover_state(0.5, 0.25, Op::Idle)),
            vec![
                Component::CoverPosition(50.0),
                Component::CoverTilt(25.0),
                Component::CoverState(CoverState::Open),
            ]
        );
        assert_eq!(
            state(&e, &cover_state(0.0, 0.0, Op::Idle))[2],
            Component::CoverState(CoverState::Closed)
        );
        assert_eq!(
            state(&e, &cover_state(0.3, 0.0, Op::IsOpening))[2],
            Component::CoverState(CoverState::Opening)
        );
        assert_eq!(
            state(&e, &cover_state(0.3, 0.0, Op::IsClosing))[2],
            Component::CoverState(CoverState::Closing)
        );
        // Without position support: only the state, from ESPHome's 1.0/0.0.
        let simple = cover(false, false, false);
        assert_eq!(attr(&simple, "writable"), Some("CoverCommand"));
        assert_eq!(
            state(&simple, &cover_state(1.0, 0.0, Op::Idle)),
            vec![Component::CoverState(CoverState::Open)]
        );
        assert_eq!(
            state(&simple, &cover_state(0.0, 0.0, Op::Idle)),
            vec![Component::CoverState(CoverState::Closed)]
        );
    }

    #[test]
    fn cover_commands() {
        let e = cover(true, true, true);
        let cmd = |c| [Component::CoverCommand(c)];
        let m: proto::CoverCommandRequest = sent(command(&e, &cmd(CoverCommand::Open)));
        assert_eq!(
            m,
            proto::CoverCommandRequest {
                key: 77,
                has_position: true,
                position: 1.0,
                ..Default::default()
            }
        );
        let m: proto::CoverCommandRequest = sent(command(&e, &cmd(CoverCommand::Close)));
        assert!(m.has_position);
        assert_eq!(m.position, 0.0);
        let m: proto::CoverCommandRequest = sent(command(&e, &cmd(CoverCommand::Stop)));
        assert!(m.stop && !m.has_position);
        let m: proto::CoverCommandRequest = sent(command(
            &e,
            &[
                Component::Cover,
                Component::CoverPosition(25.0),
                Component::CoverTilt(75.0),
            ],
        ));
        assert!(m.has_position && m.has_tilt);
        assert_eq!((m.position, m.tilt), (0.25, 0.75));

        let simple = cover(false, false, false);
        let m: proto::CoverCommandRequest = sent(command(&simple, &cmd(CoverCommand::Open)));
        assert_eq!((m.has_position, m.position), (true, 1.0));
        let err = refused(command(&simple, &cmd(CoverCommand::Stop)));
        assert_eq!(err.component, "CoverCommand");
        assert!(err.reason.contains("stopped"));
        refused(command(&simple, &[Component::CoverPosition(50.0)]));
        refused(command(&simple, &[Component::CoverTilt(50.0)]));
        refused(command(&e, &[Component::CoverState(CoverState::Open)]));
    }

    // ---- fan ----------------------------------------------------------------

    fn fan(speed: bool, count: i32) -> EntityInfo {
        info(Incoming::ListFan(proto::ListEntitiesFanResponse {
            object_id: "fan".into(),
            key: 11,
            name: "Fan".into(),
            supports_oscillation: true,
            supports_speed: speed,
            supports_direction: true,
            supported_speed_count: count,
            device_id: 4,
            ..Default::default()
        }))
    }

    #[test]
    fn fan_info_and_state() {
        let e = fan(true, 3);
        assert_eq!(e.markers, vec![Component::Fan]);
        assert_eq!(
            attr(&e, "writable"),
            Some("Switch,FanSpeed,FanOscillating,FanDirection")
        );
        assert_eq!(attr(&e, "speed_count"), Some("3"));
        let st = Incoming::FanState(proto::FanStateResponse {
            key: 11,
            state: true,
            oscillating: true,
            direction: proto::FanDirection::Reverse as i32,
            speed_level: 2,
            ..Default::default()
        });
        assert_eq!(
            state(&e, &st),
            vec![
                Component::Switch(true),
                Component::FanSpeed(66.67),
                Component::FanOscillating(true),
                Component::FanDirection(IglooFanDirection::Reverse),
            ]
        );
        let no_speed = fan(false, 3);
        assert_eq!(
            attr(&no_speed, "writable"),
            Some("Switch,FanOscillating,FanDirection")
        );
        assert_eq!(attr(&no_speed, "speed_count"), None);
        assert_eq!(state(&no_speed, &st).len(), 3);
    }

    #[test]
    fn fan_commands() {
        let e = fan(true, 3);
        let level = |p: f64| -> (bool, bool, i32) {
            let m: proto::FanCommandRequest = sent(command(&e, &[Component::FanSpeed(p)]));
            (m.state, m.has_speed_level, m.speed_level)
        };
        assert_eq!(level(50.0), (true, true, 2));
        assert_eq!(level(100.0), (true, true, 3));
        assert_eq!(level(150.0), (true, true, 3));
        assert_eq!(level(1.0), (true, true, 1));
        assert_eq!(level(0.0), (false, false, 0));
        let m: proto::FanCommandRequest = sent(command(&e, &[Component::FanSpeed(0.0)]));
        assert!(m.has_state && !m.state);
        // An explicit Switch wins over the state implied by the speed.
        let m: proto::FanCommandRequest = sent(command(
            &e,
            &[Component::FanSpeed(50.0), Component::Switch(false)],
        ));
        assert!(m.has_state && !m.state && m.has_speed_level);
        let m: proto::FanCommandRequest = sent(command(
            &e,
            &[
                Component::Fan,
                Component::FanOscillating(true),
                Component::FanDirection(IglooFanDirection::Reverse),
            ],
        ));
        assert_eq!(
            m,
            proto::FanCommandRequest {
                key: 11,
                device_id: 4,
                has_oscillating: true,
                oscillating: true,
                has_direction: true,
                direction: proto::FanDirection::Reverse as i32,
                ..Default::default()
            }
        );
        refused(command(&fan(false, 0), &[Component::FanSpeed(50.0)]));
        refused(command(&e, &[Component::FanSpeed(f64::INFINITY)]));
    }

    // ---- climate ------------------------------------------------------------

    fn climate(m: proto::ListEntitiesClimateResponse) -> EntityInfo {
        info(Incoming::ListClimate(proto::ListEntitiesClimateResponse {
            object_id: "thermostat".into(),
            key: 99,
            name: "Thermostat".into(),
            ..m
        }))
    }

    fn thermostat() -> EntityInfo {
        use proto::ClimateMode as M;
        climate(proto::ListEntitiesClimateResponse {
            supports_current_temperature: true,
            supports_action: true,
            supports_current_humidity: true,
            supported_modes: vec![M::Off as i32, M::Heat as i32, M::Cool as i32],
            visual_min_temperature: 7.0,
            visual_max_temperature: 35.0,
            visual_target_temperature_step: 0.5,
            ..Default::default()
        })
    }

    fn climate_state() -> proto::ClimateStateResponse {
        proto::ClimateStateResponse {
            key: 99,
            mode: proto::ClimateMode::Heat as i32,
            current_temperature: 19.6,
            target_temperature: 21.5,
            target_temperature_low: 18.0,
            target_temperature_high: 24.0,
            action: proto::ClimateAction::Heating as i32,
            current_humidity: 45.0,
            ..Default::default()
        }
    }

    #[test]
    fn climate_info_and_state() {
        let e = thermostat();
        assert_eq!(e.markers, vec![Component::Climate]);
        assert_eq!(attr(&e, "modes"), Some("off,heat,cool"));
        assert_eq!(attr(&e, "min"), Some("7"));
        assert_eq!(attr(&e, "max"), Some("35"));
        assert_eq!(attr(&e, "step"), Some("0.5"));
        assert_eq!(attr(&e, "writable"), Some("ClimateMode,TargetTemperature"));
        assert_eq!(
            state(&e, &Incoming::ClimateState(climate_state())),
            vec![
                Component::Temperature(19.6),
                Component::TargetTemperature(21.5),
                Component::ClimateMode(IglooClimateMode::Heat),
                Component::ClimateAction(IglooClimateAction::Heating),
                Component::Humidity(45.0),
            ]
        );
        let mut s = climate_state();
        s.action = proto::ClimateAction::Defrosting as i32;
        s.current_temperature = f32::NAN;
        assert_eq!(
            state(&e, &Incoming::ClimateState(s)),
            vec![
                Component::TargetTemperature(21.5),
                Component::ClimateMode(IglooClimateMode::Heat),
                Component::Humidity(45.0),
            ]
        );
        let mut s = climate_state();
        s.missing_state = true;
        assert!(state(&e, &Incoming::ClimateState(s)).is_empty());
    }

    #[test]
    fn climate_modes_map_by_name() {
        use proto::ClimateMode as M;
        let all = [
            (M::Off, IglooClimateMode::Off),
            (M::HeatCool, IglooClimateMode::HeatCool),
            (M::Cool, IglooClimateMode::Cool),
            (M::Heat, IglooClimateMode::Heat),
            (M::FanOnly, IglooClimateMode::FanOnly),
            (M::Dry, IglooClimateMode::Dry),
            (M::Auto, IglooClimateMode::Auto),
        ];
        let e = climate(proto::ListEntitiesClimateResponse {
            supported_modes: all.iter().map(|(m, _)| *m as i32).collect(),
            ..Default::default()
        });
        assert_eq!(
            attr(&e, "modes"),
            Some("off,heat_cool,cool,heat,fan_only,dry,auto")
        );
        for (esp, igloo) in all {
            let s = proto::ClimateStateResponse {
                key: 99,
                mode: esp as i32,
                ..Default::default()
            };
            let got = state(&e, &Incoming::ClimateState(s));
            assert!(got.contains(&Component::ClimateMode(igloo)), "{got:?}");
            let m: proto::ClimateCommandRequest =
                sent(command(&e, &[Component::ClimateMode(igloo)]));
            assert!(m.has_mode);
            assert_eq!(m.mode, esp as i32);
        }
    }

    #[test]
    fn climate_actions_map_by_name() {
        use proto::ClimateAction as A;
        let e = thermostat();
        for (esp, igloo) in [
            (A::Off, IglooClimateAction::Off),
            (A::Cooling, IglooClimateAction::Cooling),
            (A::Heating, IglooClimateAction::Heating),
            (A::Idle, IglooClimateAction::Idle),
            (A::Drying, IglooClimateAction::Drying),
            (A::Fan, IglooClimateAction::Fan),
        ] {
            let mut s = climate_state();
            s.action = esp as i32;
            let got = state(&e, &Incoming::ClimateState(s));
            assert!(got.contains(&Component::ClimateAction(igloo)), "{got:?}");
        }
    }

    #[test]
    fn climate_commands() {
        let e = thermostat();
        let m: proto::ClimateCommandRequest = sent(command(
            &e,
            &[
                Component::Climate,
                Component::ClimateMode(IglooClimateMode::Heat),
                Component::TargetTemperature(21.5),
            ],
        ));
        assert_eq!(
            m,
            proto::ClimateCommandRequest {
                key: 99,
                has_mode: true,
                mode: proto::ClimateMode::Heat as i32,
                has_target_temperature: true,
                target_temperature: 21.5,
                ..Default::default()
            }
        );
        let err = refused(command(
            &e,
            &[Component::ClimateMode(IglooClimateMode::Dry)],
        ));
        assert_eq!(err.component, "ClimateMode");
        assert!(err.reason.contains("mode"));
        refused(command(&e, &[Component::TargetTemperatureLow(18.0)]));
        refused(command(&e, &[Component::TargetTemperature(f64::NAN)]));
        refused(command(
            &e,
            &[Component::ClimateAction(IglooClimateAction::Idle)],
        ));
    }

    #[test]
    fn climate_two_point() {
        // Old API: the boolean means two set points only.
        let e = climate(proto::ListEntitiesClimateResponse {
            supports_two_point_target_temperature: true,
            supported_modes: vec![proto::ClimateMode::HeatCool as i32],
            ..Default::default()
        });
        assert_eq!(
            attr(&e, "writable"),
            Some("ClimateMode,TargetTemperatureLow,TargetTemperatureHigh")
        );
        let s = state(&e, &Incoming::ClimateState(climate_state()));
        assert_eq!(
            s,
            vec![
                Component::TargetTemperatureLow(18.0),
                Component::TargetTemperatureHigh(24.0),
                Component::ClimateMode(IglooClimateMode::Heat),
            ]
        );
        let m: proto::ClimateCommandRequest = sent(command(
            &e,
            &[
                Component::TargetTemperatureLow(19.0),
                Component::TargetTemperatureHigh(23.5),
            ],
        ));
        assert!(m.has_target_temperature_low && m.has_target_temperature_high);
        assert!(!m.has_target_temperature);
        assert_eq!(
            (m.target_temperature_low, m.target_temperature_high),
            (19.0, 23.5)
        );
        refused(command(&e, &[Component::TargetTemperature(21.0)]));

        // Newer firmware: feature flags; SUPPORTS_TWO_POINT alone allows both kinds.
        let both = climate(proto::ListEntitiesClimateResponse {
            feature_flags: CLIMATE_CURRENT_TEMPERATURE | CLIMATE_TWO_POINT | CLIMATE_ACTION,
            ..Default::default()
        });
        assert_eq!(
            attr(&both, "writable"),
            Some("TargetTemperature,TargetTemperatureLow,TargetTemperatureHigh")
        );
        let s = state(&both, &Incoming::ClimateState(climate_state()));
        assert_eq!(s.len(), 6, "{s:?}");
        let required = climate(proto::ListEntitiesClimateResponse {
            feature_flags: CLIMATE_REQUIRES_TWO_POINT,
            ..Default::default()
        });
        assert_eq!(
            attr(&required, "writable"),
            Some("TargetTemperatureLow,TargetTemperatureHigh")
        );
    }

    #[test]
    fn climate_fahrenheit_is_converted_both_ways() {
        let e = climate(proto::ListEntitiesClimateResponse {
            supports_current_temperature: true,
            temperature_unit: proto::TemperatureUnit::Fahrenheit as i32,
            visual_min_temperature: 50.0,
            visual_max_temperature: 86.0,
            visual_target_temperature_step: 1.0,
            ..Default::default()
        });
        assert_eq!(attr(&e, "min"), Some("10"));
        assert_eq!(attr(&e, "max"), Some("30"));
        assert_eq!(attr(&e, "step"), Some("0.5556"));
        let s = proto::ClimateStateResponse {
            key: 99,
            current_temperature: 68.0,
            target_temperature: 71.6,
            ..Default::default()
        };
        let got = state(&e, &Incoming::ClimateState(s));
        assert_eq!(got[0], Component::Temperature(20.0));
        let Component::TargetTemperature(t) = got[1] else {
            panic!("{got:?}")
        };
        assert!((t - 22.0).abs() < 1e-9, "{t}");
        let m: proto::ClimateCommandRequest =
            sent(command(&e, &[Component::TargetTemperature(20.0)]));
        assert_eq!(m.target_temperature, 68.0);
    }

    // ---- number -------------------------------------------------------------

    fn number() -> EntityInfo {
        info(Incoming::ListNumber(proto::ListEntitiesNumberResponse {
            object_id: "delay".into(),
            key: 123,
            name: "Delay".into(),
            min_value: 0.5,
            max_value: 60.0,
            step: 0.5,
            unit_of_measurement: "s".into(),
            mode: proto::NumberMode::Slider as i32,
            entity_category: proto::EntityCategory::Config as i32,
            device_id: 1,
            ..Default::default()
        }))
    }

    #[test]
    fn number_info_state_command() {
        let e = number();
        assert!(e.markers.is_empty());
        assert_eq!(
            e.attributes,
            vec![
                ("object_id".to_string(), "delay".to_string()),
                ("esphome_domain".into(), "number".into()),
                ("unit".into(), "s".into()),
                ("min".into(), "0.5".into()),
                ("max".into(), "60".into()),
                ("step".into(), "0.5".into()),
                ("mode".into(), "slider".into()),
                ("category".into(), "config".into()),
                ("writable".into(), "Number".into()),
            ]
        );
        let st = |v: f32, missing| {
            Incoming::NumberState(proto::NumberStateResponse {
                key: 123,
                state: v,
                missing_state: missing,
                device_id: 1,
            })
        };
        assert_eq!(state(&e, &st(12.5, false)), vec![Component::Number(12.5)]);
        assert!(state(&e, &st(12.5, true)).is_empty());
        assert!(state(&e, &st(f32::NAN, false)).is_empty());
        let m: proto::NumberCommandRequest = sent(command(&e, &[Component::Number(30.0)]));
        assert_eq!(
            m,
            proto::NumberCommandRequest {
                key: 123,
                state: 30.0,
                device_id: 1
            }
        );
        let _: proto::NumberCommandRequest = sent(command(&e, &[Component::Number(0.5)]));
        let _: proto::NumberCommandRequest = sent(command(&e, &[Component::Number(60.0)]));
        let err = refused(command(&e, &[Component::Number(61.0)]));
        assert_eq!(err.component, "Number");
        assert!(err.reason.contains("61"), "{err}");
        refused(command(&e, &[Component::Number(0.0)]));
        refused(command(&e, &[Component::Number(f64::NAN)]));
        // Bounds that are not exact in binary still accept themselves.
        let tenths = info(Incoming::ListNumber(proto::ListEntitiesNumberResponse {
            min_value: 0.1,
            max_value: 0.3,
            ..Default::default()
        }));
        for x in [0.1, 0.2, 0.3] {
            let m: proto::NumberCommandRequest = sent(command(&tenths, &[Component::Number(x)]));
            assert_eq!(m.state, x as f32);
        }
        assert_eq!(attr(&tenths, "max"), Some("0.3"));
        refused(command(&tenths, &[Component::Number(0.31)]));
        refused(command(&e, &[Component::Select("1".into())]));
    }

    // ---- select -------------------------------------------------------------

    fn select() -> EntityInfo {
        info(Incoming::ListSelect(proto::ListEntitiesSelectResponse {
            object_id: "mode".into(),
            key: 55,
            name: "Mode".into(),
            options: vec!["Eco".into(), "Comfort".into(), "Boost".into()],
            ..Default::default()
        }))
    }

    #[test]
    fn select_info_state_command() {
        let e = select();
        assert_eq!(attr(&e, "options"), Some("Eco,Comfort,Boost"));
        assert_eq!(attr(&e, "writable"), Some("Select"));
        let st = Incoming::SelectState(proto::SelectStateResponse {
            key: 55,
            state: "Comfort".into(),
            ..Default::default()
        });
        assert_eq!(state(&e, &st), vec![Component::Select("Comfort".into())]);
        let m: proto::SelectCommandRequest =
            sent(command(&e, &[Component::Select("Boost".into())]));
        assert_eq!(
            m,
            proto::SelectCommandRequest {
                key: 55,
                state: "Boost".into(),
                device_id: 0
            }
        );
        // Sent as the device spells it.
        let m: proto::SelectCommandRequest = sent(command(&e, &[Component::Select("eco".into())]));
        assert_eq!(m.state, "Eco");
        let err = refused(command(&e, &[Component::Select("Turbo".into())]));
        assert_eq!(err.component, "Select");
        assert!(err.reason.contains("Turbo"));
    }

    // ---- button -------------------------------------------------------------

    #[test]
    fn button_press() {
        let e = info(Incoming::ListButton(proto::ListEntitiesButtonResponse {
            object_id: "restart".into(),
            key: 8,
            name: "Restart".into(),
            device_class: "restart".into(),
            entity_category: proto::EntityCategory::Config as i32,
            device_id: 6,
            ..Default::default()
        }));
        assert_eq!(e.domain, Domain::Button);
        assert_eq!(e.markers, vec![Component::ButtonPress]);
        assert_eq!(attr(&e, "writable"), Some("ButtonPress"));
        assert_eq!(attr(&e, "device_class"), Some("restart"));
        let m: proto::ButtonCommandRequest = sent(command(&e, &[Component::ButtonPress]));
        assert_eq!(
            m,
            proto::ButtonCommandRequest {
                key: 8,
                device_id: 6
            }
        );
        refused(command(&e, &[Component::Switch(true)]));
        assert_eq!(command(&e, &[]).expect("nothing"), vec![]);
    }

    // ---- lock ---------------------------------------------------------------

    fn lock(supports_open: bool) -> EntityInfo {
        info(Incoming::ListLock(proto::ListEntitiesLockResponse {
            object_id: "door_lock".into(),
            key: 31,
            name: "Door lock".into(),
            supports_open,
            ..Default::default()
        }))
    }

    #[test]
    fn lock_states() {
        use proto::LockState as S;
        let e = lock(false);
        assert!(e.markers.is_empty());
        assert_eq!(attr(&e, "writable"), Some("Lock,LockCommand"));
        for (esp, igloo) in [
            (S::Locked, Some(Lock::Locked)),
            (S::Unlocked, Some(Lock::Unlocked)),
            (S::Jammed, Some(Lock::Jammed)),
            (S::Locking, Some(Lock::Locking)),
            (S::Unlocking, Some(Lock::Unlocking)),
            (S::Open, Some(Lock::Unlocked)),
            (S::Opening, Some(Lock::Unlocking)),
            (S::None, None),
        ] {
            let st = Incoming::LockState(proto::LockStateResponse {
                key: 31,
                state: esp as i32,
                device_id: 0,
            });
            assert_eq!(state_key(&st), Some(31));
            let expected: Vec<Component> = igloo.map(Component::Lock).into_iter().collect();
            assert_eq!(state(&e, &st), expected, "{esp:?}");
        }
    }

    #[test]
    fn lock_commands() {
        use proto::LockCommand as C;
        let e = lock(true);
        for (value, cmd) in [
            (Component::Lock(Lock::Locked), C::Lock),
            (Component::Lock(Lock::Unlocked), C::Unlock),
            (Component::LockCommand(IglooLockCommand::Lock), C::Lock),
            (Component::LockCommand(IglooLockCommand::Unlock), C::Unlock),
            (Component::LockCommand(IglooLockCommand::Open), C::Open),
        ] {
            let m: proto::LockCommandRequest = sent(command(&e, &[value]));
            assert_eq!(
                m,
                proto::LockCommandRequest {
                    key: 31,
                    command: cmd as i32,
                    ..Default::default()
                }
            );
        }
        let open = [Component::LockCommand(IglooLockCommand::Open)];
        let err = refused(command(&lock(false), &open));
        assert_eq!(err.component, "LockCommand");
        refused(command(&e, &[Component::Lock(Lock::Jammed)]));
        refused(command(&e, &[Component::Switch(true)]));
    }

    // ---- across domains -----------------------------------------------------

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
                "ClimateMode" => Component::ClimateMode(IglooClimateMode::Off),
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
            thermostat(),
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
