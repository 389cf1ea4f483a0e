//! The inventory: hosts, groups and their variables, read from Ansible YAML/INI
//! inventories, `group_vars/` and `host_vars/`, and selected by host patterns.
//!
//! Loading mirrors Ansible's `InventoryData`: sources add groups, hosts and
//! edges, then [`Inventory::reconcile`] makes every parentless group a child of
//! `all` and puts hosts that belong nowhere else into `ungrouped`. Variables stay
//! where they were written (group, host, `group_vars/`, `host_vars/`) and are
//! merged on demand in Ansible's precedence order by [`Inventory::host_vars`].

mod address;
mod ini;
mod listing;
mod literal;
mod pattern;
mod sources;
mod vars;
mod vars_dirs;
mod yaml;

use crate::error::Error;
use indexmap::IndexMap;
use serde_json::Value;
use std::path::PathBuf;

pub use address::{expand_hostpattern, parse_address};
pub use pattern::split_host_pattern;

/// Names Ansible treats as the control node (`C.LOCALHOST`).
pub const LOCALHOST_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "::1"];

/// All hosts and groups from every inventory source.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    /// In the order hosts were first seen.
    pub hosts: IndexMap<String, Host>,
    /// In the order groups were first seen; always has `all` and `ungrouped`.
    pub groups: IndexMap<String, Group>,
    /// Non-fatal problems (Ansible's `[WARNING]`s); the caller prints them.
    pub warnings: Vec<String>,
    /// Directories whose `group_vars/`/`host_vars/` apply (one per path source).
    pub vars_dirs: Vec<PathBuf>,
    /// `host_vars/` data for localhost names that are not in the inventory, for
    /// the implicit localhost.
    implicit_dir_vars: IndexMap<String, IndexMap<String, Value>>,
}

#[derive(Clone, Debug, Default)]
pub struct Host {
    pub name: String,
    /// Variables written in inventory files, including `ansible_port` from
    /// `host:port`.
    pub vars: IndexMap<String, Value>,
    /// Variables from `host_vars/` files.
    pub dir_vars: IndexMap<String, Value>,
    /// Groups this host was put in directly, in order (not ancestors).
    pub groups: Vec<String>,
    /// The inventory source that first named this host (Ansible's
    /// `inventory_file`); `None` for comma-list sources.
    pub source: Option<PathBuf>,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    /// Variables written in inventory files.
    pub vars: IndexMap<String, Value>,
    /// Variables from `group_vars/` files.
    pub dir_vars: IndexMap<String, Value>,
    /// Direct member hosts, in order.
    pub hosts: Vec<String>,
    /// Direct child groups, in order.
    pub children: Vec<String>,
    /// Direct parent groups, in order.
    pub parents: Vec<String>,
    /// `ansible_group_priority` (default 1); never stored in `vars`.
    pub priority: i64,
    /// Longest path from `all` (`all` is 0).
    pub depth: usize,
}

impl Group {
    fn new(name: &str) -> Group {
        Group {
            name: name.to_string(),
            vars: IndexMap::new(),
            dir_vars: IndexMap::new(),
            hosts: Vec::new(),
            children: Vec::new(),
            parents: Vec::new(),
            priority: 1,
            depth: 0,
        }
    }
}

impl Inventory {
    /// An inventory with only `all` and `ungrouped` (`ungrouped` inside `all`).
    pub fn empty() -> Inventory {
        let mut inv = Inventory::default();
        inv.add_group("all");
        inv.add_group("ungrouped");
        // Cannot fail: two distinct fresh groups.
        let _ = inv.add_child_group("all", "ungrouped");
        inv
    }

    /// Read every source (file, directory or `h1,h2,` list) and merge them.
    /// No sources gives an inventory with only the implicit localhost.
    pub fn load(sources: &[String]) -> Result<Inventory, Error> {
        let mut inv = Inventory::empty();
        for source in sources {
            inv.load_source(source)?;
        }
        inv.reconcile();
        inv.load_vars_dirs()?;
        Ok(inv)
    }

    /// Whether `name` would be Ansible's implicit localhost: a localhost name
    /// that the inventory does not define. Such a host is selectable by name
    /// (see [`Inventory::select`]) but is not in `all`; its variables (from
    /// [`Inventory::host_vars`]) include `ansible_connection: local`.
    pub fn is_implicit_localhost(&self, name: &str) -> bool {
        LOCALHOST_NAMES.contains(&name) && !self.hosts.contains_key(name)
    }

    /// Ansible's `group_names`: every group the host is in, directly or through
    /// children, sorted, without `all` (`ungrouped` is kept, as Ansible does).
    pub fn group_names(&self, host: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .host_groups(host)
            .into_iter()
            .filter(|g| g != "all")
            .collect();
        names.sort();
        names
    }

    /// Ansible's `groups`: every group → all its hosts (children's included).
    pub fn groups_map(&self) -> IndexMap<String, Vec<String>> {
        self.groups
            .keys()
            .map(|g| (g.clone(), self.group_hosts(g)))
            .collect()
    }

    /// Every host of a group and its descendants, in Ansible's order: the
    /// group's own hosts, then its children's, breadth first.
    pub fn group_hosts(&self, group: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for g in self.descendants(group) {
            if let Some(g) = self.groups.get(&g) {
                for h in &g.hosts {
                    if seen.insert(h.as_str()) {
                        out.push(h.clone());
                    }
                }
            }
        }
        out
    }

    /// The group itself, then its descendants breadth first, each once.
    fn descendants(&self, group: &str) -> Vec<String> {
        let mut order = vec![group.to_string()];
        let mut i = 0;
        while i < order.len() {
            if let Some(g) = self.groups.get(&order[i]) {
                for c in &g.children {
                    if !order.contains(c) {
                        order.push(c.clone());
                    }
                }
            }
            i += 1;
        }
        order
    }

    /// The host's groups: direct ones plus all their ancestors.
    pub fn host_groups(&self, host: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let Some(h) = self.hosts.get(host) else {
            return out;
        };
        let mut stack: Vec<String> = h.groups.iter().rev().cloned().collect();
        while let Some(g) = stack.pop() {
            if out.contains(&g) {
                continue;
            }
            if let Some(group) = self.groups.get(&g) {
                stack.extend(group.parents.iter().rev().cloned());
            }
            out.push(g);
        }
        out
    }

    // ---- building, as Ansible's InventoryData does ----

    fn add_group(&mut self, name: &str) {
        if !self.groups.contains_key(name) {
            self.groups.insert(name.to_string(), Group::new(name));
        }
    }

    /// Add a host (once) and put it in `group`. A port only counts the first
    /// time a host is seen, as in Ansible's `Host(name, port)`.
    fn add_host(&mut self, name: &str, group: &str, port: Option<u16>, source: Option<&PathBuf>) {
        if !self.hosts.contains_key(name) {
            let mut host = Host {
                name: name.to_string(),
                source: source.cloned(),
                ..Host::default()
            };
            if let Some(port) = port {
                host.vars.insert("ansible_port".into(), Value::from(port));
            }
            self.hosts.insert(name.to_string(), host);
        }
        self.add_host_to_group(name, group);
    }

    fn add_host_to_group(&mut self, host: &str, group: &str) {
        self.add_group(group);
        if let Some(g) = self.groups.get_mut(group) {
            if !g.hosts.iter().any(|h| h == host) {
                g.hosts.push(host.to_string());
            }
        }
        if let Some(h) = self.hosts.get_mut(host) {
            if !h.groups.iter().any(|g| g == group) {
                h.groups.push(group.to_string());
            }
        }
    }

    fn remove_host_from_group(&mut self, host: &str, group: &str) {
        if let Some(g) = self.groups.get_mut(group) {
            g.hosts.retain(|h| h != host);
        }
        if let Some(h) = self.hosts.get_mut(host) {
            h.groups.retain(|g| g != group);
        }
    }

    /// Make `child` a child group of `parent`; refuses cycles like Ansible.
    fn add_child_group(&mut self, parent: &str, child: &str) -> Result<(), String> {
        if parent == child {
            return Err(format!("can't add group '{child}' to itself"));
        }
        self.add_group(parent);
        self.add_group(child);
        if self.ancestors(parent).iter().any(|a| a == child) {
            return Err(format!(
                "Adding group '{child}' as child to '{parent}' creates a recursive dependency loop."
            ));
        }
        if let Some(p) = self.groups.get_mut(parent) {
            if p.children.iter().any(|c| c == child) {
                return Ok(());
            }
            p.children.push(child.to_string());
        }
        if let Some(c) = self.groups.get_mut(child) {
            if !c.parents.iter().any(|p| p == parent) {
                c.parents.push(parent.to_string());
            }
        }
        Ok(())
    }

    fn ancestors(&self, group: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut stack = vec![group.to_string()];
        while let Some(g) = stack.pop() {
            if let Some(g) = self.groups.get(&g) {
                for p in &g.parents {
                    if !out.contains(p) {
                        out.push(p.clone());
                        stack.push(p.clone());
                    }
                }
            }
        }
        out
    }

    /// Ansible's `Group.set_variable`: `ansible_group_priority` sets the
    /// priority instead of a variable.
    fn set_group_var(&mut self, group: &str, key: String, value: Value) -> Result<(), String> {
        self.add_group(group);
        let Some(g) = self.groups.get_mut(group) else {
            return Ok(());
        };
        if key == "ansible_group_priority" {
            g.priority = python_int(&value).ok_or_else(|| {
                format!("invalid literal for int() with base 10: {value} (ansible_group_priority)")
            })?;
        } else {
            g.vars.insert(key, value);
        }
        Ok(())
    }

    fn set_host_var(&mut self, host: &str, key: String, value: Value) {
        if let Some(h) = self.hosts.get_mut(host) {
            h.vars.insert(key, value);
        }
    }

    /// Ansible's `reconcile_inventory`.
    fn reconcile(&mut self) {
        let names: Vec<String> = self.groups.keys().cloned().collect();
        for g in &names {
            if g != "all" && self.ancestors(g).is_empty() {
                // `all` has no ancestors, so this cannot loop.
                let _ = self.add_child_group("all", g);
            }
        }
        let hosts: Vec<String> = self.hosts.keys().cloned().collect();
        for h in &hosts {
            let groups = self.host_groups(h);
            let elsewhere = groups.iter().any(|g| g != "all" && g != "ungrouped");
            if groups.iter().any(|g| g == "ungrouped") {
                if elsewhere {
                    self.remove_host_from_group(h, "ungrouped");
                }
            } else if !elsewhere {
                self.add_host_to_group(h, "ungrouped");
            }
        }
        for conflict in self.hosts.keys().filter(|h| self.groups.contains_key(*h)) {
            self.warnings.push(format!(
                "Found both group and host with same name: {conflict}"
            ));
        }
        self.compute_depths();
    }

    /// depth = longest path from a root; parents always come first here
    /// because edges never form cycles.
    fn compute_depths(&mut self) {
        let names: Vec<String> = self.groups.keys().cloned().collect();
        let mut memo: IndexMap<String, usize> = IndexMap::new();
        fn depth(inv: &Inventory, g: &str, memo: &mut IndexMap<String, usize>) -> usize {
            if let Some(d) = memo.get(g) {
                return *d;
            }
            let parents = inv
                .groups
                .get(g)
                .map(|g| g.parents.clone())
                .unwrap_or_default();
            let d = parents
                .iter()
                .map(|p| depth(inv, p, memo) + 1)
                .max()
                .unwrap_or(0);
            memo.insert(g.to_string(), d);
            d
        }
        for g in &names {
            let d = depth(self, g, &mut memo);
            if let Some(group) = self.groups.get_mut(g) {
                group.depth = d;
            }
        }
    }
}

/// Python's `int(value)` for the values an inventory can hold.
fn python_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.trunc() as i64)),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::String(s) => s.trim().replace('_', "").parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_inventory_has_all_and_ungrouped() {
        let inv = Inventory::load(&[]).unwrap();
        assert_eq!(inv.groups.keys().collect::<Vec<_>>(), ["all", "ungrouped"]);
        assert_eq!(inv.groups["all"].children, ["ungrouped"]);
        assert!(inv.hosts.is_empty());
        assert!(inv.is_implicit_localhost("localhost"));
        assert_eq!(inv.select("localhost").unwrap(), ["localhost"]);
        assert!(inv.select("all").unwrap().is_empty());
    }

    #[test]
    fn cycles_are_refused() {
        let mut inv = Inventory::empty();
        inv.add_child_group("a", "b").unwrap();
        inv.add_child_group("b", "c").unwrap();
        assert!(inv.add_child_group("c", "a").is_err());
        assert!(inv.add_child_group("a", "a").is_err());
    }
}
