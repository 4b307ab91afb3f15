//! Every diagnostic code on its own case under `tests/lints/cases/`, compared with the
//! report a reviewer read and approved (`expected.txt`). See `tests/lints/README.md`.

use std::fs;

use segc::diag::Code;

use super::*;

/// Runs one case; returns the report as `expected.txt` holds it.
fn run_case(case: &Path) -> String {
    let dir = tempfile::tempdir().expect("a temporary folder");
    copy_tree(&repo().join("tests/lints/base"), dir.path());
    copy_tree(case, dir.path());
    for own in ["expected.txt", "args"] {
        let _ = fs::remove_file(dir.path().join(own));
    }
    let args = fs::read_to_string(case.join("args")).unwrap_or_else(|_| "check".to_string());
    let args: Vec<&str> = args.split_whitespace().collect();
    let output = segc(dir.path(), &args);
    let status = output.status.code().expect("segc exits, not killed");
    format!("{}exit: {status}\n", stderr(&output))
}

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = fs::read_dir(repo().join("tests/lints/cases"))
        .expect("tests/lints/cases")
        .map(|entry| entry.expect("case").path())
        .collect();
    cases.sort();
    cases
}

#[test]
fn lint_cases_report_what_was_reviewed() {
    let bless = std::env::var_os("SEGC_BLESS").is_some();
    let mut failures = Vec::new();
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let report = run_case(&case);
        let expected_path = case.join("expected.txt");
        if bless {
            fs::write(&expected_path, &report).expect("write expected.txt");
            continue;
        }
        let expected = fs::read_to_string(&expected_path).unwrap_or_default();
        if report != expected {
            failures.push(format!("--- {name}: expected\n{expected}--- got\n{report}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn lint_cases_cover_every_code() {
    let names: Vec<String> = cases()
        .iter()
        .map(|case| case.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for code in Code::ALL {
        assert!(
            names.iter().any(|name| name == code.name()),
            "no case in tests/lints/cases for `{}`",
            code.name()
        );
        let expected = read(
            &repo()
                .join("tests/lints/cases")
                .join(code.name())
                .join("expected.txt"),
        );
        assert!(
            expected.contains(&format!("segc::{}", code.name())),
            "the `{}` case does not report its code",
            code.name()
        );
    }
}
