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
use serde::Deserialize;
use std::borrow::Cow;
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
    /// `pass`, `fail` or `invalid`.
    pub verdict: String,
    /// Each finding's rule and severity, in order.
    pub findings: Vec<(String, String)>,
    /// How long judging the plan took, in microseconds.
    pub elapsed_us: Option<u64>,
}

/// What the index reads of a log line: the members its entries and the
/// metrics need, borrowed from the line where they need no unescaping
/// (the rest of the record is skipped, not built: this runs for every
/// record the recorder writes).
#[derive(Deserialize)]
struct Seen<'a> {
    /// The line's `seq`.
    seq: Option<u64>,
    /// A record's verdict (events have none).
    #[serde(borrow)]
    verdict: Option<Cow<'a, str>>,
    /// A record's findings.
    #[serde(borrow, default)]
    findings: Vec<FindingSeen<'a>>,
    /// When the plan was checked.
    #[serde(borrow)]
    checked_at: Option<Cow<'a, str>>,
    /// The plan's patient (`null` when the plan was unreadable).
    #[serde(borrow)]
    patient_id: Option<Cow<'a, str>>,
    /// Where the recorder took the plan from and put it.
    #[serde(borrow)]
    watch: Option<WatchSeen<'a>>,
    /// An event's kind (records have none).
    #[serde(borrow)]
    event: Option<Cow<'a, str>>,
    /// The CDS card an event gave (a plan that was not checked).
    #[serde(borrow)]
    card: Option<Cow<'a, str>>,
}

/// What the index reads of one finding.
#[derive(Deserialize)]
struct FindingSeen<'a> {
    /// Its rule id.
    #[serde(borrow)]
    rule: Option<Cow<'a, str>>,
    /// Its severity.
    #[serde(borrow)]
    severity: Option<Cow<'a, str>>,
}

/// What the index reads of a record's `watch` member.
#[derive(Deserialize)]
struct WatchSeen<'a> {
    /// The plan's name in the inbox.
    #[serde(borrow)]
    inbox_name: Option<Cow<'a, str>>,
    /// How long judging it took, in microseconds.
    elapsed_us: Option<u64>,
}

impl Seen<'_> {
    /// Reads a line; a line whose members have unexpected types (written
    /// by another tool, or edited) is read as any JSON and taken member by
    /// member, as far as it goes.
    fn of(text: &[u8]) -> Option<Seen<'_>> {
        if let Ok(seen) = serde_json::from_slice::<Seen>(text) {
            return Some(seen);
        }
        let value: serde_json::Value = serde_json::from_slice(text).ok()?;
        let text = |v: &serde_json::Value, pointer: &str| {
            v.pointer(pointer).and_then(|s| s.as_str()).map(|s| Cow::Owned(s.to_string()))
        };
        let findings = value.get("findings").and_then(|f| f.as_array());
        let findings = findings.into_iter().flatten().map(|finding| FindingSeen {
            rule: text(finding, "/rule"),
            severity: text(finding, "/severity"),
        });
        Some(Seen {
            seq: value.get("seq").and_then(|s| s.as_u64()),
            verdict: text(&value, "/verdict"),
            findings: findings.collect(),
            checked_at: text(&value, "/checked_at"),
            patient_id: text(&value, "/patient_id"),
            watch: Some(WatchSeen {
                inbox_name: text(&value, "/watch/inbox_name"),
                elapsed_us: value.pointer("/watch/elapsed_us").and_then(|v| v.as_u64()),
            }),
            event: text(&value, "/event"),
            card: text(&value, "/card"),
        })
    }
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
    /// Cards given for plans attached to an order that were not checked
    /// → the `seq` of the event that says so (for their feedback).
    not_checked_cards: HashMap<String, u64>,
    /// Every rule id that has findings in some record.
    rules_with_findings: std::collections::HashSet<String>,
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

/// The event that says a plan attached to a CDS Hooks order was not
/// checked (it could not be read, or embolint could not judge it then),
/// and which card said so.
pub const NOT_CHECKED_EVENT: &str = "cds-plan-not-checked";

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
            not_checked_cards: HashMap::new(),
            rules_with_findings: std::collections::HashSet::new(),
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
            let Some(seen) = Seen::of(text) else { continue };
            let Some(seq) = seen.seq else { continue };
            self.lines.insert(seq, (start, text.len()));
            if seen.event.as_deref() == Some(NOT_CHECKED_EVENT) {
                if let Some(card) = &seen.card {
                    self.not_checked_cards.insert(card.to_string(), seq);
                }
            }
            if let Some(record) = self.add_record(seq, start, text.len(), seen) {
                if keep {
                    added.push(record);
                }
            }
        }
        Ok(added)
    }

    /// Indexes one line if it is a decision record.
    fn add_record(&mut self, seq: u64, offset: u64, len: usize, seen: Seen) -> Option<NewRecord> {
        let verdict = seen.verdict?.into_owned();
        let watch = seen.watch?;
        let inbox_name = watch.inbox_name?.into_owned();
        let findings: Vec<(String, String)> = (seen.findings.into_iter())
            .map(|f| {
                (
                    f.rule.unwrap_or_default().into_owned(),
                    f.severity.unwrap_or_default().into_owned(),
                )
            })
            .collect();
        let mut rules: Vec<String> = Vec::new();
        for (rule, _) in &findings {
            if !rule.is_empty() && !rules.contains(rule) {
                rules.push(rule.clone());
            }
        }
        for rule in &rules {
            if !self.rules_with_findings.contains(rule) {
                self.rules_with_findings.insert(rule.clone());
            }
        }
        let checked_at = seen.checked_at.unwrap_or_default();
        let day = checked_at.get(..10).unwrap_or("").to_string();
        let patient_key = seen.patient_id.as_deref().map(patient_key);
        if inbox_name.starts_with(KEYED_PREFIX) {
            self.by_staging_name.insert(inbox_name.clone(), seq);
        }
        let entry = Entry { seq, offset, len, verdict: verdict.clone(), patient_key, rules, day };
        self.entries.push(entry);
        Some(NewRecord { seq, inbox_name, verdict, findings, elapsed_us: watch.elapsed_us })
    }

    /// Whether any record has a finding of the rule `rule`.
    pub fn has_findings_of(&self, rule: &str) -> bool {
        self.rules_with_findings.contains(rule)
    }

    /// The `seq` of the record of the keyed HTTP plan staged as `name`.
    pub fn by_staging_name(&self, name: &str) -> Option<u64> {
        self.by_staging_name.get(name).copied()
    }

    /// The `seq` of the event that gave `card` for a plan that was not
    /// checked.
    pub fn not_checked_card(&self, card: &str) -> Option<u64> {
        self.not_checked_cards.get(card).copied()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_indexed_with_its_findings_patient_and_day() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("decisions.jsonl");
        let record = r#"{"seq":1,"verdict":"fail","checked_at":"2026-12-04T10:00:00Z","patient_id":"P\u00e9-1","findings":[{"rule":"session-spacing","severity":"error"},{"rule":"session-spacing","severity":"error"},{"rule":"course-length","severity":"info"}],"sha256":"ab","watch":{"inbox_name":"api-k-61.json","elapsed_us":850,"batch":3}}"#;
        let event =
            r#"{"seq":2,"event":"plan-not-placed","verdict":"fail","moved_to":"failed/x.json"}"#;
        std::fs::write(&log, format!("{record}\n{event}\n")).unwrap();
        let mut index = DecisionIndex::open(&log).unwrap();
        let added = index.catch_up().unwrap();
        assert_eq!(added.len(), 1, "the event is not a record");
        let new = &added[0];
        assert_eq!(
            (new.seq, new.inbox_name.as_str(), new.verdict.as_str()),
            (1, "api-k-61.json", "fail")
        );
        assert_eq!(new.findings.len(), 3);
        assert_eq!(new.elapsed_us, Some(850));
        let entry = &index.entries[0];
        assert_eq!(entry.rules, ["session-spacing", "course-length"]);
        assert_eq!(entry.day, "2026-12-04");
        assert_eq!(entry.patient_key.as_deref(), Some(patient_key("Pé-1").as_str()));
        assert_eq!(index.by_staging_name("api-k-61.json"), Some(1));
        assert!(index.line(2).unwrap().is_some(), "the event is listed by its seq");
    }

    #[test]
    fn a_line_with_members_of_unexpected_types_is_read_member_by_member() {
        let odd = br#"{"seq":7,"verdict":"fail","findings":"none","checked_at":"2026-12-04T10:00:00Z","patient_id":42,"watch":{"inbox_name":"a.json","elapsed_us":"slow"}}"#;
        let seen = Seen::of(odd).unwrap();
        assert_eq!(seen.seq, Some(7));
        assert_eq!(seen.verdict.as_deref(), Some("fail"));
        assert!(seen.findings.is_empty());
        assert_eq!(seen.patient_id, None);
        let watch = seen.watch.unwrap();
        assert_eq!(watch.inbox_name.as_deref(), Some("a.json"));
        assert_eq!(watch.elapsed_us, None);
        assert!(Seen::of(b"not json").is_none());
    }

    #[test]
    fn the_card_of_a_plan_not_checked_is_found_by_its_event() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("decisions.jsonl");
        let event = r#"{"seq":4,"event":"cds-plan-not-checked","hook_instance":"h","plan_index":0,"card":"00000000-0000-8000-8000-0000000000aa","why":"no data"}"#;
        let other =
            r#"{"seq":5,"event":"cds-feedback","card":"00000000-0000-8000-8000-0000000000bb"}"#;
        std::fs::write(&log, format!("{event}\n{other}\n")).unwrap();
        let mut index = DecisionIndex::open(&log).unwrap();
        assert!(index.catch_up().unwrap().is_empty(), "neither event is a decision");
        assert_eq!(index.not_checked_card("00000000-0000-8000-8000-0000000000aa"), Some(4));
        assert_eq!(index.not_checked_card("00000000-0000-8000-8000-0000000000bb"), None);
    }
}
