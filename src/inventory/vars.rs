//! A host's inventory variables merged in Ansible's precedence
//! (`VariableManager.get_vars` with the default `VARIABLE_PRECEDENCE`), lowest
//! first, each level replacing whole top-level keys (`hash_behaviour=replace`):
//!
//! 1. `all` group vars from inventory files
//! 2. other groups' inventory vars, sorted by (depth, priority, name)
//! 3. `group_vars/all`
//! 4. other groups' `group_vars/`, same order
//! 5. the host's inventory-file vars
//! 6. `host_vars/`

use super::{Group, Inventory};
use indexmap::IndexMap;
use serde_json::Value;

impl Inventory {
    /// The host's merged inventory variables (no magic variables such as
    /// `inventory_hostname`). An implicit localhost gets `all`'s variables and
    /// `ansible_connection: local`. Unknown hosts get an empty map.
    pub fn host_vars(&self, host: &str) -> IndexMap<String, Value> {
        let mut out = IndexMap::new();
        let Some(all) = self.groups.get("all") else {
            return out;
        };
        let Some(h) = self.hosts.get(host) else {
            if self.is_implicit_localhost(host) {
                out.extend(all.vars.clone());
                out.extend(all.dir_vars.clone());
                out.insert("ansible_connection".into(), Value::from("local"));
                out.extend(self.implicit_dir_vars(host));
            }
            return out;
        };
        let groups = self.sorted_host_groups(host);
        out.extend(all.vars.clone());
        for g in &groups {
            out.extend(g.vars.clone());
        }
        out.extend(all.dir_vars.clone());
        for g in &groups {
            out.extend(g.dir_vars.clone());
        }
        out.extend(h.vars.clone());
        out.extend(h.dir_vars.clone());
        out
    }

    /// Ansible's `sort_groups` over the host's groups except `all`.
    pub fn sorted_host_groups(&self, host: &str) -> Vec<&Group> {
        let mut groups: Vec<&Group> = self
            .host_groups(host)
            .iter()
            .filter(|g| *g != "all")
            .filter_map(|g| self.groups.get(g))
            .collect();
        groups.sort_by(|a, b| (a.depth, a.priority, &a.name).cmp(&(b.depth, b.priority, &b.name)));
        groups
    }
}
