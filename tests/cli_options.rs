//! Options every command shares, and what `--help` says of them: the same
//! flag means the same thing everywhere.

use crate::check_support::{embolint, run};
use crate::util::{pass_plan, Site};

/// `verify-log` took its root only as an argument, unlike every other
/// command; `--root DIR` now works too, and gives the same report.
#[test]
fn verify_log_takes_root_as_an_option_like_every_other_command() {
    let mut site = Site::new();
    let daemon = site.start(&[]);
    site.judge("a.json", &pass_plan("PLN-A"));
    assert!(daemon.terminate().success());
    let root = site.root();
    let root = root.to_str().unwrap();
    let by_option = run(["verify-log", "--root", root, "--format", "json"], None);
    let by_argument = run(["verify-log", root, "--format", "json"], None);
    assert_eq!(by_option.code, Some(0), "{}", by_option.stderr);
    assert_eq!(by_option.stdout, by_argument.stdout);
    assert!(by_option.stdout.contains("\"intact\": true"), "{}", by_option.stdout);
    let both = run(["verify-log", root, "--root", root], None);
    assert_eq!(both.code, Some(3), "two roots at once are a usage error: {}", both.stderr);
}

/// Every command's `--format` said "JSON Lines, one object per plan, when
/// checking several", copied from `check`.
#[test]
fn each_command_says_what_its_own_json_holds() {
    for (command, says) in [
        ("check", "one verdict object per plan"),
        ("rules", "the whole rule set as one object"),
        ("history", "the sessions as a JSON array"),
        ("verify-log", "one report object"),
    ] {
        let output = embolint().args([command, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&output.stdout).replace(char::is_whitespace, " ");
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(help.contains(says), "{command} --help lacks {says:?}:\n{help}");
        if command != "check" {
            assert!(!help.contains("per plan"), "{command} --help speaks of plans:\n{help}");
        }
    }
}
