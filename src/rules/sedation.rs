//! `sedation-protocol`: the protocol's sedation regimen, and nothing else.
//!
//! "All procedures were performed under analgo-sedation with alfentanil
//! chlorhydrate 1–2 mg/h (…), a bolus of clonazepam 0.2 mg (…) or a bolus of
//! midazolam 1–2 mg. There was no need for assisted ventilation with the
//! administered doses." The paper claims the sedation's safety for this
//! regimen only: alfentanil as a continuous rate, and a bolus of clonazepam
//! or (not and) of midazolam. The doses themselves are `sedation-dose-max`'s.

use super::kind::RuleKind;
use super::loader::LoadError;
use super::params::{is_one_of, rule_names, Params, RuleName};
use super::text::{and_list, or_list, session_label};
use super::{Context, ResolvedPlan};
use crate::names::Names;
use crate::plan::{Sedative, SedativeDose, Session};
use crate::verdict::Finding;
use serde::Serialize;

/// `sedation-protocol`: a sedation entry outside the protocol's regimen.
#[derive(Clone, Debug, Serialize)]
pub struct SedationProtocol {
    /// Sedatives the protocol gives as a continuous rate (alfentanil).
    rate_sedatives: Vec<RuleName>,
    /// Sedatives the protocol gives as a bolus (clonazepam, midazolam).
    bolus_sedatives: Vec<RuleName>,
    /// Sedatives the protocol gives one or the other of, never two of them
    /// in one session (clonazepam or midazolam).
    not_together: Vec<RuleName>,
}

/// The protocol's regimen, for a rule file that does not give it.
const RATE_SEDATIVES: &[&str] = &["alfentanil"];
const BOLUS_SEDATIVES: &[&str] = &["clonazepam", "midazolam"];
const NOT_TOGETHER: &[&str] = &["clonazepam", "midazolam"];

impl RuleKind for SedationProtocol {
    fn from_params(params: &mut Params, names: &Names) -> Result<Self, LoadError> {
        let read = |list: Option<toml::Spanned<Vec<String>>>, default: &[&str]| match list {
            Some(list) => rule_names(list, "sedatives", names),
            None => Ok(default.iter().map(|n| RuleName::new(n.to_string(), names)).collect()),
        };
        Ok(SedationProtocol {
            rate_sedatives: read(params.rate_sedatives.take(), RATE_SEDATIVES)?,
            bolus_sedatives: read(params.bolus_sedatives.take(), BOLUS_SEDATIVES)?,
            not_together: read(params.not_together.take(), NOT_TOGETHER)?,
        })
    }

    fn evaluate(&self, plan: &ResolvedPlan, _context: &Context) -> Option<Vec<Finding>> {
        let mut findings = Vec::new();
        for session in &plan.sessions {
            for sedative in &session.sedation {
                if let Some(finding) = self.check_entry(session, sedative) {
                    findings.push(finding);
                }
            }
            findings.extend(self.check_together(session));
        }
        Some(findings)
    }

    fn summary(&self) -> String {
        let mut parts = Vec::new();
        if !self.rate_sedatives.is_empty() {
            parts.push(format!("{} as a rate", or_list(&self.rate_sedatives)));
        }
        if !self.bolus_sedatives.is_empty() {
            parts.push(format!("{} as a bolus", or_list(&self.bolus_sedatives)));
        }
        if self.not_together.len() > 1 {
            parts.push(format!("never {} in one session", and_list(&self.not_together)));
        }
        format!("sedation only as: {}", parts.join("; "))
    }
}

impl SedationProtocol {
    /// The regimen in words: "alfentanil as a continuous rate, and a bolus of
    /// clonazepam or midazolam".
    fn regimen(&self) -> String {
        let mut parts = Vec::new();
        if !self.rate_sedatives.is_empty() {
            parts.push(format!("{} as a continuous rate", or_list(&self.rate_sedatives)));
        }
        if !self.bolus_sedatives.is_empty() {
            parts.push(format!("a bolus of {}", or_list(&self.bolus_sedatives)));
        }
        and_list(&parts)
    }

    /// The finding for an entry outside the regimen: another sedative, or
    /// one of the regimen's in the other form.
    fn check_entry(&self, session: &Session, sedative: &Sedative) -> Option<Finding> {
        let as_rate = is_one_of(&self.rate_sedatives, &sedative.name);
        let as_bolus = is_one_of(&self.bolus_sedatives, &sedative.name);
        let (given, problem) = match sedative.dose {
            SedativeDose::Rate(_) if as_rate => return None,
            SedativeDose::Bolus(_) if as_bolus => return None,
            SedativeDose::Rate(q) => (format!("as a rate of {q}"), "an infusion of it"),
            SedativeDose::Bolus(q) => (format!("as a bolus of {q}"), "a bolus of it"),
        };
        let why = if as_rate || as_bolus {
            format!("the protocol does not give {problem}")
        } else {
            "it is not one of the protocol's sedatives".to_string()
        };
        let message = format!(
            "{}: {} is planned {given}, but {why}. The protocol's sedation is {}; the paper \
             claims its safety (no need for assisted ventilation) for that regimen only. Use the \
             protocol's regimen, or record why this patient needs another.",
            session_label(session),
            sedative.name,
            self.regimen()
        );
        Some(
            Finding::at(format!("{}/sedation/{}", session.pointer(), sedative.index), message)
                .in_session(session)
                .observed(format!("{} {given}", sedative.name))
                .limit(self.regimen()),
        )
    }

    /// The finding for a session giving more than one of the sedatives the
    /// protocol gives one or the other of. It points at the session's
    /// `sedation`, naming no single entry: each entry is still within the
    /// regimen, and still counts towards `sedation-dose-max`.
    fn check_together(&self, session: &Session) -> Option<Finding> {
        let mut given: Vec<&Sedative> = Vec::new();
        for sedative in &session.sedation {
            let chosen = self.not_together.iter().find(|choice| choice.matches(&sedative.name));
            let Some(chosen) = chosen else { continue };
            if !given.iter().any(|other| chosen.matches(&other.name)) {
                given.push(sedative);
            }
        }
        if given.len() < 2 {
            return None;
        }
        let written: Vec<String> =
            given.iter().map(|s| format!("{} (sedation/{})", s.name, s.index)).collect();
        let message = format!(
            "{}: the session gives {}; the protocol gives {}, not both. Keep one of them.",
            session_label(session),
            and_list(&written),
            or_list(&self.not_together)
        );
        Some(
            Finding::at(format!("{}/sedation", session.pointer()), message)
                .in_session(session)
                .observed(and_list(&given.iter().map(|s| s.name.to_string()).collect::<Vec<_>>()))
                .limit(format!("one of {}", or_list(&self.not_together))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn the_regimen_passes_and_each_entry_outside_it_is_named() {
        let ok = sedated(&[("alfentanil", "1.5 mg/h", true), ("midazolam", "1 mg", false)]);
        assert!(findings_of("sedation-protocol", &ok).is_empty());
        let plan = sedated(&[
            ("alfentanil", "1.5 mg/h", true),
            ("Rapifen", "0.5 mg", false),
            ("Versed", "1 mg/h", true),
            ("propofol", "100 mg/h", true),
        ]);
        let findings = findings_of("sedation-protocol", &plan);
        let paths: Vec<&str> = findings.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            ["/sessions/0/sedation/1", "/sessions/0/sedation/2", "/sessions/0/sedation/3"]
        );
        assert!(
            findings[0].message.contains("does not give a bolus of it"),
            "{}",
            findings[0].message
        );
        assert!(findings[1].message.contains("does not give an infusion of it"));
        assert!(findings[2].message.contains("not one of the protocol's sedatives"));
    }

    /// The lead's decision: clonazepam with midazolam is one finding at the
    /// session's `sedation`, so both boluses still count in
    /// `sedation-dose-max` (a midazolam overdose given with clonazepam is
    /// still reported as an overdose).
    #[test]
    fn clonazepam_with_midazolam_is_one_finding_at_the_sedation_and_doses_still_count() {
        let plan = sedated(&[
            ("alfentanil", "1 mg/h", true),
            ("Rivotril", "0.2 mg", false),
            ("midazolam", "3 mg", false),
        ]);
        let findings = findings_of("sedation-protocol", &plan);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].path, "/sessions/0/sedation");
        assert!(findings[0].message.contains("Rivotril (sedation/1) and midazolam (sedation/2)"));
        let overdose = findings_of("sedation-dose-max", &plan);
        assert_eq!(overdose.len(), 1, "the midazolam overdose is still reported: {overdose:#?}");
        assert_eq!(overdose[0].path, "/sessions/0/sedation/2");
    }
}
