//! Expressions lowered against a loaded table, and evaluated one chunk of rows at a time.
//!
//! Lowering resolves what is the same for every row once: columns become slices, table
//! aggregates become constants, `in segment` becomes a bitmap over the table's keys, and
//! a string predicate on a column is decided once per distinct string.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use crate::check::ir::{Aggregate, ExprKind, Function, Scalar, SegmentId, Type, TypedExpr};
use crate::data::{ColumnData, Table, NULL_CODE, NULL_DATE, NULL_INT};
use crate::syntax::ast::{ArithOp, CompareOp, MatchOp};

use super::vector::{self, Dict, NullAs, Vector, FALSE, TRUE, UNKNOWN};
use super::Bits;

/// An expression ready to evaluate over rows of one table.
#[derive(Debug, Clone)]
pub enum Node<'t> {
    Column(&'t ColumnData),
    /// A string source: codes per row into a dictionary.
    Strings(&'t [u32], Dict<'t>),
    Const(Scalar, NullAs),
    ToNumber(Box<Node<'t>>),
    Neg(Box<Node<'t>>),
    Not(Box<Node<'t>>),
    And(Box<Node<'t>>, Box<Node<'t>>),
    Or(Box<Node<'t>>, Box<Node<'t>>),
    Compare(CompareOp, Box<Node<'t>>, Box<Node<'t>>),
    Arith(ArithOp, Box<Node<'t>>, Box<Node<'t>>),
    InList {
        value: Box<Node<'t>>,
        items: Vec<Scalar>,
        negated: bool,
    },
    IsNull {
        value: Box<Node<'t>>,
        negated: bool,
    },
    Match {
        value: Box<Node<'t>>,
        op: MatchOp,
        pattern: Arc<str>,
    },
    /// A truth value decided once per distinct string, looked up through the row's code.
    PerCode(&'t [u32], Arc<Vec<u8>>),
    /// An integer decided once per distinct string (`length`).
    PerCodeInteger(&'t [u32], Arc<Vec<i64>>),
    /// Whether the row's key is a member of another segment.
    InSegment(&'t [u32], Arc<Bits>),
    /// The same, on a table whose rows are its keys (see `Table::order_by_key`).
    MembersByRow(Arc<Bits>),
    /// `column op constant` on a number column, read straight from the column: the common
    /// `ChurnScore >= 0.7`. A constant written on the left has its operator mirrored.
    NumberAgainst(CompareOp, &'t [f64], f64),
    /// The same on an integer column and an integer.
    IntegerAgainst(CompareOp, &'t [i64], i64),
    Call(Function, Vec<Node<'t>>),
    DaysSince(Box<Node<'t>>, i32),
}

/// `column op constant` read straight from a number or integer column, when `column` is
/// one and `constant` a value of its type (an integer constant for a number column too).
fn against_constant<'t>(op: CompareOp, column: &Node<'t>, constant: &Node<'t>) -> Option<Node<'t>> {
    let number = |node: &Node<'t>| match node {
        Node::Const(Scalar::Number(x), _) => Some(*x),
        Node::ToNumber(inner) => match &**inner {
            Node::Const(Scalar::Integer(i), _) if *i != NULL_INT => Some(*i as f64),
            _ => None,
        },
        _ => None,
    };
    match column {
        Node::Column(ColumnData::Number(values)) => Some(Node::NumberAgainst(
            op,
            values,
            number(constant).filter(|x| !x.is_nan())?,
        )),
        Node::Column(ColumnData::Integer(values)) => match constant {
            Node::Const(Scalar::Integer(i), _) if *i != NULL_INT => {
                Some(Node::IntegerAgainst(op, values, *i))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The operator with its sides swapped: `c < x` is `x > c`.
fn mirrored(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::Le => CompareOp::Ge,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::Ge => CompareOp::Le,
        op => op,
    }
}

/// `x op constant` for each value, unknown where `is_null`. The operator is matched once,
/// outside the loop, so that each loop is a plain compare and select the compiler can run
/// over several values at a time.
fn against<T: PartialOrd + Copy>(
    values: &[T],
    op: CompareOp,
    constant: T,
    is_null: impl Fn(T) -> bool + Copy,
) -> Vec<u8> {
    match op {
        CompareOp::Eq => each_value(values, is_null, |x| x == constant),
        CompareOp::Ne => each_value(values, is_null, |x| x != constant),
        CompareOp::Lt => each_value(values, is_null, |x| x < constant),
        CompareOp::Le => each_value(values, is_null, |x| x <= constant),
        CompareOp::Gt => each_value(values, is_null, |x| x > constant),
        CompareOp::Ge => each_value(values, is_null, |x| x >= constant),
    }
}

fn each_value<T: Copy>(
    values: &[T],
    is_null: impl Fn(T) -> bool,
    test: impl Fn(T) -> bool,
) -> Vec<u8> {
    values
        .iter()
        .map(|&x| {
            if is_null(x) {
                UNKNOWN
            } else {
                u8::from(test(x))
            }
        })
        .collect()
}

/// The same comparison written `constant op column`.
fn flip(node: Node<'_>) -> Node<'_> {
    match node {
        Node::NumberAgainst(op, values, constant) => {
            Node::NumberAgainst(mirrored(op), values, constant)
        }
        Node::IntegerAgainst(op, values, constant) => {
            Node::IntegerAgainst(mirrored(op), values, constant)
        }
        other => other,
    }
}

/// Table aggregates computed so far, shared by all segments of a run.
#[derive(Debug, Default)]
pub struct AggregateCache {
    values: Mutex<HashMap<(String, String, Aggregate, u64), Scalar>>,
}

/// What lowering needs besides the expression.
pub struct Lowering<'t, 'c> {
    pub table: &'t Table,
    pub as_of: Option<i32>,
    /// Membership of each referenced segment, by the table's key ids.
    pub memberships: &'c HashMap<SegmentId, Arc<Bits>>,
    pub aggregates: &'c AggregateCache,
}

fn null_as(ty: Type) -> NullAs {
    match ty {
        Type::Integer => NullAs::Integer,
        Type::Number => NullAs::Number,
        Type::Date => NullAs::Date,
        Type::String => NullAs::String,
        Type::Bool | Type::Null | Type::Unknown => NullAs::Bool,
    }
}

impl<'t> Lowering<'t, '_> {
    pub fn lower(&self, expr: &TypedExpr) -> Node<'t> {
        self.lower_as(expr, null_as(expr.ty))
    }

    fn lower_as(&self, expr: &TypedExpr, hint: NullAs) -> Node<'t> {
        let boxed = |e: &TypedExpr, hint: NullAs| Box::new(self.lower_as(e, hint));
        match &expr.kind {
            ExprKind::Column(name) => self.column(name),
            ExprKind::Const(scalar) => Node::Const(scalar.clone(), hint),
            ExprKind::ToNumber(inner) => Node::ToNumber(boxed(inner, NullAs::Integer)),
            ExprKind::Neg(inner) => Node::Neg(boxed(inner, null_as(expr.ty))),
            ExprKind::Not(inner) => Node::Not(boxed(inner, NullAs::Bool)),
            ExprKind::And(a, b) => Node::And(boxed(a, NullAs::Bool), boxed(b, NullAs::Bool)),
            ExprKind::Or(a, b) => Node::Or(boxed(a, NullAs::Bool), boxed(b, NullAs::Bool)),
            ExprKind::Compare(op, a, b) => {
                let hint = null_as(if a.ty.is_known() { a.ty } else { b.ty });
                let (lhs, rhs) = (self.lower_as(a, hint), self.lower_as(b, hint));
                match (&lhs, &rhs) {
                    (Node::Strings(codes, dict), Node::Const(Scalar::String(text), _)) => {
                        let per_code = dict.map(|s| {
                            u8::from(vector::holds(*op, s.as_bytes().cmp(text.as_bytes())))
                        });
                        Node::PerCode(codes, Arc::new(per_code))
                    }
                    (Node::Const(Scalar::String(text), _), Node::Strings(codes, dict)) => {
                        let per_code = dict.map(|s| {
                            u8::from(vector::holds(*op, text.as_bytes().cmp(s.as_bytes())))
                        });
                        Node::PerCode(codes, Arc::new(per_code))
                    }
                    _ => against_constant(*op, &lhs, &rhs)
                        .or_else(|| against_constant(*op, &rhs, &lhs).map(flip))
                        .unwrap_or_else(|| Node::Compare(*op, Box::new(lhs), Box::new(rhs))),
                }
            }
            ExprKind::Arith(op, a, b) => {
                Node::Arith(*op, boxed(a, NullAs::Number), boxed(b, NullAs::Number))
            }
            ExprKind::InList {
                value,
                items,
                negated,
            } => {
                let value = self.lower_as(value, null_as(value.ty));
                if let Node::Strings(codes, dict) = &value {
                    let per_code = dict.map(|s| {
                        let found = items
                            .iter()
                            .any(|item| matches!(item, Scalar::String(t) if **t == *s));
                        u8::from(found != *negated)
                    });
                    return Node::PerCode(codes, Arc::new(per_code));
                }
                Node::InList {
                    value: Box::new(value),
                    items: items.clone(),
                    negated: *negated,
                }
            }
            ExprKind::IsNull { value, negated } => Node::IsNull {
                value: boxed(value, null_as(value.ty)),
                negated: *negated,
            },
            ExprKind::Match { value, op, pattern } => {
                let value = self.lower_as(value, NullAs::String);
                if let Node::Strings(codes, dict) = &value {
                    let per_code = dict.map(|s| u8::from(matches_text(*op, s, pattern)));
                    return Node::PerCode(codes, Arc::new(per_code));
                }
                Node::Match {
                    value: Box::new(value),
                    op: *op,
                    pattern: Arc::clone(pattern),
                }
            }
            ExprKind::InSegment(id) => {
                let members = self.memberships.get(id).cloned().unwrap_or_else(|| {
                    // A segment the plan did not evaluate has no members.
                    Arc::new(Bits::new(self.table.keys.len()))
                });
                if self.table.rows_are_keys {
                    return Node::MembersByRow(members);
                }
                Node::InSegment(&self.table.keys.row_key, members)
            }
            ExprKind::Call(function, args) => self.call(*function, args, expr.ty),
            ExprKind::Aggregate {
                function,
                column,
                fraction,
            } => Node::Const(self.aggregate(*function, column, *fraction), hint),
        }
    }

    fn column(&self, name: &str) -> Node<'t> {
        let table = self.table;
        if name == table.key_column {
            return Node::Strings(&table.keys.row_key, Dict::Keys(&table.keys));
        }
        match table.column(name).map(|column| &column.data) {
            Some(ColumnData::String(strings)) => {
                Node::Strings(&strings.codes, Dict::Column(&strings.dict))
            }
            Some(data) => Node::Column(data),
            // The planner loads every column an expression names.
            None => Node::Const(Scalar::Null, NullAs::Bool),
        }
    }

    fn call(&self, function: Function, args: &[TypedExpr], ty: Type) -> Node<'t> {
        match function {
            Function::Lower | Function::Upper => {
                let arg = self.lower_as(&args[0], NullAs::String);
                if let Node::Strings(codes, dict) = &arg {
                    let mapped = dict.map(|s| change_case(function, s));
                    return Node::Strings(codes, Dict::Owned(Arc::new(mapped)));
                }
                Node::Call(function, vec![arg])
            }
            Function::Length => {
                let arg = self.lower_as(&args[0], NullAs::String);
                if let Node::Strings(codes, dict) = &arg {
                    let lengths = dict.map(|s| s.chars().count() as i64);
                    return Node::PerCodeInteger(codes, Arc::new(lengths));
                }
                Node::Call(function, vec![arg])
            }
            Function::DaysSince => {
                let arg = self.lower_as(&args[0], NullAs::Date);
                Node::DaysSince(Box::new(arg), self.as_of.unwrap_or(0))
            }
            _ => Node::Call(
                function,
                args.iter()
                    .map(|arg| self.lower_as(arg, null_as(ty)))
                    .collect(),
            ),
        }
    }

    fn aggregate(&self, function: Aggregate, column: &str, fraction: Option<f64>) -> Scalar {
        let key = (
            self.table.name.clone(),
            column.to_string(),
            function,
            fraction.unwrap_or(0.0).to_bits(),
        );
        let cached = self
            .aggregates
            .values
            .lock()
            .ok()
            .and_then(|v| v.get(&key).cloned());
        if let Some(value) = cached {
            return value;
        }
        let value = match self.table.column(column).map(|c| &c.data) {
            // Sums depend on the order they add in: the file's, as everywhere.
            Some(data) => aggregate(function, &self.table.in_file_order(data), fraction),
            None => Scalar::Null,
        };
        if let Ok(mut values) = self.aggregates.values.lock() {
            values.insert(key, value.clone());
        }
        value
    }
}

fn change_case(function: Function, text: &str) -> Box<str> {
    match function {
        Function::Upper => text.to_uppercase().into(),
        _ => text.to_lowercase().into(),
    }
}

fn matches_text(op: MatchOp, text: &str, pattern: &str) -> bool {
    match op {
        MatchOp::Contains => text.contains(pattern),
        MatchOp::StartsWith => text.starts_with(pattern),
        MatchOp::EndsWith => text.ends_with(pattern),
    }
}

/// A table aggregate over the non-null values of a column.
pub fn aggregate(function: Aggregate, data: &ColumnData, fraction: Option<f64>) -> Scalar {
    match (function, data) {
        (Aggregate::Min | Aggregate::Max, ColumnData::Integer(values)) => {
            let present = values.iter().copied().filter(|&v| v != NULL_INT);
            let best = if function == Aggregate::Min {
                present.min()
            } else {
                present.max()
            };
            best.map_or(Scalar::Null, Scalar::Integer)
        }
        (Aggregate::Min | Aggregate::Max, ColumnData::Date(values)) => {
            let present = values.iter().copied().filter(|&v| v != NULL_DATE);
            let best = if function == Aggregate::Min {
                present.min()
            } else {
                present.max()
            };
            best.map_or(Scalar::Null, Scalar::Date)
        }
        _ => {
            let values: Vec<f64> = match data {
                ColumnData::Number(values) => {
                    values.iter().copied().filter(|v| !v.is_nan()).collect()
                }
                ColumnData::Integer(values) => values
                    .iter()
                    .filter(|&&v| v != NULL_INT)
                    .map(|&v| v as f64)
                    .collect(),
                _ => Vec::new(),
            };
            numeric_aggregate(function, values, fraction).map_or(Scalar::Null, Scalar::Number)
        }
    }
}

fn numeric_aggregate(
    function: Aggregate,
    mut values: Vec<f64>,
    fraction: Option<f64>,
) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let count = values.len() as f64;
    let sum = || values.iter().sum::<f64>();
    match function {
        Aggregate::Sum => Some(sum()),
        Aggregate::Avg => Some(sum() / count),
        Aggregate::Min => values.iter().copied().reduce(f64::min),
        Aggregate::Max => values.iter().copied().reduce(f64::max),
        Aggregate::Stddev => {
            if values.len() < 2 {
                return None;
            }
            let mean = sum() / count;
            let squares: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
            Some((squares / (count - 1.0)).sqrt())
        }
        Aggregate::Median | Aggregate::Percentile => {
            let fraction = if function == Aggregate::Median {
                0.5
            } else {
                fraction?
            };
            values.sort_unstable_by(|a, b| vector::cmp_f64(*a, *b));
            let position = fraction * (count - 1.0);
            let below = position.floor();
            let low = values[below as usize];
            let high = values[position.ceil() as usize];
            Some(low + (high - low) * (position - below))
        }
    }
}

impl<'t> Node<'t> {
    /// The values of this expression on rows `rows`.
    pub fn eval(&self, rows: Range<usize>) -> Vector<'t> {
        let len = rows.len();
        match self {
            Node::Column(data) => match data {
                ColumnData::Bool(v) => Vector::Bool(v[rows].to_vec()),
                ColumnData::Integer(v) => Vector::Integer(v[rows].to_vec()),
                ColumnData::Number(v) => Vector::Number(v[rows].to_vec()),
                ColumnData::Date(v) => Vector::Date(v[rows].to_vec()),
                ColumnData::String(s) => Vector::Str(s.codes[rows].to_vec(), Dict::Column(&s.dict)),
            },
            Node::Strings(codes, dict) => Vector::Str(codes[rows].to_vec(), dict.clone()),
            Node::Const(scalar, null_as) => Vector::broadcast(scalar, len, *null_as),
            Node::ToNumber(inner) => match inner.eval(rows) {
                Vector::Integer(v) => Vector::Number(
                    v.iter()
                        .map(|&i| if i == NULL_INT { f64::NAN } else { i as f64 })
                        .collect(),
                ),
                other => other,
            },
            Node::Neg(inner) => match inner.eval(rows) {
                Vector::Integer(v) => Vector::Integer(
                    v.iter()
                        .map(|&i| {
                            if i == NULL_INT {
                                NULL_INT
                            } else {
                                i.wrapping_neg()
                            }
                        })
                        .collect(),
                ),
                Vector::Number(v) => Vector::Number(v.iter().map(|f| -f).collect()),
                other => other,
            },
            Node::Not(inner) => Vector::Bool(vector::not(&inner.eval(rows).into_bool())),
            Node::And(a, b) => {
                let a = a.eval(rows.clone()).into_bool();
                if a.iter().all(|&t| t == FALSE) {
                    return Vector::Bool(a);
                }
                Vector::Bool(vector::and(&a, &b.eval(rows).into_bool()))
            }
            Node::Or(a, b) => {
                let a = a.eval(rows.clone()).into_bool();
                if a.iter().all(|&t| t == TRUE) {
                    return Vector::Bool(a);
                }
                Vector::Bool(vector::or(&a, &b.eval(rows).into_bool()))
            }
            Node::Compare(op, a, b) => {
                Vector::Bool(vector::compare(*op, &a.eval(rows.clone()), &b.eval(rows)))
            }
            Node::Arith(op, a, b) => arith(*op, a.eval(rows.clone()), b.eval(rows)),
            Node::InList {
                value,
                items,
                negated,
            } => in_list(value.eval(rows), items, *negated),
            Node::IsNull { value, negated } => Vector::Bool(
                value
                    .eval(rows)
                    .nulls()
                    .into_iter()
                    .map(|null| u8::from(null != *negated))
                    .collect(),
            ),
            Node::Match { value, op, pattern } => match value.eval(rows) {
                Vector::Str(codes, dict) => Vector::Bool(
                    codes
                        .iter()
                        .map(|&c| {
                            if c == NULL_CODE {
                                UNKNOWN
                            } else {
                                u8::from(matches_text(*op, dict.get(c), pattern))
                            }
                        })
                        .collect(),
                ),
                other => Vector::Bool(vec![UNKNOWN; other.len()]),
            },
            // Every code but the null one, which lies past the end, has an entry.
            Node::PerCode(codes, per_code) => Vector::Bool(
                codes[rows]
                    .iter()
                    .map(|&c| per_code.get(c as usize).copied().unwrap_or(UNKNOWN))
                    .collect(),
            ),
            Node::PerCodeInteger(codes, per_code) => Vector::Integer(
                codes[rows]
                    .iter()
                    .map(|&c| {
                        if c == NULL_CODE {
                            NULL_INT
                        } else {
                            per_code[c as usize]
                        }
                    })
                    .collect(),
            ),
            Node::NumberAgainst(op, values, constant) => {
                Vector::Bool(against(&values[rows], *op, *constant, f64::is_nan))
            }
            Node::IntegerAgainst(op, values, constant) => {
                Vector::Bool(against(&values[rows], *op, *constant, |x| x == NULL_INT))
            }
            Node::MembersByRow(members) => {
                Vector::Bool(rows.map(|row| u8::from(members.contains(row))).collect())
            }
            Node::InSegment(row_key, members) => Vector::Bool(
                row_key[rows]
                    .iter()
                    .map(|&k| u8::from(members.contains(k as usize)))
                    .collect(),
            ),
            Node::Call(function, args) => call(*function, args, rows),
            Node::DaysSince(arg, as_of) => match arg.eval(rows) {
                Vector::Date(days) => Vector::Integer(
                    days.iter()
                        .map(|&d| {
                            if d == NULL_DATE {
                                NULL_INT
                            } else {
                                i64::from(*as_of) - i64::from(d)
                            }
                        })
                        .collect(),
                ),
                other => Vector::Integer(vec![NULL_INT; other.len()]),
            },
        }
    }
}

fn arith<'t>(op: ArithOp, lhs: Vector<'t>, rhs: Vector<'t>) -> Vector<'t> {
    let (Vector::Number(a), Vector::Number(b)) = (&lhs, &rhs) else {
        return Vector::Number(vec![f64::NAN; lhs.len()]);
    };
    let apply = |x: f64, y: f64| match op {
        ArithOp::Add => x + y,
        ArithOp::Sub => x - y,
        ArithOp::Mul => x * y,
        // Division by zero is null, as in SQL engines that do not raise.
        ArithOp::Div if y == 0.0 => f64::NAN,
        ArithOp::Div => x / y,
    };
    Vector::Number(a.iter().zip(b).map(|(&x, &y)| apply(x, y)).collect())
}

fn in_list<'t>(value: Vector<'t>, items: &[Scalar], negated: bool) -> Vector<'t> {
    let hit = |found: bool| u8::from(found != negated);
    let result = match &value {
        Vector::Number(v) => {
            let wanted: Vec<f64> = items
                .iter()
                .filter_map(|s| {
                    if let Scalar::Number(f) = s {
                        Some(*f)
                    } else {
                        None
                    }
                })
                .collect();
            v.iter()
                .map(|x| {
                    if x.is_nan() {
                        UNKNOWN
                    } else {
                        hit(wanted.contains(x))
                    }
                })
                .collect()
        }
        Vector::Integer(v) => {
            let wanted: Vec<i64> = items
                .iter()
                .filter_map(|s| {
                    if let Scalar::Integer(i) = s {
                        Some(*i)
                    } else {
                        None
                    }
                })
                .collect();
            v.iter()
                .map(|x| {
                    if *x == NULL_INT {
                        UNKNOWN
                    } else {
                        hit(wanted.contains(x))
                    }
                })
                .collect()
        }
        Vector::Date(v) => {
            let wanted: Vec<i32> = items
                .iter()
                .filter_map(|s| {
                    if let Scalar::Date(d) = s {
                        Some(*d)
                    } else {
                        None
                    }
                })
                .collect();
            v.iter()
                .map(|x| {
                    if *x == NULL_DATE {
                        UNKNOWN
                    } else {
                        hit(wanted.contains(x))
                    }
                })
                .collect()
        }
        Vector::Bool(v) => {
            let wanted: Vec<u8> = items
                .iter()
                .filter_map(|s| {
                    if let Scalar::Bool(b) = s {
                        Some(u8::from(*b))
                    } else {
                        None
                    }
                })
                .collect();
            v.iter()
                .map(|x| {
                    if *x == UNKNOWN {
                        UNKNOWN
                    } else {
                        hit(wanted.contains(x))
                    }
                })
                .collect()
        }
        Vector::Str(codes, dict) => codes
            .iter()
            .map(|&c| {
                if c == NULL_CODE {
                    return UNKNOWN;
                }
                let text = dict.get(c);
                hit(items
                    .iter()
                    .any(|s| matches!(s, Scalar::String(t) if **t == *text)))
            })
            .collect(),
    };
    Vector::Bool(result)
}

fn call<'t>(function: Function, args: &[Node<'t>], rows: Range<usize>) -> Vector<'t> {
    let len = rows.len();
    let mut values: Vec<Vector<'t>> = args.iter().map(|arg| arg.eval(rows.clone())).collect();
    match function {
        Function::Lower | Function::Upper => match values.swap_remove(0) {
            Vector::Str(codes, dict) => {
                let mapped: Vec<Box<str>> = dict.map(|s| change_case(function, s));
                Vector::Str(codes, Dict::Owned(Arc::new(mapped)))
            }
            other => other,
        },
        Function::Length => match values.swap_remove(0) {
            Vector::Str(codes, dict) => Vector::Integer(
                codes
                    .iter()
                    .map(|&c| {
                        if c == NULL_CODE {
                            NULL_INT
                        } else {
                            dict.get(c).chars().count() as i64
                        }
                    })
                    .collect(),
            ),
            other => Vector::Integer(vec![NULL_INT; other.len()]),
        },
        Function::Abs => match values.swap_remove(0) {
            Vector::Integer(v) => Vector::Integer(
                v.iter()
                    .map(|&i| {
                        if i == NULL_INT {
                            NULL_INT
                        } else {
                            i.wrapping_abs()
                        }
                    })
                    .collect(),
            ),
            Vector::Number(v) => Vector::Number(v.iter().map(|f| f.abs()).collect()),
            other => other,
        },
        Function::Round => {
            let digits = match args.get(1) {
                Some(Node::Const(Scalar::Integer(d), _)) => *d,
                _ => 0,
            };
            match values.swap_remove(0) {
                Vector::Number(v) => Vector::Number(v.iter().map(|&x| round(x, digits)).collect()),
                other => other,
            }
        }
        Function::Coalesce => coalesce(values, len),
        Function::DaysSince => Vector::Integer(vec![NULL_INT; len]),
    }
}

/// Rounds half away from zero at `digits` decimal places (negative: tens, hundreds, …).
pub fn round(value: f64, digits: i64) -> f64 {
    if value.is_nan() || value.is_infinite() {
        return value;
    }
    let digits = digits.clamp(-308, 308) as i32;
    if digits >= 0 {
        let factor = 10f64.powi(digits);
        let scaled = value * factor;
        if !scaled.is_finite() {
            return value;
        }
        scaled.round() / factor
    } else {
        let factor = 10f64.powi(-digits);
        (value / factor).round() * factor
    }
}

fn coalesce<'t>(values: Vec<Vector<'t>>, len: usize) -> Vector<'t> {
    let nulls: Vec<Vec<bool>> = values.iter().map(Vector::nulls).collect();
    let pick: Vec<Option<usize>> = (0..len)
        .map(|row| nulls.iter().position(|n| !n[row]))
        .collect();
    let first = values.first();
    match first {
        Some(Vector::Number(_))
        | Some(Vector::Integer(_))
        | Some(Vector::Date(_))
        | Some(Vector::Bool(_)) => {
            macro_rules! choose {
                ($variant:ident, $null:expr) => {{
                    let columns: Vec<&Vec<_>> = values
                        .iter()
                        .filter_map(|v| {
                            if let Vector::$variant(c) = v {
                                Some(c)
                            } else {
                                None
                            }
                        })
                        .collect();
                    Vector::$variant(
                        pick.iter()
                            .enumerate()
                            .map(|(row, p)| {
                                p.and_then(|i| columns.get(i)).map_or($null, |c| c[row])
                            })
                            .collect(),
                    )
                }};
            }
            match first {
                Some(Vector::Number(_)) => choose!(Number, f64::NAN),
                Some(Vector::Integer(_)) => choose!(Integer, NULL_INT),
                Some(Vector::Date(_)) => choose!(Date, NULL_DATE),
                _ => choose!(Bool, UNKNOWN),
            }
        }
        Some(Vector::Str(..)) => {
            let mut dict: Vec<Box<str>> = Vec::new();
            let codes = pick
                .iter()
                .enumerate()
                .map(|(row, p)| match p.map(|i| &values[i]) {
                    Some(Vector::Str(codes, source)) => {
                        dict.push(Box::from(source.get(codes[row])));
                        (dict.len() - 1) as u32
                    }
                    _ => NULL_CODE,
                })
                .collect();
            Vector::Str(codes, Dict::Owned(Arc::new(dict)))
        }
        None => Vector::Bool(vec![UNKNOWN; len]),
    }
}

#[cfg(test)]
mod tests {
    use super::{against, mirrored, round, vector, CompareOp, Vector, NULL_INT};

    /// The operator as evaluated for `column op constant`, or for `constant op column`.
    fn oriented(op: CompareOp, flipped: bool) -> CompareOp {
        if flipped {
            mirrored(op)
        } else {
            op
        }
    }

    const OPS: [CompareOp; 6] = CompareOp::ALL;

    #[test]
    fn a_column_against_a_constant_compares_like_two_vectors() {
        let numbers = [0.5, 0.7, 0.9, f64::NAN, -0.0, 0.7];
        let integers = [3, 7, NULL_INT, 12, -1, 7];
        for op in OPS {
            for flipped in [false, true] {
                let oriented = oriented(op, flipped);
                let constant = Vector::Number(vec![0.7; numbers.len()]);
                let column = Vector::Number(numbers.to_vec());
                let want = if flipped {
                    vector::compare(op, &constant, &column)
                } else {
                    vector::compare(op, &column, &constant)
                };
                assert_eq!(
                    against(&numbers, oriented, 0.7, f64::is_nan),
                    want,
                    "{op:?}"
                );
                let constant = Vector::Integer(vec![7; integers.len()]);
                let column = Vector::Integer(integers.to_vec());
                let want = if flipped {
                    vector::compare(op, &constant, &column)
                } else {
                    vector::compare(op, &column, &constant)
                };
                let got = against(&integers, oriented, 7, |x| x == NULL_INT);
                assert_eq!(got, want, "{op:?} flipped {flipped}");
            }
        }
        // Spelled out for one case: 0.7 < x holds for 0.9 only, and NaN is unknown.
        let got = against(&numbers, oriented(CompareOp::Lt, true), 0.7, f64::is_nan);
        assert_eq!(got, [0, 0, 1, 2, 0, 0]);
    }

    #[test]
    fn round_goes_half_away_from_zero_on_the_scaled_value() {
        assert_eq!(round(0.15, 1), 0.2);
        assert_eq!(round(-0.15, 1), -0.2);
        assert_eq!(round(2.5, 0), 3.0);
        assert_eq!(round(-2.5, 0), -3.0);
        // 1.005 is stored as 1.00499999999999989…, and 100.49999999999999 rounds down.
        assert_eq!(round(1.005, 2), 1.0);
        assert_eq!(round(1234.5, -2), 1200.0);
        assert_eq!(round(1250.0, -2), 1300.0);
        assert!(round(f64::NAN, 1).is_nan());
    }
}
