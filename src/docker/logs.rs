//! One container's output from its engine (`logs` with timestamps, stdout and stderr
//! apart), as whole safe lines on a channel. Following, a stream that ends while the
//! container still runs (an engine drop) is reopened from the last line's second, and the
//! assembler skips what it already passed on.

use crate::domain::logs::{LogLine, LogSource, Stream};
use crate::logs::Assembler;
use bollard::Docker;
use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptions;
use futures::StreamExt;
use std::time::Duration;
use tokio::sync::mpsc::Sender;
use tokio::time::Instant;

/// How long an engine that came back gets to start a container again (restart policy)
/// before its stream counts as ended.
const RESTART_GRACE: Duration = Duration::from_secs(15);
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// What a reader asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogOptions {
    pub follow: bool,
    /// Only lines from this Unix second on.
    pub since: Option<i64>,
    /// Only the last N lines (per container).
    pub tail: Option<usize>,
    /// Longer lines are cut to this many bytes with a marker.
    pub max_line: usize,
}

/// What a log stream tells its reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEvent {
    Line(LogLine),
    /// An instance's stream opened (an app's instance appeared).
    Joined(LogSource),
    /// An instance's stream ended: the container stopped or went away.
    Left(LogSource),
    /// Its engine cannot be read now; the stream retries.
    Trouble {
        source: LogSource,
        message: String,
    },
}

impl LogEvent {
    /// What a reader tells the operator of an event other than a line.
    pub fn news(&self) -> Option<String> {
        Some(match self {
            LogEvent::Line(_) => return None,
            LogEvent::Joined(s) => format!("{} joined ({} on {})", s.tag, s.container, s.host),
            LogEvent::Left(s) => format!("{} left ({} on {})", s.tag, s.container, s.host),
            LogEvent::Trouble { source, message } => format!("{}: {message}", source.tag),
        })
    }
}

/// Streams container `id` into `tx` until its output ends (not following), it stops or
/// goes away, or the receiver is dropped; `assembler` keeps its place for a later resume
/// and is handed back.
pub async fn stream_container(
    docker: &Docker,
    id: &str,
    mut assembler: Assembler,
    options: LogOptions,
    tx: &Sender<LogEvent>,
) -> Assembler {
    let mut retry = RETRY_FIRST;
    let mut outage_since: Option<Instant> = None;
    loop {
        let error = tokio::select! {
            error = pass_on(docker, id, &mut assembler, options, tx) => error,
            () = tx.closed() => return assembler,
        };
        if tx.is_closed() {
            return assembler;
        }
        if !options.follow {
            if let Some(message) = error {
                trouble(&assembler, message, tx).await;
            }
            break;
        }
        match docker.inspect_container(id, None).await {
            Ok(info) => {
                let state = info.state.unwrap_or_default();
                let runs = state.running == Some(true) || state.restarting == Some(true);
                let engine_came_back = outage_since.is_some_and(|t| t.elapsed() < RESTART_GRACE);
                if !runs && !engine_came_back {
                    break;
                }
                if runs {
                    outage_since = None;
                    retry = RETRY_FIRST;
                }
            }
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => break,
            Err(e) => {
                if outage_since.is_none() {
                    let message = format!("engine: {}; retrying", super::describe(&e));
                    trouble(&assembler, message, tx).await;
                }
                outage_since = Some(Instant::now());
            }
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(RETRY_MAX);
    }
    for line in assembler.flush() {
        if tx.send(LogEvent::Line(line)).await.is_err() {
            break;
        }
    }
    assembler
}

/// One request's frames into lines on `tx`; why it ended, if not cleanly.
async fn pass_on(
    docker: &Docker,
    id: &str,
    assembler: &mut Assembler,
    options: LogOptions,
    tx: &Sender<LogEvent>,
) -> Option<String> {
    let mut resumed = assembler.resume_second() > 0;
    if let Some(n) = options.tail.filter(|_| !resumed) {
        match pass_on_tail(docker, id, assembler, options, n, tx).await {
            Ok(true) if options.follow => resumed = true,
            Ok(_) => return None,
            Err(error) => return Some(error),
        }
    }
    // A reopened stream (or a follow after its tail) goes on from its last second,
    // whatever was asked at first.
    assembler.reopen();
    let since = if resumed {
        assembler.resume_second()
    } else {
        options.since.unwrap_or(0)
    };
    let mut frames = docker.logs(id, Some(request(since, "all", options.follow)));
    while let Some(frame) = frames.next().await {
        let (stream, bytes) = match frame_of(frame) {
            Ok(Some(frame)) => frame,
            Ok(None) => continue,
            Err(error) => return Some(error),
        };
        for line in assembler.push(stream, &bytes) {
            if tx.send(LogEvent::Line(line)).await.is_err() {
                return None;
            }
        }
    }
    None
}

/// The last `n` lines onto `tx` (false: the reader is gone). The engine's tail counts
/// messages, and a line over 16 KiB is several: the last M messages are read, M growing
/// until they hold `n` lines besides each stream's first (which may be the end of a
/// longer line) or the log has no more; `assembler` is left where that read ended, so a
/// follow goes on from there as a reopened stream does.
async fn pass_on_tail(
    docker: &Docker,
    id: &str,
    assembler: &mut Assembler,
    options: LogOptions,
    n: usize,
    tx: &Sender<LogEvent>,
) -> Result<bool, String> {
    // Past this many messages per line asked (a 16 MiB line), the window is taken as is.
    let most = n.saturating_add(2).saturating_mul(1024);
    let mut asked = n.saturating_add(2);
    loop {
        let mut window = Assembler::new(assembler.source().clone(), options.max_line);
        let since = options.since.unwrap_or(0);
        let mut frames = docker.logs(id, Some(request(since, &asked.to_string(), false)));
        let (mut read, mut lines) = (0, Vec::new());
        while let Some(frame) = frames.next().await {
            read += 1;
            if let Some((stream, bytes)) = frame_of(frame)? {
                lines.extend(window.push(stream, &bytes));
            }
        }
        let whole_log = read < asked;
        if !whole_log {
            for stream in [Stream::Stdout, Stream::Stderr] {
                if let Some(first) = lines.iter().position(|l| l.stream == stream) {
                    lines.remove(first);
                }
            }
        }
        if whole_log || lines.len() >= n || asked >= most {
            let skip = lines.len().saturating_sub(n);
            for line in lines.into_iter().skip(skip) {
                if tx.send(LogEvent::Line(line)).await.is_err() {
                    return Ok(false);
                }
            }
            *assembler = window;
            return Ok(true);
        }
        asked = asked.saturating_mul(4).min(most);
    }
}

/// A logs request from Unix second `since` for the last `tail` messages ("all").
fn request(since: i64, tail: &str, follow: bool) -> LogsOptions {
    LogsOptions {
        follow,
        stdout: true,
        stderr: true,
        since: i32::try_from(since).unwrap_or(i32::MAX),
        until: 0,
        timestamps: true,
        tail: tail.to_owned(),
    }
}

/// One frame's stream and bytes; None for stdin (never sent); the error in words.
fn frame_of(
    frame: Result<LogOutput, bollard::errors::Error>,
) -> Result<Option<(Stream, bytes::Bytes)>, String> {
    match frame {
        Ok(LogOutput::StdErr { message }) => Ok(Some((Stream::Stderr, message))),
        Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
            Ok(Some((Stream::Stdout, message)))
        }
        Ok(LogOutput::StdIn { .. }) => Ok(None),
        Err(e) => Err(super::describe(&e)),
    }
}

async fn trouble(assembler: &Assembler, message: String, tx: &Sender<LogEvent>) {
    let source = assembler.source().clone();
    let _ = tx.send(LogEvent::Trouble { source, message }).await;
}
