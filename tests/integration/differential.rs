//! segc against DuckDB, byte for byte: the benchmark's segments, and every segment of the
//! evaluation fixtures and of the sample project.
//!
//! The SQL is written by hand from SPEC.md, never taken from segc: `bench/duckdb_segments.py`
//! for the benchmark, `tests/differential/NAME.sql` for the others, which
//! `tests/differential/run.py` runs after loading the tables with the types segc gives them.
//!
//! DuckDB runs from Python. The test uses `$SEGC_PYTHON`, else `python3` when it has
//! `duckdb`, `numpy` and `xxhash` (the digests of `summary.json`, checked against the C
//! library's), else a virtual environment it makes once under the target folder and fills
//! from PyPI; it fails, saying why, when none of these can be had.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::*;

fn has_modules(python: &str) -> bool {
    Command::new(python)
        .args(["-c", "import duckdb, numpy, xxhash"])
        .output()
        .is_ok_and(|output| output.status.success())
}

/// A Python interpreter with duckdb, numpy and xxhash.
pub fn python() -> &'static str {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON.get_or_init(|| {
        if let Ok(python) = std::env::var("SEGC_PYTHON") {
            assert!(
                has_modules(&python),
                "$SEGC_PYTHON ({python}) lacks duckdb, numpy or xxhash"
            );
            return python;
        }
        if has_modules("python3") {
            return "python3".to_string();
        }
        let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("oracle-venv");
        let python = venv.join("bin/python").to_string_lossy().into_owned();
        if !has_modules(&python) {
            eprintln!(
                "installing duckdb, numpy and xxhash into {}",
                venv.display()
            );
            let made = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status();
            assert!(made.is_ok_and(|s| s.success()), "python3 -m venv failed");
            let installed = Command::new(&python)
                .args([
                    "-m", "pip", "install", "--quiet", "duckdb", "numpy", "xxhash",
                ])
                .status();
            assert!(
                installed.is_ok_and(|s| s.success()),
                "pip install duckdb numpy xxhash failed: the differential test needs them"
            );
        }
        python
    })
}

#[test]
fn the_bench_segments_match_duckdb_byte_for_byte() {
    let python = python();
    let dir = tempfile::tempdir().unwrap();
    // The project and its scripts; not `bench/.data`, where the harness keeps large tables.
    let bench = repo().join("bench");
    copy_tree(&bench.join("segments"), &dir.path().join("segments"));
    for file in ["segc.toml", "gen_tables.py", "duckdb_segments.py"] {
        fs::copy(bench.join(file), dir.path().join(file)).expect("copy a bench file");
    }
    let data = dir.path().join("data");
    let generated = Command::new(python)
        .arg(dir.path().join("gen_tables.py"))
        .arg(&data)
        .arg("20000")
        .status()
        .unwrap();
    assert!(generated.success(), "gen_tables.py failed");

    assert_status(&segc(dir.path(), &["run"]), 0);
    let reference = dir.path().join("out/duckdb");
    let ran = Command::new(python)
        .arg(dir.path().join("duckdb_segments.py"))
        .arg(&data)
        .arg(&reference)
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "duckdb_segments.py failed: {}",
        stderr(&ran)
    );

    let ours = csv_files(&dir.path().join("out/segc"));
    let theirs = csv_files(&reference);
    // bench/README.md says 21, but its .seg files and the DuckDB script both define 22.
    assert_eq!(theirs.len(), 22, "DuckDB wrote the 22 segments");
    let names = |files: &[(String, String)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ours), names(&theirs));
    for ((file, want), (_, got)) in theirs.iter().zip(&ours) {
        assert_eq!(got, want, "segment `{file}` differs from DuckDB");
    }
    // Scores are drawn from Beta(2, 5), so at 20,000 rows with the default seed none reaches
    // 0.9 and `churn_6` is empty;
    // every other segment has members, so the comparison means something.
    let empty: Vec<&str> = theirs
        .iter()
        .filter(|(_, text)| text.lines().count() < 2)
        .map(|(file, _)| file.as_str())
        .collect();
    assert_eq!(empty, ["churn_6.csv"]);

    // summary.json gives each list's size and digest, as xxHash's own library computes it.
    let digests = Command::new(python)
        .args([
            "-c",
            "import json, os, sys, xxhash\n\
             out = sys.argv[1]\n\
             for s in json.load(open(os.path.join(out, 'summary.json')))['segments']:\n\
             \x20   data = open(os.path.join(out, s['output']), 'rb').read()\n\
             \x20   digest = xxhash.xxh3_128_hexdigest(data)\n\
             \x20   ok = s['xxh128'] == digest and s['bytes'] == len(data)\n\
             \x20   print(s['output'], 'ok' if ok else 'differs')",
        ])
        .arg(dir.path().join("out/segc"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&digests.stdout);
    assert!(digests.status.success(), "{}", stderr(&digests));
    let checked: Vec<&str> = report
        .lines()
        .filter(|line| line.ends_with(" ok"))
        .collect();
    assert_eq!(checked.len(), 22, "{report}");
}

/// Runs segc in `project` and the hand-written SQL of `tests/differential/{sql}.sql` on the
/// same tables, and requires the same files with the same bytes, `segments` of them.
#[track_caller]
fn assert_matches_oracle(project: &Path, sql: &str, segments: usize) {
    assert_status(&segc(project, &["run"]), 0);
    let reference = project.join("oracle");
    let ran = Command::new(python())
        .arg(repo().join("tests/differential/run.py"))
        .arg(project)
        .arg(repo().join("tests/differential").join(format!("{sql}.sql")))
        .arg(&reference)
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "run.py on `{sql}` failed: {}",
        stderr(&ran)
    );

    let ours = csv_files(&project.join("out"));
    let theirs = csv_files(&reference);
    let names = |files: &[(String, String)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    // Equal names mean no segment goes unchecked: none is left out of the SQL.
    assert_eq!(names(&ours), names(&theirs), "segments of `{sql}`");
    assert_eq!(theirs.len(), segments, "segments of `{sql}`");
    for ((file, want), (_, got)) in theirs.iter().zip(&ours) {
        assert_eq!(got, want, "`{sql}`: segment `{file}` differs from DuckDB");
    }
}

// The `formats` fixture is left out: it is a project with mistakes for the report formats,
// and `segc run` stops on them before evaluating anything.

#[test]
fn the_nulls_fixture_matches_duckdb() {
    assert_matches_oracle(fixture("nulls").path(), "nulls", 7);
}

#[test]
fn the_ranking_fixture_matches_duckdb() {
    assert_matches_oracle(fixture("ranking").path(), "ranking", 9);
}

#[test]
fn the_recommendations_fixture_matches_duckdb() {
    assert_matches_oracle(fixture("recommendations").path(), "recommendations", 5);
}

#[test]
fn the_sets_fixture_matches_duckdb() {
    assert_matches_oracle(fixture("sets").path(), "sets", 11);
}

#[test]
fn the_split_fixture_matches_duckdb() {
    assert_matches_oracle(fixture("split").path(), "split", 2);
}

#[test]
fn the_sample_project_matches_duckdb() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(repo().join("segc.toml"), dir.path().join("segc.toml")).unwrap();
    copy_tree(&repo().join("segments"), &dir.path().join("segments"));
    copy_tree(&repo().join("samples"), &dir.path().join("samples"));
    assert_matches_oracle(dir.path(), "sample", 30);
}
