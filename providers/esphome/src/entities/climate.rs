//! `climate`: set points (single or two-point), modes, actions, current
//! temperature and humidity, converted from and to the device's temperature
//! unit, fan, swing and preset modes by name (Home Assistant's names for
//! ESPHome's enums, plus the device's custom fan modes and presets), and
//! `ClimateCommandRequest`.

use igloo_provider::Attributes;
use igloo_provider::protocol::component::{
    ClimateAction as IglooClimateAction, ClimateMode as IglooClimateMode,
};
use igloo_provider::protocol::{Component, find_name};

use super::sensor::{FAHRENHEIT, KELVIN};
use super::{
    CommandError, Conversion, NOT_FINITE, NOT_WRITABLE, encode, number_text, round_to, widen,
};
use crate::api::proto::{self, Outgoing};

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
    /// Supported [`proto::ClimateFanMode`] values.
    pub(crate) fan_modes: Vec<i32>,
    /// The device's own fan modes, by name.
    pub(crate) custom_fan_modes: Vec<String>,
    /// Supported [`proto::ClimateSwingMode`] values.
    pub(crate) swing_modes: Vec<i32>,
    /// Supported [`proto::ClimatePreset`] values.
    pub(crate) presets: Vec<i32>,
    /// The device's own presets, by name.
    pub(crate) custom_presets: Vec<String>,
    /// Device unit → °C.
    pub(crate) unit: Conversion,
}

impl ClimateCaps {
    /// The fan modes by name: ESPHome's listed ones, then the custom ones.
    fn fan_mode_names(&self) -> Vec<String> {
        named(&self.fan_modes, fan_mode_name, &self.custom_fan_modes)
    }

    fn swing_mode_names(&self) -> Vec<String> {
        named(&self.swing_modes, swing_mode_name, &[])
    }

    fn preset_names(&self) -> Vec<String> {
        named(&self.presets, preset_name, &self.custom_presets)
    }
}

/// Names of the enum values `listed` (unknown values skipped), then `custom`.
fn named<E: TryFrom<i32>>(
    listed: &[i32],
    name: fn(E) -> &'static str,
    custom: &[String],
) -> Vec<String> {
    listed
        .iter()
        .filter_map(|&v| E::try_from(v).ok())
        .map(|e| name(e).to_string())
        .chain(custom.iter().filter(|c| !c.is_empty()).cloned())
        .collect()
}

// Feature bits of `ListEntitiesClimateResponse::feature_flags` (aioesphomeapi's ClimateFeature).
const CLIMATE_CURRENT_TEMPERATURE: u32 = 1 << 0;
const CLIMATE_TWO_POINT: u32 = 1 << 1;
const CLIMATE_REQUIRES_TWO_POINT: u32 = 1 << 2;
const CLIMATE_CURRENT_HUMIDITY: u32 = 1 << 3;
const CLIMATE_ACTION: u32 = 1 << 5;

/// The attributes (`modes`, `min`/`max`/`step`) and the capabilities of a
/// `ListEntitiesClimateResponse`.
pub(super) fn climate_info(
    m: &proto::ListEntitiesClimateResponse,
    attrs: &mut Attributes,
) -> ClimateCaps {
    let flags = m.feature_flags;
    let two_point = m.supports_two_point_target_temperature
        || flags & (CLIMATE_TWO_POINT | CLIMATE_REQUIRES_TWO_POINT) != 0;
    // Newer firmware: SUPPORTS_TWO_POINT without REQUIRES_TWO_POINT has both kinds.
    let single =
        !two_point || (flags & CLIMATE_TWO_POINT != 0 && flags & CLIMATE_REQUIRES_TWO_POINT == 0);
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
        current_humidity: m.supports_current_humidity || flags & CLIMATE_CURRENT_HUMIDITY != 0,
        modes: m.supported_modes.clone(),
        fan_modes: m.supported_fan_modes.clone(),
        custom_fan_modes: m.supported_custom_fan_modes.clone(),
        swing_modes: m.supported_swing_modes.clone(),
        presets: m.supported_presets.clone(),
        custom_presets: m.supported_custom_presets.clone(),
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
    for (key, names) in [
        ("fan_modes", caps.fan_mode_names()),
        ("swing_modes", caps.swing_mode_names()),
        ("preset_modes", caps.preset_names()),
    ] {
        if !names.is_empty() {
            attrs.push((key.into(), names.join(",")));
        }
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
    caps
}

/// The components [`climate_command`] accepts.
pub(super) fn climate_writable(caps: &ClimateCaps, w: &mut Vec<&'static str>) {
    if !caps.modes.is_empty() {
        w.push("ClimateMode");
    }
    if caps.single {
        w.push("TargetTemperature");
    }
    if caps.two_point {
        w.extend(["TargetTemperatureLow", "TargetTemperatureHigh"]);
    }
    if !caps.fan_mode_names().is_empty() {
        w.push("ClimateFanMode");
    }
    if !caps.swing_mode_names().is_empty() {
        w.push("ClimateSwingMode");
    }
    if !caps.preset_names().is_empty() {
        w.push("ClimatePreset");
    }
}

/// The components of a `ClimateStateResponse`.
pub(super) fn climate_components(
    caps: &ClimateCaps,
    m: &proto::ClimateStateResponse,
    out: &mut Vec<Component>,
) {
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
    // A custom name, when set, is the active one (ESPHome sends either).
    // Checked on the lists, not their names: this runs for every state.
    if !(caps.fan_modes.is_empty() && caps.custom_fan_modes.is_empty()) {
        let custom = Some(m.custom_fan_mode.clone()).filter(|c| !c.is_empty());
        let name = custom.or_else(|| {
            proto::ClimateFanMode::try_from(m.fan_mode)
                .ok()
                .map(|f| fan_mode_name(f).to_string())
        });
        out.extend(name.map(Component::ClimateFanMode));
    }
    if !caps.swing_modes.is_empty()
        && let Ok(s) = proto::ClimateSwingMode::try_from(m.swing_mode)
    {
        out.push(Component::ClimateSwingMode(swing_mode_name(s).into()));
    }
    if !(caps.presets.is_empty() && caps.custom_presets.is_empty()) {
        let custom = Some(m.custom_preset.clone()).filter(|c| !c.is_empty());
        let name = custom.or_else(|| {
            proto::ClimatePreset::try_from(m.preset)
                .ok()
                .map(|p| preset_name(p).to_string())
        });
        out.extend(name.map(Component::ClimatePreset));
    }
}

/// Builds the one `ClimateCommandRequest` for a climate change request.
pub(super) fn climate_command(
    caps: &ClimateCaps,
    key: u32,
    device_id: u32,
    values: &[&Component],
    refuse: &dyn Fn(&Component, &str) -> CommandError,
) -> Result<Outgoing, CommandError> {
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
    for &v in values {
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
            Component::ClimateFanMode(name) => {
                match choose(&caps.fan_modes, fan_mode_name, &caps.custom_fan_modes, name) {
                    Some(Chosen::Listed(m)) => (msg.has_fan_mode, msg.fan_mode) = (true, m),
                    Some(Chosen::Custom(n)) => {
                        (msg.has_custom_fan_mode, msg.custom_fan_mode) = (true, n);
                    }
                    None => return Err(refuse(v, "not one of the device's fan modes")),
                }
            }
            Component::ClimateSwingMode(name) => {
                match choose(&caps.swing_modes, swing_mode_name, &[], name) {
                    Some(Chosen::Listed(m)) => (msg.has_swing_mode, msg.swing_mode) = (true, m),
                    _ => return Err(refuse(v, "not one of the device's swing modes")),
                }
            }
            Component::ClimatePreset(name) => {
                match choose(&caps.presets, preset_name, &caps.custom_presets, name) {
                    Some(Chosen::Listed(p)) => (msg.has_preset, msg.preset) = (true, p),
                    Some(Chosen::Custom(n)) => {
                        (msg.has_custom_preset, msg.custom_preset) = (true, n);
                    }
                    None => return Err(refuse(v, "not one of the device's presets")),
                }
            }
            other => return Err(refuse(other, NOT_WRITABLE)),
        }
    }
    Ok(encode(&msg))
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

/// A name chosen for a command: one of the listed enum values, or a custom name.
enum Chosen {
    Listed(i32),
    Custom(String),
}

/// `wanted` among the enum values `listed` (by `name`) and then the
/// `custom` names, each matched exactly, else ignoring case.
fn choose<E: TryFrom<i32>>(
    listed: &[i32],
    name: fn(E) -> &'static str,
    custom: &[String],
    wanted: &str,
) -> Option<Chosen> {
    let names = named(listed, name, &[]);
    if let Some(n) = find_name(&names, wanted) {
        let value = listed
            .iter()
            .copied()
            .find(|&v| E::try_from(v).is_ok_and(|e| name(e) == n));
        return value.map(Chosen::Listed);
    }
    find_name(custom, wanted).map(|n| Chosen::Custom(n.to_string()))
}

/// Home Assistant's name of an ESPHome fan mode (`homeassistant.components.climate`'s FAN_*).
fn fan_mode_name(f: proto::ClimateFanMode) -> &'static str {
    use proto::ClimateFanMode as F;
    match f {
        F::On => "on",
        F::Off => "off",
        F::Auto => "auto",
        F::Low => "low",
        F::Medium => "medium",
        F::High => "high",
        F::Middle => "middle",
        F::Focus => "focus",
        F::Diffuse => "diffuse",
        F::Quiet => "quiet",
    }
}

/// Home Assistant's name of an ESPHome swing mode (SWING_*).
fn swing_mode_name(s: proto::ClimateSwingMode) -> &'static str {
    use proto::ClimateSwingMode as S;
    match s {
        S::Off => "off",
        S::Both => "both",
        S::Vertical => "vertical",
        S::Horizontal => "horizontal",
    }
}

/// Home Assistant's name of an ESPHome preset (PRESET_*).
fn preset_name(p: proto::ClimatePreset) -> &'static str {
    use proto::ClimatePreset as P;
    match p {
        P::None => "none",
        P::Home => "home",
        P::Away => "away",
        P::Boost => "boost",
        P::Comfort => "comfort",
        P::Eco => "eco",
        P::Sleep => "sleep",
        P::Activity => "activity",
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
    use crate::api::proto::Incoming;
    use crate::entities::test_support::*;
    use crate::entities::{command, state};

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
    fn fan_swing_and_preset_modes_by_home_assistant_name() {
        use proto::{ClimateFanMode as F, ClimatePreset as P, ClimateSwingMode as S};
        let e = air_conditioner();
        assert_eq!(attr(&e, "fan_modes"), Some("auto,low,high,Turbo"));
        assert_eq!(attr(&e, "swing_modes"), Some("off,vertical"));
        assert_eq!(attr(&e, "preset_modes"), Some("none,eco,Night"));
        assert_eq!(
            attr(&e, "writable"),
            Some("ClimateMode,TargetTemperature,ClimateFanMode,ClimateSwingMode,ClimatePreset")
        );
        // State: the enum by name, a custom name when the device sets one.
        let s = proto::ClimateStateResponse {
            key: 99,
            mode: proto::ClimateMode::Cool as i32,
            fan_mode: F::Low as i32,
            swing_mode: S::Vertical as i32,
            preset: P::None as i32,
            custom_preset: "Night".into(),
            ..Default::default()
        };
        let got = state(&e, &Incoming::ClimateState(s));
        for c in [
            Component::ClimateFanMode("low".into()),
            Component::ClimateSwingMode("vertical".into()),
            Component::ClimatePreset("Night".into()),
        ] {
            assert!(got.contains(&c), "{c:?} in {got:?}");
        }
        // Commands: enum fields for ESPHome's names, custom fields for the
        // device's own (matched ignoring case), refusals for the rest.
        let m: proto::ClimateCommandRequest =
            sent(command(&e, &[Component::ClimateFanMode("HIGH".into())]));
        assert!(m.has_fan_mode && !m.has_custom_fan_mode);
        assert_eq!(m.fan_mode, F::High as i32);
        let m: proto::ClimateCommandRequest =
            sent(command(&e, &[Component::ClimateFanMode("turbo".into())]));
        assert!(m.has_custom_fan_mode && !m.has_fan_mode);
        assert_eq!(m.custom_fan_mode, "Turbo");
        let m: proto::ClimateCommandRequest = sent(command(
            &e,
            &[
                Component::ClimateSwingMode("off".into()),
                Component::ClimatePreset("eco".into()),
            ],
        ));
        assert!(m.has_swing_mode && m.has_preset);
        assert_eq!((m.swing_mode, m.preset), (S::Off as i32, P::Eco as i32));
        let m: proto::ClimateCommandRequest =
            sent(command(&e, &[Component::ClimatePreset("Night".into())]));
        assert!(m.has_custom_preset && m.custom_preset == "Night");
        for c in [
            Component::ClimateFanMode("medium".into()),
            Component::ClimateSwingMode("both".into()),
            Component::ClimatePreset("away".into()),
        ] {
            let err = refused(command(&e, std::slice::from_ref(&c)));
            assert_eq!(err.component, c.name(), "{err:?}");
        }
        // A thermostat without them offers none.
        let t = thermostat();
        assert_eq!(attr(&t, "fan_modes"), None);
        let got = state(&t, &Incoming::ClimateState(climate_state()));
        assert!(!got.iter().any(|c| c.name() == "ClimateFanMode"), "{got:?}");
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
}
