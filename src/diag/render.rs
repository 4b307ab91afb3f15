//! Rendering diagnostics: for people (miette), and as JSON or GitHub workflow commands.

use std::fmt;
use std::sync::Arc;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use serde::Serialize;

use crate::source::{Source, SourceMap};

use super::{Diagnostic, Label, Level};

/// How findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Github,
}

/// Options of the human format.
#[derive(Debug, Clone, Copy)]
pub struct HumanStyle {
    pub color: bool,
    pub width: usize,
}

/// Sorts findings by file, line and column; findings with no place come first.
pub fn sort(diagnostics: &mut [Diagnostic], sources: &SourceMap) {
    diagnostics.sort_by_cached_key(|d| match &d.primary {
        None => (String::new(), 0, 0, d.message.clone()),
        Some(label) => {
            let source = sources.get(label.file);
            let (line, column) = source.line_column(label.span.start);
            (source.name.clone(), line, column, d.message.clone())
        }
    });
}

/// Renders one finding for a terminal.
pub fn human(diagnostic: &Diagnostic, sources: &SourceMap, style: HumanStyle) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(style.width);
    let report = Report::new(diagnostic, sources);
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        out = format!("{}: {}\n", diagnostic.level.as_str(), diagnostic.message);
    }
    // A place in another file is rendered by miette as a related report of its own, under
    // an "Advice:" heading; the `☞ message` line under it says enough.
    let mut kept = String::with_capacity(out.len());
    for line in out.split_inclusive('\n') {
        if strip_ansi(line).trim_end() != "Advice:" {
            kept.push_str(line);
        }
    }
    kept
}

/// `text` without ANSI escape sequences (`ESC [ … letter`).
fn strip_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

/// A place in a file, 1-based, for machine formats.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Place {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

impl Place {
    pub fn of(label: &Label, sources: &SourceMap) -> Place {
        let source = sources.get(label.file);
        let (line, column) = source.line_column(label.span.start);
        let (end_line, end_column) = source.line_column(label.span.end);
        Place {
            file: source.name.clone(),
            line,
            column,
            end_line,
            end_column,
            message: label.message.clone(),
        }
    }
}

/// One finding as a JSON object.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic {
    pub code: String,
    pub level: &'static str,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub end_line: Option<usize>,
    pub end_column: Option<usize>,
    pub label: Option<String>,
    pub help: Option<String>,
    pub related: Vec<Place>,
}

pub fn json(diagnostic: &Diagnostic, sources: &SourceMap) -> String {
    let place = diagnostic
        .primary
        .as_ref()
        .map(|label| Place::of(label, sources));
    let object = JsonDiagnostic {
        code: format!("segc::{}", diagnostic.code.name()),
        level: diagnostic.level.as_str(),
        message: diagnostic.message.clone(),
        file: place.as_ref().map(|p| p.file.clone()),
        line: place.as_ref().map(|p| p.line),
        column: place.as_ref().map(|p| p.column),
        end_line: place.as_ref().map(|p| p.end_line),
        end_column: place.as_ref().map(|p| p.end_column),
        label: place
            .as_ref()
            .map(|p| p.message.clone())
            .filter(|m| !m.is_empty()),
        help: diagnostic.help.clone(),
        related: diagnostic
            .related
            .iter()
            .map(|label| Place::of(label, sources))
            .collect(),
    };
    serde_json::to_string(&object).unwrap_or_default()
}

/// One finding as a GitHub Actions workflow command, which becomes an annotation.
pub fn github(diagnostic: &Diagnostic, sources: &SourceMap) -> String {
    let command = match diagnostic.level {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    let mut properties = Vec::new();
    if let Some(label) = &diagnostic.primary {
        let place = Place::of(label, sources);
        properties.push(format!("file={}", escape_property(&place.file)));
        properties.push(format!("line={}", place.line));
        properties.push(format!("col={}", place.column));
        properties.push(format!("endLine={}", place.end_line));
        properties.push(format!("endColumn={}", place.end_column));
    }
    properties.push(format!(
        "title={}",
        escape_property(&format!("segc::{}", diagnostic.code.name()))
    ));
    let mut message = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    format!(
        "::{command} {}::{}",
        properties.join(","),
        escape_data(&message)
    )
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A finding as miette sees it: one source, with labels in it; labels in other files
/// become related reports of their own.
struct Report {
    code: String,
    /// `None` for a note about a place in another file.
    level: Option<Level>,
    message: String,
    help: Option<String>,
    source: Option<View>,
    labels: Vec<(SourceSpan, String, bool)>,
    related: Vec<Report>,
}

impl Report {
    fn new(diagnostic: &Diagnostic, sources: &SourceMap) -> Report {
        let primary_file = diagnostic.primary.as_ref().map(|label| label.file);
        let mut labels = Vec::new();
        let mut related = Vec::new();
        if let Some(label) = &diagnostic.primary {
            labels.push((span(label), label.message.clone(), true));
        }
        for label in &diagnostic.related {
            if Some(label.file) == primary_file {
                labels.push((span(label), label.message.clone(), false));
            } else {
                related.push(Report {
                    code: String::new(),
                    level: None,
                    message: label.message.clone(),
                    help: None,
                    source: Some(View(sources.get(label.file))),
                    labels: vec![(span(label), String::new(), true)],
                    related: Vec::new(),
                });
            }
        }
        Report {
            code: format!("segc::{}", diagnostic.code.name()),
            level: Some(diagnostic.level),
            message: diagnostic.message.clone(),
            help: diagnostic.help.clone(),
            source: primary_file.map(|file| View(sources.get(file))),
            labels,
            related,
        }
    }
}

fn span(label: &Label) -> SourceSpan {
    SourceSpan::new(label.span.start.into(), label.span.len())
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.code.is_empty()).then(|| Box::new(&self.code) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.level {
            Some(Level::Error) => miette::Severity::Error,
            Some(Level::Warning) => miette::Severity::Warning,
            None => miette::Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|view| view as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().map(|(span, text, primary)| {
            let text = (!text.is_empty()).then(|| text.clone());
            if *primary {
                LabeledSpan::new_primary_with_span(text, *span)
            } else {
                LabeledSpan::new_with_span(text, *span)
            }
        })))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}

/// A source for miette, that knows where an excerpt sits in its file.
struct View(Arc<Source>);

impl SourceCode for View {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text: &'a str = &self.0.text;
        let inner = text.read_span(span, context_lines_before, context_lines_after)?;
        let column = if inner.line() == 0 {
            inner.column() + self.0.first_column - 1
        } else {
            inner.column()
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.0.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.0.first_line - 1,
            column,
            inner.line_count(),
        )))
    }
}
