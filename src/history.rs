//! Sessions of other plans that embolint has already passed (SPEC §5).
//!
//! Only the record type lives here for now; the SQLite store comes with the
//! history issue. The checker already takes recorded sessions into account.

use jiff::civil::Date;

/// A session of a plan that passed earlier, as kept in the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedSession {
    pub patient_id: String,
    pub plan_id: String,
    /// The session's `number` in that plan, when it had one.
    pub number: Option<u64>,
    /// Position in that plan's `sessions`.
    pub index: usize,
    pub date: Date,
    /// When that plan was judged (UTC).
    pub recorded_at: jiff::Timestamp,
}
