//! The decision index: what `/v1/decisions`, idempotent retries and CDS
//! Hooks feedback look up, kept in step with the decision log by reading
//! only the lines appended since the last look (never the whole log per
//! request), and rebuilt from the log at every start (it holds nothing the
//! log does not).
//!
//! Each entry is a line's position in the log and the few members the
//! filters need; a record itself is read back from the log when asked for.

use crate::audit::decision_index::Filter;
use crate::history::patient_key;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// One decision record of the log, as far as the filters need it.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Its `seq` (its line number in the log).
    pub seq: u64,
    /// Where its line starts in the log file.
    offset: u64,
    /// Its line's length, without the newline.
    len: usize,
    /// `pass`, `fail` or `invalid`.
    pub verdict: String,
    /// The patient, compared as the history compares patients (see
    /// [`crate::history::patient_key`]), when the plan was readable.
    pub patient_key: Option<String>,
    /// The rules with findings (each once).
    pub rules: Vec<String>,
    /// The day of the check, `YYYY-MM-DD` (UTC).
    pub day: String,
}

/// A decision record newly found in the log, for the metrics and waiters.
#[derive(Debug)]
pub struct NewRecord {
    /// Its `seq`.
    pub seq: u64,
    /// Its name in the inbox (an HTTP plan's staging name).
    pub inbox_name: String,
    /// The record itself.
    pub record: serde_json::Value,
}

/// The index of the decision log.
#[derive(Debug)]
pub struct DecisionIndex {
    /// The log, opened for reading.
    log: File,
    /// How far the log has been read (always the end of a complete line).
    read_to: u64,
    /// Decision records, oldest first (events are not listed).
    entries: Vec<Entry>,
    /// `seq` of each line (records and events) → where it is, for
    /// `/v1/decisions/{seq}` and feedback.
    lines: HashMap<u64, (u64, usize)>,
    /// Staging names of plans that came over HTTP with an idempotency key
    /// → the `seq` of their record.
    by_staging_name: HashMap<String, u64>,
}

impl Entry {
    /// Whether this record passes `filter`.
    fn admitted_by(&self, filter: &Filter) -> bool {
        filter.before.map_or(true, |b| self.seq < b)
            && filter.verdict.as_ref().map_or(true, |v| &self.verdict == v)
            && filter
                .patient
                .as_deref()
                .map_or(true, |p| self.patient_key.as_deref() == Some(patient_key(p).as_str()))
            && filter.rule.as_ref().map_or(true, |r| self.rules.contains(r))
            && filter.since.as_ref().map_or(true, |d| self.day.as_str() >= d.as_str())
            && filter.until.as_ref().map_or(true, |d| self.day.as_str() <= d.as_str())
    }
}

/// Staging names start with this: only they are looked up by name.
pub const KEYED_PREFIX: &str = "api-k-";

impl DecisionIndex {
    /// Opens the log at `path` for reading; nothing is indexed until
    /// [`DecisionIndex::catch_up`].
    pub fn open(path: &Path) -> io::Result<DecisionIndex> {
        Ok(DecisionIndex {
            log: File::open(path)?,
            read_to: 0,
            entries: Vec::new(),
            lines: HashMap::new(),
            by_staging_name: HashMap::new(),
        })
    }

    /// Reads the lines appended since the last call; returns the decision
    /// records among them.
    pub fn catch_up(&mut self) -> io::Result<Vec<NewRecord>> {
        self.catch_up_keeping(true)
    }

    /// Indexes the whole log at start-up, without keeping the records: a
    /// log of a million decisions would otherwise be held in memory whole,
    /// parsed.
    ///
    /// # Errors
    /// The log cannot be read.
    pub fn catch_up_at_start(&mut self) -> io::Result<()> {
        self.catch_up_keeping(false).map(drop)
    }

    /// [`DecisionIndex::catch_up`], keeping the new records or not.
    fn catch_up_keeping(&mut self, keep: bool) -> io::Result<Vec<NewRecord>> {
        let mut added = Vec::new();
        self.log.seek(SeekFrom::Start(self.read_to))?;
        // Line by line, so a long log is never held in memory at once.
        let log = self.log.try_clone()?;
        let mut reader = BufReader::new(&log);
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = reader.read_until(b'\n', &mut line)?;
            if read == 0 || line.last() != Some(&b'\n') {
                break; // the end, or a line still being written
            }
            let start = self.read_to;
            self.read_to += read as u64;
            let text = line.get(..read - 1).unwrap_or_default();
            let Ok(value) = serde_json::from_slice::<serde_json::Value>(text) else { continue };
            let Some(seq) = value.get("seq").and_then(|s| s.as_u64()) else { continue };
            self.lines.insert(seq, (start, text.len()));
            if let Some(record) = self.add_record(seq, start, text.len(), value) {
                if keep {
                    added.push(record);
                }
            }
        }
        Ok(added)
    }

    /// Indexes one line if it is a decision record.
    fn add_record(
        &mut self,
        seq: u64,
        offset: u64,
        len: usize,
        value: serde_json::Value,
    ) -> Option<NewRecord> {
        let verdict = value.get("verdict")?.as_str()?.to_string();
        let inbox_name = value.pointer("/watch/inbox_name")?.as_str()?.to_string();
        let text = |pointer: &str| value.pointer(pointer).and_then(|v| v.as_str());
        let mut rules: Vec<String> = Vec::new();
        for finding in value.get("findings").and_then(|f| f.as_array()).into_iter().flatten() {
            if let Some(rule) = finding.get("rule").and_then(|r| r.as_str()) {
                if !rules.iter().any(|r| r == rule) {
                    rules.push(rule.to_string());
                }
            }
        }
        let day = text("/checked_at").and_then(|t| t.get(..10)).unwrap_or("").to_string();
        let patient_key = text("/patient_id").map(patient_key);
        if inbox_name.starts_with(KEYED_PREFIX) {
            self.by_staging_name.insert(inbox_name.clone(), seq);
        }
        self.entries.push(Entry { seq, offset, len, verdict, patient_key, rules, day });
        Some(NewRecord { seq, inbox_name, record: value })
    }

    /// The `seq` of the record of the keyed HTTP plan staged as `name`.
    pub fn by_staging_name(&self, name: &str) -> Option<u64> {
        self.by_staging_name.get(name).copied()
    }

    /// The line with this `seq` (a record or an event), as written.
    pub fn line(&self, seq: u64) -> io::Result<Option<Vec<u8>>> {
        let Some(&(offset, len)) = self.lines.get(&seq) else { return Ok(None) };
        let mut bytes = vec![0; len];
        self.log.read_exact_at(&mut bytes, offset)?;
        Ok(Some(bytes))
    }

    /// The decision record with this `seq` (not an event).
    pub fn record(&self, seq: u64) -> io::Result<Option<Vec<u8>>> {
        let found = self.entries.binary_search_by_key(&seq, |e| e.seq);
        match found.ok().and_then(|i| self.entries.get(i)) {
            Some(entry) => {
                let mut bytes = vec![0; entry.len];
                self.log.read_exact_at(&mut bytes, entry.offset)?;
                Ok(Some(bytes))
            }
            None => Ok(None),
        }
    }

    /// Up to `limit` records that pass `filter`, newest first, and the
    /// `before` of the next page (`None` when no older record passes).
    pub fn query(&self, filter: &Filter, limit: usize) -> (Vec<u64>, Option<u64>) {
        let mut found = Vec::new();
        for entry in self.entries.iter().rev().filter(|e| e.admitted_by(filter)) {
            if found.len() == limit {
                return (found.clone(), found.last().copied());
            }
            found.push(entry.seq);
        }
        (found, None)
    }

    /// How many decision records the log holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the log holds no decision record.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
