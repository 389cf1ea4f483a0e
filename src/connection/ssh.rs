//! SSH transport over russh: one persistent connection per host, one exec
//! channel per command, host keys checked against known_hosts.

use super::{ConnError, ConnSpec, ExecOutput, ExecRequest};

pub struct SshConnection {}

impl SshConnection {
    pub async fn connect(spec: &ConnSpec) -> Result<SshConnection, ConnError> {
        Err(ConnError::Unreachable(format!(
            "{}: ssh not implemented yet",
            spec.name
        )))
    }

    pub async fn exec(&self, req: &ExecRequest) -> Result<ExecOutput, ConnError> {
        let _ = req;
        Err(ConnError::Lost("ssh not implemented yet".into()))
    }

    pub async fn close(self) {}
}
