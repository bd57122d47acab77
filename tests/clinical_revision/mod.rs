//! The clinical revision of the rules (issue 17): the loopholes a plan could
//! slip through, each pinned through the real binary (`embolint check
//! --format json -`, the plan on standard input). Every test starts from a
//! plan that is valid today and changes one thing, so that a failure means
//! a rule, not a broken plan.
//!
//! - [`arteries`]: entries of one session with equal names are one artery.
//! - [`spinal`]: spinal feeders written in other words (levels and sides).
//! - [`mapping`]: when the spinal artery mapping is required, and its date.
//! - [`sedation`]: totals over entries, brand names, the protocol's regimen.
//! - [`embolic`]: PVA under its other names; pirarubicin without embolic.
//! - [`reading`]: byte-order mark, significant digits, decimal places, synonyms.
//! - [`splitting`]: property: splitting an artery never turns a fail into a pass.

mod arteries;
mod embolic;
mod mapping;
mod reading;
mod sedation;
mod spinal;
mod splitting;

use crate::check_support;

use check_support::{findings, findings_of, rule_ids, run, spec_example};
use serde_json::{json, Value};

/// The SPEC §1 example: L3–L4 spinal lesion, mapping dated 2026-11-02 with
/// origins "left T9 intercostal" and "right L1 lumbar", one session on
/// 2026-11-05 with three treated arteries (left L3, right L3, the common
/// trunk of L4) and the untreated right L1 lumbar artery. It passes with
/// the `course-length` info only.
pub fn example() -> Value {
    spec_example()
}

/// The iliac example of `examples/plans/` (right iliac wing, four treated
/// arteries off the iliac arteries, no spinal mapping): it passes today
/// with the `course-length` info only.
pub fn iliac_example() -> Value {
    let path = check_support::repo("examples/plans/pass-iliac.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The arteries of the plan's first session.
pub fn arteries(plan: &mut Value) -> &mut Vec<Value> {
    plan["sessions"][0]["arteries"].as_array_mut().unwrap()
}

/// A quantity.
pub fn qty(value: Value, unit: &str) -> Value {
    json!({ "value": value, "unit": unit })
}

/// A drug of an artery.
pub fn drug(name: &str, value: Value, unit: &str) -> Value {
    json!({ "name": name, "dose": qty(value, unit) })
}

/// An artery entry embolised with PVA 300–600 µm, without drugs, not flagged
/// as sharing a spinal origin: treated, and changing no dose total.
pub fn embolised(name: &str, origin: Option<&str>, diameter: Value) -> Value {
    let mut artery = json!({
        "name": name,
        "diameter_mm": diameter,
        "shares_origin_with_spinal_artery": false,
        "embolic": { "agent": "PVA", "particle_size_um": [300, 600] },
    });
    if let Some(origin) = origin {
        artery["origin"] = json!(origin);
    }
    artery
}

/// An artery entry that is documented but not treated (no embolic, no drugs).
pub fn documented(name: &str, origin: Option<&str>, diameter: Value, shares: bool) -> Value {
    let mut artery = json!({
        "name": name,
        "diameter_mm": diameter,
        "shares_origin_with_spinal_artery": shares,
    });
    if let Some(origin) = origin {
        artery["origin"] = json!(origin);
    }
    artery
}

/// Checks the plan's bytes with the real binary; returns its verdict.
pub fn judge_bytes(bytes: Vec<u8>) -> Value {
    let run = run(["check", "--format", "json", "-"], Some(bytes));
    let verdict = run.verdict();
    let want = match verdict["verdict"].as_str() {
        Some("pass") => Some(0),
        Some("fail") => Some(1),
        Some("invalid") => Some(2),
        _ => None,
    };
    assert_eq!(run.code, want, "exit code does not match the verdict: {verdict}\n{}", run.stderr);
    verdict
}

/// Checks the plan with the real binary; returns its verdict.
pub fn judge(plan: &Value) -> Value {
    judge_bytes(serde_json::to_vec_pretty(plan).unwrap())
}

/// The verdict, the error rule ids and the warning rule ids, for comparing.
pub fn outcome(verdict: &Value) -> (String, Vec<String>, Vec<String>) {
    (
        verdict["verdict"].as_str().unwrap_or("<none>").to_string(),
        rule_ids(verdict, "error"),
        rule_ids(verdict, "warning"),
    )
}

/// How a verdict differs from the expected one, or `None`.
pub fn differs(verdict: &Value, want: &str, errors: &[&str], warnings: &[&str]) -> Option<String> {
    let mut errors: Vec<String> = errors.iter().map(|s| s.to_string()).collect();
    let mut warnings: Vec<String> = warnings.iter().map(|s| s.to_string()).collect();
    errors.sort();
    warnings.sort();
    let want = (want.to_string(), errors, warnings);
    let have = outcome(verdict);
    (want != have).then(|| {
        format!(
            "expected {want:?}, got {have:?}; findings: {}",
            serde_json::to_string(&findings(verdict)).unwrap_or_default()
        )
    })
}

/// Asserts the verdict and the exact error and warning rule ids (infos are
/// not compared: they only count the course's sessions).
#[track_caller]
pub fn assert_judged(verdict: &Value, want: &str, errors: &[&str], warnings: &[&str]) {
    if let Some(problem) = differs(verdict, want, errors, warnings) {
        panic!("{problem}");
    }
}

/// Collects the problems of table-driven cases and reports them all at once.
#[derive(Default)]
pub struct Problems(Vec<String>);

impl Problems {
    /// Records how case `name` differs from what is expected, if it does.
    pub fn check(
        &mut self,
        name: &str,
        verdict: &Value,
        want: &str,
        errors: &[&str],
        warnings: &[&str],
    ) {
        if let Some(problem) = differs(verdict, want, errors, warnings) {
            self.0.push(format!("{name}: {problem}"));
        }
    }

    /// Records a problem.
    pub fn push(&mut self, problem: String) {
        self.0.push(problem);
    }

    /// Fails the test with every problem, if any.
    #[track_caller]
    pub fn assert_none(self, cases: usize) {
        assert!(
            self.0.is_empty(),
            "{} problems in {cases} cases:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

/// The text of a finding a clinician reads: its message and its evidence.
pub fn finding_text(finding: &Value) -> String {
    let mut text = String::new();
    for key in ["message", "observed", "limit", "artery"] {
        if let Some(part) = finding[key].as_str() {
            text.push_str(part);
            text.push('\n');
        }
    }
    text
}

/// The findings of `rule` as (path, text).
pub fn located(verdict: &Value, rule: &str) -> Vec<(String, String)> {
    findings_of(verdict, rule)
        .iter()
        .map(|f| (f["path"].as_str().unwrap_or_default().to_string(), finding_text(f)))
        .collect()
}

/// Whether `path` is `under` or inside it.
pub fn is_at_or_under(path: &str, under: &str) -> bool {
    path == under || path.starts_with(&format!("{under}/"))
}
