//! The review page over HTTP (no browser): the headers every page carries,
//! the sign-in and its cookie, the downloads, paging, and what is refused.

use crate::util::{self, fail_plan, http, plan_on, Site};
use std::time::Duration;

/// A page: status, headers we look at, body.
struct Page {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Page {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// GETs a page without following redirects.
fn get(url: &str, cookie: Option<&str>) -> Page {
    let agent = ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(60)).build();
    let mut request = agent.get(url);
    if let Some(cookie) = cookie {
        request = request.set("Cookie", cookie);
    }
    page_of(request.call(), &format!("GET {url}"))
}

/// POSTs the sign-in form.
fn sign_in(base: &str, token: &str) -> Page {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    page_of(agent.post(&format!("{base}/sign-in")).send_form(&[("token", token)]), "sign-in")
}

/// The page a request got, whatever its status (`what` names the request
/// if it got none).
fn page_of(answer: Result<ureq::Response, ureq::Error>, what: &str) -> Page {
    let response = match answer {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("{what}: {error}"),
    };
    let headers = response
        .headers_names()
        .iter()
        .flat_map(|n| response.all(n).into_iter().map(move |v| (n.clone(), v.to_string())))
        .collect();
    Page { status: response.status(), headers, body: response.into_string().unwrap() }
}

#[test]
fn every_review_page_carries_a_content_security_policy_and_is_not_cached() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    site.drop_plan("a.json", &plan_on("PLN-A", "PAT-1", "2026-11-05"));
    site.wait_for_records(1);
    util::wait_until("placed", || site.every_record_placed());
    for path in
        ["/", "/decisions/1", "/patients/PAT-1", "/rules", "/rules/session-spacing", "/sign-in"]
    {
        let page = get(&format!("{base}{path}"), None);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        let csp = page.header("content-security-policy").unwrap_or_default();
        assert!(csp.starts_with("default-src 'self'"), "{path}: {csp}");
        assert_eq!(page.header("cache-control"), Some("no-store"), "{path}");
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"), "{path}");
        assert!(!page.body.contains("<script"), "{path} carries a script");
        assert!(
            !page.body.contains("http://") && !page.body.contains("https://"),
            "{path} links elsewhere"
        );
    }
    let css = get(&format!("{base}/review.css"), None);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    drop(daemon);
}

#[test]
fn the_downloads_are_the_judged_plan_and_its_record_as_written_and_an_altered_plan_is_not_served() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    let plan = fail_plan("PLN-F");
    site.drop_plan("f.json", &plan);
    site.wait_for_records(1);
    util::wait_until("placed", || site.every_record_placed());
    let record = site.records().remove(0);
    let page = get(&format!("{base}/decisions/1/plan"), None);
    assert_eq!((page.status, page.body.as_str()), (200, plan.as_str()));
    assert_eq!(page.header("content-disposition"), Some("attachment; filename=\"f.json\""));
    let verdict = get(&format!("{base}/decisions/1/verdict"), None);
    let log = std::fs::read_to_string(site.root().join("log/decisions.jsonl")).unwrap();
    assert_eq!(verdict.body, log.lines().next().unwrap());
    // The plan in failed/ is altered: it is no longer the plan judged.
    let moved_to = record["watch"]["moved_to"].as_str().unwrap();
    std::fs::write(site.root().join(moved_to), plan.replace("PAT-0007", "PAT-0008")).unwrap();
    let page = get(&format!("{base}/decisions/1/plan"), None);
    assert_eq!(page.status, 404);
    assert!(page.body.contains("has changed since it was judged"), "{}", page.body);
    let decision = get(&format!("{base}/decisions/1"), None);
    assert!(decision.body.contains("has changed since it was judged"));
    assert!(!decision.body.contains("PAT-0008"), "the altered plan is not shown");
    for missing in [
        "/decisions/99",
        "/decisions/x",
        "/decisions/99/plan",
        "/patients/nobody",
        "/rules/no-such-rule",
    ] {
        assert_eq!(get(&format!("{base}{missing}"), None).status, 404, "{missing}");
    }
    drop(daemon);
}

#[test]
fn the_list_pages_by_fifty_and_keeps_its_filters_on_the_next_page() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    for i in 0..53 {
        site.write(&format!("p{i:02}.json"), &fail_plan(&format!("PLN-{i:02}")));
    }
    site.wait_for_records(53);
    let first = get(&format!("{base}/?verdict=fail&patient=PAT-0007"), None);
    assert_eq!(first.body.matches("<tr class=\"decision\"").count(), 50);
    let next = first.body.split("href=\"").find(|s| s.starts_with("/?verdict=fail")).unwrap();
    let next = next.split('"').next().unwrap().replace("&amp;", "&");
    assert!(next.contains("patient=PAT-0007") && next.contains("before="), "{next}");
    let second = get(&format!("{base}{next}"), None);
    assert_eq!(second.body.matches("<tr class=\"decision\"").count(), 3);
    assert!(!second.body.contains("Older decisions"));
    let bad = get(&format!("{base}/?since=5%20Nov"), None);
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("is not a date written YYYY-MM-DD"));
    // A mistyped filter is said, not ignored (which would show everything).
    let typo = get(&format!("{base}/?verdict=fail&patinet=PAT-0007"), None);
    assert_eq!(typo.status, 400);
    assert!(typo.body.contains("&quot;patinet&quot; is not a filter"), "{}", typo.body);
    // A filter given twice is refused on the page itself, in words.
    let twice = get(&format!("{base}/?patient=PAT-0007&patient=PAT-0008"), None);
    assert_eq!(twice.status, 400);
    assert!(
        twice.body.contains("<html") && twice.body.contains("more than once"),
        "{}",
        twice.body
    );
    // A misspelt rule would list nothing, read as "never fired".
    let misspelt = get(&format!("{base}/?rule=artery-dose-maximum"), None);
    assert_eq!(misspelt.status, 400);
    assert!(misspelt.body.contains("Check its spelling"), "{}", misspelt.body);
    let never_fired = get(&format!("{base}/?rule=spinal-feeder-excluded"), None);
    assert_eq!(never_fired.status, 200, "{}", never_fired.body);
    drop(daemon);
}

#[test]
fn off_loopback_the_page_needs_the_token_and_its_cookie_is_secure_httponly_and_strict() {
    let mut site = Site::new();
    let token = "a-long-random-service-token-0123456789";
    let token_file = site.dir.path().join("token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let port = util::free_port();
    let listen = format!("0.0.0.0:{port}");
    let mut daemon =
        site.spawn_serve(&["--listen", &listen, "--token-file", token_file.to_str().unwrap()]);
    daemon.wait_for_log("embolint serve answering HTTP");
    site.drop_plan("a.json", &plan_on("PLN-A", "PAT-SECRET", "2026-11-05"));
    site.wait_for_records(1);
    let base = format!("http://127.0.0.1:{port}");
    for path in ["/", "/patients/PAT-SECRET", "/decisions/1", "/decisions/1/verdict", "/rules"] {
        let page = get(&format!("{base}{path}"), None);
        assert_eq!((page.status, page.header("location")), (303, Some("/sign-in")), "{path}");
        assert!(!page.body.contains("PAT-SECRET"));
        let forged = get(&format!("{base}{path}"), Some(&format!("embolint_review={token}")));
        assert_eq!(forged.status, 303, "the token itself is not the cookie");
    }
    assert_eq!(sign_in(&base, "wrong-token-wrong-token").status, 401);
    let signed = sign_in(&base, token);
    assert_eq!(signed.status, 303);
    let cookie = signed.header("set-cookie").unwrap().to_string();
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains(token), "the cookie is not the token");
    let pair = cookie.split(';').next().unwrap();
    let page = get(&format!("{base}/patients/PAT-SECRET"), Some(pair));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("PAT-SECRET"));
    // The cookie opens the page, not the API.
    let (status, _) = http("GET", &format!("{base}/v1/decisions"), &[("Cookie", pair)], None);
    assert_eq!(status, 401);
    drop(daemon);
}

/// Markup a plan could smuggle in, each to be shown as text only.
const HOSTILE: [&str; 4] = ["<script", "<img", "<b>", "<i>"];

/// Asserts that no hostile markup reached `page` as markup.
fn assert_inert(what: &str, page: &Page) {
    for tag in HOSTILE {
        assert!(!page.body.contains(tag), "{what} carries {tag} as markup:\n{}", page.body);
    }
}

#[test]
fn everything_a_plan_brings_is_shown_as_text_file_names_patient_ids_and_free_text() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    let patient = r#""><script>alert(1)</script>' & <b>P/1"#;
    let plan_id = r#"<img src=x onerror=alert(2)>"#;
    let reason = r#"</td></tr></table><script>alert(3)</script>"#;
    let by = r#"Dr "Quote" O'Hara & <b>co</b>"#;
    let mut plan: serde_json::Value =
        serde_json::from_str(&plan_on("PLN", "x", "2026-11-05")).unwrap();
    plan["plan_id"] = plan_id.into();
    plan["patient"]["id"] = patient.into();
    plan["acknowledgements"] =
        serde_json::json!([{ "rule": "course-length", "reason": reason, "by": by }]);
    let file = r#"q"<i>x&'.json"#;
    site.drop_plan(file, &plan.to_string());
    site.wait_for_records(1);
    util::wait_until("placed", || site.every_record_placed());
    let record = site.records().remove(0);
    assert_eq!(record["patient_id"], patient, "{record}");

    let list = get(&format!("{base}/"), None);
    assert_eq!(list.status, 200);
    assert_inert("the list", &list);
    assert!(list.body.contains("&lt;img src=x onerror=alert(2)&gt;"), "{}", list.body);
    assert!(list.body.contains("q&quot;&lt;i&gt;x&amp;'.json"), "{}", list.body);
    // The patient's link is one path segment, whatever the id holds.
    let link = format!("/patients/{}", percent(patient));
    assert!(list.body.contains(&format!("href=\"{link}\"")), "{}", list.body);

    let decision = get(&format!("{base}/decisions/1"), None);
    assert_eq!(decision.status, 200);
    assert_inert("the decision", &decision);
    assert!(decision.body.contains("&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;"));
    assert!(decision.body.contains("Dr &quot;Quote&quot; O'Hara &amp; &lt;b&gt;co&lt;/b&gt;"));
    assert!(decision.body.contains("Acknowledged by"), "the acknowledgement is shown");

    let patient_page = get(&format!("{base}{link}"), None);
    assert_eq!(patient_page.status, 200, "{}", patient_page.body);
    assert_inert("the patient's page", &patient_page);
    assert!(patient_page.body.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));

    // What is typed into the filters comes back in the form as text.
    let filtered = get(&format!("{base}/?patient={}&rule=%3Cb%3E", percent(patient)), None);
    assert_inert("the filtered list", &filtered);
    assert_eq!(filtered.body.matches("<tr class=\"decision\"").count(), 0, "no rule <b> fired");
    let by_patient = get(&format!("{base}/?patient={}", percent(patient)), None);
    assert_eq!(by_patient.body.matches("<tr class=\"decision\"").count(), 1);
    for refused in [
        format!("/?since={}", percent("<script>")),
        format!("/rules/{}", percent("<script>x")),
        format!("/patients/{}", percent("<img src=x onerror=y>")),
    ] {
        let page = get(&format!("{base}{refused}"), None);
        assert!(page.status >= 400, "{refused}");
        assert_inert(&refused, &page);
        assert!(page.body.contains("&lt;"), "{refused}: what was asked is shown as text");
    }
    // The download's name cannot break out of its header.
    let download = get(&format!("{base}/decisions/1/plan"), None);
    assert_eq!(
        download.header("content-disposition"),
        Some("attachment; filename=\"q__i_x__.json\"")
    );
    drop(daemon);
}

/// Every byte but letters, digits and `-._~` percent-encoded.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The rows of the patient page's table of sessions.
fn session_rows(page: &Page) -> usize {
    let table = page.body.split("id=\"sessions\"").nth(1).unwrap_or_default();
    let table = table.split("</table>").next().unwrap_or_default();
    table.split("<tbody>").nth(1).unwrap_or_default().matches("<tr").count()
}

#[test]
fn the_patient_page_shows_a_session_recorded_after_it_was_first_opened() {
    let mut site = Site::new();
    let (daemon, base) = site.serve(&[]);
    site.drop_plan("a.json", &plan_on("PLN-A", "PAT-1", "2026-11-05"));
    site.wait_for_records(1);
    util::wait_until("placed", || site.every_record_placed());
    let first = get(&format!("{base}/patients/PAT-1"), None);
    assert_eq!(session_rows(&first), 1, "{}", first.body);
    site.drop_plan("b.json", &plan_on("PLN-B", "PAT-1", "2027-01-20"));
    site.wait_for_records(2);
    util::wait_until("placed", || site.every_record_placed());
    assert_eq!(site.records()[1]["verdict"], "pass");
    let second = get(&format!("{base}/patients/PAT-1"), None);
    assert_eq!(session_rows(&second), 2, "the history is read as it is now:\n{}", second.body);
    assert!(second.body.contains("2027-01-20"));
    drop(daemon);
}
