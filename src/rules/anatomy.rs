//! Rules about the spinal arteries: map them before treating a spinal
//! lesion, and never treat an artery that shares their origin.

use super::kind::RuleKind;
use super::loader::LoadError;
use super::params::{name_list, Params};
use super::text::{and_list, session_label};
use super::{Context, ResolvedPlan};
use crate::names::{Name, Names};
use crate::plan::{Artery, LesionRegion, Session};
use crate::verdict::Finding;
use serde::Serialize;

/// `spinal-mapping-required`: "Before chemoembolization of vertebral
/// metastases, anterior and posterior spinal arteries were identified."
#[derive(Clone, Debug, Serialize)]
pub struct SpinalMappingRequired {
    /// Lesion regions that need the mapping (`spine` by default).
    regions: Vec<String>,
}

impl RuleKind for SpinalMappingRequired {
    fn from_params(params: &mut Params, _names: &Names) -> Result<Self, LoadError> {
        let Some(list) = params.regions.take() else {
            return Ok(SpinalMappingRequired { regions: vec!["spine".to_string()] });
        };
        let span = list.span();
        let regions = name_list(list, "regions")?;
        for region in &regions {
            if !LesionRegion::ALL.iter().any(|(name, _)| name == region) {
                let known: Vec<&str> = LesionRegion::ALL.iter().map(|(name, _)| *name).collect();
                return Err(LoadError::at(
                    span,
                    format!("`{region}` is not a lesion region; use {}", known.join(", ")),
                ));
            }
        }
        Ok(SpinalMappingRequired { regions })
    }

    fn evaluate(&self, plan: &ResolvedPlan, _context: &Context) -> Option<Vec<Finding>> {
        let region = plan.indication.lesion_region.as_str();
        if !self.regions.iter().any(|r| r == region) {
            return None;
        }
        if plan.spinal_artery_mapping.is_some() {
            return Some(Vec::new());
        }
        let finding = Finding::at(
            "/spinal_artery_mapping",
            format!(
                "The lesion is in the {region}, but the plan has no spinal_artery_mapping. \
                 Identify the anterior and posterior spinal arteries on angiography and record \
                 the segmental arteries they arise from (an empty list if none) before \
                 chemoembolization."
            ),
        )
        .observed("no spinal_artery_mapping")
        .limit(format!("required for lesions in the {}", and_list(&self.regions)));
        Some(vec![finding])
    }

    fn summary(&self) -> String {
        format!("lesion regions: {}", and_list(&self.regions))
    }
}

/// `spinal-feeder-excluded`: "… except those arising from the same arteries
/// as the spinal arteries."
#[derive(Clone, Debug, Serialize)]
pub struct SpinalFeederExcluded {}

impl RuleKind for SpinalFeederExcluded {
    fn from_params(_params: &mut Params, _names: &Names) -> Result<Self, LoadError> {
        Ok(SpinalFeederExcluded {})
    }

    fn evaluate(&self, plan: &ResolvedPlan, _context: &Context) -> Option<Vec<Finding>> {
        let spinal_origins: &[Name] =
            plan.spinal_artery_mapping.as_ref().map_or(&[], |m| m.origins.as_slice());
        let mut findings = Vec::new();
        for session in &plan.sessions {
            for artery in session.treated_arteries() {
                if let Some(reasons) = reasons(artery, spinal_origins) {
                    findings.push(finding(session, artery, &reasons));
                }
            }
        }
        Some(findings)
    }

    fn summary(&self) -> String {
        "no treated artery may share its origin with a spinal artery (planner's reading, or an \
         origin listed in spinal_artery_mapping)"
            .to_string()
    }
}

/// The planner's own reading, as a reason.
const MARKED: &str = "the plan marks it as sharing its origin with a spinal artery \
                      (shares_origin_with_spinal_artery: true)";

/// Why a treated artery counts as arising with a spinal artery: a reason,
/// and a second one when both hold, each a clause; `None` if it does not.
/// `spinal_origins` are the origins listed in the mapping.
fn reasons(artery: &Artery, spinal_origins: &[Name]) -> Option<(String, Option<String>)> {
    let marked = artery.shares_origin_with_spinal_artery.then(|| MARKED.to_string());
    let mapped = artery
        .origin
        .as_ref()
        .filter(|origin| spinal_origins.iter().any(|spinal| spinal.canonical == origin.canonical))
        .map(|origin| {
            format!(
                "its origin, {}, is listed in spinal_artery_mapping as the origin of a spinal \
                 artery",
                origin.written
            )
        });
    match (marked, mapped) {
        (Some(marked), mapped) => Some((marked, mapped)),
        (None, Some(mapped)) => Some((mapped, None)),
        (None, None) => None,
    }
}

fn finding(session: &Session, artery: &Artery, reasons: &(String, Option<String>)) -> Finding {
    let treatment = match (&artery.embolic, artery.drugs.is_empty()) {
        (Some(_), false) => "embolised and infused",
        (Some(_), true) => "embolised",
        (None, _) => "infused",
    };
    let (because, observed) = match reasons {
        (one, Some(two)) => (format!("{one} and {two}"), format!("{treatment}; {one}; {two}")),
        (one, None) => (one.clone(), format!("{treatment}; {one}")),
    };
    let message = format!(
        "{}: {} is planned to be {treatment}, but {because}. An artery arising with a spinal \
         artery must not be embolised or infused: remove its embolic agent and drugs from the \
         plan (it may stay listed, untreated, as documentation).",
        session_label(session),
        artery.name,
    );
    Finding::at(artery.pointer(session), message)
        .in_session(session)
        .in_artery(artery)
        .observed(observed)
        .limit("not treated")
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::plan::LesionRegion;

    #[test]
    fn a_spinal_lesion_without_mapping_is_an_error() {
        let mut plan = spec_example();
        plan.spinal_artery_mapping = None;
        let findings = findings_of("spinal-mapping-required", &plan);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].path, "/spinal_artery_mapping");
        assert!(findings[0].message.contains("spinal_artery_mapping"), "{}", findings[0].message);
    }

    #[test]
    fn an_empty_mapping_counts_as_mapped() {
        let mut plan = spec_example();
        plan.spinal_artery_mapping.as_mut().unwrap().origins.clear();
        assert!(findings_of("spinal-mapping-required", &plan).is_empty());
        assert_eq!(outcome_of("spinal-mapping-required", &plan), RuleResult::Pass);
    }

    #[test]
    fn other_regions_are_not_applicable() {
        let mut plan = spec_example();
        plan.spinal_artery_mapping = None;
        plan.indication.lesion_region = LesionRegion::Iliac;
        assert_eq!(outcome_of("spinal-mapping-required", &plan), RuleResult::NotApplicable);
    }

    #[test]
    fn a_treated_artery_marked_as_sharing_origin_is_an_error() {
        let mut plan = spec_example();
        plan.sessions[0].arteries[0].shares_origin_with_spinal_artery = true;
        let findings = findings_of("spinal-feeder-excluded", &plan);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let f = &findings[0];
        assert_eq!(f.path, "/sessions/0/arteries/0");
        assert_eq!(f.artery.as_deref(), Some("left L3 lumbar artery"));
        assert!(f.message.contains("shares_origin_with_spinal_artery: true"), "{}", f.message);
        assert!(f.message.contains("must not be embolised or infused"), "{}", f.message);
        assert!(f.message.starts_with("session 2 on 2026-11-05: "), "{}", f.message);
    }

    #[test]
    fn a_treated_artery_whose_origin_is_mapped_as_spinal_is_an_error() {
        let mut plan = spec_example();
        // Same origin as the mapping's "left T9 intercostal", written otherwise.
        plan.sessions[0].arteries[1].origin = Some(name("  Left  T9 INTERCOSTAL"));
        let findings = findings_of("spinal-feeder-excluded", &plan);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(findings[0].message.contains("listed in spinal_artery_mapping"));
        assert!(!findings[0].message.contains("shares_origin_with_spinal_artery: true"));
    }

    #[test]
    fn an_artery_marked_and_mapped_gives_both_reasons_in_one_finding() {
        let mut plan = spec_example();
        let artery = &mut plan.sessions[0].arteries[1];
        artery.origin = Some(name("left T9 intercostal"));
        artery.shares_origin_with_spinal_artery = true;
        let findings = findings_of("spinal-feeder-excluded", &plan);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let both = "but the plan marks it as sharing its origin with a spinal artery \
                    (shares_origin_with_spinal_artery: true) and its origin, left T9 intercostal, \
                    is listed in spinal_artery_mapping as the origin of a spinal artery.";
        assert!(findings[0].message.contains(both), "{}", findings[0].message);
        assert_eq!(
            findings[0].observed.as_deref(),
            Some(
                "embolised and infused; the plan marks it as sharing its origin with a spinal \
                 artery (shares_origin_with_spinal_artery: true); its origin, left T9 \
                 intercostal, is listed in spinal_artery_mapping as the origin of a spinal artery"
            )
        );
    }

    #[test]
    fn an_untreated_spinal_feeder_is_fine_and_infusion_alone_is_treatment() {
        let plan = spec_example();
        // The example's fourth artery shares its origin but is not treated.
        assert!(plan.sessions[0].arteries[3].shares_origin_with_spinal_artery);
        assert!(findings_of("spinal-feeder-excluded", &plan).is_empty());

        let mut infused = spec_example();
        let artery = &mut infused.sessions[0].arteries[3];
        artery.drugs = vec![drug(0, "carboplatin", "10 mg")];
        let findings = findings_of("spinal-feeder-excluded", &infused);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("planned to be infused"), "{}", findings[0].message);
    }
}
