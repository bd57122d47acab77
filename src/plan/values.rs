//! Reading single values of a plan strictly: text, flags, exact numbers,
//! whole numbers, dates and quantities. Each reader reports what is wrong at
//! the value's pointer and returns `None`, so reading goes on and every
//! problem of the plan is found.

use super::fields::{Field, ObjectReader, Problems};
use super::json::{clip, quote, Node};
use super::quantity::{accepted_units, Dimension, Quantity, Unit, UNITS};
use crate::decimal::Decimal;
use crate::names::Name;
use jiff::civil::Date;

/// A string that is not empty or only whitespace, as it is in the file.
#[inline]
pub fn text<'a>(field: &Field<'a, '_>, problems: &mut Problems) -> Option<&'a str> {
    let Node::String(value) = field.node else {
        problems.wrong_type(field, "a string");
        return None;
    };
    if value.trim().is_empty() {
        problems.add(&field.path, "the text is empty or only spaces; write a value");
        return None;
    }
    Some(value)
}

/// A name (drug, agent, origin, route...): text as for [`text`], kept as
/// written and compared in its normalized form until a rule set resolves it.
pub fn name(field: &Field<'_, '_>, problems: &mut Problems) -> Option<Name> {
    text(field, problems).map(Name::new)
}

/// A list of names (it may itself be empty).
pub fn names(field: &Field<'_, '_>, problems: &mut Problems) -> Option<Vec<Name>> {
    field.list("a list of strings", problems, |_, item, problems| name(&item, problems))
}

/// `true` or `false`.
#[inline]
pub fn flag(field: &Field<'_, '_>, problems: &mut Problems) -> Option<bool> {
    match field.node {
        Node::Bool(value) => Some(*value),
        _ => {
            problems.wrong_type(field, "true or false");
            None
        }
    }
}

/// A list of non-empty strings (it may itself be empty).
pub fn texts(field: &Field<'_, '_>, problems: &mut Problems) -> Option<Vec<String>> {
    field.list("a list of strings", problems, |_, item, problems| {
        text(&item, problems).map(str::to_string)
    })
}

/// A number, read exactly within the plan format's bounds.
#[inline]
pub fn number(field: &Field<'_, '_>, problems: &mut Problems) -> Option<Decimal> {
    let Node::Number(literal) = field.node else {
        problems.wrong_type(field, "a number");
        return None;
    };
    match Decimal::from_json_literal(literal) {
        Ok(value) => Some(value),
        Err(problem) => {
            problems.add(&field.path, format!("`{}` {problem}", clip(literal)));
            None
        }
    }
}

/// A number that is not negative; `what` names it in the message.
#[inline]
pub fn non_negative(field: &Field<'_, '_>, what: &str, problems: &mut Problems) -> Option<Decimal> {
    let value = number(field, problems)?;
    if value.is_negative() {
        problems.add(&field.path, format!("{what} cannot be negative; found {value}"));
        return None;
    }
    Some(value)
}

/// A number greater than zero; `what` names it, `unit` follows the limit.
#[inline]
pub fn positive(
    field: &Field<'_, '_>,
    what: &str,
    unit: &str,
    problems: &mut Problems,
) -> Option<Decimal> {
    let value = number(field, problems)?;
    if value.is_negative() || value.is_zero() {
        problems.add(&field.path, format!("{what} must be greater than 0 {unit}; found {value}"));
        return None;
    }
    Some(value)
}

/// A whole number of at least 1 (`7.0` is 7; `7.5`, `0` and `-1` are refused).
pub fn positive_whole(field: &Field<'_, '_>, problems: &mut Problems) -> Option<u64> {
    let value = number(field, problems)?;
    match value.to_integer().and_then(|n| u64::try_from(n).ok()).filter(|n| *n >= 1) {
        Some(n) => Some(n),
        None => {
            problems
                .add(&field.path, format!("expected a whole number of 1 or more, found {value}"));
            None
        }
    }
}

/// A calendar date written exactly `YYYY-MM-DD`.
pub fn date(field: &Field<'_, '_>, problems: &mut Problems) -> Option<Date> {
    let value = text(field, problems)?;
    let shape_ok = value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shape_ok {
        problems.add(
            &field.path,
            format!(
                "{} is not a date written YYYY-MM-DD (for example \"2026-11-05\")",
                quote(value)
            ),
        );
        return None;
    }
    match value.parse::<Date>() {
        Ok(date) => Some(date),
        Err(_) => {
            problems.add(
                &field.path,
                format!("{} is not a calendar date; check the day and month", quote(value)),
            );
            None
        }
    }
}

/// The fields of a quantity.
pub(super) const QUANTITY_FIELDS: &[&str] = &["value", "unit"];

/// A quantity `{"value": 3, "unit": "mg"}` whose unit measures `dimension`.
pub fn quantity(
    field: &Field<'_, '_>,
    dimension: Dimension,
    problems: &mut Problems,
) -> Option<Quantity> {
    let expected = match dimension {
        Dimension::Mass => r#"a quantity such as {"value": 3, "unit": "mg"}"#,
        Dimension::Rate => r#"a quantity such as {"value": 1.5, "unit": "mg/h"}"#,
    };
    let reader = ObjectReader::open(field, expected, QUANTITY_FIELDS, problems)?;
    let value =
        reader.required("value", problems).and_then(|f| non_negative(&f, "a dose", problems));
    let unit = reader.required("unit", problems).and_then(|f| unit(&f, dimension, problems));
    let (value, unit) = (value?, unit?);
    match Quantity::new(value, unit) {
        Some(quantity) => Some(quantity),
        None => {
            problems.add(&field.path, format!("{value} {} is too large", unit.symbol));
            None
        }
    }
}

/// A unit spelled exactly as the format accepts, measuring `dimension`.
#[inline]
fn unit(
    field: &Field<'_, '_>,
    dimension: Dimension,
    problems: &mut Problems,
) -> Option<&'static Unit> {
    let symbol = text(field, problems)?;
    let accepted = accepted_units(dimension);
    let Some(unit) = Unit::parse(symbol) else {
        let shown = clip(symbol);
        let message = match unit_suggestion(symbol, dimension) {
            Some(near) => format!("unknown unit `{shown}`; did you mean `{near}`? Use {accepted}"),
            None => format!("unknown unit `{shown}`; use {accepted}"),
        };
        problems.add(&field.path, message);
        return None;
    };
    if unit.dimension != dimension {
        problems.add(
            &field.path,
            format!(
                "`{}` is {}, but {} is needed here; use {accepted}",
                clip(symbol),
                kind(unit.dimension),
                kind(dimension)
            ),
        );
        return None;
    }
    Some(unit)
}

/// `a mass` or `a rate`, for messages.
fn kind(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::Mass => "a mass",
        Dimension::Rate => "a rate (mass per time)",
    }
}

/// The accepted unit `symbol` was meant to be, when it differs only in case,
/// spacing or the spelling of the hour (`MG`, `mg / h`, `mg/hr`). Nothing
/// looser: `mg/kg` or `mg/m2` is a different way of dosing, not a typo.
fn unit_suggestion(symbol: &str, dimension: Dimension) -> Option<&'static str> {
    let folded = symbol.split_whitespace().collect::<String>().to_lowercase();
    let folded = folded.replace("/hour", "/h").replace("/hr", "/h");
    UNITS
        .iter()
        .filter(|u| u.dimension == dimension)
        .map(|u| u.symbol)
        .find(|s| s.to_lowercase() == folded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fields::Pointer;
    use crate::plan::json::read;

    /// Reads `json` with `reader` at pointer `/x`; the value or the messages.
    fn run<T>(
        json: &str,
        reader: impl for<'a> Fn(&Field<'a, '_>, &mut Problems) -> Option<T>,
    ) -> Result<T, Vec<String>> {
        let node = read(json.as_bytes()).unwrap();
        let mut problems = Problems::default();
        let path = Pointer::Key(&Pointer::Root, "x");
        let value = reader(&Field { node: &node, path }, &mut problems);
        match value {
            Some(v) if problems.list.is_empty() => Ok(v),
            _ => {
                assert!(!problems.list.is_empty(), "None without a problem");
                assert!(problems.list.iter().all(|p| p.path.starts_with("/x")));
                Err(problems.list.into_iter().map(|p| p.message).collect())
            }
        }
    }

    fn mass(json: &str) -> Result<Quantity, Vec<String>> {
        run(json, |f, p| quantity(f, Dimension::Mass, p))
    }

    #[test]
    fn wrong_types_quote_the_value() {
        assert_eq!(
            run(r#""2.5""#, number),
            Err(vec!["expected a number, found a string \"2.5\"".into()])
        );
        assert_eq!(run("1", flag), Err(vec!["expected true or false, found a number 1".into()]));
        let text = |f: &Field<'_, '_>, p: &mut Problems| text(f, p).map(str::to_string);
        assert_eq!(run("null", text), Err(vec!["expected a string, found null".into()]));
    }

    #[test]
    fn blank_text_is_refused_also_in_lists() {
        assert!(run(r#"" \t ""#, |f, p| text(f, p).map(str::to_string)).is_err());
        let err = run(r#"["a", "", " "]"#, texts).unwrap_err();
        assert_eq!(err.len(), 2);
        assert_eq!(run(r#"["a"]"#, texts), Ok(vec!["a".to_string()]));
        assert_eq!(run("[]", texts), Ok(vec![]));
    }

    #[test]
    fn numbers_beyond_the_bounds_say_why() {
        assert_eq!(
            run("3.0000000000000004", number),
            Err(vec![
                "`3.0000000000000004` has 17 significant digits; at most 15 are allowed".into()
            ])
        );
        assert!(run("1e9", number).unwrap_err()[0].contains("too large"));
    }

    #[test]
    fn whole_numbers_accept_seven_point_zero_only() {
        assert_eq!(run("7.0", positive_whole), Ok(7));
        assert_eq!(run("7", positive_whole), Ok(7));
        for bad in ["7.5", "0", "-2"] {
            let err = run(bad, positive_whole).unwrap_err();
            assert!(err[0].starts_with("expected a whole number of 1 or more"), "{bad}: {err:?}");
        }
    }

    #[test]
    fn positive_and_non_negative_bounds() {
        let diameter = |f: &Field<'_, '_>, p: &mut Problems| positive(f, "the diameter", "mm", p);
        assert_eq!(
            run("0", diameter),
            Err(vec!["the diameter must be greater than 0 mm; found 0".into()])
        );
        assert!(run("-1", diameter).is_err());
        let age = |f: &Field<'_, '_>, p: &mut Problems| non_negative(f, "the age", p);
        assert_eq!(run("0", age), Ok(Decimal::ZERO));
        assert_eq!(run("-3", age), Err(vec!["the age cannot be negative; found -3".into()]));
    }

    #[test]
    fn dates_must_be_well_formed_and_real() {
        assert_eq!(run(r#""2028-02-29""#, date).unwrap().to_string(), "2028-02-29");
        assert_eq!(
            run(r#""2026-02-30""#, date),
            Err(vec!["\"2026-02-30\" is not a calendar date; check the day and month".into()])
        );
        for bad in ["2026-2-3", "2026-11-05T10:00", "05/11/2026", "2026-11-0x", "２026-11-05"] {
            let err = run(&format!("{bad:?}"), date).unwrap_err();
            assert!(err[0].contains("is not a date written YYYY-MM-DD"), "{bad}: {err:?}");
        }
    }

    #[test]
    fn quantities_convert_exactly() {
        assert_eq!(
            mass(r#"{"value": 0.003, "unit": "g"}"#).unwrap().base,
            mass(r#"{"value": 3, "unit": "mg"}"#).unwrap().base
        );
        assert_eq!(mass(r#"{"value": 0, "unit": "µg"}"#).unwrap().base, Decimal::ZERO);
    }

    #[test]
    fn unknown_units_list_the_accepted_ones() {
        assert_eq!(
            mass(r#"{"value": 50, "unit": "mg/m2"}"#),
            Err(vec!["unknown unit `mg/m2`; use mg, g, µg or mcg".into()])
        );
        assert_eq!(
            mass(r#"{"value": 50, "unit": "mg/kg"}"#),
            Err(vec!["unknown unit `mg/kg`; use mg, g, µg or mcg".into()])
        );
        assert_eq!(
            mass(r#"{"value": 3, "unit": "MG"}"#),
            Err(vec!["unknown unit `MG`; did you mean `mg`? Use mg, g, µg or mcg".into()])
        );
        let rate = run(r#"{"value": 1, "unit": "mg/hr"}"#, |f, p| quantity(f, Dimension::Rate, p));
        assert!(rate.unwrap_err()[0].contains("did you mean `mg/h`?"));
    }

    #[test]
    fn a_unit_of_the_wrong_kind_names_the_kind_needed() {
        assert_eq!(
            mass(r#"{"value": 1, "unit": "mg/h"}"#),
            Err(vec![
                "`mg/h` is a rate (mass per time), but a mass is needed here; use mg, g, µg or mcg"
                    .into()
            ])
        );
        let rate = run(r#"{"value": 1, "unit": "mg"}"#, |f, p| quantity(f, Dimension::Rate, p));
        assert!(rate.unwrap_err()[0]
            .starts_with("`mg` is a mass, but a rate (mass per time) is needed"));
    }

    #[test]
    fn quantities_need_exactly_value_and_unit() {
        assert!(mass("3").unwrap_err()[0].starts_with("expected a quantity such as {\"value\": 3"));
        assert_eq!(mass(r#"{"value": 3}"#), Err(vec!["missing required field `unit`".into()]));
        assert_eq!(
            mass(r#"{"value": -3, "unit": "mg"}"#),
            Err(vec!["a dose cannot be negative; found -3".into()])
        );
        let err = mass(r#"{"value": 3, "unit": "mg", "route": "IV"}"#).unwrap_err();
        assert!(err[0].starts_with("unknown field `route`"), "{err:?}");
        assert_eq!(mass(r#"{"value": "3", "unit": "mg"}"#).unwrap_err().len(), 1);
    }
}
