//! Ansible's INI inventory format (`plugins/inventory/ini.py`): `[group]`,
//! `[group:vars]` and `[group:children]` sections, hosts before any section in
//! `ungrouped`, and `key=value` values read as Python literals.
//!
//! A `[g:vars]` or `[p:children]` entry may name a group declared further down;
//! like Ansible we keep such names pending and fail at the end if they never
//! appear. Errors name the file and line (column of the offending text).

use super::{address, literal, Inventory};
use crate::error::{Error, Span};
use indexmap::IndexMap;
use regex::Regex;
use std::path::Path;
use std::sync::{Arc, OnceLock};

#[derive(PartialEq, Clone, Copy)]
enum State {
    Hosts,
    Vars,
    Children,
}

struct Pending {
    line: usize,
    col: usize,
    state: State,
    parents: Vec<String>,
}

fn section_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$").expect("static regex"))
}

fn groupname_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^([^:\]\s]+)\s*(?:#.*)?$").expect("static regex"))
}

/// Parse INI inventory `text` (read from `path`) into `inv`.
pub fn load(inv: &mut Inventory, text: &str, path: &Path) -> Result<(), Error> {
    let file = Arc::new(path.to_path_buf());
    let source = path.to_path_buf();
    let at =
        |line: usize, col: usize, msg: String| Error::at(&Span::new(file.clone(), line, col), msg);

    let mut pending: IndexMap<String, Pending> = IndexMap::new();
    let mut group = "ungrouped".to_string();
    let mut state = State::Hosts;

    for (idx, raw) in text.lines().enumerate() {
        let lineno = idx + 1;
        let line = raw.trim();
        let col = raw.len() - raw.trim_start().len() + 1;
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(c) = section_re().captures(line) {
            group = c[1].to_string();
            let kind = c.get(2).map_or("hosts", |m| m.as_str());
            state = match kind {
                "hosts" => State::Hosts,
                "vars" => State::Vars,
                "children" => State::Children,
                other => {
                    return Err(at(
                        lineno,
                        col,
                        format!("Section [{group}:{other}] has unknown type: {other}"),
                    ))
                }
            };
            if !inv.groups.contains_key(&group) {
                // `[g:vars]` alone does not declare g; check at the end.
                if state == State::Vars && !pending.contains_key(&group) {
                    pending.insert(
                        group.clone(),
                        Pending {
                            line: lineno,
                            col,
                            state,
                            parents: Vec::new(),
                        },
                    );
                }
                inv.add_group(&group);
            }
            if state != State::Vars {
                if let Some(p) = pending.get(&group) {
                    match p.state {
                        State::Children => add_pending_children(inv, &group, &mut pending)
                            .map_err(|m| at(lineno, col, m))?,
                        _ => {
                            pending.shift_remove(&group);
                        }
                    }
                }
            }
            continue;
        } else if line.starts_with('[') && line.ends_with(']') {
            return Err(at(
                lineno,
                col,
                format!(
                    "Invalid section entry: '{line}'. Please make sure that there are no spaces in the \
                     section entry, and that there are no other invalid characters"
                ),
            ));
        }

        match state {
            State::Hosts => {
                let tokens = crate::shlex::split(line, true).map_err(|e| {
                    at(
                        lineno,
                        col,
                        format!("Error parsing host definition '{line}': {e}"),
                    )
                })?;
                let Some(first) = tokens.first() else {
                    continue;
                };
                let (hosts, port) = expand(first).map_err(|m| at(lineno, col, m))?;
                let mut vars = Vec::new();
                for t in &tokens[1..] {
                    let Some((k, v)) = t.split_once('=') else {
                        let c = raw.find(t.as_str()).map_or(col, |i| i + 1);
                        return Err(at(
                            lineno,
                            c,
                            format!("Expected key=value host variable assignment, got: {t}"),
                        ));
                    };
                    vars.push((k.to_string(), literal::parse_value(v)));
                }
                for h in &hosts {
                    inv.add_host(h, &group, port, Some(&source));
                    for (k, v) in &vars {
                        inv.set_host_var(h, k.clone(), v.clone());
                    }
                }
            }
            State::Vars => {
                let Some((k, v)) = line.split_once('=') else {
                    return Err(at(lineno, col, format!("Expected key=value, got: {line}")));
                };
                inv.set_group_var(&group, k.trim().to_string(), literal::parse_value(v.trim()))
                    .map_err(|m| at(lineno, col, m))?;
            }
            State::Children => {
                let Some(c) = groupname_re().captures(line) else {
                    return Err(at(lineno, col, format!("Expected group name, got: {line}")));
                };
                let child = c[1].to_string();
                if inv.groups.contains_key(&child) {
                    inv.add_child_group(&group, &child)
                        .map_err(|m| at(lineno, col, m))?;
                } else if let Some(p) = pending.get_mut(&child) {
                    p.parents.push(group.clone());
                } else {
                    pending.insert(
                        child,
                        Pending {
                            line: lineno,
                            col,
                            state: State::Children,
                            parents: vec![group.clone()],
                        },
                    );
                }
            }
        }
    }

    // Anything still pending was never declared; report the first.
    if let Some((name, p)) = pending.first() {
        let msg = match p.state {
            State::Vars => format!("Section [{name}:vars] not valid for undefined group '{name}'."),
            _ => format!(
                "Section [{}:children] includes undefined group '{name}'.",
                p.parents.last().map_or("", String::as_str)
            ),
        };
        return Err(at(p.line, p.col, msg));
    }
    Ok(())
}

/// Attach a now-declared group to the parents that named it early.
fn add_pending_children(
    inv: &mut Inventory,
    group: &str,
    pending: &mut IndexMap<String, Pending>,
) -> Result<(), String> {
    let Some(p) = pending.shift_remove(group) else {
        return Ok(());
    };
    for parent in &p.parents {
        inv.add_child_group(parent, group)?;
        if pending
            .get(parent)
            .is_some_and(|pp| pp.state == State::Children)
        {
            add_pending_children(inv, parent, pending)?;
        }
    }
    Ok(())
}

/// The INI plugin's `_expand_hostpattern` with its extra checks.
fn expand(pattern: &str) -> Result<(Vec<String>, Option<u16>), String> {
    let (hosts, port) = address::expand_hostpattern(pattern)?;
    if pattern.trim().ends_with(':') && port.is_none() {
        return Err(format!(
            "Invalid host pattern '{pattern}' supplied, ending in ':' is not allowed, this \
             character is reserved to provide a port."
        ));
    }
    if hosts.iter().any(|h| h.trim() == "---") {
        return Err(format!(
            "Invalid host pattern '{pattern}' supplied, '---' is normally a sign this is a YAML file."
        ));
    }
    Ok((hosts, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Result<Inventory, Error> {
        let mut inv = Inventory::empty();
        load(&mut inv, text, Path::new("hosts"))?;
        inv.reconcile();
        Ok(inv)
    }

    #[test]
    fn sections_and_values() {
        let inv = parse(
            "h0 a=1 b=True c=\"x\" d=[1,2] e=\"'07'\" f=yes\n\
             [web]\nweb[1:2]:2222 # comment\n\
             [web:vars]\nhttp_port=8080 # c\nname = some value\n\
             [db:children]\nweb\n",
        )
        .unwrap();
        let h0 = &inv.hosts["h0"].vars;
        assert_eq!(h0["a"], json!(1));
        assert_eq!(h0["b"], json!(true));
        assert_eq!(h0["c"], json!("x"));
        assert_eq!(h0["d"], json!([1, 2]));
        assert_eq!(h0["e"], json!("07"));
        assert_eq!(h0["f"], json!("yes"));
        assert_eq!(inv.hosts["web2"].vars["ansible_port"], json!(2222));
        assert_eq!(inv.groups["web"].vars["http_port"], json!(8080));
        assert_eq!(inv.groups["web"].vars["name"], json!("some value"));
        assert_eq!(inv.groups["db"].children, ["web"]);
        assert_eq!(inv.groups["ungrouped"].hosts, ["h0"]);
        assert_eq!(inv.groups["all"].children, ["ungrouped", "db"]);
    }

    #[test]
    fn children_declared_later() {
        let inv = parse("[top:children]\nmid\n[mid:children]\nleaf\n[leaf]\nh\n").unwrap();
        assert_eq!(inv.groups["top"].children, ["mid"]);
        assert_eq!(inv.groups["mid"].children, ["leaf"]);
        assert_eq!(inv.group_names("h"), ["leaf", "mid", "top"]);
    }

    #[test]
    fn errors_name_the_line() {
        let msg = |t: &str| match parse(t) {
            Err(Error::Located { span, message }) => {
                format!("{}:{}: {message}", span.line, span.col)
            }
            other => panic!("expected error, got {other:?}"),
        };
        assert_eq!(
            msg("[web]\nh1\n[web:bogus]\n"),
            "3:1: Section [web:bogus] has unknown type: bogus"
        );
        assert_eq!(
            msg("[web]\n  h1 novalue\n"),
            "2:6: Expected key=value host variable assignment, got: novalue"
        );
        assert_eq!(
            msg("[g:vars]\nx=1\n"),
            "1:1: Section [g:vars] not valid for undefined group 'g'."
        );
        assert_eq!(
            msg("[p:children]\nmissing\n"),
            "2:1: Section [p:children] includes undefined group 'missing'."
        );
        assert_eq!(
            msg("[web ]\n"),
            "1:1: Invalid section entry: '[web ]'. Please make sure that there are no spaces in \
             the section entry, and that there are no other invalid characters"
        );
        assert_eq!(
            msg("[g:vars]\nnovalue\n[g]\n"),
            "2:1: Expected key=value, got: novalue"
        );
        assert!(msg("all:\n  hosts:\n").contains("ending in ':' is not allowed"));
        assert!(msg("h a='x\n").contains("No closing quotation"));
        assert!(msg("[a:children]\nb\n[b:children]\na\n").contains("recursive dependency loop"));
    }
}
