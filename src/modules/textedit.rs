//! The driver shared by the editing modules (lineinfile, blockinfile, replace,
//! ini_file) and Python-`re` compatibility for their patterns.
//!
//! Editing happens in Rust on the control machine, so these modules take two
//! round trips when something changes: a probe (metadata, whether attributes
//! would change, and the content) and then one atomic write. An idempotent
//! run — the common case — is the probe alone.

use regex::Regex;

use super::fs::{self, path_expr, Attrs, FileStat, Report, WriteSpec};
use super::{failed, ModResult, ModuleCtx};
use crate::connection::ConnError;

/// What the probe saw.
pub struct Probe {
    /// The path after following a symlink.
    pub dest: String,
    pub stat: FileStat,
    pub content: Option<Vec<u8>>,
    pub attrs_would_change: bool,
}

impl Probe {
    pub fn text(&self) -> String {
        self.content
            .as_deref()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .unwrap_or_default()
    }
}

pub async fn probe(
    ctx: &ModuleCtx<'_>,
    path: &str,
    attrs: &Attrs,
) -> Result<Result<Probe, ModResult>, ConnError> {
    let nonce = super::command::nonce();
    let script = fs::probe_script(&nonce, &path_expr(path), attrs, true);
    Ok(fs::run_script(ctx, &nonce, script, None)
        .await?
        .map(|rep: Report| Probe {
            dest: rep.get("dest").unwrap_or(path).to_string(),
            stat: rep.stat("pre_"),
            attrs_would_change: rep.flag("attrs_changed"),
            content: rep.data,
        }))
}

/// [`probe`] for the modules that edit a regular file's text (lineinfile,
/// blockinfile, replace): a directory fails as Ansible's do.
pub async fn probe_text_file(
    ctx: &ModuleCtx<'_>,
    path: &str,
    attrs: &Attrs,
) -> Result<Result<Probe, ModResult>, ConnError> {
    Ok(probe(ctx, path, attrs).await?.and_then(|p| {
        if p.stat.is_dir() {
            let mut r = super::failed(format!("Path {path} is a directory !"));
            r.insert("rc".into(), serde_json::Value::from(256));
            return Err(r);
        }
        Ok(p)
    }))
}

/// Options of the write step.
pub struct Commit<'a> {
    pub attrs: &'a Attrs,
    pub backup: bool,
    pub validate: Option<String>,
}

/// What the write step did.
#[derive(Default)]
pub struct Written {
    pub backup_file: Option<String>,
    pub attrs_changed: bool,
}

/// Write `new` (when `Some`) and fix attributes; nothing is sent in check
/// mode or when neither content nor attributes would change.
pub async fn commit(
    ctx: &ModuleCtx<'_>,
    probe: &Probe,
    new: Option<&[u8]>,
    c: &Commit<'_>,
) -> Result<Result<Written, ModResult>, ConnError> {
    if ctx.check_mode || (new.is_none() && !probe.attrs_would_change) {
        return Ok(Ok(Written {
            backup_file: None,
            attrs_changed: probe.attrs_would_change,
        }));
    }
    let (sum, cmd, stdin) = match new {
        Some(b) => (fs::sha1_hex(b), fs::STDIN_CONTENT, Some(b.to_vec())),
        None => (
            fs::sha1_hex(probe.content.as_deref().unwrap_or_default()),
            "ferry_fail 'the file changed while it was being edited'",
            None,
        ),
    };
    let spec = WriteSpec {
        dest: crate::connection::shell_quote(&probe.dest),
        pre: String::new(),
        attrs: c.attrs,
        want_sha1: sum,
        content_cmd: cmd.to_string(),
        force: true,
        backup: c.backup,
        validate: c.validate.clone(),
        mkdirs: true,
        follow: true,
        want_before: false,
        dir_msg: None,
        size: None,
        final_stat: false,
    };
    let nonce = super::command::nonce();
    let script = fs::write_script(&nonce, false, &spec);
    let rep = match fs::run_script(ctx, &nonce, script, stdin).await? {
        Ok(r) => r,
        Err(r) => return Ok(Err(r)),
    };
    if rep.flag("validate_failed") {
        return Ok(Err(failed(format!(
            "failed to validate: rc:{} error:{}",
            rep.get("vrc").unwrap_or("1"),
            rep.get("verr").unwrap_or_default()
        ))));
    }
    Ok(Ok(Written {
        backup_file: rep.get("backup_file").map(str::to_string),
        attrs_changed: rep.flag("attrs_changed") || probe.attrs_would_change,
    }))
}

/// Ansible's `check_file_attrs` message suffix.
pub fn attrs_msg(changed: bool, msg: &str, attrs_changed: bool) -> (bool, String) {
    if !attrs_changed {
        return (changed, msg.to_string());
    }
    let mut m = msg.to_string();
    if changed {
        m.push_str(" and ");
    }
    m.push_str("ownership, perms or SE linux context changed");
    (true, m)
}

/// `validate` must mention the file (Ansible checks before running).
pub fn check_validate(v: &Option<String>) -> Result<(), ModResult> {
    match v {
        Some(s) if !s.contains("%s") => Err(failed(format!("validate must contain %s: {s}"))),
        _ => Ok(()),
    }
}

/// Compile a Python `re` pattern with the `regex` crate (the common subset;
/// `\Z` is Python's end of input). Lookaround and backreferences are refused
/// with a message rather than silently mismatching.
pub fn py_regex(pat: &str, multiline: bool, dotall: bool) -> Result<Regex, String> {
    let mut p = String::with_capacity(pat.len() + 8);
    let mut chars = pat.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('Z') => p.push_str("\\z"),
                Some(n) => {
                    p.push('\\');
                    p.push(n);
                }
                None => p.push('\\'),
            }
        } else {
            p.push(c);
        }
    }
    let mut b = regex::RegexBuilder::new(&p);
    b.multi_line(multiline).dot_matches_new_line(dotall);
    b.build().map_err(|e| {
        let e = e.to_string();
        if e.contains("look-around") || e.contains("backreferences") {
            format!(
                "ferry: unsupported regular expression (no lookaround or backreferences): {pat}"
            )
        } else {
            format!("error compiling regular expression {pat}: {e}")
        }
    })
}

/// A Python replacement template (`\1`, `\g<1>`, `\g<name>`, `\n`) in the
/// `regex` crate's syntax (`${1}`, `$$` for a literal dollar).
pub fn py_template(t: &str) -> String {
    let mut out = String::with_capacity(t.len() + 8);
    let chars: Vec<char> = t.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '$' => out.push_str("$$"),
            '\\' if i + 1 < chars.len() => {
                let n = chars[i + 1];
                i += 1;
                match n {
                    '0'..='9' => {
                        let mut num = String::from(n);
                        if i + 1 < chars.len() && chars[i + 1].is_ascii_digit() {
                            i += 1;
                            num.push(chars[i]);
                        }
                        out.push_str(&format!("${{{num}}}"));
                    }
                    'g' if chars.get(i + 1) == Some(&'<') => {
                        if let Some(end) = chars[i + 2..].iter().position(|&x| x == '>') {
                            let name: String = chars[i + 2..i + 2 + end].iter().collect();
                            out.push_str(&format!("${{{name}}}"));
                            i += 2 + end;
                        } else {
                            out.push_str("\\g");
                        }
                    }
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '\\' => out.push('\\'),
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let cases = [
            (r"\1x", "${1}x"),
            (r"\g<1>0.0.0.0", "${1}0.0.0.0"),
            (r"#\g<dctv>\n", "#${dctv}\n"),
            ("cost $5", "cost $$5"),
            (r"a\\b", r"a\b"),
            (r"\12", "${12}"),
        ];
        for (py, rs) in cases {
            assert_eq!(py_template(py), rs, "{py}");
        }
        let re = py_regex(r"^(host=).*", false, false).unwrap();
        assert_eq!(
            re.replace("host=a", py_template(r"\g<1>b").as_str()),
            "host=b"
        );
    }

    #[test]
    fn python_patterns() {
        assert!(py_regex(r"abc\Z", false, false).unwrap().is_match("xabc"));
        assert!(py_regex(r"(?<=a)b", false, false).is_err());
        assert!(py_regex(r"^x$", true, false).unwrap().is_match("a\nx\nb"));
        assert!(
            attrs_msg(true, "line added", true).1
                == "line added and ownership, perms or SE linux context changed"
        );
    }
}
