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
    /// Must be given (Ansible's `required=True`: present, even if null).
    pub required: bool,
    /// The values allowed, in Ansible's order (it prints them as written).
    pub choices: &'static [&'static str],
}

impl Param {
    pub const fn new(name: &'static str, ty: Type) -> Param {
        Param {
            name,
            aliases: &[],
            ty,
            listed: true,
            required: false,
            choices: &[],
        }
    }
    pub const fn aliased(name: &'static str, aliases: &'static [&'static str], ty: Type) -> Param {
        Param {
            name,
            aliases,
            ty,
            listed: true,
            required: false,
            choices: &[],
        }
    }
    /// An option of the action plugin in front of the module.
    pub const fn action(name: &'static str, ty: Type) -> Param {
        Param {
            name,
            aliases: &[],
            ty,
            listed: false,
            required: false,
            choices: &[],
        }
    }
    pub const fn required(mut self) -> Param {
        self.required = true;
        self
    }
    pub const fn choices(mut self, choices: &'static [&'static str]) -> Param {
        self.choices = choices;
        self
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
    /// Groups of which at most one may be given (`mutually_exclusive`).
    pub mutually_exclusive: &'static [&'static [&'static str]],
    /// Groups of which at least one must be given (`required_one_of`).
    pub required_one_of: &'static [&'static [&'static str]],
    /// The action plugin's own checks, made before the module sees the
    /// arguments (copy's "dest is required"), with its wording.
    pub action_check: Option<fn(&Known) -> Option<String>>,
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
            mutually_exclusive: &[],
            required_one_of: &[],
            action_check: None,
        }
    }

    /// Each parameter once, in spec order (an earlier group's wins).
    fn each_param(&self) -> Vec<&'static Param> {
        let mut out: Vec<&'static Param> = Vec::new();
        for p in self.params.iter().flat_map(|g| g.iter()) {
            if !out.iter().any(|q| q.name == p.name) {
                out.push(p);
            }
        }
        out
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

/// Check a module's rendered arguments as Ansible's module does before it
/// runs (`name` as the task wrote it; the spec may override it): the action
/// plugin's checks, then the spec's, unknown names last.
pub fn check_args(spec: &ArgSpec, name: &str, args: &Args) -> Result<(), ModResult> {
    let known = Known::rendered(spec, args);
    if let Err(e) = checks(&known) {
        return Err(failed(e.message));
    }
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
    /// The argument as written; empty when the error is about the task as a
    /// whole (a missing argument).
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

/// A string that is one template as a whole (Ansible's
/// `is_possibly_all_template`): free-form text like this renders to the
/// arguments themselves instead of being split as `k=v` text.
pub fn is_all_template(s: &str) -> bool {
    s.starts_with("#jinja2:")
        || (["{{", "{%", "{#"].iter().any(|m| s.starts_with(m))
            && ["}}", "%}", "#}"].iter().any(|m| s.ends_with(m)))
}

/// Whether an argument is there, as far as can be told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    Yes,
    No,
    /// Before run time: a template may omit it, or a whole-args template
    /// may bring it.
    Maybe,
}

/// What is known of a task's arguments when they are checked: everything
/// once rendered; before that, templated (or `!vault`) values are unknown,
/// a value that may render to `omit` may vanish, and an `args:` template
/// may add any name.
pub struct Known<'a> {
    spec: &'a ArgSpec,
    args: &'a Args,
    rendered: bool,
    /// A whole-args template will add names only known at run time.
    open_ended: bool,
    opaque: &'a [String],
}

impl<'a> Known<'a> {
    pub fn rendered(spec: &'a ArgSpec, args: &'a Args) -> Known<'a> {
        Known {
            spec,
            args,
            rendered: true,
            open_ended: false,
            opaque: &[],
        }
    }

    /// Arguments as written, before any templating.
    pub fn literal(
        spec: &'a ArgSpec,
        args: &'a Args,
        open_ended: bool,
        opaque: &'a [String],
    ) -> Known<'a> {
        Known {
            spec,
            args,
            rendered: false,
            open_ended,
            opaque,
        }
    }

    /// The argument that sets option `name`, as written: the option or one
    /// of its aliases (Ansible copies an alias over the option, so the last
    /// alias given wins).
    fn entry(&self, name: &str) -> Option<(&'a str, &'a Value)> {
        let mut found = self.args.get_key_value(name);
        if let Some(p) = self.spec.find(name).filter(|p| p.name == name) {
            for a in p.aliases {
                if let Some(e) = self.args.get_key_value(*a) {
                    found = Some(e);
                }
            }
        }
        found.map(|(k, v)| (k.as_str(), v))
    }

    /// Whether the value of the argument written as `key` is known now.
    fn value_known(&self, key: &str, v: &Value) -> bool {
        self.rendered
            || !(matches!(v, Value::String(s) if is_templated(s))
                || self.opaque.iter().any(|o| o == key))
    }

    pub fn presence(&self, name: &str) -> Presence {
        match self.entry(name) {
            Some((_, Value::String(s))) if !self.rendered && may_omit(s) => Presence::Maybe,
            Some(_) => Presence::Yes,
            None if self.open_ended => Presence::Maybe,
            None => Presence::No,
        }
    }

    /// The option's value, when it is given and known.
    pub fn value(&self, name: &str) -> Option<&'a Value> {
        self.entry(name)
            .filter(|(k, v)| self.value_known(k, v))
            .map(|(_, v)| v)
    }

    /// Python's truth of the option's value (false when absent), if known.
    pub fn truthy(&self, name: &str) -> Option<bool> {
        match self.presence(name) {
            Presence::No => Some(false),
            Presence::Maybe => None,
            Presence::Yes => self.value(name).map(|v| match v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                Value::Object(m) => !m.is_empty(),
            }),
        }
    }

    /// Whether the option is given and not null, if known.
    pub fn given(&self, name: &str) -> Option<bool> {
        match self.presence(name) {
            Presence::No => Some(false),
            Presence::Maybe => None,
            Presence::Yes => self.value(name).map(|v| !v.is_null()),
        }
    }
}

/// A templated value that may render to `omit` (and so not be given).
fn may_omit(s: &str) -> bool {
    is_templated(s) && s.contains("omit")
}

/// The spec's checks in the order Ansible makes them (the action plugin's,
/// then `mutually_exclusive`, `required`, types, `choices`,
/// `required_one_of`; the first failing one is reported), on what is known.
fn checks(k: &Known) -> Result<(), ArgError> {
    let spec = k.spec;
    let whole = |message: String| ArgError {
        key: String::new(),
        at_value: false,
        message,
    };
    if let Some(message) = spec.action_check.and_then(|f| f(k)) {
        return Err(whole(message));
    }
    let violated: Vec<&[&str]> = spec
        .mutually_exclusive
        .iter()
        .copied()
        .filter(|g| g.iter().filter(|n| k.presence(n) == Presence::Yes).count() > 1)
        .collect();
    if let Some(group) = violated.first() {
        // Point at the group's argument written last.
        let key = group
            .iter()
            .filter_map(|n| k.entry(n))
            .filter_map(|(key, _)| k.args.get_index_of(key).map(|i| (i, key)))
            .max()
            .map(|(_, key)| key.to_string())
            .unwrap_or_default();
        let groups: Vec<String> = violated.iter().map(|g| g.join("|")).collect();
        return Err(ArgError {
            key,
            at_value: false,
            message: format!("parameters are mutually exclusive: {}", groups.join(", ")),
        });
    }
    let params = spec.each_param();
    let mut missing: Vec<&str> = params
        .iter()
        .filter(|p| p.required && k.presence(p.name) == Presence::No)
        .map(|p| p.name)
        .collect();
    if !missing.is_empty() {
        missing.sort_unstable();
        return Err(whole(format!(
            "missing required arguments: {}",
            missing.join(", ")
        )));
    }
    for p in &params {
        let Some((key, v)) = k.entry(p.name) else {
            continue;
        };
        if !k.value_known(key, v) {
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
                key: key.to_string(),
                at_value: true,
                message: format!(
                    "argument '{}' is of type {} and we were unable to convert to {wanted}: {e}",
                    p.name,
                    type_name(v)
                ),
            });
        }
    }
    for p in params.iter().filter(|p| !p.choices.is_empty()) {
        let Some(v) = k.value(p.name) else { continue };
        if let Some(got) = off_choices(p.choices, v) {
            let key = k.entry(p.name).map(|(key, _)| key).unwrap_or(p.name);
            return Err(ArgError {
                key: key.to_string(),
                at_value: true,
                message: format!(
                    "value of {} must be one of: {}, got: {got}",
                    p.name,
                    p.choices.join(", ")
                ),
            });
        }
    }
    for group in spec.required_one_of {
        if group.iter().all(|n| k.presence(n) == Presence::No) {
            return Err(whole(format!(
                "one of the following is required: {}",
                group.join(", ")
            )));
        }
    }
    Ok(())
}

/// The value as Ansible shows it when it is not one of `choices` (after
/// the conversion to str), or `None` when it is one of them.
fn off_choices(choices: &[&str], v: &Value) -> Option<String> {
    let got = py_str(v);
    if choices.contains(&got.as_str()) {
        return None;
    }
    // Ansible maps a YAML boolean back when exactly one choice spells it.
    let spelled = |set: &[&str]| choices.iter().filter(|c| set.contains(c)).count() == 1;
    match got.as_str() {
        "True" if spelled(&BOOLEANS[..6]) => None,
        "False" if spelled(&BOOLEANS[6..]) => None,
        _ => Some(got),
    }
}

/// Check a task's literal arguments against `spec` before anything runs:
/// reserved names, free-form text where none is taken, then the spec's
/// checks as far as the written values tell, then unknown names (the order
/// Ansible finds them in). `action` is as written, `fqcn` as Ansible
/// resolves it; `opaque` names arguments whose value is not known yet
/// (`!vault`); `open_ended` says an `args:` template may add arguments.
pub fn check(
    spec: &ArgSpec,
    action: &str,
    fqcn: &str,
    args: &Args,
    opaque: &[String],
    open_ended: bool,
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
    if !spec.raw_params {
        if let Some(Value::String(s)) = args.get("_raw_params") {
            if !s.is_empty() && !is_all_template(s) {
                return Err(ArgError {
                    key: "_raw_params".into(),
                    at_value: true,
                    message: format!("Action '{fqcn}' does not support raw params."),
                });
            }
        }
    }
    checks(&Known::literal(spec, args, open_ended, opaque))?;
    let mut unknown = spec.unknown(args);
    // Free-form text that is one template renders to arguments (the parser
    // normally takes it out; this is for callers that do not).
    unknown.retain(|k| {
        *k != "_raw_params"
            || spec.raw_params
            || !matches!(args.get(*k), Some(Value::String(s)) if is_all_template(s))
    });
    // An argument whose template may render to `omit` is dropped before the
    // module sees it (`x: "{{ y | default(omit) }}"`).
    unknown.retain(|k| !matches!(args.get(*k), Some(Value::String(s)) if may_omit(s)));
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
pub fn type_name(v: &Value) -> &'static str {
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
        check(&DEMO, "demo", "ansible.builtin.demo", &args(v), &[], false)
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
        assert!(check(&DEMO, "demo", "x", &a, &["recurse".to_string()], false).is_ok());
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
        let e = check(&DEMO, "demo", "x", &a, &[], false).unwrap_err();
        assert_eq!(e.key, "recurse");
        let a = crate::kv::parse_kv("path=/x destt=/y", false);
        assert_eq!(
            check(&DEMO, "demo", "x", &a, &[], false).unwrap_err().key,
            "destt"
        );
        assert!(check(
            &DEMO,
            "demo",
            "x",
            &crate::kv::parse_kv("dest=/x count=3", false),
            &[],
            false
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
            false,
        )
        .unwrap_err();
        assert_eq!(e.message, "Invalid options for fail: a,b");
        assert_eq!(e.key, "b");
        const OPEN: ArgSpec = ArgSpec {
            open: true,
            ..ArgSpec::module(&[&[Param::new("cacheable", Type::Bool)]])
        };
        assert!(check(
            &OPEN,
            "set_fact",
            "x",
            &args(json!({"anything": 1})),
            &[],
            false
        )
        .is_ok());
        assert!(check(
            &OPEN,
            "set_fact",
            "x",
            &args(json!({"cacheable": "maybe"})),
            &[],
            false
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

    const CHECKED_PARAMS: &[Param] = &[
        Param::aliased("path", &["dest"], Type::Path).required(),
        Param::new("state", Type::Str).choices(&["absent", "present"]),
        Param::new("mode", Type::Str).choices(&["yes", "off"]),
        Param::new("flag", Type::Bool),
        Param::new("a", Type::Str),
        Param::new("b", Type::Str),
        Param::new("c", Type::Str),
        Param::new("x", Type::Str),
        Param::new("y", Type::Str),
    ];
    const CHECKED: ArgSpec = ArgSpec {
        mutually_exclusive: &[&["a", "b"], &["b", "c"]],
        required_one_of: &[&["x", "y"]],
        ..ArgSpec::module(&[CHECKED_PARAMS])
    };

    fn literal(v: Value) -> Result<(), ArgError> {
        check(&CHECKED, "t", "ansible.builtin.t", &args(v), &[], false)
    }

    fn message(v: Value) -> String {
        literal(v).unwrap_err().message
    }

    #[test]
    fn choices_use_ansibles_wording_and_order() {
        let e = literal(json!({"path": "/p", "x": 1, "state": "presnt"})).unwrap_err();
        assert_eq!(
            e.message,
            "value of state must be one of: absent, present, got: presnt"
        );
        assert_eq!((e.key.as_str(), e.at_value), ("state", true));
        // Values are compared after the conversion to str.
        assert!(message(json!({"path": "/p", "x": 1, "state": true})).ends_with("got: True"));
        assert!(message(json!({"path": "/p", "x": 1, "state": null})).ends_with("got: None"));
        assert!(message(json!({"path": "/p", "x": 1, "state": 5})).ends_with("got: 5"));
        // A YAML boolean maps back to the one choice that spells it.
        assert!(literal(json!({"path": "/p", "x": 1, "mode": true})).is_ok());
        assert!(literal(json!({"path": "/p", "x": 1, "mode": false})).is_ok());
        // A templated value is judged at run time.
        assert!(literal(json!({"path": "/p", "x": 1, "state": "{{ s }}"})).is_ok());
        let r = check_args(
            &CHECKED,
            "t",
            &args(json!({"path": "/p", "x": 1, "state": "gone"})),
        );
        assert_eq!(
            r.unwrap_err()["msg"],
            json!("value of state must be one of: absent, present, got: gone")
        );
    }

    #[test]
    fn required_and_groups() {
        let e = literal(json!({"x": 1})).unwrap_err();
        assert_eq!(e.message, "missing required arguments: path");
        assert_eq!(e.key, "", "about the task, not an argument");
        // An alias gives the option; a null still counts as given.
        assert!(literal(json!({"dest": "/p", "x": 1})).is_ok());
        assert!(literal(json!({"path": null, "x": 1})).is_ok());
        assert_eq!(
            message(json!({"path": "/p"})),
            "one of the following is required: x, y"
        );
        let e = literal(json!({"path": "/p", "x": 1, "c": 1, "b": 1, "a": 1})).unwrap_err();
        assert_eq!(e.message, "parameters are mutually exclusive: a|b, b|c");
        assert_eq!(e.key, "a", "the first group's argument written last");
        // A value that may be omitted neither fills nor breaks a group.
        assert!(
            literal(json!({"path": "/p", "x": 1, "a": 1, "b": "{{ b | default(omit) }}"})).is_ok()
        );
        assert!(literal(json!({"path": "{{ p | default(omit) }}", "x": 1})).is_ok());
        // An `args:` template may bring what is missing.
        let a = args(json!({"state": "absent"}));
        assert!(check(&CHECKED, "t", "x", &a, &[], true).is_ok());
        let a = args(json!({"state": "gone"}));
        assert!(check(&CHECKED, "t", "x", &a, &[], true).is_err());
    }

    #[test]
    fn checks_come_in_ansibles_order() {
        // Unknown names are reported last, after everything else.
        assert!(message(json!({"bogus": 1, "state": "x"})).starts_with("missing required"));
        assert!(
            message(json!({"bogus": 1, "path": "/p", "x": 1, "state": "x"}))
                .starts_with("value of state")
        );
        // mutually_exclusive, required, types, choices, required_one_of.
        assert!(message(json!({"a": 1, "b": 2})).starts_with("parameters are mutually"));
        assert!(message(json!({"flag": "maybe", "state": "x"})).starts_with("missing required"));
        assert!(
            message(json!({"path": "/p", "flag": "maybe", "state": "x"}))
                .starts_with("argument 'flag'")
        );
        assert!(message(json!({"path": "/p", "state": "x"})).starts_with("value of state"));
        assert!(message(json!({"path": "/p", "bogus": 1})).starts_with("one of the following"));
        assert!(message(json!({"path": "/p", "x": 1, "bogus": 1})).starts_with("Unsupported"));
    }

    #[test]
    fn copy_reports_its_action_checks_first() {
        let copy = &crate::modules::copy::SPEC;
        let m = |v: Value| {
            check(copy, "copy", "ansible.builtin.copy", &args(v), &[], false)
                .err()
                .map(|e| e.message)
        };
        let s = |t: &str| Some(t.to_string());
        assert_eq!(
            m(json!({"content": "x", "bogus": 1})),
            s("dest is required")
        );
        assert_eq!(m(json!({"dest": "/d"})), s("src (or content) is required"));
        assert_eq!(
            m(json!({"src": "", "dest": "/d"})),
            s("src (or content) is required")
        );
        assert_eq!(
            m(json!({"content": null, "dest": "/d"})),
            s("src (or content) is required")
        );
        assert_eq!(
            m(json!({"src": "a", "content": "b", "dest": "/d"})),
            s("src and content are mutually exclusive")
        );
        assert_eq!(m(json!({"src": "{{ s }}", "dest": "/d"})), None);
        assert_eq!(m(json!({"content": "x", "dest": "{{ d }}"})), None);
    }

    #[test]
    fn all_template_text() {
        for t in [
            "{{ x }}",
            "{{ a }} {{ b }}",
            "{% if x %}{{ y }}{% endif %}",
            "#jinja2:x\n{{ y }}",
        ] {
            assert!(is_all_template(t), "{t}");
        }
        for t in ["x {{ y }}", "{{ y }} x", "path={{ p }}", ""] {
            assert!(!is_all_template(t), "{t}");
        }
        // Text around a template is not arguments: no raw params there.
        assert!(run(json!({"_raw_params": "x {{ y }}"})).is_err());
    }
}
