//! `embolint log`: the decisions of a root, newest first, filtered by
//! verdict, rule, patient and dates — looked up in the decision index
//! (`state/decisions-index.sqlite`, caught up with the log first), never by
//! reading the whole log.

use super::{Error, Format, Status};
use crate::audit::decision_index::{self, Filter, Listed};
use std::io::Write;
use std::path::PathBuf;

/// What `embolint log` was asked.
#[derive(Clone, Debug, Default)]
pub struct LogOptions {
    /// The daemon's root folder (its log is read, never written).
    pub root: PathBuf,
    /// Which decisions.
    pub filter: Filter,
    /// At most this many (the newest); all without it.
    pub limit: Option<usize>,
    /// Text for people or JSON Lines (the records as written).
    pub format: Format,
    /// Whether to colour the verdicts (a terminal, and no `NO_COLOR`).
    pub color: bool,
}

/// Prints the decisions that pass the filters. An empty answer is not an
/// error: it says so (on `out` in text, on `err` in JSON) and ends in
/// [`Status::Success`].
///
/// # Errors
/// The root has no decision log, or it or the index cannot be read.
pub fn log(
    options: &LogOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Status, Error> {
    let cannot = |e: decision_index::IndexError| Error::CannotRun(e.to_string());
    let (mut index, persistent) = decision_index::open_for_root(&options.root).map_err(cannot)?;
    if !persistent {
        writeln!(
            err,
            "embolint: note: {} cannot be written, so the whole decision log is read (slower)",
            options.root.join("state").display()
        )?;
    }
    index.catch_up().map_err(cannot)?;
    let limit = options.limit.unwrap_or(usize::MAX);
    let found = index.query(&options.filter, limit).map_err(cannot)?;
    if found.is_empty() {
        let said = format!("no decision matches {}", describe(&options.filter));
        match options.format {
            Format::Text => writeln!(out, "{said}")?,
            Format::Json => writeln!(err, "embolint: {said}")?,
        }
        if let Some(rule) = &options.filter.rule {
            // A misspelt rule id answers "none", which reads as "never
            // fired". A site's own rule file may have rules the built-in
            // set has not, so this is a note, not an error.
            let builtin = crate::rules::RuleSet::builtin().is_ok_and(|set| set.knows_rule(rule));
            if !builtin && !index.has_findings_of(rule).map_err(cannot)? {
                writeln!(
                    err,
                    "embolint: note: the built-in rule set has no rule named {rule:?}, and no \
                     decision of this log has a finding of it: check its spelling (`embolint \
                     rules` lists the rules)"
                )?;
            }
        }
        return Ok(Status::Success);
    }
    match options.format {
        Format::Json => {
            for listed in &found {
                let line = index.record(listed.seq).map_err(cannot)?.ok_or_else(|| {
                    Error::CannotRun(format!(
                        "decision {} is in the index but not in the log; remove {} to index \
                         the log again",
                        listed.seq,
                        options.root.join("state").join(decision_index::FILE_NAME).display()
                    ))
                })?;
                out.write_all(&line)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Text => out.write_all(render_text(&found, options.color).as_bytes())?,
    }
    Ok(Status::Success)
}

/// The filters in words, for the empty answer.
fn describe(filter: &Filter) -> String {
    let mut parts = Vec::new();
    if let Some(v) = &filter.verdict {
        parts.push(format!("verdict {v}"));
    }
    if let Some(r) = &filter.rule {
        parts.push(format!("rule {r}"));
    }
    if let Some(p) = &filter.patient {
        parts.push(format!("patient {p:?}"));
    }
    if let Some(d) = &filter.since {
        parts.push(format!("since {d}"));
    }
    if let Some(d) = &filter.until {
        parts.push(format!("until {d}"));
    }
    if parts.is_empty() {
        "(the decision log holds no decision yet)".to_string()
    } else {
        format!("these filters ({})", parts.join(", "))
    }
}

/// One aligned line per decision: time (UTC), verdict, file, plan,
/// patient, the rules that fired.
pub fn render_text(found: &[Listed], color: bool) -> String {
    let rows: Vec<[String; 6]> = found
        .iter()
        .map(|d| {
            [
                time_of(&d.checked_at),
                d.verdict.clone(),
                d.file.clone(),
                d.plan_id.clone().unwrap_or_else(|| "-".into()),
                d.patient_id.clone().unwrap_or_else(|| "-".into()),
                if d.rules.is_empty() { "no findings".into() } else { d.rules.join(", ") },
            ]
        })
        .collect();
    let mut widths = [0usize; 5];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row.iter()) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths.iter()).enumerate() {
            let pad = " ".repeat(width.saturating_sub(cell.chars().count()));
            if i == 1 && color {
                line.push_str(&paint(cell));
            } else {
                line.push_str(&clean(cell));
            }
            line.push_str(&pad);
            line.push_str("  ");
        }
        line.push_str(&clean(row.get(5).map_or("", String::as_str)));
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// `2026-11-05T09:12:44.123Z` as `2026-11-05 09:12:44 UTC`.
fn time_of(checked_at: &str) -> String {
    match (checked_at.get(..10), checked_at.get(11..19)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => checked_at.to_string(),
    }
}

/// The verdict in its colour: fail red, invalid yellow, pass green.
fn paint(verdict: &str) -> String {
    let code = match verdict {
        "fail" => "1;31",
        "invalid" => "1;33",
        "pass" => "32",
        _ => return clean(verdict),
    };
    format!("\x1b[{code}m{}\x1b[0m", clean(verdict))
}

/// Text from a plan with control characters (a terminal escape hidden in
/// a file name or patient id) shown as `?`.
fn clean(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(seq: u64, verdict: &str, rules: &[&str]) -> Listed {
        Listed {
            seq,
            checked_at: "2026-11-05T09:12:44.123Z".into(),
            verdict: verdict.into(),
            file: format!("plan-{seq}.json"),
            plan_id: Some(format!("PLN-{seq}")),
            patient_id: None,
            rules: rules.iter().map(|r| r.to_string()).collect(),
            moved_to: None,
        }
    }

    #[test]
    fn one_aligned_line_per_decision_without_colour() {
        let text = render_text(
            &[listed(12, "fail", &["artery-dose-max", "session-dose-max"]), listed(3, "pass", &[])],
            false,
        );
        insta::assert_snapshot!(text, @r"
        2026-11-05 09:12:44 UTC  fail  plan-12.json  PLN-12  -  artery-dose-max, session-dose-max
        2026-11-05 09:12:44 UTC  pass  plan-3.json   PLN-3   -  no findings
        ");
    }

    #[test]
    fn colour_marks_only_the_verdict_and_a_terminal_escape_in_a_name_is_defused() {
        let mut one = listed(1, "fail", &[]);
        one.file = "x\x1b[2J.json".into();
        let text = render_text(&[one], true);
        assert!(text.contains("\x1b[1;31mfail\x1b[0m"), "{text:?}");
        assert!(text.contains("x?[2J.json"), "{text:?}");
        assert_eq!(text.matches('\x1b').count(), 2, "{text:?}");
    }
}
