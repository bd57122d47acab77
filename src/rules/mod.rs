//! The rule set: data (`rules/*.toml`) read into typed rules, and the
//! evaluation of a plan against them.
//!
//! PLACEHOLDER API — being implemented; signatures are the contract.

use crate::history::RecordedSession;
use crate::names::Names;
use crate::plan::Plan;
use crate::verdict::{Finding, RuleOutcome, RuleSetRef};
use std::path::Path;

/// The shipped rule file, built into the binary.
pub const BUILTIN_RULES: &str = include_str!("../../rules/chiras-bone-chemoembolization.toml");

/// What the rules need besides the plan.
pub struct Context<'a> {
    pub names: &'a Names,
    /// Sessions of other plans already recorded (any patient).
    pub history: &'a [RecordedSession],
}

/// A rule file that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
#[error("rule file {origin}: {message}")]
pub struct RuleFileError {
    pub origin: String,
    pub message: String,
}

#[derive(Clone, Debug)]
pub struct RuleSet {
    pub id: String,
    pub version: String,
    pub sha256: String,
    pub names: Names,
}

impl RuleSet {
    pub fn builtin() -> Result<RuleSet, RuleFileError> {
        RuleSet::from_toml(BUILTIN_RULES, "built-in rules")
    }

    pub fn load(path: &Path) -> Result<RuleSet, RuleFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| RuleFileError {
            origin: path.display().to_string(),
            message: e.to_string(),
        })?;
        RuleSet::from_toml(&text, &path.display().to_string())
    }

    pub fn from_toml(text: &str, _origin: &str) -> Result<RuleSet, RuleFileError> {
        Ok(RuleSet {
            id: String::new(),
            version: String::new(),
            sha256: crate::check::sha256_hex(text.as_bytes()),
            names: Names::default(),
        })
    }

    pub fn reference(&self) -> RuleSetRef {
        RuleSetRef {
            id: self.id.clone(),
            version: self.version.clone(),
            sha256: self.sha256.clone(),
        }
    }

    pub fn evaluate(&self, _plan: &Plan, _context: &Context) -> (Vec<Finding>, Vec<RuleOutcome>) {
        (Vec::new(), Vec::new())
    }
}
