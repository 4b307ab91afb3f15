//! segc's integration tests: the real binary on real files.
//!
//! Fixtures live in `tests/fixtures/NAME/`: a project (segc.toml, tables, segments) and an
//! `expected/` folder with the outputs worked out by hand from SPEC.md, one file per
//! segment. Helpers here copy a fixture into a fresh folder, run segc there and compare.

mod compile;
mod differential;
mod errors;
mod evaluation;
mod fmt;
mod formats;
mod hostile;
// Other systems replace outputs file by file, which a kill can leave half done.
#[cfg(target_os = "linux")]
mod interrupt;
mod lints;
mod oracle;
mod sample;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of `tests/fixtures/NAME` in a fresh temporary folder.
pub fn fixture(name: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    copy_tree(&repo().join("tests/fixtures").join(name), dir.path());
    dir
}

pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create folder");
    for entry in fs::read_dir(from).expect("read fixture folder") {
        let entry = entry.expect("fixture entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy fixture file");
        }
    }
}

/// Runs segc in `dir` with `args`, colour off.
pub fn segc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_segc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("segc runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the exit status, printing both streams when it is not the expected one.
#[track_caller]
pub fn assert_status(output: &Output, expected: i32) {
    assert_eq!(
        output.status.code(),
        Some(expected),
        "exit status\n--- stdout\n{}\n--- stderr\n{}",
        stdout(output),
        stderr(output)
    );
}

pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The CSV files of a folder, by name.
pub fn csv_files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "csv"))
        .map(|path| {
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                read(&path),
            )
        })
        .collect();
    files.sort();
    files
}

/// Runs a fixture and compares every output with its `expected/` file, both ways.
#[track_caller]
pub fn assert_fixture_outputs(name: &str) {
    let dir = fixture(name);
    let output = segc(dir.path(), &["run"]);
    assert_status(&output, 0);
    let expected = csv_files(&dir.path().join("expected"));
    let actual = csv_files(&dir.path().join("out"));
    let names = |files: &[(String, String)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&actual),
        names(&expected),
        "output files of fixture `{name}`"
    );
    for ((file, want), (_, got)) in expected.iter().zip(&actual) {
        assert_eq!(got, want, "fixture `{name}`, output `{file}`");
    }
}
