//! The checked program: what the checker hands to the planner and the evaluator.
//!
//! Names are resolved (tables and segments to indices, columns checked against the
//! table), every expression is typed, and amounts are exact. Nothing here can fail to
//! evaluate for a reason the checker could have seen.

use std::sync::Arc;

use crate::models::ColumnType;
use crate::source::{FileId, Span};
use crate::syntax::ast::{ArithOp, CompareOp, Direction, MatchOp, Metric};

/// Index of a segment in [`Program::segments`].
pub type SegmentId = usize;

/// Every segment of the project, checked.
#[derive(Debug, Clone)]
pub struct Program {
    pub segments: Vec<Segment>,
}

impl Program {
    pub fn find(&self, name: &str) -> Option<SegmentId> {
        self.segments
            .iter()
            .position(|segment| segment.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct Segment {
    pub name: String,
    pub file: FileId,
    /// The whole definition.
    pub span: Span,
    pub title: Option<String>,
    pub description: Option<String>,
    pub source: Source,
    pub split: Option<Split>,
    pub expects: Vec<Expect>,
    /// Segments this one reads, each once, in first-use order.
    pub depends_on: Vec<SegmentId>,
}

#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Source {
    From(FromSource),
    Combine(SetTree),
}

#[derive(Debug, Clone)]
pub struct FromSource {
    /// Index into the configuration's tables.
    pub table: usize,
    pub filter: Option<TypedExpr>,
    pub rank: Option<Rank>,
    /// Columns carried into the output, in the order written.
    pub select: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum SetTree {
    Segment(SegmentId),
    Union(Box<SetTree>, Box<SetTree>),
    Intersect(Box<SetTree>, Box<SetTree>),
    Except(Box<SetTree>, Box<SetTree>),
}

/// How many keys `top`/`bottom` keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    Count(u64),
    /// `numerator / denominator` percent, exactly: `12.5%` is 125/10.
    Percent {
        numerator: u128,
        denominator: u128,
    },
}

impl Amount {
    /// How many of `count` keys to keep: `min(N, count)`, or `ceil(P × count / 100)`
    /// computed in integers so that no rounding error creeps in.
    pub fn keep(self, count: usize) -> usize {
        match self {
            Amount::Count(n) => usize::try_from(n).unwrap_or(usize::MAX).min(count),
            Amount::Percent {
                numerator,
                denominator,
            } => {
                let scaled = numerator * count as u128;
                let divisor = denominator * 100;
                let kept = scaled.div_ceil(divisor);
                usize::try_from(kept).unwrap_or(usize::MAX).min(count)
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Rank {
    pub direction: Direction,
    pub amount: Amount,
    pub with_ties: bool,
    pub by: TypedExpr,
}

/// `split`: each group takes the keys whose bucket is below its upper bound.
#[derive(Debug, Clone)]
pub struct Split {
    pub seed: String,
    /// Group names with the upper bound of their bucket range, as a fraction of 2^32
    /// scaled by `scale`: a key's bucket `b` (0 ≤ b < 2^32) is in the group when
    /// `b × scale < bound`, for the first such group in order.
    pub groups: Vec<(String, u128)>,
    pub scale: u128,
}

#[derive(Debug, Clone)]
pub struct Expect {
    pub metric: Metric,
    pub test: ExpectTest,
    /// The whole clause, in the segment's file.
    pub span: Span,
}

#[derive(Debug, Clone, Copy)]
pub enum ExpectTest {
    Compare(CompareOp, f64),
    Between(f64, f64),
}

/// The type of an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Type {
    Bool,
    Integer,
    Number,
    Date,
    String,
    /// The literal `null`: fits anywhere.
    Null,
    /// Not known at check time (a table whose file is absent): fits anywhere, checked
    /// again when the data is there.
    Unknown,
}

impl Type {
    pub fn as_str(self) -> &'static str {
        match self {
            Type::Bool => "bool",
            Type::Integer => "integer",
            Type::Number => "number",
            Type::Date => "date",
            Type::String => "string",
            Type::Null => "null",
            Type::Unknown => "unknown",
        }
    }

    /// The type's name with its article, for messages: `an integer`, `a string`.
    pub fn with_article(self) -> &'static str {
        match self {
            Type::Bool => "a bool",
            Type::Integer => "an integer",
            Type::Number => "a number",
            Type::Date => "a date",
            Type::String => "a string",
            Type::Null => "null",
            Type::Unknown => "a value of unknown type",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Type::Integer | Type::Number)
    }

    /// Whether the type is known well enough to check against.
    pub fn is_known(self) -> bool {
        !matches!(self, Type::Null | Type::Unknown)
    }
}

impl From<ColumnType> for Type {
    fn from(ty: ColumnType) -> Type {
        match ty {
            ColumnType::Bool => Type::Bool,
            ColumnType::Integer => Type::Integer,
            ColumnType::Number => Type::Number,
            ColumnType::Date => Type::Date,
            ColumnType::String => Type::String,
        }
    }
}

/// A constant.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Integer(i64),
    Number(f64),
    Date(i32),
    String(Arc<str>),
}

/// A typed expression.
#[derive(Debug, Clone)]
pub struct TypedExpr {
    pub kind: ExprKind,
    pub ty: Type,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Lower,
    Upper,
    Length,
    Abs,
    Round,
    Coalesce,
    DaysSince,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Aggregate {
    Avg,
    Min,
    Max,
    Sum,
    Stddev,
    Median,
    Percentile,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    /// A column of the segment's table; the key column included.
    Column(String),
    Const(Scalar),
    /// Integer to number, where the two mix.
    ToNumber(Box<TypedExpr>),
    Neg(Box<TypedExpr>),
    Not(Box<TypedExpr>),
    And(Box<TypedExpr>, Box<TypedExpr>),
    Or(Box<TypedExpr>, Box<TypedExpr>),
    Compare(CompareOp, Box<TypedExpr>, Box<TypedExpr>),
    Arith(ArithOp, Box<TypedExpr>, Box<TypedExpr>),
    InList {
        value: Box<TypedExpr>,
        items: Vec<Scalar>,
        negated: bool,
    },
    IsNull {
        value: Box<TypedExpr>,
        negated: bool,
    },
    Match {
        value: Box<TypedExpr>,
        op: MatchOp,
        pattern: Arc<str>,
    },
    InSegment(SegmentId),
    Call(Function, Vec<TypedExpr>),
    /// A table aggregate over a column of the segment's table, with percentile's fraction.
    Aggregate {
        function: Aggregate,
        column: String,
        fraction: Option<f64>,
    },
}
