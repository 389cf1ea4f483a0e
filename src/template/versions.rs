//! The version classes behind Ansible's `version` test: LooseVersion,
//! StrictVersion (ansible.module_utils.compat.version), SemanticVersion
//! (ansible.utils.version) and PEP 440 (packaging.version.Version), each
//! compared the way Python compares them, errors included.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Loose {
    Int(u128),
    Str(String),
}

impl Loose {
    fn type_name(&self) -> &'static str {
        match self {
            Loose::Int(_) => "int",
            Loose::Str(_) => "str",
        }
    }
}

/// LooseVersion.parse: `re.split(r'(\d+|[a-z]+|\.)')`, dots dropped, the
/// text between matches kept as strings.
fn loose_parse(s: &str) -> Vec<Loose> {
    let mut out = Vec::new();
    let mut other = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let flush = |other: &mut String, out: &mut Vec<Loose>| {
        if !other.is_empty() {
            out.push(Loose::Str(std::mem::take(other)));
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() || c.is_ascii_lowercase() {
            flush(&mut other, &mut out);
            let digit = c.is_ascii_digit();
            let start = i;
            while i < chars.len()
                && (if digit {
                    chars[i].is_ascii_digit()
                } else {
                    chars[i].is_ascii_lowercase()
                })
            {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            out.push(if digit {
                Loose::Int(run.parse().unwrap_or(u128::MAX))
            } else {
                Loose::Str(run)
            });
        } else if c == '.' {
            flush(&mut other, &mut out);
            i += 1;
        } else {
            other.push(c);
            i += 1;
        }
    }
    flush(&mut other, &mut out);
    out
}

/// Python's list ordering, which raises TypeError on `str < int`.
fn loose_cmp(a: &[Loose], b: &[Loose]) -> Result<Ordering, String> {
    for (x, y) in a.iter().zip(b) {
        if x == y {
            continue;
        }
        return match (x, y) {
            (Loose::Int(p), Loose::Int(q)) => Ok(p.cmp(q)),
            (Loose::Str(p), Loose::Str(q)) => Ok(p.cmp(q)),
            _ => Err(format!(
                "'<' not supported between instances of '{}' and '{}'",
                x.type_name(),
                y.type_name()
            )),
        };
    }
    Ok(a.len().cmp(&b.len()))
}

type Strict = ([u128; 3], Option<(char, u128)>);

/// StrictVersion: `^(\d+)\.(\d+)(\.(\d+))?([ab](\d+))?$`.
fn strict_parse(s: &str) -> Result<Strict, String> {
    let bad = || format!("invalid version number '{s}'");
    let num = |p: &str| -> Result<u128, String> {
        if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        p.parse().map_err(|_| bad())
    };
    let (core, pre) = match s.find(['a', 'b']) {
        Some(i) => {
            let letter = s[i..].chars().next().unwrap_or('a');
            (&s[..i], Some((letter, num(&s[i + 1..])?)))
        }
        None => (s, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(bad());
    }
    let mut v = [0u128; 3];
    for (slot, p) in v.iter_mut().zip(&parts) {
        *slot = num(p)?;
    }
    Ok((v, pre))
}

fn strict_cmp(a: &Strict, b: &Strict) -> Ordering {
    a.0.cmp(&b.0).then_with(|| match (&a.1, &b.1) {
        (None, None) => Ordering::Equal,
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (Some(x), Some(y)) => x.cmp(y),
    })
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Ident {
    // Numeric identifiers sort before alphanumeric ones.
    Num(u128),
    Alpha(String),
}

type Semver = ([u128; 3], Vec<Ident>);

fn semver_parse(s: &str) -> Result<Semver, String> {
    let bad = || format!("invalid semantic version '{s}'");
    let re = regex::Regex::new(
        r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$",
    )
    .map_err(|e| e.to_string())?;
    let caps = re.captures(s).ok_or_else(bad)?;
    let mut core = [0u128; 3];
    for (i, slot) in core.iter_mut().enumerate() {
        *slot = caps
            .get(i + 1)
            .and_then(|m| m.as_str().parse().ok())
            .ok_or_else(bad)?;
    }
    let pre = caps
        .get(4)
        .map(|m| {
            m.as_str()
                .split('.')
                .map(|x| match x.parse::<u128>() {
                    Ok(n) if x.chars().all(|c| c.is_ascii_digit()) => Ident::Num(n),
                    _ => Ident::Alpha(x.to_string()),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok((core, pre))
}

fn semver_cmp(a: &Semver, b: &Semver) -> Ordering {
    a.0.cmp(&b.0)
        .then_with(|| match (a.1.is_empty(), b.1.is_empty()) {
            (true, true) => Ordering::Equal,
            (false, true) => Ordering::Less,
            (true, false) => Ordering::Greater,
            (false, false) => a.1.cmp(&b.1),
        })
}

/// packaging's comparison key; `None` fields are its infinities.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Inf<T> {
    Neg,
    Val(T),
    Pos,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Pep440Key {
    epoch: u128,
    release: Vec<u128>,
    pre: Inf<(String, u128)>,
    post: Inf<u128>,
    dev: Inf<u128>,
    local: Inf<Vec<(Inf<u128>, String)>>,
}

fn pep440_parse(s: &str) -> Result<Pep440Key, String> {
    let re = regex::Regex::new(
        r"(?ix)^\s*v?
        (?:(?P<epoch>[0-9]+)!)?
        (?P<release>[0-9]+(?:\.[0-9]+)*)
        (?P<pre>[-_\.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_\.]?(?P<pre_n>[0-9]+)?)?
        (?P<post>(?:-(?P<post_n1>[0-9]+))|(?:[-_\.]?(?P<post_l>post|rev|r)[-_\.]?(?P<post_n2>[0-9]+)?))?
        (?P<dev>[-_\.]?(?P<dev_l>dev)[-_\.]?(?P<dev_n>[0-9]+)?)?
        (?:\+(?P<local>[a-z0-9]+(?:[-_\.][a-z0-9]+)*))?
        \s*$",
    )
    .map_err(|e| e.to_string())?;
    let caps = re
        .captures(s)
        .ok_or_else(|| format!("Invalid version: '{s}'"))?;
    let n = |name: &str| -> u128 {
        caps.name(name)
            .and_then(|m| m.as_str().parse().ok())
            .unwrap_or(0)
    };
    let mut release: Vec<u128> = caps
        .name("release")
        .map(|m| {
            m.as_str()
                .split('.')
                .map(|p| p.parse().unwrap_or(0))
                .collect()
        })
        .unwrap_or_default();
    while release.last() == Some(&0) {
        release.pop();
    }
    let has_pre = caps.name("pre").is_some();
    let has_post = caps.name("post").is_some();
    let has_dev = caps.name("dev").is_some();
    let pre = if has_pre {
        let l = caps
            .name("pre_l")
            .map(|m| m.as_str().to_lowercase())
            .unwrap_or_default();
        let l = match l.as_str() {
            "alpha" => "a",
            "beta" => "b",
            "c" | "pre" | "preview" => "rc",
            other => other,
        }
        .to_string();
        Inf::Val((l, n("pre_n")))
    } else if !has_post && has_dev {
        Inf::Neg
    } else {
        Inf::Pos
    };
    let post = if has_post {
        Inf::Val(if caps.name("post_n1").is_some() {
            n("post_n1")
        } else {
            n("post_n2")
        })
    } else {
        Inf::Neg
    };
    let dev = if has_dev {
        Inf::Val(n("dev_n"))
    } else {
        Inf::Pos
    };
    let local = match caps.name("local") {
        Some(m) => Inf::Val(
            m.as_str()
                .split(['-', '_', '.'])
                .map(|p| match p.parse::<u128>() {
                    Ok(i) => (Inf::Val(i), String::new()),
                    Err(_) => (Inf::Neg, p.to_lowercase()),
                })
                .collect(),
        ),
        None => Inf::Neg,
    };
    Ok(Pep440Key {
        epoch: n("epoch"),
        release,
        pre,
        post,
        dev,
        local,
    })
}

/// Compare two versions with the named class; `Err` is the Python
/// exception text.
pub fn compare(vtype: &str, a: &str, b: &str) -> Result<Ordering, String> {
    match vtype {
        "loose" => loose_cmp(&loose_parse(a), &loose_parse(b)),
        "strict" => Ok(strict_cmp(&strict_parse(a)?, &strict_parse(b)?)),
        "semver" | "semantic" => Ok(semver_cmp(&semver_parse(a)?, &semver_parse(b)?)),
        "pep440" => Ok(pep440_parse(a)?.cmp(&pep440_parse(b)?)),
        _ => Err(format!("unknown version type {vtype}")),
    }
}
