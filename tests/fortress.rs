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

use serde_json::Value;
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

/// Writes three plans into the inbox and starts the daemon with the disk
/// fault `fault` (see `EMBOLINT_WATCH_FAULT`), which must stop it with
/// exit 4. Returns the plans' names and the daemon's log.
fn three_plans_and_a_fatal_fault(site: &mut Site, fault: &str) -> (Vec<String>, String) {
    let names: Vec<String> = (0..3).map(|i| format!("p{i}.json")).collect();
    for (i, name) in names.iter().enumerate() {
        site.write(name, &pass_plan(&format!("PLN-SYNC-{i}")));
    }
    let daemon = site.spawn(&[], &[("EMBOLINT_WATCH_FAULT", fault)]);
    let (status, log) = daemon.wait_exit_keeping_log();
    assert_eq!(status.code(), Some(4), "a failed sync ({fault}) is fatal:\n{log}");
    (names, log)
}

/// A failed sync of a batch's verdict files (the one sync that makes them
/// durable with the records) stops the daemon as a failed sync of the log
/// does: no plan is moved beside verdict files that may not be on disk,
/// and the restart finishes the batch, each plan once.
#[test]
fn a_failed_sync_of_the_verdict_files_is_fatal_and_the_restart_finishes() {
    let mut site = Site::new();
    let (names, log) = three_plans_and_a_fatal_fault(&mut site, "sidecar-sync:1");
    assert!(log.contains("verdict files"), "{log}");
    assert_eq!(site.records().len(), 3, "written before the sync");
    assert_eq!(site.placed(), 0, "moved beside verdict files not synced:\n{log}");
    for name in &names {
        assert!(site.inbox().join(name).exists(), "{name} left the inbox");
    }
    let daemon = site.start(&[]);
    wait_until("three placed plans", || site.placed() == 3);
    assert_eq!(daemon.terminate().code(), Some(0));
    site.assert_each_once(&names);
}

#[test]
fn i11_3_recovery_acts_only_on_decision_records_it_synced_first() {
    let mut site = Site::new();
    // The batch's records are written but their sync fails.
    let (names, _) = three_plans_and_a_fatal_fault(&mut site, "log-sync:1");
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
    assert!(daemon.log_lines("SEAL IS BROKEN").is_empty(), "records the daemon wrote itself");
    assert_eq!(daemon.terminate().code(), Some(0));
    site.assert_each_once(&names);
    let first_key = fs::read_to_string(site.root().join("state/audit.first-key.1")).unwrap();
    let root = site.root();
    let verify = site.run(&["verify-log", root.to_str().unwrap(), "--first-key", first_key.trim()]);
    assert_eq!(verify.status.code(), Some(0), "{}", String::from_utf8_lossy(&verify.stdout));
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

/// Runs `embolint verify-log PATH ARGS --format json`: exit code, report.
fn verify_json(site: &Site, path: &std::path::Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["verify-log", path.to_str().unwrap(), "--format", "json"];
    all.extend_from_slice(args);
    let output = site.run(&all);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|_| panic!("{stdout}{}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code().unwrap(), report)
}

/// `line` with its `prev_sha256` set to `sha` (the chain recomputed by
/// hand, as a forger would).
fn with_prev(line: &str, sha: &str) -> String {
    let at = line.find("\"prev_sha256\":\"").unwrap() + 15;
    format!("{}{sha}{}", &line[..at], &line[at + 64..])
}

/// Writes `lines` as a log file beside the root; returns its path.
fn log_file(site: &Site, name: &str, lines: &[String]) -> std::path::PathBuf {
    let path = site.dir.path().join(name);
    fs::write(&path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    path
}

#[test]
fn i11_6_the_sealed_log_shows_a_rewrite_a_cut_tail_a_forged_append_and_a_last_line_edit() {
    let mut site = Site::new();
    let daemon = site.start(&["--batch-size", "4"]);
    for i in 0..12 {
        site.drop_plan(&format!("p{i:02}.json"), &pass_plan(&format!("PLN-SEAL-{i}")));
    }
    site.wait_for_records(12);
    assert_eq!(daemon.terminate().code(), Some(0));
    // The operator hands the first key to the auditor and removes it.
    let state = site.root().join("state");
    let first_key_file = state.join("audit.first-key.1");
    let first_key = fs::read_to_string(&first_key_file).expect("a first key for the auditor");
    fs::remove_file(&first_key_file).unwrap();
    let first_key = first_key.trim().to_string();
    let key_state = state.join("audit.key");
    let sealed = ["--first-key", first_key.as_str()];

    let (code, report) = verify_json(&site, &site.root(), &sealed);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["anchor"]["kind"], "forward-secure-mac");
    assert_eq!(report["anchor"]["sealed_lines"], 12);
    assert_eq!(report["anchor"]["tail"], "matches");

    let text = fs::read_to_string(site.root().join("log/decisions.jsonl")).unwrap();
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let against_state = |name: &str, lines: &[String]| {
        let path = log_file(&site, name, lines);
        let mut args = sealed.to_vec();
        args.extend(["--key-state", key_state.to_str().unwrap()]);
        let (code, report) = verify_json(&site, &path, &args);
        assert_eq!(code, 1, "{name}: not detected: {report}");
        let broken = report["break"].clone();
        (broken["kind"].as_str().unwrap().to_string(), broken["line"].as_u64().unwrap())
    };

    // Rewritten from line 5 on, every hash recomputed: the chain holds...
    let mut rewritten = lines.clone();
    rewritten[4] = rewritten[4].replacen("\"verdict\":\"pass\"", "\"verdict\":\"fail\"", 1);
    for i in 5..rewritten.len() {
        let sha = util::sha256(rewritten[i - 1].as_bytes());
        rewritten[i] = with_prev(&rewritten[i], &sha);
    }
    let plain = log_file(&site, "rewritten-plain.jsonl", &rewritten);
    assert_eq!(verify_json(&site, &plain, &[]).0, 0, "the chain alone cannot tell");
    // ...but not the seal, which names line 5.
    assert_eq!(against_state("rewritten.jsonl", &rewritten), ("mac".into(), 5));

    // The last three lines cut off: the key state had moved past them.
    assert_eq!(against_state("cut.jsonl", &lines[..9]), ("tail-cut".into(), 10));

    // A forged record appended, with the chain computed by hand.
    let mut forged = lines.clone();
    let copy = forged[11].replacen("\"seq\":12,", "\"seq\":13,", 1);
    forged.push(with_prev(&copy, &util::sha256(lines[11].as_bytes())));
    assert_eq!(against_state("forged.jsonl", &forged), ("mac".into(), 13));

    // The last line edited: nothing follows it to break the chain.
    let mut edited = lines.clone();
    edited[11] = edited[11].replacen("\"verdict\":\"pass\"", "\"verdict\":\"fail\"", 1);
    let plain = log_file(&site, "edited-plain.jsonl", &edited);
    assert_eq!(verify_json(&site, &plain, &[]).0, 0, "the chain alone cannot tell");
    assert_eq!(against_state("edited.jsonl", &edited), ("mac".into(), 12));

    // The daemon itself checks the log's end at start-up: cut the tail of
    // the served log, and it says so loudly, in its log and in a record.
    fs::write(
        site.root().join("log/decisions.jsonl"),
        lines[..10].iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    let daemon = site.start(&[]);
    let errors = daemon.log_lines("SEAL IS BROKEN");
    assert_eq!(errors.len(), 1, "{}", daemon.stderr());
    assert_eq!(errors[0]["level"], "ERROR");
    assert!(errors[0]["fields"]["problem"].as_str().unwrap().contains("seq 11 to 12"));
    assert_eq!(daemon.terminate().code(), Some(0));
    let events = site.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event"], "audit-chain-broken");
    assert_eq!(events[0]["seq"], 11);
    // The auditor's key shows where: the record of the break is the first
    // line it does not seal.
    let (code, report) = verify_json(&site, &site.root(), &sealed);
    assert_eq!((code, report["break"]["line"].as_u64()), (1, Some(11)), "{report}");
}

#[test]
fn i11_6_a_log_written_before_the_seal_still_verifies_and_says_it_is_unanchored() {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    site.drop_plan("old.json", &pass_plan("PLN-OLD"));
    site.wait_for_records(1);
    assert_eq!(daemon.terminate().code(), Some(0));
    // The same log as an embolint without the seal wrote it: no MACs, no
    // key state, no first key.
    let log = site.root().join("log/decisions.jsonl");
    let line = fs::read_to_string(&log).unwrap();
    let at = line.find(",\"mac\":\"").expect("a sealed line");
    let unsealed = format!("{}{}", &line[..at], &line[at + 8 + 64 + 1..]);
    fs::write(&log, &unsealed).unwrap();
    fs::remove_file(site.root().join("state/audit.key")).unwrap();
    fs::remove_file(site.root().join("state/audit.first-key.1")).unwrap();
    let (code, report) = verify_json(&site, &site.root(), &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["anchor"]["kind"], "none");
    assert!(report["anchor"]["message"].as_str().unwrap().starts_with("unanchored"));
    // The daemon seals from the next line on, and says the earlier ones
    // stay unanchored; no alarm.
    let mut daemon = site.start(&[]);
    daemon.wait_for_log("sealed from now on");
    assert!(daemon.log_lines("SEAL IS BROKEN").is_empty(), "{}", daemon.stderr());
    site.drop_plan("new.json", &pass_plan("PLN-NEW"));
    site.wait_for_records(2);
    assert_eq!(daemon.terminate().code(), Some(0));
    let first_key = fs::read_to_string(site.root().join("state/audit.first-key.2")).unwrap();
    let (code, report) = verify_json(&site, &site.root(), &["--first-key", first_key.trim()]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["anchor"]["unanchored_lines"], 1);
    assert_eq!(report["anchor"]["sealed_lines"], 1);
}

#[test]
fn i11_4_a_plan_replaced_before_its_move_leaves_no_phantom_in_the_history() {
    let mut site = Site::new();
    // Pause after the first batch's records and history, before its moves.
    let pause = site.dir.path().join("paused");
    let value = format!("after-sidecars:1:{}", pause.display());
    let mut daemon = site.start_with_env(&[], &[("EMBOLINT_WATCH_PAUSE", &value)]);
    let (first, second) = (pass_plan("PLN-RACE-A"), pass_plan("PLN-RACE-B"));
    site.drop_plan("r.json", &first);
    wait_until("the daemon paused before moving", || pause.exists());
    site.drop_plan("r.json", &second);
    fs::remove_file(&pause).unwrap();
    site.wait_for_records(2);
    wait_until("the second plan placed", || site.placed() == 1);
    daemon.wait_for_log("could not be placed");
    assert_eq!(daemon.terminate().code(), Some(0));

    // The first plan is in no outcome folder, and has no row in the history.
    assert_eq!(site.names_in("passed"), ["r.json"]);
    let placed = fs::read(site.root().join("passed/r.json")).unwrap();
    assert_eq!(placed, second.as_bytes());
    let in_history: Vec<String> = site.history_in_db().into_iter().map(|p| p.plan_id).collect();
    assert_eq!(in_history, ["PLN-RACE-B"], "a plan placed nowhere is in the history");
    // A record of its own says what became of it.
    let events = site.events();
    let not_placed: Vec<&Value> =
        events.iter().filter(|e| e["event"] == "plan-not-placed").collect();
    assert_eq!(not_placed.len(), 1, "{events:?}");
    let event = not_placed[0];
    assert_eq!(event["reason"], "replaced");
    assert_eq!(event["plan_id"], "PLN-RACE-A");
    assert_eq!(event["sha256"], util::sha256(first.as_bytes()));
    assert_eq!(event["withdrawn"]["plan_id"], "PLN-RACE-A");
    site.assert_history_agrees_with_log();
    let verify = site.run(&["verify-log", site.root().to_str().unwrap()]);
    assert_eq!(verify.status.code(), Some(0));
}

#[test]
fn i11_4_a_revision_that_could_not_be_placed_leaves_the_earlier_version_in_force() {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    let earlier = util::plan_on("PLN-REV", "PAT-REV", "2026-03-02");
    site.judge("v1.json", &earlier);
    assert_eq!(daemon.terminate().code(), Some(0));
    let before = site.history_in_db();
    // The revision passes and is recorded, then is removed before its move.
    let pause = site.dir.path().join("paused");
    let value = format!("after-sidecars:1:{}", pause.display());
    let mut daemon = site.start_with_env(&[], &[("EMBOLINT_WATCH_PAUSE", &value)]);
    site.drop_plan("v2.json", &util::plan_on("PLN-REV", "PAT-REV", "2026-03-09"));
    wait_until("the daemon paused before moving", || pause.exists());
    fs::remove_file(site.inbox().join("v2.json")).unwrap();
    fs::remove_file(&pause).unwrap();
    daemon.wait_for_log("could not be placed");
    assert_eq!(daemon.terminate().code(), Some(0));
    assert_eq!(site.history_in_db(), before, "the earlier version is in force again");
    let events = site.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["reason"], "removed");
    assert_eq!(events[0]["restored"]["decision_key"], before[0].decision_key.as_str());
    site.assert_history_agrees_with_log();
    // The rebuild from the log agrees.
    for suffix in ["", "-wal", "-shm"] {
        let _ = fs::remove_file(format!("{}{suffix}", site.history_db().display()));
    }
    let root = site.root();
    let rebuilt = site.run(&["history", "--rebuild", "--root", root.to_str().unwrap()]);
    assert!(rebuilt.status.success(), "{}", String::from_utf8_lossy(&rebuilt.stderr));
    assert_eq!(site.history_in_db(), before);
}

/// A root whose history holds one plan, `plan_id` of `patient` with a
/// session on 2 March 2026 (`v1.json`), recorded by a daemon since stopped.
fn a_site_with_one_plan(plan_id: &str, patient: &str) -> Site {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    site.judge("v1.json", &util::plan_on(plan_id, patient, "2026-03-02"));
    assert_eq!(daemon.terminate().code(), Some(0));
    site
}

/// Exchanges two names atomically (`renameat2` with `RENAME_EXCHANGE`).
fn exchange(a: &std::path::Path, b: &std::path::Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let a = std::ffi::CString::new(a.as_os_str().as_bytes()).unwrap();
    let b = std::ffi::CString::new(b.as_os_str().as_bytes()).unwrap();
    // SAFETY: both strings are NUL-terminated and live across the call.
    unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        ) == 0
    }
}

/// Every file under `dir`, recursively, with its bytes.
fn contents(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            found.extend(contents(&path));
        } else {
            found.push((path.display().to_string(), fs::read(&path).unwrap_or_default()));
        }
    }
    found.sort();
    found
}

#[test]
fn i11_2_folders_swapped_for_links_in_a_loop_during_a_burst_get_nothing_written_outside() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let mut site = Site::new();
    let root = site.root();
    // Three folders outside the root, each behind a link in the root that
    // the swapper exchanges with `passed/`, `inbox/` and `state/writing/`
    // (where verdict files are written before they are named).
    let outside_passed = site.dir.path().join("outside-passed");
    let outside_inbox = site.dir.path().join("outside-inbox");
    let outside_writing = site.dir.path().join("outside-writing");
    fs::create_dir(&outside_passed).unwrap();
    fs::create_dir(&outside_inbox).unwrap();
    fs::create_dir(&outside_writing).unwrap();
    fs::write(outside_inbox.join("decoy.json"), pass_plan("PLN-DECOY")).unwrap();
    let before_inbox = contents(&outside_inbox);
    let daemon = site.start(&["--batch-size", "4", "--settle-millis", "0"]);
    assert_eq!(daemon.terminate().code(), Some(0), "the root is made");
    let swaps = [
        (root.join("passed"), root.join("passed-link"), outside_passed.clone()),
        (root.join("inbox"), root.join("inbox-link"), outside_inbox.clone()),
        (root.join("state/writing"), root.join("state/writing-link"), outside_writing.clone()),
    ];
    for (_, link, target) in &swaps {
        std::os::unix::fs::symlink(target, link).unwrap();
    }
    let names: Vec<String> = (0..120).map(|i| format!("p{i:03}.json")).collect();
    let mut attempts = 0;
    loop {
        // Drop what is not placed yet, start, and swap in a loop meanwhile.
        for (i, name) in names.iter().enumerate() {
            let placed = site.records_by_name().contains_key(name);
            if !placed && !site.inbox().join(name).exists() {
                site.drop_plan(name, &pass_plan(&format!("PLN-SWAP-{i}")));
            }
        }
        let daemon = site.start(&["--batch-size", "4", "--settle-millis", "0"]);
        let stop = Arc::new(AtomicBool::new(false));
        let swapper = {
            let (stop, swaps) = (Arc::clone(&stop), swaps.clone());
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    let (folder, link, _) = &swaps[(n % 3) as usize];
                    // Swap, leave it a moment, swap back.
                    if exchange(folder, link) {
                        std::thread::sleep(std::time::Duration::from_micros(200));
                        assert!(exchange(folder, link));
                    }
                    n += 1;
                }
            })
        };
        let (status, log) = daemon.wait_exit_keeping_log_within(std::time::Duration::from_secs(5));
        stop.store(true, Ordering::SeqCst);
        swapper.join().unwrap();
        assert!(fs::symlink_metadata(root.join("passed")).unwrap().is_dir());
        assert!(contents(&outside_passed).is_empty(), "written outside the root:\n{log}");
        assert!(contents(&outside_writing).is_empty(), "written outside the root:\n{log}");
        assert_eq!(contents(&outside_inbox), before_inbox, "outside files moved:\n{log}");
        if let Some(status) = status {
            assert_eq!(status.code(), Some(4), "a swap stops the daemon safely:\n{log}");
            let why = ["was replaced", "cannot be listed any more"];
            assert!(why.iter().any(|w| log.contains(w)), "{log}");
        }
        attempts += 1;
        if names.iter().all(|n| site.records_by_name().contains_key(n)) || attempts == 10 {
            break;
        }
    }
    // Then a daemon left alone finishes the rest: each plan exactly once.
    for (_, link, _) in &swaps {
        fs::remove_file(link).unwrap();
    }
    let daemon = site.start(&["--settle-millis", "0"]);
    wait_until("every plan placed", || site.placed() == names.len());
    assert_eq!(daemon.terminate().code(), Some(0));
    site.assert_each_once(&names);
    assert!(contents(&outside_passed).is_empty());
    assert!(contents(&outside_writing).is_empty());
    assert_eq!(contents(&outside_inbox), before_inbox);
}

#[test]
fn i11_4_a_revision_that_left_the_inbox_while_the_daemon_was_down_leaves_no_phantom() {
    use std::os::unix::process::ExitStatusExt;
    let mut site = a_site_with_one_plan("PLN-GONE", "PAT-GONE");
    let before = site.history_in_db();
    // Killed after the revision's record and history rows, before its move
    // (the placing thread held before its renames).
    let held = site.dir.path().join("held");
    let hold = format!("after-sidecars:1:{}", held.display());
    let env = [("EMBOLINT_WATCH_FAILPOINT", "after-history:1"), ("EMBOLINT_WATCH_PAUSE", &hold)];
    let daemon = site.spawn(&[], &env);
    site.drop_plan("v2.json", &util::plan_on("PLN-GONE", "PAT-GONE", "2026-03-09"));
    assert_eq!(daemon.wait_exit().signal(), Some(libc::SIGKILL));
    assert_ne!(site.history_in_db(), before, "the revision's rows are in");
    // While it is down, the revision is taken away.
    fs::remove_file(site.inbox().join("v2.json")).unwrap();
    for _ in 0..2 {
        let daemon = site.start(&[]);
        assert_eq!(daemon.terminate().code(), Some(0));
    }
    assert_eq!(site.history_in_db(), before, "the earlier version is in force again");
    let events = site.events();
    assert_eq!(events.len(), 1, "one record, however many restarts: {events:?}");
    assert_eq!(events[0]["event"], "plan-not-placed");
    assert_eq!(events[0]["reason"], "removed");
    assert_eq!(events[0]["restored"]["decision_key"], before[0].decision_key.as_str());
    site.assert_history_agrees_with_log();
}

/// The next batch is judged while the one before is being placed. When a
/// plan of the batch being placed cannot be placed, its history rows come
/// out again (the earlier version it revised is back in force): a plan
/// judged meanwhile, against the revision, is judged again.
#[test]
fn a_plan_judged_while_a_revision_was_being_placed_is_judged_again_when_the_revision_is_not() {
    let mut site = a_site_with_one_plan("PLN-REV", "PAT-REV");
    // Waiting in the inbox, oldest first: the revision moves the session
    // to May, so a session on 16 March passes beside it; beside the
    // version of 2 March it is too soon.
    site.drop_plan("a-revision.json", &util::plan_on("PLN-REV", "PAT-REV", "2026-05-04"));
    site.drop_plan("b-other.json", &util::plan_on("PLN-OTHER", "PAT-REV", "2026-03-16"));
    std::thread::sleep(std::time::Duration::from_millis(1000));
    // One plan per batch: the revision is placed while the other is judged.
    let pause = site.dir.path().join("paused");
    let value = format!("after-sidecars:1:{}", pause.display());
    let mut daemon =
        site.start_with_env(&["--batch-size", "1"], &[("EMBOLINT_WATCH_PAUSE", &value)]);
    wait_until("the daemon paused before placing the revision", || pause.exists());
    fs::remove_file(site.inbox().join("a-revision.json")).unwrap();
    fs::remove_file(&pause).unwrap();
    site.wait_for_records(3);
    let other = site.records_by_name().remove("b-other.json").unwrap();
    assert_eq!(other.len(), 1, "one record: {other:?}");
    assert_eq!(other[0]["verdict"], "fail", "{}", other[0]);
    let findings = other[0]["findings"].as_array().unwrap();
    let rules: Vec<&str> = findings.iter().filter_map(|f| f["rule"].as_str()).collect();
    assert!(rules.contains(&"session-spacing"), "{rules:?}");
    daemon.wait_for_log("judged again");
    assert_eq!(daemon.terminate().code(), Some(0));
    site.assert_history_agrees_with_log();
}
