//! The HTTP side of the WooCommerce connector: authentication as WooCommerce checks it
//! (OAuth 1.0a one-legged over plain HTTP, Basic auth over HTTPS), error bodies, paging.
use super::oauth::{self, SignatureMethod};
use crate::{CallGate, ConnectorError};
use rand::distributions::Alphanumeric;
use rand::Rng;
use reqwest::Method;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// How long one request may take by default.
/// The largest page WooCommerce serves (`per_page` 1–100).
pub(crate) const PER_PAGE: usize = 100;
/// Tries of one GET inside a page, the first included.
const GET_TRIES: u32 = 4;
/// The first wait between those tries (it doubles, with jitter; `Retry-After` wins).
const GET_RETRY_DELAY: Duration = Duration::from_millis(100);

/// How requests are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// OAuth 1.0a one-legged signatures in the query: what WooCommerce accepts over HTTP.
    OAuth1,
    /// HTTP Basic with the key and secret: WooCommerce accepts it only over HTTPS.
    Basic,
}

/// A WooCommerce REST v3 client for one connection.
#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    /// `…/wp-json/wc/v3`.
    api: String,
    key: String,
    secret: String,
    auth: Auth,
    gate: Arc<dyn CallGate>,
}

/// An answer: its JSON body and the totals WooCommerce sends with lists.
pub(crate) struct Answer {
    pub body: Value,
    pub total_pages: Option<usize>,
}

impl Client {
    pub(crate) fn new(
        connection: &crate::ConnectionSettings,
        gate: Arc<dyn CallGate>,
    ) -> Result<Client, ConnectorError> {
        let base = connection.base_url.trim_end_matches('/');
        let base = base
            .strip_suffix("/wp-json/wc/v3")
            .unwrap_or(base)
            .trim_end_matches('/');
        let auth = match connection.auth.as_str() {
            "basic" => Auth::Basic,
            "oauth1" => Auth::OAuth1,
            _ if base.starts_with("https://") => Auth::Basic,
            _ => Auth::OAuth1,
        };
        Ok(Client {
            http: crate::http::client(connection.timeout)?,
            api: format!("{base}/wp-json/wc/v3"),
            key: crate::http::reveal(&connection.consumer_key)?,
            secret: crate::http::reveal(&connection.consumer_secret)?,
            auth,
            gate,
        })
    }

    /// Sends one request to `path` (below `/wp-json/wc/v3`) and reads the JSON answer;
    /// failures are classified for the engine with WooCommerce's own code and message.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<Answer, ConnectorError> {
        let url = format!("{}/{}", self.api, path.trim_start_matches('/'));
        let what = format!("{method} {url}");
        let mut query = query.to_vec();
        let mut request = match self.auth {
            Auth::OAuth1 => {
                let nonce: String = rand::thread_rng()
                    .sample_iter(&Alphanumeric)
                    .take(32)
                    .map(char::from)
                    .collect();
                let timestamp = chrono::Utc::now().timestamp().max(0) as u64;
                let signed = oauth::sign_query(
                    method.as_str(),
                    &url,
                    &query,
                    &self.key,
                    &self.secret,
                    SignatureMethod::HmacSha256,
                    timestamp,
                    &nonce,
                );
                query.extend(signed);
                self.http.request(method.clone(), &url)
            }
            Auth::Basic => self
                .http
                .request(method.clone(), &url)
                .basic_auth(&self.key, Some(&self.secret)),
        };
        request = request.query(&query);
        if let Some(body) = body {
            request = request.json(body);
        }
        let reply = crate::http::exchange(self.gate.as_ref(), &what, request).await?;
        let total_pages = reply.header("x-wp-totalpages").and_then(|value| value.parse().ok());
        let body = reply.json("consumer_key / consumer_secret", |body| {
            match (
                body.get("code").and_then(Value::as_str),
                body.get("message").and_then(Value::as_str),
            ) {
                (Some(code), Some(message)) => Some(format!("{code}: {message}")),
                _ => None,
            }
        })?;
        Ok(Answer { body, total_pages })
    }

    /// A GET, tried again (a few times, briefly, with the shared [`tiltas_connector::Backoff`])
    /// when the server fails: a read is safe to repeat, and one page of products can take
    /// many calls (variations), which a single failure would otherwise send back to the start
    /// of the page. The engine's own retries then see only failures that outlast these.
    pub(crate) async fn get(&self, path: &str, query: &[(String, String)]) -> Result<Answer, ConnectorError> {
        tiltas_connector::Backoff::new()
            .with_base(GET_RETRY_DELAY)
            .with_attempts(GET_TRIES)
            .retry(|| self.send(Method::GET, path, query, None))
            .await
    }

    /// A POST with a JSON body.
    pub(crate) async fn post(&self, path: &str, body: &Value) -> Result<Answer, ConnectorError> {
        self.send(Method::POST, path, &[], Some(body)).await
    }

    /// Every item of a list, page by page (for look-ups and small lists such as categories).
    pub(crate) async fn all(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<(Vec<Value>, u64), ConnectorError> {
        let (mut items, mut calls, mut page) = (Vec::new(), 0, 1);
        loop {
            let mut paged = query.to_vec();
            paged.push(("per_page".to_owned(), PER_PAGE.to_string()));
            paged.push(("page".to_owned(), page.to_string()));
            let answer = self.get(path, &paged).await?;
            calls += 1;
            let found = answer.body.as_array().cloned().unwrap_or_default();
            let done = found.len() < PER_PAGE || answer.total_pages.is_some_and(|total| page >= total);
            items.extend(found);
            if done {
                return Ok((items, calls));
            }
            page += 1;
        }
    }
}

/// A query pair.
pub(crate) fn pair(key: &str, value: impl ToString) -> (String, String) {
    (key.to_owned(), value.to_string())
}
