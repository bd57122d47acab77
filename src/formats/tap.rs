//! TAP version 14: one test point per plan, `ok` for a pass and `not ok`
//! for a fail or an invalid plan, with the findings in a YAML block.

use crate::verdict::{Outcome, Verdict};
use std::fmt::Write;

/// The TAP stream of every verdict of one run.
pub fn render(verdicts: &[Verdict]) -> String {
    let mut out = format!("TAP version 14\n1..{}\n", verdicts.len());
    for (number, verdict) in verdicts.iter().enumerate() {
        let ok = if verdict.verdict == Outcome::Pass { "ok" } else { "not ok" };
        let counts = &verdict.counts;
        let _ = writeln!(
            out,
            "{ok} {} - {} # {}: {} errors, {} warnings, {} infos{}",
            number + 1,
            // A test point's description may not hold '#' unescaped.
            verdict.file.replace('\\', "\\\\").replace('#', "\\#"),
            verdict.verdict.as_str(),
            counts.errors,
            counts.warnings,
            counts.infos,
            if counts.acknowledged > 0 {
                format!(", {} acknowledged", counts.acknowledged)
            } else {
                String::new()
            }
        );
        if verdict.findings.is_empty() {
            continue;
        }
        out.push_str("  ---\n");
        let _ = writeln!(out, "  verdict: {}", verdict.verdict.as_str());
        out.push_str("  findings:\n");
        for finding in &verdict.findings {
            // JSON strings are YAML flow scalars: every message is quoted
            // and escaped whatever it holds.
            let quote = |text: &str| serde_json::Value::from(text).to_string();
            let _ = writeln!(out, "    - rule: {}", quote(&finding.rule));
            let _ = writeln!(out, "      severity: {}", finding.severity.as_str());
            let _ = writeln!(out, "      message: {}", quote(&finding.message));
            let _ = writeln!(out, "      path: {}", quote(&finding.path));
            for (key, value) in [("observed", &finding.observed), ("limit", &finding.limit)] {
                if let Some(value) = value {
                    let _ = writeln!(out, "      {key}: {}", quote(value));
                }
            }
            if let Some(accepted) = &finding.acknowledged {
                out.push_str("      acknowledged:\n");
                let _ = writeln!(out, "        reason: {}", quote(&accepted.reason));
                let _ = writeln!(out, "        by: {}", quote(&accepted.by));
            }
        }
        out.push_str("  ...\n");
    }
    out
}
