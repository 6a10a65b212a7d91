//! What every HTTP connector shares: the client, credentials, one call path
//! ([`exchange`]: admit → send → read → classify), `Retry-After`, and the one table from HTTP
//! statuses to the engine's failure classes ([`failure`]).
use crate::{CallGate, ConnectorError, ErrorKind};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

/// A whole answer to one request: its status, headers and body text.
#[derive(Debug, Clone)]
pub struct Reply {
    /// What was asked, for messages: `GET /products`, `GET_N17_LIST`, ….
    pub what: String,
    /// The HTTP status.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body as text.
    pub text: String,
}

impl Reply {
    /// A header's value as text, when present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok().map(str::trim)
    }

    /// How long the server asked to wait (`Retry-After`, in seconds or as an HTTP date).
    pub fn retry_after(&self) -> Option<Duration> {
        retry_after_header(self.header("retry-after")?)
    }

    /// The body of an answer: its JSON, or the text as a JSON string when it is not JSON (an
    /// error page); for reading a system's error fields.
    pub fn body(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| Value::String(self.text.clone()))
    }

    /// The failure of a non-success answer, by [`failure`]'s table, with `message` (the
    /// system's own error text) and `credential` (the settings to check on 401/403).
    pub fn failure(&self, message: &str, credential: &str) -> ConnectorError {
        failure(self.status, &self.what, message, credential, self.retry_after())
    }

    /// The JSON of a success ([`json_answer`]); a failure otherwise, its message read from the
    /// error body by `explain` (e.g. a shop's `code: message`).
    pub fn json(
        &self,
        credential: &str,
        explain: impl FnOnce(&Value) -> Option<String>,
    ) -> Result<Value, ConnectorError> {
        if self.status.is_success() {
            return json_answer(&self.what, &self.text);
        }
        let body = self.body();
        let message = explain(&body).unwrap_or_else(|| quote(&body));
        Err(self.failure(&message, credential))
    }
}

/// A short quote of an error body for messages: its first 300 characters.
pub fn quote(body: &Value) -> String {
    let text = match body {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    text.chars().take(300).collect()
}

/// How long a connection's requests hold back after a 429 that did not say how long.
const HOLD_WITHOUT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The one call path of every HTTP connector: waits for `gate` (pacing, daily budget), sends
/// `request` and reads the whole answer. Not being able to send or read is transient (a
/// request that cannot even be built is fatal); the message names `what`, never the URL's
/// query, which may hold credentials. Classifying the status is the caller's, through
/// [`Reply::json`] or [`Reply::failure`], because only the system knows where its error text is.
pub async fn exchange(
    gate: &dyn CallGate,
    what: &str,
    request: reqwest::RequestBuilder,
) -> Result<Reply, ConnectorError> {
    gate.admit().await?;
    let response = request.send().await.map_err(|error| transport(what, &error))?;
    let status = response.status();
    let headers = response.headers().clone();
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        let wait = headers
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(retry_after_header)
            .unwrap_or(HOLD_WITHOUT_RETRY_AFTER);
        gate.hold(wait);
    }
    let text = response.text().await.map_err(|error| {
        ConnectorError::new(
            ErrorKind::Transient,
            format!("{what}: the answer broke off: {}", error.without_url()),
        )
    })?;
    Ok(Reply {
        what: what.to_owned(),
        status,
        headers,
        text,
    })
}

/// A failure to send a request: why, with the setting that may fix it.
pub fn transport(what: &str, error: &reqwest::Error) -> ConnectorError {
    let (kind, reason) = if error.is_builder() {
        (ErrorKind::Fatal, "cannot be built (check the connection's address)")
    } else if error.is_timeout() {
        (
            ErrorKind::Transient,
            "no answer in time (raise the connection's `timeout` if the system is slow)",
        )
    } else if error.is_connect() {
        (
            ErrorKind::Transient,
            "cannot connect (check the connection's address and that the system is up)",
        )
    } else {
        (ErrorKind::Transient, "failed in transit")
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    let detail = if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    };
    ConnectorError::new(kind, format!("{what}: {reason}{detail}"))
}

/// A secret's value; an unset environment variable is an auth failure naming it.
pub fn reveal(secret: &tiltas_config::Secret) -> Result<String, ConnectorError> {
    secret
        .resolve()
        .map_err(|message| ConnectorError::new(ErrorKind::Auth, message))
}

/// The HTTP client of a connection: its call `timeout`, Tiltas' user agent.
pub fn client(timeout: Duration) -> Result<reqwest::Client, ConnectorError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("tiltas/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| ConnectorError::new(ErrorKind::Fatal, format!("cannot start an HTTP client: {error}")))
}

/// A `Retry-After` value: seconds or an HTTP date.
fn retry_after_header(text: &str) -> Option<Duration> {
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
