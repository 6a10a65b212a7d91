//! Calls to Omega: every call is a `POST` with the connection's `key` in the body (form fields,
//! or JSON where a list is sent), waits for the connection's gate, and reads the `Success`
//! envelope. A `Success: false` about the key or the caller's address is an auth error naming
//! `key`; any other is Omega's message, handed back for the caller to fail the one part,
//! record or order it was about.
use crate::wire::{self, Envelope, Refusal};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;
use tiltas_connector::{http, CallGate, ConnectorError, ErrorKind};

/// The setting an auth failure names.
pub(crate) const KEY: &str = "`key`";

/// One connection's API.
pub(crate) struct Client {
    pub connection: String,
    http: reqwest::Client,
    gate: Arc<dyn CallGate>,
    base: String,
    key: tiltas_config::Secret,
    /// The currency of prices without a `Currency` field.
    pub currency: String,
    /// The one warehouse stock and offers are read for (`branch`).
    pub branch: Option<String>,
    /// VAT rate in percent, for gross prices.
    pub vat: rust_decimal::Decimal,
}

/// What a call answered: its `Data`, or Omega's words for a refusal about the request itself.
pub(crate) type Answer<T> = Result<T, String>;

impl Client {
    pub fn new(
        connection: &str,
        settings: &crate::ConnectionSettings,
        gate: Arc<dyn CallGate>,
    ) -> Result<Client, ConnectorError> {
        reqwest::Url::parse(&settings.base_url).map_err(|error| {
            ConnectorError::new(
                ErrorKind::Fatal,
                format!(
                    "connection \"{connection}\": base_url {:?} is not a URL ({error}): set it to \
                     https://public.omega.page/public/api/v1.0",
                    settings.base_url
                ),
            )
        })?;
        Ok(Client {
            connection: connection.to_owned(),
            http: http::client(settings.timeout)?,
            gate,
            base: settings.base_url.trim_end_matches('/').to_owned(),
            key: settings.key.clone(),
            currency: settings.currency.clone(),
            branch: settings
                .branch
                .as_deref()
                .map(str::trim)
                .filter(|b| !b.is_empty())
                .map(str::to_owned),
            vat: rust_decimal::Decimal::from(settings.vat_percent.max(0)),
        })
    }

    /// `POST path` with form fields and `Key`.
    pub async fn form<T: DeserializeOwned>(
        &self,
        path: &str,
        fields: &[(&str, String)],
    ) -> Result<Answer<T>, ConnectorError> {
        let key = http::reveal(&self.key)?;
        let mut form: Vec<(&str, String)> = fields.to_vec();
        form.push(("Key", key));
        let request = self.http.post(format!("{}{path}", self.base)).form(&form);
        self.send(path, request).await
    }

    /// `POST path` with a JSON body and `Key` (for lists, which form fields cannot carry).
    pub async fn json<T: DeserializeOwned>(&self, path: &str, mut body: Value) -> Result<Answer<T>, ConnectorError> {
        let key = http::reveal(&self.key)?;
        if let Value::Object(map) = &mut body {
            map.insert("Key".into(), Value::String(key));
        }
        let request = self.http.post(format!("{}{path}", self.base)).json(&body);
        self.send(path, request).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        path: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer<T>, ConnectorError> {
        let what = format!("POST {path}");
        let named = |error: ConnectorError| ConnectorError {
            message: format!("connection \"{}\": {}", self.connection, error.message),
            ..error
        };
        let reply = http::exchange(self.gate.as_ref(), &what, request)
            .await
            .map_err(named)?;
        let value = reply.json(KEY, error_text).map_err(named)?;
        let envelope: Envelope<Value> = serde_json::from_value(value.clone()).map_err(|error| {
            self.transient(format!(
                "{what}: the answer is not Omega's envelope ({error}): {}",
                http::quote(&value)
            ))
        })?;
        if !envelope.success {
            return match wire::refusal(&envelope.errors) {
                Refusal::Key(text) => Err(self.auth(format!(
                    "{what}: Omega refused the key ({text}): check {KEY} — it must be the token Omega issued for this account"
                ))),
                Refusal::Address(text) => Err(self.auth(format!(
                    "{what}: Omega refused the key from this server's address ({text}): Omega issues a key for one IP \
                     address — ask Omega to issue it for the public address this Tiltas server connects from, then set {KEY}"
                ))),
                Refusal::Other(text) => Ok(Err(text)),
            };
        }
        let data = envelope.data.unwrap_or(Value::Null);
        serde_json::from_value(data.clone()).map(Ok).map_err(|error| {
            self.transient(format!(
                "{what}: Data is not what Omega answers there ({error}): {}",
                http::quote(&data)
            ))
        })
    }

    /// Whether stock and offers are read for warehouse `name` (every one without `branch`).
    pub fn reads(&self, name: &str) -> bool {
        self.branch
            .as_deref()
            .is_none_or(|branch| branch.eq_ignore_ascii_case(name.trim()))
    }

    fn auth(&self, message: String) -> ConnectorError {
        ConnectorError::new(
            ErrorKind::Auth,
            format!("connection \"{}\": {message}", self.connection),
        )
    }

    fn transient(&self, message: String) -> ConnectorError {
        ConnectorError::new(
            ErrorKind::Transient,
            format!("connection \"{}\": {message}", self.connection),
        )
    }

    /// A call's refusal that fails the whole read (a list that cannot be read is no record's fault).
    pub fn refused(&self, what: &str, text: &str) -> ConnectorError {
        ConnectorError::new(
            ErrorKind::Invalid,
            format!(
                "connection \"{}\": POST {what}: Omega answered Success false: {text}; check the flow's settings \
                 (dates, entity) against what the account may read, or ask Omega",
                self.connection
            ),
        )
    }
}

/// The text of an error body that is not a success (a gateway's or Omega's own).
fn error_text(body: &Value) -> Option<String> {
    let errors: Vec<wire::ErrorItem> = body
        .get("Errors")
        .and_then(|errors| serde_json::from_value(errors.clone()).ok())
        .unwrap_or_default();
    if !errors.is_empty() {
        return Some(match wire::refusal(&errors) {
            Refusal::Key(text) | Refusal::Address(text) | Refusal::Other(text) => text,
        });
    }
    ["Message", "message", "error"]
        .iter()
        .find_map(|key| body.get(*key).and_then(Value::as_str).map(str::to_owned))
}
