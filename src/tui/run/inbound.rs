//! Everything a cockpit's loop hears arrives as one `Inbound` on one channel: keys and
//! resizes from the terminal, the feed's pictures, the clock, answers to effects and the
//! signals that end the process. Each source is a task that stops when the loop drops it.

use crate::cluster::ClusterState;
use crate::tui::update::Msg;
use crossterm::event::{Event, EventStream, KeyEvent, KeyEventKind};
use futures::StreamExt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// What the loop hears.
#[derive(Debug)]
pub enum Inbound {
    /// A key typed by the operator (script keys are played by the loop itself).
    Key(KeyEvent),
    /// The terminal's new size, measured by the loop against the screen's theme.
    Resized { width: u16, height: u16 },
    /// Anything `update` takes as it is: the feed's pictures, answers to effects.
    Msg(Msg),
    /// The loop's clock: ages on screen, the wallboard's pages, the theme file's check.
    Clock(Instant),
    /// The terminal is gone (SSH dropped) or a signal asks the process to end.
    Stop,
}

/// How many messages may wait for the loop before their sources wait too.
const QUEUE: usize = 1024;
/// How often the clock speaks.
const CLOCK: Duration = Duration::from_millis(250);

/// The loop's one channel and the tasks that feed it; dropping it stops them.
pub struct Inbox {
    pub rx: mpsc::Receiver<Inbound>,
    tx: mpsc::Sender<Inbound>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Inbox {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Inbox {
    /// The terminal's keys and resizes, the feed's pictures, the clock and the signals.
    pub fn start(pictures: watch::Receiver<Arc<ClusterState>>) -> std::io::Result<Inbox> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let signals = Signals::install()?;
        let tasks = vec![
            tokio::spawn(terminal(tx.clone())),
            tokio::spawn(feed(pictures, tx.clone())),
            tokio::spawn(clock(tx.clone())),
            tokio::spawn(signals.forward(tx.clone())),
        ];
        Ok(Inbox { rx, tx, tasks })
    }

    /// Where answers to effects go: they come back as `Inbound::Msg`.
    pub fn answers(&self) -> Answers {
        Answers(self.tx.clone())
    }
}

/// A handle for tasks the loop starts (commands, reads) to answer on the loop's channel.
#[derive(Clone)]
pub struct Answers(mpsc::Sender<Inbound>);

impl Answers {
    /// The cockpit may have quit meanwhile: then nobody is told.
    pub async fn send(&self, msg: Msg) {
        let _ = self.0.send(Inbound::Msg(msg)).await;
    }
}

async fn terminal(tx: mpsc::Sender<Inbound>) {
    let mut input = EventStream::new();
    loop {
        let inbound = match input.next().await {
            Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => Inbound::Key(key),
            Some(Ok(Event::Resize(width, height))) => Inbound::Resized { width, height },
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => Inbound::Stop,
        };
        let stop = matches!(inbound, Inbound::Stop);
        if tx.send(inbound).await.is_err() || stop {
            return;
        }
    }
}

/// Passes on the feed's latest picture whenever it changes. A loop that falls behind gets
/// the newest one when it catches up, never a queue of stale ones.
async fn feed(mut pictures: watch::Receiver<Arc<ClusterState>>, tx: mpsc::Sender<Inbound>) {
    while pictures.changed().await.is_ok() {
        let picture = Arc::clone(&pictures.borrow_and_update());
        if tx.send(Inbound::Msg(Msg::Cluster(picture))).await.is_err() {
            return;
        }
    }
}

async fn clock(tx: mpsc::Sender<Inbound>) {
    let mut clock = tokio::time::interval(CLOCK);
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        clock.tick().await;
        if tx.send(Inbound::Clock(Instant::now())).await.is_err() {
            return;
        }
    }
}

/// SIGHUP, SIGTERM, SIGINT and SIGQUIT: each would end the process and leave the terminal
/// raw on the alternate screen (raw mode stops ctrl-c from sending SIGINT, but `kill -INT`,
/// `timeout` and supervisors still do). They end the loop instead, so the terminal guard
/// gives the terminal back.
struct Signals(Vec<tokio::signal::unix::Signal>);

impl Signals {
    fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        let kinds = [
            SignalKind::hangup(),
            SignalKind::terminate(),
            SignalKind::interrupt(),
            SignalKind::quit(),
        ];
        kinds
            .into_iter()
            .map(signal)
            .collect::<Result<_, _>>()
            .map(Signals)
    }

    async fn forward(mut self, tx: mpsc::Sender<Inbound>) {
        let waits = self.0.iter_mut().map(|s| Box::pin(s.recv()));
        futures::future::select_all(waits).await;
        let _ = tx.send(Inbound::Stop).await;
    }
}
