//! Exact reading of number literals where rounding would change a result: percentages of
//! `top` and shares of `split`.

/// A decimal literal (`12.5`, `1_000`, `1e-3`) as `(digits, scale)`, meaning
/// `digits / 10^scale`; `None` when it does not fit 128 bits.
pub fn parse_decimal(text: &str) -> Option<(u128, u32)> {
    let text = text.replace('_', "");
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], text[at + 1..].parse::<i32>().ok()?),
        None => (text.as_str(), 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: u128 = 0;
    for byte in whole.bytes().chain(fraction.bytes()) {
        if !byte.is_ascii_digit() {
            return None;
        }
        digits = digits
            .checked_mul(10)?
            .checked_add(u128::from(byte - b'0'))?;
    }
    let mut scale = i64::try_from(fraction.len()).ok()? - i64::from(exponent);
    while scale < 0 {
        digits = digits.checked_mul(10)?;
        scale += 1;
    }
    // Drop trailing zeros of the fraction so equal values compare equal.
    while scale > 0 && digits.is_multiple_of(10) {
        digits /= 10;
        scale -= 1;
    }
    if scale > 30 {
        return None;
    }
    Some((digits, u32::try_from(scale).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact() {
        assert_eq!(parse_decimal("28"), Some((28, 0)));
        assert_eq!(parse_decimal("12.5"), Some((125, 1)));
        assert_eq!(parse_decimal("12.50"), Some((125, 1)));
        assert_eq!(parse_decimal("1_000"), Some((1000, 0)));
        assert_eq!(parse_decimal("1e-3"), Some((1, 3)));
        assert_eq!(parse_decimal("2.5E1"), Some((25, 0)));
        assert_eq!(parse_decimal(".5"), Some((5, 1)));
        assert_eq!(parse_decimal("2."), Some((2, 0)));
        assert_eq!(parse_decimal("0.0"), Some((0, 0)));
    }
}
