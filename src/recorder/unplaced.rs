//! A judged plan that could not be placed: it vanished from the inbox, was
//! replaced there by another file, or changed after its reading, between
//! its decision record and its move.
//!
//! Its record stands (it says what was judged), but it names a place the
//! plan never reached. So the log gets a record of its own, a
//! `plan-not-placed` event, saying what became of it; and a plan that
//! passed has its rows taken out of the patient history again — a plan
//! that exists nowhere must not count against the patient's later plans.
//! If it had replaced an earlier version of the same plan id, that version
//! is put back, as a revision that never took effect leaves the earlier one
//! in force.
//!
//! Recovery finds the same for a record of the log's final batch whose
//! plan left the inbox while embolint was stopped; its record of its own
//! is written at start-up, once.
//!
//! The event is synced before the history is changed; at start-up, events
//! after the final batch are applied again (see `patient_history`), and the
//! history rebuild replays them in log order.

use super::batch::{Judged, Placed};
use super::forget;
use super::patient_history::PatientHistory;
use crate::audit::decision_log::{DecisionLog, PastDecision, Placement};
use crate::history::{History, HistoryError, RecordedPlan};
use crate::watch::fatal::{storage, Fatal};
use crate::watch::file_name;
use serde::{Deserialize, Serialize};
use std::io::{self, BufRead, BufReader};
use std::path::Path;

/// The `event` of a plan that could not be placed.
pub const EVENT: &str = "plan-not-placed";

/// A plan that could not be placed, as the decision log records it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct NotPlacedEvent {
    /// Always [`EVENT`].
    pub event: String,
    /// When it was found.
    pub at: jiff::Timestamp,
    /// The batch of its decision record.
    pub batch: u64,
    /// Its name in the inbox.
    pub inbox_name: String,
    /// Where its record said it would go.
    pub moved_to: String,
    /// sha256 of the version judged.
    pub sha256: String,
    /// Its verdict.
    pub verdict: String,
    /// Its plan id, when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    /// Its patient, when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<String>,
    /// `removed`, `replaced` or `changed`.
    pub reason: String,
    /// What happened, in words.
    pub message: String,
    /// Its history rows, taken out again (a plan that passed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<RecordedPlan>,
    /// The earlier version of the same plan id that its rows had replaced,
    /// put back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored: Option<RecordedPlan>,
}

impl NotPlacedEvent {
    /// The event for `plan`, whose fate was not [`Placed::Moved`].
    pub fn of(plan: &Judged, fate: &Placed) -> Option<NotPlacedEvent> {
        let (reason, message) = match fate {
            Placed::Moved => return None,
            Placed::Vanished => (
                "removed",
                "the plan was removed from the inbox by someone else after its reading, before \
                 it could be moved: it could not be placed"
                    .to_string(),
            ),
            Placed::Replaced => (
                "replaced",
                "another file took the plan's name in the inbox after its reading, before it \
                 could be moved: the plan judged could not be placed, and the new file is \
                 judged on its own"
                    .to_string(),
            ),
            Placed::Changed { back_as } => (
                "changed",
                format!(
                    "the plan changed after its reading (written again in place, or swapped at \
                     the moment of the move): the version judged could not be placed; the file \
                     was put back into the inbox as {} and is judged again",
                    file_name::display(back_as)
                ),
            ),
        };
        let verdict = &plan.verdict;
        let withdrawn = plan.placement.history.clone();
        Some(NotPlacedEvent {
            event: EVENT.into(),
            at: jiff::Timestamp::now(),
            batch: plan.placement.batch,
            inbox_name: plan.placement.inbox_name.clone(),
            moved_to: plan.placement.moved_to.clone(),
            sha256: verdict.sha256.clone(),
            verdict: verdict.verdict.as_str().to_string(),
            plan_id: verdict.plan_id.clone(),
            patient_id: verdict.patient_id.clone(),
            reason: reason.into(),
            message,
            restored: withdrawn.as_ref().and(plan.replaces.clone()),
            withdrawn,
        })
    }
}

impl NotPlacedEvent {
    /// The event for a record of the log's final batch whose plan left the
    /// inbox (`gone`) or was replaced there while embolint was stopped.
    /// What its rows replaced is not known yet ([`earlier_version`]).
    pub fn left_while_stopped(decision: &PastDecision, gone: bool) -> NotPlacedEvent {
        let text = |key: &str| decision.verdict.get(key).and_then(|v| v.as_str()).map(String::from);
        let (reason, message) = if gone {
            ("removed", "the plan left the inbox while embolint was stopped, before its move")
        } else {
            (
                "replaced",
                "another file took the plan's name in the inbox while embolint was stopped, \
                 before its move; the new file is judged on its own",
            )
        };
        let placement = &decision.placement;
        NotPlacedEvent {
            event: EVENT.into(),
            at: jiff::Timestamp::now(),
            batch: placement.batch,
            inbox_name: placement.inbox_name.clone(),
            moved_to: placement.moved_to.clone(),
            sha256: decision.sha256.clone(),
            verdict: text("verdict").unwrap_or_default(),
            plan_id: text("plan_id"),
            patient_id: text("patient_id"),
            reason: reason.into(),
            message: format!("{message}: it could not be placed"),
            withdrawn: placement.history.clone(),
            restored: None,
        }
    }
}

/// Whether `events` (lines of the log) already hold the `plan-not-placed`
/// record of the decision placed as `placement`.
pub fn recorded(events: &[serde_json::Value], placement: &Placement) -> bool {
    events.iter().any(|e| {
        e.get("event").and_then(|v| v.as_str()) == Some(EVENT)
            && e.get("batch").and_then(|v| v.as_u64()) == Some(placement.batch)
            && e.get("moved_to").and_then(|v| v.as_str()) == Some(placement.moved_to.as_str())
    })
}

/// The version of `withdrawn.plan_id` in force just before the record that
/// carried `withdrawn`, worked out from the decision log at `log` (read
/// once; only needed when a plan left the inbox while embolint was
/// stopped).
pub fn earlier_version(log: &Path, withdrawn: &RecordedPlan) -> io::Result<Option<RecordedPlan>> {
    let reader = BufReader::new(std::fs::File::open(log)?);
    let mut in_force: Option<RecordedPlan> = None;
    for line in reader.split(b'\n') {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(&line?) else { continue };
        let id = withdrawn.plan_id.as_str();
        match value.get("event").and_then(|e| e.as_str()) {
            Some(forget::EVENT) if value.get("plan_id").and_then(|p| p.as_str()) == Some(id) => {
                in_force = None;
            }
            Some(EVENT) => {
                let Ok(event) = serde_json::from_value::<NotPlacedEvent>(value) else { continue };
                let undone = event.withdrawn.as_ref().is_some_and(|w| {
                    w.plan_id == id
                        && in_force.as_ref().map(|p| &p.decision_key) == Some(&w.decision_key)
                });
                if undone {
                    in_force = event.restored;
                }
            }
            Some(_) => {}
            None => {
                let rows = value.get("watch").and_then(|w| w.get("history")).cloned();
                let Some(Ok(rows)) = rows.map(serde_json::from_value::<RecordedPlan>) else {
                    continue;
                };
                if rows.decision_key == withdrawn.decision_key {
                    return Ok(in_force);
                }
                if rows.plan_id == id {
                    in_force = Some(rows);
                }
            }
        }
    }
    Ok(in_force)
}

/// Records, in one synced append, an event for each plan of a batch that
/// could not be placed, then takes their rows out of the history (or owes
/// that to it).
pub fn record(
    log: &mut DecisionLog,
    history: &mut PatientHistory,
    events: &[NotPlacedEvent],
) -> Result<(), Fatal> {
    if events.is_empty() {
        return Ok(());
    }
    let mut lines = Vec::new();
    for event in events {
        let line = serde_json::to_vec(event).map_err(std::io::Error::other);
        lines.extend(line.map_err(storage("writing a plan-not-placed record"))?);
        lines.push(b'\n');
    }
    log.append(&lines)
        .map_err(storage(format!("syncing the decision log {}", log.path().display())))?;
    for event in events.iter().filter(|e| e.withdrawn.is_some()) {
        history.apply_not_placed(event);
    }
    Ok(())
}

/// Inside an open transaction: takes the event's rows out of the history,
/// if they are still the plan's rows there, and puts back the version they
/// replaced. Returns whether anything changed. Replaying it changes
/// nothing more.
pub fn undo(history: &History, event: &NotPlacedEvent) -> Result<bool, HistoryError> {
    let Some(withdrawn) = &event.withdrawn else { return Ok(false) };
    let now = history.plan(&withdrawn.plan_id)?;
    if now.as_ref().map(|p| &p.decision_key) != Some(&withdrawn.decision_key) {
        return Ok(false);
    }
    history.remove(&withdrawn.plan_id)?;
    if let Some(restored) = &event.restored {
        history.put(restored)?;
    }
    Ok(true)
}
