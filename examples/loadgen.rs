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

/// The plans dropped: copies of the SPEC's example plan (valid, passes) and
/// of the public invalid plan (a dose in `mg/m2`), each with its own plan
/// and patient ids, so that each has its own sha256 and no two plans are of
/// the same patient.
mod plans {
    /// The SPEC's example plan: passes, with one info finding.
    const VALID: &str = include_str!("../tests/fixtures/public/spec-example.json");
    /// The same plan with a dose in an unknown unit: invalid.
    const INVALID: &str = include_str!("../tests/fixtures/public/invalid-unit.json");
    /// The fixtures' plan id, replaced in each copy.
    const PLAN_ID: &str = "\"PLN-2026-0042\"";
    /// The fixtures' patient id, replaced in each copy.
    const PATIENT_ID: &str = "\"PAT-0007\"";
    /// The fixtures' planned session date, replaced when asked.
    const SESSION_DATE: &str = "\"2026-11-05\"";

    /// Refuses to run if the fixtures no longer hold exactly one of each
    /// replaced value (the copies would not be unique).
    pub fn check_fixtures() -> Result<(), String> {
        for (fixture, text) in [("spec-example.json", VALID), ("invalid-unit.json", INVALID)] {
            for value in [PLAN_ID, PATIENT_ID, SESSION_DATE] {
                let found = text.matches(value).count();
                if found != 1 {
                    return Err(format!(
                        "tests/fixtures/public/{fixture} holds {value} {found} times, not once: \
                         the harness cannot make unique copies of it"
                    ));
                }
            }
        }
        Ok(())
    }

    /// The plans of one phase, named `PREFIX-NNNNNN.json`.
    #[derive(Debug)]
    pub struct PlanSet {
        /// Names the files and plan ids of this phase.
        pub prefix: &'static str,
        /// How many.
        count: usize,
        /// Every n-th plan (the n-th, 2n-th, …) is invalid.
        invalid_every: Option<usize>,
        /// A session date replacing the example's, if any.
        session_date: Option<&'static str>,
    }

    impl PlanSet {
        /// `count` plans; every `invalid_every`-th invalid.
        pub fn new(
            prefix: &'static str,
            count: usize,
            invalid_every: Option<usize>,
            session_date: Option<&'static str>,
        ) -> PlanSet {
            PlanSet { prefix, count, invalid_every, session_date }
        }

        /// How many plans.
        pub fn len(&self) -> usize {
            self.count
        }

        /// Whether plan `i` is the invalid kind.
        pub fn is_invalid(&self, i: usize) -> bool {
            self.invalid_every.is_some_and(|n| n > 0 && (i + 1) % n == 0)
        }

        /// How many are invalid.
        pub fn invalid_count(&self) -> usize {
            (0..self.count).filter(|&i| self.is_invalid(i)).count()
        }

        /// The verdict plan `i` must get.
        pub fn expected_verdict(&self, i: usize) -> &'static str {
            if self.is_invalid(i) {
                "invalid"
            } else {
                "pass"
            }
        }

        /// Plan `i`'s file name in the inbox.
        pub fn name(&self, i: usize) -> String {
            format!("{}-{i:06}.json", self.prefix)
        }

        /// The plan number in a file name of this set.
        pub fn index_of(&self, name: &str) -> Option<usize> {
            let digits =
                name.strip_prefix(self.prefix)?.strip_prefix('-')?.strip_suffix(".json")?;
            let i: usize =
                digits.bytes().all(|b| b.is_ascii_digit()).then(|| digits.parse().ok())??;
            (i < self.count).then_some(i)
        }

        /// Plan `i`'s text: its own plan id; patient `LG-PAT-i`, shared by
        /// plan `i` of every set (so a measured plan meets its patient's
        /// recorded session in the history).
        pub fn text(&self, i: usize) -> String {
            let fixture = if self.is_invalid(i) { INVALID } else { VALID };
            let plan_id = format!("\"LG-{}-{i:06}\"", self.prefix.to_uppercase());
            let mut text = fixture.replacen(PLAN_ID, &plan_id, 1).replacen(
                PATIENT_ID,
                &format!("\"LG-PAT-{i:06}\""),
                1,
            );
            if let Some(date) = self.session_date {
                text = text.replacen(SESSION_DATE, &format!("\"{date}\""), 1);
            }
            text
        }
    }
}

/// The real daemon: started, sampled, profiled and stopped by its id.
mod daemon {
    use super::observer::Tracker;
    use std::fs::File;
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, ExitStatus, Stdio};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::thread::JoinHandle;
    use std::time::{Duration, Instant};

    /// A running `embolint watch`.
    pub struct Daemon {
        /// The process; killed when dropped, if still running.
        child: Child,
        /// Its process id.
        pub pid: u32,
        /// Its stderr (the operational log).
        log: PathBuf,
        /// When it was spawned.
        spawned: Instant,
    }

    impl Daemon {
        /// Spawns `BINARY watch --root ROOT [--config FILE]`, stderr to `log`.
        pub fn spawn(
            binary: &Path,
            root: &Path,
            config: Option<&Path>,
            log: &Path,
        ) -> Result<Daemon, String> {
            let stderr =
                File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
            let mut command = Command::new(binary);
            command.arg("watch").arg("--root").arg(root);
            if let Some(config) = config {
                command.arg("--config").arg(config);
            }
            command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(stderr);
            let spawned = Instant::now();
            let child =
                command.spawn().map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
            Ok(Daemon { pid: child.id(), child, log: log.to_path_buf(), spawned })
        }

        /// Waits for the start-up line; returns how long after the spawn it came.
        pub fn wait_started(&mut self, deadline: Instant) -> Result<Duration, String> {
            loop {
                let text = std::fs::read_to_string(&self.log).unwrap_or_default();
                if text.contains("embolint watch started") {
                    return Ok(self.spawned.elapsed());
                }
                if let Some(status) = self.exited() {
                    return Err(format!("the daemon did not start ({status}); its log:\n{text}"));
                }
                if Instant::now() >= deadline {
                    return Err(format!(
                        "the daemon did not start before the deadline; its log:\n{text}"
                    ));
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        }

        /// The exit status, if it has ended.
        pub fn exited(&mut self) -> Option<ExitStatus> {
            self.child.try_wait().ok().flatten()
        }

        /// SIGTERM, then SIGKILL after `grace`. `Err` says what went wrong
        /// (a daemon must stop cleanly, exit 0, on SIGTERM).
        pub fn stop(&mut self, grace: Duration) -> Result<(), String> {
            if let Some(status) = self.exited() {
                return Err(format!("the daemon had already ended ({status})"));
            }
            // SAFETY: kill(2) on the child this harness started.
            unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGTERM) };
            let until = Instant::now() + grace;
            while Instant::now() < until {
                if let Some(status) = self.exited() {
                    return match status.success() {
                        true => Ok(()),
                        false => Err(format!("the daemon ended with {status} on SIGTERM, not 0")),
                    };
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
            Err(format!("the daemon did not stop within {grace:?} of SIGTERM; killed"))
        }
    }

    impl Drop for Daemon {
        fn drop(&mut self) {
            if self.exited().is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }

    /// A value in kB from `/proc/PID/status` (`VmRSS:`, `VmHWM:`).
    pub fn status_kib(pid: u32, key: &str) -> Option<u64> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = text.lines().find(|l| l.starts_with(key))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// The process's user + system CPU time, in seconds.
    pub fn cpu_secs(pid: u32) -> Option<f64> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name: state is field 3, utime 14, stime 15.
        let rest = text.get(text.rfind(')')? + 1..)?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        // SAFETY: sysconf has no preconditions.
        let per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        (per_sec > 0).then(|| ticks as f64 / per_sec as f64)
    }

    /// One memory sample.
    #[derive(Clone, Copy, Debug)]
    pub struct Sample {
        /// Plans done when it was taken.
        pub done: usize,
        /// Resident set size, kB.
        pub rss_kib: u64,
    }

    /// Samples the daemon's VmRSS every 10 ms.
    pub struct Sampler {
        /// Tells the thread to end.
        stop: Arc<AtomicBool>,
        /// The thread; returns the samples.
        handle: JoinHandle<Vec<Sample>>,
        /// For the final sample.
        pid: u32,
        /// For the final sample.
        tracker: Arc<Tracker>,
    }

    impl Sampler {
        /// Starts sampling.
        pub fn start(pid: u32, tracker: Arc<Tracker>) -> Sampler {
            let stop = Arc::new(AtomicBool::new(false));
            let (flag, progress) = (Arc::clone(&stop), Arc::clone(&tracker));
            let handle = std::thread::spawn(move || {
                let mut samples = Vec::new();
                while !flag.load(Ordering::SeqCst) {
                    if let Some(rss_kib) = status_kib(pid, "VmRSS:") {
                        samples.push(Sample { done: progress.done(), rss_kib });
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                samples
            });
            Sampler { stop, handle, pid, tracker }
        }

        /// Stops; returns the samples, the last one taken now.
        pub fn stop(self) -> Vec<Sample> {
            self.stop.store(true, Ordering::SeqCst);
            let mut samples = self.handle.join().unwrap_or_default();
            if let Some(rss_kib) = status_kib(self.pid, "VmRSS:") {
                samples.push(Sample { done: self.tracker.done(), rss_kib });
            }
            samples
        }
    }

    /// `perf record` attached to the daemon.
    pub struct Perf {
        /// The perf process, stopped with SIGINT (so it writes its file).
        child: Child,
    }

    impl Perf {
        /// Starts recording the daemon's call stacks into `file`.
        pub fn record(pid: u32, file: &Path) -> Result<Perf, String> {
            let child = Command::new("perf")
                // DWARF stacks: the release build keeps line tables, not frame pointers.
                .args(["record", "--call-graph", "dwarf", "-F", "999", "-o"])
                .arg(file)
                .args(["-p", &pid.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot start perf: {e}"))?;
            // perf needs a moment to attach.
            std::thread::sleep(Duration::from_millis(300));
            Ok(Perf { child })
        }

        /// Stops recording (SIGINT, then SIGKILL after 20 s).
        pub fn stop(mut self) {
            // SAFETY: kill(2) on the perf process this harness started.
            unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGINT) };
            let until = Instant::now() + Duration::from_secs(20);
            while Instant::now() < until {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Watches the decision log and the inbox with inotify, and stamps for each
/// plan when its record's line appeared and when it left the inbox.
mod observer {
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
            u64::try_from(at.saturating_duration_since(self.origin).as_nanos())
                .unwrap_or(u64::MAX - 1)
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
            let digits =
                name.strip_prefix(self.prefix)?.strip_prefix('-')?.strip_suffix(".json")?;
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
            let mut poll =
                libc::pollfd { fd: self.fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut poll, 1, timeout_ms) };
            let mut leaving = Vec::new();
            let mut buf = std::mem::take(&mut self.events);
            loop {
                // SAFETY: reading into a buffer we own, of its length.
                let n =
                    unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
                let Ok(n) = usize::try_from(n) else { break };
                if n == 0 {
                    break;
                }
                self.parse(buf.get(..n).unwrap_or_default(), &mut leaving);
            }
            self.events = buf;
            let stamp = self.tracker.stamp_of(Instant::now());
            for i in leaving {
                if let (Some(left), Some(line)) =
                    (self.tracker.left.get(i), self.tracker.line.get(i))
                {
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
                    head.get(at..at + 4)
                        .and_then(|b| b.try_into().ok())
                        .map_or(0, u32::from_ne_bytes)
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
                if let (Some(line), Some(left)) =
                    (self.tracker.line.get(i), self.tracker.left.get(i))
                {
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
            return Err(format!(
                "inotify on {}: {}",
                dir.display(),
                std::io::Error::last_os_error()
            ));
        }
        Ok(wd)
    }
}

/// Putting plans into the inbox as planning software does: write a name the
/// daemon ignores (`.NAME.json.tmp`), then rename it into place.
mod dropper {
    use super::observer::Tracker;
    use super::plans::PlanSet;
    use std::os::fd::AsRawFd;
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    /// Writes plan `i`'s temporary file; returns its path and final path.
    fn write_temp(inbox: &Path, set: &PlanSet, i: usize) -> Result<(PathBuf, PathBuf), String> {
        let name = set.name(i);
        let temp = inbox.join(format!(".{name}.tmp"));
        std::fs::write(&temp, set.text(i))
            .map_err(|e| format!("cannot write {}: {e}", temp.display()))?;
        Ok((temp, inbox.join(name)))
    }

    /// Renames a temporary file into place, stamping the moment just before.
    fn rename_in(tracker: &Tracker, i: usize, temp: &Path, plan: &Path) -> Result<(), String> {
        tracker.stamp_renamed(i);
        std::fs::rename(temp, plan)
            .map_err(|e| format!("cannot rename into {}: {e}", plan.display()))
    }

    /// A burst: every temporary file written first, then all renamed in a
    /// tight loop, so the daemon meets them "at once".
    pub fn burst(inbox: &Path, set: &PlanSet, tracker: &Tracker) -> Result<(), String> {
        let files: Vec<(PathBuf, PathBuf)> =
            (0..set.len()).map(|i| write_temp(inbox, set, i)).collect::<Result<_, _>>()?;
        for (i, (temp, plan)) in files.iter().enumerate() {
            rename_in(tracker, i, temp, plan)?;
        }
        Ok(())
    }

    /// A steady stream: plan `i` written and renamed at `i / rate` seconds.
    pub fn steady(
        inbox: &Path,
        set: &PlanSet,
        tracker: &Tracker,
        rate: f64,
        deadline: Instant,
    ) -> Result<(), String> {
        let start = Instant::now();
        for i in 0..set.len() {
            let due = start + Duration::from_secs_f64(i as f64 / rate);
            if due >= deadline {
                return Err(format!("deadline reached after dropping {i} plans"));
            }
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            let (temp, plan) = write_temp(inbox, set, i)?;
            rename_in(tracker, i, &temp, &plan)?;
        }
        Ok(())
    }

    /// A backlog: every plan put in place before the daemon starts, and
    /// flushed to disk, as plans that waited while the daemon was down
    /// would be (the daemon's first sync does not pay for writing them).
    pub fn backlog(inbox: &Path, set: &PlanSet) -> Result<(), String> {
        for i in 0..set.len() {
            let (temp, plan) = write_temp(inbox, set, i)?;
            std::fs::rename(&temp, &plan)
                .map_err(|e| format!("cannot rename into {}: {e}", plan.display()))?;
        }
        let dir = std::fs::File::open(inbox).map_err(|e| format!("cannot open the inbox: {e}"))?;
        // SAFETY: syncfs on a descriptor we own.
        if unsafe { libc::syncfs(dir.as_raw_fd()) } != 0 {
            return Err(format!("cannot sync the backlog: {}", std::io::Error::last_os_error()));
        }
        Ok(())
    }
}

/// The figures: latency percentiles, throughput, memory, the check that
/// each plan got exactly one record with the right verdict, and printing.
mod figures {
    use super::daemon::Sample;
    use super::observer::Tracker;
    use super::plans::PlanSet;
    use super::{Args, Arrival};
    use serde::Serialize;
    use std::collections::BTreeMap;
    use std::fmt;
    use std::io::{BufRead, BufReader, Seek, SeekFrom};
    use std::path::Path;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    /// Where and how the run was made, printed with its figures.
    #[derive(Debug, Serialize)]
    pub struct Context {
        /// The mode's name.
        pub mode: String,
        /// Which phase of the mode, when it has several (`history`).
        pub phase: Option<String>,
        /// The daemon's settle time, if set.
        pub settle_millis: Option<u64>,
        /// The daemon's batch size, if set.
        pub batch_size: Option<usize>,
        /// The served root.
        pub root: String,
        /// Its file system's type.
        pub fs_type: String,
        /// Whether the daemon keeps `state/history.sqlite`.
        pub history: bool,
        /// CPUs online.
        pub cpus: usize,
        /// The 1-minute load average when the phase began.
        pub load_at_start: f64,
        /// Backlog: whether the plans were left to age past the settle
        /// time before the daemon started (`--aged`).
        pub aged: Option<bool>,
    }

    impl Context {
        /// The context as it is now.
        pub fn now(args: &Args, root: &Path, history: bool) -> Context {
            Context {
                mode: format!("{:?}", args.mode).to_lowercase(),
                phase: None,
                settle_millis: args.settle_millis,
                batch_size: args.batch_size,
                root: root.display().to_string(),
                fs_type: fs_type(root),
                history,
                cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
                load_at_start: load_average(),
                aged: None,
            }
        }
    }

    /// The 1-minute load average.
    fn load_average() -> f64 {
        let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        text.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
    }

    /// The type of the file system holding `path`.
    fn fs_type(path: &Path) -> String {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
            return "unknown".into();
        };
        // SAFETY: statfs fills a zeroed struct from a NUL-terminated path.
        let mut stat: libc::statfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statfs(c_path.as_ptr(), &mut stat) } != 0 {
            return "unknown".into();
        }
        match stat.f_type as i64 {
            0xEF53 => "ext4".into(),
            0x0102_1994 => "tmpfs".into(),
            0x5846_5342 => "xfs".into(),
            0x9123_683E => "btrfs".into(),
            0x794C_7630 => "overlayfs".into(),
            other => format!("0x{other:x}"),
        }
    }

    /// p50, p99 and max of a set of latencies, in milliseconds.
    #[derive(Clone, Copy, Debug, Serialize)]
    pub struct Latency {
        /// Median.
        pub p50_ms: f64,
        /// 99th percentile (nearest rank).
        pub p99_ms: f64,
        /// Worst.
        pub max_ms: f64,
    }

    impl Latency {
        /// The percentiles of `values`; `None` when empty.
        fn of(mut values: Vec<Duration>) -> Option<Latency> {
            values.sort();
            let rank = |q: f64| {
                let i = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1;
                values.get(i).map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
            };
            (!values.is_empty()).then(|| Latency {
                p50_ms: rank(0.50),
                p99_ms: rank(0.99),
                max_ms: rank(1.0),
            })
        }
    }

    /// The daemon's resident memory during the phase, in MiB.
    #[derive(Clone, Copy, Debug, Default, Serialize)]
    pub struct Memory {
        /// When 10 % of the plans were done.
        pub rss_10_mib: Option<f64>,
        /// At 50 %.
        pub rss_50_mib: Option<f64>,
        /// At the end.
        pub rss_100_mib: Option<f64>,
        /// The largest sample.
        pub rss_max_sampled_mib: Option<f64>,
        /// The peak over the daemon's life: VmHWM read at the end, or the
        /// largest sample if larger (the kernel updates VmHWM lazily).
        pub peak_mib: Option<f64>,
    }

    impl Memory {
        /// From the samples (taken every 10 ms) and VmHWM.
        pub fn from_samples(samples: &[Sample], count: usize, peak_kib: Option<u64>) -> Memory {
            let mib = |kib: u64| kib as f64 / 1024.0;
            let at = |fraction: f64| {
                let needed = (fraction * count as f64).ceil() as usize;
                samples.iter().find(|s| s.done >= needed).map(|s| mib(s.rss_kib))
            };
            Memory {
                rss_10_mib: at(0.10),
                rss_50_mib: at(0.50),
                rss_100_mib: samples.last().map(|s| mib(s.rss_kib)),
                rss_max_sampled_mib: samples.iter().map(|s| s.rss_kib).max().map(mib),
                peak_mib: peak_kib
                    .into_iter()
                    .chain(samples.iter().map(|s| s.rss_kib))
                    .max()
                    .map(mib),
            }
        }
    }

    /// What the log says about the phase's plans.
    pub struct Check {
        /// Records per verdict.
        pub verdicts: BTreeMap<String, usize>,
        /// Missing, duplicated or wrongly judged plans.
        pub problems: Vec<String>,
    }

    /// One record, as far as the check needs it.
    #[derive(serde::Deserialize)]
    struct Record {
        /// pass, fail or invalid.
        verdict: String,
        /// Where the plan went.
        watch: Placement,
    }

    /// The record's `watch` member.
    #[derive(serde::Deserialize)]
    struct Placement {
        /// The plan's name in the inbox.
        inbox_name: String,
    }

    /// Reads the phase's records: each plan exactly once, with its expected verdict.
    pub fn verify(log: &Path, start: u64, set: &PlanSet) -> Result<Check, String> {
        let mut file =
            std::fs::File::open(log).map_err(|e| format!("cannot open {}: {e}", log.display()))?;
        file.seek(SeekFrom::Start(start)).map_err(|e| e.to_string())?;
        let mut seen = vec![0usize; set.len()];
        let mut verdicts = BTreeMap::new();
        let mut problems = Vec::new();
        for line in BufReader::new(file).split(b'\n') {
            let line = line.map_err(|e| format!("reading {}: {e}", log.display()))?;
            let record: Record = match serde_json::from_slice(&line) {
                Ok(record) => record,
                Err(error) => {
                    problems.push(format!("a decision record that is not JSON: {error}"));
                    continue;
                }
            };
            *verdicts.entry(record.verdict.clone()).or_insert(0) += 1;
            let Some(i) = set.index_of(&record.watch.inbox_name) else { continue };
            if let Some(count) = seen.get_mut(i) {
                *count += 1;
            }
            if record.verdict != set.expected_verdict(i) {
                problems.push(format!(
                    "{} was judged {}, expected {}",
                    record.watch.inbox_name,
                    record.verdict,
                    set.expected_verdict(i)
                ));
            }
        }
        let missing = seen.iter().filter(|&&n| n == 0).count();
        let repeated = seen.iter().filter(|&&n| n > 1).count();
        if missing > 0 {
            problems.push(format!("{missing} plans have no decision record"));
        }
        if repeated > 0 {
            problems.push(format!("{repeated} plans have more than one decision record"));
        }
        problems.truncate(20);
        Ok(Check { verdicts, problems })
    }

    /// The figures of one measured phase.
    #[derive(Debug, Serialize)]
    pub struct Report {
        /// Where and how.
        pub context: Context,
        /// Plans measured.
        pub count: usize,
        /// Of which invalid on purpose.
        pub invalid: usize,
        /// Steady rate asked for, if any.
        pub rate: Option<f64>,
        /// Backlog: the daemon's start-up line, after its spawn.
        pub started_ms: Option<f64>,
        /// Backlog: from the last plan written and flushed to the spawn.
        pub backlog_age_ms: Option<f64>,
        /// From the first rename (backlog: the spawn) to the last rename.
        pub drop_secs: f64,
        /// From the first rename (backlog: the spawn) to the first record line.
        pub first_record_ms: Option<f64>,
        /// From the first rename (backlog: the spawn) to the first plan out of the inbox.
        pub first_durable_ms: Option<f64>,
        /// From the first rename (backlog: the spawn) to the last plan durable.
        pub total_secs: f64,
        /// `count / total_secs`.
        pub plans_per_sec: f64,
        /// Rename → durable (the later of line seen and plan out of the inbox).
        pub durable: Option<Latency>,
        /// Rename → record line seen (written; maybe not yet synced).
        pub line: Option<Latency>,
        /// Leave times from listings after lost inotify events.
        pub fallback_leaves: usize,
        /// The daemon's CPU time during the phase, seconds.
        pub daemon_cpu_secs: Option<f64>,
        /// Its memory.
        pub memory: Memory,
        /// Records per verdict.
        pub verdicts: BTreeMap<String, usize>,
        /// Anything wrong; empty when every plan got one right record.
        pub problems: Vec<String>,
    }

    impl Report {
        /// Computes the figures of a phase.
        #[allow(clippy::too_many_arguments)]
        pub fn new(
            context: Context,
            set: &PlanSet,
            arrival: Arrival,
            tracker: &Tracker,
            memory: Memory,
            daemon_cpu_secs: Option<f64>,
            verdicts: BTreeMap<String, usize>,
            problems: Vec<String>,
        ) -> Report {
            let times = |slots: &[std::sync::atomic::AtomicU64]| -> Vec<Option<Duration>> {
                slots.iter().map(Tracker::time).collect()
            };
            let (renamed, line, left) =
                (times(&tracker.renamed), times(&tracker.line), times(&tracker.left));
            let first_rename = renamed.iter().flatten().min().copied().unwrap_or_default();
            let last_rename = renamed.iter().flatten().max().copied().unwrap_or_default();
            let durable_at: Vec<Option<Duration>> =
                line.iter().zip(&left).map(|(l, o)| Some((*l)?.max((*o)?))).collect();
            let since = |at: &[Option<Duration>]| -> Vec<Duration> {
                at.iter()
                    .zip(&renamed)
                    .filter_map(|(a, r)| Some((*a)?.saturating_sub((*r)?)))
                    .collect()
            };
            let after_first = |at: &[Option<Duration>], f: fn(&[Duration]) -> Option<Duration>| {
                let known: Vec<Duration> = at.iter().flatten().copied().collect();
                f(&known).map(|d| d.saturating_sub(first_rename))
            };
            let earliest: fn(&[Duration]) -> Option<Duration> = |v| v.iter().min().copied();
            let latest: fn(&[Duration]) -> Option<Duration> = |v| v.iter().max().copied();
            let total = after_first(&durable_at, latest).unwrap_or_default().as_secs_f64();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            Report {
                count: set.len(),
                invalid: set.invalid_count(),
                rate: match arrival {
                    Arrival::Steady(rate) => Some(rate),
                    _ => None,
                },
                started_ms: match arrival {
                    Arrival::Backlog(started) => Some(ms(started)),
                    _ => None,
                },
                backlog_age_ms: None,
                drop_secs: last_rename.saturating_sub(first_rename).as_secs_f64(),
                first_record_ms: after_first(&line, earliest).map(ms),
                first_durable_ms: after_first(&durable_at, earliest).map(ms),
                total_secs: total,
                plans_per_sec: if total > 0.0 { set.len() as f64 / total } else { f64::NAN },
                durable: Latency::of(since(&durable_at)),
                line: Latency::of(since(&line)),
                fallback_leaves: tracker.fallback_leaves.load(Ordering::SeqCst),
                daemon_cpu_secs,
                memory,
                verdicts,
                problems,
                context,
            }
        }
    }

    /// `12.3 MiB`, or `-`.
    fn mib(value: Option<f64>) -> String {
        value.map_or("-".into(), |v| format!("{v:.1} MiB"))
    }

    /// `p50 1.23 ms · p99 4.56 ms · max 7.89 ms`, or `-`.
    fn latency(value: Option<Latency>) -> String {
        value.map_or("-".into(), |l| {
            format!("p50 {:.2} ms · p99 {:.2} ms · max {:.2} ms", l.p50_ms, l.p99_ms, l.max_ms)
        })
    }

    impl fmt::Display for Report {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let c = &self.context;
            let setting =
                |v: Option<String>, default: &str| v.unwrap_or(format!("{default} (default)"));
            let settle = setting(c.settle_millis.map(|v| format!("{v} ms")), "1000 ms");
            let batch = setting(c.batch_size.map(|v| v.to_string()), "64");
            let zero = if c.mode == "backlog" { "the daemon's spawn" } else { "the first rename" };
            writeln!(
                f,
                "embolint loadgen · {} · {} plans ({} invalid)",
                c.phase.as_deref().unwrap_or(&c.mode),
                self.count,
                self.invalid
            )?;
            writeln!(
                f,
                "  daemon      settle {settle} · batch {batch} · history {}",
                if c.history { "on" } else { "off" }
            )?;
            writeln!(
                f,
                "  root        {} ({}) · {} CPUs, load {:.2} at start",
                c.root, c.fs_type, c.cpus, c.load_at_start
            )?;
            if let Some(rate) = self.rate {
                writeln!(
                    f,
                    "  dropping    {rate} plans/s, last rename {:.2} s after the first",
                    self.drop_secs
                )?;
            } else if let Some(started) = self.started_ms {
                let age = self.backlog_age_ms.unwrap_or(f64::NAN);
                let kind = if c.aged == Some(true) {
                    "aged: quiet for the settle time, as if piled up while the daemon was down"
                } else {
                    "fresh: still settling at the start (--aged waits first)"
                };
                writeln!(
                    f,
                    "  backlog     last plan written {age:.0} ms before the spawn ({kind})"
                )?;
                writeln!(f, "  start-up    start-up line {started:.1} ms after the spawn")?;
            } else {
                writeln!(f, "  dropping    {} renames in {:.3} s", self.count, self.drop_secs)?;
            }
            writeln!(
                f,
                "  first       record line {} ms, durable {} ms after {zero}",
                self.first_record_ms.map_or("-".into(), |v| format!("{v:.1}")),
                self.first_durable_ms.map_or("-".into(), |v| format!("{v:.1}")),
            )?;
            writeln!(
                f,
                "  throughput  {:.0} plans/s ({:.2} s from {zero} to the last durable record)",
                self.plans_per_sec, self.total_secs
            )?;
            writeln!(f, "  durable     {}", latency(self.durable))?;
            writeln!(f, "  line seen   {}", latency(self.line))?;
            let per_plan = self
                .daemon_cpu_secs
                .map_or("-".into(), |s| format!("{:.3}", 1000.0 * s / self.count as f64));
            let cpu = self.daemon_cpu_secs.map_or("-".into(), |s| format!("{s:.2}"));
            writeln!(f, "  daemon CPU  {cpu} s ({per_plan} ms per plan)")?;
            let m = &self.memory;
            writeln!(
                f,
                "  daemon RSS  {} at 10 % · {} at 50 % · {} at 100 % · max sampled {} · peak {}",
                mib(m.rss_10_mib),
                mib(m.rss_50_mib),
                mib(m.rss_100_mib),
                mib(m.rss_max_sampled_mib),
                mib(m.peak_mib)
            )?;
            let verdicts: Vec<String> =
                self.verdicts.iter().map(|(v, n)| format!("{v} {n}")).collect();
            let fallback = match self.fallback_leaves {
                0 => String::new(),
                n => format!(" · {n} leave times from listings"),
            };
            writeln!(f, "  verdicts    {}{fallback}", verdicts.join(" · "))?;
            if self.problems.is_empty() {
                writeln!(f, "  check       each plan exactly one record, with its expected verdict")
            } else {
                for problem in &self.problems {
                    writeln!(f, "  PROBLEM     {problem}")?;
                }
                Ok(())
            }
        }
    }
}
