//! Calls to Elit's two services: every body carries the company, login and password, every call
//! waits for the connection's gate, and every answer goes through `tiltas_connector::soap`
//! (faults, HTTP statuses). A fault about the login or password is an auth error naming them;
//! one about the company (unknown, or not the account's) is an auth error naming `company`; a
//! 2xx answer that is not SOAP (a proxy's page) is transient.
use crate::wire::{self, Credentials, ItemAvailability, ItemInfo, ItemLine, OrderInfo};
use std::sync::Arc;
use tiltas_connector::soap::{self, Element};
use tiltas_connector::{http, CallGate, ConnectorError, ErrorKind};

/// The settings a refused login names (as `soap`'s "check the connection's `…`").
const LOGIN: &str = "login` and `password";

/// One connection's eConnector.
pub(crate) struct Client {
    pub connection: String,
    http: reqwest::Client,
    gate: Arc<dyn CallGate>,
    business: reqwest::Url,
    buyer: reqwest::Url,
    place: String,
    pub company: String,
    login: String,
    password: tiltas_config::Secret,
    application_id: Option<String>,
}

impl Client {
    pub fn new(
        connection: &str,
        settings: &crate::ConnectionSettings,
        gate: Arc<dyn CallGate>,
    ) -> Result<Client, ConnectorError> {
        let base = settings.base_url.trim_end_matches('/');
        let parse = |path: &str| {
            reqwest::Url::parse(&format!("{base}{path}")).map_err(|error| {
                ConnectorError::new(
                    ErrorKind::Fatal,
                    format!(
                        "connection \"{connection}\": base_url {:?} is not a URL ({error}): set it to \
                         https://econnector.elit.cz (the services are under /InterCompany-1.87/)",
                        settings.base_url
                    ),
                )
            })
        };
        let company = settings.company.trim().to_owned();
        if company.is_empty() {
            return Err(ConnectorError::new(
                ErrorKind::Fatal,
                format!(
                    "connection \"{connection}\": company is empty: set it to the Elit company of the account's \
                     country (ELIT_LT, ELIT_CZ, ELIT_RO …)"
                ),
            ));
        }
        Ok(Client {
            connection: connection.to_owned(),
            http: http::client(settings.timeout)?,
            gate,
            business: parse(wire::BUSINESS_PATH)?,
            buyer: parse(wire::BUYER_PATH)?,
            place: format!("connection \"{connection}\" ({base})"),
            company,
            login: settings.login.trim().to_owned(),
            password: settings.password.clone(),
            application_id: settings
                .application_id
                .as_deref()
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(str::to_owned),
        })
    }

    /// The credentials of a body, the password resolved.
    fn credentials(&self) -> Result<Credentials, ConnectorError> {
        Ok(Credentials {
            company: self.company.clone(),
            login: self.login.clone(),
            password: http::reveal(&self.password)?,
            application_id: self.application_id.clone(),
        })
    }

    /// Posts `body` to `endpoint` and returns the response element.
    async fn call(&self, endpoint: &reqwest::Url, namespace: &str, body: &Element) -> Result<Element, ConnectorError> {
        let operation = body.name.as_str();
        let request = wire::envelope(namespace, body)?;
        let post = self
            .http
            .post(endpoint.clone())
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("SOAPAction", "\"\"")
            .body(request);
        tracing::debug!(connection = %self.connection, %operation, "Elit call");
        let what = format!("{}: {operation}", self.place);
        let reply = http::exchange(self.gate.as_ref(), &what, post).await?;
        if reply.status.is_success() {
            if let Err(not_soap) = soap::read_reply(&reply.text) {
                return Err(ConnectorError::new(
                    ErrorKind::Transient,
                    format!(
                        "{}: {operation} answered {} with a body that is not a SOAP response ({not_soap}); \
                         retried — if it stays, check that base_url is Elit's eConnector",
                        self.place, reply.status
                    ),
                ));
            }
        }
        soap::response(
            &self.place,
            operation,
            LOGIN,
            reply.status,
            reply.retry_after(),
            &reply.text,
        )
        .map_err(|error| self.about_company(error))
    }

    /// A fault naming the company is a wrong `company` setting, not a wrong record.
    fn about_company(&self, error: ConnectorError) -> ConnectorError {
        let text = error.message.to_lowercase();
        let about_company = text.contains("unknown company")
            || text.contains("company name is missing")
            || (text.contains("company")
                && ["not registered", "no access", "not authori", "not allowed"]
                    .iter()
                    .any(|words| text.contains(words)));
        if text.contains("soap fault") && about_company && !text.contains("password") {
            return ConnectorError::new(
                ErrorKind::Auth,
                format!(
                    "{}; check `company` ({:?}): it must be the Elit company of the account's country \
                     (ELIT_LT, ELIT_CZ, ELIT_RO …) that issued the login",
                    error.message, self.company
                ),
            );
        }
        error
    }

    fn unreadable(&self, operation: &str, problem: String) -> ConnectorError {
        ConnectorError::new(
            ErrorKind::Transient,
            format!(
                "{}: {operation} answered what Elit does not answer there ({problem}); retried — if it stays, \
                 ask Elit whether the service changed",
                self.place
            ),
        )
    }

    /// Availability of up to [`wire::MAX_ITEMS`] items by delivery time.
    pub async fn availability(&self, lines: &[ItemLine]) -> Result<Vec<ItemAvailability>, ConnectorError> {
        let body = wire::agreg_request(&self.credentials()?, None, lines);
        let answer = self.call(&self.business, wire::BUSINESS_NAMESPACE, &body).await?;
        let Some(result) = answer.child("return") else {
            return Ok(Vec::new());
        };
        result
            .children_named("items")
            .map(ItemAvailability::read)
            .collect::<Result<_, _>>()
            .map_err(|problem| self.unreadable(wire::AGREG, problem))
    }

    /// The items `item_no` names (Elit's number, or the maker's with `supplier_code`), priced for `qty`.
    pub async fn item_info(
        &self,
        item_no: &str,
        qty: u32,
        supplier_code: Option<&str>,
    ) -> Result<Vec<ItemInfo>, ConnectorError> {
        let body = wire::item_info_request(&self.credentials()?, item_no, qty, supplier_code);
        let answer = self.call(&self.buyer, wire::BUYER_NAMESPACE, &body).await?;
        answer
            .children_named("return")
            .map(ItemInfo::read)
            .collect::<Result<_, _>>()
            .map_err(|problem| self.unreadable(wire::ITEM_INFO, problem))
    }

    /// The orders placed under the customer's order number `order_no`.
    pub async fn orders(&self, order_no: &str) -> Result<Vec<OrderInfo>, ConnectorError> {
        let body = wire::get_orders_request(&self.credentials()?, order_no);
        let answer = self.call(&self.business, wire::BUSINESS_NAMESPACE, &body).await?;
        answer
            .children_named("return")
            .map(OrderInfo::read)
            .collect::<Result<_, _>>()
            .map_err(|problem| self.unreadable(wire::GET_ORDERS, problem))
    }

    /// Places an order; `Err` with Elit's fault when it refuses.
    pub async fn create_order(&self, order_no: &str, lines: &[ItemLine]) -> Result<OrderInfo, ConnectorError> {
        let body = wire::create_order_request(&self.credentials()?, order_no, None, lines);
        let answer = self.call(&self.business, wire::BUSINESS_NAMESPACE, &body).await?;
        let result = answer
            .child("return")
            .ok_or_else(|| self.unreadable(wire::CREATE_ORDER, "no <return>".into()))?;
        OrderInfo::read(result).map_err(|problem| self.unreadable(wire::CREATE_ORDER, problem))
    }
}
