//! The root a daemon serves must be the one meant: a missing root is never
//! created silently (a typo or an unmounted share would be served as an
//! empty inbox while plans wait elsewhere), only on `--init`, and never its
//! parents.

use crate::util::{pass_plan, Site};

#[test]
fn a_missing_root_is_refused_with_exit_3_and_nothing_is_created() {
    let site = Site::new();
    let root = site.dir.path().join("srv/plans/nonexist/deeper");
    let output = site.run(&["watch", "--root", root.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("does not exist") && stderr.contains("--init"), "{stderr}");
    assert!(stderr.contains("nonexist/deeper"), "the message names the path: {stderr}");
    assert!(!site.dir.path().join("srv").exists(), "nothing was created");
}

#[test]
fn init_creates_the_root_but_never_its_parents() {
    let site = Site::new();
    let orphan = site.dir.path().join("missing-parent/root");
    let output = site.run(&["watch", "--root", orphan.to_str().unwrap(), "--init"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("parent folder"), "{stderr}");
    assert!(!site.dir.path().join("missing-parent").exists());
}

#[test]
fn init_creates_a_new_root_and_an_existing_root_needs_no_init() {
    let mut site = Site::new();
    assert!(!site.root().exists());
    let daemon = site.start(&[]); // the helper passes --init
    assert!(site.root().join("inbox").is_dir() && site.root().join("passed").is_dir());
    site.judge("a.json", &pass_plan("PLN-A"));
    assert_eq!(daemon.terminate().code(), Some(0));
    // Started again on the root that now exists, without --init.
    let mut again = std::process::Command::new(env!("CARGO_BIN_EXE_embolint"))
        .args(["watch", "--root", site.root().to_str().unwrap(), "--settle-millis", "100"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    site.drop_plan("b.json", &pass_plan("PLN-B"));
    site.wait_for_records(2);
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(again.id() as i32, libc::SIGTERM) };
    assert_eq!(again.wait().unwrap().code(), Some(0));
}
