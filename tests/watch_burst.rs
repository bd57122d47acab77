//! A thousand plans dropped at once: all processed, one record each.

mod util;

use util::{pass_plan, Site};

#[test]
fn a_thousand_plans_dropped_at_once_each_get_one_record() {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    let names: Vec<String> = (0..1000).map(|i| format!("burst-{i:04}.json")).collect();
    for (i, name) in names.iter().enumerate() {
        site.drop_plan(name, &pass_plan(&format!("PLN-BURST-{i}")));
    }
    site.wait_for_records(1000);
    assert!(daemon.terminate().success());
    site.assert_each_once(&names);
    site.assert_inbox_has_no_plans();
    let batches: std::collections::BTreeSet<u64> =
        site.records().iter().map(|r| r["watch"]["batch"].as_u64().unwrap()).collect();
    assert!(batches.len() < 1000, "records were not batched: {} syncs", batches.len());
}
