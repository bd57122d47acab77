//! Exact decimal numbers for doses, rates, diameters and particle sizes.
//!
//! A safety checker must never let floating-point rounding decide whether a
//! dose is at its limit: `0.003 g` is exactly 3 mg and `0.1 g` three times is
//! exactly 300 mg. Every number of a plan is therefore read from its JSON text
//! into a fixed-point integer with 18 decimal places. SPEC §1 bounds plan
//! numbers to 15 significant digits and a magnitude below 10⁹, so every value
//! (and every unit conversion and sum of them) fits an `i128` exactly.

use std::fmt;

/// Decimal places kept exactly. A plan number with a non-zero digit further
/// right than this is refused rather than rounded.
pub const FRACTION_DIGITS: u32 = 18;
/// Most significant digits a plan number may have (SPEC §1).
pub const MAX_SIGNIFICANT_DIGITS: usize = 15;
/// Most integer digits a plan number may have: the magnitude is below 10⁹.
pub const MAX_INTEGER_DIGITS: i64 = 9;

const ONE: i128 = 10i128.pow(FRACTION_DIGITS);

/// 10⁰ to 10¹⁸, looked up rather than computed for each number read.
const POWERS_OF_TEN: [i128; FRACTION_DIGITS as usize + 1] = {
    let mut powers = [1i128; FRACTION_DIGITS as usize + 1];
    let mut i = 1;
    while i < powers.len() {
        powers[i] = powers[i - 1] * 10;
        i += 1;
    }
    powers
};

/// An exact decimal number, stored as the value times 10¹⁸.
///
/// ```
/// use embolint::decimal::Decimal;
/// let a: Decimal = "0.1".parse().unwrap();
/// let sum = a.checked_add(a).and_then(|s| s.checked_add(a)).unwrap();
/// assert_eq!(sum, "0.3".parse().unwrap());
/// assert_eq!(sum.to_string(), "0.3");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Decimal(i128);

/// Why a number literal cannot be taken exactly.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NumberProblem {
    #[error("has {0} significant digits; at most 15 are allowed")]
    TooManyDigits(usize),
    #[error("is too large; numbers in a plan must be below 1000000000")]
    TooLarge,
    #[error("has digits beyond the 18th decimal place, which embolint cannot compare exactly")]
    TooPrecise,
    #[error("is not a number")]
    Malformed,
}

impl Decimal {
    pub const ZERO: Decimal = Decimal(0);

    /// The whole number `n`.
    pub const fn from_int(n: i64) -> Decimal {
        Decimal(n as i128 * ONE)
    }

    /// Parses a JSON number literal (`-12.5e-3`) exactly, enforcing the plan
    /// format's bounds on significant digits and magnitude.
    #[inline]
    pub fn from_json_literal(text: &str) -> Result<Decimal, NumberProblem> {
        match Decimal::from_plain_literal(text) {
            Some(value) => Ok(value),
            None => Decimal::from_any_literal(text),
        }
    }

    /// The literals plans are made of (`3`, `2.5`, `-0.25`: digits and at
    /// most one point, short enough to be within every bound) in one pass;
    /// `None` for anything else, which [`Decimal::from_any_literal`] reads
    /// or refuses with its reason.
    #[inline]
    fn from_plain_literal(text: &str) -> Option<Decimal> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if digits.len() > MAX_SIGNIFICANT_DIGITS {
            return None;
        }
        let mut value: i64 = 0;
        let mut fraction_digits: Option<u32> = None;
        for byte in digits.bytes() {
            match byte {
                b'0'..=b'9' => {
                    value = value * 10 + i64::from(byte - b'0');
                    if let Some(count) = &mut fraction_digits {
                        *count += 1;
                    }
                }
                b'.' if fraction_digits.is_none() => fraction_digits = Some(0),
                _ => return None,
            }
        }
        let fraction = fraction_digits.unwrap_or(0);
        let integer_digits = digits.len() - fraction_digits.map_or(0, |count| count as usize + 1);
        if integer_digits == 0
            || fraction_digits == Some(0)
            || integer_digits as i64 > MAX_INTEGER_DIGITS
        {
            return None;
        }
        let scale = POWERS_OF_TEN.get(usize::try_from(FRACTION_DIGITS - fraction).ok()?)?;
        let raw = i128::from(value) * scale;
        Some(Decimal(if negative { -raw } else { raw }))
    }

    /// Any literal, exponents and surplus zeros included, checked against
    /// every bound.
    fn from_any_literal(text: &str) -> Result<Decimal, NumberProblem> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent_text) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let (int_part, frac_part) = match mantissa.split_once('.') {
            Some((i, f)) => (i, f),
            None => (mantissa, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_part.is_empty() || !all_digits(int_part) || !all_digits(frac_part) {
            return Err(NumberProblem::Malformed);
        }
        if mantissa.contains('.') && frac_part.is_empty() {
            return Err(NumberProblem::Malformed);
        }
        // The literal's digits, and the power of ten of the last one.
        let digits = || int_part.bytes().chain(frac_part.bytes());
        let mut exponent: i64 = -(frac_part.len() as i64);
        if let Some(e) = exponent_text {
            exponent = exponent.saturating_add(parse_exponent(e)?);
        }
        let leading_zeros = digits().take_while(|&d| d == b'0').count();
        if leading_zeros == int_part.len() + frac_part.len() {
            return Ok(Decimal::ZERO);
        }
        let trailing_zeros = digits().rev().take_while(|&d| d == b'0').count();
        let significant = int_part.len() + frac_part.len() - leading_zeros - trailing_zeros;
        exponent = exponent.saturating_add(trailing_zeros as i64);
        if significant > MAX_SIGNIFICANT_DIGITS {
            return Err(NumberProblem::TooManyDigits(significant));
        }
        if (significant as i64).saturating_add(exponent) > MAX_INTEGER_DIGITS {
            return Err(NumberProblem::TooLarge);
        }
        let shift = exponent.saturating_add(i64::from(FRACTION_DIGITS));
        if shift < 0 {
            return Err(NumberProblem::TooPrecise);
        }
        // At most 15 digits (each an ASCII digit, checked above), shifted so
        // that the value stays below 10⁹·10¹⁸.
        let mut raw = digits()
            .skip(leading_zeros)
            .take(significant)
            .fold(0i128, |value, d| value * 10 + i128::from(d - b'0'));
        raw *= 10i128.pow(shift as u32);
        Ok(Decimal(if negative { -raw } else { raw }))
    }

    pub fn checked_add(self, other: Decimal) -> Option<Decimal> {
        self.0.checked_add(other.0).map(Decimal)
    }

    /// Multiplies by a whole number, as unit conversions do.
    pub fn checked_mul_int(self, factor: i128) -> Option<Decimal> {
        self.0.checked_mul(factor).map(Decimal)
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// True when the value is a whole number.
    pub fn is_integer(self) -> bool {
        self.0 % ONE == 0
    }

    /// The whole number, when the value is one that fits.
    pub fn to_integer(self) -> Option<i64> {
        if self.is_integer() {
            i64::try_from(self.0 / ONE).ok()
        } else {
            None
        }
    }

    /// Writes the value divided by `10^shift`, exactly: µg shown as mg is
    /// `shifted(3)`.
    pub fn shifted(self, shift: u32) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = write_fixed(&mut text, self.0, FRACTION_DIGITS.saturating_add(shift));
        text
    }
}

fn parse_exponent(text: &str) -> Result<i64, NumberProblem> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumberProblem::Malformed);
    }
    // An exponent too long for i64 is far outside every bound anyway.
    let magnitude: i64 = digits.parse().unwrap_or(i64::MAX / 2);
    Ok(if negative { -magnitude } else { magnitude })
}

/// Writes `raw / 10^places` with no trailing zeros and no exponent, straight
/// into `out` (no intermediate Strings).
fn write_fixed(out: &mut impl fmt::Write, raw: i128, places: u32) -> fmt::Result {
    let sign = if raw < 0 { "-" } else { "" };
    let magnitude = raw.unsigned_abs();
    // Beyond 10^38 the divisor exceeds every i128: all digits are fractional.
    let (int_part, mut frac_part) = match 10u128.checked_pow(places) {
        Some(scale) => (magnitude / scale, magnitude % scale),
        None => (0, magnitude),
    };
    if frac_part == 0 {
        return write!(out, "{sign}{int_part}");
    }
    let mut width = places as usize;
    while frac_part % 10 == 0 {
        frac_part /= 10;
        width -= 1;
    }
    write!(out, "{sign}{int_part}.{frac_part:0width$}")
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_fixed(f, self.0, FRACTION_DIGITS)
    }
}

impl std::str::FromStr for Decimal {
    type Err = NumberProblem;

    /// Parses a decimal written as in JSON (used for the rule file's limits).
    fn from_str(s: &str) -> Result<Decimal, NumberProblem> {
        Decimal::from_json_literal(s)
    }
}

impl serde::Serialize for Decimal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        /// The one-pass reading of plain literals is a shortcut, never a
        /// second opinion: wherever it answers, the full reading agrees.
        #[test]
        fn plain_literals_read_as_any_literal(text in "-?[0-9]{0,12}(\\.[0-9]{0,10})?(e-?[0-9])?") {
            if let Some(plain) = Decimal::from_plain_literal(&text) {
                prop_assert_eq!(Decimal::from_any_literal(&text), Ok(plain), "{}", text);
            }
        }
    }

    #[test]
    fn plain_literals_take_the_short_path() {
        for text in ["3", "2.5", "-0.25", "0", "-0", "999999999", "0.0000000000001"] {
            assert!(Decimal::from_plain_literal(text).is_some(), "{text}");
        }
        for text in ["1e3", "1234567890", "1.", ".5", "-", "", "1.2.3", "0.000000000000001"] {
            assert!(Decimal::from_plain_literal(text).is_none(), "{text}");
        }
    }

    fn d(s: &str) -> Decimal {
        Decimal::from_json_literal(s).unwrap()
    }

    #[test]
    fn sums_of_tenths_are_exact() {
        let tenth = d("0.1");
        let sum = tenth.checked_add(tenth).unwrap().checked_add(tenth).unwrap();
        assert_eq!(sum, d("0.3"));
    }

    #[test]
    fn exponents_and_trailing_zeros_are_the_same_value() {
        assert_eq!(d("3"), d("3.000"));
        assert_eq!(d("3"), d("0.3e1"));
        assert_eq!(d("3"), d("300E-2"));
        assert_eq!(d("-0"), Decimal::ZERO);
        assert_eq!(d("0.0012300"), d("1.23e-3"));
        assert_eq!(d("120.0e1").to_string(), "1200");
        assert_eq!(d("0e999999999999999999999"), Decimal::ZERO);
    }

    #[test]
    fn fifteen_significant_digits_pass_sixteen_do_not() {
        assert!(Decimal::from_json_literal("1.23456789012345").is_ok());
        assert_eq!(
            Decimal::from_json_literal("3.0000000000000004"),
            Err(NumberProblem::TooManyDigits(17))
        );
        // Trailing zeros carry no value and are not counted.
        assert!(Decimal::from_json_literal("3.000000000000000000000").is_ok());
    }

    #[test]
    fn magnitude_must_stay_below_one_billion() {
        assert!(Decimal::from_json_literal("999999999.999999").is_ok());
        assert_eq!(Decimal::from_json_literal("1e9"), Err(NumberProblem::TooLarge));
        assert_eq!(Decimal::from_json_literal("-1000000000"), Err(NumberProblem::TooLarge));
        assert_eq!(
            Decimal::from_json_literal("1e99999999999999999999999"),
            Err(NumberProblem::TooLarge)
        );
    }

    #[test]
    fn digits_beyond_the_eighteenth_place_are_refused() {
        assert!(Decimal::from_json_literal("1e-18").is_ok());
        assert_eq!(Decimal::from_json_literal("1e-19"), Err(NumberProblem::TooPrecise));
        assert_eq!(
            Decimal::from_json_literal("1e-99999999999999999999"),
            Err(NumberProblem::TooPrecise)
        );
    }

    #[test]
    fn malformed_literals_are_refused() {
        for bad in ["", "-", ".5", "5.", "1e", "1e+", "abc", "1.2.3", "0x10"] {
            assert_eq!(Decimal::from_json_literal(bad), Err(NumberProblem::Malformed), "{bad}");
        }
    }

    #[test]
    fn displays_without_trailing_zeros() {
        assert_eq!(d("2.50").to_string(), "2.5");
        assert_eq!(d("-0.25").to_string(), "-0.25");
        assert_eq!(d("1e-18").to_string(), "0.000000000000000001");
        assert_eq!(d("3000").shifted(3), "3");
        assert_eq!(d("1").shifted(3), "0.001");
        assert_eq!(d("-123.45").shifted(3), "-0.12345");
        assert_eq!(d("999999999.999999").to_string(), "999999999.999999");
        assert_eq!(d("-5").shifted(40), format!("-0.{}5", "0".repeat(39)));
    }

    #[test]
    fn integers_are_recognised() {
        assert_eq!(d("7").to_integer(), Some(7));
        assert_eq!(d("7.0").to_integer(), Some(7));
        assert_eq!(d("7.5").to_integer(), None);
    }
}
