//! Parser tests: the exact tree of each construct, precedence, escapes, comments and
//! names, and the position and wording of syntax errors.
//!
//! Expected spans are counted by hand from the source text of each test.

use super::ast::*;
use super::parse_file;
use crate::diag::Code;
use crate::source::{FileId, SourceMap, Span};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn parse(text: &str) -> SegFile {
    match parse_file(FileId(0), text) {
        Ok(file) => file,
        Err(diagnostic) => panic!("{text:?} failed to parse: {}", diagnostic.message),
    }
}

/// `segment s { ` comes before the clause of [`clause`]; clause spans count from its end.
const CLAUSE_PREFIX: &str = "segment s { ";

/// The only clause of `segment s { TEXT }`, with spans relative to TEXT.
fn clause(text: &str) -> Clause {
    let file = parse(&format!("{CLAUSE_PREFIX}{text} }}"));
    let mut clauses = file
        .segments
        .into_iter()
        .next()
        .expect("one segment")
        .clauses;
    assert_eq!(clauses.len(), 1, "{text:?} holds one clause");
    let clause = clauses.remove(0);
    assert_eq!(
        clause.span.start,
        CLAUSE_PREFIX.len(),
        "clause spans start at the keyword"
    );
    clause
}

/// A span relative to the start of the clause text of [`clause`].
fn c(start: usize, end: usize) -> Span {
    Span::new(CLAUSE_PREFIX.len() + start, CLAUSE_PREFIX.len() + end)
}

/// `segment s { where ` comes before the condition of [`cond`].
const WHERE_PREFIX: &str = "segment s { where ";

/// The condition of `segment s { where TEXT }`.
fn cond(text: &str) -> Expr {
    match clause(&format!("where {text}")).kind {
        ClauseKind::Where(expr) => expr,
        other => panic!("expected a `where` clause, got {other:?}"),
    }
}

/// A span relative to the start of the condition text of [`cond`].
fn w(start: usize, end: usize) -> Span {
    Span::new(WHERE_PREFIX.len() + start, WHERE_PREFIX.len() + end)
}

fn ident(name: &str, span: Span) -> Ident {
    Ident {
        name: name.to_string(),
        span,
        quoted: false,
    }
}

fn column(name: &str, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Column(ident(name, span)),
        span,
    }
}

fn number(text: &str, span: Span) -> Expr {
    let number = NumberLit {
        text: text.to_string(),
        span,
    };
    Expr {
        kind: ExprKind::Literal(Literal::Number(number)),
        span,
    }
}

fn quantity(text: &str, number_span: Span, percent: bool, span: Span) -> Quantity {
    Quantity {
        number: NumberLit {
            text: text.to_string(),
            span: number_span,
        },
        percent,
        span,
    }
}

fn string_lit(value: &str, span: Span) -> StringLit {
    StringLit {
        value: value.to_string(),
        span,
    }
}

fn bx(expr: Expr) -> Box<Expr> {
    Box::new(expr)
}

/// An expression as a compact s-expression, for tests about the shape of the tree.
/// Parentheses written by the user show as `[…]`.
fn shape(expr: &Expr) -> String {
    let join = |exprs: &[Expr]| exprs.iter().map(shape).collect::<Vec<_>>().join(" ");
    match &expr.kind {
        ExprKind::Column(name) => name.name.clone(),
        ExprKind::Literal(Literal::Number(number)) => number.text.clone(),
        ExprKind::Literal(Literal::String(value)) => format!("{value:?}"),
        ExprKind::Literal(Literal::Bool(value)) => value.to_string(),
        ExprKind::Literal(Literal::Null) => "null".to_string(),
        ExprKind::Literal(Literal::Date(text)) => format!("(date {})", text.value),
        ExprKind::Paren(inner) => format!("[{}]", shape(inner)),
        ExprKind::Neg(inner) => format!("(neg {})", shape(inner)),
        ExprKind::Not(inner) => format!("(not {})", shape(inner)),
        ExprKind::Logic { op, lhs, rhs, .. } => {
            let op = match op {
                LogicOp::And => "and",
                LogicOp::Or => "or",
            };
            format!("({op} {} {})", shape(lhs), shape(rhs))
        }
        ExprKind::Compare { op, lhs, rhs, .. } => {
            format!("({} {} {})", op.as_str(), shape(lhs), shape(rhs))
        }
        ExprKind::Arith { op, lhs, rhs, .. } => {
            let op = match op {
                ArithOp::Add => "+",
                ArithOp::Sub => "-",
                ArithOp::Mul => "*",
                ArithOp::Div => "/",
            };
            format!("({op} {} {})", shape(lhs), shape(rhs))
        }
        ExprKind::Between {
            value,
            low,
            high,
            negated,
        } => {
            let op = if *negated { "not-between" } else { "between" };
            format!("({op} {} {} {})", shape(value), shape(low), shape(high))
        }
        ExprKind::InList {
            value,
            items,
            negated,
        } => {
            let op = if *negated { "not-in" } else { "in" };
            format!("({op} {} [{}])", shape(value), join(items))
        }
        ExprKind::IsNull { value, negated } => {
            let op = if *negated { "is-not-null" } else { "is-null" };
            format!("({op} {})", shape(value))
        }
        ExprKind::Match {
            value, op, pattern, ..
        } => {
            let op = match op {
                MatchOp::Contains => "contains",
                MatchOp::StartsWith => "starts-with",
                MatchOp::EndsWith => "ends-with",
            };
            format!("({op} {} {:?})", shape(value), pattern.value)
        }
        ExprKind::InSegment(name) => format!("(in-segment {})", name.name),
        ExprKind::Call { function, args } => format!("({} {})", function.name, join(args)),
    }
}

/// The set expression of `segment s { combine TEXT }`, as an s-expression.
fn set_shape(text: &str) -> String {
    fn render(set: &SetExpr) -> String {
        match &set.kind {
            SetExprKind::Segment(name) => name.name.clone(),
            SetExprKind::Paren(inner) => format!("[{}]", render(inner)),
            SetExprKind::Binary { op, lhs, rhs, .. } => {
                let op = match op {
                    SetOp::Union => "union",
                    SetOp::Intersect => "intersect",
                    SetOp::Except => "except",
                };
                format!("({op} {} {})", render(lhs), render(rhs))
            }
        }
    }
    match clause(&format!("combine {text}")).kind {
        ClauseKind::Combine(set) => render(&set),
        other => panic!("expected a `combine` clause, got {other:?}"),
    }
}

/// A syntax error as a user sees it: where, what, and the help line.
#[derive(Debug)]
struct Failure {
    line: usize,
    column: usize,
    /// The length of the labelled span in bytes.
    len: usize,
    message: String,
    label: String,
    help: Option<String>,
}

fn fail(text: &str) -> Failure {
    let sources = SourceMap::new();
    let file = sources.add("test.seg", text);
    let diagnostic = match parse_file(file, text) {
        Ok(parsed) => panic!("{text:?} parsed, to {parsed:?}"),
        Err(diagnostic) => diagnostic,
    };
    assert_eq!(diagnostic.code, Code::Syntax);
    let primary = diagnostic.primary.expect("syntax errors have a place");
    assert_eq!(primary.file, file);
    let (line, column) = sources.get(file).line_column(primary.span.start);
    Failure {
        line,
        column,
        len: primary.span.len(),
        message: diagnostic.message,
        label: primary.message,
        help: diagnostic.help,
    }
}

// ---------------------------------------------------------------------------------------
// Files and segments
// ---------------------------------------------------------------------------------------

#[test]
fn a_segment_with_one_clause() {
    let text = "segment high { from churn }";
    let expected = SegFile {
        segments: vec![Segment {
            name: ident("high", Span::new(8, 12)),
            span: Span::new(0, 27),
            clauses: vec![Clause {
                kind: ClauseKind::From(ident("churn", Span::new(20, 25))),
                span: Span::new(15, 25),
                keyword: Span::new(15, 19),
            }],
        }],
        comments: vec![],
    };
    assert_eq!(parse(text), expected);
}

#[test]
fn empty_files_and_empty_segments() {
    assert_eq!(
        parse(""),
        SegFile {
            segments: vec![],
            comments: vec![]
        }
    );
    assert_eq!(parse(" \n\t\r\n").segments, vec![]);

    let file = parse("segment a {}\nsegment b { }");
    let names: Vec<_> = file.segments.iter().map(|s| s.name.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(file.segments[1].span, Span::new(13, 26));
    assert!(file.segments.iter().all(|s| s.clauses.is_empty()));
}

#[test]
fn a_byte_order_mark_and_crlf_line_ends_are_accepted() {
    let file = parse("\u{feff}segment s {\r\n  from t\r\n}\r\n");
    // The mark takes three bytes, so `segment` starts at 3.
    assert_eq!(file.segments[0].span, Span::new(3, 27));
    assert_eq!(file.segments[0].clauses[0].span, Span::new(18, 24));
}

#[test]
fn clauses_keep_their_order_and_may_repeat() {
    let file = parse("segment s { where a from t where b from u select x }");
    let kinds: Vec<_> = file.segments[0]
        .clauses
        .iter()
        .map(|clause| match &clause.kind {
            ClauseKind::Where(expr) => format!("where {}", shape(expr)),
            ClauseKind::From(table) => format!("from {}", table.name),
            ClauseKind::Select(columns) => format!("select {}", columns.len()),
            other => panic!("unexpected clause {other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        ["where a", "from t", "where b", "from u", "select 1"]
    );
}

#[test]
fn the_example_of_the_spec() {
    let text = r#"
# Customers the churn model flags, with the riskiest first in line.
segment high_churn_risk {
    title "High churn risk"
    description "Flagged by the churn model with a score of at least 0.7."
    from churn
    where IsChurn and ChurnScore >= 0.7
    select ChurnScore, TopFactor
    expect size between 100 and 500000
}

segment top_value {
    from clv
    top 20% by CLVScore
}

segment likely_p0042_buyers {
    from recommendations
    where ProductID = "P0042" and Rank <= 3
}

segment save_first {
    description "High-risk customers worth keeping, minus those already in a campaign."
    combine (high_churn_risk intersect top_value) except in_campaign
}
"#;
    let file = parse(text);
    let summary: Vec<(String, usize)> = file
        .segments
        .iter()
        .map(|s| (s.name.name.clone(), s.clauses.len()))
        .collect();
    assert_eq!(
        summary,
        [
            ("high_churn_risk".to_string(), 6),
            ("top_value".to_string(), 2),
            ("likely_p0042_buyers".to_string(), 2),
            ("save_first".to_string(), 2),
        ]
    );
    assert_eq!(file.comments.len(), 1);
    let ClauseKind::Combine(set) = &file.segments[3].clauses[1].kind else {
        panic!("the last clause of `save_first` is `combine`");
    };
    assert!(matches!(
        set.kind,
        SetExprKind::Binary {
            op: SetOp::Except,
            ..
        }
    ));
}

// ---------------------------------------------------------------------------------------
// Clauses
// ---------------------------------------------------------------------------------------

#[test]
fn title_and_description() {
    let title = clause(r#"title "High \"risk\"""#);
    assert_eq!(
        title,
        Clause {
            kind: ClauseKind::Title(string_lit("High \"risk\"", c(6, 21))),
            span: c(0, 21),
            keyword: c(0, 5),
        }
    );

    let description = clause(r#"description "Worth keeping""#);
    assert_eq!(
        description,
        Clause {
            kind: ClauseKind::Description(string_lit("Worth keeping", c(12, 27))),
            span: c(0, 27),
            keyword: c(0, 11),
        }
    );
}

#[test]
fn combine_clause() {
    let text = "combine (a union b) intersect c";
    let union = SetExpr {
        kind: SetExprKind::Binary {
            op: SetOp::Union,
            op_span: c(11, 16),
            lhs: Box::new(SetExpr {
                kind: SetExprKind::Segment(ident("a", c(9, 10))),
                span: c(9, 10),
            }),
            rhs: Box::new(SetExpr {
                kind: SetExprKind::Segment(ident("b", c(17, 18))),
                span: c(17, 18),
            }),
        },
        span: c(9, 18),
    };
    let expected = SetExpr {
        kind: SetExprKind::Binary {
            op: SetOp::Intersect,
            op_span: c(20, 29),
            lhs: Box::new(SetExpr {
                kind: SetExprKind::Paren(Box::new(union)),
                span: c(8, 19),
            }),
            rhs: Box::new(SetExpr {
                kind: SetExprKind::Segment(ident("c", c(30, 31))),
                span: c(30, 31),
            }),
        },
        span: c(8, 31),
    };
    assert_eq!(
        clause(text),
        Clause {
            kind: ClauseKind::Combine(expected),
            span: c(0, 31),
            keyword: c(0, 7)
        }
    );
}

#[test]
fn where_clause_spans_end_at_the_condition() {
    let text = "where a > 1 # a comment\n";
    let where_clause = clause(text);
    assert_eq!(where_clause.span, c(0, 11));
    assert_eq!(where_clause.keyword, c(0, 5));
    let expected = Expr {
        kind: ExprKind::Compare {
            op: CompareOp::Gt,
            op_span: c(8, 9),
            lhs: bx(column("a", c(6, 7))),
            rhs: bx(number("1", c(10, 11))),
        },
        span: c(6, 11),
    };
    assert_eq!(where_clause.kind, ClauseKind::Where(expected));
}

#[test]
fn top_with_a_percentage_and_ties() {
    let text = "top 20% with ties by CLVScore";
    let expected = RankClause {
        direction: Direction::Top,
        amount: quantity("20", c(4, 6), true, c(4, 7)),
        with_ties: true,
        by: column("CLVScore", c(21, 29)),
    };
    assert_eq!(
        clause(text),
        Clause {
            kind: ClauseKind::Rank(expected),
            span: c(0, 29),
            keyword: c(0, 3)
        }
    );
}

#[test]
fn bottom_with_a_count() {
    let text = "bottom 10 by -score";
    let expected = RankClause {
        direction: Direction::Bottom,
        amount: quantity("10", c(7, 9), false, c(7, 9)),
        with_ties: false,
        by: Expr {
            kind: ExprKind::Neg(bx(column("score", c(14, 19)))),
            span: c(13, 19),
        },
    };
    assert_eq!(
        clause(text),
        Clause {
            kind: ClauseKind::Rank(expected),
            span: c(0, 19),
            keyword: c(0, 6)
        }
    );
}

#[test]
fn select_plain_and_backticked_columns() {
    let text = "select ChurnScore, `Top Factor`, date";
    let expected = vec![
        ident("ChurnScore", c(7, 17)),
        Ident {
            name: "Top Factor".to_string(),
            span: c(19, 31),
            quoted: true,
        },
        ident("date", c(33, 37)),
    ];
    assert_eq!(
        clause(text),
        Clause {
            kind: ClauseKind::Select(expected),
            span: c(0, 37),
            keyword: c(0, 6)
        }
    );
}

#[test]
fn split_groups_and_seed() {
    let text = r#"split treatment 45%, control 45.5%, holdout 9.5% seed "2024-q3""#;
    let group = |name: &str, name_span: Span, share: Quantity, span: Span| SplitGroup {
        name: ident(name, name_span),
        share,
        span,
    };
    let expected = SplitClause {
        groups: vec![
            group(
                "treatment",
                c(6, 15),
                quantity("45", c(16, 18), true, c(16, 19)),
                c(6, 19),
            ),
            group(
                "control",
                c(21, 28),
                quantity("45.5", c(29, 33), true, c(29, 34)),
                c(21, 34),
            ),
            group(
                "holdout",
                c(36, 43),
                quantity("9.5", c(44, 47), true, c(44, 48)),
                c(36, 48),
            ),
        ],
        seed: string_lit("2024-q3", c(54, 63)),
    };
    assert_eq!(
        clause(text),
        Clause {
            kind: ClauseKind::Split(expected),
            span: c(0, 63),
            keyword: c(0, 5)
        }
    );
}

#[test]
fn expect_size_with_a_comparison() {
    let expected = Expectation {
        metric: Metric::Size,
        metric_span: c(7, 11),
        test: ExpectTest::Compare {
            op: CompareOp::Ge,
            op_span: c(12, 14),
            value: quantity("100", c(15, 18), false, c(15, 18)),
        },
    };
    assert_eq!(
        clause("expect size >= 100"),
        Clause {
            kind: ClauseKind::Expect(expected),
            span: c(0, 18),
            keyword: c(0, 6)
        }
    );
}

#[test]
fn expect_share_between_percentages() {
    let expected = Expectation {
        metric: Metric::Share,
        metric_span: c(7, 12),
        test: ExpectTest::Between {
            low: quantity("5", c(21, 22), true, c(21, 23)),
            high: quantity("30", c(28, 30), true, c(28, 31)),
        },
    };
    assert_eq!(
        clause("expect share between 5% and 30%"),
        Clause {
            kind: ClauseKind::Expect(expected),
            span: c(0, 31),
            keyword: c(0, 6)
        }
    );
}

#[test]
fn a_percent_sign_may_stand_apart_from_its_number() {
    let ClauseKind::Expect(expectation) = clause("expect share <= 12.5 %").kind else {
        panic!("an `expect` clause");
    };
    let ExpectTest::Compare {
        op: CompareOp::Le,
        value,
        ..
    } = expectation.test
    else {
        panic!("a comparison");
    };
    assert_eq!(value, quantity("12.5", c(16, 20), true, c(16, 22)));
}

// ---------------------------------------------------------------------------------------
// Predicates
// ---------------------------------------------------------------------------------------

#[test]
fn every_comparison_operator() {
    let cases = [
        ("a = 10", CompareOp::Eq, 1),
        ("a != 10", CompareOp::Ne, 2),
        ("a < 10", CompareOp::Lt, 1),
        ("a <= 10", CompareOp::Le, 2),
        ("a > 10", CompareOp::Gt, 1),
        ("a >= 10", CompareOp::Ge, 2),
    ];
    for (text, op, op_len) in cases {
        let number_start = 2 + op_len + 1;
        let expected = Expr {
            kind: ExprKind::Compare {
                op,
                op_span: w(2, 2 + op_len),
                lhs: bx(column("a", w(0, 1))),
                rhs: bx(number("10", w(number_start, number_start + 2))),
            },
            span: w(0, number_start + 2),
        };
        assert_eq!(cond(text), expected, "{text}");
    }
}

#[test]
fn between_and_not_between() {
    let expected = Expr {
        kind: ExprKind::Between {
            value: bx(column("x", w(0, 1))),
            low: bx(number("1", w(14, 15))),
            high: bx(number("5", w(20, 21))),
            negated: true,
        },
        span: w(0, 21),
    };
    assert_eq!(cond("x not between 1 and 5"), expected);
    assert_eq!(
        shape(&cond("x between a and b + 1")),
        "(between x a (+ b 1))"
    );
}

#[test]
fn in_lists_hold_literals_and_negative_numbers() {
    let expected = Expr {
        kind: ExprKind::InList {
            value: bx(column("x", w(0, 1))),
            items: vec![
                Expr {
                    kind: ExprKind::Literal(Literal::String("a".to_string())),
                    span: w(6, 9),
                },
                Expr {
                    kind: ExprKind::Neg(bx(number("2", w(12, 13)))),
                    span: w(11, 13),
                },
                number("1e-3", w(15, 19)),
            ],
            negated: false,
        },
        span: w(0, 20),
    };
    assert_eq!(cond(r#"x in ("a", -2, 1e-3)"#), expected);

    let expected = Expr {
        kind: ExprKind::InList {
            value: bx(column("x", w(0, 1))),
            items: vec![
                Expr {
                    kind: ExprKind::Literal(Literal::Bool(true)),
                    span: w(10, 14),
                },
                Expr {
                    kind: ExprKind::Literal(Literal::Null),
                    span: w(16, 20),
                },
            ],
            negated: true,
        },
        span: w(0, 21),
    };
    assert_eq!(cond("x not in (true, null)"), expected);
}

#[test]
fn is_null_and_is_not_null() {
    let expected = Expr {
        kind: ExprKind::IsNull {
            value: bx(column("x", w(0, 1))),
            negated: false,
        },
        span: w(0, 9),
    };
    assert_eq!(cond("x is null"), expected);

    let expected = Expr {
        kind: ExprKind::IsNull {
            value: bx(column("x", w(0, 1))),
            negated: true,
        },
        span: w(0, 13),
    };
    assert_eq!(cond("x is not null"), expected);
}

#[test]
fn equality_with_null_is_left_to_the_checker() {
    assert_eq!(shape(&cond("x = null")), "(= x null)");
    assert_eq!(shape(&cond("x != null")), "(!= x null)");
}

#[test]
fn string_matches() {
    let expected = Expr {
        kind: ExprKind::Match {
            value: bx(column("s", w(0, 1))),
            op: MatchOp::Contains,
            op_span: w(2, 10),
            pattern: string_lit("x", w(11, 14)),
        },
        span: w(0, 14),
    };
    assert_eq!(cond(r#"s contains "x""#), expected);

    let expected = Expr {
        kind: ExprKind::Match {
            value: bx(column("name", w(0, 4))),
            op: MatchOp::StartsWith,
            op_span: w(5, 16),
            pattern: string_lit("Jo", w(17, 21)),
        },
        span: w(0, 21),
    };
    assert_eq!(cond(r#"name starts with "Jo""#), expected);

    let expected = Expr {
        kind: ExprKind::Match {
            value: bx(column("s", w(0, 1))),
            op: MatchOp::EndsWith,
            op_span: w(2, 11),
            pattern: string_lit("z", w(12, 15)),
        },
        span: w(0, 15),
    };
    assert_eq!(cond(r#"s ends with "z""#), expected);
}

#[test]
fn in_segment_and_not_in_segment() {
    let expected = Expr {
        kind: ExprKind::InSegment(ident("vip", w(11, 14))),
        span: w(0, 14),
    };
    assert_eq!(cond("in segment vip"), expected);

    let in_segment = Expr {
        kind: ExprKind::InSegment(ident("vip", w(15, 18))),
        span: w(4, 18),
    };
    let expected = Expr {
        kind: ExprKind::Not(bx(in_segment)),
        span: w(0, 18),
    };
    assert_eq!(cond("not in segment vip"), expected);
}

#[test]
fn a_bool_column_stands_alone() {
    assert_eq!(cond("IsChurn"), column("IsChurn", w(0, 7)));
    let expected = Expr {
        kind: ExprKind::Literal(Literal::Bool(false)),
        span: w(0, 5),
    };
    assert_eq!(cond("false"), expected);
}

// ---------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------

#[test]
fn numbers_keep_their_spelling() {
    let ExprKind::InList { items, .. } =
        cond("x in (3, 0.7, 1e-3, 1_000, 2E+10, 1_000.000_1)").kind
    else {
        panic!("an `in` list");
    };
    let texts: Vec<_> = items.iter().map(shape).collect();
    assert_eq!(texts, ["3", "0.7", "1e-3", "1_000", "2E+10", "1_000.000_1"]);
}

#[test]
fn an_identifier_may_start_with_an_underscore() {
    assert_eq!(shape(&cond("_1 > 1")), "(> _1 1)");
}

#[test]
fn date_literals_and_a_column_named_date() {
    let expected = Expr {
        kind: ExprKind::Compare {
            op: CompareOp::Gt,
            op_span: w(5, 6),
            lhs: bx(column("date", w(0, 4))),
            rhs: bx(Expr {
                kind: ExprKind::Literal(Literal::Date(string_lit("2024-01-31", w(12, 24)))),
                span: w(7, 24),
            }),
        },
        span: w(0, 24),
    };
    assert_eq!(cond(r#"date > date "2024-01-31""#), expected);
}

#[test]
fn function_calls() {
    let expected = Expr {
        kind: ExprKind::Call {
            function: ident("round", w(0, 5)),
            args: vec![column("x", w(6, 7)), number("2", w(9, 10))],
        },
        span: w(0, 11),
    };
    assert_eq!(cond("round(x, 2)"), expected);

    let expected = Expr {
        kind: ExprKind::Call {
            function: ident("now", w(0, 3)),
            args: vec![],
        },
        span: w(0, 5),
    };
    assert_eq!(cond("now()"), expected);
    assert_eq!(
        shape(&cond("coalesce(a, b + 1, lower(c)) > percentile(d, 0.9)")),
        "(> (coalesce a (+ b 1) (lower c)) (percentile d 0.9))"
    );
}

#[test]
fn parentheses_are_kept() {
    let expected = Expr {
        kind: ExprKind::Paren(bx(column("a", w(1, 2)))),
        span: w(0, 3),
    };
    assert_eq!(cond("(a)"), expected);
    assert_eq!(shape(&cond("((a))")), "[[a]]");
}

#[test]
fn unary_minus() {
    let expected = Expr {
        kind: ExprKind::Neg(bx(number("3", w(1, 2)))),
        span: w(0, 2),
    };
    assert_eq!(cond("-3"), expected);

    let inner = Expr {
        kind: ExprKind::Neg(bx(column("x", w(3, 4)))),
        span: w(2, 4),
    };
    let expected = Expr {
        kind: ExprKind::Neg(bx(inner)),
        span: w(0, 4),
    };
    assert_eq!(cond("- -x"), expected);
}

#[test]
fn logic_and_arithmetic_spans() {
    let expected = Expr {
        kind: ExprKind::Logic {
            op: LogicOp::And,
            op_span: w(6, 9),
            lhs: bx(Expr {
                kind: ExprKind::Arith {
                    op: ArithOp::Add,
                    op_span: w(2, 3),
                    lhs: bx(column("a", w(0, 1))),
                    rhs: bx(column("b", w(4, 5))),
                },
                span: w(0, 5),
            }),
            rhs: bx(Expr {
                kind: ExprKind::Not(bx(column("c", w(14, 15)))),
                span: w(10, 15),
            }),
        },
        span: w(0, 15),
    };
    assert_eq!(cond("a + b and not c"), expected);
}

// ---------------------------------------------------------------------------------------
// Precedence
// ---------------------------------------------------------------------------------------

#[test]
fn logic_precedence() {
    let cases = [
        ("a or b and not c", "(or a (and b (not c)))"),
        ("not a and b or c", "(or (and (not a) b) c)"),
        ("a and b or c and d", "(or (and a b) (and c d))"),
        ("a or b or c", "(or (or a b) c)"),
        ("a and b and c", "(and (and a b) c)"),
        ("not not a", "(not (not a))"),
        ("not a = 1", "(not (= a 1))"),
        (
            "not x between 1 and 2 and y",
            "(and (not (between x 1 2)) y)",
        ),
        ("(a or b) and c", "(and [(or a b)] c)"),
        ("a and not in segment s", "(and a (not (in-segment s)))"),
    ];
    for (text, expected) in cases {
        assert_eq!(shape(&cond(text)), expected, "{text}");
    }
}

#[test]
fn arithmetic_precedence() {
    let cases = [
        ("a + b * c - d / e", "(- (+ a (* b c)) (/ d e))"),
        ("a - b - c", "(- (- a b) c)"),
        ("a / b * c", "(* (/ a b) c)"),
        ("-a * b", "(* (neg a) b)"),
        ("-(a + b)", "(neg [(+ a b)])"),
        ("a * (b + c)", "(* a [(+ b c)])"),
        ("a - -1", "(- a (neg 1))"),
        ("a-1", "(- a 1)"),
        ("a + 1 >= b * 2 or c", "(or (>= (+ a 1) (* b 2)) c)"),
        (
            "x + 1 between 2 and 3 and y",
            "(and (between (+ x 1) 2 3) y)",
        ),
        ("x between -1 and 1", "(between x (neg 1) 1)"),
    ];
    for (text, expected) in cases {
        assert_eq!(shape(&cond(text)), expected, "{text}");
    }
}

#[test]
fn set_precedence() {
    let cases = [
        ("a union b intersect c", "(union a (intersect b c))"),
        ("a intersect b union c", "(union (intersect a b) c)"),
        ("a except b except c", "(except (except a b) c)"),
        ("a except b union c", "(union (except a b) c)"),
        ("a union b except c", "(except (union a b) c)"),
        ("a intersect b intersect c", "(intersect (intersect a b) c)"),
        ("a except b intersect c", "(except a (intersect b c))"),
        ("(a union b) intersect c", "(intersect [(union a b)] c)"),
        ("a except (b union c)", "(except a [(union b c)])"),
        ("a", "a"),
    ];
    for (text, expected) in cases {
        assert_eq!(set_shape(text), expected, "{text}");
    }
}

// ---------------------------------------------------------------------------------------
// Strings, names and comments
// ---------------------------------------------------------------------------------------

#[test]
fn string_escapes_are_resolved() {
    let text = r#"s = "q\"\\\n\t\u{e9}\u{1F600}#x""#;
    let ExprKind::Compare { rhs, .. } = cond(text).kind else {
        panic!("a comparison");
    };
    let expected = Expr {
        kind: ExprKind::Literal(Literal::String("q\"\\\n\té\u{1F600}#x".to_string())),
        span: w(4, 32),
    };
    assert_eq!(*rhs, expected);
}

#[test]
fn strings_hold_any_unicode() {
    let ClauseKind::Title(title) = clause(r#"title "Größe ≥ 5 — ok""#).kind else {
        panic!("a title");
    };
    assert_eq!(title.value, "Größe ≥ 5 — ok");
}

#[test]
fn backticked_names() {
    let expected = Expr {
        kind: ExprKind::Column(Ident {
            name: "Churn Score".to_string(),
            span: w(0, 13),
            quoted: true,
        }),
        span: w(0, 13),
    };
    assert_eq!(cond("`Churn Score`"), expected);

    assert_eq!(
        shape(&cond("`in` and `not` = `a#b` or `été`")),
        "(or (and in (= not a#b)) été)"
    );
    let file = parse("segment s { where `a # b` }");
    assert_eq!(file.comments, vec![]);
}

#[test]
fn comments_are_collected() {
    let text = "# one\nsegment s { # two\r\n  from t # three\n}\n# four";
    let file = parse(text);
    let expected = vec![
        Comment {
            text: " one".to_string(),
            span: Span::new(0, 5),
        },
        Comment {
            text: " two".to_string(),
            span: Span::new(18, 23),
        },
        Comment {
            text: " three".to_string(),
            span: Span::new(34, 41),
        },
        Comment {
            text: " four".to_string(),
            span: Span::new(44, 50),
        },
    ];
    assert_eq!(file.comments, expected);
    assert_eq!(file.segments[0].span, Span::new(6, 43));
    assert_eq!(file.segments[0].clauses[0].span, Span::new(27, 33));
}

#[test]
fn comments_between_tokens_do_not_change_the_tree() {
    let text = "segment s {\n  where a # first\n    and b #second\n}";
    let file = parse(text);
    let texts: Vec<_> = file.comments.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, [" first", "second"]);
    let clause = &file.segments[0].clauses[0];
    let ClauseKind::Where(expr) = &clause.kind else {
        panic!("a `where` clause");
    };
    assert_eq!(shape(expr), "(and a b)");
    // `where` at 14, `b` at 38.
    assert_eq!(clause.span, Span::new(14, 39));
    assert_eq!(expr.span, Span::new(20, 39));
}

#[test]
fn a_hash_inside_a_string_is_not_a_comment() {
    let file = parse("segment s { title \"#1\" } # real");
    let texts: Vec<_> = file.comments.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, [" real"]);
}

#[test]
fn keywords_are_guarded() {
    let cases = [
        ("order > 1", "(> order 1)"),
        ("android and notes", "(and android notes)"),
        ("isolated or index", "(or isolated index)"),
        ("nullable is null", "(is-null nullable)"),
        ("truest = falsey", "(= truest falsey)"),
        ("betweenness between 1 and 2", "(between betweenness 1 2)"),
        ("inside in (1)", "(in inside [1])"),
        (
            "unions + intersection - exception",
            "(- (+ unions intersection) exception)",
        ),
        ("dates = date", "(= dates date)"),
        ("contains contains \"x\"", "(contains contains \"x\")"),
        (
            "from = top and by = where",
            "(and (= from top) (= by where))",
        ),
        ("andy or orb", "(or andy orb)"),
    ];
    for (text, expected) in cases {
        assert_eq!(shape(&cond(text)), expected, "{text}");
    }
    assert_eq!(
        set_shape("union_all except in_campaign"),
        "(except union_all in_campaign)"
    );
}

#[test]
fn function_names_are_not_reserved() {
    assert_eq!(shape(&cond("date(x) > top(y)")), "(> (date x) (top y))");
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

#[test]
fn a_missing_value_after_an_operator() {
    let failure = fail("segment s {\n  where x >\n}\n");
    assert_eq!((failure.line, failure.column, failure.len), (3, 1, 1));
    assert_eq!(
        failure.message,
        "expected a value such as a column, number or string"
    );
    assert_eq!(failure.label, "unexpected `}`");
    assert_eq!(
        failure.help.as_deref(),
        Some("`>` needs a value after it, such as `0.5`, `\"text\"` or a column name")
    );
}

#[test]
fn a_missing_condition() {
    let failure = fail("segment s { where }");
    assert_eq!((failure.line, failure.column), (1, 19));
    assert_eq!(failure.message, "expected an expression");
    assert_eq!(
        failure.help.as_deref(),
        Some("`where` needs a condition after it, such as `ChurnScore >= 0.7`")
    );
}

#[test]
fn chained_comparisons_are_an_error() {
    let failure = fail("segment s { where a < b < c }");
    assert_eq!((failure.line, failure.column), (1, 25));
    assert_eq!(
        failure.message,
        "expected an arithmetic operator such as `+`, `and`, `or`, a clause such as `where`, \
         or `}`"
    );
}

#[test]
fn something_other_than_an_operator_after_a_value() {
    let failure = fail("segment s { where x ] }");
    assert_eq!((failure.line, failure.column), (1, 21));
    assert_eq!(
        failure.message,
        "expected a comparison such as `>=`, an arithmetic operator such as `+`, `and`, `or`, \
         a clause such as `where`, or `}`"
    );
}

#[test]
fn double_equals() {
    let failure = fail("segment s { where x == 1 }");
    assert_eq!((failure.line, failure.column), (1, 22));
    assert_eq!(failure.help.as_deref(), Some("write `=` for equality"));
}

#[test]
fn c_style_logic_operators() {
    let and = fail("segment s { where a && b }");
    assert_eq!((and.line, and.column), (1, 21));
    assert_eq!(and.help.as_deref(), Some("write `and` instead of `&&`"));

    let or = fail("segment s { where a || b }");
    assert_eq!((or.line, or.column), (1, 21));
    assert_eq!(or.help.as_deref(), Some("write `or` instead of `||`"));

    let not = fail("segment s { where !a }");
    assert_eq!((not.line, not.column), (1, 19));
    assert_eq!(
        not.help.as_deref(),
        Some("write `not` to negate a condition")
    );
}

#[test]
fn sql_inequality() {
    let failure = fail("segment s { where a <> b }");
    assert_eq!((failure.line, failure.column), (1, 22));
    assert_eq!(failure.help.as_deref(), Some("write `!=` for inequality"));
}

#[test]
fn a_reserved_word_as_a_column() {
    let failure = fail("segment s { select in, x }");
    assert_eq!((failure.line, failure.column, failure.len), (1, 20, 2));
    assert_eq!(failure.message, "expected a column name");
    assert_eq!(failure.label, "unexpected `in`");
    assert_eq!(
        failure.help.as_deref(),
        Some("`in` is a keyword; write it in backticks: `` `in` ``")
    );

    let failure = fail("segment s { where x > 1 and between = 2 }");
    assert_eq!((failure.line, failure.column), (1, 29));
    assert_eq!(failure.message, "expected an expression");
    assert_eq!(
        failure.help.as_deref(),
        Some("`between` is a keyword; write it in backticks: `` `between` ``")
    );
}

#[test]
fn a_column_named_in() {
    let failure = fail("segment s { where in = 3 }");
    assert_eq!((failure.line, failure.column), (1, 22));
    assert_eq!(failure.message, "expected `segment`");
    assert!(failure.help.expect("a help line").contains("`` `in` ``"));
}

#[test]
fn a_reserved_word_as_a_segment_or_table_name() {
    let failure = fail("segment union { }");
    assert_eq!((failure.line, failure.column), (1, 9));
    assert_eq!(failure.message, "expected a segment name");
    assert_eq!(
        failure.help.as_deref(),
        Some("`union` is a keyword and cannot be used as a name")
    );

    let failure = fail("segment s { from except }");
    assert_eq!(failure.message, "expected a table name");
    assert_eq!(
        failure.help.as_deref(),
        Some("`except` is a keyword and cannot be used as a name")
    );
}

#[test]
fn a_quoted_table_name() {
    let failure = fail(r#"segment s { from "churn" }"#);
    assert_eq!((failure.line, failure.column), (1, 18));
    assert_eq!(failure.message, "expected a table name");
    assert_eq!(
        failure.help.as_deref(),
        Some("names are written without quotes")
    );
}

#[test]
fn uppercase_keywords() {
    let failure = fail("segment s { where a AND b }");
    assert_eq!((failure.line, failure.column, failure.len), (1, 21, 3));
    assert_eq!(
        failure.help.as_deref(),
        Some("keywords are lowercase: write `and`")
    );

    let failure = fail("segment s { FROM t }");
    assert_eq!(failure.message, "expected a clause such as `where`, or `}`");
    assert_eq!(
        failure.help.as_deref(),
        Some("keywords are lowercase: write `from`")
    );
}

#[test]
fn a_missing_closing_brace_at_the_end() {
    let failure = fail("segment s {\n  from t\n");
    assert_eq!((failure.line, failure.column, failure.len), (3, 1, 0));
    assert_eq!(failure.message, "expected a clause such as `where`, or `}`");
    assert_eq!(failure.label, "the file ends here");
    assert_eq!(failure.help.as_deref(), Some("end the segment with `}`"));
}

#[test]
fn a_missing_closing_brace_before_the_next_segment() {
    let failure = fail("segment a {\n  from t\nsegment b { from t }\n");
    assert_eq!((failure.line, failure.column), (3, 1));
    assert_eq!(
        failure.help.as_deref(),
        Some("the segment before this one needs a closing `}`")
    );
}

#[test]
fn something_other_than_a_segment_at_the_top() {
    let failure = fail("segment a { from t }\nfrom t\n");
    assert_eq!((failure.line, failure.column), (2, 1));
    assert_eq!(
        failure.message,
        "expected `segment`, or the end of the file"
    );
    assert_eq!(failure.label, "unexpected `from`");
}

#[test]
fn an_unterminated_string() {
    let failure = fail("segment s {\n  title \"High risk\n}\n");
    assert_eq!((failure.line, failure.column), (2, 19));
    assert_eq!(failure.message, "unterminated string");
    assert_eq!(failure.label, "the line ends before the closing `\"`");

    let failure = fail("segment s { title \"abc");
    assert_eq!((failure.line, failure.column, failure.len), (1, 23, 0));
    assert_eq!(failure.label, "the file ends before the closing `\"`");
}

#[test]
fn an_unterminated_backticked_name() {
    let failure = fail("segment s { where `Churn Score > 1\n}");
    assert_eq!((failure.line, failure.column), (1, 35));
    assert_eq!(failure.message, "unterminated name in backticks");
}

#[test]
fn an_empty_backticked_name() {
    let failure = fail("segment s { where `` > 1 }");
    assert_eq!((failure.line, failure.column), (1, 20));
    assert_eq!(failure.message, "expected a name between the backticks");
    assert_eq!(failure.label, "unexpected `` ` ``");
}

#[test]
fn an_unknown_escape() {
    let failure = fail(r#"segment s { title "a\qb" }"#);
    assert_eq!((failure.line, failure.column, failure.len), (1, 21, 2));
    assert_eq!(failure.message, r"unknown escape `\q` in a string");
}

#[test]
fn bad_unicode_escapes() {
    let failure = fail(r#"segment s { title "a\u{zzzz}" }"#);
    assert_eq!((failure.line, failure.column, failure.len), (1, 21, 8));
    assert_eq!(failure.message, r"invalid unicode escape `\u{zzzz}`");

    let failure = fail(r#"segment s { title "\u{110000}" }"#);
    assert_eq!((failure.line, failure.column, failure.len), (1, 20, 10));
    assert_eq!(failure.label, "not a unicode scalar value");

    let failure = fail(r#"segment s { title "\u{d800}" }"#);
    assert_eq!(failure.message, r"invalid unicode escape `\u{d800}`");

    let failure = fail(r#"segment s { title "\u{}" }"#);
    assert_eq!(
        failure.label,
        "expected 1 to 6 hex digits between the braces"
    );

    let failure = fail(r#"segment s { title "\u00e9" }"#);
    assert_eq!((failure.line, failure.column, failure.len), (1, 20, 2));
    assert_eq!(failure.message, r"invalid unicode escape `\u`");
}

#[test]
fn underscores_only_between_digits() {
    let help = Some("`_` may only stand between two digits, as in `1_000`");

    let failure = fail("segment s { where x > 1__000 }");
    assert_eq!((failure.line, failure.column), (1, 24));
    assert_eq!(failure.help.as_deref(), help);

    let failure = fail("segment s { where x > 1_000_ }");
    assert_eq!((failure.line, failure.column), (1, 28));
    assert_eq!(failure.help.as_deref(), help);

    let failure = fail("segment s { top 10_% by x }");
    assert_eq!((failure.line, failure.column), (1, 19));
    assert_eq!(failure.help.as_deref(), help);
}

#[test]
fn incomplete_clauses() {
    let cases = [
        (
            "segment s { title }",
            19,
            "expected a string in double quotes",
        ),
        (
            "segment s { combine a union }",
            29,
            "expected a segment name or `(`",
        ),
        ("segment s { top 10 }", 20, "expected `with`, `by`, or `%`"),
        (
            "segment s { expect size }",
            25,
            "expected `between`, or a comparison operator such as `>=`",
        ),
        (
            "segment s { expect sizes > 1 }",
            20,
            "expected `size`, or `share`",
        ),
        (
            "segment s { split a 50% b 50% seed \"x\" }",
            25,
            "expected `seed`, or `,`",
        ),
        (
            "segment s { where x not y }",
            25,
            "expected `between`, or `in`",
        ),
        (
            "segment s { where x is nul }",
            24,
            "expected `not`, or `null`",
        ),
        (
            "segment s { where x in (1, y) }",
            28,
            "expected a literal such as `\"a\"` or `-1`",
        ),
        (
            "segment s { where (x > 1 }",
            26,
            "expected an arithmetic operator such as `+`, `)`, `and`, or `or`",
        ),
        ("segment s { where s starts \"a\" }", 28, "expected `with`"),
    ];
    for (text, column, message) in cases {
        let failure = fail(text);
        assert_eq!((failure.line, failure.column), (1, column), "{text}");
        assert_eq!(failure.message, message, "{text}");
    }
}

#[test]
fn nesting_has_a_limit() {
    let nested = |depth: usize| {
        format!(
            "segment s {{ where {}x{} }}",
            "(".repeat(depth),
            ")".repeat(depth)
        )
    };
    let sixty = cond(&format!("{}x{}", "(".repeat(60), ")".repeat(60)));
    assert_eq!(
        shape(&sixty),
        format!("{}x{}", "[".repeat(60), "]".repeat(60))
    );

    // The `k`-th parenthesis sits 8k + 4 rules deep and the `sum` inside it 8k + 9, so the
    // 513th level is the `sum` inside the 63rd, which starts at the 64th `(`.
    let failure = fail(&nested(100));
    assert_eq!((failure.line, failure.column), (1, 82));
    assert_eq!(failure.message, "the file is nested too deeply to parse");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let text = format!(
        "segment s {{ where {}x{} }}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let failure = fail(&text);
    assert_eq!(failure.message, "the file is nested too deeply to parse");
}

#[test]
fn a_plain_name_with_a_letter_outside_ascii() {
    let failure = fail("segment s { where Größe > 1 }");
    // `G` at 18, `r` at 19, `ö` at 20.
    assert_eq!((failure.line, failure.column), (1, 21));
    assert_eq!(
        failure.help.as_deref(),
        Some(
            "a name with characters other than ASCII letters, digits and `_` is written in \
             backticks: `` `Größe` ``"
        )
    );

    let failure = fail("segment s { where été > 1 }");
    assert_eq!((failure.line, failure.column), (1, 19));
    assert!(failure.help.expect("a help line").ends_with("`` `été` ``"));
}

#[test]
fn reversed_comparison_operators() {
    let failure = fail("segment s { where a => 1 }");
    assert_eq!((failure.line, failure.column), (1, 22));
    assert_eq!(
        failure.help.as_deref(),
        Some("write `>=` with the `=` last")
    );

    let failure = fail("segment s { where a =< 1 }");
    assert_eq!(
        failure.help.as_deref(),
        Some("write `<=` with the `=` last")
    );
}

#[test]
fn a_keyword_after_a_complete_condition_is_not_taken_for_a_column() {
    let failure = fail("segment s { where x = \"é\" in = 3 }");
    assert_eq!((failure.line, failure.column), (1, 27));
    assert_eq!(failure.help, None);
}

#[test]
fn with_ties_after_the_expression_says_where_it_goes() {
    let failure = fail("segment s {\n  from t\n  top 5 by x with ties\n}\n");
    assert_eq!((failure.line, failure.column), (3, 14));
    assert_eq!(failure.label, "unexpected `with`");
    assert_eq!(
        failure.help.as_deref(),
        Some("`with ties` goes right after the amount: `top 20% with ties by CLVScore`")
    );
}
