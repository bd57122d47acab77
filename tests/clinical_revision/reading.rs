//! SPEC §1, reading: a leading UTF-8 byte-order mark is ignored; the
//! significant digits are those of the value (`120.000000` has 2); a
//! non-zero digit beyond the 18th decimal place makes the plan invalid;
//! and every synonym of SPEC §1 is read as what it names.

use super::{arteries, assert_judged, example, judge, judge_bytes, Problems};
use crate::check_support::{findings, with_literals};
use serde_json::{json, Value};

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn example_bytes() -> Vec<u8> {
    serde_json::to_vec_pretty(&example()).unwrap()
}

#[test]
fn a_leading_byte_order_mark_is_ignored() {
    let bytes = [BOM, &example_bytes()].concat();
    assert_judged(&judge_bytes(bytes), "pass", &[], &[]);
}

#[test]
fn a_second_byte_order_mark_is_not_ignored() {
    let bytes = [BOM, BOM, &example_bytes()].concat();
    assert_eq!(judge_bytes(bytes)["verdict"], "invalid");
}

/// The example with `pointer`'s value written as the number `literal`.
fn with_number(pointer: &str, literal: &str) -> Vec<u8> {
    let mut plan = example();
    *plan.pointer_mut(pointer).unwrap() = json!("@@N@@");
    with_literals(&plan, &[("N", literal)]).into_bytes()
}

#[test]
fn trailing_zeros_are_not_significant_digits() {
    let steroid = "/sessions/0/post_procedure/0/dose/value";
    let pirarubicin = "/sessions/0/arteries/0/drugs/0/dose/value";
    let cases = [
        (steroid, "120.000000"),
        (steroid, "120.0000000000000000"),
        (steroid, "120.000000000000000000"),
        (steroid, "120.00000000000000000000000"),
        // At the 3 mg cap, written with 18 decimal places: still at the cap.
        (pirarubicin, "3.000000000000000000"),
        (pirarubicin, "2.999999999999990"),
    ];
    let mut problems = Problems::default();
    for (pointer, literal) in cases {
        let verdict = judge_bytes(with_number(pointer, literal));
        problems.check(&format!("{pointer} = {literal}"), &verdict, "pass", &[], &[]);
    }
    problems.assert_none(cases.len());
}

#[test]
fn a_non_zero_digit_at_the_18th_decimal_place_is_read_exactly() {
    // 3 mg plus 10⁻¹⁸ mg of pirarubicin in a 2.5 mm artery: over the cap.
    let pointer = "/sessions/0/arteries/0/drugs/0/dose/value";
    let verdict = judge_bytes(with_number(pointer, "0.000000000000000001"));
    assert_judged(&verdict, "pass", &[], &[]);
    let mut plan = example();
    let drugs = arteries(&mut plan)[0]["drugs"].as_array_mut().unwrap();
    drugs.push(json!({ "name": "pirarubicin", "dose": { "value": "@@N@@", "unit": "mg" } }));
    let text = with_literals(&plan, &[("N", "0.000000000000000001")]);
    assert_judged(&judge_bytes(text.into_bytes()), "fail", &["artery-dose-max"], &[]);
}

#[test]
fn a_non_zero_digit_beyond_the_18th_decimal_place_is_invalid() {
    let cases = [
        ("/patient/age_years", "0.0000000000000000001"),
        ("/sessions/0/arteries/0/diameter_mm", "0.00000000000000000025"),
        ("/sessions/0/arteries/0/drugs/0/dose/value", "0.0000000000000000003"),
    ];
    let mut problems = Problems::default();
    for (pointer, literal) in cases {
        let verdict = judge_bytes(with_number(pointer, literal));
        let paths: Vec<Value> = findings(&verdict).iter().map(|f| f["path"].clone()).collect();
        if verdict["verdict"] != "invalid"
            || !paths.iter().any(|p| p.as_str().is_some_and(|p| p.starts_with(pointer)))
        {
            problems.push(format!("{pointer} = {literal}: {} at {paths:?}", verdict["verdict"]));
        }
    }
    problems.assert_none(cases.len());
}

#[test]
fn every_other_synonym_of_the_spec_is_read_as_what_it_names() {
    let cases: [(&str, &str); 9] = [
        ("/sessions/0/arteries/0/drugs/0/name", "teprubicin"),
        ("/sessions/0/arteries/0/drugs/0/name", "Theprubicine"),
        ("/sessions/0/arteries/0/drugs/1/name", "Paraplatin"),
        ("/sessions/0/arteries/0/drugs/1/name", "paraplatine"),
        ("/sessions/0/post_procedure/1/name", "Kytril"),
        ("/sessions/0/post_procedure/1/name", "granisetron chlorhydrate"),
        ("/sessions/0/post_procedure/1/name", "Granisetron Hydrochloride"),
        ("/sessions/0/post_procedure/0/route", "intravenous"),
        ("/indication/failed_treatments/1", "Radiation  Therapy"),
    ];
    let mut problems = Problems::default();
    for (pointer, name) in cases {
        let mut plan = example();
        *plan.pointer_mut(pointer).unwrap() = json!(name);
        problems.check(&format!("{pointer} = {name:?}"), &judge(&plan), "pass", &[], &[]);
    }
    problems.assert_none(cases.len());
}
