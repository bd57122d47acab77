//! Patient history (SPEC §5): the sessions of every plan that passed, kept
//! per patient in an embedded SQLite database, so `session-spacing` also
//! catches two plans of one patient dropped on different days.
//!
//! The daemon keeps it at `ROOT/state/history.sqlite`; `check --history DB`
//! opens it read-only. The schema is versioned with `PRAGMA user_version`
//! and migrated in code ([`MIGRATIONS`]).

use jiff::civil::Date;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::path::Path;
use std::time::Duration;

/// A session of a plan that passed earlier, as kept in the history.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RecordedSession {
    pub patient_id: String,
    pub plan_id: String,
    /// The session's `number` in that plan, when it had one.
    pub number: Option<u64>,
    /// Position in that plan's `sessions`.
    pub index: usize,
    pub date: Date,
    /// When that plan was judged (UTC).
    pub recorded_at: jiff::Timestamp,
}

/// A passed plan as the history records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedPlan {
    pub plan_id: String,
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
    pub sessions: Vec<(usize, Option<u64>, Date)>,
}

/// Why the history could not be used. A plan is never passed without it.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("the history database {path} cannot be opened: {source}")]
    Open { path: String, source: rusqlite::Error },
    #[error("the history database {path} is busy (locked by another process) beyond the timeout")]
    Busy { path: String },
    #[error("the history database {path} is damaged or not an embolint history: {detail}")]
    Corrupt { path: String, detail: String },
    #[error("the history database {path} has schema version {found}, newer than this embolint ({supported}); upgrade embolint")]
    TooNew { path: String, found: i64, supported: i64 },
    #[error("the history database {path} failed: {source}")]
    Query { path: String, source: rusqlite::Error },
}

/// Schema migrations, in order; `user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    // 1: plans that passed, and their sessions.
    "CREATE TABLE plans (
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
];

/// How long a locked database is waited for before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// An open history database.
pub struct History {
    connection: Connection,
    /// For messages.
    path: String,
}

impl History {
    /// Opens (creating and migrating as needed) the daemon's database.
    pub fn open(path: &Path) -> Result<History, HistoryError> {
        let shown = path.display().to_string();
        let connection = Connection::open(path)
            .map_err(|source| HistoryError::Open { path: shown.clone(), source })?;
        let mut history = History { connection, path: shown };
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
        if version != MIGRATIONS.len() as i64 {
            return Err(
                history.corrupt(format!("schema version {version}, expected {}", MIGRATIONS.len()))
            );
        }
        Ok(history)
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

    fn migrate(&mut self) -> Result<(), HistoryError> {
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
            let tx = self.connection.transaction().map_err(|e| error(&self.path, e))?;
            tx.execute_batch(migration).map_err(|e| error(&self.path, e))?;
            tx.pragma_update(None, "user_version", applied as i64 + 1)
                .map_err(|e| error(&self.path, e))?;
            tx.commit().map_err(|e| error(&self.path, e))?;
        }
        Ok(())
    }

    /// Every recorded session of `patient_id`, oldest first.
    pub fn sessions_of(&self, patient_id: &str) -> Result<Vec<RecordedSession>, HistoryError> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT p.plan_id, s.number, s.idx, s.date, p.recorded_at
                 FROM plans p JOIN sessions s ON s.plan_id = p.plan_id
                 WHERE p.patient_id = ?1 ORDER BY s.date, p.plan_id, s.idx",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([patient_id], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<i64>>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                ))
            })
            .map_err(|e| self.error(e))?;
        let mut sessions = Vec::new();
        for row in rows {
            let (plan_id, number, index, date, recorded_at) = row.map_err(|e| self.error(e))?;
            sessions.push(RecordedSession {
                patient_id: patient_id.to_string(),
                date: date.parse().map_err(|_| self.corrupt(format!("bad date `{date}`")))?,
                recorded_at: recorded_at
                    .parse()
                    .map_err(|_| self.corrupt(format!("bad time `{recorded_at}`")))?,
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
        let path = self.path.clone();
        let tx = self.connection.transaction().map_err(|e| error(&path, e))?;
        tx.execute("DELETE FROM plans WHERE plan_id = ?1", [&plan.plan_id])
            .map_err(|e| error(&path, e))?;
        tx.execute(
            "INSERT INTO plans (plan_id, patient_id, file_sha256, recorded_at, rule_set_sha256, decision_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                plan.plan_id,
                plan.patient_id,
                plan.file_sha256,
                plan.recorded_at.to_string(),
                plan.rule_set_sha256,
                plan.decision_key
            ],
        )
        .map_err(|e| error(&path, e))?;
        for (index, number, date) in &plan.sessions {
            tx.execute(
                "INSERT INTO sessions (plan_id, idx, number, date) VALUES (?1, ?2, ?3, ?4)",
                params![
                    plan.plan_id,
                    *index as i64,
                    number.and_then(|n| i64::try_from(n).ok()),
                    date.to_string()
                ],
            )
            .map_err(|e| error(&path, e))?;
        }
        tx.commit().map_err(|e| error(&path, e))
    }

    /// True when the decision record `key` has its plan in the history.
    pub fn has_decision(&self, key: &str) -> Result<bool, HistoryError> {
        self.connection
            .query_row("SELECT 1 FROM plans WHERE decision_key = ?1", [key], |_| Ok(()))
            .optional()
            .map(|found| found.is_some())
            .map_err(|e| self.error(e))
    }

    /// Withdraws a plan (a cancelled one); returns its record if it was there.
    pub fn forget(&mut self, plan_id: &str) -> Result<Option<RecordedPlan>, HistoryError> {
        let found = self.plan(plan_id)?;
        if found.is_some() {
            self.connection
                .execute("DELETE FROM plans WHERE plan_id = ?1", [plan_id])
                .map_err(|e| self.error(e))?;
        }
        Ok(found)
    }

    /// The recorded plan `plan_id`, with its sessions.
    pub fn plan(&self, plan_id: &str) -> Result<Option<RecordedPlan>, HistoryError> {
        let head = self
            .connection
            .query_row(
                "SELECT patient_id, file_sha256, recorded_at, rule_set_sha256, decision_key
                 FROM plans WHERE plan_id = ?1",
                [plan_id],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.error(e))?;
        let Some((patient_id, file_sha256, recorded_at, rule_set_sha256, decision_key)) = head
        else {
            return Ok(None);
        };
        let sessions = self
            .sessions_of(&patient_id)?
            .into_iter()
            .filter(|s| s.plan_id == plan_id)
            .map(|s| (s.index, s.number, s.date))
            .collect();
        Ok(Some(RecordedPlan {
            plan_id: plan_id.to_string(),
            patient_id,
            file_sha256,
            recorded_at: recorded_at
                .parse()
                .map_err(|_| self.corrupt(format!("bad time `{recorded_at}`")))?,
            rule_set_sha256,
            decision_key,
            sessions,
        }))
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
}
