//! Template-schema lights (`schema: template`): Home Assistant's
//! `homeassistant/components/mqtt/light/schema_template.py`.
//!
//! - Reads: every `*_template` renders one value from the same message on
//!   `state_topic`: `state_template` → `on`/`off`, `brightness_template` →
//!   0–255, `color_temp_template` → mired, `red`/`green`/`blue_template` (all
//!   three) → a colour, `effect_template` → one of `effect_list`.
//! - Writes: one publish on `command_topic` per change request, rendered from
//!   `command_on_template` (with `state` true and the values asked for:
//!   `brightness`, `color_temp`, `red`, `green`, `blue`, `hue`, `sat`,
//!   `effect`) or, for a request that turns the light off,
//!   `command_off_template` (with `state` false).
//! - A value is writable when its read template is there, as Home Assistant
//!   derives the light's colour modes from them.

use igloo_provider::protocol::Component;

use super::{Builder, Skip, info, mired_range};
use crate::discovery::config::Text;
use crate::discovery::plan::{ReadConv, WriteConv};

/// Plans a template-schema light into `b` (the marker and `effects`
/// attribute are the caller's).
///
/// # Errors
/// [`Skip::Missing`] without `command_topic`, `command_on_template` or
/// `command_off_template` (Home Assistant requires all three).
pub(super) fn plan(b: &mut Builder, effects: &[String]) -> Result<(), Skip> {
    let c = b.c;
    if c.command_topic.as_deref().is_none_or(str::is_empty) {
        return Err(Skip::Missing("command_topic"));
    }
    let on = c
        .command_on_template
        .as_deref()
        .ok_or(Skip::Missing("command_on_template"))?;
    let off = c
        .command_off_template
        .as_deref()
        .ok_or(Skip::Missing("command_off_template"))?;
    // One template for both: each is a whole template of its own, so the
    // pair under one `if` is too, and the request's `state` picks it.
    let command = Some(format!(
        "{{% if state %}}{on}{{% else %}}{off}{{% endif %}}"
    ));
    let conv = || WriteConv::LightTemplate {
        effects: effects.to_vec(),
    };
    let topic = &c.state_topic;
    if c.state_template.is_some() {
        b.read(
            topic,
            &c.state_template,
            ReadConv::OnOff {
                component: info(Component::Switch(false)),
                on: Text::new("on"),
                off: Text::new("off"),
                invert: false,
            },
        );
    }
    b.write("Switch", &c.command_topic, &command, conv());
    if c.brightness_template.is_some() {
        b.read(
            topic,
            &c.brightness_template,
            ReadConv::Brightness { max: 255.0 },
        );
        b.write("Brightness", &c.command_topic, &command, conv());
    }
    if c.color_temp_template.is_some() {
        b.read(
            topic,
            &c.color_temp_template,
            ReadConv::Mired { kelvin: false },
        );
        b.write("ColorTemperature", &c.command_topic, &command, conv());
        mired_range(b);
    }
    if let (Some(r), Some(g), Some(bl)) = (&c.red_template, &c.green_template, &c.blue_template) {
        // Each is a whole template: side by side they render `r,g,b`.
        b.read(topic, &Some(format!("{r},{g},{bl}")), ReadConv::Rgb);
        b.write("Color", &c.command_topic, &command, conv());
    }
    if !effects.is_empty() {
        if c.effect_template.is_some() {
            b.read(
                topic,
                &c.effect_template,
                ReadConv::Mode {
                    component: info(Component::Effect(String::new())),
                    names: effects.to_vec(),
                    none: Vec::new(),
                },
            );
        }
        b.write("Effect", &c.command_topic, &command, conv());
    }
    Ok(())
}
