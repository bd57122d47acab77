//! `embolint serve`: the `/v1/` API on the real binary, on a free loopback
//! port, over a fresh root.

use crate::util::{self, http, plan_on, post_json, Site, FAIL_PLAN, PASS_PLAN};
use serde_json::Value;
use std::fs;
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// A verdict without its check time (the only field allowed to differ).
fn without_time(mut verdict: Value) -> Value {
    verdict.as_object_mut().unwrap().remove("checked_at");
    verdict
}

#[test]
fn every_example_plan_through_v1_check_gets_the_verdict_of_check_json_and_nothing_is_written() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/plans");
    let before = util::tree_snapshot(&site.root(), &[]);
    let mut names: Vec<String> = fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() > 20, "{names:?}");
    for name in &names {
        let bytes = fs::read(examples.join(name)).unwrap();
        let url = format!("{base}/v1/check?file={name}");
        let (status, served) = post_json(&url, &[], &bytes);
        assert_eq!(status, 200, "{name}: {served}");
        // /v1/check reads the root's history, as `check --history` does.
        let history = site.root().join("state/history.sqlite");
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_embolint"))
            .args(["check", "--format", "json", "--history", history.to_str().unwrap(), name])
            .current_dir(&examples)
            .output()
            .unwrap();
        let expected: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(without_time(served), without_time(expected), "{name}");
    }
    assert_eq!(util::tree_snapshot(&site.root(), &[]), before, "a dry run wrote something");
    assert!(site.records().is_empty());
    drop(daemon);
}

#[test]
fn a_plan_is_recorded_once_per_idempotency_key_and_a_key_reused_with_another_body_gets_409() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    let url = format!("{base}/v1/plans");
    let key = [("Idempotency-Key", "order-4711")];
    let (status, first) = post_json(&url, &key, FAIL_PLAN.as_bytes());
    assert_eq!(status, 201, "{first}");
    // Answered once placed: the plan and its verdict files are there now.
    let moved_to = first["watch"]["moved_to"].as_str().unwrap();
    assert_eq!(fs::read_to_string(site.root().join(moved_to)).unwrap(), FAIL_PLAN);
    for suffix in [".verdict.json", ".verdict.txt"] {
        assert!(site.root().join(format!("{moved_to}{suffix}")).is_file(), "{moved_to}{suffix}");
    }
    assert_eq!(first["verdict"], "fail");
    assert!(first["seq"].as_u64().is_some());
    let (status, again) = post_json(&url, &key, FAIL_PLAN.as_bytes());
    assert_eq!((status, &again), (200, &first), "a retry returns the first record");
    let (status, other) = post_json(&url, &key, PASS_PLAN.as_bytes());
    assert_eq!(status, 409, "{other}");
    assert!(other["error"].as_str().unwrap().contains("Idempotency-Key"));
    assert_eq!(site.records().len(), 1);
    let (status, by_seq) = http("GET", &format!("{base}/v1/decisions/{}", first["seq"]), &[], None);
    assert_eq!((status, by_seq), (200, first));
    let (status, _) = http("GET", &format!("{base}/v1/decisions/999"), &[], None);
    assert_eq!(status, 404);
    // Two keys on one request: which one was meant cannot be known.
    let address = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let request = format!(
        "POST /v1/plans HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Idempotency-Key: order-4711\r\nIdempotency-Key: order-4712\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{PASS_PLAN}",
        PASS_PLAN.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("more than one Idempotency-Key"), "{answer}");
    assert_eq!(site.records().len(), 1, "nothing recorded for it");
    drop(daemon);
}

#[test]
fn a_retry_after_kill_9_and_restart_returns_the_first_record_and_records_nothing_new() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    let key = [("Idempotency-Key", "c0ffee-1")];
    let (status, first) = post_json(&format!("{base}/v1/plans"), &key, PASS_PLAN.as_bytes());
    assert_eq!(status, 201, "{first}");
    daemon.kill9();
    let (daemon, base) = site.serve(&[]);
    let (status, again) = post_json(&format!("{base}/v1/plans"), &key, PASS_PLAN.as_bytes());
    assert_eq!((status, &again), (200, &first));
    let (status, _) = post_json(&format!("{base}/v1/plans"), &key, FAIL_PLAN.as_bytes());
    assert_eq!(status, 409);
    assert_eq!(site.records().len(), 1);
    drop(daemon);
}

#[test]
fn a_dropped_plan_and_a_posted_plan_of_one_patient_too_close_together_exactly_one_passes() {
    for round in 0..3 {
        let mut site = Site::new();
        let (daemon, base) = site.serve(&["--settle-millis", "0"]);
        let dropped = plan_on(&format!("PLN-DROP-{round}"), "PAT-CLOSE", "2026-11-05");
        let posted = plan_on(&format!("PLN-POST-{round}"), "PAT-CLOSE", "2026-11-12");
        let url = format!("{base}/v1/plans");
        let poster = std::thread::spawn(move || post_json(&url, &[], posted.as_bytes()));
        site.drop_plan("dropped.json", &dropped);
        let (status, _) = poster.join().unwrap();
        assert_eq!(status, 201);
        site.wait_for_records(2);
        let verdicts: Vec<String> =
            site.records().iter().map(|r| r["verdict"].as_str().unwrap().to_string()).collect();
        assert_eq!(verdicts.iter().filter(|v| *v == "pass").count(), 1, "{verdicts:?}");
        assert_eq!(verdicts.iter().filter(|v| *v == "fail").count(), 1, "{verdicts:?}");
        drop(daemon);
    }
}

#[test]
fn decisions_are_listed_newest_first_filtered_and_paged() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    for i in 0..5 {
        let plan = if i % 2 == 0 {
            util::pass_plan(&format!("P{i}"))
        } else {
            util::fail_plan(&format!("F{i}"))
        };
        let (status, _) = post_json(&format!("{base}/v1/plans"), &[], plan.as_bytes());
        assert_eq!(status, 201);
    }
    let (status, page) = http("GET", &format!("{base}/v1/decisions?limit=2"), &[], None);
    assert_eq!(status, 200);
    let seqs: Vec<u64> =
        page["decisions"].as_array().unwrap().iter().map(|d| d["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [5, 4]);
    assert_eq!(page["before"], 4);
    let (_, next) = http("GET", &format!("{base}/v1/decisions?limit=2&before=4"), &[], None);
    let seqs: Vec<u64> =
        next["decisions"].as_array().unwrap().iter().map(|d| d["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [3, 2]);
    let (_, last) = http("GET", &format!("{base}/v1/decisions?limit=2&before=2"), &[], None);
    assert_eq!(last["decisions"].as_array().unwrap().len(), 1);
    assert_eq!(last["before"], Value::Null);
    let (_, failed) = http("GET", &format!("{base}/v1/decisions?verdict=fail"), &[], None);
    let failed = failed["decisions"].as_array().unwrap();
    assert_eq!(failed.len(), 2);
    assert!(failed.iter().all(|d| d["verdict"] == "fail"));
    let (_, by_rule) = http("GET", &format!("{base}/v1/decisions?rule=artery-dose-max"), &[], None);
    assert_eq!(by_rule["decisions"].as_array().unwrap().len(), 2);
    let (_, by_patient) = http("GET", &format!("{base}/v1/decisions?patient=PAT-P2"), &[], None);
    assert_eq!(by_patient["decisions"].as_array().unwrap().len(), 1);
    // The patient compared as the history compares patients: case and
    // surrounding spaces aside, so no decision of that patient is missed.
    let (_, as_a_name) = http("GET", &format!("{base}/v1/decisions?patient=%20pat-p2"), &[], None);
    assert_eq!(as_a_name["decisions"], by_patient["decisions"]);
    let (_, none) = http("GET", &format!("{base}/v1/decisions?until=2000-01-01"), &[], None);
    assert!(none["decisions"].as_array().unwrap().is_empty());
    // A rule of the rule set in force that never fired: an empty answer.
    let (status, never) =
        http("GET", &format!("{base}/v1/decisions?rule=spinal-feeder-excluded"), &[], None);
    assert_eq!(status, 200, "{never}");
    assert!(never["decisions"].as_array().unwrap().is_empty());
    let (status, _) = http("GET", &format!("{base}/v1/decisions?limit=1001"), &[], None);
    assert_eq!(status, 400);
    // A misspelt, repeated or impossible filter is refused, never ignored:
    // ignored, it would answer with the records it was meant to leave out.
    for (query, said) in [
        ("patinet=PAT-P2", "unknown query parameter \"patinet\""),
        ("patient=PAT-P2&patient=PAT-P1", "more than once"),
        ("verdict=failed", "none of pass, fail, invalid"),
        // A misspelt rule would answer "none": read as "never fired".
        ("rule=artery-dose-maximum", "check its spelling"),
    ] {
        let (status, answer) = http("GET", &format!("{base}/v1/decisions?{query}"), &[], None);
        assert_eq!(status, 400, "{query}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains(said), "{query}: {answer}");
    }
    let (status, sessions) = http("GET", &format!("{base}/v1/patients/PAT-P2/sessions"), &[], None);
    assert_eq!(status, 200);
    assert!(!sessions.as_array().unwrap().is_empty(), "{sessions}");
    drop(daemon);
}

#[test]
fn rules_health_readiness_and_metrics_answer() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    let (status, rules) = http("GET", &format!("{base}/v1/rules"), &[], None);
    assert_eq!(status, 200);
    assert_eq!(rules["id"], "chiras-bone-chemoembolization");
    assert_eq!(http("GET", &format!("{base}/healthz"), &[], None).0, 200);
    assert_eq!(http("GET", &format!("{base}/readyz"), &[], None).0, 200);
    post_json(&format!("{base}/v1/plans"), &[], FAIL_PLAN.as_bytes());
    let (status, metrics) = http("GET", &format!("{base}/metrics"), &[], None);
    assert_eq!(status, 200);
    let text = metrics.as_str().unwrap();
    for name in [
        "embolint_decisions_total{verdict=\"fail\"} 1",
        "embolint_findings_total{",
        "embolint_check_seconds_bucket",
        "embolint_inbox_plans",
        "embolint_history_usable 1",
        "embolint_build_info{",
    ] {
        assert!(text.contains(name), "{name} missing in:\n{text}");
    }
    drop(daemon);
}

#[test]
fn a_wrong_method_or_an_unknown_path_gets_a_json_error_that_says_so() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    for (method, path, allowed) in [
        ("GET", "/v1/plans", "POST"),
        ("GET", "/v1/check", "POST"),
        ("POST", "/v1/rules", "GET"),
        ("DELETE", "/v1/decisions/1", "GET"),
        ("GET", "/cds-services/embolint-order-sign", "POST"),
        ("PUT", "/healthz", "GET"),
    ] {
        let response = util::answer(method, &format!("{base}{path}"), &[], None);
        assert_eq!(response.status(), 405, "{method} {path}");
        let allow = response.header("Allow").unwrap_or_default().to_string();
        assert!(allow.contains(allowed), "{method} {path}: Allow: {allow}");
        let body: Value = serde_json::from_str(&response.into_string().unwrap()).unwrap();
        let message = body["error"].as_str().unwrap_or_default();
        assert!(message.contains(method) && message.contains(path), "{method} {path}: {body}");
    }
    let (status, body) = http("GET", &format!("{base}/v2/plans"), &[], None);
    assert_eq!(status, 404);
    assert!(body["error"].is_string(), "{body}");
    drop(daemon);
}

#[test]
fn a_body_over_the_plan_size_limit_gets_413_and_a_body_not_json_or_compressed_gets_415() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&["--max-plan-bytes", "1000"]);
    for path in ["/v1/check", "/v1/plans"] {
        let (status, body) = post_json(&format!("{base}{path}"), &[], PASS_PLAN.as_bytes());
        assert_eq!(status, 413, "{body}");
        assert!(body["error"].as_str().unwrap().contains("1000 bytes"));
        let headers = [("Content-Type", "text/plain")];
        let (status, body) = http("POST", &format!("{base}{path}"), &headers, Some(b"{}"));
        assert_eq!(status, 415, "{body}");
        assert!(body["error"].is_string());
        let headers = [("Content-Type", "application/json"), ("Content-Encoding", "gzip")];
        let (status, body) = http("POST", &format!("{base}{path}"), &headers, Some(b"{}"));
        assert_eq!(status, 415, "{body}");
        assert!(body["error"].as_str().unwrap().contains("uncompressed"), "{body}");
    }
    let (status, verdict) = post_json(&format!("{base}/v1/check"), &[], b"");
    assert_eq!((status, verdict["verdict"].as_str()), (200, Some("invalid")));
    assert!(site.records().is_empty());
    drop(daemon);
}

#[test]
fn a_client_that_sends_half_a_request_and_stalls_is_cut_off() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&["--read-timeout-secs", "1"]);
    let address = base.trim_start_matches("http://");
    for half in [
        "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"format\":",
        "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Ty",
    ] {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        stream.write_all(half.as_bytes()).unwrap();
        let started = Instant::now();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        assert!(started.elapsed() < Duration::from_secs(25), "the stalled connection was held");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    drop(daemon);
}

#[test]
fn serve_on_a_non_loopback_address_without_a_token_file_refuses_to_start() {
    let mut site = Site::new();
    fs::create_dir_all(site.root()).unwrap();
    let port = util::free_port().to_string();
    let listen = format!("0.0.0.0:{port}");
    let daemon = site.spawn_serve(&["--listen", &listen]);
    let (status, log) = daemon.wait_exit_keeping_log();
    assert_eq!(status.code(), Some(3), "{log}");
    assert!(log.contains("--token-file"), "{log}");
    assert!(!site.root().join("log").exists(), "the root was touched");
}

#[test]
fn with_a_token_file_every_v1_request_needs_the_bearer_token() {
    let mut site = Site::new();
    let token_file = site.dir.path().join("token");
    fs::write(&token_file, "s3cret-token-of-the-site\n").unwrap();
    let (daemon, base) = site.serve(&["--token-file", token_file.to_str().unwrap()]);
    let (status, body) = http("GET", &format!("{base}/v1/rules"), &[], None);
    assert_eq!(status, 401, "{body}");
    let wrong = [("Authorization", "Bearer not-the-token")];
    assert_eq!(http("GET", &format!("{base}/v1/rules"), &wrong, None).0, 401);
    for right in [
        "Bearer s3cret-token-of-the-site",
        // The scheme's name is not case-sensitive, and proxies differ.
        "bearer s3cret-token-of-the-site",
        "BEARER   s3cret-token-of-the-site",
    ] {
        let header = [("Authorization", right)];
        assert_eq!(http("GET", &format!("{base}/v1/rules"), &header, None).0, 200, "{right}");
    }
    for wrong in ["Basic s3cret-token-of-the-site", "Bearers3cret-token-of-the-site", "Bearer "] {
        let header = [("Authorization", wrong)];
        assert_eq!(http("GET", &format!("{base}/v1/rules"), &header, None).0, 401, "{wrong}");
    }
    assert_eq!(http("GET", &format!("{base}/healthz"), &[], None).0, 200);
    assert_eq!(http("GET", &format!("{base}/metrics"), &[], None).0, 200);
    drop(daemon);
}

#[test]
fn sigterm_under_load_exits_0_with_every_answered_plan_recorded() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let posters: Vec<_> = (0..4)
        .map(|t| {
            let (base, stop) = (base.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut answered = Vec::new();
                for i in 0.. {
                    if stop.load(std::sync::atomic::Ordering::SeqCst) && i > 200 {
                        break;
                    }
                    let plan = util::pass_plan(&format!("T{t}-{i}"));
                    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
                    let sent = agent
                        .post(&format!("{base}/v1/plans"))
                        .set("Content-Type", "application/json")
                        .send_bytes(plan.as_bytes());
                    match sent {
                        Ok(response) if response.status() == 201 => {
                            let record: Value = response.into_json().unwrap();
                            answered.push(record["seq"].as_u64().unwrap());
                        }
                        Ok(response) => panic!("status {}", response.status()),
                        Err(_) => break,
                    }
                }
                answered
            })
        })
        .collect();
    util::wait_until("some plans recorded", || site.records().len() >= 8);
    daemon.signal(libc::SIGTERM);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (status, log) = daemon.wait_exit_keeping_log();
    assert_eq!(status.code(), Some(0), "{log}");
    let answered: Vec<u64> = posters.into_iter().flat_map(|p| p.join().unwrap()).collect();
    assert!(answered.len() >= 8);
    let records = site.records();
    for seq in answered {
        assert_eq!(records.iter().filter(|r| r["seq"] == seq).count(), 1, "seq {seq}");
    }
    site.assert_inbox_has_no_plans();
}

#[test]
fn sighup_reloads_the_rule_file_and_v1_rules_shows_the_new_rules() {
    let mut site = Site::new();
    let rules = site.dir.path().join("rules.toml");
    fs::write(&rules, util::SHIPPED_RULES).unwrap();
    let (mut daemon, base) = site.serve(&["--rules", rules.to_str().unwrap()]);
    let (_, before) = http("GET", &format!("{base}/v1/rules"), &[], None);
    let old_version = before["version"].as_str().unwrap().to_string();
    let changed = util::SHIPPED_RULES.replacen(
        &format!("version = \"{old_version}\""),
        "version = \"9.9.9-site\"",
        1,
    );
    assert_ne!(changed, util::SHIPPED_RULES);
    fs::write(&rules, changed).unwrap();
    daemon.signal(libc::SIGHUP);
    daemon.wait_for_log("new rule file in force");
    util::wait_until("the service to see the new rules", || {
        http("GET", &format!("{base}/v1/rules"), &[], None).1["version"] == "9.9.9-site"
    });
    drop(daemon);
}

#[test]
fn readyz_is_503_naming_the_decision_log_while_it_cannot_be_written_and_200_again_after() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    let readyz = format!("{base}/readyz");
    assert_eq!(http("GET", &readyz, &[], None).0, 200);
    let log = site.root().join("log/decisions.jsonl");
    let aside = site.root().join("log/decisions.jsonl.aside");
    assert!(log.is_file(), "the log exists from the start");
    // Root passes permission checks, so the log is made unwritable by
    // putting a folder in its place.
    fs::rename(&log, &aside).unwrap();
    fs::create_dir(&log).unwrap();
    let (status, body) = http("GET", &readyz, &[], None);
    assert_eq!(status, 503, "{body}");
    let reason = body["error"].as_str().unwrap();
    assert!(reason.contains("decision log") && reason.contains("writing"), "{reason}");
    fs::remove_dir(&log).unwrap();
    fs::rename(&aside, &log).unwrap();
    assert_eq!(http("GET", &readyz, &[], None).0, 200);
    drop(daemon);
}
