//! The formatter: a parsed `.seg` file printed back in the canonical layout.
//!
//! The layout is a function of the tree and the comments alone: clauses in the order of the
//! language's clause table, one per line, four spaces in, one blank line between segments,
//! canonical spacing and string escapes, and `where` conditions broken at `and`/`or` when
//! they are too long ([`layout`]). Numbers, names and parentheses come out as written.
//!
//! Comments are placed by position. Every output line knows the stretch of source its text
//! came from. A comment inside that stretch, or with code before it on its source line, goes
//! to the end of the output line of that code; a comment on a line of its own between two
//! stretches goes above the line that follows it. A line can end in one comment only, so
//! when several would, the earlier ones go above it. No comment is ever dropped, and their
//! order changes only when clauses move.

mod layout;
mod print;
#[cfg(test)]
mod tests;

use std::fmt::Debug;
use std::ops::Range;

use crate::syntax::ast::{ClauseKind, Comment, SegFile};

pub use layout::WIDTH;

/// The indentation of one level: clauses in a segment.
const INDENT: usize = 4;

/// Prints `file`, parsed from `text`, in the canonical layout.
///
/// The text is needed for what the tree does not hold: which comments stand on a line of
/// their own and where blank lines separate comments before a segment. A file without
/// segments or comments formats to nothing; anything else ends in a line end.
pub fn format_file(text: &str, file: &SegFile) -> String {
    let starts: Vec<usize> = file.comments.iter().map(|c| c.span.start).collect();
    let breaker = layout::Breaker::new(&starts);

    // Lines are collected in source order, so that comments can be placed by position;
    // each segment remembers which lines are its own and prints its clauses in rank order.
    let mut lines = Vec::new();
    let mut segments = Vec::new();
    for segment in &file.segments {
        let first_line = lines.len();
        let name = print::ident(&segment.name);
        let header = segment.span.start..segment.name.span.end;
        lines.push(Line::new(header, 0, format!("segment {name} {{")));
        let mut clauses = Vec::new();
        for clause in &segment.clauses {
            let first = lines.len();
            match &clause.kind {
                ClauseKind::Where(condition) => {
                    lines.extend(breaker.where_lines(clause.span.start, condition));
                }
                kind => {
                    let text = print::clause(kind);
                    lines.push(Line::new(clause.span.start..clause.span.end, INDENT, text));
                }
            }
            clauses.push((clause_rank(&clause.kind), first..lines.len()));
        }
        // A stable sort: repeated clauses, such as several `expect`s, keep their order.
        clauses.sort_by_key(|(rank, _)| *rank);
        let close = lines.len();
        let brace = segment.span.end.saturating_sub(1)..segment.span.end;
        let mut closing = Line::new(brace, 0, "}".to_string());
        closing.comment_indent = INDENT;
        lines.push(closing);
        segments.push(SegmentLines {
            header: first_line,
            clauses,
            close,
        });
    }
    debug_assert!(lines.windows(2).all(|w| w[0].anchor < w[1].anchor));
    let tail = place_comments(text, &file.comments, &mut lines);

    let mut writer = Writer {
        text,
        comments: &file.comments,
        out: String::new(),
    };
    for (index, segment) in segments.iter().enumerate() {
        if index > 0 {
            writer.out.push('\n');
        }
        writer.line(&lines[segment.header], true);
        for (_, range) in &segment.clauses {
            for line in &lines[range.clone()] {
                writer.line(line, false);
            }
        }
        writer.line(&lines[segment.close], false);
    }
    for (index, &comment) in tail.iter().enumerate() {
        let after_code = index > 0 || !segments.is_empty();
        if after_code && blank_before(text, file.comments[comment].span.start) {
            writer.out.push('\n');
        }
        writer.comment(0, comment);
    }

    let mut out = writer.out;
    // A byte-order mark is not part of the tree; keep the file's encoding as it was.
    if text.starts_with('\u{feff}') && !out.is_empty() {
        out.insert(0, '\u{feff}');
    }
    out
}

/// Where a clause goes in the canonical order: the order of SPEC.md's clause table.
pub fn clause_rank(kind: &ClauseKind) -> u8 {
    match kind {
        ClauseKind::Title(_) => 0,
        ClauseKind::Description(_) => 1,
        ClauseKind::From(_) | ClauseKind::Combine(_) => 2,
        ClauseKind::Where(_) => 3,
        ClauseKind::Rank(_) => 4,
        ClauseKind::Select(_) => 5,
        ClauseKind::Split(_) => 6,
        ClauseKind::Expect(_) => 7,
    }
}

/// Whether `after`, the parse of the formatted text of `before`, means what `before` means:
/// the same segments and clauses once clauses are in canonical order, spans aside, and the
/// same comments.
pub fn same_meaning(before: &SegFile, after: &SegFile) -> bool {
    let mut sorted = before.segments.clone();
    for segment in &mut sorted {
        segment
            .clauses
            .sort_by_key(|clause| clause_rank(&clause.kind));
    }
    let texts = |file: &SegFile| {
        let mut texts: Vec<String> = file
            .comments
            .iter()
            .map(|c| c.text.trim_end().to_string())
            .collect();
        texts.sort();
        texts
    };
    without_spans(&sorted) == without_spans(&after.segments) && texts(before) == texts(after)
}

/// The debug rendering of a syntax tree with every span blanked, so that two trees compare
/// equal when they differ only in where their parts were in the source.
///
/// Blanking the rendering rather than walking the tree covers every span field, including
/// ones added to the tree later.
pub fn without_spans(tree: &impl Debug) -> String {
    let rendered = format!("{tree:?}");
    let mut out = String::with_capacity(rendered.len());
    let mut rest = rendered.as_str();
    while let Some(at) = rest.find("Span {") {
        out.push_str(&rest[..at]);
        let candidate = &rest[at..];
        let (kept, skipped) = match span_len(candidate) {
            Some(len) => ("Span", len),
            None => ("Span {", "Span {".len()),
        };
        out.push_str(kept);
        rest = &candidate[skipped..];
    }
    out.push_str(rest);
    out
}

/// The length of the debug rendering of a span at the start of `text`, if one is there.
fn span_len(text: &str) -> Option<usize> {
    fn skip_digits(text: &str) -> Option<&str> {
        let rest = text.trim_start_matches(|c: char| c.is_ascii_digit());
        (rest.len() < text.len()).then_some(rest)
    }
    let rest = text.strip_prefix("Span { start: ")?;
    let rest = skip_digits(rest)?.strip_prefix(", end: ")?;
    let rest = skip_digits(rest)?.strip_prefix(" }")?;
    Some(text.len() - rest.len())
}

/// One line of output and the comments placed on it.
#[derive(Debug)]
struct Line {
    /// Where the line's text begins in the source.
    anchor: usize,
    /// Where the source of the line's text ends: comments before this belong to the line
    /// even on a line of their own, for they sat inside its code.
    end: usize,
    indent: usize,
    /// The indentation of comments above the line; deeper than the line for a closing `}`,
    /// whose comments belong to the segment's body.
    comment_indent: usize,
    text: String,
    /// Comments to print above the line, by index.
    leading: Vec<usize>,
    /// Comments that followed the line's code; the last one ends the line.
    trailing: Vec<usize>,
}

impl Line {
    fn new(source: Range<usize>, indent: usize, text: String) -> Line {
        Line {
            anchor: source.start,
            end: source.end,
            indent,
            comment_indent: indent,
            text,
            leading: Vec::new(),
            trailing: Vec::new(),
        }
    }
}

/// A segment's lines, by index: its header, its clauses in canonical order, its `}`.
struct SegmentLines {
    header: usize,
    clauses: Vec<(u8, Range<usize>)>,
    close: usize,
}

/// Puts each comment on a line; returns those that follow the last line of the file.
///
/// The comments between two anchors are split in two. Those inside the earlier line's code,
/// and any up to the last one that has code before it on its source line, follow the earlier
/// line; the rest, each on a line of its own, precede the later line. This keeps them in
/// source order.
fn place_comments(text: &str, comments: &[Comment], lines: &mut [Line]) -> Vec<usize> {
    let gap_of = |comment: &Comment| lines.partition_point(|l| l.anchor < comment.span.start);
    let mut gaps: Vec<(usize, Range<usize>)> = Vec::new();
    for (index, comment) in comments.iter().enumerate() {
        let gap = gap_of(comment);
        match gaps.last_mut() {
            Some((last, range)) if *last == gap => range.end = index + 1,
            _ => gaps.push((gap, index..index + 1)),
        }
    }

    let mut tail = Vec::new();
    for (gap, range) in gaps {
        let split = if gap == 0 {
            range.start
        } else {
            let inside = lines[gap - 1].end;
            range
                .clone()
                .rev()
                .find(|&c| {
                    let start = comments[c].span.start;
                    start < inside || !on_own_line(text, start)
                })
                .map_or(range.start, |c| c + 1)
        };
        if gap > 0 {
            lines[gap - 1].trailing.extend(range.start..split);
        }
        match lines.get_mut(gap) {
            Some(line) => line.leading.extend(split..range.end),
            None => tail.extend(split..range.end),
        }
    }
    tail
}

/// Whether only blanks stand between the start of its line and `offset`.
fn on_own_line(text: &str, offset: usize) -> bool {
    let before = text[..offset].trim_end_matches([' ', '\t', '\u{feff}']);
    before.is_empty() || before.ends_with(['\n', '\r'])
}

/// Whether an empty line comes right before `offset`, after the previous token or comment.
fn blank_before(text: &str, offset: usize) -> bool {
    let before = &text[..offset];
    let gap = &before[before.trim_end_matches(char::is_whitespace).len()..];
    let line_ends = gap.matches('\n').count() + gap.matches('\r').count();
    line_ends - gap.matches("\r\n").count() >= 2
}

/// Collects the output text.
struct Writer<'t> {
    text: &'t str,
    comments: &'t [Comment],
    out: String,
}

impl Writer<'_> {
    /// A line with the comments placed on it; with `keep_blanks`, an empty line stays
    /// wherever the source had one among the comments above it and before the line itself.
    fn line(&mut self, line: &Line, keep_blanks: bool) {
        for (index, &comment) in line.leading.iter().enumerate() {
            let start = self.comments[comment].span.start;
            if keep_blanks && index > 0 && blank_before(self.text, start) {
                self.out.push('\n');
            }
            self.comment(line.comment_indent, comment);
        }
        if keep_blanks && !line.leading.is_empty() && blank_before(self.text, line.anchor) {
            self.out.push('\n');
        }
        let (last, earlier) = match line.trailing.split_last() {
            Some((last, earlier)) => (Some(*last), earlier),
            None => (None, &[][..]),
        };
        for &comment in earlier {
            self.comment(line.comment_indent, comment);
        }
        self.indent(line.indent);
        self.out.push_str(&line.text);
        if let Some(comment) = last {
            self.out.push(' ');
            self.push_comment(comment);
        }
        self.out.push('\n');
    }

    /// A comment on a line of its own.
    fn comment(&mut self, indent: usize, comment: usize) {
        self.indent(indent);
        self.push_comment(comment);
        self.out.push('\n');
    }

    fn push_comment(&mut self, comment: usize) {
        self.out.push('#');
        // Trailing blanks are the only part of a comment that changes.
        self.out.push_str(self.comments[comment].text.trim_end());
    }

    fn indent(&mut self, width: usize) {
        self.out.extend(std::iter::repeat_n(' ', width));
    }
}
