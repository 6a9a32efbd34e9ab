//! Lines of many instances in one time order. Engines answer at their own pace, so a
//! line is held for a short reorder window after it arrives and released in timestamp
//! order: a line that reaches the merger less than the window after it was written
//! comes out in order. What a view shows is a bounded buffer of the newest lines.

use crate::domain::logs::LogLine;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::{Duration, Instant};

/// How long a line waits for earlier lines of other instances.
pub const REORDER_WINDOW: Duration = Duration::from_millis(300);
/// How many lines a view keeps unless configured otherwise.
pub const DEFAULT_BUFFER_LINES: usize = 10_000;

/// A held line, ordered by its time, then by arrival (lines of one instance with the same
/// time keep their order).
#[derive(Debug)]
struct Held {
    line: LogLine,
    arrived: Instant,
    seq: u64,
}

impl Held {
    fn key(&self) -> (i64, u64) {
        (self.line.unix_nanos, self.seq)
    }
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// The reorder window: push lines as they arrive, take them out in time order.
#[derive(Debug)]
pub struct Merger {
    window: Duration,
    /// The most lines held: beyond it the earliest go out before their window ends, so a
    /// flood cannot grow the merger.
    max_held: usize,
    held: BinaryHeap<Reverse<Held>>,
    seq: u64,
}

impl Merger {
    pub fn new(window: Duration, max_held: usize) -> Self {
        Merger {
            window,
            max_held: max_held.max(1),
            held: BinaryHeap::new(),
            seq: 0,
        }
    }

    /// Holds `line`, which arrived `now`.
    pub fn push(&mut self, line: LogLine, now: Instant) {
        self.seq += 1;
        self.held.push(Reverse(Held {
            line,
            arrived: now,
            seq: self.seq,
        }));
    }

    /// The lines whose window has ended by `now` (and the earliest beyond `max_held`), in
    /// time order.
    pub fn release(&mut self, now: Instant) -> Vec<LogLine> {
        let mut out = Vec::new();
        while let Some(Reverse(first)) = self.held.peek() {
            let due = now.saturating_duration_since(first.arrived) >= self.window;
            if !due && self.held.len() <= self.max_held {
                break;
            }
            if let Some(Reverse(held)) = self.held.pop() {
                out.push(held.line);
            }
        }
        out
    }

    /// Every held line, in time order (the streams ended).
    pub fn drain(&mut self) -> Vec<LogLine> {
        let mut out = Vec::with_capacity(self.held.len());
        while let Some(Reverse(held)) = self.held.pop() {
            out.push(held.line);
        }
        out
    }

    pub fn held(&self) -> usize {
        self.held.len()
    }
}

/// The newest `capacity` lines, for a view; older ones are dropped and counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogBuffer {
    lines: VecDeque<LogLine>,
    capacity: usize,
    dropped: u64,
}

impl LogBuffer {
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        LogBuffer {
            lines: VecDeque::with_capacity(capacity.min(DEFAULT_BUFFER_LINES)),
            capacity,
            dropped: 0,
        }
    }

    pub fn push(&mut self, line: LogLine) {
        if self.lines.len() == self.capacity {
            self.lines.pop_front();
            self.dropped += 1;
        }
        self.lines.push_back(line);
    }

    pub fn extend(&mut self, lines: impl IntoIterator<Item = LogLine>) {
        for line in lines {
            self.push(line);
        }
    }

    /// Oldest first.
    pub fn lines(&self) -> impl DoubleEndedIterator<Item = &LogLine> + ExactSizeIterator {
        self.lines.iter()
    }

    /// The line at `index`, oldest first.
    pub fn get(&self, index: usize) -> Option<&LogLine> {
        self.lines.get(index)
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Lines pushed out to stay within the capacity.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::logs::{LogSource, Stream};
    use proptest::prelude::*;
    use std::sync::Arc;

    fn line(tag: &str, unix_nanos: i64, text: &str) -> LogLine {
        LogLine {
            unix_nanos,
            stream: Stream::Stdout,
            source: LogSource {
                tag: Arc::from(tag),
                container: Arc::from(tag),
                host: Arc::from("lab-1"),
            },
            text: text.to_owned(),
        }
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn lines_wait_for_the_window_then_come_out_in_time_order() {
        let start = Instant::now();
        let mut m = Merger::new(REORDER_WINDOW, 100);
        m.push(line("web.2", 20, "b"), start);
        m.push(line("web.1", 10, "a"), start + 50 * MS);
        assert!(m.release(start + 100 * MS).is_empty());
        let out = m.release(start + REORDER_WINDOW + 50 * MS);
        let texts: Vec<&str> = out.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["a", "b"]);
        assert_eq!(m.held(), 0);
    }

    #[test]
    fn a_flood_is_released_early_to_stay_bounded() {
        let start = Instant::now();
        let mut m = Merger::new(REORDER_WINDOW, 3);
        for i in 0..5 {
            m.push(line("web.1", i, "x"), start);
        }
        assert_eq!(m.release(start).len(), 2);
        assert_eq!(m.held(), 3);
        assert_eq!(m.drain().len(), 3);
    }

    #[test]
    fn the_buffer_keeps_the_newest_lines() {
        let mut b = LogBuffer::new(2);
        b.extend((0..5).map(|i| line("web.1", i, &i.to_string())));
        let kept: Vec<&str> = b.lines().map(|l| l.text.as_str()).collect();
        assert_eq!(kept, ["3", "4"]);
        assert_eq!((b.len(), b.dropped()), (2, 3));
    }

    proptest! {
        /// Lines (time, delay before arrival under the window) from three instances:
        /// whatever the arrival order, the output holds each line once and in time
        /// order, and the merger never holds more than it may.
        #[test]
        fn merged_output_is_sorted_complete_and_bounded(
            lines in prop::collection::vec((0i64..5_000, 0u64..299, 0usize..3), 0..200),
            max_held in 1usize..300,
        ) {
            let start = Instant::now();
            let mut arrivals: Vec<(u64, LogLine)> = lines
                .iter()
                .enumerate()
                .map(|(i, &(ms, delay, who))| {
                    let l = line(&format!("web.{who}"), ms * 1_000_000, &i.to_string());
                    (ms as u64 + delay, l)
                })
                .collect();
            arrivals.sort_by_key(|(at, _)| *at);
            let mut m = Merger::new(REORDER_WINDOW, max_held);
            let mut out = Vec::new();
            for (at, l) in arrivals {
                let now = start + Duration::from_millis(at);
                out.extend(m.release(now));
                m.push(l, now);
                prop_assert!(m.held() <= max_held + 1);
                out.extend(m.release(now));
                prop_assert!(m.held() <= max_held);
            }
            out.extend(m.drain());
            let mut seen: Vec<usize> = out.iter().filter_map(|l| l.text.parse().ok()).collect();
            seen.sort_unstable();
            prop_assert_eq!(seen, (0..lines.len()).collect::<Vec<_>>());
            if max_held >= lines.len() {
                prop_assert!(out.windows(2).all(|w| w[0].unix_nanos <= w[1].unix_nanos));
            }
        }
    }
}
