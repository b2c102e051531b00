//! Reading the log files back: the last lines, across rotations, of the
//! whole core or of one provider.
//!
//! Each line is one JSON object (`tracing_subscriber`'s JSON format,
//! flattened): `timestamp`, `level`, `target`, `message` and the event's
//! fields, among them `provider` on every line about a provider. Filtering
//! by provider compares that field, so `mqtt` never matches a line that only
//! mentions "mqtt" in its text. Lines that are not JSON (cut by a full disk)
//! are skipped.

use std::path::Path;

use serde_json::{Map, Value};

use super::writer::file_path;

/// Default number of lines of `GET /api/v1/logs`.
pub const DEFAULT_LINES: usize = 200;
/// Most lines one request may ask for.
pub const MAX_LINES: usize = 5000;

/// Whether a parsed line is about provider `name` (its `provider` field).
pub fn is_about(line: &Map<String, Value>, name: &str) -> bool {
    line.get("provider").and_then(Value::as_str) == Some(name)
}

/// Parses one line of the file; `None` for a line that is not a JSON object.
pub fn parse(text: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// The last `n` lines in `dir` (oldest first), from `igloo.log` and as many
/// of `igloo.log.1` … `igloo.log.<files>` as needed, only provider
/// `provider`'s when given. Missing files are skipped.
///
/// # Errors
/// A file that exists but cannot be read.
pub fn tail(
    dir: &Path,
    files: u32,
    n: usize,
    provider: Option<&str>,
) -> std::io::Result<Vec<Map<String, Value>>> {
    let mut newest_first = Vec::new();
    for index in 0..=files {
        if newest_first.len() >= n {
            break;
        }
        let text = match std::fs::read(file_path(dir, index)) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for line in text.lines().rev() {
            let Some(m) = parse(line) else { continue };
            if provider.is_some_and(|p| !is_about(&m, p)) {
                continue;
            }
            newest_first.push(m);
            if newest_first.len() >= n {
                break;
            }
        }
    }
    newest_first.reverse();
    Ok(newest_first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(i: usize, provider: Option<&str>) -> String {
        let mut v = serde_json::json!({"level": "INFO", "message": format!("line {i}")});
        if let Some(p) = provider {
            v["provider"] = p.into();
        }
        format!("{v}\n")
    }

    #[test]
    fn reads_back_across_rotated_files_and_filters_by_provider() {
        let dir = tempfile::tempdir().unwrap();
        let mut old = String::new();
        let mut new = String::new();
        for i in 0..10 {
            old.push_str(&line(i, (i % 2 == 0).then_some("mqtt")));
        }
        new.push_str("{\"cut off by a full disk\n");
        for i in 10..15 {
            new.push_str(&line(i, (i % 2 == 0).then_some("mqtt-2")));
        }
        std::fs::write(file_path(dir.path(), 1), old).unwrap();
        std::fs::write(file_path(dir.path(), 0), new).unwrap();
        let msgs = |v: Vec<Map<String, Value>>| -> Vec<String> {
            v.iter()
                .map(|m| m["message"].as_str().unwrap().to_string())
                .collect()
        };
        let all = tail(dir.path(), 5, 7, None).unwrap();
        assert_eq!(
            msgs(all),
            [
                "line 8", "line 9", "line 10", "line 11", "line 12", "line 13", "line 14"
            ]
        );
        let mqtt = tail(dir.path(), 5, 3, Some("mqtt")).unwrap();
        assert_eq!(msgs(mqtt), ["line 4", "line 6", "line 8"]);
        // Only the files that are kept are read.
        assert!(tail(dir.path(), 0, 10, Some("mqtt")).unwrap().is_empty());
        assert!(
            tail(&dir.path().join("none"), 5, 10, None)
                .unwrap()
                .is_empty()
        );
    }
}
