//! Acknowledgements (a plan's "we have seen this finding and accept it,
//! because ..."): which findings each covers, and the two rules that judge
//! the acknowledgements themselves.
//!
//! - `acknowledgement-refused`: an acknowledgement of a rule that may not be
//!   acknowledged (every `error` rule of the shipped set, `plan-format`, and
//!   these two rules) is refused, whether or not that rule fires; its
//!   findings keep counting.
//! - `acknowledgement-unused`: any other acknowledgement that covers no
//!   finding (the rule did not fire there, or no rule has that id): a stale
//!   acknowledgement must not wait silently to hide a future problem.
//!
//! They are embolint's own rules, not the paper's. They run after every
//! other rule ([`super::ResolvedPlan::evaluate`]), on what [`apply`] found.

use super::kind::RuleKind;
use super::loader::LoadError;
use super::params::Params;
use super::{Context, ResolvedPlan, RuleSet};
use crate::check::PLAN_FORMAT_RULE;
use crate::names::Names;
use crate::plan::{Acknowledgement, JsonPointer};
use crate::verdict::{Acknowledged, Finding};
use serde::Serialize;

/// The rule id (and kind) of the finding on a refused acknowledgement.
pub const REFUSED_RULE: &str = "acknowledgement-refused";
/// The rule id (and kind) of the finding on an acknowledgement that covers
/// nothing.
pub const UNUSED_RULE: &str = "acknowledgement-unused";

/// Rules whose findings may never be acknowledged, whatever a rule file
/// says: an unreadable plan cannot be accepted, and accepting the findings
/// on acknowledgements would let an acknowledgement vouch for itself.
pub const NEVER_ACKNOWLEDGEABLE: [&str; 3] = [PLAN_FORMAT_RULE, REFUSED_RULE, UNUSED_RULE];

/// `acknowledgement-refused`.
#[derive(Clone, Debug, Serialize)]
pub struct AcknowledgementRefused {}

/// `acknowledgement-unused`.
#[derive(Clone, Debug, Serialize)]
pub struct AcknowledgementUnused {}

impl RuleKind for AcknowledgementRefused {
    fn from_params(_params: &mut Params, _names: &Names) -> Result<Self, LoadError> {
        Ok(AcknowledgementRefused {})
    }

    /// Not judged with the other rules: see [`Review::refused`].
    fn evaluate(&self, _plan: &ResolvedPlan, _context: &Context) -> Option<Vec<Finding>> {
        None
    }

    fn summary(&self) -> String {
        "an acknowledgement of a rule that may not be acknowledged is refused".to_string()
    }
}

impl RuleKind for AcknowledgementUnused {
    fn from_params(_params: &mut Params, _names: &Names) -> Result<Self, LoadError> {
        Ok(AcknowledgementUnused {})
    }

    /// Not judged with the other rules: see [`Review::unused`].
    fn evaluate(&self, _plan: &ResolvedPlan, _context: &Context) -> Option<Vec<Finding>> {
        None
    }

    fn summary(&self) -> String {
        "an acknowledgement that covers no finding is reported".to_string()
    }
}

/// What became of each acknowledgement of a plan.
pub(super) struct Review {
    /// The plan has acknowledgements at all (else the two rules do not apply).
    any: bool,
    /// Findings on refused acknowledgements.
    refused: Vec<Finding>,
    /// Findings on acknowledgements that covered nothing.
    unused: Vec<Finding>,
}

impl Review {
    /// The findings of `acknowledgement-refused`; `None` when the plan has
    /// no acknowledgement.
    pub(super) fn refused(&self) -> Option<Vec<Finding>> {
        self.any.then(|| self.refused.clone())
    }

    /// The findings of `acknowledgement-unused`; `None` when the plan has
    /// no acknowledgement.
    pub(super) fn unused(&self) -> Option<Vec<Finding>> {
        self.any.then(|| self.unused.clone())
    }
}

/// Applies the plan's acknowledgements to the findings of the other rules:
/// each finding of an acknowledgeable rule that an acknowledgement covers
/// (the same rule id, exactly; at or under its `path`, segment by segment)
/// is marked acknowledged, by the first acknowledgement that covers it.
/// Returns what became of each acknowledgement.
pub(super) fn apply<'f>(
    acknowledgements: &[Acknowledgement],
    rules: &RuleSet,
    findings: impl IntoIterator<Item = &'f mut Finding>,
) -> Review {
    let mut findings: Vec<(Option<JsonPointer>, &mut Finding)> = findings
        .into_iter()
        .map(|finding| (JsonPointer::parse(&finding.path).ok(), finding))
        .collect();
    let mut review =
        Review { any: !acknowledgements.is_empty(), refused: Vec::new(), unused: Vec::new() };
    for acknowledgement in acknowledgements {
        let rule = rules.rule(&acknowledgement.rule);
        let never = NEVER_ACKNOWLEDGEABLE.contains(&acknowledgement.rule.as_str());
        if never || rule.is_some_and(|rule| !rule.acknowledgeable) {
            review.refused.push(refusal(acknowledgement, never));
            continue;
        }
        let mut covers_any = false;
        for (path, finding) in &mut findings {
            if covers(acknowledgement, finding, path.as_ref()) {
                covers_any = true;
                if finding.acknowledged.is_none() {
                    finding.acknowledged = Some(Acknowledged {
                        reason: acknowledgement.reason.clone(),
                        by: acknowledgement.by.clone(),
                    });
                }
            }
        }
        if !covers_any {
            let enabled = rule.map(|rule| rule.enabled);
            review.unused.push(unused(acknowledgement, enabled, rules));
        }
    }
    review
}

/// Whether `acknowledgement` covers `finding`, whose path reads as `path`
/// (`None`: not a pointer, which no acknowledgement with a path covers).
fn covers(
    acknowledgement: &Acknowledgement,
    finding: &Finding,
    path: Option<&JsonPointer>,
) -> bool {
    finding.rule == acknowledgement.rule
        && match (&acknowledgement.path, path) {
            (None, _) => true,
            (Some(scope), Some(path)) => scope.covers(path),
            (Some(_), None) => false,
        }
}

/// "the acknowledgement of rule `x` by NAME (at /sessions/0)"
fn named(acknowledgement: &Acknowledgement) -> String {
    match &acknowledgement.path {
        Some(path) => format!(
            "the acknowledgement of rule `{}` at {path} by {}",
            acknowledgement.rule, acknowledgement.by
        ),
        None => format!(
            "the acknowledgement of rule `{}` by {}",
            acknowledgement.rule, acknowledgement.by
        ),
    }
}

fn refusal(acknowledgement: &Acknowledgement, never: bool) -> Finding {
    let why = if never {
        "findings of this rule can never be acknowledged"
    } else {
        "this rule may not be acknowledged in this rule set; what it finds must be corrected in \
         the plan, not accepted"
    };
    let message = format!(
        "{} is refused: {why}. Its findings still count. Correct the plan, or remove the \
         acknowledgement.",
        named(acknowledgement)
    );
    Finding::at(acknowledgement.pointer(), message)
        .observed(format!("an acknowledgement of rule {}", acknowledgement.rule))
        .limit("only rules marked acknowledgeable may be acknowledged")
}

/// `enabled`: whether the rule is switched on, `None` when the set has no
/// rule with that id.
fn unused(acknowledgement: &Acknowledgement, enabled: Option<bool>, rules: &RuleSet) -> Finding {
    let rule = &acknowledgement.rule;
    let why = match (enabled, &acknowledgement.path) {
        (None, _) => format!(
            "rule set {} {} has no rule `{rule}` (rule ids are compared exactly as written)",
            rules.id, rules.version
        ),
        (Some(false), _) => format!("rule `{rule}` is switched off in this rule set"),
        (Some(true), Some(path)) => format!("rule `{rule}` found nothing at or under {path}"),
        (Some(true), None) => format!("rule `{rule}` found nothing in this plan"),
    };
    let message = format!(
        "{} covers no finding: {why}. Remove it, so that it cannot hide a future problem.",
        named(acknowledgement)
    );
    Finding::at(acknowledgement.pointer(), message)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{evaluate_with, spec_example};
    use super::super::RuleSet;
    use crate::plan::{Acknowledgement, JsonPointer};

    fn ack(index: usize, rule: &str, path: Option<&str>, by: &str) -> Acknowledgement {
        Acknowledgement {
            index,
            rule: rule.into(),
            path: path.map(|p| JsonPointer::parse(p).unwrap()),
            reason: format!("reason {index}"),
            by: by.into(),
        }
    }

    #[test]
    fn the_first_of_two_acknowledgements_covering_a_finding_names_it_and_both_are_used() {
        let rules = RuleSet::builtin().unwrap();
        let mut plan = spec_example();
        plan.acknowledgements = vec![
            ack(0, "course-length", Some("/sessions"), "A"),
            ack(1, "course-length", None, "B"),
        ];
        let (findings, outcomes) = evaluate_with(&rules, &plan, None);
        let ids: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(ids, ["course-length"], "no unused warning: {findings:#?}");
        assert_eq!(findings[0].acknowledged.as_ref().unwrap().by, "A");
        let refused = outcomes.iter().find(|o| o.id == "acknowledgement-refused").unwrap();
        assert_eq!(refused.outcome, crate::verdict::RuleResult::Pass);
    }

    #[test]
    fn without_acknowledgements_the_two_rules_do_not_apply() {
        let rules = RuleSet::builtin().unwrap();
        let (_, outcomes) = evaluate_with(&rules, &spec_example(), None);
        for id in ["acknowledgement-refused", "acknowledgement-unused"] {
            let outcome = outcomes.iter().find(|o| o.id == id).unwrap();
            assert_eq!(outcome.outcome, crate::verdict::RuleResult::NotApplicable, "{id}");
        }
    }

    #[test]
    fn a_refused_acknowledgement_marks_nothing_and_an_unused_one_names_the_switched_off_rule() {
        let text = super::super::BUILTIN_RULES.replacen(
            "id = \"follow-up\"\nkind = \"follow-up\"\nseverity = \"warning\"\nenabled = true",
            "id = \"follow-up\"\nkind = \"follow-up\"\nseverity = \"warning\"\nenabled = false",
            1,
        );
        let rules = RuleSet::from_toml(&text, "site.toml").unwrap();
        let mut plan = spec_example();
        plan.sessions[0].arteries[0].drugs[0].dose = plan.sessions[0].arteries[2].drugs[0].dose;
        plan.acknowledgements =
            vec![ack(0, "artery-dose-max", None, "A"), ack(1, "follow-up", None, "B")];
        let (findings, _) = evaluate_with(&rules, &plan, None);
        let overdose = findings.iter().find(|f| f.rule == "artery-dose-max").unwrap();
        assert!(overdose.acknowledged.is_none());
        let unused = findings.iter().find(|f| f.rule == "acknowledgement-unused").unwrap();
        assert_eq!(unused.path, "/acknowledgements/1");
        assert!(unused.message.contains("rule `follow-up` is switched off"), "{}", unused.message);
        let refused = findings.iter().find(|f| f.rule == "acknowledgement-refused").unwrap();
        assert_eq!(refused.path, "/acknowledgements/0");
    }
}
