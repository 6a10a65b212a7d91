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

/// How calls are authorised.
#[derive(Clone)]
enum Auth {
    /// An integration's access token, as configured.
    Token(String),
    /// An admin user: the token `integration/admin/token` issues (valid 4 hours), fetched when
    /// needed and again when the shop refuses it.
    Admin(Arc<AdminLogin>),
}

/// An admin login and the token it last got.
struct AdminLogin {
    username: String,
    password: String,
    token: tokio::sync::Mutex<Option<String>>,
}

/// The HTTP side of one Magento connection.
#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    /// The shop's address without a trailing `/` or `/rest`.
    base: String,
    auth: Auth,
    gate: Arc<dyn CallGate>,
}

impl Client {
    pub fn new(connection: &crate::ConnectionSettings, gate: Arc<dyn CallGate>) -> Result<Client, ConnectorError> {
        let base = connection.base_url.trim_end_matches('/');
        let base = base.strip_suffix("/rest").unwrap_or(base).to_owned();
        let auth =
            match (&connection.token, &connection.username, &connection.password) {
                (Some(token), None, None) => Auth::Token(crate::http::reveal(token)?),
                (None, Some(username), Some(password)) => Auth::Admin(Arc::new(AdminLogin {
                    username: username.clone(),
                    password: crate::http::reveal(password)?,
                    token: tokio::sync::Mutex::new(None),
                })),
                _ => return Err(ConnectorError::new(
                    ErrorKind::Fatal,
                    "a Magento connection signs in with `token` (an integration's access token) or with `username` \
                     and `password` (an admin user), one of the two",
                )
                .with_fix("set `token`, or `username` and `password`, in the connection")),
            };
        Ok(Client {
            http: crate::http::client(connection.timeout)?,
            base,
            auth,
            gate,
        })
    }

    /// The settings an auth failure names.
    fn credential(&self) -> &'static str {
        match self.auth {
            Auth::Token(_) => "token",
            Auth::Admin(_) => "`username` and `password`",
        }
    }

    /// The token to send: the configured one, or the admin login's (signing in when it has none).
    async fn bearer(&self) -> Result<String, ConnectorError> {
        let admin = match &self.auth {
            Auth::Token(token) => return Ok(token.clone()),
            Auth::Admin(admin) => admin,
        };
        let mut current = admin.token.lock().await;
        if let Some(token) = current.as_ref() {
            return Ok(token.clone());
        }
        let login = serde_json::json!({ "username": admin.username, "password": admin.password });
        let request = self
            .http
            .post(self.url(Scope::Default, "integration/admin/token"))
            .json(&login);
        let reply = crate::http::exchange(self.gate.as_ref(), "POST /rest/V1/integration/admin/token", request).await?;
        let token = match reply.json("`username` and `password`", wire::error_text)? {
            Value::String(token) if !token.trim().is_empty() => token.trim().to_owned(),
            other => {
                return Err(ConnectorError::new(
                    ErrorKind::Transient,
                    format!(
                        "POST /rest/V1/integration/admin/token: not a token: {}",
                        crate::http::quote(&other)
                    ),
                ))
            }
        };
        *current = Some(token.clone());
        Ok(token)
    }

    /// Forgets an admin token the shop refused, unless another call already replaced it.
    async fn refused(&self, token: &str) -> bool {
        let Auth::Admin(admin) = &self.auth else { return false };
        let mut current = admin.token.lock().await;
        if current.as_deref() == Some(token) {
            *current = None;
        }
        true
    }

    fn url(&self, scope: Scope, path: &str) -> String {
        match scope {
            Scope::Default => format!("{}/rest/V1/{path}", self.base),
            Scope::All => format!("{}/rest/all/V1/{path}", self.base),
        }
    }

    /// Sends a request and reads the JSON answer; Magento's error text, parameters filled in,
    /// is the failure's message.
    /// With an admin login, a 401 signs in again once: its 4-hour token ran out.
    async fn call(&self, what: String, request: reqwest::RequestBuilder) -> Result<Value, ConnectorError> {
        let token = self.bearer().await?;
        let again = request.try_clone();
        let reply = crate::http::exchange(self.gate.as_ref(), &what, request.bearer_auth(&token)).await?;
        if reply.status == reqwest::StatusCode::UNAUTHORIZED && self.refused(&token).await {
            if let Some(again) = again {
                let token = self.bearer().await?;
                let reply = crate::http::exchange(self.gate.as_ref(), &what, again.bearer_auth(&token)).await?;
                return reply.json(self.credential(), wire::error_text);
            }
        }
        reply.json(self.credential(), wire::error_text)
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
