//! Reading the records of one chunk of a table into typed columns.
//!
//! A chunk is a run of whole records. Chunks are read independently (in parallel when the
//! file has no quotes) and merged in file order, so every result here is local to its
//! chunk: row numbers, line numbers and string dictionaries. Columns whose type is not
//! declared are read as the narrowest type that fits so far; when a later cell only fits
//! as text, the earlier cells' text is needed again, and the chunk is read once more with
//! that column as a string column (see [`Inferred::Lost`]).

use std::ops::Range;

use super::cell::{self, Reading};
use super::column::{Strings, Values};
use super::csv::{Field, Malformed, Record, Tokenizer};
use super::keys::ChunkKeys;
use super::BadValue;
use crate::models::ColumnType;

/// How many errors a file reports before it only counts them.
pub const MAX_ERRORS: usize = 10;
/// How many places a warning lists.
pub const FIRST_FEW: usize = 5;

/// What the loader does with one kept field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Plan {
    /// The key column: exact, non-empty UTF-8 strings.
    Key,
    /// A column of a known type, whose cells must parse as that type.
    Declared(ColumnType),
    /// A column read as the narrowest type its cells fit.
    Infer,
    /// Only the type is wanted, not the values (for [`super::read_header`]).
    Probe,
}

/// One kept field: which header column it reads and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slot {
    pub column: usize,
    pub plan: Plan,
    /// Values outside `min..=max` are counted.
    pub domain: Option<(f64, f64)>,
}

/// What every chunk of a file shares.
pub struct Context<'a> {
    pub input: &'a [u8],
    pub delimiter: u8,
    /// Fields in the header.
    pub width: usize,
    pub null_values: &'a [String],
    pub on_bad_value: BadValue,
}

impl Context<'_> {
    fn is_null(&self, text: &[u8]) -> bool {
        self.null_values.iter().any(|null| null.as_bytes() == text)
    }

    /// Null for a non-string type: the cell, or the cell without surrounding blanks, is a
    /// null spelling.
    fn is_null_trimmed(&self, text: &[u8], trimmed: &[u8]) -> bool {
        self.is_null(text) || (trimmed.len() != text.len() && self.is_null(trimmed))
    }
}

/// Where a cell is: its record's line (counted from the chunk's start) and offset, and
/// the cell's span as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellAt {
    pub line: usize,
    pub record: usize,
    pub start: usize,
    pub end: usize,
}

/// An error found while reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ProblemKind {
    Malformed(Malformed),
    /// A record with `found` fields rather than the header's.
    Ragged {
        found: usize,
    },
    EmptyKey,
    /// A cell of the slot's column that is not UTF-8.
    NotUtf8 {
        slot: usize,
    },
    /// A cell that does not parse as the slot's declared type.
    BadCell {
        slot: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub at: CellAt,
}

/// A count of cells and where the first few are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub count: usize,
    pub first: Vec<CellAt>,
}

impl Tally {
    fn add(&mut self, at: CellAt) {
        self.count += 1;
        if self.first.len() < FIRST_FEW {
            self.first.push(at);
        }
    }

    /// Adds the cells of a later part of the file.
    pub fn merge(&mut self, other: &Tally) {
        self.count += other.count;
        let room = FIRST_FEW.saturating_sub(self.first.len());
        self.first.extend(other.first.iter().take(room));
    }
}

/// A column being inferred, as far as one chunk tells.
#[derive(Debug)]
pub enum Inferred {
    /// Every cell so far is null; `soft` when some are null only once trimmed, and so would
    /// be values if the column turns out to be a string column.
    Nulls {
        rows: usize,
        soft: bool,
    },
    Values(Values),
    /// A cell fits only as text, but earlier cells were read as another type; their text
    /// must be read again. Only rows are counted from then on.
    Lost {
        rows: usize,
    },
}

/// The type of a column whose values are not kept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Guess {
    Nulls,
    Type(ColumnType),
}

/// What one slot read from one chunk.
#[derive(Debug)]
pub enum SlotValues {
    Key,
    Declared(Values),
    Inferred(Inferred),
    Probe(Guess),
}

#[derive(Debug)]
pub struct SlotResult {
    pub values: SlotValues,
    /// Cells that did not parse and were read as null (with `on_bad_value = "null"`).
    pub bad: Tally,
    /// Values outside the column's domain.
    pub outside: Tally,
}

/// Everything read from one chunk.
#[derive(Debug)]
pub struct Chunk {
    /// Records read, ragged ones included.
    pub records: usize,
    /// Rows kept: records with the right number of fields.
    pub rows: usize,
    /// Line breaks in the chunk.
    pub lines: usize,
    pub keys: ChunkKeys,
    pub slots: Vec<SlotResult>,
    /// The first [`MAX_ERRORS`] errors.
    pub problems: Vec<Problem>,
    pub problem_count: usize,
    /// Rows the chunk can hold at most, for allocating vectors once.
    capacity: usize,
}

impl Chunk {
    fn problem(&mut self, kind: ProblemKind, at: CellAt) {
        self.problem_count += 1;
        if self.problems.len() < MAX_ERRORS {
            self.problems.push(Problem { kind, at });
        }
    }
}

/// Reads the records in `range` (at most `limit` of them) through `slots`. A `plain`
/// range holds no quote, so its records are its lines, found by a faster scan.
pub fn parse_chunk(
    context: &Context<'_>,
    range: Range<usize>,
    slots: &[Slot],
    limit: Option<usize>,
    plain: bool,
) -> Chunk {
    let input = context.input;
    let range = range.start.min(input.len())..range.end.min(input.len());
    // Line breaks bound the number of rows, so vectors are allocated once.
    let bytes = input.get(range.clone()).unwrap_or_default();
    let capacity = memchr::memchr_iter(b'\n', bytes).count() + 1;
    let capacity = limit.map_or(capacity, |limit| capacity.min(limit));
    let chunk = Chunk {
        records: 0,
        rows: 0,
        lines: 0,
        keys: ChunkKeys::with_capacity(capacity),
        slots: slots
            .iter()
            .map(|slot| new_slot(slot.plan, capacity))
            .collect(),
        problems: Vec::new(),
        problem_count: 0,
        capacity,
    };
    let mut reader = Reader {
        context,
        slots,
        chunk,
        fields: vec![Field::default(); context.width],
        scratch: Vec::new(),
    };
    let limit = limit.unwrap_or(usize::MAX);
    if plain {
        reader.read_plain(range, limit);
    } else {
        reader.read_quoted(range, limit);
    }
    reader.chunk
}

/// Reads records into a chunk; `fields` holds the current record's fields.
struct Reader<'a, 'c> {
    context: &'a Context<'c>,
    slots: &'a [Slot],
    chunk: Chunk,
    fields: Vec<Field>,
    scratch: Vec<u8>,
}

impl Reader<'_, '_> {
    fn read_quoted(&mut self, range: Range<usize>, limit: usize) {
        let context = self.context;
        let mut tokenizer =
            Tokenizer::new(context.input, range.start, range.end, context.delimiter);
        while self.chunk.records < limit {
            let fields = &mut self.fields;
            let on_field = |index: usize, field: Field| {
                if let Some(slot) = fields.get_mut(index) {
                    *slot = field;
                }
            };
            let Some(record) = tokenizer.next_record(&mut self.scratch, on_field) else {
                break;
            };
            self.record(&record);
        }
        self.chunk.lines = tokenizer.lines();
    }

    /// Reads a range without quotes: every line is a record, and empty lines are skipped,
    /// as [`Tokenizer`] does.
    fn read_plain(&mut self, range: Range<usize>, limit: usize) {
        let input = self.context.input;
        let delimiter = self.context.delimiter;
        let bytes = input.get(range.clone()).unwrap_or_default();
        let mut record_start = range.start;
        let mut field_start = range.start;
        let mut index = 0;
        let mut line = 0;
        for found in memchr::memchr2_iter(delimiter, b'\n', bytes) {
            let at = range.start + found;
            if input[at] == delimiter {
                if let Some(field) = self.fields.get_mut(index) {
                    field.set_plain(field_start, at);
                }
                index += 1;
                field_start = at + 1;
                continue;
            }
            let end = if at > field_start && input[at - 1] == b'\r' {
                at - 1
            } else {
                at
            };
            if index > 0 || end > field_start {
                if self.chunk.records >= limit {
                    break;
                }
                if let Some(field) = self.fields.get_mut(index) {
                    field.set_plain(field_start, end);
                }
                self.plain_record(record_start, line, index + 1);
            }
            line += 1;
            index = 0;
            record_start = at + 1;
            field_start = at + 1;
        }
        let end = range.end;
        let end = if end > field_start && input[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        if record_start < range.end
            && (index > 0 || end > field_start)
            && self.chunk.records < limit
        {
            if let Some(field) = self.fields.get_mut(index) {
                field.set_plain(field_start, end);
            }
            self.plain_record(record_start, line, index + 1);
        }
        self.chunk.lines = line;
    }

    fn plain_record(&mut self, start: usize, line: usize, fields: usize) {
        let record = Record {
            start,
            line,
            fields,
            terminated: true,
            malformed: None,
        };
        self.record(&record);
    }

    /// Reads the record whose fields are in `self.fields` into the chunk's columns.
    fn record(&mut self, record: &Record) {
        let chunk = &mut self.chunk;
        chunk.records += 1;
        let record_at = |field: &Field| CellAt {
            line: record.line,
            record: record.start,
            start: field.start,
            end: field.end,
        };
        if let Some(malformed) = record.malformed {
            let at = match malformed {
                Malformed::UnclosedQuote { at } | Malformed::AfterQuote { at } => at,
            };
            let place = CellAt {
                line: record.line,
                record: record.start,
                start: at,
                end: at + 1,
            };
            chunk.problem(ProblemKind::Malformed(malformed), place);
        }
        let context = self.context;
        if record.fields != context.width {
            let place = CellAt {
                line: record.line,
                record: record.start,
                start: record.start,
                end: record.start,
            };
            chunk.problem(
                ProblemKind::Ragged {
                    found: record.fields,
                },
                place,
            );
            return;
        }
        chunk.rows += 1;
        for (index, slot) in self.slots.iter().enumerate() {
            let field = &self.fields[slot.column];
            let text = field.text(context.input, &self.scratch);
            match read_cell(context, chunk, index, slot, text) {
                Cell::Done => {}
                Cell::Value(value) => {
                    if let Some((min, max)) = slot.domain {
                        if value < min || value > max {
                            chunk.slots[index].outside.add(record_at(field));
                        }
                    }
                }
                Cell::Bad => {
                    let at = record_at(field);
                    match context.on_bad_value {
                        BadValue::Error => chunk.problem(ProblemKind::BadCell { slot: index }, at),
                        BadValue::Null => chunk.slots[index].bad.add(at),
                    }
                }
                Cell::NotUtf8 => {
                    chunk.problem(ProblemKind::NotUtf8 { slot: index }, record_at(field))
                }
                Cell::EmptyKey => chunk.problem(ProblemKind::EmptyKey, record_at(field)),
            }
        }
    }
}

fn new_slot(plan: Plan, capacity: usize) -> SlotResult {
    let values = match plan {
        Plan::Key => SlotValues::Key,
        Plan::Declared(ty) => {
            let mut values = Values::nulls(ty, 0);
            values.reserve(capacity);
            SlotValues::Declared(values)
        }
        Plan::Infer => SlotValues::Inferred(Inferred::Nulls {
            rows: 0,
            soft: false,
        }),
        Plan::Probe => SlotValues::Probe(Guess::Nulls),
    };
    SlotResult {
        values,
        bad: Tally::default(),
        outside: Tally::default(),
    }
}

/// What became of one cell.
enum Cell {
    Done,
    /// A numeric value, for the domain check.
    Value(f64),
    /// Not a value of the declared type; read as null.
    Bad,
    NotUtf8,
    EmptyKey,
}

fn read_cell(
    context: &Context<'_>,
    chunk: &mut Chunk,
    index: usize,
    slot: &Slot,
    text: &[u8],
) -> Cell {
    let capacity = chunk.capacity;
    match &mut chunk.slots[index].values {
        SlotValues::Key => {
            chunk.keys.push(text);
            if text.is_empty() {
                Cell::EmptyKey
            } else if !text.is_ascii() && std::str::from_utf8(text).is_err() {
                Cell::NotUtf8
            } else {
                Cell::Done
            }
        }
        SlotValues::Declared(values) => read_declared(context, values, slot, text),
        SlotValues::Inferred(inferred) => read_inferred(context, inferred, text, capacity),
        SlotValues::Probe(guess) => {
            probe(context, guess, text);
            Cell::Done
        }
    }
}

fn read_declared(context: &Context<'_>, values: &mut Values, slot: &Slot, text: &[u8]) -> Cell {
    if let Values::String(strings) = values {
        return push_string(context, strings, text);
    }
    let trimmed = cell::trim(text);
    if context.is_null_trimmed(text, trimmed) {
        values.push_null();
        return Cell::Done;
    }
    let declared_bool = slot.plan == Plan::Declared(ColumnType::Bool);
    let parsed = match values {
        Values::Bool(values) => cell::parse_bool(trimmed, declared_bool).map(|value| {
            values.push(u8::from(value));
            None
        }),
        Values::Integer(values) => cell::parse_integer(trimmed).map(|value| {
            values.push(value);
            Some(value as f64)
        }),
        Values::Number(values) => cell::read_number(trimmed).map(|value| {
            values.push(value);
            Some(value)
        }),
        Values::Date(values) => cell::parse_date_bytes(trimmed).map(|days| {
            values.push(days);
            None
        }),
        Values::String(_) => Some(None),
    };
    match parsed {
        Some(Some(value)) => Cell::Value(value),
        Some(None) => Cell::Done,
        None => {
            values.push_null();
            Cell::Bad
        }
    }
}

fn push_string(context: &Context<'_>, strings: &mut Strings, text: &[u8]) -> Cell {
    if context.is_null(text) {
        strings.codes.push(super::NULL_CODE);
        return Cell::Done;
    }
    match strings.interner.code(text) {
        Ok(code) => {
            strings.codes.push(code);
            Cell::Done
        }
        Err(_) => {
            strings.codes.push(super::NULL_CODE);
            Cell::NotUtf8
        }
    }
}

fn read_inferred(
    context: &Context<'_>,
    inferred: &mut Inferred,
    text: &[u8],
    capacity: usize,
) -> Cell {
    match inferred {
        Inferred::Lost { rows } => {
            *rows += 1;
            Cell::Done
        }
        Inferred::Nulls { rows, soft } => {
            if context.is_null(text) {
                *rows += 1;
                return Cell::Done;
            }
            let trimmed = cell::trim(text);
            if context.is_null(trimmed) {
                *rows += 1;
                *soft = true;
                return Cell::Done;
            }
            let reading = cell::infer(trimmed);
            if reading == Reading::Text && *soft {
                *inferred = Inferred::Lost { rows: *rows + 1 };
                return Cell::Done;
            }
            let mut values = Values::nulls(reading_type(reading), *rows);
            values.reserve(capacity.saturating_sub(*rows));
            let outcome = push_reading(context, &mut values, reading, text);
            *inferred = Inferred::Values(values);
            outcome
        }
        Inferred::Values(values) => {
            if let Values::String(strings) = values {
                return push_string(context, strings, text);
            }
            let trimmed = cell::trim(text);
            if context.is_null_trimmed(text, trimmed) {
                values.push_null();
                return Cell::Done;
            }
            let reading = match values {
                Values::Bool(_) => cell::parse_bool(trimmed, false).map(Reading::Bool),
                Values::Integer(_) | Values::Number(_) => cell::infer_numeric(trimmed),
                Values::Date(_) => cell::parse_date_bytes(trimmed).map(Reading::Date),
                Values::String(_) => None,
            };
            let Some(reading) = reading else {
                *inferred = Inferred::Lost {
                    rows: values_len(values) + 1,
                };
                return Cell::Done;
            };
            if let (Values::Integer(integers), Reading::Number(_)) = (&*values, reading) {
                let widened = integers
                    .iter()
                    .map(|&value| {
                        if value == super::NULL_INT {
                            f64::NAN
                        } else {
                            value as f64
                        }
                    })
                    .collect();
                *values = Values::Number(widened);
            }
            push_reading(context, values, reading, text)
        }
    }
}

fn reading_type(reading: Reading) -> ColumnType {
    match reading {
        Reading::Bool(_) => ColumnType::Bool,
        Reading::Integer(_) => ColumnType::Integer,
        Reading::Number(_) => ColumnType::Number,
        Reading::Date(_) => ColumnType::Date,
        Reading::Text => ColumnType::String,
    }
}

/// Pushes a reading that fits `values` (an integer fits a number column).
fn push_reading(context: &Context<'_>, values: &mut Values, reading: Reading, text: &[u8]) -> Cell {
    match (values, reading) {
        (Values::Bool(values), Reading::Bool(value)) => values.push(u8::from(value)),
        (Values::Integer(values), Reading::Integer(value)) => {
            values.push(value);
            return Cell::Value(value as f64);
        }
        (Values::Number(values), Reading::Integer(value)) => {
            values.push(value as f64);
            return Cell::Value(value as f64);
        }
        (Values::Number(values), Reading::Number(value)) => {
            values.push(value);
            return Cell::Value(value);
        }
        (Values::Date(values), Reading::Date(days)) => values.push(days),
        (Values::String(strings), _) => return push_string(context, strings, text),
        (values, _) => values.push_null(),
    }
    Cell::Done
}

fn values_len(values: &Values) -> usize {
    match values {
        Values::Bool(values) => values.len(),
        Values::Integer(values) => values.len(),
        Values::Number(values) => values.len(),
        Values::Date(values) => values.len(),
        Values::String(strings) => strings.codes.len(),
    }
}

fn probe(context: &Context<'_>, guess: &mut Guess, text: &[u8]) {
    if *guess == Guess::Type(ColumnType::String) {
        return;
    }
    let trimmed = cell::trim(text);
    if context.is_null_trimmed(text, trimmed) {
        return;
    }
    let fits = |ty: ColumnType| match ty {
        ColumnType::Bool => cell::parse_bool(trimmed, false).is_some(),
        ColumnType::Integer => matches!(cell::infer_numeric(trimmed), Some(Reading::Integer(_))),
        ColumnType::Number => cell::infer_numeric(trimmed).is_some(),
        ColumnType::Date => cell::parse_date_bytes(trimmed).is_some(),
        ColumnType::String => true,
    };
    *guess = Guess::Type(match *guess {
        Guess::Nulls => reading_type(cell::infer(trimmed)),
        Guess::Type(ColumnType::Integer) if fits(ColumnType::Number) => {
            if fits(ColumnType::Integer) {
                ColumnType::Integer
            } else {
                ColumnType::Number
            }
        }
        Guess::Type(ty) if fits(ty) => ty,
        Guess::Type(_) => ColumnType::String,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything a chunk read, as text to compare.
    fn read(input: &str, plain: bool) -> String {
        read_bytes(input.as_bytes(), plain)
    }

    fn read_bytes(bytes: &[u8], plain: bool) -> String {
        let nulls = [String::new()];
        let context = Context {
            input: bytes,
            delimiter: b',',
            width: 3,
            null_values: &nulls,
            on_bad_value: BadValue::Error,
        };
        let slots = [
            Slot {
                column: 0,
                plan: Plan::Key,
                domain: None,
            },
            Slot {
                column: 1,
                plan: Plan::Infer,
                domain: Some((0.0, 1.0)),
            },
            Slot {
                column: 2,
                plan: Plan::Declared(ColumnType::String),
                domain: None,
            },
            Slot {
                column: 1,
                plan: Plan::Probe,
                domain: None,
            },
        ];
        let chunk = parse_chunk(&context, 0..bytes.len(), &slots, None, plain);
        let keys: Vec<String> = (0..chunk.keys.len())
            .map(|row| String::from_utf8_lossy(chunk.keys.key(row)).into_owned())
            .collect();
        format!(
            "records {} rows {} lines {} keys {keys:?} problems {:?} ({}) slots {:?}",
            chunk.records,
            chunk.rows,
            chunk.lines,
            chunk.problems,
            chunk.problem_count,
            chunk.slots
        )
    }

    #[test]
    fn the_plain_scan_reads_like_the_tokenizer() {
        let inputs = [
            "",
            "a,1,x\nb,2,y\n",
            "a,1,x\r\nb,0.5,y\r\n",
            "a,1,x\n\nb,2,y",
            "a,1,x\n\r\n\nb,2,y\r",
            "a,1\nb,2,y,z\n,,\n",
            "\n\na,1,x\n",
            "a,1,x\r\r\n",
            "a,1,\n",
            "a, 7 ,\t\nb,2.5,q\nc,x,\n",
            "k,\u{e9},\u{e9}\n",
        ];
        for input in inputs {
            assert_eq!(read(input, true), read(input, false), "{input:?}");
        }
    }

    #[test]
    fn the_plain_scan_reads_like_the_tokenizer_on_noise() {
        let pieces: [&[u8]; 12] = [
            b"a", b"1", b",", b",", b"\n", b"\r\n", b"\r", b" ", b".5", b"x", b"\xff", b"\t",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2_000 {
            let mut input = Vec::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 60) as usize;
            while input.len() < len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                input.extend_from_slice(pieces[(state % 12) as usize]);
            }
            assert_eq!(
                read_bytes(&input, true),
                read_bytes(&input, false),
                "{input:?}"
            );
        }
    }

    #[test]
    fn a_limit_stops_both_readers_at_the_same_record() {
        let nulls = [String::new()];
        let input = b"a,1,x\n\nb,2,y\nc,3,z\n";
        let context = Context {
            input,
            delimiter: b',',
            width: 3,
            null_values: &nulls,
            on_bad_value: BadValue::Error,
        };
        let slots = [Slot {
            column: 1,
            plan: Plan::Probe,
            domain: None,
        }];
        for plain in [true, false] {
            let chunk = parse_chunk(&context, 0..input.len(), &slots, Some(2), plain);
            assert_eq!((chunk.records, chunk.rows), (2, 2), "plain: {plain}");
        }
    }
}
