//! Reading a rule file (TOML) into a [`RuleSet`], refusing anything that is
//! not exactly right, with the line and column of the problem.

use super::acknowledgement::{NEVER_ACKNOWLEDGEABLE, REFUSED_RULE, UNUSED_RULE};
use super::kind::{Check, KIND_NAMES};
use super::params::{required, Params, Table};
use super::{Rule, RuleSet, Synonyms};
use crate::names::Names;
use crate::verdict::Severity;
use serde::Deserialize;
use std::collections::HashMap;
use std::ops::Range;
use toml::Spanned;

/// A problem in a rule file, with where it is (a byte range of the text).
#[derive(Debug)]
pub(super) struct LoadError {
    span: Option<Range<usize>>,
    message: String,
}

impl LoadError {
    /// A problem at `span`.
    pub(super) fn at(span: Range<usize>, message: impl Into<String>) -> LoadError {
        LoadError { span: Some(span), message: message.into() }
    }

    /// "line 42, column 3: ..." (or the message alone when the place is
    /// unknown).
    pub(super) fn located(&self, text: &str) -> String {
        match self.span.as_ref().and_then(|span| line_and_column(text, span.start)) {
            Some((line, column)) => format!("line {line}, column {column}: {}", self.message),
            None => self.message.clone(),
        }
    }
}

/// The 1-based line and column (in characters) of a byte offset.
fn line_and_column(text: &str, offset: usize) -> Option<(usize, usize)> {
    let before = text.get(..offset)?;
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let column = before.get(line_start..)?.chars().count() + 1;
    Some((line, column))
}

/// The top level of a rule file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    id: Spanned<String>,
    version: Spanned<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    source: String,
    names: Option<Spanned<Table<Vec<String>>>>,
    #[serde(default)]
    rules: Vec<Spanned<Params>>,
}

/// Reads and checks a whole rule file.
pub(super) fn read(text: &str) -> Result<RuleSet, LoadError> {
    let file: RuleFile = toml::from_str(text).map_err(toml_error)?;
    let id = non_blank(&file.id, "the rule set's `id`")?;
    let version = non_blank(&file.version, "the rule set's `version`")?;
    let (names, synonyms) = read_names(file.names)?;
    if file.rules.is_empty() {
        return Err(LoadError {
            span: None,
            message: "the file has no [[rules]]; a rule set without rules would pass every plan"
                .into(),
        });
    }
    let mut rules: Vec<Rule> = Vec::with_capacity(file.rules.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for entry in file.rules {
        let span = entry.span();
        let (rule, id_span) = read_rule(entry.into_inner(), span, &names)?;
        if let Some(first) = seen.get(&rule.id) {
            let first_line = line_and_column(text, *first).map_or(0, |(line, _)| line);
            return Err(LoadError::at(
                id_span,
                format!(
                    "the rule id `{}` is used twice (first at line {first_line}); give each rule its own id",
                    rule.id
                ),
            ));
        }
        seen.insert(rule.id.clone(), id_span.start);
        rules.push(rule);
    }
    add_rules_added_later(&mut rules)?;
    Ok(RuleSet {
        id,
        version,
        title: file.title,
        source: file.source,
        sha256: crate::digest::sha256_hex(text.as_bytes()),
        names,
        synonyms,
        rules,
    })
}

/// Reads one `[[rules]]` entry: the common keys, then the kind's own.
fn read_rule(
    mut params: Params,
    span: Range<usize>,
    names: &Names,
) -> Result<(Rule, Range<usize>), LoadError> {
    params.rule_span = span.clone();
    let id = params.id.take().ok_or_else(|| LoadError::at(span.clone(), "a rule has no `id`"))?;
    let id_span = id.span();
    let id_text = non_blank(&id, "a rule's `id`")?;
    if id_text.chars().any(char::is_whitespace) {
        return Err(LoadError::at(
            id_span,
            format!("the rule id `{id_text}` has a space; write ids like `artery-dose-max`"),
        ));
    }
    params.rule_id = id_text.clone();
    let kind = params.kind.take().ok_or_else(|| {
        LoadError::at(
            span.clone(),
            format!("rule `{id_text}` has no `kind`; the kinds are {}", KIND_NAMES.join(", ")),
        )
    })?;
    params.rule_kind = kind.get_ref().clone();
    let severity = read_severity(required!(params, severity))?;
    let enabled = params.enabled.take().map_or(true, Spanned::into_inner);
    let description = params.description.take().map(Spanned::into_inner).unwrap_or_default();
    let (citation, rationale) = match (params.citation.take(), params.rationale.take()) {
        (Some(citation), None) => {
            (Some(non_blank(&citation, &format!("the citation of rule `{id_text}`"))?), None)
        }
        (None, Some(rationale)) => {
            (None, Some(non_blank(&rationale, &format!("the rationale of rule `{id_text}`"))?))
        }
        // A rule of embolint's own may quote the sentence it protects and
        // say why it is there.
        (Some(citation), Some(rationale)) => (
            Some(non_blank(&citation, &format!("the citation of rule `{id_text}`"))?),
            Some(non_blank(&rationale, &format!("the rationale of rule `{id_text}`"))?),
        ),
        (None, None) => {
            return Err(LoadError::at(
                span.clone(),
                format!(
                    "rule `{id_text}` has no `citation`; quote the protocol's sentence it comes \
                     from (or, for a rule that is not the protocol's, give its `rationale`)"
                ),
            ));
        }
    };
    let check = match Check::from_params(kind.get_ref(), &mut params, names) {
        Some(check) => check?,
        None => return Err(unknown_kind(&kind)),
    };
    let written = params.acknowledgeable.take();
    let acknowledgeable = read_acknowledgeable(written, &id_text, &check, severity)?;
    if let Some((key, key_span)) = params.present().into_iter().next() {
        return Err(LoadError::at(
            key_span,
            format!(
                "`{key}` is not a parameter of kind `{}` (rule `{id_text}`); remove it",
                kind.get_ref()
            ),
        ));
    }
    let rule = Rule {
        id: id_text,
        severity,
        enabled,
        description,
        citation,
        rationale,
        acknowledgeable,
        check,
    };
    Ok((rule, id_span))
}

/// Rules added to the set after sites began writing their own rule files,
/// each with the kind of rule it follows in the shipped file (or `None`: it
/// goes last). A site file written before one of them gets the shipped
/// file's entry — embolint applied `plan-revision` to every plan whatever
/// the file, and `sedation-protocol` is the protocol's regimen — so an older
/// file is never read as switching them off. To change such a rule's
/// severity or switch it off, a site writes the entry into its own file.
/// The two rules on acknowledgements are added for the same reason: without
/// them a stale or refused acknowledgement would pass unremarked.
const ADDED_LATER: &[(&str, Option<&str>)] = &[
    ("sedation-protocol", Some("sedation-dose-max")),
    ("plan-revision", None),
    (REFUSED_RULE, None),
    (UNUSED_RULE, None),
];

/// Whether a rule may be acknowledged: as its entry says, or by its
/// severity when the entry does not say (a file written before
/// acknowledgements: `warning` and `info` may be, `error` may not). The
/// rules on acknowledgements must keep their ids, and none of
/// [`NEVER_ACKNOWLEDGEABLE`] may be marked acknowledgeable.
fn read_acknowledgeable(
    written: Option<Spanned<bool>>,
    id: &str,
    check: &Check,
    severity: Severity,
) -> Result<bool, LoadError> {
    let kind = check.kind();
    if [REFUSED_RULE, UNUSED_RULE].contains(&kind) && id != kind {
        return Err(LoadError {
            span: None,
            message: format!(
                "the rule of kind `{kind}` must have the id `{kind}` (found `{id}`): planners \
                 and their software know its findings by that id"
            ),
        });
    }
    match written {
        Some(value) if *value.get_ref() && NEVER_ACKNOWLEDGEABLE.contains(&id) => {
            Err(LoadError::at(
                value.span(),
                format!(
                    "rule `{id}` can never be acknowledged: a finding about the acknowledgements \
                     themselves cannot be accepted by one; write `acknowledgeable = false` or \
                     leave the key out"
                ),
            ))
        }
        Some(value) => Ok(value.into_inner()),
        None => Ok(!NEVER_ACKNOWLEDGEABLE.contains(&id) && severity != Severity::Error),
    }
}

/// Adds the shipped entry of each rule of [`ADDED_LATER`] the file lacks.
fn add_rules_added_later(rules: &mut Vec<Rule>) -> Result<(), LoadError> {
    let mut shipped: Option<Vec<Rule>> = None;
    for (kind, after) in ADDED_LATER {
        if rules.iter().any(|rule| rule.kind() == *kind) {
            continue;
        }
        if rules.iter().any(|rule| rule.id == *kind) {
            return Err(LoadError {
                span: None,
                message: format!(
                    "the rule id `{kind}` is given to a rule of another kind; it names \
                     embolint's rule of kind `{kind}`: give that rule another id"
                ),
            });
        }
        if shipped.is_none() {
            // The shipped file has every entry, so this reads it without
            // adding anything.
            shipped = Some(read(super::BUILTIN_RULES)?.rules);
        }
        let entry = shipped.iter().flatten().find(|rule| rule.kind() == *kind).cloned();
        let Some(entry) = entry else { continue };
        let position = after
            .and_then(|after| rules.iter().rposition(|rule| rule.kind() == after))
            .map_or(rules.len(), |i| i + 1);
        rules.insert(position, entry);
    }
    Ok(())
}

fn read_severity(text: Spanned<String>) -> Result<Severity, LoadError> {
    match text.get_ref().as_str() {
        "error" => Ok(Severity::Error),
        "warning" => Ok(Severity::Warning),
        "info" => Ok(Severity::Info),
        other => Err(LoadError::at(
            text.span(),
            format!("severity `{other}` is not one of error, warning, info"),
        )),
    }
}

fn unknown_kind(kind: &Spanned<String>) -> LoadError {
    let mut message = format!("unknown kind `{}`", kind.get_ref());
    if let Some(near) = nearest(kind.get_ref(), KIND_NAMES) {
        message.push_str(&format!(" (did you mean `{near}`?)"));
    }
    message.push_str(&format!("; the kinds are {}", KIND_NAMES.join(", ")));
    LoadError::at(kind.span(), message)
}

/// The `[names]` table: the synonym table, and the same as listed.
fn read_names(
    table: Option<Spanned<Table<Vec<String>>>>,
) -> Result<(Names, Vec<Synonyms>), LoadError> {
    let Some(table) = table else {
        return Ok((Names::default(), Vec::new()));
    };
    let span = table.span();
    let listed: Vec<Synonyms> = table
        .into_inner()
        .0
        .into_iter()
        .map(|(name, synonyms)| Synonyms { name, synonyms })
        .collect();
    let blank = listed
        .iter()
        .any(|s| s.name.trim().is_empty() || s.synonyms.iter().any(|x| x.trim().is_empty()));
    if blank {
        return Err(LoadError::at(span, "[names] has an empty name or synonym"));
    }
    let names = Names::new(listed.iter().map(|s| (s.name.as_str(), s.synonyms.as_slice())))
        .map_err(|e| LoadError::at(span, format!("in [names], {e}")))?;
    Ok((names, listed))
}

fn non_blank(text: &Spanned<String>, what: &str) -> Result<String, LoadError> {
    let value = text.get_ref().trim();
    if value.is_empty() {
        return Err(LoadError::at(text.span(), format!("{what} is empty")));
    }
    Ok(value.to_string())
}

/// A TOML or type error, its message made readable for a rule-file editor.
fn toml_error(error: toml::de::Error) -> LoadError {
    let lines: Vec<&str> =
        error.message().lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let mut message = lines.join("; ");
    if let Some(field) = unknown_field(&message) {
        // serde lists every key any kind takes; a suggestion helps more.
        let mut better = format!("unknown key `{field}`");
        if let Some(near) = nearest(&field, Params::KEYS) {
            better.push_str(&format!(" (did you mean `{near}`?)"));
        }
        if message.matches('`').count() > 20 {
            message = format!("{better}; a rule has id, kind, severity, enabled, acknowledgeable, description, citation and its kind's parameters");
        } else {
            message =
                format!("{better}; {}", message.split_once(", ").map_or("", |(_, rest)| rest));
        }
    }
    LoadError { span: error.span(), message }
}

/// The field name of serde's "unknown field `x`, expected ..." message.
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest.split_once('`')?.0.to_string())
}

/// The known word closest to a misspelling, if one is close.
fn nearest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(word, k), *k))
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::super::{RuleSet, BUILTIN_RULES};
    use crate::verdict::Severity;

    /// The shipped file with `old` replaced by `new` within rule `rule`'s entry.
    fn edit(rule: &str, old: &str, new: &str) -> String {
        let start = BUILTIN_RULES.find(&format!("id = \"{rule}\"")).unwrap();
        let at = start + BUILTIN_RULES[start..].find(old).unwrap();
        format!("{}{new}{}", &BUILTIN_RULES[..at], &BUILTIN_RULES[at + old.len()..])
    }

    fn error_of(text: &str) -> String {
        RuleSet::from_toml(text, "rules/site.toml").unwrap_err().to_string()
    }

    /// The 1-based line of the first `needle` after `after` in `text`.
    fn line_of(text: &str, after: &str, needle: &str) -> usize {
        let start = text.find(after).unwrap();
        let at = start + text[start..].find(needle).unwrap();
        text[..at].matches('\n').count() + 1
    }

    #[test]
    fn a_misspelt_key_is_refused_with_its_line_column_and_a_suggestion() {
        let text = edit("session-dose-max", "severity", "serverity");
        let line = line_of(&text, "id = \"session-dose-max\"", "serverity");
        let error = error_of(&text);
        assert!(
            error.starts_with(&format!(
                "rule file rules/site.toml: line {line}, column 1: unknown key `serverity` \
                 (did you mean `severity`?)"
            )),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_kind_is_refused() {
        let text = edit("artery-count", "kind = \"artery-count\"", "kind = \"artery-counts\"");
        let line = line_of(&text, "id = \"artery-count\"", "artery-counts");
        let error = error_of(&text);
        assert!(
            error.contains(&format!("line {line}, column 8: unknown kind `artery-counts`")),
            "{error}"
        );
        assert!(error.contains("did you mean `artery-count`?"), "{error}");
    }

    #[test]
    fn duplicate_rule_ids_are_refused() {
        let text =
            edit("session-dose-min", "id = \"session-dose-min\"", "id = \"session-dose-max\"");
        let first = line_of(&text, "", "id = \"session-dose-max\"");
        let error = error_of(&text);
        assert!(error.contains("the rule id `session-dose-max` is used twice"), "{error}");
        assert!(error.contains(&format!("(first at line {first})")), "{error}");
    }

    #[test]
    fn a_severity_other_than_the_three_is_refused() {
        let text = edit("follow-up", "severity = \"warning\"", "severity = \"fatal\"");
        let line = line_of(&text, "id = \"follow-up\"", "\"fatal\"");
        let error = error_of(&text);
        assert!(
            error.contains(&format!("line {line}, column 12: severity `fatal` is not one of")),
            "{error}"
        );
    }

    #[test]
    fn bad_quantities_are_refused_where_they_are_written() {
        for (bad, expect) in [
            ("\"3 mgs\"", "`mgs` in `3 mgs` is not a unit"),
            ("\"3\"", "is not a quantity"),
            ("\"3 mg/h\"", "`3 mg/h` is not a mass"),
            ("\"-3 mg\"", "`-3 mg` is negative"),
            ("3", "invalid type"),
        ] {
            let text = edit("artery-dose-max", "\"3 mg\"", bad);
            let line = line_of(&text, "id = \"artery-dose-max\"", "small_caps");
            let error = error_of(&text);
            assert!(error.contains(&format!("line {line}, column ")), "{bad}: {error}");
            assert!(error.contains(expect), "{bad}: {error}");
        }
        let text = edit("sedation-dose-max", "\"2 mg/h\"", "\"2 mg\"");
        assert!(error_of(&text).contains("`2 mg` is not a rate"));
    }

    #[test]
    fn a_minimum_above_its_maximum_and_negative_numbers_are_refused() {
        let text = edit("artery-count", "max = 6", "max = 2");
        assert!(error_of(&text).contains("min (3) is above max (2)"), "{}", error_of(&text));
        let text = edit("artery-count", "max = 6", "max = -6");
        assert!(error_of(&text).contains("invalid value"), "{}", error_of(&text));
        let text = edit("particle-size-min", "min_um = 150", "min_um = -150");
        assert!(error_of(&text).contains("`-150` is negative"), "{}", error_of(&text));
        let text = edit("particle-size-protocol", "[300, 600]", "[600, 300]");
        assert!(error_of(&text).contains("[600, 300] is not a range"), "{}", error_of(&text));
        let text = edit("follow-up", "from_day = 22, to_day = 28", "from_day = 28, to_day = 22");
        assert!(error_of(&text).contains("from_day ≤ to_day"), "{}", error_of(&text));
        let text = edit("session-spacing", "months = 1", "months = 0");
        assert!(error_of(&text).contains("months must be from 1"), "{}", error_of(&text));
    }

    #[test]
    fn a_synonym_claimed_by_two_names_is_refused() {
        let text = BUILTIN_RULES.replace("[names]\n", "[names]\ndoxorubicin = [\"THP\"]\n");
        let error = error_of(&text);
        assert!(error.contains("`THP` is given as a synonym of both"), "{error}");
        assert!(error.contains("line "), "{error}");
    }

    #[test]
    fn a_rule_without_citation_is_refused() {
        let text = edit("eligibility", "citation = ", "# citation = ");
        let error = error_of(&text);
        assert!(error.contains("rule `eligibility` has no `citation`"), "{error}");
        let text = edit("follow-up", "citation = \"Clinical", "citation = \"  \"\nx = \"");
        assert!(error_of(&text).contains("unknown key `x`"));
        let text = edit("follow-up", "citation = \"Clinical and radiological follow-up was performed at the 1st and 4th weeks.\"", "citation = \" \"");
        assert!(error_of(&text).contains("the citation of rule `follow-up` is empty"));
    }

    #[test]
    fn a_parameter_of_another_kind_or_a_missing_one_is_refused() {
        let text = edit("artery-dose-max", "large_from_mm = 4", "large_from_mm = 4\nmin = 3");
        let line = line_of(&text, "id = \"artery-dose-max\"", "min = 3");
        let error = error_of(&text);
        assert!(
            error.contains(&format!(
                "line {line}, column 7: `min` is not a parameter of kind `artery-dose-max`"
            )),
            "{error}"
        );
        let text = edit("artery-dose-max", "large_from_mm = 4", "");
        let error = error_of(&text);
        let header = line_of(&text, "", "id = \"artery-dose-max\"") - 1;
        assert!(error.contains(&format!("line {header}, column 1: rule")), "{error}");
        assert!(error.contains("rule `artery-dose-max` of kind `artery-dose-max` needs the parameter `large_from_mm`"), "{error}");
    }

    #[test]
    fn a_drug_capped_twice_under_a_synonym_is_refused() {
        let text = edit("session-dose-max", "carboplatin = \"400 mg\"", "THP = \"5 mg\"");
        assert!(error_of(&text).contains("`THP` is pirarubicin, which already has a limit"));
    }

    #[test]
    fn broken_toml_and_empty_sets_are_refused() {
        let error = error_of("id = \"x\"\nversion = \"1\"\n[[rules]\n");
        assert!(
            error.starts_with(
                "rule file rules/site.toml: line 3, column 8: invalid table header; expected"
            ),
            "{error}"
        );
        let error = error_of("id = \"x\"\nversion = \"1\"\n");
        assert!(error.contains("has no [[rules]]"), "{error}");
    }

    /// The shipped file as it was in rule set 2.0.0, before rules said
    /// whether they may be acknowledged and before the two rules on
    /// acknowledgements: what a site's copy written then looks like.
    fn file_of_rule_set_2_0_0() -> String {
        // The last section of the shipped file is the acknowledgements'.
        let cut = BUILTIN_RULES.rfind("# ---").unwrap();
        assert!(BUILTIN_RULES[cut..].lines().next().unwrap().ends_with(" acknowledgements"));
        let old: Vec<&str> = BUILTIN_RULES[..cut]
            .lines()
            .filter(|line| !line.starts_with("acknowledgeable = "))
            .collect();
        let old = old.join("\n");
        assert!(!old.lines().any(|line| line.starts_with("acknowledgeable")));
        assert!(!old.contains("kind = \"acknowledgement-"));
        old
    }

    /// The shipped file as it was before `sedation-protocol` and
    /// `plan-revision` were rules of the set, and before `embolic-agent`
    /// took `mixed_drugs` (rule set 1.0.0): what a site's copy written then
    /// looks like.
    fn file_of_the_previous_rule_set() -> String {
        // The last section of the 2.0.0 file is the history's.
        let file = file_of_rule_set_2_0_0();
        let cut = file.rfind("# ---").unwrap();
        assert!(file[cut..].lines().next().unwrap().ends_with(" history"));
        let mut old = file[..cut].to_string();
        let start = old.find("[[rules]]\nid = \"sedation-protocol\"").unwrap();
        let end = start + old[start..].find("\n\n[[rules]]").unwrap() + 2;
        old.replace_range(start..end, "");
        let mixed = old.find("# Drugs given mixed with").unwrap();
        let mixed_end = mixed + old[mixed..].find("mixed_drugs = [\"pirarubicin\"]\n").unwrap();
        old.replace_range(mixed..mixed_end + "mixed_drugs = [\"pirarubicin\"]\n".len(), "");
        for gone in ["kind = \"plan-revision\"", "kind = \"sedation-protocol\"", "mixed_drugs ="] {
            assert!(!old.contains(gone), "{gone}");
        }
        old
    }

    #[test]
    fn a_site_file_of_the_previous_rule_set_gets_the_new_rules_and_defaults() {
        let site = RuleSet::from_toml(&file_of_the_previous_rule_set(), "site.toml").unwrap();
        let shipped = RuleSet::builtin().unwrap();
        let ids = |set: &RuleSet| set.rules.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&site), ids(&shipped), "the same rules, each new one in its place");
        for id in ["sedation-protocol", "plan-revision"] {
            let rule = site.rule(id).unwrap();
            assert_eq!(rule.severity, crate::verdict::Severity::Error);
            assert!(rule.enabled);
            assert_eq!(rule.citation, shipped.rule(id).unwrap().citation);
            assert_eq!(rule.rationale, shipped.rule(id).unwrap().rationale);
            assert_eq!(rule.parameters_summary(), shipped.rule(id).unwrap().parameters_summary());
        }
        // The new parameter's default is the shipped value: the same rule.
        let agent = |set: &RuleSet| set.rule("embolic-agent").unwrap().parameters_summary();
        assert_eq!(agent(&site), agent(&shipped));
        assert_ne!(site.sha256, shipped.sha256, "the hash stays that of the site's own file");
    }

    #[test]
    fn a_site_file_of_rule_set_2_0_0_gets_the_rules_on_acknowledgements_and_defaults_by_severity() {
        let site = RuleSet::from_toml(&file_of_rule_set_2_0_0(), "site.toml").unwrap();
        let shipped = RuleSet::builtin().unwrap();
        let ids = |set: &RuleSet| set.rules.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&site), ids(&shipped), "the two new rules, last, as shipped");
        for (old, new) in site.rules.iter().zip(&shipped.rules) {
            assert_eq!(old.acknowledgeable, new.acknowledgeable, "{}", old.id);
            let never = old.id.starts_with("acknowledgement-");
            let by_severity = old.severity != Severity::Error && !never;
            assert_eq!(old.acknowledgeable, by_severity, "{}", old.id);
        }
        for id in ["acknowledgement-refused", "acknowledgement-unused"] {
            let rule = site.rule(id).unwrap();
            assert!(rule.enabled && !rule.acknowledgeable, "{id}");
            assert_eq!(rule.severity, shipped.rule(id).unwrap().severity);
            assert_eq!(rule.citation, shipped.rule(id).unwrap().citation);
        }
        // The default follows the site's own severity, not the shipped one.
        let lowered = file_of_rule_set_2_0_0().replacen(
            "id = \"artery-count\"\nkind = \"artery-count\"\nseverity = \"warning\"",
            "id = \"artery-count\"\nkind = \"artery-count\"\nseverity = \"error\"",
            1,
        );
        let site = RuleSet::from_toml(&lowered, "site.toml").unwrap();
        assert!(!site.rule("artery-count").unwrap().acknowledgeable);
    }

    #[test]
    fn every_shipped_rule_says_whether_it_may_be_acknowledged_as_its_severity_says() {
        let shipped = RuleSet::builtin().unwrap();
        for rule in &shipped.rules {
            let entry =
                &BUILTIN_RULES[BUILTIN_RULES.find(&format!("id = \"{}\"", rule.id)).unwrap()..];
            let entry = &entry[..entry.find("\n\n").unwrap_or(entry.len())];
            let written = format!("acknowledgeable = {}", rule.acknowledgeable);
            assert!(entry.contains(&written), "{} does not say {written}", rule.id);
            let by_severity = rule.severity != Severity::Error;
            let never = rule.id.starts_with("acknowledgement-");
            assert_eq!(rule.acknowledgeable, by_severity && !never, "{}", rule.id);
        }
    }

    #[test]
    fn a_site_may_make_an_error_rule_acknowledgeable_but_never_the_rules_on_acknowledgements() {
        let text = edit("session-spacing", "acknowledgeable = false", "acknowledgeable = true");
        let site = RuleSet::from_toml(&text, "site.toml").unwrap();
        assert!(site.rule("session-spacing").unwrap().acknowledgeable);
        for id in ["acknowledgement-refused", "acknowledgement-unused"] {
            let text = edit(id, "acknowledgeable = false", "acknowledgeable = true");
            let line = line_of(&text, &format!("id = \"{id}\""), "acknowledgeable = true");
            let error = error_of(&text);
            assert!(
                error.contains(&format!(
                    "line {line}, column 19: rule `{id}` can never be acknowledged"
                )),
                "{error}"
            );
        }
        let text =
            edit("acknowledgement-unused", "id = \"acknowledgement-unused\"", "id = \"stale\"");
        assert!(
            error_of(&text).contains("the rule of kind `acknowledgement-unused` must have the id")
        );
        let text = edit("follow-up", "acknowledgeable = true", "acknowledgeable = \"yes\"");
        assert!(error_of(&text).contains("invalid type"), "{}", error_of(&text));
    }

    #[test]
    fn a_site_may_switch_plan_revision_off_or_lower_it_in_its_own_file() {
        let text = edit("plan-revision", "severity = \"error\"", "severity = \"warning\"");
        let rules = RuleSet::from_toml(&text, "site.toml").unwrap();
        assert_eq!(
            rules.rule("plan-revision").unwrap().severity,
            crate::verdict::Severity::Warning
        );
        let text = edit("plan-revision", "enabled = true", "enabled = false");
        assert!(
            !RuleSet::from_toml(&text, "site.toml").unwrap().rule("plan-revision").unwrap().enabled
        );
        let text = edit("sedation-protocol", "enabled = true", "enabled = false");
        let rules = RuleSet::from_toml(&text, "site.toml").unwrap();
        assert!(!rules.rule("sedation-protocol").unwrap().enabled, "switched off, not re-added");
    }

    #[test]
    fn a_rule_may_give_a_citation_and_a_rationale_but_not_neither() {
        let rules = RuleSet::builtin().unwrap();
        let revision = rules.rule("plan-revision").unwrap();
        assert!(revision.citation.is_some() && revision.rationale.is_some());
        let text = edit("plan-revision", "citation = ", "# citation = ");
        let own = RuleSet::from_toml(&text, "site.toml").unwrap();
        assert!(own.rule("plan-revision").unwrap().citation.is_none(), "a rationale alone will do");
        let text = text.replace("\nrationale = ", "\n# rationale = ");
        assert!(error_of(&text).contains("rule `plan-revision` has no `citation`"));
        let mut taken = file_of_the_previous_rule_set();
        taken = taken.replacen("id = \"course-length\"", "id = \"plan-revision\"", 1);
        let error = error_of(&taken);
        assert!(error.contains("the rule id `plan-revision` is given to a rule of another kind"));
    }

    #[test]
    fn the_hash_is_of_the_file_bytes() {
        let rules = RuleSet::builtin().unwrap();
        assert_eq!(rules.sha256, crate::digest::sha256_hex(BUILTIN_RULES.as_bytes()));
        let edited = RuleSet::from_toml(&format!("{BUILTIN_RULES}\n"), "site").unwrap();
        assert_ne!(edited.sha256, rules.sha256);
    }
}
