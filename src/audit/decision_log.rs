//! `log/decisions.jsonl`: one decision record per judged plan, appended and
//! synced to disk before the plan leaves the inbox (SPEC §4).
//!
//! A record is the plan's verdict (SPEC §3) with one more member, `watch`:
//! where the plan goes ([`Placement`]). Records are written in numbered
//! batches; a batch is completely placed (sidecars written, plans moved,
//! folders synced) before the next batch is appended. So after a crash only
//! the log's final batch can be unfinished, and recovery reads only that.
//!
//! Besides records, the log holds events: lines with an `event` member (a
//! plan withdrawn from the patient history, by whom and when). They belong
//! to no batch; those after the final batch are handed to recovery.
//!
//! Every line, record or event, is chained to the one before it (`seq` and
//! `prev_sha256`, see `chain`) by [`DecisionLog::append`], the only way
//! lines are written; at start-up the chain continues from the last line.

use super::chain::{self, Head, GENESIS};
use super::seal::{self, Key, KeyState, Sealer};
use crate::check::sha256_hex;
use crate::recorder::failpoint::{self, Fault};
use crate::verdict::Verdict;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Where a judged plan goes, decided before its record is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The batch the record was written in (increasing across restarts).
    pub batch: u64,
    /// The plan's name in the inbox (lossy text when not UTF-8).
    pub inbox_name: String,
    /// The exact name's bytes in hex, only when the name is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbox_name_hex: Option<String>,
    /// The plan's path in its outcome folder, relative to the root
    /// (`passed/NAME.json`).
    pub moved_to: String,
    /// The verdict file beside it, relative to the root.
    pub sidecar: String,
    /// Time spent reading and judging the plan, in microseconds.
    pub elapsed_us: u64,
    /// For a plan that passed: exactly what the patient history records of
    /// it, so a crash between this record and the history is finished from
    /// the log alone (see `patient_history`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<crate::history::RecordedPlan>,
}

/// A decision record as written: the verdict, then `watch`.
#[derive(Serialize)]
struct RecordOut<'a> {
    #[serde(flatten)]
    verdict: &'a Verdict,
    watch: &'a Placement,
}

/// One line of the log: a verdict and its placement.
pub fn record_line(verdict: &Verdict, placement: &Placement) -> serde_json::Result<Vec<u8>> {
    let mut line = serde_json::to_vec(&RecordOut { verdict, watch: placement })?;
    line.push(b'\n');
    Ok(line)
}

/// A record of the log's final batch, as recovery needs it.
#[derive(Clone, Debug)]
pub struct PastDecision {
    /// Where the plan was to go.
    pub placement: Placement,
    /// sha256 of the plan's bytes, to tell it from a different file under the
    /// same name.
    pub sha256: String,
    /// The verdict (the record without `watch`), to rewrite a missing sidecar.
    pub verdict: serde_json::Value,
}

/// What opening the log found.
#[derive(Debug, Default)]
pub struct Tail {
    /// Records of the final batch, in the order they were written.
    pub final_batch: Vec<PastDecision>,
    /// Events written after the final batch, in order: their effect on the
    /// history may be unfinished.
    pub trailing_events: Vec<serde_json::Value>,
    /// Bytes of a torn last line that were cut off (a crash mid-write).
    pub repaired_bytes: u64,
    /// Lines of the final batch's neighbourhood that could not be read.
    pub unreadable_lines: usize,
    /// Lines at the end of the log that carry no chain (`seq`): written by
    /// an embolint without the chain, or damaged. The chain goes on after
    /// them; `embolint verify-log` reports them as a break.
    pub unchained_lines: u64,
    /// What the start-up check of the log's seal found.
    pub seal: SealOpened,
}

/// What the start-up check of the seal (see `seal`) found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum SealOpened {
    /// The key state follows the log's last line: sealing goes on.
    #[default]
    Continued,
    /// Sealing starts now (a new log, or a log written by an embolint
    /// without the seal, whose first `unsealed_lines` lines stay
    /// unanchored): the first key is in `first_key`, for the auditor.
    Started {
        /// The first key's file, to be moved to the auditor.
        first_key: PathBuf,
        /// Lines before the first sealed one.
        unsealed_lines: u64,
    },
    /// The log's end does not agree with the key state: lines were cut,
    /// added or changed while no daemon ran (or the key state was removed).
    /// A record of its own (`audit-chain-broken`) says so in the log, and
    /// sealing starts again with a new first key.
    Broken {
        /// What was found, in words.
        problem: String,
        /// The new first key's file.
        first_key: PathBuf,
    },
}

/// The event that says, in the log itself, that the daemon found the seal
/// broken at start-up.
pub const BROKEN_EVENT: &str = "audit-chain-broken";

/// The open decision log.
#[derive(Debug)]
pub struct DecisionLog {
    /// Opened for appending only.
    file: File,
    /// For messages.
    path: PathBuf,
    /// The last batch number written; the next is one more.
    last_batch: u64,
    /// The chain after the last line written: the next line continues it.
    head: Head,
    /// The key of the next line: every line is sealed with it.
    sealer: Sealer,
}

impl DecisionLog {
    /// Opens (or creates) the log, cuts a torn last line, syncs it (so that
    /// recovery acts only on records on disk), and reads its final batch
    /// for recovery.
    ///
    /// The key state lives in `state_dir`; the seal of the log's end is
    /// checked against it (see [`SealOpened`]), and a broken seal is
    /// recorded in the log by an event of its own.
    pub fn open(path: &Path, state_dir: &Path) -> io::Result<(DecisionLog, Tail)> {
        let file = OpenOptions::new().read(true).append(true).create(true).open(path)?;
        if let Some(dir) = path.parent() {
            File::open(dir)?.sync_all()?;
        }
        let repaired_bytes = cut_torn_line(&file)?;
        // Recovery acts on the final batch's records: they must be on disk
        // first. The daemon that wrote them may have died before its sync,
        // or its sync may have failed; a failure here is fatal.
        failpoint::fault(Fault::LogOpenSync)?;
        file.sync_data()?;
        let mut tail = read_final_batch(&file)?;
        tail.repaired_bytes = repaired_bytes;
        let (head, unchained_lines) = read_head(&file)?;
        tail.unchained_lines = unchained_lines;
        let (sealer, opened) = open_seal(&file, &head, state_dir)?;
        let last_batch = tail.final_batch.last().map_or(0, |d| d.placement.batch);
        let mut log = DecisionLog { file, path: path.to_path_buf(), last_batch, head, sealer };
        if let SealOpened::Broken { problem, first_key } = &opened {
            let event = serde_json::json!({
                "event": BROKEN_EVENT,
                "at": jiff::Timestamp::now(),
                "problem": problem,
                "first_key_file": first_key.file_name().map(|n| n.to_string_lossy()),
            });
            let mut line = serde_json::to_vec(&event).map_err(io::Error::other)?;
            line.push(b'\n');
            log.append(&line)?;
        }
        tail.seal = opened;
        Ok((log, tail))
    }

    /// The number of the last batch written (0 for none).
    pub fn last_batch(&self) -> u64 {
        self.last_batch
    }

    /// The number for a new batch.
    pub fn next_batch(&mut self) -> u64 {
        self.last_batch += 1;
        self.last_batch
    }

    /// Appends complete lines (each one JSON object, each ending in a
    /// newline), chained to the log's last line, and syncs them to disk. An
    /// error here is fatal to the daemon: a decision not on disk must not be
    /// acted on.
    ///
    /// Each line is sealed with its key; once the lines are on disk the key
    /// moves on past them and the old one is overwritten.
    pub fn append(&mut self, lines: &[u8]) -> io::Result<()> {
        let written = self.write(lines)?;
        self.sync(written)?;
        self.seal()
    }

    /// The first step of [`DecisionLog::append`], for a batch's group
    /// commit: the lines are chained, sealed and written, not yet synced.
    /// [`DecisionLog::sync`] must follow (whatever else is made durable in
    /// between), then [`DecisionLog::seal`].
    pub fn write(&mut self, lines: &[u8]) -> io::Result<Written> {
        let (chained, head) = chain_lines(&self.head, lines, self.sealer.state())?;
        self.file.write_all(&chained)?;
        Ok(Written { head })
    }

    /// Syncs the lines of `written` to disk: from here they are durable.
    pub fn sync(&mut self, written: Written) -> io::Result<()> {
        failpoint::fault(Fault::LogSync)?;
        self.file.sync_data()?;
        self.head = written.head;
        Ok(())
    }

    /// Moves the audit key on past the lines synced: the old key is
    /// overwritten and synced. A crash before it is expected at start-up
    /// (the lines after the key state carry that key's MACs).
    pub fn seal(&mut self) -> io::Result<()> {
        self.sealer.advance(self.head.seq + 1, &self.head.sha256)
    }

    /// Writes bytes without syncing: only for the torn-log failpoint, which
    /// imitates a crash in the middle of an append (complete lines chained,
    /// as an append would write them, then the unfinished rest).
    pub fn write_unsynced(&mut self, bytes: &[u8]) -> io::Result<()> {
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let (whole, torn) = bytes.split_at(complete);
        let (chained, _) = chain_lines(&self.head, whole, self.sealer.state())?;
        self.file.write_all(&chained)?;
        self.file.write_all(torn)
    }

    /// Where the chain stands: the last line written.
    pub fn head(&self) -> &Head {
        &self.head
    }

    /// The log's path, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Lines written to the log and not yet synced (see [`DecisionLog::write`]).
#[must_use = "written lines are not durable until DecisionLog::sync"]
pub struct Written {
    /// The log's last line once they are synced.
    head: Head,
}

/// `lines` with each line chained after `head` and sealed with its key
/// (`keys` is the key of the line after `head`), and the head after them.
fn chain_lines(head: &Head, lines: &[u8], keys: &KeyState) -> io::Result<(Vec<u8>, Head)> {
    if keys.seq != head.seq + 1 {
        return Err(io::Error::other(format!(
            "the audit key is for seq {}, the next line is seq {}",
            keys.seq,
            head.seq + 1
        )));
    }
    let mut key: Key = keys.key.clone();
    let Some(body) = lines.strip_suffix(b"\n") else {
        return if lines.is_empty() {
            Ok((Vec::new(), head.clone()))
        } else {
            Err(not_a_line("an unfinished line"))
        };
    };
    let mut head = head.clone();
    let mut chained = Vec::with_capacity(lines.len() + 128 * (1 + lines.len() / 1024));
    for line in body.split(|&b| b == b'\n') {
        let line =
            head.extend(line).ok_or_else(|| not_a_line("a line that is not a JSON object"))?;
        let sealed =
            seal::seal_line(&line, &key).ok_or_else(|| not_a_line("an unsealable line"))?;
        head.sha256 = sha256_hex(&sealed);
        key = key.next();
        chained.extend(sealed);
        chained.push(b'\n');
    }
    Ok((chained, head))
}

/// The error for a line that cannot be chained (a bug: nothing may be
/// written to the decision log outside the chain).
fn not_a_line(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("refused to write {what} to the decision log"),
    )
}

/// The chain's head after the log's last line (the log ends in a newline
/// or is empty), and how many lines at its end carry no `seq`. Those are
/// counted in `seq` all the same, so it stays the line number wherever it
/// can; finding them reads the whole log, which only a log written without
/// the chain, or damaged, needs.
fn read_head(file: &File) -> io::Result<(Head, u64)> {
    let Some(last) = last_line(file)? else { return Ok((Head::genesis(), 0)) };
    if let Some(head) = Head::after(&last) {
        return Ok((head, 0));
    }
    let mut reader = file.try_clone()?;
    reader.seek(SeekFrom::Start(0))?;
    let (mut chained, mut unchained) = (0, 0);
    for line in BufReader::new(reader).split(b'\n') {
        match chain::seq_of(&line?) {
            Some(seq) => (chained, unchained) = (seq, 0),
            None => unchained += 1,
        }
    }
    let seq = chained.saturating_add(unchained);
    Ok((Head { seq, sha256: sha256_hex(&last) }, unchained))
}

/// The log's last line without its newline (the log ends in a newline, as
/// a torn line was cut), or `None` for an empty log.
fn last_line(file: &File) -> io::Result<Option<Vec<u8>>> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(None);
    }
    let mut window: u64 = 64 * 1024;
    loop {
        let start = len.saturating_sub(window);
        let buf = read_range(file, start, len)?;
        let body = buf.strip_suffix(b"\n").unwrap_or(&buf);
        match body.iter().rposition(|&b| b == b'\n') {
            Some(i) => return Ok(Some(body.get(i + 1..).unwrap_or_default().to_vec())),
            None if start == 0 => return Ok(Some(body.to_vec())),
            None => window = window.saturating_mul(4),
        }
    }
}

/// Cuts whatever follows the last newline (a record torn by a crash: its
/// plan never moved, so it is judged again) and syncs. Returns the bytes cut.
fn cut_torn_line(file: &File) -> io::Result<u64> {
    let len = file.metadata()?.len();
    let mut window: u64 = 64 * 1024;
    loop {
        let start = len.saturating_sub(window);
        let buf = read_range(file, start, len)?;
        let keep = match buf.iter().rposition(|&b| b == b'\n') {
            Some(i) => start + i as u64 + 1,
            None if start > 0 => {
                window = window.saturating_mul(4);
                continue;
            }
            None => 0,
        };
        if keep < len {
            file.set_len(keep)?;
            file.sync_all()?;
        }
        return Ok(len - keep);
    }
}

/// Reads the records of the final batch, growing the window read from the
/// end until a record of an earlier batch (or the start) is reached.
fn read_final_batch(file: &File) -> io::Result<Tail> {
    let len = file.metadata()?.len();
    let mut window: u64 = 1024 * 1024;
    loop {
        let start = len.saturating_sub(window);
        let buf = read_range(file, start, len)?;
        let mut lines: Vec<&[u8]> = buf.split(|&b| b == b'\n').collect();
        lines.pop(); // after the final newline
        if start > 0 && !lines.is_empty() {
            lines.remove(0); // may begin mid-line
        }
        let mut tail = Tail::default();
        let mut batch = None;
        let mut reached_earlier = false;
        for line in lines.iter().rev() {
            if let Some(event) = parse_event(line) {
                if batch.is_none() {
                    tail.trailing_events.push(event);
                }
                continue;
            }
            let Some(decision) = parse_line(line) else {
                tail.unreadable_lines += 1;
                continue;
            };
            match batch {
                None => batch = Some(decision.placement.batch),
                Some(b) if b != decision.placement.batch => {
                    reached_earlier = true;
                    break;
                }
                Some(_) => {}
            }
            tail.final_batch.push(decision);
        }
        if reached_earlier || start == 0 {
            tail.final_batch.reverse();
            tail.trailing_events.reverse();
            return Ok(tail);
        }
        window = window.saturating_mul(4);
    }
}

/// Parses one record; `None` when it is not a record of this daemon.
fn parse_line(line: &[u8]) -> Option<PastDecision> {
    let mut value: serde_json::Value = serde_json::from_slice(line).ok()?;
    let object = value.as_object_mut()?;
    let placement: Placement = serde_json::from_value(object.remove("watch")?).ok()?;
    // The verdict alone, as its sidecar holds it: the chain is the log's.
    object.remove("seq");
    object.remove("prev_sha256");
    object.remove("mac");
    let sha256 = object.get("sha256")?.as_str()?.to_string();
    Some(PastDecision { placement, sha256, verdict: value })
}

/// Parses an event line: an object with a string member `event`.
fn parse_event(line: &[u8]) -> Option<serde_json::Value> {
    let value: serde_json::Value = serde_json::from_slice(line).ok()?;
    value.get("event")?.as_str()?;
    Some(value)
}

/// Checks the seal of the log's end against the key state in `state_dir`
/// and returns the sealer for the next line.
fn open_seal(file: &File, head: &Head, state_dir: &Path) -> io::Result<(Sealer, SealOpened)> {
    let state = match KeyState::read(&state_dir.join(seal::KEY_STATE_FILE)) {
        Ok(state) => state,
        Err(e) if e.kind() == io::ErrorKind::InvalidData => {
            let problem = format!("the audit key state is damaged ({e})");
            return broken(state_dir, head, problem);
        }
        Err(e) => return Err(e),
    };
    let Some(state) = state else {
        let last = last_line(file)?;
        if last.as_deref().is_some_and(seal::is_sealed) {
            let problem = format!(
                "the audit key state {} is missing, but the log's lines are sealed: it was \
                 removed or replaced",
                seal::KEY_STATE_FILE
            );
            return broken(state_dir, head, problem);
        }
        let (sealer, first_key) = Sealer::start(state_dir, head.seq + 1, &head.sha256)?;
        return Ok((sealer, SealOpened::Started { first_key, unsealed_lines: head.seq }));
    };
    let next = head.seq.saturating_add(1);
    if state.seq > next {
        let problem = format!(
            "the log ends at seq {}, but the audit key had already moved on to seq {}: the lines \
             with seq {next} to {} were removed from the log's end",
            head.seq,
            state.seq,
            state.seq - 1
        );
        return broken(state_dir, head, problem);
    }
    if state.seq == next {
        if state.head_sha256 != head.sha256 {
            let problem = format!(
                "the log's last line (seq {}) is not the line the daemon last wrote: it was \
                 changed or replaced",
                head.seq
            );
            return broken(state_dir, head, problem);
        }
        return Ok((Sealer::open(state_dir, state)?, SealOpened::Continued));
    }
    // Lines written and synced before the key could move on past them (a
    // crash, or a failed sync): each must carry its key's MAC.
    let count = head.seq - state.seq + 1;
    let lines = last_lines(file, count + 1)?;
    let (before, after) = lines.split_at(lines.len().saturating_sub(count as usize));
    let before_sha = before.last().map_or(GENESIS.to_string(), |l| sha256_hex(l));
    let checked = if before_sha == state.head_sha256 && after.len() as u64 == count {
        seal::check_past_state(&state, after)
    } else {
        Err(state.seq)
    };
    if let Err(seq) = checked {
        let problem = format!(
            "the line with seq {seq}, written after the audit key's last move, does not carry \
             the MAC of its key: lines were added or changed after the fact"
        );
        return broken(state_dir, head, problem);
    }
    let mut sealer = Sealer::open(state_dir, state)?;
    sealer.advance(next, &head.sha256)?;
    Ok((sealer, SealOpened::Continued))
}

/// A broken seal: sealing starts again at the next line with a new key.
fn broken(state_dir: &Path, head: &Head, problem: String) -> io::Result<(Sealer, SealOpened)> {
    let (sealer, first_key) = Sealer::start(state_dir, head.seq + 1, &head.sha256)?;
    Ok((sealer, SealOpened::Broken { problem, first_key }))
}

/// The last `count` lines of the log (without newlines; fewer when the log
/// has fewer). The log ends in a newline.
fn last_lines(file: &File, count: u64) -> io::Result<Vec<Vec<u8>>> {
    let len = file.metadata()?.len();
    let mut window: u64 = 64 * 1024;
    loop {
        let start = len.saturating_sub(window);
        let buf = read_range(file, start, len)?;
        let body = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let mut lines: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
        if body.is_empty() {
            lines.clear();
        }
        if start > 0 && !lines.is_empty() {
            lines.remove(0); // may begin mid-line
        }
        if lines.len() as u64 >= count || start == 0 {
            let skip = lines.len().saturating_sub(count as usize);
            return Ok(lines.into_iter().skip(skip).map(<[u8]>::to_vec).collect());
        }
        window = window.saturating_mul(4);
    }
}

/// Reads bytes `start..end` of a file.
fn read_range(file: &File, start: u64, end: u64) -> io::Result<Vec<u8>> {
    let len = usize::try_from(end - start)
        .map_err(|_| io::Error::new(io::ErrorKind::OutOfMemory, "log window too large"))?;
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, start)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(batch: u64, name: &str) -> String {
        format!(
            "{{\"verdict\":\"invalid\",\"sha256\":\"{name}-sha\",\"watch\":{{\"batch\":{batch},\
             \"inbox_name\":\"{name}\",\"moved_to\":\"invalid/{name}\",\
             \"sidecar\":\"invalid/{name}.verdict.json\",\"elapsed_us\":1}}}}\n"
        )
    }

    fn names(tail: &Tail) -> Vec<&str> {
        tail.final_batch.iter().map(|d| d.placement.inbox_name.as_str()).collect()
    }

    #[test]
    fn only_the_final_batch_is_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("decisions.jsonl");
        std::fs::write(&path, [line(1, "a"), line(2, "b"), line(2, "c")].concat()).unwrap();
        let (mut log, tail) = DecisionLog::open(&path, dir.path()).unwrap();
        assert_eq!(names(&tail), ["b", "c"]);
        assert_eq!(tail.repaired_bytes, 0);
        assert_eq!(log.next_batch(), 3);
    }

    #[test]
    fn a_torn_last_line_is_cut_and_never_read_as_a_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("decisions.jsonl");
        let torn = &line(2, "b")[..40];
        std::fs::write(&path, [line(1, "a").as_str(), torn].concat()).unwrap();
        let (_, tail) = DecisionLog::open(&path, dir.path()).unwrap();
        assert_eq!(names(&tail), ["a"]);
        assert_eq!(tail.repaired_bytes, 40);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), line(1, "a"));
    }

    #[test]
    fn an_empty_or_new_log_has_no_final_batch() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, tail) = DecisionLog::open(&dir.path().join("d.jsonl"), dir.path()).unwrap();
        assert!(tail.final_batch.is_empty());
        assert_eq!(log.next_batch(), 1);
        log.append(line(1, "x").as_bytes()).unwrap();
        drop(log);
        let (_, tail) = DecisionLog::open(&dir.path().join("d.jsonl"), dir.path()).unwrap();
        assert_eq!(names(&tail), ["x"]);
    }

    #[test]
    fn a_final_batch_larger_than_the_first_window_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("decisions.jsonl");
        let pad = "p".repeat(4000);
        let mut text = line(1, "first");
        for i in 0..600 {
            text.push_str(&line(2, &format!("{pad}{i}")));
        }
        std::fs::write(&path, text).unwrap();
        let (_, tail) = DecisionLog::open(&path, dir.path()).unwrap();
        assert_eq!(tail.final_batch.len(), 600);
    }

    #[test]
    fn events_after_the_final_batch_are_handed_over_and_others_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("decisions.jsonl");
        let event = |n: u32| format!("{{\"event\":\"history-forget\",\"n\":{n}}}\n");
        let text = [line(1, "a"), event(1), line(2, "b"), event(2), event(3)].concat();
        std::fs::write(&path, text).unwrap();
        let (_, tail) = DecisionLog::open(&path, dir.path()).unwrap();
        assert_eq!(names(&tail), ["b"]);
        let trailing: Vec<_> = tail.trailing_events.iter().map(|e| e["n"].clone()).collect();
        assert_eq!(trailing, [2, 3]);
        assert_eq!(tail.unreadable_lines, 0);
    }

    fn chain_of(path: &Path) -> Vec<(u64, String, String)> {
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        lines
            .iter()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let prev = v["prev_sha256"].as_str().unwrap().to_string();
                (v["seq"].as_u64().unwrap(), prev, sha256_hex(l.as_bytes()))
            })
            .collect()
    }

    fn assert_chained(path: &Path, count: u64) {
        let links = chain_of(path);
        assert_eq!(links.len() as u64, count);
        let mut prev = chain::GENESIS.to_string();
        for (i, (seq, prev_sha256, sha)) in links.into_iter().enumerate() {
            assert_eq!(seq, i as u64 + 1);
            assert_eq!(prev_sha256, prev, "line {} does not follow the one before", i + 1);
            prev = sha;
        }
    }

    #[test]
    fn appended_lines_are_chained_across_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        let (mut log, _) = DecisionLog::open(&path, dir.path()).unwrap();
        log.append([line(1, "a"), line(1, "b")].concat().as_bytes()).unwrap();
        drop(log);
        let (mut log, tail) = DecisionLog::open(&path, dir.path()).unwrap();
        assert_eq!(log.head().seq, 2);
        assert_eq!(tail.unchained_lines, 0);
        log.append(b"{\"event\":\"history-forget\"}\n").unwrap();
        log.append(line(2, "c").as_bytes()).unwrap();
        assert_chained(&path, 4);
    }

    #[test]
    fn a_torn_append_chains_its_complete_lines_and_the_reopened_log_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        let (mut log, _) = DecisionLog::open(&path, dir.path()).unwrap();
        log.append(line(1, "a").as_bytes()).unwrap();
        let batch = [line(2, "b"), line(2, "c")].concat();
        log.write_unsynced(&batch.as_bytes()[..batch.len() - 30]).unwrap();
        drop(log);
        let (mut log, tail) = DecisionLog::open(&path, dir.path()).unwrap();
        assert_eq!(names(&tail), ["b"]);
        log.append(line(3, "d").as_bytes()).unwrap();
        assert_chained(&path, 3);
    }

    #[test]
    fn the_verdict_read_back_for_a_sidecar_carries_no_chain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        let (mut log, _) = DecisionLog::open(&path, dir.path()).unwrap();
        log.append(line(1, "a").as_bytes()).unwrap();
        drop(log);
        let (_, tail) = DecisionLog::open(&path, dir.path()).unwrap();
        let verdict = &tail.final_batch[0].verdict;
        assert_eq!(verdict["verdict"], "invalid");
        assert!(verdict.get("seq").is_none() && verdict.get("prev_sha256").is_none());
        assert!(verdict.get("mac").is_none());
    }

    #[test]
    fn lines_without_a_chain_at_the_end_are_counted_and_the_chain_goes_on_after_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        let (mut log, _) = DecisionLog::open(&path, dir.path()).unwrap();
        log.append(line(1, "a").as_bytes()).unwrap();
        drop(log);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all([line(2, "legacy"), line(2, "legacy2")].concat().as_bytes()).unwrap();
        let (mut log, tail) = DecisionLog::open(&path, dir.path()).unwrap();
        assert_eq!(tail.unchained_lines, 2);
        // Lines added after sealed ones, without the seal: the seal is
        // broken, and a record of its own (seq 4) says so.
        assert!(matches!(tail.seal, SealOpened::Broken { .. }), "{:?}", tail.seal);
        assert_eq!(log.head().seq, 4, "seq stays the line number");
        log.append(line(3, "b").as_bytes()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let event: serde_json::Value = serde_json::from_str(text.lines().nth(3).unwrap()).unwrap();
        assert_eq!(event["event"], BROKEN_EVENT);
        let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        let before = text.lines().nth(3).unwrap();
        assert_eq!(last["seq"], 5);
        assert_eq!(last["prev_sha256"], sha256_hex(before.as_bytes()));
    }

    /// A log of two sealed lines, written and closed; its text.
    fn sealed_log(dir: &Path) -> String {
        let (mut log, tail) = DecisionLog::open(&dir.join("d.jsonl"), dir).unwrap();
        assert!(matches!(tail.seal, SealOpened::Started { unsealed_lines: 0, .. }));
        log.append([line(1, "a"), line(1, "b")].concat().as_bytes()).unwrap();
        std::fs::read_to_string(dir.join("d.jsonl")).unwrap()
    }

    #[test]
    fn at_start_up_a_line_added_by_hand_breaks_the_seal_and_a_record_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let text = sealed_log(dir.path());
        let last = text.lines().last().unwrap().as_bytes();
        let mut head = Head::after(last).unwrap();
        let forged = head.extend(line(2, "forged").trim_end().as_bytes()).unwrap();
        let mut file = OpenOptions::new().append(true).open(dir.path().join("d.jsonl")).unwrap();
        file.write_all(&[forged, b"\n".to_vec()].concat()).unwrap();
        let (log, tail) = DecisionLog::open(&dir.path().join("d.jsonl"), dir.path()).unwrap();
        let SealOpened::Broken { problem, .. } = &tail.seal else { panic!("{:?}", tail.seal) };
        assert!(problem.contains("seq 3") && problem.contains("MAC"), "{problem}");
        assert_eq!(log.head().seq, 4, "the audit-chain-broken record");
    }

    #[test]
    fn at_start_up_an_edited_last_line_breaks_the_seal() {
        let dir = tempfile::tempdir().unwrap();
        let text = sealed_log(dir.path());
        std::fs::write(dir.path().join("d.jsonl"), text.replace("\"b\"", "\"B\"")).unwrap();
        let (_, tail) = DecisionLog::open(&dir.path().join("d.jsonl"), dir.path()).unwrap();
        let SealOpened::Broken { problem, .. } = &tail.seal else { panic!("{:?}", tail.seal) };
        assert!(problem.contains("last line (seq 2)"), "{problem}");
    }

    #[test]
    fn at_start_up_sealed_lines_written_before_the_key_moved_are_accepted() {
        let dir = tempfile::tempdir().unwrap();
        sealed_log(dir.path());
        let (mut log, _) = DecisionLog::open(&dir.path().join("d.jsonl"), dir.path()).unwrap();
        // A crash between the log's sync and the key's move.
        log.write_unsynced(line(2, "c").as_bytes()).unwrap();
        drop(log);
        let (log, tail) = DecisionLog::open(&dir.path().join("d.jsonl"), dir.path()).unwrap();
        assert_eq!(tail.seal, SealOpened::Continued);
        assert_eq!(log.sealer.state().seq, 4);
    }

    #[test]
    fn anything_but_whole_json_object_lines_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        let (mut log, _) = DecisionLog::open(&path, dir.path()).unwrap();
        assert!(log.append(b"{\"a\":1}").is_err(), "no newline");
        assert!(log.append(b"{\"a\":1}\nplain text\n").is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"");
        assert_eq!(log.head(), &Head::genesis());
    }
}
