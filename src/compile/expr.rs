//! Typed expressions as SQL, with the parentheses that SQL's precedence needs and no more.
//!
//! Each construct is written so that the engine computes the value `segc run` computes:
//! arithmetic in doubles, division by zero as null, three-valued logic as SQL has it,
//! strings compared by bytes, table aggregates over the whole table.

use crate::check::ir::{Aggregate, ExprKind, Function, Scalar, Type, TypedExpr};
use crate::config::{Config, TableConfig};
use crate::data::format_date;
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};
use crate::syntax::ast::{ArithOp, CompareOp, MatchOp};

use super::casing;
use super::dialect::Dialect;

/// How tightly an SQL expression binds; a child that binds less tightly than its place
/// needs is put in parentheses.
type Precedence = u8;

pub const OR: Precedence = 1;
pub const AND: Precedence = 2;
pub const NOT: Precedence = 3;
const COMPARE: Precedence = 4;
const ADD: Precedence = 5;
const MUL: Precedence = 6;
const NEG: Precedence = 7;
pub const ATOM: Precedence = 8;

/// A piece of SQL and how tightly it binds.
#[derive(Debug, Clone)]
pub struct Sql {
    pub text: String,
    pub precedence: Precedence,
}

impl Sql {
    fn new(text: String, precedence: Precedence) -> Sql {
        Sql { text, precedence }
    }

    fn atom(text: String) -> Sql {
        Sql::new(text, ATOM)
    }

    /// The text, in parentheses unless it binds at least as tightly as `needed`.
    pub fn at(&self, needed: Precedence) -> String {
        if self.precedence >= needed {
            self.text.clone()
        } else {
            format!("({})", self.text)
        }
    }
}

/// Writes the expressions of one segment that draws from `table`.
pub struct ExprWriter<'a> {
    pub dialect: Dialect,
    pub config: &'a Config,
    pub table: &'a TableConfig,
    pub file: FileId,
    /// The name by which another segment's members are read: a CTE or a view.
    pub segment_source: &'a dyn Fn(usize) -> (String, String),
    pub problems: &'a mut Vec<Diagnostic>,
}

impl ExprWriter<'_> {
    fn ident(&self, name: &str) -> String {
        self.dialect.ident(name)
    }

    fn unsupported(&mut self, span: Span, what: &str, help: &str) {
        self.problems.push(
            Diagnostic::new(
                Code::Unsupported,
                format!("{what} cannot be compiled exactly for `{}`", self.dialect),
            )
            .at(
                self.file,
                span,
                format!("not expressible in {} SQL", self.dialect),
            )
            .help(help.to_string()),
        );
    }

    /// A condition or value as SQL.
    pub fn expr(&mut self, expr: &TypedExpr) -> Sql {
        match &expr.kind {
            ExprKind::Column(name) => Sql::atom(self.ident(name)),
            ExprKind::Const(scalar) => self.constant(scalar, expr.span, false),
            ExprKind::ToNumber(inner) => {
                let inner = self.expr(inner);
                Sql::atom(self.dialect.to_double(&inner.text))
            }
            ExprKind::Neg(inner) => {
                let inner = self.expr(inner);
                // `--` would start a comment, so anything but a plain name gets parentheses.
                let operand = if inner.precedence == ATOM && !inner.text.starts_with('-') {
                    inner.text
                } else {
                    format!("({})", inner.text)
                };
                Sql::new(format!("-{operand}"), NEG)
            }
            ExprKind::Not(inner) => {
                let inner = self.expr(inner);
                Sql::new(format!("NOT {}", inner.at(ATOM)), NOT)
            }
            ExprKind::And(a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                Sql::new(format!("{} AND {}", a.at(AND), b.at(AND)), AND)
            }
            ExprKind::Or(a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                Sql::new(format!("{} OR {}", a.at(OR), b.at(OR)), OR)
            }
            ExprKind::Compare(op, a, b) => self.compare(*op, a, b),
            ExprKind::Arith(op, a, b) => self.arith(*op, a, b),
            ExprKind::InList {
                value,
                items,
                negated,
            } => {
                let bare = !is_const(value);
                let value = self.expr(value);
                let items: Vec<String> = items
                    .iter()
                    .map(|item| self.constant(item, expr.span, bare).text)
                    .collect();
                let not = if *negated { "NOT " } else { "" };
                Sql::new(
                    format!("{} {not}IN ({})", value.at(ADD), items.join(", ")),
                    COMPARE,
                )
            }
            ExprKind::IsNull { value, negated } => {
                let value = self.expr(value);
                let not = if *negated { "NOT " } else { "" };
                Sql::new(format!("{} IS {not}NULL", value.at(ADD)), COMPARE)
            }
            ExprKind::Match { value, op, pattern } => {
                let value = self.expr(value);
                self.matches(*op, &value.text, pattern, expr.span)
            }
            ExprKind::InSegment(id) => {
                let key = self.ident(&self.table.key);
                let (source, member_key) = (self.segment_source)(*id);
                Sql::new(
                    format!("{key} IN (SELECT {member_key} FROM {source})"),
                    COMPARE,
                )
            }
            ExprKind::Call(function, args) => self.call(*function, args, expr.span),
            ExprKind::Aggregate {
                function,
                column,
                fraction,
            } => Sql::atom(self.aggregate(*function, column, *fraction)),
        }
    }

    /// A constant. `bare` allows a number to stay an untyped decimal because the other
    /// operand is a double, which makes every engine convert it exactly.
    fn constant(&mut self, scalar: &Scalar, span: Span, bare: bool) -> Sql {
        let text = match scalar {
            Scalar::Null => "NULL".to_string(),
            Scalar::Bool(true) => "TRUE".to_string(),
            Scalar::Bool(false) => "FALSE".to_string(),
            // `i64::MIN` has no literal of its own: its digits overflow before the sign.
            Scalar::Integer(i64::MIN) => format!("({} - 1)", i64::MIN + 1),
            Scalar::Integer(value) => value.to_string(),
            Scalar::Number(value) if bare => self.dialect.bare_number(*value),
            Scalar::Number(value) => self.dialect.double_literal(*value),
            Scalar::Date(days) => format!("DATE '{}'", format_date(*days)),
            Scalar::String(text) => {
                if !self.dialect.holds_string(text) {
                    self.unsupported(
                        span,
                        "a string with the NUL character",
                        "remove the `\\u{0}` from the string",
                    );
                }
                self.dialect.string(text)
            }
        };
        let negative = text.starts_with('-') || text.starts_with("(-");
        Sql::new(text, if negative { NEG } else { ATOM })
    }

    fn operand(&mut self, expr: &TypedExpr, other: &TypedExpr) -> Sql {
        match &expr.kind {
            ExprKind::Const(scalar) => self.constant(scalar, expr.span, !is_const(other)),
            _ => self.expr(expr),
        }
    }

    fn compare(&mut self, op: CompareOp, a: &TypedExpr, b: &TypedExpr) -> Sql {
        let (lhs, rhs) = (self.operand(a, b), self.operand(b, a));
        let symbol = match op {
            CompareOp::Eq => "=",
            CompareOp::Ne => "<>",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        };
        let ordering = !matches!(op, CompareOp::Eq | CompareOp::Ne);
        let strings = a.ty == Type::String || b.ty == Type::String;
        let collation = if ordering && strings {
            self.dialect.byte_order()
        } else {
            ""
        };
        Sql::new(
            format!("{} {symbol} {}{collation}", lhs.at(ADD), rhs.at(ADD)),
            COMPARE,
        )
    }

    /// Arithmetic in doubles, as segc does it; the right operand of a subtraction or
    /// division keeps its parentheses, and so does any right operand of the same level, so
    /// the engine adds in the order written (floating-point addition is not associative).
    fn arith(&mut self, op: ArithOp, a: &TypedExpr, b: &TypedExpr) -> Sql {
        let double = |writer: &mut Self, expr: &TypedExpr, other: &TypedExpr| -> Sql {
            let sql = writer.operand(expr, other);
            if matches!(expr.ty, Type::Number) || matches!(expr.kind, ExprKind::Const(_)) {
                sql
            } else {
                Sql::atom(writer.dialect.to_double(&sql.text))
            }
        };
        let (lhs, rhs) = (double(self, a, b), double(self, b, a));
        let (symbol, level) = match op {
            ArithOp::Add => ("+", ADD),
            ArithOp::Sub => ("-", ADD),
            ArithOp::Mul => ("*", MUL),
            ArithOp::Div => ("/", MUL),
        };
        let right = if op == ArithOp::Div && !is_nonzero_const(b) {
            // Division by zero is null in segc; some engines raise an error instead.
            format!("NULLIF({}, 0)", rhs.text)
        } else {
            rhs.at(level + 1)
        };
        Sql::new(format!("{} {symbol} {right}", lhs.at(level)), level)
    }

    fn matches(&mut self, op: MatchOp, value: &str, pattern: &str, span: Span) -> Sql {
        if !self.dialect.holds_string(pattern) {
            self.unsupported(
                span,
                "a pattern with the NUL character",
                "remove the `\\u{0}` from the pattern",
            );
        }
        let literal = self.dialect.string(pattern);
        let call = |name: &str| Sql::atom(format!("{name}({value}, {literal})"));
        match (self.dialect, op) {
            (Dialect::DuckDb | Dialect::Spark, MatchOp::Contains) => call("contains"),
            (Dialect::DuckDb, MatchOp::StartsWith) => call("starts_with"),
            (Dialect::DuckDb, MatchOp::EndsWith) => call("ends_with"),
            (Dialect::Spark, MatchOp::StartsWith) => call("startswith"),
            (Dialect::Spark, MatchOp::EndsWith) => call("endswith"),
            (Dialect::Postgres, MatchOp::Contains) => {
                Sql::new(format!("strpos({value}, {literal}) > 0"), COMPARE)
            }
            (Dialect::Postgres, MatchOp::StartsWith) => call("starts_with"),
            (Dialect::Postgres, MatchOp::EndsWith) => {
                // The last characters, as many as the pattern has, are the pattern.
                let count = pattern.chars().count();
                Sql::new(format!("right({value}, {count}) = {literal}"), COMPARE)
            }
        }
    }

    fn call(&mut self, function: Function, args: &[TypedExpr], span: Span) -> Sql {
        match function {
            Function::Lower | Function::Upper => {
                let arg = self.expr(&args[0]);
                match casing::change_case(self.dialect, function, &arg.text) {
                    Some(text) => Sql::atom(text),
                    None => {
                        let name = if function == Function::Lower {
                            "lower"
                        } else {
                            "upper"
                        };
                        self.unsupported(
                            span,
                            &format!("`{name}`"),
                            "compare with the spellings the data has instead",
                        );
                        Sql::atom(format!("{name}({})", arg.text))
                    }
                }
            }
            Function::Length => {
                let arg = self.expr(&args[0]);
                let name = match self.dialect {
                    Dialect::DuckDb => "length",
                    Dialect::Spark | Dialect::Postgres => "char_length",
                };
                Sql::atom(format!("{name}({})", arg.text))
            }
            Function::Abs => {
                let arg = self.expr(&args[0]);
                Sql::atom(format!("abs({})", arg.text))
            }
            Function::Round => {
                let digits = match args.get(1).map(|a| &a.kind) {
                    Some(ExprKind::Const(Scalar::Integer(digits))) => *digits,
                    _ => 0,
                };
                let value = self.expr(&args[0]);
                let value = if args[0].ty == Type::Number {
                    value
                } else {
                    Sql::atom(self.dialect.to_double(&value.text))
                };
                self.round(&value, digits)
            }
            Function::Coalesce => {
                let bare = args.iter().any(|arg| !is_const(arg));
                let args: Vec<String> = args
                    .iter()
                    .map(|arg| match &arg.kind {
                        ExprKind::Const(scalar) => self.constant(scalar, arg.span, bare).text,
                        _ => self.expr(arg).text,
                    })
                    .collect();
                Sql::atom(format!("COALESCE({})", args.join(", ")))
            }
            Function::DaysSince => {
                let arg = self.expr(&args[0]);
                let as_of = format!("DATE '{}'", self.config_as_of());
                match self.dialect {
                    Dialect::Spark => Sql::atom(format!("datediff({as_of}, {})", arg.text)),
                    Dialect::DuckDb | Dialect::Postgres => {
                        Sql::new(format!("{as_of} - {}", arg.at(ADD + 1)), ADD)
                    }
                }
            }
        }
    }

    fn config_as_of(&self) -> String {
        format_date(self.config.as_of.map_or(0, |(days, _)| days))
    }

    /// `round(x, d)` as segc computes it: `x × 10^d` rounded half away from zero, divided
    /// by `10^d` (for negative `d`, divided first and multiplied after), and `x` itself when
    /// the scaled value overflows. The power of ten is the very double segc multiplies by.
    fn round(&self, value: &Sql, digits: i64) -> Sql {
        let digits = digits.clamp(-308, 308) as i32;
        if digits == 0 {
            return Sql::atom(self.round_half_away(&value.text));
        }
        let factor = 10f64.powi(digits.abs());
        let factor_sql = self.dialect.bare_number(factor);
        let x = value.at(MUL + 1);
        let scaled = if digits >= 0 {
            format!("{x} * {factor_sql}")
        } else {
            format!("{x} / {factor_sql}")
        };
        let rounded = self.round_half_away(&scaled);
        let back = if digits >= 0 {
            format!("{rounded} / {factor_sql}")
        } else {
            format!("{rounded} * {factor_sql}")
        };
        if digits < 0 {
            // Dividing by a power of ten cannot overflow.
            return Sql::new(back, MUL);
        }
        let overflows = match self.dialect {
            Dialect::DuckDb => format!("isinf({scaled})"),
            Dialect::Postgres => format!("abs({scaled}) = 'Infinity'::float8"),
            Dialect::Spark => format!("abs({scaled}) = CAST('Infinity' AS DOUBLE)"),
        };
        Sql::atom(format!(
            "CASE WHEN {overflows} THEN {} ELSE {back} END",
            value.text
        ))
    }

    /// Rounds a double to a whole number, half away from zero. PostgreSQL's `round` on a
    /// double rounds half to even, so there the whole part is kept and one added (with the
    /// sign) when the fraction is at least one half: the fraction of a double is exact.
    fn round_half_away(&self, scaled: &str) -> String {
        match self.dialect {
            Dialect::DuckDb | Dialect::Spark => format!("round({scaled})"),
            Dialect::Postgres => format!(
                "(trunc({scaled}) + CASE WHEN abs({scaled} - trunc({scaled})) >= 0.5 \
                 THEN sign({scaled}) ELSE 0 END)"
            ),
        }
    }

    /// A table aggregate: a subquery over the whole table, nulls left out.
    fn aggregate(&mut self, function: Aggregate, column: &str, fraction: Option<f64>) -> String {
        let table = self.ident(&self.table.name);
        let column = self.ident(column);
        let double = self.dialect.to_double(&column);
        match function {
            Aggregate::Min => format!("(SELECT min({column}) FROM {table})"),
            Aggregate::Max => format!("(SELECT max({column}) FROM {table})"),
            Aggregate::Sum => format!("(SELECT sum({double}) FROM {table})"),
            Aggregate::Avg => format!("(SELECT avg({double}) FROM {table})"),
            // The two-pass formula segc uses: the mean first, then the squared deviations.
            Aggregate::Stddev => format!(
                "(SELECT sqrt(sum((v - m) * (v - m)) / NULLIF(count(*) - 1, 0)) \
                 FROM (SELECT {double} AS v, avg({double}) OVER () AS m FROM {table} \
                 WHERE {column} IS NOT NULL) AS deviations)"
            ),
            Aggregate::Median | Aggregate::Percentile => {
                let fraction = if function == Aggregate::Median {
                    0.5
                } else {
                    fraction.unwrap_or(0.5)
                };
                self.percentile(&table, &column, fraction)
            }
        }
    }

    /// The continuous percentile: the values sorted, position `p × (n − 1)`, and linear
    /// interpolation `low + (high − low) × (position − floor(position))`. DuckDB's and
    /// PostgreSQL's `percentile_cont` compute exactly that; Spark's weighs the two values
    /// the other way round, which can differ in the last bit, so there it is spelled out.
    fn percentile(&self, table: &str, column: &str, fraction: f64) -> String {
        let double = self.dialect.to_double(column);
        match self.dialect {
            Dialect::DuckDb | Dialect::Postgres => format!(
                "(SELECT percentile_cont({}) WITHIN GROUP (ORDER BY {double}) FROM {table})",
                self.dialect.bare_number(fraction)
            ),
            Dialect::Spark => {
                let p = self.dialect.double_literal(fraction);
                let low = "max(CASE WHEN i = floor(p) THEN v END)";
                let high = "max(CASE WHEN i = ceil(p) THEN v END)";
                format!(
                    "(SELECT {low} + ({high} - {low}) * (max(p) - floor(max(p))) \
                     FROM (SELECT v, row_number() OVER (ORDER BY v) - 1 AS i, \
                     {p} * (count(*) OVER () - 1) AS p \
                     FROM (SELECT {double} AS v FROM {table} WHERE {column} IS NOT NULL) \
                     AS present) AS positions)"
                )
            }
        }
    }
}

fn is_const(expr: &TypedExpr) -> bool {
    matches!(expr.kind, ExprKind::Const(_))
}

fn is_nonzero_const(expr: &TypedExpr) -> bool {
    match expr.kind {
        ExprKind::Const(Scalar::Number(value)) => value != 0.0 && !value.is_nan(),
        ExprKind::Const(Scalar::Integer(value)) => value != 0,
        _ => false,
    }
}
