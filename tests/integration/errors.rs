//! Reports of bad input: each names the file, line and column, quotes the source, labels
//! the span, gives the code and a help line, and exits 1 without touching outputs.

use std::fs;

use super::*;

fn write_segment(dir: &Path, text: &str) {
    fs::write(dir.join("segments/bad.seg"), text).unwrap();
}

#[test]
fn a_syntax_error_points_at_the_spot() {
    let dir = fixture("nulls");
    write_segment(
        dir.path(),
        "segment broken {\n    from t\n    where Score >= \n}\n",
    );
    let output = segc(dir.path(), &["check"]);
    assert_status(&output, 1);
    let report = stderr(&output);
    assert!(report.contains("segc::syntax"), "{report}");
    assert!(report.contains("segments/bad.seg:4:1"), "{report}");
    assert!(report.contains("3 │     where Score >="), "{report}");
    assert!(
        report.contains("help: `>=` needs a value after it"),
        "{report}"
    );
}

#[test]
fn an_unknown_column_suggests_the_near_name() {
    let dir = fixture("nulls");
    write_segment(
        dir.path(),
        "segment typo {\n    from t\n    where Scor > 0.5\n}\n",
    );
    let output = segc(dir.path(), &["check"]);
    assert_status(&output, 1);
    let report = stderr(&output);
    assert!(report.contains("segc::unknown-column"), "{report}");
    assert!(
        report.contains("table `t` has no column `Scor`"),
        "{report}"
    );
    assert!(report.contains("segments/bad.seg:3:11"), "{report}");
    assert!(report.contains("3 │     where Scor > 0.5"), "{report}");
    assert!(report.contains("not a column of this table"), "{report}");
    assert!(report.contains("help: did you mean `Score`?"), "{report}");
}

#[test]
fn a_cycle_names_every_segment_on_it() {
    let dir = fixture("nulls");
    write_segment(
        dir.path(),
        "segment a {\n    combine b union c\n}\n\nsegment b {\n    combine c\n}\n\n\
         segment c {\n    from t\n    where in segment a\n}\n",
    );
    let output = segc(dir.path(), &["check"]);
    assert_status(&output, 1);
    let report = stderr(&output);
    assert!(report.contains("segc::cycle"), "{report}");
    assert!(
        report.contains("segments `a`, `b`, `c` refer to each other in a cycle"),
        "{report}"
    );
    assert!(report.contains("segments/bad.seg:1:9"), "{report}");
    assert!(report.contains("help:"), "{report}");
}

#[test]
fn every_error_in_every_file_is_reported_in_one_run() {
    let dir = fixture("nulls");
    write_segment(dir.path(), "segment one {\n    from nowhere\n}\n");
    fs::write(
        dir.path().join("segments/bad2.seg"),
        "segment two {\n    from t\n    where Tag > 1\n}\n",
    )
    .unwrap();
    let output = segc(dir.path(), &["check", "--format", "json"]);
    assert_status(&output, 1);
    let lines: Vec<String> = stdout(&output).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].contains("\"code\":\"segc::unknown-table\""),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("\"file\":\"segments/bad.seg\",\"line\":2,\"column\":10"));
    assert!(
        lines[1].contains("\"code\":\"segc::type-mismatch\""),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains("\"file\":\"segments/bad2.seg\",\"line\":3"));
}

/// Regression: with 28 decimals, split shares scaled by 10^30 overflowed the 128-bit bucket
/// arithmetic, and `run` panicked; a `top` percentage with as many decimals could overflow
/// on a large table. Percentages now take at most 18 decimals, and more is an error.
#[test]
fn percentages_with_more_than_eighteen_decimals_are_refused() {
    let dir = fixture("split");
    write_segment(
        dir.path(),
        "segment ab {\n    from people\n    \
         split a 50.0000000000000000000000000001%, b 49.9999999999999999999999999999% \
         seed \"s\"\n}\n\n\
         segment most {\n    from people\n    \
         top 99.999999999999999999999999999999% by length(CustomerId)\n}\n",
    );
    let output = segc(dir.path(), &["run", "--format", "json"]);
    assert_status(&output, 1);
    let share = |column: usize| {
        format!(
            "{{\"code\":\"segc::invalid-amount\",\"level\":\"error\",\
             \"message\":\"a split share is out of range\",\"file\":\"segments/bad.seg\",\
             \"line\":3,\"column\":{column},\"end_line\":3,\"end_column\":{},\
             \"label\":\"too many digits\",\"help\":null,\"related\":[]}}",
            column + 32
        )
    };
    let top = "{\"code\":\"segc::invalid-amount\",\"level\":\"error\",\
               \"message\":\"`top 99.999999999999999999999999999999%` is not a valid amount\",\
               \"file\":\"segments/bad.seg\",\"line\":8,\"column\":9,\"end_line\":8,\
               \"end_column\":43,\"label\":\"too many digits\",\
               \"help\":\"keep a whole number of keys above 0, or a percentage above 0% up to \
               100%\",\"related\":[]}";
    assert_eq!(
        stdout(&output).lines().collect::<Vec<_>>(),
        [share(13).as_str(), share(49).as_str(), top]
    );
    assert!(!dir.path().join("out").exists());
}

/// Runs the fixture once, breaks a table, runs again: the second run fails with a report
/// naming the file, line and column, and the outputs of the first are left whole.
fn assert_data_error(table_text: &str, expected: &[&str]) {
    assert_data_error_with("", table_text, expected);
}

/// As `assert_data_error`, with `config` appended to the fixture's `segc.toml` first.
fn assert_data_error_with(config: &str, table_text: &str, expected: &[&str]) {
    let dir = fixture("nulls");
    let toml = dir.path().join("segc.toml");
    let base = read(&toml);
    fs::write(&toml, format!("{base}\n{config}")).unwrap();
    assert_status(&segc(dir.path(), &["run"]), 0);
    let before = csv_files(&dir.path().join("out"));
    let summary = read(&dir.path().join("out/summary.json"));
    fs::write(dir.path().join("t.csv"), table_text).unwrap();
    let output = segc(dir.path(), &["run"]);
    assert_status(&output, 1);
    let report = stderr(&output);
    for part in expected {
        assert!(report.contains(part), "expected `{part}` in\n{report}");
    }
    assert_eq!(csv_files(&dir.path().join("out")), before);
    assert_eq!(read(&dir.path().join("out/summary.json")), summary);
    let leftovers: Vec<_> = fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_ragged_row_names_file_and_line_and_keeps_previous_outputs() {
    assert_data_error(
        "CustomerId,Score,Tag,Flag\nA,0.9,x,true\nB,0.1,y\n",
        &["segc::data", "t.csv:3", "expected 4 fields, found 3"],
    );
}

#[test]
fn an_unparsable_number_names_file_line_and_column() {
    // Declared, so a word in the column is bad data rather than a reason to read it as text.
    assert_data_error_with(
        "[tables.t.columns]\nScore = \"number\"\n",
        "CustomerId,Score,Tag,Flag\nA,0.9,x,true\nB,0.1,y,false\nC,high,z,true\n",
        &["segc::data", "t.csv:4:3", "`high`", "`Score`"],
    );
}
