//! Where each key of a `[provider.config]` section is in `igloo.toml`, so
//! that a provider's complaint about a key (`igloo.config_error`) and the
//! core's warnings name the line; and the warnings about `grant` indices
//! that name no `[[provider.grant]]` rule (docs/configuration.md).

use std::collections::BTreeMap;

use super::line_col;

/// [`ProviderConfig::config_line`] over a key → line map.
pub fn lookup_line(lines: &BTreeMap<String, usize>, key: &str) -> Option<usize> {
    let mut key = key;
    loop {
        if let Some(line) = lines.get(key) {
            return Some(*line);
        }
        match key.rfind('.') {
            Some(i) => key = &key[..i],
            None if !key.is_empty() => key = "",
            None => return None,
        }
    }
}

/// Warnings for every integer key named `grant` in a `[provider.config]`
/// section (at any depth) whose value is not the index of one of the
/// provider's `rules` `[[provider.grant]]` rules: by convention
/// (docs/configuration.md) such a key names the rule whose device that part
/// of the provider uses, and with no rule it never gets one. `place` gives
/// `file:line` for a dotted key.
pub fn grant_reference_warnings(
    config: &toml::Table,
    rules: usize,
    place: &dyn Fn(&str) -> String,
) -> Vec<String> {
    fn walk(
        v: &toml::Value,
        key: &str,
        rules: usize,
        place: &dyn Fn(&str) -> String,
        out: &mut Vec<String>,
    ) {
        let join = |k: &str| match key.is_empty() {
            true => k.to_string(),
            false => format!("{key}.{k}"),
        };
        match v {
            toml::Value::Table(t) => {
                for (k, child) in t {
                    let path = join(k);
                    match child {
                        toml::Value::Integer(n)
                            if k == "grant" && (*n < 0 || *n as u64 >= rules as u64) =>
                        {
                            out.push(format!(
                                "{}: [provider.config] {path} = {n}, but the provider has {} (rules are numbered from 0 in file order); that part gets no device",
                                place(&path),
                                match rules {
                                    0 => "no [[provider.grant]] rule".to_string(),
                                    1 => "1 [[provider.grant]] rule".to_string(),
                                    r => format!("{r} [[provider.grant]] rules"),
                                }
                            ));
                        }
                        _ => walk(child, &path, rules, place, out),
                    }
                }
            }
            toml::Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    walk(child, &join(&i.to_string()), rules, place, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(
        &toml::Value::Table(config.clone()),
        "",
        rules,
        place,
        &mut out,
    );
    out
}

/// The line of every key under the `index`-th `[[provider]]`'s `config`
/// table in `text` (see [`ProviderConfig::config_lines`]).
pub fn config_lines(text: &str, index: usize) -> BTreeMap<String, usize> {
    use toml::de::{DeTable, DeValue};
    fn get<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<&'a toml::Spanned<DeValue<'i>>> {
        t.iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| v)
    }
    fn walk(
        text: &str,
        path: &str,
        v: &toml::Spanned<DeValue<'_>>,
        out: &mut BTreeMap<String, usize>,
    ) {
        out.insert(path.to_string(), line_col(text, v.span().start).0);
        let join = |k: &str| match path.is_empty() {
            true => k.to_string(),
            false => format!("{path}.{k}"),
        };
        match v.get_ref() {
            DeValue::Table(t) => {
                for (k, child) in t.iter() {
                    walk(text, &join(k.get_ref()), child, out);
                }
            }
            DeValue::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    walk(text, &join(&i.to_string()), child, out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    let Ok(root) = DeTable::parse(text) else {
        return out;
    };
    let section = get(root.get_ref(), "provider")
        .and_then(|p| match p.get_ref() {
            DeValue::Array(a) => a.get(index),
            _ => None,
        })
        .and_then(|p| match p.get_ref() {
            DeValue::Table(t) => get(t, "config"),
            _ => None,
        });
    if let Some(section) = section {
        walk(text, "", section, &mut out);
    }
    out
}
