//! A drug or embolic agent written with a typo is still refused (an
//! unknown drug is an error, an unknown agent a warning), and the message
//! says which name was probably meant, as it does for fields and units.

use crate::check_support::{check_json, findings_of, spec_example, write_plan};
use tempfile::TempDir;

#[test]
fn a_misspelt_drug_or_agent_is_refused_with_the_name_probably_meant() {
    let dir = TempDir::new().unwrap();
    let mut plan = spec_example();
    plan["sessions"][0]["arteries"][0]["drugs"][0]["name"] = "pirarubicn".into();
    plan["sessions"][0]["arteries"][1]["embolic"]["agent"] = "PVX".into();
    let path = write_plan(dir.path(), "typo.json", &plan);
    let run = check_json(&[path]);
    let verdict = run.verdict();
    assert_eq!(verdict["verdict"], "fail", "an unknown drug still fails the plan");
    let drug = &findings_of(&verdict, "unknown-drug")[0];
    assert!(drug["message"].as_str().unwrap().contains("Did you mean pirarubicin?"), "{drug}");
    let agent = &findings_of(&verdict, "embolic-agent")[0];
    assert!(agent["message"].as_str().unwrap().contains("Did you mean PVA?"), "{agent}");
    // A name that resembles nothing known gets no guess.
    plan["sessions"][0]["arteries"][0]["drugs"][0]["name"] = "doxorubicin".into();
    let path = write_plan(dir.path(), "other.json", &plan);
    let verdict = check_json(&[path]).verdict();
    let drug = &findings_of(&verdict, "unknown-drug")[0];
    assert!(!drug["message"].as_str().unwrap().contains("Did you mean"), "{drug}");
}
