//! `light`: what a light's colour modes can do, its attributes and states,
//! and the one `LightCommandRequest` a change request becomes.

use igloo_provider::Attributes;
use igloo_provider::protocol::{Color, Component, find_name};

use super::{
    CommandError, NOT_FINITE, NOT_WRITABLE, channel, encode, fraction, number_text, percent, widen,
};
use crate::api::proto::{self, Outgoing};

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

/// The attributes (`color_modes`, `min_mireds`/`max_mireds`, `effects`) and
/// the capabilities of a `ListEntitiesLightResponse`.
pub(super) fn light_info(
    m: &proto::ListEntitiesLightResponse,
    attrs: &mut Attributes,
) -> LightCaps {
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
    caps
}

/// The components [`light_command`] accepts.
pub(super) fn light_writable(caps: &LightCaps, w: &mut Vec<&'static str>) {
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

/// The components of a `LightStateResponse`.
pub(super) fn light_components(
    caps: &LightCaps,
    m: &proto::LightStateResponse,
    out: &mut Vec<Component>,
) {
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

/// Builds the one `LightCommandRequest` for a light change request.
pub(super) fn light_command(
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
                let effect = find_name(&caps.effects, name)
                    .ok_or_else(|| refuse(v, &format!("{name:?} is not one of the effects")))?;
                msg.has_effect = true;
                msg.effect = effect.to_string();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::proto::Incoming;
    use crate::entities::test_support::*;
    use crate::entities::{Domain, command, state};
    use proto::ColorMode as CM;

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
}
