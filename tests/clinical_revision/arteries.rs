//! SPEC §2, "Arteries": entries of one session whose names are equal as
//! names are one artery — treated when one entry is, sharing a spinal
//! origin when one entry does, its doses summed, its diameter the smallest
//! of its entries, counted once, with an embolic agent when one entry has
//! one. Six milligrams of pirarubicin into one small artery, written as two
//! entries of 3 mg, used to pass.

use super::{
    arteries, assert_judged, documented, drug, embolised, example, is_at_or_under, judge, located,
};
use serde_json::json;

#[test]
fn an_artery_written_as_two_entries_under_two_spellings_has_its_doses_summed() {
    let mut plan = example();
    // Entry 0 is "left L3 lumbar artery", 2.5 mm, 3 mg pirarubicin (its cap).
    let second = json!({
        "name": "  Left  L3 LUMBAR artery ",
        "origin": "left L3 lumbar",
        "diameter_mm": 2.5,
        "shares_origin_with_spinal_artery": false,
        "drugs": [drug("pirarubicin", json!(3), "mg")],
    });
    arteries(&mut plan).push(second);
    let verdict = judge(&plan);
    // 6 mg in one 2.5 mm artery (cap 3 mg); the session's 19 mg are fine,
    // and the second entry's missing embolic is the first entry's PVA.
    assert_judged(&verdict, "fail", &["artery-dose-max"], &[]);
    let found = located(&verdict, "artery-dose-max");
    assert_eq!(found.len(), 1, "one finding for the one artery: {found:?}");
    let (path, text) = &found[0];
    assert!(text.contains("6 mg"), "the finding gives the artery's total, 6 mg: {text}");
    assert!(
        is_at_or_under(path, "/sessions/0/arteries/0")
            || is_at_or_under(path, "/sessions/0/arteries/4"),
        "the finding points at one of the artery's entries: {path}"
    );
}

#[test]
fn the_cap_of_the_smallest_diameter_among_an_arterys_entries_applies() {
    let mut plan = example();
    // Entry 2 is the 4.5 mm common trunk with 10 mg pirarubicin and 0.2 g
    // carboplatin (at the large-artery caps). Another entry of the same
    // artery gives it as 3.5 mm: the small-artery caps (3 mg, 50 mg) apply.
    let name = "COMMON TRUNK of right and left L4 lumbar arteries";
    arteries(&mut plan).push(embolised(name, Some("aorta"), json!(3.5)));
    let verdict = judge(&plan);
    assert_judged(&verdict, "fail", &["artery-dose-max"], &[]);
    let texts: Vec<String> =
        located(&verdict, "artery-dose-max").into_iter().map(|(_, t)| t).collect();
    assert_eq!(texts.len(), 2, "pirarubicin and carboplatin over the small caps: {texts:?}");
    assert!(texts.iter().any(|t| t.contains("3 mg")), "the 3 mg cap: {texts:?}");
    assert!(texts.iter().any(|t| t.contains("50 mg")), "the 50 mg cap: {texts:?}");
}

#[test]
fn an_untreated_entry_with_a_smaller_diameter_still_sets_the_arterys_cap() {
    let mut plan = example();
    // The diameter is the smallest among ALL the artery's entries, the
    // documented ones included: the angiogram measured it at 3 mm there.
    let name = "common trunk of right and left L4 lumbar arteries";
    arteries(&mut plan).push(documented(name, Some("aorta"), json!(3), false));
    assert_judged(&judge(&plan), "fail", &["artery-dose-max"], &[]);
}

#[test]
fn an_artery_split_into_entries_counts_once_toward_the_minimum_of_three() {
    let mut plan = example();
    // Two arteries (left L3 in two entries, and the common trunk) in three
    // treated entries: fewer than three arteries.
    let list = arteries(&mut plan);
    list.remove(1);
    list[0]["drugs"] =
        json!([drug("pirarubicin", json!(1.5), "mg"), drug("carboplatin", json!(25), "mg")]);
    let mut second = embolised("LEFT L3 lumbar artery", Some("left L3 lumbar"), json!(2.5));
    second["drugs"] =
        json!([drug("pirarubicin", json!(1.5), "mg"), drug("carboplatin", json!(25), "mg")]);
    list.push(second);
    assert_judged(&judge(&plan), "pass", &[], &["artery-count"]);
}

#[test]
fn an_artery_split_into_entries_counts_once_toward_the_maximum_of_six() {
    let mut plan = example();
    // Three treated arteries plus three more: six arteries, written in
    // seven entries (the median sacral artery twice).
    let list = arteries(&mut plan);
    list.push(embolised("left iliolumbar artery", Some("left internal iliac"), json!(2)));
    list.push(embolised("right iliolumbar artery", Some("right internal iliac"), json!(2)));
    list.push(embolised("median sacral artery", Some("aorta"), json!(2)));
    list.push(embolised("Median  Sacral  Artery", Some("aorta"), json!(2)));
    assert_judged(&judge(&plan), "pass", &[], &[]);
}

#[test]
fn a_spinal_flag_on_an_untreated_entry_makes_the_same_named_treated_entry_a_spinal_feeder() {
    let mut plan = example();
    // The planner documented the artery as sharing a spinal origin, and
    // elsewhere in the session embolises it under another spelling.
    let list = arteries(&mut plan);
    list.push(documented("right iliolumbar artery", Some("right internal iliac"), json!(2), true));
    list.push(embolised("Right Iliolumbar Artery", Some("right internal iliac"), json!(2)));
    assert_judged(&judge(&plan), "fail", &["spinal-feeder-excluded"], &[]);
}

#[test]
fn an_artery_has_an_embolic_agent_when_one_of_its_entries_has_one() {
    let mut plan = example();
    // Pirarubicin split over two entries of the left L3 lumbar artery; only
    // the first carries the PVA it is mixed with. No `embolic-agent` warning.
    let list = arteries(&mut plan);
    list[0]["drugs"] =
        json!([drug("pirarubicin", json!(1.5), "mg"), drug("carboplatin", json!(50), "mg")]);
    list.push(json!({
        "name": "left L3 lumbar artery",
        "origin": "left L3 lumbar",
        "diameter_mm": 2.5,
        "shares_origin_with_spinal_artery": false,
        "drugs": [drug("pirarubicin", json!(1.5), "mg")],
    }));
    assert_judged(&judge(&plan), "pass", &[], &[]);
}

#[test]
fn the_same_artery_in_two_sessions_is_not_summed() {
    let mut plan = example();
    // Two sessions a month apart, each with 3 mg in the left L3 lumbar
    // artery: one artery per session, each at its cap.
    let mut second = plan["sessions"][0].clone();
    second["number"] = json!(3);
    second["date"] = json!("2026-12-05");
    plan["sessions"].as_array_mut().unwrap().push(second);
    assert_judged(&judge(&plan), "pass", &[], &[]);
}
