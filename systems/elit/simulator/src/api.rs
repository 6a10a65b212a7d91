//! The two services: a body is read as SOAP whatever its prefixes, dispatched on the operation's
//! local name, its credentials checked, and answered in the JAX-WS shape (`wire`): the
//! operation's `…Response` qualified, `return` elements unqualified; a refusal is a Fault with
//! HTTP 500.
use crate::data::{Company, Db, ElitPart};
use crate::{fault_with, text, App, ElitSim};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use tiltas_connector::soap::{self, Element, Reply};
use tiltas_elit::wire::{self, ItemAvailability, OrderInfo, OrderLine};
use tiltas_sim::RequestKind;

const BUSINESS_WSDL: &str = include_str!("business-service.wsdl");
const BUYER_WSDL: &str = include_str!("buyer-service.wsdl");

/// A refusal: the fault code (`Server`, `Client`) and Elit's words.
type Refusal = (&'static str, String);
type Answer = Result<Element, Refusal>;

/// One service: its path, namespace and WSDL.
#[derive(Clone, Copy)]
struct Service {
    namespace: &'static str,
    wsdl: &'static str,
    path: &'static str,
}

const BUSINESS: Service = Service {
    namespace: wire::BUSINESS_NAMESPACE,
    wsdl: BUSINESS_WSDL,
    path: wire::BUSINESS_PATH,
};
const BUYER: Service = Service {
    namespace: wire::BUYER_NAMESPACE,
    wsdl: BUYER_WSDL,
    path: wire::BUYER_PATH,
};

pub(crate) fn routes(app: App) -> Router {
    Router::new()
        .route(wire::BUSINESS_PATH, post(business).get(business_wsdl))
        .route(wire::BUYER_PATH, post(buyer).get(buyer_wsdl))
        .with_state(app)
}

async fn business(State(app): State<App>, body: Bytes) -> Response {
    call(app, BUSINESS, body).await
}

async fn buyer(State(app): State<App>, body: Bytes) -> Response {
    call(app, BUYER, body).await
}

async fn business_wsdl(headers: HeaderMap, query: RawQuery) -> Response {
    wsdl(headers, query, BUSINESS)
}

async fn buyer_wsdl(headers: HeaderMap, query: RawQuery) -> Response {
    wsdl(headers, query, BUYER)
}

fn wsdl(headers: HeaderMap, RawQuery(query): RawQuery, service: Service) -> Response {
    if query
        .as_deref()
        .is_some_and(|q| q.split('&').any(|part| part.eq_ignore_ascii_case("wsdl")))
    {
        let host = headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .unwrap_or("127.0.0.1");
        let location = format!("http://{host}{}", service.path);
        return (
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            service.wsdl.replace("{location}", &location),
        )
            .into_response();
    }
    // Metro answers a plain GET with its endpoint page; the simulator names where the WSDL is.
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!(
            "Web Services: this endpoint takes SOAP calls by POST; its WSDL is at {}?wsdl",
            service.path
        ),
    )
        .into_response()
}

fn answer(namespace: &str, body: &Element) -> Response {
    match wire::envelope(namespace, body) {
        Ok(xml) => (StatusCode::OK, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], xml).into_response(),
        Err(error) => fault_with(StatusCode::INTERNAL_SERVER_ERROR, "Server", namespace, &error.message),
    }
}

async fn call(app: App, service: Service, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    let operation = match soap::read_reply(&text) {
        Ok(Reply::Body(element)) => element,
        Ok(Reply::Fault(_)) | Err(_) => {
            app.harness.count_rejected();
            return fault_with(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Client",
                service.namespace,
                "Couldn't create SOAP message due to exception: the request is not a SOAP 1.1 envelope",
            );
        }
    };
    let kind = if operation.name.starts_with("get") {
        RequestKind::Read
    } else {
        RequestKind::Write
    };
    let admission = match app.harness.admit(kind).await {
        Ok(admission) => admission,
        Err(response) => return response,
    };
    let sim = &app.sim;
    let reply = match (service.path, operation.name.as_str()) {
        (wire::BUSINESS_PATH, wire::AGREG) => agreg(sim, &operation),
        (wire::BUSINESS_PATH, wire::CREATE_ORDER) => create_order(&app, &operation),
        (wire::BUSINESS_PATH, wire::GET_ORDERS) => get_orders(sim, &operation),
        (wire::BUYER_PATH, wire::ITEM_INFO) => item_info(sim, &operation),
        (_, other) => Err((
            "Client",
            format!("Cannot find dispatch method for {{{}}}{other}", service.namespace),
        )),
    };
    match reply {
        Ok(_) if admission.fail_after_commit => app.harness.commit_then_fail(),
        Ok(body) if body.name == response_name(wire::CREATE_ORDER) && take_lost(sim) => app.harness.commit_then_fail(),
        Ok(body) => answer(service.namespace, &body),
        Err((code, text)) => {
            app.harness.count_rejected();
            fault_with(StatusCode::INTERNAL_SERVER_ERROR, code, service.namespace, &text)
        }
    }
}

fn take_lost(sim: &ElitSim) -> bool {
    sim.lost_orders
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

fn response_name(operation: &str) -> String {
    format!("{operation}Response")
}

fn field<'a>(element: &'a Element, names: &[&str]) -> &'a str {
    names
        .iter()
        .find_map(|name| element.child_text(name))
        .map(str::trim)
        .unwrap_or_default()
}

/// Checks the company, login and password of a body (`CompanyName`/`Login`/`Password` in
/// BusinessService's `arg0`, `company`/`login`/`password` in BuyerService's body).
fn authorise(sim: &ElitSim, element: &Element) -> Result<&'static Company, Refusal> {
    let company = field(element, &["CompanyName", "company"]);
    let login = field(element, &["Login", "login"]);
    let password = field(element, &["Password", "password"]);
    if company.is_empty() {
        return Err(("Server", "Company name is missing".to_owned()));
    }
    let Some(known) = crate::data::company(company) else {
        return Err(("Server", format!("Unknown company: {company}")));
    };
    if login != sim.access.login || password != sim.access.password {
        return Err(("Server", "Invalid login or password".to_owned()));
    }
    if known.name != sim.company.name {
        return Err((
            "Server",
            format!("User {login} is not registered in company {}", known.name),
        ));
    }
    Ok(known)
}

fn arg0(operation: &Element) -> Result<&Element, Refusal> {
    operation.child("arg0").ok_or_else(|| {
        (
            "Server",
            format!("java.lang.NullPointerException: {} without arg0", operation.name),
        )
    })
}

fn quantity(element: &Element, item_no: &str) -> Result<u32, Refusal> {
    let text = element.child_text("qty").map(str::trim).unwrap_or("1");
    match text.parse::<u32>() {
        Ok(qty) if qty > 0 => Ok(qty),
        _ => Err(("Server", format!("Invalid quantity {text:?} for item {item_no}"))),
    }
}

fn lock(sim: &ElitSim) -> std::sync::MutexGuard<'_, Db> {
    sim.db()
}

fn agreg(sim: &ElitSim, operation: &Element) -> Answer {
    let arg = arg0(operation)?;
    let company = authorise(sim, arg)?;
    let items: Vec<&Element> = arg.children_named("items").collect();
    if items.len() > wire::MAX_ITEMS {
        return Err((
            "Server",
            format!(
                "Too many items in request: {} (at most {})",
                items.len(),
                wire::MAX_ITEMS
            ),
        ));
    }
    let db = lock(sim);
    let today = Db::today();
    let mut result = Element::new("return");
    if let Some(id) = arg.child_text("RequestId") {
        result = result.with_child(Element::leaf("RequestId", id.trim()));
    }
    for item in items {
        let item_no = field(item, &["itemNo"]);
        quantity(item, item_no)?;
        let answered = match db.part(item_no) {
            Some(part) => part.availability(company, today),
            None => ItemAvailability {
                item_no: item_no.to_owned(),
                found: false,
                deliveries: Vec::new(),
            },
        };
        result = result.with_child(answered.element());
    }
    Ok(Element::new(response_name(wire::AGREG)).with_child(result))
}

fn item_info(sim: &ElitSim, operation: &Element) -> Answer {
    let company = authorise(sim, operation)?;
    let item_no = field(operation, &["itemNo"]);
    if item_no.is_empty() {
        return Err(("Server", "Item number is missing".to_owned()));
    }
    quantity(operation, item_no)?;
    let supplier_code = Some(field(operation, &["supplierCode"])).filter(|code| !code.is_empty());
    let db = lock(sim);
    let mut response = Element::new(response_name(wire::ITEM_INFO));
    for part in db.parts.iter().filter(|part| part.answers(item_no, supplier_code)) {
        response = response.with_child(part.info(company).element());
    }
    Ok(response)
}

fn create_order(app: &App, operation: &Element) -> Answer {
    let sim = &app.sim;
    let arg = arg0(operation)?;
    let company = authorise(sim, arg)?;
    let order_no = field(arg, &["orderNo"]);
    if order_no.is_empty() {
        return Err(("Server", "Order number (orderNo) is missing".to_owned()));
    }
    let mut db = lock(sim);
    let mut lines = Vec::new();
    for item in arg.children_named("items") {
        let item_no = field(item, &["itemNo"]);
        let qty = quantity(item, item_no)?;
        let Some(part) = db.part(item_no) else {
            return Err(("Server", format!("Item {item_no} not found")));
        };
        if app.harness.refuses_item(&part.item_no) {
            return Err((
                "Server",
                format!("Item {} {REFUSED}", part.item_no, REFUSED = crate::REFUSED_ITEM),
            ));
        }
        lines.push(OrderLine {
            item_no: part.item_no.clone(),
            qty: qty.into(),
            price: part.price(company),
        });
    }
    if lines.is_empty() {
        return Err(("Server", format!("Order {order_no} has no items")));
    }
    let order = OrderInfo {
        order_id: db.next_order_id(),
        order_no: order_no.to_owned(),
        status: "ACCEPTED".to_owned(),
        created: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        currency: company.currency.to_owned(),
        total: lines.iter().map(|l| (l.qty * l.price).round_dp(2)).sum(),
        lines,
    };
    db.orders.push(order.clone());
    Ok(Element::new(response_name(wire::CREATE_ORDER)).with_child(order.element()))
}

fn get_orders(sim: &ElitSim, operation: &Element) -> Answer {
    let arg = arg0(operation)?;
    authorise(sim, arg)?;
    let order_no = field(arg, &["orderNo"]);
    let db = lock(sim);
    let mut response = Element::new(response_name(wire::GET_ORDERS));
    for order in db
        .orders
        .iter()
        .filter(|order| order_no.is_empty() || order.order_no == order_no)
    {
        response = response.with_child(order.element());
    }
    Ok(response)
}

/// A part as `/__sim/records/part` lists it: the canonical `article` and `brand`, Elit's number,
/// price in the company's currency and stock per warehouse.
pub(crate) fn part_record(part: &ElitPart, company: &Company) -> Value {
    let stock: serde_json::Map<String, Value> = company
        .warehouses
        .iter()
        .zip(part.stock)
        .map(|(warehouse, qty)| ((*warehouse).to_owned(), json!(qty)))
        .collect();
    json!({
        "article": part.part.article,
        "brand": part.part.brand,
        "ean": part.part.ean,
        "name": part.part.name,
        "itemNo": part.item_no,
        "price": text(part.price(company)),
        "currency": company.currency,
        "stock": stock,
    })
}

/// An order as `/__sim/records/order` lists it.
pub(crate) fn order_record(order: &OrderInfo) -> Value {
    json!({
        "orderId": order.order_id,
        "orderNo": order.order_no,
        "status": order.status,
        "created": order.created,
        "currency": order.currency,
        "total": text(order.total),
        "items": order.lines.iter().map(|l| json!({
            "itemNo": l.item_no, "qty": text(l.qty), "price": text(l.price)
        })).collect::<Vec<_>>(),
    })
}
