//! Engines over ssh, the docker CLI's way: `ssh [-p PORT] [-l USER] -- HOST docker system
//! dial-stdio`, one ssh process per pooled connection. (bollard's own ssh connector hands
//! `user@host:port` to ssh as the host name, so an engine on another port never answered.)

use super::connect::DockerError;
use bollard::Docker;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout};

/// Where an `ssh://[USER@]HOST[:PORT]` engine is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl SshTarget {
    /// Parses `ssh://[USER@]HOST[:PORT][/]`; an IPv6 HOST is written `[ADDRESS]`.
    pub fn parse(url: &str) -> Result<SshTarget, DockerError> {
        let bad = |reason: String| DockerError::BadSsh {
            url: url.to_owned(),
            reason,
        };
        let incomplete = |what| DockerError::Incomplete {
            url: url.to_owned(),
            what,
        };
        let rest = url
            .strip_prefix("ssh://")
            .ok_or_else(|| DockerError::UnknownScheme {
                url: url.to_owned(),
            })?;
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains('/') {
            return Err(bad("a path after the host is not supported".to_owned()));
        }
        let (user, host_port) = match authority.rsplit_once('@') {
            Some((user, rest)) => (Some(user), rest),
            None => (None, authority),
        };
        if user == Some("") {
            return Err(incomplete("user before '@'"));
        }
        let (host, port) =
            match host_port.strip_prefix('[') {
                Some(v6) => {
                    let (host, after) = v6
                        .split_once(']')
                        .ok_or_else(|| bad("'[' without ']'".to_owned()))?;
                    match after {
                        "" => (host, None),
                        _ => (
                            host,
                            Some(after.strip_prefix(':').ok_or_else(|| {
                                bad(format!("{after:?} after ']' is not ':PORT'"))
                            })?),
                        ),
                    }
                }
                None => match host_port.rsplit_once(':') {
                    Some((host, port)) => (host, Some(port)),
                    None => (host_port, None),
                },
            };
        if host.is_empty() {
            return Err(incomplete("host"));
        }
        // ssh would take a leading '-' as an option.
        if host.starts_with('-') || user.is_some_and(|u| u.starts_with('-')) {
            return Err(bad("user and host may not start with '-'".to_owned()));
        }
        let port = port
            .map(|p| {
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| bad(format!("port {p:?} is not a number from 1 to 65535")))
            })
            .transpose()?;
        Ok(SshTarget {
            user: user.map(str::to_owned),
            host: host.to_owned(),
            port,
        })
    }

    /// ssh's arguments: never prompt (there is no terminal for it), the port and user as
    /// options, the host, and the command that bridges to the remote engine's socket.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec!["-o".to_owned(), "BatchMode=yes".to_owned()];
        if let Some(port) = self.port {
            args.extend(["-p".to_owned(), port.to_string()]);
        }
        if let Some(user) = &self.user {
            args.extend(["-l".to_owned(), user.clone()]);
        }
        args.extend(["--", &self.host, "docker", "system", "dial-stdio"].map(str::to_owned));
        args
    }
}

/// A client for the engine at `url` (`ssh://...`); ssh runs when a request needs a
/// connection.
pub fn client(url: &str, timeout_secs: u64) -> Result<Docker, DockerError> {
    let target = Arc::new(SshTarget::parse(url)?);
    // The host part only fills the Host header; dial-stdio ignores it.
    super::pooled::over(Connector(target), "http://docker", timeout_secs)
}

#[derive(Clone)]
struct Connector(Arc<SshTarget>);

impl tower_service::Service<hyper::Uri> for Connector {
    type Response = TokioIo<SshStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper::Uri) -> Self::Future {
        let target = Arc::clone(&self.0);
        Box::pin(async move {
            let mut child = tokio::process::Command::new("ssh")
                .args(target.args())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| io::Error::other(format!("cannot run ssh: {e}")))?;
            let missing = || io::Error::other("ssh started without its pipes");
            let stdin = child.stdin.take().ok_or_else(missing)?;
            let stdout = child.stdout.take().ok_or_else(missing)?;
            let stderr = child.stderr.take();
            Ok(TokioIo::new(SshStream {
                _child: child,
                stdin,
                stdout,
                stderr,
                said: Vec::new(),
                answered: false,
            }))
        })
    }
}

/// One ssh process: the engine's bytes on its stdin and stdout.
struct SshStream {
    /// Killed when the connection is dropped.
    _child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    stderr: Option<ChildStderr>,
    /// What ssh wrote to stderr (bounded), read once it ended without answering.
    said: Vec<u8>,
    answered: bool,
}

/// How much of ssh's stderr is kept for the message.
const STDERR_LIMIT: usize = 4096;

impl SshStream {
    /// ssh's last line on stderr, once it has closed it: why it gave up.
    fn poll_reason(&mut self, cx: &mut Context<'_>) -> Poll<String> {
        if let Some(stderr) = self.stderr.as_mut() {
            loop {
                let mut chunk = [0u8; 1024];
                let mut buf = ReadBuf::new(&mut chunk);
                match ready!(Pin::new(&mut *stderr).poll_read(cx, &mut buf)) {
                    Ok(()) if !buf.filled().is_empty() => {
                        let room = STDERR_LIMIT.saturating_sub(self.said.len());
                        let take = buf.filled().len().min(room);
                        self.said.extend_from_slice(&buf.filled()[..take]);
                    }
                    _ => break,
                }
            }
            self.stderr = None;
        }
        Poll::Ready(last_line(&self.said))
    }
}

/// The last line ssh wrote on stderr that says something, cleaned (it may be any bytes).
fn last_line(said: &[u8]) -> String {
    (said.split(|&b| b == b'\n'))
        .map(<[u8]>::trim_ascii)
        .rfind(|line| !line.is_empty())
        .map_or_else(
            || "it exited without answering".to_owned(),
            |line| crate::domain::sanitize::clean_bytes(line).into_owned(),
        )
}

impl AsyncRead for SshStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.stdout).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            this.answered = true;
        }
        if this.answered || buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        // The end before a single byte: ssh could not reach the engine. Say why.
        let reason = ready!(this.poll_reason(cx));
        let message = if reason.starts_with("ssh:") {
            reason
        } else {
            format!("ssh: {reason}")
        };
        Poll::Ready(Err(io::Error::other(message)))
    }
}

impl AsyncWrite for SshStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stdin).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stdin).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stdin).poll_shutdown(cx)
    }
}

impl Connection for SshStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(user: Option<&str>, host: &str, port: Option<u16>) -> SshTarget {
        SshTarget {
            user: user.map(str::to_owned),
            host: host.to_owned(),
            port,
        }
    }

    #[test]
    fn the_port_goes_to_ssh_as_an_option_not_into_the_host_name() {
        let t = SshTarget::parse("ssh://ops@127.0.0.1:2222").unwrap();
        assert_eq!(t, target(Some("ops"), "127.0.0.1", Some(2222)));
        assert_eq!(
            t.args(),
            [
                "-o",
                "BatchMode=yes",
                "-p",
                "2222",
                "-l",
                "ops",
                "--",
                "127.0.0.1",
                "docker",
                "system",
                "dial-stdio"
            ]
        );
    }

    #[test]
    fn user_port_and_ipv6_are_optional() {
        let cases = [
            ("ssh://build-4", target(None, "build-4", None)),
            ("ssh://build-4/", target(None, "build-4", None)),
            ("ssh://me@build-4", target(Some("me"), "build-4", None)),
            ("ssh://[::1]:22", target(None, "::1", Some(22))),
            ("ssh://a@b@[fe80::1]", target(Some("a@b"), "fe80::1", None)),
        ];
        for (url, want) in cases {
            assert_eq!(SshTarget::parse(url).unwrap(), want, "{url}");
        }
        assert_eq!(
            SshTarget::parse("ssh://h")
                .unwrap()
                .args()
                .iter()
                .filter(|a| *a == "-p" || *a == "-l")
                .count(),
            0
        );
    }

    #[test]
    fn bad_ssh_urls_say_what_is_wrong() {
        let cases = [
            ("ssh://h:0", "port \"0\" is not a number from 1 to 65535"),
            ("ssh://h:x", "port \"x\" is not a number from 1 to 65535"),
            (
                "ssh://h:70000",
                "port \"70000\" is not a number from 1 to 65535",
            ),
            ("ssh://h/var/run", "a path after the host is not supported"),
            (
                "ssh://-oProxyCommand=x",
                "user and host may not start with '-'",
            ),
            ("ssh://[::1", "'[' without ']'"),
            ("ssh://[::1]x", "\"x\" after ']' is not ':PORT'"),
        ];
        for (url, reason) in cases {
            let err = SshTarget::parse(url).unwrap_err().to_string();
            assert_eq!(err, format!("engine URL {url:?}: {reason}"), "{url}");
        }
        for (url, what) in [("ssh://@h", "user before '@'"), ("ssh://u@:22", "host")] {
            assert!(
                matches!(SshTarget::parse(url), Err(DockerError::Incomplete { what: w, .. }) if w == what),
                "{url}"
            );
        }
    }

    #[test]
    fn ssh_says_why_in_its_last_line_cleaned_whatever_its_bytes() {
        let said =
            b"Warning: added host\r\nssh: connect: \xff\x1b]0;owned\x07refused\xe2\x80\xae\n\n";
        assert_eq!(last_line(said), "ssh: connect: \u{fffd}refused\u{fffd}");
        assert_eq!(last_line(b" \n"), "it exited without answering");
    }
}
