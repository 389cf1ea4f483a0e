//! A small YAML emitter mimicking PyYAML's `yaml.dump` of plain data, for the
//! `to_yaml` / `to_nice_yaml` filters.
//!
//! Covered: block and flow styles (`default_flow_style` False / None), PyYAML's
//! indentless sequences inside mappings and `-   key:` padding for indent 4,
//! sorted keys, the YAML 1.1 implicit-type quoting rules (a string that would
//! read back as bool/int/float/null is single-quoted), `'…'` vs `"…"` choice,
//! no `...` after a bare scalar (AnsibleDumper), and PyYAML's folding
//! at `width` (80): plain and quoted scalars break at a single space once the
//! column passes the width, flow collections break between items; the writer
//! tracks PyYAML's column / whitespace / indention state to do so.

use serde_json::Value as Json;

/// Dump `j` like `yaml.dump(j, indent=indent, width=width,
/// default_flow_style=flow, sort_keys=sort, allow_unicode=True)`.
pub fn dump(
    j: &Json,
    indent: usize,
    width: Option<usize>,
    flow: Option<bool>,
    sort: bool,
) -> String {
    // PyYAML: best_width is 80 unless a width > 2 * indent is given.
    let width = width.filter(|w| *w > indent * 2).unwrap_or(80);
    let e = Emitter {
        indent,
        width,
        flow,
        sort,
    };
    let mut w = Writer {
        out: String::new(),
        column: 0,
        whitespace: true,
        indention: true,
    };
    if is_scalar(j) {
        // AnsibleDumper ends a bare scalar without PyYAML's `...` marker.
        e.scalar(&mut w, j, indent, false, true);
        w.line_break();
        return w.out;
    }
    e.node(&mut w, j, None);
    if w.column > 0 {
        w.line_break();
    }
    w.out
}

struct Emitter {
    indent: usize,
    width: usize,
    flow: Option<bool>,
    sort: bool,
}

/// The output stream with PyYAML's emitter bookkeeping.
struct Writer {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
}

impl Writer {
    fn write(&mut self, s: &str) {
        self.out.push_str(s);
        self.column += s.chars().count();
    }

    fn line_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indent(&mut self, indent: usize) {
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.line_break();
        }
        if self.column < indent {
            self.whitespace = true;
            let pad = " ".repeat(indent - self.column);
            self.write(&pad);
        }
    }

    fn indicator(&mut self, ind: &str, need_whitespace: bool, whitespace: bool, indention: bool) {
        if self.whitespace || !need_whitespace {
            self.write(ind);
        } else {
            self.write(&format!(" {ind}"));
        }
        self.whitespace = whitespace;
        self.indention = self.indention && indention;
    }
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
        if is_empty_collection(j) {
            return true;
        }
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

    /// PyYAML's increase_indent.
    fn deeper(&self, parent: Option<usize>, flow: bool, indentless: bool) -> usize {
        match parent {
            None if flow => self.indent,
            None => 0,
            Some(p) if indentless => p,
            Some(p) => p + self.indent,
        }
    }

    /// A collection node; `parent` is the enclosing indent (None at the root).
    fn node(&self, w: &mut Writer, j: &Json, parent: Option<usize>) {
        if self.use_flow(j) {
            self.flow_node(w, j, parent);
            return;
        }
        match j {
            Json::Object(o) => {
                let indent = self.deeper(parent, false, false);
                for (k, v) in self.entries(o) {
                    w.write_indent(indent);
                    self.plain_or_quoted(w, k, indent, true, false);
                    w.indicator(":", false, false, false);
                    self.value(w, v, indent, true);
                }
            }
            Json::Array(a) => {
                // Sequences under a mapping key (indentless) go through value().
                let indent = self.deeper(parent, false, false);
                for v in a {
                    w.write_indent(indent);
                    w.indicator("-", true, false, true);
                    self.value(w, v, indent, false);
                }
            }
            other => self.scalar(w, other, self.deeper(parent, true, false), false, false),
        }
    }

    fn value(&self, w: &mut Writer, v: &Json, indent: usize, in_mapping: bool) {
        if is_scalar(v) {
            self.scalar(w, v, indent + self.indent, false, true);
        } else if in_mapping && !self.use_flow(v) && v.is_array() {
            // PyYAML writes sequences inside mappings without extra indentation.
            for item in v.as_array().into_iter().flatten() {
                w.write_indent(indent);
                w.indicator("-", true, false, true);
                self.value(w, item, indent, false);
            }
        } else {
            self.node(w, v, Some(indent));
        }
    }

    fn flow_node(&self, w: &mut Writer, j: &Json, parent: Option<usize>) {
        let indent = self.deeper(parent, true, false);
        match j {
            Json::Array(a) => {
                w.indicator("[", true, true, false);
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        w.indicator(",", false, false, false);
                    }
                    if w.column > self.width {
                        w.write_indent(indent);
                    }
                    self.flow_item(w, v, indent);
                }
                w.indicator("]", false, false, false);
            }
            Json::Object(o) => {
                w.indicator("{", true, true, false);
                for (i, (k, v)) in self.entries(o).into_iter().enumerate() {
                    if i > 0 {
                        w.indicator(",", false, false, false);
                    }
                    if w.column > self.width {
                        w.write_indent(indent);
                    }
                    self.plain_or_quoted(w, k, indent, true, true);
                    w.indicator(":", false, false, false);
                    self.flow_item(w, v, indent);
                }
                w.indicator("}", false, false, false);
            }
            other => self.scalar(w, other, indent, false, false),
        }
    }

    fn flow_item(&self, w: &mut Writer, v: &Json, indent: usize) {
        if is_scalar(v) {
            self.scalar(w, v, indent + self.indent, true, true);
        } else {
            self.flow_node(w, v, Some(indent));
        }
    }

    fn scalar(&self, w: &mut Writer, j: &Json, indent: usize, in_flow: bool, split: bool) {
        match j {
            Json::String(s) => self.plain_or_quoted(w, s, indent, !split, in_flow),
            other => {
                let text = scalar(other, in_flow);
                write_plain(w, &text, indent, self.width, false);
            }
        }
    }

    fn plain_or_quoted(
        &self,
        w: &mut Writer,
        s: &str,
        indent: usize,
        simple_key: bool,
        in_flow: bool,
    ) {
        let split = !simple_key;
        if needs_double(s) {
            write_double_quoted(w, s, indent, self.width, split);
        } else if plain_ok(s, in_flow) {
            write_plain(w, s, indent, self.width, split);
        } else {
            write_single_quoted(w, s, indent, self.width, split);
        }
    }
}

/// Emitter.write_plain: a single space past the width becomes a line break.
fn write_plain(w: &mut Writer, text: &str, indent: usize, width: usize, split: bool) {
    if text.is_empty() {
        return;
    }
    if !w.whitespace {
        w.write(" ");
    }
    w.whitespace = false;
    w.indention = false;
    let chars: Vec<char> = text.chars().collect();
    let (mut start, mut spaces) = (0usize, false);
    for end in 0..=chars.len() {
        let ch = chars.get(end).copied();
        if spaces {
            if ch != Some(' ') {
                if start + 1 == end && w.column > width && split {
                    w.write_indent(indent);
                    w.whitespace = false;
                    w.indention = false;
                } else {
                    let data: String = chars[start..end].iter().collect();
                    w.write(&data);
                }
                start = end;
            }
        } else if ch.is_none() || ch == Some(' ') {
            let data: String = chars[start..end].iter().collect();
            w.write(&data);
            start = end;
        }
        spaces = ch == Some(' ');
    }
}

/// Emitter.write_single_quoted (no line breaks reach here).
fn write_single_quoted(w: &mut Writer, text: &str, indent: usize, width: usize, split: bool) {
    w.indicator("'", true, false, false);
    let chars: Vec<char> = text.chars().collect();
    let (mut start, mut spaces) = (0usize, false);
    for end in 0..=chars.len() {
        let ch = chars.get(end).copied();
        if spaces {
            if ch != Some(' ') {
                if start + 1 == end && w.column > width && split && start != 0 && end != chars.len()
                {
                    w.write_indent(indent);
                } else {
                    let data: String = chars[start..end].iter().collect();
                    w.write(&data);
                }
                start = end;
            }
        } else if (ch.is_none() || ch == Some(' ') || ch == Some('\'')) && start < end {
            let data: String = chars[start..end].iter().collect();
            w.write(&data);
            start = end;
        }
        if ch == Some('\'') {
            w.write("''");
            start = end + 1;
        }
        spaces = ch == Some(' ');
    }
    w.indicator("'", false, false, false);
}

fn escape_char(c: char) -> String {
    match c {
        '\0' => "\\0".into(),
        '\u{7}' => "\\a".into(),
        '\u{8}' => "\\b".into(),
        '\t' => "\\t".into(),
        '\n' => "\\n".into(),
        '\u{b}' => "\\v".into(),
        '\u{c}' => "\\f".into(),
        '\r' => "\\r".into(),
        '\u{1b}' => "\\e".into(),
        '"' => "\\\"".into(),
        '\\' => "\\\\".into(),
        '\u{85}' => "\\N".into(),
        '\u{a0}' => "\\_".into(),
        '\u{2028}' => "\\L".into(),
        '\u{2029}' => "\\P".into(),
        c if (c as u32) <= 0xff => format!("\\x{:02X}", c as u32),
        c if (c as u32) <= 0xffff => format!("\\u{:04X}", c as u32),
        c => format!("\\U{:08X}", c as u32),
    }
}

/// Emitter.write_double_quoted (allow_unicode), with `\`-continued folding.
fn write_double_quoted(w: &mut Writer, text: &str, indent: usize, width: usize, split: bool) {
    w.indicator("\"", true, false, false);
    let chars: Vec<char> = text.chars().collect();
    let mut start = 0usize;
    for end in 0..=chars.len() {
        let ch = chars.get(end).copied();
        let printable = |c: char| {
            (' '..='~').contains(&c)
                || ('\u{a0}'..='\u{d7ff}').contains(&c)
                || ('\u{e000}'..='\u{fffd}').contains(&c)
        };
        let special = match ch {
            None => true,
            Some(c) => "\"\\\u{85}\u{2028}\u{2029}\u{feff}".contains(c) || !printable(c),
        };
        if special {
            if start < end {
                let data: String = chars[start..end].iter().collect();
                w.write(&data);
                start = end;
            }
            if let Some(c) = ch {
                w.write(&escape_char(c));
                start = end + 1;
            }
        }
        if 0 < end
            && end + 1 < chars.len()
            && (ch == Some(' ') || start >= end)
            && w.column + end.saturating_sub(start) > width
            && split
        {
            let mut data: String = chars[start.min(end)..end].iter().collect();
            data.push('\\');
            if start < end {
                start = end;
            }
            w.write(&data);
            w.write_indent(indent);
            w.whitespace = false;
            w.indention = false;
            if chars.get(start) == Some(&' ') {
                w.write("\\");
            }
        }
    }
    w.indicator("\"", false, false, false);
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
