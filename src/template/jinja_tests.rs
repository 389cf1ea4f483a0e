//! Jinja tests (`x is NAME`): Ansible's additions to the Jinja2 builtins.
//!
//! minijinja already provides the Jinja2 tests (`defined`, `none`, `string`,
//! `mapping`, `in`, `eq`, `sameas` …); this adds Ansible's (`match`, `search`,
//! `version`, `subset`, `failed`, `changed`, `file` …) and the
//! `ansible.builtin.` spelling of every test.

use std::cmp::Ordering;
use std::path::Path;

use minijinja::value::{Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Environment, Error, State};

use super::filters::{as_f64, fail, py_regex, to_bool, Args};
use super::pyrepr;

type TestFn = fn(&mut State, Args) -> Result<bool, Error>;

fn reg(env: &mut Environment<'static>, names: &[&'static str], f: TestFn) {
    for name in names {
        for full in [name.to_string(), format!("ansible.builtin.{name}")] {
            env.add_test(full, move |state: &mut State, args: Rest<ValueOrKwargs>| {
                f(
                    state,
                    Args::split(args.0.into_iter().map(Value::from).collect()),
                )
            });
        }
    }
}

/// `ansible.builtin.X` for a minijinja builtin test `X`.
fn alias_builtin(env: &mut Environment<'static>, name: &'static str) {
    env.add_test(
        format!("ansible.builtin.{name}"),
        move |state: &mut State, args: Rest<ValueOrKwargs>| {
            let args: Vec<Value> = args.0.into_iter().map(Value::from).collect();
            state.perform_test(name, &args)
        },
    );
}

fn result_flag(a: &Args, key: &str, test: &str) -> Result<bool, Error> {
    let v = a.defined()?;
    if v.kind() != ValueKind::Map {
        return Err(fail(format!("The '{test}' test expects a dictionary")));
    }
    Ok(v.get_attr(key)
        .map(|x| to_bool(&x) || (x.is_true() && x.kind() != ValueKind::String))
        .unwrap_or(false))
}

pub(crate) fn register(env: &mut Environment<'static>) {
    for name in [
        "defined",
        "undefined",
        "none",
        "odd",
        "even",
        "divisibleby",
        "number",
        "integer",
        "float",
        "string",
        "sequence",
        "iterable",
        "mapping",
        "startingwith",
        "endingwith",
        "true",
        "false",
        "eq",
        "equalto",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "in",
        "boolean",
        "lower",
        "upper",
        "sameas",
        "filter",
        "test",
        "safe",
        "escaped",
    ] {
        alias_builtin(env, name);
    }
    reg(env, &["truthy"], |_, a| {
        let v = a.defined()?;
        Ok(if a.boolean(0, "convert_bool", false) {
            to_bool(v)
        } else {
            v.is_true()
        })
    });
    reg(env, &["falsy"], |_, a| {
        let v = a.defined()?;
        Ok(!if a.boolean(0, "convert_bool", false) {
            to_bool(v)
        } else {
            v.is_true()
        })
    });
    reg(env, &["match"], |_, a| regex_test(&a, "match"));
    reg(env, &["search"], |_, a| regex_test(&a, "search"));
    reg(env, &["regex"], |_, a| {
        let t = a.string(3, "match_type", "search");
        regex_test(&a, &t)
    });
    reg(env, &["version", "version_compare"], t_version);
    reg(env, &["subset", "issubset"], |_, a| {
        let x = list_of(a.defined()?);
        let y = list_of(a.get(0, "b").unwrap_or(&Value::UNDEFINED));
        Ok(x.iter().all(|i| y.contains(i)))
    });
    reg(env, &["superset", "issuperset"], |_, a| {
        let x = list_of(a.defined()?);
        let y = list_of(a.get(0, "b").unwrap_or(&Value::UNDEFINED));
        Ok(y.iter().all(|i| x.contains(i)))
    });
    reg(env, &["contains"], |_, a| {
        let seq = list_of(a.defined()?);
        let item = a.get(0, "value").cloned().unwrap_or_default();
        Ok(seq.contains(&item))
    });
    reg(env, &["any"], |_, a| {
        Ok(list_of(a.defined()?).iter().any(|v| v.is_true()))
    });
    reg(env, &["all"], |_, a| {
        Ok(list_of(a.defined()?).iter().all(|v| v.is_true()))
    });
    reg(env, &["nan"], |_, a| {
        Ok(as_f64(a.defined()?).is_some_and(|f| f.is_nan()))
    });
    reg(env, &["failed", "failure"], |_, a| {
        result_flag(&a, "failed", "failed")
    });
    reg(env, &["succeeded", "success", "successful"], |_, a| {
        Ok(!result_flag(&a, "failed", "succeeded")?)
    });
    reg(env, &["unreachable"], |_, a| {
        result_flag(&a, "unreachable", "unreachable")
    });
    reg(env, &["reachable"], |_, a| {
        Ok(!result_flag(&a, "unreachable", "reachable")?)
    });
    reg(env, &["skipped", "skip"], |_, a| {
        result_flag(&a, "skipped", "skipped")
    });
    reg(env, &["changed", "change"], |_, a| {
        let v = a.defined()?;
        if v.kind() != ValueKind::Map {
            return Err(fail("The 'changed' test expects a dictionary"));
        }
        if let Ok(c) = v.get_attr("changed") {
            if !c.is_undefined() {
                return Ok(to_bool(&c) || (c.is_true() && c.kind() != ValueKind::String));
            }
        }
        if let Ok(results) = v.get_attr("results") {
            if results.kind() == ValueKind::Seq {
                if let Ok(iter) = results.try_iter() {
                    for r in iter {
                        if r.get_attr("changed").map(|c| c.is_true()).unwrap_or(false) {
                            return Ok(true);
                        }
                    }
                }
            }
        }
        Ok(false)
    });
    reg(env, &["finished"], |_, a| {
        let v = a.defined()?;
        Ok(v.get_attr("finished")
            .ok()
            .filter(|f| !f.is_undefined())
            .map(|f| as_f64(&f) == Some(1.0))
            .unwrap_or(true))
    });
    reg(env, &["started"], |_, a| {
        let v = a.defined()?;
        Ok(v.get_attr("started")
            .ok()
            .filter(|f| !f.is_undefined())
            .map(|f| as_f64(&f) == Some(1.0))
            .unwrap_or(true))
    });
    reg(env, &["file", "is_file"], |_, a| {
        Ok(Path::new(&a.input_str()?).is_file())
    });
    reg(env, &["directory", "is_dir"], |_, a| {
        Ok(Path::new(&a.input_str()?).is_dir())
    });
    reg(env, &["link", "is_link"], |_, a| {
        Ok(Path::new(&a.input_str()?).is_symlink())
    });
    reg(env, &["exists"], |_, a| {
        Ok(Path::new(&super::filters::expanduser(&a.input_str()?)).exists())
    });
    reg(env, &["abs", "is_abs"], |_, a| {
        Ok(a.input_str()?.starts_with('/'))
    });
    reg(env, &["same_file", "samefile"], |_, a| {
        let x = std::fs::canonicalize(a.input_str()?);
        let y = std::fs::canonicalize(a.string(0, "b", ""));
        Ok(matches!((x, y), (Ok(x), Ok(y)) if x == y))
    });
    reg(env, &["mount", "is_mount"], |_, a| {
        let p = a.input_str()?;
        let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
        Ok(mounts.lines().any(|l| {
            l.split_whitespace().nth(1) == Some(p.trim_end_matches('/'))
                || (p == "/" && l.split_whitespace().nth(1) == Some("/"))
        }))
    });
    reg(env, &["vault_encrypted", "vaulted_file"], |_, a| {
        Ok(a.input_str()?.trim_start().starts_with("$ANSIBLE_VAULT;"))
    });
}

fn list_of(v: &Value) -> Vec<Value> {
    if v.is_undefined() || v.is_none() {
        return vec![];
    }
    v.try_iter().map(|i| i.collect()).unwrap_or_default()
}

fn regex_test(a: &Args, kind: &str) -> Result<bool, Error> {
    let s = a.input_str()?;
    let pat = a.string(0, "pattern", "");
    let re = py_regex(
        &pat,
        a.boolean(1, "ignorecase", false),
        a.boolean(2, "multiline", false),
    )?;
    let ic = a.boolean(1, "ignorecase", false);
    let ml = a.boolean(2, "multiline", false);
    Ok(match kind {
        "match" => py_regex(&format!("\\A(?:{pat})"), ic, ml)?.is_match(&s),
        "fullmatch" => py_regex(&format!("\\A(?:{pat})\\z"), ic, ml)?.is_match(&s),
        _ => re.is_match(&s),
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Num(u64),
    Str(String),
}

impl PartialOrd for Part {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Part {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Part::Num(a), Part::Num(b)) => a.cmp(b),
            (Part::Str(a), Part::Str(b)) => a.cmp(b),
            (Part::Num(_), Part::Str(_)) => Ordering::Greater,
            (Part::Str(_), Part::Num(_)) => Ordering::Less,
        }
    }
}

/// Python's `LooseVersion` split: runs of digits and of letters.
fn loose_parts(s: &str) -> Vec<Part> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut cur_digit = false;
    let flush = |cur: &mut String, digit: bool, out: &mut Vec<Part>| {
        if !cur.is_empty() {
            out.push(if digit {
                Part::Num(cur.parse().unwrap_or(u64::MAX))
            } else {
                Part::Str(std::mem::take(cur))
            });
            cur.clear();
        }
    };
    for c in s.chars() {
        if c == '.' {
            flush(&mut cur, cur_digit, &mut out);
            continue;
        }
        let d = c.is_ascii_digit();
        if !cur.is_empty() && d != cur_digit {
            flush(&mut cur, cur_digit, &mut out);
        }
        cur_digit = d;
        cur.push(c);
    }
    flush(&mut cur, cur_digit, &mut out);
    out
}

/// Semantic version comparison key (major, minor, patch, prerelease).
fn semver_cmp(a: &str, b: &str) -> Result<Ordering, Error> {
    fn parse(s: &str) -> Option<(Vec<u64>, Option<Vec<Part>>)> {
        let s = s.trim().trim_start_matches('v');
        let s = s.split('+').next()?;
        let (core, pre) = match s.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (s, None),
        };
        let nums: Option<Vec<u64>> = core.split('.').map(|p| p.parse().ok()).collect();
        let nums = nums?;
        if nums.len() != 3 {
            return None;
        }
        Some((nums, pre.map(loose_parts)))
    }
    let (x, y) = match (parse(a), parse(b)) {
        (Some(x), Some(y)) => (x, y),
        _ => {
            return Err(fail(format!(
                "Version comparison failed: invalid semantic version '{a}' or '{b}'"
            )))
        }
    };
    Ok(x.0.cmp(&y.0).then_with(|| match (&x.1, &y.1) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(p), Some(q)) => p.cmp(q),
    }))
}

fn t_version(_: &mut State, a: Args) -> Result<bool, Error> {
    let v = a.defined()?;
    let left = pyrepr::py_str_string(v);
    let right = a
        .get(0, "version")
        .map(pyrepr::py_str_string)
        .ok_or_else(|| fail("Version comparison failed: version parameter is required"))?;
    let op = a.string(1, "operator", "eq");
    let strict = a.boolean(2, "strict", false);
    let vtype = a.opt_string(3, "version_type").unwrap_or_else(|| {
        if strict {
            "strict".into()
        } else {
            "loose".into()
        }
    });
    if left.is_empty() {
        return Err(fail("Input version value cannot be empty"));
    }
    let ord = match vtype.as_str() {
        "semver" | "semantic" => semver_cmp(&left, &right)?,
        "strict" => {
            let ok = |s: &str| {
                let core: String = s
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect();
                let n = core.split('.').count();
                !core.is_empty() && (2..=3).contains(&n) && core.split('.').all(|p| !p.is_empty())
            };
            if !ok(&left) || !ok(&right) {
                return Err(fail(format!(
                    "Version comparison failed: invalid version number '{left}'"
                )));
            }
            loose_parts(&left).cmp(&loose_parts(&right))
        }
        "loose" | "pep440" => {
            let mut l = loose_parts(&left);
            let mut r = loose_parts(&right);
            if vtype == "pep440" {
                while l.last() == Some(&Part::Num(0)) {
                    l.pop();
                }
                while r.last() == Some(&Part::Num(0)) {
                    r.pop();
                }
            }
            l.cmp(&r)
        }
        other => return Err(fail(format!("Invalid version type ({other})"))),
    };
    Ok(match op.as_str() {
        "<" | "lt" => ord == Ordering::Less,
        "<=" | "le" => ord != Ordering::Greater,
        ">" | "gt" => ord == Ordering::Greater,
        ">=" | "ge" => ord != Ordering::Less,
        "==" | "=" | "eq" => ord == Ordering::Equal,
        "!=" | "<>" | "ne" => ord != Ordering::Equal,
        other => return Err(fail(format!("Invalid operator type ({other})"))),
    })
}
