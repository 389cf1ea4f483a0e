//! Lookup plugins (`lookup()`, `query()`/`q()`) and the template loader.
//!
//! A lookup is a [`LookupFn`]: terms + keyword arguments → list of values.
//! `query` returns that list; `lookup` munges it like ansible-core 2.19
//! (`[]` stays `[]`, one element is returned alone, several strings are joined
//! with commas, anything else is returned as a list) unless `wantlist=True`.
//! `errors='warn'|'ignore'` turn a failure into `None` (`[]` with wantlist).
//! More lookups can be added with [`super::Templar::register_lookup`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use minijinja::value::{Rest, Value, ValueOrKwargs};
use minijinja::{Environment, Error, ErrorKind, State};
use serde_json::Value as Json;

use super::filters::Args;
use super::{
    json_to_value, value_to_json, LazyVars, Shared, TemplarOptions, TemplateError, CTX_VAR,
};

/// A lookup plugin: `(context, terms, kwargs) → values`.
pub type LookupFn = Arc<
    dyn Fn(&LookupContext, &[Json], &IndexMap<String, Json>) -> Result<Vec<Json>, TemplateError>
        + Send
        + Sync,
>;

/// What a lookup can see of the render it runs in.
pub struct LookupContext<'a> {
    root: &'a Arc<LazyVars>,
}

impl LookupContext<'_> {
    pub fn options(&self) -> &TemplarOptions {
        &self.root.shared().opts
    }

    /// A variable's fully rendered value, `None` if undefined.
    pub fn var(&self, name: &str) -> Option<Result<Json, TemplateError>> {
        self.root.var_json(name)
    }

    /// Render a template text in the current variables plus `extra` locals.
    pub fn render_text(
        &self,
        text: &str,
        extra: &IndexMap<String, Json>,
    ) -> Result<String, TemplateError> {
        let overlay = extra
            .iter()
            .map(|(k, v)| (k.clone(), json_to_value(v)))
            .collect();
        self.root.render_text_with(text, overlay)
    }

    /// Find a file: absolute paths as-is, else `<dir>/<subdir>/<name>` then
    /// `<dir>/<name>` for each search path, then the playbook directory.
    pub fn find_file(&self, subdir: &str, name: &str) -> Option<PathBuf> {
        // A role's task looks in its role first, as Ansible's search path
        // (`ansible_search_path`) starts at the role.
        if let (false, Some(Ok(Json::String(role)))) =
            (Path::new(name).is_absolute(), self.var("role_path"))
        {
            let role = Path::new(&role);
            let in_subdir = (!subdir.is_empty()).then(|| role.join(subdir).join(name));
            if let Some(found) = in_subdir
                .into_iter()
                .chain([role.join(name)])
                .find(|c| c.exists())
            {
                return Some(found);
            }
        }
        find_file(self.options(), subdir, name)
    }
}

pub(crate) fn find_file(opts: &TemplarOptions, subdir: &str, name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.is_absolute() {
        return p.exists().then(|| p.to_path_buf());
    }
    let mut dirs: Vec<&Path> = opts.search_paths.iter().map(|p| p.as_path()).collect();
    dirs.push(opts.playbook_dir.as_path());
    for d in dirs {
        if !subdir.is_empty() {
            let c = d.join(subdir).join(name);
            if c.exists() {
                return Some(c);
            }
        }
        let c = d.join(name);
        if c.exists() {
            return Some(c);
        }
    }
    None
}

/// Loader for `{% include %}` / `{% import %}` / `{% extends %}`.
pub(crate) fn load_template_source(
    opts: &TemplarOptions,
    name: &str,
) -> Result<Option<String>, Error> {
    match find_file(opts, "templates", name) {
        Some(p) => std::fs::read_to_string(&p).map(Some).map_err(|e| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("cannot read {}: {e}", p.display()),
            )
        }),
        None => Ok(None),
    }
}

fn lookup_err(msg: impl Into<String>) -> TemplateError {
    TemplateError::Lookup(msg.into())
}

fn kw_bool(kw: &IndexMap<String, Json>, k: &str, default: bool) -> bool {
    match kw.get(k) {
        Some(Json::Bool(b)) => *b,
        Some(Json::String(s)) => {
            matches!(s.to_lowercase().as_str(), "yes" | "true" | "on" | "1" | "y")
        }
        Some(Json::Number(n)) => n.as_f64() == Some(1.0),
        Some(_) => default,
        None => default,
    }
}

fn term_strings(terms: &[Json]) -> Vec<String> {
    let mut out = Vec::new();
    for t in terms {
        match t {
            Json::Array(a) => out.extend(a.iter().map(super::pyrepr::json_str)),
            other => out.push(super::pyrepr::json_str(other)),
        }
    }
    out
}

pub(crate) fn builtin_lookups() -> HashMap<String, LookupFn> {
    let mut m: HashMap<String, LookupFn> = HashMap::new();
    let mut add = |name: &str, f: LookupFn| {
        m.insert(name.to_string(), f.clone());
        m.insert(format!("ansible.builtin.{name}"), f);
    };
    add(
        "env",
        Arc::new(|_, terms, kw| {
            let default = kw
                .get("default")
                .cloned()
                .unwrap_or(Json::String(String::new()));
            Ok(term_strings(terms)
                .into_iter()
                .map(|t| {
                    std::env::var(&t)
                        .map(Json::String)
                        .unwrap_or_else(|_| default.clone())
                })
                .collect())
        }),
    );
    add(
        "file",
        Arc::new(|ctx, terms, kw| {
            let rstrip = kw_bool(kw, "rstrip", true);
            let lstrip = kw_bool(kw, "lstrip", false);
            let mut out = Vec::new();
            for t in term_strings(terms) {
                let mut quoted = String::new();
                super::pyrepr::quote_str(&t, &mut quoted);
                let p = ctx.find_file("files", &t).ok_or_else(|| {
                    lookup_err(format!(
                        "Unable to access the file {quoted}: File not found. Use -vvvvv to see paths searched."
                    ))
                })?;
                let mut s = std::fs::read_to_string(&p)
                    .map_err(|e| lookup_err(format!("Unable to access the file {quoted}: {e}")))?;
                if rstrip {
                    s = s.trim_end().to_string();
                }
                if lstrip {
                    s = s.trim_start().to_string();
                }
                out.push(Json::String(s));
            }
            Ok(out)
        }),
    );
    add(
        "pipe",
        Arc::new(|_, terms, _| {
            let mut out = Vec::new();
            for t in term_strings(terms) {
                let stdout = run_shell("pipe", &t)?;
                out.push(Json::String(stdout.trim_end().to_string()));
            }
            Ok(out)
        }),
    );
    add(
        "template",
        Arc::new(|ctx, terms, kw| {
            let mut extra = IndexMap::new();
            if let Some(Json::Object(tv)) = kw.get("template_vars") {
                for (k, v) in tv {
                    extra.insert(k.clone(), v.clone());
                }
            }
            let mut out = Vec::new();
            for t in term_strings(terms) {
                let p = ctx.find_file("templates", &t).ok_or_else(|| {
                    lookup_err(format!(
                        "the template file {t} could not be found for the lookup"
                    ))
                })?;
                let src = std::fs::read_to_string(&p)
                    .map_err(|e| lookup_err(format!("could not read template {t}: {e}")))?;
                out.push(Json::String(ctx.render_text(&src, &extra)?));
            }
            Ok(out)
        }),
    );
    add(
        "vars",
        Arc::new(|ctx, terms, kw| {
            let mut out = Vec::new();
            for t in term_strings(terms) {
                match ctx.var(&t) {
                    Some(r) => out.push(r?),
                    None => match kw.get("default") {
                        Some(d) => out.push(d.clone()),
                        None => {
                            return Err(TemplateError::Undefined {
                                name: t.clone(),
                                message: format!("No variable named '{t}' was found."),
                            })
                        }
                    },
                }
            }
            Ok(out)
        }),
    );
    add("first_found", Arc::new(lookup_first_found));
    add(
        "fileglob",
        Arc::new(|ctx, terms, _| {
            let mut out = Vec::new();
            for t in term_strings(terms) {
                let (dir, pat) = match t.rsplit_once('/') {
                    Some((d, p)) => (d.to_string(), p.to_string()),
                    None => (String::new(), t.clone()),
                };
                let base = if dir.starts_with('/') {
                    Some(PathBuf::from(&dir))
                } else {
                    ctx.find_file("files", if dir.is_empty() { "." } else { &dir })
                };
                let Some(base) = base else { continue };
                let mut found: Vec<String> = std::fs::read_dir(&base)
                    .map(|rd| {
                        rd.filter_map(|e| e.ok())
                            .filter(|e| e.path().is_file())
                            .filter(|e| glob_match(&pat, &e.file_name().to_string_lossy()))
                            .map(|e| e.path().to_string_lossy().into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                found.sort();
                out.extend(found.into_iter().map(Json::String));
            }
            Ok(out)
        }),
    );
    add("password", Arc::new(lookup_password));
    add(
        "items",
        Arc::new(|_, terms, _| Ok(super::filters::flatten(terms, Some(1), false))),
    );
    add("list", Arc::new(|_, terms, _| Ok(terms.to_vec())));
    add(
        "flattened",
        Arc::new(|_, terms, _| Ok(super::filters::flatten(terms, None, true))),
    );
    add(
        "indexed_items",
        Arc::new(|_, terms, _| {
            Ok(super::filters::flatten(terms, Some(1), false)
                .into_iter()
                .enumerate()
                .map(|(i, v)| Json::Array(vec![Json::from(i), v]))
                .collect())
        }),
    );
    add(
        "unvault",
        Arc::new(|ctx, terms, _| {
            // Without vault secrets this is the file's raw contents.
            let mut out = Vec::new();
            for t in term_strings(terms) {
                let mut quoted = String::new();
                super::pyrepr::quote_str(&t, &mut quoted);
                let p = ctx
                    .find_file("files", &t)
                    .ok_or_else(|| lookup_err(format!("Unable to find file matching \"{t}\" ")))?;
                let s = std::fs::read_to_string(&p).map_err(|e| {
                    lookup_err(format!("Unable to read source file ({quoted}): {e}"))
                })?;
                out.push(Json::String(s));
            }
            Ok(out)
        }),
    );
    add(
        "random_choice",
        Arc::new(|_, terms, _| {
            if terms.is_empty() {
                return Ok(vec![]);
            }
            let i = (super::crypt::random_u64() % terms.len() as u64) as usize;
            Ok(vec![terms[i].clone()])
        }),
    );
    add(
        "subelements",
        Arc::new(|_, terms, _| lookup_subelements(terms)),
    );
    add(
        "dict",
        Arc::new(|_, terms, _| {
            let mut out = Vec::new();
            for t in terms {
                let Json::Object(m) = t else {
                    return Err(lookup_err(format!(
                        "the 'dict' lookup plugin expects a dictionary, got {} of type <class '{}'>)",
                        super::pyrepr::json_repr(t),
                        super::pyrepr::json_type_name(t)
                    )));
                };
                for (k, v) in m {
                    let mut o = serde_json::Map::new();
                    o.insert("key".into(), Json::String(k.clone()));
                    o.insert("value".into(), v.clone());
                    out.push(Json::Object(o));
                }
            }
            Ok(out)
        }),
    );
    add("sequence", Arc::new(lookup_sequence));
    add(
        "nested",
        Arc::new(|_, terms, _| {
            let lists = terms_as_lists(terms);
            let mut res: Vec<Vec<Json>> = vec![vec![]];
            for l in lists {
                res = res
                    .into_iter()
                    .flat_map(|r| {
                        l.iter().map(move |x| {
                            let mut n = r.clone();
                            n.push(x.clone());
                            n
                        })
                    })
                    .collect();
            }
            Ok(res.into_iter().map(Json::Array).collect())
        }),
    );
    add(
        "together",
        Arc::new(|_, terms, _| {
            let lists = terms_as_lists(terms);
            let n = lists.iter().map(|l| l.len()).max().unwrap_or(0);
            Ok((0..n)
                .map(|i| {
                    Json::Array(
                        lists
                            .iter()
                            .map(|l| l.get(i).cloned().unwrap_or(Json::Null))
                            .collect(),
                    )
                })
                .collect())
        }),
    );
    add(
        "lines",
        Arc::new(|_, terms, _| {
            let mut out = Vec::new();
            for t in term_strings(terms) {
                let stdout = run_shell("lines", &t)?;
                out.extend(stdout.lines().map(|l| Json::String(l.to_string())));
            }
            Ok(out)
        }),
    );
    m
}

/// Run a command through `/bin/sh` on the control machine for the `pipe`
/// and `lines` lookups; a non-zero exit is an error, as in Ansible.
fn run_shell(plugin: &str, cmd: &str) -> Result<String, TemplateError> {
    let o = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .map_err(|e| {
            lookup_err(format!(
                "lookup_plugin.{plugin}({cmd}) returned an error: {e}"
            ))
        })?;
    if !o.status.success() {
        return Err(lookup_err(format!(
            "lookup_plugin.{plugin}({cmd}) returned {}",
            o.status.code().unwrap_or(-1)
        )));
    }
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

fn glob_match(pat: &str, name: &str) -> bool {
    fn rec(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|i| rec(&p[1..], &n[i..])),
            Some('?') => !n.is_empty() && rec(&p[1..], &n[1..]),
            Some('[') => {
                let Some(end) = p.iter().position(|c| *c == ']') else {
                    return !n.is_empty() && n[0] == '[' && rec(&p[1..], &n[1..]);
                };
                let Some(&c) = n.first() else { return false };
                let set = &p[1..end];
                let (neg, set) = match set.first() {
                    Some('!') | Some('^') => (true, &set[1..]),
                    _ => (false, set),
                };
                let mut hit = false;
                let mut i = 0;
                while i < set.len() {
                    if i + 2 < set.len() && set[i + 1] == '-' {
                        hit |= set[i] <= c && c <= set[i + 2];
                        i += 3;
                    } else {
                        hit |= set[i] == c;
                        i += 1;
                    }
                }
                hit != neg && rec(&p[end + 1..], &n[1..])
            }
            Some(c) => n.first() == Some(c) && rec(&p[1..], &n[1..]),
        }
    }
    if name.starts_with('.') && !pat.starts_with('.') {
        return false;
    }
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    rec(&p, &n)
}

fn lookup_first_found(
    ctx: &LookupContext,
    terms: &[Json],
    kw: &IndexMap<String, Json>,
) -> Result<Vec<Json>, TemplateError> {
    let mut files: Vec<String> = Vec::new();
    let mut paths: Vec<String> = Vec::new();
    let mut skip = kw_bool(kw, "skip", false);
    let split = |j: &Json| -> Vec<String> {
        match j {
            Json::Array(a) => a.iter().map(super::pyrepr::json_str).collect(),
            Json::String(s) => s
                .split([',', ';'])
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect(),
            Json::Null => vec![],
            o => vec![super::pyrepr::json_str(o)],
        }
    };
    let mut add_spec =
        |m: &serde_json::Map<String, Json>, files: &mut Vec<String>, paths: &mut Vec<String>| {
            let f = m.get("files").map(split).unwrap_or_default();
            let p = m.get("paths").map(split).unwrap_or_default();
            if m.get("skip").is_some_and(|s| matches!(s, Json::Bool(true))) {
                skip = true;
            }
            if p.is_empty() {
                files.extend(f);
            } else {
                for d in &p {
                    for x in &f {
                        files.push(format!("{}/{}", d.trim_end_matches('/'), x));
                    }
                }
                if f.is_empty() {
                    paths.extend(p);
                }
            }
        };
    let kw_files = kw.get("files").map(split).unwrap_or_default();
    let kw_paths = kw.get("paths").map(split).unwrap_or_default();
    for t in terms {
        match t {
            Json::Object(m) => add_spec(m, &mut files, &mut paths),
            Json::Array(a) => {
                for x in a {
                    match x {
                        Json::Object(m) => add_spec(m, &mut files, &mut paths),
                        o => files.push(super::pyrepr::json_str(o)),
                    }
                }
            }
            o => files.push(super::pyrepr::json_str(o)),
        }
    }
    files.extend(kw_files);
    if !kw_paths.is_empty() {
        files = kw_paths
            .iter()
            .flat_map(|d| {
                files
                    .iter()
                    .map(move |f| format!("{}/{}", d.trim_end_matches('/'), f))
            })
            .collect();
    }
    for f in &files {
        if let Some(p) = ctx.find_file("files", f) {
            return Ok(vec![Json::String(p.to_string_lossy().into_owned())]);
        }
    }
    if skip {
        return Ok(vec![]);
    }
    Err(lookup_err("No file was found when using first_found."))
}

/// plugins/lookup/subelements.py: `(item, subitem)` pairs; the sub-list key
/// is removed from the returned item, as Python's `pop` does.
fn lookup_subelements(terms: &[Json]) -> Result<Vec<Json>, TemplateError> {
    let terms_err = |msg: &str| {
        lookup_err(format!(
            "subelements lookup expects a list of two or three items, {msg}"
        ))
    };
    if !(2..=3).contains(&terms.len()) {
        return Err(terms_err(""));
    }
    let (Json::Array(_) | Json::Object(_), Json::String(path)) = (&terms[0], &terms[1]) else {
        return Err(terms_err(
            "first a dict or a list, second a string pointing to the subkey",
        ));
    };
    let elements: Vec<Json> = match &terms[0] {
        Json::Object(m) => {
            if m.get("skipped").is_some_and(|v| v != &Json::Bool(false)) {
                return Ok(vec![]);
            }
            m.values().cloned().collect()
        }
        Json::Array(l) => l.clone(),
        _ => vec![],
    };
    let skip_missing = match terms.get(2) {
        None => false,
        Some(Json::Object(f)) => f.get("skip_missing").is_some_and(|v| match v {
            Json::Bool(b) => *b,
            Json::String(s) => matches!(
                s.to_lowercase().as_str(),
                "yes" | "on" | "1" | "true" | "y" | "t"
            ),
            Json::Number(n) => n.as_f64() == Some(1.0),
            _ => false,
        }),
        Some(_) => {
            return Err(terms_err(
                "the optional third item must be a dict with flags ('skip_missing',)",
            ))
        }
    };
    let keys: Vec<&str> = path.split('.').collect();
    let mut ret = Vec::new();
    for item0 in elements {
        let Json::Object(_) = &item0 else {
            return Err(lookup_err(format!(
                "subelements lookup expects a dictionary, got '{}'",
                super::pyrepr::json_str(&item0)
            )));
        };
        if item0
            .get("skipped")
            .is_some_and(|v| v != &Json::Bool(false))
        {
            continue;
        }
        let mut item0 = item0;
        let mut sublist = Vec::new();
        // Walk down to the dict holding the last key, by index path.
        let mut walked: Vec<&str> = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let last = i + 1 == keys.len();
            let mut cur = &item0;
            for k in &walked {
                cur = &cur[*k];
            }
            let Some(v) = cur.get(*key) else {
                if skip_missing {
                    continue;
                }
                return Err(lookup_err(format!(
                    "could not find '{key}' key in iterated item '{}'",
                    super::pyrepr::json_str(cur)
                )));
            };
            if !last {
                if v.is_object() {
                    walked.push(key);
                } else if !skip_missing {
                    return Err(lookup_err(format!(
                        "the key {key} should point to a dictionary, got '{}'",
                        super::pyrepr::json_str(v)
                    )));
                }
            } else if let Json::Array(l) = v {
                sublist = l.clone();
                let mut holder = &mut item0;
                for k in &walked {
                    holder = &mut holder[*k];
                }
                if let Json::Object(m) = holder {
                    m.shift_remove(*key);
                }
            } else {
                return Err(lookup_err(format!(
                    "the key {key} should point to a list, got '{}'",
                    super::pyrepr::json_str(v)
                )));
            }
        }
        for item1 in sublist {
            ret.push(Json::Array(vec![item0.clone(), item1]));
        }
    }
    Ok(ret)
}

fn lookup_password(
    ctx: &LookupContext,
    terms: &[Json],
    kw: &IndexMap<String, Json>,
) -> Result<Vec<Json>, TemplateError> {
    let mut out = Vec::new();
    for t in term_strings(terms) {
        // "path key=value ..." inline parameters
        let mut parts = t.split_whitespace();
        let path = parts.next().unwrap_or("").to_string();
        let mut params = kw.clone();
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                params.insert(k.to_string(), Json::String(v.to_string()));
            }
        }
        let length = params
            .get("length")
            .and_then(|v| match v {
                Json::Number(n) => n.as_u64(),
                Json::String(s) => s.parse().ok(),
                _ => None,
            })
            .unwrap_or(20) as usize;
        let chars = password_chars(params.get("chars"));
        let full = if Path::new(&path).is_absolute() || path == "/dev/null" {
            PathBuf::from(&path)
        } else {
            ctx.options().playbook_dir.join(&path)
        };
        if path != "/dev/null" {
            if let Ok(existing) = std::fs::read_to_string(&full) {
                let line = existing.lines().next().unwrap_or("");
                let pw = line.split(" salt=").next().unwrap_or("").to_string();
                out.push(Json::String(pw));
                continue;
            }
        }
        let pw = super::crypt::random_string(length, &chars);
        if path != "/dev/null" && !ctx.options().check_mode {
            if let Some(parent) = full.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            std::fs::write(&full, format!("{pw}\n")).map_err(|e| {
                lookup_err(format!(
                    "could not write password file {}: {e}",
                    full.display()
                ))
            })?;
        }
        out.push(Json::String(pw));
    }
    Ok(out)
}

fn password_chars(spec: Option<&Json>) -> Vec<char> {
    let names: Vec<String> = match spec {
        None => vec!["ascii_letters".into(), "digits".into(), ".,:-_".into()],
        Some(Json::Array(a)) => a.iter().map(super::pyrepr::json_str).collect(),
        Some(Json::String(s)) => s.split(',').map(|x| x.to_string()).collect(),
        Some(o) => vec![super::pyrepr::json_str(o)],
    };
    let mut out = String::new();
    for n in names {
        match n.as_str() {
            "ascii_letters" => out.push_str("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
            "ascii_lowercase" => out.push_str("abcdefghijklmnopqrstuvwxyz"),
            "ascii_uppercase" => out.push_str("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
            "digits" => out.push_str("0123456789"),
            "hexdigits" => out.push_str("0123456789abcdefABCDEF"),
            "octdigits" => out.push_str("01234567"),
            "punctuation" => out.push_str("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
            other => out.push_str(other),
        }
    }
    let mut v: Vec<char> = Vec::new();
    for c in out.chars() {
        if !v.contains(&c) {
            v.push(c);
        }
    }
    v
}

fn lookup_sequence(
    _: &LookupContext,
    terms: &[Json],
    kw: &IndexMap<String, Json>,
) -> Result<Vec<Json>, TemplateError> {
    let num = |s: &str| -> Result<i64, TemplateError> {
        let s = s.trim();
        let r = if let Some(h) = s.strip_prefix("0x") {
            i64::from_str_radix(h, 16)
        } else if let Some(o) = s.strip_prefix("0o") {
            i64::from_str_radix(o, 8)
        } else {
            s.parse()
        };
        r.map_err(|_| lookup_err(format!("can't parse arg {s:?} as integer")))
    };
    let mut specs: Vec<IndexMap<String, String>> = Vec::new();
    for t in term_strings(terms) {
        let mut m = IndexMap::new();
        let parts: Vec<&str> = t.split_whitespace().collect();
        if parts.len() == 1 && !parts[0].contains('=') {
            // shortcut form: [start-]end[/stride][:format]
            let (body, fmt) = match parts[0].split_once(':') {
                Some((b, f)) => (b, Some(f)),
                None => (parts[0], None),
            };
            let (body, stride) = match body.split_once('/') {
                Some((b, s)) => (b, Some(s)),
                None => (body, None),
            };
            match body.split_once('-') {
                Some((s, e)) if !s.is_empty() => {
                    m.insert("start".into(), s.to_string());
                    m.insert("end".into(), e.to_string());
                }
                _ => {
                    m.insert("end".into(), body.to_string());
                }
            }
            if let Some(s) = stride {
                m.insert("stride".into(), s.to_string());
            }
            if let Some(f) = fmt {
                m.insert("format".into(), f.to_string());
            }
        } else {
            for p in parts {
                if let Some((k, v)) = p.split_once('=') {
                    m.insert(k.to_string(), v.to_string());
                }
            }
        }
        specs.push(m);
    }
    if specs.is_empty() {
        specs.push(IndexMap::new());
    }
    let mut out = Vec::new();
    for mut m in specs {
        for (k, v) in kw {
            m.insert(k.clone(), super::pyrepr::json_str(v));
        }
        let start = m.get("start").map(|s| num(s)).transpose()?.unwrap_or(1);
        let stride = m.get("stride").map(|s| num(s)).transpose()?.unwrap_or(1);
        // sequence.py sanity_check, in its order.
        let end = match (m.get("end"), m.get("count")) {
            (Some(_), Some(_)) => {
                return Err(lookup_err(
                    "can't specify both count and end in with_sequence",
                ))
            }
            (Some(e), None) => num(e)?,
            (None, Some(c)) => {
                let c = num(c)?;
                if c == 0 {
                    continue;
                }
                start + c * stride - 1
            }
            (None, None) => return Err(lookup_err("must specify count or end in with_sequence")),
        };
        let fmt = m.get("format").cloned().unwrap_or_else(|| "%d".into());
        if stride > 0 && end < start {
            return Err(lookup_err("to count backwards make stride negative"));
        }
        if stride < 0 && end > start {
            return Err(lookup_err("to count forward don't make stride negative"));
        }
        if stride == 0 {
            continue;
        }
        if fmt.matches('%').count() != 1 {
            return Err(lookup_err(format!("bad formatting string: {fmt}")));
        }
        let mut i = start;
        while (stride > 0 && i <= end) || (stride < 0 && i >= end) {
            out.push(Json::String(printf_int(&fmt, i)));
            i += stride;
        }
    }
    Ok(out)
}

/// Minimal printf for one integer: `%d`, `%02d`, `%x`, `%o`, `%s`.
fn printf_int(fmt: &str, n: i64) -> String {
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&d) = chars.peek() {
            if d.is_ascii_digit() || d == '-' {
                spec.push(d);
                chars.next();
            } else {
                break;
            }
        }
        let zero = spec.starts_with('0');
        let left = spec.starts_with('-');
        let width: usize = spec.trim_start_matches(['-', '0']).parse().unwrap_or(0);
        let body = match chars.next() {
            Some('d') | Some('i') | Some('s') | Some('u') => n.to_string(),
            Some('x') => format!("{n:x}"),
            Some('X') => format!("{n:X}"),
            Some('o') => format!("{n:o}"),
            Some('%') => "%".into(),
            Some(o) => format!("%{spec}{o}"),
            None => "%".into(),
        };
        if body.len() >= width {
            out.push_str(&body);
        } else if left {
            out.push_str(&format!("{body:<width$}"));
        } else if zero {
            let (sign, digits) = match body.strip_prefix('-') {
                Some(d) => ("-", d.to_string()),
                None => ("", body.clone()),
            };
            out.push_str(sign);
            out.push_str(&"0".repeat(width - sign.len() - digits.len()));
            out.push_str(&digits);
        } else {
            out.push_str(&format!("{body:>width$}"));
        }
    }
    out
}

fn run_lookup(state: &State, shared: &Shared, a: Args, force_list: bool) -> Result<Value, Error> {
    let name = super::pyrepr::py_str_string(a.defined()?);
    let root = state
        .lookup(CTX_VAR)
        .and_then(|v| v.downcast_object::<LazyVars>())
        .ok_or_else(|| super::filters::fail("lookup called outside of a templating context"))?;
    let mut terms = Vec::new();
    for t in &a.pos {
        terms.push(value_to_json(t)?);
    }
    let mut kw = IndexMap::new();
    for (k, v) in &a.kw {
        kw.insert(k.clone(), value_to_json(v)?);
    }
    let wantlist = force_list
        || kw
            .shift_remove("wantlist")
            .is_some_and(|v| v == Json::Bool(true));
    let errors = kw
        .shift_remove("errors")
        .map(|v| super::pyrepr::json_str(&v))
        .unwrap_or_else(|| "strict".into());
    let f = shared
        .lookups
        .read()
        .ok()
        .and_then(|t| t.get(&name).cloned())
        .ok_or_else(|| {
            TemplateError::Lookup(format!("The lookup plugin '{name}' was not found.")).into_mj()
        })?;
    let ctx = LookupContext { root: &root };
    let res = match f(&ctx, &terms, &kw) {
        Ok(r) => r,
        Err(e) => {
            if errors == "warn" || errors == "ignore" {
                return Ok(if wantlist {
                    Value::from(Vec::<Value>::new())
                } else {
                    Value::from(())
                });
            }
            // Ansible: AnsibleTemplatePluginRuntimeError('lookup', name) from ex.
            return Err(match e {
                TemplateError::Undefined { .. } | TemplateError::Recursion(_) => e,
                other => {
                    TemplateError::Lookup(format!("The lookup plugin '{name}' failed: {other}"))
                }
            }
            .into_mj());
        }
    };
    if wantlist {
        return Ok(json_to_value(&Json::Array(res)));
    }
    Ok(match res.len() {
        0 => json_to_value(&Json::Array(res)),
        1 => json_to_value(&res[0]),
        _ if res.iter().all(|r| r.is_string()) => Value::from(
            res.iter()
                .filter_map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => json_to_value(&Json::Array(res)),
    })
}

pub(crate) fn register(env: &mut Environment<'static>, shared: &Arc<Shared>) {
    for (name, list) in [("lookup", false), ("query", true), ("q", true)] {
        let shared = shared.clone();
        env.add_function(name, move |state: &State, args: Rest<ValueOrKwargs>| {
            let mut all = vec![];
            all.extend(args.0.into_iter().map(Value::from));
            run_lookup(state, &shared, Args::split(all), list)
        });
    }
    env.add_function("now", |args: Rest<ValueOrKwargs>| {
        let a = Args::split(
            std::iter::once(Value::UNDEFINED)
                .chain(args.0.into_iter().map(Value::from))
                .collect(),
        );
        let fmt = a
            .opt_string(1, "fmt")
            .unwrap_or_else(|| "%Y-%m-%d %H:%M:%S".into());
        Ok::<_, Error>(Value::from(super::filters::strftime(&fmt, None)))
    });
    env.add_function("undef", |_args: Rest<ValueOrKwargs>| {
        Ok::<_, Error>(Value::UNDEFINED)
    });
}

/// `with_nested`/`with_together` terms: each a list, a scalar a list of one.
fn terms_as_lists(terms: &[Json]) -> Vec<Vec<Json>> {
    terms
        .iter()
        .map(|t| match t {
            Json::Array(a) => a.clone(),
            o => vec![o.clone()],
        })
        .collect()
}
