//! Bad input never stops the daemon: malformed, oversized, non-UTF-8-named,
//! symlinked and oddly named files end in `invalid/` with the reason in
//! their sidecar and record; FIFOs, sockets and folders are never opened
//! and are reported once, not in a loop; good plans dropped afterwards are
//! still judged.

use crate::util;

use serde_json::Value;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use util::{is_fifo, pass_plan, wait_until, Site};

/// The reason given in the sidecar of the plan recorded under `name`.
fn reason(site: &Site, name: &str) -> String {
    let by_name = site.records_by_name();
    let record = &by_name[name][0];
    assert_eq!(record["verdict"], "invalid", "{name}: {record}");
    let sidecar = site.root().join(record["watch"]["sidecar"].as_str().unwrap());
    let sidecar: Value = serde_json::from_slice(&std::fs::read(sidecar).unwrap()).unwrap();
    assert_eq!(sidecar["findings"], record["findings"]);
    sidecar["findings"][0]["message"].as_str().unwrap().to_string()
}

#[test]
fn every_class_of_bad_file_ends_in_invalid_or_is_reported_once_and_the_daemon_goes_on() {
    let mut site = Site::new();
    let inbox = site.inbox();
    site.write("malformed.json", "{ \"format\": ");
    site.write("empty.json", "");
    std::fs::write(inbox.join("oversized.json"), vec![b' '; 1024 * 1024 + 1]).unwrap();
    std::fs::write(inbox.join(OsStr::from_bytes(b"bad-\xff.json")), pass_plan("PLN-NAME")).unwrap();
    site.write("two\nlines.json", &pass_plan("PLN-NEWLINE"));
    let long_name = format!("{}.json", "a".repeat(250));
    site.write(&long_name, &pass_plan("PLN-LONG"));
    let outside = site.dir.path().join("outside.json");
    std::fs::write(&outside, pass_plan("PLN-OUTSIDE")).unwrap();
    std::os::unix::fs::symlink(&outside, inbox.join("link.json")).unwrap();
    let fifo = std::ffi::CString::new(inbox.join("fifo.json").as_os_str().as_bytes()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let _socket = std::os::unix::net::UnixListener::bind(inbox.join("socket.json")).unwrap();
    std::fs::create_dir(inbox.join("folder.json")).unwrap();

    let mut daemon = site.start(&["--rescan-interval-secs", "1", "--log-level", "debug"]);
    site.wait_for_records(7);
    site.drop_plan("good-after.json", &pass_plan("PLN-GOOD"));
    site.wait_for_records(8);
    // Let several periodic re-scans pass: still one report each.
    let listings = daemon.log_lines("inbox listed").len();
    wait_until("three more inbox listings", || {
        daemon.log_lines("inbox listed").len() >= listings + 3
    });
    daemon.wait_for_log("not judged");

    let lossy = "bad-\u{fffd}.json".to_string();
    let judged = ["malformed.json", "empty.json", "oversized.json", "two\nlines.json", "link.json"];
    let mut names: Vec<String> = judged.iter().map(|n| n.to_string()).collect();
    names.extend([lossy.clone(), long_name.clone(), "good-after.json".into()]);
    site.assert_each_once(&names);
    assert_eq!(site.names_in("passed"), ["good-after.json"]);

    assert!(reason(&site, "oversized.json").contains("1048577 bytes"));
    assert!(reason(&site, "link.json").contains("symbolic link"));
    assert!(reason(&site, "two\nlines.json").contains("control character"));
    assert!(reason(&site, &long_name).contains("255 bytes long"));
    assert!(reason(&site, &lossy).contains("not valid UTF-8"));
    reason(&site, "malformed.json");
    reason(&site, "empty.json");
    let by_name = site.records_by_name();
    assert_eq!(by_name[&lossy][0]["watch"]["inbox_name_hex"], "6261642dff2e6a736f6e");
    assert_eq!(by_name["two\nlines.json"][0]["watch"]["moved_to"], "invalid/two_lines.json");

    // The link was moved as a link, never followed; its target is untouched.
    let moved_link =
        site.root().join(by_name["link.json"][0]["watch"]["moved_to"].as_str().unwrap());
    assert!(std::fs::symlink_metadata(&moved_link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_link(&moved_link).unwrap(), outside);
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), pass_plan("PLN-OUTSIDE"));

    // FIFO, socket and folder stay where they are, each reported once.
    assert!(is_fifo(&inbox.join("fifo.json")));
    assert!(inbox.join("socket.json").exists() && Path::new(&inbox.join("folder.json")).is_dir());
    let reports = daemon.log_lines("not judged");
    for (name, what) in
        [("fifo.json", "FIFO"), ("socket.json", "socket"), ("folder.json", "folder")]
    {
        let about: Vec<_> = reports.iter().filter(|l| l["fields"]["file"] == name).collect();
        assert_eq!(about.len(), 1, "{name} reported {} times", about.len());
        assert!(about[0]["fields"]["message"].as_str().unwrap().contains(what));
    }
    assert_eq!(daemon.terminate().code(), Some(0));
}
