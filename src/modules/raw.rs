//! `raw`: send the text to the host's login shell as it is, nothing added.

use std::time::Instant;

use serde_json::Value;

use super::spec::{ArgSpec, Param, Type};
use super::{arg_str, delta, failed, split_lines, Args, ModResult, ModuleCtx};
use crate::connection::{ConnError, ExecRequest};

/// Ansible's raw action reads `_raw_params` and `executable` and checks
/// nothing else: other names are ignored, not refused.
pub const SPEC: ArgSpec = ArgSpec {
    raw_params: true,
    command_line: true,
    open: true,
    ..ArgSpec::module(&[&[
        Param::new("_raw_params", Type::Str),
        Param::new("executable", Type::Str),
    ]])
};

pub async fn run(ctx: &ModuleCtx<'_>, args: &Args) -> Result<ModResult, ConnError> {
    let Some(text) = arg_str(args, "_raw_params").filter(|s| !s.trim().is_empty()) else {
        return Ok(failed("no command given"));
    };
    if ctx.check_mode {
        let mut r = failed("check mode not supported for raw");
        r.insert("failed".into(), Value::Bool(false));
        r.insert("skipped".into(), Value::Bool(true));
        return Ok(r);
    }
    let command = match arg_str(args, "executable") {
        Some(exe) => format!(
            "exec {} -c {}",
            crate::connection::shell_quote(&exe),
            crate::connection::shell_quote(&text)
        ),
        None => text,
    };
    let start = Instant::now();
    let out = ctx
        .conn
        .exec(&ExecRequest {
            command,
            env: ctx.env.clone(),
            ..Default::default()
        })
        .await?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut r = ModResult::new();
    r.insert("changed".into(), Value::Bool(true));
    r.insert("delta".into(), Value::String(delta(start.elapsed())));
    r.insert("rc".into(), Value::from(out.rc));
    r.insert("stderr".into(), Value::String(stderr.clone()));
    r.insert("stderr_lines".into(), split_lines(&stderr));
    r.insert("stdout".into(), Value::String(stdout.clone()));
    r.insert("stdout_lines".into(), split_lines(&stdout));
    if out.rc != 0 {
        r.insert("failed".into(), Value::Bool(true));
        r.insert("msg".into(), Value::String("non-zero return code".into()));
    }
    Ok(r)
}
