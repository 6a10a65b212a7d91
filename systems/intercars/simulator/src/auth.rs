//! The token endpoint and the checks in front of every API call: requests in flight (429),
//! the harness' faults, and the Bearer token.
use crate::{error_body, App, IntercarsSim};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use tiltas_sim::{Admission, RequestKind};

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    (status, Json(json!({ "error": code, "error_description": description }))).into_response()
}

/// `(client_id, client_secret)` from a Basic header, else from the form.
fn client_of(headers: &HeaderMap, form: &HashMap<String, String>) -> Option<(String, String)> {
    if let Some(basic) = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD.decode(basic.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        return Some((id.to_owned(), secret.to_owned()));
    }
    Some((form.get("client_id")?.clone(), form.get("client_secret")?.clone()))
}

/// `POST /oauth2/token`: `grant_type=client_credentials`, the client by Basic or form.
pub(crate) async fn token(State(app): State<App>, headers: HeaderMap, body: String) -> Response {
    if let Err(refused) = app.harness.admit(RequestKind::Read).await {
        // An identity server that fails says so in OAuth2's words, not the API's.
        if refused.status().is_server_error() {
            return oauth_error(
                refused.status(),
                "temporarily_unavailable",
                "The service is temporarily unavailable",
            );
        }
        return refused;
    }
    let form: HashMap<String, String> = body
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (decode(key), decode(value)))
        .collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        app.harness.count_rejected();
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    let sim = &app.sim;
    match client_of(&headers, &form) {
        Some((id, secret)) if id == sim.credentials.client_id && secret == sim.credentials.client_secret => {
            let token = format!("ic-{:016x}", rand::random::<u64>());
            sim.tokens
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(token.clone(), Instant::now() + sim.credentials.token_lifetime);
            Json(json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": sim.credentials.token_lifetime.as_secs(),
                "scope": form.get("scope").cloned().unwrap_or_else(|| "allinone".into()),
            }))
            .into_response()
        }
        _ => {
            app.harness.count_rejected();
            oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed",
            )
        }
    }
}

/// Percent-decoding of a form field (`+` is a space).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'+' => out.push(b' '),
            b'%' if at + 2 < bytes.len() => match u8::from_str_radix(text.get(at + 1..at + 3).unwrap_or("zz"), 16) {
                Ok(byte) => {
                    out.push(byte);
                    at += 2;
                }
                Err(_) => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        at += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A request in flight, counted until it is dropped.
pub(crate) struct InFlight(Arc<IntercarsSim>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Admits an API call: not too many at once, the harness' faults, a live Bearer token.
pub(crate) async fn enter(
    app: &App,
    headers: &HeaderMap,
    kind: RequestKind,
) -> Result<(InFlight, Admission), Response> {
    let now = app.sim.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let guard = InFlight(app.sim.clone());
    if now > app.sim.max_in_flight {
        app.harness.count_rejected();
        let mut response = error_body(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            &format!("more than {} requests in flight", app.sim.max_in_flight),
        );
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from_static("1"));
        return Err(response);
    }
    let admission = app.harness.admit(kind).await?;
    let token = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    let live = app
        .sim
        .tokens
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(token)
        .is_some_and(|expiry| *expiry > Instant::now());
    if !live {
        app.harness.count_rejected();
        return Err(error_body(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The access token is missing, invalid or expired",
        ));
    }
    Ok((guard, admission))
}
