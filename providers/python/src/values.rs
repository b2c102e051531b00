//! Component values between Python and the protocol: a `dict` of component
//! name → value (`{"Switch": True, "Brightness": 40.0}`), the same JSON
//! forms as the HTTP API (marker → `True`, colour → `"#rrggbb"`, enum → its
//! variant name), checked against `components.toml` by the protocol crate.

use igloo_provider::protocol::{COMPONENTS, Component, ComponentInfo, Kind};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString};
use serde_json::Value;

use crate::ComponentError;

/// The kind of a component as a word for messages.
fn kind_text(kind: Kind) -> &'static str {
    match kind {
        Kind::Marker => "marker (True)",
        Kind::Bool => "bool",
        Kind::Int => "int",
        Kind::Float => "float",
        Kind::String => "str",
        Kind::Color => "colour (\"#rrggbb\")",
        Kind::Enum => "enum variant name (str)",
    }
}

/// What component `name` takes, for an error message: `"float in %"`.
fn expects(info: &ComponentInfo) -> String {
    let mut s = kind_text(info.kind).to_string();
    if let Some(unit) = info.unit {
        s.push_str(" in ");
        s.push_str(unit);
    }
    if !info.variants.is_empty() {
        s.push_str(": ");
        s.push_str(&info.variants.join(", "));
    }
    s
}

/// `values` (name → value) as components.
///
/// # Errors
/// [`ComponentError`] naming the component and what it takes.
pub fn from_dict(values: &Bound<'_, PyDict>) -> PyResult<Vec<Component>> {
    let mut out = Vec::with_capacity(values.len());
    for (k, v) in values.iter() {
        let name: String = k
            .extract()
            .map_err(|_| ComponentError::new_err("component names are str"))?;
        let Some(info) = ComponentInfo::by_name(&name) else {
            return Err(ComponentError::new_err(format!(
                "unknown component {name:?} (see components.toml, or igloo.components())"
            )));
        };
        let json = to_json(&v).ok_or_else(|| {
            ComponentError::new_err(format!(
                "{name} takes a {}, got a Python {}",
                expects(info),
                v.get_type()
                    .name()
                    .map_or("object".into(), |n| n.to_string())
            ))
        })?;
        let c = Component::from_json(&name, &json).map_err(|e| {
            ComponentError::new_err(format!("{e}; {name} takes a {}", expects(info)))
        })?;
        out.push(c);
    }
    Ok(out)
}

fn to_json(v: &Bound<'_, PyAny>) -> Option<Value> {
    if v.is_instance_of::<PyBool>() {
        return v.extract::<bool>().ok().map(Value::Bool);
    }
    if v.is_instance_of::<PyInt>() {
        return v.extract::<i64>().ok().map(Value::from);
    }
    if v.is_instance_of::<PyFloat>() {
        return v
            .extract::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number);
    }
    if v.is_instance_of::<PyString>() {
        return v.extract::<String>().ok().map(Value::String);
    }
    None
}

/// `components` as a `dict` of name → value.
pub fn to_dict<'py>(py: Python<'py>, components: &[Component]) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for c in components {
        let v = c.to_json();
        match v {
            Value::Bool(b) => d.set_item(c.name(), b)?,
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) if c.info().kind == Kind::Int => d.set_item(c.name(), i)?,
                (_, Some(f)) => d.set_item(c.name(), f)?,
                _ => d.set_item(c.name(), py.None())?,
            },
            Value::String(s) => d.set_item(c.name(), s)?,
            _ => d.set_item(c.name(), py.None())?,
        }
    }
    Ok(d)
}

/// `components()`: every component of this build's registry as
/// `(name, kind, unit or None, variants)`, in id order (`components.toml`).
#[pyfunction]
pub fn components() -> Vec<(
    &'static str,
    String,
    Option<&'static str>,
    Vec<&'static str>,
)> {
    COMPONENTS
        .iter()
        .map(|c| (c.name, c.kind.to_string(), c.unit, c.variants.to_vec()))
        .collect()
}
