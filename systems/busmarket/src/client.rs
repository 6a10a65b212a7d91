//! Calls to Bus Market: every request waits for the connection's gate, carries the raw token
//! in `Authorization` (no "Bearer", as bmapi-js sends it), and every answer's rate-limit
//! headers are reported to the gate as a [`RemoteQuota`] so the quota gauge shows them.
use crate::wire;
use chrono::Utc;
use serde::de::DeserializeOwned;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tiltas_connector::{http, Backoff, CallGate, ConnectorError, ErrorKind, RemoteQuota};

/// The setting an auth failure names.
pub(crate) const CREDENTIAL: &str = "token";
/// The longest the client waits by itself for a used-up rate-limit window to reset; a longer
/// wait is handed to the engine as a rate-limited failure with that `retry_after`.
const MAX_PAUSE: Duration = Duration::from_secs(60);

/// One connection's API.
pub(crate) struct Client {
    pub connection: String,
    http: reqwest::Client,
    gate: Arc<dyn CallGate>,
    base: String,
    token: tiltas_config::Secret,
    /// The currency prices are asked in.
    pub currency: String,
    /// The warehouse (name or uuid) stock is read for and reserves are made at.
    pub warehouse: Option<String>,
    /// When the rate-limit window an answer said is used up resets: nothing is sent before.
    paused_until: Mutex<Option<Instant>>,
}

fn fatal(connection: &str, message: String) -> ConnectorError {
    ConnectorError::new(ErrorKind::Fatal, format!("connection \"{connection}\": {message}"))
}

impl Client {
    pub fn new(
        connection: &str,
        settings: &crate::ConnectionSettings,
        gate: Arc<dyn CallGate>,
    ) -> Result<Client, ConnectorError> {
        reqwest::Url::parse(&settings.base_url).map_err(|error| {
            fatal(
                connection,
                format!(
                    "base_url {:?} is not a URL ({error}): set it to https://api.bm.parts",
                    settings.base_url
                ),
            )
        })?;
        let currency = settings.currency.trim().to_uppercase();
        if !wire::CURRENCIES.contains(&currency.as_str()) {
            return Err(fatal(
                connection,
                format!(
                    "currency {:?} is not one Bus Market prices in: set `currency` to one of {}",
                    settings.currency,
                    wire::CURRENCIES.join(", ")
                ),
            ));
        }
        Ok(Client {
            connection: connection.to_owned(),
            http: http::client(settings.timeout)?,
            gate,
            base: settings.base_url.trim_end_matches('/').to_owned(),
            token: settings.token.clone(),
            currency,
            warehouse: settings.warehouse.clone().filter(|w| !w.trim().is_empty()),
            paused_until: Mutex::new(None),
        })
    }

    fn named(&self, error: ConnectorError) -> ConnectorError {
        ConnectorError {
            message: format!("connection \"{}\": {}", self.connection, error.message),
            ..error
        }
    }

    /// Reports the answer's `X-RateLimit-*` headers, when it has them, to the gate.
    fn report_quota(&self, reply: &http::Reply) {
        let number = |name: &str| reply.header(name).and_then(|v| v.parse::<u64>().ok());
        let (Some(limit), Some(remaining)) = (number(wire::LIMIT_HEADER), number(wire::REMAINING_HEADER)) else {
            return;
        };
        // Seconds until the window resets; a value this large is an epoch time instead.
        let resets_at = number(wire::RESET_HEADER).and_then(|reset| {
            if reset > 1_000_000_000 {
                chrono::DateTime::from_timestamp(reset as i64, 0)
            } else {
                Some(Utc::now() + chrono::Duration::seconds(reset as i64))
            }
        });
        let reset = number(wire::RESET_HEADER).filter(|reset| *reset <= 1_000_000_000);
        let pause = (remaining == 0).then(|| Instant::now() + Duration::from_secs(reset.unwrap_or(1)));
        if pause.is_some() {
            tracing::info!(connection = %self.connection, limit, "Bus Market's request limit is used up: waiting for the window to reset");
        }
        *self
            .paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = pause;
        self.gate.report(RemoteQuota {
            name: "requests".into(),
            used: limit.saturating_sub(remaining),
            limit,
            resets_at,
        });
    }

    /// Waits for a used-up rate-limit window to reset (up to [`MAX_PAUSE`]), so no request is
    /// sent only to be answered 429.
    async fn wait_for_window(&self, what: &str) -> Result<(), ConnectorError> {
        let until = *self
            .paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(wait) = until.and_then(|until| until.checked_duration_since(Instant::now())) else {
            return Ok(());
        };
        if wait > MAX_PAUSE {
            let mut error = ConnectorError::new(
                ErrorKind::RateLimited,
                format!(
                    "connection \"{}\": {what}: Bus Market's request limit is used up for {} s more; the run resumes then",
                    self.connection,
                    wait.as_secs()
                ),
            );
            error.retry_after = Some(wait);
            return Err(error);
        }
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// Sends one request built by `build` and reads its JSON as `T`.
    async fn call<T: DeserializeOwned>(
        &self,
        what: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<T, ConnectorError> {
        self.wait_for_window(what).await?;
        let token = http::reveal(&self.token).map_err(|error| self.named(error))?;
        let request = build().header(reqwest::header::AUTHORIZATION, token);
        let reply = http::exchange(self.gate.as_ref(), what, request)
            .await
            .map_err(|error| self.named(error))?;
        self.report_quota(&reply);
        let value = reply
            .json(CREDENTIAL, wire::error_text)
            .map_err(|error| self.named(error))?;
        serde_json::from_value(value.clone()).map_err(|error| {
            ConnectorError::new(
                ErrorKind::Transient,
                format!(
                    "connection \"{}\": {what}: the answer is not Bus Market's shape ({error}): {}",
                    self.connection,
                    http::quote(&value)
                ),
            )
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path?query`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<T, ConnectorError> {
        self.call(&format!("GET {path}"), || self.http.get(self.url(path)).query(query))
            .await
    }

    /// `GET path?query`, retried inside this call on 429 (after `Retry-After`) and transient
    /// failures: for the per-product calls of a page, so one 429 does not repeat the page.
    pub async fn get_patiently<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ConnectorError> {
        Backoff::new().retry(|| self.get(path, query)).await
    }

    /// `method path` with an optional JSON body.
    pub async fn send<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T, ConnectorError> {
        let what = format!("{method} {path}");
        self.call(&what, || {
            let request = self.http.request(method.clone(), self.url(path));
            match body {
                Some(body) => request.json(body),
                None => request,
            }
        })
        .await
    }
}
