//! Calls to the IC API: every request waits for the connection's gate, carries a Bearer token
//! from the connection's client-credentials [`TokenSource`] (renewed once on a 401), and reads
//! IC's error body into the message.
use crate::wire;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use tiltas_connector::oauth2::{ClientAuth, Grant, OAuth2Settings, TokenSource};
use tiltas_connector::{http, CallGate, ConnectorError, ErrorKind};

/// The settings an auth failure names.
const CREDENTIALS: &str = "`client_id` and `client_secret`";

/// One connection's API.
pub(crate) struct Client {
    pub connection: String,
    http: reqwest::Client,
    tokens: Arc<TokenSource>,
    base: String,
    pub location: Option<String>,
    pub ship_to: Option<String>,
}

/// What a JSON call answered: the body and the SKUs it did not know (`skpSkuList`).
pub(crate) struct Answer<T> {
    pub body: T,
    pub unknown: Vec<String>,
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
        let token_url = reqwest::Url::parse(&settings.token_url).map_err(|error| {
            fatal(
                connection,
                format!(
                    "token_url {:?} is not a URL ({error}): set it to …/oauth2/token",
                    settings.token_url
                ),
            )
        })?;
        reqwest::Url::parse(&settings.base_url).map_err(|error| {
            fatal(
                connection,
                format!(
                    "base_url {:?} is not a URL ({error}): set it to …/ic",
                    settings.base_url
                ),
            )
        })?;
        let mut oauth = OAuth2Settings::new(
            connection,
            token_url,
            settings.client_id.clone(),
            settings.client_secret.clone(),
        );
        oauth.client_auth = if settings.client_auth == "basic" {
            ClientAuth::Basic
        } else {
            ClientAuth::Form
        };
        oauth.scope = settings.scope.clone();
        oauth.credentials = CREDENTIALS.to_owned();
        let http = http::client(settings.timeout)?;
        let tokens = Arc::new(TokenSource::new(http.clone(), gate, oauth, Grant::ClientCredentials));
        Ok(Client {
            connection: connection.to_owned(),
            http,
            tokens,
            base: settings.base_url.trim_end_matches('/').to_owned(),
            location: settings.location.clone(),
            ship_to: settings.ship_to.clone(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        what: &str,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<Answer<T>, ConnectorError> {
        let reply = self.tokens.send(what, |token| build(token.secret())).await?;
        let value = reply
            .json(CREDENTIALS, wire::error_text)
            .map_err(|error| ConnectorError {
                message: format!("connection \"{}\": {}", self.connection, error.message),
                ..error
            })?;
        let unknown = reply
            .header(wire::UNKNOWN_SKUS_HEADER)
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let body = serde_json::from_value(value.clone()).map_err(|error| {
            ConnectorError::new(
                ErrorKind::Transient,
                format!(
                    "connection \"{}\": {what}: the answer is not the IC API's shape ({error}): {}",
                    self.connection,
                    http::quote(&value)
                ),
            )
        })?;
        Ok(Answer { body, unknown })
    }

    /// `GET path?query`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Answer<T>, ConnectorError> {
        let mut query = query.to_vec();
        if let Some(ship_to) = &self.ship_to {
            query.push(("shipTo", ship_to.clone()));
        }
        let what = format!("GET {path}");
        self.call(&what, |token| {
            self.http.get(self.url(path)).bearer_auth(token).query(&query)
        })
        .await
    }

    /// `POST path` with a JSON body.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<Answer<T>, ConnectorError> {
        let what = format!("POST {path}");
        let query: Vec<(&str, String)> = self.ship_to.iter().map(|s| ("shipTo", s.clone())).collect();
        self.call(&what, |token| {
            self.http
                .post(self.url(path))
                .bearer_auth(token)
                .query(&query)
                .json(body)
        })
        .await
    }
}
