//! The daemon's memory is bounded, not proportional to a burst: it tracks
//! at most a fixed number of plans and queues at most a fixed number of
//! file-system hints; past those bounds, plans are found by listing the
//! inbox again, oldest first. Nothing is lost or judged twice past the
//! bounds, and a revision is still judged after the version it revises.
//!
//! `EMBOLINT_WATCH_SMALL_BOUNDS=1` shrinks the bounds (32 plans tracked, 16
//! hints queued, instead of 16,384 and 4,096), so a few hundred plans go
//! past them.

use crate::util;

use std::time::{Duration, UNIX_EPOCH};
use util::{pass_plan, plan_on, Site};

/// The environment that shrinks the bounds.
const SMALL_BOUNDS: [(&str, &str); 1] = [("EMBOLINT_WATCH_SMALL_BOUNDS", "1")];

#[test]
fn a_burst_far_past_both_bounds_gets_one_record_per_plan() {
    let mut site = Site::new();
    let mut daemon = site.start_with_env(&["--log-level", "debug"], &SMALL_BOUNDS);
    let names: Vec<String> = (0..600).map(|i| format!("burst-{i:03}.json")).collect();
    let texts: Vec<String> = (0..600).map(|i| pass_plan(&format!("PLN-BOUND-{i}"))).collect();
    let inbox = site.inbox();
    for (name, text) in names.iter().zip(&texts) {
        std::fs::write(inbox.join(format!(".{name}.tmp")), text).unwrap();
    }
    for name in &names {
        std::fs::rename(inbox.join(format!(".{name}.tmp")), inbox.join(name)).unwrap();
    }
    site.wait_for_records(names.len());
    daemon.wait_for_log("inbox listed");
    let past_the_bound = daemon
        .log_lines("inbox listed")
        .iter()
        .any(|line| line["fields"]["untracked"] == serde_json::Value::Bool(true));
    let hints_dropped = !daemon.log_lines("too many file-system hints queued").is_empty();
    assert!(daemon.terminate().success());
    assert!(past_the_bound, "no listing met more plans than it could track");
    assert!(hints_dropped, "no hint was dropped");
    site.assert_each_once(&names);
    site.assert_inbox_has_no_plans();
}

#[test]
fn past_the_bound_a_revision_is_still_judged_after_the_version_it_revises() {
    let mut site = Site::new();
    let inbox = site.inbox();
    let plans = 100;
    let mut names = Vec::new();
    // Plans 0..plans, modified in that order; pair k's first version is
    // plan 10 + k, its revision plan 70 + k (names in the other order).
    for i in 0..plans {
        let (name, text) = match i {
            10..=13 => (
                format!("rev-{}-z.json", i - 10),
                plan_on(&pair(i - 10), &patient(i - 10), "2026-12-01"),
            ),
            70..=73 => (
                format!("rev-{}-a.json", i - 70),
                plan_on(&pair(i - 70), &patient(i - 70), "2027-01-15"),
            ),
            _ => (format!("other-{i:03}.json"), pass_plan(&format!("PLN-OTHER-{i}"))),
        };
        let path = inbox.join(&name);
        std::fs::write(&path, text).unwrap();
        let mtime = UNIX_EPOCH + Duration::from_secs(1_700_000_000 + i);
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(mtime).unwrap();
        names.push(name);
    }
    let daemon = site.start_with_env(&["--settle-millis", "0"], &SMALL_BOUNDS);
    site.wait_for_records(names.len());
    assert!(daemon.terminate().success());
    site.assert_each_once(&names);

    let order: Vec<String> = site
        .records()
        .iter()
        .map(|r| r["watch"]["inbox_name"].as_str().unwrap().to_string())
        .collect();
    let at = |name: &str| order.iter().position(|n| n == name).unwrap();
    for k in 0..4 {
        let (first, revision) = (format!("rev-{k}-z.json"), format!("rev-{k}-a.json"));
        assert!(at(&first) < at(&revision), "{revision} judged before {first}: {order:?}");
        let kept = site.sessions_of(&patient(k));
        assert_eq!(kept, [(pair(k), "2027-01-15".into())], "the history must hold the revision");
    }
}

/// The patient of revision pair `k`.
fn patient(k: u64) -> String {
    format!("PAT-REV-{k}")
}

/// The plan id of revision pair `k`.
fn pair(k: u64) -> String {
    format!("PLN-REV-{k}")
}
