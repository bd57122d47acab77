//! Patient history (SPEC §5): the sessions of every plan that passed, kept
//! per patient in an embedded SQLite database, so `session-spacing` also
//! catches two plans of one patient dropped on different days.
//!
//! The daemon keeps it at `ROOT/state/history.sqlite`; `check --history DB`
//! opens it read-only. The schema is versioned with `PRAGMA user_version`
//! and migrated in code ([`MIGRATIONS`]); the database runs in WAL mode, so
//! readers (`check --history`, `embolint history`) never wait for the daemon
//! and the daemon never waits for them.
//!
//! # Schema (version 2)
//! - `plans(plan_id PRIMARY KEY, patient_id, file_sha256, recorded_at,
//!   rule_set_sha256, decision_key UNIQUE, patient_key)`, indexed by
//!   `patient_key` (the patient id compared as a name: "PAT-W " is
//!   `pat-w`): one row per plan in force; a passing revision replaces its
//!   row.
//! - `sessions(plan_id → plans ON DELETE CASCADE, prior, idx, of_plan,
//!   number, date)`, keyed by `(plan_id, prior, idx)`: the sessions the
//!   plan's file recorded — its planned `sessions` (`prior` 0) and its
//!   `prior_sessions` (`prior` 1), since both are sessions of the patient.
//!   `of_plan` is the plan a prior session names, if it names one: the
//!   session is one of that plan's. A revision of the recording plan
//!   replaces exactly the rows its file recorded.
//!
//! Version 1 had no prior sessions and no `patient_key`; opening it for
//! writing migrates it (its rows are kept, each patient's key worked out).
//!
//! A daemon batch writes inside one transaction ([`History::begin`] …
//! [`History::commit`]): plans judged later in the batch read the rows of
//! plans passed earlier in it, and nothing is visible to others, or durable,
//! until the batch's decision records are on disk and the batch commits.

use jiff::civil::Date;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
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
}

/// Code run after a migration's SQL, in its transaction.
type MigrationCode = fn(&History) -> Result<(), HistoryError>;

/// One step of the schema: SQL, then (when the SQL cannot do it alone)
/// code that fills in what the SQL added.
struct Migration {
    /// The statements.
    sql: &'static str,
    /// Run after `sql`, in the same transaction.
    then: Option<MigrationCode>,
}

/// Schema migrations, in order; `user_version` counts those applied.
const MIGRATIONS: &[Migration] = &[
    // 1: plans that passed, and their sessions.
    Migration {
        sql: "CREATE TABLE plans (
            plan_id          TEXT PRIMARY KEY NOT NULL,
            patient_id       TEXT NOT NULL,
            file_sha256      TEXT NOT NULL,
            recorded_at      TEXT NOT NULL,
            rule_set_sha256  TEXT NOT NULL,
            decision_key     TEXT NOT NULL
         );
         CREATE INDEX plans_by_patient ON plans(patient_id);
         CREATE UNIQUE INDEX plans_by_decision ON plans(decision_key);
         CREATE TABLE sessions (
            plan_id   TEXT NOT NULL REFERENCES plans(plan_id) ON DELETE CASCADE,
            idx       INTEGER NOT NULL,
            number    INTEGER,
            date      TEXT NOT NULL,
            PRIMARY KEY (plan_id, idx)
         );",
        then: None,
    },
    // 2: prior sessions recorded too (under the plan they name), and the
    // patient looked up by the id compared as a name.
    Migration {
        sql: "CREATE TABLE sessions_v2 (
            plan_id   TEXT NOT NULL REFERENCES plans(plan_id) ON DELETE CASCADE,
            prior     INTEGER NOT NULL,
            idx       INTEGER NOT NULL,
            of_plan   TEXT,
            number    INTEGER,
            date      TEXT NOT NULL,
            PRIMARY KEY (plan_id, prior, idx)
         );
         INSERT INTO sessions_v2 (plan_id, prior, idx, of_plan, number, date)
            SELECT plan_id, 0, idx, NULL, number, date FROM sessions;
         DROP TABLE sessions;
         ALTER TABLE sessions_v2 RENAME TO sessions;
         ALTER TABLE plans ADD COLUMN patient_key TEXT NOT NULL DEFAULT '';
         DROP INDEX plans_by_patient;
         CREATE INDEX plans_by_patient_key ON plans(patient_key);",
        then: Some(History::fill_patient_keys),
    },
];

/// How the history looks a patient up: the id compared as a name (SPEC
/// §5), so "PAT-W ", "pat-w" and "PAT-W" are one patient.
pub fn patient_key(patient_id: &str) -> String {
    crate::names::normalize(patient_id)
}

/// How long a locked database is waited for before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// An open history database.
pub struct History {
    /// The SQLite connection.
    connection: Connection,
    /// For messages.
    path: String,
}

impl History {
    /// Opens (creating and migrating as needed) a database for writing.
    pub fn open(path: &Path) -> Result<History, HistoryError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        History::open_writable(path, flags)
    }

    /// Opens an existing database for writing (migrating it as needed);
    /// [`HistoryError::Missing`] when there is no file.
    pub fn open_existing(path: &Path) -> Result<History, HistoryError> {
        if !path.exists() {
            return Err(HistoryError::Missing { path: path.display().to_string() });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        History::open_writable(path, flags)
    }

    fn open_writable(path: &Path, flags: OpenFlags) -> Result<History, HistoryError> {
        let shown = path.display().to_string();
        let connection = Connection::open_with_flags(path, flags)
            .map_err(|source| HistoryError::Open { path: shown.clone(), source })?;
        let history = History { connection, path: shown };
        history.configure(true)?;
        history.migrate()?;
        Ok(history)
    }

    /// Opens an existing database read-only (`check --history DB`).
    pub fn open_read_only(path: &Path) -> Result<History, HistoryError> {
        let shown = path.display().to_string();
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags)
            .map_err(|source| HistoryError::Open { path: shown.clone(), source })?;
        let history = History { connection, path: shown };
        history.configure(false)?;
        let version = history.schema_version()?;
        let supported = MIGRATIONS.len() as i64;
        if (1..supported).contains(&version) {
            return Err(HistoryError::TooOld {
                path: history.path.clone(),
                found: version,
                supported,
            });
        }
        if version != supported {
            return Err(history.corrupt(format!("schema version {version}, expected {supported}")));
        }
        Ok(history)
    }

    /// The database file, as shown in messages.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn configure(&self, writable: bool) -> Result<(), HistoryError> {
        self.connection.busy_timeout(BUSY_TIMEOUT).map_err(|e| self.error(e))?;
        if writable {
            self.connection
                .pragma_update(None, "journal_mode", "WAL")
                .map_err(|e| self.error(e))?;
            // Each recorded plan is durable once its transaction commits.
            self.connection
                .pragma_update(None, "synchronous", "FULL")
                .map_err(|e| self.error(e))?;
        }
        self.connection.pragma_update(None, "foreign_keys", "ON").map_err(|e| self.error(e))?;
        // The bundled SQLite is built with STAT4, which compiles a cached
        // statement again whenever a value bound in its WHERE clause
        // changes (every plan id and patient looked up): 18 % of the
        // daemon's CPU in a burst. Every lookup here is by equality on an
        // indexed column, whose plan does not depend on the value; the
        // query planner stability guarantee keeps each statement compiled.
        self.connection
            .set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .map_err(|e| self.error(e))?;
        let check: String = self
            .connection
            .query_row("PRAGMA quick_check", [], |row| row.get(0))
            .map_err(|e| self.error(e))?;
        if check != "ok" {
            return Err(self.corrupt(check));
        }
        Ok(())
    }

    fn schema_version(&self) -> Result<i64, HistoryError> {
        self.connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(|e| self.error(e))
    }

    fn migrate(&self) -> Result<(), HistoryError> {
        let version = self.schema_version()?;
        let supported = MIGRATIONS.len() as i64;
        if version > supported {
            return Err(HistoryError::TooNew {
                path: self.path.clone(),
                found: version,
                supported,
            });
        }
        let pending = MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0));
        for (applied, migration) in pending {
            self.begin()?;
            let done = self
                .connection
                .execute_batch(migration.sql)
                .map_err(|e| self.error(e))
                .and_then(|()| migration.then.map_or(Ok(()), |then| then(self)))
                .and_then(|()| {
                    self.connection
                        .pragma_update(None, "user_version", applied as i64 + 1)
                        .map_err(|e| self.error(e))
                });
            match done {
                Ok(()) => self.commit()?,
                Err(e) => {
                    self.rollback();
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Migration 2: each recorded plan's patient key, from its patient id.
    fn fill_patient_keys(&self) -> Result<(), HistoryError> {
        let ids: Vec<String> = {
            let mut statement = self
                .connection
                .prepare("SELECT DISTINCT patient_id FROM plans")
                .map_err(|e| self.error(e))?;
            let rows = statement.query_map([], |row| row.get(0)).map_err(|e| self.error(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.error(e))?
        };
        for id in ids {
            self.connection
                .execute(
                    "UPDATE plans SET patient_key = ?1 WHERE patient_id = ?2",
                    params![patient_key(&id), id],
                )
                .map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// Every recorded session of `patient_id` (compared as a name), oldest
    /// first: the planned and the prior sessions of every passed plan.
    pub fn sessions_of(&self, patient_id: &str) -> Result<Vec<RecordedSession>, HistoryError> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT COALESCE(s.of_plan, p.plan_id), s.number, s.idx, s.date, p.recorded_at,
                        p.patient_id, s.prior, p.plan_id
                 FROM plans p JOIN sessions s ON s.plan_id = p.plan_id
                 WHERE p.patient_key = ?1
                 ORDER BY s.date, COALESCE(s.of_plan, p.plan_id), p.plan_id, s.prior, s.idx",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([patient_key(patient_id)], |row| {
                Ok((
                    (
                        row.get::<_, String>(0)?,
                        row.get::<_, Option<i64>>(1)?,
                        row.get::<_, i64>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, String>(4)?,
                    ),
                    (row.get::<_, String>(5)?, row.get::<_, i64>(6)?, row.get::<_, String>(7)?),
                ))
            })
            .map_err(|e| self.error(e))?;
        let mut sessions = Vec::new();
        for row in rows {
            let ((plan_id, number, index, date, recorded_at), (patient_id, prior, recorder)) =
                row.map_err(|e| self.error(e))?;
            sessions.push(RecordedSession {
                patient_id,
                listed_by: (prior != 0).then_some(recorder),
                date: date.parse().map_err(|_| self.corrupt(format!("bad date `{date}`")))?,
                recorded_at: self.timestamp(&recorded_at)?,
                number: number.and_then(|n| u64::try_from(n).ok()),
                index: usize::try_from(index).map_err(|_| self.corrupt("bad session index"))?,
                plan_id,
            });
        }
        Ok(sessions)
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

    /// True when the decision record `key` has its plan in the history.
    pub fn has_decision(&self, key: &str) -> Result<bool, HistoryError> {
        self.connection
            .prepare_cached("SELECT 1 FROM plans WHERE decision_key = ?1")
            .and_then(|mut statement| statement.query_row([key], |_| Ok(())))
            .optional()
            .map(|found| found.is_some())
            .map_err(|e| self.error(e))
    }

    /// The recorded plan `plan_id`, with its sessions.
    pub fn plan(&self, plan_id: &str) -> Result<Option<RecordedPlan>, HistoryError> {
        Ok(self.plans_where("WHERE p.plan_id = ?1", &[&plan_id])?.pop())
    }

    /// Every recorded plan, ordered by plan id (for audits and for
    /// comparing the database with the decision log).
    pub fn plans(&self) -> Result<Vec<RecordedPlan>, HistoryError> {
        self.plans_where("", &[])
    }

    /// The plans matching `filter` (a `WHERE` clause on `p`, or nothing),
    /// with their sessions, ordered by plan id.
    fn plans_where(
        &self,
        filter: &str,
        values: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<RecordedPlan>, HistoryError> {
        let sql = format!(
            "SELECT p.plan_id, p.patient_id, p.file_sha256, p.recorded_at, p.rule_set_sha256,
                    p.decision_key, s.idx, s.number, s.date, s.prior, s.of_plan
             FROM plans p LEFT JOIN sessions s ON s.plan_id = p.plan_id
             {filter} ORDER BY p.plan_id, s.prior, s.idx"
        );
        let mut statement = self.connection.prepare_cached(&sql).map_err(|e| self.error(e))?;
        let mut rows = statement.query(values).map_err(|e| self.error(e))?;
        let mut plans: Vec<RecordedPlan> = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.error(e))? {
            let get = |i| row.get::<_, String>(i).map_err(|e| self.error(e));
            let plan_id = get(0)?;
            if plans.last().map(|p| &p.plan_id) != Some(&plan_id) {
                plans.push(RecordedPlan {
                    plan_id,
                    patient_id: get(1)?,
                    file_sha256: get(2)?,
                    recorded_at: self.timestamp(&get(3)?)?,
                    rule_set_sha256: get(4)?,
                    decision_key: get(5)?,
                    sessions: Vec::new(),
                    prior_sessions: Vec::new(),
                });
            }
            let index: Option<i64> = row.get(6).map_err(|e| self.error(e))?;
            let Some(index) = index else { continue };
            let index = usize::try_from(index).map_err(|_| self.corrupt("bad session index"))?;
            let number: Option<i64> = row.get(7).map_err(|e| self.error(e))?;
            let date = get(8)?;
            let date: Date =
                date.parse().map_err(|_| self.corrupt(format!("bad date `{date}`")))?;
            let prior: i64 = row.get(9).map_err(|e| self.error(e))?;
            let of_plan: Option<String> = row.get(10).map_err(|e| self.error(e))?;
            let Some(plan) = plans.last_mut() else { continue };
            if prior != 0 {
                plan.prior_sessions.push(PriorRecord { index, plan_id: of_plan, date });
            } else {
                plan.sessions.push((index, number.and_then(|n| u64::try_from(n).ok()), date));
            }
        }
        Ok(plans)
    }

    /// Starts a write transaction, taking the database's write lock now
    /// (waiting up to [`BUSY_TIMEOUT`]), so a batch never finds the database
    /// locked half-way. A transaction left open by an earlier failure is
    /// rolled back first.
    pub fn begin(&self) -> Result<(), HistoryError> {
        if !self.connection.is_autocommit() {
            self.rollback();
        }
        self.connection.execute_batch("BEGIN IMMEDIATE").map_err(|e| self.error(e))
    }

    /// Makes the open transaction's changes durable.
    pub fn commit(&self) -> Result<(), HistoryError> {
        self.connection.execute_batch("COMMIT").map_err(|e| self.error(e))
    }

    /// Abandons the open transaction, if any (best effort: a connection
    /// that cannot even roll back is dropped by its owner).
    pub fn rollback(&self) {
        if !self.connection.is_autocommit() {
            let _ = self.connection.execute_batch("ROLLBACK");
        }
    }

    /// Inside an open transaction: records `plan`, replacing any plan with
    /// the same `plan_id`.
    pub fn put(&self, plan: &RecordedPlan) -> Result<(), HistoryError> {
        // Cached statements: every passed plan runs these, and preparing
        // them again for each one was a visible share of the daemon's time.
        let run = |sql: &str, values: &[&dyn rusqlite::ToSql]| {
            self.connection
                .prepare_cached(sql)
                .and_then(|mut statement| statement.execute(values))
                .map_err(|e| self.error(e))
        };
        // The rows this plan's file recorded (its earlier version's) go;
        // rows other plans recorded under this plan_id stay theirs.
        run("DELETE FROM plans WHERE plan_id = ?1", params![plan.plan_id])?;
        run(
            "INSERT INTO plans (plan_id, patient_id, file_sha256, recorded_at, rule_set_sha256,
                                decision_key, patient_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                plan.plan_id,
                plan.patient_id,
                plan.file_sha256,
                plan.recorded_at.to_string(),
                plan.rule_set_sha256,
                plan.decision_key,
                patient_key(&plan.patient_id)
            ],
        )?;
        let index = |index: usize| i64::try_from(index).unwrap_or(i64::MAX);
        for (i, number, date) in &plan.sessions {
            run(
                "INSERT INTO sessions (plan_id, prior, idx, of_plan, number, date)
                 VALUES (?1, 0, ?2, NULL, ?3, ?4)",
                params![
                    plan.plan_id,
                    index(*i),
                    number.and_then(|n| i64::try_from(n).ok()),
                    date.to_string()
                ],
            )?;
        }
        for prior in &plan.prior_sessions {
            run(
                "INSERT INTO sessions (plan_id, prior, idx, of_plan, number, date)
                 VALUES (?1, 1, ?2, ?3, NULL, ?4)",
                params![plan.plan_id, index(prior.index), prior.plan_id, prior.date.to_string()],
            )?;
        }
        Ok(())
    }

    /// Inside an open transaction: removes plan `plan_id`; returns its
    /// record if it was there.
    pub fn remove(&self, plan_id: &str) -> Result<Option<RecordedPlan>, HistoryError> {
        let found = self.plan(plan_id)?;
        if found.is_some() {
            self.connection
                .execute("DELETE FROM plans WHERE plan_id = ?1", [plan_id])
                .map_err(|e| self.error(e))?;
        }
        Ok(found)
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

    fn timestamp(&self, text: &str) -> Result<jiff::Timestamp, HistoryError> {
        text.parse().map_err(|_| self.corrupt(format!("bad time `{text}`")))
    }

    fn error(&self, source: rusqlite::Error) -> HistoryError {
        error(&self.path, source)
    }

    fn corrupt(&self, detail: impl Into<String>) -> HistoryError {
        HistoryError::Corrupt { path: self.path.clone(), detail: detail.into() }
    }
}

/// Maps SQLite's errors to the cases an operator acts on differently.
fn error(path: &str, source: rusqlite::Error) -> HistoryError {
    use rusqlite::ErrorCode;
    match source.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            HistoryError::Busy { path: path.to_string() }
        }
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            HistoryError::Corrupt { path: path.to_string(), detail: source.to_string() }
        }
        _ => HistoryError::Query { path: path.to_string(), source },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(plan_id: &str, patient: &str, dates: &[&str]) -> RecordedPlan {
        RecordedPlan {
            plan_id: plan_id.into(),
            patient_id: patient.into(),
            file_sha256: "ab".into(),
            recorded_at: "2026-10-20T10:00:00Z".parse().unwrap(),
            rule_set_sha256: "cd".into(),
            decision_key: format!("key-{plan_id}-{}", dates.join(",")),
            sessions: dates
                .iter()
                .enumerate()
                .map(|(i, d)| (i, Some(i as u64 + 1), d.parse().unwrap()))
                .collect(),
            prior_sessions: Vec::new(),
        }
    }

    #[test]
    fn records_sessions_per_patient_and_revisions_replace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite");
        let mut history = History::open(&path).unwrap();
        history.record(&plan("A", "P", &["2026-10-29"])).unwrap();
        history.record(&plan("B", "Q", &["2026-10-29"])).unwrap();
        assert_eq!(history.sessions_of("P").unwrap().len(), 1);
        history.record(&plan("A", "P", &["2026-12-01", "2027-01-05"])).unwrap();
        let dates: Vec<_> =
            history.sessions_of("P").unwrap().iter().map(|s| s.date.to_string()).collect();
        assert_eq!(dates, ["2026-12-01", "2027-01-05"]);
        assert!(history.has_decision("key-A-2026-12-01,2027-01-05").unwrap());
        assert!(!history.has_decision("key-A-2026-10-29").unwrap());
        assert_eq!(history.sessions_of("Q").unwrap().len(), 1);
    }

    #[test]
    fn a_version_1_database_migrates_keeping_its_rows_and_finding_patients_as_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite");
        {
            let old = Connection::open(&path).unwrap();
            old.execute_batch(MIGRATIONS[0].sql).unwrap();
            old.execute_batch(
                "INSERT INTO plans VALUES ('A', 'PAT-W ', 'ab', '2026-10-20T10:00:00Z', 'cd', 'k1');
                 INSERT INTO sessions VALUES ('A', 0, 1, '2026-10-29');
                 INSERT INTO sessions VALUES ('A', 1, 2, '2026-11-30');
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let error = History::open_read_only(&path).err().unwrap().to_string();
        assert!(error.contains("older than this embolint's"), "{error}");
        let history = History::open(&path).unwrap();
        assert_eq!(history.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let sessions = history.sessions_of("pat-w").unwrap();
        let dates: Vec<_> = sessions.iter().map(|s| s.date.to_string()).collect();
        assert_eq!(dates, ["2026-10-29", "2026-11-30"]);
        assert_eq!(sessions[0].patient_id, "PAT-W ", "kept as written");
        assert!(sessions.iter().all(|s| s.plan_id == "A" && s.listed_by.is_none()));
        let plan = history.plan("A").unwrap().unwrap();
        assert_eq!(plan.sessions.len(), 2);
        assert!(plan.prior_sessions.is_empty());
        drop(history);
        assert_eq!(
            History::open_read_only(&path).unwrap().sessions_of("\u{a0}Pat-W").unwrap().len(),
            2
        );
    }

    #[test]
    fn prior_sessions_are_recorded_under_the_plan_they_name_and_replaced_by_their_recorder() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = History::open(&dir.path().join("h.sqlite")).unwrap();
        let mut c = plan("C", "P", &["2027-02-10"]);
        c.prior_sessions = vec![
            PriorRecord {
                index: 0,
                plan_id: Some("OLD".into()),
                date: "2027-01-10".parse().unwrap(),
            },
            PriorRecord { index: 1, plan_id: None, date: "2026-12-10".parse().unwrap() },
        ];
        history.record(&c).unwrap();
        history.record(&plan("OLD", "P", &["2027-01-05"])).unwrap();
        let of = |history: &History| -> Vec<(String, String, Option<String>)> {
            let sessions = history.sessions_of("p").unwrap();
            sessions.into_iter().map(|s| (s.plan_id, s.date.to_string(), s.listed_by)).collect()
        };
        let by_c = Some("C".to_string());
        assert_eq!(
            of(&history),
            [
                ("C".into(), "2026-12-10".into(), by_c.clone()),
                ("OLD".into(), "2027-01-05".into(), None),
                ("OLD".into(), "2027-01-10".into(), by_c.clone()),
                ("C".into(), "2027-02-10".into(), None),
            ]
        );
        assert_eq!(history.plan("C").unwrap().unwrap(), c, "read back as recorded");
        // A revision of C replaces exactly the rows C's file recorded.
        history.record(&plan("C", "P", &["2027-02-11"])).unwrap();
        assert_eq!(
            of(&history),
            [("OLD".into(), "2027-01-05".into(), None), ("C".into(), "2027-02-11".into(), None)]
        );
    }

    #[test]
    fn forget_withdraws_a_plan() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = History::open(&dir.path().join("h.sqlite")).unwrap();
        history.record(&plan("A", "P", &["2026-10-29"])).unwrap();
        assert!(history.forget("A").unwrap().is_some());
        assert!(history.forget("A").unwrap().is_none());
        assert!(history.sessions_of("P").unwrap().is_empty());
    }

    #[test]
    fn read_only_sees_what_the_daemon_recorded_and_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite");
        History::open(&path).unwrap().record(&plan("A", "P", &["2026-10-29"])).unwrap();
        let mut reader = History::open_read_only(&path).unwrap();
        assert_eq!(reader.sessions_of("P").unwrap().len(), 1);
        assert!(reader.record(&plan("B", "P", &["2026-12-29"])).is_err());
    }

    #[test]
    fn a_damaged_file_is_reported_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite");
        std::fs::write(&path, vec![0x5a; 8192]).unwrap();
        assert!(matches!(
            History::open(&path),
            Err(HistoryError::Corrupt { .. } | HistoryError::Query { .. })
        ));
        assert!(History::open_read_only(&path).is_err());
    }

    #[test]
    fn a_missing_database_is_an_error_for_read_only() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            History::open_read_only(&dir.path().join("none.sqlite")),
            Err(HistoryError::Open { .. })
        ));
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite");
        drop(History::open(&path).unwrap());
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(History::open(&path), Err(HistoryError::TooNew { found: 99, .. })));
    }

    #[test]
    fn a_batch_sees_its_own_rows_and_a_rollback_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite");
        let history = History::open(&path).unwrap();
        history.begin().unwrap();
        history.put(&plan("A", "P", &["2026-10-29"])).unwrap();
        assert_eq!(history.sessions_of("P").unwrap().len(), 1, "seen inside the batch");
        let other = History::open_read_only(&path).unwrap();
        assert!(other.sessions_of("P").unwrap().is_empty(), "not seen outside before commit");
        history.rollback();
        assert!(history.sessions_of("P").unwrap().is_empty());
        history.begin().unwrap();
        history.put(&plan("A", "P", &["2026-10-29"])).unwrap();
        history.commit().unwrap();
        assert_eq!(other.sessions_of("P").unwrap().len(), 1, "seen by others once committed");
    }

    #[test]
    fn a_transaction_left_open_is_rolled_back_by_the_next_begin() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::open(&dir.path().join("h.sqlite")).unwrap();
        history.begin().unwrap();
        history.put(&plan("A", "P", &["2026-10-29"])).unwrap();
        history.begin().unwrap();
        assert!(history.plans().unwrap().is_empty());
    }

    #[test]
    fn plans_lists_every_plan_with_its_sessions_and_survives_json() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = History::open(&dir.path().join("h.sqlite")).unwrap();
        let a = plan("A", "P", &["2026-10-29", "2026-12-01"]);
        let mut b = plan("B", "Q", &["2026-11-02"]);
        b.sessions[0].1 = None;
        history.record(&b).unwrap();
        history.record(&a).unwrap();
        assert_eq!(history.plans().unwrap(), [a.clone(), b.clone()]);
        assert_eq!(history.plan("B").unwrap(), Some(b.clone()));
        let json = serde_json::to_string(&b).unwrap();
        assert!(json.contains(r#""sessions":[{"index":0,"date":"2026-11-02"}]"#), "{json}");
        assert_eq!(serde_json::from_str::<RecordedPlan>(&json).unwrap(), b);
    }

    #[test]
    fn open_existing_never_creates_a_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite");
        assert!(matches!(History::open_existing(&path), Err(HistoryError::Missing { .. })));
        assert!(!path.exists());
        drop(History::open(&path).unwrap());
        assert!(History::open_existing(&path).is_ok());
    }
}
