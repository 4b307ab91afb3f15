//! The loader's rules, each checked on a small file with values worked out by hand.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::diag::{Code, Level};
use crate::models::{ColumnType, Domain};

/// A folder of its own under the system's temporary folder, removed when dropped.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new() -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let number = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("segc-load-tests-{}-{number}", std::process::id());
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&dir).expect("a temporary folder can be created");
        Scratch { dir }
    }

    fn file(&self, contents: &[u8]) -> PathBuf {
        let path = self.dir.join("t.csv");
        std::fs::write(&path, contents).expect("a temporary file can be written");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What a test sets in [`LoadOptions`]; the key is `id` unless changed.
struct Setup {
    key: String,
    columns: Vec<String>,
    declared: HashMap<String, ColumnType>,
    domains: HashMap<String, Domain>,
    null_values: Vec<String>,
    on_bad_value: BadValue,
    one_row_per_key: bool,
    delimiter: u8,
}

impl Setup {
    fn new(columns: &[&str]) -> Setup {
        Setup {
            key: "id".to_string(),
            columns: columns.iter().map(|name| name.to_string()).collect(),
            declared: HashMap::new(),
            domains: HashMap::new(),
            null_values: vec![String::new()],
            on_bad_value: BadValue::Error,
            one_row_per_key: false,
            delimiter: b',',
        }
    }

    fn declare(mut self, name: &str, ty: ColumnType) -> Setup {
        self.declared.insert(name.to_string(), ty);
        self
    }

    fn options<'a>(&'a self, path: &'a std::path::Path) -> LoadOptions<'a> {
        LoadOptions {
            table: "t",
            path,
            display_path: "t.csv",
            key: &self.key,
            delimiter: self.delimiter,
            null_values: &self.null_values,
            on_bad_value: self.on_bad_value,
            declared: &self.declared,
            domains: &self.domains,
            one_row_per_key: self.one_row_per_key,
            columns: &self.columns,
        }
    }

    fn load_bytes(&self, contents: &[u8]) -> (Result<Table, Vec<Diagnostic>>, SourceMap) {
        let scratch = Scratch::new();
        let path = scratch.file(contents);
        let sources = SourceMap::new();
        let loaded = load_table(&self.options(&path), &sources);
        (loaded, sources)
    }

    fn load(&self, contents: &str) -> Table {
        match self.load_bytes(contents.as_bytes()) {
            (Ok(table), _) => table,
            (Err(errors), _) => panic!("unexpected errors: {errors:#?}"),
        }
    }

    /// The errors of loading `contents`, each with the line and column its label points at.
    fn errors_bytes(&self, contents: &[u8]) -> Vec<(String, Option<(usize, usize)>)> {
        match self.load_bytes(contents) {
            (Ok(_), _) => panic!("expected errors"),
            (Err(errors), sources) => {
                assert!(errors.iter().all(Diagnostic::is_error));
                errors
                    .iter()
                    .map(|error| (error.message.clone(), place(&sources, error)))
                    .collect()
            }
        }
    }

    fn errors(&self, contents: &str) -> Vec<(String, Option<(usize, usize)>)> {
        self.errors_bytes(contents.as_bytes())
    }

    fn header(&self, contents: &str, sample: Option<usize>) -> Result<Header, Vec<Diagnostic>> {
        let scratch = Scratch::new();
        let path = scratch.file(contents.as_bytes());
        read_header(&self.options(&path), sample, &SourceMap::new())
    }
}

/// The line and column that a diagnostic's label points at, checking the file's name.
fn place(sources: &SourceMap, diagnostic: &Diagnostic) -> Option<(usize, usize)> {
    let label = diagnostic.primary.as_ref()?;
    let source = sources.get(label.file);
    assert_eq!(source.name, "t.csv");
    Some(source.line_column(label.span.start))
}

/// The text of the label's span.
fn labelled(sources: &SourceMap, diagnostic: &Diagnostic) -> String {
    let Some(label) = diagnostic.primary.as_ref() else {
        return String::new();
    };
    sources.text(label.file)[label.span.start..label.span.end].to_string()
}

fn numbers(table: &Table, name: &str) -> Vec<Option<f64>> {
    match table.column(name).map(|column| &column.data) {
        Some(ColumnData::Number(values)) => values
            .iter()
            .map(|value| (!value.is_nan()).then_some(*value))
            .collect(),
        other => panic!("`{name}` is not a number column: {other:?}"),
    }
}

fn integers(table: &Table, name: &str) -> Vec<Option<i64>> {
    match table.column(name).map(|column| &column.data) {
        Some(ColumnData::Integer(values)) => values
            .iter()
            .map(|&value| (value != NULL_INT).then_some(value))
            .collect(),
        other => panic!("`{name}` is not an integer column: {other:?}"),
    }
}

fn bools(table: &Table, name: &str) -> Vec<Option<bool>> {
    match table.column(name).map(|column| &column.data) {
        Some(ColumnData::Bool(values)) => values
            .iter()
            .map(|&value| (value != NULL_BOOL).then_some(value == 1))
            .collect(),
        other => panic!("`{name}` is not a bool column: {other:?}"),
    }
}

fn dates(table: &Table, name: &str) -> Vec<Option<i32>> {
    match table.column(name).map(|column| &column.data) {
        Some(ColumnData::Date(values)) => values
            .iter()
            .map(|&value| (value != NULL_DATE).then_some(value))
            .collect(),
        other => panic!("`{name}` is not a date column: {other:?}"),
    }
}

fn strings(table: &Table, name: &str) -> Vec<Option<String>> {
    match table.column(name).map(|column| &column.data) {
        Some(ColumnData::String(column)) => column
            .codes
            .iter()
            .map(|&code| (code != NULL_CODE).then(|| column.dict[code as usize].to_string()))
            .collect(),
        other => panic!("`{name}` is not a string column: {other:?}"),
    }
}

fn string_column<'a>(table: &'a Table, name: &str) -> &'a StringColumn {
    match table.column(name).map(|column| &column.data) {
        Some(ColumnData::String(column)) => column,
        other => panic!("`{name}` is not a string column: {other:?}"),
    }
}

fn some<T: Clone>(values: &[T]) -> Vec<Option<T>> {
    values.iter().cloned().map(Some).collect()
}

fn texts(values: &[&str]) -> Vec<Option<String>> {
    values.iter().map(|value| Some(value.to_string())).collect()
}

/// Each row's key, in row order.
fn row_keys(table: &Table) -> Vec<&str> {
    table
        .keys
        .row_key
        .iter()
        .map(|&id| table.keys.get(id))
        .collect()
}

fn sorted_keys(table: &Table) -> Vec<&str> {
    (0..table.keys.len() as u32)
        .map(|id| table.keys.get(id))
        .collect()
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_first_name() {
    let contents = "\u{feff}id,score\nc1,1\n";
    let header = Setup::new(&[]).header(contents, None).expect("a header");
    assert_eq!(header.names, ["id", "score"]);
    let table = Setup::new(&["score"]).load(contents);
    assert_eq!(row_keys(&table), ["c1"]);
}

#[test]
fn crlf_and_lf_line_ends_read_the_same() {
    let setup = Setup::new(&["score", "factor"]);
    let lf = setup.load("id,score,factor\nc1,0.5,Tenure\nc2,1,Basket\n");
    let crlf = setup.load("id,score,factor\r\nc1,0.5,Tenure\r\nc2,1,Basket\r\n");
    for table in [&lf, &crlf] {
        assert_eq!(numbers(table, "score"), some(&[0.5, 1.0]));
        assert_eq!(strings(table, "factor"), texts(&["Tenure", "Basket"]));
        assert_eq!(row_keys(table), ["c1", "c2"]);
    }
}

#[test]
fn quoted_fields_hold_delimiters_quotes_and_line_breaks() {
    let contents = "id,note,score\n\"c,1\",\"say \"\"hi\"\"\",1\nc2,\"two\nlines\",2\nc3,x,oops\n";
    let setup = Setup::new(&["note", "score"]).declare("score", ColumnType::Number);
    let errors = setup.errors(contents);
    // The quoted line break puts `c3` on line 5; `oops` starts at column 6.
    assert_eq!(
        errors,
        [(
            "cell `oops` in column `score` is not a number".to_string(),
            Some((5, 6))
        )]
    );
    let table = Setup::new(&["note", "score"]).load(&contents.replace("oops", "3"));
    assert_eq!(row_keys(&table), ["c,1", "c2", "c3"]);
    assert_eq!(
        strings(&table, "note"),
        texts(&["say \"hi\"", "two\nlines", "x"])
    );
    assert_eq!(integers(&table, "score"), some(&[1, 2, 3]));
}

#[test]
fn a_quoted_key_with_doubled_quotes_is_unescaped() {
    let table = Setup::new(&[]).load("id\n\"a\"\"b\"\n\"plain\"\n");
    assert_eq!(sorted_keys(&table), ["a\"b", "plain"]);
}

#[test]
fn a_row_with_more_or_fewer_fields_names_its_line() {
    let setup = Setup::new(&["a"]);
    let errors = setup.errors("id,a\nc1,1\nc2,1,3\nc3\n");
    assert_eq!(
        errors,
        [
            (
                "expected 2 fields, found 3 on line 3 of `t.csv`".to_string(),
                Some((3, 1))
            ),
            (
                "expected 2 fields, found 1 on line 4 of `t.csv`".to_string(),
                Some((4, 1))
            ),
        ]
    );
}

#[test]
fn a_delimiter_at_the_end_of_a_line_starts_one_more_field() {
    let errors = Setup::new(&["a"]).errors("id,a\n1,2,\n");
    assert_eq!(
        errors[0].0,
        "expected 2 fields, found 3 on line 2 of `t.csv`"
    );
}

#[test]
fn a_header_without_rows_is_an_empty_table() {
    let setup = Setup::new(&["score"]);
    let table = setup.load("id,score\n");
    assert_eq!(table.rows, 0);
    assert!(table.keys.is_empty());
    assert_eq!(table.keys.spans, KeySpans::Fixed { width: 0, count: 0 });
    assert_eq!(strings(&table, "score"), []);
    let header = setup.header("id,score\n", None).expect("a header");
    assert_eq!(header.types, [ColumnType::String, ColumnType::String]);
    assert_eq!(header.rows_read, 0);
    let declared = Setup::new(&["score"]).declare("score", ColumnType::Number);
    assert_eq!(numbers(&declared.load("id,score"), "score"), []);
}

#[test]
fn an_empty_file_has_no_header() {
    let errors = Setup::new(&[]).errors("");
    assert_eq!(errors, [("`t.csv` is empty".to_string(), Some((1, 1)))]);
    let header = Setup::new(&[]).header("", Some(10));
    let messages: Vec<String> = header
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.message)
        .collect();
    assert_eq!(messages, ["`t.csv` is empty"]);
    let blank = Setup::new(&[]).errors("\u{feff}\r\n\n");
    assert_eq!(
        blank,
        [("`t.csv` has only empty lines".to_string(), Some((1, 1)))]
    );
}

#[test]
fn a_name_twice_in_the_header_points_at_both() {
    let setup = Setup::new(&[]);
    let scratch = Scratch::new();
    let path = scratch.file(b"id,score,id\nc1,1,c1\n");
    let sources = SourceMap::new();
    let errors = load_table(&setup.options(&path), &sources)
        .err()
        .unwrap_or_default();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].message,
        "column `id` appears twice in the header of `t.csv`"
    );
    assert_eq!(place(&sources, &errors[0]), Some((1, 10)));
    let first = &errors[0].related[0];
    assert_eq!(
        sources.get(first.file).line_column(first.span.start),
        (1, 1)
    );
    assert_eq!(first.message, "first named here");
}

#[test]
fn an_empty_header_name_is_an_error() {
    let errors = Setup::new(&[]).errors("id,,b\n1,2,3\n");
    assert_eq!(
        errors,
        [(
            "column 2 of the header of `t.csv` has no name".to_string(),
            Some((1, 4))
        )]
    );
}

#[test]
fn spaces_around_numbers_bools_and_dates_do_not_count() {
    let setup = Setup::new(&["n", "b", "d", "s"]);
    let table = setup
        .load("id,n,b,d,s\n c1 , 1.5 ,\tTRUE\t, 2024-01-02 , x \nc2,\t2\t,false,1970-01-01,y\n");
    assert_eq!(numbers(&table, "n"), some(&[1.5, 2.0]));
    assert_eq!(bools(&table, "b"), some(&[true, false]));
    assert_eq!(dates(&table, "d"), some(&[19_724, 0]));
    assert_eq!(strings(&table, "s"), texts(&[" x ", "y"]));
    assert_eq!(row_keys(&table), [" c1 ", "c2"]);
}

#[test]
fn thousands_separators_make_text() {
    let contents = "id,amount\nc1,\"1,234.50\"\nc2,7\n";
    let table = Setup::new(&["amount"]).load(contents);
    assert_eq!(strings(&table, "amount"), texts(&["1,234.50", "7"]));
    let declared = Setup::new(&["amount"]).declare("amount", ColumnType::Number);
    assert_eq!(
        declared.errors(contents),
        [(
            "cell `1,234.50` in column `amount` is not a number".to_string(),
            Some((2, 4))
        )]
    );
}

#[test]
fn numbers_may_lack_digits_before_or_after_the_point() {
    let table = Setup::new(&["n"]).load("id,n\na,.5\nb,1e-3\nc,2.\nd,-0\ne,5E-1\nf,+4\n");
    assert_eq!(
        numbers(&table, "n"),
        some(&[0.5, 0.001, 2.0, 0.0, 0.5, 4.0])
    );
    let integers_only = Setup::new(&["n"]).load("id,n\na,-0\nb,+4\n");
    assert_eq!(integers(&integers_only, "n"), some(&[0, 4]));
}

#[test]
fn nan_and_infinity_are_not_numbers() {
    let undeclared = Setup::new(&["n"]).load("id,n\na,1\nb,NaN\nc,inf\n");
    assert_eq!(strings(&undeclared, "n"), texts(&["1", "NaN", "inf"]));
    let declared = Setup::new(&["n"]).declare("n", ColumnType::Number);
    let errors = declared.errors("id,n\na,1\nb,NaN\nc,inf\nd,infinity\ne,1e999\n");
    let messages: Vec<&str> = errors.iter().map(|(message, _)| message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "cell `NaN` in column `n` is not a number",
            "cell `inf` in column `n` is not a number",
            "cell `infinity` in column `n` is not a number",
            "cell `1e999` in column `n` is not a number",
        ]
    );
}

#[test]
fn bools_are_true_or_false_in_any_case() {
    let table = Setup::new(&["b"]).load("id,b\na,True\nb,FALSE\nc,tRuE\nd,\n");
    assert_eq!(
        bools(&table, "b"),
        [Some(true), Some(false), Some(true), None]
    );
}

#[test]
fn a_declared_bool_also_accepts_one_and_zero() {
    let contents = "id,b\na,1\nb,0\nc,true\n";
    let declared = Setup::new(&["b"]).declare("b", ColumnType::Bool);
    assert_eq!(
        bools(&declared.load(contents), "b"),
        some(&[true, false, true])
    );
    let undeclared = Setup::new(&["b"]).load("id,b\na,1\nb,0\n");
    assert_eq!(integers(&undeclared, "b"), some(&[1, 0]));
    let errors = declared.errors("id,b\na,yes\n");
    assert_eq!(
        errors[0].0,
        "cell `yes` in column `b` is not a bool (`true`, `false`, `1` or `0`)"
    );
}

#[test]
fn leading_zeros_keep_identifiers_as_text_unless_declared() {
    let contents = "id,zip\na,0012\nb,-007\nc,12\n";
    let table = Setup::new(&["zip"]).load(contents);
    assert_eq!(strings(&table, "zip"), texts(&["0012", "-007", "12"]));
    let declared = Setup::new(&["zip"]).declare("zip", ColumnType::Integer);
    assert_eq!(
        integers(&declared.load(contents), "zip"),
        some(&[12, -7, 12])
    );
    let as_number = Setup::new(&["zip"]).declare("zip", ColumnType::Number);
    assert_eq!(
        numbers(&as_number.load(contents), "zip"),
        some(&[12.0, -7.0, 12.0])
    );
}

#[test]
fn integers_widen_to_numbers_and_anything_else_to_text() {
    let setup = Setup::new(&["a", "b", "c", "d"]);
    let table = setup.load("id,a,b,c,d\nx,1,1,true,2024-01-01\ny,2.5,1.50,1,x\nz,,abc,,\n");
    assert_eq!(numbers(&table, "a"), [Some(1.0), Some(2.5), None]);
    // The text of a column that turns out to be text is kept as written.
    assert_eq!(strings(&table, "b"), texts(&["1", "1.50", "abc"]));
    assert_eq!(
        strings(&table, "c"),
        [Some("true".to_string()), Some("1".to_string()), None]
    );
    assert_eq!(
        strings(&table, "d"),
        [Some("2024-01-01".to_string()), Some("x".to_string()), None]
    );
}

#[test]
fn the_null_sentinel_integer_makes_a_number_column() {
    let table = Setup::new(&["n"]).load("id,n\na,1\nb,-9223372036854775808\n");
    assert_eq!(
        numbers(&table, "n"),
        some(&[1.0, -9_223_372_036_854_775_808.0])
    );
    let declared = Setup::new(&["n"]).declare("n", ColumnType::Integer);
    let errors = declared.errors("id,n\na,1\nb,-9223372036854775808\n");
    assert_eq!(
        errors[0].0,
        "cell `-9223372036854775808` in column `n` is not an integer"
    );
}

#[test]
fn dates_are_inferred_and_checked() {
    let table = Setup::new(&["d"]).load("id,d\na,2024-02-29\nb,\n");
    assert_eq!(dates(&table, "d"), [Some(19_782), None]);
    let declared = Setup::new(&["d"]).declare("d", ColumnType::Date);
    let errors = declared.errors("id,d\na,2023-02-29\n");
    assert_eq!(
        errors[0].0,
        "cell `2023-02-29` in column `d` is not a date (`YYYY-MM-DD`)"
    );
}

#[test]
fn cells_that_are_not_utf8_are_errors_in_text_columns_and_keys() {
    let setup = Setup::new(&["s"]);
    let errors = setup.errors_bytes(b"id,s,other\nc1,ok,\xff\nc2,b\xffd,x\n\xfe,x,y\n");
    assert_eq!(
        errors,
        [
            (
                "cell in column `s` is not valid UTF-8".to_string(),
                Some((3, 5))
            ),
            (
                "cell in column `id` is not valid UTF-8".to_string(),
                Some((4, 1))
            ),
        ]
    );
}

#[test]
fn a_field_of_several_megabytes_is_read_whole() {
    let big = "x".repeat(5 << 20);
    let contents = format!("id,s,n\nc1,{big},1\nc2,\"{big}\",2\n");
    let table = Setup::new(&["s", "n"]).load(&contents);
    let ColumnData::String(column) = &table.columns[0].data else {
        panic!("a string column");
    };
    assert_eq!(column.codes, [0, 0]);
    assert_eq!(column.dict[0].len(), 5 << 20);
    assert_eq!(integers(&table, "n"), some(&[1, 2]));
}

#[test]
fn an_empty_key_is_an_error_at_its_cell() {
    let errors = Setup::new(&["a"]).errors("id,a\nc1,1\n,2\n\"\",3\n");
    assert_eq!(
        errors,
        [
            ("empty key in column `id`".to_string(), Some((3, 1))),
            ("empty key in column `id`".to_string(), Some((4, 1))),
        ]
    );
}

#[test]
fn repeated_keys_are_a_warning_where_one_row_per_key_is_expected() {
    let mut setup = Setup::new(&[]);
    let contents = "id\nb\na\nb\nc\na\nb\n";
    assert!(setup.load(contents).warnings.is_empty());
    setup.one_row_per_key = true;
    let table = setup.load(contents);
    assert_eq!(table.warnings.len(), 1);
    let warning = &table.warnings[0];
    assert_eq!(warning.code, Code::DataQuality);
    assert_eq!(warning.level, Level::Warning);
    assert_eq!(
        warning.message,
        "2 keys appear on more than one row of `t.csv`: `a` and `b`"
    );
}

#[test]
fn values_outside_a_domain_are_a_warning_with_their_lines() {
    let mut setup = Setup::new(&["score"]).declare("score", ColumnType::Number);
    let domain = Domain {
        min: 0.0,
        max: 1.0,
        meaning: "the score is a probability from 0 to 1",
    };
    setup.domains.insert("score".to_string(), domain);
    let (loaded, sources) = setup.load_bytes(b"id,score\na,0.5\nb,1.3\nc,1\nd,-0.1\ne,\n");
    let table = loaded.expect("a table");
    assert_eq!(table.warnings.len(), 1);
    let warning = &table.warnings[0];
    assert_eq!(warning.code, Code::DataQuality);
    assert_eq!(
        warning.message,
        "2 values in column `score` are outside 0 to 1 (lines 3, 5)"
    );
    assert_eq!(place(&sources, warning), Some((3, 3)));
    assert_eq!(labelled(&sources, warning), "1.3");
    assert_eq!(
        warning.help.as_deref(),
        Some("the score is a probability from 0 to 1")
    );
}

#[test]
fn bad_cells_read_as_null_give_one_warning_per_column() {
    let mut setup = Setup::new(&["n", "b"])
        .declare("n", ColumnType::Number)
        .declare("b", ColumnType::Bool);
    setup.on_bad_value = BadValue::Null;
    let contents = "id,n,b\na,x,true\nb,1,maybe\nc,y,false\nd,z,0\ne,1e,1\nf,nan,\ng,?,1\n";
    let (loaded, sources) = setup.load_bytes(contents.as_bytes());
    let table = loaded.expect("a table");
    assert_eq!(
        numbers(&table, "n"),
        [None, Some(1.0), None, None, None, None, None]
    );
    assert_eq!(
        bools(&table, "b"),
        [
            Some(true),
            None,
            Some(false),
            Some(false),
            Some(true),
            None,
            Some(true)
        ]
    );
    let messages: Vec<&str> = table.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "6 cells in column `n` are not numbers and were read as null \
             (lines 2, 4, 5, 6, 7 and more)",
            "1 cell in column `b` is not a bool (`true`, `false`, `1` or `0`) and was read as \
             null (line 3)",
        ]
    );
    assert_eq!(place(&sources, &table.warnings[0]), Some((2, 3)));
}

#[test]
fn keys_sort_by_bytes_and_each_row_points_at_its_key() {
    let table = Setup::new(&[]).load("id\nb\na\nc\na\nB\n");
    assert_eq!(sorted_keys(&table), ["B", "a", "b", "c"]);
    assert_eq!(table.keys.row_key, [2, 1, 3, 1, 0]);
    assert_eq!(*table.keys.text, "Babc");
    assert_eq!(table.keys.spans, KeySpans::Fixed { width: 1, count: 4 });
}

#[test]
fn dictionaries_keep_the_order_of_first_appearance() {
    let table = Setup::new(&["region"]).load("id,region\na,South\nb,North\nc,South\nd,\ne,East\n");
    let ColumnData::String(column) = &table.columns[0].data else {
        panic!("a string column");
    };
    assert_eq!(
        column.dict.iter().map(|s| &**s).collect::<Vec<_>>(),
        ["South", "North", "East"]
    );
    assert_eq!(column.codes, [0, 1, 0, NULL_CODE, 2]);
}

#[test]
fn null_spellings_count_exactly_for_text_and_trimmed_for_other_types() {
    let mut setup = Setup::new(&["n", "s"]);
    setup.null_values = vec!["NA".to_string(), String::new()];
    let table = setup.load("id,n,s\na,NA,NA\nb, NA , NA \nc,2,\"\"\nd,\"\",x\n");
    assert_eq!(integers(&table, "n"), [None, None, Some(2), None]);
    assert_eq!(
        strings(&table, "s"),
        [None, Some(" NA ".to_string()), None, Some("x".to_string())]
    );
}

#[test]
fn blanks_that_are_null_only_once_trimmed_stay_text_in_a_text_column() {
    let table = Setup::new(&["s", "n"]).load("id,s,n\na,  ,  \nb,x,3\n");
    assert_eq!(strings(&table, "s"), texts(&["  ", "x"]));
    assert_eq!(integers(&table, "n"), [None, Some(3)]);
}

#[test]
fn a_column_of_nulls_is_a_text_column() {
    let table = Setup::new(&["e"]).load("id,e\na,\nb,\"\"\n");
    assert_eq!(strings(&table, "e"), [None, None]);
}

#[test]
fn a_quoted_empty_cell_is_null() {
    let setup = Setup::new(&["n"]).declare("n", ColumnType::Number);
    assert_eq!(
        numbers(&setup.load("id,n\na,\"\"\nb,1\n"), "n"),
        [None, Some(1.0)]
    );
}

#[test]
fn errors_stop_being_listed_after_ten() {
    let setup = Setup::new(&["n"]).declare("n", ColumnType::Number);
    let mut contents = String::from("id,n\n");
    for row in 0..15 {
        contents.push_str(&format!("k{row},x{row}\n"));
    }
    let errors = setup.errors(&contents);
    assert_eq!(errors.len(), 11);
    assert_eq!(
        errors[9],
        (
            "cell `x9` in column `n` is not a number".to_string(),
            Some((11, 4))
        )
    );
    assert_eq!(
        errors[10],
        ("and 5 more errors in `t.csv`".to_string(), None)
    );
}

#[test]
fn quoting_problems_name_their_place() {
    let setup = Setup::new(&["a"]);
    let errors = setup.errors("id,a\nc1,\"x\"y\n");
    assert_eq!(
        errors,
        [(
            "text after the closing quote of a field".to_string(),
            Some((2, 7))
        )]
    );
    let errors = setup.errors("id,a\nc1,1\nc2,\"open\nc3,3\n");
    assert_eq!(
        errors,
        [(
            "a quoted field in `t.csv` never ends".to_string(),
            Some((3, 4))
        )]
    );
}

#[test]
fn a_column_missing_from_the_header_is_named() {
    let errors = Setup::new(&["Score"]).errors("id,score\na,1\n");
    assert_eq!(
        errors,
        [(
            "column `Score` is not in the header of `t.csv`".to_string(),
            Some((1, 1))
        )]
    );
    let scratch = Scratch::new();
    let path = scratch.file(b"id,score\n");
    let setup = Setup::new(&["Score"]);
    let found = load_table(&setup.options(&path), &SourceMap::new())
        .err()
        .unwrap_or_default();
    assert_eq!(found[0].help.as_deref(), Some("did you mean `score`?"));
}

#[test]
fn other_delimiters_work() {
    let mut setup = Setup::new(&["n", "s"]);
    setup.delimiter = b';';
    let table = setup.load("id;n;s\na;1,5;x,y\n");
    assert_eq!(strings(&table, "n"), texts(&["1,5"]));
    assert_eq!(strings(&table, "s"), texts(&["x,y"]));
    setup.delimiter = b'\t';
    let table = setup.load("id\tn\ts\na\t 2 \tz\n");
    assert_eq!(integers(&table, "n"), some(&[2]));
}

#[test]
fn empty_lines_are_skipped_but_keep_their_line_numbers() {
    let setup = Setup::new(&["n"]).declare("n", ColumnType::Integer);
    let table = setup.load("id,n\n\na,1\n\r\nb,2\n\n");
    assert_eq!(integers(&table, "n"), some(&[1, 2]));
    let errors = setup.errors("id,n\n\na,1\n\nb,x\n");
    assert_eq!(errors[0].1, Some((5, 3)));
}

#[test]
fn a_long_line_is_cut_around_the_cell() {
    let setup = Setup::new(&["n"]).declare("n", ColumnType::Number);
    let filler = "f".repeat(1000);
    let contents = format!("id,pad,n,tail\na,{filler},bad,{filler}\n");
    let (loaded, sources) = setup.load_bytes(contents.as_bytes());
    let errors = loaded.err().unwrap_or_default();
    assert_eq!(place(&sources, &errors[0]), Some((2, 1004)));
    assert_eq!(labelled(&sources, &errors[0]), "bad");
    let label = errors[0].primary.as_ref().map(|label| label.file);
    let excerpt = label
        .map(|file| sources.text(file).chars().count())
        .unwrap_or_default();
    assert!(excerpt <= 120, "{excerpt}");
}

#[test]
fn the_header_sample_decides_types_from_its_rows() {
    let setup = Setup::new(&[]).declare("d", ColumnType::Number);
    let contents = "id,a,b,d\n1,1,true,x\n2,2.5,false,y\n3,x,true,z\n";
    let sampled = setup.header(contents, Some(2)).expect("a header");
    // The key column is text: keys compare as exact strings.
    assert_eq!(
        sampled.types,
        [
            ColumnType::String,
            ColumnType::Number,
            ColumnType::Bool,
            ColumnType::Number
        ]
    );
    assert_eq!(sampled.rows_read, 2);
    let whole = setup.header(contents, None).expect("a header");
    assert_eq!(whole.types[1], ColumnType::String);
    assert_eq!(whole.rows_read, 3);
    let names_only = setup.header(contents, Some(0)).expect("a header");
    assert_eq!(names_only.names, ["id", "a", "b", "d"]);
    assert_eq!(names_only.rows_read, 0);
}

#[test]
fn the_key_column_kept_as_a_column_is_text() {
    let table = Setup::new(&["id", "n"]).load("id,n\n0012,1\n7,2\n");
    assert_eq!(strings(&table, "id"), texts(&["0012", "7"]));
    assert_eq!(sorted_keys(&table), ["0012", "7"]);
}

#[test]
fn the_header_sample_reads_past_its_first_block() {
    let mut contents = String::from("id,n\n");
    for row in 0..20_000 {
        contents.push_str(&format!("key-{row},{row}\n"));
    }
    contents.push_str("last,text\n");
    let setup = Setup::new(&[]);
    let sampled = setup.header(&contents, Some(19_000)).expect("a header");
    assert_eq!(
        (sampled.types[1], sampled.rows_read),
        (ColumnType::Integer, 19_000)
    );
    let whole = setup.header(&contents, Some(50_000)).expect("a header");
    assert_eq!(
        (whole.types[1], whole.rows_read),
        (ColumnType::String, 20_001)
    );
}

/// Rows of [`large_table`]: enough for several chunks.
const ROWS: u32 = 100_000;

/// A table large enough to be read in parallel chunks, with an empty line after each row;
/// with `quote`, one unkept cell is quoted, which makes the loader read it as one chunk.
fn large_table(quote: bool) -> String {
    let mut contents = String::from("id,n,late,region,note\n");
    let regions = ["North", "South", "East"];
    for row in 0..ROWS {
        let key = (row * 7_919) % ROWS;
        let note = if quote && row == ROWS - 1_000 {
            "\"q\""
        } else {
            "q"
        };
        let late = if row == ROWS - 1 {
            "text".to_string()
        } else {
            row.to_string()
        };
        let n = if row % 1000 == 0 {
            String::new()
        } else {
            format!("{}.25", row % 97)
        };
        let region = regions[(row as usize * 31 + row as usize / 7) % 3];
        contents.push_str(&format!("k{key:08},{n},{late},{region},{note}\n\n"));
    }
    contents
}

#[test]
fn parallel_chunks_read_the_same_as_one_chunk() {
    let setup = Setup::new(&["region", "late", "n"]);
    let contents = large_table(false);
    assert!(
        super::load::split_chunks(contents.as_bytes(), 0, None)
            .0
            .len()
            > 1
    );
    assert_eq!(
        super::load::split_chunks(large_table(true).as_bytes(), 0, None)
            .0
            .len(),
        1
    );
    let parallel = setup.load(&contents);
    let single = setup.load(&large_table(true));
    for table in [&parallel, &single] {
        assert_eq!(table.rows, ROWS as usize);
        assert_eq!(table.keys.len(), ROWS as usize);
        let late = strings(table, "late");
        assert_eq!(
            (late[12].as_deref(), late[ROWS as usize - 1].as_deref()),
            (Some("12"), Some("text"))
        );
    }
    assert_eq!(parallel.keys.text, single.keys.text);
    assert_eq!(parallel.keys.row_key, single.keys.row_key);
    for name in ["region", "late"] {
        let (a, b) = (string_column(&parallel, name), string_column(&single, name));
        assert_eq!((&a.codes, &a.dict), (&b.codes, &b.dict));
    }
    let (a, b) = (numbers(&parallel, "n"), numbers(&single, "n"));
    assert_eq!(a, b);
    assert_eq!((a[0], a[1]), (None, Some(1.25)));
}

#[test]
fn parallel_chunks_report_physical_lines() {
    let setup = Setup::new(&["n"]).declare("n", ColumnType::Number);
    let mut contents = large_table(false);
    // Row 50,000 is on line 2 + 2 * 50,000, after the header and the empty lines.
    let row = format!("k{:08},", (50_000 * 7_919) % ROWS);
    let at = contents.find(&row).unwrap_or_default() + row.len();
    contents.insert(at, 'z');
    let errors = setup.errors(&contents);
    assert_eq!(
        errors,
        [(
            "cell `z` in column `n` is not a number".to_string(),
            Some((100_002, 11))
        )]
    );
}

#[test]
fn a_missing_file_is_an_io_error() {
    let setup = Setup::new(&[]);
    let scratch = Scratch::new();
    let path = scratch.dir.join("absent.csv");
    let errors = load_table(&setup.options(&path), &SourceMap::new())
        .err()
        .unwrap_or_default();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, Code::Io);
    assert!(
        errors[0].message.starts_with("cannot read `t.csv`: "),
        "{}",
        errors[0].message
    );
}

#[test]
fn a_folder_is_named_as_a_folder() {
    let setup = Setup::new(&[]);
    let scratch = Scratch::new();
    let errors = load_table(&setup.options(&scratch.dir), &SourceMap::new())
        .err()
        .unwrap_or_default();
    let messages: Vec<(Code, &str)> = errors
        .iter()
        .map(|error| (error.code, error.message.as_str()))
        .collect();
    assert_eq!(messages, [(Code::Io, "`t.csv` is a folder, not a file")]);
    assert_eq!(
        errors[0].help.as_deref(),
        Some("the `path` of table `t` in segc.toml must name a readable CSV file")
    );
}

#[test]
fn a_quote_cannot_be_the_delimiter() {
    let mut setup = Setup::new(&[]);
    setup.delimiter = b'"';
    let (loaded, _) = setup.load_bytes(b"id\na\n");
    let errors = loaded.err().unwrap_or_default();
    assert_eq!(errors[0].code, Code::Config);
}

#[test]
fn a_header_that_is_not_utf8_is_an_error() {
    let errors = Setup::new(&[]).errors_bytes(b"id,sc\xffore\na,1\n");
    assert_eq!(
        errors,
        [(
            "column 2 of the header of `t.csv` is not valid UTF-8".to_string(),
            Some((1, 6))
        )]
    );
}

#[test]
fn the_header_sample_reports_ragged_rows() {
    let problems = Setup::new(&[])
        .header("id,a\n1,2\n3\n", Some(10))
        .err()
        .unwrap_or_default();
    let messages: Vec<&str> = problems
        .iter()
        .map(|problem| problem.message.as_str())
        .collect();
    assert_eq!(
        messages,
        ["expected 2 fields, found 1 on line 3 of `t.csv`"]
    );
}

#[test]
fn many_repeated_keys_are_counted_after_the_first_five() {
    let mut setup = Setup::new(&[]);
    setup.one_row_per_key = true;
    let keys = ["g", "f", "e", "d", "c", "b", "a"];
    let mut contents = String::from("id\n");
    for key in keys.iter().chain(&keys) {
        contents.push_str(key);
        contents.push('\n');
    }
    let table = setup.load(&contents);
    assert_eq!(
        table.warnings[0].message,
        "7 keys appear on more than one row of `t.csv`: `a`, `b`, `c`, `d`, `e` and 2 more"
    );
}

#[test]
fn a_last_line_without_its_line_end_is_read() {
    let setup = Setup::new(&["n"]);
    for contents in [
        "id,n\r\n\"a\",1\r\nb,2",
        "id,n\na,1\nb,2\r",
        "id,n\na,1\nb,2\n\r\n",
    ] {
        let table = setup.load(contents);
        assert_eq!(row_keys(&table), ["a", "b"], "{contents:?}");
        assert_eq!(integers(&table, "n"), some(&[1, 2]), "{contents:?}");
    }
}

/// A small deterministic generator of test inputs (xorshift).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Bytes drawn from those that matter to the loader.
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        const PIECES: &[&[u8]] = &[
            b"a",
            b"1",
            b"0",
            b",",
            b",",
            b"\"",
            b"\n",
            b"\r\n",
            b"\r",
            b" ",
            b".",
            b"e",
            b"-",
            b"true",
            b"2024-01-31",
            b"\xff",
            b"\xc3\xa9",
            b"id",
            b"n",
            b"\xef\xbb\xbf",
            b"\t",
        ];
        let mut out = Vec::new();
        while out.len() < len {
            out.extend_from_slice(PIECES[self.next() as usize % PIECES.len()]);
        }
        out
    }
}

#[test]
fn no_input_makes_the_loader_panic() {
    let mut noise = Noise(0x2545_f491_4f6c_dd1d);
    let scratch = Scratch::new();
    let mut setups = vec![Setup::new(&[]), Setup::new(&["n"])];
    let mut declared = Setup::new(&["n"]).declare("n", ColumnType::Number);
    declared.on_bad_value = BadValue::Null;
    declared.one_row_per_key = true;
    declared.domains.insert(
        "n".to_string(),
        Domain {
            min: 0.0,
            max: 1.0,
            meaning: "a probability",
        },
    );
    setups.push(declared);
    for case in 0..400 {
        let len = (noise.next() % 200) as usize;
        let mut contents = b"id,n\n".to_vec();
        if case % 3 == 0 {
            contents.clear();
        }
        contents.extend(noise.bytes(len));
        let path = scratch.file(&contents);
        for setup in &setups {
            let sources = SourceMap::new();
            let options = setup.options(&path);
            let loaded = load_table(&options, &sources);
            if let Ok(table) = loaded {
                assert_eq!(table.keys.row_key.len(), table.rows);
            }
            let _ = read_header(&options, Some(3), &sources);
        }
    }
}

/// A table's contents and problems as text, to compare loads.
fn summary(loaded: &Result<Table, Vec<Diagnostic>>, sources: &SourceMap) -> String {
    match loaded {
        Ok(table) => format!(
            "rows {} keys {:?} {:?} {:?} columns {:?} warnings {:?}",
            table.rows,
            table.keys.text,
            table.keys.spans,
            table.keys.row_key,
            table.columns,
            table
                .warnings
                .iter()
                .map(|w| &w.message)
                .collect::<Vec<_>>()
        ),
        Err(errors) => format!(
            "errors {:?}",
            errors
                .iter()
                .map(|e| (&e.message, place(sources, e)))
                .collect::<Vec<_>>()
        ),
    }
}

#[test]
fn tiny_chunks_load_the_same_table_as_one_chunk() {
    let mut noise = Noise(0x1234_5678_9abc_def1);
    let scratch = Scratch::new();
    let mut lenient = Setup::new(&["a", "b", "c"]).declare("c", ColumnType::Number);
    lenient.on_bad_value = BadValue::Null;
    lenient.one_row_per_key = true;
    let strict = Setup::new(&["a", "b", "c"]).declare("c", ColumnType::Number);
    let cells: [&str; 12] = [
        "1",
        "2.5",
        "x",
        "",
        " ",
        "true",
        "FALSE",
        "2024-01-31",
        "0012",
        "-7",
        "1e3",
        "NaN",
    ];
    for _ in 0..300 {
        let mut contents = String::from("id,a,b,c\n");
        for _ in 0..noise.next() % 40 {
            let mut cell = || cells[noise.next() as usize % cells.len()];
            let (id, a, b, c) = (cell(), cell(), cell(), cell());
            contents.push_str(&format!("k{id},{a},{b},{c}"));
            if noise.next().is_multiple_of(50) {
                contents.push_str(",extra");
            }
            contents.push('\n');
            if noise.next().is_multiple_of(7) {
                contents.push('\n');
            }
        }
        let path = scratch.file(contents.as_bytes());
        for setup in [&lenient, &strict] {
            let sources = SourceMap::new();
            let whole = summary(&load_table(&setup.options(&path), &sources), &sources);
            for size in [1, 5, 17] {
                let sources = SourceMap::new();
                let cut =
                    super::load::load_in_chunks(&setup.options(&path), &sources, Some(size), &[]);
                assert_eq!(
                    summary(&cut, &sources),
                    whole,
                    "chunks of {size} in {contents:?}"
                );
            }
        }
    }
}

#[test]
fn quoted_and_broken_files_read_in_tiny_blocks_load_the_same_table() {
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    let scratch = Scratch::new();
    let mut lenient = Setup::new(&["n"]).declare("n", ColumnType::Number);
    lenient.on_bad_value = BadValue::Null;
    let setups = [Setup::new(&["n"]), lenient];
    let cells: [&[u8]; 10] = [
        b"1",
        b"\"2\"",
        b"\"a,b\"",
        b"\"line\nbreak\"",
        b"\"say \"\"hi\"\"\"",
        b"\"\"",
        b"x\"y",
        b"\"crlf\r\n\"",
        b"",
        b"3.5",
    ];
    for case in 0..300 {
        let mut contents = b"id,n\r\n".to_vec();
        for row in 0..noise.next() % 30 {
            contents.extend_from_slice(format!("k{row}").as_bytes());
            contents.push(b',');
            contents.extend_from_slice(cells[noise.next() as usize % cells.len()]);
            let end: &[u8] = match noise.next() % 9 {
                0 => b"\r\n",
                1 => b"\n\n",
                2 => b",extra\n",
                _ => b"\n",
            };
            contents.extend_from_slice(end);
        }
        // Some files end without a line break, inside a quote, or in random bytes.
        match case % 5 {
            0 => contents.extend_from_slice(b"k-last,9"),
            1 => contents.extend_from_slice(b"k-open,\"never closed\n"),
            2 => contents.extend(noise.bytes(20)),
            _ => {}
        }
        let path = scratch.file(&contents);
        for setup in &setups {
            let sources = SourceMap::new();
            let whole = summary(&load_table(&setup.options(&path), &sources), &sources);
            for size in [1, 3, 8, 64] {
                let sources = SourceMap::new();
                let cut =
                    super::load::load_in_chunks(&setup.options(&path), &sources, Some(size), &[]);
                let text = String::from_utf8_lossy(&contents);
                assert_eq!(
                    summary(&cut, &sources),
                    whole,
                    "blocks of {size} in {text:?}"
                );
            }
        }
    }
}

#[test]
fn a_whole_large_file_is_sampled_in_chunks() {
    let contents = large_table(false);
    let header = Setup::new(&[]).header(&contents, None).expect("a header");
    assert_eq!(
        header.types,
        [
            ColumnType::String,
            ColumnType::Number,
            ColumnType::String,
            ColumnType::String,
            ColumnType::String
        ]
    );
    assert_eq!(header.rows_read, ROWS as usize);
    let sampled = Setup::new(&[])
        .header(&contents, Some(1_000))
        .expect("a header");
    assert_eq!(sampled.types[2], ColumnType::Integer);
}

#[test]
fn tables_with_the_same_keys_share_their_text() {
    // One scratch folder a file, since each holds one file. Short keys are numbered
    // through a bitmap; keys longer than sixteen bytes are sorted.
    let contents: [&[u8]; 5] = [
        b"id,n\nb,1\na,2\n",
        b"id,n\na,3\nb,4\n",
        b"id,n\na,5\nc,6\n",
        b"id,n\ncustomer-0000000000002,1\ncustomer-0000000000001,2\n",
        b"id,n\ncustomer-0000000000001,3\ncustomer-0000000000002,4\n",
    ];
    let scratch: Vec<Scratch> = contents.iter().map(|_| Scratch::new()).collect();
    let paths: Vec<PathBuf> = scratch
        .iter()
        .zip(contents)
        .map(|(scratch, bytes)| scratch.file(bytes))
        .collect();
    let setup = Setup::new(&["n"]);
    let options: Vec<LoadOptions<'_>> = paths.iter().map(|path| setup.options(path)).collect();
    let sources = SourceMap::new();
    let tables: Vec<Table> = load_tables(&options, &sources, &|_| {}, &|_| {})
        .into_iter()
        .map(|table| table.expect("loads"))
        .collect();
    let shared = |a: usize, b: usize| Arc::ptr_eq(&tables[a].keys.text, &tables[b].keys.text);
    assert!(shared(0, 1));
    assert!(!shared(0, 2) && !shared(1, 2));
    assert!(shared(3, 4));
    assert_eq!(*tables[1].keys.text, "ab");
    assert_eq!(tables[0].keys.row_key, [1, 0]);
    assert_eq!(tables[1].keys.row_key, [0, 1]);
    assert_eq!(*tables[2].keys.text, "ac");
    assert_eq!(tables[4].keys.get(1), "customer-0000000000002");
    assert_eq!(tables[3].keys.row_key, [1, 0]);
}

#[test]
fn rows_put_in_key_order_keep_every_value_with_its_key() {
    let setup = Setup::new(&["score", "n", "seen", "day", "factor"]);
    let contents = "id,score,n,seen,day,factor\n\
                    c3,0.3,3,true,2024-01-03,Tenure\n\
                    c1,,1,false,2024-01-01,\n\
                    c4,0.4,,,2024-01-04,Basket\n\
                    c2,0.2,2,true,,Tenure\n";
    let mut table = setup.load(contents);
    let file = table.clone();
    assert!(!table.rows_are_keys);
    table.order_by_key(true);
    assert!(table.rows_are_keys);
    assert_eq!(row_keys(&table), ["c1", "c2", "c3", "c4"]);
    assert_eq!(table.keys.row_key, [0, 1, 2, 3]);
    assert_eq!(
        numbers(&table, "score"),
        [None, Some(0.2), Some(0.3), Some(0.4)]
    );
    assert_eq!(integers(&table, "n"), [Some(1), Some(2), Some(3), None]);
    assert_eq!(
        bools(&table, "seen"),
        [Some(false), Some(true), Some(true), None]
    );
    let day = |d: u32| parse_date(&format!("2024-01-{d:02}"));
    assert_eq!(dates(&table, "day"), [day(1), None, day(3), day(4)]);
    assert_eq!(
        strings(&table, "factor"),
        [
            None,
            Some("Tenure".into()),
            Some("Tenure".into()),
            Some("Basket".into())
        ]
    );
    // The file's third line (c4) is now row 3, and so on.
    assert_eq!(table.file_order, Some(vec![2, 0, 3, 1]));
    for column in &file.columns {
        let moved = &table.column(&column.name).unwrap().data;
        let back = table.in_file_order(moved);
        assert_eq!(
            format!("{:?}", *back),
            format!("{:?}", column.data),
            "{}",
            column.name
        );
    }
    // Ordering twice changes nothing.
    let once = format!("{table:?}");
    table.order_by_key(true);
    assert_eq!(format!("{table:?}"), once);
}

#[test]
fn rows_of_repeated_keys_stay_in_file_order() {
    let mut table = Setup::new(&["score"]).load("id,score\nc2,1\nc1,2\nc2,3\n");
    table.order_by_key(true);
    assert!(!table.rows_are_keys);
    assert_eq!(row_keys(&table), ["c2", "c1", "c2"]);
    assert_eq!(integers(&table, "score"), some(&[1, 2, 3]));
}

#[test]
fn rows_in_key_order_keep_the_file_order_only_when_asked() {
    let setup = Setup::new(&["score"]);
    let mut table = setup.load("id,score\nc2,2\nc1,1\n");
    table.order_by_key(false);
    assert!(table.rows_are_keys);
    assert_eq!(table.file_order, None);
    assert_eq!(row_keys(&table), ["c1", "c2"]);
    assert_eq!(integers(&table, "score"), some(&[1, 2]));
}
