//! A change to the rule file or the config is picked up while running; a
//! broken new rule file (or config) is refused with a clear log line and
//! what was in force stays.

use crate::util;

use std::fs;
use std::path::Path;
use util::{pass_plan, sha256, Site, SHIPPED_RULES};

/// The shipped rules with `course-length` raised to an error: the SPEC's
/// example plan (two sessions) then fails.
fn stricter_rules() -> String {
    let from = "id = \"course-length\"\nkind = \"course-length\"\nseverity = \"info\"";
    let to = "id = \"course-length\"\nkind = \"course-length\"\nseverity = \"error\"";
    assert!(SHIPPED_RULES.contains(from), "the shipped rule file changed shape");
    SHIPPED_RULES.replace(from, to).replace("version = \"2.1.0\"", "version = \"2.1.0-strict\"")
}

/// Replaces a file atomically, as an operator's deploy tool would.
fn replace(path: &Path, text: &str) {
    let temp = path.with_extension("new");
    fs::write(&temp, text).unwrap();
    fs::rename(&temp, path).unwrap();
}

/// Drops a plan and returns its decision record once written.
fn judge(site: &Site, name: &str) -> serde_json::Value {
    let count = site.records().len();
    site.drop_plan(name, &pass_plan(name));
    site.wait_for_records(count + 1);
    site.records().pop().unwrap()
}

#[test]
fn a_new_rule_file_changes_the_next_verdicts_and_a_broken_one_is_refused() {
    let mut site = Site::new();
    let etc = site.dir.path().join("etc");
    fs::create_dir(&etc).unwrap();
    let rules = etc.join("site-rules.toml");
    fs::write(&rules, SHIPPED_RULES).unwrap();
    let mut daemon = site.start(&["--rules", rules.to_str().unwrap()]);

    let first = judge(&site, "first.json");
    assert_eq!(first["verdict"], "pass");
    assert_eq!(first["rule_set"]["sha256"], sha256(SHIPPED_RULES.as_bytes()));
    assert_eq!(first["rule_set"]["version"], "2.1.0");

    replace(&rules, &stricter_rules());
    daemon.wait_for_log("new rule file in force");
    let second = judge(&site, "second.json");
    assert_eq!(second["verdict"], "fail", "{second}");
    assert_eq!(second["rule_set"]["sha256"], sha256(stricter_rules().as_bytes()));
    assert_eq!(second["rule_set"]["version"], "2.1.0-strict");

    fs::write(&rules, "id = \"broken\"\n[[rules]]\nserverity = \"error\"\n").unwrap();
    daemon.wait_for_log("new rule file refused");
    let refusal = &daemon.log_lines("new rule file refused")[0];
    assert_eq!(refusal["level"], "ERROR");
    assert_eq!(refusal["fields"]["in_force_version"], "2.1.0-strict");
    let third = judge(&site, "third.json");
    assert_eq!(third["verdict"], "fail", "the old rules must stay in force: {third}");
    assert_eq!(third["rule_set"]["sha256"], sha256(stricter_rules().as_bytes()));

    // Fixed again, and announced by SIGHUP.
    replace(&rules, SHIPPED_RULES);
    daemon.signal(libc::SIGHUP);
    daemon.wait_for_log("SIGHUP");
    // The loop re-reads the rules before it handles the next drop.
    let fourth = judge(&site, "fourth.json");
    assert_eq!(fourth["rule_set"]["version"], "2.1.0");
    assert_eq!(fourth["verdict"], "pass");
    assert_eq!(daemon.terminate().code(), Some(0));
}

#[test]
fn a_changed_config_is_picked_up_and_a_broken_one_is_refused() {
    let mut site = Site::new();
    let etc = site.dir.path().join("etc");
    fs::create_dir(&etc).unwrap();
    fs::write(etc.join("shipped.toml"), SHIPPED_RULES).unwrap();
    fs::write(etc.join("strict.toml"), stricter_rules()).unwrap();
    let config = etc.join("embolint.toml");
    fs::write(&config, "rules = \"shipped.toml\"\n").unwrap();
    let mut daemon = site.start(&["--config", config.to_str().unwrap()]);
    assert_eq!(judge(&site, "a.json")["verdict"], "pass");

    replace(&config, "rules = \"strict.toml\"\nsettle_millis = 200\n");
    daemon.wait_for_log("config file reloaded");
    assert_eq!(judge(&site, "b.json")["verdict"], "fail");

    replace(&config, "rules = \"shipped.toml\"\nsetle_millis = 200\n");
    daemon.wait_for_log("config file refused");
    let refusal = &daemon.log_lines("config file refused")[0];
    assert!(refusal["fields"]["message"].as_str().unwrap().contains("setle_millis"));
    assert_eq!(judge(&site, "c.json")["verdict"], "fail", "the settings in force must stay");
    assert_eq!(daemon.terminate().code(), Some(0));
}

#[test]
fn a_broken_rule_file_at_start_up_stops_the_start_with_exit_3() {
    let mut site = Site::new();
    let rules = site.dir.path().join("bad-rules.toml");
    fs::write(&rules, "not = [ toml").unwrap();
    let daemon = site.spawn(&["--rules", rules.to_str().unwrap()], &[]);
    let (status, log) = daemon.wait_exit_keeping_log();
    assert_eq!(status.code(), Some(3));
    assert!(log.contains("bad-rules.toml"), "{log}");
}

/// `warning` is not a level: taken as a module name it would silence every
/// log line, errors included, and the daemon would look healthy.
#[test]
fn a_misspelt_log_level_stops_the_start_with_exit_3_from_flag_env_or_config() {
    let mut site = Site::new();
    let config = site.dir.path().join("embolint.toml");
    fs::write(&config, "log_level = \"warning\"\n").unwrap();
    let config = config.to_str().unwrap().to_string();
    type Attempt<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);
    let attempts: [Attempt; 3] = [
        (&["--log-level", "warning"], &[]),
        (&[], &[("RUST_LOG", "warning")]),
        (&["--config", &config], &[]),
    ];
    for (args, env) in attempts {
        let daemon = site.spawn(args, env);
        let (status, log) = daemon.wait_exit_keeping_log();
        assert_eq!(status.code(), Some(3), "{args:?} {env:?}: {log}");
        assert!(log.contains("\"warning\" is not a level"), "{log}");
        assert!(log.contains("error, warn, info, debug, trace"), "{log}");
    }
}

#[test]
fn a_misspelt_log_level_in_a_reloaded_config_is_refused_and_the_old_level_stays() {
    let mut site = Site::new();
    let config = site.dir.path().join("embolint.toml");
    fs::write(&config, "log_level = \"info\"\n").unwrap();
    let mut daemon = site.start(&["--config", config.to_str().unwrap()]);
    replace(&config, "log_level = \"warning\"\n");
    daemon.wait_for_log("config log_level refused");
    // Still logging at info: a judged plan is still announced.
    assert_eq!(judge(&site, "after.json")["verdict"], "pass");
    daemon.wait_for_log("plan judged");
    assert_eq!(daemon.terminate().code(), Some(0));
}

/// An auditor must be able to read the rules that judged a plan years
/// later: every rule file put in force is kept under the root by the
/// sha256 its records name, the built-in one included.
#[test]
fn every_rule_file_put_in_force_is_kept_under_the_root_by_its_sha256() {
    let mut site = Site::new();
    let etc = site.dir.path().join("etc");
    fs::create_dir(&etc).unwrap();
    let rules = etc.join("site-rules.toml");
    fs::write(&rules, SHIPPED_RULES).unwrap();
    let mut daemon = site.start(&["--rules", rules.to_str().unwrap()]);
    let first = judge(&site, "first.json");
    replace(&rules, &stricter_rules());
    daemon.wait_for_log("new rule file in force");
    let second = judge(&site, "second.json");
    assert_eq!(daemon.terminate().code(), Some(0));
    for (record, text) in [(&first, SHIPPED_RULES.to_string()), (&second, stricter_rules())] {
        let sha = record["rule_set"]["sha256"].as_str().unwrap();
        let copy = site.root().join(format!("state/rules/{sha}.toml"));
        assert_eq!(fs::read_to_string(&copy).unwrap(), text, "{}", copy.display());
    }
    // The built-in rule set is kept too, by a daemon that runs on it.
    let mut plain = Site::new();
    let daemon = plain.start(&[]);
    let record = judge(&plain, "a.json");
    assert_eq!(daemon.terminate().code(), Some(0));
    let sha = record["rule_set"]["sha256"].as_str().unwrap();
    let copy = plain.root().join(format!("state/rules/{sha}.toml"));
    assert_eq!(sha256(&fs::read(copy).unwrap()), sha);
}
