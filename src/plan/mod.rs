//! The plan format `embolint.plan/1` (SPEC §1): the typed model of a plan,
//! and the strict reader that builds it from a file's bytes.
//!
//! A plan that reaches the rules has been read completely and strictly:
//! every field known, every type right, every quantity with a unit. Any
//! problem makes the plan invalid, with all problems reported at once.

mod fields;
pub mod json;
pub mod parse;
pub mod quantity;
mod session;
mod values;

use crate::decimal::Decimal;
pub use crate::names::Name;
use jiff::civil::Date;
pub use parse::{parse_plan, ParseFailure, Problem};
pub use quantity::{Amount, Dimension, Quantity, Unit};

/// The `format` value of every plan this version reads.
pub const FORMAT: &str = "embolint.plan/1";

/// A treatment plan: one patient, one or more planned procedures.
///
/// Its text (ids, names, origins) is borrowed from the file it was read
/// from (`'a`): reading a plan copies none of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan<'a> {
    /// A later file with the same id is a revision of this plan.
    pub plan_id: &'a str,
    pub patient: Patient<'a>,
    pub indication: Indication<'a>,
    /// The angiographic mapping of the spinal arteries' origins, if done.
    pub spinal_artery_mapping: Option<SpinalMapping<'a>>,
    /// Procedures already done for this patient, as the plan reports them.
    pub prior_sessions: Vec<PriorSession<'a>>,
    /// The planned procedures; never empty.
    pub sessions: Vec<Session<'a>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Patient<'a> {
    pub id: &'a str,
    pub age_years: Option<Decimal>,
    pub sex: Option<&'a str>,
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
pub struct Indication<'a> {
    pub primary_cancer: Option<&'a str>,
    pub lesion_region: LesionRegion,
    pub lesion_levels: Vec<&'a str>,
    pub lytic: Option<bool>,
    /// `None` when the plan does not say; `Some(empty)` when it says none.
    pub failed_treatments: Option<Vec<Name<'a>>>,
    pub cementoplasty_contraindicated: Option<bool>,
    pub mdt_decision: Option<bool>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SpinalMapping<'a> {
    pub date: Date,
    /// Segmental arteries from which an anterior or posterior spinal artery
    /// arises; empty when angiography found none.
    pub origins: Vec<Name<'a>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PriorSession<'a> {
    /// Position in `prior_sessions`, for JSON Pointers.
    pub index: usize,
    pub date: Date,
    pub plan_id: Option<&'a str>,
}

/// One planned procedure.
#[derive(Clone, Debug, PartialEq)]
pub struct Session<'a> {
    /// Position in `sessions`, for JSON Pointers.
    pub index: usize,
    /// The number in the course, when the plan gives it.
    pub number: Option<u64>,
    pub date: Date,
    pub arteries: Vec<Artery<'a>>,
    pub sedation: Vec<Sedative<'a>>,
    pub post_procedure: Vec<PostProcedureDrug<'a>>,
    pub follow_up_days: Vec<u64>,
}

impl<'a> Session<'a> {
    /// The JSON Pointer of this session.
    pub fn pointer(&self) -> String {
        format!("/sessions/{}", self.index)
    }

    /// The arteries that are treated: embolised or infused.
    pub fn treated_arteries(&self) -> impl Iterator<Item = &Artery<'a>> {
        self.arteries.iter().filter(|a| a.is_treated())
    }
}

/// An arterial feeder of the lesion, treated or only documented.
#[derive(Clone, Debug, PartialEq)]
pub struct Artery<'a> {
    /// Position in its session's `arteries`, for JSON Pointers.
    pub index: usize,
    pub name: &'a str,
    /// The segmental artery it arises from.
    pub origin: Option<Name<'a>>,
    pub diameter_mm: Decimal,
    /// The planner's own reading of the angiogram.
    pub shares_origin_with_spinal_artery: bool,
    pub embolic: Option<Embolic<'a>>,
    pub drugs: Vec<DrugDose<'a>>,
}

impl Artery<'_> {
    /// SPEC §2: treated when it has an embolic or a non-empty `drugs`.
    pub fn is_treated(&self) -> bool {
        self.embolic.is_some() || !self.drugs.is_empty()
    }

    /// The JSON Pointer of this artery within session `session`.
    pub fn pointer(&self, session: &Session<'_>) -> String {
        format!("/sessions/{}/arteries/{}", session.index, self.index)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Embolic<'a> {
    pub agent: Name<'a>,
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
pub struct DrugDose<'a> {
    /// Position in the artery's `drugs`, for JSON Pointers.
    pub index: usize,
    pub name: Name<'a>,
    /// Always a mass.
    pub dose: Quantity,
}

/// A sedative: a continuous rate or a single bolus (exactly one).
#[derive(Clone, Debug, PartialEq)]
pub struct Sedative<'a> {
    pub index: usize,
    pub name: Name<'a>,
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
pub struct PostProcedureDrug<'a> {
    pub index: usize,
    pub name: Name<'a>,
    /// Always a mass.
    pub dose: Quantity,
    pub route: Option<Name<'a>>,
}
