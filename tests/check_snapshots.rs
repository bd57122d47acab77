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
