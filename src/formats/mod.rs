//! Verdicts in the formats other tools read, beside embolint's own text
//! and JSON: JUnit XML for CI dashboards, SARIF for code-scanning viewers,
//! TAP for test harnesses. Each takes every verdict of one `check` run and
//! the rule set that gave them, and says the same thing the JSON says: a
//! reader of any of them never sees a plan pass that failed.
//!
//! - [`junit`]: one test suite per plan, one test case per rule.
//! - [`sarif`]: one run, one result per finding, the rules with their
//!   citations.
//! - [`tap`]: one test point per plan, its findings in a YAML block.

pub mod junit;
pub mod sarif;
pub mod tap;

use crate::verdict::Finding;

/// A finding in one line: its message with the evidence it carries.
fn with_evidence(finding: &Finding) -> String {
    let mut line = finding.message.clone();
    match (&finding.observed, &finding.limit) {
        (Some(observed), Some(limit)) => line += &format!(" (observed {observed}; limit {limit})"),
        (Some(observed), None) => line += &format!(" (observed {observed})"),
        (None, Some(limit)) => line += &format!(" (limit {limit})"),
        (None, None) => {}
    }
    if !finding.path.is_empty() {
        line += &format!(" at {}", finding.path);
    }
    line
}
