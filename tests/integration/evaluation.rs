//! Evaluation semantics on small fixtures whose members were worked out by hand.

use std::fs;

use super::*;

#[test]
fn nulls_follow_three_valued_logic() {
    assert_fixture_outputs("nulls");
}

#[test]
fn top_and_bottom_break_ties_by_key_and_round_percentages_exactly() {
    assert_fixture_outputs("ranking");
}

#[test]
fn several_rows_per_key_use_the_some_row_rule() {
    assert_fixture_outputs("recommendations");
}

#[test]
fn set_algebra_follows_sql_precedence_and_in_segment_crosses_tables() {
    assert_fixture_outputs("sets");
}

#[test]
fn split_groups_match_the_md5_buckets() {
    assert_fixture_outputs("split");
}

#[test]
fn split_groups_stay_put_when_customers_come_and_go() {
    let dir = fixture("split");
    assert_status(&segc(dir.path(), &["run", "--only", "experiment"]), 0);
    let before = read(&dir.path().join("out/experiment.csv"));

    // Drop C005, add thirty new customers.
    let table = dir.path().join("people.csv");
    let mut rows: Vec<String> = read(&table).lines().map(str::to_string).collect();
    rows.retain(|row| !row.starts_with("C005,"));
    rows.extend((100..130).map(|i| format!("N{i},true")));
    fs::write(&table, rows.join("\n") + "\n").unwrap();
    assert_status(&segc(dir.path(), &["run", "--only", "experiment"]), 0);
    let after = read(&dir.path().join("out/experiment.csv"));

    let groups = |text: &str| -> Vec<(String, String)> {
        text.lines()
            .skip(1)
            .map(|line| {
                let (key, group) = line.split_once(',').unwrap();
                (key.to_string(), group.to_string())
            })
            .collect()
    };
    let after = groups(&after);
    assert_eq!(after.len(), 20 - 1 + 30);
    for (key, group) in groups(&before) {
        if key == "C005" {
            assert!(after.iter().all(|(k, _)| k != "C005"));
            continue;
        }
        let moved = after
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, g)| g.clone());
        assert_eq!(moved, Some(group), "customer {key} changed group");
    }
}

#[test]
fn a_failed_expect_exits_1_and_still_writes_the_outputs() {
    let dir = fixture("nulls");
    let seg = dir.path().join("segments/expect.seg");
    fs::write(
        &seg,
        "segment scored {\n    from t\n    where Score is not null\n    expect size >= 100\n}\n",
    )
    .unwrap();
    let output = segc(dir.path(), &["run"]);
    assert_status(&output, 1);
    assert_eq!(
        read(&dir.path().join("out/scored.csv")),
        "CustomerId\nA\nC\nD\n"
    );
    let report = stderr(&output);
    assert!(report.contains("segc::expect-failed"), "{report}");
    assert!(
        report.contains("expected size >= 100, but it is 3"),
        "{report}"
    );
    assert!(report.contains("segments/expect.seg:4:5"), "{report}");
    // The summary records the failure too.
    let summary = read(&dir.path().join("out/summary.json"));
    assert!(summary.contains("\"passed\": false"), "{summary}");
}

#[test]
fn share_expectations_divide_by_the_source_keys() {
    let dir = fixture("nulls");
    fs::write(
        dir.path().join("segments/expect.seg"),
        "segment scored {\n    from t\n    where Score is not null\n    \
         expect share between 59% and 61%\n}\n",
    )
    .unwrap();
    assert_status(&segc(dir.path(), &["run", "--only", "scored"]), 0);
}

#[test]
fn only_writes_the_named_segments() {
    let dir = fixture("sets");
    let output = segc(dir.path(), &["run", "--only", "union_intersect"]);
    assert_status(&output, 0);
    let names: Vec<String> = csv_files(&dir.path().join("out"))
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert_eq!(names, ["union_intersect.csv"]);
}

#[test]
fn thread_counts_do_not_change_a_byte() {
    let dir = tempfile::tempdir().unwrap();
    for item in ["segc.toml", "samples", "segments"] {
        let from = repo().join(item);
        if from.is_dir() {
            copy_tree(&from, &dir.path().join(item));
        } else {
            fs::copy(&from, dir.path().join(item)).unwrap();
        }
    }
    assert_status(
        &segc(dir.path(), &["run", "--threads", "1", "--out", "one"]),
        0,
    );
    assert_status(
        &segc(dir.path(), &["run", "--threads", "2", "--out", "two"]),
        0,
    );
    let one = csv_files(&dir.path().join("one"));
    let two = csv_files(&dir.path().join("two"));
    assert!(
        one.len() >= 12,
        "the sample project has at least 12 segments"
    );
    assert_eq!(one, two);
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    // `segc run | head -0`: the reader goes away before segc prints its summary.
    let dir = fixture("sets");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_segc"))
        .arg("run")
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("segc starts");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("segc ends");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(csv_files(&dir.path().join("out")).len(), 11);
}

#[test]
fn progress_shows_on_a_terminal_only() {
    let dir = fixture("sets");
    // Through a pipe: nothing on stderr but problems, and this run has none.
    let piped = segc(dir.path(), &["run"]);
    assert_status(&piped, 0);
    assert_eq!(stderr(&piped), "");
    // On a terminal (made by `script` from util-linux), a bar names the tables it loads;
    // the first of them is drawn at once, the others when the drawing rate allows.
    let command = format!("'{}' run", env!("CARGO_BIN_EXE_segc"));
    let output = std::process::Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("`script` (util-linux) runs");
    assert_status(&output, 0);
    let screen = stdout(&output);
    let first = ["loading churn.csv", "loading clv.csv", "loading s.csv"];
    assert!(first.iter().any(|t| screen.contains(t)), "{screen:?}");
}

/// A project of one table `t` (from `t.csv`, keyed by `CustomerId`) and one `.seg` file.
fn one_table_project(table: &str, segments: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("segments")).unwrap();
    fs::write(
        dir.path().join("segc.toml"),
        "[tables.t]\npath = \"t.csv\"\n",
    )
    .unwrap();
    fs::write(dir.path().join("t.csv"), table).unwrap();
    fs::write(dir.path().join("segments/s.seg"), segments).unwrap();
    dir
}

#[test]
fn round_takes_negative_digits() {
    let dir = one_table_project(
        "CustomerId,V\nA,1234\nB,1245\nC,1260\n",
        "segment tens {\n    from t\n    where round(V, -1) >= 1250\n}\n",
    );
    assert_status(&segc(dir.path(), &["run"]), 0);
    // 1234 rounds to 1230, 1245 to 1250 (half away from zero), 1260 stays.
    assert_eq!(read(&dir.path().join("out/tens.csv")), "CustomerId\nB\nC\n");
}

#[test]
fn sums_add_up_in_file_order_whatever_order_rows_are_kept_in() {
    // In file order, 1e16 + 1 rounds back to 1e16, so the sum is 0 + 1 = 1. In key order
    // (A, B, C, D) it would be 1 + 1 - 1e16 + 1e16 = 2, and A and B would not pass.
    let dir = one_table_project(
        "CustomerId,V\nD,1e16\nA,1.0\nC,-1e16\nB,1.0\n",
        "segment at_least_sum {\n    from t\n    where V >= sum(V)\n}\n",
    );
    assert_status(&segc(dir.path(), &["run"]), 0);
    assert_eq!(
        read(&dir.path().join("out/at_least_sum.csv")),
        "CustomerId\nA\nB\nD\n"
    );
}
