//! SARIF 2.1.0, the log format that code-scanning services read.
//!
//! One log holds a whole report: a single run whose tool lists a rule for every code segc
//! has, so that a service knows each code's summary and default level before it meets a
//! finding of that code, and one result per finding.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, Region,
    ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif,
    Tool, ToolComponent, Version, SCHEMA_URL,
};

use crate::diag::{Code, Diagnostic, Label, Level};
use crate::source::SourceMap;

use super::{message_with_help, Place};

/// The name under which relative artifact paths refer to the project folder.
const ROOT_BASE: &str = "PROJECTROOT";

/// The log as pretty-printed JSON.
pub fn document(diagnostics: &[Diagnostic], sources: &SourceMap, root: Option<&Path>) -> String {
    // Every part is a string, a number or a map with string keys, which always serialize.
    serde_json::to_string_pretty(&log(diagnostics, sources, root)).expect("SARIF serializes")
}

/// The log: one run of segc with every rule, and one result per finding in the given order.
pub fn log(diagnostics: &[Diagnostic], sources: &SourceMap, root: Option<&Path>) -> Sarif {
    let driver = ToolComponent::builder()
        .name("segc")
        .version(env!("CARGO_PKG_VERSION"))
        .rules(Code::ALL.iter().map(|&code| rule(code)).collect::<Vec<_>>())
        .build();
    let results: Vec<SarifResult> = diagnostics.iter().map(|d| result(d, sources)).collect();
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        // segc counts columns in characters, as a person reads them, not in UTF-16 units.
        .column_kind("unicodeCodePoints")
        .build();
    run.original_uri_base_ids = root
        .and_then(root_location)
        .map(|location| BTreeMap::from([(ROOT_BASE.to_string(), location)]));
    Sarif::builder()
        .schema(SCHEMA_URL)
        .version(serde_json::to_value(Version::V2_1_0).expect("a version serializes"))
        .runs(vec![run])
        .build()
}

/// A code as a rule: its name, its summary and its default level.
fn rule(code: Code) -> ReportingDescriptor {
    let configuration = ReportingConfiguration::builder()
        .level(code.default_level().as_str())
        .build();
    ReportingDescriptor::builder()
        .id(code.name())
        .short_description(
            MultiformatMessageString::builder()
                .text(code.summary())
                .build(),
        )
        .default_configuration(configuration)
        .build()
}

fn result(diagnostic: &Diagnostic, sources: &SourceMap) -> SarifResult {
    let level = match diagnostic.level {
        Level::Error => ResultLevel::Error,
        Level::Warning => ResultLevel::Warning,
    };
    let mut result = SarifResult::builder()
        .rule_id(diagnostic.code.name())
        .level(level)
        .message(
            Message::builder()
                .text(message_with_help(diagnostic))
                .build(),
        )
        .build();
    result.rule_index = Code::ALL
        .iter()
        .position(|&code| code == diagnostic.code)
        .map(number);
    result.locations = diagnostic
        .primary
        .as_ref()
        .map(|label| vec![location(label, sources)]);
    if !diagnostic.related.is_empty() {
        let related = diagnostic.related.iter().map(|l| location(l, sources));
        result.related_locations = Some(related.collect());
    }
    result
}

fn location(label: &Label, sources: &SourceMap) -> Location {
    let place = Place::of(label, sources);
    let region = Region::builder()
        .start_line(number(place.line))
        .start_column(number(place.column))
        .end_line(number(place.end_line))
        .end_column(number(place.end_column))
        .build();
    let physical = PhysicalLocation::builder()
        .artifact_location(artifact(&place.file))
        .region(region)
        .build();
    let mut location = Location::builder().physical_location(physical).build();
    if !place.message.is_empty() {
        location.message = Some(Message::builder().text(place.message).build());
    }
    location
}

/// A source by its name: relative to the project folder where it lies inside it (the name
/// is then relative), otherwise an absolute `file:` URI.
fn artifact(name: &str) -> ArtifactLocation {
    if Path::new(name).is_absolute() {
        return ArtifactLocation::builder().uri(file_uri(name)).build();
    }
    let mut uri = uri_path(name);
    // A colon in the first segment would make the reference read as a scheme (`c:x.seg`).
    if uri
        .split('/')
        .next()
        .is_some_and(|first| first.contains(':'))
    {
        uri.insert_str(0, "./");
    }
    ArtifactLocation::builder()
        .uri(uri)
        .uri_base_id(ROOT_BASE)
        .build()
}

/// The project folder as the base of relative paths, which a base URI only is when absolute.
fn root_location(root: &Path) -> Option<ArtifactLocation> {
    if !root.is_absolute() {
        return None;
    }
    let mut uri = file_uri(&root.to_string_lossy().replace('\\', "/"));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    Some(ArtifactLocation::builder().uri(uri).build())
}

/// An absolute path with forward slashes as a `file:` URI.
fn file_uri(path: &str) -> String {
    // A Windows path starts with its drive letter; the URI's path starts with a slash.
    let slash = if path.starts_with('/') { "" } else { "/" };
    format!("file://{slash}{}", uri_path(path))
}

/// A path with forward slashes as the path of a URI: each byte that RFC 3986 does not allow
/// in a path becomes `%XX`.
fn uri_path(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            let _ = write!(uri, "%{byte:02X}");
        }
    }
    uri
}

/// SARIF's numbers are signed; a line or column never comes near the limit.
fn number(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(
            artifact("segments/a.seg").uri.as_deref(),
            Some("segments/a.seg")
        );
        assert_eq!(
            artifact("segments/a.seg").uri_base_id.as_deref(),
            Some(ROOT_BASE)
        );
        // Space, percent sign and `ü` (two bytes in UTF-8) are encoded; a comma may stay.
        assert_eq!(
            artifact("my dir/100%,ü.seg").uri.as_deref(),
            Some("my%20dir/100%25,%C3%BC.seg")
        );
        assert_eq!(artifact("c:x.seg").uri.as_deref(), Some("./c:x.seg"));
        assert_eq!(
            artifact("../data/t.csv").uri.as_deref(),
            Some("../data/t.csv")
        );
    }

    #[cfg(unix)]
    #[test]
    fn absolute_paths_become_file_uris() {
        let outside = artifact("/data/big #1.csv");
        assert_eq!(outside.uri.as_deref(), Some("file:///data/big%20%231.csv"));
        assert_eq!(outside.uri_base_id, None);
        let root = root_location(Path::new("/work/project")).expect("absolute");
        assert_eq!(root.uri.as_deref(), Some("file:///work/project/"));
        assert_eq!(root_location(Path::new("project")), None);
    }

    #[test]
    fn a_log_lists_every_rule_and_points_results_at_them() {
        let sources = SourceMap::new();
        // `xy` is bytes 8..10: on line 2 after the four characters `two `.
        let a = sources.add("a.seg", "one\ntwo xy\n");
        let b = sources.add("b.seg", "b\n");
        let diagnostics = vec![
            Diagnostic::new(Code::Io, "cannot write to `out`"),
            Diagnostic::new(Code::DuplicateSegment, "segment `xy` is defined twice")
                .at(a, Span::new(8, 10), "defined again here")
                .related(b, Span::new(0, 1), "first defined here")
                .help("rename one"),
        ];
        let log = log(&diagnostics, &sources, None);
        assert_eq!(log.version, serde_json::json!("2.1.0"));
        assert_eq!(log.runs.len(), 1);
        let run = &log.runs[0];
        assert_eq!(run.original_uri_base_ids, None);
        let rules = run.tool.driver.rules.as_ref().expect("rules");
        assert_eq!(rules.len(), Code::ALL.len());
        let never_true = &rules[Code::ALL
            .iter()
            .position(|&c| c == Code::NeverTrue)
            .unwrap()];
        assert_eq!(never_true.id, "never-true");
        assert_eq!(
            never_true
                .short_description
                .as_ref()
                .map(|d| d.text.as_str()),
            Some("a condition no row can satisfy")
        );
        assert_eq!(
            never_true
                .default_configuration
                .as_ref()
                .and_then(|c| c.level.clone()),
            Some(serde_json::json!("warning"))
        );

        let results = run.results.as_ref().expect("results");
        assert_eq!(results[0].rule_id.as_deref(), Some("io"));
        assert_eq!(results[0].locations, None);
        let duplicate = &results[1];
        let index = usize::try_from(duplicate.rule_index.expect("index")).unwrap();
        assert_eq!(rules[index].id, "duplicate-segment");
        assert_eq!(duplicate.level, Some(ResultLevel::Error));
        assert_eq!(
            duplicate.message.text.as_deref(),
            Some("segment `xy` is defined twice\nhelp: rename one")
        );
        let at = &duplicate.locations.as_ref().expect("a location")[0];
        let physical = at.physical_location.as_ref().expect("physical");
        let region = physical.region.as_ref().expect("region");
        assert_eq!(
            (
                region.start_line,
                region.start_column,
                region.end_line,
                region.end_column
            ),
            (Some(2), Some(5), Some(2), Some(7))
        );
        let file = physical
            .artifact_location
            .as_ref()
            .and_then(|a| a.uri.as_deref());
        assert_eq!(file, Some("a.seg"));
        let related = &duplicate.related_locations.as_ref().expect("related")[0];
        let region = related
            .physical_location
            .as_ref()
            .and_then(|p| p.region.as_ref());
        assert_eq!(region.and_then(|r| r.start_line), Some(1));
        assert_eq!(region.and_then(|r| r.end_column), Some(2));
        assert_eq!(
            related.message.as_ref().and_then(|m| m.text.as_deref()),
            Some("first defined here")
        );
    }
}
