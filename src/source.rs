//! Source files that diagnostics point into.
//!
//! Segment files and `segc.toml` are held whole. Data files can be far too large for that,
//! so a problem in a CSV file registers an excerpt: the one offending line, together with
//! the line and column where that excerpt starts in the real file.

use std::sync::{Arc, RwLock};

/// A byte range in one source, `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span that covers both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    pub fn len(self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

/// Identifies a source in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// One source: a whole file, or an excerpt of one.
#[derive(Debug)]
pub struct Source {
    /// The path as the user should see it, relative to the project root where possible.
    pub name: String,
    pub text: Arc<str>,
    /// 1-based line of the first character of `text` in the real file.
    pub first_line: usize,
    /// 1-based column (in characters) of the first character of `text` in the real file.
    pub first_column: usize,
}

impl Source {
    /// The 1-based line and column (counted in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let before = &self.text[..offset];
        let line_index = before.matches('\n').count();
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        if line_index == 0 {
            (self.first_line, self.first_column + column - 1)
        } else {
            (self.first_line + line_index, column)
        }
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Every source a run has seen, so that diagnostics can name and quote them.
///
/// Sources are added from parallel workers (a table loader registering the line of a bad
/// cell), so adding takes `&self`.
#[derive(Debug, Default)]
pub struct SourceMap {
    sources: RwLock<Vec<Arc<Source>>>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Registers a whole file.
    pub fn add(&self, name: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        self.add_excerpt(name, text, 1, 1)
    }

    /// Registers part of a file that starts at the given 1-based line and column.
    pub fn add_excerpt(
        &self,
        name: impl Into<String>,
        text: impl Into<Arc<str>>,
        first_line: usize,
        first_column: usize,
    ) -> FileId {
        let source = Source {
            name: name.into(),
            text: text.into(),
            first_line,
            first_column,
        };
        let mut sources = self.sources.write().unwrap_or_else(|e| e.into_inner());
        sources.push(Arc::new(source));
        FileId((sources.len() - 1) as u32)
    }

    pub fn get(&self, id: FileId) -> Arc<Source> {
        let sources = self.sources.read().unwrap_or_else(|e| e.into_inner());
        Arc::clone(&sources[id.0 as usize])
    }

    pub fn name(&self, id: FileId) -> String {
        self.get(id).name.clone()
    }

    pub fn text(&self, id: FileId) -> Arc<str> {
        Arc::clone(&self.get(id).text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let map = SourceMap::new();
        let id = map.add("a.seg", "ab\ncé d\n");
        let source = map.get(id);
        assert_eq!(source.line_column(0), (1, 1));
        assert_eq!(source.line_column(3), (2, 1));
        // `d` sits after a two-byte `é` and a space.
        assert_eq!(source.line_column(7), (2, 4));
    }

    #[test]
    fn excerpts_keep_their_place_in_the_file() {
        let map = SourceMap::new();
        let id = map.add_excerpt("t.csv", "x,y", 41, 10);
        assert_eq!(map.get(id).line_column(2), (41, 12));
    }
}
