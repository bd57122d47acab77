//! A private PostgreSQL 15 server for one test: a new cluster in a
//! temporary folder, on a free port and a private socket folder, run as the
//! `postgres` user (the suite runs as root, and PostgreSQL refuses to run
//! as root). It is stopped when dropped. No other server is ever touched.

use std::path::PathBuf;
use std::process::Command;

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
        format!("postgres://postgres:not-shown@127.0.0.1:{}/postgres", self.port)
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

/// Runs a program as the `postgres` user.
fn run_as_postgres(args: &[&str]) -> std::process::Output {
    Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .args(args)
        .current_dir("/")
        .output()
        .unwrap()
}
