//! The routes, the limits every request meets, and the connection loop:
//! a bound on requests in hand, a read timeout for the request head (hyper)
//! and body (tower-http), and a graceful stop on SIGTERM that answers the
//! requests in hand first.

use super::access::{Access, JwtRefused};
use super::service::Service;
use super::{api, cds};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Limits against slow and numerous clients.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longest time to send a request's head, or between parts of its body.
    pub read_timeout: Duration,
    /// Most requests handled at once.
    pub max_requests: usize,
}

/// What every handler gets.
#[derive(Clone)]
pub struct App {
    /// The state shared with the daemon's loop.
    pub service: Arc<Service>,
    /// Who may call.
    pub access: Arc<Access>,
}

/// An error answer: the status and `{"error": message}`.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "error": message.into() });
    (status, axum::Json(body)).into_response()
}

/// A JSON answer from bytes already serialized.
pub fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

/// Reads a JSON request body of at most `limit` bytes: 415 when it is not
/// `application/json` or is compressed, 413 when it is larger, 408 when
/// the client stalls.
pub async fn read_json_body(
    headers: &HeaderMap,
    body: Body,
    limit: u64,
) -> Result<axum::body::Bytes, Response> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let is_json = content_type.is_some_and(|t| {
        let media = t.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        media == "application/json" || media.ends_with("+json")
    });
    if !is_json {
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the body as JSON (Content-Type: application/json)",
        ));
    }
    // A compressed plan is refused rather than judged (and recorded) as an
    // invalid one: its bytes are not the plan the client meant.
    let encoding = headers.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap_or("?"));
    if let Some(encoding) = encoding.filter(|e| !e.trim().eq_ignore_ascii_case("identity")) {
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("send the body uncompressed (Content-Encoding {encoding:?} is not accepted)"),
        ));
    }
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than the plan size limit of {limit} bytes"),
        )
    };
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
    if declared.and_then(|v| v.parse::<u64>().ok()).is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let limit_usize = usize::try_from(limit).unwrap_or(usize::MAX);
    match axum::body::to_bytes(body, limit_usize).await {
        Ok(bytes) => Ok(bytes),
        Err(e) => {
            let text = format!("{e:?}");
            if text.contains("LengthLimit") {
                Err(too_large())
            } else if text.contains("TimeoutError") || text.contains("Elapsed") {
                Err(error(StatusCode::REQUEST_TIMEOUT, "the body came too slowly"))
            } else {
                Err(error(StatusCode::BAD_REQUEST, format!("cannot read the body: {e}")))
            }
        }
    }
}

/// All routes.
pub fn router(app: App, limits: Limits) -> Router {
    let v1 = Router::new()
        .route("/v1/check", post(api::check))
        .route("/v1/plans", post(api::plans))
        .route("/v1/rules", get(api::rules))
        .route("/v1/decisions", get(api::decisions))
        .route("/v1/decisions/{seq}", get(api::decision))
        .route("/v1/patients/{id}/sessions", get(api::sessions))
        .route_layer(middleware::from_fn_with_state(app.clone(), bearer))
        .method_not_allowed_fallback(method_not_allowed);
    let cds = Router::new()
        .route("/cds-services/embolint-order-sign", post(cds::order_sign))
        .route("/cds-services/embolint-order-sign/feedback", post(cds::feedback))
        .route_layer(middleware::from_fn_with_state(app.clone(), jwt))
        .route("/cds-services", get(cds::discovery))
        .method_not_allowed_fallback(method_not_allowed);
    // Outside the JWT check, and around the 405 answer: a browser's
    // preflight (`OPTIONS`) carries no token.
    let cds = match cors_for_cds(&app.access.cds_allow_origins) {
        Some(cors) => cds.layer(cors),
        None => cds,
    };
    let page = super::page::routes(app.clone()).method_not_allowed_fallback(method_not_allowed);
    // Each part sets its own 405 answer before it is merged: set here, it
    // would replace the CDS part's, which answers preflights.
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(api::metrics))
        .method_not_allowed_fallback(method_not_allowed)
        .merge(v1)
        .merge(cds)
        .merge(page)
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such endpoint") })
        .with_state(app)
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(limits.read_timeout))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(limits.max_requests))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// 405, as JSON like every other error; axum keeps the `Allow` header.
async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    let message = format!("{method} is not served at {}: see the Allow header", uri.path());
    error(StatusCode::METHOD_NOT_ALLOWED, message)
}

/// CORS for the CDS Hooks service (the CDS Hooks specification: browser-
/// based CDS clients need it), for the origins given and no other; `None`
/// when none is given (no CORS headers at all). Only the CDS Hooks routes
/// get it: the API and the review page are not for other sites' pages.
fn cors_for_cds(origins: &[HeaderValue]) -> Option<tower_http::cors::CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let cors = tower_http::cors::CorsLayer::new()
        .allow_origin(origins.to_vec())
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(600));
    Some(cors)
}

/// The bearer token check of `/v1/`.
async fn bearer(State(app): State<App>, request: Request, next: Next) -> Response {
    let given = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match app.access.check_bearer(given) {
        Ok(()) => next.run(request).await,
        Err(message) => error(StatusCode::UNAUTHORIZED, message),
    }
}

/// The JWT check of CDS Hooks requests.
async fn jwt(State(app): State<App>, request: Request, next: Next) -> Response {
    let given = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let path = request.uri().path().to_string();
    match app.access.check_jwt(given, &path) {
        Ok(()) => next.run(request).await,
        Err(JwtRefused::Unauthorized(message)) => error(StatusCode::UNAUTHORIZED, message),
        Err(JwtRefused::CannotRemember(message)) => error(StatusCode::SERVICE_UNAVAILABLE, message),
    }
}

/// Answers HTTP on `listener` until `stop` is set (SIGTERM/SIGINT); then
/// stops accepting, finishes the requests in hand and returns.
pub fn serve(
    listener: std::net::TcpListener,
    service: Arc<Service>,
    access: Access,
    limits: Limits,
    stop: Arc<AtomicBool>,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let app = App { service, access: Arc::new(access) };
        let router = router(app, limits);
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let stopping = async {
            while !stop.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::pin!(stopping);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    let service = TowerToHyperService::new(router.clone());
                    let connection = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(limits.read_timeout)
                        .serve_connection(TokioIo::new(stream), service);
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        let _ = connection.await;
                    });
                }
                () = &mut stopping => break,
            }
        }
        drop(listener);
        tracing::info!("asked to stop: answering the requests in hand");
        graceful.shutdown().await;
        Ok(())
    })
}
