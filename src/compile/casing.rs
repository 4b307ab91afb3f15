//! `lower` and `upper` as segc computes them: Unicode's full case mapping, as Rust's
//! `str::to_lowercase` and `str::to_uppercase` do it.
//!
//! Each engine maps most characters the same way, but not all: DuckDB uses the simple
//! one-to-one mapping (`ß` stays one letter in upper case), and every engine knows the
//! characters of its own Unicode version only. The characters an engine maps differently
//! were found by mapping every code point with the engine and with segc (the engine tests
//! repeat that comparison); a value holding one of them makes the compiled SQL stop with an
//! error rather than give another answer. `Σ` is among them for `lower` everywhere: whether
//! it becomes `ς` or `σ` depends on the letters around it.

use crate::check::ir::Function;

use super::dialect::Dialect;

/// Code point ranges that an engine's `lower` or `upper` maps differently from segc.
pub struct Guard {
    pub dialect: Dialect,
    pub function: Function,
    pub ranges: &'static [(u32, u32)],
}

const SIGMA: (u32, u32) = (0x03A3, 0x03A3);

/// DuckDB 2.0 (utf8proc): simple case mapping, and `İ` becomes a plain `i`.
const DUCKDB_LOWER: &[(u32, u32)] = &[
    (0x0130, 0x0130),
    SIGMA,
    (0x1C89, 0x1C89),
    (0xA7CB, 0xA7CC),
    (0xA7CE, 0xA7CE),
    (0xA7D2, 0xA7D2),
    (0xA7D4, 0xA7D4),
    (0xA7DA, 0xA7DA),
    (0xA7DC, 0xA7DC),
    (0x10D50, 0x10D65),
    (0x16EA0, 0x16EB8),
];

const DUCKDB_UPPER: &[(u32, u32)] = &[
    (0x00DF, 0x00DF),
    (0x0149, 0x0149),
    (0x019B, 0x019B),
    (0x01F0, 0x01F0),
    (0x0264, 0x0264),
    (0x0390, 0x0390),
    (0x03B0, 0x03B0),
    (0x0587, 0x0587),
    (0x1C8A, 0x1C8A),
    (0x1E96, 0x1E9A),
    (0x1F50, 0x1F50),
    (0x1F52, 0x1F52),
    (0x1F54, 0x1F54),
    (0x1F56, 0x1F56),
    (0x1F80, 0x1FAF),
    (0x1FB2, 0x1FB4),
    (0x1FB6, 0x1FB7),
    (0x1FBC, 0x1FBC),
    (0x1FC2, 0x1FC4),
    (0x1FC6, 0x1FC7),
    (0x1FCC, 0x1FCC),
    (0x1FD2, 0x1FD3),
    (0x1FD6, 0x1FD7),
    (0x1FE2, 0x1FE4),
    (0x1FE6, 0x1FE7),
    (0x1FF2, 0x1FF4),
    (0x1FF6, 0x1FF7),
    (0x1FFC, 0x1FFC),
    (0xA7CD, 0xA7CD),
    (0xA7CF, 0xA7CF),
    (0xA7D3, 0xA7D3),
    (0xA7D5, 0xA7D5),
    (0xA7DB, 0xA7DB),
    (0xFB00, 0xFB06),
    (0xFB13, 0xFB17),
    (0x10D70, 0x10D85),
    (0x16EBB, 0x16ED3),
];

/// PostgreSQL with ICU 72 (`und-x-icu`): full case mapping of an older Unicode version.
const POSTGRES_LOWER: &[(u32, u32)] = &[
    SIGMA,
    (0x1C89, 0x1C89),
    (0xA7CB, 0xA7CC),
    (0xA7CE, 0xA7CE),
    (0xA7D2, 0xA7D2),
    (0xA7D4, 0xA7D4),
    (0xA7DA, 0xA7DA),
    (0xA7DC, 0xA7DC),
    (0x10D50, 0x10D65),
    (0x16EA0, 0x16EB8),
];

const POSTGRES_UPPER: &[(u32, u32)] = &[
    (0x019B, 0x019B),
    (0x0264, 0x0264),
    (0x1C8A, 0x1C8A),
    (0xA7CD, 0xA7CD),
    (0xA7CF, 0xA7CF),
    (0xA7D3, 0xA7D3),
    (0xA7D5, 0xA7D5),
    (0xA7DB, 0xA7DB),
    (0x10D70, 0x10D85),
    (0x16EBB, 0x16ED3),
];

/// Spark 4.3 (ICU case mappings): full case mapping, of the same Unicode version as segc's.
const SPARK_LOWER: &[(u32, u32)] = &[SIGMA];

const SPARK_UPPER: &[(u32, u32)] = &[];

/// Every guard, for the engine tests to check against the engines themselves.
pub const GUARDS: &[Guard] = &[
    Guard {
        dialect: Dialect::DuckDb,
        function: Function::Lower,
        ranges: DUCKDB_LOWER,
    },
    Guard {
        dialect: Dialect::DuckDb,
        function: Function::Upper,
        ranges: DUCKDB_UPPER,
    },
    Guard {
        dialect: Dialect::Postgres,
        function: Function::Lower,
        ranges: POSTGRES_LOWER,
    },
    Guard {
        dialect: Dialect::Postgres,
        function: Function::Upper,
        ranges: POSTGRES_UPPER,
    },
    Guard {
        dialect: Dialect::Spark,
        function: Function::Lower,
        ranges: SPARK_LOWER,
    },
    Guard {
        dialect: Dialect::Spark,
        function: Function::Upper,
        ranges: SPARK_UPPER,
    },
];

/// The ranges guarded for one engine and function.
pub fn guarded(dialect: Dialect, function: Function) -> &'static [(u32, u32)] {
    GUARDS
        .iter()
        .find(|guard| guard.dialect == dialect && guard.function == function)
        .map_or(&[], |guard| guard.ranges)
}

/// `lower(value)` or `upper(value)` in the dialect, stopping with an error on a value that
/// holds a character the engine maps differently. `None` when there is no exact form.
pub fn change_case(dialect: Dialect, function: Function, value: &str) -> Option<String> {
    let name = match function {
        Function::Lower => "lower",
        Function::Upper => "upper",
        _ => return None,
    };
    let mapped = match dialect {
        // The database's own collation may map case by the C library's simple rules; the
        // ICU root collation that initdb creates maps it fully.
        Dialect::Postgres => format!("{name}({value} COLLATE \"und-x-icu\")"),
        Dialect::DuckDb | Dialect::Spark => format!("{name}({value})"),
    };
    let ranges = guarded(dialect, function);
    if ranges.is_empty() {
        return Some(mapped);
    }
    let class = dialect.string(&character_class(dialect, ranges));
    let message = dialect.string(&format!(
        "segc: `{name}` in {dialect} maps a character of this value differently from segc"
    ));
    let (test, fail) = match dialect {
        Dialect::DuckDb => (
            format!("regexp_matches({value}, {class})"),
            format!("error({message})"),
        ),
        Dialect::Spark => (
            format!("{value} RLIKE {class}"),
            format!("raise_error({message})"),
        ),
        // PostgreSQL has no function that raises an error; a failing cast does, and naming
        // the value in it keeps the planner from evaluating it ahead of time.
        Dialect::Postgres => (
            format!("{value} ~ {class}"),
            format!("CAST(CAST({message} || {value} AS integer) AS text)"),
        ),
    };
    Some(format!("CASE WHEN {test} THEN {fail} ELSE {mapped} END"))
}

/// A regular-expression class of the ranges, in the engine's escape syntax.
fn character_class(dialect: Dialect, ranges: &[(u32, u32)]) -> String {
    let escape = |code: u32| match dialect {
        Dialect::Postgres if code > 0xFFFF => format!("\\U{code:08X}"),
        Dialect::Postgres => format!("\\u{code:04X}"),
        Dialect::DuckDb | Dialect::Spark => format!("\\x{{{code:X}}}"),
    };
    let mut class = String::from("[");
    for &(first, last) in ranges {
        class.push_str(&escape(first));
        if last != first {
            class.push('-');
            class.push_str(&escape(last));
        }
    }
    class.push(']');
    class
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guarded_values_stop_the_query() {
        let sql = change_case(Dialect::Spark, Function::Lower, "`Name`").unwrap();
        assert_eq!(
            sql,
            "CASE WHEN `Name` RLIKE '[\\\\x{3A3}]' THEN raise_error('segc: `lower` in spark maps \
             a character of this value differently from segc') ELSE lower(`Name`) END"
        );
        let class = character_class(Dialect::Postgres, &[(0x00DF, 0x00DF), (0x10D70, 0x10D85)]);
        assert_eq!(class, "[\\u00DF\\U00010D70-\\U00010D85]");
    }

    #[test]
    fn ranges_are_sorted_and_apart() {
        for guard in GUARDS {
            for pair in guard.ranges.windows(2) {
                assert!(pair[0].1 + 1 < pair[1].0, "{:?}", pair);
            }
        }
    }
}
