//! Calls to one Q-API endpoint: `ident` and `secret` in the query, `SOAPAction: ""` as the WSDL
//! declares, every call through the connection's gate.
use crate::ConnectionSettings;
use std::sync::Arc;
use tiltas_connector::soap::{self, Element};
use tiltas_connector::{http, CallGate, ConnectorError, ErrorKind};

/// A client of one connection's endpoint.
pub(crate) struct Client {
    http: reqwest::Client,
    endpoint: reqwest::Url,
    place: String,
    gate: Arc<dyn CallGate>,
}

impl Client {
    pub(crate) fn new(
        settings: &ConnectionSettings,
        connection: &str,
        gate: Arc<dyn CallGate>,
    ) -> Result<Client, ConnectorError> {
        let mut endpoint = reqwest::Url::parse(&settings.base_url).map_err(|error| {
            ConnectorError::new(
                ErrorKind::Fatal,
                format!("connection \"{connection}\": base_url is not a URL ({error})"),
            )
        })?;
        let mut shown = endpoint.clone();
        shown.set_query(None);
        endpoint
            .query_pairs_mut()
            .append_pair("ident", &settings.ident)
            .append_pair("secret", &http::reveal(&settings.secret)?);
        Ok(Client {
            http: http::client(settings.timeout)?,
            endpoint,
            place: format!("connection \"{connection}\" ({shown})"),
            gate,
        })
    }

    /// Calls the operation `body` is the element of. Unlike `SoapClient::call`, a 2xx answer
    /// that is not SOAP (a proxy's HTML page, a cut body) is transient: such pages come and go
    /// in front of a till, and the engine retries the read.
    pub(crate) async fn call(&self, body: &Element) -> Result<Element, ConnectorError> {
        let operation = body.name.as_str();
        let request = soap::envelope(crate::wire::NAMESPACE, body)?;
        let post = self
            .http
            .post(self.endpoint.clone())
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("SOAPAction", "\"\"")
            .body(request);
        let what = format!("{}: {operation}", self.place);
        let reply = http::exchange(self.gate.as_ref(), &what, post).await?;
        if reply.status.is_success() {
            if let Err(not_soap) = soap::read_reply(&reply.text) {
                return Err(ConnectorError::new(
                    ErrorKind::Transient,
                    format!(
                        "{}: {operation} answered {} with a body that is not a SOAP response ({not_soap}); \
                         retried — if it stays, check that base_url is the Q-API endpoint",
                        self.place, reply.status
                    ),
                ));
            }
        }
        soap::response(
            &self.place,
            operation,
            "secret",
            reply.status,
            reply.retry_after(),
            &reply.text,
        )
    }
}
