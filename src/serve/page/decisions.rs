//! The recent decisions (filtered, paged), one decision with its findings,
//! evidence, citations and its plan, and the downloads of the plan and the
//! verdict.

use super::{day_and_time, frame, html_page, problem_page, segment, with_index};
use crate::audit::decision_index::{Filter, Listed};
use crate::check::sha256_hex;
use crate::serve::http::App;
use crate::serve::service::Service;
use crate::verdict::Outcome;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde_json::Value;
use std::path::Component;
use std::sync::Arc;

/// Decisions on one page of the list.
const PAGE_SIZE: usize = 50;

/// The list's filters, as the form sends them (an empty field is no filter).
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    verdict: Option<String>,
    rule: Option<String>,
    patient: Option<String>,
    since: Option<String>,
    until: Option<String>,
    before: Option<String>,
    /// Anything else in the query: a filter mistyped in a link must not
    /// quietly show every decision as if filtered.
    #[serde(flatten)]
    unknown: std::collections::BTreeMap<String, String>,
}

impl ListQuery {
    /// The filter, or what is wrong with the query, in words.
    fn filter(&self) -> Result<Filter, String> {
        fn given(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|v| !v.is_empty())
        }
        let date = |name: &str, v: &Option<String>| match given(v) {
            None => Ok(None),
            Some(text) => match text.parse::<jiff::civil::Date>() {
                Ok(date) => Ok(Some(date.to_string())),
                Err(_) => Err(format!("{name} {text:?} is not a date written YYYY-MM-DD.")),
            },
        };
        if let Some(name) = self.unknown.keys().next() {
            return Err(format!(
                "{name:?} is not a filter of this list (verdict, rule, patient, since, until)."
            ));
        }
        let verdict = match given(&self.verdict) {
            None => None,
            Some(v) if Outcome::named(v).is_some() => Some(v.to_string()),
            Some(other) => {
                return Err(format!("{other:?} is not a verdict ({}).", Outcome::names()))
            }
        };
        let before = match given(&self.before) {
            None => None,
            Some(text) => Some(text.parse().map_err(|_| format!("{text:?} is not a page."))?),
        };
        Ok(Filter {
            verdict,
            rule: given(&self.rule).map(str::to_string),
            patient: given(&self.patient).map(str::to_string),
            since: date("From", &self.since)?,
            until: date("To", &self.until)?,
            before,
        })
    }
}

/// `GET /`: the recent decisions, newest first.
pub async fn list(
    State(app): State<App>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let read = query.map_err(|rejection| {
        format!(
            "This link's filters cannot be read ({}): a filter may be given more than once, \
             or its value is not text.",
            rejection.body_text()
        )
    });
    let filter = match read.and_then(|Query(query)| query.filter()) {
        Ok(filter) => filter,
        Err(problem) => {
            let page = list_page(&Filter::default(), &[], None, Some(&problem));
            return html_page(StatusCode::BAD_REQUEST, page);
        }
    };
    let asked = filter.clone();
    let found = with_index(Arc::clone(&app.service), move |service, index| {
        if let Some(rule) = &asked.rule {
            // A misspelt rule would show "no decision", read as "never fired".
            let fired = index.has_findings_of(rule).map_err(|e| e.to_string())?;
            if !fired && !service.rules().knows_rule(rule) {
                return Ok(Err(format!(
                    "No rule is named {rule:?}: it is no rule of the rule set in force, and no \
                     decision has a finding of it. Check its spelling (the Rules page lists \
                     the rules)."
                )));
            }
        }
        // One more than a page, to know whether an older page exists.
        index.query(&asked, PAGE_SIZE + 1).map(Ok).map_err(|e| e.to_string())
    })
    .await;
    match found {
        Ok(Err(problem)) => {
            let page = list_page(&filter, &[], None, Some(&problem));
            html_page(StatusCode::BAD_REQUEST, page)
        }
        Ok(Ok(mut found)) => {
            let older = (found.len() > PAGE_SIZE).then(|| {
                found.truncate(PAGE_SIZE);
                found.last().map_or(0, |d| d.seq)
            });
            html_page(StatusCode::OK, list_page(&filter, &found, older, None))
        }
        Err(answer) => answer,
    }
}

/// A link to the list with `filter`, older than `before`.
fn list_link(filter: &Filter, before: Option<u64>) -> String {
    let mut parts = Vec::new();
    let mut add = |key: &str, value: &Option<String>| {
        if let Some(value) = value {
            parts.push(format!("{key}={}", segment(value)));
        }
    };
    add("verdict", &filter.verdict);
    add("rule", &filter.rule);
    add("patient", &filter.patient);
    add("since", &filter.since);
    add("until", &filter.until);
    if let Some(before) = before {
        parts.push(format!("before={before}"));
    }
    if parts.is_empty() {
        "/".to_string()
    } else {
        format!("/?{}", parts.join("&"))
    }
}

fn list_page(
    filter: &Filter,
    found: &[Listed],
    older: Option<u64>,
    problem: Option<&str>,
) -> Markup {
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let body = html! {
        h1 { "Decisions" }
        form.filters method="get" action="/" aria-label="Filter the decisions" {
            div {
                label for="verdict" { "Verdict" }
                select #verdict name="verdict" {
                    option value="" selected[filter.verdict.is_none()] { "any" }
                    @for v in ["fail", "invalid", "pass"] {
                        option value=(v) selected[filter.verdict.as_deref() == Some(v)] { (v) }
                    }
                }
            }
            div {
                label for="rule" { "Rule that fired" }
                input #rule type="text" name="rule" value=(value(&filter.rule)) placeholder="e.g. session-spacing";
            }
            div {
                label for="patient" { "Patient id" }
                input #patient type="text" name="patient" value=(value(&filter.patient));
            }
            div {
                label for="since" { "From (YYYY-MM-DD)" }
                input #since type="text" name="since" value=(value(&filter.since)) placeholder="YYYY-MM-DD" pattern="[0-9]{4}-[0-9]{2}-[0-9]{2}" size="10";
            }
            div {
                label for="until" { "To (YYYY-MM-DD)" }
                input #until type="text" name="until" value=(value(&filter.until)) placeholder="YYYY-MM-DD" pattern="[0-9]{4}-[0-9]{2}-[0-9]{2}" size="10";
            }
            div { button type="submit" { "Show" } " " a href="/" { "Clear" } }
        }
        @if let Some(problem) = problem {
            p.problem role="alert" { (problem) }
        }
        @if found.is_empty() && problem.is_none() {
            p #no-decisions { "No decision matches these filters." }
        } @else if !found.is_empty() {
            table #decisions {
                caption.visually-hidden { "Decisions, newest first" }
                thead {
                    tr {
                        th scope="col" class="num" { "No." }
                        th scope="col" { "Checked (UTC)" }
                        th scope="col" { "Verdict" }
                        th scope="col" { "File" }
                        th scope="col" { "Plan" }
                        th scope="col" { "Patient" }
                        th scope="col" { "Rules that fired" }
                    }
                }
                tbody {
                    @for d in found {
                        tr.decision data-verdict=(d.verdict) {
                            td.num { a href={ "/decisions/" (d.seq) } { (d.seq) } }
                            td.date { (day_and_time(&d.checked_at)) }
                            td { (verdict_badge(&d.verdict)) }
                            td { a href={ "/decisions/" (d.seq) } { (d.file) } }
                            td { (d.plan_id.as_deref().unwrap_or("—")) }
                            td {
                                @if let Some(patient) = &d.patient_id {
                                    a href={ "/patients/" (segment(patient)) } { (patient) }
                                } @else { "—" }
                            }
                            td {
                                @if d.rules.is_empty() { "none" }
                                @for (i, rule) in d.rules.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    a href={ "/rules/" (segment(rule)) } { (rule) }
                                }
                            }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="Pages of decisions" {
            @if filter.before.is_some() {
                a href=(list_link(filter, None)) { "Newest" }
            }
            @if let Some(older) = older {
                a href=(list_link(filter, Some(older))) rel="next" { "Older decisions" }
            }
        }
    };
    frame("Decisions", true, body)
}

/// "1 error", "2 errors".
fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A verdict as a word in its colour (the word itself carries the meaning).
pub fn verdict_badge(verdict: &str) -> Markup {
    let class = match verdict {
        "pass" => "verdict verdict-pass",
        "fail" => "verdict verdict-fail",
        _ => "verdict verdict-invalid",
    };
    html! { span class=(class) { (verdict) } }
}

/// The decision record with this `seq`, parsed; a page saying why not.
async fn record_of(app: &App, seq: &str) -> Result<(u64, Vec<u8>), Response> {
    let Ok(seq) = seq.parse::<u64>() else {
        return Err(problem_page(
            StatusCode::NOT_FOUND,
            "No such decision",
            "No decision has that number.",
        ));
    };
    let line = with_index(Arc::clone(&app.service), move |_, index| {
        index.record(seq).map_err(|e| e.to_string())
    })
    .await?;
    match line {
        Some(line) => Ok((seq, line)),
        None => Err(problem_page(
            StatusCode::NOT_FOUND,
            "No such decision",
            &format!("The decision log has no decision {seq}."),
        )),
    }
}

/// [`record_of`], the record read as JSON.
async fn parsed_record_of(app: &App, seq: &str) -> Result<(u64, Value), Response> {
    let (seq, line) = record_of(app, seq).await?;
    match serde_json::from_slice::<Value>(&line) {
        Ok(record) => Ok((seq, record)),
        Err(_) => Err(problem_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Unreadable decision",
            "The record is not JSON.",
        )),
    }
}

/// The judged plan's bytes from its outcome folder, when they are still
/// the bytes that were judged; else why not, in words.
pub fn judged_plan(service: &Service, record: &Value) -> Result<Vec<u8>, String> {
    let moved_to = record
        .pointer("/watch/moved_to")
        .and_then(Value::as_str)
        .ok_or("The record does not say where the plan was placed.")?;
    let relative = std::path::Path::new(moved_to);
    if relative.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(format!("The record places the plan outside the root ({moved_to})."));
    }
    let path = service.root.join(relative);
    let meta = std::fs::symlink_metadata(&path)
        .map_err(|_| format!("The plan is no longer at {moved_to}."))?;
    if !meta.is_file() || meta.len() > service.max_plan_bytes {
        return Err(format!("{moved_to} is not the plan file that was judged."));
    }
    let bytes = std::fs::read(&path).map_err(|e| format!("{moved_to} cannot be read: {e}"))?;
    let recorded = record.get("sha256").and_then(Value::as_str);
    if recorded != Some(sha256_hex(&bytes).as_str()) {
        return Err(format!(
            "{moved_to} has changed since it was judged (its sha256 is not the recorded one); it is not shown."
        ));
    }
    Ok(bytes)
}

/// `GET /decisions/{seq}`.
pub async fn one(State(app): State<App>, Path(seq): Path<String>) -> Response {
    let (seq, record) = match parsed_record_of(&app, &seq).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let service = Arc::clone(&app.service);
    let plan = {
        let record = record.clone();
        tokio::task::spawn_blocking(move || judged_plan(&service, &record))
            .await
            .unwrap_or_else(|e| Err(e.to_string()))
    };
    html_page(StatusCode::OK, decision_page(seq, &record, plan))
}

fn text<'a>(record: &'a Value, pointer: &str) -> Option<&'a str> {
    record.pointer(pointer).and_then(Value::as_str)
}

fn decision_page(seq: u64, record: &Value, plan: Result<Vec<u8>, String>) -> Markup {
    let verdict = text(record, "/verdict").unwrap_or("?");
    let findings = record.get("findings").and_then(Value::as_array).cloned().unwrap_or_default();
    let rules = record.get("rules").and_then(Value::as_array).cloned().unwrap_or_default();
    let count =
        |key: &str| record.pointer(&format!("/counts/{key}")).and_then(Value::as_u64).unwrap_or(0);
    let plan_value = plan.as_ref().ok().and_then(|b| serde_json::from_slice::<Value>(b).ok());
    let body = html! {
        h1 { "Decision " (seq) ": " (verdict_badge(verdict)) }
        dl.summary {
            dt { "File" } dd { (text(record, "/file").unwrap_or("—")) }
            dt { "Plan" } dd { (text(record, "/plan_id").unwrap_or("— (not readable)")) }
            dt { "Patient" }
            dd {
                @if let Some(patient) = text(record, "/patient_id") {
                    a href={ "/patients/" (segment(patient)) } { (patient) }
                } @else { "— (not readable)" }
            }
            dt { "Checked (UTC)" } dd { (day_and_time(text(record, "/checked_at").unwrap_or(""))) }
            dt { "Findings that count" }
            dd { (counted(count("errors"), "error", "errors")) ", " (counted(count("warnings"), "warning", "warnings")) ", " (counted(count("infos"), "note", "notes")) "; " (count("acknowledged")) " acknowledged" }
            dt { "Rule set" }
            dd { (text(record, "/rule_set/id").unwrap_or("?")) " " (text(record, "/rule_set/version").unwrap_or("")) }
            dt { "Placed in" } dd.pointer { (text(record, "/watch/moved_to").unwrap_or("—")) }
        }
        p.downloads {
            @if plan.is_ok() {
                a href={ "/decisions/" (seq) "/plan" } download { "Download the plan (JSON)" }
            }
            a href={ "/decisions/" (seq) "/verdict" } download { "Download the verdict (JSON)" }
        }
        h2 { "Findings" }
        @if findings.is_empty() {
            p { "No findings: every rule that ran passed." }
        } @else {
            table #findings {
                thead {
                    tr {
                        th scope="col" { "Rule" }
                        th scope="col" { "Severity" }
                        th scope="col" { "What was found" }
                        th scope="col" { "Observed" }
                        th scope="col" { "Limit" }
                        th scope="col" { "Protocol" }
                        th scope="col" { "In the plan" }
                    }
                }
                tbody {
                    @for finding in &findings {
                        @let rule = text(finding, "/rule").unwrap_or("?");
                        @let severity = text(finding, "/severity").unwrap_or("?");
                        @let path = text(finding, "/path").unwrap_or("");
                        tr {
                            td { a href={ "/rules/" (segment(rule)) } { (rule) } }
                            td { span class={ "sev-" (severity) } { (severity) } }
                            td {
                                (text(finding, "/message").unwrap_or(""))
                                @if let Some(ack) = finding.get("acknowledged") {
                                    br;
                                    em { "Acknowledged by " (text(ack, "/by").unwrap_or("?")) ": " (text(ack, "/reason").unwrap_or("")) }
                                }
                            }
                            td { (text(finding, "/observed").unwrap_or("—")) }
                            td { (text(finding, "/limit").unwrap_or("—")) }
                            td { @if let Some(c) = text(finding, "/citation") { q { (c) } } @else { "—" } }
                            td.pointer {
                                @if path.is_empty() { "the whole plan" }
                                @else if plan_value.is_some() { a href={ "#plan" (segment(path)) } { (path) } }
                                @else { (path) }
                            }
                        }
                    }
                }
            }
        }
        details {
            summary { "Every rule that ran (" (rules.len()) ")" }
            table {
                thead { tr { th scope="col" { "Rule" } th scope="col" { "Outcome" } th scope="col" class="num" { "Findings" } } }
                tbody {
                    @for rule in &rules {
                        tr {
                            td { (text(rule, "/id").unwrap_or("?")) }
                            td { (text(rule, "/outcome").unwrap_or("?")) }
                            td.num { (rule.get("findings").and_then(Value::as_u64).unwrap_or(0)) }
                        }
                    }
                }
            }
        }
        h2 #plan { "The plan" }
        @match (&plan, &plan_value) {
            (Ok(_), Some(value)) => {
                (render_value(value, ""))
                details {
                    summary { "The plan as written (JSON)" }
                    pre { (String::from_utf8_lossy(plan.as_deref().unwrap_or_default())) }
                }
            }
            (Ok(bytes), None) => {
                p { "The plan is not JSON; as written:" }
                pre { (String::from_utf8_lossy(bytes)) }
            }
            (Err(why), _) => { p { (why) } }
        }
    };
    frame(&format!("Decision {seq}"), true, body)
}

/// A JSON value as nested lists, each part with the id of its JSON
/// Pointer (`plan/sessions/0/...`), so a finding links to what it is about.
fn render_value(value: &Value, pointer: &str) -> Markup {
    let id = format!("plan{pointer}");
    match value {
        Value::Object(members) => html! {
            dl.plan id=(id) {
                @for (key, member) in members {
                    @let child = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                    dt { (key) }
                    dd { (render_value(member, &child)) }
                }
            }
        },
        Value::Array(items) => html! {
            ol.plan id=(id) start="0" {
                @for (i, item) in items.iter().enumerate() {
                    li { (render_value(item, &format!("{pointer}/{i}"))) }
                }
            }
        },
        Value::String(text) => html! { span id=(id) { (text) } },
        other => html! { span id=(id) { (other.to_string()) } },
    }
}

/// A file name safe in a `Content-Disposition` header.
fn attachment_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-._".contains(c) { c } else { '_' })
        .collect();
    if safe.is_empty() {
        "plan.json".to_string()
    } else {
        safe
    }
}

fn download(bytes: Vec<u8>, name: &str) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", attachment_name(name));
    (
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /decisions/{seq}/plan`: the judged plan, as it was judged.
pub async fn plan_file(State(app): State<App>, Path(seq): Path<String>) -> Response {
    let (seq, record) = match parsed_record_of(&app, &seq).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let service = Arc::clone(&app.service);
    let name = text(&record, "/file")
        .unwrap_or("plan.json")
        .rsplit('/')
        .next()
        .unwrap_or("plan.json")
        .to_string();
    let found = tokio::task::spawn_blocking(move || judged_plan(&service, &record))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    match found {
        Ok(bytes) => download(bytes, &name),
        Err(why) => {
            problem_page(StatusCode::NOT_FOUND, &format!("The plan of decision {seq}"), &why)
        }
    }
}

/// `GET /decisions/{seq}/verdict`: the decision record, as the log holds it.
pub async fn verdict_file(State(app): State<App>, Path(seq): Path<String>) -> Response {
    match record_of(&app, &seq).await {
        Ok((seq, line)) => download(line, &format!("decision-{seq}.verdict.json")),
        Err(answer) => answer,
    }
}
