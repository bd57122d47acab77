//! `embolint replay`: what a rule change would have done to the plans
//! already judged.
//!
//! The decision log is read in order, as `history --rebuild` reads it
//! ([`super::rebuild::replay_log`]), into a patient history held in memory.
//! Each plan the log recorded is read back from its outcome folder, its
//! bytes' sha256 compared with its record, and judged again under the new
//! rule set against that history as it stood when the daemon judged the
//! plan. Nothing under the root is written, locked or moved.
//!
//! The history is the one the log records — the plans that passed when
//! they were judged, their withdrawals and the plans never placed — not
//! the one the new rules would have built: a plan that passed was treated,
//! and its sessions stay in the patient's history whatever a new rule says
//! of it. Every change reported is therefore the new rule set's own effect
//! on that plan.

use super::rebuild::{replay_log, LogLine, Rebuilt};
use crate::check::{check, read_plan_file, sha256_hex, PlanBytes, PlanFile};
use crate::history::History;
use crate::rules::RuleSet;
use crate::verdict::{Outcome, RuleSetRef, Severity};
use crate::watch::layout::Layout;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// Largest archived plan file read back. The daemon's own limit is 1 MiB
/// by default and can be raised; a file past this is not replayed.
pub const MAX_REPLAYED_PLAN_BYTES: u64 = 64 * 1024 * 1024;

/// What a finding is, for comparing two verdicts on one plan: its rule,
/// severity and place in the plan, and whether an acknowledgement of the
/// plan accepted it (a warning that stops being accepted under new rules
/// counts again: a change the site must see). Its message is not compared
/// (it names the limit in force, which is what a new rule set changes).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FindingKey {
    /// The rule that fired.
    pub rule: String,
    /// How much it matters.
    pub severity: Severity,
    /// JSON Pointer into the plan.
    pub path: String,
    /// Accepted by the plan's acknowledgement (listed, not counted). Read
    /// from a record's `acknowledged` object; shown only when true.
    #[serde(default, deserialize_with = "is_present", skip_serializing_if = "std::ops::Not::not")]
    pub acknowledged: bool,
}

/// Whether a record gives a finding's `acknowledged` (an object naming
/// who accepted it and why; `null` or absent is not acknowledged).
fn is_present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(!value.is_null())
}

/// A plan whose verdict or findings change under the new rule set.
#[derive(Debug, Serialize)]
pub struct PlanChange {
    /// The record's line number in the decision log (`seq`).
    pub seq: Option<u64>,
    /// The plan file, relative to the root (`passed/p.json`).
    pub file: String,
    /// The plan's id, when it could be read.
    pub plan_id: Option<String>,
    /// The verdict its record gives.
    pub before: Outcome,
    /// The verdict under the new rule set.
    pub after: Outcome,
    /// Findings the new rule set gives that the record does not have.
    pub added: Vec<FindingKey>,
    /// Findings of the record the new rule set no longer gives.
    pub removed: Vec<FindingKey>,
}

/// A recorded plan that could not be judged again.
#[derive(Debug, Serialize)]
pub struct NotReplayed {
    /// The record's line number in the decision log (`seq`).
    pub seq: Option<u64>,
    /// Where its record says the plan is, relative to the root.
    pub file: String,
    /// Why, in words.
    pub reason: String,
    /// The sha256 its record gives, to tell it from a later file of the
    /// same name.
    #[serde(skip)]
    sha256: String,
}

/// How many findings of one rule the records have, and the new rule set
/// gives, over the plans replayed.
#[derive(Debug, Default, Serialize)]
pub struct RuleCount {
    /// The rule's id.
    pub rule: String,
    /// Findings in the records.
    pub before: usize,
    /// Findings under the new rule set.
    pub after: usize,
}

/// How many plans went from one verdict to another.
#[derive(Debug, Serialize)]
pub struct Transition {
    /// The recorded verdict.
    pub before: Outcome,
    /// The verdict under the new rule set.
    pub after: Outcome,
    /// How many plans.
    pub plans: usize,
}

/// Everything a replay found.
#[derive(Debug, Serialize)]
pub struct Replayed {
    /// The rule set the plans were judged under again.
    pub rule_set: RuleSetRef,
    /// Plans judged again.
    pub replayed: usize,
    /// Plans whose verdict changes.
    pub verdict_changes: usize,
    /// The verdict changes, by before and after (only those that happen),
    /// most frequent first.
    pub transitions: Vec<Transition>,
    /// Per rule, findings before and after (rules with findings either way).
    pub rules: Vec<RuleCount>,
    /// Plans whose verdict or findings change, in log order.
    pub changed: Vec<PlanChange>,
    /// Recorded plans that could not be judged again, in log order.
    pub not_replayed: Vec<NotReplayed>,
    /// Decision records with no plan file in an outcome folder (written by
    /// an intake that keeps no archive).
    pub records_without_archived_plan: usize,
    /// Lines of the log that could not be read (a torn last line).
    pub unreadable_lines: usize,
}

/// Judges every plan `root`'s decision log recorded again under `rules`.
///
/// # Errors
/// When the log cannot be read, or the in-memory history fails: replay then
/// says nothing rather than something incomplete.
pub fn replay(root: &Path, rules: &RuleSet) -> Result<Replayed, String> {
    let layout = Layout::new(root);
    let decisions = layout.decisions();
    if !decisions.is_file() {
        return Err(format!(
            "there is no decision log at {}: give the root folder that embolint watch serves",
            decisions.display()
        ));
    }
    let history = History::open(Path::new(":memory:")).map_err(|e| e.to_string())?;
    history.begin().map_err(|e| e.to_string())?;
    let mut tally = Tally::default();
    let mut rebuilt = Rebuilt::default();
    replay_log(&decisions, &history, &mut rebuilt, |line, history| match line {
        LogLine::Decision(record) => tally.decision(root, record, rules, history),
        LogLine::NotPlaced(event) => {
            tally.not_placed(&event.moved_to, &event.sha256, &event.message);
            Ok(())
        }
    })?;
    history.rollback();
    Ok(tally.into_replayed(rules.reference(), rebuilt.unreadable_lines))
}

/// What the replay has found so far.
#[derive(Default)]
struct Tally {
    replayed: usize,
    transitions: Vec<Transition>,
    rules: BTreeMap<String, RuleCount>,
    changed: Vec<PlanChange>,
    not_replayed: Vec<NotReplayed>,
    without_plan: usize,
}

/// A decision record, as much of it as replay reads.
#[derive(Deserialize)]
struct Record {
    file: String,
    sha256: String,
    verdict: Outcome,
    #[serde(default)]
    plan_id: Option<String>,
    #[serde(default)]
    findings: Vec<FindingKey>,
    watch: Option<Moved>,
}

#[derive(Deserialize)]
struct Moved {
    moved_to: String,
}

impl Tally {
    /// Judges the plan of one decision record again, if it is still there
    /// as recorded.
    fn decision(
        &mut self,
        root: &Path,
        record: &serde_json::Value,
        rules: &RuleSet,
        history: &History,
    ) -> Result<(), String> {
        let seq = record.get("seq").and_then(serde_json::Value::as_u64);
        let record = match Record::deserialize(record) {
            Ok(record) => record,
            Err(e) => {
                let file = String::new();
                let reason = format!("its decision record cannot be read: {e}");
                self.not_replayed.push(NotReplayed { seq, file, reason, sha256: String::new() });
                return Ok(());
            }
        };
        let Some(moved) = &record.watch else {
            self.without_plan += 1;
            return Ok(());
        };
        let file = moved.moved_to.clone();
        let bytes = match archived_bytes(root, &file, &record.sha256) {
            Ok(bytes) => bytes,
            Err(reason) => {
                let sha256 = record.sha256.clone();
                self.not_replayed.push(NotReplayed { seq, file, reason, sha256 });
                return Ok(());
            }
        };
        let plan = PlanFile { name: &record.file, bytes: &bytes, sha256: Some(&record.sha256) };
        let checked = check(plan, rules, Some(history)).map_err(|e| e.to_string())?;
        let after = checked.verdict;
        let now: Vec<FindingKey> = after
            .findings
            .iter()
            .map(|f| FindingKey {
                rule: f.rule.clone(),
                severity: f.severity,
                path: f.path.clone(),
                acknowledged: f.acknowledged.is_some(),
            })
            .collect();
        self.count_rules(&record.findings, &now);
        self.replayed += 1;
        if record.verdict != after.verdict {
            self.count_transition(record.verdict, after.verdict);
        }
        let (added, removed) = difference(&record.findings, &now);
        if record.verdict != after.verdict || !added.is_empty() || !removed.is_empty() {
            self.changed.push(PlanChange {
                seq,
                file,
                plan_id: after.plan_id.or(record.plan_id),
                before: record.verdict,
                after: after.verdict,
                added,
                removed,
            });
        }
        Ok(())
    }

    /// A `plan-not-placed` record: its plan was judged, but never put
    /// where its record says; it is not missing from the archive.
    fn not_placed(&mut self, moved_to: &str, sha256: &str, message: &str) {
        if let Some(earlier) =
            self.not_replayed.iter_mut().rev().find(|n| n.file == moved_to && n.sha256 == sha256)
        {
            earlier.reason = format!("it was never placed there: {message}");
        }
    }

    fn count_transition(&mut self, before: Outcome, after: Outcome) {
        match self.transitions.iter_mut().find(|t| t.before == before && t.after == after) {
            Some(transition) => transition.plans += 1,
            None => self.transitions.push(Transition { before, after, plans: 1 }),
        }
    }

    fn count_rules(&mut self, before: &[FindingKey], after: &[FindingKey]) {
        for finding in before {
            self.rule(&finding.rule).before += 1;
        }
        for finding in after {
            self.rule(&finding.rule).after += 1;
        }
    }

    fn rule(&mut self, id: &str) -> &mut RuleCount {
        self.rules
            .entry(id.to_string())
            .or_insert_with(|| RuleCount { rule: id.to_string(), ..RuleCount::default() })
    }

    fn into_replayed(self, rule_set: RuleSetRef, unreadable_lines: usize) -> Replayed {
        let mut transitions = self.transitions;
        transitions.sort_by_key(|t| std::cmp::Reverse(t.plans));
        Replayed {
            rule_set,
            replayed: self.replayed,
            verdict_changes: transitions.iter().map(|t| t.plans).sum(),
            transitions,
            rules: self.rules.into_values().collect(),
            changed: self.changed,
            not_replayed: self.not_replayed,
            records_without_archived_plan: self.without_plan,
            unreadable_lines,
        }
    }
}

/// The bytes of an archived plan, if it is still there as its record
/// says; otherwise why not, in words.
fn archived_bytes(root: &Path, moved_to: &str, sha256: &str) -> Result<Vec<u8>, String> {
    let relative = PathBuf::from(moved_to);
    let inside = relative.components().all(|c| matches!(c, Component::Normal(_)));
    if !inside || moved_to.is_empty() {
        return Err("its recorded place is not inside the root; it was not read".into());
    }
    let path = root.join(relative);
    match std::fs::symlink_metadata(&path) {
        Ok(found) if found.file_type().is_symlink() => {
            return Err("it is a symbolic link, not the plan file itself; it was not read".into())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("missing: the file is no longer in its outcome folder".into())
        }
        _ => {}
    }
    let bytes = match read_plan_file(&path, MAX_REPLAYED_PLAN_BYTES) {
        Ok(PlanBytes::Read(bytes)) => bytes,
        Ok(PlanBytes::TooLarge { size, .. }) => {
            return Err(format!("it is larger than replay reads ({size} bytes)"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("missing: the file is no longer in its outcome folder".into())
        }
        Err(e) => return Err(format!("it cannot be read: {e}")),
    };
    if sha256_hex(&bytes) != sha256 {
        return Err("altered since its record: its sha256 is not the one recorded".into());
    }
    Ok(bytes)
}

/// Findings in `after` and not in `before`, and in `before` and not in
/// `after`, each finding counted as often as it occurs.
fn difference(before: &[FindingKey], after: &[FindingKey]) -> (Vec<FindingKey>, Vec<FindingKey>) {
    let mut before_left: Vec<&FindingKey> = before.iter().collect();
    let mut added = Vec::new();
    for finding in after {
        match before_left.iter().position(|b| *b == finding) {
            Some(i) => {
                before_left.swap_remove(i);
            }
            None => added.push(finding.clone()),
        }
    }
    let mut removed: Vec<FindingKey> = before_left.into_iter().cloned().collect();
    added.sort();
    removed.sort();
    (added, removed)
}

/// The replay as text for people: the summary line first, then the rules,
/// the changed plans and the plans that could not be replayed.
pub fn render(replayed: &Replayed) -> String {
    let mut out = String::new();
    out.push_str(&summary_line(replayed));
    out.push('\n');
    let rule_set = &replayed.rule_set;
    out.push_str(&format!(
        "{} plans judged again under {} {} (sha256 {}).\n",
        replayed.replayed,
        rule_set.id,
        rule_set.version,
        rule_set.sha256.get(..12).unwrap_or(&rule_set.sha256)
    ));
    if !replayed.rules.is_empty() {
        out.push_str("\nFindings per rule, recorded → now:\n");
        let width = replayed.rules.iter().map(|r| r.rule.len()).max().unwrap_or(0);
        for count in &replayed.rules {
            let mark = if count.before == count.after { "" } else { "  (changed)" };
            out.push_str(&format!(
                "  {:width$}  {} → {}{mark}\n",
                count.rule, count.before, count.after
            ));
        }
    }
    if !replayed.changed.is_empty() {
        out.push_str("\nPlans that change:\n");
        for change in &replayed.changed {
            out.push_str(&format!(
                "  {} (plan {}, log seq {}): {} → {}\n",
                change.file,
                change.plan_id.as_deref().unwrap_or("unknown"),
                change.seq.map_or("?".to_string(), |s| s.to_string()),
                change.before.as_str(),
                change.after.as_str()
            ));
            for finding in &change.added {
                out.push_str(&format!("    + {}\n", finding_line(finding)));
            }
            for finding in &change.removed {
                out.push_str(&format!("    - {}\n", finding_line(finding)));
            }
        }
    }
    if !replayed.not_replayed.is_empty() {
        out.push_str(&format!(
            "\nPlans that could not be replayed ({}):\n",
            replayed.not_replayed.len()
        ));
        for skipped in &replayed.not_replayed {
            out.push_str(&format!(
                "  {} (log seq {}): {}\n",
                if skipped.file.is_empty() { "?" } else { &skipped.file },
                skipped.seq.map_or("?".to_string(), |s| s.to_string()),
                skipped.reason
            ));
        }
    }
    if replayed.records_without_archived_plan > 0 {
        out.push_str(&format!(
            "\n{} decision records name no archived plan file and were not replayed.\n",
            replayed.records_without_archived_plan
        ));
    }
    if replayed.unreadable_lines > 0 {
        out.push_str(&format!(
            "\n{} lines of the decision log could not be read and were skipped.\n",
            replayed.unreadable_lines
        ));
    }
    out
}

/// "12 plans change: 9 pass → fail, 3 fail → pass", or "no verdict
/// changes: N plans replayed", and how many could not be replayed.
pub fn summary_line(replayed: &Replayed) -> String {
    let skipped = match replayed.not_replayed.len() {
        0 => String::new(),
        n => format!(" ({n} could not be replayed)"),
    };
    if replayed.verdict_changes == 0 {
        return format!("no verdict changes: {} plans replayed{skipped}", replayed.replayed);
    }
    let parts: Vec<String> = replayed
        .transitions
        .iter()
        .map(|t| format!("{} {} → {}", t.plans, t.before.as_str(), t.after.as_str()))
        .collect();
    let plans = if replayed.verdict_changes == 1 { "plan changes" } else { "plans change" };
    format!("{} {plans}: {}{skipped}", replayed.verdict_changes, parts.join(", "))
}

fn finding_line(finding: &FindingKey) -> String {
    let at = if finding.path.is_empty() { "the whole file" } else { &finding.path };
    let accepted = if finding.acknowledged { ", acknowledged" } else { "" };
    format!("{} ({}{accepted}) at {at}", finding.rule, finding.severity.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, path: &str) -> FindingKey {
        FindingKey {
            rule: rule.into(),
            severity: Severity::Error,
            path: path.into(),
            acknowledged: false,
        }
    }

    #[test]
    fn findings_are_compared_as_a_multiset_by_rule_severity_and_path() {
        let a = finding("artery-dose-max", "/sessions/0/arteries/0/drugs/0/dose");
        let b = finding("session-spacing", "/sessions/0/date");
        let warning_b = FindingKey { severity: Severity::Warning, ..b.clone() };
        let (added, removed) = difference(&[a.clone(), b.clone()], &[a.clone(), a.clone()]);
        assert_eq!(added, vec![a.clone()], "a second finding of the same rule at the same place");
        assert_eq!(removed, vec![b.clone()]);
        let (added, removed) =
            difference(std::slice::from_ref(&b), std::slice::from_ref(&warning_b));
        assert_eq!((added, removed), (vec![warning_b], vec![b]), "a new severity is a change");
        let same = std::slice::from_ref(&a);
        assert_eq!(difference(same, same), (vec![], vec![]));
    }

    #[test]
    fn a_finding_that_stops_being_acknowledged_is_a_change() {
        let recorded: FindingKey = serde_json::from_value(serde_json::json!({
            "rule": "follow-up", "severity": "warning", "path": "/follow_up", "message": "…",
            "acknowledged": { "reason": "seen at the referring centre", "by": "Dr A" }
        }))
        .unwrap();
        assert!(recorded.acknowledged, "read from the record's acknowledged object");
        let counted = FindingKey { acknowledged: false, ..recorded.clone() };
        let (added, removed) =
            difference(std::slice::from_ref(&recorded), std::slice::from_ref(&counted));
        assert_eq!((added, removed), (vec![counted.clone()], vec![recorded.clone()]));
        assert!(finding_line(&recorded).contains("acknowledged"));
        assert!(!finding_line(&counted).contains("acknowledged"));
        let plain: FindingKey = serde_json::from_value(serde_json::json!({
            "rule": "follow-up", "severity": "warning", "path": "/follow_up", "acknowledged": null
        }))
        .unwrap();
        assert_eq!(plain, counted);
    }

    #[test]
    fn a_recorded_place_outside_the_root_is_never_read() {
        let root = Path::new("/nonexistent-root");
        for place in ["../etc/passwd", "/etc/passwd", "passed/../../x", ""] {
            let reason = archived_bytes(root, place, "00").unwrap_err();
            assert!(reason.contains("not inside the root"), "{place}: {reason}");
        }
    }

    /// A root whose log holds `lines` (records and events, unchained).
    fn root_with_log(lines: &[serde_json::Value]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("log")).unwrap();
        std::fs::create_dir_all(dir.path().join("passed")).unwrap();
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(dir.path().join("log/decisions.jsonl"), text).unwrap();
        dir
    }

    fn invalid_record(moved_to: &str, bytes: &[u8]) -> serde_json::Value {
        serde_json::json!({
            "verdict": "invalid", "file": "p.json", "sha256": sha256_hex(bytes),
            "findings": [{"rule": "plan-format", "severity": "error", "path": "", "message": "m"}],
            "watch": {"batch": 1, "inbox_name": "p.json", "moved_to": moved_to,
                      "sidecar": format!("{moved_to}.verdict.json"), "elapsed_us": 1}
        })
    }

    #[test]
    fn a_plan_never_placed_is_reported_as_such_not_as_missing() {
        let record = invalid_record("invalid/p.json", b"{}");
        let event = serde_json::json!({
            "event": "plan-not-placed", "at": "2026-12-01T00:00:00Z", "batch": 1,
            "inbox_name": "p.json", "moved_to": "invalid/p.json", "sha256": sha256_hex(b"{}"),
            "verdict": "invalid", "reason": "changed",
            "message": "it was changed after it was read; it is judged again"
        });
        let root = root_with_log(&[record, event]);
        let replayed = replay(root.path(), &RuleSet::builtin().unwrap()).unwrap();
        assert_eq!(replayed.not_replayed.len(), 1);
        let reason = &replayed.not_replayed[0].reason;
        assert!(reason.starts_with("it was never placed there: it was changed"), "{reason}");
    }

    #[test]
    fn a_symbolic_link_in_an_outcome_folder_is_not_followed() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("p.json"), b"{}").unwrap();
        let root = root_with_log(&[invalid_record("passed/p.json", b"{}")]);
        std::os::unix::fs::symlink(
            outside.path().join("p.json"),
            root.path().join("passed/p.json"),
        )
        .unwrap();
        let replayed = replay(root.path(), &RuleSet::builtin().unwrap()).unwrap();
        assert_eq!(replayed.replayed, 0);
        assert!(replayed.not_replayed[0].reason.contains("symbolic link"));
    }

    #[test]
    fn an_invalid_plan_still_there_is_judged_again() {
        let root = root_with_log(&[invalid_record("passed/p.json", b"{}")]);
        std::fs::write(root.path().join("passed/p.json"), b"{}").unwrap();
        let replayed = replay(root.path(), &RuleSet::builtin().unwrap()).unwrap();
        assert_eq!(replayed.replayed, 1);
        assert_eq!(replayed.verdict_changes, 0);
        // The record's one finding, the new verdict's several: the findings
        // change, the verdict does not.
        assert_eq!(replayed.changed.len(), 1);
        assert_eq!(replayed.changed[0].after, Outcome::Invalid);
    }

    fn report() -> Replayed {
        let mut tally = Tally { replayed: 12, ..Tally::default() };
        tally.count_rules(&[finding("artery-dose-max", "/a")], &[finding("artery-dose-max", "/a")]);
        let added = vec![finding("artery-dose-max", "/sessions/0/arteries/0/drugs/0/dose")];
        for (file, before, after) in [
            ("passed/a.json", Outcome::Pass, Outcome::Fail),
            ("passed/b.json", Outcome::Pass, Outcome::Fail),
            ("failed/c.json", Outcome::Fail, Outcome::Pass),
        ] {
            tally.count_transition(before, after);
            tally.count_rules(&[], &added);
            let plan_id = Some(file.replace(".json", "").replace('/', "-"));
            let change = PlanChange {
                seq: Some(7),
                file: file.into(),
                plan_id,
                before,
                after,
                added: added.clone(),
                removed: vec![],
            };
            tally.changed.push(change);
        }
        tally.not_replayed.push(NotReplayed {
            seq: Some(9),
            file: "passed/d.json".into(),
            reason: "missing: the file is no longer in its outcome folder".into(),
            sha256: String::new(),
        });
        let rule_set = RuleSetRef {
            id: "site-rules".into(),
            version: "2.1.0".into(),
            sha256: "0123456789abcdef".into(),
        };
        tally.into_replayed(rule_set, 0)
    }

    #[test]
    fn the_text_report_starts_with_the_summary_line() {
        insta::assert_snapshot!(render(&report()), @r"
        3 plans change: 2 pass → fail, 1 fail → pass (1 could not be replayed)
        12 plans judged again under site-rules 2.1.0 (sha256 0123456789ab).

        Findings per rule, recorded → now:
          artery-dose-max  1 → 4  (changed)

        Plans that change:
          passed/a.json (plan passed-a, log seq 7): pass → fail
            + artery-dose-max (error) at /sessions/0/arteries/0/drugs/0/dose
          passed/b.json (plan passed-b, log seq 7): pass → fail
            + artery-dose-max (error) at /sessions/0/arteries/0/drugs/0/dose
          failed/c.json (plan failed-c, log seq 7): fail → pass
            + artery-dose-max (error) at /sessions/0/arteries/0/drugs/0/dose

        Plans that could not be replayed (1):
          passed/d.json (log seq 9): missing: the file is no longer in its outcome folder
        ");
    }

    #[test]
    fn with_no_verdict_change_the_summary_says_how_many_were_replayed() {
        let replayed = Tally { replayed: 5, ..Tally::default() }.into_replayed(
            RuleSetRef { id: "r".into(), version: "1".into(), sha256: "s".into() },
            0,
        );
        assert_eq!(summary_line(&replayed), "no verdict changes: 5 plans replayed");
    }
}
