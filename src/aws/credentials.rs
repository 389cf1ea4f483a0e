//! Where the AWS CLI and boto3 find credentials, region and endpoints, for
//! ferry's control-machine lookups:
//!
//! 1. explicit keys (lookup arguments);
//! 2. `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`
//!    (skipped when a profile is named explicitly, as botocore does);
//! 3. `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (+ `AWS_ROLE_SESSION_NAME`);
//! 4. the profile (`profile=`, else `AWS_PROFILE`, else `default`) in
//!    `~/.aws/credentials` (`AWS_SHARED_CREDENTIALS_FILE`) and `~/.aws/config`
//!    (`AWS_CONFIG_FILE`, sections `[default]` / `[profile NAME]`): static keys,
//!    or `web_identity_token_file` + `role_arn` through STS
//!    AssumeRoleWithWebIdentity.
//!
//! The instance metadata service is never asked (ferry runs on the control
//! machine, and a probe of 169.254.169.254 off EC2 only costs a timeout).
//! Not supported either: SSO, `source_profile` role chaining and
//! `credential_process` (a clear error names them), ECS container
//! credentials and HTTP(S) proxies.

use std::collections::HashMap;
use std::path::PathBuf;

use super::http::{self, Url};
use super::sigv4::uri_encode;

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets, even in debug output.
        write!(f, "Credentials({}, ****)", self.access_key_id)
    }
}

/// The environment, injectable for tests.
pub type EnvFn<'a> = &'a dyn Fn(&str) -> Option<String>;

pub fn process_env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

type Sections = HashMap<String, HashMap<String, String>>;

/// configparser-style INI as the AWS config files use it: `[section]`,
/// `key = value`; indented lines (nested service settings) are skipped.
pub fn parse_ini(text: &str) -> Sections {
    let mut out: Sections = HashMap::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            continue;
        }
        if let Some(name) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            let name = name.trim().to_string();
            out.entry(name.clone()).or_default();
            cur = Some(name);
            continue;
        }
        if let (Some(sec), Some((k, v))) = (&cur, t.split_once('=')) {
            out.entry(sec.clone())
                .or_default()
                .insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    out
}

/// The shared config and credentials files.
pub struct SharedFiles {
    pub config: Sections,
    pub credentials: Sections,
}

impl SharedFiles {
    pub fn load(env: EnvFn<'_>) -> SharedFiles {
        let home = env("HOME").map(PathBuf::from).unwrap_or_default();
        let read = |var: &str, default: &str| {
            let p = env(var)
                .map(|p| expand_home(&p, &home))
                .unwrap_or_else(|| home.join(".aws").join(default));
            std::fs::read_to_string(p)
                .map(|t| parse_ini(&t))
                .unwrap_or_default()
        };
        SharedFiles {
            config: read("AWS_CONFIG_FILE", "config"),
            credentials: read("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        }
    }

    /// The profile's settings: config file section, then credentials file
    /// section on top. `None` when neither file has it.
    pub fn profile(&self, name: &str) -> Option<HashMap<String, String>> {
        let cfg_name = if name == "default" {
            "default".to_string()
        } else {
            format!("profile {name}")
        };
        let mut found = false;
        let mut out = HashMap::new();
        if let Some(s) = self.config.get(&cfg_name) {
            found = true;
            out.extend(s.clone());
        } else if name == "default" {
            if let Some(s) = self.config.get("profile default") {
                found = true;
                out.extend(s.clone());
            }
        }
        if let Some(s) = self.credentials.get(name) {
            found = true;
            out.extend(s.clone());
        }
        found.then_some(out)
    }
}

fn expand_home(p: &str, home: &std::path::Path) -> PathBuf {
    match p.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None => PathBuf::from(p),
    }
}

/// What a client needs: credentials, region and the service's endpoint.
#[derive(Debug)]
pub struct ClientConfig {
    pub credentials: Credentials,
    pub region: String,
    pub endpoint: Url,
}

/// Lookup arguments that override the chain (amazon.aws's common options).
#[derive(Default, Debug, Clone)]
pub struct Overrides {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub session_token: Option<String>,
}

pub const NO_CREDENTIALS: &str = "Unable to locate credentials";

/// Resolve credentials, region and endpoint for `service` (e.g. `ssm`).
pub fn resolve(service: &str, o: &Overrides, env: EnvFn<'_>) -> Result<ClientConfig, String> {
    let files = SharedFiles::load(env);
    let explicit_profile = o.profile.clone().filter(|p| !p.is_empty());
    let profile_name = explicit_profile
        .clone()
        .or_else(|| env("AWS_PROFILE"))
        .or_else(|| env("AWS_DEFAULT_PROFILE"))
        .unwrap_or_else(|| "default".into());
    let profile = files.profile(&profile_name);
    // botocore: a named profile that does not exist is an error; a missing
    // `default` is just empty.
    let profile = match profile {
        Some(p) => p,
        None if profile_name == "default" => HashMap::new(),
        None => {
            return Err(format!(
                "The config profile ({profile_name}) could not be found"
            ))
        }
    };
    let pget = |k: &str| profile.get(k).filter(|v| !v.is_empty()).cloned();

    let region = o
        .region
        .clone()
        .filter(|r| !r.is_empty())
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .or_else(|| pget("region"))
        .ok_or_else(|| "You must specify a region.".to_string())?;

    let ignore_cfg_endpoints =
        env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let endpoint_for = |svc: &str, explicit: Option<String>| -> Result<Url, String> {
        let configured = if ignore_cfg_endpoints {
            None
        } else {
            env(&format!("AWS_ENDPOINT_URL_{}", svc.to_ascii_uppercase()))
                .or_else(|| env("AWS_ENDPOINT_URL"))
                .or_else(|| pget("endpoint_url"))
        };
        let url = explicit
            .filter(|e| !e.is_empty())
            .or(configured)
            .unwrap_or_else(|| format!("https://{svc}.{region}.amazonaws.com"));
        Url::parse(&url)
    };
    let endpoint = endpoint_for(service, o.endpoint.clone())?;

    // 1. explicit keys
    if let (Some(a), Some(s)) = (&o.access_key, &o.secret_key) {
        if !a.is_empty() && !s.is_empty() {
            return Ok(ClientConfig {
                credentials: Credentials {
                    access_key_id: a.clone(),
                    secret_access_key: s.clone(),
                    session_token: o.session_token.clone().filter(|t| !t.is_empty()),
                },
                region,
                endpoint,
            });
        }
    }
    let sts = || endpoint_for("sts", None);
    let done = |credentials| {
        Ok(ClientConfig {
            credentials,
            region: region.clone(),
            endpoint: endpoint.clone(),
        })
    };
    // 2. environment keys, unless a profile was named explicitly
    if explicit_profile.is_none() {
        if let (Some(a), Some(s)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            return done(Credentials {
                access_key_id: a,
                secret_access_key: s,
                session_token: env("AWS_SESSION_TOKEN").or_else(|| env("AWS_SECURITY_TOKEN")),
            });
        }
    }
    // 3. profile keys
    if let (Some(a), Some(s)) = (pget("aws_access_key_id"), pget("aws_secret_access_key")) {
        return done(Credentials {
            access_key_id: a,
            secret_access_key: s,
            session_token: pget("aws_session_token").or_else(|| pget("aws_security_token")),
        });
    }
    // 4. web identity: environment, then profile
    let web = match (env("AWS_WEB_IDENTITY_TOKEN_FILE"), env("AWS_ROLE_ARN")) {
        (Some(f), Some(r)) if explicit_profile.is_none() => {
            Some((f, r, env("AWS_ROLE_SESSION_NAME")))
        }
        _ => match (pget("web_identity_token_file"), pget("role_arn")) {
            (Some(f), Some(r)) => Some((f, r, pget("role_session_name"))),
            _ => None,
        },
    };
    if let Some((file, role, session)) = web {
        let home = env("HOME").map(PathBuf::from).unwrap_or_default();
        let path = expand_home(&file, &home);
        let token = std::fs::read_to_string(&path)
            .map_err(|e| format!("[Errno 2] {e}: '{}'", path.display()))?;
        let session = session.unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_micros())
                .unwrap_or(0);
            format!("ferry-{t}")
        });
        return done(assume_role_with_web_identity(
            &sts()?,
            &role,
            &session,
            token.trim(),
        )?);
    }
    if pget("source_profile").is_some() || pget("credential_process").is_some() {
        return Err(format!(
            "profile ({profile_name}): source_profile / credential_process are not supported by ferry; \
             use static keys or web_identity_token_file + role_arn"
        ));
    }
    // botocore also treats an explicit but absent `default` as empty and falls
    // through to the environment, which is what a CI job with keys in the
    // environment means by profile=default.
    if explicit_profile.as_deref() == Some("default") && files.profile("default").is_none() {
        if let (Some(a), Some(s)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            return done(Credentials {
                access_key_id: a,
                secret_access_key: s,
                session_token: env("AWS_SESSION_TOKEN"),
            });
        }
    }
    Err(NO_CREDENTIALS.to_string())
}

/// STS AssumeRoleWithWebIdentity (an unsigned call: the token is the proof).
pub fn assume_role_with_web_identity(
    endpoint: &Url,
    role_arn: &str,
    session_name: &str,
    token: &str,
) -> Result<Credentials, String> {
    if token.is_empty() {
        return Err(
            "Invalid length for parameter WebIdentityToken, value: 0, valid min length: 4".into(),
        );
    }
    let body = format!(
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn={}&RoleSessionName={}&WebIdentityToken={}",
        uri_encode(role_arn, false),
        uri_encode(session_name, false),
        uri_encode(token, false)
    );
    let headers = vec![(
        "Content-Type".to_string(),
        "application/x-www-form-urlencoded; charset=utf-8".to_string(),
    )];
    let r = http::send("POST", endpoint, &headers, body.as_bytes())?;
    let text = r.text();
    if r.status != 200 {
        let code = xml_tag(&text, "Code").unwrap_or_else(|| format!("HTTP {}", r.status));
        let msg = xml_tag(&text, "Message").unwrap_or_default();
        return Err(format!(
            "An error occurred ({code}) when calling the AssumeRoleWithWebIdentity operation: {msg}"
        ));
    }
    let get = |t: &str| {
        xml_tag(&text, t)
            .ok_or_else(|| format!("AssumeRoleWithWebIdentity: no {t} in the response"))
    };
    Ok(Credentials {
        access_key_id: get("AccessKeyId")?,
        secret_access_key: get("SecretAccessKey")?,
        session_token: Some(get("SessionToken")?),
    })
}

/// The text of the first `<tag>…</tag>`, XML entities decoded.
pub fn xml_tag(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(
        xml[start..end]
            .trim()
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    fn home_with(config: &str, creds: &str) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join(".aws")).unwrap();
        std::fs::write(d.path().join(".aws/config"), config).unwrap();
        std::fs::write(d.path().join(".aws/credentials"), creds).unwrap();
        d
    }

    #[test]
    fn ini() {
        let s = parse_ini("[default]\nregion = eu-west-1\ns3 =\n  addressing_style = path\n# c\n[profile x]\nk=v = w\n");
        assert_eq!(s["default"]["region"], "eu-west-1");
        assert_eq!(s["default"]["s3"], "");
        assert!(!s["default"].contains_key("addressing_style"));
        assert_eq!(s["profile x"]["k"], "v = w");
    }

    #[test]
    fn env_keys_and_region_and_endpoint() {
        let d = home_with("", "");
        let home = d.path().to_str().unwrap();
        let env = env_of(&[
            ("HOME", home),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "SECRET"),
            ("AWS_DEFAULT_REGION", "eu-central-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ]);
        let c = resolve("ssm", &Overrides::default(), &env).unwrap();
        assert_eq!(c.credentials.access_key_id, "AKID");
        assert_eq!(c.credentials.session_token, None);
        assert_eq!(c.region, "eu-central-1");
        assert_eq!(c.endpoint, Url::parse("http://127.0.0.1:5000").unwrap());
        // profile=default that exists nowhere falls back to the environment
        let o = Overrides {
            profile: Some("default".into()),
            region: Some("us-west-2".into()),
            ..Default::default()
        };
        let c = resolve("ssm", &o, &env).unwrap();
        assert_eq!(
            (c.credentials.access_key_id.as_str(), c.region.as_str()),
            ("AKID", "us-west-2")
        );
        let env2 = env_of(&[
            ("HOME", home),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "SECRET"),
            ("AWS_REGION", "ap-south-1"),
            ("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:2"),
        ]);
        let c = resolve("ssm", &Overrides::default(), &env2).unwrap();
        assert_eq!(c.endpoint.port, 1);
        let c = resolve("sts", &Overrides::default(), &env2).unwrap();
        assert_eq!(c.endpoint.port, 2);
    }

    #[test]
    fn profiles() {
        let d = home_with(
            "[default]\nregion = eu-west-1\n[profile ops]\nregion = us-east-2\nendpoint_url = http://127.0.0.1:9\n",
            "[ops]\naws_access_key_id = OPSKEY\naws_secret_access_key = OPSSECRET\naws_session_token = T\n",
        );
        let home = d.path().to_str().unwrap();
        let env = env_of(&[
            ("HOME", home),
            ("AWS_ACCESS_KEY_ID", "ENVKEY"),
            ("AWS_SECRET_ACCESS_KEY", "ENVSECRET"),
        ]);
        let o = Overrides {
            profile: Some("ops".into()),
            ..Default::default()
        };
        // an explicit profile wins over the environment's keys
        let c = resolve("ssm", &o, &env).unwrap();
        assert_eq!(c.credentials.access_key_id, "OPSKEY");
        assert_eq!(c.credentials.session_token.as_deref(), Some("T"));
        assert_eq!(c.region, "us-east-2");
        assert_eq!(c.endpoint.port, 9);
        // AWS_PROFILE selects it too, but then the environment's keys win
        let env2 = env_of(&[("HOME", home), ("AWS_PROFILE", "ops")]);
        let c = resolve("ssm", &Overrides::default(), &env2).unwrap();
        assert_eq!(c.credentials.access_key_id, "OPSKEY");
        let c = resolve("ssm", &Overrides::default(), &env).unwrap();
        assert_eq!(c.credentials.access_key_id, "ENVKEY");
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.endpoint.host, "ssm.eu-west-1.amazonaws.com");
        let o = Overrides {
            profile: Some("nope".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve("ssm", &o, &env).unwrap_err(),
            "The config profile (nope) could not be found"
        );
        let env3 = env_of(&[("HOME", home)]);
        assert_eq!(
            resolve("ssm", &Overrides::default(), &env3).unwrap_err(),
            NO_CREDENTIALS
        );
        let env4 = env_of(&[("HOME", "/nonexistent")]);
        assert_eq!(
            resolve("ssm", &Overrides::default(), &env4).unwrap_err(),
            "You must specify a region."
        );
    }

    #[test]
    fn web_identity_missing_file() {
        let d = home_with(
            "[default]\nregion = eu-west-1\nweb_identity_token_file = /nonexistent/tok\nrole_arn = arn:aws:iam::1:role/r\n",
            "",
        );
        let env = env_of(&[("HOME", d.path().to_str().unwrap())]);
        let e = resolve("ssm", &Overrides::default(), &env).unwrap_err();
        assert!(e.contains("/nonexistent/tok"), "{e}");
    }

    #[test]
    fn xml() {
        let x = "<R><Credentials><AccessKeyId>ASIA1</AccessKeyId><SessionToken>a&amp;b</SessionToken></Credentials></R>";
        assert_eq!(xml_tag(x, "AccessKeyId").unwrap(), "ASIA1");
        assert_eq!(xml_tag(x, "SessionToken").unwrap(), "a&b");
        assert_eq!(xml_tag(x, "Nope"), None);
    }
}
