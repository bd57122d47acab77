//! A plan renamed into the inbox (SPEC §4: written under a temporary name,
//! then renamed into place) arrived complete, so it is read at once rather
//! than after the settle time; a plan written in place still waits for it,
//! and a write after the rename brings the settle time back.

use crate::util;

use std::fs;
use std::io::Write;
use std::time::Duration;
use util::{pass_plan, placed_files_not_matching_their_verdict, sha256, wait_until, Site};

/// Ten minutes: no plan can become ready by settling during a test.
const SETTLE_NEVER: &str = "600000";

#[test]
fn a_renamed_in_plan_is_judged_without_settling_and_a_written_one_is_not() {
    let mut site = Site::new();
    let daemon = site.start(&["--settle-millis", SETTLE_NEVER]);

    let first = pass_plan("PLN-RENAMED-1");
    site.drop_plan("renamed-1.json", &first);
    site.wait_for_records(1);

    let written = pass_plan("PLN-WRITTEN");
    site.write("written.json", &written);
    // Give the written plan every chance to be (wrongly) taken as ready.
    std::thread::sleep(Duration::from_secs(3));
    // Events are handled in order: once this later plan is judged, the
    // written one has been seen and is waiting to settle.
    let second = pass_plan("PLN-RENAMED-2");
    site.drop_plan("renamed-2.json", &second);
    site.wait_for_records(2);
    assert!(daemon.terminate().success());

    let names = ["renamed-1.json", "renamed-2.json"].map(String::from);
    site.assert_each_once(&names);
    let by_name = site.records_by_name();
    assert!(!by_name.contains_key("written.json"), "judged before settling: {by_name:?}");
    assert_eq!(by_name["renamed-1.json"][0]["sha256"], sha256(first.as_bytes()));
    assert_eq!(by_name["renamed-2.json"][0]["sha256"], sha256(second.as_bytes()));
    assert_eq!(fs::read_to_string(site.inbox().join("written.json")).unwrap(), written);
}

#[test]
fn a_plan_written_to_right_after_its_rename_is_placed_only_with_its_final_content() {
    let mut site = Site::new();
    // The built-in default settle time, given because the test helper would
    // otherwise shorten it.
    let daemon = site.start(&["--settle-millis", "1000"]);
    let inbox = site.inbox();

    let mut finals = Vec::new();
    for i in 0..10 {
        let name = format!("appended-{i}.json");
        let temp = inbox.join(format!("{name}.tmp"));
        let text = pass_plan(&format!("PLN-APPENDED-{i}"));
        // The writer keeps the file open across the rename and writes again.
        let mut file = fs::File::create(&temp).unwrap();
        file.write_all(text.as_bytes()).unwrap();
        fs::rename(&temp, inbox.join(&name)).unwrap();
        file.write_all(b"\n  \n").unwrap();
        drop(file);
        finals.push((name, sha256(format!("{text}\n  \n").as_bytes())));
    }

    wait_until("a record of every plan's final content", || {
        let by_name = site.records_by_name();
        finals.iter().all(|(name, sha)| {
            by_name.get(name).is_some_and(|records| records.iter().any(|r| r["sha256"] == *sha))
        })
    });
    assert!(daemon.terminate().success());

    let wrong = placed_files_not_matching_their_verdict(&site.root());
    assert!(wrong.is_empty(), "placed with bytes other than their verdict's: {wrong:?}");
    // A version read before the write was put back and judged again: its
    // record stands, and the final version may be placed under the same
    // name, so the last record of each plan is the one that counts.
    let by_name = site.records_by_name();
    for (name, sha) in &finals {
        let last = by_name[name].last().unwrap();
        assert_eq!(last["sha256"], *sha, "{name}: last judged on other than its final content");
        let placed = site.root().join(last["watch"]["moved_to"].as_str().unwrap());
        assert_eq!(sha256(&fs::read(placed).unwrap()), *sha, "{name}: placed with other bytes");
    }
    assert_eq!(site.placed(), finals.len(), "a version put back was also left placed");
    site.assert_inbox_has_no_plans();
}
