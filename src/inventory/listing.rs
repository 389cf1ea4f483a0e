//! What `ansible-inventory` prints (`cli/inventory.py`): `--list` JSON with
//! `_meta.hostvars`, `--graph [group]` and `--host NAME`.
//!
//! Ansible dumps JSON with `sort_keys=True`, so every object here has sorted
//! keys (lists keep inventory order); serialize with a 4-space indent to match
//! its output byte for byte.

use super::Inventory;
use crate::error::Error;
use serde_json::{Map, Value};
use std::collections::HashSet;

impl Inventory {
    /// `ansible-inventory --list`: groups with non-empty `hosts`/`children`
    /// (never `vars`: group vars are folded into `_meta.hostvars`), and hosts
    /// with non-empty merged variables.
    pub fn list_json(&self) -> Value {
        let mut out = Map::new();
        let available: HashSet<String> = self.group_hosts("all").into_iter().collect();
        let mut seen: HashSet<String> = HashSet::new();
        self.format_group("all", &available, &mut seen, &mut out);
        let mut hostvars = Map::new();
        for h in self.group_hosts("all") {
            let vars = self.host_vars(&h);
            if !vars.is_empty() {
                hostvars.insert(h, Value::Object(vars.into_iter().collect()));
            }
        }
        let mut meta = Map::new();
        meta.insert("hostvars".into(), Value::Object(hostvars));
        // ansible-core 2.19 names its output profile here.
        meta.insert("profile".into(), Value::from("inventory_legacy"));
        out.insert("_meta".into(), Value::Object(meta));
        sort_keys(Value::Object(out))
    }

    fn format_group(
        &self,
        name: &str,
        available: &HashSet<String>,
        seen: &mut HashSet<String>,
        out: &mut Map<String, Value>,
    ) {
        let Some(group) = self.groups.get(name) else {
            return;
        };
        let mut entry = Map::new();
        if name != "all" {
            let hosts: Vec<Value> = group
                .hosts
                .iter()
                .filter(|h| available.contains(*h))
                .map(|h| Value::from(h.as_str()))
                .collect();
            if !hosts.is_empty() {
                entry.insert("hosts".into(), Value::Array(hosts));
            }
        }
        let children: Vec<Value> = group
            .children
            .iter()
            .map(|c| Value::from(c.as_str()))
            .collect();
        if !children.is_empty() {
            entry.insert("children".into(), Value::Array(children));
        }
        // Ansible inserts the parent before recursing, so a child's entry is
        // written after (and does not replace) its parent's.
        if !entry.is_empty() {
            out.insert(name.to_string(), Value::Object(entry));
        }
        for child in &group.children {
            if seen.insert(child.clone()) {
                self.format_group(child, available, seen, out);
            }
        }
    }

    /// `ansible-inventory --graph [group]` (default `all`), without a trailing
    /// newline. Errors if the group does not exist.
    pub fn graph(&self, group: Option<&str>) -> Result<String, Error> {
        let start = group.unwrap_or("all");
        if !self.groups.contains_key(start) {
            return Err(Error::Options(
                "Pattern must be valid group name when using --graph".into(),
            ));
        }
        let mut lines = Vec::new();
        self.graph_group(start, 0, &mut lines);
        Ok(lines.join("\n"))
    }

    fn graph_group(&self, name: &str, depth: usize, lines: &mut Vec<String>) {
        let Some(group) = self.groups.get(name) else {
            return;
        };
        lines.push(graph_name(&format!("@{name}:"), depth));
        for child in &group.children {
            self.graph_group(child, depth + 1, lines);
        }
        if name != "all" {
            for h in &group.hosts {
                lines.push(graph_name(h, depth + 1));
            }
        }
    }

    /// `ansible-inventory --host PATTERN`: the one matching host's variables.
    pub fn host_json(&self, host: &str) -> Result<Value, Error> {
        let hosts = self.select(host)?;
        let [h] = hosts.as_slice() else {
            return Err(Error::Options(
                "You must pass a single valid host to --host parameter".into(),
            ));
        };
        Ok(sort_keys(Value::Object(
            self.host_vars(h).into_iter().collect(),
        )))
    }
}

fn graph_name(name: &str, depth: usize) -> String {
    if depth == 0 {
        name.to_string()
    } else {
        format!("{}--{name}", "  |".repeat(depth))
    }
}

/// Recursively sort object keys, as `json.dumps(sort_keys=True)` prints them.
pub fn sort_keys(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}
