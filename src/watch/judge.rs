//! The verdict on one claimed inbox file: the checker's for a readable plan,
//! `invalid` with the reason for anything the checker cannot be given.

use super::claim::{Claim, Content};
use super::file_name;
use crate::check::{check_bytes, too_large_verdict, PLAN_FORMAT_RULE};
use crate::rules::RuleSet;
use crate::verdict::{Finding, Severity, Verdict};
use std::ffi::OsStr;

/// Judges what was read from inbox file `name`.
pub fn judge(name: &OsStr, claim: &Claim, rules: &RuleSet, max_plan_bytes: u64) -> Verdict {
    let file = file_name::display(name);
    if let Some(problem) = file_name::name_problem(name) {
        return invalid(file, claim, rules, problem);
    }
    match &claim.content {
        Content::Bytes(bytes) => check_bytes(&file, bytes, rules, &[]),
        Content::Oversized(size) => {
            // Same words as `embolint check`; the hash of the whole file lets
            // recovery recognise it.
            let mut verdict = too_large_verdict(&file, *size, max_plan_bytes, rules);
            verdict.sha256 = claim.sha256.clone();
            verdict
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
    }
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
