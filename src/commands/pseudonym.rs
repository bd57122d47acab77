//! `embolint pseudonym`: the name under which the daemon's operational logs
//! give a patient, to find that patient's log lines.

use super::{Error, Status};
use crate::watch::config::Settings;
use crate::watch::layout::Layout;
use crate::watch::pseudonym;
use crate::watch::WatchArgs;
use std::io::Write;
use std::path::PathBuf;

/// Prints the pseudonym of each id, one per line, with the key the daemon
/// uses: the config file's `pseudonym_key`, else the root's key file.
pub fn print(
    patient_ids: &[String],
    root: Option<PathBuf>,
    config: Option<PathBuf>,
    out: &mut dyn Write,
) -> Result<Status, Error> {
    let watch = WatchArgs { root, config, ..Default::default() };
    let settings = Settings::resolve(&watch).map_err(|e| Error::CannotRun(e.to_string()))?;
    let key = match settings.pseudonym_key {
        Some(key) => key,
        None => pseudonym::key_file(&Layout::new(&settings.root).state, false)
            .map_err(Error::CannotRun)?,
    };
    for id in patient_ids {
        writeln!(out, "{}", key.pseudonym(id))?;
    }
    Ok(Status::Success)
}
