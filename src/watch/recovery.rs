//! Finishing, at start-up, the batch a crash interrupted.
//!
//! Only the log's final batch can be unfinished (see `batch`). For each of
//! its records:
//! - the plan is at its destination: it was moved; write the sidecar if it
//!   is missing (a power loss can lose a rename);
//! - the plan is still in the inbox under the same name with the same
//!   sha256: finish its placement from the record, writing no new record;
//! - otherwise the plan left the inbox, or was replaced there by different
//!   bytes, while embolint was down: nothing to finish; a replacement is
//!   judged afresh as a new plan.
//!
//! A crash during recovery leaves the same final batch, so recovery runs
//! again from the start; every step is idempotent.

use super::batch::sidecar_bytes;
use super::claim::{claim, Fingerprint};
use super::fatal::{storage, Fatal};
use super::file_name;
use super::layout::Layout;
use super::outcome;
use super::pseudonym;
use crate::audit::decision_log::{PastDecision, Tail};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// What recovery did, for the start-up log line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Plans whose interrupted move was finished.
    pub moved: usize,
    /// Sidecars that were missing beside an already moved plan.
    pub sidecars: usize,
    /// Records whose plan left the inbox or was replaced while embolint was down.
    pub abandoned: usize,
}

/// Finishes the log's final batch.
pub fn recover(layout: &Layout, tail: &Tail, max_plan_bytes: u64) -> Result<Recovered, Fatal> {
    let mut recovered = Recovered::default();
    for decision in &tail.final_batch {
        recover_one(layout, decision, max_plan_bytes, &mut recovered)?;
    }
    for dir in [layout.inbox.clone()].into_iter().chain(layout.outcome_dirs()) {
        outcome::sync_dir(&dir)
            .map_err(storage(format!("syncing the folder {}", dir.display())))?;
    }
    Ok(recovered)
}

/// Finishes one record's placement, if it needs finishing.
fn recover_one(
    layout: &Layout,
    decision: &PastDecision,
    max_plan_bytes: u64,
    recovered: &mut Recovered,
) -> Result<(), Fatal> {
    let placement = &decision.placement;
    let dest = layout.root.join(&placement.moved_to);
    let sidecar = layout.root.join(&placement.sidecar);
    let (Some(dest), Some(sidecar)) = (inside(layout, dest), inside(layout, sidecar)) else {
        tracing::error!(moved_to = %placement.moved_to, "decision record names a place outside the outcome folders; ignored");
        return Ok(());
    };
    let exists = |path: &Path| {
        outcome::exists(path).map_err(storage(format!("looking at {}", path.display())))
    };
    if exists(&dest)? {
        if !exists(&sidecar)? {
            write_sidecar(&sidecar, &decision.verdict)?;
            recovered.sidecars += 1;
        }
        return Ok(());
    }
    let name = inbox_name(decision);
    let same_plan = std::fs::symlink_metadata(layout.inbox.join(&name))
        .ok()
        .and_then(|meta| claim(&layout.inbox, &name, &Fingerprint::of(&meta), max_plan_bytes).ok())
        .is_some_and(|found| found.sha256 == decision.sha256);
    let patient_id = decision.verdict.get("patient_id").and_then(|id| id.as_str());
    let file = pseudonym::mask(&placement.inbox_name, patient_id);
    let moved_to = pseudonym::mask(&placement.moved_to, patient_id);
    if !same_plan {
        tracing::warn!(
            file = %file_name::for_log(&file),
            %moved_to,
            "a decided plan left the inbox, or was replaced there, while embolint was stopped; \
             its decision record stands, and a replacement is judged as a new plan"
        );
        if exists(&sidecar)? {
            std::fs::remove_file(&sidecar)
                .map_err(storage(format!("removing {}", sidecar.display())))?;
        }
        recovered.abandoned += 1;
        return Ok(());
    }
    if !exists(&sidecar)? {
        write_sidecar(&sidecar, &decision.verdict)?;
    }
    outcome::rename_no_replace(&layout.inbox.join(&name), &dest)
        .map_err(storage(format!("moving the plan to {}", dest.display())))?;
    tracing::info!(file = %file_name::for_log(&file), %moved_to, "finished the placement a stop interrupted");
    recovered.moved += 1;
    Ok(())
}

/// The record's exact inbox name (hex when it was not UTF-8).
fn inbox_name(decision: &PastDecision) -> OsString {
    let placement = &decision.placement;
    match placement.inbox_name_hex.as_deref().and_then(file_name::from_hex) {
        Some(bytes) => OsString::from_vec(bytes),
        None => OsString::from(&placement.inbox_name),
    }
}

/// `path` if it lies in an outcome folder of the root (a record is data
/// read from disk; it must not steer a write anywhere else).
fn inside(layout: &Layout, path: PathBuf) -> Option<PathBuf> {
    let parent = path.parent()?;
    let ok = layout.outcome_dirs().iter().any(|dir| dir == parent)
        && path.file_name().is_some_and(|n| n != ".." && n != ".");
    ok.then_some(path)
}

/// Writes a sidecar atomically and durably: temporary file, sync, rename.
fn write_sidecar(path: &Path, verdict: &serde_json::Value) -> Result<(), Fatal> {
    let action = || format!("writing the verdict file {}", path.display());
    let dir = path.parent().unwrap_or(Path::new("."));
    let bytes = sidecar_bytes(verdict).map_err(storage(action()))?;
    let temp = outcome::write_temp(dir, &bytes).map_err(storage(action()))?;
    std::fs::File::open(&temp).and_then(|f| f.sync_all()).map_err(storage(action()))?;
    outcome::rename_no_replace(&temp, path).map_err(storage(action()))
}
