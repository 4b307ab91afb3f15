//! Diagnostics: every problem segc reports to a user, as data.
//!
//! Each stage returns [`Diagnostic`]s; rendering them for people (miette) or for machines
//! (JSON lines, GitHub workflow commands, SARIF) happens in one place, [`render`].

pub mod render;

use crate::source::{FileId, Span};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Warning,
    Error,
}

impl Level {
    /// The level's name as every format prints it: `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

macro_rules! codes {
    ($($variant:ident => $name:literal, $level:ident, $summary:literal;)*) => {
        /// The stable code of a finding, shown as `segc::NAME`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in a fixed order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The name users write in `[lints]` and `# segc: allow(…)`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }

            /// The level a finding has unless `[lints]` changes it.
            pub fn default_level(self) -> Level {
                match self {
                    $(Code::$variant => Level::$level,)*
                }
            }

            /// One sentence on what the code catches.
            pub fn summary(self) -> &'static str {
                match self {
                    $(Code::$variant => $summary,)*
                }
            }

            /// The code with this name, as written in `[lints]`.
            pub fn from_name(name: &str) -> Option<Code> {
                Code::ALL.iter().copied().find(|code| code.name() == name)
            }
        }
    };
}

codes! {
    Syntax => "syntax", Error, "the file does not follow the grammar of the language";
    UnknownTable => "unknown-table", Error, "`from` names a table that segc.toml does not define";
    UnknownColumn => "unknown-column", Error, "a column that the table does not have";
    UnknownSegment => "unknown-segment", Error, "a reference to a segment that does not exist";
    UnknownFunction => "unknown-function", Error, "a call to a function segc does not have";
    DuplicateSegment => "duplicate-segment", Error, "two segments with the same name";
    NameClash => "name-clash", Error, "a segment named like a table";
    Cycle => "cycle", Error, "segments that depend on each other in a circle";
    TypeMismatch => "type-mismatch", Error, "an operation on values of the wrong type";
    NullComparison => "null-comparison", Error, "`= null` or `!= null`, which is never true";
    ClauseConflict => "clause-conflict", Error,
        "clauses missing, repeated or used together wrongly";
    InvalidAmount => "invalid-amount", Error,
        "a count, percentage or split share out of range";
    InvalidLiteral => "invalid-literal", Error, "a literal that is not a valid value";
    MissingModelColumn => "missing-model-column", Error,
        "a table's header lacks a column its model kind requires";
    Config => "config", Error, "segc.toml is malformed or names something that does not exist";
    Io => "io", Error, "a file could not be read or written";
    Data => "data", Error, "a table's contents do not follow the CSV rules or the column types";
    ExpectFailed => "expect-failed", Error, "an `expect` did not hold at run time";
    Unsupported => "unsupported", Error,
        "a construct that `segc compile` cannot express exactly in the chosen SQL dialect";
    NeverTrue => "never-true", Warning, "a condition no row can satisfy";
    AlwaysTrue => "always-true", Warning, "a condition every row satisfies";
    FloatEquality => "float-equality", Warning, "`=` or `!=` on fractional numbers";
    DuplicateCondition => "duplicate-condition", Warning, "the same condition twice in a chain";
    EmptySegment => "empty-segment", Warning, "a segment with no members at run time";
    UnusedAllow => "unused-allow", Warning, "a `# segc: allow(…)` that silences nothing";
    TableUnavailable => "table-unavailable", Warning, "a table file that `check` could not read";
    DataQuality => "data-quality", Warning,
        "values outside a model's domain, duplicate keys, or cells turned into null";
}

/// A span in a source, with an optional message to print beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

impl Label {
    /// A labelled span in `file`.
    pub fn new(file: FileId, span: Span, message: impl Into<String>) -> Label {
        Label {
            file,
            span,
            message: message.into(),
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub level: Level,
    /// Lower-case, no final period, names in backticks.
    pub message: String,
    /// Where the problem is; absent for problems with no place (an unreadable directory).
    pub primary: Option<Label>,
    /// Other places that explain the problem ("first defined here").
    pub related: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    /// A finding at its code's default level.
    pub fn new(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            level: code.default_level(),
            message: message.into(),
            primary: None,
            related: Vec::new(),
            help: None,
        }
    }

    /// Sets the primary place: where the problem is, and the text under it.
    pub fn at(mut self, file: FileId, span: Span, label: impl Into<String>) -> Diagnostic {
        self.primary = Some(Label::new(file, span, label));
        self
    }

    /// Adds another place that explains the problem.
    pub fn related(mut self, file: FileId, span: Span, label: impl Into<String>) -> Diagnostic {
        self.related.push(Label::new(file, span, label));
        self
    }

    /// Sets the help line: how to fix the problem.
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Whether the finding fails the command.
    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }
}

/// "did you mean `x`?" for the candidate nearest to `name`, if one is near enough.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let lower = name.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let distance = strsim::osa_distance(&lower, &candidate.to_lowercase());
        let limit = (name.chars().count().max(candidate.chars().count()) / 3).max(1);
        if distance <= limit && best.is_none_or(|(d, c)| (distance, candidate) < (d, c)) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| format!("did you mean `{candidate}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_picks_the_nearest_name() {
        let names = ["ChurnScore", "IsChurn", "TopFactor"];
        assert_eq!(
            did_you_mean("ChurnScor", names).as_deref(),
            Some("did you mean `ChurnScore`?")
        );
        assert_eq!(
            did_you_mean("churnscore", names).as_deref(),
            Some("did you mean `ChurnScore`?")
        );
        assert_eq!(did_you_mean("Region", names), None);
    }

    #[test]
    fn every_code_round_trips_through_its_name() {
        for &code in Code::ALL {
            assert_eq!(Code::from_name(code.name()), Some(code));
        }
    }
}
