//! What every fuzz target checks besides "no panic": the promises of SPEC §3
//! that hold for any verdict, whatever the input. A broken promise aborts
//! the run (a panic is what libFuzzer records as a crash), so a verdict
//! that contradicts itself is found the same way as a crash.
//!
//! # Layout
//! - [`builtin_rules`]: the shipped rule set, loaded once per process.
//! - [`judge`]: the verdict on some bytes, without a history.
//! - [`check_verdict`]: the promises one verdict must keep.
//! - [`SPEC_EXAMPLE`]: the SPEC §1 example plan, the seed of the structured
//!   target.
//! - [`edits`]: a JSON tree and the edits the structured target makes.
//! - [`units`]: the same plan in other units, which must judge alike.
//! - [`names`]: the same plan with names in other case and whitespace,
//!   which must judge alike.

use embolint::check::{check, sha256_hex, PlanFile, MAX_LISTED_PROBLEMS, PLAN_FORMAT_RULE};
use embolint::rules::RuleSet;
use embolint::verdict::{Outcome, Severity, Verdict};
use std::sync::OnceLock;

pub mod edits;
pub mod names;
pub mod units;

/// The SPEC §1 example plan (valid, passes), as the plan reader's own tests
/// keep it.
pub const SPEC_EXAMPLE: &[u8] = include_bytes!("../../src/plan/parse/spec_example.json");

/// The shipped rule set, read once: reading it on every input would spend
/// the fuzzer's time on the same TOML.
pub fn builtin_rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    // A broken built-in rule file is a bug the fuzzer should stop on.
    RULES.get_or_init(|| RuleSet::builtin().expect("the built-in rule set loads"))
}

/// The verdict on `bytes` named `name`, without a history (where nothing
/// can fail: an error is a bug the fuzzer should stop on).
pub fn judge(name: &str, bytes: &[u8], rules: &RuleSet) -> Verdict {
    match check(PlanFile::new(name, bytes), rules, None) {
        Ok(checked) => checked.verdict,
        Err(error) => panic!("checking without a history failed: {error}"),
    }
}

/// Asserts the promises a verdict on `bytes`, judged by `rules`, must keep.
/// Panics (a libFuzzer crash) naming the first promise broken.
pub fn check_verdict(bytes: &[u8], rules: &RuleSet, verdict: &Verdict) {
    assert_eq!(verdict.sha256, sha256_hex(bytes), "sha256 is not the file's");
    check_counts(verdict);
    check_findings_are_readable(verdict);
    match verdict.verdict {
        Outcome::Invalid => check_invalid(verdict),
        Outcome::Pass | Outcome::Fail => check_judged(rules, verdict),
    }
    if !is_json(bytes) {
        assert_eq!(verdict.verdict, Outcome::Invalid, "input that is not UTF-8 JSON was judged");
    }
    check_round_trip(verdict);
}

/// `counts` says how many findings of each severity there are.
fn check_counts(verdict: &Verdict) {
    let count = |severity| verdict.findings.iter().filter(|f| f.severity == severity).count();
    assert_eq!(verdict.counts.errors, count(Severity::Error), "error count");
    assert_eq!(verdict.counts.warnings, count(Severity::Warning), "warning count");
    assert_eq!(verdict.counts.infos, count(Severity::Info), "info count");
}

/// Every finding says something, at a JSON Pointer.
fn check_findings_are_readable(verdict: &Verdict) {
    for finding in &verdict.findings {
        assert!(!finding.message.trim().is_empty(), "empty message: {finding:?}");
        assert!(
            finding.path.is_empty() || finding.path.starts_with('/'),
            "path is not a JSON Pointer: {finding:?}"
        );
    }
}

/// An invalid plan: only `plan-format` errors, at least one, no rule run.
fn check_invalid(verdict: &Verdict) {
    assert!(!verdict.findings.is_empty(), "invalid without a reason");
    assert!(verdict.findings.len() <= MAX_LISTED_PROBLEMS + 1, "too many problems listed");
    for finding in &verdict.findings {
        assert_eq!(finding.rule, PLAN_FORMAT_RULE, "invalid plan with a rule finding");
        assert_eq!(finding.severity, Severity::Error, "plan-format finding not an error");
    }
    assert!(verdict.rules.is_empty(), "rules ran on an invalid plan");
}

/// A judged plan: identity known, every rule listed once in file order,
/// each with as many findings as it made, and `fail` exactly when an error
/// was found.
fn check_judged(rules: &RuleSet, verdict: &Verdict) {
    let has_text = |id: &Option<String>| id.as_deref().is_some_and(|s| !s.trim().is_empty());
    assert!(has_text(&verdict.plan_id), "judged plan without plan_id");
    assert!(has_text(&verdict.patient_id), "judged plan without patient_id");
    let listed: Vec<&str> = verdict.rules.iter().map(|r| r.id.as_str()).collect();
    let expected: Vec<&str> = rules.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(listed, expected, "rule outcomes do not list the rule set");
    for outcome in &verdict.rules {
        let made = verdict.findings.iter().filter(|f| f.rule == outcome.id).count();
        assert_eq!(outcome.findings, made, "finding count of rule {}", outcome.id);
    }
    for finding in &verdict.findings {
        assert_ne!(finding.rule, PLAN_FORMAT_RULE, "plan-format finding on a judged plan");
        let rule = rules.rule(&finding.rule);
        assert!(rule.is_some_and(|r| r.enabled), "finding of no enabled rule: {finding:?}");
        assert_eq!(rule.map(|r| r.severity), Some(finding.severity), "severity not the rule's");
    }
    let failed = verdict.counts.errors > 0;
    assert_eq!(verdict.verdict == Outcome::Fail, failed, "fail iff an error finding");
}

/// Whether `bytes` are UTF-8 JSON by serde_json's reading; embolint's own
/// reader is stricter (duplicate keys, digits), never more lenient — except
/// that it skips a leading byte order mark, as RFC 8259 §8.1 allows (files
/// saved by Windows editors start with one).
fn is_json(bytes: &[u8]) -> bool {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    serde_json::from_slice::<serde::de::IgnoredAny>(text).is_ok()
}

/// The JSON record reads back as the same verdict (the decision log and
/// sidecars are read by other software).
fn check_round_trip(verdict: &Verdict) {
    let json = serde_json::to_string(verdict).expect("a verdict serializes");
    let back: Verdict = serde_json::from_str(&json).expect("a verdict record reads back");
    assert_eq!(&back, verdict, "verdict JSON does not round-trip");
}

/// Two verdicts judge alike: same outcome, and the same findings by rule,
/// severity and place (messages may differ: they quote the plan's units
/// and names).
pub fn assert_same_judgement(first: &Verdict, second: &Verdict) {
    let key = |v: &Verdict| {
        let mut keys: Vec<(String, Severity, String)> =
            v.findings.iter().map(|f| (f.rule.clone(), f.severity, f.path.clone())).collect();
        keys.sort();
        keys
    };
    assert_eq!(first.verdict, second.verdict, "outcome changed");
    assert_eq!(key(first), key(second), "findings changed");
}
