//! What the HTTP handlers share with each other and with the daemon's loop
//! (the one writer): the rules in force, the decision index, the requests
//! waiting for their record, the events waiting to be recorded, and the
//! metrics. The loop reaches it through [`crate::recorder::intake::Intake`].

use super::index::DecisionIndex;
use super::metrics::{BuildLabels, Metrics};
use crate::recorder::intake::Intake;
use crate::rules::RuleSet;
use crate::watch::wake::Wake;
use crate::watch::wake_queue::WakeQueue;
use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use tokio::sync::oneshot;

/// The state shared by the service and the daemon's loop.
pub struct Service {
    /// The rule set in force (replaced on reload).
    rules: RwLock<Arc<RuleSet>>,
    /// The decision index and who waits for which record.
    recorded: Mutex<Recorded>,
    /// Events (CDS Hooks feedback) waiting to be appended, each with whom
    /// to tell once it is on disk.
    events: Mutex<Vec<(Vec<u8>, oneshot::Sender<()>)>>,
    /// Wakes the daemon's loop.
    pub wakes: Arc<WakeQueue>,
    /// Stages HTTP plans into the inbox.
    pub stager: super::staging::Stager,
    /// The history (file or shared database), opened read-only by dry runs.
    pub history: crate::history::Location,
    /// The decision log, looked at by `/readyz` (never written here).
    pub log_path: PathBuf,
    /// Largest plan accepted, in bytes (larger bodies get 413).
    pub max_plan_bytes: u64,
    /// Whether the patient history can be used now.
    history_usable: AtomicBool,
    /// Why it cannot, when it cannot (for `/readyz`).
    history_outage: Mutex<Option<String>>,
    /// The metrics.
    pub metrics: Metrics,
    /// The served root: the review page reads judged plans from its
    /// outcome folders.
    pub root: PathBuf,
    /// The persistent decision index the review page reads
    /// (`state/decisions-index.sqlite`).
    pub index_path: PathBuf,
    /// That index, opened at the first page asked for.
    review_index: Mutex<Option<crate::audit::decision_index::DecisionIndex>>,
    /// The patient history, opened read-only once for the patient pages
    /// (opening checks the whole database: a third of a second for a
    /// million recorded plans).
    review_history: Mutex<Option<crate::history::History>>,
}

/// The index and the waiters, under one lock, so a waiter registered after
/// a look at the index cannot miss its record.
pub struct Recorded {
    /// The decision index.
    pub index: DecisionIndex,
    /// Staging name → requests waiting for that plan's record.
    waiters: HashMap<String, Vec<oneshot::Sender<u64>>>,
}

impl Recorded {
    /// Tells `sender` the `seq` of the record of the plan staged as `name`
    /// once it is written.
    pub fn wait_for(&mut self, name: &str, sender: oneshot::Sender<u64>) {
        self.waiters.entry(name.to_string()).or_default().push(sender);
    }
}

impl Service {
    /// The state for a root whose log is at `log` (indexed at once).
    pub fn new(
        root: &std::path::Path,
        log: &std::path::Path,
        wakes: Arc<WakeQueue>,
        stager: super::staging::Stager,
        history: crate::history::Location,
        max_plan_bytes: u64,
        rules: RuleSet,
    ) -> io::Result<Service> {
        let log_path = log.to_path_buf();
        let mut index = DecisionIndex::open(log)?;
        index.catch_up_at_start()?;
        Ok(Service {
            rules: RwLock::new(Arc::new(rules)),
            recorded: Mutex::new(Recorded { index, waiters: HashMap::new() }),
            events: Mutex::new(Vec::new()),
            wakes,
            stager,
            history,
            log_path,
            max_plan_bytes,
            history_usable: AtomicBool::new(true),
            history_outage: Mutex::new(None),
            metrics: Metrics::new(),
            root: root.to_path_buf(),
            index_path: crate::watch::layout::Layout::new(root)
                .state
                .join(crate::audit::decision_index::FILE_NAME),
            review_index: Mutex::new(None),
            review_history: Mutex::new(None),
        })
    }

    /// The rule set in force.
    pub fn rules(&self) -> Arc<RuleSet> {
        Arc::clone(&self.rules.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The index and waiters, locked.
    pub fn recorded(&self) -> MutexGuard<'_, Recorded> {
        self.recorded.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The review page's decision index (`None` until first opened).
    pub fn review_index(
        &self,
    ) -> MutexGuard<'_, Option<crate::audit::decision_index::DecisionIndex>> {
        self.review_index.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The review page's read-only patient history (`None` until first
    /// opened).
    pub fn review_history(&self) -> MutexGuard<'_, Option<crate::history::History>> {
        self.review_history.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the patient history can be used now.
    pub fn history_usable(&self) -> bool {
        self.history_usable.load(Ordering::SeqCst)
    }

    /// Why the patient history cannot be used now, if the loop said.
    pub fn history_outage(&self) -> Option<String> {
        self.history_outage.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Why the decision log cannot take the next record, if it cannot: it
    /// cannot be opened for writing (removed, replaced by a folder, its
    /// permissions taken away), its file system is read-only, or fewer
    /// bytes are free there than two of the largest plans take. A record
    /// that cannot be written stops the daemon; this says so beforehand,
    /// so that a load balancer sends plans elsewhere.
    pub fn log_unwritable(&self) -> Option<String> {
        let shown = self.log_path.display();
        let file = match std::fs::OpenOptions::new().append(true).open(&self.log_path) {
            Ok(file) => file,
            Err(error) => {
                return Some(format!(
                    "the decision log {shown} cannot be opened for writing: {error}"
                ))
            }
        };
        let space = match free_space(&file) {
            Ok(space) => space,
            Err(error) => {
                return Some(format!(
                    "the decision log's file system cannot be asked for its free space: {error}"
                ))
            }
        };
        if space.read_only {
            return Some(format!("the decision log {shown} is on a read-only file system"));
        }
        let needed = self.max_plan_bytes.saturating_mul(2);
        if space.free_bytes < needed {
            return Some(format!(
                "the decision log's file system has {} bytes free, fewer than the {needed} the \
                 next records may take: free some space",
                space.free_bytes
            ));
        }
        None
    }

    /// Hands an event line (one JSON object, no newline) to the loop; the
    /// answer comes once it is on disk.
    pub fn record_event(&self, line: Vec<u8>) -> oneshot::Receiver<()> {
        let (send, receive) = oneshot::channel();
        self.events.lock().unwrap_or_else(PoisonError::into_inner).push((line, send));
        self.wakes.push(Wake::Intake);
        receive
    }

    /// Catches the index up with the log and tells the waiters. The
    /// recorder calls it (through [`Intake`]) when a batch is placed (from
    /// the thread that placed it, while the loop judges the next batch and
    /// writes nothing to the log) or events are written: a record is
    /// answered and listed once its plan is in its outcome folder.
    fn catch_up(&self) {
        let mut recorded = self.recorded();
        let added = match recorded.index.catch_up() {
            Ok(added) => added,
            Err(error) => {
                tracing::error!(%error, "cannot read the decision log to index it");
                return;
            }
        };
        for record in added {
            self.metrics.count_record(&record);
            if let Some(waiting) = recorded.waiters.remove(&record.inbox_name) {
                for sender in waiting {
                    let _ = sender.send(record.seq);
                }
            }
        }
    }
}

impl Intake for Service {
    fn append_waiting(&self, append: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        let waiting =
            std::mem::take(&mut *self.events.lock().unwrap_or_else(PoisonError::into_inner));
        if waiting.is_empty() {
            return Ok(());
        }
        let mut lines = Vec::new();
        for (line, _) in &waiting {
            lines.extend_from_slice(line);
            lines.push(b'\n');
        }
        append(&lines)?;
        self.catch_up();
        for (_, sender) in waiting {
            let _ = sender.send(());
        }
        Ok(())
    }

    fn events_waiting(&self) -> bool {
        !self.events.lock().unwrap_or_else(PoisonError::into_inner).is_empty()
    }

    fn appended(&self) {
        self.catch_up();
    }

    fn rules_in_force(&self, rules: &RuleSet) {
        *self.rules.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(rules.clone());
        self.metrics.build_info.clear();
        let labels = BuildLabels {
            version: env!("CARGO_PKG_VERSION").to_string(),
            rule_set: rules.id.clone(),
            rule_set_version: rules.version.clone(),
        };
        self.metrics.build_info.get_or_create(&labels).set(1);
    }

    fn already_recorded(&self, name: &std::ffi::OsStr) -> bool {
        let Some(name) = name.to_str() else { return false };
        name.starts_with(super::index::KEYED_PREFIX)
            && self.recorded().index.by_staging_name(name).is_some()
    }

    fn staged(&self, name: &std::ffi::OsStr) -> bool {
        name.to_str().is_some_and(|n| n.starts_with("api-"))
    }

    fn status(&self, history_usable: bool, inbox_plans: usize) {
        self.history_usable.store(history_usable, Ordering::SeqCst);
        self.metrics.history_usable.set(i64::from(history_usable));
        self.metrics.inbox_plans.set(i64::try_from(inbox_plans).unwrap_or(i64::MAX));
    }

    fn history_outage(&self, cause: Option<&str>) {
        let mut held = self.history_outage.lock().unwrap_or_else(PoisonError::into_inner);
        if held.as_deref() != cause {
            *held = cause.map(str::to_string);
        }
    }
}

/// What `fstatvfs` says of a file's file system.
struct Space {
    /// Bytes an unprivileged writer may still take.
    free_bytes: u64,
    /// Mounted read-only.
    read_only: bool,
}

/// The free space and mount flags of the file system holding `file`.
fn free_space(file: &std::fs::File) -> io::Result<Space> {
    use std::os::fd::AsRawFd;
    // SAFETY: fstatvfs only writes the zeroed struct it is given, and the
    // descriptor stays open for the call (borrowed from `file`).
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstatvfs(file.as_raw_fd(), &mut stat) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // 64 bits wide here; narrower on 32-bit systems.
    #[allow(clippy::useless_conversion)]
    let free_bytes = u64::from(stat.f_bavail).saturating_mul(u64::from(stat.f_frsize));
    let read_only = stat.f_flag & libc::ST_RDONLY != 0;
    Ok(Space { free_bytes, read_only })
}
