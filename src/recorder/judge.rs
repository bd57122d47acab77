//! The verdict on one claimed inbox file: the checker's for a readable plan
//! (with the patient history), `invalid` with the reason for anything the
//! checker cannot be given.

use super::claim::{Claim, Content};
use crate::check::{check, oversized_verdict, Checked, PlanFile, PLAN_FORMAT_RULE};
use crate::history::{History, HistoryError};
use crate::rules::RuleSet;
use crate::verdict::{Finding, Severity, Verdict};
use crate::watch::file_name;
use std::ffi::OsStr;

/// Judges what was read from inbox file `name`. An error means the plan
/// could not be fully checked (the history failed): it gets no verdict.
pub fn judge(
    name: &OsStr,
    claim: &Claim,
    rules: &RuleSet,
    max_plan_bytes: u64,
    history: &History,
) -> Result<Checked, HistoryError> {
    let file = file_name::display(name);
    if let Some(problem) = file_name::name_problem(name) {
        return Ok(unread(invalid(file, claim, rules, problem)));
    }
    let verdict = match &claim.content {
        Content::Bytes(bytes) => {
            let plan = PlanFile { name: &file, bytes, sha256: Some(&claim.sha256) };
            return check(plan, rules, Some(history));
        }
        Content::Oversized(size) => {
            // Same words as `embolint check`; the hash of the bytes read (one
            // past the limit) lets recovery and the move recognise the file.
            oversized_verdict(&file, *size, max_plan_bytes, &claim.sha256, rules)
        }
        Content::Link(target) => {
            let message = format!(
                "the file is a symbolic link (to {:?}); embolint never follows links: drop the \
                 plan file itself",
                target.to_string_lossy()
            );
            invalid(file, claim, rules, message)
        }
        Content::Unreadable(reason) => {
            let message = format!(
                "the file cannot be read ({reason}): give embolint read permission and drop it \
                 again"
            );
            invalid(file, claim, rules, message)
        }
    };
    Ok(unread(verdict))
}

/// A verdict given without reading a plan: no sessions.
fn unread(verdict: Verdict) -> Checked {
    Checked::unread(verdict)
}

/// An `invalid` verdict with one `plan-format` finding about the whole file.
fn invalid(file: String, claim: &Claim, rules: &RuleSet, message: String) -> Verdict {
    let finding = Finding {
        rule: PLAN_FORMAT_RULE.into(),
        severity: Severity::Error,
        ..Finding::at("", message)
    };
    Verdict::new(file, claim.sha256.clone(), vec![finding], Vec::new(), rules.reference(), true)
}
