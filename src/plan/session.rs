//! Reading the planned sessions strictly: arteries with their embolic and
//! drugs, sedation, post-procedure care and follow-up (SPEC §1).

use super::fields::{Field, ObjectReader, Pointer, Problems};
use super::json::{clip, Node};
use super::parse::optional;
use super::values::{date, flag, name, positive, positive_whole, quantity};
use super::{
    Artery, Dimension, DrugDose, Embolic, ParticleRange, PostProcedureDrug, Sedative, SedativeDose,
    Session,
};
use crate::names::Names;

/// The non-empty list of planned sessions.
pub(super) fn sessions(
    field: &Field<'_, '_>,
    names: &Names,
    problems: &mut Problems,
) -> Option<Vec<Session>> {
    if matches!(field.node, Node::Array(items) if items.is_empty()) {
        problems.add(&field.path, "no session is planned; add at least one session to `sessions`");
        return None;
    }
    field.list("a list of sessions", problems, |index, item, problems| {
        session(index, &item, names, problems)
    })
}

pub(super) const SESSION_FIELDS: &[&str] =
    &["number", "date", "arteries", "sedation", "post_procedure", "follow_up_days"];

fn session(
    index: usize,
    field: &Field<'_, '_>,
    names: &Names,
    problems: &mut Problems,
) -> Option<Session> {
    let reader = ObjectReader::open(field, "a session object", SESSION_FIELDS, problems)?;
    let number = optional(reader.optional("number"), |f| positive_whole(f, problems));
    let date = reader.required("date", problems).and_then(|f| date(&f, problems));
    let arteries = reader.required("arteries", problems).and_then(|f| {
        f.list("a list of arteries", problems, |i, item, problems| {
            artery(i, &item, names, problems)
        })
    });
    let sedation = optional(reader.optional("sedation"), |f| {
        f.list("a list of sedatives", problems, |i, item, problems| sedative(i, item, problems))
    });
    let post_procedure = optional(reader.optional("post_procedure"), |f| {
        f.list("a list of post-procedure drugs", problems, |i, item, problems| {
            post_procedure_drug(i, item, problems)
        })
    });
    let follow_up = optional(reader.optional("follow_up_days"), |f| {
        f.list("a list of days", problems, |_, item, problems| positive_whole(&item, problems))
    });
    Some(Session {
        index,
        number: number?,
        date: date?,
        arteries: arteries?,
        sedation: sedation?.unwrap_or_default(),
        post_procedure: post_procedure?.unwrap_or_default(),
        follow_up_days: follow_up?.unwrap_or_default(),
    })
}

pub(super) const ARTERY_FIELDS: &[&str] =
    &["name", "origin", "diameter_mm", "shares_origin_with_spinal_artery", "embolic", "drugs"];

fn artery(
    index: usize,
    field: &Field<'_, '_>,
    names: &Names,
    problems: &mut Problems,
) -> Option<Artery> {
    let reader = ObjectReader::open(field, "an artery object", ARTERY_FIELDS, problems)?;
    let artery_name = reader.required("name", problems).and_then(|f| name(&f, problems));
    let origin = optional(reader.optional("origin"), |f| name(f, problems));
    let diameter = reader
        .required("diameter_mm", problems)
        .and_then(|f| positive(&f, "the diameter", "mm", problems));
    let shares = reader
        .required("shares_origin_with_spinal_artery", problems)
        .and_then(|f| flag(&f, problems));
    let embolic = optional(reader.optional("embolic"), |f| embolic(f, names, problems));
    let drugs = optional(reader.optional("drugs"), |f| {
        f.list("a list of drugs", problems, |i, item, problems| drug(i, item, problems))
    });
    Some(Artery {
        index,
        name: artery_name?,
        origin: origin?,
        diameter_mm: diameter?,
        shares_origin_with_spinal_artery: shares?,
        embolic: embolic?,
        drugs: drugs?.unwrap_or_default(),
    })
}

pub(super) const EMBOLIC_FIELDS: &[&str] = &["agent", "particle_size_um"];

fn embolic(field: &Field<'_, '_>, names: &Names, problems: &mut Problems) -> Option<Embolic> {
    let expected = "an object with the embolic `agent`";
    let reader = ObjectReader::open(field, expected, EMBOLIC_FIELDS, problems)?;
    let agent = reader.required("agent", problems).and_then(|f| name(&f, problems));
    let range = optional(reader.optional("particle_size_um"), |f| particle_range(f, problems));
    let (agent, range) = (agent?, range?);
    if range.is_none() && names.names(&agent, "PVA") {
        problems.add(
            &Pointer::Key(&field.path, "particle_size_um"),
            format!(
                "missing `particle_size_um`: {} particles need their size range \
                 [min, max] in µm, for example [300, 600]",
                clip(&agent.written)
            ),
        );
        return None;
    }
    Some(Embolic { agent, particle_size_um: range })
}

/// `[min, max]` in µm, with 0 < min ≤ max.
fn particle_range(field: &Field<'_, '_>, problems: &mut Problems) -> Option<ParticleRange> {
    let expected = "a size range [min, max] in µm";
    let mut sizes = field.items(expected, problems)?;
    let count = sizes.len();
    let (Some(min), Some(max), None) = (sizes.next(), sizes.next(), sizes.next()) else {
        let message = format!("expected exactly two sizes [min, max] in µm, found {count}");
        problems.add(&field.path, message);
        return None;
    };
    let min = positive(&min, "a particle size", "µm", problems);
    let max = positive(&max, "a particle size", "µm", problems);
    let (min, max) = (min?, max?);
    if min > max {
        let message = format!(
            "the smallest size ({min} µm) is larger than the largest ({max} µm); write [min, max]"
        );
        problems.add(&field.path, message);
        return None;
    }
    Some(ParticleRange { min, max })
}

pub(super) const DRUG_FIELDS: &[&str] = &["name", "dose"];

fn drug(index: usize, field: Field<'_, '_>, problems: &mut Problems) -> Option<DrugDose> {
    let expected = "an object with the drug's `name` and `dose`";
    let reader = ObjectReader::open(&field, expected, DRUG_FIELDS, problems)?;
    let name = reader.required("name", problems).and_then(|f| name(&f, problems));
    let dose =
        reader.required("dose", problems).and_then(|f| quantity(&f, Dimension::Mass, problems));
    Some(DrugDose { index, name: name?, dose: dose? })
}

pub(super) const SEDATIVE_FIELDS: &[&str] = &["name", "rate", "bolus"];

fn sedative(index: usize, field: Field<'_, '_>, problems: &mut Problems) -> Option<Sedative> {
    let expected = "an object with the sedative's `name` and its `rate` or `bolus`";
    let reader = ObjectReader::open(&field, expected, SEDATIVE_FIELDS, problems)?;
    let name = reader.required("name", problems).and_then(|f| name(&f, problems));
    let rate = optional(reader.optional("rate"), |f| quantity(f, Dimension::Rate, problems));
    let bolus = optional(reader.optional("bolus"), |f| quantity(f, Dimension::Mass, problems));
    let dose = match (rate?, bolus?) {
        (Some(rate), None) => SedativeDose::Rate(rate),
        (None, Some(bolus)) => SedativeDose::Bolus(bolus),
        (Some(_), Some(_)) => {
            problems.add(&field.path, "give either `rate` or `bolus`, not both");
            return None;
        }
        (None, None) => {
            let message = "missing the dose: give `rate` (e.g. mg/h) or `bolus` (e.g. mg)";
            problems.add(&field.path, message);
            return None;
        }
    };
    Some(Sedative { index, name: name?, dose })
}

pub(super) const POST_PROCEDURE_FIELDS: &[&str] = &["name", "dose", "route"];

fn post_procedure_drug(
    index: usize,
    field: Field<'_, '_>,
    problems: &mut Problems,
) -> Option<PostProcedureDrug> {
    let expected = "an object with the drug's `name` and `dose`";
    let reader = ObjectReader::open(&field, expected, POST_PROCEDURE_FIELDS, problems)?;
    let drug = reader.required("name", problems).and_then(|f| name(&f, problems));
    let dose =
        reader.required("dose", problems).and_then(|f| quantity(&f, Dimension::Mass, problems));
    let route = optional(reader.optional("route"), |f| name(f, problems));
    Some(PostProcedureDrug { index, name: drug?, dose: dose?, route: route? })
}
