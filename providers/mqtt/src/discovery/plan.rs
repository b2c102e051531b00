//! What a discovered entity becomes: the Igloo entity (name, marker,
//! attributes), the topics it reads values from, the topics change requests
//! are published to, and where its availability comes from. Pure data, made
//! by [`super::platform`], used by [`super::bridge`].

use igloo_provider::Attributes;
use igloo_provider::protocol::{Component, ComponentInfo};

use super::classes::Linear;
use super::config::Text;

/// One discovered entity, planned.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityPlan {
    /// Entity name within its device (made unique by the bridge).
    pub name: String,
    /// Marker written once at registration (`Light`, `Cover`, `Fan`, `Climate`, `ButtonPress`).
    pub marker: Option<Component>,
    /// Attributes for `register_entity` (`platform`, `unit`, `options`, `writable`…).
    pub attributes: Attributes,
    /// Topics read for state.
    pub reads: Vec<Read>,
    /// Change requests → publishes.
    pub writes: Vec<Write>,
    /// Availability sources.
    pub availability: Availability,
}

impl EntityPlan {
    /// Names of the components this entity reports or accepts, for logs and tests.
    pub fn component_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.marker.iter().map(Component::name).collect();
        for r in &self.reads {
            for n in r.conv.component_names() {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        names
    }
}

/// A state topic bound to components.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    /// The topic (subscribed by the bridge).
    pub topic: String,
    /// `value_template` (or the platform's name for it), applied to the payload first.
    pub template: Option<String>,
    /// How the (rendered) payload becomes values.
    pub conv: ReadConv,
}

/// How a payload becomes component values.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadConv {
    /// A number, converted linearly; int components are rounded.
    Number {
        /// The component.
        component: &'static ComponentInfo,
        /// Device unit → component unit.
        linear: Linear,
    },
    /// A number in `min..=max` → 0–100 %.
    Percent {
        /// The component.
        component: &'static ComponentInfo,
        /// Device value meaning 0 %.
        min: f64,
        /// Device value meaning 100 %.
        max: f64,
    },
    /// A light's brightness in `1..=max` → 1–100 %. A zero gives nothing: Home
    /// Assistant's three MQTT light schemas ignore a zero brightness and keep
    /// the last one (`homeassistant/components/mqtt/light/schema_basic.py`,
    /// `schema_json.py`, `schema_template.py`), since the light's state says
    /// whether it is off.
    Brightness {
        /// `brightness_scale` (255 for a template light).
        max: f64,
    },
    /// Mired, or kelvin converted to mired.
    Mired {
        /// The payload is in kelvin.
        kelvin: bool,
    },
    /// `on`/`off` payloads → a bool (`invert` for contact sensors).
    OnOff {
        /// The component.
        component: &'static ComponentInfo,
        /// Payload meaning on.
        on: Text,
        /// Payload meaning off.
        off: Text,
        /// On means `false` for the component.
        invert: bool,
    },
    /// The text itself (`Text`, `Select`).
    Text {
        /// The component.
        component: &'static ComponentInfo,
    },
    /// A named mode (a fan's preset, a climate device's fan, swing or
    /// preset mode): one of `names`, matched ignoring case and stored in the
    /// list's spelling; else a `none` payload is "no mode", stored as the empty
    /// text (as the ESPHome provider does). An empty payload gives nothing,
    /// a name outside the list an error, as Home Assistant's MQTT fan and
    /// climate skip them (`homeassistant/components/mqtt/fan.py`,
    /// `climate.py`).
    Mode {
        /// The component (a string component).
        component: &'static ComponentInfo,
        /// The config's list (never empty).
        names: Vec<String>,
        /// Payloads meaning "no mode".
        none: Vec<Text>,
    },
    /// Payload → enum variant by table; other payloads are skipped.
    Enum {
        /// The component.
        component: &'static ComponentInfo,
        /// `(payload, variant name)`.
        table: Vec<(Text, &'static str)>,
    },
    /// `r,g,b` → Color.
    Rgb,
    /// `h,s` (degrees, %) → Color.
    Hs,
    /// `x,y` (CIE 1931) → Color.
    Xy,
    /// A JSON-schema light's state object → Switch, Brightness, ColorTemperature, Color.
    LightJson {
        /// `brightness_scale`.
        scale: f64,
        /// `color_temp` is in kelvin.
        kelvin: bool,
    },
    /// A device trigger: the payload (or only `payload` when set) → Action.
    Trigger {
        /// Only this payload fires the trigger.
        payload: Option<Text>,
        /// The Action value written (the trigger's subtype).
        action: String,
    },
    /// An event entity: JSON `event_type` → Action.
    Event,
}

impl ReadConv {
    /// The components this conversion can produce.
    pub fn component_names(&self) -> Vec<&'static str> {
        match self {
            ReadConv::Number { component, .. }
            | ReadConv::Percent { component, .. }
            | ReadConv::OnOff { component, .. }
            | ReadConv::Text { component }
            | ReadConv::Mode { component, .. }
            | ReadConv::Enum { component, .. } => vec![component.name],
            ReadConv::Brightness { .. } => vec!["Brightness"],
            ReadConv::Mired { .. } => vec!["ColorTemperature"],
            ReadConv::Rgb | ReadConv::Hs | ReadConv::Xy => vec!["Color"],
            ReadConv::LightJson { .. } => {
                vec![
                    "Switch",
                    "Brightness",
                    "ColorTemperature",
                    "Color",
                    "Effect",
                ]
            }
            ReadConv::Trigger { .. } | ReadConv::Event => vec!["Action"],
        }
    }
}

/// A component a user may write, and where it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    /// The component name written (`Switch`, `CoverCommand`, …).
    pub component: &'static str,
    /// `command_topic` (or the platform's name for it).
    pub topic: String,
    /// `command_template` (or the platform's name for it).
    pub template: Option<String>,
    /// How the value becomes a payload.
    pub conv: WriteConv,
    /// MQTT QoS (0–2; configured `qos`, default 0).
    pub qos: u8,
    /// Retain flag (configured `retain`, default false).
    pub retain: bool,
}

/// How a value becomes a payload.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteConv {
    /// bool → `on`/`off`.
    OnOff {
        /// Payload for true.
        on: String,
        /// Payload for false.
        off: String,
    },
    /// A number, converted back (`Linear::invert`); `int` rounds it.
    Number {
        /// Device unit → component unit (inverted when writing).
        linear: Linear,
        /// Send an integer.
        int: bool,
    },
    /// 0–100 % → `min..=max`, rounded.
    Percent {
        /// Device value for 0 %.
        min: f64,
        /// Device value for 100 %.
        max: f64,
    },
    /// Mired → mired or kelvin.
    Mired {
        /// Send kelvin.
        kelvin: bool,
    },
    /// The text itself.
    Text,
    /// One of `options` (matched exactly, else ignoring case) → that option
    /// as the device spells it (a light's `effect_list`, a fan's
    /// `preset_modes`, a climate device's `fan_modes` …).
    Choice {
        /// What the device accepts.
        options: Vec<String>,
    },
    /// Enum variant → payload.
    Enum {
        /// `(variant name, payload)`.
        table: Vec<(&'static str, String)>,
    },
    /// Writing the marker sends this payload.
    Press {
        /// `payload_press`.
        payload: String,
    },
    /// Color → `r,g,b`.
    Rgb,
    /// Color → `h,s`.
    Hs,
    /// Color → `x,y`.
    Xy,
    /// One member of a JSON-schema light command object.
    LightJson {
        /// `brightness_scale`.
        scale: f64,
        /// `color_temp` in kelvin.
        kelvin: bool,
        /// How colour is sent: `rgb`, `hs` or `xy`.
        color: ColorSpace,
        /// `effect_list`: the effects `effect` may name (empty: none).
        effects: Vec<String>,
    },
    /// One value of a template-schema light's command: the write's template
    /// (the light's `command_on_template` and `command_off_template` in one,
    /// chosen by `state`) is rendered once per request with every value of
    /// it (`state`, `brightness` 0–255, `color_temp` in mired, `red`,
    /// `green`, `blue`, `hue`, `sat`, `effect`).
    LightTemplate {
        /// `effect_list`: the effects `effect` may name (empty: none).
        effects: Vec<String>,
    },
}

/// The colour representation a JSON light takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorSpace {
    /// `{"r","g","b"}`.
    Rgb,
    /// `{"h","s"}`.
    Hs,
    /// `{"x","y"}`.
    Xy,
}

/// `availability_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Available when every source says so.
    All,
    /// Available when any source says so.
    Any,
    /// The last message from any source decides (Home Assistant's default).
    #[default]
    Latest,
}

/// One availability topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// Topic.
    pub topic: String,
    /// Template applied first.
    pub template: Option<String>,
    /// Payload meaning available.
    pub available: Text,
    /// Payload meaning not available.
    pub not_available: Text,
}

/// Where an entity's availability comes from; no sources = always available.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Availability {
    /// The topics.
    pub sources: Vec<Source>,
    /// How they combine.
    pub mode: Mode,
}
