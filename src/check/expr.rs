//! Typing of conditions and expressions against one table's columns.

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::{Config, TableConfig};
use crate::data::parse_date;
use crate::diag::{did_you_mean, Code, Diagnostic};
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, CompareOp, ExprKind as Ast, Literal};

use super::ir::{Aggregate, ExprKind, Function, Rank, Scalar, SegmentId, Type, TypedExpr};
use super::schema::TableSchema;

/// Resolves a segment name, reporting an unknown one with the nearest name.
pub(super) fn resolve_segment(
    names: &HashMap<String, (SegmentId, FileId, Span)>,
    file: FileId,
    name: &ast::Ident,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<SegmentId> {
    if let Some(&(id, _, _)) = names.get(&name.name) {
        return Some(id);
    }
    let mut diagnostic = Diagnostic::new(
        Code::UnknownSegment,
        format!("unknown segment `{}`", name.name),
    )
    .at(file, name.span, "no segment has this name");
    if let Some(help) = did_you_mean(&name.name, names.keys().map(String::as_str)) {
        diagnostic = diagnostic.help(help);
    }
    diagnostics.push(diagnostic);
    None
}

pub(super) struct ExprChecker<'c> {
    pub config: &'c Config,
    pub file: FileId,
    pub table: &'c TableConfig,
    pub schema: &'c TableSchema,
    pub names: &'c HashMap<String, (SegmentId, FileId, Span)>,
    pub diagnostics: &'c mut Vec<Diagnostic>,
    pub depends_on: &'c mut Vec<SegmentId>,
}

fn typed(kind: ExprKind, ty: Type, span: Span) -> TypedExpr {
    TypedExpr { kind, ty, span }
}

/// The value of a failed sub-expression: fits anywhere, so one mistake is reported once.
fn poisoned(span: Span) -> TypedExpr {
    typed(ExprKind::Const(Scalar::Null), Type::Unknown, span)
}

impl ExprChecker<'_> {
    fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn mismatch(&mut self, span: Span, message: String, label: String, help: Option<String>) {
        let mut diagnostic =
            Diagnostic::new(Code::TypeMismatch, message).at(self.file, span, label);
        if let Some(help) = help {
            diagnostic = diagnostic.help(help);
        }
        self.report(diagnostic);
    }

    /// A condition: an expression of type bool.
    pub fn condition(&mut self, expr: &ast::Expr, clause: &str) -> TypedExpr {
        let checked = self.expr(expr);
        self.expect_bool(checked, clause)
    }

    fn expect_bool(&mut self, checked: TypedExpr, context: &str) -> TypedExpr {
        if matches!(checked.ty, Type::Bool | Type::Unknown | Type::Null) {
            return checked;
        }
        let help = match checked.ty {
            Type::Number | Type::Integer => "compare it with a value, as in `ChurnScore >= 0.7`",
            Type::String => "compare it with a value, as in `Region = \"North\"`",
            _ => "compare it with a value",
        };
        self.mismatch(
            checked.span,
            format!(
                "`{context}` needs a condition, but this is {}",
                checked.ty.with_article()
            ),
            format!("{}, not a condition", checked.ty.with_article()),
            Some(help.to_string()),
        );
        poisoned(checked.span)
    }

    pub fn rank(&mut self, rank: &ast::RankClause) -> Option<Rank> {
        let amount = match super::amount(&rank.amount) {
            Ok(amount) => Some(amount),
            Err(problem) => {
                let word = match rank.direction {
                    ast::Direction::Top => "top",
                    ast::Direction::Bottom => "bottom",
                };
                self.report(
                    Diagnostic::new(
                        Code::InvalidAmount,
                        format!(
                            "`{word} {}` is not a valid amount",
                            amount_text(&rank.amount)
                        ),
                    )
                    .at(self.file, rank.amount.span, problem)
                    .help(
                        "keep a whole number of keys above 0, or a percentage above 0% up to 100%",
                    ),
                );
                None
            }
        };
        let by = self.expr(&rank.by);
        if !matches!(
            by.ty,
            Type::Number | Type::Integer | Type::Date | Type::Unknown
        ) {
            self.mismatch(
                by.span,
                format!(
                    "`by` needs a number or a date to rank on, but this is {}",
                    by.ty.with_article()
                ),
                by.ty.with_article().to_string(),
                None,
            );
            return None;
        }
        Some(Rank {
            direction: rank.direction,
            amount: amount?,
            with_ties: rank.with_ties,
            by,
        })
    }

    pub fn select(&mut self, columns: &[ast::Ident], keyword: Span) -> Vec<String> {
        let mut selected: Vec<String> = Vec::new();
        for column in columns {
            if column.name == self.table.key {
                self.report(
                    Diagnostic::new(
                        Code::ClauseConflict,
                        format!("the key column `{}` is always written", column.name),
                    )
                    .at(
                        self.file,
                        column.span,
                        "already the first column of the output",
                    )
                    .related(self.file, keyword, "in this `select`")
                    .help("remove it from `select`"),
                );
                continue;
            }
            if selected.contains(&column.name) {
                self.report(
                    Diagnostic::new(
                        Code::ClauseConflict,
                        format!("`{}` is selected twice", column.name),
                    )
                    .at(self.file, column.span, "repeated here")
                    .help("select each column once"),
                );
                continue;
            }
            if self.column_type(column).is_some() {
                selected.push(column.name.clone());
            }
        }
        selected
    }

    /// The type of a column of the segment's table, or `None` after reporting it unknown.
    fn column_type(&mut self, column: &ast::Ident) -> Option<Type> {
        if let Some(ty) = self.schema.column(&column.name) {
            return Some(ty);
        }
        if !self.schema.available {
            return Some(Type::Unknown);
        }
        let mut diagnostic = Diagnostic::new(
            Code::UnknownColumn,
            format!(
                "table `{}` has no column `{}`",
                self.table.name, column.name
            ),
        )
        .at(self.file, column.span, "not a column of this table");
        let help = did_you_mean(&column.name, self.schema.names()).unwrap_or_else(|| {
            format!(
                "the columns of `{}` are `{}`",
                self.table.name,
                self.schema.names().collect::<Vec<_>>().join("`, `")
            )
        });
        diagnostic = diagnostic.help(help);
        if column.name.eq_ignore_ascii_case("segment") || self.names.contains_key(&column.name) {
            diagnostic.help = Some(format!(
                "to test membership of a segment, write `in segment {}`",
                column.name
            ));
        }
        self.report(diagnostic);
        None
    }

    pub fn expr(&mut self, expr: &ast::Expr) -> TypedExpr {
        let span = expr.span;
        match &expr.kind {
            Ast::Column(column) => match self.column_type(column) {
                Some(ty) => typed(ExprKind::Column(column.name.clone()), ty, span),
                None => poisoned(span),
            },
            Ast::Literal(literal) => self.literal(literal, span),
            Ast::Paren(inner) => self.expr(inner),
            Ast::Neg(inner) => {
                let inner = self.expr(inner);
                let inner = self.numeric(inner, "`-`");
                let ty = inner.ty;
                typed(ExprKind::Neg(Box::new(inner)), ty, span)
            }
            Ast::Not(inner) => {
                let inner = self.expr(inner);
                let inner = self.expect_bool(inner, "not");
                typed(ExprKind::Not(Box::new(inner)), Type::Bool, span)
            }
            Ast::Logic { op, lhs, rhs, .. } => {
                let word = match op {
                    ast::LogicOp::And => "and",
                    ast::LogicOp::Or => "or",
                };
                let lhs = self.expr(lhs);
                let lhs = Box::new(self.expect_bool(lhs, word));
                let rhs = self.expr(rhs);
                let rhs = Box::new(self.expect_bool(rhs, word));
                let kind = match op {
                    ast::LogicOp::And => ExprKind::And(lhs, rhs),
                    ast::LogicOp::Or => ExprKind::Or(lhs, rhs),
                };
                typed(kind, Type::Bool, span)
            }
            Ast::Compare {
                op,
                op_span,
                lhs,
                rhs,
            } => {
                let lhs = self.expr(lhs);
                let rhs = self.expr(rhs);
                self.compare(*op, *op_span, lhs, rhs, span)
            }
            Ast::Arith { op, lhs, rhs, .. } => {
                let lhs = self.expr(lhs);
                let lhs = self.numeric(lhs, "arithmetic");
                let rhs = self.expr(rhs);
                let rhs = self.numeric(rhs, "arithmetic");
                let (lhs, rhs) = (to_number(lhs), to_number(rhs));
                typed(
                    ExprKind::Arith(*op, Box::new(lhs), Box::new(rhs)),
                    Type::Number,
                    span,
                )
            }
            Ast::Between {
                value,
                low,
                high,
                negated,
            } => {
                let value = self.expr(value);
                let low = self.expr(low);
                let high = self.expr(high);
                let lower = self.compare(CompareOp::Ge, low.span, value.clone(), low, span);
                let upper = self.compare(CompareOp::Le, high.span, value, high, span);
                let both = typed(
                    ExprKind::And(Box::new(lower), Box::new(upper)),
                    Type::Bool,
                    span,
                );
                if *negated {
                    typed(ExprKind::Not(Box::new(both)), Type::Bool, span)
                } else {
                    both
                }
            }
            Ast::InList {
                value,
                items,
                negated,
            } => self.in_list(value, items, *negated, span),
            Ast::IsNull { value, negated } => {
                let value = self.expr(value);
                typed(
                    ExprKind::IsNull {
                        value: Box::new(value),
                        negated: *negated,
                    },
                    Type::Bool,
                    span,
                )
            }
            Ast::Match {
                value, op, pattern, ..
            } => {
                let value = self.expr(value);
                if value.ty.is_known() && value.ty != Type::String {
                    self.mismatch(
                        value.span,
                        format!(
                            "text matching needs a string, but this is {}",
                            value.ty.with_article()
                        ),
                        value.ty.with_article().to_string(),
                        None,
                    );
                    return poisoned(span);
                }
                typed(
                    ExprKind::Match {
                        value: Box::new(value),
                        op: *op,
                        pattern: Arc::from(pattern.value.as_str()),
                    },
                    Type::Bool,
                    span,
                )
            }
            Ast::InSegment(name) => {
                let Some(target) = resolve_segment(self.names, self.file, name, self.diagnostics)
                else {
                    return poisoned(span);
                };
                if !self.depends_on.contains(&target) {
                    self.depends_on.push(target);
                }
                typed(ExprKind::InSegment(target), Type::Bool, span)
            }
            Ast::Call { function, args } => self.call(function, args, span),
        }
    }

    fn numeric(&mut self, expr: TypedExpr, context: &str) -> TypedExpr {
        if expr.ty.is_numeric() || !expr.ty.is_known() {
            return expr;
        }
        self.mismatch(
            expr.span,
            format!(
                "{context} needs numbers, but this is {}",
                expr.ty.with_article()
            ),
            expr.ty.with_article().to_string(),
            None,
        );
        poisoned(expr.span)
    }

    fn literal(&mut self, literal: &Literal, span: Span) -> TypedExpr {
        let scalar = match literal {
            Literal::Number(number) => number_scalar(&number.text),
            Literal::String(text) => Scalar::String(Arc::from(text.as_str())),
            Literal::Bool(value) => Scalar::Bool(*value),
            Literal::Null => Scalar::Null,
            Literal::Date(text) => match parse_date(&text.value) {
                Some(days) => Scalar::Date(days),
                None => {
                    self.report(
                        Diagnostic::new(
                            Code::InvalidLiteral,
                            format!("`{}` is not a date", text.value),
                        )
                        .at(self.file, text.span, "not a calendar date")
                        .help("dates are written `date \"YYYY-MM-DD\"`"),
                    );
                    return poisoned(span);
                }
            },
        };
        let ty = scalar_type(&scalar);
        typed(ExprKind::Const(scalar), ty, span)
    }

    fn compare(
        &mut self,
        op: CompareOp,
        op_span: Span,
        lhs: TypedExpr,
        rhs: TypedExpr,
        span: Span,
    ) -> TypedExpr {
        if lhs.ty == Type::Null || rhs.ty == Type::Null {
            let (word, fix) = match op {
                CompareOp::Ne => ("never true", "is not null"),
                _ => ("never true", "is null"),
            };
            self.report(
                Diagnostic::new(
                    Code::NullComparison,
                    format!("comparing with `null` with `{}` is {word}", op.as_str()),
                )
                .at(
                    self.file,
                    op_span.to(if lhs.ty == Type::Null {
                        lhs.span
                    } else {
                        rhs.span
                    }),
                    "always unknown, so no row qualifies",
                )
                .help(format!("write `{fix}`")),
            );
            return poisoned(span);
        }
        let Some((lhs, rhs)) = self.unify(lhs, rhs, op_span, "compare") else {
            return poisoned(span);
        };
        if matches!(
            op,
            CompareOp::Lt | CompareOp::Le | CompareOp::Gt | CompareOp::Ge
        ) && lhs.ty == Type::Bool
        {
            self.mismatch(
                op_span,
                format!("`{}` does not order bools", op.as_str()),
                "not an order on true and false".to_string(),
                Some("compare bools with `=` or `!=`, or use the bool alone".to_string()),
            );
            return poisoned(span);
        }
        typed(
            ExprKind::Compare(op, Box::new(lhs), Box::new(rhs)),
            Type::Bool,
            span,
        )
    }

    /// Brings two operands to one type (integer meets number as number), or reports why not.
    fn unify(
        &mut self,
        lhs: TypedExpr,
        rhs: TypedExpr,
        at: Span,
        verb: &str,
    ) -> Option<(TypedExpr, TypedExpr)> {
        if !lhs.ty.is_known() || !rhs.ty.is_known() || lhs.ty == rhs.ty {
            return Some((lhs, rhs));
        }
        if lhs.ty.is_numeric() && rhs.ty.is_numeric() {
            return Some((to_number(lhs), to_number(rhs)));
        }
        let help = type_help(&lhs, &rhs);
        self.mismatch(
            at,
            format!(
                "cannot {verb} {} with {}",
                lhs.ty.with_article(),
                rhs.ty.with_article()
            ),
            format!(
                "{} on the left, {} on the right",
                lhs.ty.as_str(),
                rhs.ty.as_str()
            ),
            help,
        );
        None
    }

    fn in_list(
        &mut self,
        value: &ast::Expr,
        items: &[ast::Expr],
        negated: bool,
        span: Span,
    ) -> TypedExpr {
        let mut value = self.expr(value);
        let mut scalars = Vec::with_capacity(items.len());
        let mut failed = false;
        for item in items {
            let scalar = match literal_value(item) {
                Some(scalar) => scalar,
                None => {
                    self.report(
                        Diagnostic::new(Code::Syntax, "an `in` list holds literals only")
                            .at(self.file, item.span, "not a literal")
                            .help("compare with `=` for computed values"),
                    );
                    failed = true;
                    continue;
                }
            };
            if scalar == Scalar::Null {
                self.report(
                    Diagnostic::new(Code::NullComparison, "`null` in an `in` list never matches")
                        .at(self.file, item.span, "never equal to anything")
                        .help("test for missing values with `is null`, joined with `or`"),
                );
                failed = true;
                continue;
            }
            if let Literal::Date(text) = match &item.kind {
                Ast::Literal(literal) => literal,
                _ => &Literal::Null,
            } {
                if parse_date(&text.value).is_none() {
                    self.report(
                        Diagnostic::new(
                            Code::InvalidLiteral,
                            format!("`{}` is not a date", text.value),
                        )
                        .at(self.file, text.span, "not a calendar date"),
                    );
                    failed = true;
                    continue;
                }
            }
            let ty = scalar_type(&scalar);
            let fits = !value.ty.is_known()
                || ty == value.ty
                || (ty.is_numeric() && value.ty.is_numeric());
            if !fits {
                self.mismatch(
                    item.span,
                    format!(
                        "{} list item for {} value",
                        ty.with_article(),
                        value.ty.with_article()
                    ),
                    ty.with_article().to_string(),
                    type_help(
                        &value,
                        &typed(ExprKind::Const(scalar.clone()), ty, item.span),
                    ),
                );
                failed = true;
                continue;
            }
            scalars.push(scalar);
        }
        if failed {
            return poisoned(span);
        }
        // Integers meet numbers as numbers, as in a comparison.
        let any_number = scalars.iter().any(|s| matches!(s, Scalar::Number(_)));
        if value.ty == Type::Number || (value.ty == Type::Integer && any_number) {
            value = to_number(value);
            for scalar in &mut scalars {
                if let Scalar::Integer(integer) = scalar {
                    *scalar = Scalar::Number(*integer as f64);
                }
            }
        }
        typed(
            ExprKind::InList {
                value: Box::new(value),
                items: scalars,
                negated,
            },
            Type::Bool,
            span,
        )
    }

    fn call(&mut self, function: &ast::Ident, args: &[ast::Expr], span: Span) -> TypedExpr {
        let name = function.name.as_str();
        if let Some(aggregate) = aggregate_named(name) {
            return self.aggregate(aggregate, function, args, span);
        }
        let Some(func) = function_named(name) else {
            let known = FUNCTIONS
                .iter()
                .map(|(n, _)| *n)
                .chain(AGGREGATES.iter().map(|(n, _)| *n));
            let mut diagnostic = Diagnostic::new(
                Code::UnknownFunction,
                format!("unknown function `{name}`"),
            )
            .at(self.file, function.span, "not a function segc has");
            diagnostic = diagnostic.help(did_you_mean(name, known).unwrap_or_else(|| {
                "the functions are `lower`, `upper`, `length`, `abs`, `round`, `coalesce`, \
                 `days_since`, and the aggregates `avg`, `min`, `max`, `sum`, `stddev`, \
                 `median`, `percentile`"
                    .to_string()
            }));
            self.report(diagnostic);
            return poisoned(span);
        };
        let mut checked: Vec<TypedExpr> = args.iter().map(|arg| self.expr(arg)).collect();
        // `round(x, -1)`: the minus is an operator on the literal; fold it into the literal.
        if func == Function::Round {
            if let Some(digits) = checked.get_mut(1) {
                if let ExprKind::Neg(inner) = &digits.kind {
                    if let ExprKind::Const(Scalar::Integer(d)) = inner.kind {
                        digits.kind = ExprKind::Const(Scalar::Integer(d.wrapping_neg()));
                        digits.ty = Type::Integer;
                    }
                }
            }
        }
        let arity = |count: usize| -> Option<String> {
            (checked.len() != count).then(|| {
                format!(
                    "`{name}` takes {count} argument{}",
                    if count == 1 { "" } else { "s" }
                )
            })
        };
        let wrong_count = match func {
            Function::Round => arity(2),
            Function::Coalesce => {
                (checked.len() < 2).then(|| "`coalesce` takes two or more arguments".to_string())
            }
            _ => arity(1),
        };
        if let Some(message) = wrong_count {
            self.report(Diagnostic::new(Code::TypeMismatch, message).at(
                self.file,
                span,
                format!("{} given", checked.len()),
            ));
            return poisoned(span);
        }
        let want = |checker: &mut Self, arg: &TypedExpr, ok: &[Type], what: &str| -> bool {
            if !arg.ty.is_known() || ok.contains(&arg.ty) {
                return true;
            }
            checker.mismatch(
                arg.span,
                format!(
                    "`{name}` needs {what}, but this is {}",
                    arg.ty.with_article()
                ),
                arg.ty.with_article().to_string(),
                None,
            );
            false
        };
        let numbers = [Type::Integer, Type::Number];
        let ty = match func {
            Function::Lower | Function::Upper => {
                if !want(self, &checked[0], &[Type::String], "a string") {
                    return poisoned(span);
                }
                Type::String
            }
            Function::Length => {
                if !want(self, &checked[0], &[Type::String], "a string") {
                    return poisoned(span);
                }
                Type::Integer
            }
            Function::Abs => {
                if !want(self, &checked[0], &numbers, "a number") {
                    return poisoned(span);
                }
                checked[0].ty
            }
            Function::Round => {
                let ok = want(self, &checked[0], &numbers, "a number");
                let digits = matches!(checked[1].kind, ExprKind::Const(Scalar::Integer(_)));
                if !digits {
                    self.mismatch(
                        checked[1].span,
                        "`round` takes a whole number of decimal places".to_string(),
                        "not an integer literal".to_string(),
                        Some("write `round(x, 2)`".to_string()),
                    );
                }
                if !ok || !digits {
                    return poisoned(span);
                }
                Type::Number
            }
            Function::DaysSince => {
                if !want(self, &checked[0], &[Type::Date], "a date") {
                    return poisoned(span);
                }
                if self.config.as_of.is_none() {
                    self.report(
                        Diagnostic::new(Code::Config, "`days_since` needs a reference date")
                            .at(self.file, function.span, "counts days up to `as_of`")
                            .help("set `as_of = \"YYYY-MM-DD\"` in segc.toml"),
                    );
                    return poisoned(span);
                }
                Type::Integer
            }
            Function::Coalesce => return self.coalesce(checked, span),
        };
        let args = if func == Function::Round {
            let mut args = checked.into_iter();
            let value = args.next().map(to_number);
            value.into_iter().chain(args).collect()
        } else {
            checked
        };
        typed(ExprKind::Call(func, args), ty, span)
    }

    fn coalesce(&mut self, args: Vec<TypedExpr>, span: Span) -> TypedExpr {
        let known: Vec<Type> = args.iter().map(|a| a.ty).filter(|t| t.is_known()).collect();
        let ty = if known.is_empty() {
            Type::Unknown
        } else if known.iter().all(|t| t.is_numeric()) {
            if known.contains(&Type::Number) {
                Type::Number
            } else {
                Type::Integer
            }
        } else if known.iter().all(|t| *t == known[0]) {
            known[0]
        } else {
            let other = args
                .iter()
                .rev()
                .find(|a| a.ty.is_known() && a.ty != known[0]);
            self.mismatch(
                other.map_or(span, |a| a.span),
                "`coalesce` needs arguments of one type".to_string(),
                other.map_or("a value", |a| a.ty.with_article()).to_string(),
                Some(format!("the first argument is {}", known[0].with_article())),
            );
            return poisoned(span);
        };
        let args = if ty == Type::Number {
            args.into_iter().map(to_number).collect()
        } else {
            args
        };
        typed(ExprKind::Call(Function::Coalesce, args), ty, span)
    }

    fn aggregate(
        &mut self,
        function: Aggregate,
        name: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
    ) -> TypedExpr {
        let wanted = if function == Aggregate::Percentile {
            2
        } else {
            1
        };
        if args.len() != wanted {
            self.report(
                Diagnostic::new(
                    Code::TypeMismatch,
                    format!(
                        "`{}` takes {}",
                        name.name,
                        if wanted == 2 {
                            "a column and a fraction"
                        } else {
                            "one column"
                        }
                    ),
                )
                .at(self.file, span, format!("{} given", args.len())),
            );
            return poisoned(span);
        }
        let column = match &args[0].kind {
            Ast::Column(column) => column,
            _ => {
                self.report(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!("`{}` aggregates a column of the table", name.name),
                    )
                    .at(self.file, args[0].span, "not a column")
                    .help("table aggregates take a column name, as in `avg(CLVScore)`"),
                );
                return poisoned(span);
            }
        };
        let Some(column_type) = self.column_type(column) else {
            return poisoned(span);
        };
        let orderable = [Type::Integer, Type::Number, Type::Date];
        let allowed: &[Type] = match function {
            Aggregate::Min | Aggregate::Max => &orderable,
            _ => &orderable[..2],
        };
        if column_type.is_known() && !allowed.contains(&column_type) {
            self.mismatch(
                column.span,
                format!(
                    "`{}` needs a numeric column, but `{}` is {}",
                    name.name,
                    column.name,
                    column_type.with_article()
                ),
                format!("{} column", column_type.with_article()),
                None,
            );
            return poisoned(span);
        }
        let fraction = if function == Aggregate::Percentile {
            let value = literal_value(&args[1]).and_then(|scalar| match scalar {
                Scalar::Number(value) => Some(value),
                Scalar::Integer(value) => Some(value as f64),
                _ => None,
            });
            match value {
                Some(value) if (0.0..=1.0).contains(&value) => Some(value),
                _ => {
                    self.report(
                        Diagnostic::new(
                            Code::InvalidAmount,
                            "`percentile` takes a fraction from 0 to 1",
                        )
                        .at(self.file, args[1].span, "not a number from 0 to 1")
                        .help("the 80th percentile is `percentile(CLVScore, 0.8)`"),
                    );
                    return poisoned(span);
                }
            }
        } else {
            None
        };
        let ty = match function {
            Aggregate::Min | Aggregate::Max => column_type,
            _ => Type::Number,
        };
        typed(
            ExprKind::Aggregate {
                function,
                column: column.name.clone(),
                fraction,
            },
            ty,
            span,
        )
    }
}

const FUNCTIONS: &[(&str, Function)] = &[
    ("lower", Function::Lower),
    ("upper", Function::Upper),
    ("length", Function::Length),
    ("abs", Function::Abs),
    ("round", Function::Round),
    ("coalesce", Function::Coalesce),
    ("days_since", Function::DaysSince),
];

const AGGREGATES: &[(&str, Aggregate)] = &[
    ("avg", Aggregate::Avg),
    ("min", Aggregate::Min),
    ("max", Aggregate::Max),
    ("sum", Aggregate::Sum),
    ("stddev", Aggregate::Stddev),
    ("median", Aggregate::Median),
    ("percentile", Aggregate::Percentile),
];

fn function_named(name: &str) -> Option<Function> {
    FUNCTIONS.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
}

fn aggregate_named(name: &str) -> Option<Aggregate> {
    AGGREGATES.iter().find(|(n, _)| *n == name).map(|&(_, a)| a)
}

fn amount_text(quantity: &ast::Quantity) -> String {
    format!(
        "{}{}",
        quantity.number.text,
        if quantity.percent { "%" } else { "" }
    )
}

/// An integer literal stays an integer when it fits; anything with a point or an exponent
/// is a number.
fn number_scalar(text: &str) -> Scalar {
    let clean = text.replace('_', "");
    if !clean.contains(['.', 'e', 'E']) {
        if let Ok(integer) = clean.parse::<i64>() {
            return Scalar::Integer(integer);
        }
    }
    Scalar::Number(clean.parse().unwrap_or(f64::NAN))
}

fn scalar_type(scalar: &Scalar) -> Type {
    match scalar {
        Scalar::Null => Type::Null,
        Scalar::Bool(_) => Type::Bool,
        Scalar::Integer(_) => Type::Integer,
        Scalar::Number(_) => Type::Number,
        Scalar::Date(_) => Type::Date,
        Scalar::String(_) => Type::String,
    }
}

/// The value of a literal item, a negated number included.
fn literal_value(expr: &ast::Expr) -> Option<Scalar> {
    match &expr.kind {
        Ast::Literal(Literal::Number(number)) => Some(number_scalar(&number.text)),
        Ast::Literal(Literal::String(text)) => Some(Scalar::String(Arc::from(text.as_str()))),
        Ast::Literal(Literal::Bool(value)) => Some(Scalar::Bool(*value)),
        Ast::Literal(Literal::Null) => Some(Scalar::Null),
        Ast::Literal(Literal::Date(text)) => {
            Some(parse_date(&text.value).map_or(Scalar::Null, Scalar::Date))
        }
        Ast::Neg(inner) => match literal_value(inner)? {
            Scalar::Integer(value) => Some(Scalar::Integer(-value)),
            Scalar::Number(value) => Some(Scalar::Number(-value)),
            _ => None,
        },
        Ast::Paren(inner) => literal_value(inner),
        _ => None,
    }
}

fn to_number(expr: TypedExpr) -> TypedExpr {
    if expr.ty != Type::Integer {
        return expr;
    }
    let span = expr.span;
    match expr.kind {
        ExprKind::Const(Scalar::Integer(value)) => typed(
            ExprKind::Const(Scalar::Number(value as f64)),
            Type::Number,
            span,
        ),
        _ => typed(ExprKind::ToNumber(Box::new(expr)), Type::Number, span),
    }
}

/// A hint for the usual type mistakes: quoting a number, a bool written as a word.
fn type_help(lhs: &TypedExpr, rhs: &TypedExpr) -> Option<String> {
    let (column, literal) = match (&lhs.kind, &rhs.kind) {
        (_, ExprKind::Const(scalar)) => (lhs, scalar),
        (ExprKind::Const(scalar), _) => (rhs, scalar),
        _ => return None,
    };
    match (column.ty, literal) {
        (Type::Bool, Scalar::String(text)) => Some(format!(
            "a bool is `true` or `false`, not `\"{text}\"`; or use the column alone as a condition"
        )),
        (Type::Number | Type::Integer, Scalar::String(text)) if text.parse::<f64>().is_ok() => {
            Some(format!("write the number without quotes: `{text}`"))
        }
        (Type::Date, Scalar::String(text)) => Some(format!("write a date as `date \"{text}\"`")),
        (Type::String, Scalar::Integer(_) | Scalar::Number(_)) => {
            Some("put the value in quotes to compare it as text".to_string())
        }
        _ => None,
    }
}
