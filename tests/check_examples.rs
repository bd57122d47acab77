//! Every example plan through the real binary: the verdict, the rule ids of
//! its errors, warnings and infos, and the exit code are those its folder's
//! `expected.jsonl` gives. Covers embolint's own examples (`examples/plans/`)
//! and the SPEC's public examples (`tests/fixtures/public/`).

use crate::check_support;

use check_support::{check_json, findings, mismatch, read_expected, repo, Expected};
use std::collections::BTreeSet;
use std::path::Path;

/// Checks each listed plan alone and reports every mismatch at once.
fn each_plan_matches(folder: &Path) {
    let expected = read_expected(folder);
    assert!(!expected.is_empty(), "no cases in {}", folder.display());
    let mut problems = Vec::new();
    for case in &expected {
        let run = check_json(&[folder.join(&case.file)]);
        let verdicts = run.verdicts();
        match verdicts.as_slice() {
            [verdict] => problems.extend(mismatch(case, verdict, run.code)),
            _ => problems.push(format!(
                "{}: expected one verdict line, got {} (exit {:?}, stderr: {})",
                case.file,
                verdicts.len(),
                run.code,
                run.stderr
            )),
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} plans differ:\n{}",
        problems.len(),
        expected.len(),
        problems.join("\n")
    );
}

/// The `.json` files of a folder, sorted by name.
fn plan_files(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    names
}

/// Every plan file is listed in `expected.jsonl` and every listed plan exists.
fn every_plan_is_listed(folder: &Path) {
    let listed: BTreeSet<String> = read_expected(folder).into_iter().map(|e| e.file).collect();
    let present: BTreeSet<String> = plan_files(folder).into_iter().collect();
    assert_eq!(listed, present, "expected.jsonl and the plan files of {} differ", folder.display());
}

/// The whole folder at once: one JSON line per plan, in file-name order,
/// each as expected, and exit code 2 because some plans are invalid.
fn whole_folder_matches(folder: &Path) {
    let expected: Vec<Expected> = read_expected(folder);
    let run = check_json(&[folder]);
    let verdicts = run.verdicts();
    let names = plan_files(folder);
    assert_eq!(verdicts.len(), names.len(), "one verdict line per plan; stderr: {}", run.stderr);
    let mut problems = Vec::new();
    for (verdict, name) in verdicts.iter().zip(&names) {
        let file = verdict["file"].as_str().unwrap_or_default();
        assert!(
            Path::new(file).file_name().is_some_and(|f| f == name.as_str()),
            "verdicts out of order: {file} where {name} was expected"
        );
        let case = expected.iter().find(|e| &e.file == name).unwrap();
        // The folder's exit code is judged below, not per plan.
        problems.extend(mismatch(case, verdict, Some(case.exit_code())));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        expected.iter().any(|e| e.verdict == "invalid"),
        "the folder should hold an invalid plan"
    );
    assert_eq!(run.code, Some(2), "an invalid plan in the folder makes the exit code 2");
}

#[test]
fn every_example_plan_gets_its_expected_verdict() {
    each_plan_matches(&repo("examples/plans"));
}

#[test]
fn every_example_plan_is_listed_in_expected_jsonl() {
    every_plan_is_listed(&repo("examples/plans"));
}

#[test]
fn the_examples_folder_gives_one_json_line_per_plan_in_order_and_exit_2() {
    whole_folder_matches(&repo("examples/plans"));
}

#[test]
fn every_public_example_gets_its_expected_verdict() {
    each_plan_matches(&repo("tests/fixtures/public"));
}

#[test]
fn every_public_example_is_listed_in_expected_jsonl() {
    every_plan_is_listed(&repo("tests/fixtures/public"));
}

#[test]
fn the_public_examples_folder_gives_one_json_line_per_plan_in_order_and_exit_2() {
    whole_folder_matches(&repo("tests/fixtures/public"));
}

/// An invalid plan's findings are all `plan-format` errors with a message
/// and a JSON Pointer, so a clinician can find and fix each problem.
#[test]
fn invalid_examples_explain_each_problem_with_a_pointer() {
    let folder = repo("examples/plans");
    let invalid: Vec<Expected> =
        read_expected(&folder).into_iter().filter(|e| e.verdict == "invalid").collect();
    assert!(invalid.len() >= 16, "one invalid plan per class of SPEC §1");
    let mut problems = Vec::new();
    for case in &invalid {
        let verdict = check_json(&[folder.join(&case.file)]).verdict();
        let found = findings(&verdict);
        if found.is_empty() {
            problems.push(format!("{}: no finding", case.file));
        }
        for finding in found {
            let path = finding["path"].as_str().unwrap_or("<none>");
            let message = finding["message"].as_str().unwrap_or_default();
            if finding["rule"] != "plan-format"
                || finding["severity"] != "error"
                || message.trim().is_empty()
                || !(path.is_empty() || path.starts_with('/'))
            {
                problems.push(format!("{}: {finding}", case.file));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Where in the plan each invalid example's problem is: the JSON Pointer of
/// the offending value (or the member that holds it).
#[test]
fn invalid_examples_point_at_the_broken_value() {
    let artery = "/sessions/0/arteries";
    let cases = [
        ("invalid-typo-field.json", format!("{artery}/0/diamter_mm")),
        ("invalid-unknown-unit.json", format!("{artery}/1/drugs/1/dose")),
        ("invalid-missing-unit.json", format!("{artery}/2/drugs/0/dose")),
        ("invalid-duplicate-key.json", format!("{artery}/2")),
        ("invalid-wrong-type.json", format!("{artery}/1/shares_origin_with_spinal_artery")),
        ("invalid-bad-date.json", "/sessions/0/date".to_string()),
        ("invalid-empty-string.json", format!("{artery}/2/drugs/1/name")),
        ("invalid-missing-required-field.json", format!("{artery}/1")),
        ("invalid-format-version.json", "/format".to_string()),
        ("invalid-too-many-digits.json", format!("{artery}/2/drugs/0/dose/value")),
        ("invalid-negative-dose.json", format!("{artery}/2/drugs/1/dose")),
        ("invalid-sedation-rate-and-bolus.json", "/sessions/0/sedation/1".to_string()),
        ("invalid-pva-without-particle-size.json", format!("{artery}/0/embolic")),
        ("invalid-pva-synonym-without-particle-size.json", format!("{artery}/0/embolic")),
    ];
    let mut problems = Vec::new();
    for (file, pointer) in cases {
        let verdict = check_json(&[repo("examples/plans").join(file)]).verdict();
        let paths: Vec<String> = findings(&verdict)
            .iter()
            .map(|f| f["path"].as_str().unwrap_or_default().to_string())
            .collect();
        if !paths.iter().any(|p| p.starts_with(&pointer)) {
            problems.push(format!("{file}: no finding at or under {pointer}; paths {paths:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
