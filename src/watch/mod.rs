//! The watch daemon (SPEC §4): a hot folder that never loses, duplicates or
//! half-reads a plan.
//!
//! `embolint watch --root DIR` serves `DIR/inbox/`. Each plan dropped there
//! gets exactly one decision record in `log/decisions.jsonl`, durably, and
//! moves to `passed/`, `failed/` or `invalid/` with `NAME.verdict.json`
//! beside it.
//!
//! The watcher is one intake of the recorder ([`crate::recorder`]): it
//! finds the plans that have settled in the inbox and hands them, a batch at
//! a time, to the recorder, which reads, judges, records and places them.
//!
//! # Layout
//! - [`config`]: settings — defaults, config file, flags.
//! - [`layout`]: the root's folders, held open, and the lock against a
//!   second daemon.
//! - [`folder`]: a folder held open: every read, create, rename and
//!   remove relative to its handle, so nothing lands outside the root.
//! - [`file_name`]: what an inbox name means; safe outcome names.
//! - [`inbox`]: the listing, and which plans have settled.
//! - [`quiet`]: how long a listed file has already been quiet (its ctime).
//! - [`oldest`]: the oldest few of many plans, in bounded memory.
//! - [`rules_in_force`]: the rule set, reloaded when its file changes.
//! - [`wake`]: file-system hints and signals, through one queue.
//! - [`wake_queue`]: that queue, bounded for hints.
//! - [`daemon`]: the loop; it owns the recorder.
//! - [`logging`], [`fatal`]: operational logs; errors that stop the daemon.
//! - [`pseudonym`]: patient ids in operational logs, pseudonymised.
//! - [`service_manager`]: systemd readiness and watchdog.
//!
//! Reading, judging, recording and placing a plan, recovery, the patient
//! history and withdrawals are the recorder's: [`crate::recorder`]. The
//! decision log it writes, its chain, `verify-log` and the history rebuild
//! are the audit trail: [`crate::audit`].

pub mod config;
pub mod daemon;
pub mod fatal;
pub mod file_name;
pub mod folder;
pub mod inbox;
pub mod layout;
pub mod logging;
pub mod oldest;
pub mod pseudonym;
pub mod quiet;
pub mod rules_in_force;
pub mod service_manager;
pub mod wake;
pub mod wake_queue;

use crate::audit;
use crate::audit::decision_log::SealOpened;
use crate::recorder::{self, Recorder};
use config::{LogFormat, Settings};
use daemon::Daemon;
use fatal::{storage, Fatal};
use layout::Layout;
use logging::LogControl;
use rules_in_force::RulesInForce;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;
use wake::FsWatch;
use wake_queue::WakeQueue;

/// Options of `embolint watch` (the command line's flags, as plain values).
/// Each overrides the config file, which overrides the built-in default.
#[derive(Clone, Debug, Default)]
pub struct WatchArgs {
    /// The root folder to serve: plans are dropped into ROOT/inbox. It must
    /// exist, unless --init is given.
    pub root: Option<PathBuf>,
    /// Create the root folder if it does not exist (never its parents).
    /// Without it a missing root is refused, so that a typo or an unmounted
    /// share is never served as an empty inbox.
    pub init: bool,
    /// A configuration file (TOML); the built-in defaults apply without one.
    pub config: Option<PathBuf>,
    /// A rule file replacing the built-in rule set.
    pub rules: Option<PathBuf>,
    /// Log lines as human-readable text or as JSON objects [default: text].
    pub log_format: Option<LogFormat>,
    /// Log level or filter (error, warn, info, debug, trace); overrides
    /// RUST_LOG and the config file [default: info].
    pub log_level: Option<String>,
    /// Seconds between full re-scans of the inbox (a safety net for missed
    /// file-system events) [default: 30].
    pub rescan_interval_secs: Option<u64>,
    /// Milliseconds a file must stay unchanged before it is read [default: 1000].
    pub settle_millis: Option<u64>,
    /// Largest plan file read, in bytes; larger files are invalid [default: 1048576].
    pub max_plan_bytes: Option<u64>,
    /// Most plans whose decision records share one disk sync [default: 64].
    pub batch_size: Option<usize>,
}

/// Runs the daemon until SIGTERM or SIGINT; returns the process exit code:
/// 0 after a clean stop, 3 when it cannot start, 4 when it stopped on an
/// error that made going on unsafe.
pub fn run(args: WatchArgs) -> Result<(), fatal::Stopped> {
    // Signals first: a SIGTERM during start-up must not kill mid-recovery.
    let wakes = Arc::new(WakeQueue::new());
    let stop = Arc::new(AtomicBool::new(false));
    if let Err(error) = wake::spawn_signal_thread(Arc::clone(&wakes), Arc::clone(&stop)) {
        return Err(fatal::Stopped::cannot_start(format!(
            "embolint watch cannot start: cannot handle signals: {error}"
        )));
    }
    let settings = match Settings::resolve(&args) {
        Ok(settings) => settings,
        Err(error) => {
            return Err(fatal::Stopped::cannot_start(format!(
                "embolint watch cannot start: {error}"
            )));
        }
    };
    let flag_level = args.log_level.as_deref();
    let logs = match logging::init(settings.log_format, flag_level, settings.log_level.as_deref()) {
        Ok(logs) => logs,
        Err(message) => {
            return Err(fatal::Stopped::cannot_start(format!(
                "embolint watch cannot start: {message}"
            )));
        }
    };
    let outcome =
        start(args, settings, logs, Channel { wakes, stop }).and_then(|mut daemon| daemon.serve());
    match outcome {
        Ok(()) => {
            tracing::info!(
                "stopped cleanly: every plan taken from the inbox is recorded and placed"
            );
            Ok(())
        }
        Err(fatal) => {
            tracing::error!("{fatal}");
            Err(fatal.logged())
        }
    }
}

/// Makes sure the root exists. A missing root is created only when
/// `--init` asks for it, and never its parents: a typo in the path or a
/// share that is not mounted must not be served as an empty inbox while
/// plans pile up where they were meant to go.
fn make_root(root: &std::path::Path, init: bool) -> Result<(), Fatal> {
    let shown = root.display();
    if root.is_dir() {
        return Ok(());
    }
    if root.symlink_metadata().is_ok() {
        return Err(Fatal::Start(format!("the root {shown} exists but is not a folder")));
    }
    if !init {
        return Err(Fatal::Start(format!(
            "the root folder {shown} does not exist. embolint never creates a missing root \
             on its own: a mistyped path or a share that is not mounted would be served as an \
             empty inbox. Check the path (is the share mounted?), or, to start a new root \
             there, run once with --init (it creates that folder, never its parents)"
        )));
    }
    std::fs::create_dir(root).map_err(|e| {
        let parent = root.parent().map(|p| p.display().to_string()).unwrap_or_default();
        Fatal::Start(match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "cannot create the root {shown}: its parent folder {parent} does not exist \
                 (--init creates the root itself, never its parents)"
            ),
            _ => format!("cannot create the root {shown}: {e}"),
        })
    })?;
    tracing::info!(root = %shown, "created the root folder, as --init asked");
    Ok(())
}

/// The wake-up queue and the stop flag, made before anything else.
pub struct Channel {
    /// Filled by the watcher and signal threads, emptied by the loop.
    pub wakes: Arc<WakeQueue>,
    /// Set by SIGTERM/SIGINT (for `serve`: once the HTTP requests in hand
    /// are answered).
    pub stop: Arc<AtomicBool>,
}

/// Loads the rules, takes the root, finishes an interrupted batch and
/// starts watching; logs the start-up line.
pub fn start(
    args: WatchArgs,
    mut settings: Settings,
    logs: LogControl,
    channel: Channel,
) -> Result<Daemon, Fatal> {
    let mut rules = RulesInForce::load(settings.rules.as_deref()).map_err(Fatal::Start)?;
    let shown = settings.root.display().to_string();
    let cannot_serve =
        |e: std::io::Error| Fatal::Start(format!("cannot serve the root {shown}: {e}"));
    make_root(&settings.root, args.init)?;
    Layout::new(&settings.root).create().map_err(cannot_serve)?;
    settings.root = settings.root.canonicalize().map_err(cannot_serve)?;
    let layout = Layout::new(&settings.root);
    let lock = layout::lock(&layout).map_err(|e| Fatal::Start(e.to_string()))?;
    let folders = layout::Folders::open(&layout).map_err(cannot_serve)?;
    let archive = layout.rule_files();
    rules.keep_copies_in(archive.clone()).map_err(storage(format!(
        "keeping a copy of the rule file in force in {}",
        archive.display()
    )))?;
    let key = settings.pseudonym_key.as_ref();
    pseudonym::put_in_force(settings.patient_ids_in_logs, key, &layout.state)
        .map_err(Fatal::Start)?;
    let opened = Recorder::open(&layout, folders, settings.max_plan_bytes)?;
    let inbox = inbox::Inbox::new(&layout.inbox).map_err(cannot_serve)?;
    let fs_watch = match FsWatch::start(
        &layout.inbox,
        &layout.requests(),
        Arc::clone(&channel.wakes),
    ) {
        Ok(watch) => Some(watch),
        Err(error) => {
            tracing::warn!(
                %error,
                rescan_interval_secs = settings.rescan_interval.as_secs(),
                "cannot watch the inbox for events (if it says 'no space left', raise the \
                 sysctl fs.inotify.max_user_watches); plans are found by the periodic re-scan only"
            );
            None
        }
    };
    log_start(&layout, &settings, &rules, &opened);
    let mut daemon = Daemon {
        next_rescan: Instant::now() + settings.rescan_interval,
        watchdog: service_manager::Watchdog::from_environment(),
        layout,
        settings,
        args,
        rules,
        recorder: opened.recorder,
        requests_due: true,
        inbox,
        wakes: channel.wakes,
        stop: channel.stop,
        fs_watch,
        logs,
        config_refused: None,
        _lock: lock,
    };
    daemon.watch_settings_dirs();
    Ok(daemon)
}

/// Says what the start-up check of the decision log's seal found: loudly
/// when the log's end does not agree with the audit key; and, at every
/// start, that a first key still on the machine must go to the auditor.
pub(crate) fn log_seal(opened: &SealOpened, layout: &Layout) {
    match opened {
        SealOpened::Continued => {}
        SealOpened::Started { first_key, unsealed_lines } => tracing::warn!(
            first_key = %first_key.display(),
            unsealed_lines,
            "the decision log is sealed from now on (forward-secure MACs); its first key was \
             written to first_key: hand it to the auditor and remove it from this machine \
             (`embolint verify-log ROOT --first-key FILE` checks the log with it); lines \
             written before, if any, stay unanchored"
        ),
        SealOpened::Broken { problem, first_key } => tracing::error!(
            %problem,
            first_key = %first_key.display(),
            "THE DECISION LOG'S SEAL IS BROKEN: its end does not agree with the audit key, so \
             the log was changed while no embolint ran. An `audit-chain-broken` record now says \
             so in the log, and sealing starts again with a new first key (hand it to the \
             auditor); `embolint verify-log ROOT --first-key FILE` with the earlier first key \
             shows what was changed"
        ),
    }
    let just_made = match opened {
        SealOpened::Started { first_key, .. } | SealOpened::Broken { first_key, .. } => {
            Some(first_key)
        }
        SealOpened::Continued => None,
    };
    for first_key in audit::seal::first_keys_left(&layout.state) {
        if Some(&first_key) == just_made {
            continue;
        }
        tracing::warn!(
            first_key = %first_key.display(),
            "a first key of the decision log's seal is still on this machine: whoever can read \
             it can forge the whole log; hand it to the auditor and remove it"
        );
    }
}

/// The start-up line: root, rule set and config in force.
fn log_start(
    layout: &Layout,
    settings: &Settings,
    rules: &RulesInForce,
    opened: &recorder::Opened,
) {
    let (recovered, history) = (&opened.recovered, opened.recorder.history());
    tracing::info!(
        root = %layout.root.display(),
        rules = %rules.origin(),
        rule_set = %rules.set.id,
        rule_set_version = %rules.set.version,
        rule_set_sha256 = %rules.set.sha256,
        config = %settings.config.as_ref().map_or("built-in defaults".into(), |p| p.display().to_string()),
        settle_ms = settings.settle.as_millis() as u64,
        rescan_interval_secs = settings.rescan_interval.as_secs(),
        max_plan_bytes = settings.max_plan_bytes,
        batch_size = settings.batch_size,
        patient_ids_in_logs = settings.patient_ids_in_logs.as_str(),
        recovered_moves = recovered.moved,
        recovered_sidecars = recovered.sidecars,
        abandoned_records = recovered.abandoned,
        history = %history.path().display(),
        history_usable = history.outage().is_none(),
        history_changes_to_catch_up = opened.owed_at_start,
        pid = std::process::id(),
        "embolint watch started"
    );
}
