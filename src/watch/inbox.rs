//! What is in the inbox, and which plans are ready to be read.
//!
//! The folder's listing is the truth; file-system events are hints that say
//! where to look first. A plan is ready once its fingerprint (inode, size,
//! times) has stayed the same for the settle time and no writer is known to
//! hold it open (an event said "modified" and no "closed after writing" came
//! since). Lost events cannot make a half-written plan ready: the settle time
//! alone still requires the file to be quiet. The time a plan was quiet
//! before the daemon first saw it counts too, as its ctime shows (see
//! `quiet`): plans that waited while the daemon was down are read at once.
//!
//! A plan that an event says was renamed into the inbox is ready at once:
//! SPEC §4 writers write under a temporary name and rename into place, so it
//! arrived complete. The fast path holds only for the version seen with the
//! event; any later change, or an event saying it is written to, drops it
//! and the settle time applies again.
//!
//! Memory stays bounded however many plans arrive at once: at most
//! [`MAX_TRACKED`] plans are tracked. Past that, new names are left for a
//! later listing, which keeps only the oldest (by modification time) of the
//! untracked plans it meets, so older plans are still judged first (a
//! revision after the version it revises).

use super::file_name::{self, NameKind};
use super::oldest::Oldest;
use super::quiet::quiet_for;
use crate::recorder::claim::{EntryKind, Fingerprint};
use crate::recorder::failpoint;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// How long a file said to be open for writing must stay unchanged before
/// it is read anyway (a writer that hangs, or a hard link, which brings no
/// "closed" event).
pub const WRITER_GRACE: Duration = Duration::from_secs(60);

/// Most plans tracked at once (about 100 bytes each, plus the name): a
/// burst of any size costs the same memory.
pub const MAX_TRACKED: usize = 16_384;

/// Most plans [`Inbox::ready`] hands out at once, the oldest: the first
/// batch starts without sorting (or re-reading the metadata of) every
/// plan of a large backlog.
pub const READY_AT_ONCE: usize = 1024;

/// Above this capacity, an empty table gives its memory back.
const SHRINK_ABOVE: usize = 1024;

/// A plan seen in the inbox, not yet judged.
#[derive(Clone, Debug)]
struct Pending {
    /// The version last seen.
    fingerprint: Fingerprint,
    /// When that version was first seen: it has been unchanged since.
    stable_since: Instant,
    /// How long that version had already been unchanged when first seen,
    /// by its ctime: at least the settle time makes it ready at once.
    quiet_before: Duration,
    /// An event said a writer has it open (modified, not yet closed).
    writing: bool,
    /// Reading it failed for a reason worth retrying later, not soon.
    postponed: bool,
    /// An event said this version was renamed into the inbox: while the
    /// plan is still exactly this version it need not settle (any new
    /// version clears it).
    renamed_in: bool,
    /// Seen by the listing under way (those not seen are gone).
    listed: bool,
}

/// An entry reported as not a plan.
#[derive(Clone, Debug)]
struct Reported {
    /// The version reported.
    fingerprint: Fingerprint,
    /// Seen by the listing under way.
    listed: bool,
}

/// The inbox as the daemon knows it.
#[derive(Debug)]
pub struct Inbox {
    /// The inbox folder.
    dir: PathBuf,
    /// The folder's own identity, to notice it being removed or replaced.
    identity: (u64, u64),
    /// Plans waiting to settle or to be judged (at most [`MAX_TRACKED`]).
    pending: HashMap<Box<OsStr>, Pending>,
    /// Entries already reported as not plans, so each is reported once and
    /// not in a loop.
    reported: HashMap<Box<OsStr>, Reported>,
    /// Plans are in the inbox that are not tracked (there were too many):
    /// a listing must find them once there is room.
    untracked: bool,
    /// Most plans tracked: [`MAX_TRACKED`] (smaller in tests, see
    /// [`failpoint::small_bounds`]).
    max_tracked: usize,
}

/// The inbox folder is gone or was replaced: the daemon cannot go on.
#[derive(Debug, thiserror::Error)]
#[error(
    "the inbox {dir} cannot be listed any more ({reason}); it was removed, replaced or made \
     unreadable: restore it and restart embolint"
)]
pub struct InboxLost {
    /// The inbox folder.
    pub dir: String,
    /// What went wrong.
    pub reason: String,
}

/// An untracked plan met by a listing, ordered oldest first.
struct Found {
    /// Its name.
    name: Box<OsStr>,
    /// The version listed.
    fingerprint: Fingerprint,
}

impl Found {
    /// What orders plans: modification time, then name.
    fn key(&self) -> ((i64, i64), &OsStr) {
        (self.fingerprint.mtime, &self.name)
    }
}

impl PartialEq for Found {
    fn eq(&self, other: &Found) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Found {}

impl PartialOrd for Found {
    fn partial_cmp(&self, other: &Found) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Found {
    fn cmp(&self, other: &Found) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl Inbox {
    /// Starts tracking `dir`, which must exist.
    pub fn new(dir: &Path) -> io::Result<Inbox> {
        let meta = std::fs::metadata(dir)?;
        Ok(Inbox {
            dir: dir.to_path_buf(),
            identity: identity(&meta),
            pending: HashMap::new(),
            reported: HashMap::new(),
            untracked: false,
            max_tracked: if failpoint::small_bounds() {
                failpoint::SMALL_MAX_TRACKED
            } else {
                MAX_TRACKED
            },
        })
    }

    /// Starts tracking `dir` with a smaller bound, to test the bound.
    #[cfg(test)]
    fn with_max_tracked(dir: &Path, max_tracked: usize) -> Inbox {
        Inbox { max_tracked, ..Inbox::new(dir).unwrap() }
    }

    /// How many plans are known and waiting to be judged.
    pub fn tracked(&self) -> usize {
        self.pending.len()
    }

    /// The inbox folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Lists the whole folder, entry by entry, and brings the tracked plans
    /// up to date; of the untracked plans it meets, tracks the oldest that
    /// fit under [`MAX_TRACKED`].
    pub fn scan(&mut self, now: Instant) -> Result<(), InboxLost> {
        let shown = self.dir.display().to_string();
        let lost = |reason: String| InboxLost { dir: shown.clone(), reason };
        let meta = std::fs::metadata(&self.dir).map_err(|e| lost(e.to_string()))?;
        if identity(&meta) != self.identity {
            return Err(lost("it is a different folder than at start-up".into()));
        }
        let entries = std::fs::read_dir(&self.dir).map_err(|e| lost(e.to_string()))?;
        self.pending.values_mut().for_each(|p| p.listed = false);
        self.reported.values_mut().for_each(|r| r.listed = false);
        let mut found = Oldest::new(self.max_tracked.saturating_sub(self.pending.len()));
        let mut listed = 0usize;
        for entry in entries {
            let name = entry.map_err(|e| lost(e.to_string()))?.file_name();
            listed += 1;
            if self.pending.contains_key(name.as_os_str()) {
                self.look_at(&name, now);
            } else if let Some(fingerprint) = self.examine(&name) {
                found.offer(Found { name: name.into_boxed_os_str(), fingerprint });
            }
        }
        self.pending.retain(|_, p| p.listed);
        self.reported.retain(|_, r| r.listed);
        self.untracked = found.dropped_some();
        for plan in found.into_sorted() {
            self.observe(&plan.name, plan.fingerprint, now);
        }
        self.give_back_memory();
        tracing::debug!(
            entries = listed,
            pending = self.pending.len(),
            untracked = self.untracked,
            "inbox listed"
        );
        Ok(())
    }

    /// Whether plans were left untracked and there is room for them now
    /// (fewer than a quarter of the bound are tracked): the inbox should
    /// be listed again.
    pub fn wants_listing(&self) -> bool {
        self.untracked && self.pending.len() < self.max_tracked / 4
    }

    /// Looks at one name (from a listing or an event). A new plan while
    /// [`MAX_TRACKED`] are tracked is left for a later listing, unlooked at.
    pub fn look_at(&mut self, name: &OsStr, now: Instant) {
        let full = self.pending.len() >= self.max_tracked;
        if full && !self.pending.contains_key(name) && file_name::classify(name) == NameKind::Plan {
            self.untracked = true;
            return;
        }
        if let Some(fingerprint) = self.examine(name) {
            self.observe(name, fingerprint, now);
        }
    }

    /// Records that hints were dropped: plans may be in the inbox that are
    /// not tracked, so it is listed again once there is room.
    pub fn hints_lost(&mut self) {
        self.untracked = true;
    }

    /// Records an event's word on whether a writer holds `name` open.
    pub fn set_writing(&mut self, name: &OsStr, writing: bool) {
        if let Some(pending) = self.pending.get_mut(name) {
            pending.writing = writing;
            if writing {
                // Written to after its rename: it was not complete after all.
                pending.renamed_in = false;
            }
        }
    }

    /// Records an event's word that `name` was just renamed into the inbox
    /// (call after [`Inbox::look_at`] for that event): the version seen now
    /// is complete and need not settle.
    pub fn renamed_in(&mut self, name: &OsStr) {
        if let Some(pending) = self.pending.get_mut(name) {
            pending.renamed_in = true;
        }
    }

    /// Forgets every "being written" mark: events were lost, so the settle
    /// time alone decides.
    pub fn forget_writers(&mut self) {
        for pending in self.pending.values_mut() {
            pending.writing = false;
        }
    }

    /// Retries a plan only after [`WRITER_GRACE`] (reading it failed).
    pub fn postpone(&mut self, name: &OsStr, now: Instant) {
        if let Some(pending) = self.pending.get_mut(name) {
            pending.stable_since = now;
            pending.quiet_before = Duration::ZERO;
            pending.postponed = true;
        }
    }

    /// Stops tracking a plan (judged, or gone).
    pub fn forget(&mut self, name: &OsStr) {
        self.pending.remove(name);
        self.give_back_memory();
    }

    /// At most [`READY_AT_ONCE`] plans ready to be read, the oldest by
    /// modification time, then by name, in that order. Each is confirmed
    /// unchanged by a fresh `lstat`.
    pub fn ready(&mut self, now: Instant, settle: Duration) -> Vec<(OsString, Fingerprint)> {
        let mut oldest = Oldest::new(READY_AT_ONCE);
        for (name, pending) in &self.pending {
            if now.saturating_duration_since(pending.stable_since) >= wait_of(pending, settle) {
                oldest.offer((pending.fingerprint.mtime, &**name));
            }
        }
        let due: Vec<OsString> =
            oldest.into_sorted().into_iter().map(|(_, name)| name.to_os_string()).collect();
        let mut ready = Vec::with_capacity(due.len());
        for name in due {
            let before = self.pending.get(name.as_os_str()).map(|p| p.fingerprint);
            self.look_at(&name, now);
            let after = self.pending.get(name.as_os_str()).map(|p| p.fingerprint);
            if let (Some(before), Some(after)) = (before, after) {
                if before == after {
                    ready.push((name, after));
                }
            }
        }
        ready
    }

    /// When the next pending plan may become ready, if any is pending.
    pub fn next_due(&self, settle: Duration) -> Option<Instant> {
        self.pending.values().map(|p| p.stable_since + wait_of(p, settle)).min()
    }

    /// Classifies a name and looks at its entry (`lstat`, never followed):
    /// the fingerprint of a plan file or link; `None` for anything else,
    /// which is reported once if it is not a plan and forgotten if tracked.
    fn examine(&mut self, name: &OsStr) -> Option<Fingerprint> {
        match file_name::classify(name) {
            NameKind::NotYet => None,
            NameKind::Other => {
                if let Ok(meta) = std::fs::symlink_metadata(self.dir.join(name)) {
                    let reason = "its name does not end in .json, so it is not a plan: left alone";
                    self.report_once(name, Fingerprint::of(&meta), reason);
                }
                None
            }
            NameKind::Plan => match std::fs::symlink_metadata(self.dir.join(name)) {
                Ok(meta) => match EntryKind::of(&meta) {
                    EntryKind::File | EntryKind::Link => Some(Fingerprint::of(&meta)),
                    EntryKind::Special(what) => {
                        self.pending.remove(name);
                        let reason = format!(
                            "it is {what}, not a file: embolint never opens it; remove it or \
                             replace it with the plan file"
                        );
                        self.report_once(name, Fingerprint::of(&meta), &reason);
                        None
                    }
                },
                Err(_) => {
                    self.pending.remove(name);
                    None
                }
            },
        }
    }

    /// Starts or continues tracking a plan; a new version restarts its
    /// settle time (unless its ctime shows it was already quiet that long).
    fn observe(&mut self, name: &OsStr, fingerprint: Fingerprint, now: Instant) {
        self.reported.remove(name);
        if let Some(pending) = self.pending.get_mut(name) {
            pending.listed = true;
            if pending.fingerprint != fingerprint {
                pending.fingerprint = fingerprint;
                pending.stable_since = now;
                pending.quiet_before = quiet_for(&fingerprint, SystemTime::now());
                pending.postponed = false;
                pending.renamed_in = false;
            }
            return;
        }
        let pending = Pending {
            fingerprint,
            stable_since: now,
            quiet_before: quiet_for(&fingerprint, SystemTime::now()),
            writing: false,
            postponed: false,
            renamed_in: false,
            listed: true,
        };
        self.pending.insert(name.into(), pending);
    }

    /// Logs that an entry is not a plan, once per version of it.
    fn report_once(&mut self, name: &OsStr, fingerprint: Fingerprint, reason: &str) {
        let same = |seen: &Fingerprint| (seen.dev, seen.ino, seen.kind);
        if let Some(reported) = self.reported.get_mut(name) {
            reported.listed = true;
            if same(&reported.fingerprint) == same(&fingerprint) {
                return;
            }
        }
        self.reported.insert(name.into(), Reported { fingerprint, listed: true });
        tracing::warn!(
            file = %file_name::for_log(&file_name::display(name)),
            name_bytes = name.as_bytes().len(),
            "inbox entry is not judged: {reason}"
        );
    }

    /// Gives the tables' memory back once they are empty after a burst.
    fn give_back_memory(&mut self) {
        if self.pending.is_empty() && self.pending.capacity() > SHRINK_ABOVE {
            self.pending.shrink_to_fit();
        }
        if self.reported.is_empty() && self.reported.capacity() > SHRINK_ABOVE {
            self.reported.shrink_to_fit();
        }
    }
}

/// How long a pending plan must stay unchanged before it is ready.
fn wait_of(pending: &Pending, settle: Duration) -> Duration {
    if pending.writing || pending.postponed {
        WRITER_GRACE.max(settle)
    } else if pending.renamed_in || pending.quiet_before >= settle {
        Duration::ZERO
    } else {
        settle
    }
}

/// Device and inode of a folder.
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(ready: &[(OsString, Fingerprint)]) -> Vec<&str> {
        ready.iter().map(|(n, _)| n.to_str().unwrap()).collect()
    }

    #[test]
    fn a_plan_is_ready_only_after_the_settle_time() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), b"{}").unwrap();
        std::fs::write(dir.path().join("a.json.part"), b"{").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"").unwrap();
        let mut inbox = Inbox::new(dir.path()).unwrap();
        let start = Instant::now();
        inbox.scan(start).unwrap();
        let settle = Duration::from_secs(5);
        assert!(inbox.ready(start, settle).is_empty());
        assert_eq!(inbox.next_due(settle), Some(start + settle));
        assert_eq!(names(&inbox.ready(start + settle, settle)), ["a.json"]);
    }

    #[test]
    fn a_file_being_written_waits_for_its_writer() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), b"{").unwrap();
        let mut inbox = Inbox::new(dir.path()).unwrap();
        let start = Instant::now();
        inbox.scan(start).unwrap();
        inbox.set_writing(OsStr::new("a.json"), true);
        let settle = Duration::from_secs(1);
        assert!(inbox.ready(start + settle, settle).is_empty());
        inbox.set_writing(OsStr::new("a.json"), false);
        assert_eq!(names(&inbox.ready(start + settle, settle)), ["a.json"]);
    }

    #[test]
    fn a_change_restarts_the_settle_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        std::fs::write(&path, b"{").unwrap();
        let mut inbox = Inbox::new(dir.path()).unwrap();
        let start = Instant::now();
        inbox.scan(start).unwrap();
        std::fs::write(&path, b"{}").unwrap();
        let settle = Duration::from_secs(1);
        assert!(inbox.ready(start + settle, settle).is_empty());
        assert_eq!(names(&inbox.ready(start + settle * 2, settle)), ["a.json"]);
    }

    #[test]
    fn a_renamed_in_plan_is_ready_at_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json.tmp"), b"{}").unwrap();
        std::fs::rename(dir.path().join("a.json.tmp"), dir.path().join("a.json")).unwrap();
        let mut inbox = Inbox::new(dir.path()).unwrap();
        let start = Instant::now();
        inbox.look_at(OsStr::new("a.json"), start);
        inbox.renamed_in(OsStr::new("a.json"));
        let settle = Duration::from_secs(5);
        assert_eq!(inbox.next_due(settle), Some(start));
        assert_eq!(names(&inbox.ready(start, settle)), ["a.json"]);
    }

    #[test]
    fn a_write_after_the_rename_brings_back_the_settle_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        std::fs::write(&path, b"{").unwrap();
        let mut inbox = Inbox::new(dir.path()).unwrap();
        let start = Instant::now();
        inbox.look_at(OsStr::new("a.json"), start);
        inbox.renamed_in(OsStr::new("a.json"));
        std::fs::write(&path, b"{}").unwrap();
        let settle = Duration::from_secs(5);
        assert!(inbox.ready(start, settle).is_empty());
        // Now the changed version: its own settle time, and no fast path.
        assert!(inbox.ready(start + settle / 2, settle).is_empty());
        assert_eq!(names(&inbox.ready(start + settle * 2, settle)), ["a.json"]);
    }

    #[test]
    fn a_write_event_after_the_rename_brings_back_the_settle_time() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), b"{}").unwrap();
        let mut inbox = Inbox::new(dir.path()).unwrap();
        let start = Instant::now();
        inbox.look_at(OsStr::new("a.json"), start);
        inbox.renamed_in(OsStr::new("a.json"));
        inbox.set_writing(OsStr::new("a.json"), true);
        inbox.set_writing(OsStr::new("a.json"), false);
        let settle = Duration::from_secs(5);
        assert!(inbox.ready(start, settle).is_empty());
        assert_eq!(names(&inbox.ready(start + settle, settle)), ["a.json"]);
    }

    #[test]
    fn a_plan_found_by_listing_still_settles() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json.tmp"), b"{}").unwrap();
        std::fs::rename(dir.path().join("a.json.tmp"), dir.path().join("a.json")).unwrap();
        let mut inbox = Inbox::new(dir.path()).unwrap();
        let start = Instant::now();
        inbox.scan(start).unwrap();
        let settle = Duration::from_secs(5);
        assert!(inbox.ready(start, settle).is_empty());
    }

    #[test]
    fn a_listed_plan_quiet_for_the_settle_time_by_its_ctime_is_ready_at_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), b"{}").unwrap();
        let settle = Duration::from_millis(100);
        std::thread::sleep(settle + crate::watch::quiet::CTIME_TICK * 2);
        let mut inbox = Inbox::new(dir.path()).unwrap();
        let start = Instant::now();
        inbox.scan(start).unwrap();
        assert!(inbox.next_due(settle).unwrap() <= start);
        assert_eq!(names(&inbox.ready(start, settle)), ["a.json"]);
    }

    #[test]
    fn a_listed_plan_changed_recently_waits_the_whole_settle_time() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), b"{}").unwrap();
        std::thread::sleep(crate::watch::quiet::CTIME_TICK * 3);
        let mut inbox = Inbox::new(dir.path()).unwrap();
        let start = Instant::now();
        inbox.scan(start).unwrap();
        let settle = Duration::from_secs(10);
        assert!(inbox.ready(start, settle).is_empty());
        assert_eq!(inbox.next_due(settle), Some(start + settle));
    }

    #[test]
    fn a_plan_written_again_after_an_old_ctime_waits_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        std::fs::write(&path, b"{").unwrap();
        let settle = Duration::from_millis(100);
        std::thread::sleep(settle + crate::watch::quiet::CTIME_TICK * 2);
        let mut inbox = Inbox::new(dir.path()).unwrap();
        let start = Instant::now();
        inbox.scan(start).unwrap();
        std::fs::write(&path, b"{}").unwrap();
        // Its new version is seen when it is due, and waits again.
        assert!(inbox.ready(start, settle).is_empty());
        assert_eq!(inbox.next_due(settle), Some(start + settle));
    }

    /// Writes `count` plans whose modification times go up with their number.
    fn plans_in_order(dir: &Path, count: usize) {
        for i in 0..count {
            let path = dir.join(format!("p{i:02}.json"));
            std::fs::write(&path, b"{}").unwrap();
            let mtime = std::time::UNIX_EPOCH + Duration::from_secs(1_000_000 + i as u64);
            std::fs::File::options().write(true).open(&path).unwrap().set_modified(mtime).unwrap();
        }
    }

    #[test]
    fn past_the_bound_the_oldest_plans_are_tracked_and_the_rest_found_later() {
        let dir = tempfile::tempdir().unwrap();
        plans_in_order(dir.path(), 10);
        let mut inbox = Inbox::with_max_tracked(dir.path(), 4);
        let start = Instant::now();
        inbox.scan(start).unwrap();
        let settle = Duration::ZERO;
        let ready = inbox.ready(start, settle);
        assert_eq!(names(&ready), ["p00.json", "p01.json", "p02.json", "p03.json"]);
        // A new plan while full is left for a later listing.
        std::fs::write(dir.path().join("new.json"), b"{}").unwrap();
        inbox.look_at(OsStr::new("new.json"), start);
        assert_eq!(inbox.ready(start, settle).len(), 4);
        assert!(!inbox.wants_listing());
        for (name, _) in &ready {
            std::fs::remove_file(dir.path().join(name)).unwrap();
            inbox.forget(name);
        }
        assert!(inbox.wants_listing());
        inbox.scan(start).unwrap();
        let next = inbox.ready(start, settle);
        assert_eq!(names(&next), ["p04.json", "p05.json", "p06.json", "p07.json"]);
        for (name, _) in &next {
            std::fs::remove_file(dir.path().join(name)).unwrap();
            inbox.forget(name);
        }
        inbox.scan(start).unwrap();
        assert_eq!(names(&inbox.ready(start, settle)), ["p08.json", "p09.json", "new.json"]);
        assert!(!inbox.wants_listing());
    }

    #[test]
    fn ready_hands_out_the_oldest_first_and_no_more_than_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        let mut inbox = Inbox::new(dir.path()).unwrap();
        let start = Instant::now();
        for i in 0..READY_AT_ONCE + 5 {
            let name = format!("p{i:05}.json");
            std::fs::write(dir.path().join(&name), b"{}").unwrap();
            inbox.look_at(OsStr::new(&name), start);
            inbox.renamed_in(OsStr::new(&name));
        }
        let ready = inbox.ready(start, Duration::from_secs(5));
        assert_eq!(ready.len(), READY_AT_ONCE);
        let order: Vec<_> = ready.iter().map(|(n, f)| (f.mtime, n.clone())).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted);
    }

    #[test]
    fn a_removed_inbox_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let inbox_dir = dir.path().join("inbox");
        std::fs::create_dir(&inbox_dir).unwrap();
        let mut inbox = Inbox::new(&inbox_dir).unwrap();
        std::fs::remove_dir(&inbox_dir).unwrap();
        assert!(inbox.scan(Instant::now()).is_err());
    }
}
