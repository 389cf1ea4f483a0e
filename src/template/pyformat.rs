//! Python's printf-style `str % args`, for Jinja's `format` filter
//! (`soft_str(value) % (kwargs or args)`), with Python's error messages.

use minijinja::value::{Value, ValueKind};

use super::pyrepr;

/// The right-hand side of `%`: a tuple of values or a mapping.
pub enum FmtArgs<'a> {
    Tuple(&'a [Value]),
    Map(&'a Value),
}

fn type_name(v: &Value) -> &'static str {
    pyrepr::type_name(v)
}

/// Python's `'%e'`-style exponent: at least two digits, explicit sign.
fn fix_exp(s: &str, upper: bool) -> String {
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            let e = if upper { 'E' } else { 'e' };
            format!("{m}{e}{sign}{digits:0>2}")
        }
        None => s.to_string(),
    }
}

fn fmt_float(v: f64, conv: char, prec: usize, alt: bool) -> String {
    if v.is_nan() {
        return if conv.is_uppercase() { "NAN" } else { "nan" }.into();
    }
    if v.is_infinite() {
        let s = if v > 0.0 { "inf" } else { "-inf" };
        return if conv.is_uppercase() {
            s.to_uppercase()
        } else {
            s.into()
        };
    }
    match conv {
        'f' | 'F' => format!("{v:.prec$}"),
        'e' | 'E' => fix_exp(&format!("{v:.prec$e}"), conv == 'E'),
        _ => {
            // %g: precision significant digits, trailing zeros dropped.
            let p = prec.max(1);
            let sci = format!("{:.*e}", p - 1, v);
            let exp: i32 = sci
                .split_once('e')
                .and_then(|(_, e)| e.parse().ok())
                .unwrap_or(0);
            let mut s = if exp < -4 || exp >= p as i32 {
                let (m, e) = sci.split_once('e').unwrap_or((&sci, "0"));
                let m = if alt { m.to_string() } else { strip_zeros(m) };
                fix_exp(&format!("{m}e{e}"), conv == 'G')
            } else {
                let decimals = (p as i32 - 1 - exp).max(0) as usize;
                let f = format!("{v:.decimals$}");
                if alt {
                    f
                } else {
                    strip_zeros(&f)
                }
            };
            if alt && !s.contains('.') {
                s.push('.');
            }
            s
        }
    }
}

fn strip_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

fn as_int(v: &Value) -> Option<i128> {
    match v.kind() {
        ValueKind::Bool => Some(v.is_true() as i128),
        ValueKind::Number if v.is_integer() => i128::try_from(v.clone()).ok(),
        ValueKind::Number => f64::try_from(v.clone()).ok().map(|f| f.trunc() as i128),
        _ => None,
    }
}

fn as_float(v: &Value) -> Option<f64> {
    match v.kind() {
        ValueKind::Bool => Some(if v.is_true() { 1.0 } else { 0.0 }),
        ValueKind::Number => f64::try_from(v.clone()).ok(),
        _ => None,
    }
}

/// `fmt % args`; `Err` holds Python's TypeError/ValueError text.
pub fn percent_format(fmt: &str, args: FmtArgs) -> Result<String, String> {
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut next_arg = 0usize;
    let tuple: &[Value] = match &args {
        FmtArgs::Tuple(t) => t,
        FmtArgs::Map(_) => &[],
    };
    let take = |next_arg: &mut usize| -> Result<Value, String> {
        let v = tuple
            .get(*next_arg)
            .cloned()
            .ok_or_else(|| "not enough arguments for format string".to_string())?;
        *next_arg += 1;
        Ok(v)
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let Some(&first) = chars.get(i) else {
            return Err("incomplete format".into());
        };
        let mut value: Option<Value> = None;
        if first == '(' {
            let start = i + 1;
            let mut depth = 1;
            let mut j = start;
            while j < chars.len() && depth > 0 {
                match chars[j] {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
            if depth > 0 {
                return Err("incomplete format key".into());
            }
            let key: String = chars[start..j - 1].iter().collect();
            let FmtArgs::Map(m) = &args else {
                return Err("format requires a mapping".into());
            };
            value = Some(
                m.get_item(&Value::from(key.clone()))
                    .ok()
                    .filter(|v| !v.is_undefined())
                    .ok_or_else(|| format!("'{key}'"))?,
            );
            i = j;
        }
        let (mut left, mut zero, mut plus, mut space, mut alt) =
            (false, false, false, false, false);
        while let Some(&f) = chars.get(i) {
            match f {
                '-' => left = true,
                '0' => zero = true,
                '+' => plus = true,
                ' ' => space = true,
                '#' => alt = true,
                _ => break,
            }
            i += 1;
        }
        let mut width = 0usize;
        if chars.get(i) == Some(&'*') {
            let w = take(&mut next_arg)?;
            let w = as_int(&w).ok_or_else(|| "* wants int".to_string())?;
            if w < 0 {
                left = true;
            }
            width = w.unsigned_abs() as usize;
            i += 1;
        } else {
            while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                width = width * 10 + d as usize;
                i += 1;
            }
        }
        let mut prec: Option<usize> = None;
        if chars.get(i) == Some(&'.') {
            i += 1;
            if chars.get(i) == Some(&'*') {
                let p = take(&mut next_arg)?;
                prec = Some(as_int(&p).ok_or_else(|| "* wants int".to_string())?.max(0) as usize);
                i += 1;
            } else {
                let mut p = 0usize;
                while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                    p = p * 10 + d as usize;
                    i += 1;
                }
                prec = Some(p);
            }
        }
        while matches!(chars.get(i), Some('h' | 'l' | 'L')) {
            i += 1;
        }
        let Some(&conv) = chars.get(i) else {
            return Err("incomplete format".into());
        };
        i += 1;
        if conv == '%' {
            out.push('%');
            continue;
        }
        let v = match value.take() {
            Some(v) => v,
            None => match &args {
                FmtArgs::Tuple(_) => take(&mut next_arg)?,
                // `'%s' % mapping` formats the mapping itself.
                FmtArgs::Map(m) => (*m).clone(),
            },
        };
        let mut numeric = true;
        let mut body = match conv {
            's' | 'r' | 'a' => {
                numeric = false;
                let s = match conv {
                    's' => pyrepr::py_str_string(&v),
                    _ => {
                        let mut r = String::new();
                        pyrepr::py_repr(&v, &mut r);
                        r
                    }
                };
                match prec {
                    Some(p) => s.chars().take(p).collect(),
                    None => s,
                }
            }
            'c' => {
                numeric = false;
                match (v.as_str(), as_int(&v)) {
                    (Some(s), _) if s.chars().count() == 1 => s.to_string(),
                    (Some(_), _) => return Err("%c requires int or char".into()),
                    (None, Some(n)) => char::from_u32(n as u32)
                        .map(String::from)
                        .ok_or_else(|| "%c arg not in range(0x110000)".to_string())?,
                    (None, None) => return Err("%c requires int or char".into()),
                }
            }
            'd' | 'i' | 'u' => {
                let n = as_int(&v).ok_or_else(|| {
                    format!(
                        "%{conv} format: a real number is required, not {}",
                        type_name(&v)
                    )
                })?;
                n.to_string()
            }
            'x' | 'X' | 'o' => {
                let n = match v.kind() {
                    ValueKind::Bool => Some(v.is_true() as i128),
                    ValueKind::Number if v.is_integer() => i128::try_from(v.clone()).ok(),
                    _ => None,
                }
                .ok_or_else(|| {
                    format!(
                        "%{conv} format: an integer is required, not {}",
                        type_name(&v)
                    )
                })?;
                let digits = match conv {
                    'x' => format!("{:x}", n.unsigned_abs()),
                    'X' => format!("{:X}", n.unsigned_abs()),
                    _ => format!("{:o}", n.unsigned_abs()),
                };
                let prefix = match (alt, conv) {
                    (true, 'x') => "0x",
                    (true, 'X') => "0X",
                    (true, _) => "0o",
                    _ => "",
                };
                format!("{}{prefix}{digits}", if n < 0 { "-" } else { "" })
            }
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
                let f = as_float(&v)
                    .ok_or_else(|| format!("must be real number, not {}", type_name(&v)))?;
                fmt_float(f, conv, prec.unwrap_or(6), alt)
            }
            other => {
                return Err(format!(
                    "unsupported format character '{other}' (0x{:x}) at index {}",
                    other as u32,
                    i - 1
                ))
            }
        };
        if numeric {
            if !body.starts_with('-') {
                if plus {
                    body.insert(0, '+');
                } else if space {
                    body.insert(0, ' ');
                }
            }
            if matches!(conv, 'd' | 'i' | 'u') {
                if let Some(p) = prec {
                    let (sign, digits) = split_sign(&body);
                    if digits.len() < p {
                        body = format!("{sign}{}{digits}", "0".repeat(p - digits.len()));
                    }
                }
            }
        }
        let len = body.chars().count();
        if len < width {
            let pad = width - len;
            if left {
                body.push_str(&" ".repeat(pad));
            } else if zero && numeric {
                let (sign, digits) = split_sign(&body);
                let (pfx, rest) = match digits.get(..2) {
                    Some(p) if alt && matches!(p, "0x" | "0X" | "0o") => (p, &digits[2..]),
                    _ => ("", digits),
                };
                body = format!("{sign}{pfx}{}{rest}", "0".repeat(pad));
            } else {
                body = format!("{}{body}", " ".repeat(pad));
            }
        }
        out.push_str(&body);
    }
    if let FmtArgs::Tuple(t) = args {
        if next_arg < t.len() {
            return Err("not all arguments converted during string formatting".into());
        }
    }
    Ok(out)
}

fn split_sign(s: &str) -> (&str, &str) {
    match s.chars().next() {
        Some('-' | '+' | ' ') => s.split_at(1),
        _ => ("", s),
    }
}
