//! Generates `Component`, its enum value types and the id/name table from the
//! workspace's `components.toml` (the single source; DESIGN §4).

use std::fmt::Write as _;
use std::path::PathBuf;

#[path = "registry.rs"]
mod registry;

use registry::{Entry, Registry};

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let path = manifest.join("../../components.toml");
    println!("cargo:rerun-if-changed={}", path.display());
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    println!("cargo:rerun-if-changed=registry.rs");
    let reg: Registry = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let code = generate(&reg).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("components.rs");
    std::fs::write(&out, code).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}

fn payload_type(e: &Entry) -> Result<Option<String>, String> {
    Ok(match e.kind.as_str() {
        "marker" => None,
        "bool" => Some("bool".into()),
        "int" => Some("i64".into()),
        "float" => Some("f64".into()),
        "string" => Some("String".into()),
        "color" => Some("Color".into()),
        "enum" => Some(e.name.clone()),
        other => return Err(format!("component {}: unknown kind {other:?}", e.name)),
    })
}

fn generate(reg: &Registry) -> Result<String, String> {
    let mut s = String::new();
    let mut seen = std::collections::HashSet::new();
    for e in &reg.component {
        if !seen.insert(e.name.clone()) {
            return Err(format!("duplicate component name {}", e.name));
        }
        if !e
            .name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase())
            || !e.name.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(format!("component name {:?} is not PascalCase", e.name));
        }
        if (e.kind == "enum") == e.variants.is_empty() {
            return Err(format!(
                "component {}: `variants` is required for and only for kind enum",
                e.name
            ));
        }
        if e.desc.trim().is_empty() {
            return Err(format!("component {} has no `desc`", e.name));
        }
        payload_type(e)?;
    }
    let n = reg.component.len();
    if n == 0 || n > u16::MAX as usize {
        return Err("components.toml must hold 1..=65535 components".into());
    }

    // Enum value types.
    for e in reg.component.iter().filter(|e| e.kind == "enum") {
        writeln!(
            s,
            "/// Value of the [`Component::{}`] component: {}",
            e.name, e.desc
        )
        .unwrap();
        writeln!(
            s,
            "///\n/// Variants are append-only: the variant index is the wire value."
        )
        .unwrap();
        writeln!(s, "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]").unwrap();
        writeln!(s, "pub enum {} {{", e.name).unwrap();
        for v in &e.variants {
            writeln!(s, "    #[allow(missing_docs)]\n    {v},").unwrap();
        }
        writeln!(s, "}}\n").unwrap();
        writeln!(s, "impl {} {{", e.name).unwrap();
        writeln!(s, "    /// Variant names in wire order.").unwrap();
        let names: Vec<String> = e.variants.iter().map(|v| format!("{v:?}")).collect();
        writeln!(
            s,
            "    pub const NAMES: &'static [&'static str] = &[{}];",
            names.join(", ")
        )
        .unwrap();
        writeln!(s, "    /// The variant's name as in `components.toml`.").unwrap();
        writeln!(
            s,
            "    pub fn name(self) -> &'static str {{ Self::NAMES[self as usize] }}"
        )
        .unwrap();
        writeln!(s, "    /// Parses a variant name (ASCII case-insensitive).").unwrap();
        writeln!(s, "    pub fn from_name(name: &str) -> Option<Self> {{").unwrap();
        for v in &e.variants {
            writeln!(
                s,
                "        if name.eq_ignore_ascii_case({v:?}) {{ return Some(Self::{v}); }}"
            )
            .unwrap();
        }
        writeln!(s, "        None\n    }}\n}}\n").unwrap();
    }

    // Component enum.
    writeln!(
        s,
        "/// A typed value or marker on an entity. Generated from `components.toml`:"
    )
    .unwrap();
    writeln!(
        s,
        "/// the variant index is the component id and its bincode discriminant."
    )
    .unwrap();
    writeln!(
        s,
        "#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]"
    )
    .unwrap();
    writeln!(s, "pub enum Component {{").unwrap();
    for (i, e) in reg.component.iter().enumerate() {
        let unit = e
            .unit
            .as_deref()
            .map(|u| format!(" Unit: {u}."))
            .unwrap_or_default();
        writeln!(s, "    /// Id {i}. {}{unit}", e.desc).unwrap();
        match payload_type(e)? {
            None => writeln!(s, "    {},", e.name).unwrap(),
            Some(t) => writeln!(s, "    {}({t}),", e.name).unwrap(),
        }
    }
    writeln!(s, "}}\n").unwrap();

    // Table.
    writeln!(s, "/// Every component, indexed by id.").unwrap();
    writeln!(s, "pub static COMPONENTS: &[ComponentInfo] = &[").unwrap();
    for (i, e) in reg.component.iter().enumerate() {
        let kind = match e.kind.as_str() {
            "marker" => "Kind::Marker",
            "bool" => "Kind::Bool",
            "int" => "Kind::Int",
            "float" => "Kind::Float",
            "string" => "Kind::String",
            "color" => "Kind::Color",
            _ => "Kind::Enum",
        };
        let unit = match &e.unit {
            Some(u) => format!("Some({u:?})"),
            None => "None".into(),
        };
        let variants: Vec<String> = e.variants.iter().map(|v| format!("{v:?}")).collect();
        writeln!(
            s,
            "    ComponentInfo {{ id: {i}, name: {:?}, kind: {kind}, unit: {unit}, variants: &[{}], desc: {:?} }},",
            e.name,
            variants.join(", "),
            e.desc
        )
        .unwrap();
    }
    writeln!(s, "];\n").unwrap();
    writeln!(s, "/// The highest component id this build knows.").unwrap();
    writeln!(s, "pub const MAX_COMPONENT_ID: ComponentId = {};\n", n - 1).unwrap();

    // id()
    writeln!(s, "impl Component {{").unwrap();
    writeln!(
        s,
        "    /// The component id (position in `components.toml`)."
    )
    .unwrap();
    writeln!(
        s,
        "    pub fn id(&self) -> ComponentId {{\n        match self {{"
    )
    .unwrap();
    for (i, e) in reg.component.iter().enumerate() {
        let pat = if e.kind == "marker" {
            String::new()
        } else {
            "(_)".into()
        };
        writeln!(s, "            Component::{}{pat} => {i},", e.name).unwrap();
    }
    writeln!(s, "        }}\n    }}").unwrap();

    // to_value / from_value
    writeln!(s, "    /// The payload as a kind-neutral [`Value`].").unwrap();
    writeln!(
        s,
        "    pub fn value(&self) -> Value {{\n        match self {{"
    )
    .unwrap();
    for e in &reg.component {
        let arm = match e.kind.as_str() {
            "marker" => format!("Component::{} => Value::Marker", e.name),
            "bool" => format!("Component::{}(v) => Value::Bool(*v)", e.name),
            "int" => format!("Component::{}(v) => Value::Int(*v)", e.name),
            "float" => format!("Component::{}(v) => Value::Float(*v)", e.name),
            "string" => format!("Component::{}(v) => Value::String(v.clone())", e.name),
            "color" => format!("Component::{}(v) => Value::Color(*v)", e.name),
            _ => format!("Component::{}(v) => Value::Enum(v.name())", e.name),
        };
        writeln!(s, "            {arm},").unwrap();
    }
    writeln!(s, "        }}\n    }}").unwrap();

    writeln!(
        s,
        "    /// Builds component `id` from a [`Value`] of its kind. Ints are accepted for"
    )
    .unwrap();
    writeln!(
        s,
        "    /// floats and integral floats for ints; enum names are case-insensitive."
    )
    .unwrap();
    writeln!(s, "    ///\n    /// # Errors\n    /// [`ValueError`] when the id is unknown or the value does not fit the kind.").unwrap();
    writeln!(
        s,
        "    pub fn from_value(id: ComponentId, value: Value) -> Result<Component, ValueError> {{"
    )
    .unwrap();
    writeln!(
        s,
        "        let info = ComponentInfo::by_id(id).ok_or(ValueError::UnknownId(id))?;"
    )
    .unwrap();
    writeln!(s, "        let bad = |v: &Value| ValueError::Kind {{ component: info.name, expected: info.kind, got: v.describe() }};").unwrap();
    writeln!(s, "        Ok(match id {{").unwrap();
    for (i, e) in reg.component.iter().enumerate() {
        let body = match e.kind.as_str() {
            "marker" => format!(
                "match value {{ Value::Marker | Value::Bool(true) => Component::{}, v => return Err(bad(&v)) }}",
                e.name
            ),
            "bool" => format!(
                "match value {{ Value::Bool(b) => Component::{}(b), v => return Err(bad(&v)) }}",
                e.name
            ),
            "int" => format!(
                "Component::{}(value.as_int().ok_or_else(|| bad(&value))?)",
                e.name
            ),
            "float" => format!(
                "Component::{}(value.as_float().ok_or_else(|| bad(&value))?)",
                e.name
            ),
            "string" => format!(
                "match value {{ Value::String(t) => Component::{}(t), v => return Err(bad(&v)) }}",
                e.name
            ),
            "color" => format!(
                "match value {{ Value::Color(c) => Component::{}(c), v => return Err(bad(&v)) }}",
                e.name
            ),
            _ => format!(
                "match &value {{ Value::Enum(n) => Component::{0}({0}::from_name(n).ok_or_else(|| ValueError::Variant {{ component: info.name, got: (*n).to_string() }})?), Value::String(n) => Component::{0}({0}::from_name(n).ok_or_else(|| ValueError::Variant {{ component: info.name, got: n.clone() }})?), v => return Err(bad(v)) }}",
                e.name
            ),
        };
        writeln!(s, "            {i} => {body},").unwrap();
    }
    writeln!(s, "            _ => return Err(ValueError::UnknownId(id)),").unwrap();
    writeln!(s, "        }})\n    }}\n}}").unwrap();
    Ok(s)
}
