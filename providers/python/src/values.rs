//! Component values between Python and the protocol, in two forms that
//! `Provider.write` takes: a mapping of component name → value
//! (`{"Switch": True, "Brightness": 40.0}`, the HTTP API's JSON forms:
//! marker → `True`, colour → `"#rrggbb"`, enum → its variant name), or an
//! iterable of `igloo.registry` objects (`[Switch(True), Brightness(40.0)]`),
//! which carry a `name` and a `value`. Both are checked against
//! `components.toml` by the protocol crate (`Component::from_json`), here,
//! before anything is sent.

use igloo_provider::protocol::{COMPONENTS, Component, ComponentInfo, Kind};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyMapping, PyString};
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

/// The Python type's name of `v`, for an error message.
fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type()
        .name()
        .map_or("object".into(), |n| n.to_string())
}

/// Component `name` with value `v`.
///
/// # Errors
/// [`ComponentError`] for an unknown name, or naming the component and what
/// it takes (kind, unit, variants) when `v` does not fit.
fn component(name: &str, v: &Bound<'_, PyAny>) -> PyResult<Component> {
    let Some(info) = ComponentInfo::by_name(name) else {
        return Err(ComponentError::new_err(format!(
            "unknown component {name:?} (see components.toml, or igloo.components())"
        )));
    };
    let json = to_json(v).ok_or_else(|| {
        ComponentError::new_err(format!(
            "{} takes a {}, got a Python {}",
            info.name,
            expects(info),
            type_name(v)
        ))
    })?;
    Component::from_json(name, &json).map_err(|e| {
        ComponentError::new_err(format!("{e}; {} takes a {}", info.name, expects(info)))
    })
}

/// `values` as components: a mapping of name → value, or an iterable of
/// objects with a `name` (str) and a `value` (the `igloo.registry` classes).
///
/// # Errors
/// [`ComponentError`] naming the component and what it takes, or saying
/// what `values` should have been.
pub fn from_python(values: &Bound<'_, PyAny>) -> PyResult<Vec<Component>> {
    if let Ok(map) = values.cast::<PyMapping>() {
        return from_mapping(map);
    }
    let not_values = || {
        ComponentError::new_err(format!(
            "values are a dict of component name → value or a list of igloo.registry \
             components, got a Python {}",
            type_name(values)
        ))
    };
    if values.is_instance_of::<PyString>() {
        return Err(not_values());
    }
    let items = values.try_iter().map_err(|_| not_values())?;
    let mut out = Vec::new();
    for item in items {
        let item = item?;
        let name = item
            .getattr("name")
            .ok()
            .and_then(|n| n.extract::<String>().ok())
            .ok_or_else(|| {
                ComponentError::new_err(format!(
                    "a component in a list is an igloo.registry object (with a `name` and a \
                     `value`), got a Python {}",
                    type_name(&item)
                ))
            })?;
        let value = item
            .getattr("value")
            .map_err(|_| ComponentError::new_err(format!("the {name} object has no `value`")))?;
        out.push(component(&name, &value)?);
    }
    Ok(out)
}

fn from_mapping(values: &Bound<'_, PyMapping>) -> PyResult<Vec<Component>> {
    let mut out = Vec::with_capacity(values.len().unwrap_or(0));
    for item in values.items()?.iter() {
        let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let name: String = k
            .extract()
            .map_err(|_| ComponentError::new_err("component names are str"))?;
        out.push(component(&name, &v)?);
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

/// The value of `c` as a Python object: `bool`, `int`, `float` or `str`
/// (a marker is `True`, a colour `"#rrggbb"`, an enum its variant name).
fn to_py(py: Python<'_>, c: &Component) -> PyResult<Py<PyAny>> {
    Ok(match c.to_json() {
        Value::Bool(b) => PyBool::new(py, b).to_owned().into_any().unbind(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) if c.info().kind == Kind::Int => i.into_pyobject(py)?.into_any().unbind(),
            (_, Some(f)) => f.into_pyobject(py)?.into_any().unbind(),
            _ => py.None(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any().unbind(),
        _ => py.None(),
    })
}

/// `components` as a `dict` of name → value.
pub fn to_dict<'py>(py: Python<'py>, components: &[Component]) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for c in components {
        d.set_item(c.name(), to_py(py, c)?)?;
    }
    Ok(d)
}

/// `check_value(name, value)`: the value component `name` takes, as the
/// core will hold it (an int given for a float becomes a float, an enum
/// variant its exact name, a colour lower-case `"#rrggbb"`). The check
/// `Provider.write` does, for the `igloo.registry` constructors.
///
/// # Errors
/// `ComponentError` naming the component and what it takes.
#[pyfunction]
pub fn check_value(py: Python<'_>, name: &str, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    to_py(py, &component(name, value)?)
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
