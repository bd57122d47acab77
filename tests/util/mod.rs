//! Shared helpers of the watch-daemon tests: start the real binary on a
//! fresh temporary root, drop plans, wait for conditions (never for fixed
//! times), and check the folder protocol's invariants.
#![allow(dead_code)]

pub mod postgres;

use embolint::history::{History, RecordedPlan};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long any condition may take on a slow, loaded machine.
pub const PATIENCE: Duration = Duration::from_secs(90);

/// A plan that passes (the SPEC's example).
pub const PASS_PLAN: &str = include_str!("../fixtures/watch/pass.json");
/// A plan that fails (an artery overdose).
pub const FAIL_PLAN: &str = include_str!("../fixtures/watch/fail.json");
/// The shipped rule file, for reload tests.
pub const SHIPPED_RULES: &str = include_str!("../../rules/chiras-bone-chemoembolization.toml");

/// The passing plan with its own plan id, so every copy has its own sha256,
/// and its own patient, so copies are never too close to each other in the
/// patient history.
pub fn pass_plan(id: &str) -> String {
    PASS_PLAN.replace("PLN-2026-0042", id).replace("PAT-0007", &format!("PAT-{id}"))
}

/// The failing plan with its own plan id.
pub fn fail_plan(id: &str) -> String {
    FAIL_PLAN.replace("PLN-2026-0042", id)
}

/// The passing plan as plan `plan_id` of `patient`, with one session, on
/// `date`, and no prior sessions: it passes unless the history holds a
/// session of the patient within a month of `date`.
pub fn plan_on(plan_id: &str, patient: &str, date: &str) -> String {
    let mut plan: Value = serde_json::from_str(PASS_PLAN).unwrap();
    plan["plan_id"] = plan_id.into();
    plan["patient"]["id"] = patient.into();
    plan["sessions"][0]["date"] = date.into();
    // The spinal arteries mapped on the session's day: a mapping dated
    // after a session does not count for it.
    plan["spinal_artery_mapping"]["date"] = date.into();
    plan.as_object_mut().unwrap().remove("prior_sessions");
    serde_json::to_string_pretty(&plan).unwrap()
}

/// A fresh temporary folder holding the served root and the daemon's logs.
pub struct Site {
    /// Removed when the test ends.
    pub dir: tempfile::TempDir,
    /// Counts daemon starts, to name their log files.
    starts: usize,
}

impl Site {
    /// A new, empty site; the root is created by the daemon.
    pub fn new() -> Site {
        Site { dir: tempfile::tempdir().unwrap(), starts: 0 }
    }

    /// The served root.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// The inbox (created if missing, for dropping plans before start-up).
    pub fn inbox(&self) -> PathBuf {
        let inbox = self.root().join("inbox");
        fs::create_dir_all(&inbox).unwrap();
        inbox
    }

    /// Starts `embolint watch --root ROOT --log-format json` plus `args`
    /// (with a settle time of 300 ms unless `args` give one), and waits for
    /// its start-up line.
    pub fn start(&mut self, args: &[&str]) -> Daemon {
        self.start_with_env(args, &[])
    }

    /// Like [`Site::start`], with extra environment variables.
    pub fn start_with_env(&mut self, args: &[&str], env: &[(&str, &str)]) -> Daemon {
        let mut daemon = self.spawn(args, env);
        daemon.wait_for_log("embolint watch started");
        daemon
    }

    /// Starts the daemon without waiting for anything.
    pub fn spawn(&mut self, args: &[&str], env: &[(&str, &str)]) -> Daemon {
        self.spawn_command("watch", args, env)
    }

    /// Starts `embolint COMMAND --root ROOT ...` (watch or serve).
    pub fn spawn_command(
        &mut self,
        command_name: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Daemon {
        self.starts += 1;
        let stderr_path = self.dir.path().join(format!("daemon-{}.log", self.starts));
        let stderr = fs::File::create(&stderr_path).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_embolint"));
        command
            .arg(command_name)
            .arg("--root")
            .arg(self.root())
            .args(["--log-format", "json", "--init"])
            .args(args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        if !args.contains(&"--settle-millis") {
            command.args(["--settle-millis", "300"]);
        }
        for (key, value) in env {
            command.env(key, value);
        }
        Daemon { child: command.spawn().unwrap(), stderr_path }
    }

    /// Starts `embolint serve --root ROOT` on a free loopback port (plus
    /// `args`) and waits until it answers HTTP; returns it and its base URL.
    pub fn serve(&mut self, args: &[&str]) -> (Daemon, String) {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut all = vec!["--listen", listen.as_str()];
        all.extend_from_slice(args);
        let mut daemon = self.spawn_command("serve", &all, &[]);
        daemon.wait_for_log("embolint serve answering HTTP");
        (daemon, format!("http://{listen}"))
    }

    /// Starts `embolint serve` with `args` without waiting for anything.
    pub fn spawn_serve(&mut self, args: &[&str]) -> Daemon {
        self.spawn_command("serve", args, &[])
    }

    /// Writes a plan straight into the inbox (one write, then close).
    pub fn write(&self, name: &str, text: &str) {
        fs::write(self.inbox().join(name), text).unwrap();
    }

    /// Drops a plan the safe way: written under a temporary name, renamed in.
    pub fn drop_plan(&self, name: &str, text: &str) {
        let inbox = self.inbox();
        let temp = inbox.join(format!(".{name}.tmp"));
        fs::write(&temp, text).unwrap();
        fs::rename(&temp, inbox.join(name)).unwrap();
    }

    /// Every complete decision record, in log order (a line still being
    /// written, or torn by a kill, is not one yet; events are not records).
    pub fn records(&self) -> Vec<Value> {
        let text = fs::read_to_string(self.root().join("log/decisions.jsonl")).unwrap_or_default();
        let mut lines: Vec<&str> = text.split('\n').collect();
        lines.pop();
        let lines = lines.iter().map(|l| serde_json::from_str::<Value>(l).unwrap());
        lines.filter(|line| line.get("event").is_none()).collect()
    }

    /// Every complete event line of the decision log (withdrawals), in order.
    pub fn events(&self) -> Vec<Value> {
        self.log_lines()
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|line| line.get("event").is_some())
            .collect()
    }

    /// The decision log's complete lines (a torn last line is left out).
    fn log_lines(&self) -> Vec<String> {
        let text = fs::read_to_string(self.root().join("log/decisions.jsonl")).unwrap_or_default();
        let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
        complete.lines().map(str::to_string).collect()
    }

    /// Decision records per inbox name.
    pub fn records_by_name(&self) -> BTreeMap<String, Vec<Value>> {
        let mut by_name: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for record in self.records() {
            let name = record["watch"]["inbox_name"].as_str().unwrap().to_string();
            by_name.entry(name).or_default().push(record);
        }
        by_name
    }

    /// Names (without sidecars, and without the daemon's temporary files,
    /// whose names start with `.`: no plan is placed under such a name) in
    /// a folder of the root, sorted.
    pub fn names_in(&self, folder: &str) -> Vec<String> {
        let mut names: Vec<String> = match fs::read_dir(self.root().join(folder)) {
            Ok(entries) => entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    !n.ends_with(".verdict.json")
                        && !n.ends_with(".verdict.txt")
                        && !n.starts_with('.')
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        names.sort();
        names
    }

    /// The history database.
    pub fn history_db(&self) -> PathBuf {
        self.root().join("state/history.sqlite")
    }

    /// Every plan the history database holds, by plan id.
    pub fn history_in_db(&self) -> Vec<RecordedPlan> {
        History::open_read_only(&self.history_db()).unwrap().plans().unwrap()
    }

    /// The history the decision log implies, worked out from the log alone:
    /// each passed record's `watch.history` in log order (a plan id replaces
    /// its earlier version), minus each withdrawal event and each plan that
    /// could not be placed.
    pub fn history_from_log(&self) -> Vec<RecordedPlan> {
        let mut plans: BTreeMap<String, RecordedPlan> = BTreeMap::new();
        for line in self.log_lines() {
            let line: Value = serde_json::from_str(&line).unwrap();
            if line["event"] == "history-forget" {
                plans.remove(line["plan_id"].as_str().unwrap());
            } else if line["event"] == "plan-not-placed" {
                // A plan placed nowhere: its rows out, the version they
                // replaced back.
                let Some(withdrawn) = line.get("withdrawn") else { continue };
                let id = withdrawn["plan_id"].as_str().unwrap();
                if plans.get(id).map(|p| p.decision_key.as_str())
                    == withdrawn["decision_key"].as_str()
                {
                    plans.remove(id);
                    if let Some(restored) = line.get("restored") {
                        let restored: RecordedPlan =
                            serde_json::from_value(restored.clone()).unwrap();
                        plans.insert(restored.plan_id.clone(), restored);
                    }
                }
            } else if line.get("event").is_some() {
            } else if line["verdict"] == "pass" {
                let rows: RecordedPlan =
                    serde_json::from_value(line["watch"]["history"].clone()).unwrap();
                assert_eq!(rows.plan_id, line["plan_id"], "history rows of another plan");
                assert_eq!(rows.file_sha256, line["sha256"], "history rows of another file");
                plans.insert(rows.plan_id.clone(), rows);
            } else {
                assert!(line["watch"]["history"].is_null(), "a plan that did not pass has rows");
            }
        }
        plans.into_values().collect()
    }

    /// Asserts that the history database holds exactly what the decision
    /// log says it should.
    pub fn assert_history_agrees_with_log(&self) {
        let from_log = self.history_from_log();
        let in_db = self.history_in_db();
        assert_eq!(in_db, from_log, "the history database and the decision log disagree");
    }

    /// Runs `embolint ARGS` to completion (not the daemon).
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_embolint"))
            .args(args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Starts `embolint history --forget PLAN_ID --by BY` against this root,
    /// waiting up to 300 s for the daemon's answer; its output is piped.
    pub fn spawn_forget(&self, plan_id: &str, by: &str) -> Child {
        Command::new(env!("CARGO_BIN_EXE_embolint"))
            .args(["history", "--forget", plan_id, "--by", by, "--reason", "cancelled", "--root"])
            .arg(self.root())
            .args(["--wait-secs", "300"])
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// `embolint history PATIENT --root ROOT --format json`: the patient's
    /// recorded sessions as (plan id, date).
    pub fn sessions_of(&self, patient: &str) -> Vec<(String, String)> {
        let root = self.root();
        let output =
            self.run(&["history", patient, "--root", root.to_str().unwrap(), "--format", "json"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let sessions: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
        sessions
            .iter()
            .map(|s| (s["plan_id"].as_str().unwrap().into(), s["date"].as_str().unwrap().into()))
            .collect()
    }

    /// Drops plan `name` and returns its decision record once the plan is
    /// placed (and so recorded in the history if it passed).
    pub fn judge(&self, name: &str, text: &str) -> Value {
        let count = self.records().len();
        self.drop_plan(name, text);
        self.wait_for_records(count + 1);
        let record = self.records().pop().unwrap();
        assert_eq!(record["watch"]["inbox_name"], name, "another plan was judged");
        // Placed only after the history holds it.
        let moved_to = self.root().join(record["watch"]["moved_to"].as_str().unwrap());
        wait_until(&format!("{name} placed"), || moved_to.exists());
        record
    }

    /// Plans placed in the three outcome folders.
    pub fn placed(&self) -> usize {
        ["passed", "failed", "invalid"].iter().map(|f| self.names_in(f).len()).sum()
    }

    /// Whether every recorded plan is at the place its record names (a
    /// plan put back into the inbox, changed after its reading, never is).
    pub fn every_record_placed(&self) -> bool {
        self.records().iter().all(|record| {
            let moved_to = record["watch"]["moved_to"].as_str().unwrap();
            fs::symlink_metadata(self.root().join(moved_to)).is_ok()
        })
    }

    /// Waits until `count` decision records exist.
    pub fn wait_for_records(&self, count: usize) {
        wait_until(&format!("{count} decision records"), || self.records().len() >= count);
    }

    /// Checks the folder protocol for plans named `expected`: each has
    /// exactly one record, sits in exactly one outcome folder under the name
    /// its record gives, with its sidecar (same verdict) beside it; the inbox
    /// holds none of them; and no record names another plan.
    pub fn assert_each_once(&self, expected: &[String]) {
        let by_name = self.records_by_name();
        let inbox = self.inbox();
        for name in expected {
            let records = by_name.get(name).map(Vec::as_slice).unwrap_or_default();
            assert_eq!(records.len(), 1, "{name}: expected one decision record, got {records:?}");
            let record = &records[0];
            let moved_to = record["watch"]["moved_to"].as_str().unwrap();
            let folder = moved_to.split('/').next().unwrap();
            let verdict = record["verdict"].as_str().unwrap();
            let expected_folder = match verdict {
                "pass" => "passed",
                "fail" => "failed",
                _ => "invalid",
            };
            assert_eq!(folder, expected_folder, "{name}: {verdict} must go to {expected_folder}");
            assert!(
                fs::symlink_metadata(self.root().join(moved_to)).is_ok(),
                "{name}: not at {moved_to}"
            );
            let sidecar = self.root().join(record["watch"]["sidecar"].as_str().unwrap());
            let sidecar: Value = serde_json::from_slice(&fs::read(&sidecar).unwrap()).unwrap();
            assert_eq!(sidecar["verdict"], record["verdict"], "{name}: sidecar disagrees");
            assert_eq!(sidecar["sha256"], record["sha256"], "{name}: sidecar disagrees");
            // The same verdict as text for people, beside it.
            let text = self.root().join(format!("{moved_to}.verdict.txt"));
            let text = fs::read_to_string(&text)
                .unwrap_or_else(|e| panic!("{name}: no text verdict beside it: {e}"));
            let shown = verdict.to_uppercase();
            assert!(
                text.lines().next().is_some_and(|first| first.contains(&shown)),
                "{name}: the text verdict does not lead with {shown}: {text}"
            );
            assert!(!inbox.join(name).exists(), "{name}: still in the inbox");
        }
        let expected: std::collections::HashSet<&String> = expected.iter().collect();
        let extra: Vec<_> = by_name.keys().filter(|n| !expected.contains(n)).collect();
        assert!(extra.is_empty(), "records for unexpected files: {extra:?}");
        assert_eq!(self.placed(), expected.len(), "plans in the outcome folders");
    }

    /// Asserts that no plan (a `.json` regular file or link) is left in
    /// the inbox.
    pub fn assert_inbox_has_no_plans(&self) {
        let left: Vec<String> = fs::read_dir(self.inbox())
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| {
                let kind = e.file_type().unwrap();
                let name = e.file_name().to_string_lossy().into_owned();
                name.ends_with(".json")
                    && !name.starts_with('.')
                    && (kind.is_file() || kind.is_symlink())
            })
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(left.is_empty(), "plans left in the inbox: {left:?}");
    }

    /// The temporary verdict files in `state/writing/` (where the daemon
    /// writes verdict files before naming them beside their plans).
    pub fn verdicts_being_written(&self) -> Vec<String> {
        fs::read_dir(self.root().join("state/writing"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    /// Asserts that no temporary verdict file is left, neither in
    /// `state/writing/` nor in an outcome folder.
    pub fn assert_no_verdict_being_written(&self) {
        assert_eq!(self.verdicts_being_written(), Vec::<String>::new(), "left in state/writing");
        for folder in ["passed", "failed", "invalid"] {
            let temps: Vec<String> = fs::read_dir(self.root().join(folder))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with(".embolint-"))
                .collect();
            assert!(temps.is_empty(), "temporary files left in {folder}/: {temps:?}");
        }
    }
}

/// A running daemon; killed when dropped if still running.
pub struct Daemon {
    /// The process.
    pub child: Child,
    /// Where its stderr goes.
    pub stderr_path: PathBuf,
}

impl Daemon {
    /// Everything it logged so far.
    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Its JSON log lines whose message contains `text`.
    pub fn log_lines(&self, text: &str) -> Vec<Value> {
        self.stderr()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["fields"]["message"].as_str().is_some_and(|m| m.contains(text)))
            .collect()
    }

    /// Waits until a log line contains `text`; fails with the whole log.
    pub fn wait_for_log(&mut self, text: &str) {
        let start = Instant::now();
        while self.log_lines(text).is_empty() {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("daemon exited ({status}) before logging {text:?}:\n{}", self.stderr());
            }
            assert!(start.elapsed() < PATIENCE, "no log line {text:?} in:\n{}", self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a signal.
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, signal) }, 0);
    }

    /// Sends SIGKILL and reaps the process.
    pub fn kill9(mut self) {
        self.signal(libc::SIGKILL);
        self.child.wait().unwrap();
    }

    /// Waits for the process to exit by itself.
    pub fn wait_exit(mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < PATIENCE, "daemon did not exit:\n{}", self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the exit and returns it with everything logged.
    pub fn wait_exit_keeping_log(self) -> (ExitStatus, String) {
        let path = self.stderr_path.clone();
        let status = self.wait_exit();
        (status, fs::read_to_string(path).unwrap_or_default())
    }

    /// Waits up to `patience` for the process to exit by itself; kills it
    /// (status `None`) if it has not. Returns what it logged.
    pub fn wait_exit_keeping_log_within(
        mut self,
        patience: Duration,
    ) -> (Option<ExitStatus>, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break Some(status);
            }
            if start.elapsed() > patience {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        (status, fs::read_to_string(&self.stderr_path).unwrap_or_default())
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn terminate(self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait_exit()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Polls `condition` until it holds; fails after [`PATIENCE`].
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < PATIENCE, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Drops `plans` (name, text) into `inbox` on another thread, as planning
/// software does (a `.NAME.tmp` file renamed into place), pausing 50 ms
/// after every `pause_every` plans so a daemon killed meanwhile finds some
/// of them judged and some still arriving.
pub fn drop_in_background(
    inbox: PathBuf,
    plans: Vec<(String, String)>,
    pause_every: usize,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for (i, (name, text)) in plans.iter().enumerate() {
            let temp = inbox.join(format!(".{name}.tmp"));
            fs::write(&temp, text).unwrap();
            fs::rename(&temp, inbox.join(name)).unwrap();
            if i % pause_every == pause_every - 1 {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    })
}

/// Writes `text` to `path` in `chunks` pieces over about `over`, keeping the
/// file open the whole time, as a slow writer would.
pub fn write_slowly(path: &Path, text: &str, chunks: usize, over: Duration) {
    let mut file = fs::File::create(path).unwrap();
    let bytes = text.as_bytes();
    let size = bytes.len().div_ceil(chunks);
    for piece in bytes.chunks(size) {
        file.write_all(piece).unwrap();
        file.flush().unwrap();
        std::thread::sleep(over / chunks as u32);
    }
}

/// Whether `path` is a FIFO (for the bad-file tests).
pub fn is_fifo(path: &Path) -> bool {
    fs::symlink_metadata(path).map(|m| m.file_type().is_fifo()).unwrap_or(false)
}

/// sha256 (hex) of bytes, as records give it.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// Makes a FIFO (named pipe) at `path`.
pub fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0, "mkfifo {}", path.display());
}

/// Everything under `dir` except the paths in `skip` (and what is under
/// them): each path with its kind and content (file bytes' sha256, link
/// target, or "dir"), to show that nothing there was written.
pub fn tree_snapshot(dir: &Path, skip: &[PathBuf]) -> BTreeMap<PathBuf, String> {
    let mut found = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(next) = todo.pop() {
        for entry in fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if skip.contains(&path) {
                continue;
            }
            let meta = fs::symlink_metadata(&path).unwrap();
            let what = if meta.file_type().is_symlink() {
                format!("link to {}", fs::read_link(&path).unwrap().display())
            } else if meta.is_dir() {
                todo.push(path.clone());
                "dir".to_string()
            } else if meta.is_file() {
                format!("file {}", sha256(&fs::read(&path).unwrap()))
            } else {
                "special".to_string()
            };
            found.insert(path, what);
        }
    }
    found
}

/// Every file in the outcome folders of `root` whose bytes are not the
/// ones its sidecar's sha256 names (sidecars themselves, links and
/// oversized files, whose sha256 is of their first bytes, are skipped).
pub fn placed_files_not_matching_their_verdict(root: &Path) -> Vec<String> {
    let mut wrong = Vec::new();
    for folder in ["passed", "failed", "invalid"] {
        let Ok(entries) = fs::read_dir(root.join(folder)) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let meta = fs::symlink_metadata(&path).unwrap();
            let sidecar = name.ends_with(".verdict.json") || name.ends_with(".verdict.txt");
            if sidecar || !meta.is_file() || meta.len() > 1024 * 1024 {
                continue;
            }
            let mut sidecar = path.clone().into_os_string();
            sidecar.push(".verdict.json");
            let verdict: Value = serde_json::from_slice(&fs::read(&sidecar).unwrap()).unwrap();
            if verdict["sha256"] != sha256(&fs::read(&path).unwrap()) {
                wrong.push(format!("{folder}/{name}"));
            }
        }
    }
    wrong
}

/// A loopback port free at the moment of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// An HTTP answer: status and body (JSON when it parses, else a string).
pub fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> (u16, Value) {
    let response = answer(method, url, headers, body);
    let status = response.status();
    let text = response.into_string().unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// The answer to a request, whatever its status, with its headers.
pub fn answer(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> ureq::Response {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
    let mut request = agent.request(method, url);
    for (name, value) in headers {
        request = request.set(name, value);
    }
    let answer = match body {
        Some(bytes) => request.send_bytes(bytes),
        None => request.call(),
    };
    match answer {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("{method} {url}: {error}"),
    }
}

/// POSTs JSON bytes with extra headers.
pub fn post_json(url: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Value) {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    http("POST", url, &all, Some(body))
}
