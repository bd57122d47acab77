//! `embolint verify-log`: checks the decision log's hash chain and its seal,
//! and names the first record that was edited, deleted, moved, inserted,
//! forged or cut off.

use super::{write_answer, Error, Format, Status};
use crate::audit::seal::{FirstKey, KeyState, KEY_STATE_FILE};
use crate::audit::verify::{self, Anchor, SealCheck};
use crate::watch::layout::Layout;
use std::io::Write;
use std::path::PathBuf;

/// What `verify-log` was asked to check.
#[derive(Debug)]
pub struct VerifyOptions {
    /// A root folder (its log is `log/decisions.jsonl`) or a log file.
    pub target: PathBuf,
    /// A line noted from an earlier check, which must still be there.
    pub anchor: Option<Anchor>,
    /// The auditor's first key of the seal.
    pub first_key: Option<FirstKey>,
    /// The key state to check the log's end against (a root's own
    /// `state/audit.key` by default; needed for an archived log file).
    pub key_state: Option<PathBuf>,
}

/// Verifies the log. [`Status::Failure`] when the chain or the seal is
/// broken, or the anchor does not hold.
pub fn verify_log(
    options: &VerifyOptions,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status, Error> {
    let target = &options.target;
    let is_file = target.is_file();
    let path = if is_file { target.clone() } else { Layout::new(target).decisions() };
    let state_path = match (&options.key_state, is_file) {
        (Some(file), _) => Some(file.clone()),
        (None, false) => Some(Layout::new(target).state.join(KEY_STATE_FILE)),
        (None, true) => None,
    };
    let seal = match (&options.first_key, state_path) {
        (None, _) => None,
        (Some(first), None) => Some(SealCheck { first: first.clone(), state: None }),
        (Some(first), Some(state_path)) => {
            let state = KeyState::read(&state_path).map_err(|e| {
                Error::CannotRun(format!(
                    "cannot read the audit key state {}: {e}",
                    state_path.display()
                ))
            })?;
            Some(SealCheck { first: first.clone(), state: Some(state) })
        }
    };
    let report = verify::verify(&path, options.anchor.as_ref(), seal.as_ref()).map_err(|e| {
        Error::CannotRun(format!(
            "cannot read the decision log {}: {e} (give the root folder that embolint watch \
             serves, or a decision log file)",
            path.display()
        ))
    })?;
    write_answer(out, format, &report, verify::render)?;
    Ok(if report.intact { Status::Success } else { Status::Failure })
}
