//! The reference evaluator: SPEC.md sections 2 and 3 applied row by row, slowly and
//! plainly, to the oracle's own model of a project.
//!
//! It shares no code with segc's engine and reads nothing segc wrote: cells are parsed
//! from the texts the generator spelled, conditions are evaluated one row at a time with
//! SQL's three-valued logic, aggregates are recomputed from the whole column each time
//! they are needed, and amounts are counted with integers. Where the spec is silent it
//! follows the README's decisions (integers and numbers mix, arithmetic yields numbers,
//! `round` rounds the product with 10^d half away from zero, inference keeps `0012` as
//! text, zero prints as `0`) and, where the README says nothing, segc's evident choice,
//! noted where it is made.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use md5::{Digest, Md5};

use super::model::*;

/// The project-wide key column; a `combine` segment's output is headed by it.
pub const PROJECT_KEY: &str = "CustomerId";

/// A value of a cell or of an expression. Null is `None` around it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(String),
    /// Days since 1970-01-01.
    Date(i32),
}

// ---------------------------------------------------------------------------------------
// Cells
// ---------------------------------------------------------------------------------------

/// Spaces and tabs around a cell do not count when it is read as a number, bool or date.
fn trim_cell(text: &str) -> &str {
    text.trim_matches(|c| c == ' ' || c == '\t')
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn days_in_year(year: i32) -> i32 {
    if is_leap(year) {
        366
    } else {
        365
    }
}

/// `YYYY-MM-DD` as days since 1970-01-01, counted a year and a month at a time.
pub fn parse_date(text: &str) -> Option<i32> {
    let bytes = text.as_bytes();
    let digit_at = |i: usize| bytes[i].is_ascii_digit();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    if !(0..10).filter(|&i| i != 4 && i != 7).all(digit_at) {
        return None;
    }
    let year: i32 = text[0..4].parse().ok()?;
    let month: u32 = text[5..7].parse().ok()?;
    let day: u32 = text[8..10].parse().ok()?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let mut days: i32 = 0;
    if year >= 1970 {
        days += (1970..year).map(days_in_year).sum::<i32>();
    } else {
        days -= (year..1970).map(days_in_year).sum::<i32>();
    }
    days += (1..month)
        .map(|m| days_in_month(year, m) as i32)
        .sum::<i32>();
    Some(days + day as i32 - 1)
}

/// Days since 1970-01-01 back to `YYYY-MM-DD`.
pub fn format_date(mut days: i32) -> String {
    let mut year = 1970;
    while days < 0 {
        year -= 1;
        days += days_in_year(year);
    }
    while days >= days_in_year(year) {
        days -= days_in_year(year);
        year += 1;
    }
    let mut month = 1;
    while days >= days_in_month(year, month) as i32 {
        days -= days_in_month(year, month) as i32;
        month += 1;
    }
    format!("{year:04}-{month:02}-{:02}", days + 1)
}

fn parse_bool(text: &str, declared: bool) -> Option<bool> {
    let text = trim_cell(text);
    if text.eq_ignore_ascii_case("true") || (declared && text == "1") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") || (declared && text == "0") {
        Some(false)
    } else {
        None
    }
}

fn parse_integer(text: &str) -> Option<i64> {
    let text = trim_cell(text);
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A decimal with an optional sign, fraction and exponent: `-1`, `.5`, `2.`, `1e-3`.
fn parse_number(text: &str) -> Option<f64> {
    let text = trim_cell(text);
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.len() + fraction.len() == 0 || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    if let Some(exponent) = exponent {
        let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if exponent.is_empty() || !all_digits(exponent) {
            return None;
        }
    }
    text.parse().ok()
}

/// A number whose integer part has a leading zero (`0012`, `-007`) reads as an identifier
/// when the type is inferred: segc's loader keeps such columns as text unless declared.
pub fn has_leading_zero(text: &str) -> bool {
    let text = trim_cell(text);
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let whole = unsigned.split(['.', 'e', 'E']).next().unwrap_or("");
    whole.len() > 1 && whole.starts_with('0')
}

/// The type segc should give a column: the declared one, or the narrowest that every
/// non-null cell parses as, trying bool, integer, number, date, then string.
pub fn column_type(table: &Table, column: usize) -> Ty {
    let declared = &table.columns[column];
    if declared.declared {
        return declared.ty;
    }
    let texts: Vec<&str> = table
        .rows
        .iter()
        .filter_map(|row| match &row.cells[column] {
            Cell::Text { text, .. } => Some(text.as_str()),
            Cell::Null(_) => None,
        })
        .collect();
    if texts.is_empty() {
        return Ty::Str;
    }
    let all = |parses: &dyn Fn(&str) -> bool| texts.iter().all(|t| parses(t));
    if all(&|t| parse_bool(t, false).is_some()) {
        Ty::Bool
    } else if all(&|t| parse_integer(t).is_some() && !has_leading_zero(t)) {
        Ty::Integer
    } else if all(&|t| parse_number(t).is_some() && !has_leading_zero(t)) {
        Ty::Number
    } else if all(&|t| parse_date(trim_cell(t)).is_some()) {
        Ty::Date
    } else {
        Ty::Str
    }
}

/// A cell's value as a column of type `ty`. The generator only spells cells that parse.
fn cell_value(cell: &Cell, ty: Ty, declared: bool) -> Option<Value> {
    let Cell::Text { text, .. } = cell else {
        return None;
    };
    let value = match ty {
        Ty::Bool => parse_bool(text, declared).map(Value::Bool),
        Ty::Integer => parse_integer(text).map(Value::Int),
        Ty::Number => parse_number(text).map(Value::Num),
        Ty::Date => parse_date(trim_cell(text)).map(Value::Date),
        Ty::Str => Some(Value::Str(text.clone())),
    };
    Some(value.unwrap_or_else(|| panic!("the generator spelled {text:?} for a {ty:?} column")))
}

/// A table as segc should load it: typed cells, row by row.
pub struct Data<'a> {
    pub table: &'a Table,
    /// `cells[row][column]`.
    pub cells: Vec<Vec<Option<Value>>>,
    /// Table aggregates once computed: they do not depend on the row, and a table may
    /// have tens of thousands of rows.
    aggregates: RefCell<HashMap<(Agg, usize), Option<Value>>>,
}

impl<'a> Data<'a> {
    pub fn load(table: &'a Table) -> Self {
        let types: Vec<Ty> = (0..table.columns.len())
            .map(|c| column_type(table, c))
            .collect();
        let cells = table
            .rows
            .iter()
            .map(|row| {
                row.cells
                    .iter()
                    .enumerate()
                    .map(|(c, cell)| cell_value(cell, types[c], table.columns[c].declared))
                    .collect()
            })
            .collect();
        Data {
            table,
            cells,
            aggregates: RefCell::default(),
        }
    }

    fn distinct_keys(&self) -> usize {
        let keys: BTreeSet<&str> = self.table.rows.iter().map(|r| r.key.as_str()).collect();
        keys.len()
    }
}

// ---------------------------------------------------------------------------------------
// Exact decimals
// ---------------------------------------------------------------------------------------

/// A decimal literal without a sign (`12.5`, `1_000`, `2.5e1`) as `digits / 10^scale`.
pub fn decimal(text: &str) -> (u128, u32) {
    let text = text.replace('_', "");
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().expect("an exponent")),
        None => (text.clone(), 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((&mantissa, ""));
    let mut digits: u128 = format!("{whole}{fraction}").parse().expect("digits");
    let mut scale = fraction.len() as i32 - exponent;
    while scale < 0 {
        digits *= 10;
        scale += 1;
    }
    (digits, scale as u32)
}

fn pow10(exponent: u32) -> u128 {
    10u128.pow(exponent)
}

/// `x` rounded as README decides: multiplied by 10^places, rounded half away from zero,
/// divided back, so that `round(1.005, 2)` is 1 (the float nearest 1.005 lies below it).
/// A product too large for a float leaves `x` as it is: it has no decimals to round.
pub fn round_half_away(x: f64, places: u32) -> f64 {
    let factor = 10f64.powi(places as i32);
    let product = x * factor;
    if product.is_infinite() {
        return x;
    }
    product.round() / factor
}

// ---------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------

fn number_literal(text: &str) -> Value {
    let clean = text.replace('_', "");
    if !clean.contains(['.', 'e', 'E']) {
        if let Ok(integer) = clean.parse::<i64>() {
            return Value::Int(integer);
        }
    }
    Value::Num(clean.parse().expect("a number literal"))
}

fn literal(lit: &Lit) -> Value {
    match lit {
        Lit::Number(text) => number_literal(text),
        Lit::Str(text) => Value::Str(text.clone()),
        Lit::Bool(value) => Value::Bool(*value),
        Lit::Date(text) => Value::Date(parse_date(text).expect("a valid date literal")),
    }
}

fn as_number(value: &Value) -> f64 {
    match value {
        Value::Int(i) => *i as f64,
        Value::Num(x) => *x,
        other => panic!("not a number: {other:?}"),
    }
}

/// The order of two non-null values of one type; integers meet numbers as numbers.
fn order(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Str(x), Value::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => as_number(a)
            .partial_cmp(&as_number(b))
            .expect("no NaN reaches a comparison"),
    }
}

fn compare(op: CmpOp, a: &Value, b: &Value) -> bool {
    let ordering = order(a, b);
    match op {
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Le => ordering != Ordering::Greater,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
    }
}

fn truth(value: Option<Value>) -> Option<bool> {
    value.map(|v| match v {
        Value::Bool(b) => b,
        other => panic!("not a condition: {other:?}"),
    })
}

fn and3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn or3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

fn not3(a: Option<bool>) -> Option<bool> {
    a.map(|b| !b)
}

fn boolean(b: Option<bool>) -> Option<Value> {
    b.map(Value::Bool)
}

/// `percentile_cont`: linear interpolation between the two nearest ranks of the sorted
/// values, at position `p × (n − 1)`, as SQL computes it.
fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).expect("no NaN in a column"));
    let position = p * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor(), position.ceil());
    let (a, b) = (sorted[low as usize], sorted[high as usize]);
    Some(a + (b - a) * (position - low))
}

/// A table aggregate over every non-null value of the column, before any `where`.
fn aggregate(data: &Data, agg: &Agg, column: usize) -> Option<Value> {
    let values: Vec<&Value> = data
        .cells
        .iter()
        .filter_map(|r| r[column].as_ref())
        .collect();
    let numbers = || values.iter().map(|v| as_number(v)).collect::<Vec<f64>>();
    let sum = |xs: &[f64]| xs.iter().fold(0.0, |total, x| total + x);
    match agg {
        Agg::Min => values
            .iter()
            .copied()
            .reduce(|a, b| if order(b, a) == Ordering::Less { b } else { a })
            .cloned(),
        Agg::Max => values
            .iter()
            .copied()
            .reduce(|a, b| {
                if order(b, a) == Ordering::Greater {
                    b
                } else {
                    a
                }
            })
            .cloned(),
        Agg::Sum => (!values.is_empty()).then(|| Value::Num(sum(&numbers()))),
        Agg::Avg => {
            let xs = numbers();
            (!xs.is_empty()).then(|| Value::Num(sum(&xs) / xs.len() as f64))
        }
        Agg::Stddev => {
            // The sample standard deviation needs two values.
            let xs = numbers();
            (xs.len() >= 2).then(|| {
                let mean = sum(&xs) / xs.len() as f64;
                let squares: Vec<f64> = xs.iter().map(|x| (x - mean) * (x - mean)).collect();
                Value::Num((sum(&squares) / (xs.len() - 1) as f64).sqrt())
            })
        }
        Agg::Median => percentile(&numbers(), 0.5).map(Value::Num),
        Agg::Percentile(p) => {
            percentile(&numbers(), p.replace('_', "").parse().expect("a fraction")).map(Value::Num)
        }
    }
}

/// What a row's conditions can see besides the row itself.
pub struct Context<'a> {
    pub data: &'a Data<'a>,
    /// `as_of` in days.
    pub as_of: i32,
    /// Members of the segments evaluated so far, by index in the world.
    pub members: &'a [BTreeSet<String>],
}

pub fn eval(expr: &Expr, ctx: &Context, row: usize) -> Option<Value> {
    let data = ctx.data;
    match expr {
        Expr::Column(column) => data.cells[row][column.index].clone(),
        Expr::Lit(lit) => Some(literal(lit)),
        Expr::Paren(inner) => eval(inner, ctx, row),
        Expr::Neg(inner) => eval(inner, ctx, row).map(|v| match v {
            Value::Int(i) => Value::Int(-i),
            Value::Num(x) => Value::Num(-x),
            other => panic!("minus on {other:?}"),
        }),
        Expr::Arith(op, a, b) => {
            let a = as_number(&eval(a, ctx, row)?);
            let b = as_number(&eval(b, ctx, row)?);
            let result = match op {
                ArithOp::Add => a + b,
                ArithOp::Sub => a - b,
                ArithOp::Mul => a * b,
                // Division by zero is null.
                ArithOp::Div if b == 0.0 => return None,
                ArithOp::Div => a / b,
            };
            // Past the largest float a result is infinite, and infinity minus infinity is
            // no number at all: segc makes it null, as it does a division by zero.
            (!result.is_nan()).then_some(Value::Num(result))
        }
        Expr::Call(func, args) => call(*func, args, ctx, row),
        Expr::Round(inner, places) => {
            eval(inner, ctx, row).map(|v| Value::Num(round_half_away(as_number(&v), *places)))
        }
        Expr::Agg(agg, column) => {
            let known = (agg.clone(), column.index);
            let cached = data.aggregates.borrow().get(&known).cloned();
            cached.unwrap_or_else(|| {
                let value = aggregate(data, agg, column.index);
                data.aggregates.borrow_mut().insert(known, value.clone());
                value
            })
        }
        Expr::Compare(op, a, b) => {
            let (a, b) = (eval(a, ctx, row), eval(b, ctx, row));
            match (a, b) {
                (Some(a), Some(b)) => Some(Value::Bool(compare(*op, &a, &b))),
                _ => None,
            }
        }
        Expr::Between {
            value,
            low,
            high,
            negated,
        } => {
            // `x between a and b` is `x >= a and x <= b`, nulls and all.
            let v = eval(value, ctx, row);
            let test = |op: CmpOp, bound: &Expr| -> Option<bool> {
                match (&v, eval(bound, ctx, row)) {
                    (Some(v), Some(b)) => Some(compare(op, v, &b)),
                    _ => None,
                }
            };
            let inside = and3(test(CmpOp::Ge, low), test(CmpOp::Le, high));
            boolean(if *negated { not3(inside) } else { inside })
        }
        Expr::InList {
            value,
            items,
            negated,
        } => {
            let v = eval(value, ctx, row)?;
            let found = items.iter().any(|item| {
                let mut lit = literal(&item.lit);
                if item.negative {
                    lit = match lit {
                        Value::Int(i) => Value::Int(-i),
                        Value::Num(x) => Value::Num(-x),
                        other => panic!("minus on {other:?}"),
                    };
                }
                compare(CmpOp::Eq, &v, &lit)
            });
            Some(Value::Bool(found != *negated))
        }
        Expr::IsNull { value, negated } => {
            Some(Value::Bool(eval(value, ctx, row).is_none() != *negated))
        }
        Expr::Match { value, op, pattern } => {
            let Value::Str(text) = eval(value, ctx, row)? else {
                panic!("a match on a non-string");
            };
            let found = match op {
                MatchOp::Contains => text.contains(pattern.as_str()),
                MatchOp::StartsWith => text.starts_with(pattern.as_str()),
                MatchOp::EndsWith => text.ends_with(pattern.as_str()),
            };
            Some(Value::Bool(found))
        }
        Expr::InSegment(segment) => {
            let key = &data.table.rows[row].key;
            Some(Value::Bool(ctx.members[*segment].contains(key)))
        }
        Expr::Not(inner) => boolean(not3(truth(eval(inner, ctx, row)))),
        Expr::And(a, b) => boolean(and3(truth(eval(a, ctx, row)), truth(eval(b, ctx, row)))),
        Expr::Or(a, b) => boolean(or3(truth(eval(a, ctx, row)), truth(eval(b, ctx, row)))),
    }
}

fn call(func: Func, args: &[Expr], ctx: &Context, row: usize) -> Option<Value> {
    if func == Func::Coalesce {
        return args.iter().find_map(|arg| eval(arg, ctx, row));
    }
    let value = eval(&args[0], ctx, row)?;
    Some(match (func, value) {
        (Func::Lower, Value::Str(s)) => Value::Str(s.to_lowercase()),
        (Func::Upper, Value::Str(s)) => Value::Str(s.to_uppercase()),
        (Func::Length, Value::Str(s)) => Value::Int(s.chars().count() as i64),
        (Func::Abs, Value::Int(i)) => Value::Int(i.abs()),
        (Func::Abs, Value::Num(x)) => Value::Num(x.abs()),
        (Func::DaysSince, Value::Date(d)) => Value::Int(i64::from(ctx.as_of - d)),
        (func, value) => panic!("{} on {value:?}", func.name()),
    })
}

// ---------------------------------------------------------------------------------------
// Segments
// ---------------------------------------------------------------------------------------

/// What one segment evaluates to.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub members: BTreeSet<String>,
    /// With `select`: the qualifying rows of the members, by key, then in file order.
    pub rows: Option<Vec<usize>>,
    /// With `split`: each member's group.
    pub groups: Option<BTreeMap<String, String>>,
    /// Whether each `expect` holds, in the order written.
    pub expects: Vec<bool>,
    /// The keys of the source table, for a `from` segment.
    pub source_keys: Option<usize>,
}

fn set(expr: &SetExpr, members: &[BTreeSet<String>]) -> BTreeSet<String> {
    match expr {
        SetExpr::Segment(s) => members[*s].clone(),
        SetExpr::Paren(inner) => set(inner, members),
        SetExpr::Union(a, b) => set(a, members).union(&set(b, members)).cloned().collect(),
        SetExpr::Intersect(a, b) => set(a, members)
            .intersection(&set(b, members))
            .cloned()
            .collect(),
        SetExpr::Except(a, b) => set(a, members)
            .difference(&set(b, members))
            .cloned()
            .collect(),
    }
}

/// How many keys `top`/`bottom` keeps out of `count` keys with a value.
fn kept(amount: &Amount, count: usize) -> usize {
    let (digits, scale) = decimal(&amount.text);
    if amount.percent {
        // ceil(P × count / 100), in integers.
        let numerator = digits * count as u128;
        let denominator = 100 * pow10(scale);
        numerator.div_ceil(denominator) as usize
    } else {
        assert_eq!(scale, 0, "a count of keys is whole");
        (digits as usize).min(count)
    }
}

/// The keys that `top`/`bottom` keeps among those with qualifying rows.
fn rank(rank: &Rank, ctx: &Context, qualifying: &[usize]) -> BTreeSet<String> {
    // Each key's value: the largest (top) or smallest (bottom) over its qualifying rows;
    // null values do not count, and a key with no value at all drops out.
    let mut best: BTreeMap<&str, Value> = BTreeMap::new();
    for &row in qualifying {
        let Some(value) = eval(&rank.by, ctx, row) else {
            continue;
        };
        let key = ctx.data.table.rows[row].key.as_str();
        let better = match best.get(key) {
            None => true,
            Some(current) if rank.top => order(&value, current) == Ordering::Greater,
            Some(current) => order(&value, current) == Ordering::Less,
        };
        if better {
            best.insert(key, value);
        }
    }
    let mut ranked: Vec<(&str, Value)> = best.into_iter().collect();
    // Best first; equal values in ascending byte order of the key.
    ranked.sort_by(|(ka, va), (kb, vb)| {
        let by_value = if rank.top {
            order(vb, va)
        } else {
            order(va, vb)
        };
        by_value.then_with(|| ka.as_bytes().cmp(kb.as_bytes()))
    });
    let mut keep = kept(&rank.amount, ranked.len());
    if rank.with_ties && keep > 0 {
        let last = ranked[keep - 1].1.clone();
        while keep < ranked.len() && order(&ranked[keep].1, &last) == Ordering::Equal {
            keep += 1;
        }
    }
    ranked[..keep].iter().map(|(k, _)| k.to_string()).collect()
}

/// The first 8 hex digits of `md5(seed + ":" + key)`, as an integer.
pub fn bucket(seed: &str, key: &str) -> u32 {
    let digest = Md5::digest(format!("{seed}:{key}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    u32::from_str_radix(&hex[..8], 16).expect("hex digits")
}

/// The group of a key: the groups take consecutive ranges of bucket / 2^32, in order.
fn group_of(split: &Split, key: &str) -> String {
    let shares: Vec<(u128, u32)> = split.groups.iter().map(|(_, s)| decimal(s)).collect();
    let scale = shares.iter().map(|s| s.1).max().unwrap_or(0);
    let bucket = u128::from(bucket(&split.seed, key));
    let mut cumulative: u128 = 0;
    for ((name, _), (digits, s)) in split.groups.iter().zip(&shares) {
        cumulative += digits * pow10(scale - s);
        // bucket / 2^32 < cumulative / (100 × 10^scale)
        if bucket * 100 * pow10(scale) < cumulative << 32 {
            return name.clone();
        }
    }
    panic!("the shares of {split:?} do not reach 100%")
}

fn expect_holds(expect: &Expect, members: usize, source_keys: usize) -> bool {
    // A figure against a threshold, as a cross-multiplied comparison of integers:
    // size is members / 1, share is members × 100 / source keys.
    let (figure, per) = if expect.share {
        (members as u128 * 100, source_keys as u128)
    } else {
        (members as u128, 1)
    };
    let versus = |threshold: &str| -> Ordering {
        let (digits, scale) = decimal(threshold);
        (figure * pow10(scale)).cmp(&(digits * per))
    };
    match &expect.test {
        ExpectTest::Compare(op, threshold) => {
            let ordering = versus(threshold);
            match op {
                CmpOp::Eq => ordering == Ordering::Equal,
                CmpOp::Ne => ordering != Ordering::Equal,
                CmpOp::Lt => ordering == Ordering::Less,
                CmpOp::Le => ordering != Ordering::Greater,
                CmpOp::Gt => ordering == Ordering::Greater,
                CmpOp::Ge => ordering != Ordering::Less,
            }
        }
        ExpectTest::Between(low, high) => {
            versus(low) != Ordering::Less && versus(high) != Ordering::Greater
        }
    }
}

/// Every segment of a world, in order; a segment refers only to earlier ones.
pub fn evaluate(world: &World, data: &[Data], as_of: i32) -> Vec<Outcome> {
    let mut members: Vec<BTreeSet<String>> = Vec::new();
    let mut outcomes = Vec::new();
    for segment in &world.segments {
        let (set_of_keys, rows, source_keys) = match &segment.source {
            Source::Combine(expr) => (set(expr, &members), None, None),
            Source::From(from) => {
                let data = &data[from.table];
                let ctx = Context {
                    data,
                    as_of,
                    members: &members,
                };
                // Only true selects a row; unknown does not.
                let qualifying: Vec<usize> = (0..data.table.rows.len())
                    .filter(|&row| match &from.filter {
                        None => true,
                        Some(filter) => truth(eval(filter, &ctx, row)) == Some(true),
                    })
                    .collect();
                let keys: BTreeSet<String> = match &from.rank {
                    Some(r) => rank(r, &ctx, &qualifying),
                    None => qualifying
                        .iter()
                        .map(|&row| data.table.rows[row].key.clone())
                        .collect(),
                };
                let rows = (!from.select.is_empty()).then(|| {
                    let mut rows: Vec<usize> = qualifying
                        .iter()
                        .copied()
                        .filter(|&row| keys.contains(&data.table.rows[row].key))
                        .collect();
                    // Stable: rows of one key stay in file order.
                    rows.sort_by(|&a, &b| {
                        let key = |r: usize| data.table.rows[r].key.as_bytes();
                        key(a).cmp(key(b))
                    });
                    rows
                });
                (keys, rows, Some(data.distinct_keys()))
            }
        };
        let groups = segment.split.as_ref().map(|split| {
            set_of_keys
                .iter()
                .map(|key| (key.clone(), group_of(split, key)))
                .collect()
        });
        let expects = segment
            .expects
            .iter()
            .map(|e| expect_holds(e, set_of_keys.len(), source_keys.unwrap_or(0)))
            .collect();
        outcomes.push(Outcome {
            members: set_of_keys.clone(),
            rows,
            groups,
            expects,
            source_keys,
        });
        members.push(set_of_keys);
    }
    outcomes
}

// ---------------------------------------------------------------------------------------
// Output files
// ---------------------------------------------------------------------------------------

/// A CSV field, quoted only where CSV needs it (an empty text needs quotes, a null is an
/// empty field written by the caller).
pub fn field(text: &str) -> String {
    if text.is_empty() || text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// A selected cell: numbers in their shortest form that reads back exactly (zero as `0`,
/// whatever its sign), dates as `YYYY-MM-DD`, nulls as empty fields.
fn output_cell(value: &Option<Value>) -> String {
    match value {
        None => String::new(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Int(i)) => i.to_string(),
        Some(Value::Num(x)) if *x == 0.0 => "0".to_string(),
        Some(Value::Num(x)) => format!("{x}"),
        Some(Value::Date(d)) => format_date(*d),
        Some(Value::Str(s)) => field(s),
    }
}

/// The bytes `segc run` should write for a segment.
pub fn expected_csv(world: &World, data: &[Data], index: usize, outcome: &Outcome) -> String {
    let segment = &world.segments[index];
    let mut out = String::new();
    let from = match &segment.source {
        Source::From(from) => Some(from),
        Source::Combine(_) => None,
    };
    let table = from.map(|f| &world.tables[f.table]);
    let mut header = vec![field(table.map_or(PROJECT_KEY, |t| t.key.as_str()))];
    if let (Some(from), Some(table)) = (from, table) {
        header.extend(from.select.iter().map(|&c| field(&table.columns[c].name)));
    }
    if segment.split.is_some() {
        header.push("group".to_string());
    }
    out.push_str(&header.join(","));
    out.push('\n');

    let group = |key: &str| outcome.groups.as_ref().map(|g| field(&g[key]));
    match (&outcome.rows, from, table) {
        (Some(rows), Some(from), Some(table)) => {
            let data = &data[from.table];
            for &row in rows {
                let key = &table.rows[row].key;
                let mut line = vec![field(key)];
                line.extend(
                    from.select
                        .iter()
                        .map(|&c| output_cell(&data.cells[row][c])),
                );
                line.extend(group(key));
                out.push_str(&line.join(","));
                out.push('\n');
            }
        }
        _ => {
            for key in &outcome.members {
                let mut line = vec![field(key)];
                line.extend(group(key));
                out.push_str(&line.join(","));
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_days_from_1970() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("1969-12-31"), Some(-1));
        assert_eq!(parse_date("2024-03-01"), Some(19783));
        assert_eq!(parse_date("2023-02-29"), None);
        for text in ["1999-12-31", "2000-02-29", "2024-06-30", "1900-03-01"] {
            assert_eq!(format_date(parse_date(text).unwrap()), text);
        }
    }

    #[test]
    fn rounding_goes_half_away_from_zero_on_the_product() {
        assert_eq!(round_half_away(2.5, 0), 3.0);
        assert_eq!(round_half_away(-2.5, 0), -3.0);
        assert_eq!(round_half_away(1.005, 2), 1.0);
        assert_eq!(round_half_away(2.675, 2), 2.68);
        assert_eq!(round_half_away(0.15, 1), 0.2);
        assert_eq!(round_half_away(1234.5678, 2), 1234.57);
        assert_eq!(round_half_away(0.0001, 2), 0.0);
        assert_eq!(round_half_away(1e308, 1), 1e308);
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal("12.5"), (125, 1));
        assert_eq!(decimal("1_0"), (10, 0));
        assert_eq!(decimal("2.5e1"), (25, 1 - 1));
        assert_eq!(decimal("33.30"), (3330, 2));
        let amount = |text: &str| Amount {
            text: text.to_string(),
            percent: true,
            spaced: false,
        };
        assert_eq!(kept(&amount("28"), 25), 7);
        assert_eq!(kept(&amount("10"), 25), 3);
    }
}
