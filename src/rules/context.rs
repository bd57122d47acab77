//! What the rules are given besides the plan: what the patient history
//! says of this plan's patient and of this plan's id. The rules' own small
//! types, filled in by the caller from whatever keeps the history
//! ([`crate::check`] does it from [`crate::history`]).

use jiff::civil::Date;

/// What the rules need besides the plan.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context<'a> {
    /// What the history holds for this plan; `None` when the plan is
    /// checked without a history (then `plan-revision` does not apply).
    pub history: Option<&'a PatientHistory>,
}

impl Context<'_> {
    /// The sessions of the patient's other plans (none without a history).
    pub fn past_sessions(&self) -> &[PastSession] {
        self.history.map_or(&[], |history| history.sessions.as_slice())
    }
}

/// What the patient history holds that bears on one plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatientHistory {
    /// Sessions of the patient's other plans that passed earlier: never
    /// sessions of this plan's own earlier version, never another
    /// patient's.
    pub sessions: Vec<PastSession>,
    /// The plan recorded under this plan's `plan_id`, if one is: a revision
    /// must be of the same patient.
    pub same_plan_id: Option<RecordedVersion>,
}

/// A session of another plan of this patient, recorded in the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PastSession {
    /// The plan it belongs to, named in findings.
    pub plan_id: String,
    /// The plan that recorded it as one of its `prior_sessions`; `None`
    /// for a planned session of `plan_id`.
    pub listed_by: Option<String>,
    /// The session's `number` in that plan, when it had one.
    pub number: Option<u64>,
    /// Its position in that plan's `sessions`; names it when it had no
    /// number.
    pub index: usize,
    /// The day of the session: what spacing is measured from.
    pub date: Date,
    /// The day (UTC) the plan was judged and recorded, named in findings.
    pub recorded_on: Date,
}

/// The plan the history holds under a plan id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedVersion {
    /// The patient it was recorded for. Never shown: it may be another
    /// patient's.
    pub patient_id: String,
    /// When it was recorded, named in findings.
    pub recorded_at: jiff::Timestamp,
}
