//! `community.general.ini_file`: set or remove an option (or a whole section)
//! in an INI file — a port of the collection's `do_ini` on line strings, run
//! through the `textedit` read-then-write driver. `section_has` is not
//! supported (rejected as an unknown parameter).

use regex::{Captures, Regex};
use serde_json::Value;

use super::fs::{self, Attrs};
use super::spec::{check_args, ArgSpec, Param, Type, FILE_COMMON};
use super::textedit::{self, Commit};
use super::{arg_bool, arg_str, failed, Args, ModResult, ModuleCtx};
use crate::connection::ConnError;

/// community.general's spec, less what ferry does not implement
/// (`section_has_values`, `modify_inactive_option`): those are refused
/// rather than silently ignored.
pub const SPEC: ArgSpec = ArgSpec {
    mutually_exclusive: &[&["value", "values"]],
    ..ArgSpec::module(&[
        &[
            Param::aliased("path", &["dest"], Type::Path).required(),
            Param::new("section", Type::Str),
            Param::new("option", Type::Str),
            Param::new("value", Type::Str),
            Param::new("values", Type::List),
            Param::new("backup", Type::Bool),
            Param::new("state", Type::Str).choices(&["absent", "present"]),
            Param::new("exclusive", Type::Bool),
            Param::new("no_extra_spaces", Type::Bool),
            Param::new("ignore_spaces", Type::Bool),
            Param::new("allow_no_value", Type::Bool),
            Param::new("create", Type::Bool),
            Param::new("follow", Type::Bool),
        ],
        FILE_COMMON,
    ])
};

/// The edit, independent of the host.
#[derive(Clone, Debug, Default)]
pub struct IniEdit {
    pub section: Option<String>,
    pub option: Option<String>,
    pub values: Vec<String>,
    pub present: bool,
    pub exclusive: bool,
    pub no_extra_spaces: bool,
    pub ignore_spaces: bool,
    pub allow_no_value: bool,
}

pub async fn run(ctx: &ModuleCtx<'_>, args: &Args) -> Result<ModResult, ConnError> {
    if let Err(r) = check_args(&SPEC, "community.general.ini_file", args) {
        return Ok(r);
    }
    match go(ctx, args).await? {
        Ok(r) | Err(r) => Ok(r),
    }
}

async fn go(ctx: &ModuleCtx<'_>, args: &Args) -> Result<Result<ModResult, ModResult>, ConnError> {
    let parsed = (|| -> Result<_, ModResult> {
        let path = arg_str(args, "path")
            .or_else(|| arg_str(args, "dest"))
            .ok_or_else(|| failed("missing required arguments: path"))?;
        let state = arg_str(args, "state").unwrap_or_else(|| "present".into());
        if state != "present" && state != "absent" {
            return Err(failed(format!(
                "value of state must be one of: absent, present, got: {state}"
            )));
        }
        let value = arg_str(args, "value");
        let values: Option<Vec<String>> = match args.get("values") {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) => Some(
                a.iter()
                    .filter(|v| !v.is_null())
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        o => o.to_string(),
                    })
                    .collect(),
            ),
            Some(Value::String(s)) => Some(s.split(',').map(|x| x.trim().to_string()).collect()),
            Some(_) => return Err(failed("argument 'values' is not a list")),
        };
        if value.is_some() && values.is_some() {
            return Err(failed("parameters are mutually exclusive: value|values"));
        }
        let allow_no_value = arg_bool(args, "allow_no_value", false)?;
        if state == "present"
            && !allow_no_value
            && value.is_none()
            && values.as_ref().is_none_or(|v| v.is_empty())
        {
            return Err(failed(
                "Parameter 'value(s)' must be defined if state=present and allow_no_value=False.",
            ));
        }
        let mut vals: Vec<String> = Vec::new();
        for v in value.map(|v| vec![v]).or(values).unwrap_or_default() {
            if !vals.contains(&v) {
                vals.push(v);
            }
        }
        let edit = IniEdit {
            section: arg_str(args, "section"),
            option: arg_str(args, "option"),
            values: vals,
            present: state == "present",
            exclusive: arg_bool(args, "exclusive", true)?,
            no_extra_spaces: arg_bool(args, "no_extra_spaces", false)?,
            ignore_spaces: arg_bool(args, "ignore_spaces", false)?,
            allow_no_value,
        };
        Ok((
            path,
            edit,
            Attrs::from_args(args)?,
            arg_bool(args, "create", true)?,
            arg_bool(args, "backup", false)?,
        ))
    })();
    let (path, edit, attrs, create, backup) = match parsed {
        Ok(p) => p,
        Err(r) => return Ok(Err(r)),
    };
    let probe = match textedit::probe(ctx, &path, &attrs).await? {
        Ok(p) => p,
        Err(r) => return Ok(Err(r)),
    };
    if !probe.stat.exists && !create {
        let mut r = failed(format!("Destination {path} does not exist!"));
        r.insert("rc".into(), Value::from(257));
        return Ok(Err(r));
    }
    let before = probe.text();
    let before = before
        .strip_prefix('\u{feff}')
        .unwrap_or(&before)
        .to_string();
    let (after, changed, msg) = match do_ini(&before, &edit) {
        Ok(x) => x,
        Err(e) => return Ok(Err(failed(e))),
    };
    let written = match textedit::commit(
        ctx,
        &probe,
        changed.then_some(after.as_bytes()),
        &Commit {
            attrs: &attrs,
            backup: backup && probe.stat.exists,
            validate: None,
        },
    )
    .await?
    {
        Ok(w) => w,
        Err(r) => return Ok(Err(r)),
    };
    let mut r = ModResult::new();
    r.insert(
        "changed".into(),
        Value::Bool(changed || written.attrs_changed),
    );
    if ctx.diff {
        let h = format!("{path} (content)");
        r.insert("diff".into(), fs::content_diff(&before, &after, &h, &h));
    }
    r.insert("msg".into(), Value::String(msg.to_string()));
    r.insert("path".into(), Value::String(path));
    if let Some(b) = written.backup_file {
        r.insert("backup_file".into(), Value::String(b));
    }
    Ok(Ok(r))
}

const FAKE: &str = "ad01e11446efb704fcdbdb21f2c43757423d91c5";

fn opt_re(option: &str, active: bool) -> Result<Regex, String> {
    let o = regex::escape(option);
    let p = if active {
        format!(r"^( |\t)*({o})( |\t)*(=|$)( |\t)*(.*)")
    } else {
        format!(r"^([#;]?)( |\t)*({o})( |\t)*(=|$)( |\t)*(.*)")
    };
    Regex::new(&p).map_err(|e| e.to_string())
}

fn body(l: &str) -> &str {
    l.strip_suffix('\n').unwrap_or(l)
}

fn cap<'a>(re: &Regex, l: &'a str) -> Option<Captures<'a>> {
    re.captures(body(l))
}

fn group(c: &Captures<'_>, i: usize) -> String {
    c.get(i).map(|m| m.as_str().to_string()).unwrap_or_default()
}

/// The collection's `do_ini` on a string: (new content, changed, msg).
pub fn do_ini(content: &str, e: &IniEdit) -> Result<(String, bool, &'static str), String> {
    let mut values = e.values.clone();
    let mut ini: Vec<String> = fs::readlines(content);
    let mut changed = false;
    if ini.is_empty() {
        ini.push("\n".into());
    }
    if let Some(last) = ini.last_mut() {
        if !last.ends_with('\n') {
            last.push('\n');
            changed = true;
        }
    }
    ini.insert(0, format!("[{FAKE}]"));
    ini.push("[".into());
    let section = e
        .section
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| FAKE.to_string());
    let header = format!("[{section}]");
    let mut within = false;
    let (mut start, mut end) = (0, 0);
    for (i, l) in ini.iter().enumerate() {
        if within && l.starts_with('[') {
            end = i;
            break;
        }
        if l.starts_with(&header) {
            within = true;
            start = i;
        }
    }
    let fmt = |o: &str, v: &str| {
        if e.no_extra_spaces {
            format!("{o}={v}\n")
        } else {
            format!("{o} = {v}\n")
        }
    };
    let mut sec: Vec<String> = ini[start..end].to_vec();
    let after: Vec<String> = ini[end..].to_vec();
    let before: Vec<String> = ini[..start].to_vec();
    let mut changed_lines = vec![false; sec.len()];
    let mut msg: &'static str = "OK";
    let mut no_value_present = false;
    let opt = e.option.clone().filter(|o| !o.is_empty());
    let ore = opt.as_deref().map(|o| opt_re(o, false)).transpose()?;
    let are = opt.as_deref().map(|o| opt_re(o, true)).transpose()?;
    let update = |sec: &mut Vec<String>,
                  changed_lines: &mut Vec<bool>,
                  i: usize,
                  newline: String,
                  changed: &mut bool,
                  msg: &mut &'static str| {
        let mut option_changed = None;
        if e.ignore_spaces {
            if let (Some(re), true) = (&ore, true) {
                if let Some(old) = cap(re, &sec[i]) {
                    if group(&old, 1).is_empty() {
                        let new_v = cap(re, &newline).map(|c| group(&c, 7));
                        option_changed = Some(Some(group(&old, 7)) != new_v);
                    }
                }
            }
        }
        let oc = option_changed.unwrap_or(sec[i] != newline);
        if oc {
            sec[i] = newline;
            *changed = true;
            *msg = "option changed";
        }
        changed_lines[i] = true;
    };
    if let (true, Some(o), Some(re)) = (e.present, &opt, &ore) {
        for i in 0..sec.len() {
            let Some(c) = cap(re, &sec[i]) else { continue };
            let v = group(&c, 7);
            if !values.is_empty() && values.contains(&v) {
                let newline = if v.is_empty() && e.allow_no_value {
                    no_value_present = true;
                    format!("{o}\n")
                } else {
                    fmt(o, &v)
                };
                update(
                    &mut sec,
                    &mut changed_lines,
                    i,
                    newline,
                    &mut changed,
                    &mut msg,
                );
                values.retain(|x| *x != v);
            } else if values.is_empty() && e.allow_no_value {
                update(
                    &mut sec,
                    &mut changed_lines,
                    i,
                    format!("{o}\n"),
                    &mut changed,
                    &mut msg,
                );
                no_value_present = true;
                break;
            }
        }
    }
    if let (true, true, false, Some(o), Some(re)) =
        (e.present, e.exclusive, e.allow_no_value, &opt, &ore)
    {
        if !values.is_empty() {
            for i in 0..sec.len() {
                if !changed_lines[i] && cap(re, &sec[i]).is_some() {
                    let v = values.remove(0);
                    update(
                        &mut sec,
                        &mut changed_lines,
                        i,
                        fmt(o, &v),
                        &mut changed,
                        &mut msg,
                    );
                    if values.is_empty() {
                        break;
                    }
                }
            }
        }
        let mut i = sec.len();
        while i > 1 {
            i -= 1;
            if !changed_lines[i] && cap(re, &sec[i]).is_some() {
                sec.remove(i);
                changed_lines.remove(i);
                changed = true;
                msg = "option changed";
            }
        }
    }
    if e.present {
        let blank_or_comment = Regex::new(r"^[ \t]*([#;].*)?$").map_err(|e| e.to_string())?;
        let mut i = sec.len();
        while i > 0 {
            if !blank_or_comment.is_match(body(&sec[i - 1])) {
                if let (Some(o), false) = (&opt, values.is_empty()) {
                    for v in values.iter().rev() {
                        sec.insert(i, fmt(o, v));
                        msg = "option added";
                        changed = true;
                    }
                } else if let (Some(o), true, true, false) =
                    (&opt, values.is_empty(), e.allow_no_value, no_value_present)
                {
                    sec.insert(i, format!("{o}\n"));
                    msg = "option added";
                    changed = true;
                }
                break;
            }
            i -= 1;
        }
    } else if let Some(re) = &are {
        if e.exclusive {
            let n = sec.len();
            sec.retain(|l| cap(re, l).is_none());
            if sec.len() != n {
                changed = true;
                msg = "option changed";
            }
        } else if !values.is_empty() {
            let n = sec.len();
            sec.retain(|l| !cap(re, l).is_some_and(|c| values.contains(&group(&c, 6))));
            if sec.len() != n {
                changed = true;
                msg = "option changed";
            }
        }
    } else if !sec.is_empty() {
        sec.clear();
        msg = "section removed";
        changed = true;
    }
    let mut out: Vec<String> = before;
    out.extend(sec);
    out.extend(after);
    out.remove(0);
    out.pop();
    if !within && e.present {
        out.push(format!("{header}\n"));
        msg = "section and option added";
        match (&opt, values.is_empty()) {
            (Some(o), false) => {
                for v in &values {
                    out.push(fmt(o, v));
                }
            }
            (Some(o), true) if e.allow_no_value => out.push(format!("{o}\n")),
            _ => msg = "only section added",
        }
        changed = true;
    }
    Ok((out.concat(), changed, msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(section: &str, option: &str, value: &str) -> IniEdit {
        IniEdit {
            section: Some(section.into()),
            option: Some(option.into()),
            values: vec![value.into()],
            present: true,
            exclusive: true,
            ..Default::default()
        }
    }

    #[test]
    fn ini_table() {
        let mut cases: Vec<(&str, IniEdit, &str, bool, &str)> = vec![
            (
                "",
                set("s", "k", "v"),
                "\n[s]\nk = v\n",
                true,
                "section and option added",
            ),
            (
                "[s]\nk = v\n",
                set("s", "k", "v"),
                "[s]\nk = v\n",
                false,
                "OK",
            ),
            (
                "[s]\nk = old\n",
                set("s", "k", "v"),
                "[s]\nk = v\n",
                true,
                "option changed",
            ),
            (
                "[s]\na = 1\n\n[t]\n",
                set("s", "k", "v"),
                "[s]\na = 1\nk = v\n\n[t]\n",
                true,
                "option added",
            ),
            (
                "[s]\n#k = v\n",
                set("s", "k", "v"),
                "[s]\nk = v\n",
                true,
                "option changed",
            ),
            (
                "[s]\nk = 1\nk = 2\n",
                set("s", "k", "3"),
                "[s]\nk = 3\n",
                true,
                "option changed",
            ),
        ];
        let mut e = set("s", "k", "v");
        e.no_extra_spaces = true;
        cases.push(("[s]\n", e, "[s]\nk=v\n", true, "option added"));
        let mut e = set("s", "k", "v");
        e.present = false;
        cases.push((
            "[s]\nk = v\nj = 1\n",
            e,
            "[s]\nj = 1\n",
            true,
            "option changed",
        ));
        let mut e = set("s", "", "");
        e.option = None;
        e.values.clear();
        e.present = false;
        cases.push((
            "[s]\nk = v\n[t]\nx = 1\n",
            e,
            "[t]\nx = 1\n",
            true,
            "section removed",
        ));
        let mut e = set("", "k", "v");
        e.section = None;
        cases.push((
            "[s]\nx = 1\n",
            e,
            "k = v\n[s]\nx = 1\n",
            true,
            "option added",
        ));
        let mut e = set("s", "k", "");
        e.values.clear();
        e.allow_no_value = true;
        cases.push(("[s]\n", e, "[s]\nk\n", true, "option added"));
        let mut e = set("s", "k", "v");
        e.values = vec!["a".into(), "b".into()];
        cases.push((
            "[s]\nk = a\n",
            e,
            "[s]\nk = a\nk = b\n",
            true,
            "option added",
        ));
        for (text, e, want, c, m) in &cases {
            let got = do_ini(text, e).unwrap();
            assert_eq!(
                (got.0.as_str(), got.1, got.2),
                (*want, *c, *m),
                "{text:?} {e:?}"
            );
        }
    }
}
