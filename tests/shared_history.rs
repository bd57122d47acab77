//! Several daemons, one patient history (PostgreSQL): real daemons on roots
//! of their own, all with `--history-url` naming a private PostgreSQL 15
//! server (`util::postgres`). The tests that stop the server start one of
//! their own; the others each get an empty database on one server they
//! share, started once per test run.
//!
//! - Two daemons judging, at the same moment, plans of one patient whose
//!   sessions are too close together: exactly one of them passes.
//! - A revision judged at one site replaces the earlier version for the
//!   other; a plan judged after a withdrawal at the other site is not held
//!   against the withdrawn plan.
//! - kill -9 of either daemon during a burst, several times, and the server
//!   stopped mid-burst and started again: every plan gets exactly one
//!   record, the pairs still have exactly one pass each, and the shared
//!   history equals the passed plans of both logs.
//! - Plans posted to `serve` (POST /v1/plans) and plans dropped at another
//!   site share the history: exactly one of each conflicting pair passes,
//!   and the service's readers (sessions, dry runs) see the other site.
//! - The server stopped while a batch's transaction is open (the daemon
//!   waiting there for a patient's lock): nothing of it is recorded, and
//!   the plan is judged once when the server is back.
//! - A batch the shared history refuses just before its records (a fault
//!   injected there): nothing of it is recorded, its verdict files being
//!   written are removed, and its plans are judged once later.
//! - Reconciliation at start-up: a withdrawal logged but not yet applied
//!   is carried out once; a second start changes nothing.
//! - `history --migrate-to` copies a root's SQLite history once and refuses
//!   the second time; the root cannot then be started without the URL.

use crate::util::postgres::{self, Cluster};
use crate::util::{self, plan_on, wait_until, Daemon, Site};
use embolint::history::{HistoryUrl, Location, RecordedPlan};
use serde_json::Value;
use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

/// Day D and D + 14 days: sessions too close together (one month apart
/// at least, says the protocol).
const DAY_D: &str = "2026-11-05";
const DAY_D_PLUS_14: &str = "2026-11-19";

/// Starts `embolint watch` on `site` with the shared history at `url`.
fn start(site: &mut Site, url: &str, extra: &[&str]) -> Daemon {
    let mut args = vec!["--history-url", url, "--rescan-interval-secs", "1"];
    args.extend_from_slice(extra);
    site.start(&args)
}

/// Every plan the shared history at `url` holds, by plan id.
fn shared_plans(url: &str) -> Vec<RecordedPlan> {
    let location = Location::Postgres(HistoryUrl::new(url).unwrap());
    location.open_read_only().unwrap().plans().unwrap()
}

/// The passed plans of several logs, as their history rows, by plan id.
fn history_of_logs(sites: &[&Site]) -> Vec<RecordedPlan> {
    let mut plans = BTreeMap::new();
    for site in sites {
        for plan in site.history_from_log() {
            assert!(plans.insert(plan.plan_id.clone(), plan).is_none(), "one plan id per site");
        }
    }
    plans.into_values().collect()
}

/// Everything the daemons of these sites logged, every start.
fn every_log(sites: &[&Site]) -> String {
    let mut text = String::new();
    for site in sites {
        for entry in std::fs::read_dir(site.dir.path()).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("daemon-") && name.ends_with(".log") {
                text.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    text
}

/// The verdict of the one record of inbox file `name` at `site`.
fn verdict_of(site: &Site, name: &str) -> String {
    let by_name = site.records_by_name();
    let records = by_name.get(name).unwrap_or_else(|| panic!("no record for {name}"));
    assert_eq!(records.len(), 1, "{name}: one record");
    records[0]["verdict"].as_str().unwrap().to_string()
}

/// Writes every plan under a temporary name first, then renames them all
/// in, alternating between the two inboxes, so both daemons find them at
/// the same moment.
fn drop_all_at_once(a: &Site, b: &Site, plans_a: &[Named], plans_b: &[Named]) {
    let stage = |site: &Site, plans: &[Named]| -> Vec<(std::path::PathBuf, std::path::PathBuf)> {
        let inbox = site.inbox();
        plans
            .iter()
            .map(|(name, text)| {
                let temp = inbox.join(format!(".{name}.tmp"));
                std::fs::write(&temp, text).unwrap();
                (temp, inbox.join(name))
            })
            .collect()
    };
    let (staged_a, staged_b) = (stage(a, plans_a), stage(b, plans_b));
    for (x, y) in staged_a.iter().zip(&staged_b) {
        std::fs::rename(&x.0, &x.1).unwrap();
        std::fs::rename(&y.0, &y.1).unwrap();
    }
}

/// A plan file to drop: its name and its text.
type Named = (String, String);

/// `count` pairs of plans of one patient each, too close together: pair i
/// is `a-i.json` (day D) for site A and `b-i.json` (day D + 14) for site B.
fn conflicting_pairs(count: usize, tag: &str) -> (Vec<Named>, Vec<Named>) {
    let plan = |site: &str, i: usize, day: &str| {
        let name = format!("{site}-{i}.json");
        let text = plan_on(&format!("PLN-{tag}-{site}-{i}"), &format!("PAT-{tag}-{i}"), day);
        (name, text)
    };
    let a = (0..count).map(|i| plan("a", i, DAY_D)).collect();
    let b = (0..count).map(|i| plan("b", i, DAY_D_PLUS_14)).collect();
    (a, b)
}

/// Asserts that of each pair exactly one plan passed, and the other failed
/// on the spacing.
fn assert_one_of_each_pair_passes(a: &Site, b: &Site, count: usize) {
    for i in 0..count {
        let (va, vb) =
            (verdict_of(a, &format!("a-{i}.json")), verdict_of(b, &format!("b-{i}.json")));
        let passes = [&va, &vb].iter().filter(|v| v.as_str() == "pass").count();
        assert_eq!(passes, 1, "pair {i}: site A {va}, site B {vb}: exactly one must pass");
        assert!(va == "fail" || vb == "fail", "pair {i}: the other fails ({va}, {vb})");
    }
}

#[test]
fn two_daemons_pass_exactly_one_of_each_pair_of_conflicting_plans() {
    let pg = postgres::database();
    let url = pg.url();
    let (mut a, mut b) = (Site::new(), Site::new());
    let _da = start(&mut a, &url, &[]);
    let _db = start(&mut b, &url, &[]);
    let (plans_a, plans_b) = conflicting_pairs(50, "race");
    drop_all_at_once(&a, &b, &plans_a, &plans_b);
    a.wait_for_records(50);
    b.wait_for_records(50);
    wait_until("every plan placed", || a.placed() == 50 && b.placed() == 50);
    assert_one_of_each_pair_passes(&a, &b, 50);
    // The loser's finding names the winner's plan.
    for record in a.records().iter().chain(b.records().iter()) {
        if record["verdict"] == "fail" {
            let text = record["findings"].to_string();
            assert!(text.contains("session-spacing"), "{text}");
        }
    }
    assert_eq!(shared_plans(&url), history_of_logs(&[&a, &b]));
    // Each decision of both sites has its copy, for review across sites.
    let copies: i64 = pg.client().query_one("SELECT count(*) FROM decisions", &[]).unwrap().get(0);
    assert_eq!(copies, 100);
}

#[test]
fn a_revision_at_one_site_replaces_the_earlier_version_at_the_other_and_a_withdrawal_counts_everywhere(
) {
    let pg = postgres::database();
    let url = pg.url();
    let (mut a, mut b) = (Site::new(), Site::new());
    let _da = start(&mut a, &url, &[]);
    let _db = start(&mut b, &url, &[]);
    let first = a.judge("x.json", &plan_on("PLN-X", "PAT-R", DAY_D));
    assert_eq!(first["verdict"], "pass");
    let held = b.judge("y.json", &plan_on("PLN-Y", "PAT-R", DAY_D_PLUS_14));
    assert_eq!(held["verdict"], "fail", "held against PLN-X passed at the other site");
    // The revision of PLN-X at site A moves its session two months on.
    let revised = a.judge("x2.json", &plan_on("PLN-X", "PAT-R", "2027-01-20"));
    assert_eq!(revised["verdict"], "pass");
    // `check --history URL` (read-only) sees the revision too.
    let file = b.dir.path().join("y-check.json");
    std::fs::write(&file, plan_on("PLN-Y", "PAT-R", DAY_D_PLUS_14)).unwrap();
    let checked = b.run(&["check", "--format", "json", "--history", &url, file.to_str().unwrap()]);
    let verdict: Value = serde_json::from_slice(&checked.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&checked.stderr)));
    assert_eq!(verdict["verdict"], "pass", "{verdict}");
    let again = b.judge("y2.json", &plan_on("PLN-Y", "PAT-R", DAY_D_PLUS_14));
    assert_eq!(again["verdict"], "pass", "the earlier version no longer counts: {again}");
    // Read from site B's side with `history --history-url`.
    let output = b.run(&["history", "PAT-R", "--history-url", &url, "--format", "json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let sessions: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    let seen: Vec<(String, String)> = sessions
        .iter()
        .map(|s| (s["plan_id"].as_str().unwrap().into(), s["date"].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        seen,
        [("PLN-Y".to_string(), DAY_D_PLUS_14.to_string()), ("PLN-X".into(), "2027-01-20".into())]
    );

    // A withdrawal at site B (of the plan B passed) counts at site A.
    let forget = b.spawn_forget("PLN-Y", "dr. b").wait_with_output().unwrap();
    assert!(forget.status.success(), "{}", String::from_utf8_lossy(&forget.stderr));
    let after = a.judge("z.json", &plan_on("PLN-Z", "PAT-R", "2026-11-25"));
    assert_eq!(after["verdict"], "pass", "not held against the withdrawn PLN-Y: {after}");
    assert_eq!(shared_plans(&url), history_of_logs(&[&a, &b]));
}

#[test]
fn plans_posted_to_serve_and_plans_dropped_at_another_site_share_one_history() {
    let pg = postgres::database();
    let url = pg.url();
    let (mut a, mut b) = (Site::new(), Site::new());
    let (_da, base) = a.serve(&["--history-url", &url, "--settle-millis", "0"]);
    let _db = start(&mut b, &url, &[]);
    let pairs = 20;
    let (plans_a, plans_b) = conflicting_pairs(pairs, "http");
    // Site A's plans come over HTTP (POST /v1/plans), each from a client
    // of its own, while site B's are dropped in its inbox at once.
    let posters: Vec<_> = plans_a
        .iter()
        .map(|(name, text)| {
            let (plans, text, key) = (format!("{base}/v1/plans"), text.clone(), name.clone());
            std::thread::spawn(move || {
                util::post_json(&plans, &[("Idempotency-Key", &key)], text.as_bytes())
            })
        })
        .collect();
    for (name, text) in &plans_b {
        b.drop_plan(name, text);
    }
    let mut posted = BTreeMap::new();
    for poster in posters {
        let (status, record) = poster.join().unwrap();
        assert_eq!(status, 201, "{record}");
        posted.insert(record["plan_id"].as_str().unwrap().to_string(), record);
    }
    b.wait_for_records(pairs);
    wait_until("every plan of B placed", || b.placed() == pairs);
    for i in 0..pairs {
        let va = posted[&format!("PLN-http-a-{i}")]["verdict"].as_str().unwrap().to_string();
        let vb = verdict_of(&b, &format!("b-{i}.json"));
        let passes = [&va, &vb].iter().filter(|v| v.as_str() == "pass").count();
        assert_eq!(passes, 1, "pair {i}: over HTTP {va}, dropped at B {vb}");
    }
    assert_eq!(shared_plans(&url), history_of_logs(&[&a, &b]));
    // The service's readers use the shared history too: a patient's
    // sessions include those passed at site B, and a dry run is held
    // against them.
    let (status, sessions) =
        util::http("GET", &format!("{base}/v1/patients/PAT-http-0/sessions"), &[], None);
    assert_eq!(status, 200, "{sessions}");
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let passed_at_b = verdict_of(&b, "b-0.json") == "pass";
    let expected = if passed_at_b { "PLN-http-b-0" } else { "PLN-http-a-0" };
    assert_eq!(sessions[0]["plan_id"], expected);
    let close = plan_on("PLN-http-dry", "PAT-http-0", "2026-11-12");
    let (status, dry) = util::post_json(&format!("{base}/v1/check"), &[], close.as_bytes());
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["verdict"], "fail", "held against {expected}: {dry}");
}

#[test]
fn kill_9_of_either_daemon_and_a_lost_server_mid_burst_lose_and_duplicate_nothing() {
    let cluster = Cluster::start();
    let url = cluster.url();
    let (mut a, mut b) = (Site::new(), Site::new());
    let small = ["--batch-size", "3", "--settle-millis", "50"];
    let mut da = Some(start(&mut a, &url, &small));
    let mut db = Some(start(&mut b, &url, &small));
    let pairs = 80;
    let (plans_a, plans_b) = conflicting_pairs(pairs, "crash");
    drop_all_at_once(&a, &b, &plans_a, &plans_b);
    // Five rounds: kill A, kill B, lose the server, kill A, kill B; each at
    // a moment the burst is in full swing (more records than the round
    // before).
    for round in 0..5 {
        let seen = a.records().len() + b.records().len();
        let target = (seen + 10).min(2 * pairs - 1);
        wait_until("the burst to go on", || a.records().len() + b.records().len() >= target);
        match round % 3 {
            0 => {
                da.take().unwrap().kill9();
                da = Some(start(&mut a, &url, &small));
            }
            1 => {
                db.take().unwrap().kill9();
                db = Some(start(&mut b, &url, &small));
            }
            _ => {
                cluster.stop();
                std::thread::sleep(Duration::from_millis(1500));
                let during = a.records().len() + b.records().len();
                std::thread::sleep(Duration::from_millis(1500));
                assert_eq!(
                    a.records().len() + b.records().len(),
                    during,
                    "nothing is judged while the server is gone"
                );
                cluster.resume();
            }
        }
    }
    wait_until("every plan placed", || a.placed() == pairs && b.placed() == pairs);
    let names = |plans: &[Named]| plans.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    a.assert_each_once(&names(&plans_a));
    b.assert_each_once(&names(&plans_b));
    assert_one_of_each_pair_passes(&a, &b, pairs);
    assert_eq!(shared_plans(&url), history_of_logs(&[&a, &b]));
    // The daemons that lived through the lost server said so, and said
    // when it was back.
    let logs = every_log(&[&a, &b]);
    assert!(logs.contains("patient history unavailable"), "the outage is logged");
    assert!(logs.contains("usable again"), "and the recovery");
    assert!(!logs.contains("not-shown"), "never the password");
    drop((da, db));
}

/// The advisory lock a daemon takes on `patient` (as `history::postgres`).
fn patient_lock(patient: &str) -> i64 {
    use sha2::Digest;
    let key = embolint::history::patient_key(patient);
    let digest = sha2::Sha256::digest(format!("embolint patient {key}").as_bytes());
    i64::from_be_bytes(digest[..8].try_into().unwrap())
}

#[test]
fn a_server_lost_while_a_batch_is_open_records_nothing_of_it_and_the_plan_is_judged_once_later() {
    let cluster = Cluster::start();
    let url = cluster.url();
    let mut a = Site::new();
    let mut da = start(&mut a, &url, &[]);
    // This test holds patient PAT-Q's lock, so A's batch opens its
    // transaction, takes the plan up and waits for the lock: the server is
    // stopped at that moment.
    let mut holder = cluster.client();
    let mut held = holder.transaction().unwrap();
    held.execute("SELECT pg_advisory_xact_lock($1)", &[&patient_lock("PAT-Q")]).unwrap();
    a.drop_plan("q.json", &plan_on("PLN-Q", "PAT-Q", DAY_D));
    wait_until("A's batch to wait for the patient", || {
        let waiting: i64 = cluster
            .client()
            .query_one(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
                &[],
            )
            .unwrap()
            .get(0);
        waiting == 1
    });
    cluster.stop();
    drop(held);
    drop(holder);
    da.wait_for_log("patient history unavailable");
    std::thread::sleep(Duration::from_millis(2500));
    assert!(a.records().is_empty(), "nothing of the open batch is recorded");
    assert!(a.inbox().join("q.json").exists(), "the plan waits in the inbox");
    cluster.resume();
    a.wait_for_records(1);
    da.wait_for_log("usable again");
    wait_until("q.json placed", || a.placed() == 1);
    a.assert_each_once(&["q.json".to_string()]);
    assert_eq!(verdict_of(&a, "q.json"), "pass");
    assert_eq!(shared_plans(&url), history_of_logs(&[&a]));
}

#[test]
fn a_batch_the_shared_history_refuses_before_its_records_leaves_no_verdict_file_and_is_judged_once_later(
) {
    let pg = postgres::database();
    let url = pg.url();
    let mut a = Site::new();
    let args = ["--history-url", url.as_str(), "--batch-size", "8"];
    // The first batch's commit to the shared history fails (EIO), after
    // its verdict files began to be written and before its records.
    let mut daemon = a.start_with_env(&args, &[("EMBOLINT_WATCH_FAULT", "shared-history:1")]);
    let names: Vec<String> = (0..5).map(|i| format!("r{i}.json")).collect();
    for (i, name) in names.iter().enumerate() {
        a.write(name, &plan_on(&format!("PLN-R{i}"), &format!("PAT-R{i}"), DAY_D));
    }
    daemon.wait_for_log("patient history unavailable");
    wait_until("every plan placed", || a.placed() == names.len());
    assert!(daemon.terminate().success());
    a.assert_each_once(&names);
    a.assert_no_verdict_being_written();
    assert_eq!(shared_plans(&url), history_of_logs(&[&a]));
}

#[test]
fn a_batch_committed_to_the_shared_history_but_never_logged_is_taken_back_and_judged_again() {
    let pg = postgres::database();
    let url = pg.url();
    let (mut a, mut b) = (Site::new(), Site::new());
    let args = ["--history-url", url.as_str()];
    let crash = [("EMBOLINT_WATCH_FAILPOINT", "after-shared-history:1")];
    let da = a.spawn(&args, &crash);
    a.drop_plan("a.json", &plan_on("PLN-A", "PAT-C", DAY_D));
    let (status, log) = da.wait_exit_keeping_log();
    assert!(status.code().is_none(), "killed at the failpoint: {log}");
    assert!(a.records().is_empty(), "nothing reached A's log");
    assert_eq!(shared_plans(&url).len(), 1, "but the database holds its rows");
    // Meanwhile site B is held against those rows: a false alarm at worst,
    // never a second pass.
    let _db = start(&mut b, &url, &[]);
    let held = b.judge("b.json", &plan_on("PLN-B", "PAT-C", DAY_D_PLUS_14));
    assert_eq!(held["verdict"], "fail");
    // A starts again: its unlogged rows are taken back, and its plan, still
    // in its inbox, is judged again and recorded once.
    let mut da = start(&mut a, &url, &[]);
    da.wait_for_log("took back from the shared history");
    wait_until("a.json placed", || a.placed() == 1);
    a.assert_each_once(&["a.json".to_string()]);
    assert_eq!(verdict_of(&a, "a.json"), "pass");
    assert_eq!(shared_plans(&url), history_of_logs(&[&a, &b]));
    let copies: Vec<String> = pg
        .client()
        .query("SELECT checked_at FROM decisions WHERE plan_id = 'PLN-A'", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let logged = a.records()[0]["checked_at"].as_str().unwrap().to_string();
    assert_eq!(copies, [logged], "one decision copy: the record's, not the lost one's");
    // Reconciling again at the next start takes nothing back.
    let before = shared_plans(&url);
    assert_eq!(da.terminate().code(), Some(0));
    let mut da = start(&mut a, &url, &[]);
    da.wait_for_log("embolint watch started");
    assert!(da.log_lines("took back").is_empty(), "{}", da.stderr());
    assert_eq!(shared_plans(&url), before);
    a.assert_each_once(&["a.json".to_string()]);
}

#[test]
fn reconciliation_at_start_up_finishes_an_interrupted_withdrawal_and_a_second_start_changes_nothing(
) {
    let pg = postgres::database();
    let url = pg.url();
    let (mut a, mut b) = (Site::new(), Site::new());
    let crash = [("EMBOLINT_WATCH_FAILPOINT", "after-forget-log:1")];
    let da = a.start_with_env(&["--history-url", &url], &crash);
    assert_eq!(a.judge("a.json", &plan_on("PLN-W", "PAT-W", DAY_D))["verdict"], "pass");
    // The withdrawal reaches A's log; A is killed before the database.
    let asking = a.spawn_forget("PLN-W", "dr. a");
    assert_eq!(da.wait_exit().signal(), Some(libc::SIGKILL), "the failpoint did not fire");
    assert_eq!(a.events().len(), 1, "the withdrawal is in A's log");
    assert_eq!(shared_plans(&url).len(), 1, "but not yet in the shared history");
    // Until A is back, site B is still held against the withdrawn plan: a
    // false alarm at worst, never a second pass.
    let _db = start(&mut b, &url, &[]);
    let held = b.judge("b1.json", &plan_on("PLN-V", "PAT-W", DAY_D_PLUS_14));
    assert_eq!(held["verdict"], "fail", "{held}");
    // A starts again: the withdrawal is carried out, once, and answered.
    let da = start(&mut a, &url, &[]);
    let answer = asking.wait_with_output().unwrap();
    assert!(answer.status.success(), "{}", String::from_utf8_lossy(&answer.stderr));
    assert_eq!(a.events().len(), 1, "the withdrawal is logged once");
    assert_eq!(shared_plans(&url), history_of_logs(&[&a, &b]));
    assert!(shared_plans(&url).is_empty());
    let again = b.judge("b2.json", &plan_on("PLN-V", "PAT-W", DAY_D_PLUS_14));
    assert_eq!(again["verdict"], "pass", "no longer held against PLN-W: {again}");
    // A second start reconciles again and finds nothing to change: the
    // withdrawn plan is not put back from A's log, B's plan is kept.
    let before = shared_plans(&url);
    let copies = |pg: &postgres::Database| -> i64 {
        pg.client().query_one("SELECT count(*) FROM decisions", &[]).unwrap().get(0)
    };
    let copies_before = copies(&pg);
    assert_eq!(da.terminate().code(), Some(0));
    let mut da = start(&mut a, &url, &[]);
    da.wait_for_log("embolint watch started");
    assert!(da.log_lines("caught up").is_empty(), "{}", da.stderr());
    assert!(da.log_lines("took back").is_empty(), "{}", da.stderr());
    assert_eq!(shared_plans(&url), before);
    assert_eq!(copies(&pg), copies_before);
    assert_eq!(shared_plans(&url), history_of_logs(&[&a, &b]));
}

#[test]
fn migrate_to_copies_a_history_once_and_refuses_the_second_time() {
    let pg = postgres::database();
    let url = pg.url();
    let mut site = Site::new();
    let daemon = site.start(&[]);
    assert_eq!(site.judge("x.json", &plan_on("PLN-M", "PAT-M", DAY_D))["verdict"], "pass");
    assert_eq!(daemon.terminate().code(), Some(0));
    let root = site.root();
    let migrate = |site: &Site| {
        site.run(&["history", "--root", root.to_str().unwrap(), "--migrate-to", &url])
    };
    let first = migrate(&site);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let said = String::from_utf8_lossy(&first.stdout);
    assert!(said.contains("copied 1 plans"), "{said}");
    assert!(!said.contains("not-shown"), "the password is never printed: {said}");
    assert_eq!(shared_plans(&url), site.history_in_db());
    let second = migrate(&site);
    assert_eq!(second.status.code(), Some(3));
    let refused = String::from_utf8_lossy(&second.stderr);
    assert!(refused.contains("already holds a patient history"), "{refused}");
    // The root now lives on the shared history: without the URL it is
    // refused; with it, its patients are still known.
    let show = site.run(&["history", "PAT-M", "--root", root.to_str().unwrap()]);
    assert_eq!(show.status.code(), Some(3), "the old file is not read as if current");
    assert!(String::from_utf8_lossy(&show.stderr).contains("--history-url"));
    let (status, log) = site.spawn(&[], &[]).wait_exit_keeping_log();
    assert_eq!(status.code(), Some(3), "{log}");
    assert!(log.contains("no history_url is set now"), "{log}");
    let _daemon = start(&mut site, &url, &[]);
    let close = site.judge("y.json", &plan_on("PLN-N", "PAT-M", DAY_D_PLUS_14));
    assert_eq!(close["verdict"], "fail", "held against the copied plan");
}

#[test]
fn while_the_server_is_gone_nothing_is_judged_readyz_says_why_and_judging_resumes() {
    let cluster = Cluster::start();
    let url = cluster.url();
    let mut site = Site::new();
    let (mut daemon, base) = site.serve(&["--history-url", &url]);
    assert_eq!(util::http("GET", &format!("{base}/readyz"), &[], None).0, 200);
    cluster.stop();
    wait_until("readyz to say not ready", || {
        util::http("GET", &format!("{base}/readyz"), &[], None).0 == 503
    });
    let (_, body) = util::http("GET", &format!("{base}/readyz"), &[], None);
    let message = body["error"].as_str().unwrap();
    assert!(message.contains("cannot be reached"), "{message}");
    assert!(!message.contains("not-shown"), "never the password: {message}");
    site.drop_plan("p.json", &plan_on("PLN-O", "PAT-O", DAY_D));
    std::thread::sleep(Duration::from_millis(2500));
    assert!(site.records().is_empty(), "nothing judged while the server is gone");
    assert!(site.inbox().join("p.json").exists(), "the plan waits in the inbox");
    cluster.resume();
    site.wait_for_records(1);
    daemon.wait_for_log("usable again");
    assert_eq!(daemon.log_lines("patient history unavailable").len(), 1, "logged once");
    wait_until("ready again", || util::http("GET", &format!("{base}/readyz"), &[], None).0 == 200);
    assert!(!daemon.stderr().contains("not-shown"), "the password is never logged");
}
