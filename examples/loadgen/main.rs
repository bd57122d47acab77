//! End-to-end load generator for `embolint watch`: starts the real daemon on
//! a temporary root, drops plans the way planning software does (write
//! `.NAME.json.tmp` in the inbox, rename it to `NAME.json`), and measures
//! for each plan the time from its rename to its decision record being on
//! disk. Prints p50, p99 and max latency, plans per second, and the daemon's
//! CPU time and memory (RSS at 10 %, 50 % and 100 % of the run, and its peak).
//!
//! The harness drives the built binary, so build it first:
//!
//! ```sh
//! cargo build --release
//! cargo run --release --example loadgen -- --mode burst --count 10000 --settle-millis 0
//! ```
//!
//! "On disk" is the conservative one of two moments: the record's line
//! appearing in `log/decisions.jsonl` (the daemon writes it, then syncs), and
//! the plan leaving the inbox (the daemon moves it only after that sync). The
//! figures and how they were taken are in `docs/performance.md`.
//!
//! # Layout
//! - [`Args`], [`run`]: the command line, and one function per mode.
//! - [`plans`]: the plans dropped (the SPEC's example plan, and an invalid one).
//! - [`daemon`]: starting, sampling and stopping the real daemon.
//! - [`observer`]: inotify on the decision log and the inbox; stamps each plan.
//! - [`dropper`]: `.tmp` files renamed into the inbox, at once or at a rate.
//! - [`figures`]: percentiles, the check of the log, the results block.

/// The plans dropped: copies of the SPEC's example plan (valid, passes) and
/// of the public invalid plan (a dose in `mg/m2`), each with its own plan
/// and patient ids, so that each has its own sha256 and no two plans are of
/// the same patient.
mod plans;

/// The real daemon: started, sampled, profiled and stopped by its id.
mod daemon;

/// Watches the decision log and the inbox with inotify, and stamps for each
/// plan when its record's line appeared and when it left the inbox.
mod observer;

/// Putting plans into the inbox as planning software does: write a name the
/// daemon ignores (`.NAME.json.tmp`), then rename it into place.
mod dropper;

/// The figures: latency percentiles, throughput, memory, the check that
/// each plan got exactly one record with the right verdict, and printing.
mod figures;

use clap::{Parser, ValueEnum};
use daemon::{Daemon, Sampler};
use figures::Report;
use observer::{Observer, Tracker};
use plans::PlanSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The daemon's settle time when `--settle-millis` is not given.
const DAEMON_DEFAULT_SETTLE_MILLIS: u64 = 1000;

/// How much longer than the settle time an `--aged` backlog waits.
const AGED_MARGIN: Duration = Duration::from_millis(100);

/// The daemon's binary when `--binary` is not given.
const DEFAULT_BINARY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/embolint");

/// What the planning software does, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// One plan at a time, at `--rate` plans per second.
    Single,
    /// `--count` plans renamed into the inbox as fast as possible.
    Burst,
    /// `--count` plans already in the inbox when the daemon starts.
    Backlog,
    /// A burst (or, with `--rate`, a steady stream) where every tenth plan is invalid.
    Mix,
    /// A burst against an empty history, then against `--history-sessions` recorded sessions.
    History,
}

/// Load generator for `embolint watch` (see docs/performance.md).
#[derive(Debug, Parser)]
#[command(about)]
struct Args {
    /// What the planning software does.
    #[arg(long, value_enum)]
    mode: Mode,
    /// Plans dropped (and measured).
    #[arg(long, default_value_t = 10_000)]
    count: usize,
    /// Plans per second, for `single` (default 100) and optionally `mix`.
    #[arg(long, value_name = "PER_SECOND")]
    rate: Option<f64>,
    /// The daemon's settle time, written to its config file [default: the daemon's, 1000 ms].
    #[arg(long, value_name = "MS")]
    settle_millis: Option<u64>,
    /// The daemon's batch size, written to its config file [default: the daemon's, 64].
    #[arg(long, value_name = "N")]
    batch_size: Option<usize>,
    /// A shared PostgreSQL history for the daemon (postgres://...), written
    /// to its config file [default: the root's own SQLite history]. Use an
    /// empty database per run (scripts/bench-shared-history does).
    #[arg(long, value_name = "URL")]
    history_url: Option<String>,
    /// The daemon's binary.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_BINARY)]
    binary: PathBuf,
    /// Keep the temporary root (and the daemon's log) for inspection.
    #[arg(long)]
    keep: bool,
    /// Where the temporary root goes [default: the system temp dir].
    #[arg(long, value_name = "DIR")]
    tmpdir: Option<PathBuf>,
    /// Sessions put into the history before the measured burst (`history` mode).
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    history_sessions: usize,
    /// Give up after this long, whatever happens [default: from the mode and count].
    #[arg(long, value_name = "SECONDS")]
    deadline_secs: Option<u64>,
    /// Record a CPU profile of the daemon during the (last) measured phase
    /// with `perf record --call-graph dwarf` into FILE.
    #[arg(long, value_name = "FILE")]
    perf: Option<PathBuf>,
    /// Print the results as one JSON object per measured phase.
    #[arg(long)]
    json: bool,
    /// `backlog` only: start the daemon once the plans have been quiet for
    /// the settle time (plus 100 ms), as plans that piled up while the
    /// daemon was down would be. Without it the daemon starts right after
    /// the last plan is written and flushed (a fresh backlog: its plans
    /// still wait the settle time).
    #[arg(long)]
    aged: bool,
}

impl Args {
    /// The overall deadline: generous for the work asked, never unbounded.
    fn deadline(&self) -> Duration {
        if let Some(secs) = self.deadline_secs {
            return Duration::from_secs(secs);
        }
        let mut plans = self.count as f64;
        if self.mode == Mode::History {
            plans = 2.0 * plans + self.history_sessions as f64;
        }
        let mut secs = 120.0 + plans / 100.0;
        if let Some(rate) = self.steady_rate() {
            secs += self.count as f64 / rate;
        }
        Duration::from_secs_f64(secs)
    }

    /// The rate of a steady stream, if this mode drops one.
    fn steady_rate(&self) -> Option<f64> {
        match self.mode {
            Mode::Single => Some(self.rate.unwrap_or(100.0)),
            Mode::Mix => self.rate,
            _ => None,
        }
    }
}

/// The daemon being driven, for the watchdog (0: none).
static DAEMON_PID: AtomicU32 = AtomicU32::new(0);

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("loadgen: {message}");
            ExitCode::from(2)
        }
    }
}

/// Runs the mode asked for. `Ok(false)`: it ran, but the daemon did not
/// give each plan exactly one record with the expected verdict.
fn run(args: &Args) -> Result<bool, String> {
    plans::check_fixtures()?;
    if !args.binary.is_file() {
        return Err(format!(
            "no daemon binary at {} (run `cargo build --release` first, or give --binary)",
            args.binary.display()
        ));
    }
    if let Some(rate) = args.rate {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(format!(
                "--rate must be a positive number of plans per second, not {rate}"
            ));
        }
    }
    if args.count == 0 {
        return Err("--count must be at least 1".into());
    }
    let deadline = Instant::now() + args.deadline();
    spawn_watchdog(deadline + Duration::from_secs(60));
    match args.mode {
        Mode::Single | Mode::Burst | Mode::Mix => live(args, deadline),
        Mode::Backlog => backlog(args, deadline),
        Mode::History => history(args, deadline),
    }
}

/// Kills the daemon and exits if the harness itself is stuck past the deadline.
fn spawn_watchdog(at: Instant) {
    std::thread::spawn(move || {
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        let pid = DAEMON_PID.load(Ordering::SeqCst);
        if pid != 0 {
            // SAFETY: kill(2) on the daemon this harness started.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
        eprintln!("loadgen: the overall deadline passed with the harness stuck; daemon killed");
        std::process::exit(3);
    });
}

/// A temporary folder holding the served root, the config and the daemon's log.
struct Site {
    /// Removed at the end unless `--keep`.
    dir: Option<tempfile::TempDir>,
    /// The folder's path.
    path: PathBuf,
}

impl Site {
    /// A fresh site with the root's inbox and log folders made.
    fn new(args: &Args) -> Result<Site, String> {
        let base = args.tmpdir.clone().unwrap_or_else(std::env::temp_dir);
        let dir = tempfile::Builder::new()
            .prefix("embolint-loadgen-")
            .tempdir_in(&base)
            .map_err(|e| format!("cannot make a temporary folder in {}: {e}", base.display()))?;
        let site = Site { path: dir.path().to_path_buf(), dir: Some(dir) };
        for folder in ["inbox", "log"] {
            let path = site.root().join(folder);
            std::fs::create_dir_all(&path)
                .map_err(|e| format!("cannot make {}: {e}", path.display()))?;
        }
        Ok(site)
    }

    /// The served root.
    fn root(&self) -> PathBuf {
        self.path.join("root")
    }

    /// The inbox.
    fn inbox(&self) -> PathBuf {
        self.root().join("inbox")
    }

    /// Writes the daemon's config file when a setting differs from its
    /// default; `None` runs it with its built-in defaults.
    fn config(&self, args: &Args) -> Result<Option<PathBuf>, String> {
        let mut text = String::new();
        if let Some(ms) = args.settle_millis {
            text.push_str(&format!("settle_millis = {ms}\n"));
        }
        if let Some(n) = args.batch_size {
            text.push_str(&format!("batch_size = {n}\n"));
        }
        if let Some(url) = &args.history_url {
            text.push_str(&format!("history_url = {url:?}\n"));
        }
        if text.is_empty() {
            return Ok(None);
        }
        let path = self.path.join("embolint.toml");
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(Some(path))
    }

    /// Starts the daemon on this site and waits for its start-up line.
    fn start(&self, args: &Args, deadline: Instant) -> Result<Daemon, String> {
        let mut daemon = self.spawn(args)?;
        daemon.wait_started(deadline)?;
        Ok(daemon)
    }

    /// Starts the daemon without waiting.
    fn spawn(&self, args: &Args) -> Result<Daemon, String> {
        let config = self.config(args)?;
        let daemon = Daemon::spawn(
            &args.binary,
            &self.root(),
            config.as_deref(),
            &self.path.join("daemon.log"),
        )?;
        DAEMON_PID.store(daemon.pid, Ordering::SeqCst);
        // For attaching other tools (perf, strace) by the daemon's id.
        eprintln!("loadgen: daemon pid {} serving {}", daemon.pid, self.root().display());
        Ok(daemon)
    }

    /// Whether the daemon keeps a history database in this root.
    fn has_history(&self) -> bool {
        self.root().join("state/history.sqlite").exists()
    }

    /// Removes the site, or says where it was kept.
    fn finish(mut self, keep: bool) {
        if keep {
            if let Some(dir) = self.dir.take() {
                let kept = dir.keep();
                eprintln!("loadgen: kept {}", kept.display());
            }
        }
    }
}

/// Stops the daemon; a daemon that does not exit 0 on SIGTERM is a finding.
fn stop(daemon: &mut Daemon, reports: &mut [Report]) {
    let ended = daemon.stop(Duration::from_secs(15));
    DAEMON_PID.store(0, Ordering::SeqCst);
    if let Err(problem) = ended {
        if let Some(report) = reports.last_mut() {
            report.problems.push(problem);
        }
    }
}

/// `single`, `burst`, `mix`: plans dropped while the daemon runs.
fn live(args: &Args, deadline: Instant) -> Result<bool, String> {
    let site = Site::new(args)?;
    let mut daemon = site.start(args, deadline)?;
    let invalid_every = if args.mode == Mode::Mix { Some(10) } else { None };
    let set = PlanSet::new("lg", args.count, invalid_every, None);
    let arrival = match args.steady_rate() {
        Some(rate) => Arrival::Steady(rate),
        None => Arrival::Burst,
    };
    let report = measure(args, &site, &mut daemon, &set, arrival, args.perf.as_deref(), deadline);
    let mut reports = vec![report?];
    stop(&mut daemon, &mut reports);
    finish(args, site, &reports)
}

/// `backlog`: plans already in the inbox when the daemon starts.
fn backlog(args: &Args, deadline: Instant) -> Result<bool, String> {
    let site = Site::new(args)?;
    let set = PlanSet::new("lg", args.count, None, None);
    dropper::backlog(&site.inbox(), &set)?;
    let written = Instant::now();
    if args.aged {
        let settle = args.settle_millis.unwrap_or(DAEMON_DEFAULT_SETTLE_MILLIS);
        std::thread::sleep(Duration::from_millis(settle) + AGED_MARGIN);
    }
    let tracker = Arc::new(Tracker::new("lg", args.count));
    let observer = Observer::start(&site.root(), Arc::clone(&tracker))?;
    let spawned = Instant::now();
    tracker.stamp_all_renamed(spawned);
    let mut daemon = site.spawn(args)?;
    let started_after = daemon.wait_started(deadline)?;
    let mut phase = Phase::with(args, &site, &daemon, tracker, observer, args.perf.as_deref())?;
    phase.cpu_before = 0.0; // a backlog's figures include the daemon's start-up
    let mut report = phase.finish(&mut daemon, &set, Arrival::Backlog(started_after), deadline)?;
    report.backlog_age_ms = Some(spawned.duration_since(written).as_secs_f64() * 1000.0);
    report.context.aged = Some(args.aged);
    let mut reports = vec![report];
    stop(&mut daemon, &mut reports);
    finish(args, site, &reports)
}

/// `history`: the same burst against an empty history and against a
/// history of `--history-sessions` sessions, recorded by the daemon itself
/// from as many passed plans.
fn history(args: &Args, deadline: Instant) -> Result<bool, String> {
    let empty = Site::new(args)?;
    let mut daemon = empty.start(args, deadline)?;
    if !empty.has_history() {
        println!("history mode: not available in this build");
        stop(&mut daemon, &mut []);
        empty.finish(args.keep);
        return Ok(true);
    }
    // The measured plans: patients of the seed, one calendar month after
    // their recorded session, so each plan is checked against a real row and passes.
    let measured = PlanSet::new("lg", args.count, None, Some("2026-12-05"));
    let mut baseline =
        measure(args, &empty, &mut daemon, &measured, Arrival::Burst, None, deadline)?;
    baseline.context.phase = Some("burst against an empty history".into());
    let mut reports = vec![baseline];
    stop(&mut daemon, &mut reports);
    empty.finish(args.keep);

    let full = Site::new(args)?;
    let mut daemon = full.start(args, deadline)?;
    let seed = PlanSet::new("seed", args.history_sessions, None, None);
    let mut seeded = measure(args, &full, &mut daemon, &seed, Arrival::Burst, None, deadline)?;
    seeded.context.phase = Some("seeding the history (a burst of passing plans)".into());
    let seeding_failed = !seeded.problems.is_empty();
    reports.push(seeded);
    if !seeding_failed {
        let perf = args.perf.as_deref();
        let mut report =
            measure(args, &full, &mut daemon, &measured, Arrival::Burst, perf, deadline)?;
        report.context.phase =
            Some(format!("burst against a history of {} sessions", args.history_sessions));
        reports.push(report);
    }
    stop(&mut daemon, &mut reports);
    let ok = finish(args, full, &reports)?;
    if let [without, _, with] = reports.as_slice() {
        let ratio = with.plans_per_sec / without.plans_per_sec;
        if args.json {
            println!("{{\"history_throughput_ratio\":{ratio}}}");
        } else {
            println!(
                "history: {:.0} plans/s against {} sessions, {:.0} plans/s against none: {:.0} %",
                with.plans_per_sec,
                args.history_sessions,
                without.plans_per_sec,
                100.0 * ratio
            );
        }
    }
    Ok(ok)
}

/// How the measured plans reach the inbox.
#[derive(Clone, Copy, Debug)]
enum Arrival {
    /// All at once (their `.tmp` files are written first).
    Burst,
    /// One at a time at this many per second.
    Steady(f64),
    /// Already there at start-up; the daemon wrote its start-up line this
    /// long after it was spawned.
    Backlog(Duration),
}

/// Drops `set` into a running daemon's inbox and measures it.
fn measure(
    args: &Args,
    site: &Site,
    daemon: &mut Daemon,
    set: &PlanSet,
    arrival: Arrival,
    perf: Option<&Path>,
    deadline: Instant,
) -> Result<Report, String> {
    let tracker = Arc::new(Tracker::new(set.prefix, set.len()));
    let observer = Observer::start(&site.root(), Arc::clone(&tracker))?;
    let phase = Phase::with(args, site, daemon, Arc::clone(&tracker), observer, perf)?;
    let inbox = site.inbox();
    let dropped = match arrival {
        Arrival::Burst => dropper::burst(&inbox, set, &tracker),
        Arrival::Steady(rate) => dropper::steady(&inbox, set, &tracker, rate, deadline),
        Arrival::Backlog(_) => Ok(()),
    };
    if let Err(message) = dropped {
        phase.abandon();
        return Err(message);
    }
    phase.finish(daemon, set, arrival, deadline)
}

/// One measured phase in progress: the log and inbox watched, memory sampled.
struct Phase {
    /// Each plan's times.
    tracker: Arc<Tracker>,
    /// Stamps them.
    observer: Observer,
    /// Samples the daemon's memory.
    sampler: Sampler,
    /// A CPU profile being recorded, if asked.
    perf: Option<daemon::Perf>,
    /// The daemon's CPU time when the phase began.
    cpu_before: f64,
    /// Printed with the results.
    context: figures::Context,
}

impl Phase {
    /// Starts sampling (and profiling) the daemon for a phase.
    fn with(
        args: &Args,
        site: &Site,
        daemon: &Daemon,
        tracker: Arc<Tracker>,
        observer: Observer,
        perf: Option<&Path>,
    ) -> Result<Phase, String> {
        let sampler = Sampler::start(daemon.pid, Arc::clone(&tracker));
        let perf = perf.map(|file| daemon::Perf::record(daemon.pid, file)).transpose()?;
        let context = figures::Context::now(args, &site.root(), site.has_history());
        let cpu_before = daemon::cpu_secs(daemon.pid).unwrap_or(0.0);
        Ok(Phase { tracker, observer, sampler, perf, cpu_before, context })
    }

    /// Stops watching without results (the drop failed).
    fn abandon(self) {
        let _ = self.observer.stop();
        let _ = self.sampler.stop();
    }

    /// Waits for every plan to be recorded and leave the inbox (or for the
    /// deadline, or the daemon's end), then gathers the figures.
    fn finish(
        self,
        daemon: &mut Daemon,
        set: &PlanSet,
        arrival: Arrival,
        deadline: Instant,
    ) -> Result<Report, String> {
        let mut problems = Vec::new();
        while self.tracker.done() < set.len() {
            if let Some(status) = daemon.exited() {
                problems.push(format!("the daemon ended during the run ({status})"));
                break;
            }
            if Instant::now() >= deadline {
                problems.push(format!(
                    "deadline reached with {} of {} plans recorded and out of the inbox",
                    self.tracker.done(),
                    set.len()
                ));
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let peak_kib = daemon::status_kib(daemon.pid, "VmHWM:");
        let cpu_secs = daemon::cpu_secs(daemon.pid).map(|after| after - self.cpu_before);
        if let Some(perf) = self.perf {
            perf.stop();
        }
        let samples = self.sampler.stop();
        let watched = self.observer.stop()?;
        problems.extend(watched.problems);
        let check = figures::verify(&watched.log_path, watched.log_start, set)?;
        problems.extend(check.problems);
        let memory = figures::Memory::from_samples(&samples, set.len(), peak_kib);
        Ok(Report::new(
            self.context,
            set,
            arrival,
            &self.tracker,
            memory,
            cpu_secs,
            check.verdicts,
            problems,
        ))
    }
}

/// Prints the reports, removes the site; `true` when nothing went wrong.
fn finish(args: &Args, site: Site, reports: &[Report]) -> Result<bool, String> {
    for report in reports {
        if args.json {
            let line = serde_json::to_string(report).map_err(|e| e.to_string())?;
            println!("{line}");
        } else {
            print!("{report}");
        }
    }
    site.finish(args.keep);
    Ok(reports.iter().all(|r| r.problems.is_empty()))
}
