//! Patient history (SPEC §5): the sessions of every plan that passed, kept
//! per patient, so `session-spacing` also catches two plans of one patient
//! dropped on different days.
//!
//! Two stores stand behind one type, [`History`]:
//! - [`sqlite`]: the embedded default, `ROOT/state/history.sqlite`, one per
//!   daemon; `check --history DB` opens it read-only.
//! - [`postgres`]: one history shared by several daemons (`history_url =
//!   "postgres://..."`), each judging a patient's plan while it holds that
//!   patient's lock in the database, so two daemons never both pass plans
//!   that are too close together. It also keeps a copy of every decision
//!   record, for review across sites.
//!
//! Both hold the same rows: one plan in force per `plan_id` (a passing
//! revision replaces it), with the sessions its file recorded — planned and
//! prior alike — looked up by the patient id compared as a name.
//!
//! A daemon batch writes inside one transaction ([`History::begin`] …
//! [`History::commit`]): plans judged later in the batch read the rows of
//! plans passed earlier in it, and nothing is visible to others until the
//! batch commits. When it commits relative to the decision log differs by
//! store; `watch::patient_history` explains why.

pub mod postgres;
pub mod site;
pub mod sqlite;

use jiff::civil::Date;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::path::Path;
use std::time::Duration;

/// A session of a plan that passed earlier, as kept in the history.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RecordedSession {
    /// The patient it belongs to: only this patient's new plans are judged
    /// against it.
    pub patient_id: String,
    /// The plan it is a session of, named in findings; this plan (any
    /// version of it) is never judged against it.
    pub plan_id: String,
    /// The plan whose file recorded it as one of its `prior_sessions`;
    /// `None` for a planned session of `plan_id` itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listed_by: Option<String>,
    /// The session's `number` in that plan, when it had one.
    pub number: Option<u64>,
    /// Position in that plan's `sessions` (in the listing plan's
    /// `prior_sessions` for a prior session).
    pub index: usize,
    /// The day of the session: what spacing is measured from.
    pub date: Date,
    /// When that plan was judged (UTC).
    pub recorded_at: jiff::Timestamp,
}

/// A session as a recorded plan lists it: (index in the plan's `sessions`,
/// its `number` if given, its date).
pub type PlannedSession = (usize, Option<u64>, Date);

/// A passed plan as the history records it. The daemon writes the same
/// object into the plan's decision record (`watch.history`), so the log
/// alone can finish, or rebuild, the history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedPlan {
    /// The plan's id: a later plan with the same id replaces this one.
    pub plan_id: String,
    /// The patient whose sessions these are.
    pub patient_id: String,
    /// sha256 of the plan file's bytes.
    pub file_sha256: String,
    /// When it was judged (UTC).
    pub recorded_at: jiff::Timestamp,
    /// sha256 of the rule set that passed it.
    pub rule_set_sha256: String,
    /// The decision record that passed it (links history to the decision log).
    pub decision_key: String,
    /// Its sessions: (index, number, date).
    #[serde(serialize_with = "sessions_out", deserialize_with = "sessions_in")]
    pub sessions: Vec<PlannedSession>,
    /// Its `prior_sessions`: sessions of the patient too. Absent from
    /// decision records written before they were recorded (read as none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prior_sessions: Vec<PriorRecord>,
}

/// A prior session as a recorded plan lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorRecord {
    /// Position in the plan's `prior_sessions`.
    pub index: usize,
    /// The plan it names, if it names one: it is a session of that plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    /// The day of the session.
    pub date: Date,
}

/// A session as written in JSON: named members, not a tuple.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionRow {
    index: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    number: Option<u64>,
    date: Date,
}

fn sessions_out<S: Serializer>(sessions: &[PlannedSession], out: S) -> Result<S::Ok, S::Error> {
    out.collect_seq(sessions.iter().map(|&(index, number, date)| SessionRow {
        index,
        number,
        date,
    }))
}

fn sessions_in<'de, D: Deserializer<'de>>(input: D) -> Result<Vec<PlannedSession>, D::Error> {
    let rows = Vec::<SessionRow>::deserialize(input)?;
    Ok(rows.into_iter().map(|r| (r.index, r.number, r.date)).collect())
}

/// Why the history could not be used. A plan is never passed without it.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The file could not be opened (missing for a read-only use, no
    /// permission, a folder in its place).
    #[error("the history database {path} cannot be opened: {source}")]
    Open {
        /// The database file.
        path: String,
        /// SQLite's reason.
        source: rusqlite::Error,
    },
    /// The daemon's database is gone although decisions were already made
    /// with it: an empty new one would silently forget every patient.
    #[error(
        "the history database {path} is missing, but the decision log already holds decisions: \
         restore it from a backup, or rebuild it from the decision log (stop embolint, run \
         `embolint history --rebuild --root DIR`, start embolint)"
    )]
    Missing {
        /// The database file.
        path: String,
    },
    /// Another process holds a lock longer than [`BUSY_TIMEOUT`].
    #[error(
        "the history database {path} is locked by another process beyond the {}-second \
         timeout: close the program holding it (a database browser, a backup tool, an sqlite3 \
         shell)",
        BUSY_TIMEOUT.as_secs()
    )]
    Busy {
        /// The database file.
        path: String,
    },
    /// Not a database, or a damaged one.
    #[error(
        "the history database {path} is damaged or not an embolint history ({detail}): restore \
         it from a backup, or rebuild it from the decision log (stop embolint, move the damaged \
         file away, run `embolint history --rebuild --root DIR`)"
    )]
    Corrupt {
        /// The database file.
        path: String,
        /// What was wrong.
        detail: String,
    },
    /// Written by a newer embolint, whose schema this one does not know.
    #[error("the history database {path} has schema version {found}, newer than this embolint ({supported}); upgrade embolint")]
    TooNew {
        /// The database file.
        path: String,
        /// Its `user_version`.
        found: i64,
        /// The newest version this embolint knows.
        supported: i64,
    },
    /// Written by an older embolint, and opened read-only, so it cannot be
    /// migrated here.
    #[error(
        "the history database {path} has schema version {found}, older than this embolint's \
         ({supported}): start the embolint daemon on its root once (it migrates the database, \
         keeping every row), then try again"
    )]
    TooOld {
        /// The database file.
        path: String,
        /// Its `user_version`.
        found: i64,
        /// The version this embolint reads.
        supported: i64,
    },
    /// Any other SQLite failure (disk full, I/O error, read-only file).
    #[error("the history database {path} failed: {source}")]
    Query {
        /// The database file.
        path: String,
        /// SQLite's reason.
        source: rusqlite::Error,
    },
    /// The shared history's server cannot be reached (down, restarting,
    /// network cut, refused credentials).
    #[error(
        "the shared history {url} cannot be reached: {detail}. Plans wait in the inbox and \
         embolint connects again by itself; check that the PostgreSQL server is running and \
         reachable from this machine"
    )]
    Unreachable {
        /// The server and database, without any password.
        url: String,
        /// The client's reason.
        detail: String,
    },
    /// The shared history's server answered with an error.
    #[error("the shared history {url} failed: {detail}")]
    Server {
        /// The server and database, without any password.
        url: String,
        /// The server's reason.
        detail: String,
    },
    /// Another daemon is judging a plan of the same patient right now: the
    /// plan waits for the next batch (not an outage).
    #[error("another embolint is judging a plan of this patient in the shared history {url}")]
    PatientBusy {
        /// The server and database, without any password.
        url: String,
    },
}

impl HistoryError {
    /// True when the history is fine but a patient is being judged
    /// elsewhere at this moment: the plan is judged a moment later.
    pub fn is_patient_busy(&self) -> bool {
        matches!(self, HistoryError::PatientBusy { .. })
    }
}

/// How the history looks a patient up: the id compared as a name (SPEC
/// §5), so "PAT-W ", "pat-w" and "PAT-W" are one patient.
pub fn patient_key(patient_id: &str) -> String {
    crate::names::normalize(patient_id)
}

/// How long a locked database is waited for before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A PostgreSQL connection URL (`postgres://user:password@host/db`). It may
/// hold a password, so it is never printed as it is: `Debug` and
/// [`HistoryUrl::shown`] give it without.
#[derive(Clone, PartialEq, Eq)]
pub struct HistoryUrl(String);

impl HistoryUrl {
    /// A URL, if `text` is one of PostgreSQL's (`postgres://` or
    /// `postgresql://`); what is wrong with it otherwise.
    pub fn new(text: &str) -> Result<HistoryUrl, String> {
        if !postgres::is_url(text) {
            return Err(format!(
                "history_url must be a PostgreSQL URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE), \
                 not `{}`",
                if text.contains('@') { "(not shown: it may hold a password)" } else { text }
            ));
        }
        text.parse::<::postgres::Config>().map_err(|e| {
            format!("history_url {} cannot be read: {e}", postgres::shown_url(text))
        })?;
        Ok(HistoryUrl(text.to_string()))
    }

    /// The URL as given, password included: only for connecting.
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// The URL without its password, for people.
    pub fn shown(&self) -> String {
        postgres::shown_url(&self.0)
    }
}

impl std::fmt::Debug for HistoryUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.shown())
    }
}

/// Where a history is kept: the root's SQLite file, or a shared PostgreSQL
/// database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// An embedded SQLite database file.
    File(std::path::PathBuf),
    /// A shared PostgreSQL database.
    Postgres(HistoryUrl),
}

impl Location {
    /// For messages and `embolint config`: the file, or the URL without its
    /// password.
    pub fn shown(&self) -> String {
        match self {
            Location::File(path) => path.display().to_string(),
            Location::Postgres(url) => url.shown(),
        }
    }

    /// Opens the history for reading only (a dry run, `embolint history`).
    pub fn open_read_only(&self) -> Result<History, HistoryError> {
        match self {
            Location::File(path) => History::open_read_only(path),
            Location::Postgres(url) => {
                Ok(History::Postgres(Box::new(postgres::Postgres::open(url.secret(), None)?)))
            }
        }
    }
}

/// An open history, in either store.
pub enum History {
    /// The embedded SQLite database.
    Sqlite(sqlite::Sqlite),
    /// The shared PostgreSQL database (boxed: its client is large).
    Postgres(Box<postgres::Postgres>),
}

impl History {
    /// Opens (creating and migrating as needed) a SQLite database for writing.
    pub fn open(path: &Path) -> Result<History, HistoryError> {
        sqlite::Sqlite::open(path).map(History::Sqlite)
    }

    /// Opens an existing SQLite database for writing (migrating it as
    /// needed); [`HistoryError::Missing`] when there is no file.
    pub fn open_existing(path: &Path) -> Result<History, HistoryError> {
        sqlite::Sqlite::open_existing(path).map(History::Sqlite)
    }

    /// Opens an existing SQLite database read-only (`check --history DB`).
    pub fn open_read_only(path: &Path) -> Result<History, HistoryError> {
        sqlite::Sqlite::open_read_only(path).map(History::Sqlite)
    }

    /// Connects to the shared history at `url` for writing as daemon
    /// `site`, applying the schema's migrations.
    pub fn open_shared(url: &str, site: &str) -> Result<History, HistoryError> {
        postgres::Postgres::open(url, Some(site)).map(|db| History::Postgres(Box::new(db)))
    }

    /// The database, as shown in messages (never with a password).
    pub fn path(&self) -> &str {
        match self {
            History::Sqlite(db) => db.path(),
            History::Postgres(db) => db.shown(),
        }
    }

    /// Every recorded session of `patient_id` (compared as a name), oldest
    /// first: the planned and the prior sessions of every passed plan.
    pub fn sessions_of(&self, patient_id: &str) -> Result<Vec<RecordedSession>, HistoryError> {
        match self {
            History::Sqlite(db) => db.sessions_of(patient_id),
            History::Postgres(db) => db.sessions_of(patient_id),
        }
    }

    /// Inside a batch: makes this transaction the only one judging
    /// `patient_id` until it ends. The shared history takes the patient's
    /// lock in the database, so that two daemons never judge plans of one
    /// patient at the same moment against a history that lacks the other's;
    /// the SQLite history needs none (its batch holds the whole database's
    /// write lock). [`HistoryError::PatientBusy`] when another daemon holds
    /// it and waiting could deadlock: the plan is judged in the next batch.
    pub fn lock_patient(&self, patient_id: &str) -> Result<(), HistoryError> {
        match self {
            History::Sqlite(_) => Ok(()),
            History::Postgres(db) => db.lock_patient(patient_id),
        }
    }

    /// Records a plan that passed, replacing an earlier version with the same
    /// `plan_id` (a revision), in one transaction.
    pub fn record(&mut self, plan: &RecordedPlan) -> Result<(), HistoryError> {
        self.in_transaction(|history| history.put(plan))
    }

    /// Withdraws a plan (a cancelled one), in one transaction; returns its
    /// record if it was there.
    pub fn forget(&mut self, plan_id: &str) -> Result<Option<RecordedPlan>, HistoryError> {
        self.in_transaction(|history| history.remove(plan_id))
    }

    /// True when the decision record `key` reached the history (its plan is
    /// there; in the shared history: this daemon's decision was stored, even
    /// if a later revision or a withdrawal has replaced its rows since).
    pub fn has_decision(&self, key: &str) -> Result<bool, HistoryError> {
        match self {
            History::Sqlite(db) => db.has_decision(key),
            History::Postgres(db) => db.has_decision(key),
        }
    }

    /// The recorded plan `plan_id`, with its sessions.
    pub fn plan(&self, plan_id: &str) -> Result<Option<RecordedPlan>, HistoryError> {
        match self {
            History::Sqlite(db) => db.plan(plan_id),
            History::Postgres(db) => db.plan(plan_id),
        }
    }

    /// Every recorded plan, ordered by plan id (for audits and for
    /// comparing the database with the decision log).
    pub fn plans(&self) -> Result<Vec<RecordedPlan>, HistoryError> {
        match self {
            History::Sqlite(db) => db.plans(),
            History::Postgres(db) => db.plans(),
        }
    }

    /// Starts a write transaction, taking the database's write lock now
    /// (SQLite, waiting up to [`BUSY_TIMEOUT`]), so a batch never finds the
    /// database locked half-way. A transaction left open by an earlier
    /// failure is rolled back first.
    pub fn begin(&self) -> Result<(), HistoryError> {
        match self {
            History::Sqlite(db) => db.begin(),
            History::Postgres(db) => db.begin(0),
        }
    }

    /// Starts the write transaction of daemon batch `batch`: in the shared
    /// history its rows carry that number, so rows of a batch whose records
    /// never reached the log are known after a crash (see
    /// [`History::undo_unlogged`]).
    pub fn begin_batch(&self, batch: u64) -> Result<(), HistoryError> {
        match self {
            History::Sqlite(db) => db.begin(),
            History::Postgres(db) => db.begin(batch),
        }
    }

    /// Makes the open transaction's changes durable.
    pub fn commit(&self) -> Result<(), HistoryError> {
        match self {
            History::Sqlite(db) => db.commit(),
            History::Postgres(db) => db.commit(),
        }
    }

    /// Abandons the open transaction, if any (best effort: a connection
    /// that cannot even roll back is dropped by its owner).
    pub fn rollback(&self) {
        match self {
            History::Sqlite(db) => db.rollback(),
            History::Postgres(db) => db.rollback(),
        }
    }

    /// Inside an open transaction: records `plan`, replacing any plan with
    /// the same `plan_id`.
    pub fn put(&self, plan: &RecordedPlan) -> Result<(), HistoryError> {
        match self {
            History::Sqlite(db) => db.put(plan),
            History::Postgres(db) => db.put(plan),
        }
    }

    /// Inside an open transaction: removes plan `plan_id`; returns its
    /// record if it was there.
    pub fn remove(&self, plan_id: &str) -> Result<Option<RecordedPlan>, HistoryError> {
        match self {
            History::Sqlite(db) => db.remove(plan_id),
            History::Postgres(db) => db.remove(plan_id),
        }
    }

    /// Whether this is the shared (PostgreSQL) history.
    pub fn is_shared(&self) -> bool {
        matches!(self, History::Postgres(_))
    }

    /// Runs `work` in its own transaction: committed if it succeeds,
    /// rolled back if it fails.
    fn in_transaction<T>(
        &mut self,
        work: impl FnOnce(&History) -> Result<T, HistoryError>,
    ) -> Result<T, HistoryError> {
        self.begin()?;
        match work(self).and_then(|value| self.commit().map(|()| value)) {
            Ok(value) => Ok(value),
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }
}
