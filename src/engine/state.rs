//! What the engine remembers about each host across tasks and plays: facts,
//! `set_fact`/`register` values, `include_vars`, its open connection, and
//! whether it failed or was unreachable. Also the `hostvars` view for templates.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::connection::Connection;
use crate::inventory::Inventory;
use crate::playbook::Vars;
use crate::template::HostVars;

/// Per-host memory, shared by the tasks that run for the host.
#[derive(Default)]
pub struct HostState {
    /// `ansible_facts` (gathered or set by modules).
    pub facts: Map<String, Value>,
    /// `set_fact` and `register` values ("non-persistent facts").
    pub set_facts: Vars,
    /// `include_vars` values.
    pub include_vars: Vars,
    /// Failed in this run (removed from later plays).
    pub failed: bool,
    pub unreachable: bool,
    /// Handlers this host has been notified for, in the current play.
    pub notified: HashSet<String>,
}

/// A host's state plus its connection slot (connecting holds only this lock).
#[derive(Default)]
pub struct HostSlot {
    pub state: Mutex<HostState>,
    pub conn: tokio::sync::Mutex<Option<Arc<Connection>>>,
}

impl HostSlot {
    /// Run `f` with the state locked (never across an await).
    pub fn with<R>(&self, f: impl FnOnce(&mut HostState) -> R) -> R {
        match self.state.lock() {
            Ok(mut g) => f(&mut g),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

/// All hosts' slots, created on first use.
#[derive(Default)]
pub struct Hosts {
    slots: Mutex<IndexMap<String, Arc<HostSlot>>>,
}

impl Hosts {
    pub fn slot(&self, host: &str) -> Arc<HostSlot> {
        let mut g = match self.slots.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        g.entry(host.to_string()).or_default().clone()
    }

    pub fn all(&self) -> Vec<(String, Arc<HostSlot>)> {
        match self.slots.lock() {
            Ok(g) => g.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Err(p) => p
                .into_inner()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
}

/// Facts as top-level variables: `ansible_facts` plus `ansible_<name>` for
/// each (Ansible's INJECT_FACTS_AS_VARS default).
pub fn fact_vars(facts: &Map<String, Value>, out: &mut Vars) {
    if facts.is_empty() {
        return;
    }
    out.insert("ansible_facts".into(), Value::Object(facts.clone()));
    for (k, v) in facts {
        let name = if k.starts_with("ansible_") {
            k.clone()
        } else {
            format!("ansible_{k}")
        };
        out.insert(name, v.clone());
    }
}

/// `hostvars[...]`: inventory vars, facts, set_fact/register, include_vars
/// and extra vars of any host.
pub struct EngineHostVars {
    pub inventory: Arc<Inventory>,
    pub hosts: Arc<Hosts>,
    pub extra: Arc<Vars>,
    pub magic: Mutex<Vars>,
    /// The play-wide lists (`groups`, `ansible_play_hosts`…) as template
    /// values, shared by every host's render (see `HostVars::play_var`).
    pub play_vars: std::sync::RwLock<std::collections::HashMap<&'static str, minijinja::Value>>,
}

thread_local! {
    /// Set when a render on this thread reads `play_hosts`; renders are
    /// synchronous, so the thread tells which render it was.
    static READ_PLAY_HOSTS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run one render; if it read the `play_hosts` magic variable (deprecated in
/// ansible-core 2.19), print Ansible's deprecation warning with the origin
/// of the value rendered, `span`.
pub(crate) fn watch_deprecated_vars<T>(
    span: Option<&crate::error::Span>,
    render: impl FnOnce() -> T,
) -> T {
    let outer = READ_PLAY_HOSTS.replace(false);
    let out = render();
    // A watch around this one (an outer render) has its own origin.
    let read = READ_PLAY_HOSTS.replace(outer);
    if let (true, Some(span)) = (read, span) {
        crate::output::deprecated(
            "The `play_hosts` magic variable is deprecated.",
            span,
            Some("Use `ansible_play_batch` instead."),
        );
    }
    out
}

impl HostVars for EngineHostVars {
    fn play_var(&self, name: &str) -> Option<minijinja::Value> {
        let v = self.play_vars.read().ok()?.get(name).cloned();
        if name == "play_hosts" && v.is_some() {
            READ_PLAY_HOSTS.set(true);
        }
        v
    }

    fn host_names(&self) -> Vec<String> {
        self.inventory.hosts.keys().cloned().collect()
    }

    fn host_vars(&self, host: &str) -> Option<Arc<IndexMap<String, Value>>> {
        if !self.inventory.hosts.contains_key(host) {
            return None;
        }
        let mut v = self.inventory.host_vars(host);
        let slot = self.hosts.slot(host);
        slot.with(|s| {
            fact_vars(&s.facts, &mut v);
            v.extend(s.include_vars.iter().map(|(k, x)| (k.clone(), x.clone())));
            v.extend(s.set_facts.iter().map(|(k, x)| (k.clone(), x.clone())));
        });
        v.extend(self.extra.iter().map(|(k, x)| (k.clone(), x.clone())));
        v.insert("inventory_hostname".into(), Value::String(host.to_string()));
        v.insert(
            "inventory_hostname_short".into(),
            Value::String(host.split('.').next().unwrap_or(host).to_string()),
        );
        v.insert(
            "group_names".into(),
            Value::Array(
                self.inventory
                    .group_names(host)
                    .into_iter()
                    .map(Value::String)
                    .collect(),
            ),
        );
        if let Ok(m) = self.magic.lock() {
            for (k, x) in m.iter() {
                v.entry(k.clone()).or_insert_with(|| x.clone());
            }
        }
        Some(Arc::new(v))
    }
}
