//! The report formats of `segc check` and `segc run`: human, json, github and sarif.
//!
//! The `formats` fixture has three findings, worked out by hand from its files:
//!
//! - `segc.toml` line 11, `path = "extra.csv"`: the table's file is missing, a
//!   `table-unavailable` warning on the quoted path, columns 8 to 19 (11 characters).
//! - `segments/a_typo.seg` line 4, `    where Region = "Zürich" or Scores >= 0.5`: `Scores` is
//!   not a column, an `unknown-column` error suggesting `Score`. It follows 31 characters
//!   (4 spaces, `where `, `Region `, `= `, the 8 of `"Zürich"` and a space, `or `), so it
//!   spans columns 32 to 38; counted in bytes, `ü` would make that 33.
//! - `segments/b,types.seg` line 3, `    where Region > 1.5`: a `type-mismatch` error on the
//!   `>`, after 17 characters: columns 18 to 19. The comma in the file name must be escaped
//!   in GitHub's `file` property.
//!
//! Sorted by file name, the warning comes first (`segc.toml` < `segments/…`), and
//! `a_typo.seg` (line 4) before `b,types.seg` (line 3): file first, then line.

use std::fs;
use std::process::Stdio;

use segc::diag::{Code, Level};
use serde_json::{json, Value};
use serde_sarif::sarif::{ResultLevel, Sarif};

use super::*;

const FORMATS: [&str; 4] = ["human", "json", "github", "sarif"];

fn json_warning() -> Value {
    json!({
        "code": "segc::table-unavailable",
        "level": "warning",
        "message": "table `extra` has no file at `extra.csv`",
        "file": "segc.toml",
        "line": 11,
        "column": 8,
        "end_line": 11,
        "end_column": 19,
        "label": "this file does not exist",
        "help": "columns were checked against declared and model columns only",
        "related": [],
    })
}

fn json_unknown_column() -> Value {
    json!({
        "code": "segc::unknown-column",
        "level": "error",
        "message": "table `people` has no column `Scores`",
        "file": "segments/a_typo.seg",
        "line": 4,
        "column": 32,
        "end_line": 4,
        "end_column": 38,
        "label": "not a column of this table",
        "help": "did you mean `Score`?",
        "related": [],
    })
}

fn json_type_mismatch() -> Value {
    json!({
        "code": "segc::type-mismatch",
        "level": "error",
        "message": "cannot compare a string with a number",
        "file": "segments/b,types.seg",
        "line": 3,
        "column": 18,
        "end_line": 3,
        "end_column": 19,
        "label": "string on the left, number on the right",
        "help": "put the value in quotes to compare it as text",
        "related": [],
    })
}

fn json_lines(output: &Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// The fixture with both mistakes fixed: only the missing table's warning is left.
fn fixed_fixture() -> TempDir {
    let dir = fixture("formats");
    let segments = dir.path().join("segments");
    fs::remove_file(segments.join("a_typo.seg")).unwrap();
    fs::remove_file(segments.join("b,types.seg")).unwrap();
    fs::write(
        segments.join("ok.seg"),
        "segment risky {\n    from people\n    where Score >= 0.5\n}\n",
    )
    .unwrap();
    dir
}

#[test]
fn json_gives_one_object_per_finding_in_file_line_column_order() {
    let dir = fixture("formats");
    let output = segc(dir.path(), &["check", "--format", "json"]);
    assert_status(&output, 1);
    assert_eq!(stderr(&output), "");
    assert_eq!(
        json_lines(&output),
        [json_warning(), json_unknown_column(), json_type_mismatch()]
    );
}

#[test]
fn json_from_run_stops_before_loading() {
    let dir = fixture("formats");
    let output = segc(dir.path(), &["run", "--format", "json"]);
    assert_status(&output, 1);
    let lines = json_lines(&output);
    // `run` checks names before it loads anything, and learns column types only from the
    // loaded tables, so its first report has the unknown column; whether it can also judge
    // `Region > 1.5` then is up to the checker, not the format. The unused table's missing
    // file is no finding: `run` reads only the tables it uses.
    assert_eq!(lines[0], json_unknown_column());
    assert!(
        lines.iter().all(|line| line["level"] == "error"),
        "{lines:?}"
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn github_lines_are_escaped_workflow_commands() {
    let dir = fixture("formats");
    let output = segc(dir.path(), &["check", "--format", "github"]);
    assert_status(&output, 1);
    let expected = [
        "::warning file=segc.toml,line=11,col=8,endLine=11,endColumn=19,\
         title=segc%3A%3Atable-unavailable::table `extra` has no file at `extra.csv`%0Ahelp: \
         columns were checked against declared and model columns only",
        "::error file=segments/a_typo.seg,line=4,col=32,endLine=4,endColumn=38,\
         title=segc%3A%3Aunknown-column::table `people` has no column `Scores`%0Ahelp: did \
         you mean `Score`?",
        "::error file=segments/b%2Ctypes.seg,line=3,col=18,endLine=3,endColumn=19,\
         title=segc%3A%3Atype-mismatch::cannot compare a string with a number%0Ahelp: put \
         the value in quotes to compare it as text",
    ];
    assert_eq!(stdout(&output).lines().collect::<Vec<_>>(), expected);
}

/// The SARIF log on stdout, read back with the typed SARIF crate.
fn sarif(output: &Output) -> Sarif {
    serde_json::from_str(&stdout(output)).unwrap_or_else(|e| panic!("{e}\n{}", stdout(output)))
}

#[test]
fn sarif_has_a_rule_per_code_and_a_result_per_finding() {
    let dir = fixture("formats");
    let output = segc(dir.path(), &["check", "--format", "sarif"]);
    assert_status(&output, 1);
    let log = sarif(&output);
    assert_eq!(log.version, json!("2.1.0"));
    assert_eq!(log.runs.len(), 1);
    let run = &log.runs[0];
    let driver = &run.tool.driver;
    assert_eq!(driver.name, "segc");
    assert_eq!(driver.version.as_deref(), Some(env!("CARGO_PKG_VERSION")));

    let rules = driver.rules.as_ref().expect("rules");
    assert_eq!(rules.len(), Code::ALL.len());
    for (rule, code) in rules.iter().zip(Code::ALL) {
        assert_eq!(rule.id, code.name());
        let summary = rule.short_description.as_ref().map(|d| d.text.as_str());
        assert_eq!(summary, Some(code.summary()));
        let level = match code.default_level() {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        let configured = rule.default_configuration.as_ref();
        assert_eq!(configured.and_then(|c| c.level.clone()), Some(json!(level)));
    }
    let unknown_column = rules.iter().find(|r| r.id == "unknown-column");
    assert_eq!(
        unknown_column.and_then(|r| r.short_description.as_ref().map(|d| d.text.as_str())),
        Some("a column that the table does not have")
    );

    // (rule, level, file, start line, start column, end line, end column, message)
    let expected = [
        (
            "table-unavailable",
            ResultLevel::Warning,
            "segc.toml",
            (11, 8, 11, 19),
            "table `extra` has no file at `extra.csv`\n\
             help: columns were checked against declared and model columns only",
        ),
        (
            "unknown-column",
            ResultLevel::Error,
            "segments/a_typo.seg",
            (4, 32, 4, 38),
            "table `people` has no column `Scores`\nhelp: did you mean `Score`?",
        ),
        (
            "type-mismatch",
            ResultLevel::Error,
            "segments/b,types.seg",
            (3, 18, 3, 19),
            "cannot compare a string with a number\n\
             help: put the value in quotes to compare it as text",
        ),
    ];
    let results = run.results.as_ref().expect("results");
    assert_eq!(results.len(), expected.len());
    for (result, (rule, level, file, region, message)) in results.iter().zip(expected) {
        assert_eq!(result.rule_id.as_deref(), Some(rule));
        let index = result.rule_index.expect("rule index");
        assert_eq!(rules[usize::try_from(index).unwrap()].id, rule);
        assert_eq!(result.level, Some(level));
        assert_eq!(result.message.text.as_deref(), Some(message));
        let locations = result.locations.as_ref().expect("locations");
        assert_eq!(locations.len(), 1);
        let physical = locations[0].physical_location.as_ref().expect("physical");
        let artifact = physical.artifact_location.as_ref().expect("artifact");
        assert_eq!(artifact.uri.as_deref(), Some(file));
        assert_eq!(artifact.uri_base_id.as_deref(), Some("PROJECTROOT"));
        let r = physical.region.as_ref().expect("region");
        let found = (r.start_line, r.start_column, r.end_line, r.end_column);
        let (line, column, end_line, end_column) = region;
        assert_eq!(
            found,
            (Some(line), Some(column), Some(end_line), Some(end_column))
        );
        assert_eq!(result.related_locations, None);
    }

    let bases = run.original_uri_base_ids.as_ref().expect("base URIs");
    let root = bases["PROJECTROOT"].uri.as_deref().expect("root URI");
    let folder = dir.path().file_name().unwrap().to_string_lossy();
    assert!(root.starts_with("file:///"), "{root}");
    assert!(root.ends_with(&format!("/{folder}/")), "{root}");
    assert_eq!(run.column_kind, Some(json!("unicodeCodePoints")));
}

#[test]
fn sarif_from_a_clean_run_has_every_rule_and_no_result() {
    let dir = fixed_fixture();
    let output = segc(dir.path(), &["run", "--format", "sarif"]);
    assert_status(&output, 0);
    let log = sarif(&output);
    let run = &log.runs[0];
    assert_eq!(run.results.as_deref(), Some(&[][..]));
    let rules = run.tool.driver.rules.as_ref().expect("rules");
    assert_eq!(rules.len(), Code::ALL.len());
    // The summary that `run` prints moves to stderr, so that stdout stays one SARIF log.
    assert!(
        stderr(&output).contains("wrote 2 files to out"),
        "{}",
        stderr(&output)
    );
    assert_eq!(read(&dir.path().join("out/risky.csv")), "CustomerId\nA\n");
}

#[test]
fn human_reports_go_to_stderr_in_order_without_colour_through_a_pipe() {
    let dir = fixture("formats");
    let output = segc(dir.path(), &["check"]);
    assert_status(&output, 1);
    assert_eq!(stdout(&output), "");
    let report = stderr(&output);
    assert!(!report.contains('\x1b'), "{report:?}");
    let places = [
        "[segc.toml:11:8]",
        "[segments/a_typo.seg:4:32]",
        "[segments/b,types.seg:3:18]",
    ];
    let found: Vec<usize> = places
        .iter()
        .map(|place| {
            report
                .find(place)
                .unwrap_or_else(|| panic!("{place} in\n{report}"))
        })
        .collect();
    assert!(found.windows(2).all(|w| w[0] < w[1]), "{report}");
    assert!(report.contains("help: did you mean `Score`?"), "{report}");
    assert!(
        report.ends_with("2 errors and 1 warning found\n"),
        "{report}"
    );
}

/// What a terminal shows when segc runs in `dir` with stderr on a pseudo-terminal, made by
/// `script` from util-linux. `NO_COLOR` is set to `no_color`, or unset for `None`.
fn on_terminal(dir: &Path, args: &[&str], no_color: Option<&str>) -> String {
    let quote = |word: &str| format!("'{}'", word.replace('\'', r"'\''"));
    let command: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_segc"))
        .chain(args.iter().copied())
        .map(quote)
        .collect();
    let mut script = Command::new("script");
    script
        .args([
            "--quiet",
            "--return",
            "--command",
            &command.join(" "),
            "/dev/null",
        ])
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("NO_COLOR");
    if let Some(value) = no_color {
        script.env("NO_COLOR", value);
    }
    let output = script.output().expect("`script` (util-linux) runs");
    assert_status(&output, 1);
    stdout(&output)
}

#[test]
fn no_color_turns_colour_off_even_on_a_terminal() {
    let dir = fixture("formats");
    let coloured = on_terminal(dir.path(), &["check"], None);
    assert!(coloured.contains('\x1b'), "{coloured:?}");
    // An empty NO_COLOR is no request.
    let empty = on_terminal(dir.path(), &["check"], Some(""));
    assert!(empty.contains('\x1b'), "{empty:?}");
    let plain = on_terminal(dir.path(), &["check"], Some("1"));
    assert!(!plain.contains('\x1b'), "{plain:?}");
    assert!(plain.contains("segc::unknown-column"), "{plain}");
}

#[test]
fn the_exit_status_does_not_depend_on_the_format() {
    let broken = fixture("formats");
    let warned = fixed_fixture();
    let empty = tempfile::tempdir().unwrap();
    for format in FORMATS {
        let with = |args: &[&'static str]| [args, &["--format", format]].concat();
        assert_status(&segc(broken.path(), &with(&["check"])), 1);
        assert_status(&segc(broken.path(), &with(&["run"])), 1);
        // A warning alone passes, unless warnings are denied.
        assert_status(&segc(warned.path(), &with(&["check"])), 0);
        assert_status(
            &segc(warned.path(), &with(&["check", "--deny", "warnings"])),
            1,
        );
        // No project: segc cannot run.
        assert_status(&segc(empty.path(), &with(&["check"])), 2);
    }
}
