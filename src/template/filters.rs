//! Ansible's filters (and Jinja2 filters whose minijinja version differs).
//!
//! Every filter is registered under its short name and `ansible.builtin.NAME`
//! (plus `community.general.NAME` for the few that live there). minijinja's
//! own builtins are re-registered behind a guard so that an undefined input
//! raises "'x' is undefined" instead of silently rendering as empty (we run the
//! engine in chainable-undefined mode so `foo.bar | default(…)` works).

use std::sync::Arc;

use base64ct::Encoding;
use indexmap::IndexMap;
use minijinja::value::{Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Environment, Error, State};
use serde_json::{Map, Value as Json};

use super::pydatetime;
use super::pyformat;
use super::pyrandom::PyRandom;
use super::pyset::{self, SetOp};
use super::textfilters as tf;
use super::{json_to_value, pyrepr, undefined_error, value_to_json, Shared, TemplateError};

/// Arguments of one filter/test call, kwargs split out.
pub(crate) struct Args {
    pub value: Value,
    pub pos: Vec<Value>,
    pub kw: IndexMap<String, Value>,
}

impl Args {
    pub fn split(mut all: Vec<Value>) -> Args {
        let mut kw = IndexMap::new();
        if all.last().is_some_and(|v| v.is_kwargs()) {
            if let Some(k) = all.pop() {
                if let Ok(iter) = k.try_iter() {
                    for key in iter {
                        if let Some(name) = key.as_str() {
                            kw.insert(name.to_string(), k.get_item(&key).unwrap_or_default());
                        }
                    }
                }
            }
        }
        let value = if all.is_empty() {
            Value::UNDEFINED
        } else {
            all.remove(0)
        };
        Args {
            value,
            pos: all,
            kw,
        }
    }

    /// Positional argument `i` (after the filtered value) or keyword `name`.
    pub fn get(&self, i: usize, name: &str) -> Option<&Value> {
        self.kw
            .get(name)
            .or_else(|| self.pos.get(i))
            .filter(|v| !v.is_undefined())
    }

    pub fn string(&self, i: usize, name: &str, default: &str) -> String {
        self.get(i, name)
            .map(pyrepr::py_str_string)
            .unwrap_or_else(|| default.to_string())
    }

    pub fn opt_string(&self, i: usize, name: &str) -> Option<String> {
        self.get(i, name)
            .filter(|v| !v.is_none())
            .map(pyrepr::py_str_string)
    }

    pub fn boolean(&self, i: usize, name: &str, default: bool) -> bool {
        self.get(i, name).map(to_bool).unwrap_or(default)
    }

    pub fn int(&self, i: usize, name: &str) -> Option<i64> {
        self.get(i, name).and_then(as_int)
    }

    /// The input value, which must be defined.
    pub fn defined(&self) -> Result<&Value, Error> {
        if self.value.is_undefined() {
            Err(undefined_error(&self.value))
        } else {
            Ok(&self.value)
        }
    }

    pub fn json(&self) -> Result<Json, Error> {
        value_to_json(self.defined()?)
    }

    pub fn input_str(&self) -> Result<String, Error> {
        Ok(pyrepr::py_str_string(self.defined()?))
    }
}

pub(crate) fn fail(msg: impl Into<String>) -> Error {
    TemplateError::Render(msg.into()).into_mj()
}

/// Ansible's `bool` conversion.
pub(crate) fn to_bool(v: &Value) -> bool {
    match v.kind() {
        ValueKind::Bool => v.is_true(),
        ValueKind::None | ValueKind::Undefined => false,
        ValueKind::Number => as_f64(v).is_some_and(|f| f == 1.0),
        ValueKind::String => matches!(
            v.as_str()
                .unwrap_or_default()
                .trim()
                .to_lowercase()
                .as_str(),
            "yes" | "on" | "1" | "true" | "y" | "t" | "1.0"
        ),
        _ => false,
    }
}

pub(crate) fn as_int(v: &Value) -> Option<i64> {
    match v.kind() {
        ValueKind::Bool => Some(v.is_true() as i64),
        ValueKind::Number => {
            if v.is_integer() {
                v.as_i64()
            } else {
                as_f64(v).map(|f| f.trunc() as i64)
            }
        }
        ValueKind::String => {
            let s = v.as_str()?.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().map(|f| f.trunc() as i64))
        }
        _ => None,
    }
}

pub(crate) fn as_f64(v: &Value) -> Option<f64> {
    match v.kind() {
        ValueKind::Number => f64::try_from(v.clone()).ok(),
        ValueKind::Bool => Some(if v.is_true() { 1.0 } else { 0.0 }),
        ValueKind::String => v.as_str()?.trim().parse().ok(),
        _ => None,
    }
}

type FilterFn = fn(&mut State, Args) -> Result<Value, Error>;

fn reg(env: &mut Environment<'static>, names: &[&'static str], f: FilterFn) {
    for name in names {
        let collection = if COMMUNITY_GENERAL.contains(name) {
            "community.general"
        } else {
            "ansible.builtin"
        };
        let plugin: Arc<str> = format!("{collection}.{name}").into();
        for full in [
            name.to_string(),
            format!("ansible.builtin.{name}"),
            format!("community.general.{name}"),
        ] {
            let plugin = plugin.clone();
            env.add_filter(full, move |state: &mut State, args: Rest<ValueOrKwargs>| {
                f(
                    state,
                    Args::split(args.0.into_iter().map(Value::from).collect()),
                )
                .map_err(|e| plugin_failed("filter", &plugin, e))
            });
        }
    }
}

/// Filters ferry ships that live in community.general, not ansible.builtin.
const COMMUNITY_GENERAL: &[&str] = &["json_query"];

/// Ansible wraps any exception a filter or test raises as "The filter plugin
/// 'ansible.builtin.NAME' failed: CAUSE"; undefined inputs pass through.
pub(crate) fn plugin_failed(kind: &str, plugin: &str, e: Error) -> Error {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(inner) = cur {
        if let Some(te) = inner.downcast_ref::<TemplateError>() {
            return match te {
                TemplateError::Render(msg) => {
                    fail(format!("The {kind} plugin '{plugin}' failed: {msg}"))
                }
                _ => e,
            };
        }
        cur = inner.source();
    }
    e
}

/// Re-register a minijinja builtin filter so that an undefined input errors.
fn guard_builtin(env: &mut Environment<'static>, name: &'static str, func: Value) {
    for full in [name.to_string(), format!("ansible.builtin.{name}")] {
        let func = func.clone();
        env.add_filter(full, move |state: &mut State, args: Rest<ValueOrKwargs>| {
            let args: Vec<Value> = args.0.into_iter().map(Value::from).collect();
            if let Some(first) = args.first() {
                if first.is_undefined() {
                    return Err(undefined_error(first));
                }
            }
            func.call(state, &args)
        });
    }
}

pub(crate) fn register(env: &mut Environment<'static>, _shared: &Arc<Shared>) {
    use minijinja::filters as b;
    macro_rules! guard {
        ($($name:literal => $f:expr),* $(,)?) => {
            $( guard_builtin(env, $name, Value::from_function($f)); )*
        };
    }
    guard!(
        "abs" => b::abs, "attr" => b::attr, "batch" => b::batch,
        "capitalize" => b::capitalize, "escape" => b::escape,
        "e" => b::escape, "forceescape" => b::escape,
        "items" => b::items, "length" => b::length, "count" => b::length,
        "list" => b::list, "lower" => b::lower, "map" => b::map,
        "reject" => b::reject, "rejectattr" => b::rejectattr,
        "reverse" => b::reverse, "round" => b::round, "select" => b::select,
        "selectattr" => b::selectattr, "slice" => b::slice, "sort" => b::sort,
        "split" => b::split, "sum" => b::sum, "title" => b::title,
        "trim" => b::trim, "upper" => b::upper, "lines" => b::lines,
    );
    for name in ["default", "d"] {
        env.add_filter(format!("ansible.builtin.{name}"), b::default);
    }

    reg(env, &["string"], |_, a| Ok(Value::from(a.input_str()?)));
    reg(env, &["bool"], |_, a| {
        Ok(Value::from(to_bool(a.defined()?)))
    });
    reg(env, &["int"], f_int);
    reg(env, &["float"], f_float);
    reg(env, &["join"], f_join);
    // Jinja's answer for an empty input is an undefined with a reason.
    reg(env, &["first"], |s, a| {
        let v = minijinja::filters::first(a.defined()?)?;
        Ok(or_hint(s, v, "No first item, sequence was empty."))
    });
    reg(env, &["last"], |s, a| {
        let v = minijinja::filters::last(a.defined()?.clone())?;
        Ok(or_hint(s, v, "No last item, sequence was empty."))
    });
    reg(env, &["min"], |s, a| f_minmax(s, a, false));
    reg(env, &["max"], |s, a| f_minmax(s, a, true));
    reg(env, &["format"], f_format);
    reg(env, &["mandatory"], f_mandatory);
    reg(env, &["combine"], f_combine);
    reg(env, &["dict2items"], f_dict2items);
    reg(env, &["items2dict"], f_items2dict);
    reg(env, &["from_json"], |_, a| {
        let s = a.input_str()?;
        let j: Json = serde_json::from_str(&s).map_err(|e| fail(format!("from_json: {e}")))?;
        Ok(json_to_value(&j))
    });
    reg(env, &["to_json"], |_, a| {
        let j = a.json()?;
        let indent = a.int(0, "indent").map(|i| i.max(0) as usize);
        let sort = a.boolean(99, "sort_keys", false);
        let ascii = a.boolean(99, "ensure_ascii", true);
        Ok(Value::from(py_json(&j, indent, sort, ascii)))
    });
    reg(env, &["to_nice_json"], |_, a| {
        let j = a.json()?;
        let indent = a.int(0, "indent").unwrap_or(4).max(0) as usize;
        let sort = a.boolean(99, "sort_keys", true);
        let ascii = a.boolean(99, "ensure_ascii", true);
        Ok(Value::from(py_json(&j, Some(indent), sort, ascii)))
    });
    reg(env, &["from_yaml"], |_, a| {
        let s = a.input_str()?;
        let node = crate::yaml::parse_str(&s, std::path::Path::new("<from_yaml>"))
            .map_err(|e| fail(format!("from_yaml: {e}")))?;
        Ok(json_to_value(
            &node.map(|n| n.to_json()).unwrap_or(Json::Null),
        ))
    });
    reg(env, &["from_yaml_all"], f_from_yaml_all);
    reg(env, &["to_yaml"], |_, a| {
        let j = a.json()?;
        let indent = a.int(99, "indent").unwrap_or(2).clamp(1, 9) as usize;
        let flow = match a.get(99, "default_flow_style") {
            Some(v) if v.is_none() => None,
            Some(v) => Some(to_bool(v)),
            None => None,
        };
        let sort = a.boolean(99, "sort_keys", true);
        let width = a.int(99, "width").map(|w| w.max(0) as usize);
        Ok(Value::from(super::yaml_emit::dump(
            &j, indent, width, flow, sort,
        )))
    });
    reg(env, &["to_nice_yaml"], |_, a| {
        let j = a.json()?;
        let indent = a.int(0, "indent").unwrap_or(4).clamp(1, 9) as usize;
        let sort = a.boolean(99, "sort_keys", true);
        let width = a.int(99, "width").map(|w| w.max(0) as usize);
        Ok(Value::from(super::yaml_emit::dump(
            &j,
            indent,
            width,
            Some(false),
            sort,
        )))
    });
    reg(env, &["json_query"], f_json_query);
    reg(env, &["regex_replace"], f_regex_replace);
    reg(env, &["regex_search"], f_regex_search);
    reg(env, &["regex_findall"], f_regex_findall);
    reg(env, &["regex_escape"], |_, a| {
        Ok(Value::from(py_re_escape(&a.input_str()?)))
    });
    reg(env, &["ternary"], |_, a| {
        let v = a.defined()?;
        if v.is_none() {
            if let Some(n) = a.get(2, "none_val") {
                return Ok(n.clone());
            }
        }
        let t = a.get(0, "true_val").cloned().unwrap_or(Value::from(()));
        let f = a.get(1, "false_val").cloned().unwrap_or(Value::from(()));
        Ok(if v.is_true() { t } else { f })
    });
    reg(env, &["quote"], |_, a| {
        Ok(Value::from(shell_quote(&a.input_str()?)))
    });
    reg(env, &["b64encode"], |_, a| {
        let s = a.input_str()?;
        let bytes = encode_text(&s, &a.string(0, "encoding", "utf-8"))?;
        Ok(Value::from(base64ct::Base64::encode_string(&bytes)))
    });
    reg(env, &["b64decode"], |_, a| {
        let s = a.input_str()?;
        let cleaned: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = base64ct::Base64::decode_vec(&cleaned)
            .or_else(|_| base64ct::Base64Unpadded::decode_vec(cleaned.trim_end_matches('=')))
            .map_err(|e| fail(format!("b64decode: {e}")))?;
        Ok(Value::from(decode_text(
            &bytes,
            &a.string(0, "encoding", "utf-8"),
        )?))
    });
    reg(env, &["basename"], |_, a| {
        let s = a.input_str()?;
        Ok(Value::from(s.rsplit('/').next().unwrap_or("").to_string()))
    });
    reg(env, &["dirname"], |_, a| {
        Ok(Value::from(py_dirname(&a.input_str()?)))
    });
    reg(env, &["expanduser"], |_, a| {
        Ok(Value::from(expanduser(&a.input_str()?)))
    });
    reg(env, &["realpath"], |_, a| {
        let s = expanduser(&a.input_str()?);
        Ok(Value::from(
            std::fs::canonicalize(&s)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| normpath(&s)),
        ))
    });
    reg(env, &["splitext"], |_, a| {
        let s = a.input_str()?;
        let base_start = s.rfind('/').map(|i| i + 1).unwrap_or(0);
        let base = &s[base_start..];
        let stripped = base.trim_start_matches('.');
        let lead = base.len() - stripped.len();
        let (root, ext) = match stripped.rfind('.') {
            Some(i) => {
                let at = base_start + lead + i;
                (s[..at].to_string(), s[at..].to_string())
            }
            None => (s.clone(), String::new()),
        };
        Ok(Value::from(vec![Value::from(root), Value::from(ext)]))
    });
    reg(env, &["path_join"], |_, a| {
        let v = a.defined()?;
        let parts: Vec<String> = match v.kind() {
            ValueKind::Seq | ValueKind::Iterable => v
                .try_iter()
                .map(|it| it.map(|x| pyrepr::py_str_string(&x)).collect())
                .unwrap_or_default(),
            _ => vec![pyrepr::py_str_string(v)],
        };
        let mut out = String::new();
        for p in parts {
            if p.starts_with('/') {
                out = p;
            } else if out.is_empty() || out.ends_with('/') {
                out.push_str(&p);
            } else {
                out.push('/');
                out.push_str(&p);
            }
        }
        Ok(Value::from(out))
    });
    reg(env, &["flatten"], |_, a| {
        let j = a.json()?;
        let levels = a.int(0, "levels");
        let skip_nulls = a.boolean(1, "skip_nulls", true);
        let list = match j {
            Json::Array(l) => l,
            other => vec![other],
        };
        Ok(json_to_value(&Json::Array(flatten(
            &list, levels, skip_nulls,
        ))))
    });
    reg(env, &["groupby"], |state, a| {
        // minijinja's groupby, re-wrapped so the groups print as tuples.
        let mut args = vec![a.value.clone()];
        args.extend(a.pos.iter().cloned());
        if !a.kw.is_empty() {
            args.push(Value::from(minijinja::value::Kwargs::from_iter(
                a.kw.iter().map(|(k, v)| (k.as_str(), v.clone())),
            )));
        }
        a.defined()?;
        let groups = Value::from_function(minijinja::filters::groupby).call(state, &args)?;
        let out: Vec<Value> = groups
            .try_iter()?
            .map(|g| {
                let grouper = g.get_item_by_index(0).unwrap_or_default();
                let list: Vec<Value> = g
                    .get_item_by_index(1)
                    .ok()
                    .and_then(|l| l.try_iter().ok().map(|i| i.collect()))
                    .unwrap_or_default();
                Value::from_object(pyrepr::GroupTuple {
                    grouper,
                    list: Value::from(list),
                })
            })
            .collect();
        Ok(Value::from(out))
    });
    reg(env, &["dictsort"], |state, a| {
        // Jinja's signature: dictsort(case_sensitive=False, by='key', reverse=False).
        a.defined()?;
        let mut kw: Vec<(&str, Value)> = Vec::new();
        for (i, name) in ["case_sensitive", "by", "reverse"].iter().enumerate() {
            if let Some(v) = a.get(i, name) {
                kw.push((name, v.clone()));
            }
        }
        let args = [
            a.value.clone(),
            Value::from(minijinja::value::Kwargs::from_iter(kw)),
        ];
        Value::from_function(minijinja::filters::dictsort).call(state, &args)
    });
    reg(env, &["normpath"], |_, a| {
        Ok(Value::from(normpath(&a.input_str()?)))
    });
    reg(env, &["relpath"], |_, a| {
        let path = a.input_str()?;
        let start = a.string(0, "start", ".");
        relpath(&path, &start).map(Value::from).map_err(fail)
    });
    reg(env, &["commonpath"], |_, a| {
        let v = a.defined()?;
        if !matches!(v.kind(), ValueKind::Seq | ValueKind::Iterable) {
            return Err(fail(format!(
                "|commonpath expects sequence, got <class '{}'> instead.",
                pyrepr::type_name(v)
            )));
        }
        let paths: Vec<String> = v
            .try_iter()
            .map(|i| i.map(|p| pyrepr::py_str_string(&p)).collect())
            .unwrap_or_default();
        commonpath(&paths).map(Value::from).map_err(fail)
    });
    reg(env, &["expandvars"], |_, a| {
        Ok(Value::from(expandvars(&a.input_str()?)))
    });
    reg(env, &["urldecode"], |_, a| {
        Ok(Value::from(unquote_plus(&a.input_str()?)))
    });
    reg(env, &["rekey_on_member"], f_rekey_on_member);
    reg(env, &["indent"], |_, a| {
        let s = a.input_str()?;
        let indention = match a.get(0, "width") {
            Some(w) if w.kind() == ValueKind::String => w.as_str().unwrap_or_default().to_string(),
            Some(w) => " ".repeat(as_int(w).unwrap_or(4).max(0) as usize),
            None => "    ".into(),
        };
        let first = a.boolean(1, "first", false);
        let blank = a.boolean(2, "blank", false);
        Ok(Value::from(tf::indent(&s, &indention, first, blank)))
    });
    reg(env, &["replace"], |_, a| {
        // str.replace(old, new, count); Jinja's count=None is -1 (all).
        let s = a.input_str()?;
        let old = a.string(0, "old", "");
        let new = a.string(1, "new", "");
        let count = a.int(2, "count").filter(|c| *c >= 0);
        Ok(Value::from(match count {
            Some(n) if old.is_empty() => {
                // Python inserts `new` before each character, n times.
                let mut out = String::new();
                let mut left = n;
                for c in s.chars() {
                    if left > 0 {
                        out.push_str(&new);
                        left -= 1;
                    }
                    out.push(c);
                }
                if left > 0 {
                    out.push_str(&new);
                }
                out
            }
            Some(n) => s.replacen(&old, &new, n as usize),
            None if old.is_empty() => {
                let mut out = new.clone();
                for c in s.chars() {
                    out.push(c);
                    out.push_str(&new);
                }
                out
            }
            None => s.replace(&old, &new),
        }))
    });
    // Jinja's global `dict(...)` is Python's: a mapping or pairs, plus kwargs.
    env.add_function("dict", |args: Rest<ValueOrKwargs>| {
        let a = Args::split(
            std::iter::once(Value::UNDEFINED)
                .chain(args.0.into_iter().map(Value::from))
                .collect(),
        );
        let mut m: IndexMap<Value, Value> = IndexMap::new();
        if a.pos.len() > 1 {
            return Err(fail(format!(
                "dict expected at most 1 argument, got {}",
                a.pos.len()
            )));
        }
        if let Some(src) = a.pos.first() {
            if src.kind() == ValueKind::Map {
                for k in src.try_iter()? {
                    let v = src.get_item(&k)?;
                    m.insert(k, v);
                }
            } else {
                for (i, pair) in src.try_iter()?.enumerate() {
                    let kv: Vec<Value> = pair.try_iter().map(|it| it.collect()).unwrap_or_default();
                    let [k, v] = <[Value; 2]>::try_from(kv).map_err(|kv| {
                        fail(format!(
                            "dictionary update sequence element #{i} has length {}; 2 is required",
                            kv.len()
                        ))
                    })?;
                    m.insert(k, v);
                }
            }
        }
        for (k, v) in a.kw {
            m.insert(Value::from(k), v);
        }
        Ok::<_, Error>(Value::from_object(m))
    });
    env.add_function("__ferry_mod", py_mod);
    env.add_function("__ferry_sub", py_sub);
    reg(env, &["to_datetime"], |_, a| {
        let v = a.defined()?;
        let fmt = a
            .get(0, "format")
            .cloned()
            .unwrap_or_else(|| Value::from("%Y-%m-%d %H:%M:%S"));
        let arg_str = |n: u8, x: &Value| {
            x.as_str().map(str::to_string).ok_or_else(|| {
                fail(format!(
                    "strptime() argument {n} must be str, not {}",
                    pyrepr::type_name(x)
                ))
            })
        };
        let (s, fmt) = (arg_str(1, v)?, arg_str(2, &fmt)?);
        pydatetime::strptime(&s, &fmt)
            .map(Value::from_object)
            .map_err(fail)
    });
    reg(env, &["unique"], f_unique);
    reg(env, &["truncate"], |_, a| {
        let s = len_str(a.defined()?)?;
        let length = a.int(0, "length").unwrap_or(255);
        let killwords = a.boolean(1, "killwords", false);
        let end = a.string(2, "end", "...");
        let leeway = a.int(3, "leeway").unwrap_or(5);
        tf::truncate(&s, length, killwords, &end, leeway)
            .map(Value::from)
            .map_err(fail)
    });
    reg(env, &["wordcount"], |_, a| {
        Ok(Value::from(tf::wordcount(&a.input_str()?)))
    });
    reg(env, &["center"], |_, a| {
        let width = a.int(0, "width").unwrap_or(80);
        Ok(Value::from(tf::center(&a.input_str()?, width)))
    });
    reg(env, &["wordwrap"], |_, a| {
        let s = a.input_str()?;
        let width = a.int(0, "width").unwrap_or(79);
        let break_long = a.boolean(1, "break_long_words", true);
        let wrapstring = a.opt_string(2, "wrapstring").unwrap_or_else(|| "\n".into());
        let hyphens = a.boolean(3, "break_on_hyphens", true);
        tf::wordwrap(&s, width, break_long, &wrapstring, hyphens)
            .map(Value::from)
            .map_err(fail)
    });
    reg(env, &["xmlattr"], f_xmlattr);
    reg(env, &["urlencode"], f_urlencode);
    reg(env, &["tojson"], |_, a| {
        // Jinja's htmlsafe_json_dumps with its sort_keys=True policy.
        let j = a.json()?;
        let indent = a.int(0, "indent").map(|i| i.max(0) as usize);
        Ok(Value::from(
            py_json(&j, indent, true, true)
                .replace('<', "\\u003c")
                .replace('>', "\\u003e")
                .replace('&', "\\u0026")
                .replace('\'', "\\u0027"),
        ))
    });
    reg(env, &["pprint"], |_, a| {
        // Ansible hands filters lazy containers, whose pformat is their repr.
        let mut out = String::new();
        pyrepr::py_repr(a.defined()?, &mut out);
        Ok(Value::from(out))
    });
    reg(env, &["union"], |_, a| set_op(a, SetOp::Union));
    reg(env, &["intersect"], |_, a| set_op(a, SetOp::Intersect));
    reg(env, &["difference"], |_, a| set_op(a, SetOp::Difference));
    reg(env, &["symmetric_difference"], |_, a| {
        set_op(a, SetOp::SymmetricDifference)
    });
    reg(env, &["zip"], |_, a| f_zip(a, false));
    reg(env, &["zip_longest"], |_, a| f_zip(a, true));
    reg(env, &["product"], f_product);
    reg(env, &["permutations"], f_permutations);
    reg(env, &["combinations"], f_combinations);
    reg(env, &["hash"], |_, a| {
        let s = a.input_str()?;
        let algo = a.string(0, "hashtype", "sha1");
        if super::crypt::is_shake(&algo) {
            return Err(fail(
                "hexdigest() missing required argument 'length' (pos 1)",
            ));
        }
        Ok(Value::from(
            super::crypt::hex_digest(&algo, s.as_bytes())
                .ok_or_else(|| fail(format!("unsupported hash type {algo}")))?,
        ))
    });
    reg(env, &["checksum", "sha1"], |_, a| {
        let s = a.input_str()?;
        Ok(Value::from(
            super::crypt::hex_digest("sha1", s.as_bytes()).unwrap_or_default(),
        ))
    });
    reg(env, &["md5"], |_, a| {
        let s = a.input_str()?;
        Ok(Value::from(
            super::crypt::hex_digest("md5", s.as_bytes()).unwrap_or_default(),
        ))
    });
    reg(env, &["password_hash"], |_, a| {
        let pw = a.input_str()?;
        let algo = a.string(0, "hashtype", "sha512");
        let salt = a.opt_string(1, "salt");
        let rounds = a.int(2, "rounds").map(|r| r.max(0) as u32);
        super::crypt::password_hash(&pw, &algo, salt.as_deref(), rounds)
            .map(Value::from)
            .map_err(fail)
    });
    reg(env, &["to_uuid"], |_, a| {
        let s = a.input_str()?;
        let ns = a.string(0, "namespace", super::crypt::ANSIBLE_UUID_NAMESPACE);
        super::crypt::uuid5(&ns, &s).map(Value::from).map_err(fail)
    });
    reg(env, &["urlsplit"], |_, a| {
        let s = a.input_str()?;
        let parts = urlsplit(&s);
        match a.opt_string(0, "query") {
            Some(q) if !q.is_empty() => parts
                .get(&q)
                .map(json_to_value)
                .ok_or_else(|| fail(format!("urlsplit: unknown URL component: {q}"))),
            _ => Ok(json_to_value(&Json::Object(parts))),
        }
    });
    reg(env, &["comment"], f_comment);
    reg(env, &["type_debug"], |_, a| {
        // 2.19 hands an undefined input over as its marker object.
        if a.value.is_undefined() {
            return Ok(Value::from("UndefinedMarker"));
        }
        Ok(Value::from(pyrepr::type_name(&a.value)))
    });
    reg(env, &["random"], f_random);
    reg(env, &["shuffle"], f_shuffle);
    reg(env, &["subelements"], f_subelements);
    reg(env, &["extract"], |_, a| {
        let key = a.defined()?.clone();
        let container = a.get(0, "container").cloned().unwrap_or_default();
        let mut v = container.get_item(&key).unwrap_or(Value::UNDEFINED);
        if let Some(more) = a.get(1, "morekeys") {
            let keys: Vec<Value> = if more.kind() == ValueKind::Seq {
                more.try_iter().map(|i| i.collect()).unwrap_or_default()
            } else {
                vec![more.clone()]
            };
            for k in keys {
                v = v.get_item(&k).unwrap_or(Value::UNDEFINED);
            }
        }
        Ok(v)
    });
    reg(env, &["log"], |_, a| {
        let x = as_f64(a.defined()?).ok_or_else(|| fail("log() can only be used on numbers"))?;
        Ok(Value::from(match a.get(0, "base").and_then(as_f64) {
            Some(b) => x.ln() / b.ln(),
            None => x.ln(),
        }))
    });
    reg(env, &["pow"], |_, a| {
        let x = as_f64(a.defined()?).ok_or_else(|| fail("pow() can only be used on numbers"))?;
        let y = a.get(0, "y").and_then(as_f64).unwrap_or(1.0);
        Ok(Value::from(x.powf(y)))
    });
    reg(env, &["root"], |_, a| {
        let x = as_f64(a.defined()?).ok_or_else(|| fail("root() can only be used on numbers"))?;
        let b = a.get(0, "base").and_then(as_f64).unwrap_or(2.0);
        Ok(Value::from(if b == 2.0 {
            x.sqrt()
        } else {
            x.powf(1.0 / b)
        }))
    });
    reg(env, &["human_to_bytes"], |_, a| {
        let s = a.input_str()?;
        let unit = a.opt_string(0, "default_unit");
        human_to_bytes(&s, unit.as_deref(), a.boolean(1, "isbits", false))
            .map(Value::from)
            .map_err(|e| fail(format!("human_to_bytes() can't interpret the input: {e}")))
    });
    reg(env, &["human_readable"], |_, a| {
        let x = as_f64(a.defined()?)
            .ok_or_else(|| fail("human_readable() can only be used on numbers"))?;
        let isbits = a.boolean(0, "isbits", false);
        let unit = a.opt_string(1, "unit");
        Ok(Value::from(human_readable(x, isbits, unit.as_deref())))
    });
    reg(env, &["dict"], |_, a| {
        // `list_of_pairs | dict` (Jinja has no such filter, Ansible users write it).
        let j = a.json()?;
        let mut m = Map::new();
        if let Json::Array(items) = j {
            for it in items {
                if let Json::Array(kv) = it {
                    if kv.len() == 2 {
                        m.insert(pyrepr::json_str(&kv[0]), kv[1].clone());
                    }
                }
            }
        }
        Ok(json_to_value(&Json::Object(m)))
    });
    reg(env, &["strftime"], |_, a| {
        // Only the time-less formats are deterministic; do the common ones.
        let fmt = a.input_str()?;
        let secs = match a.get(0, "second").filter(|v| !v.is_none()) {
            Some(v) => Some(as_f64(v).ok_or_else(|| {
                fail(format!(
                    "Invalid value for epoch value ({})",
                    pyrepr::py_str_string(v)
                ))
            })?),
            None => None,
        };
        Ok(Value::from(strftime(&fmt, secs)))
    });
}

fn f_int(_: &mut State, a: Args) -> Result<Value, Error> {
    let v = a.defined()?;
    let default = a.get(0, "default").cloned().unwrap_or(Value::from(0));
    let base = a.int(1, "base").unwrap_or(10);
    if v.kind() == ValueKind::String {
        let s = v.as_str().unwrap_or_default().trim().replace('_', "");
        let (neg, digits) = match s.strip_prefix('-') {
            Some(d) => (true, d.to_string()),
            None => (false, s.trim_start_matches('+').to_string()),
        };
        // int(s, 0) reads the base from the prefix.
        let (base, digits) = if base == 0 {
            let low = digits.to_ascii_lowercase();
            if low.starts_with("0x") {
                (16, digits)
            } else if low.starts_with("0o") {
                (8, digits)
            } else if low.starts_with("0b") {
                (2, digits)
            } else {
                (10, digits)
            }
        } else {
            (base, digits)
        };
        let digits = match base {
            16 => digits
                .trim_start_matches("0x")
                .trim_start_matches("0X")
                .to_string(),
            8 => digits
                .trim_start_matches("0o")
                .trim_start_matches("0O")
                .to_string(),
            2 => digits
                .trim_start_matches("0b")
                .trim_start_matches("0B")
                .to_string(),
            _ => digits,
        };
        if let Ok(n) = i64::from_str_radix(&digits, base.clamp(2, 36) as u32) {
            return Ok(Value::from(if neg { -n } else { n }));
        }
        // Jinja's quirk: int(float(value)) before giving up.
        if let Ok(f) = s.parse::<f64>() {
            if f.is_finite() {
                return Ok(Value::from(f.trunc() as i64));
            }
        }
        return Ok(default);
    }
    Ok(as_int(v).map(Value::from).unwrap_or(default))
}

fn f_float(_: &mut State, a: Args) -> Result<Value, Error> {
    let v = a.defined()?;
    let default = a.get(0, "default").cloned().unwrap_or(Value::from(0.0));
    Ok(as_f64(v).map(Value::from).unwrap_or(default))
}

fn f_join(_: &mut State, a: Args) -> Result<Value, Error> {
    let v = a.defined()?;
    let sep = a.string(0, "d", "");
    let attr = a.opt_string(1, "attribute");
    let mut out = String::new();
    if let Ok(iter) = v.try_iter() {
        for (i, item) in iter.enumerate() {
            if i > 0 {
                out.push_str(&sep);
            }
            let item = match &attr {
                Some(at) => item.get_attr(at).unwrap_or_default(),
                None => item,
            };
            pyrepr::py_str(&item, &mut out);
        }
    }
    Ok(Value::from(out))
}

fn f_minmax(state: &mut State, a: Args, want_max: bool) -> Result<Value, Error> {
    let v = a.defined()?;
    let attr = a.opt_string(99, "attribute");
    let case_sensitive = a.boolean(99, "case_sensitive", false);
    let items: Vec<Value> = v.try_iter().map(|i| i.collect()).unwrap_or_default();
    let key = |x: &Value| -> Value {
        let x = match &attr {
            Some(at) => x.get_attr(at).unwrap_or_default(),
            None => x.clone(),
        };
        match (case_sensitive, x.as_str()) {
            (false, Some(s)) => Value::from(s.to_lowercase()),
            _ => x,
        }
    };
    let mut best: Option<(Value, Value)> = None;
    for it in items {
        let k = key(&it);
        let better = match &best {
            None => true,
            Some((bk, _)) => {
                if want_max {
                    k > *bk
                } else {
                    k < *bk
                }
            }
        };
        if better {
            best = Some((k, it));
        }
    }
    Ok(match best {
        Some((_, v)) => v,
        None => super::hinted_undefined(state, "No aggregated item, sequence was empty."),
    })
}

/// `v`, or when it is undefined, an undefined that reports `hint` if used.
fn or_hint(state: &State, v: Value, hint: &str) -> Value {
    if v.is_undefined() {
        super::hinted_undefined(state, hint)
    } else {
        v
    }
}

/// `a - b` in templates that use `to_datetime` (the only ones where `-` is
/// rewritten into a call to this): datetime arithmetic, else minijinja's.
fn py_sub(a: Value, b: Value) -> Result<Value, Error> {
    for v in [&a, &b] {
        if v.is_undefined() {
            return Err(undefined_error(v));
        }
    }
    match pydatetime::sub(&a, &b) {
        Some(res) => res.map_err(|msg| {
            TemplateError::Render(format!("Error rendering template: {msg}")).into_mj()
        }),
        None => pydatetime::plain_sub(a, b),
    }
}

/// Python's `a % b` (templates' `%` is rewritten into a call to this):
/// string formatting for a str, floor modulo for numbers.
fn py_mod(a: Value, b: Value) -> Result<Value, Error> {
    for v in [&a, &b] {
        if v.is_undefined() {
            return Err(undefined_error(v));
        }
    }
    let rendering =
        |msg: String| TemplateError::Render(format!("Error rendering template: {msg}")).into_mj();
    if let Some(fmt) = a.as_str() {
        let res = if b.is_tuple() {
            let items: Vec<Value> = b.try_iter()?.collect();
            pyformat::percent_format(fmt, pyformat::FmtArgs::Tuple(&items))
        } else if b.kind() == ValueKind::Map {
            pyformat::percent_format(fmt, pyformat::FmtArgs::Map(&b))
        } else {
            pyformat::percent_format(fmt, pyformat::FmtArgs::Tuple(std::slice::from_ref(&b)))
        };
        return res.map(Value::from).map_err(rendering);
    }
    let numeric = |v: &Value| matches!(v.kind(), ValueKind::Number | ValueKind::Bool);
    if !numeric(&a) || !numeric(&b) {
        return Err(rendering(format!(
            "unsupported operand type(s) for %: '{}' and '{}'",
            pyrepr::type_name(&a),
            pyrepr::type_name(&b)
        )));
    }
    let int = |v: &Value| {
        (v.is_integer() || v.kind() == ValueKind::Bool)
            .then(|| as_int(v))
            .flatten()
    };
    if let (Some(x), Some(y)) = (int(&a), int(&b)) {
        if y == 0 {
            return Err(rendering("integer modulo by zero".into()));
        }
        // Floor modulo: the result takes the divisor's sign.
        let r = x.checked_rem_euclid(y).unwrap_or(0);
        return Ok(Value::from(if y < 0 && r != 0 { r + y } else { r }));
    }
    let (x, y) = (as_f64(&a).unwrap_or(0.0), as_f64(&b).unwrap_or(0.0));
    if y == 0.0 {
        return Err(rendering("float modulo".into()));
    }
    let mut m = x % y;
    if m != 0.0 && ((y < 0.0) != (m < 0.0)) {
        m += y;
    }
    Ok(Value::from(m))
}

/// Jinja's `format`: `soft_str(value) % (kwargs or args)`.
fn f_format(_: &mut State, a: Args) -> Result<Value, Error> {
    let fmt = a.input_str()?;
    if !a.pos.is_empty() && !a.kw.is_empty() {
        return Err(fail(
            "can't handle positional and keyword arguments at the same time",
        ));
    }
    let res = if a.kw.is_empty() {
        pyformat::percent_format(&fmt, pyformat::FmtArgs::Tuple(&a.pos))
    } else {
        let map = Value::from(
            a.kw.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<std::collections::BTreeMap<String, Value>>(),
        );
        pyformat::percent_format(&fmt, pyformat::FmtArgs::Map(&map))
    };
    res.map(Value::from).map_err(fail)
}

fn f_mandatory(state: &mut State, a: Args) -> Result<Value, Error> {
    if a.value.is_undefined() {
        let missing = state
            .lookup(super::CTX_VAR)
            .and_then(|c| c.downcast_object::<super::LazyVars>())
            .and_then(|l| l.last_missing_var());
        let msg = match a.opt_string(0, "msg") {
            Some(m) => m,
            None => match &missing {
                Some(name) => format!("Mandatory variable '{name}' not defined."),
                // An undefined that names no variable (`[] | first`).
                None => "Mandatory variable not defined.".to_string(),
            },
        };
        // Still an undefined error, worded as Ansible's plugin failure.
        let msg = format!("The filter plugin 'ansible.builtin.mandatory' failed: {msg}");
        let name = missing.unwrap_or_default();
        return Err(TemplateError::Undefined { name, message: msg }.into_mj());
    }
    Ok(a.value)
}

fn f_combine(_: &mut State, a: Args) -> Result<Value, Error> {
    let recursive = a.boolean(99, "recursive", false);
    let list_merge = a.string(99, "list_merge", "replace");
    if ![
        "replace",
        "keep",
        "append",
        "prepend",
        "append_rp",
        "prepend_rp",
    ]
    .contains(&list_merge.as_str())
    {
        return Err(fail(format!(
            "combine: 'list_merge' accepts only 'replace', 'keep', 'append', 'prepend', 'append_rp' or 'prepend_rp', got {list_merge}"
        )));
    }
    let mut dicts = Vec::new();
    let mut push = |j: Json| -> Result<(), Error> {
        match j {
            Json::Object(m) => dicts.push(m),
            Json::Array(items) => {
                for it in items {
                    match it {
                        Json::Object(m) => dicts.push(m),
                        other => {
                            return Err(fail(format!(
                                "combine: failed to combine: {} is not a dictionary",
                                pyrepr::json_type_name(&other)
                            )))
                        }
                    }
                }
            }
            other => {
                return Err(fail(format!(
                    "combine: failed to combine: {} is not a dictionary",
                    pyrepr::json_type_name(&other)
                )))
            }
        }
        Ok(())
    };
    push(a.json()?)?;
    for p in &a.pos {
        push(value_to_json(p)?)?;
    }
    let mut acc = Map::new();
    for d in dicts {
        acc = merge_hash(acc, d, recursive, &list_merge);
    }
    Ok(json_to_value(&Json::Object(acc)))
}

/// Ansible's `merge_hash`.
pub(crate) fn merge_hash(
    mut x: Map<String, Json>,
    y: Map<String, Json>,
    recursive: bool,
    list_merge: &str,
) -> Map<String, Json> {
    if x.is_empty() {
        return y;
    }
    for (k, yv) in y {
        let Some(xv) = x.get_mut(&k) else {
            x.insert(k, yv);
            continue;
        };
        match (xv, yv) {
            (Json::Object(xm), Json::Object(ym)) if recursive => {
                let taken = std::mem::take(xm);
                *xm = merge_hash(taken, ym, recursive, list_merge);
            }
            (Json::Array(xl), Json::Array(yl)) => match list_merge {
                "keep" => {}
                "append" => xl.extend(yl),
                "prepend" => {
                    let old = std::mem::take(xl);
                    *xl = yl;
                    xl.extend(old);
                }
                "append_rp" => {
                    xl.retain(|z| !yl.contains(z));
                    xl.extend(yl);
                }
                "prepend_rp" => {
                    let old: Vec<Json> = std::mem::take(xl)
                        .into_iter()
                        .filter(|z| !yl.contains(z))
                        .collect();
                    *xl = yl;
                    xl.extend(old);
                }
                _ => *xl = yl,
            },
            (xv, yv) => *xv = yv,
        }
    }
    x
}

fn f_dict2items(_: &mut State, a: Args) -> Result<Value, Error> {
    let key_name = a.string(0, "key_name", "key");
    let value_name = a.string(1, "value_name", "value");
    match a.json()? {
        Json::Object(m) => Ok(json_to_value(&Json::Array(
            m.into_iter()
                .map(|(k, v)| {
                    let mut o = Map::new();
                    o.insert(key_name.clone(), Json::String(k));
                    o.insert(value_name.clone(), v);
                    Json::Object(o)
                })
                .collect(),
        ))),
        other => Err(fail(format!(
            "dict2items requires a dictionary, got <class '{}'> instead.",
            pyrepr::json_type_name(&other)
        ))),
    }
}

/// `dict((item[key_name], item[value_name]) for item in mylist)`; key names
/// may be list indexes (`zip(...) | items2dict(key_name=0, value_name=1)`).
fn f_items2dict(_: &mut State, a: Args) -> Result<Value, Error> {
    let key_name = a.get(0, "key_name").cloned().unwrap_or(Value::from("key"));
    let value_name = a
        .get(1, "value_name")
        .cloned()
        .unwrap_or(Value::from("value"));
    let v = a.defined()?;
    if !matches!(v.kind(), ValueKind::Seq | ValueKind::Iterable) {
        return Err(fail(format!(
            "items2dict requires a list, got <class '{}'> instead.",
            pyrepr::type_name(v)
        )));
    }
    let whole = || {
        let mut r = String::new();
        pyrepr::py_repr(v, &mut r);
        r
    };
    let mut m: IndexMap<Value, Value> = IndexMap::new();
    for it in v.try_iter().map_err(|e| fail(e.to_string()))? {
        let lookup = |name: &Value| -> Result<Value, Error> {
            match (it.kind(), name.kind()) {
                (ValueKind::Map, _) => it
                    .get_item(name)
                    .ok()
                    .filter(|x| !x.is_undefined())
                    .ok_or_else(|| {
                        fail(format!(
                            "items2dict requires each dictionary in the list to contain the keys '{}' and '{}', got {} instead.",
                            pyrepr::py_str_string(&key_name),
                            pyrepr::py_str_string(&value_name),
                            whole()
                        ))
                    }),
                (ValueKind::Seq | ValueKind::String, ValueKind::Number) => it
                    .get_item(name)
                    .ok()
                    .filter(|x| !x.is_undefined())
                    .ok_or_else(|| fail("list index out of range")),
                _ => Err(fail(format!(
                    "items2dict requires a list of dictionaries, got {} instead.",
                    whole()
                ))),
            }
        };
        let k = lookup(&key_name)?;
        let val = lookup(&value_name)?;
        m.insert(k, val);
    }
    Ok(Value::from_object(m))
}

fn f_from_yaml_all(_: &mut State, a: Args) -> Result<Value, Error> {
    let s = a.input_str()?;
    let mut docs = Vec::new();
    // Split on document markers at line starts; each part parsed alone.
    let mut cur = String::new();
    let flush = |cur: &mut String, docs: &mut Vec<Json>| -> Result<(), Error> {
        if !cur.trim().is_empty() {
            let node = crate::yaml::parse_str(cur, std::path::Path::new("<from_yaml_all>"))
                .map_err(|e| fail(format!("from_yaml_all: {e}")))?;
            docs.push(node.map(|n| n.to_json()).unwrap_or(Json::Null));
        }
        cur.clear();
        Ok(())
    };
    for line in s.lines() {
        if line == "---" || line.starts_with("--- ") {
            flush(&mut cur, &mut docs)?;
            cur.push_str(line.trim_start_matches("---"));
            cur.push('\n');
        } else if line == "..." {
            flush(&mut cur, &mut docs)?;
        } else {
            cur.push_str(line);
            cur.push('\n');
        }
    }
    flush(&mut cur, &mut docs)?;
    Ok(json_to_value(&Json::Array(docs)))
}

fn f_json_query(_: &mut State, a: Args) -> Result<Value, Error> {
    let data = a.json()?;
    let expr = a.string(0, "expr", "");
    let compiled = jmespath::compile(&expr)
        .map_err(|e| fail(format!("JMESPathError in json_query filter plugin:\n{e}")))?;
    let res = compiled
        .search(data)
        .map_err(|e| fail(format!("JMESPathError in json_query filter plugin:\n{e}")))?;
    let j = serde_json::to_value(&*res).map_err(|e| fail(e.to_string()))?;
    Ok(json_to_value(&j))
}

/// Compile a Python-syntax regex with Ansible's flags.
pub(crate) fn py_regex(
    pat: &str,
    ignorecase: bool,
    multiline: bool,
) -> Result<regex::Regex, Error> {
    // Python-only syntax: (?P=name) backrefs are unsupported; \Z → \z.
    let pat = pat.replace("\\Z", "\\z");
    regex::RegexBuilder::new(&pat)
        .case_insensitive(ignorecase)
        .multi_line(multiline)
        .build()
        .map_err(|e| fail(format!("invalid regular expression {pat:?}: {e}")))
}

/// Translate a Python replacement string (`\1`, `\g<name>`, `\n`) to Rust's.
pub(crate) fn py_replacement(rep: &str) -> String {
    let mut out = String::new();
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    let mut num = String::new();
                    while let Some(d) = chars.peek().copied().filter(|d| d.is_ascii_digit()) {
                        if num.len() == 2 {
                            break;
                        }
                        num.push(d);
                        chars.next();
                    }
                    out.push_str(&format!("${{{num}}}"));
                }
                Some('g') => {
                    chars.next();
                    if chars.peek() == Some(&'<') {
                        chars.next();
                        let name: String = chars.by_ref().take_while(|c| *c != '>').collect();
                        out.push_str(&format!("${{{name}}}"));
                    } else {
                        out.push_str("\\g");
                    }
                }
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some('t') => {
                    chars.next();
                    out.push('\t');
                }
                Some('r') => {
                    chars.next();
                    out.push('\r');
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

fn f_regex_replace(_: &mut State, a: Args) -> Result<Value, Error> {
    let s = a.input_str()?;
    let pat = a.string(0, "pattern", "");
    let rep = a.string(1, "replacement", "");
    let re = py_regex(
        &pat,
        a.boolean(2, "ignorecase", false),
        a.boolean(3, "multiline", false),
    )?;
    let count = a.int(4, "count").unwrap_or(0).max(0) as usize;
    let mandatory = a.int(5, "mandatory_count").unwrap_or(0).max(0) as usize;
    if mandatory > 0 {
        let n = re.find_iter(&s).count();
        if n != mandatory {
            return Err(fail(format!(
                "'{pat}' should match {mandatory} times, but matches {n} times in '{s}'"
            )));
        }
    }
    let rep = py_replacement(&rep);
    Ok(Value::from(
        re.replacen(&s, count, rep.as_str()).into_owned(),
    ))
}

fn f_regex_search(_: &mut State, a: Args) -> Result<Value, Error> {
    let s = a.input_str()?;
    let pat = a.string(0, "regex", "");
    let re = py_regex(
        &pat,
        a.boolean(99, "ignorecase", false),
        a.boolean(99, "multiline", false),
    )?;
    let groups: Vec<String> = a.pos.iter().skip(1).map(pyrepr::py_str_string).collect();
    let Some(caps) = re.captures(&s) else {
        return Ok(Value::from(()));
    };
    if groups.is_empty() {
        return Ok(Value::from(caps.get(0).map(|m| m.as_str()).unwrap_or("")));
    }
    let mut out = Vec::new();
    for g in groups {
        // `\\g<name>` must be tried before `\\N`, as ansible-core does.
        let m = if let Some(rest) = g.strip_prefix("\\g") {
            let name = rest
                .strip_prefix('<')
                .and_then(|x| x.split_once('>'))
                .map(|(n, _)| n)
                .ok_or_else(|| fail("'NoneType' object has no attribute 'group'"))?;
            caps.name(name)
        } else if let Some(num) = g.strip_prefix('\\') {
            let digits: String = num.chars().take_while(|c| c.is_ascii_digit()).collect();
            let i = digits
                .parse::<usize>()
                .map_err(|_| fail("'NoneType' object has no attribute 'group'"))?;
            if i >= caps.len() {
                return Err(fail("no such group"));
            }
            caps.get(i)
        } else {
            return Err(fail("Unknown argument"));
        };
        out.push(
            m.map(|m| Value::from(m.as_str()))
                .unwrap_or(Value::from(())),
        );
    }
    Ok(Value::from(out))
}

fn f_regex_findall(_: &mut State, a: Args) -> Result<Value, Error> {
    let s = a.input_str()?;
    let pat = a.string(0, "regex", "");
    let re = py_regex(
        &pat,
        a.boolean(2, "ignorecase", false),
        a.boolean(1, "multiline", false),
    )?;
    let ngroups = re.captures_len() - 1;
    let mut out = Vec::new();
    for caps in re.captures_iter(&s) {
        let g = |i: usize| Value::from(caps.get(i).map(|m| m.as_str()).unwrap_or(""));
        out.push(match ngroups {
            0 => g(0),
            1 => g(1),
            n => Value::from((1..=n).map(g).collect::<Vec<_>>()),
        });
    }
    Ok(Value::from(out))
}

/// Python's `re.escape` (3.7+): escape everything but `[A-Za-z0-9_]`.
fn py_re_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii() {
            out.push(c);
        } else {
            match c {
                '\n' => out.push_str("\\\n"),
                c if "()[]{}?*+-|^$\\.&~# \t\r\x0b\x0c".contains(c) => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
    }
    out
}

/// Python's `shlex.quote`.
pub(crate) fn shell_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

fn py_dirname(s: &str) -> String {
    match s.rfind('/') {
        None => String::new(),
        Some(i) => {
            let head = &s[..=i];
            let trimmed = head.trim_end_matches('/');
            if trimmed.is_empty() {
                head.to_string()
            } else {
                trimmed.to_string()
            }
        }
    }
}

pub(crate) fn expanduser(s: &str) -> String {
    if s == "~" || s.starts_with("~/") {
        if let Ok(home) = std::env::var("HOME") {
            return format!("{home}{}", &s[1..]);
        }
    }
    s.to_string()
}

fn normpath(s: &str) -> String {
    if s.is_empty() {
        return ".".into();
    }
    // POSIX keeps exactly two leading slashes.
    let lead = if s.starts_with("//") && !s.starts_with("///") {
        "//"
    } else if s.starts_with('/') {
        "/"
    } else {
        ""
    };
    let abs = !lead.is_empty();
    let mut parts: Vec<&str> = Vec::new();
    for p in s.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !abs {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let body = parts.join("/");
    if abs {
        format!("{lead}{body}")
    } else if body.is_empty() {
        ".".into()
    } else {
        body
    }
}

fn abspath(p: &str) -> String {
    if p.starts_with('/') {
        return normpath(p);
    }
    let cwd = std::env::current_dir()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "/".into());
    normpath(&format!("{cwd}/{p}"))
}

/// `os.path.relpath`.
fn relpath(path: &str, start: &str) -> Result<String, String> {
    if path.is_empty() {
        return Err("no path specified".into());
    }
    let p = abspath(path);
    let s = abspath(start);
    let pl: Vec<&str> = p.split('/').filter(|x| !x.is_empty()).collect();
    let sl: Vec<&str> = s.split('/').filter(|x| !x.is_empty()).collect();
    let common = pl.iter().zip(&sl).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; sl.len() - common];
    parts.extend(&pl[common..]);
    Ok(if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    })
}

/// `os.path.commonpath`.
fn commonpath(paths: &[String]) -> Result<String, String> {
    if paths.is_empty() {
        return Err("commonpath() arg is an empty sequence".into());
    }
    let abs = paths[0].starts_with('/');
    if paths.iter().any(|p| p.starts_with('/') != abs) {
        return Err("Can't mix absolute and relative paths".into());
    }
    let split: Vec<Vec<&str>> = paths
        .iter()
        .map(|p| {
            p.split('/')
                .filter(|x| !x.is_empty() && *x != ".")
                .collect()
        })
        .collect();
    let (min, max) = (split.iter().min(), split.iter().max());
    let common: Vec<&str> = match (min, max) {
        (Some(a), Some(b)) => a
            .iter()
            .zip(b)
            .take_while(|(x, y)| x == y)
            .map(|(x, _)| *x)
            .collect(),
        _ => Vec::new(),
    };
    let body = common.join("/");
    Ok(if abs { format!("/{body}") } else { body })
}

/// `os.path.expandvars`: `$NAME` and `${NAME}`; unknown names stay.
fn expandvars(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, consumed) = if let Some(br) = after.strip_prefix('{') {
            match br.find('}') {
                Some(e) => (&br[..e], e + 2),
                None => ("", 0),
            }
        } else {
            let n = after
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..n], n)
        };
        match std::env::var(name).ok().filter(|_| !name.is_empty()) {
            Some(v) => {
                out.push_str(&v);
                rest = &after[consumed..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `urllib.parse.unquote_plus`.
fn unquote_plus(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(v) = hex {
                    out.push(v);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// mathstuff.rekey_on_member.
fn f_rekey_on_member(_: &mut State, a: Args) -> Result<Value, Error> {
    let data = a.json()?;
    let key = a.string(0, "key", "");
    let duplicates = a.string(1, "duplicates", "error");
    if duplicates != "error" && duplicates != "overwrite" {
        return Err(fail(format!(
            "duplicates parameter to rekey_on_member has unknown value {}",
            pyrepr::json_repr(&Json::String(duplicates))
        )));
    }
    let items: Vec<Json> = match data {
        Json::Object(m) => m.into_iter().map(|(_, v)| v).collect(),
        Json::Array(l) => l,
        _ => return Err(fail("Type is not a valid list, set, or dict")),
    };
    let mut out = Map::new();
    for item in items {
        let Json::Object(m) = &item else {
            return Err(fail("List item is not a valid dict"));
        };
        let Some(k) = m.get(&key) else {
            return Err(fail(format!(
                "Key {} was not found.",
                pyrepr::json_repr(&Json::String(key))
            )));
        };
        let ks = pyrepr::json_str(k);
        if out.contains_key(&ks) && duplicates == "error" {
            return Err(fail(format!(
                "Key {} is not unique, cannot convert to dict.",
                pyrepr::json_repr(k)
            )));
        }
        out.insert(ks, item.clone());
    }
    Ok(json_to_value(&Json::Object(out)))
}

pub(crate) fn flatten(list: &[Json], levels: Option<i64>, skip_nulls: bool) -> Vec<Json> {
    let mut ret = Vec::new();
    for el in list {
        match el {
            Json::Null if skip_nulls => {}
            Json::String(s) if skip_nulls && (s == "None" || s == "null") => {}
            Json::Array(inner) => match levels {
                None => ret.extend(flatten(inner, None, skip_nulls)),
                Some(l) if l >= 1 => ret.extend(flatten(inner, Some(l - 1), skip_nulls)),
                _ => ret.push(el.clone()),
            },
            other => ret.push(other.clone()),
        }
    }
    ret
}

/// Order-preserving de-duplication with Python's `==` (1 == 1.0 == True).
fn unique_py(items: impl IntoIterator<Item = Json>) -> Vec<Json> {
    let mut out: Vec<Json> = Vec::new();
    for it in items {
        if !pyset::py_contains(&out, &it) {
            out.push(it);
        }
    }
    out
}

/// `attribute` lookup of Jinja's `make_attrgetter`: dotted keys, integer
/// parts index lists.
fn json_attr<'a>(j: &'a Json, path: &str) -> Option<&'a Json> {
    let mut cur = j;
    for part in path.split('.') {
        cur = match cur {
            Json::Object(m) => m.get(part)?,
            Json::Array(l) => l.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Ansible's `unique`: Jinja's `do_unique` (first-seen order, strings
/// compared case-insensitively unless `case_sensitive`), falling back to a
/// plain `x not in c` loop when an item is unhashable.
fn f_unique(_: &mut State, a: Args) -> Result<Value, Error> {
    let items = as_list(a.json()?);
    let cs = a.get(0, "case_sensitive").filter(|v| !v.is_none());
    let case_sensitive = cs.is_some_and(to_bool);
    let attribute = a.opt_string(1, "attribute");
    let key = |it: &Json| -> Option<Json> {
        let k = match &attribute {
            Some(path) => json_attr(it, path)?.clone(),
            None => it.clone(),
        };
        Some(match k {
            Json::String(s) if !case_sensitive => Json::String(s.to_lowercase()),
            other => other,
        })
    };
    let keys: Option<Vec<Json>> = items.iter().map(key).collect();
    match keys {
        Some(keys) if keys.iter().all(pyset::hashable) => {
            let mut seen: Vec<Json> = Vec::new();
            let mut out = Vec::new();
            for (it, k) in items.into_iter().zip(keys) {
                if !pyset::py_contains(&seen, &k) {
                    seen.push(k);
                    out.push(it);
                }
            }
            Ok(json_to_value(&Json::Array(out)))
        }
        Some(_) if attribute.is_none() && cs.is_none_or(to_bool) => {
            Ok(json_to_value(&Json::Array(unique_py(items))))
        }
        _ => Err(fail(
            "Jinja2's unique filter failed and we cannot fall back to Ansible's version as it does not support the parameters supplied.",
        )),
    }
}

/// The input of a filter that takes `len()` of a str (`truncate`): numbers
/// have no length in Python.
fn len_str(v: &Value) -> Result<String, Error> {
    match v.kind() {
        ValueKind::Number | ValueKind::Bool | ValueKind::None => Err(fail(format!(
            "object of type '{}' has no len()",
            pyrepr::type_name(v)
        ))),
        _ => Ok(pyrepr::py_str_string(v)),
    }
}

/// Jinja's `xmlattr`: `key="escaped value"` pairs, None values dropped.
fn f_xmlattr(_: &mut State, a: Args) -> Result<Value, Error> {
    let v = a.defined()?;
    if v.kind() != ValueKind::Map {
        return Err(fail(format!(
            "'{}' object has no attribute 'items'",
            pyrepr::type_name(v)
        )));
    }
    let autospace = a.boolean(0, "autospace", true);
    let mut items = Vec::new();
    for key in v.try_iter().map_err(|e| fail(e.to_string()))? {
        let val = v.get_item(&key).unwrap_or_default();
        if val.is_none() || val.is_undefined() {
            continue;
        }
        let k = pyrepr::py_str_string(&key);
        if k.chars()
            .any(|c| c.is_ascii_whitespace() || matches!(c, '/' | '>' | '=' | '\x0b'))
        {
            let mut r = String::new();
            pyrepr::quote_str(&k, &mut r);
            return Err(fail(format!("Invalid character in attribute name: {r}")));
        }
        items.push(format!(
            "{}=\"{}\"",
            tf::html_escape(&k),
            tf::html_escape(&pyrepr::py_str_string(&val))
        ));
    }
    let rv = items.join(" ");
    Ok(Value::from(if autospace && !rv.is_empty() {
        format!(" {rv}")
    } else {
        rv
    }))
}

/// Jinja's `urlencode`: a string is path-quoted; a dict or a list of pairs
/// becomes a query string (`+` for spaces, `/` quoted).
fn f_urlencode(_: &mut State, a: Args) -> Result<Value, Error> {
    let v = a.defined()?;
    let pairs: Vec<(Value, Value)> = match v.kind() {
        ValueKind::Map => v
            .try_iter()
            .map_err(|e| fail(e.to_string()))?
            .map(|k| {
                let val = v.get_item(&k).unwrap_or_default();
                (k, val)
            })
            .collect(),
        ValueKind::Seq | ValueKind::Iterable => {
            let mut out = Vec::new();
            for item in v.try_iter().map_err(|e| fail(e.to_string()))? {
                let kv: Vec<Value> = item.try_iter().map(|i| i.collect()).unwrap_or_default();
                match <[Value; 2]>::try_from(kv) {
                    Ok([k, val]) => out.push((k, val)),
                    Err(_) => return Err(fail("too many values to unpack (expected 2)")),
                }
            }
            out
        }
        _ => return Ok(Value::from(tf::url_quote(&pyrepr::py_str_string(v), false))),
    };
    Ok(Value::from(
        pairs
            .iter()
            .map(|(k, val)| {
                format!(
                    "{}={}",
                    tf::url_quote(&pyrepr::py_str_string(k), true),
                    tf::url_quote(&pyrepr::py_str_string(val), true)
                )
            })
            .collect::<Vec<_>>()
            .join("&"),
    ))
}

fn as_list(j: Json) -> Vec<Json> {
    match j {
        Json::Array(l) => l,
        Json::Object(m) => m.into_iter().map(|(k, _)| Json::String(k)).collect(),
        Json::String(s) => s.chars().map(|c| Json::String(c.to_string())).collect(),
        other => vec![other],
    }
}

/// `str.encode(encoding)` for the encodings playbooks pass to b64encode.
fn encode_text(s: &str, encoding: &str) -> Result<Vec<u8>, Error> {
    let enc = encoding.to_ascii_lowercase().replace('_', "-");
    let utf16 = |le: bool| -> Vec<u8> {
        s.encode_utf16()
            .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
            .collect()
    };
    Ok(match enc.as_str() {
        "utf-8" | "utf8" => s.as_bytes().to_vec(),
        "utf-16-le" | "utf-16le" => utf16(true),
        "utf-16-be" | "utf-16be" => utf16(false),
        "utf-16" | "utf16" => {
            let mut b = vec![0xff, 0xfe];
            b.extend(utf16(true));
            b
        }
        "latin-1" | "latin1" | "iso-8859-1" | "ascii" => {
            let max = if enc == "ascii" { 0x7f } else { 0xff };
            s.chars()
                .map(|c| u8::try_from(c as u32).ok().filter(|b| *b <= max))
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(|| fail(format!("'{encoding}' codec can't encode the input")))?
        }
        _ => return Err(fail(format!("unknown encoding: {encoding}"))),
    })
}

/// `bytes.decode(encoding)` counterpart of [`encode_text`].
fn decode_text(b: &[u8], encoding: &str) -> Result<String, Error> {
    let enc = encoding.to_ascii_lowercase().replace('_', "-");
    let utf16 = |b: &[u8], le: bool| -> String {
        let units: Vec<u16> = b
            .chunks(2)
            .map(|c| {
                let pair = [c[0], c.get(1).copied().unwrap_or(0)];
                if le {
                    u16::from_le_bytes(pair)
                } else {
                    u16::from_be_bytes(pair)
                }
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    Ok(match enc.as_str() {
        "utf-8" | "utf8" => String::from_utf8_lossy(b).into_owned(),
        "utf-16-le" | "utf-16le" => utf16(b, true),
        "utf-16-be" | "utf-16be" => utf16(b, false),
        "utf-16" | "utf16" => match b {
            [0xfe, 0xff, rest @ ..] => utf16(rest, false),
            [0xff, 0xfe, rest @ ..] => utf16(rest, true),
            _ => utf16(b, true),
        },
        "latin-1" | "latin1" | "iso-8859-1" | "ascii" => b.iter().map(|&x| x as char).collect(),
        _ => return Err(fail(format!("unknown encoding: {encoding}"))),
    })
}

/// Ansible's set filters: `list(set(a) OP set(b))`, falling back to
/// order-preserving list logic when an item is unhashable (a list or dict).
fn set_op(a: Args, op: SetOp) -> Result<Value, Error> {
    let x = as_list(a.json()?);
    let y = as_list(
        a.get(0, "b")
            .map(value_to_json)
            .transpose()?
            .unwrap_or(Json::Array(vec![])),
    );
    // Numbers: CPython's set order, replayed. Strings/None: Python's order
    // is per-process random, so first-seen order is as good as any.
    if let Some(res) = pyset::set_op(op, &x, &y) {
        return Ok(json_to_value(&Json::Array(res)));
    }
    let intersect =
        |x: &[Json], y: &[Json]| unique_py(x.iter().filter(|i| pyset::py_contains(y, i)).cloned());
    let res = match op {
        SetOp::Union => unique_py(x.into_iter().chain(y)),
        SetOp::Intersect => intersect(&x, &y),
        SetOp::Difference => unique_py(x.iter().filter(|i| !pyset::py_contains(&y, i)).cloned()),
        SetOp::SymmetricDifference => {
            let isect = intersect(&x, &y);
            unique_py(x.into_iter().chain(y))
                .into_iter()
                .filter(|i| !pyset::py_contains(&isect, i))
                .collect()
        }
    };
    Ok(json_to_value(&Json::Array(res)))
}

fn f_zip(a: Args, longest: bool) -> Result<Value, Error> {
    let mut lists = vec![as_list(a.json()?)];
    for p in &a.pos {
        lists.push(as_list(value_to_json(p)?));
    }
    let fill =
        a.kw.get("fillvalue")
            .map(value_to_json)
            .transpose()?
            .unwrap_or(Json::Null);
    let n = if longest {
        lists.iter().map(|l| l.len()).max().unwrap_or(0)
    } else {
        lists.iter().map(|l| l.len()).min().unwrap_or(0)
    };
    let out: Vec<Json> = (0..n)
        .map(|i| {
            Json::Array(
                lists
                    .iter()
                    .map(|l| l.get(i).cloned().unwrap_or_else(|| fill.clone()))
                    .collect(),
            )
        })
        .collect();
    Ok(json_to_value(&Json::Array(out)))
}

fn f_product(_: &mut State, a: Args) -> Result<Value, Error> {
    let mut lists = vec![as_list(a.json()?)];
    for p in &a.pos {
        lists.push(as_list(value_to_json(p)?));
    }
    let repeat = a.kw.get("repeat").and_then(as_int).unwrap_or(1).max(0) as usize;
    let pools: Vec<Vec<Json>> = (0..repeat).flat_map(|_| lists.clone()).collect();
    let mut result: Vec<Vec<Json>> = vec![vec![]];
    for pool in pools {
        let mut next = Vec::new();
        for r in &result {
            for item in &pool {
                let mut n = r.clone();
                n.push(item.clone());
                next.push(n);
            }
        }
        result = next;
    }
    Ok(json_to_value(&Json::Array(
        result.into_iter().map(Json::Array).collect(),
    )))
}

fn f_permutations(_: &mut State, a: Args) -> Result<Value, Error> {
    let items = as_list(a.json()?);
    let r = a
        .int(0, "r")
        .map(|r| r.max(0) as usize)
        .unwrap_or(items.len());
    let mut out = Vec::new();
    fn rec(
        items: &[Json],
        r: usize,
        used: &mut Vec<bool>,
        cur: &mut Vec<Json>,
        out: &mut Vec<Json>,
    ) {
        if cur.len() == r {
            out.push(Json::Array(cur.clone()));
            return;
        }
        for i in 0..items.len() {
            if !used[i] {
                used[i] = true;
                cur.push(items[i].clone());
                rec(items, r, used, cur, out);
                cur.pop();
                used[i] = false;
            }
        }
    }
    if r <= items.len() {
        rec(
            &items,
            r,
            &mut vec![false; items.len()],
            &mut Vec::new(),
            &mut out,
        );
    }
    Ok(json_to_value(&Json::Array(out)))
}

fn f_combinations(_: &mut State, a: Args) -> Result<Value, Error> {
    let items = as_list(a.json()?);
    let r = a.int(0, "r").unwrap_or(0).max(0) as usize;
    let mut out = Vec::new();
    fn rec(items: &[Json], start: usize, r: usize, cur: &mut Vec<Json>, out: &mut Vec<Json>) {
        if cur.len() == r {
            out.push(Json::Array(cur.clone()));
            return;
        }
        for i in start..items.len() {
            cur.push(items[i].clone());
            rec(items, i + 1, r, cur, out);
            cur.pop();
        }
    }
    rec(&items, 0, r, &mut Vec::new(), &mut out);
    Ok(json_to_value(&Json::Array(out)))
}

fn f_comment(_: &mut State, a: Args) -> Result<Value, Error> {
    let text = a.input_str()?;
    let style = a.string(0, "style", "plain");
    let (beginning, decoration, end) = match style.as_str() {
        "plain" => ("", "# ", ""),
        "erlang" => ("", "% ", ""),
        "c" => ("", "// ", ""),
        "cblock" => ("/*", " * ", " */"),
        "xml" => ("<!--", " - ", "-->"),
        other => return Err(fail(format!("comment: unknown style {other}"))),
    };
    let prepostfix = a.string(99, "decoration", decoration);
    let newline = a.string(99, "newline", "\n");
    let beginning = a.string(99, "beginning", beginning);
    let prefix = a.string(99, "prefix", prepostfix.trim_end());
    let prefix_count =
        a.kw.get("prefix_count")
            .and_then(as_int)
            .unwrap_or(1)
            .max(0) as usize;
    let decoration = a.string(99, "decoration", decoration);
    let postfix = a.string(99, "postfix", prepostfix.trim_end());
    let postfix_count =
        a.kw.get("postfix_count")
            .and_then(as_int)
            .unwrap_or(1)
            .max(0) as usize;
    let end = a.string(99, "end", end);

    let mut out = String::new();
    if !beginning.is_empty() {
        out.push_str(&beginning);
        out.push_str(&newline);
    }
    if !prefix.is_empty() {
        if prefix != newline {
            out.push_str(&format!("{prefix}{newline}").repeat(prefix_count));
        } else {
            out.push_str(&newline.repeat(prefix_count));
        }
    }
    let body = format!(
        "{decoration}{}",
        text.replace(&newline, &format!("{newline}{decoration}"))
    )
    .replace(
        &format!("{decoration}{newline}"),
        &format!("{}{newline}", decoration.trim_end()),
    );
    out.push_str(&body);
    for _ in 0..postfix_count {
        out.push_str(&newline);
        out.push_str(&postfix);
    }
    if !end.is_empty() {
        out.push_str(&newline);
        out.push_str(&end);
    }
    Ok(Value::from(out))
}

/// Python's `Random(seed)`; an absent seed draws from the OS, like
/// `SystemRandom`.
fn py_random(seed: Option<&Value>) -> Result<PyRandom, Error> {
    let Some(seed) = seed.filter(|s| !s.is_none()) else {
        let n = ((super::crypt::random_u64() as u128) << 64) | super::crypt::random_u64() as u128;
        return Ok(PyRandom::from_int_seed((n >> 1) as i128));
    };
    match seed.kind() {
        ValueKind::String => Ok(PyRandom::from_str_seed(seed.as_str().unwrap_or_default())),
        ValueKind::Bool => Ok(PyRandom::from_int_seed(seed.is_true() as i128)),
        ValueKind::Number if seed.is_integer() => Ok(PyRandom::from_int_seed(
            i128::try_from(seed.clone()).unwrap_or_default(),
        )),
        // A float seeds with its hash, as CPython's random_seed does.
        ValueKind::Number => value_to_json(seed)
            .ok()
            .as_ref()
            .and_then(pyset::stable_hash)
            .map(|h| PyRandom::from_int_seed(h as i128))
            .ok_or_else(|| fail("cannot seed from this float")),
        _ => Err(fail(
            "The only supported seed types are: None,\nint, float, str, bytes, and bytearray.",
        )),
    }
}

/// Ansible's `random`: `randrange(start, end, step)` on an int, `choice` on a
/// sequence.
fn f_random(_: &mut State, a: Args) -> Result<Value, Error> {
    let v = a.defined()?;
    let mut r = py_random(a.get(2, "seed"))?;
    let start = a.get(0, "start").filter(|s| s.is_true());
    let step = a.get(1, "step").filter(|s| s.is_true());
    if matches!(v.kind(), ValueKind::Bool) || (v.kind() == ValueKind::Number && v.is_integer()) {
        let end = as_int(v).unwrap_or(0);
        let start = start.and_then(as_int).unwrap_or(0);
        let step = step.and_then(as_int).unwrap_or(1);
        return r.randrange(start, end, step).map(Value::from).map_err(fail);
    }
    let items: Vec<Value> = match v.kind() {
        ValueKind::Seq | ValueKind::Iterable => {
            v.try_iter().map(|i| i.collect()).unwrap_or_default()
        }
        ValueKind::String => v
            .as_str()
            .unwrap_or_default()
            .chars()
            .map(|c| Value::from(c.to_string()))
            .collect(),
        _ => return Err(fail("random can only be used on sequences and integers")),
    };
    if start.is_some() || step.is_some() {
        return Err(fail("start and step can only be used with integer values"));
    }
    if items.is_empty() {
        return Err(fail("Cannot choose from an empty sequence"));
    }
    Ok(items[r.randbelow(items.len() as u64) as usize].clone())
}

/// Ansible's `shuffle`: `Random(seed).shuffle(list(x))` when the seed is truthy.
fn f_shuffle(_: &mut State, a: Args) -> Result<Value, Error> {
    let mut items = as_list(a.json()?);
    // Ansible swallows any error here (a bad seed) and returns the list as is.
    if let Ok(mut r) = py_random(a.get(0, "seed").filter(|s| s.is_true())) {
        r.shuffle(&mut items);
    }
    Ok(json_to_value(&Json::Array(items)))
}

fn f_subelements(_: &mut State, a: Args) -> Result<Value, Error> {
    let data = a.json()?;
    let path = a.string(0, "subelements", "");
    let skip_missing = match a.get(1, "skip_missing") {
        Some(v) if v.kind() == ValueKind::Map => v
            .get_attr("skip_missing")
            .map(|x| to_bool(&x))
            .unwrap_or(false),
        Some(v) => to_bool(v),
        None => false,
    };
    let items = match data {
        Json::Array(l) => l,
        Json::Object(m) => m.into_iter().map(|(_, v)| v).collect(),
        _ => {
            return Err(fail(
                "subelements: obj must be a list of dicts or a nested dict",
            ))
        }
    };
    let mut out = Vec::new();
    for it in items {
        let mut cur = Some(&it);
        for part in path.split('.') {
            cur = cur.and_then(|c| c.get(part));
        }
        match cur {
            Some(Json::Array(sub)) => {
                for s in sub {
                    out.push(Json::Array(vec![it.clone(), s.clone()]));
                }
            }
            Some(_) => return Err(fail(format!("the key {path} should point to a list"))),
            None if skip_missing => {}
            None => {
                return Err(fail(format!(
                    "could not find '{path}' key in iterated item"
                )))
            }
        }
    }
    Ok(json_to_value(&Json::Array(out)))
}

const SIZE_UNITS: [char; 9] = ['B', 'K', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
const UNIT_NAMES: [&str; 9] = [
    "byte", "kilo", "mega", "giga", "tera", "peta", "exa", "zeta", "yotta",
];

/// ansible.module_utils.common.text.formatters.human_to_bytes.
fn human_to_bytes(number: &str, default_unit: Option<&str>, isbits: bool) -> Result<i64, String> {
    let t = number.trim_end();
    let numlen = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, rest) = t.split_at(numlen);
    let unit_str = rest.trim_start();
    let valid_num = {
        // [0-9]*\.?[0-9]+
        let (a, b) = num.split_once('.').unwrap_or(("", num));
        !b.is_empty()
            && b.chars().all(|c| c.is_ascii_digit())
            && a.chars().all(|c| c.is_ascii_digit())
    };
    if !valid_num || !unit_str.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(format!(
            "human_to_bytes() can't interpret following string: {number}"
        ));
    }
    let n: f64 = num
        .parse()
        .map_err(|_| format!("human_to_bytes() can't interpret following string: {number}"))?;
    let unit = if unit_str.is_empty() {
        default_unit
    } else {
        Some(unit_str)
    };
    let Some(unit) = unit else {
        return Ok(py_round(n) as i64);
    };
    let range_key = unit
        .chars()
        .next()
        .map(|c| c.to_ascii_uppercase())
        .unwrap_or('B');
    let Some(pos) = SIZE_UNITS.iter().position(|&u| u == range_key) else {
        return Err(format!(
            "human_to_bytes() failed to convert {number} (unit = {unit}). The suffix must be one of Y, Z, E, P, T, G, M, K, B"
        ));
    };
    let (class, class_name) = if isbits { ('b', "bit") } else { ('B', "byte") };
    if unit.chars().count() > 1 {
        let expect = if range_key == 'B' {
            format!("expect {class} or {class_name}")
        } else {
            format!("expect {range_key}{class} or {range_key}")
        };
        let long = if pos == 0 {
            class_name.to_string()
        } else {
            format!("{}{class_name}", UNIT_NAMES[pos])
        };
        let short = if pos == 0 {
            class.to_string()
        } else {
            format!("{range_key}{class}")
        };
        if unit.to_lowercase() != long && unit != short {
            return Err(format!(
                "human_to_bytes() failed to convert {number}. Value is not a valid string ({expect})"
            ));
        }
    }
    Ok(py_round(n * 1024f64.powi(pos as i32)) as i64)
}

/// Python 3 `round()`: halves go to even.
fn py_round(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - x.signum()
    } else {
        r
    }
}

/// formatters.bytes_to_human.
fn human_readable(size: f64, isbits: bool, unit: Option<&str>) -> String {
    let base = if isbits { "bits" } else { "Bytes" };
    let want = unit
        .and_then(|u| u.chars().next())
        .map(|c| c.to_ascii_uppercase());
    let mut pos = 0;
    for p in (0..SIZE_UNITS.len()).rev() {
        pos = p;
        let limit = 1024f64.powi(p as i32);
        match want {
            None if size >= limit => break,
            Some(w) if w == SIZE_UNITS[p] => break,
            _ => {}
        }
    }
    let limit = 1024f64.powi(pos as i32);
    let suffix = if pos == 0 {
        base.to_string()
    } else {
        format!("{}{}", SIZE_UNITS[pos], &base[..1])
    };
    format!("{:.2} {suffix}", size / limit)
}

/// Ansible's `strftime` filter: `fmt` for `secs` after the epoch (now by
/// default), in UTC.
pub(crate) fn strftime(fmt: &str, secs: Option<f64>) -> String {
    let t = secs.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    });
    super::pydatetime::DateTime::from_epoch(t).strftime(fmt)
}

/// `urllib.parse.urlsplit` as a dict (Ansible's `urlsplit` filter).
fn urlsplit(s: &str) -> Map<String, Json> {
    let mut rest = s;
    let mut scheme = "";
    if let Some(i) = rest.find(':') {
        let cand = &rest[..i];
        if !cand.is_empty()
            && cand.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && cand
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            scheme = cand;
            rest = &rest[i + 1..];
        }
    }
    let mut netloc = "";
    if let Some(r) = rest.strip_prefix("//") {
        let end = r.find(['/', '?', '#']).unwrap_or(r.len());
        netloc = &r[..end];
        rest = &r[end..];
    }
    let (rest, fragment) = match rest.split_once('#') {
        Some((a, b)) => (a, b),
        None => (rest, ""),
    };
    let (path, query) = match rest.split_once('?') {
        Some((a, b)) => (a, b),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match netloc.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, netloc),
    };
    let (username, password) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((a, b)) => (Json::String(a.into()), Json::String(b.into())),
            None => (Json::String(u.into()), Json::Null),
        },
        None => (Json::Null, Json::Null),
    };
    let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
        match h.split_once(']') {
            Some((h, p)) => (h.to_string(), p.strip_prefix(':').unwrap_or("")),
            None => (h.to_string(), ""),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p),
            None => (hostport.to_string(), ""),
        }
    };
    let mut m = Map::new();
    m.insert("fragment".into(), Json::String(fragment.into()));
    m.insert(
        "hostname".into(),
        if host.is_empty() {
            Json::Null
        } else {
            Json::String(host.to_lowercase())
        },
    );
    m.insert("netloc".into(), Json::String(netloc.into()));
    m.insert("password".into(), password);
    m.insert("path".into(), Json::String(path.into()));
    m.insert(
        "port".into(),
        port.parse::<u16>().map(Json::from).unwrap_or(Json::Null),
    );
    m.insert("query".into(), Json::String(query.into()));
    m.insert("scheme".into(), Json::String(scheme.to_lowercase()));
    m.insert("username".into(), username);
    m
}

/// `json.dumps` with Python's default separators and float spelling.
pub(crate) fn py_json(
    j: &Json,
    indent: Option<usize>,
    sort_keys: bool,
    ensure_ascii: bool,
) -> String {
    let mut out = String::new();
    write_json(j, indent, sort_keys, ensure_ascii, 0, &mut out);
    out
}

fn write_json_str(s: &str, ascii: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if ascii && !c.is_ascii() => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{:04x}", u));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_json(
    j: &Json,
    indent: Option<usize>,
    sort: bool,
    ascii: bool,
    level: usize,
    out: &mut String,
) {
    let nl = |out: &mut String, level: usize| {
        if let Some(n) = indent {
            out.push('\n');
            out.push_str(&" ".repeat(n * level));
        }
    };
    let item_sep = if indent.is_some() { "," } else { ", " };
    match j {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                let s = pyrepr::py_float(f);
                out.push_str(match s.as_str() {
                    "nan" => "NaN",
                    "inf" => "Infinity",
                    "-inf" => "-Infinity",
                    s => s,
                });
            } else {
                out.push_str(&n.to_string());
            }
        }
        Json::String(s) => write_json_str(s, ascii, out),
        Json::Array(a) => {
            if a.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                nl(out, level + 1);
                write_json(x, indent, sort, ascii, level + 1, out);
            }
            nl(out, level);
            out.push(']');
        }
        Json::Object(m) => {
            if m.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            let mut entries: Vec<(&String, &Json)> = m.iter().collect();
            if sort {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                nl(out, level + 1);
                write_json_str(k, ascii, out);
                out.push_str(": ");
                write_json(v, indent, sort, ascii, level + 1, out);
            }
            nl(out, level);
            out.push('}');
        }
    }
}
