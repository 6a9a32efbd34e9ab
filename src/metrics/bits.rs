//! A bit stream for the Gorilla codec: fields of 1 to 64 bits, most significant bit first.

/// Appends bit fields to a byte vector.
#[derive(Debug, Clone, Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    /// Bits used in the last byte (0 = the last byte is full or there is none).
    used: u32,
}

impl BitWriter {
    /// Writes the low `n` bits of `value` (n from 0 to 64; higher bits are ignored).
    pub fn write(&mut self, value: u64, n: u32) {
        let mut left = n.min(64);
        while left > 0 {
            if self.used == 0 {
                self.bytes.push(0);
            }
            let room = 8 - self.used;
            let take = room.min(left);
            // The next `take` bits of the field, from its top.
            let chunk = (value >> (left - take)) & ((1u64 << take) - 1);
            if let Some(last) = self.bytes.last_mut() {
                *last |= (chunk as u8) << (room - take);
            }
            self.used = (self.used + take) % 8;
            left -= take;
        }
    }

    pub fn bit(&mut self, on: bool) {
        self.write(u64::from(on), 1);
    }

    /// The bits written so far, the last byte padded with zeros.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Bytes the writer's buffer holds, spare capacity included.
    pub fn capacity(&self) -> usize {
        self.bytes.capacity()
    }
}

/// The bits ran out before a field did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncated;

/// Reads bit fields back from bytes.
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    bytes: &'a [u8],
    /// The next bit's position, from the start.
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        BitReader { bytes, pos: 0 }
    }

    /// Bits not yet read.
    pub fn remaining(&self) -> usize {
        (self.bytes.len() * 8).saturating_sub(self.pos)
    }

    /// Reads an `n`-bit field (n from 0 to 64).
    pub fn read(&mut self, n: u32) -> Result<u64, Truncated> {
        let n = n.min(64);
        if self.remaining() < n as usize {
            return Err(Truncated);
        }
        let mut value = 0u64;
        let mut left = n;
        while left > 0 {
            let byte = self.bytes.get(self.pos / 8).copied().ok_or(Truncated)?;
            let offset = (self.pos % 8) as u32;
            let take = (8 - offset).min(left);
            let chunk = (u64::from(byte) >> (8 - offset - take)) & ((1u64 << take) - 1);
            // Shifting by 64 would overflow; a 64-bit field starts from zero anyway.
            value = value.checked_shl(take).unwrap_or(0) | chunk;
            self.pos += take as usize;
            left -= take;
        }
        Ok(value)
    }

    pub fn bit(&mut self) -> Result<bool, Truncated> {
        Ok(self.read(1)? == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_every_width_come_back_in_order() {
        let mut w = BitWriter::default();
        let fields: Vec<(u64, u32)> = (0..=64)
            .map(|n| (0xDEAD_BEEF_CAFE_F00D_u64.rotate_left(n), n))
            .collect();
        for &(v, n) in &fields {
            w.write(v, n);
        }
        let total: u32 = fields.iter().map(|f| f.1).sum();
        assert_eq!(w.bytes().len(), total.div_ceil(8) as usize);
        let mut r = BitReader::new(w.bytes());
        for &(v, n) in &fields {
            let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
            assert_eq!(r.read(n), Ok(v & mask), "width {n}");
        }
        assert!(r.remaining() < 8);
    }

    #[test]
    fn reading_past_the_end_is_an_error() {
        let mut w = BitWriter::default();
        w.write(0b101, 3);
        let mut r = BitReader::new(w.bytes());
        assert_eq!(r.read(3), Ok(0b101));
        assert_eq!(r.read(5), Ok(0));
        assert_eq!(r.bit(), Err(Truncated));
        assert_eq!(BitReader::new(&[]).read(64), Err(Truncated));
    }
}
