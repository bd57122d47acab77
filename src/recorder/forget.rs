//! Withdrawing a cancelled plan from the patient history:
//! `embolint history --forget PLAN_ID --by NAME --root DIR`.
//!
//! # Who writes
//! Only the holder of the root's lock writes the decision log and the
//! history. While a daemon serves the root, `--forget` drops a request file
//! into `state/requests/` and waits for its answer; the daemon carries
//! requests out between batches. With no daemon, `--forget` takes the lock
//! itself and does the same work ([`forget_directly`]).
//!
//! # Exactly once, with an audit trail
//! For request `ID.request`:
//! 1. an event (`"event": "history-forget"`: the plan, its patient, the
//!    withdrawn rows, who asked, when, and `request: ID`) is appended to the
//!    decision log and synced;
//! 2. the plan's rows are deleted (one transaction);
//! 3. the answer `ID.result` is written (temporary file, then rename);
//! 4. the request file is removed.
//!
//! A crash before 1 leaves the request: it is carried out after restart.
//! A crash after 1 leaves the event after the log's final batch: start-up
//! applies it again (deleting a deleted plan changes nothing), writes the
//! answer if the request is still there, and removes the request — never a
//! second event. A request that already has its answer is only removed.

use super::failpoint::{self, Step};
use super::outcome;
use super::patient_history::{owed_by, PatientHistory};
use crate::audit::decision_log::DecisionLog;
use crate::history::RecordedPlan;
use crate::watch::fatal::{storage, Fatal};
use crate::watch::layout::{self, Layout, LockError};
use serde::{Deserialize, Serialize};
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

/// The `event` member of a withdrawal in the decision log.
pub const EVENT: &str = "history-forget";
/// Ending of a request file's name.
const REQUEST_SUFFIX: &str = ".request";
/// Ending of an answer file's name.
const ANSWER_SUFFIX: &str = ".result";

/// What `--forget` asks for, as written in the request file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ForgetRequest {
    /// The plan to withdraw.
    pub plan_id: String,
    /// Who asks (for the audit trail).
    pub by: String,
    /// Why the plan is withdrawn (for the audit trail).
    #[serde(default)]
    pub reason: String,
    /// When they asked.
    pub requested_at: jiff::Timestamp,
}

/// A withdrawal, as the decision log records it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ForgetEvent {
    /// Always [`EVENT`]: what kind of line this is.
    pub event: String,
    /// The plan withdrawn.
    pub plan_id: String,
    /// Its patient, so the trail can be searched by patient.
    pub patient_id: String,
    /// Who asked for it.
    pub by: String,
    /// Why (empty in withdrawals recorded before a reason was asked for).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// When they asked.
    pub requested_at: jiff::Timestamp,
    /// When it was carried out.
    pub at: jiff::Timestamp,
    /// The request file it answers (none when done without a daemon).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// The history rows removed, as they were.
    pub withdrawn: RecordedPlan,
}

/// How a request ended.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ForgetOutcome {
    /// The plan was in the history and is withdrawn.
    Withdrawn,
    /// No plan with this id is in the history: nothing changed.
    NotRecorded,
    /// The request itself was unusable: nothing changed.
    Refused,
}

/// The answer to a request, as written in its answer file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ForgetAnswer {
    /// How it ended.
    pub outcome: ForgetOutcome,
    /// What happened, for the person who asked.
    pub message: String,
    /// The decision-log event, when the plan was withdrawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<ForgetEvent>,
}

impl ForgetAnswer {
    /// The answer to a withdrawal carried out.
    fn withdrawn(event: &ForgetEvent) -> ForgetAnswer {
        let sessions: Vec<String> =
            event.withdrawn.sessions.iter().map(|(_, _, date)| date.to_string()).collect();
        ForgetAnswer {
            outcome: ForgetOutcome::Withdrawn,
            message: format!(
                "plan {} of patient {} (sessions on {}) is withdrawn from the history by {} \
                 ({}); the decision log records it",
                event.plan_id,
                event.patient_id,
                sessions.join(", "),
                event.by,
                event.reason
            ),
            event: Some(event.clone()),
        }
    }
}

/// What carrying out a withdrawal came to.
pub enum Forgot {
    /// Finished: the answer.
    Done(Box<ForgetAnswer>),
    /// The history could not be used: nothing changed.
    Unavailable,
    /// The event is in the log, the database change is owed (applied, and
    /// the request answered, when the database is back).
    Owed,
}

/// Withdraws `request.plan_id`: the event to the log first, then the rows.
pub fn forget(
    log: &mut DecisionLog,
    history: &mut PatientHistory,
    request: &ForgetRequest,
    request_id: Option<&str>,
) -> Result<Forgot, Fatal> {
    if let Some(problem) = request_problem(request) {
        let answer =
            ForgetAnswer { outcome: ForgetOutcome::Refused, message: problem, event: None };
        return Ok(Forgot::Done(Box::new(answer)));
    }
    let Some(database) = history.database() else { return Ok(Forgot::Unavailable) };
    let withdrawn = match database.plan(&request.plan_id) {
        Ok(Some(plan)) => plan,
        Ok(None) => {
            let message = format!(
                "no plan {} is in the history {}: nothing was withdrawn (check the plan id)",
                request.plan_id,
                history.path().display()
            );
            let answer = ForgetAnswer { outcome: ForgetOutcome::NotRecorded, message, event: None };
            return Ok(Forgot::Done(Box::new(answer)));
        }
        Err(error) => {
            history.fail(error);
            return Ok(Forgot::Unavailable);
        }
    };
    let event = ForgetEvent {
        event: EVENT.into(),
        plan_id: withdrawn.plan_id.clone(),
        patient_id: withdrawn.patient_id.clone(),
        by: request.by.clone(),
        reason: request.reason.clone(),
        requested_at: request.requested_at,
        at: jiff::Timestamp::now(),
        request: request_id.map(str::to_string),
        withdrawn,
    };
    failpoint::begin_forget();
    let mut line = serde_json::to_vec(&event)
        .map_err(io::Error::other)
        .map_err(storage("writing a withdrawal"))?;
    line.push(b'\n');
    log.append(&line)
        .map_err(storage(format!("syncing the decision log {}", log.path().display())))?;
    failpoint::hit(Step::AfterForgetLog);
    if !history.apply_forget(&event) {
        return Ok(Forgot::Owed);
    }
    failpoint::hit(Step::AfterForgetHistory);
    let patient = crate::watch::pseudonym::in_log(&event.patient_id);
    tracing::info!(plan_id = %event.plan_id, %patient, by = %event.by, "plan withdrawn from the patient history");
    Ok(Forgot::Done(Box::new(ForgetAnswer::withdrawn(&event))))
}

/// Why a request cannot be carried out, if it cannot.
fn request_problem(request: &ForgetRequest) -> Option<String> {
    if request.plan_id.trim().is_empty() {
        return Some("the plan id is empty: name the plan to withdraw".into());
    }
    if request.by.trim().is_empty() {
        return Some("--by is empty: name who withdraws the plan, for the audit trail".into());
    }
    if request.reason.trim().is_empty() {
        return Some(
            "--reason is empty: say why the plan is withdrawn (cancelled, wrong patient, ...), \
             for the audit trail"
                .into(),
        );
    }
    None
}

/// Carries out the waiting requests, oldest first, while the history is
/// usable (the daemon calls this between batches).
pub fn run_requests(
    dir: &Path,
    log: &mut DecisionLog,
    history: &mut PatientHistory,
) -> Result<(), Fatal> {
    let mut ids = pending(dir).map_err(storage(format!("listing {}", dir.display())))?;
    ids.sort();
    for id in ids {
        if !history.usable(Instant::now())? {
            break;
        }
        carry_out(dir, &id, log, history)?;
    }
    Ok(())
}

/// Carries out request `id` unless it was answered already.
fn carry_out(
    dir: &Path,
    id: &str,
    log: &mut DecisionLog,
    history: &mut PatientHistory,
) -> Result<(), Fatal> {
    let request_path = dir.join(format!("{id}{REQUEST_SUFFIX}"));
    if outcome::exists(&dir.join(format!("{id}{ANSWER_SUFFIX}")))
        .map_err(storage(format!("looking in {}", dir.display())))?
    {
        return remove(&request_path);
    }
    let request = match std::fs::read(&request_path) {
        Ok(bytes) => serde_json::from_slice::<ForgetRequest>(&bytes).map_err(|e| {
            format!("the request file {} is not a forget request: {e}", request_path.display())
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => Err(format!("the request file {} cannot be read: {e}", request_path.display())),
    };
    let answer = match request {
        Err(message) => {
            tracing::warn!("{message}; refused");
            ForgetAnswer { outcome: ForgetOutcome::Refused, message, event: None }
        }
        Ok(request) => match forget(log, history, &request, Some(id))? {
            Forgot::Done(answer) => *answer,
            Forgot::Unavailable | Forgot::Owed => return Ok(()),
        },
    };
    answer_request(dir, id, &answer)
}

/// After a withdrawal owed to the database is applied: answers its request,
/// if it came from one that is still waiting.
pub fn finish_request(dir: &Path, event: &ForgetEvent) -> Result<(), Fatal> {
    let Some(id) = &event.request else { return Ok(()) };
    let request = dir.join(format!("{id}{REQUEST_SUFFIX}"));
    let exists = |path: &Path| {
        outcome::exists(path).map_err(storage(format!("looking at {}", path.display())))
    };
    if !exists(&request)? {
        return Ok(());
    }
    if exists(&dir.join(format!("{id}{ANSWER_SUFFIX}")))? {
        return remove(&request);
    }
    tracing::info!(plan_id = %event.plan_id, by = %event.by, "finished a withdrawal a stop interrupted");
    answer_request(dir, id, &ForgetAnswer::withdrawn(event))
}

/// Writes the answer (atomically and durably), then removes the request.
fn answer_request(dir: &Path, id: &str, answer: &ForgetAnswer) -> Result<(), Fatal> {
    let path = dir.join(format!("{id}{ANSWER_SUFFIX}"));
    let action = || format!("writing the answer {}", path.display());
    let bytes =
        serde_json::to_vec_pretty(answer).map_err(io::Error::other).map_err(storage(action()))?;
    write_atomically(dir, &path, &bytes).map_err(storage(action()))?;
    remove(&dir.join(format!("{id}{REQUEST_SUFFIX}")))
}

/// Removes a request file and syncs its folder.
fn remove(path: &Path) -> Result<(), Fatal> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(storage(format!("removing {}", path.display()))(e)),
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    outcome::sync_dir(dir).map_err(storage(format!("syncing {}", dir.display())))
}

/// The ids of the request files waiting in `dir`.
fn pending(dir: &Path) -> io::Result<Vec<String>> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(id) = name.strip_suffix(REQUEST_SUFFIX).filter(|id| !id.starts_with('.')) {
            ids.push(id.to_string());
        }
    }
    Ok(ids)
}

/// Writes `bytes` to `path` through a synced temporary file and a rename.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = outcome::write_temp(dir, bytes)?;
    std::fs::File::open(&temp)?.sync_all()?;
    std::fs::rename(&temp, path)?;
    outcome::sync_dir(dir)
}

/// Drops a request for the daemon serving `layout`'s root; returns its id.
pub fn submit(layout: &Layout, request: &ForgetRequest) -> io::Result<String> {
    let dir = layout.requests();
    let nanos = jiff::Timestamp::now().as_nanosecond();
    let id = format!("forget-{nanos}-{}", std::process::id());
    let bytes = serde_json::to_vec_pretty(request).map_err(io::Error::other)?;
    // Not `write_atomically`: its temporary name is the daemon's own, which a
    // daemon starting now would remove as a crash's leftover under our feet.
    let temp = dir.join(format!(".{id}.tmp"));
    std::fs::write(&temp, bytes)?;
    std::fs::File::open(&temp)?.sync_all()?;
    std::fs::rename(&temp, dir.join(format!("{id}{REQUEST_SUFFIX}")))?;
    outcome::sync_dir(&dir)?;
    Ok(id)
}

/// Waits up to `patience` for the answer to request `id`; takes it (the
/// answer file is removed once read).
pub fn wait_for_answer(
    layout: &Layout,
    id: &str,
    patience: Duration,
) -> io::Result<Option<ForgetAnswer>> {
    let path = layout.requests().join(format!("{id}{ANSWER_SUFFIX}"));
    let start = Instant::now();
    loop {
        match std::fs::read(&path) {
            Ok(bytes) => {
                let answer = serde_json::from_slice(&bytes).map_err(io::Error::other)?;
                std::fs::remove_file(&path)?;
                return Ok(Some(answer));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        if start.elapsed() >= patience {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Why [`forget_directly`] did not answer.
#[derive(Debug, thiserror::Error)]
pub enum DirectError {
    /// A daemon holds the root: submit a request instead.
    #[error("embolint watch is serving this root")]
    DaemonRunning,
    /// The root, its log or its history cannot be used.
    #[error("{0}")]
    Failed(String),
}

/// Carries out a withdrawal with no daemon running: takes the root's lock,
/// first brings the history up to date with the decision log (as a daemon's
/// start-up would), then withdraws.
pub fn forget_directly(root: &Path, request: &ForgetRequest) -> Result<ForgetAnswer, DirectError> {
    let layout = Layout::new(root);
    if !layout.history().exists() {
        return Err(DirectError::Failed(format!(
            "{} has no history database ({}): is it the root embolint watch serves?",
            root.display(),
            layout.history().display()
        )));
    }
    let _lock = match layout::lock(&layout) {
        Ok(lock) => lock,
        Err(LockError::Held { .. }) => return Err(DirectError::DaemonRunning),
        Err(error) => return Err(DirectError::Failed(error.to_string())),
    };
    let failed = |fatal: Fatal| DirectError::Failed(fatal.to_string());
    let decisions = layout.decisions();
    let (mut log, tail) = DecisionLog::open(&decisions, &layout.state).map_err(|e| {
        DirectError::Failed(format!("cannot open the decision log {}: {e}", decisions.display()))
    })?;
    let mut history = PatientHistory::new(&layout, owed_by(&tail));
    let unavailable = |history: &PatientHistory| {
        DirectError::Failed(history.outage().unwrap_or("the history is unavailable").to_string())
    };
    if !history.usable(Instant::now()).map_err(failed)? {
        return Err(unavailable(&history));
    }
    match forget(&mut log, &mut history, request, None).map_err(failed)? {
        Forgot::Done(answer) => Ok(*answer),
        Forgot::Unavailable => Err(unavailable(&history)),
        Forgot::Owed => Err(DirectError::Failed(format!(
            "the withdrawal is recorded in the decision log, but the history database failed \
             ({}); it is applied when embolint watch next starts",
            history.outage().unwrap_or("unknown cause")
        ))),
    }
}
