//! Rules about the spinal arteries: map them before treating a spinal
//! lesion, and never treat an artery that shares their origin.

use super::kind::RuleKind;
use super::loader::LoadError;
use super::params::{name_list, Params};
use super::text::{and_list, session_label};
use super::{Context, ResolvedPlan};
use crate::levels::{self, Pairs};
use crate::names::{Name, Names};
use crate::plan::{LesionRegion, Session, SessionArtery};
use crate::verdict::Finding;
use serde::Serialize;

/// `spinal-mapping-required`: "Before chemoembolization of vertebral
/// metastases, anterior and posterior spinal arteries were identified."
#[derive(Clone, Debug, Serialize)]
pub struct SpinalMappingRequired {
    /// Lesion regions that need the mapping (`spine` and `sacrum` by
    /// default). Lesion levels or treated arteries that name a vertebral
    /// level need it whatever the region.
    regions: Vec<String>,
}

impl RuleKind for SpinalMappingRequired {
    fn from_params(params: &mut Params, _names: &Names) -> Result<Self, LoadError> {
        let Some(list) = params.regions.take() else {
            return Ok(SpinalMappingRequired {
                regions: DEFAULT_REGIONS.map(String::from).to_vec(),
            });
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
        let near_the_cord = self.near_the_cord(plan)?;
        let Some(mapping) = &plan.spinal_artery_mapping else {
            let finding = Finding::at(
                "/spinal_artery_mapping",
                format!(
                    "{near_the_cord}, but the plan has no spinal_artery_mapping. Identify the \
                     anterior and posterior spinal arteries on angiography and record the \
                     segmental arteries they arise from (an empty list if none) before \
                     chemoembolization."
                ),
            )
            .observed("no spinal_artery_mapping")
            .limit(self.limit_text());
            return Some(vec![finding]);
        };
        // A mapping done after a session cannot have guided it.
        let findings = plan
            .sessions
            .iter()
            .filter(|session| mapping.date > session.date)
            .map(|session| {
                let message = format!(
                    "{near_the_cord}, but the spinal artery mapping is dated {}, after {}: a \
                     mapping done after a session cannot have guided it, so it does not count \
                     for that session. Map the spinal arteries before the session, or correct \
                     the mapping's date.",
                    mapping.date,
                    session_label(session)
                );
                Finding::at("/spinal_artery_mapping/date", message)
                    .in_session(session)
                    .observed(format!(
                        "mapping dated {}, session on {}",
                        mapping.date, session.date
                    ))
                    .limit("a mapping dated on or before each planned session")
            })
            .collect();
        Some(findings)
    }

    fn summary(&self) -> String {
        format!(
            "lesion regions: {}; or lesion levels, or a treated artery's origin or name, naming a \
             vertebral level; the mapping dated on or before every planned session",
            and_list(&self.regions)
        )
    }
}

/// The regions that need the mapping when a rule file does not say.
const DEFAULT_REGIONS: [&str; 2] = ["spine", "sacrum"];

impl SpinalMappingRequired {
    /// Why the plan treats near the spinal cord, as the start of a
    /// sentence; `None` when it does not.
    fn near_the_cord(&self, plan: &ResolvedPlan) -> Option<String> {
        let region = plan.indication.lesion_region.as_str();
        if self.regions.iter().any(|r| r == region) {
            return Some(format!("The lesion is in the {region}"));
        }
        if let Some(level) = plan.indication.lesion_levels.iter().find(|l| levels::names_a_level(l))
        {
            return Some(format!("The lesion levels name a vertebral level ({level})"));
        }
        for session in &plan.sessions {
            for artery in session.treated_arteries() {
                let named = artery.entries().iter().find_map(|entry| {
                    let origin = entry.origin.as_ref().map(|o| o.written.as_str());
                    origin
                        .filter(|o| levels::names_a_level(o))
                        .or(Some(entry.name.written.as_str()).filter(|n| levels::names_a_level(n)))
                });
                if let Some(text) = named {
                    return Some(format!(
                        "{}: the treated artery {} arises at a vertebral level ({text})",
                        session_label(session),
                        artery.label()
                    ));
                }
            }
        }
        None
    }

    fn limit_text(&self) -> String {
        format!(
            "required for lesions in the {}, lesion levels naming a vertebral level, or a treated \
             artery at one",
            and_list(&self.regions)
        )
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
        // The levels and sides of each mapped origin, read once for all arteries.
        let spinal_pairs: Vec<(&Name, Pairs)> =
            spinal_origins.iter().map(|origin| (origin, levels::pairs(&origin.written))).collect();
        let mut findings = Vec::new();
        for session in &plan.sessions {
            for artery in session.treated_arteries() {
                let reasons = reasons(&artery, spinal_origins, &spinal_pairs);
                if !reasons.is_empty() {
                    findings.push(finding(session, &artery, &reasons));
                }
            }
        }
        Some(findings)
    }

    fn summary(&self) -> String {
        "no treated artery may share its origin with a spinal artery (planner's reading; an \
         origin or name listed in spinal_artery_mapping; or the same vertebral level and side as \
         a mapped origin)"
            .to_string()
    }
}

/// The planner's own reading, as a reason.
const MARKED: &str = "the plan marks it as sharing its origin with a spinal artery \
                      (shares_origin_with_spinal_artery: true)";

/// The (level, side) pairs of an artery: those of each entry's `origin`
/// when the origin names a level, otherwise those of its `name`.
fn artery_pairs(artery: &SessionArtery) -> Pairs {
    let mut pairs = Pairs::new();
    for entry in artery.entries() {
        let origin = entry.origin.as_ref().map(|o| o.written.as_str());
        let text = match origin {
            Some(origin) if levels::names_a_level(origin) => origin,
            _ => entry.name.written.as_str(),
        };
        pairs.extend(levels::pairs(text));
    }
    pairs
}

/// Why a treated artery counts as arising with a spinal artery, each a
/// clause; empty if it does not. `spinal_origins` are the origins listed in
/// the mapping, `spinal_pairs` each with the levels and sides it names.
fn reasons(
    artery: &SessionArtery,
    spinal_origins: &[Name],
    spinal_pairs: &[(&Name, Pairs)],
) -> Vec<String> {
    let mut reasons = Vec::new();
    if artery.marked_as_spinal() {
        reasons.push(MARKED.to_string());
    }
    let is_mapped = |name: &Name| spinal_origins.iter().any(|s| s.canonical == name.canonical);
    let origin = artery.entries().iter().filter_map(|e| e.origin.as_ref()).find(|o| is_mapped(o));
    if let Some(origin) = origin {
        reasons.push(format!(
            "its origin, {}, is listed in spinal_artery_mapping as the origin of a spinal artery",
            origin.written
        ));
    }
    if let Some(entry) = artery.entries().iter().find(|e| is_mapped(&e.name)) {
        reasons.push(format!(
            "its name, {}, is listed in spinal_artery_mapping as the origin of a spinal artery",
            entry.name.written
        ));
    }
    if reasons.is_empty() {
        let pairs = artery_pairs(artery);
        let met = spinal_pairs.iter().find_map(|(spinal, spinal_pairs)| {
            let shared: Pairs = spinal_pairs.intersection(&pairs).copied().collect();
            (!shared.is_empty()).then_some((spinal, shared))
        });
        if let Some((spinal, shared)) = met {
            reasons.push(format!(
                "it arises at the same vertebral level and side ({}) as {}, listed in \
                 spinal_artery_mapping as the origin of a spinal artery",
                levels::describe(&shared),
                spinal.written
            ));
        }
    }
    reasons
}

fn finding(session: &Session, artery: &SessionArtery, reasons: &[String]) -> Finding {
    let embolised = artery.has_embolic();
    let infused = artery.drugs().next().is_some();
    let treatment = match (embolised, infused) {
        (true, true) => "embolised and infused",
        (true, false) => "embolised",
        (false, _) => "infused",
    };
    let because = and_list(reasons);
    let observed = std::iter::once(treatment.to_string())
        .chain(reasons.iter().cloned())
        .collect::<Vec<_>>()
        .join("; ");
    let message = format!(
        "{}: {} is planned to be {treatment}, but {because}. An artery arising with a spinal \
         artery must not be embolised or infused: remove its embolic agent and drugs from the \
         plan (it may stay listed, untreated, as documentation).",
        session_label(session),
        artery.label(),
    );
    // The entry that is treated is what the planners must change.
    let treated =
        artery.entries().iter().find(|e| e.is_treated()).copied().unwrap_or(artery.first());
    Finding::at(treated.pointer(session), message)
        .in_session(session)
        .in_artery(treated)
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
    fn other_regions_are_not_applicable_unless_a_level_is_named() {
        let mut plan = spec_example();
        plan.spinal_artery_mapping = None;
        plan.indication.lesion_region = LesionRegion::Iliac;
        plan.indication.lesion_levels.clear();
        // The example treats lumbar arteries (L3, L4): near the cord.
        assert_eq!(findings_of("spinal-mapping-required", &plan).len(), 1);
        for (i, artery) in plan.sessions[0].arteries.iter_mut().enumerate() {
            artery.name = name(&format!("right iliac branch {i}"));
            artery.origin = Some(name("right internal iliac"));
        }
        assert_eq!(outcome_of("spinal-mapping-required", &plan), RuleResult::NotApplicable);
        plan.indication.lesion_levels = vec!["S1".to_string()];
        assert_eq!(findings_of("spinal-mapping-required", &plan).len(), 1);
    }

    #[test]
    fn a_mapping_dated_after_a_session_does_not_count_and_on_its_day_does() {
        let mut plan = spec_example();
        plan.spinal_artery_mapping.as_mut().unwrap().date = date("2026-11-05");
        assert!(findings_of("spinal-mapping-required", &plan).is_empty());
        plan.spinal_artery_mapping.as_mut().unwrap().date = date("2026-11-06");
        let findings = findings_of("spinal-mapping-required", &plan);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].path, "/spinal_artery_mapping/date");
        assert!(
            findings[0].message.contains("dated 2026-11-06, after session 2"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn a_treated_artery_at_a_mapped_level_and_side_is_a_spinal_feeder() {
        let mut plan = spec_example();
        // The mapping lists "right L1 lumbar"; the artery's origin is
        // written otherwise, and the finding says which level and side.
        let artery = &mut plan.sessions[0].arteries[1];
        artery.origin = Some(name("right L01 lumbar artery"));
        let findings = findings_of("spinal-feeder-excluded", &plan);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert!(
            findings[0].message.contains("(right L1) as right L1 lumbar"),
            "{}",
            findings[0].message
        );
        // Its untreated twin in the example stays fine.
        plan.sessions[0].arteries[1].origin = Some(name("aorta"));
        plan.sessions[0].arteries[1].name = name("left L4 lumbar artery (tumour L1)");
        assert!(findings_of("spinal-feeder-excluded", &plan).is_empty());
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
