//! A small YAML emitter mimicking PyYAML's `yaml.dump` of plain data, for the
//! `to_yaml` / `to_nice_yaml` filters.
//!
//! Covered: block and flow styles (`default_flow_style` False / None), PyYAML's
//! indentless sequences inside mappings and `-   key:` padding for indent 4,
//! sorted keys, the YAML 1.1 implicit-type quoting rules (a string that would
//! read back as bool/int/float/null is single-quoted), `'…'` vs `"…"` choice,
//! and the `...` document end after a bare top-level scalar. Not covered:
//! PyYAML's line folding of long scalars at 80 columns.

use serde_json::Value as Json;

/// Dump `j` like `yaml.dump(j, indent=indent, default_flow_style=flow,
/// sort_keys=sort, allow_unicode=True)`.
pub fn dump(j: &Json, indent: usize, flow: Option<bool>, sort: bool) -> String {
    let e = Emitter { indent, flow, sort };
    let mut out = String::new();
    if is_scalar(j) || is_empty_collection(j) || e.use_flow(j) {
        out.push_str(&e.flow_node(j));
        out.push('\n');
        if is_scalar(j) {
            out.push_str("...\n");
        }
        return out;
    }
    e.block(j, 0, &mut out);
    out
}

struct Emitter {
    indent: usize,
    flow: Option<bool>,
    sort: bool,
}

fn is_scalar(j: &Json) -> bool {
    !matches!(j, Json::Array(_) | Json::Object(_))
}

fn is_empty_collection(j: &Json) -> bool {
    match j {
        Json::Array(a) => a.is_empty(),
        Json::Object(o) => o.is_empty(),
        _ => false,
    }
}

impl Emitter {
    fn use_flow(&self, j: &Json) -> bool {
        match self.flow {
            Some(f) => f,
            None => match j {
                Json::Array(a) => a.iter().all(is_scalar),
                Json::Object(o) => o.values().all(is_scalar),
                _ => true,
            },
        }
    }

    fn entries<'a>(&self, o: &'a serde_json::Map<String, Json>) -> Vec<(&'a String, &'a Json)> {
        let mut v: Vec<_> = o.iter().collect();
        if self.sort {
            v.sort_by(|a, b| a.0.cmp(b.0));
        }
        v
    }

    fn flow_node(&self, j: &Json) -> String {
        match j {
            Json::Array(a) => {
                let items: Vec<String> = a.iter().map(|x| self.flow_node_in(x)).collect();
                format!("[{}]", items.join(", "))
            }
            Json::Object(o) => {
                let items: Vec<String> = self
                    .entries(o)
                    .into_iter()
                    .map(|(k, v)| format!("{}: {}", scalar_str(k, true), self.flow_node_in(v)))
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
            other => scalar(other, false),
        }
    }

    fn flow_node_in(&self, j: &Json) -> String {
        match j {
            Json::Array(_) | Json::Object(_) => self.flow_node(j),
            other => scalar(other, true),
        }
    }

    /// Emit a non-empty collection in block style; the first line starts at
    /// the current position (the caller wrote any indentation / `- `).
    fn block(&self, j: &Json, col: usize, out: &mut String) {
        match j {
            Json::Object(o) => {
                for (i, (k, v)) in self.entries(o).into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(&" ".repeat(col));
                    }
                    out.push_str(&scalar_str(k, false));
                    out.push(':');
                    self.value_after_key(v, col, out);
                }
            }
            Json::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push_str(&" ".repeat(col));
                    }
                    out.push('-');
                    if is_scalar(v) || is_empty_collection(v) || self.use_flow(v) {
                        out.push(' ');
                        out.push_str(&self.flow_node(v));
                        out.push('\n');
                    } else {
                        let pad = self.indent.max(2) - 1;
                        out.push_str(&" ".repeat(pad));
                        self.block(v, col + pad + 1, out);
                    }
                }
            }
            other => {
                out.push_str(&scalar(other, false));
                out.push('\n');
            }
        }
    }

    fn value_after_key(&self, v: &Json, col: usize, out: &mut String) {
        if is_scalar(v) || is_empty_collection(v) || self.use_flow(v) {
            out.push(' ');
            out.push_str(&self.flow_node(v));
            out.push('\n');
            return;
        }
        out.push('\n');
        match v {
            // PyYAML writes sequences inside mappings without extra indentation.
            Json::Array(_) => {
                out.push_str(&" ".repeat(col));
                self.block(v, col, out);
            }
            _ => {
                out.push_str(&" ".repeat(col + self.indent));
                self.block(v, col + self.indent, out);
            }
        }
    }
}

fn scalar(j: &Json, in_flow: bool) -> String {
    match j {
        Json::Null => "null".into(),
        Json::Bool(b) => if *b { "true" } else { "false" }.into(),
        Json::Number(n) => {
            if n.is_f64() {
                let f = n.as_f64().unwrap_or(0.0);
                if f.is_nan() {
                    ".nan".into()
                } else if f.is_infinite() {
                    if f > 0.0 { ".inf" } else { "-.inf" }.into()
                } else {
                    let s = super::pyrepr::py_float(f);
                    // PyYAML writes exponents with a mantissa dot: 1.0e+20
                    match s.split_once('e') {
                        Some((m, e)) if !m.contains('.') => format!("{m}.0e{e}"),
                        _ => s,
                    }
                }
            } else {
                n.to_string()
            }
        }
        Json::String(s) => scalar_str(s, in_flow),
        other => other.to_string(),
    }
}

fn scalar_str(s: &str, in_flow: bool) -> String {
    if needs_double(s) {
        return double_quoted(s);
    }
    if plain_ok(s, in_flow) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "''"))
}

fn needs_double(s: &str) -> bool {
    s.chars().any(|c| {
        (c < ' ' && c != '\t')
            || c == '\u{7f}'
            || c == '\u{feff}'
            || c == '\u{85}'
            || c == '\u{2028}'
            || c == '\u{2029}'
    })
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02X}", c as u32))
            }
            '\u{feff}' => out.push_str("\\uFEFF"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Would PyYAML write this string as a plain scalar?
fn plain_ok(s: &str, in_flow: bool) -> bool {
    if s.is_empty() || resolves_to_non_string(s) {
        return false;
    }
    if s.starts_with(' ') || s.ends_with(' ') || s.starts_with('\t') || s.ends_with('\t') {
        return false;
    }
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    let second = s.chars().nth(1);
    if "#,[]{}&*!|>'\"%@`".contains(first) {
        return false;
    }
    if "-?:".contains(first) && second.is_none_or(|c| c == ' ') {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if in_flow && s.chars().any(|c| ",[]{}".contains(c)) {
        return false;
    }
    if in_flow && s.contains(':') {
        return false;
    }
    true
}

/// YAML 1.1 implicit resolvers (PyYAML's): bool, null, int, float, timestamp,
/// merge, value.
fn resolves_to_non_string(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
        "on", "On", "ON", "off", "Off", "OFF", "~", "null", "Null", "NULL", "<<", "=", ".inf",
        ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", "+.inf", "+.Inf", "+.INF", ".nan", ".NaN",
        ".NAN",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    if body.is_empty() {
        return false;
    }
    // ints: decimal (with _), 0b, 0x, octal, sexagesimal
    let is_dec = |t: &str| {
        !t.is_empty()
            && t.chars().all(|c| c.is_ascii_digit() || c == '_')
            && t.starts_with(|c: char| c.is_ascii_digit())
    };
    if is_dec(body) {
        return true;
    }
    if let Some(b) = body.strip_prefix("0b") {
        if !b.is_empty() && b.chars().all(|c| c == '0' || c == '1' || c == '_') {
            return true;
        }
    }
    if let Some(x) = body.strip_prefix("0x") {
        if !x.is_empty() && x.chars().all(|c| c.is_ascii_hexdigit() || c == '_') {
            return true;
        }
    }
    if body.contains(':') {
        let parts: Vec<&str> = body.split(':').collect();
        if parts[0].starts_with(|c: char| c.is_ascii_digit())
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_digit() || c == '_' || c == '.')
            })
        {
            return true;
        }
    }
    // floats: [0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?
    if let Some(dot) = body.find('.') {
        let (int_part, rest) = body.split_at(dot);
        let rest = &rest[1..];
        let (frac, exp) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let int_ok = int_part.is_empty() || is_dec(int_part);
        let frac_ok = frac.chars().all(|c| c.is_ascii_digit() || c == '_');
        let exp_ok = match exp {
            None => true,
            Some(e) => {
                let d = e.strip_prefix(['-', '+']);
                d.is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
            }
        };
        if int_ok && frac_ok && exp_ok && (!int_part.is_empty() || !frac.is_empty()) {
            return true;
        }
    }
    // timestamps: YYYY-MM-DD...
    let b = s.as_bytes();
    if b.len() >= 8
        && b[..4].iter().all(|c| c.is_ascii_digit())
        && b[4] == b'-'
        && s[5..]
            .split(['-', 'T', 't', ' '])
            .next()
            .is_some_and(|m| !m.is_empty() && m.len() <= 2 && m.chars().all(|c| c.is_ascii_digit()))
    {
        return true;
    }
    false
}
