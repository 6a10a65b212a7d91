//! Calls to a Magento shop: Bearer auth, `searchCriteria` queries, the store scope of a path
//! (`/rest/V1` for the default store view, `/rest/all/V1` for catalogue writes to every store
//! view), and Magento's error body turned into our message.
use crate::wire;
use crate::{CallGate, ConnectorError, ErrorKind};
use serde_json::Value;
use std::sync::Arc;

/// Which store view a call addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// `/rest/V1`: the default store view (reads, customers, inventory).
    Default,
    /// `/rest/all/V1`: every store view at once; catalogue writes go here so that Magento does
    /// not create store-level overrides of names and prices.
    All,
}

/// Characters escaped in a path segment (a SKU or an e-mail): everything but unreserved ones.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A SKU (or any text) as one path segment.
pub(crate) fn segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, SEGMENT).to_string()
}

/// One filter of a search: `(field, value, condition_type)`.
pub(crate) type Filter = (String, String, &'static str);

/// A `searchCriteria` query: filter groups (AND across groups, OR within one), sort orders and
/// the page.
#[derive(Debug, Default, Clone)]
pub(crate) struct Search {
    pub groups: Vec<Vec<Filter>>,
    pub sort: Vec<(&'static str, &'static str)>,
    pub page_size: usize,
    pub current_page: usize,
}

impl Search {
    /// The query pairs Magento reads (`searchCriteria[filter_groups][0][filters][0][field]=…`).
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        for (group_index, group) in self.groups.iter().enumerate() {
            for (filter_index, (field, value, condition)) in group.iter().enumerate() {
                let prefix = format!("searchCriteria[filter_groups][{group_index}][filters][{filter_index}]");
                pairs.push((format!("{prefix}[field]"), field.clone()));
                pairs.push((format!("{prefix}[value]"), value.clone()));
                pairs.push((format!("{prefix}[condition_type]"), (*condition).to_owned()));
            }
        }
        for (index, (field, direction)) in self.sort.iter().enumerate() {
            pairs.push((
                format!("searchCriteria[sortOrders][{index}][field]"),
                (*field).to_owned(),
            ));
            pairs.push((
                format!("searchCriteria[sortOrders][{index}][direction]"),
                (*direction).to_owned(),
            ));
        }
        // Magento wants searchCriteria even when empty (magento/magento2#11022).
        pairs.push(("searchCriteria[pageSize]".to_owned(), self.page_size.to_string()));
        pairs.push((
            "searchCriteria[currentPage]".to_owned(),
            self.current_page.max(1).to_string(),
        ));
        pairs
    }
}

/// A search result: the items and `total_count`.
pub(crate) struct Found {
    pub items: Vec<Value>,
    pub total_count: u64,
}

/// The HTTP side of one Magento connection.
#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    /// The shop's address without a trailing `/` or `/rest`.
    base: String,
    token: String,
    gate: Arc<dyn CallGate>,
}

impl Client {
    pub fn new(connection: &crate::ConnectionSettings, gate: Arc<dyn CallGate>) -> Result<Client, ConnectorError> {
        let base = connection.base_url.trim_end_matches('/');
        let base = base.strip_suffix("/rest").unwrap_or(base).to_owned();
        Ok(Client {
            http: crate::http::client(connection.timeout)?,
            base,
            token: crate::http::reveal(&connection.token)?,
            gate,
        })
    }

    fn url(&self, scope: Scope, path: &str) -> String {
        match scope {
            Scope::Default => format!("{}/rest/V1/{path}", self.base),
            Scope::All => format!("{}/rest/all/V1/{path}", self.base),
        }
    }

    /// Sends a request and reads the JSON answer; Magento's error text, parameters filled in,
    /// is the failure's message.
    async fn call(&self, what: String, request: reqwest::RequestBuilder) -> Result<Value, ConnectorError> {
        let reply = crate::http::exchange(self.gate.as_ref(), &what, request.bearer_auth(&self.token)).await?;
        reply.json("token", wire::error_text)
    }

    /// `GET` a path with a query.
    pub async fn get(&self, path: &str, query: &[(String, String)]) -> Result<Value, ConnectorError> {
        let what = format!("GET /rest/V1/{path}");
        self.call(what, self.http.get(self.url(Scope::Default, path)).query(query))
            .await
    }

    /// A search (`GET path?searchCriteria…`): its items and `total_count`.
    pub async fn search(&self, path: &str, search: &Search) -> Result<Found, ConnectorError> {
        let body = self.get(path, &search.pairs()).await?;
        let items = body.get("items").and_then(Value::as_array).cloned();
        let total_count = body.get("total_count").and_then(Value::as_u64);
        match (items, total_count) {
            (Some(items), Some(total_count)) => Ok(Found { items, total_count }),
            // PHP serialises an empty result object as `[]`.
            (None, None) if body == Value::Array(Vec::new()) => Ok(Found {
                items: Vec::new(),
                total_count: 0,
            }),
            _ => Err(ConnectorError::new(
                ErrorKind::Transient,
                format!(
                    "GET /rest/V1/{path}: not a search result (no `items` and `total_count`): {}",
                    crate::http::quote(&body)
                ),
            )),
        }
    }

    /// Sends `body` with `method` to `path` in `scope`.
    pub async fn send(
        &self,
        method: reqwest::Method,
        scope: Scope,
        path: &str,
        body: &Value,
    ) -> Result<Value, ConnectorError> {
        let prefix = match scope {
            Scope::Default => "/rest/V1",
            Scope::All => "/rest/all/V1",
        };
        let what = format!("{method} {prefix}/{path}");
        self.call(what, self.http.request(method, self.url(scope, path)).json(body))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_spells_filter_groups_sort_orders_and_the_page() {
        let search = Search {
            groups: vec![vec![(
                "updated_at".to_owned(),
                "2024-05-01 10:00:00".to_owned(),
                "gteq",
            )]],
            sort: vec![("entity_id", "ASC")],
            page_size: 300,
            current_page: 1,
        };
        let pairs = search.pairs();
        assert!(pairs.contains(&(
            "searchCriteria[filter_groups][0][filters][0][condition_type]".to_owned(),
            "gteq".to_owned()
        )));
        assert!(pairs.contains(&(
            "searchCriteria[sortOrders][0][field]".to_owned(),
            "entity_id".to_owned()
        )));
        assert!(pairs.contains(&("searchCriteria[pageSize]".to_owned(), "300".to_owned())));
        assert_eq!(segment("MH01 Blue/L"), "MH01%20Blue%2FL");
    }
}
