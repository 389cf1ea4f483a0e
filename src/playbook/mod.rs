//! Playbooks as ferry holds them after parsing: plays, blocks and tasks with
//! their keywords, raw (untemplated) values and source positions.
//!
//! Parsing validates everything that can be known before a host is contacted:
//! keywords, module names, the shape of each keyword's value. Templated values
//! stay raw `serde_json::Value`s; the engine renders them per host.

mod keywords;
mod parse;
mod roles;

use std::path::PathBuf;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value;

use crate::error::Span;

pub use keywords::{
    arg_spec, controller_spec, is_controller_action, resolved_fqcn, short_name as short_action,
    BLOCK_KEYWORDS, PLAY_KEYWORDS, TASK_KEYWORDS, TEMPLATE_PARAMS,
};
pub use parse::{load, parse_tasks_file, within_free_form};
pub use roles::{include_role, Froms, Role, RoleSearch};

pub type Vars = IndexMap<String, Value>;

/// A whole playbook, with `import_playbook` already expanded.
#[derive(Debug)]
pub struct Playbook {
    pub path: PathBuf,
    pub plays: Vec<Play>,
}

#[derive(Debug)]
pub struct Play {
    pub span: Span,
    /// The directory of the file the play was written in (`playbook_dir`).
    pub dir: PathBuf,
    pub name: Option<String>,
    pub hosts: Value,
    pub vars: Vars,
    pub vars_files: Vec<(Value, Span)>,
    pub gather_facts: Option<Value>,
    pub serial: Option<Value>,
    pub strategy: Option<String>,
    pub max_fail_percentage: Option<Value>,
    pub force_handlers: Option<Value>,
    pub common: Common,
    pub pre_tasks: Vec<TaskNode>,
    pub tasks: Vec<TaskNode>,
    pub post_tasks: Vec<TaskNode>,
    pub handlers: Vec<TaskNode>,
    /// The play's `roles:` and their dependencies, whose defaults and vars
    /// every task of the play sees (their tasks are at the head of `tasks`,
    /// their handlers after the play's own, as Ansible compiles them).
    pub roles: Vec<Arc<Role>>,
    /// Where `include_role` looks for roles.
    pub role_search: Arc<RoleSearch>,
    /// The names of the roles in `roles:` and `import_role`, and of their
    /// dependencies (`ansible_play_role_names`, `ansible_dependent_role_names`).
    pub role_names: Vec<String>,
    pub dependent_role_names: Vec<String>,
    /// `import_playbook`'s `when`, applied to every play it brought in.
    pub when: Vec<Value>,
}

/// Keywords shared by plays, blocks and tasks, inherited downwards.
#[derive(Debug, Default, Clone)]
pub struct Common {
    pub name: Option<String>,
    pub when: Vec<Value>,
    /// Where each `when` condition was written.
    pub when_spans: Vec<Span>,
    pub tags: Vec<String>,
    pub vars: Vars,
    pub environment: Option<Value>,
    pub ignore_errors: Option<Value>,
    pub ignore_unreachable: Option<Value>,
    pub any_errors_fatal: Option<Value>,
    pub no_log: Option<Value>,
    pub run_once: Option<Value>,
    pub delegate_to: Option<Value>,
    pub check_mode: Option<Value>,
    pub diff: Option<Value>,
    pub remote_user: Option<Value>,
    pub connection: Option<Value>,
    pub notify: Vec<String>,
    /// Seconds the task's action may run (`timeout:`; 0 or unset: no limit).
    pub timeout: Option<Value>,
    /// `become*` keywords are accepted and kept for when privilege escalation lands.
    pub become_: IndexMap<String, Value>,
}

#[derive(Debug, Clone)]
pub enum TaskNode {
    Task(Arc<Task>),
    Block(Arc<Block>),
}

#[derive(Debug)]
pub struct Block {
    pub span: Span,
    pub common: Common,
    pub block: Vec<TaskNode>,
    pub rescue: Vec<TaskNode>,
    pub always: Vec<TaskNode>,
}

/// How a task loops.
#[derive(Debug, Clone)]
pub struct LoopSpec {
    /// `None` for `loop:`; the lookup name for `with_<name>:`.
    pub lookup: Option<String>,
    pub value: Value,
    /// Where the loop's value was written (errors point there).
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct LoopControl {
    pub loop_var: Option<String>,
    pub index_var: Option<String>,
    pub label: Option<Value>,
    pub pause: Option<Value>,
    pub extended: Option<Value>,
    pub extended_allitems: Option<Value>,
    /// Conditions checked after each item; the first true one ends the loop.
    pub break_when: Vec<Value>,
}

#[derive(Debug)]
pub struct Task {
    pub span: Span,
    /// The file the task was written in, for relative includes.
    pub file: Arc<PathBuf>,
    pub common: Common,
    /// The action as written (short or FQCN); validated at parse time.
    pub action: String,
    /// Where the action was written (errors about the arguments as a whole).
    pub action_span: Span,
    pub args: Vars,
    /// Templates that render to arguments (`args: "{{ x }}"`, then free-form
    /// text that is one template), lowest precedence first; `args` override
    /// them.
    pub arg_layers: Vec<ArgLayer>,
    /// Where each argument's value was written (`_raw_params` for free form).
    pub arg_spans: IndexMap<String, Span>,
    /// Where each argument's name was written (mapping forms only).
    pub arg_key_spans: IndexMap<String, Span>,
    pub register: Option<String>,
    pub loop_: Option<LoopSpec>,
    pub loop_control: LoopControl,
    pub changed_when: Option<Vec<Value>>,
    /// Where each `changed_when` condition was written.
    pub changed_when_spans: Vec<Span>,
    pub failed_when: Option<Vec<Value>>,
    /// Where each `failed_when` condition was written.
    pub failed_when_spans: Vec<Span>,
    pub until: Option<Vec<Value>>,
    pub retries: Option<Value>,
    pub delay: Option<Value>,
    /// Handler topics (`listen:`).
    pub listen: Vec<String>,
    /// The role the task was written in.
    pub role: Option<Arc<Role>>,
}

/// A template whose value (a mapping) becomes task arguments at run time.
#[derive(Debug, Clone)]
pub struct ArgLayer {
    pub template: String,
    pub span: Span,
}

impl Task {
    /// The action's fully qualified name, as Ansible's messages spell it.
    pub fn fqcn(&self) -> String {
        if self.action.contains('.') {
            self.action.clone()
        } else {
            format!("ansible.builtin.{}", self.action)
        }
    }

    /// The banner name: the task's name, else its action.
    pub fn display_name(&self) -> String {
        if let Some(n) = &self.common.name {
            return n.clone();
        }
        // An unnamed include_role is named for its role, as Ansible does.
        match self.args.get("name").and_then(Value::as_str) {
            Some(role) if short_action(&self.action) == "include_role" => {
                format!("{} : {role}", self.action)
            }
            _ => self.action.clone(),
        }
    }

    /// `name` prefixed with the task's role, as Ansible's banners show it.
    pub fn in_role(&self, name: &str) -> String {
        match &self.role {
            // Ansible's include_role names itself, never after its role.
            Some(r) if short_action(&self.action) != "include_role" => {
                format!("{} : {name}", r.name)
            }
            _ => name.to_string(),
        }
    }
}
