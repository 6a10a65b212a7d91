//! One supplier connection's feeds: where each lives (a folder or a URL), the credentials that
//! fetch them over HTTP, and the one HTTP call path (bytes, since a feed may be a workbook).
use crate::layout::Supplier;
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::sync::Arc;
use tiltas_connector::http::Reply;
use tiltas_connector::{CallGate, ConnectorError, ErrorKind};

/// Where a feed is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// Files dropped into this folder.
    Folder(PathBuf),
    /// Fetched from (or, for orders, uploaded to) this URL.
    Url(String),
}

/// How requests to the supplier prove who sends them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// None (a connection reading folders only).
    None,
    /// HTTP Basic with the portal's login and password.
    Basic {
        /// `login`.
        login: String,
        /// `password`.
        password: String,
    },
    /// `Authorization: Bearer TOKEN` with `customer_id` in the query.
    TokenAndCustomer {
        /// `token`.
        token: String,
        /// `customer_id`.
        customer_id: String,
    },
}

impl Credentials {
    /// The settings to check when the supplier refuses them (for messages).
    pub fn keys(&self) -> &'static str {
        match self {
            Credentials::None => "login",
            Credentials::Basic { .. } => "login` and `password",
            Credentials::TokenAndCustomer { .. } => "token` and `customer_id",
        }
    }

    /// The customer id, when the credentials have one.
    pub fn customer_id(&self) -> Option<&str> {
        match self {
            Credentials::TokenAndCustomer { customer_id, .. } => Some(customer_id),
            _ => None,
        }
    }

    fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Credentials::None => request,
            Credentials::Basic { login, password } => request.basic_auth(login, Some(password)),
            Credentials::TokenAndCustomer { token, customer_id } => {
                request.bearer_auth(token).query(&[("customer_id", customer_id)])
            }
        }
    }
}

/// A supplier connection's feeds.
pub struct FeedConnection {
    /// The supplier.
    pub supplier: &'static Supplier,
    /// The connection's name, for messages.
    pub name: String,
    /// The price and stock list.
    pub prices: Location,
    /// The invoice files, when the supplier sends them.
    pub invoices: Option<Location>,
    /// Where order files go, when orders are placed.
    pub orders: Option<Location>,
    /// The credentials of HTTP requests.
    pub credentials: Credentials,
    pub(crate) http: reqwest::Client,
    pub(crate) gate: Arc<dyn CallGate>,
}

/// A fetched answer.
pub(crate) struct Fetched {
    pub bytes: Vec<u8>,
    pub status: reqwest::StatusCode,
    /// `Last-Modified`, when sent.
    pub modified: Option<DateTime<Utc>>,
}

/// A URL without its query (which may hold credentials), for messages.
pub(crate) fn shown(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

impl FeedConnection {
    /// A connection; HTTP locations need credentials, refused here naming the keys to set.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        supplier: &'static Supplier,
        name: &str,
        prices: Location,
        invoices: Option<Location>,
        orders: Option<Location>,
        credentials: Credentials,
        timeout: std::time::Duration,
        gate: Arc<dyn CallGate>,
    ) -> Result<FeedConnection, ConnectorError> {
        let remote = [Some(&prices), invoices.as_ref(), orders.as_ref()]
            .into_iter()
            .flatten()
            .any(|location| matches!(location, Location::Url(_)));
        if remote && credentials == Credentials::None {
            return Err(ConnectorError::new(
                ErrorKind::Fatal,
                format!(
                    "connection \"{name}\": {} feeds are fetched over HTTP but the connection has no credentials: set {}",
                    supplier.label, supplier.credential_keys
                ),
            ));
        }
        Ok(FeedConnection {
            supplier,
            name: name.to_owned(),
            prices,
            invoices,
            orders,
            credentials,
            http: tiltas_connector::http::client(timeout)?,
            gate,
        })
    }

    /// `METHOD URL` as messages name a request.
    pub(crate) fn what(&self, method: &str, url: &str) -> String {
        format!(
            "connection \"{}\": {} {method} {}",
            self.name,
            self.supplier.label,
            shown(url)
        )
    }

    /// Sends a request with the credentials through the gate; any status is returned, a
    /// failure to send or read is transient.
    pub(crate) async fn send(&self, what: &str, request: reqwest::RequestBuilder) -> Result<Fetched, ConnectorError> {
        self.gate.admit().await?;
        let response = self
            .credentials
            .apply(request)
            .send()
            .await
            .map_err(|error| tiltas_connector::http::transport(what, &error))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|error| {
            ConnectorError::new(
                ErrorKind::Transient,
                format!("{what}: the answer broke off: {}", error.without_url()),
            )
        })?;
        let modified = headers
            .get("last-modified")
            .and_then(|value| value.to_str().ok())
            .and_then(httpdate_parse);
        if status.is_success() || status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::CONFLICT {
            return Ok(Fetched {
                bytes: bytes.to_vec(),
                status,
                modified,
            });
        }
        let reply = Reply {
            what: what.to_owned(),
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).chars().take(300).collect(),
        };
        Err(reply.failure(&reply.text, self.credentials.keys()))
    }

    /// GETs `url` (with `query`); a 404 is a failure naming the setting `key`.
    pub(crate) async fn fetch(
        &self,
        url: &str,
        query: &[(&str, String)],
        key: &str,
    ) -> Result<Fetched, ConnectorError> {
        let what = self.what("GET", url);
        let fetched = self.send(&what, self.http.get(url).query(query)).await?;
        if !fetched.status.is_success() {
            return Err(ConnectorError::new(
                ErrorKind::Fatal,
                format!("{what}: {}: no feed at this address: correct `{key}`", fetched.status),
            ));
        }
        Ok(fetched)
    }
}

fn httpdate_parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(text.trim())
        .ok()
        .map(|date| date.with_timezone(&Utc))
}
