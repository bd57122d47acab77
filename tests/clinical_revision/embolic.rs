//! PVA under its other names (SPEC §1's synonyms) is PVA: it needs a
//! particle size, and small particles are caught. An artery given
//! pirarubicin with no embolic agent gets the `embolic-agent` warning
//! ("pirarubicine mixed with polyvinyl alcohol particles").

use super::{arteries, assert_judged, drug, example, is_at_or_under, judge, located, Problems};
use crate::check_support::findings;
use serde_json::json;

/// The synonyms of PVA in SPEC §1, with case and spacing as people type.
const PVA_NAMES: [&str; 9] = [
    "PVA foam",
    "polyvinyl alcohol foam",
    "PVA particles",
    "polyvinyl alcohol particles",
    "Ivalon",
    "IVALON",
    "  pva   Foam ",
    "Polyvinyl Alcohol Particles",
    "polyvinyl alcohol",
];

#[test]
fn pva_under_another_name_without_a_particle_size_is_invalid() {
    let mut problems = Problems::default();
    for agent in PVA_NAMES {
        let mut plan = example();
        arteries(&mut plan)[0]["embolic"] = json!({ "agent": agent });
        let verdict = judge(&plan);
        if verdict["verdict"] != "invalid" {
            problems.push(format!(
                "{agent:?}: {}, not invalid: {}",
                verdict["verdict"],
                json!(findings(&verdict))
            ));
            continue;
        }
        let paths: Vec<String> = findings(&verdict)
            .iter()
            .map(|f| f["path"].as_str().unwrap_or_default().to_string())
            .collect();
        if !paths.iter().any(|p| is_at_or_under(p, "/sessions/0/arteries/0/embolic")) {
            problems.push(format!("{agent:?}: no finding at the embolic: {paths:?}"));
        }
    }
    problems.assert_none(PVA_NAMES.len());
}

#[test]
fn pva_under_another_name_with_small_particles_fails_particle_size_min() {
    let mut problems = Problems::default();
    for agent in PVA_NAMES {
        let mut plan = example();
        arteries(&mut plan)[0]["embolic"] =
            json!({ "agent": agent, "particle_size_um": [100, 300] });
        problems.check(agent, &judge(&plan), "fail", &["particle-size-min"], &[]);
    }
    problems.assert_none(PVA_NAMES.len());
}

#[test]
fn pva_under_another_name_at_the_protocols_calibre_raises_nothing() {
    let mut problems = Problems::default();
    for agent in PVA_NAMES {
        let mut plan = example();
        arteries(&mut plan)[0]["embolic"] =
            json!({ "agent": agent, "particle_size_um": [300, 600] });
        problems.check(agent, &judge(&plan), "pass", &[], &[]);
    }
    problems.assert_none(PVA_NAMES.len());
}

#[test]
fn an_artery_given_pirarubicin_without_an_embolic_agent_is_warned_about() {
    let mut problems = Problems::default();
    for name in ["pirarubicin", "THP", "Pirarubicine", "teprubicin"] {
        let mut plan = example();
        let artery = &mut arteries(&mut plan)[0];
        artery.as_object_mut().unwrap().remove("embolic");
        artery["drugs"][0]["name"] = json!(name);
        let verdict = judge(&plan);
        problems.check(name, &verdict, "pass", &[], &["embolic-agent"]);
        let found = located(&verdict, "embolic-agent");
        if !found.iter().any(|(path, _)| is_at_or_under(path, "/sessions/0/arteries/0")) {
            problems.push(format!("{name}: the warning does not point at the artery: {found:?}"));
        }
    }
    problems.assert_none(4);
}

#[test]
fn an_artery_given_only_carboplatin_without_an_embolic_agent_is_selective_chemotherapy() {
    let mut plan = example();
    let artery = &mut arteries(&mut plan)[0];
    artery.as_object_mut().unwrap().remove("embolic");
    artery["drugs"] = json!([drug("carboplatin", json!(50), "mg")]);
    // 13 mg pirarubicin is still within the session's 10–20 mg.
    assert_judged(&judge(&plan), "pass", &[], &[]);
}
