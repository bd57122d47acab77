//! SPEC §2, `spinal-feeder-excluded` and "Vertebral levels and sides": a
//! treated artery whose origin or name equals a mapped origin, or whose
//! (level, side) pairs meet a mapped origin's, must not be treated — however
//! the level is written. Words that are not levels must not raise alarms,
//! and an artery listed but not treated is fine.

use super::{arteries, assert_judged, documented, embolised, example, judge, located, Problems};
use serde_json::{json, Value};

/// The SPEC example with the mapping's origins replaced by `mapped` and
/// `artery` added to its session. None of the example's own treated
/// arteries (left L3, right L3, both L4) meets the origins used below.
fn with_mapping_and(mapped: &[&str], artery: Value) -> Value {
    let mut plan = example();
    plan["spinal_artery_mapping"]["origins"] = json!(mapped);
    arteries(&mut plan).push(artery);
    plan
}

/// A treated artery named without level or side, arising from `origin`.
fn feeder_from(origin: &str) -> Value {
    embolised("tumour feeder", Some(origin), json!(2))
}

/// Each treated origin, against the one mapped origin, must give `want`.
fn each_origin(mapped: &str, origins: &[&str], want: &str) {
    let errors: &[&str] = if want == "fail" { &["spinal-feeder-excluded"] } else { &[] };
    let mut problems = Problems::default();
    for origin in origins {
        let verdict = judge(&with_mapping_and(&[mapped], feeder_from(origin)));
        problems.check(
            &format!("origin {origin:?} against mapped {mapped:?}"),
            &verdict,
            want,
            errors,
            &[],
        );
    }
    problems.assert_none(origins.len());
}

#[test]
fn an_origin_with_more_words_than_the_mapped_origin_is_the_same_level_and_side() {
    each_origin(
        "right L1 lumbar",
        &["right L1 lumbar artery", "the right L1 lumbar artery"],
        "fail",
    );
}

#[test]
fn thoracic_levels_written_as_th_d_two_words_a_hyphen_or_leading_zeros_meet_the_mapped_level() {
    each_origin(
        "right T10 intercostal",
        &[
            "right Th10 intercostal",
            "right TH10 intercostal artery",
            "right D10 intercostal",
            "right T 10 intercostal",
            "right T-10 intercostal",
            "right Th-10 intercostal",
            "right d 10 intercostal",
            "right T010 intercostal",
            "right t10",
            "10th right intercostal, T10",
        ],
        "fail",
    );
}

#[test]
fn lumbar_and_sacral_levels_with_leading_zeros_meet_the_mapped_level() {
    each_origin(
        "right L1 lumbar",
        &["right L01 lumbar", "right L001 lumbar artery", "right l-01"],
        "fail",
    );
    each_origin("left S2 lateral sacral", &["left S02 lateral sacral", "left S 2"], "fail");
}

#[test]
fn t13_and_l6_are_levels_as_anatomical_variants() {
    each_origin("right T13 subcostal", &["right Th13 intercostal", "right T-13"], "fail");
    each_origin("left L6 lumbar", &["left L06 lumbar artery", "left L 6"], "fail");
}

#[test]
fn words_that_are_not_levels_name_no_level() {
    // Were `T9a` read as T9, `TL1` as L1, or `T14` as a level, these would
    // meet the mapped origin; the SPEC says they name none.
    each_origin("left T9 intercostal", &["left T9a intercostal"], "pass");
    each_origin("right L1 lumbar", &["right TL1 junction"], "pass");
    each_origin("T14 intercostal", &["left T14 branch", "right T 14 branch"], "pass");
}

#[test]
fn a_different_side_or_level_does_not_meet_the_mapped_origin() {
    each_origin("right L1 lumbar", &["left L1 lumbar artery", "right L2 lumbar artery"], "pass");
}

#[test]
fn a_treated_artery_without_origin_is_read_by_its_name() {
    // "right L1 lumbar artery" with no `origin` against a mapped
    // "right L1 lumbar": a possible artery of Adamkiewicz, treated.
    let artery = embolised("right L1 lumbar artery", None, json!(2));
    let verdict = judge(&with_mapping_and(&["left T9 intercostal", "right L1 lumbar"], artery));
    assert_judged(&verdict, "fail", &["spinal-feeder-excluded"], &[]);
    let found = located(&verdict, "spinal-feeder-excluded");
    assert!(
        found.iter().all(|(path, _)| path.starts_with("/sessions/0/arteries/4")),
        "the finding points at the treated entry: {found:?}"
    );
}

#[test]
fn an_artery_whose_name_equals_a_mapped_origin_shares_it() {
    // No level in the name: only the name comparison catches it.
    let artery = embolised("Right  Lateral Sacral Artery", Some("right internal iliac"), json!(2));
    let verdict = judge(&with_mapping_and(&["right lateral sacral artery"], artery));
    assert_judged(&verdict, "fail", &["spinal-feeder-excluded"], &[]);
}

#[test]
fn a_mapped_origin_without_a_side_is_met_on_both_sides() {
    each_origin("T10 intercostal", &["left T10 intercostal", "right T10 intercostal"], "fail");
}

#[test]
fn a_treated_origin_without_a_side_meets_a_mapped_origin_on_either_side() {
    each_origin("right T10 intercostal", &["T10 intercostal"], "fail");
}

#[test]
fn a_common_trunk_of_right_and_left_meets_a_mapped_origin_on_either_side() {
    // The example's common trunk of right and left L4 lumbar arteries
    // (origin "aorta", so read by its name) is treated.
    for mapped in ["left L4 lumbar", "right L4 lumbar"] {
        let mut plan = example();
        plan["spinal_artery_mapping"]["origins"] = json!([mapped]);
        let verdict = judge(&plan);
        assert_judged(&verdict, "fail", &["spinal-feeder-excluded"], &[]);
        let found = located(&verdict, "spinal-feeder-excluded");
        assert!(
            found.iter().all(|(path, _)| path.starts_with("/sessions/0/arteries/2")),
            "{mapped}: the finding points at the common trunk: {found:?}"
        );
    }
}

#[test]
fn the_origin_is_read_before_the_name_so_a_tumour_span_in_the_name_is_no_level() {
    // "left L3 lumbar artery (tumour L2–L4)" arising from "left L3 lumbar"
    // has only the pairs of L3: a mapped left L2 is not met.
    let name = "left L3 lumbar artery (tumour L2\u{2013}L4)";
    let mut plan = example();
    plan["spinal_artery_mapping"]["origins"] = json!(["left L2 lumbar"]);
    arteries(&mut plan)[0]["name"] = json!(name);
    assert_judged(&judge(&plan), "pass", &[], &[]);
}

#[test]
fn the_name_is_read_when_the_origin_names_no_level() {
    // The same name arising from the aorta: now the name's levels L3, L2 and
    // L4 count, and L2 meets the mapped left L2.
    let name = "left L3 lumbar artery (tumour L2\u{2013}L4)";
    let mut plan = example();
    plan["spinal_artery_mapping"]["origins"] = json!(["left L2 lumbar"]);
    arteries(&mut plan)[0]["name"] = json!(name);
    arteries(&mut plan)[0]["origin"] = json!("aorta");
    assert_judged(&judge(&plan), "fail", &["spinal-feeder-excluded"], &[]);
}

#[test]
fn an_arterys_levels_are_those_of_all_its_entries() {
    // Two entries of one artery: the treated one from "right L3 lumbar", the
    // documented one from "right L1 lumbar" — the artery arises at L1 too.
    let mut plan = example();
    plan["spinal_artery_mapping"]["origins"] = json!(["right L1 lumbar"]);
    let list = arteries(&mut plan);
    list.push(embolised("right ascending lumbar artery", Some("right L3 lumbar"), json!(2)));
    list.push(documented(
        "Right Ascending Lumbar Artery",
        Some("right L1 lumbar artery"),
        json!(2),
        false,
    ));
    assert_judged(&judge(&plan), "fail", &["spinal-feeder-excluded"], &[]);
}

#[test]
fn an_untreated_artery_at_a_mapped_level_is_fine() {
    // Documented, not treated: good practice, whatever it is called.
    let mut problems = Problems::default();
    let entries = [
        documented("right L01 lumbar artery", None, json!(2), false),
        documented("right L1 lumbar artery", Some("right L1 lumbar"), json!(2), true),
        documented("right lumbar artery", Some("Right L-1 lumbar artery"), json!(2), false),
    ];
    for artery in &entries {
        let verdict = judge(&with_mapping_and(&["right L1 lumbar"], artery.clone()));
        problems.check(&artery.to_string(), &verdict, "pass", &[], &[]);
    }
    problems.assert_none(entries.len());
}
