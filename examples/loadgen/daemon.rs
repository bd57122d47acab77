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
        command.arg("watch").arg("--root").arg(root).arg("--init");
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
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
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
