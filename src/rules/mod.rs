//! The rule set: data (`rules/*.toml`) read into typed rules, and the
//! evaluation of a plan against them (SPEC §2).
//!
//! Thresholds, severities, synonyms and citations live in the rule file; what
//! each rule *kind* checks is code, one small type per kind:
//! - [`anatomy`]: `spinal-mapping-required`, `spinal-feeder-excluded`;
//! - [`dose`]: `artery-dose-max`, `session-dose-max`, `session-dose-min`,
//!   `unknown-drug`;
//! - [`embolic`]: `artery-count`, `particle-size-min`,
//!   `particle-size-protocol`, `embolic-agent`;
//! - [`schedule`]: `session-spacing`, `course-length`, `follow-up`;
//! - [`care`]: `sedation-dose-max`, `post-procedure-care`, `eligibility`;
//! - `sedation`: `sedation-protocol`;
//! - `revision`: `plan-revision`;
//! - [`acknowledgement`]: the rules `acknowledgement-refused` and
//!   `acknowledgement-unused`, and which findings a plan's acknowledgements
//!   cover (they run after every other rule).
//!
//! [`loader`] reads a rule file strictly; [`kind`] ties kind names to their
//! types. A plan is judged only after the rule set has resolved its names
//! ([`RuleSet::resolve`] gives a [`ResolvedPlan`], which only that set can
//! judge). Every rule yields a [`RuleOutcome`], passes included.

pub mod acknowledgement;
mod anatomy;
mod care;
mod context;
mod dose;
mod embolic;
mod kind;
mod loader;
mod params;
mod revision;
mod schedule;
mod sedation;
#[cfg(test)]
pub(crate) mod testing;
mod text;

use crate::names::Names;
use crate::plan::Plan;
use crate::verdict::{Finding, RuleOutcome, RuleResult, RuleSetRef, Severity};
use serde::ser::SerializeStruct;
use std::path::Path;

pub use context::{Context, PastSession, PatientHistory, RecordedVersion};
pub use kind::Check;

/// Most findings listed for one rule on one plan. A machine-made plan can
/// repeat one problem tens of thousands of times (25,000 sessions on one
/// day); past this many, one more finding of the same rule and severity says
/// how many were not listed, so the verdict stays readable and the decision
/// log line stays small. The outcome (pass, fail) never depends on the cap.
pub const MAX_FINDINGS_PER_RULE: usize = 100;

/// The shipped rule file, built into the binary.
pub const BUILTIN_RULES: &str = include_str!("../../rules/chiras-bone-chemoembolization.toml");

/// A rule file that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
#[error("rule file {origin}: {message}")]
pub struct RuleFileError {
    /// The file's path, or "built-in rules".
    pub origin: String,
    /// The line and column, when known, and the problem.
    pub message: String,
}

/// A canonical name and the other spellings that mean it, as the file gives
/// them; kept for listing (`embolint rules`).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Synonyms {
    /// The canonical name.
    pub name: String,
    /// Its other spellings.
    pub synonyms: Vec<String>,
}

/// A rule set read from a rule file: what judges a plan.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RuleSet {
    /// The set's id, written into every verdict.
    pub id: String,
    /// The set's version, written into every verdict.
    pub version: String,
    /// A one-line title for listings.
    pub title: String,
    /// Where the rules come from (the paper).
    pub source: String,
    /// sha256 of the rule file's bytes, so a verdict names the exact file.
    pub sha256: String,
    /// The synonym table used to compare names.
    #[serde(skip)]
    pub names: Names,
    /// The synonyms as written in the file, for listing.
    pub synonyms: Vec<Synonyms>,
    /// The rules, in file order (the order of outcomes in a verdict).
    pub rules: Vec<Rule>,
}

/// One rule of the set: a kind with its parameters, and how much it counts.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Unique within the set; the `rule` of its findings.
    pub id: String,
    /// The severity of every finding it makes.
    pub severity: Severity,
    /// `false` when the site switched the rule off.
    pub enabled: bool,
    /// What the rule is for, in one line.
    pub description: String,
    /// The protocol's sentence the rule comes from, quoted; every finding
    /// carries it. Every shipped rule has one; a site's own rule may give
    /// only a `rationale`.
    pub citation: Option<String>,
    /// Why a rule that is not the protocol's is there (`plan-revision`, or
    /// a site's own rule), besides or instead of a citation.
    pub rationale: Option<String>,
    /// Whether a plan's acknowledgement may accept its findings (they are
    /// then listed but do not count). By default a `warning` or `info` rule
    /// may be acknowledged and an `error` rule may not; the rules in
    /// [`acknowledgement::NEVER_ACKNOWLEDGEABLE`] never may.
    pub acknowledgeable: bool,
    /// What it checks, with its parameters.
    pub check: Check,
}

impl Rule {
    /// The kind's name, as the rule file writes it.
    pub fn kind(&self) -> &'static str {
        self.check.kind()
    }

    /// The parameters in one readable line, e.g. "arteries under 4 mm:
    /// pirarubicin 3 mg, carboplatin 50 mg; 4 mm or more: ...".
    pub fn parameters_summary(&self) -> String {
        self.check.summary()
    }

    /// Whether this rule judges the plan's acknowledgements, after every
    /// other rule, rather than the plan itself.
    fn judges_acknowledgements(&self) -> bool {
        matches!(self.check, Check::AcknowledgementRefused(_) | Check::AcknowledgementUnused(_))
    }

    /// Runs the rule on a plan: its outcome, and its findings stamped with
    /// the rule's id, severity and citation.
    fn run(&self, plan: &ResolvedPlan, context: &Context) -> (RuleOutcome, Vec<Finding>) {
        self.conclude(|| self.check.evaluate(plan, context))
    }

    /// The rule's outcome and stamped findings, from `evaluate` (`None`:
    /// the rule does not apply), which is not called when the rule is off.
    fn conclude(
        &self,
        evaluate: impl FnOnce() -> Option<Vec<Finding>>,
    ) -> (RuleOutcome, Vec<Finding>) {
        let outcome = |result, findings| RuleOutcome {
            id: self.id.clone(),
            kind: self.kind().to_string(),
            severity: self.severity,
            outcome: result,
            findings,
            acknowledged: 0,
        };
        if !self.enabled {
            return (outcome(RuleResult::Disabled, 0), Vec::new());
        }
        let Some(findings) = evaluate() else {
            return (outcome(RuleResult::NotApplicable, 0), Vec::new());
        };
        let found = findings.len();
        let mut findings: Vec<Finding> = findings.into_iter().take(MAX_FINDINGS_PER_RULE).collect();
        if found > MAX_FINDINGS_PER_RULE {
            findings.push(Finding::at(
                "",
                format!(
                    "{} more {} findings are not listed: the plan repeats the same problem; fix \
                     the ones above and check again.",
                    found - MAX_FINDINGS_PER_RULE,
                    self.id
                ),
            ));
        }
        let findings: Vec<Finding> = findings
            .into_iter()
            .map(|finding| Finding {
                rule: self.id.clone(),
                severity: self.severity,
                citation: self.citation.clone(),
                ..finding
            })
            .collect();
        let result = if findings.is_empty() { RuleResult::Pass } else { RuleResult::Findings };
        (outcome(result, findings.len()), findings)
    }
}

impl serde::Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut rule = serializer.serialize_struct("Rule", 10)?;
        rule.serialize_field("id", &self.id)?;
        rule.serialize_field("kind", self.kind())?;
        rule.serialize_field("severity", &self.severity)?;
        rule.serialize_field("enabled", &self.enabled)?;
        rule.serialize_field("acknowledgeable", &self.acknowledgeable)?;
        rule.serialize_field("description", &self.description)?;
        match &self.citation {
            Some(citation) => rule.serialize_field("citation", citation)?,
            None => rule.skip_field("citation")?,
        }
        match &self.rationale {
            Some(rationale) => rule.serialize_field("rationale", rationale)?,
            None => rule.skip_field("rationale")?,
        }
        rule.serialize_field("parameters", &self.check)?;
        rule.serialize_field("summary", &self.parameters_summary())?;
        rule.end()
    }
}

impl RuleSet {
    /// The shipped rule set. Fails only if the built-in file is broken, which
    /// a unit test rules out; callers still get an error rather than a panic.
    pub fn builtin() -> Result<RuleSet, RuleFileError> {
        RuleSet::from_toml(BUILTIN_RULES, "built-in rules")
    }

    /// Reads a site's rule file.
    pub fn load(path: &Path) -> Result<RuleSet, RuleFileError> {
        let origin = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| RuleFileError {
            origin: origin.clone(),
            message: format!("cannot be read: {e}"),
        })?;
        let text = String::from_utf8(bytes).map_err(|e| RuleFileError {
            origin: origin.clone(),
            message: format!("is not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        })?;
        RuleSet::from_toml(&text, &origin)
    }

    /// Reads a rule set from the text of a rule file; `origin` names the file
    /// in errors. Refuses anything it cannot read exactly, naming the line
    /// and column.
    pub fn from_toml(text: &str, origin: &str) -> Result<RuleSet, RuleFileError> {
        loader::read(text).map_err(|error| RuleFileError {
            origin: origin.to_string(),
            message: error.located(text),
        })
    }

    /// Which rule set this is, for the verdict.
    pub fn reference(&self) -> RuleSetRef {
        RuleSetRef {
            id: self.id.clone(),
            version: self.version.clone(),
            sha256: self.sha256.clone(),
        }
    }

    /// The rule with this id, if the set has one.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|rule| rule.id == id)
    }

    /// Whether a finding of this set can carry the rule id `id`: one of its
    /// rules, or `plan-format` (an invalid plan).
    pub fn knows_rule(&self, id: &str) -> bool {
        id == crate::check::PLAN_FORMAT_RULE || self.rule(id).is_some()
    }

    /// Resolves the plan's names through this set's synonyms: the one way
    /// to a plan this set can judge.
    ///
    /// # Example
    /// ```
    /// use embolint::plan::parse_plan;
    /// use embolint::rules::{Context, RuleSet};
    ///
    /// let rules = RuleSet::builtin().unwrap();
    /// let example = include_str!("../../tests/fixtures/public/spec-example.json");
    /// let text = example.replacen(r#""pirarubicin""#, r#""THP""#, 1);
    /// let plan = parse_plan(text.as_bytes(), &rules.names).unwrap();
    /// let drug = &plan.sessions[0].arteries[0].drugs[0].name;
    /// assert_eq!((drug.written.as_str(), drug.canonical.as_str()), ("THP", "thp"));
    ///
    /// let plan = rules.resolve(plan);
    /// let drug = &plan.sessions[0].arteries[0].drugs[0].name;
    /// assert_eq!(drug.canonical, "pirarubicin", "a synonym of the rule set");
    /// let (findings, outcomes) = plan.evaluate(&Context::default());
    /// assert_eq!(outcomes.len(), rules.rules.len());
    /// # let _ = findings;
    /// ```
    pub fn resolve(&self, mut plan: Plan) -> ResolvedPlan<'_> {
        plan.for_each_name(|name| {
            // `canonical` is the normalized spelling until now.
            match self.names.synonym_of(&name.canonical) {
                Some(target) if target != name.canonical => name.canonical = target.to_string(),
                _ => {}
            }
        });
        ResolvedPlan { plan, rules: self }
    }
}

/// A plan whose names the rule set `rules` has resolved: what that set,
/// and only that set, judges. Reads as the [`Plan`] it holds.
#[derive(Debug)]
pub struct ResolvedPlan<'r> {
    /// The plan, its names in the set's canonical forms.
    plan: Plan,
    /// The set that resolved them, and will judge it.
    rules: &'r RuleSet,
}

impl std::ops::Deref for ResolvedPlan<'_> {
    type Target = Plan;

    fn deref(&self) -> &Plan {
        &self.plan
    }
}

impl ResolvedPlan<'_> {
    /// Judges the plan with the rule set that resolved it: every finding,
    /// and one outcome per rule in file order.
    ///
    /// The plan's acknowledgements are applied to the findings of the other
    /// rules first (an acknowledged finding is kept, marked, and no longer
    /// counts); then the two rules on acknowledgements judge what became of
    /// each one.
    pub fn evaluate(&self, context: &Context) -> (Vec<Finding>, Vec<RuleOutcome>) {
        let rules = &self.rules.rules;
        let mut runs: Vec<Option<(RuleOutcome, Vec<Finding>)>> = rules
            .iter()
            .map(|rule| (!rule.judges_acknowledgements()).then(|| rule.run(self, context)))
            .collect();
        let findings = runs.iter_mut().flatten().flat_map(|(_, findings)| findings.iter_mut());
        let review = acknowledgement::apply(&self.plan.acknowledgements, self.rules, findings);
        for (run, rule) in runs.iter_mut().zip(rules) {
            if run.is_none() {
                *run = Some(rule.conclude(|| match rule.check {
                    Check::AcknowledgementRefused(_) => review.refused(),
                    _ => review.unused(),
                }));
            }
        }
        let mut all_findings = Vec::new();
        let mut outcomes = Vec::with_capacity(rules.len());
        for (mut outcome, findings) in runs.into_iter().flatten() {
            outcome.acknowledged = findings.iter().filter(|f| f.acknowledged.is_some()).count();
            outcomes.push(outcome);
            all_findings.extend(findings);
        }
        (all_findings, outcomes)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{evaluate_with, spec_example};
    use super::*;

    #[test]
    fn the_spec_example_passes_with_only_the_course_length_info() {
        let rules = RuleSet::builtin().unwrap();
        let (findings, outcomes) = evaluate_with(&rules, &spec_example(), None);
        let ids: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(ids, ["course-length"], "{findings:#?}");
        assert_eq!(findings[0].severity, Severity::Info);
        assert_eq!(outcomes.len(), rules.rules.len());
        for (outcome, rule) in outcomes.iter().zip(&rules.rules) {
            assert_eq!(outcome.id, rule.id, "outcomes follow file order");
        }
    }

    #[test]
    fn every_finding_carries_its_rule_severity_and_citation() {
        let rules = RuleSet::builtin().unwrap();
        let (findings, _) = evaluate_with(&rules, &spec_example(), None);
        let rule = rules.rule("course-length").unwrap();
        assert_eq!(findings[0].citation, rule.citation);
        assert!(rule.citation.is_some());
        assert_eq!(findings[0].severity, rule.severity);
    }

    #[test]
    fn a_disabled_rule_reports_disabled_and_finds_nothing() {
        let text = BUILTIN_RULES.replace(
            "id = \"course-length\"\nkind = \"course-length\"\nseverity = \"info\"\nenabled = true",
            "id = \"course-length\"\nkind = \"course-length\"\nseverity = \"info\"\nenabled = false",
        );
        assert_ne!(text, BUILTIN_RULES, "the replacement must hit");
        let rules = RuleSet::from_toml(&text, "site.toml").unwrap();
        let (findings, outcomes) = evaluate_with(&rules, &spec_example(), None);
        assert!(findings.is_empty(), "{findings:#?}");
        let outcome = outcomes.iter().find(|o| o.id == "course-length").unwrap();
        assert_eq!(outcome.outcome, RuleResult::Disabled);
        assert_eq!(outcome.findings, 0);
    }

    #[test]
    fn a_site_file_changing_a_severity_and_a_limit_changes_the_outcome() {
        // The spec example gives 3 mg of pirarubicin into small arteries.
        let text = BUILTIN_RULES
            .replace(
                "small_caps = { pirarubicin = \"3 mg\"",
                "small_caps = { pirarubicin = \"2.5 mg\"",
            )
            .replace(
                "id = \"artery-dose-max\"\nkind = \"artery-dose-max\"\nseverity = \"error\"",
                "id = \"artery-dose-max\"\nkind = \"artery-dose-max\"\nseverity = \"warning\"",
            );
        let rules = RuleSet::from_toml(&text, "site.toml").unwrap();
        let (findings, outcomes) = evaluate_with(&rules, &spec_example(), None);
        let overdoses: Vec<_> = findings.iter().filter(|f| f.rule == "artery-dose-max").collect();
        assert_eq!(overdoses.len(), 2, "{findings:#?}");
        assert!(overdoses.iter().all(|f| f.severity == Severity::Warning));
        assert!(overdoses[0].message.contains("2.5 mg cap"), "{}", overdoses[0].message);
        let outcome = outcomes.iter().find(|o| o.id == "artery-dose-max").unwrap();
        assert_eq!(outcome.outcome, RuleResult::Findings);
        assert_eq!(outcome.findings, 2);
    }

    #[test]
    fn a_site_may_add_a_second_rule_of_an_existing_kind() {
        let text = format!(
            "{BUILTIN_RULES}\n[[rules]]\nid = \"site-artery-count\"\nkind = \"artery-count\"\n\
             severity = \"info\"\ncitation = \"Site policy.\"\nmin = 4\nmax = 4\n"
        );
        let rules = RuleSet::from_toml(&text, "site.toml").unwrap();
        let (findings, outcomes) = evaluate_with(&rules, &spec_example(), None);
        let site: Vec<_> = findings.iter().filter(|f| f.rule == "site-artery-count").collect();
        assert_eq!(site.len(), 1, "three treated arteries is outside 4 to 4: {findings:#?}");
        assert_eq!(site[0].severity, Severity::Info);
        assert_eq!(outcomes.last().unwrap().id, "site-artery-count");
    }

    #[test]
    fn rules_serialize_with_kind_parameters_and_citation() {
        let rules = RuleSet::builtin().unwrap();
        let json = serde_json::to_value(rules.rule("artery-dose-max").unwrap()).unwrap();
        assert_eq!(json["kind"], "artery-dose-max");
        assert_eq!(json["severity"], "error");
        assert_eq!(json["enabled"], true);
        assert_eq!(json["parameters"]["small_caps"]["pirarubicin"], "3 mg");
        assert!(json["citation"].as_str().unwrap().starts_with("For small arteries"));
        assert!(json.get("rationale").is_none(), "a rule of the paper has no rationale");
        let revision = serde_json::to_value(rules.rule("plan-revision").unwrap()).unwrap();
        assert_eq!(revision["citation"], "Procedures were separated by a 1-month time period.");
        assert!(revision["rationale"].as_str().unwrap().contains("not the paper's"));
        let set = serde_json::to_value(&rules).unwrap();
        assert_eq!(set["rules"].as_array().unwrap().len(), rules.rules.len());
    }

    #[test]
    fn the_dose_cap_summary_reads_as_one_line() {
        let rules = RuleSet::builtin().unwrap();
        assert_eq!(
            rules.rule("artery-dose-max").unwrap().parameters_summary(),
            "arteries under 4 mm: pirarubicin 3 mg, carboplatin 50 mg; \
             4 mm or more: pirarubicin 10 mg, carboplatin 200 mg"
        );
    }
}

#[cfg(test)]
mod shipped {
    use super::*;

    /// The Materials and Methods text of the paper (see the file's header).
    const METHODS: &str = include_str!("../../tests/fixtures/protocol-methods.txt");

    /// SPEC §2's rules with their default severities.
    const SPEC_RULES: &[(&str, Severity)] = &[
        ("spinal-mapping-required", Severity::Error),
        ("spinal-feeder-excluded", Severity::Error),
        ("artery-dose-max", Severity::Error),
        ("session-dose-max", Severity::Error),
        ("session-dose-min", Severity::Warning),
        ("artery-count", Severity::Warning),
        ("session-spacing", Severity::Error),
        ("particle-size-min", Severity::Error),
        ("particle-size-protocol", Severity::Warning),
        ("embolic-agent", Severity::Warning),
        ("unknown-drug", Severity::Error),
        ("sedation-dose-max", Severity::Error),
        ("sedation-protocol", Severity::Error),
        ("post-procedure-care", Severity::Warning),
        ("follow-up", Severity::Warning),
        ("eligibility", Severity::Warning),
        ("course-length", Severity::Info),
        ("plan-revision", Severity::Error),
        ("acknowledgement-refused", Severity::Error),
        ("acknowledgement-unused", Severity::Warning),
    ];

    /// Text compared modulo layout: words hyphenated across a line break
    /// joined, hyphens dropped, whitespace folded.
    fn comparable(text: &str) -> String {
        let mut out = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '-' {
                let mut gap = String::new();
                while let Some(&w) = chars.peek().filter(|w| w.is_whitespace()) {
                    gap.push(w);
                    chars.next();
                }
                if !gap.contains('\n') {
                    out.push_str(&gap);
                }
                continue;
            }
            out.push(c);
        }
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn the_shipped_file_has_every_spec_rule_at_its_default_severity() {
        let rules = RuleSet::builtin().unwrap();
        assert_eq!(rules.id, "chiras-bone-chemoembolization");
        assert_eq!(rules.version, "2.1.0");
        let ids: Vec<&str> = rules.rules.iter().map(|r| r.id.as_str()).collect();
        for (id, severity) in SPEC_RULES {
            let rule = rules.rule(id).unwrap_or_else(|| panic!("no rule {id} in {ids:?}"));
            assert_eq!(rule.kind(), *id, "the shipped rule {id} is of its own kind");
            assert_eq!(rule.severity, *severity, "{id}");
            assert!(rule.enabled, "{id}");
            assert!(!rule.description.is_empty(), "{id}");
        }
        assert_eq!(rules.rules.len(), SPEC_RULES.len());
    }

    #[test]
    fn every_shipped_citation_is_quoted_verbatim_from_the_methods() {
        let methods = comparable(
            &METHODS.lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("\n"),
        );
        let rules = RuleSet::builtin().unwrap();
        for rule in &rules.rules {
            let citation = rule.citation.as_deref();
            let citation = citation.unwrap_or_else(|| panic!("{} has no citation", rule.id));
            if rule.rationale.is_some() {
                let own = ["plan-revision", "acknowledgement-refused", "acknowledgement-unused"];
                assert!(
                    own.contains(&rule.id.as_str()),
                    "only embolint's own rules have a rationale"
                );
                let rationale = rule.rationale.as_deref().unwrap_or_default();
                assert!(rationale.starts_with("embolint's own rule, not the paper's"));
            }
            // " … " separates sentences quoted from different places.
            for quote in citation.split('…') {
                assert!(
                    methods.contains(&comparable(quote)),
                    "the citation of {} is not in the paper: {quote}",
                    rule.id
                );
            }
        }
    }

    #[test]
    fn the_comparison_ignores_layout_but_not_words() {
        assert_eq!(
            comparable("car-\n\n boplatin and Boulogne-\nBillancourt"),
            "carboplatin and BoulogneBillancourt"
        );
        assert!(!comparable(METHODS).contains(&comparable("the dose was 4 mg of pirarubicine")));
    }

    #[test]
    fn the_shipped_synonyms_resolve() {
        let rules = RuleSet::builtin().unwrap();
        for (spelling, name) in [
            ("Pirarubicine", "pirarubicin"),
            ("THP", "pirarubicin"),
            ("theprubicine", "pirarubicin"),
            ("teprubicin", "pirarubicin"),
            ("Paraplatine", "carboplatin"),
            ("paraplatin", "carboplatin"),
            ("Polyvinyl  Alcohol", "PVA"),
            ("PVA foam", "PVA"),
            ("polyvinyl alcohol foam", "PVA"),
            ("PVA particles", "PVA"),
            ("polyvinyl alcohol particles", "PVA"),
            ("Ivalon", "PVA"),
            ("Rapifen", "alfentanil"),
            ("Alfenta", "alfentanil"),
            ("alfentanil chlorhydrate", "alfentanil"),
            ("alfentanil hydrochloride", "alfentanil"),
            ("Rivotril", "clonazepam"),
            ("midazolam hydrochloride", "midazolam"),
            ("Hypnovel", "midazolam"),
            ("Dormicum", "midazolam"),
            ("Versed", "midazolam"),
            ("granisetron chlorhydrate", "granisetron"),
            ("granisetron hydrochloride", "granisetron"),
            ("Kytril", "granisetron"),
            ("radiation therapy", "radiotherapy"),
            ("intravenous", "IV"),
        ] {
            assert!(rules.names.is(spelling, name), "{spelling} is {name}");
        }
    }
}
