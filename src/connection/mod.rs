//! How ferry reaches a host: a [`Connection`] (SSH via russh, or local) that runs
//! shell commands with stdin bytes and a timeout, and puts/gets files.
//!
//! The connection knows nothing of playbooks or modules; modules build shell
//! scripts and hand them here. Secrets travel on stdin, never in argv.

pub mod known_hosts;
pub mod local;
pub mod options;
pub mod shell;
mod signer;
pub mod spec;
pub mod ssh;

use std::time::Duration;

pub use spec::{ConnDefaults, ConnKind, ConnSpec, HostKeyPolicy, JumpHost};

/// One command to run on the host, through the user's POSIX shell.
#[derive(Clone, Debug, Default)]
pub struct ExecRequest {
    /// A shell command string (`sh -c` semantics on the host).
    pub command: String,
    /// Bytes fed to the command's stdin; stdin is closed after them.
    pub stdin: Option<Vec<u8>>,
    /// Environment variables set for this command only.
    pub env: Vec<(String, String)>,
    /// Kill the command (not the connection) after this long.
    pub timeout: Option<Duration>,
    /// The command takes its input from the shell variable `__ferry_in` when
    /// that is set (falling back to stdin), so the host shell may hand it
    /// over that way without a pipe and the fork that feeds it.
    pub stdin_from_var: bool,
    /// Shell definitions the command needs (functions, constants). The host
    /// shell evaluates them once and keeps them for later frames; an exec
    /// channel runs them before the command each time.
    pub lib: Option<&'static str>,
}

/// Who commands run as on a host, learned from a file script's report (the
/// shell's fs uid/gid and their names): a later script can then describe a
/// file it has just created without running `stat`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostIdent {
    pub uid: u64,
    pub gid: u64,
    pub user: String,
    pub group: String,
}

impl ExecRequest {
    pub fn new(command: impl Into<String>) -> Self {
        ExecRequest {
            command: command.into(),
            ..Default::default()
        }
    }

    /// The command string with `env` applied as exported shell assignments,
    /// because sshd refuses most `setenv` requests (AcceptEnv).
    pub fn full_command(&self) -> String {
        self.compose(true)
    }

    /// [`full_command`](Self::full_command) without `lib`, for a shell that
    /// has it defined already.
    pub fn command_without_lib(&self) -> String {
        self.compose(false)
    }

    /// `lib` followed by the command, for a fresh `sh -c` (env set apart).
    pub fn command_with_lib(&self) -> String {
        match self.lib {
            Some(l) => format!("{l}\n{}", self.command),
            None => self.command.clone(),
        }
    }

    fn compose(&self, with_lib: bool) -> String {
        let mut s = String::new();
        for (k, v) in &self.env {
            s.push_str("export ");
            s.push_str(k);
            s.push('=');
            s.push_str(&shell_quote(v));
            s.push_str("; ");
        }
        if let (true, Some(l)) = (with_lib, self.lib) {
            s.push_str(l);
            s.push('\n');
        }
        s.push_str(&self.command);
        s
    }
}

/// What a command produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecOutput {
    /// Exit status; a command killed by a signal reports 128+signal like a shell.
    pub rc: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Failures of the transport itself (the command's own failure is an `rc`).
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    /// The host cannot be reached or authenticated against: Ansible's UNREACHABLE.
    #[error("{0}")]
    Unreachable(String),
    /// The host's key does not match what known_hosts says (never retried).
    #[error("{0}")]
    HostKey(String),
    /// The command ran longer than its timeout and was killed.
    #[error("command timed out after {0:?}")]
    Timeout(Duration),
    /// The connection broke while a command was running.
    #[error("connection lost: {0}")]
    Lost(String),
}

/// An open connection to one host.
pub enum Connection {
    Ssh(Box<ssh::SshConnection>),
    Local(local::LocalConnection),
}

impl Connection {
    /// Open a connection as the spec describes (with retries for SSH).
    pub async fn connect(spec: &ConnSpec) -> Result<Connection, ConnError> {
        match spec.kind {
            ConnKind::Local => Ok(Connection::Local(local::LocalConnection::new())),
            ConnKind::Ssh => Ok(Connection::Ssh(Box::new(
                ssh::SshConnection::connect(spec).await?,
            ))),
        }
    }

    /// Run one command. Many may run at once over one connection.
    pub async fn exec(&self, req: &ExecRequest) -> Result<ExecOutput, ConnError> {
        match self {
            Connection::Ssh(c) => c.exec(req).await,
            Connection::Local(c) => c.exec(req).await,
        }
    }

    /// Write `data` to `path` on the host atomically with the given octal mode
    /// (a temporary file in the same directory, created with the mode, then renamed).
    pub async fn put(&self, data: &[u8], path: &str, mode: u32) -> Result<ExecOutput, ConnError> {
        let dir = match path.rfind('/') {
            Some(0) => "/".to_string(),
            Some(i) => path[..i].to_string(),
            None => ".".to_string(),
        };
        let script = format!(
            "umask 077; d={dir}; t=$(mktemp \"$d/.ferry.XXXXXX\") || exit 1; \
             trap 'rm -f \"$t\"' EXIT; chmod {mode:o} \"$t\" && cat > \"$t\" && mv -f \"$t\" {path} && trap - EXIT",
            dir = shell_quote(&dir),
            path = shell_quote(path),
        );
        self.exec(&ExecRequest {
            command: script,
            stdin: Some(data.to_vec()),
            ..Default::default()
        })
        .await
    }

    /// Read a file from the host.
    pub async fn get(&self, path: &str) -> Result<ExecOutput, ConnError> {
        self.exec(&ExecRequest::new(format!("cat {}", shell_quote(path))))
            .await
    }

    /// What is known of the login's identity (see [`HostIdent`]).
    pub fn ident(&self) -> Option<HostIdent> {
        let cell = match self {
            Connection::Ssh(c) => &c.ident,
            Connection::Local(c) => &c.ident,
        };
        cell.lock().ok().and_then(|g| g.clone())
    }

    pub fn learn_ident(&self, id: HostIdent) {
        let cell = match self {
            Connection::Ssh(c) => &c.ident,
            Connection::Local(c) => &c.ident,
        };
        if let Ok(mut g) = cell.lock() {
            *g = Some(id);
        }
    }

    /// Close the connection politely.
    pub async fn close(self) {
        if let Connection::Ssh(c) = self {
            c.close().await
        }
    }
}

/// Quote a string for a POSIX shell (single quotes; `'` becomes `'\''`).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'_' | b'-' | b'.' | b'/' | b',' | b':' | b'=' | b'@' | b'+'
                )
        })
    {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(shell_quote("abc/def"), "abc/def");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
    }

    #[test]
    fn env_becomes_exports() {
        let mut r = ExecRequest::new("echo $A");
        r.env.push(("A".into(), "x y".into()));
        assert_eq!(r.full_command(), "export A='x y'; echo $A");
    }
}
