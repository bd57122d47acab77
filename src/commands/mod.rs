//! The commands of `embolint`, without the command line.
//!
//! Each command takes its options as plain values, writes what it has to
//! say to the writers it is given (standard output and standard error in
//! the binary, buffers in tests), and returns how it ended: a [`Status`]
//! when it could do its work, an [`Error`] when it could not. `src/main.rs`
//! parses the command line and turns these into exit codes in one place.
//!
//! - [`check`]: judge plan files once.
//! - [`rules`]: list the rule set.
//! - [`history`]: show a patient's recorded sessions, withdraw a plan,
//!   rebuild the history from the decision log.
//! - [`log`]: the decisions of a root, filtered, through the decision index.
//! - [`verify_log`]: check the decision log's hash chain.
//! - [`replay`]: judge the archived plans again under another rule set.
//! - [`config`]: the daemon's settings in force and where each came from.
//! - [`pseudonym`]: the name the operational logs give a patient.

pub mod check;
pub mod config;
pub mod history;
pub mod log;
pub mod pseudonym;
pub mod replay;
pub mod rules;
pub mod verify_log;

use crate::rules::RuleSet;
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// How a command writes its answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// For people: readable lines and a summary.
    #[default]
    Text,
    /// For software: JSON (JSON Lines when there are several answers).
    Json,
}

/// How a command that could do its work ended. Each has one exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Exit 0: every plan passes; the log's chain is intact; done.
    Success,
    /// Exit 1: a plan fails; the chain is broken; nothing to withdraw.
    Failure,
    /// Exit 2: a plan is invalid (this wins over a failure).
    Invalid,
}

impl Status {
    /// The process exit status for this ending.
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Success => 0,
            Status::Failure => 1,
            Status::Invalid => 2,
        }
    }
}

/// Why a command could not do its work. Never a verdict: a plan that fails
/// or is invalid is a [`Status`], so that exit 3 and above always mean
/// "embolint itself could not run".
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad rule file, config or path, a damaged database, a daemon that
    /// did not answer: the message says what to do (exit 3).
    #[error("{0}")]
    CannotRun(String),
    /// Standard output went away (a closed pipe): nothing more can be said
    /// (exit 3).
    #[error("cannot write the answer: {0}")]
    Output(#[from] std::io::Error),
    /// `watch` or `serve` could not start (exit 3) or stopped because going
    /// on was unsafe (exit 4).
    #[error(transparent)]
    Daemon(#[from] crate::watch::fatal::Stopped),
}

impl Error {
    /// The process exit status: 3, "embolint could not run", or the
    /// daemon's own (3 could not start, 4 stopped on an error).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Daemon(stopped) => stopped.exit_code,
            Error::CannotRun(_) | Error::Output(_) => 3,
        }
    }

    /// What standard error still has to say: nothing when the daemon's
    /// operational log said it already.
    pub fn unsaid(&self) -> Option<String> {
        match self {
            Error::Daemon(stopped) if stopped.logged => None,
            Error::Daemon(stopped) => Some(stopped.message.clone()),
            other => Some(format!("embolint: {other}")),
        }
    }
}

/// Loads `path` as a rule file, or the built-in rule set without one.
pub fn load_rules(path: Option<&Path>) -> Result<RuleSet, Error> {
    let loaded = match path {
        Some(path) => RuleSet::load(path),
        None => RuleSet::builtin(),
    };
    loaded.map_err(|e| Error::CannotRun(e.to_string()))
}

/// Writes a command's answer: `value` as pretty JSON, or the text that
/// `text` renders of it for people.
fn write_answer<T: Serialize>(
    out: &mut dyn Write,
    format: Format,
    value: &T,
    text: impl FnOnce(&T) -> String,
) -> Result<(), Error> {
    match format {
        Format::Json => {
            let json = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
            writeln!(out, "{json}")?;
        }
        Format::Text => out.write_all(text(value).as_bytes())?,
    }
    Ok(())
}
