//! Python-style `str()` / `repr()` of template values.
//!
//! Jinja2 (and so Ansible) turns values into text with Python's `str()`:
//! `True`, `None`, `['a', 'b']`, `{'a': 1}`, `1.0`, `1e+16`. minijinja prints
//! `true`, `none`, `["a", "b"]`; these helpers restore Python's spelling for the
//! formatter, the `string` filter and error messages.

use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Value, ValueKind};

/// The `(grouper, list)` items of `groupby`: Python's namedtuple `GroupTuple`.
/// Ansible turns plain tuples into lists when it prints them, but this
/// namedtuple keeps its parentheses, so it needs its own type.
#[derive(Debug)]
pub struct GroupTuple {
    pub grouper: Value,
    pub list: Value,
}

impl Object for GroupTuple {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match (key.as_usize(), key.as_str()) {
            (Some(0), None) | (None, Some("grouper")) => Some(self.grouper.clone()),
            (Some(1), None) | (None, Some("list")) => Some(self.list.clone()),
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(2)
    }
}

fn is_group_tuple(v: &Value) -> bool {
    v.downcast_object_ref::<GroupTuple>().is_some()
}
use serde_json::Value as Json;

/// Python `str()` of a value: strings as-is, everything else as `repr()`.
pub fn py_str(v: &Value, out: &mut String) {
    match v.kind() {
        ValueKind::String => out.push_str(v.as_str().unwrap_or_default()),
        ValueKind::Bytes => {
            out.push_str(&String::from_utf8_lossy(v.as_bytes().unwrap_or_default()))
        }
        _ => py_repr(v, out),
    }
}

pub fn py_str_string(v: &Value) -> String {
    let mut s = String::new();
    py_str(v, &mut s);
    s
}

/// Python `repr()` of a value.
pub fn py_repr(v: &Value, out: &mut String) {
    match v.kind() {
        ValueKind::Undefined => {}
        ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if v.is_true() { "True" } else { "False" }),
        ValueKind::Number => {
            if v.is_integer() {
                out.push_str(&v.to_string());
            } else {
                match f64::try_from(v.clone()) {
                    Ok(f) => out.push_str(&py_float(f)),
                    Err(_) => out.push_str(&v.to_string()),
                }
            }
        }
        ValueKind::String => quote_str(v.as_str().unwrap_or_default(), out),
        ValueKind::Bytes => {
            out.push('b');
            quote_str(
                &String::from_utf8_lossy(v.as_bytes().unwrap_or_default()),
                out,
            );
        }
        ValueKind::Seq | ValueKind::Iterable => {
            // Plain tuples print as lists in Ansible's output.
            let tuple = is_group_tuple(v);
            out.push(if tuple { '(' } else { '[' });
            if let Ok(iter) = v.try_iter() {
                for (i, item) in iter.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    py_repr(&item, out);
                }
            }
            out.push(if tuple { ')' } else { ']' });
        }
        ValueKind::Map => {
            out.push('{');
            if let Ok(iter) = v.try_iter() {
                for (i, key) in iter.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    py_repr(&key, out);
                    out.push_str(": ");
                    let val = v.get_item(&key).unwrap_or(Value::UNDEFINED);
                    py_repr(&val, out);
                }
            }
            out.push('}');
        }
        _ => out.push_str(&v.to_string()),
    }
}

/// Python float repr: shortest round-trip digits, `.0` for integral values,
/// exponent form outside [1e-4, 1e16).
pub fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match exp.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exp),
        };
        let digits = if digits.len() < 2 {
            format!("0{digits}")
        } else {
            digits.to_string()
        };
        return format!("{mant}e{sign}{digits}");
    }
    let s = format!("{f}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

/// Python string repr: single quotes unless the text holds `'` but no `"`.
pub fn quote_str(s: &str, out: &mut String) {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(q);
}

/// Python `repr()` of a JSON value.
pub fn json_repr(j: &Json) -> String {
    let mut s = String::new();
    py_repr(&super::json_to_value(j), &mut s);
    s
}

/// Python `str()` of a JSON value.
pub fn json_str(j: &Json) -> String {
    match j {
        Json::String(s) => s.clone(),
        other => json_repr(other),
    }
}

/// Python type name of a JSON value.
pub fn json_type_name(j: &Json) -> &'static str {
    match j {
        Json::Null => "NoneType",
        Json::Bool(_) => "bool",
        Json::Number(n) if n.is_f64() => "float",
        Json::Number(_) => "int",
        Json::String(_) => "str",
        Json::Array(_) => "list",
        Json::Object(_) => "dict",
    }
}

/// Python type name of a template value.
pub fn type_name(v: &Value) -> &'static str {
    match v.kind() {
        ValueKind::Undefined => "AnsibleUndefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if v.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq if is_group_tuple(v) => "GroupTuple",
        ValueKind::Seq if v.is_tuple() => "tuple",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        ValueKind::Iterable => "generator",
        _ => super::pydatetime::type_name(v).unwrap_or("object"),
    }
}
