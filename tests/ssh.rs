//! End-to-end tests of the SSH connection against real `sshd` processes on
//! 127.0.0.1 (nothing mocked): key types, exec semantics, concurrency,
//! timeouts, known_hosts policies, retries, ProxyJump and `put`.

mod common;

use std::time::{Duration, Instant};

use common::{ClientKey, Sshd, SshdOptions};
use ferry::connection::{
    ConnDefaults, ConnError, ConnSpec, Connection, ExecRequest, HostKeyPolicy, JumpHost,
};
use serde_json::json;

async fn connect(spec: &ConnSpec) -> Connection {
    match Connection::connect(spec).await {
        Ok(c) => c,
        Err(e) => panic!("connect failed: {e}"),
    }
}

async fn run(c: &Connection, cmd: &str) -> (i32, String, String) {
    let o = c.exec(&ExecRequest::new(cmd)).await.unwrap();
    (
        o.rc,
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn err_text(r: Result<Connection, ConnError>) -> (ConnError, String) {
    match r {
        Ok(_) => panic!("connect unexpectedly succeeded"),
        Err(e) => {
            let s = e.to_string();
            (e, s)
        }
    }
}

#[tokio::test]
async fn every_key_type_authenticates() {
    let sshd = Sshd::start();
    for key in [
        ClientKey::RsaPem,
        ClientKey::RsaPkcs8,
        ClientKey::Ed25519,
        ClientKey::Ecdsa,
    ] {
        let t = Instant::now();
        let c = connect(&sshd.spec(key)).await;
        let connected = t.elapsed();
        let t = Instant::now();
        let (rc, out, _) = run(&c, "echo hi").await;
        let exec = t.elapsed();
        assert_eq!((rc, out.as_str()), (0, "hi\n"), "{key:?}");
        eprintln!("{key:?}: connect+auth {connected:?}, exec {exec:?}");
        c.close().await;
    }
    // RSA must have used a SHA-2 signature (OpenSSH 9 refuses ssh-rsa).
    let log = sshd.log();
    assert!(
        log.contains("Accepted publickey") && log.contains("RSA SHA256"),
        "{log}"
    );
}

/// RSA-3072 PKCS#1 (the Terraform key) signs with ring, and the key file is
/// parsed once for all connections; a 1024-bit key, which ring refuses,
/// still logs in through russh's own signer.
#[tokio::test]
async fn rsa_pem_auth_signs_with_ring_and_small_keys_fall_back() {
    use ferry::connection::ssh::ring_signatures;
    let sshd = Sshd::start();
    // A path of this test's own: the signature count is per key file.
    let pem = sshd.write_file(
        "id_rsa_pem",
        &std::fs::read_to_string(ClientKey::RsaPem.path()).unwrap(),
    );
    let mut spec = sshd.spec(ClientKey::RsaPem);
    spec.identity_files = vec![pem.clone()];
    for n in 1..=3 {
        let c = connect(&spec).await;
        assert_eq!(run(&c, "echo ring").await.1, "ring\n");
        c.close().await;
        assert_eq!(ring_signatures(&pem), Some(n));
    }
    let log = sshd.log();
    assert!(
        log.contains("Accepted publickey") && log.contains("RSA SHA256"),
        "{log}"
    );

    let small = sshd.dir.path().join("id_rsa_1024");
    let st = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "rsa", "-b", "1024", "-m", "PEM", "-N", "", "-f"])
        .arg(&small)
        .stdin(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let ak = sshd.dir.path().join("authorized_keys");
    let mut keys = std::fs::read_to_string(&ak).unwrap();
    keys.push_str(&std::fs::read_to_string(small.with_extension("pub")).unwrap());
    std::fs::write(&ak, keys).unwrap();
    spec.identity_files = vec![small.clone()];
    let c = connect(&spec).await;
    assert_eq!(run(&c, "echo small").await.1, "small\n");
    c.close().await;
    assert_eq!(ring_signatures(&small), None);
}

#[tokio::test]
async fn encrypted_key_without_tty_fails_clearly() {
    let sshd = Sshd::start();
    let (e, msg) = err_text(Connection::connect(&sshd.spec(ClientKey::Ed25519Encrypted)).await);
    assert!(matches!(e, ConnError::Unreachable(_)), "{e:?}");
    assert!(
        msg.contains("is encrypted and no passphrase is available (no TTY)")
            && msg.contains("id_ed25519_enc"),
        "{msg}"
    );
    assert!(msg.contains("Permission denied (publickey)"), "{msg}");
}

#[tokio::test]
async fn wrong_key_is_permission_denied_like_ansible() {
    let sshd = Sshd::start_with(SshdOptions::default());
    // Authorize nothing: empty authorized_keys.
    sshd.write_file("authorized_keys", "");
    let mut spec = sshd.spec(ClientKey::Ed25519);
    spec.retries = 3; // auth failures are not retried
    let t = Instant::now();
    let (e, msg) = err_text(Connection::connect(&spec).await);
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );
    assert!(matches!(e, ConnError::Unreachable(_)));
    assert!(
        msg.starts_with(&format!(
            "Failed to connect to the host via ssh: {}@127.0.0.1: Permission denied (publickey",
            sshd.user
        )),
        "{msg}"
    );
}

#[tokio::test]
async fn exec_returns_output_rc_and_binary_stdin() {
    let sshd = Sshd::start();
    let c = connect(&sshd.spec(ClientKey::Ed25519)).await;
    let (rc, out, err) = run(&c, "echo out; echo err >&2; exit 7").await;
    assert_eq!((rc, out.as_str(), err.as_str()), (7, "out\n", "err\n"));

    let data: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    let mut req = ExecRequest::new("cat");
    req.stdin = Some(data.clone());
    let o = c.exec(&req).await.unwrap();
    assert_eq!(o.rc, 0);
    assert_eq!(o.stdout.len(), data.len());
    assert!(o.stdout == data, "stdin did not round-trip");

    let mut req = ExecRequest::new("printf '%s' \"$A\"");
    req.env.push(("A".into(), "x 'y' z".into()));
    assert_eq!(c.exec(&req).await.unwrap().stdout, b"x 'y' z");

    // A command killed by a signal reports 128+n.
    let (rc, _, _) = run(&c, "sh -c 'kill -TERM $$'").await;
    assert_eq!(rc, 128 + 15);

    // A command that ignores its stdin still finishes.
    let mut req = ExecRequest::new("true");
    req.stdin = Some(vec![b'x'; 1_000_000]);
    assert_eq!(c.exec(&req).await.unwrap().rc, 0);
}

#[tokio::test]
async fn fifty_sequential_commands_with_max_sessions_10() {
    let sshd = Sshd::start();
    let c = connect(&sshd.spec(ClientKey::Ed25519)).await;
    let t = Instant::now();
    for i in 0..50 {
        let (rc, out, _) = run(&c, &format!("echo {i}")).await;
        assert_eq!((rc, out), (0, format!("{i}\n")));
    }
    eprintln!("50 sequential execs: {:?}", t.elapsed());
}

#[tokio::test]
async fn commands_share_one_host_shell_without_leaking_into_each_other() {
    let sshd = Sshd::start();
    let c = connect(&sshd.spec(ClientKey::Ed25519)).await;
    // One long-lived shell runs them all: the same $$ each time.
    let (_, first, _) = run(&c, "echo $$").await;
    let (_, second, _) = run(&c, "echo $$").await;
    assert_eq!(first, second, "commands did not share the host shell");

    // State stays inside its command.
    run(
        &c,
        "cd /; export FERRY_LEAK=1; umask 0; trap 'echo trapped' EXIT",
    )
    .await;
    let (rc, out, _) = run(&c, "pwd; echo \"[$FERRY_LEAK]\"").await;
    assert_eq!(rc, 0);
    assert!(out.ends_with("\n[]\n") && !out.starts_with("/\n"), "{out}");
    assert!(!out.contains("trapped"), "{out}");

    // exit, exec, a syntax error and set -e end only their own command.
    assert_eq!(run(&c, "exit 3").await.0, 3);
    assert_eq!(run(&c, "exec sh -c 'exit 4'").await.0, 4);
    let (rc, _, err) = run(&c, "if then fi (").await;
    assert_eq!(rc, 2, "{err}");
    assert!(!err.is_empty());
    assert_eq!(
        run(&c, "set -e; false; echo no").await,
        (1, String::new(), String::new())
    );

    // A command that reads stdin and was given none sees EOF at once rather
    // than the frames that follow it.
    let (rc, out, _) = run(&c, "cat; echo after").await;
    assert_eq!((rc, out.as_str()), (0, "after\n"));

    // Output without a final newline, and text that looks like a marker.
    assert_eq!(run(&c, "printf abc").await.1, "abc");
    assert_eq!(run(&c, "printf '\\037x 0\\n'").await.1, "\u{1f}x 0\n");
    assert_eq!(run(&c, "printf 'e' >&2").await.2, "e");

    // Killing the host shell loses that command; the next one gets a new shell.
    let r = c.exec(&ExecRequest::new("kill -KILL $$")).await;
    assert!(matches!(r, Err(ConnError::Lost(_))), "{r:?}");
    let (rc, again, _) = run(&c, "echo $$").await;
    assert_eq!(rc, 0);
    assert_ne!(again, first);
}

/// A command's library (`ExecRequest::lib`) is defined once in the host
/// shell and found there by later frames; a replacement shell gets it again,
/// and a timed command on its own exec channel gets it inline.
#[tokio::test]
async fn a_library_is_defined_once_per_host_shell() {
    static LIB: &str =
        "ferry_t_lib() { echo \"lib:$1\"; }\nferry_t_loads=$((${ferry_t_loads:-0} + 1))";
    let sshd = Sshd::start();
    let c = connect(&sshd.spec(ClientKey::Ed25519)).await;
    let with_lib = |cmd: &str| ExecRequest {
        lib: Some(LIB),
        ..ExecRequest::new(cmd)
    };
    let out = |o: ferry::connection::ExecOutput| String::from_utf8_lossy(&o.stdout).into_owned();
    for i in 0..3 {
        let o = c
            .exec(&with_lib(&format!("ferry_t_lib {i}; echo $ferry_t_loads")))
            .await
            .unwrap();
        assert_eq!(out(o), format!("lib:{i}\n1\n"));
    }
    // Without asking for it, a command still sees what the shell defined.
    assert_eq!(run(&c, "echo $ferry_t_loads").await.1, "1\n");
    // A new shell after the old one died loads it afresh.
    let r = c.exec(&ExecRequest::new("kill -KILL $$")).await;
    assert!(matches!(r, Err(ConnError::Lost(_))), "{r:?}");
    let o = c
        .exec(&with_lib("ferry_t_lib x; echo $ferry_t_loads"))
        .await
        .unwrap();
    assert_eq!(out(o), "lib:x\n1\n");
    // An exec channel (a timeout) runs the library before the command.
    let mut r = with_lib("ferry_t_lib t; echo $ferry_t_loads");
    r.timeout = Some(Duration::from_secs(30));
    assert_eq!(out(c.exec(&r).await.unwrap()), "lib:t\n1\n");
}

#[tokio::test]
async fn twenty_concurrent_execs_on_one_connection() {
    let sshd = Sshd::start();
    let c = std::sync::Arc::new(connect(&sshd.spec(ClientKey::Ed25519)).await);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let o = c
                .exec(&ExecRequest::new(format!("sleep 0.3; echo {i}")))
                .await
                .unwrap();
            assert_eq!(o.stdout, format!("{i}\n").into_bytes());
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let took = t.elapsed();
    eprintln!("20 concurrent 0.3 s execs: {took:?}");
    // Ten at a time: about two rounds, far from twenty sequential ones.
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[tokio::test]
async fn timeout_kills_command_and_connection_survives() {
    let sshd = Sshd::start();
    let c = connect(&sshd.spec(ClientKey::Ed25519)).await;
    let marker = sshd.remote_dir().join("late");
    let mut req = ExecRequest::new(format!("sleep 2; touch {}", marker.display()));
    req.timeout = Some(Duration::from_millis(300));
    let t = Instant::now();
    assert!(matches!(c.exec(&req).await, Err(ConnError::Timeout(_))));
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "{:?} {}",
        t.elapsed(),
        sshd.log()
    );
    assert_eq!(run(&c, "echo still").await.1, "still\n");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(!marker.exists(), "the timed-out command kept running");
    // Many timeouts do not leak sessions.
    for _ in 0..12 {
        let mut req = ExecRequest::new("sleep 5");
        req.timeout = Some(Duration::from_millis(50));
        assert!(matches!(c.exec(&req).await, Err(ConnError::Timeout(_))));
    }
    assert_eq!(run(&c, "echo ok").await.1, "ok\n");
}

fn spec_with_known_hosts(
    sshd: &Sshd,
    kh_content: Option<&str>,
    extra: &str,
) -> (ConnSpec, std::path::PathBuf) {
    let kh = sshd.dir.path().join("kh").join("known_hosts");
    if let Some(content) = kh_content {
        std::fs::create_dir_all(kh.parent().unwrap()).unwrap();
        std::fs::write(&kh, content).unwrap();
    }
    let mut vars = sshd.vars(ClientKey::Ed25519);
    vars.insert(
        "ansible_ssh_common_args".into(),
        json!(format!("-o UserKnownHostsFile={} {extra}", kh.display())),
    );
    (
        ConnSpec::resolve("h", &vars, &ConnDefaults::default()).unwrap(),
        kh,
    )
}

#[tokio::test]
async fn known_hosts_known_key_and_port_form() {
    let sshd = Sshd::start();
    let (spec, _) =
        spec_with_known_hosts(&sshd, Some(&format!("{}\n", sshd.known_hosts_line())), "");
    assert_eq!(spec.host_key_policy, HostKeyPolicy::Strict);
    connect(&spec).await.close().await;
    // The bare host name does not match a non-22 port.
    let (spec, _) = spec_with_known_hosts(
        &sshd,
        Some(&format!("127.0.0.1 {}\n", sshd.host_key_line())),
        "",
    );
    let (e, _) = err_text(Connection::connect(&spec).await);
    assert!(matches!(e, ConnError::HostKey(_)));
}

#[tokio::test]
async fn known_hosts_hashed_entry_matches() {
    let sshd = Sshd::start();
    let (spec, kh) =
        spec_with_known_hosts(&sshd, Some(&format!("{}\n", sshd.known_hosts_line())), "");
    let st = std::process::Command::new("ssh-keygen")
        .args(["-q", "-H", "-f"])
        .arg(&kh)
        .status()
        .unwrap();
    assert!(st.success());
    let text = std::fs::read_to_string(&kh).unwrap();
    assert!(text.starts_with("|1|"), "{text}");
    connect(&spec).await.close().await;
}

#[tokio::test]
async fn unknown_key_strict_fails_with_hint() {
    let sshd = Sshd::start();
    let (mut spec, _) = spec_with_known_hosts(&sshd, Some("# empty\n"), "");
    spec.retries = 3; // host key failures are not retried
    let t = Instant::now();
    let (e, msg) = err_text(Connection::connect(&spec).await);
    assert!(matches!(e, ConnError::HostKey(_)), "{e:?}");
    assert!(
        msg.contains(&format!("ssh-keyscan -p {} 127.0.0.1", sshd.port))
            && msg.contains("accept-new"),
        "{msg}"
    );
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn accept_new_records_key_then_passes() {
    let sshd = Sshd::start();
    // The known_hosts file (and its directory) do not exist yet.
    let (spec, kh) = spec_with_known_hosts(&sshd, None, "-o StrictHostKeyChecking=accept-new");
    assert_eq!(spec.host_key_policy, HostKeyPolicy::AcceptNew);
    connect(&spec).await.close().await;
    let text = std::fs::read_to_string(&kh).unwrap();
    assert!(text.contains(&sshd.known_hosts_line()), "{text}");
    // Second time: known, nothing appended.
    connect(&spec).await.close().await;
    assert_eq!(std::fs::read_to_string(&kh).unwrap(), text);
    // And strict checking now passes too.
    let (strict, _) = spec_with_known_hosts(&sshd, Some(&text), "");
    connect(&strict).await.close().await;
}

#[tokio::test]
async fn changed_key_fails_naming_file_and_line_even_with_accept_new() {
    let sshd = Sshd::start();
    let other = Sshd::start();
    let content = format!(
        "# first line\nexample.com {}\n[127.0.0.1]:{} {}\n",
        sshd.host_key_line(),
        sshd.port,
        other.host_key_line()
    );
    for extra in ["", "-o StrictHostKeyChecking=accept-new"] {
        let (spec, kh) = spec_with_known_hosts(&sshd, Some(&content), extra);
        let (e, msg) = err_text(Connection::connect(&spec).await);
        assert!(matches!(e, ConnError::HostKey(_)), "{e:?}");
        assert!(msg.contains(&format!("{}:3", kh.display())), "{msg}");
        assert!(msg.contains("CHANGED"), "{msg}");
    }
    // Only Off ignores it.
    let (spec, _) = spec_with_known_hosts(&sshd, Some(&content), "-o StrictHostKeyChecking=no");
    connect(&spec).await.close().await;
}

#[tokio::test]
async fn terraform_inventory_vars_work() {
    let sshd = Sshd::start();
    let mut vars = indexmap::IndexMap::new();
    vars.insert("ansible_host".to_string(), json!("127.0.0.1"));
    vars.insert("ansible_ssh_user".to_string(), json!(sshd.user));
    vars.insert(
        "ansible_ssh_private_key_file".to_string(),
        json!(ClientKey::RsaPem.path().to_string_lossy()),
    );
    vars.insert(
        "ansible_ssh_common_args".to_string(),
        json!(format!(
            "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o PasswordAuthentication=no -p {}",
            sshd.port
        )),
    );
    let spec = ConnSpec::resolve("web1", &vars, &ConnDefaults::default()).unwrap();
    assert!(spec.known_hosts_files.is_empty());
    assert_eq!(spec.host_key_policy, HostKeyPolicy::Off);
    assert!(!spec.password_auth);
    assert!(spec.warnings.is_empty(), "{:?}", spec.warnings);
    let c = connect(&spec).await;
    assert_eq!(run(&c, "echo tf").await.1, "tf\n");
    c.close().await;
}

#[tokio::test]
async fn closed_port_is_unreachable_quickly() {
    common::sshd::init_env();
    let port = common::sshd::free_port();
    let mut vars = indexmap::IndexMap::new();
    vars.insert("ansible_host".to_string(), json!("127.0.0.1"));
    vars.insert("ansible_port".to_string(), json!(port.to_string()));
    vars.insert(
        "ansible_ssh_private_key_file".to_string(),
        json!(ClientKey::Ed25519.path().to_string_lossy()),
    );
    let spec = ConnSpec::resolve("down", &vars, &ConnDefaults::default()).unwrap();
    let t = Instant::now();
    let (e, msg) = err_text(Connection::connect(&spec).await);
    assert!(matches!(e, ConnError::Unreachable(_)));
    assert!(
        msg.contains(&format!("port {port}")) && msg.contains("refused"),
        "{msg}"
    );
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
}

#[tokio::test]
async fn retries_with_backoff_reach_a_late_server() {
    common::sshd::init_env();
    let port = common::sshd::free_port();
    let starter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1200));
        Sshd::start_with(SshdOptions {
            port: Some(port),
            ..Default::default()
        })
    });
    let mut vars = indexmap::IndexMap::new();
    vars.insert("ansible_host".to_string(), json!("127.0.0.1"));
    vars.insert("ansible_port".to_string(), json!(port));
    vars.insert("ansible_ssh_retries".to_string(), json!("5"));
    vars.insert(
        "ansible_ssh_private_key_file".to_string(),
        json!(ClientKey::Ed25519.path().to_string_lossy()),
    );
    vars.insert("ansible_host_key_checking".to_string(), json!(false));
    let spec = ConnSpec::resolve("late", &vars, &ConnDefaults::default()).unwrap();
    assert_eq!(spec.retries, 5);
    let t = Instant::now();
    let c = connect(&spec).await;
    eprintln!("connected after {:?}", t.elapsed());
    assert!(t.elapsed() >= Duration::from_millis(1000));
    assert_eq!(run(&c, "echo late").await.1, "late\n");
    c.close().await;
    drop(starter.join().unwrap());
}

#[tokio::test]
async fn proxy_jump_through_second_sshd() {
    let target = Sshd::start();
    let jump = Sshd::start();
    let mut spec = target.spec(ClientKey::Ed25519);
    // Both host keys are trusted by the known_hosts file of the spec.
    let kh = target.write_file(
        "kh_both",
        &format!(
            "{}\n{}\n",
            target.known_hosts_line(),
            jump.known_hosts_line()
        ),
    );
    spec.known_hosts_files = vec![kh];
    spec.proxy_jump = vec![JumpHost {
        user: Some(jump.user.clone()),
        host: "127.0.0.1".into(),
        port: jump.port,
    }];
    let c = connect(&spec).await;
    assert_eq!(run(&c, "echo via jump").await.1, "via jump\n");
    c.close().await;

    // Proof the route goes through the jump host: one that forbids
    // forwarding makes the same connection fail.
    let nofwd = Sshd::start_with(SshdOptions {
        extra_config: "AllowTcpForwarding no\n".into(),
        ..Default::default()
    });
    let kh = target.write_file(
        "kh_nofwd",
        &format!(
            "{}\n{}\n",
            target.known_hosts_line(),
            nofwd.known_hosts_line()
        ),
    );
    spec.known_hosts_files = vec![kh];
    spec.proxy_jump[0].port = nofwd.port;
    let (e, _) = err_text(Connection::connect(&spec).await);
    assert!(matches!(e, ConnError::Unreachable(_)), "{e:?}");
}

#[tokio::test]
async fn put_is_atomic_with_mode() {
    use std::os::unix::fs::PermissionsExt;
    let sshd = Sshd::start();
    let c = connect(&sshd.spec(ClientKey::Ed25519)).await;
    let path = sshd.remote_dir().join("out.bin");
    let data: Vec<u8> = (0..=255u8).collect();
    let o = c.put(&data, &path.to_string_lossy(), 0o640).await.unwrap();
    assert_eq!(o.rc, 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(&path).unwrap(), data);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o640);
    // Overwrite with another mode; no temp files left behind.
    let o = c.put(b"two", &path.to_string_lossy(), 0o600).await.unwrap();
    assert_eq!(o.rc, 0);
    assert_eq!(std::fs::read(&path).unwrap(), b"two");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(sshd.remote_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".ferry."))
        .collect();
    assert!(leftovers.is_empty());
    assert_eq!(c.get(&path.to_string_lossy()).await.unwrap().stdout, b"two");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_on_busy_connections_return_promptly() {
    let sshd = std::sync::Arc::new(Sshd::start());
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let sshd = sshd.clone();
        tasks.push(tokio::spawn(async move {
            let c = connect(&sshd.spec(ClientKey::Ed25519)).await;
            for _ in 0..5 {
                let mut req = ExecRequest::new("sleep 2; echo done");
                req.timeout = Some(Duration::from_millis(300));
                let t = Instant::now();
                assert!(matches!(c.exec(&req).await, Err(ConnError::Timeout(_))));
                assert!(
                    t.elapsed() < Duration::from_millis(1500),
                    "{:?}",
                    t.elapsed()
                );
            }
            assert_eq!(run(&c, "echo alive").await.1, "alive\n");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}
