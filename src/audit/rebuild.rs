//! Rebuilding a lost or damaged patient history from the decision log:
//! `embolint history --rebuild --root DIR`, with the daemon stopped.
//!
//! Every passed decision record carries the rows it put in the history
//! (`watch.history`), and every withdrawal is an event in the log, so the
//! log alone gives the history back: replayed in order, a plan id replacing
//! its earlier version, a withdrawal removing it. The new database is
//! written beside the old place and renamed into it only when complete; an
//! existing database is never overwritten.

use super::decision_log::Placement;
use crate::history::{History, RecordedPlan};
use crate::recorder::forget::{ForgetEvent, EVENT};
use crate::recorder::unplaced::{self, NotPlacedEvent};
use crate::watch::layout::{self, Layout};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// What a rebuild found and wrote.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rebuilt {
    /// Passed records whose rows were replayed.
    pub passed_records: usize,
    /// Withdrawals replayed.
    pub withdrawals: usize,
    /// Passed records without rows (written before embolint kept a
    /// history): their sessions are not in the rebuilt history.
    pub passed_without_rows: usize,
    /// Lines that are neither records nor events (a torn last line).
    pub unreadable_lines: usize,
    /// Plans in the rebuilt history.
    pub plans: usize,
    /// Patients in the rebuilt history.
    pub patients: usize,
}

/// Rebuilds `ROOT/state/history.sqlite` from `ROOT/log/decisions.jsonl`.
/// Refuses while a daemon serves the root or while a database is there.
pub fn rebuild(root: &Path) -> Result<Rebuilt, String> {
    let layout = Layout::new(root);
    let target = layout.history();
    let _lock = layout::lock(&layout).map_err(|e| e.to_string())?;
    for path in [target.clone(), with_suffix(&target, "-wal"), with_suffix(&target, "-shm")] {
        if path.exists() {
            return Err(format!(
                "{} exists: move the old database and its -wal and -shm files away first (keep \
                 them for the record); the rebuild never overwrites a database",
                path.display()
            ));
        }
    }
    let temp = with_suffix(&layout.state.join(".history.sqlite"), ".rebuild");
    for leftover in [temp.clone(), with_suffix(&temp, "-wal"), with_suffix(&temp, "-shm")] {
        let _ = std::fs::remove_file(leftover);
    }
    let mut rebuilt = Rebuilt::default();
    {
        let history = History::open(&temp).map_err(|e| e.to_string())?;
        history.begin().map_err(|e| e.to_string())?;
        replay_log(&layout.decisions(), &history, &mut rebuilt, |_, _| Ok(()))?;
        history.commit().map_err(|e| e.to_string())?;
        let plans = history.plans().map_err(|e| e.to_string())?;
        rebuilt.plans = plans.len();
        rebuilt.patients = plans.iter().map(|p| &p.patient_id).collect::<BTreeSet<_>>().len();
    }
    std::fs::rename(&temp, &target)
        .and_then(|()| crate::recorder::outcome::sync_dir(&layout.state))
        .map_err(|e| format!("cannot put the rebuilt database in place: {e}"))?;
    Ok(rebuilt)
}

/// A line of the decision log that `embolint replay` looks at before its
/// effect on the history is replayed.
#[derive(Debug)]
pub enum LogLine<'a> {
    /// A decision record: a judged plan, its verdict and placement.
    Decision(&'a serde_json::Value),
    /// A plan that was judged but never placed where its record said.
    NotPlaced(&'a NotPlacedEvent),
}

/// Replays every line of the log, in order, into `history` (inside a
/// transaction the caller opened). `visit` sees each decision record and
/// each `plan-not-placed` event just before its effect goes in, so that
/// whoever visits sees the history exactly as it stood when the daemon
/// judged that plan.
pub fn replay_log(
    decisions: &Path,
    history: &History,
    rebuilt: &mut Rebuilt,
    mut visit: impl FnMut(LogLine<'_>, &History) -> Result<(), String>,
) -> Result<(), String> {
    let file = std::fs::File::open(decisions)
        .map_err(|e| format!("cannot read the decision log {}: {e}", decisions.display()))?;
    for line in BufReader::new(file).split(b'\n') {
        let line = line.map_err(|e| format!("cannot read {}: {e}", decisions.display()))?;
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(&line) else {
            rebuilt.unreadable_lines += 1;
            continue;
        };
        if value.get("event").and_then(|e| e.as_str()) == Some(EVENT) {
            let event: ForgetEvent = serde_json::from_value(value)
                .map_err(|e| format!("a withdrawal in the log cannot be read: {e}"))?;
            history.remove(&event.plan_id).map_err(|e| e.to_string())?;
            rebuilt.withdrawals += 1;
        } else if value.get("event").and_then(|e| e.as_str()) == Some(unplaced::EVENT) {
            let event: NotPlacedEvent = serde_json::from_value(value)
                .map_err(|e| format!("a plan-not-placed record cannot be read: {e}"))?;
            visit(LogLine::NotPlaced(&event), history)?;
            unplaced::undo(history, &event).map_err(|e| e.to_string())?;
        } else if value.get("event").is_some() {
            // The audit's own events change nothing in the history.
        } else {
            if value.get("verdict").is_some() {
                visit(LogLine::Decision(&value), history)?;
            }
            if value.get("verdict").and_then(|v| v.as_str()) == Some("pass") {
                match rows_of(&value) {
                    Some(plan) => {
                        history.put(&plan).map_err(|e| e.to_string())?;
                        rebuilt.passed_records += 1;
                    }
                    None => rebuilt.passed_without_rows += 1,
                }
            }
        }
    }
    Ok(())
}

/// The history rows a passed record carries, if any.
fn rows_of(record: &serde_json::Value) -> Option<RecordedPlan> {
    let placement: Placement = serde_json::from_value(record.get("watch")?.clone()).ok()?;
    placement.history
}

/// `path` with `suffix` appended to its file name.
fn with_suffix(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    name.into()
}
