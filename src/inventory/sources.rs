//! Turning one `-i` argument into inventory: a `h1,h2,` list, a directory of
//! inventory files, or a single file whose format (YAML or INI) is detected the
//! way Ansible's plugin chain would pick it.

use super::{address, ini, yaml, Inventory};
use crate::error::Error;
use std::path::{Path, PathBuf};

/// Extensions Ansible skips in inventory directories (`INVENTORY_IGNORE_EXTS`).
const IGNORED_EXTS: [&str; 12] = [
    ".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry",
];
/// Names always skipped in inventory directories (`IGNORED_ALWAYS`).
const IGNORED_NAMES: [&str; 3] = ["host_vars", "group_vars", "vars_plugins"];
const YAML_EXTS: [&str; 3] = [".yml", ".yaml", ".json"];

impl Inventory {
    pub(super) fn load_source(&mut self, source: &str) -> Result<(), Error> {
        if source.is_empty() {
            return Ok(());
        }
        let path = Path::new(source);
        if source.contains(',') && !path.exists() {
            self.load_host_list(source);
            return Ok(());
        }
        if path.is_dir() {
            self.push_vars_dir(path.to_path_buf());
            self.load_dir(path)
        } else if path.is_file() {
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            self.push_vars_dir(parent);
            self.load_file(path)
        } else {
            self.warnings
                .push(format!("Unable to parse {source} as an inventory source"));
            Ok(())
        }
    }

    fn push_vars_dir(&mut self, dir: PathBuf) {
        if !self.vars_dirs.contains(&dir) {
            self.vars_dirs.push(dir);
        }
    }

    /// The `host_list` plugin: no ranges, unparsable names kept verbatim.
    fn load_host_list(&mut self, list: &str) {
        for h in list.split(',').map(str::trim).filter(|h| !h.is_empty()) {
            let (name, port) = match address::parse_address(h) {
                Some((host, port)) if !host.contains('[') => (host, port),
                _ => (h.to_string(), None),
            };
            if !self.hosts.contains_key(&name) {
                self.add_host(&name, "ungrouped", port, None);
            }
        }
    }

    fn load_dir(&mut self, dir: &Path) -> Result<(), Error> {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        let mut names: Vec<(String, PathBuf)> = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            names.push((name, entry.path()));
        }
        names.sort();
        for (name, path) in names {
            if name.starts_with('.')
                || IGNORED_NAMES.contains(&name.as_str())
                || IGNORED_EXTS.iter().any(|e| name.ends_with(e))
            {
                continue;
            }
            if path.is_dir() {
                self.load_dir(&path)?;
            } else {
                self.load_file(&path)?;
            }
        }
        Ok(())
    }

    fn load_file(&mut self, path: &Path) -> Result<(), Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let ext = extension(path);
        let source = path.to_path_buf();
        if YAML_EXTS.contains(&ext.as_str()) {
            return yaml::load(self, &text, &source);
        }
        if !ext.is_empty() {
            return ini::load(self, &text, &source);
        }
        // No extension: Ansible tries the YAML plugin, then INI.
        match crate::yaml::parse_str(&text, path) {
            Ok(Some(node)) if yaml::looks_like_inventory(&node) => {
                yaml::load_node(self, &node, &source)
            }
            Ok(_) => ini::load(self, &text, &source),
            Err(yaml_err) => {
                let mut trial = self.clone();
                match ini::load(&mut trial, &text, &source) {
                    Ok(()) => {
                        *self = trial;
                        Ok(())
                    }
                    Err(ini_err) if first_line_is_yaml_key(&text) => {
                        let _ = ini_err;
                        Err(yaml_err)
                    }
                    Err(ini_err) => Err(ini_err),
                }
            }
        }
    }
}

/// Python's `os.path.splitext` extension, with its dot (`.hidden` has none).
fn extension(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.trim_start_matches('.');
    match stem.rfind('.') {
        Some(i) => stem[i..].to_string(),
        None => String::new(),
    }
}

/// Whether a file that failed both parsers was meant as YAML (`all:`-style
/// first line), to report the more useful of the two errors.
fn first_line_is_yaml_key(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .is_some_and(|l| l == "---" || (l.ends_with(':') && !l.starts_with('[')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_like_python() {
        assert_eq!(extension(Path::new("a/hosts.yml")), ".yml");
        assert_eq!(extension(Path::new("a/hosts")), "");
        assert_eq!(extension(Path::new("a/.hidden")), "");
        assert_eq!(extension(Path::new("a/x.tar.gz")), ".gz");
    }

    #[test]
    fn host_lists() {
        let inv = Inventory::load(&["h1, h2:2222,[::1]:22,web[1:2],".to_string()]).unwrap();
        assert_eq!(
            inv.hosts.keys().collect::<Vec<_>>(),
            ["h1", "h2", "::1", "web[1:2]"]
        );
        assert_eq!(inv.hosts["h2"].vars["ansible_port"], 2222);
        assert_eq!(inv.groups["ungrouped"].hosts.len(), 4);
    }
}
