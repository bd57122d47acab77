//! Operating the daemon: SIGTERM mid-burst, a second daemon on the same
//! root, the start-up line.

use crate::util;

use util::{pass_plan, Site};

#[test]
fn sigterm_mid_burst_exits_0_loses_nothing_and_the_next_start_finishes_the_rest() {
    let mut site = Site::new();
    let names: Vec<String> = (0..600).map(|i| format!("term-{i:03}.json")).collect();
    for (i, name) in names.iter().enumerate() {
        site.write(name, &pass_plan(&format!("PLN-T-{i}")));
    }
    let daemon = site.start(&["--batch-size", "4"]);
    site.wait_for_records(50);
    let status = daemon.terminate();
    assert_eq!(status.code(), Some(0));
    // Every record written so far belongs to a plan already placed.
    let recorded = site.records().len();
    assert_eq!(site.placed(), recorded, "a recorded plan was not placed before exit");
    assert!(recorded < names.len(), "the burst ended before SIGTERM; nothing was shown");

    let daemon = site.start(&[]);
    site.wait_for_records(names.len());
    assert_eq!(daemon.terminate().code(), Some(0));
    site.assert_each_once(&names);
}

#[test]
fn sigint_also_stops_cleanly() {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    daemon.signal(libc::SIGINT);
    assert_eq!(daemon.wait_exit().code(), Some(0));
}

#[test]
fn a_second_daemon_on_the_same_root_refuses_to_start() {
    let mut site = Site::new();
    let first = site.start(&[]);
    let second = site.spawn(&[], &[]);
    let status = second.wait_exit_keeping_log();
    assert_eq!(status.0.code(), Some(3));
    assert!(status.1.contains("another `embolint watch` is already serving"), "{}", status.1);
    // The first one is unharmed and still judging.
    site.drop_plan("after.json", &pass_plan("PLN-AFTER"));
    site.wait_for_records(1);
    assert_eq!(first.terminate().code(), Some(0));
}

#[test]
fn the_start_up_line_names_root_rule_set_and_config() {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    let line = &daemon.log_lines("embolint watch started")[0]["fields"];
    assert_eq!(line["rule_set"], "chiras-bone-chemoembolization");
    assert_eq!(line["config"], "built-in defaults");
    assert_eq!(line["root"], site.root().canonicalize().unwrap().display().to_string());
    assert_eq!(line["max_plan_bytes"], 1048576);
    assert!(line["rule_set_sha256"].as_str().unwrap().len() == 64);
    assert_eq!(daemon.terminate().code(), Some(0));
}

#[test]
fn each_verdict_has_one_log_line_with_file_plan_verdict_counts_and_time() {
    let mut site = Site::new();
    let mut daemon = site.start(&[]);
    site.drop_plan("one.json", &pass_plan("PLN-LOGGED"));
    daemon.wait_for_log("plan judged");
    let lines = daemon.log_lines("plan judged");
    assert_eq!(lines.len(), 1);
    let fields = &lines[0]["fields"];
    assert_eq!(fields["file"], "one.json");
    assert_eq!(fields["plan_id"], "PLN-LOGGED");
    assert_eq!(fields["verdict"], "pass");
    assert_eq!(fields["errors"], 0);
    assert_eq!(fields["infos"], 1);
    assert!(fields["elapsed_ms"].is_number());
    assert_eq!(daemon.terminate().code(), Some(0));
}

/// Under systemd (`Type=notify`, `WatchdogSec=`): "ready" once the inbox is
/// served, watchdog pings from the main loop while it turns, "stopping"
/// on SIGTERM. Here the test plays systemd's notification socket; systemd
/// names the watched process by pid, so the daemon is exec'd by a shell
/// that sets WATCHDOG_PID to its own pid first.
#[test]
fn systemd_is_told_ready_then_pinged_then_told_stopping() {
    use std::os::unix::net::UnixDatagram;
    let site = Site::new();
    std::fs::create_dir_all(site.root()).unwrap();
    let socket_path = site.dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    let mut daemon = std::process::Command::new("sh")
        .args(["-c", "WATCHDOG_PID=$$ exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_embolint"))
        .args(["watch", "--root", site.root().to_str().unwrap(), "--settle-millis", "100"])
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "200000")
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut heard: Vec<String> = Vec::new();
    let mut buffer = [0u8; 4096];
    while heard.iter().filter(|m| m.contains("WATCHDOG=1")).count() < 3 {
        let size = socket.recv(&mut buffer).expect("systemd was not told enough in time");
        heard.push(String::from_utf8_lossy(&buffer[..size]).into_owned());
    }
    let ready = heard.iter().position(|m| m.contains("READY=1")).expect("never ready");
    assert!(heard[ready].contains("STATUS=serving"), "{heard:?}");
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    loop {
        let size = socket.recv(&mut buffer).expect("no STOPPING=1 before exit");
        if String::from_utf8_lossy(&buffer[..size]).contains("STOPPING=1") {
            break;
        }
    }
    assert_eq!(daemon.wait().unwrap().code(), Some(0));
}

/// Under systemd, standard error is the journal (`JOURNAL_STREAM` names
/// it): each line carries its syslog priority, so `journalctl -p err`
/// finds errors and `-p warning` warnings. Elsewhere lines stay plain.
#[test]
fn log_lines_carry_their_priority_when_standard_error_is_the_journal() {
    use std::os::unix::fs::MetadataExt;
    let site = Site::new();
    std::fs::create_dir_all(site.root()).unwrap();
    let run = |journal: bool| {
        let path = site.dir.path().join(format!("stderr-{journal}.log"));
        let file = std::fs::File::create(&path).unwrap();
        let meta = file.metadata().unwrap();
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_embolint"));
        command
            .args(["watch", "--root", site.root().to_str().unwrap(), "--log-format", "text"])
            .env_remove("RUST_LOG")
            .env_remove("JOURNAL_STREAM")
            .stderr(file);
        if journal {
            command.env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()));
        }
        let mut daemon = command.spawn().unwrap();
        let started = std::time::Instant::now();
        while !std::fs::read_to_string(&path).unwrap().contains("embolint watch started") {
            assert!(started.elapsed().as_secs() < 20, "no start-up line");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
        assert_eq!(daemon.wait().unwrap().code(), Some(0));
        std::fs::read_to_string(&path).unwrap()
    };
    let journal = run(true);
    let started = journal.lines().find(|l| l.contains("embolint watch started")).unwrap();
    assert!(started.starts_with("<6>"), "{journal}");
    let warned = journal.lines().find(|l| l.contains(" WARN ")).expect("the first-key warning");
    assert!(warned.starts_with("<4>"), "{journal}");
    let plain = run(false);
    assert!(plain.lines().all(|l| !l.starts_with('<')), "{plain}");
}
