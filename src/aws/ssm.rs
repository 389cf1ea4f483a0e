//! SSM GetParameter (JSON 1.1 protocol, SigV4-signed).

use serde_json::{json, Value};

use super::credentials::ClientConfig;
use super::http;
use super::sigv4::{authorization, now_amz_date, SignInput};

/// A failed call: the AWS error code (`ParameterNotFound`, …) and message.
#[derive(Debug)]
pub enum SsmError {
    Api { code: String, message: String },
    Transport(String),
}

impl std::fmt::Display for SsmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SsmError::Api { code, message } => write!(
                f,
                "An error occurred ({code}) when calling the GetParameter operation: {message}"
            ),
            SsmError::Transport(m) => f.write_str(m),
        }
    }
}

/// The value of parameter `name` (SecureStrings decrypted when `decrypt`).
pub fn get_parameter(cfg: &ClientConfig, name: &str, decrypt: bool) -> Result<String, SsmError> {
    let body = json!({"Name": name, "WithDecryption": decrypt}).to_string();
    let v = call(cfg, "GetParameter", body.as_bytes())?;
    v.pointer("/Parameter/Value")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            SsmError::Transport("GetParameter: no Parameter.Value in the response".into())
        })
}

fn call(cfg: &ClientConfig, op: &str, body: &[u8]) -> Result<Value, SsmError> {
    let date = now_amz_date();
    let mut headers = vec![
        ("host".to_string(), cfg.endpoint.host_header()),
        ("x-amz-date".to_string(), date.clone()),
        (
            "content-type".to_string(),
            "application/x-amz-json-1.1".to_string(),
        ),
        ("x-amz-target".to_string(), format!("AmazonSSM.{op}")),
    ];
    if let Some(t) = &cfg.credentials.session_token {
        headers.push(("x-amz-security-token".to_string(), t.clone()));
    }
    let (path, query) = match cfg.endpoint.path.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (cfg.endpoint.path.clone(), String::new()),
    };
    let auth = authorization(
        &SignInput {
            method: "POST",
            path: &path,
            query: &query,
            headers: &headers,
            body,
            region: &cfg.region,
            service: "ssm",
            amz_date: &date,
        },
        &cfg.credentials,
    );
    // `host` is written by the HTTP client itself.
    headers.retain(|(k, _)| k != "host");
    headers.push(("authorization".to_string(), auth));
    let r = http::send("POST", &cfg.endpoint, &headers, body).map_err(SsmError::Transport)?;
    let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    if r.status == 200 {
        return Ok(v);
    }
    let code = v
        .get("__type")
        .and_then(Value::as_str)
        .map(|t| t.rsplit('#').next().unwrap_or(t).to_string())
        .unwrap_or_else(|| format!("HTTP {}", r.status));
    let message = v
        .get("message")
        .or_else(|| v.get("Message"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Err(SsmError::Api { code, message })
}
