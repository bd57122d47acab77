//! Hard links and symbolic links made in the inbox while the daemon runs
//! (`ln plan.json inbox/`, `ln -s … inbox/x.json`): neither brings the
//! "closed after writing" event a writer's file does, and both must be
//! handled within the settle time, not after the grace a writer holding
//! its file open is given (60 s). The timeout below is generous (10 s),
//! far below that grace; nothing is timed.

use crate::util::{pass_plan, Site};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

/// Far below the 60 s writer grace, well above the 1 s settle time.
const WITHIN: Duration = Duration::from_secs(10);

/// Waits up to [`WITHIN`] for `condition`; says what it waited for.
fn within_seconds(what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < WITHIN, "{what} not done within {WITHIN:?}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn a_plan_hard_linked_into_the_inbox_after_start_is_judged_within_seconds_and_its_other_name_is_untouched(
) {
    let mut site = Site::new();
    let outside = site.dir.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let original = outside.join("plan.json");
    let text = pass_plan("PLN-LN-AFTER-START");
    fs::write(&original, &text).unwrap();
    let before = fs::metadata(&original).unwrap();
    let daemon = site.start(&[]);
    fs::hard_link(&original, site.inbox().join("linked.json")).unwrap();
    within_seconds("the hard-linked plan placed", || site.placed() == 1);
    assert_eq!(daemon.terminate().code(), Some(0));
    site.assert_each_once(&["linked.json".to_string()]);
    assert_eq!(site.records()[0]["verdict"], "pass");
    assert_eq!(fs::read_to_string(&original).unwrap(), text, "the other name was changed");
    let after = fs::metadata(&original).unwrap();
    assert_eq!((after.ino(), after.nlink()), (before.ino(), 1), "only the inbox name went");
    let placed = fs::metadata(site.root().join("passed/linked.json")).unwrap();
    assert_ne!(placed.ino(), before.ino(), "the placed plan is the file outside the root");
}

#[test]
fn a_symbolic_link_made_in_the_inbox_after_start_goes_to_invalid_within_seconds_unfollowed() {
    let mut site = Site::new();
    let target = site.dir.path().join("target.json");
    let text = pass_plan("PLN-SYMLINK-AFTER-START");
    fs::write(&target, &text).unwrap();
    let daemon = site.start(&[]);
    std::os::unix::fs::symlink(&target, site.inbox().join("x.json")).unwrap();
    within_seconds("the symbolic link placed", || site.placed() == 1);
    assert_eq!(daemon.terminate().code(), Some(0));
    site.assert_each_once(&["x.json".to_string()]);
    let record = &site.records()[0];
    assert_eq!(record["verdict"], "invalid");
    let moved = site.root().join(record["watch"]["moved_to"].as_str().unwrap());
    assert!(moved.starts_with(site.root().join("invalid")), "{}", moved.display());
    assert!(fs::symlink_metadata(&moved).unwrap().file_type().is_symlink(), "moved as a link");
    assert_eq!(fs::read_link(&moved).unwrap(), target);
    assert_eq!(fs::read_to_string(&target).unwrap(), text, "the link's target was changed");
}
