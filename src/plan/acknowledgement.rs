//! Reading the plan's `acknowledgements` strictly: findings the planners
//! have seen and accept, each with the rule it is about, optionally where in
//! the plan, why, and who accepts it. Whether a rule may be acknowledged at
//! all is the rule set's to say, not the reader's.

use super::fields::{Field, ObjectReader, Problems};
use super::parse::optional;
use super::pointer::JsonPointer;
use super::values::text;

/// One acknowledgement written in the plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Acknowledgement {
    /// Position in `acknowledgements`, for JSON Pointers: the findings about
    /// an acknowledgement point at it.
    pub index: usize,
    /// The id of the rule whose findings it accepts, exactly as written
    /// (rule ids are compared exactly).
    pub rule: String,
    /// Where in the plan, when the planners accept the rule's findings there
    /// and under it only; `None` accepts the rule's findings anywhere.
    pub path: Option<JsonPointer>,
    /// Why the planners accept the finding; carried by every finding it covers.
    pub reason: String,
    /// Who accepts it; carried by every finding it covers.
    pub by: String,
}

impl Acknowledgement {
    /// The JSON Pointer of this acknowledgement in the plan.
    pub fn pointer(&self) -> String {
        format!("/acknowledgements/{}", self.index)
    }
}

/// The fields of one acknowledgement.
pub(super) const ACKNOWLEDGEMENT_FIELDS: &[&str] = &["rule", "path", "reason", "by"];

/// The list of acknowledgements (it may be empty).
pub(super) fn acknowledgements(
    field: &Field<'_, '_>,
    problems: &mut Problems,
) -> Option<Vec<Acknowledgement>> {
    field.list("a list of acknowledgements", problems, acknowledgement)
}

fn acknowledgement(
    index: usize,
    field: Field<'_, '_>,
    problems: &mut Problems,
) -> Option<Acknowledgement> {
    let expected = "an acknowledgement: an object with `rule`, `reason`, `by` and, if it is \
                    about one place in the plan, `path`";
    let reader = ObjectReader::open(&field, expected, ACKNOWLEDGEMENT_FIELDS, problems)?;
    let rule = reader.required("rule", problems).and_then(|f| owned(&f, problems));
    let path = optional(reader.optional("path"), |f| pointer(f, problems));
    let reason = reader.required("reason", problems).and_then(|f| owned(&f, problems));
    let by = reader.required("by", problems).and_then(|f| owned(&f, problems));
    Some(Acknowledgement { index, rule: rule?, path: path?, reason: reason?, by: by? })
}

fn owned(field: &Field<'_, '_>, problems: &mut Problems) -> Option<String> {
    text(field, problems).map(str::to_string)
}

/// A JSON Pointer into the plan (RFC 6901), such as `/sessions/0/arteries/1`.
fn pointer(field: &Field<'_, '_>, problems: &mut Problems) -> Option<JsonPointer> {
    let written = text(field, problems)?;
    match JsonPointer::parse(written) {
        Ok(pointer) => Some(pointer),
        Err(why) => {
            let shown = super::json::quote(written);
            problems.add(&field.path, format!("{shown} is not a JSON Pointer: {why}"));
            None
        }
    }
}
