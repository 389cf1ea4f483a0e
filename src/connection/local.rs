//! `ansible_connection: local`: run commands on the control machine through
//! `/bin/sh -c`, with the same interface as SSH.

use std::process::Stdio;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use super::{ConnError, ExecOutput, ExecRequest};

#[derive(Debug, Default)]
pub struct LocalConnection {
    pub(crate) ident: std::sync::Mutex<Option<super::HostIdent>>,
}

impl LocalConnection {
    pub fn new() -> Self {
        LocalConnection {
            ident: std::sync::Mutex::new(None),
        }
    }

    pub async fn exec(&self, req: &ExecRequest) -> Result<ExecOutput, ConnError> {
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(req.command_with_lib())
            .envs(req.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(if req.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .map_err(|e| ConnError::Unreachable(format!("cannot start /bin/sh: {e}")))?;
        if let (Some(data), Some(mut stdin)) = (req.stdin.clone(), child.stdin.take()) {
            // Feed stdin concurrently so a command that writes a lot before
            // reading cannot deadlock against us.
            tokio::spawn(async move {
                let _ = stdin.write_all(&data).await;
                let _ = stdin.shutdown().await;
            });
        }
        let wait = child.wait_with_output();
        let out = match req.timeout {
            Some(t) => match tokio::time::timeout(t, wait).await {
                Ok(r) => r,
                Err(_) => return Err(ConnError::Timeout(t)),
            },
            None => wait.await,
        }
        .map_err(|e| ConnError::Lost(format!("local command failed: {e}")))?;
        Ok(ExecOutput {
            rc: exit_code(&out.status),
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }
}

fn exit_code(status: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(sig)) => 128 + sig,
        (None, None) => -1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn runs_with_stdin_env_and_rc() {
        let c = LocalConnection::new();
        let mut req = ExecRequest::new("cat; echo \"$FOO\" >&2; exit 3");
        req.stdin = Some(b"hello".to_vec());
        req.env.push(("FOO".into(), "bar".into()));
        let out = c.exec(&req).await.unwrap();
        assert_eq!(out.rc, 3);
        assert_eq!(out.stdout, b"hello");
        assert_eq!(out.stderr, b"bar\n");
    }

    #[tokio::test]
    async fn timeout_kills_the_command() {
        let c = LocalConnection::new();
        let mut req = ExecRequest::new("sleep 5");
        req.timeout = Some(Duration::from_millis(100));
        assert!(matches!(c.exec(&req).await, Err(ConnError::Timeout(_))));
    }
}
