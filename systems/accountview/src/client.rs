//! Calls to `accountviewdata`: a page of rows of a business object (with filters, sorted by its
//! key, the single-row-as-object quirk undone), every page to the end, and one write. Every
//! request carries the bearer token (renewed once on a 401 by the token source) and
//! `x-company`; AccountView's error body becomes the message, an HTML page a clear failure.
use crate::wire::{self, BusinessObject, Filter};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tiltas_connector::oauth2::TokenSource;
use tiltas_connector::{http, Backoff, ConnectorError, ErrorKind};

/// A row of a table.
pub(crate) type Row = Map<String, Value>;

/// One connection's data endpoint.
pub(crate) struct Client {
    pub connection: String,
    http: reqwest::Client,
    tokens: Arc<TokenSource>,
    data_url: reqwest::Url,
    company: String,
    pub page_size: usize,
}

/// The title of an HTML page, for messages.
fn html_title(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    if !(lower.trim_start().starts_with("<!doctype html") || lower.trim_start().starts_with("<html")) {
        return None;
    }
    let start = lower.find("<title>")? + "<title>".len();
    let end = lower[start..].find("</title>")? + start;
    Some(text[start..end].trim().to_owned())
}

impl Client {
    pub fn new(
        connection: &str,
        settings: &crate::ConnectionSettings,
        tokens: Arc<TokenSource>,
        http: reqwest::Client,
    ) -> Result<Client, ConnectorError> {
        let base = crate::auth::token_url(connection, settings)?;
        let data_url = base.join(wire::DATA_PATH).map_err(|error| {
            ConnectorError::new(
                ErrorKind::Fatal,
                format!("connection \"{connection}\": base_url: {error}"),
            )
        })?;
        Ok(Client {
            connection: connection.to_owned(),
            http,
            tokens,
            data_url,
            company: settings.company.clone(),
            page_size: settings.page_size.clamp(1, wire::MAX_PAGE_SIZE),
        })
    }

    /// The JSON of an answer, or the failure it is.
    fn answer(&self, reply: &http::Reply) -> Result<Value, ConnectorError> {
        if let Some(title) = html_title(&reply.text) {
            let kind = if reply.status.is_server_error() || reply.status.is_success() {
                ErrorKind::Transient
            } else {
                ErrorKind::Invalid
            };
            return Err(ConnectorError::new(
                kind,
                format!(
                    "connection \"{}\": {}: {} with an HTML page ({title:?}) instead of AccountView's JSON — a \
                     maintenance page, a proxy or a wrong address: check `base_url` (…/api/v3/); it is tried again",
                    self.connection, reply.what, reply.status
                ),
            ));
        }
        reply
            .json("client_id` and `client_secret", wire::error_text)
            .map_err(|error| {
                if error.kind == ErrorKind::Auth && reply.status.as_u16() == 403 {
                    ConnectorError::new(
                        ErrorKind::Auth,
                        format!(
                            "{}: check the connection's `company` (x-company): the authorised user has no access to \
                         administration {}",
                            error.message, self.company
                        ),
                    )
                } else {
                    error
                }
            })
    }

    async fn send(&self, what: &str, build: impl Fn(&str) -> reqwest::RequestBuilder) -> Result<Value, ConnectorError> {
        let reply = self
            .tokens
            .send(what, |token| build(token.secret()))
            .await
            .map_err(|error| crate::auth::explain(&self.connection, error))?;
        self.answer(&reply)
    }

    /// Page `page` (from 1) of `object`'s rows that pass `filters`, sorted by its key.
    pub async fn page(
        &self,
        object: &BusinessObject,
        page: usize,
        size: usize,
        filters: &[Filter],
    ) -> Result<Vec<Row>, ConnectorError> {
        let query = wire::read_query(object, page, size, filters);
        let what = format!("GET accountviewdata {} page {page}", object.code);
        let answer = self
            .send(&what, |token| {
                self.http
                    .get(self.data_url.clone())
                    .bearer_auth(token)
                    .header("x-company", &self.company)
                    .query(&query)
            })
            .await?;
        wire::rows(&answer, object.table).ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::Transient,
                format!(
                    "connection \"{}\": {what}: the answer has no {} table: {}",
                    self.connection,
                    object.table,
                    http::quote(&answer)
                ),
            )
        })
    }

    /// A page read that is not the first request of an engine call: a transient failure or a
    /// rate limit is retried here with [`Backoff`] (`Retry-After` honoured), since the engine
    /// would otherwise repeat the whole call and every request before this one. Returns the
    /// rows and the calls made.
    pub async fn page_retried(
        &self,
        object: &BusinessObject,
        page: usize,
        size: usize,
        filters: &[Filter],
    ) -> Result<(Vec<Row>, u64), ConnectorError> {
        let calls = AtomicU64::new(0);
        let rows = Backoff::new()
            .retry(|| {
                calls.fetch_add(1, Ordering::Relaxed);
                self.page(object, page, size, filters)
            })
            .await?;
        Ok((rows, calls.into_inner()))
    }

    /// Every row of `object` that passes `filters`, page by page to the last; the calls made.
    /// Pages after the first are retried here ([`Client::page_retried`]); so is the first
    /// unless `first_call` says it is the first request of an engine call (which the engine
    /// retries itself).
    pub async fn all(
        &self,
        object: &BusinessObject,
        filters: &[Filter],
        first_call: bool,
    ) -> Result<(Vec<Row>, u64), ConnectorError> {
        let mut rows = Vec::new();
        let mut calls = 0;
        for page in 1.. {
            let found = if page == 1 && first_call {
                calls += 1;
                self.page(object, page, self.page_size, filters).await?
            } else {
                let (found, used) = self.page_retried(object, page, self.page_size, filters).await?;
                calls += used;
                found
            };
            let last = found.len() < self.page_size;
            rows.extend(found);
            if last {
                break;
            }
        }
        Ok((rows, calls))
    }

    /// Writes one body; `Ok(Err(..))` is AccountView refusing the record (a 400 with its error).
    pub async fn write(&self, what: &str, body: &Value) -> Result<Result<Value, ConnectorError>, ConnectorError> {
        let result = self
            .send(what, |token| {
                self.http
                    .post(self.data_url.clone())
                    .bearer_auth(token)
                    .header("x-company", &self.company)
                    .json(body)
            })
            .await;
        match result {
            Ok(answer) => Ok(Ok(answer)),
            Err(error) if error.kind == ErrorKind::Invalid => Ok(Err(error)),
            Err(error) => Err(error),
        }
    }
}
