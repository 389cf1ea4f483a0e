//! Modules: Rust on the control machine that turns a task's arguments into
//! POSIX-shell commands for the host and the host's answer into Ansible's
//! result keys. Nothing but `sh` and coreutils is needed on the host.
//!
//! One table ([`REGISTRY`]) maps every accepted name (short and FQCN) to a module.

pub mod blockinfile;
pub mod command;
pub mod copy;
pub mod file;
pub mod fs;
pub mod ini_file;
pub mod lineinfile;
pub mod mode;
pub mod ping;
pub mod raw;
pub mod replace;
pub mod slurp;
pub mod spec;
pub mod stat;
pub mod textedit;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::connection::{ConnError, Connection};

/// A module's arguments after parsing (free-form text sits in `_raw_params`).
pub type Args = IndexMap<String, Value>;
/// A module's result: Ansible's result keys (`changed`, `failed`, `rc`, …).
pub type ModResult = Map<String, Value>;

/// What a module may use while it runs on one host.
pub struct ModuleCtx<'a> {
    pub conn: &'a Connection,
    pub check_mode: bool,
    pub diff: bool,
    /// The task's `environment:`.
    pub env: Vec<(String, String)>,
    /// Control-side directories where `copy src=` relative paths are looked
    /// up (each as `dir/files/src`, then `dir/src`); empty means the cwd.
    pub search_paths: Vec<std::path::PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleId {
    Command,
    Shell,
    Raw,
    Ping,
    Copy,
    File,
    Stat,
    Slurp,
    Lineinfile,
    Blockinfile,
    Replace,
    IniFile,
}

/// Every accepted module name, short and fully qualified.
pub const REGISTRY: &[(&str, ModuleId)] = &[
    ("command", ModuleId::Command),
    ("ansible.builtin.command", ModuleId::Command),
    ("ansible.legacy.command", ModuleId::Command),
    ("shell", ModuleId::Shell),
    ("ansible.builtin.shell", ModuleId::Shell),
    ("ansible.legacy.shell", ModuleId::Shell),
    ("raw", ModuleId::Raw),
    ("ansible.builtin.raw", ModuleId::Raw),
    ("ansible.legacy.raw", ModuleId::Raw),
    ("ping", ModuleId::Ping),
    ("ansible.builtin.ping", ModuleId::Ping),
    ("ansible.legacy.ping", ModuleId::Ping),
    ("copy", ModuleId::Copy),
    ("ansible.builtin.copy", ModuleId::Copy),
    ("ansible.legacy.copy", ModuleId::Copy),
    ("file", ModuleId::File),
    ("ansible.builtin.file", ModuleId::File),
    ("ansible.legacy.file", ModuleId::File),
    ("stat", ModuleId::Stat),
    ("slurp", ModuleId::Slurp),
    ("ansible.builtin.slurp", ModuleId::Slurp),
    ("ansible.legacy.slurp", ModuleId::Slurp),
    ("ansible.builtin.stat", ModuleId::Stat),
    ("ansible.legacy.stat", ModuleId::Stat),
    ("lineinfile", ModuleId::Lineinfile),
    ("ansible.builtin.lineinfile", ModuleId::Lineinfile),
    ("ansible.legacy.lineinfile", ModuleId::Lineinfile),
    ("blockinfile", ModuleId::Blockinfile),
    ("ansible.builtin.blockinfile", ModuleId::Blockinfile),
    ("ansible.legacy.blockinfile", ModuleId::Blockinfile),
    ("replace", ModuleId::Replace),
    ("ansible.builtin.replace", ModuleId::Replace),
    ("ansible.legacy.replace", ModuleId::Replace),
    // Not in ansible-core: the short name is routed to community.general.
    ("ini_file", ModuleId::IniFile),
    ("community.general.ini_file", ModuleId::IniFile),
];

impl ModuleId {
    pub fn lookup(name: &str) -> Option<ModuleId> {
        REGISTRY.iter().find(|(n, _)| *n == name).map(|(_, id)| *id)
    }

    /// The module's argument spec (names, aliases, types).
    pub fn spec(self) -> &'static spec::ArgSpec {
        match self {
            ModuleId::Command => &command::SPEC,
            ModuleId::Shell => &command::SHELL_SPEC,
            ModuleId::Raw => &raw::SPEC,
            ModuleId::Ping => &ping::SPEC,
            ModuleId::Copy => &copy::SPEC,
            ModuleId::File => &file::SPEC,
            ModuleId::Stat => &stat::SPEC,
            ModuleId::Slurp => &slurp::SPEC,
            ModuleId::Lineinfile => &lineinfile::SPEC,
            ModuleId::Blockinfile => &blockinfile::SPEC,
            ModuleId::Replace => &replace::SPEC,
            ModuleId::IniFile => &ini_file::SPEC,
        }
    }

    /// Modules whose free-form text is a command line (Ansible's `check_raw`).
    pub fn takes_raw_params(self) -> bool {
        self.spec().command_line
    }

    /// Modules whose ad-hoc output is the `rc=N >>` text form, not JSON
    /// (Ansible's `MODULE_NO_JSON`).
    pub fn prints_as_text(self) -> bool {
        matches!(self, ModuleId::Command | ModuleId::Shell | ModuleId::Raw)
    }

    /// Run on one host. `Err` is a transport failure (the host is unreachable);
    /// a module failure is `Ok` with `failed: true` in the result.
    pub async fn run(self, ctx: &ModuleCtx<'_>, args: &Args) -> Result<ModResult, ConnError> {
        match self {
            ModuleId::Command => command::run(ctx, args, false).await,
            ModuleId::Shell => command::run(ctx, args, true).await,
            ModuleId::Raw => raw::run(ctx, args).await,
            ModuleId::Ping => ping::run(ctx, args).await,
            ModuleId::Copy => copy::run(ctx, args).await,
            ModuleId::File => file::run(ctx, args).await,
            ModuleId::Stat => stat::run(ctx, args).await,
            ModuleId::Slurp => slurp::run(ctx, args).await,
            ModuleId::Lineinfile => lineinfile::run(ctx, args).await,
            ModuleId::Blockinfile => blockinfile::run(ctx, args).await,
            ModuleId::Replace => replace::run(ctx, args).await,
            ModuleId::IniFile => ini_file::run(ctx, args).await,
        }
    }
}

/// The closest known module name, for "did you mean" in errors.
pub fn closest_name(name: &str) -> Option<&'static str> {
    crate::error::closest(name, REGISTRY.iter().map(|(n, _)| *n), 3)
}

/// A failed result with Ansible's `msg`.
pub fn failed(msg: impl Into<String>) -> ModResult {
    let mut r = ModResult::new();
    r.insert("changed".into(), Value::Bool(false));
    r.insert("failed".into(), Value::Bool(true));
    r.insert("msg".into(), Value::String(msg.into()));
    r
}

/// An argument as a string (Ansible converts scalars to `str` for str options).
pub fn arg_str(args: &Args, key: &str) -> Option<String> {
    match args.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_string()),
        other => Some(other.to_string()),
    }
}

/// An argument as a boolean with Ansible's spellings.
pub fn arg_bool(args: &Args, key: &str, default: bool) -> Result<bool, ModResult> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Number(n)) => Ok(n.as_f64() == Some(1.0)),
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "yes" | "on" | "1" | "true" | "y" | "t" => Ok(true),
            "no" | "off" | "0" | "false" | "n" | "f" | "" => Ok(false),
            _ => Err(failed(format!(
                "argument '{key}' is of type str and we were unable to convert to bool: \
                 The value '{s}' is not a valid boolean."
            ))),
        },
        Some(other) => Err(failed(format!(
            "argument '{key}' is of type {} and we were unable to convert to bool",
            json_type(other)
        ))),
    }
}

fn json_type(v: &Value) -> &'static str {
    spec::type_name(v)
}

/// Local wall-clock time as Ansible prints it in `start`/`end` (UTC here).
pub fn timestamp(t: std::time::SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = crate::template::pydatetime::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:06}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// Ansible's `delta`: `H:MM:SS.ffffff`.
pub fn delta(d: std::time::Duration) -> String {
    let s = d.as_secs();
    format!(
        "{}:{:02}:{:02}.{:06}",
        s / 3600,
        (s / 60) % 60,
        s % 60,
        d.subsec_micros()
    )
}

/// Python's `str.splitlines()` for the `*_lines` keys.
pub fn split_lines(s: &str) -> Value {
    Value::Array(s.lines().map(|l| Value::String(l.to_string())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_and_suggestions() {
        assert_eq!(
            ModuleId::lookup("ansible.builtin.shell"),
            Some(ModuleId::Shell)
        );
        assert_eq!(ModuleId::lookup("shel"), None);
        assert_eq!(closest_name("shel"), Some("shell"));
        assert_eq!(closest_name("zzzzzzzzzz"), None);
    }

    #[test]
    fn time_formats() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_micros(1_700_000_000_123_456);
        assert_eq!(timestamp(t), "2023-11-14 22:13:20.123456");
        assert_eq!(
            delta(std::time::Duration::from_micros(3_723_000_042)),
            "1:02:03.000042"
        );
    }
}
