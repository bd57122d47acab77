use std::ffi::CString;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Each plan's moments, in nanoseconds after `origin` plus one (0: not yet).
pub struct Tracker {
    /// The zero of every stamp.
    pub origin: Instant,
    /// The prefix of this phase's file names.
    prefix: &'static str,
    /// Just before the plan was renamed into the inbox.
    pub renamed: Vec<AtomicU64>,
    /// When its record's line was seen in the log.
    pub line: Vec<AtomicU64>,
    /// When it was seen leaving the inbox (after its record's sync).
    pub left: Vec<AtomicU64>,
    /// Plans with both `line` and `left`.
    done: AtomicUsize,
    /// Leave times taken by a listing after lost events (later than the truth).
    pub fallback_leaves: AtomicUsize,
}

impl Tracker {
    /// A tracker for `count` plans named `PREFIX-NNNNNN.json`.
    pub fn new(prefix: &'static str, count: usize) -> Tracker {
        let slots = || (0..count).map(|_| AtomicU64::new(0)).collect();
        Tracker {
            origin: Instant::now(),
            prefix,
            renamed: slots(),
            line: slots(),
            left: slots(),
            done: AtomicUsize::new(0),
            fallback_leaves: AtomicUsize::new(0),
        }
    }

    /// The stamp for `at`.
    pub fn stamp_of(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.origin).as_nanos()).unwrap_or(u64::MAX - 1)
            + 1
    }

    /// Stamps plan `i`'s rename now.
    pub fn stamp_renamed(&self, i: usize) {
        if let Some(slot) = self.renamed.get(i) {
            slot.store(self.stamp_of(Instant::now()), Ordering::SeqCst);
        }
    }

    /// Stamps every plan as renamed at `at` (a backlog: from the spawn).
    pub fn stamp_all_renamed(&self, at: Instant) {
        let stamp = self.stamp_of(at);
        for slot in &self.renamed {
            slot.store(stamp, Ordering::SeqCst);
        }
    }

    /// Plans recorded and out of the inbox.
    pub fn done(&self) -> usize {
        self.done.load(Ordering::SeqCst)
    }

    /// A stamp as a time after `origin`.
    pub fn time(slot: &AtomicU64) -> Option<Duration> {
        match slot.load(Ordering::SeqCst) {
            0 => None,
            stamp => Some(Duration::from_nanos(stamp - 1)),
        }
    }

    /// Sets a first stamp; counts the plan done when its other stamp is there.
    fn mark(&self, mine: &AtomicU64, other: &AtomicU64, stamp: u64) {
        let first = mine.compare_exchange(0, stamp, Ordering::SeqCst, Ordering::SeqCst).is_ok();
        if first && other.load(Ordering::SeqCst) != 0 {
            self.done.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// The plan number of a file name of this phase.
    fn index_of(&self, name: &[u8]) -> Option<usize> {
        let name = std::str::from_utf8(name).ok()?;
        let digits = name.strip_prefix(self.prefix)?.strip_prefix('-')?.strip_suffix(".json")?;
        let i: usize = digits.parse().ok()?;
        (i < self.renamed.len()).then_some(i)
    }
}

/// What watching found, for the report.
pub struct Watched {
    /// The decision log.
    pub log_path: PathBuf,
    /// Its length when the phase began: this phase's records follow.
    pub log_start: u64,
    /// Anything that makes the figures doubtful.
    pub problems: Vec<String>,
}

/// The watching thread.
pub struct Observer {
    /// Tells it to end.
    stop: Arc<AtomicBool>,
    /// It returns what it found.
    handle: JoinHandle<Watched>,
}

impl Observer {
    /// Starts watching; every event after this call is seen.
    pub fn start(root: &Path, tracker: Arc<Tracker>) -> Result<Observer, String> {
        let mut watch = Watch::new(root, tracker)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                watch.step(20);
            }
            watch.step(0);
            watch.into_watched()
        });
        Ok(Observer { stop, handle })
    }

    /// Stops watching (after one last look).
    pub fn stop(self) -> Result<Watched, String> {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().map_err(|_| "the log-watching thread failed".to_string())
    }
}

/// Size of an inotify event's fixed part.
const EVENT_HEAD: usize = 16;
/// What precedes the inbox name in a record (the `watch` member, last).
const NAME_KEY: &[u8] = b"\"inbox_name\":\"";

/// The watching thread's state.
struct Watch {
    /// The inotify instance.
    fd: OwnedFd,
    /// Its watch on the inbox (plans leaving: `IN_MOVED_FROM`).
    inbox_wd: i32,
    /// The inbox, for listings after lost events.
    inbox: PathBuf,
    /// The decision log.
    log_path: PathBuf,
    /// The log, once it exists.
    log: Option<File>,
    /// The log's length at the start.
    log_start: u64,
    /// Bytes of a line not yet complete.
    partial: Vec<u8>,
    /// Plans stamped.
    tracker: Arc<Tracker>,
    /// Set when the kernel dropped events (queue overflow).
    overflowed: bool,
    /// Non-fatal troubles.
    problems: Vec<String>,
    /// Where inotify events are read into (kept: allocated once).
    events: Vec<u8>,
}

impl Watch {
    /// Sets up inotify and opens the log at its current end.
    fn new(root: &Path, tracker: Arc<Tracker>) -> Result<Watch, String> {
        // SAFETY: inotify_init1 has no preconditions; the fd is owned below.
        let raw = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if raw < 0 {
            return Err(format!("inotify: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let inbox = root.join("inbox");
        let inbox_wd = add_watch(&fd, &inbox, libc::IN_MOVED_FROM | libc::IN_DELETE)?;
        add_watch(&fd, &root.join("log"), libc::IN_MODIFY | libc::IN_CREATE)?;
        let log_path = root.join("log/decisions.jsonl");
        let mut watch = Watch {
            fd,
            inbox_wd,
            inbox,
            log_path,
            log: None,
            log_start: 0,
            partial: Vec::new(),
            tracker,
            overflowed: false,
            problems: Vec::new(),
            events: vec![0u8; 256 * 1024],
        };
        if let Ok(mut file) = File::open(&watch.log_path) {
            watch.log_start = file.seek(SeekFrom::End(0)).map_err(|e| e.to_string())?;
            watch.log = Some(file);
        }
        Ok(watch)
    }

    /// Waits up to `timeout_ms` for events, then stamps what they and
    /// the log's new lines say.
    fn step(&mut self, timeout_ms: i32) {
        let mut poll = libc::pollfd { fd: self.fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut poll, 1, timeout_ms) };
        let mut leaving = Vec::new();
        let mut buf = std::mem::take(&mut self.events);
        loop {
            // SAFETY: reading into a buffer we own, of its length.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            let Ok(n) = usize::try_from(n) else { break };
            if n == 0 {
                break;
            }
            self.parse(buf.get(..n).unwrap_or_default(), &mut leaving);
        }
        self.events = buf;
        let stamp = self.tracker.stamp_of(Instant::now());
        for i in leaving {
            if let (Some(left), Some(line)) = (self.tracker.left.get(i), self.tracker.line.get(i)) {
                self.tracker.mark(left, line, stamp);
            }
        }
        self.read_log(stamp);
        if self.overflowed {
            self.list_inbox(stamp);
        }
    }

    /// Collects the plans an event buffer shows leaving the inbox.
    fn parse(&mut self, mut buf: &[u8], leaving: &mut Vec<usize>) {
        while let Some(head) = buf.get(..EVENT_HEAD) {
            let word = |at: usize| {
                head.get(at..at + 4).and_then(|b| b.try_into().ok()).map_or(0, u32::from_ne_bytes)
            };
            let (wd, mask, len) = (word(0) as i32, word(4), word(12) as usize);
            let name = buf.get(EVENT_HEAD..EVENT_HEAD + len).unwrap_or_default();
            let name = name.split(|&b| b == 0).next().unwrap_or_default();
            if mask & libc::IN_Q_OVERFLOW != 0 && !self.overflowed {
                self.overflowed = true;
                self.problems.push(
                    "the inotify queue overflowed: some leave times come from listings \
                     (later than the truth; see fallback_leaves)"
                        .into(),
                );
            } else if wd == self.inbox_wd {
                leaving.extend(self.tracker.index_of(name));
            }
            buf = buf.get(EVENT_HEAD + len..).unwrap_or_default();
        }
    }

    /// Reads the log's new complete lines and stamps their plans.
    fn read_log(&mut self, stamp: u64) {
        if self.log.is_none() {
            self.log = File::open(&self.log_path).ok();
        }
        let Some(file) = &mut self.log else { return };
        let mut fresh = Vec::new();
        if let Err(error) = file.read_to_end(&mut fresh) {
            self.problems.push(format!("reading the decision log: {error}"));
            return;
        }
        self.partial.extend_from_slice(&fresh);
        let Some(end) = self.partial.iter().rposition(|&b| b == b'\n') else { return };
        let complete: Vec<u8> = self.partial.drain(..=end).collect();
        for line in complete.split(|&b| b == b'\n') {
            let Some(i) = inbox_name(line).and_then(|n| self.tracker.index_of(n)) else {
                continue;
            };
            if let (Some(line), Some(left)) = (self.tracker.line.get(i), self.tracker.left.get(i)) {
                self.tracker.mark(line, left, stamp);
            }
        }
    }

    /// After lost events: a recorded plan no longer in the inbox has left.
    fn list_inbox(&mut self, stamp: u64) {
        let tracker = Arc::clone(&self.tracker);
        for (i, (line, left)) in tracker.line.iter().zip(&tracker.left).enumerate() {
            let recorded = line.load(Ordering::SeqCst) != 0;
            if recorded && left.load(Ordering::SeqCst) == 0 {
                let name = format!("{}-{i:06}.json", tracker.prefix);
                if !self.inbox.join(name).exists() {
                    tracker.mark(left, line, stamp);
                    tracker.fallback_leaves.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    }

    /// What the report needs.
    fn into_watched(self) -> Watched {
        Watched { log_path: self.log_path, log_start: self.log_start, problems: self.problems }
    }
}

/// The `inbox_name` of a record line (the last one: `watch` comes last).
fn inbox_name(line: &[u8]) -> Option<&[u8]> {
    let at = line.windows(NAME_KEY.len()).rposition(|w| w == NAME_KEY)? + NAME_KEY.len();
    let rest = line.get(at..)?;
    rest.get(..rest.iter().position(|&b| b == b'"')?)
}

/// Adds an inotify watch; returns its descriptor.
fn add_watch(fd: &OwnedFd, dir: &Path, mask: u32) -> Result<i32, String> {
    let path = CString::new(dir.as_os_str().as_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: a valid inotify fd and a NUL-terminated path.
    let wd = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), path.as_ptr(), mask) };
    if wd < 0 {
        return Err(format!("inotify on {}: {}", dir.display(), std::io::Error::last_os_error()));
    }
    Ok(wd)
}
