//! The SPEC §1 example plan changed by up to 16 structured edits, checked
//! against the shipped rules; then, when it was readable, the same plan with
//! its names in other case and whitespace, and the same plan with every
//! quantity rewritten exactly in another unit, must each judge alike.
#![no_main]

use arbitrary::Arbitrary;
use embolint::verdict::{Outcome, Verdict};
use embolint_fuzz::edits::{Edit, Json};
use embolint_fuzz::names::respell_names;
use embolint_fuzz::units::rewrite_units;
use embolint_fuzz::{assert_same_judgement, builtin_rules, check_verdict, judge, SPEC_EXAMPLE};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// What the fuzzer chooses.
#[derive(Arbitrary, Debug)]
struct Input {
    /// Edits applied in order (at most 16 are used).
    edits: Vec<Edit>,
    /// Rewrite quantities into the smaller unit (mg → µg), else the larger.
    smaller: bool,
}

/// The example as a tree, read once.
fn example() -> &'static Json {
    static EXAMPLE: OnceLock<Json> = OnceLock::new();
    EXAMPLE.get_or_init(|| {
        let value: serde_json::Value =
            serde_json::from_slice(SPEC_EXAMPLE).expect("the SPEC example is JSON");
        Json::from_serde(&value)
    })
}

fuzz_target!(|input: Input| {
    let rules = builtin_rules();
    let mut plan = example().clone();
    for edit in input.edits.iter().take(16) {
        plan.apply(edit);
    }
    let text = plan.to_text();
    let verdict = judge("fuzz.json", text.as_bytes(), rules);
    check_verdict(text.as_bytes(), rules, &verdict);
    if verdict.verdict == Outcome::Invalid {
        return;
    }
    let mut respelled = plan.clone();
    respell_names(&mut respelled);
    assert_judged_alike(&verdict, &respelled);
    if rewrite_units(&mut plan, input.smaller) {
        assert_judged_alike(&verdict, &plan);
    }
});

/// `plan` judges as `verdict` did (and its own verdict keeps the promises).
fn assert_judged_alike(verdict: &Verdict, plan: &Json) {
    let rules = builtin_rules();
    let text = plan.to_text();
    let again = judge("fuzz.json", text.as_bytes(), rules);
    check_verdict(text.as_bytes(), rules, &again);
    assert_same_judgement(verdict, &again);
}
