//! From the engine's frames to whole lines. The engine sends one frame per message, each
//! starting with its timestamp; a line over 16 KiB comes as several messages, only the
//! last ending in a newline, so parts are joined (per stream) until the newline. A line
//! longer than the limit keeps its head and a marker. A stream reopened after an engine
//! drop starts again at the last whole second (bollard's `since` takes whole seconds), so
//! the frames of that second already passed on are counted and skipped as they come again:
//! counted, not merely remembered, because the parts of one long line share a timestamp
//! and may be identical.

use crate::domain::logs::{LogLine, LogSource, Stream, parse_timestamp};
use crate::domain::sanitize::clean_bytes;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

/// The longest line kept whole, in bytes, unless the reader asks otherwise.
pub const DEFAULT_MAX_LINE: usize = 16 * 1024;
const NANOS: i64 = 1_000_000_000;

/// A line still waiting for its newline.
#[derive(Debug)]
struct Partial {
    unix_nanos: i64,
    bytes: Vec<u8>,
    /// Bytes beyond the limit, dropped.
    cut: usize,
}

/// One container's frames turned into lines; kept across reconnects.
#[derive(Debug)]
pub struct Assembler {
    source: LogSource,
    max_line: usize,
    partial: [Option<Partial>; 2],
    /// The newest frame's timestamp; lines without one (an engine without timestamps)
    /// take it.
    newest: i64,
    /// Frames (timestamp, hash of stream and content) of the newest frame's second passed
    /// on by this connection, with how often: what a stream reopened from that second
    /// sends again.
    seen: HashMap<(i64, u64), u32>,
    /// What the reopened stream is expected to send again, still to skip.
    replay: HashMap<(i64, u64), u32>,
    /// The oldest frame's timestamp this assembler passed on.
    oldest: Option<i64>,
    /// A reopened stream goes no further back than `oldest`: what came before was not
    /// asked for (a tail began after it).
    floor: Option<i64>,
}

impl Assembler {
    /// `max_line` is at least 1 byte.
    pub fn new(source: LogSource, max_line: usize) -> Self {
        Assembler {
            source,
            max_line: max_line.max(1),
            partial: [None, None],
            newest: 0,
            oldest: None,
            floor: None,
            seen: HashMap::new(),
            replay: HashMap::new(),
        }
    }

    pub fn source(&self) -> &LogSource {
        &self.source
    }

    /// The whole second to reopen the stream from (0: from the start).
    pub fn resume_second(&self) -> i64 {
        self.newest.div_euclid(NANOS)
    }

    /// Called as the stream is reopened from `resume_second`: the frames of that second
    /// seen so far will come again. Older ones were not asked for; an engine that sends
    /// them anyway (one restarted in CI sent a container's log from its first line) would
    /// repeat them, so they are dropped.
    pub fn reopen(&mut self) {
        let asked_from = self.resume_second() * NANOS;
        self.floor = self.oldest.map(|oldest| oldest.max(asked_from));
        for (key, count) in self.seen.drain() {
            *self.replay.entry(key).or_default() += count;
        }
    }

    /// The lines one frame completes, in order.
    pub fn push(&mut self, stream: Stream, frame: &[u8]) -> Vec<LogLine> {
        let (nanos, content) = split_timestamp(frame);
        let nanos = match nanos {
            Some(nanos) => {
                if self.floor.is_some_and(|floor| nanos < floor) {
                    return Vec::new();
                }
                self.oldest = Some(self.oldest.map_or(nanos, |o| o.min(nanos)));
                if !self.first_sight(nanos, stream, content) {
                    return Vec::new();
                }
                nanos
            }
            None => self.newest,
        };
        let mut lines = Vec::new();
        let mut parts = content.split(|&b| b == b'\n').peekable();
        while let Some(part) = parts.next() {
            let last = parts.peek().is_none();
            if last && part.is_empty() {
                break;
            }
            self.append(stream, nanos, part);
            if !last {
                lines.extend(self.finish(stream));
            }
        }
        lines
    }

    /// The lines still waiting for a newline (the stream ended), stdout's first.
    pub fn flush(&mut self) -> Vec<LogLine> {
        [Stream::Stdout, Stream::Stderr]
            .into_iter()
            .filter_map(|s| self.finish(s))
            .collect()
    }

    /// Whether this frame is new (not one a reopened stream sends again); counts it while
    /// its second is the newest.
    fn first_sight(&mut self, nanos: i64, stream: Stream, content: &[u8]) -> bool {
        let second = nanos.div_euclid(NANOS);
        if second > self.resume_second() {
            let newer = |&(t, _): &(i64, u64), _: &mut u32| t.div_euclid(NANOS) >= second;
            self.seen.retain(newer);
            self.replay.retain(newer);
        }
        self.newest = self.newest.max(nanos);
        if second < self.resume_second() {
            // Older than anything a reopened stream sends again: nothing to compare.
            return true;
        }
        let mut hasher = DefaultHasher::new();
        (stream, content).hash(&mut hasher);
        let key = (nanos, hasher.finish());
        *self.seen.entry(key).or_default() += 1;
        match self.replay.get_mut(&key) {
            Some(left) if *left > 0 => {
                *left -= 1;
                false
            }
            _ => true,
        }
    }

    fn append(&mut self, stream: Stream, nanos: i64, part: &[u8]) {
        let max = self.max_line;
        let partial = self.partial[slot(stream)].get_or_insert_with(|| Partial {
            unix_nanos: nanos,
            bytes: Vec::new(),
            cut: 0,
        });
        let room = max.saturating_sub(partial.bytes.len());
        let kept = part.len().min(room);
        partial.bytes.extend_from_slice(&part[..kept]);
        partial.cut += part.len() - kept;
    }

    fn finish(&mut self, stream: Stream) -> Option<LogLine> {
        let mut partial = self.partial[slot(stream)].take()?;
        if partial.bytes.last() == Some(&b'\r') && partial.cut == 0 {
            // A CRLF line ending, not a carriage return inside the line.
            partial.bytes.pop();
        }
        let mut text = if partial.cut > 0 {
            // Cut on a character boundary: a split character would show as U+FFFD.
            let end = char_boundary(&partial.bytes);
            let mut text = clean_bytes(&partial.bytes[..end]).into_owned();
            let cut = partial.cut + partial.bytes.len() - end;
            text.push_str(&format!(" [… {cut} bytes cut]"));
            text
        } else {
            clean_bytes(&partial.bytes).into_owned()
        };
        text.shrink_to_fit();
        Some(LogLine {
            unix_nanos: partial.unix_nanos,
            stream,
            source: self.source.clone(),
            text,
        })
    }
}

fn slot(stream: Stream) -> usize {
    match stream {
        Stream::Stdout => 0,
        Stream::Stderr => 1,
    }
}

/// The frame's leading timestamp and what follows its space; no timestamp, no split.
fn split_timestamp(frame: &[u8]) -> (Option<i64>, &[u8]) {
    let Some(space) = frame.iter().take(40).position(|&b| b == b' ') else {
        return (None, frame);
    };
    let nanos = std::str::from_utf8(&frame[..space])
        .ok()
        .and_then(parse_timestamp);
    match nanos {
        Some(nanos) => (Some(nanos), &frame[space + 1..]),
        None => (None, frame),
    }
}

/// The longest prefix of `bytes` that does not end inside a UTF-8 character.
fn char_boundary(bytes: &[u8]) -> usize {
    let len = bytes.len();
    // A character is at most 4 bytes: look back at most 3 for its lead byte.
    for back in 1..=3.min(len) {
        let b = bytes[len - back];
        if b & 0xC0 == 0x80 {
            continue;
        }
        let width = match b {
            0xF0..=0xF7 => 4,
            0xE0..=0xEF => 3,
            0xC0..=0xDF => 2,
            _ => 1,
        };
        return if width > back { len - back } else { len };
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn source() -> LogSource {
        LogSource {
            tag: Arc::from("web.1"),
            container: Arc::from("web-1"),
            host: Arc::from("lab-1"),
        }
    }

    fn texts(lines: &[LogLine]) -> Vec<(&str, Stream)> {
        lines.iter().map(|l| (l.text.as_str(), l.stream)).collect()
    }

    const T1: &str = "2024-05-01T12:00:00.000000001Z ";
    const T2: &str = "2024-05-01T12:00:00.000000002Z ";
    const T3: &str = "2024-05-01T12:00:01.000000000Z ";

    #[test]
    fn parts_split_across_frames_are_joined_per_stream() {
        let mut a = Assembler::new(source(), DEFAULT_MAX_LINE);
        assert!(
            a.push(Stream::Stdout, format!("{T1}hel").as_bytes())
                .is_empty()
        );
        let err = a.push(Stream::Stderr, format!("{T1}oops\n").as_bytes());
        assert_eq!(texts(&err), [("oops", Stream::Stderr)]);
        let out = a.push(Stream::Stdout, format!("{T2}lo\r\n").as_bytes());
        assert_eq!(texts(&out), [("hello", Stream::Stdout)]);
        // The joined line keeps its first part's time.
        assert_eq!(out[0].unix_nanos, 1_714_564_800 * NANOS + 1);
        assert!(
            a.push(Stream::Stdout, format!("{T3}tail").as_bytes())
                .is_empty()
        );
        assert_eq!(texts(&a.flush()), [("tail", Stream::Stdout)]);
        assert!(a.flush().is_empty());
    }

    #[test]
    fn frames_without_a_timestamp_and_several_lines_in_one_frame() {
        let mut a = Assembler::new(source(), DEFAULT_MAX_LINE);
        let lines = a.push(Stream::Stdout, b"one\ntwo\n\nthree");
        assert_eq!(
            texts(&lines),
            [
                ("one", Stream::Stdout),
                ("two", Stream::Stdout),
                ("", Stream::Stdout)
            ]
        );
        assert_eq!(texts(&a.flush()), [("three", Stream::Stdout)]);
    }

    #[test]
    fn long_lines_keep_their_head_and_a_marker() {
        let mut a = Assembler::new(source(), 10);
        let long = format!("{T1}{}é\n", "x".repeat(9));
        let lines = a.push(Stream::Stdout, long.as_bytes());
        // 9 x and the é's first byte fit: the é is cut whole.
        assert_eq!(
            texts(&lines),
            [("xxxxxxxxx [… 2 bytes cut]", Stream::Stdout)]
        );
        // 90,000 characters over several frames, then the next line whole.
        let mut a = Assembler::new(source(), 100);
        for i in 0..6 {
            let frame = format!("2024-05-01T12:00:00.00000000{i}Z {}", "y".repeat(15_000));
            assert!(a.push(Stream::Stdout, frame.as_bytes()).is_empty());
        }
        let lines = a.push(Stream::Stdout, format!("{T2}\n").as_bytes());
        assert_eq!(lines.len(), 1);
        assert_eq!(
            lines[0].text,
            format!("{} [… 89900 bytes cut]", "y".repeat(100))
        );
        let next = a.push(Stream::Stdout, format!("{T2}next\n").as_bytes());
        assert_eq!(texts(&next), [("next", Stream::Stdout)]);
    }

    #[test]
    fn hostile_bytes_are_cleaned() {
        let mut a = Assembler::new(source(), DEFAULT_MAX_LINE);
        let frame = format!("{T1}a\x1b[2J\x1b]52;c;aGk=\x07b\u{202e}c\rd\x07e\n");
        let lines = a.push(Stream::Stdout, frame.as_bytes());
        assert_eq!(
            texts(&lines),
            [("ab\u{fffd}c\u{fffd}d\u{fffd}e", Stream::Stdout)]
        );
    }

    #[test]
    fn a_reopened_stream_yields_no_line_twice() {
        let mut a = Assembler::new(source(), DEFAULT_MAX_LINE);
        let frames = [
            format!("{T1}a\n"),
            format!("{T2}b\n"),
            format!("{T3}c1 "),
            format!("{T3}c2\n"),
        ];
        let mut got = Vec::new();
        for f in &frames[..3] {
            got.extend(a.push(Stream::Stdout, f.as_bytes()));
        }
        // The engine dropped; the stream reopens at the newest frame's second, and drops
        // again before it sent anything new.
        assert_eq!(a.resume_second(), 1_714_564_801);
        a.reopen();
        a.reopen();
        for f in &frames[2..] {
            got.extend(a.push(Stream::Stdout, f.as_bytes()));
        }
        let got: Vec<&str> = got.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(got, ["a", "b", "c1 c2"]);
    }

    #[test]
    fn a_stream_reopened_after_a_tail_goes_no_further_back_than_it() {
        // A tail window began at b (same second as a); reopening from that second sends
        // a, b and c: a was never asked for, b was passed on, c is new.
        let mut a = Assembler::new(source(), DEFAULT_MAX_LINE);
        let first = a.push(Stream::Stdout, format!("{T2}b\n").as_bytes());
        assert_eq!(texts(&first), [("b", Stream::Stdout)]);
        a.reopen();
        let mut got = Vec::new();
        for f in [format!("{T1}a\n"), format!("{T2}b\n"), format!("{T3}c\n")] {
            got.extend(a.push(Stream::Stdout, f.as_bytes()));
        }
        assert_eq!(texts(&got), [("c", Stream::Stdout)]);
    }

    #[test]
    fn identical_parts_with_one_timestamp_are_all_kept_and_none_repeated() {
        // The engine gives every part of a long line the first part's timestamp.
        let part = format!("{T1}{}", "x".repeat(5));
        let mut a = Assembler::new(source(), DEFAULT_MAX_LINE);
        for _ in 0..2 {
            assert!(a.push(Stream::Stdout, part.as_bytes()).is_empty());
        }
        // Reopened after two of the three: two are skipped, the third is new.
        a.reopen();
        for _ in 0..3 {
            assert!(a.push(Stream::Stdout, part.as_bytes()).is_empty());
        }
        let lines = a.push(Stream::Stdout, format!("{T1}\n").as_bytes());
        assert_eq!(lines[0].text, "x".repeat(15));
    }

    /// Frames as the engine sends them: one per line, a line over `chunk` bytes in parts
    /// that all carry its timestamp, only the last with the newline.
    fn frames(lines: &[(i64, bool, String)], chunk: usize) -> Vec<(i64, Stream, Vec<u8>)> {
        let mut out = Vec::new();
        for (nanos, stderr, text) in lines {
            let stream = if *stderr {
                Stream::Stderr
            } else {
                Stream::Stdout
            };
            let stamp = crate::domain::logs::format_timestamp(*nanos);
            let mut body = text.clone().into_bytes();
            body.push(b'\n');
            for part in body.chunks(chunk) {
                let mut frame = format!("{stamp} ").into_bytes();
                frame.extend_from_slice(part);
                out.push((*nanos, stream, frame));
            }
        }
        out
    }

    fn texts_of(lines: Vec<LogLine>) -> Vec<(Stream, String)> {
        lines.into_iter().map(|l| (l.stream, l.text)).collect()
    }

    proptest::proptest! {
        /// Whatever the lines (same timestamps, repeated text, parts of long lines) and
        /// wherever the engine drops, streams reopened from the resume second (or from
        /// the start) give the same lines as one unbroken stream: none lost, none twice.
        #[test]
        fn reopened_streams_give_every_line_once(
            steps in proptest::collection::vec(
                (0i64..3, proptest::bool::ANY, "[ab]{0,12}"), 1..60),
            drops in proptest::collection::vec((0usize..200, proptest::bool::ANY), 0..4),
            chunk in 1usize..8,
        ) {
            let mut nanos = 1_700_000_000 * NANOS;
            let lines: Vec<(i64, bool, String)> = steps
                .into_iter()
                .map(|(step, stderr, text)| {
                    // Steps of 0 (same time), half a second, or a second.
                    nanos += step * NANOS / 2;
                    (nanos, stderr, text)
                })
                .collect();
            let frames = frames(&lines, chunk);
            let mut whole = Assembler::new(source(), DEFAULT_MAX_LINE);
            let mut want = Vec::new();
            for (_, stream, frame) in &frames {
                want.extend(whole.push(*stream, frame));
            }
            want.extend(whole.flush());

            let mut drops: Vec<(usize, bool)> =
                drops.into_iter().map(|(d, all)| (d % (frames.len() + 1), all)).collect();
            drops.sort_unstable();
            let mut broken = Assembler::new(source(), DEFAULT_MAX_LINE);
            let mut got = Vec::new();
            let mut next = 0;
            for (drop, from_the_start) in drops.into_iter().chain([(frames.len(), false)]) {
                for (_, stream, frame) in &frames[next..drop.max(next)] {
                    got.extend(broken.push(*stream, frame));
                }
                // The engine sends again everything from the resume second on, or (not
                // as asked) everything from the start.
                let since = broken.resume_second() * NANOS;
                broken.reopen();
                next = match from_the_start {
                    true => 0,
                    false => frames.iter().position(|(t, _, _)| *t >= since).unwrap_or(frames.len()),
                };
            }
            for (_, stream, frame) in &frames[next..] {
                got.extend(broken.push(*stream, frame));
            }
            got.extend(broken.flush());
            proptest::prop_assert_eq!(texts_of(got), texts_of(want));
        }
    }

    #[test]
    fn char_boundaries() {
        assert_eq!(char_boundary(b""), 0);
        assert_eq!(char_boundary(b"ab"), 2);
        assert_eq!(char_boundary("aé".as_bytes()), 3);
        assert_eq!(char_boundary(&"aé".as_bytes()[..2]), 1);
        assert_eq!(char_boundary(&"a漢".as_bytes()[..3]), 1);
        assert_eq!(char_boundary(&[0x80, 0x80, 0x80, 0x80]), 4);
    }
}
