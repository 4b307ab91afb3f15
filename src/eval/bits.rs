//! A fixed-size set of key ids, one bit each.

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
    fn a_union_in_place_adds_the_other_ids() {
        let mut a = of(130, &[0, 64]);
        a.union_with(&of(130, &[64, 129]));
        assert_eq!(a, of(130, &[0, 64, 129]));
    }
}
