//! Hostile input through the real daemon, each case with the outcome it
//! must have:
//!
//! | input | outcome |
//! |---|---|
//! | a 1 GB file (sparse) | `invalid/`, refused by size after reading one byte past the limit; its sha256 is of those bytes, and the finding says so |
//! | `[[[[…` 200,000 deep | `invalid/`: "nested more than 128 levels" |
//! | a 900 KB plan of valid but huge arrays | judged like any plan: `passed/` |
//! | a symbolic link to a file outside the root | `invalid/`, moved as a link, never followed; the target untouched |
//! | a hard link to a file outside the inbox | judged as content (it is a regular file: `passed/`), placed as a copy of its own (issue 11); the other name untouched |
//! | a FIFO | never opened, never blocks the daemon, reported once, left in the inbox |
//! | a plan rewritten in place between its reading and its move | put back into the inbox and judged again; every moved file has its record's sha256 |
//! | a plan replaced by rename between its reading and its move | the new version judged on its own; every moved file has its record's sha256 |
//!
//! And `embolint check` on a FIFO returns at once; on an oversized file it
//! gives the daemon's verdict.

use crate::util;

use serde_json::Value;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};
use util::{
    fail_plan, mkfifo, pass_plan, placed_files_not_matching_their_verdict, sha256, wait_until,
    Site, PASS_PLAN, PATIENCE,
};

/// One gigabyte: the hostile file's size.
const ONE_GB: u64 = 1 << 30;
/// The default size limit of a plan.
const LIMIT: usize = 1024 * 1024;

/// The record of the plan judged under `name` (exactly one).
fn record_of(site: &Site, name: &str) -> Value {
    let by_name = site.records_by_name();
    let records = by_name.get(name).unwrap_or_else(|| panic!("no record for {name}"));
    assert_eq!(records.len(), 1, "{name}: {records:?}");
    records[0].clone()
}

/// The first finding's message of a record.
fn message(record: &Value) -> String {
    record["findings"][0]["message"].as_str().unwrap().to_string()
}

/// A plan under 1 MiB whose arrays are as long as the format allows
/// without a limit: 100,000 follow-up days, 10,000 spinal-artery origins and
/// 3,000 documented (untreated) arteries. Every value is valid.
fn plan_with_huge_arrays() -> String {
    let mut plan: Value = serde_json::from_str(&pass_plan("PLN-ARRAYS")).unwrap();
    let session = &mut plan["sessions"][0];
    let mut days: Vec<Value> = vec![7.into(), 28.into()];
    days.extend(vec![Value::from(90); 100_000]);
    session["follow_up_days"] = days.into();
    let documented = session["arteries"][3].clone();
    let arteries = session["arteries"].as_array_mut().unwrap();
    for i in 0..3_000 {
        let mut artery = documented.clone();
        artery["name"] = format!("documented artery {i}").into();
        arteries.push(artery);
    }
    let origins = vec![Value::from("left T9 intercostal"); 10_000];
    plan["spinal_artery_mapping"]["origins"] = origins.into();
    let text = serde_json::to_string(&plan).unwrap();
    assert!((800_000..LIMIT).contains(&text.len()), "{} bytes", text.len());
    text
}

#[test]
fn each_hostile_file_gets_its_stated_outcome_and_the_daemon_goes_on() {
    let mut site = Site::new();
    let inbox = site.inbox();
    let outside = site.dir.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let link_target = outside.join("target.json");
    fs::write(&link_target, pass_plan("PLN-LINKED")).unwrap();
    let hard_target = outside.join("hard.json");
    fs::write(&hard_target, pass_plan("PLN-HARD")).unwrap();

    fs::File::create(inbox.join("huge.json")).unwrap().set_len(ONE_GB).unwrap();
    fs::write(inbox.join("deep.json"), "[".repeat(200_000)).unwrap();
    let arrays = plan_with_huge_arrays();
    fs::write(inbox.join("arrays.json"), &arrays).unwrap();
    std::os::unix::fs::symlink(&link_target, inbox.join("link.json")).unwrap();
    fs::hard_link(&hard_target, inbox.join("hardlink.json")).unwrap();
    mkfifo(&inbox.join("fifo.json"));

    let mut daemon = site.start(&[]);
    site.wait_for_records(5);
    // The FIFO held nobody up: a plan dropped now is judged too.
    site.drop_plan("after.json", &pass_plan("PLN-AFTER"));
    site.wait_for_records(6);
    daemon.wait_for_log("not judged");
    let names: Vec<String> = ["huge", "deep", "arrays", "link", "hardlink", "after"]
        .iter()
        .map(|n| format!("{n}.json"))
        .collect();
    wait_until("every plan placed", || site.every_record_placed());
    site.assert_each_once(&names);

    // 1 GB: refused by size, read one byte past the limit, moved (not copied).
    let huge = record_of(&site, "huge.json");
    assert_eq!(huge["verdict"], "invalid");
    assert_eq!(huge["sha256"], sha256(&vec![0u8; LIMIT + 1]), "hash of the bytes read");
    let text = message(&huge);
    assert!(text.contains("1073741824 bytes") && text.contains("not read past"), "{text}");
    assert!(text.contains("first 1048577 bytes only"), "{text}");
    assert_eq!(fs::metadata(site.root().join("invalid/huge.json")).unwrap().len(), ONE_GB);

    // 200,000 levels of nesting: refused at level 128, no stack overflow.
    let deep = record_of(&site, "deep.json");
    assert_eq!(deep["verdict"], "invalid");
    assert!(message(&deep).contains("nested more than 128 levels"), "{}", message(&deep));

    // Valid but huge arrays: judged like any plan.
    let judged = record_of(&site, "arrays.json");
    assert_eq!(judged["verdict"], "pass", "{judged}");
    assert_eq!(judged["sha256"], sha256(arrays.as_bytes()));

    // Symbolic link: never followed, moved as a link, target untouched.
    let link = record_of(&site, "link.json");
    assert_eq!(link["verdict"], "invalid");
    assert!(message(&link).contains("symbolic link"));
    let moved_link = site.root().join("invalid/link.json");
    assert_eq!(fs::read_link(&moved_link).unwrap(), link_target);
    assert_eq!(fs::read_to_string(&link_target).unwrap(), pass_plan("PLN-LINKED"));

    // Hard link: a regular file, judged as content and placed as a copy of
    // its own, so it cannot change through the other name; that one untouched.
    let hard = record_of(&site, "hardlink.json");
    assert_eq!(hard["verdict"], "pass");
    assert_eq!(hard["plan_id"], "PLN-HARD");
    assert_eq!(fs::read_to_string(&hard_target).unwrap(), pass_plan("PLN-HARD"));
    let moved = fs::metadata(site.root().join("passed/hardlink.json")).unwrap();
    assert_ne!(moved.ino(), fs::metadata(&hard_target).unwrap().ino(), "moved, not copied");
    assert_eq!(moved.nlink(), 1);

    // FIFO: left alone, reported once (several re-scans later still once).
    assert!(util::is_fifo(&inbox.join("fifo.json")));
    let reports = daemon.log_lines("not judged");
    let about_fifo: Vec<_> =
        reports.iter().filter(|l| l["fields"]["file"] == "fifo.json").collect();
    assert_eq!(about_fifo.len(), 1, "{reports:?}");
    assert!(placed_files_not_matching_their_verdict(&site.root()).is_empty());
    assert_eq!(daemon.terminate().code(), Some(0));
}

/// Starts a daemon that pauses after the sidecars of its first batch (the
/// plans read and recorded, none moved); returns it with its pause file.
fn start_paused(site: &mut Site) -> (util::Daemon, std::path::PathBuf) {
    let pause = site.dir.path().join("paused");
    let value = format!("after-sidecars:1:{}", pause.display());
    let daemon = site.start_with_env(&[], &[("EMBOLINT_WATCH_PAUSE", &value)]);
    (daemon, pause)
}

#[test]
fn a_plan_rewritten_in_place_after_its_reading_is_put_back_and_judged_again() {
    let mut site = Site::new();
    let (mut daemon, pause) = start_paused(&mut site);
    site.drop_plan("a.json", &pass_plan("PLN-A"));
    wait_until("the daemon paused before moving", || pause.exists());
    // Same file (same inode), new bytes: only the content tells.
    let path = site.inbox().join("a.json");
    let inode = fs::metadata(&path).unwrap().ino();
    fs::write(&path, "{ \"format\": \"embolint.plan/1\", ").unwrap();
    assert_eq!(fs::metadata(&path).unwrap().ino(), inode);
    fs::remove_file(&pause).unwrap();

    site.wait_for_records(2);
    daemon.wait_for_log("changed after it was read");
    let records = site.records();
    let moved = site.root().join(records[1]["watch"]["moved_to"].as_str().unwrap());
    wait_until("the new version placed", || moved.exists());
    assert_eq!(records[0]["verdict"], "pass", "the version read");
    assert_eq!(records[0]["sha256"], sha256(pass_plan("PLN-A").as_bytes()));
    assert_eq!(records[1]["verdict"], "invalid", "the version moved");
    // What was moved is what its record judged; the first version's
    // destination stays empty, its sidecar taken back.
    assert_eq!(sha256(&fs::read(&moved).unwrap()), records[1]["sha256"]);
    let first = site.root().join(records[0]["watch"]["moved_to"].as_str().unwrap());
    let first_sidecar = site.root().join(records[0]["watch"]["sidecar"].as_str().unwrap());
    assert!(!first.exists() && !first_sidecar.exists());
    assert!(placed_files_not_matching_their_verdict(&site.root()).is_empty());
    site.assert_inbox_has_no_plans();
    site.assert_history_agrees_with_log();
    assert_eq!(daemon.terminate().code(), Some(0));
}

#[test]
fn a_plan_replaced_by_rename_after_its_reading_is_judged_again_as_a_new_version() {
    let mut site = Site::new();
    let (mut daemon, pause) = start_paused(&mut site);
    site.drop_plan("b.json", &pass_plan("PLN-B"));
    wait_until("the daemon paused before moving", || pause.exists());
    site.drop_plan("b.json", &fail_plan("PLN-B2"));
    fs::remove_file(&pause).unwrap();

    site.wait_for_records(2);
    daemon.wait_for_log("replaced in the inbox");
    let second = site.root().join(site.records()[1]["watch"]["moved_to"].as_str().unwrap());
    wait_until("the new version placed", || second.exists());
    let records = site.records();
    assert_eq!(records[0]["sha256"], sha256(pass_plan("PLN-B").as_bytes()));
    assert_eq!(records[1]["sha256"], sha256(fail_plan("PLN-B2").as_bytes()));
    assert_eq!(site.names_in("failed"), ["b.json"]);
    assert!(site.names_in("passed").is_empty());
    assert!(placed_files_not_matching_their_verdict(&site.root()).is_empty());
    site.assert_history_agrees_with_log();
    assert_eq!(daemon.terminate().code(), Some(0));
}

/// Runs `embolint ARGS` and fails (killing it) if it has not ended within
/// the patience: a command that blocks is a failure, not a hang. Output is
/// drained while waiting, so a long verdict cannot fill the pipe.
fn run_bounded(args: &[&str]) -> std::process::Output {
    let child = Command::new(env!("CARGO_BIN_EXE_embolint"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (done, output) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    match output.recv_timeout(PATIENCE) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("embolint {args:?} blocked");
        }
    }
}

#[test]
fn check_refuses_a_fifo_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("plan.json");
    mkfifo(&fifo);
    let output = run_bounded(&["check", fifo.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("FIFO"), "{stderr}");
}

#[test]
fn check_and_the_daemon_give_an_oversized_file_the_same_finding() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    fs::File::create(&path).unwrap().set_len(ONE_GB).unwrap();
    let output = run_bounded(&["check", "--format", "json", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let checked: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(checked["verdict"], "invalid");
    let said = message(&checked);
    assert!(said.contains("1073741824 bytes") && said.contains("not read past"), "{said}");

    let mut site = Site::new();
    fs::File::create(site.inbox().join("huge.json")).unwrap().set_len(ONE_GB).unwrap();
    let daemon = site.start(&[]);
    site.wait_for_records(1);
    let judged = record_of(&site, "huge.json");
    assert_eq!(judged["verdict"], checked["verdict"]);
    assert_eq!(judged["findings"][0]["observed"], checked["findings"][0]["observed"]);
    assert_eq!(judged["findings"][0]["limit"], checked["findings"][0]["limit"]);
    assert_eq!(message(&judged), said);
    // Both identify it by the sha256 of the first limit + 1 bytes read.
    assert_eq!(judged["sha256"], checked["sha256"]);
    assert_eq!(checked["sha256"], sha256(&vec![0u8; LIMIT + 1]));
    assert_eq!(daemon.terminate().code(), Some(0));
}

/// A plan under 1 MiB with 2,000 sessions on one day. `session-spacing`
/// once listed every pair (2 million findings, a verdict of about 1 GB,
/// minutes of work and gigabytes of memory, in the daemon as in `check`);
/// it now names each session a bounded number of times. Also pinned by
/// `tests/fuzz_regressions.rs`.
#[test]
fn a_plan_with_thousands_of_sessions_gets_a_verdict_of_reasonable_size() {
    let mut plan: Value = serde_json::from_str(PASS_PLAN).unwrap();
    let mut session = plan["sessions"][0].clone();
    session["arteries"] = vec![session["arteries"][0].clone()].into();
    for optional in ["number", "sedation", "post_procedure", "follow_up_days"] {
        session.as_object_mut().unwrap().remove(optional);
    }
    plan["sessions"] = vec![session; 2_000].into();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.json");
    fs::write(&path, serde_json::to_vec(&plan).unwrap()).unwrap();
    assert!(fs::metadata(&path).unwrap().len() < LIMIT as u64);
    let output = run_bounded(&["check", "--format", "json", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.len() < 20 * 1024 * 1024, "{} bytes of verdict", output.stdout.len());
}
