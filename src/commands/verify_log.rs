//! `embolint verify-log`: checks the decision log's hash chain and names the
//! first record that was edited, deleted, moved, inserted or cut off.

use super::{write_answer, Error, Format, Status};
use crate::watch::layout::Layout;
use crate::watch::verify::{self, Anchor};
use std::io::Write;
use std::path::Path;

/// Verifies the log of the root `target` (or the log file `target`
/// itself). [`Status::Failure`] when the chain is broken or the anchor
/// does not hold.
pub fn verify_log(
    target: &Path,
    anchor: Option<&Anchor>,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status, Error> {
    let path =
        if target.is_file() { target.to_path_buf() } else { Layout::new(target).decisions() };
    let report = verify::verify(&path, anchor).map_err(|e| {
        Error::CannotRun(format!(
            "cannot read the decision log {}: {e} (give the root folder that embolint watch \
             serves, or a decision log file)",
            path.display()
        ))
    })?;
    write_answer(out, format, &report, verify::render)?;
    Ok(if report.intact { Status::Success } else { Status::Failure })
}
