//! `embolint check`: judges plan files once and prints their verdicts.

use super::{load_rules, Error, Status};
use crate::check::{
    oversized_verdict, read_plan_file, PlanBytes, PlanFile, DEFAULT_MAX_PLAN_BYTES,
};
use crate::formats;
use crate::history::History;
use crate::report;
use crate::verdict::{Outcome, Verdict};
use crate::watch::file_name::SIDECAR_SUFFIX;
use std::io::Write;
use std::path::{Path, PathBuf};

/// How `embolint check` writes its verdicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckFormat {
    /// A report per plan and a summary, for people.
    Text,
    /// JSON Lines: one verdict object per plan.
    Json,
    /// JUnit XML, for CI dashboards: a test suite per plan.
    Junit,
    /// SARIF 2.1.0, for code-scanning viewers: a result per finding.
    Sarif,
    /// TAP version 14, for test harnesses: a test point per plan.
    Tap,
}

/// What `embolint check` was asked to do.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Plan files; a folder stands for its `*.json` files, `-` for
    /// standard input.
    pub paths: Vec<PathBuf>,
    /// How the verdicts are written.
    pub format: CheckFormat,
    /// A rule file replacing the built-in rule set.
    pub rules: Option<PathBuf>,
    /// A history database (a file, or a shared history's postgres:// URL),
    /// opened read-only, for session spacing against the patient's other
    /// passed plans.
    pub history: Option<PathBuf>,
    /// Whether the text report may colour its lines (a terminal, no
    /// `NO_COLOR`).
    pub color: bool,
    /// A plan that passes with a warning makes the run a
    /// [`Status::Failure`] too (its verdict stays `pass`).
    pub fail_on_warn: bool,
}

/// Opens `--history` read-only: a PostgreSQL URL names the shared history,
/// anything else a SQLite file.
fn open_history(given: &std::path::Path) -> Result<History, String> {
    let text = given.to_string_lossy();
    let location = if crate::history::postgres::is_url(&text) {
        crate::history::Location::Postgres(crate::history::HistoryUrl::new(&text)?)
    } else {
        crate::history::Location::File(given.to_path_buf())
    };
    location.open_read_only().map_err(|e| e.to_string())
}

/// Judges every plan named by `options`, writing one verdict per plan to
/// `out` and a line to `err` for each path that could not be read.
///
/// Every plan that can be read is judged and printed, even when another
/// path cannot be read; that path then makes the whole run an
/// [`Error::CannotRun`], so a script never takes a partial run for a pass.
pub fn check(
    options: &CheckOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Status, Error> {
    let rules = load_rules(options.rules.as_deref())?;
    let history =
        options.history.as_deref().map(open_history).transpose().map_err(Error::CannotRun)?;
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for path in &options.paths {
        match expand(path) {
            Ok(found) => files.extend(found),
            Err(message) => problems.push(message),
        }
    }
    for message in &problems {
        writeln!(err, "embolint: {message}")?;
    }
    let mut verdicts = Vec::new();
    let mut unreadable = 0;
    for file in &files {
        let verdict = match judge(file, &rules, history.as_ref()) {
            Ok(verdict) => verdict,
            Err(message) => {
                writeln!(err, "embolint: {message}")?;
                unreadable += 1;
                continue;
            }
        };
        // Text and JSON Lines are written plan by plan, as they come; the
        // other formats are one document, written once every plan is judged.
        match options.format {
            CheckFormat::Json => {
                let line = serde_json::to_string(&verdict).map_err(std::io::Error::other)?;
                writeln!(out, "{line}")?;
            }
            CheckFormat::Text => {
                write!(out, "{}", report::render_verdict(&verdict, options.color))?
            }
            CheckFormat::Junit | CheckFormat::Sarif | CheckFormat::Tap => {}
        }
        verdicts.push(verdict);
    }
    match options.format {
        CheckFormat::Text if files.len() > 1 => {
            writeln!(out, "{}", report::render_totals(&verdicts, unreadable))?
        }
        CheckFormat::Text | CheckFormat::Json => {}
        CheckFormat::Junit => {
            let xml = formats::junit::render(&verdicts).map_err(std::io::Error::other)?;
            writeln!(out, "{xml}")?;
        }
        CheckFormat::Sarif => {
            let json = formats::sarif::render(&verdicts, &rules).map_err(std::io::Error::other)?;
            writeln!(out, "{json}")?;
        }
        CheckFormat::Tap => out.write_all(formats::tap::render(&verdicts).as_bytes())?,
    }
    if !problems.is_empty() || unreadable > 0 {
        let count = problems.len() + unreadable;
        return Err(Error::CannotRun(format!(
            "{count} of the paths given could not be read (see above); the other plans were \
             judged and printed"
        )));
    }
    Ok(status_of(&verdicts, options.fail_on_warn))
}

/// Invalid if any plan is invalid, else a failure if any fails (or, with
/// `fail_on_warn`, has a warning that counts), else success.
fn status_of(verdicts: &[Verdict], fail_on_warn: bool) -> Status {
    let any = |outcome| verdicts.iter().any(|v: &Verdict| v.verdict == outcome);
    let warned = verdicts.iter().any(|v| v.counts.warnings > 0);
    if any(Outcome::Invalid) {
        Status::Invalid
    } else if any(Outcome::Fail) || (fail_on_warn && warned) {
        Status::Failure
    } else {
        Status::Success
    }
}

/// A path as given, or the sorted `*.json` files of a folder, less the
/// verdicts the daemon left beside them (`*.verdict.json`).
fn expand(path: &Path) -> Result<Vec<PathBuf>, String> {
    if path.as_os_str() == "-" || !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| format!("cannot read the folder {}: {e}", path.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read the folder {}: {e}", path.display()))?;
        let candidate = entry.path();
        let is_plan_name = candidate
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.ends_with(".json") && !name.ends_with(SIDECAR_SUFFIX));
        if is_plan_name && !candidate.is_dir() {
            files.push(candidate);
        }
    }
    if files.is_empty() {
        return Err(format!("the folder {} has no .json plan files", path.display()));
    }
    files.sort();
    Ok(files)
}

/// Reads and checks one plan file (or standard input for `-`).
fn judge(
    path: &Path,
    rules: &crate::rules::RuleSet,
    history: Option<&History>,
) -> Result<Verdict, String> {
    let limit = DEFAULT_MAX_PLAN_BYTES;
    let name = if path.as_os_str() == "-" { "-".to_string() } else { path.display().to_string() };
    let read = if path.as_os_str() == "-" {
        PlanBytes::read_from(std::io::stdin().lock(), 0, limit)
            .map_err(|e| format!("cannot read standard input: {e}"))?
    } else {
        read_plan_file(path, limit).map_err(|e| format!("cannot read {name}: {e}"))?
    };
    let bytes = match read {
        PlanBytes::Read(bytes) => bytes,
        PlanBytes::TooLarge { size, limit, first_bytes_sha256 } => {
            return Ok(oversized_verdict(&name, size, limit, &first_bytes_sha256, rules));
        }
    };
    crate::check::check(PlanFile::new(&name, &bytes), rules, history)
        .map(|checked| checked.verdict)
        .map_err(|e| format!("cannot check {name} against the history: {e}"))
}
