//! Test helpers: plans built directly as structs (the SPEC §1 example, to be
//! changed one field at a time), and running one rule of the shipped set.

use super::{Context, PastSession, PatientHistory, RuleSet};
use crate::decimal::Decimal;
use crate::names::Name;
use crate::plan::{
    Artery, DrugDose, Embolic, Indication, LesionRegion, ParticleRange, Patient, Plan,
    PostProcedureDrug, PriorSession, Quantity, Sedative, SedativeDose, Session, SpinalMapping,
};
use crate::verdict::{Finding, RuleOutcome};
use jiff::civil::Date;

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

/// A name as a plan writes it; the rule set resolves it when it judges.
pub fn name(written: &str) -> Name {
    Name::new(written)
}

/// A drug given into an artery.
pub fn drug(index: usize, written: &str, dose: &str) -> DrugDose {
    DrugDose { index, name: name(written), dose: q(dose) }
}

/// An artery embolised with PVA of `particles` µm and infused with `drugs`.
pub fn artery(index: usize, written: &str, diameter: &str, drugs: &[(&str, &str)]) -> Artery {
    Artery {
        index,
        name: name(written),
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
pub fn session(index: usize, number: Option<u64>, day: &str) -> Session {
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

/// The example plan with its first session's sedation replaced by
/// `(name as written, dose, whether the dose is a rate)` entries.
pub fn sedated(entries: &[(&str, &str, bool)]) -> Plan {
    let mut plan = spec_example();
    plan.sessions[0].sedation = entries
        .iter()
        .enumerate()
        .map(|(index, (written, dose, rate))| Sedative {
            index,
            name: name(written),
            dose: if *rate { SedativeDose::Rate(q(dose)) } else { SedativeDose::Bolus(q(dose)) },
        })
        .collect();
    plan
}

/// The SPEC §1 example plan (patient PAT-0007, plan PLN-2026-0042): one
/// prior session on 2026-10-05, session 2 on 2026-11-05.
pub fn spec_example() -> Plan {
    Plan {
        plan_id: "PLN-2026-0042".into(),
        patient: Patient {
            id: "PAT-0007".into(),
            age_years: Some(dec("56")),
            sex: Some("M".into()),
        },
        indication: Indication {
            primary_cancer: Some("kidney".into()),
            lesion_region: LesionRegion::Spine,
            lesion_levels: vec!["L3".into(), "L4".into()],
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
            plan_id: Some("PLN-2026-0031".into()),
        }],
        sessions: vec![session(0, Some(2), "2026-11-05")],
        acknowledgements: Vec::new(),
    }
}

/// A recorded session of another plan of the patient.
pub fn recorded(plan: &str, number: Option<u64>, day: &str) -> PastSession {
    PastSession {
        plan_id: plan.into(),
        listed_by: None,
        number,
        index: 0,
        date: date(day),
        recorded_on: date("2026-10-20"),
    }
}

/// Every finding and outcome of `rules` on `plan`, with what the history
/// holds (`None`: checked without a history).
pub fn evaluate_with(
    rules: &RuleSet,
    plan: &Plan,
    history: Option<&PatientHistory>,
) -> (Vec<Finding>, Vec<RuleOutcome>) {
    rules.resolve(plan.clone()).evaluate(&Context { history })
}

/// The findings of one rule of the shipped set, with what the history holds.
pub fn findings_in(rule: &str, plan: &Plan, history: Option<&PatientHistory>) -> Vec<Finding> {
    let rules = RuleSet::builtin().unwrap();
    assert!(rules.rule(rule).is_some(), "no rule {rule}");
    let (findings, _) = evaluate_with(&rules, plan, history);
    findings.into_iter().filter(|f| f.rule == rule).collect()
}

/// The findings of one rule of the shipped set, with the patient's
/// sessions of other plans.
pub fn findings_with_history(rule: &str, plan: &Plan, sessions: &[PastSession]) -> Vec<Finding> {
    let history = PatientHistory { sessions: sessions.to_vec(), same_plan_id: None };
    findings_in(rule, plan, Some(&history))
}

/// The findings of one rule of the shipped set, without a history.
pub fn findings_of(rule: &str, plan: &Plan) -> Vec<Finding> {
    findings_in(rule, plan, None)
}

/// The outcome of one rule of the shipped set, without a history.
pub fn outcome_of(rule: &str, plan: &Plan) -> RuleResult {
    let rules = RuleSet::builtin().unwrap();
    let (_, outcomes) = evaluate_with(&rules, plan, None);
    outcomes.into_iter().find(|o| o.id == rule).unwrap().outcome
}
