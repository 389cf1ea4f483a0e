//! From YAML nodes to [`Playbook`]s, validating keywords, module names and
//! value shapes, with errors that point at file:line:column.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use serde_json::Value;

use super::keywords::{
    arg_spec, is_controller_action, is_loop_lookup, resolved_fqcn, short_name, BLOCK_KEYWORDS,
    PLAY_KEYWORDS, TASK_KEYWORDS,
};
use super::roles::{self, Role, RoleSearch};
use super::{ArgLayer, Block, Common, LoopControl, LoopSpec, Play, Playbook, Task, TaskNode, Vars};
use crate::error::{Error, Span};
use crate::yaml::{Node, NodeKind};

/// Where a list of tasks is being read: its file, whether it is handlers,
/// the role it belongs to, and where the roles it imports are found.
#[derive(Clone)]
pub(super) struct Ctx {
    pub file: Arc<PathBuf>,
    pub handler: bool,
    pub role: Option<Arc<Role>>,
    pub search: Arc<RoleSearch>,
    /// What imported roles add to the play (handlers after its roles',
    /// role names); `None` for files read at run time.
    pub imported: Option<Rc<RefCell<roles::Imported>>>,
}

/// Read a playbook file, expanding `import_playbook`, `import_tasks`,
/// `roles:` and `import_role`. `roles_path`: the configured role
/// directories (`None`: Ansible's default).
pub fn load(path: &Path, roles_path: Option<&[PathBuf]>) -> Result<Playbook, Error> {
    let mut plays = Vec::new();
    let roles_path = match roles_path {
        Some(p) => p.to_vec(),
        None => roles::default_roles_path(),
    };
    load_into(path, &mut plays, &[], 0, &roles_path)?;
    Ok(Playbook {
        path: path.to_path_buf(),
        plays,
    })
}

fn load_into(
    path: &Path,
    plays: &mut Vec<Play>,
    when: &[Value],
    depth: usize,
    roles_path: &[PathBuf],
) -> Result<(), Error> {
    if depth > 32 {
        return Err(Error::Parse(format!(
            "{}: import_playbook nests more than 32 levels deep (a cycle?)",
            path.display()
        )));
    }
    let root = crate::yaml::parse_file(path)?;
    let Some(root) = root else {
        return Ok(());
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let NodeKind::Seq(items) = &root.kind else {
        return Err(Error::at(
            &root.span,
            format!(
                "a playbook must be a list of plays, got a {}",
                root.type_name()
            ),
        ));
    };
    for item in items {
        let entries = mapping(item, "a play")?;
        if let Some(target) = item.get("import_playbook") {
            for (k, _) in entries {
                let key = k.as_str().unwrap_or_default();
                if !matches!(key, "import_playbook" | "name" | "when" | "vars" | "tags") {
                    return Err(Error::at(
                        &k.span,
                        format!("'{key}' is not a valid attribute for import_playbook"),
                    ));
                }
            }
            let file = string_of(target, "import_playbook")?;
            let mut inner_when = when.to_vec();
            if let Some(w) = item.get("when") {
                inner_when.extend(list_of_values(w));
            }
            let target_path = dir.join(&file);
            let before = plays.len();
            load_into(&target_path, plays, &inner_when, depth + 1, roles_path)?;
            if let Some(v) = item.get("vars") {
                let vars = vars_of(v)?;
                for p in &mut plays[before..] {
                    for (k, val) in &vars {
                        p.vars.entry(k.clone()).or_insert_with(|| val.clone());
                    }
                }
            }
            continue;
        }
        let search = Arc::new(RoleSearch::new(&dir, roles_path));
        let mut play = parse_play(item, entries, &dir, &search)?;
        play.when = when.to_vec();
        plays.push(play);
    }
    Ok(())
}

fn parse_play(
    node: &Node,
    entries: &[(Node, Node)],
    dir: &Path,
    search: &Arc<RoleSearch>,
) -> Result<Play, Error> {
    let file = Arc::new(node.span.file.as_ref().clone());
    for (k, _) in entries {
        let key = key_str(k)?;
        if !PLAY_KEYWORDS.contains(&key) {
            return Err(Error::at(
                &k.span,
                format!("'{key}' is not a valid attribute for a Play"),
            ));
        }
    }
    let hosts = node
        .get("hosts")
        .ok_or_else(|| Error::at(&node.span, "the field 'hosts' is required but was not set"))?;
    let common = parse_common(node)?;
    let vars_files = match node.get("vars_files") {
        None => Vec::new(),
        Some(n) => match &n.kind {
            NodeKind::Seq(items) => items
                .iter()
                .map(|i| (i.to_json(), i.span.clone()))
                .collect(),
            NodeKind::Null => Vec::new(),
            _ => vec![(n.to_json(), n.span.clone())],
        },
    };
    let imported = Rc::new(RefCell::new(roles::Imported::default()));
    let section = |key: &str| -> Result<Vec<TaskNode>, Error> {
        let ctx = Ctx {
            file: file.clone(),
            handler: key == "handlers",
            role: None,
            search: search.clone(),
            imported: Some(imported.clone()),
        };
        match node.get(key) {
            None => Ok(Vec::new()),
            Some(n) => parse_task_list(n, &ctx),
        }
    };
    let pre_tasks = section("pre_tasks")?;
    // Roles run after pre_tasks, ahead of tasks in the same section (no
    // flush between them), as Ansible's Play.compile orders them.
    let play_roles = match node.get("roles") {
        Some(n) => roles::play_roles(node, n, search, &imported)?,
        None => roles::PlayRoles::default(),
    };
    let mut tasks = play_roles.blocks;
    tasks.extend(section("tasks")?);
    let post_tasks = section("post_tasks")?;
    let mut handlers = section("handlers")?;
    handlers.extend(play_roles.handlers);
    let imported = imported.take();
    handlers.extend(imported.handlers);
    let mut role_names = play_roles.names;
    role_names.extend(imported.role_names);
    let mut dependent_role_names = play_roles.dependent;
    dependent_role_names.extend(imported.dependent);
    let mut all_roles = play_roles.roles;
    all_roles.extend(imported.roles);
    Ok(Play {
        span: node.span.clone(),
        dir: dir.to_path_buf(),
        name: node.get("name").and_then(Node::scalar_string),
        hosts: hosts.to_json(),
        vars: match node.get("vars") {
            Some(v) => vars_of(v)?,
            None => Vars::new(),
        },
        vars_files,
        gather_facts: node.get("gather_facts").map(Node::to_json),
        serial: node.get("serial").map(Node::to_json),
        strategy: node.get("strategy").and_then(Node::scalar_string),
        max_fail_percentage: node.get("max_fail_percentage").map(Node::to_json),
        force_handlers: node.get("force_handlers").map(Node::to_json),
        common,
        pre_tasks,
        tasks,
        post_tasks,
        handlers,
        roles: all_roles,
        role_search: search.clone(),
        role_names,
        dependent_role_names,
        when: Vec::new(),
    })
}

/// Read a file of tasks (for `include_tasks`/`include_role`), as part of
/// `role` if it belongs to one.
pub fn parse_tasks_file(
    path: &Path,
    search: &Arc<RoleSearch>,
    role: Option<Arc<Role>>,
) -> Result<Vec<TaskNode>, Error> {
    let ctx = Ctx {
        file: Arc::new(path.to_path_buf()),
        handler: false,
        role,
        search: search.clone(),
        imported: None,
    };
    parse_tasks_file_in(path, &ctx)
}

/// A file of tasks, read as handlers when imported into `handlers:`
/// (`ctx` gives all but the file).
pub(super) fn parse_tasks_file_in(path: &Path, ctx: &Ctx) -> Result<Vec<TaskNode>, Error> {
    let root = crate::yaml::parse_file(path)?;
    let ctx = Ctx {
        file: Arc::new(path.to_path_buf()),
        ..ctx.clone()
    };
    match root {
        None => Ok(Vec::new()),
        Some(n) => parse_task_list(&n, &ctx),
    }
}

/// `handler`: the list is (inside) a play's `handlers:`, which only changes
/// the class name Ansible's errors give (`Handler` for `Task`).
fn parse_task_list(node: &Node, ctx: &Ctx) -> Result<Vec<TaskNode>, Error> {
    match &node.kind {
        NodeKind::Null => Ok(Vec::new()),
        NodeKind::Seq(items) => items.iter().map(|i| parse_task_or_block(i, ctx)).collect(),
        _ => Err(Error::at(
            &node.span,
            format!("expected a list of tasks, got a {}", node.type_name()),
        )),
    }
}

fn parse_task_or_block(node: &Node, ctx: &Ctx) -> Result<TaskNode, Error> {
    let entries = mapping(node, "a task")?;
    if node.get("block").is_some() {
        for (k, _) in entries {
            let key = key_str(k)?;
            if !BLOCK_KEYWORDS.contains(&key) {
                return Err(Error::at(
                    &k.span,
                    format!(
                        "'{key}' is not a valid attribute for a Block{}",
                        suggest(key, BLOCK_KEYWORDS)
                    ),
                ));
            }
        }
        let list = |key: &str| match node.get(key) {
            Some(n) => parse_task_list(n, ctx),
            None => Ok(Vec::new()),
        };
        return Ok(TaskNode::Block(Arc::new(Block {
            span: node.span.clone(),
            common: parse_common(node)?,
            block: list("block")?,
            rescue: list("rescue")?,
            always: list("always")?,
        })));
    }
    let task = parse_task(node, entries, ctx)?;
    match short_name(&task.action) {
        "import_role" => return roles::import_role(&task, ctx),
        "include_role" => roles::include_role_handlers(&task, ctx)?,
        _ => {}
    }
    // Static imports are expanded now, as Ansible does at parse time; the
    // import's keywords apply to every imported task through a wrapping block.
    if short_name(&task.action) == "import_tasks" {
        let name = task
            .args
            .get("_raw_params")
            .or_else(|| task.args.get("file"))
            .and_then(Value::as_str)
            .ok_or_else(|| Error::at(&task.span, "import_tasks needs a file name"))?;
        if name.contains("{{") || name.contains("{%") {
            return Err(Error::at(
                &task.span,
                "import_tasks cannot use a templated file name (use include_tasks)",
            ));
        }
        let base = ctx.file.parent().unwrap_or(Path::new("."));
        let path = base.join(name);
        let tasks = parse_tasks_file_in(&path, ctx).map_err(|e| match e {
            Error::Io { path, source } => Error::at(
                &task.span,
                format!("could not read imported tasks {}: {source}", path.display()),
            ),
            other => other,
        })?;
        // Its arguments were checked: only the file name is left.
        return Ok(TaskNode::Block(Arc::new(Block {
            span: task.span.clone(),
            common: task.common.clone(),
            block: tasks,
            rescue: Vec::new(),
            always: Vec::new(),
        })));
    }
    Ok(TaskNode::Task(Arc::new(task)))
}

fn parse_task(node: &Node, entries: &[(Node, Node)], ctx: &Ctx) -> Result<Task, Error> {
    let handler = ctx.handler;
    let mut action: Option<(String, &Node, &Node)> = None;
    let mut loop_: Option<LoopSpec> = None;
    // The first `with_<name>` key whose name is no lookup: never an action,
    // and rejected once the action is known, as Ansible validates it last.
    let mut bad_with: Option<&Node> = None;
    for (k, v) in entries {
        let key = key_str(k)?;
        if TASK_KEYWORDS.contains(&key) {
            // A null `loop:` is no loop at all, as in Ansible.
            if key == "loop" && !v.to_json().is_null() {
                set_loop(&mut loop_, None, v, k)?;
            }
            continue;
        }
        if let Some(lookup) = key.strip_prefix("with_") {
            if !is_loop_lookup(lookup) {
                bad_with.get_or_insert(k);
                continue;
            }
            if v.to_json().is_null() {
                return Err(Error::at(
                    &node.span,
                    format!("you must specify a value when using {key}"),
                ));
            }
            set_loop(&mut loop_, Some(lookup.to_string()), v, k)?;
            continue;
        }
        if let Some((prev, _, _)) = &action {
            // Ansible reads an unknown keyword as a second action, and
            // points at the task.
            return Err(Error::at(
                &node.span,
                format!("conflicting action statements: {prev}, {key}"),
            ));
        }
        action = Some((key.to_string(), k, v));
    }
    // `action: module args` and `local_action:` spell the module inside the value.
    let mut delegate_local = false;
    // Where each argument was written, for error origins.
    let mut spans = ArgSpans::default();
    // Free-form `k=v` text written with the action (deprecated next to `args:`).
    let mut inline_text: Option<&Node> = None;
    let (name, key_node, mut args) = match action {
        Some((name, k, v)) => {
            spans.record(v, &[]);
            inline_text = v.as_str().map(|_| v);
            (name.clone(), k.clone(), module_args(&name, v)?)
        }
        None => {
            let (v, local) = match (node.get("action"), node.get("local_action")) {
                (Some(v), None) => (v, false),
                (None, Some(v)) => (v, true),
                (Some(_), Some(v)) => {
                    return Err(Error::at(
                        &v.span,
                        "conflicting action statements: action, local_action",
                    ))
                }
                (None, None) => {
                    return Err(Error::at(&node.span, "no module/action detected in task"))
                }
            };
            delegate_local = local;
            spans.record(v, &["module"]);
            let (name, args) = action_keyword(v)?;
            (name, v.clone(), args)
        }
    };
    if crate::modules::ModuleId::lookup(&name).is_none() && !is_controller_action(&name) {
        let hint = crate::modules::closest_name(&name)
            .map(|n| format!(" Did you mean '{n}'?"))
            .unwrap_or_default();
        return Err(Error::at(
            &key_node.span,
            format!(
                "couldn't resolve module/action '{name}'. This often indicates a misspelling, \
                 missing collection, or incorrect module path.{hint}"
            ),
        ));
    }
    let mut arg_layers = Vec::new();
    if let Some(extra) = node.get("args") {
        // Ansible 2.19 deprecates k=v text next to `args:` (a mapping or not).
        if let Some(v) = inline_text {
            let kv: Vec<&String> = args.keys().filter(|k| *k != "_raw_params").collect();
            if v.as_str().is_some() && !kv.is_empty() {
                let mut names: Vec<String> = kv.iter().map(|k| format!("'{k}'")).collect();
                names.sort_unstable();
                deprecated(
                    &v.span,
                    &format!(
                        "Merging legacy k=v args ({}) into task args.",
                        names.join(", ")
                    ),
                    "Include all task args in the task `args` mapping.",
                );
            }
        }
        match &extra.kind {
            NodeKind::Map(_) => {
                // Arguments written with the action win over `args:`, as in Ansible.
                spans.record(extra, &[]);
                if let Value::Object(m) = extra.to_json() {
                    for (k, v) in m {
                        args.entry(k).or_insert(v);
                    }
                }
            }
            NodeKind::Null => {
                deprecated(&node.span, "Ignoring empty task `args` keyword.", ARGS_HELP)
            }
            NodeKind::Str { value, .. } if crate::modules::spec::is_all_template(value) => {
                arg_layers.push(ArgLayer {
                    template: value.clone(),
                    span: extra.span.clone(),
                });
            }
            _ => {
                return Err(Error::at(
                    &extra.span,
                    "The value of the task `args` keyword is invalid.",
                )
                .with_help(ARGS_HELP))
            }
        }
    }
    // Free-form text that is one template renders to the arguments (above
    // an `args:` template, below the written arguments), unless the action
    // takes free-form text itself.
    if !arg_spec(&name).is_some_and(|s| s.raw_params) {
        if let Some(Value::String(text)) = args.get("_raw_params") {
            if crate::modules::spec::is_all_template(text) {
                arg_layers.push(ArgLayer {
                    template: text.clone(),
                    span: spans
                        .values
                        .get("_raw_params")
                        .cloned()
                        .unwrap_or_else(|| key_node.span.clone()),
                });
                args.shift_remove("_raw_params");
            }
        }
    }
    if let Some(k) = bad_with {
        return Err(invalid_with(node, k, &name, handler));
    }
    let mut common = parse_common(node)?;
    if delegate_local {
        common.delegate_to = Some(Value::String("localhost".into()));
    }
    let task = Task {
        span: node.span.clone(),
        file: ctx.file.clone(),
        common,
        action: name,
        action_span: key_node.span.clone(),
        args,
        arg_layers,
        arg_spans: spans.values,
        arg_key_spans: spans.keys,
        register: match node.get("register") {
            Some(n) => Some(plain_string(n, "register")?),
            None => None,
        },
        loop_,
        loop_control: match node.get("loop_control") {
            Some(n) => parse_loop_control(n)?,
            None => LoopControl::default(),
        },
        changed_when: node.get("changed_when").map(list_of_values),
        changed_when_spans: node
            .get("changed_when")
            .map(spans_of_values)
            .unwrap_or_default(),
        failed_when: node.get("failed_when").map(list_of_values),
        failed_when_spans: node
            .get("failed_when")
            .map(spans_of_values)
            .unwrap_or_default(),
        until: node.get("until").map(list_of_values),
        retries: node.get("retries").map(Node::to_json),
        delay: node.get("delay").map(Node::to_json),
        listen: node.get("listen").map(list_of_strings).unwrap_or_default(),
        role: ctx.role.clone(),
    };
    validate_args(&task, &spans.opaque)?;
    Ok(task)
}

/// Ansible's error for a `with_<name>` key that names no lookup: an invalid
/// attribute of the task's class. `include_tasks` checks its own keywords
/// first and points at the task; the rest point at the key and add a hint.
fn invalid_with(node: &Node, k: &Node, action: &str, handler: bool) -> Error {
    let key = k.as_str().unwrap_or_default();
    let short = short_name(action);
    let class = match (matches!(short, "include_tasks" | "import_tasks"), handler) {
        (true, false) => "TaskInclude",
        (true, true) => "HandlerTaskInclude",
        (false, false) => "Task",
        (false, true) => "Handler",
    };
    let msg = format!("'{key}' is not a valid attribute for a {class}");
    if short == "include_tasks" {
        return Error::at(&node.span, msg);
    }
    Error::at(
        &k.span,
        format!(
            "{msg}\nThis error can be suppressed as a warning using the \"invalid_task_attribute_failed\" configuration"
        ),
    )
}

/// Where a task's arguments were written, gathered while parsing.
#[derive(Default)]
struct ArgSpans {
    /// Each argument's value (free-form text: `_raw_params`).
    values: indexmap::IndexMap<String, Span>,
    /// Each argument's name, for arguments written as mapping keys.
    keys: indexmap::IndexMap<String, Span>,
    /// Arguments whose value is not known before run time (`!vault`).
    opaque: Vec<String>,
}

impl ArgSpans {
    /// Record an action's value: a mapping's entries (but `skip`), or the
    /// free-form text. A name already recorded from an earlier source keeps
    /// its place, as that source's value wins when arguments are merged.
    fn record(&mut self, v: &Node, skip: &[&str]) {
        match &v.kind {
            NodeKind::Map(entries) => {
                // Within one mapping the last of a repeated key wins.
                let mut here: indexmap::IndexMap<&str, (&Node, &Node)> = indexmap::IndexMap::new();
                for (k, val) in entries {
                    if let Some(key) = k.as_str().filter(|key| !skip.contains(key)) {
                        here.insert(key, (k, val));
                    }
                }
                for (key, (k, val)) in here {
                    if self.values.contains_key(key) {
                        continue;
                    }
                    self.values.insert(key.to_string(), val.span.clone());
                    self.keys.insert(key.to_string(), k.span.clone());
                    // `!unsafe` text is known as written; `!vault` and other
                    // local tags are not.
                    if val
                        .tag
                        .as_deref()
                        .is_some_and(|t| !t.starts_with("!!") && t != "!unsafe")
                    {
                        self.opaque.push(key.to_string());
                    }
                }
            }
            _ => {
                self.values
                    .entry("_raw_params".to_string())
                    .or_insert_with(|| v.span.clone());
            }
        }
    }
}

/// Check a task's literal arguments against its action's spec, so a wrong
/// name or type stops the playbook before anything runs. Unknown names are
/// located at the name, wrong types at the value.
fn validate_args(task: &Task, opaque: &[String]) -> Result<(), Error> {
    let Some(spec) = arg_spec(&task.action) else {
        return Ok(());
    };
    let fqcn = resolved_fqcn(&task.action);
    let open_ended = !task.arg_layers.is_empty();
    let Err(e) =
        crate::modules::spec::check(spec, &task.action, &fqcn, &task.args, opaque, open_ended)
    else {
        return Ok(());
    };
    if e.key.is_empty() {
        return Err(Error::at(&task.action_span, e.message));
    }
    let exact = if e.at_value {
        task.arg_spans.get(&e.key)
    } else {
        task.arg_key_spans.get(&e.key)
    };
    let span = match (exact, task.arg_spans.get("_raw_params")) {
        (Some(s), _) => s.clone(),
        (None, Some(text)) => within_free_form(text, &e.key),
        (None, None) => task.span.clone(),
    };
    Err(Error::at(&span, e.message))
}

/// The position of `key=` inside free-form text that starts at `text`, when
/// it is on that first line; else the text's own position.
pub fn within_free_form(text: &Span, key: &str) -> Span {
    let found = std::fs::read_to_string(text.file.as_ref())
        .ok()
        .and_then(|src| {
            let line: Vec<char> = src
                .lines()
                .nth(text.line.checked_sub(1)?)?
                .chars()
                .collect();
            let start = text.col.checked_sub(1)?;
            let needle: Vec<char> = format!("{key}=").chars().collect();
            (start..line.len()).find(|&i| {
                line[i..].starts_with(&needle)
                    && (i == start
                        || line[i - 1].is_whitespace()
                        || matches!(line[i - 1], '"' | '\''))
            })
        });
    match found {
        Some(i) => Span::new(text.file.clone(), text.line, i + 1),
        None => text.clone(),
    }
}

/// Ansible's help text for a bad `args:` value.
const ARGS_HELP: &str = "A mapping or template which resolves to a mapping is required.";

/// One of ansible-core 2.19's parse-time deprecation warnings.
fn deprecated(span: &Span, msg: &str, help: &str) {
    crate::output::deprecated(msg, span, Some(help));
}

fn set_loop(
    slot: &mut Option<LoopSpec>,
    lookup: Option<String>,
    v: &Node,
    k: &Node,
) -> Result<(), Error> {
    if slot.is_some() {
        return Err(Error::at(
            &k.span,
            "only one loop (loop or with_*) may be given per task",
        ));
    }
    *slot = Some(LoopSpec {
        lookup,
        value: v.to_json(),
        span: v.span.clone(),
    });
    Ok(())
}

/// A module's arguments from its value: a mapping, free-form `k=v` text, or null.
fn module_args(name: &str, v: &Node) -> Result<Vars, Error> {
    match &v.kind {
        NodeKind::Null => Ok(Vars::new()),
        NodeKind::Map(_) => match v.to_json() {
            Value::Object(m) => Ok(m.into_iter().collect()),
            _ => Ok(Vars::new()),
        },
        NodeKind::Str { value, .. } => Ok(free_form(name, value)),
        NodeKind::Bool(_) | NodeKind::Int(_) | NodeKind::Float(_) => {
            Ok(free_form(name, &v.scalar_string().unwrap_or_default()))
        }
        NodeKind::Seq(_) => Err(Error::at(
            &v.span,
            format!("the arguments of '{name}' must be a mapping or a string, got a list"),
        )),
    }
}

/// Free-form text split as Ansible's `parse_kv` does: `k=v` pairs become
/// arguments; for command-like actions only their own options are taken out.
fn free_form(name: &str, text: &str) -> Vars {
    let command_line = arg_spec(name).is_some_and(|s| s.command_line);
    crate::kv::parse_kv(text, command_line)
}

/// `action: shell echo hi` / `action: {module: copy, src: a}`.
fn action_keyword(v: &Node) -> Result<(String, Vars), Error> {
    match &v.kind {
        NodeKind::Str { value, .. } => {
            let trimmed = value.trim_start();
            let (name, rest) = trimmed
                .split_once(char::is_whitespace)
                .unwrap_or((trimmed, ""));
            Ok((name.to_string(), free_form(name, rest)))
        }
        NodeKind::Map(_) => {
            let module = v
                .get("module")
                .and_then(Node::as_str)
                .ok_or_else(|| Error::at(&v.span, "action mapping needs a 'module' key"))?
                .to_string();
            let mut args = match v.to_json() {
                Value::Object(m) => m.into_iter().collect::<Vars>(),
                _ => Vars::new(),
            };
            args.shift_remove("module");
            Ok((module, args))
        }
        _ => Err(Error::at(&v.span, "action must be a string or a mapping")),
    }
}

pub(super) fn parse_common(node: &Node) -> Result<Common, Error> {
    let mut c = Common {
        name: node.get("name").and_then(Node::scalar_string),
        when: node.get("when").map(list_of_values).unwrap_or_default(),
        when_spans: node.get("when").map(spans_of_values).unwrap_or_default(),
        tags: node.get("tags").map(tags_of).unwrap_or_default(),
        vars: match node.get("vars") {
            Some(v) => vars_of(v)?,
            None => Vars::new(),
        },
        environment: node.get("environment").map(Node::to_json),
        ignore_errors: node.get("ignore_errors").map(Node::to_json),
        ignore_unreachable: node.get("ignore_unreachable").map(Node::to_json),
        any_errors_fatal: node.get("any_errors_fatal").map(Node::to_json),
        no_log: node.get("no_log").map(Node::to_json),
        run_once: node.get("run_once").map(Node::to_json),
        delegate_to: node.get("delegate_to").map(Node::to_json),
        check_mode: node.get("check_mode").map(Node::to_json),
        diff: node.get("diff").map(Node::to_json),
        remote_user: node.get("remote_user").map(Node::to_json),
        connection: node.get("connection").map(Node::to_json),
        notify: node.get("notify").map(list_of_strings).unwrap_or_default(),
        timeout: node.get("timeout").map(Node::to_json),
        become_: Default::default(),
    };
    if let NodeKind::Map(entries) = &node.kind {
        for (k, v) in entries {
            if let Some(key) = k.as_str() {
                if key.starts_with("become") {
                    c.become_.insert(key.to_string(), v.to_json());
                }
            }
        }
    }
    Ok(c)
}

fn parse_loop_control(n: &Node) -> Result<LoopControl, Error> {
    let entries = mapping(n, "loop_control")?;
    let mut lc = LoopControl::default();
    for (k, v) in entries {
        match key_str(k)? {
            "loop_var" => lc.loop_var = Some(plain_string(v, "loop_var")?),
            "index_var" => lc.index_var = Some(plain_string(v, "index_var")?),
            "label" => lc.label = Some(v.to_json()),
            "pause" => lc.pause = Some(v.to_json()),
            "extended" => lc.extended = Some(v.to_json()),
            "extended_allitems" => lc.extended_allitems = Some(v.to_json()),
            "break_when" => {
                lc.break_when = match v.to_json() {
                    Value::Array(a) => a,
                    Value::Null => Vec::new(),
                    other => vec![other],
                }
            }
            other => {
                return Err(Error::at(
                    &k.span,
                    format!("'{other}' is not a valid attribute for loop_control"),
                ))
            }
        }
    }
    Ok(lc)
}

pub(super) fn mapping<'a>(node: &'a Node, what: &str) -> Result<&'a [(Node, Node)], Error> {
    match &node.kind {
        NodeKind::Map(entries) => Ok(entries),
        _ => Err(Error::at(
            &node.span,
            format!("expected {what} (a mapping), got a {}", node.type_name()),
        )),
    }
}

pub(super) fn key_str(k: &Node) -> Result<&str, Error> {
    k.as_str().ok_or_else(|| {
        Error::at(
            &k.span,
            format!("expected a string key, got a {}", k.type_name()),
        )
    })
}

pub(super) fn plain_string(n: &Node, what: &str) -> Result<String, Error> {
    n.scalar_string()
        .filter(|_| !matches!(n.kind, NodeKind::Null))
        .ok_or_else(|| {
            Error::at(
                &n.span,
                format!("'{what}' must be a string, got a {}", n.type_name()),
            )
        })
}

pub(super) fn string_of(n: &Node, what: &str) -> Result<String, Error> {
    plain_string(n, what)
}

pub(super) fn vars_of(n: &Node) -> Result<Vars, Error> {
    match &n.kind {
        NodeKind::Null => Ok(Vars::new()),
        NodeKind::Map(_) => match n.to_json() {
            Value::Object(m) => Ok(m.into_iter().collect()),
            _ => Ok(Vars::new()),
        },
        // The old list-of-mappings form.
        NodeKind::Seq(items) => {
            let mut out = Vars::new();
            for i in items {
                out.extend(vars_of(i)?);
            }
            Ok(out)
        }
        _ => Err(Error::at(
            &n.span,
            format!("vars must be a mapping, got a {}", n.type_name()),
        )),
    }
}

pub(super) fn list_of_values(n: &Node) -> Vec<Value> {
    match &n.kind {
        NodeKind::Seq(items) => items.iter().map(Node::to_json).collect(),
        NodeKind::Null => Vec::new(),
        _ => vec![n.to_json()],
    }
}

/// Where each of `list_of_values`' values was written.
fn spans_of_values(n: &Node) -> Vec<Span> {
    match &n.kind {
        NodeKind::Seq(items) => items.iter().map(|i| i.span.clone()).collect(),
        NodeKind::Null => Vec::new(),
        _ => vec![n.span.clone()],
    }
}

fn list_of_strings(n: &Node) -> Vec<String> {
    match &n.kind {
        NodeKind::Seq(items) => items.iter().filter_map(Node::scalar_string).collect(),
        NodeKind::Null => Vec::new(),
        _ => n.scalar_string().into_iter().collect(),
    }
}

/// Tags: a list, or a comma-separated string.
fn tags_of(n: &Node) -> Vec<String> {
    list_of_strings(n)
        .iter()
        .flat_map(|s| s.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn suggest(word: &str, known: &[&str]) -> String {
    match crate::error::closest(word, known.iter().copied(), 2) {
        Some(k) => format!(". Did you mean '{k}'?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Load `text` as a playbook and return the error's rendering.
    fn error_of(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pb.yml");
        std::fs::write(&p, text).unwrap();
        let e = load(&p, None).expect_err("the playbook should be refused");
        assert_eq!(e.exit_code(), 4);
        e.to_string()
    }

    const HEAD: &str = "- hosts: all\n  tasks:\n";

    #[test]
    fn with_keys_that_name_no_lookup_are_invalid_attributes() {
        let first = |e: &str| e.lines().next().unwrap_or_default().to_string();
        // Pointed at the key, after the action is known.
        let e = error_of(&format!("{HEAD}    - debug: msg=x\n      with_nope: [1]\n"));
        assert!(e.starts_with(
            "'with_nope' is not a valid attribute for a Task\nThis error can be suppressed"
        ));
        assert!(e.contains("pb.yml:4:7"), "{e}");
        // Not taken for an action: the task has none.
        let e = error_of(&format!("{HEAD}    - with_nope: [1]\n"));
        assert_eq!(first(&e), "no module/action detected in task");
        let e = error_of("- hosts: all\n  handlers:\n    - debug: msg=x\n      with_nope: [1]\n");
        assert_eq!(
            first(&e),
            "'with_nope' is not a valid attribute for a Handler"
        );
        // include_tasks checks its own keywords and points at the task.
        let e = error_of(&format!(
            "{HEAD}    - include_tasks: other.yml\n      with_nope: [1]\n"
        ));
        assert_eq!(
            first(&e),
            "'with_nope' is not a valid attribute for a TaskInclude"
        );
        assert!(e.contains("pb.yml:3:7"), "{e}");
        // Known lookups, short or FQCN, are loops.
        let tasks = tasks_of(&format!(
            "{HEAD}    - debug: msg=x\n      with_ansible.legacy.items: [1]\n    - debug: msg=x\n      with_sequence: count=2\n"
        ));
        assert_eq!(tasks.len(), 2);
        assert!(tasks.iter().all(|t| t.loop_.is_some()));
    }

    #[test]
    fn unknown_argument_points_at_its_name() {
        let e = error_of(&format!(
            "{HEAD}    - copy:\n        content: x\n        dest: /tmp/y\n        destt: /tmp/x\n"
        ));
        assert!(e.starts_with("Unsupported parameters for (ansible.legacy.copy) module: destt."));
        assert!(e.contains("Did you mean 'dest'?"), "{e}");
        assert!(e.contains("pb.yml:6:9\n"), "{e}");
        // In `args:`, in a handler, and through `action:` too.
        let e = error_of(&format!(
            "{HEAD}    - command: echo hi\n      args:\n        chdirr: /tmp\n"
        ));
        assert!(
            e.contains("module: chdirr.") && e.contains("pb.yml:5:9\n"),
            "{e}"
        );
        let e = error_of(
            "- hosts: all\n  handlers:\n    - name: h\n      action:\n        module: stat\n        path: /\n        pth: /\n",
        );
        assert!(
            e.contains("(stat) module: pth.") && e.contains("pb.yml:7:9\n"),
            "{e}"
        );
    }

    #[test]
    fn free_form_errors_point_inside_the_text() {
        let e = error_of(&format!("{HEAD}    - file: path=/x state=touch bogus=1\n"));
        assert!(
            e.starts_with("Unsupported parameters for (file) module: bogus."),
            "{e}"
        );
        assert!(e.contains("pb.yml:3:33\n"), "{e}");
        let e = error_of(&format!("{HEAD}    - stat: path=/x follow=maybe\n"));
        assert!(e.starts_with("argument 'follow' is of type str"), "{e}");
        assert!(e.contains("pb.yml:3:21\n"), "{e}");
        // Text that is not k=v where none is taken.
        let e = error_of(&format!("{HEAD}    - debug: hello\n"));
        assert!(e.starts_with("Action 'ansible.builtin.debug' does not support raw params."));
        assert!(e.contains("pb.yml:3:14\n"), "{e}");
        // A command's own options are split out of its text and checked.
        let e = error_of(&format!("{HEAD}    - command: ls warn=no\n"));
        assert!(
            e.contains("module: warn.") && e.contains("pb.yml:3:19\n"),
            "{e}"
        );
    }

    #[test]
    fn includes_take_only_their_own_arguments() {
        let e = error_of(&format!("{HEAD}    - include_tasks: x.yml foo=1\n"));
        assert!(
            e.starts_with("Invalid options for include_tasks: foo\n"),
            "{e}"
        );
        let e = error_of(&format!(
            "{HEAD}    - import_tasks:\n        file: x.yml\n        apply: {{}}\n"
        ));
        assert!(
            e.starts_with("Invalid options for import_tasks: apply\n"),
            "{e}"
        );
    }

    #[test]
    fn valid_arguments_load() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pb.yml");
        std::fs::write(
            &p,
            format!(
                "{HEAD}    - file: dest=/x state=touch recurse=no\n    \
                 - command: echo {{{{ x }}}} foo=bar chdir=/\n    \
                 - copy:\n        content: x\n        dest: /y\n        force: \"{{{{ f }}}}\"\n        \
                 backup: !vault |\n          $ANSIBLE_VAULT;1.1;AES256\n          6162\n    \
                 - include_vars: vars.yml name=v\n    \
                 - set_fact: a=1 cacheable=yes\n    \
                 - meta: flush_handlers\n",
            ),
        )
        .unwrap();
        let book = load(&p, None).unwrap();
        let TaskNode::Task(t) = &book.plays[0].tasks[1] else {
            panic!("a task")
        };
        assert_eq!(t.args["_raw_params"], "echo {{ x }} foo=bar");
        let TaskNode::Task(t) = &book.plays[0].tasks[3] else {
            panic!("a task")
        };
        assert_eq!(t.args["_raw_params"], "vars.yml");
        assert_eq!(t.args["name"], "v");
    }

    /// Load `text` and return its tasks.
    fn tasks_of(text: &str) -> Vec<Arc<Task>> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pb.yml");
        std::fs::write(&p, text).unwrap();
        let book = load(&p, None).unwrap();
        book.plays[0]
            .tasks
            .iter()
            .filter_map(|n| match n {
                TaskNode::Task(t) => Some(t.clone()),
                TaskNode::Block(_) => None,
            })
            .collect()
    }

    #[test]
    fn templates_that_render_to_arguments_are_layers() {
        let t = tasks_of(&format!(
            "{HEAD}    - file:\n      args: \"{{{{ fa }}}}\"\n    \
             - copy: \"{{{{ cp }}}}\"\n      args: \"{{{{ base }}}}\"\n    \
             - file: \"{{{{ fa }}}} state=touch\"\n    \
             - command: \"{{{{ cmd }}}}\"\n    \
             - ping:\n      args:\n"
        ));
        // `args:` template: the only layer; nothing is missing yet.
        assert_eq!(t[0].arg_layers.len(), 1);
        assert_eq!(t[0].arg_layers[0].template, "{{ fa }}");
        assert_eq!(
            (t[0].arg_layers[0].span.line, t[0].arg_layers[0].span.col),
            (4, 13)
        );
        assert_eq!((t[0].action_span.line, t[0].action_span.col), (3, 7));
        // Both: the `args:` template first (lowest), then the free-form one.
        let layers: Vec<&str> = t[1]
            .arg_layers
            .iter()
            .map(|l| l.template.as_str())
            .collect();
        assert_eq!(layers, ["{{ base }}", "{{ cp }}"]);
        assert!(t[1].args.is_empty());
        // k=v next to the template stays a written argument.
        assert_eq!(t[2].args["state"], "touch");
        assert!(!t[2].args.contains_key("_raw_params"));
        // A command's free-form text is its command line, not a layer.
        assert!(t[3].arg_layers.is_empty());
        assert_eq!(t[3].args["_raw_params"], "{{ cmd }}");
        // An empty `args:` is ignored (with a deprecation warning).
        assert!(t[4].args.is_empty() && t[4].arg_layers.is_empty());
    }

    #[test]
    fn bad_args_values_and_missing_arguments() {
        let e = error_of(&format!("{HEAD}    - ping:\n      args: [1]\n"));
        assert!(
            e.starts_with("The value of the task `args` keyword is invalid.\nOrigin: "),
            "{e}"
        );
        assert!(e.contains("pb.yml:4:13\n"), "{e}");
        assert!(
            e.trim_end().ends_with(
                "^ column 13\n\nA mapping or template which resolves to a mapping is required."
            ),
            "{e}"
        );
        assert!(error_of(&format!("{HEAD}    - ping:\n      args: plain\n"))
            .starts_with("The value of the task `args` keyword is invalid."));
        // Text around a template is not arguments.
        assert!(error_of(&format!("{HEAD}    - file: \"x {{{{ y }}}}\"\n"))
            .starts_with("Action 'ansible.builtin.file' does not support raw params."));
        // A missing argument points at the action.
        let e = error_of(&format!(
            "{HEAD}    - name: t\n      stat:\n        follow: yes\n"
        ));
        assert!(e.starts_with("missing required arguments: path\n"), "{e}");
        assert!(e.contains("pb.yml:4:7\n"), "{e}");
        // Literal arguments still win over a template, so they are checked.
        let e = error_of(&format!(
            "{HEAD}    - file:\n        state: presnt\n      args: \"{{{{ fa }}}}\"\n"
        ));
        assert!(e.starts_with("value of state must be one of: absent, directory, file, hard, link, touch, got: presnt"), "{e}");
    }
}
