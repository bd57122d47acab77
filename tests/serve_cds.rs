//! `embolint serve` as an HL7 CDS Hooks 2.0 `order-sign` service: the
//! shapes of the specification's own examples (discovery, a request whose
//! draft orders carry the plan, cards, feedback), and the JWT that CDS
//! clients sign.

use crate::util::{http, post_json, Site, FAIL_PLAN, PASS_PLAN};
use base64::Engine;
use serde_json::{json, Value};

/// An `order-sign` request as the specification shows it (user, patient,
/// encounter, FHIR server), whose draft order carries `plan` when given.
fn order_sign(hook_instance: &str, plan: Option<&str>) -> Vec<u8> {
    let mut service_request = json!({
        "resourceType": "ServiceRequest",
        "id": "chemoembolization-1",
        "status": "draft",
        "intent": "order",
        "code": { "text": "Chemoembolization of bone metastasis" },
        "subject": { "reference": "Patient/example" }
    });
    if let Some(plan) = plan {
        let data = base64::engine::general_purpose::STANDARD.encode(plan);
        service_request["contained"] = json!([{
            "resourceType": "Binary",
            "id": "plan",
            "contentType": "application/vnd.embolint.plan+json",
            "data": data
        }]);
    }
    serde_json::to_vec(&json!({
        "hookInstance": hook_instance,
        "fhirServer": "http://hooks.smarthealthit.org:9080",
        "hook": "order-sign",
        "context": {
            "userId": "Practitioner/example",
            "patientId": "1288992",
            "encounterId": "89284",
            "draftOrders": {
                "resourceType": "Bundle",
                "entry": [{ "resource": service_request }]
            }
        }
    }))
    .unwrap()
}

#[test]
fn discovery_names_the_order_sign_service() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    let (status, found) = http("GET", &format!("{base}/cds-services"), &[], None);
    assert_eq!(status, 200);
    let services = found["services"].as_array().unwrap();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0]["id"], "embolint-order-sign");
    assert_eq!(services[0]["hook"], "order-sign");
    assert!(services[0]["title"].is_string() && services[0]["description"].is_string());
    drop(daemon);
}

#[test]
fn a_failing_plan_gets_a_critical_card_per_error_with_rule_observed_value_limit_and_citation() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    let url = format!("{base}/cds-services/embolint-order-sign");
    let request = order_sign("d1577c69-dfbe-44ad-ba6d-3e05e953b2ea", Some(FAIL_PLAN));
    let (status, answer) = post_json(&url, &[], &request);
    assert_eq!(status, 200, "{answer}");
    let records = site.records();
    assert_eq!(records.len(), 1, "the plan is recorded");
    let errors: Vec<&Value> = records[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    let cards = answer["cards"].as_array().unwrap();
    let critical: Vec<&Value> = cards.iter().filter(|c| c["indicator"] == "critical").collect();
    assert!(!errors.is_empty());
    assert_eq!(critical.len(), errors.len(), "{answer}");
    for (card, finding) in critical.iter().zip(&errors) {
        assert_eq!(card["source"]["topic"]["code"], finding["rule"]);
        assert!(card["summary"].as_str().unwrap().chars().count() < 140);
        let detail = card["detail"].as_str().unwrap();
        for key in ["observed", "limit", "citation"] {
            assert!(detail.contains(finding[key].as_str().unwrap()), "{key} missing: {detail}");
        }
        let label = card["source"]["label"].as_str().unwrap();
        assert!(label.contains("embolint") && label.contains("chiras-bone-chemoembolization"));
        assert!(uuid_like(card["uuid"].as_str().unwrap()));
    }
    let (status, again) = post_json(&url, &[], &request);
    assert_eq!((status, &again), (200, &answer), "the same hook instance is not recorded twice");
    assert_eq!(site.records().len(), 1);
    drop(daemon);
}

/// Whether `text` has a UUID's shape.
fn uuid_like(text: &str) -> bool {
    let parts: Vec<usize> = text.split('-').map(str::len).collect();
    parts == [8, 4, 4, 4, 12] && text.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

#[test]
fn a_clean_plan_gets_no_card_no_plan_gets_none_and_a_body_that_is_no_cds_request_gets_400() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    let url = format!("{base}/cds-services/embolint-order-sign");
    let clean = include_str!("../examples/plans/pass-sacrum.json");
    let (status, answer) = post_json(&url, &[], &order_sign("clean-1", Some(clean)));
    assert_eq!((status, answer), (200, json!({ "cards": [] })));
    assert_eq!(site.records().len(), 1);
    assert_eq!(site.records()[0]["verdict"], "pass");
    // A pass with an info finding gets its info card, no critical one.
    let (status, answer) = post_json(&url, &[], &order_sign("info-1", Some(PASS_PLAN)));
    assert_eq!(status, 200);
    let indicators: Vec<&str> = answer["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["indicator"].as_str().unwrap())
        .collect();
    assert_eq!(indicators, ["info"]);
    assert_eq!(site.records().len(), 2);
    let (status, answer) = post_json(&url, &[], &order_sign("no-plan-1", None));
    assert_eq!((status, answer), (200, json!({ "cards": [] })));
    assert_eq!(site.records().len(), 2);
    let (status, answer) = post_json(&url, &[], PASS_PLAN.as_bytes());
    assert_eq!(status, 400);
    assert!(answer["error"].as_str().unwrap().contains("CDS Hooks"), "{answer}");
    drop(daemon);
}

/// Ordering systems attach plans in ways the specification's example does
/// not show: a media type with a charset, base64 wrapped by a MIME encoder,
/// the Binary standing in the bundle itself. Each is judged; a plan that
/// cannot be read at all gets a critical card (an error answer could be
/// dropped by the ordering system, letting the order be signed with no
/// warning) and nothing is recorded for it.
#[test]
fn plans_attached_in_other_shapes_are_judged_and_an_unreadable_one_gets_a_critical_card() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    let url = format!("{base}/cds-services/embolint-order-sign");
    let encoded = base64::engine::general_purpose::STANDARD.encode(FAIL_PLAN);
    let wrapped: Vec<String> = encoded
        .as_bytes()
        .chunks(76)
        .map(|line| String::from_utf8(line.to_vec()).unwrap())
        .collect();
    let request = |hook_instance: &str, binary: Value| {
        serde_json::to_vec(&json!({
            "hookInstance": hook_instance,
            "hook": "order-sign",
            "context": {
                "userId": "Practitioner/example",
                "patientId": "1288992",
                "draftOrders": { "resourceType": "Bundle", "entry": [{ "resource": binary }] }
            }
        }))
        .unwrap()
    };
    let standing = json!({
        "resourceType": "Binary",
        "contentType": "application/vnd.embolint.plan+json; charset=UTF-8",
        "data": wrapped.join("\r\n")
    });
    // A hook instance that is no UUID (spaces, another script) is still
    // an order to check, and its retry still finds the first record.
    let odd_instance = "ordre n° 17 — signé";
    let (status, answer) = post_json(&url, &[], &request(odd_instance, standing.clone()));
    let (again, same) = post_json(&url, &[], &request(odd_instance, standing));
    assert_eq!((again, &same), (200, &answer), "the retry gets the first answer");
    assert_eq!(status, 200, "{answer}");
    let records = site.records();
    assert_eq!(records.len(), 1, "the plan is judged and recorded");
    assert_eq!(records[0]["verdict"], "fail");
    assert!(answer["cards"].as_array().unwrap().iter().any(|c| c["indicator"] == "critical"));

    let unreadable = json!({
        "resourceType": "Binary",
        "contentType": "application/vnd.embolint.plan+json",
        "data": "this is not base64!"
    });
    let (status, answer) = post_json(&url, &[], &request("shape-2", unreadable));
    assert_eq!(status, 200, "{answer}");
    let cards = answer["cards"].as_array().unwrap();
    assert_eq!(cards.len(), 1, "{answer}");
    assert_eq!(cards[0]["indicator"], "critical");
    assert!(cards[0]["detail"].as_str().unwrap().contains("base64"), "{answer}");
    assert_eq!(site.records().len(), 1, "no decision for a plan that was not read");
    // The auditor finds the order in the log all the same, and a clinician
    // who signs anyway is recorded against it.
    let events = site.events();
    let said = events.iter().find(|e| e["event"] == "cds-plan-not-checked").expect("an event");
    assert_eq!(said["hook_instance"], "shape-2");
    assert_eq!(said["card"], cards[0]["uuid"]);
    assert!(said["why"].as_str().unwrap().contains("base64"), "{said}");
    let feedback = json!({ "feedback": [{
        "card": cards[0]["uuid"],
        "outcome": "overridden",
        "outcomeTimestamp": "2026-11-05T09:15:00Z"
    }]});
    let (status, body) =
        post_json(&format!("{url}/feedback"), &[], &serde_json::to_vec(&feedback).unwrap());
    assert_eq!(status, 200, "{body}");
    let events = site.events();
    let recorded = events.iter().find(|e| e["event"] == "cds-feedback").expect("feedback");
    assert_eq!(recorded["not_checked_seq"], said["seq"]);
    assert_eq!(recorded["decision_seq"], Value::Null);
    assert_eq!(recorded["outcome"], "overridden");
    assert!(recorded["not_an_acknowledgement"].is_string(), "{recorded}");
    drop(daemon);
}

/// When embolint cannot judge at the moment an order is signed (here its
/// patient history is damaged), an error answer could be dropped by the
/// ordering system and the order signed as if checked: the answer is a
/// critical card saying the plan was not checked, and why.
#[test]
fn a_plan_that_cannot_be_judged_when_the_order_is_signed_gets_a_critical_card_saying_why() {
    let mut site = Site::new();
    let (daemon, _) = site.serve(&[]);
    assert!(daemon.terminate().success());
    let db = site.history_db();
    let size = std::fs::metadata(&db).unwrap().len() as usize;
    std::fs::write(&db, vec![0x5a; size.max(4096)]).unwrap();
    let (daemon, base) = site.serve(&[]);
    let url = format!("{base}/cds-services/embolint-order-sign");
    let (status, answer) = post_json(&url, &[], &order_sign("damaged-1", Some(FAIL_PLAN)));
    assert_eq!(status, 200, "{answer}");
    let cards = answer["cards"].as_array().unwrap();
    assert_eq!(cards.len(), 1, "{answer}");
    assert_eq!(cards[0]["indicator"], "critical");
    assert!(cards[0]["summary"].as_str().unwrap().contains("not checked"), "{answer}");
    assert!(cards[0]["detail"].as_str().unwrap().contains("patient history"), "{answer}");
    assert_eq!(cards[0]["source"]["topic"]["code"], "not-checked", "no rule was checked");
    assert!(site.records().is_empty(), "nothing was judged");
    let events = site.events();
    let said = events.iter().find(|e| e["event"] == "cds-plan-not-checked").expect("an event");
    assert_eq!(said["card"], cards[0]["uuid"]);
    drop(daemon);
}

/// An ordering system that sends one hook instance again with another
/// plan gets a card saying the plan was not judged and why, in words for
/// the clinician signing (not the HTTP service's `Idempotency-Key`).
#[test]
fn a_hook_instance_sent_again_with_another_plan_gets_a_card_saying_it_was_not_judged() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    let url = format!("{base}/cds-services/embolint-order-sign");
    let (status, first) = post_json(&url, &[], &order_sign("reused-1", Some(PASS_PLAN)));
    assert_eq!(status, 200, "{first}");
    let first_cards = first["cards"].as_array().unwrap();
    assert!(first_cards.iter().all(|c| c["indicator"] != "critical"), "a passing plan: {first}");
    let (status, answer) = post_json(&url, &[], &order_sign("reused-1", Some(FAIL_PLAN)));
    assert_eq!(status, 200, "{answer}");
    let cards = answer["cards"].as_array().unwrap();
    assert_eq!(cards.len(), 1, "{answer}");
    assert_eq!(cards[0]["indicator"], "critical");
    assert_eq!(cards[0]["source"]["topic"]["code"], "not-checked");
    let detail = cards[0]["detail"].as_str().unwrap();
    assert!(detail.contains("hook instance"), "{detail}");
    assert!(!detail.contains("Idempotency-Key"), "HTTP words on a clinician's card: {detail}");
    assert_eq!(site.records().len(), 1, "the second plan is not recorded under the same key");
    drop(daemon);
}

#[test]
fn feedback_overridden_is_recorded_naming_the_decision_and_feedback_on_an_unknown_card_is_404() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    let url = format!("{base}/cds-services/embolint-order-sign");
    let (_, answer) = post_json(&url, &[], &order_sign("fb-1", Some(FAIL_PLAN)));
    let card = answer["cards"][0]["uuid"].as_str().unwrap().to_string();
    let feedback = json!({ "feedback": [{
        "card": card,
        "outcome": "overridden",
        "overrideReason": {
            "reason": { "code": "patient-aware", "system": "http://example.org/cds-services/fhir/CodeSystem/override-reasons", "display": "Patient aware of the risk" },
            "userComment": "Discussed at the tumour board"
        },
        "outcomeTimestamp": "2026-11-05T09:15:00Z"
    }]});
    let (status, _) =
        post_json(&format!("{url}/feedback"), &[], &serde_json::to_vec(&feedback).unwrap());
    assert_eq!(status, 200);
    let decision = &site.records()[0];
    let events = site.events();
    let recorded = events.iter().find(|e| e["event"] == "cds-feedback").expect("a feedback record");
    assert_eq!(recorded["decision_seq"], decision["seq"]);
    assert_eq!(recorded["card"], card.as_str());
    assert_eq!(recorded["outcome"], "overridden");
    assert_eq!(recorded["override_reason"]["userComment"], "Discussed at the tumour board");
    assert_eq!(recorded["rule"], answer["cards"][0]["source"]["topic"]["code"]);
    // An error card offers no override reason, and overriding it is no
    // acknowledgement: the finding stands.
    assert!(answer["cards"][0].get("overrideReasons").is_none(), "{answer}");
    assert!(recorded.get("acknowledgement").is_none(), "{recorded}");
    let why = recorded["not_an_acknowledgement"].as_str().unwrap();
    assert!(why.contains("may not be acknowledged"), "{why}");
    let mut unknown = feedback.clone();
    unknown["feedback"][0]["card"] = "8f6b5a1e-0000-4000-8000-000000000000".into();
    let (status, body) =
        post_json(&format!("{url}/feedback"), &[], &serde_json::to_vec(&unknown).unwrap());
    assert_eq!(status, 404, "{body}");
    assert_eq!(site.events().iter().filter(|e| e["event"] == "cds-feedback").count(), 1);
    drop(daemon);
}

/// The card of a warning (a rule a plan may acknowledge) offers embolint's
/// override reasons; overriding it with one of them is recorded as the
/// acknowledgement it amounts to, in the plan's vocabulary (rule, path,
/// reason, by), and the decision stays as it was. An override with a reason
/// of another system is recorded as given, as no acknowledgement.
#[test]
fn an_override_of_an_acknowledgeable_card_is_recorded_as_an_acknowledgement_and_changes_no_decision(
) {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    let url = format!("{base}/cds-services/embolint-order-sign");
    let warned = include_str!("../examples/plans/warn-follow-up.json");
    let (status, answer) = post_json(&url, &[], &order_sign("warn-1", Some(warned)));
    assert_eq!(status, 200, "{answer}");
    let cards = answer["cards"].as_array().unwrap();
    let card = cards.iter().find(|c| c["source"]["topic"]["code"] == "follow-up").expect("a card");
    assert_eq!(card["indicator"], "warning");
    let reasons = card["overrideReasons"].as_array().expect("override reasons");
    assert!(!reasons.is_empty());
    for reason in reasons {
        assert_eq!(reason["system"], "urn:embolint:cds:override-reason");
        assert!(reason["code"].is_string() && reason["display"].is_string(), "{reason}");
    }
    let decision = site.records()[0].clone();
    let finding = decision["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "follow-up")
        .unwrap()
        .clone();

    let override_with = |reason: &Value| {
        let feedback = json!({ "feedback": [{
            "card": card["uuid"],
            "outcome": "overridden",
            "overrideReason": { "reason": reason, "userComment": "  Follow-up at the referring centre  " },
            "outcomeTimestamp": "2026-11-05T09:15:00Z"
        }]});
        let (status, body) =
            post_json(&format!("{url}/feedback"), &[], &serde_json::to_vec(&feedback).unwrap());
        assert_eq!(status, 200, "{body}");
        site.events().into_iter().rfind(|e| e["event"] == "cds-feedback").unwrap()
    };
    let recorded = override_with(&reasons[0]);
    let acknowledgement = &recorded["acknowledgement"];
    assert_eq!(acknowledgement["rule"], "follow-up");
    assert_eq!(acknowledgement["path"], finding["path"]);
    let reason = acknowledgement["reason"].as_str().unwrap();
    let display = reasons[0]["display"].as_str().unwrap();
    assert_eq!(reason, format!("{display}: Follow-up at the referring centre"));
    assert!(acknowledgement["by"].as_str().is_some_and(|by| !by.trim().is_empty()));
    assert!(recorded.get("not_an_acknowledgement").is_none(), "{recorded}");

    let foreign =
        json!({ "system": "http://example.org/override-reasons", "code": "clinically-justified" });
    let recorded = override_with(&foreign);
    assert!(recorded.get("acknowledgement").is_none(), "{recorded}");
    assert_eq!(recorded["override_reason"]["reason"], foreign, "recorded as given");
    assert!(recorded["not_an_acknowledgement"].as_str().unwrap().contains("overrideReasons"));

    // The decision stands as it was judged.
    let records = site.records();
    assert_eq!(records.len(), 1, "feedback adds no decision");
    assert_eq!(records[0], decision);
    drop(daemon);
}

/// A CDS client's key pair (ES384, as CDS Hooks recommends) and its JWK.
struct ClientKey {
    encoding: jsonwebtoken::EncodingKey,
    jwk: Value,
}

fn client_key(kid: &str) -> ClientKey {
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P384_SHA384_FIXED_SIGNING};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref();
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwk = json!({
        "kty": "EC", "crv": "P-384", "kid": kid, "alg": "ES384", "use": "sig",
        "x": b64(&point[1..49]), "y": b64(&point[49..97])
    });
    ClientKey { encoding: jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()), jwk }
}

fn sign(key: &ClientKey, kid: &str, claims: Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES384);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, &claims, &key.encoding).unwrap()
}

#[test]
fn a_valid_jwt_passes_and_expired_wrong_audience_unknown_issuer_bad_signature_or_replayed_get_401()
{
    let mut site = Site::new();
    let ehr = client_key("ehr-1");
    let stranger = client_key("ehr-1");
    let jwks = site.dir.path().join("clients.json");
    let clients = json!({ "clients": [{ "iss": "https://ehr.example.org", "keys": [ehr.jwk] }] });
    std::fs::write(&jwks, serde_json::to_vec(&clients).unwrap()).unwrap();
    let port = crate::util::free_port();
    let public = format!("http://127.0.0.1:{port}");
    let listen = format!("127.0.0.1:{port}");
    let mut daemon = site.spawn_command(
        "serve",
        &["--listen", &listen, "--cds-jwks", jwks.to_str().unwrap()],
        &[],
    );
    daemon.wait_for_log("embolint serve answering HTTP");
    let url = format!("{public}/cds-services/embolint-order-sign");
    let now = jiff::Timestamp::now().as_second();
    let claims = |jti: &str, iss: &str, aud: &str, exp: i64| json!({ "iss": iss, "sub": "client", "aud": aud, "exp": exp, "iat": now, "jti": jti });
    let call = |token: &str| {
        let auth = format!("Bearer {token}");
        post_json(&url, &[("Authorization", auth.as_str())], &order_sign("jwt-1", None)).0
    };
    let iss = "https://ehr.example.org";
    let valid = sign(&ehr, "ehr-1", claims("a", iss, &url, now + 300));
    assert_eq!(call(&valid), 200);
    assert_eq!(call(&valid), 401, "replayed jti");
    assert_eq!(call(&sign(&ehr, "ehr-1", claims("b", iss, &url, now - 120))), 401, "expired");
    let other_aud = format!("{public}/cds-services/other");
    assert_eq!(call(&sign(&ehr, "ehr-1", claims("c", iss, &other_aud, now + 300))), 401, "aud");
    let unknown = claims("d", "https://other.example.org", &url, now + 300);
    assert_eq!(call(&sign(&ehr, "ehr-1", unknown)), 401, "unknown iss");
    assert_eq!(
        call(&sign(&stranger, "ehr-1", claims("e", iss, &url, now + 300))),
        401,
        "signature"
    );
    let (status, _) = post_json(&url, &[], &order_sign("jwt-2", None));
    assert_eq!(status, 401, "no token");
    assert_eq!(call(&sign(&ehr, "ehr-1", claims("f", iss, &url, now + 300))), 200);
    // An unsigned token (`alg` none) with claims that would pass.
    let b64 = |v: Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap())
    };
    let header = b64(json!({ "alg": "none", "typ": "JWT", "kid": "ehr-1" }));
    let unsigned = format!("{header}.{}.", b64(claims("g", iss, &url, now + 300)));
    assert_eq!(call(&unsigned), 401, "alg none");
    // The scheme's name is not case-sensitive (RFC 9110).
    let token = sign(&ehr, "ehr-1", claims("h", iss, &url, now + 300));
    let auth = format!("bearer {token}");
    let (status, _) = post_json(&url, &[("Authorization", &auth)], &order_sign("jwt-3", None));
    assert_eq!(status, 200, "lower-case scheme");
    drop(daemon);
}

#[test]
fn a_jwt_replayed_after_a_kill_9_and_restart_still_gets_401() {
    let mut site = Site::new();
    let ehr = client_key("ehr-1");
    let jwks = site.dir.path().join("clients.json");
    let clients = json!({ "clients": [{ "iss": "https://ehr.example.org", "keys": [ehr.jwk] }] });
    std::fs::write(&jwks, serde_json::to_vec(&clients).unwrap()).unwrap();
    let port = crate::util::free_port();
    let public = format!("http://127.0.0.1:{port}");
    let listen = format!("127.0.0.1:{port}");
    let args = ["--listen", listen.as_str(), "--cds-jwks", jwks.to_str().unwrap()];
    let url = format!("{public}/cds-services/embolint-order-sign");
    let now = jiff::Timestamp::now().as_second();
    let iss = "https://ehr.example.org";
    let token = |jti: &str| {
        let claims = json!({ "iss": iss, "sub": "client", "aud": url, "exp": now + 300, "iat": now, "jti": jti });
        sign(&ehr, "ehr-1", claims)
    };
    let call = |token: &str, hook: &str| {
        let auth = format!("Bearer {token}");
        post_json(&url, &[("Authorization", auth.as_str())], &order_sign(hook, None)).0
    };
    let first = token("once-only");
    let mut daemon = site.spawn_command("serve", &args, &[]);
    daemon.wait_for_log("embolint serve answering HTTP");
    assert_eq!(call(&first, "jwt-restart-1"), 200);
    daemon.kill9();

    let mut daemon = site.spawn_command("serve", &args, &[]);
    daemon.wait_for_log("embolint serve answering HTTP");
    assert_eq!(call(&first, "jwt-restart-2"), 401, "the same jti after a restart");
    assert_eq!(call(&token("another"), "jwt-restart-3"), 200, "a new jti passes");
    drop(daemon);
}

/// The status of a request with `headers` and the origin it allows
/// (`Access-Control-Allow-Origin`), if any.
fn cors(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> (u16, String) {
    let response = crate::util::answer(method, url, headers, body);
    let allowed = response.header("Access-Control-Allow-Origin").unwrap_or_default().to_string();
    (response.status(), allowed)
}

/// The CDS Hooks specification: browser-based CDS clients need CORS. Only
/// the origins given may call from a web page, and only the CDS Hooks
/// service: the API and the review page stay closed to other sites' pages.
#[test]
fn a_browser_based_cds_client_of_an_allowed_origin_may_call_and_no_other_origin_may() {
    let mut site = Site::new();
    let ehr = "https://ehr.example.org";
    let (daemon, base) = site.serve(&["--cds-allow-origin", ehr]);
    let url = format!("{base}/cds-services/embolint-order-sign");
    let preflight = |origin: &str, url: &str| {
        let headers = [
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "authorization, content-type"),
        ];
        cors("OPTIONS", url, &headers, None)
    };
    let (status, allowed) = preflight(ehr, &url);
    assert_eq!((status, allowed.as_str()), (200, ehr), "the preflight carries no JWT");
    assert_eq!(preflight("https://elsewhere.example.com", &url).1, "", "another origin");
    let (status, allowed) =
        preflight(ehr, &format!("{base}/cds-services/embolint-order-sign/feedback"));
    assert_eq!((status, allowed.as_str()), (200, ehr));

    let body = order_sign("cors-1", Some(FAIL_PLAN));
    let headers = [("Origin", ehr), ("Content-Type", "application/json")];
    let (status, allowed) = cors("POST", &url, &headers, Some(&body));
    assert_eq!((status, allowed.as_str()), (200, ehr));
    assert_eq!(site.records().len(), 1, "the plan was judged and recorded");
    let (status, allowed) = cors("GET", &format!("{base}/cds-services"), &[("Origin", ehr)], None);
    assert_eq!((status, allowed.as_str()), (200, ehr), "discovery");
    let headers = [("Origin", ehr), ("Content-Type", "application/json")];
    let (_, allowed) =
        cors("POST", &format!("{base}/v1/check"), &headers, Some(PASS_PLAN.as_bytes()));
    assert_eq!(allowed, "", "the API is not opened to other sites' pages");
    drop(daemon);

    let mut plain = Site::new();
    let (daemon, base) = plain.serve(&[]);
    let url = format!("{base}/cds-services/embolint-order-sign");
    assert_eq!(preflight(ehr, &url).1, "", "no origin is allowed unless given");
    drop(daemon);
}

#[test]
fn an_allowed_origin_that_is_a_wildcard_or_not_an_origin_is_refused_at_start() {
    for given in ["*", "https://ehr.example.org/", "ehr.example.org", "https://ehr.example.org/cds"]
    {
        let mut site = Site::new();
        std::fs::create_dir_all(site.root()).unwrap();
        let port = crate::util::free_port().to_string();
        let listen = format!("127.0.0.1:{port}");
        let daemon = site.spawn_serve(&["--listen", &listen, "--cds-allow-origin", given]);
        let (status, log) = daemon.wait_exit_keeping_log();
        assert_eq!(status.code(), Some(3), "{given}: {log}");
        assert!(log.contains("--cds-allow-origin"), "{given}: {log}");
    }
}
