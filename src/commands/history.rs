//! `embolint history`: a patient's recorded sessions; withdrawing a
//! cancelled plan; rebuilding the history from the decision log.

use super::{write_answer, Error, Format, Status};
use crate::history::History;
use crate::recorder::forget::{self, DirectError, ForgetAnswer, ForgetOutcome, ForgetRequest};
use crate::report;
use crate::watch::layout::Layout;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Prints the sessions recorded for `patient_id` in the history database
/// at `database`.
pub fn show(
    database: &Path,
    patient_id: &str,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status, Error> {
    let cannot = |e: crate::history::HistoryError| Error::CannotRun(e.to_string());
    let history = History::open_read_only(database).map_err(cannot)?;
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
    let answer = match forget::forget_directly(root, &request) {
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
