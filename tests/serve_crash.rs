//! kill -9 of `embolint serve` in the middle of folder drops and recorded
//! HTTP plans: after a restart, every plan that got a 201 has exactly one
//! record, every dropped plan has exactly one record, and a request that
//! got no answer, retried with its key, is not recorded twice.

use crate::util::{self, pass_plan, post_json, Site};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What a poster thread saw: each key sent, and the `seq` of its 201/200.
type Sent = Vec<(String, String, Option<u64>)>;

fn post_until_stopped(base: String, thread: usize, stop: Arc<AtomicBool>) -> Sent {
    let mut sent = Vec::new();
    for i in 0.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let key = format!("t{thread}-{i}");
        let plan = pass_plan(&format!("HTTP-{thread}-{i}"));
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(20)).build();
        let answer = agent
            .post(&format!("{base}/v1/plans"))
            .set("Content-Type", "application/json")
            .set("Idempotency-Key", &key)
            .send_bytes(plan.as_bytes());
        let seq = match answer {
            Ok(response) => {
                assert_eq!(response.status(), 201);
                let record: Value = response.into_json().unwrap();
                record["seq"].as_u64()
            }
            Err(_) => None,
        };
        let failed = seq.is_none();
        sent.push((key, plan, seq));
        if failed {
            break;
        }
    }
    sent
}

#[test]
fn kill_9_amid_folder_drops_and_http_plans_loses_and_duplicates_nothing() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&["--settle-millis", "50"]);
    let stop = Arc::new(AtomicBool::new(false));
    let posters: Vec<_> = (0..4)
        .map(|t| {
            let (base, stop) = (base.clone(), Arc::clone(&stop));
            std::thread::spawn(move || post_until_stopped(base, t, stop))
        })
        .collect();
    let mut dropped = Vec::new();
    for i in 0..40 {
        let name = format!("drop-{i}.json");
        site.drop_plan(&name, &pass_plan(&format!("DROP-{i}")));
        dropped.push(name);
        std::thread::sleep(Duration::from_millis(5));
    }
    util::wait_until("some records", || site.records().len() >= 30);
    daemon.kill9();
    stop.store(true, Ordering::SeqCst);
    let sent: Vec<(String, String, Option<u64>)> =
        posters.into_iter().flat_map(|p| p.join().unwrap()).collect();
    let answered_before = site.records();
    for (_, _, seq) in &sent {
        if let Some(seq) = seq {
            let found = answered_before.iter().filter(|r| r["seq"] == *seq).count();
            assert_eq!(found, 1, "a 201 (seq {seq}) without its record on disk");
        }
    }

    let (daemon, base) = site.serve(&["--settle-millis", "50"]);
    // Every request is retried with its key: answered or not, it must come
    // back with one record, the first one where there was one.
    for (key, plan, seq) in &sent {
        let (status, record) =
            post_json(&format!("{base}/v1/plans"), &[("Idempotency-Key", key)], plan.as_bytes());
        assert!(status == 200 || status == 201, "{key}: {status} {record}");
        if let Some(seq) = seq {
            assert_eq!(record["seq"], *seq, "{key}: a retry must return the first record");
        }
    }
    util::wait_until("every dropped plan recorded", || {
        let names = site.records_by_name();
        dropped.iter().all(|name| names.contains_key(name))
    });
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for record in site.records() {
        *by_name.entry(record["watch"]["inbox_name"].as_str().unwrap().to_string()).or_default() +=
            1;
    }
    for name in &dropped {
        assert_eq!(by_name.get(name), Some(&1), "{name}");
    }
    for (key, _, _) in &sent {
        let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
        let name = format!("api-k-{hex}.json");
        assert_eq!(by_name.get(&name), Some(&1), "{key} must have exactly one record");
    }
    site.assert_inbox_has_no_plans();
    drop(daemon);
}
