//! Python's naive `datetime` and `timedelta` for the `to_datetime` filter.
//!
//! `to_datetime` is `datetime.strptime(string, format)`; templates then
//! subtract two of them and read the `timedelta` (`.days`,
//! `.total_seconds()`). minijinja has no operator overloading, so `-` in a
//! template that uses `to_datetime` is rewritten to `__ferry_sub(a, b)`
//! (see `modop`), which lands in [`sub`] for these types.

use std::cmp::Ordering;
use std::sync::{Arc, LazyLock};

use minijinja::value::{DynObject, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

const US_PER_SEC: i64 = 1_000_000;
const US_PER_DAY: i64 = 86_400 * US_PER_SEC;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's
/// algorithm, proleptic Gregorian).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A naive `datetime.datetime`: microseconds since 1970-01-01 00:00:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTime(i64);

/// A `datetime.timedelta` in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeDelta(i64);

struct Fields {
    y: i64,
    mo: i64,
    d: i64,
    h: i64,
    mi: i64,
    s: i64,
    us: i64,
    /// Monday = 0, as `datetime.weekday()`.
    wday: i64,
    yday: i64,
}

impl DateTime {
    fn fields(self) -> Fields {
        let days = self.0.div_euclid(US_PER_DAY);
        let rem = self.0.rem_euclid(US_PER_DAY);
        let (y, mo, d) = civil_from_days(days);
        let secs = rem / US_PER_SEC;
        Fields {
            y,
            mo,
            d,
            h: secs / 3600,
            mi: secs % 3600 / 60,
            s: secs % 60,
            us: rem % US_PER_SEC,
            // 1970-01-01 was a Thursday.
            wday: (days + 3).rem_euclid(7),
            yday: days - days_from_civil(y, 1, 1) + 1,
        }
    }

    /// `isoformat(sep)`: what `str()` (sep ' ') and Ansible's native
    /// result (sep 'T') show.
    pub fn isoformat(self, sep: char) -> String {
        let f = self.fields();
        let mut s = format!(
            "{:04}-{:02}-{:02}{sep}{:02}:{:02}:{:02}",
            f.y, f.mo, f.d, f.h, f.mi, f.s
        );
        if f.us != 0 {
            s.push_str(&format!(".{:06}", f.us));
        }
        s
    }

    /// The UTC time `secs` after the epoch (what the `strftime` filter formats).
    pub fn from_epoch(secs: f64) -> DateTime {
        DateTime((secs * US_PER_SEC as f64).floor() as i64)
    }

    /// C `strftime` for the common directives; others are kept as written.
    pub fn strftime(self, fmt: &str) -> String {
        let f = self.fields();
        let mut out = String::new();
        let mut it = fmt.chars();
        while let Some(c) = it.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let Some(d) = it.next() else {
                out.push('%');
                break;
            };
            let hour12 = if f.h % 12 == 0 { 12 } else { f.h % 12 };
            let month = MONTHS[(f.mo - 1) as usize];
            let wday = WEEKDAYS[f.wday as usize];
            let piece = match d {
                'Y' => format!("{}", f.y),
                'y' => format!("{:02}", f.y % 100),
                'm' => format!("{:02}", f.mo),
                'd' => format!("{:02}", f.d),
                'e' => format!("{:2}", f.d),
                'H' => format!("{:02}", f.h),
                'I' => format!("{hour12:02}"),
                'M' => format!("{:02}", f.mi),
                'S' => format!("{:02}", f.s),
                'f' => format!("{:06}", f.us),
                'j' => format!("{:03}", f.yday),
                'p' => if f.h < 12 { "AM" } else { "PM" }.to_string(),
                'b' | 'h' => month[..3].to_string(),
                'B' => month.to_string(),
                'a' => wday[..3].to_string(),
                'A' => wday.to_string(),
                'w' => format!("{}", (f.wday + 1) % 7),
                'u' => format!("{}", f.wday + 1),
                'F' => format!("{}-{:02}-{:02}", f.y, f.mo, f.d),
                'T' => format!("{:02}:{:02}:{:02}", f.h, f.mi, f.s),
                's' => format!("{}", self.0.div_euclid(US_PER_SEC)),
                '%' => "%".to_string(),
                other => format!("%{other}"),
            };
            out.push_str(&piece);
        }
        out
    }
}

impl TimeDelta {
    fn parts(self) -> (i64, i64, i64) {
        let days = self.0.div_euclid(US_PER_DAY);
        let rem = self.0.rem_euclid(US_PER_DAY);
        (days, rem / US_PER_SEC, rem % US_PER_SEC)
    }

    /// Python's `str(timedelta)`: `233 days, 20:00:12`, `-1 day, 23:59:59`.
    pub fn to_py_str(self) -> String {
        let (days, secs, us) = self.parts();
        let mut s = format!("{}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60);
        if days != 0 {
            let plural = if days.abs() != 1 { "s" } else { "" };
            s = format!("{days} day{plural}, {s}");
        }
        if us != 0 {
            s.push_str(&format!(".{us:06}"));
        }
        s
    }
}

fn no_args(method: &str, args: &[Value]) -> Result<(), Error> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::TooManyArguments,
            format!("{method}() takes no arguments"),
        ))
    }
}

impl Object for DateTime {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let f = self.fields();
        Some(Value::from(match key.as_str()? {
            "year" => f.y,
            "month" => f.mo,
            "day" => f.d,
            "hour" => f.h,
            "minute" => f.mi,
            "second" => f.s,
            "microsecond" => f.us,
            _ => return None,
        }))
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "strftime" => match args.first().and_then(Value::as_str) {
                Some(fmt) if args.len() == 1 => Ok(Value::from(self.strftime(fmt))),
                _ => Err(Error::new(
                    ErrorKind::InvalidOperation,
                    "strftime() takes exactly one string argument",
                )),
            },
            "isoformat" => {
                let sep = args
                    .first()
                    .and_then(Value::as_str)
                    .and_then(|s| s.chars().next())
                    .unwrap_or('T');
                Ok(Value::from(self.isoformat(sep)))
            }
            "weekday" => no_args(method, args).map(|_| Value::from(self.fields().wday)),
            "isoweekday" => no_args(method, args).map(|_| Value::from(self.fields().wday + 1)),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        Some(self.0.cmp(&other.downcast_ref::<Self>()?.0))
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.isoformat(' '))
    }
}

impl Object for TimeDelta {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let (days, secs, us) = self.parts();
        Some(Value::from(match key.as_str()? {
            "days" => days,
            "seconds" => secs,
            "microseconds" => us,
            _ => return None,
        }))
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "total_seconds" => {
                no_args(method, args).map(|_| Value::from(self.0 as f64 / US_PER_SEC as f64))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn is_true(self: &Arc<Self>) -> bool {
        self.0 != 0
    }

    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        Some(self.0.cmp(&other.downcast_ref::<Self>()?.0))
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_py_str())
    }
}

/// Python's type name for these objects (`type_debug`, error messages).
pub fn type_name(v: &Value) -> Option<&'static str> {
    if v.downcast_object_ref::<DateTime>().is_some() {
        Some("datetime")
    } else if v.downcast_object_ref::<TimeDelta>().is_some() {
        Some("timedelta")
    } else {
        None
    }
}

/// `a - b` when either side is a datetime or timedelta; `None` otherwise.
pub fn sub(a: &Value, b: &Value) -> Option<Result<Value, String>> {
    let dt = |v: &Value| v.downcast_object_ref::<DateTime>().copied();
    let td = |v: &Value| v.downcast_object_ref::<TimeDelta>().copied();
    let out = match (dt(a), td(a), dt(b), td(b)) {
        (Some(x), _, Some(y), _) => {
            x.0.checked_sub(y.0)
                .map(|d| Value::from_object(TimeDelta(d)))
        }
        (Some(x), _, _, Some(y)) => {
            x.0.checked_sub(y.0)
                .map(|d| Value::from_object(DateTime(d)))
        }
        (_, Some(x), _, Some(y)) => {
            x.0.checked_sub(y.0)
                .map(|d| Value::from_object(TimeDelta(d)))
        }
        (None, None, None, None) => return None,
        _ => {
            return Some(Err(format!(
                "unsupported operand type(s) for -: '{}' and '{}'",
                py_qualname(a),
                py_qualname(b)
            )))
        }
    };
    Some(out.ok_or_else(|| "date value out of range".to_string()))
}

fn py_qualname(v: &Value) -> String {
    match type_name(v) {
        Some(t) => format!("datetime.{t}"),
        None => super::pyrepr::type_name(v).to_string(),
    }
}

/// One strptime directive: its regex, as Python's `_strptime` builds it.
fn directive_regex(d: char) -> Option<String> {
    let names = |list: &[&str], abbrev: bool| {
        let mut v: Vec<String> = list
            .iter()
            .map(|n| if abbrev { &n[..3] } else { n }.to_lowercase())
            .collect();
        // Longest first, so a full name wins over its prefix.
        v.sort_by_key(|n| std::cmp::Reverse(n.len()));
        format!("({})", v.join("|"))
    };
    Some(match d {
        'd' => r"(3[01]|[12]\d|0[1-9]|[1-9]| [1-9])".into(),
        'f' => r"([0-9]{1,6})".into(),
        'H' => r"(2[0-3]|[0-1]\d|\d)".into(),
        'I' => r"(1[0-2]|0[1-9]|[1-9])".into(),
        'j' => r"(36[0-6]|3[0-5]\d|[12]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9])".into(),
        'm' => r"(1[0-2]|0[1-9]|[1-9])".into(),
        'M' => r"([0-5]\d|\d)".into(),
        'S' => r"(6[0-1]|[0-5]\d|\d)".into(),
        'w' => r"([0-6])".into(),
        'u' => r"([1-7])".into(),
        'y' => r"(\d\d)".into(),
        'Y' => r"(\d\d\d\d)".into(),
        'p' => "(am|pm)".into(),
        'b' => names(&MONTHS, true),
        'B' => names(&MONTHS, false),
        'a' => names(&WEEKDAYS, true),
        'A' => names(&WEEKDAYS, false),
        _ => return None,
    })
}

/// `datetime.strptime(data, fmt)`, with Python's error messages.
pub fn strptime(data: &str, fmt: &str) -> Result<DateTime, String> {
    let quoted = |s: &str| {
        let mut q = String::new();
        super::pyrepr::quote_str(s, &mut q);
        q
    };
    let mut pattern = String::from("(?i)^");
    let mut order = Vec::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '%' {
            let Some(d) = chars.next() else {
                return Err(format!("stray % in format {}", quoted(fmt)));
            };
            if d == '%' {
                pattern.push('%');
                continue;
            }
            match directive_regex(d) {
                Some(re) => {
                    pattern.push_str(&re);
                    order.push(d);
                }
                None if "zZUWcxXGV".contains(d) => {
                    return Err(format!(
                        "ferry does not support the %{d} directive of strptime"
                    ))
                }
                None => {
                    return Err(format!(
                        "'{d}' is a bad directive in format {}",
                        quoted(fmt)
                    ))
                }
            }
        } else if c.is_whitespace() {
            // A run of whitespace in the format matches any run in the data.
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            pattern.push_str(r"\s+");
        } else {
            pattern.push_str(&regex::escape(&c.to_string()));
        }
    }
    let re = regex::Regex::new(&pattern).map_err(|e| e.to_string())?;
    let caps = re.captures(data).ok_or_else(|| {
        format!(
            "time data {} does not match format {}",
            quoted(data),
            quoted(fmt)
        )
    })?;
    let end = caps.get(0).map_or(0, |m| m.end());
    if end != data.len() {
        return Err(format!("unconverted data remains: {}", &data[end..]));
    }
    let (mut y, mut mo, mut d, mut h, mut mi, mut s, mut us) = (1900, 1, 1, 0, 0, 0, 0);
    let mut julian: Option<i64> = None;
    let mut hour12: Option<i64> = None;
    let mut pm: Option<bool> = None;
    for (i, dir) in order.iter().enumerate() {
        let text = caps.get(i + 1).map_or("", |m| m.as_str());
        let num = || text.trim().parse::<i64>().unwrap_or(0);
        let month_of = |abbrev: bool| {
            MONTHS
                .iter()
                .position(|m| {
                    let m = if abbrev { &m[..3] } else { m };
                    m.eq_ignore_ascii_case(text)
                })
                .map_or(1, |p| p as i64 + 1)
        };
        match dir {
            'Y' => y = num(),
            'y' => {
                let v = num();
                y = if v <= 68 { 2000 + v } else { 1900 + v };
            }
            'm' => mo = num(),
            'b' => mo = month_of(true),
            'B' => mo = month_of(false),
            'd' => d = num(),
            'H' => h = num(),
            'I' => hour12 = Some(num()),
            'p' => pm = Some(text.eq_ignore_ascii_case("pm")),
            'M' => mi = num(),
            'S' => s = num(),
            'f' => us = format!("{text:0<6}").parse::<i64>().unwrap_or(0),
            'j' => julian = Some(num()),
            _ => {}
        }
    }
    if let Some(v) = hour12 {
        h = match (pm.unwrap_or(false), v) {
            (false, 12) => 0,
            (false, v) => v,
            (true, 12) => 12,
            (true, v) => v + 12,
        };
    }
    if let Some(j) = julian {
        let days = days_from_civil(y, 1, 1) + j - 1;
        (y, mo, d) = civil_from_days(days);
    }
    // Python's second is 0..=59; strptime accepts 60 and 61 and then fails.
    if s > 59 {
        return Err("second must be in 0..59".into());
    }
    if d > days_in_month(y, mo) {
        return Err("day is out of range for month".into());
    }
    let days = days_from_civil(y, mo, d);
    Ok(DateTime(
        days * US_PER_DAY + (h * 3600 + mi * 60 + s) * US_PER_SEC + us,
    ))
}

/// `a - b` for values that are not datetimes: minijinja's own operator.
pub fn plain_sub(a: Value, b: Value) -> Result<Value, Error> {
    static ENV: LazyLock<minijinja::Environment<'static>> =
        LazyLock::new(minijinja::Environment::new);
    let expr = ENV.compile_expression("a - b")?;
    expr.eval(minijinja::context! { a => a, b => b })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values from Python 3.11's `datetime.strptime`.
    #[test]
    fn strptime_like_python() {
        for (data, fmt, want) in [
            ("12 AUGUST 69", "%d %B %y", "1969-08-12 00:00:00"),
            ("12  august   68 12", "%d %B %y %I", "2068-08-12 00:00:00"),
            ("2016 366", "%Y %j", "2016-12-31 00:00:00"),
            (
                "2016-08-14 1:2:3.12",
                "%Y-%m-%d %H:%M:%S.%f",
                "2016-08-14 01:02:03.120000",
            ),
            ("x", "x", "1900-01-01 00:00:00"),
        ] {
            assert_eq!(
                strptime(data, fmt).map(|d| d.isoformat(' ')),
                Ok(want.to_string())
            );
        }
        assert_eq!(
            strptime("  5", "%d").err().as_deref(),
            Some("time data '  5' does not match format '%d'")
        );
        assert_eq!(
            strptime("5", "%d %").err().as_deref(),
            Some("stray % in format '%d %'")
        );
        assert_eq!(
            TimeDelta(-US_PER_DAY + 1_500_000).to_py_str(),
            "-1 day, 0:00:01.500000"
        );
    }
}
