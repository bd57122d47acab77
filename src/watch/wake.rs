//! Everything that wakes the daemon's loop: file-system hints from the
//! watcher thread and signals from the signal thread, through one queue
//! (see `wake_queue`, which bounds the hints).

use super::file_name::{self, NameKind};
use super::wake_queue::WakeQueue;
use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{Event, RecommendedWatcher, RecursiveMode, Watcher};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Why the loop woke up.
#[derive(Debug, PartialEq, Eq)]
pub enum Wake {
    /// Something happened to this inbox name; `writing` says whether a
    /// writer now holds it open (`Some(true)`), just closed it
    /// (`Some(false)`), or the event says nothing about it.
    Inbox {
        /// The name in the inbox.
        name: OsString,
        /// What the event says about a writer.
        writing: Option<bool>,
        /// The event says the name was just renamed into the inbox (from
        /// a temporary name, or from another folder): the file arrived
        /// complete and need not settle.
        renamed_in: bool,
    },
    /// Events were lost (queue overflow) or the watcher failed: list the
    /// whole inbox again.
    Rescan,
    /// Hints were dropped because too many were queued (a burst): plans
    /// may be in the inbox that the loop does not know of; it lists the
    /// inbox again once it has room for them.
    HintsLost,
    /// Something changed in a folder holding the rule or config file.
    Settings(PathBuf),
    /// SIGHUP: re-read the rule and config files now.
    Reload,
    /// Something changed in the folder of withdrawal requests.
    Requests,
    /// SIGTERM or SIGINT: finish the plan in hand and stop.
    Stop,
    /// Another intake (the HTTP service) has events to record, or asks the
    /// loop to stop after it finished its requests.
    Intake,
}

/// The file-system watcher; hints stop when it is dropped.
pub struct FsWatch {
    /// The notify watcher (inotify on Linux) for the requests folder and
    /// the folders of the rule and config files.
    watcher: RecommendedWatcher,
    /// The inbox's own watch (see [`InboxWatch`]).
    _inbox: InboxWatch,
    /// Folders watched for rule and config changes.
    settings_dirs: HashSet<PathBuf>,
}

impl FsWatch {
    /// Watches `inbox` and `requests` (not recursively), queueing hints
    /// into `wakes`.
    pub fn start(inbox: &Path, requests: &Path, wakes: Arc<WakeQueue>) -> notify::Result<FsWatch> {
        let inbox_watch =
            InboxWatch::start(inbox, Arc::clone(&wakes)).map_err(notify::Error::io)?;
        let dirs = Watched { requests: requests.to_path_buf() };
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<Event>| {
            for wake in hints(&dirs, event) {
                wakes.push(wake);
            }
        })?;
        watcher.watch(requests, RecursiveMode::NonRecursive)?;
        Ok(FsWatch { watcher, _inbox: inbox_watch, settings_dirs: HashSet::new() })
    }

    /// Also watches the folder holding a rule or config file, so edits are
    /// noticed without waiting for the periodic check.
    pub fn watch_settings_dir(&mut self, dir: &Path) -> notify::Result<()> {
        if self.settings_dirs.insert(dir.to_path_buf()) {
            if let Err(e) = self.watcher.watch(dir, RecursiveMode::NonRecursive) {
                self.settings_dirs.remove(dir);
                return Err(e);
            }
        }
        Ok(())
    }
}

/// The inbox's watch, on inotify directly rather than through notify, for
/// its cost in a burst: notify asks for an event on every *open* and every
/// move out of a file, so each plan the daemon read and placed woke its
/// thread twice for nothing, and it reads events 1 KiB at a time. This
/// watch asks only for the events that can bring a plan or change one
/// (created, written, closed, renamed in, attributes changed) and reads
/// them 64 KiB at a time. A name that leaves the inbox (moved out or
/// removed: nearly always the daemon's own moves) brings no hint: a plan
/// still tracked under it is found gone when it is looked at before its
/// reading, as every plan is. Its thread ends when the watch is dropped.
struct InboxWatch {
    /// Where the watch is removed from (on drop).
    watches: inotify::Watches,
    /// The inbox's watch.
    watch: inotify::WatchDescriptor,
    /// Set on drop: the end of the watch is not news.
    dropped: Arc<AtomicBool>,
}

/// What the inbox's watch asks inotify for.
fn inbox_mask() -> inotify::WatchMask {
    use inotify::WatchMask as M;
    M::CREATE
        | M::MODIFY
        | M::CLOSE_WRITE
        | M::ATTRIB
        | M::MOVED_TO
        | M::DELETE_SELF
        | M::MOVE_SELF
        | M::ONLYDIR
}

/// Bytes read from the inotify descriptor at once (a burst of renames
/// brings many events per read).
const EVENT_BUFFER_BYTES: usize = 64 * 1024;

impl InboxWatch {
    /// Starts watching `inbox`, queueing hints into `wakes`.
    fn start(inbox: &Path, wakes: Arc<WakeQueue>) -> io::Result<InboxWatch> {
        let mut inotify = inotify::Inotify::init()?;
        blocking(inotify.as_raw_fd())?;
        let mut watches = inotify.watches();
        let watch = watches.add(inbox, inbox_mask())?;
        let dropped = Arc::new(AtomicBool::new(false));
        let ended = Arc::clone(&dropped);
        let dir = inbox.to_path_buf();
        std::thread::Builder::new().name("inbox-events".into()).spawn(move || {
            let mut buffer = vec![0u8; EVENT_BUFFER_BYTES];
            loop {
                // The descriptor blocks: this waits for the next events.
                let events = match inotify.read_events(&mut buffer) {
                    Ok(events) => events,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                    Err(error) => {
                        tracing::warn!(%error, "cannot read the inbox's file-system events; listing the inbox again");
                        wakes.push(Wake::Rescan);
                        std::thread::sleep(std::time::Duration::from_secs(1));
                        continue;
                    }
                };
                let mut over = false;
                for event in events {
                    over |= event.mask.contains(inotify::EventMask::IGNORED);
                    if over && ended.load(Ordering::SeqCst) {
                        continue;
                    }
                    if let Some(wake) = inbox_hint(&dir, event.mask, event.name) {
                        wakes.push(wake);
                    }
                }
                if over {
                    return;
                }
            }
        })?;
        Ok(InboxWatch { watches, watch, dropped })
    }
}

/// Makes a descriptor blocking, once (where `read_events_blocking` would
/// ask twice per read).
fn blocking(fd: std::os::fd::RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we own, with no pointer arguments.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl Drop for InboxWatch {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
        // The thread ends on the IN_IGNORED this brings.
        let _ = self.watches.remove(self.watch.clone());
    }
}

/// Turns one inotify event of the inbox into a wake-up, if it is news.
fn inbox_hint(inbox: &Path, mask: inotify::EventMask, name: Option<&OsStr>) -> Option<Wake> {
    use inotify::EventMask as E;
    if mask.contains(E::Q_OVERFLOW) {
        tracing::warn!("file-system events were lost (queue overflow); listing the inbox again");
        return Some(Wake::Rescan);
    }
    if mask.intersects(E::DELETE_SELF | E::MOVE_SELF | E::IGNORED) {
        // The inbox itself went: the listing says so.
        return Some(Wake::Rescan);
    }
    let name = name?;
    // A writer's temporary name is not a plan yet: nothing to look at (its
    // rename into place brings its own hint).
    if file_name::classify(name) == NameKind::NotYet {
        return None;
    }
    let name = name.to_os_string();
    let writing = if mask.contains(E::CREATE) {
        Some(!made_whole(&inbox.join(&name)))
    } else if mask.contains(E::MODIFY) {
        Some(true)
    } else if mask.contains(E::CLOSE_WRITE) {
        Some(false)
    } else {
        None
    };
    Some(Wake::Inbox { name, writing, renamed_in: mask.contains(E::MOVED_TO) })
}

/// The folders whose events mean something other than "a settings file".
struct Watched {
    /// Where withdrawal requests arrive.
    requests: PathBuf,
}

/// Turns one notify event (the requests folder, the settings folders) into
/// wake-ups.
fn hints(dirs: &Watched, event: notify::Result<Event>) -> Vec<Wake> {
    let event = match event {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(%error, "file-system watcher error; listing the inbox again");
            return vec![Wake::Rescan];
        }
    };
    if event.need_rescan() {
        tracing::warn!("file-system events were lost (queue overflow); listing the inbox again");
        return vec![Wake::Rescan];
    }
    let writing = match event.kind {
        EventKind::Create(_) | EventKind::Modify(ModifyKind::Data(_)) => Some(true),
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => Some(false),
        EventKind::Access(_) => return Vec::new(), // our own reads
        _ => None,
    };
    event
        .paths
        .into_iter()
        .filter_map(|path| match path.parent() {
            Some(parent) if parent == dirs.requests => Some(Wake::Requests),
            // A rule or config file being written is read once closed.
            _ if writing == Some(true) => None,
            _ => Some(Wake::Settings(path)),
        })
        .collect()
}

/// Whether a name just created in the inbox came into being whole, so that
/// no writer can be holding it open: a symbolic link (`ln -s`: its target
/// is written with the link, at once) or a second name of an existing file
/// (`ln`: a hard link, `st_nlink` above one). Neither is followed by the
/// "closed after writing" event a writer's new file brings, so taking their
/// creation for a writer at work would hold them for the writer grace (60
/// s). They still wait the settle time like any file not renamed in, and a
/// change made through another name of a hard-linked file (its ctime)
/// starts that wait again; the daemon then judges a private copy of the
/// bytes it read (see `recorder::claim::take_own_copy`). A file a writer
/// creates (`cp`, an editor, a slow script) has one name when it is
/// created, and is waited for as before.
fn made_whole(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .is_ok_and(|meta| meta.file_type().is_symlink() || (meta.is_file() && meta.nlink() > 1))
}

/// Starts the thread that turns SIGTERM/SIGINT into [`Wake::Stop`] (and
/// sets `stop`, seen between plans) and SIGHUP into [`Wake::Reload`].
pub fn spawn_signal_thread(wakes: Arc<WakeQueue>, stop: Arc<AtomicBool>) -> io::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        for signal in signals.forever() {
            let wake = if signal == SIGHUP {
                Wake::Reload
            } else {
                stop.store(true, Ordering::SeqCst);
                Wake::Stop
            };
            wakes.push(wake);
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// A fresh queue, shared with the watcher.
    fn channel() -> (Arc<WakeQueue>, Arc<WakeQueue>) {
        let queue = Arc::new(WakeQueue::new());
        (Arc::clone(&queue), queue)
    }

    /// The inbox wake-ups for `name` that arrive within a second.
    fn wakes_for(wakes: &WakeQueue, name: &str) -> Vec<(Option<bool>, bool)> {
        let until = Instant::now() + Duration::from_secs(1);
        let mut seen = Vec::new();
        while let Some(wake) = wakes.wait(until.saturating_duration_since(Instant::now())) {
            if let Wake::Inbox { name: got, writing, renamed_in } = wake {
                if got == name {
                    seen.push((writing, renamed_in));
                }
            }
        }
        seen
    }

    /// A fresh temporary folder holding `inbox/` and `requests/`.
    fn watched_folders() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let (inbox, requests) = (dir.path().join("inbox"), dir.path().join("requests"));
        std::fs::create_dir(&inbox).unwrap();
        std::fs::create_dir(&requests).unwrap();
        (dir, inbox, requests)
    }

    #[test]
    fn a_rename_within_the_inbox_says_renamed_in() {
        let (_dir, inbox, requests) = watched_folders();
        let (send, wakes) = channel();
        let _watch = FsWatch::start(&inbox, &requests, send).unwrap();
        std::fs::write(inbox.join("a.json.tmp"), b"{}").unwrap();
        std::fs::rename(inbox.join("a.json.tmp"), inbox.join("a.json")).unwrap();
        let seen = wakes_for(&wakes, "a.json");
        assert!(seen.contains(&(None, true)), "{seen:?}");
        assert!(!seen.iter().any(|(writing, _)| *writing == Some(true)), "{seen:?}");
    }

    #[test]
    fn a_rename_from_another_folder_says_renamed_in() {
        let (dir, inbox, requests) = watched_folders();
        let outside = dir.path().join("a.json");
        std::fs::write(&outside, b"{}").unwrap();
        let (send, wakes) = channel();
        let _watch = FsWatch::start(&inbox, &requests, send).unwrap();
        std::fs::rename(&outside, inbox.join("a.json")).unwrap();
        assert_eq!(wakes_for(&wakes, "a.json"), [(None, true)]);
    }

    #[test]
    fn a_temporary_name_brings_no_hint() {
        let (_dir, inbox, requests) = watched_folders();
        let (send, wakes) = channel();
        let _watch = FsWatch::start(&inbox, &requests, send).unwrap();
        std::fs::write(inbox.join(".a.json.tmp"), b"{}").unwrap();
        std::fs::rename(inbox.join(".a.json.tmp"), inbox.join("a.json")).unwrap();
        let mut names = Vec::new();
        while let Some(wake) = wakes.wait(Duration::from_secs(1)) {
            if let Wake::Inbox { name, .. } = wake {
                names.push(name);
            }
        }
        assert!(!names.is_empty());
        assert!(names.iter().all(|name| name == "a.json"), "{names:?}");
    }

    #[test]
    fn a_plan_written_in_place_is_not_renamed_in() {
        let (_dir, inbox, requests) = watched_folders();
        let (send, wakes) = channel();
        let _watch = FsWatch::start(&inbox, &requests, send).unwrap();
        std::fs::write(inbox.join("a.json"), b"{}").unwrap();
        let seen = wakes_for(&wakes, "a.json");
        assert!(!seen.is_empty());
        assert!(seen.iter().all(|(_, renamed_in)| !renamed_in), "{seen:?}");
    }

    #[test]
    fn a_hard_link_or_a_symbolic_link_made_in_the_inbox_is_not_taken_for_a_writer() {
        let (dir, inbox, requests) = watched_folders();
        let outside = dir.path().join("plan.json");
        std::fs::write(&outside, b"{}").unwrap();
        let (send, wakes) = channel();
        let _watch = FsWatch::start(&inbox, &requests, send).unwrap();
        std::fs::hard_link(&outside, inbox.join("linked.json")).unwrap();
        let seen = wakes_for(&wakes, "linked.json");
        assert!(!seen.is_empty());
        assert!(seen.iter().all(|(writing, _)| *writing != Some(true)), "{seen:?}");
        std::os::unix::fs::symlink(&outside, inbox.join("symlink.json")).unwrap();
        let seen = wakes_for(&wakes, "symlink.json");
        assert!(!seen.is_empty());
        assert!(seen.iter().all(|(writing, _)| *writing != Some(true)), "{seen:?}");
    }

    #[test]
    fn reading_a_plan_and_moving_it_out_bring_no_hint() {
        let (dir, inbox, requests) = watched_folders();
        std::fs::write(inbox.join("a.json"), b"{}").unwrap();
        let (send, wakes) = channel();
        let _watch = FsWatch::start(&inbox, &requests, send).unwrap();
        assert_eq!(std::fs::read(inbox.join("a.json")).unwrap(), b"{}");
        std::fs::rename(inbox.join("a.json"), dir.path().join("a.json")).unwrap();
        let mut seen = Vec::new();
        while let Some(wake) = wakes.wait(Duration::from_secs(1)) {
            seen.push(wake);
        }
        assert_eq!(seen, []);
        // The watch still hears what comes in.
        std::fs::rename(dir.path().join("a.json"), inbox.join("b.json")).unwrap();
        assert_eq!(wakes_for(&wakes, "b.json"), [(None, true)]);
    }

    #[test]
    fn a_file_created_by_a_writer_is_taken_for_a_writer_until_it_is_closed() {
        let (_dir, inbox, requests) = watched_folders();
        let (send, wakes) = channel();
        let _watch = FsWatch::start(&inbox, &requests, send).unwrap();
        let file = std::fs::File::create(inbox.join("a.json")).unwrap();
        let seen = wakes_for(&wakes, "a.json");
        assert_eq!(seen.first(), Some(&(Some(true), false)), "{seen:?}");
        drop(file);
    }
}
