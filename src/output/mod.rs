//! The output stage: member lists, `summary.json` and the terminal summary.
//!
//! [`build`] makes every file in memory; [`OutputFolder`] (in `folder`) locks the output
//! folder for the run and replaces its contents with the new files as one step, so that a
//! run that fails or is killed leaves the previous outputs whole.

mod folder;
mod write;

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

pub use folder::{FolderError, Method, OutputFolder};

use crate::check::ir::{ExpectTest, Program, SegmentId, Source};
use crate::config::Config;
use crate::data::{format_date, ColumnData, Table, NULL_BOOL, NULL_CODE, NULL_DATE, NULL_INT};
use crate::eval::{Bits, Evaluation, SegmentResult};
use crate::source::SourceMap;
use crate::syntax::ast::Metric;

/// Appends a CSV field, quoted only where CSV needs it.
pub fn push_field(out: &mut Vec<u8>, field: &str) {
    let needs_quotes = field.is_empty()
        || field
            .bytes()
            .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    if !needs_quotes {
        out.extend_from_slice(field.as_bytes());
        return;
    }
    out.push(b'"');
    for byte in field.bytes() {
        if byte == b'"' {
            out.push(b'"');
        }
        out.push(byte);
    }
    out.push(b'"');
}

/// Appends one cell of a selected column; null is an empty field.
fn push_cell(out: &mut Vec<u8>, data: &ColumnData, row: usize) {
    match data {
        ColumnData::Bool(values) => match values[row] {
            NULL_BOOL => {}
            0 => out.extend_from_slice(b"false"),
            _ => out.extend_from_slice(b"true"),
        },
        ColumnData::Integer(values) => {
            if values[row] != NULL_INT {
                out.extend_from_slice(values[row].to_string().as_bytes());
            }
        }
        ColumnData::Number(values) => {
            if !values[row].is_nan() {
                out.extend_from_slice(format_number(values[row]).as_bytes());
            }
        }
        ColumnData::Date(values) => {
            if values[row] != NULL_DATE {
                out.extend_from_slice(format_date(values[row]).as_bytes());
            }
        }
        ColumnData::String(strings) => {
            let code = strings.codes[row];
            if code != NULL_CODE {
                push_field(out, &strings.dict[code as usize]);
            }
        }
    }
}

/// The shortest decimal that reads back as the same number; zero is `0` whatever its sign.
pub fn format_number(value: f64) -> String {
    // A cell `-0` in a declared number column reads as negative zero, while the same cell
    // in an inferred column reads as the integer 0. Both are zero and compare equal to `0`,
    // so they print alike rather than as `-0` in one table and `0` in another.
    if value == 0.0 {
        return "0".to_string();
    }
    format!("{value}")
}

/// The members of a segment whose file is its keys alone, of one width and copied as they
/// are (the usual list), made by [`push_keys_together`].
fn plain_list<'e>(
    program: &Program,
    evaluation: &'e Evaluation<'_>,
    id: SegmentId,
) -> Option<&'e Bits> {
    let result = evaluation.results[id].as_ref()?;
    let universe = &evaluation.universe;
    let plain = result.rows.is_none()
        && program.segments[id].split.is_none()
        && universe.plain
        && universe.fixed_width().is_some();
    plain.then_some(&result.members)
}

/// The key column a segment's file is headed by: the table's key, or the project's for
/// `combine`.
fn key_column<'c>(program: &Program, config: &'c Config, id: SegmentId) -> &'c str {
    match &program.segments[id].source {
        Source::From(from) => &config.tables[from.table].key,
        Source::Combine(_) => &config.key,
    }
}

/// Appends each list's lines, one per member, keys of one `width` copied from `text`. The
/// lists are made together a range of keys at a time, so that the range's text is read
/// from memory once for all of them rather than once a list.
fn push_keys_together(lists: &mut [(&Bits, &mut Vec<u8>)], text: &[u8], width: usize) {
    const KEYS: usize = 1 << 14;
    let Some(keys) = lists.first().map(|(members, _)| members.len()) else {
        return;
    };
    for start in (0..keys).step_by(KEYS) {
        let range = start..(start + KEYS).min(keys);
        for (members, out) in lists.iter_mut() {
            push_fixed_keys(out, members, range.clone(), text, width);
        }
    }
}

/// Appends one line per member among keys `range`. Lines are put together in a small
/// block that stays in cache, a key copied as 16 bytes where the text goes on that far
/// (two moves, where a copy of a length known only at run time is a call) with its line
/// end written over what came after it; each full block is appended at once.
fn push_fixed_keys(
    out: &mut Vec<u8>,
    members: &Bits,
    range: std::ops::Range<usize>,
    text: &[u8],
    width: usize,
) {
    const WIDE: usize = 16;
    const BLOCK: usize = 4096;
    let mut block = [0u8; BLOCK];
    let mut at = 0;
    members.for_each_id_in(range, |id| {
        if at + width.max(WIDE) + 1 > BLOCK {
            out.extend_from_slice(&block[..at]);
            at = 0;
        }
        let from = id * width;
        if width <= WIDE && from + WIDE <= text.len() {
            block[at..at + WIDE].copy_from_slice(&text[from..from + WIDE]);
            block[at + width] = b'\n';
            at += width + 1;
        } else {
            // A key too wide for the block goes straight to the output.
            out.extend_from_slice(&block[..at]);
            out.extend_from_slice(&text[from..from + width]);
            out.push(b'\n');
            at = 0;
        }
    });
    out.extend_from_slice(&block[..at]);
}

/// Appends the bytes of one segment's output file to `out`.
pub fn segment_csv(
    program: &Program,
    config: &Config,
    tables: &[Option<Table>],
    evaluation: &Evaluation<'_>,
    id: SegmentId,
    out: &mut Vec<u8>,
) {
    let segment = &program.segments[id];
    let Some(result) = &evaluation.results[id] else {
        return;
    };
    let universe = &evaluation.universe;
    out.reserve(result.count * 12 + 64);
    let from_table = match &segment.source {
        Source::From(from) => tables[from.table].as_ref().map(|t| (t, &from.select)),
        Source::Combine(_) => None,
    };
    push_field(out, key_column(program, config, id));
    if let Some((_, select)) = from_table {
        if result.rows.is_some() {
            for column in select.iter() {
                out.push(b',');
                push_field(out, column);
            }
        }
    }
    let group_names: Option<Vec<&str>> = segment
        .split
        .as_ref()
        .map(|split| split.groups.iter().map(|(name, _)| name.as_str()).collect());
    if group_names.is_some() {
        out.extend_from_slice(b",group");
    }
    out.push(b'\n');

    let group_of = |index: usize| -> &str {
        match (&group_names, &result.groups) {
            (Some(names), Some(groups)) => names[groups[index] as usize],
            _ => "",
        }
    };
    match (&result.rows, from_table) {
        (Some(rows), Some((table, select))) => {
            let columns: Vec<&ColumnData> = select
                .iter()
                .filter_map(|name| table.column(name).map(|column| &column.data))
                .collect();
            // Rows come in key order; the member index advances with the key.
            let mut member = 0usize;
            let mut previous: Option<u32> = None;
            for &row in rows {
                let key = table.keys.row_key[row as usize];
                if previous.is_some_and(|p| p != key) {
                    member += 1;
                }
                previous = Some(key);
                push_field(out, table.keys.get(key));
                for data in &columns {
                    out.push(b',');
                    push_cell(out, data, row as usize);
                }
                if group_names.is_some() {
                    out.push(b',');
                    push_field(out, group_of(member));
                }
                out.push(b'\n');
            }
        }
        _ => {
            for (index, id) in result.members.iter().enumerate() {
                if universe.plain {
                    out.extend_from_slice(universe.key_bytes(id));
                } else {
                    push_field(out, universe.key(id));
                }
                if group_names.is_some() {
                    out.push(b',');
                    push_field(out, group_of(index));
                }
                out.push(b'\n');
            }
        }
    }
}

#[derive(Serialize)]
struct Summary<'a> {
    as_of: Option<String>,
    segments: Vec<SegmentSummary<'a>>,
    tables: Vec<TableSummary<'a>>,
}

#[derive(Serialize)]
struct SegmentSummary<'a> {
    name: &'a str,
    file: String,
    output: String,
    /// The size of the output file, with `xxh128`, to tell which run wrote a file.
    bytes: usize,
    xxh128: String,
    source: String,
    members: usize,
    source_keys: usize,
    share: f64,
    expects: Vec<ExpectSummary>,
    time_ms: f64,
}

#[derive(Serialize)]
struct ExpectSummary {
    expect: String,
    passed: bool,
    actual: f64,
}

#[derive(Serialize)]
struct TableSummary<'a> {
    name: &'a str,
    path: &'a str,
    rows: usize,
    keys: usize,
    load_ms: f64,
}

fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

/// Rounds a percentage for display and the summary: four decimals.
fn percent(value: f64) -> f64 {
    (value * 1e4).round() / 1e4
}

/// The text of an `expect` clause, as the user wrote it.
pub fn expect_text(sources: &SourceMap, program: &Program, id: SegmentId, index: usize) -> String {
    let segment = &program.segments[id];
    let span = segment.expects[index].span;
    let text = sources.text(segment.file);
    text.get(span.start..span.end)
        .unwrap_or("expect")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Describes where a segment's members come from.
pub fn source_text(config: &Config, program: &Program, id: SegmentId) -> String {
    match &program.segments[id].source {
        Source::From(from) => config.tables[from.table].name.clone(),
        Source::Combine(_) => "combine".to_string(),
    }
}

/// Everything a run writes: the member lists, each made only when it is written, so that
/// no more than a few are in memory at once, and then `summary.json`, which gives each
/// list's size and XXH3-128 digest.
pub struct Outputs<'a> {
    /// The member lists' file names, in the summary's order.
    pub names: Vec<String>,
    /// About how many bytes each list takes, to group lists that are made together.
    sizes: Vec<usize>,
    make: Box<MakeLists<'a>>,
    summary: Box<MakeSummary<'a>>,
}

/// Appends the bytes of member lists `indices[i]` to `buffers[i]`.
type MakeLists<'a> = dyn Fn(&[usize], &mut [Vec<u8>]) + Sync + 'a;
/// Makes the bytes of `summary.json` from what was written for each list.
type MakeSummary<'a> = dyn Fn(&[Written]) -> Vec<u8> + Sync + 'a;

/// What was written for one member list.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub bytes: usize,
    /// See [`digest_hex`].
    pub xxh128: String,
}

impl<'a> Outputs<'a> {
    /// `make(indices, buffers)` appends the bytes of each `names[indices[i]]` to
    /// `buffers[i]`, with `sizes` as each one's expected size; `summary` gives the bytes of
    /// `summary.json`, given what was written for each name.
    pub fn new(
        names: Vec<String>,
        sizes: Vec<usize>,
        make: impl Fn(&[usize], &mut [Vec<u8>]) + Sync + 'a,
        summary: impl Fn(&[Written]) -> Vec<u8> + Sync + 'a,
    ) -> Outputs<'a> {
        Outputs {
            names,
            sizes,
            make: Box::new(make),
            summary: Box::new(summary),
        }
    }

    /// The lists in groups of consecutive ones whose expected sizes add up to at most
    /// `budget` bytes (a larger list alone): the lists of a group are made together.
    pub fn groups(&self, budget: usize) -> Vec<Vec<usize>> {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut total = 0;
        for index in 0..self.names.len() {
            let size = self.sizes.get(index).copied().unwrap_or(0);
            match groups.last_mut() {
                Some(group) if total + size <= budget => group.push(index),
                _ => {
                    groups.push(vec![index]);
                    total = 0;
                }
            }
            total += size;
        }
        groups
    }

    /// The bytes of the lists `indices`, in `buffers` (each emptied first). Buffers used
    /// again keep their memory, which the system need not hand over anew.
    pub fn make_together(&self, indices: &[usize], buffers: &mut [Vec<u8>]) {
        buffers.iter_mut().for_each(Vec::clear);
        (self.make)(indices, buffers);
    }

    /// The bytes of member list `index`.
    pub fn make(&self, index: usize) -> Vec<u8> {
        let mut bytes = [Vec::new()];
        (self.make)(&[index], &mut bytes);
        let [bytes] = bytes;
        bytes
    }

    /// The bytes of `summary.json`.
    pub fn summary(&self, written: &[Written]) -> Vec<u8> {
        (self.summary)(written)
    }

    /// Every file made in memory, `summary.json` last, as a run would write them; for
    /// checks that need no folder.
    pub fn make_all(&self) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = (0..self.names.len())
            .map(|index| (self.names[index].clone(), self.make(index)))
            .collect();
        let written: Vec<Written> = files
            .iter()
            .map(|(_, bytes)| Written {
                bytes: bytes.len(),
                xxh128: digest_hex(bytes),
            })
            .collect();
        files.push((SUMMARY_FILE.to_string(), self.summary(&written)));
        files
    }

    /// Every file name, `summary.json` last.
    pub fn all_names(&self) -> impl Iterator<Item = &str> {
        self.names
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(SUMMARY_FILE))
    }

    /// How many files a run writes, `summary.json` included.
    pub fn len(&self) -> usize {
        self.names.len() + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

/// The name of the summary file.
pub const SUMMARY_FILE: &str = "summary.json";

/// The XXH3 128-bit digest of `bytes` in lower-case hex, as `xxh128sum` prints it. A
/// digest of every output byte has to keep up with writing them: XXH3 runs at memory speed,
/// where MD5 took longer than making the files.
pub fn digest_hex(bytes: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(bytes))
}

/// The run's output files, to be made as they are written, in a fixed order.
#[allow(clippy::too_many_arguments)]
pub fn build<'a>(
    program: &'a Program,
    config: &'a Config,
    tables: &'a [Option<Table>],
    evaluation: &'a Evaluation<'_>,
    outputs: &'a [SegmentId],
    sources: &'a SourceMap,
    as_of: Option<i32>,
) -> Outputs<'a> {
    let names: Vec<String> = outputs
        .iter()
        .map(|&id| format!("{}.csv", program.segments[id].name))
        .collect();
    let sizes = outputs
        .iter()
        .map(|&id| match &evaluation.results[id] {
            Some(result) => match &result.rows {
                Some(rows) => rows.len() * 32,
                None => result.count * 12,
            },
            None => 0,
        })
        .collect();
    let make = move |indices: &[usize], buffers: &mut [Vec<u8>]| {
        let mut plain: Vec<(&Bits, &mut Vec<u8>)> = Vec::new();
        for (&index, out) in indices.iter().zip(buffers.iter_mut()) {
            let id = outputs[index];
            match plain_list(program, evaluation, id) {
                Some(members) => {
                    push_field(out, key_column(program, config, id));
                    out.push(b'\n');
                    plain.push((members, out));
                }
                None => segment_csv(program, config, tables, evaluation, id, out),
            }
        }
        if let Some((text, width)) = evaluation.universe.fixed_width() {
            push_keys_together(&mut plain, text, width);
        }
    };
    let summary = move |written: &[Written]| {
        summary_json(
            program, config, tables, evaluation, outputs, sources, as_of, written,
        )
    };
    Outputs::new(names, sizes, make, summary)
}

/// The bytes of `summary.json`.
#[allow(clippy::too_many_arguments)]
fn summary_json(
    program: &Program,
    config: &Config,
    tables: &[Option<Table>],
    evaluation: &Evaluation<'_>,
    outputs: &[SegmentId],
    sources: &SourceMap,
    as_of: Option<i32>,
    written: &[Written],
) -> Vec<u8> {
    let segments = outputs
        .iter()
        .zip(written)
        .filter_map(|(&id, written)| {
            let result = evaluation.results[id].as_ref()?;
            let segment = &program.segments[id];
            Some(SegmentSummary {
                name: &segment.name,
                file: sources.name(segment.file),
                output: format!("{}.csv", segment.name),
                bytes: written.bytes,
                xxh128: written.xxh128.clone(),
                source: source_text(config, program, id),
                members: result.count,
                source_keys: result.denominator,
                share: percent(result.share()),
                expects: result
                    .expects
                    .iter()
                    .enumerate()
                    .map(|(index, outcome)| ExpectSummary {
                        expect: expect_text(sources, program, id, index),
                        passed: outcome.passed,
                        actual: percent(outcome.actual),
                    })
                    .collect(),
                time_ms: millis(result.time),
            })
        })
        .collect();
    let table_summaries = tables
        .iter()
        .flatten()
        .map(|table| TableSummary {
            name: &table.name,
            path: &table.display_path,
            rows: table.rows,
            keys: table.keys.len(),
            load_ms: millis(table.load_time),
        })
        .collect();
    let summary = Summary {
        as_of: as_of.map(format_date),
        segments,
        tables: table_summaries,
    };
    let mut json = serde_json::to_vec_pretty(&summary).unwrap_or_default();
    json.push(b'\n');
    json
}

/// The table printed on the terminal after a run.
pub fn terminal_summary(
    program: &Program,
    config: &Config,
    evaluation: &Evaluation<'_>,
    outputs: &[SegmentId],
) -> String {
    let rows: Vec<[String; 5]> = outputs
        .iter()
        .filter_map(|&id| {
            let result: &SegmentResult = evaluation.results[id].as_ref()?;
            let passed = result.expects.iter().filter(|e| e.passed).count();
            let expects = if result.expects.is_empty() {
                "-".to_string()
            } else if passed == result.expects.len() {
                format!("{passed}/{} ok", result.expects.len())
            } else {
                format!("{passed}/{} FAILED", result.expects.len())
            };
            Some([
                program.segments[id].name.clone(),
                source_text(config, program, id),
                result.count.to_string(),
                format!("{:.1}%", result.share()),
                expects,
            ])
        })
        .collect();
    let headers = ["segment", "source", "members", "share", "expect"];
    let widths: Vec<usize> = (0..5)
        .map(|c| {
            rows.iter()
                .map(|r| r[c].len())
                .chain([headers[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let mut line = |cells: [&str; 5]| {
        let _ = writeln!(
            out,
            "{:<w0$}  {:<w1$}  {:>w2$}  {:>w3$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        );
    };
    line(headers);
    for row in &rows {
        line([&row[0], &row[1], &row[2], &row[3], &row[4]]);
    }
    out
}

/// How an expectation reads in a failure message.
pub fn describe_test(metric: Metric, test: ExpectTest) -> String {
    let unit = if metric == Metric::Share { "%" } else { "" };
    match test {
        ExpectTest::Compare(op, value) => format!("{} {value}{unit}", op.as_str()),
        ExpectTest::Between(low, high) => format!("between {low}{unit} and {high}{unit}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_made_together_hold_each_member_key_on_its_line() {
        // 70,000 keys, more than one range of keys, some wider than the 16-byte copy.
        for width in [5, 9, 16, 21] {
            let keys = 70_000;
            let key = |id: usize| format!("{id:0width$}");
            let text: String = (0..keys).map(key).collect();
            let mut every_third = Bits::new(keys);
            let mut the_last_ones = Bits::new(keys);
            (0..keys).step_by(3).for_each(|id| every_third.set(id));
            (keys - 5..keys).for_each(|id| the_last_ones.set(id));
            let empty = Bits::new(keys);
            let (mut a, mut b, mut c) = (b"h\n".to_vec(), Vec::new(), Vec::new());
            let mut lists = [
                (&every_third, &mut a),
                (&the_last_ones, &mut b),
                (&empty, &mut c),
            ];
            push_keys_together(&mut lists, text.as_bytes(), width);
            let lines = |ids: &mut dyn Iterator<Item = usize>| -> String {
                ids.map(|id| key(id) + "\n").collect()
            };
            let expected = "h\n".to_string() + &lines(&mut (0..keys).step_by(3));
            assert_eq!(String::from_utf8(a).unwrap(), expected, "width {width}");
            assert_eq!(String::from_utf8(b).unwrap(), lines(&mut (keys - 5..keys)));
            assert!(c.is_empty());
        }
    }

    #[test]
    fn lists_are_grouped_up_to_the_budget_in_order() {
        let outputs = Outputs::new(
            (0..6).map(|i| format!("{i}.csv")).collect(),
            vec![10, 5, 20, 1, 1, 16],
            |_: &[usize], _: &mut [Vec<u8>]| {},
            |_: &[Written]| Vec::new(),
        );
        assert_eq!(
            outputs.groups(16),
            [vec![0, 1], vec![2], vec![3, 4], vec![5]]
        );
    }

    #[test]
    fn fields_are_quoted_only_where_csv_needs_it() {
        let mut out = Vec::new();
        for field in ["C1", "a,b", "say \"hi\"", "two\nlines", "", "  spaced "] {
            push_field(&mut out, field);
            out.push(b'|');
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "C1|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|\"\"|  spaced |"
        );
    }

    #[test]
    fn numbers_print_in_their_shortest_form() {
        assert_eq!(format_number(0.7), "0.7");
        assert_eq!(format_number(1234.5), "1234.5");
        assert_eq!(format_number(2.0), "2");
        assert_eq!(format_number(-0.001), "-0.001");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(0.0), "0");
    }
}
