//! A minimal blocking HTTP/1.1 client (one request per connection) over a unix socket or
//! TCP. The lab only needs a handful of calls to dockerd and etcd before any async runtime
//! exists, so this keeps it synchronous and free of extra dependencies.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// One request: `content_type` and `body` are sent when a body is given.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub body: Option<(&'a str, &'a [u8])>,
    pub timeout: Duration,
}

impl<'a> Request<'a> {
    pub fn get(path: &'a str, timeout: Duration) -> Self {
        Request {
            method: "GET",
            path,
            body: None,
            timeout,
        }
    }

    pub fn post(path: &'a str, content_type: &'a str, body: &'a [u8], timeout: Duration) -> Self {
        Request {
            method: "POST",
            path,
            body: Some((content_type, body)),
            timeout,
        }
    }
}

/// Sends `req` to the unix socket at `socket`.
pub fn unix(socket: &Path, req: &Request) -> std::io::Result<Response> {
    let stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(req.timeout))?;
    stream.set_write_timeout(Some(req.timeout))?;
    exchange(stream, "docker", req)
}

/// Sends `req` to `addr` ("host:port") over TCP.
pub fn tcp(addr: &str, req: &Request) -> std::io::Result<Response> {
    let sock = addr.parse::<std::net::SocketAddr>().map_err(|e| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{addr}: {e}"))
    })?;
    let stream = TcpStream::connect_timeout(&sock, req.timeout)?;
    stream.set_read_timeout(Some(req.timeout))?;
    stream.set_write_timeout(Some(req.timeout))?;
    exchange(stream, addr, req)
}

fn exchange<S: Read + Write>(
    mut stream: S,
    host: &str,
    req: &Request,
) -> std::io::Result<Response> {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n",
        req.method, req.path
    );
    match req.body {
        Some((content_type, body)) => {
            head.push_str(&format!(
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            ));
            stream.write_all(head.as_bytes())?;
            stream.write_all(body)?;
        }
        None => {
            head.push_str("Content-Length: 0\r\n\r\n");
            stream.write_all(head.as_bytes())?;
        }
    }
    stream.flush()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse(&raw).map_err(|m| std::io::Error::new(std::io::ErrorKind::InvalidData, m))
}

/// Parses a whole response read until the server closed the connection.
fn parse(raw: &[u8]) -> Result<Response, String> {
    let split = find(raw, b"\r\n\r\n").ok_or("response has no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Ok(Response { status, body })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = find(data, b"\r\n").ok_or("truncated chunk size")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size_hex = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| format!("bad chunk size {size_hex:?}"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = data.get(..size).ok_or("truncated chunk")?;
        out.extend_from_slice(chunk);
        data = data.get(size + 2..).unwrap_or_default();
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Percent-encodes a query parameter value.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_bodies() {
        let plain = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK";
        assert_eq!(
            parse(plain),
            Ok(Response {
                status: 200,
                body: b"OK".to_vec()
            })
        );
        let chunked =
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        let r = parse(chunked).map_err(|e| e.to_string());
        assert_eq!(r.as_ref().map(|r| r.status), Ok(404));
        assert_eq!(r.map(|r| r.body), Ok(b"abcde".to_vec()));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse(b"nonsense").is_err());
        assert!(parse(b"HTTP/1.1 abc\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err());
    }

    #[test]
    fn encodes_query_values() {
        assert_eq!(encode("ENV A=1 \"x\""), "ENV%20A%3D1%20%22x%22");
        assert_eq!(encode("a-b_c.d~"), "a-b_c.d~");
    }
}
