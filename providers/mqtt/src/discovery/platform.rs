//! Discovery platforms → [`EntityPlan`]s.
//!
//! Supported (Home Assistant's MQTT platform docs for the keys and defaults):
//! `binary_sensor`, `sensor`, `switch`, `light` (default, `json` and `template` schema),
//! `cover`, `fan`, `climate`, `lock`, `number`, `select`, `button`, `text`,
//! `event` and `device_automation` triggers. Everything else is skipped with
//! a [`Skip`] reason (logged and listed in `mqtt.status`).

use igloo_provider::protocol::Component;
use igloo_provider::{Attributes, protocol::ComponentInfo};

use super::classes::{self, Linear};
use super::config::{Discovered, EntityConfig, Text};
use super::plan::{
    Availability, ColorSpace, EntityPlan, Mode, Read, ReadConv, Source, Write, WriteConv,
};
use crate::z2m::exposes::{humanize, number_text};

/// Why a discovered entity is not mapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Skip {
    /// A platform this provider does not map.
    #[error("platform {0:?} is not supported")]
    Platform(String),
    /// A platform variant this provider does not map (e.g. template-schema lights).
    #[error("{0}")]
    Variant(String),
    /// A required key is missing.
    #[error("missing {0}")]
    Missing(&'static str),
}

fn text(t: &Option<Text>, default: &str) -> Text {
    t.clone().unwrap_or_else(|| Text::new(default))
}

fn payload(t: &Option<Text>, default: &str) -> String {
    t.as_ref()
        .map_or_else(|| default.to_string(), |t| t.text.clone())
}

fn info(c: Component) -> &'static ComponentInfo {
    c.info()
}

/// Builds plans; holds what every platform shares.
struct Builder<'a> {
    c: &'a EntityConfig,
    reads: Vec<Read>,
    writes: Vec<Write>,
    attributes: Attributes,
}

impl<'a> Builder<'a> {
    fn read(&mut self, topic: &Option<String>, template: &Option<String>, conv: ReadConv) {
        if let Some(topic) = topic.as_ref().filter(|t| !t.is_empty()) {
            self.reads.push(Read {
                topic: topic.clone(),
                template: template.clone(),
                conv,
            });
        }
    }

    fn write(
        &mut self,
        component: &'static str,
        topic: &Option<String>,
        template: &Option<String>,
        conv: WriteConv,
    ) {
        if let Some(topic) = topic.as_ref().filter(|t| !t.is_empty()) {
            self.writes.push(Write {
                component,
                topic: topic.clone(),
                template: template.clone(),
                conv,
                qos: self.c.qos.unwrap_or(0).min(2),
                retain: self.c.retain.unwrap_or(false),
            });
        }
    }

    fn attr(&mut self, key: &str, value: impl Into<String>) {
        self.attributes.push((key.to_string(), value.into()));
    }

    fn range(&mut self, min: Option<f64>, max: Option<f64>, step: Option<f64>) {
        for (k, v) in [("min", min), ("max", max), ("step", step)] {
            if let Some(v) = v {
                self.attr(k, number_text(v));
            }
        }
    }
}

/// Plans one discovered entity.
///
/// # Errors
/// [`Skip`] when it is not mapped.
pub fn plan(d: &Discovered) -> Result<EntityPlan, Skip> {
    let c = &d.config;
    let mut b = Builder {
        c,
        reads: Vec::new(),
        writes: Vec::new(),
        attributes: vec![("platform".into(), d.platform.clone())],
    };
    if let Some(dc) = &c.device_class {
        b.attr("device_class", dc.clone());
    }
    let marker = match d.platform.as_str() {
        "binary_sensor" => binary_sensor(&mut b),
        "sensor" => sensor(&mut b),
        "switch" => switch(&mut b),
        "light" => light(&mut b)?,
        "cover" => actuators::cover(&mut b),
        "fan" => actuators::fan(&mut b),
        "climate" => actuators::climate(&mut b),
        "lock" => actuators::lock(&mut b),
        "number" => number(&mut b),
        "select" => select(&mut b),
        "button" => button(&mut b)?,
        "text" => text_entity(&mut b),
        "event" => event(&mut b),
        "device_automation" => trigger(&mut b)?,
        other => return Err(Skip::Platform(other.to_string())),
    };
    if let Some(cat) = &c.entity_category {
        b.attr("category", cat.clone());
    }
    let mut writable: Vec<&str> = Vec::new();
    for w in &b.writes {
        if !writable.contains(&w.component) {
            writable.push(w.component);
        }
    }
    // Always declared, empty for read-only entities: the core then refuses
    // changes to them itself, with the reason.
    b.attr("writable", writable.join(","));
    if b.reads.is_empty() && b.writes.is_empty() {
        return Err(Skip::Missing("state_topic and command_topic"));
    }
    Ok(EntityPlan {
        name: entity_name(d),
        marker,
        attributes: b.attributes,
        reads: b.reads,
        writes: b.writes,
        availability: availability(c),
    })
}

/// The entity's name: its `name` without a leading device name; `null` or
/// absent → the device class or platform (`Temperature`, `Light`).
pub fn entity_name(d: &Discovered) -> String {
    let c = &d.config;
    let fallback = || {
        if d.platform == "device_automation" {
            return "Action".to_string();
        }
        humanize(c.device_class.as_deref().unwrap_or(&d.platform))
    };
    let Some(name) = c.name.as_ref().and_then(|n| n.as_str()).map(str::trim) else {
        return fallback();
    };
    let device = c
        .device
        .as_ref()
        .and_then(|d| d.name.as_deref())
        .unwrap_or("");
    let stripped = match name.strip_prefix(device) {
        Some(rest) if !device.is_empty() && rest.starts_with(' ') => rest.trim(),
        _ => name,
    };
    if stripped.is_empty() {
        fallback()
    } else {
        stripped.to_string()
    }
}

fn availability(c: &EntityConfig) -> Availability {
    let mode = match c.availability_mode.as_deref() {
        Some("all") => Mode::All,
        Some("any") => Mode::Any,
        _ => Mode::Latest,
    };
    let mut sources: Vec<Source> = c
        .availability
        .iter()
        .flatten()
        .map(|a| Source {
            topic: a.topic.clone(),
            template: a.value_template.clone(),
            available: text(&a.payload_available, "online"),
            not_available: text(&a.payload_not_available, "offline"),
        })
        .collect();
    if let Some(topic) = &c.availability_topic {
        sources.push(Source {
            topic: topic.clone(),
            template: c.availability_template.clone(),
            available: text(&c.payload_available, "online"),
            not_available: text(&c.payload_not_available, "offline"),
        });
    }
    Availability { sources, mode }
}

fn binary_sensor(b: &mut Builder) -> Option<Component> {
    let c = b.c;
    let (component, invert) = classes::binary_component(c.device_class.as_deref());
    let conv = ReadConv::OnOff {
        component: info(component),
        on: text(&c.payload_on, "ON"),
        off: text(&c.payload_off, "OFF"),
        invert,
    };
    b.read(&c.state_topic, &c.value_template, conv);
    None
}

fn sensor(b: &mut Builder) -> Option<Component> {
    let c = b.c;
    let unit = c.unit_of_measurement.as_deref().filter(|u| !u.is_empty());
    let known = c.device_class.as_deref().and_then(|dc| {
        let comp = classes::sensor_component(dc)?;
        let linear = classes::convert(comp.info().unit, unit)?;
        Some((comp, linear))
    });
    let conv = match known {
        Some((comp, linear)) => ReadConv::Number {
            component: info(comp),
            linear,
        },
        // No unit, no class and no state class: Home Assistant shows it as text.
        None if unit.is_none()
            && c.state_class.is_none()
            && matches!(
                c.device_class.as_deref(),
                None | Some("enum" | "timestamp" | "date")
            ) =>
        {
            ReadConv::Text {
                component: info(Component::Text(String::new())),
            }
        }
        None => {
            if let Some(u) = unit {
                b.attr("unit", u);
            }
            ReadConv::Number {
                component: info(Component::Number(0.0)),
                linear: Linear::IDENTITY,
            }
        }
    };
    if let Some(sc) = &c.state_class {
        b.attr("state_class", sc.clone());
    }
    b.read(&c.state_topic, &c.value_template, conv);
    Some(Component::Sensor)
}

fn on_off_read(c: &EntityConfig) -> ReadConv {
    ReadConv::OnOff {
        component: info(Component::Switch(false)),
        on: c
            .state_on
            .clone()
            .unwrap_or_else(|| text(&c.payload_on, "ON")),
        off: c
            .state_off
            .clone()
            .unwrap_or_else(|| text(&c.payload_off, "OFF")),
        invert: false,
    }
}

fn on_off_write(c: &EntityConfig) -> WriteConv {
    WriteConv::OnOff {
        on: payload(&c.payload_on, "ON"),
        off: payload(&c.payload_off, "OFF"),
    }
}

fn switch(b: &mut Builder) -> Option<Component> {
    let c = b.c;
    b.read(&c.state_topic, &c.value_template, on_off_read(c));
    b.write(
        "Switch",
        &c.command_topic,
        &c.command_template,
        on_off_write(c),
    );
    None
}

fn light(b: &mut Builder) -> Result<Option<Component>, Skip> {
    let c = b.c;
    let scale = c.brightness_scale.filter(|s| *s > 0.0).unwrap_or(255.0);
    let kelvin = c.color_temp_kelvin.unwrap_or(false);
    let effects: Vec<String> = c
        .effect_list
        .iter()
        .flatten()
        .map(crate::z2m::exposes::json_text)
        .collect();
    match c.schema.as_deref().unwrap_or("default") {
        "json" => {
            let modes = c.supported_color_modes.clone().unwrap_or_default();
            let has = |m: &str| modes.iter().any(|x| x == m);
            let color = if has("rgb") || has("rgbw") || has("rgbww") {
                Some(ColorSpace::Rgb)
            } else if has("hs") {
                Some(ColorSpace::Hs)
            } else if has("xy") {
                Some(ColorSpace::Xy)
            } else {
                None
            };
            let brightness = c.brightness.unwrap_or(false) || modes.iter().any(|m| m != "onoff");
            b.read(&c.state_topic, &None, ReadConv::LightJson { scale, kelvin });
            let conv = |space| WriteConv::LightJson {
                scale,
                kelvin,
                color: space,
                effects: effects.clone(),
            };
            let space = color.unwrap_or(ColorSpace::Rgb);
            b.write("Switch", &c.command_topic, &None, conv(space));
            if brightness {
                b.write("Brightness", &c.command_topic, &None, conv(space));
            }
            if has("color_temp") {
                b.write("ColorTemperature", &c.command_topic, &None, conv(space));
                mired_range(b);
            }
            if color.is_some() {
                b.write("Color", &c.command_topic, &None, conv(space));
            }
            // Home Assistant: `effect: true` with an `effect_list`.
            if c.effect == Some(true) && !effects.is_empty() {
                b.write("Effect", &c.command_topic, &None, conv(space));
            }
            if !modes.is_empty() {
                b.attr("color_modes", modes.join(","));
            }
        }
        "default" | "basic" => {
            b.read(&c.state_topic, &c.value_template, on_off_read(c));
            b.write("Switch", &c.command_topic, &None, on_off_write(c));
            b.read(
                &c.brightness_state_topic,
                &c.brightness_value_template,
                ReadConv::Brightness { max: scale },
            );
            b.write(
                "Brightness",
                &c.brightness_command_topic,
                &c.brightness_command_template,
                WriteConv::Percent {
                    min: 0.0,
                    max: scale,
                },
            );
            b.read(
                &c.color_temp_state_topic,
                &c.color_temp_value_template,
                ReadConv::Mired { kelvin },
            );
            b.write(
                "ColorTemperature",
                &c.color_temp_command_topic,
                &c.color_temp_command_template,
                WriteConv::Mired { kelvin },
            );
            if c.color_temp_command_topic.is_some() || c.color_temp_state_topic.is_some() {
                mired_range(b);
            }
            b.read(&c.rgb_state_topic, &c.rgb_value_template, ReadConv::Rgb);
            b.write(
                "Color",
                &c.rgb_command_topic,
                &c.rgb_command_template,
                WriteConv::Rgb,
            );
            b.read(&c.hs_state_topic, &c.hs_value_template, ReadConv::Hs);
            b.read(&c.xy_state_topic, &c.xy_value_template, ReadConv::Xy);
            if c.rgb_command_topic.is_none() {
                b.write("Color", &c.hs_command_topic, &None, WriteConv::Hs);
                if c.hs_command_topic.is_none() {
                    b.write("Color", &c.xy_command_topic, &None, WriteConv::Xy);
                }
            }
            b.read(
                &c.effect_state_topic,
                &c.effect_value_template,
                ReadConv::Text {
                    component: info(Component::Effect(String::new())),
                },
            );
            if !effects.is_empty() {
                b.write(
                    "Effect",
                    &c.effect_command_topic,
                    &c.effect_command_template,
                    WriteConv::Choice {
                        options: effects.clone(),
                    },
                );
            }
        }
        "template" => template_light::plan(b, &effects)?,
        other => {
            return Err(Skip::Variant(format!(
                "light schema {other:?} is not supported (only default, json and template)"
            )));
        }
    }
    if !effects.is_empty() {
        b.attr("effects", effects.join(","));
    }
    Ok(Some(Component::Light))
}

fn mired_range(b: &mut Builder) {
    let c = b.c;
    // Home Assistant's defaults: 153–500 mired (6500–2000 K).
    let (min, max) = match (c.min_kelvin, c.max_kelvin) {
        (_, Some(kmax)) if c.color_temp_kelvin == Some(true) && kmax > 0.0 => {
            let kmin = c.min_kelvin.filter(|k| *k > 0.0).unwrap_or(2000.0);
            ((1e6 / kmax).round(), (1e6 / kmin).round())
        }
        _ => (c.min_mireds.unwrap_or(153.0), c.max_mireds.unwrap_or(500.0)),
    };
    b.attr("min_mireds", number_text(min));
    b.attr("max_mireds", number_text(max));
}

fn number(b: &mut Builder) -> Option<Component> {
    let c = b.c;
    let conv = ReadConv::Number {
        component: info(Component::Number(0.0)),
        linear: Linear::IDENTITY,
    };
    b.read(&c.state_topic, &c.value_template, conv);
    let int = [c.min, c.max, c.step]
        .iter()
        .all(|v| v.is_none_or(|v| v.fract() == 0.0))
        && c.step.is_some_and(|s| s >= 1.0);
    b.write(
        "Number",
        &c.command_topic,
        &c.command_template,
        WriteConv::Number {
            linear: Linear::IDENTITY,
            int,
        },
    );
    if let Some(u) = c.unit_of_measurement.as_deref().filter(|u| !u.is_empty()) {
        b.attr("unit", u);
    }
    // Home Assistant's defaults: 1–100, step 1.
    b.range(
        Some(c.min.unwrap_or(1.0)),
        Some(c.max.unwrap_or(100.0)),
        Some(c.step.unwrap_or(1.0)),
    );
    None
}

fn select(b: &mut Builder) -> Option<Component> {
    let c = b.c;
    let component = info(Component::Select(String::new()));
    b.read(
        &c.state_topic,
        &c.value_template,
        ReadConv::Text { component },
    );
    b.write(
        "Select",
        &c.command_topic,
        &c.command_template,
        WriteConv::Text,
    );
    b.attr("options", c.options.clone().unwrap_or_default().join(","));
    None
}

fn button(b: &mut Builder) -> Result<Option<Component>, Skip> {
    let c = b.c;
    if c.command_topic.is_none() {
        return Err(Skip::Missing("command_topic"));
    }
    let conv = WriteConv::Press {
        payload: payload(&c.payload_press, "PRESS"),
    };
    b.write("ButtonPress", &c.command_topic, &c.command_template, conv);
    Ok(Some(Component::ButtonPress))
}

fn text_entity(b: &mut Builder) -> Option<Component> {
    let c = b.c;
    let component = info(Component::Text(String::new()));
    b.read(
        &c.state_topic,
        &c.value_template,
        ReadConv::Text { component },
    );
    b.write(
        "Text",
        &c.command_topic,
        &c.command_template,
        WriteConv::Text,
    );
    b.range(c.min, c.max, None);
    if let Some(p) = &c.pattern {
        b.attr("pattern", p.clone());
    }
    None
}

fn event(b: &mut Builder) -> Option<Component> {
    let c = b.c;
    b.read(&c.state_topic, &c.value_template, ReadConv::Event);
    if let Some(types) = &c.event_types {
        b.attr("event_types", types.join(","));
    }
    None
}

fn trigger(b: &mut Builder) -> Result<Option<Component>, Skip> {
    let c = b.c;
    if c.automation_type.as_deref().is_some_and(|t| t != "trigger") {
        return Err(Skip::Variant("device_automation other than trigger".into()));
    }
    let topic = c.topic.clone().ok_or(Skip::Missing("topic"))?;
    let action = c
        .subtype
        .clone()
        .or_else(|| c.payload.as_ref().map(|p| p.text.clone()))
        .or_else(|| c.trigger_type.clone())
        .unwrap_or_default();
    b.read(
        &Some(topic),
        &c.value_template,
        ReadConv::Trigger {
            payload: c.payload.clone(),
            action,
        },
    );
    Ok(None)
}

mod actuators;
mod template_light;

#[cfg(test)]
mod tests;
