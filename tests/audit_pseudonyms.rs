//! Operational logs (stderr) name patients by pseudonym unless the config
//! says "clear"; the decision log always keeps the patient id. The key is
//! made once, private, and kept across restarts; `embolint pseudonym`
//! finds a patient's pseudonym; a configured key gives HMAC-SHA256 of the
//! id under it, and is never logged.

use crate::util;

use hmac::{Hmac, Mac};
use serde_json::Value;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use util::{plan_on, wait_until, Site};

/// A configured key (40 characters).
const KEY: &str = "test-key-0123456789-0123456789-0123456789";

/// `pt-` and the first 16 hex digits of HMAC-SHA256(key, id), worked out
/// here independently of embolint.
fn expected_pseudonym(key: &str, id: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(id.as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("pt-{}", &hex[..16])
}

/// Writes a config file beside the root; returns its path.
fn config(site: &Site, text: &str) -> PathBuf {
    let path = site.dir.path().join("embolint.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The `fields` of the "plan judged" lines, in order.
fn judged_lines(daemon: &util::Daemon) -> Vec<Value> {
    daemon.log_lines("plan judged").into_iter().map(|l| l["fields"].clone()).collect()
}

/// `embolint pseudonym ARGS`: its standard output, which must succeed.
fn pseudonym_of(site: &Site, args: &[&str]) -> String {
    let output = site.run(&[&["pseudonym"], args].concat());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

#[test]
fn by_default_log_lines_name_the_patient_by_a_stable_pseudonym_and_the_decision_log_by_id() {
    let mut site = Site::new();
    let root = site.root();
    let root = root.to_str().unwrap();
    let mut daemon = site.start(&[]);
    let record = site.judge("first.json", &plan_on("PLN-1", "PAT-4471", "2026-11-05"));
    assert_eq!(record["patient_id"], "PAT-4471", "the decision log keeps the id");
    daemon.wait_for_log("plan judged");
    let line = &judged_lines(&daemon)[0];
    let pseudonym = line["patient"].as_str().unwrap().to_string();
    assert!(pseudonym.starts_with("pt-") && pseudonym.len() == 19, "{line}");
    assert_eq!(line["plan_id"], "PLN-1", "plan ids are not patient data");

    // The key was made once, private to its owner.
    let key_file = site.root().join("state/pseudonym.key");
    assert_eq!(std::fs::metadata(&key_file).unwrap().mode() & 0o777, 0o600);
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(pseudonym, expected_pseudonym(key.trim(), "PAT-4471"));
    assert_eq!(pseudonym_of(&site, &["--root", root, "PAT-4471"]), pseudonym);

    // A withdrawal's log line names the patient the same way.
    let forget = [
        "history",
        "--forget",
        "PLN-1",
        "--by",
        "Dr. Audit",
        "--reason",
        "cancelled",
        "--root",
        root,
    ];
    assert!(site.run(&forget).status.success());
    daemon.wait_for_log("plan withdrawn");
    let withdrawn = &daemon.log_lines("plan withdrawn")[0]["fields"];
    assert_eq!(withdrawn["patient"], pseudonym.as_str(), "{withdrawn}");
    assert!(daemon.terminate().success());

    // After a restart: the same key, the same pseudonym, also where the id
    // is part of the file name.
    let mut daemon = site.start(&[]);
    site.judge("PAT-4471-spine.json", &plan_on("PLN-2", "PAT-4471", "2027-01-05"));
    daemon.wait_for_log("plan judged");
    let line = &judged_lines(&daemon)[0];
    assert_eq!(line["patient"], pseudonym.as_str());
    assert_eq!(line["file"], format!("{pseudonym}-spine.json"));
    assert!(daemon.terminate().success());
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key, "the key is kept");

    let logs: String = (1..=2)
        .map(|n| std::fs::read_to_string(site.dir.path().join(format!("daemon-{n}.log"))).unwrap())
        .collect();
    assert!(!logs.contains("PAT-4471"), "a patient id in the operational logs:\n{logs}");
    let records = site.records();
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r["patient_id"] == "PAT-4471"), "{records:?}");
    assert_eq!(site.events()[0]["patient_id"], "PAT-4471");
}

#[test]
fn in_clear_log_lines_name_the_patient_id_and_no_key_is_made() {
    let mut site = Site::new();
    let config = config(&site, "patient_ids_in_logs = \"clear\"\n");
    let mut daemon = site.start(&["--config", config.to_str().unwrap()]);
    site.judge("a.json", &plan_on("PLN-1", "PAT-4471", "2026-11-05"));
    daemon.wait_for_log("plan judged");
    assert_eq!(judged_lines(&daemon)[0]["patient"], "PAT-4471");
    let start = &daemon.log_lines("embolint watch started")[0]["fields"];
    assert_eq!(start["patient_ids_in_logs"], "clear");
    assert!(daemon.terminate().success());
    assert!(!site.root().join("state/pseudonym.key").exists());
}

#[test]
fn a_configured_key_gives_the_keyed_hash_is_never_logged_and_a_reload_switches_to_clear() {
    let mut site = Site::new();
    let config = config(&site, &format!("pseudonym_key = \"{KEY}\"\n"));
    let config_arg = config.to_str().unwrap().to_string();
    let mut daemon = site.start(&["--config", &config_arg]);
    site.judge("a.json", &plan_on("PLN-1", "PAT-4471", "2026-11-05"));
    daemon.wait_for_log("plan judged");
    let expected = expected_pseudonym(KEY, "PAT-4471");
    assert_eq!(judged_lines(&daemon)[0]["patient"], expected.as_str());
    assert!(!site.root().join("state/pseudonym.key").exists(), "the configured key is used");
    let root = site.root();
    let args = ["--config", &config_arg, "--root", root.to_str().unwrap(), "PAT-4471"];
    assert_eq!(pseudonym_of(&site, &args), expected);

    // A reload logs the new settings, never the key; "clear" takes effect.
    let reloaded = format!("pseudonym_key = \"{KEY}\"\npatient_ids_in_logs = \"clear\"\n");
    std::fs::write(&config, reloaded).unwrap();
    daemon.wait_for_log("config file reloaded");
    site.judge("b.json", &plan_on("PLN-2", "PAT-9001", "2026-11-05"));
    wait_until("the second verdict line", || judged_lines(&daemon).len() == 2);
    assert_eq!(judged_lines(&daemon)[1]["patient"], "PAT-9001");
    assert!(daemon.terminate().success());
    let log = std::fs::read_to_string(site.dir.path().join("daemon-1.log")).unwrap();
    assert!(!log.contains(KEY), "the key was logged:\n{log}");
    assert!(!log.contains("PAT-4471"), "logged in clear before the switch:\n{log}");
}

#[test]
fn without_a_key_yet_the_pseudonym_command_says_so() {
    let site = Site::new();
    let root = site.root();
    std::fs::create_dir_all(root.join("state")).unwrap();
    let output = site.run(&["pseudonym", "--root", root.to_str().unwrap(), "PAT-1"]);
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no pseudonym key"), "{stderr}");
}
