//! `embolint serve` (the service): everything `watch` does for its root,
//! and, in the same process, an HTTP API and an HL7 CDS Hooks 2.0
//! `order-sign` service, both feeding the daemon's one recorder.
//!
//! # Layout
//! - [`service`]: the state the handlers share with the daemon's loop (the
//!   loop is the one writer; see [`crate::recorder::intake`]).
//! - [`staging`]: how a plan received over HTTP enters the recorder (the
//!   inbox, under a name made from its idempotency key).
//! - [`index`]: the decision index, kept in step with the log.
//! - [`http`]: the routes, the limits and the connection loop.
//! - [`api`]: the `/v1/` handlers.
//! - [`cds`]: CDS Hooks discovery, `order-sign` cards and feedback.
//! - [`access`]: bearer tokens and CDS Hooks JWTs.
//! - [`seen_tokens`]: the JWT ids already used, kept on disk until they
//!   expire (a replay is refused also after a restart).
//! - [`metrics`]: Prometheus metrics.
//! - [`page`]: the review page at `/`, for people.

// An error answer is an HTTP response, built where the problem is found and
// sent as is: boxing it would only add an allocation per refused request.
#![allow(clippy::result_large_err)]

pub mod access;
pub mod api;
pub mod cds;
pub mod http;
pub mod index;
pub mod metrics;
pub mod page;
pub mod seen_tokens;
pub mod service;
pub mod staging;

use crate::watch::config::Settings;
use crate::watch::fatal::Fatal;
use crate::watch::fatal::Stopped;
use crate::watch::folder::Folder;
use crate::watch::wake::{self, Wake};
use crate::watch::wake_queue::WakeQueue;
use crate::watch::{self as watch_mod, logging, WatchArgs};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Where `serve` listens unless told otherwise (loopback: no credentials).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8717";

/// Reads `--listen`: an IP address and port (`127.0.0.1:8717`,
/// `[::1]:8717`, `0.0.0.0:8717`), or `localhost:PORT` for
/// `127.0.0.1:PORT`. No other host name is looked up: what the service
/// answers on, and whether it asks for credentials, must not depend on a
/// name server.
pub fn listen_address(text: &str) -> Result<SocketAddr, String> {
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Ok(address);
    }
    let localhost = text.strip_prefix("localhost:").and_then(|port| port.parse::<u16>().ok());
    localhost.map(|port| SocketAddr::from(([127, 0, 0, 1], port))).ok_or_else(|| {
        format!(
            "{text:?} is not an address and port: write 127.0.0.1:8717 (this machine only), \
             [::1]:8717, or 0.0.0.0:8717 (every interface; needs --token-file); host names \
             other than localhost are not looked up"
        )
    })
}

/// Options of `embolint serve`: those of `watch`, and the HTTP side.
#[derive(Clone, Debug)]
pub struct ServeArgs {
    /// Everything `watch` takes.
    pub watch: WatchArgs,
    /// The address and port to answer HTTP on. A loopback address needs no
    /// credentials; any other needs --token-file.
    pub listen: SocketAddr,
    /// A file holding the bearer token every /v1/ request must carry
    /// (`Authorization: Bearer TOKEN`). Required off loopback.
    pub token_file: Option<PathBuf>,
    /// The CDS clients allowed to call the CDS Hooks service: a JSON file
    /// `{"clients": [{"iss": ISSUER, "keys": [JWK, ...]}]}`. With it, every
    /// CDS Hooks request needs a JWT signed by a key of its issuer.
    pub cds_jwks: Option<PathBuf>,
    /// The service's address as its clients see it (behind a TLS reverse
    /// proxy: https://...); CDS Hooks JWTs must name
    /// URL/cds-services/embolint-order-sign as their audience
    /// [default: http://ADDR].
    pub public_url: Option<String>,
    /// Seconds a client may take to send a request's head or body
    /// [default: 10].
    pub read_timeout_secs: u64,
    /// Most requests handled at once; more wait their turn [default: 256].
    pub max_requests: usize,
    /// Web origins (`https://ehr.example.org`) whose browser-based CDS
    /// clients may call the CDS Hooks service (CORS); none by default.
    pub cds_allow_origins: Vec<String>,
}

/// Runs the service until SIGTERM or SIGINT; the exit code is that of
/// `watch` (0 clean stop, 3 cannot start, 4 stopped on an error).
pub fn run(args: ServeArgs) -> Result<(), crate::watch::fatal::Stopped> {
    let wakes = Arc::new(WakeQueue::new());
    let signalled = Arc::new(AtomicBool::new(false));
    if let Err(error) = wake::spawn_signal_thread(Arc::clone(&wakes), Arc::clone(&signalled)) {
        return Err(Stopped::cannot_start(format!(
            "embolint serve cannot start: cannot handle signals: {error}"
        )));
    }
    let settings = match Settings::resolve(&args.watch) {
        Ok(settings) => settings,
        Err(error) => {
            return Err(Stopped::cannot_start(format!("embolint serve cannot start: {error}")));
        }
    };
    let mut access = match access::Access::configure(&args) {
        Ok(access) => access,
        Err(message) => {
            return Err(Stopped::cannot_start(format!("embolint serve cannot start: {message}")));
        }
    };
    let flag_level = args.watch.log_level.as_deref();
    let logs = match logging::init(settings.log_format, flag_level, settings.log_level.as_deref()) {
        Ok(logs) => logs,
        Err(message) => {
            return Err(Stopped::cannot_start(format!("embolint serve cannot start: {message}")));
        }
    };
    let listener = match std::net::TcpListener::bind(args.listen) {
        Ok(listener) => listener,
        Err(error) => {
            return Err(Stopped::cannot_start(format!(
                "embolint serve cannot start: cannot listen on {}: {error}",
                args.listen
            )));
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let channel = watch_mod::Channel { wakes: Arc::clone(&wakes), stop: Arc::clone(&stop) };
    let started = watch_mod::start(args.watch.clone(), settings, logs, channel)
        .and_then(|daemon| attach(daemon, &wakes));
    let (mut daemon, service) = match started {
        Ok(started) => started,
        Err(fatal) => {
            tracing::error!("{fatal}");
            return Err(fatal.logged());
        }
    };
    if let Err(error) = access.keep_seen_tokens_in(&daemon.layout.state) {
        let message = format!(
            "embolint serve cannot start: cannot keep the CDS Hooks JWT ids in {}: {error}",
            daemon.layout.state.display()
        );
        tracing::error!("{message}");
        return Err(Stopped { message, exit_code: 3, logged: true });
    }
    let limits = http::Limits {
        read_timeout: Duration::from_secs(args.read_timeout_secs.max(1)),
        max_requests: args.max_requests.max(1),
    };
    let front = {
        let (service, wakes, stop) = (Arc::clone(&service), Arc::clone(&wakes), Arc::clone(&stop));
        std::thread::Builder::new().name("http".into()).spawn(move || {
            let served = http::serve(listener, service, access, limits, signalled);
            if let Err(error) = &served {
                tracing::error!(%error, "the HTTP service stopped");
            }
            // The requests in hand are answered: the loop may stop now.
            stop.store(true, Ordering::SeqCst);
            wakes.push(Wake::Intake);
            served
        })
    };
    let front = match front {
        Ok(front) => front,
        Err(error) => {
            tracing::error!(%error, "cannot start the HTTP service");
            let message = format!("embolint serve cannot start the HTTP service: {error}");
            return Err(Stopped { message, exit_code: 3, logged: true });
        }
    };
    tracing::info!(listen = %args.listen, "embolint serve answering HTTP");
    let outcome = daemon.serve();
    match outcome {
        Ok(()) => {
            let front_ok = front.join().map(|served| served.is_ok()).unwrap_or(false);
            tracing::info!(
                "stopped cleanly: every request in hand answered, every plan taken from the inbox recorded and placed"
            );
            if front_ok {
                Ok(())
            } else {
                let message = "the HTTP service stopped on an error (see the log)".to_string();
                Err(Stopped { message, exit_code: 4, logged: true })
            }
        }
        Err(fatal) => {
            tracing::error!("{fatal}");
            Err(fatal.logged())
        }
    }
}

/// Connects the HTTP side's state to the started daemon.
fn attach(
    mut daemon: crate::watch::daemon::Daemon,
    wakes: &Arc<WakeQueue>,
) -> Result<(crate::watch::daemon::Daemon, Arc<service::Service>), Fatal> {
    let cannot = |e: std::io::Error| Fatal::Start(format!("cannot start the HTTP service: {e}"));
    let inbox = Folder::open(&daemon.layout.inbox).map_err(cannot)?;
    crate::recorder::outcome::remove_stale_temps_in(&inbox, staging::TEMP_PREFIX)
        .map_err(cannot)?;
    let stager = staging::Stager::start(inbox).map_err(cannot)?;
    let service = service::Service::new(
        &daemon.layout.root,
        &daemon.layout.decisions(),
        Arc::clone(wakes),
        stager,
        daemon.recorder.history().location(),
        daemon.settings.max_plan_bytes,
        daemon.rules.set.clone(),
    )
    .map_err(cannot)?;
    let service = Arc::new(service);
    daemon.recorder.follow_with(Arc::clone(&service) as Arc<dyn crate::recorder::intake::Intake>);
    Ok((daemon, service))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_takes_an_ip_address_or_localhost_and_looks_no_name_up() {
        let read = |text: &str| listen_address(text).map(|a| a.to_string());
        assert_eq!(read("127.0.0.1:8717"), Ok("127.0.0.1:8717".into()));
        assert_eq!(read("[::1]:8717"), Ok("[::1]:8717".into()));
        assert_eq!(read("localhost:9000"), Ok("127.0.0.1:9000".into()));
        assert!(listen_address("localhost:9000").is_ok_and(|a| a.ip().is_loopback()));
        for refused in ["embolint.example.org:8717", "8717", "localhost", "localhost:99999", ""] {
            let said = listen_address(refused).unwrap_err();
            assert!(said.contains("127.0.0.1:8717"), "{refused}: {said}");
        }
    }
}
