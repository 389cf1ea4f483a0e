//! Host addresses as Ansible reads them (`parsing/utils/addresses.py` and the
//! range expansion in `plugins/inventory/__init__.py`): `host:port`,
//! `[v6addr]:port`, bare IPv6, and `web[01:20]` / `db-[a:f]` / `[1:10:2]` ranges.
//!
//! Inventory keys go through [`expand_hostpattern`]; host patterns on the command
//! line use [`parse_address`] only to decide whether `:` is a separator.

use regex::Regex;
use std::sync::OnceLock;

const NUMERIC_RANGE: &str = r"\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]";
const ALNUM_RANGE: &str = r"\[(?:[a-zA-Z]:[a-zA-Z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]";

struct Patterns {
    bracketed_hostport: Regex,
    hostport: Regex,
    ipv4: Regex,
    ipv6: Regex,
    label: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let i6 = format!("(?:[0-9a-fA-F]{{1,4}}|{NUMERIC_RANGE})");
        let i4 = format!("(?:[01]?[0-9]{{1,2}}|2[0-4][0-9]|25[0-5]|{NUMERIC_RANGE})");
        let v4 = format!(r"(?:{i4}\.){{3}}{i4}");
        let v6_alts = [
            format!("(?:{i6}:){{7}}{i6}"),
            format!("(?:{i6}:){{1,6}}:"),
            format!("(?:{i6}:)(?::{i6}){{1,6}}"),
            format!("(?:{i6}:){{2}}(?::{i6}){{1,5}}"),
            format!("(?:{i6}:){{3}}(?::{i6}){{1,4}}"),
            format!("(?:{i6}:){{4}}(?::{i6}){{1,3}}"),
            format!("(?:{i6}:){{5}}(?::{i6}){{1,2}}"),
            format!("(?:{i6}:){{6}}(?::{i6})"),
            format!(":(?::{i6}){{1,6}}"),
            format!("{i6}?::"),
            format!(r"(?:0:){{6}}(?:{i6}\.){{3}}{i6}"),
            format!(r"::(?:ffff:)?(?:{i6}\.){{3}}{i6}"),
            format!(r"(?:0:){{5}}ffff:(?:{i6}\.){{3}}{i6}"),
        ];
        // Python's `^a|b|...|z$` under re.match anchors every alternative at
        // the start but only the last at the end; keep that quirk.
        let (last, rest) = v6_alts.split_last().unwrap_or_else(|| unreachable!());
        let v6 = format!("(?i)^(?:{}|(?:{last})$)", rest.join("|"));
        let build = |s: &str| Regex::new(s).unwrap_or_else(|e| panic!("static regex {s}: {e}"));
        Patterns {
            bracketed_hostport: build(r"^\[(.+)\]:([0-9]+)$"),
            hostport: build(r"^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$"),
            ipv4: build(&format!("^{v4}$")),
            ipv6: build(&v6),
            label: build(&format!(r"^(?:\w|{ALNUM_RANGE})(?:[\w-]|{ALNUM_RANGE})*$")),
        }
    })
}

/// `hostname` from addresses.py: dot-separated labels of word chars, dashes
/// and ranges, no label ending in `-` or `_`.
fn is_hostname(s: &str) -> bool {
    let p = patterns();
    s.split('.')
        .all(|l| p.label.is_match(l) && !l.ends_with('-') && !l.ends_with('_'))
}

/// Ansible's `parse_address(address, allow_ranges=True)`: the host part and an
/// optional port, or `None` where Ansible raises "Not a valid network hostname".
pub fn parse_address(address: &str) -> Option<(String, Option<u16>)> {
    let p = patterns();
    let mut addr = address.to_string();
    let mut port = None;
    for re in [&p.bracketed_hostport, &p.hostport] {
        if let Some(c) = re.captures(&addr) {
            let host = c[1].to_string();
            // An out-of-range port is no port Ansible could use either.
            port = Some(c[2].parse::<u16>().ok()?);
            addr = host;
        }
    }
    if p.ipv4.is_match(&addr) || p.ipv6.is_match(&addr) || is_hostname(&addr) {
        Some((addr, port))
    } else {
        None
    }
}

/// `_expand_hostpattern`: split off a port, then expand `[x:y(:z)]` ranges.
pub fn expand_hostpattern(pattern: &str) -> Result<(Vec<String>, Option<u16>), String> {
    let (host, port) = match parse_address(pattern) {
        Some((h, p)) => (h, p),
        None => (pattern.to_string(), None),
    };
    if host.contains('[') {
        Ok((expand_hostname_range(&host)?, port))
    } else {
        Ok((vec![host], port))
    }
}

/// `expand_hostname_range`: expand the first `[...]`, recursing on the rest.
pub fn expand_hostname_range(line: &str) -> Result<Vec<String>, String> {
    let Some(open) = line.find('[') else {
        return Ok(vec![line.to_string()]);
    };
    // Python replaces the first '[' and first ']' with '|' and splits in 3.
    let close = match line.find(']') {
        Some(c) if c > open => c,
        _ => return Err(format!("invalid host range in '{line}'")),
    };
    let (head, nrange, tail) = (&line[..open], &line[open + 1..close], &line[close + 1..]);
    let bounds: Vec<&str> = nrange.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return Err("host range must be begin:end or begin:end:step".into());
    }
    let beg = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    let step = bounds.get(2).copied().unwrap_or("1");
    if end.is_empty() {
        return Err("host range must specify end value".into());
    }
    let width = if beg.starts_with('0') && beg.len() > 1 {
        if beg.len() != end.len() {
            return Err("host range must specify equal-length begin and end formats".into());
        }
        beg.len()
    } else {
        0
    };
    let step: usize = step
        .parse()
        .ok()
        .filter(|s| *s > 0)
        .ok_or_else(|| format!("invalid host range step '{step}'"))?;
    const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let seq: Vec<String> = match (LETTERS.find(beg), LETTERS.find(end)) {
        (Some(b), Some(e)) => {
            if b > e {
                return Err("host range must have begin <= end".into());
            }
            LETTERS[b..=e]
                .chars()
                .step_by(step)
                .map(String::from)
                .collect()
        }
        _ => {
            let b: u64 = beg
                .parse()
                .map_err(|_| format!("invalid host range start '{beg}'"))?;
            let e: u64 = end
                .parse()
                .map_err(|_| format!("invalid host range end '{end}'"))?;
            if e.saturating_sub(b) > 1_000_000 {
                return Err(format!("host range [{nrange}] is too large"));
            }
            (b..=e)
                .step_by(step)
                .map(|n| format!("{n:0width$}"))
                .collect()
        }
    };
    let mut out = Vec::new();
    for item in seq {
        let name = format!("{head}{item}{tail}");
        if name.contains('[') {
            out.extend(expand_hostname_range(&name)?);
        } else {
            out.push(name);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_addresses() {
        assert_eq!(parse_address("20.1.2.3"), Some(("20.1.2.3".into(), None)));
        assert_eq!(
            parse_address("web1:2222"),
            Some(("web1".into(), Some(2222)))
        );
        assert_eq!(parse_address("[::1]:22"), Some(("::1".into(), Some(22))));
        assert_eq!(parse_address("::1"), Some(("::1".into(), None)));
        assert_eq!(parse_address("fe80::1"), Some(("fe80::1".into(), None)));
        assert_eq!(
            parse_address("10.0.0.1:22"),
            Some(("10.0.0.1".into(), Some(22)))
        );
        assert_eq!(
            parse_address("web[1:3]:22"),
            Some(("web[1:3]".into(), Some(22)))
        );
        assert_eq!(parse_address("web:db"), None);
        assert_eq!(parse_address("web[0]"), None);
        assert_eq!(parse_address("host-"), None);
        assert_eq!(
            parse_address("a_b.example.com"),
            Some(("a_b.example.com".into(), None))
        );
    }

    #[test]
    fn ranges() {
        assert_eq!(
            expand_hostname_range("web[01:03].example.com").unwrap(),
            [
                "web01.example.com",
                "web02.example.com",
                "web03.example.com"
            ]
        );
        assert_eq!(
            expand_hostname_range("db-[a:c]").unwrap(),
            ["db-a", "db-b", "db-c"]
        );
        assert_eq!(
            expand_hostname_range("h[1:10:4]").unwrap(),
            ["h1", "h5", "h9"]
        );
        assert_eq!(
            expand_hostname_range("n[1:2]-[a:b]").unwrap(),
            ["n1-a", "n1-b", "n2-a", "n2-b"]
        );
        assert_eq!(expand_hostname_range("h[:2]").unwrap(), ["h0", "h1", "h2"]);
        assert!(expand_hostname_range("h[01:100]").is_err());
        assert!(expand_hostname_range("h[1]").is_err());
        assert!(expand_hostname_range("h[3:1:0]").is_err());
        assert_eq!(
            expand_hostpattern("web[1:2]:2222").unwrap(),
            (vec!["web1".to_string(), "web2".to_string()], Some(2222))
        );
    }
}
