//! The daemon's loop: carry out withdrawal requests, list the inbox, judge
//! and place the plans that are ready, then wait for a hint, a signal, a
//! plan's settle time, the periodic re-scan or the next try of an unusable
//! patient history — whichever comes first. While the history is unusable,
//! nothing is judged: plans wait in the inbox.

use super::config::Settings;
use super::fatal::{storage, Fatal};
use super::inbox::Inbox;
use super::layout::Layout;
use super::logging::LogControl;
use super::pseudonym;
use super::rules_in_force::RulesInForce;
use super::wake::{FsWatch, Wake};
use super::wake_queue::WakeQueue;
use super::WatchArgs;
use crate::recorder::claim::Fingerprint;
use crate::recorder::{Judging, Recorder, Taken};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Everything the running daemon holds.
pub struct Daemon {
    /// The served folders, by path (for messages, the history, requests).
    pub layout: Layout,
    /// The settings in force.
    pub settings: Settings,
    /// The command line, re-applied over a reloaded config file.
    pub args: WatchArgs,
    /// The rules judging plans.
    pub rules: RulesInForce,
    /// The one writer of the decision log, the history and the outcome
    /// folders: every plan this loop finds ready is recorded by it.
    pub recorder: Recorder,
    /// Withdrawal requests may be waiting (an event, a re-scan, start-up).
    pub requests_due: bool,
    /// The inbox as known.
    pub inbox: Inbox,
    /// Hints and signals.
    pub wakes: Arc<WakeQueue>,
    /// Set by SIGTERM/SIGINT; checked between plans.
    pub stop: Arc<AtomicBool>,
    /// The file-system watcher, if it could be started.
    pub fs_watch: Option<FsWatch>,
    /// Changes the log level when the config file does.
    pub logs: LogControl,
    /// When the next full re-scan is due.
    pub next_rescan: Instant,
    /// systemd's watchdog, pinged from this loop (nothing outside systemd).
    pub watchdog: super::service_manager::Watchdog,
    /// The last config error logged, so it is logged once, not every scan.
    pub config_refused: Option<String>,
    /// Held for the daemon's life: no second daemon serves this root.
    pub _lock: super::layout::RootLock,
}

impl Daemon {
    /// Serves the inbox until SIGTERM/SIGINT (`Ok`) or a fatal error.
    pub fn serve(&mut self) -> Result<(), Fatal> {
        self.inbox.scan(Instant::now())?;
        self.recorder.tell_rules(&self.rules.set);
        self.recorder.tell_appended();
        super::service_manager::ready(&format!("serving {}", self.layout.inbox.display()));
        while !self.stopping() {
            let now = Instant::now();
            self.watchdog.ping_if_due(now);
            let usable = self.recorder.ready(now)?;
            self.serve_intake(usable)?;
            if usable && self.requests_due {
                self.run_requests()?;
                continue;
            }
            if usable && self.inbox.wants_listing() {
                self.inbox.scan(now)?;
            }
            if usable {
                let mut ready = self.inbox.ready(now, self.settings.settle);
                // The batch being placed is still in the inbox.
                ready.retain(|(name, _)| !self.recorder.is_placing(name));
                if !ready.is_empty() {
                    self.process(ready)?;
                    continue;
                }
            }
            if self.recorder.placing() {
                // Nothing more to judge meanwhile: the batch is finished
                // before waiting for news.
                self.recorder.finish()?;
                self.take_done();
                continue;
            }
            let due = if usable { self.inbox.next_due(self.settings.settle) } else { None };
            let deadline = [due, self.recorder.history().retry_at(), self.watchdog.due()]
                .into_iter()
                .flatten()
                .fold(self.next_rescan, Instant::min);
            if let Some(wake) = self.wakes.wait(deadline.saturating_duration_since(now)) {
                self.on_wake(wake)?;
            }
            self.drain_wakes()?;
            if Instant::now() >= self.next_rescan {
                self.reload_settings();
                self.inbox.scan(Instant::now())?;
                self.recorder.folders().check().map_err(storage("checking the root's folders"))?;
                self.requests_due = true;
                self.next_rescan = Instant::now() + self.settings.rescan_interval;
            }
        }
        self.recorder.finish()?;
        self.take_done();
        super::service_manager::stopping();
        Ok(())
    }

    /// Has the recorder record the events another intake handed over, and
    /// tell it how things stand.
    fn serve_intake(&mut self, history_usable: bool) -> Result<(), Fatal> {
        self.recorder.record_events(history_usable, self.inbox.tracked())?;
        self.take_done();
        Ok(())
    }

    /// Whether SIGTERM or SIGINT asked to stop.
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Carries out waiting withdrawal requests (between batches).
    fn run_requests(&mut self) -> Result<(), Fatal> {
        self.requests_due = false;
        // Requests left because the history failed are taken up once it is back.
        self.requests_due = self.recorder.carry_out_requests()?;
        self.take_done();
        Ok(())
    }

    /// Has the recorder judge and record ready plans, a batch at a time
    /// (each is placed while the next is judged); stops early when asked
    /// to stop or when the history becomes unusable (the plans not judged
    /// stay in the inbox). The last batch may still be being placed on
    /// return: the loop finishes it before it waits.
    fn process(&mut self, ready: Vec<(OsString, Fingerprint)>) -> Result<(), Fatal> {
        for chunk in ready.chunks(self.settings.batch_size) {
            if self.stopping() {
                break;
            }
            if self.requests_due {
                self.run_requests()?;
            }
            let judging = Judging {
                rules: &self.rules.set,
                max_plan_bytes: self.settings.max_plan_bytes,
                stop: &self.stop,
            };
            let recorded = self.recorder.record(chunk, &judging)?;
            self.take_done();
            if !recorded {
                break;
            }
            self.drain_wakes()?;
        }
        Ok(())
    }

    /// Tells the inbox what became of the plans the recorder took up.
    fn take_done(&mut self) {
        let now = Instant::now();
        for (name, taken) in self.recorder.take_done() {
            match taken {
                // Its batch was placed while the loop went on: a new file
                // may have arrived under its name meanwhile (and been seen),
                // so the name is looked at, not just forgotten.
                Taken::Recorded => self.inbox.look_at(&name, now),
                Taken::Gone => self.inbox.forget(&name),
                Taken::LookAgain => self.inbox.look_at(&name, now),
                Taken::Postponed => self.inbox.postpone(&name, now),
            }
        }
    }

    /// Takes every wake-up already queued, without waiting.
    fn drain_wakes(&mut self) -> Result<(), Fatal> {
        while let Some(wake) = self.wakes.try_take() {
            self.on_wake(wake)?;
        }
        Ok(())
    }

    /// Acts on one wake-up.
    fn on_wake(&mut self, wake: Wake) -> Result<(), Fatal> {
        match wake {
            Wake::Inbox { name, writing, renamed_in } => {
                self.inbox.look_at(&name, Instant::now());
                if renamed_in {
                    self.inbox.renamed_in(&name);
                }
                if let Some(writing) = writing {
                    self.inbox.set_writing(&name, writing);
                }
            }
            Wake::Rescan => {
                self.inbox.forget_writers();
                self.inbox.scan(Instant::now())?;
            }
            Wake::HintsLost => {
                // Plans not heard of are listed once there is room for them
                // (at once when few are tracked); tracked ones are looked at
                // again before they are read anyway.
                tracing::debug!(
                    "too many file-system hints queued; plans not heard of are found by listing"
                );
                self.inbox.forget_writers();
                self.inbox.hints_lost();
            }
            Wake::Settings(path) => {
                if self.is_settings_file(&path) {
                    self.reload_settings();
                }
            }
            Wake::Reload => {
                tracing::info!("SIGHUP: re-reading the config and rule files, listing the inbox");
                self.reload_settings();
                self.inbox.scan(Instant::now())?;
            }
            Wake::Requests => self.requests_due = true,
            Wake::Stop => tracing::info!("asked to stop: finishing the plans in hand"),
            Wake::Intake => {
                let usable = self.recorder.history().outage().is_none();
                self.serve_intake(usable)?;
            }
        }
        Ok(())
    }

    /// Whether `path` (from an event) is the rule file or the config file.
    fn is_settings_file(&self, path: &Path) -> bool {
        let files = [self.rules.path.as_deref(), self.settings.config.as_deref()];
        files.into_iter().flatten().any(|file| same_file_name(file, path))
    }

    /// Re-reads the config file (if any) and the rule file; anything that
    /// cannot be read is refused and what is in force stays.
    fn reload_settings(&mut self) {
        if self.settings.config.is_some() {
            match Settings::resolve(&self.args) {
                Ok(new) => {
                    self.config_refused = None;
                    self.apply(new);
                }
                Err(error) => {
                    let message = error.to_string();
                    if self.config_refused.as_ref() != Some(&message) {
                        tracing::error!(
                            "config file refused, the settings in force stay: {message}"
                        );
                        self.config_refused = Some(message);
                    }
                }
            }
        }
        self.rules.switch_to(self.settings.rules.clone().as_deref());
        self.recorder.tell_rules(&self.rules.set);
        self.watch_settings_dirs();
    }

    /// Puts a reloaded config in force, except what needs a restart.
    fn apply(&mut self, mut new: Settings) {
        if new.root != self.settings.root {
            tracing::warn!(
                configured = %new.root.display(),
                serving = %self.settings.root.display(),
                "the config names another root; a root changes only with a restart"
            );
            new.root = self.settings.root.clone();
        }
        if new.history_url != self.settings.history_url {
            tracing::warn!(
                "the config names another patient history (history_url); it changes only with a \
                 restart"
            );
            new.history_url = self.settings.history_url.clone();
        }
        if new.log_format != self.settings.log_format {
            tracing::warn!("the config names another log format; it changes only with a restart");
            new.log_format = self.settings.log_format;
        }
        if let Err(message) = self.logs.set_config_level(new.log_level.as_deref()) {
            tracing::error!("config log_level refused: {message}");
            new.log_level = self.settings.log_level.clone();
        }
        let shown = (new.patient_ids_in_logs, new.pseudonym_key.as_ref());
        if shown != (self.settings.patient_ids_in_logs, self.settings.pseudonym_key.as_ref()) {
            if let Err(message) = pseudonym::put_in_force(shown.0, shown.1, &self.layout.state) {
                tracing::error!("config patient_ids_in_logs refused: {message}");
                new.patient_ids_in_logs = self.settings.patient_ids_in_logs;
                new.pseudonym_key = self.settings.pseudonym_key.clone();
            }
        }
        if new != self.settings {
            tracing::info!(settings = ?new, "config file reloaded");
            self.settings = new;
        }
    }

    /// Watches the folders of the rule and config files, if not yet.
    pub fn watch_settings_dirs(&mut self) {
        let Some(watch) = &mut self.fs_watch else { return };
        let files = [self.rules.path.as_deref(), self.settings.config.as_deref()];
        for file in files.into_iter().flatten() {
            let Some(dir) = file.parent().and_then(absolute_dir) else { continue };
            if let Err(error) = watch.watch_settings_dir(&dir) {
                tracing::warn!(dir = %dir.display(), %error, "cannot watch this folder for rule or config changes; they are still picked up by the periodic re-scan or SIGHUP");
            }
        }
    }
}

/// Whether an event's path names `file` (same folder, same name).
fn same_file_name(file: &Path, event: &Path) -> bool {
    let dir = file.parent().and_then(absolute_dir);
    file.file_name() == event.file_name() && dir.as_deref() == event.parent()
}

/// A folder's absolute, resolved path (`""` is the current folder).
fn absolute_dir(dir: &Path) -> Option<PathBuf> {
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    dir.canonicalize().ok()
}
