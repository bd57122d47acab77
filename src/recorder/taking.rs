//! One plan of a batch, from its inbox name to its judged record: read it
//! safely, judge it with the history, and choose its destination. What
//! happens next (the record, the history, the move) is the batch's
//! ([`super::batch`]), for all the batch's plans at once.

use super::batch::{Judged, Placed};
use super::claim::{self, claim, Content, Fingerprint, NotClaimed};
use super::judge::judge;
use super::outcome;
use super::{Judging, Recorder, Taken};
use crate::audit::decision_log::Placement;
use crate::watch::fatal::{storage, Fatal};
use crate::watch::file_name::{self, SIDECAR_SUFFIX};
use crate::watch::pseudonym;
use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::time::Instant;

/// A ready inbox plan, as its intake listed it.
pub struct Plan<'a> {
    /// Its name in the inbox.
    pub name: &'a OsStr,
    /// The version that settled.
    pub fingerprint: &'a Fingerprint,
}

/// What came of trying to judge one inbox plan.
pub enum Outcome {
    /// Judged, with its destination.
    Judged(Box<Judged>),
    /// Not judged now; what its intake should do with the name.
    Left(Taken),
    /// Not judged now, and nothing to do about it (the history is gone
    /// for the moment): it stays in the inbox as it was.
    NotNow,
    /// The history failed: the plan could not be fully checked and stays.
    HistoryFailed(crate::history::HistoryError),
}

/// Reads and judges one plan and chooses its destination (`reserved`: the
/// names the batch has already chosen).
pub fn take(
    recorder: &Recorder,
    plan: Plan,
    judging: &Judging,
    reserved: &mut HashSet<PathBuf>,
) -> Result<Outcome, Fatal> {
    let Plan { name, fingerprint } = plan;
    let started = Instant::now();
    let limit = judging.max_plan_bytes;
    let inbox = &recorder.folders.inbox;
    if recorder.already_recorded(name) {
        let shown = file_name::for_log(&file_name::display(name));
        match inbox.remove_file(name) {
            Ok(()) => {
                tracing::info!(file = %shown, "a retried HTTP plan whose first copy is already recorded: removed unrecorded")
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(storage(format!("removing the retried plan {shown}"))(e)),
        }
        return Ok(Outcome::Left(Taken::Gone));
    }
    let claimed = match claim(inbox, name, fingerprint, limit) {
        Ok(claimed) => claimed,
        Err(NotClaimed::Gone) => return Ok(Outcome::Left(Taken::Gone)),
        Err(NotClaimed::Changed) => return Ok(Outcome::Left(Taken::LookAgain)),
        Err(NotClaimed::Io(error)) => {
            tracing::warn!(file = %file_name::for_log(&file_name::display(name)), %error, "cannot read this inbox file now; trying again in a minute");
            return Ok(Outcome::Left(Taken::Postponed));
        }
    };
    if claimed.links > 1 {
        if let Content::Bytes(bytes) = &claimed.content {
            return take_own_copy(recorder, name, &claimed, bytes);
        }
    }
    let Some(history) = recorder.history.database() else { return Ok(Outcome::NotNow) };
    let checked = match judge(name, &claimed, judging.rules, limit, history) {
        Ok(checked) => checked,
        Err(error) => return Ok(Outcome::HistoryFailed(error)),
    };
    let folder = checked.verdict.verdict.folder();
    let dir = recorder.folders.of(checked.verdict.verdict);
    let base = file_name::outcome_base(name);
    let dest = outcome::pick_name(dir, &base, reserved)
        .map_err(storage(format!("choosing a name in {}", dir.path().display())))?;
    let moved_to = format!("{folder}/{dest}");
    let decision_key = format!("{} {moved_to}", checked.verdict.checked_at);
    let placement = Placement {
        batch: 0,
        inbox_name: file_name::display(name),
        inbox_name_hex: file_name::hex_if_not_utf8(name),
        sidecar: format!("{moved_to}{SIDECAR_SUFFIX}"),
        history: checked.to_record(decision_key),
        moved_to,
        elapsed_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
    };
    Ok(Outcome::Judged(Box::new(Judged {
        name: name.to_os_string(),
        fingerprint: claimed.fingerprint,
        max_plan_bytes: limit,
        verdict: checked.verdict,
        placement,
        replaces: None,
    })))
}

/// A plan hard-linked to another name (perhaps outside the root) could
/// change through that name after its verdict: the inbox name is first
/// given a private copy of the bytes read, which is then judged like
/// any new file (the other name is left alone).
fn take_own_copy(
    recorder: &Recorder,
    name: &OsStr,
    claimed: &claim::Claim,
    bytes: &[u8],
) -> Result<Outcome, Fatal> {
    let shown = file_name::for_log(&file_name::display(name));
    match claim::take_own_copy(&recorder.folders.inbox, name, claimed, bytes) {
        Ok(true) => tracing::info!(
            file = %shown,
            links = claimed.links,
            "the plan has other names (hard links); embolint judges and places a copy of \
             its own, so that what is placed cannot change through another name"
        ),
        Ok(false) => {}
        Err(error) => return Err(storage(format!("copying the hard-linked plan {shown}"))(error)),
    }
    Ok(Outcome::Left(Taken::LookAgain))
}

/// Logs the outcome of one plan: one line per verdict. The patient is
/// named as the config chooses (a pseudonym by default), also inside the
/// file name and plan id.
pub fn report(plan: &Judged, fate: &Placed) {
    let verdict = &plan.verdict;
    let elapsed_ms = plan.placement.elapsed_us as f64 / 1000.0;
    let patient_id = verdict.patient_id.as_deref();
    let file = pseudonym::mask(&verdict.file, patient_id);
    match fate {
        Placed::Moved => tracing::info!(
            file = %file_name::for_log(&file),
            plan_id = %file_name::for_log(&pseudonym::mask(verdict.plan_id.as_deref().unwrap_or("-"), patient_id)),
            patient = %patient_id.map_or("-".into(), pseudonym::in_log),
            verdict = verdict.verdict.as_str(),
            errors = verdict.counts.errors,
            warnings = verdict.counts.warnings,
            infos = verdict.counts.infos,
            elapsed_ms,
            moved_to = %pseudonym::mask(&plan.placement.moved_to, patient_id),
            "plan judged"
        ),
        Placed::Vanished => tracing::warn!(
            file = %file_name::for_log(&file),
            verdict = verdict.verdict.as_str(),
            "plan judged and recorded, but removed from the inbox by someone else before it could be moved: it could not be placed (a plan-not-placed record says so; its history rows are taken out)"
        ),
        Placed::Replaced => tracing::warn!(
            file = %file_name::for_log(&file),
            verdict = verdict.verdict.as_str(),
            "plan judged and recorded, but replaced in the inbox before it could be moved: it could not be placed (a plan-not-placed record says so; its history rows are taken out); the new version is judged on its own"
        ),
        Placed::Changed { back_as } => tracing::warn!(
            file = %file_name::for_log(&file),
            verdict = verdict.verdict.as_str(),
            sha256_judged = %verdict.sha256,
            back_in_inbox_as = %file_name::for_log(&pseudonym::mask(&file_name::display(back_as), patient_id)),
            "plan judged and recorded, but it changed after it was read (written again in place, or swapped at the moment of the move); it could not be placed (a plan-not-placed record says so; its history rows are taken out); it was put back into the inbox and is judged again, as a new version"
        ),
    }
}
