//! Python's `%` operator in templates.
//!
//! Jinja evaluates `'%02d' % n` and `'%s-%s' % (a, b)` with Python's string
//! formatting; minijinja only knows numeric `%` and cannot be hooked. So
//! before compiling, each `A % B` in `{{ }}` (and in `{% set/if/elif %}`) is
//! rewritten to `__ferry_mod(A, B)`, which formats strings and does Python's
//! modulo on numbers. The operands are found with a small parser following
//! Jinja's precedence (`%` binds like `*`; filters and `is` tests bind
//! tighter); anything it does not understand is left exactly as written.
//! In templates using `to_datetime`, binary `-` is rewritten the same way
//! to `__ferry_sub(A, B)` so that datetimes can be subtracted.

use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Str,
    Num,
    Name,
    Op,
    Open,
    Close,
}

#[derive(Debug, Clone)]
struct Tok {
    kind: Kind,
    text: String,
    ws: String,
}

const OPS: [&str; 22] = [
    "**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", ".", ",", ":",
    "|", "!", "?", ";",
];

fn tokenize(code: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = code.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let ws_start = i;
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let ws: String = chars[ws_start..i].iter().collect();
        if i >= chars.len() {
            toks.push(Tok {
                kind: Kind::Op,
                text: String::new(),
                ws,
            });
            break;
        }
        let c = chars[i];
        let start = i;
        let kind = if c == '\'' || c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            if i >= chars.len() {
                return None;
            }
            i += 1;
            Kind::Str
        } else if c.is_ascii_digit() {
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                // `1.x` is attribute access on 1 only in odd code; keep digits.
                if chars[i] == '.' && !chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
                    break;
                }
                if (chars[i] == 'e' || chars[i] == 'E')
                    && matches!(chars.get(i + 1), Some('+' | '-'))
                {
                    i += 1;
                }
                i += 1;
            }
            Kind::Num
        } else if c.is_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            Kind::Name
        } else if "([{".contains(c) {
            i += 1;
            Kind::Open
        } else if ")]}".contains(c) {
            i += 1;
            Kind::Close
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let op = OPS.iter().find(|o| rest.starts_with(*o))?;
            i += op.chars().count();
            Kind::Op
        };
        toks.push(Tok {
            kind,
            text: chars[start..i].iter().collect(),
            ws,
        });
    }
    Some(toks)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    /// Also rewrite binary `-` to `__ferry_sub(A, B)` (datetime arithmetic).
    sub: bool,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks
            .get(self.pos)
            .filter(|t| !(t.kind == Kind::Op && t.text.is_empty()))
    }

    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.pos + n)
    }

    fn is_name(&self, name: &str) -> bool {
        self.peek()
            .is_some_and(|t| t.kind == Kind::Name && t.text == name)
    }

    fn is_op(&self, ops: &[&str]) -> bool {
        self.peek()
            .is_some_and(|t| t.kind == Kind::Op && ops.contains(&t.text.as_str()))
    }

    fn take(&mut self) -> String {
        let t = &self.toks[self.pos];
        self.pos += 1;
        format!("{}{}", t.ws, t.text)
    }

    fn expr(&mut self) -> Option<String> {
        let mut s = self.or_expr()?;
        if self.is_name("if") {
            s += &self.take();
            s += &self.or_expr()?;
            if self.is_name("else") {
                s += &self.take();
                s += &self.expr()?;
            }
        }
        Some(s)
    }

    fn or_expr(&mut self) -> Option<String> {
        let mut s = self.and_expr()?;
        while self.is_name("or") {
            s += &self.take();
            s += &self.and_expr()?;
        }
        Some(s)
    }

    fn and_expr(&mut self) -> Option<String> {
        let mut s = self.not_expr()?;
        while self.is_name("and") {
            s += &self.take();
            s += &self.not_expr()?;
        }
        Some(s)
    }

    fn not_expr(&mut self) -> Option<String> {
        if self.is_name("not") {
            let t = self.take();
            return Some(t + &self.not_expr()?);
        }
        self.compare()
    }

    fn compare(&mut self) -> Option<String> {
        let mut s = self.math1()?;
        loop {
            if self.is_op(&["==", "!=", "<", ">", "<=", ">="]) || self.is_name("in") {
                s += &self.take();
            } else if self.is_name("not")
                && self
                    .peek_at(1)
                    .is_some_and(|t| t.kind == Kind::Name && t.text == "in")
            {
                s += &self.take();
                s += &self.take();
            } else {
                break;
            }
            s += &self.math1()?;
        }
        Some(s)
    }

    fn math1(&mut self) -> Option<String> {
        let mut s = self.concat()?;
        while self.is_op(&["+", "-"]) {
            if self.sub && self.is_op(&["-"]) {
                self.take();
                let rhs = self.concat()?;
                let lead: String = s.chars().take_while(|c| c.is_whitespace()).collect();
                s = format!("{lead}__ferry_sub({}, {})", s.trim(), rhs.trim());
                continue;
            }
            s += &self.take();
            s += &self.concat()?;
        }
        Some(s)
    }

    fn concat(&mut self) -> Option<String> {
        let mut s = self.math2()?;
        while self.is_op(&["~"]) {
            s += &self.take();
            s += &self.math2()?;
        }
        Some(s)
    }

    fn math2(&mut self) -> Option<String> {
        let mut s = self.pow()?;
        while self.is_op(&["*", "/", "//", "%"]) {
            let is_mod = self.is_op(&["%"]);
            let op = self.take();
            let rhs = self.pow()?;
            if is_mod {
                let lead: String = s.chars().take_while(|c| c.is_whitespace()).collect();
                s = format!("{lead}__ferry_mod({}, {})", s.trim(), rhs.trim());
            } else {
                s += &op;
                s += &rhs;
            }
        }
        Some(s)
    }

    fn pow(&mut self) -> Option<String> {
        let mut s = self.unary()?;
        while self.is_op(&["**"]) {
            s += &self.take();
            s += &self.unary()?;
        }
        Some(s)
    }

    fn unary(&mut self) -> Option<String> {
        if self.is_op(&["-", "+"]) {
            let t = self.take();
            return Some(t + &self.unary()?);
        }
        let mut s = self.primary()?;
        s += &self.postfix(true)?;
        Some(s)
    }

    fn primary(&mut self) -> Option<String> {
        let t = self.peek()?.clone();
        match t.kind {
            Kind::Str => {
                let mut s = self.take();
                while self.peek().is_some_and(|t| t.kind == Kind::Str) {
                    s += &self.take();
                }
                Some(s)
            }
            Kind::Num | Kind::Name => Some(self.take()),
            Kind::Open => self.bracket(),
            _ => None,
        }
    }

    /// `( … )`, `[ … ]` or `{ … }`: expressions separated by `,` `:` `=`.
    fn bracket(&mut self) -> Option<String> {
        let open = self.peek()?.text.clone();
        let close = match open.as_str() {
            "(" => ")",
            "[" => "]",
            _ => "}",
        };
        let mut s = self.take();
        loop {
            let t = self.peek()?.clone();
            if t.kind == Kind::Close {
                if t.text != close {
                    return None;
                }
                s += &self.take();
                return Some(s);
            }
            if self.is_op(&[",", ":", "="]) || (self.is_op(&["*", "**"]) && open == "(") {
                s += &self.take();
                continue;
            }
            s += &self.expr()?;
        }
    }

    fn dotted_name(&mut self) -> Option<String> {
        if self.peek()?.kind != Kind::Name {
            return None;
        }
        let mut s = self.take();
        while self.is_op(&["."]) && self.peek_at(1).is_some_and(|t| t.kind == Kind::Name) {
            s += &self.take();
            s += &self.take();
        }
        Some(s)
    }

    fn postfix(&mut self, filters: bool) -> Option<String> {
        let mut s = String::new();
        loop {
            if self.is_op(&["."]) {
                s += &self.take();
                match self.peek()?.kind {
                    Kind::Name | Kind::Num => s += &self.take(),
                    _ => return None,
                }
            } else if self
                .peek()
                .is_some_and(|t| t.kind == Kind::Open && (t.text == "[" || t.text == "("))
            {
                s += &self.bracket()?;
            } else if filters && self.is_op(&["|"]) {
                s += &self.take();
                s += &self.dotted_name()?;
            } else if filters && self.is_name("is") {
                s += &self.take();
                if self.is_name("not") {
                    s += &self.take();
                }
                s += &self.dotted_name()?;
                if self
                    .peek()
                    .is_some_and(|t| t.kind == Kind::Open && t.text == "(")
                {
                    s += &self.bracket()?;
                } else if self.peek().is_some_and(|t| {
                    matches!(t.kind, Kind::Str | Kind::Num | Kind::Open)
                        || (t.kind == Kind::Name
                            && !["else", "or", "and", "if"].contains(&t.text.as_str()))
                }) && !self
                    .peek()
                    .is_some_and(|t| t.kind == Kind::Open && t.text == "(")
                {
                    s += &self.primary()?;
                    s += &self.postfix(false)?;
                }
            } else {
                return Some(s);
            }
        }
    }

    fn at_end(&self) -> bool {
        self.peek().is_none()
    }
}

fn has_op(toks: &[Tok], op: &str) -> bool {
    toks.iter().any(|t| t.kind == Kind::Op && t.text == op)
}

/// Rewrite one code region (the inside of `{{ }}` or a bare expression).
fn rewrite_expr(code: &str, sub: bool) -> Option<String> {
    let toks = tokenize(code)?;
    let sub = sub && has_op(&toks, "-");
    if !has_op(&toks, "%") && !sub {
        return None;
    }
    let mut p = Parser { toks, pos: 0, sub };
    let mut out = p.expr()?;
    if !p.at_end() {
        return None;
    }
    if let Some(t) = p.toks.last() {
        out.push_str(&t.ws);
    }
    Some(out)
}

/// Rewrite `{% set x = … %}`, `{% if … %}`, `{% elif … %}` bodies.
fn rewrite_stmt(code: &str, sub: bool) -> Option<String> {
    let trimmed = code.trim_start();
    let lead = &code[..code.len() - trimmed.len()];
    let word: String = trimmed
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let rest = &trimmed[word.len()..];
    match word.as_str() {
        "if" | "elif" => Some(format!("{lead}{word}{}", rewrite_expr(rest, sub)?)),
        "set" => {
            let (target, value) = rest.split_once('=')?;
            if target.contains(['(', '[', '\'', '"']) || value.starts_with('=') {
                return None;
            }
            Some(format!(
                "{lead}{word}{target}={}",
                rewrite_expr(value, sub)?
            ))
        }
        _ => None,
    }
}

/// Rewrite `%` operators in a template (`code == false`) or a bare
/// expression (`code == true`). Returns the input untouched when there is
/// nothing to do or the code is not understood.
pub fn rewrite(src: &str, code: bool) -> Cow<'_, str> {
    // `-` is only rewritten where datetimes can appear: rewriting every
    // subtraction would cost a call each for nothing.
    let sub = src.contains("to_datetime");
    if !src.contains('%') && !sub {
        return Cow::Borrowed(src);
    }
    if code {
        return match rewrite_expr(src, sub) {
            Some(s) => Cow::Owned(s),
            None => Cow::Borrowed(src),
        };
    }
    let mut out = String::with_capacity(src.len() + 16);
    let mut changed = false;
    let mut i = 0;
    while i < src.len() {
        let rest = &src[i..];
        let (open, close) = if rest.starts_with("{{") {
            ("{{", "}}")
        } else if rest.starts_with("{%") {
            ("{%", "%}")
        } else if rest.starts_with("{#") {
            ("{#", "#}")
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
            continue;
        };
        let Some(end) = find_close(rest, close) else {
            out.push_str(rest);
            break;
        };
        let inner = &rest[2..end];
        // Whitespace-control markers stay outside the rewritten code.
        let (pre, body) = match inner.strip_prefix(['-', '+']) {
            Some(b) if open != "{#" => (&inner[..1], b),
            _ => ("", inner),
        };
        let (body, post) = match body.strip_suffix(['-', '+']) {
            Some(b) if open != "{#" => (b, &body[b.len()..]),
            _ => (body, ""),
        };
        let new = match open {
            "{{" => rewrite_expr(body, sub),
            "{%" => {
                if body.trim_start().starts_with("raw") {
                    // Copy a raw block untouched.
                    let after = &rest[end + 2..];
                    let stop = after
                        .find("endraw")
                        .and_then(|e| after[e..].find("%}").map(|c| e + c + 2));
                    let len = end + 2 + stop.unwrap_or(after.len());
                    out.push_str(&rest[..len]);
                    i += len;
                    continue;
                }
                rewrite_stmt(body, sub)
            }
            _ => None,
        };
        match new {
            Some(code) => {
                changed = true;
                out.push_str(open);
                out.push_str(pre);
                out.push_str(&code);
                out.push_str(post);
                out.push_str(close);
            }
            None => out.push_str(&rest[..end + 2]),
        }
        i += end + 2;
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(src)
    }
}

/// Index of `close` ending the tag that starts `s`, skipping string literals.
fn find_close(s: &str, close: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 2;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        match quote {
            Some(q) => {
                if b[i] == b'\\' {
                    i += 1;
                } else if b[i] == q {
                    quote = None;
                }
            }
            None => {
                if close != "#}" && (b[i] == b'\'' || b[i] == b'"') {
                    quote = Some(b[i]);
                } else if s[i..].starts_with(close) {
                    return Some(i);
                }
            }
        }
        i += 1;
    }
    None
}
