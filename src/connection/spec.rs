//! Resolving a host's connection parameters from its variables, ansible.cfg and
//! the command line, the way Ansible does (names, aliases, `-o` options).

use std::path::PathBuf;
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnKind {
    Ssh,
    Local,
}

/// What to do with a host key that known_hosts does not vouch for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKeyPolicy {
    /// `StrictHostKeyChecking=yes`/`ask`: unknown keys fail.
    Strict,
    /// `accept-new`: unknown keys are recorded, changed keys fail.
    AcceptNew,
    /// `no` / `host_key_checking = False`: nothing is checked.
    Off,
}

/// One ProxyJump hop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JumpHost {
    pub user: Option<String>,
    pub host: String,
    pub port: u16,
}

/// Settings from ansible.cfg, `ANSIBLE_*` and the command line that apply to
/// every host unless its variables say otherwise.
#[derive(Clone, Debug, Default)]
pub struct ConnDefaults {
    /// `-c` / `ansible_connection` default.
    pub connection: Option<String>,
    /// `-u` / `remote_user`.
    pub remote_user: Option<String>,
    /// `--private-key` / `private_key_file`.
    pub private_key_file: Option<PathBuf>,
    /// `-T` / `timeout` (seconds).
    pub timeout: Option<u64>,
    /// `host_key_checking` (None: default true).
    pub host_key_checking: Option<bool>,
    /// `[ssh_connection] ssh_args`.
    pub ssh_args: Option<String>,
    /// `[ssh_connection] ssh_common_args` / `--ssh-common-args`.
    pub ssh_common_args: Option<String>,
    /// `[ssh_connection] ssh_extra_args` / `--ssh-extra-args`.
    pub ssh_extra_args: Option<String>,
    /// `[ssh_connection] retries`.
    pub retries: Option<u32>,
    /// Password from the command line (`-k`), if any.
    pub password: Option<String>,
}

/// Everything needed to open a connection to one host.
#[derive(Clone, Debug)]
pub struct ConnSpec {
    pub kind: ConnKind,
    /// The inventory name (for messages).
    pub name: String,
    /// Address to connect to (`ansible_host`, else the inventory name).
    pub host: String,
    pub port: u16,
    /// Remote user; None means the local user's name.
    pub user: Option<String>,
    /// Private keys to try, in order.
    pub identity_files: Vec<PathBuf>,
    pub password: Option<String>,
    pub password_auth: bool,
    pub host_key_policy: HostKeyPolicy,
    /// known_hosts files to consult (`UserKnownHostsFile`; `/dev/null` means none).
    pub known_hosts_files: Vec<PathBuf>,
    pub connect_timeout: Duration,
    pub server_alive_interval: Option<Duration>,
    pub server_alive_count_max: u32,
    pub proxy_jump: Vec<JumpHost>,
    /// Extra connection attempts after the first fails (with backoff).
    pub retries: u32,
    /// Options that were given but that ferry does not implement, for warnings.
    pub warnings: Vec<String>,
}

impl ConnSpec {
    /// Resolve from a host's merged variables (already templated) and defaults.
    pub fn resolve(
        name: &str,
        vars: &IndexMap<String, Value>,
        defaults: &ConnDefaults,
    ) -> Result<ConnSpec, String> {
        let _ = (vars, defaults);
        Err(format!(
            "{name}: connection spec resolution not implemented yet"
        ))
    }
}
