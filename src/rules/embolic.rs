//! Rules about embolisation: how many arteries, which particles, which
//! agent.

use super::kind::RuleKind;
use super::loader::LoadError;
use super::params::{is_one_of, required, rule_names, Number, Params, RuleName};
use super::text::{count, did_you_mean, or_list, session_label};
use super::{Context, ResolvedPlan};
use crate::decimal::Decimal;
use crate::names::Names;
use crate::plan::{Artery, ParticleRange, Plan, Session};
use crate::verdict::Finding;
use serde::Serialize;

/// `artery-count`: "The number of arteries infused during the procedure
/// ranged from three to six."
#[derive(Clone, Debug, Serialize)]
pub struct ArteryCount {
    /// Fewest treated arteries in one session.
    min: u64,
    /// Most treated arteries in one session.
    max: u64,
}

impl RuleKind for ArteryCount {
    fn from_params(params: &mut Params, _names: &Names) -> Result<Self, LoadError> {
        let min = required!(params, min);
        let max = required!(params, max);
        if min.get_ref() > max.get_ref() {
            return Err(LoadError::at(
                min.span(),
                format!("min ({}) is above max ({})", min.get_ref(), max.get_ref()),
            ));
        }
        Ok(ArteryCount { min: min.into_inner(), max: max.into_inner() })
    }

    fn evaluate(&self, plan: &ResolvedPlan, _context: &Context) -> Option<Vec<Finding>> {
        let mut findings = Vec::new();
        for session in &plan.sessions {
            // Entries of one name are one artery, counted once.
            let treated = session.treated_arteries().len();
            if (self.min..=self.max).contains(&(treated as u64)) {
                continue;
            }
            let message = format!(
                "{}: {} treated (embolised or infused); the protocol treats {} to {} per \
                 procedure. Check that the plan lists the tumour's feeders as intended.",
                session_label(session),
                count(treated, "artery is", "arteries are"),
                self.min,
                self.max
            );
            findings.push(
                Finding::at(format!("{}/arteries", session.pointer()), message)
                    .in_session(session)
                    .observed(format!("{treated} treated"))
                    .limit(format!("{} to {}", self.min, self.max)),
            );
        }
        Some(findings)
    }

    fn summary(&self) -> String {
        format!("{} to {} treated arteries per session", self.min, self.max)
    }
}

/// Every artery with a particle range, with its range.
fn particle_ranges(plan: &Plan) -> impl Iterator<Item = (&Session, &Artery, ParticleRange)> {
    plan.sessions.iter().flat_map(|session| {
        session.arteries.iter().filter_map(move |artery| {
            let range = artery.embolic.as_ref()?.particle_size_um?;
            Some((session, artery, range))
        })
    })
}

/// "150–300 µm".
fn range_text(min: Decimal, max: Decimal) -> String {
    format!("{min}–{max} µm")
}

fn particle_finding(session: &Session, artery: &Artery, message: String) -> Finding {
    Finding::at(format!("{}/embolic/particle_size_um", artery.pointer(session)), message)
        .in_session(session)
        .in_artery(artery)
}

/// The embolic agent's name as the plan writes it.
fn agent(artery: &Artery) -> &str {
    artery.embolic.as_ref().map_or("embolic", |e| e.agent.written.as_str())
}

/// `particle-size-min`: the protocol's particles are "150–300 and 300–600
/// µm"; smaller ones are refused.
#[derive(Clone, Debug, Serialize)]
pub struct ParticleSizeMin {
    /// Smallest allowed lower bound, µm.
    min_um: Decimal,
}

impl RuleKind for ParticleSizeMin {
    fn from_params(params: &mut Params, _names: &Names) -> Result<Self, LoadError> {
        let min_um: Number = required!(params, min_um).into_inner();
        Ok(ParticleSizeMin { min_um: min_um.0 })
    }

    fn evaluate(&self, plan: &ResolvedPlan, _context: &Context) -> Option<Vec<Finding>> {
        let findings = particle_ranges(plan)
            .filter(|(_, _, range)| range.min < self.min_um)
            .map(|(session, artery, range)| {
                let message = format!(
                    "{}: {} particles of {} in {}: the lower bound, {} µm, is below the {} µm \
                     minimum. Use particles of {} µm or more.",
                    session_label(session),
                    agent(artery),
                    range_text(range.min, range.max),
                    artery.name,
                    range.min,
                    self.min_um,
                    self.min_um
                );
                particle_finding(session, artery, message)
                    .observed(range_text(range.min, range.max))
                    .limit(format!("lower bound at least {} µm", self.min_um))
            })
            .collect();
        Some(findings)
    }

    fn summary(&self) -> String {
        format!("particles of at least {} µm", self.min_um)
    }
}

/// `particle-size-protocol`: the protocol's calibres, "150–300 and 300–600
/// µm".
#[derive(Clone, Debug, Serialize)]
pub struct ParticleSizeProtocol {
    /// The calibres, `[min, max]` µm.
    calibres_um: Vec<[Decimal; 2]>,
}

impl ParticleSizeProtocol {
    fn calibres_text(&self) -> Vec<String> {
        self.calibres_um.iter().map(|[min, max]| range_text(*min, *max)).collect()
    }

    /// Ranges starting below every calibre are `particle-size-min`'s.
    fn smallest(&self) -> Decimal {
        self.calibres_um.iter().map(|[min, _]| *min).min().unwrap_or(Decimal::ZERO)
    }
}

impl RuleKind for ParticleSizeProtocol {
    fn from_params(params: &mut Params, _names: &Names) -> Result<Self, LoadError> {
        let list = required!(params, calibres_um);
        let span = list.span();
        let calibres_um: Vec<[Decimal; 2]> =
            list.into_inner().into_iter().map(|[min, max]| [min.0, max.0]).collect();
        if calibres_um.is_empty() {
            return Err(LoadError::at(span, "calibres_um is empty; list at least one [min, max]"));
        }
        if let Some([min, max]) = calibres_um.iter().find(|[min, max]| min > max || min.is_zero()) {
            return Err(LoadError::at(
                span,
                format!("the calibre [{min}, {max}] is not a range: need 0 < min ≤ max"),
            ));
        }
        Ok(ParticleSizeProtocol { calibres_um })
    }

    fn evaluate(&self, plan: &ResolvedPlan, _context: &Context) -> Option<Vec<Finding>> {
        let smallest = self.smallest();
        let findings = particle_ranges(plan)
            .filter(|(_, _, range)| range.min >= smallest)
            .filter(|(_, _, r)| {
                !self.calibres_um.iter().any(|[min, max]| r.min == *min && r.max == *max)
            })
            .map(|(session, artery, range)| {
                let message = format!(
                    "{}: {} particles of {} in {} are not one of the protocol's calibres ({}). \
                     Use one of them, or record why this range is needed.",
                    session_label(session),
                    agent(artery),
                    range_text(range.min, range.max),
                    artery.name,
                    or_list(&self.calibres_text())
                );
                particle_finding(session, artery, message)
                    .observed(range_text(range.min, range.max))
                    .limit(or_list(&self.calibres_text()))
            })
            .collect();
        Some(findings)
    }

    fn summary(&self) -> String {
        format!("calibres: {}", or_list(&self.calibres_text()))
    }
}

/// `embolic-agent`: the protocol embolises with "pirarubicine mixed with
/// polyvinyl alcohol particles (PVA)": another agent, or pirarubicin given
/// with no embolic agent at all, is warned about.
#[derive(Clone, Debug, Serialize)]
pub struct EmbolicAgent {
    /// Allowed agents.
    agents: Vec<RuleName>,
    /// Drugs the protocol gives mixed with the embolic agent: an artery
    /// given one of them needs an embolic agent (pirarubicin when a rule
    /// file does not say).
    mixed_drugs: Vec<RuleName>,
}

impl RuleKind for EmbolicAgent {
    fn from_params(params: &mut Params, names: &Names) -> Result<Self, LoadError> {
        let agents = rule_names(required!(params, agents), "agents", names)?;
        let mixed_drugs = match params.mixed_drugs.take() {
            Some(list) => rule_names(list, "drugs", names)?,
            None => vec![RuleName::new("pirarubicin".to_string(), names)],
        };
        Ok(EmbolicAgent { agents, mixed_drugs })
    }

    fn evaluate(&self, plan: &ResolvedPlan, _context: &Context) -> Option<Vec<Finding>> {
        let mut findings = Vec::new();
        for session in &plan.sessions {
            for artery in &session.arteries {
                let Some(embolic) = &artery.embolic else { continue };
                if is_one_of(&self.agents, &embolic.agent) {
                    continue;
                }
                let message = format!(
                    "{}: {} is to be embolised with {}, not {} as in the protocol.{} Check the \
                     agent.",
                    session_label(session),
                    artery.name,
                    embolic.agent,
                    or_list(&self.agents),
                    did_you_mean(&embolic.agent.written, &self.agents)
                );
                findings.push(
                    Finding::at(format!("{}/embolic/agent", artery.pointer(session)), message)
                        .in_session(session)
                        .in_artery(artery)
                        .observed(embolic.agent.written.as_str())
                        .limit(or_list(&self.agents)),
                );
            }
            findings.extend(self.unmixed(session));
        }
        Some(findings)
    }

    fn summary(&self) -> String {
        format!(
            "agents: {}; {} given with an embolic agent",
            or_list(&self.agents),
            or_list(&self.mixed_drugs)
        )
    }
}

impl EmbolicAgent {
    /// The session's arteries given a drug the protocol mixes with the
    /// embolic agent, with no embolic agent in any of their entries.
    fn unmixed(&self, session: &Session) -> Vec<Finding> {
        let mut findings = Vec::new();
        for artery in session.arteries_by_name() {
            if artery.has_embolic() {
                continue;
            }
            let Some((entry, drug)) =
                artery.drugs().find(|(_, drug)| is_one_of(&self.mixed_drugs, &drug.name))
            else {
                continue;
            };
            let message = format!(
                "{}: {} is given {} with no embolic agent; the protocol gives it mixed with {}. \
                 Add the embolic agent, or check the plan.",
                session_label(session),
                artery.label(),
                drug.name,
                or_list(&self.agents)
            );
            findings.push(
                Finding::at(format!("{}/drugs/{}", entry.pointer(session), drug.index), message)
                    .in_session(session)
                    .in_artery(entry)
                    .observed(format!("{} without an embolic agent", drug.name))
                    .limit(format!("{} mixed with {}", drug.name, or_list(&self.agents))),
            );
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::plan::{Embolic, ParticleRange, Plan};

    fn with_particles(min: &str, max: &str) -> Plan {
        let mut plan = spec_example();
        plan.sessions[0].arteries[0].embolic = Some(Embolic {
            agent: name("PVA"),
            particle_size_um: Some(ParticleRange { min: dec(min), max: dec(max) }),
        });
        plan
    }

    #[test]
    fn three_to_six_treated_arteries_pass() {
        let mut plan = spec_example();
        assert!(findings_of("artery-count", &plan).is_empty(), "three treated, one documented");
        for n in 4..=6 {
            plan.sessions[0].arteries.push(artery(n, format!("artery {n}").leak(), "2", &[]));
            assert!(findings_of("artery-count", &plan).is_empty(), "{n}");
        }
        plan.sessions[0].arteries.push(artery(7, "artery 7", "2", &[]));
        let findings = findings_of("artery-count", &plan);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("7 arteries are treated"), "{}", findings[0].message);
    }

    #[test]
    fn two_treated_arteries_warn_and_documented_ones_do_not_count() {
        let mut plan = spec_example();
        plan.sessions[0].arteries.remove(0);
        let findings = findings_of("artery-count", &plan);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].message,
            "session 2 on 2026-11-05: 2 arteries are treated (embolised or infused); the protocol \
             treats 3 to 6 per procedure. Check that the plan lists the tumour's feeders as \
             intended."
        );
    }

    #[test]
    fn particles_from_150_um_pass_and_smaller_fail() {
        assert!(findings_of("particle-size-min", &with_particles("150", "300")).is_empty());
        let findings = findings_of("particle-size-min", &with_particles("149.99", "300"));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].path, "/sessions/0/arteries/0/embolic/particle_size_um");
        assert!(findings[0].message.contains("the lower bound, 149.99 µm, is below the 150 µm"));
        // Too small is particle-size-min's finding only.
        assert!(findings_of("particle-size-protocol", &with_particles("100", "300")).is_empty());
    }

    #[test]
    fn ranges_other_than_the_calibres_warn() {
        assert!(findings_of("particle-size-protocol", &with_particles("150", "300")).is_empty());
        assert!(findings_of("particle-size-protocol", &with_particles("300", "600")).is_empty());
        for (min, max) in [("150", "600"), ("200", "400"), ("300", "601")] {
            let findings = findings_of("particle-size-protocol", &with_particles(min, max));
            assert_eq!(findings.len(), 1, "{min}-{max}");
            assert!(findings[0].message.contains("150–300 µm or 300–600 µm"));
        }
    }

    #[test]
    fn an_agent_other_than_pva_warns() {
        let mut plan = spec_example();
        plan.sessions[0].arteries[0].embolic.as_mut().unwrap().agent = name("Polyvinyl alcohol");
        assert!(findings_of("embolic-agent", &plan).is_empty());
        plan.sessions[0].arteries[0].embolic.as_mut().unwrap().agent = name("gelatin sponge");
        let findings = findings_of("embolic-agent", &plan);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].path, "/sessions/0/arteries/0/embolic/agent");
        assert!(findings[0].message.contains("embolised with gelatin sponge, not PVA"));
    }
}
