//! Rendering results for people and machines, in Ansible's shapes.
//!
//! The engine emits [`Event`]s to every [`Sink`]; each host's record is rendered
//! whole and written with one call, so records from hosts finishing at once
//! never interleave. `no_log` censoring happens before any sink sees a result.

pub mod human;
pub mod json;
pub mod junit;

use std::io::Write;

use serde::Serialize;
use serde_json::Value;

/// JSON as Ansible's `_dump_results` prints it: keys sorted, 4-space indent,
/// non-ASCII left as is.
pub fn dump_json(v: &Value) -> String {
    let sorted = sort_keys(v);
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    if sorted.serialize(&mut ser).is_err() {
        return String::from("{}");
    }
    String::from_utf8(buf).unwrap_or_default()
}

fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = serde_json::Map::new();
            for k in keys {
                out.insert(k.clone(), sort_keys(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// Python's `json.dumps(v, sort_keys=True)` on one line (`, ` and `: `).
pub fn dump_json_line(v: &Value) -> String {
    let mut out = String::new();
    write_line(&sort_keys(v), &mut out);
    out
}

fn write_line(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            out.push('{');
            for (i, (k, val)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push_str(": ");
                write_line(val, out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, val) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_line(val, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Python's `str()`/`repr()` of plain data, as Ansible shows loop items
/// (`(item={'key': 'a', 'value': 1})`). `top` strings print bare, as `str()` does.
pub fn python_repr(v: &Value, top: bool) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => {
            if n.is_f64() {
                let f = n.as_f64().unwrap_or_default();
                if f.fract() == 0.0 && f.abs() < 1e16 {
                    format!("{f:.1}")
                } else {
                    f.to_string()
                }
            } else {
                n.to_string()
            }
        }
        Value::String(s) if top => s.clone(),
        Value::String(s) => {
            // Python prefers single quotes unless the string holds one.
            let q = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut out = String::new();
            out.push(q);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    c if c == q => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            out.push(q);
            out
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter()
                .map(|x| python_repr(x, false))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, x)| format!(
                    "{}: {}",
                    python_repr(&Value::String(k.clone()), false),
                    python_repr(x, false)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Ansible 2.19's source excerpt (see [`crate::error::excerpt`]).
pub fn excerpt(span: &crate::error::Span) -> String {
    crate::error::excerpt(span)
}

/// `Origin: file:line:col`, a blank line and the excerpt.
pub fn origin(span: &crate::error::Span) -> String {
    crate::error::source_context(span)
}

/// How one task ended on one host (or one loop item).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Changed,
    Failed,
    Skipped,
    Unreachable,
}

/// One host's (or one item's) result, ready for display: already censored
/// for `no_log`, internal keys kept for the renderer to drop.
#[derive(Clone, Debug)]
pub struct HostResult {
    pub host: String,
    pub delegated_to: Option<String>,
    pub outcome: Outcome,
    /// A failure that `ignore_errors` turned into a pass.
    pub ignored: bool,
    pub result: Value,
    /// `(item=…)` label for loop items.
    pub item_label: Option<String>,
    /// Show the result even at verbosity 0 (debug, assert).
    pub verbose_always: bool,
    /// Ansible 2.19's `[ERROR]: Task failed: …` block, printed before a failure.
    pub error: Option<String>,
    /// A looped task's summary (items were shown one by one).
    pub is_loop: bool,
}

/// Per-host counters of the recap.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct HostStats {
    pub ok: u32,
    pub changed: u32,
    pub unreachable: u32,
    pub failed: u32,
    pub skipped: u32,
    pub rescued: u32,
    pub ignored: u32,
}

/// What the engine reports, in order.
#[derive(Debug)]
pub enum Event<'a> {
    PlaybookStart {
        path: &'a str,
        plays: usize,
    },
    PlayStart {
        name: &'a str,
    },
    TaskStart {
        name: &'a str,
        handler: bool,
        /// The action as written (for machine-readable sinks).
        action: &'a str,
        /// `file:line` of the task, when it has one.
        path: Option<&'a str>,
        /// How many hosts run it (for progress).
        hosts: usize,
    },
    Include {
        file: &'a str,
        hosts: &'a [String],
        item: Option<&'a str>,
    },
    Result(&'a HostResult),
    ItemResult(&'a HostResult),
    Retry {
        host: &'a str,
        task: &'a str,
        retries_left: i64,
        result: &'a Value,
    },
    Warning(&'a str),
    NoHostsMatched,
    /// The default callback's `NO MORE HOSTS LEFT` banner.
    NoHostsRemaining,
    Recap(&'a indexmap::IndexMap<String, HostStats>),
}

/// Receives every event; each implementation renders one format.
pub trait Sink: Send + Sync {
    fn event(&self, ev: &Event<'_>);
}

/// Sends every event to several sinks (human output plus `--junit`, say).
pub struct Fanout(pub Vec<std::sync::Arc<dyn Sink>>);

impl Sink for Fanout {
    fn event(&self, ev: &Event<'_>) {
        for s in &self.0 {
            s.event(ev);
        }
    }
}

/// UTC time as ISO 8601 with microseconds, for machine-readable sinks.
pub fn iso_now() -> String {
    let t = crate::modules::timestamp(std::time::SystemTime::now());
    format!("{}Z", t.replacen(' ', "T", 1))
}

/// How one host's ad-hoc result ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    Changed,
    Failed,
    Unreachable,
}

/// Ansible's ad-hoc (minimal callback) record for one host.
pub fn adhoc_record(host: &str, status: Status, result: &Value, text_form: bool) -> String {
    let result = &human::clean(result, 0);
    let get = |k: &str| match result.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    match status {
        Status::Unreachable => format!("{host} | UNREACHABLE! => {}\n", dump_json(result)),
        // The text form concatenates stdout, stderr and msg exactly as Ansible does.
        Status::Failed if text_form && result.get("rc").is_some() => format!(
            "{host} | FAILED | rc={} >>\n{}{}{}\n",
            rc_of(result),
            get("stdout"),
            get("stderr"),
            get("msg")
        ),
        Status::Failed => format!("{host} | FAILED! => {}\n", dump_json(result)),
        Status::Ok | Status::Changed => {
            let caption = if status == Status::Changed {
                "CHANGED"
            } else {
                "SUCCESS"
            };
            if text_form {
                format!(
                    "{host} | {caption} | rc={} >>\n{}{}{}\n",
                    rc_of(result),
                    get("stdout"),
                    get("stderr"),
                    get("msg")
                )
            } else {
                format!("{host} | {caption} => {}\n", dump_json(result))
            }
        }
    }
}

fn rc_of(result: &Value) -> String {
    match result.get("rc") {
        Some(Value::Number(n)) => n.to_string(),
        _ => "-1".to_string(),
    }
}

/// Write a whole record to stdout in one call.
pub fn emit(record: &str) {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    let _ = lock.write_all(record.as_bytes());
    let _ = lock.flush();
}

/// `[WARNING]: …` on stderr, as Ansible prints warnings.
pub fn warn(msg: &str) {
    let _ = writeln!(std::io::stderr().lock(), "[WARNING]: {msg}");
}

/// A warning shown once: Ansible does not repeat a warning's exact text
/// (with its origin), e.g. for each host.
pub fn warn_once(msg: &str) {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let Ok(mut seen) = SEEN.lock() else {
        return;
    };
    if !seen.iter().any(|m| m == msg) {
        seen.push(msg.to_string());
        // Printed under the lock so concurrent hosts cannot both print it.
        warn(msg);
    }
}

/// `[ERROR]: …` on stderr once for the same text (Ansible reports an
/// include's load error once, not per host).
pub fn error_once(msg: &str) {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let Ok(mut seen) = SEEN.lock() else {
        return;
    };
    if !seen.iter().any(|m| m == msg) {
        seen.push(msg.to_string());
        let _ = writeln!(std::io::stderr().lock(), "[ERROR]: {msg}");
    }
}

/// One of ansible-core 2.19's deprecation warnings (all of ferry's are for
/// removal in 2.23) on stderr, with its origin and optional help text.
/// Like Ansible, the same text is shown once, the first one is preceded by
/// a note on how to disable them, and `ANSIBLE_DEPRECATION_WARNINGS` off
/// silences them.
pub fn deprecated(msg: &str, span: &crate::error::Span, help: Option<&str>) {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    if std::env::var("ANSIBLE_DEPRECATION_WARNINGS").is_ok_and(|v| !crate::config::ansible_bool(&v))
    {
        return;
    }
    let help = help.map(|h| format!("{h}\n\n")).unwrap_or_default();
    let text = format!(
        "[DEPRECATION WARNING]: {msg} This feature will be removed from ansible-core version 2.23.\n{}\n{help}",
        origin(span)
    );
    let Ok(mut seen) = SEEN.lock() else {
        return;
    };
    if seen.contains(&text) {
        return;
    }
    if seen.is_empty() {
        warn("Deprecation warnings can be disabled by setting `deprecation_warnings=False` in ansible.cfg.");
    }
    seen.push(text.clone());
    // Hold the lock while printing so concurrent hosts keep the order.
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_like_python() {
        let v = json!({"b": 1, "a": {"d": [1, "é"], "c": true}});
        assert_eq!(
            dump_json(&v),
            "{\n    \"a\": {\n        \"c\": true,\n        \"d\": [\n            1,\n            \"é\"\n        ]\n    },\n    \"b\": 1\n}"
        );
    }

    #[test]
    fn one_line_json_and_repr() {
        let v = json!({"b": [1, "x"], "a": null});
        assert_eq!(dump_json_line(&v), "{\"a\": null, \"b\": [1, \"x\"]}");
        let item = json!({"key": "a", "value": [true, null, 1.0, "it's"]});
        assert_eq!(
            python_repr(&item, true),
            "{'key': 'a', 'value': [True, None, 1.0, \"it's\"]}"
        );
        assert_eq!(python_repr(&json!("plain"), true), "plain");
    }

    #[test]
    fn adhoc_text_and_json_forms() {
        let r = json!({"rc": 2, "stdout": "", "stderr": "ls: nope", "msg": "non-zero return code", "failed": true});
        assert_eq!(
            adhoc_record("h1", Status::Failed, &r, true),
            "h1 | FAILED | rc=2 >>\nls: nopenon-zero return code\n"
        );
        let r = json!({"rc": 0, "stdout": "hi", "stderr": "", "msg": "", "changed": true});
        assert_eq!(
            adhoc_record("h1", Status::Changed, &r, true),
            "h1 | CHANGED | rc=0 >>\nhi\n"
        );
        let r = json!({"changed": false, "ping": "pong"});
        assert_eq!(
            adhoc_record("h1", Status::Ok, &r, false),
            "h1 | SUCCESS => {\n    \"changed\": false,\n    \"ping\": \"pong\"\n}\n"
        );
        let r = json!({"changed": false, "msg": "x", "unreachable": true});
        assert!(adhoc_record("h1", Status::Unreachable, &r, true)
            .starts_with("h1 | UNREACHABLE! => {\n"));
    }
}
