//! `embolint config`: the daemon's settings in force, each with where it
//! came from (the command line, the config file, or the built-in default).

use super::{write_answer, Error, Format, Status};
use crate::watch::config::{ConfigOrigin, Settings, Shown};
use crate::watch::WatchArgs;
use std::io::Write;

/// Prints the settings `watch` would run with, given the same options.
pub fn show(
    args: &WatchArgs,
    origin: Option<ConfigOrigin>,
    format: Format,
    out: &mut dyn Write,
) -> Result<Status, Error> {
    let shown = Settings::explain(args, origin).map_err(|e| Error::CannotRun(e.to_string()))?;
    write_answer(out, format, &shown, |shown| render(shown))?;
    Ok(Status::Success)
}

/// One aligned line per setting: key, value, source.
fn render(shown: &[Shown]) -> String {
    let key_width = shown.iter().map(|s| s.key.len()).max().unwrap_or(0);
    let value_width = shown.iter().map(|s| s.value.chars().count()).max().unwrap_or(0);
    shown
        .iter()
        .map(|s| format!("{:key_width$}  {:value_width$}  ({})\n", s.key, s.value, s.source))
        .collect()
}
