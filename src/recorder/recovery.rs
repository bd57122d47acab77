//! Finishing, at start-up, the batch a crash interrupted.
//!
//! Only the log's final batch can be unfinished (see `batch`). For each of
//! its records:
//! - the plan is at its destination: it was moved; write a sidecar (JSON
//!   or text) that is missing (a power loss can lose a rename);
//! - the plan is still in the inbox under the same name with the same
//!   sha256: finish its placement from the record, writing no new record;
//! - otherwise the plan left the inbox, or was replaced there by different
//!   bytes, while embolint was down: nothing to finish; a replacement is
//!   judged afresh as a new plan. The plan was never placed: a
//!   `plan-not-placed` record says so (once: not if the log already holds
//!   it) and its history rows are taken out (see `unplaced`).
//!
//! A crash during recovery leaves the same final batch, so recovery runs
//! again from the start; every step is idempotent.

use super::batch::{sidecar_bytes, text_sidecar_bytes, text_sidecar_of};
use super::claim::{claim, Fingerprint};
use super::outcome;
use super::unplaced::{self, NotPlacedEvent};
use crate::audit::decision_log::{PastDecision, Tail};
use crate::watch::fatal::{storage, Fatal};
use crate::watch::file_name;
use crate::watch::folder::Folder;
use crate::watch::layout::Folders;
use crate::watch::pseudonym;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStringExt;

/// What recovery did, for the start-up log line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Plans whose interrupted move was finished.
    pub moved: usize,
    /// Sidecars that were missing beside an already moved plan.
    pub sidecars: usize,
    /// Records whose plan left the inbox or was replaced while embolint was down.
    pub abandoned: usize,
    /// The `plan-not-placed` records those still need (the log does not
    /// hold them yet), to be written and applied at start-up.
    pub not_placed: Vec<NotPlacedEvent>,
}

/// Finishes the log's final batch, through the held folders.
pub fn recover(folders: &Folders, tail: &Tail, max_plan_bytes: u64) -> Result<Recovered, Fatal> {
    let mut recovered = Recovered::default();
    for decision in &tail.final_batch {
        recover_one(folders, tail, decision, max_plan_bytes, &mut recovered)?;
    }
    for dir in [&folders.inbox, &folders.passed, &folders.failed, &folders.invalid] {
        dir.sync().map_err(storage(format!("syncing the folder {}", dir.path().display())))?;
    }
    Ok(recovered)
}

/// Finishes one record's placement, if it needs finishing.
fn recover_one(
    folders: &Folders,
    tail: &Tail,
    decision: &PastDecision,
    max_plan_bytes: u64,
    recovered: &mut Recovered,
) -> Result<(), Fatal> {
    let placement = &decision.placement;
    // A record is data read from disk: it must not steer a write anywhere
    // but an outcome folder.
    let text_sidecar_path = text_sidecar_of(placement);
    let (Some((dir, dest)), Some((sidecar_dir, sidecar)), Some((_, text_sidecar))) = (
        folders.place(&placement.moved_to),
        folders.place(&placement.sidecar),
        folders.place(&text_sidecar_path),
    ) else {
        tracing::error!(moved_to = %placement.moved_to, "decision record names a place outside the outcome folders; ignored");
        return Ok(());
    };
    let exists = |dir: &Folder, name: &OsStr| {
        let shown = dir.path().join(name);
        dir.exists(name).map_err(storage(format!("looking at {}", shown.display())))
    };
    if exists(dir, dest)? {
        if !exists(sidecar_dir, sidecar)? {
            write_sidecar(sidecar_dir, sidecar, &decision.verdict)?;
            recovered.sidecars += 1;
        }
        if !exists(sidecar_dir, text_sidecar)? {
            write_text_sidecar(sidecar_dir, text_sidecar, &decision.verdict)?;
            recovered.sidecars += 1;
        }
        return Ok(());
    }
    let name = inbox_name(decision);
    let inbox = &folders.inbox;
    let same_plan = inbox
        .metadata(&name)
        .ok()
        .and_then(|meta| claim(inbox, &name, &Fingerprint::of(&meta), max_plan_bytes).ok())
        .is_some_and(|found| found.sha256 == decision.sha256);
    let patient_id = decision.verdict.get("patient_id").and_then(|id| id.as_str());
    let file = pseudonym::mask(&placement.inbox_name, patient_id);
    let moved_to = pseudonym::mask(&placement.moved_to, patient_id);
    if !same_plan {
        tracing::warn!(
            file = %file_name::for_log(&file),
            %moved_to,
            "a decided plan left the inbox, or was replaced there, while embolint was stopped; \
             its decision record stands, a plan-not-placed record says it was never placed \
             (its history rows are taken out), and a replacement is judged as a new plan"
        );
        if !unplaced::recorded(&tail.trailing_events, placement) {
            let gone = !inbox.exists(&name).unwrap_or(false);
            recovered.not_placed.push(NotPlacedEvent::left_while_stopped(decision, gone));
        }
        for name in [sidecar, text_sidecar] {
            if exists(sidecar_dir, name)? {
                let shown = sidecar_dir.path().join(name);
                sidecar_dir
                    .remove_file(name)
                    .map_err(storage(format!("removing {}", shown.display())))?;
            }
        }
        recovered.abandoned += 1;
        return Ok(());
    }
    if !exists(sidecar_dir, sidecar)? {
        write_sidecar(sidecar_dir, sidecar, &decision.verdict)?;
    }
    if !exists(sidecar_dir, text_sidecar)? {
        write_text_sidecar(sidecar_dir, text_sidecar, &decision.verdict)?;
    }
    let shown = dir.path().join(dest);
    inbox
        .rename_no_replace(&name, dir, dest)
        .map_err(storage(format!("moving the plan to {}", shown.display())))?;
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

/// Writes a sidecar atomically and durably: temporary file, sync, rename.
fn write_sidecar(dir: &Folder, name: &OsStr, verdict: &serde_json::Value) -> Result<(), Fatal> {
    let action = || format!("writing the verdict file {}", dir.path().join(name).display());
    let bytes = sidecar_bytes(verdict).map_err(storage(action()))?;
    write_durably(dir, name, &bytes).map_err(storage(action()))
}

/// Writes the text sidecar from the record's verdict. A record the text
/// report cannot read back (written by a version with other verdict fields)
/// gets none: its JSON sidecar and record say everything.
fn write_text_sidecar(
    dir: &Folder,
    name: &OsStr,
    verdict: &serde_json::Value,
) -> Result<(), Fatal> {
    let action = || format!("writing the verdict file {}", dir.path().join(name).display());
    match serde_json::from_value::<crate::verdict::Verdict>(verdict.clone()) {
        Ok(verdict) => write_durably(dir, name, text_sidecar_bytes(&verdict).as_bytes())
            .map_err(storage(action())),
        Err(error) => {
            tracing::warn!(%error, file = %dir.path().join(name).display(), "the record's verdict cannot be shown as text; only its JSON verdict file is written");
            Ok(())
        }
    }
}

/// Temporary file, sync, rename: the file is whole at its name or absent.
fn write_durably(dir: &Folder, name: &OsStr, bytes: &[u8]) -> std::io::Result<()> {
    let temp = outcome::write_temp_in(dir, bytes)?;
    dir.open_read(&temp).and_then(|f| f.sync_all())?;
    dir.rename_no_replace(&temp, dir, name)
}
