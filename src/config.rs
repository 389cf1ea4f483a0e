//! ansible.cfg and `ANSIBLE_*` environment variables: the settings that apply
//! when neither the command line nor host variables say otherwise.
//!
//! Search order as Ansible: `$ANSIBLE_CONFIG`, `./ansible.cfg`, `~/.ansible.cfg`,
//! `/etc/ansible/ansible.cfg`; the first file found is used, alone. Unknown keys
//! are ignored, as Ansible does.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Span};

/// The settings ferry honours, after file and environment.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The file the settings came from, if any.
    pub path: Option<PathBuf>,
    pub inventory: Vec<String>,
    pub remote_user: Option<String>,
    pub private_key_file: Option<PathBuf>,
    pub forks: Option<usize>,
    pub host_key_checking: Option<bool>,
    /// `force_handlers`: run notified handlers on hosts that failed.
    pub force_handlers: Option<bool>,
    pub timeout: Option<u64>,
    pub verbosity: Option<u8>,
    pub ssh_args: Option<String>,
    pub ssh_common_args: Option<String>,
    pub ssh_extra_args: Option<String>,
    pub retries: Option<u32>,
    /// `roles_path` (`ANSIBLE_ROLES_PATH`): where roles are looked for
    /// after the playbook's own `roles/`; `None`: Ansible's default.
    pub roles_path: Option<Vec<PathBuf>>,
}

/// Parsed INI sections: section → key → (value, line).
type Ini = HashMap<String, HashMap<String, (String, usize)>>;

impl Config {
    /// Find and read the config file, then apply the environment.
    pub fn load() -> Result<Config, Error> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Config::load_from(&env, &cwd)
    }

    /// Testable core of [`Config::load`]: an explicit environment and cwd.
    pub fn load_from(env: &HashMap<String, String>, cwd: &Path) -> Result<Config, Error> {
        let mut cfg = match find_file(env, cwd) {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
                let ini = parse_ini(&text, &path)?;
                Config::from_ini(&ini, &path)?
            }
            None => Config::default(),
        };
        cfg.apply_env(env)?;
        Ok(cfg)
    }

    fn from_ini(ini: &Ini, path: &Path) -> Result<Config, Error> {
        let base = path.parent().unwrap_or(Path::new("."));
        let file = std::sync::Arc::new(path.to_path_buf());
        let get = |sec: &str, key: &str| ini.get(sec).and_then(|s| s.get(key));
        let mut cfg = Config {
            path: Some(path.to_path_buf()),
            ..Default::default()
        };
        if let Some((v, _)) = get("defaults", "inventory").or(get("defaults", "hostfile")) {
            cfg.inventory = split_pathlist(v, Some(base));
        }
        cfg.remote_user = get("defaults", "remote_user").map(|(v, _)| v.clone());
        cfg.roles_path =
            get("defaults", "roles_path").map(|(v, _)| split_colon_paths(v, Some(base)));
        cfg.private_key_file =
            get("defaults", "private_key_file").map(|(v, _)| resolve_path(v, Some(base)));
        let bad = |key: &str, line: usize, what: &str| {
            Error::at(
                &Span::new(file.clone(), line, 1),
                format!("invalid value for {key}: expected {what}"),
            )
        };
        if let Some((v, l)) = get("defaults", "forks") {
            cfg.forks = Some(v.parse().map_err(|_| bad("forks", *l, "an integer"))?);
        }
        if let Some((v, _)) = get("defaults", "host_key_checking") {
            cfg.host_key_checking = Some(ansible_bool(v));
        }
        if let Some((v, _)) = get("defaults", "force_handlers") {
            cfg.force_handlers = Some(ansible_bool(v));
        }
        if let Some((v, l)) = get("defaults", "timeout") {
            cfg.timeout = Some(v.parse().map_err(|_| bad("timeout", *l, "an integer"))?);
        }
        if let Some((v, l)) = get("defaults", "verbosity") {
            cfg.verbosity = Some(v.parse().map_err(|_| bad("verbosity", *l, "an integer"))?);
        }
        cfg.ssh_args = get("ssh_connection", "ssh_args").map(|(v, _)| v.clone());
        cfg.ssh_common_args = get("ssh_connection", "ssh_common_args").map(|(v, _)| v.clone());
        cfg.ssh_extra_args = get("ssh_connection", "ssh_extra_args").map(|(v, _)| v.clone());
        if let Some((v, l)) = get("ssh_connection", "retries") {
            cfg.retries = Some(v.parse().map_err(|_| bad("retries", *l, "an integer"))?);
        }
        Ok(cfg)
    }

    fn apply_env(&mut self, env: &HashMap<String, String>) -> Result<(), Error> {
        let int = |name: &str, v: &str| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| Error::Options(format!("{name}={v:?}: expected an integer")))
        };
        if let Some(v) = env.get("ANSIBLE_INVENTORY") {
            self.inventory = split_pathlist(v, None);
        }
        if let Some(v) = env.get("ANSIBLE_ROLES_PATH") {
            self.roles_path = Some(split_colon_paths(v, None));
        }
        if let Some(v) = env.get("ANSIBLE_REMOTE_USER") {
            self.remote_user = Some(v.clone());
        }
        if let Some(v) = env.get("ANSIBLE_PRIVATE_KEY_FILE") {
            self.private_key_file = Some(resolve_path(v, None));
        }
        if let Some(v) = env.get("ANSIBLE_FORKS") {
            self.forks = Some(int("ANSIBLE_FORKS", v)? as usize);
        }
        if let Some(v) = env.get("ANSIBLE_HOST_KEY_CHECKING") {
            self.host_key_checking = Some(ansible_bool(v));
        }
        if let Some(v) = env.get("ANSIBLE_FORCE_HANDLERS") {
            self.force_handlers = Some(ansible_bool(v));
        }
        if let Some(v) = env.get("ANSIBLE_TIMEOUT") {
            self.timeout = Some(int("ANSIBLE_TIMEOUT", v)?);
        }
        if let Some(v) = env.get("ANSIBLE_VERBOSITY") {
            self.verbosity = Some(int("ANSIBLE_VERBOSITY", v)?.min(u8::MAX as u64) as u8);
        }
        if let Some(v) = env.get("ANSIBLE_SSH_ARGS") {
            self.ssh_args = Some(v.clone());
        }
        if let Some(v) = env.get("ANSIBLE_SSH_COMMON_ARGS") {
            self.ssh_common_args = Some(v.clone());
        }
        if let Some(v) = env.get("ANSIBLE_SSH_EXTRA_ARGS") {
            self.ssh_extra_args = Some(v.clone());
        }
        if let Some(v) = env.get("ANSIBLE_SSH_RETRIES") {
            self.retries = Some(int("ANSIBLE_SSH_RETRIES", v)?.min(u32::MAX as u64) as u32);
        }
        Ok(())
    }
}

/// Ansible's `boolean()`: these spellings are true, anything else false.
pub fn ansible_bool(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "y" | "yes" | "on" | "1" | "true" | "t" | "1.0"
    )
}

fn find_file(env: &HashMap<String, String>, cwd: &Path) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(p) = env.get("ANSIBLE_CONFIG") {
        let p = resolve_path(p, None);
        // ANSIBLE_CONFIG may name a directory holding ansible.cfg.
        candidates.push(if p.is_dir() { p.join("ansible.cfg") } else { p });
    }
    candidates.push(cwd.join("ansible.cfg"));
    if let Some(home) = env.get("HOME") {
        candidates.push(Path::new(home).join(".ansible.cfg"));
    }
    candidates.push(PathBuf::from("/etc/ansible/ansible.cfg"));
    candidates.into_iter().find(|p| p.is_file())
}

/// Expand `~` and make a relative path relative to `base` (the config's directory).
/// A `:`-separated path list (Ansible's `pathspec` type).
fn split_colon_paths(v: &str, base: Option<&Path>) -> Vec<PathBuf> {
    v.split(':')
        .filter(|s| !s.trim().is_empty())
        .map(|s| resolve_path(s, base))
        .collect()
}

fn resolve_path(v: &str, base: Option<&Path>) -> PathBuf {
    let v = v.trim();
    let p = expand_tilde(v);
    match base {
        Some(b) if p.is_relative() => b.join(p),
        _ => p,
    }
}

/// `~` and `~/x` expand to `$HOME`.
pub fn expand_tilde(v: &str) -> PathBuf {
    if v == "~" || v.starts_with("~/") {
        if let Ok(home) = std::env::var("HOME") {
            return PathBuf::from(format!("{home}{}", &v[1..]));
        }
    }
    PathBuf::from(v)
}

/// A comma-separated path list, as the `inventory` setting takes.
fn split_pathlist(v: &str, base: Option<&Path>) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| resolve_path(s, base).to_string_lossy().into_owned())
        .collect()
}

/// Python configparser as Ansible configures it: `key = value` or `key: value`,
/// `#`/`;` comments at line start, `;` inline comments after whitespace,
/// indented continuation lines.
fn parse_ini(text: &str, path: &Path) -> Result<Ini, Error> {
    let file = std::sync::Arc::new(path.to_path_buf());
    let mut ini = Ini::new();
    let mut section: Option<String> = None;
    let mut last_key: Option<String> = None;
    for (idx, raw) in text.lines().enumerate() {
        let lineno = idx + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            if trimmed.is_empty() {
                last_key = None;
            }
            continue;
        }
        let indented = raw.starts_with(' ') || raw.starts_with('\t');
        if indented {
            if let (Some(sec), Some(key)) = (&section, &last_key) {
                if let Some(entry) = ini.get_mut(sec).and_then(|s| s.get_mut(key)) {
                    entry.0.push('\n');
                    entry.0.push_str(strip_inline_comment(trimmed));
                    continue;
                }
            }
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            let name = rest.strip_suffix(']').ok_or_else(|| {
                Error::at(
                    &Span::new(file.clone(), lineno, raw.len() + 1),
                    "expected ']' to close the section header",
                )
            })?;
            section = Some(name.trim().to_string());
            ini.entry(name.trim().to_string()).or_default();
            last_key = None;
            continue;
        }
        let Some(sec) = &section else {
            return Err(Error::at(
                &Span::new(file.clone(), lineno, 1),
                "expected a [section] header before the first setting",
            ));
        };
        let pos = trimmed.find(['=', ':']).ok_or_else(|| {
            Error::at(
                &Span::new(file.clone(), lineno, 1),
                "expected 'key = value'",
            )
        })?;
        let key = trimmed[..pos].trim().to_ascii_lowercase();
        let value = strip_inline_comment(trimmed[pos + 1..].trim()).to_string();
        ini.entry(sec.clone())
            .or_default()
            .insert(key.clone(), (value, lineno));
        last_key = Some(key);
    }
    Ok(ini)
}

fn strip_inline_comment(v: &str) -> &str {
    let bytes = v.as_bytes();
    for i in 1..bytes.len() {
        if bytes[i] == b';' && (bytes[i - 1] == b' ' || bytes[i - 1] == b'\t') {
            return v[..i].trim_end();
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_file_from_cwd_and_env_overrides() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ansible.cfg"),
            "# comment\n[defaults]\ninventory = inv/hosts.yml, other ; where hosts live\n\
             remote_user: deploy\nforks=7\nhost_key_checking = False\nunknown_key = 1\n\
             [ssh_connection]\nssh_args = -C -o ControlMaster=auto\n  -o ControlPersist=60s\nretries = 3\n",
        )
        .unwrap();
        let e = env(&[("ANSIBLE_FORKS", "9"), ("HOME", "/nonexistent")]);
        let cfg = Config::load_from(&e, dir.path()).unwrap();
        assert_eq!(
            cfg.inventory,
            vec![
                dir.path()
                    .join("inv/hosts.yml")
                    .to_string_lossy()
                    .to_string(),
                dir.path().join("other").to_string_lossy().to_string()
            ]
        );
        assert_eq!(cfg.remote_user.as_deref(), Some("deploy"));
        assert_eq!(cfg.forks, Some(9));
        assert_eq!(cfg.host_key_checking, Some(false));
        assert_eq!(
            cfg.ssh_args.as_deref(),
            Some("-C -o ControlMaster=auto\n-o ControlPersist=60s")
        );
        assert_eq!(cfg.retries, Some(3));
    }

    #[test]
    fn roles_path_is_a_colon_list_relative_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ansible.cfg"),
            "[defaults]\nroles_path = roles:/srv/roles\n",
        )
        .unwrap();
        let cfg = Config::load_from(&env(&[]), dir.path()).unwrap();
        assert_eq!(
            cfg.roles_path,
            Some(vec![dir.path().join("roles"), PathBuf::from("/srv/roles")])
        );
        let e = env(&[("ANSIBLE_ROLES_PATH", "/a:/b")]);
        let cfg = Config::load_from(&e, dir.path()).unwrap();
        assert_eq!(
            cfg.roles_path,
            Some(vec![PathBuf::from("/a"), PathBuf::from("/b")])
        );
    }

    #[test]
    fn ansible_config_env_wins_over_cwd() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ansible.cfg"), "[defaults]\nforks=1\n").unwrap();
        let other = dir.path().join("other.cfg");
        std::fs::write(&other, "[defaults]\nforks=2\n").unwrap();
        let e = env(&[("ANSIBLE_CONFIG", other.to_str().unwrap())]);
        let cfg = Config::load_from(&e, dir.path()).unwrap();
        assert_eq!(cfg.forks, Some(2));
        assert_eq!(cfg.path.as_deref(), Some(other.as_path()));
    }

    #[test]
    fn bad_value_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ansible.cfg"),
            "[defaults]\n\nforks = many\n",
        )
        .unwrap();
        let err = Config::load_from(&env(&[]), dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid value for forks: expected an integer\nOrigin: ")
                && err.contains("ansible.cfg:3:1\n\n1 [defaults]\n2\n3 forks = many\n  ^ column 1"),
            "{err}"
        );
    }

    #[test]
    fn booleans_like_ansible() {
        for t in ["yes", "True", "1", "on", "y", "t"] {
            assert!(ansible_bool(t), "{t}");
        }
        for f in ["no", "False", "0", "off", "", "nope"] {
            assert!(!ansible_bool(f), "{f}");
        }
    }
}
