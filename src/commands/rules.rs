//! `embolint rules`: the rule set, each rule with its limits and citation.

use super::{load_rules, write_answer, Error, Format, Status};
use crate::report;
use std::io::Write;
use std::path::Path;

/// How `rules` writes the rule set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RulesFormat {
    /// Readable text, for people at a terminal.
    Text,
    /// One JSON object, for software.
    Json,
    /// A Markdown page, for documentation (`docs/rules.md`).
    Markdown,
}

/// Lists the rule set of `rule_file` (the built-in one without it).
pub fn list(
    rule_file: Option<&Path>,
    format: RulesFormat,
    out: &mut dyn Write,
) -> Result<Status, Error> {
    let rules = load_rules(rule_file)?;
    match format {
        RulesFormat::Text => write_answer(out, Format::Text, &rules, report::render_rules)?,
        RulesFormat::Json => write_answer(out, Format::Json, &rules, report::render_rules)?,
        RulesFormat::Markdown => out.write_all(report::render_rules_markdown(&rules).as_bytes())?,
    }
    Ok(Status::Success)
}
