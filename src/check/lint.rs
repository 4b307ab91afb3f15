//! Warnings about conditions that are legal but almost certainly not what the author meant:
//! contradictions (`never-true`), tautologies (`always-true`), exact comparisons of
//! fractional numbers (`float-equality`) and repeats (`duplicate-condition`).
//!
//! Contradictions and tautologies are decided over one column at a time. The conditions
//! of an `and` or `or` chain that mention only one column (compared with literals) can
//! only change their truth at the literals they name, so evaluating them at each literal,
//! between neighbours, beyond the ends and at null decides them exactly. A model column's
//! domain narrows the values tried, which is how `ChurnScore > 70` is caught.

use std::collections::BTreeSet;

use crate::config::TableConfig;
use crate::diag::{Code, Diagnostic};
use crate::models::Domain;
use crate::source::{FileId, Span};
use crate::syntax::ast::CompareOp;

use super::ir::{ExprKind, Scalar, Type, TypedExpr};

/// Lints the `where` condition of a segment drawn from `table`.
pub fn condition(file: FileId, table: &TableConfig, filter: &TypedExpr) -> Vec<Diagnostic> {
    let mut linter = Linter {
        file,
        table,
        found: Vec::new(),
    };
    linter.walk(filter, true);
    linter.float_equality(filter);
    linter.found
}

struct Linter<'a> {
    file: FileId,
    table: &'a TableConfig,
    found: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chain {
    And,
    Or,
}

impl Linter<'_> {
    /// Lints `expr` and everything below it; `root` marks a condition standing alone,
    /// which is checked as a chain of one.
    fn walk(&mut self, expr: &TypedExpr, root: bool) {
        match &expr.kind {
            ExprKind::And(..) | ExprKind::Or(..) => {
                let chain = if matches!(expr.kind, ExprKind::And(..)) {
                    Chain::And
                } else {
                    Chain::Or
                };
                let mut items = Vec::new();
                flatten(expr, chain, &mut items);
                self.duplicates(chain, &items);
                self.chain(chain, &items);
                for item in items {
                    self.walk(item, false);
                }
            }
            ExprKind::Not(inner) => self.walk(inner, false),
            _ if root => self.chain(Chain::And, &[expr]),
            _ => {}
        }
    }

    /// A condition written twice in one chain.
    fn duplicates(&mut self, chain: Chain, items: &[&TypedExpr]) {
        for (i, item) in items.iter().enumerate() {
            if let Some(first) = items[..i].iter().find(|earlier| same(earlier, item)) {
                let word = if chain == Chain::And { "and" } else { "or" };
                self.found.push(
                    Diagnostic::new(Code::DuplicateCondition, "this condition is written twice")
                        .at(self.file, item.span, "the same as an earlier condition")
                        .related(self.file, first.span, "first written here")
                        .help(format!(
                            "remove the repeat: `x {word} x` means the same as `x`, so one of \
                             them is likely meant to be something else"
                        )),
                );
            }
        }
    }

    /// Contradictions in an `and` chain, tautologies in an `or` chain, and conditions
    /// that cannot hold on their own.
    fn chain(&mut self, chain: Chain, items: &[&TypedExpr]) {
        let mut columns: Vec<(&str, Vec<&TypedExpr>)> = Vec::new();
        for item in items {
            let Some(column) = single_column(item) else {
                continue;
            };
            match columns.iter_mut().find(|(name, _)| *name == column) {
                Some((_, group)) => group.push(item),
                None => columns.push((column, vec![item])),
            }
        }
        for (column, group) in columns {
            let space = self.space(column, &group);
            for item in &group {
                if is_atom(item) {
                    self.alone(column, item, &space);
                }
            }
            let live: Vec<&TypedExpr> = group
                .iter()
                .copied()
                .filter(|item| !space.never(&[item]) && !space.always(&[item]))
                .collect();
            match chain {
                Chain::And => self.contradiction(column, items, &live, &space),
                Chain::Or => self.tautology(column, items, &live, &space),
            }
        }
    }

    /// The values worth trying for `column` in these conditions.
    fn space(&self, column: &str, group: &[&TypedExpr]) -> Space {
        let mut literals = Vec::new();
        for item in group {
            literals_of(item, &mut literals);
        }
        let ty = group.iter().find_map(|item| column_type(item, column));
        let domain = self
            .table
            .model
            .and_then(|model| model.column(column))
            .and_then(|c| c.domain);
        let nullable = column != self.table.key;
        Space::new(
            column,
            ty.unwrap_or(Type::Unknown),
            &literals,
            domain,
            nullable,
        )
    }

    /// A single comparison that can never, or always, hold.
    fn alone(&mut self, column: &str, item: &TypedExpr, space: &Space) {
        if space.never(&[item]) {
            let mut diagnostic = Diagnostic::new(
                Code::NeverTrue,
                format!("this condition on `{column}` is never true"),
            )
            .at(self.file, item.span, "no value satisfies this");
            if let Some(domain) = space.domain {
                diagnostic = diagnostic.help(domain_help(domain, item));
            }
            self.found.push(diagnostic);
        } else if space.always(&[item]) {
            self.found.push(
                Diagnostic::new(
                    Code::AlwaysTrue,
                    format!("this condition on `{column}` is always true"),
                )
                .at(self.file, item.span, "every row satisfies this")
                .help("remove the condition, or check the value it compares with"),
            );
        }
    }

    /// The first condition of an `and` chain that leaves no value, reported with the
    /// fewest earlier conditions that together with it exclude every value.
    fn contradiction(
        &mut self,
        column: &str,
        chain: &[&TypedExpr],
        items: &[&TypedExpr],
        space: &Space,
    ) {
        let Some(last) = (1..items.len()).find(|&k| space.never(&items[..=k])) else {
            return;
        };
        let culprit = items[last];
        let partners: Vec<&TypedExpr> = match items[..last]
            .iter()
            .find(|earlier| space.never(&[earlier, culprit]))
        {
            Some(earlier) => vec![earlier],
            None => items[..last].to_vec(),
        };
        let mut diagnostic = Diagnostic::new(
            Code::NeverTrue,
            format!("these conditions on `{column}` are never true together"),
        );
        diagnostic = self.place(
            diagnostic,
            chain,
            &partners,
            culprit,
            "no value satisfies all",
        );
        let help = match (partners.as_slice(), bounds(culprit)) {
            // `between` is checked as its two comparisons, which share its span.
            ([low], Some(high)) if low.span == culprit.span => match bounds(low) {
                Some(low) => format!(
                    "`between` takes the lower bound first: `between {} and {}`",
                    show(&high),
                    show(&low)
                ),
                None => "`between` takes the lower bound first".to_string(),
            },
            _ => "one of these is likely a mistake; to accept rows that meet either, join \
                  them with `or`"
                .to_string(),
        };
        self.found.push(diagnostic.help(help));
    }

    /// An `or` chain whose conditions on one column together admit every value.
    fn tautology(
        &mut self,
        column: &str,
        chain: &[&TypedExpr],
        items: &[&TypedExpr],
        space: &Space,
    ) {
        if items.len() < 2 || !space.always(items) {
            return;
        }
        // Drop every condition the rest still cover without.
        let mut needed: Vec<&TypedExpr> = items.to_vec();
        let mut i = 0;
        while i < needed.len() {
            let mut without = needed.clone();
            without.remove(i);
            if without.len() >= 2 && space.always(&without) {
                needed = without;
            } else {
                i += 1;
            }
        }
        let (culprit, partners) = needed.split_last().expect("at least two conditions");
        let mut diagnostic = Diagnostic::new(
            Code::AlwaysTrue,
            format!("these conditions on `{column}` together are always true"),
        );
        diagnostic = self.place(diagnostic, chain, partners, culprit, "every row passes one");
        let help = if space.nullable {
            format!("the chain admits every value of `{column}` and null; remove it")
        } else {
            format!("the chain admits every value of `{column}`; remove it")
        };
        self.found.push(diagnostic.help(help));
    }

    /// One label over the conditions when nothing else of the chain stands between them;
    /// otherwise the last one labelled and the others pointed at.
    fn place(
        &self,
        diagnostic: Diagnostic,
        chain: &[&TypedExpr],
        partners: &[&TypedExpr],
        culprit: &TypedExpr,
        label: &str,
    ) -> Diagnostic {
        let start = partners
            .iter()
            .map(|p| p.span.start)
            .min()
            .unwrap_or(usize::MAX);
        let covering = Span::new(start.min(culprit.span.start), culprit.span.end);
        let involved = |item: &TypedExpr| {
            std::ptr::eq(item, culprit) || partners.iter().any(|p| std::ptr::eq(*p, item))
        };
        let interlopers = chain.iter().any(|item| {
            !involved(item) && covering.start <= item.span.start && item.span.end <= covering.end
        });
        if !interlopers {
            return diagnostic.at(self.file, covering, label);
        }
        let mut diagnostic = diagnostic.at(self.file, culprit.span, label);
        for partner in partners {
            diagnostic = diagnostic.related(self.file, partner.span, "together with this");
        }
        diagnostic
    }

    /// `=`, `!=` and `in` on fractional numbers.
    fn float_equality(&mut self, expr: &TypedExpr) {
        match &expr.kind {
            ExprKind::Compare(op @ (CompareOp::Eq | CompareOp::Ne), lhs, rhs)
                if lhs.ty == Type::Number || rhs.ty == Type::Number =>
            {
                let word = if *op == CompareOp::Eq { "=" } else { "!=" };
                let help = match (column_name(lhs), literal(rhs).as_ref().and_then(number)) {
                    (Some(column), Some(value)) if *op == CompareOp::Eq => format!(
                        "compare with a tolerance instead: `abs({column} - {value}) < 0.000001`"
                    ),
                    _ => "compare with a tolerance instead, as in `abs(x - 0.7) < 0.000001`"
                        .to_string(),
                };
                self.found.push(
                    Diagnostic::new(
                        Code::FloatEquality,
                        format!("`{word}` on fractional numbers is unreliable"),
                    )
                    .at(self.file, expr.span, "exact comparison of numbers")
                    .help(help),
                );
            }
            ExprKind::InList { value, .. } if value.ty == Type::Number => {
                self.found.push(
                    Diagnostic::new(
                        Code::FloatEquality,
                        "`in` on fractional numbers is unreliable",
                    )
                    .at(self.file, expr.span, "exact comparison of numbers")
                    .help(format!(
                        "compare with ranges instead: `{} between 0.69 and 0.71 or …`",
                        column_name(value).unwrap_or("x")
                    )),
                );
            }
            _ => {}
        }
        for child in children(expr) {
            self.float_equality(child);
        }
    }
}

/// The items of a chain of one operator, left to right.
fn flatten<'e>(expr: &'e TypedExpr, chain: Chain, items: &mut Vec<&'e TypedExpr>) {
    match (&expr.kind, chain) {
        (ExprKind::And(lhs, rhs), Chain::And) | (ExprKind::Or(lhs, rhs), Chain::Or) => {
            flatten(lhs, chain, items);
            flatten(rhs, chain, items);
        }
        _ => items.push(expr),
    }
}

fn is_atom(expr: &TypedExpr) -> bool {
    !matches!(
        expr.kind,
        ExprKind::And(..) | ExprKind::Or(..) | ExprKind::Not(..)
    )
}

fn children(expr: &TypedExpr) -> Vec<&TypedExpr> {
    match &expr.kind {
        ExprKind::Column(_)
        | ExprKind::Const(_)
        | ExprKind::InSegment(_)
        | ExprKind::Aggregate { .. } => Vec::new(),
        ExprKind::ToNumber(inner) | ExprKind::Neg(inner) | ExprKind::Not(inner) => vec![inner],
        ExprKind::And(lhs, rhs)
        | ExprKind::Or(lhs, rhs)
        | ExprKind::Compare(_, lhs, rhs)
        | ExprKind::Arith(_, lhs, rhs) => vec![lhs, rhs],
        ExprKind::InList { value, .. }
        | ExprKind::IsNull { value, .. }
        | ExprKind::Match { value, .. } => vec![value],
        ExprKind::Call(_, args) => args.iter().collect(),
    }
}

/// Whether two expressions are the same, wherever they were written.
fn same(a: &TypedExpr, b: &TypedExpr) -> bool {
    let shallow = match (&a.kind, &b.kind) {
        (ExprKind::Column(x), ExprKind::Column(y)) => x == y,
        (ExprKind::Const(x), ExprKind::Const(y)) => x == y,
        (ExprKind::ToNumber(_), ExprKind::ToNumber(_))
        | (ExprKind::Neg(_), ExprKind::Neg(_))
        | (ExprKind::Not(_), ExprKind::Not(_))
        | (ExprKind::And(..), ExprKind::And(..))
        | (ExprKind::Or(..), ExprKind::Or(..)) => true,
        (ExprKind::Compare(x, ..), ExprKind::Compare(y, ..)) => x == y,
        (ExprKind::Arith(x, ..), ExprKind::Arith(y, ..)) => x == y,
        (
            ExprKind::InList {
                items: x,
                negated: m,
                ..
            },
            ExprKind::InList {
                items: y,
                negated: n,
                ..
            },
        ) => x == y && m == n,
        (ExprKind::IsNull { negated: m, .. }, ExprKind::IsNull { negated: n, .. }) => m == n,
        (
            ExprKind::Match {
                op: x, pattern: p, ..
            },
            ExprKind::Match {
                op: y, pattern: q, ..
            },
        ) => x == y && p == q,
        (ExprKind::InSegment(x), ExprKind::InSegment(y)) => x == y,
        (ExprKind::Call(x, _), ExprKind::Call(y, _)) => x == y,
        (
            ExprKind::Aggregate {
                function: f,
                column: c,
                fraction: p,
            },
            ExprKind::Aggregate {
                function: g,
                column: d,
                fraction: q,
            },
        ) => f == g && c == d && p == q,
        _ => false,
    };
    let (left, right) = (children(a), children(b));
    shallow && left.len() == right.len() && left.iter().zip(&right).all(|(x, y)| same(x, y))
}

/// The one column an analysable condition is about: comparisons, `between`, `in`,
/// `is null` and bool columns, over one column and literals, joined by `and`, `or` and
/// `not`.
fn single_column(expr: &TypedExpr) -> Option<&str> {
    match &expr.kind {
        ExprKind::Column(name) if expr.ty == Type::Bool => Some(name),
        ExprKind::Not(inner) => single_column(inner),
        ExprKind::And(lhs, rhs) | ExprKind::Or(lhs, rhs) => {
            let column = single_column(lhs)?;
            (single_column(rhs)? == column).then_some(column)
        }
        ExprKind::Compare(op, lhs, rhs) => {
            let (column, value) = match (column_name(lhs), column_name(rhs)) {
                (Some(column), None) => (column, rhs),
                (None, Some(column)) => (column, lhs),
                _ => return None,
            };
            let value = literal(value)?;
            let ordered = !matches!(op, CompareOp::Eq | CompareOp::Ne);
            // Strings are analysed by equality only; their order is left alone.
            if ordered && matches!(value, Scalar::String(_)) {
                return None;
            }
            Some(column)
        }
        ExprKind::InList { value, items, .. } => {
            let column = column_name(value)?;
            (!items.iter().any(|item| matches!(item, Scalar::Null))).then_some(column)
        }
        ExprKind::IsNull { value, .. } => column_name(value),
        _ => None,
    }
}

/// The column an operand reads, through integer-to-number widening.
fn column_name(expr: &TypedExpr) -> Option<&str> {
    match &expr.kind {
        ExprKind::Column(name) => Some(name),
        ExprKind::ToNumber(inner) => column_name(inner),
        _ => None,
    }
}

fn column_type(expr: &TypedExpr, column: &str) -> Option<Type> {
    match &expr.kind {
        ExprKind::Column(name) if name == column => Some(expr.ty),
        ExprKind::ToNumber(inner) => column_type(inner, column),
        _ => children(expr)
            .into_iter()
            .find_map(|child| column_type(child, column)),
    }
}

/// A literal operand, with a unary minus folded in.
fn literal(expr: &TypedExpr) -> Option<Scalar> {
    match &expr.kind {
        ExprKind::Const(Scalar::Null) => None,
        ExprKind::Const(value) => Some(value.clone()),
        ExprKind::ToNumber(inner) => match literal(inner)? {
            Scalar::Integer(i) => Some(Scalar::Number(i as f64)),
            other => Some(other),
        },
        ExprKind::Neg(inner) => match literal(inner)? {
            Scalar::Integer(i) => Some(Scalar::Integer(i.checked_neg()?)),
            Scalar::Number(x) => Some(Scalar::Number(-x)),
            _ => None,
        },
        _ => None,
    }
}

fn literals_of(expr: &TypedExpr, into: &mut Vec<Scalar>) {
    match &expr.kind {
        ExprKind::InList { items, .. } => into.extend(items.iter().cloned()),
        _ => {
            if let Some(value) = literal(expr) {
                into.push(value);
            }
            for child in children(expr) {
                literals_of(child, into);
            }
        }
    }
}

/// A value tried for the column.
#[derive(Debug, Clone)]
enum Probe {
    Null,
    Number(f64),
    String(Option<String>),
    Bool(bool),
}

/// The values that decide every analysable condition on one column.
#[derive(Debug)]
struct Space {
    column: String,
    probes: Vec<Probe>,
    domain: Option<Domain>,
    nullable: bool,
}

impl Space {
    fn new(
        column: &str,
        ty: Type,
        literals: &[Scalar],
        domain: Option<Domain>,
        nullable: bool,
    ) -> Space {
        let mut probes = Vec::new();
        if nullable {
            probes.push(Probe::Null);
        }
        match ty {
            Type::Bool => probes.extend([Probe::Bool(false), Probe::Bool(true)]),
            Type::String => {
                let words: BTreeSet<&str> = literals
                    .iter()
                    .filter_map(|l| match l {
                        Scalar::String(s) => Some(&**s),
                        _ => None,
                    })
                    .collect();
                probes.extend(words.iter().map(|w| Probe::String(Some(w.to_string()))));
                // Any other string behaves as one that no literal names.
                probes.push(Probe::String(None));
            }
            Type::Integer | Type::Number | Type::Date => {
                let whole = ty != Type::Number;
                let mut points: Vec<f64> = literals
                    .iter()
                    .filter_map(|l| match l {
                        Scalar::Integer(i) => Some(*i as f64),
                        Scalar::Number(x) => Some(*x),
                        Scalar::Date(d) => Some(f64::from(*d)),
                        _ => None,
                    })
                    .filter(|x| x.is_finite())
                    .collect();
                if let Some(domain) = domain {
                    points.extend(
                        [domain.min, domain.max]
                            .into_iter()
                            .filter(|x| x.is_finite()),
                    );
                }
                points.sort_by(f64::total_cmp);
                points.dedup();
                let mut tried = Vec::new();
                for (i, &point) in points.iter().enumerate() {
                    tried.push(point);
                    if whole {
                        tried.extend([point.floor() - 1.0, point.floor(), point.ceil()]);
                        tried.push(point.ceil() + 1.0);
                    } else {
                        match points.get(i + 1) {
                            Some(next) => tried.push(point + (next - point) / 2.0),
                            None => tried.push(point + point.abs().max(1.0)),
                        }
                        if i == 0 {
                            tried.push(point - point.abs().max(1.0));
                        }
                    }
                }
                if tried.is_empty() {
                    tried.push(0.0);
                }
                let inside = |x: &f64| domain.is_none_or(|d| d.min <= *x && *x <= d.max);
                tried.retain(inside);
                tried.sort_by(f64::total_cmp);
                tried.dedup();
                probes.extend(tried.into_iter().map(Probe::Number));
            }
            Type::Null | Type::Unknown => probes.clear(),
        }
        Space {
            column: column.to_string(),
            probes,
            domain,
            nullable,
        }
    }

    /// No value makes every condition true.
    fn never(&self, items: &[&TypedExpr]) -> bool {
        !self.probes.is_empty()
            && self.probes.iter().all(|probe| {
                items
                    .iter()
                    .any(|item| truth(item, &self.column, probe) != Some(Truth::True))
            })
    }

    /// Every value makes some condition true.
    fn always(&self, items: &[&TypedExpr]) -> bool {
        !self.probes.is_empty()
            && self.probes.iter().all(|probe| {
                items
                    .iter()
                    .any(|item| truth(item, &self.column, probe) == Some(Truth::True))
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }

    fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }

    fn or(self, other: Truth) -> Truth {
        self.not().and(other.not()).not()
    }

    fn of(value: bool) -> Truth {
        if value {
            Truth::True
        } else {
            Truth::False
        }
    }
}

/// The truth of a condition when the column holds `probe`, in three-valued logic; `None`
/// when the condition is not one this module decides.
fn truth(expr: &TypedExpr, column: &str, probe: &Probe) -> Option<Truth> {
    match &expr.kind {
        ExprKind::Column(name) if name == column => match probe {
            Probe::Null => Some(Truth::Unknown),
            Probe::Bool(b) => Some(Truth::of(*b)),
            _ => None,
        },
        ExprKind::Not(inner) => Some(truth(inner, column, probe)?.not()),
        ExprKind::And(lhs, rhs) => Some(truth(lhs, column, probe)?.and(truth(rhs, column, probe)?)),
        ExprKind::Or(lhs, rhs) => Some(truth(lhs, column, probe)?.or(truth(rhs, column, probe)?)),
        ExprKind::IsNull { negated, .. } => {
            let null = matches!(probe, Probe::Null);
            Some(Truth::of(null != *negated))
        }
        ExprKind::InList { items, negated, .. } => {
            if matches!(probe, Probe::Null) {
                return Some(Truth::Unknown);
            }
            let found = items.iter().any(|item| equals(probe, item) == Some(true));
            Some(Truth::of(found != *negated))
        }
        ExprKind::Compare(op, lhs, rhs) => {
            let (op, value) = if column_name(lhs).is_some() {
                (*op, literal(rhs)?)
            } else {
                (flip(*op), literal(lhs)?)
            };
            if matches!(probe, Probe::Null) {
                return Some(Truth::Unknown);
            }
            let result = match op {
                CompareOp::Eq => equals(probe, &value)?,
                CompareOp::Ne => !equals(probe, &value)?,
                _ => {
                    let (Probe::Number(x), Some(y)) = (probe, number(&value)) else {
                        return None;
                    };
                    match op {
                        CompareOp::Lt => *x < y,
                        CompareOp::Le => *x <= y,
                        CompareOp::Gt => *x > y,
                        _ => *x >= y,
                    }
                }
            };
            Some(Truth::of(result))
        }
        _ => None,
    }
}

/// The literal a comparison holds its column against.
fn bounds(expr: &TypedExpr) -> Option<Scalar> {
    match &expr.kind {
        ExprKind::Compare(_, lhs, rhs) => literal(rhs).or_else(|| literal(lhs)),
        _ => None,
    }
}

/// A literal as it would be written in a `.seg` file.
fn show(value: &Scalar) -> String {
    match value {
        Scalar::Null => "null".to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Integer(i) => i.to_string(),
        Scalar::Number(x) => x.to_string(),
        Scalar::Date(days) => format!("date \"{}\"", crate::data::format_date(*days)),
        Scalar::String(s) => format!("{s:?}"),
    }
}

/// `a OP b` as `b OP' a`.
fn flip(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::Le => CompareOp::Ge,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::Ge => CompareOp::Le,
        other => other,
    }
}

fn number(value: &Scalar) -> Option<f64> {
    match value {
        Scalar::Integer(i) => Some(*i as f64),
        Scalar::Number(x) => Some(*x),
        Scalar::Date(d) => Some(f64::from(*d)),
        _ => None,
    }
}

fn equals(probe: &Probe, value: &Scalar) -> Option<bool> {
    match (probe, value) {
        (Probe::Number(x), _) => Some(*x == number(value)?),
        (Probe::String(word), Scalar::String(s)) => Some(word.as_deref() == Some(&**s)),
        (Probe::Bool(b), Scalar::Bool(c)) => Some(b == c),
        _ => None,
    }
}

/// The help line for a comparison outside a model column's domain, with the likely
/// intended value for a percentage written where a fraction belongs.
fn domain_help(domain: Domain, item: &TypedExpr) -> String {
    let meaning = domain.meaning;
    let Some(value) = bounds(item).as_ref().and_then(number) else {
        return meaning.to_string();
    };
    if domain.max == 1.0 && value > 1.0 && value <= 100.0 {
        format!("{meaning}; did you mean {:.2}?", value / 100.0)
    } else {
        meaning.to_string()
    }
}
