//! `ping`: prove that a shell runs on the host (Ansible's ping proves Python;
//! ferry needs only `sh`).

use serde_json::Value;

use super::spec::{check_args, ArgSpec, Param, Type};
use super::{arg_str, failed, Args, ModResult, ModuleCtx};
use crate::connection::{ConnError, ExecRequest};

pub const SPEC: ArgSpec = ArgSpec::module(&[&[Param::new("data", Type::Str)]]);

pub async fn run(ctx: &ModuleCtx<'_>, args: &Args) -> Result<ModResult, ConnError> {
    if let Err(r) = check_args(&SPEC, "ping", args) {
        return Ok(r);
    }
    let data = arg_str(args, "data").unwrap_or_else(|| "pong".to_string());
    let out = ctx.conn.exec(&ExecRequest::new("echo pong")).await?;
    if out.rc != 0 || out.stdout != b"pong\n" {
        return Ok(failed(format!(
            "the host's shell did not answer: rc={} stderr={}",
            out.rc,
            String::from_utf8_lossy(&out.stderr).trim_end()
        )));
    }
    // Ansible's ping raises on data=crash, for testing failure handling.
    if data == "crash" {
        let mut r = failed("boom");
        r.insert("exception".into(), Value::String("Exception: boom".into()));
        return Ok(r);
    }
    let mut r = ModResult::new();
    r.insert("changed".into(), Value::Bool(false));
    r.insert("ping".into(), Value::String(data));
    Ok(r)
}
