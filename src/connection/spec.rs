//! Resolving a host's connection parameters from its variables, ansible.cfg and
//! the command line, the way Ansible does (names, aliases, `-o` options).

use std::path::PathBuf;
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::Value;

use super::options::{parse_args, parse_bool, parse_jump_list, parse_yes_no, split_words, SshOpt};

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
    /// `--connect-timeout`: retry connecting until this long has passed.
    pub connect_deadline: Option<Duration>,
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
    /// Extra connection attempts after the first fails (with backoff):
    /// `(ansible_ssh_retries + 1) * ConnectionAttempts - 1`, since each Ansible
    /// retry runs an ssh that itself tries ConnectionAttempts times.
    pub retries: u32,
    /// Keep retrying connection-level failures until this long has passed
    /// (`--connect-timeout`, for hosts that are still booting).
    pub connect_deadline: Option<Duration>,
    /// Options that were given but that ferry does not implement, for warnings.
    pub warnings: Vec<String>,
}

impl ConnSpec {
    /// Resolve from a host's merged variables (already templated) and defaults.
    ///
    /// Ansible builds an `ssh` command line in this order (`ssh.py`
    /// `_build_command`): `ssh_args`, `-o StrictHostKeyChecking=no` when
    /// host_key_checking is off, `-o Port=` (ansible_port), `-o IdentityFile=`
    /// (private key), `-o User=` (ansible_user), `-o ConnectTimeout=` (timeout),
    /// then `ssh_common_args`, then `ssh_extra_args`. OpenSSH keeps the FIRST
    /// value given for an option (IdentityFile accumulates), so e.g.
    /// `ansible_port` beats `-o Port=` in ssh_common_args, `ssh_args` from
    /// ansible.cfg beats everything, and `-o ConnectTimeout` in common args never
    /// wins over the timeout. Ferry replays that same sequence.
    pub fn resolve(
        name: &str,
        vars: &IndexMap<String, Value>,
        defaults: &ConnDefaults,
    ) -> Result<ConnSpec, String> {
        let err = |m: String| format!("{name}: {m}");
        let kind_s = var_str(vars, &["ansible_connection"])
            .or_else(|| defaults.connection.clone())
            .unwrap_or_else(|| "ssh".to_string());
        let kind = match kind_s.as_str() {
            "ssh"
            | "smart"
            | "paramiko"
            | "paramiko_ssh"
            | "ansible.builtin.ssh"
            | "ansible.builtin.paramiko_ssh" => ConnKind::Ssh,
            "local" | "ansible.builtin.local" => ConnKind::Local,
            other => {
                return Err(err(format!(
                    "ferry does not support ansible_connection={other:?} (only ssh and local)"
                )))
            }
        };
        // In each alias list the variable listed later in the plugin docs wins
        // when both are set (Ansible reads them in order and keeps the last).
        let host = var_str(vars, &["ansible_host", "ansible_ssh_host"])
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| name.to_string());
        let var_port = match var_str(vars, &["ansible_port", "ansible_ssh_port"]) {
            Some(p) => Some(parse_num::<u16>(&p).ok_or_else(|| err(format!("bad port {p:?}")))?),
            None => None,
        };
        let user = var_str(vars, &["ansible_user", "ansible_ssh_user"])
            .or_else(|| defaults.remote_user.clone());
        let key = var_str(
            vars,
            &["ansible_private_key_file", "ansible_ssh_private_key_file"],
        )
        .map(PathBuf::from)
        .or_else(|| defaults.private_key_file.clone());
        let password = var_str(
            vars,
            &[
                "ansible_password",
                "ansible_ssh_pass",
                "ansible_ssh_password",
            ],
        )
        .or_else(|| defaults.password.clone());
        let timeout = match var_str(vars, &["ansible_timeout", "ansible_ssh_timeout"]) {
            Some(t) => parse_num::<u64>(&t).ok_or_else(|| err(format!("bad timeout {t:?}")))?,
            None => defaults.timeout.unwrap_or(10),
        };
        let host_key_checking = match var_str(
            vars,
            &["ansible_host_key_checking", "ansible_ssh_host_key_checking"],
        ) {
            Some(b) => {
                parse_bool(&b).ok_or_else(|| err(format!("bad host_key_checking value {b:?}")))?
            }
            None => defaults.host_key_checking.unwrap_or(true),
        };
        let retries = match var_str(vars, &["ansible_ssh_retries"]) {
            Some(r) => parse_num::<u32>(&r).ok_or_else(|| err(format!("bad retries {r:?}")))?,
            None => defaults.retries.unwrap_or(0),
        };
        let ssh_args = var_str(vars, &["ansible_ssh_args"]).or_else(|| defaults.ssh_args.clone());
        let common = var_str(vars, &["ansible_ssh_common_args"])
            .or_else(|| defaults.ssh_common_args.clone());
        let extra =
            var_str(vars, &["ansible_ssh_extra_args"]).or_else(|| defaults.ssh_extra_args.clone());

        // Replay Ansible's ssh command line (see above).
        let mut opts: Vec<SshOpt> = Vec::new();
        let mut warnings = Vec::new();
        let add_args = |s: &Option<String>,
                        what: &str,
                        opts: &mut Vec<SshOpt>,
                        warnings: &mut Vec<String>|
         -> Result<(), String> {
            if let Some(s) = s {
                let p = parse_args(s).map_err(|e| err(format!("{what}: {e}")))?;
                opts.extend(p.opts.into_iter().map(|mut o| {
                    o.written = format!("{} (in {what})", o.written);
                    o
                }));
                warnings.extend(p.warnings.into_iter().map(|w| format!("{w} (in {what})")));
            }
            Ok(())
        };
        add_args(&ssh_args, "ssh_args", &mut opts, &mut warnings)?;
        let o = |k: &str, v: String| SshOpt {
            key: k.to_string(),
            written: format!("{k}={v}"),
            value: v,
        };
        if !host_key_checking {
            opts.push(o("stricthostkeychecking", "no".into()));
        }
        if let Some(p) = var_port {
            opts.push(o("port", p.to_string()));
        }
        if let Some(k) = &key {
            opts.push(o("identityfile", k.to_string_lossy().into_owned()));
        }
        if let Some(u) = &user {
            opts.push(o("user", u.clone()));
        }
        opts.push(o("connecttimeout", timeout.to_string()));
        add_args(&common, "ssh_common_args", &mut opts, &mut warnings)?;
        add_args(&extra, "ssh_extra_args", &mut opts, &mut warnings)?;

        let mut eff = Effective::default();
        for o in opts {
            eff.apply(&o, &mut warnings).map_err(err)?;
        }

        let home = home_dir();
        let identity_files = if eff.identity_files.is_empty() {
            // OpenSSH's defaults are only tried when no IdentityFile is given.
            ["id_rsa", "id_ecdsa", "id_ed25519"]
                .iter()
                .filter_map(|f| home.as_ref().map(|h| h.join(".ssh").join(f)))
                .filter(|p| p.exists())
                .collect()
        } else {
            eff.identity_files.iter().map(|p| expand_tilde(p)).collect()
        };
        let known_hosts_files = match &eff.known_hosts {
            Some(list) => list
                .iter()
                .filter(|f| f.as_str() != "/dev/null")
                .map(|f| expand_tilde(f))
                .collect(),
            None => home
                .as_ref()
                .map(|h| {
                    vec![
                        h.join(".ssh").join("known_hosts"),
                        h.join(".ssh").join("known_hosts2"),
                    ]
                })
                .unwrap_or_default(),
        };
        // Each Ansible retry runs ssh, which makes ConnectionAttempts tries.
        let attempts =
            (u64::from(retries) + 1) * u64::from(eff.connection_attempts.unwrap_or(1).max(1));
        let mut dedup = Vec::new();
        for w in warnings {
            if !dedup.contains(&w) {
                dedup.push(w);
            }
        }
        Ok(ConnSpec {
            kind,
            name: name.to_string(),
            host,
            port: eff.port.unwrap_or(22),
            user: eff.user,
            identity_files,
            password,
            password_auth: eff.password_auth.unwrap_or(true),
            host_key_policy: eff.strict.unwrap_or(HostKeyPolicy::Strict),
            known_hosts_files,
            connect_timeout: Duration::from_secs(eff.connect_timeout.unwrap_or(timeout)),
            server_alive_interval: eff
                .alive_interval
                .filter(|s| *s > 0)
                .map(Duration::from_secs),
            server_alive_count_max: eff.alive_count.unwrap_or(3),
            proxy_jump: eff.proxy_jump.unwrap_or_default(),
            retries: u32::try_from(attempts - 1).unwrap_or(u32::MAX),
            connect_deadline: defaults.connect_deadline,
            warnings: dedup,
        })
    }

    /// What `host_key` lookups use: `host`, or `[host]:port` off port 22.
    pub fn known_hosts_name(&self) -> String {
        known_hosts_name(&self.host, self.port)
    }
}

/// The name known_hosts files record for a host and port.
pub fn known_hosts_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// Option values after replaying the command line, first value wins.
#[derive(Default)]
struct Effective {
    port: Option<u16>,
    user: Option<String>,
    identity_files: Vec<String>,
    strict: Option<HostKeyPolicy>,
    known_hosts: Option<Vec<String>>,
    password_auth: Option<bool>,
    connect_timeout: Option<u64>,
    alive_interval: Option<u64>,
    alive_count: Option<u32>,
    proxy_jump: Option<Vec<JumpHost>>,
    connection_attempts: Option<u32>,
}

impl Effective {
    fn apply(&mut self, o: &SshOpt, warnings: &mut Vec<String>) -> Result<(), String> {
        let (key, value) = (o.key.as_str(), o.value.as_str());
        let bad = |what: &str| format!("bad value {value:?} for ssh option {what}");
        match key {
            "port" => {
                let p = parse_num::<u16>(value).ok_or_else(|| bad("Port"))?;
                self.port.get_or_insert(p);
            }
            "user" => {
                self.user.get_or_insert_with(|| value.to_string());
            }
            "identityfile" => self.identity_files.push(value.to_string()),
            "stricthostkeychecking" => {
                let p = match value.to_ascii_lowercase().as_str() {
                    "yes" | "ask" | "true" => HostKeyPolicy::Strict,
                    "no" | "off" | "false" => HostKeyPolicy::Off,
                    "accept-new" => HostKeyPolicy::AcceptNew,
                    _ => return Err(bad("StrictHostKeyChecking")),
                };
                self.strict.get_or_insert(p);
            }
            "userknownhostsfile" => {
                let files = split_words(value)?;
                self.known_hosts.get_or_insert(files);
            }
            "passwordauthentication" => {
                let b = parse_yes_no("PasswordAuthentication", value)?;
                self.password_auth.get_or_insert(b);
            }
            "connecttimeout" => {
                let t = parse_num::<u64>(value).ok_or_else(|| bad("ConnectTimeout"))?;
                self.connect_timeout.get_or_insert(t);
            }
            "serveraliveinterval" => {
                let t = parse_num::<u64>(value).ok_or_else(|| bad("ServerAliveInterval"))?;
                self.alive_interval.get_or_insert(t);
            }
            "serveralivecountmax" => {
                let t = parse_num::<u32>(value).ok_or_else(|| bad("ServerAliveCountMax"))?;
                self.alive_count.get_or_insert(t);
            }
            "proxyjump" => {
                let j = parse_jump_list(value)?;
                self.proxy_jump.get_or_insert(j);
            }
            // The pre-ProxyJump idiom found in many Ansible inventories;
            // OpenSSH lets the first of ProxyCommand/ProxyJump win.
            "proxycommand" => match proxy_command_as_jump(value) {
                Some(j) => {
                    self.proxy_jump.get_or_insert(vec![j]);
                }
                None => warnings.push(format!(
                    "ferry ignores ssh option {} (only `ssh -W %h:%p [user@]host` \
                     proxy commands are understood)",
                    o.written
                )),
            },
            "connectionattempts" => {
                let n = parse_num::<u32>(value).ok_or_else(|| bad("ConnectionAttempts"))?;
                self.connection_attempts.get_or_insert(n);
            }
            // Ferry multiplexes commands over one connection itself; Ansible's
            // default ssh_args carry these, so they are expected and harmless.
            "controlmaster" | "controlpersist" | "controlpath" => {}
            _ => warnings.push(format!("ferry ignores ssh option {}", o.written)),
        }
        Ok(())
    }
}

/// `ssh [-q] [-p PORT] [-l USER] -W %h:%p [user@]bastion` as a jump host.
fn proxy_command_as_jump(cmd: &str) -> Option<JumpHost> {
    let words = split_words(cmd).ok()?;
    let (prog, args) = words.split_first()?;
    if !(prog == "ssh" || prog.ends_with("/ssh")) {
        return None;
    }
    let (mut port, mut user, mut dest, mut forward) = (None, None, None, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-W" => forward = it.next()? == "%h:%p",
            "-p" => port = Some(it.next()?.parse::<u16>().ok()?),
            "-l" => user = Some(it.next()?.clone()),
            "-q" | "-4" | "-6" => {}
            a if a.starts_with('-') => return None,
            a if dest.is_none() => dest = Some(a.to_string()),
            _ => return None,
        }
    }
    let mut j = parse_jump_list(&dest?).ok()?.pop()?;
    if !forward {
        return None;
    }
    if let Some(p) = port {
        j.port = p;
    }
    if j.user.is_none() {
        j.user = user;
    }
    Some(j)
}

/// The last of `names` present in `vars` (null counts as absent), as a string.
fn var_str(vars: &IndexMap<String, Value>, names: &[&str]) -> Option<String> {
    names
        .iter()
        .rev()
        .filter_map(|n| vars.get(*n))
        .find_map(|v| match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            other => Some(other.to_string()),
        })
}

fn parse_num<T: std::str::FromStr>(s: &str) -> Option<T> {
    s.trim().parse().ok()
}

/// `$HOME` (what OpenSSH and Ansible expand `~` to).
pub fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// Expand a leading `~/` (or a lone `~`) to `$HOME`.
pub fn expand_tilde(p: &str) -> PathBuf {
    match (p, home_dir()) {
        ("~", Some(h)) => h,
        (p, Some(h)) if p.starts_with("~/") => h.join(&p[2..]),
        (p, _) => PathBuf::from(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(pairs: &[(&str, Value)]) -> IndexMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn resolve(pairs: &[(&str, Value)]) -> ConnSpec {
        ConnSpec::resolve("web1", &vars(pairs), &ConnDefaults::default()).unwrap()
    }

    #[test]
    fn defaults_and_inventory_name() {
        let s = resolve(&[]);
        assert_eq!(s.kind, ConnKind::Ssh);
        assert_eq!((s.host.as_str(), s.port), ("web1", 22));
        assert_eq!(s.user, None);
        assert_eq!(s.connect_timeout, Duration::from_secs(10));
        assert_eq!(s.host_key_policy, HostKeyPolicy::Strict);
        assert_eq!(s.retries, 0);
        assert!(s.password_auth);
        assert!(s.proxy_jump.is_empty());
        assert!(s.warnings.is_empty());
        if let Some(h) = home_dir() {
            assert_eq!(
                s.known_hosts_files,
                vec![h.join(".ssh/known_hosts"), h.join(".ssh/known_hosts2")]
            );
        }
    }

    #[test]
    fn ssh_specific_aliases_win() {
        let s = resolve(&[
            ("ansible_ssh_user", json!("ssh_u")),
            ("ansible_user", json!("u")),
            ("ansible_host", json!("10.0.0.1")),
            ("ansible_ssh_host", json!("10.0.0.2")),
            ("ansible_port", json!(2200)),
            ("ansible_ssh_port", json!("2201")),
            ("ansible_password", json!("a")),
            ("ansible_ssh_pass", json!("b")),
            ("ansible_private_key_file", json!("/k1")),
            ("ansible_ssh_private_key_file", json!("/k2")),
            ("ansible_timeout", json!(3)),
            ("ansible_ssh_timeout", json!("4")),
        ]);
        assert_eq!(s.user.as_deref(), Some("ssh_u"));
        assert_eq!(s.host, "10.0.0.2");
        assert_eq!(s.port, 2201);
        assert_eq!(s.password.as_deref(), Some("b"));
        assert_eq!(s.identity_files, vec![PathBuf::from("/k2")]);
        assert_eq!(s.connect_timeout, Duration::from_secs(4));
        let s = resolve(&[
            ("ansible_ssh_password", json!("c")),
            ("ansible_ssh_pass", json!("b")),
        ]);
        assert_eq!(s.password.as_deref(), Some("c"));
    }

    #[test]
    fn connection_kinds() {
        for (c, k) in [
            ("ssh", ConnKind::Ssh),
            ("smart", ConnKind::Ssh),
            ("paramiko", ConnKind::Ssh),
            ("local", ConnKind::Local),
        ] {
            assert_eq!(resolve(&[("ansible_connection", json!(c))]).kind, k);
        }
        let e = ConnSpec::resolve(
            "w",
            &vars(&[("ansible_connection", json!("winrm"))]),
            &ConnDefaults::default(),
        )
        .unwrap_err();
        assert!(e.contains("winrm"), "{e}");
    }

    #[test]
    fn tilde_in_key_paths() {
        let Some(h) = home_dir() else { return };
        let s = resolve(&[("ansible_ssh_private_key_file", json!("~/.ssh/k"))]);
        assert_eq!(s.identity_files, vec![h.join(".ssh/k")]);
        let s = resolve(&[(
            "ansible_ssh_common_args",
            json!("-i ~/a -o IdentityFile=~/b -o UserKnownHostsFile='~/kh /etc/kh'"),
        )]);
        assert_eq!(s.identity_files, vec![h.join("a"), h.join("b")]);
        assert_eq!(
            s.known_hosts_files,
            vec![h.join("kh"), PathBuf::from("/etc/kh")]
        );
    }

    #[test]
    fn first_value_wins_like_openssh() {
        // ansible_port comes before ssh_common_args on Ansible's command line.
        let s = resolve(&[
            ("ansible_port", json!(2200)),
            ("ansible_user", json!("a")),
            (
                "ansible_ssh_common_args",
                json!("-o Port=3300 -l b -o ConnectTimeout=99"),
            ),
        ]);
        assert_eq!((s.port, s.user.as_deref()), (2200, Some("a")));
        assert_eq!(s.connect_timeout, Duration::from_secs(10));
        // Without the variables, the arguments apply.
        let s = resolve(&[("ansible_ssh_common_args", json!("-p 3300 -o User=b"))]);
        assert_eq!((s.port, s.user.as_deref()), (3300, Some("b")));
        // ssh_args (ansible.cfg) come first of all.
        let d = ConnDefaults {
            ssh_args: Some("-o Port=4400 -o ConnectTimeout=7".into()),
            ..Default::default()
        };
        let s = ConnSpec::resolve("w", &vars(&[("ansible_port", json!(2200))]), &d).unwrap();
        assert_eq!(s.port, 4400);
        assert_eq!(s.connect_timeout, Duration::from_secs(7));
        // common before extra.
        let s = resolve(&[
            ("ansible_ssh_common_args", json!("-o Port=1")),
            ("ansible_ssh_extra_args", json!("-o Port=2")),
        ]);
        assert_eq!(s.port, 1);
        // IdentityFile accumulates: the variable's key first.
        let s = resolve(&[
            ("ansible_ssh_private_key_file", json!("/v")),
            ("ansible_ssh_common_args", json!("-i /c")),
        ]);
        assert_eq!(
            s.identity_files,
            vec![PathBuf::from("/v"), PathBuf::from("/c")]
        );
    }

    #[test]
    fn host_key_checking() {
        // host_key_checking=False puts StrictHostKeyChecking=no before common args.
        let s = resolve(&[
            ("ansible_host_key_checking", json!("False")),
            (
                "ansible_ssh_common_args",
                json!("-o StrictHostKeyChecking=yes"),
            ),
        ]);
        assert_eq!(s.host_key_policy, HostKeyPolicy::Off);
        let s = resolve(&[("ansible_ssh_host_key_checking", json!(false))]);
        assert_eq!(s.host_key_policy, HostKeyPolicy::Off);
        let d = ConnDefaults {
            host_key_checking: Some(false),
            ..Default::default()
        };
        let s = ConnSpec::resolve("w", &IndexMap::new(), &d).unwrap();
        assert_eq!(s.host_key_policy, HostKeyPolicy::Off);
        for (v, p) in [
            ("accept-new", HostKeyPolicy::AcceptNew),
            ("ask", HostKeyPolicy::Strict),
            ("off", HostKeyPolicy::Off),
        ] {
            let s = resolve(&[(
                "ansible_ssh_common_args",
                json!(format!("-o stricthostkeychecking={v}")),
            )]);
            assert_eq!(s.host_key_policy, p);
        }
        let s = resolve(&[(
            "ansible_ssh_common_args",
            json!("-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o PasswordAuthentication=no"),
        )]);
        assert!(s.known_hosts_files.is_empty());
        assert!(!s.password_auth);
        assert!(s.warnings.is_empty());
    }

    #[test]
    fn warnings_for_unsupported_options_only() {
        let d = ConnDefaults {
            ssh_args: Some("-C -o ControlMaster=auto -o ControlPersist=60s".into()),
            ..Default::default()
        };
        let s = ConnSpec::resolve(
            "w",
            &vars(&[(
                "ansible_ssh_extra_args",
                json!("-o ForwardAgent=yes -A -o ControlPath=/x"),
            )]),
            &d,
        )
        .unwrap();
        assert_eq!(
            s.warnings,
            vec![
                "ferry ignores ssh option -A (in ssh_extra_args)",
                "ferry ignores ssh option ForwardAgent=yes (in ssh_extra_args)",
            ]
        );
    }

    #[test]
    fn keepalive_jump_and_retries() {
        let s = resolve(&[
            ("ansible_ssh_retries", json!("3")),
            (
                "ansible_ssh_common_args",
                json!("-o ServerAliveInterval=15 -o ServerAliveCountMax=4 -o ConnectionAttempts=2 -J admin@bastion:2222,b2"),
            ),
        ]);
        assert_eq!(s.server_alive_interval, Some(Duration::from_secs(15)));
        assert_eq!(s.server_alive_count_max, 4);
        assert_eq!(s.retries, 7); // (3 + 1) tries of 2 attempts, minus the first
        assert_eq!(
            s.proxy_jump,
            vec![
                JumpHost {
                    user: Some("admin".into()),
                    host: "bastion".into(),
                    port: 2222
                },
                JumpHost {
                    user: None,
                    host: "b2".into(),
                    port: 22
                }
            ]
        );
        let s = resolve(&[(
            "ansible_ssh_common_args",
            json!("-o ProxyJump=none -J bastion"),
        )]);
        assert!(s.proxy_jump.is_empty());
        let d = ConnDefaults {
            retries: Some(2),
            remote_user: Some("du".into()),
            timeout: Some(30),
            ..Default::default()
        };
        let s = ConnSpec::resolve("w", &IndexMap::new(), &d).unwrap();
        assert_eq!((s.retries, s.user.as_deref()), (2, Some("du")));
        assert_eq!(s.connect_timeout, Duration::from_secs(30));
    }

    #[test]
    fn proxy_command_ssh_w_becomes_a_jump() {
        let s = resolve(&[(
            "ansible_ssh_common_args",
            json!("-o ProxyCommand=\"ssh -W %h:%p -q -p 2222 admin@bastion\""),
        )]);
        assert_eq!(
            s.proxy_jump,
            vec![JumpHost {
                user: Some("admin".into()),
                host: "bastion".into(),
                port: 2222
            }]
        );
        assert!(s.warnings.is_empty());
        let s = resolve(&[(
            "ansible_ssh_common_args",
            json!("-o 'ProxyCommand=nc -x proxy %h %p'"),
        )]);
        assert!(s.proxy_jump.is_empty());
        assert_eq!(s.warnings.len(), 1);
        assert!(s.warnings[0].contains("ProxyCommand=nc -x proxy %h %p"));
    }

    #[test]
    fn bad_values_are_errors_not_panics() {
        for (k, v) in [
            ("ansible_port", json!("http")),
            ("ansible_port", json!(70000)),
            ("ansible_ssh_timeout", json!("soon")),
            ("ansible_host_key_checking", json!("maybe")),
            ("ansible_ssh_retries", json!(-1)),
            (
                "ansible_ssh_common_args",
                json!("-o StrictHostKeyChecking=perhaps"),
            ),
            ("ansible_ssh_common_args", json!("-o Port=x")),
            ("ansible_ssh_common_args", json!("'unterminated")),
            ("ansible_ssh_common_args", json!("-J a:b")),
        ] {
            let r = ConnSpec::resolve("w", &vars(&[(k, v.clone())]), &ConnDefaults::default());
            assert!(r.is_err(), "{k}={v} should fail");
            assert!(r.unwrap_err().starts_with("w: "));
        }
    }
}
