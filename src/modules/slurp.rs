//! `slurp`: a file's content from the host, base64-encoded, in one exec.

use serde_json::Value;

use super::spec::{check_args, ArgSpec, Param, Type};
use super::{arg_str, failed, Args, ModResult, ModuleCtx};
use crate::connection::{ConnError, ExecRequest};

pub const SPEC: ArgSpec =
    ArgSpec::module(&[&[Param::aliased("src", &["path"], Type::Path).required()]]);

pub async fn run(ctx: &ModuleCtx<'_>, args: &Args) -> Result<ModResult, ConnError> {
    if let Err(r) = check_args(&SPEC, "slurp", args) {
        return Ok(r);
    }
    let Some(src) = arg_str(args, "src").or_else(|| arg_str(args, "path")) else {
        return Ok(failed("missing required arguments: src"));
    };
    let path = super::command::shell_path(&src);
    // Exit codes tell the cases apart without a second round trip.
    let script = format!(
        "[ -e {path} ] || exit 3; [ -d {path} ] && exit 4; [ -r {path} ] || exit 5; base64 < {path} | tr -d '\\n'"
    );
    let out = ctx.conn.exec(&ExecRequest::new(script)).await?;
    let r = match out.rc {
        0 => {
            let mut r = ModResult::new();
            r.insert("changed".into(), Value::Bool(false));
            r.insert(
                "content".into(),
                Value::String(String::from_utf8_lossy(&out.stdout).into_owned()),
            );
            r.insert("encoding".into(), Value::String("base64".into()));
            r.insert("source".into(), Value::String(src));
            r
        }
        3 => failed(format!("file not found: {src}")),
        4 => failed(format!("source is a directory and must be a file: {src}")),
        5 => failed(format!("file is not readable: {src}")),
        rc => failed(format!(
            "unable to slurp file: rc={rc} {}",
            String::from_utf8_lossy(&out.stderr).trim_end()
        )),
    };
    Ok(r)
}
