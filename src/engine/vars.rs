//! Assembling the variables one task sees on one host, in Ansible's
//! precedence order (lowest first), and the connection those variables describe.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::state::fact_vars;
use super::{Engine, PlayCtx};
use crate::connection::ConnSpec;
use crate::playbook::{Block, Task, Vars};
use crate::template::Context;

/// Connection variables that are templated before the connection is resolved.
const CONN_VARS: &[&str] = &[
    "ansible_connection",
    "ansible_host",
    "ansible_ssh_host",
    "ansible_port",
    "ansible_ssh_port",
    "ansible_user",
    "ansible_ssh_user",
    "ansible_ssh_private_key_file",
    "ansible_private_key_file",
    "ansible_password",
    "ansible_ssh_pass",
    "ansible_ssh_password",
    "ansible_ssh_common_args",
    "ansible_ssh_extra_args",
    "ansible_ssh_args",
    "ansible_ssh_timeout",
    "ansible_timeout",
    "ansible_ssh_retries",
    "ansible_host_key_checking",
    "ansible_ssh_host_key_checking",
];

impl Engine {
    /// Inventory → facts → play vars → vars_files → block vars → task vars →
    /// include_vars → set_fact/register → extra vars, then magic variables.
    pub fn task_vars(
        &self,
        pctx: &PlayCtx,
        host: &str,
        parents: &[Arc<Block>],
        task: Option<&Task>,
    ) -> Vars {
        // Role defaults, lowest of all: every play role's, then the task's
        // own role's above the others', as Ansible's VariableManager does.
        let role = task.and_then(|t| t.role.as_ref());
        let public = pctx
            .public_roles
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default();
        let mut v = Vars::new();
        for r in pctx.roles.iter().chain(&public) {
            extend(&mut v, &r.defaults);
        }
        if let Some(r) = role {
            extend(&mut v, &r.defaults);
        }
        extend(&mut v, &self.inventory.host_vars(host));
        let slot = self.hosts.slot(host);
        let (facts, include_vars, set_facts) =
            slot.with(|s| (s.facts.clone(), s.include_vars.clone(), s.set_facts.clone()));
        fact_vars(&facts, &mut v);
        extend(&mut v, &pctx.vars);
        for file_vars in self.vars_files_for(pctx, host, &v) {
            extend(&mut v, &file_vars);
        }
        // Play roles' vars are exported to the whole play; the task's own
        // role's come last.
        for r in pctx.roles.iter().chain(&public) {
            extend(&mut v, &r.vars);
        }
        if let Some(r) = role {
            extend(&mut v, &r.vars);
        }
        for b in parents {
            extend(&mut v, &b.common.vars);
        }
        if let Some(t) = task {
            extend(&mut v, &t.common.vars);
        }
        extend(&mut v, &include_vars);
        extend(&mut v, &set_facts);
        if let Some(r) = role {
            extend(&mut v, &r.params);
        }
        extend(&mut v, &self.opts.extra_vars);
        self.magic_vars(pctx, host, &mut v);
        if let Some(r) = role {
            v.insert("role_name".into(), Value::String(r.name.clone()));
            v.insert("ansible_role_name".into(), Value::String(r.name.clone()));
            v.insert(
                "role_path".into(),
                Value::String(r.path.display().to_string()),
            );
        }
        self.fill_connection_vars(host, &mut v);
        v
    }

    /// The play-wide magic lists, computed once per task (hosts fail between
    /// tasks, not within one as far as templates can tell) instead of once
    /// per host and task: that was O(hosts²) per task.
    fn magic_lists(&self, pctx: &PlayCtx) -> Arc<MagicLists> {
        let seq = self.task_seq.load(std::sync::atomic::Ordering::Relaxed);
        if let Ok(cache) = pctx.magic.lock() {
            if let Some((s, lists)) = cache.as_ref() {
                if *s == seq {
                    return lists.clone();
                }
            }
        }
        let strs = |xs: &[String]| Value::Array(xs.iter().cloned().map(Value::String).collect());
        let active: Vec<String> = pctx
            .play_hosts
            .iter()
            .filter(|h| self.hosts.slot(h).with(|s| !s.failed && !s.unreachable))
            .cloned()
            .collect();
        let active_set: std::collections::HashSet<&String> = active.iter().collect();
        let batch_active: Vec<String> = pctx
            .batch
            .iter()
            .filter(|h| active_set.contains(h))
            .cloned()
            .collect();
        let groups = self
            .groups_value
            .get_or_init(|| {
                Value::Object(
                    self.inventory
                        .groups_map()
                        .into_iter()
                        .map(|(k, hs)| (k, strs(&hs)))
                        .collect(),
                )
            })
            .clone();
        let lists = Arc::new(MagicLists {
            groups,
            all: strs(&pctx.play_hosts),
            active: strs(&active),
            batch: strs(&batch_active),
        });
        if let Ok(mut cache) = pctx.magic.lock() {
            *cache = Some((seq, lists.clone()));
        }
        if let Ok(mut pv) = self.hostvars.play_vars.write() {
            let tv = crate::template::json_value;
            pv.insert("groups", tv(&lists.groups));
            pv.insert("ansible_play_hosts_all", tv(&lists.all));
            pv.insert("ansible_play_hosts", tv(&lists.active));
            pv.insert("play_hosts", tv(&lists.batch));
            pv.insert("ansible_play_batch", tv(&lists.batch));
        }
        lists
    }

    fn magic_vars(&self, pctx: &PlayCtx, host: &str, v: &mut Vars) {
        let strs = |xs: &[String]| Value::Array(xs.iter().cloned().map(Value::String).collect());
        self.magic_lists(pctx);
        v.insert("inventory_hostname".into(), Value::String(host.to_string()));
        v.insert(
            "inventory_hostname_short".into(),
            Value::String(host.split('.').next().unwrap_or(host).to_string()),
        );
        v.insert(
            "group_names".into(),
            strs(&self.inventory.group_names(host)),
        );
        // The play-wide lists are answered from `hostvars.play_vars`; a
        // host's own variable of the same name must not hide them.
        for k in [
            "groups",
            "ansible_play_hosts_all",
            "ansible_play_hosts",
            "play_hosts",
            "ansible_play_batch",
        ] {
            v.shift_remove(k);
        }
        // Role names, each once, in the order Ansible lists them.
        let names = |lists: &[&[String]]| {
            let mut out: Vec<String> = Vec::new();
            for n in lists.iter().flat_map(|l| l.iter()) {
                if !out.contains(n) {
                    out.push(n.clone());
                }
            }
            strs(&out)
        };
        let (play_roles, deps) = (&pctx.role_names[..], &pctx.dependent_role_names[..]);
        v.insert("role_names".into(), names(&[play_roles]));
        v.insert("ansible_play_role_names".into(), names(&[play_roles]));
        v.insert("ansible_dependent_role_names".into(), names(&[deps]));
        v.insert("ansible_role_names".into(), names(&[play_roles, deps]));
        v.insert(
            "ansible_play_name".into(),
            Value::String(pctx.play_name.clone()),
        );
        v.insert(
            "playbook_dir".into(),
            Value::String(pctx.dir.display().to_string()),
        );
        v.insert("ansible_check_mode".into(), Value::Bool(self.opts.check));
        v.insert("ansible_diff_mode".into(), Value::Bool(self.opts.diff));
        v.insert("ansible_verbosity".into(), Value::from(self.opts.verbosity));
        v.insert("ansible_forks".into(), Value::from(self.opts.forks));
        v.insert(
            "ansible_run_tags".into(),
            strs(if self.opts.tags.is_empty() {
                &[]
            } else {
                &self.opts.tags
            }),
        );
        v.insert("ansible_skip_tags".into(), strs(&self.opts.skip_tags));
        v.insert(
            "omit".into(),
            Value::String(self.templar.omit_token().to_string()),
        );
        v.insert(
            "ansible_version".into(),
            serde_json::json!({"full": "2.19.0", "major": 2, "minor": 19, "revision": 0, "string": "2.19.0"}),
        );
        if let Some(cfg) = &self.opts.config_file {
            v.insert(
                "ansible_config_file".into(),
                Value::String(cfg.display().to_string()),
            );
        }
        if let Some(src) = self
            .inventory
            .hosts
            .get(host)
            .and_then(|h| h.source.clone())
        {
            v.insert(
                "inventory_file".into(),
                Value::String(src.display().to_string()),
            );
            if let Some(d) = src.parent() {
                v.insert(
                    "inventory_dir".into(),
                    Value::String(d.display().to_string()),
                );
            }
        }
    }

    /// Ansible fills the canonical connection variables from what the
    /// connection resolved, so `{{ ansible_user }}` works when the inventory
    /// only set `ansible_ssh_user`.
    fn fill_connection_vars(&self, host: &str, v: &mut Vars) {
        let Ok(spec) = ConnSpec::resolve(host, &self.conn_subset(v), &self.opts.defaults) else {
            return;
        };
        let user = spec.user.clone().unwrap_or_else(local_user);
        v.insert("ansible_user".into(), Value::String(user));
        v.insert("ansible_host".into(), Value::String(spec.host.clone()));
        v.insert("ansible_port".into(), Value::from(spec.port));
        if let Some(k) = spec.identity_files.first() {
            v.entry("ansible_ssh_private_key_file".to_string())
                .or_insert_with(|| Value::String(k.display().to_string()));
            v.entry("ansible_private_key_file".to_string())
                .or_insert_with(|| Value::String(k.display().to_string()));
        }
    }

    /// The connection variables, templated where they hold Jinja.
    fn conn_subset(&self, v: &Vars) -> Vars {
        let mut out = Vars::new();
        let ctx = Context {
            vars: Arc::new(v.clone()),
            hostvars: Some(self.hostvars.clone() as Arc<dyn crate::template::HostVars>),
        };
        for k in CONN_VARS {
            if let Some(raw) = v.get(*k) {
                let val = match raw {
                    Value::String(s) if crate::template::Templar::is_template(s) => self
                        .templar
                        .render_str(s, &ctx)
                        .unwrap_or_else(|_| raw.clone()),
                    other => other.clone(),
                };
                out.insert(k.to_string(), val);
            }
        }
        out
    }

    /// The connection spec for a host (task-level `remote_user`/`connection`
    /// keywords override the variables, as in Ansible).
    pub fn conn_spec(
        &self,
        pctx: &PlayCtx,
        host: &str,
        parents: &[Arc<Block>],
        task: Option<&Task>,
    ) -> Result<ConnSpec, String> {
        let vars = self.task_vars(pctx, host, parents, task);
        let mut subset = self.conn_subset(&vars);
        let keyword = |f: fn(&crate::playbook::Common) -> Option<Value>| -> Option<Value> {
            let mut out = f(&pctx.common);
            for b in parents {
                if let Some(x) = f(&b.common) {
                    out = Some(x);
                }
            }
            if let Some(t) = task {
                if let Some(x) = f(&t.common) {
                    out = Some(x);
                }
            }
            out
        };
        // remote_user keyword sits below the ansible_user variable in Ansible.
        if let Some(u) = keyword(|c| c.remote_user.clone()) {
            if !subset.contains_key("ansible_user") && !subset.contains_key("ansible_ssh_user") {
                subset.insert("ansible_user".into(), u);
            }
        }
        if let Some(c) = keyword(|c| c.connection.clone()) {
            subset.insert("ansible_connection".into(), c);
        }
        ConnSpec::resolve(host, &subset, &self.opts.defaults)
    }

    /// The play's vars_files for this host (templated names; cached by path).
    fn vars_files_for(&self, pctx: &PlayCtx, host: &str, base: &Vars) -> Vec<Vars> {
        let mut out = Vec::new();
        if pctx.vars_files.is_empty() {
            return out;
        }
        let mut ctxvars = base.clone();
        ctxvars.insert("inventory_hostname".into(), Value::String(host.to_string()));
        extend(&mut ctxvars, &self.opts.extra_vars);
        let ctx = Context::new(ctxvars);
        for (entry, _span) in &pctx.vars_files {
            // A list entry means "the first of these that exists".
            let candidates: Vec<Value> = match entry {
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            for c in candidates {
                let Ok(Value::String(name)) = self.templar.render_value(&c, &ctx) else {
                    continue;
                };
                let path = pctx.dir.join(&name);
                if let Some(v) = self.load_vars_file(&path) {
                    out.push(v);
                    break;
                }
            }
        }
        out
    }

    pub fn load_vars_file(&self, path: &Path) -> Option<Vars> {
        if let Ok(cache) = self.vars_cache.lock() {
            if let Some(v) = cache.get(path) {
                return Some(v.clone());
            }
        }
        let node = crate::yaml::parse_file(path).ok()?;
        let vars: Vars = match node.map(|n| n.to_json()) {
            Some(Value::Object(m)) => m.into_iter().collect(),
            None => Vars::new(),
            Some(_) => return None,
        };
        if let Ok(mut cache) = self.vars_cache.lock() {
            cache.insert(path.to_path_buf(), vars.clone());
        }
        Some(vars)
    }
}

/// Play-wide magic variables shared by every host of a task.
pub struct MagicLists {
    groups: Value,
    all: Value,
    active: Value,
    batch: Value,
}

fn extend(v: &mut Vars, more: &Vars) {
    for (k, x) in more {
        v.insert(k.clone(), x.clone());
    }
}

/// The control machine's user name (Ansible's default remote user).
pub fn local_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "root".to_string())
}
