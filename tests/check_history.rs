//! `embolint check --history DB` (SPEC §5): session spacing also against the
//! sessions of the patient's other plans that passed earlier, never against
//! an earlier version of the same plan, and never across patients. The
//! database is written with the library's history store, as the daemon
//! writes it, then read by the real binary.

use crate::check_support;

use check_support::{findings_of, rule_ids, run, spec_example, write_plan, Run};
use embolint::history::{History, RecordedPlan};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// The SPEC example: patient PAT-0007, plan PLN-2026-0042, a prior session on
/// 2026-10-05 and the planned one on 2026-11-05.
fn example(dir: &Path) -> PathBuf {
    write_plan(dir, "plan.json", &spec_example())
}

/// A history database holding one passed plan per `(plan, patient, date)`.
fn history(dir: &Path, plans: &[(&str, &str, &str)]) -> PathBuf {
    let path = dir.join("history.sqlite");
    let mut history = History::open(&path).unwrap();
    for (i, (plan_id, patient_id, date)) in plans.iter().enumerate() {
        history
            .record(&RecordedPlan {
                plan_id: plan_id.to_string(),
                patient_id: patient_id.to_string(),
                file_sha256: format!("{i:064}"),
                recorded_at: "2026-09-01T08:00:00Z".parse().unwrap(),
                rule_set_sha256: "0".repeat(64),
                decision_key: format!("decision-{i}"),
                sessions: vec![(0, Some(1), date.parse().unwrap())],
                prior_sessions: Vec::new(),
            })
            .unwrap();
    }
    path
}

fn check_with_history(db: &Path, plan: &Path) -> Run {
    let args = ["check".as_ref(), "--format".as_ref(), "json".as_ref(), "--history".as_ref()];
    let args: Vec<&std::ffi::OsStr> =
        args.into_iter().chain([db.as_os_str(), plan.as_os_str()]).collect();
    run(args, None)
}

/// The verdict's error rule ids and the exit code.
fn judged(plans: &[(&str, &str, &str)]) -> (Vec<String>, Option<i32>, serde_json::Value) {
    let dir = TempDir::new().unwrap();
    let db = history(dir.path(), plans);
    let run = check_with_history(&db, &example(dir.path()));
    let verdict = run.verdict();
    (rule_ids(&verdict, "error"), run.code, verdict)
}

#[test]
fn another_plan_of_the_patient_too_close_fails() {
    let (errors, code, verdict) = judged(&[("PLN-2026-0050", "PAT-0007", "2026-10-20")]);
    assert_eq!(errors, ["session-spacing"], "{verdict}");
    assert_eq!(code, Some(1));
    let found = findings_of(&verdict, "session-spacing");
    let text = found[0].to_string();
    assert!(text.contains("PLN-2026-0050"), "names the other plan: {text}");
    assert!(text.contains("2026-10-20"), "names the other session's date: {text}");
}

#[test]
fn another_plan_of_the_patient_a_month_later_passes_a_day_less_fails() {
    let (errors, code, _) = judged(&[("PLN-2026-0060", "PAT-0007", "2026-12-05")]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(code, Some(0));
    let (errors, code, _) = judged(&[("PLN-2026-0060", "PAT-0007", "2026-12-04")]);
    assert_eq!(errors, ["session-spacing"]);
    assert_eq!(code, Some(1));
}

#[test]
fn an_earlier_version_of_the_same_plan_is_not_judged_against() {
    let (errors, code, verdict) = judged(&[("PLN-2026-0042", "PAT-0007", "2026-11-03")]);
    assert!(errors.is_empty(), "a revision replaces its earlier version: {verdict}");
    assert_eq!(code, Some(0));
}

#[test]
fn another_patients_plan_on_the_same_day_does_not_count() {
    let (errors, code, _) = judged(&[("PLN-2026-0077", "PAT-0099", "2026-11-05")]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(code, Some(0));
}

#[test]
fn the_recorded_prior_session_itself_passes() {
    // The prior session of 2026-10-05 is also in the history, as plan PLN-2026-0031.
    let (errors, code, _) = judged(&[("PLN-2026-0031", "PAT-0007", "2026-10-05")]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(code, Some(0));
}

#[test]
fn a_recorded_session_close_to_a_prior_session_only_is_not_judged() {
    // Both are in the past: the past cannot be re-planned.
    let (errors, code, _) = judged(&[("PLN-2026-0020", "PAT-0007", "2026-09-30")]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(code, Some(0));
}

#[test]
fn without_history_the_same_plan_passes() {
    let dir = TempDir::new().unwrap();
    let _db = history(dir.path(), &[("PLN-2026-0050", "PAT-0007", "2026-10-20")]);
    let plan = example(dir.path());
    let run = run(["check".as_ref(), "--format".as_ref(), "json".as_ref(), plan.as_os_str()], None);
    assert_eq!(run.code, Some(0), "history is read only when asked for");
}

#[test]
fn a_missing_history_database_exits_3_naming_it() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("no-such-history.sqlite");
    let run = check_with_history(&db, &example(dir.path()));
    assert_eq!(run.code, Some(3), "stdout: {}", run.stdout);
    assert!(run.stderr.contains("no-such-history.sqlite"), "stderr: {}", run.stderr);
    assert!(!db.exists(), "a read-only check must not create the database");
}

#[test]
fn a_damaged_history_database_exits_3_naming_it() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("damaged.sqlite");
    std::fs::write(&db, b"this is not an SQLite database, it is a note").unwrap();
    let run = check_with_history(&db, &example(dir.path()));
    assert_eq!(run.code, Some(3), "stdout: {}", run.stdout);
    assert!(run.stderr.contains("damaged.sqlite"), "stderr: {}", run.stderr);
}
