//! `plan-revision`: a plan whose `plan_id` is recorded for another patient
//! is not a revision but an id collision. Passing it would replace the
//! other patient's recorded sessions, and with them the spacing check of
//! that patient's next plan. The paper says nothing of plan ids: this is
//! embolint's own rule, from how the history treats a revision (a later
//! plan with the same `plan_id` replaces the earlier one).

use super::kind::RuleKind;
use super::loader::LoadError;
use super::params::Params;
use super::{Context, ResolvedPlan};
use crate::names::{normalize, Names};
use crate::verdict::Finding;
use serde::Serialize;

/// `plan-revision`: a revision must be of the same patient.
#[derive(Clone, Debug, Serialize)]
pub struct PlanRevision {}

impl RuleKind for PlanRevision {
    fn from_params(_params: &mut Params, _names: &Names) -> Result<Self, LoadError> {
        Ok(PlanRevision {})
    }

    /// Applies only when the plan is checked against a history.
    fn evaluate(&self, plan: &ResolvedPlan, context: &Context) -> Option<Vec<Finding>> {
        let history = context.history?;
        let Some(recorded) = &history.same_plan_id else { return Some(Vec::new()) };
        // Patient ids are compared as names: "PAT-W " is PAT-W.
        if normalize(&recorded.patient_id) == normalize(&plan.patient.id) {
            return Some(Vec::new());
        }
        let message = format!(
            "plan_id {} is already recorded for another patient (recorded {}); a revision \
             cannot change the patient. Give this plan its own plan_id, or, if the recorded \
             plan named the wrong patient, withdraw it first (embolint history --forget {}).",
            plan.plan_id, recorded.recorded_at, plan.plan_id
        );
        let finding = Finding::at("/plan_id", message)
            .observed(format!("patient {}", plan.patient.id))
            .limit("the patient of the recorded plan");
        Some(vec![finding])
    }

    fn summary(&self) -> String {
        "a plan_id already recorded for another patient is refused".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{PatientHistory, RecordedVersion};

    fn recorded_for(patient: &str) -> PatientHistory {
        let recorded_at = "2026-10-20T09:00:00Z".parse().unwrap();
        let version = RecordedVersion { patient_id: patient.into(), recorded_at };
        PatientHistory { sessions: Vec::new(), same_plan_id: Some(version) }
    }

    #[test]
    fn a_plan_id_recorded_for_another_patient_is_an_error_at_the_plan_id() {
        let findings = findings_in("plan-revision", &spec_example(), Some(&recorded_for("PAT-X")));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].path, "/plan_id");
        assert!(!findings[0].message.contains("PAT-X"), "the other patient is never named");
        assert_eq!(
            findings[0].citation.as_deref(),
            Some("Procedures were separated by a 1-month time period."),
            "the sentence of the history it protects"
        );
    }

    #[test]
    fn the_same_patient_written_otherwise_is_the_same_patient() {
        let plan = spec_example();
        assert_eq!(plan.patient.id, "PAT-0007");
        for written in ["pat-0007", " PAT-0007\t", "Pat-0007"] {
            let findings = findings_in("plan-revision", &plan, Some(&recorded_for(written)));
            assert!(findings.is_empty(), "{written}: {findings:#?}");
        }
    }

    #[test]
    fn the_same_patient_or_no_record_passes_and_no_history_does_not_apply() {
        let plan = spec_example();
        assert!(findings_in("plan-revision", &plan, Some(&recorded_for("PAT-0007"))).is_empty());
        let empty = PatientHistory::default();
        assert!(findings_in("plan-revision", &plan, Some(&empty)).is_empty());
        assert_eq!(outcome_of("plan-revision", &plan), RuleResult::NotApplicable);
    }
}
