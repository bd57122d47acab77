//! The recorder: the one writer of a root's decision log, patient history
//! and outcome folders. Every plan embolint records, whichever way it came
//! in, is read, judged, recorded, entered in the history, given its verdict
//! file and moved by this component, in batches that share one disk sync.
//!
//! # Who calls whom
//! ```text
//!  folder drops ──► inbox/ ◄── HTTP /v1/plans, CDS order-sign (crate::serve::staging:
//!                     │          written, synced, renamed in under a name made
//!                     │          from the idempotency key)
//!        crate::watch (the loop): lists the inbox, waits for plans to settle
//!                     │
//!                     ▼  Recorder::record(ready names, rules)  — one batch
//!   claim ─► judge ─► [history rows into the batch transaction; the
//!                      shared history (PostgreSQL) commits it here, before
//!                      the log: see patient_history]
//!                     │
//!                     ▼  batch::record — the group commit (loop thread)
//!   records appended, ONE log sync ║ temporary sidecars written, ONE
//!                     │               sync of the file system (placer thread)
//!   ─► audit key moved on, history commit ║ batch::place (placer thread,
//!                     │      while the loop reads and judges the next batch):
//!                     │      renames (sidecar, then plan) ─► folder syncs
//!                     │      ─► Intake::appended (the follower:
//!                     │      crate::serve): the decision index catches
//!                     │      up; waiting HTTP requests get their record
//!                     ▼  back on the loop thread, before the next batch's
//!                        records: plan-not-placed records, if any (the
//!                        follower is told again)
//! ```
//! The folder watcher ([`crate::watch`]) owns the recorder and calls it
//! from its one loop thread: [`Recorder::record`] for the plans that are
//! ready, [`Recorder::finish`] when nothing more is ready (the batch being
//! placed is finished before the loop waits), [`Recorder::record_events`]
//! for events another intake hands over (CDS Hooks feedback),
//! [`Recorder::carry_out_requests`] for withdrawals.
//! The HTTP service never writes the log, the history or an outcome folder:
//! it stages plans into the inbox and follows the recorder through
//! [`intake::Intake`], the trait the recorder calls back.
//!
//! # Group commit
//! It happens in [`batch::record`], once per batch of up to `batch_size`
//! plans (whatever their intake): every record of the batch is appended
//! with one write and made durable with one sync of the log, while the
//! placer writes the batch's verdict files under temporary names and syncs
//! them (one sync of the file system); then the history
//! transaction that holds the batch's passed plans commits while
//! [`batch::place`] names the verdict files, moves the plans and syncs the
//! folders once. A request of `/v1/plans` is answered only after its
//! plan's batch is placed, so its 201 always names a durable record.
//!
//! # Two batches at once
//! Placing a batch is mostly waiting on the file system, so it runs on a
//! thread of its own ([`placer`]) while the loop reads and judges the next
//! batch. The overlap is bounded so that nothing is judged or recorded on
//! a state that is not final:
//! - the next batch is judged only after this one's history rows are
//!   committed, so two plans of one patient in consecutive batches are
//!   judged against each other (the spacing rule);
//! - its records are written only after this one is placed and synced, so
//!   after a crash only the log's final batch can be unfinished;
//! - if a plan of this batch could not be placed (its history rows are
//!   taken out again), the next batch, judged with those rows, is judged
//!   again from the inbox instead of being recorded;
//! - the plans being placed are not taken up again meanwhile, and their
//!   outcome names are not chosen again;
//! - any other line of the log (withdrawals, CDS Hooks feedback) is
//!   written only after the batch being placed is finished.
//!
//! # Why both intakes stay exactly-once
//! The inbox is the one queue, and it is on disk. A dropped plan is there
//! before the recorder sees it; a plan received over HTTP is written there,
//! synced, under a name derived from its idempotency key, and the inbox's
//! entry is synced before the batch's records are written. So a plan either
//! is in the inbox (not yet recorded: it will be) or has its record in the
//! log (naming its inbox name, so its idempotency key), never both without
//! the log saying so: after a kill -9, [`recovery`] finishes the log's final
//! batch from its records, and a retried request finds its first record by
//! name, or its plan still waiting, and is never recorded twice
//! ([`intake::Intake::already_recorded`]). The next batch's records are
//! written only when the previous batch is placed and synced, so only the
//! final batch can be unfinished. A failed sync of the log, the history or
//! a folder (on either thread) stops the daemon ([`crate::watch::fatal`]):
//! nothing is answered as recorded that might not be.
//!
//! # Layout
//! - [`claim`]: reading one inbox file safely (no links, no FIFOs,
//!   size-limited, noticing changes).
//! - [`judge`]: the verdict on what was read.
//! - [`patient_history`]: judging with the patient history, recording
//!   passed plans in it, in step with the decision log; outages.
//! - [`batch`]: the crash-safe order of one batch: the group commit.
//! - [`placer`]: the thread that places recorded batches.
//! - [`outcome`]: unique names, sidecars, moves and syncs.
//! - [`unplaced`]: a judged plan that could not be placed: its record of
//!   its own, its history rows taken out again.
//! - [`recovery`]: finishing, at start-up, the batch a crash interrupted.
//! - [`forget`]: withdrawing a cancelled plan from the history.
//! - [`intake`]: what the recorder tells another intake that follows it.
//! - [`failpoint`]: a test hook that crashes the daemon at an exact step.
//! - [`taking`]: one plan of a batch, from its inbox name to its judged
//!   record (the step before the group commit).

pub mod batch;
pub mod claim;
pub mod failpoint;
pub mod forget;
pub mod intake;
pub mod judge;
pub mod outcome;
pub mod patient_history;
pub mod placer;
pub mod recovery;
pub mod taking;
pub mod unplaced;

use crate::audit::decision_log::DecisionLog;
use crate::history::HistoryUrl;
use crate::rules::RuleSet;
use crate::watch::fatal::{storage, Fatal};
use crate::watch::layout::{Folders, Layout};
use batch::Judged;
use claim::Fingerprint;
use intake::Intake;
use patient_history::PatientHistory;
use placer::Placer;
use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use unplaced::NotPlacedEvent;

/// The one writer of a root's decision log, history and outcome folders.
pub struct Recorder {
    /// The root's inbox and outcome folders, held open: plans are read and
    /// verdict files written and moved only through these, so nothing
    /// lands outside the root. Shared with the placing thread.
    folders: Arc<Folders>,
    /// The decision log, the source of truth.
    log: DecisionLog,
    /// The patient history, judged against and recorded into.
    history: PatientHistory,
    /// Where withdrawal requests wait (`state/requests`).
    requests: PathBuf,
    /// Another intake that follows the records (the HTTP service), if any.
    follower: Option<Arc<dyn Intake>>,
    /// The thread that places recorded batches (started with the first).
    placer: Option<Placer>,
    /// The batch recorded and being placed, if any.
    in_flight: Option<InFlight>,
    /// What became of the plans taken up, not yet told to the intake that
    /// listed them (see [`Recorder::take_done`]).
    done: Vec<(OsString, Taken)>,
}

/// A batch whose records are written and whose plans are being placed.
struct InFlight {
    /// Its plans' inbox names: not taken up again meanwhile.
    names: HashSet<OsString>,
    /// The outcome names it chose, not yet created: not chosen again.
    reserved: HashSet<PathBuf>,
}

/// How the plans of a batch are judged.
pub struct Judging<'a> {
    /// The rule set in force.
    pub rules: &'a RuleSet,
    /// Largest plan file read, in bytes; larger files are invalid.
    pub max_plan_bytes: u64,
    /// Set by SIGTERM/SIGINT: no plan is taken up after it is set (the
    /// plans in hand are recorded and placed).
    pub stop: &'a AtomicBool,
}

/// What became of one ready inbox plan handed to [`Recorder::record`]:
/// what the intake that listed it should do with that name now.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    /// Recorded (placed, or recorded as not placed): done.
    Recorded,
    /// No longer in the inbox (or a retried HTTP copy whose first copy is
    /// recorded, removed unrecorded): done.
    Gone,
    /// Changed since it was listed, or given a private copy (hard links):
    /// look at it again once it settles.
    LookAgain,
    /// Cannot be read now: try again later.
    Postponed,
}

/// A recorder just opened, and what opening it found.
pub struct Opened {
    /// The recorder.
    pub recorder: Recorder,
    /// What recovery finished of the batch a crash interrupted.
    pub recovered: recovery::Recovered,
    /// History changes the log held and the database lacked at start-up.
    pub owed_at_start: usize,
}

impl Recorder {
    /// Opens the decision log (cutting a record torn by a crash), finishes
    /// the batch a crash interrupted, records what recovery found could
    /// not be placed, and opens the history, catching it up with the log.
    /// With `history_url` the history is the shared one on PostgreSQL (see
    /// [`patient_history`]); without it, a root that was served with a
    /// shared history is refused (its own file is out of date).
    pub fn open(
        layout: &Layout,
        folders: Folders,
        max_plan_bytes: u64,
        history_url: Option<&HistoryUrl>,
    ) -> Result<Opened, Fatal> {
        let decisions = layout.decisions();
        let (mut log, tail) = DecisionLog::open(&decisions, &layout.state)
            .map_err(storage(format!("opening the decision log {}", decisions.display())))?;
        if tail.repaired_bytes > 0 || tail.unreadable_lines > 0 {
            tracing::warn!(
                cut_bytes = tail.repaired_bytes,
                unreadable_lines = tail.unreadable_lines,
                "the decision log ended in a record torn by a crash; it was cut (its plan was never moved and is judged again)"
            );
        }
        if tail.unchained_lines > 0 {
            tracing::warn!(
                lines = tail.unchained_lines,
                "the decision log ends in lines without the chain (seq, prev_sha256): written by an \
                 embolint without it, or altered; new lines are chained after them, and \
                 `embolint verify-log` reports where the chain breaks"
            );
        }
        crate::watch::log_seal(&tail.seal, layout);
        for dir in [&folders.writing, &folders.passed, &folders.failed, &folders.invalid] {
            outcome::remove_stale_temps_in(dir, outcome::TEMP_PREFIX)
                .map_err(storage(format!("cleaning {}", dir.path().display())))?;
        }
        outcome::remove_stale_temps(&layout.requests(), outcome::TEMP_PREFIX)
            .map_err(storage(format!("cleaning {}", layout.requests().display())))?;
        outcome::remove_stale_temps_in(&folders.inbox, claim::COPY_PREFIX)
            .map_err(storage(format!("cleaning {}", layout.inbox.display())))?;
        let mut recovered = recovery::recover(&folders, &tail, max_plan_bytes)?;
        let not_placed = record_not_placed(&mut log, &decisions, &mut recovered.not_placed)?;
        // The history catches up with the log's final batch now, or, if it
        // is unusable, as soon as it can be used (nothing is judged before).
        let mut owed = patient_history::owed_by(&tail);
        owed.extend(not_placed.into_iter().map(|e| patient_history::Owed::NotPlaced(Box::new(e))));
        let mut history = PatientHistory::new(layout, owed);
        match history_url {
            Some(url) => {
                let site = crate::history::site::id(&layout.state).map_err(storage(format!(
                    "reading this root's id in {}",
                    layout.state.display()
                )))?;
                crate::history::site::write_synced(
                    &layout.state,
                    crate::history::site::SHARED_MARKER,
                    &url.shown(),
                )
                .map_err(storage(format!(
                    "noting the shared history in {}",
                    layout.state.display()
                )))?;
                history = history.shared(url.clone(), site, layout, log.last_batch());
            }
            None => refuse_lost_shared_history(layout)?,
        }
        let owed_at_start = history.owed();
        history.usable(Instant::now())?;
        let recorder = Recorder {
            folders: Arc::new(folders),
            log,
            history,
            requests: layout.requests(),
            follower: None,
            placer: None,
            in_flight: None,
            done: Vec::new(),
        };
        Ok(Opened { recorder, recovered, owed_at_start })
    }

    /// Has `follower` told of every record from now on. Called before the
    /// first batch: the thread that places batches, started with the
    /// first, is given the follower then and tells it of each placed batch.
    pub fn follow_with(&mut self, follower: Arc<dyn Intake>) {
        self.follower = Some(follower);
    }

    /// The root's folders, held open.
    pub fn folders(&self) -> &Folders {
        &self.folders
    }

    /// The patient history.
    pub fn history(&self) -> &PatientHistory {
        &self.history
    }

    /// The decision log's path.
    pub fn log_path(&self) -> &Path {
        self.log.path()
    }

    /// Whether plans can be recorded now: the history is usable (it is
    /// tried again when its retry is due). An error is fatal.
    pub fn ready(&mut self, now: Instant) -> Result<bool, Fatal> {
        self.history.usable(now)
    }

    /// Judges and records one batch of ready inbox plans (at most
    /// `batch_size`, listed in the inbox by an intake): one decision record
    /// each, with one log sync for the batch, and hands it to the placing
    /// thread. Returns `false` when the history could not be used (then
    /// nothing was taken up; the plans stay in the inbox).
    ///
    /// Two batches overlap: this one is read and judged while the batch
    /// recorded before it is being placed; that one is finished (its fates
    /// known) before this one's records are written. What became of each
    /// name taken up is collected by [`Recorder::take_done`]; the plans of
    /// this batch are done once [`Recorder::finish`] (or the next call)
    /// has finished it. A plan left out of every answer (a stop, the
    /// history failing mid-batch, or a batch judged again) stays in the
    /// inbox as it was.
    pub fn record(
        &mut self,
        plans: &[(OsString, Fingerprint)],
        judging: &Judging,
    ) -> Result<bool, Fatal> {
        let batch = self.log.last_batch() + 1;
        if !self.history.usable(Instant::now())? || !self.history.begin_batch(batch) {
            return Ok(false);
        }
        let (judged, reserved) = self.judge_batch(plans, judging)?;
        if self.in_flight.is_some() {
            let not_placed = self.collect_in_flight()?;
            if !not_placed.is_empty() {
                // A plan of that batch was not placed: its history rows
                // are taken out, and this batch was judged with them. It
                // is judged again, from the inbox, once they are out.
                self.history.abandon_batch();
                if !judged.is_empty() {
                    tracing::info!(
                        plans = judged.len(),
                        "a plan of the batch before could not be placed: the plans judged \
                         meanwhile are judged again, without its history rows"
                    );
                }
                self.settle(not_placed)?;
                return Ok(true);
            }
            // The placer told the follower when it placed the batch.
        }
        if judged.is_empty() {
            self.history.finish_batch(Vec::new());
        } else {
            self.commit(judged, reserved)?;
        }
        Ok(true)
    }

    /// Waits for the batch being placed, if any, and finishes it (its
    /// `plan-not-placed` records, the intake told): when no more plans are
    /// ready, before anything else is written to the log, and at a stop.
    pub fn finish(&mut self) -> Result<(), Fatal> {
        if self.in_flight.is_none() {
            return Ok(());
        }
        let not_placed = self.collect_in_flight()?;
        self.settle(not_placed)
    }

    /// Whether a batch is being placed (call [`Recorder::finish`] before
    /// waiting for news).
    pub fn placing(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Whether the inbox plan `name` belongs to the batch being placed:
    /// it must not be listed as ready meanwhile.
    pub fn is_placing(&self, name: &OsStr) -> bool {
        self.in_flight.as_ref().is_some_and(|flight| flight.names.contains(name))
    }

    /// What became of the plans taken up since the last call, for the
    /// intake that listed them.
    pub fn take_done(&mut self) -> Vec<(OsString, Taken)> {
        std::mem::take(&mut self.done)
    }

    /// Judges the plans of one batch, inside the history's batch
    /// transaction; stops at the first plan the history fails for. Returns
    /// the judged plans and the outcome names they chose.
    fn judge_batch(
        &mut self,
        plans: &[(OsString, Fingerprint)],
        judging: &Judging,
    ) -> Result<(Vec<Judged>, HashSet<PathBuf>), Fatal> {
        let mut judged = Vec::with_capacity(plans.len());
        // The batch being placed has chosen names not created yet.
        let held = self.in_flight.as_ref().map(|f| f.reserved.clone()).unwrap_or_default();
        let mut reserved = held.clone();
        for (name, fingerprint) in plans {
            if judging.stop.load(Ordering::SeqCst) {
                break;
            }
            if self.is_placing(name) {
                continue;
            }
            let plan = taking::Plan { name, fingerprint };
            match taking::take(self, plan, judging, &mut reserved)? {
                taking::Outcome::Judged(mut plan) => {
                    if let Some(rows) = &plan.placement.history {
                        // What its rows replace, to put back if it is not placed.
                        let database = self.history.database();
                        plan.replaces = database.and_then(|h| h.plan(&rows.plan_id).ok().flatten());
                    }
                    let recorded =
                        plan.placement.history.as_ref().map_or(true, |rows| self.history.put(rows));
                    judged.push(*plan);
                    if !recorded {
                        break;
                    }
                }
                taking::Outcome::Left(then) => self.done.push((name.clone(), then)),
                taking::Outcome::NotNow => {}
                // Another daemon judges this patient now: the plan waits
                // for the next batch; this one is recorded as it stands.
                taking::Outcome::HistoryFailed(error) if error.is_patient_busy() => break,
                taking::Outcome::HistoryFailed(error) => {
                    self.history.fail(error);
                    break;
                }
            }
        }
        reserved.retain(|name| !held.contains(name));
        Ok((judged, reserved))
    }

    /// Records judged plans (see [`batch::record`]) and hands them to the
    /// placing thread.
    fn commit(&mut self, mut judged: Vec<Judged>, reserved: HashSet<PathBuf>) -> Result<(), Fatal> {
        // Plans staged by another intake: their names in the inbox are made
        // durable before their records.
        let staged =
            self.follower.as_ref().is_some_and(|i| judged.iter().any(|j| i.staged(&j.name)));
        let number = self.log.next_batch();
        for plan in &mut judged {
            plan.placement.batch = number;
        }
        let names = judged.iter().map(|plan| plan.name.clone()).collect();
        let placer = match self.placer.take() {
            Some(placer) => placer,
            None => Placer::start(Arc::clone(&self.folders), self.follower.clone())
                .map_err(storage("starting the thread that places plans"))?,
        };
        let placer = &*self.placer.insert(placer);
        let (folders, log, history) = (&self.folders, &mut self.log, &mut self.history);
        if !batch::record(folders, log, history, judged, staged, placer)? {
            // The shared history failed before the records were written:
            // nothing is recorded, the placer removed the batch's temporary
            // verdict files, and the plans stay in the inbox.
            return Ok(());
        }
        self.in_flight = Some(InFlight { names, reserved });
        Ok(())
    }

    /// Waits for the batch being placed and reports each plan's fate;
    /// returns the plans that could not be placed.
    fn collect_in_flight(&mut self) -> Result<Vec<NotPlacedEvent>, Fatal> {
        let Some(_flight) = self.in_flight.take() else { return Ok(Vec::new()) };
        let Some(placer) = &self.placer else { return Ok(Vec::new()) };
        let (judged, fates) = placer.wait()?;
        let mut not_placed = Vec::new();
        for (plan, fate) in judged.iter().zip(fates) {
            self.done.push((plan.name.clone(), Taken::Recorded));
            taking::report(plan, &fate);
            not_placed.extend(NotPlacedEvent::of(plan, &fate));
        }
        Ok(not_placed)
    }

    /// Records the plans a placed batch could not place (their history
    /// rows taken out) and tells the follower the log grew. (The batch's
    /// own records the placer told of when it placed the batch.)
    fn settle(&mut self, not_placed: Vec<NotPlacedEvent>) -> Result<(), Fatal> {
        if not_placed.is_empty() {
            return Ok(());
        }
        let recorded = unplaced::record(&mut self.log, &mut self.history, &not_placed);
        self.tell_appended();
        recorded
    }

    /// Appends the events another intake handed over (CDS Hooks
    /// feedback), synced, and tells it how things stand.
    pub fn record_events(&mut self, history_usable: bool, inbox_plans: usize) -> Result<(), Fatal> {
        let Some(follower) = self.follower.clone() else { return Ok(()) };
        if follower.events_waiting() {
            // Events follow every record of the batch being placed.
            self.finish()?;
        }
        let log = &mut self.log;
        let action = format!("syncing the decision log {}", log.path().display());
        follower.append_waiting(&mut |lines| log.append(lines)).map_err(storage(action))?;
        follower.status(history_usable, inbox_plans);
        follower.history_outage(self.history.outage());
        Ok(())
    }

    /// Carries out waiting withdrawal requests (between batches). Returns
    /// whether some are left because the history could not be used.
    pub fn carry_out_requests(&mut self) -> Result<bool, Fatal> {
        self.finish()?;
        forget::run_requests(&self.requests, &mut self.log, &mut self.history)?;
        self.tell_appended();
        Ok(self.history.outage().is_some())
    }

    /// Tells the follower the rule set in force (at start-up, on reload).
    pub fn tell_rules(&self, rules: &RuleSet) {
        if let Some(follower) = &self.follower {
            follower.rules_in_force(rules);
        }
    }

    /// Tells the follower that the log grew.
    pub fn tell_appended(&self) {
        if let Some(follower) = &self.follower {
            follower.appended();
        }
    }

    /// Whether another intake has already recorded the plan staged as
    /// `name` (see [`Intake::already_recorded`]).
    fn already_recorded(&self, name: &OsStr) -> bool {
        self.follower.as_ref().is_some_and(|follower| follower.already_recorded(name))
    }
}

/// A root that was served with a shared history must not quietly go back
/// to an empty SQLite file when the config loses its `history_url`: every
/// patient would be forgotten.
fn refuse_lost_shared_history(layout: &Layout) -> Result<(), Fatal> {
    match crate::history::site::shared_marker(&layout.state) {
        Some(shown) => Err(Fatal::Start(format!(
            "this root was served with the shared patient history {shown}, but no history_url \
             is set now: set it again (config history_url or --history-url). To go back to a \
             history of this root's own, remove {} after making sure that is meant",
            layout.state.join(crate::history::site::SHARED_MARKER).display()
        ))),
        None => Ok(()),
    }
}

/// Writes, synced, the `plan-not-placed` records recovery found missing,
/// each with the earlier version its rows had replaced (from the log), and
/// returns them for the history to apply.
fn record_not_placed(
    log: &mut DecisionLog,
    decisions: &Path,
    found: &mut Vec<NotPlacedEvent>,
) -> Result<Vec<NotPlacedEvent>, Fatal> {
    let mut events = std::mem::take(found);
    if events.is_empty() {
        return Ok(events);
    }
    for event in &mut events {
        if let Some(withdrawn) = &event.withdrawn {
            event.restored = unplaced::earlier_version(decisions, withdrawn)
                .map_err(storage(format!("reading the decision log {}", decisions.display())))?;
        }
    }
    let mut lines = Vec::new();
    for event in &events {
        let line = serde_json::to_vec(event).map_err(std::io::Error::other);
        lines.extend(line.map_err(storage("writing a plan-not-placed record"))?);
        lines.push(b'\n');
    }
    log.append(&lines)
        .map_err(storage(format!("syncing the decision log {}", decisions.display())))?;
    Ok(events)
}
