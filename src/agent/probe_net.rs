//! One probe of one endpoint: a TCP connect (bounded), then for apps with an HTTP health
//! path a GET of that path on the same connection, timed to the status line. Plain
//! HTTP/1.0 with `Connection: close`: one request, nothing pooled between rounds.

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a connect may take before the endpoint counts as not answering.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long the status line may take after the request is sent.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// The most of a response read: the status line is all a probe needs.
const STATUS_LINE_MAX: usize = 256;

/// What one probe found; an error means the endpoint did not answer as it should.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub connect_ms: Option<f64>,
    pub http_status: Option<u16>,
    pub response_ms: Option<f64>,
    pub error: Option<String>,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Probes `address:port`, and GETs `http_path` when given.
pub async fn probe(address: &str, port: u16, http_path: Option<&str>) -> Outcome {
    let start = Instant::now();
    let mut stream =
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((address, port))).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                return Outcome {
                    error: Some(format!("connect: {e}")),
                    ..Outcome::default()
                };
            }
            Err(_) => {
                return Outcome {
                    error: Some(format!("connect: no answer in {CONNECT_TIMEOUT:?}")),
                    ..Outcome::default()
                };
            }
        };
    let mut outcome = Outcome {
        connect_ms: Some(ms(start)),
        ..Outcome::default()
    };
    let Some(path) = http_path else {
        return outcome;
    };
    let sent = Instant::now();
    let answer =
        tokio::time::timeout(RESPONSE_TIMEOUT, get(&mut stream, address, port, path)).await;
    match answer {
        Ok(Ok(status)) => {
            outcome.http_status = Some(status);
            outcome.response_ms = Some(ms(sent));
            if !(200..400).contains(&status) {
                outcome.error = Some(format!("GET {path}: status {status}"));
            }
        }
        Ok(Err(why)) => outcome.error = Some(format!("GET {path}: {why}")),
        Err(_) => {
            outcome.error = Some(format!("GET {path}: no status in {RESPONSE_TIMEOUT:?}"));
        }
    }
    outcome
}

/// Sends the request and reads the status code from the status line.
async fn get(stream: &mut TcpStream, address: &str, port: u16, path: &str) -> Result<u16, String> {
    if !path.starts_with('/') || path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("not a plain path".to_owned());
    }
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: {address}:{port}\r\nUser-Agent: wheelhouse-agent\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut head = Vec::with_capacity(STATUS_LINE_MAX);
    let mut buf = [0u8; STATUS_LINE_MAX];
    while !head.contains(&b'\n') && head.len() < STATUS_LINE_MAX {
        let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    status_code(&head).ok_or_else(|| "no HTTP status line in the answer".to_owned())
}

/// The code of an "HTTP/1.x NNN ..." status line.
fn status_code(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut words = line.split_whitespace();
    words.next().filter(|v| v.starts_with("HTTP/"))?;
    words
        .next()
        .filter(|c| c.len() == 3)?
        .parse()
        .ok()
        .filter(|c| (100..600).contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn status_lines_are_read_strictly() {
        assert_eq!(status_code(b"HTTP/1.1 200 OK\r\n"), Some(200));
        assert_eq!(
            status_code(b"HTTP/1.0 503 Service Unavailable\r\n"),
            Some(503)
        );
        assert_eq!(status_code(b"HTTP/1.1 200"), Some(200));
        for bad in [
            &b""[..],
            b"SSH-2.0\r\n",
            b"HTTP/1.1 2000 x",
            b"HTTP/1.1 abc",
            b"\xff\xfe",
        ] {
            assert_eq!(status_code(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn a_listener_answers_and_a_closed_port_does_not() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            for status in ["200 OK", "500 Oops"] {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 512];
                let n = s.read(&mut buf).await.unwrap();
                assert!(buf[..n].starts_with(b"GET /health HTTP/1.0\r\n"));
                s.write_all(format!("HTTP/1.1 {status}\r\n\r\n").as_bytes())
                    .await
                    .unwrap();
            }
        });
        let ok = probe("127.0.0.1", port, Some("/health")).await;
        assert_eq!((ok.http_status, &ok.error), (Some(200), &None), "{ok:?}");
        assert!(ok.connect_ms.is_some() && ok.response_ms.is_some());
        let failing = probe("127.0.0.1", port, Some("/health")).await;
        assert_eq!(failing.http_status, Some(500));
        assert!(failing.error.unwrap().contains("status 500"));
        server.await.unwrap();
        // The listener is gone: the port refuses.
        let refused = probe("127.0.0.1", port, None).await;
        assert!(refused.connect_ms.is_none());
        assert!(refused.error.unwrap().starts_with("connect:"));
        let bad_path = probe_path_refused().await;
        assert!(bad_path.contains("not a plain path"), "{bad_path}");
    }

    async fn probe_path_refused() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let out = probe("127.0.0.1", port, Some("/a b\r\nX: y")).await;
        out.error.unwrap_or_default()
    }
}
