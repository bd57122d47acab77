//! A test hook that kills the daemon at an exact instant of a batch, so the
//! tests can prove recovery from a crash at each step, not only wherever a
//! random `kill -9` happens to land.
//!
//! `EMBOLINT_WATCH_FAILPOINT=STEP:N` sends SIGKILL to the daemon itself at
//! STEP of the N-th batch it commits (counting from 1 in this process); for
//! the withdrawal steps, of the N-th withdrawal it carries out.
//!
//! `EMBOLINT_WATCH_FAULT=SITE` makes a disk operation fail with EIO instead
//! ([`Fault`]): `log-sync:N`, the decision log's sync in the N-th batch
//! (its records are written, not synced); `log-open-sync`, the sync of the
//! log at start-up, before recovery acts on its records; `sidecar-sync:N`,
//! the sync of the N-th batch's verdict files (on the placing thread).
//!
//! `EMBOLINT_WATCH_PAUSE=STEP:N:FILE` instead pauses there: the daemon
//! creates FILE and waits until the test removes it, so a test can change
//! the inbox at that exact instant (a plan replaced between its reading and
//! its move).
//!
//! All of this exists only in a build with the cargo feature `test-hooks`
//! (the test suite builds the binary with it). Without it — the shipped
//! binary — every hook below is an empty inline function: no variable is
//! read, no step can be crashed, and the names are not in the binary.

#[cfg(not(feature = "test-hooks"))]
pub use off::*;
#[cfg(feature = "test-hooks")]
pub use on::*;

/// The steps of a batch where a crash can be injected, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Half of the batch's records written, not synced: a torn line.
    TornLog,
    /// The shared history committed, the records not yet written.
    AfterSharedHistory,
    /// Records synced (the audit key not yet moved on), the history not
    /// yet committed, nothing placed.
    AfterLog,
    /// Records synced and the placing begun on the placer's thread; the
    /// audit key not yet moved on, the history not yet committed.
    Placing,
    /// The history committed; the batch may be partly placed meanwhile.
    AfterHistory,
    /// Temporary sidecars and records synced, none renamed.
    AfterSidecars,
    /// The first plan of the batch moved, the others not.
    MidMoves,
    /// Every plan moved, folders not synced.
    AfterMoves,
    /// A withdrawal's event synced to the log, the history not yet changed.
    AfterForgetLog,
    /// A withdrawal applied to the history, its request not yet answered.
    AfterForgetHistory,
}

impl Step {
    /// The name used in the environment variable.
    #[cfg_attr(not(feature = "test-hooks"), allow(dead_code))]
    fn name(self) -> &'static str {
        match self {
            Step::TornLog => "torn-log",
            Step::AfterSharedHistory => "after-shared-history",
            Step::AfterLog => "after-log",
            Step::Placing => "placing",
            Step::AfterHistory => "after-history",
            Step::AfterSidecars => "after-sidecars",
            Step::MidMoves => "mid-moves",
            Step::AfterMoves => "after-moves",
            Step::AfterForgetLog => "after-forget-log",
            Step::AfterForgetHistory => "after-forget-history",
        }
    }
}

/// A disk operation that can be made to fail (EIO), to show that the
/// daemon stops rather than act on what is not on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The decision log's sync after a batch's records were written.
    LogSync,
    /// The decision log's sync at start-up, before recovery reads it.
    LogOpenSync,
    /// The sync of a batch's verdict files, on the thread that places it.
    SidecarSync,
    /// The shared history's commit of a batch, before its records.
    SharedHistory,
}

impl Fault {
    /// The name used in the environment variable.
    #[cfg_attr(not(feature = "test-hooks"), allow(dead_code))]
    fn name(self) -> &'static str {
        match self {
            Fault::LogSync => "log-sync",
            Fault::LogOpenSync => "log-open-sync",
            Fault::SidecarSync => "sidecar-sync",
            Fault::SharedHistory => "shared-history",
        }
    }
}

/// The shipped build: every hook does nothing.
#[cfg(not(feature = "test-hooks"))]
mod off {
    use super::{Fault, Step};

    /// Does nothing (no test hooks in this build).
    #[inline(always)]
    pub fn begin_batch() {}

    /// Does nothing (no test hooks in this build).
    #[inline(always)]
    pub fn begin_forget() {}

    /// Never armed (no test hooks in this build).
    #[inline(always)]
    pub fn armed(_: Step) -> bool {
        false
    }

    /// Does nothing (no test hooks in this build).
    #[inline(always)]
    pub fn hit(_: Step) {}

    /// Never called: nothing is ever armed.
    #[inline(always)]
    pub fn crash() {}

    /// Never fails (no test hooks in this build).
    #[inline(always)]
    pub fn fault(_: Fault) -> std::io::Result<()> {
        Ok(())
    }

    /// The service's bounds, always (no test hooks in this build).
    #[inline(always)]
    pub fn small_bounds() -> bool {
        false
    }

    /// Unused: [`small_bounds`] is never true here.
    pub const SMALL_MAX_TRACKED: usize = usize::MAX;

    /// Unused: [`small_bounds`] is never true here.
    pub const SMALL_MAX_QUEUED_HINTS: usize = usize::MAX;
}

/// The test build: hooks driven by environment variables.
#[cfg(feature = "test-hooks")]
mod on {
    use super::{Fault, Step};
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;

    /// The counter of this step: batches, or withdrawals.
    fn counter(step: Step) -> &'static AtomicU64 {
        match step {
            Step::AfterForgetLog | Step::AfterForgetHistory => &FORGETS,
            _ => &BATCHES,
        }
    }

    /// The environment variable naming the failpoint.
    pub const VARIABLE: &str = "EMBOLINT_WATCH_FAILPOINT";

    /// The environment variable naming a pause.
    pub const PAUSE_VARIABLE: &str = "EMBOLINT_WATCH_PAUSE";

    /// Batches begun by this process.
    static BATCHES: AtomicU64 = AtomicU64::new(0);

    /// Withdrawals begun by this process.
    static FORGETS: AtomicU64 = AtomicU64::new(0);

    /// Counts a new batch; call once at the start of each commit.
    pub fn begin_batch() {
        BATCHES.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts a new withdrawal; call once before writing its event.
    pub fn begin_forget() {
        FORGETS.fetch_add(1, Ordering::SeqCst);
    }

    /// Whether the failpoint names this step of the current batch.
    pub fn armed(step: Step) -> bool {
        static WANTED: OnceLock<Option<(String, u64)>> = OnceLock::new();
        let wanted = WANTED.get_or_init(|| {
            let value = std::env::var(VARIABLE).ok()?;
            let (name, batch) = value.split_once(':')?;
            Some((name.to_string(), batch.parse().ok()?))
        });
        matches!(wanted, Some((name, batch)) if name == step.name() && *batch == counter(step).load(Ordering::SeqCst))
    }

    /// The pause file, if the pause names this step of the current batch.
    fn pause_file(step: Step) -> Option<&'static Path> {
        static WANTED: OnceLock<Option<(String, u64, PathBuf)>> = OnceLock::new();
        let wanted = WANTED.get_or_init(|| {
            let value = std::env::var(PAUSE_VARIABLE).ok()?;
            let mut parts = value.splitn(3, ':');
            let (name, batch, file) = (parts.next()?, parts.next()?, parts.next()?);
            Some((name.to_string(), batch.parse().ok()?, PathBuf::from(file)))
        });
        match wanted {
            Some((name, batch, file))
                if name == step.name() && *batch == counter(step).load(Ordering::SeqCst) =>
            {
                Some(file.as_path())
            }
            _ => None,
        }
    }

    /// Dies as `kill -9` would, if the failpoint names this step; waits, if
    /// the pause names it.
    pub fn hit(step: Step) {
        if armed(step) {
            crash();
        }
        if let Some(file) = pause_file(step) {
            pause(file);
        }
    }

    /// Creates `file` and waits until it is removed.
    fn pause(file: &Path) {
        if std::fs::write(file, b"paused\n").is_err() {
            return;
        }
        while file.exists() {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Sends SIGKILL to this process: no destructor, no flush, no cleanup.
    pub fn crash() {
        // SAFETY: kill(2) on our own process id.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }

    /// The environment variable that shrinks the daemon's memory bounds.
    pub const SMALL_BOUNDS_VARIABLE: &str = "EMBOLINT_WATCH_SMALL_BOUNDS";

    /// `EMBOLINT_WATCH_SMALL_BOUNDS=1` shrinks the bounds on tracked plans and
    /// on queued file-system hints (to [`SMALL_MAX_TRACKED`] and
    /// [`SMALL_MAX_QUEUED_HINTS`]), so tests reach what happens past them with
    /// a few hundred plans instead of tens of thousands. Unset in service.
    pub fn small_bounds() -> bool {
        static SMALL: OnceLock<bool> = OnceLock::new();
        *SMALL.get_or_init(|| std::env::var(SMALL_BOUNDS_VARIABLE).is_ok_and(|v| v == "1"))
    }

    /// Most plans tracked under [`small_bounds`].
    pub const SMALL_MAX_TRACKED: usize = 32;

    /// Most hints queued under [`small_bounds`].
    pub const SMALL_MAX_QUEUED_HINTS: usize = 16;

    /// The environment variable naming a disk fault.
    pub const FAULT_VARIABLE: &str = "EMBOLINT_WATCH_FAULT";

    /// Fails with EIO if the fault variable names this operation (for
    /// [`Fault::LogSync`], in the current batch).
    pub fn fault(site: Fault) -> std::io::Result<()> {
        static WANTED: OnceLock<Option<(String, Option<u64>)>> = OnceLock::new();
        let wanted = WANTED.get_or_init(|| {
            let value = std::env::var(FAULT_VARIABLE).ok()?;
            Some(match value.split_once(':') {
                Some((name, batch)) => (name.to_string(), Some(batch.parse().ok()?)),
                None => (value, None),
            })
        });
        let now = BATCHES.load(Ordering::SeqCst);
        match wanted {
            Some((name, batch)) if name == site.name() && batch.map_or(true, |b| b == now) => {
                Err(std::io::Error::from_raw_os_error(libc::EIO))
            }
            _ => Ok(()),
        }
    }
}
