//! A fixed-size set of key ids, one bit each.

use super::vector::{FALSE, TRUE, UNKNOWN};

/// Bits over the ids `0..len`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bits {
    words: Vec<u64>,
    len: usize,
}

impl Bits {
    pub fn new(len: usize) -> Bits {
        Bits {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn set(&mut self, id: usize) {
        self.words[id / 64] |= 1 << (id % 64);
    }

    pub fn contains(&self, id: usize) -> bool {
        self.words[id / 64] & (1 << (id % 64)) != 0
    }

    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    fn zip_with(&self, other: &Bits, f: impl Fn(u64, u64) -> u64) -> Bits {
        let words = self
            .words
            .iter()
            .zip(&other.words)
            .map(|(&a, &b)| f(a, b))
            .collect();
        Bits {
            words,
            len: self.len,
        }
    }

    /// Adds the ids of `other`, which has the same length.
    pub fn union_with(&mut self, other: &Bits) {
        for (word, &theirs) in self.words.iter_mut().zip(&other.words) {
            *word |= theirs;
        }
    }

    pub fn union(&self, other: &Bits) -> Bits {
        self.zip_with(other, |a, b| a | b)
    }

    pub fn intersect(&self, other: &Bits) -> Bits {
        self.zip_with(other, |a, b| a & b)
    }

    pub fn except(&self, other: &Bits) -> Bits {
        self.zip_with(other, |a, b| a & !b)
    }

    /// Calls `f` with each id in the set among `ids`, ascending; `ids` starts at a
    /// multiple of 64.
    pub fn for_each_id_in(&self, ids: std::ops::Range<usize>, mut f: impl FnMut(usize)) {
        let first = ids.start / 64;
        for (index, word) in self.words_of(ids).into_iter().enumerate() {
            let mut rest = word;
            while rest != 0 {
                f((first + index) * 64 + rest.trailing_zeros() as usize);
                rest &= rest - 1;
            }
        }
    }

    /// How many ids among `ids` are in the set; `ids` starts at a multiple of 64.
    pub fn count_in(&self, ids: std::ops::Range<usize>) -> usize {
        let words = self.words_of(ids);
        words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The ids in the set, ascending.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(index, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let bit = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                Some(index * 64 + bit)
            })
        })
    }
}

impl Bits {
    /// The words of the ids from `first * 64` on, in runs of `run` words each, to be
    /// filled apart (by [`fill`]).
    pub fn runs_mut(&mut self, run: usize) -> std::slice::ChunksMut<'_, u64> {
        self.words.chunks_mut(run)
    }

    /// The words holding ids `ids` (which start at a multiple of 64), without the ids past
    /// its end.
    pub fn words_of(&self, ids: std::ops::Range<usize>) -> Vec<u64> {
        let mut words = self.words[ids.start / 64..ids.end.div_ceil(64)].to_vec();
        if !ids.end.is_multiple_of(64) {
            if let Some(last) = words.last_mut() {
                *last &= (1 << (ids.end % 64)) - 1;
            }
        }
        words
    }

    /// Every id of `0..len`.
    pub fn full(len: usize) -> Bits {
        let mut words = vec![u64::MAX; len.div_ceil(64)];
        if !len.is_multiple_of(64) {
            if let Some(last) = words.last_mut() {
                *last = (1 << (len % 64)) - 1;
            }
        }
        Bits { words, len }
    }
}

/// Sets the bits of `words` from one truth value per id, starting at the first bit: an id
/// is in when its value is `TRUE`. Values past the end leave their bits clear.
pub fn fill(words: &mut [u64], truth: &[u8]) {
    fill_where(words, truth, TRUE);
}

/// As [`fill`], for the values that are `UNKNOWN`.
pub fn fill_unknown(words: &mut [u64], truth: &[u8]) {
    fill_where(words, truth, UNKNOWN);
}

fn fill_where(words: &mut [u64], truth: &[u8], wanted: u8) {
    for (word, values) in words.iter_mut().zip(truth.chunks(64)) {
        *word = match values.try_into() {
            // A whole word's values, the usual case, with no partial eights to pad.
            Ok(whole) => {
                let whole: &[u8; 64] = whole;
                whole
                    .chunks_exact(8)
                    .enumerate()
                    .fold(0, |word, (byte, eight)| {
                        word | u64::from(eight_where(eight, wanted)) << (8 * byte)
                    })
            }
            Err(_) => values.chunks(8).enumerate().fold(0, |word, (byte, eight)| {
                word | u64::from(eight_where(eight, wanted)) << (8 * byte)
            }),
        };
    }
}

// `eight_where` reads the values as bits: false 0, true 1, unknown 2.
const _: () = assert!(FALSE == 0 && TRUE == 1 && UNKNOWN == 2);

/// One bit per value of up to eight truth values, set where the value is `wanted` (true or
/// unknown), eight at a time in one integer: a true value is the only one with its low bit
/// set and the next clear, an unknown one the other way round, and the multiplication
/// gathers each value's low bit into the top byte.
fn eight_where(values: &[u8], wanted: u8) -> u8 {
    let lanes = match values.try_into() {
        Ok(eight) => u64::from_le_bytes(eight),
        Err(_) => {
            let mut lanes = [0u8; 8];
            lanes[..values.len()].copy_from_slice(values);
            u64::from_le_bytes(lanes)
        }
    };
    let ones = if wanted == TRUE {
        lanes & !(lanes >> 1)
    } else {
        (lanes >> 1) & !lanes
    } & 0x0101_0101_0101_0101;
    low_bits(ones)
}

/// The low bit of each of eight bytes that are 0 or 1, as one byte: the multiplication adds
/// byte `i`'s bit at bit `56 + i`, and no two sums meet.
fn low_bits(ones: u64) -> u8 {
    (ones.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
}

/// One bit per byte of up to 64 bytes that are 0 or 1: bit `i` is byte `i`.
pub fn pack(bytes: &[u8; 64]) -> u64 {
    bytes
        .chunks_exact(8)
        .enumerate()
        .fold(0, |word, (byte, eight)| {
            let lanes = u64::from_le_bytes(eight.try_into().expect("eight bytes"));
            word | u64::from(low_bits(lanes)) << (8 * byte)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(len: usize, ids: &[usize]) -> Bits {
        let mut bits = Bits::new(len);
        ids.iter().for_each(|&id| bits.set(id));
        bits
    }

    #[test]
    fn set_algebra_on_ids() {
        let a = of(130, &[0, 5, 64, 129]);
        let b = of(130, &[5, 64, 100]);
        assert_eq!(a.union(&b).iter().collect::<Vec<_>>(), [0, 5, 64, 100, 129]);
        assert_eq!(a.intersect(&b).iter().collect::<Vec<_>>(), [5, 64]);
        assert_eq!(a.except(&b).iter().collect::<Vec<_>>(), [0, 129]);
        assert_eq!(a.count(), 4);
        assert!(a.contains(129) && !a.contains(128));
    }

    #[test]
    fn full_sets_exactly_the_ids_below_len() {
        assert_eq!(Bits::full(70).count(), 70);
        assert_eq!(Bits::full(64).count(), 64);
        assert_eq!(Bits::full(0).count(), 0);
        assert!(Bits::full(70).contains(69));
    }

    #[test]
    fn filling_runs_takes_the_true_values_only() {
        // 150 ids in runs of two words: ids 0..128, then 128..150.
        let mut bits = Bits::new(150);
        let truth: Vec<u8> = (0..150).map(|id| [1, 0, 2][id % 3]).collect();
        let mut runs = bits.runs_mut(2);
        fill(runs.next().unwrap(), &truth[..128]);
        fill(runs.next().unwrap(), &truth[128..]);
        assert!(runs.next().is_none());
        let expected: Vec<usize> = (0..150).step_by(3).collect();
        assert_eq!(bits.iter().collect::<Vec<_>>(), expected);
        assert_eq!(bits.count(), 50);
    }

    #[test]
    fn eight_values_give_a_bit_for_each_true_one() {
        // Every mix of false, true and unknown in eight places, against one value at a time.
        for mut mix in 0..3u32.pow(8) {
            let mut values = [0u8; 8];
            let (mut true_ones, mut unknown_ones) = (0u8, 0u8);
            for (place, value) in values.iter_mut().enumerate() {
                *value = [FALSE, TRUE, UNKNOWN][(mix % 3) as usize];
                mix /= 3;
                match *value {
                    TRUE => true_ones |= 1 << place,
                    UNKNOWN => unknown_ones |= 1 << place,
                    _ => {}
                }
            }
            assert_eq!(eight_where(&values, TRUE), true_ones, "{values:?}");
            assert_eq!(eight_where(&values, UNKNOWN), unknown_ones, "{values:?}");
            assert_eq!(eight_where(&values[..3], TRUE), true_ones & 0b111);
            assert_eq!(eight_where(&values[..3], UNKNOWN), unknown_ones & 0b111);
        }
    }

    #[test]
    fn packing_bytes_gives_a_bit_for_each_one() {
        let mut bytes = [0u8; 64];
        for place in [0, 1, 7, 8, 30, 62, 63] {
            bytes[place] = 1;
        }
        let expected = [0, 1, 7, 8, 30, 62, 63]
            .iter()
            .fold(0u64, |w, p| w | 1 << p);
        assert_eq!(pack(&bytes), expected);
        assert_eq!(pack(&[1; 64]), u64::MAX);
        assert_eq!(pack(&[0; 64]), 0);
    }

    #[test]
    fn a_union_in_place_adds_the_other_ids() {
        let mut a = of(130, &[0, 64]);
        a.union_with(&of(130, &[64, 129]));
        assert_eq!(a, of(130, &[0, 64, 129]));
    }
}
