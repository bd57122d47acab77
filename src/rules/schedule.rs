//! Rules about time: spacing between sessions, the length of the course,
//! and follow-up visits.

use super::kind::RuleKind;
use super::loader::LoadError;
use super::params::{required, Params};
use super::text::{count, session_label};
use super::{Context, PastSession, ResolvedPlan};
use crate::names::Names;
use crate::plan::{Plan, PriorSession, Session};
use crate::verdict::Finding;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// The most months `session-spacing` accepts (a hundred years), far inside
/// what calendar arithmetic can do.
const MAX_MONTHS: u64 = 1200;

/// `session-spacing`: "Procedures were separated by a 1-month time period."
#[derive(Clone, Debug, Serialize)]
pub struct SessionSpacing {
    /// Calendar months required between any two sessions.
    months: u64,
}

/// The other session of a pair, as a message names it.
struct OtherSession {
    date: Date,
    /// "session 1 on 2026-10-05", "prior session on ...", ...
    label: String,
}

impl SessionSpacing {
    /// `date` moved by the required months, clamped to the month's end;
    /// `None` beyond the calendar's range (then the pair counts as too
    /// close: the safer reading).
    fn shift(&self, date: Date, forward: bool) -> Option<Date> {
        let span = jiff::Span::new().try_months(i64::try_from(self.months).ok()?).ok()?;
        if forward {
            date.checked_add(span).ok()
        } else {
            date.checked_sub(span).ok()
        }
    }

    /// For two dates `a ≤ b`: too close when `b` comes before `a` plus the
    /// months. Same day is too close.
    fn too_close(&self, a: Date, b: Date) -> bool {
        let (first, second) = if a <= b { (a, b) } else { (b, a) };
        self.shift(first, true).map_or(true, |earliest| second < earliest)
    }

    fn apart(&self) -> String {
        match self.months {
            1 => "one calendar month".to_string(),
            n => format!("{n} calendar months"),
        }
    }

    fn finding(&self, session: &Session, other: &OtherSession) -> Finding {
        let days = other.date.until(session.date).map_or(0, |span| span.get_days());
        let (relation, advice) = if days >= 0 {
            let earliest = self.shift(other.date, true).map_or("none".into(), |d| d.to_string());
            let relation = match days {
                0 => "is on the same day as".to_string(),
                _ => format!("is {} after", count(days as usize, "day", "days")),
            };
            (relation, format!("the earliest allowed date is {earliest}"))
        } else {
            let before = self.shift(other.date, false).map_or("none".into(), |d| d.to_string());
            let after = self.shift(other.date, true).map_or("none".into(), |d| d.to_string());
            (
                format!("is {} before", count(days.unsigned_abs() as usize, "day", "days")),
                format!("move it to {before} or earlier, or to {after} or later"),
            )
        };
        let message = format!(
            "{} {relation} {}; sessions must be at least {} apart — {advice}.",
            session_label(session),
            other.label,
            self.apart()
        );
        Finding::at(format!("{}/date", session.pointer()), message)
            .in_session(session)
            .observed(format!("{} {relation} {}", session.date, other.date))
            .limit(format!("at least {}", self.apart()))
    }
}

/// One of the patient's sessions, in date order with the others.
enum Neighbour<'a> {
    /// A planned session, by its position in the plan.
    Planned(usize),
    Prior(&'a PriorSession),
    Recorded(&'a PastSession),
}

impl Neighbour<'_> {
    fn label(&self, plan: &Plan) -> OtherSession {
        match self {
            Neighbour::Planned(index) => match plan.sessions.get(*index) {
                Some(session) => planned_label(session),
                None => OtherSession { date: Date::MIN, label: "a planned session".into() },
            },
            Neighbour::Prior(prior) => prior_label(prior),
            Neighbour::Recorded(recorded) => history_label(recorded),
        }
    }
}

fn planned_label(session: &Session) -> OtherSession {
    OtherSession { date: session.date, label: session_label(session) }
}

fn prior_label(prior: &PriorSession) -> OtherSession {
    let plan = prior.plan_id.as_ref().map_or(String::new(), |id| format!(" (plan {id})"));
    OtherSession { date: prior.date, label: format!("prior session on {}{plan}", prior.date) }
}

fn history_label(recorded: &PastSession) -> OtherSession {
    if let Some(listed_by) = &recorded.listed_by {
        let of_plan = if *listed_by == recorded.plan_id {
            String::new()
        } else {
            format!(" (plan {})", recorded.plan_id)
        };
        return OtherSession {
            date: recorded.date,
            label: format!(
                "session on {}{of_plan}, a prior session listed by plan {listed_by}, recorded {}",
                recorded.date, recorded.recorded_on
            ),
        };
    }
    // A session its plan gave no number is not given one here: a number
    // made from its position would read as the plan's own.
    let session = recorded
        .number
        .map_or("a session without a number".to_string(), |n| format!("session {n}"));
    OtherSession {
        date: recorded.date,
        label: format!(
            "{session} of plan {} on {}, recorded {}",
            recorded.plan_id, recorded.date, recorded.recorded_on
        ),
    }
}

/// History sessions that count: those not already listed as a prior
/// session. (The history gives only sessions of the patient's other
/// plans, never of this plan's own earlier version.)
fn history_of<'a>(plan: &'a Plan, history: &'a [PastSession]) -> Vec<&'a PastSession> {
    history
        .iter()
        .filter(|r| {
            !plan
                .prior_sessions
                .iter()
                .any(|p| p.date == r.date && p.plan_id.as_ref().map_or(true, |id| *id == r.plan_id))
        })
        .collect()
}

impl RuleKind for SessionSpacing {
    fn from_params(params: &mut Params, _names: &Names) -> Result<Self, LoadError> {
        let months = required!(params, months);
        if !(1..=MAX_MONTHS).contains(months.get_ref()) {
            return Err(LoadError::at(
                months.span(),
                format!("months must be from 1 to {MAX_MONTHS}, not {}", months.get_ref()),
            ));
        }
        Ok(SessionSpacing { months: months.into_inner() })
    }

    /// Each planned session is held against its nearest neighbours in date
    /// order: the nearest earlier planned session, and the nearest prior or
    /// recorded session on either side. "Too close" only grows as two dates
    /// come nearer, so a session too close to any other is too close to its
    /// nearest one of that kind on that side: the check is complete, costs
    /// n log n, and a plan of thousands of sessions gets at most three
    /// findings per session instead of one per pair. A pair of planned
    /// sessions is named once, by the later one.
    fn evaluate(&self, plan: &ResolvedPlan, context: &Context) -> Option<Vec<Finding>> {
        let history = history_of(plan, context.past_sessions());
        let mut all: Vec<(Date, Neighbour)> = Vec::new();
        all.extend(plan.sessions.iter().enumerate().map(|(i, s)| (s.date, Neighbour::Planned(i))));
        all.extend(plan.prior_sessions.iter().map(|p| (p.date, Neighbour::Prior(p))));
        all.extend(history.iter().map(|r| (r.date, Neighbour::Recorded(r))));
        // Stable: on one date, planned sessions keep their plan order, so the
        // later of two same-day planned sessions names the pair.
        all.sort_by_key(|(date, _)| *date);
        let is_planned = |entry: &Neighbour| matches!(entry, Neighbour::Planned(_));
        // For each position, the nearest later prior or recorded session.
        let mut next_past = vec![None; all.len()];
        let mut following = None;
        for (position, (_, entry)) in all.iter().enumerate().rev() {
            if let Some(slot) = next_past.get_mut(position) {
                *slot = following;
            }
            if !is_planned(entry) {
                following = Some(position);
            }
        }
        let mut findings = Vec::new();
        let (mut last_planned, mut last_past) = (None, None);
        for (position, (date, entry)) in all.iter().enumerate() {
            let Neighbour::Planned(index) = entry else {
                last_past = Some(position);
                continue;
            };
            if let Some(session) = plan.sessions.get(*index) {
                let next = next_past.get(position).copied().flatten();
                for neighbour in [last_planned, last_past, next] {
                    let Some((other_date, other)) = neighbour.and_then(|p| all.get(p)) else {
                        continue;
                    };
                    if self.too_close(*other_date, *date) {
                        findings.push(self.finding(session, &other.label(plan)));
                    }
                }
            }
            last_planned = Some(position);
        }
        Some(findings)
    }

    fn summary(&self) -> String {
        format!("sessions at least {} apart", self.apart())
    }
}

/// `course-length`: "The treatment protocol consisted of three or more
/// procedures ..."
#[derive(Clone, Debug, Serialize)]
pub struct CourseLength {
    /// Sessions the course should reach.
    min_sessions: u64,
}

/// Small numbers in words, as the protocol writes them.
fn in_words(n: u64) -> String {
    const WORDS: [&str; 11] =
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
    WORDS.get(n as usize).map_or(n.to_string(), |w| w.to_string())
}

impl RuleKind for CourseLength {
    fn from_params(params: &mut Params, _names: &Names) -> Result<Self, LoadError> {
        Ok(CourseLength { min_sessions: required!(params, min_sessions).into_inner() })
    }

    fn evaluate(&self, plan: &ResolvedPlan, _context: &Context) -> Option<Vec<Finding>> {
        let (prior, planned) = (plan.prior_sessions.len(), plan.sessions.len());
        let total = prior + planned;
        if total as u64 >= self.min_sessions {
            return Some(Vec::new());
        }
        let message = format!(
            "{} in the course so far ({prior} prior, {planned} planned); the protocol plans {} \
             or more.",
            count(total, "session", "sessions"),
            in_words(self.min_sessions)
        );
        let finding = Finding::at("/sessions", message)
            .observed(count(total, "session", "sessions"))
            .limit(format!("{} or more", self.min_sessions));
        Some(vec![finding])
    }

    fn summary(&self) -> String {
        format!("{} or more sessions per course", self.min_sessions)
    }
}

/// A follow-up window as the rule file writes it.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WindowEntry {
    /// How messages name it: "week 1".
    label: String,
    /// First day after the session in the window.
    from_day: u64,
    /// Last day after the session in the window.
    to_day: u64,
}

/// `follow-up`: "Clinical and radiological follow-up was performed at the
/// 1st and 4th weeks."
#[derive(Clone, Debug, Serialize)]
pub struct FollowUp {
    /// Each needs a follow-up day within it.
    windows: Vec<WindowEntry>,
}

impl RuleKind for FollowUp {
    fn from_params(params: &mut Params, _names: &Names) -> Result<Self, LoadError> {
        let windows = required!(params, windows);
        let span = windows.span();
        let windows = windows.into_inner();
        if windows.is_empty() {
            return Err(LoadError::at(span, "windows is empty; list at least one"));
        }
        for w in &windows {
            if w.label.trim().is_empty() || w.from_day > w.to_day {
                return Err(LoadError::at(
                    span,
                    format!(
                        "the window `{}` (days {} to {}) needs a label and from_day ≤ to_day",
                        w.label, w.from_day, w.to_day
                    ),
                ));
            }
        }
        Ok(FollowUp { windows })
    }

    fn evaluate(&self, plan: &ResolvedPlan, _context: &Context) -> Option<Vec<Finding>> {
        let mut findings = Vec::new();
        for session in &plan.sessions {
            let days = &session.follow_up_days;
            for w in &self.windows {
                if days.iter().any(|d| (w.from_day..=w.to_day).contains(d)) {
                    continue;
                }
                let message = format!(
                    "{}: follow_up_days has no day in {} (days {}–{} after the session). Plan a \
                     clinical and radiological follow-up in that window.",
                    session_label(session),
                    w.label,
                    w.from_day,
                    w.to_day
                );
                let listed: Vec<String> = days.iter().map(u64::to_string).collect();
                findings.push(
                    Finding::at(format!("{}/follow_up_days", session.pointer()), message)
                        .in_session(session)
                        .observed(format!("follow-up days: [{}]", listed.join(", ")))
                        .limit(format!("a day in {} to {}", w.from_day, w.to_day)),
                );
            }
        }
        Some(findings)
    }

    fn summary(&self) -> String {
        let windows: Vec<String> = self
            .windows
            .iter()
            .map(|w| format!("{} (days {}–{})", w.label, w.from_day, w.to_day))
            .collect();
        format!("a follow-up day in each of: {}", windows.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::SessionSpacing;
    use crate::plan::{Plan, PriorSession, Session};
    use jiff::civil::Date;

    /// The spec example with its prior session on `prior` and its planned
    /// session on `planned`.
    fn prior_then(prior: &str, planned: &str) -> Plan {
        let mut plan = spec_example();
        plan.prior_sessions[0].date = date(prior);
        plan.sessions[0].date = date(planned);
        plan
    }

    fn spaced(prior: &str, planned: &str) -> bool {
        findings_of("session-spacing", &prior_then(prior, planned)).is_empty()
    }

    /// A plan whose planned and prior sessions fall on the given days of
    /// 2027 (day 0 is Jan 1).
    fn plan_on_days(planned: &[i64], prior: &[i64]) -> Plan {
        let day = |n: i64| date("2027-01-01").checked_add(jiff::Span::new().days(n)).unwrap();
        let mut plan = spec_example();
        let template = plan.sessions[0].clone();
        plan.sessions = planned
            .iter()
            .enumerate()
            .map(|(index, n)| Session { index, number: None, date: day(*n), ..template.clone() })
            .collect();
        plan.prior_sessions = prior
            .iter()
            .enumerate()
            .map(|(index, n)| PriorSession { index, date: day(*n), plan_id: None })
            .collect();
        plan
    }

    #[test]
    fn nearest_neighbours_flag_exactly_the_sessions_pairwise_checking_would() {
        // Deterministic pseudo-random day sets (xorshift), compared with a
        // brute-force pairwise check: every planned session too close to a
        // past session, or to an earlier (or same-day, earlier-listed)
        // planned one, has a finding of its own, and no other has.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |bound: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % bound) as i64
        };
        for _ in 0..300 {
            let planned: Vec<i64> = (0..next(6) + 1).map(|_| next(120)).collect();
            let prior: Vec<i64> = (0..next(4)).map(|_| next(120)).collect();
            let plan = plan_on_days(&planned, &prior);
            let rule = SessionSpacing { months: 1 };
            let close = |a: Date, b: Date| rule.too_close(a, b);
            let expected: std::collections::BTreeSet<usize> = plan
                .sessions
                .iter()
                .filter(|s| {
                    plan.prior_sessions.iter().any(|p| close(p.date, s.date))
                        || plan.sessions.iter().any(|o| {
                            (o.date < s.date || (o.date == s.date && o.index < s.index))
                                && close(o.date, s.date)
                        })
                })
                .map(|s| s.index)
                .collect();
            let flagged: std::collections::BTreeSet<usize> = findings_of("session-spacing", &plan)
                .iter()
                .filter_map(|f| f.session.as_ref().map(|s| s.index))
                .collect();
            assert_eq!(flagged, expected, "planned {planned:?}, prior {prior:?}");
        }
    }

    #[test]
    fn thousands_of_sessions_on_one_day_give_a_finding_each_not_one_per_pair() {
        use super::super::kind::RuleKind;
        let days = vec![10; 3000];
        let plan = plan_on_days(&days, &[10]);
        let rules = crate::rules::RuleSet::builtin().unwrap();
        let resolved = rules.resolve(plan.clone());
        let context = super::super::Context::default();
        let findings = SessionSpacing { months: 1 }.evaluate(&resolved, &context).unwrap();
        // Each session: the planned one before it and the prior session.
        assert_eq!(findings.len(), 2 * 3000 - 1);
        // The verdict lists the first ones and counts the rest.
        let listed = findings_of("session-spacing", &plan);
        assert_eq!(listed.len(), super::super::MAX_FINDINGS_PER_RULE + 1);
        let last = listed.last().unwrap();
        assert!(last.message.starts_with("5899 more session-spacing findings"), "{}", last.message);
        assert_eq!(last.severity, crate::verdict::Severity::Error);
    }

    #[test]
    fn one_calendar_month_clamps_to_the_end_of_a_short_month() {
        // 2027 is not a leap year.
        assert!(spaced("2027-01-31", "2027-02-28"));
        assert!(!spaced("2027-01-31", "2027-02-27"));
        // 2028 is.
        assert!(!spaced("2028-01-31", "2028-02-28"));
        assert!(spaced("2028-01-31", "2028-02-29"));
        assert!(spaced("2026-12-31", "2027-01-31"));
        assert!(spaced("2026-04-30", "2026-05-30"));
        assert!(!spaced("2026-04-30", "2026-05-29"));
        assert!(spaced("2026-10-05", "2026-11-05"));
        assert!(!spaced("2026-11-05", "2026-11-05"), "the same day is too close");
        assert!(!spaced("9999-12-01", "9999-12-31"), "beyond the calendar counts as too close");
    }

    #[test]
    fn the_message_names_the_other_session_and_the_earliest_date() {
        let findings = findings_of("session-spacing", &prior_then("2026-10-05", "2026-11-04"));
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].message,
            "session 2 on 2026-11-04 is 30 days after prior session on 2026-10-05 (plan \
             PLN-2026-0031); sessions must be at least one calendar month apart — the earliest \
             allowed date is 2026-11-05."
        );
        assert_eq!(findings[0].path, "/sessions/0/date");
    }

    #[test]
    fn planned_sessions_are_judged_pairwise_once() {
        let mut plan = spec_example();
        plan.sessions.push(session(1, Some(3), "2026-11-20"));
        plan.sessions.push(session(2, None, "2026-12-05"));
        let findings = findings_of("session-spacing", &plan);
        // 11-05/11-20 and 11-20/12-05 are too close; 11-05/12-05 is fine.
        assert_eq!(findings.len(), 2, "{findings:#?}");
        assert!(findings[0]
            .message
            .starts_with("session 3 on 2026-11-20 is 15 days after session 2 on 2026-11-05;"));
        assert!(findings[1]
            .message
            .starts_with("session 3 on 2026-12-05 is 15 days after session 3 on 2026-11-20;"));
        assert_eq!(findings[1].path, "/sessions/2/date");
    }

    #[test]
    fn two_prior_sessions_are_never_judged_against_each_other() {
        let mut plan = spec_example();
        plan.prior_sessions.push(PriorSession {
            index: 1,
            date: date("2026-10-06"),
            plan_id: None,
        });
        plan.sessions[0].date = date("2026-11-06");
        assert!(findings_of("session-spacing", &plan).is_empty());
    }

    #[test]
    fn history_of_another_plan_of_the_same_patient_counts() {
        let plan = spec_example();
        let history = [recorded("PLN-0031", Some(1), "2026-10-29")];
        let findings = findings_with_history("session-spacing", &plan, &history);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].message,
            "session 2 on 2026-11-05 is 7 days after session 1 of plan PLN-0031 on 2026-10-29, \
             recorded 2026-10-20; sessions must be at least one calendar month apart — the \
             earliest allowed date is 2026-11-29."
        );
    }

    #[test]
    fn a_later_history_session_is_named_with_both_ways_out() {
        let plan = spec_example();
        let history = [recorded("PLN-0050", None, "2026-11-15")];
        let findings = findings_with_history("session-spacing", &plan, &history);
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0].message.contains(
                "is 10 days before a session without a number of plan PLN-0050 on 2026-11-15, \
                 recorded 2026-10-20;"
            ),
            "{}",
            findings[0].message
        );
        assert!(findings[0].message.contains("move it to 2026-10-15 or earlier, or to 2026-12-15"));
    }

    #[test]
    fn a_prior_session_also_in_the_history_is_reported_once() {
        let plan = prior_then("2026-10-20", "2026-11-05");
        let history = [recorded("PLN-2026-0031", Some(1), "2026-10-20")];
        assert_eq!(findings_with_history("session-spacing", &plan, &history).len(), 1);
    }

    #[test]
    fn fewer_than_three_sessions_is_an_info() {
        let findings = findings_of("course-length", &spec_example());
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].message,
            "2 sessions in the course so far (1 prior, 1 planned); the protocol plans three or more."
        );
        let mut plan = spec_example();
        plan.sessions.push(session(1, Some(3), "2026-12-07"));
        assert!(findings_of("course-length", &plan).is_empty());
    }

    #[test]
    fn follow_up_needs_a_day_in_week_1_and_in_week_4() {
        let mut plan = spec_example();
        for days in [vec![1, 22], vec![7, 28], vec![3, 14, 25]] {
            plan.sessions[0].follow_up_days = days.clone();
            assert!(findings_of("follow-up", &plan).is_empty(), "{days:?}");
        }
        plan.sessions[0].follow_up_days = vec![8, 28];
        let findings = findings_of("follow-up", &plan);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].path, "/sessions/0/follow_up_days");
        assert!(findings[0].message.contains("no day in week 1 (days 1–7 after the session)"));
        plan.sessions[0].follow_up_days = vec![7, 21, 29];
        assert!(findings_of("follow-up", &plan)[0].message.contains("week 4 (days 22–28"));
        plan.sessions[0].follow_up_days.clear();
        assert_eq!(findings_of("follow-up", &plan).len(), 2);
    }
}
