//! Tables: reading CSV output tables of prediction models into typed columns.
//!
//! A table is read once. Only the key column and the columns some segment uses are kept,
//! each as one typed vector rather than rows of strings. Keys are sorted once per table,
//! so every later stage can work with dense key ids whose order is the output order.

mod cell;
mod column;
mod csv;
mod keys;
mod load;
#[cfg(test)]
mod load_tests;
mod parse;
mod report;

pub use load::{load_table, read_header};

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rayon::prelude::*;

use crate::diag::Diagnostic;
use crate::models::{ColumnType, Domain};
use crate::source::SourceMap;

/// Null in an integer column.
pub const NULL_INT: i64 = i64::MIN;
/// Null in a date column.
pub const NULL_DATE: i32 = i32::MIN;
/// Null in a bool column (false is 0, true is 1).
pub const NULL_BOOL: u8 = 2;
/// Null in a string column's code vector.
pub const NULL_CODE: u32 = u32::MAX;
// A number column uses NaN for null: NaN is never a value (SPEC 3, "Bad cells").

/// What to do with a cell that does not parse as its column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BadValue {
    /// Stop with an error naming file, line, column and value.
    #[default]
    Error,
    /// Read the cell as null and report a warning with a count.
    Null,
}

/// Everything the loader needs to know about one table.
#[derive(Debug, Clone)]
pub struct LoadOptions<'a> {
    /// The table's name in segc.toml.
    pub table: &'a str,
    /// Where to read it.
    pub path: &'a Path,
    /// The path as diagnostics show it.
    pub display_path: &'a str,
    /// The key column's name.
    pub key: &'a str,
    pub delimiter: u8,
    /// Cell spellings that mean "no value".
    pub null_values: &'a [String],
    pub on_bad_value: BadValue,
    /// Types declared in segc.toml or brought by the model kind (declared ones win; the
    /// caller merges them). A column declared `bool` also accepts `1` and `0`.
    pub declared: &'a HashMap<String, ColumnType>,
    /// Domains of model columns: values outside are a data-quality warning.
    pub domains: &'a HashMap<String, Domain>,
    /// Whether a key may appear on one row only (a warning otherwise).
    pub one_row_per_key: bool,
    /// The columns to keep besides the key, in any order; each is in the header (the caller
    /// checked against [`read_header`]).
    pub columns: &'a [String],
}

/// The header of a table and the types of its columns as far as they are known.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Column names in file order, byte-order mark removed.
    pub names: Vec<String>,
    /// For each name, its type: declared, or inferred from the rows that were read.
    pub types: Vec<ColumnType>,
    /// Data rows read for inference (all of them unless a limit stopped early).
    pub rows_read: usize,
}

/// The keys of a table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Keys {
    /// Distinct keys in ascending byte order, concatenated; shared by tables with the same
    /// keys (see [`load_tables`]).
    pub text: Arc<String>,
    /// Where each key is in `text`.
    pub spans: KeySpans,
    /// For each row, the id of its key: its index in the sorted list.
    pub row_key: Vec<u32>,
}

/// Where the keys are in [`Keys::text`]. Keys of one length (the usual case: ids such as
/// `C00012345`) need no list of offsets.
#[derive(Debug, Clone, PartialEq)]
pub enum KeySpans {
    /// `count` keys of `width` bytes each.
    Fixed { width: usize, count: usize },
    /// `offsets[i]..offsets[i + 1]` is key `i`; one more entry than keys.
    Offsets(Vec<usize>),
}

impl Default for KeySpans {
    fn default() -> KeySpans {
        KeySpans::Fixed { width: 0, count: 0 }
    }
}

impl KeySpans {
    /// Spans from the end of each key, in order; fixed when every key has one width.
    pub fn from_offsets(offsets: Vec<usize>) -> KeySpans {
        let count = offsets.len().saturating_sub(1);
        let width = offsets.get(1).copied().unwrap_or(0);
        if offsets.windows(2).all(|pair| pair[1] - pair[0] == width) {
            KeySpans::Fixed { width, count }
        } else {
            KeySpans::Offsets(offsets)
        }
    }
}

impl Keys {
    /// The number of distinct keys.
    pub fn len(&self) -> usize {
        match &self.spans {
            KeySpans::Fixed { count, .. } => *count,
            KeySpans::Offsets(offsets) => offsets.len().saturating_sub(1),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where key `id` is in the text.
    fn span(&self, id: u32) -> std::ops::Range<usize> {
        let id = id as usize;
        match &self.spans {
            KeySpans::Fixed { width, .. } => id * width..(id + 1) * width,
            KeySpans::Offsets(offsets) => offsets[id]..offsets[id + 1],
        }
    }

    /// Key `id`.
    pub fn get(&self, id: u32) -> &str {
        &self.text[self.span(id)]
    }

    /// The bytes of key `id`, without the check that the span falls on characters.
    pub fn bytes(&self, id: u32) -> &[u8] {
        &self.text.as_bytes()[self.span(id)]
    }

    /// Whether both hold the same keys in the same order (rows aside).
    pub fn same_keys(&self, other: &Keys) -> bool {
        self.spans == other.spans
            && (Arc::ptr_eq(&self.text, &other.text) || self.text == other.text)
    }
}

/// Distinct strings of a string column, and each row's index into them.
#[derive(Debug, Clone, Default)]
pub struct StringColumn {
    /// For each row, an index into `dict`, or [`NULL_CODE`].
    pub codes: Vec<u32>,
    /// Distinct values in order of first appearance.
    pub dict: Vec<Box<str>>,
}

/// One column's values, one entry per row.
#[derive(Debug, Clone)]
pub enum ColumnData {
    /// 0 false, 1 true, [`NULL_BOOL`].
    Bool(Vec<u8>),
    /// [`NULL_INT`] is null.
    Integer(Vec<i64>),
    /// NaN is null.
    Number(Vec<f64>),
    /// Days since 1970-01-01; [`NULL_DATE`] is null.
    Date(Vec<i32>),
    String(StringColumn),
}

impl ColumnData {
    /// The values at rows `order`, in that order.
    pub fn gathered(&self, order: &[u32]) -> ColumnData {
        fn gather<T: Copy + Send + Sync>(values: &[T], order: &[u32]) -> Vec<T> {
            order.par_iter().map(|&row| values[row as usize]).collect()
        }
        match self {
            ColumnData::Bool(values) => ColumnData::Bool(gather(values, order)),
            ColumnData::Integer(values) => ColumnData::Integer(gather(values, order)),
            ColumnData::Number(values) => ColumnData::Number(gather(values, order)),
            ColumnData::Date(values) => ColumnData::Date(gather(values, order)),
            ColumnData::String(strings) => ColumnData::String(StringColumn {
                codes: gather(&strings.codes, order),
                dict: strings.dict.clone(),
            }),
        }
    }

    /// The values with row `r` moved to row `to[r]`; `to` is a permutation of the rows.
    /// Each worker fills one stretch of the new rows, reading every row in order and
    /// writing those that land in its stretch: reading in order and writing about is
    /// cheaper than the other way round, which would need the inverse permutation first.
    pub fn scattered(&self, to: &[u32]) -> ColumnData {
        fn scatter<T: Copy + Default + Send + Sync>(values: &[T], to: &[u32]) -> Vec<T> {
            let mut moved = vec![T::default(); values.len()];
            let stretch = values.len().div_ceil(rayon::current_num_threads()).max(1);
            moved
                .par_chunks_mut(stretch)
                .enumerate()
                .for_each(|(index, part)| {
                    let first = index * stretch;
                    for (&value, &place) in values.iter().zip(to) {
                        if let Some(slot) = (place as usize)
                            .checked_sub(first)
                            .and_then(|at| part.get_mut(at))
                        {
                            *slot = value;
                        }
                    }
                });
            moved
        }
        match self {
            ColumnData::Bool(values) => ColumnData::Bool(scatter(values, to)),
            ColumnData::Integer(values) => ColumnData::Integer(scatter(values, to)),
            ColumnData::Number(values) => ColumnData::Number(scatter(values, to)),
            ColumnData::Date(values) => ColumnData::Date(scatter(values, to)),
            ColumnData::String(strings) => ColumnData::String(StringColumn {
                codes: scatter(&strings.codes, to),
                dict: strings.dict.clone(),
            }),
        }
    }

    pub fn column_type(&self) -> ColumnType {
        match self {
            ColumnData::Bool(_) => ColumnType::Bool,
            ColumnData::Integer(_) => ColumnType::Integer,
            ColumnData::Number(_) => ColumnType::Number,
            ColumnData::Date(_) => ColumnType::Date,
            ColumnData::String(_) => ColumnType::String,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub data: ColumnData,
}

/// A loaded table.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub display_path: String,
    pub key_column: String,
    /// Data rows (header excluded).
    pub rows: usize,
    pub keys: Keys,
    /// The kept columns, in the order of [`LoadOptions::columns`].
    pub columns: Vec<Column>,
    pub load_time: Duration,
    /// Data-quality warnings found while loading.
    pub warnings: Vec<Diagnostic>,
    /// Whether [`Table::order_by_key`] has put the rows in key order: row `i` holds key `i`.
    pub rows_are_keys: bool,
    /// For rows put in key order, when asked to keep it: the row of each line of the file,
    /// in file order.
    pub file_order: Option<Vec<u32>>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.name == name)
    }

    /// Puts the rows of a table with one row per key in key order, so that row `i` holds
    /// key `i`: a segment's members are then its rows, and evaluation reads and writes in
    /// order instead of jumping about. A table with repeated keys is left in file order,
    /// as is one already ordered. The file order is kept in `file_order` when
    /// `keep_file_order`: aggregates, whose sums add up in file order, need it.
    pub fn order_by_key(&mut self, keep_file_order: bool) {
        if self.rows_are_keys || self.keys.len() != self.rows {
            return;
        }
        // One column at a time, so that only one is held twice.
        let row_key = &self.keys.row_key;
        for column in &mut self.columns {
            column.data = column.data.scattered(row_key);
        }
        let file_order = std::mem::replace(&mut self.keys.row_key, (0..self.rows as u32).collect());
        self.rows_are_keys = true;
        self.file_order = keep_file_order.then_some(file_order);
    }

    /// A column's values in file order.
    pub fn in_file_order<'a>(&self, data: &'a ColumnData) -> std::borrow::Cow<'a, ColumnData> {
        if !self.rows_are_keys {
            return std::borrow::Cow::Borrowed(data);
        }
        let order = self
            .file_order
            .as_ref()
            .expect("the plan keeps the file order of every table an aggregate reads");
        std::borrow::Cow::Owned(data.gathered(order))
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date, or `None` when it is not a real date.
pub fn parse_date(text: &str) -> Option<i32> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = &bytes[range];
        part.iter().all(u8::is_ascii_digit).then(|| {
            part.iter()
                .fold(0i64, |acc, digit| acc * 10 + i64::from(digit - b'0'))
        })
    };
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day) as i32)
}

/// `YYYY-MM-DD` of a day count since 1970-01-01.
pub fn format_date(days: i32) -> String {
    let (year, month, day) = civil_from_days(i64::from(days));
    format!("{year:04}-{month:02}-{day:02}")
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Counts days through 400-year eras of 146,097 days, with years starting in March so that
/// the leap day falls at the end of a year.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Loads every table that segments use, calling `starting` before each (a progress bar
/// names the table) and `finished` after it.
pub fn load_tables(
    options: &[LoadOptions<'_>],
    sources: &SourceMap,
    starting: &dyn Fn(&LoadOptions<'_>),
    finished: &dyn Fn(&LoadOptions<'_>),
) -> Vec<Result<Table, Vec<Diagnostic>>> {
    // One table at a time: each load already keeps every core busy, and a table's blocks
    // and sorting scratch are freed before the next table needs its own.
    let mut tables: Vec<Result<Table, Vec<Diagnostic>>> = Vec::with_capacity(options.len());
    for options in options {
        starting(options);
        // Model outputs over one customer base have the same keys: their text is kept once.
        let earlier: Vec<&Keys> = tables.iter().flatten().map(|table| &table.keys).collect();
        let table = load::load_table_beside(options, sources, &earlier);
        finished(options);
        tables.push(table);
    }
    tables
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_days_from_the_epoch() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(parse_date("1969-12-31"), Some(-1));
        // 2000 is a leap year: 30 years of 365 days plus 7 leap days, then Jan and Feb.
        assert_eq!(parse_date("2000-03-01"), Some(30 * 365 + 7 + 31 + 29));
        assert_eq!(parse_date("2024-06-30"), Some(19_904));
    }

    #[test]
    fn impossible_dates_are_rejected() {
        for text in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "24-01-01",
            "2024/01/01",
        ] {
            assert_eq!(parse_date(text), None, "{text}");
        }
        assert_eq!(parse_date("2024-02-29"), Some(19_782));
    }

    #[test]
    fn dates_format_back_to_what_was_parsed() {
        for text in [
            "1970-01-01",
            "1900-03-01",
            "2000-02-29",
            "2024-06-30",
            "0001-01-01",
        ] {
            assert_eq!(format_date(parse_date(text).unwrap()), text);
        }
    }
}
