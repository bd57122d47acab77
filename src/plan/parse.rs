//! The strict plan reader: bytes in, a [`Plan`] out, or every problem that
//! makes the plan invalid, each with its JSON Pointer and a message a
//! clinician can act on (SPEC §1).
//!
//! Each section of the plan is one short function; it names the fields the
//! format defines there, so a typo such as `diamter_mm` is never ignored.
//! Sessions and arteries are read in [`super::session`].

use super::acknowledgement::acknowledgements;
use super::fields::{suggest, Field, ObjectReader, Pointer, Problems};
use super::json::{self, clip, quote, Node};
use super::session::sessions;
use super::values::{date, flag, names, non_negative, text, texts};
use super::{Indication, LesionRegion, Patient, Plan, PriorSession, SpinalMapping, FORMAT};
use crate::names::Names;

/// One problem that makes a plan invalid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// JSON Pointer of the offending value (`""` for the whole file).
    pub path: String,
    /// What is wrong and how to fix it, for a clinician.
    pub message: String,
}

/// Why a plan could not be read, with what could be read of its identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseFailure {
    /// Every problem found, in the order found (roughly the file's order);
    /// never empty.
    pub problems: Vec<Problem>,
    /// The plan's `plan_id` when it is a readable, non-empty string, so the
    /// verdict of an invalid plan still says which plan it is.
    pub plan_id: Option<String>,
    /// The plan's `patient.id`, under the same condition.
    pub patient_id: Option<String>,
}

/// Reads a plan strictly. `synonyms`, the rule set's, decide the one place
/// where the format depends on a name: particle sizes are required when the
/// agent is PVA, whatever it is called. The plan's names are kept as
/// written; the rule set that judges the plan resolves them
/// ([`crate::rules::RuleSet::resolve`]).
///
/// Never panics, whatever the bytes.
///
/// # Errors
/// Every problem found, each with its JSON Pointer, and the plan's and
/// patient's ids when they could be read:
///
/// ```
/// use embolint::names::Names;
/// use embolint::plan::parse_plan;
///
/// let failure = parse_plan(br#"{"format": "embolint.plan/1", "plan_id": "P-1"}"#, &Names::default())
///     .unwrap_err();
/// assert_eq!(failure.plan_id.as_deref(), Some("P-1"));
/// assert_eq!(failure.problems[0].path, "/patient");
/// assert_eq!(failure.problems[0].message, "missing required field `patient`");
/// ```
pub fn parse_plan(bytes: &[u8], synonyms: &Names) -> Result<Plan, ParseFailure> {
    let root = json::read(bytes).map_err(|message| ParseFailure {
        problems: vec![Problem { path: String::new(), message }],
        plan_id: None,
        patient_id: None,
    })?;
    let mut problems = Problems::default();
    let plan = plan(&Field::root(&root), synonyms, &mut problems);
    match plan {
        Some(plan) if problems.list.is_empty() => Ok(plan),
        _ => {
            if problems.list.is_empty() {
                // Every reader reports before it gives up; this is a safety net.
                problems.add(&Pointer::Root, "embolint could not read this plan; please report this file to the embolint maintainers");
            }
            let patient = entry(&root, "patient");
            Err(ParseFailure {
                problems: problems.list,
                plan_id: readable_text(entry(&root, "plan_id")),
                patient_id: readable_text(patient.and_then(|p| entry(p, "id"))),
            })
        }
    }
}

/// The fields of the plan object.
pub(super) const PLAN_FIELDS: &[&str] = &[
    "format",
    "plan_id",
    "patient",
    "indication",
    "spinal_artery_mapping",
    "prior_sessions",
    "sessions",
    "acknowledgements",
];

fn plan(root: &Field<'_, '_>, synonyms: &Names, problems: &mut Problems) -> Option<Plan> {
    let expected = r#"a plan: one JSON object, {"format": "embolint.plan/1", ...}"#;
    let reader = ObjectReader::open(root, expected, PLAN_FIELDS, problems)?;
    let format = format(&reader, problems);
    let plan_id = reader.required("plan_id", problems).and_then(|f| owned_text(&f, problems));
    let patient = reader.required("patient", problems).and_then(|f| patient(&f, problems));
    let indication = reader.required("indication", problems).and_then(|f| indication(&f, problems));
    let mapping =
        optional(reader.optional("spinal_artery_mapping"), |f| spinal_mapping(f, problems));
    let prior_sessions = optional(reader.optional("prior_sessions"), |f| {
        f.list("a list of prior sessions", problems, prior_session)
    });
    let sessions =
        reader.required("sessions", problems).and_then(|f| sessions(&f, synonyms, problems));
    let acknowledgements =
        optional(reader.optional("acknowledgements"), |f| acknowledgements(f, problems));
    format?;
    Some(Plan {
        plan_id: plan_id?,
        patient: patient?,
        indication: indication?,
        spinal_artery_mapping: mapping?,
        prior_sessions: prior_sessions?.unwrap_or_default(),
        sessions: sessions?,
        acknowledgements: acknowledgements?.unwrap_or_default(),
    })
}

/// Reads an optional field: `Some(None)` when absent, `None` when present but
/// unreadable (already reported).
pub(super) fn optional<'a, 'p, T>(
    field: Option<Field<'a, 'p>>,
    read: impl FnOnce(&Field<'a, 'p>) -> Option<T>,
) -> Option<Option<T>> {
    match field {
        None => Some(None),
        Some(field) => read(&field).map(Some),
    }
}

/// `format` must be exactly [`FORMAT`].
fn format(reader: &ObjectReader<'_, '_>, problems: &mut Problems) -> Option<()> {
    let Some(field) = reader.optional("format") else {
        let message = format!("missing required field `format`; add \"format\": \"{FORMAT}\"");
        problems.add(&Pointer::Key(&Pointer::Root, "format"), message);
        return None;
    };
    let value = text(&field, problems)?;
    if value != FORMAT {
        let message =
            format!("unsupported format {}; this embolint reads \"{FORMAT}\"", quote(value));
        problems.add(&field.path, message);
        return None;
    }
    Some(())
}

pub(super) const PATIENT_FIELDS: &[&str] = &["id", "age_years", "sex"];

fn patient(field: &Field<'_, '_>, problems: &mut Problems) -> Option<Patient> {
    let reader =
        ObjectReader::open(field, "an object with the patient's `id`", PATIENT_FIELDS, problems)?;
    let id = reader.required("id", problems).and_then(|f| owned_text(&f, problems));
    let age = optional(reader.optional("age_years"), |f| non_negative(f, "the age", problems));
    let sex = optional(reader.optional("sex"), |f| owned_text(f, problems));
    Some(Patient { id: id?, age_years: age?, sex: sex? })
}

pub(super) const INDICATION_FIELDS: &[&str] = &[
    "primary_cancer",
    "lesion_region",
    "lesion_levels",
    "lytic",
    "failed_treatments",
    "cementoplasty_contraindicated",
    "mdt_decision",
];

fn indication(field: &Field<'_, '_>, problems: &mut Problems) -> Option<Indication> {
    let reader = ObjectReader::open(field, "an object", INDICATION_FIELDS, problems)?;
    let primary_cancer = optional(reader.optional("primary_cancer"), |f| owned_text(f, problems));
    let region =
        reader.required("lesion_region", problems).and_then(|f| lesion_region(&f, problems));
    let levels = optional(reader.optional("lesion_levels"), |f| texts(f, problems));
    let lytic = optional(reader.optional("lytic"), |f| flag(f, problems));
    let failed = optional(reader.optional("failed_treatments"), |f| names(f, problems));
    let cementoplasty =
        optional(reader.optional("cementoplasty_contraindicated"), |f| flag(f, problems));
    let mdt = optional(reader.optional("mdt_decision"), |f| flag(f, problems));
    Some(Indication {
        primary_cancer: primary_cancer?,
        lesion_region: region?,
        lesion_levels: levels?.unwrap_or_default(),
        lytic: lytic?,
        failed_treatments: failed?,
        cementoplasty_contraindicated: cementoplasty?,
        mdt_decision: mdt?,
    })
}

/// One of `spine`, `sacrum`, `iliac`, `other`, spelt exactly.
fn lesion_region(field: &Field<'_, '_>, problems: &mut Problems) -> Option<LesionRegion> {
    let value = text(field, problems)?;
    if let Some((_, region)) = LesionRegion::ALL.iter().find(|(name, _)| *name == value) {
        return Some(*region);
    }
    let shown = clip(value);
    let choices = "spine, sacrum, iliac or other";
    let message = match suggest(value, LesionRegion::ALL.iter().map(|(name, _)| *name)) {
        Some(near) => {
            format!("unknown lesion region `{shown}`; did you mean `{near}`? Use {choices}")
        }
        None => format!("unknown lesion region `{shown}`; use {choices}"),
    };
    problems.add(&field.path, message);
    None
}

pub(super) const MAPPING_FIELDS: &[&str] = &["date", "origins"];

fn spinal_mapping(field: &Field<'_, '_>, problems: &mut Problems) -> Option<SpinalMapping> {
    let expected = "an object with the mapping's `date` and `origins`";
    let reader = ObjectReader::open(field, expected, MAPPING_FIELDS, problems)?;
    let date = reader.required("date", problems).and_then(|f| date(&f, problems));
    let origins = reader.required("origins", problems).and_then(|f| names(&f, problems));
    Some(SpinalMapping { date: date?, origins: origins? })
}

pub(super) const PRIOR_SESSION_FIELDS: &[&str] = &["date", "plan_id"];

fn prior_session(
    index: usize,
    field: Field<'_, '_>,
    problems: &mut Problems,
) -> Option<PriorSession> {
    let expected = "an object with the prior session's `date`";
    let reader = ObjectReader::open(&field, expected, PRIOR_SESSION_FIELDS, problems)?;
    let date = reader.required("date", problems).and_then(|f| date(&f, problems));
    let plan_id = optional(reader.optional("plan_id"), |f| owned_text(f, problems));
    Some(PriorSession { index, date: date?, plan_id: plan_id? })
}

/// [`text`], kept.
fn owned_text(field: &Field<'_, '_>, problems: &mut Problems) -> Option<String> {
    text(field, problems).map(str::to_string)
}

/// The value of `key` in `node`, when `node` is an object that has it.
fn entry<'a>(node: &'a Node<'a>, key: &str) -> Option<&'a Node<'a>> {
    let Node::Object(entries) = node else { return None };
    entries.iter().find(|(k, _)| k == key).map(|(_, value)| value)
}

/// A string that can name the plan or patient in a verdict.
fn readable_text(node: Option<&Node<'_>>) -> Option<String> {
    match node {
        Some(Node::String(value)) if !value.trim().is_empty() => Some(value.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
