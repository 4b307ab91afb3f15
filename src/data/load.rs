//! Reading a table: its header, then its records into typed columns and sorted keys.
//!
//! The file is read in blocks of a few megabytes that end where a record ends: at the last
//! line end of a block without quotes, and otherwise where the records followed from the
//! block's start say (a line end may sit inside a quoted field). One round of blocks is
//! parsed in parallel while the next is read, so only a few blocks are in memory at once.
//! The file is read whole again only to quote its lines in errors and warnings. The
//! chunks parsed from the blocks are merged in file order, so the result does not depend
//! on where the file was cut or how many threads read it.
//!
//! Where SPEC.md is silent, the loader decides so:
//!
//! - Empty lines are skipped, but count for line numbers; the header is the first line
//!   that is not empty. Header names are kept exactly as written.
//! - A quote opens a quoted field only as a field's first byte, so `ab"c` is read as
//!   written. Text after a closing quote (`"ab"c`) and a quote never closed are errors.
//! - The key column is text unless declared, also where it is kept as a column. Null
//!   spellings do not apply to keys; an empty key is an error.
//! - A text cell or key that is not UTF-8 is an error even with `on_bad_value = "null"`:
//!   the file's encoding is wrong, not one value.
//! - A declared integer column takes only integers that fit in 64 bits (other than the
//!   smallest, which stands for null); an undeclared column with such cells is a number
//!   column. A number too large for a double (`1e999`) is not a number.
//! - The delimiter cannot be a quote or a line-end byte.
//! - A file reports its first ten errors in file order, then how many more there are.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::time::{Duration, Instant};

use memchr::memchr;
use rayon::prelude::*;

use super::column::Values;
use super::csv::{Field, Tokenizer};
use super::keys::{sort_keys, ChunkKeys};
use super::parse::{
    parse_chunk, CellAt, Chunk, Context, Guess, Inferred, Plan, Problem, ProblemKind, Slot,
    SlotValues, Tally, MAX_ERRORS,
};
use super::report::{ColumnInfo, Reporter};
use super::{Column, Header, Keys, LoadOptions, Table};
use crate::diag::{did_you_mean, Code, Diagnostic};
use crate::models::ColumnType;
use crate::source::SourceMap;

const BOM: &[u8] = b"\xef\xbb\xbf";
/// Files smaller than this are read as one chunk.
const MIN_CHUNK: usize = 1 << 20;

/// Reads the header of a table and infers column types from at most `sample_rows` rows.
pub fn read_header(
    options: &LoadOptions<'_>,
    sample_rows: Option<usize>,
    sources: &SourceMap,
) -> Result<Header, Vec<Diagnostic>> {
    check_delimiter(options)?;
    let input = match sample_rows {
        None => read_file(options)?,
        Some(rows) => read_prefix(options, rows)?,
    };
    let reporter = reporter(options, &input, sources);
    let header = parse_header(&input, options, &reporter)?;

    let slots: Vec<Slot> = (0..header.names.len())
        .filter(|&column| {
            let name = &header.names[column];
            name != options.key && !options.declared.contains_key(name)
        })
        .map(|column| Slot {
            column,
            plan: Plan::Probe,
            domain: None,
        })
        .collect();
    // A sample is read in one piece; a whole file in chunks, like `load_table` does.
    let context = context(options, &input, header.names.len());
    let (ranges, plain) = match sample_rows {
        Some(_) => {
            let data = header.data_start..input.len();
            let plain = !has_quote(&input[data.clone()]);
            (vec![data], plain)
        }
        None => split_chunks(&input, header.data_start, None),
    };
    let mut chunks: Vec<Chunk> = ranges
        .into_par_iter()
        .map(|range| parse_chunk(&context, range, &slots, sample_rows, plain))
        .collect();
    let mut line = header.data_line;
    for chunk in &mut chunks {
        shift_lines(chunk, line);
        line += chunk.lines;
    }
    let counts: Vec<usize> = chunks.iter().map(|chunk| chunk.problem_count).collect();
    let problems: Vec<Problem> = chunks
        .iter()
        .flat_map(|chunk| chunk.problems.iter().copied())
        .collect();
    let width = header.names.len();
    report_problems(&reporter, &counts, &problems, width, options.key, &[])?;

    let mut types: Vec<ColumnType> = header
        .names
        .iter()
        .map(|name| {
            options
                .declared
                .get(name)
                .copied()
                .unwrap_or(ColumnType::String)
        })
        .collect();
    for (index, slot) in slots.iter().enumerate() {
        let guess = chunks
            .iter()
            .map(|chunk| chunk_type(&chunk.slots[index].values));
        if let Some(ty) = guess.fold(None, join) {
            types[slot.column] = ty;
        }
    }
    let rows_read = chunks.iter().map(|chunk| chunk.records).sum();
    Ok(Header {
        names: header.names,
        types,
        rows_read,
    })
}

/// Loads a whole table.
pub fn load_table(
    options: &LoadOptions<'_>,
    sources: &SourceMap,
) -> Result<Table, Vec<Diagnostic>> {
    load_in_chunks(options, sources, None, &[])
}

/// Loads a whole table; when its keys are those of a table in `earlier`, it shares their
/// text.
pub fn load_table_beside(
    options: &LoadOptions<'_>,
    sources: &SourceMap,
    earlier: &[&Keys],
) -> Result<Table, Vec<Diagnostic>> {
    load_in_chunks(options, sources, None, earlier)
}

/// Loads a whole table, reading the file in blocks of about `block` bytes ([`BLOCK`] when
/// `None`).
pub(super) fn load_in_chunks(
    options: &LoadOptions<'_>,
    sources: &SourceMap,
    block: Option<usize>,
    earlier: &[&Keys],
) -> Result<Table, Vec<Diagnostic>> {
    let started = Instant::now();
    let loaded = match load_blocks(options, sources, block, earlier, true) {
        // A column's type changed in a way the merged values cannot follow: the file is
        // read again, with every chunk kept until the types are settled.
        Err(Failed::Restart) => load_blocks(options, sources, block, earlier, false),
        other => other,
    };
    match loaded {
        Ok(mut table) => {
            table.load_time = started.elapsed();
            Ok(table)
        }
        Err(Failed::Errors(errors)) => Err(errors),
        Err(Failed::Restart) => Err(vec![bug(options, "merging")]),
    }
}

/// Why a load stopped.
enum Failed {
    Errors(Vec<Diagnostic>),
    /// Merging round by round could not follow a column's type.
    Restart,
}

impl From<Vec<Diagnostic>> for Failed {
    fn from(errors: Vec<Diagnostic>) -> Failed {
        Failed::Errors(errors)
    }
}

/// Loads a table. With `merging`, each round's values are merged into the columns as
/// soon as the round is parsed and freed (see [`Merged`]); a column whose type then
/// changes in a way that needs the text of merged cells gives [`Failed::Restart`].
fn load_blocks(
    options: &LoadOptions<'_>,
    sources: &SourceMap,
    block: Option<usize>,
    earlier: &[&Keys],
    merging: bool,
) -> Result<Table, Failed> {
    check_delimiter(options)?;
    let head = read_prefix(options, 0)?;
    let head_reporter = reporter(options, &head, sources);
    let header = parse_header(&head, options, &head_reporter)?;
    let slots = plan_slots(options, &header, &head_reporter)?;
    let width = header.names.len();

    let open = || -> std::io::Result<File> {
        let mut file = File::open(options.path)?;
        std::io::Seek::seek(
            &mut file,
            std::io::SeekFrom::Start(header.data_start as u64),
        )?;
        Ok(file)
    };
    let file = open().map_err(|error| io_error(options, &error))?;
    let mut blocks = Blocks::new(
        file,
        header.data_start,
        block.unwrap_or(BLOCK),
        options.delimiter,
    );
    let read = |blocks: &mut Blocks| {
        blocks
            .take(rayon::current_num_threads().max(1) * 2)
            .map_err(|error| io_error(options, &error))
    };
    // One round of blocks is read while the one before is parsed.
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut spans: Vec<(usize, usize, bool)> = Vec::new();
    let mut merged: Option<Vec<Merged>> = merging.then(|| slots.iter().map(Merged::new).collect());
    let mut round = read(&mut blocks)?;
    while !round.is_empty() {
        let (parsed, next) = rayon::join(
            || {
                round
                    .par_iter()
                    .map(|block| parse_block(options, width, block, &slots))
                    .collect::<Vec<Chunk>>()
            },
            || read(&mut blocks),
        );
        spans.extend(round.iter().map(|b| (b.start, b.bytes.len(), b.plain)));
        for mut chunk in parsed {
            if let Some(columns) = &mut merged {
                for (column, slot) in columns.iter_mut().zip(&mut chunk.slots) {
                    let values = std::mem::replace(&mut slot.values, SlotValues::Key);
                    if !column.take(values) {
                        return Err(Failed::Restart);
                    }
                }
            }
            chunks.push(chunk);
        }
        round = next?;
    }
    drop(blocks);
    let reparse = |number: usize, forced: &[Slot]| -> Result<Chunk, Vec<Diagnostic>> {
        let (start, len, plain) = spans[number];
        let block = read_block(options, start, len, plain)?;
        let chunk = parse_block(options, width, &block, forced);
        if chunk.records != chunks[number].records || chunk.lines != chunks[number].lines {
            return Err(vec![changed(options)]);
        }
        Ok(chunk)
    };
    let types: Vec<ColumnType> = match &merged {
        Some(columns) => columns
            .iter()
            .zip(&slots)
            .map(|(c, s)| c.column_type(s))
            .collect(),
        None => {
            let redone = settle_types(&slots, &chunks, reparse)?;
            for (number, chunk) in redone.chunks {
                chunks[number] = chunk;
            }
            redone.types
        }
    };

    let mut line = header.data_line;
    for chunk in &mut chunks {
        shift_lines(chunk, line);
        line += chunk.lines;
    }
    // Messages quote the file's lines; it is read again only when there is one to show.
    let noted = chunks.iter().any(|chunk| {
        chunk.problem_count > 0
            || chunk
                .slots
                .iter()
                .any(|slot| slot.bad.count > 0 || slot.outside.count > 0)
    });
    let input = if noted { read_file(options)? } else { head };
    let reporter = reporter(options, &input, sources);
    let columns: Vec<ColumnInfo<'_>> = slots
        .iter()
        .zip(&types)
        .map(|(slot, &ty)| ColumnInfo {
            name: &header.names[slot.column],
            ty,
        })
        .collect();
    let counts: Vec<usize> = chunks.iter().map(|chunk| chunk.problem_count).collect();
    let problems: Vec<Problem> = chunks
        .iter()
        .flat_map(|chunk| chunk.problems.iter().copied())
        .collect();
    report_problems(&reporter, &counts, &problems, width, options.key, &columns)?;

    let rows: usize = chunks.iter().map(|chunk| chunk.rows).sum();
    if rows >= u32::MAX as usize {
        let message = format!(
            "`{}` has {rows} rows; segc reads at most 4294967294",
            options.display_path
        );
        return Err(vec![Diagnostic::new(Code::Data, message)].into());
    }
    let mut warnings = Vec::new();
    for (index, info) in columns.iter().enumerate() {
        let bad = merge_tallies(&chunks, |chunk| &chunk.slots[index].bad);
        warnings.extend(reporter.read_as_null(info, &bad));
        let numeric = matches!(info.ty, ColumnType::Integer | ColumnType::Number);
        if let (Some(domain), true) = (options.domains.get(info.name), numeric) {
            let outside = merge_tallies(&chunks, |chunk| &chunk.slots[index].outside);
            warnings.extend(reporter.outside(
                info.name,
                domain.min,
                domain.max,
                domain.meaning,
                &outside,
            ));
        }
    }
    drop(input);

    // Keys first, so that their copies are gone before the columns are merged.
    let chunk_keys: Vec<ChunkKeys> = chunks
        .iter_mut()
        .map(|chunk| std::mem::take(&mut chunk.keys))
        .collect();
    let sorted = sort_keys(&chunk_keys, earlier);
    drop(chunk_keys);
    let Some((keys, repeated)) = sorted else {
        return Err(vec![bug(options, "keys")].into());
    };
    if options.one_row_per_key && repeated.count > 0 {
        warnings.push(repeated_keys(options, repeated.count, &repeated.first));
    }
    let merged: Vec<Option<Values>> = match merged {
        Some(columns) => columns
            .into_iter()
            .zip(&types)
            .map(|(column, &ty)| column.into_values(ty))
            .collect(),
        None => merge_columns(&mut chunks, &types, rows),
    };

    let mut columns = Vec::new();
    for (slot, values) in slots.iter().zip(merged).skip(1) {
        let Some(values) = values else {
            return Err(vec![bug(options, &header.names[slot.column])].into());
        };
        columns.push(Column {
            name: header.names[slot.column].clone(),
            data: values.into_data(),
        });
    }
    Ok(Table {
        name: options.table.to_string(),
        display_path: options.display_path.to_string(),
        key_column: options.key.to_string(),
        rows,
        keys,
        columns,
        // Set by the caller, which may read the file twice.
        load_time: Duration::ZERO,
        warnings,
        rows_are_keys: false,
        file_order: None,
    })
}

/// One column's values merged so far, round by round, while every chunk's values fit the
/// type so far: nulls until a value comes, integers that become numbers when a number
/// comes. A chunk that needs the text of merged cells (a string after other values, say)
/// cannot be taken.
enum Merged {
    /// The key slot, or a column whose every cell so far is null; `soft` as in
    /// [`Inferred::Nulls`].
    Nulls {
        rows: usize,
        soft: bool,
    },
    Values(Values),
}

impl Merged {
    fn new(slot: &Slot) -> Merged {
        match slot.plan {
            Plan::Declared(ty) => Merged::Values(Values::nulls(ty, 0)),
            _ => Merged::Nulls {
                rows: 0,
                soft: false,
            },
        }
    }

    /// Appends a chunk's values; `false` when they cannot be merged.
    fn take(&mut self, values: SlotValues) -> bool {
        let values = match values {
            SlotValues::Key | SlotValues::Probe(_) => return true,
            SlotValues::Inferred(Inferred::Lost { .. }) => return false,
            SlotValues::Inferred(Inferred::Nulls { rows, soft }) => match self {
                Merged::Nulls {
                    rows: so_far,
                    soft: soft_so_far,
                } => {
                    *so_far += rows;
                    *soft_so_far |= soft;
                    return true;
                }
                Merged::Values(merged) => {
                    if soft && merged.column_type() == ColumnType::String {
                        return false;
                    }
                    Values::nulls(merged.column_type(), rows)
                }
            },
            SlotValues::Declared(values) | SlotValues::Inferred(Inferred::Values(values)) => values,
        };
        let ty = values.column_type();
        if let Merged::Nulls { rows, soft } = *self {
            if soft && ty == ColumnType::String {
                return false;
            }
            *self = Merged::Values(Values::nulls(ty, rows));
        }
        let Merged::Values(merged) = self else {
            return false;
        };
        let so_far = merged.column_type();
        let (values, widened) = match (so_far, ty) {
            _ if so_far == ty => (Some(values), None),
            (ColumnType::Integer, ColumnType::Number) => (Some(values), Some(ColumnType::Number)),
            (ColumnType::Number, ColumnType::Integer) => (values.widen(ColumnType::Number), None),
            _ => (None, None),
        };
        let Some(values) = values else {
            return false;
        };
        if let Some(ty) = widened {
            let taken = std::mem::replace(merged, Values::nulls(ty, 0));
            match taken.widen(ty) {
                Some(wide) => *merged = wide,
                None => return false,
            }
        }
        merged.append(values).is_ok()
    }

    /// The type the merged values settle on.
    fn column_type(&self, slot: &Slot) -> ColumnType {
        match (self, slot.plan) {
            (Merged::Values(values), _) => values.column_type(),
            (Merged::Nulls { .. }, Plan::Declared(ty)) => ty,
            (Merged::Nulls { .. }, _) => ColumnType::String,
        }
    }

    /// The column as type `ty`; `None` for the key slot.
    fn into_values(self, ty: ColumnType) -> Option<Values> {
        match self {
            Merged::Values(values) => values.widen(ty),
            Merged::Nulls { rows, .. } => Some(Values::nulls(ty, rows)),
        }
    }
}

/// Bytes of a file read at a time.
const BLOCK: usize = 4 << 20;

/// A run of whole records of a file.
struct Block {
    /// Where the bytes are in the file.
    start: usize,
    bytes: Vec<u8>,
    /// The bytes hold no quote, so their records are their lines.
    plain: bool,
}

/// Reads a file from a record's start in blocks that end where a record ends.
struct Blocks {
    file: File,
    /// Where the next block starts in the file.
    start: usize,
    size: usize,
    delimiter: u8,
    /// Bytes read past the end of the last block: the start of its next record.
    rest: Vec<u8>,
    done: bool,
}

impl Blocks {
    fn new(file: File, start: usize, size: usize, delimiter: u8) -> Blocks {
        Blocks {
            file,
            start,
            size: size.max(1),
            delimiter,
            rest: Vec::new(),
            done: false,
        }
    }

    /// Up to `count` blocks; fewer only at the end of the file.
    fn take(&mut self, count: usize) -> std::io::Result<Vec<Block>> {
        let mut blocks = Vec::with_capacity(count);
        while blocks.len() < count {
            match self.next()? {
                Some(block) => blocks.push(block),
                None => break,
            }
        }
        Ok(blocks)
    }

    fn next(&mut self) -> std::io::Result<Option<Block>> {
        let mut bytes = std::mem::take(&mut self.rest);
        loop {
            if self.done {
                if bytes.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(self.cut(bytes, None)));
            }
            // Reads grow with what is held, so that a record longer than a block is
            // followed in time linear in its length.
            let have = bytes.len();
            let want = have + self.size.max(have);
            bytes.resize(want, 0);
            let mut filled = have;
            while filled < want {
                match self.file.read(&mut bytes[filled..]) {
                    Ok(0) => break,
                    Ok(read) => filled += read,
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(error) => return Err(error),
                }
            }
            bytes.truncate(filled);
            if filled < want {
                self.done = true;
                continue;
            }
            if let Some(end) = records_end_in(&bytes, self.delimiter) {
                return Ok(Some(self.cut(bytes, Some(end))));
            }
            // Not one whole record yet: read on.
        }
    }

    /// The block of `bytes[..end]` (all of them when `None`); the rest waits for the next.
    fn cut(&mut self, mut bytes: Vec<u8>, end: Option<usize>) -> Block {
        if let Some(end) = end {
            self.rest = bytes[end..].to_vec();
            bytes.truncate(end);
        }
        let start = self.start;
        self.start += bytes.len();
        let plain = memchr(b'"', &bytes).is_none();
        Block {
            start,
            bytes,
            plain,
        }
    }
}

/// Where the last record that ends with a line break in `bytes` ends; `bytes` starts at a
/// record's start. Without quotes that is after the last line break; with them, records
/// are followed from the start, as a line break may be inside a quoted field.
fn records_end_in(bytes: &[u8], delimiter: u8) -> Option<usize> {
    if memchr(b'"', bytes).is_none() {
        return memchr::memrchr(b'\n', bytes).map(|at| at + 1);
    }
    let mut tokenizer = Tokenizer::new(bytes, 0, bytes.len(), delimiter);
    let mut scratch = Vec::new();
    let mut end = None;
    while let Some(record) = tokenizer.next_record(&mut scratch, |_, _| {}) {
        if !record.terminated {
            break;
        }
        end = Some(tokenizer.position());
    }
    end
}

/// The block of `len` bytes at `start`, read again.
fn read_block(
    options: &LoadOptions<'_>,
    start: usize,
    len: usize,
    plain: bool,
) -> Result<Block, Vec<Diagnostic>> {
    let read = || -> std::io::Result<Vec<u8>> {
        let mut file = File::open(options.path)?;
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(start as u64))?;
        let mut bytes = Vec::with_capacity(len);
        (&mut file).take(len as u64).read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    let bytes = read().map_err(|error| io_error(options, &error))?;
    if bytes.len() != len {
        return Err(vec![changed(options)]);
    }
    Ok(Block {
        start,
        bytes,
        plain,
    })
}

/// Reads a block's records through `slots`, with offsets counted from the file's start.
fn parse_block(options: &LoadOptions<'_>, width: usize, block: &Block, slots: &[Slot]) -> Chunk {
    let context = context(options, &block.bytes, width);
    let mut chunk = parse_chunk(&context, 0..block.bytes.len(), slots, None, block.plain);
    shift_offsets(&mut chunk, block.start);
    chunk
}

/// The error for a file that changed while it was read.
fn changed(options: &LoadOptions<'_>) -> Diagnostic {
    let message = format!("`{}` changed while segc read it", options.display_path);
    Diagnostic::new(Code::Io, message)
        .help("run again once the program writing the file has finished")
}

fn reporter<'a>(
    options: &'a LoadOptions<'_>,
    input: &'a [u8],
    sources: &'a SourceMap,
) -> Reporter<'a> {
    Reporter {
        input,
        path: options.display_path,
        table: options.table,
        sources,
    }
}

fn context<'a>(options: &'a LoadOptions<'_>, input: &'a [u8], width: usize) -> Context<'a> {
    Context {
        input,
        delimiter: options.delimiter,
        width,
        null_values: options.null_values,
        on_bad_value: options.on_bad_value,
    }
}

fn check_delimiter(options: &LoadOptions<'_>) -> Result<(), Vec<Diagnostic>> {
    if matches!(options.delimiter, b'"' | b'\n' | b'\r') {
        let message = format!(
            "table `{}` has the delimiter {:?}, which CSV reserves for quotes and line ends",
            options.table,
            char::from(options.delimiter)
        );
        return Err(vec![Diagnostic::new(Code::Config, message)
            .help("use a delimiter such as `,`, `;`, `|` or a tab")]);
    }
    Ok(())
}

fn io_error(options: &LoadOptions<'_>, error: &std::io::Error) -> Vec<Diagnostic> {
    let path = options.display_path;
    // The system's "Is a directory" does not say which path is the folder.
    let message = if options.path.is_dir() {
        format!("`{path}` is a folder, not a file")
    } else {
        format!("cannot read `{path}`: {error}")
    };
    let help = format!(
        "the `path` of table `{}` in segc.toml must name a readable CSV file",
        options.table
    );
    vec![Diagnostic::new(Code::Io, message).help(help)]
}

/// The whole file. A large file is read in blocks by several threads at once, which
/// also spreads the cost of mapping fresh memory over them.
fn read_file(options: &LoadOptions<'_>) -> Result<Vec<u8>, Vec<Diagnostic>> {
    read_whole(options.path).map_err(|error| io_error(options, &error))
}

#[cfg(unix)]
fn read_whole(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;

    const BLOCK: usize = 4 << 20;
    let mut file = File::open(path)?;
    let len = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
    if len < 2 * BLOCK {
        let mut input = Vec::new();
        file.read_to_end(&mut input)?;
        return Ok(input);
    }
    let mut input = vec![0u8; len];
    input
        .par_chunks_mut(BLOCK)
        .enumerate()
        .try_for_each(|(index, block)| file.read_exact_at(block, (index * BLOCK) as u64))?;
    // Whatever was appended since the length was taken.
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(len as u64))?;
    file.read_to_end(&mut input)?;
    Ok(input)
}

#[cfg(not(unix))]
fn read_whole(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    std::fs::read(path)
}

/// The start of the file up to the end of its header and `rows` records, read in growing
/// blocks; the whole file when it is shorter.
fn read_prefix(options: &LoadOptions<'_>, rows: usize) -> Result<Vec<u8>, Vec<Diagnostic>> {
    let mut file = File::open(options.path).map_err(|error| io_error(options, &error))?;
    let mut input = Vec::new();
    let mut block: u64 = 64 * 1024;
    loop {
        let read = (&mut file)
            .take(block)
            .read_to_end(&mut input)
            .map_err(|error| io_error(options, &error))?;
        if (read as u64) < block {
            return Ok(input);
        }
        if let Some(end) = records_end(&input, options.delimiter, rows.saturating_add(1)) {
            input.truncate(end);
            return Ok(input);
        }
        block = block.saturating_mul(2);
    }
}

/// Where the first `records` records end, if they all end with a line break in `input`.
fn records_end(input: &[u8], delimiter: u8, records: usize) -> Option<usize> {
    let mut tokenizer = Tokenizer::new(input, 0, input.len(), delimiter);
    let mut scratch = Vec::new();
    for _ in 0..records {
        let record = tokenizer.next_record(&mut scratch, |_, _| {})?;
        if !record.terminated {
            return None;
        }
    }
    Some(tokenizer.position())
}

/// The header's names and where the data starts.
struct HeaderLine {
    names: Vec<String>,
    /// Offset of the first byte after the header.
    data_start: usize,
    /// The 1-based line of `data_start`.
    data_line: usize,
    /// Offset of the header's first byte, and where it ends.
    span: Range<usize>,
}

fn parse_header(
    input: &[u8],
    options: &LoadOptions<'_>,
    reporter: &Reporter<'_>,
) -> Result<HeaderLine, Vec<Diagnostic>> {
    let start = if input.starts_with(BOM) { BOM.len() } else { 0 };
    let path = options.display_path;
    // Points at the start of the file, so that even a file of no bytes is named with a line
    // and column like every other data error.
    let no_header = |message: String| {
        let (file, span) = reporter.excerpt(1, start, start);
        let help = format!(
            "a table starts with a header line that names its columns, the key column `{}` \
             among them",
            options.key
        );
        vec![Diagnostic::new(Code::Data, message)
            .at(file, span, "expected a header line here")
            .help(help)]
    };
    if input.len() == start {
        return Err(no_header(format!("`{path}` is empty")));
    }
    let mut tokenizer = Tokenizer::new(input, start, input.len(), options.delimiter);
    let mut fields: Vec<Field> = Vec::new();
    let mut scratch = Vec::new();
    let Some(record) = tokenizer.next_record(&mut scratch, |_, field| fields.push(field)) else {
        return Err(no_header(format!("`{path}` has only empty lines")));
    };
    let line = 1 + record.line;
    let at = |field: &Field| CellAt {
        line,
        record: record.start,
        start: field.start,
        end: field.end,
    };
    if let Some(malformed) = record.malformed {
        let place = match malformed {
            super::csv::Malformed::UnclosedQuote { at }
            | super::csv::Malformed::AfterQuote { at } => at,
        };
        let problem = Problem {
            kind: ProblemKind::Malformed(malformed),
            at: CellAt {
                line,
                record: record.start,
                start: place,
                end: place + 1,
            },
        };
        return Err(vec![reporter.problem(&problem, 0, options.key, &[])]);
    }

    let mut errors = Vec::new();
    let mut names = Vec::new();
    let mut first_place: HashMap<&[u8], &Field> = HashMap::new();
    for (index, field) in fields.iter().enumerate() {
        let text = field.text(input, &scratch);
        let cell = at(field);
        let place = reporter.line_of(&cell);
        if text.is_empty() {
            let (file, span) = reporter.excerpt(place, field.start, field.end);
            let message = format!("column {} of the header of `{path}` has no name", index + 1);
            errors.push(
                Diagnostic::new(Code::Data, message)
                    .at(file, span, "no name")
                    .help("give every column a name"),
            );
        } else if let Some(first) = first_place.get(text) {
            let name = String::from_utf8_lossy(text);
            let (file, span) = reporter.excerpt(place, field.start, field.end);
            let first_cell = at(first);
            let (first_file, first_span) =
                reporter.excerpt(reporter.line_of(&first_cell), first.start, first.end);
            let message = format!("column `{name}` appears twice in the header of `{path}`");
            errors.push(
                Diagnostic::new(Code::Data, message)
                    .at(file, span, "named again here")
                    .related(first_file, first_span, "first named here")
                    .help("rename one of the columns: a name must mean one column"),
            );
        } else {
            first_place.insert(text, field);
        }
        match std::str::from_utf8(text) {
            Ok(name) => names.push(name.to_string()),
            Err(_) => {
                let (start, end, label) = reporter.bad_bytes(field.start, field.end);
                let (file, span) = reporter.excerpt(place, start, end);
                let message = format!(
                    "column {} of the header of `{path}` is not valid UTF-8",
                    index + 1
                );
                errors.push(
                    Diagnostic::new(Code::Data, message)
                        .at(file, span, label)
                        .help(super::report::NOT_UTF8_HELP),
                );
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(HeaderLine {
        names,
        data_start: tokenizer.position(),
        data_line: 1 + tokenizer.lines(),
        span: record.start..fields.last().map_or(record.start, |field| field.end),
    })
}

/// Slot 0 reads the key; slot `i + 1` reads `options.columns[i]`.
fn plan_slots(
    options: &LoadOptions<'_>,
    header: &HeaderLine,
    reporter: &Reporter<'_>,
) -> Result<Vec<Slot>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut find = |name: &str, what: &str| {
        let found = header.names.iter().position(|candidate| candidate == name);
        if found.is_none() {
            let line = header.data_line.saturating_sub(1).max(1);
            let place = CellAt {
                line,
                record: header.span.start,
                start: header.span.start,
                end: header.span.end,
            };
            let (file, span) = reporter.excerpt(reporter.line_of(&place), place.start, place.end);
            let message = format!(
                "{what} `{name}` is not in the header of `{}`",
                options.display_path
            );
            let mut diagnostic = Diagnostic::new(Code::Data, message).at(file, span, "header");
            if let Some(help) = did_you_mean(name, header.names.iter().map(String::as_str)) {
                diagnostic = diagnostic.help(help);
            }
            errors.push(diagnostic);
        }
        found
    };
    let key = find(options.key, "key column");
    let columns: Vec<Option<usize>> = options
        .columns
        .iter()
        .map(|name| find(name, "column"))
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut slots = vec![Slot {
        column: key.unwrap_or_default(),
        plan: Plan::Key,
        domain: None,
    }];
    for (name, column) in options.columns.iter().zip(columns) {
        let plan = match options.declared.get(name) {
            Some(&ty) => Plan::Declared(ty),
            // Keys compare as exact strings, so the key column is text unless declared.
            None if name == options.key => Plan::Declared(ColumnType::String),
            None => Plan::Infer,
        };
        let domain = options
            .domains
            .get(name)
            .map(|domain| (domain.min, domain.max));
        slots.push(Slot {
            column: column.unwrap_or_default(),
            plan,
            domain,
        });
    }
    Ok(slots)
}

/// Whether `data` holds a quote anywhere.
fn has_quote(data: &[u8]) -> bool {
    data.par_chunks(MIN_CHUNK)
        .any(|part| memchr(b'"', part).is_some())
}

/// Cuts the data into chunks of whole lines, or leaves it whole when it holds a quote
/// (then a line end may be inside a field); says whether the data is plain, without quotes.
pub(super) fn split_chunks(
    input: &[u8],
    start: usize,
    chunk: Option<usize>,
) -> (Vec<Range<usize>>, bool) {
    let data = &input[start..];
    let plain = !has_quote(data);
    let target = match chunk {
        _ if !plain => data.len(),
        Some(chunk) => chunk,
        None if data.len() >= 2 * MIN_CHUNK => {
            (data.len() / (rayon::current_num_threads() * 4)).max(MIN_CHUNK)
        }
        None => data.len(),
    };
    let mut ranges = Vec::new();
    let mut from = start;
    while from < input.len() {
        let mut to = (from + target.max(1)).min(input.len());
        if to < input.len() {
            to = memchr(b'\n', &input[to..]).map_or(input.len(), |i| to + i + 1);
        }
        ranges.push(from..to);
        from = to;
    }
    (ranges, plain)
}

/// The type of an inferred column as far as one chunk tells; `None` when all are null.
fn chunk_type(values: &SlotValues) -> Option<ColumnType> {
    match values {
        SlotValues::Key => Some(ColumnType::String),
        SlotValues::Declared(values) | SlotValues::Inferred(Inferred::Values(values)) => {
            Some(values.column_type())
        }
        SlotValues::Inferred(Inferred::Nulls { .. }) | SlotValues::Probe(Guess::Nulls) => None,
        SlotValues::Inferred(Inferred::Lost { .. }) => Some(ColumnType::String),
        SlotValues::Probe(Guess::Type(ty)) => Some(*ty),
    }
}

/// The narrowest type that both fit.
fn join(a: Option<ColumnType>, b: Option<ColumnType>) -> Option<ColumnType> {
    match (a, b) {
        (None, other) | (other, None) => other,
        (Some(a), Some(b)) if a == b => Some(a),
        (Some(ColumnType::Integer), Some(ColumnType::Number))
        | (Some(ColumnType::Number), Some(ColumnType::Integer)) => Some(ColumnType::Number),
        _ => Some(ColumnType::String),
    }
}

/// Whether a chunk's values can become values of `ty` without their text.
fn fits(values: &SlotValues, ty: ColumnType) -> bool {
    match values {
        SlotValues::Inferred(Inferred::Nulls { soft, .. }) => !*soft || ty != ColumnType::String,
        SlotValues::Inferred(Inferred::Values(values)) => {
            let own = values.column_type();
            own == ty || (own == ColumnType::Integer && ty == ColumnType::Number)
        }
        SlotValues::Inferred(Inferred::Lost { .. }) => false,
        SlotValues::Key | SlotValues::Declared(_) | SlotValues::Probe(_) => true,
    }
}

/// The settled type of every slot, and the chunks read again for it.
struct Settled {
    types: Vec<ColumnType>,
    /// Chunks read again with some columns forced to their settled type, by number.
    chunks: Vec<(usize, Chunk)>,
}

/// Decides the type of every slot, reading chunks again (through `reparse`, with forced
/// slots) where a column turned out to be a string column after some of its cells were
/// read as another type.
fn settle_types(
    slots: &[Slot],
    chunks: &[Chunk],
    reparse: impl Fn(usize, &[Slot]) -> Result<Chunk, Vec<Diagnostic>> + Sync,
) -> Result<Settled, Vec<Diagnostic>> {
    let mut redone: Vec<(usize, Chunk)> = Vec::new();
    loop {
        let current = |number: usize| {
            redone
                .iter()
                .rev()
                .find(|(done, _)| *done == number)
                .map_or(&chunks[number], |(_, chunk)| chunk)
        };
        let types: Vec<ColumnType> = (0..slots.len())
            .map(|index| {
                (0..chunks.len())
                    .map(|number| chunk_type(&current(number).slots[index].values))
                    .fold(None, join)
                    .unwrap_or(match slots[index].plan {
                        Plan::Declared(ty) => ty,
                        _ => ColumnType::String,
                    })
            })
            .collect();
        let again: Vec<(usize, Vec<Slot>)> = (0..chunks.len())
            .filter_map(|number| {
                let chunk = current(number);
                let mut forced = slots.to_vec();
                let mut any = false;
                for (index, slot) in forced.iter_mut().enumerate() {
                    if !fits(&chunk.slots[index].values, types[index]) {
                        slot.plan = Plan::Declared(types[index]);
                        any = true;
                    }
                }
                any.then_some((number, forced))
            })
            .collect();
        if again.is_empty() {
            // The last reading of each chunk counts.
            let mut last: Vec<(usize, Chunk)> = Vec::new();
            for (number, chunk) in redone {
                last.retain(|(done, _)| *done != number);
                last.push((number, chunk));
            }
            return Ok(Settled {
                types,
                chunks: last,
            });
        }
        let read: Vec<Result<(usize, Chunk), Vec<Diagnostic>>> = again
            .into_par_iter()
            .map(|(number, forced)| Ok((number, reparse(number, &forced)?)))
            .collect();
        for result in read {
            redone.push(result?);
        }
    }
}

/// Makes a chunk's offsets count from the file's start rather than its block's.
fn shift_offsets(chunk: &mut Chunk, start: usize) {
    let shift = |at: &mut CellAt| {
        at.record += start;
        at.start += start;
        at.end += start;
    };
    for problem in &mut chunk.problems {
        shift(&mut problem.at);
        if let ProblemKind::Malformed(
            super::csv::Malformed::UnclosedQuote { at } | super::csv::Malformed::AfterQuote { at },
        ) = &mut problem.kind
        {
            *at += start;
        }
    }
    for slot in &mut chunk.slots {
        slot.bad.first.iter_mut().for_each(shift);
        slot.outside.first.iter_mut().for_each(shift);
    }
}

/// Makes the chunk's lines count from line `first` of the file.
fn shift_lines(chunk: &mut Chunk, first: usize) {
    for problem in &mut chunk.problems {
        problem.at.line += first;
    }
    for slot in &mut chunk.slots {
        for at in slot
            .bad
            .first
            .iter_mut()
            .chain(slot.outside.first.iter_mut())
        {
            at.line += first;
        }
    }
}

fn merge_tallies(chunks: &[Chunk], tally: impl Fn(&Chunk) -> &Tally) -> Tally {
    let mut merged = Tally::default();
    for chunk in chunks {
        merged.merge(tally(chunk));
    }
    merged
}

/// The errors of a file, the first [`MAX_ERRORS`] in file order and a count of the rest.
fn report_problems(
    reporter: &Reporter<'_>,
    counts: &[usize],
    problems: &[Problem],
    width: usize,
    key: &str,
    columns: &[ColumnInfo<'_>],
) -> Result<(), Vec<Diagnostic>> {
    let total: usize = counts.iter().sum();
    if total == 0 {
        return Ok(());
    }
    let mut errors: Vec<Diagnostic> = problems
        .iter()
        .take(MAX_ERRORS)
        .map(|problem| reporter.problem(problem, width, key, columns))
        .collect();
    errors.extend(reporter.more_errors(total));
    Err(errors)
}

/// Each slot's values over all chunks, as its settled type; `None` for the key slot.
fn merge_columns(chunks: &mut [Chunk], types: &[ColumnType], rows: usize) -> Vec<Option<Values>> {
    let mut parts: Vec<Vec<(SlotValues, usize)>> = types.iter().map(|_| Vec::new()).collect();
    for chunk in chunks.iter_mut() {
        for (index, slot) in chunk.slots.iter_mut().enumerate() {
            let values = std::mem::replace(&mut slot.values, SlotValues::Key);
            parts[index].push((values, chunk.rows));
        }
    }
    // One column after another: each chunk's part is freed once copied, so at most one
    // merged column is being filled while the chunks' parts are still held.
    parts
        .into_iter()
        .zip(types)
        .map(|(parts, &ty)| {
            let mut merged: Option<Values> = None;
            for (values, chunk_rows) in parts {
                let values = match values {
                    SlotValues::Key | SlotValues::Probe(_) => return None,
                    SlotValues::Declared(values) => values,
                    SlotValues::Inferred(Inferred::Nulls { .. }) => Values::nulls(ty, chunk_rows),
                    SlotValues::Inferred(Inferred::Values(values)) => values.widen(ty)?,
                    SlotValues::Inferred(Inferred::Lost { .. }) => return None,
                };
                match &mut merged {
                    None => {
                        let mut first = Values::nulls(ty, 0);
                        first.reserve(rows);
                        first.append(values).ok()?;
                        merged = Some(first);
                    }
                    Some(merged) => merged.append(values).ok()?,
                }
            }
            Some(merged.unwrap_or_else(|| Values::nulls(ty, 0)))
        })
        .collect()
}

fn repeated_keys(options: &LoadOptions<'_>, count: usize, first: &[String]) -> Diagnostic {
    let mut listed: Vec<String> = first
        .iter()
        .map(|key| format!("`{}`", super::report::shorten(key)))
        .collect();
    let more = count.saturating_sub(listed.len());
    let list = if more > 0 {
        format!("{} and {more} more", listed.join(", "))
    } else if listed.len() > 1 {
        let last = listed.pop().unwrap_or_default();
        format!("{} and {last}", listed.join(", "))
    } else {
        listed.join(", ")
    };
    let (keys, appear) = if count == 1 {
        ("key", "appears")
    } else {
        ("keys", "appear")
    };
    let message = format!(
        "{count} {keys} {appear} on more than one row of `{}`: {list}",
        options.display_path
    );
    Diagnostic::new(Code::DataQuality, message).help(format!(
        "table `{}` is expected to have one row per key; a key's rows all count for membership",
        options.table
    ))
}

fn bug(options: &LoadOptions<'_>, what: &str) -> Diagnostic {
    let message = format!("could not assemble `{what}` of `{}`", options.display_path);
    Diagnostic::new(Code::Data, message).help("this is a bug in segc; please report it")
}
