//! Column vectors of one chunk of rows, and the operations expressions need on them.
//!
//! Nulls live inside the values: NaN for numbers, sentinels for the rest (see
//! [`crate::data`]). Conditions are bool vectors with three values, 0 false, 1 true and
//! 2 unknown, so SQL's three-valued logic is two small lookup tables.

use std::cmp::Ordering;
use std::sync::Arc;

use crate::check::ir::Scalar;
use crate::data::{Keys, NULL_BOOL, NULL_CODE, NULL_DATE, NULL_INT};
use crate::syntax::ast::CompareOp;

pub const FALSE: u8 = 0;
pub const TRUE: u8 = 1;
pub const UNKNOWN: u8 = NULL_BOOL;

// Kleene logic below compares values: false < true < unknown.
const _: () = assert!(FALSE < TRUE && TRUE < UNKNOWN);

/// The distinct strings a string vector's codes point into.
#[derive(Debug, Clone)]
pub enum Dict<'t> {
    Column(&'t [Box<str>]),
    Keys(&'t Keys),
    Owned(Arc<Vec<Box<str>>>),
}

impl Dict<'_> {
    pub fn len(&self) -> usize {
        match self {
            Dict::Column(values) => values.len(),
            Dict::Keys(keys) => keys.len(),
            Dict::Owned(values) => values.len(),
        }
    }

    pub fn get(&self, code: u32) -> &str {
        match self {
            Dict::Column(values) => &values[code as usize],
            Dict::Keys(keys) => keys.get(code),
            Dict::Owned(values) => &values[code as usize],
        }
    }

    /// Applies `f` to every distinct string once.
    pub fn map<T>(&self, f: impl Fn(&str) -> T) -> Vec<T> {
        (0..self.len() as u32)
            .map(|code| f(self.get(code)))
            .collect()
    }
}

/// The values of an expression over one chunk of rows.
#[derive(Debug, Clone)]
pub enum Vector<'t> {
    Bool(Vec<u8>),
    Integer(Vec<i64>),
    Number(Vec<f64>),
    Date(Vec<i32>),
    Str(Vec<u32>, Dict<'t>),
}

#[allow(clippy::len_without_is_empty)]
impl<'t> Vector<'t> {
    /// A constant repeated `len` times; `null` takes the form of `like`.
    pub fn broadcast(scalar: &Scalar, len: usize, null_as: NullAs) -> Vector<'t> {
        match scalar {
            Scalar::Bool(value) => Vector::Bool(vec![u8::from(*value); len]),
            Scalar::Integer(value) => Vector::Integer(vec![*value; len]),
            Scalar::Number(value) => Vector::Number(vec![*value; len]),
            Scalar::Date(value) => Vector::Date(vec![*value; len]),
            Scalar::String(text) => Vector::Str(
                vec![0; len],
                Dict::Owned(Arc::new(vec![Box::from(&**text)])),
            ),
            Scalar::Null => match null_as {
                NullAs::Bool => Vector::Bool(vec![UNKNOWN; len]),
                NullAs::Integer => Vector::Integer(vec![NULL_INT; len]),
                NullAs::Number => Vector::Number(vec![f64::NAN; len]),
                NullAs::Date => Vector::Date(vec![NULL_DATE; len]),
                NullAs::String => Vector::Str(vec![NULL_CODE; len], Dict::Owned(Arc::default())),
            },
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Vector::Bool(v) => v.len(),
            Vector::Integer(v) => v.len(),
            Vector::Number(v) => v.len(),
            Vector::Date(v) => v.len(),
            Vector::Str(codes, _) => codes.len(),
        }
    }

    /// Per row: is the value null?
    pub fn nulls(&self) -> Vec<bool> {
        match self {
            Vector::Bool(v) => v.iter().map(|&b| b == UNKNOWN).collect(),
            Vector::Integer(v) => v.iter().map(|&i| i == NULL_INT).collect(),
            Vector::Number(v) => v.iter().map(|f| f.is_nan()).collect(),
            Vector::Date(v) => v.iter().map(|&d| d == NULL_DATE).collect(),
            Vector::Str(codes, _) => codes.iter().map(|&c| c == NULL_CODE).collect(),
        }
    }

    pub fn into_bool(self) -> Vec<u8> {
        match self {
            Vector::Bool(v) => v,
            other => vec![UNKNOWN; other.len()],
        }
    }
}

/// What type a `null` constant takes when it must become a vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullAs {
    Bool,
    Integer,
    Number,
    Date,
    String,
}

/// Kleene `and`: false if either side is, else unknown if either side is, else true. Each
/// value is a select, not a lookup, so the compiler runs it over many values at once.
pub fn and(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            if x == FALSE || y == FALSE {
                FALSE
            } else {
                x.max(y)
            }
        })
        .collect()
}

/// Kleene `or`: true if either side is, else unknown if either side is, else false.
pub fn or(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            if x == TRUE || y == TRUE {
                TRUE
            } else {
                x.max(y)
            }
        })
        .collect()
}

pub fn not(a: &[u8]) -> Vec<u8> {
    a.iter()
        .map(|&x| if x == UNKNOWN { UNKNOWN } else { x ^ 1 })
        .collect()
}

pub fn holds(op: CompareOp, ordering: Ordering) -> bool {
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
    }
}

fn truth(value: bool) -> u8 {
    u8::from(value)
}

/// Compares two vectors of one type row by row; null on either side is unknown.
pub fn compare(op: CompareOp, lhs: &Vector<'_>, rhs: &Vector<'_>) -> Vec<u8> {
    match (lhs, rhs) {
        (Vector::Number(a), Vector::Number(b)) => a
            .iter()
            .zip(b)
            .map(|(x, y)| match x.partial_cmp(y) {
                Some(ordering) => truth(holds(op, ordering)),
                None => UNKNOWN,
            })
            .collect(),
        (Vector::Integer(a), Vector::Integer(b)) => ordered(op, a, b, NULL_INT),
        (Vector::Date(a), Vector::Date(b)) => ordered(op, a, b, NULL_DATE),
        (Vector::Bool(a), Vector::Bool(b)) => ordered(op, a, b, UNKNOWN),
        (Vector::Str(a, dict_a), Vector::Str(b, dict_b)) => a
            .iter()
            .zip(b)
            .map(|(&x, &y)| {
                if x == NULL_CODE || y == NULL_CODE {
                    UNKNOWN
                } else {
                    let ordering = dict_a.get(x).as_bytes().cmp(dict_b.get(y).as_bytes());
                    truth(holds(op, ordering))
                }
            })
            .collect(),
        _ => vec![UNKNOWN; lhs.len()],
    }
}

fn ordered<T: Ord + Copy>(op: CompareOp, a: &[T], b: &[T], null: T) -> Vec<u8> {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            if x == null || y == null {
                UNKNOWN
            } else {
                truth(holds(op, x.cmp(&y)))
            }
        })
        .collect()
}

/// Total order used by `top`/`bottom` and by the output of keys; never sees NaN.
pub fn cmp_f64(a: f64, b: f64) -> Ordering {
    a.partial_cmp(&b).unwrap_or(Ordering::Equal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logic_follows_the_kleene_tables() {
        const F: u8 = FALSE;
        const T: u8 = TRUE;
        const U: u8 = UNKNOWN;
        // Rows: left side false, true, unknown; columns: right side in the same order.
        let and_table = [[F, F, F], [F, T, U], [F, U, U]];
        let or_table = [[F, T, U], [T, T, T], [U, T, U]];
        let values = [F, T, U];
        for (i, &x) in values.iter().enumerate() {
            for (j, &y) in values.iter().enumerate() {
                assert_eq!(and(&[x], &[y]), [and_table[i][j]], "{x} and {y}");
                assert_eq!(or(&[x], &[y]), [or_table[i][j]], "{x} or {y}");
            }
        }
        assert_eq!(not(&[F, T, U]), [T, F, U]);
    }
}
