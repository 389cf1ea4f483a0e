//! `lineinfile`: ensure one line is present (replacing a regexp or
//! search-string match, or inserting after/before a pattern) or absent.
//! The editing is a port of Ansible's `present`/`absent` onto line strings;
//! see `textedit` for the two-round-trip read-then-write driver.

use regex::Regex;
use serde_json::Value;

use super::fs::{self, Attrs};
use super::spec::{check_args, ArgSpec, Param, Type, FILE_COMMON};
use super::textedit::{self, attrs_msg, py_regex, py_template, Commit};
use super::{arg_bool, arg_str, failed, Args, ModResult, ModuleCtx};
use crate::connection::ConnError;

pub const SPEC: ArgSpec = ArgSpec {
    mutually_exclusive: &[
        &["insertbefore", "insertafter"],
        &["regexp", "search_string"],
        &["backrefs", "search_string"],
    ],
    ..ArgSpec::module(&[
        &[
            Param::aliased("path", &["dest", "destfile", "name"], Type::Path).required(),
            Param::new("state", Type::Str).choices(&["absent", "present"]),
            Param::aliased("regexp", &["regex"], Type::Str),
            Param::new("search_string", Type::Str),
            Param::aliased("line", &["value"], Type::Str),
            Param::new("insertafter", Type::Str),
            Param::new("insertbefore", Type::Str),
            Param::new("backrefs", Type::Bool),
            Param::new("create", Type::Bool),
            Param::new("backup", Type::Bool),
            Param::new("firstmatch", Type::Bool),
            Param::new("validate", Type::Str),
        ],
        FILE_COMMON,
    ])
};

/// The edit, independent of the host.
pub struct LineEdit {
    pub regexp: Option<Regex>,
    pub search_string: Option<String>,
    pub line: String,
    pub insertafter: Option<String>,
    pub insertbefore: Option<String>,
    pub backrefs: bool,
    pub firstmatch: bool,
}

pub async fn run(ctx: &ModuleCtx<'_>, args: &Args) -> Result<ModResult, ConnError> {
    if let Err(r) = check_args(&SPEC, "lineinfile", args) {
        return Ok(r);
    }
    match go(ctx, args).await? {
        Ok(r) | Err(r) => Ok(r),
    }
}

fn get(args: &Args, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| arg_str(args, n))
}

async fn go(ctx: &ModuleCtx<'_>, args: &Args) -> Result<Result<ModResult, ModResult>, ConnError> {
    let parsed = (|| -> Result<_, ModResult> {
        let path = get(args, &["path", "dest", "destfile", "name"])
            .ok_or_else(|| failed("missing required arguments: path"))?;
        let state = arg_str(args, "state").unwrap_or_else(|| "present".into());
        if state != "present" && state != "absent" {
            return Err(failed(format!(
                "value of state must be one of: absent, present, got: {state}"
            )));
        }
        let regexp = get(args, &["regexp", "regex"]);
        let search_string = arg_str(args, "search_string");
        let line = get(args, &["line", "value"]);
        let ia = arg_str(args, "insertafter");
        let ib = arg_str(args, "insertbefore");
        let backrefs = arg_bool(args, "backrefs", false)?;
        for (a, b, set) in [
            ("insertbefore", "insertafter", ib.is_some() && ia.is_some()),
            (
                "regexp",
                "search_string",
                regexp.is_some() && search_string.is_some(),
            ),
            (
                "backrefs",
                "search_string",
                backrefs && search_string.is_some(),
            ),
        ] {
            if set {
                return Err(failed(format!(
                    "parameters are mutually exclusive: {a}|{b}"
                )));
            }
        }
        let validate = arg_str(args, "validate");
        textedit::check_validate(&validate)?;
        let re = regexp
            .as_deref()
            .map(|r| py_regex(r, false, false))
            .transpose()
            .map_err(failed)?;
        if state == "present" {
            if backrefs && regexp.is_none() {
                return Err(failed("regexp is required with backrefs=true"));
            }
            if line.is_none() {
                return Err(failed("line is required with state=present"));
            }
        } else if regexp.is_none() && search_string.is_none() && line.is_none() {
            return Err(failed(
                "one of line, search_string, or regexp is required with state=absent",
            ));
        }
        let (ia, ib) = if ia.is_none() && ib.is_none() {
            (Some("EOF".to_string()), None)
        } else {
            (ia, ib)
        };
        let edit = LineEdit {
            regexp: re,
            search_string,
            line: line.unwrap_or_default(),
            insertafter: ia,
            insertbefore: ib,
            backrefs,
            firstmatch: arg_bool(args, "firstmatch", false)?,
        };
        Ok((
            path,
            state,
            edit,
            validate,
            Attrs::from_args(args)?,
            arg_bool(args, "create", false)?,
            arg_bool(args, "backup", false)?,
        ))
    })();
    let (path, state, edit, validate, attrs, create, backup) = match parsed {
        Ok(p) => p,
        Err(r) => return Ok(Err(r)),
    };
    let probe = match textedit::probe_text_file(ctx, &path, &attrs).await? {
        Ok(p) => p,
        Err(r) => return Ok(Err(r)),
    };
    let exists = probe.stat.exists;
    let before = probe.text();
    let mut lines = fs::readlines(&before);
    let (changed, msg, found) = if state == "present" {
        if !exists && !create {
            let mut r = failed(format!("Destination {path} does not exist !"));
            r.insert("rc".into(), Value::from(257));
            return Ok(Err(r));
        }
        let (c, m) = match present(&mut lines, &edit) {
            Ok(x) => x,
            Err(e) => return Ok(Err(failed(e))),
        };
        (c, m.to_string(), None)
    } else {
        if !exists {
            let mut r = ModResult::new();
            r.insert("changed".into(), Value::Bool(false));
            r.insert("msg".into(), Value::String("file not present".into()));
            return Ok(Ok(r));
        }
        let n = absent(&mut lines, &edit);
        let msg = if n > 0 {
            format!("{n} line(s) removed")
        } else {
            String::new()
        };
        (n > 0, msg, Some(n))
    };
    let after: String = lines.concat();
    let mut r = ModResult::new();
    let diff = fs::content_diff(
        if ctx.diff { &before } else { "" },
        if ctx.diff { &after } else { "" },
        &format!("{path} (content)"),
        &format!("{path} (content)"),
    );
    let written = match textedit::commit(
        ctx,
        &probe,
        changed.then_some(after.as_bytes()),
        &Commit {
            attrs: &attrs,
            backup: backup && exists,
            validate,
        },
    )
    .await?
    {
        Ok(w) => w,
        Err(r) => return Ok(Err(r)),
    };
    let (changed, msg) = if ctx.check_mode && !exists {
        (changed, msg)
    } else {
        attrs_msg(changed, &msg, written.attrs_changed)
    };
    r.insert("changed".into(), Value::Bool(changed));
    if let Some(n) = found {
        r.insert("found".into(), Value::from(n));
    }
    r.insert("msg".into(), Value::String(msg));
    r.insert(
        "backup".into(),
        Value::String(written.backup_file.unwrap_or_default()),
    );
    // Ansible's lineinfile always returns its diff (empty unless --diff).
    {
        let mut attr = serde_json::Map::new();
        attr.insert(
            "after_header".into(),
            Value::String(format!("{path} (file attributes)")),
        );
        attr.insert(
            "before_header".into(),
            Value::String(format!("{path} (file attributes)")),
        );
        r.insert("diff".into(), Value::Array(vec![diff, Value::Object(attr)]));
    }
    Ok(Ok(r))
}

fn strip_nl(l: &str) -> &str {
    l.strip_suffix('\n').unwrap_or(l)
}

fn rstrip_crlf(l: &str) -> &str {
    l.trim_end_matches(['\r', '\n'])
}

/// Ansible's `present()` on a list of lines (terminators kept).
/// Patterns are matched against the line without its `\n`, which is how
/// Python's `$` behaves on a line that ends in one.
pub fn present(lines: &mut Vec<String>, e: &LineEdit) -> Result<(bool, &'static str), String> {
    let sep = "\n";
    let ins_re = match (&e.insertafter, &e.insertbefore) {
        (Some(a), _) if a != "BOF" && a != "EOF" => Some(py_regex(a, false, false)?),
        (_, Some(b)) if b != "BOF" => Some(py_regex(b, false, false)?),
        _ => None,
    };
    let mut index = [-1i64, -1i64];
    let mut matched = false;
    let mut new_from_match: Option<String> = None;
    if let Some(re) = &e.regexp {
        for (i, l) in lines.iter().enumerate() {
            if let Some(c) = re.captures(strip_nl(l)) {
                index[0] = i as i64;
                matched = true;
                if e.backrefs {
                    let mut s = String::new();
                    c.expand(&py_template(&e.line), &mut s);
                    new_from_match = Some(s);
                }
                if e.firstmatch {
                    break;
                }
            }
        }
    }
    if let Some(ss) = &e.search_string {
        for (i, l) in lines.iter().enumerate() {
            if l.contains(ss.as_str()) {
                index[0] = i as i64;
                matched = true;
                if e.firstmatch {
                    break;
                }
            }
        }
    }
    if !matched {
        for (i, l) in lines.iter().enumerate() {
            if e.line == rstrip_crlf(l) {
                index[0] = i as i64;
            } else if ins_re.as_ref().is_some_and(|r| r.is_match(strip_nl(l))) {
                if e.insertafter.is_some() {
                    index[1] = i as i64 + 1;
                    if e.firstmatch {
                        break;
                    }
                }
                if e.insertbefore.is_some() {
                    index[1] = i as i64;
                    if e.firstmatch {
                        break;
                    }
                }
            }
        }
    }
    let line_nl = format!("{}{sep}", e.line);
    let ends_nl = |l: &str| l.ends_with('\n') || l.ends_with('\r');
    let ia = e.insertafter.as_deref();
    let ib = e.insertbefore.as_deref();
    let mut changed = false;
    let mut msg = "";
    if index[0] != -1 {
        let mut new_line = match (&new_from_match, e.backrefs && matched) {
            (Some(s), true) => s.clone(),
            _ => e.line.clone(),
        };
        if !new_line.ends_with(sep) {
            new_line.push_str(sep);
        }
        // (Ansible's insert branch for "no pattern, no exact match" cannot
        // be reached: index[0] is only set by a match.)
        if lines[index[0] as usize] != new_line {
            lines[index[0] as usize] = new_line;
            msg = "line replaced";
            changed = true;
        }
    } else if e.backrefs {
        // Nothing: the line cannot be built without the regexp's groups.
    } else if ib == Some("BOF") || ia == Some("BOF") {
        lines.insert(0, line_nl);
        msg = "line added";
        changed = true;
    } else if ia == Some("EOF") || index[1] == -1 {
        if let Some(last) = lines.last_mut() {
            if !ends_nl(last) {
                last.push_str(sep);
            }
        }
        lines.push(line_nl);
        msg = "line added";
        changed = true;
    } else if ia.is_some() && index[1] != -1 {
        let i = index[1] as usize;
        if lines.len() == i {
            if rstrip_crlf(&lines[i - 1]) != e.line {
                if let Some(last) = lines.last_mut() {
                    if !ends_nl(last) {
                        last.push_str(sep);
                    }
                }
                lines.push(line_nl);
                msg = "line added";
                changed = true;
            }
        } else if rstrip_crlf(&lines[i]) != e.line {
            lines.insert(i, line_nl);
            msg = "line added";
            changed = true;
        }
    } else {
        lines.insert(index[1] as usize, line_nl);
        msg = "line added";
        changed = true;
    }
    Ok((changed, msg))
}

/// Ansible's `absent()`: drop matching lines, return how many.
pub fn absent(lines: &mut Vec<String>, e: &LineEdit) -> usize {
    let before = lines.len();
    lines.retain(|l| {
        let hit = if let Some(re) = &e.regexp {
            re.is_match(strip_nl(l))
        } else if let Some(ss) = &e.search_string {
            l.contains(ss.as_str())
        } else {
            e.line == rstrip_crlf(l)
        };
        !hit
    });
    before - lines.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(line: &str) -> LineEdit {
        LineEdit {
            regexp: None,
            search_string: None,
            line: line.into(),
            insertafter: Some("EOF".into()),
            insertbefore: None,
            backrefs: false,
            firstmatch: false,
        }
    }

    fn run_present(text: &str, e: &LineEdit) -> (String, bool, &'static str) {
        let mut l = fs::readlines(text);
        let (c, m) = present(&mut l, e).unwrap();
        (l.concat(), c, m)
    }

    #[test]
    fn present_table() {
        let re = |s: &str| Some(py_regex(s, false, false).unwrap());
        let mut cases: Vec<(&str, LineEdit, &str, bool, &str)> = vec![
            ("a\nb\n", edit("c"), "a\nb\nc\n", true, "line added"),
            ("a\nb", edit("c"), "a\nb\nc\n", true, "line added"),
            ("a\nc\n", edit("c"), "a\nc\n", false, ""),
            ("", edit("c"), "c\n", true, "line added"),
        ];
        let mut e = edit("port=2");
        e.regexp = re("^port=");
        cases.push(("x\nport=1\ny\n", e, "x\nport=2\ny\n", true, "line replaced"));
        let mut e = edit("port=2");
        e.regexp = re("^port=");
        cases.push(("x\nport=2\n", e, "x\nport=2\n", false, ""));
        let mut e = edit("new");
        e.insertafter = Some("^\\[s\\]".into());
        cases.push(("[s]\na\n[t]\n", e, "[s]\nnew\na\n[t]\n", true, "line added"));
        let mut e = edit("new");
        e.insertafter = None;
        e.insertbefore = Some("^\\[t\\]".into());
        cases.push(("[s]\na\n[t]\n", e, "[s]\na\nnew\n[t]\n", true, "line added"));
        let mut e = edit("top");
        e.insertafter = None;
        e.insertbefore = Some("BOF".into());
        cases.push(("a\n", e, "top\na\n", true, "line added"));
        let mut e = edit(r"\1=on");
        e.regexp = re(r"^#?(feature)=.*$");
        e.backrefs = true;
        cases.push(("#feature=off\n", e, "feature=on\n", true, "line replaced"));
        let mut e = edit(r"\1=on");
        e.regexp = re(r"^nomatch(x)$");
        e.backrefs = true;
        cases.push(("a\n", e, "a\n", false, ""));
        let mut e = edit("k=v");
        e.search_string = Some("k=".into());
        cases.push(("k=old\n", e, "k=v\n", true, "line replaced"));
        let mut e = edit("after");
        e.insertafter = Some("^a".into());
        cases.push(("a\n", e, "a\nafter\n", true, "line added"));
        let mut e = edit("x");
        e.insertafter = Some("^zzz".into());
        cases.push(("a\n", e, "a\nx\n", true, "line added"));
        for (text, e, want, c, m) in &cases {
            let got = run_present(text, e);
            assert_eq!(
                (got.0.as_str(), got.1, got.2),
                (*want, *c, *m),
                "{text:?} {:?}",
                e.line
            );
        }
    }

    #[test]
    fn absent_counts() {
        let mut l = fs::readlines("a\nb\na\n");
        assert_eq!(absent(&mut l, &edit("a")), 2);
        assert_eq!(l.concat(), "b\n");
        let mut e = edit("");
        e.regexp = Some(py_regex("^b", false, false).unwrap());
        assert_eq!(absent(&mut l, &e), 1);
        assert!(l.is_empty());
    }
}
