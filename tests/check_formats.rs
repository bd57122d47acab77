//! `check --format junit|sarif|tap`: the formats other tools read say what
//! the JSON verdict says — a failing plan is never shown as passing, and
//! every finding keeps its rule, severity and place.

use crate::check_support::{repo, run};
use serde_json::Value;

const FAIL: &str = "examples/plans/fail-artery-dose-max-small-artery.json";
const PASS: &str = "examples/plans/pass-iliac.json";
const INVALID: &str = "examples/plans/invalid-typo-field.json";
const WARN: &str = "examples/plans/warn-eligibility.json";

fn check(format: &str, plans: &[&str]) -> crate::check_support::Run {
    let paths: Vec<String> = plans.iter().map(|p| repo(p).display().to_string()).collect();
    let mut args = vec!["check".to_string(), "--format".into(), format.into()];
    args.extend(paths);
    run(args, None)
}

#[test]
fn junit_reports_a_failure_per_failing_rule_an_error_per_invalid_plan_and_keeps_exit_codes() {
    let out = check("junit", &[FAIL, PASS, INVALID, WARN]);
    assert_eq!(out.code, Some(2), "the exit status is the same as for JSON");
    let report = quick_junit::Report::deserialize_from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JUnit XML ({e}):\n{}", out.stdout));
    let suites = &report.test_suites;
    assert_eq!(suites.len(), 4, "one suite per plan");
    let by_file = |file: &str| {
        suites.iter().find(|s| s.name.as_str().ends_with(file)).unwrap_or_else(|| panic!("{file}"))
    };
    let fail = by_file("fail-artery-dose-max-small-artery.json");
    assert_eq!((fail.failures, fail.errors), (1, 0));
    let failed: Vec<&str> = fail
        .test_cases
        .iter()
        .filter(|c| !matches!(c.status, quick_junit::TestCaseStatus::Success { .. }))
        .filter(|c| !matches!(c.status, quick_junit::TestCaseStatus::Skipped { .. }))
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(failed, ["artery-dose-max"]);
    assert_eq!((by_file("pass-iliac.json").failures, by_file("pass-iliac.json").errors), (0, 0));
    let invalid = by_file("invalid-typo-field.json");
    assert_eq!(invalid.errors, 1);
    assert!(out.stdout.contains("diamter_mm"), "the problem is named");
    // A warning is not a failure, but it is not hidden either.
    let warn = by_file("warn-eligibility.json");
    assert_eq!((warn.failures, warn.errors), (0, 0));
    assert!(out.stdout.contains("warning: "), "{}", out.stdout);
}

#[test]
fn sarif_has_one_result_per_finding_with_its_level_rule_and_pointer() {
    let out = check("sarif", &[FAIL, WARN, INVALID]);
    assert_eq!(out.code, Some(2));
    let log: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let json = check("json", &[FAIL, WARN, INVALID]);
    let findings: Vec<Value> =
        json.verdicts().iter().flat_map(|v| v["findings"].as_array().unwrap().clone()).collect();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    for (result, finding) in results.iter().zip(&findings) {
        assert_eq!(result["ruleId"], finding["rule"]);
        let level = match finding["severity"].as_str().unwrap() {
            "error" => "error",
            "warning" => "warning",
            _ => "note",
        };
        assert_eq!(result["level"], level);
        let pointer = &result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"];
        assert_eq!(pointer, &finding["path"]);
    }
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let dose = rules.iter().find(|r| r["id"] == "artery-dose-max").unwrap();
    assert!(dose["fullDescription"]["text"].as_str().unwrap().contains("3 mg of pirarubicine"));
}

#[test]
fn tap_has_a_test_point_per_plan_and_only_passing_plans_are_ok() {
    let out = check("tap", &[PASS, FAIL, INVALID]);
    assert_eq!(out.code, Some(2));
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[..2], ["TAP version 14", "1..3"]);
    let points: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("ok ") || l.starts_with("not ok "))
        .collect();
    assert_eq!(points.len(), 3);
    assert!(points[0].starts_with("ok 1 - ") && points[0].contains("pass-iliac.json"));
    assert!(points[1].starts_with("not ok 2 - ") && points[1].contains("# fail"));
    assert!(points[2].starts_with("not ok 3 - ") && points[2].contains("# invalid"));
    assert!(out.stdout.contains("rule: \"artery-dose-max\""), "{}", out.stdout);
}
