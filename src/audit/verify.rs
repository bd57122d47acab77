//! `embolint verify-log ROOT`: checks the decision log's hash chain (see
//! `chain`) and reports the first break.
//!
//! Each complete line must be a JSON object whose `seq` is one more than
//! the line before's (1 for the first line) and whose `prev_sha256` is the
//! sha256 of the line before's exact bytes ([`GENESIS`] for the first). The
//! first line that is not so is the break: an edited line breaks the chain
//! at the line after it, a deleted, moved or repeated line at itself. A
//! last line without its newline is a write a crash cut off: the daemon cuts
//! it at its next start (its plan was never moved, and is judged again);
//! until then it is reported as a break, since nothing vouches for it.
//!
//! The chain needs no secret, so someone able to rewrite the whole log from
//! a point on can make a new, consistent chain, and removing whole lines
//! from the end leaves a shorter, consistent one. Both are caught by an
//! [`Anchor`]: a line's `seq` and sha256, noted elsewhere earlier (the
//! summary prints the last one), which the log must still contain.

use super::chain::GENESIS;
use super::seal::{self, FirstKey, Key, KeyState};
use crate::check::sha256_hex;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Longest line read: a decision record is a few kilobytes; anything
/// longer is not one, and is not read into memory.
pub const MAX_LINE_BYTES: u64 = 64 << 20;
/// How often, and how long apart, an unfinished last line is read again
/// before it is reported: a running daemon may be writing it right now.
const UNFINISHED_RETRIES: u32 = 10;
/// The pause between those reads.
const UNFINISHED_PAUSE: Duration = Duration::from_millis(100);

/// A line noted earlier (`SEQ:SHA256`, as the summary prints it), which the
/// log must still hold, unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// The line's `seq`.
    pub seq: u64,
    /// sha256 (hex) of the line's bytes.
    pub sha256: String,
}

impl std::str::FromStr for Anchor {
    type Err = String;

    fn from_str(text: &str) -> Result<Anchor, String> {
        let bad = || {
            format!(
                "anchor {text:?} is not SEQ:SHA256 (a line number and 64 hex digits, as \
                 `embolint verify-log` prints them)"
            )
        };
        let (seq, sha256) = text.trim().split_once(':').ok_or_else(bad)?;
        let seq: u64 = seq.parse().map_err(|_| bad())?;
        let hex = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        if seq == 0 || !hex {
            return Err(bad());
        }
        Ok(Anchor { seq, sha256: sha256.to_ascii_lowercase() })
    }
}

/// One line of the log, as the summary names it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Point {
    /// Line number in the file, from 1.
    pub line: u64,
    /// Its `seq`.
    pub seq: u64,
    /// When it was written: a record's `checked_at`, an event's `at`.
    pub at: Option<String>,
    /// sha256 of its bytes: what the next line's `prev_sha256` must be, and
    /// with `seq` an anchor for a later check.
    pub sha256: String,
}

/// What kind of break was found.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum BreakKind {
    /// The line is not a JSON object.
    NotJson,
    /// The line has no `seq` or no `prev_sha256`.
    NoChain,
    /// `seq` is not one more than the line before's.
    Seq,
    /// `prev_sha256` is not the hash of the line before.
    Hash,
    /// The last line has no newline: a write cut off by a crash.
    Incomplete,
    /// A line is longer than [`MAX_LINE_BYTES`].
    TooLong,
    /// The anchor's line is missing or different.
    Anchor,
    /// A sealed line's MAC is not the one its key gives (or it has none).
    Mac,
    /// The audit key moved on past the log's end: lines were cut off.
    TailCut,
    /// The audit key state is missing, or not the key the first key leads to.
    KeyState,
}

/// The auditor's side of the seal: the first key, and the daemon's key
/// state, which says how far the log had been written.
#[derive(Clone, Debug)]
pub struct SealCheck {
    /// The first key, kept by the auditor off the machine.
    pub first: FirstKey,
    /// The key state (`state/audit.key`), when it was looked for: `None`
    /// inside means it was looked for and is not there.
    pub state: Option<Option<KeyState>>,
}

/// What anchors the log, as checked.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AnchorReport {
    /// `forward-secure-mac` (every sealed line's MAC checked with the
    /// auditor's first key), `seq-sha256` (only a noted line, `--anchor`),
    /// or `none` (the hash chain alone).
    pub kind: &'static str,
    /// The first sealed line's seq, when the first key was given.
    pub first_key_seq: Option<u64>,
    /// Lines whose MAC was checked and found right.
    pub sealed_lines: u64,
    /// Lines nothing but the chain vouches for: before the first key's seq,
    /// or all lines when no first key was given.
    pub unanchored_lines: u64,
    /// Lines that carry a MAC (checked or not).
    pub lines_with_mac: u64,
    /// Whether the log's end was checked against the daemon's key state:
    /// `matches`, `not-checked` (no key state given), or `broken`.
    pub tail: &'static str,
    /// The `--anchor` line's seq, if one was given.
    pub seq_anchor: Option<u64>,
    /// What this anchor protects, in words.
    pub message: String,
}

/// The first place where the chain does not hold.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Break {
    /// What is wrong.
    pub kind: BreakKind,
    /// The line where it was found (from 1).
    pub line: u64,
    /// That line's `seq`, when it has one.
    pub seq: Option<u64>,
    /// What the chain called for there.
    pub expected: Option<String>,
    /// What the line holds instead.
    pub found: Option<String>,
    /// The break in words, with what it means.
    pub message: String,
}

/// The outcome of a check.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Report {
    /// The file checked.
    pub log: PathBuf,
    /// Whether every line is in the chain (and the anchor, if given, held).
    pub intact: bool,
    /// Lines checked and found in the chain (before the break, if any).
    pub lines: u64,
    /// Of those, decision records.
    pub records: u64,
    /// Of those, events (withdrawals from the history).
    pub events: u64,
    /// The first line.
    pub first: Option<Point>,
    /// The last line found in the chain.
    pub last: Option<Point>,
    /// What anchors the log, and what was checked with it.
    pub anchor: AnchorReport,
    /// The first break, if any.
    #[serde(rename = "break")]
    pub broken: Option<Break>,
}

/// The members of a line the check reads (every line is parsed whole, so
/// a line that is not valid JSON is found).
#[derive(Deserialize)]
struct Link {
    seq: Option<u64>,
    prev_sha256: Option<String>,
    event: Option<serde::de::IgnoredAny>,
    checked_at: Option<String>,
    at: Option<String>,
}

/// Checks the chain of the log at `path`. An error means the file could
/// not be read at all; a break is a [`Report`] that is not intact.
///
/// With `seal`, every line from the first key's seq on must carry the MAC
/// of its key, and the log must reach as far as the key state says.
pub fn verify(
    path: &Path,
    anchor: Option<&Anchor>,
    seal: Option<&SealCheck>,
) -> io::Result<Report> {
    let mut reader = BufReader::new(File::open(path)?);
    let mut report = Report {
        log: path.to_path_buf(),
        intact: false,
        lines: 0,
        records: 0,
        events: 0,
        first: None,
        last: None,
        anchor: AnchorReport {
            kind: match (seal, anchor) {
                (Some(_), _) => "forward-secure-mac",
                (None, Some(_)) => "seq-sha256",
                (None, None) => "none",
            },
            first_key_seq: seal.map(|s| s.first.seq),
            sealed_lines: 0,
            unanchored_lines: 0,
            lines_with_mac: 0,
            tail: "not-checked",
            seq_anchor: anchor.map(|a| a.seq),
            message: String::new(),
        },
        broken: None,
    };
    let mut key: Option<Key> = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        let number = report.lines + 1;
        match read_line(&mut reader, &mut line)? {
            LineRead::End => break,
            LineRead::TooLong => return Ok(broken(report, too_long(number))),
            LineRead::Unfinished => {
                let found = unfinished(number, report.last.as_ref());
                return Ok(broken(report, found));
            }
            LineRead::Line => {}
        }
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let point = match check_line(body, number, report.last.as_ref(), anchor) {
            Ok((point, is_event)) => {
                report.events += u64::from(is_event);
                report.records += u64::from(!is_event);
                point
            }
            Err(found) => return Ok(broken(report, *found)),
        };
        let unsealed = seal::unseal(body);
        report.anchor.lines_with_mac += u64::from(unsealed.is_some());
        match seal.filter(|s| point.seq >= s.first.seq) {
            Some(check) => {
                let this = match key.take() {
                    Some(before) => before.next(),
                    None => check.first.key.forward(point.seq - check.first.seq),
                };
                let right = unsealed.is_some_and(|(bare, mac)| this.mac(&bare) == mac);
                if !right {
                    return Ok(broken(report, wrong_mac(&point)));
                }
                report.anchor.sealed_lines += 1;
                key = Some(this);
            }
            None => report.anchor.unanchored_lines += 1,
        }
        report.lines = number;
        report.first.get_or_insert_with(|| point.clone());
        report.last = Some(point);
    }
    if let Some(anchor) = anchor {
        let reached = report.last.as_ref().is_some_and(|last| last.seq >= anchor.seq);
        if !reached {
            let found = anchor_not_reached(report.lines + 1, report.last.as_ref(), anchor);
            return Ok(broken(report, found));
        }
    }
    if let Some(check) = seal {
        if let Some(found) = check_tail(check, report.lines + 1, report.last.as_ref()) {
            report.anchor.tail = "broken";
            return Ok(broken(report, found));
        }
        if check.state.is_some() {
            report.anchor.tail = "matches";
        }
    }
    report.anchor.message = anchor_message(&report.anchor);
    report.intact = true;
    Ok(report)
}

/// The log's end against the daemon's key state: the key must be the one
/// the first key leads to at its seq, and must not have moved past the
/// log's end (lines cut off). `None` when it holds or was not given.
fn check_tail(check: &SealCheck, line: u64, last: Option<&Point>) -> Option<Break> {
    let state = match &check.state {
        None => return None,
        Some(None) => {
            return Some(key_state_break(
                line,
                "the audit key state (state/audit.key) is missing: it was removed, so how far \
                 the log reached cannot be checked"
                    .into(),
            ))
        }
        Some(Some(state)) => state,
    };
    let last_seq = last.map_or(0, |l| l.seq);
    let steps = state.seq.checked_sub(check.first.seq);
    if steps.map(|n| check.first.key.forward(n)).as_ref() != Some(&state.key) {
        return Some(key_state_break(
            line,
            format!(
                "the audit key state (at seq {}) is not the key the first key (seq {}) leads to: \
                 it was replaced, or the first key belongs to another log",
                state.seq, check.first.seq
            ),
        ));
    }
    if state.seq > last_seq.saturating_add(1) {
        return Some(Break {
            kind: BreakKind::TailCut,
            line,
            seq: None,
            expected: Some(format!("lines up to seq {}", state.seq - 1)),
            found: Some(format!("the end of the log after seq {last_seq}")),
            message: format!(
                "the log ends after seq {last_seq}, but the daemon's audit key had moved on to \
                 seq {}: the lines with seq {} to {} were removed from its end",
                state.seq,
                last_seq + 1,
                state.seq - 1
            ),
        });
    }
    None
}

/// Break: the key state is missing or not the first key's descendant.
fn key_state_break(line: u64, message: String) -> Break {
    Break {
        kind: BreakKind::KeyState,
        line,
        seq: None,
        expected: Some("the daemon's audit key state, descended from the first key".into()),
        found: None,
        message,
    }
}

/// Break: a sealed line whose MAC is not its key's.
fn wrong_mac(point: &Point) -> Break {
    Break {
        kind: BreakKind::Mac,
        line: point.line,
        seq: Some(point.seq),
        expected: Some("the MAC of this line under its key".into()),
        found: Some("another MAC, or none".into()),
        message: format!(
            "line {} (seq {}) does not carry the MAC its key gives: it was changed or written \
             after the fact (edited, forged, or the log rewritten from here with new hashes)",
            point.line, point.seq
        ),
    }
}

/// What the anchor of an intact log vouches for, in words.
fn anchor_message(anchor: &AnchorReport) -> String {
    match anchor.kind {
        "forward-secure-mac" => {
            let tail = if anchor.tail == "matches" {
                "and the log reaches as far as the daemon's audit key had moved"
            } else {
                "but its end was not checked against the daemon's audit key (give the root, or \
                 --key-state): lines cut from the end would not show"
            };
            format!(
                "{} lines carry the MAC their key gives under the auditor's first key (from seq \
                 {}), {tail}; {} lines before are unanchored",
                anchor.sealed_lines,
                anchor.first_key_seq.unwrap_or(0),
                anchor.unanchored_lines
            )
        }
        "seq-sha256" => "the noted line is still there, unchanged; lines after it are vouched \
                         for by the hash chain alone"
            .into(),
        _ if anchor.lines_with_mac > 0 => format!(
            "unanchored: {} lines carry MACs, but without the auditor's first key \
             (--first-key) they were not checked; the hash chain alone can be rewritten by \
             whoever can write the file",
            anchor.lines_with_mac
        ),
        _ => "unanchored: no line carries a MAC (written by an embolint without the seal); the \
              hash chain alone can be rewritten by whoever can write the file, and lines cut \
              from its end do not show"
            .into(),
    }
}

/// The report, with its break.
fn broken(mut report: Report, found: Break) -> Report {
    report.broken = Some(found);
    report
}

/// What reading one line came to.
enum LineRead {
    /// A complete line, with its newline.
    Line,
    /// The end of the file.
    End,
    /// The last line has no newline, even after waiting for a writer.
    Unfinished,
    /// A line longer than [`MAX_LINE_BYTES`].
    TooLong,
}

/// Reads one line; an unfinished last line is read again a few times, in
/// case the daemon is writing it now.
fn read_line(reader: &mut BufReader<File>, line: &mut Vec<u8>) -> io::Result<LineRead> {
    let mut retries = 0;
    loop {
        let room = (MAX_LINE_BYTES + 1).saturating_sub(line.len() as u64);
        let read = (&mut *reader).take(room).read_until(b'\n', line)?;
        if line.ends_with(b"\n") {
            return Ok(LineRead::Line);
        }
        if line.len() as u64 > MAX_LINE_BYTES {
            return Ok(LineRead::TooLong);
        }
        if line.is_empty() && read == 0 {
            return Ok(LineRead::End);
        }
        if retries == UNFINISHED_RETRIES {
            return Ok(LineRead::Unfinished);
        }
        retries += 1;
        std::thread::sleep(UNFINISHED_PAUSE);
    }
}

/// Checks one complete line (without its newline) against the line
/// before; returns it as a [`Point`] and whether it is an event.
fn check_line(
    body: &[u8],
    number: u64,
    before: Option<&Point>,
    anchor: Option<&Anchor>,
) -> Result<(Point, bool), Box<Break>> {
    let link: Link = serde_json::from_slice(body).map_err(|e| not_json(number, &e))?;
    let (Some(seq), Some(prev)) = (link.seq, link.prev_sha256) else {
        return Err(no_chain(number));
    };
    let expected_seq = before.map_or(1, |b| b.seq.saturating_add(1));
    if seq != expected_seq {
        return Err(Box::new(wrong_seq(number, seq, before)));
    }
    let expected_prev = before.map_or(GENESIS, |b| b.sha256.as_str());
    if prev != expected_prev {
        return Err(Box::new(wrong_hash(number, seq, &prev, before)));
    }
    let point =
        Point { line: number, seq, at: link.checked_at.or(link.at), sha256: sha256_hex(body) };
    if let Some(anchor) = anchor.filter(|a| a.seq == seq && a.sha256 != point.sha256) {
        return Err(Box::new(anchor_differs(&point, anchor)));
    }
    Ok((point, link.event.is_some()))
}

/// Break: a line that is not a JSON object.
fn not_json(line: u64, error: &serde_json::Error) -> Box<Break> {
    Box::new(Break {
        kind: BreakKind::NotJson,
        line,
        seq: None,
        expected: Some("a JSON object".into()),
        found: Some(error.to_string()),
        message: format!(
            "line {line} is not a decision record (not a JSON object: {error}): it was altered \
             or inserted after it was written"
        ),
    })
}

/// Break: a line without `seq` or `prev_sha256`.
fn no_chain(line: u64) -> Box<Break> {
    Box::new(Break {
        kind: BreakKind::NoChain,
        line,
        seq: None,
        expected: Some("members seq and prev_sha256".into()),
        found: None,
        message: format!(
            "line {line} carries no chain (no seq or prev_sha256): it was written by an embolint \
             without the chain, or altered or inserted after it was written"
        ),
    })
}

/// Break: `seq` out of order.
fn wrong_seq(line: u64, seq: u64, before: Option<&Point>) -> Break {
    let expected = before.map_or(1, |b| b.seq.saturating_add(1));
    let message = match before {
        None => format!(
            "line 1 has seq {seq}, not 1: the lines before it (seq 1 to {}) were removed",
            seq.saturating_sub(1)
        ),
        Some(b) if seq > expected => format!(
            "line {line} has seq {seq}, but line {} has seq {} (expected {expected}): the lines \
             with seq {expected} to {} are missing — deleted, or moved elsewhere",
            b.line,
            b.seq,
            seq.saturating_sub(1)
        ),
        Some(b) => format!(
            "line {line} has seq {seq}, but line {} has seq {} (expected {expected}): this line \
             came earlier in the log — moved here, repeated or forged",
            b.line, b.seq
        ),
    };
    Break {
        kind: BreakKind::Seq,
        line,
        seq: Some(seq),
        expected: Some(expected.to_string()),
        found: Some(seq.to_string()),
        message,
    }
}

/// Break: `prev_sha256` is not the hash of the line before.
fn wrong_hash(line: u64, seq: u64, found: &str, before: Option<&Point>) -> Break {
    let (expected, message) = match before {
        None => (
            GENESIS.to_string(),
            format!(
                "line 1 (seq 1) names a line before it (prev_sha256 {found}), but is the first: \
                 the log's beginning was removed or replaced"
            ),
        ),
        Some(b) => (
            b.sha256.clone(),
            format!(
                "line {line} (seq {seq}) does not follow line {}: its prev_sha256 is {found}, but \
                 line {} hashes to {} — line {} was changed after it was written, or line {line} \
                 was not written after it",
                b.line, b.line, b.sha256, b.line
            ),
        ),
    };
    Break {
        kind: BreakKind::Hash,
        line,
        seq: Some(seq),
        expected: Some(expected),
        found: Some(found.to_string()),
        message,
    }
}

/// Break: the last line has no newline.
fn unfinished(line: u64, before: Option<&Point>) -> Break {
    let after =
        before.map_or("at the start of the log".to_string(), |b| format!("after seq {}", b.seq));
    Break {
        kind: BreakKind::Incomplete,
        line,
        seq: None,
        expected: Some("a complete line ending in a newline".into()),
        found: Some("an unfinished last line".into()),
        message: format!(
            "the last record (line {line}, {after}) is incomplete: a write cut off by a crash, \
             or the log was cut here. If embolint watch stopped by a crash, its plan was not \
             moved and is judged again: start the daemon to repair the log (it cuts the \
             unfinished line), then verify again"
        ),
    }
}

/// Break: a line too long to be a record.
fn too_long(line: u64) -> Break {
    Break {
        kind: BreakKind::TooLong,
        line,
        seq: None,
        expected: Some(format!("a line of at most {MAX_LINE_BYTES} bytes")),
        found: None,
        message: format!(
            "line {line} is longer than {MAX_LINE_BYTES} bytes: not a decision record; the log \
             was altered"
        ),
    }
}

/// Break: the anchor's line differs.
fn anchor_differs(point: &Point, anchor: &Anchor) -> Break {
    Break {
        kind: BreakKind::Anchor,
        line: point.line,
        seq: Some(point.seq),
        expected: Some(anchor.sha256.clone()),
        found: Some(point.sha256.clone()),
        message: format!(
            "line {} (seq {}) is not the line the anchor names: it hashes to {}, the anchor \
             says {} — the log was rewritten from this line or before",
            point.line, point.seq, point.sha256, anchor.sha256
        ),
    }
}

/// Break: the log ends before the anchor's line.
fn anchor_not_reached(line: u64, last: Option<&Point>, anchor: &Anchor) -> Break {
    let seq = last.map_or(0, |l| l.seq);
    Break {
        kind: BreakKind::Anchor,
        line,
        seq: None,
        expected: Some(format!("a line with seq {}", anchor.seq)),
        found: Some(format!("the end of the log after seq {seq}")),
        message: format!(
            "the log ends after seq {seq}, but the anchor names seq {}: the lines with seq {} \
             to {} were removed from its end, or the log was replaced",
            anchor.seq,
            seq + 1,
            anchor.seq
        ),
    }
}

/// The report for people: the summary, or the break and what held before.
pub fn render(report: &Report) -> String {
    let log = report.log.display();
    let mut text = match &report.broken {
        None if report.lines == 0 => format!("{log}: empty — no records yet; nothing to check\n"),
        None => format!(
            "{log}: chain intact — {} ({}, {})\n",
            counted(report.lines, "line"),
            counted(report.records, "decision record"),
            counted(report.events, "event")
        ),
        Some(found) => format!("{log}: chain BROKEN at line {}\n  {}\n", found.line, found.message),
    };
    let intact_lines = match (&report.broken, report.lines) {
        (Some(_), 0) => "  no line before it is intact\n".to_string(),
        (Some(_), n) => format!("  lines 1 to {} are intact\n", thousands(n)),
        (None, _) => String::new(),
    };
    text.push_str(&intact_lines);
    if let Some(first) = &report.first {
        text.push_str(&format!("  first: {}\n", describe(first)));
    }
    if let Some(last) = &report.last {
        let what = if report.broken.is_some() { "last intact" } else { "last" };
        text.push_str(&format!("  {what}: {}\n", describe(last)));
        if report.intact {
            text.push_str(&format!(
                "  anchor for a later check (keep it outside this machine): {}:{}\n",
                last.seq, last.sha256
            ));
        }
    }
    if let (Some(seq), true) = (report.anchor.seq_anchor, report.intact) {
        text.push_str(&format!("  the anchor at seq {} matches\n", thousands(seq)));
    }
    if report.intact && report.lines > 0 {
        text.push_str(&format!("  seal: {}\n", report.anchor.message));
    }
    text
}

/// A line as the summary names it.
fn describe(point: &Point) -> String {
    let at = point.at.as_deref().map_or(String::new(), |at| format!(", written {at}"));
    format!(
        "line {}, seq {}{at}, sha256 {}",
        thousands(point.line),
        thousands(point.seq),
        point.sha256
    )
}

/// `n` things, with the plural when due: `12,345 lines`, `1 line`.
fn counted(n: u64, thing: &str) -> String {
    let plural = if n == 1 { "" } else { "s" };
    format!("{} {thing}{plural}", thousands(n))
}

/// `12345` as `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut text = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::super::chain::Head;
    use super::*;

    /// A chained log of `n` lines.
    fn log(n: u64) -> Vec<String> {
        let mut head = Head::genesis();
        (0..n)
            .map(|i| {
                let body = format!(
                    r#"{{"verdict":"pass","checked_at":"2026-01-0{}T00:00:00Z"}}"#,
                    i % 9 + 1
                );
                String::from_utf8(head.extend(body.as_bytes()).unwrap()).unwrap()
            })
            .collect()
    }

    fn check(lines: &[String], tail: &str, anchor: Option<&Anchor>) -> Report {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("decisions.jsonl");
        let mut text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        text.push_str(tail);
        std::fs::write(&path, text).unwrap();
        verify(&path, anchor, None).unwrap()
    }

    fn first_break(lines: &[String]) -> Break {
        check(lines, "", None).broken.unwrap()
    }

    #[test]
    fn an_intact_log_is_summed_up() {
        let report = check(&log(5), "", None);
        assert!(report.intact);
        assert_eq!((report.lines, report.records, report.events), (5, 5, 0));
        assert_eq!(report.last.as_ref().unwrap().seq, 5);
        assert!(render(&report).contains("chain intact — 5 lines"), "{}", render(&report));
    }

    #[test]
    fn an_edited_line_breaks_the_chain_at_the_next_line_and_is_named() {
        let mut lines = log(5);
        lines[2] = lines[2].replace("pass", "fail");
        let found = first_break(&lines);
        assert_eq!((found.kind, found.line), (BreakKind::Hash, 4));
        assert!(found.message.contains("line 3 was changed"), "{}", found.message);
    }

    #[test]
    fn a_deleted_line_leaves_a_gap_in_seq() {
        let mut lines = log(5);
        lines.remove(1);
        let found = first_break(&lines);
        assert_eq!((found.kind, found.line, found.seq), (BreakKind::Seq, 2, Some(3)));
        assert!(found.message.contains("seq 2 to 2 are missing"), "{}", found.message);
    }

    #[test]
    fn swapped_lines_are_out_of_order() {
        let mut lines = log(5);
        lines.swap(2, 3);
        let found = first_break(&lines);
        assert_eq!((found.kind, found.line, found.seq), (BreakKind::Seq, 3, Some(4)));
    }

    #[test]
    fn a_repeated_line_came_earlier() {
        let mut lines = log(4);
        lines.push(lines[1].clone());
        let found = first_break(&lines);
        assert_eq!((found.kind, found.line), (BreakKind::Seq, 5));
        assert!(found.message.contains("came earlier"), "{}", found.message);
    }

    #[test]
    fn a_removed_beginning_is_found_at_line_one() {
        let lines = log(4);
        let found = first_break(&lines[1..]);
        assert_eq!((found.kind, found.line), (BreakKind::Seq, 1));
    }

    #[test]
    fn a_line_that_is_not_json_or_has_no_chain_is_a_break() {
        let mut lines = log(3);
        lines[1] = "garbage".into();
        assert_eq!(first_break(&lines).kind, BreakKind::NotJson);
        lines[1] = r#"{"verdict":"pass"}"#.into();
        assert_eq!(first_break(&lines).kind, BreakKind::NoChain);
    }

    #[test]
    fn an_unfinished_last_line_is_reported_after_waiting_for_a_writer() {
        let lines = log(3);
        let report = check(&lines, r#"{"seq":4,"prev"#, None);
        let found = report.broken.as_ref().unwrap();
        assert_eq!((found.kind, found.line), (BreakKind::Incomplete, 4));
        assert_eq!(report.lines, 3);
        assert!(found.message.contains("start the daemon to repair"), "{}", found.message);
    }

    #[test]
    fn an_anchor_catches_a_log_cut_at_a_line_boundary_and_a_rewrite() {
        let lines = log(6);
        let report = check(&lines, "", None);
        let last = report.last.unwrap();
        let anchor: Anchor = format!("{}:{}", last.seq, last.sha256).parse().unwrap();
        assert!(check(&lines, "", Some(&anchor)).intact);
        let cut = check(&lines[..4], "", Some(&anchor)).broken.unwrap();
        assert_eq!((cut.kind, cut.line), (BreakKind::Anchor, 5));
        let mut head = Head::genesis();
        let rewritten: Vec<String> = (0..6)
            .map(|_| String::from_utf8(head.extend(br#"{"verdict":"fail"}"#).unwrap()).unwrap())
            .collect();
        let found = check(&rewritten, "", Some(&anchor)).broken.unwrap();
        assert_eq!((found.kind, found.line), (BreakKind::Anchor, 6));
    }

    #[test]
    fn anchors_are_read_strictly() {
        assert!("5:abc".parse::<Anchor>().is_err());
        assert!(format!("0:{GENESIS}").parse::<Anchor>().is_err());
        assert_eq!(
            format!("7:{}", "A".repeat(64)).parse::<Anchor>().unwrap().sha256,
            "a".repeat(64)
        );
    }

    #[test]
    fn counts_read_with_thousands_separators() {
        assert_eq!(thousands(12_345), "12,345");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
