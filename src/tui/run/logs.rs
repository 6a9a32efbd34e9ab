//! The logs view's stream, off the loop: connects the hosts' engines, finds the container
//! or app, follows its lines (an app's merged in time order through the reorder window)
//! and answers with `Msg::Logs` in batches, so a flood costs a message per batch, not per
//! line. The loop keeps one `LogTask`; dropping it stops the stream and every task under it.

use super::inbound::Answers;
use crate::docker::{LogEvent, LogOptions, Target, connect_all, find, stream_target};
use crate::domain::HostSpec;
use crate::logs::{DEFAULT_MAX_LINE, Merger, REORDER_WINDOW};
use crate::tui::screen::LogBatch;
use crate::tui::update::Msg;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// A batch goes out when it holds this many lines, or `EVERY` after the last.
const BATCH_LINES: usize = 500;
const EVERY: Duration = Duration::from_millis(50);
/// Lines the stream's own channel holds before the engines' readers wait.
const CHANNEL: usize = 1024;

/// What the stream reads.
#[derive(Debug, Clone)]
pub struct LogRequest {
    pub hosts: Vec<HostSpec>,
    /// A container (name or id prefix) or an app.
    pub target: String,
    pub since: Option<Duration>,
    /// Without `since`: the last this many lines (of each instance).
    pub tail: usize,
    /// The number its answers carry.
    pub stream: u64,
}

/// The running stream; dropping it stops it.
pub struct LogTask(JoinHandle<()>);

impl Drop for LogTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub fn start(request: LogRequest, answers: Answers) -> LogTask {
    LogTask(tokio::spawn(run(request, answers)))
}

async fn run(request: LogRequest, answers: Answers) {
    let stream = request.stream;
    let mut batch = LogBatch::default();
    let (engines, failed) = connect_all(&request.hosts).await;
    for (host, why) in failed {
        batch
            .notes
            .push(format!("{host}: engine unreachable: {why}"));
    }
    let target = match find(&engines, &request.target).await {
        Ok(target) => target,
        Err(why) => {
            batch.ended = Some(why.to_string());
            answers.send(Msg::Logs { stream, batch }).await;
            return;
        }
    };
    // One container's lines come in order: no reason to hold them.
    let (window, gone) = match target {
        Target::Container(_) => (
            Duration::ZERO,
            "the container stopped or went away; its lines stay",
        ),
        Target::App(_) => (REORDER_WINDOW, "every instance's stream ended"),
    };
    let since = request.since.map(|back| {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(now.saturating_sub(back).as_secs()).unwrap_or(0)
    });
    let options = LogOptions {
        follow: true,
        since,
        tail: since.is_none().then_some(request.tail),
        max_line: DEFAULT_MAX_LINE,
    };
    let (tx, rx) = mpsc::channel(CHANNEL);
    let merge = Merge {
        merger: Merger::new(window, request.tail),
        batch,
        answers,
        stream,
    };
    // The reader ends when the engines' streams do (their sender dropped).
    tokio::join!(
        stream_target(engines, target, options, tx),
        merge.pass_on(rx, gone)
    );
}

/// Lines from the engines' readers, merged and batched for the loop.
struct Merge {
    merger: Merger,
    batch: LogBatch,
    answers: Answers,
    stream: u64,
}

impl Merge {
    async fn pass_on(mut self, mut rx: mpsc::Receiver<LogEvent>, gone: &str) {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                event = rx.recv() => match event {
                    Some(LogEvent::Line(line)) => self.merger.push(line, Instant::now()),
                    Some(event) => self.batch.notes.extend(event.news()),
                    None => break,
                },
                _ = tick.tick() => {
                    self.release();
                    self.send().await;
                    continue;
                }
            }
            self.release();
            if self.batch.lines.len() >= BATCH_LINES {
                self.send().await;
            }
        }
        self.batch.lines.extend(self.merger.drain());
        self.batch.ended = Some(gone.to_owned());
        self.send().await;
    }

    fn release(&mut self) {
        self.batch.lines.extend(self.merger.release(Instant::now()));
    }

    async fn send(&mut self) {
        if self.batch == LogBatch::default() {
            return;
        }
        let batch = std::mem::take(&mut self.batch);
        let stream = self.stream;
        self.answers.send(Msg::Logs { stream, batch }).await;
    }
}
