//! SSH transport over russh: one persistent connection per host, one exec
//! channel per command, host keys checked against known_hosts.
//!
//! Commands run concurrently over one `client::Handle`; a semaphore keeps the
//! number of open session channels under sshd's default `MaxSessions 10`.
//! ProxyJump hops are chained SSH connections whose `direct-tcpip` channels
//! carry the next hop's SSH stream.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, AuthResult, Handle};
use russh::keys::agent::client::AgentClient;
use russh::keys::agent::AgentIdentity;
use russh::keys::{Algorithm, HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey};
use russh::{ChannelMsg, Disconnect, Preferred, Sig};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Semaphore;

use super::known_hosts::{self, Verdict};
use super::shell::{self, Shell};
use super::signer::{RingRsa, RingSigner, SignError};
use super::spec::known_hosts_name;
use super::{ConnError, ConnSpec, ExecOutput, ExecRequest, HostKeyPolicy};

/// Prefix of the stderr line that reports a timed command's process group.
const PID_MARK: &str = "__ferry_pgid__=";

/// Remove the leading pid line from stderr and return the pid.
fn take_pid(stderr: &mut Vec<u8>) -> Option<u32> {
    if !stderr.starts_with(PID_MARK.as_bytes()) {
        return None;
    }
    let nl = stderr.iter().position(|&b| b == b'\n')?;
    let pid = std::str::from_utf8(&stderr[PID_MARK.len()..nl])
        .ok()?
        .parse()
        .ok();
    stderr.drain(..=nl);
    pid
}

/// Read a channel until the server closes it.
async fn wait_close(rd: &mut russh::ChannelReadHalf) {
    while let Some(m) = rd.wait().await {
        if matches!(m, ChannelMsg::Close) {
            return;
        }
    }
}

/// Whether stderr so far is still a (partial) pid line worth waiting for.
fn could_be_pid_line(stderr: &[u8]) -> bool {
    let n = stderr.len().min(PID_MARK.len());
    stderr[..n] == PID_MARK.as_bytes()[..n] && !stderr.contains(&b'\n')
}

/// `FERRY_SSH_SHELL=0` runs every command on an exec channel of its own (to
/// measure one design against the other).
fn shell_enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("FERRY_SSH_SHELL").map_or(true, |v| v != "0"))
}

/// sshd's default `MaxSessions`: more concurrent session channels get refused.
const MAX_SESSIONS: usize = 10;

pub struct SshConnection {
    handle: Handle<Client>,
    /// ProxyJump hops; the target's stream runs through them, so they live as long.
    jumps: Vec<Handle<Client>>,
    sessions: Arc<Semaphore>,
    /// The persistent shell commands are framed on (see `shell.rs`); opened
    /// at the first command, reopened if it dies.
    shell: tokio::sync::Mutex<Option<Shell>>,
    /// `user@host` for messages.
    label: String,
    pub(crate) ident: std::sync::Mutex<Option<super::HostIdent>>,
}

/// A parsed identity file, shared by every connection of the run.
#[derive(Clone)]
struct Identity {
    key: Arc<PrivateKey>,
    /// The key in ring's form when it is RSA and ring accepts it.
    ring: Option<Arc<RingRsa>>,
}

/// A connection attempt's failure and whether another attempt may help.
struct Failure {
    err: ConnError,
    retryable: bool,
}

impl Failure {
    fn retry(err: ConnError) -> Self {
        Failure {
            err,
            retryable: true,
        }
    }
    fn fatal(err: ConnError) -> Self {
        Failure {
            err,
            retryable: false,
        }
    }
}

fn unreachable(msg: impl std::fmt::Display) -> ConnError {
    ConnError::Unreachable(format!("Failed to connect to the host via ssh: {msg}"))
}

impl SshConnection {
    /// Connect, authenticate, and retry connection-level failures with
    /// exponential backoff (0.5 s, 1 s, 2 s … capped at 10 s).
    pub async fn connect(spec: &ConnSpec) -> Result<SshConnection, ConnError> {
        let (identities, key_notes) = load_identities(&spec.identity_files).await;
        let mut attempt: u32 = 0;
        let deadline = spec.connect_deadline.map(|d| std::time::Instant::now() + d);
        loop {
            match connect_once(spec, &identities, &key_notes).await {
                Ok(c) => return Ok(c),
                Err(f) if f.retryable => {
                    let backoff = Duration::from_millis(500)
                        .saturating_mul(1u32 << attempt.min(5))
                        .min(Duration::from_secs(10));
                    let within_deadline =
                        deadline.is_some_and(|d| std::time::Instant::now() + backoff < d);
                    if attempt >= spec.retries && !within_deadline {
                        return Err(f.err);
                    }
                    tokio::time::sleep(backoff).await;
                    attempt += 1;
                }
                Err(f) => return Err(f.err),
            }
        }
    }

    /// Run one command: framed on the host's persistent shell when it is
    /// free, else (a timeout, large stdin, or commands running at once) on an
    /// exec channel of its own.
    pub async fn exec(&self, req: &ExecRequest) -> Result<ExecOutput, ConnError> {
        let small = req.stdin.as_ref().map_or(0, Vec::len) <= shell::STDIN_MAX;
        if req.timeout.is_none() && small && shell_enabled() {
            if let Ok(mut slot) = self.shell.try_lock() {
                if slot.as_mut().is_some_and(|sh| !sh.usable()) {
                    if let Some(old) = slot.take() {
                        tokio::spawn(old.close());
                    }
                }
                if slot.is_none() {
                    *slot = self.open_shell().await;
                }
                if let Some(sh) = slot.as_mut() {
                    return match sh.run(req).await {
                        Ok(out) => Ok(out),
                        Err(shell::ShellGone(why)) => {
                            *slot = None;
                            Err(ConnError::Lost(format!("{}: {why}", self.label)))
                        }
                    };
                }
            }
        }
        self.exec_channel(req).await
    }

    /// Open the persistent shell; `None` (use exec channels) if that fails.
    async fn open_shell(&self) -> Option<Shell> {
        let permit = self.sessions.clone().acquire_owned().await.ok()?;
        let channel = self.open_session().await.ok()?;
        Shell::open(channel, permit).await.ok()
    }

    /// Run one command on its own session channel.
    ///
    /// With a timeout, the command is prefixed by a line on stderr that
    /// carries its process group id: sshd refuses `signal` requests for root
    /// sessions ("session signalling requires privilege separation") and
    /// closing the channel does not stop the command, so on expiry ferry kills
    /// the group (sshd makes each session a process group leader) over a
    /// second channel.
    async fn exec_channel(&self, req: &ExecRequest) -> Result<ExecOutput, ConnError> {
        let permit = self
            .sessions
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ConnError::Lost(format!("{}: connection closed", self.label)))?;
        let channel = self.open_session().await?;
        let command = match req.timeout {
            Some(_) => format!(
                "printf '{PID_MARK}%s\\n' \"$$\" >&2; {}",
                req.full_command()
            ),
            None => req.full_command(),
        };
        channel
            .exec(true, command)
            .await
            .map_err(|e| self.lost(e))?;
        let (mut rd, wr) = channel.split();

        let mut out = ExecOutput::default();
        let mut rc = None;
        let mut refused = false;
        let mut closed = false;
        let run = async {
            let writer = async {
                if let Some(data) = req.stdin.as_ref().filter(|d| !d.is_empty()) {
                    // The command may exit without reading; that is its business.
                    let _ = wr.data_bytes(data.clone()).await;
                }
                let _ = wr.eof().await;
            };
            let reader = async {
                while let Some(msg) = rd.wait().await {
                    match msg {
                        ChannelMsg::Data { data } => out.stdout.extend_from_slice(&data),
                        ChannelMsg::ExtendedData { data, ext: 1 } => {
                            out.stderr.extend_from_slice(&data)
                        }
                        ChannelMsg::ExitStatus { exit_status } => {
                            rc = Some(i32::try_from(exit_status).unwrap_or(255))
                        }
                        ChannelMsg::ExitSignal { signal_name, .. } => {
                            rc = Some(128 + signal_number(&signal_name))
                        }
                        // The only request we wanted a reply to is `exec`.
                        ChannelMsg::Failure => refused = true,
                        ChannelMsg::Close => {
                            closed = true;
                            break;
                        }
                        _ => {}
                    }
                }
            };
            tokio::pin!(writer, reader);
            let mut written = false;
            loop {
                tokio::select! {
                    _ = &mut writer, if !written => written = true,
                    _ = &mut reader => break,
                }
            }
        };
        if let Some(t) = req.timeout {
            if tokio::time::timeout(t, run).await.is_err() {
                // On a busy host the shell may not have reported its pid yet.
                let mut pid = take_pid(&mut out.stderr);
                if pid.is_none() {
                    let _ = tokio::time::timeout(Duration::from_secs(5), async {
                        while let Some(m) = rd.wait().await {
                            match m {
                                ChannelMsg::ExtendedData { data, ext: 1 } => {
                                    out.stderr.extend_from_slice(&data);
                                    pid = take_pid(&mut out.stderr);
                                    if pid.is_some() || !could_be_pid_line(&out.stderr) {
                                        break;
                                    }
                                }
                                ChannelMsg::Close => break,
                                _ => {}
                            }
                        }
                    })
                    .await;
                }
                match pid {
                    Some(pid) => self.kill_group(pid).await,
                    // Nothing to kill: closing the channel is all we can do.
                    None => {
                        let _ = wr.close().await;
                    }
                }
                // sshd counts the session (MaxSessions) until it has closed the
                // channel, so the permit is held until then, in the background.
                // After a kill the server ends the channel itself; closing first
                // would race with sshd reaping the shell and can leave the
                // session lingering until the shell's children would have ended.
                tokio::spawn(async move {
                    let mut rd = rd;
                    if tokio::time::timeout(Duration::from_secs(1), wait_close(&mut rd))
                        .await
                        .is_err()
                    {
                        let _ = wr.close().await;
                        let _ = tokio::time::timeout(Duration::from_secs(60), wait_close(&mut rd))
                            .await;
                    }
                    drop(permit);
                });
                return Err(ConnError::Timeout(t));
            }
            take_pid(&mut out.stderr);
        } else {
            run.await;
        }
        if refused {
            return Err(ConnError::Lost(format!(
                "{}: the server refused to run the command",
                self.label
            )));
        }
        if !closed {
            return Err(ConnError::Lost(format!(
                "{}: connection closed while a command was running",
                self.label
            )));
        }
        let rc = rc.ok_or_else(|| {
            ConnError::Lost(format!(
                "{}: the command ended without an exit status",
                self.label
            ))
        })?;
        Ok(ExecOutput { rc, ..out })
    }

    /// Kill a timed-out command's process group from a second channel.
    async fn kill_group(&self, pid: u32) {
        let Ok(ch) = self.open_session().await else {
            return;
        };
        let cmd = format!("kill -KILL -{pid} 2>/dev/null || kill -KILL {pid} 2>/dev/null");
        if ch.exec(false, cmd).await.is_err() {
            return;
        }
        let (mut rd, _wr) = ch.split();
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(m) = rd.wait().await {
                if matches!(m, ChannelMsg::Close) {
                    break;
                }
            }
        })
        .await;
    }

    /// Open a session channel, retrying briefly if sshd is still releasing
    /// a just-closed one (MaxSessions is counted on its side).
    async fn open_session(&self) -> Result<russh::Channel<client::Msg>, ConnError> {
        let mut tries = 0;
        loop {
            match self.handle.channel_open_session().await {
                Ok(c) => return Ok(c),
                Err(russh::Error::ChannelOpenFailure(_))
                    if tries < 5 && !self.handle.is_closed() =>
                {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(20 * tries)).await;
                }
                Err(e) => return Err(self.lost(e)),
            }
        }
    }

    fn lost(&self, e: russh::Error) -> ConnError {
        ConnError::Lost(format!("{}: {e}", self.label))
    }

    /// Whether the underlying connection has gone away.
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    pub async fn close(self) {
        if let Some(sh) = self.shell.into_inner() {
            sh.close().await;
        }
        let _ = self
            .handle
            .disconnect(Disconnect::ByApplication, "", "en")
            .await;
        for j in self.jumps.iter().rev() {
            let _ = j.disconnect(Disconnect::ByApplication, "", "en").await;
        }
    }
}

/// One attempt: connect through every ProxyJump hop, then to the target.
async fn connect_once(
    spec: &ConnSpec,
    ids: &[Identity],
    key_notes: &[String],
) -> Result<SshConnection, Failure> {
    let default_user = spec.user.clone().unwrap_or_else(local_user);
    let mut jumps: Vec<Handle<Client>> = Vec::new();
    let mut hops: Vec<(String, u16, String)> = spec
        .proxy_jump
        .iter()
        .map(|j| {
            (
                j.host.clone(),
                j.port,
                j.user.clone().unwrap_or_else(local_user),
            )
        })
        .collect();
    hops.push((spec.host.clone(), spec.port, default_user.clone()));
    let last = hops.len() - 1;
    for (i, (host, port, user)) in hops.into_iter().enumerate() {
        let handle = match jumps.last() {
            None => {
                let tcp = tcp_connect(&host, port, spec.connect_timeout).await?;
                handshake(tcp, &host, port, &user, spec, ids, key_notes).await?
            }
            Some(prev) => {
                let ch = tokio::time::timeout(
                    spec.connect_timeout,
                    prev.channel_open_direct_tcpip(host.clone(), u32::from(port), "127.0.0.1", 0),
                )
                .await
                .map_err(|_| {
                    Failure::retry(unreachable(format!(
                        "ssh: connect to host {host} port {port} through the jump host: Connection timed out"
                    )))
                })?
                .map_err(|e| {
                    Failure::retry(unreachable(format!(
                        "ssh: connect to host {host} port {port} through the jump host: {e}"
                    )))
                })?;
                handshake(ch.into_stream(), &host, port, &user, spec, ids, key_notes).await?
            }
        };
        if i == last {
            return Ok(SshConnection {
                handle,
                jumps,
                sessions: Arc::new(Semaphore::new(MAX_SESSIONS)),
                shell: tokio::sync::Mutex::new(None),
                label: format!("{user}@{host}"),
                ident: std::sync::Mutex::new(None),
            });
        }
        jumps.push(handle);
    }
    // `hops` always holds the target, so the loop returned.
    Err(Failure::fatal(unreachable("no host to connect to")))
}

async fn tcp_connect(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<tokio::net::TcpStream, Failure> {
    let what = format!("ssh: connect to host {host} port {port}");
    let tcp =
        match tokio::time::timeout(timeout, tokio::net::TcpStream::connect((host, port))).await {
            Err(_) => {
                return Err(Failure::retry(unreachable(format!(
                    "{what}: Connection timed out"
                ))))
            }
            Ok(Err(e)) => return Err(Failure::retry(unreachable(format!("{what}: {e}")))),
            Ok(Ok(t)) => t,
        };
    // Small request/response packets: Nagle would only add latency.
    let _ = tcp.set_nodelay(true);
    Ok(tcp)
}

/// SSH handshake, host key check and authentication over an established stream.
async fn handshake<S>(
    stream: S,
    host: &str,
    port: u16,
    user: &str,
    spec: &ConnSpec,
    ids: &[Identity],
    key_notes: &[String],
) -> Result<Handle<Client>, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let name = known_hosts_name(host, port);
    let failure = Arc::new(Mutex::new(None));
    let client = Client {
        policy: spec.host_key_policy,
        files: spec.known_hosts_files.clone(),
        name: name.clone(),
        failure: failure.clone(),
    };
    let mut preferred = Preferred::default();
    if spec.host_key_policy != HostKeyPolicy::Off {
        // Like OpenSSH, ask first for the key types known_hosts already has, so
        // a host known by its ECDSA key is not reported as changed because
        // ed25519 happened to be negotiated.
        let known = known_hosts::known_algorithms(&spec.known_hosts_files, &name);
        if !known.is_empty() {
            let mut keys: Vec<Algorithm> = preferred.key.to_vec();
            keys.sort_by_key(|a| !known.iter().any(|k| same_family(k, a)));
            preferred.key = Cow::Owned(keys);
        }
    }
    let config = Arc::new(client::Config {
        keepalive_interval: spec.server_alive_interval,
        keepalive_max: spec.server_alive_count_max as usize,
        nodelay: true,
        preferred,
        ..Default::default()
    });
    let host_key_err = |f: &Arc<Mutex<Option<ConnError>>>| f.lock().ok().and_then(|mut g| g.take());
    let timeout = spec.connect_timeout;
    let mut handle =
        match tokio::time::timeout(timeout, client::connect_stream(config, stream, client)).await {
            Err(_) => {
                return Err(Failure::retry(unreachable(format!(
            "ssh: connect to host {host} port {port}: Connection timed out during banner exchange"
        ))))
            }
            Ok(Err(e)) => {
                return Err(match host_key_err(&failure) {
                    Some(hk) => Failure::fatal(hk),
                    None => Failure::retry(unreachable(format!("{user}@{host}: {e}"))),
                })
            }
            Ok(Ok(h)) => h,
        };
    let auth = tokio::time::timeout(
        timeout.max(Duration::from_secs(5)) * 3,
        authenticate(&mut handle, user, host, spec, ids, key_notes),
    )
    .await;
    match auth {
        Ok(Ok(())) => Ok(handle),
        // The host key is checked during the first key exchange, which the
        // first auth request waits for; its verdict wins over what auth saw.
        Ok(Err(f)) => Err(match host_key_err(&failure) {
            Some(hk) => Failure::fatal(hk),
            None => f,
        }),
        Err(_) => Err(match host_key_err(&failure) {
            Some(hk) => Failure::fatal(hk),
            None => Failure::retry(unreachable(format!(
                "{user}@{host}: timed out during authentication"
            ))),
        }),
    }
}

fn same_family(a: &Algorithm, b: &Algorithm) -> bool {
    (a.clone().is_rsa() && b.clone().is_rsa()) || a == b
}

/// Identity files, then ssh-agent, then password.
async fn authenticate(
    handle: &mut Handle<Client>,
    user: &str,
    host: &str,
    spec: &ConnSpec,
    ids: &[Identity],
    key_notes: &[String],
) -> Result<(), Failure> {
    let proto = |e: russh::Error| Failure::retry(unreachable(format!("{user}@{host}: {e}")));
    let mut methods: Vec<&'static str> = Vec::new();
    let note = |r: &AuthResult, methods: &mut Vec<&'static str>| {
        if let AuthResult::Failure {
            remaining_methods, ..
        } = r
        {
            *methods = remaining_methods.iter().map(<&str>::from).collect();
        }
    };
    let mut rsa_hash: Option<Option<HashAlg>> = None;
    for id in ids {
        let hash = if id.key.algorithm().is_rsa() {
            // OpenSSH ≥ 8.8 refuses ssh-rsa (SHA-1) signatures: use the best
            // hash the server advertises in server-sig-algs.
            if rsa_hash.is_none() {
                rsa_hash = Some(
                    handle
                        .best_supported_rsa_hash()
                        .await
                        .map_err(proto)?
                        .flatten(),
                );
            }
            rsa_hash.flatten()
        } else {
            None
        };
        // ring signs rsa-sha2-* for a fraction of russh's CPU; ssh-rsa (SHA-1)
        // and every other key type stay with russh.
        let mut ring_result = None;
        if let (Some(ring), Some(_)) = (&id.ring, hash) {
            let public = id.key.public_key().clone();
            match handle
                .authenticate_publickey_with(user, public, hash, &mut RingSigner(ring))
                .await
            {
                Ok(r) => ring_result = Some(r),
                Err(SignError::Send) => return Err(proto(russh::Error::SendError)),
                // russh abandoned the attempt; its own signer gets a go.
                Err(SignError::Sign) => {}
            }
        }
        let r = match ring_result {
            Some(r) => r,
            None => handle
                .authenticate_publickey(user, PrivateKeyWithHashAlg::new(id.key.clone(), hash))
                .await
                .map_err(proto)?,
        };
        if r.success() {
            return Ok(());
        }
        note(&r, &mut methods);
    }
    // ssh-agent, if there is one.
    if std::env::var_os("SSH_AUTH_SOCK").is_some() {
        if let Ok(mut agent) = AgentClient::connect_env().await {
            let idents = agent.request_identities().await.unwrap_or_default();
            for ident in idents {
                let AgentIdentity::PublicKey { key, .. } = ident else {
                    continue;
                };
                let hash = if key.algorithm().is_rsa() {
                    if rsa_hash.is_none() {
                        rsa_hash = Some(
                            handle
                                .best_supported_rsa_hash()
                                .await
                                .map_err(proto)?
                                .flatten(),
                        );
                    }
                    rsa_hash.flatten()
                } else {
                    None
                };
                match handle
                    .authenticate_publickey_with(user, key, hash, &mut agent)
                    .await
                {
                    Ok(r) if r.success() => return Ok(()),
                    Ok(r) => note(&r, &mut methods),
                    Err(_) => continue,
                }
            }
        }
    }
    if let (Some(pw), true) = (&spec.password, spec.password_auth) {
        let r = handle
            .authenticate_password(user, pw.clone())
            .await
            .map_err(proto)?;
        if r.success() {
            return Ok(());
        }
        note(&r, &mut methods);
    }
    if methods.is_empty() {
        // Nothing was tried: ask the server what it would have accepted.
        if let Ok(r) = handle.authenticate_none(user).await {
            if r.success() {
                return Ok(());
            }
            note(&r, &mut methods);
        }
    }
    let mut msg = format!(
        "{user}@{host}: Permission denied ({}).",
        if methods.is_empty() {
            "publickey".to_string()
        } else {
            methods.join(",")
        }
    );
    for n in key_notes {
        msg.push(' ');
        msg.push_str(n);
    }
    Err(Failure::fatal(unreachable(msg)))
}

/// Read every identity file. Unreadable or locked keys are skipped with a note
/// that ends up in the error message if authentication then fails.
async fn load_identities(files: &[PathBuf]) -> (Vec<Identity>, Vec<String>) {
    let mut ids = Vec::new();
    let mut notes = Vec::new();
    for path in files {
        match load_identity(path).await {
            Ok(id) => ids.push(id),
            Err(n) => notes.push(n),
        }
    }
    (ids, notes)
}

/// A key file's parse, done once per run and shared by every host.
struct CachedKey {
    /// The file's content when parsed: a key rewritten during the run (say
    /// by a play that generates it) is parsed again.
    text: String,
    /// The key, or the note saying why it is unusable. A passphrase prompt
    /// runs inside the initialisation, so concurrent connections wait for
    /// the one prompt instead of each asking.
    loaded: tokio::sync::OnceCell<Result<Identity, String>>,
}

static KEY_CACHE: std::sync::LazyLock<Mutex<HashMap<PathBuf, Arc<CachedKey>>>> =
    std::sync::LazyLock::new(Default::default);

/// One identity file, parsed (and its passphrase asked) once per content.
async fn load_identity(path: &Path) -> Result<Identity, String> {
    // Not cached: a key missing now may be written later in the run.
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|e| format!("Could not read key {}: {e}.", path.display()))?;
    let entry = {
        let mut cache = KEY_CACHE.lock().unwrap_or_else(|p| p.into_inner());
        match cache.get(path) {
            Some(e) if e.text == text => e.clone(),
            _ => {
                let e = Arc::new(CachedKey {
                    text,
                    loaded: tokio::sync::OnceCell::new(),
                });
                cache.insert(path.to_path_buf(), e.clone());
                e
            }
        }
    };
    entry
        .loaded
        .get_or_init(|| parse_identity(path, &entry.text))
        .await
        .clone()
}

async fn parse_identity(path: &Path, text: &str) -> Result<Identity, String> {
    let key = match russh::keys::decode_secret_key(text, None) {
        Ok(k) => k,
        Err(e) if looks_encrypted(text, &e) => {
            let path2 = path.to_path_buf();
            let prompt = tokio::task::spawn_blocking(move || {
                // Keys of different files may be loaded at once; one prompt
                // at a time on the terminal.
                static PROMPT: Mutex<()> = Mutex::new(());
                let _turn = PROMPT.lock().unwrap_or_else(|p| p.into_inner());
                ask_passphrase(&path2)
            })
            .await;
            match prompt {
                Ok(Some(pass)) => {
                    russh::keys::decode_secret_key(text, Some(&pass)).map_err(|e| {
                        format!(
                            "Could not decrypt key {}: {e} (wrong passphrase?).",
                            path.display()
                        )
                    })?
                }
                _ => {
                    return Err(format!(
                        "Key {} is encrypted and no passphrase is available (no TTY); \
                         load it into ssh-agent (ssh-add) or use an unencrypted key.",
                        path.display()
                    ))
                }
            }
        }
        Err(e) => return Err(format!("Could not load key {}: {e}.", path.display())),
    };
    let key = Arc::new(key);
    // The conversion costs a few RSA operations; once per key, not per host.
    let ring = tokio::task::spawn_blocking({
        let key = key.clone();
        move || RingRsa::from_key(&key).map(Arc::new)
    })
    .await
    .ok()
    .flatten();
    Ok(Identity { key, ring })
}

/// How many RSA signatures ring has made with the key file at `path` this
/// run; None when the file is not loaded or has no ring form (not RSA, or a
/// key ring refuses). For tests that check which signer was used.
#[doc(hidden)]
pub fn ring_signatures(path: &Path) -> Option<u64> {
    let entry = KEY_CACHE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(path)
        .cloned()?;
    let id = entry.loaded.get()?.as_ref().ok()?;
    id.ring.as_ref().map(|r| r.signatures())
}

fn looks_encrypted(text: &str, e: &russh::keys::Error) -> bool {
    matches!(e, russh::keys::Error::KeyIsEncrypted)
        || text.contains("BEGIN ENCRYPTED PRIVATE KEY")
        || text.contains("Proc-Type: 4,ENCRYPTED")
}

/// Ask for a key's passphrase on the controlling terminal, echo off. None when
/// there is no terminal (or `FERRY_NO_PROMPT` is set, e.g. in CI and tests).
fn ask_passphrase(path: &Path) -> Option<String> {
    use std::io::{BufRead, Write};
    if std::env::var_os("FERRY_NO_PROMPT").is_some() {
        return None;
    }
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()?;
    let mut out = tty.try_clone().ok()?;
    let stty = |arg: &str| {
        let _ = std::process::Command::new("stty")
            .arg(arg)
            .stdin(
                tty.try_clone()
                    .ok()
                    .map_or(std::process::Stdio::null(), Into::into),
            )
            .status();
    };
    write!(out, "Enter passphrase for key '{}': ", path.display()).ok()?;
    out.flush().ok()?;
    stty("-echo");
    let mut line = String::new();
    let read = std::io::BufReader::new(tty.try_clone().ok()?).read_line(&mut line);
    stty("echo");
    let _ = writeln!(out);
    read.ok()?;
    Some(line.trim_end_matches(['\n', '\r']).to_string())
}

/// The local user's name (OpenSSH's default remote user).
fn local_user() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(u) = std::env::var(var) {
            if !u.is_empty() {
                return u;
            }
        }
    }
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
    if let (Some(uid), Ok(passwd)) = (uid, std::fs::read_to_string("/etc/passwd")) {
        for line in passwd.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() > 2 && f[2].parse::<u32>().ok() == Some(uid) {
                return f[0].to_string();
            }
        }
    }
    "root".to_string()
}

fn signal_number(sig: &Sig) -> i32 {
    match sig {
        Sig::HUP => 1,
        Sig::INT => 2,
        Sig::QUIT => 3,
        Sig::ILL => 4,
        Sig::ABRT => 6,
        Sig::FPE => 8,
        Sig::KILL => 9,
        Sig::USR1 => 10,
        Sig::SEGV => 11,
        Sig::PIPE => 13,
        Sig::ALRM => 14,
        Sig::TERM => 15,
        Sig::Custom(name) => match name.as_str() {
            "BUS" => 7,
            "USR2" => 12,
            "STKFLT" => 16,
            "CHLD" => 17,
            "CONT" => 18,
            "STOP" => 19,
            "TSTP" => 20,
            "XCPU" => 24,
            "XFSZ" => 25,
            _ => 127,
        },
    }
}

/// russh's callbacks: only the host key check matters to ferry.
struct Client {
    policy: HostKeyPolicy,
    files: Vec<PathBuf>,
    /// `host` or `[host]:port`.
    name: String,
    /// Why the host key was refused, for the caller (russh only sees `false`).
    failure: Arc<Mutex<Option<ConnError>>>,
}

impl Client {
    fn verify(&self, key: &PublicKey) -> Result<(), ConnError> {
        if self.policy == HostKeyPolicy::Off {
            return Ok(());
        }
        let name = &self.name;
        let fp = key.fingerprint(HashAlg::Sha256);
        let alg = key.algorithm();
        let first = self.files.first();
        let hint = || {
            let (host, port) = split_name(name);
            let file = first
                .map(|f| f.display().to_string())
                .unwrap_or_else(|| "~/.ssh/known_hosts".into());
            format!(
                "Add it with `ssh-keyscan -p {port} {host} >> {file}` after checking the \
                 fingerprint, or set StrictHostKeyChecking=accept-new (ansible_ssh_common_args) \
                 or host_key_checking = False."
            )
        };
        match known_hosts::check(&self.files, name, key) {
            Verdict::Known(_) => Ok(()),
            Verdict::Revoked(loc) => Err(ConnError::HostKey(format!(
                "Failed to connect to the host via ssh: the {alg} host key for {name} ({fp}) \
                 is marked @revoked at {loc}."
            ))),
            Verdict::Changed(loc) => Err(ConnError::HostKey(format!(
                "Failed to connect to the host via ssh: REMOTE HOST IDENTIFICATION HAS CHANGED \
                 for {name}: it offered the {alg} key {fp}, but {loc} records a different key. \
                 Someone could be eavesdropping (man-in-the-middle), or the host was \
                 reinstalled; if you trust the new key, remove line {} of {} \
                 (ssh-keygen -R '{name}' -f {}).",
                loc.line,
                loc.file.display(),
                loc.file.display()
            ))),
            Verdict::OtherTypes(loc) => Err(ConnError::HostKey(format!(
                "Failed to connect to the host via ssh: the host key for {name} is known under a \
                 different key type ({loc}) but the server offered an {alg} key {fp}. {}",
                hint()
            ))),
            Verdict::Unknown if self.policy == HostKeyPolicy::AcceptNew => {
                match first {
                    Some(f) => known_hosts::learn(f, name, key).map_err(|e| {
                        ConnError::HostKey(format!(
                            "Failed to connect to the host via ssh: cannot record the host key \
                             for {name} in {}: {e}",
                            f.display()
                        ))
                    }),
                    // UserKnownHostsFile=/dev/null: nothing to record into.
                    None => Ok(()),
                }
            }
            Verdict::Unknown => Err(ConnError::HostKey(format!(
                "Failed to connect to the host via ssh: host key verification failed: no \
                 known_hosts entry for {name} (it offered the {alg} key {fp}; looked in {}). {}",
                if self.files.is_empty() {
                    "no files".to_string()
                } else {
                    self.files
                        .iter()
                        .map(|f| f.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                hint()
            ))),
        }
    }
}

/// `[host]:port` back into host and port (22 when plain).
fn split_name(name: &str) -> (String, u16) {
    if let Some(rest) = name.strip_prefix('[') {
        if let Some((h, p)) = rest.split_once("]:") {
            return (h.to_string(), p.parse().unwrap_or(22));
        }
    }
    (name.to_string(), 22)
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_public_key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = match server_public_key {
            russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            russh::keys::PublicKeyOrCertificate::Certificate(c) => {
                PublicKey::new(c.public_key().clone(), "")
            }
        };
        match self.verify(&key) {
            Ok(()) => Ok(true),
            Err(e) => {
                if let Ok(mut g) = self.failure.lock() {
                    *g = Some(e);
                }
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keygen(path: &Path, args: &[&str]) {
        let _ = std::fs::remove_file(path);
        let st = std::process::Command::new("ssh-keygen")
            .args(["-q", "-N", "", "-f"])
            .arg(path)
            .args(args)
            .stdin(std::process::Stdio::null())
            .status()
            .expect("ssh-keygen must be installed");
        assert!(st.success());
    }

    /// Concurrent connections share one parse (and so one passphrase
    /// prompt); a key rewritten on disk is parsed again, and a key that is
    /// missing at first is found once it exists.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn identity_files_are_parsed_once_per_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id_rsa");
        let files = vec![path.clone()];

        let (ids, notes) = load_identities(&files).await;
        assert!(ids.is_empty());
        assert!(notes[0].starts_with("Could not read key"), "{notes:?}");

        keygen(&path, &["-t", "rsa", "-b", "2048", "-m", "PEM"]);
        let loads: Vec<_> = (0..16)
            .map(|_| {
                let files = files.clone();
                tokio::spawn(async move { load_identities(&files).await })
            })
            .collect();
        let mut keys = Vec::new();
        for l in loads {
            let (ids, notes) = l.await.unwrap();
            assert!(notes.is_empty(), "{notes:?}");
            assert!(ids[0].ring.is_some(), "RSA-2048 gets a ring form");
            keys.push(ids[0].key.clone());
        }
        assert!(keys.iter().all(|k| Arc::ptr_eq(k, &keys[0])));

        keygen(&path, &["-t", "ed25519"]);
        let (ids, _) = load_identities(&files).await;
        assert!(!Arc::ptr_eq(&ids[0].key, &keys[0]));
        assert_eq!(ids[0].key.algorithm(), Algorithm::Ed25519);
        assert!(ids[0].ring.is_none());
    }
}
