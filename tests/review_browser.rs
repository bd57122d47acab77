//! The review page in a real browser: Debian's chromium, headless, driven
//! through chromedriver (WebDriver) — the page as people see it, mostly
//! with JavaScript switched off, as the page must work without it.
//! Screenshots of each page are saved in `target/screenshots/`.
//!
//! `scripts/test` installs `chromium` and `chromium-driver` with apt-get
//! when they are missing; without them these tests fail and say so.

use crate::util::{self, fail_plan, plan_on, Site};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver and one headless Chromium session.
struct Browser {
    driver: Child,
    client: Option<Client>,
    runtime: tokio::runtime::Runtime,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and a fresh Chromium profile;
    /// JavaScript on or off.
    fn start(javascript: bool) -> Browser {
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
            "the browser tests need Debian's chromium and chromium-driver: run scripts/test \
             (it installs them with apt-get), or apt-get install -y chromium chromium-driver"
        );
        let port = util::free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < util::PATIENCE, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().unwrap();
        let mut prefs = serde_json::Map::new();
        if !javascript {
            prefs.insert("profile.managed_default_content_settings.javascript".into(), json!(2));
            prefs.insert("webkit.webprefs.javascript_enabled".into(), json!(false));
        }
        let options = json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--window-size=1280,1400", "--hide-scrollbars",
                format!("--user-data-dir={}", profile.path().display()),
            ],
            "prefs": prefs,
        });
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let client = runtime.block_on(async {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            ClientBuilder::new(connector)
                .capabilities(capabilities)
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
                .expect("chromedriver refused a session")
        });
        Browser { driver, client: Some(client), runtime, _profile: profile }
    }

    fn client(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    fn goto(&self, url: &str) {
        self.runtime.block_on(self.client().goto(url)).unwrap();
    }

    fn url(&self) -> String {
        self.runtime.block_on(self.client().current_url()).unwrap().to_string()
    }

    fn count(&self, css: &str) -> usize {
        self.runtime.block_on(self.client().find_all(Locator::Css(css))).unwrap().len()
    }

    fn text(&self, css: &str) -> String {
        self.runtime.block_on(async {
            self.client().find(Locator::Css(css)).await.unwrap().text().await.unwrap()
        })
    }

    fn texts(&self, css: &str) -> Vec<String> {
        self.runtime.block_on(async {
            let mut texts = Vec::new();
            for element in self.client().find_all(Locator::Css(css)).await.unwrap() {
                texts.push(element.text().await.unwrap());
            }
            texts
        })
    }

    /// Width and height of each element on screen.
    fn sizes(&self, css: &str) -> Vec<(f64, f64)> {
        self.runtime.block_on(async {
            let mut sizes = Vec::new();
            for element in self.client().find_all(Locator::Css(css)).await.unwrap() {
                let (_, _, width, height) = element.rectangle().await.unwrap();
                sizes.push((width, height));
            }
            sizes
        })
    }

    /// Clicks a link or a submit button and waits for the page it leads
    /// to: the click returns once the browser has the click, not once the
    /// next page has replaced this one, so the old page's `<html>` is
    /// watched until it is gone.
    fn follow(&self, locator: Locator<'_>) {
        self.runtime.block_on(async {
            let old_page = self.client().find(Locator::Css("html")).await.unwrap();
            self.client().find(locator).await.unwrap().click().await.unwrap();
            let started = Instant::now();
            while old_page.tag_name().await.is_ok() {
                assert!(started.elapsed() < util::PATIENCE, "the click led to no new page");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
    }

    fn select(&self, css: &str, value: &str) {
        self.runtime.block_on(async {
            let select = self.client().find(Locator::Css(css)).await.unwrap();
            select.select_by_value(value).await.unwrap();
        });
    }

    fn type_into(&self, css: &str, text: &str) {
        self.runtime.block_on(async {
            self.client().find(Locator::Css(css)).await.unwrap().send_keys(text).await.unwrap();
        });
    }

    /// Presses a key (WebDriver key actions, as a person at the keyboard
    /// would) and returns the focused element's id and text.
    fn press(&self, key: fantoccini::key::Key) -> (String, String) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        self.runtime.block_on(async {
            let keys = KeyActions::new("keyboard".into())
                .then(KeyAction::Down { value: key.into() })
                .then(KeyAction::Up { value: key.into() });
            self.client().perform_actions(keys).await.unwrap();
            let focused = self.client().active_element().await.unwrap();
            let id = focused.attr("id").await.unwrap().unwrap_or_default();
            (id, focused.text().await.unwrap())
        })
    }

    fn source(&self) -> String {
        self.runtime.block_on(self.client().source()).unwrap()
    }

    /// Saves a screenshot as `target/screenshots/NAME.png`.
    fn screenshot(&self, name: &str) {
        let png = self.runtime.block_on(self.client().screenshot()).unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(client.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A day `days` from today (UTC), `YYYY-MM-DD`.
fn day(days: i64) -> String {
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    today.checked_add(jiff::Span::new().days(days)).unwrap().to_string()
}

/// A served root with five decisions:
/// 1. `PAT/2 b` passes with a session 60 days ago (done);
/// 2. `PAT/2 b` passes with a session in 20 days (planned);
/// 3. `PAT/2 b` fails: a session in 30 days, inside the month after 2;
/// 4. `PAT-9` fails: a drug named `<script>alert(1)</script>`;
/// 5. an unreadable file (invalid).
fn served_site(extra: &[&str]) -> (Site, util::Daemon, String) {
    let mut site = Site::new();
    let (daemon, base) = site.serve(extra);
    let mut hostile: serde_json::Value = serde_json::from_str(&fail_plan("PLN-X")).unwrap();
    hostile["patient"]["id"] = "PAT-9".into();
    hostile["sessions"][0]["arteries"][0]["drugs"][0]["name"] = "<script>alert(1)</script>".into();
    let plans = [
        ("a.json", plan_on("PLN-A", "PAT/2 b", &day(-60))),
        ("b.json", plan_on("PLN-B", "PAT/2 b", &day(20))),
        ("c.json", plan_on("PLN-C", "PAT/2 b", &day(30))),
        ("x.json", hostile.to_string()),
        ("y.json", "{ not a plan".to_string()),
    ];
    for (i, (name, text)) in plans.iter().enumerate() {
        site.drop_plan(name, text);
        site.wait_for_records(i + 1);
    }
    let verdicts: Vec<String> =
        site.records().iter().map(|r| r["verdict"].as_str().unwrap().to_string()).collect();
    assert_eq!(verdicts, ["pass", "pass", "fail", "fail", "invalid"]);
    wait_until_placed(&site);
    (site, daemon, base)
}

/// Waits until every recorded plan is in its outcome folder (the page
/// shows a plan from there).
fn wait_until_placed(site: &Site) {
    util::wait_until("every plan placed", || site.every_record_placed());
}

#[test]
fn review_page_lists_the_decisions_and_a_filter_narrows_them_without_javascript() {
    let (_site, daemon, base) = served_site(&[]);
    let browser = Browser::start(false);
    browser.goto(&format!("{base}/"));
    assert_eq!(browser.count("#decisions tr.decision"), 5);
    assert_eq!(browser.text("h1"), "Decisions");
    browser.screenshot("review-index");
    browser.select("#verdict", "fail");
    browser.follow(Locator::Css("form.filters button[type=submit]"));
    assert!(browser.url().contains("verdict=fail"), "{}", browser.url());
    let files: Vec<String> = browser.texts("#decisions tr.decision td:nth-child(4)");
    assert_eq!(files, ["x.json", "c.json"]);
    browser.screenshot("review-index-fail");
    // A patient filter typed in, with a slash and a space.
    browser.goto(&format!("{base}/"));
    browser.type_into("#patient", "PAT/2 b");
    browser.follow(Locator::Css("form.filters button[type=submit]"));
    assert_eq!(browser.count("#decisions tr.decision"), 3);
    browser.goto(&format!("{base}/?since=2000-01-01&until=2000-12-31"));
    assert_eq!(browser.text("#no-decisions"), "No decision matches these filters.");
    drop(daemon);
}

#[test]
fn review_page_is_used_from_the_keyboard_alone() {
    use fantoccini::key::Key;
    let (_site, daemon, base) = served_site(&[]);
    let browser = Browser::start(false);
    browser.goto(&format!("{base}/"));
    // The first Tab reaches the link that skips the page's header.
    let (_, first) = browser.press(Key::Tab);
    assert_eq!(first, "Skip to the content");
    // Every filter is reached by Tab, in the order it is read.
    let mut reached = Vec::new();
    for _ in 0..12 {
        let (id, _) = browser.press(Key::Tab);
        let last = id == "until";
        if ["verdict", "rule", "patient", "since", "until"].contains(&id.as_str()) {
            reached.push(id);
        }
        if last {
            break;
        }
    }
    assert_eq!(reached, ["verdict", "rule", "patient", "since", "until"]);
    // Typing into the focused date and pressing Enter applies the filters.
    browser.runtime.block_on(async {
        let focused = browser.client().active_element().await.unwrap();
        focused.send_keys("2000-12-31").await.unwrap();
    });
    let old_url = browser.url();
    browser.press(Key::Enter);
    util::wait_until("the filtered page", || browser.url() != old_url);
    assert!(browser.url().contains("until=2000-12-31"), "{}", browser.url());
    assert_eq!(browser.text("#no-decisions"), "No decision matches these filters.");
    drop(daemon);
}

#[test]
fn review_patient_page_draws_one_mark_per_session_and_shades_the_window_after_each() {
    let (_site, daemon, base) = served_site(&[]);
    let browser = Browser::start(false);
    browser.goto(&format!("{base}/"));
    // The link of a patient id with a slash and a space leads to that patient.
    browser.follow(Locator::LinkText("PAT/2 b"));
    assert_eq!(browser.text("h1"), "Patient PAT/2 b");
    assert!(browser.url().ends_with("/patients/PAT%2F2%20b"), "{}", browser.url());
    assert_eq!(browser.count("svg#timeline .session"), 3, "two recorded, one of the failed plan");
    assert_eq!(browser.count("svg#timeline .session.past"), 1);
    assert_eq!(browser.count("svg#timeline .session.planned"), 1);
    assert_eq!(browser.count("svg#timeline .session.refused.too-close"), 1);
    assert_eq!(browser.count("svg#timeline rect.window"), 2, "one window per recorded session");
    // Drawn, not merely present: each mark and window has a size on screen.
    let drawn = browser.sizes("svg#timeline .session, svg#timeline rect.window");
    assert!(drawn.iter().all(|(w, h)| *w > 1.0 && *h > 1.0), "{drawn:?}");
    let rows = browser.texts("#sessions tbody tr");
    assert_eq!(rows.len(), 3);
    // The passing plan's session: pirarubicin 3 + 3 + 10 = 16 mg, carboplatin 50 + 50 + 200 = 300 mg.
    assert!(rows[0].contains("16 mg") && rows[0].contains("300 mg"), "{rows:?}");
    assert!(rows[2].contains("within 1 month(s) of another session"), "{rows:?}");
    browser.screenshot("review-patient");
    drop(daemon);
}

#[test]
fn review_decision_page_shows_a_drug_named_script_as_text_and_runs_nothing() {
    let (_site, daemon, base) = served_site(&[]);
    // With JavaScript on: an injected script would run here.
    let browser = Browser::start(true);
    browser.goto(&format!("{base}/decisions/4"));
    assert!(browser.text("h1").starts_with("Decision 4"), "{}", browser.text("h1"));
    let findings = browser.text("#findings");
    assert!(findings.contains("<script>alert(1)</script>"), "shown as text: {findings}");
    assert_eq!(browser.count("script"), 0, "no script element on the page");
    assert!(
        browser.runtime.block_on(browser.client().get_alert_text()).is_err(),
        "no alert was raised"
    );
    assert!(browser.source().contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(browser.count("#plan dl.plan") > 0, "the plan is shown");
    browser.screenshot("review-decision");
    browser.goto(&format!("{base}/rules/unknown-drug"));
    assert!(browser.text("#citation").len() > 10);
    assert!(browser.count("svg#chart rect.bar") >= 1);
    let bars = browser.sizes("svg#chart rect.bar");
    assert!(bars.iter().any(|(w, h)| *w > 1.0 && *h > 1.0), "{bars:?}");
    browser.screenshot("review-rule");
    drop(daemon);
}

#[test]
fn review_page_off_loopback_asks_for_the_token_and_shows_no_patient_before() {
    let mut site = Site::new();
    let token_file = site.dir.path().join("token");
    std::fs::write(&token_file, "a-long-random-service-token-0123456789\n").unwrap();
    let port = util::free_port();
    let listen = format!("0.0.0.0:{port}");
    let token_arg = token_file.to_str().unwrap().to_string();
    let mut daemon = site.spawn_serve(&[
        "--listen",
        &listen,
        "--token-file",
        &token_arg,
        "--settle-millis",
        "300",
    ]);
    daemon.wait_for_log("embolint serve answering HTTP");
    site.drop_plan("a.json", &plan_on("PLN-A", "PAT-SECRET", &day(-10)));
    site.wait_for_records(1);
    wait_until_placed(&site);
    let base = format!("http://127.0.0.1:{port}");
    let browser = Browser::start(false);
    for page in ["/", "/patients/PAT-SECRET", "/decisions/1", "/decisions/1/plan"] {
        browser.goto(&format!("{base}{page}"));
        assert!(browser.url().ends_with("/sign-in"), "{page}: {}", browser.url());
        assert!(!browser.source().contains("PAT-SECRET"), "{page} shows a patient before sign-in");
    }
    browser.screenshot("review-sign-in");
    browser.type_into("#token", "not-the-token");
    browser.follow(Locator::Css("form button[type=submit]"));
    assert!(browser.text(".problem").contains("not this service's token"));
    browser.type_into("#token", "a-long-random-service-token-0123456789");
    browser.follow(Locator::Css("form button[type=submit]"));
    assert_eq!(browser.count("#decisions tr.decision"), 1, "{}", browser.source());
    assert!(browser.text("#decisions").contains("PAT-SECRET"));
    drop(daemon);
}
