//! Plans dropped while the daemon runs: by atomic rename, by a direct
//! write, and by a slow writer — each exactly one verdict, none checked
//! half-written.

use crate::util;

use std::time::Duration;
use util::{pass_plan, sha256, write_slowly, Site};

#[test]
fn renamed_written_and_slowly_written_plans_each_get_one_verdict_on_their_whole_content() {
    let mut site = Site::new();
    let daemon = site.start(&[]);

    let renamed = pass_plan("PLN-RENAMED");
    site.drop_plan("renamed.json", &renamed);
    let written = pass_plan("PLN-WRITTEN");
    site.write("written.json", &written);
    // Ten chunks over two seconds into the final name, the file held open.
    let slow = pass_plan("PLN-SLOW");
    write_slowly(&site.inbox().join("slow.json"), &slow, 10, Duration::from_secs(2));

    site.wait_for_records(3);
    assert!(daemon.terminate().success());
    let names = ["renamed.json", "written.json", "slow.json"].map(String::from);
    site.assert_each_once(&names);
    let by_name = site.records_by_name();
    for (name, text) in
        [("renamed.json", &renamed), ("written.json", &written), ("slow.json", &slow)]
    {
        let record = &by_name[name][0];
        assert_eq!(record["sha256"], sha256(text.as_bytes()), "{name} was judged on other bytes");
        assert_eq!(record["verdict"], "pass", "{name}: {record}");
        let placed = std::fs::read_to_string(
            site.root().join(record["watch"]["moved_to"].as_str().unwrap()),
        );
        assert_eq!(&placed.unwrap(), text, "{name} moved with other content");
    }
}

#[test]
fn a_slow_writer_pausing_longer_than_the_settle_time_is_still_not_read_half_written() {
    let mut site = Site::new();
    // Settle time 100 ms, pauses of 400 ms: only the writer-open mark holds it.
    let daemon = site.start(&["--settle-millis", "100"]);
    let slow = pass_plan("PLN-PAUSING");
    write_slowly(&site.inbox().join("pausing.json"), &slow, 5, Duration::from_secs(2));
    site.wait_for_records(1);
    assert!(daemon.terminate().success());
    let records = site.records();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["sha256"], sha256(slow.as_bytes()));
    assert_eq!(records[0]["verdict"], "pass");
}

#[test]
fn names_that_are_not_plans_yet_or_not_plans_are_left_alone() {
    let mut site = Site::new();
    let mut daemon = site.start(&["--rescan-interval-secs", "1"]);
    for name in [".hidden.json", "plan.json.tmp", "plan.json.part", "plan.json~", "notes.txt"] {
        site.write(name, &pass_plan("PLN-NOT-YET"));
    }
    site.drop_plan("real.json", &pass_plan("PLN-REAL"));
    site.wait_for_records(1);
    daemon.wait_for_log("not a plan");
    assert!(daemon.terminate().success());
    site.assert_each_once(&["real.json".to_string()]);
    for name in [".hidden.json", "plan.json.tmp", "plan.json.part", "plan.json~", "notes.txt"] {
        assert!(site.inbox().join(name).exists(), "{name} was taken from the inbox");
    }
}
