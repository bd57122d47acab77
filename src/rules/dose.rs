//! Rules about the drugs given into arteries: caps per artery and per
//! session, the session minimum, and the formulary.

use super::kind::RuleKind;
use super::loader::LoadError;
use super::params::{is_one_of, required, rule_names, DoseLimits, Number, Params, RuleName};
use super::text::{and_list, count, did_you_mean, session_label};
use super::{Context, ResolvedPlan};
use crate::decimal::Decimal;
use crate::names::Names;
use crate::plan::{Amount, Artery, Dimension, DrugDose, Quantity, Session, SessionArtery};
use crate::verdict::Finding;
use serde::Serialize;

/// One drug's total in one place (an artery or a session), with the entries
/// that make it up, in plan order.
struct Total<'a> {
    /// Canonical drug name.
    drug: &'a str,
    /// The sum in µg; `None` only if it overflowed, which the plan format's
    /// bounds rule out (treated as above every limit).
    sum: Option<Decimal>,
    /// The first entry, with the artery entry it is written in.
    first: Entry<'a>,
    /// Any further entries of the same drug (usually none, and then
    /// nothing is allocated).
    more: Vec<Entry<'a>>,
}

/// A drug entry with the artery entry it is written in.
type Entry<'a> = (&'a Artery, &'a DrugDose);

impl Total<'_> {
    /// "5 mg", "0.005 g (5 mg)" for a single entry; "5 mg in total (2
    /// entries: 3 mg + 2 mg)" for several.
    fn describe(&self) -> String {
        match self.single() {
            Some(one) => one.dose.to_string(),
            None => {
                let parts: Vec<String> = self.entries().map(|(_, d)| d.dose.to_string()).collect();
                format!(
                    "{} in total ({} entries: {})",
                    self.amount(),
                    parts.len(),
                    parts.join(" + ")
                )
            }
        }
    }

    /// Every entry, in plan order.
    fn entries(&self) -> impl Iterator<Item = &Entry<'_>> {
        std::iter::once(&self.first).chain(&self.more)
    }

    /// The only entry, when there is one.
    fn single(&self) -> Option<&DrugDose> {
        self.more.is_empty().then_some(self.first.1)
    }

    /// The most specific part of the plan the total is about: the dose of
    /// its only entry; the `drugs` of the one artery entry its entries are
    /// all written in; else the first artery entry that gives the drug.
    fn pointer(&self, session: &Session) -> String {
        let (artery, drug) = self.first;
        if self.more.is_empty() {
            format!("{}/drugs/{}/dose", artery.pointer(session), drug.index)
        } else if self.more.iter().all(|(other, _)| other.index == artery.index) {
            format!("{}/drugs", artery.pointer(session))
        } else {
            artery.pointer(session)
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

/// Each drug's total over `drugs` (each with its artery entry), by
/// canonical name, in order of first appearance: the same drug listed twice
/// (or under a synonym) is summed.
fn totals<'a>(drugs: impl Iterator<Item = Entry<'a>>) -> Vec<Total<'a>> {
    let mut totals: Vec<Total> = Vec::new();
    for (artery, dose) in drugs {
        let drug = dose.name.canonical.as_str();
        match totals.iter_mut().find(|t| t.drug == drug) {
            Some(total) => {
                total.sum = total.sum.and_then(|sum| sum.checked_add(dose.dose.base));
                total.more.push((artery, dose));
            }
            None => totals.push(Total {
                drug,
                sum: Some(dose.dose.base),
                first: (artery, dose),
                more: Vec::new(),
            }),
        }
    }
    totals
}

/// Every drug given in a session, over all its arteries, for [`totals`].
fn session_drugs(session: &Session) -> impl Iterator<Item = Entry<'_>> {
    session.arteries.iter().flat_map(|artery| artery.drugs.iter().map(move |drug| (artery, drug)))
}

/// How many arteries (entries of one name counted once) the total's
/// entries come from.
fn arteries_with(total: &Total) -> usize {
    let mut arteries: Vec<&str> =
        total.entries().map(|(artery, _)| artery.name.canonical.as_str()).collect();
    arteries.sort_unstable();
    arteries.dedup();
    arteries.len()
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
    fn is_large(&self, artery: &SessionArtery) -> bool {
        artery.diameter_mm() >= self.large_from_mm
    }

    fn caps_for(&self, artery: &SessionArtery) -> &DoseLimits {
        if self.is_large(artery) {
            &self.large_caps
        } else {
            &self.small_caps
        }
    }

    /// The artery's size as messages name it; written only for a finding.
    fn size_text(&self, artery: &SessionArtery) -> String {
        if self.is_large(artery) {
            format!("arteries of {} mm or more", self.large_from_mm)
        } else {
            format!("arteries under {} mm", self.large_from_mm)
        }
    }

    /// Each drug's total over all the artery's entries, against the cap of
    /// its smallest diameter.
    fn check_artery(&self, session: &Session, artery: &SessionArtery) -> Vec<Finding> {
        let caps = self.caps_for(artery);
        let mut findings = Vec::new();
        for total in totals(artery.drugs()) {
            let Some(cap) = caps.get(total.drug) else { continue };
            if !total.above(&cap) {
                continue;
            }
            let size = self.size_text(artery);
            let diameter = if artery.entries().len() > 1 {
                format!("{} mm, its smallest diameter", artery.diameter_mm())
            } else {
                format!("{} mm", artery.diameter_mm())
            };
            let message = format!(
                "{}: {} {} in {} ({diameter}) exceeds the {cap} cap for {size}. Lower it to {cap} \
                 or less.",
                session_label(session),
                total.drug,
                total.describe(),
                artery.label(),
            );
            findings.push(
                Finding::at(total.pointer(session), message)
                    .in_session(session)
                    .in_artery(artery.first())
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

    fn evaluate(&self, plan: &ResolvedPlan, _context: &Context) -> Option<Vec<Finding>> {
        let mut findings = Vec::new();
        for session in &plan.sessions {
            for artery in session.arteries_by_name() {
                findings.extend(self.check_artery(session, &artery));
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

    fn evaluate(&self, plan: &ResolvedPlan, _context: &Context) -> Option<Vec<Finding>> {
        let mut findings = Vec::new();
        for session in &plan.sessions {
            for total in totals(session_drugs(session)) {
                let Some(limit) = self.limits.get(total.drug) else { continue };
                if !total.above(&limit) {
                    continue;
                }
                let message = format!(
                    "{}: {} totals {} over {}, above the session maximum of {limit}. Reduce the \
                     doses so that the session total is {limit} or less.",
                    session_label(session),
                    total.drug,
                    total.amount(),
                    count(arteries_with(&total), "artery", "arteries")
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

    fn evaluate(&self, plan: &ResolvedPlan, _context: &Context) -> Option<Vec<Finding>> {
        let mut findings = Vec::new();
        for session in &plan.sessions {
            let totals = totals(session_drugs(session));
            for (drug, limit) in &self.limits.0 {
                let total = totals.iter().find(|t| t.drug == *drug);
                let message = match total {
                    Some(total) if total.below(limit) => format!(
                        "{}: {drug} totals {} over {}, below the protocol's session range, which \
                         starts at {limit}. Check the doses.",
                        session_label(session),
                        total.amount(),
                        count(arteries_with(total), "artery", "arteries")
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
    /// Drugs allowed into an artery.
    formulary: Vec<RuleName>,
}

impl RuleKind for UnknownDrug {
    fn from_params(params: &mut Params, names: &Names) -> Result<Self, LoadError> {
        Ok(UnknownDrug { formulary: rule_names(required!(params, formulary), "drugs", names)? })
    }

    fn evaluate(&self, plan: &ResolvedPlan, _context: &Context) -> Option<Vec<Finding>> {
        let mut findings = Vec::new();
        for session in &plan.sessions {
            for artery in &session.arteries {
                for drug in &artery.drugs {
                    if is_one_of(&self.formulary, &drug.name) {
                        continue;
                    }
                    let message = format!(
                        "{}: {} in {} is not in the protocol's formulary ({}, or their \
                         synonyms).{} Correct the name, or remove the drug: its dose cannot be \
                         checked.",
                        session_label(session),
                        drug.name,
                        artery.name,
                        and_list(&self.formulary),
                        did_you_mean(&drug.name.written, &self.formulary)
                    );
                    findings.push(
                        Finding::at(
                            format!("{}/drugs/{}/name", artery.pointer(session), drug.index),
                            message,
                        )
                        .in_session(session)
                        .in_artery(artery)
                        .observed(drug.name.written.as_str())
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

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::plan::Plan;

    /// The spec example with the first (2.5 mm) artery's drugs replaced.
    fn small_artery_with(drugs: &[(&'static str, &str)]) -> Plan {
        let mut plan = spec_example();
        plan.sessions[0].arteries[0].drugs =
            drugs.iter().enumerate().map(|(i, (n, d))| drug(i, n, d)).collect();
        plan
    }

    #[test]
    fn a_small_artery_at_its_cap_passes_in_every_mass_unit() {
        for dose in ["3 mg", "0.003 g", "3000 ug", "3000 µg", "3000 μg", "3000 mcg"] {
            let plan = small_artery_with(&[("pirarubicin", dose), ("carboplatin", "50 mg")]);
            assert!(findings_of("artery-dose-max", &plan).is_empty(), "{dose}");
        }
    }

    #[test]
    fn just_above_the_cap_fails_in_every_mass_unit() {
        for dose in ["3.001 mg", "0.0030001 g", "3001 ug", "3001 µg", "3000.5 μg", "3001 mcg"] {
            let plan = small_artery_with(&[("pirarubicin", dose), ("carboplatin", "50 mg")]);
            let findings = findings_of("artery-dose-max", &plan);
            assert_eq!(findings.len(), 1, "{dose}");
            assert_eq!(findings[0].path, "/sessions/0/arteries/0/drugs/0/dose");
        }
        let plan = small_artery_with(&[("pirarubicin", "3 mg"), ("carboplatin", "0.05001 g")]);
        assert_eq!(findings_of("artery-dose-max", &plan).len(), 1);
    }

    #[test]
    fn the_overdose_message_names_session_artery_dose_and_cap() {
        let plan = small_artery_with(&[("pirarubicin", "5 mg"), ("carboplatin", "50 mg")]);
        let findings = findings_of("artery-dose-max", &plan);
        let f = &findings[0];
        assert_eq!(
            f.message,
            "session 2 on 2026-11-05: pirarubicin 5 mg in left L3 lumbar artery (2.5 mm) exceeds \
             the 3 mg cap for arteries under 4 mm. Lower it to 3 mg or less."
        );
        assert_eq!(f.observed.as_deref(), Some("pirarubicin 5 mg"));
        assert_eq!(f.limit.as_deref(), Some("pirarubicin 3 mg for arteries under 4 mm"));
        assert_eq!(f.artery.as_deref(), Some("left L3 lumbar artery"));
        assert_eq!(f.session.as_ref().unwrap().number, Some(2));
    }

    #[test]
    fn four_mm_takes_the_large_caps_and_just_under_takes_the_small() {
        let mut plan = spec_example();
        let artery = &mut plan.sessions[0].arteries[2];
        artery.diameter_mm = dec("4");
        artery.drugs = vec![drug(0, "pirarubicin", "10 mg"), drug(1, "carboplatin", "200 mg")];
        assert!(findings_of("artery-dose-max", &plan).is_empty());
        plan.sessions[0].arteries[2].diameter_mm = dec("3.99");
        let findings = findings_of("artery-dose-max", &plan);
        assert_eq!(findings.len(), 2, "{findings:#?}");
        plan.sessions[0].arteries[2].diameter_mm = dec("4");
        plan.sessions[0].arteries[2].drugs[0] = drug(0, "pirarubicin", "10.001 mg");
        let findings = findings_of("artery-dose-max", &plan);
        assert!(findings[0].message.contains("cap for arteries of 4 mm or more"));
    }

    #[test]
    fn the_same_drug_listed_twice_or_under_a_synonym_is_summed() {
        let plan = small_artery_with(&[("pirarubicin", "2 mg"), ("THP", "1.5 mg")]);
        let findings = findings_of("artery-dose-max", &plan);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].path, "/sessions/0/arteries/0/drugs");
        assert!(
            findings[0].message.contains("pirarubicin 3.5 mg in total (2 entries: 2 mg + 1.5 mg)"),
            "{}",
            findings[0].message
        );
        let plan = small_artery_with(&[("pirarubicin", "1.5 mg"), ("Pirarubicine", "0.0015 g")]);
        assert!(findings_of("artery-dose-max", &plan).is_empty());
    }

    #[test]
    fn drugs_without_a_cap_are_left_to_unknown_drug() {
        let plan = small_artery_with(&[("doxorubicin", "100 mg")]);
        assert!(findings_of("artery-dose-max", &plan).is_empty());
        assert_eq!(findings_of("unknown-drug", &plan).len(), 1);
    }

    /// The spec example plus a fourth treated 4.5 mm artery.
    fn with_fourth_artery(drugs: &[(&'static str, &str)]) -> Plan {
        let mut plan = spec_example();
        plan.sessions[0].arteries.push(artery(4, "left iliolumbar artery", "4.5", drugs));
        plan
    }

    #[test]
    fn session_totals_at_the_maximum_pass_and_just_above_fail() {
        // 3 + 3 + 10 mg pirarubicin and 50 + 50 + 200 mg carboplatin already.
        let plan = with_fourth_artery(&[("pirarubicin", "4 mg"), ("carboplatin", "0.1 g")]);
        assert!(findings_of("session-dose-max", &plan).is_empty());
        let plan = with_fourth_artery(&[("pirarubicin", "4001 mcg"), ("carboplatin", "100 mg")]);
        let findings = findings_of("session-dose-max", &plan);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].message,
            "session 2 on 2026-11-05: pirarubicin totals 20.001 mg over 4 arteries, above the \
             session maximum of 20 mg. Reduce the doses so that the session total is 20 mg or \
             less."
        );
        assert_eq!(findings[0].path, "/sessions/0/arteries");
        let plan = with_fourth_artery(&[("carboplatin", "100.001 mg")]);
        assert_eq!(findings_of("session-dose-max", &plan).len(), 1);
    }

    #[test]
    fn session_totals_below_the_range_or_absent_warn() {
        // 16 mg pirarubicin; at 10 mg exactly it passes.
        let mut plan = spec_example();
        plan.sessions[0].arteries[2].drugs[0] = drug(0, "pirarubicin", "4 mg");
        assert!(findings_of("session-dose-min", &plan).is_empty());
        plan.sessions[0].arteries[2].drugs[0] = drug(0, "pirarubicin", "3.999 mg");
        let findings = findings_of("session-dose-min", &plan);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("pirarubicin totals 9.999 mg over 3 arteries, below"));

        for artery in &mut plan.sessions[0].arteries {
            artery.drugs.retain(|d| d.name.written != "carboplatin");
        }
        let findings = findings_of("session-dose-min", &plan);
        assert_eq!(findings.len(), 2, "{findings:#?}");
        assert_eq!(
            findings[1].message,
            "session 2 on 2026-11-05: no carboplatin is planned in any artery; the protocol gives \
             200 mg or more per session. Check the plan."
        );
    }

    #[test]
    fn a_drug_outside_the_formulary_is_an_error_and_synonyms_are_known() {
        let plan = small_artery_with(&[("THP", "3 mg"), ("Paraplatine", "50 mg")]);
        assert!(findings_of("unknown-drug", &plan).is_empty());
        let plan = small_artery_with(&[("pirarubicin", "3 mg"), ("Doxorubicin", "10 mg")]);
        let findings = findings_of("unknown-drug", &plan);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].path, "/sessions/0/arteries/0/drugs/1/name");
        assert!(findings[0].message.contains("Doxorubicin in left L3 lumbar artery is not in"));
        assert_eq!(findings[0].observed.as_deref(), Some("Doxorubicin"));
    }
}
