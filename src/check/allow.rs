//! `# segc: allow(code, …)` comments: a finding of that code on the comment's line, or on
//! the line below a comment that stands on its own line, is dropped. An allow that drops
//! nothing is itself reported (`unused-allow`), so stale ones do not pile up.

use crate::diag::{did_you_mean, Code, Diagnostic, Level};
use crate::source::{FileId, SourceMap, Span};
use crate::syntax::ast::SegFile;

/// One code named in an allow comment.
struct Allow {
    file: FileId,
    code: Option<Code>,
    name: String,
    /// Where the code's name is written in the comment.
    span: Span,
    /// The lines whose findings it silences.
    lines: (usize, usize),
    used: bool,
}

/// Drops the findings that an allow comment silences and, with `report_unused`, reports
/// the allows that silence nothing or name no code. `segc run` does not lint, so it
/// passes `false`: an allow of a lint is not unused just because `run` skipped the lint.
pub fn apply(
    files: &[(FileId, SegFile)],
    sources: &SourceMap,
    diagnostics: Vec<Diagnostic>,
    report_unused: bool,
) -> Vec<Diagnostic> {
    let mut allows = Vec::new();
    for (file, seg_file) in files {
        let source = sources.get(*file);
        for comment in &seg_file.comments {
            let line = source.line_column(comment.span.start).0;
            let line_start = source.text[..comment.span.start]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let own_line = source.text[line_start..comment.span.start]
                .trim()
                .is_empty();
            let lines = (line, if own_line { line + 1 } else { line });
            // `text` starts after the `#`; the comment's span starts at it.
            let offset = comment.span.start + 1;
            for (name, span) in allowed_codes(&comment.text, offset) {
                allows.push(Allow {
                    file: *file,
                    code: Code::from_name(name),
                    name: name.to_string(),
                    span,
                    lines,
                    used: false,
                });
            }
        }
    }
    if allows.is_empty() {
        return diagnostics;
    }

    let mut kept = Vec::with_capacity(diagnostics.len());
    for diagnostic in diagnostics {
        let silenced = diagnostic.code.default_level() == Level::Warning
            && diagnostic.primary.as_ref().is_some_and(|label| {
                let line = sources.get(label.file).line_column(label.span.start).0;
                let mut silenced = false;
                for allow in allows.iter_mut() {
                    let here = allow.file == label.file
                        && (line == allow.lines.0 || line == allow.lines.1);
                    if here && allow.code == Some(diagnostic.code) {
                        allow.used = true;
                        silenced = true;
                    }
                }
                silenced
            });
        if !silenced {
            kept.push(diagnostic);
        }
    }

    for allow in allows
        .into_iter()
        .filter(|allow| report_unused && !allow.used)
    {
        let diagnostic = match allow.code {
            None => {
                let names = Code::ALL.iter().map(|code| code.name());
                Diagnostic::new(Code::UnusedAllow, format!("unknown lint `{}`", allow.name))
                    .at(allow.file, allow.span, "no lint has this name")
                    .help(
                        did_you_mean(&allow.name, names)
                            .unwrap_or_else(|| "the README lists the lint codes".to_string()),
                    )
            }
            Some(code) if code.default_level() == Level::Error => Diagnostic::new(
                Code::UnusedAllow,
                format!("`{}` is an error and cannot be allowed", allow.name),
            )
            .at(allow.file, allow.span, "errors are not silenced")
            .help("fix the error instead, and remove this allow"),
            Some(_) => Diagnostic::new(
                Code::UnusedAllow,
                format!("this allow silences no `{}` finding", allow.name),
            )
            .at(allow.file, allow.span, "nothing to silence here")
            .help("remove it; an allow covers its own line, or the next when it stands alone"),
        };
        kept.push(diagnostic);
    }
    kept
}

/// The codes of a comment's `segc: allow(a, b)`, each with its span in the file;
/// `offset` is where the comment's text starts.
fn allowed_codes(text: &str, offset: usize) -> Vec<(&str, Span)> {
    let trimmed = text.trim_start();
    let lead = text.len() - trimmed.len();
    let Some(rest) = trimmed.strip_prefix("segc:") else {
        return Vec::new();
    };
    let after_prefix = rest.trim_start();
    let Some(inside) = after_prefix.strip_prefix("allow(") else {
        return Vec::new();
    };
    let Some(close) = inside.find(')') else {
        return Vec::new();
    };
    let mut start = offset + lead + "segc:".len() + (rest.len() - after_prefix.len()) + 6;
    let mut codes = Vec::new();
    for part in inside[..close].split(',') {
        let name = part.trim();
        let name_start = start + (part.len() - part.trim_start().len());
        if !name.is_empty() {
            codes.push((name, Span::new(name_start, name_start + name.len())));
        }
        start += part.len() + 1;
    }
    codes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_found_with_their_spans() {
        // The comment `# segc: allow(float-equality, never-true)` at offset 10: its text
        // starts at 11.
        let text = " segc: allow(float-equality, never-true)";
        let codes = allowed_codes(text, 11);
        assert_eq!(
            codes,
            [
                ("float-equality", Span::new(24, 38)),
                ("never-true", Span::new(40, 50)),
            ]
        );
    }

    #[test]
    fn other_comments_allow_nothing() {
        assert!(allowed_codes(" a note about segc", 0).is_empty());
        assert!(allowed_codes(" segc: allow(float-equality", 0).is_empty());
        assert!(allowed_codes(" segc: deny(x)", 0).is_empty());
    }
}
