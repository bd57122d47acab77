//! Regression tests for what fuzzing found (see `fuzz/README.md`): each runs
//! a reproducer kept under `tests/fixtures/fuzz/` through the library, the
//! way `embolint check` and the watch daemon do, and asserts the verdict.

use embolint::check::PlanFile;
use embolint::rules::RuleSet;
use embolint::verdict::{Outcome, Verdict};

/// 700 planned sessions, all on 2026-11-05, of an otherwise minimal valid
/// plan (25 KB). Before 74b0c08 it made 244,650 findings and a libFuzzer
/// timeout (> 10 s) in `plan_check`.
const SAME_DAY_SESSIONS: &[u8] =
    include_bytes!("fixtures/fuzz/timeout-session-spacing-same-day.json");

/// 400 prior sessions on 2026-11-01 and 400 planned sessions on 2026-11-05
/// (23 KB). Before 74b0c08 it made 239,800 findings and a libFuzzer timeout
/// (> 10 s) in `plan_check`.
const PRIOR_AND_PLANNED: &[u8] =
    include_bytes!("fixtures/fuzz/timeout-session-spacing-prior-and-planned.json");

fn check(bytes: &[u8]) -> Verdict {
    let rules = RuleSet::builtin().unwrap();
    embolint::check::check(PlanFile::new("fuzz.json", bytes), &rules, None).unwrap().verdict
}

/// How many planned sessions the plan holds.
fn planned_sessions(bytes: &[u8]) -> usize {
    let plan: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    plan["sessions"].as_array().unwrap().len()
}

/// Asserts the plan never passes and, when judged, fails on spacing with at
/// most three `session-spacing` findings per planned session (against the
/// nearest earlier planned session and the nearest past session on each
/// side): a plan of a few kilobytes must not make a verdict of hundreds of
/// megabytes, and a 1 MiB plan (the daemon's limit) of ~25,000 sessions must
/// not make ~300 million findings and exhaust memory (SPEC §4: bad input
/// never stops the daemon).
/// A fix that refuses so many sessions as invalid passes too.
fn assert_spacing_findings_bounded(bytes: &[u8]) {
    let verdict = check(bytes);
    assert_ne!(verdict.verdict, Outcome::Pass, "sessions days apart must never pass");
    if verdict.verdict == Outcome::Invalid {
        return;
    }
    let spacing = verdict.findings.iter().filter(|f| f.rule == "session-spacing").count();
    assert!(spacing > 0, "sessions four days apart must fail session-spacing");
    let sessions = planned_sessions(bytes);
    assert!(
        spacing <= 3 * sessions,
        "{spacing} session-spacing findings for {sessions} planned sessions: \
         one finding per pair of sessions grows with the square of the plan"
    );
}

#[test]
fn session_spacing_findings_stay_linear_for_many_sessions_on_one_day() {
    assert_spacing_findings_bounded(SAME_DAY_SESSIONS);
}

#[test]
fn session_spacing_findings_stay_linear_for_many_prior_and_planned_sessions() {
    assert_spacing_findings_bounded(PRIOR_AND_PLANNED);
}
