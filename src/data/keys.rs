//! Sorting the keys of a table once, into dense ids in ascending byte order.
//!
//! Each row's key is summarised by its first sixteen bytes and its length, which decide
//! the order of almost every pair of keys without reading them again; only keys longer
//! than that and equal in their first sixteen bytes are compared in full. Short keys are
//! written back from the summary, so the sorted text is built without touching the file.

use std::cmp::Ordering;

use rayon::prelude::*;

use super::Keys;

/// Where one row's key is: in the file, or in the text of keys that had to be unescaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef {
    start: usize,
    len: usize,
}

/// Marks a [`KeyRef`] into the unescaped text rather than the file.
const UNESCAPED: usize = 1 << (usize::BITS - 1);

impl KeyRef {
    pub fn input(start: usize, len: usize) -> KeyRef {
        KeyRef { start, len }
    }

    pub fn unescaped(start: usize, len: usize) -> KeyRef {
        KeyRef {
            start: start | UNESCAPED,
            len,
        }
    }

    /// The same key after the unescaped text it points into moved `by` bytes later.
    pub fn shifted(self, by: usize) -> KeyRef {
        if self.start & UNESCAPED == 0 {
            self
        } else {
            KeyRef {
                start: self.start + by,
                len: self.len,
            }
        }
    }

    pub fn bytes<'a>(&self, input: &'a [u8], unescaped: &'a [u8]) -> &'a [u8] {
        let (source, start) = if self.start & UNESCAPED == 0 {
            (input, self.start)
        } else {
            (unescaped, self.start & !UNESCAPED)
        };
        source.get(start..start + self.len).unwrap_or_default()
    }
}

/// Keys that occur on more than one row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Repeated {
    pub count: usize,
    /// The first few, in key order.
    pub first: Vec<String>,
}

const PREFIX: usize = 16;
/// The `tail` of a key longer than the prefix.
const LONG: u32 = PREFIX as u32 + 1;

/// A row's key, summarised for sorting.
#[derive(Debug, Clone, Copy)]
struct Entry {
    high: u64,
    low: u64,
    /// The key's length when it fits in the prefix, [`LONG`] otherwise.
    tail: u32,
    row: u32,
}

impl Entry {
    fn new(key: &[u8], row: u32) -> Entry {
        let mut prefix = [0u8; PREFIX];
        let len = key.len().min(PREFIX);
        prefix[..len].copy_from_slice(&key[..len]);
        let (high, low) = prefix.split_at(8);
        Entry {
            high: u64::from_be_bytes(high.try_into().unwrap_or_default()),
            low: u64::from_be_bytes(low.try_into().unwrap_or_default()),
            tail: if key.len() > PREFIX { LONG } else { len as u32 },
            row,
        }
    }

    /// The key itself, when it fits in the prefix.
    fn short_key(&self, into: &mut Vec<u8>) {
        let mut prefix = [0u8; PREFIX];
        prefix[..8].copy_from_slice(&self.high.to_be_bytes());
        prefix[8..].copy_from_slice(&self.low.to_be_bytes());
        into.extend_from_slice(&prefix[..self.tail as usize]);
    }
}

/// Sorts the keys of `rows` (row `i` has key `keys[i]`) into distinct ids; `None` if the
/// keys are not UTF-8, which the loader checked before.
pub fn sort_keys(input: &[u8], unescaped: &[u8], keys: &[KeyRef]) -> Option<(Keys, Repeated)> {
    let key = |row: u32| keys[row as usize].bytes(input, unescaped);
    let compare = |a: &Entry, b: &Entry| {
        (a.high, a.low, a.tail)
            .cmp(&(b.high, b.low, b.tail))
            .then_with(|| {
                if a.tail == LONG {
                    key(a.row).cmp(key(b.row))
                } else {
                    Ordering::Equal
                }
            })
    };
    let mut entries: Vec<Entry> = keys
        .par_iter()
        .enumerate()
        .map(|(row, found)| Entry::new(found.bytes(input, unescaped), row as u32))
        .collect();
    entries.par_sort_unstable_by(compare);

    let mut text = Vec::new();
    let mut offsets = vec![0];
    let mut row_key = vec![0u32; keys.len()];
    let mut repeated = Repeated::default();
    let mut id = 0u32;
    let mut run = 0usize;
    for (i, entry) in entries.iter().enumerate() {
        let new_key = i == 0 || compare(&entries[i - 1], entry) != Ordering::Equal;
        if new_key {
            if i > 0 {
                id += 1;
            }
            if run > 1 {
                note_repeated(&mut repeated, &text, &offsets);
            }
            run = 0;
            if entry.tail == LONG {
                text.extend_from_slice(key(entry.row));
            } else {
                entry.short_key(&mut text);
            }
            offsets.push(text.len());
        }
        run += 1;
        row_key[entry.row as usize] = id;
    }
    if run > 1 {
        note_repeated(&mut repeated, &text, &offsets);
    }
    let text = String::from_utf8(text).ok()?;
    Some((
        Keys {
            text,
            offsets,
            row_key,
        },
        repeated,
    ))
}

/// Counts the last key written as repeated.
fn note_repeated(repeated: &mut Repeated, text: &[u8], offsets: &[usize]) {
    repeated.count += 1;
    if repeated.first.len() < super::parse::FIRST_FEW {
        let last = offsets.len() - 1;
        let key = &text[offsets[last - 1]..offsets[last]];
        repeated
            .first
            .push(String::from_utf8_lossy(key).into_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(keys: &[&str]) -> (Vec<String>, Vec<u32>, Repeated) {
        let mut input = Vec::new();
        let mut refs = Vec::new();
        for key in keys {
            refs.push(KeyRef::input(input.len(), key.len()));
            input.extend_from_slice(key.as_bytes());
        }
        let Some((sorted, repeated)) = sort_keys(&input, &[], &refs) else {
            panic!("keys are UTF-8");
        };
        let distinct = (0..sorted.len() as u32)
            .map(|id| sorted.get(id).to_string())
            .collect();
        (distinct, sorted.row_key, repeated)
    }

    #[test]
    fn keys_sort_by_bytes_and_rows_point_at_them() {
        let (distinct, row_key, repeated) = sorted(&["b", "a", "B", "a", "ab", "a\u{e9}"]);
        assert_eq!(distinct, ["B", "a", "ab", "a\u{e9}", "b"]);
        assert_eq!(row_key, vec![4, 1, 0, 1, 2, 3]);
        assert_eq!(
            repeated,
            Repeated {
                count: 1,
                first: vec!["a".to_string()]
            }
        );
    }

    #[test]
    fn long_keys_compare_past_the_prefix() {
        let a = "customer-00000000000000002";
        let b = "customer-00000000000000001";
        let c = "customer-0000000000000000";
        let (distinct, row_key, repeated) = sorted(&[a, b, c, a]);
        assert_eq!(distinct, [c, b, a]);
        assert_eq!(row_key, vec![2, 1, 0, 2]);
        assert_eq!(repeated.count, 1);
    }

    #[test]
    fn a_key_sorts_before_the_same_key_with_a_zero_byte() {
        let (distinct, _, repeated) = sorted(&["a\0", "a", "a\0\0"]);
        assert_eq!(distinct, ["a", "a\0", "a\0\0"]);
        assert_eq!(repeated.count, 0);
    }

    #[test]
    fn unescaped_keys_are_read_from_their_own_text() {
        let input = b"x";
        let unescaped = b"say \"hi\"";
        let refs = [KeyRef::input(0, 1), KeyRef::unescaped(0, 8)];
        let Some((keys, _)) = sort_keys(input, unescaped, &refs) else {
            panic!("keys are UTF-8");
        };
        assert_eq!(keys.get(0), "say \"hi\"");
        assert_eq!(keys.get(1), "x");
    }
}
