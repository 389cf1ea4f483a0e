//! A throw-away OpenSSH server for integration tests: `Sshd::start()` writes
//! host keys, authorized_keys and an sshd_config into a temp dir, runs
//! `/usr/sbin/sshd -D -e` on a free 127.0.0.1 port, and kills it on drop.
//!
//! Login user: when the tests run as root (CI), a dedicated user `ferrytest`
//! with `/bin/sh` as its shell, created with `useradd` on first use. Logging in
//! as root would work (`PermitRootLogin prohibit-password` is set for the
//! fallback) but Debian's bash sources root's ~/.bashrc for every ssh command,
//! which makes timings depend on whatever is in it (pyenv init: +300 ms per
//! exec) and can print junk. When not root, an sshd can only authenticate the
//! user running it, so that user logs in. No home directory is used:
//! AuthorizedKeysFile and known_hosts files live in the server's temp dir, and
//! `Sshd::remote_dir()` is a directory the login user owns.
//!
//! Client keys are generated once per target dir (RSA 3072 is slow) and
//! shared read-only by all tests; every server has its own host key, port and
//! directory, so tests can run in parallel threads.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ferry::connection::{ConnDefaults, ConnSpec};
use indexmap::IndexMap;
use serde_json::{json, Value};

/// The client keys every test server authorizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKey {
    /// RSA 3072 in PEM PKCS#1 (`BEGIN RSA PRIVATE KEY`, as Terraform writes).
    RsaPem,
    /// RSA 2048 in PKCS#8 (`BEGIN PRIVATE KEY`).
    RsaPkcs8,
    Ed25519,
    Ecdsa,
    /// ed25519 protected by the passphrase [`PASSPHRASE`].
    Ed25519Encrypted,
}

pub const PASSPHRASE: &str = "correct horse";

impl ClientKey {
    pub const ALL: [ClientKey; 5] = [
        ClientKey::RsaPem,
        ClientKey::RsaPkcs8,
        ClientKey::Ed25519,
        ClientKey::Ecdsa,
        ClientKey::Ed25519Encrypted,
    ];

    fn file(self) -> &'static str {
        match self {
            ClientKey::RsaPem => "id_rsa_pem",
            ClientKey::RsaPkcs8 => "id_rsa_pkcs8",
            ClientKey::Ed25519 => "id_ed25519",
            ClientKey::Ecdsa => "id_ecdsa",
            ClientKey::Ed25519Encrypted => "id_ed25519_enc",
        }
    }

    fn keygen_args(self) -> Vec<&'static str> {
        match self {
            ClientKey::RsaPem => vec!["-t", "rsa", "-b", "3072", "-m", "PEM", "-N", ""],
            ClientKey::RsaPkcs8 => vec!["-t", "rsa", "-b", "2048", "-m", "PKCS8", "-N", ""],
            ClientKey::Ed25519 => vec!["-t", "ed25519", "-N", ""],
            ClientKey::Ecdsa => vec!["-t", "ecdsa", "-b", "256", "-N", ""],
            ClientKey::Ed25519Encrypted => vec!["-t", "ed25519", "-N", PASSPHRASE],
        }
    }

    /// The private key file.
    pub fn path(self) -> PathBuf {
        client_key_dir().join(self.file())
    }

    /// The `type base64 comment` public key line.
    pub fn public_line(self) -> String {
        let p = client_key_dir().join(format!("{}.pub", self.file()));
        std::fs::read_to_string(p).unwrap().trim().to_string()
    }
}

/// Process-wide test setup: no agent and no passphrase prompts, so the
/// tests behave the same in a terminal and on CI.
pub fn init_env() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        std::env::remove_var("SSH_AUTH_SOCK");
        std::env::set_var("FERRY_NO_PROMPT", "1");
    });
}

fn client_key_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ferry-client-keys-v1");
        if dir.join("done").exists() {
            return dir;
        }
        // Generate into a private dir and rename, so concurrent test binaries
        // never see half-written keys.
        let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        for k in ClientKey::ALL {
            keygen(&tmp.path().join(k.file()), &k.keygen_args());
        }
        std::fs::write(tmp.path().join("done"), "").unwrap();
        let tmp = tmp.keep();
        if std::fs::rename(&tmp, &dir).is_err() {
            // Someone else won the race; theirs are as good as ours.
            let _ = std::fs::remove_dir_all(&tmp);
        }
        dir
    })
    .clone()
}

fn keygen(path: &Path, args: &[&str]) {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-C", "ferry-test", "-f"])
        .arg(path)
        .args(args)
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen must be installed");
    assert!(st.success(), "ssh-keygen {args:?} failed");
}

/// Knobs for a test server.
#[derive(Clone, Debug, Default)]
pub struct SshdOptions {
    /// Listen on this port instead of a fresh one.
    pub port: Option<u16>,
    /// Extra sshd_config lines.
    pub extra_config: String,
    /// Host key type for `ssh-keygen -t` (default ed25519).
    pub host_key_type: Option<String>,
}

pub struct Sshd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub user: String,
    child: Child,
}

impl Sshd {
    pub fn start() -> Sshd {
        Sshd::start_with(SshdOptions::default())
    }

    pub fn start_with(opts: SshdOptions) -> Sshd {
        init_env();
        let keys = client_key_dir();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let user = login_user();
        // sshd reads authorized_keys as the login user.
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        let remote = d.join("remote");
        std::fs::create_dir(&remote).unwrap();
        let (uid, gid) = ids(&user);
        std::os::unix::fs::chown(&remote, Some(uid), Some(gid)).unwrap();
        let kt = opts
            .host_key_type
            .clone()
            .unwrap_or_else(|| "ed25519".into());
        keygen(&d.join("host_key"), &["-t", &kt, "-N", ""]);
        let mut ak = String::new();
        for k in ClientKey::ALL {
            ak.push_str(&std::fs::read_to_string(keys.join(format!("{}.pub", k.file()))).unwrap());
        }
        std::fs::write(d.join("authorized_keys"), ak).unwrap();
        std::fs::set_permissions(
            d.join("authorized_keys"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        // sshd refuses to start without its privilege separation directory.
        let _ = std::fs::create_dir_all("/run/sshd");
        for _ in 0..5 {
            let port = opts.port.unwrap_or_else(free_port);
            let config = format!(
                // sshd keeps the first value of a keyword: the test's own
                // settings go first so they win over the defaults below.
                "{extra}\nListenAddress 127.0.0.1\nPort {port}\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
                 AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n\
                 MaxSessions 10\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PermitRootLogin prohibit-password\nLogLevel VERBOSE\n",
                d = d.display(),
                extra = opts.extra_config
            );
            std::fs::write(d.join("sshd_config"), config).unwrap();
            let log = std::fs::File::create(d.join("sshd.log")).unwrap();
            let mut child = Command::new("/usr/sbin/sshd")
                .arg("-D")
                .arg("-e")
                .arg("-f")
                .arg(d.join("sshd_config"))
                .arg("-p")
                .arg(port.to_string())
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("/usr/sbin/sshd must be installed");
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Sshd {
                        dir,
                        port,
                        user,
                        child,
                    };
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break; // lost a port race, or a bad config: try again / report
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.wait();
            if opts.port.is_some() {
                break;
            }
        }
        panic!(
            "sshd did not start; log:\n{}",
            std::fs::read_to_string(d.join("sshd.log")).unwrap_or_default()
        );
    }

    /// sshd's log so far (`-e` sends it to stderr, which goes to a file).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// A directory on the "remote" side that the login user may write to.
    pub fn remote_dir(&self) -> PathBuf {
        self.dir.path().join("remote")
    }

    /// The server's `type base64` public host key.
    pub fn host_key_line(&self) -> String {
        let s = std::fs::read_to_string(self.dir.path().join("host_key.pub")).unwrap();
        let mut f = s.split_whitespace();
        format!("{} {}", f.next().unwrap(), f.next().unwrap())
    }

    /// A known_hosts line for this server (`[127.0.0.1]:PORT type base64`).
    pub fn known_hosts_line(&self) -> String {
        format!("[127.0.0.1]:{} {}", self.port, self.host_key_line())
    }

    /// Write `content` to a fresh file in the server's dir and return its path.
    pub fn write_file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        let mut f = std::fs::File::create(&p).unwrap();
        f.write_all(content.as_bytes()).unwrap();
        p
    }

    /// Ansible variables for this server: address, port, user, key, and host
    /// key checking against a known_hosts file that trusts it.
    pub fn vars(&self, key: ClientKey) -> IndexMap<String, Value> {
        let kh = self.write_file(
            "known_hosts_trusted",
            &format!("{}\n", self.known_hosts_line()),
        );
        let mut v = IndexMap::new();
        v.insert("ansible_host".into(), json!("127.0.0.1"));
        v.insert("ansible_port".into(), json!(self.port));
        v.insert("ansible_user".into(), json!(self.user));
        v.insert(
            "ansible_ssh_private_key_file".into(),
            json!(key.path().to_string_lossy()),
        );
        v.insert(
            "ansible_ssh_common_args".into(),
            json!(format!("-o UserKnownHostsFile={}", kh.display())),
        );
        v
    }

    /// A resolved spec for this server with the given key.
    pub fn spec(&self, key: ClientKey) -> ConnSpec {
        ConnSpec::resolve("testhost", &self.vars(key), &ConnDefaults::default()).unwrap()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn whoami() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The test login user's uid and gid.
fn ids(user: &str) -> (u32, u32) {
    let id = |flag: &str| {
        let out = Command::new("id").args([flag, user]).output().unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    (id("-u"), id("-g"))
}

const TEST_USER: &str = "ferrytest";

/// See the module docs: `ferrytest` when root, else the current user.
pub fn login_user() -> String {
    static USER: OnceLock<String> = OnceLock::new();
    USER.get_or_init(|| {
        let me = whoami();
        if me != "root" {
            return me;
        }
        let exists = |u: &str| {
            Command::new("id")
                .arg(u)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        };
        if !exists(TEST_USER) {
            // Another test binary may race us; whoever loses sees it exist.
            let _ = Command::new("useradd")
                .args(["--create-home", "--shell", "/bin/sh", TEST_USER])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        if !exists(TEST_USER) {
            return me;
        }
        // useradd leaves the password "!" (locked), and sshd without PAM
        // refuses locked accounts even for key logins; "*" means "no
        // password" without locking.
        let _ = Command::new("usermod")
            .args(["-p", "*", TEST_USER])
            .status();
        TEST_USER.to_string()
    })
    .clone()
}
