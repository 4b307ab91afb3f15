//! The one-line text of clauses, expressions and literals, spaced canonically.
//!
//! Operands are printed exactly as the parser grouped them. The tree holds the user's
//! parentheses and nothing else decides grouping, so the text parses back to the same tree:
//! no parenthesis is added or dropped.
//!
//! Expressions are walked with an explicit stack instead of by recursion, because the parser
//! folds `a or b or …` to the left and such a chain is as deep as it is long.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::syntax::ast::*;

/// A piece of work for the printer: a node still to print, or finished text.
enum Work<'a> {
    Expr(&'a Expr),
    Set(&'a SetExpr),
    Text(Cow<'a, str>),
}

fn text<'a>(text: impl Into<Cow<'a, str>>) -> Work<'a> {
    Work::Text(text.into())
}

/// A clause on one line, from its keyword to its end.
pub(super) fn clause(kind: &ClauseKind) -> String {
    match kind {
        ClauseKind::Title(title) => format!("title {}", string(&title.value)),
        ClauseKind::Description(text) => format!("description {}", string(&text.value)),
        ClauseKind::From(table) => format!("from {}", ident(table)),
        ClauseKind::Combine(set) => format!("combine {}", run(Work::Set(set))),
        ClauseKind::Where(condition) => format!("where {}", expr(condition)),
        ClauseKind::Rank(rank) => {
            let direction = match rank.direction {
                Direction::Top => "top",
                Direction::Bottom => "bottom",
            };
            let ties = if rank.with_ties { " with ties" } else { "" };
            let amount = quantity(&rank.amount);
            format!("{direction} {amount}{ties} by {}", expr(&rank.by))
        }
        ClauseKind::Select(columns) => {
            let columns: Vec<Cow<'_, str>> = columns.iter().map(ident).collect();
            format!("select {}", columns.join(", "))
        }
        ClauseKind::Split(split) => {
            let groups: Vec<String> = split
                .groups
                .iter()
                .map(|group| format!("{} {}", ident(&group.name), quantity(&group.share)))
                .collect();
            format!(
                "split {} seed {}",
                groups.join(", "),
                string(&split.seed.value)
            )
        }
        ClauseKind::Expect(expect) => {
            let metric = match expect.metric {
                Metric::Size => "size",
                Metric::Share => "share",
            };
            let test = match &expect.test {
                ExpectTest::Compare { op, value, .. } => {
                    format!("{} {}", op.as_str(), quantity(value))
                }
                ExpectTest::Between { low, high } => {
                    format!("between {} and {}", quantity(low), quantity(high))
                }
            };
            format!("expect {metric} {test}")
        }
    }
}

/// An expression on one line.
pub(super) fn expr(expr: &Expr) -> String {
    run(Work::Expr(expr))
}

fn run(root: Work<'_>) -> String {
    let mut out = String::new();
    let mut stack = vec![root];
    while let Some(work) = stack.pop() {
        let parts = match work {
            Work::Text(text) => {
                out.push_str(&text);
                continue;
            }
            Work::Expr(expr) => expr_parts(expr),
            Work::Set(set) => set_parts(set),
        };
        // The stack is last in, first out: the first part goes on top.
        stack.extend(parts.into_iter().rev());
    }
    out
}

/// The parts of one expression node, in the order they are printed.
fn expr_parts(expr: &Expr) -> Vec<Work<'_>> {
    match &expr.kind {
        ExprKind::Column(name) => vec![text(ident(name))],
        ExprKind::Literal(literal_value) => vec![text(literal(literal_value))],
        ExprKind::Paren(inner) => vec![text("("), Work::Expr(inner), text(")")],
        ExprKind::Neg(inner) => vec![text("-"), Work::Expr(inner)],
        ExprKind::Not(inner) => vec![text("not "), Work::Expr(inner)],
        ExprKind::Logic { op, lhs, rhs, .. } => {
            let op = match op {
                LogicOp::And => " and ",
                LogicOp::Or => " or ",
            };
            vec![Work::Expr(lhs), text(op), Work::Expr(rhs)]
        }
        ExprKind::Compare { op, lhs, rhs, .. } => {
            let op = format!(" {} ", op.as_str());
            vec![Work::Expr(lhs), text(op), Work::Expr(rhs)]
        }
        ExprKind::Arith { op, lhs, rhs, .. } => {
            let op = match op {
                ArithOp::Add => " + ",
                ArithOp::Sub => " - ",
                ArithOp::Mul => " * ",
                ArithOp::Div => " / ",
            };
            vec![Work::Expr(lhs), text(op), Work::Expr(rhs)]
        }
        ExprKind::Between {
            value,
            low,
            high,
            negated,
        } => {
            let between = if *negated {
                " not between "
            } else {
                " between "
            };
            vec![
                Work::Expr(value),
                text(between),
                Work::Expr(low),
                text(" and "),
                Work::Expr(high),
            ]
        }
        ExprKind::InList {
            value,
            items,
            negated,
        } => {
            let open = if *negated { " not in (" } else { " in (" };
            let mut parts = vec![Work::Expr(value), text(open)];
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    parts.push(text(", "));
                }
                parts.push(Work::Expr(item));
            }
            parts.push(text(")"));
            parts
        }
        ExprKind::IsNull { value, negated } => {
            let test = if *negated { " is not null" } else { " is null" };
            vec![Work::Expr(value), text(test)]
        }
        ExprKind::Match {
            value, op, pattern, ..
        } => {
            let op = match op {
                MatchOp::Contains => " contains ",
                MatchOp::StartsWith => " starts with ",
                MatchOp::EndsWith => " ends with ",
            };
            vec![Work::Expr(value), text(op), text(string(&pattern.value))]
        }
        ExprKind::InSegment(name) => vec![text("in segment "), text(ident(name))],
        ExprKind::Call { function, args } => {
            let mut parts = vec![text(ident(function)), text("(")];
            for (index, arg) in args.iter().enumerate() {
                if index > 0 {
                    parts.push(text(", "));
                }
                parts.push(Work::Expr(arg));
            }
            parts.push(text(")"));
            parts
        }
    }
}

/// The parts of one node of a `combine` set expression, in the order they are printed.
fn set_parts(set: &SetExpr) -> Vec<Work<'_>> {
    match &set.kind {
        SetExprKind::Segment(name) => vec![text(ident(name))],
        SetExprKind::Paren(inner) => vec![text("("), Work::Set(inner), text(")")],
        SetExprKind::Binary { op, lhs, rhs, .. } => {
            let op = match op {
                SetOp::Union => " union ",
                SetOp::Intersect => " intersect ",
                SetOp::Except => " except ",
            };
            vec![Work::Set(lhs), text(op), Work::Set(rhs)]
        }
    }
}

/// A name, in backticks when it was written in them.
///
/// Backticks the user wrote are kept even around a plain name. Dropping them would be safe
/// only for names that are not reserved words now and never become one, and the tree
/// records the quoting, so keeping it is also what parses back to the same tree.
pub(super) fn ident(name: &Ident) -> Cow<'_, str> {
    if name.quoted {
        Cow::Owned(format!("`{}`", name.name))
    } else {
        Cow::Borrowed(&name.name)
    }
}

/// A literal: numbers as written, strings with canonical escapes.
fn literal(literal: &Literal) -> String {
    match literal {
        Literal::Number(number) => number.text.clone(),
        Literal::String(value) => string(value),
        Literal::Bool(true) => "true".to_string(),
        Literal::Bool(false) => "false".to_string(),
        Literal::Null => "null".to_string(),
        Literal::Date(date) => format!("date {}", string(&date.value)),
    }
}

/// `20`, `12.5%`: the number as written, the `%` right after it.
fn quantity(quantity: &Quantity) -> String {
    let percent = if quantity.percent { "%" } else { "" };
    format!("{}{percent}", quantity.number.text)
}

/// A string literal holding `value`.
///
/// Quotes and backslashes are escaped, line ends and tabs use their short escapes, and
/// characters that would not show on screen (controls, zero-width and direction marks)
/// become `\u{…}` so that a reader sees them. Everything else is written as itself, so
/// `"Caf\u{e9}"` becomes `"Café"`.
pub(super) fn string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for ch in value.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            ch if is_invisible(ch) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(ch));
            }
            ch => out.push(ch),
        }
    }
    out.push('"');
    out
}

/// Characters that print as nothing or rearrange the text around them.
fn is_invisible(ch: char) -> bool {
    ch.is_control()
        || matches!(
            ch,
            '\u{ad}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}
