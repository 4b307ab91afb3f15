//! Turning what the loader found into diagnostics that quote the file.
//!
//! A data file is never registered whole: each diagnostic registers the line it points
//! at, cut to a window around the cell when the line is long, so that the rendered report
//! names the file, line and column.

use memchr::{memchr, memchr_iter, memrchr};

use super::csv::Malformed;
use super::parse::{CellAt, Problem, ProblemKind, Tally, MAX_ERRORS};
use crate::diag::{Code, Diagnostic};
use crate::models::ColumnType;
use crate::source::{FileId, SourceMap, Span};

const BOM: &[u8] = b"\xef\xbb\xbf";
/// Characters of a line shown around a cell.
const WINDOW: usize = 120;
/// Characters of a cell shown at most.
const CELL_WINDOW: usize = 80;
/// Characters of a value quoted in a message at most.
const VALUE_WINDOW: usize = 40;

/// Writes diagnostics about one file.
pub struct Reporter<'a> {
    pub input: &'a [u8],
    pub path: &'a str,
    pub table: &'a str,
    pub sources: &'a SourceMap,
}

/// What a diagnostic needs to know about a kept column.
pub struct ColumnInfo<'a> {
    pub name: &'a str,
    pub ty: ColumnType,
}

impl Reporter<'_> {
    /// The physical line of a cell whose record starts on line `at.line`.
    pub fn line_of(&self, at: &CellAt) -> usize {
        let between = self
            .input
            .get(at.record..at.start.max(at.record))
            .unwrap_or_default();
        at.line + memchr_iter(b'\n', between).count()
    }

    /// Registers the line holding `start..end` (which starts on physical line `line`) and
    /// returns the span of the cell in it.
    pub fn excerpt(&self, line: usize, start: usize, end: usize) -> (FileId, Span) {
        let input = self.input;
        let start = start.min(input.len());
        let end = end.clamp(start, input.len());
        let mut line_start = memrchr(b'\n', &input[..start]).map_or(0, |i| i + 1);
        if line_start == 0 && input.starts_with(BOM) {
            line_start = BOM.len().min(start);
        }
        let mut line_end = memchr(b'\n', &input[start..]).map_or(input.len(), |i| start + i);
        if line_end > start && input[line_end - 1] == b'\r' {
            line_end -= 1;
        }
        let cell_end = end.min(line_end).max(start);
        let before = String::from_utf8_lossy(&input[line_start..start]);
        let cell: String = String::from_utf8_lossy(&input[start..cell_end])
            .chars()
            .take(CELL_WINDOW)
            .collect();
        let after = String::from_utf8_lossy(&input[cell_end..line_end]);

        let room = WINDOW.saturating_sub(cell.chars().count());
        let (before_chars, after_chars) = (before.chars().count(), after.chars().count());
        let keep_after = after_chars.min(room - before_chars.min(room / 2));
        let keep_before = before_chars.min(room - keep_after);
        let skipped = before_chars - keep_before;
        let before: String = before.chars().skip(skipped).collect();
        let after: String = after.chars().take(keep_after).collect();

        let span = Span::new(before.len(), before.len() + cell.len());
        let text = format!("{before}{cell}{after}");
        (
            self.sources.add_excerpt(self.path, text, line, skipped + 1),
            span,
        )
    }

    /// The text of a cell as a message quotes it: without its quotes, and cut when long.
    fn value(&self, at: &CellAt) -> String {
        let raw = self.input.get(at.start..at.end).unwrap_or_default();
        let text = match raw {
            [b'"', inner @ .., b'"'] => String::from_utf8_lossy(inner).replace("\"\"", "\""),
            _ => String::from_utf8_lossy(raw).into_owned(),
        };
        shorten(&text)
    }

    /// A diagnostic pointing at the cell `at`.
    fn at_cell(&self, diagnostic: Diagnostic, at: &CellAt, label: &str) -> Diagnostic {
        let (file, span) = self.excerpt(self.line_of(at), at.start, at.end);
        diagnostic.at(file, span, label)
    }

    /// The error for a problem; `key` names the key column.
    pub fn problem(
        &self,
        problem: &Problem,
        width: usize,
        key: &str,
        columns: &[ColumnInfo<'_>],
    ) -> Diagnostic {
        let at = &problem.at;
        let column = |slot: usize| columns.get(slot).map_or("", |info| info.name);
        let path = self.path;
        let (message, label, help) = match problem.kind {
            ProblemKind::Malformed(Malformed::UnclosedQuote { .. }) => (
                format!("a quoted field in `{path}` never ends"),
                "this quote is not closed".to_string(),
                "end the field with `\"`; a quote inside a quoted field is written twice (`\"\"`)"
                    .to_string(),
            ),
            ProblemKind::Malformed(Malformed::AfterQuote { .. }) => (
                "text after the closing quote of a field".to_string(),
                "expected a delimiter or a line end".to_string(),
                "quote the whole field and write each quote inside it twice (`\"\"`)".to_string(),
            ),
            ProblemKind::Ragged { found } => return self.ragged(at, width, found),
            ProblemKind::EmptyKey => (
                format!("empty key in column `{key}`"),
                "no key".to_string(),
                "every row needs a key".to_string(),
            ),
            ProblemKind::NotUtf8 { slot } => return self.not_utf8(at, column(slot)),
            ProblemKind::BadCell { slot } => {
                let ty = columns.get(slot).map_or(ColumnType::String, |info| info.ty);
                let (one, _) = type_phrase(ty);
                let value = self.value(at);
                (
                    format!("cell `{value}` in column `{}` is not {one}", column(slot)),
                    format!("not {one}"),
                    format!(
                        "declare the column as `string` in segc.toml, or set \
                         `on_bad_value = \"null\"` for table `{}` to read such cells as null",
                        self.table
                    ),
                )
            }
        };
        self.at_cell(Diagnostic::new(Code::Data, message), at, &label)
            .help(help)
    }

    /// The error for a cell that is not UTF-8.
    fn not_utf8(&self, at: &CellAt, column: &str) -> Diagnostic {
        let (start, end, label) = self.bad_bytes(at.start, at.end);
        let bad = CellAt { start, end, ..*at };
        let message = format!("cell in column `{column}` is not valid UTF-8");
        self.at_cell(Diagnostic::new(Code::Data, message), &bad, &label)
            .help(NOT_UTF8_HELP)
    }

    /// The first bytes of `start..end` that are not UTF-8, and a label naming them. In a long
    /// cell, the cell's start says little about where the wrong encoding shows.
    pub fn bad_bytes(&self, start: usize, end: usize) -> (usize, usize, String) {
        let raw = self.input.get(start..end).unwrap_or_default();
        let (offset, len) = match std::str::from_utf8(raw) {
            Err(error) => (error.valid_up_to(), error.error_len().unwrap_or(1)),
            Ok(_) => return (start, end, "not UTF-8".to_string()),
        };
        let bytes: Vec<String> = raw
            .get(offset..offset + len)
            .unwrap_or_default()
            .iter()
            .map(|byte| format!("0x{byte:02X}"))
            .collect();
        let label = match bytes.as_slice() {
            [one] => format!("byte {one} is not UTF-8"),
            _ => format!("bytes {} are not UTF-8", bytes.join(" ")),
        };
        (start + offset, start + offset + len, label)
    }

    /// The error for a record with `found` fields where the header has `width`.
    fn ragged(&self, at: &CellAt, width: usize, found: usize) -> Diagnostic {
        let line = self.line_of(at);
        let rest = self.input.get(at.record..).unwrap_or_default();
        let line_end = memchr(b'\n', rest).map_or(self.input.len(), |i| at.record + i);
        let (file, span) = self.excerpt(line, at.record, line_end);
        let fields = |count: usize| match count {
            1 => "1 field".to_string(),
            _ => format!("{count} fields"),
        };
        let message = format!(
            "expected {}, found {found} on line {line} of `{}`",
            fields(width),
            self.path
        );
        Diagnostic::new(Code::Data, message)
            .at(file, span, fields(found))
            .help(
                "every row has as many fields as the header; a value that holds the delimiter \
             must be quoted, and a delimiter at the end of a line starts one more field",
            )
    }

    /// The note that ends a list of errors cut at [`MAX_ERRORS`].
    pub fn more_errors(&self, total: usize) -> Option<Diagnostic> {
        (total > MAX_ERRORS).then(|| {
            let more = total - MAX_ERRORS;
            let errors = if more == 1 { "error" } else { "errors" };
            Diagnostic::new(
                Code::Data,
                format!("and {more} more {errors} in `{}`", self.path),
            )
        })
    }

    /// The warning for cells of a column that did not parse and were read as null.
    pub fn read_as_null(&self, column: &ColumnInfo<'_>, tally: &Tally) -> Option<Diagnostic> {
        let first = tally.first.first()?;
        let (one, many) = type_phrase(column.ty);
        let message = if tally.count == 1 {
            format!(
                "1 cell in column `{}` is not {one} and was read as null ({})",
                column.name,
                self.lines(tally)
            )
        } else {
            format!(
                "{} cells in column `{}` are not {many} and were read as null ({})",
                tally.count,
                column.name,
                self.lines(tally)
            )
        };
        let diagnostic = Diagnostic::new(Code::DataQuality, message)
            .help("fix these cells, or declare the column as `string` in segc.toml");
        Some(self.at_cell(diagnostic, first, "read as null"))
    }

    /// The warning for values outside a column's domain.
    pub fn outside(
        &self,
        column: &str,
        min: f64,
        max: f64,
        meaning: &str,
        tally: &Tally,
    ) -> Option<Diagnostic> {
        let first = tally.first.first()?;
        let message = if tally.count == 1 {
            format!(
                "1 value in column `{column}` is outside {min} to {max} ({})",
                self.lines(tally)
            )
        } else {
            format!(
                "{} values in column `{column}` are outside {min} to {max} ({})",
                tally.count,
                self.lines(tally)
            )
        };
        let diagnostic = Diagnostic::new(Code::DataQuality, message).help(meaning.to_string());
        Some(self.at_cell(diagnostic, first, &format!("outside {min} to {max}")))
    }

    /// "line 4" or "lines 4, 9, 12 and more".
    fn lines(&self, tally: &Tally) -> String {
        let lines: Vec<String> = tally
            .first
            .iter()
            .map(|at| self.line_of(at).to_string())
            .collect();
        let word = if lines.len() == 1 { "line" } else { "lines" };
        let more = if tally.count > lines.len() {
            " and more"
        } else {
            ""
        };
        format!("{word} {}{more}", lines.join(", "))
    }
}

/// What to do about bytes that are not UTF-8.
pub const NOT_UTF8_HELP: &str =
    "save the file as UTF-8; bytes like these come from encodings such as Latin-1";

/// "a number" and "numbers", for messages.
fn type_phrase(ty: ColumnType) -> (&'static str, &'static str) {
    match ty {
        ColumnType::Bool => (
            "a bool (`true`, `false`, `1` or `0`)",
            "bools (`true`, `false`, `1` or `0`)",
        ),
        ColumnType::Integer => ("an integer", "integers"),
        ColumnType::Number => ("a number", "numbers"),
        ColumnType::Date => ("a date (`YYYY-MM-DD`)", "dates (`YYYY-MM-DD`)"),
        ColumnType::String => ("a string", "strings"),
    }
}

/// `text`, cut to [`VALUE_WINDOW`] characters with an ellipsis.
pub fn shorten(text: &str) -> String {
    if text.chars().count() <= VALUE_WINDOW {
        return text.to_string();
    }
    let mut short: String = text.chars().take(VALUE_WINDOW).collect();
    short.push('…');
    short
}
