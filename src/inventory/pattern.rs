//! Host patterns (`inventory/manager.py`): `web:db`, `web,db`, `&` intersection,
//! `!` exclusion, fnmatch globs, `~regex`, and `[i]`/`[i:j]` subscripts.
//!
//! Plain patterns are applied first, then intersections, then exclusions. A
//! pattern that is exactly a host name selects that host, even with glob
//! characters in it. A localhost name missing from the inventory selects the
//! implicit localhost (not a member of `all`).

use super::{address, Inventory, LOCALHOST_NAMES};
use crate::error::Error;
use regex::Regex;
use std::collections::HashSet;
use std::sync::OnceLock;

/// `split_host_pattern`: commas always separate; otherwise `:` does, unless
/// the whole pattern is one address (IPv6, `host:port`, a range).
pub fn split_host_pattern(pattern: &str) -> Vec<String> {
    let parts: Vec<String> = if pattern.contains(',') {
        pattern.split(',').map(String::from).collect()
    } else if address::parse_address(pattern).is_some() {
        vec![pattern.to_string()]
    } else {
        static RE: OnceLock<Regex> = OnceLock::new();
        let re =
            RE.get_or_init(|| Regex::new(r"(?:[^\s:\[\]]|\[[^\]]*\])+").expect("static regex"));
        re.find_iter(pattern)
            .map(|m| m.as_str().to_string())
            .collect()
    };
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// `order_patterns`: plain, then `&`, then `!`; only `&`/`!` implies `all`.
fn order_patterns(patterns: Vec<String>) -> Vec<String> {
    let (mut regular, mut and, mut not) = (Vec::new(), Vec::new(), Vec::new());
    for p in patterns {
        if p.starts_with('!') {
            not.push(p);
        } else if p.starts_with('&') {
            and.push(p);
        } else {
            regular.push(p);
        }
    }
    if regular.is_empty() {
        regular.push("all".to_string());
    }
    regular.extend(and);
    regular.extend(not);
    regular
}

/// A `[i]` or `[start:end]` suffix; `end` is inclusive, `None` means to the end.
#[derive(Debug, PartialEq)]
enum Subscript {
    Index(i64),
    Range(usize, Option<usize>),
}

/// `_split_subscript`.
fn split_subscript(pattern: &str) -> (String, Option<Subscript>) {
    if pattern.starts_with('~') {
        return (pattern.to_string(), None);
    }
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$").expect("static regex")
    });
    let Some(c) = re.captures(pattern) else {
        return (pattern.to_string(), None);
    };
    let base = c[1].to_string();
    if let Some(idx) = c.get(2) {
        return match idx.as_str().parse() {
            Ok(i) => (base, Some(Subscript::Index(i))),
            Err(_) => (pattern.to_string(), None),
        };
    }
    let start = c.get(3).and_then(|m| m.as_str().parse().ok());
    let end = c.get(5).map_or("", |m| m.as_str());
    let Some(start) = start else {
        return (pattern.to_string(), None);
    };
    if end.is_empty() {
        return (base, Some(Subscript::Range(start, None)));
    }
    match end.parse::<usize>() {
        // Ansible treats an end of 0 as "no end given": `[x:0]` is `[x]`.
        Ok(0) => (base, Some(Subscript::Index(start as i64))),
        Ok(e) => (base, Some(Subscript::Range(start, Some(e)))),
        Err(_) => (pattern.to_string(), None),
    }
}

/// `_apply_subscript`; an index out of range is an error, slices clamp.
fn apply_subscript(
    hosts: Vec<String>,
    sub: Option<Subscript>,
    pattern: &str,
) -> Result<Vec<String>, Error> {
    let Some(sub) = sub else { return Ok(hosts) };
    if hosts.is_empty() {
        return Ok(hosts);
    }
    let len = hosts.len();
    match sub {
        Subscript::Index(i) => {
            let idx = if i < 0 { len as i64 + i } else { i };
            usize::try_from(idx)
                .ok()
                .and_then(|i| hosts.get(i).cloned())
                .map(|h| vec![h])
                .ok_or_else(|| {
                    Error::Other(format!(
                        "No hosts matched the subscripted pattern '{pattern}'"
                    ))
                })
        }
        Subscript::Range(start, end) => {
            let stop = end.map_or(len, |e| (e + 1).min(len));
            Ok(hosts
                .get(start.min(stop)..stop)
                .map(<[String]>::to_vec)
                .unwrap_or_default())
        }
    }
}

/// Python's `fnmatch.translate`, as an anchored Rust regex.
pub fn fnmatch_to_regex(pat: &str) -> String {
    let chars: Vec<char> = pat.chars().collect();
    let mut out = String::from("(?s)^");
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => {
                while chars.get(i) == Some(&'*') {
                    i += 1;
                }
                out.push_str(".*");
            }
            '?' => out.push('.'),
            '[' => {
                let mut j = i;
                if chars.get(j) == Some(&'!') {
                    j += 1;
                }
                if chars.get(j) == Some(&']') {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    out.push_str("\\[");
                    continue;
                }
                out.push_str(&char_class(&chars[i..j]));
                i = j + 1;
            }
            _ => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push('$');
    out
}

/// The inside of an fnmatch `[...]` as a regex class; ranges that run
/// backwards are dropped (Python does the same), an empty class never matches.
fn char_class(stuff: &[char]) -> String {
    let (negate, body) = match stuff.first() {
        Some('!') => (true, &stuff[1..]),
        _ => (false, stuff),
    };
    if negate && body.is_empty() {
        return ".".into();
    }
    let mut items = String::new();
    let mut k = 0;
    let esc = |c: char| {
        if c.is_alphanumeric() {
            c.to_string()
        } else {
            format!("\\{c}")
        }
    };
    while k < body.len() {
        if k + 2 < body.len() && body[k + 1] == '-' {
            let (a, b) = (body[k], body[k + 2]);
            if a <= b {
                items.push_str(&format!("{}-{}", esc(a), esc(b)));
            }
            k += 3;
        } else {
            items.push_str(&esc(body[k]));
            k += 1;
        }
    }
    if items.is_empty() {
        return if negate {
            ".".into()
        } else {
            "[^\\s\\S]".into()
        };
    }
    format!("[{}{items}]", if negate { "^" } else { "" })
}

/// Compile one pattern as Ansible's `_match_list` does.
fn compile(pattern: &str) -> Result<Regex, Error> {
    let re = match pattern.strip_prefix('~') {
        Some(r) => format!("^(?:{r})"),
        None => fnmatch_to_regex(pattern),
    };
    Regex::new(&re).map_err(|_| Error::Other(format!("Invalid host list pattern: {pattern}")))
}

impl Inventory {
    /// Hosts matching a host pattern, in inventory order, without duplicates.
    /// An empty result is not an error (Ansible warns; the caller decides).
    pub fn select(&self, pattern: &str) -> Result<Vec<String>, Error> {
        let mut hosts: Vec<String> = Vec::new();
        for p in order_patterns(split_host_pattern(pattern)) {
            if self.hosts.contains_key(&p) {
                hosts.push(p);
                continue;
            }
            let that = self.match_one_pattern(&p)?;
            if p.starts_with('!') {
                let that: HashSet<&String> = that.iter().collect();
                hosts.retain(|h| !that.contains(h));
            } else if p.starts_with('&') {
                let that: HashSet<&String> = that.iter().collect();
                hosts.retain(|h| that.contains(h));
            } else {
                let existing: HashSet<String> = hosts.iter().cloned().collect();
                hosts.extend(that.into_iter().filter(|h| !existing.contains(h)));
            }
        }
        let mut seen = HashSet::new();
        hosts.retain(|h| seen.insert(h.clone()));
        Ok(hosts)
    }

    /// `_match_one_pattern`: `&`/`!` stripped, subscript applied.
    fn match_one_pattern(&self, pattern: &str) -> Result<Vec<String>, Error> {
        let bare = pattern
            .strip_prefix('&')
            .or_else(|| pattern.strip_prefix('!'))
            .unwrap_or(pattern);
        if bare.is_empty() {
            return Err(Error::Other(format!("Invalid host pattern: '{pattern}'")));
        }
        let (expr, sub) = split_subscript(bare);
        let hosts = self.enumerate_matches(&expr)?;
        apply_subscript(hosts, sub, bare)
    }

    /// `_enumerate_matches`: matching groups' hosts, plus matching hosts when no
    /// group matched or the pattern is a glob/regex.
    fn enumerate_matches(&self, pattern: &str) -> Result<Vec<String>, Error> {
        let re = compile(pattern)?;
        let mut results: Vec<String> = Vec::new();
        let groups: Vec<&String> = self.groups.keys().filter(|g| re.is_match(g)).collect();
        for g in &groups {
            results.extend(self.group_hosts(g));
        }
        let special = pattern.starts_with('~') || pattern.contains(['.', '?', '*', '[']);
        if groups.is_empty() || special {
            results.extend(self.hosts.keys().filter(|h| re.is_match(h)).cloned());
        }
        if results.is_empty() && LOCALHOST_NAMES.contains(&pattern) {
            results.push(pattern.to_string());
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting() {
        assert_eq!(
            split_host_pattern("a,b[1], c[2:3] , d"),
            ["a", "b[1]", "c[2:3]", "d"]
        );
        assert_eq!(split_host_pattern("web:&db:!x"), ["web", "&db", "!x"]);
        assert_eq!(split_host_pattern("fe80::1"), ["fe80::1"]);
        assert_eq!(split_host_pattern("web[1:3]"), ["web[1:3]"]);
        assert_eq!(split_host_pattern("web[0]:db"), ["web[0]", "db"]);
        assert_eq!(split_host_pattern("host:22"), ["host:22"]);
        assert!(split_host_pattern("").is_empty());
    }

    #[test]
    fn subscripts() {
        use Subscript::*;
        assert_eq!(split_subscript("g[0]"), ("g".into(), Some(Index(0))));
        assert_eq!(split_subscript("g[-1]"), ("g".into(), Some(Index(-1))));
        assert_eq!(split_subscript("g[1:]"), ("g".into(), Some(Range(1, None))));
        assert_eq!(
            split_subscript("g[0:2]"),
            ("g".into(), Some(Range(0, Some(2))))
        );
        assert_eq!(
            split_subscript("g[1-2]"),
            ("g".into(), Some(Range(1, Some(2))))
        );
        assert_eq!(split_subscript("g[2:0]"), ("g".into(), Some(Index(2))));
        assert_eq!(split_subscript("g[:2]"), ("g[:2]".into(), None));
        assert_eq!(split_subscript("~g[0]"), ("~g[0]".into(), None));
    }

    #[test]
    fn fnmatch() {
        let m = |p: &str, s: &str| Regex::new(&fnmatch_to_regex(p)).unwrap().is_match(s);
        assert!(m("web*", "web1"));
        assert!(!m("web*", "xweb1"));
        assert!(m("w?b", "web"));
        assert!(m("db[0-9]", "db3"));
        assert!(!m("db[!0-9]", "db3"));
        assert!(m("a.b", "a.b"));
        assert!(!m("a.b", "axb"));
        assert!(m("x[", "x["));
        assert!(m("[]]", "]"));
        assert!(!m("[z-a]", "m"));
    }
}
