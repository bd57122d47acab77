//! The served root's folders (SPEC §4) and the lock that keeps a second
//! daemon away from them.

use super::folder::Folder;
use crate::verdict::Outcome;
use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
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
        Outcome::ALL.map(|o| self.outcome_dir(o))
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

    /// Where verdict files are written under temporary names before they
    /// are renamed beside their plans (see [`Folders::writing_for`]).
    pub fn writing(&self) -> PathBuf {
        self.state.join(WRITING)
    }

    /// Every folder of the root (not the root itself), parents first.
    pub fn folders(&self) -> Vec<PathBuf> {
        [&self.inbox, &self.log, &self.state]
            .into_iter()
            .cloned()
            .chain(self.outcome_dirs())
            .chain([self.requests(), self.writing()])
            .collect()
    }

    /// Creates every folder that is missing, and syncs the root so they stay.
    /// A folder that is a symbolic link, or not a folder, is refused:
    /// embolint never writes through a link, so nothing it writes can land
    /// outside the root.
    /// `state/rules/`: a copy of every rule file the daemon put in force,
    /// named by its sha256, as the decision records name it.
    pub fn rule_files(&self) -> PathBuf {
        self.state.join("rules")
    }

    pub fn create(&self) -> io::Result<()> {
        if !self.root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("the root folder {} does not exist", self.root.display()),
            ));
        }
        for dir in self.folders() {
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => real_folder(&dir)?,
                Err(e) => return Err(e),
            }
        }
        File::open(&self.root)?.sync_all()
    }
}

/// The root's folders, held open (see `folder`): the daemon reads and
/// writes plans, verdict files and its temporary files only through these.
#[derive(Debug)]
pub struct Folders {
    /// The root itself.
    pub root: Folder,
    /// Where plans are dropped.
    pub inbox: Folder,
    /// `passed/`.
    pub passed: Folder,
    /// `failed/`.
    pub failed: Folder,
    /// `invalid/`.
    pub invalid: Folder,
    /// `state/writing/`: verdict files being written, under temporary names.
    pub writing: Folder,
}

/// The name of `state/writing/`.
const WRITING: &str = "writing";

impl Folders {
    /// Opens the root and its folders (which exist: see [`Layout::create`]),
    /// refusing any that is a symbolic link.
    pub fn open(layout: &Layout) -> io::Result<Folders> {
        let root = Folder::open(&layout.root)?;
        let sub = |name: &str| {
            root.open_sub(name).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot open {}: {e}", layout.root.join(name).display()),
                )
            })
        };
        let writing = sub("state")?.open_sub(WRITING).map_err(|e| {
            let path = layout.writing();
            io::Error::new(e.kind(), format!("cannot open {}: {e}", path.display()))
        })?;
        Ok(Folders {
            writing,
            inbox: sub("inbox")?,
            passed: sub(Outcome::Pass.folder())?,
            failed: sub(Outcome::Fail.folder())?,
            invalid: sub(Outcome::Invalid.folder())?,
            root,
        })
    }

    /// The outcome folder of a verdict.
    pub fn of(&self, outcome: Outcome) -> &Folder {
        match outcome {
            Outcome::Pass => &self.passed,
            Outcome::Fail => &self.failed,
            Outcome::Invalid => &self.invalid,
        }
    }

    /// The outcome folder named `name` (`passed`, `failed`, `invalid`).
    pub fn outcome(&self, name: &str) -> Option<&Folder> {
        [&self.passed, &self.failed, &self.invalid]
            .into_iter()
            .find(|f| f.path().file_name().is_some_and(|n| n == name))
    }

    /// Where a verdict file bound for `dir` is written under a temporary
    /// name: `state/writing/`, a small folder, so that creating it and
    /// renaming it away cost no look-up in `dir`, which holds every plan
    /// ever judged (measured: docs/performance.md). Should `dir` be on
    /// another file system or mount (a rename could not move the file),
    /// `dir` itself.
    pub fn writing_for<'a>(&'a self, dir: &'a Folder) -> &'a Folder {
        if self.writing.same_mount_as(dir) {
            &self.writing
        } else {
            dir
        }
    }

    /// A place a record names, relative to the root (`passed/NAME`): its
    /// outcome folder and the name there. `None` for anything else — a
    /// record is data read from disk and must not steer a write elsewhere.
    pub fn place<'a>(&self, relative: &'a str) -> Option<(&Folder, &'a OsStr)> {
        let (folder, name) = relative.split_once('/')?;
        let single = !name.is_empty() && !name.contains('/') && name != "." && name != "..";
        Some((self.outcome(folder)?, OsStr::new(name))).filter(|_| single)
    }

    /// `Ok` while every held folder is still the one at its path; an error
    /// naming the one that was replaced (checked before each batch writes
    /// anything, and at each re-scan).
    pub fn check(&self) -> io::Result<()> {
        [&self.root, &self.inbox, &self.passed, &self.failed, &self.invalid, &self.writing]
            .into_iter()
            .try_for_each(Folder::check)
    }
}

/// `Ok` when `dir` is a folder itself (`lstat`, never following a link);
/// otherwise an error saying what it is and what to do.
fn real_folder(dir: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(dir).map_err(|e| {
        let what = format!(
            "{} cannot be looked at ({e}); if it was removed, restart embolint to create it again",
            dir.display()
        );
        io::Error::new(e.kind(), what)
    })?;
    if meta.is_dir() {
        return Ok(());
    }
    let what = if meta.file_type().is_symlink() {
        let target = std::fs::read_link(dir).map(|t| t.display().to_string()).unwrap_or_default();
        format!(
            "{} is a symbolic link (to {target}); embolint never writes through a link, so \
             that nothing it writes can land outside its root: make it a real folder",
            dir.display()
        )
    } else {
        format!("{} is not a folder: move it away so embolint can create the folder", dir.display())
    };
    Err(io::Error::new(io::ErrorKind::InvalidInput, what))
}

/// The held lock of a root; released when dropped (or when the process
/// dies, however it dies).
///
/// The lock is on the root folder itself, not on a file in it: a lock file
/// can be deleted and created anew under a running daemon (a "stale lock"
/// cleanup, tmpfiles.d), and a second daemon would then lock the new file.
/// The root folder cannot be replaced under the daemon without removing
/// every folder in it. `state/watch.lock` only says who holds the lock.
#[derive(Debug)]
pub struct RootLock {
    /// The root folder, kept open: the `flock` lives as long as this
    /// descriptor.
    _root: File,
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

/// Locks the root folder (`flock` on the folder itself), without waiting,
/// and notes the holder's process id in `state/watch.lock`.
pub fn lock(layout: &Layout) -> Result<RootLock, LockError> {
    let path = layout.state.join("watch.lock");
    let root_error = |source| LockError::Io { lock: layout.root.display().to_string(), source };
    let root = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&layout.root)
        .map_err(root_error)?;
    // SAFETY: flock on a descriptor we own; no memory is shared.
    let taken = unsafe { libc::flock(root.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
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
        return Err(root_error(error));
    }
    let io_error = |source| LockError::Io { lock: path.display().to_string(), source };
    let mut note = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .map_err(io_error)?;
    writeln!(note, "pid {}", std::process::id()).map_err(io_error)?;
    Ok(RootLock { _root: root })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_that_is_a_link_is_refused_and_nothing_is_written_through_it() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let layout = Layout::new(&dir.path().join("root"));
        std::fs::create_dir(&layout.root).unwrap();
        layout.create().unwrap();
        let passed = layout.outcome_dir(Outcome::Pass);
        std::fs::remove_dir(&passed).unwrap();
        std::os::unix::fs::symlink(&outside, &passed).unwrap();
        let error = layout.create().unwrap_err();
        assert!(error.to_string().contains("never writes through a link"), "{error}");
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    }

    #[test]
    fn verdict_files_are_written_in_state_writing_only_where_a_rename_can_move_them() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(&dir.path().join("root"));
        std::fs::create_dir(&layout.root).unwrap();
        layout.create().unwrap();
        let folders = Folders::open(&layout).unwrap();
        assert_eq!(folders.writing.path(), layout.writing());
        for outcome in Outcome::ALL {
            let dir = folders.of(outcome);
            assert!(std::ptr::eq(folders.writing_for(dir), &folders.writing), "{outcome:?}");
        }
        // A folder of another file system (here /proc): its own.
        let elsewhere = Folder::open(Path::new("/proc")).unwrap();
        assert!(std::ptr::eq(folders.writing_for(&elsewhere), &elsewhere));
    }
}
