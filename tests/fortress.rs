//! Issue 11, "the root as a fortress": one regression test per defect a
//! fault-injection review found, each through the real binary. Each failed
//! on the code before its fix.
//!
//! 1. a deleted `state/watch.lock` let a second daemon serve the root;
//! 2. swapping an outcome folder for a link made the daemon write outside
//!    its root;
//! 3. at restart, recovery acted on decision records never synced;
//! 4. a plan replaced right after it was dropped left a phantom in the
//!    patient history;
//! 5. a hard-linked plan stayed linked to its name outside the root;
//! 6. the decision log's chain had no anchor.

use crate::util;

use std::fs;
use util::{pass_plan, wait_until, Site};

#[test]
fn i11_1_a_deleted_lock_file_does_not_let_a_second_daemon_serve_the_root() {
    let mut site = Site::new();
    let first = site.start(&[]);
    fs::remove_file(site.root().join("state/watch.lock")).unwrap();
    let second = site.spawn(&[], &[]);
    let (status, log) = second.wait_exit_keeping_log();
    assert_eq!(status.code(), Some(3), "the second daemon must refuse:\n{log}");
    assert!(log.contains("another `embolint watch` is already serving"), "{log}");
    let names: Vec<String> = (0..20).map(|i| format!("p{i}.json")).collect();
    for (i, name) in names.iter().enumerate() {
        site.drop_plan(name, &pass_plan(&format!("PLN-LOCK-{i}")));
    }
    site.wait_for_records(names.len());
    assert_eq!(first.terminate().code(), Some(0), "the first daemon is unharmed");
    site.assert_each_once(&names);
    let seqs: Vec<u64> = site.records().iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=20).collect::<Vec<u64>>());
    let verify = site.run(&["verify-log", site.root().to_str().unwrap()]);
    assert_eq!(verify.status.code(), Some(0), "{}", String::from_utf8_lossy(&verify.stdout));
}

#[test]
fn i11_3_recovery_acts_only_on_decision_records_it_synced_first() {
    let mut site = Site::new();
    let names: Vec<String> = (0..3).map(|i| format!("p{i}.json")).collect();
    for (i, name) in names.iter().enumerate() {
        site.write(name, &pass_plan(&format!("PLN-SYNC-{i}")));
    }
    // The batch's records are written but their sync fails: exit 4.
    let daemon = site.spawn(&[], &[("EMBOLINT_WATCH_FAULT", "log-sync:1")]);
    let (status, log) = daemon.wait_exit_keeping_log();
    assert_eq!(status.code(), Some(4), "a failed log sync is fatal:\n{log}");
    assert_eq!(site.records().len(), 3, "written, not synced");
    assert_eq!(site.placed(), 0);
    // At restart the log cannot be synced either: nothing may be moved on
    // the strength of those records.
    let daemon = site.spawn(&[], &[("EMBOLINT_WATCH_FAULT", "log-open-sync")]);
    let (status, log) = daemon.wait_exit_keeping_log();
    assert_eq!(status.code(), Some(4), "an unsynced log must stop recovery:\n{log}");
    assert!(log.contains("decision log"), "{log}");
    assert_eq!(site.placed(), 0, "recovery moved plans on unsynced records:\n{log}");
    for name in &names {
        assert!(site.inbox().join(name).exists(), "{name} left the inbox");
    }
    // Once the disk is healthy, the restart syncs, then finishes the batch.
    let daemon = site.start(&[]);
    wait_until("three placed plans", || site.placed() == 3);
    assert_eq!(daemon.terminate().code(), Some(0));
    site.assert_each_once(&names);
}

#[test]
fn i11_5_a_hard_linked_plan_is_placed_as_a_copy_of_its_own() {
    use std::os::unix::fs::MetadataExt;
    let mut site = Site::new();
    let outside = site.dir.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let original = outside.join("plan.json");
    let text = pass_plan("PLN-LINKED");
    fs::write(&original, &text).unwrap();
    let before = fs::metadata(&original).unwrap();
    fs::hard_link(&original, site.inbox().join("linked.json")).unwrap();
    let daemon = site.start(&[]);
    wait_until("the linked plan placed", || site.placed() == 1);
    assert_eq!(daemon.terminate().code(), Some(0));
    site.assert_each_once(&["linked.json".to_string()]);
    let record = &site.records()[0];
    assert_eq!(record["verdict"], "pass");
    assert_eq!(record["sha256"], util::sha256(text.as_bytes()));
    let placed = fs::metadata(site.root().join("passed/linked.json")).unwrap();
    assert_eq!(placed.nlink(), 1, "the placed plan has another name");
    assert_ne!(placed.ino(), before.ino(), "the placed plan is the file outside the root");
    assert_eq!(fs::read_to_string(&original).unwrap(), text, "the outside file was changed");
    let after = fs::metadata(&original).unwrap();
    assert_eq!((after.ino(), after.nlink()), (before.ino(), 1), "only the inbox name went");
}
