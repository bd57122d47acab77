//! `embolint history`: a patient's recorded sessions; withdrawing a
//! cancelled plan; rebuilding the history from the decision log; copying a
//! root's SQLite history into a shared PostgreSQL history, once.

use super::{write_answer, Error, Format, Status};
use crate::history::{History, HistoryUrl, Location};
use crate::recorder::forget::{self, DirectError, ForgetAnswer, ForgetOutcome, ForgetRequest};
use crate::report;
use crate::watch::layout::Layout;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Prints the sessions recorded for `patient_id` in the history at
/// `database` (a file, or the shared database).
pub fn show(
    database: &Location,
    patient_id: &str,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status, Error> {
    let cannot = |e: crate::history::HistoryError| Error::CannotRun(e.to_string());
    let history = database.open_read_only().map_err(cannot)?;
    let sessions = history.sessions_of(patient_id).map_err(cannot)?;
    write_answer(out, format, &sessions, |sessions| report::render_history(patient_id, sessions))?;
    Ok(Status::Success)
}

/// A withdrawal asked for on the command line.
#[derive(Clone, Debug)]
pub struct ForgetOptions {
    /// The plan to withdraw.
    pub plan_id: String,
    /// Who withdraws it, for the audit trail.
    pub by: String,
    /// Why, for the audit trail.
    pub reason: String,
    /// How long to wait for a running daemon to carry it out.
    pub wait: Duration,
    /// The root's shared history, when it has one: needed only when no
    /// daemon runs (a running one knows it).
    pub history_url: Option<HistoryUrl>,
}

/// Withdraws a plan from the root's history: at once when no daemon serves
/// the root, else by asking the daemon and awaiting its answer.
/// [`Status::Failure`] when no such plan is recorded (nothing changed).
pub fn forget(
    root: &Path,
    options: &ForgetOptions,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status, Error> {
    let request = ForgetRequest {
        plan_id: options.plan_id.clone(),
        by: options.by.clone(),
        reason: options.reason.clone(),
        requested_at: jiff::Timestamp::now(),
    };
    let answer = match forget::forget_directly(root, &request, options.history_url.as_ref()) {
        Ok(answer) => answer,
        Err(DirectError::DaemonRunning) => {
            ask_daemon(root, &request, options.wait).map_err(Error::CannotRun)?
        }
        Err(DirectError::Failed(message)) => {
            return Err(Error::CannotRun(format!(
                "cannot withdraw plan {}: {message}",
                options.plan_id
            )))
        }
    };
    write_answer(out, format, &answer, |answer| format!("{}\n", answer.message))?;
    match answer.outcome {
        ForgetOutcome::Withdrawn => Ok(Status::Success),
        ForgetOutcome::NotRecorded => Ok(Status::Failure),
        ForgetOutcome::Refused => Err(Error::CannotRun(format!(
            "the withdrawal of plan {} was refused (see above)",
            options.plan_id
        ))),
    }
}

/// Leaves a request for the running daemon and waits for its answer.
fn ask_daemon(
    root: &Path,
    request: &ForgetRequest,
    wait: Duration,
) -> Result<ForgetAnswer, String> {
    let layout = Layout::new(root);
    let id = forget::submit(&layout, request)
        .map_err(|e| format!("cannot leave the request in {}: {e}", layout.requests().display()))?;
    match forget::wait_for_answer(&layout, &id, wait) {
        Ok(Some(answer)) => Ok(answer),
        Ok(None) => Err(format!(
            "embolint watch has not answered within {} s (is the history unavailable? see its \
             log). The request stays queued as {}/{id}.request and is carried out as soon as it \
             can be; do not ask again",
            wait.as_secs(),
            layout.requests().display()
        )),
        Err(e) => Err(format!("cannot read the answer to request {id}: {e}")),
    }
}

/// Rebuilds a lost or damaged history of `root` from its decision log,
/// saying on `out` what was replayed and on `err` what could not be.
pub fn rebuild(root: &Path, out: &mut dyn Write, err: &mut dyn Write) -> Result<Status, Error> {
    let rebuilt = crate::audit::rebuild::rebuild(root)
        .map_err(|message| Error::CannotRun(format!("cannot rebuild the history: {message}")))?;
    writeln!(
        out,
        "rebuilt {} from the decision log: {} passed plans and {} withdrawals replayed; it holds \
         {} plans of {} patients",
        Layout::new(root).history().display(),
        rebuilt.passed_records,
        rebuilt.withdrawals,
        rebuilt.plans,
        rebuilt.patients
    )?;
    if rebuilt.passed_without_rows > 0 {
        writeln!(
            err,
            "embolint: warning: {} passed records carry no history rows (written by an embolint \
             that kept no history); their sessions are not in the rebuilt history",
            rebuilt.passed_without_rows
        )?;
    }
    if rebuilt.unreadable_lines > 0 {
        writeln!(
            err,
            "embolint: warning: {} lines of the decision log could not be read (a line torn by a \
             crash is one); check the log",
            rebuilt.unreadable_lines
        )?;
    }
    Ok(Status::Success)
}

/// Copies the SQLite history of `root` into the shared history at `url`,
/// once: refused when the shared database already holds a history (a
/// second copy would bring back plans withdrawn or revised there since).
/// Afterwards the root must be served with that `history_url`: starting
/// it without is refused, so that the daemon never goes back to its own
/// file unnoticed.
pub fn migrate_to(root: &Path, url: &HistoryUrl, out: &mut dyn Write) -> Result<Status, Error> {
    let cannot = |e: String| Error::CannotRun(format!("cannot copy the history: {e}"));
    let layout = Layout::new(root);
    let _lock = crate::watch::layout::lock(&layout)
        .map_err(|e| cannot(format!("{e} (stop embolint watch on this root first)")))?;
    let local = History::open_read_only(&layout.history()).map_err(|e| cannot(e.to_string()))?;
    let plans = local.plans().map_err(|e| cannot(e.to_string()))?;
    let site = crate::history::site::id(&layout.state)
        .map_err(|e| cannot(format!("cannot read this root's id: {e}")))?;
    let shared = History::open_shared(url.secret(), &site).map_err(|e| cannot(e.to_string()))?;
    let History::Postgres(db) = &shared else {
        return Err(cannot("not a shared history".into()));
    };
    let copy = || -> Result<(), crate::history::HistoryError> {
        db.begin(0)?;
        db.lock_migration()?;
        if db.holds_history()? {
            return Err(crate::history::HistoryError::Server {
                url: url.shown(),
                detail: "it already holds a patient history; nothing was copied (copying again \
                         could bring back plans withdrawn or revised there since)"
                    .into(),
            });
        }
        db.note_site(&layout.root.display().to_string())?;
        for plan in &plans {
            db.put(plan)?;
        }
        db.commit()
    };
    if let Err(error) = copy() {
        db.rollback();
        return Err(cannot(error.to_string()));
    }
    crate::history::site::write_synced(
        &layout.state,
        crate::history::site::SHARED_MARKER,
        &url.shown(),
    )
    .map_err(|e| cannot(format!("the copy is made, but the root cannot note it: {e}")))?;
    writeln!(
        out,
        "copied {} plans from {} into the shared history {}; serve this root with \
         history_url set to it from now on ({} is no longer used)",
        plans.len(),
        layout.history().display(),
        url.shown(),
        layout.history().display()
    )?;
    Ok(Status::Success)
}
