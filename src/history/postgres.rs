//! The shared history: one PostgreSQL database for several daemons
//! (`history_url = "postgres://..."`).
//!
//! It holds the same plans and sessions as the SQLite history, and more:
//! - each plan row says which daemon passed it (`site`, the root's id) and
//!   in which of that daemon's batches (`batch`), and keeps the version it
//!   replaced (`replaces`), so that rows a daemon wrote for a batch whose
//!   records never reached its log can be taken back exactly
//!   ([`Postgres::undo_unlogged`]);
//! - `decisions`: a copy of every decision record (pass, fail, invalid) of
//!   every daemon, for review across sites;
//! - `sites`: each daemon's root and host, and when it last started.
//!
//! # One patient at a time
//! A daemon judges a patient's plan only while its batch transaction holds
//! that patient's advisory lock ([`Postgres::lock_patient`],
//! `pg_advisory_xact_lock` on a hash of the patient id compared as a name),
//! and reads the patient's sessions after taking it. The lock is released
//! when the batch commits, so the second of two daemons judging plans of one
//! patient reads the first one's rows: exactly one of two conflicting plans
//! passes. A daemon that already holds locks never waits for another (that
//! could deadlock): the plan is judged in its next batch instead.
//!
//! # Schema
//! Versioned migrations ([`MIGRATIONS`]) are applied at start-up, under a
//! database-wide advisory lock, so two daemons starting together migrate once.

use super::{patient_key, HistoryError, PriorRecord, RecordedPlan, RecordedSession};
use jiff::civil::Date;
use postgres::error::SqlState;
use postgres::{Client, Config, NoTls, Row, Statement};
use sha2::{Digest, Sha256};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// Schema migrations, in order; `embolint_schema.version` counts those applied.
pub const MIGRATIONS: &[&str] = &[
    // 1: sites, plans in force with their sessions, decision copies.
    "CREATE TABLE sites (
        site       text PRIMARY KEY,
        root       text NOT NULL,
        host       text NOT NULL,
        started_at timestamptz NOT NULL
     );
     CREATE TABLE plans (
        plan_id          text PRIMARY KEY,
        patient_id       text NOT NULL,
        patient_key      text NOT NULL,
        file_sha256      text NOT NULL,
        recorded_at      text NOT NULL,
        rule_set_sha256  text NOT NULL,
        decision_key     text NOT NULL,
        site             text NOT NULL,
        batch            bigint NOT NULL,
        replaces         jsonb,
        UNIQUE (site, decision_key)
     );
     CREATE INDEX plans_by_patient_key ON plans (patient_key);
     CREATE INDEX plans_by_site_batch ON plans (site, batch);
     CREATE TABLE sessions (
        plan_id  text NOT NULL REFERENCES plans (plan_id) ON DELETE CASCADE,
        prior    smallint NOT NULL,
        idx      bigint NOT NULL,
        of_plan  text,
        number   bigint,
        date     text NOT NULL,
        PRIMARY KEY (plan_id, prior, idx)
     );
     CREATE TABLE decisions (
        site          text NOT NULL,
        batch         bigint NOT NULL,
        position      integer NOT NULL,
        verdict       text NOT NULL,
        file          text NOT NULL,
        plan_id       text,
        patient_key   text,
        decision_key  text,
        checked_at    text,
        record        jsonb NOT NULL,
        PRIMARY KEY (site, batch, position)
     );
     CREATE INDEX decisions_by_patient_key ON decisions (patient_key);
     CREATE INDEX decisions_by_decision_key ON decisions (site, decision_key);",
];

/// The lock every migration runs under (an arbitrary constant: "embolint").
const MIGRATION_LOCK: i64 = 0x656d_626f_6c69_6e74;

/// How long a connection attempt may take before the server counts as down.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings of every connection: a daemon never waits long for a patient
/// another daemon holds, and a daemon stopped while holding a transaction
/// (a frozen process) does not hold its patients for ever.
const SESSION_SETTINGS: &str = "SET client_min_messages = warning;
     SET lock_timeout = '10s';
     SET statement_timeout = '60s';
     SET idle_in_transaction_session_timeout = '60s'";

/// An open connection to the shared history.
pub struct Postgres {
    /// The connection (the client needs `&mut` for every query).
    client: RefCell<Client>,
    /// The server and database, without password, for messages.
    shown: String,
    /// This daemon's root id; `None` for a reader.
    site: Option<String>,
    /// A transaction is open.
    in_transaction: Cell<bool>,
    /// The batch whose rows the open transaction writes (0 outside batches).
    batch: Cell<i64>,
    /// The patient locks the open transaction holds.
    locks: RefCell<HashSet<i64>>,
    /// Statements prepared on this connection, by their SQL: every passed
    /// plan runs the same few, and preparing each again doubled the round
    /// trips to the server.
    statements: RefCell<HashMap<String, Statement>>,
}

/// The URL as shown to people: user, hosts, ports and database, never the
/// password (nor any other parameter, which might carry it).
pub fn shown_url(url: &str) -> String {
    let Ok(config) = url.parse::<Config>() else {
        return "an unreadable PostgreSQL URL (not shown: it may hold a password)".into();
    };
    let user = config.get_user().map(|u| format!("{u}@")).unwrap_or_default();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let host = match host {
                postgres::config::Host::Tcp(name) => name.clone(),
                postgres::config::Host::Unix(path) => path.display().to_string(),
            };
            match config.get_ports().get(i).or(config.get_ports().first()) {
                Some(port) => format!("{host}:{port}"),
                None => host,
            }
        })
        .collect();
    let database = config.get_dbname().unwrap_or("");
    format!("postgres://{user}{}/{database}", hosts.join(","))
}

/// Whether `text` names a PostgreSQL database (rather than a file).
pub fn is_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

impl Postgres {
    /// Connects; as daemon `site`, also migrates the schema and notes the
    /// site. A reader (`site` `None`) only checks the schema's version.
    pub fn open(url: &str, site: Option<&str>) -> Result<Postgres, HistoryError> {
        let shown = shown_url(url);
        let mut config: Config = url.parse().map_err(|e: postgres::Error| {
            HistoryError::Server { url: shown.clone(), detail: format!("bad URL: {e}") }
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.application_name("embolint");
        // A server behind a cut network (no reset) is noticed within about
        // half a minute, rather than after the system's TCP timeout.
        config.keepalives_idle(Duration::from_secs(10));
        config.keepalives_interval(Duration::from_secs(5));
        config.keepalives_retries(3);
        config.tcp_user_timeout(Duration::from_secs(30));
        let client = config
            .connect(NoTls)
            .map_err(|e| HistoryError::Unreachable { url: shown.clone(), detail: detail(&e) })?;
        let db = Postgres {
            client: RefCell::new(client),
            shown,
            site: site.map(str::to_string),
            in_transaction: Cell::new(false),
            batch: Cell::new(0),
            locks: RefCell::new(HashSet::new()),
            statements: RefCell::new(HashMap::new()),
        };
        db.client.borrow_mut().batch_execute(SESSION_SETTINGS).map_err(|e| db.error(e))?;
        match site {
            Some(_) => db.migrate()?,
            None => db.check_version()?,
        }
        Ok(db)
    }

    /// The server and database, without password.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// This daemon's root id (empty for a reader, which writes nothing).
    fn site(&self) -> &str {
        self.site.as_deref().unwrap_or("")
    }

    fn schema_version(&self) -> Result<i64, HistoryError> {
        let mut client = self.client.borrow_mut();
        let exists: bool = client
            .query_one("SELECT to_regclass('embolint_schema') IS NOT NULL", &[])
            .map_err(|e| self.error(e))?
            .get(0);
        if !exists {
            return Ok(0);
        }
        let row = client
            .query_opt("SELECT version FROM embolint_schema", &[])
            .map_err(|e| self.error(e))?;
        Ok(row.map_or(0, |r| i64::from(r.get::<_, i32>(0))))
    }

    fn check_version(&self) -> Result<(), HistoryError> {
        let version = self.schema_version()?;
        let supported = MIGRATIONS.len() as i64;
        if version != supported {
            return Err(HistoryError::Server {
                url: self.shown.clone(),
                detail: format!(
                    "its schema version is {version}, this embolint reads version {supported}: \
                     start the embolint daemon with this history_url once (it creates or \
                     migrates the schema), or use the matching embolint"
                ),
            });
        }
        Ok(())
    }

    fn migrate(&self) -> Result<(), HistoryError> {
        self.begin(0)?;
        let done = self.migrate_in_transaction().and_then(|()| self.commit());
        if done.is_err() {
            self.rollback();
        }
        done
    }

    fn migrate_in_transaction(&self) -> Result<(), HistoryError> {
        let run =
            |sql: &str| self.client.borrow_mut().batch_execute(sql).map_err(|e| self.error(e));
        self.client
            .borrow_mut()
            .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(|e| self.error(e))?;
        run("CREATE TABLE IF NOT EXISTS embolint_schema (version integer NOT NULL)")?;
        let version = self.schema_version()?;
        let supported = MIGRATIONS.len() as i64;
        if version > supported {
            return Err(HistoryError::TooNew {
                path: self.shown.clone(),
                found: version,
                supported,
            });
        }
        for sql in MIGRATIONS.iter().skip(usize::try_from(version).unwrap_or(0)) {
            run(sql)?;
        }
        run("DELETE FROM embolint_schema")?;
        self.client
            .borrow_mut()
            .execute("INSERT INTO embolint_schema (version) VALUES ($1)", &[&(supported as i32)])
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Inside a transaction: waits for, and holds until it ends, the lock
    /// that schema changes and the one-time copy of a history take.
    pub fn lock_migration(&self) -> Result<(), HistoryError> {
        self.client
            .borrow_mut()
            .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// `sql`, prepared on this connection once.
    fn prepared(&self, client: &mut Client, sql: &str) -> Result<Statement, HistoryError> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = client.prepare(sql).map_err(|e| self.error(e))?;
        self.statements.borrow_mut().insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    /// Whether the server still answers (outside a transaction).
    pub fn ping(&self) -> Result<(), HistoryError> {
        self.client.borrow_mut().batch_execute("SELECT 1").map_err(|e| self.error(e))
    }

    /// Notes this daemon's root and host, once per start.
    pub fn note_site(&self, root: &str) -> Result<(), HistoryError> {
        let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        self.client
            .borrow_mut()
            .execute(
                "INSERT INTO sites (site, root, host, started_at) VALUES ($1, $2, $3, now())
                 ON CONFLICT (site) DO UPDATE SET root = $2, host = $3, started_at = now()",
                &[&self.site(), &root, &host.trim()],
            )
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Starts a transaction whose rows belong to batch `batch`; a
    /// transaction left open by an earlier failure is rolled back first.
    pub fn begin(&self, batch: u64) -> Result<(), HistoryError> {
        self.rollback();
        self.client.borrow_mut().batch_execute("BEGIN").map_err(|e| self.error(e))?;
        self.in_transaction.set(true);
        self.batch.set(i64::try_from(batch).unwrap_or(i64::MAX));
        Ok(())
    }

    /// Commits the open transaction, releasing its patient locks.
    pub fn commit(&self) -> Result<(), HistoryError> {
        self.in_transaction.set(false);
        self.locks.borrow_mut().clear();
        self.batch.set(0);
        self.client.borrow_mut().batch_execute("COMMIT").map_err(|e| self.error(e))
    }

    /// Abandons the open transaction, if any.
    pub fn rollback(&self) {
        if self.in_transaction.replace(false) {
            let _ = self.client.borrow_mut().batch_execute("ROLLBACK");
        }
        self.locks.borrow_mut().clear();
        self.batch.set(0);
    }

    /// Takes `patient_id`'s lock for the open transaction (see the module
    /// documentation); nothing outside a transaction (a dry run reads what
    /// is committed, and records nothing).
    pub fn lock_patient(&self, patient_id: &str) -> Result<(), HistoryError> {
        if !self.in_transaction.get() {
            return Ok(());
        }
        let key = lock_key(&patient_key(patient_id));
        if self.locks.borrow().contains(&key) {
            return Ok(());
        }
        let mut client = self.client.borrow_mut();
        let statement = self.prepared(&mut client, "SELECT pg_try_advisory_xact_lock($1)")?;
        let taken: bool = client.query_one(&statement, &[&key]).map_err(|e| self.error(e))?.get(0);
        if !taken {
            if !self.locks.borrow().is_empty() {
                return Err(HistoryError::PatientBusy { url: self.shown.clone() });
            }
            // Holding no lock, this daemon can wait without deadlock; a
            // wait past the lock timeout leaves the transaction usable.
            client.batch_execute("SAVEPOINT before_patient_lock").map_err(|e| self.error(e))?;
            if let Err(e) = client.execute("SELECT pg_advisory_xact_lock($1)", &[&key]) {
                let error = self.error(e);
                if error.is_patient_busy() {
                    client
                        .batch_execute("ROLLBACK TO SAVEPOINT before_patient_lock")
                        .map_err(|e| self.error(e))?;
                }
                return Err(error);
            }
            client
                .batch_execute("RELEASE SAVEPOINT before_patient_lock")
                .map_err(|e| self.error(e))?;
        }
        self.locks.borrow_mut().insert(key);
        Ok(())
    }

    /// Every recorded session of `patient_id` (compared as a name), oldest
    /// first, in the same order as the SQLite history gives them.
    pub fn sessions_of(&self, patient_id: &str) -> Result<Vec<RecordedSession>, HistoryError> {
        let mut client = self.client.borrow_mut();
        let statement = self.prepared(
            &mut client,
            "SELECT COALESCE(s.of_plan, p.plan_id), s.number, s.idx, s.date, p.recorded_at,
                    p.patient_id, s.prior, p.plan_id
             FROM plans p JOIN sessions s ON s.plan_id = p.plan_id
             WHERE p.patient_key = $1
             ORDER BY s.date, COALESCE(s.of_plan, p.plan_id) COLLATE \"C\",
                      p.plan_id COLLATE \"C\", s.prior, s.idx",
        )?;
        let rows =
            client.query(&statement, &[&patient_key(patient_id)]).map_err(|e| self.error(e))?;
        drop(client);
        let mut sessions = Vec::with_capacity(rows.len());
        for row in rows {
            let number: Option<i64> = self.get(&row, 1)?;
            let index: i64 = self.get(&row, 2)?;
            let date: String = self.get(&row, 3)?;
            let recorded_at: String = self.get(&row, 4)?;
            let prior: i16 = self.get(&row, 6)?;
            sessions.push(RecordedSession {
                patient_id: self.get(&row, 5)?,
                listed_by: if prior != 0 { Some(self.get(&row, 7)?) } else { None },
                date: self.date(&date)?,
                recorded_at: self.timestamp(&recorded_at)?,
                number: number.and_then(|n| u64::try_from(n).ok()),
                index: usize::try_from(index).map_err(|_| self.corrupt("bad session index"))?,
                plan_id: self.get(&row, 0)?,
            });
        }
        Ok(sessions)
    }

    /// True when this daemon's decision `key` reached the database: its
    /// copy is there (its rows may since have been replaced by a revision
    /// or withdrawn, which must not be undone by applying it again).
    pub fn has_decision(&self, key: &str) -> Result<bool, HistoryError> {
        let found = self
            .client
            .borrow_mut()
            .query_opt(
                "SELECT 1 FROM decisions WHERE site = $1 AND decision_key = $2
                 UNION ALL SELECT 1 FROM plans WHERE site = $1 AND decision_key = $2 LIMIT 1",
                &[&self.site(), &key],
            )
            .map_err(|e| self.error(e))?;
        Ok(found.is_some())
    }

    /// The recorded plan `plan_id`, with its sessions.
    pub fn plan(&self, plan_id: &str) -> Result<Option<RecordedPlan>, HistoryError> {
        Ok(self.plans_where("WHERE p.plan_id = $1", &[&plan_id])?.pop().map(|(plan, ..)| plan))
    }

    /// Every recorded plan, ordered by plan id.
    pub fn plans(&self) -> Result<Vec<RecordedPlan>, HistoryError> {
        Ok(self.plans_where("", &[])?.into_iter().map(|(plan, ..)| plan).collect())
    }

    /// The plans matching `filter`, each with the site and batch that wrote
    /// it, ordered by plan id.
    fn plans_where(
        &self,
        filter: &str,
        values: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<(RecordedPlan, String, i64)>, HistoryError> {
        let sql = format!(
            "SELECT p.plan_id, p.patient_id, p.file_sha256, p.recorded_at, p.rule_set_sha256,
                    p.decision_key, s.idx, s.number, s.date, s.prior, s.of_plan, p.site, p.batch
             FROM plans p LEFT JOIN sessions s ON s.plan_id = p.plan_id
             {filter} ORDER BY p.plan_id COLLATE \"C\", s.prior, s.idx"
        );
        let mut client = self.client.borrow_mut();
        let statement = self.prepared(&mut client, &sql)?;
        let rows = client.query(&statement, values).map_err(|e| self.error(e))?;
        drop(client);
        let mut plans: Vec<(RecordedPlan, String, i64)> = Vec::new();
        for row in rows {
            let plan_id: String = self.get(&row, 0)?;
            if plans.last().map(|(p, ..)| &p.plan_id) != Some(&plan_id) {
                let recorded_at: String = self.get(&row, 3)?;
                let plan = RecordedPlan {
                    plan_id,
                    patient_id: self.get(&row, 1)?,
                    file_sha256: self.get(&row, 2)?,
                    recorded_at: self.timestamp(&recorded_at)?,
                    rule_set_sha256: self.get(&row, 4)?,
                    decision_key: self.get(&row, 5)?,
                    sessions: Vec::new(),
                    prior_sessions: Vec::new(),
                };
                plans.push((plan, self.get(&row, 11)?, self.get(&row, 12)?));
            }
            let index: Option<i64> = self.get(&row, 6)?;
            let Some(index) = index else { continue };
            let index = usize::try_from(index).map_err(|_| self.corrupt("bad session index"))?;
            let number: Option<i64> = self.get(&row, 7)?;
            let date: String = self.get(&row, 8)?;
            let date = self.date(&date)?;
            let prior: i16 = self.get(&row, 9)?;
            let of_plan: Option<String> = self.get(&row, 10)?;
            let Some((plan, ..)) = plans.last_mut() else { continue };
            if prior != 0 {
                plan.prior_sessions.push(PriorRecord { index, plan_id: of_plan, date });
            } else {
                plan.sessions.push((index, number.and_then(|n| u64::try_from(n).ok()), date));
            }
        }
        Ok(plans)
    }

    /// Inside an open transaction: records `plan` for this daemon's current
    /// batch, replacing any plan with the same `plan_id` (kept in the new
    /// row, to be put back if this batch's records never reach the log).
    pub fn put(&self, plan: &RecordedPlan) -> Result<(), HistoryError> {
        let earlier = self.plans_where("WHERE p.plan_id = $1", &[&plan.plan_id])?.pop();
        let replaces = earlier.map(
            |(plan, site, batch)| serde_json::json!({ "plan": plan, "site": site, "batch": batch }),
        );
        self.insert(plan, self.site(), self.batch.get(), replaces.as_ref())
    }

    /// Replaces plan `plan.plan_id`'s rows by `plan`'s, written by `site`
    /// in its batch `batch`.
    fn insert(
        &self,
        plan: &RecordedPlan,
        site: &str,
        batch: i64,
        replaces: Option<&serde_json::Value>,
    ) -> Result<(), HistoryError> {
        let mut client = self.client.borrow_mut();
        let mut run = |sql: &str, values: &[&(dyn postgres::types::ToSql + Sync)]| {
            let statement = self.prepared(&mut client, sql)?;
            client.execute(&statement, values).map_err(|e| self.error(e))
        };
        run("DELETE FROM plans WHERE plan_id = $1", &[&plan.plan_id])?;
        run(
            "INSERT INTO plans (plan_id, patient_id, patient_key, file_sha256, recorded_at,
                                rule_set_sha256, decision_key, site, batch, replaces)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &plan.plan_id,
                &plan.patient_id,
                &patient_key(&plan.patient_id),
                &plan.file_sha256,
                &plan.recorded_at.to_string(),
                &plan.rule_set_sha256,
                &plan.decision_key,
                &site,
                &batch,
                &replaces,
            ],
        )?;
        let index = |index: usize| i64::try_from(index).unwrap_or(i64::MAX);
        for (i, number, date) in &plan.sessions {
            run(
                "INSERT INTO sessions (plan_id, prior, idx, of_plan, number, date)
                 VALUES ($1, 0, $2, NULL, $3, $4)",
                &[
                    &plan.plan_id,
                    &index(*i),
                    &number.and_then(|n| i64::try_from(n).ok()),
                    &date.to_string(),
                ],
            )?;
        }
        for prior in &plan.prior_sessions {
            run(
                "INSERT INTO sessions (plan_id, prior, idx, of_plan, number, date)
                 VALUES ($1, 1, $2, $3, NULL, $4)",
                &[&plan.plan_id, &index(prior.index), &prior.plan_id, &prior.date.to_string()],
            )?;
        }
        Ok(())
    }

    /// Inside an open transaction: removes plan `plan_id`; returns its
    /// record if it was there.
    pub fn remove(&self, plan_id: &str) -> Result<Option<RecordedPlan>, HistoryError> {
        let found = self.plan(plan_id)?;
        if found.is_some() {
            self.client
                .borrow_mut()
                .execute("DELETE FROM plans WHERE plan_id = $1", &[&plan_id])
                .map_err(|e| self.error(e))?;
        }
        Ok(found)
    }

    /// Inside an open batch transaction: stores a copy of each of the
    /// batch's decision records (`lines`, as they go to the log).
    pub fn store_decisions(&self, lines: &[u8]) -> Result<(), HistoryError> {
        let mut client = self.client.borrow_mut();
        let records = lines.split(|&b| b == b'\n').filter(|line| !line.is_empty());
        for (position, line) in records.enumerate() {
            let record: serde_json::Value = serde_json::from_slice(line)
                .map_err(|e| self.corrupt(format!("a decision record to copy: {e}")))?;
            let text = |pointer: &str| record.pointer(pointer).and_then(|v| v.as_str());
            let patient = text("/patient_id").map(patient_key);
            let statement = self.prepared(
                &mut client,
                "INSERT INTO decisions (site, batch, position, verdict, file, plan_id,
                                        patient_key, decision_key, checked_at, record)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (site, batch, position) DO NOTHING",
            )?;
            client
                .execute(
                    &statement,
                    &[
                        &self.site(),
                        &self.batch.get(),
                        &i32::try_from(position).unwrap_or(i32::MAX),
                        &text("/verdict").unwrap_or(""),
                        &text("/file").unwrap_or(""),
                        &text("/plan_id"),
                        &patient,
                        &text("/watch/history/decision_key"),
                        &text("/checked_at"),
                        &record,
                    ],
                )
                .map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// Inside an open transaction: takes back what this daemon wrote for
    /// batches after `logged` — batches committed to the database whose
    /// records never reached its log (it stopped in between) — putting back
    /// the versions those rows had replaced. Returns the plans taken back.
    pub fn undo_unlogged(&self, logged: u64) -> Result<usize, HistoryError> {
        let logged = i64::try_from(logged).unwrap_or(i64::MAX);
        let mut undone = 0;
        // Each step takes one row back; a put-back version that is itself
        // such a row (a plan passed twice in that batch) is taken next.
        for _ in 0..100_000 {
            let row = self
                .client
                .borrow_mut()
                .query_opt(
                    "SELECT plan_id, replaces FROM plans WHERE site = $1 AND batch > $2
                     ORDER BY batch DESC LIMIT 1",
                    &[&self.site(), &logged],
                )
                .map_err(|e| self.error(e))?;
            let Some(row) = row else { break };
            let plan_id: String = self.get(&row, 0)?;
            let replaces: Option<serde_json::Value> = self.get(&row, 1)?;
            self.remove(&plan_id)?;
            undone += 1;
            let Some(replaced) = replaces else { continue };
            let plan: RecordedPlan =
                serde_json::from_value(replaced["plan"].clone()).map_err(|e| {
                    self.corrupt(format!("a replaced version kept in plan {plan_id}: {e}"))
                })?;
            let site = replaced["site"].as_str().unwrap_or_default().to_string();
            let batch = replaced["batch"].as_i64().unwrap_or(0);
            self.insert(&plan, &site, batch, None)?;
        }
        self.client
            .borrow_mut()
            .execute(
                "DELETE FROM decisions WHERE site = $1 AND batch > $2",
                &[&self.site(), &logged],
            )
            .map_err(|e| self.error(e))?;
        Ok(undone)
    }

    /// Whether the database already holds a history (any plan or decision).
    pub fn holds_history(&self) -> Result<bool, HistoryError> {
        let row = self
            .client
            .borrow_mut()
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM plans) OR EXISTS (SELECT 1 FROM decisions)",
                &[],
            )
            .map_err(|e| self.error(e))?;
        self.get(&row, 0)
    }

    fn get<'a, T: postgres::types::FromSql<'a>>(
        &self,
        row: &'a Row,
        index: usize,
    ) -> Result<T, HistoryError> {
        row.try_get(index).map_err(|e| self.corrupt(e.to_string()))
    }

    fn date(&self, text: &str) -> Result<Date, HistoryError> {
        text.parse().map_err(|_| self.corrupt(format!("bad date `{text}`")))
    }

    fn timestamp(&self, text: &str) -> Result<jiff::Timestamp, HistoryError> {
        text.parse().map_err(|_| self.corrupt(format!("bad time `{text}`")))
    }

    fn corrupt(&self, detail: impl Into<String>) -> HistoryError {
        HistoryError::Corrupt { path: self.shown.clone(), detail: detail.into() }
    }

    /// Maps the client's errors to the cases an operator acts on
    /// differently: contention, a server gone, an error of the server.
    fn error(&self, e: postgres::Error) -> HistoryError {
        let url = self.shown.clone();
        match e.code() {
            Some(code)
                if *code == SqlState::LOCK_NOT_AVAILABLE
                    || *code == SqlState::T_R_DEADLOCK_DETECTED
                    || *code == SqlState::T_R_SERIALIZATION_FAILURE =>
            {
                HistoryError::PatientBusy { url }
            }
            Some(code)
                if code.code().starts_with("08")
                    || code.code().starts_with("57P")
                    || *code == SqlState::CANNOT_CONNECT_NOW =>
            {
                HistoryError::Unreachable { url, detail: detail(&e) }
            }
            Some(_) => HistoryError::Server { url, detail: detail(&e) },
            None => HistoryError::Unreachable { url, detail: detail(&e) },
        }
    }
}

/// The client's error with its cause (the bare error often says only "db
/// error" or "error connecting to server").
fn detail(e: &postgres::Error) -> String {
    match std::error::Error::source(e) {
        Some(source) => format!("{e}: {source}"),
        None => e.to_string(),
    }
}

/// The advisory lock of a patient key: the first 8 bytes of its sha256,
/// the same on every daemon.
fn lock_key(patient_key: &str) -> i64 {
    let digest = Sha256::digest(format!("embolint patient {patient_key}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_shown_without_its_password() {
        let shown = shown_url("postgres://embolint:s3cret@db.example:5433/history?sslmode=disable");
        assert_eq!(shown, "postgres://embolint@db.example:5433/history");
        let shown = shown_url("host=db user=u password=s3cret dbname=h");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(!shown_url("postgres://u:secretpw@[bad").contains("secretpw"));
    }

    #[test]
    fn one_patient_has_one_lock_whatever_the_spelling_of_the_id() {
        assert_eq!(lock_key(&patient_key("PAT-W ")), lock_key(&patient_key("pat-w")));
        assert_ne!(lock_key(&patient_key("PAT-W")), lock_key(&patient_key("PAT-X")));
    }
}
