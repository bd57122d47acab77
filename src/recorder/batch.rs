//! One batch of plans, judged and then placed, in the order that makes a
//! crash at any instant recoverable without loss or duplication:
//!
//! 1. read and judge each plan; choose its unique destination;
//!    a passed plan's history rows go into the batch's open history
//!    transaction at once (see `patient_history`). With the shared
//!    (PostgreSQL) history, step 4's commit comes here instead, before the
//!    log (see `patient_history` for why); if it fails nothing is recorded
//!    and the plans stay in the inbox;
//! 2. write every sidecar (the verdict as JSON, and as text for people) to
//!    a temporary file in `state/writing/` (a small folder: see
//!    `Folders::writing_for`) and sync the file system (the placer's thread; the
//!    plans' own bytes are synced with them: the planning software need
//!    not have synced them), while
//! 3. every decision record (naming that destination, and carrying a
//!    passed plan's history rows) is appended to the log and synced (the
//!    loop's thread): from here the decisions are final;
//! 4. move the audit key on, and commit the history transaction (or, if it
//!    cannot be, owe its rows to the database: nothing more is judged until
//!    they are in);
//! 5. rename each sidecar into place, then move its plan beside it, and
//!    read the moved plan back: if its bytes are not the ones judged (it
//!    was written to, or swapped, after its reading), it goes back into the
//!    inbox, its sidecars are taken back, and it is judged again as a new
//!    version (its first record stands for the version read);
//! 6. sync the inbox and outcome folders.
//!
//! Steps 2–4 are [`record`], on the loop's thread, with the placer's
//! thread writing the sidecars ([`write_sidecars`]); steps 5–6 are
//! [`place`], on the placer's thread (see `placer`). What overlaps crosses
//! no line that matters after a crash:
//! - the sidecars of step 2 are under temporary names until step 5:
//!   nobody takes them for a verdict, and a start-up removes those a crash
//!   leaves;
//! - steps 5–6 start as soon as the records are synced, while the loop
//!   goes through step 4: a crash before the history's commit leaves the
//!   history owing the log's final batch, which the start-up applies from
//!   the records whether or not its plans were moved; a crash before the
//!   key moved on leaves lines after the key state, which carry that key's
//!   MACs and are expected;
//! - the next batch goes through step 1 meanwhile.
//!
//! The next batch reaches step 2 only after this one's step 6, so after a
//! crash only the log's final batch can be unfinished; `recovery` finishes
//! its placements and `patient_history` its history rows, from the records.

use super::claim::{claim, Fingerprint};
use super::failpoint::{self, Fault, Step};
use super::outcome;
use super::patient_history::PatientHistory;
use super::placer::Placer;
use crate::audit::decision_log::{record_line, DecisionLog, Placement};
use crate::verdict::Verdict;
use crate::watch::fatal::{storage, Fatal};
use crate::watch::file_name;
use crate::watch::file_name::TEXT_SIDECAR_SUFFIX;
use crate::watch::folder::Folder;
use crate::watch::layout::Folders;
use std::ffi::{OsStr, OsString};
use std::io;
use std::sync::Arc;

/// A judged plan waiting to be recorded and placed.
#[derive(Debug)]
pub struct Judged {
    /// Its name in the inbox.
    pub name: OsString,
    /// The version that was read, to notice a replacement before moving.
    pub fingerprint: Fingerprint,
    /// The size limit it was read with, to read the moved file the same
    /// way and prove it is the version judged.
    pub max_plan_bytes: u64,
    /// The verdict.
    pub verdict: Verdict,
    /// Where it goes.
    pub placement: Placement,
    /// For a plan that passed: the version of the same plan id its rows
    /// replaced in the history, put back if it cannot be placed.
    pub replaces: Option<crate::history::RecordedPlan>,
}

/// What became of a judged plan.
#[derive(Debug, PartialEq, Eq)]
pub enum Placed {
    /// In its outcome folder with its sidecar.
    Moved,
    /// Removed from the inbox by someone else before it could be moved (its
    /// record stays; its sidecar is taken back).
    Vanished,
    /// Replaced in the inbox by a new version before it could be moved: the
    /// judged version is gone; the new one is judged on its own.
    Replaced,
    /// Changed after it was read (written in place, or swapped in at the
    /// instant of the move): what was moved is not what was judged, so it
    /// was put back into the inbox under `back_as` (its name, unless a new
    /// file took that) to be judged on its own.
    Changed {
        /// Its name in the inbox now.
        back_as: OsString,
    },
}

/// Records a batch (steps 2–4): it is handed to `placer`, which writes and
/// syncs the batch's temporary sidecars while its records are written and
/// synced (after the inbox, when `sync_inbox`: it holds plans staged by
/// another intake), and places the batch once both are (see the module
/// documentation); the recorder waits for it before the next batch is
/// recorded.
/// Returns `false` when the shared history could not take the batch
/// before its records were written (nothing was recorded, and the placer
/// removed the temporary sidecars).
pub fn record(
    folders: &Folders,
    log: &mut DecisionLog,
    history: &mut PatientHistory,
    batch: Vec<Judged>,
    sync_inbox: bool,
    placer: &Placer,
) -> Result<bool, Fatal> {
    failpoint::begin_batch();
    // A folder swapped while running stops the daemon before anything is
    // written (the plans stay in the inbox, unrecorded).
    folders.check().map_err(storage(format!(
        "checking the folders under {} before writing",
        folders.root.path().display()
    )))?;
    // The placer writes and syncs the temporary sidecars from now on, while
    // this thread writes and syncs the records.
    let batch = Arc::new(batch);
    placer.hand_over(Arc::clone(&batch))?;
    if sync_inbox {
        // Plans staged by another intake: their names in the inbox are made
        // durable before their records (one sync for the batch).
        let inbox = folders.inbox.path().display();
        folders.inbox.sync().map_err(storage(format!("syncing the inbox {inbox}")))?;
    }
    let mut lines = Vec::new();
    for judged in batch.iter() {
        let line = record_line(&judged.verdict, &judged.placement).map_err(io::Error::other);
        lines.extend(line.map_err(storage("writing a decision record"))?);
    }
    let log_action = format!("syncing the decision log {}", log.path().display());
    if failpoint::armed(Step::TornLog) {
        // Every record but the last, and half of the last one.
        let body = lines.get(..lines.len().saturating_sub(1)).unwrap_or_default();
        let last_start = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let cut = last_start + (lines.len() - last_start) / 2;
        let torn = lines.get(..cut).unwrap_or_default();
        log.write_unsynced(torn).map_err(storage("writing a torn record"))?;
        failpoint::crash();
    }
    if !history.before_log(&lines) {
        // Nothing is recorded: the placer removes the batch's temporary
        // sidecars and places nothing; the plans stay in the inbox.
        placer.call_off()?;
        return Ok(false);
    }
    failpoint::hit(Step::AfterSharedHistory);
    let rows = batch.iter().filter_map(|j| j.placement.history.clone()).collect();
    let written = log.write(&lines).map_err(storage(log_action.clone()))?;
    log.sync(written).map_err(storage(log_action.clone()))?;
    placer.sidecars_synced()?;
    failpoint::hit(Step::AfterLog);
    placer.go()?;
    failpoint::hit(Step::Placing);
    log.seal().map_err(storage(format!("{log_action} (moving its audit key on)")))?;
    history.finish_batch(rows);
    failpoint::hit(Step::AfterHistory);
    Ok(true)
}

/// The temporary verdict files of a batch handed over to be placed (step
/// 2), each plan's JSON and text sidecar, synced; only [`place`] names
/// them, once the records are durable too.
pub type Temps = Vec<(OsString, OsString)>;

/// Writes the temporary verdict files of `batch` (see [`Temps`]).
pub fn write_sidecars(folders: &Folders, batch: &[Judged]) -> Result<Temps, Fatal> {
    let mut temps = Vec::with_capacity(batch.len());
    for judged in batch {
        let (dir, _) = folder_and_name(folders, &judged.placement.sidecar)?;
        let writing = folders.writing_for(dir);
        let bytes = sidecar_bytes(&judged.verdict).map_err(storage("writing a verdict file"))?;
        let written = |bytes: &[u8]| {
            outcome::write_temp_in(writing, bytes)
                .map_err(storage(format!("writing a verdict file in {}", writing.path().display())))
        };
        let json = written(&bytes)?;
        let text = written(text_sidecar_bytes(&judged.verdict).as_bytes())?;
        temps.push((json, text));
    }
    // One sync for the verdict files and the plans' own bytes (the
    // planning software need not have synced them).
    let synced = failpoint::fault(Fault::SidecarSync);
    synced.and_then(|()| folders.root.sync_file_system()).map_err(storage(format!(
        "syncing the verdict files under {}",
        folders.root.path().display()
    )))?;
    Ok(temps)
}

/// Removes the temporary verdict files of a batch that was called off
/// (nothing of it recorded). One that cannot be removed is only reported:
/// it is a temporary file, which the next start-up removes.
pub fn remove_sidecars(folders: &Folders, batch: &[Judged], temps: Temps) {
    for (judged, (json, text)) in batch.iter().zip(temps) {
        let Ok((dir, _)) = folder_and_name(folders, &judged.placement.sidecar) else { continue };
        let writing = folders.writing_for(dir);
        for temp in [json, text] {
            if let Err(error) = writing.remove_file(&temp) {
                let shown = writing.path().join(&temp);
                tracing::warn!(file = %shown.display(), %error, "could not remove a temporary verdict file");
            }
        }
    }
}

/// Places a recorded batch (steps 5–6): its verdict files named, the
/// moves of its plans, the folder syncs. It touches
/// only the root's folders (never the log or the history), so it runs on a
/// thread of its own while the loop finishes the batch's records and reads
/// and judges the next batch. Returns each plan's fate.
///
/// Every file is written, renamed and removed through the held `folders`
/// (see `folder`), never by path, so nothing lands outside the root even
/// if a folder is swapped for a link meanwhile.
pub fn place(folders: &Folders, batch: &[Judged], temps: Temps) -> Result<Vec<Placed>, Fatal> {
    failpoint::hit(Step::AfterSidecars);
    // The folder the verdict files leave is synced first: a crash
    // between two folder syncs may then lose a verdict file's new name
    // (the start-up writes the verdict files of the final batch again) but
    // never leave its temporary name on disk beside it, for the start-up
    // to remove as a leftover.
    let mut touched: Vec<&Folder> = vec![&folders.writing, &folders.inbox];
    let mut fates = Vec::with_capacity(batch.len());
    for (judged, (json, text)) in batch.iter().zip(temps) {
        let text_sidecar = text_sidecar_of(&judged.placement);
        for (temp, relative) in [(json, judged.placement.sidecar.as_str()), (text, &text_sidecar)] {
            let (dir, sidecar) = folder_and_name(folders, relative)?;
            let writing = folders.writing_for(dir);
            writing.rename_no_replace(&temp, dir, sidecar).map_err(storage(format!(
                "placing the verdict file {}",
                dir.path().join(sidecar).display()
            )))?;
        }
        let (dir, _) = folder_and_name(folders, &judged.placement.sidecar)?;
        let fate = move_plan(folders, judged)?;
        if !touched.iter().any(|t| std::ptr::eq(*t, dir)) {
            touched.push(dir);
        }
        fates.push(fate);
        failpoint::hit(Step::MidMoves);
    }
    failpoint::hit(Step::AfterMoves);
    for dir in touched {
        dir.sync().map_err(storage(format!("syncing the folder {}", dir.path().display())))?;
    }
    Ok(fates)
}

/// The held outcome folder and name of a place the daemon chose itself
/// (`passed/NAME`); an error only if it is not one (a bug).
fn folder_and_name<'a>(
    folders: &'a Folders,
    relative: &'a str,
) -> Result<(&'a Folder, &'a OsStr), Fatal> {
    folders.place(relative).ok_or_else(|| {
        let error = io::Error::new(io::ErrorKind::InvalidInput, "not a place in an outcome folder");
        storage(format!("placing {relative}"))(error)
    })
}

/// The sidecar's content: the verdict, pretty-printed for people.
pub fn sidecar_bytes(verdict: &impl serde::Serialize) -> io::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(verdict).map_err(io::Error::other)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The text sidecar's content: the report `embolint check` prints (errors
/// first, then warnings, each rule's citation once), without colour.
pub fn text_sidecar_bytes(verdict: &Verdict) -> String {
    crate::report::render_verdict(verdict, false)
}

/// Where the text sidecar of a placement goes, relative to the root
/// (`passed/NAME.json.verdict.txt`, beside the JSON one).
pub fn text_sidecar_of(placement: &Placement) -> String {
    format!("{}{TEXT_SIDECAR_SUFFIX}", placement.moved_to)
}

/// Moves the plan to its destination, unless it vanished or was replaced
/// since it was read, and proves that what was moved is what was judged;
/// when it is not, the sidecars are taken back, as no judged plan goes with it.
fn move_plan(folders: &Folders, judged: &Judged) -> Result<Placed, Fatal> {
    let (dir, to) = folder_and_name(folders, &judged.placement.moved_to)?;
    let read = &judged.fingerprint;
    let fate = match folders.inbox.fingerprint(&judged.name) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Placed::Vanished,
        Ok(now) if (now.dev, now.ino) != (read.dev, read.ino) => Placed::Replaced,
        _ => match folders.inbox.rename_no_replace(&judged.name, dir, to) {
            Ok(()) if moved_as_judged(dir, to, judged) => return Ok(Placed::Moved),
            Ok(()) => Placed::Changed { back_as: put_back(folders, dir, to, &judged.name)? },
            Err(e) if e.kind() == io::ErrorKind::NotFound => Placed::Vanished,
            Err(e) => {
                let shown = dir.path().join(to);
                return Err(storage(format!("moving the plan to {}", shown.display()))(e));
            }
        },
    };
    let text_sidecar = text_sidecar_of(&judged.placement);
    for relative in [judged.placement.sidecar.as_str(), &text_sidecar] {
        let (dir, sidecar) = folder_and_name(folders, relative)?;
        dir.remove_file(sidecar).map_err(storage(format!(
            "taking back the verdict file {}",
            dir.path().join(sidecar).display()
        )))?;
    }
    Ok(fate)
}

/// Whether the file now at `name` in `dir` has the bytes that were judged:
/// read the same way, it has the verdict's sha256, and no other name (a
/// hard link made after its reading). A file that cannot be read now
/// counts as changed.
fn moved_as_judged(dir: &Folder, name: &OsStr, judged: &Judged) -> bool {
    let Ok(now) = dir.fingerprint(name) else { return false };
    claim(dir, name, &now, judged.max_plan_bytes)
        .is_ok_and(|found| found.sha256 == judged.verdict.sha256 && found.links <= 1)
}

/// Puts a plan that changed after it was read back into the inbox, under
/// its own name or, if a new file took that, a numbered variant of it.
fn put_back(
    folders: &Folders,
    dir: &Folder,
    moved: &OsStr,
    name: &OsStr,
) -> Result<OsString, Fatal> {
    let shown = dir.path().join(moved);
    let cannot = |e| storage(format!("putting the changed plan {} back", shown.display()))(e);
    let mut candidate = name.to_os_string();
    let base = name.to_string_lossy().into_owned();
    for n in 2..=MAX_PUT_BACK_TRIES {
        match dir.rename_no_replace(moved, &folders.inbox, &candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                candidate = file_name::numbered(&base, n).into();
            }
            Err(e) => return Err(cannot(e)),
        }
    }
    Err(cannot(io::Error::from(io::ErrorKind::AlreadyExists)))
}

/// Most names tried when putting a changed plan back into the inbox.
const MAX_PUT_BACK_TRIES: u32 = 1000;
