//! What is in the inbox, and which plans are ready to be read.
//!
//! The folder's listing is the truth; file-system events are hints that say
//! where to look first. A plan is ready once its fingerprint (inode, size,
//! times) has stayed the same for the settle time and no writer is known to
//! hold it open (an event said "modified" and no "closed after writing" came
//! since). Lost events cannot make a half-written plan ready: the settle time
//! alone still requires the file to be quiet.
//!
//! A plan that an event says was renamed into the inbox is ready at once:
//! SPEC §4 writers write under a temporary name and rename into place, so it
//! arrived complete. The fast path holds only for the version seen with the
//! event; any later change, or an event saying it is written to, drops it
//! and the settle time applies again.

use super::claim::{EntryKind, Fingerprint};
use super::file_name::{self, NameKind};
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a file said to be open for writing must stay unchanged before
/// it is read anyway (a writer that hangs, or a hard link, which brings no
/// "closed" event).
pub const WRITER_GRACE: Duration = Duration::from_secs(60);

/// A plan seen in the inbox, not yet judged.
#[derive(Clone, Debug)]
struct Pending {
    /// The version last seen.
    fingerprint: Fingerprint,
    /// When that version was first seen: it has been unchanged since.
    stable_since: Instant,
    /// An event said a writer has it open (modified, not yet closed).
    writing: bool,
    /// Reading it failed for a reason worth retrying later, not soon.
    postponed: bool,
    /// The version an event said was renamed into the inbox: while the
    /// plan is still exactly that version it need not settle.
    renamed_in: Option<Fingerprint>,
}

/// The inbox as the daemon knows it.
#[derive(Debug)]
pub struct Inbox {
    /// The inbox folder.
    dir: PathBuf,
    /// The folder's own identity, to notice it being removed or replaced.
    identity: (u64, u64),
    /// Plans waiting to settle or to be judged.
    pending: HashMap<OsString, Pending>,
    /// Entries already reported as not plans (name, and the version
    /// reported), so each is reported once and not in a loop.
    reported: HashMap<OsString, Fingerprint>,
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

impl Inbox {
    /// Starts tracking `dir`, which must exist.
    pub fn new(dir: &Path) -> io::Result<Inbox> {
        let meta = std::fs::metadata(dir)?;
        Ok(Inbox {
            dir: dir.to_path_buf(),
            identity: identity(&meta),
            pending: HashMap::new(),
            reported: HashMap::new(),
        })
    }

    /// The inbox folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Lists the whole folder and brings the pending plans up to date.
    pub fn scan(&mut self, now: Instant) -> Result<(), InboxLost> {
        let shown = self.dir.display().to_string();
        let lost = |reason: String| InboxLost { dir: shown.clone(), reason };
        let meta = std::fs::metadata(&self.dir).map_err(|e| lost(e.to_string()))?;
        if identity(&meta) != self.identity {
            return Err(lost("it is a different folder than at start-up".into()));
        }
        let entries = std::fs::read_dir(&self.dir).map_err(|e| lost(e.to_string()))?;
        let mut listed = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| lost(e.to_string()))?;
            let name = entry.file_name();
            self.look_at(&name, now);
            listed.push(name);
        }
        tracing::debug!(entries = listed.len(), pending = self.pending.len(), "inbox listed");
        listed.sort();
        let still_there = |name: &OsString| listed.binary_search(name).is_ok();
        self.pending.retain(|name, _| still_there(name));
        self.reported.retain(|name, _| still_there(name));
        Ok(())
    }

    /// Looks at one name (from a listing or an event).
    pub fn look_at(&mut self, name: &OsStr, now: Instant) {
        match file_name::classify(name) {
            NameKind::NotYet => {}
            NameKind::Other => {
                if let Ok(meta) = std::fs::symlink_metadata(self.dir.join(name)) {
                    let reason = "its name does not end in .json, so it is not a plan: left alone";
                    self.report_once(name, Fingerprint::of(&meta), reason);
                }
            }
            NameKind::Plan => match std::fs::symlink_metadata(self.dir.join(name)) {
                Ok(meta) => match EntryKind::of(&meta) {
                    EntryKind::File | EntryKind::Link => self.observe(name, &meta, now),
                    EntryKind::Special(what) => {
                        self.pending.remove(name);
                        let reason = format!(
                            "it is {what}, not a file: embolint never opens it; remove it or \
                             replace it with the plan file"
                        );
                        self.report_once(name, Fingerprint::of(&meta), &reason);
                    }
                },
                Err(_) => {
                    self.pending.remove(name);
                }
            },
        }
    }

    /// Records an event's word on whether a writer holds `name` open.
    pub fn set_writing(&mut self, name: &OsStr, writing: bool) {
        if let Some(pending) = self.pending.get_mut(name) {
            pending.writing = writing;
            if writing {
                // Written to after its rename: it was not complete after all.
                pending.renamed_in = None;
            }
        }
    }

    /// Records an event's word that `name` was just renamed into the inbox
    /// (call after [`Inbox::look_at`] for that event): the version seen now
    /// is complete and need not settle.
    pub fn renamed_in(&mut self, name: &OsStr) {
        if let Some(pending) = self.pending.get_mut(name) {
            pending.renamed_in = Some(pending.fingerprint);
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
            pending.postponed = true;
        }
    }

    /// Stops tracking a plan (judged, or gone).
    pub fn forget(&mut self, name: &OsStr) {
        self.pending.remove(name);
    }

    /// Plans ready to be read, oldest modification first, then by name.
    /// Each is confirmed unchanged by a fresh `lstat`.
    pub fn ready(&mut self, now: Instant, settle: Duration) -> Vec<(OsString, Fingerprint)> {
        let due: Vec<OsString> = self
            .pending
            .iter()
            .filter(|(_, p)| now.saturating_duration_since(p.stable_since) >= wait_of(p, settle))
            .map(|(name, _)| name.clone())
            .collect();
        let mut ready = Vec::new();
        for name in due {
            let before = self.pending.get(&name).map(|p| p.fingerprint);
            self.look_at(&name, now);
            let after = self.pending.get(&name).map(|p| p.fingerprint);
            if let (Some(before), Some(after)) = (before, after) {
                if before == after {
                    ready.push((name, after));
                }
            }
        }
        ready.sort_by(|(a, fa), (b, fb)| fa.mtime.cmp(&fb.mtime).then_with(|| a.cmp(b)));
        ready
    }

    /// When the next pending plan may become ready, if any is pending.
    pub fn next_due(&self, settle: Duration) -> Option<Instant> {
        self.pending.values().map(|p| p.stable_since + wait_of(p, settle)).min()
    }

    /// Starts or continues tracking a plan; a new version restarts its
    /// settle time.
    fn observe(&mut self, name: &OsStr, meta: &std::fs::Metadata, now: Instant) {
        let fingerprint = Fingerprint::of(meta);
        self.reported.remove(name);
        let pending = self.pending.entry(name.to_os_string()).or_insert(Pending {
            fingerprint,
            stable_since: now,
            writing: false,
            postponed: false,
            renamed_in: None,
        });
        if pending.fingerprint != fingerprint {
            pending.fingerprint = fingerprint;
            pending.stable_since = now;
            pending.postponed = false;
            pending.renamed_in = None;
        }
    }

    /// Logs that an entry is not a plan, once per version of it.
    fn report_once(&mut self, name: &OsStr, fingerprint: Fingerprint, reason: &str) {
        let same = |seen: &Fingerprint| (seen.dev, seen.ino, seen.kind);
        if self.reported.get(name).map(same) == Some(same(&fingerprint)) {
            return;
        }
        self.reported.insert(name.to_os_string(), fingerprint);
        tracing::warn!(
            file = %file_name::for_log(&file_name::display(name)),
            name_bytes = name.as_bytes().len(),
            "inbox entry is not judged: {reason}"
        );
    }
}

/// How long a pending plan must stay unchanged before it is ready.
fn wait_of(pending: &Pending, settle: Duration) -> Duration {
    if pending.writing || pending.postponed {
        WRITER_GRACE.max(settle)
    } else if pending.renamed_in == Some(pending.fingerprint) {
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
    fn a_removed_inbox_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let inbox_dir = dir.path().join("inbox");
        std::fs::create_dir(&inbox_dir).unwrap();
        let mut inbox = Inbox::new(&inbox_dir).unwrap();
        std::fs::remove_dir(&inbox_dir).unwrap();
        assert!(inbox.scan(Instant::now()).is_err());
    }
}
