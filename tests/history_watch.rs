//! The patient history through the real daemon (SPEC §5): a plan that
//! passed is remembered per patient, so a later plan of the same patient
//! too close to it fails `session-spacing`, naming it; a revision replaces
//! its earlier version; other patients are unaffected; a withdrawn plan no
//! longer counts; and `check --history` agrees with the daemon throughout.

use crate::util;

use serde_json::Value;
use std::path::Path;
use util::{plan_on, Site};

/// Day D, and D + 14 days.
const DAY_D: &str = "2026-11-05";
const DAY_D_PLUS_14: &str = "2026-11-19";

/// What must be equal between `check` and the daemon for one plan.
fn judged_part(verdict: &Value) -> Value {
    let findings: Vec<Value> = verdict["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| serde_json::json!([f["rule"], f["severity"], f["message"], f["path"]]))
        .collect();
    serde_json::json!({
        "verdict": verdict["verdict"],
        "sha256": verdict["sha256"],
        "plan_id": verdict["plan_id"],
        "patient_id": verdict["patient_id"],
        "rule_set": verdict["rule_set"],
        "rules": verdict["rules"],
        "findings": findings,
    })
}

/// Checks the plan with `embolint check --history` against the daemon's
/// database, then drops it into the daemon: both must give the same
/// verdict with the same findings. Returns the daemon's record.
fn judge_both(site: &Site, name: &str, text: &str) -> Value {
    let file = site.dir.path().join(name);
    std::fs::write(&file, text).unwrap();
    let db = site.history_db();
    let output = site.run(&[
        "check",
        "--format",
        "json",
        "--history",
        db.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let checked: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    let expected_code = if checked["verdict"] == "pass" { 0 } else { 1 };
    assert_eq!(output.status.code(), Some(expected_code), "check's exit code");
    let record = site.judge(name, text);
    assert_eq!(
        judged_part(&record),
        judged_part(&checked),
        "check and the daemon disagree on {name}"
    );
    record
}

/// The error messages of a verdict.
fn errors(verdict: &Value) -> Vec<String> {
    let findings = verdict["findings"].as_array().unwrap();
    let errors = findings.iter().filter(|f| f["severity"] == "error");
    errors
        .map(|f| format!("{}: {}", f["rule"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect()
}

/// The plan with 30 mg pirarubicin in its first artery (the cap is 3 mg).
fn overdosed(plan: &str) -> String {
    let mut plan: Value = serde_json::from_str(plan).unwrap();
    plan["sessions"][0]["arteries"][0]["drugs"][0]["dose"]["value"] = 30.into();
    plan.to_string()
}

fn forget(site: &Site, plan_id: &str, by: &str) -> std::process::Output {
    let root = site.root();
    site.run(&[
        "history",
        "--forget",
        plan_id,
        "--by",
        by,
        "--reason",
        "procedure cancelled",
        "--root",
        root.to_str().unwrap(),
    ])
}

#[test]
fn spacing_across_plans_revision_other_patient_and_withdrawal() {
    let mut site = Site::new();
    let daemon = site.start(&[]);

    // Plan A of patient P, session on day D: passes and is remembered.
    let a = judge_both(&site, "a.json", &plan_on("PLN-A", "PAT-P", DAY_D));
    assert_eq!(a["verdict"], "pass", "{:?}", errors(&a));
    assert_eq!(site.sessions_of("PAT-P"), [("PLN-A".to_string(), DAY_D.to_string())]);

    // Plan B of P, day D + 14, written by someone else: fails, naming A.
    let b = judge_both(&site, "b.json", &plan_on("PLN-B", "PAT-P", DAY_D_PLUS_14));
    assert_eq!(b["verdict"], "fail");
    let errors_b = errors(&b);
    assert_eq!(errors_b.len(), 1, "{errors_b:?}");
    let message = &errors_b[0];
    assert!(message.starts_with("session-spacing: "), "{message}");
    for part in [
        "2026-11-19 is 14 days after",
        "of plan PLN-A on 2026-11-05",
        "recorded ",
        "one calendar month",
    ] {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }
    assert_eq!(site.sessions_of("PAT-P").len(), 1, "a failed plan changes nothing");

    // Plan A revised (same plan id, new date): judged without its old
    // version, passes, and replaces it.
    let a2 = judge_both(&site, "a-revised.json", &plan_on("PLN-A", "PAT-P", "2026-11-12"));
    assert_eq!(a2["verdict"], "pass", "{:?}", errors(&a2));
    assert_eq!(site.sessions_of("PAT-P"), [("PLN-A".to_string(), "2026-11-12".to_string())]);

    // A revision that fails leaves the passed version in force, and says so.
    let a3 = judge_both(&site, "a-bad.json", &overdosed(&plan_on("PLN-A", "PAT-P", "2026-11-12")));
    assert_eq!(a3["verdict"], "fail");
    assert!(
        errors(&a3).iter().all(|e| e.contains("earlier passed version of plan PLN-A")),
        "{:?}",
        errors(&a3)
    );
    assert_eq!(site.sessions_of("PAT-P"), [("PLN-A".to_string(), "2026-11-12".to_string())]);

    // Another patient on the same dates is unaffected.
    let q = judge_both(&site, "q.json", &plan_on("PLN-Q", "PAT-Q", DAY_D_PLUS_14));
    assert_eq!(q["verdict"], "pass", "{:?}", errors(&q));

    // B again: still too close, now to the revised A.
    let b2 = judge_both(&site, "b-again.json", &plan_on("PLN-B", "PAT-P", DAY_D_PLUS_14));
    assert_eq!(b2["verdict"], "fail");
    assert!(
        errors(&b2)[0].contains("7 days after session 2 of plan PLN-A on 2026-11-12"),
        "{:?}",
        errors(&b2)
    );

    // A is cancelled: withdrawn, by a named person, through the daemon.
    let output = forget(&site, "PLN-A", "Dr. Marie Curie");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("plan PLN-A of patient PAT-P") && stdout.contains("Dr. Marie Curie"),
        "{stdout}"
    );
    let events = site.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["event"], "history-forget");
    assert_eq!(events[0]["plan_id"], "PLN-A");
    assert_eq!(events[0]["by"], "Dr. Marie Curie");
    assert_eq!(events[0]["withdrawn"]["sessions"][0]["date"], "2026-11-12");
    assert!(site.sessions_of("PAT-P").is_empty());

    // Forgetting it again changes nothing and says so (exit 1).
    let again = forget(&site, "PLN-A", "Dr. Marie Curie");
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing was withdrawn"));
    assert_eq!(site.events().len(), 1, "no event for a withdrawal that did nothing");

    // B dropped again now passes.
    let b3 = judge_both(&site, "b-third.json", &plan_on("PLN-B", "PAT-P", DAY_D_PLUS_14));
    assert_eq!(b3["verdict"], "pass", "{:?}", errors(&b3));

    assert!(daemon.terminate().success());
    site.assert_history_agrees_with_log();
    let names: Vec<String> = ["a", "b", "a-revised", "a-bad", "q", "b-again", "b-third"]
        .iter()
        .map(|n| format!("{n}.json"))
        .collect();
    site.assert_each_once(&names);
}

#[test]
fn two_plans_of_one_patient_in_one_batch_see_each_other() {
    let mut site = Site::new();
    // Both are in the inbox before start-up, so they share a batch.
    site.write("first.json", &plan_on("PLN-1", "PAT-P", DAY_D));
    site.write("second.json", &plan_on("PLN-2", "PAT-P", DAY_D_PLUS_14));
    let daemon = site.start(&[]);
    site.wait_for_records(2);
    assert!(daemon.terminate().success());
    let records = site.records();
    assert_eq!(records[0]["watch"]["batch"], records[1]["watch"]["batch"], "one batch");
    let verdicts: Vec<&Value> = records.iter().map(|r| &r["verdict"]).collect();
    assert_eq!(verdicts, ["pass", "fail"], "the second is judged against the first");
    let first = records[0]["plan_id"].as_str().unwrap();
    assert!(
        errors(&records[1])[0].contains(&format!("of plan {first}")),
        "{:?}",
        errors(&records[1])
    );
    site.assert_history_agrees_with_log();
}

#[test]
fn forget_without_a_daemon_takes_the_lock_and_is_recorded_in_the_log() {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    assert_eq!(site.judge("a.json", &plan_on("PLN-A", "PAT-P", DAY_D))["verdict"], "pass");
    assert!(daemon.terminate().success());

    let output = forget(&site, "PLN-A", "night operator");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(site.events()[0]["by"], "night operator");
    assert_eq!(site.events()[0]["reason"], "procedure cancelled", "the reason is in the log");
    assert!(site.events()[0].get("request").is_none(), "done directly, not by request");
    site.assert_history_agrees_with_log();

    let daemon = site.start(&[]);
    assert_eq!(site.judge("b.json", &plan_on("PLN-B", "PAT-P", DAY_D_PLUS_14))["verdict"], "pass");
    assert!(daemon.terminate().success());
    site.assert_history_agrees_with_log();
}

#[test]
fn forget_needs_a_root_a_name_and_a_reason() {
    let site = Site::new();
    let db = site.dir.path().join("h.sqlite");
    let no_root =
        site.run(&["history", "--forget", "PLN-A", "--by", "x", "--history", db.to_str().unwrap()]);
    assert_eq!(no_root.status.code(), Some(3));
    let no_by =
        site.run(&["history", "--forget", "PLN-A", "--root", site.dir.path().to_str().unwrap()]);
    assert_eq!(no_by.status.code(), Some(3));
    let root = site.dir.path().to_str().unwrap();
    let no_reason = site.run(&["history", "--forget", "PLN-A", "--by", "x", "--root", root]);
    assert_eq!(no_reason.status.code(), Some(3), "a withdrawal needs a reason");
    assert!(String::from_utf8_lossy(&no_reason.stderr).contains("--reason"));
    let blank = ["history", "--forget", "PLN-A", "--by", "x", "--reason", " ", "--root", root];
    assert_eq!(site.run(&blank).status.code(), Some(3), "a blank reason is none");
    let not_a_root = forget(&site, "PLN-A", "x");
    assert_eq!(not_a_root.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&not_a_root.stderr).contains("no history database"));
    assert!(!Path::new(&site.root()).join("log").exists(), "nothing created");
}
