//! `where` conditions over several lines.
//!
//! A condition stays on one line when it fits in [`WIDTH`] columns and no comment sits inside
//! it. Otherwise it is broken before each `and` and `or` outside parentheses, the operator
//! leading its line, eight spaces in. A parenthesised group (or `not (…)`) that is still too
//! long, or holds a comment, is broken the same way inside, four spaces deeper, its closing
//! parenthesis at the end of its last operand.
//!
//! A comment inside a condition forces the break because the comment must end up on a line
//! of its own or at the end of a line; once the condition is broken the comment lies inside
//! it again, so formatting twice gives what formatting once gave.

use super::print;
use super::{Line, INDENT};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind, LogicOp};

/// The widest line the formatter writes where it has a choice, in characters.
pub const WIDTH: usize = 100;

/// The indentation of a `where` condition's continuation lines.
const CONTINUATION: usize = 2 * INDENT;

/// How the first line of an operand starts: its indentation, the text in front of the
/// operand (`where `, `and `, `or (`), and where that line begins in the source.
#[derive(Clone)]
struct Head {
    indent: usize,
    prefix: String,
    anchor: usize,
}

impl Head {
    fn fits(&self, text: &str, suffix: &str) -> bool {
        let width: usize = [self.prefix.as_str(), text, suffix]
            .iter()
            .map(|part| part.chars().count())
            .sum();
        self.indent + width <= WIDTH
    }

    /// The line of `text` (which ends at `end` in the source), then `suffix`.
    fn line(self, text: &str, end: usize, suffix: &str) -> Line {
        let text = format!("{}{text}{suffix}", self.prefix);
        Line::new(self.anchor..end, self.indent, text)
    }
}

/// Lays out `where` clauses; knows where the file's comments start.
pub(super) struct Breaker<'c> {
    /// The start of every comment of the file, ascending.
    comments: &'c [usize],
}

impl<'c> Breaker<'c> {
    pub(super) fn new(comments: &'c [usize]) -> Breaker<'c> {
        Breaker { comments }
    }

    /// The lines of `where CONDITION`, whose keyword starts at `start`.
    pub(super) fn where_lines(&self, start: usize, condition: &Expr) -> Vec<Line> {
        let head = Head {
            indent: INDENT,
            prefix: "where ".to_string(),
            anchor: start,
        };
        let mut lines = Vec::new();
        self.chain(condition, head, CONTINUATION, "", &mut lines);
        lines
    }

    /// A chain of operands joined by `and`/`or`, on one line or one operand per line.
    fn chain(
        &self,
        expr: &Expr,
        head: Head,
        continuation: usize,
        suffix: &str,
        out: &mut Vec<Line>,
    ) {
        let links = links(expr);
        if links.len() == 1 {
            return self.operand(expr, head, continuation, suffix, out);
        }
        let flat = print::expr(expr);
        if head.fits(&flat, suffix) && !self.must_break(expr, head.anchor) {
            out.push(head.line(&flat, expr.span.end, suffix));
            return;
        }
        let last = links.len() - 1;
        for (index, (op, operand)) in links.into_iter().enumerate() {
            let suffix = if index == last { suffix } else { "" };
            let head = match op {
                None => head.clone(),
                Some((op, span)) => Head {
                    indent: continuation,
                    prefix: format!("{} ", op_word(op)),
                    anchor: span.start,
                },
            };
            self.operand(operand, head, continuation, suffix, out);
        }
    }

    /// One operand of a chain: on its line, or broken inside when it is a group that must be.
    fn operand(
        &self,
        operand: &Expr,
        head: Head,
        continuation: usize,
        suffix: &str,
        out: &mut Vec<Line>,
    ) {
        let flat = print::expr(operand);
        if let Some((opener, inner)) = group(operand) {
            if !head.fits(&flat, suffix) || self.must_break(inner, head.anchor) {
                let head = Head {
                    prefix: format!("{}{opener}", head.prefix),
                    ..head
                };
                let suffix = format!("){suffix}");
                self.chain(inner, head, continuation + INDENT, &suffix, out);
                // The group's last line ends where its closing parenthesis was.
                if let Some(last) = out.last_mut() {
                    last.end = last.end.max(operand.span.end);
                }
                return;
            }
        }
        out.push(head.line(&flat, operand.span.end, suffix));
    }

    /// Whether a comment would land inside `expr` if it were broken, its first line starting
    /// at `anchor`: between that start and the last operator, or inside a last operand that
    /// must break itself. Comments after the last operator end up after the whole line.
    fn must_break(&self, expr: &Expr, anchor: usize) -> bool {
        let links = links(expr);
        let (op, operand) = links.last().expect("a chain has an operand");
        match op {
            Some((_, span)) => {
                self.comment_between(anchor, span.start)
                    || group(operand).is_some_and(|(_, inner)| self.must_break(inner, span.start))
            }
            None => group(operand).is_some_and(|(_, inner)| self.must_break(inner, anchor)),
        }
    }

    /// Whether a comment starts after `after` and before `before`.
    fn comment_between(&self, after: usize, before: usize) -> bool {
        let next = self.comments.partition_point(|&start| start <= after);
        self.comments.get(next).is_some_and(|&start| start < before)
    }
}

/// The operands of `expr` joined by `and`/`or` outside parentheses, in source order, each
/// with the operator in front of it (none for the first).
fn links(expr: &Expr) -> Vec<(Option<(LogicOp, Span)>, &Expr)> {
    let mut links = Vec::new();
    // Left operands are taken before right ones; a stack keeps long chains off the call stack.
    let mut stack = vec![(None, expr)];
    while let Some((op, expr)) = stack.pop() {
        match &expr.kind {
            ExprKind::Logic {
                op: inner,
                op_span,
                lhs,
                rhs,
            } => {
                stack.push((Some((*inner, *op_span)), rhs));
                stack.push((op, lhs));
            }
            _ => links.push((op, expr)),
        }
    }
    links
}

/// A parenthesised chain that may be broken inside: the text that opens it and the chain.
fn group(expr: &Expr) -> Option<(&'static str, &Expr)> {
    let (opener, paren) = match &expr.kind {
        ExprKind::Not(inner) => ("not (", &**inner),
        _ => ("(", expr),
    };
    match &paren.kind {
        ExprKind::Paren(inner) if matches!(inner.kind, ExprKind::Logic { .. }) => {
            Some((opener, inner))
        }
        _ => None,
    }
}

fn op_word(op: LogicOp) -> &'static str {
    match op {
        LogicOp::And => "and",
        LogicOp::Or => "or",
    }
}
