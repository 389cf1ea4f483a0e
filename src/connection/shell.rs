//! A persistent `/bin/sh` per host: each command is a frame written to one
//! session channel, so a task costs one round trip and no sshd session fork.
//!
//! A frame stores the command text in a shell variable and runs it in a
//! subshell with `eval`, its stdin from `/dev/null` or from base64 decoded out
//! of a here-document (so the driver's own stdin, which carries the frames,
//! is never read by a command, and binary data survives). After it, the
//! driver prints a marker with a fresh random nonce on stdout (with `$?`) and
//! on stderr; the frame is over when both markers have arrived, since sshd
//! forwards the two pipes independently.
//!
//! The subshell keeps `exit`, `cd`, `exec`, traps and syntax errors inside the
//! frame. Commands with a timeout or large stdin use an exec channel instead
//! (see `ssh.rs`): killing a timed-out command needs its own process group.

use russh::client::Msg;
use russh::{ChannelMsg, ChannelReadHalf, ChannelWriteHalf};
use std::time::Duration;
use tokio::sync::OwnedSemaphorePermit;

use super::{ExecOutput, ExecRequest};

/// Above this much stdin a fresh exec channel streams it instead (base64 in a
/// here-document is parsed by the host's shell in memory).
pub const STDIN_MAX: usize = 256 * 1024;

/// Marks the start of an end-of-frame marker; a control character keeps it
/// apart from ordinary text.
const MARK: u8 = 0x1f;

pub struct Shell {
    rd: ChannelReadHalf,
    wr: ChannelWriteHalf<Msg>,
    /// The shell's session channel counts against sshd's MaxSessions.
    _permit: OwnedSemaphorePermit,
    /// A frame was sent and its end not read (its future was dropped): the
    /// stream is out of step and the shell must not be reused.
    dirty: bool,
    /// Libraries (`ExecRequest::lib`) this shell has evaluated.
    libs: Vec<&'static str>,
}

/// Why a frame did not complete: the shell (or the connection) went away.
#[derive(Debug)]
pub struct ShellGone(pub String);

impl Shell {
    /// Start the driver on a fresh session channel. No reply is awaited:
    /// the first frame follows at once, saving a round trip.
    pub async fn open(
        channel: russh::Channel<Msg>,
        permit: OwnedSemaphorePermit,
    ) -> Result<Shell, russh::Error> {
        channel.exec(false, "exec /bin/sh").await?;
        let (rd, wr) = channel.split();
        Ok(Shell {
            rd,
            wr,
            _permit: permit,
            dirty: false,
            libs: Vec::new(),
        })
    }

    /// Whether the shell can take another frame.
    pub fn usable(&mut self) -> bool {
        if self.dirty {
            return false;
        }
        // Drop whatever arrived between frames (output of a command's
        // background children); a closed channel means the shell is gone.
        loop {
            match self.rd.wait().now() {
                Poll::Pending => return true,
                Poll::Ready(None) => return false,
                Poll::Ready(Some(
                    ChannelMsg::Close
                    | ChannelMsg::Eof
                    | ChannelMsg::ExitStatus { .. }
                    | ChannelMsg::ExitSignal { .. },
                )) => return false,
                Poll::Ready(Some(_)) => {}
            }
        }
    }

    /// Run one command as a frame.
    pub async fn run(&mut self, req: &ExecRequest) -> Result<ExecOutput, ShellGone> {
        let nonce = nonce();
        // A library is defined by the shell itself (not the frame's
        // subshell), once; later frames find it there.
        let lib = req
            .lib
            .filter(|l| !self.libs.iter().any(|k| std::ptr::eq(*k, *l)));
        let frame = frame(req, lib, &nonce);
        self.dirty = true;
        if let Some(l) = lib {
            self.libs.push(l);
        }
        let out_mark = format!("{}{nonce} ", MARK as char).into_bytes();
        let err_mark = format!("{}{nonce}\n", MARK as char).into_bytes();

        let wr = &self.wr;
        let rd = &mut self.rd;
        let writer = async { wr.data_bytes(frame).await.map_err(|e| e.to_string()) };
        let reader = async {
            let mut stdout = Vec::new();
            let mut stderr = Vec::new();
            let mut rc: Option<i32> = None;
            let mut err_done = false;
            while rc.is_none() || !err_done {
                match rd.wait().await {
                    Some(ChannelMsg::Data { data }) => {
                        stdout.extend_from_slice(&data);
                        if rc.is_none() {
                            rc = take_out_mark(&mut stdout, &out_mark);
                        }
                    }
                    Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                        stderr.extend_from_slice(&data);
                        if !err_done && stderr.ends_with(&err_mark) {
                            stderr.truncate(stderr.len() - err_mark.len());
                            err_done = true;
                        }
                    }
                    Some(
                        ChannelMsg::Close
                        | ChannelMsg::Eof
                        | ChannelMsg::ExitStatus { .. }
                        | ChannelMsg::ExitSignal { .. },
                    )
                    | None => {
                        return Err("the host's shell ended while a command was running".into());
                    }
                    Some(_) => {}
                }
            }
            Ok(ExecOutput {
                rc: rc.unwrap_or(255),
                stdout,
                stderr,
            })
        };
        tokio::pin!(writer, reader);
        let mut written = false;
        let result: Result<ExecOutput, String> = loop {
            tokio::select! {
                w = &mut writer, if !written => {
                    written = true;
                    if let Err(e) = w {
                        break Err(e);
                    }
                }
                r = &mut reader => break r,
            }
        };
        let out = result.map_err(ShellGone)?;
        self.dirty = false;
        Ok(out)
    }

    /// End the driver (EOF on its stdin) and close the channel.
    pub async fn close(self) {
        let _ = self.wr.eof().await;
        let _ = tokio::time::timeout(Duration::from_millis(200), self.wr.close()).await;
    }
}

use std::task::Poll;

/// Poll a future once without waiting.
trait Now: std::future::Future + Sized {
    fn now(self) -> Poll<Self::Output> {
        let mut f = std::pin::pin!(self);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        f.as_mut().poll(&mut cx)
    }
}
impl<F: std::future::Future> Now for F {}

/// If stdout ends with `MARK nonce rc\n`, cut it off and return rc.
fn take_out_mark(stdout: &mut Vec<u8>, mark: &[u8]) -> Option<i32> {
    if stdout.last() != Some(&b'\n') {
        return None;
    }
    // The marker is short: look only at the tail.
    let tail_start = stdout.len().saturating_sub(mark.len() + 8);
    let tail = &stdout[tail_start..];
    let at = tail.windows(mark.len()).rposition(|w| w == mark)?;
    let digits = &tail[at + mark.len()..tail.len() - 1];
    let rc: i32 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    stdout.truncate(tail_start + at);
    Some(rc)
}

/// 128 random bits in hex: no command can print the marker by chance or
/// guess it.
fn nonce() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // Never seen on Linux; the time still makes a collision implausible.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b = t.to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The text of one frame.
fn frame(req: &ExecRequest, lib: Option<&str>, nonce: &str) -> Vec<u8> {
    let script = super::shell_quote(&req.command_without_lib());
    let mut f: Vec<u8> = Vec::with_capacity(script.len() + lib.map_or(0, str::len) + 200);
    if let Some(l) = lib {
        f.extend_from_slice(l.as_bytes());
        f.push(b'\n');
    }
    f.extend_from_slice(b"__ferry_s=");
    f.extend_from_slice(script.as_bytes());
    f.push(b'\n');
    match req.stdin.as_deref().filter(|d| !d.is_empty()) {
        None => f.extend_from_slice(b"( eval \"$__ferry_s\" ) </dev/null\n"),
        // Bytes without NUL fit in a shell variable: printf is a builtin, so
        // feeding them costs a fork, no exec; file scripts may also read
        // `__ferry_in` directly instead of starting `cat`.
        Some(data) if !data.contains(&0) => {
            f.extend_from_slice(b"__ferry_in='");
            for &b in data {
                if b == b'\'' {
                    f.extend_from_slice(b"'\\''");
                } else {
                    f.push(b);
                }
            }
            if req.stdin_from_var {
                f.extend_from_slice(b"'\n( eval \"$__ferry_s\" ) </dev/null\n");
            } else {
                f.extend_from_slice(b"'\nprintf '%s' \"$__ferry_in\" | ( eval \"$__ferry_s\" )\n");
            }
        }
        Some(data) => {
            f.extend_from_slice(
                format!("base64 -d <<'E{nonce}' | ( eval \"$__ferry_s\" )\n").as_bytes(),
            );
            let b64 = base64ct::Base64::encode_string(data);
            for line in b64.as_bytes().chunks(76) {
                f.extend_from_slice(line);
                f.push(b'\n');
            }
            f.extend_from_slice(format!("E{nonce}\n").as_bytes());
        }
    }
    f.extend_from_slice(
        format!(
            "__ferry_r=$?; unset __ferry_in; printf '\\037%s %d\\n' {nonce} \"$__ferry_r\"; \
             printf '\\037%s\\n' {nonce} >&2\n"
        )
        .as_bytes(),
    );
    f
}

use base64ct::Encoding as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_mark_is_cut_from_the_tail() {
        let mark = b"\x1fabc ".to_vec();
        let mut out = b"hello\x1fabc 3\n".to_vec();
        assert_eq!(take_out_mark(&mut out, &mark), Some(3));
        assert_eq!(out, b"hello");
        // Output that merely mentions the marker without the status is not the end.
        let mut out = b"\x1fabc x\n".to_vec();
        assert_eq!(take_out_mark(&mut out, &mark), None);
        let mut out = b"partial \x1fabc 12".to_vec();
        assert_eq!(take_out_mark(&mut out, &mark), None);
    }

    #[test]
    fn frame_keeps_stdin_off_the_driver() {
        let f = String::from_utf8(frame(&ExecRequest::new("cat"), None, "n1")).unwrap_or_default();
        assert!(f.contains("( eval \"$__ferry_s\" ) </dev/null"), "{f}");
        let mut r = ExecRequest::new("cat");
        r.stdin = Some(vec![0, 1, 2, b'\n']);
        let f = String::from_utf8(frame(&r, None, "n2")).unwrap_or_default();
        assert!(f.contains("base64 -d <<'En2' | ( eval"), "{f}");
        assert!(f.contains("\nAAECCg==\nEn2\n"), "{f}");
        r.stdin = Some(b"it's\n".to_vec());
        let f = String::from_utf8(frame(&r, None, "n3")).unwrap_or_default();
        assert!(
            f.contains("__ferry_in='it'\\''s\n'\nprintf '%s' \"$__ferry_in\" | ( eval"),
            "{f}"
        );
        // A script that reads the variable itself needs no pipe (no fork).
        r.stdin_from_var = true;
        let f = String::from_utf8(frame(&r, None, "n4")).unwrap_or_default();
        assert!(
            f.contains("__ferry_in='it'\\''s\n'\n( eval \"$__ferry_s\" ) </dev/null"),
            "{f}"
        );
        // A library goes first, outside the subshell, so the shell keeps it.
        let f = String::from_utf8(frame(&r, Some("lib_fn() { :; }"), "n5")).unwrap_or_default();
        assert!(f.starts_with("lib_fn() { :; }\n__ferry_s="), "{f}");
    }

    #[test]
    fn nonces_differ() {
        assert_ne!(nonce(), nonce());
        assert_eq!(nonce().len(), 32);
    }
}
