//! The patient history as revised in SPEC §5, through the real daemon: a
//! passed plan's `prior_sessions` are sessions of that patient and enter the
//! history too; a prior session naming a `plan_id` is recorded under that
//! plan; a plan is never judged against recorded sessions of its own
//! `plan_id`; patient ids are compared as names, plan ids exactly.

use crate::check_support;
use crate::util;

use serde_json::{json, Value};
use std::collections::BTreeSet;
use util::{plan_on, Site};

/// `plan_on` with these prior sessions.
fn plan_with_prior(plan_id: &str, patient: &str, date: &str, prior: Value) -> String {
    let mut plan: Value = serde_json::from_str(&plan_on(plan_id, patient, date)).unwrap();
    plan["prior_sessions"] = prior;
    serde_json::to_string_pretty(&plan).unwrap()
}

/// The error findings of a decision record as "rule: message".
fn errors(record: &Value) -> Vec<String> {
    let findings = record["findings"].as_array().cloned().unwrap_or_default();
    findings
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| {
            format!(
                "{}: {}",
                f["rule"].as_str().unwrap_or_default(),
                f["message"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// Asserts the record failed on `session-spacing` alone, mentioning `date`.
#[track_caller]
fn assert_too_close_to(record: &Value, date: &str) {
    let errors = errors(record);
    assert_eq!(record["verdict"], "fail", "{errors:?}");
    assert_eq!(errors.len(), 1, "only session-spacing: {errors:?}");
    assert!(errors[0].starts_with("session-spacing: "), "{errors:?}");
    assert!(errors[0].contains(date), "the finding names the session of {date}: {errors:?}");
}

/// A patient's recorded sessions as a set of (plan id, date).
fn recorded(site: &Site, patient: &str) -> BTreeSet<(String, String)> {
    site.sessions_of(patient).into_iter().collect()
}

fn pair(plan_id: &str, date: &str) -> (String, String) {
    (plan_id.to_string(), date.to_string())
}

/// The plan alone, without a history, passes: what fails it later is the
/// history and nothing in the plan itself.
#[track_caller]
fn passes_alone(text: &str) {
    let run =
        check_support::run(["check", "--format", "json", "-"], Some(text.as_bytes().to_vec()));
    assert_eq!(run.verdict()["verdict"], "pass", "{}", run.stdout);
}

#[test]
fn a_passed_plans_prior_sessions_enter_the_history_and_catch_a_later_plan() {
    let mut site = Site::new();
    let daemon = site.start(&[]);

    // Plan A of patient W: a prior session on 2027-01-10, planned 2027-02-10.
    let a = plan_with_prior("PLN-A", "PAT-W", "2027-02-10", json!([{ "date": "2027-01-10" }]));
    let record = site.judge("a.json", &a);
    assert_eq!(record["verdict"], "pass", "{:?}", errors(&record));
    // A prior session that names no plan is recorded under the plan listing it.
    assert_eq!(
        recorded(&site, "PAT-W"),
        BTreeSet::from([pair("PLN-A", "2027-01-10"), pair("PLN-A", "2027-02-10")])
    );

    // Plan B of W on 2026-12-20: less than a month before A's prior session.
    let b = plan_on("PLN-B", "PAT-W", "2026-12-20");
    passes_alone(&b);
    assert_too_close_to(&site.judge("b.json", &b), "2027-01-10");
    assert!(daemon.terminate().success());
}

#[test]
fn a_prior_session_naming_a_plan_is_recorded_under_that_plan_and_never_judged_against_it() {
    let mut site = Site::new();
    let daemon = site.start(&[]);

    // Plan C lists the session of 2027-01-10 as one of plan PLN-OLD.
    let prior = json!([{ "date": "2027-01-10", "plan_id": "PLN-OLD" }]);
    let c = plan_with_prior("PLN-C", "PAT-X", "2027-02-10", prior);
    let record = site.judge("c.json", &c);
    assert_eq!(record["verdict"], "pass", "{:?}", errors(&record));
    assert_eq!(
        recorded(&site, "PAT-X"),
        BTreeSet::from([pair("PLN-OLD", "2027-01-10"), pair("PLN-C", "2027-02-10")])
    );

    // PLN-OLD itself, re-dated to 2027-01-05: five days from its own
    // recorded session (not judged against it) and more than a month
    // before C's 2027-02-10. Were the prior session recorded under PLN-C,
    // this plan would fail.
    let old = plan_on("PLN-OLD", "PAT-X", "2027-01-05");
    let record = site.judge("old.json", &old);
    assert_eq!(record["verdict"], "pass", "{:?}", errors(&record));

    // Another plan on 2027-02-20 is too close to C's 2027-02-10 (and a
    // month or more after 2027-01-05 and 2027-01-10).
    let d = plan_on("PLN-D", "PAT-X", "2027-02-20");
    assert_too_close_to(&site.judge("d.json", &d), "2027-02-10");
    assert!(daemon.terminate().success());
}

#[test]
fn patient_ids_are_compared_as_names() {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    let first = site.judge("first.json", &plan_on("PLN-1", "PAT-W ", "2027-01-10"));
    assert_eq!(first["verdict"], "pass", "{:?}", errors(&first));

    // "pat-w" and "PAT-W " are one patient: ten days apart is too close.
    let second = plan_on("PLN-2", "pat-w", "2027-01-20");
    passes_alone(&second);
    assert_too_close_to(&site.judge("second.json", &second), "2027-01-10");

    let third = plan_on("PLN-3", "\u{a0}Pat-W\t", "2027-01-25");
    assert_too_close_to(&site.judge("third.json", &third), "2027-01-10");

    // `embolint history` finds the patient under any spelling.
    assert_eq!(recorded(&site, "pat-w"), BTreeSet::from([pair("PLN-1", "2027-01-10")]));
    assert_eq!(recorded(&site, "PAT-W"), recorded(&site, "pat-w"));
    assert!(daemon.terminate().success());
}

#[test]
fn plan_ids_are_compared_exactly() {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    let first = site.judge("first.json", &plan_on("PLN-Z", "PAT-Z", "2027-01-10"));
    assert_eq!(first["verdict"], "pass", "{:?}", errors(&first));

    // "pln-z" and "PLN-Z " are other plans of the patient, not revisions of
    // PLN-Z: they are judged against its session.
    for (name, plan_id) in [("lower.json", "pln-z"), ("spaced.json", "PLN-Z ")] {
        let other = plan_on(plan_id, "PAT-Z", "2027-01-20");
        assert_too_close_to(&site.judge(name, &other), "2027-01-10");
    }
    assert_eq!(recorded(&site, "PAT-Z"), BTreeSet::from([pair("PLN-Z", "2027-01-10")]));
    assert!(daemon.terminate().success());
}

#[test]
fn a_revision_replaces_exactly_the_rows_its_own_file_recorded() {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    // E lists a prior session of PLN-OLD; PLN-OLD then passes on its own.
    let prior = json!([{ "date": "2027-01-10", "plan_id": "PLN-OLD" }]);
    let e = plan_with_prior("PLN-E", "PAT-R", "2027-03-10", prior);
    assert_eq!(site.judge("e.json", &e)["verdict"], "pass");
    let old = plan_on("PLN-OLD", "PAT-R", "2027-01-12");
    assert_eq!(site.judge("old.json", &old)["verdict"], "pass");
    // PLN-OLD's own revision replaces its own row, not the one E recorded.
    let old2 = plan_on("PLN-OLD", "PAT-R", "2027-01-11");
    assert_eq!(site.judge("old2.json", &old2)["verdict"], "pass");
    assert_eq!(
        recorded(&site, "PAT-R"),
        BTreeSet::from([
            pair("PLN-OLD", "2027-01-10"),
            pair("PLN-OLD", "2027-01-11"),
            pair("PLN-E", "2027-03-10")
        ])
    );
    // A revision of E without the prior session takes E's rows away, PLN-OLD's stay.
    let e2 = plan_on("PLN-E", "PAT-R", "2027-03-11");
    assert_eq!(site.judge("e2.json", &e2)["verdict"], "pass");
    assert_eq!(
        recorded(&site, "PAT-R"),
        BTreeSet::from([pair("PLN-OLD", "2027-01-11"), pair("PLN-E", "2027-03-11")])
    );
    // A failing revision of E (too close to PLN-OLD's session) leaves E in force.
    let e3 = plan_on("PLN-E", "PAT-R", "2027-01-20");
    assert_eq!(site.judge("e3.json", &e3)["verdict"], "fail");
    assert!(recorded(&site, "PAT-R").contains(&pair("PLN-E", "2027-03-11")));
    assert!(daemon.terminate().success());
}

#[test]
fn prior_sessions_come_back_the_same_when_the_history_is_rebuilt_from_the_log() {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    let prior = json!([{ "date": "2027-01-10", "plan_id": "PLN-OLD" }, { "date": "2026-12-01" }]);
    let f = plan_with_prior("PLN-F", "PAT-Q ", "2027-02-10", prior);
    assert_eq!(site.judge("f.json", &f)["verdict"], "pass");
    assert!(daemon.terminate().success());
    let before = site.history_in_db();
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].prior_sessions.len(), 2, "{before:?}");
    assert_eq!(before, site.history_from_log(), "the log holds the same rows");
    let before_sessions = recorded(&site, "pat-q");
    assert_eq!(before_sessions.len(), 3, "{before_sessions:?}");

    let db = site.history_db();
    std::fs::remove_file(&db).unwrap();
    for companion in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{companion}", db.display()));
    }
    let root = site.root();
    let rebuilt = site.run(&["history", "--rebuild", "--root", root.to_str().unwrap()]);
    assert!(rebuilt.status.success(), "{}", String::from_utf8_lossy(&rebuilt.stderr));
    assert_eq!(site.history_in_db(), before, "the same rows, prior sessions included");
    assert_eq!(recorded(&site, "PAT-Q"), before_sessions);
}
