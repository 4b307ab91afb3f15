//! The sample project of the repository, run as a new user would.

use std::fs;

use super::*;

/// A copy of the sample project in a fresh folder.
fn sample_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for item in ["segc.toml", "samples", "segments"] {
        let from = repo().join(item);
        if from.is_dir() {
            copy_tree(&from, &dir.path().join(item));
        } else {
            fs::copy(&from, dir.path().join(item)).unwrap();
        }
    }
    dir
}

#[test]
fn the_sample_project_checks_clean() {
    let dir = sample_project();
    let output = segc(dir.path(), &["check"]);
    assert_status(&output, 0);
    assert!(
        stderr(&output).contains("no problems"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_sample_project_runs_to_the_independently_computed_members() {
    let dir = sample_project();
    let output = segc(dir.path(), &["run"]);
    assert_status(&output, 0);
    let expected = csv_files(&dir.path().join("samples/expected"));
    let actual = csv_files(&dir.path().join("out"));
    assert!(
        expected.len() >= 12,
        "the sample project has at least 12 segments"
    );
    let names = |files: &[(String, String)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&actual), names(&expected));
    for ((file, want), (_, got)) in expected.iter().zip(&actual) {
        assert_eq!(got, want, "sample output `{file}`");
    }
    let summary = stdout(&output);
    assert!(summary.starts_with("segment"), "{summary}");
    assert!(summary.contains("wrote"), "{summary}");
}
