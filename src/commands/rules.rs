//! `embolint rules`: the rule set, each rule with its limits and citation.

use super::{load_rules, write_answer, Error, Format, Status};
use crate::report;
use std::io::Write;
use std::path::Path;

/// Lists the rule set of `rule_file` (the built-in one without it).
pub fn list(
    rule_file: Option<&Path>,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status, Error> {
    let rules = load_rules(rule_file)?;
    write_answer(out, format, &rules, report::render_rules)?;
    Ok(Status::Success)
}
