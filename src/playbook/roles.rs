//! Roles: finding a role's directory, reading its defaults, vars and meta
//! dependencies, and turning it into a block of tasks plus its handlers,
//! as Ansible compiles `roles:`, `import_role` and `include_role`.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use super::parse::{self, Ctx};
use super::{Block, Common, Task, TaskNode, Vars};
use crate::error::{Error, Span};
use crate::yaml::{Node, NodeKind};

/// One loaded role. Tasks and handlers point at it for their banners,
/// magic variables, search paths and variable layers.
#[derive(Debug)]
pub struct Role {
    pub name: String,
    pub path: PathBuf,
    /// `defaults/` of its dependencies, then its own (lowest precedence).
    pub defaults: Vars,
    /// `vars/` of its dependencies, then its own (above play vars_files).
    pub vars: Vars,
    /// Keys given where the role was named that are no keywords (above
    /// set_fact, below extra vars).
    pub params: Vars,
}

/// Where roles are looked for: the playbook's `roles/`, the configured
/// `roles_path`, then the playbook's directory.
#[derive(Debug, Clone, Default)]
pub struct RoleSearch {
    dirs: Vec<PathBuf>,
    playbook_dir: PathBuf,
    /// Searching for a role's dependency: Ansible's message then starts
    /// with the collection it also searched.
    for_dependency: bool,
}

impl RoleSearch {
    pub fn new(playbook_dir: &Path, roles_path: &[PathBuf]) -> RoleSearch {
        let mut dirs = vec![playbook_dir.join("roles")];
        dirs.extend(roles_path.iter().cloned());
        dirs.push(playbook_dir.to_path_buf());
        RoleSearch {
            dirs,
            playbook_dir: playbook_dir.to_path_buf(),
            for_dependency: false,
        }
    }

    /// Where the dependencies of the role at `role_path` are looked for:
    /// also beside it, before the playbook's directory.
    fn for_dependencies_of(&self, role_path: &Path) -> RoleSearch {
        let mut dirs = self.dirs.clone();
        if let Some(base) = role_path.parent() {
            dirs.insert(dirs.len().saturating_sub(1), base.to_path_buf());
        }
        RoleSearch {
            dirs,
            playbook_dir: self.playbook_dir.clone(),
            for_dependency: true,
        }
    }

    fn find(&self, name: &str, span: &Span) -> Result<PathBuf, Error> {
        // A name with a slash is a path to the role.
        if name.contains('/') {
            let p = self.playbook_dir.join(name);
            if p.is_dir() {
                return Ok(p);
            }
        }
        for d in &self.dirs {
            let p = d.join(name);
            if p.is_dir() {
                return Ok(p);
            }
        }
        let legacy = self.for_dependency.then(|| "ansible.legacy".to_string());
        let dirs: Vec<String> = legacy
            .into_iter()
            .chain(self.dirs.iter().map(|d| d.display().to_string()))
            .collect();
        Err(Error::LoadAt {
            span: span.clone(),
            message: format!("the role '{name}' was not found in {}", dirs.join(":")),
        })
    }
}

/// Ansible's default `roles_path`.
pub fn default_roles_path() -> Vec<PathBuf> {
    vec![
        crate::config::expand_tilde("~/.ansible/roles"),
        PathBuf::from("/usr/share/ansible/roles"),
        PathBuf::from("/etc/ansible/roles"),
    ]
}

/// Keywords of a role entry in `roles:`; every other key is a role param.
const ROLE_KEYWORDS: &[&str] = &[
    "role",
    "name",
    "when",
    "tags",
    "vars",
    "environment",
    "no_log",
    "remote_user",
    "connection",
    "check_mode",
    "diff",
    "any_errors_fatal",
    "ignore_errors",
    "ignore_unreachable",
    "run_once",
    "delegate_to",
    "delegate_facts",
    "module_defaults",
    "debugger",
    "throttle",
    "timeout",
    "collections",
];

/// A role as named in `roles:` or `meta/main.yml`'s `dependencies:`.
struct Entry {
    name: String,
    span: Span,
    common: Common,
    params: Vars,
}

fn entry_of(node: &Node) -> Result<Entry, Error> {
    if let Some(name) = node.scalar_string() {
        return Ok(Entry {
            name,
            span: node.span.clone(),
            common: Common::default(),
            params: Vars::new(),
        });
    }
    if !matches!(node.kind, NodeKind::Map(_)) {
        return Err(Error::at(&node.span, "Invalid role definition."));
    }
    let entries = parse::mapping(node, "a role")?;
    let name_node = node
        .get("role")
        .or_else(|| node.get("name"))
        .ok_or_else(|| Error::LoadAt {
            span: node.span.clone(),
            message: "role definitions must contain a role name".into(),
        })?;
    let name = parse::string_of(name_node, "role")?;
    let mut common = parse::parse_common(node)?;
    common.name = None;
    let mut params = Vars::new();
    for (k, v) in entries {
        let key = parse::key_str(k)?;
        if !ROLE_KEYWORDS.contains(&key) && !key.starts_with("become") {
            params.insert(key.to_string(), v.to_json());
        }
    }
    // Ansible points at the whole entry, not its name.
    Ok(Entry {
        name,
        span: node.span.clone(),
        common,
        params,
    })
}

/// The files a role is read from (`tasks_from:` and friends).
pub struct Froms<'a> {
    pub tasks: &'a str,
    pub vars: &'a str,
    pub defaults: &'a str,
    pub handlers: &'a str,
}

const MAIN: Froms<'static> = Froms {
    tasks: "main",
    vars: "main",
    defaults: "main",
    handlers: "main",
};

/// `dir/name` with the extensions Ansible accepts (`main`, `main.yml`, …).
fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    ["yml", "yaml", "json"]
        .iter()
        .map(|ext| dir.join(format!("{name}.{ext}")))
        .chain(std::iter::once(dir.join(name)))
        .find(|p| p.is_file())
}

/// A role's vars file as a mapping (absent: empty).
fn read_vars(dir: &Path, name: &str) -> Result<Vars, Error> {
    let Some(path) = find_file(dir, name) else {
        return Ok(Vars::new());
    };
    match crate::yaml::parse_file(&path)? {
        None => Ok(Vars::new()),
        Some(n) if matches!(n.kind, NodeKind::Null) => Ok(Vars::new()),
        Some(n) => parse::vars_of(&n),
    }
}

/// Roles already in the play, by path, params and conditions: Ansible runs
/// a role once per play unless its meta allows duplicates.
type Seen = Vec<String>;

/// What loading a role gives.
struct Loaded {
    role: Arc<Role>,
    /// `None` when the role already ran in the play.
    block: Option<TaskNode>,
}

struct Sink<'a> {
    seen: Option<&'a mut Seen>,
    roles: &'a mut Vec<Arc<Role>>,
    handlers: &'a mut Vec<TaskNode>,
    /// Names of the dependencies loaded.
    dependent: &'a mut Vec<String>,
    /// Where `import_role`s inside the role's tasks add to the play.
    imported: Option<Rc<RefCell<Imported>>>,
}

/// What loading one role by itself (an import or include, not the play's
/// `roles:` list) collected besides its tasks.
#[derive(Default)]
struct Collected {
    roles: Vec<Arc<Role>>,
    handlers: Vec<TaskNode>,
    dependent: Vec<String>,
}

/// [`load_role`] for one role on its own: no play-wide deduplication.
fn load_alone(
    entry: &Entry,
    froms: &Froms<'_>,
    search: &Arc<RoleSearch>,
    imported: Option<Rc<RefCell<Imported>>>,
) -> Result<(Loaded, Collected), Error> {
    let mut c = Collected::default();
    let mut sink = Sink {
        seen: None,
        roles: &mut c.roles,
        handlers: &mut c.handlers,
        dependent: &mut c.dependent,
        imported,
    };
    let loaded = load_role(entry, froms, search, &mut sink, 0)?;
    Ok((loaded, c))
}

/// What a play's `import_role` tasks add to it.
#[derive(Default)]
pub(super) struct Imported {
    /// Imported roles are play roles: their defaults and vars are
    /// play-wide, even before the import, as in Ansible.
    pub roles: Vec<Arc<Role>>,
    pub handlers: Vec<TaskNode>,
    pub role_names: Vec<String>,
    pub dependent: Vec<String>,
}

fn load_role(
    entry: &Entry,
    froms: &Froms<'_>,
    search: &Arc<RoleSearch>,
    sink: &mut Sink<'_>,
    depth: usize,
) -> Result<Loaded, Error> {
    if depth > 32 {
        return Err(Error::at(
            &entry.span,
            "role dependencies nest more than 32 levels deep (a cycle?)",
        ));
    }
    let path = search.find(&entry.name, &entry.span)?;
    let meta = match find_file(&path.join("meta"), "main") {
        Some(p) => crate::yaml::parse_file(&p)?,
        None => None,
    };
    let allow_duplicates = meta
        .as_ref()
        .and_then(|m| m.get("allow_duplicates"))
        .is_some_and(|v| v.to_json() == serde_json::Value::Bool(true));
    let mut dep_blocks = Vec::new();
    let mut defaults = Vars::new();
    let mut vars = Vars::new();
    if let Some(deps) = meta.as_ref().and_then(|m| m.get("dependencies")) {
        let dep_search = Arc::new(search.for_dependencies_of(&path));
        if let NodeKind::Seq(items) = &deps.kind {
            for item in items {
                let dep = entry_of(item)?;
                let loaded = load_role(&dep, &MAIN, &dep_search, sink, depth + 1)?;
                defaults.extend(loaded.role.defaults.clone());
                vars.extend(loaded.role.vars.clone());
                dep_blocks.extend(loaded.block);
            }
        }
    }
    defaults.extend(read_vars(&path.join("defaults"), froms.defaults)?);
    vars.extend(read_vars(&path.join("vars"), froms.vars)?);
    // Named as written, a path included, as Ansible's banners show it.
    let role = Arc::new(Role {
        name: entry.name.clone(),
        path: path.clone(),
        defaults,
        vars,
        params: entry.params.clone(),
    });
    sink.roles.push(role.clone());
    if depth > 0 {
        sink.dependent.push(role.name.clone());
    }
    if let Some(seen) = sink.seen.as_deref_mut() {
        let key = format!(
            "{}\0{:?}\0{:?}",
            path.display(),
            entry.params,
            entry.common.when
        );
        if !allow_duplicates && seen.contains(&key) {
            return Ok(Loaded { role, block: None });
        }
        seen.push(key);
    }
    let ctx = |handler: bool, file: PathBuf| Ctx {
        file: Arc::new(file),
        handler,
        role: Some(role.clone()),
        search: search.clone(),
        imported: sink.imported.clone(),
    };
    let tasks = match find_file(&path.join("tasks"), froms.tasks) {
        Some(p) => parse::parse_tasks_file_in(&p, &ctx(false, p.clone()))?,
        // Ansible reports this one without an origin (exit code 4).
        None if froms.tasks != "main" => {
            return Err(Error::Parse(format!(
                "Could not find specified file in role: tasks/{}",
                froms.tasks
            )))
        }
        None => Vec::new(),
    };
    if let Some(p) = find_file(&path.join("handlers"), froms.handlers) {
        let handlers = parse::parse_tasks_file_in(&p, &ctx(true, p.clone()))?;
        // The role's `vars:` reach its handlers too.
        sink.handlers.push(TaskNode::Block(Arc::new(Block {
            span: entry.span.clone(),
            common: Common {
                vars: entry.common.vars.clone(),
                ..Default::default()
            },
            block: handlers,
            rescue: Vec::new(),
            always: Vec::new(),
        })));
    }
    dep_blocks.extend(tasks);
    // The entry's keywords (when, tags, vars …) apply to the role's tasks
    // and its dependencies', as Ansible's dependency chain passes them down.
    let block = TaskNode::Block(Arc::new(Block {
        span: entry.span.clone(),
        common: entry.common.clone(),
        block: dep_blocks,
        rescue: Vec::new(),
        always: Vec::new(),
    }));
    Ok(Loaded {
        role,
        block: Some(block),
    })
}

/// A play's `roles:`, compiled.
#[derive(Default)]
pub struct PlayRoles {
    /// One block per role, in order, dependencies first inside it.
    pub blocks: Vec<TaskNode>,
    pub handlers: Vec<TaskNode>,
    /// Every role loaded, dependencies included.
    pub roles: Vec<Arc<Role>>,
    /// The names in `roles:`, then of their dependencies.
    pub names: Vec<String>,
    pub dependent: Vec<String>,
}

/// `play`: the play (Ansible points there when `roles:` is no list).
pub(super) fn play_roles(
    play: &Node,
    node: &Node,
    search: &Arc<RoleSearch>,
    imported: &Rc<RefCell<Imported>>,
) -> Result<PlayRoles, Error> {
    let mut out = PlayRoles::default();
    let items = match &node.kind {
        NodeKind::Null => return Ok(out),
        NodeKind::Seq(items) => items,
        _ => {
            let v = node.to_json();
            // The Python class Ansible names for the value.
            let class = match &v {
                serde_json::Value::String(_) => {
                    "ansible.module_utils._internal._datatag._AnsibleTaggedStr"
                }
                serde_json::Value::Object(_) => {
                    "ansible.module_utils._internal._datatag._AnsibleTaggedDict"
                }
                serde_json::Value::Number(n) if n.is_f64() => {
                    "ansible.module_utils._internal._datatag._AnsibleTaggedFloat"
                }
                serde_json::Value::Number(_) => {
                    "ansible.module_utils._internal._datatag._AnsibleTaggedInt"
                }
                _ => "bool",
            };
            return Err(Error::at(
                &play.span,
                format!(
                    "A malformed role declaration was encountered: ds ({}) should be a list but was a <class '{class}'>",
                    match &v {
                        serde_json::Value::String(s) => s.clone(),
                        other => crate::output::python_repr(other, false),
                    }
                ),
            ));
        }
    };
    let mut seen = Seen::new();
    for item in items {
        let entry = entry_of(item)?;
        out.names.push(entry.name.clone());
        let mut sink = Sink {
            seen: Some(&mut seen),
            roles: &mut out.roles,
            handlers: &mut out.handlers,
            dependent: &mut out.dependent,
            imported: Some(imported.clone()),
        };
        let loaded = load_role(&entry, &MAIN, search, &mut sink, 0)?;
        out.blocks.extend(loaded.block);
    }
    Ok(out)
}

/// A literal string argument of an include/import_role task.
fn arg<'a>(task: &'a Task, key: &str) -> Option<&'a str> {
    task.args.get(key).and_then(|v| v.as_str())
}

/// `import_role`, expanded at parse time into a block carrying the task's
/// keywords.
pub(super) fn import_role(task: &Task, ctx: &Ctx) -> Result<TaskNode, Error> {
    let name = arg(task, "name")
        .ok_or_else(|| Error::at(&task.span, "'name' is a required field for import_role."))?;
    if name.contains("{{") {
        return Err(Error::at(
            &task.span,
            "import_role cannot use a templated role name (use include_role)",
        ));
    }
    let froms = Froms {
        tasks: arg(task, "tasks_from").unwrap_or("main"),
        vars: arg(task, "vars_from").unwrap_or("main"),
        defaults: arg(task, "defaults_from").unwrap_or("main"),
        handlers: arg(task, "handlers_from").unwrap_or("main"),
    };
    // Errors about the role point at its name, as Ansible's do.
    let entry = Entry {
        name: name.to_string(),
        span: task
            .arg_spans
            .get("name")
            .cloned()
            .unwrap_or_else(|| task.span.clone()),
        common: task.common.clone(),
        params: Vars::new(),
    };
    let (loaded, c) = load_alone(&entry, &froms, &ctx.search, ctx.imported.clone())?;
    if let Some(imp) = &ctx.imported {
        let mut imp = imp.borrow_mut();
        imp.handlers.extend(c.handlers);
        imp.roles.extend(c.roles);
        imp.role_names.push(name.to_string());
        imp.dependent.extend(c.dependent);
    }
    Ok(loaded.block.unwrap_or_else(|| {
        TaskNode::Block(Arc::new(Block {
            span: task.span.clone(),
            common: Common::default(),
            block: Vec::new(),
            rescue: Vec::new(),
            always: Vec::new(),
        }))
    }))
}

/// The handlers of an `include_role` whose role is named literally, added
/// to the play's when the play is read (Ansible adds them when the role is
/// included), with the include's `vars:`.
pub(super) fn include_role_handlers(task: &Task, ctx: &Ctx) -> Result<(), Error> {
    let Some(sink) = &ctx.imported else {
        return Ok(());
    };
    let Some(name) = arg(task, "name").filter(|n| !n.contains("{{")) else {
        return Ok(());
    };
    let handlers_from = arg(task, "handlers_from").unwrap_or("main");
    if handlers_from.contains("{{") {
        return Ok(());
    }
    // A role not found now is reported when the include runs.
    let Ok(path) = ctx.search.find(name, &task.span) else {
        return Ok(());
    };
    if find_file(&path.join("handlers"), handlers_from).is_none() {
        return Ok(());
    }
    let froms = Froms {
        tasks: arg(task, "tasks_from").unwrap_or("main"),
        vars: arg(task, "vars_from").unwrap_or("main"),
        defaults: arg(task, "defaults_from").unwrap_or("main"),
        handlers: handlers_from,
    };
    if [froms.tasks, froms.vars, froms.defaults]
        .iter()
        .any(|f| f.contains("{{"))
    {
        return Ok(());
    }
    let entry = Entry {
        name: name.to_string(),
        span: task.span.clone(),
        common: Common {
            vars: task.common.vars.clone(),
            ..Default::default()
        },
        params: Vars::new(),
    };
    let (_, c) = load_alone(&entry, &froms, &ctx.search, None)?;
    sink.borrow_mut().handlers.extend(c.handlers);
    Ok(())
}

/// `include_role` at run time: the role's tasks (its dependencies' first)
/// and the role, with `froms` naming the files to read.
pub fn include_role(
    name: &str,
    froms: &Froms<'_>,
    span: &Span,
    search: &Arc<RoleSearch>,
) -> Result<(Arc<Role>, Vec<TaskNode>), Error> {
    let entry = Entry {
        name: name.to_string(),
        span: span.clone(),
        common: Common::default(),
        params: Vars::new(),
    };
    let (loaded, _) = load_alone(&entry, froms, search, None)?;
    Ok((loaded.role, loaded.block.into_iter().collect()))
}

#[cfg(test)]
mod tests {
    use super::super::{load, Task, TaskNode};
    use std::sync::Arc;

    fn write(dir: &std::path::Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn role_tasks(nodes: &[TaskNode], out: &mut Vec<Arc<Task>>) {
        for n in nodes {
            match n {
                TaskNode::Task(t) => out.push(t.clone()),
                TaskNode::Block(b) => role_tasks(&b.block, out),
            }
        }
    }

    #[test]
    fn dependencies_run_first_once_unless_duplicates_are_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // `main` without an extension is read too.
        write(d, "roles/base/tasks/main", "- debug: msg=base\n");
        write(d, "roles/web/meta/main.yml", "dependencies: [base]\n");
        write(d, "roles/web/tasks/main.yaml", "- debug: msg=web\n");
        write(d, "roles/dup/meta/main.yml", "allow_duplicates: true\n");
        write(d, "roles/dup/tasks/main.yml", "- debug: msg=dup\n");
        write(
            d,
            "pb.yml",
            "- hosts: all\n  roles: [web, base, dup, dup]\n  tasks:\n    - debug: msg=own\n",
        );
        let book = load(&d.join("pb.yml"), Some(&[])).unwrap();
        let mut tasks = Vec::new();
        role_tasks(&book.plays[0].tasks, &mut tasks);
        let names: Vec<String> = tasks
            .iter()
            .map(|t| t.in_role(t.args["msg"].as_str().unwrap_or_default()))
            .collect();
        assert_eq!(
            names,
            ["base : base", "web : web", "dup : dup", "dup : dup", "own"]
        );
        assert_eq!(book.plays[0].roles.len(), 5);
    }

    #[test]
    fn a_missing_role_names_where_it_was_looked_for() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "pb.yml", "- hosts: all\n  roles:\n    - nope\n");
        let e = load(&d.join("pb.yml"), Some(&[d.join("elsewhere")])).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        let text = e.to_string();
        let want = format!(
            "the role 'nope' was not found in {0}/roles:{0}/elsewhere:{0}\nOrigin: {0}/pb.yml:3:7",
            d.display()
        );
        assert!(text.starts_with(&want), "{text}");
    }
}
