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

use super::filters::{as_f64, fail, plugin_failed, py_regex, to_bool, Args};
use super::pyrepr;

type TestFn = fn(&mut State, Args) -> Result<bool, Error>;

fn reg(env: &mut Environment<'static>, names: &[&'static str], f: TestFn) {
    for name in names {
        let plugin = format!("ansible.builtin.{name}");
        for full in [name.to_string(), plugin.clone()] {
            let plugin = plugin.clone();
            env.add_test(full, move |state: &mut State, args: Rest<ValueOrKwargs>| {
                f(
                    state,
                    Args::split(args.0.into_iter().map(Value::from).collect()),
                )
                .map_err(|e| plugin_failed("test", &plugin, e))
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

/// The items of `set(v)`, as `subset`/`superset` build it: a list or dict
/// item cannot be hashed (Ansible hands tests its lazy containers).
fn hashable_list(v: &Value) -> Result<Vec<Value>, Error> {
    let items = list_of(v);
    for i in &items {
        let class = match i.kind() {
            ValueKind::Seq | ValueKind::Iterable => "_AnsibleLazyTemplateList",
            ValueKind::Map => "_AnsibleLazyTemplateDict",
            _ => continue,
        };
        return Err(fail(format!("unhashable type: '{class}'")));
    }
    Ok(items)
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
    // Jinja's test_sequence: anything with len() and [] (strings included).
    reg(env, &["sequence"], |_, a| {
        Ok(matches!(
            a.defined()?.kind(),
            ValueKind::String | ValueKind::Seq | ValueKind::Map | ValueKind::Bytes
        ))
    });
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
        let x = hashable_list(a.defined()?)?;
        let y = hashable_list(a.get(0, "b").unwrap_or(&Value::UNDEFINED))?;
        Ok(x.iter().all(|i| y.contains(i)))
    });
    reg(env, &["superset", "issuperset"], |_, a| {
        let x = hashable_list(a.defined()?)?;
        let y = hashable_list(a.get(0, "b").unwrap_or(&Value::UNDEFINED))?;
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

/// Ansible's `version` test (plugins/test/core.py `version_compare`).
fn t_version(_: &mut State, a: Args) -> Result<bool, Error> {
    const OPS: [(&str, &str); 14] = [
        ("==", "eq"),
        ("=", "eq"),
        ("eq", "eq"),
        ("<", "lt"),
        ("lt", "lt"),
        ("<=", "le"),
        ("le", "le"),
        (">", "gt"),
        ("gt", "gt"),
        (">=", "ge"),
        ("ge", "ge"),
        ("!=", "ne"),
        ("<>", "ne"),
        ("ne", "ne"),
    ];
    const TYPES: [&str; 5] = ["loose", "strict", "semver", "semantic", "pep440"];
    let v = a.defined()?;
    let strict = a.get(2, "strict").filter(|x| !x.is_none());
    let vtype = a.opt_string(3, "version_type");
    if strict.is_some() && vtype.is_some() {
        return Err(fail("Cannot specify both 'strict' and 'version_type'"));
    }
    if !v.is_true() {
        return Err(fail("Input version value cannot be empty"));
    }
    let version = a
        .get(0, "version")
        .filter(|x| x.is_true())
        .ok_or_else(|| fail("Version parameter to compare against cannot be empty"))?;
    let vtype = match (strict.is_some_and(|s| s.is_true()), vtype) {
        (true, _) => "strict".to_string(),
        (false, Some(t)) if TYPES.contains(&t.as_str()) => t,
        (false, Some(t)) => {
            return Err(fail(format!(
                "Invalid version type ({t}). Must be one of {}",
                TYPES.map(|t| format!("'{t}'")).join(", ")
            )))
        }
        (false, None) => "loose".to_string(),
    };
    let op = a.string(1, "operator", "eq");
    let Some((_, op)) = OPS.iter().find(|(k, _)| *k == op) else {
        return Err(fail(format!(
            "Invalid operator type ({op}). Must be one of {}",
            OPS.map(|(k, _)| format!("'{k}'")).join(", ")
        )));
    };
    let left = pyrepr::py_str_string(v);
    let right = pyrepr::py_str_string(version);
    let ord = super::versions::compare(&vtype, &left, &right)
        .map_err(|e| fail(format!("Version comparison failed: {e}")))?;
    Ok(match *op {
        "lt" => ord == Ordering::Less,
        "le" => ord != Ordering::Greater,
        "gt" => ord == Ordering::Greater,
        "ge" => ord != Ordering::Less,
        "eq" => ord == Ordering::Equal,
        _ => ord != Ordering::Equal,
    })
}
