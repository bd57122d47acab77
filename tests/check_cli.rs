//! `embolint check` and `embolint rules` as a script or a clinician uses
//! them: exit codes, standard input, the JSON verdict's fields, help texts,
//! site rule files, units at their limits and calendar months — all through
//! the real binary, each test in its own temporary folder.

use crate::check_support;

use check_support::{
    check_json, findings, findings_of, repo, rule_ids, run, spec_example, with_literals,
    write_plan, SPEC_RULE_IDS,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn example(name: &str) -> PathBuf {
    repo("examples/plans").join(name)
}

const PASS: &str = "pass-spine-lumbar.json";
const FAIL: &str = "fail-artery-dose-max-small-artery.json";
const INVALID: &str = "invalid-unknown-unit.json";

// ------------------------------------------------------------ exit codes

#[test]
fn a_passing_plan_exits_0() {
    let run = check_json(&[example(PASS)]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.verdict()["verdict"], "pass");
}

#[test]
fn a_failing_plan_exits_1() {
    let run = check_json(&[example(FAIL)]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(run.verdict()["verdict"], "fail");
}

#[test]
fn an_invalid_plan_exits_2() {
    let run = check_json(&[example(INVALID)]);
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert_eq!(run.verdict()["verdict"], "invalid");
}

#[test]
fn a_pass_and_a_fail_exit_1() {
    let run = check_json(&[example(PASS), example(FAIL)]);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.verdicts().len(), 2);
}

#[test]
fn invalid_wins_over_fail_whatever_the_order() {
    for paths in [[example(FAIL), example(INVALID)], [example(INVALID), example(FAIL)]] {
        let run = check_json(&paths);
        assert_eq!(run.code, Some(2), "{paths:?}");
        let verdicts: Vec<Value> = run.verdicts().iter().map(|v| v["verdict"].clone()).collect();
        assert_eq!(verdicts.len(), 2);
        assert!(verdicts.contains(&json!("fail")) && verdicts.contains(&json!("invalid")));
    }
}

#[test]
fn the_text_format_gives_the_same_exit_codes() {
    for (name, code) in [(PASS, 0), (FAIL, 1), (INVALID, 2)] {
        let run = run([OsStr::new("check"), example(name).as_os_str()], None);
        assert_eq!(run.code, Some(code), "{name}: {}", run.stdout);
        assert!(run.stdout.contains(name), "the report names the file: {}", run.stdout);
    }
}

#[test]
fn a_missing_path_exits_3_and_names_it_on_stderr() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("PLN-2026-0999-not-here.json");
    let run = check_json(&[missing.as_path()]);
    assert_eq!(run.code, Some(3));
    assert!(run.stderr.contains("PLN-2026-0999-not-here.json"), "stderr: {}", run.stderr);
}

#[test]
fn a_missing_path_beside_good_plans_still_exits_3() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("gone.json");
    let run = check_json(&[example(PASS), missing.clone(), example(INVALID)]);
    assert_eq!(run.code, Some(3), "embolint could not check everything it was given");
    assert!(run.stderr.contains("gone.json"), "stderr: {}", run.stderr);
}

#[test]
fn an_unreadable_file_exits_3_and_names_it_on_stderr() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("locked.json");
    std::fs::copy(example(PASS), &path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&path).is_ok() {
        // Running as root: permissions do not stop reading, nothing to test.
        return;
    }
    let run = check_json(&[path.as_path()]);
    assert_eq!(run.code, Some(3));
    assert!(run.stderr.contains("locked.json"), "stderr: {}", run.stderr);
}

#[test]
fn a_folder_without_plans_exits_3() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a plan").unwrap();
    std::fs::create_dir(dir.path().join("old.json")).unwrap();
    let run = check_json(&[dir.path()]);
    assert_eq!(run.code, Some(3));
    assert!(run.verdicts().is_empty());
    let name = dir.path().file_name().unwrap().to_string_lossy().into_owned();
    assert!(run.stderr.contains(&name), "stderr names the folder: {}", run.stderr);
}

#[test]
fn a_folder_stands_for_its_json_files_only() {
    let dir = TempDir::new().unwrap();
    std::fs::copy(example(PASS), dir.path().join("b.json")).unwrap();
    std::fs::copy(example(FAIL), dir.path().join("a.json")).unwrap();
    std::fs::write(dir.path().join("readme.txt"), "{").unwrap();
    let run = check_json(&[dir.path()]);
    let files: Vec<String> = run
        .verdicts()
        .iter()
        .map(|v| {
            Path::new(v["file"].as_str().unwrap()).file_name().unwrap().to_string_lossy().into()
        })
        .collect();
    assert_eq!(files, ["a.json", "b.json"]);
    assert_eq!(run.code, Some(1));
}

/// `check plans/passed/` read each verdict sidecar as a plan: 33 plans
/// "invalid" and exit 2 for a folder of plans that had passed.
#[test]
fn a_folder_of_judged_plans_is_checked_without_their_verdict_sidecars() {
    let dir = TempDir::new().unwrap();
    std::fs::copy(example(PASS), dir.path().join("p.json")).unwrap();
    let sidecar = check_json(&[dir.path().join("p.json")]).verdict();
    std::fs::write(dir.path().join("p.json.verdict.json"), sidecar.to_string()).unwrap();
    let run = check_json(&[dir.path()]);
    assert_eq!(run.verdicts().len(), 1, "only the plan: {}", run.stdout);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    // Named on its own, a sidecar is still read as asked (and is no plan).
    let run = check_json(&[dir.path().join("p.json.verdict.json")]);
    assert_eq!(run.code, Some(2));
}

// ------------------------------------------------------------- rule files

#[test]
fn a_rule_file_with_a_syntax_error_exits_3_naming_file_and_line() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("site-rules.toml");
    std::fs::write(&path, "id = \"site\"\nversion = \"1\"\n[[rules]\nid = \"x\"\n").unwrap();
    assert_eq!(
        check_json(&[example(PASS)]).code,
        Some(0),
        "sanity: passes with the built-in rules"
    );
    let run = run_with_rules(&path, &example(PASS));
    assert_eq!(run.code, Some(3), "stdout: {}", run.stdout);
    assert!(run.verdicts().is_empty(), "no verdict under a broken rule file");
    assert!(run.stderr.contains("site-rules.toml"), "stderr names the file: {}", run.stderr);
    assert!(run.stderr.contains("line 3"), "stderr names the line: {}", run.stderr);
}

#[test]
fn a_rule_file_with_a_misspelt_key_exits_3_naming_file_line_and_key() {
    let dir = TempDir::new().unwrap();
    let text = std::fs::read_to_string(repo("rules/chiras-bone-chemoembolization.toml")).unwrap();
    // The first rule's severity (the header comment mentions `severity` too).
    let first_rule = text.find("\n[[rules]]\n").unwrap();
    let (head, rules) = text.split_at(first_rule);
    let broken = format!("{head}{}", rules.replacen("severity =", "serverity =", 1));
    assert_ne!(broken, text);
    let at = first_rule + rules.find("severity =").unwrap();
    let line = 1 + text[..at].matches('\n').count();
    let path = dir.path().join("typo-rules.toml");
    std::fs::write(&path, broken).unwrap();
    let run = run_with_rules(&path, &example(PASS));
    assert_eq!(run.code, Some(3), "stdout: {}", run.stdout);
    assert!(run.stderr.contains("typo-rules.toml"), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("serverity"), "stderr quotes the key: {}", run.stderr);
    assert!(
        run.stderr.contains(&format!("line {line}")),
        "stderr names line {line}: {}",
        run.stderr
    );
}

#[test]
fn a_rule_file_with_a_unitless_limit_exits_3() {
    let dir = TempDir::new().unwrap();
    let text = std::fs::read_to_string(repo("rules/chiras-bone-chemoembolization.toml")).unwrap();
    let mut table: toml::Table = text.parse().unwrap();
    rule_mut(&mut table, "artery-dose-max")["small_caps"]["pirarubicin"] = "3".into();
    let path = dir.path().join("unitless.toml");
    std::fs::write(&path, toml::to_string(&table).unwrap()).unwrap();
    let run = run_with_rules(&path, &example(PASS));
    assert_eq!(run.code, Some(3), "stdout: {}", run.stdout);
    assert!(run.stderr.contains("unitless.toml"), "stderr: {}", run.stderr);
}

#[test]
fn a_missing_rule_file_exits_3() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("no-such-rules.toml");
    let run = run_with_rules(&path, &example(PASS));
    assert_eq!(run.code, Some(3));
    assert!(run.stderr.contains("no-such-rules.toml"), "stderr: {}", run.stderr);
    let listed = run_args(&[OsStr::new("rules"), OsStr::new("--rules"), path.as_os_str()]);
    assert_eq!(listed.code, Some(3), "`rules --rules` refuses it too");
}

fn run_with_rules(rules: &Path, plan: &Path) -> check_support::Run {
    let words = ["check", "--format", "json", "--rules"].map(OsStr::new);
    run_args(&[&words[..], &[rules.as_os_str(), plan.as_os_str()]].concat())
}

fn run_args(args: &[&OsStr]) -> check_support::Run {
    run(args.iter().copied(), None)
}

/// The `[[rules]]` entry with this id in a parsed rule file.
fn rule_mut<'a>(table: &'a mut toml::Table, id: &str) -> &'a mut toml::Value {
    table["rules"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|rule| rule["id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("no rule {id} in the shipped rule file"))
}

/// The shipped rule file, changed by `edit`, written into `dir`.
fn site_rules(dir: &Path, edit: impl FnOnce(&mut toml::Table)) -> PathBuf {
    let text = std::fs::read_to_string(repo("rules/chiras-bone-chemoembolization.toml")).unwrap();
    let mut table: toml::Table = text.parse().unwrap();
    table.insert("id".into(), "site-pitie-2026".into());
    edit(&mut table);
    let path = dir.join("site.toml");
    std::fs::write(&path, toml::to_string(&table).unwrap()).unwrap();
    path
}

#[test]
fn a_site_rule_file_can_disable_a_rule() {
    let dir = TempDir::new().unwrap();
    let plan = example("fail-spinal-feeder-excluded-flag.json");
    assert_eq!(check_json(&[&plan]).code, Some(1), "sanity: fails under the shipped rules");
    let rules = site_rules(dir.path(), |t| {
        rule_mut(t, "spinal-feeder-excluded")["enabled"] = false.into();
    });
    let run = run_with_rules(&rules, &plan);
    let verdict = run.verdict();
    assert_eq!(run.code, Some(0), "{verdict}");
    assert_eq!(verdict["verdict"], "pass");
    assert_eq!(verdict["rule_set"]["id"], "site-pitie-2026");
    let outcome = rule_outcome(&verdict, "spinal-feeder-excluded");
    assert_eq!(outcome["outcome"], "disabled", "{outcome}");
}

#[test]
fn a_site_rule_file_can_lower_a_limit() {
    let dir = TempDir::new().unwrap();
    let plan = example(PASS);
    let rules = site_rules(dir.path(), |t| {
        rule_mut(t, "artery-dose-max")["small_caps"]["pirarubicin"] = "2.5 mg".into();
    });
    let run = run_with_rules(&rules, &plan);
    let verdict = run.verdict();
    assert_eq!(run.code, Some(1), "{verdict}");
    assert_eq!(rule_ids(&verdict, "error"), ["artery-dose-max"]);
    // Both small lumbar arteries take 3 mg, now above the 2.5 mg cap.
    assert_eq!(findings_of(&verdict, "artery-dose-max").len(), 2, "{verdict}");
    let sha = format!("{:x}", Sha256::digest(std::fs::read(&rules).unwrap()));
    assert_eq!(verdict["rule_set"]["sha256"], sha, "the verdict names the site file's hash");
}

#[test]
fn a_site_rule_file_can_turn_an_error_into_a_warning() {
    let dir = TempDir::new().unwrap();
    let plan = example("fail-session-spacing-prior.json");
    let rules = site_rules(dir.path(), |t| {
        rule_mut(t, "session-spacing")["severity"] = "warning".into();
    });
    let run = run_with_rules(&rules, &plan);
    let verdict = run.verdict();
    assert_eq!(run.code, Some(0), "{verdict}");
    assert_eq!(rule_ids(&verdict, "warning"), ["session-spacing"]);
}

// ------------------------------------------------------------------ stdin

#[test]
fn a_dash_reads_the_plan_from_stdin() {
    let bytes = std::fs::read(example(PASS)).unwrap();
    let run = run(["check", "--format", "json", "-"], Some(bytes.clone()));
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let verdict = run.verdict();
    assert_eq!(verdict["verdict"], "pass");
    assert_eq!(verdict["file"], "-");
    assert_eq!(verdict["sha256"], format!("{:x}", Sha256::digest(&bytes)));
}

#[test]
fn a_dash_with_garbage_on_stdin_is_invalid() {
    let run = run(["check", "--format", "json", "-"], Some(b"\xff\xfe{\"format\"".to_vec()));
    assert_eq!(run.code, Some(2));
    assert_eq!(run.verdict()["verdict"], "invalid");
}

#[test]
fn a_dash_with_a_failing_plan_exits_1_in_text_too() {
    let bytes = std::fs::read(example(FAIL)).unwrap();
    let run = run(["check", "-"], Some(bytes));
    assert_eq!(run.code, Some(1));
    assert!(run.stdout.contains("artery-dose-max"), "{}", run.stdout);
}

// ------------------------------------------------------------ JSON fields

fn rule_outcome(verdict: &Value, id: &str) -> Value {
    verdict["rules"]
        .as_array()
        .unwrap_or_else(|| panic!("no rules array: {verdict}"))
        .iter()
        .find(|r| r["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("rule {id} missing from `rules`: {verdict}"))
}

#[test]
fn the_json_verdict_has_every_field_of_the_spec() {
    let path = example(FAIL);
    let bytes = std::fs::read(&path).unwrap();
    let verdict = check_json(&[&path]).verdict();
    assert_eq!(verdict["verdict"], "fail");
    assert_eq!(verdict["file"], path.to_str().unwrap(), "the file as it was named");
    assert_eq!(verdict["sha256"], format!("{:x}", Sha256::digest(&bytes)));
    assert_eq!(verdict["plan_id"], "PLN-2026-0208");
    assert_eq!(verdict["patient_id"], "PAT-0177");
    assert_eq!(verdict["rule_set"]["id"], "chiras-bone-chemoembolization");
    assert!(verdict["rule_set"]["version"].as_str().is_some_and(|v| !v.is_empty()), "{verdict}");
    let shipped = std::fs::read(repo("rules/chiras-bone-chemoembolization.toml")).unwrap();
    assert_eq!(verdict["rule_set"]["sha256"], format!("{:x}", Sha256::digest(&shipped)));
    assert_eq!(verdict["checker"]["name"], "embolint");
    assert_eq!(verdict["checker"]["version"], env!("CARGO_PKG_VERSION"));
    let checked_at = verdict["checked_at"].as_str().unwrap();
    assert!(checked_at.parse::<jiff::Timestamp>().is_ok(), "checked_at: {checked_at}");

    let all = findings(&verdict);
    let count = |s: &str| all.iter().filter(|f| f["severity"] == s).count();
    assert_eq!(verdict["counts"]["errors"], count("error"));
    assert_eq!(verdict["counts"]["warnings"], count("warning"));
    assert_eq!(verdict["counts"]["infos"], count("info"));
    for f in &all {
        for field in ["rule", "severity", "message", "path"] {
            assert!(f[field].is_string(), "finding without {field}: {f}");
        }
        assert!(f["citation"].as_str().is_some_and(|c| !c.is_empty()), "no citation: {f}");
    }
}

#[test]
fn an_artery_dose_finding_carries_its_evidence() {
    let verdict = check_json(&[example(FAIL)]).verdict();
    let found = findings_of(&verdict, "artery-dose-max");
    assert_eq!(found.len(), 1, "{verdict}");
    let f = &found[0];
    assert_eq!(f["severity"], "error");
    assert!(f["path"].as_str().unwrap().starts_with("/sessions/0/arteries/1"), "{f}");
    assert_eq!(f["artery"], "left lateral sacral artery");
    assert_eq!(f["session"]["date"], "2026-06-29");
    assert!(f["observed"].as_str().unwrap().contains("5 mg"), "{f}");
    assert!(f["limit"].as_str().unwrap().contains("3 mg"), "{f}");
    let message = f["message"].as_str().unwrap();
    assert!(message.contains("pirarubicin"), "the message names the drug: {message}");
}

#[test]
fn every_spec_rule_is_listed_with_its_outcome() {
    let allowed = ["pass", "findings", "not-applicable", "disabled"];
    for name in [PASS, FAIL, "pass-sacrum.json"] {
        let verdict = check_json(&[example(name)]).verdict();
        for id in SPEC_RULE_IDS.iter() {
            let outcome = rule_outcome(&verdict, id);
            let result = outcome["outcome"].as_str().unwrap_or_default();
            assert!(allowed.contains(&result), "{name}: {outcome}");
            assert!(outcome["severity"].is_string() && outcome["kind"].is_string(), "{outcome}");
            let made = findings_of(&verdict, id).len();
            assert_eq!(outcome["findings"], made, "{name}: {outcome}");
            assert_eq!(result == "findings", made > 0, "{name}: {outcome}");
        }
    }
}

#[test]
fn spinal_mapping_is_not_applicable_outside_the_spine_and_sacrum() {
    // An iliac lesion treated through iliac branches names no vertebral level.
    let verdict = check_json(&[example("pass-iliac.json")]).verdict();
    let outcome = rule_outcome(&verdict, "spinal-mapping-required");
    assert_eq!(outcome["outcome"], "not-applicable", "{outcome}");
}

#[test]
fn an_invalid_plan_still_has_its_hash_and_identity() {
    let path = example("invalid-non-utf8.json");
    let bytes = std::fs::read(&path).unwrap();
    assert!(std::str::from_utf8(&bytes).is_err(), "the example must hold non-UTF-8 bytes");
    let verdict = check_json(&[&path]).verdict();
    assert_eq!(verdict["verdict"], "invalid");
    assert_eq!(verdict["sha256"], format!("{:x}", Sha256::digest(&bytes)));
    assert_eq!(rule_ids(&verdict, "error"), ["plan-format"]);
    let verdict = check_json(&[example(INVALID)]).verdict();
    assert_eq!(verdict["plan_id"], "PLN-2026-0400", "readable identity is kept: {verdict}");
    assert_eq!(verdict["patient_id"], "PAT-0244");
}

#[test]
fn an_invalid_plan_reports_every_problem_with_its_pointer() {
    let dir = TempDir::new().unwrap();
    let mut plan = spec_example();
    let artery = plan["sessions"][0]["arteries"][0].as_object_mut().unwrap();
    let diameter = artery.remove("diameter_mm").unwrap();
    artery.insert("diamter_mm".into(), diameter);
    plan["sessions"][0]["arteries"][1]["drugs"][1]["dose"]["unit"] = json!("mg/m2");
    plan["sessions"][0]["date"] = json!("2026-13-05");
    let verdict = check_json(&[write_plan(dir.path(), "three-problems.json", &plan)]).verdict();
    assert_eq!(verdict["verdict"], "invalid");
    let all = findings(&verdict);
    let at = |prefix: &str| all.iter().find(|f| f["path"].as_str().unwrap().starts_with(prefix));
    let typo = at("/sessions/0/arteries/0/diamter_mm").unwrap_or_else(|| panic!("{verdict}"));
    let unit = at("/sessions/0/arteries/1/drugs/1/dose").unwrap_or_else(|| panic!("{verdict}"));
    let date = at("/sessions/0/date").unwrap_or_else(|| panic!("{verdict}"));
    assert!(unit["message"].as_str().unwrap().contains("mg/m2"), "quotes the unit: {unit}");
    assert!(date["message"].as_str().unwrap().contains("2026-13-05"), "quotes the date: {date}");
    let mentions_field = all.iter().any(|f| f["message"].as_str().unwrap().contains("diameter_mm"));
    assert!(mentions_field, "says which field was meant: {typo}");
}

// ------------------------------------------------------------- help texts

fn help(args: &[&str]) -> String {
    let run = run(args.iter().chain(["--help"].iter()), None);
    assert_eq!(run.code, Some(0), "{args:?} --help: {}", run.stderr);
    run.stdout
}

#[test]
fn help_of_embolint_lists_its_commands() {
    let text = help(&[]);
    for command in ["check", "rules", "watch"] {
        assert!(text.contains(command), "--help lacks {command}:\n{text}");
    }
}

#[test]
fn help_of_check_mentions_its_options_and_exit_codes() {
    let text = help(&["check"]);
    for option in ["--format", "--rules", "PATH", "text", "json", "standard input"] {
        assert!(text.contains(option), "check --help lacks {option}:\n{text}");
    }
    assert!(text.contains('3') && text.contains('2'), "exit codes explained:\n{text}");
}

#[test]
fn help_of_check_mentions_the_history_option_of_the_spec() {
    // SPEC §5: `embolint check --history DB` reads the history database.
    let text = help(&["check"]);
    assert!(text.contains("--history"), "check --help lacks --history:\n{text}");
}

#[test]
fn help_of_rules_mentions_its_options() {
    let text = help(&["rules"]);
    for option in ["--format", "--rules"] {
        assert!(text.contains(option), "rules --help lacks {option}:\n{text}");
    }
}

#[test]
fn help_of_watch_mentions_its_root() {
    let text = help(&["watch"]);
    assert!(text.contains("--root"), "watch --help lacks --root:\n{text}");
}

// ------------------------------------------------------------ rules listing

/// Every JSON object anywhere in `value`.
fn objects(value: &Value) -> Vec<&serde_json::Map<String, Value>> {
    let mut found = Vec::new();
    match value {
        Value::Object(map) => {
            found.push(map);
            map.values().for_each(|v| found.extend(objects(v)));
        }
        Value::Array(items) => items.iter().for_each(|v| found.extend(objects(v))),
        _ => {}
    }
    found
}

#[test]
fn rules_as_json_lists_every_spec_rule_with_its_citation() {
    let run = run(["rules", "--format", "json"], None);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let listing: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("rules --format json is not JSON ({e}): {}", run.stdout));
    let all = objects(&listing);
    for id in SPEC_RULE_IDS.iter() {
        let rule =
            all.iter().find(|o| o.get("id").and_then(Value::as_str) == Some(id)).unwrap_or_else(
                || panic!("rule {id} missing from `rules --format json`:\n{listing:#}"),
            );
        let citation = rule.get("citation").and_then(Value::as_str).unwrap_or_default();
        assert!(citation.len() > 20, "rule {id} without a citation: {rule:?}");
        assert!(rule.get("severity").is_some(), "rule {id} without a severity: {rule:?}");
    }
}

#[test]
fn rules_as_text_names_every_spec_rule() {
    let run = run(["rules"], None);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for id in SPEC_RULE_IDS.iter() {
        assert!(run.stdout.contains(id), "`embolint rules` lacks {id}:\n{}", run.stdout);
    }
    assert!(run.stdout.contains("chiras-bone-chemoembolization"));
}

// ---------------------------------------------------- units at the limit

/// The SPEC example with the left L3 lumbar artery (2.5 mm) taking
/// `pirarubicin` and the common trunk (4.5 mm) taking `carboplatin`, both as
/// exact number literals with their unit.
fn plan_with_doses(pirarubicin: (&str, &str), carboplatin: (&str, &str)) -> String {
    let mut plan = spec_example();
    let arteries = &mut plan["sessions"][0]["arteries"];
    arteries[0]["drugs"][0]["dose"] = json!({ "value": "@@PIR@@", "unit": pirarubicin.1 });
    arteries[2]["drugs"][1]["dose"] = json!({ "value": "@@CARBO@@", "unit": carboplatin.1 });
    with_literals(&plan, &[("PIR", pirarubicin.0), ("CARBO", carboplatin.0)])
}

/// The small-artery pirarubicin cap (3 mg) and just above, in every mass
/// unit of SPEC §1.
const MASS_UNITS: [(&str, &str, &str); 6] = [
    // (unit, small cap 3 mg, just above it)
    ("mg", "3", "3.001"),
    ("g", "0.003", "0.003001"),
    ("ug", "3000", "3001"),
    ("µg", "3000", "3000.5"),
    ("μg", "3000", "3000.001"),
    ("mcg", "3000", "3001"),
];

/// The large-artery carboplatin cap (200 mg) and just above, per unit.
const LARGE_CAPS: [(&str, &str, &str); 6] = [
    ("mg", "200", "200.000001"),
    ("g", "0.2", "0.2000001"),
    ("ug", "200000", "200001"),
    ("µg", "200000", "200000.1"),
    ("μg", "200000", "200001"),
    ("mcg", "200000", "200000.001"),
];

#[test]
fn every_mass_unit_at_the_artery_cap_passes_and_just_above_fails() {
    let dir = TempDir::new().unwrap();
    let mut cases = Vec::new();
    for (i, ((unit, at, above), (big_unit, big_at, big_above))) in
        MASS_UNITS.iter().zip(LARGE_CAPS.iter()).enumerate()
    {
        let write = |name: String, text: String| {
            let path = dir.path().join(&name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let at_cap = plan_with_doses((at, unit), (big_at, big_unit));
        cases.push((write(format!("{i}-at-{unit}.json"), at_cap), 0, format!("at cap in {unit}")));
        let small_over = plan_with_doses((above, unit), (big_at, big_unit));
        cases.push((
            write(format!("{i}-small-over-{unit}.json"), small_over),
            1,
            format!("{above} {unit} pirarubicin"),
        ));
        let large_over = plan_with_doses((at, unit), (big_above, big_unit));
        cases.push((
            write(format!("{i}-large-over-{big_unit}.json"), large_over),
            1,
            format!("{big_above} {big_unit} carboplatin"),
        ));
    }
    let mut problems = Vec::new();
    for (path, code, what) in &cases {
        let run = check_json(&[path]);
        let verdict = run.verdict();
        let errors = rule_ids(&verdict, "error");
        let want: Vec<&str> = if *code == 0 { vec![] } else { vec!["artery-dose-max"] };
        if run.code != Some(*code) || errors != want {
            problems.push(format!(
                "{what}: exit {:?}, errors {errors:?}: {}",
                run.code, verdict["findings"]
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ------------------------------------------------------- calendar months

/// The SPEC example with its prior session on `prior` and its planned
/// session on `planned`.
fn spaced(dir: &Path, prior: &str, planned: &str) -> PathBuf {
    let mut plan = spec_example();
    plan["spinal_artery_mapping"]["date"] = json!(prior);
    plan["prior_sessions"][0]["date"] = json!(prior);
    plan["sessions"][0]["date"] = json!(planned);
    write_plan(dir, &format!("{prior}-to-{planned}.json"), &plan)
}

/// The SPEC example with two planned sessions and no prior one.
fn two_planned(dir: &Path, first: &str, second: &str) -> PathBuf {
    let mut plan = spec_example();
    plan.as_object_mut().unwrap().remove("prior_sessions");
    // Mapped on or before both sessions (ISO dates compare as text).
    plan["spinal_artery_mapping"]["date"] = json!(first.min(second));
    let mut later = plan["sessions"][0].clone();
    later["number"] = json!(3);
    later["date"] = json!(second);
    plan["sessions"][0]["date"] = json!(first);
    plan["sessions"].as_array_mut().unwrap().push(later);
    write_plan(dir, &format!("planned-{first}-and-{second}.json"), &plan)
}

const CALENDAR: [(&str, &str, bool); 10] = [
    ("2027-01-31", "2027-02-28", true),
    ("2027-01-31", "2027-02-27", false),
    ("2028-01-31", "2028-02-28", false),
    ("2028-01-31", "2028-02-29", true),
    ("2026-12-31", "2027-01-31", true),
    ("2026-12-31", "2027-01-30", false),
    ("2026-04-30", "2026-05-30", true),
    ("2026-04-30", "2026-05-29", false),
    ("2026-10-05", "2026-11-05", true),
    ("2026-10-05", "2026-11-04", false),
];

fn judge_spacing(paths: Vec<(PathBuf, bool, String)>) {
    let mut problems = Vec::new();
    for (path, passes, what) in paths {
        let run = check_json(&[&path]);
        let verdict = run.verdict();
        let errors = rule_ids(&verdict, "error");
        let want: Vec<&str> = if passes { vec![] } else { vec!["session-spacing"] };
        let code = if passes { 0 } else { 1 };
        if errors != want || run.code != Some(code) {
            problems.push(format!("{what}: exit {:?}, errors {errors:?}", run.code));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn one_calendar_month_after_a_prior_session_passes_a_day_less_fails() {
    let dir = TempDir::new().unwrap();
    let cases = CALENDAR
        .iter()
        .map(|(prior, planned, passes)| {
            (
                spaced(dir.path(), prior, planned),
                *passes,
                format!("prior {prior}, planned {planned}"),
            )
        })
        .collect();
    judge_spacing(cases);
}

#[test]
fn one_calendar_month_between_planned_sessions_passes_a_day_less_fails() {
    let dir = TempDir::new().unwrap();
    let mut cases = Vec::new();
    for (first, second, passes) in CALENDAR {
        let what = format!("planned {first} and {second}");
        cases.push((two_planned(dir.path(), first, second), passes, what.clone()));
        // The order in the file does not matter.
        cases.push((
            two_planned(dir.path(), second, first),
            passes,
            format!("{what}, listed later first"),
        ));
    }
    judge_spacing(cases);
}

#[test]
fn two_prior_sessions_close_together_are_not_judged() {
    let dir = TempDir::new().unwrap();
    let mut plan = spec_example();
    plan["prior_sessions"] = json!([{ "date": "2026-09-28" }, { "date": "2026-10-05" }]);
    let path = write_plan(dir.path(), "close-priors.json", &plan);
    let run = check_json(&[&path]);
    let verdict = run.verdict();
    assert_eq!(run.code, Some(0), "{verdict}");
    assert!(findings_of(&verdict, "session-spacing").is_empty());
    assert!(findings_of(&verdict, "course-length").is_empty(), "three sessions in the course");
}

// ---------------------------------------------------------- usage errors

/// SPEC §3: exit 2 means "some plan is invalid"; a command line embolint
/// cannot understand means embolint could not run, which is 3 or above. A
/// script must never read a mistyped option as a verdict on a plan.
#[test]
fn a_usage_error_exits_3_or_above_never_2() {
    let plan = example(PASS);
    let plan = plan.to_str().unwrap();
    let cases: [&[&str]; 4] = [
        &["check", "--fromat", "json", plan],
        &["check", "--format", "yaml", plan],
        &["check"],
        &["chekc", plan],
    ];
    let mut problems = Vec::new();
    for args in cases {
        let run = run(args, None);
        if !run.code.is_some_and(|code| code >= 3) {
            problems.push(format!("{args:?}: exit {:?}", run.code));
        }
        if run.stderr.trim().is_empty() {
            problems.push(format!("{args:?}: nothing on stderr"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn text_for_several_plans_ends_with_the_totals() {
    let run = run(
        [
            OsStr::new("check"),
            example(PASS).as_os_str(),
            example(FAIL).as_os_str(),
            example(INVALID).as_os_str(),
        ],
        None,
    );
    assert_eq!(run.code, Some(2));
    let last = run.stdout.lines().last().unwrap_or_default();
    assert!(
        last.contains("3 plans") && last.contains("1 pass, 1 fail, 1 invalid"),
        "{}",
        run.stdout
    );
}

// ------------------------------------------------------------ large files

/// A plan of more than 1 MiB (SPEC §4's limit): valid JSON, padded with
/// spaces, so only its size is wrong.
fn oversized_plan() -> Vec<u8> {
    let mut bytes = std::fs::read(example(PASS)).unwrap();
    bytes.extend(vec![b' '; 1024 * 1024]);
    bytes
}

#[test]
fn a_plan_over_one_mebibyte_is_invalid_and_says_so() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("huge.json");
    std::fs::write(&path, oversized_plan()).unwrap();
    let run = check_json(&[&path]);
    assert_eq!(run.code, Some(2), "stderr: {}", run.stderr);
    let verdict = run.verdict();
    assert_eq!(verdict["verdict"], "invalid");
    assert_eq!(rule_ids(&verdict, "error"), ["plan-format"]);
    let message = findings(&verdict)[0]["message"].as_str().unwrap().to_string();
    assert!(message.contains("bytes"), "says the size: {message}");
}

#[test]
fn a_plan_over_one_mebibyte_on_stdin_is_invalid() {
    let run = run(["check", "--format", "json", "-"], Some(oversized_plan()));
    assert_eq!(run.code, Some(2), "stderr: {}", run.stderr);
    assert_eq!(run.verdict()["verdict"], "invalid");
}
