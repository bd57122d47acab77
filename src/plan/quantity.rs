//! Quantities: a value with its unit, converted exactly to one base unit.
//!
//! Masses are kept in micrograms and rates in micrograms per hour, as exact
//! [`Decimal`]s, so a dose at its limit in any accepted unit passes.

use crate::decimal::Decimal;
use std::fmt;

/// What a unit measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    Mass,
    Rate,
}

/// A unit accepted by the plan format (SPEC §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unit {
    /// The spelling, exactly as the plan must write it.
    pub symbol: &'static str,
    pub dimension: Dimension,
    /// Micrograms (or micrograms per hour) in one of this unit.
    pub micrograms: i128,
}

const fn unit(symbol: &'static str, dimension: Dimension, micrograms: i128) -> Unit {
    Unit { symbol, dimension, micrograms }
}

/// Every accepted unit. Spellings are compared exactly: `MG` or `mg ` is not
/// a unit, because a checker must not guess at a unit.
pub const UNITS: &[Unit] = &[
    unit("mg", Dimension::Mass, 1_000),
    unit("g", Dimension::Mass, 1_000_000),
    unit("ug", Dimension::Mass, 1),
    unit("µg", Dimension::Mass, 1),
    unit("μg", Dimension::Mass, 1),
    unit("mcg", Dimension::Mass, 1),
    unit("mg/h", Dimension::Rate, 1_000),
    unit("ug/h", Dimension::Rate, 1),
    unit("µg/h", Dimension::Rate, 1),
    unit("μg/h", Dimension::Rate, 1),
    unit("mcg/h", Dimension::Rate, 1),
    unit("mg/min", Dimension::Rate, 60_000),
    unit("ug/min", Dimension::Rate, 60),
    unit("µg/min", Dimension::Rate, 60),
    unit("μg/min", Dimension::Rate, 60),
    unit("mcg/min", Dimension::Rate, 60),
];

/// The short list shown in messages about a wrong unit.
pub fn accepted_units(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::Mass => "mg, g, µg or mcg",
        Dimension::Rate => "mg/h, µg/h, mcg/h, mg/min, µg/min or mcg/min",
    }
}

impl Unit {
    /// The accepted unit spelled exactly `symbol`.
    pub fn parse(symbol: &str) -> Option<&'static Unit> {
        UNITS.iter().find(|u| u.symbol == symbol)
    }
}

/// A dose or a rate as written in the plan, with its exact value in the base
/// unit (µg or µg/h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quantity {
    /// The number as written.
    pub value: Decimal,
    /// One of [`UNITS`]: held by reference, so a quantity stays small to
    /// pass around.
    pub unit: &'static Unit,
    /// The same amount in µg (mass) or µg/h (rate).
    pub base: Decimal,
}

impl Quantity {
    /// Builds a quantity; `None` only if the conversion overflowed, which the
    /// plan format's bounds rule out.
    pub fn new(value: Decimal, unit: &'static Unit) -> Option<Quantity> {
        let base = value.checked_mul_int(unit.micrograms)?;
        Some(Quantity { value, unit, base })
    }

    /// Parses `"3 mg"` or `"0.2 mg/h"`: the rule file's way of writing limits.
    pub fn parse_text(text: &str) -> Result<Quantity, String> {
        let mut parts = text.split_whitespace();
        let (Some(number), Some(symbol), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!(
                "`{text}` is not a quantity; write a number and a unit, such as \"3 mg\""
            ));
        };
        let value: Decimal = number.parse().map_err(|e| format!("`{number}` in `{text}` {e}"))?;
        let unit = Unit::parse(symbol).ok_or_else(|| {
            format!(
                "`{symbol}` in `{text}` is not a unit; use {} or {}",
                accepted_units(Dimension::Mass),
                accepted_units(Dimension::Rate)
            )
        })?;
        Quantity::new(value, unit).ok_or_else(|| format!("`{text}` is too large"))
    }
}

/// An amount in the base unit, shown in milligrams: `3 mg`, `2.5 mg/h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Amount {
    /// µg or µg/h.
    pub base: Decimal,
    pub dimension: Dimension,
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.dimension {
            Dimension::Mass => "mg",
            Dimension::Rate => "mg/h",
        };
        write!(f, "{} {unit}", self.base.shifted(3))
    }
}

impl Quantity {
    pub fn amount(&self) -> Amount {
        Amount { base: self.base, dimension: self.unit.dimension }
    }
}

impl fmt::Display for Quantity {
    /// As written, with the milligram equivalent when written otherwise:
    /// `0.003 g (3 mg)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value, self.unit.symbol)?;
        let amount = self.amount();
        let as_mg = amount.to_string();
        if as_mg != format!("{} {}", self.value, self.unit.symbol) {
            write!(f, " ({as_mg})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Quantity {
        Quantity::parse_text(text).unwrap()
    }

    #[test]
    fn every_mass_unit_converts_exactly() {
        let three_mg = q("3 mg").base;
        for text in ["0.003 g", "3000 ug", "3000 µg", "3000 μg", "3000 mcg", "3e0 mg"] {
            assert_eq!(q(text).base, three_mg, "{text}");
        }
    }

    #[test]
    fn rates_per_minute_are_sixty_per_hour() {
        assert_eq!(q("0.0333 mg/min").base, q("1.998 mg/h").base);
        assert_eq!(q("2000 µg/h").base, q("2 mg/h").base);
    }

    #[test]
    fn units_are_spelled_exactly() {
        assert!(Quantity::parse_text("3 MG").is_err());
        assert!(Quantity::parse_text("3 mg/kg").is_err());
        assert!(Quantity::parse_text("3mg").is_err());
    }

    #[test]
    fn display_shows_the_milligram_equivalent() {
        assert_eq!(q("0.003 g").to_string(), "0.003 g (3 mg)");
        assert_eq!(q("3 mg").to_string(), "3 mg");
        assert_eq!(q("0.5 mg/min").to_string(), "0.5 mg/min (30 mg/h)");
    }
}
