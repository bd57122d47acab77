//! One plan file in, one verdict out: the single entry point shared by
//! `embolint check` and the watch daemon, so both judge alike.

use crate::history::RecordedSession;
use crate::plan::parse_plan;
use crate::rules::{Context, RuleSet};
use crate::verdict::{Finding, Severity, Verdict};
use sha2::{Digest, Sha256};

/// The rule id of every finding about an unreadable or malformed plan.
pub const PLAN_FORMAT_RULE: &str = "plan-format";

/// Checks the bytes of one plan file against a rule set.
///
/// `file` is the name shown in the verdict; `history` holds sessions of
/// other plans of any patient, already recorded (empty when no history is
/// kept). Never panics, whatever the bytes.
pub fn check_bytes(
    file: &str,
    bytes: &[u8],
    rules: &RuleSet,
    history: &[RecordedSession],
) -> Verdict {
    let sha256 = sha256_hex(bytes);
    match parse_plan(bytes, &rules.names) {
        Ok(plan) => {
            let context = Context { names: &rules.names, history };
            let (findings, outcomes) = rules.evaluate(&plan, &context);
            let mut verdict =
                Verdict::new(file.into(), sha256, findings, outcomes, rules.reference(), false);
            verdict.plan_id = Some(plan.plan_id);
            verdict.patient_id = Some(plan.patient.id);
            verdict
        }
        Err(failure) => {
            let findings = failure
                .problems
                .into_iter()
                .map(|problem| Finding {
                    rule: PLAN_FORMAT_RULE.into(),
                    severity: Severity::Error,
                    ..Finding::at(problem.path, problem.message)
                })
                .collect();
            let mut verdict =
                Verdict::new(file.into(), sha256, findings, Vec::new(), rules.reference(), true);
            verdict.plan_id = failure.plan_id;
            verdict.patient_id = failure.patient_id;
            verdict
        }
    }
}

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}
