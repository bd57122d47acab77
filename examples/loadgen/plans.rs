/// The SPEC's example plan: passes, with one info finding.
const VALID: &str = include_str!("../../tests/fixtures/public/spec-example.json");
/// The same plan with a dose in an unknown unit: invalid.
const INVALID: &str = include_str!("../../tests/fixtures/public/invalid-unit.json");
/// The fixtures' plan id, replaced in each copy.
const PLAN_ID: &str = "\"PLN-2026-0042\"";
/// The fixtures' patient id, replaced in each copy.
const PATIENT_ID: &str = "\"PAT-0007\"";
/// The fixtures' planned session date, replaced when asked.
const SESSION_DATE: &str = "\"2026-11-05\"";

/// Refuses to run if the fixtures no longer hold exactly one of each
/// replaced value (the copies would not be unique).
pub fn check_fixtures() -> Result<(), String> {
    for (fixture, text) in [("spec-example.json", VALID), ("invalid-unit.json", INVALID)] {
        for value in [PLAN_ID, PATIENT_ID, SESSION_DATE] {
            let found = text.matches(value).count();
            if found != 1 {
                return Err(format!(
                    "tests/fixtures/public/{fixture} holds {value} {found} times, not once: \
                     the harness cannot make unique copies of it"
                ));
            }
        }
    }
    Ok(())
}

/// The plans of one phase, named `PREFIX-NNNNNN.json`.
#[derive(Debug)]
pub struct PlanSet {
    /// Names the files and plan ids of this phase.
    pub prefix: &'static str,
    /// How many.
    count: usize,
    /// Every n-th plan (the n-th, 2n-th, …) is invalid.
    invalid_every: Option<usize>,
    /// A session date replacing the example's, if any.
    session_date: Option<&'static str>,
}

impl PlanSet {
    /// `count` plans; every `invalid_every`-th invalid.
    pub fn new(
        prefix: &'static str,
        count: usize,
        invalid_every: Option<usize>,
        session_date: Option<&'static str>,
    ) -> PlanSet {
        PlanSet { prefix, count, invalid_every, session_date }
    }

    /// How many plans.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether plan `i` is the invalid kind.
    pub fn is_invalid(&self, i: usize) -> bool {
        self.invalid_every.is_some_and(|n| n > 0 && (i + 1) % n == 0)
    }

    /// How many are invalid.
    pub fn invalid_count(&self) -> usize {
        (0..self.count).filter(|&i| self.is_invalid(i)).count()
    }

    /// The verdict plan `i` must get.
    pub fn expected_verdict(&self, i: usize) -> &'static str {
        if self.is_invalid(i) {
            "invalid"
        } else {
            "pass"
        }
    }

    /// Plan `i`'s file name in the inbox.
    pub fn name(&self, i: usize) -> String {
        format!("{}-{i:06}.json", self.prefix)
    }

    /// The plan number in a file name of this set.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        let digits = name.strip_prefix(self.prefix)?.strip_prefix('-')?.strip_suffix(".json")?;
        let i: usize =
            digits.bytes().all(|b| b.is_ascii_digit()).then(|| digits.parse().ok())??;
        (i < self.count).then_some(i)
    }

    /// Plan `i`'s text: its own plan id; patient `LG-PAT-i`, shared by
    /// plan `i` of every set (so a measured plan meets its patient's
    /// recorded session in the history).
    pub fn text(&self, i: usize) -> String {
        let fixture = if self.is_invalid(i) { INVALID } else { VALID };
        let plan_id = format!("\"LG-{}-{i:06}\"", self.prefix.to_uppercase());
        let mut text = fixture.replacen(PLAN_ID, &plan_id, 1).replacen(
            PATIENT_ID,
            &format!("\"LG-PAT-{i:06}\""),
            1,
        );
        if let Some(date) = self.session_date {
            text = text.replacen(SESSION_DATE, &format!("\"{date}\""), 1);
        }
        text
    }
}
