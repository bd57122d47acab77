//! Fail safe (SPEC §5): when the patient history is locked, damaged or
//! missing, no plan is judged — nothing passes that could not be fully
//! checked. Plans stay in the inbox, the cause is logged once, and they are
//! judged, against the history, as soon as it is usable again. A missing
//! history is never silently replaced by an empty one; the decision log
//! rebuilds it.

use crate::util;

use std::fs;
use util::{plan_on, Daemon, Site};

const DAY_D: &str = "2026-11-05";
const DAY_D_PLUS_14: &str = "2026-11-19";

/// Drops B (patient P, too close to A) and C (another patient).
fn drop_b_and_c(site: &Site) {
    site.drop_plan("b.json", &plan_on("PLN-B", "PAT-P", DAY_D_PLUS_14));
    site.drop_plan("c.json", &plan_on("PLN-C", "PAT-Q", DAY_D));
}

/// Waits for the outage line and one retry after it; checks the line was
/// logged once, names the cause, and that nothing was judged meanwhile.
fn assert_outage(site: &Site, daemon: &mut Daemon, cause: &str, records: usize) {
    daemon.wait_for_log("patient history unavailable");
    daemon.wait_for_log("patient history still unavailable");
    let lines = daemon.log_lines("patient history unavailable");
    assert_eq!(lines.len(), 1, "logged once per outage: {lines:?}");
    let message = lines[0]["fields"]["message"].as_str().unwrap();
    assert!(message.contains(cause), "the cause {cause:?} is not in: {message}");
    assert!(message.contains("plans stay in the inbox"), "{message}");
    assert_eq!(lines[0]["level"], "ERROR");
    assert_eq!(site.records().len(), records, "nothing is judged during the outage");
    assert!(site.inbox().join("b.json").exists() && site.inbox().join("c.json").exists());
}

/// After the outage: B fails against A (so the history was really used),
/// C passes; each plan once; the history agrees with the log.
fn assert_judged_after(site: &Site, daemon: Daemon, records: usize) {
    site.wait_for_records(records + 2);
    util::wait_until("b and c placed", || site.placed() == records + 2);
    assert!(daemon.terminate().success());
    let by_name = site.records_by_name();
    let b = &by_name["b.json"][0];
    assert_eq!(b["verdict"], "fail");
    let message = b["findings"].to_string();
    assert!(message.contains("of plan PLN-A on 2026-11-05"), "{message}");
    assert_eq!(by_name["c.json"][0]["verdict"], "pass");
    site.assert_history_agrees_with_log();
}

/// Starts a daemon, has A (patient P, day D) pass, and stops it.
fn site_with_plan_a() -> Site {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    assert_eq!(site.judge("a.json", &plan_on("PLN-A", "PAT-P", DAY_D))["verdict"], "pass");
    assert!(daemon.terminate().success());
    site
}

#[test]
fn a_locked_database_keeps_plans_in_the_inbox_until_it_is_released() {
    let mut site = site_with_plan_a();
    let mut daemon = site.start(&["--log-level", "debug"]);
    let locker = rusqlite::Connection::open(site.history_db()).unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();
    drop_b_and_c(&site);
    assert_outage(&site, &mut daemon, "locked by another process", 1);

    locker.execute_batch("ROLLBACK").unwrap();
    drop(locker);
    daemon.wait_for_log("patient history is usable again");
    assert_judged_after(&site, daemon, 1);
}

#[test]
fn a_damaged_database_keeps_plans_in_the_inbox_until_it_is_repaired() {
    let mut site = site_with_plan_a();
    let db = site.history_db();
    let backup = fs::read(&db).unwrap();
    fs::write(&db, vec![0x5a; backup.len()]).unwrap();
    drop_b_and_c(&site);
    let mut daemon = site.start(&["--log-level", "debug"]);
    let start_up = &daemon.log_lines("embolint watch started")[0]["fields"];
    assert_eq!(start_up["history_usable"], false);
    assert_outage(&site, &mut daemon, "damaged", 1);

    // The one-shot check refuses too, with the cause.
    let plan = site.dir.path().join("b.json");
    fs::write(&plan, plan_on("PLN-B", "PAT-P", DAY_D_PLUS_14)).unwrap();
    let checked = site.run(&["check", "--history", db.to_str().unwrap(), plan.to_str().unwrap()]);
    assert_eq!(checked.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&checked.stderr);
    assert!(stderr.contains("damaged") && stderr.contains("history.sqlite"), "{stderr}");

    // Repaired: a good copy is put back in place.
    let repaired = site.dir.path().join("repaired.sqlite");
    fs::write(&repaired, &backup).unwrap();
    fs::rename(&repaired, &db).unwrap();
    daemon.wait_for_log("patient history is usable again");
    assert_judged_after(&site, daemon, 1);
}

#[test]
fn a_missing_database_is_not_recreated_empty_and_the_log_rebuilds_it() {
    let mut site = site_with_plan_a();
    let daemon = site.start(&[]);
    assert_eq!(site.judge("x.json", &plan_on("PLN-X", "PAT-X", DAY_D))["verdict"], "pass");
    let root = site.root();
    let root = root.to_str().unwrap();
    let forgot = site.run(&[
        "history",
        "--forget",
        "PLN-X",
        "--by",
        "ops",
        "--reason",
        "cancelled",
        "--root",
        root,
    ]);
    assert!(forgot.status.success());
    assert!(daemon.terminate().success());
    let before = site.history_in_db();
    assert_eq!(before.len(), 1, "A only");

    // Lost, with its companion files.
    let db = site.history_db();
    fs::remove_file(&db).unwrap();
    for companion in ["-wal", "-shm"] {
        let _ = fs::remove_file(format!("{}{companion}", db.display()));
    }
    drop_b_and_c(&site);
    let mut daemon = site.start(&["--log-level", "debug"]);
    assert_outage(&site, &mut daemon, "is missing", 2);
    assert!(!db.exists(), "never silently recreated empty");
    let refused = site.run(&["history", "--rebuild", "--root", root]);
    assert_eq!(refused.status.code(), Some(3), "not while the daemon serves the root");
    assert!(daemon.terminate().success());

    let rebuilt = site.run(&["history", "--rebuild", "--root", root]);
    let stdout = String::from_utf8_lossy(&rebuilt.stdout);
    assert!(rebuilt.status.success(), "{stdout}{}", String::from_utf8_lossy(&rebuilt.stderr));
    assert!(stdout.contains("2 passed plans and 1 withdrawals replayed"), "{stdout}");
    assert_eq!(site.history_in_db(), before, "the same history as before it was lost");
    let again = site.run(&["history", "--rebuild", "--root", root]);
    assert_eq!(again.status.code(), Some(3), "never overwrites a database");

    let daemon = site.start(&[]);
    assert_judged_after(&site, daemon, 2);
}
