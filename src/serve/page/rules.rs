//! How often each rule fired: the rule set in force with each rule's count,
//! and for one rule its decisions per week as a small chart, with what it
//! checks and the protocol's sentence it comes from.

use super::{frame, html_page, problem_page, segment, with_index};
use crate::serve::http::App;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::civil::Date;
use maud::{html, Markup};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Most weeks drawn (the latest).
const MOST_WEEKS: i64 = 52;

/// Fewest weeks drawn, so a new rule's few weeks read as a short time.
const LEAST_WEEKS: i64 = 12;

/// The rules in force as JSON (as `embolint rules --format json` gives them).
fn rules_json(app: &App) -> Vec<Value> {
    let rules = app.service.rules();
    serde_json::to_value(&*rules)
        .ok()
        .and_then(|v| v.get("rules").and_then(Value::as_array).cloned())
        .unwrap_or_default()
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `GET /rules`.
pub async fn list(State(app): State<App>) -> Response {
    let totals = with_index(Arc::clone(&app.service), |_, index| {
        index.fired_totals().map_err(|e| e.to_string())
    })
    .await;
    let totals: BTreeMap<String, u64> = match totals {
        Ok(totals) => totals.into_iter().collect(),
        Err(answer) => return answer,
    };
    let rules = rules_json(&app);
    let body = html! {
        h1 { "Rules" }
        p { "The rules in force, and in how many decisions each has fired (found something)." }
        table #rules {
            thead {
                tr {
                    th scope="col" { "Rule" }
                    th scope="col" { "Severity" }
                    th scope="col" { "What it checks" }
                    th scope="col" class="num" { "Decisions it fired in" }
                }
            }
            tbody {
                @for rule in &rules {
                    @let id = text(rule, "id");
                    tr {
                        td { a href={ "/rules/" (segment(id)) } { (id) } }
                        td { span class={ "sev-" (text(rule, "severity")) } { (text(rule, "severity")) } }
                        td { (text(rule, "description")) }
                        td.num { (totals.get(id).copied().unwrap_or(0)) }
                    }
                }
            }
        }
    };
    html_page(StatusCode::OK, frame("Rules", true, body))
}

/// `GET /rules/{id}`.
pub async fn one(State(app): State<App>, Path(id): Path<String>) -> Response {
    let rule = rules_json(&app).into_iter().find(|r| text(r, "id") == id);
    let asked = id.clone();
    let by_day = with_index(Arc::clone(&app.service), move |_, index| {
        index.fired_by_day(&asked).map_err(|e| e.to_string())
    })
    .await;
    let by_day = match by_day {
        Ok(by_day) => by_day,
        Err(answer) => return answer,
    };
    if rule.is_none() && by_day.is_empty() {
        return problem_page(
            StatusCode::NOT_FOUND,
            "No such rule",
            &format!("No rule is called {id:?}."),
        );
    }
    let weeks = weekly(&by_day);
    let total: u64 = by_day.iter().map(|(_, n)| n).sum();
    let body = html! {
        h1 { "Rule " (id) }
        @match &rule {
            Some(rule) => {
                p { (text(rule, "description")) }
                dl.summary {
                    dt { "Severity" } dd { span class={ "sev-" (text(rule, "severity")) } { (text(rule, "severity")) } }
                    dt { "Limits" } dd { (text(rule, "summary")) }
                    dt { "In force" } dd { @if rule.get("enabled").and_then(Value::as_bool) == Some(false) { "no (switched off)" } @else { "yes" } }
                    dt { "May be acknowledged" } dd { @if rule.get("acknowledgeable").and_then(Value::as_bool) == Some(true) { "yes" } @else { "no" } }
                }
                h2 { "The protocol" }
                @if text(rule, "citation").is_empty() { p { (text(rule, "rationale")) } }
                @else { blockquote #citation { (text(rule, "citation")) } }
            }
            None => { p { "This rule is not in the rule set in force; it fired under an earlier one." } }
        }
        h2 #chart-heading { "Decisions it fired in, per week" }
        p { (total) @if total == 1 { " decision" } @else { " decisions" } " in all." }
        (chart(&weeks))
        details {
            summary { "The same, as a table" }
            table #weeks {
                thead { tr { th scope="col" { "Week of (Monday)" } th scope="col" class="num" { "Decisions" } } }
                tbody { @for (week, n) in &weeks { tr { td { (week.to_string()) } td.num { (n) } } } }
            }
        }
        p { a href={ "/?rule=" (segment(&id)) } { "These decisions in the list" } }
    };
    html_page(StatusCode::OK, frame(&format!("Rule {id}"), true, body))
}

/// The Monday of a day's week.
fn monday_of(date: Date) -> Date {
    let back = i64::from(date.weekday().to_monday_zero_offset());
    date.checked_sub(jiff::Span::new().days(back)).unwrap_or(date)
}

/// Counts per day summed per week, every week from the first with a count
/// (at least [`LEAST_WEEKS`], at most [`MOST_WEEKS`] back) to this week,
/// empty weeks included.
fn weekly(by_day: &[(String, u64)]) -> Vec<(Date, u64)> {
    let this_week = monday_of(jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date());
    let mut counts: BTreeMap<Date, u64> = BTreeMap::new();
    for (day, n) in by_day {
        if let Ok(date) = day.parse::<Date>() {
            *counts.entry(monday_of(date)).or_default() += n;
        }
    }
    let earliest =
        this_week.checked_sub(jiff::Span::new().weeks(MOST_WEEKS - 1)).unwrap_or(this_week);
    let last = counts.keys().next_back().copied().unwrap_or(this_week).max(this_week);
    let latest_start =
        this_week.checked_sub(jiff::Span::new().weeks(LEAST_WEEKS - 1)).unwrap_or(this_week);
    let mut week =
        counts.keys().next().copied().unwrap_or(this_week).min(latest_start).max(earliest);
    let mut weeks = Vec::new();
    while week <= last {
        weeks.push((week, counts.get(&week).copied().unwrap_or(0)));
        match week.checked_add(jiff::Span::new().weeks(1)) {
            Ok(next) => week = next,
            Err(_) => break,
        }
    }
    weeks
}

/// A small bar chart: one bar per week.
fn chart(weeks: &[(Date, u64)]) -> Markup {
    let most = weeks.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let (width, height, left, bottom) = (720.0_f64, 160.0_f64, 40.0_f64, 30.0_f64);
    let slot = (width - left - 10.0) / (weeks.len().max(1) as f64);
    let plot = height - bottom - 15.0;
    let first = weeks.first().map(|(w, _)| w.to_string()).unwrap_or_default();
    let last = weeks.last().map(|(w, _)| w.to_string()).unwrap_or_default();
    html! {
        svg #chart viewBox={ "0 0 " (width) " " (height) } width=(width) height=(height) role="img" aria-labelledby="chart-title" {
            title #chart-title { "Decisions per week, from the week of " (first) " to the week of " (last) "; at most " (most) " in a week" }
            line.axis x1=(left) y1=(height - bottom) x2=(width - 10.0) y2=(height - bottom) {}
            text x=(left - 6.0) y=(15.0 + 4.0) text-anchor="end" { (most) }
            text x=(left - 6.0) y=(height - bottom) text-anchor="end" { "0" }
            @for (i, (week, n)) in weeks.iter().enumerate() {
                @let h = plot * (*n as f64) / (most as f64);
                rect.bar x=(format!("{:.1}", left + i as f64 * slot + 1.0)) y=(format!("{:.1}", height - bottom - h))
                    width=(format!("{:.1}", (slot - 2.0).max(1.0))) height=(format!("{h:.1}")) {
                    title { "week of " (week.to_string()) ": " (n) }
                }
            }
            text x=(left) y=(height - 8.0) { (first) }
            text x=(width - 10.0) y=(height - 8.0) text-anchor="end" { (last) }
        }
    }
}
