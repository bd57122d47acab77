//! Properties of `check` over inputs nobody would write by hand:
//! arbitrary bytes, arbitrary JSON, the SPEC example with one thing changed,
//! and doses around the artery caps. Whatever the input, embolint gives a
//! verdict and never panics; and its verdicts follow from the plan exactly.

use crate::check_support;

use check_support::{spec_example, with_literals};
use embolint::check::PlanFile;
use embolint::rules::RuleSet;
use embolint::verdict::{Outcome, Severity, Verdict};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

fn rules() -> RuleSet {
    RuleSet::builtin().unwrap()
}

fn check(bytes: &[u8]) -> Verdict {
    embolint::check::check(PlanFile::new("p.json", bytes), &rules(), None).unwrap().verdict
}

/// What holds of every verdict, whatever the input.
fn assert_well_formed(verdict: &Verdict, bytes: &[u8]) {
    assert_eq!(verdict.sha256, format!("{:x}", Sha256::digest(bytes)));
    assert_eq!(verdict.file, "p.json");
    let count = |s| verdict.findings.iter().filter(|f| f.severity == s).count();
    assert_eq!(verdict.counts.errors, count(Severity::Error));
    assert_eq!(verdict.counts.warnings, count(Severity::Warning));
    assert_eq!(verdict.counts.infos, count(Severity::Info));
    let format_findings = verdict.findings.iter().filter(|f| f.rule == "plan-format").count();
    match verdict.verdict {
        Outcome::Invalid => {
            assert!(format_findings > 0, "an invalid verdict says why: {verdict:?}");
            assert_eq!(format_findings, verdict.findings.len(), "only plan-format findings");
        }
        Outcome::Fail => {
            assert_eq!(format_findings, 0);
            assert!(verdict.counts.errors > 0);
        }
        Outcome::Pass => {
            assert_eq!(format_findings, 0);
            assert_eq!(verdict.counts.errors, 0);
        }
    }
    for finding in &verdict.findings {
        assert!(!finding.message.trim().is_empty(), "{finding:?}");
        assert!(finding.path.is_empty() || finding.path.starts_with('/'), "{finding:?}");
    }
}

/// The SPEC example's text.
fn example_bytes() -> Vec<u8> {
    serde_json::to_vec_pretty(&spec_example()).unwrap()
}

// ---------------------------------------------------------------- strategies

/// Every field name the plan format defines, as the library lists it.
const FIELDS: [&str; 43] = embolint::plan::FIELD_NAMES;

/// Numbers as JSON can hold them, including ones the format refuses.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        (-1000i64..100_000).prop_map(Value::from),
        any::<f64>()
            .prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        (0u32..10_000, 0u32..4)
            .prop_map(|(n, scale)| json!(f64::from(n) / 10f64.powi(scale as i32))),
    ]
}

/// Strings, often ones the format gives meaning to.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just(String::new()),
        Just("   ".to_string()),
        prop::sample::select(vec![
            "embolint.plan/1",
            "spine",
            "sacrum",
            "iliac",
            "other",
            "PVA",
            "pirarubicin",
            "carboplatin",
            "mg",
            "g",
            "µg",
            "μg",
            "mcg",
            "ug",
            "mg/h",
            "µg/min",
            "IV",
            "2026-11-05",
            "2026-02-30",
            "alfentanil",
            "midazolam",
            "clonazepam",
            "granisetron",
        ])
        .prop_map(String::from),
        prop::sample::select(FIELDS.to_vec()).prop_map(String::from),
    ]
}

/// Keys: mostly the format's own, so the reader goes deep.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(FIELDS.to_vec()).prop_map(String::from),
        1 => "[a-z_]{1,12}",
    ]
}

/// Arbitrary JSON values.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Every JSON Pointer into `value` (the root is `""`).
fn pointers(value: &Value) -> Vec<String> {
    fn walk(value: &Value, at: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    let escaped = k.replace('~', "~0").replace('/', "~1");
                    walk(v, format!("{at}/{escaped}"), out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
        out.push(at);
    }
    let mut out = Vec::new();
    walk(value, String::new(), &mut out);
    out
}

/// The parent of a pointer and the last token.
fn split(pointer: &str) -> (&str, &str) {
    let at = pointer.rfind('/').unwrap();
    (&pointer[..at], &pointer[at + 1..])
}

/// Removes the member or element at `pointer` (not the root).
fn delete(plan: &mut Value, pointer: &str) {
    let (parent, last) = split(pointer);
    match plan.pointer_mut(parent).unwrap() {
        Value::Object(map) => {
            map.remove(last).unwrap();
        }
        Value::Array(items) => {
            items.remove(last.parse::<usize>().unwrap());
        }
        other => panic!("{parent} is not a container: {other}"),
    }
}

/// One change to the SPEC example.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(Index, Value),
    Delete(Index),
    AddKey(Index, String, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), json_value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        any::<Index>().prop_map(Mutation::Delete),
        (any::<Index>(), "[a-z_]{1,16}", json_value())
            .prop_filter("a key the format does not define", |(_, k, _)| !FIELDS
                .contains(&k.as_str()))
            .prop_map(|(i, k, v)| Mutation::AddKey(i, k, v)),
    ]
}

/// Applies a mutation; says whether the result must be invalid.
fn apply(plan: &mut Value, mutation: &Mutation) -> bool {
    let all = pointers(plan);
    match mutation {
        Mutation::Replace(i, value) => {
            let at: &String = i.get(&all);
            *plan.pointer_mut(at).unwrap() = value.clone();
            false
        }
        Mutation::Delete(i) => {
            let inner: Vec<String> = all.into_iter().filter(|p| !p.is_empty()).collect();
            let at: &String = i.get(&inner);
            delete(plan, at);
            false
        }
        Mutation::AddKey(i, key, value) => {
            let objects: Vec<String> =
                all.into_iter().filter(|p| plan.pointer(p).is_some_and(Value::is_object)).collect();
            let at: &String = i.get(&objects);
            let target = plan.pointer_mut(at).unwrap().as_object_mut().unwrap();
            target.insert(key.clone(), value.clone());
            // SPEC §1: a field the format does not define makes the plan invalid.
            true
        }
    }
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_always_get_a_verdict(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let verdict = check(&bytes);
        assert_well_formed(&verdict, &bytes);
    }

    #[test]
    fn the_example_with_bytes_changed_always_gets_a_verdict(
        edits in prop::collection::vec((any::<Index>(), any::<u8>(), 0u8..3), 1..6)
    ) {
        let mut bytes = example_bytes();
        for (at, byte, how) in edits {
            let i = at.index(bytes.len() + 1);
            match how {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => { bytes.remove(i); }
                _ => bytes.push(byte),
            }
        }
        let verdict = check(&bytes);
        assert_well_formed(&verdict, &bytes);
    }

    #[test]
    fn arbitrary_json_always_gets_a_verdict(value in json_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        let verdict = check(&bytes);
        assert_well_formed(&verdict, &bytes);
        // Only an object that names the format can be a plan.
        if value.get("format") != Some(&json!("embolint.plan/1")) {
            prop_assert_eq!(verdict.verdict, Outcome::Invalid);
        }
    }

    #[test]
    fn the_example_with_one_change_always_gets_a_verdict(change in mutation()) {
        let mut plan = spec_example();
        let must_be_invalid = apply(&mut plan, &change);
        let bytes = serde_json::to_vec_pretty(&plan).unwrap();
        let verdict = check(&bytes);
        assert_well_formed(&verdict, &bytes);
        if must_be_invalid {
            prop_assert_eq!(verdict.verdict, Outcome::Invalid, "{:?}", verdict.findings);
        }
    }

    #[test]
    fn a_valid_plan_gets_the_same_verdict_twice(
        pirarubicin in 1u64..=12_000,
        carboplatin in 1u64..=300_000,
        day in 1u32..=28,
    ) {
        let text = example_with(
            (&decimal(pirarubicin, 3), "mg"),
            (&carboplatin.to_string(), "µg"),
        );
        let text = text.replace("2026-11-05", &format!("2026-11-{day:02}"));
        let first = check(text.as_bytes());
        let second = check(text.as_bytes());
        prop_assert_ne!(first.verdict, Outcome::Invalid, "{:?}", first.findings);
        prop_assert_eq!(&first.findings, &second.findings);
        prop_assert_eq!(&first.rules, &second.rules);
        prop_assert_eq!(first.verdict, second.verdict);
    }

    #[test]
    fn the_small_artery_cap_fails_exactly_above_3_mg(
        micrograms in prop_oneof![1u64..=20_000, 2_990u64..=3_010],
        unit in 0usize..6,
    ) {
        let (literal, unit) = written_as(micrograms, unit);
        let text = example_with((&literal, unit), ("0.2", "g"));
        let verdict = check(text.as_bytes());
        prop_assert_ne!(verdict.verdict, Outcome::Invalid, "{} {}: {:?}", literal, unit, verdict.findings);
        let over = capped_at(&verdict, "/sessions/0/arteries/0");
        prop_assert_eq!(over, micrograms > 3_000, "{} {}: {:?}", literal, unit, verdict.findings);
    }

    #[test]
    fn the_large_artery_cap_fails_exactly_above_200_mg(
        micrograms in prop_oneof![1u64..=400_000, 199_990u64..=200_010],
        unit in 0usize..6,
    ) {
        let (literal, unit) = written_as(micrograms, unit);
        let text = example_with(("3", "mg"), (&literal, unit));
        let verdict = check(text.as_bytes());
        prop_assert_ne!(verdict.verdict, Outcome::Invalid, "{} {}: {:?}", literal, unit, verdict.findings);
        let over = capped_at(&verdict, "/sessions/0/arteries/2");
        prop_assert_eq!(over, micrograms > 200_000, "{} {}: {:?}", literal, unit, verdict.findings);
    }
}

/// `n / 10^scale` as an exact decimal literal: `decimal(3001, 3)` is `3.001`.
fn decimal(n: u64, scale: u32) -> String {
    let base = 10u64.pow(scale);
    let (whole, fraction) = (n / base, n % base);
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:0width$}", width = scale as usize);
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// A dose of `micrograms` µg written in one of the six mass units.
fn written_as(micrograms: u64, unit: usize) -> (String, &'static str) {
    match unit {
        0 => (decimal(micrograms, 3), "mg"),
        1 => (decimal(micrograms, 6), "g"),
        2 => (micrograms.to_string(), "ug"),
        3 => (micrograms.to_string(), "µg"),
        4 => (micrograms.to_string(), "μg"),
        _ => (micrograms.to_string(), "mcg"),
    }
}

/// The SPEC example with the left L3 lumbar artery's (2.5 mm) pirarubicin
/// and the common trunk's (4.5 mm) carboplatin replaced.
fn example_with(pirarubicin: (&str, &str), carboplatin: (&str, &str)) -> String {
    let mut plan = spec_example();
    let arteries = &mut plan["sessions"][0]["arteries"];
    arteries[0]["drugs"][0]["dose"] = json!({ "value": "@@PIR@@", "unit": pirarubicin.1 });
    arteries[2]["drugs"][1]["dose"] = json!({ "value": "@@CARBO@@", "unit": carboplatin.1 });
    with_literals(&plan, &[("PIR", pirarubicin.0), ("CARBO", carboplatin.0)])
}

/// Whether `artery-dose-max` found something in the artery at `pointer`.
fn capped_at(verdict: &Verdict, pointer: &str) -> bool {
    verdict.findings.iter().any(|f| {
        f.rule == "artery-dose-max"
            && (f.path == pointer || f.path.starts_with(&format!("{pointer}/")))
    })
}

// ------------------------------------------------- exhaustive single changes

/// Members whose absence makes a plan invalid (SPEC §1's table; `plan_id` is
/// optional only in a prior session; the example's agents are all PVA, so
/// their particle sizes are required; a sedative needs its rate or bolus).
fn required(pointer: &str) -> bool {
    let (parent, key) = split(pointer);
    match key {
        "plan_id" => !parent.starts_with("/prior_sessions"),
        "format"
        | "patient"
        | "id"
        | "indication"
        | "lesion_region"
        | "date"
        | "origins"
        | "sessions"
        | "arteries"
        | "name"
        | "diameter_mm"
        | "shares_origin_with_spinal_artery"
        | "agent"
        | "particle_size_um"
        | "dose"
        | "value"
        | "unit"
        | "rate"
        | "bolus" => true,
        _ => false,
    }
}

#[test]
fn deleting_a_member_of_the_example_is_invalid_exactly_when_it_is_required() {
    let example = spec_example();
    let mut problems = Vec::new();
    for pointer in pointers(&example) {
        let Some((parent, _)) = pointer.rsplit_once('/') else { continue };
        if !example.pointer(parent).is_some_and(Value::is_object) {
            continue;
        }
        let mut plan = example.clone();
        delete(&mut plan, &pointer);
        let bytes = serde_json::to_vec(&plan).unwrap();
        let verdict = check(&bytes);
        assert_well_formed(&verdict, &bytes);
        let invalid = verdict.verdict == Outcome::Invalid;
        if invalid != required(&pointer) {
            problems
                .push(format!("without {pointer}: {:?} {:?}", verdict.verdict, verdict.findings));
        }
        let near = |path: &str| {
            path == pointer || path == parent || pointer.starts_with(&format!("{path}/"))
        };
        if invalid
            && !verdict
                .findings
                .iter()
                .any(|f| near(&f.path) && (!f.path.is_empty() || parent.is_empty()))
        {
            problems.push(format!(
                "without {pointer}: no finding at it or its parent: {:?}",
                verdict.findings
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn values_at_the_edges_of_the_format_are_judged_as_the_spec_says() {
    let cases = [
        ("/sessions", json!([]), true),
        ("/sessions/0/arteries", json!([]), false),
        ("/sessions/0/arteries/0/embolic/particle_size_um", json!([300]), true),
        ("/sessions/0/arteries/0/embolic/particle_size_um", json!([600, 300]), true),
        ("/sessions/0/arteries/0/embolic/particle_size_um", json!([0, 300]), true),
        ("/sessions/0/arteries/0/diameter_mm", json!(0), true),
        ("/sessions/0/arteries/0/diameter_mm", json!(-2.5), true),
        ("/sessions/0/number", json!(0), true),
        ("/sessions/0/number", json!(2.5), true),
        ("/sessions/0/follow_up_days", json!([0, 28]), true),
        ("/patient/age_years", json!(-1), true),
        ("/indication/lesion_region", json!("cervical"), true),
        ("/spinal_artery_mapping/origins", json!([]), false),
        ("/sessions/0/arteries/0/drugs", json!([]), false),
        ("/sessions/0/date", json!("2026-11-5"), true),
        ("/sessions/0/date", json!("2026-11-05T10:00:00"), true),
        ("/sessions/0/arteries/0/drugs/0/dose/unit", json!("MG"), true),
        ("/sessions/0/arteries/0/drugs/0/dose/unit", json!("mg "), true),
        ("/sessions/0/sedation/0/rate/unit", json!("mg"), true),
        ("/sessions/0/sedation/1/bolus/unit", json!("mg/h"), true),
        ("/sessions/0/arteries/0/drugs/0/dose/unit", json!("mg/h"), true),
    ];
    let mut problems = Vec::new();
    for (pointer, value, invalid) in cases {
        let mut plan = spec_example();
        *plan.pointer_mut(pointer).unwrap() = value.clone();
        let verdict = check(&serde_json::to_vec(&plan).unwrap());
        if (verdict.verdict == Outcome::Invalid) != invalid {
            problems
                .push(format!("{pointer} = {value}: {:?} {:?}", verdict.verdict, verdict.findings));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_value_of_another_json_type_anywhere_in_the_example_is_invalid() {
    let example = spec_example();
    let mut problems = Vec::new();
    for pointer in pointers(&example).into_iter().filter(|p| !p.is_empty()) {
        let original = example.pointer(&pointer).unwrap();
        let others = [json!(null), json!(7), json!("7"), json!(true), json!([]), json!({})];
        for other in others.iter().filter(|o| !same_type(o, original)) {
            let mut plan = example.clone();
            *plan.pointer_mut(&pointer).unwrap() = other.clone();
            let verdict = check(&serde_json::to_vec(&plan).unwrap());
            if verdict.verdict != Outcome::Invalid {
                problems.push(format!("{pointer} = {other}: {:?}", verdict.verdict));
            } else if !verdict.findings.iter().any(|f| f.path == pointer) {
                problems.push(format!(
                    "{pointer} = {other}: no finding at {pointer}: {:?}",
                    verdict.findings
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

fn same_type(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

#[test]
fn an_undefined_key_in_any_object_of_the_example_is_invalid_and_pointed_at() {
    let example = spec_example();
    let mut problems = Vec::new();
    for pointer in pointers(&example) {
        if !example.pointer(&pointer).is_some_and(Value::is_object) {
            continue;
        }
        for key in ["diamter_mm", "notes", "Name"] {
            let mut plan = example.clone();
            plan.pointer_mut(&pointer)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .insert(key.into(), json!(1));
            let verdict = check(&serde_json::to_vec(&plan).unwrap());
            let at = format!("{pointer}/{key}");
            if verdict.verdict != Outcome::Invalid || !verdict.findings.iter().any(|f| f.path == at)
            {
                problems.push(format!("{at}: {:?} {:?}", verdict.verdict, verdict.findings));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn decimal_literals_are_exact() {
    assert_eq!(decimal(3000, 3), "3");
    assert_eq!(decimal(3001, 3), "3.001");
    assert_eq!(decimal(30, 3), "0.03");
    assert_eq!(decimal(200_000, 6), "0.2");
    assert_eq!(decimal(1, 6), "0.000001");
}

/// The SPEC example with alfentanil written as one rate entry of each of
/// `parts` µg/h.
fn alfentanil_in_parts(parts: &[u64]) -> Vec<u8> {
    let mut plan = spec_example();
    let entries: Vec<Value> = parts
        .iter()
        .map(|ug| json!({ "name": "alfentanil", "rate": { "value": ug, "unit": "µg/h" } }))
        .collect();
    plan["sessions"][0]["sedation"] = Value::Array(entries);
    serde_json::to_vec(&plan).unwrap()
}

/// A vertebral level written the ways planners write it.
fn level_spelling(letter: &str, number: u8, zeros: usize, separator: &str) -> String {
    format!("{letter}{separator}{}{number}", "0".repeat(zeros))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Entries of one sedative in one form add up: splitting an alfentanil
    /// rate over entries gives the verdict of the whole rate, so a split
    /// never turns an overdose into a pass.
    #[test]
    fn splitting_a_sedation_rate_over_entries_keeps_its_verdict(
        total in 1u64..4000,
        cuts in prop::collection::vec(0.0f64..1.0, 0..4),
    ) {
        let mut points: Vec<u64> = cuts.iter().map(|c| (c * total as f64) as u64).collect();
        points.retain(|p| *p > 0 && *p < total);
        points.sort_unstable();
        points.dedup();
        let mut parts = Vec::new();
        let mut previous = 0;
        for point in points.into_iter().chain([total]) {
            parts.push(point - previous);
            previous = point;
        }
        let whole = check(&alfentanil_in_parts(&[total]));
        let split = check(&alfentanil_in_parts(&parts));
        prop_assert_eq!(whole.verdict, split.verdict, "{:?}", parts);
        prop_assert_eq!(whole.verdict == Outcome::Pass, total <= 2000);
    }

    /// However a level is written — T, Th or D; leading zeros; one word or
    /// two — it is the same level, and a number past the region's last
    /// level names none.
    #[test]
    fn a_level_is_the_same_level_however_it_is_written(
        letter in prop::sample::select(vec!["T", "t", "Th", "TH", "D", "d"]),
        number in 1u8..20,
        zeros in 0usize..3,
        separator in prop::sample::select(vec!["", " ", "-", " - ", "\u{a0}"]),
        side in prop::sample::select(vec!["left ", "Right ", ""]),
    ) {
        let written = format!("{side}{} intercostal", level_spelling(letter, number, zeros, separator));
        let named: Vec<String> = embolint::levels::levels(&written).iter().map(|l| l.to_string()).collect();
        if number <= 13 {
            prop_assert_eq!(named, vec![format!("T{number}")], "{}", written);
        } else {
            prop_assert!(named.is_empty(), "{}: {:?}", written, named);
        }
        let pairs = embolint::levels::pairs(&written);
        let sides = if side.is_empty() { 2 } else { 1 };
        prop_assert_eq!(pairs.len(), if number <= 13 { sides } else { 0 });
    }
}
