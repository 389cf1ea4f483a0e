//! `blockinfile`: keep a marker-delimited block in a file (insert, replace
//! between the markers, or remove), ported line for line from Ansible and run
//! through the `textedit` read-then-write driver.

use serde_json::Value;

use super::fs::{self, Attrs};
use super::spec::{check_args, ArgSpec, Param, Type, FILE_COMMON};
use super::textedit::{self, attrs_msg, py_regex, Commit};
use super::{arg_bool, arg_str, failed, Args, ModResult, ModuleCtx};
use crate::connection::ConnError;

pub const SPEC: ArgSpec = ArgSpec {
    mutually_exclusive: &[&["insertbefore", "insertafter"]],
    ..ArgSpec::module(&[
        &[
            Param::aliased("path", &["dest", "destfile", "name"], Type::Path).required(),
            Param::new("state", Type::Str).choices(&["absent", "present"]),
            Param::new("marker", Type::Str),
            Param::aliased("block", &["content"], Type::Str),
            Param::new("insertafter", Type::Str),
            Param::new("insertbefore", Type::Str),
            Param::new("create", Type::Bool),
            Param::new("backup", Type::Bool),
            Param::new("validate", Type::Str),
            Param::new("marker_begin", Type::Str),
            Param::new("marker_end", Type::Str),
            Param::new("append_newline", Type::Bool),
            Param::new("prepend_newline", Type::Bool),
        ],
        FILE_COMMON,
    ])
};

/// The edit, independent of the host.
pub struct BlockEdit {
    pub present: bool,
    pub block: String,
    pub marker: String,
    pub marker_begin: String,
    pub marker_end: String,
    pub insertafter: Option<String>,
    pub insertbefore: Option<String>,
    pub append_newline: bool,
    pub prepend_newline: bool,
}

pub async fn run(ctx: &ModuleCtx<'_>, args: &Args) -> Result<ModResult, ConnError> {
    if let Err(r) = check_args(&SPEC, "blockinfile", args) {
        return Ok(r);
    }
    match go(ctx, args).await? {
        Ok(r) | Err(r) => Ok(r),
    }
}

async fn go(ctx: &ModuleCtx<'_>, args: &Args) -> Result<Result<ModResult, ModResult>, ConnError> {
    let parsed = (|| -> Result<_, ModResult> {
        let path = ["path", "dest", "destfile", "name"]
            .iter()
            .find_map(|n| arg_str(args, n))
            .ok_or_else(|| failed("missing required arguments: path"))?;
        let state = arg_str(args, "state").unwrap_or_else(|| "present".into());
        if state != "present" && state != "absent" {
            return Err(failed(format!(
                "value of state must be one of: absent, present, got: {state}"
            )));
        }
        let ia = arg_str(args, "insertafter");
        let ib = arg_str(args, "insertbefore");
        if ia.is_some() && ib.is_some() {
            return Err(failed(
                "parameters are mutually exclusive: insertbefore|insertafter",
            ));
        }
        let validate = arg_str(args, "validate");
        textedit::check_validate(&validate)?;
        let edit = BlockEdit {
            present: state == "present",
            block: arg_str(args, "block")
                .or_else(|| arg_str(args, "content"))
                .unwrap_or_default(),
            marker: arg_str(args, "marker")
                .unwrap_or_else(|| "# {mark} ANSIBLE MANAGED BLOCK".into()),
            marker_begin: arg_str(args, "marker_begin").unwrap_or_else(|| "BEGIN".into()),
            marker_end: arg_str(args, "marker_end").unwrap_or_else(|| "END".into()),
            insertafter: ia,
            insertbefore: ib,
            append_newline: arg_bool(args, "append_newline", false)?,
            prepend_newline: arg_bool(args, "prepend_newline", false)?,
        };
        Ok((
            path,
            edit,
            validate,
            Attrs::from_args(args)?,
            arg_bool(args, "create", false)?,
            arg_bool(args, "backup", false)?,
        ))
    })();
    let (path, edit, validate, attrs, create, backup) = match parsed {
        Ok(p) => p,
        Err(r) => return Ok(Err(r)),
    };
    let probe = match textedit::probe_text_file(ctx, &path, &attrs).await? {
        Ok(p) => p,
        Err(r) => return Ok(Err(r)),
    };
    let exists = probe.stat.exists;
    if !exists {
        if !create {
            let mut r = failed(format!("Path {path} does not exist !"));
            r.insert("rc".into(), Value::from(257));
            return Ok(Err(r));
        }
        if !edit.present {
            let mut r = ModResult::new();
            r.insert("changed".into(), Value::Bool(false));
            r.insert(
                "msg".into(),
                Value::String(format!("File {path} not present")),
            );
            return Ok(Ok(r));
        }
    }
    let original = exists.then(|| probe.text());
    let result = match apply(original.as_deref(), &edit) {
        Ok(r) => r,
        Err(e) => return Ok(Err(failed(e))),
    };
    let (changed, msg) = if original.as_deref() == Some(result.as_str()) {
        (false, "")
    } else if original.is_none() {
        (true, "File created")
    } else if !edit.present || edit.block.is_empty() {
        (true, "Block removed")
    } else {
        (true, "Block inserted")
    };
    let written = match textedit::commit(
        ctx,
        &probe,
        changed.then_some(result.as_bytes()),
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
        (changed, msg.to_string())
    } else {
        attrs_msg(changed, msg, written.attrs_changed)
    };
    let mut r = ModResult::new();
    r.insert("changed".into(), Value::Bool(changed));
    r.insert("msg".into(), Value::String(msg));
    if let Some(b) = written.backup_file {
        r.insert("backup_file".into(), Value::String(b));
    }
    // Ansible's blockinfile always returns its diff (empty unless --diff).
    {
        let header = format!("{path} (content)");
        let (before, after) = if ctx.diff {
            (original.as_deref().unwrap_or_default(), result.as_str())
        } else {
            ("", "")
        };
        let d = fs::content_diff(before, after, &header, &header);
        let mut attr = serde_json::Map::new();
        attr.insert(
            "after_header".into(),
            Value::String(format!("{path} (file attributes)")),
        );
        attr.insert(
            "before_header".into(),
            Value::String(format!("{path} (file attributes)")),
        );
        r.insert("diff".into(), Value::Array(vec![d, Value::Object(attr)]));
    }
    Ok(Ok(r))
}

/// The new content (Ansible's main loop, on `\n`-terminated lines).
pub fn apply(original: Option<&str>, e: &BlockEdit) -> Result<String, String> {
    let sep = "\n";
    let mut lines = fs::readlines(original.unwrap_or_default());
    let (ia, ib) = match (&e.insertafter, &e.insertbefore) {
        (None, None) => (Some("EOF".to_string()), None),
        (a, b) => (a.clone(), b.clone()),
    };
    let insertre = match (&ia, &ib) {
        (Some(a), _) if a != "EOF" => Some(py_regex(a, false, false)?),
        (_, Some(b)) if b != "BOF" => Some(py_regex(b, false, false)?),
        _ => None,
    };
    let marker0 = format!("{}{sep}", e.marker.replace("{mark}", &e.marker_begin));
    let marker1 = format!("{}{sep}", e.marker.replace("{mark}", &e.marker_end));
    let blocklines: Vec<String> = if e.present && !e.block.is_empty() {
        let mut b = e.block.clone();
        if !b.ends_with(sep) {
            b.push_str(sep);
        }
        let mut v = vec![marker0.clone()];
        v.extend(fs::readlines(&b));
        v.push(marker1.clone());
        v
    } else {
        Vec::new()
    };
    let (mut n0, mut n1) = (None, None);
    for (i, l) in lines.iter().enumerate() {
        if *l == marker0 {
            n0 = Some(i);
        }
        if *l == marker1 {
            n1 = Some(i);
        }
    }
    let mut n0 = match (n0, n1) {
        (Some(a), Some(b)) if a < b => {
            lines.drain(a..=b);
            a
        }
        (Some(a), Some(b)) => {
            lines.drain(b..=a);
            b
        }
        _ => match &insertre {
            Some(re) => {
                let mut found = None;
                for (i, l) in lines.iter().enumerate() {
                    if re.is_match(l.strip_suffix('\n').unwrap_or(l)) {
                        found = Some(i);
                    }
                }
                match found {
                    None => lines.len(),
                    Some(i) if ia.is_some() => i + 1,
                    Some(i) => i,
                }
            }
            None if ib.is_some() => 0,
            None => lines.len(),
        },
    };
    if n0 > 0 && !lines[n0 - 1].ends_with(sep) {
        lines[n0 - 1].push_str(sep);
    }
    if e.prepend_newline && e.present && n0 != 0 && lines[n0 - 1] != sep {
        lines.insert(n0, sep.to_string());
        n0 += 1;
    }
    let count = blocklines.len();
    lines.splice(n0..n0, blocklines);
    if e.append_newline && e.present {
        let after = n0 + count;
        if after < lines.len() && lines[after] != sep {
            lines.insert(after, sep.to_string());
        }
    }
    Ok(lines.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(block: &str) -> BlockEdit {
        BlockEdit {
            present: true,
            block: block.into(),
            marker: "# {mark} ANSIBLE MANAGED BLOCK".into(),
            marker_begin: "BEGIN".into(),
            marker_end: "END".into(),
            insertafter: None,
            insertbefore: None,
            append_newline: false,
            prepend_newline: false,
        }
    }

    const B: &str = "# BEGIN ANSIBLE MANAGED BLOCK\n";
    const E: &str = "# END ANSIBLE MANAGED BLOCK\n";

    #[test]
    fn marker_table() {
        let mut cases: Vec<(Option<&str>, BlockEdit, String)> = vec![
            (Some("a\n"), edit("x"), format!("a\n{B}x\n{E}")),
            (Some("a"), edit("x\ny\n"), format!("a\n{B}x\ny\n{E}")),
            (None, edit("x"), format!("{B}x\n{E}")),
            (
                Some(&*Box::leak(format!("a\n{B}old\n{E}z\n").into_boxed_str())),
                edit("new"),
                format!("a\n{B}new\n{E}z\n"),
            ),
        ];
        let mut e = edit("x");
        e.present = false;
        cases.push((
            Some(Box::leak(format!("a\n{B}old\n{E}z\n").into_boxed_str())),
            e,
            "a\nz\n".into(),
        ));
        let mut e = edit("x");
        e.insertbefore = Some("BOF".into());
        cases.push((Some("a\n"), e, format!("{B}x\n{E}a\n")));
        let mut e = edit("x");
        e.insertafter = Some("^a".into());
        cases.push((Some("a\nb\n"), e, format!("a\n{B}x\n{E}b\n")));
        let mut e = edit("x");
        e.marker = "<!-- {mark} -->".into();
        e.marker_begin = "START".into();
        e.marker_end = "STOP".into();
        cases.push((Some(""), e, "<!-- START -->\nx\n<!-- STOP -->\n".into()));
        let mut e = edit("x");
        e.prepend_newline = true;
        e.append_newline = true;
        e.insertbefore = Some("^b".into());
        cases.push((Some("a\nb\n"), e, format!("a\n\n{B}x\n{E}\nb\n")));
        for (orig, e, want) in &cases {
            assert_eq!(apply(*orig, e).unwrap(), *want, "{orig:?}");
        }
    }
}
