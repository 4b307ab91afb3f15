//! `segc fmt`: every `.seg` file of the repository survives formatting, and the command
//! lists, rewrites or refuses files as it should.

use std::fs;

use segc::fmt::{format_file, without_spans};
use segc::source::FileId;
use segc::syntax::ast::SegFile;
use segc::syntax::parse_file;

use super::*;

fn parse(name: &str, text: &str) -> SegFile {
    parse_file(FileId(0), text).unwrap_or_else(|d| panic!("{name} does not parse: {}", d.message))
}

/// Every `.seg` file of the repository, found by walking it, as (relative path, text).
fn repository_seg_files() -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut folders = vec![repo()];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder).expect("read a repository folder") {
            let path = entry.expect("folder entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            // Build outputs and version-control data hold no sources of the project.
            if path.is_dir() && !name.starts_with('.') && name != "target" && name != "out" {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "seg") {
                let relative = path
                    .strip_prefix(repo())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                found.push((relative, read(&path)));
            }
        }
    }
    // The case of the `syntax` diagnostic does not parse, on purpose.
    found.retain(|(path, _)| !path.starts_with("tests/lints/cases/syntax/"));
    found.sort();
    found
}

/// The comment texts of a file in order, without the trailing blanks the formatter drops.
fn comment_texts(file: &SegFile) -> Vec<&str> {
    file.comments.iter().map(|c| c.text.trim_end()).collect()
}

#[test]
fn the_walk_finds_the_seg_files_of_every_part_of_the_repository() {
    let names: Vec<String> = repository_seg_files().into_iter().map(|f| f.0).collect();
    for expected in [
        "segments/churn.seg",
        "segments/campaigns/winback.seg",
        "tests/fixtures/sets/segments/base/letters.seg",
        "bench/segments/region.seg",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
}

#[test]
fn fmt_keeps_the_meaning_and_comments_of_every_seg_file_and_is_stable() {
    let mut failures = Vec::new();
    for (name, text) in repository_seg_files() {
        let before = parse(&name, &text);
        let once = format_file(&text, &before);
        let after = parse(&format!("{name}, formatted"), &once);
        if without_spans(&after.segments) != without_spans(&before.segments) {
            failures.push(format!("{name}: the formatted text parses to another tree"));
        }
        if comment_texts(&after) != comment_texts(&before) {
            failures.push(format!(
                "{name}: comments {:?} became {:?}",
                comment_texts(&before),
                comment_texts(&after)
            ));
        }
        let twice = format_file(&once, &after);
        if twice != once {
            failures.push(format!(
                "{name}: formatting again changes\n{once}\ninto\n{twice}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_seg_file_of_the_repository_is_formatted() {
    let unformatted: Vec<String> = repository_seg_files()
        .into_iter()
        .filter(|(name, text)| format_file(text, &parse(name, text)) != *text)
        .map(|(name, _)| name)
        .collect();
    assert!(
        unformatted.is_empty(),
        "run `segc fmt` on {}",
        unformatted.join(", ")
    );
}

const MESSY: &str = "# A messy file.\nsegment messy {where Score>0.6   # high\n  from t\n \
                     title \"Messy\"\n\n\n}\nsegment other{from t}\n";

const TIDY: &str = "\
# A messy file.
segment messy {
    title \"Messy\"
    from t
    where Score > 0.6 # high
}

segment other {
    from t
}
";

/// The `nulls` fixture, whose own file is formatted, with `segments/messy.seg` added.
fn project_with_a_messy_file() -> tempfile::TempDir {
    let dir = fixture("nulls");
    fs::write(dir.path().join("segments/messy.seg"), MESSY).unwrap();
    dir
}

#[test]
fn fmt_check_lists_a_file_that_would_change_and_changes_nothing() {
    let dir = project_with_a_messy_file();
    let output = segc(dir.path(), &["fmt", "--check"]);
    assert_status(&output, 1);
    assert_eq!(stdout(&output), "segments/messy.seg\n");
    assert_eq!(read(&dir.path().join("segments/messy.seg")), MESSY);
}

#[test]
fn fmt_rewrites_a_file_in_the_canonical_layout_and_check_then_passes() {
    let dir = project_with_a_messy_file();
    let nulls = read(&dir.path().join("segments/nulls.seg"));
    let output = segc(dir.path(), &["fmt"]);
    assert_status(&output, 0);
    assert_eq!(stdout(&output), "");
    assert_eq!(read(&dir.path().join("segments/messy.seg")), TIDY);
    assert_eq!(read(&dir.path().join("segments/nulls.seg")), nulls);
    let leftovers: Vec<_> = fs::read_dir(dir.path().join("segments"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.ends_with(".seg"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    let output = segc(dir.path(), &["fmt", "--check"]);
    assert_status(&output, 0);
    assert_eq!(stdout(&output), "");
}

#[test]
fn fmt_reports_a_syntax_error_and_leaves_that_file_untouched() {
    let dir = project_with_a_messy_file();
    let broken = "segment broken {\n    from t\n    where Score >= \n}\n";
    fs::write(dir.path().join("segments/bad.seg"), broken).unwrap();

    let output = segc(dir.path(), &["fmt", "--check"]);
    assert_status(&output, 1);
    assert_eq!(stdout(&output), "segments/messy.seg\n");

    let output = segc(dir.path(), &["fmt"]);
    assert_status(&output, 1);
    let report = stderr(&output);
    assert!(report.contains("segc::syntax"), "{report}");
    assert!(report.contains("segments/bad.seg:4:1"), "{report}");
    assert!(report.contains("1 error found"), "{report}");
    assert_eq!(read(&dir.path().join("segments/bad.seg")), broken);
    // The other files are formatted all the same.
    assert_eq!(read(&dir.path().join("segments/messy.seg")), TIDY);
}

#[test]
fn fmt_with_paths_formats_only_those_and_names_them_as_given() {
    let dir = project_with_a_messy_file();
    // Outside the project's globs, but named on the command line.
    fs::create_dir_all(dir.path().join("drafts/deep")).unwrap();
    fs::write(dir.path().join("drafts/deep/draft.seg"), MESSY).unwrap();
    fs::write(dir.path().join("drafts/notes.txt"), "segment x {}").unwrap();
    fs::create_dir_all(dir.path().join("drafts/.old")).unwrap();
    fs::write(dir.path().join("drafts/.old/kept.seg"), MESSY).unwrap();

    let output = segc(dir.path(), &["fmt", "--check", "drafts"]);
    assert_status(&output, 1);
    assert_eq!(stdout(&output), "drafts/deep/draft.seg\n");

    // With `-C`, relative paths are taken from that folder.
    let elsewhere = tempfile::tempdir().unwrap();
    let project = dir.path().to_str().unwrap();
    let output = segc(
        elsewhere.path(),
        &["-C", project, "fmt", "--check", "drafts/deep"],
    );
    assert_status(&output, 1);
    assert_eq!(stdout(&output), "drafts/deep/draft.seg\n");

    let output = segc(dir.path(), &["fmt", "./drafts/deep/draft.seg"]);
    assert_status(&output, 0);
    assert_eq!(read(&dir.path().join("drafts/deep/draft.seg")), TIDY);
    assert_eq!(read(&dir.path().join("segments/messy.seg")), MESSY);
    assert_eq!(read(&dir.path().join("drafts/notes.txt")), "segment x {}");
    assert_eq!(read(&dir.path().join("drafts/.old/kept.seg")), MESSY);
}

#[cfg(unix)]
#[test]
fn fmt_rewrites_the_target_of_a_link_and_keeps_its_permissions() {
    use std::os::unix::fs::{symlink, PermissionsExt};

    let dir = project_with_a_messy_file();
    let target = dir.path().join("messy.seg");
    fs::rename(dir.path().join("segments/messy.seg"), &target).unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("segments/messy.seg");
    symlink(&target, &link).unwrap();

    let output = segc(dir.path(), &["fmt"]);
    assert_status(&output, 0);
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(read(&target), TIDY);
    let mode = fs::metadata(&target).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o640);
}

#[test]
fn fmt_of_a_missing_path_is_an_error() {
    let dir = project_with_a_messy_file();
    let output = segc(dir.path(), &["fmt", "nowhere.seg"]);
    assert_status(&output, 1);
    assert!(stderr(&output).contains("`nowhere.seg` does not exist"));
    assert_eq!(read(&dir.path().join("segments/messy.seg")), MESSY);
}

#[test]
fn fmt_without_paths_needs_a_project() {
    let dir = tempfile::tempdir().unwrap();
    let output = segc(dir.path(), &["fmt"]);
    assert_status(&output, 2);
    assert!(
        stderr(&output).contains("no `segc.toml`"),
        "{}",
        stderr(&output)
    );
}
