//! Reading one cell as a bool, integer, number or date, without allocating.
//!
//! The rules are those of SPEC 3, "Cells": surrounding spaces and tabs do not count for
//! these types, numbers are plain decimals (no `NaN`, `inf` or thousands separators), and
//! inference keeps identifiers such as `0012` as text.

use super::{parse_date, NULL_INT};

/// The cell without surrounding spaces and tabs.
pub fn trim(cell: &[u8]) -> &[u8] {
    let is_blank = |byte: &u8| *byte == b' ' || *byte == b'\t';
    let start = cell
        .iter()
        .position(|byte| !is_blank(byte))
        .unwrap_or(cell.len());
    let end = cell
        .iter()
        .rposition(|byte| !is_blank(byte))
        .map_or(start, |i| i + 1);
    &cell[start..end]
}

/// `true` or `false` in any letter case; with `digits`, also `1` and `0`.
pub fn parse_bool(text: &[u8], digits: bool) -> Option<bool> {
    if text.eq_ignore_ascii_case(b"true") || (digits && text == b"1") {
        Some(true)
    } else if text.eq_ignore_ascii_case(b"false") || (digits && text == b"0") {
        Some(false)
    } else {
        None
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` cell.
pub fn parse_date_bytes(text: &[u8]) -> Option<i32> {
    if text.len() != 10 {
        return None;
    }
    parse_date(std::str::from_utf8(text).ok()?)
}

/// What the shape of a decimal number tells about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberShape {
    /// Only a sign and digits: no point, no exponent.
    pub integral: bool,
    /// The integer part is a zero followed by more digits, as in `0012`: an identifier
    /// rather than a quantity, unless the column is declared numeric.
    pub leading_zero: bool,
}

/// Checks `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`.
pub fn number_shape(text: &[u8]) -> Option<NumberShape> {
    let mut i = usize::from(matches!(text.first(), Some(b'+' | b'-')));
    let int_start = i;
    while text.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    let mut integral = true;
    if text.get(i) == Some(&b'.') {
        integral = false;
        i += 1;
        let frac_start = i;
        while text.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        frac_digits = i - frac_start;
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if matches!(text.get(i), Some(b'e' | b'E')) {
        integral = false;
        i += 1;
        i += usize::from(matches!(text.get(i), Some(b'+' | b'-')));
        let exp_start = i;
        while text.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != text.len() {
        return None;
    }
    let leading_zero = int_digits > 1 && text[int_start] == b'0';
    Some(NumberShape {
        integral,
        leading_zero,
    })
}

/// The value of a sign-and-digits text, unless it does not fit in an `i64` or is
/// `i64::MIN`, which stands for null.
pub fn parse_integer(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    // Accumulate as a negative number so that the full range of `i64` is reachable.
    let mut value: i64 = 0;
    for &byte in digits {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_sub(i64::from(byte - b'0'))?;
    }
    let value = if negative {
        value
    } else {
        value.checked_neg()?
    };
    (value != NULL_INT).then_some(value)
}

/// Powers of ten that a double holds exactly.
const EXACT_POWERS: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The value of a decimal number, if the text is one and it is finite.
pub fn read_number(text: &[u8]) -> Option<f64> {
    match fast_number(text) {
        Fast::Value(value) => Some(value),
        Fast::NotANumber => None,
        Fast::Unsure => {
            number_shape(text)?;
            parse_number(text)
        }
    }
}

/// The value of a text that [`number_shape`] accepted, if it is finite.
pub fn parse_number(text: &[u8]) -> Option<f64> {
    if let Fast::Value(value) = fast_number(text) {
        return Some(value);
    }
    let value: f64 = std::str::from_utf8(text).ok()?.parse().ok()?;
    value.is_finite().then_some(value)
}

/// What [`fast_number`] found.
enum Fast {
    Value(f64),
    NotANumber,
    /// Too long, or with an exponent: for the full parser.
    Unsure,
}

/// Short decimals without an exponent: a mantissa below 2^53 scaled by an exactly held
/// power of ten is one correctly rounded operation, so the result equals the full parser's.
fn fast_number(text: &[u8]) -> Fast {
    let (negative, body) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if body.len() > 18 {
        return Fast::Unsure;
    }
    let mut mantissa: u64 = 0;
    let mut scale = 0usize;
    let mut points = 0usize;
    for &byte in body {
        match byte {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(byte - b'0');
                scale += points;
            }
            b'.' => points += 1,
            b'e' | b'E' => return Fast::Unsure,
            _ => return Fast::NotANumber,
        }
    }
    if points > 1 || body.len() == points {
        return Fast::NotANumber;
    }
    if mantissa > 1 << 53 {
        return Fast::Unsure;
    }
    let value = mantissa as f64 / EXACT_POWERS[scale];
    Fast::Value(if negative { -value } else { value })
}

/// How a cell of a column whose type is still being inferred can be read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    Bool(bool),
    Integer(i64),
    Number(f64),
    Date(i32),
    /// Only as a string.
    Text,
}

/// The narrowest reading of a trimmed, non-null cell for type inference.
pub fn infer(text: &[u8]) -> Reading {
    if let Some(value) = parse_bool(text, false) {
        return Reading::Bool(value);
    }
    if let Some(value) = infer_numeric(text) {
        return value;
    }
    match parse_date_bytes(text) {
        Some(days) => Reading::Date(days),
        None => Reading::Text,
    }
}

/// An integer or number reading, if inference accepts the cell as one.
pub fn infer_numeric(text: &[u8]) -> Option<Reading> {
    let shape = number_shape(text)?;
    if shape.leading_zero {
        return None;
    }
    if shape.integral {
        if let Some(value) = parse_integer(text) {
            return Some(Reading::Integer(value));
        }
    }
    parse_number(text).map(Reading::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> Option<f64> {
        let checked = number_shape(text.as_bytes()).and_then(|_| parse_number(text.as_bytes()));
        assert_eq!(read_number(text.as_bytes()), checked, "{text}");
        checked
    }

    #[test]
    fn trimming_removes_spaces_and_tabs_only() {
        assert_eq!(trim(b" \t1.5\t "), b"1.5");
        assert_eq!(trim(b"   "), b"");
        assert_eq!(trim(b"\n1"), b"\n1");
    }

    #[test]
    fn numbers_follow_the_decimal_grammar() {
        assert_eq!(number("-1"), Some(-1.0));
        assert_eq!(number(".5"), Some(0.5));
        assert_eq!(number("2."), Some(2.0));
        assert_eq!(number("1e-3"), Some(0.001));
        assert_eq!(number("5E-1"), Some(0.5));
        assert_eq!(number("+3.25"), Some(3.25));
        assert_eq!(number("0.3893"), Some(0.3893));
        let zero = number("-0").unwrap_or(1.0);
        assert!(zero == 0.0 && zero.is_sign_negative());
        for text in [
            "NaN", "nan", "inf", "-inf", "infinity", "1,234.50", ".", "e5", "1e", "1e+",
        ] {
            assert_eq!(number(text), None, "{text}");
        }
        assert_eq!(number("1e999"), None);
        assert_eq!(number("1_000"), None);
    }

    #[test]
    fn the_fast_path_agrees_with_the_full_parser() {
        for text in [
            "0.1",
            "0.3",
            "123456.789",
            "9007199254740991",
            "0.000001",
            "-42.4242",
        ] {
            let full: f64 = text.parse().unwrap_or(f64::NAN);
            assert_eq!(
                number(text).map(f64::to_bits),
                Some(full.to_bits()),
                "{text}"
            );
        }
        let long = "3.14159265358979323846264338327950288";
        assert_eq!(number(long), Some(std::f64::consts::PI));
    }

    #[test]
    fn integers_fit_in_64_bits_but_not_the_null_sentinel() {
        assert_eq!(parse_integer(b"-0"), Some(0));
        assert_eq!(parse_integer(b"+17"), Some(17));
        assert_eq!(parse_integer(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_integer(b"-9223372036854775807"), Some(-i64::MAX));
        assert_eq!(parse_integer(b"-9223372036854775808"), None);
        assert_eq!(parse_integer(b"9223372036854775808"), None);
        assert_eq!(parse_integer(b"-"), None);
    }

    #[test]
    fn inference_keeps_identifiers_with_leading_zeros_as_text() {
        assert_eq!(infer(b"0012"), Reading::Text);
        assert_eq!(infer(b"-007"), Reading::Text);
        assert_eq!(infer(b"00.5"), Reading::Text);
        assert_eq!(infer(b"0"), Reading::Integer(0));
        assert_eq!(infer(b"0.5"), Reading::Number(0.5));
        assert_eq!(infer(b"0e3"), Reading::Number(0.0));
    }

    #[test]
    fn inference_picks_the_narrowest_reading() {
        assert_eq!(infer(b"TRUE"), Reading::Bool(true));
        assert_eq!(infer(b"fAlSe"), Reading::Bool(false));
        assert_eq!(infer(b"1"), Reading::Integer(1));
        assert_eq!(
            infer(b"9223372036854775808"),
            Reading::Number(9_223_372_036_854_775_808.0)
        );
        assert_eq!(
            infer(b"-9223372036854775808"),
            Reading::Number(-9_223_372_036_854_775_808.0)
        );
        assert_eq!(infer(b"1970-01-02"), Reading::Date(1));
        assert_eq!(infer(b"2023-02-29"), Reading::Text);
        assert_eq!(infer(b"yes"), Reading::Text);
    }

    #[test]
    fn bools_accept_digits_only_when_asked() {
        assert_eq!(parse_bool(b"1", false), None);
        assert_eq!(parse_bool(b"1", true), Some(true));
        assert_eq!(parse_bool(b"0", true), Some(false));
        assert_eq!(parse_bool(b"True", true), Some(true));
        assert_eq!(parse_bool(b"yes", true), None);
    }
}
