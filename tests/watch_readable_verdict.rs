//! A person looking into `passed/` tells a pass with warnings from a clean
//! pass without opening JSON: beside each placed plan the daemon writes
//! `NAME.verdict.txt`, the report `embolint check` prints (errors first,
//! then warnings, each rule's citation once), next to `NAME.verdict.json`.
//! Crash recovery writes it too: `watch_crash` checks every plan's text
//! verdict through `Site::assert_each_once`.

use crate::util::{self, Site};
use serde_json::Value;
use std::fs;

fn example(name: &str) -> String {
    let path = format!("{}/examples/plans/{name}", env!("CARGO_MANIFEST_DIR"));
    fs::read_to_string(path).unwrap()
}

/// The text verdict beside the plan a record placed.
fn text_verdict(site: &Site, record: &Value) -> String {
    let moved_to = record["watch"]["moved_to"].as_str().unwrap();
    fs::read_to_string(site.root().join(format!("{moved_to}.verdict.txt"))).unwrap()
}

#[test]
fn a_pass_with_a_warning_is_told_from_a_clean_pass_beside_the_plan() {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    let warned = site.judge("warned.json", &example("warn-follow-up.json"));
    let clean = site.judge("clean.json", &util::pass_plan("PLN-CLEAN"));
    let failed = site.judge("failed.json", &util::fail_plan("PLN-FAIL"));
    assert!(daemon.terminate().success());
    assert_eq!(
        (warned["verdict"].as_str(), clean["verdict"].as_str()),
        (Some("pass"), Some("pass"))
    );

    let warned_text = text_verdict(&site, &warned);
    let first = warned_text.lines().next().unwrap();
    assert!(first.starts_with("warned.json: PASS"), "{warned_text}");
    let warning = warned_text.lines().find(|l| l.trim_start().starts_with("warning"));
    assert!(
        warning.is_some_and(|l| l.contains("follow-up")),
        "the warning and its rule are shown: {warned_text}"
    );
    assert!(warned_text.contains("protocol: “"), "its citation is shown: {warned_text}");

    let clean_text = text_verdict(&site, &clean);
    assert!(clean_text.starts_with("clean.json: PASS"), "{clean_text}");
    let severity_lines: Vec<&str> = clean_text
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            l.starts_with("warning") || l.starts_with("error")
        })
        .collect();
    assert!(severity_lines.is_empty(), "a clean pass lists no finding: {clean_text}");

    let failed_text = text_verdict(&site, &failed);
    assert!(failed_text.starts_with("failed.json: FAIL"), "{failed_text}");
    let rule = failed["findings"][0]["rule"].as_str().unwrap();
    assert!(
        failed_text.lines().any(|l| l.trim_start().starts_with("error") && l.contains(rule)),
        "the error and its rule are shown: {failed_text}"
    );
}

#[test]
fn the_text_verdict_is_what_check_prints_for_the_same_plan() {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    let record = site.judge("warned.json", &example("warn-embolic-agent.json"));
    assert!(daemon.terminate().success());
    let beside = text_verdict(&site, &record);

    let placed = site.root().join(record["watch"]["moved_to"].as_str().unwrap());
    let check = site.run(&["check", "--color", "never", placed.to_str().unwrap()]);
    let printed = String::from_utf8(check.stdout).unwrap();
    // Between the first line (which names the file by the path it was
    // given) and the summary (which counts the rules that did not apply:
    // the daemon judges with the patient history, this check without) the
    // two are the same report.
    let lines: Vec<&str> = beside.lines().collect();
    let findings = lines.get(1..lines.len() - 1).unwrap_or_default();
    assert!(!findings.is_empty(), "the text verdict shows the finding: {beside}");
    for line in findings {
        assert!(
            printed.lines().any(|p| p == *line),
            "`{line}` is not in check's report:\n{printed}"
        );
    }
    let summary = lines.last().unwrap();
    assert!(summary.starts_with("  pass: 0 errors, 1 warning, 0 infos;"), "{beside}");
}

#[test]
fn check_of_an_outcome_folder_takes_neither_sidecar_for_a_plan() {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    site.judge("one.json", &util::pass_plan("PLN-ONE"));
    site.judge("two.json", &util::pass_plan("PLN-TWO"));
    assert!(daemon.terminate().success());
    let passed = site.root().join("passed");
    let names: Vec<String> = fs::read_dir(&passed)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 6, "two plans, each with a JSON and a text verdict: {names:?}");

    let check = site.run(&["check", "--format", "json", passed.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", String::from_utf8_lossy(&check.stderr));
    let verdicts = String::from_utf8(check.stdout).unwrap();
    assert_eq!(verdicts.lines().count(), 2, "only the two plans are checked: {verdicts}");
}
