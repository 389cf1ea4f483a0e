//! `group_vars/` and `host_vars/` beside each inventory source (Ansible's
//! `host_group_vars` vars plugin with `DataLoader.find_vars_files`): for entity
//! NAME the first of `NAME`, `NAME.yml`, `NAME.yaml`, `NAME.json` that exists is
//! used; if it is a directory, every file in it (recursively, sorted, skipping
//! hidden files, `~` backups and other extensions) is merged in order.

use super::{Inventory, LOCALHOST_NAMES};
use crate::error::Error;
use crate::yaml::NodeKind;
use indexmap::IndexMap;
use serde_json::Value;
use std::path::{Path, PathBuf};

const EXTENSIONS: [&str; 4] = ["", ".yml", ".yaml", ".json"];

impl Inventory {
    /// Read `group_vars/` and `host_vars/` for every group and host (and for an
    /// implicit localhost), source by source.
    pub(super) fn load_vars_dirs(&mut self) -> Result<(), Error> {
        let dirs = self.vars_dirs.clone();
        let groups: Vec<String> = self.groups.keys().cloned().collect();
        let hosts: Vec<String> = self.hosts.keys().cloned().collect();
        for dir in &dirs {
            for g in &groups {
                let vars = load_entity(&dir.join("group_vars"), g)?;
                if let Some(group) = self.groups.get_mut(g) {
                    group.dir_vars.extend(vars);
                }
            }
            for h in &hosts {
                let vars = load_entity(&dir.join("host_vars"), h)?;
                if let Some(host) = self.hosts.get_mut(h) {
                    host.dir_vars.extend(vars);
                }
            }
            for name in LOCALHOST_NAMES {
                if !self.hosts.contains_key(name) {
                    let vars = load_entity(&dir.join("host_vars"), name)?;
                    self.implicit_dir_vars
                        .entry(name.to_string())
                        .or_default()
                        .extend(vars);
                }
            }
        }
        Ok(())
    }

    /// `host_vars/` data for an implicit localhost name.
    pub(super) fn implicit_dir_vars(&self, name: &str) -> IndexMap<String, Value> {
        self.implicit_dir_vars
            .get(name)
            .cloned()
            .unwrap_or_default()
    }
}

/// All variables for one entity from one `group_vars`/`host_vars` directory.
fn load_entity(base: &Path, name: &str) -> Result<IndexMap<String, Value>, Error> {
    let mut vars = IndexMap::new();
    // Names with a path separator would escape the directory (Ansible skips them).
    if !base.is_dir() || name.contains('/') || name.contains('\\') || name.is_empty() {
        return Ok(vars);
    }
    for file in find_vars_files(base, name) {
        vars.extend(load_vars_file(&file)?);
    }
    Ok(vars)
}

/// `DataLoader.find_vars_files`: the first existing candidate wins.
fn find_vars_files(base: &Path, name: &str) -> Vec<PathBuf> {
    for ext in EXTENSIONS {
        let path = base.join(format!("{name}{ext}"));
        if path.is_dir() {
            return dir_vars_files(&path);
        }
        if path.exists() {
            return vec![path];
        }
    }
    Vec::new()
}

/// `_get_dir_vars_files`: sorted, recursive, hidden and `~` files skipped,
/// only extensionless files or known extensions.
fn dir_vars_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for (name, path) in names {
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        let ext = name.rfind('.').map_or("", |i| &name[i..]);
        if path.is_dir() {
            if ext.is_empty() {
                out.extend(dir_vars_files(&path));
            }
        } else if ext.is_empty() || EXTENSIONS.contains(&ext) {
            out.push(path);
        }
    }
    out
}

/// One vars file: a mapping, or empty.
pub fn load_vars_file(path: &Path) -> Result<IndexMap<String, Value>, Error> {
    let mut vars = IndexMap::new();
    let Some(node) = crate::yaml::parse_file(path)? else {
        return Ok(vars);
    };
    match &node.kind {
        NodeKind::Map(_) => {
            if let Value::Object(map) = node.to_json() {
                vars.extend(map);
            }
        }
        NodeKind::Null => {}
        _ => {
            return Err(Error::at(
                &node.span,
                format!(
                    "vars file must contain a dictionary of variables, got {}",
                    node.type_name()
                ),
            ))
        }
    }
    Ok(vars)
}
