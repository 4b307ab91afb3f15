//! Typed column vectors as they are built, and the dictionary of string columns.

use super::{ColumnData, StringColumn, NULL_BOOL, NULL_CODE, NULL_DATE, NULL_INT};
use crate::models::ColumnType;

/// A cell that should be text is not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotUtf8;

/// Values of two different types cannot be appended to each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeMismatch;

/// Distinct strings in order of first appearance, found again by hash.
///
/// An open-addressing table of codes, with each string's first sixteen bytes and length
/// kept beside the dictionary so that most lookups compare two words and never read the
/// string itself.
#[derive(Debug, Default)]
pub struct Interner {
    dict: Vec<Box<str>>,
    heads: Vec<Head>,
    /// Codes, or [`NULL_CODE`] for an empty slot; the length is a power of two.
    slots: Vec<u32>,
}

/// A string's first sixteen bytes (zero-padded) and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    words: [u64; 2],
    len: usize,
}

impl Head {
    fn of(bytes: &[u8]) -> Head {
        // Shifts rather than a copy into a buffer: a copy of a variable length becomes a
        // call to `memcpy`, which costs more than the rest of a lookup.
        let word = |part: &[u8]| {
            part.iter()
                .take(8)
                .enumerate()
                .fold(0u64, |word, (i, &byte)| word | u64::from(byte) << (8 * i))
        };
        let high = bytes.get(8..).unwrap_or_default();
        Head {
            words: [word(bytes), word(high)],
            len: bytes.len(),
        }
    }

    fn hash(&self, bytes: &[u8]) -> u64 {
        if self.len <= 16 {
            let hash = self.words[0].wrapping_mul(0x9e37_79b9_7f4a_7c15)
                ^ (self.words[1] ^ self.len as u64).wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
            mix(hash)
        } else {
            hash_bytes(bytes)
        }
    }
}

/// Spreads every input bit over the low bits, which pick a slot.
fn mix(mut hash: u64) -> u64 {
    hash ^= hash >> 32;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^ (hash >> 29)
}

impl Interner {
    /// The code of `bytes`, added if new.
    pub fn code(&mut self, bytes: &[u8]) -> Result<u32, NotUtf8> {
        let head = Head::of(bytes);
        let slot = match self.find(head, bytes) {
            Ok(code) => return Ok(code),
            Err(slot) => slot,
        };
        let text = std::str::from_utf8(bytes).map_err(|_| NotUtf8)?;
        Ok(self.insert(slot, head, text))
    }

    /// The code of `text`, added if new.
    pub fn code_of_str(&mut self, text: &str) -> u32 {
        let head = Head::of(text.as_bytes());
        match self.find(head, text.as_bytes()) {
            Ok(code) => code,
            Err(slot) => self.insert(slot, head, text),
        }
    }

    /// The code of `bytes`, or the empty slot where it belongs.
    fn find(&mut self, head: Head, bytes: &[u8]) -> Result<u32, usize> {
        if self.slots.is_empty() {
            self.slots = vec![NULL_CODE; 16];
        }
        let mask = self.slots.len() - 1;
        let mut slot = head.hash(bytes) as usize & mask;
        loop {
            let code = self.slots[slot];
            if code == NULL_CODE {
                return Err(slot);
            }
            let known = &self.heads[code as usize];
            if *known == head && (head.len <= 16 || self.dict[code as usize].as_bytes() == bytes) {
                return Ok(code);
            }
            slot = (slot + 1) & mask;
        }
    }

    fn insert(&mut self, slot: usize, head: Head, text: &str) -> u32 {
        // Codes stay below NULL_CODE: the loader refuses tables with that many rows.
        let code = self.dict.len() as u32;
        self.dict.push(text.into());
        self.heads.push(head);
        self.slots[slot] = code;
        if self.dict.len() * 2 > self.slots.len() {
            self.grow();
        }
        code
    }

    /// Doubles the table, keeping it at most half full.
    fn grow(&mut self) {
        self.slots = vec![NULL_CODE; self.slots.len() * 2];
        let mask = self.slots.len() - 1;
        for (code, (head, text)) in self.heads.iter().zip(&self.dict).enumerate() {
            let mut slot = head.hash(text.as_bytes()) as usize & mask;
            while self.slots[slot] != NULL_CODE {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = code as u32;
        }
    }

    pub fn into_dict(self) -> Vec<Box<str>> {
        self.dict
    }

    pub fn dict(&self) -> &[Box<str>] {
        &self.dict
    }
}

/// A hash of a byte string of any length, eight bytes at a time.
fn hash_bytes(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut hash = bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut buf = [0u8; 8];
        buf.copy_from_slice(word);
        hash = (hash.rotate_left(5) ^ u64::from_le_bytes(buf)).wrapping_mul(K);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        hash = (hash.rotate_left(5) ^ u64::from_le_bytes(buf)).wrapping_mul(K);
    }
    mix(hash)
}

/// A string column being built.
#[derive(Debug, Default)]
pub struct Strings {
    pub codes: Vec<u32>,
    pub interner: Interner,
}

/// The values of one column being built, one per row read so far.
#[derive(Debug)]
pub enum Values {
    Bool(Vec<u8>),
    Integer(Vec<i64>),
    Number(Vec<f64>),
    Date(Vec<i32>),
    String(Strings),
}

impl Values {
    /// `rows` nulls of type `ty`.
    pub fn nulls(ty: ColumnType, rows: usize) -> Values {
        match ty {
            ColumnType::Bool => Values::Bool(vec![NULL_BOOL; rows]),
            ColumnType::Integer => Values::Integer(vec![NULL_INT; rows]),
            ColumnType::Number => Values::Number(vec![f64::NAN; rows]),
            ColumnType::Date => Values::Date(vec![NULL_DATE; rows]),
            ColumnType::String => Values::String(Strings {
                codes: vec![NULL_CODE; rows],
                interner: Interner::default(),
            }),
        }
    }

    pub fn column_type(&self) -> ColumnType {
        match self {
            Values::Bool(_) => ColumnType::Bool,
            Values::Integer(_) => ColumnType::Integer,
            Values::Number(_) => ColumnType::Number,
            Values::Date(_) => ColumnType::Date,
            Values::String(_) => ColumnType::String,
        }
    }

    pub fn reserve(&mut self, additional: usize) {
        match self {
            Values::Bool(values) => values.reserve(additional),
            Values::Integer(values) => values.reserve(additional),
            Values::Number(values) => values.reserve(additional),
            Values::Date(values) => values.reserve(additional),
            Values::String(strings) => strings.codes.reserve(additional),
        }
    }

    pub fn push_null(&mut self) {
        match self {
            Values::Bool(values) => values.push(NULL_BOOL),
            Values::Integer(values) => values.push(NULL_INT),
            Values::Number(values) => values.push(f64::NAN),
            Values::Date(values) => values.push(NULL_DATE),
            Values::String(strings) => strings.codes.push(NULL_CODE),
        }
    }

    /// The same values as type `ty`, where no text is needed to get them: nulls stay
    /// nulls and integers become numbers.
    pub fn widen(self, ty: ColumnType) -> Option<Values> {
        match (self, ty) {
            (values, ty) if values.column_type() == ty => Some(values),
            (Values::Integer(values), ColumnType::Number) => Some(Values::Number(
                values
                    .into_iter()
                    .map(|value| {
                        if value == NULL_INT {
                            f64::NAN
                        } else {
                            value as f64
                        }
                    })
                    .collect(),
            )),
            _ => None,
        }
    }

    /// Appends `other`, which has the same type; a string column's codes are mapped into
    /// this column's dictionary.
    pub fn append(&mut self, other: Values) -> Result<(), TypeMismatch> {
        match (self, other) {
            (Values::Bool(into), Values::Bool(from)) => into.extend_from_slice(&from),
            (Values::Integer(into), Values::Integer(from)) => into.extend_from_slice(&from),
            (Values::Number(into), Values::Number(from)) => into.extend_from_slice(&from),
            (Values::Date(into), Values::Date(from)) => into.extend_from_slice(&from),
            (Values::String(into), Values::String(from)) => {
                let map: Vec<u32> = from
                    .interner
                    .dict()
                    .iter()
                    .map(|text| into.interner.code_of_str(text))
                    .collect();
                into.codes.extend(
                    from.codes
                        .iter()
                        .map(|&code| map.get(code as usize).copied().unwrap_or(NULL_CODE)),
                );
            }
            _ => return Err(TypeMismatch),
        }
        Ok(())
    }

    pub fn into_data(self) -> ColumnData {
        match self {
            Values::Bool(values) => ColumnData::Bool(values),
            Values::Integer(values) => ColumnData::Integer(values),
            Values::Number(values) => ColumnData::Number(values),
            Values::Date(values) => ColumnData::Date(values),
            Values::String(strings) => ColumnData::String(StringColumn {
                codes: strings.codes,
                dict: strings.interner.into_dict(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dictionary_keeps_the_order_of_first_appearance() {
        let mut interner = Interner::default();
        let codes: Vec<u32> = ["b", "a", "b", "c", "a"]
            .iter()
            .map(|text| interner.code(text.as_bytes()).unwrap_or(NULL_CODE))
            .collect();
        assert_eq!(codes, vec![0, 1, 0, 2, 1]);
        assert_eq!(
            interner.dict().iter().map(|s| &**s).collect::<Vec<_>>(),
            ["b", "a", "c"]
        );
        assert_eq!(interner.code(b"\xff"), Err(NotUtf8));
    }

    #[test]
    fn the_dictionary_finds_many_short_and_long_strings_again() {
        let mut interner = Interner::default();
        let texts: Vec<String> = (0..5_000)
            .map(|i| {
                if i % 2 == 0 {
                    format!("v{i}")
                } else {
                    format!("{i:040}")
                }
            })
            .collect();
        for (expected, text) in texts.iter().enumerate() {
            assert_eq!(interner.code(text.as_bytes()), Ok(expected as u32));
        }
        for (expected, text) in texts.iter().enumerate().rev() {
            assert_eq!(interner.code_of_str(text), expected as u32);
        }
        // Equal first sixteen bytes, different lengths or tails.
        let a = interner.code_of_str("0123456789abcdef");
        let b = interner.code_of_str("0123456789abcdef\0");
        let c = interner.code_of_str("0123456789abcdefX");
        assert_eq!((a, b, c), (5_000, 5_001, 5_002));
    }

    #[test]
    fn appending_maps_codes_into_the_first_dictionary() {
        let mut first = Values::String(Strings::default());
        let mut second = Values::String(Strings::default());
        for (values, texts) in [(&mut first, ["x", "y"]), (&mut second, ["z", "x"])] {
            if let Values::String(strings) = values {
                for text in texts {
                    let code = strings.interner.code(text.as_bytes()).unwrap_or(NULL_CODE);
                    strings.codes.push(code);
                }
            }
        }
        assert_eq!(first.append(second), Ok(()));
        let ColumnData::String(column) = first.into_data() else {
            panic!("a string column");
        };
        assert_eq!(column.codes, vec![0, 1, 2, 0]);
        assert_eq!(
            column.dict.iter().map(|s| &**s).collect::<Vec<_>>(),
            ["x", "y", "z"]
        );
    }

    #[test]
    fn integers_widen_to_numbers_with_nulls_kept() {
        let widened = Values::Integer(vec![3, NULL_INT]).widen(ColumnType::Number);
        let Some(Values::Number(values)) = widened else {
            panic!("a number column");
        };
        assert_eq!(values[0], 3.0);
        assert!(values[1].is_nan());
        assert!(Values::Bool(vec![1]).widen(ColumnType::String).is_none());
    }
}
