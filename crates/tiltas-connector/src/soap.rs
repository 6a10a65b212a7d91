//! SOAP 1.1 (document/literal) for connectors of SOAP systems (MplusKASSA): [`Element`], a
//! small owned XML tree to build a request body and read a response; [`envelope`] wraps a body;
//! [`read_reply`] and [`response`] unwrap one, turning a SOAP Fault or a body that is not a SOAP
//! envelope into a [`ConnectorError`]; [`SoapClient`] posts calls through the connection's gate.
//!
//! Elements are matched by *local name*: servers prefix the envelope as they like (`soap:`,
//! `SOAP-ENV:`, `s:`, none), and a connector should not care which.
use crate::{http, CallGate, ConnectorError, ErrorKind};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::fmt::Write as _;

/// The namespace of a SOAP 1.1 envelope.
pub const ENVELOPE_NAMESPACE: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// How many characters of an unreadable body an error quotes.
const QUOTED_CHARS: usize = 160;

/// An XML element: its local name, attributes, text and child elements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// The local name, without a namespace prefix (`getStockResponse`).
    pub name: String,
    /// Attributes by local name, in document order; namespace declarations are left out.
    pub attributes: Vec<(String, String)>,
    /// The text directly inside, unescaped; whitespace between child elements is dropped.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// An empty element.
    pub fn new(name: impl Into<String>) -> Element {
        Element {
            name: name.into(),
            ..Element::default()
        }
    }

    /// An element holding only text (`<articleNumber>1042</articleNumber>`).
    pub fn leaf(name: impl Into<String>, text: impl Into<String>) -> Element {
        Element {
            name: name.into(),
            text: text.into(),
            ..Element::default()
        }
    }

    /// This element with `child` appended.
    pub fn with_child(mut self, child: Element) -> Element {
        self.children.push(child);
        self
    }

    /// This element with an attribute added.
    pub fn with_attribute(mut self, name: impl Into<String>, value: impl Into<String>) -> Element {
        self.attributes.push((name.into(), value.into()));
        self
    }

    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|child| child.name == name)
    }

    /// Every child with this local name (the items of a list).
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |child| child.name == name)
    }

    /// The text of the first child with this local name.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|child| child.text.as_str())
    }

    /// The value of an attribute by local name.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The element as XML, values escaped; `namespace` becomes its default namespace, so its
    /// descendants are in it too (`elementFormDefault="qualified"`, as the Mplus WSDL declares).
    fn write(&self, namespace: Option<&str>, out: &mut String) -> Result<(), ConnectorError> {
        out.push('<');
        out.push_str(&self.name);
        if let Some(namespace) = namespace {
            out.push_str(" xmlns=\"");
            escape_into(namespace, &self.name, out)?;
            out.push('"');
        }
        for (key, value) in &self.attributes {
            let _ = write!(out, " {key}=\"");
            escape_into(value, &self.name, out)?;
            out.push('"');
        }
        if self.text.is_empty() && self.children.is_empty() {
            out.push_str("/>");
            return Ok(());
        }
        out.push('>');
        escape_into(&self.text, &self.name, out)?;
        for child in &self.children {
            child.write(None, out)?;
        }
        let _ = write!(out, "</{}>", self.name);
        Ok(())
    }
}

/// Escapes a value for text or a double-quoted attribute. Carriage returns, tabs and newlines
/// are written as character references so the parser's normalisation cannot change them; a
/// character XML 1.0 cannot carry at all is refused rather than silently dropped.
fn escape_into(value: &str, element: &str, out: &mut String) -> Result<(), ConnectorError> {
    for character in value.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {
                return Err(ConnectorError::new(
                    ErrorKind::Invalid,
                    format!(
                        "the value of <{element}> contains the control character U+{:04X}, which XML cannot \
                         carry: remove it from the source record",
                        u32::from(character)
                    ),
                ))
            }
            other => out.push(other),
        }
    }
    Ok(())
}

/// A SOAP 1.1 request: `body` (the operation's element) inside an envelope, in `namespace`.
pub fn envelope(namespace: &str, body: &Element) -> Result<String, ConnectorError> {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let _ = write!(out, "<soap:Envelope xmlns:soap=\"{ENVELOPE_NAMESPACE}\"><soap:Body>");
    body.write(Some(namespace), &mut out)?;
    out.push_str("</soap:Body></soap:Envelope>");
    Ok(out)
}

/// A SOAP Fault: the server's refusal of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// `faultcode` without its prefix (`Client`, `Server.Database`); SOAP 1.2's `Sender` and
    /// `Receiver` are read as `Client` and `Server`.
    pub code: String,
    /// `faultstring`: the server's explanation.
    pub string: String,
    /// `detail`, when the server sent one.
    pub detail: Option<Element>,
}

impl Fault {
    /// What the engine should do: `Client` faults are invalid requests, `Server` faults
    /// transient — unless the fault's text names credentials (auth) or rate limiting. A
    /// version or header mismatch is a wrong endpoint (fatal).
    pub fn kind(&self) -> ErrorKind {
        let text = format!("{} {}", self.string, self.detail_text()).to_lowercase();
        let says = |words: &[&str]| words.iter().any(|word| text.contains(word));
        if says(&[
            "authenticat",
            "authoriz",
            "authoris",
            "credential",
            "password",
            "access denied",
            "permission denied",
            "invalid ident",
            "invalid secret",
            "login failed",
        ]) {
            return ErrorKind::Auth;
        }
        if says(&["too many requests", "rate limit", "throttl"]) {
            return ErrorKind::RateLimited;
        }
        let class = self.code.split('.').next().unwrap_or_default();
        match class {
            "Client" => ErrorKind::Invalid,
            "VersionMismatch" | "MustUnderstand" => ErrorKind::Fatal,
            // A server fault whose text says the request itself is wrong will fail again.
            _ if says(&["invalid", "not found", "unknown", "missing", "required", "not allowed"]) => ErrorKind::Invalid,
            _ => ErrorKind::Transient,
        }
    }

    /// All text in `detail`, for messages and classification.
    pub fn detail_text(&self) -> String {
        fn collect(element: &Element, out: &mut Vec<String>) {
            if !element.text.trim().is_empty() {
                out.push(element.text.trim().to_string());
            }
            for child in &element.children {
                collect(child, out);
            }
        }
        let mut parts = Vec::new();
        if let Some(detail) = &self.detail {
            collect(detail, &mut parts);
        }
        parts.join("; ")
    }

    /// The failure of `operation` at `place` (`connection "pos"`), quoting the fault.
    pub fn into_error(self, place: &str, operation: &str, credential: &str) -> ConnectorError {
        let kind = self.kind();
        let fix = match kind {
            ErrorKind::Auth => format!("check the connection's `{credential}`"),
            ErrorKind::RateLimited => "the server asked to slow down; it is retried later".to_string(),
            ErrorKind::Invalid => "the request was refused as sent: fix the value the fault names".to_string(),
            ErrorKind::Fatal => "the endpoint does not speak SOAP 1.1 as expected: check the connection's URL".into(),
            _ => "the server failed; the call is retried".to_string(),
        };
        let detail = self.detail_text();
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(" ({})", quote(&detail))
        };
        ConnectorError::new(
            kind,
            format!(
                "{place}: {operation} failed with SOAP fault {}: \"{}\"{detail}: {fix}",
                self.code,
                quote(&self.string)
            ),
        )
    }
}

/// What a SOAP response carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The first element of the Body: the operation's response (`getStockResponse`).
    Body(Element),
    /// A Fault.
    Fault(Fault),
}

/// Why a body is not a SOAP envelope; it quotes the body's first characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}; the body starts: \"{start}\"")]
pub struct NotSoap {
    /// What is wrong: not XML, truncated, no envelope, an empty Body.
    pub reason: String,
    /// The body's first characters, whitespace collapsed.
    pub start: String,
}

/// Reads a SOAP response body: the Body's first element, or its Fault.
pub fn read_reply(body: &str) -> Result<Reply, NotSoap> {
    let not_soap = |reason: String| NotSoap {
        reason,
        start: quote(body),
    };
    let root = parse_document(body).map_err(not_soap)?;
    if root.name != "Envelope" {
        return Err(not_soap(format!(
            "the document is <{}>, not a SOAP Envelope",
            root.name
        )));
    }
    let Some(soap_body) = root.child("Body") else {
        return Err(not_soap("the SOAP Envelope has no Body".to_string()));
    };
    let Some(first) = soap_body.children.first() else {
        return Err(not_soap("the SOAP Body is empty".to_string()));
    };
    if first.name == "Fault" {
        return Ok(Reply::Fault(read_fault(first)));
    }
    Ok(Reply::Body(first.clone()))
}

fn read_fault(fault: &Element) -> Fault {
    let unprefixed = |code: &str| {
        code.rsplit_once(':')
            .map_or(code, |(_, local)| local)
            .trim()
            .to_string()
    };
    if let Some(code) = fault.child_text("faultcode") {
        return Fault {
            code: unprefixed(code),
            string: fault.child_text("faultstring").unwrap_or_default().trim().to_string(),
            detail: fault.child("detail").cloned(),
        };
    }
    // SOAP 1.2 (`Code/Value`, `Reason/Text`), which some 1.1 endpoints answer with anyway.
    let code = fault
        .child("Code")
        .and_then(|code| code.child_text("Value"))
        .map(unprefixed)
        .unwrap_or_default();
    let code = match code.as_str() {
        "Sender" => "Client".to_string(),
        "Receiver" => "Server".to_string(),
        _ => code,
    };
    Fault {
        code,
        string: fault
            .child("Reason")
            .and_then(|reason| reason.child_text("Text"))
            .unwrap_or_default()
            .trim()
            .to_string(),
        detail: fault.child("Detail").cloned(),
    }
}

/// The response of `operation`: its Body element for a 2xx answer; a Fault (whatever the
/// status: SOAP 1.1 sends them with 500) becomes its error; any other answer fails by status
/// (auth, rate limited, transient for 5xx), and a 2xx body that is not a SOAP envelope is
/// invalid. `place` names the connection and endpoint, `credential` the setting to check on
/// auth failures.
pub fn response(
    place: &str,
    operation: &str,
    credential: &str,
    status: reqwest::StatusCode,
    retry_after: Option<std::time::Duration>,
    body: &str,
) -> Result<Element, ConnectorError> {
    match read_reply(body) {
        Ok(Reply::Fault(fault)) => {
            let mut error = fault.into_error(place, operation, credential);
            error.retry_after = retry_after;
            Err(error)
        }
        Ok(Reply::Body(element)) if status.is_success() => Ok(element),
        Ok(Reply::Body(_)) => Err(http::failure(
            status,
            &format!("{place}: {operation}"),
            &format!("\"{}\"", quote(body)),
            credential,
            retry_after,
        )),
        Err(not_soap) if status.is_success() => Err(ConnectorError::new(
            ErrorKind::Invalid,
            format!(
                "{place}: {operation} answered {status} with a body that is not a SOAP response: {not_soap}: \
                 check that the connection's URL is the system's SOAP endpoint"
            ),
        )),
        Err(not_soap) => Err(http::failure(
            status,
            &format!("{place}: {operation}"),
            &format!("the body is not a SOAP response: {not_soap}"),
            credential,
            retry_after,
        )),
    }
}

/// The first characters of a text, whitespace collapsed, for quoting in a message.
fn quote(text: &str) -> String {
    let collapsed = text
        .trim_start_matches('\u{feff}')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match collapsed.char_indices().nth(QUOTED_CHARS) {
        Some((cut, _)) => format!("{}…", &collapsed[..cut]),
        None => collapsed,
    }
}

/// Parses a whole document into its root element. Errors say what is wrong, for [`NotSoap`].
fn parse_document(text: &str) -> Result<Element, String> {
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = Reader::from_str(text);
    // Open elements, innermost last; the root is the first.
    let mut open: Vec<Element> = Vec::new();
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|error| format!("the body is not well-formed XML at byte {position}: {error}"))?;
        match event {
            Event::Start(start) => open.push(start_element(&start)?),
            Event::Empty(start) => {
                let element = start_element(&start)?;
                match open.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::End(_) => {
                // quick-xml checks that end names match their start, so `open` is not empty.
                let Some(mut element) = open.pop() else {
                    return Err("the body closes an element it never opened".to_string());
                };
                if !element.children.is_empty() && element.text.trim().is_empty() {
                    element.text.clear();
                }
                match open.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::Text(text) => {
                let unescaped = text
                    .unescape()
                    .map_err(|error| format!("the body is not well-formed XML: {error}"))?;
                match open.last_mut() {
                    Some(element) => element.text.push_str(&unescaped),
                    None if unescaped.trim().is_empty() => {}
                    None => return Err("the body has text outside any element".to_string()),
                }
            }
            Event::CData(data) => {
                let data = String::from_utf8_lossy(&data.into_inner()).into_owned();
                if let Some(element) = open.last_mut() {
                    element.text.push_str(&data);
                }
            }
            Event::Eof => {
                return Err(match open.last() {
                    Some(element) => format!("the body ends inside <{}>: it is truncated", element.name),
                    None => "the body is empty".to_string(),
                })
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
}

fn start_element(start: &BytesStart<'_>) -> Result<Element, String> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut element = Element::new(name);
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|error| format!("a bad attribute in <{}>: {error}", element.name))?;
        let key = attribute.key;
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let value = attribute
            .unescape_value()
            .map_err(|error| format!("a bad attribute value in <{}>: {error}", element.name))?;
        let local = String::from_utf8_lossy(key.local_name().as_ref()).into_owned();
        element.attributes.push((local, value.into_owned()));
    }
    Ok(element)
}

/// How a client fills the `SOAPAction` header (SOAP 1.1 requires it, quoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoapAction {
    /// `SOAPAction: ""` — what the Mplus WSDL declares (`soapAction=""`).
    Empty,
    /// `SOAPAction: "getStock"` — the operation's name.
    Operation,
    /// `SOAPAction: "<prefix><operation>"` (`urn:mplusqapi#getStock`, `http://tempuri.org/IService/`).
    Prefixed(String),
}

impl SoapAction {
    fn header_value(&self, operation: &str) -> String {
        match self {
            SoapAction::Empty => "\"\"".to_string(),
            SoapAction::Operation => format!("\"{operation}\""),
            SoapAction::Prefixed(prefix) => format!("\"{prefix}{operation}\""),
        }
    }
}

/// Calls operations of one SOAP endpoint of a connection.
#[derive(Clone)]
pub struct SoapClient {
    http: reqwest::Client,
    endpoint: reqwest::Url,
    namespace: String,
    action: SoapAction,
    place: String,
    credential: String,
}

// By hand: the endpoint's query may hold credentials (Mplus' `ident` and `secret`).
impl std::fmt::Debug for SoapClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SoapClient")
            .field("place", &self.place)
            .field("namespace", &self.namespace)
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
}

impl SoapClient {
    /// A client of `endpoint` (which may carry credentials in its query: they are never
    /// quoted) for operations in `namespace`, sending `SOAPAction: ""`; `connection` names
    /// it in messages and `credential` is the setting to check when the server refuses it.
    pub fn new(
        http: reqwest::Client,
        endpoint: reqwest::Url,
        namespace: impl Into<String>,
        connection: &str,
        credential: impl Into<String>,
    ) -> SoapClient {
        let mut shown = endpoint.clone();
        shown.set_query(None);
        let _ = shown.set_password(None);
        SoapClient {
            http,
            endpoint,
            namespace: namespace.into(),
            action: SoapAction::Empty,
            place: format!("connection \"{connection}\" ({shown})"),
            credential: credential.into(),
        }
    }

    /// This client with another `SOAPAction` convention.
    pub fn with_action(mut self, action: SoapAction) -> SoapClient {
        self.action = action;
        self
    }

    /// Calls the operation `body` is the element of (its name is the operation) and returns
    /// the response element; the request waits for `gate` first.
    pub async fn call(&self, gate: &dyn CallGate, body: &Element) -> Result<Element, ConnectorError> {
        let operation = body.name.as_str();
        let request = envelope(&self.namespace, body)?;
        let post = self
            .http
            .post(self.endpoint.clone())
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("SOAPAction", self.action.header_value(operation))
            .body(request);
        let what = format!("{}: {operation}", self.place);
        let reply = http::exchange(gate, &what, post).await?;
        response(
            &self.place,
            operation,
            &self.credential,
            reply.status,
            reply.retry_after(),
            &reply.text,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(reply: Result<Reply, NotSoap>) -> Element {
        match reply {
            Ok(Reply::Body(element)) => element,
            other => panic!("expected a body, got {other:?}"),
        }
    }

    #[test]
    fn the_body_element_is_found_whatever_prefix_the_server_uses() {
        let documents = [
            r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><ns1:getStockResponse xmlns:ns1="urn:mplusqapi"><articleStocks><articleNumber>1042</articleNumber></articleStocks></ns1:getStockResponse></soap:Body></soap:Envelope>"#,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:ns=\"urn:mplusqapi\">\r\n <SOAP-ENV:Header/>\r\n <SOAP-ENV:Body>\r\n  <ns:getStockResponse>\r\n   <ns:articleStocks>\r\n    <ns:articleNumber>1042</ns:articleNumber>\r\n   </ns:articleStocks>\r\n  </ns:getStockResponse>\r\n </SOAP-ENV:Body>\r\n</SOAP-ENV:Envelope>",
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><getStockResponse xmlns="urn:mplusqapi"><articleStocks><articleNumber>1042</articleNumber></articleStocks></getStockResponse></s:Body></s:Envelope>"#,
            "\u{feff}<Envelope xmlns=\"http://schemas.xmlsoap.org/soap/envelope/\"><Body><getStockResponse><articleStocks><articleNumber>1042</articleNumber></articleStocks></getStockResponse></Body></Envelope>",
        ];
        for document in documents {
            let response = body_of(read_reply(document));
            assert_eq!(response.name, "getStockResponse", "{document}");
            assert_eq!(response.text, "", "whitespace between elements is not text: {document}");
            let stocks = response.child("articleStocks").expect("articleStocks");
            assert_eq!(stocks.child_text("articleNumber"), Some("1042"), "{document}");
        }
    }

    #[test]
    fn text_attributes_and_lists_are_read_unescaped() {
        let document = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soap:Body><r><item id="1">A &amp; B</item><item xsi:nil="true"/><item id="3"><![CDATA[<raw> & ]]>&#x20AC;</item><name>  keep spaces  </name></r></soap:Body></soap:Envelope>"#;
        let response = body_of(read_reply(document));
        let items: Vec<&Element> = response.children_named("item").collect();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].text, "A & B");
        assert_eq!(items[0].attribute("id"), Some("1"));
        assert_eq!(items[1].attribute("nil"), Some("true"), "attributes by local name");
        assert_eq!(items[2].text, "<raw> & €");
        assert_eq!(response.child_text("name"), Some("  keep spaces  "));
        assert_eq!(response.child_text("missing"), None);
    }

    #[test]
    fn a_request_escapes_its_values_and_puts_the_body_in_the_namespace() {
        let body = Element::new("findRelation").with_child(
            Element::new("request")
                .with_child(Element::leaf("name", "Smith & <Sons> \"Ltd\" 'NL'"))
                .with_child(Element::leaf("note", "a\r\nb\tc"))
                .with_child(Element::new("empty").with_attribute("kind", "x&\"y\"")),
        );
        let xml = envelope("urn:mplusqapi", &body).expect("envelope");
        assert!(
            xml.contains(r#"<soap:Body><findRelation xmlns="urn:mplusqapi"><request>"#),
            "{xml}"
        );
        assert!(
            xml.contains("<name>Smith &amp; &lt;Sons&gt; &quot;Ltd&quot; &apos;NL&apos;</name>"),
            "{xml}"
        );
        assert!(xml.contains(r#"<empty kind="x&amp;&quot;y&quot;"/>"#), "{xml}");
        // What we send reads back as what we meant, line ending included.
        let envelope_back = parse_document(&xml).expect("our own envelope parses");
        let request = &envelope_back.child("Body").expect("Body").children[0].children[0];
        assert_eq!(request.child_text("name"), Some("Smith & <Sons> \"Ltd\" 'NL'"));
        assert_eq!(request.child_text("note"), Some("a\r\nb\tc"));
    }

    #[test]
    fn a_control_character_in_a_value_is_refused_naming_the_element() {
        let body = Element::new("createProduct").with_child(Element::leaf("description", "bad\u{1}value"));
        let error = envelope("urn:mplusqapi", &body).expect_err("refused");
        assert_eq!(error.kind, ErrorKind::Invalid);
        assert!(
            error.message.contains("<description>") && error.message.contains("U+0001"),
            "{error}"
        );
    }

    const CLIENT_FAULT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
  <SOAP-ENV:Body>
    <SOAP-ENV:Fault>
      <faultcode>SOAP-ENV:Client</faultcode>
      <faultstring>Validation constraint violation: data type mismatch in element &lt;articleNumber&gt;</faultstring>
      <detail><field>articleNumber</field></detail>
    </SOAP-ENV:Fault>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>"#;

    #[test]
    fn a_client_fault_with_http_500_is_an_invalid_request_quoting_the_faultstring() {
        let error = response(
            "connection \"pos\"",
            "getStock",
            "secret",
            reqwest::StatusCode::INTERNAL_SERVER_ERROR,
            None,
            CLIENT_FAULT,
        )
        .expect_err("fault");
        assert_eq!(error.kind, ErrorKind::Invalid);
        assert!(error
            .message
            .starts_with("connection \"pos\": getStock failed with SOAP fault Client"));
        assert!(
            error.message.contains("data type mismatch in element <articleNumber>"),
            "{}",
            error.message
        );
        assert!(
            error.message.contains("(articleNumber)"),
            "detail quoted: {}",
            error.message
        );
    }

    #[test]
    fn server_faults_are_transient_unless_their_text_says_otherwise() {
        let fault = |code: &str, string: &str| Fault {
            code: code.to_string(),
            string: string.to_string(),
            detail: None,
        };
        assert_eq!(fault("Server", "Database is locked").kind(), ErrorKind::Transient);
        assert_eq!(fault("Server.Internal", "timeout").kind(), ErrorKind::Transient);
        assert_eq!(fault("Server", "Invalid ident or secret").kind(), ErrorKind::Auth);
        assert_eq!(fault("Server", "Article 1042 not found").kind(), ErrorKind::Invalid);
        assert_eq!(fault("Server", "Rate limit exceeded").kind(), ErrorKind::RateLimited);
        assert_eq!(
            fault("Client.Authentication", "Authentication failed").kind(),
            ErrorKind::Auth
        );
        assert_eq!(fault("Client", "bad request").kind(), ErrorKind::Invalid);
        assert_eq!(fault("VersionMismatch", "wrong envelope").kind(), ErrorKind::Fatal);
    }

    #[test]
    fn a_soap_1_2_fault_is_read_too() {
        let document = r#"<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><env:Fault><env:Code><env:Value>env:Receiver</env:Value></env:Code><env:Reason><env:Text xml:lang="en">Service busy</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>"#;
        let Ok(Reply::Fault(fault)) = read_reply(document) else {
            panic!("a fault");
        };
        assert_eq!((fault.code.as_str(), fault.string.as_str()), ("Server", "Service busy"));
        assert_eq!(fault.kind(), ErrorKind::Transient);
    }

    #[test]
    fn an_html_error_page_is_transient_on_5xx_and_invalid_on_200_quoting_its_start() {
        let page = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><hr/>nginx</body></html>";
        // Well-formed, but not an envelope.
        let gateway = response(
            "connection \"pos\"",
            "getProducts",
            "secret",
            reqwest::StatusCode::BAD_GATEWAY,
            None,
            page,
        )
        .expect_err("502");
        assert_eq!(gateway.kind, ErrorKind::Transient);
        assert!(
            gateway.message.contains("<html><head><title>502 Bad Gateway"),
            "{}",
            gateway.message
        );
        assert!(gateway.message.contains("not a SOAP Envelope"), "{}", gateway.message);

        let portal = "<html><body>Welcome! <br> Please log in & accept</body></html>";
        let error = response(
            "connection \"pos\"",
            "getProducts",
            "secret",
            reqwest::StatusCode::OK,
            None,
            portal,
        )
        .expect_err("200 with HTML");
        assert_eq!(error.kind, ErrorKind::Invalid);
        assert!(error.message.contains("not well-formed XML"), "{}", error.message);
        assert!(error.message.contains("\"<html><body>Welcome!"), "{}", error.message);
        assert!(
            error.message.contains("check that the connection's URL"),
            "{}",
            error.message
        );
    }

    #[test]
    fn an_auth_or_rate_limit_status_without_a_fault_keeps_its_class() {
        let refused = response(
            "connection \"pos\"",
            "getProducts",
            "secret",
            reqwest::StatusCode::UNAUTHORIZED,
            None,
            "Unauthorized",
        )
        .expect_err("401");
        assert_eq!(refused.kind, ErrorKind::Auth);
        assert!(
            refused.message.contains("check the connection's `secret`"),
            "{}",
            refused.message
        );
        let wait = Some(std::time::Duration::from_secs(7));
        let limited = response(
            "c",
            "getProducts",
            "secret",
            reqwest::StatusCode::TOO_MANY_REQUESTS,
            wait,
            "",
        )
        .expect_err("429");
        assert_eq!((limited.kind, limited.retry_after), (ErrorKind::RateLimited, wait));
    }

    #[test]
    fn truncated_or_empty_xml_is_an_error_not_a_panic() {
        let full = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><getProductsResponse><products><product><articleNumber>1</articleNumber></product></products></getProductsResponse></soap:Body></soap:Envelope>"#;
        // Every prefix of a valid response (by character) fails cleanly.
        for cut in (0..full.len()).filter(|cut| full.is_char_boundary(*cut)) {
            let error = response(
                "c",
                "getProducts",
                "secret",
                reqwest::StatusCode::OK,
                None,
                &full[..cut],
            )
            .expect_err("a truncated body");
            assert_eq!(error.kind, ErrorKind::Invalid, "cut at {cut}: {error}");
        }
        let truncated = &full[..full.find("</product>").expect("cut point")];
        let error = response("c", "getProducts", "secret", reqwest::StatusCode::OK, None, truncated).expect_err("cut");
        assert!(error.message.contains("ends inside <articleNumber>") || error.message.contains("truncated"));
        let error = response(
            "c",
            "getProducts",
            "secret",
            reqwest::StatusCode::SERVICE_UNAVAILABLE,
            None,
            truncated,
        )
        .expect_err("cut");
        assert_eq!(error.kind, ErrorKind::Transient);
        assert!(response("c", "getProducts", "secret", reqwest::StatusCode::OK, None, full).is_ok());
    }

    #[test]
    fn long_bodies_are_quoted_short() {
        let page = format!("<html>{}</html", "x".repeat(10_000));
        let error = read_reply(&page).expect_err("not SOAP");
        assert!(error.start.chars().count() <= QUOTED_CHARS + 1, "{}", error.start);
        assert!(error.start.ends_with('…'));
    }

    /// The Mplus WSDL (shared fixtures, read when present, never copied): its namespace and a
    /// real operation, round-tripped through an envelope.
    #[test]
    fn the_mplus_wsdl_namespace_and_operation_make_a_request() {
        let wsdl =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/mplus/mplusqapi.wsdl");
        let Ok(wsdl) = std::fs::read_to_string(&wsdl) else {
            eprintln!("skipped: {} is not here", wsdl.display());
            return;
        };
        let namespace = "urn:mplusqapi";
        assert!(wsdl.contains(&format!("targetNamespace=\"{namespace}\"")));
        // getApiVersion takes an empty request, declares soapAction="" and answers
        // getApiVersionResponse with majorNumber, minorNumber and revisionNumber.
        assert!(wsdl.contains("<element name=\"getApiVersion\">"));
        assert!(wsdl.contains("<complexType name=\"getApiVersionResponse\">"));
        assert!(wsdl.contains("<operation name=\"getApiVersion\">\r\n      <SOAP:operation soapAction=\"\" />"));
        let request = envelope(namespace, &Element::new("getApiVersion")).expect("envelope");
        assert!(
            request.contains("<getApiVersion xmlns=\"urn:mplusqapi\"/>"),
            "{request}"
        );
        let answer = "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:ns=\"urn:mplusqapi\"><SOAP-ENV:Body><ns:getApiVersionResponse><ns:majorNumber>67</ns:majorNumber><ns:minorNumber>1</ns:minorNumber><ns:revisionNumber>3</ns:revisionNumber></ns:getApiVersionResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>";
        let version = response("c", "getApiVersion", "secret", reqwest::StatusCode::OK, None, answer).expect("ok");
        assert_eq!(version.name, "getApiVersionResponse");
        assert_eq!(version.child_text("majorNumber"), Some("67"));
    }
}
