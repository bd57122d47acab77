//! The daemon's patient history (SPEC §5): judging with it, recording
//! passed plans in it, and keeping it in step with the decision log across
//! crashes and outages.
//!
//! # Consistency with the decision log
//! The decision log is the source of truth; the database follows it:
//!
//! 1. a batch opens one write transaction ([`PatientHistory::begin_batch`]);
//!    each plan is judged against the database *inside* it, and a plan that
//!    passes is written into it at once, so a later plan of the same patient
//!    in the same batch is judged against it;
//! 2. the batch's decision records are appended and synced — each passed
//!    plan's record carries its history rows (`watch.history`);
//! 3. the transaction commits ([`PatientHistory::finish_batch`], SQLite
//!    `synchronous=FULL`: durable when it returns); only then are sidecars
//!    written and plans moved.
//!
//! A crash before 2 leaves no record and no row (the transaction never
//! committed): the plans are judged again. A crash between 2 and 3 leaves
//! records without rows: at start-up, every passed record of the log's
//! final batch whose `decision_key` the database lacks is recorded from the
//! record itself (the plan file is not needed: it may have been moved or
//! removed since). The next batch is judged, and its records written, only
//! once the database holds the current one, so only the final batch can be
//! behind. A withdrawal
//! (`forget`) is an event written to the log before the rows are deleted;
//! events after the final batch are applied again at start-up. Replaying
//! is idempotent, and done in log order.
//!
//! # The shared history (PostgreSQL): the database first, then the log
//! With several daemons on one history, the order above would leave a
//! window — records on disk, rows not yet committed — in which a crash, or
//! a server lost at the commit, lets another daemon pass a conflicting plan
//! of the same patient: two passes. So with the shared history a batch
//! commits to the database *before* its records are written
//! ([`PatientHistory::before_log`]): its rows carry this root's id and batch
//! number, and the copy of each record goes with them. If the daemon stops
//! between that commit and the log, the database holds rows of a batch the
//! log never recorded — for a while they can only make another daemon
//! *fail* a plan, never pass one — and at the next start (or reconnection)
//! every row of this root with a batch number above the log's last batch
//! is taken back, putting back the version it had replaced
//! (`undo_unlogged`); the plans, still in the inbox, are judged again. A
//! commit that fails, or whose outcome is unknown, records nothing: the
//! plans stay in the inbox and the same clean-up runs once the server is
//! back. Records of the log the database lacks are applied only if their
//! decision never reached it (a restored backup): a revision or withdrawal
//! made since at another site is never undone.
//!
//! # Outages
//! When the database cannot be opened, is locked beyond its timeout, is
//! damaged, or goes missing, nothing is judged: plans stay in the inbox, the
//! cause is logged once per outage, and the database is tried again every
//! [`RETRY_EVERY`]. Changes the log holds but the database lacks are kept
//! ([`Owed`]) and applied first when it is back.

use super::failpoint::{self, Fault};
use super::forget::{self, ForgetEvent};
use super::unplaced::{self, NotPlacedEvent};
use crate::history::{History, HistoryError, HistoryUrl, Location, RecordedPlan};
use crate::watch::fatal::Fatal;
use crate::watch::layout::Layout;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often an unusable database is tried again.
pub const RETRY_EVERY: Duration = Duration::from_secs(2);

/// A change the decision log holds and the database may lack.
#[derive(Clone, Debug)]
pub enum Owed {
    /// A passed plan's rows (recorded unless its decision is already there).
    Record(RecordedPlan),
    /// A withdrawal (applied again: removing a removed plan changes nothing).
    Forget(ForgetEvent),
    /// A plan that could not be placed: its rows out again (idempotent).
    NotPlaced(Box<NotPlacedEvent>),
}

/// The open database and which file it is.
struct Opened {
    /// The connection.
    history: History,
    /// Device and inode of the file when opened, to notice it being
    /// replaced (a restored backup) or removed while open.
    file: (u64, u64),
}

/// The shared history this daemon writes to.
struct Shared {
    /// Its URL.
    url: HistoryUrl,
    /// This root's id in it.
    site: String,
    /// This root's folder, noted in the database for people.
    root: String,
    /// The last batch whose records are in this root's log: rows of this
    /// root with a later batch number were never recorded.
    logged_batch: u64,
    /// The batch of the open transaction.
    batch: u64,
    /// When the idle connection was last found alive.
    checked_at: Option<Instant>,
    /// The open batch is committed, its records not yet written.
    committed: bool,
}

/// The daemon's handle on the history database.
pub struct PatientHistory {
    /// `ROOT/state/history.sqlite`.
    path: PathBuf,
    /// The decision log: when it holds decisions, a missing database is an
    /// outage, never silently replaced by an empty one.
    decisions: PathBuf,
    /// Where forget requests and their results are.
    requests: PathBuf,
    /// The database, while usable.
    open: Option<Opened>,
    /// Changes to apply before anything else, in log order.
    owed: Vec<Owed>,
    /// A batch transaction is open and nothing failed in it.
    in_batch: bool,
    /// The cause of the current outage, logged when it began.
    outage: Option<String>,
    /// When to try again during an outage.
    retry_at: Option<Instant>,
    /// The shared history, when one is configured instead of the file.
    shared: Option<Shared>,
}

impl PatientHistory {
    /// The history of `layout`'s root, owing `owed` (from [`owed_by`]);
    /// nothing is opened yet.
    pub fn new(layout: &Layout, owed: Vec<Owed>) -> PatientHistory {
        PatientHistory {
            path: layout.history(),
            decisions: layout.decisions(),
            requests: layout.requests(),
            open: None,
            owed,
            in_batch: false,
            outage: None,
            retry_at: None,
            shared: None,
        }
    }

    /// The same, on the shared history at `url` instead of the root's file,
    /// as the root with id `site` whose log's last batch is `logged_batch`.
    pub fn shared(
        mut self,
        url: HistoryUrl,
        site: String,
        layout: &Layout,
        logged_batch: u64,
    ) -> PatientHistory {
        let root = layout.root.display().to_string();
        self.shared = Some(Shared {
            url,
            site,
            root,
            logged_batch,
            batch: 0,
            checked_at: None,
            committed: false,
        });
        self
    }

    /// Where the history is, for readers (the service's dry runs).
    pub fn location(&self) -> Location {
        match &self.shared {
            Some(shared) => Location::Postgres(shared.url.clone()),
            None => Location::File(self.path.clone()),
        }
    }

    /// The history as shown in messages: the file, or the URL without its
    /// password.
    pub fn shown(&self) -> String {
        self.location().shown()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Changes still owed to the database.
    pub fn owed(&self) -> usize {
        self.owed.len()
    }

    /// The cause of the current outage, if any.
    pub fn outage(&self) -> Option<&str> {
        self.outage.as_deref()
    }

    /// When an unusable database is next tried, if it is unusable.
    pub fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }

    /// Whether plans may be judged now: the database is open, is still the
    /// file that was opened, and owes nothing. During an outage, tries to
    /// open it and apply what is owed, at most every [`RETRY_EVERY`].
    pub fn usable(&mut self, now: Instant) -> Result<bool, Fatal> {
        if let Some(opened) = self.open.as_ref().filter(|_| self.shared.is_none()) {
            if file_identity(&self.path) != Some(opened.file) {
                tracing::warn!(history = %self.shown(), "the history database file was replaced or removed while open; opening it again");
                self.open = None;
            }
        }
        self.check_shared_connection(now);
        if self.open.is_some() && self.owed.is_empty() {
            return Ok(true);
        }
        if self.retry_at.is_some_and(|at| now < at) {
            return Ok(false);
        }
        match self.restore() {
            Ok(()) => {
                if self.outage.take().is_some() {
                    tracing::info!(history = %self.shown(), "the patient history is usable again; judging the plans waiting in the inbox");
                }
                self.retry_at = None;
                self.finish_requests()?;
                Ok(true)
            }
            Err(error) => {
                self.fail(error);
                Ok(false)
            }
        }
    }

    /// The open database, to judge with (`None` during an outage).
    pub fn database(&self) -> Option<&History> {
        self.open.as_ref().map(|o| &o.history)
    }

    /// Opens the transaction of batch `batch` (taking the write lock now);
    /// `false` (and an outage) when it cannot be taken.
    pub fn begin_batch(&mut self, batch: u64) -> bool {
        let Some(opened) = &self.open else { return false };
        if let Some(shared) = &mut self.shared {
            shared.batch = batch;
            shared.committed = false;
        }
        match opened.history.begin_batch(batch) {
            Ok(()) => {
                self.in_batch = true;
                true
            }
            Err(error) => {
                self.fail(error);
                false
            }
        }
    }

    /// Writes a passed plan into the open batch, so the rest of the batch is
    /// judged against it; `false` (and an outage) when that failed — the
    /// plan's rows are then owed once its record is written.
    pub fn put(&mut self, plan: &RecordedPlan) -> bool {
        let Some(opened) = self.open.as_ref().filter(|_| self.in_batch) else { return false };
        match opened.history.put(plan) {
            Ok(()) => true,
            Err(error) => {
                self.fail(error);
                false
            }
        }
    }

    /// Before the batch's records (`lines`) are written: with the shared
    /// history, stores their copies and commits the batch (see the module
    /// documentation). `false` when that failed or the batch was already
    /// lost: then nothing may be recorded, and the plans stay in the inbox.
    /// Nothing to do for the SQLite history, which commits after the log.
    pub fn before_log(&mut self, lines: &[u8]) -> bool {
        if let (Some(_), Err(error)) = (&self.shared, failpoint::fault(Fault::SharedHistory)) {
            let url = self.shown();
            self.fail(HistoryError::Server { url, detail: error.to_string() });
            return false;
        }
        let Some(shared) = &mut self.shared else { return true };
        let Some(opened) = self.open.as_ref().filter(|_| self.in_batch) else { return false };
        let History::Postgres(db) = &opened.history else { return false };
        match db.store_decisions(lines).and_then(|()| db.commit()) {
            Ok(()) => {
                shared.committed = true;
                true
            }
            Err(error) => {
                self.fail(error);
                false
            }
        }
    }

    /// After the batch's records are synced: commits its transaction, or,
    /// if that cannot be done, owes `passed` (the rows of its passed plans)
    /// to the database. The shared history committed before the log: the
    /// batch is now recorded there too. A batch that recorded nothing (no
    /// plan was judged) is abandoned.
    pub fn finish_batch(&mut self, passed: Vec<RecordedPlan>) {
        let in_batch = std::mem::replace(&mut self.in_batch, false);
        if let Some(shared) = &mut self.shared {
            if std::mem::replace(&mut shared.committed, false) {
                shared.logged_batch = shared.batch;
            } else if let Some(opened) = &self.open {
                opened.history.rollback();
            }
            return;
        }
        let committed = match &self.open {
            Some(opened) if in_batch => opened.history.commit(),
            _ => {
                self.owed.extend(passed.into_iter().map(Owed::Record));
                return;
            }
        };
        if let Err(error) = committed {
            self.fail(error);
            self.owed.extend(passed.into_iter().map(Owed::Record));
        }
    }

    /// Abandons the open batch before anything of it is recorded: its rows
    /// are rolled back (its plans, judged but not recorded, stay in the
    /// inbox and are judged again).
    pub fn abandon_batch(&mut self) {
        if !std::mem::replace(&mut self.in_batch, false) {
            return;
        }
        if let Some(shared) = &mut self.shared {
            shared.committed = false;
        }
        if let Some(opened) = &self.open {
            opened.history.rollback();
        }
    }

    /// Applies a withdrawal already written to the log; on failure it is
    /// owed (and applied, and its request answered, once the database is
    /// back) and `false` is returned.
    pub fn apply_forget(&mut self, event: &ForgetEvent) -> bool {
        let Some(opened) = &self.open else {
            self.owed.push(Owed::Forget(event.clone()));
            return false;
        };
        let history = &opened.history;
        let done =
            history.begin().and_then(|()| withdraw(history, event)).and_then(|_| history.commit());
        match done {
            Ok(()) => true,
            Err(error) => {
                self.fail(error);
                self.owed.push(Owed::Forget(event.clone()));
                false
            }
        }
    }

    /// Takes the rows of a plan that could not be placed out of the history
    /// (its event already in the log); on failure that is owed.
    pub fn apply_not_placed(&mut self, event: &NotPlacedEvent) {
        let Some(opened) = &self.open else {
            self.owed.push(Owed::NotPlaced(Box::new(event.clone())));
            return;
        };
        let history = &opened.history;
        let done = history
            .begin()
            .and_then(|()| unplaced::undo(history, event))
            .and_then(|_| history.commit());
        if let Err(error) = done {
            self.fail(error);
            self.owed.push(Owed::NotPlaced(Box::new(event.clone())));
        }
    }

    /// Starts (or continues) an outage: abandons the open transaction,
    /// closes the database, logs the cause once, and schedules a retry.
    pub fn fail(&mut self, error: HistoryError) {
        if let Some(opened) = self.open.take() {
            opened.history.rollback();
        }
        self.in_batch = false;
        self.retry_at = Some(Instant::now() + RETRY_EVERY);
        let cause = error.to_string();
        if self.outage.is_none() {
            tracing::error!(
                history = %self.shown(),
                retry_every_secs = RETRY_EVERY.as_secs(),
                "patient history unavailable: {cause}. No plan is judged until it is usable \
                 again: plans stay in the inbox, and embolint tries again every {} seconds",
                RETRY_EVERY.as_secs()
            );
            self.outage = Some(cause);
        } else {
            tracing::debug!(%cause, "patient history still unavailable; trying again later");
        }
    }

    /// Opens the database if needed and applies what is owed, in one write
    /// transaction — taken even when nothing is owed: a database that can be
    /// read but not written (locked) is still unusable, since every batch
    /// writes.
    fn restore(&mut self) -> Result<(), HistoryError> {
        if self.open.is_none() && self.shared.is_some() {
            self.open_shared()?;
        }
        if self.open.is_none() {
            let history = if log_holds_decisions(&self.decisions) {
                History::open_existing(&self.path)?
            } else {
                History::open(&self.path)?
            };
            let file = file_identity(&self.path)
                .ok_or_else(|| HistoryError::Missing { path: self.path.display().to_string() })?;
            self.open = Some(Opened { history, file });
        }
        let Some(opened) = &self.open else { return Ok(()) };
        let history = &opened.history;
        history.begin()?;
        let mut applied = 0;
        if let (History::Postgres(db), Some(shared)) = (history, &self.shared) {
            let undone = db.undo_unlogged(shared.logged_batch)?;
            if undone > 0 {
                tracing::warn!(
                    plans = undone,
                    "took back from the shared history the rows of a batch whose decisions never \
                     reached this root's log (embolint stopped, or the server was lost, between \
                     the two); those plans are still in the inbox and are judged again"
                );
            }
        }
        for change in &self.owed {
            match change {
                Owed::Record(plan) => {
                    if !history.has_decision(&plan.decision_key)? {
                        history.put(plan)?;
                        applied += 1;
                    }
                }
                Owed::Forget(event) => {
                    applied += usize::from(withdraw(history, event)?);
                }
                Owed::NotPlaced(event) => {
                    applied += usize::from(unplaced::undo(history, event)?);
                }
            }
        }
        history.commit()?;
        if applied > 0 {
            tracing::info!(
                changes = applied,
                "the patient history caught up with the decision log"
            );
        }
        Ok(())
    }

    /// While idle, asks the shared history's server, at most every
    /// [`RETRY_EVERY`], whether it is still there: a server gone is an
    /// outage (logged, and said by `/readyz`) before any plan arrives.
    fn check_shared_connection(&mut self, now: Instant) {
        let Some(shared) = &mut self.shared else { return };
        let Some(Opened { history: History::Postgres(db), .. }) = &self.open else { return };
        if shared.checked_at.is_some_and(|at| now < at + RETRY_EVERY) {
            return;
        }
        shared.checked_at = Some(now);
        if let Err(error) = db.ping() {
            self.fail(error);
        }
    }

    /// Connects to the shared history (migrating its schema) and notes this
    /// root in it.
    fn open_shared(&mut self) -> Result<(), HistoryError> {
        let Some(shared) = &self.shared else { return Ok(()) };
        let history = History::open_shared(shared.url.secret(), &shared.site)?;
        if let History::Postgres(db) = &history {
            db.note_site(&shared.root)?;
        }
        self.open = Some(Opened { history, file: (0, 0) });
        Ok(())
    }

    /// After owed changes are applied: answers the forget requests whose
    /// withdrawal was among them.
    fn finish_requests(&mut self) -> Result<(), Fatal> {
        for change in std::mem::take(&mut self.owed) {
            if let Owed::Forget(event) = change {
                forget::finish_request(&self.requests, &event)?;
            }
        }
        Ok(())
    }
}

/// Inside an open transaction: removes the version of the plan that a
/// withdrawal named, if it is still the one in force (a later revision,
/// perhaps passed at another site, is not withdrawn by it). Whether
/// anything changed.
fn withdraw(history: &History, event: &ForgetEvent) -> Result<bool, HistoryError> {
    let now = history.plan(&event.plan_id)?;
    if now.as_ref().map(|p| &p.decision_key) != Some(&event.withdrawn.decision_key) {
        return Ok(false);
    }
    Ok(history.remove(&event.plan_id)?.is_some())
}

/// What the log's tail says the database may lack: the passed plans of the
/// final batch, then the withdrawals written after it.
pub fn owed_by(tail: &crate::audit::decision_log::Tail) -> Vec<Owed> {
    let records = tail.final_batch.iter().filter_map(|d| d.placement.history.clone());
    let mut owed: Vec<Owed> = records.map(Owed::Record).collect();
    for event in &tail.trailing_events {
        match serde_json::from_value::<ForgetEvent>(event.clone()) {
            Ok(event) if event.event == forget::EVENT => owed.push(Owed::Forget(event)),
            _ if event.get("event").and_then(|e| e.as_str()) == Some(unplaced::EVENT) => {
                match serde_json::from_value::<NotPlacedEvent>(event.clone()) {
                    Ok(event) => owed.push(Owed::NotPlaced(Box::new(event))),
                    Err(_) => tracing::warn!(
                        seq = %event.get("seq").unwrap_or(&serde_json::Value::Null),
                        "a plan-not-placed record of the decision log cannot be read; ignored"
                    ),
                }
            }
            // The audit's own events and CDS Hooks' (feedback, a plan
            // that was not checked) change nothing in the history.
            _ if event
                .get("event")
                .and_then(|e| e.as_str())
                .is_some_and(|e| e.starts_with("audit-") || e.starts_with("cds-")) => {}
            // Named by its place, not its content: it may name a patient.
            _ => tracing::warn!(
                event = %event.get("event").unwrap_or(&serde_json::Value::Null),
                seq = %event.get("seq").unwrap_or(&serde_json::Value::Null),
                "decision log event not understood; ignored"
            ),
        }
    }
    owed
}

/// Whether the decision log holds anything (or cannot be looked at: then
/// the safer answer).
fn log_holds_decisions(decisions: &Path) -> bool {
    std::fs::metadata(decisions).map_or(true, |m| m.len() > 0)
}

/// Device and inode of a file, if it exists.
fn file_identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(plan_id: &str, key: &str, date: &str) -> RecordedPlan {
        RecordedPlan {
            plan_id: plan_id.into(),
            patient_id: "P".into(),
            file_sha256: "ab".into(),
            recorded_at: "2026-10-20T10:00:00Z".parse().unwrap(),
            rule_set_sha256: "cd".into(),
            decision_key: key.into(),
            sessions: vec![(0, Some(1), date.parse().unwrap())],
            prior_sessions: Vec::new(),
        }
    }

    fn forget(plan: &RecordedPlan) -> ForgetEvent {
        ForgetEvent {
            event: forget::EVENT.into(),
            plan_id: plan.plan_id.clone(),
            patient_id: plan.patient_id.clone(),
            by: "ops".into(),
            reason: "cancelled".into(),
            requested_at: plan.recorded_at,
            at: plan.recorded_at,
            request: None,
            withdrawn: plan.clone(),
        }
    }

    fn layout() -> (tempfile::TempDir, Layout) {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        layout.create().unwrap();
        std::fs::write(layout.decisions(), "").unwrap();
        (dir, layout)
    }

    #[test]
    fn owed_changes_are_applied_in_log_order_and_again_without_harm() {
        let (_dir, layout) = layout();
        let (a, b, a2) = (
            plan("A", "k1", "2026-01-05"),
            plan("B", "k2", "2026-03-05"),
            plan("A", "k3", "2026-05-05"),
        );
        let owed = vec![
            Owed::Record(a.clone()),
            Owed::Record(b.clone()),
            Owed::Forget(forget(&b)),
            Owed::Record(a2.clone()),
        ];
        for _ in 0..2 {
            let mut history = PatientHistory::new(&layout, owed.clone());
            assert!(history.usable(Instant::now()).unwrap());
            assert_eq!(history.owed(), 0);
            assert_eq!(history.database().unwrap().plans().unwrap(), std::slice::from_ref(&a2));
        }
    }

    #[test]
    fn a_missing_database_with_decisions_in_the_log_is_an_outage_not_a_new_history() {
        let (_dir, layout) = layout();
        std::fs::write(layout.decisions(), "{}\n").unwrap();
        let mut history = PatientHistory::new(&layout, Vec::new());
        assert!(!history.usable(Instant::now()).unwrap());
        assert!(history.outage().unwrap().contains("missing"), "{:?}", history.outage());
        assert!(!layout.history().exists());
        assert!(history.retry_at().is_some());
    }

    #[test]
    fn a_batch_that_cannot_commit_owes_its_rows() {
        let (_dir, layout) = layout();
        let mut history = PatientHistory::new(&layout, Vec::new());
        assert!(history.usable(Instant::now()).unwrap());
        history.finish_batch(vec![plan("A", "k1", "2026-01-05")]);
        assert_eq!(history.owed(), 1, "no batch was open: the rows are owed");
        assert!(history.usable(Instant::now()).unwrap(), "and applied on the next look");
        assert_eq!(history.database().unwrap().plans().unwrap().len(), 1);
    }
}
