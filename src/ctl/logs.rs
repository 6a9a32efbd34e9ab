//! `ctl logs CONTAINER|APP`: a container's output, or every instance of an app merged in
//! time order (the merger's reorder window), printed as it is released. Lines reach
//! stdout sanitized; a reader that goes away (`| head`) ends it quietly.

use super::CtlError;
use super::output::{OutputArg, escape_for_terminal, say_error};
use crate::config::Config;
use crate::docker::{self, LogEvent, LogOptions, Target, connect_all, stream_target};
use crate::domain::Bounds;
use crate::domain::logs::{LogLine, format_timestamp};
use crate::logs::{DEFAULT_BUFFER_LINES, DEFAULT_MAX_LINE, Merger, REORDER_WINDOW};
use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// `--since`: up to a year back.
const SINCE: Bounds = Bounds::new(Duration::ZERO, Duration::from_secs(366 * 24 * 3600));
/// How often held lines are checked for release while following.
const TICK: Duration = Duration::from_millis(50);
/// Without -f every line is held until all streams end, so the whole output is in time
/// order; past this many the earliest go out first (memory stays bounded).
const MAX_HELD_ONCE: usize = 100_000;

/// The flags of `ctl logs`.
#[derive(Debug, Clone, clap::Args)]
pub struct LogsArgs {
    /// A container (name or id prefix, on any host) or an app (all its instances merged).
    pub target: String,
    /// Keep following: new lines, and for an app, instances as they come and go.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Only lines of this last while ("10m", "1h", "30s").
    #[arg(long, value_parser = |t: &str| SINCE.parse("", t))]
    pub since: Option<Duration>,
    /// Only the last N lines (of each instance, for an app).
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,
    /// Start each line with the engine's timestamp (RFC 3339, nanoseconds, UTC).
    #[arg(long)]
    pub timestamps: bool,
    /// Leave out the instance prefix ("web.3 | ") of an app's lines.
    #[arg(long)]
    pub no_prefix: bool,
    /// Longer lines are cut to this many bytes, with a marker saying how much was cut.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_LINE,
          value_parser = max_line)]
    pub max_line: usize,
    #[command(flatten)]
    pub output: OutputArg,
}

/// `--max-line`: from 80 bytes to a MiB.
fn max_line(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (80..=1 << 20).contains(&n) => Ok(n),
        _ => Err(format!(
            "{text:?} is not a number of bytes from 80 to 1048576"
        )),
    }
}

pub async fn run(config: &Config, args: &LogsArgs) -> Result<(), CtlError> {
    if config.hosts.is_empty() {
        return Err(CtlError::BadInput(
            "no hosts are configured: add [[hosts]] to the config file".into(),
        ));
    }
    let (engines, failed) = connect_all(&config.hosts).await;
    for (host, why) in failed {
        say_error(&format!("{host}: {why}; its containers are not read"));
    }
    let target = docker::find(&engines, &args.target)
        .await
        .map_err(|e| CtlError::BadInput(e.to_string()))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let options = LogOptions {
        follow: args.follow,
        since: args
            .since
            .map(|d| i64::try_from(now.saturating_sub(d).as_secs()).unwrap_or(0)),
        tail: args.tail,
        max_line: args.max_line,
    };
    let (tx, rx) = mpsc::channel(1024);
    let prefix = matches!(target, Target::App(_)) && !args.no_prefix;
    tokio::spawn(stream_target(engines, target, options, tx));
    let format = Format {
        prefix,
        timestamps: args.timestamps,
        json: args.output.json(),
    };
    print_merged(rx, args.follow, &format).await
}

/// Prints lines as the merger releases them, events on stderr; returns when every stream
/// ended or stdout closed.
async fn print_merged(
    mut rx: mpsc::Receiver<LogEvent>,
    follow: bool,
    format: &Format,
) -> Result<(), CtlError> {
    let max_held = if follow {
        DEFAULT_BUFFER_LINES
    } else {
        MAX_HELD_ONCE
    };
    let mut merger = Merger::new(REORDER_WINDOW, max_held);
    let mut tick = tokio::time::interval(TICK);
    let mut out = Vec::new();
    loop {
        tokio::select! {
            event = rx.recv() => match event {
                Some(LogEvent::Line(line)) => merger.push(line, Instant::now()),
                Some(event) => note(&event),
                None => break,
            },
            _ = tick.tick() => {}
        }
        if follow || merger.held() > max_held {
            for line in merger.release(Instant::now()) {
                format.write(&line, &mut out);
            }
        }
        if !out.is_empty() && !write_out(&mut out)? {
            return Ok(());
        }
    }
    for line in merger.drain() {
        format.write(&line, &mut out);
    }
    write_out(&mut out)?;
    Ok(())
}

/// Writes and empties `out`; false when the reader went away.
fn write_out(out: &mut Vec<u8>) -> Result<bool, CtlError> {
    let mut stdout = std::io::stdout().lock();
    let result = stdout.write_all(out).and_then(|()| stdout.flush());
    out.clear();
    match result {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(CtlError::Failed(format!("cannot write the output: {e}"))),
    }
}

/// An instance joining or leaving, or an engine in trouble: said on stderr.
fn note(event: &LogEvent) {
    if let Some(news) = event.news() {
        say_error(&news);
    }
}

/// How a line is printed.
struct Format {
    prefix: bool,
    timestamps: bool,
    json: bool,
}

impl Format {
    /// One line: `[TIME ][TAG | ][stderr] TEXT`, or a JSON object (README's schema).
    fn write(&self, line: &LogLine, out: &mut Vec<u8>) {
        if self.json {
            let value = serde_json::json!({
                "time": format_timestamp(line.unix_nanos),
                "unix_nanos": line.unix_nanos,
                "stream": line.stream.as_str(),
                "source": &*line.source.tag,
                "container": &*line.source.container,
                "host": &*line.source.host,
                "text": line.text,
            });
            let text = serde_json::to_string(&value).unwrap_or_default();
            out.extend_from_slice(escape_for_terminal(&text).as_bytes());
            out.push(b'\n');
            return;
        }
        line.write_plain(self.timestamps, self.prefix, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::logs::{LogSource, Stream};
    use std::sync::Arc;

    fn line(stream: Stream, text: &str) -> LogLine {
        LogLine {
            unix_nanos: 1_714_564_800_000_000_001,
            stream,
            source: LogSource {
                tag: Arc::from("web.3"),
                container: Arc::from("web-3"),
                host: Arc::from("lab-2"),
            },
            text: text.to_owned(),
        }
    }

    fn written(format: &Format, line: &LogLine) -> String {
        let mut out = Vec::new();
        format.write(line, &mut out);
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn text_lines_carry_time_prefix_and_stream() {
        let all = Format {
            prefix: true,
            timestamps: true,
            json: false,
        };
        assert_eq!(
            written(&all, &line(Stream::Stderr, "boom")),
            "2024-05-01T12:00:00.000000001Z web.3 | [stderr] boom\n"
        );
        let bare = Format {
            prefix: false,
            timestamps: false,
            json: false,
        };
        assert_eq!(written(&bare, &line(Stream::Stdout, "ok")), "ok\n");
    }

    #[test]
    fn json_lines_hold_every_field_and_no_raw_control() {
        let json = Format {
            prefix: false,
            timestamps: false,
            json: true,
        };
        let text = written(&json, &line(Stream::Stderr, "a\u{202e}b"));
        assert!(!text.contains('\u{202e}'), "{text}");
        let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(value["stream"], "stderr");
        assert_eq!(value["source"], "web.3");
        assert_eq!(value["host"], "lab-2");
        assert_eq!(value["text"], "a\u{202e}b");
        assert_eq!(value["time"], "2024-05-01T12:00:00.000000001Z");
        assert_eq!(value["unix_nanos"], 1_714_564_800_000_000_001_i64);
    }
}
