//! AWS on the control machine: the `amazon.aws.ssm_parameter` lookup (alias
//! `amazon.aws.aws_ssm`) over a small hand-written client: the standard
//! credential chain ([`credentials`]), SigV4 ([`sigv4`]), blocking HTTP/1.1
//! with rustls for HTTPS ([`http`]) and SSM GetParameter ([`ssm`]).

pub mod credentials;
pub mod http;
pub mod sigv4;
pub mod ssm;

use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::template::{LookupFn, Templar, TemplateError};
use credentials::Overrides;

/// Register the AWS lookups with a Templar.
pub fn register_lookups(templar: &mut Templar) {
    let f: LookupFn =
        Arc::new(|_, terms, kw| ssm_parameter_lookup(terms, kw, &credentials::process_env));
    for name in [
        "amazon.aws.ssm_parameter",
        "amazon.aws.aws_ssm",
        "aws_ssm",
        "ssm_parameter",
    ] {
        templar.register_lookup(name, f.clone());
    }
}

fn kw_str(kw: &IndexMap<String, Json>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| match kw.get(*n) {
        Some(Json::String(s)) => Some(s.clone()),
        Some(Json::Null) | None => None,
        Some(other) => Some(other.to_string()),
    })
}

fn kw_bool(kw: &IndexMap<String, Json>, name: &str, default: bool) -> bool {
    match kw.get(name) {
        Some(Json::Bool(b)) => *b,
        Some(Json::String(s)) => matches!(
            s.to_ascii_lowercase().as_str(),
            "yes" | "true" | "on" | "1" | "y" | "t"
        ),
        Some(Json::Number(n)) => n.as_f64() == Some(1.0),
        _ => default,
    }
}

fn lookup_err(msg: impl std::fmt::Display) -> TemplateError {
    TemplateError::Lookup(msg.to_string())
}

/// `lookup('amazon.aws.ssm_parameter', NAME…, profile=, region=, endpoint=,
/// access_key=, secret_key=, session_token=, decrypt=True,
/// on_missing='error'|'skip'|'warn', on_denied=…)`.
pub fn ssm_parameter_lookup(
    terms: &[Json],
    kw: &IndexMap<String, Json>,
    env: credentials::EnvFn<'_>,
) -> Result<Vec<Json>, TemplateError> {
    for unsupported in ["bypath", "recursive", "shortnames", "droppath"] {
        if kw_bool(kw, unsupported, false) {
            return Err(lookup_err(format!(
                "lookup('amazon.aws.ssm_parameter'): {unsupported}=true is not supported by ferry"
            )));
        }
    }
    let on_missing = kw_str(kw, &["on_missing"]).unwrap_or_else(|| "error".into());
    let on_denied = kw_str(kw, &["on_denied"]).unwrap_or_else(|| "error".into());
    for (opt, v) in [("on_missing", &on_missing), ("on_denied", &on_denied)] {
        if !matches!(v.as_str(), "error" | "skip" | "warn") {
            return Err(lookup_err(format!(
                "\"{opt}\" must be a string and one of \"error\", \"warn\" or \"skip\", not {v}"
            )));
        }
    }
    let o = Overrides {
        profile: kw_str(kw, &["profile", "aws_profile", "boto_profile"]),
        region: kw_str(kw, &["region", "aws_region", "ec2_region"]),
        endpoint: kw_str(kw, &["endpoint", "endpoint_url", "aws_endpoint_url"]),
        access_key: kw_str(kw, &["access_key", "aws_access_key_id", "aws_access_key"]),
        secret_key: kw_str(
            kw,
            &["secret_key", "aws_secret_access_key", "aws_secret_key"],
        ),
        session_token: kw_str(
            kw,
            &["session_token", "aws_session_token", "security_token"],
        ),
    };
    let decrypt = kw_bool(kw, "decrypt", true);
    let mut names = Vec::new();
    for t in terms {
        match t {
            Json::String(s) => names.push(s.clone()),
            Json::Array(a) => names.extend(a.iter().map(|x| match x {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            })),
            other => names.push(other.to_string()),
        }
    }
    let cfg = credentials::resolve("ssm", &o, env).map_err(|e| {
        lookup_err(format!(
            "Failed to connect to AWS for lookup('amazon.aws.ssm_parameter'): {e}"
        ))
    })?;
    let mut out = Vec::new();
    for name in names {
        match ssm::get_parameter(&cfg, &name, decrypt) {
            Ok(v) => out.push(Json::String(v)),
            Err(ssm::SsmError::Api { code, .. }) if code == "ParameterNotFound" => {
                match on_missing.as_str() {
                    "error" => {
                        return Err(lookup_err(format!(
                            "Failed to find SSM parameter {name} (ResourceNotFound)"
                        )))
                    }
                    "warn" => {
                        eprintln!("[WARNING]: Skipping, did not find SSM parameter {name}");
                        out.push(Json::Null);
                    }
                    _ => out.push(Json::Null),
                }
            }
            Err(ssm::SsmError::Api { code, .. }) if code == "AccessDeniedException" => {
                match on_denied.as_str() {
                    "error" => {
                        return Err(lookup_err(format!(
                            "Failed to access SSM parameter {name} (AccessDenied)"
                        )))
                    }
                    "warn" => {
                        eprintln!("[WARNING]: Skipping, access denied for SSM parameter {name}");
                        out.push(Json::Null);
                    }
                    _ => out.push(Json::Null),
                }
            }
            Err(e) => return Err(lookup_err(format!("SSM lookup exception: {e}"))),
        }
    }
    Ok(out)
}
