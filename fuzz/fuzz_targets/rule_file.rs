//! Arbitrary text as a site's rule file. Reading it may fail (with a
//! message), never panic; a rule set that loads must judge the SPEC §1
//! example plan without panicking, and its verdict must keep the promises
//! in `embolint_fuzz::check_verdict`.
#![no_main]

use embolint::plan::parse_plan;
use embolint::rules::{Context, RuleSet};
use embolint_fuzz::{check_verdict, judge, SPEC_EXAMPLE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let rules = match RuleSet::from_toml(text, "fuzz.toml") {
        Ok(rules) => rules,
        Err(error) => {
            assert!(!error.message.trim().is_empty(), "a refused rule file without a reason");
            return;
        }
    };
    // Synonyms change how the plan reads (PVA needs particle sizes), so the
    // example may be invalid under some rule sets; that is not a bug.
    if let Ok(plan) = parse_plan(SPEC_EXAMPLE, &rules.names) {
        let _ = rules.resolve(plan).evaluate(&Context::default());
    }
    let verdict = judge("spec-example.json", SPEC_EXAMPLE, &rules);
    check_verdict(SPEC_EXAMPLE, &rules, &verdict);
    let _ = embolint::report::render_rules(&rules);
});
