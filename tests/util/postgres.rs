//! Private PostgreSQL 15 servers for the tests: a new cluster in a
//! temporary folder, on a free port and a private socket folder, run as the
//! `postgres` user (the suite runs as root, and PostgreSQL refuses to run
//! as root). No other server is ever touched.
//!
//! - [`Cluster::start`]: a server of one test's own, stopped when dropped;
//!   for the tests that stop and start the server.
//! - [`database`]: an empty database of one test's own on the one server
//!   the tests share that never stop it (started once per test run, and
//!   stopped, its folder removed, by a guard once the test run has ended).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Where Debian's PostgreSQL 15 keeps its programs.
const BIN: &str = "/usr/lib/postgresql/15/bin";

/// A running private cluster.
pub struct Cluster {
    /// Holds the data and the socket; removed at the end.
    dir: tempfile::TempDir,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
}

impl Cluster {
    /// Makes and starts a new cluster (trust authentication, loopback
    /// only).
    pub fn start() -> Cluster {
        let dir = tempfile::Builder::new().prefix("embolint-pg").tempdir().unwrap();
        let cluster = Cluster { dir, port: super::free_port() };
        std::fs::create_dir(cluster.socket_dir()).unwrap();
        let owned = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(cluster.dir.path())
            .status()
            .unwrap();
        assert!(owned.success(), "chown of the cluster's folder failed");
        let data = cluster.data_dir();
        let out = run_as_postgres(&[
            &format!("{BIN}/initdb"),
            "-D",
            data.to_str().unwrap(),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ]);
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        cluster.resume();
        cluster
    }

    /// The URL of its `postgres` database, with a password that trust
    /// authentication ignores (so that it is there to be hidden).
    pub fn url(&self) -> String {
        self.url_of("postgres")
    }

    /// The URL of its database `name` (with the password to hide).
    fn url_of(&self, name: &str) -> String {
        format!("postgres://postgres:not-shown@127.0.0.1:{}/{name}", self.port)
    }

    /// A client of its own, for the tests' look at the rows.
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url(), postgres::NoTls).unwrap()
    }

    /// Stops it at once, as a crash would (`pg_ctl stop -m immediate`).
    pub fn stop(&self) {
        let data = self.data_dir();
        let out = run_as_postgres(&[
            &format!("{BIN}/pg_ctl"),
            "-D",
            data.to_str().unwrap(),
            "-m",
            "immediate",
            "-w",
            "stop",
        ]);
        assert!(out.status.success(), "pg_ctl stop: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Starts it (again), waiting until it accepts connections.
    pub fn resume(&self) {
        let data = self.data_dir();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40",
            self.port,
            self.socket_dir().display()
        );
        let log = self.dir.path().join("server.log");
        let out = run_as_postgres(&[
            &format!("{BIN}/pg_ctl"),
            "-D",
            data.to_str().unwrap(),
            "-o",
            &options,
            "-l",
            log.to_str().unwrap(),
            "-w",
            "start",
        ]);
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn socket_dir(&self) -> PathBuf {
        self.dir.path().join("socket")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data_dir();
        let _ = run_as_postgres(&[
            &format!("{BIN}/pg_ctl"),
            "-D",
            data.to_str().unwrap(),
            "-m",
            "immediate",
            "stop",
        ]);
    }
}

/// An empty database of one test's own, on the server the tests share.
pub struct Database {
    /// Its URL (with a password to hide).
    url: String,
}

impl Database {
    /// Its URL.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// A client of its own, for the tests' look at the rows.
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).unwrap()
    }
}

/// A new, empty database on the server shared by the tests that never stop
/// it (the server is started by the first of them).
pub fn database() -> Database {
    static SHARED: OnceLock<Cluster> = OnceLock::new();
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let cluster = SHARED.get_or_init(|| {
        let cluster = Cluster::start();
        cluster.stop_when_this_process_ends();
        cluster
    });
    let name = format!("test{}", NEXT.fetch_add(1, Ordering::SeqCst));
    cluster.client().batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    Database { url: cluster.url_of(&name) }
}

impl Cluster {
    /// A static is never dropped: a guard (a shell run as `postgres`, cut
    /// off from the test's output) waits for this process to end, then
    /// stops the server and removes its folder.
    fn stop_when_this_process_ends(&self) {
        let script = format!(
            "while [ -d /proc/{pid} ]; do sleep 1; done; \
             {BIN}/pg_ctl -D '{data}' -m immediate stop >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            data = self.data_dir().display(),
            dir = self.dir.path().display(),
        );
        // Started in the background by a shell that returns at once.
        let background = "setsid sh -c \"$1\" </dev/null >/dev/null 2>&1 &";
        let started = Command::new("runuser")
            .args(["-u", "postgres", "--", "sh", "-c", background, "guard", &script])
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(started.success(), "the guard of the shared server did not start");
    }
}

/// Runs a program as the `postgres` user.
fn run_as_postgres(args: &[&str]) -> std::process::Output {
    Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .args(args)
        .current_dir("/")
        .output()
        .unwrap()
}
