//! The simulator's OAuth2 side: `GET authorize` (the user is taken as logged in and consenting:
//! a redirect to `redirect_uri` with a one-time `code` and the `state`), `POST token` with the
//! `authorization_code` and `refresh_token` grants (client id and secret as form fields or in a
//! Basic header), rotating refresh tokens (each refresh issues a new one and the old one is
//! dead: using it again is `invalid_grant`) and access tokens that expire.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use base64::Engine as _;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// Tokens and codes of the simulated identity provider.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    /// Unused authorisation codes → the redirect URI they were issued for.
    codes: HashMap<String, String>,
    /// Live refresh tokens.
    refresh: HashSet<String>,
    /// Refresh tokens that were rotated away, and revoked ones (for the message).
    spent: HashSet<String>,
    revoked: HashSet<String>,
    /// Access tokens → when they expire.
    access: HashMap<String, Instant>,
    counter: u64,
    /// How many tokens were issued by each grant, for `/__sim/stats`-like checks.
    pub refreshes: u64,
}

/// An OAuth2 error answer (RFC 6749 §5.2).
fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    (status, Json(json!({ "error": code, "error_description": description }))).into_response()
}

impl Tokens {
    fn next(&mut self, prefix: &str) -> String {
        self.counter += 1;
        // Not guessable in a test run, but repeatable for one seed and order of calls.
        format!(
            "{prefix}-{:06}-{:x}",
            self.counter,
            self.counter.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        )
    }

    /// A code for `redirect_uri` (the authorisation page's redirect).
    pub fn issue_code(&mut self, redirect_uri: &str) -> String {
        let code = self.next("code");
        self.codes.insert(code.clone(), redirect_uri.to_owned());
        code
    }

    /// A refresh token, live (for tests that skip the authorisation page).
    pub fn issue_refresh_token(&mut self) -> String {
        let token = self.next("rt");
        self.refresh.insert(token.clone());
        token
    }

    /// Whether `token` is a live access token.
    pub fn access_ok(&self, token: &str) -> bool {
        self.access.get(token).is_some_and(|until| Instant::now() < *until)
    }

    /// Makes every access token expired (as if their lifetime had passed).
    pub fn expire_access_tokens(&mut self) -> usize {
        let count = self.access.len();
        let past = Instant::now();
        for until in self.access.values_mut() {
            *until = past;
        }
        count
    }

    /// Makes every refresh token dead (as if the user revoked the app).
    pub fn revoke_refresh_tokens(&mut self) -> usize {
        let count = self.refresh.len();
        self.revoked.extend(self.refresh.drain());
        count
    }

    fn issue(&mut self, lifetime: Duration) -> Response {
        let access = self.next("at");
        let refresh = self.issue_refresh_token();
        self.access.insert(access.clone(), Instant::now() + lifetime);
        Json(json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": lifetime.as_secs(),
            "refresh_token": refresh,
        }))
        .into_response()
    }

    /// `POST token`: `form` is the request's form, `basic` its Basic credentials.
    pub fn token(
        &mut self,
        client: (&str, &str),
        form: &HashMap<String, String>,
        basic: Option<(String, String)>,
        lifetime: Duration,
    ) -> Response {
        let (id, secret) = match basic {
            Some(pair) => pair,
            None => (
                form.get("client_id").cloned().unwrap_or_default(),
                form.get("client_secret").cloned().unwrap_or_default(),
            ),
        };
        if id != client.0 || secret != client.1 {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed: unknown client_id or wrong client_secret",
            );
        }
        match form.get("grant_type").map(String::as_str) {
            Some("authorization_code") => {
                let code = form.get("code").cloned().unwrap_or_default();
                let Some(redirect) = self.codes.remove(&code) else {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "The authorization code is invalid, expired or already used",
                    );
                };
                if form.get("redirect_uri") != Some(&redirect) {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "redirect_uri does not match the one the code was issued for",
                    );
                }
                self.issue(lifetime)
            }
            Some("refresh_token") => {
                let token = form.get("refresh_token").cloned().unwrap_or_default();
                if !self.refresh.remove(&token) {
                    let why = if self.spent.contains(&token) {
                        "The refresh token was already used (refresh tokens rotate: use the newest one)"
                    } else if self.revoked.contains(&token) {
                        "The refresh token was revoked: the user withdrew the app's access"
                    } else {
                        "The refresh token is invalid or expired"
                    };
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", why);
                }
                self.spent.insert(token);
                self.refreshes += 1;
                self.issue(lifetime)
            }
            Some(other) => oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!("grant_type {other} is not supported"),
            ),
            None => oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "grant_type is missing"),
        }
    }

    /// `GET authorize`: the redirect with a code, or an error page for a wrong client.
    pub fn authorize(&mut self, client_id: &str, query: &HashMap<String, String>) -> Response {
        if query.get("client_id").map(String::as_str) != Some(client_id) {
            return (StatusCode::BAD_REQUEST, "unknown client_id").into_response();
        }
        if query.get("response_type").map(String::as_str) != Some("code") {
            return (StatusCode::BAD_REQUEST, "response_type must be code").into_response();
        }
        let Some(redirect) = query.get("redirect_uri").filter(|uri| uri.starts_with("http")) else {
            return (StatusCode::BAD_REQUEST, "redirect_uri is missing").into_response();
        };
        let code = self.issue_code(redirect);
        let separator = if redirect.contains('?') { '&' } else { '?' };
        let mut location = format!("{redirect}{separator}code={code}");
        if let Some(state) = query.get("state") {
            location.push_str("&state=");
            location.push_str(&percent(state));
        }
        Redirect::to(&location).into_response()
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved kept).
fn percent(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The client id and secret of a `Basic` Authorization header.
pub(crate) fn basic_credentials(header: Option<&str>) -> Option<(String, String)> {
    let encoded = header?.trim().strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    // RFC 6749 §2.3.1: both are form-urlencoded before encoding.
    Some((form_decode(id), form_decode(secret)))
}

fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        index += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
