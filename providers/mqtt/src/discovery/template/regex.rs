//! Home Assistant's regular-expression filters and tests, after its
//! templating docs ("Regular expressions"): `regex_match`, `regex_search`,
//! `regex_replace`, `regex_findall`, `regex_findall_index` (filters) and
//! `match`, `search` (tests). Each takes `find` (the pattern) and
//! `ignorecase` (default false), positionally or by keyword, as Python's `re`
//! functions they wrap: `match` is anchored at the start, `search` is not,
//! `regex_replace` replaces every match, `regex_findall` gives the matches
//! (or, with groups, the group, or a list of the groups).
//!
//! Patterns run on regex-lite: Python's common syntax (classes, groups,
//! named groups `(?P<name>…)`, repetition, anchors), no look-around or
//! back-references (a pattern using them fails to compile, so the template
//! fails and its value is skipped), ASCII-only `\d`, `\w`, `\s`. Matching is
//! linear in the payload, whatever the pattern. A replacement is Python's:
//! `\1`, `\g<1>`, `\g<name>`, `\n`, `\t`, `\\`.

use std::cell::RefCell;
use std::collections::HashMap;

use minijinja::value::Kwargs;
use minijinja::{Error, ErrorKind, Value};
use regex_lite::{Regex, RegexBuilder};

/// Compiled program size bound for one pattern (bytes): config patterns are
/// short; a huge one fails instead of taking memory.
const SIZE_LIMIT: usize = 1 << 20;

/// Compiled patterns kept per thread; all are dropped when it is full (a
/// config's patterns are few, a hostile stream of new ones cannot grow it).
const CACHE_SIZE: usize = 64;

thread_local! {
    /// `(pattern as compiled, ignorecase)` → its compiled form.
    static CACHE: RefCell<HashMap<(String, bool), Regex>> = RefCell::new(HashMap::new());
}

fn err(what: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, what)
}

/// `find` and `ignorecase`, positional or by keyword.
fn pattern(
    find: Option<String>,
    ignorecase: Option<bool>,
    kwargs: &Kwargs,
    anchored: bool,
) -> Result<Regex, Error> {
    let find = match find {
        Some(f) => f,
        None => kwargs.get::<Option<String>>("find")?.unwrap_or_default(),
    };
    let ignorecase = match ignorecase {
        Some(i) => i,
        None => kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false),
    };
    let source = if anchored {
        format!(r"\A(?:{find})")
    } else {
        find.clone()
    };
    // A template renders per message with the same patterns: each is
    // compiled once (per thread), as Python's `re` caches them.
    let key = (source, ignorecase);
    if let Some(re) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(re);
    }
    let re = RegexBuilder::new(&key.0)
        .case_insensitive(ignorecase)
        .size_limit(SIZE_LIMIT)
        .build()
        .map_err(|e| err(format!("regex {find:?}: {e}")))?;
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_SIZE {
            c.clear();
        }
        c.insert(key, re.clone());
    });
    Ok(re)
}

/// `regex_match(find, ignorecase)` and the `match` test: a match at the start.
pub fn regex_match(
    value: &str,
    find: Option<String>,
    ignorecase: Option<bool>,
    kwargs: Kwargs,
) -> Result<bool, Error> {
    let re = pattern(find, ignorecase, &kwargs, true)?;
    kwargs.assert_all_used()?;
    Ok(re.is_match(value))
}

/// `regex_search(find, ignorecase)` and the `search` test: a match anywhere.
pub fn regex_search(
    value: &str,
    find: Option<String>,
    ignorecase: Option<bool>,
    kwargs: Kwargs,
) -> Result<bool, Error> {
    let re = pattern(find, ignorecase, &kwargs, false)?;
    kwargs.assert_all_used()?;
    Ok(re.is_match(value))
}

/// `regex_replace(find, replace, ignorecase)`: every match replaced.
pub fn regex_replace(
    value: &str,
    find: Option<String>,
    replace: Option<String>,
    ignorecase: Option<bool>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let re = pattern(find, ignorecase, &kwargs, false)?;
    let replace = match replace {
        Some(r) => r,
        None => kwargs.get::<Option<String>>("replace")?.unwrap_or_default(),
    };
    kwargs.assert_all_used()?;
    Ok(re
        .replace_all(value, python_replacement(&replace).as_str())
        .into_owned())
}

/// `regex_findall(find, ignorecase)`: Python's `re.findall`.
pub fn regex_findall(
    value: &str,
    find: Option<String>,
    ignorecase: Option<bool>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let re = pattern(find, ignorecase, &kwargs, false)?;
    kwargs.assert_all_used()?;
    Ok(Value::from(findall(&re, value)))
}

/// `regex_findall_index(find, index, ignorecase)`: item `index` of
/// `regex_findall`; an error when there is none.
pub fn regex_findall_index(
    value: &str,
    find: Option<String>,
    index: Option<i64>,
    ignorecase: Option<bool>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let index = match index {
        Some(i) => i,
        None => kwargs.get::<Option<i64>>("index")?.unwrap_or(0),
    };
    let re = pattern(find, ignorecase, &kwargs, false)?;
    kwargs.assert_all_used()?;
    let all = findall(&re, value);
    // Python's negative indexes count from the end.
    let at = if index < 0 {
        all.len().checked_sub(index.unsigned_abs() as usize)
    } else {
        usize::try_from(index).ok()
    };
    at.and_then(|i| all.get(i).cloned()).ok_or_else(|| {
        err(format!(
            "regex_findall_index: no match {index} ({} found)",
            all.len()
        ))
    })
}

/// Every match: the text without groups, the group with one, the groups
/// (unmatched ones empty) with more.
fn findall(re: &Regex, value: &str) -> Vec<Value> {
    let groups = re.captures_len() - 1;
    re.captures_iter(value)
        .map(|c| {
            let text = |i: usize| Value::from(c.get(i).map_or("", |m| m.as_str()));
            match groups {
                0 => text(0),
                1 => text(1),
                n => Value::from((1..=n).map(text).collect::<Vec<_>>()),
            }
        })
        .collect()
}

/// A Python `re.sub` replacement in regex-lite's syntax: `\1`, `\12`,
/// `\g<1>`, `\g<name>` → `${…}`, `\n`/`\t`/`\\` → the character, `$` → `$$`.
/// Other escapes stay as written.
pub fn python_replacement(python: &str) -> String {
    let mut out = String::with_capacity(python.len());
    let mut chars = python.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.next() {
                Some(d) if d.is_ascii_digit() => {
                    let mut group = d.to_string();
                    if let Some(e) = chars.next_if(char::is_ascii_digit) {
                        group.push(e);
                    }
                    out.push_str(&format!("${{{group}}}"));
                }
                Some('g') if chars.peek() == Some(&'<') => {
                    chars.next();
                    let name: String = chars.by_ref().take_while(|c| *c != '>').collect();
                    out.push_str(&format!("${{{name}}}"));
                }
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('\\') => out.push('\\'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            other => out.push(other),
        }
    }
    out
}
