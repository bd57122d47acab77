//! The verdict as text for people: one line per finding, then a summary.
//!
//! Errors come first, then warnings, then infos, grouped by rule. Each
//! finding line names the severity and rule, where in the plan it is
//! (session number and date, artery name), what is wrong and the observed
//! value against the limit; the protocol sentence a rule rests on follows
//! its findings once. Colour is
//! the caller's choice (only on a terminal, never under `NO_COLOR`).

use crate::verdict::{Finding, Outcome, RuleResult, Severity, Verdict};
use std::fmt::Write;

/// ANSI styles, or nothing when colour is off.
struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn severity(&self, severity: Severity) -> String {
        let (code, label) = match severity {
            Severity::Error => ("1;31", "error  "),
            Severity::Warning => ("33", "warning"),
            Severity::Info => ("36", "info   "),
        };
        self.paint(code, label)
    }

    fn outcome(&self, outcome: Outcome) -> String {
        match outcome {
            Outcome::Pass => self.paint("1;32", "PASS"),
            Outcome::Fail => self.paint("1;31", "FAIL"),
            Outcome::Invalid => self.paint("1;35", "INVALID"),
        }
    }
}

/// Renders one verdict as text, ending with its summary line.
pub fn render_verdict(verdict: &Verdict, color: bool) -> String {
    let style = Style { color };
    let mut out = String::new();
    let file = shown_file_name(&verdict.file);
    let _ = writeln!(out, "{file}: {}{}", style.outcome(verdict.verdict), identity(verdict));
    let (acknowledged, counted): (Vec<&Finding>, Vec<&Finding>) =
        verdict.findings.iter().partition(|f| f.acknowledged.is_some());
    for (severity, rule, findings) in by_severity_and_rule(&counted) {
        for finding in &findings {
            let _ = writeln!(out, "  {} {}", style.severity(severity), finding_line(finding));
        }
        // The protocol's sentence once per rule, under its findings.
        if let Some(citation) = findings.first().and_then(|f| f.citation.as_deref()) {
            let _ = writeln!(out, "          {rule} — protocol: “{citation}”");
        }
    }
    // Accepted findings apart, after the ones that count, each with who
    // accepted it and why.
    if !acknowledged.is_empty() {
        let _ = writeln!(out, "  acknowledged, not counted:");
    }
    for (severity, _, findings) in by_severity_and_rule(&acknowledged) {
        for finding in findings {
            let _ = writeln!(out, "  {} {}", style.severity(severity), finding_line(finding));
            if let Some(accepted) = &finding.acknowledged {
                let _ =
                    writeln!(out, "          acknowledged by {}: {}", accepted.by, accepted.reason);
            }
        }
    }
    let _ = writeln!(out, "  {}", summary(verdict));
    out
}

/// The findings grouped for reading: errors first, then warnings, then
/// infos; within each, one group per rule in the order the rules first
/// speak.
fn by_severity_and_rule<'f>(
    findings: &[&'f Finding],
) -> Vec<(Severity, &'f str, Vec<&'f Finding>)> {
    let mut groups: Vec<(Severity, &str, Vec<&Finding>)> = Vec::new();
    for severity in [Severity::Error, Severity::Warning, Severity::Info] {
        for &finding in findings.iter().filter(|f| f.severity == severity) {
            let rule = finding.rule.as_str();
            match groups.iter_mut().find(|(s, r, _)| *s == severity && *r == rule) {
                Some((_, _, group)) => group.push(finding),
                None => groups.push((severity, rule, vec![finding])),
            }
        }
    }
    groups
}

/// A file name as the report shows it: as it is, unless it holds a control
/// character (a line break in a name would split the report's first line,
/// a terminal escape would act on the terminal); then quoted and escaped:
/// `"two\nlines.json"`.
fn shown_file_name(file: &str) -> std::borrow::Cow<'_, str> {
    if file.chars().any(char::is_control) {
        std::borrow::Cow::Owned(format!("{file:?}"))
    } else {
        std::borrow::Cow::Borrowed(file)
    }
}

/// The plan and patient, when they could be read.
fn identity(verdict: &Verdict) -> String {
    let mut parts = Vec::new();
    if let Some(plan) = &verdict.plan_id {
        parts.push(format!("plan {plan}"));
    }
    if let Some(patient) = &verdict.patient_id {
        parts.push(format!("patient {patient}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// `rule: message (observed 5 mg, limit 3 mg; at /path)`
///
/// The rules' messages already name the session (number and date) and the
/// artery, so the line does not repeat them.
fn finding_line(finding: &Finding) -> String {
    let mut line = finding.rule.clone();
    let _ = write!(line, ": {}", finding.message);
    let mut evidence = Vec::new();
    if let Some(observed) = &finding.observed {
        evidence.push(format!("observed {observed}"));
    }
    if let Some(limit) = &finding.limit {
        evidence.push(format!("limit {limit}"));
    }
    let location = if finding.path.is_empty() { "the whole file" } else { &finding.path };
    let evidence = if evidence.is_empty() {
        format!("at {location}")
    } else {
        format!("{}; at {location}", evidence.join(", "))
    };
    let _ = write!(line, " ({evidence})");
    line
}

/// `FAIL: 1 error, 0 warnings, 1 info; 15 rules checked (1 not applicable), rule set ID VERSION`
fn summary(verdict: &Verdict) -> String {
    let c = verdict.counts;
    let mut text = format!(
        "{}: {} {}, {} {}, {} {}",
        verdict.verdict.as_str(),
        c.errors,
        plural(c.errors, "error", "errors"),
        c.warnings,
        plural(c.warnings, "warning", "warnings"),
        c.infos,
        plural(c.infos, "info", "infos"),
    );
    if c.acknowledged > 0 {
        let _ = write!(text, " ({} acknowledged, not counted)", c.acknowledged);
    }
    if verdict.verdict == Outcome::Invalid {
        text.push_str("; the plan could not be read, so no rule was checked");
    } else {
        let count = |result| verdict.rules.iter().filter(|r| r.outcome == result).count();
        let ran = verdict.rules.len() - count(RuleResult::Disabled);
        let _ = write!(text, "; {ran} rules checked");
        let mut notes = Vec::new();
        let not_applicable = count(RuleResult::NotApplicable);
        if not_applicable > 0 {
            notes.push(format!("{not_applicable} not applicable"));
        }
        let disabled = count(RuleResult::Disabled);
        if disabled > 0 {
            notes.push(format!("{disabled} disabled"));
        }
        if !notes.is_empty() {
            let _ = write!(text, " ({})", notes.join(", "));
        }
    }
    let _ = write!(text, "; rule set {} {}", verdict.rule_set.id, verdict.rule_set.version);
    text
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// The closing line after several files: `3 plans: 1 pass, 1 fail, 1 invalid`.
pub fn render_totals(verdicts: &[Verdict], unreadable: usize) -> String {
    let count = |o| verdicts.iter().filter(|v| v.verdict == o).count();
    let mut text = format!(
        "{} {}: {} pass, {} fail, {} invalid",
        verdicts.len(),
        plural(verdicts.len(), "plan", "plans"),
        count(Outcome::Pass),
        count(Outcome::Fail),
        count(Outcome::Invalid),
    );
    if unreadable > 0 {
        let _ = write!(text, "; {unreadable} could not be read");
    }
    text
}

/// The rule set as text, for `embolint rules`: each rule with its
/// severity, limits and the protocol sentence it comes from.
pub fn render_rules(rules: &crate::rules::RuleSet) -> String {
    let mut out = format!("{} {} — {}\n", rules.id, rules.version, rules.title);
    let _ = writeln!(out, "source: {}", rules.source);
    let _ = writeln!(out, "rule file sha256: {}\n", rules.sha256);
    for rule in &rules.rules {
        let state = if rule.enabled { "" } else { " (disabled)" };
        let _ = writeln!(out, "{} [{}]{state}", rule.id, rule.severity.as_str());
        let may = if rule.acknowledgeable { "may" } else { "may not" };
        let _ = writeln!(out, "  a plan {may} acknowledge its findings");
        let _ = writeln!(out, "  {}", rule.description);
        let _ = writeln!(out, "  limits: {}", rule.parameters_summary());
        if let Some(citation) = &rule.citation {
            let _ = writeln!(out, "  protocol: “{citation}”");
        }
        if let Some(rationale) = &rule.rationale {
            let _ = writeln!(out, "  rationale: {rationale}");
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "synonyms:");
    for entry in &rules.synonyms {
        let _ = writeln!(out, "  {}: {}", entry.name, entry.synonyms.join(", "));
    }
    out
}

/// The rule set as a Markdown page for its users (`docs/rules.md` is this
/// page for the built-in rule set, and a test holds it to it).
pub fn render_rules_markdown(rules: &crate::rules::RuleSet) -> String {
    let cell = |text: &str| text.replace('|', "\\|").replace('\n', " ");
    let mut out = format!("# The rule set `{}` {}\n\n", rules.id, rules.version);
    let _ = writeln!(out, "{}.\n", rules.title);
    let _ = writeln!(out, "Source: {}\n", rules.source);
    out.push_str(
        "This page is generated from the rule file built into embolint \
         (`embolint rules --format markdown`); a site's own rule file may differ: \
         `embolint rules --rules FILE` lists it. Severity `error` makes the \
         verdict `fail`; `warning` and `info` do not. A plan may acknowledge the \
         findings of a rule marked \"yes\" under *acknowledgeable* (its \
         `acknowledgements`, each with a reason and who accepts it): they are \
         still listed, but no longer count.\n\n",
    );
    out.push_str(
        "| rule | severity | acknowledgeable | what it checks | limits |\n|---|---|---|---|---|\n",
    );
    for rule in &rules.rules {
        let severity = if rule.enabled { rule.severity.as_str() } else { "disabled" };
        let acknowledgeable = if rule.acknowledgeable { "yes" } else { "no" };
        let _ = writeln!(
            out,
            "| `{}` | {severity} | {acknowledgeable} | {} | {} |",
            rule.id,
            cell(&rule.description),
            cell(&rule.parameters_summary())
        );
    }
    out.push_str("\n## Where each rule comes from\n\n");
    for rule in &rules.rules {
        let _ = writeln!(out, "- `{}`:", rule.id);
        if let Some(citation) = &rule.citation {
            let _ = writeln!(out, "  the protocol: “{citation}”");
        }
        if let Some(rationale) = &rule.rationale {
            let _ = writeln!(out, "  {rationale}");
        }
    }
    out.push_str("\n## Names that mean the same\n\n");
    for entry in &rules.synonyms {
        let _ = writeln!(out, "- {}: {}", entry.name, entry.synonyms.join(", "));
    }
    out
}

/// A patient's recorded sessions as text, for `embolint history`.
pub fn render_history(patient_id: &str, sessions: &[crate::history::RecordedSession]) -> String {
    if sessions.is_empty() {
        return format!("patient {patient_id}: no recorded sessions\n");
    }
    let mut out = format!(
        "patient {patient_id}: {} recorded {}\n",
        sessions.len(),
        plural(sessions.len(), "session", "sessions")
    );
    for s in sessions {
        // A session the plan gave no number is known by its date alone.
        let number =
            s.number.map_or("a session without a number".to_string(), |n| format!("session {n}"));
        let listed = match &s.listed_by {
            Some(by) if by != &s.plan_id => format!(" (a prior session listed by plan {by})"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {}  {number} of plan {}{listed}, recorded {}",
            s.date, s.plan_id, s.recorded_at
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::RecordedSession;

    #[test]
    fn history_says_which_plan_listed_a_past_session_and_names_no_made_up_number() {
        let session = |plan: &str, listed_by: Option<&str>, number: Option<u64>, date: &str| {
            RecordedSession {
                patient_id: "PAT-1".into(),
                plan_id: plan.into(),
                listed_by: listed_by.map(str::to_string),
                number,
                index: 0,
                date: date.parse().unwrap(),
                recorded_at: "2026-12-05T10:00:00Z".parse().unwrap(),
            }
        };
        let text = render_history(
            "PAT-1",
            &[
                session("PLN-1", Some("PLN-2"), None, "2026-10-05"),
                session("PLN-2", None, Some(2), "2026-11-05"),
            ],
        );
        assert_eq!(
            text,
            "patient PAT-1: 2 recorded sessions\n\
             \x20 2026-10-05  a session without a number of plan PLN-1 (a prior session listed \
             by plan PLN-2), recorded 2026-12-05T10:00:00Z\n\
             \x20 2026-11-05  session 2 of plan PLN-2, recorded 2026-12-05T10:00:00Z\n"
        );
    }
}
