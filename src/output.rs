//! Rendering results for people and machines, in Ansible's shapes.
//!
//! Each host's record is rendered whole and written with one call, so records
//! from hosts finishing at once never interleave.

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
