//! The served root's folders (SPEC §4) and the lock that keeps a second
//! daemon away from them.

use crate::verdict::Outcome;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// The folders of a served root.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The root itself.
    pub root: PathBuf,
    /// Where plans are dropped.
    pub inbox: PathBuf,
    /// Where `log/decisions.jsonl` lives.
    pub log: PathBuf,
    /// Where the lock file and the history live.
    pub state: PathBuf,
}

impl Layout {
    /// The folders of `root` (nothing is created yet).
    pub fn new(root: &Path) -> Layout {
        Layout {
            root: root.to_path_buf(),
            inbox: root.join("inbox"),
            log: root.join("log"),
            state: root.join("state"),
        }
    }

    /// The outcome folder of a verdict.
    pub fn outcome_dir(&self, outcome: Outcome) -> PathBuf {
        self.root.join(outcome.folder())
    }

    /// Every outcome folder.
    pub fn outcome_dirs(&self) -> [PathBuf; 3] {
        [Outcome::Pass, Outcome::Fail, Outcome::Invalid].map(|o| self.outcome_dir(o))
    }

    /// The decision log.
    pub fn decisions(&self) -> PathBuf {
        self.log.join("decisions.jsonl")
    }

    /// The patient history database (SPEC §5).
    pub fn history(&self) -> PathBuf {
        self.state.join("history.sqlite")
    }

    /// Where `embolint history --forget` leaves requests for the daemon.
    pub fn requests(&self) -> PathBuf {
        self.state.join("requests")
    }

    /// Creates every folder that is missing, and syncs the root so they stay.
    pub fn create(&self) -> io::Result<()> {
        std::fs::create_dir_all(&self.root)?;
        for dir in [&self.inbox, &self.log, &self.state]
            .into_iter()
            .cloned()
            .chain(self.outcome_dirs())
            .chain([self.requests()])
        {
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => {}
                Err(e) => return Err(e),
            }
        }
        File::open(&self.root)?.sync_all()
    }
}

/// The held lock of a root; released when dropped (or when the process
/// dies, however it dies).
#[derive(Debug)]
pub struct RootLock {
    /// Kept open: the `flock` lives as long as this descriptor.
    _file: File,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another daemon serves this root.
    #[error(
        "another `embolint watch` is already serving {root} (its process id is in {lock}, \
         currently: {holder}); stop it before starting a second one"
    )]
    Held {
        /// The served root.
        root: String,
        /// The lock file.
        lock: String,
        /// What the lock file says about its holder.
        holder: String,
    },
    /// The lock file itself could not be used.
    #[error("cannot use the lock file {lock}: {source}")]
    Io {
        /// The lock file.
        lock: String,
        /// The operating system's reason.
        source: io::Error,
    },
}

/// Takes `state/watch.lock` of the root, without waiting.
pub fn lock(layout: &Layout) -> Result<RootLock, LockError> {
    let path = layout.state.join("watch.lock");
    let io_error = |source| LockError::Io { lock: path.display().to_string(), source };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_error)?;
    // SAFETY: flock on a descriptor we own; no memory is shared.
    let taken = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if taken != 0 {
        let error = io::Error::last_os_error();
        if error.raw_os_error() == Some(libc::EWOULDBLOCK) {
            let holder = std::fs::read_to_string(&path).unwrap_or_default().trim().to_string();
            return Err(LockError::Held {
                root: layout.root.display().to_string(),
                lock: path.display().to_string(),
                holder: if holder.is_empty() { "unknown".into() } else { holder },
            });
        }
        return Err(io_error(error));
    }
    file.set_len(0).map_err(io_error)?;
    writeln!(file, "pid {}", std::process::id()).map_err(io_error)?;
    Ok(RootLock { _file: file })
}
