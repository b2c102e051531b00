//! Home Assistant device classes and units → Igloo components.
//!
//! Sensor device classes (Home Assistant's sensor docs) map to the registry's
//! component of the same quantity when the config's `unit_of_measurement`
//! converts to the component's unit ([`Linear`]); otherwise, and for classes
//! without a component, the value is a generic `Number` with the entity
//! attribute `unit`. Binary sensor classes map to the registry's booleans;
//! `door`/`window`/`garage_door`/`opening` become `Contact`, whose `true`
//! means closed (Home Assistant's `on` means open), so they are inverted.

use igloo_provider::Component;

/// `component value = device value × scale + offset`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Linear {
    /// Multiplier.
    pub scale: f64,
    /// Added after scaling.
    pub offset: f64,
}

impl Linear {
    /// No conversion.
    pub const IDENTITY: Linear = Linear {
        scale: 1.0,
        offset: 0.0,
    };

    const fn times(scale: f64) -> Linear {
        Linear { scale, offset: 0.0 }
    }

    /// Device value → component value.
    pub fn apply(&self, v: f64) -> f64 {
        v * self.scale + self.offset
    }

    /// Component value → device value.
    pub fn invert(&self, v: f64) -> f64 {
        (v - self.offset) / self.scale
    }
}

/// Fahrenheit → Celsius.
pub const FAHRENHEIT: Linear = Linear {
    scale: 5.0 / 9.0,
    offset: -160.0 / 9.0,
};

/// The component for a sensor `device_class`, without checking the unit.
pub fn sensor_component(device_class: &str) -> Option<Component> {
    Some(match device_class {
        "temperature" => Component::Temperature(0.0),
        "humidity" => Component::Humidity(0.0),
        "pressure" | "atmospheric_pressure" => Component::Pressure(0.0),
        "illuminance" => Component::Illuminance(0.0),
        "power" => Component::Power(0.0),
        "energy" => Component::Energy(0.0),
        "voltage" => Component::Voltage(0.0),
        "current" => Component::Current(0.0),
        "battery" => Component::Battery(0.0),
        "carbon_dioxide" => Component::Co2(0.0),
        "pm25" => Component::Pm25(0.0),
        "volatile_organic_compounds_parts" => Component::Voc(0.0),
        "frequency" => Component::Frequency(0.0),
        "power_factor" => Component::PowerFactor(0.0),
        "moisture" => Component::SoilMoisture(0.0),
        "gas" => Component::Gas(0.0),
        "apparent_power" => Component::ApparentPower(0.0),
        "reactive_power" => Component::ReactivePower(0.0),
        _ => return None,
    })
}

/// How a value in `from` (the config's unit; `None` = not given) converts to
/// the component's unit `to` (`None` = unitless), or `None` when it does not.
pub fn convert(to: Option<&str>, from: Option<&str>) -> Option<Linear> {
    let Some(from) = from.map(str::trim).filter(|u| !u.is_empty()) else {
        return Some(Linear::IDENTITY);
    };
    let to = to.unwrap_or("");
    if from == to {
        return Some(Linear::IDENTITY);
    }
    Some(match (to, from) {
        ("°C", "°F") | ("°C", "F") => FAHRENHEIT,
        ("°C", "C") => Linear::IDENTITY,
        ("°C", "K") => Linear {
            scale: 1.0,
            offset: -273.15,
        },
        ("V", "mV") | ("A", "mA") | ("kWh", "Wh") | ("W", "mW") => Linear::times(1e-3),
        ("V", "kV") | ("W", "kW") | ("kWh", "MWh") => Linear::times(1e3),
        ("kWh", "MJ") => Linear::times(1.0 / 3.6),
        ("hPa", "Pa") => Linear::times(1e-2),
        ("hPa", "kPa") => Linear::times(10.0),
        ("hPa", "mbar") | ("lx", "lux") => Linear::IDENTITY,
        ("hPa", "bar") => Linear::times(1e3),
        ("hPa", "inHg") => Linear::times(33.863_886),
        ("hPa", "psi") => Linear::times(68.947_573),
        ("hPa", "mmHg") => Linear::times(1.333_224),
        ("Hz", "kHz") => Linear::times(1e3),
        ("VA", "kVA") | ("var", "kvar") => Linear::times(1e3),
        ("m³", "L") => Linear::times(1e-3),
        ("m³", "ft³") => Linear::times(0.028_316_846_6),
        // Home Assistant's power factor may be in %; the registry's is -1..1.
        ("", "%") => Linear::times(1e-2),
        _ => return None,
    })
}

/// The component for a binary sensor `device_class` and whether HA's `on`
/// means the component's `false` (contact sensors).
pub fn binary_component(device_class: Option<&str>) -> (Component, bool) {
    match device_class.unwrap_or("") {
        "door" | "window" | "garage_door" | "opening" => (Component::Contact(false), true),
        "motion" => (Component::Motion(false), false),
        "occupancy" => (Component::Occupancy(false), false),
        "presence" => (Component::Presence(false), false),
        "moisture" => (Component::WaterLeak(false), false),
        "smoke" => (Component::Smoke(false), false),
        "tamper" => (Component::Tamper(false), false),
        "battery" => (Component::BatteryLow(false), false),
        "vibration" => (Component::Vibration(false), false),
        _ => (Component::Binary(false), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_convert_to_the_components_unit() {
        let c = |to, from| convert(Some(to), Some(from)).map(|l| l.apply(1000.0));
        assert_eq!(c("V", "mV"), Some(1.0));
        assert_eq!(c("W", "kW"), Some(1e6));
        assert_eq!(c("kWh", "Wh"), Some(1.0));
        assert_eq!(c("hPa", "Pa"), Some(10.0));
        assert_eq!(c("°C", "°C"), Some(1000.0));
        assert_eq!(c("°C", "kg"), None);
        let f = convert(Some("°C"), Some("°F")).unwrap_or(Linear::IDENTITY);
        assert!((f.apply(212.0) - 100.0).abs() < 1e-9);
        assert!((f.invert(20.0) - 68.0).abs() < 1e-9);
        assert_eq!(convert(Some("°C"), None), Some(Linear::IDENTITY));
        let pf = convert(None, Some("%"))
            .map(|l| l.apply(95.0))
            .unwrap_or(0.0);
        assert!((pf - 0.95).abs() < 1e-12, "{pf}");
    }

    #[test]
    fn device_classes() {
        assert_eq!(
            sensor_component("temperature").map(|c| c.name()),
            Some("Temperature")
        );
        assert_eq!(sensor_component("signal_strength"), None);
        assert_eq!(
            binary_component(Some("door")),
            (Component::Contact(false), true)
        );
        assert_eq!(binary_component(Some("motion")).0.name(), "Motion");
        assert_eq!(binary_component(None).0.name(), "Binary");
    }
}
