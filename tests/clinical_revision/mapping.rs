//! SPEC §2, `spinal-mapping-required`: the mapping is required whenever the
//! plan treats near the cord — a spinal or sacral lesion, lesion levels that
//! name a vertebral level, or a treated artery whose origin or name names
//! one (an iliac lesion treated through a lumbar artery) — and a mapping
//! dated after a planned session does not count.

use super::{
    arteries, assert_judged, documented, embolised, example, iliac_example, judge, located,
    Problems,
};
use serde_json::{json, Value};

const REQUIRED: &[&str] = &["spinal-mapping-required"];

#[test]
fn the_iliac_example_needs_no_mapping() {
    assert_judged(&judge(&iliac_example()), "pass", &[], &[]);
}

#[test]
fn lesion_levels_that_name_a_vertebral_level_require_the_mapping() {
    let mut problems = Problems::default();
    let cases: [(&str, Value); 5] = [
        ("other", json!(["T11"])),
        ("other", json!(["Th11\u{2013}T12"])),
        ("other", json!(["L 5"])),
        ("iliac", json!(["right iliac wing", "S1"])),
        ("iliac", json!(["d-12"])),
    ];
    for (region, levels) in &cases {
        let mut plan = iliac_example();
        plan["indication"]["lesion_region"] = json!(region);
        plan["indication"]["lesion_levels"] = levels.clone();
        problems.check(&format!("{region} {levels}"), &judge(&plan), "fail", REQUIRED, &[]);
    }
    problems.assert_none(cases.len());
}

#[test]
fn lesion_levels_that_name_no_vertebral_level_do_not_require_it() {
    let mut plan = iliac_example();
    plan["indication"]["lesion_region"] = json!("other");
    plan["indication"]["lesion_levels"] = json!(["left iliac wing", "acetabulum"]);
    assert_judged(&judge(&plan), "pass", &[], &[]);
}

#[test]
fn an_iliac_lesion_treated_through_a_lumbar_artery_requires_the_mapping() {
    let mut problems = Problems::default();
    let feeders = [
        embolised("right L4 lumbar artery", Some("right L4 lumbar"), json!(2)),
        embolised("right L4 lumbar artery", None, json!(2)),
        embolised("right lumbar artery", Some("right L 4 lumbar"), json!(2)),
        // The origin names no level but the name does: near the cord all the same.
        embolised("right L4 lumbar artery", Some("aorta"), json!(2)),
    ];
    for feeder in &feeders {
        let mut plan = iliac_example();
        arteries(&mut plan).push(feeder.clone());
        let verdict = judge(&plan);
        problems.check(&feeder.to_string(), &verdict, "fail", REQUIRED, &[]);
    }
    problems.assert_none(feeders.len());
}

#[test]
fn an_untreated_lumbar_artery_on_an_iliac_plan_does_not_require_the_mapping() {
    let mut plan = iliac_example();
    arteries(&mut plan).push(documented(
        "right L4 lumbar artery",
        Some("right L4 lumbar"),
        json!(2),
        false,
    ));
    assert_judged(&judge(&plan), "pass", &[], &[]);
}

#[test]
fn a_mapping_dated_on_the_sessions_day_counts() {
    let mut plan = example();
    plan["spinal_artery_mapping"]["date"] = json!("2026-11-05");
    assert_judged(&judge(&plan), "pass", &[], &[]);
}

#[test]
fn a_mapping_dated_the_day_after_the_session_does_not_count() {
    let mut plan = example();
    plan["spinal_artery_mapping"]["date"] = json!("2026-11-06");
    let verdict = judge(&plan);
    assert_judged(&verdict, "fail", REQUIRED, &[]);
    let found = located(&verdict, "spinal-mapping-required");
    assert!(
        found.iter().any(|(_, text)| text.contains("2026-11-06")),
        "the finding says the mapping's date: {found:?}"
    );
}

#[test]
fn a_mapping_dated_between_two_planned_sessions_does_not_count_for_the_first() {
    let mut plan = example();
    let mut second = plan["sessions"][0].clone();
    second["number"] = json!(3);
    second["date"] = json!("2026-12-05");
    plan["sessions"].as_array_mut().unwrap().push(second);
    plan["spinal_artery_mapping"]["date"] = json!("2026-11-20");
    assert_judged(&judge(&plan), "fail", REQUIRED, &[]);
}

#[test]
fn a_mapping_dated_after_a_prior_session_but_before_the_planned_one_counts() {
    // The example's prior session (2026-10-05) is before its mapping
    // (2026-11-02): the past is not re-planned.
    let plan = example();
    assert_eq!(plan["prior_sessions"][0]["date"], "2026-10-05");
    assert_judged(&judge(&plan), "pass", &[], &[]);
}

#[test]
fn a_sacral_lesion_with_a_mapping_dated_after_the_session_fails() {
    let mut plan = example();
    plan["indication"]["lesion_region"] = json!("sacrum");
    plan["indication"]["lesion_levels"] = json!([]);
    plan["spinal_artery_mapping"]["date"] = json!("2026-12-01");
    assert_judged(&judge(&plan), "fail", REQUIRED, &[]);
}
