//! `invocation.module_args`: what an Ansible module reports it was called
//! with (`AnsibleModule.params` after argument validation): every option of
//! its argument spec, given ones converted to their type, aliases given
//! kept beside the option they name, the rest at their defaults (`null`
//! when none). The default callback shows it at -vvv; `register` drops it
//! (from the top level only).
//!
//! The specs are ansible-core 2.19's (community.general's for ini_file).
//! Controller-side actions and `raw` run no module and report none.

use serde_json::{Map, Value};

use crate::modules::ModuleId;

/// How AnsibleModule converts an option's value.
#[derive(Clone, Copy)]
enum Kind {
    /// `str` and `path`: scalars become their Python `str()`.
    Str,
    Bool,
    Int,
    /// A list; a string is split on commas.
    List,
    /// Kept as given (`mode`, `directory_mode`, `stdin`).
    Raw,
}

/// One option: name, kind, default as JSON, aliases.
type Opt = (&'static str, Kind, &'static str, &'static [&'static str]);

use Kind::{Bool, Int, List, Raw, Str};

const COMMAND: &[Opt] = &[
    ("_raw_params", Str, "null", &[]),
    ("_uses_shell", Bool, "false", &[]),
    ("cmd", Str, "null", &[]),
    ("argv", List, "null", &[]),
    ("chdir", Str, "null", &[]),
    ("executable", Str, "null", &[]),
    ("expand_argument_vars", Bool, "true", &[]),
    ("creates", Str, "null", &[]),
    ("removes", Str, "null", &[]),
    ("stdin", Raw, "null", &[]),
    ("stdin_add_newline", Bool, "true", &[]),
    ("strip_empty_ends", Bool, "true", &[]),
];

const PING: &[Opt] = &[("data", Str, "\"pong\"", &[])];

/// `FILE_COMMON_ARGUMENTS`, added by `add_file_common_args=True`.
const FILE_COMMON: &[Opt] = &[
    ("mode", Raw, "null", &[]),
    ("owner", Str, "null", &[]),
    ("group", Str, "null", &[]),
    ("seuser", Str, "null", &[]),
    ("serole", Str, "null", &[]),
    ("selevel", Str, "null", &[]),
    ("setype", Str, "null", &[]),
    ("attributes", Str, "null", &["attr"]),
    ("unsafe_writes", Bool, "false", &[]),
];

const FILE: &[Opt] = &[
    ("state", Str, "null", &[]),
    ("path", Str, "null", &["dest", "name"]),
    ("_original_basename", Str, "null", &[]),
    ("recurse", Bool, "false", &[]),
    ("force", Bool, "false", &[]),
    ("follow", Bool, "true", &[]),
    ("_diff_peek", Bool, "null", &[]),
    ("src", Str, "null", &[]),
    ("modification_time", Str, "null", &[]),
    ("modification_time_format", Str, "\"%Y%m%d%H%M.%S\"", &[]),
    ("access_time", Str, "null", &[]),
    ("access_time_format", Str, "\"%Y%m%d%H%M.%S\"", &[]),
];

const STAT: &[Opt] = &[
    ("path", Str, "null", &["dest", "name"]),
    ("follow", Bool, "false", &[]),
    ("get_checksum", Bool, "true", &[]),
    (
        "get_mime",
        Bool,
        "true",
        &["mime", "mime_type", "mime-type"],
    ),
    ("get_attributes", Bool, "true", &["attr", "attributes"]),
    (
        "checksum_algorithm",
        Str,
        "\"sha1\"",
        &["checksum", "checksum_algo"],
    ),
];

const SLURP: &[Opt] = &[("src", Str, "null", &["path"])];

const LINEINFILE: &[Opt] = &[
    ("path", Str, "null", &["dest", "destfile", "name"]),
    ("state", Str, "\"present\"", &[]),
    ("regexp", Str, "null", &["regex"]),
    ("search_string", Str, "null", &[]),
    ("line", Str, "null", &["value"]),
    ("insertafter", Str, "null", &[]),
    ("insertbefore", Str, "null", &[]),
    ("backrefs", Bool, "false", &[]),
    ("create", Bool, "false", &[]),
    ("backup", Bool, "false", &[]),
    ("firstmatch", Bool, "false", &[]),
    ("validate", Str, "null", &[]),
];

const BLOCKINFILE: &[Opt] = &[
    ("path", Str, "null", &["dest", "destfile", "name"]),
    ("state", Str, "\"present\"", &[]),
    ("marker", Str, "\"# {mark} ANSIBLE MANAGED BLOCK\"", &[]),
    ("block", Str, "\"\"", &["content"]),
    ("insertafter", Str, "null", &[]),
    ("insertbefore", Str, "null", &[]),
    ("create", Bool, "false", &[]),
    ("backup", Bool, "false", &[]),
    ("validate", Str, "null", &[]),
    ("marker_begin", Str, "\"BEGIN\"", &[]),
    ("marker_end", Str, "\"END\"", &[]),
    ("append_newline", Bool, "false", &[]),
    ("prepend_newline", Bool, "false", &[]),
];

const REPLACE: &[Opt] = &[
    ("path", Str, "null", &["dest", "destfile", "name"]),
    ("regexp", Str, "null", &[]),
    ("replace", Str, "\"\"", &[]),
    ("after", Str, "null", &[]),
    ("before", Str, "null", &[]),
    ("backup", Bool, "false", &[]),
    ("validate", Str, "null", &[]),
    ("encoding", Str, "\"utf-8\"", &[]),
];

const COPY: &[Opt] = &[
    ("src", Str, "null", &[]),
    ("_original_basename", Str, "null", &[]),
    ("content", Str, "null", &[]),
    ("dest", Str, "null", &[]),
    ("backup", Bool, "false", &[]),
    ("force", Bool, "true", &[]),
    ("validate", Str, "null", &[]),
    ("directory_mode", Raw, "null", &[]),
    ("remote_src", Bool, "false", &[]),
    ("local_follow", Bool, "null", &[]),
    ("checksum", Str, "null", &[]),
    ("follow", Bool, "false", &[]),
];

const INI_FILE: &[Opt] = &[
    ("path", Str, "null", &["dest"]),
    ("section", Str, "null", &[]),
    ("option", Str, "null", &[]),
    ("value", Str, "null", &[]),
    ("values", List, "null", &[]),
    ("backup", Bool, "false", &[]),
    ("state", Str, "\"present\"", &[]),
    ("exclusive", Bool, "true", &[]),
    ("no_extra_spaces", Bool, "false", &[]),
    ("ignore_spaces", Bool, "false", &[]),
    ("allow_no_value", Bool, "false", &[]),
    ("modify_inactive_option", Bool, "true", &[]),
    ("create", Bool, "true", &[]),
    ("follow", Bool, "false", &[]),
];

const SETUP: &[Opt] = &[
    ("gather_subset", List, "[\"all\"]", &[]),
    ("gather_timeout", Int, "10", &[]),
    ("filter", List, "[]", &[]),
    ("fact_path", Str, "\"/etc/ansible/facts.d\"", &[]),
];

/// The specs of a module: its own options, and the file options when it
/// takes them.
fn specs(module: ModuleId) -> Option<(&'static [Opt], bool)> {
    Some(match module {
        ModuleId::Command | ModuleId::Shell => (COMMAND, false),
        ModuleId::Ping => (PING, false),
        ModuleId::File => (FILE, true),
        ModuleId::Stat => (STAT, false),
        ModuleId::Slurp => (SLURP, false),
        ModuleId::Lineinfile => (LINEINFILE, true),
        ModuleId::Blockinfile => (BLOCKINFILE, true),
        ModuleId::Replace => (REPLACE, true),
        ModuleId::Copy => (COPY, true),
        ModuleId::IniFile => (INI_FILE, true),
        // raw runs no module.
        ModuleId::Raw => return None,
    })
}

/// `{"module_args": …}` for a module run with `args` (after templating);
/// `None` for `raw`.
pub fn invocation(module: ModuleId, args: &Map<String, Value>) -> Option<Value> {
    let (own, file_common) = specs(module)?;
    let mut args = args.clone();
    // The shell action runs the command module with `_uses_shell`.
    if module == ModuleId::Shell {
        args.insert("_uses_shell".into(), Value::Bool(true));
    }
    Some(wrap(params(own, file_common, &args)))
}

/// The `setup` module's invocation.
pub fn setup_invocation(args: &Map<String, Value>) -> Value {
    wrap(params(SETUP, false, args))
}

/// How `copy` (and `template`, which runs it) reports its module call:
/// the action hands the module the staged file (`src`) and its checksum in
/// place of `content`; when the destination already matched, it ran the
/// `file` module on it instead (`state: file`).
pub fn copy_invocation(
    args: &Map<String, Value>,
    result: &Map<String, Value>,
    original_basename: Option<&str>,
) -> Value {
    let changed = result.get("changed") == Some(&Value::Bool(true));
    let mut a = args.clone();
    a.remove("content");
    let basename = original_basename.map(str::to_string).or_else(|| {
        let src = a.get("src")?.as_str()?;
        let name = std::path::Path::new(src).file_name()?;
        Some(name.to_string_lossy().into_owned())
    });
    if let Some(b) = basename {
        a.insert("_original_basename".into(), Value::String(b));
    }
    if changed {
        if let Some(sum) = result.get("checksum") {
            a.insert("checksum".into(), sum.clone());
        }
        return wrap(params(COPY, true, &a));
    }
    // Options copy and file share but the file call does not get.
    a.remove("src");
    a.remove("force");
    if let Some(dest) = a.get("dest").cloned() {
        a.insert("path".into(), dest);
    }
    a.insert("state".into(), Value::String("file".into()));
    a.insert("recurse".into(), Value::Bool(false));
    wrap(params(FILE, true, &a))
}

fn wrap(module_args: Map<String, Value>) -> Value {
    let mut inv = Map::new();
    inv.insert("module_args".into(), Value::Object(module_args));
    Value::Object(inv)
}

/// `AnsibleModule.params`: given options (and the aliases they were given
/// by) converted, the others at their defaults; internal `_ansible_*` keys
/// and unknown options are not kept.
fn params(own: &[Opt], file_common: bool, args: &Map<String, Value>) -> Map<String, Value> {
    let common: &[Opt] = if file_common { FILE_COMMON } else { &[] };
    let mut out = Map::new();
    for (name, kind, default, aliases) in own.iter().chain(common) {
        let given = std::iter::once(name)
            .chain(aliases.iter())
            .find_map(|n| args.get(*n).filter(|v| !v.is_null()));
        let value = match given {
            Some(v) => convert(*kind, v),
            None => serde_json::from_str(default).unwrap_or(Value::Null),
        };
        for alias in aliases.iter().filter(|a| args.contains_key(**a)) {
            out.insert((*alias).to_string(), value.clone());
        }
        out.insert((*name).to_string(), value);
    }
    out
}

/// AnsibleModule's type conversion of a given value (a value it cannot
/// convert would have failed validation; it is kept as given).
fn convert(kind: Kind, v: &Value) -> Value {
    match (kind, v) {
        (Kind::Raw, _) => v.clone(),
        (Kind::Str, Value::String(_)) => v.clone(),
        (Kind::Str, Value::Bool(b)) => Value::String(if *b { "True" } else { "False" }.into()),
        (Kind::Str, Value::Number(n)) => Value::String(n.to_string()),
        (Kind::Str, _) => v.clone(),
        (Kind::Bool, Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "yes" | "on" | "1" | "true" | "y" | "t" | "1.0" => Value::Bool(true),
            "no" | "off" | "0" | "false" | "n" | "f" | "0.0" => Value::Bool(false),
            _ => v.clone(),
        },
        (Kind::Bool, Value::Number(n)) => match n.to_string().as_str() {
            "1" | "1.0" => Value::Bool(true),
            "0" | "0.0" => Value::Bool(false),
            _ => v.clone(),
        },
        (Kind::Bool, _) => v.clone(),
        (Kind::Int, Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| v.clone()),
        (Kind::Int, _) => v.clone(),
        (Kind::List, Value::String(s)) => Value::Array(
            s.split(',')
                .map(|p| Value::String(p.trim().to_string()))
                .collect(),
        ),
        (Kind::List, Value::Array(items)) => Value::Array(
            items
                .iter()
                .map(|i| match i {
                    Value::String(_) => i.clone(),
                    other => convert(Kind::Str, other),
                })
                .collect(),
        ),
        (Kind::List, other) => Value::Array(vec![convert(Kind::Str, other)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn command_as_ansible_reports_it() {
        let inv = invocation(ModuleId::Command, &args(json!({"_raw_params": "echo hi"})));
        assert_eq!(
            inv,
            Some(json!({"module_args": {
                "_raw_params": "echo hi", "_uses_shell": false, "argv": null, "chdir": null,
                "cmd": null, "creates": null, "executable": null, "expand_argument_vars": true,
                "removes": null, "stdin": null, "stdin_add_newline": true, "strip_empty_ends": true
            }}))
        );
        let shell = invocation(ModuleId::Shell, &args(json!({"_raw_params": "x"})));
        assert_eq!(shell.unwrap()["module_args"]["_uses_shell"], json!(true));
        assert_eq!(invocation(ModuleId::Raw, &Map::new()), None);
    }

    #[test]
    fn aliases_are_kept_and_values_converted() {
        let inv = invocation(
            ModuleId::File,
            &args(json!({"dest": "/tmp/f", "recurse": "yes", "mode": "755", "_ansible_x": 1})),
        )
        .unwrap();
        let a = &inv["module_args"];
        assert_eq!(a["path"], json!("/tmp/f"));
        assert_eq!(a["dest"], json!("/tmp/f"));
        assert_eq!(a["recurse"], json!(true));
        assert_eq!(a["mode"], json!("755"));
        assert_eq!(a["follow"], json!(true));
        assert_eq!(a["access_time_format"], json!("%Y%m%d%H%M.%S"));
        assert!(a.get("name").is_none() && a.get("_ansible_x").is_none());
        let setup = setup_invocation(&args(json!({"gather_subset": "min"})));
        assert_eq!(
            setup["module_args"],
            json!({"fact_path": "/etc/ansible/facts.d", "filter": [], "gather_subset": ["min"], "gather_timeout": 10})
        );
    }

    #[test]
    fn copy_reports_the_module_it_ran() {
        let a = args(json!({"content": "hello", "dest": "/tmp/c"}));
        let changed = copy_invocation(&a, &args(json!({"changed": true, "checksum": "abc"})), None);
        assert_eq!(changed["module_args"]["content"], Value::Null);
        assert_eq!(changed["module_args"]["checksum"], json!("abc"));
        assert_eq!(changed["module_args"]["force"], json!(true));
        let same = copy_invocation(&a, &args(json!({"changed": false})), Some("t.j2"));
        let m = &same["module_args"];
        assert_eq!(m["state"], json!("file"));
        assert_eq!(m["path"], json!("/tmp/c"));
        assert_eq!(m["dest"], json!("/tmp/c"));
        assert_eq!(m["_original_basename"], json!("t.j2"));
        assert!(m.get("content").is_none() && m.get("checksum").is_none());
    }
}
