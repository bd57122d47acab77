//! Rules about the patient's care around the procedure: sedation, care
//! after it, and who is eligible.

use super::kind::RuleKind;
use super::loader::LoadError;
use super::params::{is_one_of, required, rule_names, DoseLimits, Params, RuleName};
use super::text::{and_list, or_list, session_label};
use super::{Context, ResolvedPlan};
use crate::decimal::Decimal;
use crate::names::{Name, Names};
use crate::plan::{Amount, Dimension, Plan, Quantity, Sedative, SedativeDose, Session};
use crate::verdict::Finding;
use serde::{Deserialize, Serialize};

/// `sedation-dose-max`: "All procedures were performed under analgo-sedation
/// with alfentanil chlorhydrate 1–2 mg/h ..., a bolus of clonazepam 0.2 mg
/// ... or a bolus of midazolam 1–2 mg."
#[derive(Clone, Debug, Serialize)]
pub struct SedationDoseMax {
    /// Highest continuous rate per sedative.
    rate_limits: DoseLimits,
    /// Highest bolus per sedative.
    bolus_limits: DoseLimits,
}

/// The entries of one sedative in one form within a session, added up: two
/// boluses of 1.5 mg are 3 mg of that sedative (the safer reading).
struct SedationTotal<'a> {
    /// Canonical name of the sedative.
    sedative: &'a str,
    form: &'static str,
    limit: Quantity,
    /// µg or µg/h; `None` only on overflow, taken as above the limit.
    sum: Option<Decimal>,
    entries: Vec<(&'a Sedative, Quantity)>,
}

impl SedationTotal<'_> {
    fn amount(&self) -> String {
        match self.sum {
            Some(base) => Amount { base, dimension: self.limit.unit.dimension }.to_string(),
            None => "more than can be added up exactly".to_string(),
        }
    }

    fn describe(&self) -> String {
        match self.entries.as_slice() {
            [(_, one)] => one.to_string(),
            entries => {
                let parts: Vec<String> = entries.iter().map(|(_, q)| q.to_string()).collect();
                format!(
                    "{} in total ({} entries: {})",
                    self.amount(),
                    entries.len(),
                    parts.join(" + ")
                )
            }
        }
    }
}

impl SedationDoseMax {
    /// The checked sedatives of a session, grouped by sedative and form.
    fn totals<'a>(&self, session: &'a Session) -> Vec<SedationTotal<'a>> {
        let mut totals: Vec<SedationTotal> = Vec::new();
        for sedative in &session.sedation {
            let name = sedative.name.canonical.as_str();
            let (form, quantity, limits) = match sedative.dose {
                SedativeDose::Rate(q) => ("rate", q, &self.rate_limits),
                SedativeDose::Bolus(q) => ("bolus", q, &self.bolus_limits),
            };
            let Some(limit) = limits.get(name) else { continue };
            match totals.iter_mut().find(|t| t.sedative == name && t.form == form) {
                Some(total) => {
                    total.sum = total.sum.and_then(|s| s.checked_add(quantity.base));
                    total.entries.push((sedative, quantity));
                }
                None => totals.push(SedationTotal {
                    sedative: name,
                    form,
                    limit,
                    sum: Some(quantity.base),
                    entries: vec![(sedative, quantity)],
                }),
            }
        }
        totals
    }

    fn finding(session: &Session, total: &SedationTotal) -> Finding {
        let path = match total.entries.as_slice() {
            [(one, _)] => format!("{}/sedation/{}", session.pointer(), one.index),
            _ => format!("{}/sedation", session.pointer()),
        };
        let limit = total.limit;
        let message = format!(
            "{}: {} {} {} exceeds the {limit} maximum. Lower it to {limit} or less.",
            session_label(session),
            total.sedative,
            total.form,
            total.describe()
        );
        Finding::at(path, message)
            .in_session(session)
            .observed(format!("{} {} {}", total.sedative, total.form, total.amount()))
            .limit(format!("{} {} at most {limit}", total.sedative, total.form))
    }
}

impl RuleKind for SedationDoseMax {
    fn from_params(params: &mut Params, names: &Names) -> Result<Self, LoadError> {
        let rate_limits = DoseLimits::read(required!(params, rate_limits), Dimension::Rate, names)?;
        let bolus_limits =
            DoseLimits::read(required!(params, bolus_limits), Dimension::Mass, names)?;
        Ok(SedationDoseMax { rate_limits, bolus_limits })
    }

    fn evaluate(&self, plan: &ResolvedPlan, _context: &Context) -> Option<Vec<Finding>> {
        let mut findings = Vec::new();
        for session in &plan.sessions {
            for total in self.totals(session) {
                if total.sum.map_or(true, |sum| sum > total.limit.base) {
                    findings.push(Self::finding(session, &total));
                }
            }
        }
        Some(findings)
    }

    fn summary(&self) -> String {
        format!(
            "rate at most: {}; bolus at most: {}",
            self.rate_limits.summary(),
            self.bolus_limits.summary()
        )
    }
}

/// One item every session's `post_procedure` must include, as the rule file
/// writes it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RequiredCareEntry {
    /// How messages name it: "an IV corticosteroid".
    label: String,
    /// Any of these drugs will do.
    any_of: Vec<String>,
    /// The route it must be given by, when it matters.
    #[serde(default)]
    route: Option<String>,
}

/// A [`RequiredCareEntry`] checked and with its names resolved, ready to
/// compare with plans; listed as the rule file writes it.
#[derive(Clone, Debug, Serialize)]
struct CareItem {
    /// How messages name it: "an IV corticosteroid".
    label: String,
    /// Any of these drugs will do.
    any_of: Vec<RuleName>,
    /// The route it must be given by, when it matters.
    #[serde(skip_serializing_if = "Option::is_none")]
    route: Option<RuleName>,
}

/// `post-procedure-care`: "... intravenous administration of steroids (120
/// mg) associated with granisetron chlorhydrate 3 mg ... was given after each
/// procedure." Doses are not checked.
#[derive(Clone, Debug, Serialize)]
pub struct PostProcedureCare {
    /// What each session needs after the procedure.
    required: Vec<CareItem>,
}

impl PostProcedureCare {
    /// The finding for a session lacking `item`, or `None` if it has it.
    fn check(session: &Session, item: &CareItem) -> Option<Finding> {
        // The session's drugs that are one of the item's.
        let named =
            || session.post_procedure.iter().filter(|drug| is_one_of(&item.any_of, &drug.name));
        let by_route = |route: Option<&Name>| match (&item.route, route) {
            (None, _) => true,
            (Some(wanted), Some(given)) => wanted.matches(given),
            (Some(_), None) => false,
        };
        if named().any(|drug| by_route(drug.route.as_ref())) {
            return None;
        }
        let route = item.route.as_ref().map_or(String::new(), |r| format!(" by route {r}"));
        let wrong_route = match named().next() {
            Some(drug) => format!(
                " ({} is listed, but {})",
                drug.name,
                drug.route
                    .as_ref()
                    .map_or("with no route".to_string(), |r| format!("by route {r}"))
            ),
            None => String::new(),
        };
        // The label already names a single drug; "one of …" only for a choice.
        let choice = match item.any_of.as_slice() {
            [_] if route.is_empty() => String::new(),
            [only] => format!(": {only}{route}"),
            several => format!(": one of {}{route}", or_list(several)),
        };
        let message = format!(
            "{}: post_procedure lacks {}{choice}{wrong_route}. The protocol gives it after each \
             procedure; add it to the plan.",
            session_label(session),
            item.label,
        );
        let listed: Vec<&str> =
            session.post_procedure.iter().map(|d| d.name.written.as_str()).collect();
        Some(
            Finding::at(format!("{}/post_procedure", session.pointer()), message)
                .in_session(session)
                .observed(if listed.is_empty() { "nothing".into() } else { listed.join(", ") })
                .limit(format!("{}{route}", item.label)),
        )
    }
}

impl RuleKind for PostProcedureCare {
    fn from_params(params: &mut Params, names: &Names) -> Result<Self, LoadError> {
        let required = required!(params, required);
        let span = required.span();
        let required = required.into_inner();
        for item in &required {
            let blank = item.any_of.iter().any(|n| n.trim().is_empty())
                || item.route.as_ref().is_some_and(|r| r.trim().is_empty());
            if item.label.trim().is_empty() || item.any_of.is_empty() || blank {
                return Err(LoadError::at(
                    span,
                    format!("the item `{}` needs a label and a non-empty any_of list", item.label),
                ));
            }
        }
        let name = |written: String| RuleName::new(written, names);
        let required = required
            .into_iter()
            .map(|item| CareItem {
                label: item.label,
                any_of: item.any_of.into_iter().map(name).collect(),
                route: item.route.map(name),
            })
            .collect();
        Ok(PostProcedureCare { required })
    }

    fn evaluate(&self, plan: &ResolvedPlan, _context: &Context) -> Option<Vec<Finding>> {
        let findings = plan
            .sessions
            .iter()
            .flat_map(|s| self.required.iter().filter_map(move |i| Self::check(s, i)))
            .collect();
        Some(findings)
    }

    fn summary(&self) -> String {
        let items: Vec<String> = self.required.iter().map(|i| i.label.clone()).collect();
        format!("after each session: {}", and_list(&items))
    }
}

/// `eligibility`: patients were treated "after failure of all usual general
/// and/or local treatment, including surgery, chemotherapy and radiation
/// therapy", had "contraindications to percutaneous injection of acrylic
/// surgical cement", and the decision "was made by members of
/// multidisciplinary hospital staff".
#[derive(Clone, Debug, Serialize)]
pub struct Eligibility {
    /// Treatments `failed_treatments` must include.
    required_failed_treatments: Vec<RuleName>,
    /// Whether `cementoplasty_contraindicated: true` is required.
    require_cementoplasty_contraindicated: bool,
    /// Whether `mdt_decision: true` is required.
    require_mdt_decision: bool,
}

/// "false" or "not recorded", for a flag that is not true.
fn flag_text(flag: Option<bool>) -> &'static str {
    match flag {
        Some(true) => "true",
        Some(false) => "false",
        None => "not recorded",
    }
}

impl Eligibility {
    fn failed_treatment_findings(&self, plan: &Plan) -> Vec<Finding> {
        let recorded = plan.indication.failed_treatments.as_deref().unwrap_or_default();
        let observed = match &plan.indication.failed_treatments {
            None => "failed_treatments not recorded".to_string(),
            Some(list) => {
                let written: Vec<&str> = list.iter().map(|t| t.written.as_str()).collect();
                format!("failed_treatments: [{}]", written.join(", "))
            }
        };
        self.required_failed_treatments
            .iter()
            .filter(|needed| !recorded.iter().any(|t| needed.matches(t)))
            .map(|needed| {
                let message = format!(
                    "The indication does not record failed {needed} in failed_treatments. The \
                     protocol treats patients in whom {} have failed: record it, or confirm that \
                     this patient is eligible.",
                    and_list(&self.required_failed_treatments)
                );
                Finding::at("/indication/failed_treatments", message)
                    .observed(&observed)
                    .limit(format!("includes {needed}"))
            })
            .collect()
    }

    fn flag_finding(pointer: &str, flag: Option<bool>, what: &str) -> Option<Finding> {
        if flag == Some(true) {
            return None;
        }
        let field = pointer.rsplit('/').next().unwrap_or(pointer);
        let message = format!(
            "The indication does not record {what} ({field} is {}). Record it as true, or \
             confirm that this patient is eligible for the protocol.",
            flag_text(flag)
        );
        Some(Finding::at(pointer, message).observed(flag_text(flag)).limit("true"))
    }
}

impl RuleKind for Eligibility {
    fn from_params(params: &mut Params, names: &Names) -> Result<Self, LoadError> {
        let treatments = required!(params, required_failed_treatments);
        let required_failed_treatments = if treatments.get_ref().is_empty() {
            Vec::new()
        } else {
            rule_names(treatments, "failed treatments", names)?
        };
        Ok(Eligibility {
            required_failed_treatments,
            require_cementoplasty_contraindicated: required!(
                params,
                require_cementoplasty_contraindicated
            )
            .into_inner(),
            require_mdt_decision: required!(params, require_mdt_decision).into_inner(),
        })
    }

    fn evaluate(&self, plan: &ResolvedPlan, _context: &Context) -> Option<Vec<Finding>> {
        let indication = &plan.indication;
        let mut findings = self.failed_treatment_findings(plan);
        if self.require_cementoplasty_contraindicated {
            findings.extend(Self::flag_finding(
                "/indication/cementoplasty_contraindicated",
                indication.cementoplasty_contraindicated,
                "that percutaneous cementoplasty is contraindicated",
            ));
        }
        if self.require_mdt_decision {
            findings.extend(Self::flag_finding(
                "/indication/mdt_decision",
                indication.mdt_decision,
                "a multidisciplinary team decision",
            ));
        }
        Some(findings)
    }

    fn summary(&self) -> String {
        let mut parts = Vec::new();
        if !self.required_failed_treatments.is_empty() {
            parts.push(format!("failed {}", and_list(&self.required_failed_treatments)));
        }
        if self.require_cementoplasty_contraindicated {
            parts.push("cementoplasty contraindicated".to_string());
        }
        if self.require_mdt_decision {
            parts.push("multidisciplinary decision".to_string());
        }
        format!("indication records: {}", and_list(&parts))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::plan::{Plan, PostProcedureDrug};

    fn sedation_findings(entries: &[(&'static str, &str, bool)]) -> usize {
        findings_of("sedation-dose-max", &sedated(entries)).len()
    }

    #[test]
    fn alfentanil_up_to_2_mg_per_hour_passes_in_every_rate_unit() {
        for rate in ["2 mg/h", "2000 ug/h", "2000 µg/h", "2000 μg/h", "2000 mcg/h", "33 µg/min"]
        {
            assert_eq!(sedation_findings(&[("alfentanil", rate, true)]), 0, "{rate}");
        }
        for rate in ["2.001 mg/h", "2001 mcg/h", "0.034 mg/min", "34 ug/min", "34 μg/min"] {
            assert_eq!(sedation_findings(&[("alfentanil", rate, true)]), 1, "{rate}");
        }
        assert_eq!(sedation_findings(&[("Alfentanil chlorhydrate", "3 mg/h", true)]), 1);
    }

    #[test]
    fn boluses_are_capped_and_the_other_form_is_not_checked() {
        assert_eq!(sedation_findings(&[("clonazepam", "0.2 mg", false)]), 0);
        assert_eq!(sedation_findings(&[("clonazepam", "200 mcg", false)]), 0);
        assert_eq!(sedation_findings(&[("clonazepam", "201 ug", false)]), 1);
        assert_eq!(sedation_findings(&[("midazolam", "2 mg", false)]), 0);
        assert_eq!(sedation_findings(&[("midazolam", "0.0021 g", false)]), 1);
        assert_eq!(sedation_findings(&[("midazolam", "50 mg/h", true)]), 0);
        assert_eq!(sedation_findings(&[("alfentanil", "50 mg", false)]), 0);
        assert_eq!(sedation_findings(&[("propofol", "500 mg", false)]), 0);
    }

    #[test]
    fn several_boluses_of_one_sedative_in_a_session_are_summed() {
        let plan = sedated(&[("midazolam", "1.5 mg", false), ("Midazolam", "1.5 mg", false)]);
        let findings = findings_of("sedation-dose-max", &plan);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].message,
            "session 2 on 2026-11-05: midazolam bolus 3 mg in total (2 entries: 1.5 mg + 1.5 mg) \
             exceeds the 2 mg maximum. Lower it to 2 mg or less."
        );
        assert_eq!(findings[0].path, "/sessions/0/sedation");
        assert_eq!(
            sedation_findings(&[("midazolam", "1 mg", false), ("midazolam", "1 mg", false)]),
            0
        );
    }

    #[test]
    fn no_sedation_passes() {
        let plan = sedated(&[]);
        assert_eq!(outcome_of("sedation-dose-max", &plan), RuleResult::Pass);
    }

    fn after(entries: &[(&'static str, Option<&'static str>)]) -> Plan {
        let mut plan = spec_example();
        plan.sessions[0].post_procedure = entries
            .iter()
            .enumerate()
            .map(|(index, (written, route))| PostProcedureDrug {
                index,
                name: name(written),
                dose: q("120 mg"),
                route: route.map(name),
            })
            .collect();
        plan
    }

    #[test]
    fn an_iv_corticosteroid_and_granisetron_are_needed_after_each_session() {
        let plan = after(&[("Dexamethasone", Some("intravenous")), ("granisetron", None)]);
        assert!(findings_of("post-procedure-care", &plan).is_empty());
        let plan = after(&[("methylprednisolone", Some("IV"))]);
        let findings = findings_of("post-procedure-care", &plan);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].path, "/sessions/0/post_procedure");
        assert!(findings[0].message.contains("lacks granisetron (3 mg in the protocol)"));
        assert_eq!(findings_of("post-procedure-care", &after(&[])).len(), 2);
    }

    #[test]
    fn a_corticosteroid_by_another_route_does_not_count() {
        let plan = after(&[("methylprednisolone", Some("oral")), ("granisetron", None)]);
        let findings = findings_of("post-procedure-care", &plan);
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0]
                .message
                .contains("by route IV (methylprednisolone is listed, but by route oral)"),
            "{}",
            findings[0].message
        );
        let plan = after(&[("prednisolone", None), ("granisetron", None)]);
        assert!(findings_of("post-procedure-care", &plan)[0].message.contains("with no route"));
    }

    #[test]
    fn eligibility_needs_every_item_recorded() {
        assert!(findings_of("eligibility", &spec_example()).is_empty());
        let mut plan = spec_example();
        plan.indication.failed_treatments =
            Some(vec![name("Radiation therapy"), name("chemotherapy")]);
        assert!(findings_of("eligibility", &plan).is_empty(), "synonyms count");

        plan.indication.failed_treatments = Some(vec![name("chemotherapy")]);
        plan.indication.cementoplasty_contraindicated = Some(false);
        plan.indication.mdt_decision = None;
        let findings = findings_of("eligibility", &plan);
        let paths: Vec<&str> = findings.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/indication/failed_treatments",
                "/indication/cementoplasty_contraindicated",
                "/indication/mdt_decision"
            ]
        );
        assert!(findings[0].message.contains("does not record failed radiotherapy"));
        assert!(findings[1].message.contains("(cementoplasty_contraindicated is false)"));
        assert!(findings[2].message.contains("(mdt_decision is not recorded)"));

        plan.indication.failed_treatments = None;
        assert_eq!(findings_of("eligibility", &plan).len(), 4);
    }
}
