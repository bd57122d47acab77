//! The review page at `/`: what a radiologist, a pharmacist or an auditor
//! reads of the decisions — server-rendered HTML (maud escapes everything a
//! plan brings), no JavaScript, nothing fetched from elsewhere, and only
//! reads.
//!
//! # Layout
//! - this file: the routes, the headers every page carries (a
//!   Content-Security-Policy of `default-src 'self'`), the sign-in that
//!   guards the pages when the service has a token, the frame of a page.
//! - [`decisions`]: the recent decisions (filtered, paged), one decision
//!   with its findings and its plan, and their downloads.
//! - [`patient`]: one patient's sessions on a timeline, doses per session.
//! - [`rules`]: how often each rule fired, by week.
//! - [`style`]: the style sheet (served from `/review.css`).
//!
//! Decisions are looked up in the persistent decision index
//! (`state/decisions-index.sqlite`), caught up with the log at each page.

pub mod decisions;
pub mod patient;
pub mod rules;
pub mod style;

use super::http::App;
use super::service::Service;
use crate::audit::decision_index::DecisionIndex;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use maud::{html, Markup, DOCTYPE};

/// The name of the cookie the sign-in sets.
const COOKIE: &str = "embolint_review";

/// The routes of the review page.
pub fn routes(app: App) -> Router<App> {
    let guarded = Router::new()
        .route("/", get(decisions::list))
        .route("/decisions/{seq}", get(decisions::one))
        .route("/decisions/{seq}/plan", get(decisions::plan_file))
        .route("/decisions/{seq}/verdict", get(decisions::verdict_file))
        .route("/patients/{id}", get(patient::page))
        .route("/rules", get(rules::list))
        .route("/rules/{id}", get(rules::one))
        .route_layer(middleware::from_fn_with_state(app, signed_in));
    Router::new()
        .merge(guarded)
        .route("/sign-in", get(sign_in_form).post(sign_in))
        .route("/sign-out", axum::routing::post(sign_out))
        .route("/review.css", get(style::css))
        .layer(middleware::map_response(page_headers))
}

/// Headers of every page: nothing runs or loads from elsewhere, nothing is
/// framed, and pages with patient data are not kept in caches.
async fn page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        "content-security-policy",
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    );
    set("x-content-type-options", "nosniff");
    set("referrer-policy", "no-referrer");
    set("x-frame-options", "DENY");
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Lets a request through when the service needs no token, or when its
/// cookie is the one the sign-in sets; else sends it to the sign-in (which
/// shows nothing of a patient).
async fn signed_in(State(app): State<App>, request: Request, next: Next) -> Response {
    if !app.access.token_required() {
        return next.run(request).await;
    }
    let cookies = request.headers().get_all(header::COOKIE);
    let given = cookies
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        .any(|value| app.access.is_page_cookie(value));
    if given {
        next.run(request).await
    } else {
        (StatusCode::SEE_OTHER, [(header::LOCATION, "/sign-in")]).into_response()
    }
}

/// `GET /sign-in`.
async fn sign_in_form(State(app): State<App>) -> Response {
    html_page(StatusCode::OK, sign_in_page(&app, None))
}

/// The sign-in form.
#[derive(serde::Deserialize)]
pub struct SignIn {
    /// The service's token, as typed.
    token: String,
}

/// `POST /sign-in`: the right token gets the cookie and goes to the
/// decisions; a wrong one gets the form again.
async fn sign_in(State(app): State<App>, Form(form): Form<SignIn>) -> Response {
    if !app.access.token_required() {
        return (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
    }
    match app.access.page_cookie_for(form.token.trim()) {
        Some(value) => {
            let cookie = format!("{COOKIE}={value}; Path=/; Secure; HttpOnly; SameSite=Strict");
            let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
            if let Ok(cookie) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        None => html_page(
            StatusCode::UNAUTHORIZED,
            sign_in_page(&app, Some("That is not this service's token.")),
        ),
    }
}

/// `POST /sign-out`: the cookie is cleared.
async fn sign_out() -> Response {
    let cookie = format!("{COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict");
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, "/sign-in")]).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

fn sign_in_page(app: &App, problem: Option<&str>) -> Markup {
    let body = html! {
        h1 { "Sign in to the review of decisions" }
        @if !app.access.token_required() {
            p { "This service needs no sign-in. " a href="/" { "See the decisions." } }
        } @else {
            p { "The decisions name patients. Give the service's token (the one planning software uses) to read them." }
            @if let Some(problem) = problem {
                p.problem role="alert" { (problem) }
            }
            form method="post" action="/sign-in" {
                label for="token" { "Service token" }
                input #token type="password" name="token" autocomplete="current-password" required;
                button type="submit" { "Sign in" }
            }
        }
    };
    frame("Sign in", false, body)
}

/// The frame of every page: headings, navigation, the style sheet.
pub fn frame(title: &str, navigation: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · embolint review" }
                link rel="stylesheet" href="/review.css";
            }
            body {
                a.skip href="#main" { "Skip to the content" }
                header {
                    p.brand { "embolint · review of decisions" }
                    @if navigation {
                        nav aria-label="Pages" {
                            ul {
                                li { a href="/" { "Decisions" } }
                                li { a href="/rules" { "Rules" } }
                            }
                        }
                    }
                }
                main #main { (body) }
                footer {
                    p { "embolint " (env!("CARGO_PKG_VERSION")) ". This page only reads the decision log; dates and times are UTC." }
                }
            }
        }
    }
}

/// An HTML answer.
pub fn html_page(status: StatusCode, markup: Markup) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], markup.into_string())
        .into_response()
}

/// A page that says what went wrong, in words.
pub fn problem_page(status: StatusCode, title: &str, message: &str) -> Response {
    html_page(status, frame(title, true, html! { h1 { (title) } p { (message) } }))
}

/// Runs `work` with the caught-up decision index, on a blocking thread.
pub async fn with_index<T: Send + 'static>(
    service: std::sync::Arc<Service>,
    work: impl FnOnce(&Service, &DecisionIndex) -> Result<T, String> + Send + 'static,
) -> Result<T, Response> {
    let done = tokio::task::spawn_blocking(move || {
        let mut guard = service.review_index();
        if guard.is_none() {
            let opened = DecisionIndex::open_or_rebuild(&service.log_path, &service.index_path)
                .map_err(|e| e.to_string())?;
            *guard = Some(opened);
        }
        let index = guard.as_mut().ok_or("the decision index is not open")?;
        index.catch_up().map_err(|e| e.to_string())?;
        work(&service, index)
    })
    .await;
    match done {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(message)) => Err(problem_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "The decisions cannot be read now",
            &message,
        )),
        Err(e) => {
            Err(problem_page(StatusCode::INTERNAL_SERVER_ERROR, "Internal error", &e.to_string()))
        }
    }
}

/// A path segment for a link: every byte but letters, digits and `-._~`
/// percent-encoded, so a patient id with spaces or slashes stays one
/// segment.
pub fn segment(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// `2026-11-05T09:12:44.123Z` as `2026-11-05 09:12`.
pub fn day_and_time(checked_at: &str) -> String {
    match (checked_at.get(..10), checked_at.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time}"),
        _ => checked_at.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patient_id_with_spaces_and_slashes_is_one_path_segment() {
        assert_eq!(segment("PAT/2 b"), "PAT%2F2%20b");
        assert_eq!(segment("é?#"), "%C3%A9%3F%23");
        assert_eq!(segment("PAT-0007_x.y~"), "PAT-0007_x.y~");
    }
}
