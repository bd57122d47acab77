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
    /// Whether the daemon uses a shared PostgreSQL history instead.
    pub shared_history: bool,
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
            shared_history: args.history_url.is_some(),
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
            peak_mib: peak_kib.into_iter().chain(samples.iter().map(|s| s.rss_kib)).max().map(mib),
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
            at.iter().zip(&renamed).filter_map(|(a, r)| Some((*a)?.saturating_sub((*r)?))).collect()
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
            match (c.shared_history, c.history) {
                (true, _) => "shared (PostgreSQL)",
                (false, true) => "on (SQLite)",
                (false, false) => "off",
            }
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
            writeln!(f, "  backlog     last plan written {age:.0} ms before the spawn ({kind})")?;
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
        let verdicts: Vec<String> = self.verdicts.iter().map(|(v, n)| format!("{v} {n}")).collect();
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
