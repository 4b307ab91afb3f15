//! segc against DuckDB on the benchmark's 21 segments: the same members, byte for byte.
//!
//! DuckDB runs from Python. The test uses `$SEGC_PYTHON`, else `python3` when it has
//! `duckdb` and `numpy`, else a virtual environment it makes once under the target folder
//! and fills from PyPI; it fails, saying why, when none of these can be had.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use super::*;

fn has_modules(python: &str) -> bool {
    Command::new(python)
        .args(["-c", "import duckdb, numpy"])
        .output()
        .is_ok_and(|output| output.status.success())
}

/// A Python interpreter with duckdb and numpy.
pub fn python() -> &'static str {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON.get_or_init(|| {
        if let Ok(python) = std::env::var("SEGC_PYTHON") {
            assert!(
                has_modules(&python),
                "$SEGC_PYTHON ({python}) lacks duckdb or numpy"
            );
            return python;
        }
        if has_modules("python3") {
            return "python3".to_string();
        }
        let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("oracle-venv");
        let python = venv.join("bin/python").to_string_lossy().into_owned();
        if !has_modules(&python) {
            eprintln!("installing duckdb and numpy into {}", venv.display());
            let made = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status();
            assert!(made.is_ok_and(|s| s.success()), "python3 -m venv failed");
            let installed = Command::new(&python)
                .args(["-m", "pip", "install", "--quiet", "duckdb", "numpy"])
                .status();
            assert!(
                installed.is_ok_and(|s| s.success()),
                "pip install duckdb numpy failed: the differential test needs them"
            );
        }
        python
    })
}

#[test]
fn the_bench_segments_match_duckdb_byte_for_byte() {
    let python = python();
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo().join("bench"), dir.path());
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
}
