//! The answers that stream: events, stats every second, and logs (followed or not).
//! A simulated container prints one line a second from its creation, every tenth on
//! stderr, so what a reader gets is known in advance.

use super::docker_api::{reading, refused, reply};
use super::fleet::{Engine, Refusal};
use super::query::Query;
use crate::agent::now_ms;
use crate::domain::logs::format_timestamp;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use http_body_util::{BodyExt, StreamBody, combinators::UnsyncBoxBody};
use hyper::Response;
use hyper::body::Frame;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

pub type Body = UnsyncBoxBody<Bytes, Infallible>;

fn streaming(
    content_type: &'static str,
    chunks: impl Stream<Item = Bytes> + Send + 'static,
) -> Response<Body> {
    let body = StreamBody::new(chunks.map(|b| Ok::<_, Infallible>(Frame::data(b))));
    let mut response = reply(200, content_type, Bytes::new());
    *response.body_mut() = body.boxed_unsync();
    response
}

/// Whole seconds since the fleet started (the stats' system clock).
pub fn elapsed_s(engine: &Engine) -> u64 {
    u64::try_from((now_ms() - engine.started_ms) / 1000).unwrap_or(0)
}

/// Container events as they happen, one JSON object a line, until the engine vanishes.
pub fn events(engine: &Arc<Engine>) -> Response<Body> {
    let rx = engine.events.subscribe();
    let lines = futures::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(line) => return Some((line, rx)),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    streaming("application/json", lines)
}

/// A reading a second while the container runs.
pub fn stats(engine: &Arc<Engine>, id: &str) -> Response<Body> {
    if let Err(e) = engine.with(id, |_| ()) {
        return refused(&e);
    }
    let state = (engine.clone(), id.to_owned(), true);
    let readings = futures::stream::unfold(state, |(engine, id, first)| async move {
        if !first {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let elapsed = elapsed_s(&engine);
        let r = engine
            .with(&id, |c| c.running().then(|| reading(c, elapsed)))
            .ok()??;
        let mut line = serde_json::to_vec(&r).ok()?;
        line.push(b'\n');
        Some((Bytes::from(line), (engine, id, false)))
    });
    streaming("application/json", readings)
}

/// Line `n` of a container created at `created_ms`: (1 stdout or 2 stderr, when, text).
fn line(name: &str, created_ms: i64, n: i64) -> (u8, i64, String) {
    let kind = if n % 10 == 9 { 2 } else { 1 };
    (
        kind,
        created_ms + n * 1000,
        format!("{name}: simulated line {n}"),
    )
}

/// Docker's multiplexed frame: stream byte, three zeros, the length, the payload.
fn frame(kind: u8, at_ms: i64, text: &str, timestamps: bool) -> Bytes {
    let stamp = if timestamps {
        format!("{} ", format_timestamp(at_ms.saturating_mul(1_000_000)))
    } else {
        String::new()
    };
    let payload = format!("{stamp}{text}\n");
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(&[kind, 0, 0, 0]);
    out.extend_from_slice(
        &u32::try_from(payload.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(payload.as_bytes());
    Bytes::from(out)
}

/// The options of one logs request.
#[derive(Clone, Copy)]
struct Wanted {
    stdout: bool,
    stderr: bool,
    timestamps: bool,
    follow: bool,
}

impl Wanted {
    fn takes(&self, kind: u8) -> bool {
        if kind == 1 { self.stdout } else { self.stderr }
    }
}

pub fn logs(engine: &Arc<Engine>, id: &str, query: &Query) -> Response<Body> {
    let wanted = Wanted {
        stdout: query.flag("stdout"),
        stderr: query.flag("stderr"),
        timestamps: query.flag("timestamps"),
        follow: query.flag("follow"),
    };
    if !wanted.stdout && !wanted.stderr {
        let message = "Bad parameters: you must choose at least one stream".into();
        return refused(&Refusal {
            status: 400,
            message,
        });
    }
    let (name, created_ms) = match engine.with(id, |c| (c.name.clone(), c.created_ms)) {
        Ok(found) => found,
        Err(e) => return refused(&e),
    };
    let now = now_ms();
    // since: unix seconds, maybe with a fraction; a line at exactly `since` is included.
    let since_ms = (query.get("since").and_then(|s| s.parse::<f64>().ok()))
        .map_or(created_ms, |s| (s * 1000.0) as i64)
        .max(created_ms);
    let first = (since_ms - created_ms + 999) / 1000;
    let last = (now - created_ms) / 1000;
    let mut past: Vec<Bytes> = (first..=last)
        .map(|n| line(&name, created_ms, n))
        .filter(|(kind, _, _)| wanted.takes(*kind))
        .map(|(kind, at, text)| frame(kind, at, &text, wanted.timestamps))
        .collect();
    if let Some(tail) = query.get("tail").and_then(|t| t.parse::<usize>().ok()) {
        past.drain(..past.len().saturating_sub(tail));
    }
    let head = futures::stream::iter(past);
    if !wanted.follow {
        return streaming("application/vnd.docker.multiplexed-stream", head);
    }
    let state = (engine.clone(), id.to_owned(), last + 1);
    let more = futures::stream::unfold(state, move |(engine, id, n)| async move {
        let (kind, at, text) = line(&name_of(&engine, &id)?, created_ms, n);
        let wait = u64::try_from(at - now_ms()).unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        engine.with(&id, |c| c.running()).ok().filter(|r| *r)?;
        let chunk = if wanted.takes(kind) {
            frame(kind, at, &text, wanted.timestamps)
        } else {
            Bytes::new()
        };
        Some((chunk, (engine, id, n + 1)))
    });
    streaming(
        "application/vnd.docker.multiplexed-stream",
        head.chain(more),
    )
}

fn name_of(engine: &Engine, id: &str) -> Option<String> {
    engine.with(id, |c| c.name.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_their_stream_length_and_text() {
        let f = frame(2, 0, "hi", true);
        assert_eq!(&f[..4], &[2, 0, 0, 0]);
        let len = u32::from_be_bytes([f[4], f[5], f[6], f[7]]) as usize;
        assert_eq!(len, f.len() - 8);
        assert_eq!(&f[8..], b"1970-01-01T00:00:00.000000000Z hi\n");
        assert_eq!(line("c", 5000, 9).0, 2);
        assert_eq!(line("c", 5000, 3), (1, 8000, "c: simulated line 3".into()));
    }
}
