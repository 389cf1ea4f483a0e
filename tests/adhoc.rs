//! `ferry adhoc` end to end: the real binary, a real sshd on loopback, the
//! inventory shapes users write, Ansible's output format and exit codes.

mod common;

use std::path::Path;
use std::process::Command;

use common::{ferry, ClientKey, Sshd};

/// The inventory exactly as `tofu output -raw ansible_inventory_yml` writes it,
/// pointed at the test server.
fn terraform_inventory(sshd: &Sshd, dir: &Path, extra_hosts: &str) -> String {
    let inv = format!(
        "oidc:\n  hosts:\n    127.0.0.1:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n      \
         ansible_ssh_user: {user}\n      ansible_ssh_private_key_file: {key}\n      \
         ansible_ssh_common_args: \"-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o PasswordAuthentication=no\"\n{extra_hosts}",
        port = sshd.port,
        user = sshd.user,
        key = ClientKey::RsaPem.path().display(),
    );
    let p = dir.join("inventory.yml");
    std::fs::write(&p, inv).unwrap();
    p.display().to_string()
}

#[test]
fn terraform_inventory_runs_a_command() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let inv = terraform_inventory(&sshd, dir.path(), "");
    let r = ferry(dir.path(), &["adhoc", "oidc", "-i", &inv, "-a", "id -un"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout,
        format!("127.0.0.1 | CHANGED | rc=0 >>\n{}\n", sshd.user)
    );
}

#[test]
fn failed_command_exits_2_with_ansible_text_form() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let inv = terraform_inventory(&sshd, dir.path(), "");
    let r = ferry(
        dir.path(),
        &[
            "adhoc",
            "all",
            "-i",
            &inv,
            "-m",
            "shell",
            "-a",
            "echo out; echo err >&2; exit 3",
        ],
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout,
        "127.0.0.1 | FAILED | rc=3 >>\nouterrnon-zero return code\n"
    );
}

#[test]
fn unreachable_host_exits_4_and_others_still_run() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let closed = common::sshd::free_port();
    let extra = format!(
        "    dead:\n      ansible_host: 127.0.0.1\n      ansible_port: {closed}\n      ansible_ssh_user: nobody\n"
    );
    let inv = terraform_inventory(&sshd, dir.path(), &extra);
    let r = ferry(
        dir.path(),
        &["adhoc", "oidc", "-i", &inv, "-m", "ping", "-T", "5"],
    );
    assert_eq!(r.code, 4, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(
            "127.0.0.1 | SUCCESS => {\n    \"changed\": false,\n    \"ping\": \"pong\"\n}\n"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("dead | UNREACHABLE! => {"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("\"unreachable\": true"), "{}", r.stdout);
    assert!(r.stdout.contains("Connection refused"), "{}", r.stdout);
}

#[test]
fn creates_skips_in_the_same_round_trip() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let inv = terraform_inventory(&sshd, dir.path(), "");
    let marker = sshd.remote_dir().join("made");
    let args = format!("touch {m} creates={m}", m = marker.display());
    let first = ferry(dir.path(), &["adhoc", "all", "-i", &inv, "-a", &args]);
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    assert!(
        first.stdout.contains("| CHANGED | rc=0 >>"),
        "{}",
        first.stdout
    );
    assert!(marker.exists());
    let second = ferry(dir.path(), &["adhoc", "all", "-i", &inv, "-a", &args]);
    assert_eq!(second.code, 0);
    assert_eq!(
        second.stdout,
        format!(
            "127.0.0.1 | SUCCESS | rc=0 >>\nskipped, since {m} existsDid not run command since '{m}' exists\n",
            m = marker.display()
        )
    );
}

#[test]
fn limit_and_patterns_select_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("hosts.ini");
    std::fs::write(
        &inv,
        "[web]\nw1 ansible_connection=local\nw2 ansible_connection=local\n[db]\nd1 ansible_connection=local\n",
    )
    .unwrap();
    let inv = inv.display().to_string();
    let r = ferry(
        dir.path(),
        &["adhoc", "all:!db", "-i", &inv, "-l", "w2,d1", "-m", "ping"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("w2 | SUCCESS"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("w1") && !r.stdout.contains("d1"),
        "{}",
        r.stdout
    );
    let none = ferry(dir.path(), &["adhoc", "nomatch", "-i", &inv, "-m", "ping"]);
    assert_eq!(none.code, 0);
    assert!(none.stderr.contains("No hosts matched"), "{}", none.stderr);
}

#[test]
fn bad_input_gets_the_right_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    std::fs::write(&bad, "all:\n  hosts:\n    a: {\n").unwrap();
    let r = ferry(
        dir.path(),
        &["adhoc", "all", "-i", bad.to_str().unwrap(), "-m", "ping"],
    );
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("{}:", bad.display())),
        "{}",
        r.stderr
    );
    let r = ferry(dir.path(), &["adhoc", "localhost", "-m", "pingg"]);
    assert_eq!(r.code, 4);
    assert!(
        r.stderr
            .contains("couldn't resolve module/action 'pingg'. Did you mean 'ping'?"),
        "{}",
        r.stderr
    );
    let r = ferry(dir.path(), &["adhoc", "localhost", "--no-such-flag"]);
    assert_eq!(r.code, 5);
    let r = ferry(dir.path(), &["adhoc", "localhost", "-e", "not a mapping"]);
    assert_eq!(r.code, 5, "{}", r.stderr);
}

/// Ad hoc has no parse phase in Ansible: argument errors are each host's
/// failure (exit 2), in the module's words; only free-form text where the
/// module takes none is refused before connecting.
#[test]
fn argument_errors_fail_per_host_as_in_ansible() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let target = d.join("t").display().to_string();
    let cases = [
        (
            format!("pathh={target}"),
            "missing required arguments: path",
        ),
        (
            format!("path={target} state=presnt"),
            "value of state must be one of: absent, directory, file, hard, link, touch, got: presnt",
        ),
        (
            format!("path={target} state=touch bogus=1"),
            "Unsupported parameters for (file) module: bogus. Supported parameters include: ",
        ),
    ];
    for (args, msg) in &cases {
        let r = ferry(d, &["adhoc", "localhost", "-m", "file", "-a", args]);
        assert_eq!(r.code, 2, "{}", r.all());
        assert!(
            r.stdout.starts_with(&format!(
                "localhost | FAILED! => {{\n    \"changed\": false,\n    \"msg\": \"{msg}"
            )),
            "{}",
            r.all()
        );
    }
    assert!(!d.join("t").exists());
    // Refused on the controller: even a host that cannot be reached fails
    // (not UNREACHABLE), as with ansible 2.19.
    let r = ferry(
        d,
        &[
            "adhoc",
            "all",
            "-i",
            "nosuchhost.invalid,",
            "-m",
            "file",
            "-a",
            "/tmp/x",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stdout.contains(
            "nosuchhost.invalid | FAILED! => {\n    \"changed\": false,\n    \"msg\": \"Task \
             failed: Action 'ansible.builtin.file' does not support raw params.\"\n}\n"
        ),
        "{}",
        r.all()
    );
}

#[test]
fn ansible_cfg_in_the_working_directory_is_honoured() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("hosts");
    std::fs::write(
        &inv,
        format!(
            "[vm]\nbox ansible_host=127.0.0.1 ansible_port={} ansible_user={}\n",
            sshd.port, sshd.user
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("ansible.cfg"),
        format!(
            "[defaults]\ninventory = hosts\nprivate_key_file = {}\nhost_key_checking = False\n",
            ClientKey::Ed25519.path().display()
        ),
    )
    .unwrap();
    let r = ferry(dir.path(), &["adhoc", "vm", "-a", "echo via-cfg"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout, "box | CHANGED | rc=0 >>\nvia-cfg\n");
}

#[test]
fn connect_timeout_waits_for_a_host_that_is_still_booting() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::sshd::free_port();
    // The "VM" starts accepting SSH 1.5 s after ferry starts trying.
    let starter = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        Sshd::start_with(common::SshdOptions {
            port: Some(port),
            ..Default::default()
        })
    });
    let inv = dir.path().join("inv.yml");
    std::fs::write(
        &inv,
        format!(
            "oidc:\n  hosts:\n    vm:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n      \
             ansible_ssh_user: {}\n      ansible_ssh_private_key_file: {}\n      \
             ansible_ssh_common_args: \"-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no\"\n",
            common::sshd::login_user(),
            ClientKey::Ed25519.path().display()
        ),
    )
    .unwrap();
    let inv = inv.display().to_string();
    let r = ferry(
        dir.path(),
        &[
            "adhoc",
            "oidc",
            "-i",
            &inv,
            "-m",
            "ping",
            "--connect-timeout",
            "20",
        ],
    );
    let _sshd = starter.join().unwrap();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("vm | SUCCESS"), "{}", r.stdout);
}

/// Run as root (CI): the test user gets a password for this test.
fn set_password(user: &str, pw: &str) -> bool {
    let Ok(mut child) = Command::new("chpasswd")
        .stdin(std::process::Stdio::piped())
        .spawn()
    else {
        return false;
    };
    use std::io::Write;
    if let Some(stdin) = child.stdin.as_mut() {
        let _ = writeln!(stdin, "{user}:{pw}");
    }
    child.wait().map(|s| s.success()).unwrap_or(false)
}

#[test]
fn password_authentication_with_ansible_password() {
    if common::sshd::login_user() != "ferrytest" || !set_password("ferrytest", "Pw-for-tests-1") {
        eprintln!("skipped: needs root to give the test user a password");
        return;
    }
    let sshd = Sshd::start_with(common::SshdOptions {
        extra_config: "PasswordAuthentication yes\nPubkeyAuthentication no\n".into(),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.yml");
    std::fs::write(
        &inv,
        format!(
            "all:\n  hosts:\n    pw:\n      ansible_host: 127.0.0.1\n      ansible_port: {}\n      ansible_user: ferrytest\n      \
             ansible_password: Pw-for-tests-1\n      ansible_ssh_common_args: \"-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\"\n",
            sshd.port
        ),
    )
    .unwrap();
    let r = ferry(
        dir.path(),
        &["adhoc", "pw", "-i", inv.to_str().unwrap(), "-a", "id -un"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout, "pw | CHANGED | rc=0 >>\nferrytest\n");
    assert!(!r.stdout.contains("Pw-for-tests-1") && !r.stderr.contains("Pw-for-tests-1"));
}

#[test]
fn ssh_agent_supplies_the_key() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("agent.sock");
    let agent = Command::new("ssh-agent")
        .args(["-D", "-a"])
        .arg(&sock)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("ssh-agent");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _agent = Kill(agent);
    for _ in 0..100 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let added = Command::new("ssh-add")
        .arg(ClientKey::Ecdsa.path())
        .env("SSH_AUTH_SOCK", &sock)
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    // No key file in the inventory: only the agent can authenticate.
    let inv = dir.path().join("inv.yml");
    std::fs::write(
        &inv,
        format!(
            "all:\n  hosts:\n    ag:\n      ansible_host: 127.0.0.1\n      ansible_port: {}\n      ansible_user: {}\n      \
             ansible_ssh_common_args: \"-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\"\n",
            sshd.port, sshd.user
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["adhoc", "ag", "-i", inv.to_str().unwrap(), "-m", "ping"])
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .env("SSH_AUTH_SOCK", &sock)
        .env("FERRY_NO_PROMPT", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("ag | SUCCESS"), "{stdout}");
}

#[test]
fn encrypted_key_passphrase_is_asked_on_the_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: util-linux `script` is needed for a pseudo-terminal");
        return;
    }
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.yml");
    // Three hosts with the same key: one prompt for the run, not one per host.
    let mut hosts = String::new();
    for name in ["enc", "enc2", "enc3"] {
        hosts.push_str(&format!(
            "    {name}:\n      ansible_host: 127.0.0.1\n      ansible_port: {}\n      ansible_user: {}\n      \
             ansible_ssh_private_key_file: {}\n      \
             ansible_ssh_common_args: \"-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\"\n",
            sshd.port,
            sshd.user,
            ClientKey::Ed25519Encrypted.path().display()
        ));
    }
    std::fs::write(&inv, format!("all:\n  hosts:\n{hosts}")).unwrap();
    // A prompt left unanswered would wait forever: bound the run. `--foreground`
    // keeps ferry in the terminal's foreground group, where it may read it.
    let cmd = format!(
        "timeout --foreground 60 {} adhoc all -i {} -a 'echo unlocked'",
        env!("CARGO_BIN_EXE_ferry"),
        inv.display()
    );
    // `script` gives ferry a terminal; the passphrase is typed into it.
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("FERRY_NO_PROMPT")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1500));
        writeln!(stdin, "{}", common::sshd::PASSPHRASE).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1500));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("Enter passphrase").count(), 1, "{stdout}");
    for name in ["enc", "enc2", "enc3"] {
        assert!(
            stdout.contains(&format!("{name} | CHANGED | rc=0 >>")),
            "{stdout}"
        );
    }
    assert_eq!(stdout.matches("unlocked").count(), 3, "{stdout}");
    assert!(
        !stdout.contains(common::sshd::PASSPHRASE),
        "passphrase echoed: {stdout}"
    );
}
