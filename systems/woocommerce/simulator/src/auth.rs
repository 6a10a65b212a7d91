//! Who is calling: WooCommerce's `WC_REST_Authentication` for one read-write key. Over HTTPS
//! (`assume_https`) the `consumer_key`/`consumer_secret` query pair, then Basic auth; then, as
//! on plain HTTP, OAuth 1.0a one-legged with the parameters from the query or an
//! `Authorization: OAuth` header.
use super::{Shop, WcError, WooSim};
use axum::http::{HeaderMap, StatusCode};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use tiltas_woocommerce::oauth::{self, SignatureMethod};

/// How far an OAuth timestamp may be from now, and how long a nonce stays used (15 minutes).
const OAUTH_WINDOW_SECONDS: i64 = 15 * 60;

/// The OAuth parameters WooCommerce requires, in the order it names missing ones.
const OAUTH_PARAMS: [&str; 5] = [
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
];

/// Why a request is not authenticated.
#[derive(Debug)]
pub(super) enum Refusal {
    /// No credentials at all: the route's permission check answers (`woocommerce_rest_cannot_view`, …).
    Anonymous,
    /// Credentials that failed: answered before routing, 401; a failed Basic login also
    /// carries `WWW-Authenticate: Basic`.
    Failed { error: WcError, basic_challenge: bool },
}

fn failure(code: &str, message: &str) -> Refusal {
    Refusal::Failed {
        error: WcError::new(StatusCode::UNAUTHORIZED, code, message),
        basic_challenge: false,
    }
}

/// What the authentication needs from a request.
pub(super) struct Attempt<'a> {
    pub method: &'a str,
    /// The request path as sent (`/wp-json/wc/v3/products`).
    pub path: &'a str,
    /// `host[:port]` from the `Host` header.
    pub host: &'a str,
    /// The query as PHP decodes it.
    pub query: &'a [(String, String)],
    pub headers: &'a HeaderMap,
    pub now: i64,
}

/// Checks the request's credentials; `Ok` when the shop's key signed or sent it.
pub(super) fn authenticate(sim: &WooSim, shop: &mut Shop, attempt: &Attempt<'_>) -> Result<(), Refusal> {
    if sim.assume_https {
        if let Some((key, secret)) = https_credentials(attempt) {
            // An unknown key is ignored here (WooCommerce falls through to OAuth).
            if key == sim.credentials.consumer_key {
                if secret == sim.credentials.consumer_secret {
                    return Ok(());
                }
                return Err(Refusal::Failed {
                    error: WcError::new(
                        StatusCode::UNAUTHORIZED,
                        "woocommerce_rest_authentication_error",
                        "Consumer secret is invalid.",
                    ),
                    basic_challenge: true,
                });
            }
        }
    }
    oauth_authenticate(sim, shop, attempt)
}

/// The key pair from the query (both non-empty), else from Basic auth.
fn https_credentials(attempt: &Attempt<'_>) -> Option<(String, String)> {
    let value = |name: &str| {
        attempt
            .query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .filter(|value| !value.is_empty())
    };
    if let (Some(key), Some(secret)) = (value("consumer_key"), value("consumer_secret")) {
        return Some((key, secret));
    }
    let header = attempt.headers.get("authorization")?.to_str().ok()?;
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))?;
    let decoded = BASE64.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (key, secret) = decoded.split_once(':')?;
    (!key.is_empty() && !secret.is_empty()).then(|| (key.to_owned(), secret.to_owned()))
}

/// The `oauth_*` parameters of an `Authorization: OAuth k="v", …` header, URL-decoded.
fn header_params(headers: &HeaderMap) -> Vec<(String, String)> {
    let Some(header) = headers.get("authorization").and_then(|value| value.to_str().ok()) else {
        return Vec::new();
    };
    let Some(rest) = header.trim().strip_prefix("OAuth ") else {
        return Vec::new();
    };
    rest.split(',')
        .filter_map(|part| {
            let (name, value) = part.trim().split_once('=')?;
            let name = name.trim();
            if !name.starts_with("oauth_") {
                return None;
            }
            let value = value.trim().trim_matches('"');
            // PHP `urldecode`: `+` is a space.
            let decoded = percent_encoding::percent_decode_str(&value.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned();
            Some((name.to_owned(), decoded))
        })
        .collect()
}

fn oauth_authenticate(sim: &WooSim, shop: &mut Shop, attempt: &Attempt<'_>) -> Result<(), Refusal> {
    // `array_merge($_GET, header)`: header values replace query values of the same name.
    let mut params: Vec<(String, String)> = attempt.query.to_vec();
    for (name, value) in header_params(attempt.headers) {
        match params.iter_mut().find(|(existing, _)| *existing == name) {
            Some(existing) => existing.1 = value,
            None => params.push((name, value)),
        }
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    };
    let missing: Vec<&str> = OAUTH_PARAMS
        .iter()
        .copied()
        .filter(|name| get(name).is_none())
        .collect();
    if missing.len() == OAUTH_PARAMS.len() {
        return Err(Refusal::Anonymous);
    }
    if !missing.is_empty() {
        let noun = if missing.len() == 1 { "parameter" } else { "parameters" };
        return Err(failure(
            "woocommerce_rest_authentication_missing_parameter",
            &format!("Missing OAuth {noun} {}", missing.join(", ")),
        ));
    }
    let (Some(key), Some(provided), Some(method_name), Some(timestamp), Some(nonce)) = (
        get("oauth_consumer_key"),
        get("oauth_signature"),
        get("oauth_signature_method"),
        get("oauth_timestamp"),
        get("oauth_nonce"),
    ) else {
        return Err(Refusal::Anonymous);
    };
    if key != sim.credentials.consumer_key {
        return Err(failure(
            "woocommerce_rest_authentication_error",
            "Consumer key is invalid.",
        ));
    }
    let Some(method_sig) = SignatureMethod::from_wire(method_name) else {
        return Err(failure(
            "woocommerce_rest_authentication_error",
            "Invalid signature - signature method is invalid.",
        ));
    };
    // The URL the client signed: the site's scheme, the Host it reached and the raw path.
    let url = format!("{}://{}{}", sim.scheme(), attempt.host, attempt.path);
    let expected = oauth::signature(
        &attempt.method.to_ascii_uppercase(),
        &url,
        &params,
        &sim.credentials.consumer_secret,
        method_sig,
    );
    // PHP decoded `+` in the query to a space; WooCommerce puts it back, then decodes once more.
    let provided = percent_encoding::percent_decode_str(&provided.replace(' ', "+"))
        .decode_utf8_lossy()
        .into_owned();
    if expected != provided {
        return Err(failure(
            "woocommerce_rest_authentication_error",
            "Invalid signature - provided signature does not match.",
        ));
    }
    // PHP compares the string loosely: anything not a number counts as 0, far in the past.
    let timestamp: i64 = timestamp.trim().parse().unwrap_or(0);
    if timestamp < attempt.now - OAUTH_WINDOW_SECONDS || timestamp > attempt.now + OAUTH_WINDOW_SECONDS {
        return Err(failure("woocommerce_rest_authentication_error", "Invalid timestamp."));
    }
    if shop.nonces.values().any(|used| used == nonce) {
        return Err(failure(
            "woocommerce_rest_authentication_error",
            "Invalid nonce - nonce has already been used.",
        ));
    }
    shop.nonces.insert(timestamp, nonce.to_owned());
    shop.nonces
        .retain(|used_at, _| *used_at >= attempt.now - OAUTH_WINDOW_SECONDS);
    Ok(())
}
