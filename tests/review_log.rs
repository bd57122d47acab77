//! `embolint log`: the decisions of a root made by the real daemon, through
//! the decision index — every filter, text and JSON, the empty answer, and
//! colour only where it belongs.

use crate::util::{self, fail_plan, plan_on, Site};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

/// A root with five decisions the real daemon made, in this order:
/// pass (Ann Lee; a course-length note), fail (PAT-0007: artery-dose-max,
/// course-length),
/// invalid (not JSON), pass (PAT/2 b), fail (PAT-0007 again).
fn site_with_decisions() -> Site {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    let plans = [
        ("a-pass.json", plan_on("PLN-A", "Ann Lee", "2026-11-05")),
        ("b-fail.json", fail_plan("PLN-B")),
        ("c-invalid.json", "this is not a plan".to_string()),
        ("d-pass.json", plan_on("PLN-D", "PAT/2 b", "2026-11-05")),
        ("e-fail.json", fail_plan("PLN-E")),
    ];
    for (i, (name, text)) in plans.iter().enumerate() {
        site.drop_plan(name, text);
        site.wait_for_records(i + 1);
    }
    assert!(daemon.terminate().success());
    site
}

fn log(site: &Site, args: &[&str]) -> Output {
    log_with_env(site, args, &[])
}

fn log_with_env(site: &Site, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_embolint"));
    command.arg("log").arg("--root").arg(site.root()).args(args).env_remove("NO_COLOR");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The file of each text line (after the time and the verdict), in order.
fn files(text: &str) -> Vec<String> {
    text.lines().map(|l| l.split_whitespace().nth(4).unwrap_or_default().to_string()).collect()
}

fn json_records(output: &Output) -> Vec<Value> {
    stdout(output).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn today() -> String {
    jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date().to_string()
}

#[test]
fn log_lists_every_decision_newest_first_one_aligned_line_each_and_json_gives_the_records_as_written(
) {
    let site = site_with_decisions();
    let text = stdout(&log(&site, &[]));
    assert_eq!(
        files(&text),
        ["e-fail.json", "d-pass.json", "c-invalid.json", "b-fail.json", "a-pass.json"],
        "{text}"
    );
    let b = text.lines().nth(3).unwrap();
    assert!(b.contains(" fail ") && b.contains("PLN-B") && b.contains("PAT-0007"), "{b}");
    assert!(b.ends_with("artery-dose-max, course-length"), "{b}");
    assert!(
        text.lines()
            .nth(2)
            .unwrap()
            .ends_with(" invalid  c-invalid.json  -      -         plan-format"),
        "{text}"
    );
    let columns: Vec<usize> = text.lines().filter_map(|l| l.find("PLN-")).collect();
    assert!(
        columns.len() == 4 && columns.iter().all(|c| *c == columns[0]),
        "the plan column is aligned:\n{text}"
    );
    assert!(!text.contains('\x1b'), "no colour when not on a terminal");

    let records = json_records(&log(&site, &["--format", "json"]));
    let log_text = std::fs::read_to_string(site.root().join("log/decisions.jsonl")).unwrap();
    let mut written: Vec<&str> = log_text.lines().filter(|l| l.contains("\"verdict\"")).collect();
    written.reverse();
    let printed = stdout(&log(&site, &["--format", "json"]));
    assert_eq!(printed.lines().collect::<Vec<_>>(), written, "the records exactly as written");
    assert_eq!(records.len(), 5);
}

#[test]
fn log_filters_by_verdict_rule_patient_and_dates_in_text_and_json() {
    let site = site_with_decisions();
    let today = today();
    let cases: &[(&[&str], &[&str])] = &[
        (&["--verdict", "fail"], &["e-fail.json", "b-fail.json"]),
        (&["--verdict", "invalid"], &["c-invalid.json"]),
        (&["--verdict", "pass"], &["d-pass.json", "a-pass.json"]),
        (&["--rule", "artery-dose-max"], &["e-fail.json", "b-fail.json"]),
        (
            &["--rule", "course-length"],
            &["e-fail.json", "d-pass.json", "b-fail.json", "a-pass.json"],
        ),
        (&["--rule", "plan-format"], &["c-invalid.json"]),
        (&["--patient", "PAT/2 b"], &["d-pass.json"]),
        // Compared as the history compares patients: case and spacing aside.
        (&["--patient", " ann  LEE "], &["a-pass.json"]),
        (&["--patient", "PAT-0007", "--verdict", "fail"], &["e-fail.json", "b-fail.json"]),
        (
            &["--since", &today],
            &["e-fail.json", "d-pass.json", "c-invalid.json", "b-fail.json", "a-pass.json"],
        ),
        (&["--until", &today, "--verdict", "invalid"], &["c-invalid.json"]),
        (
            &["--since", &today, "--until", &today, "--rule", "artery-dose-max"],
            &["e-fail.json", "b-fail.json"],
        ),
        (&["--verdict", "fail", "--limit", "1"], &["e-fail.json"]),
    ];
    for (args, expected) in cases {
        let text = stdout(&log(&site, args));
        assert_eq!(files(&text), *expected, "log {args:?}:\n{text}");
        let mut json_args = args.to_vec();
        json_args.extend(["--format", "json"]);
        let records = json_records(&log(&site, &json_args));
        let names: Vec<&str> =
            records.iter().map(|r| r["watch"]["inbox_name"].as_str().unwrap()).collect();
        assert_eq!(names, *expected, "log {json_args:?}");
    }
}

#[test]
fn log_with_no_matching_decision_exits_0_and_says_so() {
    let site = site_with_decisions();
    let tomorrow = (jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date()
        + jiff::ToSpan::days(1))
    .to_string();
    for args in [
        vec!["--since", tomorrow.as_str()],
        vec!["--until", "2000-01-01"],
        vec!["--patient", "nobody"],
        vec!["--rule", "no-such-rule"],
        vec!["--verdict", "pass", "--rule", "artery-dose-max"],
    ] {
        let output = log(&site, &args);
        let text = stdout(&output);
        assert!(text.starts_with("no decision matches these filters ("), "{args:?}: {text}");
        let mut json = args.clone();
        json.extend(["--format", "json"]);
        let output = log(&site, &json);
        assert_eq!(stdout(&output), "", "JSON Lines stay clean: nothing on standard output");
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(said.contains("no decision matches"), "{said}");
        // Only a rule no one knows gets the note on its spelling: a
        // misspelt rule must not read as "this rule never fired".
        let noted = said.contains("check its spelling");
        assert_eq!(noted, args.contains(&"no-such-rule"), "{args:?}: {said}");
    }
}

#[test]
fn log_refuses_a_limit_of_0() {
    let site = site_with_decisions();
    let output = log(&site, &["--limit", "0"]);
    assert_eq!(output.status.code(), Some(3), "an empty answer would read as no decision");
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--limit"));
    assert_eq!(files(&stdout(&log(&site, &["--limit", "1"]))).len(), 1);
}

#[test]
fn log_of_a_root_without_a_decision_log_exits_3_and_a_bad_date_is_refused() {
    let site = Site::new();
    std::fs::create_dir_all(site.root()).unwrap();
    let output = log(&site, &[]);
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("decision log"));
    let output = log(&site, &["--since", "5 Nov 2026"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("YYYY-MM-DD"));
    let output = log(&site, &["--verdict", "maybe"]);
    assert_eq!(output.status.code(), Some(3), "a usage error exits 3, never 1 or 2");
    assert!(String::from_utf8_lossy(&output.stderr).contains("pass, fail, invalid"));
}

/// Runs `embolint log` in a pseudo-terminal (util-linux `script`).
fn log_on_a_terminal(site: &Site, no_color: Option<&str>) -> String {
    let command =
        format!("{} log --root '{}'", env!("CARGO_BIN_EXE_embolint"), site.root().display());
    let mut script = Command::new("script");
    script.args(["-qec", &command, "/dev/null"]).env_remove("NO_COLOR");
    if let Some(value) = no_color {
        script.env("NO_COLOR", value);
    }
    let output = script.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn log_colours_the_verdicts_on_a_terminal_only_and_honours_no_color() {
    let site = site_with_decisions();
    let terminal = log_on_a_terminal(&site, None);
    assert!(terminal.contains("\x1b[1;31mfail\x1b[0m"), "{terminal:?}");
    assert!(!log_on_a_terminal(&site, Some("1")).contains('\x1b'));
    assert!(log_on_a_terminal(&site, Some("")).contains('\x1b'), "an empty NO_COLOR is unset");
    assert!(!stdout(&log(&site, &[])).contains('\x1b'), "a pipe gets no colour");
    let always = stdout(&log_with_env(&site, &["--color", "always"], &[("NO_COLOR", "1")]));
    assert!(always.contains('\x1b'), "--color always wins");
}

#[test]
fn log_writes_nothing_under_the_root_but_its_index_and_follows_a_running_daemon() {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    site.drop_plan("one.json", &plan_on("PLN-1", "PAT-1", "2026-11-05"));
    site.wait_for_records(1);
    let index: PathBuf = site.root().join("state/decisions-index.sqlite");
    let skip = [
        index.clone(),
        site.root().join("state/decisions-index.sqlite-wal"),
        site.root().join("state/decisions-index.sqlite-shm"),
    ];
    stdout(&log(&site, &[])); // builds the index
    assert_eq!(files(&stdout(&log(&site, &[]))), ["one.json"]);
    site.drop_plan("two.json", &fail_plan("PLN-2"));
    site.wait_for_records(2);
    assert_eq!(files(&stdout(&log(&site, &[]))), ["two.json", "one.json"], "caught up");
    assert!(index.is_file());
    assert!(daemon.terminate().success());
    let settled = util::tree_snapshot(&site.root(), &skip);
    stdout(&log(&site, &["--format", "json"]));
    stdout(&log(&site, &["--verdict", "fail"]));
    assert_eq!(util::tree_snapshot(&site.root(), &skip), settled, "log wrote under the root");
}

#[test]
fn log_indexes_the_log_again_when_it_was_replaced_by_a_shorter_one() {
    let site = site_with_decisions();
    assert_eq!(files(&stdout(&log(&site, &[]))).len(), 5);
    let path = site.root().join("log/decisions.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let first_two: String = text.lines().take(2).map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, first_two).unwrap();
    assert_eq!(files(&stdout(&log(&site, &[]))), ["b-fail.json", "a-pass.json"]);
}

#[test]
fn log_builds_the_index_again_when_it_was_deleted_or_damaged_and_answers_as_before() {
    let site = site_with_decisions();
    let listed = stdout(&log(&site, &[]));
    let as_json = stdout(&log(&site, &["--format", "json"]));
    let index = site.root().join("state/decisions-index.sqlite");
    assert!(index.is_file());
    // Deleted (with its write-ahead files): built again, same answers.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", index.display()));
    }
    assert_eq!(stdout(&log(&site, &[])), listed);
    assert!(index.is_file(), "the index is kept again");
    // Damaged (not a database any more): removed and built again, not an error.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", index.display()));
    }
    std::fs::write(&index, b"this is not an SQLite database, it was overwritten".repeat(100))
        .unwrap();
    let output = log(&site, &["--format", "json"]);
    assert_eq!(stdout(&output), as_json);
    assert!(output.stderr.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(&std::fs::read(&index).unwrap()[..16], b"SQLite format 3\0", "built again");
    assert_eq!(stdout(&log(&site, &["--verdict", "fail"])).lines().count(), 2);
}

#[test]
fn log_never_answers_from_an_index_of_another_log_restored_from_a_backup_that_then_grew() {
    // The root is restored from a backup taken after two decisions, with
    // the index of five kept; the daemon then makes four new decisions, so
    // the log is longer than what the index covered, but not the same log.
    let mut site = site_with_decisions();
    assert_eq!(files(&stdout(&log(&site, &[]))).len(), 5);
    let path = site.root().join("log/decisions.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let first_two: String = text.lines().take(2).map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, &first_two).unwrap();
    let daemon = site.start(&[]);
    let new = ["f.json", "g.json", "h.json", "i.json"];
    for (i, name) in new.iter().enumerate() {
        site.drop_plan(name, &plan_on(&format!("PLN-N{i}"), "PAT-NEW", "2026-11-05"));
        site.wait_for_records(3 + i);
    }
    assert!(daemon.terminate().success());
    assert!(std::fs::metadata(&path).unwrap().len() > text.len() as u64, "the log grew past");
    assert_eq!(
        files(&stdout(&log(&site, &[]))),
        ["i.json", "h.json", "g.json", "f.json", "b-fail.json", "a-pass.json"]
    );
    let records = json_records(&log(&site, &["--patient", "PAT-0007", "--format", "json"]));
    let seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [2], "only the decision still in the log");
    assert_eq!(stdout(&log(&site, &["--verdict", "invalid"])).lines().count(), 1);
    assert!(stdout(&log(&site, &["--verdict", "invalid"])).starts_with("no decision matches"));
}
