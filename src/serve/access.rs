//! Who may call the service. On a loopback address nobody is asked for
//! credentials (unless a token or JWKS file is given anyway). On any other
//! address `/v1/` needs the bearer token of `--token-file`, and CDS Hooks
//! requests need a JWT (CDS Hooks 2.0, "Trusting CDS Clients") signed by a
//! key of its issuer in `--cds-jwks`: signature, `iss`, `aud` (the
//! endpoint's URL), `exp`, and a `jti` never seen before.

use super::seen_tokens::SeenTokens;
use super::ServeArgs;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::sync::{Mutex, PoisonError};

/// The access rules in force.
pub struct Access {
    /// sha256 of the bearer token, if one is required (compared as hashes,
    /// so the comparison takes the same time wherever the tokens differ).
    token_sha256: Option<[u8; 32]>,
    /// The CDS clients, if JWTs are required.
    clients: Option<Vec<Client>>,
    /// Whether JWTs are required although no JWKS file was given (off
    /// loopback: every CDS Hooks request is then refused).
    jwt_required: bool,
    /// The service's base URL as clients see it, for `aud`.
    pub public_url: String,
    /// Web origins whose browser-based CDS clients may call the CDS Hooks
    /// service (CORS), each `scheme://host[:port]`.
    pub cds_allow_origins: Vec<axum::http::HeaderValue>,
    /// `jti`s seen, with their expiry, so a replayed token is refused
    /// (kept under `state/` once [`Access::keep_seen_tokens_in`] is
    /// called, so also after a restart).
    seen_jti: Mutex<SeenTokens>,
}

/// One CDS client of the JWKS file.
#[derive(Debug, Deserialize)]
struct Client {
    /// Its `iss`.
    iss: String,
    /// Its public keys.
    keys: Vec<Jwk>,
}

/// The JWKS file.
#[derive(Debug, Deserialize)]
struct ClientsFile {
    clients: Vec<Client>,
}

/// The claims checked beyond those `jsonwebtoken` checks.
#[derive(Debug, Deserialize)]
struct Claims {
    /// The token's unique id.
    jti: Option<String>,
    /// Its expiry (seconds since 1970).
    exp: u64,
}

impl Access {
    /// The access rules for `args`; an error says why the service must not
    /// start.
    pub fn configure(args: &ServeArgs) -> Result<Access, String> {
        let loopback = args.listen.ip().is_loopback();
        let token_sha256 = match &args.token_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
                let token = text.trim();
                if token.len() < 16 {
                    return Err(format!(
                        "the token in {} is shorter than 16 characters: use a long random token",
                        path.display()
                    ));
                }
                Some(Sha256::digest(token.as_bytes()).into())
            }
            None if loopback => None,
            None => {
                return Err(format!(
                    "{} is not a loopback address: give --token-file FILE (the bearer token \
                     every /v1/ request must carry), and --cds-jwks FILE for CDS Hooks, or \
                     listen on 127.0.0.1 behind a reverse proxy",
                    args.listen
                ))
            }
        };
        let clients = match &args.cds_jwks {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read the JWKS file {}: {e}", path.display()))?;
                let file: ClientsFile = serde_json::from_str(&text).map_err(|e| {
                    format!(
                        "the JWKS file {} is not {{\"clients\": [{{\"iss\": ..., \"keys\": [JWK, \
                         ...]}}]}}: {e}",
                        path.display()
                    )
                })?;
                Some(file.clients)
            }
            None => None,
        };
        let public_url = args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", args.listen))
            .trim_end_matches('/')
            .to_string();
        let cds_allow_origins =
            args.cds_allow_origins.iter().map(|o| web_origin(o)).collect::<Result<_, _>>()?;
        Ok(Access {
            token_sha256,
            jwt_required: !loopback,
            clients,
            public_url,
            cds_allow_origins,
            seen_jti: Mutex::new(SeenTokens::in_memory()),
        })
    }

    /// Keeps the `jti`s of accepted CDS Hooks JWTs in the root's `state/`
    /// folder (read back now), so that a token is refused a second time
    /// also after a restart. Only when JWTs are checked.
    pub fn keep_seen_tokens_in(&mut self, state: &std::path::Path) -> std::io::Result<()> {
        if self.clients.is_some() {
            *self.seen_jti.get_mut().unwrap_or_else(PoisonError::into_inner) =
                SeenTokens::open(state, now_secs())?;
        }
        Ok(())
    }

    /// Checks a `/v1/` request's `Authorization` header; the error is the
    /// 401 message.
    pub fn check_bearer(&self, authorization: Option<&str>) -> Result<(), String> {
        let Some(expected) = &self.token_sha256 else { return Ok(()) };
        let Some(given) = authorization.and_then(bearer_credentials) else {
            return Err("this service needs `Authorization: Bearer TOKEN`".into());
        };
        let given: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        if &given == expected {
            Ok(())
        } else {
            Err("the bearer token is not this service's token".into())
        }
    }

    /// Whether the service has a token (always off loopback): the review
    /// page then asks for it before it shows anything of a patient.
    pub fn token_required(&self) -> bool {
        self.token_sha256.is_some()
    }

    /// The review page's cookie for a signed-in browser, when `token` is
    /// the service's token. The cookie is derived from the token, never the
    /// token itself, so a cookie cannot be used as a bearer token.
    pub fn page_cookie_for(&self, token: &str) -> Option<String> {
        let expected = self.token_sha256?;
        let given: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        (given == expected).then(|| page_cookie(&expected))
    }

    /// Whether `value` is the review page's cookie.
    pub fn is_page_cookie(&self, value: &str) -> bool {
        match &self.token_sha256 {
            // Compared as hashes, so the time taken does not tell where
            // they differ.
            Some(token) => {
                let expected: [u8; 32] = Sha256::digest(page_cookie(token).as_bytes()).into();
                let given: [u8; 32] = Sha256::digest(value.as_bytes()).into();
                expected == given
            }
            None => true,
        }
    }

    /// Checks a CDS Hooks request's JWT for the endpoint at `path`.
    pub fn check_jwt(&self, authorization: Option<&str>, path: &str) -> Result<(), JwtRefused> {
        self.verify_jwt(authorization, path)
            .map_err(JwtRefused::Unauthorized)?
            .map_or(Ok(()), |claims| self.first_use(claims))
    }

    /// Verifies the JWT's signature, issuer, audience and expiry; its
    /// claims when it has to be checked for a replay, `None` when no JWT
    /// is asked for; the error is the 401 message.
    fn verify_jwt(
        &self,
        authorization: Option<&str>,
        path: &str,
    ) -> Result<Option<Claims>, String> {
        let Some(clients) = &self.clients else {
            if self.jwt_required {
                return Err("CDS Hooks requests need a JWT, and this service was started \
                            without --cds-jwks: no client can be trusted"
                    .into());
            }
            return Ok(None);
        };
        let token = authorization
            .and_then(bearer_credentials)
            .ok_or("a CDS Hooks request needs `Authorization: Bearer JWT`")?;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| format!("the JWT is unreadable: {e}"))?;
        if matches!(header.alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
            return Err(
                "the JWT is signed with a shared secret; CDS clients sign with a private key"
                    .into(),
            );
        }
        let iss = unverified_issuer(token).ok_or("the JWT names no issuer (iss)")?;
        let client = clients
            .iter()
            .find(|c| c.iss == iss)
            .ok_or_else(|| format!("the JWT's issuer {iss:?} is not a client of this service"))?;
        let audience = format!("{}{}", self.public_url, path);
        let mut validation = Validation::new(header.alg);
        validation.set_audience(&[&audience]);
        validation.set_issuer(&[&iss]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = 5;
        let keys =
            client.keys.iter().filter(|k| header.kid.is_none() || k.common.key_id == header.kid);
        let mut problem = format!("no key of {iss:?} matches the JWT's key id");
        for jwk in keys {
            let Ok(key) = DecodingKey::from_jwk(jwk) else { continue };
            match jsonwebtoken::decode::<Claims>(token, &key, &validation) {
                Ok(data) => return Ok(Some(data.claims)),
                Err(error) => problem = format!("the JWT is refused: {error}"),
            }
        }
        Err(problem)
    }

    /// Refuses a `jti` seen before (a replayed token), and keeps a new one
    /// (on disk, synced) before the token is let through.
    fn first_use(&self, claims: Claims) -> Result<(), JwtRefused> {
        let refused = |m: &str| JwtRefused::Unauthorized(m.to_string());
        let jti = claims.jti.ok_or_else(|| refused("the JWT has no jti"))?;
        let mut seen = self.seen_jti.lock().unwrap_or_else(PoisonError::into_inner);
        match seen.first_use(&jti, claims.exp, now_secs()) {
            Ok(true) => Ok(()),
            Ok(false) => Err(refused("the JWT was used before (its jti is replayed)")),
            Err(error) => Err(JwtRefused::CannotRemember(format!(
                "the JWT's id cannot be kept to refuse a replay of it ({error}); the request is \
                 refused: try again once the root's state folder can be written"
            ))),
        }
    }
}

/// Reads a `--cds-allow-origin`: a web origin exactly as a browser sends
/// it in `Origin` (`https://ehr.example.org`, `http://localhost:3000`): a
/// scheme, a host and perhaps a port, nothing after. `*` is refused: every
/// web page could then call the service with a clinician's browser.
fn web_origin(given: &str) -> Result<axum::http::HeaderValue, String> {
    // A browser sends the scheme and the host in lower case.
    let text = given.to_ascii_lowercase();
    let text = text.as_str();
    let refused = |why: &str| {
        format!(
            "--cds-allow-origin {given:?} {why}: give a web origin as a browser sends it, \
             such as https://ehr.example.org or http://localhost:3000"
        )
    };
    if text == "*" {
        return Err(refused("would let every web page call the service; name each origin"));
    }
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or_else(|| refused("does not start with https:// or http://"))?;
    let host_chars = |c: char| c.is_ascii_alphanumeric() || "-.:[]".contains(c);
    if rest.is_empty() || !rest.chars().all(host_chars) {
        return Err(refused("is not a scheme and a host (no path, no slash at the end)"));
    }
    if rest.ends_with(":443") && text.starts_with("https://")
        || rest.ends_with(":80") && text.starts_with("http://")
    {
        return Err(refused("names its scheme's own port, which a browser leaves out"));
    }
    axum::http::HeaderValue::from_str(text).map_err(|_| refused("is not a header value"))
}

/// The credentials of an `Authorization: Bearer ...` header. The scheme's
/// name is not case-sensitive (RFC 9110, 11.1): some clients and proxies
/// send `bearer`.
fn bearer_credentials(authorization: &str) -> Option<&str> {
    let (scheme, credentials) = authorization.trim().split_once([' ', '\t'])?;
    let credentials = credentials.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !credentials.is_empty()).then_some(credentials)
}

/// The review page's cookie value for the token whose sha256 is `token`.
fn page_cookie(token_sha256: &[u8; 32]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"embolint review page cookie\0");
    hasher.update(token_sha256);
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a CDS Hooks request's JWT was not let through.
#[derive(Debug)]
pub enum JwtRefused {
    /// No valid, first-used JWT (401): the message says what is wrong.
    Unauthorized(String),
    /// The JWT is valid but its id could not be kept on disk, so a replay
    /// of it could not be refused (503).
    CannotRemember(String),
}

/// Seconds since 1970, now.
fn now_secs() -> u64 {
    u64::try_from(jiff::Timestamp::now().as_second()).unwrap_or(0)
}

/// The `iss` claim, read before the signature is checked (only to choose
/// the keys to check it with).
fn unverified_issuer(token: &str) -> Option<String> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    Some(value.get("iss")?.as_str()?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allowed_origin_is_a_bare_origin_as_a_browser_sends_it() {
        let read =
            |text: &str| web_origin(text).map(|v| v.to_str().unwrap_or_default().to_string());
        assert_eq!(read("https://ehr.example.org"), Ok("https://ehr.example.org".into()));
        assert_eq!(read("https://EHR.Example.org"), Ok("https://ehr.example.org".into()));
        assert_eq!(read("HTTPS://ehr.example.org"), Ok("https://ehr.example.org".into()));
        assert_eq!(read("http://localhost:3000"), Ok("http://localhost:3000".into()));
        assert_eq!(read("http://[::1]:3000"), Ok("http://[::1]:3000".into()));
        for refused in [
            "*",
            "ehr.example.org",
            "https://ehr.example.org/",
            "https://ehr.example.org/cds",
            "https://ehr.example.org:443",
            "http://ehr.example.org:80",
            "https://",
            "ftp://ehr.example.org",
        ] {
            let said = web_origin(refused).unwrap_err();
            assert!(said.contains("--cds-allow-origin"), "{refused}: {said}");
        }
    }

    #[test]
    fn the_bearer_scheme_is_read_without_regard_to_case() {
        assert_eq!(bearer_credentials("Bearer abc"), Some("abc"));
        assert_eq!(bearer_credentials("bearer  abc "), Some("abc"));
        assert_eq!(bearer_credentials("BEARER\tabc"), Some("abc"));
        assert_eq!(bearer_credentials("Basic abc"), None);
        assert_eq!(bearer_credentials("Bearer"), None);
        assert_eq!(bearer_credentials("Bearer   "), None);
        assert_eq!(bearer_credentials("Bearerabc"), None);
    }
}
