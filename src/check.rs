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

/// Largest plan file read by default (SPEC §4: 1 MiB). Larger files are
/// invalid without being read.
pub const DEFAULT_MAX_PLAN_BYTES: u64 = 1024 * 1024;

/// What reading a plan file gave.
#[derive(Debug)]
pub enum PlanBytes {
    /// The whole file.
    Read(Vec<u8>),
    /// The file is larger than the limit; only its size is known.
    TooLarge { size: u64, limit: u64 },
}

/// Reads a plan file, refusing by size before reading a byte more than the
/// limit. Errors are the file system's (missing, unreadable, a folder).
pub fn read_plan_file(path: &std::path::Path, limit: u64) -> std::io::Result<PlanBytes> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if metadata.len() > limit {
        return Ok(PlanBytes::TooLarge { size: metadata.len(), limit });
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    // The file may grow while read: take at most one byte over the limit.
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Ok(PlanBytes::TooLarge { size: bytes.len() as u64, limit });
    }
    Ok(PlanBytes::Read(bytes))
}

/// The verdict on a file too large to read: invalid, with its size.
pub fn too_large_verdict(file: &str, size: u64, limit: u64, rules: &RuleSet) -> Verdict {
    let finding = Finding {
        rule: PLAN_FORMAT_RULE.into(),
        severity: Severity::Error,
        ..Finding::at(
            "",
            format!(
                "the file is {size} bytes, more than the {limit}-byte limit for a plan; \
                 it was not read — check that this is the right file"
            ),
        )
    };
    // No byte was read, so no content hash can be given.
    Verdict::new(file.into(), String::new(), vec![finding], Vec::new(), rules.reference(), true)
}
