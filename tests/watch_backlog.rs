//! Plans already in the inbox when the daemon starts all get verdicts.

use crate::util;

use util::{fail_plan, pass_plan, Site};

#[test]
fn two_hundred_plans_present_before_start_up_all_get_one_verdict() {
    let mut site = Site::new();
    let mut names = Vec::new();
    for i in 0..200 {
        let name = format!("backlog-{i:03}.json");
        let text = match i % 10 {
            0 => fail_plan(&format!("PLN-B-{i}")),
            5 => "{ not json".to_string(),
            _ => pass_plan(&format!("PLN-B-{i}")),
        };
        site.write(&name, &text);
        names.push(name);
    }
    let daemon = site.start(&[]);
    site.wait_for_records(200);
    assert!(daemon.terminate().success());
    site.assert_each_once(&names);
    assert_eq!(site.names_in("failed").len(), 20);
    assert_eq!(site.names_in("invalid").len(), 20);
    assert_eq!(site.names_in("passed").len(), 160);
    site.assert_inbox_has_no_plans();
}

#[test]
fn a_name_already_taken_in_an_outcome_folder_gets_a_unique_suffix() {
    let mut site = Site::new();
    std::fs::create_dir_all(site.root().join("passed")).unwrap();
    std::fs::write(site.root().join("passed/plan.json"), "earlier plan").unwrap();
    site.write("plan.json", &pass_plan("PLN-SAME-NAME"));
    let daemon = site.start(&[]);
    site.wait_for_records(1);
    assert!(daemon.terminate().success());
    assert_eq!(
        std::fs::read_to_string(site.root().join("passed/plan.json")).unwrap(),
        "earlier plan"
    );
    assert_eq!(site.names_in("passed"), ["plan.2.json", "plan.json"]);
    assert_eq!(site.records()[0]["watch"]["moved_to"], "passed/plan.2.json");
    assert!(site.root().join("passed/plan.2.json.verdict.json").exists());
}
