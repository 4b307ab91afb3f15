//! Conditions evaluated straight into bits, one per row, for the filters that run in one
//! pass over a table (see `filter_in_one_pass`).
//!
//! A condition's value on a row is true, false or unknown; here a chunk of rows holds two
//! bitsets, where it is true and where it is unknown. `and`, `or` and `not` then work on
//! 64 rows at a time, and a column compared with a constant is packed into bits as it is
//! read. Any other node is evaluated as [`Node::eval`] does and its values packed, so both
//! ways give the same rows by construction for everything but the few nodes handled here.

use std::ops::Range;

use crate::data::{ColumnData, NULL_BOOL, NULL_CODE, NULL_DATE, NULL_INT};
use crate::syntax::ast::CompareOp;

use super::bits::{fill, fill_unknown, pack};
use super::expr::Node;
use super::vector::{TRUE, UNKNOWN};

/// What the caller reads of a condition. A filter reads only where it is true; so do `and`
/// and `or` of their sides then, while `not` needs to know where its side is unknown too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    True,
    TrueAndUnknown,
}

/// A condition's value over a chunk of rows: bit `i` of word `i / 64` is row `start + i`.
/// A row is false where neither set holds it; bits past the chunk's end are clear.
/// `unknown` is empty when only [`Need::True`] was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truth {
    pub yes: Vec<u64>,
    pub unknown: Vec<u64>,
    len: usize,
}

impl Truth {
    fn of_values(truth: &[u8], need: Need) -> Truth {
        let words = truth.len().div_ceil(64);
        let mut yes = vec![0; words];
        fill(&mut yes, truth);
        let mut unknown = Vec::new();
        if need == Need::TrueAndUnknown {
            unknown.resize(words, 0);
            fill_unknown(&mut unknown, truth);
        }
        Truth {
            yes,
            unknown,
            len: truth.len(),
        }
    }

    /// Rows that are true or unknown: not false.
    fn maybe(&self, word: usize) -> u64 {
        self.yes[word] | self.unknown[word]
    }

    /// The bits of the rows in the chunk, in word `word`.
    fn present(&self, word: usize) -> u64 {
        let end = (word + 1) * 64;
        if end <= self.len {
            u64::MAX
        } else {
            (1u64 << (self.len % 64)) - 1
        }
    }

    fn all_true(&self) -> bool {
        (0..self.yes.len()).all(|w| self.yes[w] == self.present(w))
    }

    fn all_false(&self, need: Need) -> bool {
        match need {
            Need::True => self.yes.iter().all(|&w| w == 0),
            Need::TrueAndUnknown => (0..self.yes.len()).all(|w| self.maybe(w) == 0),
        }
    }
}

/// The condition `node` over `rows`, whose start is a multiple of 64.
pub fn truth(node: &Node<'_>, rows: Range<usize>, need: Need) -> Truth {
    debug_assert!(rows.start.is_multiple_of(64));
    let both = need == Need::TrueAndUnknown;
    match node {
        Node::And(a, b) => {
            let a = truth(a, rows.clone(), need);
            if a.all_false(need) {
                return a;
            }
            let b = truth(b, rows, need);
            let words = 0..a.yes.len();
            let yes: Vec<u64> = words.clone().map(|w| a.yes[w] & b.yes[w]).collect();
            let unknown = match need {
                Need::True => Vec::new(),
                Need::TrueAndUnknown => words.map(|w| a.maybe(w) & b.maybe(w) & !yes[w]).collect(),
            };
            Truth { yes, unknown, ..a }
        }
        Node::Or(a, b) => {
            let a = truth(a, rows.clone(), need);
            if a.all_true() {
                return a;
            }
            let b = truth(b, rows, need);
            let words = 0..a.yes.len();
            let yes: Vec<u64> = words.clone().map(|w| a.yes[w] | b.yes[w]).collect();
            let unknown = match need {
                Need::True => Vec::new(),
                Need::TrueAndUnknown => words
                    .map(|w| (a.unknown[w] | b.unknown[w]) & !yes[w])
                    .collect(),
            };
            Truth { yes, unknown, ..a }
        }
        Node::Not(inner) => {
            let inner = truth(inner, rows, Need::TrueAndUnknown);
            let yes = (0..inner.yes.len())
                .map(|w| !inner.maybe(w) & inner.present(w))
                .collect();
            let unknown = if both { inner.unknown } else { Vec::new() };
            Truth {
                yes,
                unknown,
                len: inner.len,
            }
        }
        Node::NumberAgainst(op, values, constant) => {
            against(&values[rows], *op, *constant, f64::is_nan, need)
        }
        Node::IntegerAgainst(op, values, constant) => {
            against(&values[rows], *op, *constant, |x| x == NULL_INT, need)
        }
        // A bool column holds truth values already.
        Node::Column(ColumnData::Bool(values)) => Truth::of_values(&values[rows], need),
        Node::PerCode(codes, per_code) => per_code_truth(&codes[rows], per_code, need),
        Node::IsNull { value, negated } => match &**value {
            Node::Column(data) => nulls(data, rows, *negated, need),
            Node::Strings(codes, _) => each_value(
                &codes[rows],
                |_| false,
                |c| (c == NULL_CODE) != *negated,
                need,
            ),
            _ => Truth::of_values(&node.eval(rows).into_bool(), need),
        },
        Node::MembersByRow(members) => {
            let yes = members.words_of(rows.clone());
            let unknown = if both { vec![0; yes.len()] } else { Vec::new() };
            Truth {
                yes,
                unknown,
                len: rows.len(),
            }
        }
        other => Truth::of_values(&other.eval(rows).into_bool(), need),
    }
}

/// Rows whose string is one of a few (up to four) codes are found by comparing codes, which
/// the compiler runs over several rows at a time; other tables are looked up row by row.
fn per_code_truth(codes: &[u32], per_code: &[u8], need: Need) -> Truth {
    const FEW: usize = 4;
    if per_code.len() <= 64 && !per_code.contains(&UNKNOWN) {
        let mut wanted = [NULL_CODE; FEW];
        let mut found = 0;
        for (code, _) in per_code.iter().enumerate().filter(|(_, &v)| v == TRUE) {
            if found < FEW {
                wanted[found] = code as u32;
            }
            found += 1;
        }
        // Unused places hold the null code, which `is_null` rules out first.
        if found <= FEW {
            let [a, b, c, d] = wanted;
            return each_value(
                codes,
                |code| code == NULL_CODE,
                |code| (code == a) | (code == b) | (code == c) | (code == d),
                need,
            );
        }
    }
    // The null code lies past the end of the table.
    let value = |code: u32| per_code.get(code as usize).copied().unwrap_or(UNKNOWN);
    each_value(
        codes,
        |code| value(code) == UNKNOWN,
        |code| value(code) == TRUE,
        need,
    )
}

/// `is null` (or `is not null` when `negated`) of a column's values: never unknown.
fn nulls(data: &ColumnData, rows: Range<usize>, negated: bool, need: Need) -> Truth {
    fn never<T>(_: T) -> bool {
        false
    }
    let is = move |null: bool| null != negated;
    match data {
        ColumnData::Bool(v) => each_value(&v[rows], never, |x| is(x == NULL_BOOL), need),
        ColumnData::Integer(v) => each_value(&v[rows], never, |x| is(x == NULL_INT), need),
        ColumnData::Number(v) => each_value(&v[rows], never, |x| is(x.is_nan()), need),
        ColumnData::Date(v) => each_value(&v[rows], never, |x| is(x == NULL_DATE), need),
        ColumnData::String(s) => each_value(&s.codes[rows], never, |x| is(x == NULL_CODE), need),
    }
}

/// `x op constant` for each value as bits, unknown where `is_null`; the operator is matched
/// once, outside the loop.
fn against<T: PartialOrd + Copy>(
    values: &[T],
    op: CompareOp,
    constant: T,
    is_null: impl Fn(T) -> bool + Copy,
    need: Need,
) -> Truth {
    match op {
        CompareOp::Eq => each_value(values, is_null, |x| x == constant, need),
        CompareOp::Ne => each_value(values, is_null, |x| x != constant, need),
        CompareOp::Lt => each_value(values, is_null, |x| x < constant, need),
        CompareOp::Le => each_value(values, is_null, |x| x <= constant, need),
        CompareOp::Gt => each_value(values, is_null, |x| x > constant, need),
        CompareOp::Ge => each_value(values, is_null, |x| x >= constant, need),
    }
}

/// Bits of `test` over each value, 64 values to a word, unknown where `is_null`; the
/// unknown ones only when they are needed.
fn each_value<T: Copy>(
    values: &[T],
    is_null: impl Fn(T) -> bool,
    test: impl Fn(T) -> bool,
    need: Need,
) -> Truth {
    let words = values.len().div_ceil(64);
    let mut yes = Vec::with_capacity(words);
    let mut unknown = Vec::new();
    // A byte per value first: loops the compiler runs over several values at a time.
    match need {
        Need::True => {
            for part in values.chunks(64) {
                let mut true_bytes = [0u8; 64];
                for (t, &x) in true_bytes.iter_mut().zip(part) {
                    *t = u8::from(!is_null(x) & test(x));
                }
                yes.push(pack(&true_bytes));
            }
        }
        Need::TrueAndUnknown => {
            unknown.reserve(words);
            for part in values.chunks(64) {
                let (mut true_bytes, mut null_bytes) = ([0u8; 64], [0u8; 64]);
                for ((t, n), &x) in true_bytes.iter_mut().zip(&mut null_bytes).zip(part) {
                    let null = is_null(x);
                    *t = u8::from(!null & test(x));
                    *n = u8::from(null);
                }
                yes.push(pack(&true_bytes));
                unknown.push(pack(&null_bytes));
            }
        }
    }
    Truth {
        yes,
        unknown,
        len: values.len(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::check::ir::Scalar;
    use crate::eval::vector::{Dict, NullAs, FALSE};
    use crate::eval::Bits;

    const ROWS: usize = 300;

    /// A small generator, so the test needs no seed from outside.
    struct Draw(u64);

    impl Draw {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    struct Columns {
        numbers: Vec<f64>,
        integers: Vec<i64>,
        bools: ColumnData,
        codes: Vec<u32>,
        members: Arc<Bits>,
    }

    fn columns(draw: &mut Draw) -> Columns {
        let mut members = Bits::new(ROWS);
        (0..ROWS)
            .filter(|_| draw.below(2) == 0)
            .for_each(|r| members.set(r));
        Columns {
            numbers: (0..ROWS)
                .map(|_| match draw.below(6) {
                    0 => f64::NAN,
                    v => v as f64 / 2.0,
                })
                .collect(),
            integers: (0..ROWS)
                .map(|_| match draw.below(6) {
                    0 => NULL_INT,
                    v => v as i64,
                })
                .collect(),
            bools: ColumnData::Bool((0..ROWS).map(|_| draw.below(3) as u8).collect()),
            codes: (0..ROWS)
                .map(|_| match draw.below(7) {
                    6 => NULL_CODE,
                    code => code as u32,
                })
                .collect(),
            members: Arc::new(members),
        }
    }

    const OPS: [CompareOp; 6] = CompareOp::ALL;

    /// A random condition over the columns, `depth` levels of `and`, `or` and `not` at most.
    fn condition<'t>(draw: &mut Draw, c: &'t Columns, depth: u32) -> Node<'t> {
        let pick = draw.below(if depth == 0 { 8 } else { 11 });
        let op = OPS[draw.below(6) as usize];
        let negated = draw.below(2) == 0;
        let inner = |draw: &mut Draw| Box::new(condition(draw, c, depth - 1));
        match pick {
            0 => Node::NumberAgainst(op, &c.numbers, draw.below(6) as f64 / 2.0),
            1 => Node::IntegerAgainst(op, &c.integers, draw.below(6) as i64),
            2 => Node::Column(&c.bools),
            3 => {
                // Any of the six codes true or false, and sometimes some unknown.
                let kinds = if draw.below(2) == 0 { 3 } else { 2 };
                let table = (0..6)
                    .map(|_| [FALSE, TRUE, UNKNOWN][draw.below(kinds) as usize])
                    .collect();
                Node::PerCode(&c.codes, Arc::new(table))
            }
            4 => Node::MembersByRow(Arc::clone(&c.members)),
            5 => Node::IsNull {
                value: Box::new(Node::Column(&c.bools)),
                negated,
            },
            6 => Node::IsNull {
                value: Box::new(Node::Strings(&c.codes, Dict::Owned(Arc::default()))),
                negated,
            },
            // Evaluated the general way and packed.
            7 => Node::Const(Scalar::Null, NullAs::Bool),
            8 => Node::And(inner(draw), inner(draw)),
            9 => Node::Or(inner(draw), inner(draw)),
            _ => Node::Not(inner(draw)),
        }
    }

    #[test]
    fn bits_hold_the_same_rows_as_truth_values() {
        let mut draw = Draw(0x9e37_79b9_7f4a_7c15);
        for _ in 0..40 {
            let columns = columns(&mut draw);
            for _ in 0..50 {
                let node = condition(&mut draw, &columns, 3);
                let start = 64 * draw.below(3) as usize;
                let end = start + draw.below((ROWS - start) as u64 + 1) as usize;
                let values = node.eval(start..end).into_bool();
                let both = truth(&node, start..end, Need::TrueAndUnknown);
                let only = truth(&node, start..end, Need::True);
                assert_eq!(only.yes, both.yes, "{node:?}");
                for (i, &value) in values.iter().enumerate() {
                    let bit = |words: &[u64]| words[i / 64] >> (i % 64) & 1 == 1;
                    assert_eq!(bit(&both.yes), value == TRUE, "row {i} of {node:?}");
                    assert_eq!(bit(&both.unknown), value == UNKNOWN, "row {i} of {node:?}");
                }
                let words = values.len().div_ceil(64);
                assert_eq!(both.yes.len(), words);
                // Nothing past the end.
                if let Some(&last) = both.yes.last() {
                    if !values.len().is_multiple_of(64) {
                        assert_eq!(last >> (values.len() % 64), 0, "{node:?}");
                    }
                }
            }
        }
    }
}
