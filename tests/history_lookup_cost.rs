//! What a patient history costs per plan, against a history of 100,000
//! sessions for 10,000 patients (50,000 plans of two sessions each).
//! Measured, not asserted (no timing asserts): run it with
//!
//! ```sh
//! cargo test --release --test tests history_lookup_cost:: -- --ignored --nocapture
//! ```

use crate::util;

use embolint::check::{check, PlanFile};
use embolint::history::{History, RecordedPlan};
use embolint::rules::RuleSet;
use std::path::Path;
use std::time::{Duration, Instant};
use util::{plan_on, Site};

const PATIENTS: usize = 10_000;
const PLANS_PER_PATIENT: usize = 5;
const PLANS_CHECKED: usize = 2_000;

/// Fills a history: each patient has five plans of two sessions, a month
/// apart, in 2024–2025.
fn fill(path: &Path) {
    let history = History::open(path).unwrap();
    history.begin().unwrap();
    for patient in 0..PATIENTS {
        for plan in 0..PLANS_PER_PATIENT {
            let first = jiff::civil::date(2024, 1, 10);
            let sessions = (0..2)
                .map(|i| {
                    let months = jiff::Span::new().months(2 * plan as i64 + i as i64);
                    (i, Some(i as u64 + 1), first.checked_add(months).unwrap())
                })
                .collect();
            history
                .put(&RecordedPlan {
                    plan_id: format!("PLN-{patient}-{plan}"),
                    patient_id: format!("PAT-{patient}"),
                    file_sha256: format!("{:064}", patient * 10 + plan),
                    recorded_at: "2025-01-01T00:00:00Z".parse().unwrap(),
                    rule_set_sha256: "0".repeat(64),
                    decision_key: format!("fill {patient} {plan}"),
                    sessions,
                    prior_sessions: Vec::new(),
                })
                .unwrap();
        }
    }
    history.commit().unwrap();
}

/// Plans of existing patients (spread over all of them), on a free date.
fn plans() -> Vec<Vec<u8>> {
    (0..PLANS_CHECKED)
        .map(|i| {
            let patient = (i * 4_999) % PATIENTS;
            plan_on(&format!("PLN-NEW-{i}"), &format!("PAT-{patient}"), "2026-11-05").into_bytes()
        })
        .collect()
}

fn per_plan(total: Duration) -> f64 {
    total.as_secs_f64() * 1e6 / PLANS_CHECKED as f64
}

#[test]
#[ignore = "a measurement: run with --release --ignored --nocapture"]
fn lookup_cost_against_100000_sessions_of_10000_patients() {
    let mut site = Site::new();
    std::fs::create_dir_all(site.root().join("state")).unwrap();
    let db = site.history_db();
    let started = Instant::now();
    fill(&db);
    let filled = started.elapsed();
    let size = std::fs::metadata(&db).unwrap().len();
    let rules = RuleSet::builtin().unwrap();
    let plans = plans();

    // The library, as `check --history` and the daemon call it.
    let history = History::open_read_only(&db).unwrap();
    assert_eq!(history.sessions_of("PAT-17").unwrap().len(), 2 * PLANS_PER_PATIENT);
    let started = Instant::now();
    for (i, bytes) in plans.iter().enumerate() {
        let name = format!("{i}.json");
        let checked = check(PlanFile::new(&name, bytes), &rules, Some(&history)).unwrap();
        assert_eq!(checked.verdict.verdict, embolint::verdict::Outcome::Pass);
    }
    let with_history = started.elapsed();
    let started = Instant::now();
    for (i, bytes) in plans.iter().enumerate() {
        check(PlanFile::new(&format!("{i}.json"), bytes), &rules, None).unwrap();
    }
    let without_history = started.elapsed();
    drop(history);

    // The real daemon, judging the same plans against the same database.
    for (i, bytes) in plans.iter().enumerate() {
        site.write(&format!("new-{i:04}.json"), std::str::from_utf8(bytes).unwrap());
    }
    let started = Instant::now();
    let daemon = site.start(&[]);
    site.wait_for_records(PLANS_CHECKED);
    util::wait_until("all placed", || site.placed() == PLANS_CHECKED);
    let daemon_total = started.elapsed();
    assert!(daemon.terminate().success());
    let mut judging: Vec<u64> =
        site.records().iter().map(|r| r["watch"]["elapsed_us"].as_u64().unwrap()).collect();
    judging.sort_unstable();
    assert!(site.records().iter().all(|r| r["verdict"] == "pass"));

    println!(
        "history: {PATIENTS} patients, {} plans, {} sessions; filled in {filled:.2?}; {:.1} MiB",
        PATIENTS * PLANS_PER_PATIENT,
        PATIENTS * PLANS_PER_PATIENT * 2,
        size as f64 / 1048576.0
    );
    println!(
        "check with the history: {:.1} µs per plan (without: {:.1} µs; the history adds {:.1} µs)",
        per_plan(with_history),
        per_plan(without_history),
        per_plan(with_history.saturating_sub(without_history))
    );
    println!(
        "daemon: {PLANS_CHECKED} plans in {daemon_total:.2?} from start-up to placed ({:.2} ms per plan, syncs included); read + judge per plan: median {} µs, 99th percentile {} µs",
        daemon_total.as_secs_f64() * 1e3 / PLANS_CHECKED as f64,
        judging[judging.len() / 2],
        judging[judging.len() * 99 / 100]
    );
}
