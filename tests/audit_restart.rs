//! The chain of the decision log goes on across everything that writes it:
//! clean restarts, withdrawals with and without a daemon, a kill -9 at each
//! step of a batch or of a withdrawal (a torn last record included), and
//! kills during a burst. After each, `embolint verify-log` finds it intact,
//! with every line numbered in order. It can also be run while the daemon
//! writes.

use crate::util;

use std::os::unix::process::ExitStatusExt;
use util::{drop_in_background, fail_plan, pass_plan, plan_on, wait_until, Site};

/// `embolint verify-log ROOT`: exit code and everything printed.
fn verify(site: &Site) -> (i32, String) {
    let output = site.run(&["verify-log", site.root().to_str().unwrap()]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap(), text)
}

/// `embolint history --forget PLAN --by "Dr. Audit" --root ROOT`, which
/// must succeed.
fn forget(site: &Site, plan: &str) {
    let root = site.root();
    let args =
        ["history", "--forget", plan, "--by", "Dr. Audit", "--reason", "cancelled", "--root"];
    let output = site.run(&[&args[..], &[root.to_str().unwrap()]].concat());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

/// Asserts the log verifies, and that its `seq` are exactly 1..=lines.
fn assert_intact(site: &Site, what: &str) {
    let (code, out) = verify(site);
    assert_eq!(code, 0, "{what}: {out}");
    let text = std::fs::read_to_string(site.root().join("log/decisions.jsonl")).unwrap();
    let seqs: Vec<u64> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(seqs, expected, "{what}");
}

#[test]
fn the_chain_goes_on_across_restarts_and_withdrawals_with_and_without_a_daemon() {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    site.judge("a.json", &plan_on("PLN-A", "PAT-A", "2026-11-05"));
    site.judge("b.json", &plan_on("PLN-B", "PAT-B", "2026-11-05"));
    assert!(daemon.terminate().success());
    assert_intact(&site, "first run");

    // Withdrawn with no daemon running: `history --forget` writes the log.
    forget(&site, "PLN-A");
    assert_intact(&site, "after a withdrawal without a daemon");

    let daemon = site.start(&[]);
    site.judge("c.json", &fail_plan("PLN-C"));
    forget(&site, "PLN-B");
    site.judge("d.json", &pass_plan("PLN-D"));
    assert!(daemon.terminate().success());
    assert_eq!(site.events().len(), 2);
    assert_eq!(site.records().len(), 4);
    assert_intact(&site, "after a second run with a withdrawal through the daemon");
}

#[test]
fn a_crash_at_each_step_of_a_batch_leaves_a_chain_that_verifies_after_recovery() {
    let steps = ["torn-log", "after-log", "after-history", "after-sidecars", "mid-moves"];
    for step in steps {
        let mut site = Site::new();
        let names: Vec<String> = (0..20).map(|i| format!("plan-{i:02}.json")).collect();
        for (i, name) in names.iter().enumerate() {
            site.write(name, &pass_plan(&format!("PLN-{i}")));
        }
        let failpoint = format!("{step}:3");
        let crashing =
            site.spawn(&["--batch-size", "4"], &[("EMBOLINT_WATCH_FAILPOINT", &failpoint)]);
        let status = crashing.wait_exit();
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{step}: the failpoint did not fire");
        if step == "torn-log" {
            let (code, out) = verify(&site);
            assert_eq!(code, 1, "{step}: a torn record is reported: {out}");
            assert!(out.contains("is incomplete") && out.contains("start the daemon"), "{out}");
        }

        let daemon = site.start(&["--batch-size", "4"]);
        wait_until("every plan placed", || site.placed() == names.len());
        assert!(daemon.terminate().success());
        site.assert_each_once(&names);
        assert_intact(&site, step);
    }
}

#[test]
fn a_crash_during_a_withdrawal_leaves_a_chain_that_verifies() {
    for step in ["after-forget-log", "after-forget-history"] {
        let mut site = Site::new();
        let failpoint = format!("{step}:1");
        let mut daemon = site.start_with_env(&[], &[("EMBOLINT_WATCH_FAILPOINT", &failpoint)]);
        site.judge("a.json", &plan_on("PLN-A", "PAT-P", "2026-11-05"));
        let asking = site.spawn_forget("PLN-A", "Dr. Audit");
        let status = daemon.wait_exit();
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{step}: the failpoint did not fire");
        daemon = site.start(&[]);
        assert!(asking.wait_with_output().unwrap().status.success(), "{step}");
        site.judge("b.json", &plan_on("PLN-B", "PAT-P", "2026-12-05"));
        assert!(daemon.terminate().success());
        assert_eq!(site.events().len(), 1, "{step}");
        assert_intact(&site, step);
    }
}

#[test]
fn kill_9_during_a_burst_then_recovery_leaves_a_chain_that_verifies_and_it_verifies_while_running()
{
    let mut site = Site::new();
    let names: Vec<String> = (0..400).map(|i| format!("burst-{i:03}.json")).collect();
    let plans =
        names.iter().enumerate().map(|(i, name)| (name.clone(), pass_plan(&format!("PLN-K-{i}"))));
    let dropper = drop_in_background(site.inbox(), plans.collect(), 50);
    for (threshold, batch_size) in [(1, "16"), (100, "1"), (220, "8")] {
        let daemon = site.start(&["--batch-size", batch_size]);
        site.wait_for_records(threshold);
        // Checked while the daemon appends: never a false alarm.
        let (code, out) = verify(&site);
        assert_eq!(code, 0, "verified while running: {out}");
        daemon.kill9();
    }
    dropper.join().unwrap();
    let daemon = site.start(&[]);
    wait_until("every plan placed", || site.placed() == names.len());
    assert!(daemon.terminate().success());
    site.assert_each_once(&names);
    assert_intact(&site, "after kills during a burst");
}
