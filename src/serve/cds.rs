//! HL7 CDS Hooks 2.0: discovery, the `order-sign` service and its feedback.
//!
//! The plan rides in the request's `context.draftOrders` (a FHIR R4
//! Bundle): a draft `ServiceRequest` contains a `Binary` whose
//! `contentType` is [`PLAN_CONTENT_TYPE`] and whose `data` is the plan in
//! base64. Each such plan is recorded as by `POST /v1/plans`, with the hook
//! instance as idempotency key, and answered with one card per finding.
//!
//! A card's `uuid` names its decision record and finding: the record's
//! `seq` and the finding's index, and a tag from the record line's hash, so
//! feedback on a card finds the decision it answers without a table, and a
//! made-up uuid finds none.
//!
//! Overrides speak the language of a plan's acknowledgements: a card whose
//! finding's rule may be acknowledged offers [`override_reasons`]; feedback
//! that overrides such a card with one of them is recorded with the
//! acknowledgement it amounts to (`rule`, `path`, `reason`, `by`). Any other
//! override is recorded as given, with why it is no acknowledgement. Neither
//! changes the decision: the recorded verdict stands, and only a plan that
//! carries the acknowledgement is judged with it.

use super::api::{record, Recorded};
use super::http::{error, read_json_body, App};
use super::service::Service;
use crate::check::sha256_hex;
use crate::rules::RuleSet;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::{json, Value};
use std::sync::Arc;

/// The service's id in discovery.
pub const SERVICE_ID: &str = "embolint-order-sign";

/// The media type of a plan carried in a draft order.
pub const PLAN_CONTENT_TYPE: &str = "application/vnd.embolint.plan+json";

/// Largest CDS Hooks request accepted (a few plans in base64 with FHIR
/// around them).
const MAX_REQUEST_BYTES: u64 = 8 * 1024 * 1024;

/// Longest card summary (CDS Hooks: under 140 characters).
const MAX_SUMMARY_CHARS: usize = 139;

/// `GET /cds-services`.
pub async fn discovery() -> Response {
    Json(json!({
        "services": [{
            "hook": "order-sign",
            "id": SERVICE_ID,
            "title": "embolint: chemoembolization plan safety check",
            "description": "Checks a planned intra-arterial chemoembolization of bone \
                metastases (carried in the draft order as an embolint plan) against the \
                treatment protocol's rules when the order is signed: doses, spinal feeders, \
                particle sizes, session spacing. One card per finding.",
            "prefetch": {},
            "usageRequirements": "The draft ServiceRequest must contain a Binary of content \
                type application/vnd.embolint.plan+json holding the plan."
        }]
    }))
    .into_response()
}

/// `POST /cds-services/embolint-order-sign`.
pub async fn order_sign(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
    let bytes = match read_json_body(&headers, body, MAX_REQUEST_BYTES).await {
        Ok(bytes) => bytes,
        Err(answer) => return answer,
    };
    let request = match HookRequest::read(&bytes) {
        Ok(request) => request,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let plans = request.plans(app.service.max_plan_bytes);
    let mut cards = Vec::new();
    let several = plans.len() > 1;
    for (i, plan) in plans.into_iter().enumerate() {
        let plan = match plan {
            Attached::Plan(bytes) => bytes,
            Attached::Unreadable(why) => {
                let hook = &request.hook_instance;
                cards.push(not_checked(&app.service, hook, i, PLAN_FORMAT, &why).await);
                continue;
            }
        };
        let key = if several {
            format!("{}/{i}", request.hook_instance)
        } else {
            request.hook_instance.clone()
        };
        // A hook instance that cannot be a key as it stands (spaces, other
        // scripts, very long) is keyed by its hash: the same instance still
        // finds its first record, and the order is not refused unchecked.
        let name = super::staging::keyed_name(&key).or_else(|| {
            super::staging::keyed_name(&format!("sha256-{}", sha256_hex(key.as_bytes())))
        });
        let Some(name) = name else {
            return error(StatusCode::BAD_REQUEST, "this hookInstance cannot be used as a key");
        };
        match record(Arc::clone(&app.service), name, plan).await {
            Recorded::Record(line, _) => cards.extend(cards_of(&line, &app.service.rules())),
            Recorded::Refused(refusal) => {
                // An error answer may be dropped by the ordering system and
                // the order signed in silence: a card says it was not checked.
                let (hook, why) = (&request.hook_instance, refusal.said_on_order());
                cards.push(not_checked(&app.service, hook, i, NOT_CHECKED, why).await);
            }
        }
    }
    Json(json!({ "cards": cards })).into_response()
}

/// The parts of a CDS Hooks request embolint reads.
struct HookRequest {
    /// The hook instance: the idempotency key.
    hook_instance: String,
    /// `context.draftOrders`.
    draft_orders: Value,
}

impl HookRequest {
    /// Reads a CDS Hooks `order-sign` request; the error says what is not.
    fn read(bytes: &[u8]) -> Result<HookRequest, String> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| format!("the body is not JSON, so not a CDS Hooks request: {e}"))?;
        let text = |key: &str| value.get(key).and_then(|v| v.as_str());
        let hook = text("hook").ok_or(
            "not a CDS Hooks request: it has no \"hook\" (this service answers \"order-sign\")",
        )?;
        if hook != "order-sign" {
            return Err(format!("this service answers the hook \"order-sign\", not {hook:?}"));
        }
        let hook_instance = text("hookInstance")
            .filter(|h| !h.trim().is_empty())
            .ok_or("not a CDS Hooks request: it has no \"hookInstance\"")?
            .to_string();
        let context = value
            .get("context")
            .filter(|c| c.is_object())
            .ok_or("not a CDS Hooks request: it has no \"context\" object")?;
        let draft_orders = context
            .get("draftOrders")
            .filter(|d| d.get("resourceType").and_then(|r| r.as_str()) == Some("Bundle"))
            .ok_or("an order-sign request's context.draftOrders must be a FHIR Bundle")?
            .clone();
        Ok(HookRequest { hook_instance, draft_orders })
    }

    /// The plans attached to the draft orders, in order: every object of
    /// the bundle whose `contentType` is the plan's media type — a `Binary`
    /// contained in a draft order (the documented form), one standing in
    /// the bundle itself, or an `Attachment` anywhere (a `DocumentReference`,
    /// a `Communication`). Looking everywhere is the safer reading: a plan
    /// put one level off would otherwise be signed with no card at all.
    fn plans(&self, limit: u64) -> Vec<Attached> {
        let mut plans = Vec::new();
        collect_plans(&self.draft_orders, limit, &mut plans);
        plans
    }
}

/// Adds the plans in `value` and everything under it, in a fixed order
/// (arrays in their order, the fields of an object by name).
/// (The request's depth is bounded by the JSON reader, 128 levels.)
fn collect_plans(value: &Value, limit: u64, plans: &mut Vec<Attached>) {
    match value {
        Value::Object(fields) => {
            if carries_a_plan(value) {
                plans.push(attached(value, limit));
            }
            fields.values().for_each(|field| collect_plans(field, limit, plans));
        }
        Value::Array(items) => items.iter().for_each(|item| collect_plans(item, limit, plans)),
        _ => {}
    }
}

/// A plan attached to a draft order.
#[derive(Debug, PartialEq)]
enum Attached {
    /// Its bytes, to be judged and recorded.
    Plan(Vec<u8>),
    /// Why its bytes cannot be had (not judged, no decision: answered with
    /// a critical card and an event, so the order is not signed in silence).
    Unreadable(String),
}

/// Whether `value` (a `Binary` or an `Attachment`) holds a plan: its
/// `contentType` is [`PLAN_CONTENT_TYPE`], compared as media types are
/// (letter case and parameters such as `charset` do not matter).
fn carries_a_plan(value: &Value) -> bool {
    let media = value.get("contentType").and_then(|c| c.as_str()).unwrap_or("");
    let media = media.split(';').next().unwrap_or("").trim();
    media.eq_ignore_ascii_case(PLAN_CONTENT_TYPE)
}

/// The bytes of a plan `Binary`. Line breaks and spaces in its base64
/// (MIME encoders wrap at 76 characters) are skipped.
fn attached(binary: &Value, limit: u64) -> Attached {
    let Some(data) = binary.get("data").and_then(|d| d.as_str()) else {
        let why = if binary.get("url").is_some() {
            "the plan is only referenced (\"url\"), not carried in the request as \"data\" \
             (base64 text); embolint does not fetch it"
        } else {
            "the plan attached has no \"data\" (base64 text)"
        };
        return Attached::Unreadable(why.into());
    };
    let data: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    match base64::engine::general_purpose::STANDARD.decode(data) {
        Ok(bytes) if bytes.len() as u64 > limit => Attached::Unreadable(format!(
            "the plan is {} bytes, larger than the plan size limit of {limit} bytes",
            bytes.len()
        )),
        Ok(bytes) => Attached::Plan(bytes),
        Err(e) => Attached::Unreadable(format!("the plan's base64 data cannot be decoded: {e}")),
    }
}

/// How long an order-sign answer waits for its `cds-plan-not-checked`
/// event to be written; the card is given either way (the event stays
/// queued and is written when the recorder gets to it).
const EVENT_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The card topic of a plan that could not be read (as for an invalid plan).
const PLAN_FORMAT: &str = "plan-format";

/// The card topic of a plan embolint could not judge at the time (no rule
/// of the rule set: nothing was checked).
const NOT_CHECKED: &str = "not-checked";

/// Records, as an event of the decision log, that the plan attached to
/// the order at `index` was not checked (`why`), and returns the critical
/// card that says so (see [`not_checked_card`]). There is no decision, but
/// an auditor finds the order in the log, and feedback on the card (a
/// clinician signing anyway) is recorded against the event.
async fn not_checked(
    service: &Service,
    hook_instance: &str,
    index: usize,
    topic: &str,
    why: &str,
) -> Value {
    tracing::warn!(
        hook_instance,
        "a plan attached to an order-sign request was not checked ({why}): answered with a \
         critical card, and an event in the decision log"
    );
    let card = not_checked_card(hook_instance, index, topic, why);
    let event = json!({
        "event": super::index::NOT_CHECKED_EVENT,
        "hook_instance": hook_instance,
        "plan_index": index,
        "card": card["uuid"],
        "topic": topic,
        "why": why,
        "at": jiff::Timestamp::now(),
    });
    match serde_json::to_vec(&event) {
        Ok(line) => match tokio::time::timeout(EVENT_WAIT, service.record_event(line)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => tracing::error!(
                hook_instance,
                "the event for a plan that was not checked could not be recorded"
            ),
            Err(_) => tracing::warn!(
                hook_instance,
                "the event for a plan that was not checked is not written yet; the card is given"
            ),
        },
        Err(error) => tracing::error!(%error, "cannot write the event for a plan not checked"),
    }
    card
}

/// The critical card for a plan attached to the order that was not
/// checked (`why`; `topic`: [`PLAN_FORMAT`] or [`NOT_CHECKED`]). Its uuid
/// names no decision record (`seq` 0): it is the same for the same hook
/// instance and plan, and found again through the event [`not_checked`]
/// writes.
fn not_checked_card(hook_instance: &str, index: usize, topic: &str, why: &str) -> Value {
    let tag = sha256_hex(format!("{hook_instance}/{index}").as_bytes());
    json!({
        "uuid": card_uuid(0, index, &tag),
        "summary": "The embolization plan attached to this order was not checked",
        "indicator": "critical",
        "detail": format!(
            "embolint cannot show that the plan attached to this order meets the \
             protocol's rules: {why}. Check the plan with embolint before signing (sign \
             again later, or attach it again)."
        ),
        "source": {
            "label": format!("embolint {}", env!("CARGO_PKG_VERSION")),
            "topic": { "code": topic, "display": topic }
        },
    })
}

/// The cards of one decision record: one per finding that counts; one
/// critical card listing the problems of an invalid plan.
fn cards_of(line: &[u8], rules: &RuleSet) -> Vec<Value> {
    let Ok(record) = serde_json::from_slice::<Value>(line) else {
        // Never silence: a record that cannot be read back says so.
        let why = "the decision on it was recorded but cannot be read back, so its \
                   findings cannot be shown; look it up in the decision log";
        return vec![not_checked_card(&sha256_hex(line), 0, NOT_CHECKED, why)];
    };
    let seq = record.get("seq").and_then(|s| s.as_u64()).unwrap_or(0);
    let tag = sha256_hex(line);
    let text = |v: &Value, key: &str| v.get(key).and_then(|s| s.as_str()).unwrap_or("").to_string();
    let rule_set = record.get("rule_set").cloned().unwrap_or(Value::Null);
    let label = format!(
        "embolint {} — rule set {} {}",
        text(record.get("checker").unwrap_or(&Value::Null), "version"),
        text(&rule_set, "id"),
        text(&rule_set, "version")
    );
    let findings: Vec<&Value> =
        record.get("findings").and_then(|f| f.as_array()).into_iter().flatten().collect();
    if text(&record, "verdict") == "invalid" {
        let problems: Vec<String> = findings
            .iter()
            .map(|f| format!("- `{}`: {}", text(f, "path"), text(f, "message")))
            .collect();
        return vec![json!({
            "uuid": card_uuid(seq, 0, &tag),
            "summary": "The embolization plan cannot be read: it was not checked",
            "indicator": "critical",
            "detail": format!("The plan is not a readable embolint plan, so none of the protocol's rules could be checked:\n\n{}", problems.join("\n")),
            "source": { "label": label, "topic": { "code": "plan-format", "display": "plan-format" } },
        })];
    }
    let mut cards = Vec::new();
    for (i, finding) in findings.into_iter().enumerate() {
        if finding.get("acknowledged").is_some() {
            continue;
        }
        let rule = text(finding, "rule");
        let indicator = match text(finding, "severity").as_str() {
            "error" => "critical",
            "warning" => "warning",
            _ => "info",
        };
        let mut detail = text(finding, "message");
        for (title, key) in [("Observed", "observed"), ("Limit", "limit")] {
            if let Some(value) = finding.get(key).and_then(|v| v.as_str()) {
                detail.push_str(&format!("\n\n**{title}:** {value}"));
            }
        }
        if let Some(citation) = finding.get("citation").and_then(|v| v.as_str()) {
            detail.push_str(&format!("\n\n**Protocol:**\n\n> {citation}"));
        }
        let mut card = json!({
            "uuid": card_uuid(seq, i, &tag),
            "summary": summary(&rule, &text(finding, "message")),
            "indicator": indicator,
            "detail": detail,
            "source": { "label": label, "topic": { "code": rule, "display": rule } },
        });
        if acknowledgeable(rules, &rule) {
            card["overrideReasons"] = override_reasons();
        }
        cards.push(card);
    }
    cards
}

/// The code system of embolint's override reasons.
pub const OVERRIDE_REASON_SYSTEM: &str = "urn:embolint:cds:override-reason";

/// The reasons a clinician may give for overriding a card whose finding may
/// be acknowledged: each, with the comment, is the acknowledgement's reason.
const OVERRIDE_REASONS: [(&str, &str); 2] = [
    ("clinically-justified", "Accepted: clinically justified for this patient"),
    ("multidisciplinary-decision", "Accepted: decided by the multidisciplinary team"),
];

/// [`OVERRIDE_REASONS`] as CDS Hooks codings.
fn override_reasons() -> Value {
    OVERRIDE_REASONS
        .iter()
        .map(|(code, display)| {
            json!({ "system": OVERRIDE_REASON_SYSTEM, "code": code, "display": display })
        })
        .collect()
}

/// Whether the rule set in force lets a plan acknowledge this rule's
/// findings (an unknown rule may not be).
fn acknowledgeable(rules: &RuleSet, rule: &str) -> bool {
    rules.rule(rule).is_some_and(|rule| rule.acknowledgeable)
}

/// What an `overridden` feedback entry amounts to in the vocabulary of
/// acknowledgements: `Ok` the acknowledgement, `Err` why it is none.
fn as_acknowledgement(
    rules: &RuleSet,
    rule: &str,
    path: &str,
    override_reason: Option<&Value>,
) -> Result<Value, String> {
    if !acknowledgeable(rules, rule) {
        return Err(format!(
            "the rule {rule} may not be acknowledged: its finding stands whatever the override"
        ));
    }
    let reason = override_reason.and_then(|r| r.get("reason"));
    let code = reason.and_then(|r| r.get("code")).and_then(Value::as_str);
    let system = reason.and_then(|r| r.get("system")).and_then(Value::as_str);
    let known = OVERRIDE_REASONS.iter().find(|(c, _)| Some(*c) == code);
    let Some((_, display)) = known.filter(|_| system == Some(OVERRIDE_REASON_SYSTEM)) else {
        return Err("the override gives none of the card's overrideReasons".to_string());
    };
    let comment = override_reason
        .and_then(|r| r.get("userComment"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let reason = match comment {
        Some(comment) => format!("{display}: {comment}"),
        None => display.to_string(),
    };
    Ok(json!({
        "rule": rule,
        "path": path,
        "reason": reason,
        "by": "the ordering system's user (CDS Hooks feedback does not name them)",
    }))
}

/// A summary under 140 characters: the rule and the start of its message.
fn summary(rule: &str, message: &str) -> String {
    let whole = format!("{rule}: {message}");
    if whole.chars().count() <= MAX_SUMMARY_CHARS {
        return whole;
    }
    let mut short: String = whole.chars().take(MAX_SUMMARY_CHARS - 1).collect();
    short.push('…');
    short
}

/// The uuid of the card of finding `index` of record `seq` (a UUID of
/// version 8: `seq` in 48 bits, the index in 12, a tag from the record's
/// line hash in the rest).
fn card_uuid(seq: u64, index: usize, line_sha256: &str) -> String {
    let mut bytes = [0u8; 16];
    for (i, b) in seq.to_be_bytes().iter().skip(2).enumerate() {
        if let Some(slot) = bytes.get_mut(i) {
            *slot = *b;
        }
    }
    let index = index.min(0xfff) as u16;
    bytes[6] = 0x80 | ((index >> 8) as u8 & 0x0f);
    bytes[7] = (index & 0xff) as u8;
    let tag = line_sha256.as_bytes().chunks(2).map(|pair| {
        std::str::from_utf8(pair).ok().and_then(|hex| u8::from_str_radix(hex, 16).ok())
    });
    for (slot, byte) in bytes.iter_mut().skip(8).zip(tag) {
        *slot = byte.unwrap_or(0);
    }
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    uuid::Uuid::from_bytes(bytes).hyphenated().to_string()
}

/// The record `seq` and finding index a card uuid names, if it is one of
/// this service's cards (its tag matches the record).
fn card_of(service: &Service, card: &str) -> Option<(u64, usize, Value, String)> {
    let bytes = *uuid::Uuid::parse_str(card).ok()?.as_bytes();
    let mut seq_bytes = [0u8; 8];
    seq_bytes.get_mut(2..)?.copy_from_slice(bytes.get(..6)?);
    let seq = u64::from_be_bytes(seq_bytes);
    let index = (usize::from(bytes[6] & 0x0f) << 8) | usize::from(bytes[7]);
    let line = service.recorded().index.record(seq).ok()??;
    if card_uuid(seq, index, &sha256_hex(&line)) != card {
        return None;
    }
    let record: Value = serde_json::from_slice(&line).ok()?;
    let rule = if record.get("verdict").and_then(|v| v.as_str()) == Some("invalid") {
        Value::from("plan-format")
    } else {
        record.pointer(&format!("/findings/{index}/rule"))?.clone()
    };
    let path = record.pointer(&format!("/findings/{index}/path")).and_then(Value::as_str);
    Some((seq, index, rule, path.unwrap_or("").to_string()))
}

/// `POST /cds-services/embolint-order-sign/feedback`: each entry becomes a
/// record of its own in the decision log, naming the decision it answers.
pub async fn feedback(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
    let bytes = match read_json_body(&headers, body, MAX_REQUEST_BYTES).await {
        Ok(bytes) => bytes,
        Err(answer) => return answer,
    };
    let value: Value = match serde_json::from_slice(&bytes) {
        Ok(value) => value,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("the body is not JSON: {e}")),
    };
    let Some(entries) = value.get("feedback").and_then(|f| f.as_array()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "a CDS Hooks feedback body has a \"feedback\" array",
        );
    };
    let mut lines = Vec::new();
    for entry in entries {
        let card = entry.get("card").and_then(|c| c.as_str()).unwrap_or("");
        let outcome = entry.get("outcome").and_then(|o| o.as_str()).unwrap_or("");
        if outcome != "accepted" && outcome != "overridden" {
            return error(
                StatusCode::BAD_REQUEST,
                "a feedback outcome is \"accepted\" or \"overridden\"",
            );
        }
        let mut line = json!({
            "event": "cds-feedback",
            "card": card,
            "outcome": outcome,
            "override_reason": entry.get("overrideReason"),
            "outcome_timestamp": entry.get("outcomeTimestamp"),
            "at": jiff::Timestamp::now(),
        });
        let overridden = outcome == "overridden";
        if let Some((seq, index, rule, path)) = card_of(&app.service, card) {
            line["decision_seq"] = seq.into();
            line["finding"] = index.into();
            let acknowledgement = overridden.then(|| {
                let rule_id = rule.as_str().unwrap_or("");
                as_acknowledgement(
                    &app.service.rules(),
                    rule_id,
                    &path,
                    entry.get("overrideReason"),
                )
            });
            line["rule"] = rule;
            match acknowledgement {
                Some(Ok(acknowledgement)) => line["acknowledgement"] = acknowledgement,
                Some(Err(why)) => line["not_an_acknowledgement"] = why.into(),
                None => {}
            }
        } else if let Some(event_seq) = app.service.recorded().index.not_checked_card(card) {
            // A card for a plan that was not checked: no decision, no rule.
            line["decision_seq"] = Value::Null;
            line["not_checked_seq"] = event_seq.into();
            line["rule"] = Value::Null;
            if overridden {
                line["not_an_acknowledgement"] = "the plan attached to the order was not \
                    checked, so there is no finding to acknowledge"
                    .into();
            }
        } else {
            return error(
                StatusCode::NOT_FOUND,
                format!("no card {card:?} was given by this service"),
            );
        }
        match serde_json::to_vec(&line) {
            Ok(line) => lines.push(line),
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    }
    let waits: Vec<_> = lines.into_iter().map(|line| app.service.record_event(line)).collect();
    for wait in waits {
        if wait.await.is_err() {
            return error(StatusCode::SERVICE_UNAVAILABLE, "the feedback could not be recorded");
        }
    }
    Json(json!({})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(draft_orders: Value) -> HookRequest {
        HookRequest { hook_instance: "h-1".into(), draft_orders }
    }

    fn binary(content_type: &str, data: Value) -> Value {
        json!({ "resourceType": "Binary", "contentType": content_type, "data": data })
    }

    fn bundle(resources: Vec<Value>) -> Value {
        let entry: Vec<Value> = resources.into_iter().map(|r| json!({ "resource": r })).collect();
        json!({ "resourceType": "Bundle", "entry": entry })
    }

    fn service_request(contained: Vec<Value>) -> Value {
        json!({ "resourceType": "ServiceRequest", "status": "draft", "contained": contained })
    }

    #[test]
    fn the_media_type_is_compared_without_letter_case_or_parameters() {
        let data = json!("e30="); // "{}"
        for content_type in [
            "application/vnd.embolint.plan+json",
            "Application/VND.Embolint.Plan+JSON",
            "application/vnd.embolint.plan+json; charset=utf-8",
        ] {
            let orders = bundle(vec![service_request(vec![binary(content_type, data.clone())])]);
            assert_eq!(
                request(orders).plans(1000),
                [Attached::Plan(b"{}".to_vec())],
                "{content_type}"
            );
        }
        let other = bundle(vec![service_request(vec![binary("application/json", data)])]);
        assert_eq!(request(other).plans(1000), []);
    }

    #[test]
    fn a_plan_standing_in_the_bundle_or_contained_in_another_order_is_found() {
        let plan = binary(PLAN_CONTENT_TYPE, json!("e30="));
        let medication =
            json!({ "resourceType": "MedicationRequest", "contained": [plan.clone()] });
        let orders = bundle(vec![plan, medication]);
        assert_eq!(request(orders).plans(1000).len(), 2);
    }

    #[test]
    fn a_plan_in_an_attachment_anywhere_is_found_and_one_only_referenced_is_said_so() {
        let attachment = json!({ "contentType": PLAN_CONTENT_TYPE, "data": "e30=" });
        let document = json!({
            "resourceType": "DocumentReference",
            "status": "current",
            "content": [{ "attachment": attachment }]
        });
        let linked = json!({ "contentType": PLAN_CONTENT_TYPE, "url": "https://pacs.example/p" });
        let communication = json!({
            "resourceType": "Communication",
            "payload": [{ "contentAttachment": linked }]
        });
        let orders = bundle(vec![service_request(vec![document, communication])]);
        let plans = request(orders).plans(1000);
        assert_eq!(plans.len(), 2, "{plans:?}");
        assert!(plans.contains(&Attached::Plan(b"{}".to_vec())), "{plans:?}");
        let fetched = |p: &Attached| matches!(p, Attached::Unreadable(why) if why.contains("url"));
        assert!(plans.iter().any(fetched), "{plans:?}");
    }

    #[test]
    fn wrapped_base64_is_read_and_unreadable_or_oversized_data_is_said_so() {
        let wrapped = binary(PLAN_CONTENT_TYPE, json!("eyJh\r\nIjox\nfQ=="));
        let bad = binary(PLAN_CONTENT_TYPE, json!("not base64!"));
        let missing = json!({ "resourceType": "Binary", "contentType": PLAN_CONTENT_TYPE });
        let large = binary(PLAN_CONTENT_TYPE, json!("eyJhIjoxfQ=="));
        let orders = bundle(vec![service_request(vec![wrapped, bad, missing])]);
        let plans = request(orders).plans(1000);
        assert_eq!(plans.first(), Some(&Attached::Plan(br#"{"a":1}"#.to_vec())));
        assert!(matches!(&plans[1], Attached::Unreadable(why) if why.contains("base64")));
        assert!(matches!(&plans[2], Attached::Unreadable(why) if why.contains("no \"data\"")));
        let plans = request(bundle(vec![large])).plans(4);
        assert!(matches!(&plans[0], Attached::Unreadable(why) if why.contains("size limit")));
    }

    #[test]
    fn the_card_of_a_plan_not_checked_is_critical_and_short() {
        let why = "the plan's base64 data cannot be decoded";
        let card = not_checked_card("h-1", 0, PLAN_FORMAT, why);
        assert_eq!(card["indicator"], "critical");
        assert!(card["summary"].as_str().unwrap_or("").chars().count() < 140);
        assert!(card["detail"].as_str().unwrap_or("").contains("base64"));
        assert_eq!(card["source"]["topic"]["code"], "plan-format");
    }
}
