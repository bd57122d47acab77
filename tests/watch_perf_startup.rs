//! Plans that waited in the inbox while the daemon was down are judged at
//! start-up without waiting the settle time again: their ctime (set by the
//! kernel on every write, rename or chmod, and by no user tool to another
//! value) already shows they have been quiet for it. A plan changed just
//! before the start (or being written in place during it) still waits the
//! whole settle time, and is never read half-written.
//!
//! No timing is asserted: the plans quiet long enough are judged in an
//! earlier batch than the one still settling (before this, all were judged
//! together, in one batch, after the settle time).

use crate::util;

use std::fs;
use std::io::Write;
use std::time::Duration;
use util::{pass_plan, sha256, Site};

/// Long enough that a plan still settling cannot become ready while the
/// plans quiet before the start are judged, even on a loaded machine.
const SETTLE_MILLIS: u64 = 5000;

/// The settle time as the daemon's flag.
fn settle_flag() -> String {
    SETTLE_MILLIS.to_string()
}

/// Waits until plans written now have been quiet for the settle time.
fn let_them_age() {
    std::thread::sleep(Duration::from_millis(SETTLE_MILLIS + 300));
}

/// The batch a plan's (only) record was written in.
fn batch_of(site: &Site, name: &str) -> u64 {
    let by_name = site.records_by_name();
    let records = &by_name[name];
    assert_eq!(records.len(), 1, "{name}: {records:?}");
    records[0]["watch"]["batch"].as_u64().unwrap()
}

#[test]
fn plans_quiet_for_the_settle_time_before_start_up_are_judged_before_a_fresh_one() {
    let mut site = Site::new();
    let old: Vec<String> = (0..5).map(|i| format!("waited-{i}.json")).collect();
    for (i, name) in old.iter().enumerate() {
        site.drop_plan(name, &pass_plan(&format!("PLN-WAITED-{i}")));
    }
    let_them_age();
    site.write("fresh.json", &pass_plan("PLN-FRESH"));

    let daemon = site.start(&["--settle-millis", &settle_flag()]);
    site.wait_for_records(old.len() + 1);
    assert!(daemon.terminate().success());

    let mut all = old.clone();
    all.push("fresh.json".into());
    site.assert_each_once(&all);
    let fresh = batch_of(&site, "fresh.json");
    for name in &old {
        let waited = batch_of(&site, name);
        assert!(waited < fresh, "{name} (batch {waited}) waited with fresh.json (batch {fresh})");
    }
}

#[test]
fn a_plan_being_written_in_place_at_start_up_still_waits_and_is_read_whole() {
    let mut site = Site::new();
    site.drop_plan("waited.json", &pass_plan("PLN-WAITED"));
    let_them_age();
    let text = pass_plan("PLN-SLOW");
    let (first, rest) = text.as_bytes().split_at(text.len() / 2);
    let mut writer = fs::File::create(site.inbox().join("slow.json")).unwrap();
    writer.write_all(first).unwrap();
    writer.flush().unwrap();

    let daemon = site.start(&["--settle-millis", &settle_flag()]);
    // The plan that waited is judged while the slow one is half-written...
    site.wait_for_records(1);
    assert!(site.records_by_name().contains_key("waited.json"));
    // ...which is then finished, and judged whole once it settles.
    writer.write_all(rest).unwrap();
    drop(writer);
    site.wait_for_records(2);
    assert!(daemon.terminate().success());

    site.assert_each_once(&["waited.json".into(), "slow.json".into()]);
    let slow = &site.records_by_name()["slow.json"][0];
    assert_eq!(slow["verdict"], "pass", "{slow}");
    assert_eq!(slow["sha256"], sha256(text.as_bytes()));
    assert!(batch_of(&site, "waited.json") < batch_of(&site, "slow.json"));
}
