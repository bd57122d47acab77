//! What a clinician reads: the text report of `embolint check` for a failing
//! and an invalid example plan, pinned so that any change to it is a
//! reviewed diff. Output goes to a pipe, so there is no colour; the text
//! report has no timestamp, so nothing needs redacting.

use crate::check_support;

use check_support::{embolint, repo};

/// `embolint check --format text PLAN` run from the repository root with a
/// relative path, so the report is the same on every machine.
fn text_report(plan: &str) -> (String, Option<i32>) {
    let output = embolint()
        .current_dir(repo(""))
        .args(["check", "--format", "text", &format!("examples/plans/{plan}")])
        .output()
        .unwrap();
    (String::from_utf8(output.stdout).unwrap(), output.status.code())
}

#[test]
fn text_report_of_an_artery_overdose() {
    let (report, code) = text_report("fail-artery-dose-max-small-artery.json");
    assert_eq!(code, Some(1));
    assert!(!report.contains('\u{1b}'), "no colour outside a terminal");
    insta::assert_snapshot!(report);
}

#[test]
fn text_report_of_a_plan_with_a_typo() {
    let (report, code) = text_report("invalid-typo-field.json");
    assert_eq!(code, Some(2));
    assert!(!report.contains('\u{1b}'), "no colour outside a terminal");
    insta::assert_snapshot!(report);
}

/// Errors lead, then warnings, then infos, whatever order the rules ran in;
/// a rule's protocol sentence is printed once, after all its findings.
#[test]
fn text_report_leads_with_errors_and_cites_each_rule_once() {
    let mut plan = check_support::spec_example();
    plan["indication"]["mdt_decision"] = false.into();
    for artery in [0, 1] {
        plan["sessions"][0]["arteries"][artery]["drugs"][0]["dose"]["value"] = 4.into();
    }
    let output = embolint()
        .args(["check", "--format", "text", "-"])
        .write_stdin(plan.to_string())
        .output()
        .unwrap();
    let report = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = report.lines().collect();
    let first_of = |word: &str| lines.iter().position(|l| l.trim_start().starts_with(word));
    let (error, warning, info) = (first_of("error"), first_of("warning"), first_of("info"));
    assert!(error < warning && warning < info, "{report}");
    assert_eq!(report.matches("artery-dose-max — protocol:").count(), 1, "{report}");
    assert_eq!(report.matches("error   artery-dose-max:").count(), 2, "{report}");
    insta::assert_snapshot!(report);
}

/// A plan with an accepted warning, a refused acknowledgement of an error
/// and a stale one: the accepted finding is listed apart, after those that
/// count, with who accepted it and why.
#[test]
fn text_report_of_a_plan_with_acknowledgements() {
    let mut plan = check_support::spec_example();
    plan["sessions"][0]["arteries"][0]["drugs"][0]["dose"]["value"] = 4.into();
    plan["acknowledgements"] = serde_json::json!([
        {"rule": "course-length", "reason": "the third session is planned after this one", "by": "Dr J. Chiras"},
        {"rule": "artery-dose-max", "path": "/sessions/0/arteries/0", "reason": "tumour bulk", "by": "Dr J. Chiras"},
        {"rule": "follow-up", "reason": "visits at weeks 1 and 4", "by": "Dr L. Spelle"}
    ]);
    let output = embolint()
        .args(["check", "--format", "text", "-"])
        .write_stdin(plan.to_string())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report = String::from_utf8(output.stdout).unwrap();
    insta::assert_snapshot!(report);
}
