//! INI inventory values: Ansible passes each through Python's `ast.literal_eval`
//! and keeps the raw text when that fails. This is the subset of Python literal
//! syntax that matters: numbers, strings, `True`/`False`/`None`, lists, tuples,
//! dicts and sets (tuples and sets become lists, as Ansible coerces them).

use serde_json::{Map, Number, Value};

/// The value Ansible would store for INI text `v`.
pub fn parse_value(v: &str) -> Value {
    literal_eval(v).unwrap_or_else(|| Value::String(v.to_string()))
}

/// `ast.literal_eval`, or `None` where Python raises.
pub fn literal_eval(src: &str) -> Option<Value> {
    let mut p = Parser {
        s: src.trim_start_matches([' ', '\t']).chars().collect(),
        i: 0,
        depth: 0,
    };
    let v = p.tuple_or_item(None)?;
    p.skip_ws();
    if p.i < p.s.len() {
        return None;
    }
    Some(v)
}

struct Parser {
    s: Vec<char>,
    i: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    /// Whitespace and a trailing `# comment` (Python's tokenizer skips both).
    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c == '#' {
                self.i = self.s.len();
            } else if c.is_whitespace() || c == '\\' && self.s.get(self.i + 1) == Some(&'\n') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// `a, b, c` (a tuple) or a single item; `close` ends the list early.
    fn tuple_or_item(&mut self, close: Option<char>) -> Option<Value> {
        let first = self.item()?;
        self.skip_ws();
        if self.peek() != Some(',') {
            return Some(first);
        }
        let mut items = vec![first];
        while self.eat(',') {
            self.skip_ws();
            match self.peek() {
                None => break,
                Some(c) if Some(c) == close => break,
                _ => items.push(self.item()?),
            }
        }
        Some(Value::Array(items))
    }

    /// Comma-separated items up to `close`, allowing a trailing comma.
    fn seq(&mut self, close: char) -> Option<(Vec<Value>, bool)> {
        let mut items = Vec::new();
        let mut trailing_comma = false;
        loop {
            if self.eat(close) {
                return Some((items, trailing_comma));
            }
            items.push(self.item()?);
            trailing_comma = self.eat(',');
            if !trailing_comma {
                return self.eat(close).then_some((items, false));
            }
        }
    }

    fn item(&mut self) -> Option<Value> {
        self.depth += 1;
        if self.depth > 100 {
            return None;
        }
        let v = self.item_inner();
        self.depth -= 1;
        v
    }

    fn item_inner(&mut self) -> Option<Value> {
        self.skip_ws();
        let c = self.peek()?;
        match c {
            '[' => {
                self.i += 1;
                Some(Value::Array(self.seq(']')?.0))
            }
            '(' => {
                self.i += 1;
                let (items, trailing) = self.seq(')')?;
                // `(x)` is just x; `(x,)` and `()` are tuples.
                if items.len() == 1 && !trailing {
                    items.into_iter().next()
                } else {
                    Some(Value::Array(items))
                }
            }
            '{' => {
                self.i += 1;
                self.dict_or_set()
            }
            '+' | '-' => {
                self.i += 1;
                let v = self.item()?;
                let Value::Number(n) = v else { return None };
                if c == '+' {
                    return Some(Value::Number(n));
                }
                negate(&n)
            }
            '0'..='9' | '.' => self.number(),
            _ => {
                if let Some(v) = self.string()? {
                    return Some(v);
                }
                let word = self.word();
                match word.as_str() {
                    "True" => Some(Value::Bool(true)),
                    "False" => Some(Value::Bool(false)),
                    "None" => Some(Value::Null),
                    _ => None,
                }
            }
        }
    }

    fn word(&mut self) -> String {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.i += 1;
        }
        self.s[start..self.i].iter().collect()
    }

    fn dict_or_set(&mut self) -> Option<Value> {
        if self.eat('}') {
            return Some(Value::Object(Map::new()));
        }
        let first = self.item()?;
        if self.eat(':') {
            let mut map = Map::new();
            let v = self.item()?;
            map.insert(key_string(&first)?, v);
            loop {
                if self.eat('}') {
                    return Some(Value::Object(map));
                }
                if !self.eat(',') {
                    return None;
                }
                if self.eat('}') {
                    return Some(Value::Object(map));
                }
                let k = self.item()?;
                if !self.eat(':') {
                    return None;
                }
                let v = self.item()?;
                map.insert(key_string(&k)?, v);
            }
        }
        // A set literal: Ansible turns sets into lists.
        let mut items = vec![first];
        loop {
            if self.eat('}') {
                return Some(Value::Array(items));
            }
            if !self.eat(',') {
                return None;
            }
            if self.eat('}') {
                return Some(Value::Array(items));
            }
            items.push(self.item()?);
        }
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
            || (matches!(self.peek(), Some('+' | '-'))
                && matches!(self.s.get(self.i.wrapping_sub(1)), Some('e' | 'E'))
                && !self.s[start..self.i].iter().any(|c| matches!(c, 'x' | 'X')))
        {
            self.i += 1;
        }
        let text: String = self.s[start..self.i].iter().collect();
        parse_number(&text)
    }

    /// A run of adjacent string literals (Python concatenates them).
    fn string(&mut self) -> Option<Option<Value>> {
        let mut out: Option<String> = None;
        loop {
            self.skip_ws();
            let save = self.i;
            let mut prefix = String::new();
            while let Some(c) = self.peek() {
                if prefix.len() < 2 && matches!(c, 'r' | 'R' | 'u' | 'U' | 'b' | 'B') {
                    prefix.push(c.to_ascii_lowercase());
                    self.i += 1;
                } else {
                    break;
                }
            }
            let Some(q @ ('\'' | '"')) = self.peek() else {
                self.i = save;
                return Some(out.map(Value::String));
            };
            if !matches!(prefix.as_str(), "" | "r" | "u" | "b" | "br" | "rb") {
                return None;
            }
            let raw = prefix.contains('r');
            let s = self.quoted(q, raw)?;
            out.get_or_insert_with(String::new).push_str(&s);
        }
    }

    fn quoted(&mut self, q: char, raw: bool) -> Option<String> {
        let triple = self.s.get(self.i..self.i + 3) == Some(&[q, q, q][..]);
        self.i += if triple { 3 } else { 1 };
        let mut out = String::new();
        loop {
            let c = self.peek()?;
            if c == q {
                if !triple {
                    self.i += 1;
                    return Some(out);
                }
                if self.s.get(self.i..self.i + 3) == Some(&[q, q, q][..]) {
                    self.i += 3;
                    return Some(out);
                }
            }
            if c == '\n' && !triple {
                return None;
            }
            self.i += 1;
            if c != '\\' {
                out.push(c);
                continue;
            }
            let e = self.peek()?;
            self.i += 1;
            if raw {
                out.push('\\');
                out.push(e);
                continue;
            }
            match e {
                '\n' => {}
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'a' => out.push('\x07'),
                'b' => out.push('\x08'),
                'f' => out.push('\x0c'),
                'v' => out.push('\x0b'),
                '\\' | '\'' | '"' => out.push(e),
                'x' => out.push(self.hex(2)?),
                'u' => out.push(self.hex(4)?),
                'U' => out.push(self.hex(8)?),
                '0'..='7' => {
                    let mut n = e.to_digit(8)?;
                    for _ in 0..2 {
                        match self.peek().and_then(|c| c.to_digit(8)) {
                            Some(d) => {
                                n = n * 8 + d;
                                self.i += 1;
                            }
                            None => break,
                        }
                    }
                    out.push(char::from_u32(n)?);
                }
                // `\N{NAME}` needs Unicode names; give up and keep the raw text.
                'N' => return None,
                _ => {
                    out.push('\\');
                    out.push(e);
                }
            }
        }
    }

    fn hex(&mut self, n: usize) -> Option<char> {
        let digits: String = self.s.get(self.i..self.i + n)?.iter().collect();
        self.i += n;
        char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
    }
}

fn negate(n: &Number) -> Option<Value> {
    if let Some(i) = n.as_i64() {
        return Some(Value::from(i.checked_neg()?));
    }
    if n.as_u64() == Some(1u64 << 63) {
        return Some(Value::from(i64::MIN));
    }
    Number::from_f64(-n.as_f64()?).map(Value::Number)
}

/// JSON object keys for Python dict keys (json.dumps stringifies scalars).
fn key_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some("null".into()),
        _ => None,
    }
}

/// A Python numeric literal (`1_000`, `0x1f`, `0o17`, `0b1`, `1.5e3`, `.5`).
fn parse_number(text: &str) -> Option<Value> {
    let valid_underscores = |s: &str| !s.starts_with('_') && !s.ends_with('_') && !s.contains("__");
    let lower = text.to_ascii_lowercase();
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            let rest = rest.strip_prefix('_').unwrap_or(rest);
            if rest.is_empty() || !valid_underscores(rest) {
                return None;
            }
            let n = u64::from_str_radix(&rest.replace('_', ""), radix).ok()?;
            return Some(Value::from(n));
        }
    }
    let is_float = lower.contains(['.', 'e']);
    if lower.ends_with('j') {
        return None;
    }
    if !is_float {
        if !lower.chars().all(|c| c.is_ascii_digit() || c == '_') || !valid_underscores(&lower) {
            return None;
        }
        let digits = lower.replace('_', "");
        // Python 3 rejects leading zeros except in zero itself.
        if digits.len() > 1 && digits.starts_with('0') && digits.chars().any(|c| c != '0') {
            return None;
        }
        if let Ok(i) = digits.parse::<i64>() {
            return Some(Value::from(i));
        }
        return digits.parse::<u64>().ok().map(Value::from);
    }
    let (mantissa, exp) = match lower.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (lower.as_str(), None),
    };
    let (int_part, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    let digits_ok = |s: &str| {
        s.is_empty() || s.chars().all(|c| c.is_ascii_digit() || c == '_') && valid_underscores(s)
    };
    if (int_part.is_empty() && frac.is_empty()) || !digits_ok(int_part) || !digits_ok(frac) {
        return None;
    }
    if let Some(e) = exp {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e.is_empty() || !digits_ok(e) {
            return None;
        }
    }
    let f: f64 = lower.replace('_', "").parse().ok()?;
    Number::from_f64(f).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::parse_value;
    use serde_json::json;

    #[test]
    fn python_literals() {
        assert_eq!(parse_value("1"), json!(1));
        assert_eq!(parse_value("-3"), json!(-3));
        assert_eq!(parse_value("1.5"), json!(1.5));
        assert_eq!(parse_value("1e3"), json!(1000.0));
        assert_eq!(parse_value("1_000"), json!(1000));
        assert_eq!(parse_value("0x1f"), json!(31));
        assert_eq!(parse_value("True"), json!(true));
        assert_eq!(parse_value("None"), json!(null));
        assert_eq!(parse_value("'x'"), json!("x"));
        assert_eq!(parse_value("'a' \"b\""), json!("ab"));
        assert_eq!(parse_value("[1, 'a', [True]]"), json!([1, "a", [true]]));
        assert_eq!(parse_value("(1,)"), json!([1]));
        assert_eq!(parse_value("(1)"), json!(1));
        assert_eq!(parse_value("1,2"), json!([1, 2]));
        assert_eq!(parse_value("{'a': 1, 2: [3]}"), json!({"a": 1, "2": [3]}));
        assert_eq!(parse_value("{1, 2}"), json!([1, 2]));
        assert_eq!(parse_value("8080 # comment"), json!(8080));
        assert_eq!(parse_value("'\\x41\\n'"), json!("A\n"));
        assert_eq!(parse_value("r'\\n'"), json!("\\n"));
    }

    #[test]
    fn raw_text_when_not_a_literal() {
        for s in [
            "yes",
            "x",
            "010",
            "1.2.3",
            "1abc",
            "bar # c",
            "",
            "2021-01-01",
            "a b",
            "f'x'",
            "[1,",
            "1j",
            "True1",
            "-x",
            "'unterminated",
            "/usr/bin/python3",
        ] {
            assert_eq!(parse_value(s), json!(s), "{s}");
        }
    }
}
