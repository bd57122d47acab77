//! PLACEHOLDER API — the strict plan reader; signatures are the contract.

use super::Plan;
use crate::names::Names;

/// One problem that makes a plan invalid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// JSON Pointer of the offending value (`""` for the whole file).
    pub path: String,
    /// What is wrong and how to fix it, for a clinician.
    pub message: String,
}

/// Why a plan could not be read, with what could be read of its identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseFailure {
    /// Every problem found, in document order; never empty.
    pub problems: Vec<Problem>,
    pub plan_id: Option<String>,
    pub patient_id: Option<String>,
}

/// Reads a plan strictly. `names` resolves synonyms where the format depends
/// on them (particle sizes are required when the agent is PVA).
pub fn parse_plan(_bytes: &[u8], _names: &Names) -> Result<Plan, ParseFailure> {
    Err(ParseFailure {
        problems: vec![Problem { path: String::new(), message: "not implemented".into() }],
        plan_id: None,
        patient_id: None,
    })
}
