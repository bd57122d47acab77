//! One patient: the recorded sessions on a timeline (past and planned apart,
//! the protocol's spacing window after each session shaded, so a session
//! too close to another is seen at a glance), the pirarubicin and
//! carboplatin totals of each session against their limits, and the
//! patient's decisions.

use super::decisions::{judged_plan, verdict_badge};
use super::{day_and_time, frame, html_page, problem_page, segment, with_index};
use crate::audit::decision_index::{DecisionIndex, Filter, Listed};
use crate::decimal::Decimal;
use crate::history::{Location, RecordedSession};
use crate::plan::{Amount, Dimension, Quantity};
use crate::rules::RuleSet;
use crate::serve::http::App;
use crate::serve::service::Service;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::civil::Date;
use maud::{html, Markup};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// The two drugs whose totals per session the protocol bounds.
const DRUGS: [&str; 2] = ["pirarubicin", "carboplatin"];

/// Most decisions of one patient listed (the newest).
const MOST_DECISIONS: usize = 200;

/// One session as the page shows it.
#[derive(Clone, Debug)]
pub struct SessionView {
    /// The session as the history keeps it.
    pub session: RecordedSession,
    /// Before today (UTC): done; else planned.
    pub past: bool,
    /// Within the spacing window of another session of the patient.
    pub too_close: bool,
    /// The total of each of [`DRUGS`] in µg, when the plan file that gave
    /// the session can be read (not for a prior session a plan listed).
    pub totals: Option<[Decimal; 2]>,
    /// For a session of a plan that failed (not recorded, so not in force):
    /// the `seq` of that decision.
    pub refused_by: Option<u64>,
}

/// Most plans that failed whose sessions are drawn (the latest).
const MOST_REFUSED_PLANS: usize = 10;

/// A session as a judged plan file gives it: index, number, date, totals.
type PlanSession = (usize, Option<u64>, Date, [Decimal; 2]);

/// The limits of a session's totals, from the rules in force.
#[derive(Clone, Debug, Default)]
pub struct Limits {
    /// Calendar months sessions must be apart (`session-spacing`).
    pub months: i64,
    /// `(at least, at most)` per drug of [`DRUGS`], in µg.
    pub range: [(Option<Decimal>, Option<Decimal>); 2],
}

/// `GET /patients/{id}`.
pub async fn page(State(app): State<App>, Path(id): Path<String>) -> Response {
    let patient = id.clone();
    let found = with_index(Arc::clone(&app.service), move |service, index| {
        let filter = Filter { patient: Some(patient.clone()), ..Filter::default() };
        let decisions = index.query(&filter, MOST_DECISIONS).map_err(|e| e.to_string())?;
        let rules = service.rules();
        let limits = limits_of(&rules);
        let sessions = sessions_of(service, index, &patient, &decisions, &rules, &limits)?;
        Ok((decisions, sessions, limits))
    })
    .await;
    match found {
        Ok((decisions, sessions, limits)) => {
            if decisions.is_empty() && sessions.is_empty() {
                return problem_page(
                    StatusCode::NOT_FOUND,
                    "No such patient",
                    &format!("No decision and no recorded session names patient {id:?}."),
                );
            }
            html_page(StatusCode::OK, patient_page(&id, &decisions, &sessions, &limits))
        }
        Err(answer) => answer,
    }
}

/// The limits in force: the spacing and the session dose range.
fn limits_of(rules: &RuleSet) -> Limits {
    let json = serde_json::to_value(rules).unwrap_or(Value::Null);
    let rule = |id: &str| {
        json.get("rules")
            .and_then(Value::as_array)
            .and_then(|all| all.iter().find(|r| r.get("id").and_then(Value::as_str) == Some(id)))
            .filter(|r| r.get("enabled").and_then(Value::as_bool) != Some(false))
            .cloned()
    };
    let limit = |id: &str, drug: &str| -> Option<Decimal> {
        let limits = rule(id)?.pointer("/parameters/limits")?.as_object()?.clone();
        limits.iter().find_map(|(name, text)| {
            (rules.names.canonical(name) == drug)
                .then(|| Quantity::parse_text(text.as_str()?).ok())
                .flatten()
                .map(|q| q.amount().base)
        })
    };
    let months = rule("session-spacing")
        .and_then(|r| r.pointer("/parameters/months").and_then(Value::as_i64))
        .unwrap_or(1);
    Limits {
        months,
        range: DRUGS.map(|drug| (limit("session-dose-min", drug), limit("session-dose-max", drug))),
    }
}

/// The patient's recorded sessions, oldest first, with their totals.
fn sessions_of(
    service: &Service,
    index: &DecisionIndex,
    patient: &str,
    decisions: &[Listed],
    rules: &RuleSet,
    limits: &Limits,
) -> Result<Vec<SessionView>, String> {
    let mut history = service.review_history();
    if history.is_none() {
        let no_file_yet = matches!(&service.history, Location::File(path) if !path.exists());
        match service.history.open_read_only() {
            Ok(opened) => *history = Some(opened),
            // No history file yet (nothing has passed): no sessions.
            Err(_) if no_file_yet => {}
            Err(e) => return Err(format!("the patient history cannot be read: {e}")),
        }
    }
    let recorded = match history.as_ref() {
        Some(history) => history.sessions_of(patient).map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    drop(history);
    let mut sessions_by_plan: HashMap<String, Option<Vec<PlanSession>>> = HashMap::new();
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut views: Vec<SessionView> = Vec::new();
    for session in &recorded {
        let totals = if session.listed_by.is_none() {
            let latest_pass = decisions
                .iter()
                .find(|d| d.verdict == "pass" && d.plan_id.as_deref() == Some(&session.plan_id));
            let per_session =
                sessions_by_plan.entry(session.plan_id.clone()).or_insert_with(|| {
                    latest_pass.and_then(|d| plan_sessions(service, index, d.seq, rules))
                });
            per_session
                .as_ref()
                .and_then(|all| all.iter().find(|(i, ..)| *i == session.index))
                .map(|(.., totals)| *totals)
        } else {
            None
        };
        views.push(SessionView {
            session: session.clone(),
            past: session.date < today,
            too_close: false,
            totals,
            refused_by: None,
        });
    }
    // The sessions of the patient's plans that failed (each plan's latest
    // decision, when no version of it is recorded): not in force, but
    // drawn, so that where they fall against the recorded sessions' windows
    // is seen at once.
    let mut seen: Vec<&str> = recorded.iter().map(|s| s.plan_id.as_str()).collect();
    let mut refused_plans = 0;
    for decision in decisions {
        let Some(plan_id) = decision.plan_id.as_deref() else { continue };
        if seen.contains(&plan_id) {
            continue;
        }
        seen.push(plan_id);
        if decision.verdict != "fail" || refused_plans == MOST_REFUSED_PLANS {
            continue;
        }
        refused_plans += 1;
        for (index_in_plan, number, date, totals) in
            plan_sessions(service, index, decision.seq, rules).unwrap_or_default()
        {
            let session = RecordedSession {
                patient_id: decision.patient_id.clone().unwrap_or_default(),
                plan_id: plan_id.to_string(),
                listed_by: None,
                number,
                index: index_in_plan,
                date,
                recorded_at: decision.checked_at.parse().unwrap_or_else(|_| jiff::Timestamp::now()),
            };
            views.push(SessionView {
                session,
                past: date < today,
                too_close: false,
                totals: Some(totals),
                refused_by: Some(decision.seq),
            });
        }
    }
    views.sort_by_key(|v| v.session.date);
    // Only recorded sessions are in force: only their windows count.
    let windows: Vec<(usize, Date, Date)> = views
        .iter()
        .enumerate()
        .filter(|(_, v)| v.refused_by.is_none())
        .map(|(i, v)| (i, v.session.date, window_end(v.session.date, limits.months)))
        .collect();
    for (i, view) in views.iter_mut().enumerate() {
        let date = view.session.date;
        view.too_close =
            windows.iter().any(|(j, start, end)| *j != i && *start <= date && date < *end);
    }
    Ok(views)
}

/// The end of the spacing window after a session: the same day `months`
/// calendar months later (the month's last day when it is shorter).
fn window_end(date: Date, months: i64) -> Date {
    date.checked_add(jiff::Span::new().months(months)).unwrap_or(date)
}

/// The sessions of the plan judged in decision `seq`, with their totals,
/// read from the plan file in its outcome folder; `None` when it cannot be
/// read (moved, altered, or not a readable plan).
fn plan_sessions(
    service: &Service,
    index: &DecisionIndex,
    seq: u64,
    rules: &RuleSet,
) -> Option<Vec<PlanSession>> {
    let line = index.record(seq).ok()??;
    let record: Value = serde_json::from_slice(&line).ok()?;
    let bytes = judged_plan(service, &record).ok()?;
    let plan = crate::plan::parse_plan(&bytes, &rules.names).ok()?;
    let plan = rules.resolve(plan);
    let sessions = plan
        .sessions
        .iter()
        .map(|session| {
            let totals = DRUGS.map(|drug| {
                session
                    .arteries
                    .iter()
                    .flat_map(|artery| &artery.drugs)
                    .filter(|dose| dose.name.canonical == drug)
                    .try_fold(Decimal::ZERO, |sum, dose| sum.checked_add(dose.dose.amount().base))
                    .unwrap_or(Decimal::ZERO)
            });
            (session.index, session.number, session.date, totals)
        })
        .collect();
    Some(sessions)
}

fn mg(base: Decimal) -> String {
    Amount { base, dimension: Dimension::Mass }.to_string()
}

/// A total against its range: "12 mg (10 mg to 20 mg)", marked when
/// outside.
fn total_cell(total: Decimal, (least, most): (Option<Decimal>, Option<Decimal>)) -> Markup {
    let over = most.is_some_and(|m| total > m);
    let under = least.is_some_and(|l| total < l);
    let range = match (least, most) {
        (Some(l), Some(m)) => format!("{} to {}", mg(l), mg(m)),
        (None, Some(m)) => format!("at most {}", mg(m)),
        (Some(l), None) => format!("at least {}", mg(l)),
        (None, None) => "no limit in force".to_string(),
    };
    html! {
        @if over { span.over { (mg(total)) " — above the limit" } }
        @else if under { span.over { (mg(total)) " — below the range" } }
        @else { (mg(total)) }
        br; small { "limit: " (range) }
    }
}

fn patient_page(
    id: &str,
    decisions: &[Listed],
    sessions: &[SessionView],
    limits: &Limits,
) -> Markup {
    let body = html! {
        h1 { "Patient " (id) }
        h2 #timeline-heading { "Sessions" }
        @if sessions.is_empty() {
            p { "No session of this patient is recorded (no plan of theirs has passed)." }
        } @else {
            (timeline(sessions, limits))
            ul.legend aria-label="Legend" {
                li { "● done (before today)" }
                li { "○ planned" }
                li { "◇ in a plan that failed (not recorded, no window)" }
                li { "shaded: the " (limits.months) "-month window after each session, in which no other session may fall" }
                li { "red: a session inside another's window" }
            }
            table #sessions {
                caption { "Sessions and doses per session (totals over all arteries)" }
                thead {
                    tr {
                        th scope="col" { "Date" }
                        th scope="col" { "Done or planned" }
                        th scope="col" { "Plan" }
                        th scope="col" { "Pirarubicin" }
                        th scope="col" { "Carboplatin" }
                        th scope="col" { "Spacing" }
                    }
                }
                tbody {
                    @for view in sessions {
                        tr {
                            td.date { (view.session.date.to_string()) }
                            td {
                                @if let Some(seq) = view.refused_by {
                                    "in a plan that failed (" a href={ "/decisions/" (seq) } { "decision " (seq) } "): not recorded"
                                } @else if view.past { "done" } @else { "planned" }
                            }
                            td {
                                (view.session.plan_id)
                                @if let Some(n) = view.session.number { " session " (n) }
                                @if let Some(by) = &view.session.listed_by { br; small { "listed as a prior session by " (by) } }
                            }
                            @match view.totals {
                                Some(totals) => {
                                    td { (total_cell(totals[0], limits.range[0])) }
                                    td { (total_cell(totals[1], limits.range[1])) }
                                }
                                None => { td { "not known" } td { "not known" } }
                            }
                            td { @if view.too_close { span.over { "within " (limits.months) " month(s) of another session" } } @else { "apart" } }
                        }
                    }
                }
            }
        }
        h2 { "Decisions about this patient" }
        table #patient-decisions {
            thead {
                tr {
                    th scope="col" class="num" { "No." }
                    th scope="col" { "Checked (UTC)" }
                    th scope="col" { "Verdict" }
                    th scope="col" { "Plan" }
                    th scope="col" { "Rules that fired" }
                }
            }
            tbody {
                @for d in decisions {
                    tr {
                        td.num { a href={ "/decisions/" (d.seq) } { (d.seq) } }
                        td.date { (day_and_time(&d.checked_at)) }
                        td { (verdict_badge(&d.verdict)) }
                        td { (d.plan_id.as_deref().unwrap_or("—")) }
                        td { @if d.rules.is_empty() { "none" } @else { (d.rules.join(", ")) } }
                    }
                }
            }
        }
        p { a href={ "/?patient=" (segment(id)) } { "These decisions in the list, with filters" } }
    };
    frame(&format!("Patient {id}"), true, body)
}

/// Days since 1970-01-01.
fn day_number(date: Date) -> i64 {
    date.since(Date::constant(1970, 1, 1)).map_or(0, |span| i64::from(span.get_days()))
}

/// The sessions on a time axis: a mark per session (filled: done; hollow:
/// planned; red: too close), the spacing window after each shaded, today
/// marked.
fn timeline(sessions: &[SessionView], limits: &Limits) -> Markup {
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let first = sessions.iter().map(|v| v.session.date).min().unwrap_or(today).min(today);
    let last = sessions
        .iter()
        .map(|v| window_end(v.session.date, limits.months))
        .max()
        .unwrap_or(today)
        .max(today);
    let start = day_number(first) - 10;
    let end = day_number(last) + 10;
    let (width, left, right) = (900.0_f64, 20.0_f64, 20.0_f64);
    let scale = (width - left - right) / ((end - start).max(1) as f64);
    let x = |date: Date| left + (day_number(date) - start) as f64 * scale;
    let axis_y = 90.0;
    let description = format!(
        "{} sessions from {} to {}; {} done, {} planned, {} in plans that failed; {} too close to another.",
        sessions.len(),
        first,
        last,
        sessions.iter().filter(|v| v.past && v.refused_by.is_none()).count(),
        sessions.iter().filter(|v| !v.past && v.refused_by.is_none()).count(),
        sessions.iter().filter(|v| v.refused_by.is_some()).count(),
        sessions.iter().filter(|v| v.too_close).count()
    );
    html! {
        svg #timeline viewBox={ "0 0 " (width) " 150" } width=(width) height="150" role="img" aria-labelledby="timeline-title timeline-desc" {
            title #timeline-title { "Timeline of the patient's sessions" }
            desc #timeline-desc { (description) }
            @for view in sessions.iter().filter(|v| v.refused_by.is_none()) {
                @let from = x(view.session.date);
                @let to = x(window_end(view.session.date, limits.months));
                rect.window x=(format!("{from:.1}")) y="40" width=(format!("{:.1}", (to - from).max(1.0))) height="50" {
                    title { (limits.months) "-month window after the session of " (view.session.date.to_string()) }
                }
            }
            line.axis x1=(left) y1=(axis_y) x2=(width - right) y2=(axis_y) {}
            @let today_x = x(today);
            line.axis x1=(format!("{today_x:.1}")) y1="25" x2=(format!("{today_x:.1}")) y2="100" stroke-dasharray="4 3" {}
            text x=(format!("{today_x:.1}")) y="20" text-anchor="middle" { "today" }
            @for (i, view) in sessions.iter().enumerate() {
                @let cx = x(view.session.date);
                @let class = match (view.refused_by.is_some(), view.past, view.too_close) {
                    (true, _, true) => "session refused too-close",
                    (true, _, false) => "session refused",
                    (false, _, true) => "session too-close",
                    (false, true, false) => "session past",
                    (false, false, false) => "session planned",
                };
                @let label = html! {
                    (view.session.date.to_string()) ", "
                    @if view.refused_by.is_some() { "in a plan that failed" } @else if view.past { "done" } @else { "planned" }
                    ", plan " (view.session.plan_id)
                    @if view.too_close { ", too close to another session" }
                };
                @if view.refused_by.is_some() {
                    @let points = format!("{:.1},{} {:.1},{} {:.1},{} {:.1},{}", cx, axis_y - 9.0, cx + 9.0, axis_y, cx, axis_y + 9.0, cx - 9.0, axis_y);
                    polygon class=(class) points=(points) data-date=(view.session.date.to_string()) { title { (label) } }
                } @else {
                    circle class=(class) cx=(format!("{cx:.1}")) cy=(axis_y) r="7" data-date=(view.session.date.to_string()) { title { (label) } }
                }
                text x=(format!("{cx:.1}")) y=(if i % 2 == 0 { 115 } else { 132 }) text-anchor="middle" { (view.session.date.to_string()) }
            }
        }
    }
}
