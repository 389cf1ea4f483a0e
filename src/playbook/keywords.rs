//! Ansible's playbook keywords: the one table of what plays, blocks and tasks accept.

use crate::modules::spec::{ArgSpec, Known, Param, Reject, Type};

pub const PLAY_KEYWORDS: &[&str] = &[
    "any_errors_fatal",
    "become",
    "become_exe",
    "become_flags",
    "become_method",
    "become_user",
    "check_mode",
    "collections",
    "connection",
    "debugger",
    "diff",
    "environment",
    "fact_path",
    "force_handlers",
    "gather_facts",
    "gather_subset",
    "gather_timeout",
    "handlers",
    "hosts",
    "ignore_errors",
    "ignore_unreachable",
    "max_fail_percentage",
    "module_defaults",
    "name",
    "no_log",
    "order",
    "port",
    "post_tasks",
    "pre_tasks",
    "remote_user",
    "roles",
    "run_once",
    "serial",
    "strategy",
    "tags",
    "tasks",
    "throttle",
    "timeout",
    "vars",
    "vars_files",
    "vars_prompt",
];

pub const BLOCK_KEYWORDS: &[&str] = &[
    "always",
    "any_errors_fatal",
    "become",
    "become_exe",
    "become_flags",
    "become_method",
    "become_user",
    "block",
    "check_mode",
    "collections",
    "connection",
    "debugger",
    "delegate_facts",
    "delegate_to",
    "diff",
    "environment",
    "ignore_errors",
    "ignore_unreachable",
    "module_defaults",
    "name",
    "no_log",
    "notify",
    "port",
    "remote_user",
    "rescue",
    "run_once",
    "tags",
    "throttle",
    "timeout",
    "vars",
    "when",
];

pub const TASK_KEYWORDS: &[&str] = &[
    "action",
    "any_errors_fatal",
    "args",
    "async",
    "become",
    "become_exe",
    "become_flags",
    "become_method",
    "become_user",
    "changed_when",
    "check_mode",
    "collections",
    "connection",
    "debugger",
    "delay",
    "delegate_facts",
    "delegate_to",
    "diff",
    "environment",
    "failed_when",
    "ignore_errors",
    "ignore_unreachable",
    "listen",
    "local_action",
    "loop",
    "loop_control",
    "module_defaults",
    "name",
    "no_log",
    "notify",
    "poll",
    "port",
    "register",
    "remote_user",
    "retries",
    "run_once",
    "tags",
    "throttle",
    "timeout",
    "until",
    "vars",
    "when",
];

/// The lookups a `with_<name>:` loop may name: ansible-core 2.19's own
/// (Ansible accepts them at parse time; one ferry lacks fails when the loop
/// runs) and those ferry adds from collections. Any other `with_` key is an
/// invalid task attribute, rejected before anything runs.
pub const LOOP_LOOKUPS: &[&str] = &[
    "config",
    "csvfile",
    "dict",
    "env",
    "file",
    "fileglob",
    "first_found",
    "indexed_items",
    "ini",
    "inventory_hostnames",
    "items",
    "lines",
    "list",
    "nested",
    "password",
    "pipe",
    "random_choice",
    "sequence",
    "subelements",
    "template",
    "together",
    "unvault",
    "url",
    "varnames",
    "vars",
    // ferry's own additions (see src/template/lookups.rs and src/aws).
    "flattened",
    "amazon.aws.ssm_parameter",
    "amazon.aws.aws_ssm",
    "aws_ssm",
    "ssm_parameter",
];

/// Can `with_<name>:` loop over this lookup (short or FQCN name)?
pub fn is_loop_lookup(name: &str) -> bool {
    LOOP_LOOKUPS.contains(&short_name(name))
}

/// Actions that run on the control machine (Ansible's action plugins without
/// a remote module), by short name, with the arguments each accepts as
/// ansible-core 2.19's action plugins check them.
pub const CONTROLLER_ACTIONS: &[(&str, ArgSpec)] = &[
    (
        "debug",
        ArgSpec {
            mutually_exclusive: &[&["msg", "var"]],
            ..ArgSpec::module(&[&[
                Param::new("msg", Type::Raw),
                Param::new("var", Type::StrStrict),
                Param::new("verbosity", Type::Int),
            ]])
        },
    ),
    (
        "set_fact",
        // Any name is a fact; `set_fact: text` makes one called _raw_params.
        ArgSpec {
            raw_params: true,
            open: true,
            ..ArgSpec::module(&[&[Param::new("cacheable", Type::Bool)]])
        },
    ),
    (
        "assert",
        ArgSpec::module(&[&[
            Param::aliased("fail_msg", &["msg"], Type::Raw),
            Param::new("success_msg", Type::Raw),
            Param::new("quiet", Type::Bool),
            Param::new("that", Type::Raw).required(),
        ]]),
    ),
    (
        "fail",
        ArgSpec {
            reject: Reject::InvalidOptions,
            ..ArgSpec::module(&[&[Param::new("msg", Type::Raw)]])
        },
    ),
    // Ansible's strategy reads `_raw_params` and ignores anything else.
    (
        "meta",
        ArgSpec {
            raw_params: true,
            open: true,
            ..ArgSpec::module(&[])
        },
    ),
    (
        "include_vars",
        ArgSpec {
            reject: Reject::IncludeVars,
            raw_params: true,
            ..ArgSpec::module(&[&[
                Param::new("file", Type::Raw),
                Param::new("_raw_params", Type::Raw),
                Param::new("dir", Type::Raw),
                Param::new("depth", Type::Raw),
                Param::new("files_matching", Type::Raw),
                Param::new("ignore_files", Type::Raw),
                Param::new("extensions", Type::Raw),
                Param::new("ignore_unknown_extensions", Type::Raw),
                Param::new("name", Type::Raw),
                Param::new("hash_behaviour", Type::Raw),
            ]])
        },
    ),
    (
        "include_tasks",
        ArgSpec {
            reject: Reject::InvalidOptions,
            raw_params: true,
            ..ArgSpec::module(&[INCLUDE_PARAMS, &[Param::new("apply", Type::Raw)]])
        },
    ),
    (
        "import_tasks",
        ArgSpec {
            reject: Reject::InvalidOptions,
            raw_params: true,
            ..ArgSpec::module(&[INCLUDE_PARAMS])
        },
    ),
    (
        "include_role",
        ArgSpec {
            reject: Reject::InvalidOptions,
            ..ArgSpec::module(&[
                ROLE_PARAMS,
                &[
                    Param::new("apply", Type::Raw),
                    Param::new("public", Type::Raw),
                ],
            ])
        },
    ),
    (
        "import_role",
        ArgSpec {
            reject: Reject::InvalidOptions,
            ..ArgSpec::module(&[ROLE_PARAMS])
        },
    ),
    (
        "import_playbook",
        ArgSpec {
            raw_params: true,
            open: true,
            ..ArgSpec::module(&[])
        },
    ),
    (
        "wait_for_connection",
        ArgSpec {
            reject: Reject::InvalidOptions,
            ..ArgSpec::module(&[&[
                Param::new("connect_timeout", Type::Raw),
                Param::new("delay", Type::Raw),
                Param::new("sleep", Type::Raw),
                Param::new("timeout", Type::Raw),
            ]])
        },
    ),
    ("setup", ArgSpec::module(&[SETUP_PARAMS])),
    (
        "gather_facts",
        // The action hands everything but `parallel` to the setup module.
        ArgSpec {
            report_as: Some("ansible.legacy.setup"),
            ..ArgSpec::module(&[&[Param::action("parallel", Type::Bool)], SETUP_PARAMS])
        },
    ),
    (
        "template",
        // The action renders, then hands the rest to copy, whose module
        // names itself in errors.
        ArgSpec {
            report_as: Some("ansible.legacy.copy"),
            action_check: Some(template_check),
            ..ArgSpec::module(&[
                TEMPLATE_PARAMS,
                crate::modules::copy::PARAMS,
                crate::modules::spec::FILE_COMMON,
            ])
        },
    ),
    (
        "pause",
        ArgSpec {
            mutually_exclusive: &[&["minutes", "seconds"]],
            ..ArgSpec::module(&[&[
                Param::new("echo", Type::Bool),
                Param::new("minutes", Type::PyInt),
                Param::new("seconds", Type::PyInt),
                Param::new("prompt", Type::Str),
            ]])
        },
    ),
];

/// The template action's own checks, in its order and words.
fn template_check(k: &Known) -> Option<String> {
    if k.given("state") == Some(true) {
        Some("'state' cannot be specified on a template".into())
    } else if k.given("src") == Some(false) || k.given("dest") == Some(false) {
        Some("src and dest are required".into())
    } else {
        None
    }
}

const INCLUDE_PARAMS: &[Param] = &[
    Param::new("file", Type::Raw),
    Param::new("_raw_params", Type::Raw),
];

const ROLE_PARAMS: &[Param] = &[
    Param::new("name", Type::Raw),
    Param::new("tasks_from", Type::Raw),
    Param::new("vars_from", Type::Raw),
    Param::new("defaults_from", Type::Raw),
    Param::new("handlers_from", Type::Raw),
    Param::new("allow_duplicates", Type::Raw),
    Param::new("rolespec_validate", Type::Raw),
];

const SETUP_PARAMS: &[Param] = &[
    Param::new("gather_subset", Type::List),
    Param::new("gather_timeout", Type::Int),
    Param::new("filter", Type::List),
    Param::new("fact_path", Type::Path),
];

/// What the template action takes for itself before copy sees the rest
/// (`follow` it converts leniently and passes on).
pub const TEMPLATE_PARAMS: &[Param] = &[
    Param::action("newline_sequence", Type::Str),
    Param::action("block_start_string", Type::Str),
    Param::action("block_end_string", Type::Str),
    Param::action("variable_start_string", Type::Str),
    Param::action("variable_end_string", Type::Str),
    Param::action("comment_start_string", Type::Str),
    Param::action("comment_end_string", Type::Str),
    Param::action("trim_blocks", Type::Raw),
    Param::action("lstrip_blocks", Type::Raw),
    Param::action("output_encoding", Type::Str),
    Param::action("follow", Type::Raw),
];

/// The short name of an action written short or as `ansible.builtin.X` /
/// `ansible.legacy.X`.
pub fn short_name(action: &str) -> &str {
    action
        .strip_prefix("ansible.builtin.")
        .or_else(|| action.strip_prefix("ansible.legacy."))
        .unwrap_or(action)
}

/// Is this a controller-side action (by short or FQCN name)?
pub fn is_controller_action(action: &str) -> bool {
    controller_spec(action).is_some()
}

/// A controller-side action's argument spec (by short or FQCN name).
pub fn controller_spec(action: &str) -> Option<&'static ArgSpec> {
    let short = short_name(action);
    CONTROLLER_ACTIONS
        .iter()
        .find(|(n, _)| *n == short)
        .map(|(_, s)| s)
}

/// The argument spec of any action ferry knows: a remote module's or a
/// controller-side action's.
pub fn arg_spec(action: &str) -> Option<&'static ArgSpec> {
    match crate::modules::ModuleId::lookup(action) {
        Some(m) => Some(m.spec()),
        None => controller_spec(action),
    }
}

/// The fully qualified name Ansible resolves an action to (`ini_file` is
/// routed to community.general; `ansible.legacy.X` is `ansible.builtin.X`).
pub fn resolved_fqcn(action: &str) -> String {
    match short_name(action) {
        "ini_file" => "community.general.ini_file".to_string(),
        s if s.contains('.') => s.to_string(),
        s => format!("ansible.builtin.{s}"),
    }
}
