//! A kill -9 between recording a batch's decisions and finishing it, at
//! each step, leaves the decision log and the patient history agreeing
//! after a restart: a plan's record and its history rows are both there,
//! or the plan is judged again and ends with both. The same for a
//! withdrawal: its event and the deleted rows, exactly once.

use crate::util;

use std::os::unix::process::ExitStatusExt;
use util::{drop_in_background, plan_on, wait_until, Site};

/// The steps of a batch where the failpoint can crash the daemon, and
/// whether the history holds the batch's rows at the crash. The last three
/// are on the thread that places the batch, which starts once the records
/// are synced, while the loop moves the audit key on and commits the
/// history: the loop is held at `placing` (before that commit), so they
/// crash with the plans placed (some, or all) and the history not yet
/// holding them — the interleaving a kill -9 can land in.
const STEPS: [(&str, bool); 6] = [
    ("torn-log", false),
    ("after-log", false),
    ("after-history", true),
    ("after-sidecars", false),
    ("mid-moves", false),
    ("after-moves", false),
];

/// The steps on the placing thread (see [`STEPS`]).
const PLACER_STEPS: [&str; 3] = ["after-sidecars", "mid-moves", "after-moves"];

/// Plans of six patients in four rounds: the first passes, the second is
/// two weeks later (fails), the third a month after the first (passes),
/// the fourth revises the first (same plan id, later date; passes). So
/// every batch both reads and writes the history.
fn rounds() -> Vec<(String, String)> {
    let dates = ["2026-01-05", "2026-01-19", "2026-02-05", "2026-03-10"];
    (0..24)
        .map(|i| {
            let (round, patient) = (i / 6, i % 6);
            let plan_id = if round == 3 { format!("PLN-{patient}") } else { format!("PLN-{i}") };
            let text = plan_on(&plan_id, &format!("PAT-{patient}"), dates[round]);
            (format!("plan-{i:02}.json"), text)
        })
        .collect()
}

#[test]
fn a_crash_at_each_step_of_a_batch_leaves_log_and_history_agreeing_after_restart() {
    for (step, committed) in STEPS {
        let mut site = Site::new();
        let plans = rounds();
        for (name, text) in &plans {
            site.write(name, text);
        }
        let failpoint = format!("{step}:4");
        let held = site.dir.path().join("held");
        let hold = format!("placing:4:{}", held.display());
        let mut env = vec![("EMBOLINT_WATCH_FAILPOINT", failpoint.as_str())];
        if PLACER_STEPS.contains(&step) {
            env.push(("EMBOLINT_WATCH_PAUSE", &hold));
        }
        let crashing = site.spawn(&["--batch-size", "4"], &env);
        let status = crashing.wait_exit();
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{step}: the failpoint did not fire");

        // Where the crash landed: between the records (all, or all but a
        // torn last one) and the history commit, the history lacks the
        // fourth batch's passed plans, placed or not; from the commit on,
        // it holds them.
        let passed_in_fourth_batch = site
            .records()
            .iter()
            .filter(|r| r["watch"]["batch"] == 4 && r["verdict"] == "pass")
            .count();
        assert!(step == "torn-log" || passed_in_fourth_batch > 0, "{step}: nothing to record");
        let agrees = site.history_in_db() == site.history_from_log();
        assert_eq!(agrees, committed, "{step}: the crash landed elsewhere");
        if step == "after-moves" {
            assert!(site.every_record_placed(), "{step}: the fourth batch is placed");
        }

        let daemon = site.start(&["--batch-size", "4"]);
        wait_until("every plan placed", || site.placed() == plans.len());
        assert!(daemon.terminate().success());
        let names: Vec<String> = plans.iter().map(|(name, _)| name.clone()).collect();
        site.assert_each_once(&names);
        site.assert_history_agrees_with_log();
        let verdicts: Vec<String> =
            site.records().iter().map(|r| r["verdict"].as_str().unwrap().to_string()).collect();
        assert_eq!(verdicts.iter().filter(|v| *v == "fail").count(), 6, "{step}: {verdicts:?}");
    }
}

#[test]
fn a_crash_during_a_withdrawal_finishes_it_exactly_once_after_restart() {
    for step in ["after-forget-log", "after-forget-history"] {
        let mut site = Site::new();
        let failpoint = format!("{step}:1");
        let mut daemon = site.start_with_env(&[], &[("EMBOLINT_WATCH_FAILPOINT", &failpoint)]);
        assert_eq!(
            site.judge("a.json", &plan_on("PLN-A", "PAT-P", "2026-11-05"))["verdict"],
            "pass"
        );

        // The operator's command waits for the daemon's answer meanwhile.
        let root = site.root();
        let asking = site.spawn_forget("PLN-A", "Dr. Who");
        let status = daemon.wait_exit();
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{step}: the failpoint did not fire");
        assert_eq!(site.events().len(), 1, "{step}: the event is logged before the crash");
        let agrees = site.history_in_db() == site.history_from_log();
        assert_eq!(agrees, step != "after-forget-log", "{step}: the crash landed elsewhere");

        daemon = site.start(&[]);
        let answer = asking.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&answer.stdout);
        assert_eq!(
            answer.status.code(),
            Some(0),
            "{step}: {stdout}{}",
            String::from_utf8_lossy(&answer.stderr)
        );
        assert!(stdout.contains("withdrawn") && stdout.contains("Dr. Who"), "{step}: {stdout}");
        assert!(daemon.terminate().success());
        assert_eq!(site.events().len(), 1, "{step}: the withdrawal is logged once");
        site.assert_history_agrees_with_log();
        assert!(site.history_in_db().is_empty(), "{step}");
        let left: Vec<_> = std::fs::read_dir(root.join("state/requests")).unwrap().collect();
        assert!(left.is_empty(), "{step}: request or answer files left: {left:?}");
    }
}

#[test]
fn kill_9_at_several_moments_of_a_burst_of_related_plans_keeps_log_and_history_agreeing() {
    let mut site = Site::new();
    // 40 patients, each with plans two weeks apart: about half pass.
    let days = [
        "2026-01-05",
        "2026-01-19",
        "2026-02-02",
        "2026-02-16",
        "2026-03-02",
        "2026-03-16",
        "2026-03-30",
    ];
    let plans: Vec<(String, String)> = (0..280)
        .map(|i| {
            let text = plan_on(&format!("PLN-K-{i}"), &format!("PAT-{}", i % 40), days[i / 40]);
            (format!("burst-{i:03}.json"), text)
        })
        .collect();
    let dropper = drop_in_background(site.inbox(), plans.clone(), 40);
    for (threshold, batch_size) in [(1, "16"), (60, "4"), (130, "1"), (200, "8")] {
        let daemon = site.start(&["--batch-size", batch_size]);
        site.wait_for_records(threshold);
        daemon.kill9();
    }
    dropper.join().unwrap();
    let daemon = site.start(&[]);
    wait_until("every plan placed", || site.placed() == plans.len());
    assert!(daemon.terminate().success());
    let names: Vec<String> = plans.iter().map(|(name, _)| name.clone()).collect();
    site.assert_each_once(&names);
    site.assert_history_agrees_with_log();
    let passed = site.names_in("passed").len();
    assert!(passed > 0 && passed < plans.len(), "both verdicts occur: {passed} passed");
}
