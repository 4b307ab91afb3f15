//! The oracle's own description of a project: tables as the cell texts written to CSV, and
//! segments as a small syntax tree.
//!
//! Nothing here comes from segc. The generator builds these values, the renderer writes
//! them as segc.toml, CSV and `.seg` files, and the reference evaluator reads them, so that
//! a mistake in segc's parser or checker cannot leak into the expected answer.

/// The type of a column, as declared in segc.toml or as the generator meant it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ty {
    Bool,
    Integer,
    Number,
    Str,
    Date,
}

impl Ty {
    pub const ALL: [Ty; 5] = [Ty::Bool, Ty::Integer, Ty::Number, Ty::Str, Ty::Date];

    /// The name segc.toml uses.
    pub fn config_name(self) -> &'static str {
        match self {
            Ty::Bool => "bool",
            Ty::Integer => "integer",
            Ty::Number => "number",
            Ty::Str => "string",
            Ty::Date => "date",
        }
    }
}

/// One generated project: several independent worlds share one segc.toml and one run, so
/// that the cost of starting segc is paid once for many segments.
#[derive(Debug, Clone)]
pub struct Project {
    /// `as_of` in segc.toml, `YYYY-MM-DD`.
    pub as_of: String,
    /// `--threads` for the run; the outputs must not depend on it.
    pub threads: u8,
    pub worlds: Vec<World>,
}

/// Tables and the segments over them. Names are local: the renderer prefixes them with the
/// world's number, and no segment of one world refers to another world.
#[derive(Debug, Clone)]
pub struct World {
    pub tables: Vec<Table>,
    pub segments: Vec<Segment>,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    /// The key column's name; `key = …` is written when it differs from the project's.
    pub key: String,
    /// Where the key column stands in the header, among the other columns.
    pub key_position: usize,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub format: CsvFormat,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// The type the generator meant; the cells are spelled to parse as it.
    pub ty: Ty,
    /// Declared in `[tables.NAME.columns]`; otherwise segc infers the type.
    pub declared: bool,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub key: String,
    /// One cell per column, in the order of [`Table::columns`].
    pub cells: Vec<Cell>,
}

/// A cell as it stands in the file, after CSV unquoting.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value, spelled one of the ways segc must read as null.
    Null(NullSpelling),
    /// A value; `quoted` puts it in quotes even where CSV does not need them.
    Text { text: String, quoted: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullSpelling {
    /// An empty field.
    Empty,
    /// `""`.
    QuotedEmpty,
    /// `NA`, for tables whose `null_values` list it.
    Na,
}

#[derive(Debug, Clone)]
pub struct CsvFormat {
    pub delimiter: u8,
    pub crlf: bool,
    pub bom: bool,
    pub final_newline: bool,
    /// `null_values = ["", "NA"]` instead of the default.
    pub na_is_null: bool,
}

#[derive(Debug, Clone)]
pub struct Segment {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub source: Source,
    pub split: Option<Split>,
    pub expects: Vec<Expect>,
    /// How the renderer writes the segment; the meaning does not depend on it.
    pub style: Style,
}

/// Choices of spelling that must not change what a segment means.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// A seed for the order of the clauses, which the language leaves free.
    pub clause_order: u64,
    /// Write plain column names in backticks too.
    pub backtick_all: bool,
    /// Write non-ASCII characters of string literals as `\u{…}`.
    pub unicode_escapes: bool,
    /// A `#` comment line before the segment.
    pub comment: bool,
}

#[derive(Debug, Clone)]
pub enum Source {
    From(From),
    Combine(SetExpr),
}

#[derive(Debug, Clone)]
pub struct From {
    /// Index into the world's tables.
    pub table: usize,
    pub filter: Option<Expr>,
    pub rank: Option<Rank>,
    /// Indices into the table's columns, distinct.
    pub select: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Rank {
    pub top: bool,
    pub amount: Amount,
    pub with_ties: bool,
    pub by: Expr,
}

/// `3`, `1_0`, `12.5%`: the number as written, so that it is read exactly.
#[derive(Debug, Clone)]
pub struct Amount {
    pub text: String,
    pub percent: bool,
    /// A space before the `%`.
    pub spaced: bool,
}

#[derive(Debug, Clone)]
pub struct Split {
    /// Group names with their shares as written, without the `%`.
    pub groups: Vec<(String, String)>,
    pub seed: String,
}

#[derive(Debug, Clone)]
pub struct Expect {
    /// `share` (a percentage of the table's keys) or `size`.
    pub share: bool,
    pub test: ExpectTest,
}

#[derive(Debug, Clone)]
pub enum ExpectTest {
    Compare(CmpOp, String),
    Between(String, String),
}

#[derive(Debug, Clone)]
pub enum SetExpr {
    /// An earlier segment of the same world.
    Segment(usize),
    Union(Box<SetExpr>, Box<SetExpr>),
    Intersect(Box<SetExpr>, Box<SetExpr>),
    Except(Box<SetExpr>, Box<SetExpr>),
    Paren(Box<SetExpr>),
}

/// A column of the segment's table. The generator picks a type and a number; resolving
/// turns the number into an index of a column of that type.
#[derive(Debug, Clone, Copy)]
pub struct ColRef {
    pub ty: Ty,
    pub index: usize,
}

#[derive(Debug, Clone)]
pub enum Expr {
    Column(ColRef),
    Lit(Lit),
    /// Parentheses the generator chose to add; the renderer adds the ones it needs.
    Paren(Box<Expr>),
    Neg(Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
    /// `round(x, digits)`.
    Round(Box<Expr>, u32),
    /// A table aggregate over a column of the segment's table.
    Agg(Agg, ColRef),
    Compare(CmpOp, Box<Expr>, Box<Expr>),
    Between {
        value: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    InList {
        value: Box<Expr>,
        items: Vec<ListItem>,
        negated: bool,
    },
    IsNull {
        value: Box<Expr>,
        negated: bool,
    },
    Match {
        value: Box<Expr>,
        op: MatchOp,
        pattern: String,
    },
    /// `in segment` an earlier segment of the same world.
    InSegment(usize),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone)]
pub enum Lit {
    /// A number literal as written: `3`, `0.5`, `1_000`, `5e-1`.
    Number(String),
    Str(String),
    Bool(bool),
    /// `date "YYYY-MM-DD"`.
    Date(String),
}

/// An item of an `in` list: a literal, with a minus sign for numbers.
#[derive(Debug, Clone)]
pub struct ListItem {
    pub lit: Lit,
    pub negative: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn text(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Lower,
    Upper,
    Length,
    Abs,
    Coalesce,
    DaysSince,
}

impl Func {
    pub fn name(self) -> &'static str {
        match self {
            Func::Lower => "lower",
            Func::Upper => "upper",
            Func::Length => "length",
            Func::Abs => "abs",
            Func::Coalesce => "coalesce",
            Func::DaysSince => "days_since",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Agg {
    Avg,
    Min,
    Max,
    Sum,
    Stddev,
    Median,
    /// `percentile(c, p)` with `p` as written.
    Percentile(String),
}

impl Agg {
    pub fn name(&self) -> &'static str {
        match self {
            Agg::Avg => "avg",
            Agg::Min => "min",
            Agg::Max => "max",
            Agg::Sum => "sum",
            Agg::Stddev => "stddev",
            Agg::Median => "median",
            Agg::Percentile(_) => "percentile",
        }
    }
}
