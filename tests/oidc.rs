//! Issue 4 end to end, offline: `ferry playbook playbooks/azure-aws-oidc.yml`
//! against a real sshd on 127.0.0.1, with the real Azure CLI (logging in
//! through `tests/cloud/fake_azure.py`, a fake managed-identity endpoint) and
//! the real AWS CLI (assuming the role on a moto_server by web identity).
//!
//! The CLIs come from `tests/cloud/setup.sh` (run by tests/run.sh). Missing
//! ones fail these tests on CI (`CI=true`) and skip them, with a note,
//! elsewhere. The remote user is the harness's `ferrytest` (root runs only):
//! its home /home/ferrytest is reset before each test, so the tests here take
//! turns.

mod common;

use std::io::BufRead;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::{ClientKey, Sshd, SshdOptions};
use serde_json::Value;

const BUCKET: &str = "ferry-oidc-demo-bucket";
const PLAYBOOK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/playbooks/azure-aws-oidc.yml");
const ORIGINAL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/oidc/original-playbook.yml"
);
const CLOUD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cloud");

/// The remote home (/home/ferrytest) is shared by every test here, and by
/// any other checkout running these tests on the machine: a thread lock
/// plus a file lock that other processes respect.
struct Serial {
    _thread: MutexGuard<'static, ()>,
    _file: std::fs::File,
}

fn serial() -> Serial {
    static LOCK: Mutex<()> = Mutex::new(());
    let thread = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open("/tmp/ferry-oidc-tests.lock")
        .unwrap();
    file.lock().unwrap();
    Serial {
        _thread: thread,
        _file: file,
    }
}

fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The cached venvs of tests/cloud/setup.sh, or `None` (after a note) when
/// this test may skip.
fn cloud_cache() -> Option<PathBuf> {
    let skip = |why: String| -> Option<PathBuf> {
        if on_ci() {
            panic!("{why} (CI=true: the oidc tests must run)");
        }
        eprintln!("note: skipping an oidc test: {why}");
        None
    };
    let me = Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&me.stdout).trim() != "0" {
        return skip("needs root (the ssh login user ferrytest and its home)".into());
    }
    let out = Command::new("bash")
        .arg(format!("{CLOUD}/setup.sh"))
        .arg("--check")
        .output()
        .unwrap();
    if !out.status.success() {
        return skip("the cloud CLIs are not installed: run bash tests/cloud/setup.sh".into());
    }
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Some(PathBuf::from(dir))
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(st)) = child.try_wait() {
            panic!("{what} exited: {st}");
        }
        assert!(Instant::now() < deadline, "{what} did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// moto + fake Azure + CLI wrappers + sshd (PATH → wrappers) + a fresh home.
struct Stack {
    dir: tempfile::TempDir,
    sshd: Sshd,
    moto_port: u16,
    role_arn: String,
    _moto: Killed,
    _azure: Killed,
    _guard: Serial,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Stack {
    fn start() -> Option<Stack> {
        let guard = serial();
        let cache = cloud_cache()?;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // The ssh user reads the wrappers and the CA certificate.
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();

        // moto, recording every request
        let mut moto = None;
        let mut moto_port = 0;
        for _ in 0..5 {
            moto_port = common::sshd::free_port();
            let mut c = Command::new(cache.join("aws/bin/moto_server"))
                .args(["-H", "127.0.0.1", "-p", &moto_port.to_string()])
                .env("MOTO_ENABLE_RECORDING", "1")
                .env("MOTO_RECORDER_FILEPATH", d.join("moto-recording.jsonl"))
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(d.join("moto.log")).unwrap())
                .spawn()
                .expect("moto_server");
            std::thread::sleep(Duration::from_millis(200));
            if let Ok(Some(_)) = c.try_wait() {
                continue; // lost the port
            }
            wait_port(moto_port, &mut c, "moto_server");
            moto = Some(Killed(c));
            break;
        }
        let moto = moto.expect("moto_server did not start");
        let seed = Command::new(cache.join("aws/bin/python"))
            .arg(format!("{CLOUD}/seed_moto.py"))
            .arg(format!("http://127.0.0.1:{moto_port}"))
            .arg(BUCKET)
            .output()
            .unwrap();
        assert!(
            seed.status.success(),
            "seeding moto: {}",
            String::from_utf8_lossy(&seed.stderr)
        );
        let role_arn = String::from_utf8_lossy(&seed.stdout).trim().to_string();

        // the fake managed-identity endpoint
        let azdir = d.join("azure");
        let mut az = Command::new("python3")
            .arg(format!("{CLOUD}/fake_azure.py"))
            .arg("--state-dir")
            .arg(&azdir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("fake_azure.log")).unwrap())
            .spawn()
            .expect("python3");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !azdir.join("ports.json").exists() {
            if let Ok(Some(st)) = az.try_wait() {
                panic!(
                    "fake_azure.py exited: {st}: {}",
                    std::fs::read_to_string(d.join("fake_azure.log")).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "fake_azure.py did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let az = Killed(az);
        let ports: Value =
            serde_json::from_str(&std::fs::read_to_string(azdir.join("ports.json")).unwrap())
                .unwrap();
        let http_port = ports["http"].as_u64().unwrap();

        let bin = d.join("bin");
        let st = Command::new("sh")
            .arg(format!("{CLOUD}/wrappers.sh"))
            .arg(&bin)
            .arg(&cache)
            .arg(http_port.to_string())
            .arg(azdir.join("ca.pem"))
            .arg(moto_port.to_string())
            .status()
            .unwrap();
        assert!(st.success());

        let sshd = Sshd::start_with(SshdOptions {
            extra_config: format!("SetEnv PATH={}:/usr/local/bin:/usr/bin:/bin", bin.display()),
            ..Default::default()
        });
        assert_eq!(sshd.user, "ferrytest");
        reset_home(&sshd.user);
        Some(Stack {
            dir,
            sshd,
            moto_port,
            role_arn,
            _moto: moto,
            _azure: az,
            _guard: guard,
        })
    }

    fn home(&self) -> PathBuf {
        PathBuf::from(format!("/home/{}", self.sshd.user))
    }

    /// The inventory exactly as `tofu output -raw ansible_inventory_yml`
    /// writes it, plus `extra` host lines.
    fn inventory(&self, extra: &str) -> PathBuf {
        let inv = format!(
            "oidc:\n  hosts:\n    127.0.0.1:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n      \
             ansible_ssh_user: {user}\n      ansible_ssh_private_key_file: {key}\n      \
             ansible_ssh_common_args: \"-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o PasswordAuthentication=no\"\n{extra}",
            port = self.sshd.port,
            user = self.sshd.user,
            key = ClientKey::RsaPem.path().display(),
        );
        let p = self.dir.path().join("inventory.yml");
        std::fs::write(&p, inv).unwrap();
        p
    }

    /// `ferry playbook` on the control side: cwd and HOME a temp dir, AWS
    /// keys for moto in the environment (the SSM lookup runs here).
    fn ferry(&self, playbook: &str, inventory: &Path, extra: &[&str]) -> Run {
        let control = self.dir.path().join("control");
        std::fs::create_dir_all(&control).unwrap();
        let start = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_ferry"))
            .arg("playbook")
            .arg(playbook)
            .arg("-i")
            .arg(inventory)
            .args(extra)
            .current_dir(&control)
            .env_remove("ANSIBLE_CONFIG")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_CONFIG_FILE")
            .env_remove("AWS_SHARED_CREDENTIALS_FILE")
            .env("HOME", &control)
            .env_remove("SSH_AUTH_SOCK")
            .env("FERRY_NO_PROMPT", "1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env(
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", self.moto_port),
            )
            .output()
            .expect("run ferry");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: start.elapsed(),
        }
    }

    /// Tokens the fake identity endpoint issued, oldest first.
    fn issued_tokens(&self) -> Vec<String> {
        let p = self.dir.path().join("azure/tokens.jsonl");
        let Ok(f) = std::fs::File::open(p) else {
            return Vec::new();
        };
        std::io::BufReader::new(f)
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(&l.unwrap()).unwrap();
                v["access_token"].as_str().unwrap().to_string()
            })
            .collect()
    }

    /// Requests moto saw, after seeding: (method, url, headers, decoded body).
    fn moto_requests(&self) -> Vec<(String, String, Value, String)> {
        let p = self.dir.path().join("moto-recording.jsonl");
        let text = std::fs::read_to_string(p).unwrap_or_default();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                let body = v["body"].as_str().unwrap_or_default().to_string();
                let body = if v["body_encoded"] == Value::Bool(true) {
                    use base64ct::Encoding;
                    base64ct::Base64::decode_vec(&body)
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or(body)
                } else {
                    body
                };
                (
                    v["method"].as_str().unwrap_or_default().to_string(),
                    v["url"].as_str().unwrap_or_default().to_string(),
                    v["headers"].clone(),
                    body,
                )
            })
            .collect()
    }
}

/// Empty the login user's home (as `useradd` left it: owned by the user).
fn reset_home(user: &str) {
    let home = format!("/home/{user}");
    let st = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "rm -rf '{home}' && mkdir -m 700 '{home}' && chown {user}:{user} '{home}'"
        ))
        .status()
        .unwrap();
    assert!(st.success(), "resetting {home}");
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn urldecode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(h, 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn form(body: &str) -> std::collections::HashMap<String, String> {
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (urldecode(k), urldecode(v)))
        .collect()
}

/// The recap line of `host`.
fn recap<'a>(stdout: &'a str, host: &str) -> &'a str {
    stdout
        .lines()
        .rev()
        .find(|l| l.starts_with(host) && l.contains("ok="))
        .unwrap_or_else(|| panic!("no recap for {host} in\n{stdout}"))
}

#[test]
fn shipped_playbook_end_to_end_via_ssm() {
    let Some(stack) = Stack::start() else { return };
    let inv = stack.inventory("");
    let r = stack.ferry(PLAYBOOK, &inv, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let home = stack.home();

    // the token file holds exactly the token the fake issued, 0400
    let tokens = stack.issued_tokens();
    assert!(!tokens.is_empty(), "no token issued");
    let token = tokens.last().unwrap().clone();
    let tok_file = home.join(".azure/vm-identity-token");
    assert_eq!(std::fs::read_to_string(&tok_file).unwrap(), token);
    assert_eq!(mode(&tok_file), 0o400);

    // ~/.aws 0700, ~/.aws/config 0400 with the profile, ARN from SSM
    assert_eq!(mode(&home.join(".aws")), 0o700);
    let cfg = home.join(".aws/config");
    assert_eq!(mode(&cfg), 0o400);
    assert_eq!(
        std::fs::read_to_string(&cfg).unwrap(),
        format!(
            "[default]\nregion = us-east-1\noutput = json\n\
             web_identity_token_file = {}/.azure/vm-identity-token\n\
             role_arn = {}\nrole_session_name = azure-127.0.0.1\n",
            home.display(),
            stack.role_arn
        )
    );

    // moto: one GetParameter (the lookup), then exactly one
    // AssumeRoleWithWebIdentity with that token, then a signed ListBuckets
    let reqs = stack.moto_requests();
    let get_param = reqs
        .iter()
        .position(|(_, _, h, _)| h["X-Amz-Target"] == "AmazonSSM.GetParameter")
        .expect("the SSM lookup reached moto");
    assert!(reqs[get_param].2["Authorization"]
        .as_str()
        .unwrap()
        .starts_with("AWS4-HMAC-SHA256 Credential=testing/"));
    let sts: Vec<usize> = reqs
        .iter()
        .enumerate()
        .filter(|(_, (_, _, _, b))| b.contains("Action=AssumeRoleWithWebIdentity"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(sts.len(), 1, "{reqs:?}");
    let f = form(&reqs[sts[0]].3);
    assert_eq!(f["WebIdentityToken"], token);
    assert_eq!(f["RoleSessionName"], "azure-127.0.0.1");
    assert_eq!(f["RoleArn"], stack.role_arn);
    let (m, url, h, _) = &reqs[sts[0] + 1];
    assert_eq!(m, "GET", "{url}");
    assert_eq!(url, &format!("http://127.0.0.1:{}/", stack.moto_port));
    assert!(
        h["Authorization"]
            .as_str()
            .unwrap_or_default()
            .starts_with("AWS4-HMAC-SHA256 Credential=ASIA"),
        "{h}"
    );
    assert!(r.stdout.contains(BUCKET), "{}", r.stdout);
    assert!(!r.stdout.contains(&token) && !r.stderr.contains(&token));

    // second run, at -vvvv: only the token changes, and no token is printed
    let r2 = stack.ferry(PLAYBOOK, &inv, &["-vvvv"]);
    assert_eq!(r2.code, 0, "{}\n{}", r2.stdout, r2.stderr);
    assert!(
        recap(&r2.stdout, "127.0.0.1").contains("changed=1 "),
        "{}",
        r2.stdout
    );
    assert!(r2.stdout.contains(BUCKET));
    let tokens2 = stack.issued_tokens();
    let token2 = tokens2.last().unwrap().clone();
    assert_ne!(token, token2);
    assert_eq!(std::fs::read_to_string(&tok_file).unwrap(), token2);
    for t in &tokens2 {
        assert!(!r2.stdout.contains(t.as_str()), "token in stdout");
        assert!(!r2.stderr.contains(t.as_str()), "token in stderr");
        // nor any recognisable part of it (its signature)
        let sig = t.rsplit('.').next().unwrap();
        assert!(!r2.stdout.contains(sig) && !r2.stderr.contains(sig));
    }
}

#[test]
fn explicit_role_arn_skips_the_lookup() {
    let Some(stack) = Stack::start() else { return };
    let inv = stack.inventory("");
    let arn = "arn:aws:iam::123456789012:role/given-on-the-command-line";
    let r = stack.ferry(
        PLAYBOOK,
        &inv,
        &[
            "-e",
            &format!("role_arn={arn}"),
            "-e",
            "role_session_name=ci-run",
        ],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let cfg = std::fs::read_to_string(stack.home().join(".aws/config")).unwrap();
    assert!(cfg.contains(&format!("role_arn = {arn}\n")), "{cfg}");
    let reqs = stack.moto_requests();
    assert!(!reqs
        .iter()
        .any(|(_, _, h, _)| h["X-Amz-Target"] == "AmazonSSM.GetParameter"));
    let sts: Vec<_> = reqs
        .iter()
        .filter(|(_, _, _, b)| b.contains("Action=AssumeRoleWithWebIdentity"))
        .collect();
    assert_eq!(sts.len(), 1);
    assert_eq!(form(&sts[0].3)["RoleArn"], arn);
    assert_eq!(form(&sts[0].3)["RoleSessionName"], "ci-run");
}

#[test]
fn identity_endpoint_refusal_fails_at_login() {
    let Some(stack) = Stack::start() else { return };
    std::fs::write(stack.dir.path().join("azure/identity-fail"), "").unwrap();
    let inv = stack.inventory("");
    let r = stack.ferry(PLAYBOOK, &inv, &[]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    let fatal = r
        .stdout
        .split("TASK [")
        .find(|s| s.contains("fatal: [127.0.0.1]"))
        .unwrap_or_else(|| panic!("no fatal in\n{}", r.stdout));
    assert!(
        fatal.starts_with("Log the Azure CLI in with the managed identity]"),
        "{fatal}"
    );
    assert!(fatal.contains("Identity not found"), "{fatal}");
    assert!(
        recap(&r.stdout, "127.0.0.1").contains("failed=1"),
        "{}",
        r.stdout
    );
    let home = stack.home();
    assert!(!home.join(".azure/vm-identity-token").exists());
    assert!(!home.join(".aws").exists());
    assert!(stack.issued_tokens().is_empty());

    // Once the identity answers, the same command completes: the failed
    // login left nothing that would make `creates:` skip the next one.
    std::fs::remove_file(stack.dir.path().join("azure/identity-fail")).unwrap();
    let r = stack.ferry(PLAYBOOK, &inv, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains(BUCKET));
}

#[test]
fn silent_host_is_unreachable_while_the_other_completes() {
    let Some(stack) = Stack::start() else { return };
    // Accepts TCP connections (the kernel does) but never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let extra = format!(
        "    silent-vm:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n      \
         ansible_ssh_user: nobody\n      ansible_ssh_private_key_file: {key}\n      \
         ansible_ssh_common_args: \"-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o ConnectTimeout=5\"\n",
        key = ClientKey::RsaPem.path().display()
    );
    let inv = stack.inventory(&extra);
    let r = stack.ferry(PLAYBOOK, &inv, &["-e", "ssh_wait_timeout=0", "-T", "5"]);
    drop(silent);
    assert_eq!(r.code, 4, "{}\n{}", r.stdout, r.stderr);
    assert!(r.elapsed < Duration::from_secs(60), "took {:?}", r.elapsed);
    assert!(
        r.stdout.contains("fatal: [silent-vm]: UNREACHABLE!"),
        "{}",
        r.stdout
    );
    assert!(recap(&r.stdout, "silent-vm").contains("unreachable=1"));
    let ok = recap(&r.stdout, "127.0.0.1");
    assert!(
        ok.contains("unreachable=0") && ok.contains("failed=0"),
        "{ok}"
    );
    assert!(r.stdout.contains(BUCKET));
    assert!(stack.home().join(".aws/config").exists());
}

#[test]
fn original_playbook_runs_unchanged() {
    let Some(stack) = Stack::start() else { return };
    // The original reads the ARN with profile=azure-oidc on the control
    // machine: give that profile keys there (environment keys do not count
    // for an explicitly named profile).
    let control = stack.dir.path().join("control");
    std::fs::create_dir_all(control.join(".aws")).unwrap();
    std::fs::write(
        control.join(".aws/credentials"),
        "[azure-oidc]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    std::fs::write(
        control.join(".aws/config"),
        "[profile azure-oidc]\nregion = us-east-1\n",
    )
    .unwrap();
    let inv = stack.inventory("");
    let r = stack.ferry(ORIGINAL, &inv, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let home = stack.home();
    let token = stack.issued_tokens().last().cloned().expect("a token");
    let tok_file = home.join(".azure/vm-identity-token");
    assert_eq!(std::fs::read_to_string(&tok_file).unwrap(), token);
    assert_eq!(mode(&tok_file), 0o400);
    let cfg = std::fs::read_to_string(home.join(".aws/config")).unwrap();
    assert_eq!(
        cfg,
        format!(
            "[profile azure-oidc]\nregion = us-east-1\noutput = json\n\
             web_identity_token_file = /home/ferrytest/.azure/vm-identity-token\n\
             role_arn = {}\nrole_session_name = azure-vm-session\n",
            stack.role_arn
        )
    );
    assert!(r.stdout.contains(BUCKET), "{}", r.stdout);
    assert!(!r.stdout.contains(&token) && !r.stderr.contains(&token));
}

/// The lookup's failures are task errors with Ansible's wording: a missing
/// parameter, and no credentials at all on the control machine.
#[test]
fn ssm_lookup_errors_are_task_errors() {
    let Some(stack) = Stack::start() else { return };
    let control = stack.dir.path().join("control");
    std::fs::create_dir_all(&control).unwrap();
    let pb = control.join("lookup.yml");
    std::fs::write(
        &pb,
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: read it\n      \
         ansible.builtin.set_fact:\n        arn: \"{{ lookup('amazon.aws.ssm_parameter', '/azure/oidc/nope') }}\"\n",
    )
    .unwrap();
    let run = |keys: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ferry"));
        c.arg("playbook")
            .arg(&pb)
            .current_dir(&control)
            .env_remove("ANSIBLE_CONFIG")
            .env("HOME", &control)
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env(
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", stack.moto_port),
            );
        if keys {
            c.env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing");
        }
        let o = c.output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        )
    };
    let (code, out) = run(true);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("Failed to find SSM parameter /azure/oidc/nope (ResourceNotFound)"),
        "{out}"
    );
    let (code, out) = run(false);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("Unable to locate credentials"), "{out}");
    assert!(out.contains("amazon.aws.ssm_parameter"), "{out}");
}
