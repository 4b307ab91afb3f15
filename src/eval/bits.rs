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
    for (word, values) in words.iter_mut().zip(truth.chunks(64)) {
        *word = values.chunks(8).enumerate().fold(0, |word, (byte, eight)| {
            word | u64::from(true_of_eight(eight)) << (8 * byte)
        });
    }
}

// `true_of_eight` reads the values as bits: false 0, true 1, unknown 2.
const _: () = assert!(FALSE == 0 && TRUE == 1 && UNKNOWN == 2);

/// One bit per value of up to eight truth values, set where the value is `TRUE`, eight at a
/// time in one integer: a true value is the only one with its low bit set and the next
/// clear, and the multiplication gathers each value's low bit into the top byte.
fn true_of_eight(values: &[u8]) -> u8 {
    let mut lanes = [0u8; 8];
    lanes[..values.len()].copy_from_slice(values);
    let lanes = u64::from_le_bytes(lanes);
    let ones = lanes & !(lanes >> 1) & 0x0101_0101_0101_0101;
    (ones.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
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
            let mut expected = 0u8;
            for (place, value) in values.iter_mut().enumerate() {
                *value = (mix % 3) as u8;
                mix /= 3;
                if *value == TRUE {
                    expected |= 1 << place;
                }
            }
            assert_eq!(true_of_eight(&values), expected, "{values:?}");
            assert_eq!(true_of_eight(&values[..3]), expected & 0b111, "{values:?}");
        }
    }

    #[test]
    fn a_union_in_place_adds_the_other_ids() {
        let mut a = of(130, &[0, 64]);
        a.union_with(&of(130, &[64, 129]));
        assert_eq!(a, of(130, &[0, 64, 129]));
    }
}
