//! SPEC §2, `sedation-dose-max` and the new `sedation-protocol`: entries of
//! one sedative in one form add up in a session, brand and salt names are
//! the sedative, and an entry outside the protocol's regimen (another
//! sedative, an alfentanil bolus, a clonazepam or midazolam infusion,
//! clonazepam with midazolam) is an error of its own — left out of the
//! dose totals.

use super::{assert_judged, example, judge, located, qty, Problems};
use serde_json::{json, Value};

const DOSE_MAX: &[&str] = &["sedation-dose-max"];
const PROTOCOL: &[&str] = &["sedation-protocol"];

fn rate(name: &str, value: Value, unit: &str) -> Value {
    json!({ "name": name, "rate": qty(value, unit) })
}

fn bolus(name: &str, value: Value, unit: &str) -> Value {
    json!({ "name": name, "bolus": qty(value, unit) })
}

/// The SPEC example with this sedation.
fn with_sedation(entries: Vec<Value>) -> Value {
    let mut plan = example();
    plan["sessions"][0]["sedation"] = Value::Array(entries);
    plan
}

/// Each case's sedation must give `want` with exactly these error ids.
fn each(cases: Vec<(&str, Vec<Value>)>, want: &str, errors: &[&str]) {
    let mut problems = Problems::default();
    let count = cases.len();
    for (name, entries) in cases {
        problems.check(name, &judge(&with_sedation(entries)), want, errors, &[]);
    }
    problems.assert_none(count);
}

#[test]
fn two_alfentanil_infusions_of_1_5_mg_per_hour_are_3_mg_per_hour() {
    let plan = with_sedation(vec![
        rate("alfentanil", json!(1.5), "mg/h"),
        rate("alfentanil", json!(1.5), "mg/h"),
    ]);
    let verdict = judge(&plan);
    assert_judged(&verdict, "fail", DOSE_MAX, &[]);
    let found = located(&verdict, "sedation-dose-max");
    assert_eq!(found.len(), 1, "one finding for the session's alfentanil: {found:?}");
    assert!(found[0].1.contains("3 mg/h"), "the finding gives the total, 3 mg/h: {found:?}");
}

#[test]
fn alfentanil_rates_added_up_in_mixed_units_pass_exactly_at_2_mg_per_hour() {
    each(
        vec![
            (
                "1.5 mg/h + 500 µg/h",
                vec![
                    rate("alfentanil", json!(1.5), "mg/h"),
                    rate("alfentanil", json!(500), "µg/h"),
                ],
            ),
            (
                "0.025 mg/min + 500 ug/h",
                vec![
                    rate("alfentanil", json!(0.025), "mg/min"),
                    rate("alfentanil", json!(500), "ug/h"),
                ],
            ),
            (
                "1 mg/h + 1000 mcg/h",
                vec![
                    rate("alfentanil", json!(1), "mg/h"),
                    rate("alfentanil", json!(1000), "mcg/h"),
                ],
            ),
            (
                "1.4 mg/h + 6 μg/min + 4 mcg/min",
                vec![
                    rate("alfentanil", json!(1.4), "mg/h"),
                    rate("alfentanil", json!(6), "μg/min"),
                    rate("alfentanil", json!(4), "mcg/min"),
                ],
            ),
        ],
        "pass",
        &[],
    );
}

#[test]
fn alfentanil_rates_added_up_in_mixed_units_fail_just_over_2_mg_per_hour() {
    each(
        vec![
            (
                "1.5 mg/h + 500.001 µg/h",
                vec![
                    rate("alfentanil", json!(1.5), "mg/h"),
                    rate("alfentanil", json!(500.001), "µg/h"),
                ],
            ),
            (
                "0.025 mg/min + 8.3334 ug/min",
                vec![
                    rate("alfentanil", json!(0.025), "mg/min"),
                    rate("alfentanil", json!(8.3334), "ug/min"),
                ],
            ),
            (
                "1 mg/h + 1 mg/h + 1 mcg/h",
                vec![
                    rate("alfentanil", json!(1), "mg/h"),
                    rate("alfentanil", json!(1), "mg/h"),
                    rate("alfentanil", json!(1), "mcg/h"),
                ],
            ),
        ],
        "fail",
        DOSE_MAX,
    );
}

#[test]
fn midazolam_boluses_added_up_pass_at_2_mg_and_fail_just_over() {
    let alfentanil = || rate("alfentanil", json!(1.5), "mg/h");
    each(
        vec![
            (
                "1 mg + 1000 µg",
                vec![
                    alfentanil(),
                    bolus("midazolam", json!(1), "mg"),
                    bolus("midazolam", json!(1000), "µg"),
                ],
            ),
            (
                "0.001 g + 1 mg",
                vec![
                    alfentanil(),
                    bolus("midazolam", json!(0.001), "g"),
                    bolus("midazolam", json!(1), "mg"),
                ],
            ),
        ],
        "pass",
        &[],
    );
    each(
        vec![
            (
                "1 mg + 1001 mcg",
                vec![
                    alfentanil(),
                    bolus("midazolam", json!(1), "mg"),
                    bolus("midazolam", json!(1001), "mcg"),
                ],
            ),
            (
                "1.5 mg + Hypnovel 0.6 mg",
                vec![
                    alfentanil(),
                    bolus("midazolam", json!(1.5), "mg"),
                    bolus("Hypnovel", json!(0.6), "mg"),
                ],
            ),
        ],
        "fail",
        DOSE_MAX,
    );
}

#[test]
fn clonazepam_boluses_added_up_pass_at_0_2_mg_and_fail_just_over() {
    let alfentanil = || rate("alfentanil", json!(1.5), "mg/h");
    each(
        vec![
            (
                "0.1 mg + 100 µg",
                vec![
                    alfentanil(),
                    bolus("clonazepam", json!(0.1), "mg"),
                    bolus("clonazepam", json!(100), "µg"),
                ],
            ),
            (
                "0.0001 g + Rivotril 100 mcg",
                vec![
                    alfentanil(),
                    bolus("clonazepam", json!(0.0001), "g"),
                    bolus("Rivotril", json!(100), "mcg"),
                ],
            ),
        ],
        "pass",
        &[],
    );
    each(
        vec![(
            "0.1 mg + Rivotril 101 ug",
            vec![
                alfentanil(),
                bolus("clonazepam", json!(0.1), "mg"),
                bolus("Rivotril", json!(101), "ug"),
            ],
        )],
        "fail",
        DOSE_MAX,
    );
}

/// Every brand and salt name of SPEC §1, with the sedative it is.
const BRANDS: [(&str, &str); 11] = [
    ("Rapifen", "alfentanil"),
    ("Alfenta", "alfentanil"),
    ("alfentanil hydrochloride", "alfentanil"),
    ("alfentanil chlorhydrate", "alfentanil"),
    ("  ALFENTANIL  Chlorhydrate ", "alfentanil"),
    ("Rivotril", "clonazepam"),
    ("Hypnovel", "midazolam"),
    ("Dormicum", "midazolam"),
    ("Versed", "midazolam"),
    ("midazolam hydrochloride", "midazolam"),
    ("MIDAZOLAM Hydrochloride", "midazolam"),
];

/// An entry of `brand` in its protocol form at `scale` times the limit
/// (alfentanil 2 mg/h, clonazepam 0.2 mg, midazolam 2 mg), with the rest
/// of a regimen that stays within the protocol.
fn brand_sedation(brand: &str, sedative: &str, at_limit: bool) -> Vec<Value> {
    match (sedative, at_limit) {
        ("alfentanil", true) => vec![rate(brand, json!(2), "mg/h")],
        ("alfentanil", false) => vec![rate(brand, json!(2.001), "mg/h")],
        ("clonazepam", true) => {
            vec![rate("alfentanil", json!(1), "mg/h"), bolus(brand, json!(0.2), "mg")]
        }
        ("clonazepam", false) => {
            vec![rate("alfentanil", json!(1), "mg/h"), bolus(brand, json!(0.201), "mg")]
        }
        (_, true) => vec![rate("alfentanil", json!(1), "mg/h"), bolus(brand, json!(2), "mg")],
        (_, false) => vec![rate("alfentanil", json!(1), "mg/h"), bolus(brand, json!(2.001), "mg")],
    }
}

#[test]
fn every_brand_and_salt_name_is_its_sedative_at_the_limit() {
    let cases = BRANDS
        .iter()
        .map(|(brand, sedative)| (*brand, brand_sedation(brand, sedative, true)))
        .collect();
    each(cases, "pass", &[]);
}

#[test]
fn every_brand_and_salt_name_is_its_sedative_just_over_the_limit() {
    let cases = BRANDS
        .iter()
        .map(|(brand, sedative)| (*brand, brand_sedation(brand, sedative, false)))
        .collect();
    each(cases, "fail", DOSE_MAX);
}

#[test]
fn every_brand_and_salt_name_in_the_wrong_form_is_outside_the_regimen() {
    let cases = BRANDS
        .iter()
        .map(|(brand, sedative)| {
            let entry = if *sedative == "alfentanil" {
                bolus(brand, json!(0.5), "mg")
            } else {
                rate(brand, json!(0.1), "mg/h")
            };
            (*brand, vec![rate("alfentanil", json!(1), "mg/h"), entry])
        })
        .collect();
    each(cases, "fail", PROTOCOL);
}

#[test]
fn another_sedative_is_outside_the_regimen_and_the_finding_points_at_it() {
    let plan = with_sedation(vec![
        rate("alfentanil", json!(1.5), "mg/h"),
        rate("propofol", json!(100), "mg/h"),
    ]);
    let verdict = judge(&plan);
    assert_judged(&verdict, "fail", PROTOCOL, &[]);
    let found = located(&verdict, "sedation-protocol");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].0.starts_with("/sessions/0/sedation/1"),
        "points at the propofol entry: {found:?}"
    );
    assert!(found[0].1.to_lowercase().contains("propofol"), "names the sedative: {found:?}");
}

#[test]
fn each_form_and_sedative_outside_the_regimen_is_a_sedation_protocol_error() {
    each(
        vec![
            (
                "propofol infusion",
                vec![rate("alfentanil", json!(1.5), "mg/h"), rate("propofol", json!(100), "mg/h")],
            ),
            (
                "ketamine bolus",
                vec![rate("alfentanil", json!(1.5), "mg/h"), bolus("ketamine", json!(20), "mg")],
            ),
            ("remifentanil instead of alfentanil", vec![rate("remifentanil", json!(0.5), "mg/h")]),
            (
                "alfentanil bolus",
                vec![rate("alfentanil", json!(1.5), "mg/h"), bolus("alfentanil", json!(0.5), "mg")],
            ),
            (
                "clonazepam infusion",
                vec![
                    rate("alfentanil", json!(1.5), "mg/h"),
                    rate("clonazepam", json!(0.1), "mg/h"),
                ],
            ),
            (
                "midazolam infusion",
                vec![rate("alfentanil", json!(1.5), "mg/h"), rate("midazolam", json!(1), "mg/h")],
            ),
            (
                "clonazepam with midazolam",
                vec![
                    rate("alfentanil", json!(1.5), "mg/h"),
                    bolus("clonazepam", json!(0.2), "mg"),
                    bolus("midazolam", json!(1), "mg"),
                ],
            ),
            (
                "Rivotril with Hypnovel",
                vec![
                    rate("alfentanil", json!(1.5), "mg/h"),
                    bolus("Rivotril", json!(0.1), "mg"),
                    bolus("Hypnovel", json!(1), "mg"),
                ],
            ),
        ],
        "fail",
        PROTOCOL,
    );
}

#[test]
fn entries_outside_the_regimen_are_left_out_of_the_dose_totals() {
    // Each session's protocol entries are exactly at their limit; the entry
    // outside the regimen would push a total over it if it were counted.
    each(
        vec![
            (
                "alfentanil 2 mg/h + alfentanil bolus 5 mg",
                vec![rate("alfentanil", json!(2), "mg/h"), bolus("alfentanil", json!(5), "mg")],
            ),
            (
                "midazolam 2 mg + midazolam 3 mg/h",
                vec![
                    rate("alfentanil", json!(1), "mg/h"),
                    bolus("midazolam", json!(2), "mg"),
                    rate("midazolam", json!(3), "mg/h"),
                ],
            ),
            (
                "clonazepam 0.2 mg + clonazepam 1 mg/h",
                vec![
                    rate("alfentanil", json!(1), "mg/h"),
                    bolus("clonazepam", json!(0.2), "mg"),
                    rate("Rivotril", json!(1), "mg/h"),
                ],
            ),
            (
                "alfentanil 2 mg/h + propofol 200 mg/h",
                vec![rate("alfentanil", json!(2), "mg/h"), rate("propofol", json!(200), "mg/h")],
            ),
        ],
        "fail",
        PROTOCOL,
    );
}

#[test]
fn the_protocols_regimen_raises_no_sedation_finding() {
    each(
        vec![
            (
                "alfentanil and midazolam",
                vec![rate("alfentanil", json!(1.5), "mg/h"), bolus("midazolam", json!(1), "mg")],
            ),
            (
                "alfentanil and clonazepam",
                vec![rate("alfentanil", json!(2), "mg/h"), bolus("clonazepam", json!(0.2), "mg")],
            ),
            ("alfentanil alone", vec![rate("alfentanil", json!(1), "mg/h")]),
            ("midazolam alone", vec![bolus("midazolam", json!(2), "mg")]),
            ("no sedation", vec![]),
        ],
        "pass",
        &[],
    );
}

#[test]
fn sedation_protocol_is_listed_among_the_rules_that_ran() {
    let verdict = judge(&example());
    let rules = verdict["rules"].as_array().cloned().unwrap_or_default();
    let entry = rules.iter().find(|r| r["id"] == "sedation-protocol");
    let entry = entry.unwrap_or_else(|| panic!("no sedation-protocol in {rules:?}"));
    assert_eq!(entry["severity"], "error");
    assert_eq!(entry["outcome"], "pass");
}

/// The lead's decision: clonazepam given with midazolam is one
/// `sedation-protocol` finding at the session's `sedation` array, naming no
/// single entry, so both boluses still count: a midazolam overdose given
/// with clonazepam is still reported as an overdose.
#[test]
fn clonazepam_with_midazolam_is_one_finding_at_the_sedation_and_an_overdose_is_still_one() {
    let plan = with_sedation(vec![
        rate("alfentanil", json!(1), "mg/h"),
        bolus("clonazepam", json!(0.2), "mg"),
        bolus("midazolam", json!(2.5), "mg"),
    ]);
    let verdict = judge(&plan);
    assert_judged(&verdict, "fail", &["sedation-dose-max", "sedation-protocol"], &[]);
    let protocol = located(&verdict, "sedation-protocol");
    assert_eq!(protocol.len(), 1, "{protocol:?}");
    assert_eq!(protocol[0].0, "/sessions/0/sedation");
    let overdose = located(&verdict, "sedation-dose-max");
    assert_eq!(overdose.len(), 1, "{overdose:?}");
    assert_eq!(overdose[0].0, "/sessions/0/sedation/2");
}

/// A site's rule file written for the previous rule set (no
/// `sedation-protocol`, no `plan-revision`, no `mixed_drugs`) still judges
/// sedation outside the regimen: it gets the shipped rule, not silence.
#[test]
fn a_site_file_of_the_previous_rule_set_gets_sedation_protocol() {
    let shipped = std::fs::read_to_string(super::check_support::repo(
        "rules/chiras-bone-chemoembolization.toml",
    ))
    .unwrap();
    let cut = shipped.rfind("# ---").unwrap();
    let mut old = shipped[..cut].to_string();
    let start = old.find("[[rules]]\nid = \"sedation-protocol\"").unwrap();
    let end = start + old[start..].find("\n\n[[rules]]").unwrap() + 2;
    old.replace_range(start..end, "");
    let old = old.replace("mixed_drugs = [\"pirarubicin\"]\n", "");
    assert!(!old.contains("kind = \"sedation-protocol\"") && !old.contains("mixed_drugs ="));
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("site.toml");
    std::fs::write(&rules, old).unwrap();
    let plan = with_sedation(vec![
        rate("alfentanil", json!(1.5), "mg/h"),
        rate("propofol", json!(100), "mg/h"),
    ]);
    let run = super::check_support::run(
        ["check", "--rules", rules.to_str().unwrap(), "--format", "json", "-"],
        Some(serde_json::to_vec(&plan).unwrap()),
    );
    let verdict = run.verdict();
    assert_eq!(run.code, Some(1), "{verdict}\n{}", run.stderr);
    assert_judged(&verdict, "fail", PROTOCOL, &[]);
}
