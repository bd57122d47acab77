//! Errors that stop the daemon, split by consequence: it could not start,
//! or it must stop because going on could lose or duplicate a decision.
//! Everything else (a bad plan, a vanished file) is logged and survived.

use super::inbox::InboxLost;
use std::io;

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
    pub fn exit_code(&self) -> u8 {
        match self {
            Fatal::Start(_) => 3,
            Fatal::Storage { .. } | Fatal::InboxLost(_) => 4,
        }
    }

    /// The daemon stops on this error, already written to its log.
    pub fn logged(self) -> Stopped {
        Stopped { exit_code: self.exit_code(), message: self.to_string(), logged: true }
    }
}

/// How `watch` or `serve` ended when it did not stop cleanly: what to
/// say, the exit status (3 could not start, 4 stopped on an error), and
/// whether the operational log has said it already (before the log is set
/// up, the command line says it).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Stopped {
    /// What happened, for the operator.
    pub message: String,
    /// 3 or 4.
    pub exit_code: u8,
    /// The operational log already holds the message.
    pub logged: bool,
}

impl Stopped {
    /// Could not start, before the operational log was set up.
    pub fn cannot_start(message: String) -> Stopped {
        Stopped { message, exit_code: 3, logged: false }
    }
}

/// Shorthand for a storage failure while doing `action`.
pub fn storage(action: impl Into<String>) -> impl FnOnce(io::Error) -> Fatal {
    let action = action.into();
    move |source| Fatal::Storage { action, source }
}
