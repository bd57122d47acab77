//! `embolint replay`: the plans already judged, judged again under another
//! rule set, and what would change.

use super::{load_rules, write_answer, Error, Format, Status};
use crate::audit::replay;
use std::io::Write;
use std::path::Path;

/// Replays `root`'s archive under the rule file `rules`.
/// [`Status::Failure`] when at least one plan's verdict changes.
pub fn replay(
    rules: &Path,
    root: &Path,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status, Error> {
    let rules = load_rules(Some(rules))?;
    let replayed = replay::replay(root, &rules).map_err(Error::CannotRun)?;
    write_answer(out, format, &replayed, replay::render)?;
    Ok(if replayed.verdict_changes == 0 { Status::Success } else { Status::Failure })
}
