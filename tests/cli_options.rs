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
        ("replay", "JSON for software (one object)"),
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

/// A plan that passes with a warning exits 0 unless asked otherwise.
#[test]
fn fail_on_warn_turns_a_pass_with_warnings_into_exit_1_and_leaves_the_verdict_pass() {
    let plan = crate::check_support::repo("examples/plans/warn-eligibility.json");
    let plan = plan.to_str().unwrap();
    let plain = run(["check", "--format", "json", plan], None);
    assert_eq!(plain.code, Some(0), "{}", plain.stdout);
    assert!(plain.verdict()["counts"]["warnings"].as_u64().unwrap() > 0);
    let strict = run(["check", "--format", "json", "--fail-on-warn", plan], None);
    assert_eq!(strict.code, Some(1));
    assert_eq!(strict.verdict()["verdict"], "pass");
    let clean = crate::check_support::repo("examples/plans/info-course-length.json");
    let clean = run(["check", "--fail-on-warn", clean.to_str().unwrap()], None);
    assert_eq!(clean.code, Some(0), "an info is not a warning: {}", clean.stdout);
}

/// Colour only where asked: never into a pipe by default, always when
/// forced, never under --color never; NO_COLOR turns `auto` off only.
#[test]
fn colour_follows_the_color_option() {
    let plan = crate::check_support::repo("examples/plans/warn-eligibility.json");
    let plan = plan.to_str().unwrap();
    let escape = '\u{1b}';
    let piped = run(["check", plan], None);
    assert!(!piped.stdout.contains(escape), "no colour into a pipe: {}", piped.stdout);
    let forced = run(["check", "--color", "always", plan], None);
    assert!(forced.stdout.contains(escape), "colour when forced: {}", forced.stdout);
    let forced_despite = embolint()
        .args(["check", "--color", "always", plan])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&forced_despite.stdout).contains(escape));
    let never = run(["check", "--color", "never", plan], None);
    assert!(!never.stdout.contains(escape));
    let wrong = run(["check", "--color", "sometimes", plan], None);
    assert_eq!(wrong.code, Some(3));
}

/// An auditor must be able to tell which code and which built-in rules
/// judged a plan: `--version` names both, and every verdict names the code.
#[test]
fn version_names_the_commit_and_the_built_in_rule_set_and_verdicts_carry_the_commit() {
    let output = embolint().arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success());
    assert!(version.contains(env!("CARGO_PKG_VERSION")), "{version}");
    assert!(version.contains("built-in rules chiras-bone-chemoembolization"), "{version}");
    let commit = version.split("commit ").nth(1).and_then(|rest| rest.split(';').next());
    let commit = commit.unwrap_or_else(|| panic!("no commit in {version:?}")).to_string();
    assert!(!commit.is_empty());
    let plan = crate::check_support::repo("examples/plans/pass-iliac.json");
    let verdict = run(["check", "--format", "json", plan.to_str().unwrap()], None).verdict();
    assert_eq!(verdict["checker"]["commit"], commit.as_str(), "{}", verdict["checker"]);
}

/// A service manager sets EMBOLINT_CONFIG; --config still wins over it.
#[test]
fn the_config_file_comes_from_the_flag_else_embolint_config_and_config_says_where_each_setting_comes_from(
) {
    let mut site = Site::new();
    let from_env = site.dir.path().join("from-env.toml");
    std::fs::write(&from_env, "settle_millis = 250\nbatch_size = 7\n").unwrap();
    let from_flag = site.dir.path().join("from-flag.toml");
    std::fs::write(&from_flag, "batch_size = 9\n").unwrap();
    let root = site.root();
    let root = root.to_str().unwrap();
    let env = from_env.to_str().unwrap();

    let shown = embolint()
        .args(["config", "--root", root, "--format", "json", "--batch-size", "3"])
        .env("EMBOLINT_CONFIG", env)
        .output()
        .unwrap();
    assert!(shown.status.success(), "{}", String::from_utf8_lossy(&shown.stderr));
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let setting =
        |key: &str| shown.as_array().unwrap().iter().find(|s| s["key"] == key).unwrap().clone();
    assert_eq!(setting("batch_size")["value"], "3");
    assert_eq!(setting("batch_size")["source"], "command line");
    assert_eq!(setting("settle_millis")["value"], "250");
    let source = setting("settle_millis")["source"].as_str().unwrap().to_string();
    assert!(source.contains("from-env.toml") && source.contains("EMBOLINT_CONFIG"), "{source}");
    assert_eq!(setting("rescan_interval_secs")["source"], "built-in default");

    let by_flag = embolint()
        .args(["config", "--root", root, "--config", from_flag.to_str().unwrap()])
        .env("EMBOLINT_CONFIG", env)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&by_flag.stdout);
    assert!(text.lines().any(|l| l.starts_with("batch_size") && l.contains(" 9 ")), "{text}");

    // The daemon itself reads the file EMBOLINT_CONFIG names.
    let daemon = site.start_with_env(&[], &[("EMBOLINT_CONFIG", env)]);
    let line = &daemon.log_lines("embolint watch started")[0]["fields"];
    assert_eq!(line["batch_size"], 7, "{line}");
    assert!(line["config"].as_str().unwrap().ends_with("from-env.toml"), "{line}");
    assert_eq!(daemon.terminate().code(), Some(0));
}

/// A variable naming a file that is not there is a mistake to report, not
/// a reason to fall back to the defaults.
#[test]
fn an_embolint_config_naming_a_missing_file_stops_with_exit_3() {
    let mut site = Site::new();
    let missing = site.dir.path().join("nowhere.toml");
    let daemon = site.spawn(&[], &[("EMBOLINT_CONFIG", missing.to_str().unwrap())]);
    let (status, log) = daemon.wait_exit_keeping_log();
    assert_eq!(status.code(), Some(3), "{log}");
    assert!(log.contains("nowhere.toml"), "{log}");
}

/// Packages install completions and manual pages made from the same
/// command line definitions as --help, so they never drift apart.
#[test]
fn completions_and_manual_pages_are_generated_from_the_command_line() {
    for shell in ["bash", "zsh", "fish"] {
        let run = run(["completions", shell], None);
        assert_eq!(run.code, Some(0), "{shell}: {}", run.stderr);
        for word in ["check", "watch", "verify-log", "fail-on-warn"] {
            assert!(run.stdout.contains(word), "{shell} completion lacks {word}");
        }
    }
    assert_eq!(run(["completions", "tcsh"], None).code, Some(3), "an unknown shell is refused");
    let dir = tempfile::tempdir().unwrap();
    let made = run(["man", "--out-dir", dir.path().to_str().unwrap()], None);
    assert_eq!(made.code, Some(0), "{}", made.stderr);
    let check = std::fs::read_to_string(dir.path().join("embolint-check.1")).unwrap();
    assert!(check.contains("Exit status"), "{check}");
    assert!(dir.path().join("embolint.1").is_file());
    assert!(dir.path().join("embolint-watch.1").is_file());
    let nowhere = dir.path().join("missing/deeper");
    let refused = run(["man", "--out-dir", nowhere.to_str().unwrap()], None);
    assert_eq!(refused.code, Some(3), "{}", refused.stderr);
}

/// docs/rules.md is the built-in rule set as `rules --format markdown`
/// writes it: a change of the rule file without the page fails here
/// (regenerate it: `embolint rules --format markdown > docs/rules.md`).
#[test]
fn the_rules_page_of_the_docs_is_the_built_in_rule_set() {
    let page = std::fs::read_to_string(crate::check_support::repo("docs/rules.md")).unwrap();
    let generated = run(["rules", "--format", "markdown"], None);
    assert_eq!(generated.code, Some(0));
    assert!(
        page == generated.stdout,
        "docs/rules.md is stale: run `embolint rules --format markdown > docs/rules.md`"
    );
    for rule in ["spinal-feeder-excluded", "artery-dose-max", "session-spacing"] {
        assert!(page.contains(&format!("| `{rule}` |")), "{rule}");
    }
}
