//! Hostile input: the CSV traps that bite every tool reading these tables, and broken
//! project files. Each test writes a small project of its own, so that every byte of the
//! input is in the test, and states the outcome worked out by hand from SPEC.md and the
//! README's "Table files" section: the exact member list, or the exact findings (code,
//! level, message, place, label, help) with the exit status and the previous outputs left
//! whole.
//!
//! Every project has one table `t` at `t.csv` keyed by `CustomerId`; its segc.toml is
//!
//! ```toml
//! key = "CustomerId"                  # line 1
//! segments = ["segments/*.seg"]       # line 2
//! output = "out"                      # line 3: `"out"` is columns 10 to 14
//!                                     # line 4
//! [tables.t]                          # line 5
//! path = "t.csv"                      # line 6: `"t.csv"` is columns 8 to 14
//! ```
//!
//! followed by the lines a test adds, which land in `[tables.t]`.

use std::fs;

use serde_json::{json, Value};
use tempfile::TempDir;

use super::*;

const BASE_TOML: &str =
    "key = \"CustomerId\"\nsegments = [\"segments/*.seg\"]\noutput = \"out\"\n\n\
                         [tables.t]\npath = \"t.csv\"\n";

/// Every member of `t` with its `V`.
const ALL_V: &str = "segment all {\n    from t\n    select V\n}\n";

/// A project with `extra` appended to segc.toml, `table` as `t.csv` and `segments` as
/// `segments/s.seg`.
fn project(extra: &str, table: &[u8], segments: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    fs::write(dir.path().join("segc.toml"), format!("{BASE_TOML}{extra}")).unwrap();
    fs::write(dir.path().join("t.csv"), table).unwrap();
    fs::create_dir(dir.path().join("segments")).unwrap();
    fs::write(dir.path().join("segments/s.seg"), segments).unwrap();
    dir
}

/// Runs `segc run` and returns the member lists it wrote, by file name; asserts exit 0
/// and no findings.
#[track_caller]
fn members(dir: &Path) -> Vec<(String, String)> {
    let output = segc(dir, &["run", "--format", "json"]);
    assert_status(&output, 0);
    assert_eq!(stdout(&output), "", "no findings expected");
    csv_files(&dir.join("out"))
}

/// The findings of a command run with `--format json`, one value each.
fn findings(output: &Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object a line"))
        .collect()
}

/// Where a finding points: file, line, column, end line, end column.
type Place<'a> = (&'a str, usize, usize, usize, usize);

/// A finding as `--format json` prints it, with no related places.
fn finding(
    code: &str,
    level: &str,
    message: &str,
    place: Place<'_>,
    label: &str,
    help: &str,
) -> Value {
    let (file, line, column, end_line, end_column) = place;
    json!({
        "code": format!("segc::{code}"),
        "level": level,
        "message": message,
        "file": file,
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
        "label": label,
        "help": help,
        "related": [],
    })
}

fn error(code: &str, message: &str, place: Place<'_>, label: &str, help: &str) -> Value {
    finding(code, "error", message, place, label, help)
}

fn warning(code: &str, message: &str, place: Place<'_>, label: &str, help: &str) -> Value {
    finding(code, "warning", message, place, label, help)
}

/// A finding with no place.
fn unplaced(code: &str, level: &str, message: &str, help: &str) -> Value {
    json!({
        "code": format!("segc::{code}"),
        "level": level,
        "message": message,
        "file": null,
        "line": null,
        "column": null,
        "end_line": null,
        "end_column": null,
        "label": null,
        "help": help,
        "related": [],
    })
}

/// The help of a cell that does not parse as its declared type.
const BAD_CELL_HELP: &str = "declare the column as `string` in segc.toml, or set \
                             `on_bad_value = \"null\"` for table `t` to read such cells as null";
const RAGGED_HELP: &str = "every row has as many fields as the header; a value that holds the \
                           delimiter must be quoted, and a delimiter at the end of a line starts \
                           one more field";
const NOT_UTF8_HELP: &str =
    "save the file as UTF-8; bytes like these come from encodings such as Latin-1";

/// Everything in the output folder, hidden files included, by name.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir.join("out"))
        .expect("an output folder")
        .map(|entry| {
            let entry = entry.expect("entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            let bytes = if entry.path().is_dir() {
                b"(folder)".to_vec()
            } else {
                fs::read(entry.path()).expect("read output")
            };
            (name, bytes)
        })
        .collect();
    files.sort();
    files
}

/// Runs the project once with the good table `t.csv` holds, then with `bad`: the second
/// run exits 1 with exactly the `expected` findings, and leaves the first run's outputs as
/// they were, with no temporary file beside them.
#[track_caller]
fn assert_rejected(dir: &Path, bad: &[u8], expected: &[Value]) {
    assert_status(&segc(dir, &["run"]), 0);
    let before = snapshot(dir);
    fs::write(dir.join("t.csv"), bad).unwrap();
    let output = segc(dir, &["run", "--format", "json"]);
    assert_status(&output, 1);
    assert_eq!(findings(&output), expected);
    assert_eq!(snapshot(dir), before, "previous outputs untouched");
}

fn file(name: &str, text: &str) -> (String, String) {
    (name.to_string(), text.to_string())
}

// The table's encoding and line ends.

#[test]
fn a_byte_order_mark_before_the_header_is_not_part_of_the_first_name() {
    let dir = project(
        "",
        b"\xef\xbb\xbfCustomerId,V\nB,2\nA,1\n",
        "segment all {\n    from t\n    where V >= 1\n    select V\n}\n",
    );
    // Keys in byte order; no mark in the output.
    assert_eq!(
        members(dir.path()),
        [file("all.csv", "CustomerId,V\nA,1\nB,2\n")]
    );
}

#[test]
fn crlf_and_lf_line_ends_read_alike_and_no_carriage_return_stays_in_a_cell() {
    // CRLF, then LF, then a last line with no line end at all.
    let dir = project(
        "",
        b"CustomerId,V\r\nA,x\r\nB,y\nC,z",
        "segment all {\n    from t\n    select V\n}\n\n\
         segment x_only {\n    from t\n    where V = \"x\"\n}\n",
    );
    // A `\r` kept in `x` would make `V = "x"` false and force quotes around the field.
    assert_eq!(
        members(dir.path()),
        [
            file("all.csv", "CustomerId,V\nA,x\nB,y\nC,z\n"),
            file("x_only.csv", "CustomerId\nA\n"),
        ]
    );
}

#[test]
fn bytes_that_are_not_utf8_are_an_error_at_the_first_bad_byte() {
    let dir = project("", b"CustomerId,V\nA,cafe\n", ALL_V);
    // `caf` then 0xE9, Latin-1's `é`: columns A 1, `,` 2, c 3, a 4, f 5, 0xE9 6. The key
    // on line 3 starts with 0xFF. On line 4, column 2 is fine and the key is fine.
    assert_rejected(
        dir.path(),
        b"CustomerId,V\nA,caf\xe9\n\xffB,x\nC,ok\n",
        &[
            error(
                "data",
                "cell in column `V` is not valid UTF-8",
                ("t.csv", 2, 6, 2, 7),
                "byte 0xE9 is not UTF-8",
                NOT_UTF8_HELP,
            ),
            error(
                "data",
                "cell in column `CustomerId` is not valid UTF-8",
                ("t.csv", 3, 1, 3, 2),
                "byte 0xFF is not UTF-8",
                NOT_UTF8_HELP,
            ),
        ],
    );
}

#[test]
fn a_header_name_that_is_not_utf8_is_an_error_at_its_bad_byte() {
    let dir = project("", b"CustomerId,V\nA,1\n", ALL_V);
    // `CustomerId,` is 11 characters; `V` is column 12 and 0xE9 column 13.
    assert_rejected(
        dir.path(),
        b"CustomerId,V\xe9\nA,1\n",
        &[error(
            "data",
            "column 2 of the header of `t.csv` is not valid UTF-8",
            ("t.csv", 1, 13, 1, 14),
            "byte 0xE9 is not UTF-8",
            NOT_UTF8_HELP,
        )],
    );
}

#[test]
fn bytes_that_are_not_utf8_read_as_a_person_sees_them() {
    let dir = project("", b"CustomerId,V\nA,caf\xe9\n", ALL_V);
    let output = segc(dir.path(), &["run"]);
    assert_status(&output, 1);
    // The bad byte shows as U+FFFD in the quoted line; the label sits under it.
    let expected = "segc::data\n\
                    \n  × cell in column `V` is not valid UTF-8\
                    \n   ╭─[t.csv:2:6]\
                    \n 2 │ A,caf\u{fffd}\
                    \n   ·      ┬\
                    \n   ·      ╰── byte 0xE9 is not UTF-8\
                    \n   ╰────\
                    \n  help: save the file as UTF-8; bytes like these come from encodings such as \
                    Latin-1\
                    \n1 error found\n";
    assert_eq!(stderr(&output), expected);
}

// Quoting and field counts.

#[test]
fn quoted_fields_hold_delimiters_quotes_and_line_breaks() {
    let table = "CustomerId,V\n\"A,1\",\"say \"\"hi\"\"\"\nB,\"two\nlines\"\nC,\"a,b\"\n";
    let dir = project("", table.as_bytes(), ALL_V);
    // Written back with quotes only where CSV needs them, which here is everywhere.
    assert_eq!(
        members(dir.path()),
        [file(
            "all.csv",
            "CustomerId,V\n\"A,1\",\"say \"\"hi\"\"\"\nB,\"two\nlines\"\nC,\"a,b\"\n"
        )]
    );
}

#[test]
fn an_error_after_a_line_break_in_quotes_names_the_physical_line() {
    let dir = project(
        "[tables.t.columns]\nN = \"number\"\n",
        b"CustomerId,V,N\nA,x,1\n",
        "segment all {\n    from t\n    select V, N\n}\n",
    );
    // The record of B starts on line 3 and holds a line break, so C's record is line 5.
    assert_rejected(
        dir.path(),
        b"CustomerId,V,N\nA,x,1\nB,\"two\nlines\",2\nC,y,high\n",
        &[error(
            "data",
            "cell `high` in column `N` is not a number",
            ("t.csv", 5, 5, 5, 9),
            "not a number",
            BAD_CELL_HELP,
        )],
    );
}

#[test]
fn a_quote_that_never_closes_is_an_error_at_the_quote() {
    let dir = project("", b"CustomerId,V\nA,x\n", ALL_V);
    assert_rejected(
        dir.path(),
        b"CustomerId,V\nA,\"x\nB,y\n",
        &[error(
            "data",
            "a quoted field in `t.csv` never ends",
            ("t.csv", 2, 3, 2, 4),
            "this quote is not closed",
            "end the field with `\"`; a quote inside a quoted field is written twice (`\"\"`)",
        )],
    );
}

#[test]
fn rows_with_too_few_or_too_many_fields_are_errors_naming_their_lines() {
    let dir = project("", b"CustomerId,V\nA,1\n", ALL_V);
    assert_rejected(
        dir.path(),
        b"CustomerId,V\nA,1\nB\nC,3,4\n",
        &[
            error(
                "data",
                "expected 2 fields, found 1 on line 3 of `t.csv`",
                ("t.csv", 3, 1, 3, 2),
                "1 field",
                RAGGED_HELP,
            ),
            error(
                "data",
                "expected 2 fields, found 3 on line 4 of `t.csv`",
                ("t.csv", 4, 1, 4, 6),
                "3 fields",
                RAGGED_HELP,
            ),
        ],
    );
}

#[test]
fn a_trailing_delimiter_on_a_row_is_one_field_too_many() {
    let dir = project("", b"CustomerId,V\nA,1\n", ALL_V);
    assert_rejected(
        dir.path(),
        b"CustomerId,V\nA,1,\n",
        &[error(
            "data",
            "expected 2 fields, found 3 on line 2 of `t.csv`",
            ("t.csv", 2, 1, 2, 5),
            "3 fields",
            RAGGED_HELP,
        )],
    );
}

#[test]
fn a_trailing_delimiter_on_every_line_is_a_header_column_without_a_name() {
    let dir = project("", b"CustomerId,V\nA,1\n", ALL_V);
    // `CustomerId,V,` is 13 characters: the empty third name is at column 14.
    assert_rejected(
        dir.path(),
        b"CustomerId,V,\nA,1,\n",
        &[error(
            "data",
            "column 3 of the header of `t.csv` has no name",
            ("t.csv", 1, 14, 1, 14),
            "no name",
            "give every column a name",
        )],
    );
}

// The header.

#[test]
fn a_header_only_file_is_an_empty_table() {
    let dir = project("", b"CustomerId,V\n", ALL_V);
    let output = segc(dir.path(), &["run", "--format", "json"]);
    assert_status(&output, 0);
    // `segment all ` runs to the `{` at column 13.
    assert_eq!(
        findings(&output),
        [json!({
            "code": "segc::empty-segment",
            "level": "warning",
            "message": "segment `all` has no members",
            "file": "segments/s.seg",
            "line": 1,
            "column": 1,
            "end_line": 1,
            "end_column": 13,
            "label": "empty on this data",
            "help": null,
            "related": [],
        })]
    );
    assert_eq!(
        csv_files(&dir.path().join("out")),
        [file("all.csv", "CustomerId,V\n")]
    );
}

#[test]
fn a_zero_byte_file_is_an_error_at_line_1_column_1() {
    let help = "a table starts with a header line that names its columns, the key column \
                `CustomerId` among them";
    for (bad, message) in [
        (&b""[..], "`t.csv` is empty"),
        (&b"\xef\xbb\xbf"[..], "`t.csv` is empty"),
        (&b"\r\n\n"[..], "`t.csv` has only empty lines"),
    ] {
        let expected = [error(
            "data",
            message,
            ("t.csv", 1, 1, 1, 1),
            "expected a header line here",
            help,
        )];
        let dir = project("", b"CustomerId,V\nA,1\n", ALL_V);
        assert_rejected(dir.path(), bad, &expected);
        // `check` reads the header too, and fails the same way.
        let output = segc(dir.path(), &["check", "--format", "json"]);
        assert_status(&output, 1);
        assert_eq!(findings(&output), expected);
    }
}

#[test]
fn a_header_naming_one_column_twice_is_an_error_pointing_at_both() {
    let dir = project("", b"CustomerId,V\nA,1\n", ALL_V);
    let mut expected = error(
        "data",
        "column `V` appears twice in the header of `t.csv`",
        ("t.csv", 1, 14, 1, 15),
        "named again here",
        "rename one of the columns: a name must mean one column",
    );
    expected["related"] = json!([{
        "file": "t.csv",
        "line": 1,
        "column": 12,
        "end_line": 1,
        "end_column": 13,
        "message": "first named here",
    }]);
    assert_rejected(dir.path(), b"CustomerId,V,V\nA,1,2\n", &[expected]);
}

// Cells.

#[test]
fn spaces_around_numbers_and_bools_do_not_count_but_text_and_keys_keep_them() {
    // ` A` is a key of its own, before `A` in byte order (a space is 0x20).
    let table = "CustomerId,N,B,S\nA, 1 ,\tTRUE , x \nB,2.5\t, false,y\n A,3,false,z\n";
    let dir = project(
        "",
        table.as_bytes(),
        "segment picked {\n    from t\n    where N > 1.5 or B\n    select N, B, S\n}\n",
    );
    // A: 1 > 1.5 is false, B is true. B: 2.5 > 1.5. ` A`: 3 > 1.5.
    assert_eq!(
        members(dir.path()),
        [file(
            "picked.csv",
            "CustomerId,N,B,S\n A,3,false,z\nA,1,true, x \nB,2.5,false,y\n"
        )]
    );
}

#[test]
fn a_thousands_separator_in_a_declared_number_column_is_a_bad_cell() {
    let dir = project(
        "[tables.t.columns]\nV = \"number\"\n",
        b"CustomerId,V\nA,1234.5\n",
        ALL_V,
    );
    // The quoted cell `"1,234.50"` spans columns 3 to 12.
    assert_rejected(
        dir.path(),
        b"CustomerId,V\nA,\"1,234.50\"\nB,2\n",
        &[error(
            "data",
            "cell `1,234.50` in column `V` is not a number",
            ("t.csv", 2, 3, 2, 13),
            "not a number",
            BAD_CELL_HELP,
        )],
    );
}

#[test]
fn a_thousands_separator_in_an_undeclared_column_makes_it_text() {
    let dir = project(
        "",
        b"CustomerId,V\nA,\"1,234.50\"\nB,2\n",
        "segment all {\n    from t\n    select V\n}\n\n\
         segment two {\n    from t\n    where V = \"2\"\n}\n",
    );
    // A string column, so `2` compares as the text "2" and `1,234.50` is written as read.
    assert_eq!(
        members(dir.path()),
        [
            file("all.csv", "CustomerId,V\nA,\"1,234.50\"\nB,2\n"),
            file("two.csv", "CustomerId\nB\n"),
        ]
    );
    // So comparing it with a number is a type error, found at `check` from the sample and
    // at `run` from every row. The `>` of `    where V > 1` is column 13.
    fs::write(
        dir.path().join("segments/s.seg"),
        "segment big {\n    from t\n    where V > 1\n}\n",
    )
    .unwrap();
    let expected = [error(
        "type-mismatch",
        "cannot compare a string with an integer",
        ("segments/s.seg", 3, 13, 3, 14),
        "string on the left, integer on the right",
        "put the value in quotes to compare it as text",
    )];
    for command in ["check", "run"] {
        let output = segc(dir.path(), &[command, "--format", "json"]);
        assert_status(&output, 1);
        assert_eq!(findings(&output), expected, "{command}");
    }
}

#[test]
fn numbers_may_lack_digits_around_the_point_and_carry_an_exponent() {
    let dir = project(
        "",
        b"CustomerId,V\nA,.5\nB,2.\nC,1e-3\nD,5E-1\nE,+3\nF,0.25\n",
        "segment half_or_more {\n    from t\n    where V >= 0.5\n    select V\n}\n",
    );
    // .5 = 0.5, 2. = 2, 1e-3 = 0.001, 5E-1 = 0.5, +3 = 3, 0.25: C and F are below 0.5.
    assert_eq!(
        members(dir.path()),
        [file(
            "half_or_more.csv",
            "CustomerId,V\nA,0.5\nB,2\nD,0.5\nE,3\n"
        )]
    );
}

#[test]
fn nan_and_infinity_are_bad_cells_in_a_declared_number_column() {
    let dir = project(
        "[tables.t.columns]\nV = \"number\"\n",
        b"CustomerId,V\nD,1\n",
        ALL_V,
    );
    assert_rejected(
        dir.path(),
        b"CustomerId,V\nA,NaN\nB,inf\nC,-Infinity\nD,1\n",
        &[
            error(
                "data",
                "cell `NaN` in column `V` is not a number",
                ("t.csv", 2, 3, 2, 6),
                "not a number",
                BAD_CELL_HELP,
            ),
            error(
                "data",
                "cell `inf` in column `V` is not a number",
                ("t.csv", 3, 3, 3, 6),
                "not a number",
                BAD_CELL_HELP,
            ),
            error(
                "data",
                "cell `-Infinity` in column `V` is not a number",
                ("t.csv", 4, 3, 4, 12),
                "not a number",
                BAD_CELL_HELP,
            ),
        ],
    );
}

#[test]
fn nan_and_infinity_read_as_null_with_one_warning_when_asked() {
    let dir = project(
        "on_bad_value = \"null\"\n\n[tables.t.columns]\nV = \"number\"\n",
        b"CustomerId,V\nA,NaN\nB,inf\nC,-Infinity\nD,1\n",
        "segment all {\n    from t\n    select V\n}\n\n\
         segment missing {\n    from t\n    where V is null\n}\n",
    );
    let output = segc(dir.path(), &["run", "--format", "json"]);
    assert_status(&output, 0);
    assert_eq!(
        findings(&output),
        [warning(
            "data-quality",
            "3 cells in column `V` are not numbers and were read as null (lines 2, 3, 4)",
            ("t.csv", 2, 3, 2, 6),
            "read as null",
            "fix these cells, or declare the column as `string` in segc.toml",
        )]
    );
    assert_eq!(
        csv_files(&dir.path().join("out")),
        [
            file("all.csv", "CustomerId,V\nA,\nB,\nC,\nD,1\n"),
            file("missing.csv", "CustomerId\nA\nB\nC\n"),
        ]
    );
}

#[test]
fn nan_and_infinity_make_an_undeclared_column_text() {
    let dir = project(
        "",
        b"CustomerId,V\nA,NaN\nB,inf\nC,1\n",
        "segment all {\n    from t\n    select V\n}\n\n\
         segment nan {\n    from t\n    where V = \"NaN\"\n}\n",
    );
    assert_eq!(
        members(dir.path()),
        [
            file("all.csv", "CustomerId,V\nA,NaN\nB,inf\nC,1\n"),
            file("nan.csv", "CustomerId\nA\n"),
        ]
    );
}

#[test]
fn minus_zero_is_zero_and_is_written_as_0() {
    let segments = "segment zero {\n    from t\n    where V = 0  # segc: allow(float-equality)\n\
                    \x20   select V\n}\n";
    let table = b"CustomerId,V\nA,-0\nB,0\nC,-0.0\nD,0.5\n";
    // Inferred (a number column, for `-0.0` and `0.5`) and declared alike.
    for extra in ["", "[tables.t.columns]\nV = \"number\"\n"] {
        let dir = project(extra, table, segments);
        assert_eq!(
            members(dir.path()),
            [file("zero.csv", "CustomerId,V\nA,0\nB,0\nC,0\n")],
            "with `{extra}`"
        );
    }
}

#[test]
fn bools_are_true_or_false_in_any_letter_case_and_declared_ones_take_1_and_0() {
    let dir = project(
        "[tables.t.columns]\nW = \"bool\"\n",
        b"CustomerId,V,W\nA,TRUE,0\nB,fAlSe,1\nC,True,tRuE\nD,false,FALSE\n",
        "segment either {\n    from t\n    where V or W\n    select V, W\n}\n",
    );
    // A: V true. B: W is 1. C: both. D: neither.
    assert_eq!(
        members(dir.path()),
        [file(
            "either.csv",
            "CustomerId,V,W\nA,true,false\nB,false,true\nC,true,true\n"
        )]
    );
}

#[test]
fn identifiers_with_leading_zeros_stay_text_unless_declared_numeric() {
    let table = b"CustomerId,Zip\n0012,0012\n12,007\n012,12\n";
    let segments = "segment all {\n    from t\n    select Zip\n}\n";
    // Keys are exact strings: `0012` < `012` < `12` in byte order. Undeclared, `0012` and
    // `007` make `Zip` a string column, so every cell is written as read; declared
    // `string`, the same.
    let kept = "CustomerId,Zip\n0012,0012\n012,12\n12,007\n";
    for extra in ["", "[tables.t.columns]\nZip = \"string\"\n"] {
        let dir = project(extra, table, segments);
        assert_eq!(
            members(dir.path()),
            [file("all.csv", kept)],
            "with `{extra}`"
        );
    }
    // Declared `integer`, the zeros are gone: that is what declaring it asks for.
    let dir = project("[tables.t.columns]\nZip = \"integer\"\n", table, segments);
    assert_eq!(
        members(dir.path()),
        [file("all.csv", "CustomerId,Zip\n0012,12\n012,12\n12,7\n")]
    );
    // Text compares as text.
    let dir = project(
        "",
        table,
        "segment zip_0012 {\n    from t\n    where Zip = \"0012\"\n}\n",
    );
    assert_eq!(
        members(dir.path()),
        [file("zip_0012.csv", "CustomerId\n0012\n")]
    );
}

#[test]
fn a_field_of_several_megabytes_is_read_and_written_whole() {
    // Five mebibytes of `x`, then a delimiter and a doubled quote, in one quoted field.
    let big = "x".repeat(5 << 20);
    let table = format!("CustomerId,V\nA,\"{big},\"\"\"\nB,y\n");
    let dir = project("", table.as_bytes(), ALL_V);
    let expected = format!("CustomerId,V\nA,\"{big},\"\"\"\nB,y\n");
    assert_eq!(members(dir.path()), [file("all.csv", &expected)]);
}

// Keys.

#[test]
fn an_empty_key_cell_is_an_error_quoted_or_not() {
    let dir = project("", b"CustomerId,V\nA,1\n", ALL_V);
    assert_rejected(
        dir.path(),
        b"CustomerId,V\nA,1\n,2\n\"\",3\n",
        &[
            error(
                "data",
                "empty key in column `CustomerId`",
                ("t.csv", 3, 1, 3, 1),
                "no key",
                "every row needs a key",
            ),
            error(
                "data",
                "empty key in column `CustomerId`",
                ("t.csv", 4, 1, 4, 3),
                "no key",
                "every row needs a key",
            ),
        ],
    );
}

#[test]
fn a_key_twice_in_a_one_row_per_key_table_is_a_warning_and_any_row_qualifies() {
    let dir = project(
        "model = \"transactional-churn\"\n",
        b"CustomerId,ChurnScore,IsChurn\nA,0.9,true\nB,0.2,false\nA,0.3,false\nC,0.8,1\n\
          B,0.7,TRUE\n",
        "segment risky {\n    from t\n    where ChurnScore > 0.5\n    select ChurnScore\n}\n\n\
         segment not_flagged {\n    from t\n    where not IsChurn\n}\n",
    );
    let output = segc(dir.path(), &["run", "--format", "json"]);
    assert_status(&output, 0);
    assert_eq!(
        findings(&output),
        [unplaced(
            "data-quality",
            "warning",
            "2 keys appear on more than one row of `t.csv`: `A` and `B`",
            "table `t` is expected to have one row per key; a key's rows all count for \
             membership",
        )]
    );
    // risky: A by its first row, B by its second, C. not_flagged: A by its second row, B by
    // its first.
    assert_eq!(
        csv_files(&dir.path().join("out")),
        [
            file("not_flagged.csv", "CustomerId\nA\nB\n"),
            file("risky.csv", "CustomerId,ChurnScore\nA,0.9\nB,0.7\nC,0.8\n"),
        ]
    );
    let summary = read(&dir.path().join("out/summary.json"));
    assert!(
        summary.contains("\"rows\": 5,\n      \"keys\": 3,"),
        "{summary}"
    );
}

// Files that are not there, or not files.

/// The place of `"t.csv"` on line 6 of segc.toml.
const PATH_PLACE: Place<'static> = ("segc.toml", 6, 8, 6, 15);
const CHECKED_WITHOUT: &str = "columns were checked against declared and model columns only";
const RUN_NEEDS: &str = "`segc run` needs the file of every table it reads";

#[test]
fn a_missing_table_file_is_an_error_for_run_and_a_warning_for_check() {
    // A second table no segment reads may lack its file at `run`.
    let extra = "\n[tables.unused]\npath = \"unused.csv\"\n";
    let dir = project(extra, b"CustomerId,V\nA,1\n", ALL_V);
    assert_status(&segc(dir.path(), &["run"]), 0);
    let before = snapshot(dir.path());
    fs::remove_file(dir.path().join("t.csv")).unwrap();

    let output = segc(dir.path(), &["run", "--format", "json"]);
    assert_status(&output, 1);
    let missing = "table `t` has no file at `t.csv`";
    assert_eq!(
        findings(&output),
        [error(
            "io",
            missing,
            PATH_PLACE,
            "this file does not exist",
            RUN_NEEDS
        )]
    );
    assert_eq!(snapshot(dir.path()), before);

    let output = segc(dir.path(), &["check", "--format", "json"]);
    assert_status(&output, 0);
    // `[tables.unused]` is line 8, its `path` line 9: `"unused.csv"` is columns 8 to 19.
    assert_eq!(
        findings(&output),
        [
            warning(
                "table-unavailable",
                missing,
                PATH_PLACE,
                "this file does not exist",
                CHECKED_WITHOUT,
            ),
            warning(
                "table-unavailable",
                "table `unused` has no file at `unused.csv`",
                ("segc.toml", 9, 8, 9, 20),
                "this file does not exist",
                CHECKED_WITHOUT,
            ),
        ]
    );
}

#[test]
fn a_table_path_that_is_a_folder_is_named_as_a_folder() {
    let dir = project("", b"CustomerId,V\nA,1\n", ALL_V);
    assert_status(&segc(dir.path(), &["run"]), 0);
    let before = snapshot(dir.path());
    fs::remove_file(dir.path().join("t.csv")).unwrap();
    fs::create_dir(dir.path().join("t.csv")).unwrap();
    let message = "table `t` has a folder at `t.csv`, not a file";

    let output = segc(dir.path(), &["run", "--format", "json"]);
    assert_status(&output, 1);
    assert_eq!(
        findings(&output),
        [error(
            "io",
            message,
            PATH_PLACE,
            "this is a folder",
            RUN_NEEDS
        )]
    );
    assert_eq!(snapshot(dir.path()), before);

    let output = segc(dir.path(), &["check", "--format", "json"]);
    assert_status(&output, 0);
    assert_eq!(
        findings(&output),
        [warning(
            "table-unavailable",
            message,
            PATH_PLACE,
            "this is a folder",
            CHECKED_WITHOUT
        )]
    );
}

/// The place of `"out"` on line 3 of segc.toml.
const OUTPUT_PLACE: Place<'static> = ("segc.toml", 3, 10, 3, 15);

#[test]
fn an_output_path_that_is_a_file_is_an_error_and_the_file_is_kept() {
    let dir = project("", b"CustomerId,V\nA,1\n", ALL_V);
    fs::write(dir.path().join("out"), "not a folder\n").unwrap();
    let output = segc(dir.path(), &["run", "--format", "json"]);
    assert_status(&output, 1);
    let help = "move it away, or write elsewhere with `output` in segc.toml or `--out DIR`; \
                nothing was written";
    assert_eq!(
        findings(&output),
        [error(
            "io",
            "the output path `out` is not a folder",
            OUTPUT_PLACE,
            "something other than a folder has this path",
            help,
        )]
    );
    assert_eq!(read(&dir.path().join("out")), "not a folder\n");

    // Named with `--out`, the folder has no place in segc.toml.
    fs::write(dir.path().join("elsewhere"), "kept\n").unwrap();
    let output = segc(
        dir.path(),
        &["run", "--out", "elsewhere", "--format", "json"],
    );
    assert_status(&output, 1);
    assert_eq!(
        findings(&output),
        [unplaced(
            "io",
            "error",
            "the output path `elsewhere` is not a folder",
            help
        )]
    );
    assert_eq!(read(&dir.path().join("elsewhere")), "kept\n");
}

#[test]
fn a_folder_in_the_way_of_an_output_stops_the_run_before_anything_is_written() {
    let dir = project("", b"CustomerId,V\nA,1\n", ALL_V);
    assert_status(&segc(dir.path(), &["run"]), 0);
    // A second segment whose output path is taken by a folder.
    fs::write(
        dir.path().join("segments/more.seg"),
        "segment more {\n    from t\n}\n",
    )
    .unwrap();
    fs::create_dir(dir.path().join("out/more.csv")).unwrap();
    let before = snapshot(dir.path());
    let output = segc(dir.path(), &["run", "--format", "json"]);
    assert_status(&output, 1);
    assert_eq!(
        findings(&output),
        [error(
            "io",
            "the output folder `out` holds a folder, `out/more.csv`",
            OUTPUT_PLACE,
            "the output folder",
            "`segc run` replaces the output folder as a whole and carries over files only; \
             move `out/more.csv` elsewhere, or write elsewhere with `--out DIR`; nothing was \
             written",
        )]
    );
    assert_eq!(snapshot(dir.path()), before);
}

// segc.toml.

#[test]
fn a_setting_of_the_wrong_type_is_an_error_at_its_value() {
    let cases = [
        // `output = 5` replaces line 3.
        (
            "output = \"out\"",
            "output = 5",
            "",
            error(
                "config",
                "`output` must be a string, found integer `5`",
                ("segc.toml", 3, 10, 3, 11),
                "expected a string",
                "write it like `output = \"out\"`",
            ),
        ),
        // Line 7, after `path`.
        (
            "",
            "",
            "null_values = \"NA\"\n",
            error(
                "config",
                "`tables.t.null_values` must be an array, found string \"NA\"",
                ("segc.toml", 7, 15, 7, 19),
                "expected an array",
                "write it like `null_values = [\"\", \"NA\"]`",
            ),
        ),
        // `[tables.t.columns]` is line 8, `V = 3` line 9.
        (
            "",
            "",
            "\n[tables.t.columns]\nV = 3\n",
            error(
                "config",
                "`tables.t.columns.V` must be a string, found integer `3`",
                ("segc.toml", 9, 5, 9, 6),
                "expected a string",
                "write it like `V = \"number\"`",
            ),
        ),
        // A TOML date without quotes, on line 2 after the key.
        (
            "key = \"CustomerId\"",
            "key = \"CustomerId\"\nas_of = 2024-06-30",
            "",
            error(
                "config",
                "`as_of` must be a string, found a date without quotes",
                ("segc.toml", 2, 9, 2, 19),
                "expected a string",
                "write it like `as_of = \"2024-06-30\"`",
            ),
        ),
    ];
    for (from, to, extra, expected) in cases {
        let dir = project("", b"CustomerId,V\nA,1\n", ALL_V);
        assert_status(&segc(dir.path(), &["run"]), 0);
        let before = snapshot(dir.path());
        let toml = dir.path().join("segc.toml");
        let text = read(&toml).replacen(from, to, 1);
        fs::write(&toml, format!("{text}{extra}")).unwrap();
        for command in ["run", "check"] {
            let output = segc(dir.path(), &[command, "--format", "json"]);
            assert_status(&output, 1);
            assert_eq!(
                findings(&output),
                std::slice::from_ref(&expected),
                "{command}: {to}{extra}"
            );
        }
        assert_eq!(snapshot(dir.path()), before);
    }
}
