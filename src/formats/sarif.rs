//! SARIF 2.1.0: one run of embolint, the rule set's rules with their
//! descriptions and citations, one result per finding, located in the plan
//! file and, logically, at the finding's JSON Pointer. An acknowledged
//! finding carries a `suppressions` entry of kind `external`.

use super::with_evidence;
use crate::rules::RuleSet;
use crate::verdict::{Severity, Verdict};
use serde_sarif::sarif::{
    ArtifactLocation, Location, LogicalLocation, Message, MultiformatMessageString,
    PhysicalLocation, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif,
    Suppression, Tool, ToolComponent, Version,
};

/// The SARIF log of every verdict of one run under `rules`.
pub fn render(verdicts: &[Verdict], rules: &RuleSet) -> serde_json::Result<String> {
    let descriptors: Vec<ReportingDescriptor> = rules
        .rules
        .iter()
        .map(|rule| {
            ReportingDescriptor::builder()
                .id(rule.id.as_str())
                .short_description(text(&rule.description))
                .full_description(text(&match (&rule.citation, &rule.rationale) {
                    (Some(citation), Some(rationale)) => {
                        format!("Protocol: {citation} Why embolint adds it: {rationale}")
                    }
                    (Some(citation), None) => format!("Protocol: {citation}"),
                    (None, Some(rationale)) => format!("Not the protocol's rule: {rationale}"),
                    (None, None) => rule.description.clone(),
                }))
                .build()
        })
        .collect();
    let driver = ToolComponent::builder()
        .name("embolint")
        .version(env!("CARGO_PKG_VERSION"))
        .full_name(format!("embolint, rule set {} {}", rules.id, rules.version))
        .rules(descriptors)
        .build();
    let results: Vec<SarifResult> = verdicts
        .iter()
        .flat_map(|verdict| verdict.findings.iter().map(move |finding| (verdict, finding)))
        .map(|(verdict, finding)| {
            let level = match finding.severity {
                Severity::Error => ResultLevel::Error,
                Severity::Warning => ResultLevel::Warning,
                Severity::Info => ResultLevel::Note,
            };
            let place = PhysicalLocation::builder()
                .artifact_location(ArtifactLocation::builder().uri(verdict.file.as_str()).build())
                .build();
            let pointer = LogicalLocation::builder()
                .fully_qualified_name(finding.path.as_str())
                .kind("element")
                .build();
            let location = Location::builder()
                .physical_location(place)
                .logical_locations(vec![pointer])
                .build();
            let mut result = SarifResult::builder()
                .rule_id(finding.rule.as_str())
                .level(level)
                .message(Message::builder().text(with_evidence(finding)).build())
                .locations(vec![location])
                .build();
            // An acknowledged finding is suppressed "externally": by the
            // plan's own acknowledgement, with its author and reason.
            if let Some(accepted) = &finding.acknowledged {
                let suppression = Suppression::builder()
                    .kind(serde_json::json!("external"))
                    .justification(format!("acknowledged by {}: {}", accepted.by, accepted.reason))
                    .build();
                result.suppressions = Some(vec![suppression]);
            }
            result
        })
        .collect();
    let run = Run::builder().tool(Tool::builder().driver(driver).build()).results(results).build();
    let log = Sarif::builder().version(Version::V2_1_0.to_string()).runs(vec![run]).build();
    serde_json::to_string_pretty(&log)
}

fn text(text: &str) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(text).build()
}
