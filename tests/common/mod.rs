//! Shared test helpers: a real OpenSSH server per test (see `sshd.rs`) and
//! running the ferry binary in a clean environment.
//!
//! Each integration test binary includes this with `mod common;` and uses
//! only part of it, hence the `dead_code` allowance.
#![allow(dead_code, unused_imports)]

pub mod sshd;

pub use sshd::{ClientKey, Sshd, SshdOptions};

use std::path::Path;
use std::process::Command;

/// What a ferry run printed and how it exited.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Run the ferry binary in `dir` with no ansible.cfg from the environment,
/// `HOME` set to `dir`, no ssh-agent and no passphrase prompts.
pub fn ferry(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(args)
        .current_dir(dir)
        .env_remove("ANSIBLE_CONFIG")
        .env("HOME", dir)
        .env_remove("SSH_AUTH_SOCK")
        .env("FERRY_NO_PROMPT", "1")
        .output()
        .expect("run ferry");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
