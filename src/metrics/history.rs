//! The history the host agent keeps per series (a container's CPU, a host's memory, ...), in
//! bounded memory:
//!
//! - **fine**: every tick, in Gorilla blocks of `FINE_BLOCK` ticks (10 minutes at 1 s);
//!   closed blocks are kept while they end less than `FINE_KEEP` blocks (1 hour) before the
//!   newest sample, so at least an hour at full resolution is always held;
//! - **coarse**: a fine block that ages out is downsampled to the mean of each `COARSE`
//!   ticks (10 s) and kept in blocks of an hour for `COARSE_KEEP` hours (24 h), then dropped.
//!
//! Every block is aligned to a multiple of its length, so the tiers never overlap and a
//! series holds at most 7 fine and 25 coarse blocks however long it runs. A sample whose
//! tick is not after the newest one held (time went back, or a second reading in the same
//! tick) is dropped: the first reading of a tick wins.

use super::gorilla::{Encoder, decode, quantise, snap};
use std::collections::VecDeque;

/// One sample, or one bucket of `Series::points`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub unix_ms: i64,
    /// `None` is a gap: no reading (agent down, container stopped).
    pub value: Option<f64>,
}

/// How a series is sampled and how finely its values matter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolution {
    /// Readings are stored on multiples of this (1 ms to 1 day; outside, the nearest).
    pub tick_ms: i64,
    /// Values are kept to the nearest multiple of this (e.g. 0.01 for CPU %, 4096 for
    /// bytes); 0, negative or not finite keeps them exactly.
    pub quantum: f64,
}

/// Longest tick a series takes (a day), so the coarse tier's tick stays in range.
const MAX_TICK_MS: i64 = 86_400_000;

impl Resolution {
    /// The resolution as the codec uses it: tick in range, quantum 0 when it cannot count.
    pub fn normalised(&self) -> Resolution {
        let usable = self.quantum.is_finite() && self.quantum >= f64::MIN_POSITIVE;
        Resolution {
            tick_ms: self.tick_ms.clamp(1, MAX_TICK_MS),
            quantum: if usable { self.quantum } else { 0.0 },
        }
    }
}

/// Ticks per fine block (10 minutes at 1 s).
const FINE_BLOCK: i64 = 600;
/// Closed fine blocks held: with the open one, at least an hour.
const FINE_KEEP: i64 = 6;
/// Fine ticks per coarse tick (10 s at 1 s).
const COARSE: i64 = 10;
/// Coarse ticks per coarse block (an hour at 10 s).
const COARSE_BLOCK: i64 = 360;
/// Closed coarse blocks held (24 hours).
const COARSE_KEEP: i64 = 24;

/// A tier's closed block: its first tick and the encoded samples.
#[derive(Debug)]
struct Block {
    start: i64,
    bytes: Box<[u8]>,
}

/// Blocks of one resolution, oldest first, and the open one being written.
#[derive(Debug)]
struct Tier {
    res: Resolution,
    block: i64,
    closed: VecDeque<Block>,
    open: Option<(i64, Encoder)>,
}

impl Tier {
    fn new(res: Resolution, block: i64) -> Self {
        Tier {
            res,
            block,
            closed: VecDeque::new(),
            open: None,
        }
    }

    /// Appends a sample at `tick` (after every tick it holds).
    fn push(&mut self, tick: i64, value: Option<f64>) {
        let start = tick.div_euclid(self.block).saturating_mul(self.block);
        if self.open.as_ref().is_some_and(|(s, _)| *s != start) {
            self.seal();
        }
        let res = self.res;
        let (_, enc) = self.open.get_or_insert_with(|| (start, Encoder::new(res)));
        enc.push(tick.saturating_mul(res.tick_ms), value);
    }

    fn seal(&mut self) {
        if let Some((start, enc)) = self.open.take() {
            let bytes = enc.to_bytes().into_boxed_slice();
            self.closed.push_back(Block { start, bytes });
        }
    }

    /// Takes out every block that ends at or before `cutoff` (a tick), oldest first.
    fn evict(&mut self, cutoff: i64) -> Vec<Block> {
        if self
            .open
            .as_ref()
            .is_some_and(|(s, _)| s.saturating_add(self.block) <= cutoff)
        {
            self.seal();
        }
        let mut out = Vec::new();
        while let Some(b) = self.closed.front() {
            if b.start.saturating_add(self.block) > cutoff {
                break;
            }
            out.extend(self.closed.pop_front());
        }
        out
    }

    /// The samples of every block that ends after `from_ms`, oldest first.
    fn samples(&self, from_ms: i64) -> Vec<Point> {
        let span = self.block.saturating_mul(self.res.tick_ms);
        let ends_after =
            |start: i64| start.saturating_mul(self.res.tick_ms).saturating_add(span) > from_ms;
        let mut out = Vec::new();
        for b in self.closed.iter().filter(|b| ends_after(b.start)) {
            out.extend(decode(&b.bytes, &self.res).unwrap_or_default());
        }
        if let Some((_, enc)) = self.open.as_ref().filter(|(s, _)| ends_after(*s)) {
            out.extend(enc.points());
        }
        out
    }

    fn bytes(&self) -> usize {
        let blocks = self.closed.capacity() * std::mem::size_of::<Block>();
        let held: usize = self.closed.iter().map(|b| b.bytes.len()).sum();
        blocks + held + self.open.as_ref().map_or(0, |(_, e)| e.bytes())
    }

    fn encoded_bytes(&self) -> usize {
        let held: usize = self.closed.iter().map(|b| b.bytes.len()).sum();
        held + self.open.as_ref().map_or(0, |(_, e)| e.to_bytes().len())
    }
}

/// One metric's history: an hour at full resolution, then a day of 10-tick means.
#[derive(Debug)]
pub struct Series {
    res: Resolution,
    fine: Tier,
    coarse: Tier,
    last: Option<Point>,
}

impl Series {
    pub fn new(res: Resolution) -> Series {
        let res = res.normalised();
        let coarse = Resolution {
            tick_ms: res.tick_ms * COARSE,
            ..res
        };
        Series {
            res,
            fine: Tier::new(res, FINE_BLOCK),
            coarse: Tier::new(coarse, COARSE_BLOCK),
            last: None,
        }
    }

    /// Records a reading (`None`: a gap) at its tick; dropped unless after the last tick.
    pub fn push(&mut self, unix_ms: i64, value: Option<f64>) {
        let tick = snap(unix_ms, self.res.tick_ms);
        if self
            .last
            .is_some_and(|p| p.unix_ms >= tick.saturating_mul(self.res.tick_ms))
        {
            return;
        }
        self.fine.push(tick, value);
        self.last = Some(Point {
            unix_ms: tick.saturating_mul(self.res.tick_ms),
            value: value.map(|v| quantise(v, &self.res)),
        });
        let aged = tick.saturating_sub(FINE_KEEP * FINE_BLOCK);
        for block in self.fine.evict(aged) {
            self.downsample(&block);
        }
        let coarse_tick = tick.div_euclid(COARSE);
        self.coarse
            .evict(coarse_tick.saturating_sub(COARSE_KEEP * COARSE_BLOCK));
    }

    /// Moves an aged fine block into the coarse tier as the means of its coarse ticks.
    fn downsample(&mut self, block: &Block) {
        let samples = decode(&block.bytes, &self.res).unwrap_or_default();
        let step = self.coarse.res.tick_ms;
        let start = block.start.saturating_mul(self.res.tick_ms);
        let end = start.saturating_add(FINE_BLOCK * self.res.tick_ms);
        for p in buckets(&[(&samples, self.res.tick_ms)], start, end, step) {
            self.coarse.push(p.unix_ms.div_euclid(step), p.value);
        }
    }

    /// Points from `since_unix_ms` on, one per `step_ms` (step >= tick: downsampled by mean of the bucket; a bucket with no value is a gap).
    ///
    /// Buckets start on multiples of `step_ms`: the first holds `since_unix_ms` (or the
    /// oldest sample held, if later), the last holds the newest sample. A step below the
    /// tick counts as the tick; where only 10-tick means are left, each fills every bucket
    /// it overlaps.
    pub fn points(&self, since_unix_ms: i64, step_ms: i64) -> Vec<Point> {
        let step = step_ms.max(self.res.tick_ms);
        let Some(newest) = self.last else {
            return Vec::new();
        };
        let coarse = self.coarse.samples(since_unix_ms);
        let fine = self.fine.samples(since_unix_ms);
        let oldest = coarse
            .first()
            .or(fine.first())
            .map_or(newest.unix_ms, |p| p.unix_ms);
        let start = since_unix_ms
            .max(oldest)
            .div_euclid(step)
            .saturating_mul(step);
        let end = newest.unix_ms.saturating_add(1);
        let runs = [
            (&coarse, self.coarse.res.tick_ms),
            (&fine, self.res.tick_ms),
        ];
        buckets(&runs, start, end, step)
    }

    pub fn last(&self) -> Option<Point> {
        self.last
    }

    /// Bytes of memory this series holds (for the bounded-memory claim and the benchmark).
    pub fn bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.fine.bytes() + self.coarse.bytes()
    }

    /// Bytes of the encoded blocks alone (what bytes per sample counts).
    pub fn encoded_bytes(&self) -> usize {
        self.fine.encoded_bytes() + self.coarse.encoded_bytes()
    }
}

/// The mean of each `step` from `start` (a multiple of `step`) up to `end`, over runs of
/// samples that each cover `width` ms from their timestamp. A sample counts in the bucket
/// it starts in, and in every later one it covers when it is wider than the step.
fn buckets(runs: &[(&Vec<Point>, i64)], start: i64, end: i64, step: i64) -> Vec<Point> {
    let (start, step) = (i128::from(start), i128::from(step.max(1)));
    let n = ((i128::from(end) - start).max(0) + step - 1) / step;
    let mut sums = vec![(0.0f64, 0u32); usize::try_from(n).unwrap_or(0)];
    let index = |t: i128| usize::try_from((t - start).div_euclid(step)).ok();
    for &(samples, width) in runs {
        for p in samples {
            let Some(v) = p.value else { continue };
            let t = i128::from(p.unix_ms);
            let last = if i128::from(width) > step {
                t + i128::from(width) - 1
            } else {
                t
            };
            let first = index(t.max(start)).unwrap_or(0);
            let Some(last) = index(last) else { continue };
            for slot in sums.iter_mut().take(last.saturating_add(1)).skip(first) {
                slot.0 += v;
                slot.1 += 1;
            }
        }
    }
    sums.iter()
        .zip(0i128..)
        .map(|(&(sum, count), i)| Point {
            unix_ms: i64::try_from(start + i * step).unwrap_or(i64::MAX),
            value: (count > 0).then(|| sum / f64::from(count)),
        })
        .collect()
}

#[cfg(test)]
mod tests;
