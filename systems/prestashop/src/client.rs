//! The HTTP side of the PrestaShop connector: the key as the Basic-auth user name, XML bodies,
//! PrestaShop's `<errors>` explained, lists paged with `limit=offset,count`.
use crate::xml::Element;
use crate::{CallGate, ConnectorError, ErrorKind};
use reqwest::Method;
use std::sync::Arc;
use std::time::Duration;

/// Records per list call: PrestaShop has no maximum, but a page of full products is large.
pub(crate) const PAGE: usize = 100;
/// Tries of one GET inside a page, the first included.
const GET_TRIES: u32 = 4;
/// The first wait between those tries (it doubles, with jitter; `Retry-After` wins).
const GET_RETRY_DELAY: Duration = Duration::from_millis(100);
/// The setting to check when the shop refuses the key.
const CREDENTIAL: &str = "key";

/// A query pair.
pub(crate) fn pair(key: &str, value: impl ToString) -> (String, String) {
    (key.to_owned(), value.to_string())
}

/// A PrestaShop Webservice client for one connection.
#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    /// `…/api`.
    api: String,
    key: String,
    /// The language id of names and descriptions.
    pub language: String,
    gate: Arc<dyn CallGate>,
}

impl Client {
    pub(crate) fn new(
        connection: &crate::ConnectionSettings,
        gate: Arc<dyn CallGate>,
    ) -> Result<Client, ConnectorError> {
        let base = connection.base_url.trim_end_matches('/');
        let base = base.strip_suffix("/api").unwrap_or(base).trim_end_matches('/');
        Ok(Client {
            http: crate::http::client(connection.timeout)?,
            api: format!("{base}/api"),
            key: crate::http::reveal(&connection.key)?,
            language: connection.language.clone(),
            gate,
        })
    }

    /// Sends one request to `path` (below `/api`); `Ok(None)` is a 404 (PrestaShop's answer to
    /// a missing id), any other failure is classified with PrestaShop's own code and message.
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<String>,
    ) -> Result<Option<Element>, ConnectorError> {
        let url = format!("{}/{}", self.api, path.trim_start_matches('/'));
        let what = format!("{method} /api/{}", path.trim_start_matches('/'));
        let mut request = self
            .http
            .request(method.clone(), &url)
            .basic_auth(&self.key, Some(""))
            .query(query);
        if let Some(body) = body {
            request = request.header("content-type", "text/xml").body(body);
        }
        let reply = crate::http::exchange(self.gate.as_ref(), &what, request).await?;
        if reply.status.as_u16() == 404 && method == Method::GET && reply.text.trim().is_empty() {
            return Ok(None);
        }
        if !reply.status.is_success() {
            let message = explain(&reply.text).unwrap_or_else(|| quote(&reply.text));
            return Err(reply.failure(&message, CREDENTIAL));
        }
        if method == Method::DELETE {
            return Ok(None);
        }
        match Element::parse(&reply.text) {
            Ok(root) if root.name == "prestashop" => Ok(Some(root)),
            Ok(root) => Err(unreadable(
                &what,
                &format!("<{}> instead of <prestashop>", root.name),
                &reply.text,
            )),
            Err(error) => Err(unreadable(&what, &error.0, &reply.text)),
        }
    }

    /// A GET, tried again a few times when the server fails: a read is safe to repeat, and a
    /// page of products takes several calls, which one failure would send back to the start.
    pub(crate) async fn get(&self, path: &str, query: &[(String, String)]) -> Result<Option<Element>, ConnectorError> {
        tiltas_connector::Backoff::new()
            .with_base(GET_RETRY_DELAY)
            .with_attempts(GET_TRIES)
            .retry(|| self.send(Method::GET, path, query, None))
            .await
    }

    /// One record (`products/27`), `None` when the shop has no such id.
    pub(crate) async fn record(
        &self,
        collection: &str,
        element: &str,
        id: &str,
    ) -> Result<Option<Element>, ConnectorError> {
        let Some(root) = self.get(&format!("{collection}/{id}"), &[]).await? else {
            return Ok(None);
        };
        match root.child(element) {
            Some(record) => Ok(Some(record.clone())),
            None => Err(ConnectorError::new(
                ErrorKind::Transient,
                format!("GET /api/{collection}/{id}: the answer has no <{element}>"),
            )),
        }
    }

    /// One page of a list with `display=full` and the given filters; the records in order.
    pub(crate) async fn list(
        &self,
        collection: &str,
        query: &[(String, String)],
    ) -> Result<Vec<Element>, ConnectorError> {
        let mut query = query.to_vec();
        if !query.iter().any(|(key, _)| key == "display") {
            query.push(pair("display", "full"));
        }
        let root = self.get(collection, &query).await?.unwrap_or_default();
        match root.child(collection) {
            Some(list) => Ok(list.children.clone()),
            None => Err(ConnectorError::new(
                ErrorKind::Transient,
                format!("GET /api/{collection}: the answer has no <{collection}> list"),
            )),
        }
    }

    /// Every record a filtered list holds, paged with `limit=offset,count` until a page comes
    /// back short (the Webservice sends no totals). Returns the records and the calls made.
    pub(crate) async fn all(
        &self,
        collection: &str,
        query: &[(String, String)],
    ) -> Result<(Vec<Element>, u64), ConnectorError> {
        let (mut records, mut calls) = (Vec::new(), 0);
        loop {
            let mut paged = query.to_vec();
            paged.push(pair("sort", "[id_ASC]"));
            paged.push(pair("limit", format!("{},{PAGE}", records.len())));
            let page = self.list(collection, &paged).await?;
            calls += 1;
            let done = page.len() < PAGE;
            records.extend(page);
            if done {
                return Ok((records, calls));
            }
        }
    }

    /// Creates a record (`POST /api/products`); the record as stored.
    pub(crate) async fn post(&self, collection: &str, record: &Element) -> Result<Element, ConnectorError> {
        let root = self
            .send(Method::POST, collection, &[], Some(record.document()))
            .await?
            .unwrap_or_default();
        stored(collection, root, &record.name)
    }

    /// Replaces a record whole (`PUT /api/products/27`); the record as stored.
    pub(crate) async fn put(&self, collection: &str, id: &str, record: &Element) -> Result<Element, ConnectorError> {
        let root = self
            .send(Method::PUT, &format!("{collection}/{id}"), &[], Some(record.document()))
            .await?
            .unwrap_or_default();
        stored(collection, root, &record.name)
    }
}

fn stored(collection: &str, root: Element, element: &str) -> Result<Element, ConnectorError> {
    root.child(element).cloned().ok_or_else(|| {
        ConnectorError::new(
            ErrorKind::Transient,
            format!("write to /api/{collection}: the answer has no <{element}>"),
        )
    })
}

/// PrestaShop's `<errors><error><code/><message/></error></errors>` as `code N: message; …`.
fn explain(text: &str) -> Option<String> {
    let root = Element::parse(text).ok()?;
    let errors = root.child("errors")?;
    let messages: Vec<String> = errors
        .children_named("error")
        .map(|error| match (error.text_of("code"), error.text_of("message")) {
            (Some(code), Some(message)) => format!("code {code}: {message}"),
            (None, Some(message)) => message.to_owned(),
            _ => "an error without a message".to_owned(),
        })
        .collect();
    (!messages.is_empty()).then(|| messages.join("; "))
}

/// The start of a body, for messages.
fn quote(text: &str) -> String {
    let start: String = text.trim().chars().take(200).collect();
    if start.is_empty() {
        "(empty body)".to_owned()
    } else {
        format!("{start:?}")
    }
}

/// A success whose body is not PrestaShop's XML (a proxy's HTML page, a cut answer): transient,
/// quoting what came, never read as an empty list.
fn unreadable(what: &str, why: &str, text: &str) -> ConnectorError {
    let looks_html = text.trim_start().to_ascii_lowercase().starts_with("<!doctype html") || text.contains("<html");
    ConnectorError::new(
        ErrorKind::Transient,
        format!(
            "{what}: the answer is not PrestaShop XML{} ({why}): {} — a proxy, firewall or maintenance page in \
             front of the shop? It is tried again; if it stays, check base_url",
            if looks_html { " but an HTML page" } else { "" },
            quote(text)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prestashop_errors_are_explained_with_their_codes() {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n<errors>\n<error>\n<code><![CDATA[93]]></code>\n<message><![CDATA[parameter \"quantity\" not writable. Please remove this attribute of this XML]]></message>\n</error>\n</errors>\n</prestashop>\n";
        assert_eq!(
            explain(body).as_deref(),
            Some("code 93: parameter \"quantity\" not writable. Please remove this attribute of this XML")
        );
        assert_eq!(explain("<html>"), None);
        let error = unreadable("GET /api/products", "cut short", "<!DOCTYPE html><html><body>502");
        assert_eq!(error.kind, ErrorKind::Transient);
        assert!(error.message.contains("HTML page"), "{}", error.message);
    }
}
