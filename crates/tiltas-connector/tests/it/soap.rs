//! `SoapClient` against a fake SOAP endpoint.
use crate::{serve, CountingGate};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use std::sync::{Arc, Mutex};
use tiltas_connector::soap::{Element, SoapAction, SoapClient};
use tiltas_connector::ErrorKind;

#[derive(Default)]
struct Seen {
    action: Option<String>,
    content_type: Option<String>,
    body: String,
}

async fn endpoint(seen: Arc<Mutex<Seen>>, headers: HeaderMap, body: String) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    *seen.lock().unwrap() = Seen {
        action: header("soapaction"),
        content_type: header("content-type"),
        body: body.clone(),
    };
    if body.contains("<articleNumber>0</articleNumber>") {
        let fault = r#"<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode><faultstring>Article 0 does not exist</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"#;
        return (StatusCode::INTERNAL_SERVER_ERROR, [("content-type", "text/xml")], fault).into_response();
    }
    let answer = r#"<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns="urn:mplusqapi"><SOAP-ENV:Body><ns:getStockResponse><ns:articleStocks><ns:articleStock><ns:articleNumber>1042</ns:articleNumber><ns:amount>25</ns:amount></ns:articleStock></ns:articleStocks></ns:getStockResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>"#;
    ([("content-type", "text/xml")], answer).into_response()
}

async fn client(action: SoapAction) -> (SoapClient, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let state = seen.clone();
    let app = Router::new().route(
        "/",
        post(move |headers: HeaderMap, body: String| endpoint(state.clone(), headers, body)),
    );
    let base = serve(app).await;
    let url = format!("{base}/?ident=shop&secret=s3cret").parse().expect("url");
    let soap = SoapClient::new(reqwest::Client::new(), url, "urn:mplusqapi", "pos", "secret").with_action(action);
    (soap, seen)
}

fn get_stock(article: &str) -> Element {
    Element::new("getStock").with_child(
        Element::new("request")
            .with_child(Element::leaf("branchNumber", "1"))
            .with_child(Element::new("articleNumbers").with_child(Element::leaf("articleNumber", article))),
    )
}

#[tokio::test]
async fn a_call_posts_an_envelope_with_the_soap_action_and_returns_the_response_element() {
    let (soap, seen) = client(SoapAction::Empty).await;
    let gate = CountingGate::default();
    let response = soap.call(&gate, &get_stock("1042")).await.expect("call");
    assert_eq!(response.name, "getStockResponse");
    let stock = response
        .child("articleStocks")
        .and_then(|stocks| stocks.child("articleStock"))
        .expect("a stock");
    assert_eq!(stock.child_text("amount"), Some("25"));
    assert_eq!(gate.admitted(), 1);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.action.as_deref(), Some("\"\""));
    assert_eq!(seen.content_type.as_deref(), Some("text/xml; charset=utf-8"));
    assert!(seen
        .body
        .contains("<getStock xmlns=\"urn:mplusqapi\"><request><branchNumber>1</branchNumber>"));
}

#[tokio::test]
async fn the_operation_name_can_be_the_soap_action() {
    let (soap, seen) = client(SoapAction::Operation).await;
    soap.call(&CountingGate::default(), &get_stock("1042"))
        .await
        .expect("call");
    assert_eq!(seen.lock().unwrap().action.as_deref(), Some("\"getStock\""));
}

#[tokio::test]
async fn a_fault_with_http_500_is_the_fault_and_never_quotes_the_credentials_in_the_url() {
    let (soap, _) = client(SoapAction::Empty).await;
    let error = soap
        .call(&CountingGate::default(), &get_stock("0"))
        .await
        .expect_err("fault");
    assert_eq!(error.kind, ErrorKind::Invalid);
    assert!(
        error
            .message
            .contains("getStock failed with SOAP fault Client: \"Article 0 does not exist\""),
        "{error}"
    );
    assert!(
        error.message.starts_with("connection \"pos\" (http://127.0.0.1:"),
        "{error}"
    );
    assert!(!error.message.contains("s3cret"), "{error}");
    assert!(
        !format!("{soap:?}").contains("s3cret"),
        "Debug hides the endpoint's query"
    );
}

#[tokio::test]
async fn an_endpoint_that_is_down_is_transient_without_the_credentials_in_the_url() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let url = format!("http://{address}/?ident=shop&secret=s3cret")
        .parse()
        .expect("url");
    let soap = SoapClient::new(reqwest::Client::new(), url, "urn:mplusqapi", "pos", "secret");
    let error = soap
        .call(&CountingGate::default(), &get_stock("1042"))
        .await
        .expect_err("down");
    assert_eq!(error.kind, ErrorKind::Transient);
    assert!(error.message.contains("cannot connect"), "{error}");
    assert!(!error.message.contains("s3cret"), "{error}");
}
