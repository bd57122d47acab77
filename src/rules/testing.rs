//! Test helpers: plans built directly as structs (the SPEC §1 example, to be
//! changed one field at a time), and running one rule of the shipped set.

use super::{Context, RuleSet};
use crate::decimal::Decimal;
use crate::history::RecordedSession;
use crate::names::{Name, Names};
use crate::plan::{
    Artery, DrugDose, Embolic, Indication, LesionRegion, ParticleRange, Patient, Plan,
    PostProcedureDrug, PriorSession, Quantity, Sedative, SedativeDose, Session, SpinalMapping,
};
use crate::verdict::{Finding, RuleOutcome};
use jiff::civil::Date;
use std::borrow::Cow;
use std::sync::OnceLock;

pub use crate::verdict::RuleResult;

/// An exact decimal from text.
pub fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// A quantity from text such as "3 mg".
pub fn q(text: &str) -> Quantity {
    Quantity::parse_text(text).unwrap()
}

/// A date from "YYYY-MM-DD".
pub fn date(text: &str) -> Date {
    text.parse().unwrap()
}

/// A name resolved through the shipped rule set's synonyms, as it is in a
/// plan read with that set.
pub fn name(written: &'static str) -> Name<'static> {
    static NAMES: OnceLock<Names> = OnceLock::new();
    let names = NAMES.get_or_init(|| RuleSet::builtin().unwrap().names);
    let canonical = match names.canonical(written) {
        Cow::Borrowed(canonical) => canonical,
        Cow::Owned(canonical) => canonical.leak(),
    };
    Name { written, canonical }
}

/// A drug given into an artery.
pub fn drug(index: usize, written: &'static str, dose: &str) -> DrugDose<'static> {
    DrugDose { index, name: name(written), dose: q(dose) }
}

/// An artery embolised with PVA of `particles` µm and infused with `drugs`.
pub fn artery(
    index: usize,
    written: &'static str,
    diameter: &str,
    drugs: &[(&'static str, &str)],
) -> Artery<'static> {
    Artery {
        index,
        name: written,
        origin: Some(name(written.trim_end_matches(" artery"))),
        diameter_mm: dec(diameter),
        shares_origin_with_spinal_artery: false,
        embolic: Some(Embolic {
            agent: name("PVA"),
            particle_size_um: Some(ParticleRange { min: dec("300"), max: dec("600") }),
        }),
        drugs: drugs.iter().enumerate().map(|(i, (n, d))| drug(i, n, d)).collect(),
    }
}

/// A complete session on `day` that passes every rule of the shipped set.
pub fn session(index: usize, number: Option<u64>, day: &str) -> Session<'static> {
    let small = [("pirarubicin", "3 mg"), ("carboplatin", "50 mg")];
    let mut untreated = artery(3, "right L1 lumbar artery", "2", &[]);
    untreated.embolic = None;
    untreated.shares_origin_with_spinal_artery = true;
    Session {
        index,
        number,
        date: date(day),
        arteries: vec![
            artery(0, "left L3 lumbar artery", "2.5", &small),
            artery(1, "right L3 lumbar artery", "2.5", &small),
            artery(
                2,
                "common trunk of right and left L4 lumbar arteries",
                "4.5",
                &[("pirarubicin", "10 mg"), ("carboplatin", "0.2 g")],
            ),
            untreated,
        ],
        sedation: vec![
            Sedative {
                index: 0,
                name: name("alfentanil"),
                dose: SedativeDose::Rate(q("1.5 mg/h")),
            },
            Sedative { index: 1, name: name("midazolam"), dose: SedativeDose::Bolus(q("1 mg")) },
        ],
        post_procedure: vec![
            PostProcedureDrug {
                index: 0,
                name: name("methylprednisolone"),
                dose: q("120 mg"),
                route: Some(name("IV")),
            },
            PostProcedureDrug { index: 1, name: name("granisetron"), dose: q("3 mg"), route: None },
        ],
        follow_up_days: vec![7, 28],
    }
}

/// The SPEC §1 example plan (patient PAT-0007, plan PLN-2026-0042): one
/// prior session on 2026-10-05, session 2 on 2026-11-05.
pub fn spec_example() -> Plan<'static> {
    Plan {
        plan_id: "PLN-2026-0042",
        patient: Patient { id: "PAT-0007", age_years: Some(dec("56")), sex: Some("M") },
        indication: Indication {
            primary_cancer: Some("kidney"),
            lesion_region: LesionRegion::Spine,
            lesion_levels: vec!["L3", "L4"],
            lytic: Some(true),
            failed_treatments: Some(vec![
                name("chemotherapy"),
                name("radiotherapy"),
                name("surgery"),
            ]),
            cementoplasty_contraindicated: Some(true),
            mdt_decision: Some(true),
        },
        spinal_artery_mapping: Some(SpinalMapping {
            date: date("2026-11-02"),
            origins: vec![name("left T9 intercostal"), name("right L1 lumbar")],
        }),
        prior_sessions: vec![PriorSession {
            index: 0,
            date: date("2026-10-05"),
            plan_id: Some("PLN-2026-0031"),
        }],
        sessions: vec![session(0, Some(2), "2026-11-05")],
    }
}

/// A recorded session of another plan.
pub fn recorded(patient: &str, plan: &str, number: Option<u64>, day: &str) -> RecordedSession {
    RecordedSession {
        patient_id: patient.into(),
        plan_id: plan.into(),
        number,
        index: 0,
        date: date(day),
        recorded_at: "2026-10-20T09:00:00Z".parse().unwrap(),
    }
}

/// Every finding and outcome of `rules` on `plan`.
pub fn evaluate_with(
    rules: &RuleSet,
    plan: &Plan,
    history: &[RecordedSession],
) -> (Vec<Finding>, Vec<RuleOutcome>) {
    rules.evaluate(plan, &Context { history })
}

/// The findings of one rule of the shipped set, with a history.
pub fn findings_with_history(rule: &str, plan: &Plan, history: &[RecordedSession]) -> Vec<Finding> {
    let rules = RuleSet::builtin().unwrap();
    assert!(rules.rule(rule).is_some(), "no rule {rule}");
    let (findings, _) = evaluate_with(&rules, plan, history);
    findings.into_iter().filter(|f| f.rule == rule).collect()
}

/// The findings of one rule of the shipped set.
pub fn findings_of(rule: &str, plan: &Plan) -> Vec<Finding> {
    findings_with_history(rule, plan, &[])
}

/// The outcome of one rule of the shipped set.
pub fn outcome_of(rule: &str, plan: &Plan) -> RuleResult {
    let rules = RuleSet::builtin().unwrap();
    let (_, outcomes) = evaluate_with(&rules, plan, &[]);
    outcomes.into_iter().find(|o| o.id == rule).unwrap().outcome
}
