//! The logs view's state: whose lines, the lines kept (bounded), where the view is in
//! them (following the end, or from a line), paused, since, wrap, timestamps, search.
//!
//! Lines are numbered from the first the stream gave (`dropped` + index in the buffer),
//! so a position survives older lines being pushed out.

use super::View;
use crate::domain::logs::LogLine;
use crate::logs::LogBuffer;
use std::time::Duration;

/// Where the logs view was opened from, and whose lines it shows. The lines themselves
/// are in `Screen::logs`, so the view stays cheap to copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsNav {
    /// What the stream asks the engines for: a container id or an app.
    pub target: String,
    /// What the title calls it: the container's name, or the app.
    pub title: String,
    /// Where `back` returns.
    pub from: View,
}

impl LogsNav {
    pub fn new(target: &str, title: &str, from: View) -> LogsNav {
        LogsNav {
            target: target.to_owned(),
            title: title.to_owned(),
            from,
        }
    }
}

/// What one stream answer carries: the lines read since the last, in order, and news of
/// the stream (an instance joined or left, an engine in trouble, the stream ended).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogBatch {
    pub lines: Vec<LogLine>,
    pub notes: Vec<String>,
    /// The stream is over: why (the container stopped or went away, nothing to read).
    pub ended: Option<String>,
}

/// The since choices `s` cycles through (then back to everything kept).
pub const SINCE_STEPS: [Duration; 4] = [
    Duration::from_secs(60),
    Duration::from_secs(300),
    Duration::from_secs(900),
    Duration::from_secs(3600),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsPane {
    pub buffer: LogBuffer,
    /// The stream these lines come from: answers of an earlier one are dropped.
    pub stream: u64,
    /// None: following the end. Some(n): line n is the first in view.
    pub top: Option<u64>,
    /// While paused: lines from this number on are kept but not shown.
    pub paused_at: Option<u64>,
    pub since: Option<Duration>,
    pub wrap: bool,
    pub timestamps: bool,
    /// What `/` searches for ("" none); matches are highlighted.
    pub search: String,
    /// The line the last n/N jumped to.
    pub found: Option<u64>,
    /// What the stream said last (an instance left, an engine unreachable).
    pub note: Option<String>,
    /// Why the stream ended, once it has; the lines stay.
    pub ended: Option<String>,
}

impl LogsPane {
    pub fn new(capacity: usize, stream: u64) -> Self {
        LogsPane {
            buffer: LogBuffer::new(capacity),
            stream,
            top: None,
            paused_at: None,
            since: None,
            wrap: false,
            timestamps: false,
            search: String::new(),
            found: None,
            note: None,
            ended: None,
        }
    }

    /// The number of the oldest line kept.
    pub fn first(&self) -> u64 {
        self.buffer.dropped()
    }

    /// One past the number of the newest line kept.
    pub fn end(&self) -> u64 {
        self.first() + self.buffer.len() as u64
    }

    /// One past the newest line shown: the end, or where the pause began.
    pub fn shown_end(&self) -> u64 {
        self.paused_at
            .map_or(self.end(), |at| at.clamp(self.first(), self.end()))
    }

    /// Lines kept while paused and not shown yet.
    pub fn unseen(&self) -> u64 {
        self.end() - self.shown_end()
    }

    /// Line `n`, if still kept.
    pub fn line(&self, n: u64) -> Option<&LogLine> {
        let index = n.checked_sub(self.first())?;
        self.buffer.get(usize::try_from(index).ok()?)
    }

    /// Whether line text matches the search (case-insensitive; an empty search matches
    /// nothing).
    pub fn matches(&self, text: &str) -> bool {
        !match_ranges(text, &self.search).is_empty()
    }
}

/// Where `needle` occurs in `haystack`, ignoring ASCII case: byte ranges, in order.
pub fn match_ranges(haystack: &str, needle: &str) -> Vec<std::ops::Range<usize>> {
    if needle.is_empty() {
        return Vec::new();
    }
    let (hay, needle) = (haystack.as_bytes(), needle.as_bytes());
    let mut found = Vec::new();
    let mut at = 0;
    while at + needle.len() <= hay.len() {
        if hay[at..at + needle.len()].eq_ignore_ascii_case(needle)
            && haystack.is_char_boundary(at)
            && haystack.is_char_boundary(at + needle.len())
        {
            found.push(at..at + needle.len());
            at += needle.len();
        } else {
            at += 1;
        }
    }
    found
}

/// "5m", "1h": a since choice as the title shows it.
pub fn since_text(since: Option<Duration>) -> String {
    match since.map(|d| d.as_secs()) {
        None => "all kept".to_owned(),
        Some(s) if s % 3600 == 0 => format!("{}h", s / 3600),
        Some(s) => format!("{}m", s / 60),
    }
}
