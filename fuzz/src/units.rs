//! The unit oracle: a plan whose every quantity is rewritten, exactly, in
//! the unit a thousand times smaller or larger (3 mg → 3000 µg or 0.003 g)
//! must get the same judgement. SPEC §1: "A dose exactly at a limit passes,
//! in whatever unit it is written".

use crate::edits::Json;
use embolint::decimal::Decimal;

/// `(unit, the unit 1000 times smaller)`: mass and rate units.
const THOUSANDFOLD: &[(&str, &str)] =
    &[("g", "mg"), ("mg", "µg"), ("mg/h", "µg/h"), ("mg/min", "µg/min")];

/// The micro-units' other spellings, read as `µg…` when going up.
const MICRO_SPELLINGS: &[(&str, &str)] = &[
    ("ug", "µg"),
    ("μg", "µg"),
    ("mcg", "µg"),
    ("ug/h", "µg/h"),
    ("μg/h", "µg/h"),
    ("mcg/h", "µg/h"),
    ("ug/min", "µg/min"),
    ("μg/min", "µg/min"),
    ("mcg/min", "µg/min"),
];

/// Rewrites every quantity (`{"value": number, "unit": text}`) of `plan`
/// into the unit 1000 times smaller (`smaller`) or larger. Returns false
/// when a value cannot be rewritten within the plan format's bounds (then
/// the two plans are not comparable and the oracle is skipped).
pub fn rewrite_units(plan: &mut Json, smaller: bool) -> bool {
    let mut comparable = true;
    plan.for_each_object(&mut |members| {
        if !rewrite_quantity(members, smaller) {
            comparable = false;
        }
    });
    comparable
}

/// Rewrites one object if it is a quantity in a unit of the table.
fn rewrite_quantity(members: &mut [(String, Json)], smaller: bool) -> bool {
    let unit_at = members.iter().position(|(k, _)| k == "unit");
    let value_at = members.iter().position(|(k, _)| k == "value");
    let (Some(unit_at), Some(value_at)) = (unit_at, value_at) else {
        return true;
    };
    let (Some(Json::Text(unit)), Some(Json::Number(value))) =
        (members.get(unit_at).map(|m| &m.1), members.get(value_at).map(|m| &m.1))
    else {
        return true;
    };
    let Some(new_unit) = other_unit(unit, smaller) else {
        return true;
    };
    let Some(new_value) = scaled(value, smaller) else {
        return false;
    };
    if let Some(member) = members.get_mut(unit_at) {
        member.1 = Json::Text(new_unit.to_string());
    }
    if let Some(member) = members.get_mut(value_at) {
        member.1 = Json::Number(new_value);
    }
    true
}

/// The unit 1000 times smaller or larger than `unit`, when there is one.
fn other_unit(unit: &str, smaller: bool) -> Option<&'static str> {
    let unit = MICRO_SPELLINGS.iter().find(|(u, _)| *u == unit).map_or(unit, |(_, micro)| micro);
    if smaller {
        THOUSANDFOLD.iter().find(|(big, _)| *big == unit).map(|(_, small)| *small)
    } else {
        THOUSANDFOLD.iter().find(|(_, small)| *small == unit).map(|(big, _)| *big)
    }
}

/// `value` times 1000 (`smaller` unit) or divided by 1000, as exact text
/// within the format's bounds.
fn scaled(value: &str, smaller: bool) -> Option<String> {
    let exact = Decimal::from_json_literal(value).ok()?;
    let text = if smaller { exact.checked_mul_int(1000)?.to_string() } else { exact.shifted(3) };
    Decimal::from_json_literal(&text).ok().map(|_| text)
}
