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
    let response = match request.call() {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("GET {url}: {error}"),
    };
    let headers = response
        .headers_names()
        .iter()
        .flat_map(|n| response.all(n).into_iter().map(move |v| (n.clone(), v.to_string())))
        .collect();
    Page { status: response.status(), headers, body: response.into_string().unwrap() }
}

/// POSTs the sign-in form.
fn sign_in(base: &str, token: &str) -> Page {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let response = match agent.post(&format!("{base}/sign-in")).send_form(&[("token", token)]) {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("sign-in: {error}"),
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
