//! One plan file in, one verdict out: [`check`] is the single way a plan is
//! judged, shared by `embolint check` and the watch daemon, so both judge
//! alike. Also here: reading a plan file within the size limit, and the
//! verdict on a file over it.

use crate::history::{
    History, HistoryError, PlannedSession, PriorRecord, RecordedPlan, RecordedSession,
};
use crate::names::normalize;
use crate::plan::{parse_plan, ParseFailure, Plan};
use crate::rules::{Context, PastSession, PatientHistory, RecordedVersion, ResolvedPlan, RuleSet};
use crate::verdict::{Finding, Outcome, Severity, Verdict};

pub use crate::digest::sha256_hex;

/// The rule id of every finding about an unreadable or malformed plan.
pub const PLAN_FORMAT_RULE: &str = "plan-format";

/// One plan file as it was read: the name shown in its verdict, its bytes,
/// and their sha256 when it is already known.
#[derive(Clone, Copy, Debug)]
pub struct PlanFile<'a> {
    /// The name shown in the verdict.
    pub name: &'a str,
    /// Everything the file held.
    pub bytes: &'a [u8],
    /// Lower-case hex sha256 of `bytes`, when whatever read them computed
    /// it (the daemon hashes a plan while it claims the file); `None` to
    /// have the checker compute it.
    pub sha256: Option<&'a str>,
}

impl<'a> PlanFile<'a> {
    /// A file whose sha256 the checker computes.
    pub fn new(name: &'a str, bytes: &'a [u8]) -> PlanFile<'a> {
        PlanFile { name, bytes, sha256: None }
    }
}

/// A verdict, with what the history would record of the plan.
#[derive(Debug)]
pub struct Checked {
    /// The verdict on the plan.
    pub verdict: Verdict,
    /// The plan's sessions (index, number, date) when it could be read:
    /// what the history records of it if it passed.
    pub sessions: Vec<PlannedSession>,
    /// The plan's `prior_sessions`, recorded with it if it passed: they
    /// are sessions of the patient too.
    pub prior_sessions: Vec<PriorRecord>,
}

impl Checked {
    /// The verdict on a plan that could not be read: nothing to record.
    pub fn unread(verdict: Verdict) -> Checked {
        Checked { verdict, sessions: Vec::new(), prior_sessions: Vec::new() }
    }
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
            prior_sessions: self.prior_sessions.clone(),
        })
    }
}

/// Checks one plan file against a rule set and, when one is given, the
/// patient history: the one way a plan is judged, for `embolint check` and
/// the daemon alike.
///
/// The plan is read strictly (an unreadable plan is `invalid`, with every
/// problem), its names are resolved by `rules`, and the rules judge it,
/// with the patient's sessions of other plans and the plan recorded under
/// its `plan_id`, if any. A failed revision says that the earlier passed
/// version stays in force. Never panics, whatever the bytes.
///
/// # Errors
/// When the history cannot be read there is no verdict: a plan is never
/// passed without the check it needs. Without a history nothing fails.
///
/// # Example
/// ```
/// use embolint::check::{check, PlanFile};
/// use embolint::rules::RuleSet;
/// use embolint::verdict::Outcome;
///
/// let rules = RuleSet::builtin().unwrap();
/// let checked = check(PlanFile::new("plan.json", b"{}"), &rules, None).unwrap();
/// assert_eq!(checked.verdict.verdict, Outcome::Invalid);
/// assert_eq!(checked.verdict.findings[0].message, "missing required field `format`; add \"format\": \"embolint.plan/1\"");
/// ```
pub fn check(
    file: PlanFile<'_>,
    rules: &RuleSet,
    history: Option<&History>,
) -> Result<Checked, HistoryError> {
    let computed;
    let sha256 = match file.sha256 {
        Some(sha256) => sha256,
        None => {
            computed = sha256_hex(file.bytes);
            &computed
        }
    };
    let plan = match parse_plan(file.bytes, &rules.names) {
        Ok(plan) => rules.resolve(plan),
        Err(failure) => {
            let verdict = invalid_verdict(file.name, sha256, failure, rules);
            return Ok(Checked::unread(verdict));
        }
    };
    let (known, earlier) = match history {
        Some(history) => {
            // No other daemon judges this patient until this batch ends.
            history.lock_patient(&plan.patient.id)?;
            let earlier = history.plan(&plan.plan_id)?;
            let sessions = history.sessions_of(&plan.patient.id)?;
            (Some(patient_history(&plan, sessions, earlier.as_ref())), earlier)
        }
        None => (None, None),
    };
    let mut verdict = judge(file.name, sha256, &plan, rules, Context { history: known.as_ref() });
    if let Some(earlier) = earlier.filter(|_| verdict.verdict == Outcome::Fail) {
        note_earlier_version_in_force(&mut verdict, &earlier);
    }
    let sessions = plan.sessions.iter().map(|s| (s.index, s.number, s.date)).collect();
    let prior_sessions = plan
        .prior_sessions
        .iter()
        .map(|p| PriorRecord { index: p.index, plan_id: p.plan_id.clone(), date: p.date })
        .collect();
    Ok(Checked { verdict, sessions, prior_sessions })
}

/// What the history's rows say of `plan`, in the rules' own terms: the
/// patient's sessions (patient ids compared as names) of other plans —
/// never a session of this plan's own `plan_id`, whichever plan recorded
/// it — and the plan recorded under its id.
fn patient_history(
    plan: &Plan,
    recorded: Vec<RecordedSession>,
    same_plan_id: Option<&RecordedPlan>,
) -> PatientHistory {
    let sessions = recorded
        .into_iter()
        .filter(|r| normalize(&r.patient_id) == normalize(&plan.patient.id))
        .filter(|r| r.plan_id != plan.plan_id)
        .map(|r| PastSession {
            recorded_on: r.recorded_at.to_zoned(jiff::tz::TimeZone::UTC).date(),
            listed_by: r.listed_by,
            plan_id: r.plan_id,
            number: r.number,
            index: r.index,
            date: r.date,
        })
        .collect();
    let same_plan_id = same_plan_id.map(|earlier| RecordedVersion {
        patient_id: earlier.patient_id.clone(),
        recorded_at: earlier.recorded_at,
    });
    PatientHistory { sessions, same_plan_id }
}

/// A revised plan that fails leaves its earlier passed version in force;
/// the error findings say so, so nobody believes the revision replaced it.
fn note_earlier_version_in_force(verdict: &mut Verdict, earlier: &RecordedPlan) {
    let note = format!(
        " This revision is not recorded: the earlier passed version of plan {} (recorded {}) stays in force.",
        earlier.plan_id, earlier.recorded_at
    );
    let counted_error =
        |f: &&mut Finding| f.severity == Severity::Error && f.acknowledged.is_none();
    for finding in verdict.findings.iter_mut().filter(counted_error) {
        finding.message.push_str(&note);
    }
}

/// The verdict on a plan that was read: the rules decide.
fn judge(
    file: &str,
    sha256: &str,
    plan: &ResolvedPlan,
    rules: &RuleSet,
    context: Context,
) -> Verdict {
    let (findings, outcomes) = plan.evaluate(&context);
    let mut verdict =
        Verdict::new(file.into(), sha256.into(), findings, outcomes, rules.reference(), false);
    verdict.plan_id = Some(plan.plan_id.clone());
    verdict.patient_id = Some(plan.patient.id.clone());
    verdict
}

/// Most problems listed for one invalid plan. A generated file can hold
/// hundreds of thousands of the same mistake; past this many, one more
/// finding says how many were not listed, so the record stays readable.
pub const MAX_LISTED_PROBLEMS: usize = 200;

/// The verdict on a plan that could not be read: every problem (up to
/// [`MAX_LISTED_PROBLEMS`]), as a `plan-format` error.
fn invalid_verdict(file: &str, sha256: &str, failure: ParseFailure, rules: &RuleSet) -> Verdict {
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
    let mut verdict =
        Verdict::new(file.into(), sha256.into(), findings, Vec::new(), rules.reference(), true);
    verdict.plan_id = failure.plan_id;
    verdict.patient_id = failure.patient_id;
    verdict
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
        let checked = check(PlanFile::new("a.json", SPEC_EXAMPLE), &rules, Some(&history)).unwrap();
        let mut record = checked.to_record("key-a".into()).unwrap();
        record.patient_id = patient.into();
        history.record(&record).unwrap();
        (dir, history)
    }

    /// The SPEC example checked again, as `b.json`, against `history`.
    fn check_b(rules: &RuleSet, history: &History) -> Verdict {
        check(PlanFile::new("b.json", SPEC_EXAMPLE), rules, Some(history)).unwrap().verdict
    }

    #[test]
    fn a_plan_id_recorded_for_another_patient_fails_and_names_the_way_out() {
        let (_dir, history) = history_with_example_for("PAT-OTHER");
        let rules = RuleSet::builtin().unwrap();
        let verdict = check_b(&rules, &history);
        assert_eq!(verdict.verdict, Outcome::Fail);
        let finding = verdict.findings.iter().find(|f| f.rule == "plan-revision").unwrap();
        assert_eq!(finding.path, "/plan_id");
        assert!(finding.message.contains("another patient"), "{}", finding.message);
        assert!(finding.message.contains("--forget PLN-2026-0042"), "{}", finding.message);
        assert!(!finding.message.contains("PAT-OTHER"), "the other patient is not named");
        assert_eq!(verdict.counts.errors, 1);
    }

    #[test]
    fn a_site_rule_file_without_plan_revision_still_refuses_another_patients_plan_id() {
        // A site's copy of the shipped file made before plan-revision was a
        // rule of the set: its last sections, the history's and the
        // acknowledgements', are missing.
        let shipped = crate::rules::BUILTIN_RULES;
        let acknowledgements = shipped.rfind("# ---").unwrap();
        let history = shipped[..acknowledgements].rfind("# ---").unwrap();
        assert!(shipped[history..].lines().next().unwrap().ends_with(" history"));
        let old = &shipped[..history];
        let site = RuleSet::from_toml(old, "site.toml").unwrap();
        let (_dir, history) = history_with_example_for("PAT-OTHER");
        let verdict = check_b(&site, &history);
        let builtin = check_b(&RuleSet::builtin().unwrap(), &history);
        assert_eq!(verdict.verdict, Outcome::Fail);
        assert_eq!(verdict.findings, builtin.findings, "judged as with the shipped file");
        assert_eq!(verdict.rules, builtin.rules);
    }

    #[test]
    fn a_revision_for_the_same_patient_is_not_a_conflict() {
        let (_dir, history) = history_with_example_for("PAT-0007");
        let rules = RuleSet::builtin().unwrap();
        let verdict = check_b(&rules, &history);
        assert_eq!(verdict.verdict, Outcome::Pass);
        assert!(verdict.findings.iter().all(|f| f.rule != "plan-revision"));
    }

    #[test]
    fn the_rules_see_only_sessions_of_the_patients_other_plans() {
        let rules = RuleSet::builtin().unwrap();
        let plan = parse_plan(SPEC_EXAMPLE, &rules.names).unwrap();
        let row = |patient: &str, plan: &str| RecordedSession {
            patient_id: patient.into(),
            plan_id: plan.into(),
            listed_by: None,
            number: Some(1),
            index: 0,
            date: "2026-11-01".parse().unwrap(),
            recorded_at: "2026-10-20T23:30:00Z".parse().unwrap(),
        };
        let rows = vec![
            row("PAT-0007", "PLN-2026-0042"),
            row("PAT-9999", "PLN-0031"),
            row(" pat-0007", "PLN-0031"),
            // Recorded by another plan as a prior session of this plan.
            RecordedSession {
                listed_by: Some("PLN-0050".into()),
                ..row("PAT-0007", "PLN-2026-0042")
            },
        ];
        let history = patient_history(&plan, rows, None);
        let plans: Vec<&str> = history.sessions.iter().map(|s| s.plan_id.as_str()).collect();
        assert_eq!(
            plans,
            ["PLN-0031"],
            "not this plan's own sessions (whoever recorded them), not another patient's; the \
             patient id compared as a name"
        );
        assert_eq!(history.sessions[0].recorded_on.to_string(), "2026-10-20", "the UTC day");
        assert_eq!(history.same_plan_id, None);
    }

    #[test]
    fn without_a_history_plan_revision_does_not_apply() {
        let rules = RuleSet::builtin().unwrap();
        let verdict = check(PlanFile::new("a.json", SPEC_EXAMPLE), &rules, None).unwrap().verdict;
        let outcome = verdict.rules.iter().find(|o| o.id == "plan-revision").unwrap();
        assert_eq!(outcome.outcome, crate::verdict::RuleResult::NotApplicable);
        assert_eq!(verdict.sha256, sha256_hex(SPEC_EXAMPLE), "the checker hashes when not told");
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
