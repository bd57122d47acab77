//! The daemon's loop: carry out withdrawal requests, list the inbox, judge
//! and place the plans that are ready, then wait for a hint, a signal, a
//! plan's settle time, the periodic re-scan or the next try of an unusable
//! patient history — whichever comes first. While the history is unusable,
//! nothing is judged: plans wait in the inbox.

use super::batch::{self, Judged, Placed};
use super::claim::{self, claim, Content, Fingerprint, NotClaimed};
use super::config::Settings;
use super::fatal::{storage, Fatal};
use super::file_name::{self, SIDECAR_SUFFIX};
use super::forget;
use super::inbox::Inbox;
use super::intake::Intake;
use super::judge::judge;
use super::layout::{Folders, Layout};
use super::logging::LogControl;
use super::outcome;
use super::patient_history::PatientHistory;
use super::pseudonym;
use super::rules_in_force::RulesInForce;
use super::unplaced::{self, NotPlacedEvent};
use super::wake::{FsWatch, Wake};
use super::wake_queue::WakeQueue;
use super::WatchArgs;
use crate::audit::decision_log::{DecisionLog, Placement};
use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Everything the running daemon holds.
pub struct Daemon {
    /// The served folders, by path (for messages, the history, requests).
    pub layout: Layout,
    /// The root, inbox and outcome folders, held open: plans and verdict
    /// files are read and written only through these.
    pub folders: Folders,
    /// The settings in force.
    pub settings: Settings,
    /// The command line, re-applied over a reloaded config file.
    pub args: WatchArgs,
    /// The rules judging plans.
    pub rules: RulesInForce,
    /// The decision log.
    pub log: DecisionLog,
    /// The patient history, judged against and recorded into.
    pub history: PatientHistory,
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
    /// Another intake fed by this loop (the HTTP service), if any.
    pub intake: Option<Arc<dyn Intake>>,
    /// Held for the daemon's life: no second daemon serves this root.
    pub _lock: super::layout::RootLock,
}

impl Daemon {
    /// Serves the inbox until SIGTERM/SIGINT (`Ok`) or a fatal error.
    pub fn serve(&mut self) -> Result<(), Fatal> {
        self.inbox.scan(Instant::now())?;
        if let Some(intake) = &self.intake {
            intake.rules_in_force(&self.rules.set);
            intake.appended();
        }
        super::service_manager::ready(&format!("serving {}", self.layout.inbox.display()));
        while !self.stopping() {
            let now = Instant::now();
            self.watchdog.ping_if_due(now);
            let usable = self.history.usable(now)?;
            self.serve_intake(usable)?;
            if usable && self.requests_due {
                self.run_requests()?;
                continue;
            }
            if usable && self.inbox.wants_listing() {
                self.inbox.scan(now)?;
            }
            if usable {
                let ready = self.inbox.ready(now, self.settings.settle);
                if !ready.is_empty() {
                    self.process(ready)?;
                    continue;
                }
            }
            let due = if usable { self.inbox.next_due(self.settings.settle) } else { None };
            let deadline = [due, self.history.retry_at(), self.watchdog.due()]
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
                self.folders.check().map_err(storage("checking the root's folders"))?;
                self.requests_due = true;
                self.next_rescan = Instant::now() + self.settings.rescan_interval;
            }
        }
        super::service_manager::stopping();
        Ok(())
    }

    /// Records the events another intake handed over, and tells it how
    /// things stand.
    fn serve_intake(&mut self, history_usable: bool) -> Result<(), Fatal> {
        let Some(intake) = self.intake.clone() else { return Ok(()) };
        let log = &mut self.log;
        let action = format!("syncing the decision log {}", log.path().display());
        intake.append_waiting(&mut |lines| log.append(lines)).map_err(storage(action))?;
        intake.status(history_usable, self.inbox.tracked());
        intake.history_outage(self.history.outage());
        Ok(())
    }

    /// Tells another intake that the log grew.
    fn tell_appended(&self) {
        if let Some(intake) = &self.intake {
            intake.appended();
        }
    }

    /// Whether SIGTERM or SIGINT asked to stop.
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Carries out waiting withdrawal requests (between batches).
    fn run_requests(&mut self) -> Result<(), Fatal> {
        self.requests_due = false;
        forget::run_requests(&self.layout.requests(), &mut self.log, &mut self.history)?;
        self.tell_appended();
        // Requests left because the history failed are taken up once it is back.
        self.requests_due = self.history.outage().is_some();
        Ok(())
    }

    /// Judges and places ready plans, a batch at a time; stops early, after
    /// placing the plans in hand, when asked to stop or when the history
    /// becomes unusable (the plans not judged stay in the inbox).
    fn process(&mut self, ready: Vec<(OsString, Fingerprint)>) -> Result<(), Fatal> {
        for chunk in ready.chunks(self.settings.batch_size) {
            if self.stopping() {
                break;
            }
            if self.requests_due {
                self.run_requests()?;
            }
            let batch = self.log.last_batch() + 1;
            if !self.history.usable(Instant::now())? || !self.history.begin_batch(batch) {
                break;
            }
            let judged = self.judge_batch(chunk)?;
            if judged.is_empty() {
                self.history.finish_batch(Vec::new());
            } else {
                self.commit(judged)?;
            }
            self.drain_wakes()?;
        }
        Ok(())
    }

    /// Judges the plans of one batch, inside the history's batch
    /// transaction; stops at the first plan the history fails for.
    fn judge_batch(&mut self, chunk: &[(OsString, Fingerprint)]) -> Result<Vec<Judged>, Fatal> {
        let mut judged = Vec::with_capacity(chunk.len());
        let mut reserved = HashSet::new();
        for (name, fingerprint) in chunk {
            if self.stopping() {
                break;
            }
            match self.judge_one(name, fingerprint, &mut reserved)? {
                Judging::Judged(mut plan) => {
                    if let Some(rows) = &plan.placement.history {
                        // What its rows replace, to put back if it is not placed.
                        let database = self.history.database();
                        plan.replaces = database.and_then(|h| h.plan(&rows.plan_id).ok().flatten());
                    }
                    let recorded =
                        plan.placement.history.as_ref().map_or(true, |rows| self.history.put(rows));
                    judged.push(*plan);
                    if !recorded {
                        break;
                    }
                }
                Judging::NotReady => {}
                // Another daemon judges this patient now: the plan waits
                // for the next batch; this one is recorded as it stands.
                Judging::HistoryFailed(error) if error.is_patient_busy() => break,
                Judging::HistoryFailed(error) => {
                    self.history.fail(error);
                    break;
                }
            }
        }
        Ok(judged)
    }

    /// Records and places judged plans (see `batch`).
    fn commit(&mut self, mut judged: Vec<Judged>) -> Result<(), Fatal> {
        let staged = self.intake.as_ref().is_some_and(|i| judged.iter().any(|j| i.staged(&j.name)));
        if staged {
            // Plans staged by another intake: their names in the inbox are
            // made durable before their records (one sync for the batch).
            self.folders.inbox.sync().map_err(storage(format!(
                "syncing the inbox {}",
                self.folders.inbox.path().display()
            )))?;
        }
        let number = self.log.next_batch();
        for plan in &mut judged {
            plan.placement.batch = number;
        }
        let Some(fates) = batch::commit(&self.folders, &mut self.log, &mut self.history, &judged)?
        else {
            // The shared history failed before the records were written:
            // nothing is recorded; the plans stay in the inbox.
            return Ok(());
        };
        let mut not_placed = Vec::new();
        for (plan, fate) in judged.iter().zip(fates) {
            self.inbox.forget(&plan.name);
            report(plan, &fate);
            not_placed.extend(NotPlacedEvent::of(plan, &fate));
        }
        let recorded = unplaced::record(&mut self.log, &mut self.history, &not_placed);
        self.tell_appended();
        recorded
    }

    /// Reads and judges one plan and chooses its destination.
    fn judge_one(
        &mut self,
        name: &OsStr,
        fingerprint: &Fingerprint,
        reserved: &mut HashSet<PathBuf>,
    ) -> Result<Judging, Fatal> {
        let started = Instant::now();
        let limit = self.settings.max_plan_bytes;
        if self.intake.as_ref().is_some_and(|intake| intake.already_recorded(name)) {
            let shown = file_name::for_log(&file_name::display(name));
            match self.folders.inbox.remove_file(name) {
                Ok(()) => {
                    tracing::info!(file = %shown, "a retried HTTP plan whose first copy is already recorded: removed unrecorded")
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(storage(format!("removing the retried plan {shown}"))(e)),
            }
            self.inbox.forget(name);
            return Ok(Judging::NotReady);
        }
        let claimed = match claim(&self.folders.inbox, name, fingerprint, limit) {
            Ok(claimed) => claimed,
            Err(NotClaimed::Gone) => {
                self.inbox.forget(name);
                return Ok(Judging::NotReady);
            }
            Err(NotClaimed::Changed) => {
                self.inbox.look_at(name, Instant::now());
                return Ok(Judging::NotReady);
            }
            Err(NotClaimed::Io(error)) => {
                tracing::warn!(file = %file_name::for_log(&file_name::display(name)), %error, "cannot read this inbox file now; trying again in a minute");
                self.inbox.postpone(name, Instant::now());
                return Ok(Judging::NotReady);
            }
        };
        if claimed.links > 1 {
            if let Content::Bytes(bytes) = &claimed.content {
                return self.take_own_copy(name, &claimed, bytes);
            }
        }
        let Some(history) = self.history.database() else { return Ok(Judging::NotReady) };
        let checked = match judge(name, &claimed, &self.rules.set, limit, history) {
            Ok(checked) => checked,
            Err(error) => return Ok(Judging::HistoryFailed(error)),
        };
        let folder = checked.verdict.verdict.folder();
        let dir = self.folders.of(checked.verdict.verdict);
        let base = file_name::outcome_base(name);
        let dest = outcome::pick_name(dir, &base, reserved)
            .map_err(storage(format!("choosing a name in {}", dir.path().display())))?;
        let moved_to = format!("{folder}/{dest}");
        let decision_key = format!("{} {moved_to}", checked.verdict.checked_at);
        let placement = Placement {
            batch: 0,
            inbox_name: file_name::display(name),
            inbox_name_hex: file_name::hex_if_not_utf8(name),
            sidecar: format!("{moved_to}{SIDECAR_SUFFIX}"),
            history: checked.to_record(decision_key),
            moved_to,
            elapsed_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        };
        Ok(Judging::Judged(Box::new(Judged {
            name: name.to_os_string(),
            fingerprint: claimed.fingerprint,
            max_plan_bytes: limit,
            verdict: checked.verdict,
            placement,
            replaces: None,
        })))
    }

    /// A plan hard-linked to another name (perhaps outside the root) could
    /// change through that name after its verdict: the inbox name is first
    /// given a private copy of the bytes read, which is then judged like
    /// any new file (the other name is left alone).
    fn take_own_copy(
        &mut self,
        name: &OsStr,
        claimed: &claim::Claim,
        bytes: &[u8],
    ) -> Result<Judging, Fatal> {
        let shown = file_name::for_log(&file_name::display(name));
        match claim::take_own_copy(&self.folders.inbox, name, claimed, bytes) {
            Ok(true) => tracing::info!(
                file = %shown,
                links = claimed.links,
                "the plan has other names (hard links); embolint judges and places a copy of                  its own, so that what is placed cannot change through another name"
            ),
            Ok(false) => {}
            Err(error) => {
                return Err(storage(format!("copying the hard-linked plan {shown}"))(error))
            }
        }
        self.inbox.look_at(name, Instant::now());
        Ok(Judging::NotReady)
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
                let usable = self.history.outage().is_none();
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
        if let Some(intake) = &self.intake {
            intake.rules_in_force(&self.rules.set);
        }
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

/// What came of trying to judge one inbox plan.
enum Judging {
    /// Judged, with its destination.
    Judged(Box<Judged>),
    /// Not ready after all (changed, gone, unreadable for now).
    NotReady,
    /// The history failed: the plan could not be fully checked and stays.
    HistoryFailed(crate::history::HistoryError),
}

/// Logs the outcome of one plan: one line per verdict. The patient is
/// named as the config chooses (a pseudonym by default), also inside the
/// file name and plan id.
fn report(plan: &Judged, fate: &Placed) {
    let verdict = &plan.verdict;
    let elapsed_ms = plan.placement.elapsed_us as f64 / 1000.0;
    let patient_id = verdict.patient_id.as_deref();
    let file = pseudonym::mask(&verdict.file, patient_id);
    match fate {
        Placed::Moved => tracing::info!(
            file = %file_name::for_log(&file),
            plan_id = %file_name::for_log(&pseudonym::mask(verdict.plan_id.as_deref().unwrap_or("-"), patient_id)),
            patient = %patient_id.map_or("-".into(), pseudonym::in_log),
            verdict = verdict.verdict.as_str(),
            errors = verdict.counts.errors,
            warnings = verdict.counts.warnings,
            infos = verdict.counts.infos,
            elapsed_ms,
            moved_to = %pseudonym::mask(&plan.placement.moved_to, patient_id),
            "plan judged"
        ),
        Placed::Vanished => tracing::warn!(
            file = %file_name::for_log(&file),
            verdict = verdict.verdict.as_str(),
            "plan judged and recorded, but removed from the inbox by someone else before it could be moved: it could not be placed (a plan-not-placed record says so; its history rows are taken out)"
        ),
        Placed::Replaced => tracing::warn!(
            file = %file_name::for_log(&file),
            verdict = verdict.verdict.as_str(),
            "plan judged and recorded, but replaced in the inbox before it could be moved: it could not be placed (a plan-not-placed record says so; its history rows are taken out); the new version is judged on its own"
        ),
        Placed::Changed { back_as } => tracing::warn!(
            file = %file_name::for_log(&file),
            verdict = verdict.verdict.as_str(),
            sha256_judged = %verdict.sha256,
            back_in_inbox_as = %file_name::for_log(&pseudonym::mask(&file_name::display(back_as), patient_id)),
            "plan judged and recorded, but it changed after it was read (written again in place, or swapped at the moment of the move); it could not be placed (a plan-not-placed record says so; its history rows are taken out); it was put back into the inbox and is judged again, as a new version"
        ),
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
