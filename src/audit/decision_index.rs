//! The persistent decision index, `state/decisions-index.sqlite`: what
//! `embolint log` and the review page look decisions up in, so that a
//! question about one patient, or last week's failures, is answered from a
//! million decisions without reading the log.
//!
//! It holds nothing the log does not: for each line of
//! `log/decisions.jsonl` its `seq`, where it is in the file, and for a
//! decision record the few members the filters need (time, verdict, file,
//! plan, patient, the rules with findings). A record itself is always read
//! back from the log, as written.
//!
//! It is kept in step by [`DecisionIndex::catch_up`], which indexes only the
//! lines appended since the last call. The log only ever grows; before
//! going on, the index checks that its last indexed line is still in the
//! log, byte for byte, where it was. Each line of the log carries the hash
//! of the line before it (the chain), so that one line vouches for the whole
//! indexed part. A log that was replaced or shortened is indexed again from
//! the start.
//!
//! Several processes may catch the same index up at once (the service and
//! an operator's `embolint log`): SQLite's write lock orders them and the
//! second finds the work done. The log is only ever read.

use crate::check::sha256_hex;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The index file's name under the root's `state/`.
pub const FILE_NAME: &str = "decisions-index.sqlite";

/// Bumped when the tables change: an index of another version is rebuilt.
const SCHEMA_VERSION: i64 = 2;

/// How long a catch-up by another process is waited for.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Lines indexed per transaction while catching up a long log.
const LINES_PER_TRANSACTION: usize = 50_000;

/// A problem with the index or the log behind it.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The decision log cannot be read.
    #[error("cannot read the decision log {path}: {source}")]
    Log {
        /// The log.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The index database cannot be used.
    #[error("the decision index {path} cannot be used: {source} (it holds nothing the log does not: remove it and it is built again)")]
    Database {
        /// The index file.
        path: String,
        /// Why.
        source: rusqlite::Error,
    },
}

/// One decision record as the index lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Listed {
    /// Its `seq` in the log.
    pub seq: u64,
    /// When it was checked (RFC 3339, UTC), as the record says.
    pub checked_at: String,
    /// `pass`, `fail` or `invalid`.
    pub verdict: String,
    /// The plan's file name, as the record gives it.
    pub file: String,
    /// The plan id, when the plan was readable.
    pub plan_id: Option<String>,
    /// The patient id, when the plan was readable.
    pub patient_id: Option<String>,
    /// The rules with findings, each once, in the record's order.
    pub rules: Vec<String>,
    /// Where the plan was placed, relative to the root (`failed/p.json`).
    pub moved_to: Option<String>,
}

/// Filters of `embolint log`, `/v1/decisions` and the review page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this verdict (`pass`, `fail`, `invalid`).
    pub verdict: Option<String>,
    /// Only records where this rule has findings.
    pub rule: Option<String>,
    /// Only this patient (compared as a name, as the history compares
    /// patients: `pat-7 ` is `PAT-7`).
    pub patient: Option<String>,
    /// Only records checked on this day or later (`YYYY-MM-DD`, UTC).
    pub since: Option<String>,
    /// Only records checked on this day or earlier (`YYYY-MM-DD`, UTC).
    pub until: Option<String>,
    /// Only records older than this `seq` (the previous page's last one).
    pub before: Option<u64>,
}

/// The index of one root's decision log.
pub struct DecisionIndex {
    /// The index database.
    db: Connection,
    /// The log, opened for reading only.
    log: File,
    /// The log's path, for messages.
    log_path: PathBuf,
    /// The index file's path (`:memory:` for a temporary one), for messages.
    db_path: String,
}

/// Where the index stands in the log (the `meta` table).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Mark {
    /// Bytes of the log indexed (always the end of a complete line).
    indexed_to: u64,
    /// The last indexed line: where it starts, its length and sha256.
    last_line: Option<(u64, u64, String)>,
}

impl DecisionIndex {
    /// Opens (creating it if needed) the index at `index_path` of the log at
    /// `log_path`. Nothing is indexed until [`DecisionIndex::catch_up`].
    ///
    /// # Errors
    /// The log cannot be opened, or the index cannot be created or read.
    pub fn open(log_path: &Path, index_path: &Path) -> Result<DecisionIndex, IndexError> {
        let db = Connection::open(index_path);
        Self::with_connection(log_path, db, index_path.display().to_string())
    }

    /// Opens the index as [`DecisionIndex::open`] does; an index file that
    /// is not a database, or a damaged one, is removed and built again
    /// from the log (it holds nothing the log does not), rather than
    /// standing between people and the decisions.
    ///
    /// # Errors
    /// The log cannot be opened, or the index cannot be created or read
    /// for another reason (a lock held too long, a folder not writable).
    pub fn open_or_rebuild(
        log_path: &Path,
        index_path: &Path,
    ) -> Result<DecisionIndex, IndexError> {
        match Self::open(log_path, index_path) {
            Err(IndexError::Database { source, .. }) if is_damaged(&source) => {
                tracing::warn!(
                    index = %index_path.display(),
                    "the decision index is damaged ({source}): removed, and built again from the \
                     decision log"
                );
                for suffix in ["", "-wal", "-shm"] {
                    let mut path = index_path.as_os_str().to_owned();
                    path.push(suffix);
                    match std::fs::remove_file(&path) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(source) => {
                            return Err(IndexError::Log { path: PathBuf::from(path), source })
                        }
                    }
                }
                Self::open(log_path, index_path)
            }
            other => other,
        }
    }

    /// An index held in memory only, for a root whose `state/` cannot be
    /// written (a read-only copy for an auditor): built from the whole log
    /// each time.
    ///
    /// # Errors
    /// The log cannot be opened.
    pub fn in_memory(log_path: &Path) -> Result<DecisionIndex, IndexError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
        let db = Connection::open_with_flags(":memory:", flags);
        Self::with_connection(log_path, db, ":memory:".to_string())
    }

    fn with_connection(
        log_path: &Path,
        db: rusqlite::Result<Connection>,
        db_path: String,
    ) -> Result<DecisionIndex, IndexError> {
        let log = File::open(log_path)
            .map_err(|source| IndexError::Log { path: log_path.to_path_buf(), source })?;
        let fail = |source| IndexError::Database { path: db_path.clone(), source };
        let db = db.map_err(fail)?;
        db.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
        if db_path != ":memory:" {
            // WAL: readers (the review page) never wait for a catch-up.
            db.pragma_update(None, "journal_mode", "WAL").map_err(fail)?;
            db.pragma_update(None, "synchronous", "NORMAL").map_err(fail)?;
        }
        db_create_tables(&db).map_err(fail)?;
        Ok(DecisionIndex { db, log, log_path: log_path.to_path_buf(), db_path })
    }

    fn db_error(&self, source: rusqlite::Error) -> IndexError {
        IndexError::Database { path: self.db_path.clone(), source }
    }

    fn log_error(&self, source: io::Error) -> IndexError {
        IndexError::Log { path: self.log_path.clone(), source }
    }

    /// The index's mark, read inside the caller's transaction.
    fn mark(db: &Connection) -> rusqlite::Result<Mark> {
        let value = |key: &str| -> rusqlite::Result<Option<String>> {
            db.query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| row.get(0))
                .optional()
        };
        let indexed_to = value("indexed_to")?.and_then(|v| v.parse().ok()).unwrap_or(0);
        let last_line = match value("last_line")? {
            Some(text) => {
                let mut parts = text.splitn(3, ' ');
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(offset), Some(len), Some(sha)) => match (offset.parse(), len.parse()) {
                        (Ok(offset), Ok(len)) => Some((offset, len, sha.to_string())),
                        _ => None,
                    },
                    _ => None,
                }
            }
            None => None,
        };
        Ok(Mark { indexed_to, last_line })
    }

    /// Indexes the lines appended to the log since the last call (all of
    /// them the first time, or when the log was replaced or shortened).
    /// Returns how many lines were added.
    ///
    /// # Errors
    /// The log cannot be read or the index cannot be written.
    pub fn catch_up(&mut self) -> Result<u64, IndexError> {
        let mut added = 0;
        loop {
            let (batch, more) = self.catch_up_some()?;
            added += batch;
            if !more {
                return Ok(added);
            }
        }
    }

    /// One transaction of [`DecisionIndex::catch_up`]: at most
    /// [`LINES_PER_TRANSACTION`] lines; `true` when more may follow.
    fn catch_up_some(&mut self) -> Result<(u64, bool), IndexError> {
        let log = self.log.try_clone().map_err(|e| self.log_error(e))?;
        let log_path = self.log_path.clone();
        let log_error = |source| IndexError::Log { path: log_path.clone(), source };
        let db_path = self.db_path.clone();
        let db_error = |source| IndexError::Database { path: db_path.clone(), source };
        // Cheap look first, without the write lock: nothing new, nothing to do.
        let mark = Self::mark(&self.db).map_err(db_error)?;
        let len = log.metadata().map_err(log_error)?.len();
        if len == mark.indexed_to && log_still_holds(&log, &mark).map_err(log_error)? {
            return Ok((0, false));
        }
        let transaction =
            self.db.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_error)?;
        // Another process may have caught up meanwhile: read the mark again
        // under the write lock.
        let mut mark = Self::mark(&transaction).map_err(db_error)?;
        if mark.indexed_to != 0 && !log_still_holds(&log, &mark).map_err(log_error)? {
            tracing::warn!(
                log = %log_path.display(),
                "the decision log no longer holds what was indexed (replaced or shortened): \
                 indexing it again from the start"
            );
            transaction.execute_batch("DELETE FROM lines; DELETE FROM fired;").map_err(db_error)?;
            mark = Mark::default();
        }
        let mut reader = BufReader::with_capacity(1 << 20, &log);
        reader.seek(SeekFrom::Start(mark.indexed_to)).map_err(log_error)?;
        let mut added = 0u64;
        let mut more = false;
        {
            let mut insert_line = transaction
                .prepare_cached(
                    "INSERT OR REPLACE INTO lines (seq, offset, len, is_record, checked_at, day,
                     verdict, file, plan_id, patient_id, patient_key, rules, moved_to, inbox_name)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                )
                .map_err(db_error)?;
            let mut insert_rule = transaction
                .prepare_cached("INSERT OR REPLACE INTO fired (rule, seq, day) VALUES (?1, ?2, ?3)")
                .map_err(db_error)?;
            let mut line = Vec::new();
            loop {
                line.clear();
                let read = reader.read_until(b'\n', &mut line).map_err(log_error)?;
                if read == 0 || line.last() != Some(&b'\n') {
                    break; // the end, or a line still being written
                }
                let start = mark.indexed_to;
                mark.indexed_to += read as u64;
                let text = line.get(..read - 1).unwrap_or_default();
                mark.last_line = Some((start, text.len() as u64, sha256_hex(text)));
                // A line whose members are not as a record's are is still
                // listed by its seq (an event of another shape).
                let (seq, record) = match LineMembers::read(text) {
                    Some(parsed) => match parsed.seq {
                        Some(seq) => (seq, parsed.record()),
                        None => continue,
                    },
                    None => match crate::audit::chain::seq_of(text) {
                        Some(seq) => (seq, None),
                        None => continue,
                    },
                };
                let seq_i = i64::try_from(seq).unwrap_or(i64::MAX);
                let (rules, day) = match &record {
                    Some(r) => (Some(r.rules.join(" ")), Some(r.day.clone())),
                    None => (None, None),
                };
                insert_line
                    .execute(params![
                        seq_i,
                        start as i64,
                        text.len() as i64,
                        record.is_some(),
                        record.as_ref().map(|r| r.checked_at.as_str()),
                        day,
                        record.as_ref().map(|r| r.verdict.as_str()),
                        record.as_ref().map(|r| r.file.as_str()),
                        record.as_ref().and_then(|r| r.plan_id.as_deref()),
                        record.as_ref().and_then(|r| r.patient_id.as_deref()),
                        record.as_ref().and_then(|r| r.patient_id.as_deref()).map(patient_key),
                        rules,
                        record.as_ref().and_then(|r| r.moved_to.as_deref()),
                        record.as_ref().and_then(|r| r.inbox_name.as_deref()),
                    ])
                    .map_err(db_error)?;
                if let Some(record) = &record {
                    for rule in &record.rules {
                        insert_rule.execute(params![rule, seq_i, record.day]).map_err(db_error)?;
                    }
                }
                added += 1;
                if added as usize >= LINES_PER_TRANSACTION {
                    more = true;
                    break;
                }
            }
        }
        let mut set = transaction
            .prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")
            .map_err(db_error)?;
        set.execute(params!["indexed_to", mark.indexed_to.to_string()]).map_err(db_error)?;
        if let Some((offset, len, sha)) = &mark.last_line {
            set.execute(params!["last_line", format!("{offset} {len} {sha}")]).map_err(db_error)?;
        }
        drop(set);
        transaction.commit().map_err(db_error)?;
        Ok((added, more))
    }

    /// Up to `limit` decision records that pass `filter`, newest first.
    ///
    /// # Errors
    /// The index cannot be read.
    pub fn query(&self, filter: &Filter, limit: usize) -> Result<Vec<Listed>, IndexError> {
        let mut sql = String::from(
            "SELECT seq, checked_at, verdict, file, plan_id, patient_id, rules, moved_to \
             FROM lines WHERE is_record = 1",
        );
        let mut values: Vec<rusqlite::types::Value> = Vec::new();
        let mut bind = |sql: &mut String, clause: &str, value: rusqlite::types::Value| {
            values.push(value);
            sql.push_str(&clause.replace('?', &format!("?{}", values.len())));
        };
        if let Some(verdict) = &filter.verdict {
            bind(&mut sql, " AND verdict = ?", verdict.clone().into());
        }
        if let Some(patient) = &filter.patient {
            bind(&mut sql, " AND patient_key = ?", patient_key(patient).into());
        }
        if let Some(since) = &filter.since {
            bind(&mut sql, " AND day >= ?", since.clone().into());
        }
        if let Some(until) = &filter.until {
            bind(&mut sql, " AND day <= ?", until.clone().into());
        }
        if let Some(before) = filter.before {
            bind(&mut sql, " AND seq < ?", i64::try_from(before).unwrap_or(i64::MAX).into());
        }
        if let Some(rule) = &filter.rule {
            // The dates bound the rule's own rows too, so that a rule that
            // fired often is not read whole for one month of it.
            bind(
                &mut sql,
                " AND seq IN (SELECT seq FROM fired WHERE rule = ?",
                rule.clone().into(),
            );
            if let Some(since) = &filter.since {
                bind(&mut sql, " AND day >= ?", since.clone().into());
            }
            if let Some(until) = &filter.until {
                bind(&mut sql, " AND day <= ?", until.clone().into());
            }
            sql.push(')');
        }
        bind(
            &mut sql,
            " ORDER BY seq DESC LIMIT ?",
            i64::try_from(limit).unwrap_or(i64::MAX).into(),
        );
        let mut statement = self.db.prepare_cached(&sql).map_err(|e| self.db_error(e))?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(values), |row| {
                let rules: Option<String> = row.get(6)?;
                Ok(Listed {
                    seq: u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0),
                    checked_at: row.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    verdict: row.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    file: row.get::<_, Option<String>>(3)?.unwrap_or_default(),
                    plan_id: row.get(4)?,
                    patient_id: row.get(5)?,
                    rules: rules
                        .unwrap_or_default()
                        .split(' ')
                        .filter(|r| !r.is_empty())
                        .map(str::to_string)
                        .collect(),
                    moved_to: row.get(7)?,
                })
            })
            .map_err(|e| self.db_error(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.db_error(e))
    }

    /// The line with this `seq` (a record or an event), as written.
    ///
    /// # Errors
    /// The index or the log cannot be read.
    pub fn line(&self, seq: u64) -> Result<Option<Vec<u8>>, IndexError> {
        self.read_where("SELECT offset, len FROM lines WHERE seq = ?1", seq)
    }

    /// The decision record with this `seq` (not an event), as written.
    ///
    /// # Errors
    /// The index or the log cannot be read.
    pub fn record(&self, seq: u64) -> Result<Option<Vec<u8>>, IndexError> {
        self.read_where("SELECT offset, len FROM lines WHERE seq = ?1 AND is_record = 1", seq)
    }

    fn read_where(&self, sql: &str, seq: u64) -> Result<Option<Vec<u8>>, IndexError> {
        let Ok(seq) = i64::try_from(seq) else { return Ok(None) };
        let place: Option<(i64, i64)> = self
            .db
            .prepare_cached(sql)
            .and_then(|mut s| s.query_row([seq], |row| Ok((row.get(0)?, row.get(1)?))).optional())
            .map_err(|e| self.db_error(e))?;
        let Some((offset, len)) = place else { return Ok(None) };
        let mut bytes = vec![0; usize::try_from(len).unwrap_or(0)];
        self.log
            .read_exact_at(&mut bytes, u64::try_from(offset).unwrap_or(0))
            .map_err(|e| self.log_error(e))?;
        Ok(Some(bytes))
    }

    /// The `seq` of the record of the plan that entered the inbox as `name`
    /// (the latest, if several did).
    ///
    /// # Errors
    /// The index cannot be read.
    pub fn by_inbox_name(&self, name: &str) -> Result<Option<u64>, IndexError> {
        self.db
            .prepare_cached("SELECT max(seq) FROM lines WHERE is_record = 1 AND inbox_name = ?1")
            .and_then(|mut s| s.query_row([name], |row| row.get::<_, Option<i64>>(0)))
            .map(|seq| seq.and_then(|s| u64::try_from(s).ok()))
            .map_err(|e| self.db_error(e))
    }

    /// In how many records the rule `rule` has findings, per day of the
    /// check (`YYYY-MM-DD`, UTC), oldest first (the rule's page groups
    /// them by week).
    ///
    /// # Errors
    /// The index cannot be read.
    pub fn fired_by_day(&self, rule: &str) -> Result<Vec<(String, u64)>, IndexError> {
        self.counts(
            "SELECT day, count(*) FROM fired WHERE rule = ?1 GROUP BY day ORDER BY day",
            [rule],
        )
    }

    /// Whether any record of the log has a finding of the rule `rule`.
    ///
    /// # Errors
    /// The index cannot be read.
    pub fn has_findings_of(&self, rule: &str) -> Result<bool, IndexError> {
        let mut statement = self
            .db
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM fired WHERE rule = ?1)")
            .map_err(|e| self.db_error(e))?;
        statement.query_row([rule], |row| row.get::<_, bool>(0)).map_err(|e| self.db_error(e))
    }

    /// How many records each rule has findings in, most first.
    ///
    /// # Errors
    /// The index cannot be read.
    pub fn fired_totals(&self) -> Result<Vec<(String, u64)>, IndexError> {
        self.counts(
            "SELECT rule, count(*) FROM fired GROUP BY rule ORDER BY count(*) DESC, rule",
            [],
        )
    }

    /// The rows of a query that answers a name and a count.
    fn counts(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<(String, u64)>, IndexError> {
        let mut statement = self.db.prepare_cached(sql).map_err(|e| self.db_error(e))?;
        let rows = statement
            .query_map(params, |row| {
                Ok((row.get::<_, String>(0)?, u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0)))
            })
            .map_err(|e| self.db_error(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.db_error(e))
    }
}

/// The index of a root: `ROOT/state/decisions-index.sqlite`, or one in
/// memory when `state/` cannot be written (then the whole log is read).
///
/// # Errors
/// The root has no decision log, or it cannot be read.
pub fn open_for_root(root: &Path) -> Result<(DecisionIndex, bool), IndexError> {
    let layout = crate::watch::layout::Layout::new(root);
    let log = layout.decisions();
    if let Err(source) = File::open(&log) {
        return Err(IndexError::Log { path: log, source });
    }
    let state = layout.state;
    let writable = std::fs::symlink_metadata(&state).is_ok_and(|m| m.is_dir());
    if writable {
        if let Ok(index) = DecisionIndex::open_or_rebuild(&log, &state.join(FILE_NAME)) {
            return Ok((index, true));
        }
    }
    DecisionIndex::in_memory(&log).map(|index| (index, false))
}

/// Whether SQLite says the index file is not a database or is damaged
/// (not merely busy or unwritable).
fn is_damaged(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

/// Whether the log still holds the indexed part unchanged: at least as
/// long, and its last indexed line the same bytes at the same place (that
/// line carries the hash of the one before it, and so on back to the first).
fn log_still_holds(log: &File, mark: &Mark) -> io::Result<bool> {
    let len = log.metadata()?.len();
    if len < mark.indexed_to {
        return Ok(false);
    }
    let Some((offset, line_len, sha256)) = &mark.last_line else {
        return Ok(mark.indexed_to == 0);
    };
    let mut bytes = vec![0; usize::try_from(*line_len).unwrap_or(0)];
    if log.read_exact_at(&mut bytes, *offset).is_err() {
        return Ok(false);
    }
    Ok(&sha256_hex(&bytes) == sha256)
}

/// Creates the tables, or empties an index of another schema version.
fn db_create_tables(db: &Connection) -> rusqlite::Result<()> {
    let version: i64 = db.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version != SCHEMA_VERSION && version != 0 {
        db.execute_batch(
            "DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS lines; DROP TABLE IF EXISTS fired;",
        )?;
    }
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         -- Every line of the log (records and events), by seq.
         CREATE TABLE IF NOT EXISTS lines (
             seq INTEGER PRIMARY KEY,
             offset INTEGER NOT NULL,
             len INTEGER NOT NULL,
             is_record INTEGER NOT NULL,
             checked_at TEXT,
             day TEXT,
             verdict TEXT,
             file TEXT,
             plan_id TEXT,
             patient_id TEXT,
             patient_key TEXT,
             rules TEXT,
             moved_to TEXT,
             inbox_name TEXT
         );
         CREATE INDEX IF NOT EXISTS lines_by_patient ON lines(patient_key, seq)
             WHERE is_record = 1;
         CREATE INDEX IF NOT EXISTS lines_by_verdict ON lines(verdict, seq)
             WHERE is_record = 1;
         -- A verdict within dates (last week's failures) without reading
         -- every record of that verdict.
         CREATE INDEX IF NOT EXISTS lines_by_verdict_day ON lines(verdict, day, seq)
             WHERE is_record = 1;
         CREATE INDEX IF NOT EXISTS lines_by_day ON lines(day, seq) WHERE is_record = 1;
         CREATE INDEX IF NOT EXISTS lines_by_inbox_name ON lines(inbox_name)
             WHERE is_record = 1;
         -- The rules with findings of each record.
         CREATE TABLE IF NOT EXISTS fired (
             rule TEXT NOT NULL,
             seq INTEGER NOT NULL,
             day TEXT NOT NULL,
             PRIMARY KEY (rule, seq)
         ) WITHOUT ROWID;
         CREATE INDEX IF NOT EXISTS fired_by_day ON fired(rule, day, seq);",
    )?;
    db.pragma_update(None, "user_version", SCHEMA_VERSION)
}

/// How the index compares patients: as names, as the history does.
fn patient_key(patient_id: &str) -> String {
    crate::history::patient_key(patient_id)
}

/// The members of a log line the index needs; anything else is skipped.
#[derive(serde::Deserialize)]
struct LineMembers {
    seq: Option<u64>,
    verdict: Option<String>,
    file: Option<String>,
    plan_id: Option<String>,
    patient_id: Option<String>,
    checked_at: Option<String>,
    #[serde(default)]
    findings: Vec<FindingRule>,
    watch: Option<WatchMembers>,
}

#[derive(serde::Deserialize)]
struct FindingRule {
    rule: Option<String>,
}

#[derive(serde::Deserialize)]
struct WatchMembers {
    inbox_name: Option<String>,
    moved_to: Option<String>,
}

/// A decision record's indexed members.
struct RecordMembers {
    checked_at: String,
    day: String,
    verdict: String,
    file: String,
    plan_id: Option<String>,
    patient_id: Option<String>,
    rules: Vec<String>,
    moved_to: Option<String>,
    inbox_name: Option<String>,
}

impl LineMembers {
    fn read(text: &[u8]) -> Option<LineMembers> {
        serde_json::from_slice(text).ok()
    }

    /// The record's members; `None` for an event (no verdict or no `watch`).
    fn record(self) -> Option<RecordMembers> {
        let verdict = self.verdict?;
        let watch = self.watch?;
        let checked_at = self.checked_at.unwrap_or_default();
        let day = checked_at.get(..10).unwrap_or("").to_string();
        let mut rules: Vec<String> = Vec::new();
        for rule in self.findings.into_iter().filter_map(|f| f.rule) {
            // A rule id never holds a space (rule files name them
            // `kebab-case`); one that did would be split apart in the list.
            let rule = rule.replace(' ', "_");
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
        Some(RecordMembers {
            checked_at,
            day,
            verdict,
            file: self.file.unwrap_or_default(),
            plan_id: self.plan_id,
            patient_id: self.patient_id,
            rules,
            moved_to: watch.moved_to,
            inbox_name: watch.inbox_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A record line as the daemon writes it (the members the index reads).
    fn record(seq: u64, day: &str, verdict: &str, patient: &str, rules: &[&str]) -> String {
        let findings: Vec<serde_json::Value> =
            rules.iter().map(|r| serde_json::json!({ "rule": r })).collect();
        let value = serde_json::json!({
            "seq": seq, "verdict": verdict, "file": format!("p{seq}.json"),
            "plan_id": format!("PLN-{seq}"), "patient_id": patient,
            "checked_at": format!("{day}T10:00:00Z"), "findings": findings,
            "watch": { "inbox_name": format!("p{seq}.json"), "moved_to": format!("x/p{seq}.json") },
        });
        format!("{value}\n")
    }

    fn seqs(index: &DecisionIndex, filter: &Filter) -> Vec<u64> {
        index.query(filter, 100).unwrap().iter().map(|l| l.seq).collect()
    }

    struct Fixture {
        dir: tempfile::TempDir,
    }

    impl Fixture {
        fn new(lines: &[String]) -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("log.jsonl"), lines.concat()).unwrap();
            Fixture { dir }
        }
        fn log(&self) -> PathBuf {
            self.dir.path().join("log.jsonl")
        }
        fn open(&self) -> DecisionIndex {
            DecisionIndex::open(&self.log(), &self.dir.path().join("index.sqlite")).unwrap()
        }
        fn append(&self, text: &str) {
            let mut file = std::fs::OpenOptions::new().append(true).open(self.log()).unwrap();
            file.write_all(text.as_bytes()).unwrap();
        }
    }

    #[test]
    fn days_are_inclusive_at_both_ends_and_filters_combine() {
        let fixture = Fixture::new(&[
            record(1, "2026-11-01", "pass", "PAT-1", &[]),
            record(2, "2026-11-02", "fail", "PAT-1", &["session-spacing"]),
            r#"{"seq":3,"event":"history-forget","plan_id":"PLN-1"}"#.to_string() + "\n",
            record(4, "2026-11-03", "fail", "PAT-2", &["artery-dose-max", "session-spacing"]),
        ]);
        let mut index = fixture.open();
        assert_eq!(index.catch_up().unwrap(), 4);
        let on = |since: &str, until: &str| Filter {
            since: Some(since.into()),
            until: Some(until.into()),
            ..Filter::default()
        };
        assert_eq!(seqs(&index, &on("2026-11-02", "2026-11-02")), [2]);
        assert_eq!(seqs(&index, &on("2026-11-02", "2026-11-03")), [4, 2]);
        assert_eq!(seqs(&index, &Filter::default()), [4, 2, 1], "events are not decisions");
        let rule = Filter { rule: Some("session-spacing".into()), ..Filter::default() };
        assert_eq!(seqs(&index, &rule), [4, 2]);
        let both = Filter { patient: Some("pat-1".into()), ..rule };
        assert_eq!(seqs(&index, &both), [2]);
        let page = Filter { before: Some(4), ..Filter::default() };
        assert_eq!(seqs(&index, &page), [2, 1]);
        assert!(index.record(3).unwrap().is_none(), "an event is not a record");
        assert!(index.line(3).unwrap().unwrap().starts_with(b"{\"seq\":3"));
        assert_eq!(index.by_inbox_name("p4.json").unwrap(), Some(4));
    }

    #[test]
    fn only_lines_appended_since_are_read_and_a_line_still_being_written_waits() {
        let fixture = Fixture::new(&[record(1, "2026-11-01", "pass", "A", &[])]);
        let mut index = fixture.open();
        assert_eq!(index.catch_up().unwrap(), 1);
        assert_eq!(index.catch_up().unwrap(), 0);
        let second = record(2, "2026-11-01", "fail", "A", &[]);
        let (head, tail) = second.split_at(20);
        fixture.append(head);
        assert_eq!(index.catch_up().unwrap(), 0, "half a line is not indexed");
        fixture.append(tail);
        assert_eq!(index.catch_up().unwrap(), 1);
        // Another process opening the same index finds it caught up.
        let mut other = fixture.open();
        assert_eq!(other.catch_up().unwrap(), 0);
        assert_eq!(seqs(&other, &Filter::default()), [2, 1]);
    }

    #[test]
    fn a_log_replaced_by_another_of_the_same_length_is_indexed_again() {
        let fixture = Fixture::new(&[
            record(1, "2026-11-01", "pass", "A", &[]),
            record(2, "2026-11-01", "pass", "B", &[]),
        ]);
        let mut index = fixture.open();
        index.catch_up().unwrap();
        std::fs::write(
            fixture.log(),
            [record(1, "2026-11-01", "pass", "A", &[]), record(2, "2026-11-01", "fail", "B", &[])]
                .concat(),
        )
        .unwrap();
        assert_eq!(index.catch_up().unwrap(), 2);
        let fail = Filter { verdict: Some("fail".into()), ..Filter::default() };
        assert_eq!(seqs(&index, &fail), [2]);
        let read = index.record(2).unwrap().unwrap();
        assert!(String::from_utf8(read).unwrap().contains("\"fail\""));
    }
}
