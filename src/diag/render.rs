//! Rendering diagnostics: for people (miette), and for machines as JSON lines, GitHub
//! workflow commands or a SARIF log.
//!
//! Every format reads the same [`Diagnostic`] values, so a place, a message or a help line
//! means the same thing in each. Lines are 1-based and columns count characters, not bytes;
//! an end column is the column just past the last character of the span.

mod sarif;

use std::fmt;
use std::path::PathBuf;
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
    /// A compiler-style report with the source line, for a person at a terminal.
    Human,
    /// One JSON object per finding, one per line.
    Json,
    /// One GitHub Actions workflow command per finding, which GitHub shows as an annotation.
    Github,
    /// One SARIF 2.1.0 log for the whole report, for code-scanning services.
    Sarif,
}

impl Format {
    /// Whether the report goes to stdout: machine formats are the command's output, while the
    /// human report is commentary beside it.
    pub fn is_for_machines(self) -> bool {
        self != Format::Human
    }
}

/// Options of the human format.
#[derive(Debug, Clone, Copy)]
pub struct HumanStyle {
    pub color: bool,
    pub width: usize,
}

/// What rendering needs besides the findings and their sources.
#[derive(Debug, Clone)]
pub struct Options {
    pub human: HumanStyle,
    /// The project folder, which SARIF paths are relative to; `None` before one is found.
    pub root: Option<PathBuf>,
}

/// Renders a whole report, findings already [`sort`]ed, as the text of one stream.
///
/// The line formats print nothing for no findings; SARIF always prints a log, because an
/// empty result list is how a scan says it found nothing.
pub fn report(
    format: Format,
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    options: &Options,
) -> String {
    let lines =
        |line: &dyn Fn(&Diagnostic) -> String| diagnostics.iter().map(|d| line(d) + "\n").collect();
    match format {
        Format::Human => diagnostics
            .iter()
            .map(|d| human(d, sources, options.human))
            .collect(),
        Format::Json => lines(&|d| json(d, sources)),
        Format::Github => lines(&|d| github(d, sources)),
        Format::Sarif => sarif::document(diagnostics, sources, options.root.as_deref()) + "\n",
    }
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
    /// The label's text; empty when the span speaks for itself.
    pub message: String,
}

impl Place {
    /// Where a label sits, as its file's name and 1-based lines and character columns.
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

/// One finding as a JSON object. The place fields are `null` for a finding with no place.
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
    /// The text under the primary span.
    pub label: Option<String>,
    pub help: Option<String>,
    /// The other labelled places, such as where a name was first defined.
    pub related: Vec<Place>,
}

/// One finding as a line of JSON, without the line end.
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
    format!(
        "::{command} {}::{}",
        properties.join(","),
        escape_data(&message_with_help(diagnostic))
    )
}

/// The message, then the help on a line of its own, for formats with one text field.
fn message_with_help(diagnostic: &Diagnostic) -> String {
    match &diagnostic.help {
        Some(help) => format!("{}\nhelp: {help}", diagnostic.message),
        None => diagnostic.message.clone(),
    }
}

/// Escapes the message of a workflow command; `%` first, so no escape is escaped twice.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value, where `:` and `,` would otherwise end the value.
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
        // miette counts this column in bytes; segc counts characters, as its other formats
        // do, and an excerpt's first line starts at its column in the real file.
        let (_, column) = self.0.line_column(inner.span().offset());
        Ok(Box::new(MietteSpanContents::new_named(
            self.0.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.0.first_line - 1,
            column - 1,
            inner.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::diag::Code;
    use crate::source::Span;

    #[test]
    fn workflow_command_messages_escape_percent_and_line_ends() {
        assert_eq!(
            escape_data("100% sure\r\nnext: a, b"),
            "100%25 sure%0D%0Anext: a, b"
        );
    }

    #[test]
    fn workflow_command_properties_also_escape_colon_and_comma() {
        assert_eq!(
            escape_property("dir:x/a,b 5%.seg\n"),
            "dir%3Ax/a%2Cb 5%25.seg%0A"
        );
        // Text that looks escaped already is escaped again, so GitHub shows it as written.
        assert_eq!(escape_property("%3A"), "%253A");
    }

    #[test]
    fn a_github_line_without_a_place_has_only_a_title() {
        let sources = SourceMap::new();
        let diagnostic = Diagnostic::new(Code::Io, "cannot write to `out`: denied");
        assert_eq!(
            github(&diagnostic, &sources),
            "::error title=segc%3A%3Aio::cannot write to `out`: denied"
        );
    }

    #[test]
    fn a_github_warning_carries_its_place_and_help() {
        let sources = SourceMap::new();
        // `"t.csv"` starts after the seven characters `path = ` of line 2.
        let file = sources.add("dir,1/segc.toml", "[tables.t]\npath = \"t.csv\"\n");
        let diagnostic = Diagnostic::new(Code::TableUnavailable, "table `t` has no file")
            .at(file, Span::new(18, 25), "missing")
            .help("50% of checks\nskipped");
        assert_eq!(
            github(&diagnostic, &sources),
            "::warning file=dir%2C1/segc.toml,line=2,col=8,endLine=2,endColumn=15,\
             title=segc%3A%3Atable-unavailable::table `t` has no file%0Ahelp: 50%25 of \
             checks%0Askipped"
        );
    }

    #[test]
    fn json_includes_related_labels() {
        let sources = SourceMap::new();
        let again = sources.add("a.seg", "segment x {}\n");
        let first = sources.add("b.seg", "# first\nsegment x {}\n");
        let diagnostic = Diagnostic::new(Code::DuplicateSegment, "segment `x` is defined twice")
            .at(again, Span::new(8, 9), "defined again here")
            .related(first, Span::new(16, 17), "first defined here")
            .help("rename one");
        let value: serde_json::Value =
            serde_json::from_str(&json(&diagnostic, &sources)).expect("valid JSON");
        assert_eq!(
            value,
            json!({
                "code": "segc::duplicate-segment",
                "level": "error",
                "message": "segment `x` is defined twice",
                "file": "a.seg",
                "line": 1,
                "column": 9,
                "end_line": 1,
                "end_column": 10,
                "label": "defined again here",
                "help": "rename one",
                "related": [{
                    "file": "b.seg",
                    "line": 2,
                    "column": 9,
                    "end_line": 2,
                    "end_column": 10,
                    "message": "first defined here",
                }],
            })
        );
    }

    #[test]
    fn json_of_a_finding_without_a_place_has_null_places() {
        let sources = SourceMap::new();
        let diagnostic = Diagnostic::new(Code::Config, "no tables").help("add `[tables.NAME]`");
        let value: serde_json::Value =
            serde_json::from_str(&json(&diagnostic, &sources)).expect("valid JSON");
        assert_eq!(
            value,
            json!({
                "code": "segc::config",
                "level": "error",
                "message": "no tables",
                "file": null,
                "line": null,
                "column": null,
                "end_line": null,
                "end_column": null,
                "label": null,
                "help": "add `[tables.NAME]`",
                "related": [],
            })
        );
    }

    #[test]
    fn sort_orders_by_file_name_then_line_then_column() {
        let sources = SourceMap::new();
        // Registered first, yet sorted last: the order is by name, not by registration.
        let b = sources.add("b.seg", "z\n");
        let a = sources.add("a.seg", "ab cd\nef gh\n");
        let at = |file, start, end, name: &str| {
            Diagnostic::new(Code::Syntax, name).at(file, Span::new(start, end), "")
        };
        let mut diagnostics = vec![
            at(b, 0, 1, "b 1:1"),
            at(a, 9, 11, "a 2:4"),
            at(a, 3, 5, "a 1:4"),
            Diagnostic::new(Code::Io, "no place"),
            at(a, 6, 8, "a 2:1"),
            at(a, 0, 2, "a 1:1"),
        ];
        sort(&mut diagnostics, &sources);
        let order: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            order,
            ["no place", "a 1:1", "a 1:4", "a 2:1", "a 2:4", "b 1:1"]
        );
    }

    #[test]
    fn the_human_format_counts_columns_in_characters() {
        let sources = SourceMap::new();
        // `y` follows eight characters, `ü` two bytes of them: column 9, where bytes say 10.
        let file = sources.add("a.seg", "x = \"ü\" y\n");
        let diagnostic = Diagnostic::new(Code::Syntax, "bad").at(file, Span::new(9, 10), "here");
        let report = human(
            &diagnostic,
            &sources,
            HumanStyle {
                color: false,
                width: 100,
            },
        );
        assert!(report.contains("[a.seg:1:9]"), "{report}");
    }

    #[test]
    fn the_human_format_places_an_excerpt_in_its_file() {
        let sources = SourceMap::new();
        // The excerpt starts at column 5 of line 40; `b` is its third character.
        let file = sources.add_excerpt("t.csv", "1,b,2", 40, 5);
        let diagnostic = Diagnostic::new(Code::Data, "bad").at(file, Span::new(2, 3), "here");
        let report = human(
            &diagnostic,
            &sources,
            HumanStyle {
                color: false,
                width: 100,
            },
        );
        assert!(report.contains("[t.csv:40:7]"), "{report}");
        assert!(report.contains("40 │ 1,b,2"), "{report}");
    }

    #[test]
    fn the_human_format_uses_escape_codes_only_with_colour() {
        let sources = SourceMap::new();
        let file = sources.add("a.seg", "segment x {}\n");
        let diagnostic = Diagnostic::new(Code::Syntax, "bad").at(file, Span::new(8, 9), "here");
        let plain = human(
            &diagnostic,
            &sources,
            HumanStyle {
                color: false,
                width: 100,
            },
        );
        assert!(!plain.contains('\x1b'), "{plain:?}");
        assert!(plain.contains("segc::syntax"), "{plain}");
        assert!(plain.contains("a.seg:1:9"), "{plain}");
        let coloured = human(
            &diagnostic,
            &sources,
            HumanStyle {
                color: true,
                width: 100,
            },
        );
        assert!(coloured.contains('\x1b'), "{coloured:?}");
    }
}
