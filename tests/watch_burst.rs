//! A thousand plans dropped at once: all processed, one record each.

use crate::util;

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

/// Measures a 10,000-plan burst (ignored in normal runs). Run it with:
/// `cargo test --release --test tests watch_burst:: -- --ignored --nocapture`
#[test]
#[ignore]
fn ten_thousand_plan_burst_figures() {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    let texts: Vec<String> = (0..10_000).map(|i| pass_plan(&format!("PLN-10K-{i}"))).collect();
    let started = std::time::Instant::now();
    for (i, text) in texts.iter().enumerate() {
        site.drop_plan(&format!("burst-{i:05}.json"), text);
    }
    let dropped = started.elapsed();
    site.wait_for_records(10_000);
    let all_recorded = started.elapsed();
    assert!(daemon.terminate().success());
    let records = site.records();
    let checked = |r: &serde_json::Value| {
        r["checked_at"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap()
    };
    let first = checked(&records[0]);
    let last = checked(&records[records.len() - 1]);
    let judging = (last - first).total(jiff::Unit::Millisecond).unwrap() / 1000.0;
    println!(
        "10,000 plans: dropped in {:.2} s; all recorded {:.2} s after the first drop \
         ({:.0} plans/s end to end); first to last verdict {:.2} s ({:.0} plans/s)",
        dropped.as_secs_f64(),
        all_recorded.as_secs_f64(),
        10_000.0 / all_recorded.as_secs_f64(),
        judging,
        10_000.0 / judging
    );
    site.assert_each_once(&(0..10_000).map(|i| format!("burst-{i:05}.json")).collect::<Vec<_>>());
}
