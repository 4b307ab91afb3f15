//! The plan stage: which segments to evaluate, in which order, and which columns of
//! which tables they need.

use std::collections::BTreeSet;

use crate::check::ir::{ExprKind, Program, SegmentId, Source, TypedExpr};
use crate::diag::{did_you_mean, Code, Diagnostic};

/// What a run will do.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Segments grouped into levels; a segment depends only on segments of earlier levels,
    /// so the segments of one level can be evaluated in parallel.
    pub levels: Vec<Vec<SegmentId>>,
    /// The segments whose outputs are written, in program order.
    pub outputs: Vec<SegmentId>,
    /// For each table used (by index into the configuration): the columns to load besides
    /// the key, sorted.
    pub tables: Vec<(usize, Vec<String>)>,
    /// The tables an aggregate (`sum(x)`, `avg(x)`, …) reads, by index, sorted: their sums
    /// add up in file order, which must then be kept.
    pub aggregated: Vec<usize>,
}

/// Plans the evaluation of `only` (every segment when empty) and what they depend on.
pub fn plan(program: &Program, only: &[String]) -> Result<Plan, Vec<Diagnostic>> {
    let mut wanted = Vec::new();
    let mut problems = Vec::new();
    for name in only {
        match program.find(name) {
            Some(id) => wanted.push(id),
            None => {
                let names = program.segments.iter().map(|s| s.name.as_str());
                let mut diagnostic =
                    Diagnostic::new(Code::UnknownSegment, format!("no segment named `{name}`"));
                if let Some(help) = did_you_mean(name, names) {
                    diagnostic = diagnostic.help(help);
                }
                problems.push(diagnostic);
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if only.is_empty() {
        wanted = (0..program.segments.len()).collect();
    }

    // Everything the wanted segments reach.
    let mut needed = vec![false; program.segments.len()];
    let mut stack = wanted.clone();
    while let Some(id) = stack.pop() {
        if !std::mem::replace(&mut needed[id], true) {
            stack.extend(program.segments[id].depends_on.iter().copied());
        }
    }

    // A segment's level is one more than the highest level of what it depends on.
    let mut level = vec![usize::MAX; program.segments.len()];
    let mut levels: Vec<Vec<SegmentId>> = Vec::new();
    let mut remaining: Vec<SegmentId> = (0..needed.len()).filter(|&id| needed[id]).collect();
    while !remaining.is_empty() {
        let current = levels.len();
        let (ready, waiting): (Vec<_>, Vec<_>) = remaining.iter().partition(|&&id| {
            program.segments[id]
                .depends_on
                .iter()
                .all(|&dep| level[dep] < current)
        });
        if ready.is_empty() {
            // The checker rejects cycles; stop rather than loop if one slipped through.
            break;
        }
        for &id in &ready {
            level[id] = current;
        }
        levels.push(ready);
        remaining = waiting;
    }

    let mut tables: Vec<(usize, BTreeSet<String>)> = Vec::new();
    let mut aggregated = BTreeSet::new();
    for group in &levels {
        for &id in group {
            let Source::From(from) = &program.segments[id].source else {
                continue;
            };
            let index = match tables.iter().position(|(t, _)| *t == from.table) {
                Some(index) => index,
                None => {
                    tables.push((from.table, BTreeSet::new()));
                    tables.len() - 1
                }
            };
            let columns = &mut tables[index].1;
            let exprs = from
                .filter
                .iter()
                .chain(from.rank.as_ref().map(|rank| &rank.by));
            let mut aggregates = false;
            exprs.for_each(|expr| columns_of(expr, columns, &mut aggregates));
            if aggregates {
                aggregated.insert(from.table);
            }
            columns.extend(from.select.iter().cloned());
        }
    }
    tables.sort_by_key(|(table, _)| *table);
    let tables = tables
        .into_iter()
        .map(|(t, c)| (t, c.into_iter().collect()))
        .collect();
    let mut outputs = wanted;
    outputs.sort_unstable();
    outputs.dedup();
    Ok(Plan {
        levels,
        outputs,
        tables,
        aggregated: aggregated.into_iter().collect(),
    })
}

/// Every column an expression reads, the key column included (the loader skips it);
/// `aggregates` is set when one is read by an aggregate.
fn columns_of(expr: &TypedExpr, columns: &mut BTreeSet<String>, aggregates: &mut bool) {
    match &expr.kind {
        ExprKind::Column(name) => {
            columns.insert(name.clone());
        }
        ExprKind::Aggregate { column, .. } => {
            columns.insert(column.clone());
            *aggregates = true;
        }
        ExprKind::Const(_) | ExprKind::InSegment(_) => {}
        ExprKind::ToNumber(inner)
        | ExprKind::Neg(inner)
        | ExprKind::Not(inner)
        | ExprKind::InList { value: inner, .. }
        | ExprKind::IsNull { value: inner, .. }
        | ExprKind::Match { value: inner, .. } => columns_of(inner, columns, aggregates),
        ExprKind::And(a, b)
        | ExprKind::Or(a, b)
        | ExprKind::Compare(_, a, b)
        | ExprKind::Arith(_, a, b) => {
            columns_of(a, columns, aggregates);
            columns_of(b, columns, aggregates);
        }
        ExprKind::Call(_, args) => args
            .iter()
            .for_each(|arg| columns_of(arg, columns, aggregates)),
    }
}
