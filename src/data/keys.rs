//! Sorting the keys of a table once, into dense ids in ascending byte order.
//!
//! While a chunk is read, its keys are copied in row order. Ids are then given by one of
//! three roads. When every key fits in sixteen bytes and keys use few distinct bytes at
//! each place (ids such as `C00012345` or `48213`), each key becomes an integer in the
//! same order. If keys also have one length and the integers are few for the rows, a
//! bitmap over them gives ids without sorting (see [`Dense`]); otherwise each integer is
//! packed with its row into one `u64`, and those are sorted. Other keys are summarised by
//! their first sixteen bytes and length, spread into buckets by the highest bits in which
//! they differ, one group of buckets per thread, and each bucket is sorted on its own;
//! only keys that are equal in their first sixteen bytes are compared in full. Either way,
//! ids are then given in order and the distinct keys written once.

use std::cmp::Ordering;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use super::{KeySpans, Keys};

const PREFIX: usize = 16;

/// The keys of one chunk, in row order; rows are counted from the chunk's start. Keys are
/// copied out of the file's bytes, so that a chunk's bytes can go once it is read.
#[derive(Debug, Default)]
pub struct ChunkKeys {
    /// The keys one after another.
    text: Vec<u8>,
    count: usize,
    /// The width of every key, while all have one width.
    width: usize,
    /// Where each key ends in `text`, once keys of different widths are seen.
    ends: Vec<usize>,
}

impl ChunkKeys {
    pub fn with_capacity(rows: usize) -> ChunkKeys {
        ChunkKeys {
            // Room for ids of about ten bytes.
            text: Vec::with_capacity(rows.saturating_mul(10)),
            ..ChunkKeys::default()
        }
    }

    /// Adds the key of the next row.
    pub fn push(&mut self, key: &[u8]) {
        self.text.extend_from_slice(key);
        if self.count == 0 {
            self.width = key.len();
        } else if self.ends.is_empty() && key.len() != self.width {
            self.ends = (1..=self.count).map(|row| row * self.width).collect();
        }
        if !self.ends.is_empty() {
            self.ends.push(self.text.len());
        }
        self.count += 1;
    }

    pub fn len(&self) -> usize {
        self.count
    }

    /// The key of `row`.
    pub fn key(&self, row: usize) -> &[u8] {
        let span = if self.ends.is_empty() {
            row * self.width..(row + 1) * self.width
        } else {
            let start = if row == 0 { 0 } else { self.ends[row - 1] };
            start..self.ends[row]
        };
        self.text.get(span).unwrap_or_default()
    }
}

/// Every chunk's keys, with rows counted from the table's start.
struct AllKeys<'a> {
    chunks: &'a [ChunkKeys],
    /// The table row of each chunk's first row.
    bases: Vec<usize>,
    rows: usize,
}

impl<'a> AllKeys<'a> {
    fn new(chunks: &'a [ChunkKeys]) -> AllKeys<'a> {
        let mut bases = Vec::with_capacity(chunks.len());
        let mut rows = 0;
        for chunk in chunks {
            bases.push(rows);
            rows += chunk.len();
        }
        AllKeys {
            chunks,
            bases,
            rows,
        }
    }

    /// The key of table row `row`.
    fn key(&self, row: usize) -> &'a [u8] {
        let chunk = self
            .bases
            .partition_point(|&base| base <= row)
            .saturating_sub(1);
        match (self.chunks.get(chunk), self.bases.get(chunk)) {
            (Some(keys), Some(&base)) => keys.key(row - base),
            _ => &[],
        }
    }

    /// Calls `each(chunk, part)` for the parts of `out` that line up with the chunks, in
    /// parallel; `out` has one item per row.
    fn by_chunk<T: Send>(&self, out: &mut [T], each: impl Fn(usize, &mut [T]) + Sync) {
        let mut parts = Vec::with_capacity(self.chunks.len());
        let mut rest = out;
        for (chunk, keys) in self.chunks.iter().enumerate() {
            let (part, later) = rest.split_at_mut(keys.len().min(rest.len()));
            parts.push((chunk, part));
            rest = later;
        }
        parts
            .into_par_iter()
            .for_each(|(chunk, part)| each(chunk, part));
    }
}

/// Keys that occur on more than one row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Repeated {
    pub count: usize,
    /// The first few, in key order.
    pub first: Vec<String>,
}

/// Sorts the keys of every chunk into distinct ids; `None` if the keys are not UTF-8,
/// which the loader checked before. When the keys are those of a table in `earlier`, the
/// table's key text is shared rather than kept twice.
pub fn sort_keys(chunks: &[ChunkKeys], earlier: &[&Keys]) -> Option<(Keys, Repeated)> {
    let keys = AllKeys::new(chunks);
    let alphabet = Alphabet::of(&keys);
    let (sorted, repeated) = match alphabet {
        Some(alphabet) => match Dense::of(&alphabet, keys.rows) {
            Some(dense) => by_dense(&dense, &keys, earlier),
            None => by_code(&alphabet, &keys),
        },
        None => by_prefix(&keys),
    };
    let text = match sorted.text {
        Text::Shared(text) => text,
        Text::Own(bytes) => {
            let same = earlier
                .iter()
                .find(|keys| keys.spans == sorted.spans && keys.text.as_bytes() == bytes);
            match same {
                Some(keys) => Arc::clone(&keys.text),
                None => Arc::new(String::from_utf8(bytes).ok()?),
            }
        }
    };
    Some((
        Keys {
            text,
            spans: sorted.spans,
            row_key: sorted.row_key,
        },
        repeated,
    ))
}

/// The text of sorted keys: written anew, or that of a table loaded before.
enum Text {
    Own(Vec<u8>),
    Shared(Arc<String>),
}

/// [`Keys`] before its text is checked to be UTF-8.
struct SortedKeys {
    text: Text,
    spans: KeySpans,
    row_key: Vec<u32>,
}

/// The bytes that keys have at each place of their prefix, when every key fits in the
/// prefix. Numbering the values found at each place turns a key into a number with one
/// field of bits per place where keys differ (its length being the last), in the same
/// order as the keys; when that number is small enough, keys sort as plain integers.
struct Alphabet {
    /// The places where keys differ, most significant first.
    places: Vec<Place>,
    /// The lengths keys have, numbered in the lowest bits.
    lengths: Vec<u8>,
    length_mask: u64,
    /// Every key's bytes at the places where all keys agree.
    template: [u8; PREFIX],
}

struct Place {
    index: usize,
    values: Vec<u8>,
    rank: [u8; 256],
    shift: u32,
    mask: u64,
}

/// Which byte values occur at each place, and which lengths.
struct Seen {
    bytes: [[u64; 4]; PREFIX],
    lengths: u32,
    long: bool,
}

impl Seen {
    fn new() -> Seen {
        Seen {
            bytes: [[0; 4]; PREFIX],
            lengths: 0,
            long: false,
        }
    }

    fn add(&mut self, key: &[u8]) {
        if key.len() > PREFIX {
            self.long = true;
            return;
        }
        // Past its length a key has zeros; `Alphabet::of` adds them.
        for (place, &byte) in key.iter().enumerate() {
            self.bytes[place][usize::from(byte >> 6)] |= 1 << (byte & 63);
        }
        self.lengths |= 1 << key.len();
    }

    fn union(mut self, other: Seen) -> Seen {
        for (mine, theirs) in self.bytes.iter_mut().zip(other.bytes) {
            for (mine, theirs) in mine.iter_mut().zip(theirs) {
                *mine |= theirs;
            }
        }
        self.lengths |= other.lengths;
        self.long |= other.long;
        self
    }

    fn has(&self, place: usize, byte: u8) -> bool {
        self.bytes[place][usize::from(byte >> 6)] & (1 << (byte & 63)) != 0
    }
}

/// Bits that hold the numbers `0..count`.
fn bits_for(count: usize) -> u32 {
    usize::BITS - count.saturating_sub(1).leading_zeros()
}

impl Alphabet {
    /// The alphabet of the keys, unless some key is longer than the prefix or the numbers
    /// would not fit in a `u64` beside a row number.
    fn of(keys: &AllKeys<'_>) -> Option<Alphabet> {
        let rows = keys.rows;
        let mut seen = (0..keys.chunks.len())
            .into_par_iter()
            .map(|chunk| {
                let mut seen = Seen::new();
                for row in 0..keys.chunks[chunk].len() {
                    seen.add(keys.chunks[chunk].key(row));
                    if seen.long {
                        break;
                    }
                }
                seen
            })
            .reduce(Seen::new, Seen::union);
        if seen.long || rows == 0 {
            return None;
        }
        for place in seen.lengths.trailing_zeros() as usize..PREFIX {
            seen.bytes[place][0] |= 1;
        }
        let lengths: Vec<u8> = (0..=PREFIX as u8)
            .filter(|&len| seen.lengths & (1 << len) != 0)
            .collect();
        let mut shift = bits_for(lengths.len());
        let length_mask = (1 << shift) - 1;
        let mut template = [0u8; PREFIX];
        let mut places = Vec::new();
        for index in (0..PREFIX).rev() {
            let values: Vec<u8> = (0..=255u8).filter(|&byte| seen.has(index, byte)).collect();
            if values.len() == 1 {
                template[index] = values[0];
                continue;
            }
            let mut rank = [0u8; 256];
            for (position, &byte) in values.iter().enumerate() {
                rank[usize::from(byte)] = position as u8;
            }
            let bits = bits_for(values.len());
            places.push(Place {
                index,
                values,
                rank,
                shift,
                mask: (1 << bits) - 1,
            });
            shift += bits;
        }
        places.reverse();
        (shift + bits_for(rows) <= 64).then_some(Alphabet {
            places,
            lengths,
            length_mask,
            template,
        })
    }

    fn code(&self, key: &[u8]) -> u64 {
        let mut code = 0;
        for place in &self.places {
            let byte = key.get(place.index).copied().unwrap_or_default();
            code |= u64::from(place.rank[usize::from(byte)]) << place.shift;
        }
        let length = self
            .lengths
            .iter()
            .position(|&len| usize::from(len) == key.len());
        code | length.unwrap_or_default() as u64
    }

    /// The length of the key whose number is `code`.
    fn length(&self, code: u64) -> usize {
        let length = self.lengths.get((code & self.length_mask) as usize);
        usize::from(length.copied().unwrap_or_default())
    }

    /// The key whose number is `code`.
    fn key(&self, code: u64) -> KeyText<'static> {
        let mut bytes = self.template;
        for place in &self.places {
            let digit = ((code >> place.shift) & place.mask) as usize;
            bytes[place.index] = place.values.get(digit).copied().unwrap_or_default();
        }
        KeyText::Short(bytes, self.length(code))
    }
}

/// Keys of one length numbered densely: a key's number has one digit per place where keys
/// differ, in base the count of values found there (`C00012345` to `C09999999` gives the
/// numbers below 10^8). When there are few more numbers than rows, a bitmap over the
/// numbers replaces sorting: a key's id is how many keys have a lower number.
struct Dense<'a> {
    alphabet: &'a Alphabet,
    width: usize,
    /// One more than the highest number.
    span: u64,
    /// The places in groups, least significant first, to turn numbers back into keys.
    groups: Vec<Group>,
}

/// Neighbouring places turned back into bytes together, by a table.
struct Group {
    /// How many numbers the group's places make.
    base: u64,
    /// `⌊2^64 / base⌋ + 1`: multiplying a number below 2^32 by it and keeping the high
    /// bits divides the number by `base`, without a division instruction.
    inverse: u128,
    /// For each number of the group, its places' bytes, with zeros elsewhere.
    bytes: Vec<u128>,
}

/// The most numbers a group's table holds.
const GROUP_TABLE: u64 = 1 << 12;

impl Group {
    fn new(alphabet: &Alphabet, places: &[&Place]) -> Group {
        let base: u64 = places
            .iter()
            .map(|place| place.values.len() as u64)
            .product();
        let bytes = (0..base)
            .map(|mut number| {
                let mut bytes = [0u8; PREFIX];
                for place in places {
                    let radix = place.values.len() as u64;
                    bytes[place.index] = place.values[(number % radix) as usize];
                    number /= radix;
                }
                u128::from_ne_bytes(bytes)
            })
            .collect();
        debug_assert!(alphabet.places.len() >= places.len());
        Group {
            base,
            inverse: u128::from(u64::MAX / base) + 1,
            bytes,
        }
    }
}

/// At most this many numbers a row: a bitmap of 8 bytes a row.
const DENSE_BITS_PER_ROW: u64 = 64;

impl<'a> Dense<'a> {
    fn of(alphabet: &'a Alphabet, rows: usize) -> Option<Dense<'a>> {
        let [width] = alphabet.lengths[..] else {
            return None;
        };
        let span = alphabet.places.iter().try_fold(1u64, |span, place| {
            span.checked_mul(place.values.len() as u64)
        })?;
        let room = (rows as u64)
            .max(1 << 12)
            .saturating_mul(DENSE_BITS_PER_ROW);
        if span > room || span > u64::from(u32::MAX) {
            return None;
        }
        let mut groups = Vec::new();
        let mut group: Vec<&Place> = Vec::new();
        let mut base = 1;
        for place in alphabet.places.iter().rev() {
            let radix = place.values.len() as u64;
            if base * radix > GROUP_TABLE && !group.is_empty() {
                groups.push(Group::new(alphabet, &group));
                group.clear();
                base = 1;
            }
            group.push(place);
            base *= radix;
        }
        if !group.is_empty() {
            groups.push(Group::new(alphabet, &group));
        }
        Some(Dense {
            alphabet,
            width: usize::from(width),
            span,
            groups,
        })
    }

    /// The number of `key`, which has the alphabet's length.
    fn number(&self, key: &[u8]) -> u64 {
        self.alphabet.places.iter().fold(0, |number, place| {
            let byte = key.get(place.index).copied().unwrap_or_default();
            number * place.values.len() as u64 + u64::from(place.rank[usize::from(byte)])
        })
    }

    /// The key whose number is `number`.
    fn key(&self, mut number: u64) -> [u8; PREFIX] {
        let mut bytes = u128::from_ne_bytes(self.alphabet.template);
        for group in &self.groups {
            let quotient = ((u128::from(number) * group.inverse) >> 64) as u64;
            let digits = (number - quotient * group.base) as usize;
            bytes |= group.bytes.get(digits).copied().unwrap_or_default();
            number = quotient;
        }
        bytes.to_ne_bytes()
    }
}

/// Numbers the keys densely (see [`Dense`]): marks each key's number in a bitmap, then
/// gives each row the count of marks below its key's.
fn by_dense(dense: &Dense<'_>, keys: &AllKeys<'_>, earlier: &[&Keys]) -> (SortedKeys, Repeated) {
    let words = dense.span.div_ceil(64) as usize;
    let seen: Vec<AtomicU64> = (0..words).map(|_| AtomicU64::new(0)).collect();
    // Keys seen twice, marked in a second bitmap made at the first repeat.
    let twice: OnceLock<Vec<AtomicU64>> = OnceLock::new();
    let repeated_count = AtomicUsize::new(0);
    // Each row's number first, then its id in the same place.
    let mut row_key = vec![0u32; keys.rows];
    keys.by_chunk(&mut row_key, |chunk, part| {
        let chunk_keys = &keys.chunks[chunk];
        let mut repeated = 0;
        for (row, slot) in part.iter_mut().enumerate() {
            let number = dense.number(chunk_keys.key(row));
            *slot = number as u32;
            let (word, bit) = ((number / 64) as usize, 1u64 << (number % 64));
            if seen[word].fetch_or(bit, AtomicOrdering::Relaxed) & bit != 0
                && twice.get_or_init(|| (0..words).map(|_| AtomicU64::new(0)).collect())[word]
                    .fetch_or(bit, AtomicOrdering::Relaxed)
                    & bit
                    == 0
            {
                repeated += 1;
            }
        }
        repeated_count.fetch_add(repeated, AtomicOrdering::Relaxed);
    });
    let seen: Vec<u64> = seen.into_iter().map(AtomicU64::into_inner).collect();
    let mut below = Vec::with_capacity(words);
    let mut count = 0u32;
    for word in &seen {
        below.push(count);
        count += word.count_ones();
    }
    row_key.par_chunks_mut(1 << 16).for_each(|part| {
        for slot in part {
            let (word, bit) = ((*slot / 64) as usize, *slot % 64);
            *slot = below[word] + (seen[word] & ((1u64 << bit) - 1)).count_ones();
        }
    });

    // The bitmap in stretches, each with the id of its first key, read in parallel.
    let width = dense.width;
    const STRETCH: usize = 1 << 12;
    let mut stretches = Vec::with_capacity(words.div_ceil(STRETCH));
    let mut first_id = 0usize;
    for first in (0..words).step_by(STRETCH) {
        let last = (first + STRETCH).min(words);
        stretches.push((first..last, first_id));
        first_id += seen[first..last]
            .iter()
            .map(|word| word.count_ones() as usize)
            .sum::<usize>();
    }
    let each_key = |words: Range<usize>, f: &mut dyn FnMut(&[u8])| {
        for word in words {
            let mut bits = seen[word];
            while bits != 0 {
                let number = word as u64 * 64 + u64::from(bits.trailing_zeros());
                bits &= bits - 1;
                f(&dense.key(number)[..width]);
            }
        }
    };
    // A table loaded before with the same keys lends its text.
    let spans = KeySpans::Fixed {
        width,
        count: count as usize,
    };
    let same = earlier.iter().find(|keys| {
        keys.spans == spans
            && stretches.par_iter().all(|(words, first_id)| {
                let mut at = first_id * width;
                let mut equal = true;
                each_key(words.clone(), &mut |key| {
                    equal &= keys.text.as_bytes().get(at..at + width) == Some(key);
                    at += width;
                });
                equal
            })
    });
    let text = match same {
        Some(keys) => Text::Shared(Arc::clone(&keys.text)),
        None => {
            let mut text = vec![0u8; count as usize * width];
            let mut parts = Vec::with_capacity(stretches.len());
            let mut rest = text.as_mut_slice();
            for (index, (words, first_id)) in stretches.iter().enumerate() {
                let next = stretches.get(index + 1).map_or(count as usize, |s| s.1);
                let (part, later) = rest.split_at_mut((next - first_id) * width);
                parts.push((words.clone(), part));
                rest = later;
            }
            parts.into_par_iter().for_each(|(words, part)| {
                let mut at = 0;
                each_key(words, &mut |key| {
                    part[at..at + width].copy_from_slice(key);
                    at += width;
                });
            });
            Text::Own(text)
        }
    };

    let mut repeated = Repeated {
        count: repeated_count.into_inner(),
        first: Vec::new(),
    };
    for (word, bits) in twice
        .get()
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .enumerate()
    {
        let mut bits = bits.load(AtomicOrdering::Relaxed);
        while bits != 0 && repeated.first.len() < super::parse::FIRST_FEW {
            let number = word as u64 * 64 + u64::from(bits.trailing_zeros());
            bits &= bits - 1;
            let key = dense.key(number);
            repeated
                .first
                .push(String::from_utf8_lossy(&key[..width]).into_owned());
        }
        if repeated.first.len() == super::parse::FIRST_FEW {
            break;
        }
    }
    let sorted = SortedKeys {
        text,
        spans,
        row_key,
    };
    (sorted, repeated)
}

/// Sorts keys as the numbers of their alphabet, each packed with its row in one `u64`.
fn by_code(alphabet: &Alphabet, keys: &AllKeys<'_>) -> (SortedKeys, Repeated) {
    let row_bits = bits_for(keys.rows);
    let row_mask = (1u64 << row_bits) - 1;
    let mut packed = vec![0u64; keys.rows];
    keys.by_chunk(&mut packed, |chunk, part| {
        let base = keys.bases[chunk];
        for (row, slot) in part.iter_mut().enumerate() {
            let code = alphabet.code(keys.chunks[chunk].key(row));
            *slot = (code << row_bits) | (base + row) as u64;
        }
    });
    packed.par_sort_unstable();
    assign_ids(
        &packed,
        |a, b| a >> row_bits == b >> row_bits,
        |value| (value & row_mask) as usize,
        |value| alphabet.length(value >> row_bits),
        |value| alphabet.key(value >> row_bits),
    )
}

/// A row's key, summarised for sorting by its first sixteen bytes and length.
#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    prefix: u128,
    /// The key's length, or [`LONG`] when it does not fit in the prefix.
    tail: u32,
    row: u32,
}

/// The `tail` of a key longer than the prefix.
const LONG: u32 = PREFIX as u32 + 1;

impl Entry {
    fn new(key: &[u8], row: usize) -> Entry {
        let mut prefix = [0u8; PREFIX];
        for (into, &byte) in prefix.iter_mut().zip(key) {
            *into = byte;
        }
        let tail = if key.len() > PREFIX {
            LONG
        } else {
            key.len() as u32
        };
        Entry {
            prefix: u128::from_be_bytes(prefix),
            tail,
            row: row as u32,
        }
    }

    fn compare(&self, other: &Entry, keys: &AllKeys<'_>) -> Ordering {
        (self.prefix, self.tail)
            .cmp(&(other.prefix, other.tail))
            .then_with(|| {
                if self.tail == LONG {
                    keys.key(self.row as usize)
                        .cmp(keys.key(other.row as usize))
                } else {
                    Ordering::Equal
                }
            })
    }

    fn key<'a>(&self, keys: &AllKeys<'a>) -> KeyText<'a> {
        if self.tail == LONG {
            KeyText::Long(keys.key(self.row as usize))
        } else {
            KeyText::Short(self.prefix.to_be_bytes(), self.tail as usize)
        }
    }

    fn len(&self, keys: &AllKeys<'_>) -> usize {
        if self.tail == LONG {
            keys.key(self.row as usize).len()
        } else {
            self.tail as usize
        }
    }
}

/// Which bits of a key's prefix pick its bucket; buckets in order hold keys in order.
#[derive(Debug, Clone, Copy)]
struct Buckets {
    shift: u32,
    mask: u128,
}

impl Buckets {
    /// Buckets by the highest `bits` bits in which the prefixes in `min..=max` can differ:
    /// above them, every prefix is the same.
    fn new(min: u128, max: u128, bits: u32) -> Buckets {
        let differing = 128 - (min ^ max).leading_zeros();
        Buckets {
            shift: differing.saturating_sub(bits),
            mask: (1u128 << bits) - 1,
        }
    }

    fn of(&self, entry: &Entry) -> usize {
        (entry.prefix.checked_shr(self.shift).unwrap_or(0) & self.mask) as usize
    }
}

/// Sorts keys by their summaries, in buckets.
fn by_prefix(keys: &AllKeys<'_>) -> (SortedKeys, Repeated) {
    let sorted = sort_entries(keys);
    assign_ids(
        &sorted,
        |a, b| a.compare(b, keys) == Ordering::Equal,
        |entry| entry.row as usize,
        |entry| entry.len(keys),
        |entry| entry.key(keys),
    )
}

/// Every row's entry, in key order.
fn sort_entries(keys: &AllKeys<'_>) -> Vec<Entry> {
    let rows = keys.rows;
    if rows == 0 {
        return Vec::new();
    }
    let entries = |chunk: usize| {
        let base = keys.bases[chunk];
        let chunk_keys = &keys.chunks[chunk];
        (0..chunk_keys.len()).map(move |row| Entry::new(chunk_keys.key(row), base + row))
    };
    let chunks = 0..keys.chunks.len();
    let (min, max) = chunks
        .clone()
        .into_par_iter()
        .map(|chunk| {
            entries(chunk).fold((u128::MAX, 0), |(min, max), entry| {
                (min.min(entry.prefix), max.max(entry.prefix))
            })
        })
        .reduce(|| (u128::MAX, 0), |a, b| (a.0.min(b.0), a.1.max(b.1)));
    // About 32 keys a bucket, at most 65,536 buckets.
    let bits = (rows / 32).max(1).ilog2().min(16);
    let buckets = Buckets::new(min, max, bits);
    let counts = chunks
        .clone()
        .into_par_iter()
        .map(|chunk| {
            let mut counts = vec![0usize; 1 << bits];
            entries(chunk).for_each(|entry| counts[buckets.of(&entry)] += 1);
            counts
        })
        .reduce(
            || vec![0usize; 1 << bits],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                a
            },
        );

    // Contiguous runs of buckets with about the same number of keys, one a thread.
    let groups = rayon::current_num_threads().max(1);
    let mut cuts = vec![0usize];
    let mut seen = 0usize;
    for (bucket, &count) in counts.iter().enumerate() {
        seen += count;
        if seen * groups >= rows * cuts.len() && cuts.len() < groups {
            cuts.push(bucket + 1);
        }
    }
    cuts.push(counts.len());
    cuts.dedup();

    let mut sorted = vec![Entry::default(); rows];
    let mut parts = Vec::new();
    let mut rest = sorted.as_mut_slice();
    for range in cuts.windows(2) {
        let size: usize = counts[range[0]..range[1]].iter().sum();
        let (part, later) = rest.split_at_mut(size.min(rest.len()));
        parts.push((range[0]..range[1], part));
        rest = later;
    }
    parts.into_par_iter().for_each(|(range, part)| {
        let mut next = Vec::with_capacity(range.len());
        let mut at = 0;
        for &count in &counts[range.clone()] {
            next.push(at);
            at += count;
        }
        for entry in chunks.clone().flat_map(entries) {
            let bucket = buckets.of(&entry);
            if range.contains(&bucket) {
                let slot = &mut next[bucket - range.start];
                if let Some(place) = part.get_mut(*slot) {
                    *place = entry;
                }
                *slot += 1;
            }
        }
        let mut start = 0;
        for &count in &counts[range] {
            let end = (start + count).min(part.len());
            part[start..end].sort_unstable_by(|a, b| a.compare(b, keys));
            start = end;
        }
    });
    sorted
}

/// A key to write: short ones in a buffer of the prefix's size, to be copied whole.
enum KeyText<'a> {
    Short([u8; PREFIX], usize),
    Long(&'a [u8]),
}

impl KeyText<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            KeyText::Short(bytes, len) => &bytes[..*len],
            KeyText::Long(bytes) => bytes,
        }
    }

    /// Writes the key at `at` in `text` and returns where it ends. A short key is copied
    /// as a whole buffer where there is room, a copy of fixed size rather than a call to
    /// `memcpy`; the bytes past its end are overwritten by the keys that follow.
    fn write(&self, text: &mut [u8], at: usize) -> usize {
        if let KeyText::Short(bytes, len) = self {
            if let Some(room) = text.get_mut(at..at + PREFIX) {
                room.copy_from_slice(bytes);
                return at + len;
            }
        }
        let bytes = self.bytes();
        let end = (at + bytes.len()).min(text.len());
        if let Some(room) = text.get_mut(at..end) {
            room.copy_from_slice(&bytes[..end - at]);
        }
        end
    }
}

/// `(row, id)` pairs, gathered by blocks of [`ROW_BLOCK_BITS`] rows.
type RowIds = Vec<Vec<(u32, u32)>>;

/// Rows whose ids are written together: a run that fits in a core's cache.
const ROW_BLOCK_BITS: u32 = 14;

/// Gives each run of equal keys in `sorted` the next id, writes the distinct keys, and
/// notes which keys repeat. Parts of the sorted list are handled in parallel, each
/// writing its keys into its own stretch of the text. Row ids are first gathered by
/// blocks of rows and then written block by block, which keeps the writes in cache.
fn assign_ids<'a, T: Sync>(
    sorted: &[T],
    same: impl Fn(&T, &T) -> bool + Sync,
    row_of: impl Fn(&T) -> usize + Sync,
    key_len: impl Fn(&T) -> usize + Sync,
    key_text: impl Fn(&T) -> KeyText<'a> + Sync,
) -> (SortedKeys, Repeated) {
    let rows = sorted.len();
    let starts_key = |i: usize| i == 0 || !same(&sorted[i - 1], &sorted[i]);
    let ranges = key_runs(rows, rayon::current_num_threads().max(1) * 2, starts_key);
    let sizes: Vec<(usize, usize)> = ranges
        .par_iter()
        .map(|range| {
            let starts = range.clone().filter(|&i| starts_key(i));
            starts.fold((0, 0), |(keys, bytes), i| {
                (keys + 1, bytes + key_len(&sorted[i]))
            })
        })
        .collect();
    let keys: usize = sizes.iter().map(|size| size.0).sum();
    let bytes: usize = sizes.iter().map(|size| size.1).sum();

    let mut text = vec![0u8; bytes];
    let mut offsets = vec![0usize; keys + 1];
    let mut jobs = Vec::with_capacity(ranges.len());
    let (mut text_rest, mut offsets_rest) = (text.as_mut_slice(), &mut offsets[1..]);
    let (mut first_id, mut first_byte) = (0usize, 0usize);
    for (range, &(count, size)) in ranges.iter().zip(&sizes) {
        let (text_part, text_later) = text_rest.split_at_mut(size.min(text_rest.len()));
        let (ends, ends_later) = offsets_rest.split_at_mut(count.min(offsets_rest.len()));
        jobs.push((range.clone(), first_id, first_byte, text_part, ends));
        (text_rest, offsets_rest) = (text_later, ends_later);
        first_id += count;
        first_byte += size;
    }
    let blocks = rows.div_ceil(1 << ROW_BLOCK_BITS);
    let pieces: Vec<(RowIds, Repeated)> = jobs
        .into_par_iter()
        .map(|(range, first_id, first_byte, text_part, ends)| {
            let mut by_block = vec![Vec::new(); blocks];
            let mut repeated = Repeated::default();
            let mut key = KeyText::Short([0; PREFIX], 0);
            let (mut id, mut written, mut keys_done, mut run) = (first_id, 0usize, 0usize, 0);
            for i in range.clone() {
                if starts_key(i) {
                    if i > range.start {
                        id += 1;
                    }
                    key = key_text(&sorted[i]);
                    written = key.write(text_part, written);
                    if let Some(slot) = ends.get_mut(keys_done) {
                        *slot = first_byte + written;
                    }
                    keys_done += 1;
                    run = 0;
                }
                run += 1;
                if run == 2 {
                    repeated.count += 1;
                    if repeated.first.len() < super::parse::FIRST_FEW {
                        let text = String::from_utf8_lossy(key.bytes()).into_owned();
                        repeated.first.push(text);
                    }
                }
                let row = row_of(&sorted[i]);
                if let Some(block) = by_block.get_mut(row >> ROW_BLOCK_BITS) {
                    block.push((row as u32, id as u32));
                }
            }
            (by_block, repeated)
        })
        .collect();

    let mut row_key = vec![0u32; rows];
    row_key
        .par_chunks_mut(1 << ROW_BLOCK_BITS)
        .enumerate()
        .for_each(|(block, out)| {
            let first_row = block << ROW_BLOCK_BITS;
            for (by_block, _) in &pieces {
                for &(row, id) in by_block.get(block).map_or(&[][..], Vec::as_slice) {
                    if let Some(slot) = out.get_mut(row as usize - first_row) {
                        *slot = id;
                    }
                }
            }
        });
    let mut repeated = Repeated::default();
    for (_, part) in pieces {
        repeated.count += part.count;
        let room = super::parse::FIRST_FEW.saturating_sub(repeated.first.len());
        repeated.first.extend(part.first.into_iter().take(room));
    }
    (
        SortedKeys {
            text: Text::Own(text),
            spans: KeySpans::from_offsets(offsets),
            row_key,
        },
        repeated,
    )
}

/// Cuts `0..rows` into about `parts` ranges that each start with a new key.
fn key_runs(rows: usize, parts: usize, starts_key: impl Fn(usize) -> bool) -> Vec<Range<usize>> {
    let mut cuts = vec![0];
    for part in 1..parts {
        let mut at = rows * part / parts;
        while at < rows && !starts_key(at) {
            at += 1;
        }
        if at > cuts[cuts.len() - 1] && at < rows {
            cuts.push(at);
        }
    }
    cuts.push(rows);
    cuts.windows(2).map(|cut| cut[0]..cut[1]).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Sorts `keys` read as chunks of `chunk` keys each.
    fn sorted_in_chunks(keys: &[&str], chunk: usize) -> (Vec<String>, Vec<u32>, Repeated) {
        let mut chunks = Vec::new();
        for part in keys.chunks(chunk) {
            let mut chunk_keys = ChunkKeys::default();
            for key in part {
                chunk_keys.push(key.as_bytes());
            }
            chunks.push(chunk_keys);
        }
        let Some((sorted, repeated)) = sort_keys(&chunks, &[]) else {
            panic!("keys are UTF-8");
        };
        let distinct = (0..sorted.len() as u32)
            .map(|id| sorted.get(id).to_string())
            .collect();
        (distinct, sorted.row_key, repeated)
    }

    fn sorted(keys: &[&str]) -> (Vec<String>, Vec<u32>, Repeated) {
        sorted_in_chunks(keys, keys.len().max(1))
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
        let (distinct, row_key, repeated) = sorted_in_chunks(&[a, b, c, a], 3);
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
    fn many_keys_in_many_buckets_sort_like_a_plain_sort() {
        let keys: Vec<String> = (0..20_000u64)
            .map(|i| format!("{:x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15) % 5_000))
            .collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let (distinct, row_key, repeated) = sorted_in_chunks(&refs, 3_000);
        let mut expected = keys.clone();
        expected.sort();
        expected.dedup();
        assert_eq!(distinct, expected);
        for (row, key) in keys.iter().enumerate() {
            assert_eq!(&distinct[row_key[row] as usize], key);
        }
        assert_eq!(repeated.count, expected.len());
    }

    #[test]
    fn many_keys_with_a_long_one_sort_by_their_summaries() {
        let mut keys: Vec<String> = (0..20_000u64)
            .map(|i| format!("{:x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15) % 5_000))
            .collect();
        keys.push("a key longer than sixteen bytes".to_string());
        keys.push("a key longer than sixteen bytes, too".to_string());
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let (distinct, row_key, _) = sorted_in_chunks(&refs, 3_000);
        let mut expected = keys.clone();
        expected.sort();
        expected.dedup();
        assert_eq!(distinct, expected);
        for (row, key) in keys.iter().enumerate() {
            assert_eq!(&distinct[row_key[row] as usize], key);
        }
    }

    #[test]
    fn a_chunk_keeps_keys_of_one_width_and_of_many() {
        let mut chunk = ChunkKeys::default();
        chunk.push(b"ab");
        chunk.push(b"cd");
        assert_eq!((chunk.key(0), chunk.key(1)), (&b"ab"[..], &b"cd"[..]));
        chunk.push(b"say \"hi\"");
        chunk.push(b"");
        chunk.push(b"e");
        let keys: Vec<&[u8]> = (0..chunk.len()).map(|row| chunk.key(row)).collect();
        assert_eq!(keys, [&b"ab"[..], b"cd", b"say \"hi\"", b"", b"e"]);
    }

    /// Whether `keys` take the bitmap road of [`by_dense`].
    fn numbered_densely(keys: &[&str]) -> bool {
        let mut chunk = ChunkKeys::default();
        for key in keys {
            chunk.push(key.as_bytes());
        }
        let chunks = [chunk];
        let all = AllKeys::new(&chunks);
        Alphabet::of(&all).is_some_and(|alphabet| Dense::of(&alphabet, all.rows).is_some())
    }

    /// Distinct keys sorted by the standard library, and each row's index among them.
    fn expected(keys: &[String]) -> (Vec<String>, Vec<u32>) {
        let mut distinct = keys.to_vec();
        distinct.sort();
        distinct.dedup();
        let ids = keys
            .iter()
            .map(|key| distinct.binary_search(key).unwrap_or(usize::MAX) as u32)
            .collect();
        (distinct, ids)
    }

    #[test]
    fn ids_of_one_length_are_numbered_through_a_bitmap() {
        // 30,000 rows over about 19,000 distinct ids of the form C00000000 to C00099999.
        let keys: Vec<String> = (0..30_000u64)
            .map(|i| {
                format!(
                    "C{:08}",
                    i.wrapping_mul(0x9e37_79b9_7f4a_7c15) % 100_000 / 3
                )
            })
            .collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        assert!(numbered_densely(&refs));
        let (distinct, row_key, repeated) = sorted_in_chunks(&refs, 7_000);
        let (want, ids) = expected(&keys);
        assert_eq!(distinct, want);
        assert_eq!(row_key, ids);
        let mut counts = HashMap::new();
        for key in &keys {
            *counts.entry(key.as_str()).or_insert(0) += 1;
        }
        let mut twice: Vec<&str> = counts
            .iter()
            .filter(|(_, &n)| n > 1)
            .map(|(k, _)| *k)
            .collect();
        twice.sort_unstable();
        assert_eq!(repeated.count, twice.len());
        assert_eq!(repeated.first, twice[..5]);
    }

    #[test]
    fn places_with_many_values_are_read_back_in_several_groups() {
        // Two places with 90 values each make 8,100 numbers, more than one table holds.
        let bytes: Vec<char> = (b'!'..=b'z').map(char::from).collect();
        let keys: Vec<String> = (0..9_000usize)
            .map(|i| format!("k{}{}-", bytes[i * 7 % 90], bytes[i * 13 % 89]))
            .collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        assert!(numbered_densely(&refs));
        let (distinct, row_key, _) = sorted(&refs);
        let (want, ids) = expected(&keys);
        assert_eq!(distinct, want);
        assert_eq!(row_key, ids);
    }

    #[test]
    fn sparse_or_uneven_keys_are_sorted_instead() {
        // Ten keys, but ten digits at each of eight places: 10^8 numbers.
        let keys: Vec<String> = (0..10)
            .map(|i| {
                (0..8)
                    .map(|place| char::from(b'0' + (i + place) % 10))
                    .collect()
            })
            .collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        assert!(!numbered_densely(&refs));
        assert!(numbered_densely(&["C00000001", "C99999999"]));
        assert!(!numbered_densely(&["C1", "C22"]));
        let (distinct, row_key, _) = sorted(&refs);
        let (want, ids) = expected(&keys);
        assert_eq!(distinct, want);
        assert_eq!(row_key, ids);
    }

    #[test]
    fn no_keys_sort_to_nothing() {
        let (distinct, row_key, _) = sorted(&[]);
        assert!(distinct.is_empty() && row_key.is_empty());
    }
}
