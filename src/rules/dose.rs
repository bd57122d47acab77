//! Rules about the drugs given into arteries: caps per artery and per
//! session, the session minimum, and the formulary.

use super::kind::RuleKind;
use super::loader::LoadError;
use super::params::{name_list, required, DoseLimits, Number, Params};
use super::text::{and_list, count, session_label};
use super::Context;
use crate::decimal::Decimal;
use crate::names::Names;
use crate::plan::{Amount, Artery, Dimension, DrugDose, Plan, Quantity, Session};
use crate::verdict::Finding;
use serde::Serialize;

/// One drug's total in one place (an artery or a session), with the entries
/// that make it up, in plan order.
struct Total<'a> {
    /// Canonical drug name.
    drug: String,
    /// The sum in µg; `None` only if it overflowed, which the plan format's
    /// bounds rule out (treated as above every limit).
    sum: Option<Decimal>,
    entries: Vec<&'a DrugDose>,
}

impl Total<'_> {
    /// "5 mg", "0.005 g (5 mg)" for a single entry; "5 mg in total (2
    /// entries: 3 mg + 2 mg)" for several.
    fn describe(&self) -> String {
        match self.entries.as_slice() {
            [one] => one.dose.to_string(),
            entries => {
                let parts: Vec<String> = entries.iter().map(|d| d.dose.to_string()).collect();
                format!(
                    "{} in total ({} entries: {})",
                    self.amount(),
                    entries.len(),
                    parts.join(" + ")
                )
            }
        }
    }

    /// The sum in milligrams, for evidence.
    fn amount(&self) -> String {
        match self.sum {
            Some(base) => Amount { base, dimension: Dimension::Mass }.to_string(),
            None => "more than can be added up exactly".to_string(),
        }
    }

    fn above(&self, limit: &Quantity) -> bool {
        self.sum.map_or(true, |sum| sum > limit.base)
    }

    fn below(&self, limit: &Quantity) -> bool {
        self.sum.is_some_and(|sum| sum < limit.base)
    }
}

/// Each drug's total over `drugs`, by canonical name, in order of first
/// appearance: the same drug listed twice (or under a synonym) is summed.
fn totals<'a>(drugs: impl Iterator<Item = &'a DrugDose>, names: &Names) -> Vec<Total<'a>> {
    let mut totals: Vec<Total> = Vec::new();
    for dose in drugs {
        let drug = names.canonical(&dose.name);
        match totals.iter_mut().find(|t| t.drug == drug) {
            Some(total) => {
                total.sum = total.sum.and_then(|sum| sum.checked_add(dose.dose.base));
                total.entries.push(dose);
            }
            None => totals.push(Total { drug, sum: Some(dose.dose.base), entries: vec![dose] }),
        }
    }
    totals
}

/// Every drug given in a session, over all its arteries.
fn session_drugs(session: &Session) -> impl Iterator<Item = &DrugDose> {
    session.arteries.iter().flat_map(|artery| artery.drugs.iter())
}

/// How many arteries of the session carry this drug.
fn arteries_with(session: &Session, total: &Total) -> usize {
    session
        .arteries
        .iter()
        .filter(|a| a.drugs.iter().any(|d| total.entries.iter().any(|e| std::ptr::eq(*e, d))))
        .count()
}

/// `artery-dose-max`: "For small arteries such as intercostal arteries, the
/// dose was 3 mg of pirarubicine and 50 mg of carboplatin. However, for
/// arteries with a diameter of 4 mm or greater, the dose was 10 mg of
/// pirarubicine and 200 mg of carboplatin."
#[derive(Clone, Debug, Serialize)]
pub struct ArteryDoseMax {
    /// From this diameter (mm) on, the large caps apply.
    large_from_mm: Decimal,
    /// Caps for arteries under `large_from_mm`.
    small_caps: DoseLimits,
    /// Caps for arteries of `large_from_mm` or more.
    large_caps: DoseLimits,
}

impl ArteryDoseMax {
    fn caps_for(&self, artery: &Artery) -> (&DoseLimits, String) {
        if artery.diameter_mm < self.large_from_mm {
            (&self.small_caps, format!("arteries under {} mm", self.large_from_mm))
        } else {
            (&self.large_caps, format!("arteries of {} mm or more", self.large_from_mm))
        }
    }

    fn check_artery(&self, session: &Session, artery: &Artery, names: &Names) -> Vec<Finding> {
        let (caps, size) = self.caps_for(artery);
        let mut findings = Vec::new();
        for total in totals(artery.drugs.iter(), names) {
            let Some(cap) = caps.get(&total.drug) else { continue };
            if !total.above(&cap) {
                continue;
            }
            let path = match total.entries.as_slice() {
                [one] => format!("{}/drugs/{}/dose", artery.pointer(session), one.index),
                _ => format!("{}/drugs", artery.pointer(session)),
            };
            let message = format!(
                "{}: {} {} in {} ({} mm) exceeds the {cap} cap for {size}. Lower it to {cap} or \
                 less.",
                session_label(session),
                total.drug,
                total.describe(),
                artery.name,
                artery.diameter_mm
            );
            findings.push(
                Finding::at(path, message)
                    .in_session(session)
                    .in_artery(artery)
                    .observed(format!("{} {}", total.drug, total.amount()))
                    .limit(format!("{} {cap} for {size}", total.drug)),
            );
        }
        findings
    }
}

impl RuleKind for ArteryDoseMax {
    fn from_params(params: &mut Params, names: &Names) -> Result<Self, LoadError> {
        let large_from_mm: Number = required!(params, large_from_mm).into_inner();
        let small_caps = DoseLimits::read(required!(params, small_caps), Dimension::Mass, names)?;
        let large_caps = DoseLimits::read(required!(params, large_caps), Dimension::Mass, names)?;
        Ok(ArteryDoseMax { large_from_mm: large_from_mm.0, small_caps, large_caps })
    }

    fn evaluate(&self, plan: &Plan, context: &Context) -> Option<Vec<Finding>> {
        let mut findings = Vec::new();
        for session in &plan.sessions {
            for artery in &session.arteries {
                findings.extend(self.check_artery(session, artery, context.names));
            }
        }
        Some(findings)
    }

    fn summary(&self) -> String {
        format!(
            "arteries under {0} mm: {1}; {0} mm or more: {2}",
            self.large_from_mm,
            self.small_caps.summary(),
            self.large_caps.summary()
        )
    }
}

/// `session-dose-max`: "For each procedure, the total dose of pirarubicine
/// and carboplatin ranged from 10 to 20 mg and 200 to 400 mg, respectively."
#[derive(Clone, Debug, Serialize)]
pub struct SessionDoseMax {
    /// Highest total per drug over one session.
    limits: DoseLimits,
}

impl RuleKind for SessionDoseMax {
    fn from_params(params: &mut Params, names: &Names) -> Result<Self, LoadError> {
        let limits = DoseLimits::read(required!(params, limits), Dimension::Mass, names)?;
        Ok(SessionDoseMax { limits })
    }

    fn evaluate(&self, plan: &Plan, context: &Context) -> Option<Vec<Finding>> {
        let mut findings = Vec::new();
        for session in &plan.sessions {
            for total in totals(session_drugs(session), context.names) {
                let Some(limit) = self.limits.get(&total.drug) else { continue };
                if !total.above(&limit) {
                    continue;
                }
                let message = format!(
                    "{}: {} totals {} over {}, above the session maximum of {limit}. Reduce the \
                     doses so that the session total is {limit} or less.",
                    session_label(session),
                    total.drug,
                    total.amount(),
                    count(arteries_with(session, &total), "artery", "arteries")
                );
                findings.push(
                    Finding::at(format!("{}/arteries", session.pointer()), message)
                        .in_session(session)
                        .observed(format!("{} {} in the session", total.drug, total.amount()))
                        .limit(format!("{} at most {limit} per session", total.drug)),
                );
            }
        }
        Some(findings)
    }

    fn summary(&self) -> String {
        format!("at most, per session: {}", self.limits.summary())
    }
}

/// `session-dose-min`: the same sentence as `session-dose-max`, its lower
/// bounds. A session with none of a drug is below too.
#[derive(Clone, Debug, Serialize)]
pub struct SessionDoseMin {
    /// Lowest total per drug over one session.
    limits: DoseLimits,
}

impl RuleKind for SessionDoseMin {
    fn from_params(params: &mut Params, names: &Names) -> Result<Self, LoadError> {
        let limits = DoseLimits::read(required!(params, limits), Dimension::Mass, names)?;
        Ok(SessionDoseMin { limits })
    }

    fn evaluate(&self, plan: &Plan, context: &Context) -> Option<Vec<Finding>> {
        let mut findings = Vec::new();
        for session in &plan.sessions {
            let totals = totals(session_drugs(session), context.names);
            for (drug, limit) in &self.limits.0 {
                let total = totals.iter().find(|t| t.drug == *drug);
                let message = match total {
                    Some(total) if total.below(limit) => format!(
                        "{}: {drug} totals {} over {}, below the protocol's session range, which \
                         starts at {limit}. Check the doses.",
                        session_label(session),
                        total.amount(),
                        count(arteries_with(session, total), "artery", "arteries")
                    ),
                    Some(_) => continue,
                    None if limit.base > Decimal::ZERO => format!(
                        "{}: no {drug} is planned in any artery; the protocol gives {limit} or \
                         more per session. Check the plan.",
                        session_label(session)
                    ),
                    None => continue,
                };
                let observed = total.map_or("none".to_string(), Total::amount);
                findings.push(
                    Finding::at(format!("{}/arteries", session.pointer()), message)
                        .in_session(session)
                        .observed(format!("{drug} {observed} in the session"))
                        .limit(format!("{drug} at least {limit} per session")),
                );
            }
        }
        Some(findings)
    }

    fn summary(&self) -> String {
        format!("at least, per session: {}", self.limits.summary())
    }
}

/// `unknown-drug`: the protocol's agents are carboplatin and pirarubicin.
#[derive(Clone, Debug, Serialize)]
pub struct UnknownDrug {
    /// Drugs allowed into an artery, as the rule file writes them.
    formulary: Vec<String>,
}

impl RuleKind for UnknownDrug {
    fn from_params(params: &mut Params, _names: &Names) -> Result<Self, LoadError> {
        Ok(UnknownDrug { formulary: name_list(required!(params, formulary), "drugs")? })
    }

    fn evaluate(&self, plan: &Plan, context: &Context) -> Option<Vec<Finding>> {
        let mut findings = Vec::new();
        for session in &plan.sessions {
            for artery in &session.arteries {
                for drug in &artery.drugs {
                    if self.formulary.iter().any(|known| context.names.is(&drug.name, known)) {
                        continue;
                    }
                    let message = format!(
                        "{}: {} in {} is not in the protocol's formulary ({}, or their \
                         synonyms). Correct the name, or remove the drug: its dose cannot be \
                         checked.",
                        session_label(session),
                        drug.name,
                        artery.name,
                        and_list(&self.formulary)
                    );
                    findings.push(
                        Finding::at(
                            format!("{}/drugs/{}/name", artery.pointer(session), drug.index),
                            message,
                        )
                        .in_session(session)
                        .in_artery(artery)
                        .observed(&drug.name)
                        .limit(and_list(&self.formulary)),
                    );
                }
            }
        }
        Some(findings)
    }

    fn summary(&self) -> String {
        format!("formulary: {}", and_list(&self.formulary))
    }
}
