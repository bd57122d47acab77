//! The plan format `embolint.plan/1` (SPEC §1): the typed model of a plan,
//! and the strict reader that builds it from a file's bytes.
//!
//! A plan that reaches the rules has been read completely and strictly:
//! every field known, every type right, every quantity with a unit. Any
//! problem makes the plan invalid, with all problems reported at once.

mod acknowledgement;
mod artery;
mod fields;
/// "Did you mean …?": the closest of some known words to a misspelt one.
pub(crate) use fields::suggest;
pub mod json;
pub mod parse;
mod pointer;
pub mod quantity;
mod session;
mod values;

use crate::decimal::Decimal;
pub use crate::names::Name;
pub use acknowledgement::Acknowledgement;
pub use artery::SessionArtery;
use jiff::civil::Date;
pub use parse::{parse_plan, ParseFailure, Problem};
pub use pointer::JsonPointer;
pub use quantity::{Amount, Dimension, Quantity, Unit};

/// The `format` value of every plan this version reads.
pub const FORMAT: &str = "embolint.plan/1";

/// Every field name the plan format defines, each once, in the order the
/// format describes them. The reader of each section names its own fields;
/// a test holds this list to them. The fuzzers and the property tests draw
/// keys from it.
pub const FIELD_NAMES: [&str; 43] = [
    "format",
    "plan_id",
    "patient",
    "id",
    "age_years",
    "sex",
    "indication",
    "primary_cancer",
    "lesion_region",
    "lesion_levels",
    "lytic",
    "failed_treatments",
    "cementoplasty_contraindicated",
    "mdt_decision",
    "spinal_artery_mapping",
    "date",
    "origins",
    "prior_sessions",
    "sessions",
    "number",
    "arteries",
    "name",
    "origin",
    "diameter_mm",
    "shares_origin_with_spinal_artery",
    "embolic",
    "agent",
    "particle_size_um",
    "drugs",
    "dose",
    "value",
    "unit",
    "sedation",
    "rate",
    "bolus",
    "post_procedure",
    "route",
    "follow_up_days",
    "acknowledgements",
    "rule",
    "path",
    "reason",
    "by",
];

/// A treatment plan: one patient, one or more planned procedures.
///
/// It owns its text. Its names are compared in their normalized form
/// until a rule set resolves them ([`crate::rules::RuleSet::resolve`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// A later file with the same id is a revision of this plan.
    pub plan_id: String,
    pub patient: Patient,
    pub indication: Indication,
    /// The angiographic mapping of the spinal arteries' origins, if done.
    pub spinal_artery_mapping: Option<SpinalMapping>,
    /// Procedures already done for this patient, as the plan reports them.
    pub prior_sessions: Vec<PriorSession>,
    /// The planned procedures; never empty.
    pub sessions: Vec<Session>,
    /// Findings the planners have seen and accept, with their reasons; the
    /// rule set decides which it honours.
    pub acknowledgements: Vec<Acknowledgement>,
}

impl Plan {
    /// Calls `resolve` on every name the plan writes: failed treatments,
    /// mapped origins, and each session's origins, agents, drugs,
    /// sedatives, post-procedure drugs and routes.
    pub(crate) fn for_each_name(&mut self, mut resolve: impl FnMut(&mut Name)) {
        let failed = self.indication.failed_treatments.iter_mut().flatten();
        let mapped = self.spinal_artery_mapping.iter_mut().flat_map(|m| m.origins.iter_mut());
        failed.chain(mapped).for_each(&mut resolve);
        for session in &mut self.sessions {
            for artery in &mut session.arteries {
                resolve(&mut artery.name);
                artery.origin.iter_mut().for_each(&mut resolve);
                artery.embolic.iter_mut().for_each(|e| resolve(&mut e.agent));
                artery.drugs.iter_mut().for_each(|d| resolve(&mut d.name));
            }
            session.sedation.iter_mut().for_each(|s| resolve(&mut s.name));
            for drug in &mut session.post_procedure {
                resolve(&mut drug.name);
                drug.route.iter_mut().for_each(&mut resolve);
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Patient {
    pub id: String,
    pub age_years: Option<Decimal>,
    pub sex: Option<String>,
}

/// Where the treated lesion lies; decides whether spinal mapping is required.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LesionRegion {
    Spine,
    Sacrum,
    Iliac,
    Other,
}

impl LesionRegion {
    pub const ALL: [(&'static str, LesionRegion); 4] = [
        ("spine", LesionRegion::Spine),
        ("sacrum", LesionRegion::Sacrum),
        ("iliac", LesionRegion::Iliac),
        ("other", LesionRegion::Other),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LesionRegion::Spine => "spine",
            LesionRegion::Sacrum => "sacrum",
            LesionRegion::Iliac => "iliac",
            LesionRegion::Other => "other",
        }
    }
}

/// Why the patient is treated; the `eligibility` rule reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct Indication {
    pub primary_cancer: Option<String>,
    pub lesion_region: LesionRegion,
    pub lesion_levels: Vec<String>,
    pub lytic: Option<bool>,
    /// `None` when the plan does not say; `Some(empty)` when it says none.
    pub failed_treatments: Option<Vec<Name>>,
    pub cementoplasty_contraindicated: Option<bool>,
    pub mdt_decision: Option<bool>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SpinalMapping {
    pub date: Date,
    /// Segmental arteries from which an anterior or posterior spinal artery
    /// arises; empty when angiography found none.
    pub origins: Vec<Name>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PriorSession {
    /// Position in `prior_sessions`, for JSON Pointers.
    pub index: usize,
    pub date: Date,
    pub plan_id: Option<String>,
}

/// One planned procedure.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    /// Position in `sessions`, for JSON Pointers.
    pub index: usize,
    /// The number in the course, when the plan gives it.
    pub number: Option<u64>,
    pub date: Date,
    pub arteries: Vec<Artery>,
    pub sedation: Vec<Sedative>,
    pub post_procedure: Vec<PostProcedureDrug>,
    pub follow_up_days: Vec<u64>,
}

impl Session {
    /// The JSON Pointer of this session.
    pub fn pointer(&self) -> String {
        format!("/sessions/{}", self.index)
    }

    /// The session's arteries: its entries grouped by name, in order of
    /// first appearance (SPEC §2, "Arteries").
    pub fn arteries_by_name(&self) -> Vec<SessionArtery<'_>> {
        SessionArtery::group(&self.arteries)
    }

    /// The arteries that are treated: embolised or infused.
    pub fn treated_arteries(&self) -> Vec<SessionArtery<'_>> {
        self.arteries_by_name().into_iter().filter(SessionArtery::is_treated).collect()
    }
}

/// An arterial feeder of the lesion, treated or only documented.
#[derive(Clone, Debug, PartialEq)]
pub struct Artery {
    /// Position in its session's `arteries`, for JSON Pointers.
    pub index: usize,
    /// Entries of one session with equal names are one artery
    /// ([`Session::arteries_by_name`]).
    pub name: Name,
    /// The segmental artery it arises from.
    pub origin: Option<Name>,
    pub diameter_mm: Decimal,
    /// The planner's own reading of the angiogram.
    pub shares_origin_with_spinal_artery: bool,
    pub embolic: Option<Embolic>,
    pub drugs: Vec<DrugDose>,
}

impl Artery {
    /// Whether this entry is treated: it has an embolic or a non-empty
    /// `drugs`. An artery is treated when one of its entries is.
    pub fn is_treated(&self) -> bool {
        self.embolic.is_some() || !self.drugs.is_empty()
    }

    /// The JSON Pointer of this artery within session `session`.
    pub fn pointer(&self, session: &Session) -> String {
        format!("/sessions/{}/arteries/{}", session.index, self.index)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Embolic {
    pub agent: Name,
    /// `[min, max]` in µm; present whenever the agent is PVA.
    pub particle_size_um: Option<ParticleRange>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParticleRange {
    pub min: Decimal,
    pub max: Decimal,
}

/// A drug given into an artery.
#[derive(Clone, Debug, PartialEq)]
pub struct DrugDose {
    /// Position in the artery's `drugs`, for JSON Pointers.
    pub index: usize,
    pub name: Name,
    /// Always a mass.
    pub dose: Quantity,
}

/// A sedative: a continuous rate or a single bolus (exactly one).
#[derive(Clone, Debug, PartialEq)]
pub struct Sedative {
    pub index: usize,
    pub name: Name,
    pub dose: SedativeDose,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SedativeDose {
    /// A mass per time.
    Rate(Quantity),
    /// A mass.
    Bolus(Quantity),
}

/// A drug given after the procedure.
#[derive(Clone, Debug, PartialEq)]
pub struct PostProcedureDrug {
    pub index: usize,
    pub name: Name,
    /// Always a mass.
    pub dose: Quantity,
    pub route: Option<Name>,
}

#[cfg(test)]
mod tests {
    use super::FIELD_NAMES;
    use std::collections::BTreeSet;

    #[test]
    fn the_list_of_field_names_is_exactly_the_fields_the_readers_name() {
        let sections: [&[&str]; 13] = [
            super::parse::PLAN_FIELDS,
            super::parse::PATIENT_FIELDS,
            super::parse::INDICATION_FIELDS,
            super::parse::MAPPING_FIELDS,
            super::parse::PRIOR_SESSION_FIELDS,
            super::session::SESSION_FIELDS,
            super::session::ARTERY_FIELDS,
            super::session::EMBOLIC_FIELDS,
            super::session::DRUG_FIELDS,
            super::session::SEDATIVE_FIELDS,
            super::session::POST_PROCEDURE_FIELDS,
            super::values::QUANTITY_FIELDS,
            super::acknowledgement::ACKNOWLEDGEMENT_FIELDS,
        ];
        let read: BTreeSet<&str> = sections.into_iter().flatten().copied().collect();
        let listed: BTreeSet<&str> = FIELD_NAMES.into_iter().collect();
        assert_eq!(listed.len(), FIELD_NAMES.len(), "a field name is listed twice");
        assert_eq!(read, listed);
    }
}
