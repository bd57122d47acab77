//! Other intakes of the same recorder. The recorder (run by the daemon's
//! loop) is the one writer of the decision log, the history and the outcome
//! folders; another intake in the same process (the HTTP service,
//! `crate::serve`) feeds it and follows it through this trait, never by
//! writing itself:
//!
//! - a plan it receives is put into the inbox under a name of its own
//!   (see `crate::serve::staging`) and judged, recorded and placed by the
//!   recorder like any dropped plan, in the same batches (one log sync per
//!   batch: the group commit);
//! - an event it must record (CDS Hooks feedback) is handed over here and
//!   appended by the recorder between batches;
//! - it learns that the log grew, which rules are in force, and whether the
//!   history can be used, from the calls below.

use crate::rules::RuleSet;
use std::io;

/// What the recorder tells, and takes from, another intake.
pub trait Intake: Send + Sync {
    /// Appends the events waiting to be recorded, with `append` (one call,
    /// the lines synced when it returns `Ok`), and tells their senders.
    /// An error is fatal to the daemon: nothing waiting is told "recorded".
    fn append_waiting(&self, append: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()>;
    /// Whether events wait to be appended (see `append_waiting`).
    fn events_waiting(&self) -> bool;
    /// The decision log grew (its new lines are synced, and the plans of
    /// its new records are placed).
    fn appended(&self);
    /// The rule set in force, at start-up and after every reload.
    fn rules_in_force(&self, rules: &RuleSet);
    /// Whether the inbox plan `name` is a copy of a plan this intake staged
    /// that already has its record (a retry that raced the first one's
    /// move): it is then taken out of the inbox unrecorded, so one
    /// idempotency key never gets two records.
    fn already_recorded(&self, name: &std::ffi::OsStr) -> bool;
    /// Whether the inbox plan `name` was staged by this intake: its data is
    /// synced, but its name in the inbox is made durable by the loop, once
    /// for the whole batch, before the batch's records are written.
    fn staged(&self, name: &std::ffi::OsStr) -> bool;
    /// Whether the patient history can be used now, and how many plans the
    /// inbox holds that are not yet judged.
    fn status(&self, history_usable: bool, inbox_plans: usize);
    /// Why the patient history cannot be used now (`None` once it can), so
    /// that readiness checks can say why.
    fn history_outage(&self, _cause: Option<&str>) {}
}
