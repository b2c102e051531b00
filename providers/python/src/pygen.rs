//! The source of `igloo/registry.py`: one Python class per component of
//! this build's registry (`COMPONENTS`, which the protocol crate generates
//! from `components.toml`), in id order, and the `Values` `TypedDict`.
//!
//! The file is committed (so mypy, ruff and maturin see a plain module) and
//! written by `scripts/gen-python-registry` from this function's output;
//! `tests/tests/python_provider.rs` fails when the committed file differs
//! from it (docs/providers-python.md, "The component classes"). The output
//! is already `ruff format`-clean: keep it so when changing this file.

use std::fmt::Write as _;

use igloo_provider::protocol::{COMPONENTS, ComponentInfo, Kind};
use pyo3::prelude::*;

/// Line length of the repository's Python (pyproject.toml `[tool.ruff]`).
const LINE: usize = 100;

const HEADER: &str = r#"# Generated from components.toml by igloo-py (providers/python/src/pygen.rs): do not edit.
# Regenerate with scripts/gen-python-registry; tests/tests/python_provider.rs fails when this
# file differs from what the built module generates.
"""The component registry (components.toml) as Python classes, one per component in id order.

Each class holds its component's ``name``, ``id``, ``kind``, ``unit`` and ``variants``, and its
docstring says what it is. Make a value with the class (checked by the Rust SDK exactly as a
dict value is; a wrong kind raises ``igloo.ComponentError``), write a list of them, and read
change requests typed with ``of``::

    from igloo.registry import Brightness, Light, Switch

    await provider.write(lamp, light, [Light(), Switch(True), Brightness(40.0)])
    level = Brightness.of(event.values)  # float | None

``Values`` types the dict form for mypy: ``values: Values = {"Brightness": 40.0}``.
"""

from typing import Any, Literal, TypedDict

from igloo._component import Component, Marker
"#;

/// The Python type of a component's value.
fn value_type(info: &ComponentInfo) -> String {
    match info.kind {
        Kind::Marker => "Literal[True]".into(),
        Kind::Bool => "bool".into(),
        Kind::Int => "int".into(),
        Kind::Float => "float".into(),
        Kind::String | Kind::Color => "str".into(),
        Kind::Enum => variant_alias(info),
    }
}

/// The name of an enum component's `Literal` alias.
fn variant_alias(info: &ComponentInfo) -> String {
    format!("{}Variant", info.name)
}

/// `s` as a Python string literal (double quotes, as ruff formats it).
fn literal(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `text` in lines of at most `LINE` characters after `indent` spaces.
fn wrap(text: &str, indent: usize) -> Vec<String> {
    let width = LINE - indent;
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Docstring text: no backslashes or triple quotes can end it early.
fn doc_text(s: &str) -> String {
    s.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"")
}

/// The second docstring paragraph: id, kind, unit, variants.
fn facts(info: &ComponentInfo) -> String {
    let mut s = format!("Id {}; kind {}", info.id, info.kind);
    match info.kind {
        Kind::Marker => write!(s, " (no value: ``{}()``)", info.name),
        Kind::Color => s.write_str(" (``\"#rrggbb\"``)"),
        _ => Ok(()),
    }
    .ok();
    if let Some(unit) = info.unit {
        write!(s, "; unit {unit}").ok();
    }
    if !info.variants.is_empty() {
        write!(s, "; variants {}", info.variants.join(", ")).ok();
    }
    s.push('.');
    s
}

/// `items` as a bracketed, one-per-line list with a trailing comma (the
/// form `ruff format` keeps as it is).
fn exploded(open: &str, items: &[String], close: &str, indent: usize) -> String {
    let pad = " ".repeat(indent + 4);
    let mut s = format!("{open}\n");
    for item in items {
        writeln!(s, "{pad}{item},").ok();
    }
    write!(s, "{}{close}", " ".repeat(indent)).ok();
    s
}

fn class(s: &mut String, info: &ComponentInfo) {
    let base = match info.kind {
        Kind::Marker => "Marker".to_string(),
        _ => format!("Component[{}]", value_type(info)),
    };
    writeln!(s, "\n\nclass {}({base}):", info.name).ok();
    s.push_str("    \"\"\"");
    // 4 spaces, and the opening quotes on the first line.
    let desc = wrap(&doc_text(info.desc), 7);
    for (i, line) in desc.iter().enumerate() {
        if i > 0 {
            s.push_str("\n    ");
        }
        s.push_str(line);
    }
    s.push_str("\n\n");
    for line in wrap(&doc_text(&facts(info)), 4) {
        writeln!(s, "    {line}").ok();
    }
    s.push_str("    \"\"\"\n\n");
    writeln!(s, "    name = {}", literal(info.name)).ok();
    writeln!(s, "    id = {}", info.id).ok();
    writeln!(s, "    kind = {}", literal(&info.kind.to_string())).ok();
    match info.unit {
        Some(u) => writeln!(s, "    unit = {}", literal(u)),
        None => writeln!(s, "    unit = None"),
    }
    .ok();
    if info.variants.is_empty() {
        writeln!(s, "    variants = ()").ok();
    } else {
        let items: Vec<String> = info.variants.iter().map(|v| literal(v)).collect();
        writeln!(s, "    variants = {}", exploded("(", &items, ")", 4)).ok();
    }
}

/// The whole of `igloo/registry.py`.
pub fn source() -> String {
    let mut s = String::from(HEADER);
    let mut all: Vec<String> = ["ALL", "Component", "Marker", "Values"]
        .map(String::from)
        .to_vec();
    all.extend(COMPONENTS.iter().map(|c| c.name.to_string()));
    all.extend(
        COMPONENTS
            .iter()
            .filter(|c| c.kind == Kind::Enum)
            .map(variant_alias),
    );
    // The order ruff's RUF022 wants: SCREAMING_CASE, then the rest, each sorted.
    all.sort_by_key(|n| (n.chars().any(|c| c.is_ascii_lowercase()), n.clone()));
    let all: Vec<String> = all.iter().map(|n| literal(n)).collect();
    writeln!(s, "\n__all__ = {}", exploded("[", &all, "]", 0)).ok();
    for info in COMPONENTS.iter().filter(|c| c.kind == Kind::Enum) {
        let items: Vec<String> = info.variants.iter().map(|v| literal(v)).collect();
        writeln!(
            s,
            "\n{} = {}",
            variant_alias(info),
            exploded("Literal[", &items, "]", 0)
        )
        .ok();
        writeln!(s, "\"\"\"The variant names of ``{}``.\"\"\"", info.name).ok();
    }
    for info in COMPONENTS {
        class(&mut s, info);
    }
    s.push_str("\n\nclass Values(TypedDict, total=False):\n");
    s.push_str(
        "    \"\"\"Component name → the type of its value: a dict of values that mypy checks.\"\"\"\n\n",
    );
    for info in COMPONENTS {
        writeln!(s, "    {}: {}", info.name, value_type(info)).ok();
    }
    let classes: Vec<String> = COMPONENTS.iter().map(|c| c.name.to_string()).collect();
    writeln!(
        s,
        "\n\nALL: tuple[type[Component[Any]], ...] = {}",
        exploded("(", &classes, ")", 0)
    )
    .ok();
    s.push_str("\"\"\"Every component class, in id order: ``ALL[id]``.\"\"\"\n");
    s
}

/// `_registry_source()`: the text `igloo/registry.py` must hold for this
/// build's registry (for `scripts/gen-python-registry` and the test that
/// fails when the committed file is stale).
#[pyfunction]
#[pyo3(name = "_registry_source")]
pub fn registry_source() -> String {
    source()
}
