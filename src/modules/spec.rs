//! Argument specs: for each module and action, the names it accepts (with
//! aliases) and their types, as ansible-core 2.19 declares them. One table per
//! module serves both the static check that runs before a playbook starts and
//! the module's own check at run time, so the two cannot drift.
//!
//! The type checks are Ansible's `check_type_*` conversions, never stricter:
//! a value is only rejected when Ansible's module would reject it too.

use serde_json::Value;

use super::{failed, Args, ModResult};

/// How a value is converted (Ansible's `type=` in an argument spec).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// Anything converts to a string.
    Str,
    /// A string, with no conversion (debug's `var`).
    StrStrict,
    /// A string, `~` and `$VAR` expanded on the host.
    Path,
    Bool,
    /// Ansible's `check_type_int`: ints, integral floats, numeric strings.
    Int,
    /// Python's `int()` (pause's `minutes`/`seconds`): no `"1.5"`.
    PyInt,
    /// A list, or a scalar (strings are split on commas).
    List,
    /// A dict, a JSON object string, or `k=v` text.
    Dict,
    /// Anything, passed on as it is (modes, messages).
    Raw,
}

#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub ty: Type,
    /// Listed in "Supported parameters include"; false for options the
    /// controller-side action takes before the module sees the arguments.
    pub listed: bool,
}

impl Param {
    pub const fn new(name: &'static str, ty: Type) -> Param {
        Param {
            name,
            aliases: &[],
            ty,
            listed: true,
        }
    }
    pub const fn aliased(name: &'static str, aliases: &'static [&'static str], ty: Type) -> Param {
        Param {
            name,
            aliases,
            ty,
            listed: true,
        }
    }
    /// An option of the action plugin in front of the module.
    pub const fn action(name: &'static str, ty: Type) -> Param {
        Param {
            name,
            aliases: &[],
            ty,
            listed: false,
        }
    }
}

/// How Ansible words an unknown argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    /// `Unsupported parameters for (NAME) module: a. Supported parameters include: …`
    Module,
    /// `Invalid options for NAME: a` (action plugins with `_VALID_ARGS`, includes).
    InvalidOptions,
    /// `a is not a valid option in include_vars`.
    IncludeVars,
}

#[derive(Debug)]
pub struct ArgSpec {
    /// Groups of parameters, searched in order (an earlier group overrides a
    /// later one: template's own `follow` before copy's).
    pub params: &'static [&'static [Param]],
    /// The name Ansible's message uses when it is not the action as written
    /// (copy's action plugin runs `ansible.legacy.copy`).
    pub report_as: Option<&'static str>,
    pub reject: Reject,
    /// Free-form text (`_raw_params`) is accepted: Ansible's `RAW_PARAM_MODULES`.
    pub raw_params: bool,
    /// A command line (Ansible's `FREEFORM_ACTIONS`): `_ansible_*` names are
    /// left for the module to reject.
    pub command_line: bool,
    /// Any other name is accepted (set_fact's facts; raw and meta ignore extras).
    pub open: bool,
}

impl ArgSpec {
    /// A module's spec with Ansible's module wording.
    pub const fn module(params: &'static [&'static [Param]]) -> ArgSpec {
        ArgSpec {
            params,
            report_as: None,
            reject: Reject::Module,
            raw_params: false,
            command_line: false,
            open: false,
        }
    }

    /// The parameter `key` names, directly or through an alias.
    pub fn find(&self, key: &str) -> Option<&'static Param> {
        self.params
            .iter()
            .flat_map(|g| g.iter())
            .find(|p| p.name == key || p.aliases.contains(&key))
    }

    /// Every accepted name and alias (for "did you mean").
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.params
            .iter()
            .flat_map(|g| g.iter())
            .flat_map(|p| std::iter::once(p.name).chain(p.aliases.iter().copied()))
    }

    /// The names `args` uses that this spec does not accept, in written order.
    pub fn unknown<'a>(&self, args: &'a Args) -> Vec<&'a str> {
        if self.open {
            return Vec::new();
        }
        args.keys()
            .map(String::as_str)
            .filter(|k| self.find(k).is_none())
            .collect()
    }

    /// Ansible's message for unknown arguments; `name` is the action as written.
    pub fn unknown_message(&self, name: &str, unknown: &[&str]) -> String {
        let mut sorted: Vec<&str> = unknown.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        match self.reject {
            Reject::Module => format!(
                "Unsupported parameters for ({}) module: {}. Supported parameters include: {}.",
                self.report_as.unwrap_or(name),
                sorted.join(", "),
                self.supported()
            ),
            Reject::InvalidOptions => {
                format!("Invalid options for {name}: {}", sorted.join(","))
            }
            Reject::IncludeVars => format!(
                "{} is not a valid option in include_vars",
                unknown.first().copied().unwrap_or_default()
            ),
        }
    }

    /// 2.19's list: the sorted names, then every alias, sorted, in parentheses.
    fn supported(&self) -> String {
        let mut names: Vec<&str> = Vec::new();
        let mut aliases: Vec<&str> = Vec::new();
        for p in self.params.iter().flat_map(|g| g.iter()) {
            if p.listed {
                names.push(p.name);
                aliases.extend(p.aliases);
            }
        }
        names.sort_unstable();
        names.dedup();
        aliases.sort_unstable();
        aliases.dedup();
        let mut s = names.join(", ");
        if !aliases.is_empty() {
            s.push_str(&format!(" ({})", aliases.join(", ")));
        }
        s
    }
}

/// Reject arguments a module does not know, as Ansible's module does before
/// running (`name` as the task wrote it; the spec may override it).
pub fn check_args(spec: &ArgSpec, name: &str, args: &Args) -> Result<(), ModResult> {
    let unknown = spec.unknown(args);
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(failed(spec.unknown_message(name, &unknown)))
    }
}

/// What is wrong with a task's arguments, and which argument it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError {
    /// The argument as written.
    pub key: String,
    /// True when the error is about the value rather than the name.
    pub at_value: bool,
    pub message: String,
}

/// A string Ansible would template (its `is_possibly_template`, widened to
/// any start delimiter: when in doubt, the value is not checked).
pub fn is_templated(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#") || s.starts_with("#jinja2:")
}

/// Check a task's literal arguments against `spec` before anything runs:
/// reserved names, free-form text where none is taken, wrong types, then
/// unknown names (the order Ansible finds them in). `action` is as written,
/// `fqcn` as Ansible resolves it; `opaque` names arguments whose value is
/// not known yet (`!vault`): their types are not checked.
pub fn check(
    spec: &ArgSpec,
    action: &str,
    fqcn: &str,
    args: &Args,
    opaque: &[String],
) -> Result<(), ArgError> {
    if !spec.command_line {
        if let Some(k) = args.keys().find(|k| k.starts_with("_ansible_")) {
            return Err(ArgError {
                key: k.clone(),
                at_value: false,
                message: format!(
                    "Invalid parameter specified beginning with keyword '_ansible_' for action \
                     '{action}': '{k}'. The prefix '_ansible_' is reserved for internal use only."
                ),
            });
        }
    }
    // Free-form text that is all template may render to the arguments
    // (`copy: "{{ args }}"`): it is not an argument of its own then.
    let mut raw_template = false;
    if !spec.raw_params {
        if let Some(Value::String(s)) = args.get("_raw_params") {
            if is_templated(s) {
                raw_template = true;
            } else if !s.is_empty() {
                return Err(ArgError {
                    key: "_raw_params".into(),
                    at_value: true,
                    message: format!("Action '{fqcn}' does not support raw params."),
                });
            }
        }
    }
    for (k, v) in args {
        let Some(p) = spec.find(k) else { continue };
        if opaque.iter().any(|o| o == k) {
            continue;
        }
        if let Err(e) = check_type(p.ty, v) {
            // Ansible names the option, not the alias it was given as.
            let wanted = match p.ty {
                Type::PyInt => "int",
                Type::StrStrict => "_check_type_str_no_conversion",
                Type::Path => "path",
                Type::Str => "str",
                Type::Bool => "bool",
                Type::Int => "int",
                Type::List => "list",
                Type::Dict => "dict",
                Type::Raw => "raw",
            };
            return Err(ArgError {
                key: k.clone(),
                at_value: true,
                message: format!(
                    "argument '{}' is of type {} and we were unable to convert to {wanted}: {e}",
                    p.name,
                    type_name(v)
                ),
            });
        }
    }
    let mut unknown = spec.unknown(args);
    if raw_template {
        unknown.retain(|k| *k != "_raw_params");
    }
    // An argument whose template may render to `omit` is dropped before the
    // module sees it (`x: "{{ y | default(omit) }}"`).
    unknown.retain(|k| match args.get(*k) {
        Some(Value::String(s)) => !(is_templated(s) && s.contains("omit")),
        _ => true,
    });
    if let Some(first) = unknown.first() {
        let mut message = spec.unknown_message(action, &unknown);
        if let Some(s) = crate::error::closest(first, spec.names(), 2) {
            message.push_str(&format!(" Did you mean '{s}'?"));
        }
        return Err(ArgError {
            key: first.to_string(),
            at_value: false,
            message,
        });
    }
    Ok(())
}

/// Python's type name for a value (Ansible's `native_type_name`).
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Whether Ansible's conversion to `ty` accepts `v`; the error is Ansible's.
/// Templated strings and nulls are not judged (their value comes later, and
/// ferry treats a null like an omitted argument).
pub fn check_type(ty: Type, v: &Value) -> Result<(), String> {
    if let Value::String(s) = v {
        if is_templated(s) {
            return Ok(());
        }
    }
    if v.is_null() {
        return Ok(());
    }
    let class = || format!("<class '{}'>", type_name(v));
    match ty {
        Type::Str | Type::Path | Type::Raw => Ok(()),
        Type::StrStrict => match v {
            Value::String(_) => Ok(()),
            other => Err(format!(
                "'{}' is not a string and conversion is not allowed",
                py_repr(other)
            )),
        },
        Type::Bool => {
            let ok = match v {
                Value::Bool(_) => true,
                Value::String(s) => BOOLEANS.contains(&s.trim().to_lowercase().as_str()),
                Value::Number(n) => n.as_f64().is_some_and(|f| f == 0.0 || f == 1.0),
                _ => return Err(format!("{} cannot be converted to a bool", class())),
            };
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "The value '{}' is not a valid boolean. Valid booleans include: {}",
                    py_str(v),
                    VALID_BOOLEANS
                ))
            }
        }
        Type::Int => {
            let ok = match v {
                Value::Bool(_) => true,
                Value::Number(n) => n.is_i64() || n.is_u64() || n.as_f64().is_some_and(integral),
                // Python's Decimal takes non-ASCII digits too: leave those be.
                Value::String(s) if !s.is_ascii() => true,
                Value::String(s) => s.trim().replace('_', "").parse::<f64>().is_ok_and(integral),
                _ => false,
            };
            if ok {
                Ok(())
            } else {
                Err(format!("\"{}\" cannot be converted to an int", py_repr(v)))
            }
        }
        Type::PyInt => match v {
            Value::Bool(_) | Value::Number(_) => Ok(()),
            Value::String(s) if !s.is_ascii() || py_int_literal(s.trim()) => Ok(()),
            Value::String(_) => Err(format!(
                "invalid literal for int() with base 10: {}",
                py_repr(v)
            )),
            other => Err(format!(
                "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                type_name(other)
            )),
        },
        Type::List => match v {
            Value::Object(_) => Err(format!("{} cannot be converted to a list", class())),
            _ => Ok(()),
        },
        Type::Dict => match v {
            Value::Object(_) => Ok(()),
            // JSON or a Python literal: too much to judge here.
            Value::String(s) if s.starts_with('{') => Ok(()),
            Value::String(s) if s.contains('=') => {
                if kv_fields(s).iter().all(|f| f.contains('=')) {
                    Ok(())
                } else {
                    Err(
                        "unable to evaluate string in the \"key=value\" format as dictionary"
                            .into(),
                    )
                }
            }
            Value::String(_) => {
                Err("dictionary requested, could not parse JSON or key=value".into())
            }
            _ => Err(format!("{} cannot be converted to a dict", class())),
        },
    }
}

/// Ansible's `BOOLEANS` strings (compared lowercased and stripped).
const BOOLEANS: &[&str] = &[
    "y", "yes", "on", "1", "true", "t", "n", "no", "off", "0", "false", "f",
];

/// Ansible prints its set of booleans in hash order; this is one such order.
const VALID_BOOLEANS: &str =
    "'y', 'yes', 'on', '1', 'true', 't', 1, 'n', 'no', 'off', '0', 'false', 'f', 0";

fn integral(f: f64) -> bool {
    f.is_finite() && f.fract() == 0.0
}

/// Python's `int(str)` in base 10: a sign, then digits with single
/// underscores between them.
fn py_int_literal(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
}

/// `check_type_dict`'s split of `k=v` text: commas or spaces outside quotes.
fn kv_fields(s: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut buf = String::new();
    let mut quote: Option<char> = None;
    let mut escape = false;
    for c in s.trim().chars() {
        if escape {
            buf.push(c);
            escape = false;
        } else if c == '\\' {
            escape = true;
        } else if quote.is_none() && (c == '\'' || c == '"') {
            quote = Some(c);
        } else if quote == Some(c) {
            quote = None;
        } else if quote.is_none() && (c == ',' || c == ' ') {
            if !buf.is_empty() {
                fields.push(std::mem::take(&mut buf));
            }
        } else {
            buf.push(c);
        }
    }
    if !buf.is_empty() {
        fields.push(buf);
    }
    fields
}

/// Python's `str()` of a scalar, for messages.
fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

/// Python's `repr()`, for messages.
fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && integral(f) => format!("{f:.1}"),
            _ => n.to_string(),
        },
        Value::String(s) => {
            let q = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut out = String::from(q);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    c if c == q => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            out.push(q);
            out
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(py_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", py_repr(&Value::String(k.clone())), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Ansible's `FILE_COMMON_ARGUMENTS`: what every module that writes files takes.
pub const FILE_COMMON: &[Param] = &[
    Param::new("mode", Type::Raw),
    Param::new("owner", Type::Str),
    Param::new("group", Type::Str),
    Param::new("seuser", Type::Str),
    Param::new("serole", Type::Str),
    Param::new("selevel", Type::Str),
    Param::new("setype", Type::Str),
    Param::aliased("attributes", &["attr"], Type::Str),
    Param::new("unsafe_writes", Type::Bool),
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DEMO_PARAMS: &[Param] = &[
        Param::aliased("path", &["dest", "name"], Type::Path),
        Param::new("recurse", Type::Bool),
        Param::new("count", Type::Int),
        Param::new("items", Type::List),
        Param::new("opts", Type::Dict),
        Param::new("seconds", Type::PyInt),
        Param::new("var", Type::StrStrict),
        Param::action("decrypt", Type::Raw),
    ];
    const DEMO: ArgSpec = ArgSpec::module(&[DEMO_PARAMS, FILE_COMMON]);

    fn args(v: Value) -> Args {
        match v {
            Value::Object(m) => m.into_iter().collect(),
            _ => Args::new(),
        }
    }

    fn run(v: Value) -> Result<(), ArgError> {
        check(&DEMO, "demo", "ansible.builtin.demo", &args(v), &[])
    }

    #[test]
    fn unknown_names_use_ansibles_wording() {
        let e = run(json!({"path": "/x", "pathh": 1, "zzz": 2})).unwrap_err();
        assert_eq!(e.key, "pathh");
        assert!(!e.at_value);
        assert_eq!(
            e.message,
            "Unsupported parameters for (demo) module: pathh, zzz. Supported parameters \
             include: attributes, count, group, items, mode, opts, owner, path, recurse, seconds, \
             selevel, serole, setype, seuser, unsafe_writes, var (attr, dest, name). \
             Did you mean 'path'?"
        );
        // An action plugin's own option is accepted without being listed.
        assert!(run(json!({"path": "/x", "decrypt": true})).is_ok());
    }

    #[test]
    fn aliases_are_accepted() {
        assert!(run(json!({"dest": "/x", "attr": "+i"})).is_ok());
        assert!(run(json!({"name": "/x"})).is_ok());
    }

    #[test]
    fn wrong_types_are_named_by_option() {
        let e = run(json!({"path": "/x", "recurse": "maybe"})).unwrap_err();
        assert_eq!(e.key, "recurse");
        assert!(e.at_value);
        assert!(e.message.starts_with(
            "argument 'recurse' is of type str and we were unable to convert to bool: \
             The value 'maybe' is not a valid boolean. Valid booleans include: "
        ));
        let e = run(json!({"count": "abc"})).unwrap_err();
        assert_eq!(
            e.message,
            "argument 'count' is of type str and we were unable to convert to int: \
             \"'abc'\" cannot be converted to an int"
        );
        let e = run(json!({"recurse": {"a": 1}})).unwrap_err();
        assert!(e.message.contains("of type dict") && e.message.contains("<class 'dict'>"));
        let e = run(json!({"items": {"a": 1}})).unwrap_err();
        assert!(e
            .message
            .ends_with("<class 'dict'> cannot be converted to a list"));
        assert!(run(json!({"opts": 5})).is_err());
        assert!(run(json!({"opts": "a=1, b"})).is_err());
        assert!(run(json!({"opts": "plain"})).is_err());
        assert!(run(json!({"recurse": 2})).is_err());
        assert!(run(json!({"recurse": ""})).is_err());
        assert!(run(json!({"count": 5.5})).is_err());
        assert!(run(json!({"count": "5.5"})).is_err());
        assert!(run(json!({"count": [1]})).is_err());
        let e = run(json!({"seconds": "1.5"})).unwrap_err();
        assert!(e
            .message
            .ends_with("invalid literal for int() with base 10: '1.5'"));
        let e = run(json!({"var": 5})).unwrap_err();
        assert!(e
            .message
            .ends_with("'5' is not a string and conversion is not allowed"));
        // Reported under the option's name when given by alias.
        let e = run(json!({"dest": ["a"], "recurse": "x"})).unwrap_err();
        assert!(e.message.starts_with("argument 'recurse'"));
    }

    #[test]
    fn lenient_conversions_are_accepted() {
        for v in [
            json!({"recurse": "yes"}),
            json!({"recurse": " Off "}),
            json!({"recurse": "T"}),
            json!({"recurse": "n"}),
            json!({"recurse": 1}),
            json!({"recurse": 0.0}),
            json!({"recurse": true}),
            json!({"count": "5"}),
            json!({"count": " 7 "}),
            json!({"count": "5.0"}),
            json!({"count": "1e3"}),
            json!({"count": "1_000"}),
            json!({"count": 5.0}),
            json!({"count": true}),
            json!({"path": 5}),
            json!({"path": {"a": 1}}),
            json!({"owner": ["x"]}),
            json!({"mode": [1]}),
            json!({"items": "a,b"}),
            json!({"items": 3}),
            json!({"opts": "a=1 b='x y'"}),
            json!({"opts": "{\"a\": 1}"}),
            json!({"seconds": " 15 "}),
            json!({"seconds": 1.5}),
            json!({"var": "x"}),
            json!({"recurse": null, "count": null}),
        ] {
            assert_eq!(run(v.clone()), Ok(()), "{v}");
        }
    }

    #[test]
    fn templated_values_are_not_judged() {
        assert!(run(json!({"recurse": "{{ r }}", "count": "{% if x %}1{% endif %}"})).is_ok());
        assert!(run(json!({"var": "{{ 5 }}"})).is_ok());
        // A name whose value may be omitted is not judged either.
        assert!(run(json!({"path": "/x", "bogus": "{{ b | default(omit) }}"})).is_ok());
        assert!(run(json!({"path": "/x", "bogus": "{{ b }}"})).is_err());
        // Free-form text that is all template may render to the arguments.
        assert!(run(json!({"_raw_params": "{{ file_args }}"})).is_ok());
        // A value known only later (a !vault tag) is not judged.
        let a = args(json!({"recurse": "$ANSIBLE_VAULT;1.1;AES256"}));
        assert!(check(&DEMO, "demo", "x", &a, &["recurse".to_string()]).is_ok());
    }

    #[test]
    fn free_form_text_needs_a_raw_params_action() {
        let e = run(json!({"_raw_params": "/tmp/x"})).unwrap_err();
        assert_eq!(
            e.message,
            "Action 'ansible.builtin.demo' does not support raw params."
        );
        let e = run(json!({"_ansible_check_mode": true})).unwrap_err();
        assert!(e.message.contains("The prefix '_ansible_' is reserved"));
    }

    #[test]
    fn free_form_k_v_is_checked_after_splitting() {
        let a = crate::kv::parse_kv("path=/x recurse=maybe", false);
        let e = check(&DEMO, "demo", "x", &a, &[]).unwrap_err();
        assert_eq!(e.key, "recurse");
        let a = crate::kv::parse_kv("path=/x destt=/y", false);
        assert_eq!(check(&DEMO, "demo", "x", &a, &[]).unwrap_err().key, "destt");
        assert!(check(
            &DEMO,
            "demo",
            "x",
            &crate::kv::parse_kv("dest=/x count=3", false),
            &[]
        )
        .is_ok());
    }

    #[test]
    fn other_wordings() {
        const FAIL: ArgSpec = ArgSpec {
            reject: Reject::InvalidOptions,
            ..ArgSpec::module(&[&[Param::new("msg", Type::Raw)]])
        };
        let e = check(
            &FAIL,
            "fail",
            "ansible.builtin.fail",
            &args(json!({"b": 1, "a": 2})),
            &[],
        )
        .unwrap_err();
        assert_eq!(e.message, "Invalid options for fail: a,b");
        assert_eq!(e.key, "b");
        const OPEN: ArgSpec = ArgSpec {
            open: true,
            ..ArgSpec::module(&[&[Param::new("cacheable", Type::Bool)]])
        };
        assert!(check(&OPEN, "set_fact", "x", &args(json!({"anything": 1})), &[]).is_ok());
        assert!(check(
            &OPEN,
            "set_fact",
            "x",
            &args(json!({"cacheable": "maybe"})),
            &[]
        )
        .is_err());
    }

    #[test]
    fn runtime_check_names_the_module() {
        let r = check_args(&DEMO, "demo", &args(json!({"bogus": 1}))).unwrap_err();
        assert!(r["msg"]
            .as_str()
            .is_some_and(|m| m.starts_with("Unsupported parameters for (demo) module: bogus.")));
    }
}
