//! The verdict on one plan file (SPEC §3), as JSON for software and the
//! decision log, and as text for people.

use serde::{Deserialize, Serialize};

/// The verdict record's own format name, so readers can tell versions apart.
pub const VERDICT_FORMAT: &str = "embolint.verdict/1";

/// How much a finding matters. `error` makes the verdict `fail`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// The three verdicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// No error finding that counts.
    Pass,
    /// At least one error finding that is not acknowledged.
    Fail,
    /// Not a readable `embolint.plan/1` plan.
    Invalid,
}

impl Outcome {
    /// Every verdict.
    pub const ALL: [Outcome; 3] = [Outcome::Pass, Outcome::Fail, Outcome::Invalid];

    /// The verdict named `name` as records write it (`pass`, `fail`,
    /// `invalid`).
    pub fn named(name: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == name)
    }

    /// Every verdict's name, for messages: "pass, fail, invalid".
    pub fn names() -> String {
        Outcome::ALL.map(Outcome::as_str).join(", ")
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Invalid => "invalid",
        }
    }

    /// The outcome folder of the watched root (SPEC §4).
    pub fn folder(self) -> &'static str {
        match self {
            Outcome::Pass => "passed",
            Outcome::Fail => "failed",
            Outcome::Invalid => "invalid",
        }
    }
}

/// The session a finding is about, so people can find it without counting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRef {
    /// Position in the plan's `sessions` (from 0, as in the path).
    pub index: usize,
    /// The session's own `number`, when the plan gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    pub date: String,
}

/// One thing a rule found, with its evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule's id, or `plan-format` for an invalid plan.
    pub rule: String,
    pub severity: Severity,
    /// What is wrong and what to do, in a clinician's words.
    pub message: String,
    /// JSON Pointer into the plan (`""` for the whole file).
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionRef>,
    /// The artery's name as the plan writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artery: Option<String>,
    /// The value the plan has, with its unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
    /// The limit it was held against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    /// The protocol's sentence the rule comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citation: Option<String>,
    /// Set when an acknowledgement of the plan covers this finding and the
    /// rule may be acknowledged: the finding is still listed, but no longer
    /// counts towards the verdict and the counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<Acknowledged>,
}

/// Who accepted a finding, and why, as the plan's acknowledgement says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledged {
    /// Why the planners accept the finding.
    pub reason: String,
    /// Who accepts it.
    pub by: String,
}

impl Finding {
    /// A finding at `path`; the rule engine fills in the rule, severity and
    /// citation.
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            rule: String::new(),
            severity: Severity::Error,
            message: message.into(),
            path: path.into(),
            session: None,
            artery: None,
            observed: None,
            limit: None,
            citation: None,
            acknowledged: None,
        }
    }

    pub fn in_session(mut self, session: &crate::plan::Session) -> Finding {
        self.session = Some(SessionRef {
            index: session.index,
            number: session.number,
            date: session.date.to_string(),
        });
        self
    }

    pub fn in_artery(mut self, artery: &crate::plan::Artery) -> Finding {
        self.artery = Some(artery.name.to_string());
        self
    }

    /// (A `String` is moved in, not copied.)
    pub fn observed(mut self, observed: impl Into<String>) -> Finding {
        self.observed = Some(observed.into());
        self
    }

    pub fn limit(mut self, limit: impl Into<String>) -> Finding {
        self.limit = Some(limit.into());
        self
    }
}

/// What one rule concluded about the plan, listed for every rule in the set
/// so an auditor sees what was checked and not only what was found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleOutcome {
    pub id: String,
    pub kind: String,
    pub severity: Severity,
    pub outcome: RuleResult,
    /// How many findings it made, acknowledged ones included.
    pub findings: usize,
    /// How many of them an acknowledgement of the plan covers (they do not
    /// count); absent when none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub acknowledged: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleResult {
    /// Ran and found nothing.
    Pass,
    /// Ran and made findings (at the rule's severity).
    Findings,
    /// Does not apply to this plan (for example spinal mapping, for an iliac lesion).
    NotApplicable,
    /// Switched off in the rule file.
    Disabled,
}

/// Which rule set judged the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSetRef {
    pub id: String,
    pub version: String,
    /// sha256 of the rule file's bytes.
    pub sha256: String,
}

/// Which embolint judged the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckerRef {
    pub name: String,
    pub version: String,
    /// The git commit the checker was built from ("unknown" outside a
    /// checkout); absent in records written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// The git commit this binary was built from (see `build.rs`).
pub const COMMIT: &str = env!("EMBOLINT_COMMIT");

impl CheckerRef {
    pub fn this() -> CheckerRef {
        CheckerRef {
            name: "embolint".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            commit: Some(COMMIT.into()),
        }
    }
}

/// Finding counts by severity: the findings that count, that is those no
/// acknowledgement covers; and how many are covered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    /// Findings listed but not counted: an acknowledgement covers them.
    /// (Absent in records written before acknowledgements: none then.)
    #[serde(default)]
    pub acknowledged: usize,
}

impl Counts {
    /// Counts one more finding: by its severity, or as acknowledged.
    fn add(&mut self, finding: &Finding) {
        if finding.acknowledged.is_some() {
            self.acknowledged += 1;
            return;
        }
        match finding.severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
            Severity::Info => self.infos += 1,
        }
    }
}

/// The verdict on one plan file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Always [`VERDICT_FORMAT`].
    pub format: String,
    pub verdict: Outcome,
    /// The file as it was named to embolint.
    pub file: String,
    /// sha256 of the file's bytes, hex.
    pub sha256: String,
    #[serde(default)]
    pub plan_id: Option<String>,
    #[serde(default)]
    pub patient_id: Option<String>,
    pub counts: Counts,
    pub findings: Vec<Finding>,
    /// Every rule of the set, with its outcome; empty for an invalid plan,
    /// where no rule could run.
    pub rules: Vec<RuleOutcome>,
    pub rule_set: RuleSetRef,
    pub checker: CheckerRef,
    /// When the check ran (UTC).
    pub checked_at: jiff::Timestamp,
}

impl Verdict {
    /// Adds a finding found outside the rule set (for example against the
    /// history), updating the counts and the outcome.
    pub fn add_finding(&mut self, finding: Finding) {
        self.counts.add(&finding);
        let counts = finding.acknowledged.is_none();
        if counts && finding.severity == Severity::Error && self.verdict == Outcome::Pass {
            self.verdict = Outcome::Fail;
        }
        self.findings.push(finding);
    }

    /// Assembles a verdict from findings; the outcome follows from those
    /// that count (an acknowledged finding does not).
    pub fn new(
        file: String,
        sha256: String,
        findings: Vec<Finding>,
        rules: Vec<RuleOutcome>,
        rule_set: RuleSetRef,
        invalid: bool,
    ) -> Verdict {
        let mut counts = Counts::default();
        findings.iter().for_each(|finding| counts.add(finding));
        let verdict = if invalid {
            Outcome::Invalid
        } else if counts.errors > 0 {
            Outcome::Fail
        } else {
            Outcome::Pass
        };
        Verdict {
            format: VERDICT_FORMAT.into(),
            verdict,
            file,
            sha256,
            plan_id: None,
            patient_id: None,
            counts,
            findings,
            rules,
            rule_set,
            checker: CheckerRef::this(),
            checked_at: jiff::Timestamp::now(),
        }
    }
}
