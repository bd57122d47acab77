//! JUnit XML: one test suite per plan file, one test case per rule that
//! ran. An error finding that no acknowledgement covers is a failure, an
//! invalid plan an error, a rule that did not apply or was disabled is
//! skipped; warnings and infos are
//! listed in the test case's output (acknowledged findings too, with who
//! accepted them and why), since JUnit has no word for them.

use super::with_evidence;
use crate::verdict::{Finding, Outcome, RuleResult, Severity, Verdict};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

/// The JUnit report of every verdict of one run.
pub fn render(verdicts: &[Verdict]) -> Result<String, quick_junit::SerializeError> {
    let mut report = Report::new("embolint");
    for verdict in verdicts {
        report.add_test_suite(suite(verdict));
    }
    report.to_string()
}

/// One plan's suite.
fn suite(verdict: &Verdict) -> TestSuite {
    let mut suite = TestSuite::new(verdict.file.as_str());
    let mut covered: Vec<&str> = Vec::new();
    for rule in &verdict.rules {
        covered.push(&rule.id);
        let findings = findings_of(verdict, &rule.id);
        let status = match rule.outcome {
            RuleResult::NotApplicable | RuleResult::Disabled => TestCaseStatus::skipped(),
            _ => status_of(&findings, NonSuccessKind::Failure),
        };
        suite.add_test_case(case(verdict, &rule.id, status, &findings));
    }
    // Findings of no listed rule: every problem of an invalid plan, and any
    // finding made outside the rule list.
    let mut others: Vec<&str> = Vec::new();
    for finding in &verdict.findings {
        let id = finding.rule.as_str();
        if !covered.contains(&id) && !others.contains(&id) {
            others.push(id);
        }
    }
    for id in others {
        let findings = findings_of(verdict, id);
        let kind = if verdict.verdict == Outcome::Invalid {
            NonSuccessKind::Error
        } else {
            NonSuccessKind::Failure
        };
        suite.add_test_case(case(verdict, id, status_of(&findings, kind), &findings));
    }
    suite
}

fn findings_of<'a>(verdict: &'a Verdict, rule: &str) -> Vec<&'a Finding> {
    verdict.findings.iter().filter(|f| f.rule == rule).collect()
}

/// An error finding that no acknowledgement covers: what fails a case.
fn counted_error(finding: &Finding) -> bool {
    finding.severity == Severity::Error && finding.acknowledged.is_none()
}

/// Failed (or in error) when one of the findings is an error that counts.
fn status_of(findings: &[&Finding], kind: NonSuccessKind) -> TestCaseStatus {
    let errors: Vec<&&Finding> = findings.iter().filter(|f| counted_error(f)).collect();
    let Some(first) = errors.first() else {
        return TestCaseStatus::success();
    };
    let mut status = TestCaseStatus::non_success(kind);
    status.set_message(first.message.as_str());
    status.set_type(first.rule.as_str());
    let all: Vec<String> = errors.iter().map(|f| with_evidence(f)).collect();
    status.set_description(all.join("\n"));
    status
}

fn case(verdict: &Verdict, rule: &str, status: TestCaseStatus, findings: &[&Finding]) -> TestCase {
    let mut case = TestCase::new(rule, status);
    case.set_classname(verdict.file.as_str());
    let others: Vec<String> = findings
        .iter()
        .filter(|f| !counted_error(f))
        .map(|f| match &f.acknowledged {
            Some(accepted) => format!(
                "{} (acknowledged by {}: {}): {}",
                f.severity.as_str(),
                accepted.by,
                accepted.reason,
                with_evidence(f)
            ),
            None => format!("{}: {}", f.severity.as_str(), with_evidence(f)),
        })
        .collect();
    if !others.is_empty() {
        case.set_system_out(others.join("\n"));
    }
    case
}
