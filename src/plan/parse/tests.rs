//! The strict reader against the SPEC's example and every class of invalid
//! plan: each test edits the example in one or a few places.

use super::*;
use crate::decimal::Decimal;
use crate::names::Name;
use crate::plan::{Artery, DrugDose, Embolic, ParticleRange, PostProcedureDrug, Quantity};
use crate::plan::{Sedative, SedativeDose, Session, Unit};

mod acknowledgements;
mod invalid;
mod messages;

/// The complete, valid example of SPEC §1.
const EXAMPLE: &str = include_str!("spec_example.json");

fn names() -> Names {
    Names::new([("PVA", vec!["polyvinyl alcohol".to_string()].as_slice())]).unwrap()
}

/// The example with each `(from, to)` applied once; `from` must be there.
fn edited(edits: &[(&str, &str)]) -> String {
    let mut text = EXAMPLE.to_string();
    for (from, to) in edits {
        assert!(text.contains(from), "the example has no {from:?}");
        text = text.replacen(from, to, 1);
    }
    text
}

/// Reads `text` with [`names`].
fn parse(text: &str) -> Result<Plan, ParseFailure> {
    parse_plan(text.as_bytes(), &names())
}

/// The problems of an invalid plan as `(pointer, message)`.
fn problems(text: &str) -> Vec<(String, String)> {
    let failure = parse(text).expect_err("the plan should be invalid");
    assert!(!failure.problems.is_empty());
    failure.problems.into_iter().map(|p| (p.path, p.message)).collect()
}

/// The only problem of an invalid plan.
fn problem(text: &str) -> (String, String) {
    let mut all = problems(text);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.remove(0)
}

fn pair(path: &str, message: &str) -> (String, String) {
    (path.to_string(), message.to_string())
}

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn q(value: &str, unit: &str) -> Quantity {
    Quantity::new(d(value), Unit::parse(unit).unwrap()).unwrap()
}

/// `written` as the reader keeps it: compared in its normalized form.
fn n(written: &str) -> Name {
    Name::new(written)
}

fn pva(min: &str, max: &str) -> Option<Embolic> {
    let range = ParticleRange { min: d(min), max: d(max) };
    Some(Embolic { agent: n("PVA"), particle_size_um: Some(range) })
}

fn drugs(pirarubicin: Quantity, carboplatin: Quantity) -> Vec<DrugDose> {
    vec![
        DrugDose { index: 0, name: n("pirarubicin"), dose: pirarubicin },
        DrugDose { index: 1, name: n("carboplatin"), dose: carboplatin },
    ]
}

fn artery(index: usize, name: &str, origin: &str, diameter: &str) -> Artery {
    Artery {
        index,
        name: n(name),
        origin: Some(n(origin)),
        diameter_mm: d(diameter),
        shares_origin_with_spinal_artery: false,
        embolic: None,
        drugs: vec![],
    }
}

fn expected_session() -> Session {
    let small = drugs(q("3", "mg"), q("50", "mg"));
    let arteries = vec![
        Artery {
            embolic: pva("300", "600"),
            drugs: small.clone(),
            ..artery(0, "left L3 lumbar artery", "left L3 lumbar", "2.5")
        },
        Artery {
            embolic: pva("150", "300"),
            drugs: small,
            ..artery(1, "right L3 lumbar artery", "right L3 lumbar", "2.5")
        },
        Artery {
            embolic: pva("300", "600"),
            drugs: drugs(q("10", "mg"), q("0.2", "g")),
            ..artery(2, "common trunk of right and left L4 lumbar arteries", "aorta", "4.5")
        },
        Artery {
            shares_origin_with_spinal_artery: true,
            ..artery(
                3,
                "right L1 lumbar artery (gives the artery of Adamkiewicz; not treated)",
                "right L1 lumbar",
                "2",
            )
        },
    ];
    Session {
        index: 0,
        number: Some(2),
        date: "2026-11-05".parse().unwrap(),
        arteries,
        sedation: vec![
            Sedative {
                index: 0,
                name: n("alfentanil"),
                dose: SedativeDose::Rate(q("1.5", "mg/h")),
            },
            Sedative { index: 1, name: n("midazolam"), dose: SedativeDose::Bolus(q("1", "mg")) },
        ],
        post_procedure: vec![
            PostProcedureDrug {
                index: 0,
                name: n("methylprednisolone"),
                dose: q("120", "mg"),
                route: Some(n("IV")),
            },
            PostProcedureDrug { index: 1, name: n("granisetron"), dose: q("3", "mg"), route: None },
        ],
        follow_up_days: vec![7, 28],
    }
}

#[test]
fn the_spec_example_reads_into_the_expected_model() {
    let expected = Plan {
        plan_id: "PLN-2026-0042".into(),
        patient: Patient { id: "PAT-0007".into(), age_years: Some(d("56")), sex: Some("M".into()) },
        indication: Indication {
            primary_cancer: Some("kidney".into()),
            lesion_region: LesionRegion::Spine,
            lesion_levels: vec!["L3".into(), "L4".into()],
            lytic: Some(true),
            failed_treatments: Some(vec![n("chemotherapy"), n("radiotherapy"), n("surgery")]),
            cementoplasty_contraindicated: Some(true),
            mdt_decision: Some(true),
        },
        spinal_artery_mapping: Some(SpinalMapping {
            date: "2026-11-02".parse().unwrap(),
            origins: vec![n("left T9 intercostal"), n("right L1 lumbar")],
        }),
        prior_sessions: vec![PriorSession {
            index: 0,
            date: "2026-10-05".parse().unwrap(),
            plan_id: Some("PLN-2026-0031".into()),
        }],
        sessions: vec![expected_session()],
        acknowledgements: Vec::new(),
    };
    assert_eq!(parse(EXAMPLE).unwrap(), expected);
}

#[test]
fn optional_sections_may_be_left_out() {
    let text = r#"{"format": "embolint.plan/1", "plan_id": "P", "patient": {"id": "X"},
        "indication": {"lesion_region": "iliac"},
        "sessions": [{"date": "2026-01-31", "arteries": []}]}"#;
    let plan = parse(text).unwrap();
    assert_eq!(plan.spinal_artery_mapping, None);
    assert_eq!(plan.indication.failed_treatments, None);
    assert!(plan.prior_sessions.is_empty());
    assert_eq!(plan.sessions[0].number, None);
    assert!(plan.sessions[0].arteries.is_empty() && plan.sessions[0].follow_up_days.is_empty());
}

#[test]
fn a_dose_in_grams_has_the_same_base_amount_as_in_milligrams() {
    let text = edited(&[(r#""value": 3, "unit": "mg""#, r#""value": 0.003, "unit": "g""#)]);
    let plan = parse(&text).unwrap();
    let dose = plan.sessions[0].arteries[0].drugs[0].dose;
    assert_eq!(dose.value, d("0.003"));
    assert_eq!(dose.base, q("3", "mg").base);
}

#[test]
fn unreadable_files_give_one_problem_for_the_whole_file() {
    let deep = "[".repeat(100_000);
    let cases: [(&[u8], &str); 5] = [
        (b"{\"format\": \"\xc3\x28\"}", "the file is not UTF-8 text: invalid byte at offset 12"),
        (b"", "the file is empty"),
        (b"{\"format\": \"embolint.plan/1\"} trailing", "there is more text after the end"),
        (
            b"{\"format\": \"embolint.plan/1\",\n  \"plan_id\" \"P\"}",
            "expected `:` after the field name at line 2, column 13",
        ),
        (deep.as_bytes(), "nested more than 128 levels deep"),
    ];
    for (bytes, expected) in cases {
        let failure = parse_plan(bytes, &names()).unwrap_err();
        assert_eq!(failure.problems.len(), 1);
        assert_eq!(failure.problems[0].path, "");
        assert!(failure.problems[0].message.contains(expected), "{:?}", failure.problems[0]);
    }
}

#[test]
fn the_top_level_must_be_an_object() {
    for (text, found) in
        [("null", "null"), ("[]", "a list"), ("3", "a number 3"), ("\"plan\"", "a string")]
    {
        let (path, message) = problem(text);
        assert_eq!(path, "");
        assert!(message.starts_with("expected a plan: one JSON object"), "{message}");
        assert!(message.contains(&format!("found {found}")), "{message}");
    }
}

#[test]
fn an_invalid_plan_still_names_its_plan_and_patient() {
    let failure = parse(&edited(&[(r#""value": 1.5"#, r#""value": "1.5""#)])).unwrap_err();
    assert_eq!(failure.plan_id.as_deref(), Some("PLN-2026-0042"));
    assert_eq!(failure.patient_id.as_deref(), Some("PAT-0007"));
    let failure =
        parse(&edited(&[(r#""PLN-2026-0042""#, r#"" ""#), (r#""PAT-0007""#, "7")])).unwrap_err();
    assert_eq!((failure.plan_id, failure.patient_id), (None, None));
    assert_eq!(parse("[]").unwrap_err().plan_id, None);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_give_a_plan_or_problems_never_a_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
        if let Err(failure) = parse_plan(&bytes, &names()) {
            proptest::prop_assert!(!failure.problems.is_empty());
        }
    }

    #[test]
    fn any_truncation_or_single_byte_change_of_the_example_is_handled(at in 0..EXAMPLE.len(), byte in proptest::prelude::any::<u8>()) {
        let mut bytes = EXAMPLE.as_bytes().to_vec();
        bytes[at] = byte;
        let _ = parse_plan(&bytes, &names());
        let _ = parse_plan(&EXAMPLE.as_bytes()[..at], &names());
    }
}
