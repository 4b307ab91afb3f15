//! The parser: `.seg` text to the AST of [`super::ast`].
//!
//! pest matches the text against `grammar/segment.pest` and hands back a tree of pairs;
//! the functions here walk that tree rule by rule and build AST nodes with byte spans.
//! String escapes are resolved here rather than in the grammar, so that a bad escape is
//! reported at the escape itself. Errors from pest become diagnostics in [`super::phrases`].

// Diagnostics travel by value, as in every stage of segc; a parse fails at most once.
#![allow(clippy::result_large_err)]

use pest::iterators::{Pair, Pairs};
use pest::Parser as _;
use pest::Token;

use super::ast::*;
use super::phrases;
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};

#[derive(pest_derive::Parser)]
#[grammar = "grammar/segment.pest"]
struct SegmentGrammar;

/// Parses one `.seg` file.
pub fn parse_file(file: FileId, text: &str) -> Result<SegFile, Diagnostic> {
    let mut pairs = SegmentGrammar::parse(Rule::file, text)
        .map_err(|error| phrases::syntax_error(file, text, &error))?;
    let root = pairs
        .next()
        .expect("a successful parse yields the `file` pair");
    check_depth(file, text, &root)?;

    let comments = root
        .clone()
        .into_inner()
        .flatten()
        .filter(|pair| pair.as_rule() == Rule::COMMENT)
        .map(|pair| Comment {
            text: pair.as_str()[1..].to_string(),
            span: span_of(&pair),
        })
        .collect();

    let builder = Builder { file };
    let segments = Parts::of(root)
        .filter(|pair| pair.as_rule() == Rule::segment)
        .map(|pair| builder.segment(pair))
        .collect::<Result<_, _>>()?;

    Ok(SegFile { segments, comments })
}

/// How deeply grammar rules may nest: 64 levels of parentheses in a condition, which
/// cost eight each, or some 500 `not`s in a row.
///
/// pest guards its own recursion against the stack, but the walk below and every later
/// stage recurse over the tree too; a fixed bound keeps all of them safe on any thread.
const MAX_DEPTH: usize = 512;

fn check_depth(file: FileId, text: &str, root: &Pair<'_, Rule>) -> Result<(), Diagnostic> {
    let mut depth = 0;
    for token in root.clone().tokens() {
        match token {
            Token::Start { pos, .. } if depth == MAX_DEPTH => {
                return Err(phrases::too_deep(file, text, pos.pos()));
            }
            Token::Start { .. } => depth += 1,
            Token::End { .. } => depth -= 1,
        }
    }
    Ok(())
}

/// The span of a pair, from its first token to its last.
///
/// pest's own span of a rule that ends in an optional or repeated part runs on over the
/// whitespace and comments it skipped looking for that part, so the end is taken from the
/// last token instead.
fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let span = pair.as_span();
    let last = pair
        .clone()
        .into_inner()
        .filter(|child| child.as_rule() != Rule::COMMENT)
        .last();
    let end = last.map_or(span.end(), |last| span_of(&last).end);
    Span::new(span.start(), end)
}

/// The children of a pair, without the comments between them.
///
/// The grammar fixes which children a pair has; a child that is not there is a bug in
/// this file, not in the user's input, so [`Parts::pop`] panics.
struct Parts<'i> {
    inner: std::iter::Peekable<Pairs<'i, Rule>>,
}

impl<'i> Parts<'i> {
    fn of(pair: Pair<'i, Rule>) -> Parts<'i> {
        Parts {
            inner: pair.into_inner().peekable(),
        }
    }

    /// The next child, which the grammar guarantees.
    fn pop(&mut self) -> Pair<'i, Rule> {
        self.next().expect("the grammar guarantees another child")
    }

    /// The next child if it is a `rule`.
    fn take_if(&mut self, rule: Rule) -> Option<Pair<'i, Rule>> {
        self.skip_comments();
        self.inner.next_if(|pair| pair.as_rule() == rule)
    }

    fn skip_comments(&mut self) {
        while self
            .inner
            .next_if(|pair| pair.as_rule() == Rule::COMMENT)
            .is_some()
        {}
    }
}

impl<'i> Iterator for Parts<'i> {
    type Item = Pair<'i, Rule>;

    fn next(&mut self) -> Option<Pair<'i, Rule>> {
        self.skip_comments();
        self.inner.next()
    }
}

/// Builds AST nodes for one file; knows the file so that it can report bad escapes.
struct Builder {
    file: FileId,
}

impl Builder {
    fn segment(&self, pair: Pair<'_, Rule>) -> Result<Segment, Diagnostic> {
        let span = span_of(&pair);
        let mut parts = Parts::of(pair);
        parts.pop(); // `segment`
        let name = ident(&parts.pop());
        parts.pop(); // `{`

        let clauses = parts
            .filter(|part| part.as_rule() == Rule::clause)
            .map(|part| self.clause(part))
            .collect::<Result<_, Diagnostic>>()?;

        Ok(Segment {
            name,
            span,
            clauses,
        })
    }

    fn clause(&self, pair: Pair<'_, Rule>) -> Result<Clause, Diagnostic> {
        let span = span_of(&pair);
        let clause = Parts::of(pair).pop();
        let rule = clause.as_rule();
        let mut parts = Parts::of(clause);
        let keyword_pair = parts.pop();
        let keyword = span_of(&keyword_pair);

        let kind = match rule {
            Rule::title_clause => ClauseKind::Title(self.string(parts.pop())?),
            Rule::description_clause => ClauseKind::Description(self.string(parts.pop())?),
            Rule::from_clause => ClauseKind::From(ident(&parts.pop())),
            Rule::combine_clause => ClauseKind::Combine(set_expr(parts.pop())),
            Rule::where_clause => ClauseKind::Where(self.expr(parts.pop())?),
            Rule::rank_clause => {
                let direction = match keyword_pair.as_rule() {
                    Rule::kw_top => Direction::Top,
                    _ => Direction::Bottom,
                };
                let amount = quantity(parts.pop());
                let with_ties = parts.take_if(Rule::with_ties).is_some();
                parts.pop(); // `by`
                let by = self.expr(parts.pop())?;
                ClauseKind::Rank(RankClause {
                    direction,
                    amount,
                    with_ties,
                    by,
                })
            }
            Rule::select_clause => ClauseKind::Select(
                parts
                    .filter(|part| part.as_rule() == Rule::column)
                    .map(column)
                    .collect(),
            ),
            Rule::split_clause => ClauseKind::Split(self.split(parts)?),
            Rule::expect_clause => ClauseKind::Expect(expectation(parts)),
            _ => unreachable!("`clause` holds only clause rules, not {rule:?}"),
        };

        Ok(Clause {
            kind,
            span,
            keyword,
        })
    }

    /// The groups and seed of `split`, after its keyword.
    fn split(&self, parts: Parts<'_>) -> Result<SplitClause, Diagnostic> {
        let mut groups = Vec::new();
        let mut seed = None;
        for part in parts {
            match part.as_rule() {
                Rule::split_group => groups.push(split_group(part)),
                Rule::string => seed = Some(self.string(part)?),
                _ => {} // commas and `seed`
            }
        }
        let seed = seed.expect("the grammar ends `split` with a seed string");
        Ok(SplitClause { groups, seed })
    }

    /// Any expression rule, from `expr` down to `column`.
    fn expr(&self, pair: Pair<'_, Rule>) -> Result<Expr, Diagnostic> {
        let pair = innermost(pair);
        match pair.as_rule() {
            Rule::expr | Rule::conjunction => self.logic_chain(pair),
            Rule::negation | Rule::unary => self.prefixed(pair),
            Rule::predicate => self.predicate(pair),
            Rule::sum | Rule::product => self.arith_chain(pair),
            Rule::in_segment => {
                let span = span_of(&pair);
                let name = Parts::of(pair)
                    .last()
                    .expect("`in segment` ends with a name");
                Ok(Expr {
                    kind: ExprKind::InSegment(ident(&name)),
                    span,
                })
            }
            Rule::paren => {
                let span = span_of(&pair);
                let mut parts = Parts::of(pair);
                parts.pop(); // `(`
                let inner = self.expr(parts.pop())?;
                Ok(Expr {
                    kind: ExprKind::Paren(Box::new(inner)),
                    span,
                })
            }
            Rule::literal => self.literal(pair),
            Rule::call => self.call(pair),
            Rule::column => {
                let name = column(pair);
                Ok(Expr {
                    span: name.span,
                    kind: ExprKind::Column(name),
                })
            }
            rule => unreachable!("{rule:?} is not an expression rule"),
        }
    }

    /// `a or b or c` and `a and b`, folded to the left.
    fn logic_chain(&self, pair: Pair<'_, Rule>) -> Result<Expr, Diagnostic> {
        let mut parts = Parts::of(pair);
        let mut lhs = self.expr(parts.pop())?;
        while let Some(op_pair) = parts.next() {
            let op = match op_pair.as_rule() {
                Rule::kw_and => LogicOp::And,
                _ => LogicOp::Or,
            };
            let rhs = self.expr(parts.pop())?;
            lhs = Expr {
                span: lhs.span.to(rhs.span),
                kind: ExprKind::Logic {
                    op,
                    op_span: span_of(&op_pair),
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
            };
        }
        Ok(lhs)
    }

    /// `a + b - c` and `a * b / c`, folded to the left.
    fn arith_chain(&self, pair: Pair<'_, Rule>) -> Result<Expr, Diagnostic> {
        let mut parts = Parts::of(pair);
        let mut lhs = self.expr(parts.pop())?;
        while let Some(op_pair) = parts.next() {
            let op = match op_pair.as_str() {
                "+" => ArithOp::Add,
                "-" => ArithOp::Sub,
                "*" => ArithOp::Mul,
                _ => ArithOp::Div,
            };
            let rhs = self.expr(parts.pop())?;
            lhs = Expr {
                span: lhs.span.to(rhs.span),
                kind: ExprKind::Arith {
                    op,
                    op_span: span_of(&op_pair),
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
            };
        }
        Ok(lhs)
    }

    /// `not not x` and `- -x`: the operators are collected in a loop and wrapped around
    /// the operand afterwards, so that a long chain does not recurse.
    fn prefixed(&self, pair: Pair<'_, Rule>) -> Result<Expr, Diagnostic> {
        let rule = pair.as_rule();
        let mut starts = Vec::new();
        let mut pair = pair;
        loop {
            let mut parts = Parts::of(pair.clone());
            let first = parts.pop();
            if !matches!(first.as_rule(), Rule::kw_not | Rule::minus) {
                break;
            }
            starts.push(first.as_span().start());
            pair = parts.pop();
        }

        let mut expr = self.expr(pair)?;
        for start in starts.into_iter().rev() {
            let span = Span::new(start, expr.span.end);
            let inner = Box::new(expr);
            let kind = if rule == Rule::negation {
                ExprKind::Not(inner)
            } else {
                ExprKind::Neg(inner)
            };
            expr = Expr { kind, span };
        }
        Ok(expr)
    }

    /// A value and the test that follows it, or `in segment NAME`.
    fn predicate(&self, pair: Pair<'_, Rule>) -> Result<Expr, Diagnostic> {
        let mut parts = Parts::of(pair);
        let value = self.expr(parts.pop())?;
        match parts.next() {
            Some(tail) => self.predicate_tail(value, Parts::of(tail).pop()),
            None => Ok(value),
        }
    }

    /// Applies the test of a predicate to the value in front of it.
    fn predicate_tail(&self, value: Expr, tail: Pair<'_, Rule>) -> Result<Expr, Diagnostic> {
        let span = Span::new(value.span.start, span_of(&tail).end);
        let value = Box::new(value);
        let rule = tail.as_rule();
        let mut parts = Parts::of(tail);

        let kind = match rule {
            Rule::compare_tail => {
                let op_pair = parts.pop();
                let rhs = self.expr(parts.pop())?;
                return Ok(Expr {
                    span: value.span.to(rhs.span),
                    kind: ExprKind::Compare {
                        op: compare_op(&op_pair),
                        op_span: span_of(&op_pair),
                        lhs: value,
                        rhs: Box::new(rhs),
                    },
                });
            }
            Rule::between_tail => {
                let negated = parts.take_if(Rule::kw_not).is_some();
                parts.pop(); // `between`
                let low = Box::new(self.expr(parts.pop())?);
                parts.pop(); // `and`
                let high = Box::new(self.expr(parts.pop())?);
                ExprKind::Between {
                    value,
                    low,
                    high,
                    negated,
                }
            }
            Rule::in_list_tail => {
                let negated = parts.take_if(Rule::kw_not).is_some();
                let items = parts
                    .filter(|part| part.as_rule() == Rule::list_item)
                    .map(|part| self.list_item(part))
                    .collect::<Result<_, Diagnostic>>()?;
                ExprKind::InList {
                    value,
                    items,
                    negated,
                }
            }
            Rule::is_null_tail => {
                parts.pop(); // `is`
                let negated = parts.take_if(Rule::kw_not).is_some();
                ExprKind::IsNull { value, negated }
            }
            Rule::match_tail => {
                let op_pair = parts.pop();
                let op = match Parts::of(op_pair.clone()).pop().as_rule() {
                    Rule::kw_contains => MatchOp::Contains,
                    Rule::starts_with => MatchOp::StartsWith,
                    _ => MatchOp::EndsWith,
                };
                let pattern = self.string(parts.pop())?;
                ExprKind::Match {
                    value,
                    op,
                    op_span: span_of(&op_pair),
                    pattern,
                }
            }
            _ => unreachable!("`predicate_tail` holds only tail rules, not {rule:?}"),
        };

        Ok(Expr { kind, span })
    }

    /// A literal of an `in` list; a negative number becomes `Neg` around the number.
    fn list_item(&self, pair: Pair<'_, Rule>) -> Result<Expr, Diagnostic> {
        let item = Parts::of(pair).pop();
        if item.as_rule() != Rule::negative_number {
            return self.literal(item);
        }
        let span = span_of(&item);
        let mut parts = Parts::of(item);
        parts.pop(); // `-`
        let number = parts.pop();
        let literal = Expr {
            span: span_of(&number),
            kind: ExprKind::Literal(number_lit(&number)),
        };
        Ok(Expr {
            kind: ExprKind::Neg(Box::new(literal)),
            span,
        })
    }

    fn literal(&self, pair: Pair<'_, Rule>) -> Result<Expr, Diagnostic> {
        let span = span_of(&pair);
        let token = Parts::of(pair).pop();
        let literal = match token.as_rule() {
            Rule::number => number_lit(&token),
            Rule::string => Literal::String(self.string(token)?.value),
            Rule::kw_true => Literal::Bool(true),
            Rule::kw_false => Literal::Bool(false),
            Rule::kw_null => Literal::Null,
            Rule::date_literal => {
                let mut parts = Parts::of(token);
                parts.pop(); // `date`
                Literal::Date(self.string(parts.pop())?)
            }
            rule => unreachable!("{rule:?} is not a literal"),
        };
        Ok(Expr {
            kind: ExprKind::Literal(literal),
            span,
        })
    }

    fn call(&self, pair: Pair<'_, Rule>) -> Result<Expr, Diagnostic> {
        let span = span_of(&pair);
        let mut parts = Parts::of(pair);
        let function = ident(&parts.pop());
        let args = parts
            .filter(|part| part.as_rule() == Rule::expr)
            .map(|part| self.expr(part))
            .collect::<Result<_, Diagnostic>>()?;
        Ok(Expr {
            kind: ExprKind::Call { function, args },
            span,
        })
    }

    /// A string literal with its escapes resolved.
    fn string(&self, pair: Pair<'_, Rule>) -> Result<StringLit, Diagnostic> {
        let span = span_of(&pair);
        let mut value = String::new();
        for part in Parts::of(pair) {
            match part.as_rule() {
                Rule::string_text => value.push_str(part.as_str()),
                Rule::escape => value.push(self.escape(&part)?),
                _ => {} // the closing quote
            }
        }
        Ok(StringLit { value, span })
    }

    /// The character an escape stands for, or an error at the escape.
    fn escape(&self, pair: &Pair<'_, Rule>) -> Result<char, Diagnostic> {
        let text = pair.as_str();
        let span = span_of(pair);
        match text {
            "\\\"" => return Ok('"'),
            "\\\\" => return Ok('\\'),
            "\\n" => return Ok('\n'),
            "\\t" => return Ok('\t'),
            _ => {}
        }

        let Some(digits) = text.strip_prefix("\\u") else {
            return Err(Diagnostic::new(
                Code::Syntax,
                format!("unknown escape `{text}` in a string"),
            )
            .at(self.file, span, "not an escape")
            .help(
                "the escapes are `\\\"`, `\\\\`, `\\n`, `\\t` and `\\u{…}`; \
                     a backslash itself is written `\\\\`",
            ));
        };

        let bad_unicode = |label: &str| {
            Diagnostic::new(Code::Syntax, format!("invalid unicode escape `{text}`"))
                .at(self.file, span, label)
                .help("write the code point in hex between braces, such as `\\u{e9}` for `é`")
        };
        let Some(hex) = digits
            .strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'))
        else {
            return Err(bad_unicode("expected `{` and hex digits after `\\u`"));
        };
        if hex.is_empty() || hex.len() > 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad_unicode("expected 1 to 6 hex digits between the braces"));
        }
        let code = u32::from_str_radix(hex, 16).expect("checked to be 1 to 6 hex digits");
        char::from_u32(code).ok_or_else(|| bad_unicode("not a unicode scalar value"))
    }
}

/// The first rule down the precedence ladder that does more than hold one operand.
///
/// `(x)` is an `expr` holding a `conjunction` holding a `negation` and so on down to the
/// `paren`; walking those levels in a loop keeps deep nesting from costing a stack frame
/// per level.
fn innermost(pair: Pair<'_, Rule>) -> Pair<'_, Rule> {
    let mut pair = pair;
    loop {
        let ladder = matches!(
            pair.as_rule(),
            Rule::expr
                | Rule::conjunction
                | Rule::negation
                | Rule::predicate
                | Rule::sum
                | Rule::product
                | Rule::unary
                | Rule::set_expr
                | Rule::set_term
        );
        let mut parts = Parts::of(pair.clone());
        match (parts.next(), parts.next()) {
            (Some(only), None) if ladder => pair = only,
            _ => return pair,
        }
    }
}

/// A plain name: a segment, table, group or function name, or an unquoted column.
fn ident(pair: &Pair<'_, Rule>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: span_of(pair),
        quoted: false,
    }
}

/// A column, plain or in backticks.
fn column(pair: Pair<'_, Rule>) -> Ident {
    let name = Parts::of(pair).pop();
    if name.as_rule() != Rule::quoted_column {
        return ident(&name);
    }
    let span = span_of(&name);
    let text = Parts::of(name).pop();
    Ident {
        name: text.as_str().to_string(),
        span,
        quoted: true,
    }
}

fn number_lit(pair: &Pair<'_, Rule>) -> Literal {
    Literal::Number(NumberLit {
        text: pair.as_str().to_string(),
        span: span_of(pair),
    })
}

fn quantity(pair: Pair<'_, Rule>) -> Quantity {
    let span = span_of(&pair);
    let mut parts = Parts::of(pair);
    let number = parts.pop();
    let percent = parts.take_if(Rule::percent).is_some();
    let number = NumberLit {
        text: number.as_str().to_string(),
        span: span_of(&number),
    };
    Quantity {
        number,
        percent,
        span,
    }
}

fn split_group(pair: Pair<'_, Rule>) -> SplitGroup {
    let span = span_of(&pair);
    let mut parts = Parts::of(pair);
    let name = ident(&parts.pop());
    let share = quantity(parts.pop());
    SplitGroup { name, share, span }
}

/// `size`/`share` and the test of `expect`, after its keyword.
fn expectation(mut parts: Parts<'_>) -> Expectation {
    let metric_pair = parts.pop();
    let metric = match metric_pair.as_rule() {
        Rule::kw_size => Metric::Size,
        _ => Metric::Share,
    };

    let test_pair = parts.pop();
    let rule = test_pair.as_rule();
    let mut test = Parts::of(test_pair);
    let test = match rule {
        Rule::expect_between => {
            test.pop(); // `between`
            let low = quantity(test.pop());
            test.pop(); // `and`
            let high = quantity(test.pop());
            ExpectTest::Between { low, high }
        }
        _ => {
            let op_pair = test.pop();
            let value = quantity(test.pop());
            ExpectTest::Compare {
                op: compare_op(&op_pair),
                op_span: span_of(&op_pair),
                value,
            }
        }
    };

    Expectation {
        metric,
        metric_span: span_of(&metric_pair),
        test,
    }
}

fn compare_op(pair: &Pair<'_, Rule>) -> CompareOp {
    match pair.as_str() {
        "=" => CompareOp::Eq,
        "!=" => CompareOp::Ne,
        "<" => CompareOp::Lt,
        "<=" => CompareOp::Le,
        ">" => CompareOp::Gt,
        _ => CompareOp::Ge,
    }
}

/// `union`, `except` and `intersect` chains, folded to the left, and their operands.
fn set_expr(pair: Pair<'_, Rule>) -> SetExpr {
    let pair = innermost(pair);
    let span = span_of(&pair);
    match pair.as_rule() {
        Rule::set_expr | Rule::set_term => {
            let mut parts = Parts::of(pair);
            let mut lhs = set_expr(parts.pop());
            while let Some(op_pair) = parts.next() {
                let op = match op_pair.as_rule() {
                    Rule::kw_union => SetOp::Union,
                    Rule::kw_intersect => SetOp::Intersect,
                    _ => SetOp::Except,
                };
                let rhs = set_expr(parts.pop());
                lhs = SetExpr {
                    span: lhs.span.to(rhs.span),
                    kind: SetExprKind::Binary {
                        op,
                        op_span: span_of(&op_pair),
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                };
            }
            lhs
        }
        Rule::set_paren => {
            let mut parts = Parts::of(pair);
            parts.pop(); // `(`
            SetExpr {
                kind: SetExprKind::Paren(Box::new(set_expr(parts.pop()))),
                span,
            }
        }
        _ => SetExpr {
            kind: SetExprKind::Segment(ident(&pair)),
            span,
        },
    }
}
