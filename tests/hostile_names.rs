//! No escape: embolint never writes outside its root, never follows a link,
//! and builds outcome and sidecar names so that no plan name can reach
//! another folder. After each run the temporary folder around the root is
//! walked to show nothing was written there.
//!
//! | name or folder | outcome |
//! |---|---|
//! | line break, escape sequence, tab, DEL in the name | `invalid/` ("control character"), placed as `_` in their stead |
//! | a name that is not UTF-8 | `invalid/` ("not valid UTF-8"), the exact bytes in `watch.inbox_name_hex` |
//! | a 255-byte name | `invalid/` ("255 bytes long"), placed under a shortened name |
//! | a 236-byte name (the longest that fits a sidecar and a counter) | judged as usual |
//! | `..json`, `...json` | not plans yet (they start with `.`): left in the inbox, silently |
//! | `∕ ⁄ ／ \` in the name | ordinary characters: judged, placed under the same name in the outcome folder |
//! | `p.json` and `p.json.verdict.json` in one batch | both judged, neither placed on the other's sidecar |
//! | `passed/`, `invalid/`, `log/` or `state/` a symbolic link at start-up | refused: exit 3, naming the link; nothing written through it |
//! | `passed/` swapped for a symbolic link while running | the daemon stops (exit 4) before writing the batch; the plan stays in the inbox, unrecorded, and is judged once after the folder is restored |

use crate::util;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use util::{pass_plan, tree_snapshot, wait_until, Site};

/// Everything in the site's folder outside the root (the daemon's own
/// stderr files, written by the test, left out).
fn outside_root(site: &Site) -> BTreeMap<PathBuf, String> {
    let mut found = tree_snapshot(site.dir.path(), &[site.root()]);
    found.retain(|path, _| {
        !path.file_name().unwrap().to_string_lossy().starts_with("daemon-")
            || path.parent() != Some(site.dir.path())
    });
    found
}

/// A folder beside the root with files a wrong name could reach.
fn decoys(site: &Site) -> PathBuf {
    let outside = site.dir.path().join("outside");
    for dir in ["passed", "invalid", "etc"] {
        fs::create_dir_all(outside.join(dir)).unwrap();
    }
    fs::write(outside.join("x.json"), "decoy").unwrap();
    fs::write(outside.join("passed/p.json"), "decoy").unwrap();
    outside
}

/// Asserts that every outcome folder holds only files and links (no
/// folder was made from a name).
fn assert_outcome_folders_are_flat(site: &Site) {
    for folder in ["passed", "failed", "invalid"] {
        for entry in fs::read_dir(site.root().join(folder)).unwrap() {
            let entry = entry.unwrap();
            assert!(!entry.file_type().unwrap().is_dir(), "a folder in {folder}: {entry:?}");
        }
    }
}

#[test]
fn odd_names_are_judged_or_left_as_stated_and_nothing_reaches_another_folder() {
    let mut site = Site::new();
    decoys(&site);
    let before = outside_root(&site);
    let inbox = site.inbox();
    let controls = ["two\nlines.json", "esc\u{1b}[31mred.json", "tab\there.json", "del\u{7f}.json"];
    for (i, name) in controls.iter().enumerate() {
        site.write(name, &pass_plan(&format!("PLN-CTRL-{i}")));
    }
    fs::write(inbox.join(OsStr::from_bytes(b"caf\xe9.json")), pass_plan("PLN-LATIN1")).unwrap();
    let long = format!("{}.json", "é".repeat(125));
    assert_eq!(long.len(), 255);
    site.write(&long, &pass_plan("PLN-LONG"));
    let longest_fine = format!("{}.json", "a".repeat(231));
    assert_eq!(longest_fine.len(), 236);
    site.write(&longest_fine, &pass_plan("PLN-FINE"));
    for hidden in ["..json", "...json"] {
        site.write(hidden, &pass_plan("PLN-HIDDEN"));
    }
    let lookalikes = ["a\u{2215}b.json", "a\u{2044}b.json", "a\u{ff0f}b.json", "a\\b.json"];
    let escapes = ["up..\u{2215}..\u{2215}outside\u{2215}x.json", "\\..\\..\\x.json"];
    for (i, name) in lookalikes.iter().chain(&escapes).enumerate() {
        site.write(name, &pass_plan(&format!("PLN-LOOK-{i}")));
    }
    site.write("p.json", &pass_plan("PLN-P"));
    site.write("p.json.verdict.json", &pass_plan("PLN-P-SIDECAR-NAME"));

    let daemon = site.start(&[]);
    let judged = controls.len() + 3 + lookalikes.len() + escapes.len() + 2;
    site.wait_for_records(judged);
    wait_until("every plan placed", || site.every_record_placed());
    let by_name = site.records_by_name();
    let reason = |name: &str| {
        let record = &by_name[name][0];
        assert_eq!(record["verdict"], "invalid", "{name}");
        record["findings"][0]["message"].as_str().unwrap().to_string()
    };
    for name in controls {
        assert!(reason(name).contains("control character"), "{name}");
        let moved_to = by_name[name][0]["watch"]["moved_to"].as_str().unwrap();
        assert!(moved_to.bytes().all(|b| b >= 0x20 && b != 0x7f), "{moved_to:?}");
    }
    assert!(reason("caf\u{fffd}.json").contains("not valid UTF-8"));
    assert_eq!(by_name["caf\u{fffd}.json"][0]["watch"]["inbox_name_hex"], "636166e92e6a736f6e");
    assert!(reason(&long).contains("255 bytes long"));
    assert_eq!(by_name[&longest_fine][0]["verdict"], "pass");
    assert!(site.root().join("passed").join(&longest_fine).exists());
    for name in lookalikes.iter().chain(&escapes) {
        assert_eq!(by_name[*name][0]["verdict"], "pass", "{name}");
        assert_eq!(by_name[*name][0]["watch"]["moved_to"], format!("passed/{name}"));
        assert!(site.root().join("passed").join(name).is_file(), "{name}");
    }
    // A plan named like a sidecar and the plan it seems to belong to: both
    // placed, each with its own sidecar.
    let p = &by_name["p.json"][0]["watch"];
    let q = &by_name["p.json.verdict.json"][0]["watch"];
    assert_eq!(p["moved_to"], "passed/p.json");
    assert_ne!(q["moved_to"], p["sidecar"], "a plan placed on another plan's sidecar");
    for record in [p, q] {
        let sidecar = site.root().join(record["sidecar"].as_str().unwrap());
        let verdict: serde_json::Value =
            serde_json::from_slice(&fs::read(sidecar).unwrap()).unwrap();
        assert_eq!(verdict["verdict"], "pass");
    }
    // Hidden names are not plans yet: left alone, without a record.
    for hidden in ["..json", "...json"] {
        assert!(inbox.join(hidden).is_file() && !by_name.contains_key(hidden), "{hidden}");
    }
    assert!(util::placed_files_not_matching_their_verdict(&site.root()).is_empty());
    assert_outcome_folders_are_flat(&site);
    assert_eq!(daemon.terminate().code(), Some(0));
    assert_eq!(outside_root(&site), before, "something was written outside the root");
}

/// Replaces `dir` (an empty folder, or missing) by a link to `target`.
fn link_folder(dir: &Path, target: &Path) {
    let _ = fs::remove_dir(dir);
    std::os::unix::fs::symlink(target, dir).unwrap();
}

#[test]
fn a_folder_of_the_root_that_is_a_link_at_start_up_is_refused() {
    for folder in ["passed", "invalid", "log", "state"] {
        let mut site = Site::new();
        let outside = decoys(&site);
        site.drop_plan("plan.json", &pass_plan("PLN-1"));
        link_folder(&site.root().join(folder), &outside.join("passed"));
        let before = outside_root(&site);
        let (status, log) = site.spawn(&[], &[]).wait_exit_keeping_log();
        assert_eq!(status.code(), Some(3), "{folder}: {log}");
        assert!(log.contains("symbolic link") && log.contains("make it a real folder"), "{log}");
        assert!(site.inbox().join("plan.json").exists(), "{folder}: the plan left the inbox");
        assert_eq!(outside_root(&site), before, "{folder}: written through the link");
    }
}

#[test]
fn an_outcome_folder_swapped_for_a_link_while_running_stops_the_daemon_before_it_writes() {
    let mut site = Site::new();
    let outside = decoys(&site);
    let daemon = site.start(&[]);
    site.judge("first.json", &pass_plan("PLN-FIRST"));
    let passed = site.root().join("passed");
    fs::rename(&passed, site.dir.path().join("passed-aside")).unwrap();
    link_folder(&passed, &outside.join("passed"));
    let before = outside_root(&site);
    site.drop_plan("second.json", &pass_plan("PLN-SECOND"));
    let (status, log) = daemon.wait_exit_keeping_log();
    assert_eq!(status.code(), Some(4), "{log}");
    assert!(log.contains("symbolic link"), "{log}");
    assert_eq!(outside_root(&site), before, "written through the link");
    assert_eq!(site.records().len(), 1, "the second plan was recorded");
    assert!(site.inbox().join("second.json").exists());

    // Restored, the plan is judged once.
    fs::remove_file(&passed).unwrap();
    fs::rename(site.dir.path().join("passed-aside"), &passed).unwrap();
    let daemon = site.start(&[]);
    wait_until("the second plan placed", || passed.join("second.json").exists());
    assert_eq!(daemon.terminate().code(), Some(0));
    site.assert_each_once(&["first.json".into(), "second.json".into()]);
}
