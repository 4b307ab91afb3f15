//! The eval stage: the members of every planned segment.
//!
//! Takes the checked program, the plan and the loaded tables; gives one
//! [`SegmentResult`] per evaluated segment. Keys of all tables are merged once into one
//! sorted universe, so a segment's members are a bitset whose order is the output order,
//! and `in segment` and `combine` are bit operations. Segments of one plan level run in
//! parallel, and each `from` segment scans its table in parallel chunks; results do not
//! depend on the thread count because every chunk's output is put back in row order.

mod bits;
mod expr;
mod vector;

pub use bits::Bits;
pub use expr::round;

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use rayon::prelude::*;

use crate::check::ir::{
    self, Expect, ExpectTest, FromSource, Program, SegmentId, SetTree, Source, Split, TypedExpr,
};
use crate::data::{Table, NULL_DATE, NULL_INT};
use crate::syntax::ast::{CompareOp, Direction, Metric};

use self::expr::{AggregateCache, Lowering, Node};
use self::vector::{Vector, TRUE};

/// Rows per chunk: small enough to stay in cache, large enough to amortise dispatch.
const CHUNK: usize = 16 * 1024;

/// All keys of the loaded tables, sorted by bytes, and each table's map into them.
#[derive(Debug)]
pub struct Universe<'t> {
    pub keys: Vec<&'t str>,
    /// For each configured table: local key id to universe id, when the table is loaded.
    pub maps: Vec<Option<Vec<u32>>>,
}

impl<'t> Universe<'t> {
    /// Merges the sorted key lists of every loaded table.
    pub fn new(tables: &'t [Option<Table>]) -> Universe<'t> {
        let mut keys: Vec<&'t str> = Vec::new();
        let mut maps: Vec<Option<Vec<u32>>> = vec![None; tables.len()];
        for (index, table) in tables.iter().enumerate() {
            let Some(table) = table else { continue };
            let incoming: Vec<&'t str> = (0..table.keys.len() as u32)
                .map(|id| table.keys.get(id))
                .collect();
            if keys == incoming {
                maps[index] = Some((0..incoming.len() as u32).collect());
                continue;
            }
            let (merged, old_to_new, incoming_to_new) = merge(&keys, &incoming);
            for map in maps.iter_mut().flatten() {
                map.iter_mut().for_each(|id| *id = old_to_new[*id as usize]);
            }
            maps[index] = Some(incoming_to_new);
            keys = merged;
        }
        Universe { keys, maps }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Merges two sorted, distinct lists; returns the merge and where each side's items went.
fn merge<'t>(a: &[&'t str], b: &[&'t str]) -> (Vec<&'t str>, Vec<u32>, Vec<u32>) {
    let mut merged = Vec::with_capacity(a.len().max(b.len()));
    let (mut a_map, mut b_map) = (Vec::with_capacity(a.len()), Vec::with_capacity(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let order = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.as_bytes().cmp(y.as_bytes()),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        let id = merged.len() as u32;
        match order {
            Ordering::Less => {
                merged.push(a[i]);
                a_map.push(id);
                i += 1;
            }
            Ordering::Greater => {
                merged.push(b[j]);
                b_map.push(id);
                j += 1;
            }
            Ordering::Equal => {
                merged.push(a[i]);
                a_map.push(id);
                b_map.push(id);
                i += 1;
                j += 1;
            }
        }
    }
    (merged, a_map, b_map)
}

/// One `expect` after the run.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectOutcome {
    pub passed: bool,
    /// The member count, or the share in percent.
    pub actual: f64,
}

/// The members of one segment.
#[derive(Debug, Clone)]
pub struct SegmentResult {
    /// Universe ids of the members.
    pub members: Bits,
    pub count: usize,
    /// Keys of the source table(s): what `share` divides by.
    pub denominator: usize,
    /// With `select`: the rows to write, in output order (key, then source order).
    pub rows: Option<Vec<u32>>,
    /// With `split`: each member's group index, in ascending key order.
    pub groups: Option<Vec<u16>>,
    pub expects: Vec<ExpectOutcome>,
    pub time: Duration,
}

impl SegmentResult {
    /// The share of the source keys that are members, in percent.
    pub fn share(&self) -> f64 {
        if self.denominator == 0 {
            0.0
        } else {
            self.count as f64 * 100.0 / self.denominator as f64
        }
    }
}

/// Everything a run computed.
#[derive(Debug)]
pub struct Evaluation<'t> {
    pub universe: Universe<'t>,
    /// By segment id; `None` for segments the plan left out.
    pub results: Vec<Option<SegmentResult>>,
}

/// Evaluates the plan's segments level by level.
pub fn evaluate<'t>(
    program: &Program,
    levels: &[Vec<SegmentId>],
    tables: &'t [Option<Table>],
    as_of: Option<i32>,
) -> Evaluation<'t> {
    let universe = Universe::new(tables);
    let context = Context {
        program,
        tables,
        universe: &universe,
        as_of,
        aggregates: AggregateCache::default(),
    };
    let mut results: Vec<Option<SegmentResult>> = vec![None; program.segments.len()];
    for level in levels {
        let computed: Vec<(SegmentId, SegmentResult)> = level
            .par_iter()
            .map(|&id| (id, context.segment(id, &results)))
            .collect();
        for (id, result) in computed {
            results[id] = Some(result);
        }
    }
    drop(context);
    Evaluation { universe, results }
}

struct Context<'p, 't> {
    program: &'p Program,
    tables: &'t [Option<Table>],
    universe: &'p Universe<'t>,
    as_of: Option<i32>,
    aggregates: AggregateCache,
}

impl<'t> Context<'_, 't> {
    fn segment(&self, id: SegmentId, done: &[Option<SegmentResult>]) -> SegmentResult {
        let started = Instant::now();
        let segment = &self.program.segments[id];
        let (members, rows, denominator) = match &segment.source {
            Source::From(from) => self.from(from, done),
            Source::Combine(tree) => {
                let members = self.combine(tree, done);
                let mut tables = Vec::new();
                self.tables_reached(id, &mut tables);
                (members, None, self.keys_of(&tables))
            }
        };
        let count = members.count();
        let groups = segment
            .split
            .as_ref()
            .map(|split| self.split(split, &members));
        let mut result = SegmentResult {
            members,
            count,
            denominator,
            rows,
            groups,
            expects: Vec::new(),
            time: Duration::ZERO,
        };
        result.expects = segment.expects.iter().map(|e| expect(e, &result)).collect();
        result.time = started.elapsed();
        result
    }

    fn table(&self, index: usize) -> (&'t Table, &[u32]) {
        let table = self.tables[index]
            .as_ref()
            .expect("the plan loads every table it uses");
        let map = self.universe.maps[index]
            .as_deref()
            .expect("a loaded table has a key map");
        (table, map)
    }

    fn from(
        &self,
        from: &FromSource,
        done: &[Option<SegmentResult>],
    ) -> (Bits, Option<Vec<u32>>, usize) {
        let (table, map) = self.table(from.table);
        let key_count = table.keys.len();

        let mut memberships = HashMap::new();
        let exprs = from.filter.iter().chain(from.rank.as_ref().map(|r| &r.by));
        for dependency in exprs.flat_map(segments_referenced) {
            let Some(Some(other)) = done.get(dependency) else {
                continue;
            };
            let local: Vec<bool> = map
                .iter()
                .map(|&global| other.members.contains(global as usize))
                .collect();
            memberships.insert(dependency, Arc::new(local));
        }
        let lowering = Lowering {
            table,
            as_of: self.as_of,
            memberships: &memberships,
            aggregates: &self.aggregates,
        };
        let filter = from.filter.as_ref().map(|f| lowering.lower(f));
        let by = from.rank.as_ref().map(|rank| lowering.lower(&rank.by));

        let chunks: Vec<(Vec<u32>, RankValues)> = (0..table.rows.div_ceil(CHUNK))
            .into_par_iter()
            .map(|chunk| {
                let rows = chunk * CHUNK..((chunk + 1) * CHUNK).min(table.rows);
                let qualifying: Vec<u32> = match &filter {
                    None => (rows.start as u32..rows.end as u32).collect(),
                    Some(node) => {
                        let truth = node.eval(rows.clone()).into_bool();
                        let start = rows.start as u32;
                        (0..truth.len() as u32)
                            .filter(|&i| truth[i as usize] == TRUE)
                            .map(|i| start + i)
                            .collect()
                    }
                };
                let values = match &by {
                    None => RankValues::None,
                    Some(node) => RankValues::of(node, rows.clone(), &qualifying),
                };
                (qualifying, values)
            })
            .collect();

        let mut qualifying = Vec::new();
        let mut values = RankValues::None;
        for (rows, chunk_values) in chunks {
            qualifying.extend(rows);
            values.append(chunk_values);
        }

        let mut local = vec![false; key_count];
        for &row in &qualifying {
            local[table.keys.row_key[row as usize] as usize] = true;
        }
        if let Some(rank) = &from.rank {
            local = ranked(rank, &local, &qualifying, &table.keys.row_key, values);
        }

        let mut members = Bits::new(self.universe.len());
        for (key, _) in local.iter().enumerate().filter(|(_, &member)| member) {
            members.set(map[key] as usize);
        }
        let rows = (!from.select.is_empty()).then(|| {
            let row_key = &table.keys.row_key;
            let mut rows: Vec<u32> = qualifying
                .into_iter()
                .filter(|&row| local[row_key[row as usize] as usize])
                .collect();
            // Stable: rows of one key stay in source order.
            rows.par_sort_by_key(|&row| row_key[row as usize]);
            rows
        });
        (members, rows, key_count)
    }

    fn combine(&self, tree: &SetTree, done: &[Option<SegmentResult>]) -> Bits {
        match tree {
            SetTree::Segment(id) => match done.get(*id) {
                Some(Some(result)) => result.members.clone(),
                _ => Bits::new(self.universe.len()),
            },
            SetTree::Union(a, b) => self.combine(a, done).union(&self.combine(b, done)),
            SetTree::Intersect(a, b) => self.combine(a, done).intersect(&self.combine(b, done)),
            SetTree::Except(a, b) => self.combine(a, done).except(&self.combine(b, done)),
        }
    }

    /// The tables a segment draws from, through `combine` references.
    fn tables_reached(&self, id: SegmentId, tables: &mut Vec<usize>) {
        match &self.program.segments[id].source {
            Source::From(from) => {
                if !tables.contains(&from.table) {
                    tables.push(from.table);
                }
            }
            Source::Combine(_) => {
                for dependency in &self.program.segments[id].depends_on {
                    self.tables_reached(*dependency, tables);
                }
            }
        }
    }

    /// How many distinct keys the given tables hold together.
    fn keys_of(&self, tables: &[usize]) -> usize {
        if let [single] = tables {
            return self.table(*single).0.keys.len();
        }
        let mut union = Bits::new(self.universe.len());
        for &index in tables {
            for &global in self.table(index).1 {
                union.set(global as usize);
            }
        }
        union.count()
    }

    fn split(&self, split: &Split, members: &Bits) -> Vec<u16> {
        let ids: Vec<usize> = members.iter().collect();
        ids.par_iter()
            .map(|&id| split_group(split, self.universe.keys[id]))
            .collect()
    }
}

/// The group of a key: the first whose bound lies above the key's bucket.
pub fn split_group(split: &Split, key: &str) -> u16 {
    let bucket = split_bucket(&split.seed, key);
    let position = u128::from(bucket) * split.scale;
    split
        .groups
        .iter()
        .position(|(_, bound)| position < *bound)
        .unwrap_or(split.groups.len() - 1) as u16
}

/// The first 8 hex digits of `md5(seed + ":" + key)` as an integer.
pub fn split_bucket(seed: &str, key: &str) -> u32 {
    let mut hasher = Md5::new();
    hasher.update(seed.as_bytes());
    hasher.update(b":");
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

fn expect(expect: &Expect, result: &SegmentResult) -> ExpectOutcome {
    let actual = match expect.metric {
        Metric::Size => result.count as f64,
        Metric::Share => result.share(),
    };
    let passed = match expect.test {
        ExpectTest::Compare(op, value) => match op {
            CompareOp::Eq => actual == value,
            CompareOp::Ne => actual != value,
            CompareOp::Lt => actual < value,
            CompareOp::Le => actual <= value,
            CompareOp::Gt => actual > value,
            CompareOp::Ge => actual >= value,
        },
        ExpectTest::Between(low, high) => low <= actual && actual <= high,
    };
    ExpectOutcome { passed, actual }
}

fn segments_referenced(expr: &TypedExpr) -> Vec<SegmentId> {
    let mut found = Vec::new();
    collect_segments(expr, &mut found);
    found
}

fn collect_segments(expr: &TypedExpr, found: &mut Vec<SegmentId>) {
    use ir::ExprKind as K;
    match &expr.kind {
        K::InSegment(id) => found.push(*id),
        K::Column(_) | K::Const(_) | K::Aggregate { .. } => {}
        K::ToNumber(inner)
        | K::Neg(inner)
        | K::Not(inner)
        | K::InList { value: inner, .. }
        | K::IsNull { value: inner, .. }
        | K::Match { value: inner, .. } => collect_segments(inner, found),
        K::And(a, b) | K::Or(a, b) | K::Compare(_, a, b) | K::Arith(_, a, b) => {
            collect_segments(a, found);
            collect_segments(b, found);
        }
        K::Call(_, args) => args.iter().for_each(|arg| collect_segments(arg, found)),
    }
}

/// The `by` values of the qualifying rows, in row order.
enum RankValues {
    None,
    Number(Vec<f64>),
    Integer(Vec<i64>),
}

impl RankValues {
    fn of(node: &Node<'_>, rows: std::ops::Range<usize>, qualifying: &[u32]) -> RankValues {
        let start = rows.start;
        let values = node.eval(rows);
        let pick = |i: &u32| *i as usize - start;
        match values {
            Vector::Number(v) => {
                RankValues::Number(qualifying.iter().map(|i| v[pick(i)]).collect())
            }
            Vector::Integer(v) => {
                RankValues::Integer(qualifying.iter().map(|i| v[pick(i)]).collect())
            }
            Vector::Date(v) => RankValues::Integer(
                qualifying
                    .iter()
                    .map(|i| v[pick(i)])
                    .map(|d| {
                        if d == NULL_DATE {
                            NULL_INT
                        } else {
                            i64::from(d)
                        }
                    })
                    .collect(),
            ),
            _ => RankValues::Integer(vec![NULL_INT; qualifying.len()]),
        }
    }

    fn append(&mut self, other: RankValues) {
        match (self, other) {
            (RankValues::Number(a), RankValues::Number(b)) => a.extend(b),
            (RankValues::Integer(a), RankValues::Integer(b)) => a.extend(b),
            (this @ RankValues::None, other) => *this = other,
            _ => {}
        }
    }
}

/// Keeps the keys `top`/`bottom` asks for, out of the keys that passed `where`.
fn ranked(
    rank: &ir::Rank,
    passed: &[bool],
    qualifying: &[u32],
    row_key: &[u32],
    values: RankValues,
) -> Vec<bool> {
    match values {
        RankValues::Number(values) => rank_keys(
            rank,
            passed,
            qualifying,
            row_key,
            &values,
            |v| v.is_nan(),
            vector::cmp_f64,
        ),
        RankValues::Integer(values) => rank_keys(
            rank,
            passed,
            qualifying,
            row_key,
            &values,
            |v| *v == NULL_INT,
            |a, b| a.cmp(&b),
        ),
        RankValues::None => vec![false; passed.len()],
    }
}

fn rank_keys<T: Copy + Send + Sync>(
    rank: &ir::Rank,
    passed: &[bool],
    qualifying: &[u32],
    row_key: &[u32],
    values: &[T],
    is_null: impl Fn(&T) -> bool,
    order: impl Fn(T, T) -> Ordering + Sync,
) -> Vec<bool> {
    let top = rank.direction == Direction::Top;
    // A key's value is its best value over its qualifying rows.
    let mut best: Vec<Option<T>> = vec![None; passed.len()];
    for (&row, value) in qualifying.iter().zip(values) {
        if is_null(value) {
            continue;
        }
        let slot = &mut best[row_key[row as usize] as usize];
        let better = match slot {
            None => true,
            Some(current) => {
                let ordering = order(*value, *current);
                if top {
                    ordering == Ordering::Greater
                } else {
                    ordering == Ordering::Less
                }
            }
        };
        if better {
            *slot = Some(*value);
        }
    }
    let mut candidates: Vec<(T, u32)> = best
        .iter()
        .enumerate()
        .filter_map(|(key, value)| value.map(|v| (v, key as u32)))
        .collect();
    // Best value first; ties by key id, which is ascending key order.
    candidates.par_sort_unstable_by(|a, b| {
        let by_value = if top {
            order(b.0, a.0)
        } else {
            order(a.0, b.0)
        };
        by_value.then(a.1.cmp(&b.1))
    });
    let mut keep = rank.amount.keep(candidates.len());
    if rank.with_ties && keep > 0 {
        let last = candidates[keep - 1].0;
        while keep < candidates.len() && order(candidates[keep].0, last) == Ordering::Equal {
            keep += 1;
        }
    }
    let mut kept = vec![false; passed.len()];
    for &(_, key) in &candidates[..keep] {
        kept[key as usize] = true;
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_byte_order_and_maps_both_sides() {
        let (merged, a, b) = merge(&["C1", "C3", "C5"], &["C2", "C3", "C9"]);
        assert_eq!(merged, ["C1", "C2", "C3", "C5", "C9"]);
        assert_eq!(a, [0, 2, 3]);
        assert_eq!(b, [1, 2, 4]);
    }

    #[test]
    fn round_goes_half_away_from_zero_on_the_decimal_as_written() {
        // The floats nearest 1.005 and 0.285 lie below them, 2.675's too; each product
        // with 100 lands on a different side of the half.
        assert_eq!(round(1.005, 2), 1.01);
        assert_eq!(round(0.285, 2), 0.29);
        assert_eq!(round(2.675, 2), 2.68);
        assert_eq!(round(-1.005, 2), -1.01);
        assert_eq!(round(0.15, 1), 0.2);
        assert_eq!(round(2.5, 0), 3.0);
        assert_eq!(round(-2.5, 0), -3.0);
        assert_eq!(round(0.125, 2), 0.13);
        assert_eq!(round(1.2345, 2), 1.23);
        assert_eq!(round(0.004, 2), 0.0);
        assert_eq!(round(0.005, 2), 0.01);
        assert_eq!(round(1e300, 2), 1e300);
        assert_eq!(round(0.1 + 0.2, 1), 0.3);
    }

    #[test]
    fn split_buckets_follow_md5() {
        // md5("s:C1") = 92de3c1d20553d51b50606926f6f9a12, computed with `md5sum`.
        assert_eq!(split_bucket("s", "C1"), 0x92de_3c1d);
    }
}
