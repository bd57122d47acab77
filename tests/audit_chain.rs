//! The decision log is tamper-evident: a log the real daemon wrote (plans
//! of every verdict and a withdrawal) verifies, and each kind of tampering
//! — a byte edited in a middle record, a record deleted, two records
//! swapped, the file cut in the middle, a forged record appended, the
//! start removed — makes `embolint verify-log` exit 1 naming the first
//! broken line. An unreadable log exits 3.

use crate::util;

use serde_json::Value;
use std::path::{Path, PathBuf};
use util::{fail_plan, pass_plan, Site};

/// A site whose log the daemon wrote: 30 plans (pass, fail, invalid) in
/// batches of 4, then a withdrawal, then 5 more plans. Returns the log's
/// lines (without newlines).
fn written_log(site: &mut Site) -> Vec<String> {
    let daemon = site.start(&["--batch-size", "4"]);
    for i in 0..30 {
        let text = match i % 3 {
            0 => pass_plan(&format!("PLN-{i}")),
            1 => fail_plan(&format!("PLN-{i}")),
            _ => "{ not a plan".to_string(),
        };
        site.drop_plan(&format!("plan-{i:02}.json"), &text);
    }
    site.wait_for_records(30);
    let root = site.root();
    let output = site.run(&[
        "history",
        "--forget",
        "PLN-0",
        "--by",
        "Dr. Audit",
        "--reason",
        "procedure cancelled",
        "--root",
        root.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    for i in 30..35 {
        site.judge(&format!("plan-{i:02}.json"), &pass_plan(&format!("PLN-{i}")));
    }
    assert!(daemon.terminate().success());
    let text = std::fs::read_to_string(site.root().join("log/decisions.jsonl")).unwrap();
    assert!(text.ends_with('\n'));
    text.lines().map(str::to_string).collect()
}

/// Runs `embolint verify-log PATH ARGS`: exit code and standard output.
fn verify(site: &Site, path: &Path, args: &[&str]) -> (i32, String) {
    let mut all = vec!["verify-log", path.to_str().unwrap()];
    all.extend_from_slice(args);
    let output = site.run(&all);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap(), format!("{stdout}{stderr}"))
}

/// Writes `lines` (each with its newline) plus `tail` as a log file of
/// the site, apart from the served one; returns its path.
fn tampered(site: &Site, name: &str, lines: &[String], tail: &str) -> PathBuf {
    let path = site.dir.path().join(format!("{name}.jsonl"));
    let mut text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    text.push_str(tail);
    std::fs::write(&path, text).unwrap();
    path
}

/// Asserts exit 1 and that the report names `line` as the first break.
fn assert_broken_at(site: &Site, path: &Path, line: usize, also: &str) {
    let (code, out) = verify(site, path, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("chain BROKEN at line {line}\n")), "{out}");
    assert!(out.contains(also), "expected {also:?} in:\n{out}");
}

#[test]
fn a_log_written_by_the_daemon_verifies_and_each_tampering_is_named() {
    let mut site = Site::new();
    let lines = written_log(&mut site);
    assert_eq!(lines.len(), 36, "35 records and one withdrawal");
    let events = lines.iter().filter(|l| l.contains("\"event\":\"history-forget\"")).count();
    assert_eq!(events, 1);

    // Intact: the served root verifies, with a summary.
    let (code, out) = verify(&site, &site.root(), &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("chain intact — 36 lines (35 decision records, 1 event)"), "{out}");
    assert!(out.contains("first: line 1, seq 1") && out.contains("last: line 36, seq 36"), "{out}");

    // A byte edited in a middle record (a verdict turned around): the
    // chain breaks at the next line, which names the edited one.
    let mut edited = lines.clone();
    let k = (15..).find(|&k| edited[k].contains("\"verdict\":\"fail\"")).unwrap();
    edited[k] = edited[k].replacen("\"verdict\":\"fail\"", "\"verdict\":\"pass\"", 1);
    let path = tampered(&site, "edited", &edited, "");
    let changed = format!("line {} was changed after it was written", k + 1);
    assert_broken_at(&site, &path, k + 2, &changed);

    // A record deleted.
    let mut deleted = lines.clone();
    deleted.remove(9);
    let path = tampered(&site, "deleted", &deleted, "");
    assert_broken_at(&site, &path, 10, "the lines with seq 10 to 10 are missing");

    // Two records swapped.
    let mut swapped = lines.clone();
    swapped.swap(20, 21);
    let path = tampered(&site, "swapped", &swapped, "");
    assert_broken_at(&site, &path, 21, "line 21 has seq 22, but line 20 has seq 20");

    // The file cut in the middle of a record.
    let whole = std::fs::read(site.root().join("log/decisions.jsonl")).unwrap();
    let mut cut_at = whole.len() / 2;
    while whole[cut_at - 1] == b'\n' {
        cut_at += 1;
    }
    let kept = whole[..cut_at].iter().filter(|&&b| b == b'\n').count();
    let path = site.dir.path().join("cut.jsonl");
    std::fs::write(&path, &whole[..cut_at]).unwrap();
    assert_broken_at(&site, &path, kept + 1, "is incomplete");

    // A forged record appended: a copy of the last one with the next seq
    // and another verdict, whose prev_sha256 cannot name the line before.
    let mut forged: Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    forged["seq"] = 37.into();
    forged["verdict"] = "fail".into();
    let mut appended = lines.clone();
    appended.push(serde_json::to_string(&forged).unwrap());
    let path = tampered(&site, "forged", &appended, "");
    assert_broken_at(&site, &path, 37, "does not follow line 36");

    // A record copied to the end, as it was.
    let mut repeated = lines.clone();
    repeated.push(lines[4].clone());
    let path = tampered(&site, "repeated", &repeated, "");
    assert_broken_at(&site, &path, 37, "came earlier in the log");

    // The first records removed.
    let path = tampered(&site, "headless", &lines[3..], "");
    assert_broken_at(&site, &path, 1, "were removed");

    // As JSON, for software.
    let path = tampered(&site, "deleted-json", &deleted, "");
    let (code, out) = verify(&site, &path, &["--format", "json"]);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["intact"], false);
    assert_eq!(report["break"]["kind"], "seq");
    assert_eq!(report["break"]["line"], 10);
    assert_eq!(report["break"]["expected"], "10");
    assert_eq!(report["break"]["found"], "11");
    assert_eq!(report["lines"], 9, "the lines before the break are intact");
}

#[test]
fn an_anchor_noted_earlier_catches_records_removed_from_the_end() {
    let mut site = Site::new();
    let lines = written_log(&mut site);
    let (_, out) = verify(&site, &site.root(), &["--format", "json"]);
    let report: Value = serde_json::from_str(&out).unwrap();
    let anchor =
        format!("{}:{}", report["last"]["seq"], report["last"]["sha256"].as_str().unwrap());

    let (code, out) = verify(&site, &site.root(), &["--anchor", &anchor]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("the anchor at seq 36 matches"), "{out}");

    // The last three lines removed whole: the chain alone still holds.
    let path = tampered(&site, "shortened", &lines[..33], "");
    assert_eq!(verify(&site, &path, &[]).0, 0, "no anchor, no way to tell");
    let (code, out) = verify(&site, &path, &["--anchor", &anchor]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("the lines with seq 34 to 36 were removed from its end"), "{out}");

    let (code, out) = verify(&site, &site.root(), &["--anchor", "36:beef"]);
    assert_eq!(code, 3, "a malformed anchor is a mistake on the command line: {out}");
}

#[test]
fn a_log_that_cannot_be_read_exits_3() {
    let site = Site::new();
    let (code, out) = verify(&site, &site.root(), &[]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("cannot read the decision log"), "{out}");
}
