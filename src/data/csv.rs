//! Splitting CSV text into records and fields, with the position of everything.
//!
//! Fields are reported as byte ranges of the input, so no cell is copied unless it holds
//! a doubled quote. A quote is special only at the start of a field: `ab"c` is read as it
//! is written, while `"ab"c` is malformed, because it could mean two different things.
//! Lines that are empty are skipped. Line breaks are counted as records are read, those
//! inside quoted fields included, so every position can be turned into a physical line.

use memchr::{memchr, memchr2, memchr_iter};

/// One field: where it is written and where its text is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Field {
    /// Start of the field as written, opening quote included.
    pub start: usize,
    /// End of the field as written, closing quote included, line end excluded.
    pub end: usize,
    /// Where the text starts, with [`IN_SCRATCH`] set when it held a doubled quote and was
    /// unescaped into the record's scratch buffer. (A flag bit rather than a `bool` keeps
    /// the struct four plain words, which copies faster in the inner loop.)
    text_start: usize,
    text_end: usize,
}

/// Marks a field's text as being in the scratch buffer.
const IN_SCRATCH: usize = 1 << (usize::BITS - 1);

impl Field {
    /// The field's text: `input` is the tokenizer's input, `scratch` the record's buffer.
    pub fn text<'a>(&self, input: &'a [u8], scratch: &'a [u8]) -> &'a [u8] {
        let source = if self.in_scratch() { scratch } else { input };
        source
            .get(self.text_start()..self.text_end)
            .unwrap_or_default()
    }

    /// Where the text starts in the input, or in the scratch buffer when [`Field::in_scratch`].
    pub fn text_start(&self) -> usize {
        self.text_start & !IN_SCRATCH
    }

    /// Makes this an unquoted field at `start..end` of the input.
    pub fn set_plain(&mut self, start: usize, end: usize) {
        self.start = start;
        self.end = end;
        self.text_start = start;
        self.text_end = end;
    }

    /// Whether the text lives in the scratch buffer rather than the input.
    pub fn in_scratch(&self) -> bool {
        self.text_start & IN_SCRATCH != 0
    }
}

/// What went wrong with the quoting of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// A quoted field that runs to the end of the input; `at` is the opening quote.
    UnclosedQuote { at: usize },
    /// Text between a closing quote and the next delimiter; `at` is its first byte.
    AfterQuote { at: usize },
}

/// One record as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// Offset of its first byte.
    pub start: usize,
    /// Line breaks between the tokenizer's start and this record.
    pub line: usize,
    /// Number of fields.
    pub fields: usize,
    /// Ended by a line break rather than by the end of the input.
    pub terminated: bool,
    /// The first quoting problem of the record, if any.
    pub malformed: Option<Malformed>,
}

/// How a field ended.
enum Ending {
    Delimiter,
    LineBreak,
    Input,
}

/// Reads records from `input[start..end]`.
pub struct Tokenizer<'a> {
    input: &'a [u8],
    pos: usize,
    end: usize,
    delimiter: u8,
    lines: usize,
}

impl<'a> Tokenizer<'a> {
    /// The delimiter must not be a quote or a line-end byte.
    pub fn new(input: &'a [u8], start: usize, end: usize, delimiter: u8) -> Tokenizer<'a> {
        let end = end.min(input.len());
        Tokenizer {
            input,
            pos: start.min(end),
            end,
            delimiter,
            lines: 0,
        }
    }

    /// Offset of the next unread byte.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Line breaks passed so far.
    pub fn lines(&self) -> usize {
        self.lines
    }

    /// Reads the next record, calling `on_field(index, field)` for each of its fields; the
    /// text of fields with doubled quotes is written to `scratch`, which is cleared first.
    pub fn next_record(
        &mut self,
        scratch: &mut Vec<u8>,
        mut on_field: impl FnMut(usize, Field),
    ) -> Option<Record> {
        scratch.clear();
        self.skip_empty_lines();
        if self.pos >= self.end {
            return None;
        }
        let mut record = Record {
            start: self.pos,
            line: self.lines,
            fields: 0,
            terminated: false,
            malformed: None,
        };
        loop {
            let starts_quoted = self.pos < self.end && self.input[self.pos] == b'"';
            let (field, ending) = if starts_quoted {
                self.quoted_field(scratch, &mut record.malformed)
            } else {
                self.plain_field()
            };
            on_field(record.fields, field);
            record.fields += 1;
            match ending {
                Ending::Delimiter => continue,
                Ending::LineBreak => record.terminated = true,
                Ending::Input => {}
            }
            return Some(record);
        }
    }

    fn skip_empty_lines(&mut self) {
        loop {
            match &self.input[self.pos..self.end] {
                [b'\n', ..] => self.pos += 1,
                [b'\r', b'\n', ..] => self.pos += 2,
                [b'\r'] => {
                    self.pos += 1;
                    continue;
                }
                _ => return,
            }
            self.lines += 1;
        }
    }

    fn plain_field(&mut self) -> (Field, Ending) {
        let start = self.pos;
        let found = memchr2(self.delimiter, b'\n', &self.input[start..self.end]);
        let (end, ending) = self.finish_at(found.map(|i| start + i));
        let text_end = strip_carriage_return(self.input, start, end, &ending);
        let field = Field {
            start,
            end: text_end,
            text_start: start,
            text_end,
        };
        (field, ending)
    }

    /// Moves past the delimiter or line break at `found` (the end of input when `None`)
    /// and returns where the field ends.
    fn finish_at(&mut self, found: Option<usize>) -> (usize, Ending) {
        match found {
            None => {
                let end = self.end;
                self.pos = end;
                (end, Ending::Input)
            }
            Some(at) if self.input[at] == b'\n' => {
                self.pos = at + 1;
                self.lines += 1;
                (at, Ending::LineBreak)
            }
            Some(at) => {
                self.pos = at + 1;
                (at, Ending::Delimiter)
            }
        }
    }

    fn quoted_field(
        &mut self,
        scratch: &mut Vec<u8>,
        malformed: &mut Option<Malformed>,
    ) -> (Field, Ending) {
        let open = self.pos;
        let mut from = open + 1;
        let mut doubled = false;
        let close = loop {
            match memchr(b'"', &self.input[from..self.end]) {
                None => break None,
                Some(i)
                    if self.input.get(from + i + 1) == Some(&b'"') && from + i + 1 < self.end =>
                {
                    doubled = true;
                    from += i + 2;
                }
                Some(i) => break Some(from + i),
            }
        };
        let Some(close) = close else {
            malformed.get_or_insert(Malformed::UnclosedQuote { at: open });
            self.lines += memchr_iter(b'\n', &self.input[open..self.end]).count();
            let end = self.end;
            self.pos = end;
            let field = Field {
                start: open,
                end,
                text_start: open + 1,
                text_end: end,
            };
            return (field, Ending::Input);
        };
        self.lines += memchr_iter(b'\n', &self.input[open..close]).count();
        let mut field = Field {
            start: open,
            end: close + 1,
            text_start: open + 1,
            text_end: close,
        };
        if doubled {
            field.text_start = scratch.len() | IN_SCRATCH;
            unescape(&self.input[open + 1..close], scratch);
            field.text_end = scratch.len();
        }
        self.pos = close + 1;
        let rest = &self.input[self.pos..self.end];
        let ending = match rest {
            [] => Ending::Input,
            [byte, ..] if *byte == self.delimiter => {
                self.pos += 1;
                Ending::Delimiter
            }
            [b'\n', ..] | [b'\r', b'\n', ..] | [b'\r'] => {
                let found = memchr(b'\n', rest).map(|i| self.pos + i);
                self.finish_at(found).1
            }
            _ => {
                malformed.get_or_insert(Malformed::AfterQuote { at: self.pos });
                let start = self.pos;
                let found = memchr2(self.delimiter, b'\n', rest).map(|i| start + i);
                let (end, ending) = self.finish_at(found);
                field.end = strip_carriage_return(self.input, start, end, &ending);
                ending
            }
        };
        (field, ending)
    }
}

/// `end`, or one less when the field ends a line and its last byte is the `\r` of a CRLF
/// line end (or of a file's last line). Before a delimiter, a `\r` is part of the field.
fn strip_carriage_return(input: &[u8], start: usize, end: usize, ending: &Ending) -> usize {
    let ends_line = matches!(ending, Ending::LineBreak | Ending::Input);
    if ends_line && end > start && input[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

/// Appends `quoted` to `out` with each doubled quote made single.
fn unescape(quoted: &[u8], out: &mut Vec<u8>) {
    let mut rest = quoted;
    while let Some(i) = memchr(b'"', rest) {
        out.extend_from_slice(&rest[..=i]);
        rest = rest.get(i + 2..).unwrap_or_default();
    }
    out.extend_from_slice(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record's field texts, with its line and whether it was malformed.
    fn split(input: &str) -> Vec<(usize, Vec<String>, bool)> {
        let bytes = input.as_bytes();
        let mut tokenizer = Tokenizer::new(bytes, 0, bytes.len(), b',');
        let mut scratch = Vec::new();
        let mut records = Vec::new();
        loop {
            let mut fields = Vec::new();
            let Some(record) = tokenizer.next_record(&mut scratch, |_, field| fields.push(field))
            else {
                break;
            };
            let texts = fields
                .iter()
                .map(|field| String::from_utf8_lossy(field.text(bytes, &scratch)).into_owned())
                .collect();
            records.push((record.line, texts, record.malformed.is_some()));
        }
        records
    }

    fn row(line: usize, fields: &[&str]) -> (usize, Vec<String>, bool) {
        (
            line,
            fields.iter().map(|field| field.to_string()).collect(),
            false,
        )
    }

    #[test]
    fn plain_records_split_at_delimiters_and_line_ends() {
        assert_eq!(
            split("a,b\n1,2\n"),
            vec![row(0, &["a", "b"]), row(1, &["1", "2"])]
        );
        assert_eq!(
            split("a,b\r\n1,2\r\n"),
            vec![row(0, &["a", "b"]), row(1, &["1", "2"])]
        );
        assert_eq!(
            split("a,b\n1,2"),
            vec![row(0, &["a", "b"]), row(1, &["1", "2"])]
        );
        assert_eq!(split("1,2,\n"), vec![row(0, &["1", "2", ""])]);
        assert_eq!(split("1,2,"), vec![row(0, &["1", "2", ""])]);
    }

    #[test]
    fn a_carriage_return_before_a_delimiter_is_text() {
        assert_eq!(split("a\r,b\r\n"), vec![row(0, &["a\r", "b"])]);
    }

    #[test]
    fn empty_lines_are_skipped_but_counted() {
        assert_eq!(
            split("a\n\n\r\nb\n\n"),
            vec![row(0, &["a"]), row(3, &["b"])]
        );
    }

    #[test]
    fn quoted_fields_hold_delimiters_quotes_and_line_breaks() {
        let records = split("\"a,b\",\"say \"\"hi\"\"\"\n\"two\nlines\",x\r\n\"\",y\n");
        assert_eq!(
            records,
            vec![
                row(0, &["a,b", "say \"hi\""]),
                row(1, &["two\nlines", "x"]),
                row(3, &["", "y"]),
            ]
        );
    }

    #[test]
    fn a_quote_inside_a_plain_field_is_text() {
        assert_eq!(split("ab\"c,d\n"), vec![row(0, &["ab\"c", "d"])]);
    }

    #[test]
    fn text_after_a_closing_quote_is_malformed() {
        let records = split("\"ab\"c,d\n");
        assert_eq!(records.len(), 1);
        assert!(records[0].2);
        assert_eq!(records[0].1[1], "d");
    }

    #[test]
    fn an_unclosed_quote_runs_to_the_end() {
        let records = split("a,\"b\nc,d\n");
        assert_eq!(records.len(), 1);
        assert!(records[0].2);
        assert_eq!(records[0].1, vec!["a".to_string(), "b\nc,d\n".to_string()]);
    }
}
