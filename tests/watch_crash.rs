//! A kill -9 at any instant loses nothing and duplicates nothing: after a
//! restart every plan has exactly one decision record and sits in exactly
//! one outcome folder, and nothing is left in the inbox.
//!
//! The failpoint test crashes the daemon at each step of a batch (it sends
//! itself SIGKILL there); the burst test kills it from outside at moments
//! that land wherever they land.

use crate::util;

use std::os::unix::process::ExitStatusExt;
use util::{drop_in_background, fail_plan, pass_plan, wait_until, Site};

/// The steps of a batch where the failpoint can crash the daemon.
const STEPS: [&str; 5] = ["torn-log", "after-log", "after-sidecars", "mid-moves", "after-moves"];

#[test]
fn a_crash_at_each_step_of_a_batch_is_recovered_exactly_once() {
    for step in STEPS {
        let mut site = Site::new();
        let names: Vec<String> = (0..40).map(|i| format!("plan-{i:02}.json")).collect();
        for (i, name) in names.iter().enumerate() {
            let text = if i % 3 == 0 {
                fail_plan(&format!("PLN-{i}"))
            } else {
                pass_plan(&format!("PLN-{i}"))
            };
            site.write(name, &text);
        }
        let failpoint = format!("{step}:3");
        let crashing =
            site.spawn(&["--batch-size", "8"], &[("EMBOLINT_WATCH_FAILPOINT", &failpoint)]);
        let status = crashing.wait_exit();
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{step}: the failpoint did not fire");
        let log = std::fs::read_to_string(site.root().join("log/decisions.jsonl")).unwrap();
        let lines = log.matches('\n').count();
        if step == "torn-log" {
            assert_eq!(lines, 23, "two batches and 7 records of the third, then half a record");
            assert!(!log.ends_with('\n'), "the last record is not torn");
        } else {
            assert_eq!(lines, 24, "{step}: the third batch's records are on disk");
        }
        if step == "after-sidecars" {
            // Written and synced under temporary names, none named yet.
            assert_eq!(site.verdicts_being_written().len(), 16, "two verdict files per plan");
        }

        let daemon = site.start(&["--batch-size", "8"]);
        let start_up = &daemon.log_lines("embolint watch started")[0]["fields"];
        let finished = match step {
            "torn-log" => 7,
            "after-log" | "after-sidecars" => 8,
            "mid-moves" => 7,
            _ => 0,
        };
        assert_eq!(start_up["recovered_moves"], finished, "{step}: moves finished from records");
        wait_until("every plan placed", || site.placed() == names.len());
        assert!(daemon.terminate().success());
        site.assert_each_once(&names);
        site.assert_inbox_has_no_plans();
        site.assert_no_verdict_being_written();
    }
}

#[test]
fn kill_9_at_several_moments_of_a_burst_loses_and_duplicates_nothing() {
    let mut site = Site::new();
    let names: Vec<String> = (0..1000).map(|i| format!("burst-{i:04}.json")).collect();
    let plans =
        names.iter().enumerate().map(|(i, name)| (name.clone(), pass_plan(&format!("PLN-K-{i}"))));
    let dropper = drop_in_background(site.inbox(), plans.collect(), 100);
    for (threshold, batch_size) in [(1, "64"), (150, "4"), (400, "1"), (650, "16")] {
        let daemon = site.start(&["--batch-size", batch_size]);
        site.wait_for_records(threshold);
        daemon.kill9();
    }
    dropper.join().unwrap();
    let daemon = site.start(&[]);
    wait_until("every plan placed", || site.placed() == names.len());
    assert!(daemon.terminate().success());
    site.assert_each_once(&names);
    site.assert_inbox_has_no_plans();
    site.assert_no_verdict_being_written();
}
