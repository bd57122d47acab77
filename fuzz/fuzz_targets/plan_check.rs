//! Arbitrary bytes as a plan file: checked against the shipped rules, the
//! verdict written as JSON and as the text report. Nothing may panic, and
//! the verdict must keep the promises in `embolint_fuzz::check_verdict`.
#![no_main]

use embolint::report::render_verdict;
use embolint_fuzz::{builtin_rules, check_verdict, judge};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let rules = builtin_rules();
    let verdict = judge("fuzz.json", data, rules);
    check_verdict(data, rules, &verdict);
    let text = render_verdict(&verdict, false);
    assert!(text.starts_with("fuzz.json: "), "the report does not name the file");
});
