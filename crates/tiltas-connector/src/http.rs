//! What every HTTP connector shares: the client, credentials, `Retry-After`, and the mapping
//! of HTTP statuses to the engine's failure classes.
use crate::{ConnectorError, ErrorKind};
use std::time::Duration;
use tiltas_config::Connection;

/// The HTTP client of a connection: its `timeout` (or `default_timeout`), Tiltas' user agent.
pub fn client(connection: &Connection, default_timeout: Duration) -> Result<reqwest::Client, ConnectorError> {
    let timeout = connection.settings.duration("timeout").unwrap_or(default_timeout);
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("tiltas/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| ConnectorError::new(ErrorKind::Fatal, format!("cannot start an HTTP client: {error}")))
}

/// A secret setting's value; an unset environment variable is an auth failure naming it.
pub fn secret(connection: &Connection, key: &str) -> Result<String, ConnectorError> {
    match connection.settings.secret(key) {
        Some(secret) => secret
            .resolve()
            .map_err(|message| ConnectorError::new(ErrorKind::Auth, message)),
        None => Err(ConnectorError::new(ErrorKind::Fatal, format!("`{key}` is not set"))),
    }
}

/// `Retry-After` of a response, in seconds or as an HTTP date.
pub fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let text = response.headers().get("retry-after")?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The failure of a non-success answer: 401/403 auth (naming the credential to check), 429
/// rate limited, 408/5xx transient, any other status invalid.
pub fn failure(
    status: reqwest::StatusCode,
    what: &str,
    message: &str,
    credential: &str,
    retry_after: Option<Duration>,
) -> ConnectorError {
    let (kind, fix) = match status.as_u16() {
        401 | 403 => (ErrorKind::Auth, format!(": check the connection's `{credential}`")),
        429 => (ErrorKind::RateLimited, String::new()),
        408 | 500..=599 => (ErrorKind::Transient, String::new()),
        _ => (ErrorKind::Invalid, String::new()),
    };
    let mut error = ConnectorError::new(kind, format!("{what}: {status}: {message}{fix}"));
    error.retry_after = retry_after;
    error
}

/// The JSON of a successful answer. A body that is not JSON — the HTML page a proxy or
/// firewall serves with a 200, or an answer cut short — is a transient failure quoting its
/// start, never an empty result: reading it as "no records" would lose data silently.
pub fn json_answer(what: &str, text: &str) -> Result<serde_json::Value, ConnectorError> {
    serde_json::from_str(text).map_err(|error| {
        let start: String = text.trim_start().chars().take(120).collect();
        let looks_html = start.to_ascii_lowercase().starts_with("<!doctype html") || start.starts_with("<html");
        ConnectorError::new(
            ErrorKind::Transient,
            format!(
                "{what}: the answer is not JSON{} ({error}): {start:?} — a proxy, firewall or maintenance page \
                 in front of the system? It is tried again; if it stays, check the address",
                if looks_html { " but an HTML page" } else { "" }
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_json_success_is_a_transient_failure_quoting_what_came() {
        let error = json_answer("GET products", "<!DOCTYPE html><html><head><title>502").unwrap_err();
        assert_eq!(error.kind, ErrorKind::Transient);
        assert!(
            error
                .message
                .contains("GET products: the answer is not JSON but an HTML page"),
            "{}",
            error.message
        );
        assert!(error.message.contains("<!DOCTYPE html>"), "{}", error.message);
        let error = json_answer("GET products", "{\"items\": [").unwrap_err();
        assert!(error.message.contains("not JSON (EOF"), "{}", error.message);
        assert_eq!(
            json_answer("GET products", "{\"items\": []}").unwrap()["items"],
            serde_json::json!([])
        );
    }
}
