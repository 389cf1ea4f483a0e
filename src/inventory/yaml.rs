//! Ansible's YAML inventory format (`plugins/inventory/yaml.py`): top-level keys
//! are groups; each group may have `hosts` (host → vars), `vars` and `children`
//! (group → group body), processed in the order written.
//!
//! Like Ansible, a group body that is not a mapping and unknown group keys are
//! skipped with a warning, while a `hosts`/`vars`/`children` value that is not a
//! mapping is an error. Warnings and errors carry `file:line:col`.

use super::{address, Inventory};
use crate::error::Error;
use crate::yaml::{Node, NodeKind};
use std::path::Path;

/// Parse YAML inventory `text` (read from `path`) into `inv`.
pub fn load(inv: &mut Inventory, text: &str, path: &Path) -> Result<(), Error> {
    let (node, warnings) = crate::yaml::parse_str_with_warnings(text, path)?;
    for w in warnings {
        inv.warnings.push(format!("{}: {}", w.span, w.message));
    }
    match node {
        Some(node) => load_node(inv, &node, path),
        None => Err(Error::at(
            &crate::error::Span::new(std::sync::Arc::new(path.to_path_buf()), 1, 1),
            "Parsed empty YAML file",
        )),
    }
}

/// Whether a parsed document is meant as a YAML inventory (a mapping).
pub fn looks_like_inventory(node: &Node) -> bool {
    matches!(node.kind, NodeKind::Map(_))
}

/// Load an already parsed YAML inventory document.
pub fn load_node(inv: &mut Inventory, root: &Node, path: &Path) -> Result<(), Error> {
    let NodeKind::Map(entries) = &root.kind else {
        return Err(Error::at(
            &root.span,
            format!(
                "YAML inventory has invalid structure, it should be a dictionary, got: {}",
                root.type_name()
            ),
        ));
    };
    if let Some(p) = root.get("plugin") {
        if !p.is_null() {
            return Err(Error::at(
                &p.span,
                "Plugin configuration YAML file, not YAML inventory (inventory plugins are not supported)",
            ));
        }
    }
    let source = path.to_path_buf();
    for (name, body) in entries {
        parse_group(inv, name, body, &source)?;
    }
    Ok(())
}

fn group_name(node: &Node) -> Result<String, Error> {
    match node.as_str() {
        Some(s) if !s.is_empty() => Ok(s.to_string()),
        _ => Err(Error::at(
            &node.span,
            format!(
                "Invalid group name supplied, expected a non-empty string but got {}",
                node.type_name()
            ),
        )),
    }
}

fn parse_group(
    inv: &mut Inventory,
    name_node: &Node,
    body: &Node,
    source: &std::path::PathBuf,
) -> Result<String, Error> {
    let name = group_name(name_node)?;
    let entries = match &body.kind {
        NodeKind::Null => {
            inv.add_group(&name);
            return Ok(name);
        }
        NodeKind::Map(entries) => entries,
        _ => {
            inv.warnings.push(format!(
                "{}: Skipping '{name}' as this is not a valid group definition",
                body.span
            ));
            return Ok(name);
        }
    };
    inv.add_group(&name);

    // Sections must be mappings (a lone string means `{string: null}`).
    for (key, value) in entries {
        let Some(section @ ("vars" | "children" | "hosts")) = key.as_str() else {
            continue;
        };
        if !matches!(
            value.kind,
            NodeKind::Map(_) | NodeKind::Null | NodeKind::Str { .. }
        ) {
            return Err(Error::at(
                &value.span,
                format!(
                    "Invalid \"{section}\" entry for \"{name}\" group, requires a dictionary, found \"{}\" instead.",
                    value.type_name()
                ),
            ));
        }
    }

    for (key, value) in entries {
        let key_text = key.scalar_string().unwrap_or_default();
        let pairs: Vec<(&Node, Option<&Node>)> = match &value.kind {
            NodeKind::Null => continue,
            NodeKind::Map(m) => m.iter().map(|(k, v)| (k, Some(v))).collect(),
            NodeKind::Str { .. } if matches!(key_text.as_str(), "vars" | "children" | "hosts") => {
                vec![(value, None)]
            }
            _ => {
                inv.warnings.push(format!(
                    "{}: Skipping key ({key_text}) in group ({name}) as it is not a mapping, it is a {}",
                    value.span,
                    value.type_name()
                ));
                continue;
            }
        };
        match key_text.as_str() {
            "vars" => {
                for (k, v) in pairs {
                    let value = v.map_or(serde_json::Value::Null, Node::to_json);
                    inv.set_group_var(&name, var_name(k), value)
                        .map_err(|m| Error::at(&k.span, m))?;
                }
            }
            "children" => {
                for (k, v) in pairs {
                    let null = Node {
                        kind: NodeKind::Null,
                        span: k.span.clone(),
                        tag: None,
                    };
                    let child = parse_group(inv, k, v.unwrap_or(&null), source)?;
                    inv.add_child_group(&name, &child)
                        .map_err(|m| Error::at(&k.span, m))?;
                }
            }
            "hosts" => {
                for (k, v) in pairs {
                    parse_host(inv, &name, k, v, source)?;
                }
            }
            _ => inv.warnings.push(format!(
                "{}: Skipping unexpected key ({key_text}) in group ({name}), only \"vars\", \"children\" and \"hosts\" are valid",
                key.span
            )),
        }
    }
    Ok(name)
}

fn parse_host(
    inv: &mut Inventory,
    group: &str,
    key: &Node,
    vars: Option<&Node>,
    source: &std::path::PathBuf,
) -> Result<(), Error> {
    let Some(pattern) = key.as_str().filter(|s| !s.is_empty()) else {
        return Err(Error::at(
            &key.span,
            format!(
                "Invalid host name supplied, expected a non-empty string but got {}",
                key.type_name()
            ),
        ));
    };
    let (hosts, port) =
        address::expand_hostpattern(pattern).map_err(|m| Error::at(&key.span, m))?;
    let entries: &[(Node, Node)] = match vars.map(|v| &v.kind) {
        None | Some(NodeKind::Null) => &[],
        Some(NodeKind::Map(m)) => m,
        Some(_) => {
            let v = vars.unwrap_or(key);
            return Err(Error::at(
                &v.span,
                format!(
                    "Invalid variables for host \"{pattern}\": expected a dictionary, got {}",
                    v.type_name()
                ),
            ));
        }
    };
    for h in &hosts {
        inv.add_host(h, group, port, Some(source));
        for (k, v) in entries {
            inv.set_host_var(h, var_name(k), v.to_json());
        }
    }
    Ok(())
}

fn var_name(k: &Node) -> String {
    match k.to_json() {
        serde_json::Value::String(s) => s,
        other => k.scalar_string().unwrap_or_else(|| other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Result<Inventory, Error> {
        let mut inv = Inventory::empty();
        load(&mut inv, text, Path::new("inv.yml"))?;
        inv.reconcile();
        Ok(inv)
    }

    fn err(text: &str) -> String {
        match parse(text) {
            Err(Error::Located { span, message }) => {
                format!("{}:{}: {message}", span.line, span.col)
            }
            other => panic!("expected error, got {other:?}"),
        }
    }

    #[test]
    fn groups_hosts_children() {
        let inv = parse(
            "all:\n  vars: {x: 1}\n  hosts:\n    a:\n  children:\n    web:\n      hosts:\n        w[1:2]:8022: {v: true}\n        a:\n      children:\n        app: ~\ndb:\n  hosts: solo\n",
        )
        .unwrap();
        assert_eq!(inv.groups["all"].vars["x"], json!(1));
        assert_eq!(inv.groups["all"].children, ["ungrouped", "web", "db"]);
        assert_eq!(inv.groups["web"].hosts, ["w1", "w2", "a"]);
        assert_eq!(inv.groups["web"].children, ["app"]);
        assert_eq!(inv.groups["db"].hosts, ["solo"]);
        assert_eq!(inv.hosts["w2"].vars["ansible_port"], json!(8022));
        assert_eq!(inv.hosts["w2"].vars["v"], json!(true));
        assert!(inv.groups["ungrouped"].hosts.is_empty());
    }

    #[test]
    fn bad_structure() {
        assert_eq!(
            err("web:\n  hosts:\n    - a\n    - b\n"),
            "3:5: Invalid \"hosts\" entry for \"web\" group, requires a dictionary, found \"list\" instead."
        );
        assert_eq!(
            err("- a\n"),
            "1:1: YAML inventory has invalid structure, it should be a dictionary, got: list"
        );
        assert_eq!(
            err("web:\n  hosts:\n    a: [1]\n"),
            "3:8: Invalid variables for host \"a\": expected a dictionary, got list"
        );
        assert_eq!(err(""), "1:1: Parsed empty YAML file");
    }

    #[test]
    fn warnings_for_skipped_parts() {
        let inv = parse("web: oops\ndb:\n  host:\n    a:\n  other: 3\n").unwrap();
        assert_eq!(
            inv.warnings,
            [
                "inv.yml:1:6: Skipping 'web' as this is not a valid group definition",
                "inv.yml:3:3: Skipping unexpected key (host) in group (db), only \"vars\", \"children\" and \"hosts\" are valid",
                "inv.yml:5:10: Skipping key (other) in group (db) as it is not a mapping, it is a int",
            ]
        );
    }
}
