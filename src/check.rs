//! One plan file in, one verdict out: the single entry point shared by
//! `embolint check` and the watch daemon, so both judge alike.

use crate::history::{History, HistoryError, PlannedSession, RecordedPlan, RecordedSession};
use crate::plan::parse::{with_arena, ParseFailure};
use crate::plan::{parse_plan, Plan};
use crate::rules::{Context, RuleSet};
use crate::verdict::{Finding, Outcome, Severity, Verdict};
use bumpalo::Bump;
use sha2::{Digest, Sha256};

/// The rule id of every finding about an unreadable or malformed plan.
pub const PLAN_FORMAT_RULE: &str = "plan-format";

/// One plan file as it was read: the name shown in its verdict, its bytes,
/// and their sha256.
///
/// The digest is computed once, by whatever read the bytes (the daemon
/// hashes a plan while it claims the file), and the verdict carries it; the
/// checker never hashes the same bytes a second time.
#[derive(Clone, Copy, Debug)]
pub struct PlanFile<'a> {
    /// The name shown in the verdict.
    pub name: &'a str,
    /// Everything the file held.
    pub bytes: &'a [u8],
    /// Lower-case hex sha256 of `bytes`.
    pub sha256: &'a str,
}

/// Checks the bytes of one plan file against a rule set.
///
/// `file` is the name shown in the verdict; `history` holds sessions of
/// other plans already recorded (empty when no history is kept; sessions of
/// other patients and of this plan's own earlier version are ignored).
/// Never panics, whatever the bytes.
pub fn check_bytes(
    file: &str,
    bytes: &[u8],
    rules: &RuleSet,
    history: &[RecordedSession],
) -> Verdict {
    let sha256 = sha256_hex(bytes);
    check_file(PlanFile { name: file, bytes, sha256: &sha256 }, rules, history)
}

/// Like [`check_bytes`], for a plan whose sha256 is already known.
pub fn check_file(file: PlanFile<'_>, rules: &RuleSet, history: &[RecordedSession]) -> Verdict {
    with_arena(|arena| match parse_plan(file.bytes, arena, &rules.names) {
        Ok(plan) => judge(file, &plan, rules, history),
        Err(failure) => invalid_verdict(file, failure, rules),
    })
}

/// Checks one plan file against a rule set and the recorded history.
///
/// The patient's recorded sessions are looked up once the plan is read. If
/// the history cannot be read, there is no verdict: a plan is never passed
/// without the check it needs.
pub fn check_with_history(
    file: &str,
    bytes: &[u8],
    rules: &RuleSet,
    history: &History,
) -> Result<Verdict, HistoryError> {
    let sha256 = sha256_hex(bytes);
    let file = PlanFile { name: file, bytes, sha256: &sha256 };
    check_for_history(file, rules, history).map(|checked| checked.verdict)
}

/// A verdict, with what the history would record of the plan.
#[derive(Debug)]
pub struct Checked {
    /// The verdict, as [`check_with_history`] gives it.
    pub verdict: Verdict,
    /// The plan's sessions (index, number, date) when it could be read:
    /// what the history records of it if it passed.
    pub sessions: Vec<PlannedSession>,
}

impl Checked {
    /// The history record of a plan that passed, linked to the decision
    /// record `decision_key`; `None` for a plan that did not pass (failed
    /// and invalid plans change nothing in the history).
    pub fn to_record(&self, decision_key: String) -> Option<RecordedPlan> {
        let verdict = &self.verdict;
        if verdict.verdict != Outcome::Pass {
            return None;
        }
        Some(RecordedPlan {
            plan_id: verdict.plan_id.clone()?,
            patient_id: verdict.patient_id.clone()?,
            file_sha256: verdict.sha256.clone(),
            recorded_at: verdict.checked_at,
            rule_set_sha256: verdict.rule_set.sha256.clone(),
            decision_key,
            sessions: self.sessions.clone(),
        })
    }
}

/// Like [`check_with_history`], also giving the plan's sessions, so the
/// daemon can record a plan that passed without reading it twice.
pub fn check_for_history(
    file: PlanFile<'_>,
    rules: &RuleSet,
    history: &History,
) -> Result<Checked, HistoryError> {
    with_arena(|arena| check_read_plan(file, arena, rules, history))
}

/// [`check_for_history`], with `arena` to read the plan into.
fn check_read_plan(
    file: PlanFile<'_>,
    arena: &Bump,
    rules: &RuleSet,
    history: &History,
) -> Result<Checked, HistoryError> {
    let plan = match parse_plan(file.bytes, arena, &rules.names) {
        Ok(plan) => plan,
        Err(failure) => {
            let verdict = invalid_verdict(file, failure, rules);
            return Ok(Checked { verdict, sessions: Vec::new() });
        }
    };
    let recorded = history.sessions_of(plan.patient.id)?;
    let mut verdict = judge(file, &plan, rules, &recorded);
    if let Some(earlier) = history.plan(plan.plan_id)? {
        if earlier.patient_id != plan.patient.id {
            verdict.add_finding(plan_id_taken(&plan, &earlier));
        }
        if verdict.verdict == Outcome::Fail {
            note_earlier_version_in_force(&mut verdict, &earlier);
        }
    }
    let sessions = plan.sessions.iter().map(|s| (s.index, s.number, s.date)).collect();
    Ok(Checked { verdict, sessions })
}

/// The rule id of the finding about a plan id already recorded for another
/// patient.
pub const PLAN_REVISION_RULE: &str = "plan-revision";

/// A plan whose `plan_id` is recorded for another patient cannot be a
/// revision: passing it would silently erase the other patient's sessions
/// from the history, and with them the spacing check of their next plan.
fn plan_id_taken(plan: &Plan, earlier: &RecordedPlan) -> Finding {
    Finding {
        rule: PLAN_REVISION_RULE.into(),
        severity: Severity::Error,
        ..Finding::at(
            "/plan_id",
            format!(
                "plan_id {} is already recorded for another patient (recorded {}); a revision \
                 cannot change the patient. Give this plan its own plan_id, or, if the recorded \
                 plan named the wrong patient, withdraw it first (embolint history --forget {}).",
                plan.plan_id, earlier.recorded_at, plan.plan_id
            ),
        )
    }
    .observed(format!("patient {}", plan.patient.id))
    .limit("the patient of the recorded plan")
}

/// A revised plan that fails leaves its earlier passed version in force;
/// the error findings say so, so nobody believes the revision replaced it.
fn note_earlier_version_in_force(verdict: &mut Verdict, earlier: &RecordedPlan) {
    let note = format!(
        " This revision is not recorded: the earlier passed version of plan {} (recorded {}) stays in force.",
        earlier.plan_id, earlier.recorded_at
    );
    for finding in verdict.findings.iter_mut().filter(|f| f.severity == Severity::Error) {
        finding.message.push_str(&note);
    }
}

/// The verdict on a plan that was read: the rules decide.
fn judge(file: PlanFile<'_>, plan: &Plan, rules: &RuleSet, history: &[RecordedSession]) -> Verdict {
    let context = Context { history };
    let (findings, outcomes) = rules.evaluate(plan, &context);
    let (name, sha256) = (file.name.into(), file.sha256.into());
    let mut verdict = Verdict::new(name, sha256, findings, outcomes, rules.reference(), false);
    verdict.plan_id = Some(plan.plan_id.to_string());
    verdict.patient_id = Some(plan.patient.id.to_string());
    verdict
}

/// Most problems listed for one invalid plan. A generated file can hold
/// hundreds of thousands of the same mistake; past this many, one more
/// finding says how many were not listed, so the record stays readable.
pub const MAX_LISTED_PROBLEMS: usize = 200;

/// The verdict on a plan that could not be read: every problem (up to
/// [`MAX_LISTED_PROBLEMS`]), as a `plan-format` error.
fn invalid_verdict(file: PlanFile<'_>, failure: ParseFailure, rules: &RuleSet) -> Verdict {
    let total = failure.problems.len();
    let format_error = |path: String, message: String| Finding {
        rule: PLAN_FORMAT_RULE.into(),
        severity: Severity::Error,
        ..Finding::at(path, message)
    };
    let mut findings: Vec<Finding> = failure
        .problems
        .into_iter()
        .take(MAX_LISTED_PROBLEMS)
        .map(|problem| format_error(problem.path, problem.message))
        .collect();
    if total > MAX_LISTED_PROBLEMS {
        findings.push(format_error(
            String::new(),
            format!(
                "{} more problems are not listed; fix the ones above and check again",
                total - MAX_LISTED_PROBLEMS
            ),
        ));
    }
    let (name, sha256) = (file.name.into(), file.sha256.into());
    let mut verdict = Verdict::new(name, sha256, findings, Vec::new(), rules.reference(), true);
    verdict.plan_id = failure.plan_id;
    verdict.patient_id = failure.patient_id;
    verdict
}

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Largest plan file read by default (SPEC §4: 1 MiB). Larger files are
/// invalid without being read.
pub const DEFAULT_MAX_PLAN_BYTES: u64 = 1024 * 1024;

/// What reading a plan file gave.
#[derive(Debug)]
pub enum PlanBytes {
    /// The whole file.
    Read(Vec<u8>),
    /// The file is larger than the limit: it was read no further than one
    /// byte past it.
    TooLarge {
        /// The file's size, as far as known.
        size: u64,
        limit: u64,
        /// sha256 of the `limit + 1` bytes read, as the daemon records it.
        first_bytes_sha256: String,
    },
}

impl PlanBytes {
    /// Reads at most `limit + 1` bytes from `source`, whose size is said to
    /// be `size_hint` (0 when unknown, as for standard input).
    pub fn read_from(
        source: impl std::io::Read,
        size_hint: u64,
        limit: u64,
    ) -> std::io::Result<PlanBytes> {
        use std::io::Read;
        let mut bytes = Vec::with_capacity(size_hint.min(limit) as usize);
        source.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > limit {
            return Ok(PlanBytes::TooLarge {
                size: size_hint.max(bytes.len() as u64),
                limit,
                first_bytes_sha256: sha256_hex(&bytes),
            });
        }
        Ok(PlanBytes::Read(bytes))
    }
}

/// Reads a plan file, never more than one byte past the limit. Errors are
/// the file system's (missing, unreadable) or say that the path is not a
/// regular file (a folder, FIFO, socket or device).
///
/// The file is opened without blocking, so a FIFO named as a plan is
/// refused at once instead of waiting forever for a writer.
pub fn read_plan_file(path: &std::path::Path, limit: u64) -> std::io::Result<PlanBytes> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(std::io::Error::other(format!(
            "it is {}, not a plan file: name the plan file itself",
            kind_of(&metadata.file_type())
        )));
    }
    PlanBytes::read_from(file, metadata.len(), limit)
}

/// What a non-regular file is, in words.
fn kind_of(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a folder"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a device file"
    }
}

/// The verdict on a file over the size limit: invalid, with its size.
///
/// The file is never read past its first `limit + 1` bytes;
/// `first_bytes_sha256` is their sha256. It becomes the verdict's `sha256`
/// (the only identity of the file that can be had without reading it all),
/// and the finding says that it covers those bytes only, so nobody takes it
/// for the hash of the whole file. `check` and the daemon give the same.
pub fn oversized_verdict(
    file: &str,
    size: u64,
    limit: u64,
    first_bytes_sha256: &str,
    rules: &RuleSet,
) -> Verdict {
    let read = limit.saturating_add(1);
    let finding = Finding {
        rule: PLAN_FORMAT_RULE.into(),
        severity: Severity::Error,
        ..Finding::at(
            "",
            format!(
                "the file is {size} bytes, more than the {limit}-byte limit for a plan; \
                 it was not read past the limit — check that this is the right file. The \
                 sha256 given with this verdict is of the file's first {read} bytes only \
                 (`head -c {read} FILE | sha256sum`), not of the whole file."
            ),
        )
        .observed(format!("{size} bytes"))
        .limit(format!("{limit} bytes"))
    };
    Verdict::new(
        file.into(),
        first_bytes_sha256.to_string(),
        vec![finding],
        Vec::new(),
        rules.reference(),
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_EXAMPLE: &[u8] = include_bytes!("../tests/fixtures/public/spec-example.json");

    /// The SPEC example, which passes, recorded in a fresh history under
    /// `patient`.
    fn history_with_example_for(patient: &str) -> (tempfile::TempDir, History) {
        let dir = tempfile::tempdir().unwrap();
        let mut history = History::open(&dir.path().join("history.sqlite")).unwrap();
        let rules = RuleSet::builtin().unwrap();
        let sha256 = sha256_hex(SPEC_EXAMPLE);
        let file = PlanFile { name: "a.json", bytes: SPEC_EXAMPLE, sha256: &sha256 };
        let checked = check_for_history(file, &rules, &history).unwrap();
        let mut record = checked.to_record("key-a".into()).unwrap();
        record.patient_id = patient.into();
        history.record(&record).unwrap();
        (dir, history)
    }

    #[test]
    fn a_plan_id_recorded_for_another_patient_fails_and_names_the_way_out() {
        let (_dir, history) = history_with_example_for("PAT-OTHER");
        let rules = RuleSet::builtin().unwrap();
        let verdict = check_with_history("b.json", SPEC_EXAMPLE, &rules, &history).unwrap();
        assert_eq!(verdict.verdict, Outcome::Fail);
        let finding = verdict.findings.iter().find(|f| f.rule == PLAN_REVISION_RULE).unwrap();
        assert_eq!(finding.path, "/plan_id");
        assert!(finding.message.contains("another patient"), "{}", finding.message);
        assert!(finding.message.contains("--forget PLN-2026-0042"), "{}", finding.message);
        assert!(!finding.message.contains("PAT-OTHER"), "the other patient is not named");
        assert_eq!(verdict.counts.errors, 1);
    }

    #[test]
    fn a_revision_for_the_same_patient_is_not_a_conflict() {
        let (_dir, history) = history_with_example_for("PAT-0007");
        let rules = RuleSet::builtin().unwrap();
        let verdict = check_with_history("b.json", SPEC_EXAMPLE, &rules, &history).unwrap();
        assert_eq!(verdict.verdict, Outcome::Pass);
        assert!(verdict.findings.iter().all(|f| f.rule != PLAN_REVISION_RULE));
    }

    #[test]
    fn a_fifo_named_as_a_plan_is_refused_without_waiting_for_a_writer() {
        // Regression: a plain open() of a FIFO blocks until someone writes.
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("plan.json");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
        let error = read_plan_file(&fifo, DEFAULT_MAX_PLAN_BYTES).unwrap_err();
        assert!(error.to_string().contains("FIFO"), "{error}");
    }

    #[test]
    fn an_oversized_verdict_says_the_file_was_not_read_past_the_limit() {
        let rules = RuleSet::builtin().unwrap();
        let verdict = oversized_verdict("big.json", 5000, 1000, "ab12", &rules);
        assert_eq!(verdict.verdict, Outcome::Invalid);
        assert_eq!(verdict.sha256, "ab12");
        let message = &verdict.findings[0].message;
        assert!(message.contains("5000 bytes"), "{message}");
        assert!(message.contains("not read past the limit"), "{message}");
        assert!(message.contains("first 1001 bytes only"), "{message}");
        assert_eq!(verdict.findings[0].observed.as_deref(), Some("5000 bytes"));
    }

    #[test]
    fn reading_stops_one_byte_past_the_limit_and_hashes_what_was_read() {
        let source = std::io::Read::take(std::io::repeat(b' '), 1_000_000);
        match PlanBytes::read_from(source, 1_000_000, 100).unwrap() {
            PlanBytes::TooLarge { size, limit, first_bytes_sha256 } => {
                assert_eq!((size, limit), (1_000_000, 100));
                assert_eq!(first_bytes_sha256, sha256_hex(&[b' '; 101]));
            }
            PlanBytes::Read(_) => panic!("a file over the limit was read whole"),
        }
        assert!(matches!(
            PlanBytes::read_from(&b"{}"[..], 2, 100).unwrap(),
            PlanBytes::Read(bytes) if bytes == b"{}"
        ));
    }
}
