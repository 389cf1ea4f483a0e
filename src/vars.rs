//! Variables: where they come from and which wins. For now the command line's
//! extra vars (`-e`), which beat every other level.

use std::path::Path;

use indexmap::IndexMap;
use serde_json::Value;

use crate::error::Error;

pub type Vars = IndexMap<String, Value>;

/// Parse every `-e` argument in order; later ones replace earlier keys.
pub fn parse_extra_vars(args: &[String]) -> Result<Vars, Error> {
    let mut vars = Vars::new();
    for arg in args {
        for (k, v) in parse_one(arg)? {
            vars.insert(k, v);
        }
    }
    Ok(vars)
}

fn parse_one(arg: &str) -> Result<Vars, Error> {
    if let Some(path) = arg.strip_prefix('@') {
        let path = crate::config::expand_tilde(path);
        return match crate::yaml::parse_file(&path)? {
            None => Ok(Vars::new()),
            Some(node) => mapping_of(node.to_json(), &format!("@{}", path.display())),
        };
    }
    let trimmed = arg.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let node = crate::yaml::parse_str(arg, Path::new("<extra vars>"))?;
        return match node {
            None => Ok(Vars::new()),
            Some(node) => mapping_of(node.to_json(), arg),
        };
    }
    let kv = crate::kv::parse_kv(arg, false);
    if kv.contains_key("_raw_params") {
        return Err(Error::Options(format!(
            "invalid extra vars data supplied: '{arg}' could not be made into a dictionary \
             (expected key=value pairs, a JSON/YAML mapping, or @file)"
        )));
    }
    Ok(kv)
}

fn mapping_of(v: Value, what: &str) -> Result<Vars, Error> {
    match v {
        Value::Object(m) => Ok(m.into_iter().collect()),
        _ => Err(Error::Options(format!(
            "invalid extra vars data supplied: '{what}' is not a mapping"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forms_of_extra_vars() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("ev.yml");
        std::fs::write(&f, "from_file: yes\nn: 3\n").unwrap();
        let v = parse_extra_vars(&[
            "a=1 b='two words'".into(),
            r#"{"c": [1, 2], "a": 9}"#.into(),
            format!("@{}", f.display()),
        ])
        .unwrap();
        assert_eq!(v["a"], json!(9));
        assert_eq!(v["b"], json!("two words"));
        assert_eq!(v["c"], json!([1, 2]));
        assert_eq!(v["from_file"], json!(true));
        assert_eq!(v["n"], json!(3));
        assert!(parse_extra_vars(&["just words".into()]).is_err());
        assert!(parse_extra_vars(&["[1, 2]".into()]).is_err());
    }
}
