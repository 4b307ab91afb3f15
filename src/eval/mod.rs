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
mod truth;
mod vector;

pub use bits::Bits;

pub use expr::round;

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use rayon::prelude::*;

use crate::check::ir::{
    self, Expect, ExpectTest, FromSource, Program, SegmentId, SetTree, Source, Split, TypedExpr,
};
use crate::data::{KeySpans, Keys, Table, NULL_DATE, NULL_INT};
use crate::syntax::ast::{CompareOp, Direction, Metric};

use self::expr::{AggregateCache, Lowering, Node};
use self::vector::Vector;

/// Rows per chunk: small enough to stay in cache, large enough to amortise dispatch.
const CHUNK: usize = 16 * 1024;

/// All keys of the loaded tables, sorted by bytes, and each table's map into them.
///
/// The universe does not copy the keys: each is named by a table that has it and its id
/// there. When every loaded table has the same keys (the usual case: model outputs over
/// one customer base), the first such table spells them all and no list is kept.
#[derive(Debug)]
pub struct Universe<'t> {
    tables: &'t [Option<Table>],
    /// `(table, local id)` for each key, in key order; empty when `shared` spells them.
    spelled: Vec<(u32, u32)>,
    /// The table whose keys are the universe, when every loaded table has the same keys.
    shared: Option<usize>,
    len: usize,
    /// For each configured table: local key id to universe id, when the table is loaded.
    pub maps: Vec<Option<KeyMap>>,
    /// No key holds a byte that CSV must quote, so outputs copy keys as they are.
    pub plain: bool,
}

impl<'t> Universe<'t> {
    /// Merges the sorted key lists of every loaded table.
    pub fn new(tables: &'t [Option<Table>]) -> Universe<'t> {
        let loaded: Vec<usize> = (0..tables.len()).filter(|&i| tables[i].is_some()).collect();
        let keys_of = |index: usize| &tables[index].as_ref().expect("loaded").keys;
        let plain = loaded.iter().all(|&index| {
            !keys_of(index)
                .text
                .bytes()
                .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
        });
        let mut maps: Vec<Option<KeyMap>> = vec![None; tables.len()];
        let Some(&first) = loaded.first() else {
            return Universe {
                tables,
                spelled: Vec::new(),
                shared: None,
                len: 0,
                maps,
                plain: true,
            };
        };
        let same_keys = loaded
            .iter()
            .all(|&index| keys_of(first).same_keys(keys_of(index)));
        if same_keys {
            let len = keys_of(first).len();
            for &index in &loaded {
                maps[index] = Some(KeyMap::Same);
            }
            return Universe {
                tables,
                spelled: Vec::new(),
                shared: Some(first),
                len,
                maps,
                plain,
            };
        }
        let mut spelled: Vec<(u32, u32)> = Vec::new();
        for &index in &loaded {
            let spell = |&(table, id): &(u32, u32)| keys_of(table as usize).get(id);
            let incoming: Vec<(u32, u32)> = (0..keys_of(index).len() as u32)
                .map(|id| (index as u32, id))
                .collect();
            let (merged, old_to_new, incoming_to_new) = merge(&spelled, &incoming, spell);
            for map in maps.iter_mut().flatten() {
                if let KeyMap::Ids(ids) = map {
                    ids.iter_mut().for_each(|id| *id = old_to_new[*id as usize]);
                }
            }
            maps[index] = Some(KeyMap::Ids(incoming_to_new));
            spelled = merged;
        }
        let len = spelled.len();
        Universe {
            tables,
            spelled,
            shared: None,
            len,
            maps,
            plain,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether every loaded table has the universe's keys, so that local ids are universe
    /// ids.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// The keys of a table that has the key with universe id `id`, and its id there.
    fn locate(&self, id: usize) -> (&'t Keys, u32) {
        let (table, local) = match self.shared {
            Some(table) => (table, id as u32),
            None => {
                let (table, local) = self.spelled[id];
                (table as usize, local)
            }
        };
        (&self.tables[table].as_ref().expect("loaded").keys, local)
    }

    /// The text of all keys and their width, when they are of one width and spelled by one
    /// table: key `id` is then `text[id * width..(id + 1) * width]`.
    pub fn fixed_width(&self) -> Option<(&'t [u8], usize)> {
        let keys = &self.tables[self.shared?].as_ref().expect("loaded").keys;
        match keys.spans {
            KeySpans::Fixed { width, .. } => Some((keys.text.as_bytes(), width)),
            KeySpans::Offsets(_) => None,
        }
    }

    /// The bytes of the key with universe id `id`.
    pub fn key_bytes(&self, id: usize) -> &'t [u8] {
        let (keys, local) = self.locate(id);
        keys.bytes(local)
    }

    /// The key with universe id `id`.
    pub fn key(&self, id: usize) -> &'t str {
        let (keys, local) = self.locate(id);
        keys.get(local)
    }
}

/// Where a table's key ids are in the universe.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyMap {
    /// The table's keys are the universe: ids are the same.
    Same,
    /// The universe id of each local id.
    Ids(Vec<u32>),
}

impl KeyMap {
    pub fn get(&self, local: u32) -> u32 {
        match self {
            KeyMap::Same => local,
            KeyMap::Ids(ids) => ids[local as usize],
        }
    }
}

/// Merges two sorted, distinct lists; returns the merge and where each side's items went.
fn merge<'t, T: Copy>(
    a: &[T],
    b: &[T],
    spell: impl Fn(&T) -> &'t str,
) -> (Vec<T>, Vec<u32>, Vec<u32>) {
    let mut merged = Vec::with_capacity(a.len().max(b.len()));
    let (mut a_map, mut b_map) = (Vec::with_capacity(a.len()), Vec::with_capacity(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let order = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => spell(x).as_bytes().cmp(spell(y).as_bytes()),
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
        rankings: Mutex::default(),
    };
    let mut results: Vec<Option<SegmentResult>> = vec![None; program.segments.len()];
    for level in levels {
        let mut filtered = context.filter_together(level, &results);
        let inputs: Vec<(SegmentId, Option<Filtered>)> =
            level.iter().map(|&id| (id, filtered.remove(&id))).collect();
        let computed: Vec<(SegmentId, SegmentResult)> = inputs
            .into_par_iter()
            .map(|(id, filtered)| (id, context.segment(id, &results, filtered)))
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
    /// Sorted candidates of `top`/`bottom` without `where`, by table, column and direction.
    rankings: Mutex<HashMap<(usize, String, bool), SharedRanking>>,
}

/// A column's best rank per key and their histogram, computed once and read by every
/// segment that ranks by the column without `where`.
type SharedRanking = Arc<OnceLock<(Vec<u64>, Histogram)>>;

/// The rows that pass a segment's `where`, found in a pass over its table shared with the
/// other segments of the level (see [`filter_in_one_pass`]).
struct Filtered {
    passed: Bits,
    /// The time spent on this segment's filter during the pass.
    time: Duration,
}

impl<'t> Context<'_, 't> {
    fn segment(
        &self,
        id: SegmentId,
        done: &[Option<SegmentResult>],
        filtered: Option<Filtered>,
    ) -> SegmentResult {
        let started = Instant::now();
        let shared_time = filtered.as_ref().map_or(Duration::ZERO, |f| f.time);
        let segment = &self.program.segments[id];
        let (members, rows, denominator) = match &segment.source {
            Source::From(from) => self.from(from, done, filtered),
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
        result.time = started.elapsed() + shared_time;
        result
    }

    /// Filters the level's `from` segments whose table has its rows in key order, in one
    /// pass over each such table for all of its segments.
    fn filter_together(
        &self,
        level: &[SegmentId],
        done: &[Option<SegmentResult>],
    ) -> HashMap<SegmentId, Filtered> {
        let mut by_table: BTreeMap<usize, Vec<(SegmentId, &TypedExpr)>> = BTreeMap::new();
        for &id in level {
            if let Source::From(from) = &self.program.segments[id].source {
                if let Some(filter) = &from.filter {
                    if self.table(from.table).0.rows_are_keys {
                        by_table.entry(from.table).or_default().push((id, filter));
                    }
                }
            }
        }
        by_table
            .into_par_iter()
            .flat_map_iter(|(index, filters)| {
                let (table, map) = self.table(index);
                let nodes: Vec<Node<'t>> = filters
                    .iter()
                    .map(|&(_, filter)| {
                        let memberships = self.memberships([filter], table, map, done);
                        self.lowering(table, &memberships).lower(filter)
                    })
                    .collect();
                let passed = filter_in_one_pass(&nodes, table.rows);
                filters.into_iter().map(|(id, _)| id).zip(passed)
            })
            .collect()
    }

    /// The members of the segments that `exprs` name in `in segment`, by the table's key
    /// ids.
    fn memberships<'e>(
        &self,
        exprs: impl IntoIterator<Item = &'e TypedExpr>,
        table: &Table,
        map: &KeyMap,
        done: &[Option<SegmentResult>],
    ) -> HashMap<SegmentId, Arc<Bits>> {
        let mut memberships = HashMap::new();
        for dependency in exprs.into_iter().flat_map(segments_referenced) {
            let Some(Some(other)) = done.get(dependency) else {
                continue;
            };
            let local = match map {
                KeyMap::Same => other.members.clone(),
                KeyMap::Ids(ids) => {
                    let mut local = Bits::new(table.keys.len());
                    for (key, &id) in ids.iter().enumerate() {
                        if other.members.contains(id as usize) {
                            local.set(key);
                        }
                    }
                    local
                }
            };
            memberships.insert(dependency, Arc::new(local));
        }
        memberships
    }

    fn lowering<'c>(
        &'c self,
        table: &'t Table,
        memberships: &'c HashMap<SegmentId, Arc<Bits>>,
    ) -> Lowering<'t, 'c> {
        Lowering {
            table,
            as_of: self.as_of,
            memberships,
            aggregates: &self.aggregates,
        }
    }

    fn table(&self, index: usize) -> (&'t Table, &KeyMap) {
        let table = self.tables[index]
            .as_ref()
            .expect("the plan loads every table it uses");
        let map = self.universe.maps[index]
            .as_ref()
            .expect("a loaded table has a key map");
        (table, map)
    }

    fn from(
        &self,
        from: &FromSource,
        done: &[Option<SegmentResult>],
        filtered: Option<Filtered>,
    ) -> (Bits, Option<Vec<u32>>, usize) {
        let (table, map) = self.table(from.table);
        let key_count = table.keys.len();

        // The filter was run already when `filtered` holds what passed.
        let exprs = from.filter.iter().filter(|_| filtered.is_none());
        let memberships = self.memberships(
            exprs.chain(from.rank.as_ref().map(|r| &r.by)),
            table,
            map,
            done,
        );
        let lowering = self.lowering(table, &memberships);
        let row_key = &table.keys.row_key;
        let chunks = table.rows.div_ceil(CHUNK);
        let chunk_rows = |chunk: usize| chunk * CHUNK..((chunk + 1) * CHUNK).min(table.rows);
        // Row numbers are kept only where ranking or `select` reads them; `None` stands for
        // every row.
        let keep_rows = from.rank.is_some() || !from.select.is_empty();

        let filter = from.filter.as_ref();
        let (mut local, qualifying): (Bits, Option<Vec<u32>>) = match (filtered, filter) {
            // The table's rows are its keys: the rows that passed are the candidates.
            (Some(filtered), _) => {
                let rows = keep_rows.then(|| filtered.passed.iter().map(|r| r as u32).collect());
                (filtered.passed, rows)
            }
            (None, None) => (Bits::full(key_count), None),
            (None, Some(filter)) => {
                let node = lowering.lower(filter);
                // A few runs of chunks, one a worker or so, each marking its own bitset
                // without atomics; the bitsets are joined in row order.
                let run = chunks.div_ceil(rayon::current_num_threads() * 2).max(1);
                let (passed, rows) = (0..chunks)
                    .into_par_iter()
                    .with_min_len(run)
                    .fold(
                        || (Bits::new(key_count), Vec::new()),
                        |(mut passed, mut kept), chunk| {
                            let rows = chunk_rows(chunk);
                            let start = rows.start;
                            let truth = truth::truth(&node, rows, truth::Need::True);
                            for (word, &bits) in truth.yes.iter().enumerate() {
                                let mut rest = bits;
                                while rest != 0 {
                                    let row = start + word * 64 + rest.trailing_zeros() as usize;
                                    rest &= rest - 1;
                                    passed.set(row_key[row] as usize);
                                    if keep_rows {
                                        kept.push(row as u32);
                                    }
                                }
                            }
                            (passed, kept)
                        },
                    )
                    .reduce(
                        || (Bits::new(key_count), Vec::new()),
                        |(mut passed, mut kept), (other, later)| {
                            passed.union_with(&other);
                            kept.extend(later);
                            (passed, kept)
                        },
                    );
                (passed, keep_rows.then_some(rows))
            }
        };

        if let Some(rank) = &from.rank {
            let top = rank.direction == Direction::Top;
            let by = lowering.lower(&rank.by);
            let best = || best_per_key(&by, table, qualifying.as_deref(), top);
            local = match (&from.filter, &rank.by.kind) {
                // Every key is a candidate: segments ranking the same column share the ranks.
                (None, ir::ExprKind::Column(column)) => {
                    let slot = self
                        .rankings
                        .lock()
                        .expect("no panic while locked")
                        .entry((from.table, column.clone(), top))
                        .or_default()
                        .clone();
                    let (best, histogram) = slot.get_or_init(|| {
                        let best = best();
                        let histogram = Histogram::of(&best);
                        (best, histogram)
                    });
                    keep_best(rank.amount, rank.with_ties, best, histogram)
                }
                _ => {
                    let best = best();
                    keep_best(rank.amount, rank.with_ties, &best, &Histogram::of(&best))
                }
            };
        }

        let members = match map {
            KeyMap::Same if from.select.is_empty() => std::mem::take(&mut local),
            KeyMap::Same => local.clone(),
            KeyMap::Ids(ids) => {
                let mut members = Bits::new(self.universe.len());
                for key in local.iter() {
                    members.set(ids[key] as usize);
                }
                members
            }
        };
        let rows = (!from.select.is_empty()).then(|| {
            let member = |&row: &u32| local.contains(row_key[row as usize] as usize);
            let mut rows: Vec<u32> = match qualifying {
                Some(rows) => rows.into_iter().filter(member).collect(),
                None => (0..table.rows as u32).filter(member).collect(),
            };
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
        if self.universe.is_shared() {
            return self.universe.len();
        }
        let mut union = Bits::new(self.universe.len());
        for &index in tables {
            let (table, map) = self.table(index);
            for local in 0..table.keys.len() as u32 {
                union.set(map.get(local) as usize);
            }
        }
        union.count()
    }

    fn split(&self, split: &Split, members: &Bits) -> Vec<u16> {
        let ids: Vec<usize> = members.iter().collect();
        ids.par_iter()
            .map(|&id| split_group(split, self.universe.key(id)))
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

/// A value's place in best-first order as an unsigned integer: smaller is better. `None`
/// for null, which ranking drops. `-0` and `0` are one value, as in SQL.
fn number_rank(value: f64, top: bool) -> Option<u64> {
    if value.is_nan() {
        return None;
    }
    let bits = if value == 0.0 { 0 } else { value.to_bits() };
    let ascending = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    Some(if top { !ascending } else { ascending })
}

fn integer_rank(value: i64, top: bool) -> Option<u64> {
    if value == NULL_INT {
        return None;
    }
    // Without the null, values map onto 1..=u64::MAX; both directions land below MAX.
    let ascending = (value as u64) ^ (1 << 63);
    Some(if top { !ascending } else { ascending - 1 })
}

/// The rank of a key without a value: the ranks of values stop one short of it.
const NO_RANK: u64 = u64::MAX;

/// Each key's best value over its qualifying rows (`None`: every row) as a rank (see
/// [`number_rank`]), by key id; [`NO_RANK`] for a key without a non-null value.
fn best_per_key(by: &Node<'_>, table: &Table, qualifying: Option<&[u32]>, top: bool) -> Vec<u64> {
    let row_key = &table.keys.row_key;
    // With one row per key, a key's row is its only one: no minimum to keep.
    let one_row_each = table.keys.len() == table.rows;
    let best: Vec<AtomicU64> = (0..table.keys.len())
        .map(|_| AtomicU64::new(NO_RANK))
        .collect();
    (0..table.rows.div_ceil(CHUNK))
        .into_par_iter()
        .for_each(|chunk| {
            let rows = chunk * CHUNK..((chunk + 1) * CHUNK).min(table.rows);
            let picked: &[u32] = match qualifying {
                Some(all) => {
                    let from = all.partition_point(|&row| (row as usize) < rows.start);
                    let to = all.partition_point(|&row| (row as usize) < rows.end);
                    &all[from..to]
                }
                None => &[],
            };
            if qualifying.is_some() && picked.is_empty() {
                return;
            }
            let start = rows.start;
            let ranks: Vec<Option<u64>> = match by.eval(rows.clone()) {
                Vector::Number(v) => v.iter().map(|&x| number_rank(x, top)).collect(),
                Vector::Integer(v) => v.iter().map(|&x| integer_rank(x, top)).collect(),
                Vector::Date(v) => v
                    .iter()
                    .map(|&d| (d != NULL_DATE).then(|| integer_rank(i64::from(d), top))?)
                    .collect(),
                _ => return,
            };
            let offer = |row: usize| {
                if let Some(rank) = ranks[row - start] {
                    let slot = &best[row_key[row] as usize];
                    if one_row_each {
                        slot.store(rank, AtomicOrdering::Relaxed);
                    } else {
                        slot.fetch_min(rank, AtomicOrdering::Relaxed);
                    }
                }
            };
            match qualifying {
                Some(_) => picked.iter().for_each(|&row| offer(row as usize)),
                None => rows.for_each(offer),
            }
        });
    best.into_iter().map(AtomicU64::into_inner).collect()
}

/// Keeps the keys `top`/`bottom` asks for, best rank first, ties broken by key id
/// (ascending key order). `best` is each key's rank, `histogram` their histogram.
fn keep_best(amount: ir::Amount, with_ties: bool, best: &[u64], histogram: &Histogram) -> Bits {
    let mut kept = Bits::new(best.len());
    let keep = amount.keep(histogram.total());
    let Some((last, better)) = histogram.place(best, keep) else {
        return kept;
    };
    // Keys ranked `last` fill the places the better ones leave, lowest key ids first.
    let mut places = keep - better;
    // Keys in a better bucket than `last`'s are kept, keys in a worse one are not: only
    // those in the same bucket need their rank read.
    let boundary = histogram.bucket(last);
    let words = kept.runs_mut(1).zip(best.chunks(64));
    for ((word, ranks), buckets) in words.zip(histogram.buckets.chunks(64)) {
        let (mut lower, mut same) = ([0u8; 64], [0u8; 64]);
        for ((lower, same), &bucket) in lower.iter_mut().zip(&mut same).zip(buckets) {
            *lower = u8::from(bucket < boundary);
            *same = u8::from(bucket == boundary);
        }
        let (mut better, mut tied) = (bits::pack(&lower), 0u64);
        let mut same = bits::pack(&same);
        while same != 0 {
            let bit = same.trailing_zeros();
            same &= same - 1;
            match ranks[bit as usize].cmp(&last) {
                Ordering::Less => better |= 1 << bit,
                Ordering::Equal => tied |= 1 << bit,
                Ordering::Greater => {}
            }
        }
        if !with_ties {
            while tied.count_ones() as usize > places {
                // Drop the highest key id ranked `last`.
                tied &= !(1 << (63 - tied.leading_zeros()));
            }
        }
        places = places.saturating_sub(tied.count_ones() as usize);
        word[0] = better | tied;
    }
    kept
}

/// Runs each filter over every row of a table, a chunk of rows at a time: every filter
/// runs on a chunk before the next, so each column is read from memory once for all the
/// filters. Gives, for each filter, the rows where it is true and the time spent on it.
fn filter_in_one_pass(filters: &[Node<'_>], rows: usize) -> Vec<Filtered> {
    let mut passed: Vec<Bits> = filters.iter().map(|_| Bits::new(rows)).collect();
    let chunks = rows.div_ceil(CHUNK);
    // For each chunk, its words in every filter's bits.
    let mut words: Vec<Vec<&mut [u64]>> = (0..chunks).map(|_| Vec::new()).collect();
    for bits in &mut passed {
        for (chunk, run) in bits.runs_mut(CHUNK / 64).enumerate() {
            words[chunk].push(run);
        }
    }
    let spent: Vec<Vec<Duration>> = words
        .into_par_iter()
        .enumerate()
        .map(|(chunk, mut runs)| {
            let chunk_rows = chunk * CHUNK..((chunk + 1) * CHUNK).min(rows);
            filters
                .iter()
                .zip(&mut runs)
                .map(|(filter, run)| {
                    let started = Instant::now();
                    let passed = truth::truth(filter, chunk_rows.clone(), truth::Need::True);
                    run.copy_from_slice(&passed.yes);
                    started.elapsed()
                })
                .collect()
        })
        .collect();
    passed
        .into_iter()
        .enumerate()
        .map(|(index, passed)| Filtered {
            passed,
            time: spent.iter().map(|times| times[index]).sum(),
        })
        .collect()
}

/// How many ranks fall in each of up to 2^15 buckets of equal width over the ranks'
/// range, so that the rank at any place is found in linear time: the buckets tell which
/// holds it, and only that bucket's ranks are searched.
#[derive(Debug)]
struct Histogram {
    min: u64,
    shift: u32,
    /// `below[b]` is how many ranks lie in buckets before `b`; the last entry is the total.
    below: Vec<usize>,
    /// Each key's bucket, [`NO_BUCKET`] for a key without a rank: a sixth of the ranks'
    /// size, so segments keeping different amounts read these instead of the ranks.
    buckets: Vec<u16>,
}

/// The bucket of a key without a rank: above every bucket.
const NO_BUCKET: u16 = u16::MAX;

impl Histogram {
    fn of(best: &[u64]) -> Histogram {
        let (min, max) = best
            .par_iter()
            .filter(|&&r| r != NO_RANK)
            .fold(|| (u64::MAX, 0), |(min, max), &r| (min.min(r), max.max(r)))
            .reduce(|| (u64::MAX, 0), |a, b| (a.0.min(b.0), a.1.max(b.1)));
        let min = min.min(max);
        let count = best.len().max(2);
        let bits = count.ilog2().clamp(1, 15);
        let spread = u64::BITS - (max - min).leading_zeros();
        let shift = spread.saturating_sub(bits);
        let bucket_count = 1usize << bits;
        let buckets: Vec<u16> = best
            .par_iter()
            .map(|&r| {
                if r == NO_RANK {
                    NO_BUCKET
                } else {
                    ((r - min) >> shift) as u16
                }
            })
            .collect();
        let counts = buckets
            .par_chunks(CHUNK)
            .fold(
                || vec![0usize; bucket_count],
                |mut counts, part| {
                    for &b in part.iter().filter(|&&b| b != NO_BUCKET) {
                        counts[b as usize] += 1;
                    }
                    counts
                },
            )
            .reduce(
                || vec![0usize; bucket_count],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                    a
                },
            );
        let mut below = Vec::with_capacity(bucket_count + 1);
        let mut total = 0;
        below.push(0);
        for count in counts {
            total += count;
            below.push(total);
        }
        Histogram {
            min,
            shift,
            below,
            buckets,
        }
    }

    /// The bucket of a rank that is not [`NO_RANK`].
    fn bucket(&self, rank: u64) -> u16 {
        ((rank - self.min) >> self.shift) as u16
    }

    fn total(&self) -> usize {
        self.below.last().copied().unwrap_or(0)
    }

    /// The rank at place `keep` (counted from 1, best first) and how many ranks are
    /// better; `None` for place 0.
    fn place(&self, best: &[u64], keep: usize) -> Option<(u64, usize)> {
        if keep == 0 || keep > self.total() {
            return None;
        }
        let bucket = self.below.partition_point(|&below| below < keep) - 1;
        let before = self.below[bucket];
        let mut inside: Vec<u64> = self
            .buckets
            .par_iter()
            .zip(best)
            .filter(|&(&b, _)| b as usize == bucket)
            .map(|(_, &r)| r)
            .collect();
        let last = *inside.select_nth_unstable(keep - before - 1).1;
        let better = before + inside.iter().filter(|&&r| r < last).count();
        Some((last, better))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_byte_order_and_maps_both_sides() {
        let (merged, a, b) = merge(&["C1", "C3", "C5"], &["C2", "C3", "C9"], |k: &&str| *k);
        assert_eq!(merged, ["C1", "C2", "C3", "C5", "C9"]);
        assert_eq!(a, [0, 2, 3]);
        assert_eq!(b, [1, 2, 4]);
    }

    #[test]
    fn ranks_order_values_best_first() {
        let values = [3.0, -1.0, 0.0, -0.0, 2.5, f64::NEG_INFINITY, 1e300];
        let top: Vec<u64> = values
            .iter()
            .map(|&v| number_rank(v, true).unwrap())
            .collect();
        // Best first for `top`: 1e300, 3, 2.5, then 0 and -0 as one value, -1, -inf.
        let order = |ranks: &[u64]| {
            let mut by_rank: Vec<usize> = (0..ranks.len()).collect();
            by_rank.sort_by_key(|&i| (ranks[i], i));
            by_rank
        };
        assert_eq!(order(&top), [6, 0, 4, 2, 3, 1, 5]);
        assert_eq!(top[2], top[3]);
        let bottom: Vec<u64> = values
            .iter()
            .map(|&v| number_rank(v, false).unwrap())
            .collect();
        assert_eq!(order(&bottom), [5, 1, 2, 3, 4, 0, 6]);
        assert_eq!(number_rank(f64::NAN, true), None);

        let integers = [5_i64, -7, 0, i64::MAX, NULL_INT + 1];
        let top: Vec<u64> = integers
            .iter()
            .map(|&v| integer_rank(v, true).unwrap())
            .collect();
        assert_eq!(order(&top), [3, 0, 2, 1, 4]);
        assert_eq!(integer_rank(NULL_INT, false), None);
        // The extremes stay below `u64::MAX`, which stands for "no value".
        assert_eq!(integer_rank(i64::MAX, false), Some(u64::MAX - 1));
        assert_eq!(integer_rank(NULL_INT + 1, true), Some(u64::MAX - 1));
        assert_eq!(integer_rank(NULL_INT + 1, false), Some(0));
    }

    #[test]
    fn the_best_keys_are_kept_with_ties_broken_by_key() {
        // Key ids 0 to 5; key 2 has no value. Best first: key 4, then keys 1, 3 and 5 tied.
        let best = [5, 3, NO_RANK, 3, 1, 3];
        let histogram = Histogram::of(&best);
        let kept = |amount, with_ties| -> Vec<usize> {
            keep_best(amount, with_ties, &best, &histogram)
                .iter()
                .collect()
        };
        assert_eq!(kept(ir::Amount::Count(3), false), [1, 3, 4]);
        assert_eq!(kept(ir::Amount::Count(3), true), [1, 3, 4, 5]);
        assert_eq!(kept(ir::Amount::Count(1), true), [4]);
        assert_eq!(kept(ir::Amount::Count(5), false), [0, 1, 3, 4, 5]);
        assert_eq!(kept(ir::Amount::Count(9), false), [0, 1, 3, 4, 5]);
        assert_eq!(kept(ir::Amount::Count(0), true), Vec::<usize>::new());
        // 50% of the five keys with a value is ceil(2.5) = 3.
        let half = ir::Amount::Percent {
            numerator: 50,
            denominator: 1,
        };
        assert_eq!(kept(half, false), [1, 3, 4]);
    }

    #[test]
    fn the_histogram_finds_the_same_keys_as_sorting() {
        // 50,000 keys, a tenth without a value, ranks over a wide range with many ties.
        let mut state = 12345u64;
        let best: Vec<u64> = (0..50_000)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                match state >> 60 {
                    0 => NO_RANK,
                    1..=3 => (state >> 20) % 50,
                    _ => state >> 3,
                }
            })
            .collect();
        let mut order: Vec<(u64, usize)> = best
            .iter()
            .enumerate()
            .filter(|(_, &r)| r != NO_RANK)
            .map(|(key, &r)| (r, key))
            .collect();
        order.sort_unstable();
        let histogram = Histogram::of(&best);
        assert_eq!(histogram.total(), order.len());
        for keep in [1, 2, 777, 4_000, 20_000, order.len() - 1, order.len()] {
            let amount = ir::Amount::Count(keep as u64);
            let mut want: Vec<usize> = order[..keep].iter().map(|&(_, key)| key).collect();
            want.sort_unstable();
            let got: Vec<usize> = keep_best(amount, false, &best, &histogram).iter().collect();
            assert_eq!(got, want, "keep {keep}");
            let last = order[keep - 1].0;
            let mut want: Vec<usize> = order
                .iter()
                .take_while(|&&(r, _)| r <= last)
                .map(|&(_, key)| key)
                .collect();
            want.sort_unstable();
            let got: Vec<usize> = keep_best(amount, true, &best, &histogram).iter().collect();
            assert_eq!(got, want, "keep {keep} with ties");
        }
    }

    #[test]
    fn split_buckets_follow_md5() {
        // md5("s:C1") = 92de3c1d20553d51b50606926f6f9a12, computed with `md5sum`.
        assert_eq!(split_bucket("s", "C1"), 0x92de_3c1d);
    }
}
