//! `replace`: substitute every match of a multi-line (Python `re.MULTILINE`)
//! pattern, optionally only between `after` and `before`, through the
//! `textedit` read-then-write driver.

use serde_json::Value;

use super::fs::Attrs;
use super::spec::{check_args, ArgSpec, Param, Type, FILE_COMMON};
use super::textedit::{self, attrs_msg, py_regex, py_template, Commit};
use super::{arg_bool, arg_str, failed, Args, ModResult, ModuleCtx};
use crate::connection::ConnError;

pub const SPEC: ArgSpec = ArgSpec::module(&[
    &[
        Param::aliased("path", &["dest", "destfile", "name"], Type::Path).required(),
        Param::new("regexp", Type::Str).required(),
        Param::new("replace", Type::Str),
        Param::new("after", Type::Str),
        Param::new("before", Type::Str),
        Param::new("backup", Type::Bool),
        Param::new("validate", Type::Str),
        Param::new("encoding", Type::Str),
    ],
    FILE_COMMON,
]);

pub async fn run(ctx: &ModuleCtx<'_>, args: &Args) -> Result<ModResult, ConnError> {
    if let Err(r) = check_args(&SPEC, "replace", args) {
        return Ok(r);
    }
    match go(ctx, args).await? {
        Ok(r) | Err(r) => Ok(r),
    }
}

/// What a substitution did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `after`/`before` did not match: Ansible's message names the pattern.
    NoSection(String),
    Done {
        text: String,
        count: usize,
    },
}

/// Ansible's replace on a string.
pub fn substitute(
    contents: &str,
    regexp: &str,
    replace: &str,
    after: Option<&str>,
    before: Option<&str>,
) -> Result<Outcome, String> {
    let pattern = match (
        after.filter(|s| !s.is_empty()),
        before.filter(|s| !s.is_empty()),
    ) {
        (Some(a), Some(b)) => format!("{a}(?P<subsection>.*?){b}"),
        (Some(a), None) => format!("{a}(?P<subsection>.*)"),
        (None, Some(b)) => format!("(?P<subsection>.*){b}"),
        (None, None) => String::new(),
    };
    let (start, end) = if pattern.is_empty() {
        (0, contents.len())
    } else {
        let sre = py_regex(&pattern, false, true)?;
        match sre.captures(contents).and_then(|c| c.name("subsection")) {
            Some(m) => (m.start(), m.end()),
            None => {
                return Ok(Outcome::NoSection(format!(
                    "Pattern for before/after params did not match the given file: {pattern}"
                )))
            }
        }
    };
    let section = &contents[start..end];
    let re = py_regex(regexp, true, false)?;
    let count = re.find_iter(section).count();
    let replaced = re.replace_all(section, py_template(replace).as_str());
    let text = format!("{}{}{}", &contents[..start], replaced, &contents[end..]);
    Ok(Outcome::Done { text, count })
}

async fn go(ctx: &ModuleCtx<'_>, args: &Args) -> Result<Result<ModResult, ModResult>, ConnError> {
    let parsed = (|| -> Result<_, ModResult> {
        let path = ["path", "dest", "destfile", "name"]
            .iter()
            .find_map(|n| arg_str(args, n))
            .ok_or_else(|| failed("missing required arguments: path"))?;
        let regexp =
            arg_str(args, "regexp").ok_or_else(|| failed("missing required arguments: regexp"))?;
        let validate = arg_str(args, "validate");
        textedit::check_validate(&validate)?;
        Ok((
            path,
            regexp,
            arg_str(args, "replace").unwrap_or_default(),
            arg_str(args, "after"),
            arg_str(args, "before"),
            validate,
            Attrs::from_args(args)?,
            arg_bool(args, "backup", false)?,
        ))
    })();
    let (path, regexp, replace, after, before, validate, attrs, backup) = match parsed {
        Ok(p) => p,
        Err(r) => return Ok(Err(r)),
    };
    let probe = match textedit::probe_text_file(ctx, &path, &attrs).await? {
        Ok(p) => p,
        Err(r) => return Ok(Err(r)),
    };
    if !probe.stat.exists {
        let mut r = failed(format!("Path {path} does not exist !"));
        r.insert("rc".into(), Value::from(257));
        return Ok(Err(r));
    }
    let contents = probe.text();
    let mut r = ModResult::new();
    r.insert("rc".into(), Value::from(0));
    let (new, msg) = match substitute(
        &contents,
        &regexp,
        &replace,
        after.as_deref(),
        before.as_deref(),
    ) {
        Err(e) => {
            return Ok(Err(failed(format!(
                "Unable to process replace due to error: {e}"
            ))))
        }
        Ok(Outcome::NoSection(msg)) => {
            r.insert("msg".into(), Value::String(msg));
            r.insert("changed".into(), Value::Bool(false));
            return Ok(Ok(r));
        }
        Ok(Outcome::Done { text, count }) if count > 0 && text != contents => {
            (Some(text), format!("{count} replacements made"))
        }
        Ok(Outcome::Done { .. }) => (None, String::new()),
    };
    let changed = new.is_some();
    if ctx.diff {
        if let Some(t) = &new {
            let mut d = serde_json::Map::new();
            d.insert("after".into(), Value::String(t.clone()));
            d.insert("after_header".into(), Value::String(path.clone()));
            d.insert("before".into(), Value::String(contents.clone()));
            d.insert("before_header".into(), Value::String(path.clone()));
            r.insert("diff".into(), Value::Object(d));
        }
    }
    let written = match textedit::commit(
        ctx,
        &probe,
        new.as_deref().map(str::as_bytes),
        &Commit {
            attrs: &attrs,
            backup,
            validate,
        },
    )
    .await?
    {
        Ok(w) => w,
        Err(r) => return Ok(Err(r)),
    };
    if let Some(b) = written.backup_file {
        r.insert("backup_file".into(), Value::String(b));
    }
    let (changed, msg) = attrs_msg(changed, &msg, written.attrs_changed);
    r.insert("msg".into(), Value::String(msg));
    r.insert("changed".into(), Value::Bool(changed));
    Ok(Ok(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution_table() {
        let done = |t: &str, c: usize| Outcome::Done {
            text: t.into(),
            count: c,
        };
        type Case<'a> = (
            &'a str,
            &'a str,
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
            Outcome,
        );
        let cases: Vec<Case> = vec![
            (
                "a1\nb2\na3\n",
                "^a(\\d)$",
                "A\\1",
                None,
                None,
                done("A1\nb2\nA3\n", 2),
            ),
            ("x\n", "^y$", "z", None, None, done("x\n", 0)),
            (
                "ListenAddress 1.2.3.4\n",
                r"^(ListenAddress[ ]+)[^\n]+$",
                r"\g<1>0.0.0.0",
                None,
                None,
                done("ListenAddress 0.0.0.0\n", 1),
            ),
            (
                "k=1\n[s]\nk=2\n[t]\nk=3\n",
                "^k=.*$",
                "k=0",
                Some(r"\[s\]"),
                Some(r"\[t\]"),
                done("k=1\n[s]\nk=0\n[t]\nk=3\n", 1),
            ),
            ("cost\n", "cost", "$5", None, None, done("$5\n", 1)),
        ];
        for (text, re, rep, a, b, want) in cases {
            assert_eq!(substitute(text, re, rep, a, b).unwrap(), want, "{re}");
        }
        assert!(matches!(
            substitute("x", "x", "y", Some("nomatch"), None).unwrap(),
            Outcome::NoSection(_)
        ));
    }
}
