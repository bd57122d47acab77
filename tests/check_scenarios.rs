//! Each rule of SPEC §2 on the cases a planner is likely to get wrong,
//! through the real binary: the SPEC example with one thing changed, and the
//! exact set of error and warning rule ids that must follow. All scenarios
//! run, and every difference is reported at once.

use crate::check_support;

use check_support::{check_json, rule_ids, spec_example, write_plan};
use serde_json::{json, Value};
use tempfile::TempDir;

/// One scenario: a change to the SPEC example and what must follow.
struct Scenario {
    name: &'static str,
    edit: fn(&mut Value),
    verdict: &'static str,
    errors: &'static [&'static str],
    warnings: &'static [&'static str],
    infos: &'static [&'static str],
}

/// The usual case: the example's course has two sessions, hence the info.
const COURSE: &[&str] = &["course-length"];

fn dose(value: Value, unit: &str) -> Value {
    json!({ "value": value, "unit": unit })
}

fn drug(name: &str, value: Value, unit: &str) -> Value {
    json!({ "name": name, "dose": dose(value, unit) })
}

fn arteries(plan: &mut Value) -> &mut Vec<Value> {
    plan["sessions"][0]["arteries"].as_array_mut().unwrap()
}

/// A treated artery of `diameter` mm with these drugs (PVA 300–600 µm).
fn treated(name: &str, diameter: Value, drugs: Value) -> Value {
    json!({
        "name": name,
        "diameter_mm": diameter,
        "shares_origin_with_spinal_artery": false,
        "embolic": { "agent": "PVA", "particle_size_um": [300, 600] },
        "drugs": drugs,
    })
}

fn particles(plan: &mut Value, range: Value) {
    plan["sessions"][0]["arteries"][0]["embolic"]["particle_size_um"] = range;
}

fn sedation(plan: &mut Value, entries: Value) {
    plan["sessions"][0]["sedation"] = entries;
}

fn follow_up(plan: &mut Value, days: Value) {
    plan["sessions"][0]["follow_up_days"] = days;
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "the SPEC example as it is",
        edit: |_| {},
        verdict: "pass",
        errors: &[],
        warnings: &[],
        infos: COURSE,
    },
    // ------------------------------------------------------------ doses
    Scenario {
        name: "one drug written twice in one small artery is added up (2 mg + 2 mg)",
        edit: |p| {
            let drugs = arteries(p)[0]["drugs"].as_array_mut().unwrap();
            drugs[0] = drug("pirarubicin", json!(2), "mg");
            drugs.push(drug("pirarubicin", json!(2), "mg"));
        },
        verdict: "fail",
        errors: &["artery-dose-max"],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        name: "synonyms in one artery are one drug (pirarubicin 2 mg + THP 2 mg)",
        edit: |p| {
            let drugs = arteries(p)[0]["drugs"].as_array_mut().unwrap();
            drugs[0] = drug("pirarubicin", json!(2), "mg");
            drugs.push(drug("THP", json!(2000), "µg"));
        },
        verdict: "fail",
        errors: &["artery-dose-max"],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        name: "synonyms over a session are one drug (16 mg + theprubicine 10 mg)",
        edit: |p| {
            let extra = treated(
                "left L4 lumbar artery",
                json!(4),
                json!([
                    drug("Theprubicine", json!(10), "mg"),
                    drug("carboplatin", json!(50), "mg")
                ]),
            );
            arteries(p).push(extra);
        },
        verdict: "fail",
        errors: &["session-dose-max"],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        name: "carboplatin over the session in grams (300 mg + paraplatine 0.15 g)",
        edit: |p| {
            let extra = treated(
                "left L4 lumbar artery",
                json!(4.5),
                json!([drug("paraplatine", json!(0.15), "g")]),
            );
            arteries(p).push(extra);
        },
        verdict: "fail",
        errors: &["session-dose-max"],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        name: "a session with no carboplatin at all is below the minimum",
        edit: |p| {
            for artery in arteries(p).iter_mut() {
                if let Some(drugs) = artery.get_mut("drugs").and_then(Value::as_array_mut) {
                    drugs.retain(|d| d["name"] != "carboplatin");
                }
            }
        },
        verdict: "pass",
        errors: &[],
        warnings: &["session-dose-min"],
        infos: COURSE,
    },
    Scenario {
        name: "a drug name in capitals is still the protocol's drug",
        edit: |p| arteries(p)[0]["drugs"][0]["name"] = json!("PIRARUBICIN"),
        verdict: "pass",
        errors: &[],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        name: "a drug outside the formulary in an artery (doxorubicin)",
        edit: |p| {
            let drugs = arteries(p)[1]["drugs"].as_array_mut().unwrap();
            drugs.push(drug("doxorubicin", json!(1), "mg"));
        },
        verdict: "fail",
        errors: &["unknown-drug"],
        warnings: &[],
        infos: COURSE,
    },
    // ---------------------------------------------------------- anatomy
    Scenario {
        name: "the spinal-origin artery listed with an empty drug list is not treated",
        edit: |p| arteries(p)[3]["drugs"] = json!([]),
        verdict: "pass",
        errors: &[],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        name: "the spinal-origin artery infused without embolic is treated",
        edit: |p| arteries(p)[3]["drugs"] = json!([drug("carboplatin", json!(10), "mg")]),
        verdict: "fail",
        errors: &["spinal-feeder-excluded"],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        name: "a treated origin matching the mapping despite case and a no-break space",
        edit: |p| arteries(p)[0]["origin"] = json!("LEFT\u{a0}T9  Intercostal"),
        verdict: "fail",
        errors: &["spinal-feeder-excluded"],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        name: "a mapping that found no spinal artery origin",
        edit: |p| p["spinal_artery_mapping"]["origins"] = json!([]),
        verdict: "pass",
        errors: &[],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        name: "a spinal lesion without mapping",
        edit: |p| {
            p.as_object_mut().unwrap().remove("spinal_artery_mapping");
        },
        verdict: "fail",
        errors: &["spinal-mapping-required"],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        // Revised rules: the sacrum needs the mapping too.
        name: "a sacral lesion without mapping",
        edit: |p| {
            p.as_object_mut().unwrap().remove("spinal_artery_mapping");
            p["indication"]["lesion_region"] = json!("sacrum");
        },
        verdict: "fail",
        errors: &["spinal-mapping-required"],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        name: "a sacral lesion still must not treat a flagged spinal feeder",
        edit: |p| {
            p["indication"]["lesion_region"] = json!("sacrum");
            arteries(p)[3]["embolic"] = json!({ "agent": "PVA", "particle_size_um": [300, 600] });
        },
        verdict: "fail",
        errors: &["spinal-feeder-excluded"],
        warnings: &[],
        infos: COURSE,
    },
    // ---------------------------------------------------- artery count
    Scenario {
        name: "documented arteries do not count: two treated",
        edit: |p| {
            arteries(p).remove(1);
        },
        verdict: "pass",
        errors: &[],
        warnings: &["artery-count"],
        infos: COURSE,
    },
    Scenario {
        name: "six treated arteries",
        edit: |p| {
            for level in ["T12", "L1", "L2"] {
                let name = format!("left {level} artery");
                let small = json!([
                    drug("pirarubicin", json!(0.5), "mg"),
                    drug("carboplatin", json!(10), "mg")
                ]);
                arteries(p).push(treated(&name, json!(2), small));
            }
        },
        verdict: "pass",
        errors: &[],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        name: "seven treated arteries",
        edit: |p| {
            for level in ["T11", "T12", "L1", "L2"] {
                let name = format!("left {level} artery");
                let small = json!([
                    drug("pirarubicin", json!(0.5), "mg"),
                    drug("carboplatin", json!(10), "mg")
                ]);
                arteries(p).push(treated(&name, json!(2), small));
            }
        },
        verdict: "pass",
        errors: &[],
        warnings: &["artery-count"],
        infos: COURSE,
    },
    // -------------------------------------------------------- particles
    Scenario {
        name: "particles 149–300 µm",
        edit: |p| particles(p, json!([149, 300])),
        verdict: "fail",
        errors: &["particle-size-min"],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        name: "particles 149.5–300 µm",
        edit: |p| particles(p, json!([149.5, 300])),
        verdict: "fail",
        errors: &["particle-size-min"],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        name: "particles 150–600 µm: not a calibre of the protocol",
        edit: |p| particles(p, json!([150, 600])),
        verdict: "pass",
        errors: &[],
        warnings: &["particle-size-protocol"],
        infos: COURSE,
    },
    Scenario {
        name: "microspheres 100–300 µm: too small and not PVA",
        edit: |p| {
            arteries(p)[0]["embolic"] =
                json!({ "agent": "microspheres", "particle_size_um": [100, 300] });
        },
        verdict: "fail",
        errors: &["particle-size-min"],
        warnings: &["embolic-agent"],
        infos: COURSE,
    },
    Scenario {
        name: "polyvinyl alcohol is PVA",
        edit: |p| arteries(p)[0]["embolic"]["agent"] = json!("Polyvinyl alcohol"),
        verdict: "pass",
        errors: &[],
        warnings: &[],
        infos: COURSE,
    },
    // --------------------------------------------------------- sedation
    Scenario {
        name: "alfentanil 0.033 mg/min (1.98 mg/h)",
        edit: |p| {
            sedation(p, json!([{ "name": "alfentanil", "rate": dose(json!(0.033), "mg/min") }]))
        },
        verdict: "pass",
        errors: &[],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        name: "alfentanil 0.034 mg/min (2.04 mg/h)",
        edit: |p| {
            sedation(p, json!([{ "name": "alfentanil", "rate": dose(json!(0.034), "mg/min") }]))
        },
        verdict: "fail",
        errors: &["sedation-dose-max"],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        name: "clonazepam bolus 0.21 mg",
        edit: |p| sedation(p, json!([{ "name": "clonazepam", "bolus": dose(json!(0.21), "mg") }])),
        verdict: "fail",
        errors: &["sedation-dose-max"],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        name: "midazolam bolus 2000.001 µg",
        edit: |p| {
            sedation(p, json!([{ "name": "Midazolam", "bolus": dose(json!(2000.001), "µg") }]))
        },
        verdict: "fail",
        errors: &["sedation-dose-max"],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        name: "two midazolam boluses of 1.5 mg add up to 3 mg",
        edit: |p| {
            sedation(
                p,
                json!([
                    { "name": "midazolam", "bolus": dose(json!(1.5), "mg") },
                    { "name": "midazolam", "bolus": dose(json!(1.5), "mg") }
                ]),
            )
        },
        verdict: "fail",
        errors: &["sedation-dose-max"],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        // Revised rules: outside the regimen is `sedation-protocol`'s error,
        // and left out of `sedation-dose-max`.
        name: "sedatives in a form or of a kind the protocol does not limit",
        edit: |p| {
            sedation(
                p,
                json!([
                    { "name": "alfentanil", "bolus": dose(json!(5), "mg") },
                    { "name": "midazolam", "rate": dose(json!(5), "mg/h") },
                    { "name": "propofol", "rate": dose(json!(200), "mg/h") }
                ]),
            )
        },
        verdict: "fail",
        errors: &["sedation-protocol"],
        warnings: &[],
        infos: COURSE,
    },
    // ------------------------------------------------ care and follow-up
    Scenario {
        name: "dexamethasone by the intravenous route",
        edit: |p| {
            p["sessions"][0]["post_procedure"][0] = json!({ "name": "dexamethasone", "dose": dose(json!(8), "mg"), "route": "intravenous" });
        },
        verdict: "pass",
        errors: &[],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        name: "a corticosteroid without a route is not known to be IV",
        edit: |p| {
            p["sessions"][0]["post_procedure"][0].as_object_mut().unwrap().remove("route");
        },
        verdict: "pass",
        errors: &[],
        warnings: &["post-procedure-care"],
        infos: COURSE,
    },
    Scenario {
        name: "ondansetron instead of granisetron",
        edit: |p| p["sessions"][0]["post_procedure"][1]["name"] = json!("ondansetron"),
        verdict: "pass",
        errors: &[],
        warnings: &["post-procedure-care"],
        infos: COURSE,
    },
    Scenario {
        name: "no post-procedure care at all",
        edit: |p| {
            p["sessions"][0].as_object_mut().unwrap().remove("post_procedure");
        },
        verdict: "pass",
        errors: &[],
        warnings: &["post-procedure-care"],
        infos: COURSE,
    },
    Scenario {
        name: "follow-up on days 1 and 22",
        edit: |p| follow_up(p, json!([1, 22])),
        verdict: "pass",
        errors: &[],
        warnings: &[],
        infos: COURSE,
    },
    Scenario {
        name: "follow-up on days 8 and 28: none in week 1",
        edit: |p| follow_up(p, json!([8, 28])),
        verdict: "pass",
        errors: &[],
        warnings: &["follow-up"],
        infos: COURSE,
    },
    Scenario {
        name: "follow-up on days 7 and 29: none in week 4",
        edit: |p| follow_up(p, json!([7, 29])),
        verdict: "pass",
        errors: &[],
        warnings: &["follow-up"],
        infos: COURSE,
    },
    Scenario {
        name: "no follow-up planned",
        edit: |p| {
            p["sessions"][0].as_object_mut().unwrap().remove("follow_up_days");
        },
        verdict: "pass",
        errors: &[],
        warnings: &["follow-up"],
        infos: COURSE,
    },
    // ------------------------------------------------------ eligibility
    Scenario {
        name: "no multidisciplinary decision",
        edit: |p| p["indication"]["mdt_decision"] = json!(false),
        verdict: "pass",
        errors: &[],
        warnings: &["eligibility"],
        infos: COURSE,
    },
    Scenario {
        name: "cementoplasty contraindication not recorded",
        edit: |p| {
            p["indication"].as_object_mut().unwrap().remove("cementoplasty_contraindicated");
        },
        verdict: "pass",
        errors: &[],
        warnings: &["eligibility"],
        infos: COURSE,
    },
    Scenario {
        name: "failed treatments not recorded",
        edit: |p| {
            p["indication"].as_object_mut().unwrap().remove("failed_treatments");
        },
        verdict: "pass",
        errors: &[],
        warnings: &["eligibility"],
        infos: COURSE,
    },
    // ---------------------------------------------------------- schedule
    Scenario {
        name: "a third session in the course",
        edit: |p| {
            p["prior_sessions"].as_array_mut().unwrap().insert(0, json!({ "date": "2026-09-04" }));
        },
        verdict: "pass",
        errors: &[],
        warnings: &[],
        infos: &[],
    },
    Scenario {
        name: "two planned sessions on the same day",
        edit: |p| {
            let mut again = p["sessions"][0].clone();
            again["number"] = json!(3);
            p["sessions"].as_array_mut().unwrap().push(again);
        },
        verdict: "fail",
        errors: &["session-spacing"],
        warnings: &[],
        infos: &[],
    },
    Scenario {
        name: "a prior session dated after the planned one, too close",
        edit: |p| p["prior_sessions"][0]["date"] = json!("2026-11-20"),
        verdict: "fail",
        errors: &["session-spacing"],
        warnings: &[],
        infos: COURSE,
    },
];

#[test]
fn each_scenario_gives_exactly_its_findings() {
    let dir = TempDir::new().unwrap();
    let mut problems = Vec::new();
    for (i, scenario) in SCENARIOS.iter().enumerate() {
        let mut plan = spec_example();
        (scenario.edit)(&mut plan);
        let path = write_plan(dir.path(), &format!("scenario-{i:02}.json"), &plan);
        let run = check_json(&[&path]);
        let verdict = run.verdict();
        let want = (scenario.verdict, scenario.errors, scenario.warnings, scenario.infos);
        let have = (
            verdict["verdict"].as_str().unwrap_or_default(),
            rule_ids(&verdict, "error"),
            rule_ids(&verdict, "warning"),
            rule_ids(&verdict, "info"),
        );
        if want.0 != have.0 || want.1 != have.1 || want.2 != have.2 || want.3 != have.3 {
            problems.push(format!(
                "{}: expected {want:?}, got {have:?}\n    {}",
                scenario.name, verdict["findings"]
            ));
        }
    }
    assert!(problems.is_empty(), "{} scenarios differ:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn polyvinyl_alcohol_without_particle_size_is_invalid_like_pva() {
    // The format requires particle sizes for PVA under any of its names.
    let dir = TempDir::new().unwrap();
    let mut plan = spec_example();
    plan["sessions"][0]["arteries"][0]["embolic"] = json!({ "agent": "polyvinyl alcohol" });
    let verdict = check_json(&[write_plan(dir.path(), "pva-synonym.json", &plan)]).verdict();
    assert_eq!(verdict["verdict"], "invalid", "{verdict}");
    let paths: Vec<&str> =
        verdict["findings"].as_array().unwrap().iter().filter_map(|f| f["path"].as_str()).collect();
    assert!(
        paths.iter().any(|p| p.starts_with("/sessions/0/arteries/0/embolic")),
        "points at the embolic: {paths:?}"
    );
}
