//! Gorilla-style compression of a block of samples (after Pelkonen et al., "Gorilla: A Fast,
//! Scalable, In-Memory Time Series Database", VLDB 2015), with two changes that pay on
//! sampled metrics:
//!
//! - Timestamps are snapped to the series' tick before coding, so a reading taken a few
//!   milliseconds late costs nothing: the delta of deltas of a steady series is 0, one bit.
//! - Values are quantised to the series' quantum and the XOR codes the *number of quanta*
//!   (a zigzagged integer) instead of the float's bits: neighbours that differ by a few
//!   quanta XOR to a few low bits, where two floats would differ in exponent and mantissa
//!   too. NaN, ±inf and a value too large to count in quanta are kept exactly (raw); with
//!   no quantum the XOR runs over the float's bits, as in the paper.
//!
//! A block is `count` (LEB128) and then, per sample, a timestamp code and a value code:
//!
//! | timestamp (delta of deltas, in ticks) | value                                        |
//! |---------------------------------------|----------------------------------------------|
//! | `0`: 0                                | `0`: the same word as before                 |
//! | `10` + 7 bits: -64..=63               | `10`: XOR inside the last window             |
//! | `110` + 12 bits: -2048..=2047         | `110` + 6 bits leading zeros + 6 bits        |
//! | `1110` + 20 bits                      |   length - 1 + the XOR's meaningful bits     |
//! | `1111` + 64 bits                      | `1110`: a gap (no reading)  `1111` + 64: raw |
//!
//! The first sample's tick is written whole (64 bits) and the delta before it counts as 0;
//! the first XOR is against zero. Tick arithmetic wraps, so any sequence of ticks (even going back) round-trips.

use super::bits::{BitReader, BitWriter, Truncated};
use super::history::{Point, Resolution};

/// Largest count of quanta a value is coded as; beyond it the rounding of `n * quantum`
/// could drift by more than the quantum, so such values are kept exactly.
const MAX_QUANTA: f64 = (1u64 << 50) as f64;

/// Why a block cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("metric block ends in the middle of sample {0}")]
    Truncated(usize),
    #[error("metric block's sample count is missing or too large for its {0} bytes")]
    BadCount(usize),
    #[error("metric block's sample {0} reuses a value window before any was set")]
    NoWindow(usize),
    #[error("metric block's sample {0} has a value window past 64 bits")]
    BadWindow(usize),
    #[error("metric block's sample {0} has a timestamp out of range")]
    BadTime(usize),
}

/// The tick a reading belongs to: the nearest multiple of `tick_ms`, kept within the range
/// where `tick * tick_ms` is a valid timestamp.
pub fn snap(unix_ms: i64, tick_ms: i64) -> i64 {
    let tick = i128::from(tick_ms.max(1));
    let t = (i128::from(unix_ms) + tick / 2).div_euclid(tick);
    let lo = i128::from(i64::MIN) / tick;
    let hi = i128::from(i64::MAX) / tick;
    i64::try_from(t.clamp(lo, hi)).unwrap_or(0)
}

/// What a value reads back as after quantising (the value itself when it is kept exactly).
pub fn quantise(value: f64, res: &Resolution) -> f64 {
    unword(word(value, res.quantum), res.quantum)
}

/// A value as the 64 bits the XOR coding sees.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Word {
    Coded(u64),
    /// Kept exactly, outside the XOR chain.
    Raw(u64),
}

fn word(value: f64, quantum: f64) -> Word {
    if quantum == 0.0 {
        return Word::Coded(value.to_bits());
    }
    let n = (value / quantum).round();
    if n.abs() <= MAX_QUANTA {
        // Zigzag (0, -1, 1, -2, ... as 0, 1, 2, 3, ...): small counts of either sign keep
        // their high bits zero, so neighbours XOR to a short window.
        let n = n as i64;
        Word::Coded(((n << 1) ^ (n >> 63)) as u64)
    } else {
        Word::Raw(value.to_bits())
    }
}

fn unword(word: Word, quantum: f64) -> f64 {
    match word {
        Word::Raw(bits) => f64::from_bits(bits),
        Word::Coded(bits) if quantum == 0.0 => f64::from_bits(bits),
        Word::Coded(z) => (((z >> 1) as i64) ^ -((z & 1) as i64)) as f64 * quantum,
    }
}

/// Timestamp codes: (prefix, prefix bits, payload bits), tried in order.
const TIME_CODES: [(u64, u32, u32); 4] = [
    (0b10, 2, 7),
    (0b110, 3, 12),
    (0b1110, 4, 20),
    (0b1111, 4, 64),
];

/// Writes one block, sample by sample.
#[derive(Debug, Clone)]
pub struct Encoder {
    res: Resolution,
    bits: BitWriter,
    count: u32,
    tick: i64,
    delta: i64,
    word: u64,
    /// The current XOR window (leading zeros, meaningful bits), once one is set.
    window: Option<(u32, u32)>,
}

impl Encoder {
    pub fn new(res: Resolution) -> Self {
        Encoder {
            res: res.normalised(),
            bits: BitWriter::default(),
            count: 0,
            tick: 0,
            delta: 0,
            word: 0,
            window: None,
        }
    }

    /// Samples written.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds a sample; `None` is a gap (no reading at that tick). A block holds up to
    /// `u32::MAX` samples; later ones are dropped.
    pub fn push(&mut self, unix_ms: i64, value: Option<f64>) {
        if self.count == u32::MAX {
            return;
        }
        let tick = snap(unix_ms, self.res.tick_ms);
        if self.count == 0 {
            self.bits.write(tick as u64, 64);
        } else {
            let delta = tick.wrapping_sub(self.tick);
            self.time(delta.wrapping_sub(self.delta));
            self.delta = delta;
        }
        self.tick = tick;
        match value.map(|v| word(v, self.res.quantum)) {
            None => self.bits.write(0b1110, 4),
            Some(Word::Raw(bits)) => {
                self.bits.write(0b1111, 4);
                self.bits.write(bits, 64);
            }
            Some(Word::Coded(bits)) => self.value(bits),
        }
        self.count += 1;
    }

    fn time(&mut self, dod: i64) {
        if dod == 0 {
            self.bits.bit(false);
            return;
        }
        for (prefix, len, payload) in TIME_CODES {
            if fits(dod, payload) {
                self.bits.write(prefix, len);
                self.bits.write(dod as u64, payload);
                return;
            }
        }
    }

    fn value(&mut self, bits: u64) {
        let xor = bits ^ self.word;
        self.word = bits;
        if xor == 0 {
            self.bits.bit(false);
            return;
        }
        let leading = xor.leading_zeros();
        let trailing = xor.trailing_zeros();
        let meaningful = 64 - leading - trailing;
        // Reuse the window when it holds this XOR and costs less than a new one.
        if let Some((lead, len)) = self.window {
            let fits = leading >= lead && leading + meaningful <= lead + len;
            if fits && len < meaningful + 13 {
                self.bits.write(0b10, 2);
                self.bits.write(xor >> (64 - lead - len), len);
                return;
            }
        }
        self.bits.write(0b110, 3);
        self.bits.write(u64::from(leading), 6);
        self.bits.write(u64::from(meaningful - 1), 6);
        self.bits.write(xor >> trailing, meaningful);
        self.window = Some((leading, meaningful));
    }

    /// The block as bytes: the count, then the bits.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.bits.bytes().len() + 5);
        let mut n = self.count;
        loop {
            let low = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(low);
                break;
            }
            out.push(low | 0x80);
        }
        out.extend_from_slice(self.bits.bytes());
        out
    }

    /// Bytes of memory the encoder holds (its buffer's capacity included).
    pub fn bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.bits.capacity()
    }

    /// The samples written so far, as `decode` would read them back.
    pub fn points(&self) -> Vec<Point> {
        decode(&self.to_bytes(), &self.res).unwrap_or_default()
    }
}

/// Whether `v` fits a signed field of `bits` bits.
fn fits(v: i64, bits: u32) -> bool {
    bits >= 64 || (-(1i64 << (bits - 1))..(1i64 << (bits - 1))).contains(&v)
}

/// Sign-extends the low `bits` bits of `raw`.
fn signed(raw: u64, bits: u32) -> i64 {
    let shift = 64 - bits.clamp(1, 64);
    ((raw << shift) as i64) >> shift
}

/// Counts the ones before a zero, stopping at `max` ones (the codes' prefixes).
fn ones(r: &mut BitReader, max: u32) -> Result<u32, Truncated> {
    let mut n = 0;
    while n < max && r.bit()? {
        n += 1;
    }
    Ok(n)
}

/// Reads a block written by `Encoder` with the same resolution.
pub fn decode(bytes: &[u8], res: &Resolution) -> Result<Vec<Point>, DecodeError> {
    let res = res.normalised();
    let (count, body) = read_count(bytes).ok_or(DecodeError::BadCount(bytes.len()))?;
    let mut r = BitReader::new(body);
    // Every sample takes at least two bits, so a count past that is a lie.
    if count > r.remaining() / 2 {
        return Err(DecodeError::BadCount(bytes.len()));
    }
    let mut out = Vec::with_capacity(count);
    let (mut tick, mut delta, mut word) = (0i64, 0i64, 0u64);
    let mut window: Option<(u32, u32)> = None;
    for i in 0..count {
        let cut = |_: Truncated| DecodeError::Truncated(i);
        if i == 0 {
            tick = r.read(64).map_err(cut)? as i64;
        } else {
            let dod = match ones(&mut r, 4).map_err(cut)? {
                0 => 0,
                n => {
                    let payload = TIME_CODES.get(n as usize - 1).map_or(64, |c| c.2);
                    signed(r.read(payload).map_err(cut)?, payload)
                }
            };
            delta = delta.wrapping_add(dod);
            tick = tick.wrapping_add(delta);
        }
        let unix_ms = tick
            .checked_mul(res.tick_ms)
            .ok_or(DecodeError::BadTime(i))?;
        let coded = match ones(&mut r, 4).map_err(cut)? {
            0 => Some(Word::Coded(word)),
            1 => {
                let (lead, len) = window.ok_or(DecodeError::NoWindow(i))?;
                word ^= r.read(len).map_err(cut)? << (64 - lead - len);
                Some(Word::Coded(word))
            }
            2 => {
                let lead = r.read(6).map_err(cut)? as u32;
                let len = r.read(6).map_err(cut)? as u32 + 1;
                if lead + len > 64 {
                    return Err(DecodeError::BadWindow(i));
                }
                word ^= r.read(len).map_err(cut)? << (64 - lead - len);
                window = Some((lead, len));
                Some(Word::Coded(word))
            }
            3 => None,
            _ => Some(Word::Raw(r.read(64).map_err(cut)?)),
        };
        let value = coded.map(|w| unword(w, res.quantum));
        out.push(Point { unix_ms, value });
    }
    Ok(out)
}

/// The LEB128 sample count and the bytes after it.
fn read_count(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let mut n: u64 = 0;
    for (i, &b) in bytes.iter().enumerate().take(5) {
        n |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            let count = usize::try_from(u32::try_from(n).ok()?).ok()?;
            return Some((count, bytes.get(i + 1..)?));
        }
    }
    None
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
