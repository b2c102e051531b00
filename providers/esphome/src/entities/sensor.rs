//! `sensor`, `binary_sensor` and `text_sensor`: the components binary
//! sensors report, the sensor device classes with their units and
//! conversions ([`SENSOR_CLASSES`]), and the numeric sensors' attributes and
//! states. Text sensors need nothing more than the dispatch in the parent
//! module.

use igloo_provider::Attributes;
use igloo_provider::protocol::Component;

use super::widen;
use crate::api::proto;

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
    pub(super) fn from_device_class(class: &str) -> BinaryKind {
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

    pub(super) fn component(self, on: bool) -> Component {
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

pub(super) const FAHRENHEIT: Conversion = Conversion {
    offset: -32.0,
    num: 5.0,
    den: 9.0,
};
pub(super) const KELVIN: Conversion = Conversion {
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

/// The attributes (`unit`, `accuracy_decimals`, `state_class`) and the
/// mapping of a `ListEntitiesSensorResponse`.
pub(super) fn sensor_info(
    m: &proto::ListEntitiesSensorResponse,
    attrs: &mut Attributes,
) -> SensorMap {
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
    SensorMap {
        measure,
        conversion,
    }
}

/// The component of a `SensorStateResponse`; none for a NaN reading.
pub(super) fn sensor_components(
    map: &SensorMap,
    m: &proto::SensorStateResponse,
    out: &mut Vec<Component>,
) {
    let v = map.conversion.apply(widen(m.state));
    if v.is_finite() {
        out.push(map.measure.component(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::proto::Incoming;
    use crate::entities::test_support::*;
    use crate::entities::{Domain, command, state};

    // ---- binary_sensor ------------------------------------------------------

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

    // ---- sensor -------------------------------------------------------------

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
}
