//! Errors that stop the daemon, split by consequence: it could not start,
//! or it must stop because going on could lose or duplicate a decision.
//! Everything else (a bad plan, a vanished file) is logged and survived.

use super::inbox::InboxLost;
use std::io;
use std::process::ExitCode;

/// Why the daemon stops with an error.
#[derive(Debug, thiserror::Error)]
pub enum Fatal {
    /// Bad settings, an unusable rule file, a root that cannot be served, or
    /// another daemon on the same root.
    #[error("embolint watch cannot start: {0}")]
    Start(String),
    /// A write or a sync to disk failed.
    #[error(
        "{action} failed: {source}. embolint stops rather than act on a decision that may not \
         be on disk. Fix the cause (disk full, failing disk, permissions), then restart \
         embolint: plans still in the inbox are finished then, none is judged twice"
    )]
    Storage {
        /// What was being written, and where.
        action: String,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The inbox was removed or replaced.
    #[error(transparent)]
    InboxLost(#[from] InboxLost),
}

impl Fatal {
    /// The process exit code: 3 could not start, 4 stopped on an error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Fatal::Start(_) => ExitCode::from(3),
            Fatal::Storage { .. } | Fatal::InboxLost(_) => ExitCode::from(4),
        }
    }
}

/// Shorthand for a storage failure while doing `action`.
pub fn storage(action: impl Into<String>) -> impl FnOnce(io::Error) -> Fatal {
    let action = action.into();
    move |source| Fatal::Storage { action, source }
}
