//! The abstract syntax tree of `.seg` files.
//!
//! Every node carries the byte span it was parsed from, so later stages can point at it.
//! Nothing here knows about pest: the parser could be replaced without touching them.
//! The tree keeps what the user wrote (clause order, parentheses, number spelling), so
//! that the formatter can print it back and the checker can report clause conflicts.

use crate::source::Span;

/// One parsed `.seg` file.
#[derive(Debug, Clone, PartialEq)]
pub struct SegFile {
    pub segments: Vec<Segment>,
    /// Every `#` comment, in file order; the formatter puts them back.
    pub comments: Vec<Comment>,
}

/// A `# …` comment. `text` is everything after the `#`, without the line end.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

/// A name as written: a plain identifier or a backtick-quoted one.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    /// The name without backticks.
    pub name: String,
    pub span: Span,
    /// Written in backticks.
    pub quoted: bool,
}

/// `segment NAME { clauses }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub name: Ident,
    /// The whole definition, from `segment` to the closing brace.
    pub span: Span,
    /// Clauses in the order written; the checker enforces how often each may appear.
    pub clauses: Vec<Clause>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub kind: ClauseKind,
    /// From the clause keyword to the end of the clause.
    pub span: Span,
    /// The span of the clause keyword alone (`where`, `top`, `expect`, …).
    pub keyword: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClauseKind {
    Title(StringLit),
    Description(StringLit),
    From(Ident),
    Combine(SetExpr),
    Where(Expr),
    Rank(RankClause),
    Select(Vec<Ident>),
    Split(SplitClause),
    Expect(Expectation),
}

/// A string literal with its escapes resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct StringLit {
    pub value: String,
    pub span: Span,
}

/// A number literal as written (`1_000`, `0.7`, `1e-3`), without a sign.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberLit {
    pub text: String,
    pub span: Span,
}

impl NumberLit {
    /// The value as a float: underscores removed, then parsed.
    pub fn value(&self) -> f64 {
        self.text.replace('_', "").parse().unwrap_or(f64::NAN)
    }
}

/// `top …` or `bottom …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Top,
    Bottom,
}

/// `top N [with ties] by EXPR` and its `bottom` and percentage forms.
#[derive(Debug, Clone, PartialEq)]
pub struct RankClause {
    pub direction: Direction,
    pub amount: Quantity,
    pub with_ties: bool,
    pub by: Expr,
}

/// A number, optionally followed by `%`: `20`, `20%`, `12.5%`.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    pub number: NumberLit,
    pub percent: bool,
    /// The number and the `%` sign together.
    pub span: Span,
}

/// `split NAME P%, … seed "…"`.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitClause {
    pub groups: Vec<SplitGroup>,
    pub seed: StringLit,
}

/// One `NAME P%` of a split.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitGroup {
    pub name: Ident,
    pub share: Quantity,
    pub span: Span,
}

/// What an `expect` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// The member count.
    Size,
    /// Members over the keys of the source table(s), as a percentage.
    Share,
}

/// `expect size >= 100`, `expect share between 5% and 30%`.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub metric: Metric,
    pub metric_span: Span,
    pub test: ExpectTest,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExpectTest {
    Compare {
        op: CompareOp,
        op_span: Span,
        value: Quantity,
    },
    Between {
        low: Quantity,
        high: Quantity,
    },
}

/// Set algebra of `combine`.
#[derive(Debug, Clone, PartialEq)]
pub struct SetExpr {
    pub kind: SetExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SetExprKind {
    Segment(Ident),
    Binary {
        op: SetOp,
        op_span: Span,
        lhs: Box<SetExpr>,
        rhs: Box<SetExpr>,
    },
    /// Parentheses as written.
    Paren(Box<SetExpr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    Union,
    Intersect,
    Except,
}

/// A condition or a value expression; the checker tells them apart by type.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Column(Ident),
    Literal(Literal),
    /// Parentheses as written.
    Paren(Box<Expr>),
    /// `-x`.
    Neg(Box<Expr>),
    /// `not x`.
    Not(Box<Expr>),
    /// `a and b`, `a or b`.
    Logic {
        op: LogicOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `a = b`, `a < b`, ….
    Compare {
        op: CompareOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `a + b`, `a * b`, ….
    Arith {
        op: ArithOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `x [not] between a and b`.
    Between {
        value: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    /// `x [not] in (literal, …)`. Items are literals, possibly negated numbers.
    InList {
        value: Box<Expr>,
        items: Vec<Expr>,
        negated: bool,
    },
    /// `x is [not] null`.
    IsNull {
        value: Box<Expr>,
        negated: bool,
    },
    /// `s contains "…"`, `s starts with "…"`, `s ends with "…"`.
    Match {
        value: Box<Expr>,
        op: MatchOp,
        op_span: Span,
        pattern: StringLit,
    },
    /// `in segment NAME`; `not in segment NAME` is `Not` around it.
    InSegment(Ident),
    /// `name(args)`: functions and table aggregates alike.
    Call {
        function: Ident,
        args: Vec<Expr>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Number(NumberLit),
    String(String),
    Bool(bool),
    Null,
    /// `date "YYYY-MM-DD"`: the text between the quotes, checked later.
    Date(StringLit),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicOp {
    And,
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    /// Every operator, in declaration order.
    pub const ALL: [CompareOp; 6] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Lt,
        CompareOp::Le,
        CompareOp::Gt,
        CompareOp::Ge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    Contains,
    StartsWith,
    EndsWith,
}
