//! Components: typed values and markers carried by entities.
//!
//! [`Component`] and the enum value types (e.g. [`ClimateMode`]) are generated at
//! build time from `components.toml` at the workspace root; see that file for the
//! append-only rules. [`COMPONENTS`] is the id-indexed metadata table.

use serde::{Deserialize, Serialize};

/// A component id: the entry's position in `components.toml`.
pub type ComponentId = u16;

/// The kind of a component's payload, as declared in `components.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// No payload.
    Marker,
    /// `bool`.
    Bool,
    /// `i64`.
    Int,
    /// `f64`.
    Float,
    /// UTF-8 `String`.
    String,
    /// [`Color`].
    Color,
    /// A generated enum; names in [`ComponentInfo::variants`].
    Enum,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Marker => "marker",
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::String => "string",
            Kind::Color => "color",
            Kind::Enum => "enum",
        })
    }
}

/// Metadata of one component, from `components.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComponentInfo {
    /// Component id (position in the file).
    pub id: ComponentId,
    /// PascalCase name, used in the HTTP API and CLI.
    pub name: &'static str,
    /// Payload kind.
    pub kind: Kind,
    /// Unit (SI or Home Assistant's unit for the device class), if any.
    pub unit: Option<&'static str>,
    /// Variant names for [`Kind::Enum`], in wire order; empty otherwise.
    pub variants: &'static [&'static str],
    /// One-line description.
    pub desc: &'static str,
}

impl ComponentInfo {
    /// Looks a component up by id; `None` if this build does not know it.
    pub fn by_id(id: ComponentId) -> Option<&'static ComponentInfo> {
        COMPONENTS.get(usize::from(id))
    }

    /// Looks a component up by name (exact, case-sensitive first, then ASCII case-insensitive).
    pub fn by_name(name: &str) -> Option<&'static ComponentInfo> {
        COMPONENTS.iter().find(|c| c.name == name).or_else(|| {
            COMPONENTS
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(name))
        })
    }
}

/// An sRGB colour, 8 bits per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Color {
    /// Red, 0–255.
    pub r: u8,
    /// Green, 0–255.
    pub g: u8,
    /// Blue, 0–255.
    pub b: u8,
}

impl Color {
    /// `#rrggbb`.
    pub fn to_hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }

    /// Parses `#rrggbb` or `rrggbb`; `None` otherwise.
    pub fn from_hex(s: &str) -> Option<Color> {
        let h = s.strip_prefix('#').unwrap_or(s);
        if h.len() != 6 || !h.is_ascii() {
            return None;
        }
        let p = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
        Some(Color {
            r: p(0)?,
            g: p(2)?,
            b: p(4)?,
        })
    }
}

/// A component payload without its component id: the bridge between typed
/// [`Component`]s and untyped sources (JSON, MQTT payloads, CLI arguments).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A marker (no payload).
    Marker,
    /// Boolean.
    Bool(bool),
    /// Integer.
    Int(i64),
    /// Floating point.
    Float(f64),
    /// Text.
    String(String),
    /// Colour.
    Color(Color),
    /// An enum variant name.
    Enum(&'static str),
}

impl Value {
    /// Integer view: ints, and floats with no fractional part inside `i64`'s range.
    pub fn as_int(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            Value::Float(f) if f.fract() == 0.0 && f.is_finite() && f.abs() < 9.0e18 => {
                Some(f as i64)
            }
            _ => None,
        }
    }

    /// Float view: floats and ints.
    pub fn as_float(&self) -> Option<f64> {
        match *self {
            Value::Float(f) => Some(f),
            Value::Int(i) => Some(i as f64),
            _ => None,
        }
    }

    /// Short description for error messages, e.g. `string "on"`.
    pub fn describe(&self) -> String {
        match self {
            Value::Marker => "marker".into(),
            Value::Bool(b) => format!("bool {b}"),
            Value::Int(i) => format!("int {i}"),
            Value::Float(f) => format!("float {f}"),
            Value::String(s) => format!("string {s:?}"),
            Value::Color(c) => format!("color {}", c.to_hex()),
            Value::Enum(e) => format!("enum {e}"),
        }
    }
}

/// Why a [`Value`] could not become a [`Component`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    /// No component with that id in this build.
    #[error("unknown component id {0}")]
    UnknownId(ComponentId),
    /// No component with that name in this build.
    #[error("unknown component {0:?}")]
    UnknownName(String),
    /// The value has the wrong kind.
    #[error("component {component} takes a {expected} value, got {got}")]
    Kind {
        /// Component name.
        component: &'static str,
        /// Expected kind.
        expected: Kind,
        /// What was given.
        got: String,
    },
    /// Not one of the enum's variant names.
    #[error("component {component} has no variant {got:?}")]
    Variant {
        /// Component name.
        component: &'static str,
        /// What was given.
        got: String,
    },
}

include!(concat!(env!("OUT_DIR"), "/components.rs"));

/// The entry of `names` that `wanted` names: the exact one, else one that
/// differs only in ASCII case. The rule for every component chosen by name
/// from a list the entity gives (`Select` in `options`, `Effect` in
/// `effects`, `FanPreset`/`ClimatePreset` in `preset_modes`, `ClimateFanMode`
/// in `fan_modes`, `ClimateSwingMode` in `swing_modes`): people type
/// `rainbow` for `Rainbow`, and the device wants its own spelling back.
/// `None` when no entry matches.
pub fn find_name<'a, S: AsRef<str>>(names: &'a [S], wanted: &str) -> Option<&'a str> {
    names
        .iter()
        .map(AsRef::as_ref)
        .find(|n| *n == wanted)
        .or_else(|| {
            names
                .iter()
                .map(AsRef::as_ref)
                .find(|n| n.eq_ignore_ascii_case(wanted))
        })
}

impl Component {
    /// Metadata for this component.
    pub fn info(&self) -> &'static ComponentInfo {
        // `id()` is generated from the same table, so the index is always in range.
        &COMPONENTS[usize::from(self.id())]
    }

    /// The component's name from `components.toml`.
    pub fn name(&self) -> &'static str {
        self.info().name
    }

    /// Builds a component from its name and a value.
    ///
    /// # Errors
    /// [`ValueError::UnknownName`] or a kind mismatch.
    pub fn from_name_value(name: &str, value: Value) -> Result<Component, ValueError> {
        let info = ComponentInfo::by_name(name)
            .ok_or_else(|| ValueError::UnknownName(name.to_string()))?;
        Component::from_value(info.id, value)
    }
}

#[cfg(feature = "json")]
mod json {
    use super::*;
    use serde_json::Value as J;

    impl Value {
        /// JSON form used by the HTTP API: marker → `true`, colour → `"#rrggbb"`,
        /// enum → its variant name, non-finite floats → `null`.
        pub fn to_json(&self) -> J {
            match self {
                Value::Marker => J::Bool(true),
                Value::Bool(b) => J::Bool(*b),
                Value::Int(i) => J::from(*i),
                Value::Float(f) => serde_json::Number::from_f64(*f)
                    .map(J::Number)
                    .unwrap_or(J::Null),
                Value::String(s) => J::String(s.clone()),
                Value::Color(c) => J::String(c.to_hex()),
                Value::Enum(e) => J::String((*e).to_string()),
            }
        }
    }

    impl Component {
        /// This component's value as JSON (see [`Value::to_json`]).
        pub fn to_json(&self) -> J {
            self.value().to_json()
        }

        /// Builds component `name` from JSON. Accepts, per kind: marker `true`/`null`;
        /// bool `true`/`false` or `"on"`/`"off"`; numbers (and numeric strings) for int and float;
        /// colour `"#rrggbb"` or `{"r":..,"g":..,"b":..}`; enum variant names.
        ///
        /// # Errors
        /// [`ValueError`] naming the component and what was wrong.
        pub fn from_json(name: &str, json: &J) -> Result<Component, ValueError> {
            let info = ComponentInfo::by_name(name)
                .ok_or_else(|| ValueError::UnknownName(name.to_string()))?;
            let bad = || ValueError::Kind {
                component: info.name,
                expected: info.kind,
                got: json.to_string(),
            };
            let value = match (info.kind, json) {
                (Kind::Marker, J::Null | J::Bool(true)) => Value::Marker,
                (Kind::Bool, J::Bool(b)) => Value::Bool(*b),
                (Kind::Bool, J::String(s)) => match s.to_ascii_lowercase().as_str() {
                    "on" | "true" | "1" => Value::Bool(true),
                    "off" | "false" | "0" => Value::Bool(false),
                    _ => return Err(bad()),
                },
                (Kind::Int, J::Number(n)) => match n.as_i64() {
                    Some(i) => Value::Int(i),
                    None => Value::Float(n.as_f64().ok_or_else(bad)?),
                },
                (Kind::Float, J::Number(n)) => Value::Float(n.as_f64().ok_or_else(bad)?),
                (Kind::Int, J::String(s)) => Value::Int(s.trim().parse().map_err(|_| bad())?),
                (Kind::Float, J::String(s)) => Value::Float(s.trim().parse().map_err(|_| bad())?),
                (Kind::String, J::String(s)) => Value::String(s.clone()),
                (Kind::Color, J::String(s)) => Value::Color(Color::from_hex(s).ok_or_else(bad)?),
                (Kind::Color, J::Object(o)) => {
                    let ch = |k: &str| {
                        o.get(k)
                            .and_then(J::as_u64)
                            .and_then(|v| u8::try_from(v).ok())
                    };
                    Value::Color(Color {
                        r: ch("r").ok_or_else(bad)?,
                        g: ch("g").ok_or_else(bad)?,
                        b: ch("b").ok_or_else(bad)?,
                    })
                }
                (Kind::Enum, J::String(s)) => Value::String(s.clone()),
                _ => return Err(bad()),
            };
            Component::from_value(info.id, value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_name_prefers_the_exact_spelling_then_ignores_case() {
        let names = ["Rainbow", "rainbow", "Strobe"].map(String::from);
        assert_eq!(find_name(&names, "rainbow"), Some("rainbow"));
        assert_eq!(find_name(&names, "RAINBOW"), Some("Rainbow"));
        assert_eq!(find_name(&names, "strobe"), Some("Strobe"));
        assert_eq!(find_name(&names, "Disco"), None);
        assert_eq!(find_name::<&str>(&[], "x"), None);
    }

    #[test]
    fn table_matches_generated_ids() {
        for (i, c) in COMPONENTS.iter().enumerate() {
            assert_eq!(usize::from(c.id), i);
        }
        assert_eq!(usize::from(MAX_COMPONENT_ID) + 1, COMPONENTS.len());
        assert_eq!(
            Component::Switch(true).id(),
            ComponentInfo::by_name("Switch")
                .map(|c| c.id)
                .unwrap_or(u16::MAX)
        );
        assert!(COMPONENTS.len() >= 30);
    }

    #[test]
    fn values_round_trip_through_every_kind() {
        let samples = [
            Component::Light,
            Component::Switch(true),
            Component::Brightness(42.5),
            Component::Color(Color { r: 1, g: 2, b: 255 }),
            Component::ColorTemperature(370),
            Component::ClimateMode(ClimateMode::HeatCool),
            Component::Text("hi".into()),
        ];
        for c in samples {
            assert_eq!(Component::from_value(c.id(), c.value()), Ok(c.clone()));
            #[cfg(feature = "json")]
            assert_eq!(Component::from_json(c.name(), &c.to_json()), Ok(c.clone()));
        }
    }

    #[test]
    fn wrong_kinds_are_clear_errors() {
        let e = Component::from_name_value("Switch", Value::String("maybe".into())).unwrap_err();
        assert_eq!(
            e.to_string(),
            "component Switch takes a bool value, got string \"maybe\""
        );
        assert!(matches!(
            Component::from_name_value("Nope", Value::Marker),
            Err(ValueError::UnknownName(_))
        ));
        assert!(matches!(
            Component::from_name_value("ClimateMode", Value::String("Boil".into())),
            Err(ValueError::Variant { .. })
        ));
        assert_eq!(
            Component::from_value(u16::MAX, Value::Marker),
            Err(ValueError::UnknownId(u16::MAX))
        );
    }

    #[test]
    fn hex_colours() {
        assert_eq!(
            Color::from_hex("#0a0B0c"),
            Some(Color {
                r: 10,
                g: 11,
                b: 12
            })
        );
        assert_eq!(Color::from_hex("#0a0B0"), None);
        assert_eq!(Color::from_hex("#ééé"), None);
        assert_eq!(
            Color {
                r: 255,
                g: 0,
                b: 16
            }
            .to_hex(),
            "#ff0010"
        );
    }
}
