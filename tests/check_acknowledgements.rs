//! Acknowledgements through the real binary: a plan's "we have seen this
//! finding and accept it, because ...", at every edge — a warning accepted,
//! an error refused, an acknowledgement that covers nothing, one scoped to
//! a place in the plan, malformed ones, and site rule files that change
//! which rules may be acknowledged.

use crate::check_support::{
    check_json, findings, findings_of, repo, run, spec_example, write_plan, Run,
};
use serde_json::{json, Value};
use std::path::Path;

/// One acknowledgement as a plan writes it.
fn ack(rule: &str, path: Option<&str>) -> Value {
    let mut item = json!({ "rule": rule, "reason": "seen and accepted at the staff meeting", "by": "Dr A. Adem" });
    if let Some(path) = path {
        item["path"] = json!(path);
    }
    item
}

/// `plan` with `acknowledgements` set, checked as JSON.
fn check_with(plan: &Value, acknowledgements: &[Value]) -> (Run, Value) {
    let dir = tempfile::tempdir().unwrap();
    let mut plan = plan.clone();
    plan["acknowledgements"] = json!(acknowledgements);
    let path = write_plan(dir.path(), "plan.json", &plan);
    let run = check_json(&[path]);
    let verdict = run.verdict();
    (run, verdict)
}

/// The same with a site rule file given as text.
fn check_with_rules(plan: &Value, acknowledgements: &[Value], rules: &str) -> (Run, Value) {
    let dir = tempfile::tempdir().unwrap();
    let mut plan = plan.clone();
    plan["acknowledgements"] = json!(acknowledgements);
    let path = write_plan(dir.path(), "plan.json", &plan);
    let rules_path = dir.path().join("site.toml");
    std::fs::write(&rules_path, rules).unwrap();
    let args = [
        "check".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        "--rules".as_ref(),
        rules_path.as_os_str(),
        path.as_os_str(),
    ];
    let run = run(args, None);
    let verdict = run.verdict();
    (run, verdict)
}

fn shipped_rules() -> String {
    std::fs::read_to_string(repo("rules/chiras-bone-chemoembolization.toml")).unwrap()
}

/// The SPEC example without granisetron: one `post-procedure-care` warning.
fn plan_with_a_warning() -> Value {
    let mut plan = spec_example();
    let care = plan["sessions"][0]["post_procedure"].as_array_mut().unwrap();
    care.retain(|drug| drug["name"] != "granisetron");
    plan
}

/// The SPEC example with 5 mg of pirarubicin in the left L3 lumbar artery
/// (2.5 mm; cap 3 mg): one `artery-dose-max` error.
fn plan_with_an_overdose() -> Value {
    let mut plan = spec_example();
    plan["sessions"][0]["arteries"][0]["drugs"][0]["dose"]["value"] = json!(5);
    plan
}

fn counts(verdict: &Value) -> (u64, u64, u64, u64) {
    let c = &verdict["counts"];
    let n = |key: &str| c[key].as_u64().unwrap_or_else(|| panic!("no counts.{key}: {c}"));
    (n("errors"), n("warnings"), n("infos"), n("acknowledged"))
}

#[test]
fn a_warning_acknowledged_is_still_listed_but_no_longer_counts() {
    let (first, before) = check_with(&plan_with_a_warning(), &[]);
    assert_eq!(first.code, Some(0));
    assert_eq!(counts(&before), (0, 1, 1, 0), "{before:#}");

    let (second, after) = check_with(&plan_with_a_warning(), &[ack("post-procedure-care", None)]);
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert_eq!(after["verdict"], "pass");
    assert_eq!(counts(&after), (0, 0, 1, 1), "{after:#}");
    let [care] = findings_of(&after, "post-procedure-care").try_into().unwrap();
    assert_eq!(care["severity"], "warning", "listed as it was");
    assert_eq!(
        care["acknowledged"],
        json!({"reason": "seen and accepted at the staff meeting", "by": "Dr A. Adem"})
    );
    let outcome =
        after["rules"].as_array().unwrap().iter().find(|r| r["id"] == "post-procedure-care");
    assert_eq!(outcome.unwrap()["acknowledged"], 1);
    assert!(findings(&after)
        .iter()
        .all(|f| !f["rule"].as_str().unwrap().starts_with("acknowledgement-")));

    // A warning that counts fails the run under --fail-on-warn; an
    // acknowledged one does not.
    let dir = tempfile::tempdir().unwrap();
    let mut plan = plan_with_a_warning();
    let strict = |plan: &Value| {
        let path = write_plan(dir.path(), "p.json", plan);
        run(["check".as_ref(), "--fail-on-warn".as_ref(), path.as_os_str()], None)
    };
    assert_eq!(strict(&plan).code, Some(1));
    plan["acknowledgements"] = json!([ack("post-procedure-care", None)]);
    let text = strict(&plan);
    assert_eq!(text.code, Some(0), "{}", text.stdout);
    assert!(text
        .stdout
        .contains("acknowledged by Dr A. Adem: seen and accepted at the staff meeting"));
}

#[test]
fn the_text_report_shows_an_acknowledged_finding_apart_from_those_that_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut plan = plan_with_a_warning();
    plan["acknowledgements"] = json!([ack("post-procedure-care", None)]);
    let path = write_plan(dir.path(), "plan.json", &plan);
    let text = run(["check".as_ref(), path.as_os_str()], None).stdout;
    let apart = text.find("acknowledged, not counted:").expect(&text);
    let care = text.find("warning post-procedure-care").expect(&text);
    let course = text.find("info    course-length").expect(&text);
    assert!(course < apart && apart < care, "counted first, then the acknowledged:\n{text}");
    assert!(
        text.contains("pass: 0 errors, 0 warnings, 1 info (1 acknowledged, not counted)"),
        "{text}"
    );
}

#[test]
fn an_error_acknowledged_is_refused_and_the_plan_still_fails() {
    let (run, verdict) = check_with(&plan_with_an_overdose(), &[ack("artery-dose-max", None)]);
    assert_eq!(run.code, Some(1));
    assert_eq!(verdict["verdict"], "fail");
    let [overdose] = findings_of(&verdict, "artery-dose-max").try_into().unwrap();
    assert!(overdose.get("acknowledged").is_none(), "its finding stands: {overdose:#}");
    let [refused] = findings_of(&verdict, "acknowledgement-refused").try_into().unwrap();
    assert_eq!(refused["severity"], "error");
    assert_eq!(refused["path"], "/acknowledgements/0");
    let message = refused["message"].as_str().unwrap();
    assert!(message.contains("rule `artery-dose-max`") && message.contains("refused"), "{message}");
    assert_eq!(counts(&verdict), (2, 0, 1, 0));
}

#[test]
fn an_acknowledgement_of_an_error_rule_is_refused_even_when_the_rule_does_not_fire() {
    for rule in
        ["session-spacing", "plan-format", "acknowledgement-unused", "acknowledgement-refused"]
    {
        let (run, verdict) = check_with(&spec_example(), &[ack(rule, None)]);
        assert_eq!(run.code, Some(1), "{rule}: {verdict:#}");
        let refused = findings_of(&verdict, "acknowledgement-refused");
        assert_eq!(refused.len(), 1, "{rule}: {verdict:#}");
        assert!(findings_of(&verdict, "acknowledgement-unused").is_empty(), "{rule}");
    }
}

#[test]
fn an_acknowledgement_of_a_rule_that_does_not_fire_or_does_not_exist_is_an_unused_warning() {
    let cases = [
        ("follow-up", "rule `follow-up` found nothing in this plan"),
        ("particle-size-typo", "has no rule `particle-size-typo`"),
        // Rule ids are compared exactly as written.
        ("Course-Length", "has no rule `Course-Length`"),
    ];
    for (rule, why) in cases {
        let (run, verdict) = check_with(&spec_example(), &[ack(rule, None)]);
        assert_eq!(run.code, Some(0), "{rule}: a warning does not fail the plan");
        let [unused] = findings_of(&verdict, "acknowledgement-unused").try_into().unwrap();
        assert_eq!(unused["severity"], "warning");
        assert_eq!(unused["path"], "/acknowledgements/0");
        assert!(unused["message"].as_str().unwrap().contains(why), "{unused:#}");
        assert!(unused.get("acknowledged").is_none());
        assert_eq!(counts(&verdict), (0, 1, 1, 0), "{rule}: the course-length info still counts");
    }
}

/// The SPEC example with seven documented, untreated branches added, so
/// that artery 10 exists, and artery 10 embolised with PVA of 355–500 µm: a
/// `particle-size-protocol` warning at `/sessions/0/arteries/10/...`.
fn plan_with_eleven_arteries() -> Value {
    let mut plan = spec_example();
    let arteries = plan["sessions"][0]["arteries"].as_array_mut().unwrap();
    for n in 0..6 {
        arteries.push(json!({
            "name": format!("documented branch {n}"),
            "diameter_mm": 1.5,
            "shares_origin_with_spinal_artery": false
        }));
    }
    arteries.push(json!({
        "name": "right iliolumbar artery",
        "origin": "right internal iliac",
        "diameter_mm": 3,
        "shares_origin_with_spinal_artery": false,
        "embolic": { "agent": "PVA", "particle_size_um": [355, 500] }
    }));
    assert_eq!(arteries.len(), 11);
    plan
}

#[test]
fn a_path_scoped_acknowledgement_covers_its_place_and_what_lies_under_it_only() {
    // Two arteries with an off-calibre range: arteries 1 and 10.
    let mut plan = plan_with_eleven_arteries();
    plan["sessions"][0]["arteries"][1]["embolic"]["particle_size_um"] = json!([355, 500]);
    let (run, verdict) =
        check_with(&plan, &[ack("particle-size-protocol", Some("/sessions/0/arteries/1"))]);
    assert_eq!(run.code, Some(0));
    let sizes = findings_of(&verdict, "particle-size-protocol");
    let by_path = |path: &str| {
        sizes.iter().find(|f| f["path"] == path).unwrap_or_else(|| panic!("{path}: {verdict:#}"))
    };
    let one = by_path("/sessions/0/arteries/1/embolic/particle_size_um");
    let ten = by_path("/sessions/0/arteries/10/embolic/particle_size_um");
    assert!(one.get("acknowledged").is_some(), "artery 1 is acknowledged: {one:#}");
    assert!(ten.get("acknowledged").is_none(), "artery 10 is not under artery 1: {ten:#}");
    assert_eq!(counts(&verdict), (0, 1, 1, 1));
    assert!(findings_of(&verdict, "acknowledgement-unused").is_empty());
}

#[test]
fn a_path_that_covers_no_finding_is_unused_and_the_finding_counts() {
    // Only artery 10 is off calibre; /arteries/1 is not a prefix of it.
    let plan = plan_with_eleven_arteries();
    let (_, verdict) =
        check_with(&plan, &[ack("particle-size-protocol", Some("/sessions/0/arteries/1"))]);
    let [size] = findings_of(&verdict, "particle-size-protocol").try_into().unwrap();
    assert!(size.get("acknowledged").is_none());
    let [unused] = findings_of(&verdict, "acknowledgement-unused").try_into().unwrap();
    assert!(
        unused["message"]
            .as_str()
            .unwrap()
            .contains("found nothing at or under /sessions/0/arteries/1"),
        "{unused:#}"
    );
    let (_, verdict) =
        check_with(&plan, &[ack("particle-size-protocol", Some("/sessions/0/arteries/10"))]);
    assert_eq!(counts(&verdict), (0, 0, 1, 1), "{verdict:#}");
}

#[test]
fn malformed_acknowledgements_make_the_plan_invalid_with_every_pointer() {
    let bad = [
        json!({"rule": "course-length", "reason": "r", "by": "b", "note": "x"}),
        json!({"rule": "course-length", "path": "sessions/0", "reason": "r", "by": "b"}),
        json!({"rule": "", "reason": "r", "by": "b"}),
        json!({"rule": "course-length", "reason": "r"}),
        json!({"rule": "course-length", "path": "/x~2", "reason": 3, "by": "b"}),
    ];
    let (run, verdict) = check_with(&spec_example(), &bad);
    assert_eq!(run.code, Some(2));
    assert_eq!(verdict["verdict"], "invalid");
    let found = findings(&verdict);
    let paths: Vec<&str> = found.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "/acknowledgements/0/note",
            "/acknowledgements/1/path",
            "/acknowledgements/2/rule",
            "/acknowledgements/3/by",
            "/acknowledgements/4/path",
            "/acknowledgements/4/reason",
        ]
    );
    assert!(findings(&verdict).iter().all(|f| f["rule"] == "plan-format"));
    let (run, _) = check_with(&spec_example(), &[json!("course-length")]);
    assert_eq!(run.code, Some(2));
}

#[test]
fn a_site_rule_file_that_makes_an_error_acknowledgeable_accepts_its_acknowledgement() {
    let shipped = shipped_rules();
    let entry = shipped.find("id = \"artery-dose-max\"").unwrap();
    let flag = entry + shipped[entry..].find("acknowledgeable = false").unwrap();
    let site = format!(
        "{}acknowledgeable = true{}",
        &shipped[..flag],
        &shipped[flag + "acknowledgeable = false".len()..]
    );
    let (run, verdict) =
        check_with_rules(&plan_with_an_overdose(), &[ack("artery-dose-max", None)], &site);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(verdict["verdict"], "pass");
    let [overdose] = findings_of(&verdict, "artery-dose-max").try_into().unwrap();
    assert_eq!(overdose["severity"], "error");
    assert!(overdose.get("acknowledged").is_some());
    assert_eq!(counts(&verdict), (0, 0, 1, 1));

    // The same acknowledgement under the shipped rules is refused.
    let (run, _) =
        check_with_rules(&plan_with_an_overdose(), &[ack("artery-dose-max", None)], &shipped);
    assert_eq!(run.code, Some(1));
}

#[test]
fn an_old_site_rule_file_without_acknowledgeable_keys_defaults_by_severity_and_gets_both_rules() {
    let shipped = shipped_rules();
    let cut = shipped.rfind("# ---").unwrap();
    let old: String = shipped[..cut]
        .lines()
        .filter(|line| !line.starts_with("acknowledgeable = "))
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(!old.contains("acknowledgement-unused\"") && !old.contains("\nacknowledgeable"));
    // A warning rule may be acknowledged ...
    let (run, verdict) =
        check_with_rules(&plan_with_a_warning(), &[ack("post-procedure-care", None)], &old);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(counts(&verdict), (0, 0, 1, 1));
    // ... an error rule may not, and a stale acknowledgement is reported.
    let acks = [ack("artery-dose-max", None), ack("follow-up", None)];
    let (run, verdict) = check_with_rules(&plan_with_an_overdose(), &acks, &old);
    assert_eq!(run.code, Some(1));
    assert_eq!(findings_of(&verdict, "acknowledgement-refused").len(), 1, "{verdict:#}");
    assert_eq!(findings_of(&verdict, "acknowledgement-unused")[0]["path"], "/acknowledgements/1");
    let ids: Vec<&str> =
        verdict["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(ids.ends_with(&["acknowledgement-refused", "acknowledgement-unused"]), "{ids:?}");
}

#[test]
fn embolint_rules_says_which_rules_may_be_acknowledged() {
    let listing = run(["rules", "--format", "json"], None);
    assert_eq!(listing.code, Some(0));
    let listing: Value = serde_json::from_str(&listing.stdout).unwrap();
    let rules = listing["rules"].as_array().expect("a list of rules");
    let may = |id: &str| {
        let rule = rules.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no {id}"));
        rule["acknowledgeable"].as_bool().unwrap()
    };
    assert!(may("post-procedure-care") && may("course-length") && may("artery-count"));
    for id in [
        "artery-dose-max",
        "session-spacing",
        "plan-revision",
        "acknowledgement-refused",
        "acknowledgement-unused",
    ] {
        assert!(!may(id), "{id}");
    }
    let text = run(["rules"], None).stdout;
    let entry = &text[text.find("artery-dose-max [error]").unwrap()..];
    assert!(entry.lines().nth(1).unwrap().contains("may not acknowledge"), "{entry}");
    let markdown = run(["rules", "--format", "markdown"], None).stdout;
    assert!(markdown.contains("| `course-length` | info | yes |"), "{markdown}");
    assert!(markdown.contains("| `artery-dose-max` | error | no |"), "{markdown}");
}

/// A plan acknowledged through each other format: not a failure.
#[test]
fn junit_sarif_and_tap_do_not_count_an_acknowledged_finding_as_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = shipped_rules();
    let entry = shipped.find("id = \"artery-dose-max\"").unwrap();
    let flag = entry + shipped[entry..].find("acknowledgeable = false").unwrap();
    let site = format!("{}acknowledgeable = true{}", &shipped[..flag], &shipped[flag + 23..]);
    let rules_path = dir.path().join("site.toml");
    std::fs::write(&rules_path, site).unwrap();
    let mut plan = plan_with_an_overdose();
    plan["acknowledgements"] = json!([ack("artery-dose-max", None)]);
    let path = write_plan(dir.path(), "plan.json", &plan);
    let check = |format: &str| {
        let args = [
            "check".as_ref(),
            "--rules".as_ref(),
            rules_path.as_os_str(),
            "--format".as_ref(),
            format.as_ref(),
            path.as_os_str(),
        ];
        run(args, None)
    };
    let junit = check("junit");
    assert_eq!(junit.code, Some(0), "{}", junit.stderr);
    assert!(!junit.stdout.contains("<failure"), "{}", junit.stdout);
    assert!(junit.stdout.contains("acknowledged by Dr A. Adem"), "{}", junit.stdout);

    let tap = check("tap");
    assert!(tap.stdout.contains("\nok 1 - "), "{}", tap.stdout);
    assert!(tap.stdout.contains("1 acknowledged"), "{}", tap.stdout);

    let sarif: Value = serde_json::from_str(&check("sarif").stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let overdose = results.iter().find(|r| r["ruleId"] == "artery-dose-max").unwrap();
    assert_eq!(overdose["suppressions"][0]["kind"], "external");
    let justification = overdose["suppressions"][0]["justification"].as_str().unwrap();
    assert!(justification.contains("Dr A. Adem") && justification.contains("staff meeting"));
    let course = results.iter().find(|r| r["ruleId"] == "course-length").unwrap();
    assert!(course.get("suppressions").is_none());
}

#[test]
fn the_shipped_example_of_an_acknowledged_info_passes_with_nothing_counted() {
    let path = Path::new(&repo("tests/fixtures/public")).join("pass-acknowledged-info.json");
    let verdict = check_json(&[path]).verdict();
    assert_eq!(counts(&verdict), (0, 0, 0, 1));
}

/// The daemon judges acknowledgements as `check` does: its decision record
/// and the verdict file beside the plan carry `acknowledged` and
/// `counts.acknowledged`.
#[test]
fn the_daemons_record_and_verdict_file_carry_the_acknowledgement() {
    let mut site = crate::util::Site::new();
    let _daemon = site.start(&[]);
    let mut plan: Value = serde_json::from_str(&crate::util::pass_plan("PLN-ACK-1")).unwrap();
    plan["acknowledgements"] = json!([ack("course-length", None), ack("follow-up", None)]);
    let record = site.judge("ack.json", &plan.to_string());
    assert_eq!(record["verdict"], "pass");
    assert_eq!(record["counts"]["acknowledged"], 1, "{record:#}");
    assert_eq!(record["counts"]["warnings"], 1, "the stale acknowledgement: {record:#}");
    let [course] = findings_of(&record, "course-length").try_into().unwrap();
    assert_eq!(course["acknowledged"]["by"], "Dr A. Adem");
    let moved_to = site.root().join(record["watch"]["moved_to"].as_str().unwrap());
    let beside = moved_to.with_file_name(format!(
        "{}.verdict.json",
        moved_to.file_name().unwrap().to_string_lossy()
    ));
    let file: Value = serde_json::from_slice(&std::fs::read(&beside).unwrap()).unwrap();
    assert_eq!(file["counts"], record["counts"]);
    assert_eq!(file["findings"], record["findings"]);
    site.assert_history_agrees_with_log();
    let verify = site.run(&["verify-log", site.root().to_str().unwrap()]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
}
