//! Property (issue 17): writing one artery's dose as several entries of the
//! same name — under any spelling, with the same or other diameters — never
//! turns a failing plan into a passing one. With no entry smaller than the
//! artery, nothing about the verdict changes at all. Through the real
//! binary, so fewer cases than the library's properties.

use super::{arteries, example, judge, outcome};
use proptest::prelude::*;
use serde_json::{json, Value};

/// The ways a planner may spell the same artery's name.
fn spelling(name: &str, which: usize) -> String {
    match which % 6 {
        0 => name.to_string(),
        1 => name.to_uppercase(),
        2 => format!("  {name} "),
        3 => name.replace(' ', "  "),
        4 => name.replace(' ', "\u{a0}"),
        _ => format!("\t{}", name.to_uppercase()),
    }
}

/// Cuts `units` into parts at the given fractions (each part ≥ 1 unit).
fn parts(units: u32, cuts: &[f64]) -> Vec<u32> {
    let mut points: Vec<u32> = cuts.iter().map(|c| (c * f64::from(units)) as u32).collect();
    points.retain(|p| *p > 0 && *p < units);
    points.sort_unstable();
    points.dedup();
    let mut result = Vec::new();
    let mut previous = 0;
    for point in points.into_iter().chain([units]) {
        result.push(point - previous);
        previous = point;
    }
    result
}

/// The example with artery `index`'s drug `drug` (0 pirarubicin, 1
/// carboplatin) set to `amounts` written as one entry per amount: the first
/// is the artery itself, the others (no embolic, only that drug) are
/// spelled by `spellings` and have the diameters `diameters`.
fn plan_with(
    index: usize,
    drug: usize,
    amounts: &[Value],
    spellings: &[usize],
    diameters: &[Value],
) -> Value {
    let mut plan = example();
    let list = arteries(&mut plan);
    let original = list[index].clone();
    let drug_name = original["drugs"][drug]["name"].as_str().unwrap().to_string();
    list[index]["drugs"][drug]["dose"] = json!({ "value": amounts[0], "unit": "mg" });
    for (k, amount) in amounts.iter().enumerate().skip(1) {
        let name = spelling(original["name"].as_str().unwrap(), spellings[k % spellings.len()]);
        list.push(json!({
            "name": name,
            "origin": original["origin"],
            "diameter_mm": diameters[k % diameters.len()],
            "shares_origin_with_spinal_artery": false,
            "drugs": [{ "name": drug_name, "dose": { "value": amount, "unit": "mg" } }],
        }));
    }
    plan
}

/// The amount of `units` steps: 0.5 mg of pirarubicin or 10 mg of carboplatin.
fn amount(drug: usize, units: u32) -> Value {
    if drug == 0 {
        json!(f64::from(units) * 0.5)
    } else {
        json!(units * 10)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn splitting_an_arterys_dose_over_entries_of_its_name_never_turns_a_fail_into_a_pass(
        index in 0usize..3,
        drug in 0usize..2,
        units in 2u32..31,
        cuts in prop::collection::vec(0.0f64..1.0, 1..4),
        spellings in prop::collection::vec(0usize..6, 1..4),
        bigger in prop::collection::vec(any::<bool>(), 1..4),
        other_diameter in 0.5f64..4.0,
    ) {
        let original = example()["sessions"][0]["arteries"][index]["diameter_mm"].as_f64().unwrap();
        let split = parts(units, &cuts);
        let whole = judge(&plan_with(index, drug, &[amount(drug, units)], &[0], &[json!(original)]));

        // Other entries as large as the artery or larger: the same verdict.
        let same: Vec<Value> = bigger.iter().map(|b| json!(if *b { original + 1.0 } else { original })).collect();
        let amounts: Vec<Value> = split.iter().map(|u| amount(drug, *u)).collect();
        let written = judge(&plan_with(index, drug, &amounts, &spellings, &same));
        prop_assert_ne!(&written["verdict"], "invalid", "{}", written);
        prop_assert_eq!(outcome(&written), outcome(&whole), "split into {:?}", split);

        // Other entries of any diameter: the artery is at most as wide as its
        // first entry, so its caps are only stricter.
        let smaller = (other_diameter * 10.0).round() / 10.0;
        let mixed: Vec<Value> = same.iter().map(|_| json!(smaller)).collect();
        let narrowed = judge(&plan_with(index, drug, &amounts, &spellings, &mixed));
        prop_assert_ne!(&narrowed["verdict"], "invalid", "{}", narrowed);
        if whole["verdict"] == "fail" {
            prop_assert_eq!(&narrowed["verdict"], "fail", "split into {:?} at {} mm", split, smaller);
        }
    }
}
