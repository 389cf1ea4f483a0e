//! `command` and `shell`: run a command line on the host in one round trip,
//! with `chdir`, `creates`/`removes` (globs) and `stdin` checked in the same exec.

use std::time::{Instant, SystemTime};

use serde_json::Value;

use super::spec::{check_args, ArgSpec, Param, Type};
use super::{arg_bool, arg_str, delta, failed, split_lines, timestamp};
use super::{Args, ModResult, ModuleCtx};
use crate::connection::{shell_quote, ConnError, ExecRequest};
use crate::kv::shlex_split;

/// What `command` and `shell` share (the command module's spec in 2.19; its
/// action plugin runs `ansible.legacy.command`, so errors name that).
const PARAMS: &[Param] = &[
    Param::new("_raw_params", Type::Str),
    Param::new("_uses_shell", Type::Bool),
    Param::new("cmd", Type::Str),
    Param::new("argv", Type::List),
    Param::new("chdir", Type::Path),
    Param::new("executable", Type::Str),
    Param::new("creates", Type::Path),
    Param::new("removes", Type::Path),
    Param::new("stdin", Type::Str),
    Param::new("stdin_add_newline", Type::Bool),
    Param::new("strip_empty_ends", Type::Bool),
];

pub const SPEC: ArgSpec = ArgSpec {
    report_as: Some("ansible.legacy.command"),
    raw_params: true,
    command_line: true,
    required_one_of: &[&["_raw_params", "cmd", "argv"]],
    mutually_exclusive: &[&["_raw_params", "cmd", "argv"]],
    ..ArgSpec::module(&[PARAMS, &[Param::new("expand_argument_vars", Type::Bool)]])
};

/// `shell` refuses `expand_argument_vars` (its action plugin says so).
pub const SHELL_SPEC: ArgSpec = ArgSpec {
    params: &[PARAMS],
    ..SPEC
};

pub async fn run(ctx: &ModuleCtx<'_>, args: &Args, shell: bool) -> Result<ModResult, ConnError> {
    let (name, spec) = if shell {
        ("shell", &SHELL_SPEC)
    } else {
        ("command", &SPEC)
    };
    if let Err(r) = check_args(spec, name, args) {
        return Ok(r);
    }
    match plan(ctx, args, shell) {
        Ok(p) => execute(ctx, p).await,
        Err(r) => Ok(r),
    }
}

/// What to run and how to report it.
struct Plan {
    /// The program a `command` runs (checked for existence first).
    program: Option<String>,
    raw_text: Option<String>,
    script: String,
    stdin: Option<Vec<u8>>,
    nonce: String,
    cmd: Value,
    strip: bool,
    creates: Option<String>,
    removes: Option<String>,
    chdir: Option<String>,
}

fn plan(ctx: &ModuleCtx<'_>, args: &Args, shell: bool) -> Result<Plan, ModResult> {
    let raw = arg_str(args, "_raw_params").or_else(|| arg_str(args, "cmd"));
    let argv: Option<Vec<String>> = match args.get("argv") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
        ),
        Some(_) => return Err(failed("argument 'argv' is not a list")),
    };
    let uses_shell = shell || arg_bool(args, "_uses_shell", false)?;
    let raw_text = raw.clone();
    let mut program: Option<String> = None;
    let (command_line, cmd_value) = match (raw, argv) {
        (Some(r), _) if r.trim().is_empty() => return Err(failed("no command given")),
        (None, None) => return Err(failed("no command given")),
        (Some(r), None) if uses_shell => {
            let exe = arg_str(args, "executable").unwrap_or_else(|| "/bin/sh".to_string());
            (
                format!("exec {} -c {}", shell_quote(&exe), shell_quote(&r)),
                Value::String(r),
            )
        }
        (Some(r), None) => {
            let words =
                shlex_split(&r).map_err(|e| failed(format!("cannot parse command: {e}")))?;
            let expand = arg_bool(args, "expand_argument_vars", true)?;
            program = words.first().cloned();
            (exec_argv(&words, expand), words_value(&words))
        }
        (None, Some(words)) => {
            if words.is_empty() {
                return Err(failed("no command given"));
            }
            let expand = arg_bool(args, "expand_argument_vars", true)?;
            program = words.first().cloned();
            (exec_argv(&words, expand), words_value(&words))
        }
        (Some(_), Some(_)) => return Err(failed("only command or argv can be given, not both")),
    };
    let nonce = nonce();
    let chdir = arg_str(args, "chdir");
    let creates = arg_str(args, "creates");
    let removes = arg_str(args, "removes");
    let mut script = String::new();
    if let Some(dir) = &chdir {
        script.push_str(&format!(
            "cd {} 2>/dev/null || {{ echo {nonce}:chdir; exit 0; }}\n",
            shell_path(dir)
        ));
    }
    if let Some(pat) = &creates {
        script.push_str(&format!(
            "for f in {}; do if [ -e \"$f\" ] || [ -L \"$f\" ]; then echo {nonce}:creates; exit 0; fi; done\n",
            shell_glob(pat)
        ));
    }
    if let Some(pat) = &removes {
        script.push_str(&format!(
            "ferry_found=; for f in {}; do if [ -e \"$f\" ] || [ -L \"$f\" ]; then ferry_found=1; break; fi; done\n\
             [ -n \"$ferry_found\" ] || {{ echo {nonce}:removes; exit 0; }}\n",
            shell_glob(pat)
        ));
    }
    if ctx.check_mode {
        script.push_str(&format!("echo {nonce}:check\n"));
    } else {
        // A missing program fails without running anything, as Ansible's
        // command module does (not the shell's rc 127).
        if let Some(p) = &program {
            script.push_str(&format!(
                "command -v -- {} >/dev/null 2>&1 || {{ echo {nonce}:notfound; exit 0; }}\n",
                expanding_word(p)
            ));
        }
        script.push_str(&command_line);
    }
    let stdin = arg_str(args, "stdin").map(|mut s| {
        if arg_bool(args, "stdin_add_newline", true).unwrap_or(true) {
            s.push('\n');
        }
        s.into_bytes()
    });
    Ok(Plan {
        program,
        raw_text,
        script,
        stdin,
        nonce,
        cmd: cmd_value,
        strip: arg_bool(args, "strip_empty_ends", true)?,
        creates,
        removes,
        chdir,
    })
}

async fn execute(ctx: &ModuleCtx<'_>, p: Plan) -> Result<ModResult, ConnError> {
    let start_wall = SystemTime::now();
    let start = Instant::now();
    let out = ctx
        .conn
        .exec(&ExecRequest {
            command: p.script,
            stdin: p.stdin,
            env: ctx.env.clone(),
            timeout: None,
            stdin_from_var: false,
            lib: None,
        })
        .await?;
    let elapsed = start.elapsed();
    let mut stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut r = ModResult::new();
    // The nonce is unguessable by the command, so only our own checks print it.
    if stdout.trim_end() == format!("{}:notfound", p.nonce) {
        let prog = p.program.clone().unwrap_or_default();
        let mut r = failed("Error executing command.");
        r.insert(
            "cmd".into(),
            p.raw_text
                .clone()
                .map(Value::String)
                .unwrap_or(p.cmd.clone()),
        );
        r.insert("rc".into(), Value::from(2));
        for k in ["stdout", "stderr"] {
            r.insert(k.into(), Value::String(String::new()));
            r.insert(format!("{k}_lines"), Value::Array(vec![]));
        }
        r.insert(
            "exception".into(),
            Value::String(format!(
                "Error executing command: [Errno 2] No such file or directory: b'{prog}'"
            )),
        );
        return Ok(r);
    }
    if let Some(reason) = stdout.trim_end().strip_prefix(&format!("{}:", p.nonce)) {
        let reason = reason.to_string();
        return Ok(skipped_result(
            &reason, &p.cmd, &p.creates, &p.removes, &p.chdir,
        ));
    }
    if p.strip {
        let keep = stdout.trim_end_matches(['\r', '\n']).len();
        stdout.truncate(keep);
        let keep = stderr.trim_end_matches(['\r', '\n']).len();
        stderr.truncate(keep);
    }
    r.insert("changed".into(), Value::Bool(true));
    r.insert("cmd".into(), p.cmd);
    r.insert("delta".into(), Value::String(delta(elapsed)));
    r.insert("end".into(), Value::String(timestamp(start_wall + elapsed)));
    r.insert(
        "msg".into(),
        Value::String(
            if out.rc == 0 {
                ""
            } else {
                "non-zero return code"
            }
            .into(),
        ),
    );
    r.insert("rc".into(), Value::from(out.rc));
    r.insert("start".into(), Value::String(timestamp(start_wall)));
    r.insert("stderr".into(), Value::String(stderr.clone()));
    r.insert("stderr_lines".into(), split_lines(&stderr));
    r.insert("stdout".into(), Value::String(stdout.clone()));
    r.insert("stdout_lines".into(), split_lines(&stdout));
    if out.rc != 0 {
        r.insert("failed".into(), Value::Bool(true));
    }
    Ok(r)
}

fn skipped_result(
    reason: &str,
    cmd: &Value,
    creates: &Option<String>,
    removes: &Option<String>,
    chdir: &Option<String>,
) -> ModResult {
    let mut r = ModResult::new();
    let (changed, msg, stdout, failed_) = match reason {
        "creates" => {
            let c = creates.clone().unwrap_or_default();
            (
                false,
                format!("Did not run command since '{c}' exists"),
                format!("skipped, since {c} exists"),
                false,
            )
        }
        "removes" => {
            let c = removes.clone().unwrap_or_default();
            (
                false,
                format!("Did not run command since '{c}' does not exist"),
                format!("skipped, since {c} does not exist"),
                false,
            )
        }
        "chdir" => {
            let d = chdir.clone().unwrap_or_default();
            (
                false,
                format!(
                    "Unable to change directory before execution: [Errno 2] No such file or directory: '{d}'"
                ),
                String::new(),
                true,
            )
        }
        // check mode: the command would run.
        _ => (
            creates.is_some() || removes.is_some(),
            "Command would have run if not in check mode".to_string(),
            String::new(),
            false,
        ),
    };
    r.insert("changed".into(), Value::Bool(changed));
    r.insert("cmd".into(), cmd.clone());
    r.insert("msg".into(), Value::String(msg));
    r.insert("rc".into(), Value::from(if failed_ { 2 } else { 0 }));
    r.insert("stdout".into(), Value::String(stdout.clone()));
    r.insert("stdout_lines".into(), split_lines(&stdout));
    r.insert("stderr".into(), Value::String(String::new()));
    r.insert("stderr_lines".into(), Value::Array(vec![]));
    if failed_ {
        r.insert("failed".into(), Value::Bool(true));
    }
    if reason == "check" && !changed {
        r.insert("skipped".into(), Value::Bool(true));
    }
    if reason == "check" {
        for k in ["delta", "end", "start"] {
            r.insert(k.into(), Value::Null);
        }
    }
    r
}

fn words_value(words: &[String]) -> Value {
    Value::Array(words.iter().cloned().map(Value::String).collect())
}

/// `exec` the argv without a shell interpreting it, except that `$VAR` and a
/// leading `~` expand as the command module's `expand_argument_vars` does.
fn exec_argv(words: &[String], expand: bool) -> String {
    let mut s = String::from("exec");
    for w in words {
        s.push(' ');
        if expand {
            s.push_str(&expanding_word(w));
        } else {
            s.push_str(&shell_quote(w));
        }
    }
    s
}

/// Quote a word so that only `$NAME`/`${NAME}` and a leading `~` expand.
fn expanding_word(w: &str) -> String {
    let (prefix, rest) = if w == "~" {
        ("\"$HOME\"", "")
    } else if let Some(r) = w.strip_prefix("~/") {
        ("\"$HOME\"/", r)
    } else {
        ("", w)
    };
    if !rest.contains('$') {
        return format!(
            "{prefix}{}",
            if rest.is_empty() && !prefix.is_empty() {
                String::new()
            } else {
                shell_quote(rest)
            }
        );
    }
    let mut out = String::from(prefix);
    out.push('"');
    for c in rest.chars() {
        if matches!(c, '"' | '\\' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A path for the host's shell with a leading `~` expanded to `$HOME`.
pub fn shell_path(p: &str) -> String {
    if p == "~" {
        "\"$HOME\"".to_string()
    } else if let Some(rest) = p.strip_prefix("~/") {
        format!("\"$HOME\"/{}", shell_quote(rest))
    } else {
        shell_quote(p)
    }
}

/// A glob for the host's shell: `*`, `?` and `[...]` stay active, everything
/// else is quoted, and a leading `~` expands.
pub fn shell_glob(p: &str) -> String {
    let (mut out, rest) = if p == "~" {
        return "\"$HOME\"".to_string();
    } else if let Some(rest) = p.strip_prefix("~/") {
        ("\"$HOME\"/".to_string(), rest)
    } else {
        (String::new(), p)
    };
    let mut literal = String::new();
    let flush = |lit: &mut String, out: &mut String| {
        if !lit.is_empty() {
            out.push_str(&shell_quote(lit));
            lit.clear();
        }
    };
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' | '?' => {
                flush(&mut literal, &mut out);
                out.push(c);
            }
            '[' => {
                if let Some(end) = chars[i + 1..].iter().position(|&x| x == ']') {
                    flush(&mut literal, &mut out);
                    let class: String = chars[i + 1..i + 1 + end].iter().collect();
                    // Inside a bracket expression only a few characters are special.
                    let safe: String = class
                        .chars()
                        .filter(|ch| {
                            ch.is_alphanumeric() || matches!(ch, '-' | '!' | '^' | '_' | '.')
                        })
                        .collect();
                    out.push('[');
                    out.push_str(&safe);
                    out.push(']');
                    i += end + 2;
                    continue;
                }
                literal.push(c);
            }
            _ => literal.push(c),
        }
        i += 1;
    }
    flush(&mut literal, &mut out);
    if out.is_empty() {
        "''".to_string()
    } else {
        out
    }
}

/// A value no command can guess, to mark our own check results on stdout.
pub(crate) fn nonce() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    format!(
        "ferry{:016x}{:016x}",
        h.finish(),
        RandomState::new().build_hasher().finish()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_quote_literals() {
        assert_eq!(shell_glob("/tmp/my dir/*.txt"), "'/tmp/my dir/'*.txt");
        assert_eq!(
            shell_glob("~/.azure/azureProfile.json"),
            "\"$HOME\"/.azure/azureProfile.json"
        );
        assert_eq!(shell_glob("/x/f[0-9]"), "/x/f[0-9]");
        assert_eq!(shell_glob("a'b"), "'a'\\''b'");
    }

    #[test]
    fn argv_expansion() {
        assert_eq!(expanding_word("~"), "\"$HOME\"");
        assert_eq!(expanding_word("~/x y"), "\"$HOME\"/'x y'");
        assert_eq!(expanding_word("$HOME/\"q\""), "\"$HOME/\\\"q\\\"\"");
        assert_eq!(expanding_word("plain"), "plain");
        assert_eq!(
            exec_argv(&["echo".into(), "a b".into()], true),
            "exec echo 'a b'"
        );
    }
}
