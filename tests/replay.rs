//! `embolint replay` on archives built by the real daemon: the same rules
//! change nothing, a lowered limit changes exactly the plans above it, a
//! plan altered or removed since its record is reported and skipped, and
//! nothing under the root is written.

use crate::util::{fail_plan, pass_plan, plan_on, Site, SHIPPED_RULES};
use proptest::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The passing plan as plan `id`, with pirarubicin at `mg` in each small
/// (under 4 mm) artery.
fn plan_with_small_artery_dose(id: &str, mg: &str) -> String {
    with_small_artery_dose(&pass_plan(id), mg)
}

/// `plan` with pirarubicin at `mg` in each small (under 4 mm) artery.
fn with_small_artery_dose(plan: &str, mg: &str) -> String {
    let mut plan: Value = serde_json::from_str(plan).unwrap();
    for session in plan["sessions"].as_array_mut().unwrap() {
        for artery in session["arteries"].as_array_mut().unwrap() {
            if artery["diameter_mm"].as_f64().unwrap() >= 4.0 {
                continue;
            }
            let Some(drugs) = artery.get_mut("drugs").and_then(Value::as_array_mut) else {
                continue;
            };
            for drug in drugs {
                if drug["name"] == "pirarubicin" {
                    drug["dose"] =
                        serde_json::json!({ "value": mg.parse::<f64>().unwrap(), "unit": "mg" });
                }
            }
        }
    }
    serde_json::to_string_pretty(&plan).unwrap()
}

/// The shipped rules with the small-artery pirarubicin cap at `cap`.
fn rules_with_small_cap(dir: &Path, cap: &str) -> PathBuf {
    let from = r#"small_caps = { pirarubicin = "3 mg""#;
    assert!(SHIPPED_RULES.contains(from), "the shipped rule file changed: update this test");
    let text = SHIPPED_RULES.replace(from, &format!(r#"small_caps = {{ pirarubicin = "{cap}""#));
    let path = dir.join(format!("rules-{cap}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn shipped_rules(dir: &Path) -> PathBuf {
    let path = dir.join("shipped.toml");
    std::fs::write(&path, SHIPPED_RULES).unwrap();
    path
}

/// Judges `plans` (name, text) with the real daemon, one after another,
/// and stops it.
fn archive(site: &mut Site, plans: &[(String, String)]) {
    let daemon = site.start(&[]);
    for (name, text) in plans {
        site.judge(name, text);
    }
    assert!(daemon.terminate().success());
}

/// Runs `embolint replay --format json`; its exit code and report.
fn replay_json(site: &Site, rules: &Path) -> (i32, Value) {
    let root = site.root();
    let output = site.run(&[
        "replay",
        "--rules",
        rules.to_str().unwrap(),
        "--root",
        root.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code().unwrap(), report)
}

fn replay_text(site: &Site, rules: &Path) -> (i32, String) {
    let root = site.root();
    let output =
        site.run(&["replay", "--rules", rules.to_str().unwrap(), "--root", root.to_str().unwrap()]);
    (output.status.code().unwrap(), String::from_utf8(output.stdout).unwrap())
}

/// A small archive: plans at 2, 2.5 and 3 mg in the small arteries, a plan
/// that fails, an invalid one, and two plans of one patient at 2 mg too
/// close together (the second fails on spacing only because the history
/// holds the first).
fn mixed_plans() -> Vec<(String, String)> {
    let mut plans = vec![
        ("low.json".to_string(), plan_with_small_artery_dose("LOW", "2")),
        ("at-new-cap.json".to_string(), plan_with_small_artery_dose("ATCAP", "2.5")),
        ("high-1.json".to_string(), plan_with_small_artery_dose("HIGH1", "3")),
        ("fails.json".to_string(), fail_plan("FAILS")),
        ("invalid.json".to_string(), "{}".to_string()),
        ("high-2.json".to_string(), plan_with_small_artery_dose("HIGH2", "3")),
    ];
    let first = plan_on("SP-1", "PAT-SPACING", "2026-11-02");
    let too_close = plan_on("SP-2", "PAT-SPACING", "2026-11-10");
    plans.push(("first.json".into(), with_small_artery_dose(&first, "2")));
    plans.push(("too-close.json".into(), with_small_artery_dose(&too_close, "2")));
    plans
}

fn changed_files(report: &Value) -> Vec<String> {
    let changed = report["changed"].as_array().unwrap();
    changed
        .iter()
        .filter(|c| c["before"] != c["after"])
        .map(|c| c["file"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_same_rules_change_nothing_and_exit_0_spacing_judged_as_it_was() {
    let mut site = Site::new();
    archive(&mut site, &mixed_plans());
    let records = site.records();
    let too_close = records.iter().find(|r| r["watch"]["inbox_name"] == "too-close.json").unwrap();
    assert_eq!(too_close["verdict"], "fail", "the archive must hold a spacing failure");
    let (code, report) = replay_json(&site, &shipped_rules(site.dir.path()));
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["replayed"], 8);
    assert_eq!(report["verdict_changes"], 0);
    assert_eq!(report["changed"], serde_json::json!([]), "no finding changes either");
    assert_eq!(report["not_replayed"], serde_json::json!([]));
    let (code, text) = replay_text(&site, &shipped_rules(site.dir.path()));
    assert_eq!(code, 0);
    assert!(text.starts_with("no verdict changes: 8 plans replayed\n"), "{text}");
}

/// A plan withdrawn from the history no longer counts for spacing: replay
/// replays the withdrawal too, so the plan judged after it still passes.
#[test]
fn a_withdrawal_in_the_log_is_replayed_so_spacing_is_judged_as_it_was() {
    let mut site = Site::new();
    let withdrawn = with_small_artery_dose(&plan_on("W-1", "PAT-W", "2026-11-02"), "2");
    archive(&mut site, &[("withdrawn.json".into(), withdrawn)]);
    let root = site.root();
    let forget =
        ["history", "--forget", "W-1", "--by", "Dr. Audit", "--reason", "cancelled", "--root"];
    let output = site.run(&[&forget[..], &[root.to_str().unwrap()]].concat());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let after = with_small_artery_dose(&plan_on("W-2", "PAT-W", "2026-11-10"), "2");
    archive(&mut site, &[("after.json".into(), after)]);
    let records = site.records();
    assert_eq!(records[1]["verdict"], "pass", "W-1 was withdrawn before W-2 was judged");
    let (code, report) = replay_json(&site, &shipped_rules(site.dir.path()));
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["replayed"], 2);
    assert_eq!(report["changed"], serde_json::json!([]));
}

#[test]
fn a_lowered_artery_cap_changes_exactly_the_plans_above_it_and_exits_1() {
    let mut site = Site::new();
    archive(&mut site, &mixed_plans());
    let rules = rules_with_small_cap(site.dir.path(), "2.5 mg");
    let (code, report) = replay_json(&site, &rules);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(changed_files(&report), ["passed/high-1.json", "passed/high-2.json"]);
    assert_eq!(report["verdict_changes"], 2);
    assert_eq!(
        report["transitions"],
        serde_json::json!([{ "before": "pass", "after": "fail", "plans": 2 }])
    );
    let high = &report["changed"].as_array().unwrap()[0];
    let added: Vec<&str> =
        high["added"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(added, ["artery-dose-max", "artery-dose-max"], "both small arteries");
    assert_eq!(high["removed"], serde_json::json!([]));
    let per_rule = report["rules"].as_array().unwrap();
    let cap = per_rule.iter().find(|r| r["rule"] == "artery-dose-max").unwrap();
    assert!(cap["after"].as_u64().unwrap() >= cap["before"].as_u64().unwrap() + 4, "{cap}");

    let (code, text) = replay_text(&site, &rules);
    assert_eq!(code, 1);
    assert!(text.starts_with("2 plans change: 2 pass → fail\n"), "{text}");
    assert!(text.contains("passed/high-1.json (plan HIGH1"), "{text}");
    assert!(!text.contains("at-new-cap.json"), "a dose at the new limit passes: {text}");
}

#[test]
fn a_plan_altered_or_removed_since_its_record_is_reported_and_skipped() {
    let mut site = Site::new();
    archive(&mut site, &mixed_plans());
    let root = site.root();
    let altered = root.join("passed/high-1.json");
    let mut bytes = std::fs::read(&altered).unwrap();
    bytes.push(b' ');
    std::fs::write(&altered, bytes).unwrap();
    std::fs::remove_file(root.join("passed/high-2.json")).unwrap();
    let rules = rules_with_small_cap(site.dir.path(), "2.5 mg");
    let (code, report) = replay_json(&site, &rules);
    assert_eq!(code, 0, "neither plan that would change is replayed: {report:#}");
    assert_eq!(report["replayed"], 6);
    let skipped: Vec<(String, String)> = report["not_replayed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["file"].as_str().unwrap().into(), s["reason"].as_str().unwrap().into()))
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert_eq!(skipped[0].0, "passed/high-1.json");
    assert!(skipped[0].1.starts_with("altered since its record"), "{skipped:?}");
    assert_eq!(skipped[1].0, "passed/high-2.json");
    assert!(skipped[1].1.starts_with("missing"), "{skipped:?}");
    let (_, text) = replay_text(&site, &rules);
    assert!(
        text.starts_with("no verdict changes: 6 plans replayed (2 could not be replayed)\n"),
        "{text}"
    );
    assert!(text.contains("Plans that could not be replayed (2):"), "{text}");
}

#[test]
fn replay_writes_nothing_under_the_root() {
    let mut site = Site::new();
    archive(&mut site, &mixed_plans());
    let root = site.root();
    let before = crate::util::tree_snapshot(&root, &[]);
    let rules = rules_with_small_cap(site.dir.path(), "2.5 mg");
    replay_json(&site, &rules);
    replay_text(&site, &shipped_rules(site.dir.path()));
    assert_eq!(crate::util::tree_snapshot(&root, &[]), before);
}

#[test]
fn replay_without_a_decision_log_or_with_a_bad_rule_file_exits_3() {
    let site = Site::new();
    std::fs::create_dir_all(site.root()).unwrap();
    let rules = shipped_rules(site.dir.path());
    let (code, _) = replay_text(&site, &rules);
    assert_eq!(code, 3);
    let bad = site.dir.path().join("bad.toml");
    std::fs::write(&bad, "not = [a rule file").unwrap();
    let (code, _) = replay_text(&site, &bad);
    assert_eq!(code, 3);
}

/// One plan of a random archive: which kind, and for whom.
fn random_plan() -> impl Strategy<Value = (u8, u8, u8)> {
    (0u8..5, 0u8..2, 0u8..60)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    /// Over random archives judged by the real daemon (doses on both sides
    /// of the caps, failures, invalid plans, and plans of two patients on
    /// random days, so spacing decides some), replaying under the rules
    /// that judged them changes no verdict and no finding.
    #[test]
    fn replaying_under_the_same_rules_changes_nothing(plans in prop::collection::vec(random_plan(), 3..9)) {
        let mut site = Site::new();
        for (i, (kind, patient, day)) in plans.iter().enumerate() {
            let id = format!("R{i}");
            let text = match kind {
                0 => plan_with_small_artery_dose(&id, "2"),
                1 => plan_with_small_artery_dose(&id, "3.5"),
                2 => fail_plan(&id),
                3 => "{\"format\": 1}".to_string(),
                _ => {
                    let date = jiff::civil::date(2026, 9, 1) + jiff::Span::new().days(i64::from(*day));
                    plan_on(&id, &format!("PAT-{patient}"), &date.to_string())
                }
            };
            site.write(&format!("p{i:02}.json"), &text);
        }
        let daemon = site.start(&[]);
        site.wait_for_records(plans.len());
        crate::util::wait_until("all placed", || site.every_record_placed());
        prop_assert!(daemon.terminate().success());
        let (code, report) = replay_json(&site, &shipped_rules(site.dir.path()));
        prop_assert_eq!(code, 0, "{:#}", report);
        prop_assert_eq!(&report["replayed"], &Value::from(plans.len()));
        prop_assert_eq!(&report["changed"], &serde_json::json!([]));
    }
}
