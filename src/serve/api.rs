//! The `/v1/` handlers, `/healthz`, `/readyz` and `/metrics`.

use super::http::{error, json_bytes, read_json_body, App};
use super::service::Service;
use super::staging::{self, Staged};
use crate::audit::decision_index::Filter;
use crate::check::{self as checker, sha256_hex, PlanFile};
use crate::history::{History, Location};
use crate::verdict::Outcome;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a recorded plan's request waits for its record.
const RECORD_WAIT: Duration = Duration::from_secs(30);

thread_local! {
    /// Each worker thread's read-only connection to the history.
    static HISTORY: RefCell<Option<History>> = const { RefCell::new(None) };
}

/// `POST /v1/check`: judges the body as a plan with the history read-only;
/// records nothing.
pub async fn check(
    State(app): State<App>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let service = Arc::clone(&app.service);
    let bytes = match read_json_body(&headers, body, service.max_plan_bytes).await {
        Ok(bytes) => bytes,
        Err(answer) => return answer,
    };
    let name = query.get("file").cloned().unwrap_or_else(|| "request-body".into());
    // Judging takes tens of microseconds (a plan at the size limit, about
    // a millisecond): done on the worker itself, with its own read-only
    // connection to the history, rather than handed to another thread. The
    // shared history's client blocks on a runtime of its own, which cannot
    // run inside a worker of this one: the worker hands its other tasks
    // over first (its connection stays its own).
    let judged = if matches!(service.history, Location::Postgres(_)) {
        tokio::task::block_in_place(|| dry_run(&service, &name, &bytes))
    } else {
        dry_run(&service, &name, &bytes)
    };
    match judged {
        Ok(verdict) => json_bytes(StatusCode::OK, verdict),
        Err(message) => error(StatusCode::SERVICE_UNAVAILABLE, message),
    }
}

/// Judges `bytes` against the rules in force and the history (read-only).
fn dry_run(service: &Service, name: &str, bytes: &[u8]) -> Result<Vec<u8>, String> {
    let started = Instant::now();
    let rules = service.rules();
    let verdict = with_history(service, |history| {
        checker::check(PlanFile::new(name, bytes), &rules, Some(history)).map(|c| c.verdict)
    })?;
    service.metrics.check_seconds.observe(started.elapsed().as_secs_f64());
    serde_json::to_vec(&verdict).map_err(|e| e.to_string())
}

/// Runs `read` on this thread's read-only connection to the history,
/// opened on first use and again after an error.
fn with_history<T, E: std::fmt::Display>(
    service: &Service,
    read: impl FnOnce(&History) -> Result<T, E>,
) -> Result<T, String> {
    HISTORY.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            let opened = service
                .history
                .open_read_only()
                .map_err(|e| format!("the patient history cannot be read now: {e}"))?;
            *cell = Some(opened);
        }
        let history = cell.as_ref().ok_or("the patient history cannot be read now")?;
        read(history).map_err(|e| {
            *cell = None;
            format!("the patient history cannot be read now: {e}")
        })
    })
}

/// `POST /v1/plans`: judges and records the body as a dropped plan; answers
/// once its record is on disk.
pub async fn plans(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
    let service = Arc::clone(&app.service);
    let bytes = match read_json_body(&headers, body, service.max_plan_bytes).await {
        Ok(bytes) => bytes,
        Err(answer) => return answer,
    };
    if headers.get_all("idempotency-key").iter().count() > 1 {
        // Which one the client meant cannot be known: a guess could return
        // another plan's record, or record this one twice.
        return error(
            StatusCode::BAD_REQUEST,
            "the request carries more than one Idempotency-Key header; send one",
        );
    }
    let key = headers.get("idempotency-key").map(|v| v.to_str().unwrap_or(""));
    let name = match key {
        Some(key) => match staging::keyed_name(key) {
            Some(name) => name,
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "an Idempotency-Key is 1 to {} visible ASCII characters",
                        staging::MAX_KEY_BYTES
                    ),
                )
            }
        },
        None => staging::fresh_name(),
    };
    record_plan(service, name, bytes.to_vec()).await
}

/// What became of a plan handed to the recorder.
pub enum Recorded {
    /// Its record (the log line), and whether this request created it.
    Record(Vec<u8>, bool),
    /// Why it has no record now.
    Refused(Refusal),
}

/// Why a plan sent to be recorded has no record: the HTTP status and the
/// message of the error answer (CDS Hooks puts the message in a card).
pub struct Refusal {
    /// The answer's status.
    pub status: StatusCode,
    /// What went wrong, in words.
    pub message: String,
    /// The same said to a clinician signing an order, where the message
    /// speaks of HTTP things (an `Idempotency-Key`) that mean nothing
    /// there; `None` when the message serves both.
    on_order: Option<&'static str>,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal { status, message: message.into(), on_order: None }
    }

    /// With the words for a card on a signed order (see `on_order`).
    fn on_order(self, words: &'static str) -> Refusal {
        Refusal { on_order: Some(words), ..self }
    }

    /// What went wrong, as a card on a signed order says it.
    pub fn said_on_order(&self) -> &str {
        self.on_order.unwrap_or(&self.message)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error(self.status, self.message)
    }
}

/// Stages `bytes` as `name` and waits for its record; answers 201 with the
/// record, 200 with the first record for a retry, 409 for a key reused
/// with another body.
pub async fn record_plan(service: Arc<Service>, name: String, bytes: Vec<u8>) -> Response {
    match record(service, name, bytes).await {
        Recorded::Record(line, created) => {
            let status = if created { StatusCode::CREATED } else { StatusCode::OK };
            json_bytes(status, line)
        }
        Recorded::Refused(refusal) => refusal.into_response(),
    }
}

/// The work of [`record_plan`].
pub async fn record(service: Arc<Service>, name: String, bytes: Vec<u8>) -> Recorded {
    if !service.history_usable() {
        return Recorded::Refused(Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the patient history cannot be used now, so no plan is judged; try again later",
        ));
    }
    let sha256 = sha256_hex(&bytes);
    let (send, receive) = tokio::sync::oneshot::channel();
    {
        // The index is caught up by the loop after each batch is placed,
        // so a record found here is of a plan already in its folder.
        let mut recorded = service.recorded();
        if let Some(seq) = recorded.index.by_staging_name(&name) {
            drop(recorded);
            return first_record(&service, seq, &sha256);
        }
        recorded.wait_for(&name, send);
    }
    let staged = service.stager.stage(name.clone(), bytes, service.max_plan_bytes).await;
    let created = match staged {
        Ok(Staged::Created) => true,
        Ok(Staged::AlreadyThere(there)) if sha256_hex(&there) == sha256 => false,
        Ok(Staged::AlreadyThere(_)) => return Recorded::Refused(key_reused()),
        Err(e) => {
            return Recorded::Refused(Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("cannot put the plan into the inbox: {e}"),
            ))
        }
    };
    service.wakes.push(crate::watch::wake::Wake::Inbox {
        name: name.clone().into(),
        writing: None,
        renamed_in: true,
    });
    {
        // A retry may have raced the first copy's record: it is then there.
        let recorded = service.recorded();
        if let Some(seq) = recorded.index.by_staging_name(&name) {
            drop(recorded);
            // Recorded already: this request's copy (the loop was quick:
            // created) or a first copy this retry raced (then this copy is
            // removed unrecorded by the loop). One record either way.
            return match first_record(&service, seq, &sha256) {
                Recorded::Record(line, _) => Recorded::Record(line, created),
                refused => refused,
            };
        }
    }
    match tokio::time::timeout(RECORD_WAIT, receive).await {
        Ok(Ok(seq)) => match read_record(&service, seq) {
            Ok(line) if record_sha256(&line).as_deref() == Some(sha256.as_str()) => {
                Recorded::Record(line, created)
            }
            Ok(_) => Recorded::Refused(key_reused()),
            Err(answer) => Recorded::Refused(answer),
        },
        _ => Recorded::Refused(
            Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the plan is in the inbox but not yet recorded; send the same request again with \
                 the same Idempotency-Key to get its record",
            )
            .on_order(
                "the plan was received but its decision was not written within 30 seconds; it \
                 will be judged, and signing again shows the result",
            ),
        ),
    }
}

/// The first record of a retried key: 200, or 409 for another body.
fn first_record(service: &Service, seq: u64, sha256: &str) -> Recorded {
    match read_record(service, seq) {
        Ok(line) if record_sha256(&line).as_deref() == Some(sha256) => {
            Recorded::Record(line, false)
        }
        Ok(_) => Recorded::Refused(key_reused()),
        Err(answer) => Recorded::Refused(answer),
    }
}

/// 409: a key used before with another body.
fn key_reused() -> Refusal {
    Refusal::new(
        StatusCode::CONFLICT,
        "this Idempotency-Key was used before with another plan; a new plan needs a new key",
    )
    .on_order(
        "the ordering system sent this hook instance before with another plan, and a hook \
         instance is judged once; this plan was not judged (the ordering system must send a \
         changed order under a new hookInstance)",
    )
}

/// The record line with this `seq`.
fn read_record(service: &Service, seq: u64) -> Result<Vec<u8>, Refusal> {
    match service.recorded().index.record(seq) {
        Ok(Some(line)) => Ok(line),
        Ok(None) => Err(Refusal::new(StatusCode::NOT_FOUND, format!("no decision record {seq}"))),
        Err(e) => {
            Err(Refusal::new(StatusCode::SERVICE_UNAVAILABLE, format!("cannot read the log: {e}")))
        }
    }
}

/// The `sha256` of a record line (read without building the rest of the
/// record: this runs for every recorded request).
fn record_sha256(line: &[u8]) -> Option<String> {
    /// The one member wanted; serde_json skips the others.
    #[derive(serde::Deserialize)]
    struct Hashed {
        /// The plan's sha256, as the record gives it.
        sha256: String,
    }
    serde_json::from_slice::<Hashed>(line).ok().map(|hashed| hashed.sha256)
}

/// `GET /v1/rules`.
pub async fn rules(State(app): State<App>) -> Response {
    let rules = app.service.rules();
    match serde_json::to_vec_pretty(&*rules) {
        Ok(bytes) => json_bytes(StatusCode::OK, bytes),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// Most records in one page of `/v1/decisions`.
const MAX_PAGE: usize = 1000;

/// The query parameters of `GET /v1/decisions`.
const DECISION_FILTERS: [&str; 7] =
    ["verdict", "rule", "patient", "since", "until", "limit", "before"];

/// `GET /v1/decisions`.
pub async fn decisions(
    State(app): State<App>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    // A misspelt or repeated filter would otherwise be ignored and answer
    // with records it was meant to leave out (an auditor asking for one
    // patient would read everyone's).
    let mut query = HashMap::new();
    for (key, value) in pairs {
        if !DECISION_FILTERS.contains(&key.as_str()) {
            let known = DECISION_FILTERS.join(", ");
            return error(
                StatusCode::BAD_REQUEST,
                format!("unknown query parameter {key:?}: the filters are {known}"),
            );
        }
        if query.contains_key(&key) {
            return error(StatusCode::BAD_REQUEST, format!("{key} is given more than once"));
        }
        query.insert(key, value);
    }
    let not_a_verdict = |v: &&String| Outcome::named(v).is_none();
    if let Some(verdict) = query.get("verdict").filter(not_a_verdict) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("verdict={verdict:?} is none of {}", Outcome::names()),
        );
    }
    let date = |key: &str| -> Result<Option<String>, Response> {
        match query.get(key) {
            None => Ok(None),
            Some(text) if text.parse::<jiff::civil::Date>().is_ok() => Ok(Some(text.clone())),
            Some(text) => Err(error(
                StatusCode::BAD_REQUEST,
                format!("{key}={text:?} is not an ISO date (YYYY-MM-DD)"),
            )),
        }
    };
    let number = |key: &str| -> Result<Option<u64>, Response> {
        match query.get(key) {
            None => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                error(StatusCode::BAD_REQUEST, format!("{key}={text:?} is not a whole number"))
            }),
        }
    };
    let parsed = (|| {
        let filter = Filter {
            verdict: query.get("verdict").cloned(),
            rule: query.get("rule").cloned(),
            patient: query.get("patient").cloned(),
            since: date("since")?,
            until: date("until")?,
            before: number("before")?,
        };
        let limit = number("limit")?.unwrap_or(50);
        if limit == 0 || limit > MAX_PAGE as u64 {
            return Err(error(StatusCode::BAD_REQUEST, "limit is 1 to 1000"));
        }
        Ok((filter, limit as usize))
    })();
    let (filter, limit) = match parsed {
        Ok(parsed) => parsed,
        Err(answer) => return answer,
    };
    let service = Arc::clone(&app.service);
    if let Some(rule) = &filter.rule {
        // A misspelt rule id would answer "none", which an auditor reads as
        // "this rule never fired".
        let known =
            service.rules().knows_rule(rule) || service.recorded().index.has_findings_of(rule);
        if !known {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "rule={rule:?} is no rule of the rule set in force, and no decision of the \
                     log has a finding of it: check its spelling (GET /v1/rules lists the rules)"
                ),
            );
        }
    }
    let page = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        let recorded = service.recorded();
        let (seqs, before) = recorded.index.query(&filter, limit);
        let mut body = b"{\"decisions\":[".to_vec();
        for (i, seq) in seqs.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend(recorded.index.record(*seq)?.unwrap_or_else(|| b"null".to_vec()));
        }
        let before = before.map_or("null".to_string(), |b| b.to_string());
        body.extend(format!("],\"before\":{before}}}").into_bytes());
        Ok(body)
    })
    .await;
    match page {
        Ok(Ok(body)) => json_bytes(StatusCode::OK, body),
        Ok(Err(e)) => error(StatusCode::SERVICE_UNAVAILABLE, format!("cannot read the log: {e}")),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `GET /v1/decisions/{seq}`.
pub async fn decision(State(app): State<App>, Path(seq): Path<String>) -> Response {
    let Ok(seq) = seq.parse::<u64>() else {
        return error(StatusCode::NOT_FOUND, format!("no decision record {seq:?}"));
    };
    match read_record(&app.service, seq) {
        Ok(line) => json_bytes(StatusCode::OK, line),
        Err(refusal) => refusal.into_response(),
    }
}

/// `GET /v1/patients/{id}/sessions`.
pub async fn sessions(State(app): State<App>, Path(id): Path<String>) -> Response {
    let location = app.service.history.clone();
    let found = if matches!(location, Location::Postgres(_)) {
        // On the worker's own connection (see `check`), rather than a new
        // connection to the server per request.
        let service = Arc::clone(&app.service);
        Ok(tokio::task::block_in_place(|| {
            with_history(&service, |history| history.sessions_of(&id)).and_then(|sessions| {
                serde_json::to_vec_pretty(&sessions).map_err(|e| e.to_string())
            })
        }))
    } else {
        tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
            let history = location.open_read_only().map_err(|e| e.to_string())?;
            let sessions = history.sessions_of(&id).map_err(|e| e.to_string())?;
            serde_json::to_vec_pretty(&sessions).map_err(|e| e.to_string())
        })
        .await
    };
    match found {
        Ok(Ok(body)) => json_bytes(StatusCode::OK, body),
        Ok(Err(e)) => {
            error(StatusCode::SERVICE_UNAVAILABLE, format!("the history cannot be read: {e}"))
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `GET /healthz`: the process runs.
pub async fn healthz() -> Response {
    axum::Json(serde_json::json!({ "status": "ok" })).into_response()
}

/// `GET /readyz`: rules loaded, log writable, history usable.
pub async fn readyz(State(app): State<App>) -> Response {
    if !app.service.history_usable() {
        let cause = app.service.history_outage().unwrap_or_else(|| "cause not known yet".into());
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the patient history cannot be used now: no plan is judged until it can ({cause})"
            ),
        );
    }
    if let Some(reason) = app.service.log_unwritable() {
        return error(StatusCode::SERVICE_UNAVAILABLE, reason);
    }
    axum::Json(serde_json::json!({ "status": "ready" })).into_response()
}

/// `GET /metrics`.
pub async fn metrics(State(app): State<App>) -> Response {
    let text = app.service.metrics.render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}
