//! What differs between the SQL engines segc compiles for: quoting, literals, type names
//! and the spelling of a few functions.
//!
//! Every choice here keeps the value segc computes; where an engine's own function would
//! round, compare or fold case differently, the caller builds the exact form instead.

use std::fmt;

/// An SQL engine that `segc compile` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    DuckDb,
    Spark,
    Postgres,
}

impl Dialect {
    /// The name used on the command line and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::DuckDb => "duckdb",
            Dialect::Spark => "spark",
            Dialect::Postgres => "postgres",
        }
    }

    /// An identifier, quoted unless it is a plain lower-case name that no engine reserves.
    ///
    /// PostgreSQL folds unquoted names to lower case, so any upper-case letter needs quotes
    /// there; the other engines match names without regard to case but keep the spelling,
    /// and quoting them the same way keeps the three outputs alike.
    pub fn ident(self, name: &str) -> String {
        let plain = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !is_reserved(name);
        if plain {
            return name.to_string();
        }
        match self {
            Dialect::Spark => format!("`{}`", name.replace('`', "``")),
            Dialect::DuckDb | Dialect::Postgres => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// A string literal. Spark reads backslash escapes in every literal and joins adjacent
    /// literals, so a doubled quote would end one literal and start another there.
    pub fn string(self, text: &str) -> String {
        match self {
            Dialect::Spark => {
                let mut out = String::with_capacity(text.len() + 2);
                out.push('\'');
                for c in text.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\'' => out.push_str("\\'"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        '\t' => out.push_str("\\t"),
                        c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
                        c => out.push(c),
                    }
                }
                out.push('\'');
                out
            }
            // A backslash is an ordinary character in a standard literal, but a server
            // with `standard_conforming_strings` off would read it as an escape; the
            // `E''` form means the same on every server.
            Dialect::Postgres if text.contains('\\') => {
                format!("E'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
            }
            // A NUL byte would end the query text for many clients; `chr(0)` spells it.
            Dialect::DuckDb if text.contains('\0') => {
                let parts: Vec<String> = text
                    .split('\0')
                    .map(|part| format!("'{}'", part.replace('\'', "''")))
                    .collect();
                format!("({})", parts.join(" || chr(0) || "))
            }
            Dialect::DuckDb | Dialect::Postgres => format!("'{}'", text.replace('\'', "''")),
        }
    }

    /// Whether a string can be a value at all: PostgreSQL's text cannot hold the NUL
    /// character.
    pub fn holds_string(self, text: &str) -> bool {
        self != Dialect::Postgres || !text.contains('\0')
    }

    /// The 64-bit floating-point type.
    pub fn double(self) -> &'static str {
        match self {
            Dialect::DuckDb | Dialect::Spark => "DOUBLE",
            Dialect::Postgres => "DOUBLE PRECISION",
        }
    }

    /// A number literal of the 64-bit floating-point type, with exactly the value `value`.
    ///
    /// The shortest decimal that reads back as `value` is written, typed so that the engine
    /// does not treat it as an exact decimal (where `0.1 + 0.2` is `0.3`). DuckDB turns a
    /// decimal literal into a double by one division, exact only for up to 15 digits; longer
    /// ones go through its string conversion, which rounds correctly.
    pub fn double_literal(self, value: f64) -> String {
        if !value.is_finite() {
            let text = if value > 0.0 { "Infinity" } else { "-Infinity" };
            return format!("CAST('{text}' AS {})", self.double());
        }
        let text = decimal(value);
        match self {
            Dialect::Spark => format!("{text}D"),
            Dialect::Postgres => format!("{text}::float8"),
            Dialect::DuckDb if significant_digits(&text) > 15 => format!("'{text}'::DOUBLE"),
            Dialect::DuckDb => format!("{text}::DOUBLE"),
        }
    }

    /// A number literal that the engine may read as an exact decimal, for places where the
    /// other operand is a double and the engine converts the literal to one. Up to 15
    /// significant digits every engine converts it exactly; longer ones are typed.
    pub fn bare_number(self, value: f64) -> String {
        if !value.is_finite() {
            return self.double_literal(value);
        }
        let text = decimal(value);
        if significant_digits(&text) > 15 {
            return self.double_literal(value);
        }
        text
    }

    /// `CAST(expr AS DOUBLE)`.
    pub fn to_double(self, expr: &str) -> String {
        format!("CAST({expr} AS {})", self.double())
    }

    /// The collation under which strings compare by their bytes, where the engine's default
    /// may compare them by a language's rules instead.
    pub fn byte_order(self) -> &'static str {
        match self {
            Dialect::Postgres => " COLLATE \"C\"",
            Dialect::DuckDb | Dialect::Spark => "",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The shortest decimal that reads back as `value`, with an exponent when the plain form
/// would be long (`1e300` rather than three hundred digits).
pub fn decimal(value: f64) -> String {
    let plain = format!("{value}");
    if plain.len() <= 24 {
        return plain;
    }
    format!("{value:e}")
}

fn significant_digits(text: &str) -> usize {
    let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    digits
        .trim_start_matches('0')
        .trim_end_matches('0')
        .len()
        .max(1)
}

/// Words that some engine reserves; a name among them is always quoted.
fn is_reserved(name: &str) -> bool {
    const RESERVED: &[&str] = &[
        "all",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "between",
        "both",
        "by",
        "case",
        "cast",
        "check",
        "collate",
        "column",
        "constraint",
        "create",
        "cross",
        "current_date",
        "current_time",
        "current_timestamp",
        "current_user",
        "default",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "exists",
        "false",
        "fetch",
        "for",
        "foreign",
        "from",
        "full",
        "grant",
        "group",
        "having",
        "in",
        "inner",
        "intersect",
        "interval",
        "into",
        "is",
        "join",
        "lateral",
        "leading",
        "left",
        "like",
        "limit",
        "natural",
        "not",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "outer",
        "over",
        "primary",
        "qualify",
        "references",
        "right",
        "select",
        "some",
        "table",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "values",
        "when",
        "where",
        "window",
        "with",
    ];
    RESERVED.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_where_an_engine_needs_it() {
        assert_eq!(Dialect::DuckDb.ident("churn"), "churn");
        assert_eq!(Dialect::Postgres.ident("CustomerId"), "\"CustomerId\"");
        assert_eq!(
            Dialect::Spark.ident("Preferred Channel"),
            "`Preferred Channel`"
        );
        assert_eq!(Dialect::Spark.ident("a`b"), "`a``b`");
        assert_eq!(Dialect::DuckDb.ident("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(Dialect::Postgres.ident("group"), "\"group\"");
        assert_eq!(Dialect::Spark.ident("2x"), "`2x`");
    }

    #[test]
    fn string_literals_escape_per_dialect() {
        let text = "it's a \\ path\nnext";
        assert_eq!(Dialect::DuckDb.string(text), "'it''s a \\ path\nnext'");
        assert_eq!(Dialect::Postgres.string("it's"), "'it''s'");
        assert_eq!(Dialect::Postgres.string(text), "E'it''s a \\\\ path\nnext'");
        assert_eq!(Dialect::Spark.string(text), "'it\\'s a \\\\ path\\nnext'");
        assert_eq!(Dialect::Spark.string("\u{1}é"), "'\\u0001é'");
        assert_eq!(Dialect::DuckDb.string("a\0b"), "('a' || chr(0) || 'b')");
    }

    #[test]
    fn double_literals_keep_their_exact_value() {
        assert_eq!(Dialect::Spark.double_literal(0.7), "0.7D");
        assert_eq!(Dialect::Postgres.double_literal(-2.0), "-2::float8");
        assert_eq!(Dialect::DuckDb.double_literal(1e300), "1e300::DOUBLE");
        assert_eq!(
            Dialect::DuckDb.double_literal(0.1 + 0.2),
            "'0.30000000000000004'::DOUBLE"
        );
        assert_eq!(Dialect::DuckDb.bare_number(0.7), "0.7");
        assert_eq!(
            Dialect::Postgres.double_literal(f64::INFINITY),
            "CAST('Infinity' AS DOUBLE PRECISION)"
        );
    }
}
