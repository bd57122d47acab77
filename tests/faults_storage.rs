//! Storage faults through the real daemon: a full disk, an outcome folder
//! that cannot be written, the inbox removed or replaced, and no inotify
//! instance left. Each needs root (mounts, `chattr`, another user); without
//! it the test says why and does nothing.
//!
//! | fault | outcome |
//! |---|---|
//! | the disk fills while plans arrive | the daemon stops (exit 4) with a line naming the write and "No space left on device"; every plan is in the inbox or placed, none recorded twice; once space is back, a restart finishes every plan exactly once |
//! | an outcome folder immutable (`chattr +i`) or on a read-only mount | the same, with the folder named |
//! | an outcome folder removed while running | the daemon stops (exit 4) before writing, naming the folder; a restart creates it again and judges the plan once |
//! | the inbox removed, or replaced by another folder | the daemon stops (exit 4): "the inbox … cannot be listed any more"; never a silent stop |
//! | no inotify instance left for the user | a warning, then plans are found by the periodic re-scan and judged |

use crate::util;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use util::{fail_plan, pass_plan, wait_until, Daemon, Site};

/// Whether the test runs as root; if not, says why the test is skipped.
fn running_as_root(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        println!("{test}: skipped, it needs root (mounts, chattr, another user)");
    }
    root
}

/// Runs a system command; `Err` with its output when it fails.
fn system(program: &str, args: &[&str]) -> Result<(), String> {
    let output = Command::new(program).args(args).output().map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{program} {args:?}: {}", String::from_utf8_lossy(&output.stderr)))
    }
}

/// A mount made by the test, undone (lazily, even if busy) when dropped.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = system("umount", &["-l", self.0.to_str().unwrap()]);
    }
}

/// Mounts a tmpfs of `size` (for example `4m`) at `dir`.
fn mount_tmpfs(dir: &Path, size: &str) -> Mounted {
    fs::create_dir_all(dir).unwrap();
    let options = format!("size={size}");
    system("mount", &["-t", "tmpfs", "-o", &options, "tmpfs", dir.to_str().unwrap()]).unwrap();
    Mounted(dir.to_path_buf())
}

/// Fills the file system holding `dir` with one file; returns it.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = fs::File::create(&path).unwrap();
    let chunk = vec![0xa5u8; 64 * 1024];
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
            Err(e) => panic!("filling {}: {e}", dir.display()),
        }
    }
    // Also the last bytes of a partly filled page.
    while file.write(&[0xa5]).is_ok_and(|n| n == 1) {}
    path
}

/// Plans written as hidden temporaries (while there is space), to be
/// renamed in later: renaming needs no free space.
fn prepare_plans(site: &Site, count: usize) -> Vec<String> {
    let names: Vec<String> = (0..count).map(|i| format!("plan-{i:02}.json")).collect();
    for (i, name) in names.iter().enumerate() {
        let text = if i % 4 == 3 {
            fail_plan(&format!("PLN-F{i}"))
        } else {
            pass_plan(&format!("PLN-F{i}"))
        };
        fs::write(site.inbox().join(format!(".{name}.tmp")), text).unwrap();
    }
    names
}

/// Renames the prepared plans into place.
fn release_plans(site: &Site, names: &[String]) {
    for name in names {
        let inbox = site.inbox();
        fs::rename(inbox.join(format!(".{name}.tmp")), inbox.join(name)).unwrap();
    }
}

/// Nothing lost, nothing half-done: each plan has at most one record, and
/// is either still in the inbox (to be judged, or its placement finished by
/// recovery) or placed where its record says, with its sidecar.
fn assert_nothing_lost_or_half_judged(site: &Site, names: &[String]) {
    let by_name = site.records_by_name();
    for name in names {
        let records = by_name.get(name).map(Vec::as_slice).unwrap_or_default();
        assert!(records.len() <= 1, "{name}: {} records", records.len());
        let in_inbox = site.inbox().join(name).exists();
        let placed = records.first().is_some_and(|record| {
            let at = |key: &str| site.root().join(record["watch"][key].as_str().unwrap());
            at("moved_to").exists() && at("sidecar").exists()
        });
        assert!(in_inbox != placed, "{name}: in the inbox {in_inbox}, placed {placed}");
        if !in_inbox {
            assert_eq!(records.len(), 1, "{name} left the inbox without a record");
        }
    }
}

/// Waits for the daemon's fault: its exit (returned with its log), having
/// logged `expected`.
fn stopped_on(daemon: Daemon, expected: &str) -> String {
    let (status, log) = daemon.wait_exit_keeping_log();
    assert_eq!(status.code(), Some(4), "{log}");
    assert!(log.contains(expected), "no {expected:?} in:\n{log}");
    log
}

#[test]
fn a_full_disk_stops_the_daemon_without_losing_a_plan_and_it_finishes_once_space_is_back() {
    if !running_as_root("disk full") {
        return;
    }
    let mut site = Site::new();
    let _mount = mount_tmpfs(&site.root(), "4m");
    let daemon = site.start(&[]);
    site.judge("before.json", &pass_plan("PLN-BEFORE"));
    let names = prepare_plans(&site, 30);
    let filler = fill(&site.root());
    release_plans(&site, &names);
    let log = stopped_on(daemon, "No space left on device");
    let line = log.lines().find(|l| l.contains("No space left")).unwrap();
    assert!(line.contains("disk full") && line.contains("restart"), "{line}");
    println!("disk full: {line}");
    let mut all = names.clone();
    all.push("before.json".into());
    assert_nothing_lost_or_half_judged(&site, &all);

    // Still full: a restart stops again, and still loses nothing.
    stopped_on(site.spawn(&[], &[]), "No space left on device");
    assert_nothing_lost_or_half_judged(&site, &all);

    fs::remove_file(filler).unwrap();
    let daemon = site.start(&[]);
    wait_until("every plan placed", || site.placed() == all.len());
    assert_eq!(daemon.terminate().code(), Some(0));
    site.assert_each_once(&all);
    site.assert_history_agrees_with_log();
}

/// Undoes a fault when dropped, even when an assertion failed first (an
/// immutable folder would outlive the test).
struct Undo(Option<Box<dyn FnOnce()>>);

impl Drop for Undo {
    fn drop(&mut self) {
        if let Some(undo) = self.0.take() {
            undo();
        }
    }
}

/// Makes `dir` unwritable by `how`; `None` (saying why) if that cannot be
/// done here.
fn make_unwritable(dir: &Path, how: &str) -> Option<Undo> {
    let shown = dir.to_str().unwrap().to_string();
    let done = match how {
        "chattr +i" => system("chattr", &["+i", &shown]).map(|()| {
            Box::new(move || system("chattr", &["-i", &shown]).unwrap()) as Box<dyn FnOnce()>
        }),
        _ => system("mount", &["--bind", &shown, &shown]).and_then(|()| {
            let mounted = Mounted(PathBuf::from(&shown));
            system("mount", &["-o", "remount,ro,bind", &shown])?;
            Ok(Box::new(move || drop(mounted)) as Box<dyn FnOnce()>)
        }),
    };
    done.map(|undo| Undo(Some(undo))).map_err(|e| println!("{how}: skipped, {e}")).ok()
}

#[test]
fn an_unwritable_outcome_folder_stops_the_daemon_without_losing_a_plan() {
    if !running_as_root("unwritable outcome folder") {
        return;
    }
    for how in ["chattr +i", "read-only bind mount"] {
        let mut site = Site::new();
        let daemon = site.start(&[]);
        site.judge("before.json", &pass_plan("PLN-BEFORE"));
        let passed = site.root().join("passed");
        let Some(undo) = make_unwritable(&passed, how) else { continue };
        let names = prepare_plans(&site, 12);
        release_plans(&site, &names);
        let (status, log) = daemon.wait_exit_keeping_log();
        assert_eq!(status.code(), Some(4), "{how}:\n{log}");
        let line = log.lines().find(|l| l.contains("failed:")).unwrap_or_default();
        assert!(line.contains(passed.to_str().unwrap()), "{how}: names the folder: {line}");
        println!("{how}: {line}");
        let mut all = names.clone();
        all.push("before.json".into());
        assert_nothing_lost_or_half_judged(&site, &all);
        // Still unwritable: a restart stops again, and still loses nothing.
        let (status, _) = site.spawn(&[], &[]).wait_exit_keeping_log();
        assert_eq!(status.code(), Some(4), "{how}");
        assert_nothing_lost_or_half_judged(&site, &all);
        drop(undo);

        let daemon = site.start(&[]);
        wait_until("every plan placed", || site.placed() == all.len());
        assert_eq!(daemon.terminate().code(), Some(0), "{how}");
        site.assert_each_once(&all);
        site.assert_history_agrees_with_log();
    }
}

/// Swaps two paths atomically (`renameat2` with `RENAME_EXCHANGE`).
fn exchange(a: &Path, b: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    let (a, b) = (c(a), c(b));
    // SAFETY: two valid C strings that outlive the call.
    let done = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    assert_eq!(done, 0, "{}", std::io::Error::last_os_error());
}

#[test]
fn a_removed_or_replaced_inbox_stops_the_daemon_with_a_critical_error() {
    for replace in [false, true] {
        let mut site = Site::new();
        let daemon = site.start(&["--rescan-interval-secs", "2"]);
        site.judge("before.json", &pass_plan("PLN-BEFORE"));
        let inbox = site.inbox();
        if replace {
            // Swapped in one step, so the daemon cannot see it missing.
            let other = site.root().join("new-inbox");
            fs::create_dir(&other).unwrap();
            exchange(&inbox, &other);
        } else {
            fs::remove_dir(&inbox).unwrap();
        }
        let log = stopped_on(daemon, "cannot be listed any more");
        let expected = if replace { "a different folder" } else { "No such file" };
        assert!(log.contains(expected), "{log}");
        println!("{}", log.lines().find(|l| l.contains(expected)).unwrap_or_default());

        // Restarted, it serves the inbox there now.
        let daemon = site.start(&[]);
        site.judge("after.json", &pass_plan("PLN-AFTER"));
        assert_eq!(daemon.terminate().code(), Some(0));
        site.assert_each_once(&["before.json".into(), "after.json".into()]);
    }
}

#[test]
fn a_removed_outcome_folder_stops_the_daemon_naming_it_and_a_restart_recreates_it() {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    site.judge("before.json", &fail_plan("PLN-BEFORE"));
    let passed = site.root().join("passed");
    fs::remove_dir(&passed).unwrap();
    site.drop_plan("after.json", &pass_plan("PLN-AFTER"));
    let log = stopped_on(daemon, "if it was removed, restart embolint");
    assert!(log.contains(passed.to_str().unwrap()), "{log}");
    assert!(site.inbox().join("after.json").exists());

    let daemon = site.start(&[]);
    wait_until("the plan placed", || passed.join("after.json").exists());
    assert_eq!(daemon.terminate().code(), Some(0));
    site.assert_each_once(&["before.json".into(), "after.json".into()]);
}

/// The user the inotify test runs as, so that using up its inotify
/// instances cannot disturb root's other programs (tests run in parallel).
const NOBODY: u32 = 65534;

/// A process of `NOBODY` holding every inotify instance that user may
/// have (the kernel limit is per user); killed when dropped.
struct InotifyHog(std::process::Child);

impl InotifyHog {
    fn start() -> InotifyHog {
        let mut command = Command::new("sleep");
        command.arg("600").uid(NOBODY).gid(NOBODY).stdin(Stdio::null());
        // SAFETY: only async-signal-safe calls (inotify_init1) between fork
        // and exec; the descriptors are kept across exec.
        unsafe {
            command.pre_exec(|| {
                for _ in 0..1_000_000 {
                    if libc::inotify_init1(0) < 0 {
                        return Ok(());
                    }
                }
                Err(std::io::Error::other("inotify instances never ran out"))
            });
        }
        InotifyHog(command.spawn().unwrap())
    }
}

impl Drop for InotifyHog {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn without_inotify_plans_are_found_by_the_periodic_rescan_with_a_warning() {
    if !running_as_root("inotify exhausted") {
        return;
    }
    let site = Site::new();
    fs::set_permissions(site.dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    site.inbox();
    for dir in [site.root(), site.inbox()] {
        std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    let config = site.dir.path().join("embolint.toml");
    fs::write(&config, "rescan_interval_secs = 1\nsettle_millis = 200\n").unwrap();
    let _hog = InotifyHog::start();

    let stderr_path = site.dir.path().join("daemon-nobody.log");
    let child = Command::new(env!("CARGO_BIN_EXE_embolint"))
        .args(["watch", "--root", site.root().to_str().unwrap()])
        .args(["--config", config.to_str().unwrap(), "--log-format", "json"])
        .env_remove("RUST_LOG")
        .uid(NOBODY)
        .gid(NOBODY)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let mut daemon = Daemon { child, stderr_path };
    daemon.wait_for_log("embolint watch started");
    let warning = daemon.log_lines("cannot watch the inbox for events");
    assert_eq!(warning.len(), 1, "{}", daemon.stderr());
    assert!(warning[0]["fields"]["message"].as_str().unwrap().contains("periodic re-scan"));
    println!("inotify exhausted: {}", warning[0]);

    let names: Vec<String> = (0..5).map(|i| format!("plan-{i}.json")).collect();
    for (i, name) in names.iter().enumerate() {
        site.drop_plan(name, &pass_plan(&format!("PLN-I{i}")));
    }
    wait_until("every plan placed", || site.placed() == names.len());
    assert_eq!(daemon.terminate().code(), Some(0));
    site.assert_each_once(&names);
}
