//! Home Assistant templates (`value_template`, `command_template`,
//! `availability_template`, …) on the MiniJinja engine.
//!
//! Each template is compiled once, when its discovery config arrives
//! ([`Templates::add`]), and rendered per message by name. Entities with the
//! same template text (every Zigbee2MQTT temperature sensor has
//! `{{ value_json.temperature }}`) share one compiled template, counted. The context is what
//! Home Assistant gives: for templates that read a payload, `value` (the
//! payload as text) and `value_json` (the payload parsed as JSON, undefined
//! when it is not JSON); for command templates, `value` (the value to send)
//! plus the platform's extra names (`red`, `green`, `blue`, `brightness`…).
//!
//! Filters and functions besides MiniJinja's built-ins (`int`, `float`,
//! `round`, `default`, `lower`, `replace`, `tojson`, …), written after the
//! descriptions in Home Assistant's templating docs:
//! - `from_json` (filter): text → value; `to_json` (filter): value → JSON text.
//! - `is_defined` (filter): the value, or an error when it is undefined
//!   (so the template fails and the value is skipped, as in Home Assistant).
//! - `iif(if_true, if_false, if_none)` (filter and function): a conditional.
//! - `float(x, default)`, `int(x, default)` (functions, as the filters).
//! - `bitwise_and(n)`, `bitwise_or(n)`, `bitwise_xor(n)` (filters).
//! - `timestamp_custom(format, local, default)`, `timestamp_utc`,
//!   `timestamp_local` (filters): Unix seconds → text. The gateway runs in
//!   UTC, so local time is UTC. Supported `strftime` codes: `%Y %y %m %d %e
//!   %H %I %M %S %p %j %a %A %b %B %f %z %Z %%`.
//! - `regex_match`, `regex_search`, `regex_replace`, `regex_findall`,
//!   `regex_findall_index` (filters), `match`, `search` (tests): see
//!   [`regex`].
//! - Python's string methods (`value.split(',')`, `.lower()`, `.replace(…)`,
//!   `.startswith(…)`, `.items()` …), by minijinja-contrib's `pycompat`.
//!
//! Undefined names render as empty text (Home Assistant's behaviour for a
//! missing JSON key); a Python method pycompat does not know is an error. A
//! failing render is an `Err` with the engine's message: the caller skips that
//! one value and logs it. Each render has a fuel budget, so a template with a
//! huge loop fails instead of stalling the provider.

use std::collections::HashMap;

use minijinja::value::{Kwargs, Rest};
use minijinja::{Environment, Error, ErrorKind, Value};
use serde_json::Value as J;

/// Instructions one render may execute (MiniJinja "fuel"); real templates use
/// tens to hundreds.
pub const FUEL: u64 = 50_000;

/// A compiled template's name in [`Templates`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TemplateId(String);

/// A template that does not compile or render.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(String);

impl From<Error> for TemplateError {
    fn from(e: Error) -> TemplateError {
        // The engine's text names the problem and the line; the detail is
        // already in the kind and position.
        TemplateError(e.to_string())
    }
}

/// The compiled templates of all discovered entities.
pub struct Templates {
    env: Environment<'static>,
    next: u64,
    /// Source text → (name, users).
    by_source: HashMap<String, (String, usize)>,
}

impl Default for Templates {
    fn default() -> Self {
        Templates::new()
    }
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("next", &self.next)
            .finish()
    }
}

impl Templates {
    /// An engine with Home Assistant's filters and no templates.
    pub fn new() -> Templates {
        let mut env = Environment::new();
        env.set_fuel(Some(FUEL));
        env.set_recursion_limit(32);
        // `value.split(',')`, `.lower()`, `.replace(…)`, `.items()` … as in Python.
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_filter("from_json", from_json);
        env.add_filter("to_json", minijinja::filters::tojson);
        env.add_filter("is_defined", is_defined);
        env.add_filter("iif", iif);
        env.add_function("iif", iif);
        env.add_function("float", minijinja::filters::float);
        env.add_function("int", minijinja::filters::int);
        env.add_filter("bitwise_and", |a: i64, b: i64| a & b);
        env.add_filter("bitwise_or", |a: i64, b: i64| a | b);
        env.add_filter("bitwise_xor", |a: i64, b: i64| a ^ b);
        env.add_filter("regex_match", regex::regex_match);
        env.add_filter("regex_search", regex::regex_search);
        env.add_filter("regex_replace", regex::regex_replace);
        env.add_filter("regex_findall", regex::regex_findall);
        env.add_filter("regex_findall_index", regex::regex_findall_index);
        env.add_test("match", regex::regex_match);
        env.add_test("search", regex::regex_search);
        env.add_filter("timestamp_custom", timestamp_custom);
        env.add_filter("timestamp_utc", |v: Value, d: Option<Value>| {
            timestamp(v, "%Y-%m-%dT%H:%M:%S+00:00", d)
        });
        env.add_filter("timestamp_local", |v: Value, d: Option<Value>| {
            timestamp(v, "%Y-%m-%dT%H:%M:%S+00:00", d)
        });
        Templates {
            env,
            next: 0,
            by_source: HashMap::new(),
        }
    }

    /// Compiles `source` (or shares the compiled template of the same text)
    /// and keeps it until every user called [`Templates::remove`].
    ///
    /// # Errors
    /// A syntax error, with the engine's message.
    pub fn add(&mut self, source: &str) -> Result<TemplateId, TemplateError> {
        if let Some((name, users)) = self.by_source.get_mut(source) {
            *users += 1;
            return Ok(TemplateId(name.clone()));
        }
        let name = format!("t{}", self.next);
        self.next += 1;
        self.env
            .add_template_owned(name.clone(), source.to_string())?;
        self.by_source.insert(source.to_string(), (name.clone(), 1));
        Ok(TemplateId(name))
    }

    /// One user less of a template; the last one drops it.
    pub fn remove(&mut self, id: &TemplateId) {
        let Some(source) = self
            .by_source
            .iter()
            .find(|(_, (name, _))| *name == id.0)
            .map(|(s, _)| s.clone())
        else {
            return;
        };
        if let Some((_, users)) = self.by_source.get_mut(&source) {
            *users -= 1;
            if *users == 0 {
                self.by_source.remove(&source);
                self.env.remove_template(&id.0);
            }
        }
    }

    /// Renders `id` with `ctx`.
    ///
    /// # Errors
    /// The render failed (an error in the template, a failing filter, fuel).
    pub fn render(&self, id: &TemplateId, ctx: &Value) -> Result<String, TemplateError> {
        let t = self.env.get_template(&id.0)?;
        Ok(t.render(ctx)?)
    }

    /// Number of compiled templates kept (shared ones count once).
    pub fn live(&self) -> usize {
        self.by_source.len()
    }
}

/// The context of templates that read a payload: `value` and `value_json`.
/// Build it once per message and render every template of that topic with it.
pub fn payload_context(payload: &str) -> Value {
    let json = serde_json::from_str::<J>(payload)
        .map(|j| from_serde(&j))
        .unwrap_or(Value::UNDEFINED);
    Value::from_pairs([("value", Value::from(payload)), ("value_json", json)])
}

/// A context with `value` and extra names (command templates).
pub fn command_context(value: Value, extra: &[(&str, Value)]) -> Value {
    Value::from_pairs(
        std::iter::once(("value", value)).chain(extra.iter().map(|(k, v)| (*k, v.clone()))),
    )
}

/// A JSON value as a template value.
pub fn from_serde(v: &J) -> Value {
    match v {
        J::Null => Value::from(()),
        J::Bool(b) => Value::from(*b),
        J::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::from(i),
            (_, Some(u), _) => Value::from(u),
            (_, _, Some(f)) => Value::from(f),
            _ => Value::from(()),
        },
        J::String(s) => Value::from(s.as_str()),
        J::Array(a) => a.iter().map(from_serde).collect(),
        J::Object(m) => Value::from_pairs(m.iter().map(|(k, v)| (k.as_str(), from_serde(v)))),
    }
}

fn from_json(text: &str) -> Result<Value, Error> {
    serde_json::from_str::<J>(text)
        .map(|j| from_serde(&j))
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("from_json: {e}")))
}

fn is_defined(v: Value) -> Result<Value, Error> {
    if v.is_undefined() {
        Err(Error::new(
            ErrorKind::UndefinedError,
            "is_defined: the value is undefined",
        ))
    } else {
        Ok(v)
    }
}

/// `iif(value, if_true=true, if_false=false, if_none=if_false)`.
fn iif(v: Value, args: Rest<Value>) -> Value {
    let pick = |i: usize, default: Value| args.get(i).cloned().unwrap_or(default);
    if v.is_none() || v.is_undefined() {
        let if_false = pick(1, Value::from(false));
        pick(2, if_false)
    } else if v.is_true() {
        pick(0, Value::from(true))
    } else {
        pick(1, Value::from(false))
    }
}

fn timestamp_custom(
    v: Value,
    format: Option<&str>,
    _local: Option<Value>,
    default: Option<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let default = match default {
        Some(d) => Some(d),
        None => kwargs.get::<Option<Value>>("default")?,
    };
    let _: Option<Value> = kwargs.get("local")?;
    kwargs.assert_all_used()?;
    timestamp(v, format.unwrap_or("%Y-%m-%d %H:%M:%S"), default)
}

fn timestamp(v: Value, format: &str, default: Option<Value>) -> Result<Value, Error> {
    let secs = f64::try_from(v.clone())
        .ok()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse::<f64>().ok()))
        .filter(|s| s.is_finite() && s.abs() < 1e13);
    match (secs, default) {
        (Some(s), _) => Ok(Value::from(strftime_utc(s, format))),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("timestamp: {v} is not a Unix time in seconds"),
        )),
    }
}

/// Civil date from days since 1970-01-01 (proleptic Gregorian).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
];

/// `strftime` in UTC for the codes listed in the module docs; other codes are kept as written.
pub fn strftime_utc(secs: f64, format: &str) -> String {
    let whole = secs.floor() as i64;
    let micros = ((secs - secs.floor()) * 1e6).round() as u32 % 1_000_000;
    let days = whole.div_euclid(86_400);
    let tod = whole.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    let (hh, mm, ss) = (tod / 3600, tod / 60 % 60, tod % 60);
    let month = MONTHS[(m - 1) as usize];
    let weekday = WEEKDAYS[days.rem_euclid(7) as usize];
    let yday = days - days_from_civil(y, 1, 1) + 1;
    let mut out = String::with_capacity(format.len() + 8);
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&y.to_string()),
            Some('y') => out.push_str(&format!("{:02}", y.rem_euclid(100))),
            Some('m') => out.push_str(&format!("{m:02}")),
            Some('d') => out.push_str(&format!("{d:02}")),
            Some('e') => out.push_str(&format!("{d:>2}")),
            Some('H') => out.push_str(&format!("{hh:02}")),
            Some('I') => out.push_str(&format!("{:02}", (hh + 11) % 12 + 1)),
            Some('M') => out.push_str(&format!("{mm:02}")),
            Some('S') => out.push_str(&format!("{ss:02}")),
            Some('p') => out.push_str(if hh < 12 { "AM" } else { "PM" }),
            Some('j') => out.push_str(&format!("{yday:03}")),
            Some('a') => out.push_str(&weekday[..3]),
            Some('A') => out.push_str(weekday),
            Some('b') => out.push_str(&month[..3]),
            Some('B') => out.push_str(month),
            Some('f') => out.push_str(&format!("{micros:06}")),
            Some('z') => out.push_str("+0000"),
            Some('Z') => out.push_str("UTC"),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// Explicit paths, so the bench that compiles this file by path finds them too.
#[path = "template/regex.rs"]
pub mod regex;

#[cfg(test)]
#[path = "template/tests.rs"]
mod tests;
