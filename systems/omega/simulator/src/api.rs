//! The handlers under `/public/api/v1.0`: every request's body (form fields or JSON) is read,
//! the harness' faults applied, `Key` and the caller's address checked, then the call answered
//! in the `Success` envelope.
use crate::data::OmegaPart;
use crate::{refusal, App, REFUSED_ITEM};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{NaiveDate, Utc};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use tiltas_model::parts::{normalise_article, normalise_brand};
use tiltas_omega::wire::{self, BasketLine, Envelope, Order};
use tiltas_sim::RequestKind;

/// The API's routes.
pub(crate) fn routes(app: App) -> Router {
    Router::new()
        .route("/public/api/v1.0/{group}/{method}", post(call))
        .with_state(app)
}

/// A part as `/__sim/records/part` lists it: canonical `article` and `brand` beside Omega's fields.
pub(crate) fn part_record(part: &OmegaPart) -> Value {
    json!({
        "article": part.part.article, "brand": part.part.brand, "ean": part.part.ean, "name": part.part.name,
        "sku": part.product_id.to_string(), "ProductId": part.product_id, "Number": part.part.article,
        "BrandDescription": part.part.brand, "CustomerPrice": part.price.to_string(), "rests": part.rests,
    })
}

fn success<T: Serialize>(data: T) -> Response {
    Json(Envelope {
        success: true,
        data: Some(data),
        errors: Vec::new(),
    })
    .into_response()
}

/// Percent-decoding of a form field (`+` is a space).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'+' => out.push(b' '),
            b'%' if at + 2 < bytes.len() => {
                match text
                    .get(at + 1..at + 3)
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                {
                    Some(byte) => {
                        out.push(byte);
                        at += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        at += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The body's fields: a JSON object, or form fields as strings.
fn fields(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, String> {
    let json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if json {
        return match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err("the body must be a JSON object".into()),
            Err(error) => Err(format!("the body is not JSON: {error}")),
        };
    }
    let text = String::from_utf8_lossy(body);
    Ok(text
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (decode(key), Value::String(decode(value))))
        .collect())
}

/// A field as text (form fields are text; JSON may send numbers).
fn text(fields: &Map<String, Value>, name: &str) -> Option<String> {
    match fields.get(name)? {
        Value::String(text) => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(u8::from(*flag).to_string()),
        _ => None,
    }
}

fn flag(fields: &Map<String, Value>, name: &str) -> bool {
    matches!(text(fields, name).as_deref(), Some("1" | "true" | "True"))
}

fn date(fields: &Map<String, Value>, name: &str) -> Result<NaiveDate, Response> {
    let value = text(fields, name).unwrap_or_default();
    NaiveDate::parse_from_str(&value, wire::DATE_FORMAT).map_err(|_| {
        refusal(
            "ValidationError",
            &format!("{name} must be a date DD.MM.YYYY, found {value:?}"),
        )
    })
}

/// `Ok` when `Key` is the account's and the caller's address is the one it was issued for.
fn check_access(app: &App, fields: &Map<String, Value>, peer: SocketAddr) -> Result<(), Response> {
    let access = &app.sim.access;
    if text(fields, "Key").as_deref() != Some(access.key.as_str()) {
        app.harness.count_rejected();
        return Err(refusal(wire::KEY_UNKNOWN, "Key not found or expired"));
    }
    let allowed = match access.allowed_ip {
        Some(ip) => peer.ip() == ip,
        None => peer.ip().is_loopback(),
    };
    if !allowed {
        app.harness.count_rejected();
        return Err(refusal(
            wire::IP_NOT_ALLOWED,
            &format!("The key is not valid for IP address {}", peer.ip()),
        ));
    }
    Ok(())
}

async fn call(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((group, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let endpoint = format!("/{group}/{method}");
    let kind = match endpoint.as_str() {
        wire::BASKET_CLEAR | wire::BASKET_ADD_LIST | wire::ORDER_CREATE => RequestKind::Write,
        _ => RequestKind::Read,
    };
    let admission = match app.harness.admit(kind).await {
        Ok(admission) => admission,
        Err(refused) => return refused,
    };
    let fields = match fields(&headers, &body) {
        Ok(fields) => fields,
        Err(message) => return refusal("ValidationError", &message),
    };
    if let Err(refused) = check_access(&app, &fields, peer) {
        return refused;
    }
    let answer = match endpoint.as_str() {
        wire::SEARCH_BRAND => search_brand(&app, &fields),
        wire::SEARCH => search(&app, &fields),
        wire::EXPENSE_LIST => expense_list(&app, &fields),
        wire::EXPENSE_DOCUMENT | wire::EXPENSE_DETAILS => expense(&app, &fields, endpoint == wire::EXPENSE_DETAILS),
        wire::BASKET_CLEAR => {
            app.sim.db().basket.clear();
            success(Value::Null)
        }
        wire::BASKET_ADD_LIST => add_to_basket(&app, &fields),
        wire::ORDER_CREATE => return create_order(&app, &fields, admission.fail_after_commit),
        wire::ORDER_LIST => order_list(&app, &fields),
        _ => return (StatusCode::NOT_FOUND, format!("no method {endpoint}")).into_response(),
    };
    if admission.fail_after_commit {
        return app.harness.commit_then_fail();
    }
    answer
}

fn search_brand(app: &App, fields: &Map<String, Value>) -> Response {
    let code = text(fields, "Code").unwrap_or_default();
    if normalise_article(&code).is_empty() {
        return refusal("ValidationError", "Code is required");
    }
    let brand = text(fields, "Brand").map(|b| normalise_brand(&b)).unwrap_or_default();
    let rests = flag(fields, "Rest");
    let db = app.sim.db();
    let found: Vec<_> = db
        .parts
        .iter()
        .filter(|part| normalise_article(&part.part.article) == normalise_article(&code))
        .filter(|part| brand.is_empty() || normalise_brand(&part.part.brand) == brand)
        .map(|part| part.product(rests))
        .collect();
    success(found)
}

fn search(app: &App, fields: &Map<String, Value>) -> Response {
    let number = |name: &str, default: usize| match text(fields, name) {
        None => Ok(default),
        Some(value) => value.parse::<usize>().map_err(|_| {
            refusal(
                "ValidationError",
                &format!("{name} must be a whole number, found {value:?}"),
            )
        }),
    };
    let (from, count) = match (number("From", 0), number("Count", 20)) {
        (Ok(from), Ok(count)) => (from, count),
        (Err(refused), _) | (_, Err(refused)) => return refused,
    };
    if count == 0 || count > wire::MAX_SEARCH_COUNT {
        return refusal(
            "ValidationError",
            &format!("Count must be 1–{}, found {count}", wire::MAX_SEARCH_COUNT),
        );
    }
    let phrase = normalise_article(&text(fields, "SearchPhrase").unwrap_or_default());
    let rests = flag(fields, "Rest");
    let db = app.sim.db();
    let found: Vec<_> = db
        .parts
        .iter()
        .filter(|part| {
            phrase.is_empty()
                || normalise_article(&part.part.article).contains(&phrase)
                || normalise_article(&part.part.name).contains(&phrase)
        })
        .skip(from)
        .take(count)
        .map(|part| part.product(rests))
        .collect();
    success(found)
}

fn expense_list(app: &App, fields: &Map<String, Value>) -> Response {
    let (start, end) = match (date(fields, "StartDate"), date(fields, "EndDate")) {
        (Ok(start), Ok(end)) => (start, end),
        (Err(refused), _) | (_, Err(refused)) => return refused,
    };
    if start > end {
        return refusal("ValidationError", "StartDate is after EndDate");
    }
    let db = app.sim.db();
    let heads: Vec<_> = db
        .expenses
        .iter()
        .filter(|e| wire::parse_date(&e.head.date).is_some_and(|d| d >= start && d <= end))
        .map(|e| e.head.clone())
        .collect();
    success(heads)
}

fn expense(app: &App, fields: &Map<String, Value>, details: bool) -> Response {
    let doc_id = text(fields, "DocId").unwrap_or_default();
    let db = app.sim.db();
    match db.expenses.iter().find(|e| e.head.doc_id == doc_id) {
        Some(_) if details && db.withheld.contains(&doc_id) => {
            refusal("DocumentLocked", "The document is being corrected, try later")
        }
        Some(found) if details => success(&found.lines),
        Some(found) => success(&found.head),
        None => refusal("NotFound", &format!("Document {doc_id:?} not found")),
    }
}

fn add_to_basket(app: &App, fields: &Map<String, Value>) -> Response {
    let lines: Vec<BasketLine> = match fields
        .get("ProductList")
        .map(|list| serde_json::from_value(list.clone()))
    {
        Some(Ok(lines)) => lines,
        Some(Err(error)) => return refusal("ValidationError", &format!("ProductList: {error}")),
        None => return refusal("ValidationError", "ProductList is required"),
    };
    let mut db = app.sim.db();
    for line in &lines {
        if db.part(line.product_id).is_none() || line.count == 0 {
            return refusal(
                "NotFound",
                &format!("Product {} not found or Count is 0", line.product_id),
            );
        }
        if app.harness.refuses_item(&line.product_id.to_string()) {
            return refusal(
                "ValidationError",
                &format!("Product {} {REFUSED_ITEM}", line.product_id),
            );
        }
    }
    for line in lines {
        match db.basket.iter_mut().find(|b| b.product_id == line.product_id) {
            Some(existing) => existing.count += line.count,
            None => db.basket.push(line),
        }
    }
    success(Value::Null)
}

fn create_order(app: &App, fields: &Map<String, Value>, fail_after_commit: bool) -> Response {
    let mut db = app.sim.db();
    if db.basket.is_empty() {
        return refusal("ValidationError", "The basket is empty");
    }
    let today = Utc::now().date_naive();
    let order_id = format!("ZM-{:06}", db.orders.len() + 1);
    let products = std::mem::take(&mut db.basket);
    let lines: Vec<(u64, u32)> = products.iter().map(|l| (l.product_id, l.count)).collect();
    db.orders.push(Order {
        order_id: order_id.clone(),
        comment: text(fields, "Comment").filter(|c| !c.is_empty()),
        date: today.format(wire::DATE_FORMAT).to_string(),
        state: "New".into(),
        products,
    });
    // Omega ships and invoices the order the same day.
    db.invoice(today, &lines);
    drop(db);
    let lost = app
        .sim
        .lost_orders
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if fail_after_commit || lost {
        return app.harness.commit_then_fail();
    }
    success(json!({ "OrderId": order_id }))
}

fn order_list(app: &App, fields: &Map<String, Value>) -> Response {
    let (start, end) = match (date(fields, "StartDate"), date(fields, "EndDate")) {
        (Ok(start), Ok(end)) => (start, end),
        (Err(refused), _) | (_, Err(refused)) => return refused,
    };
    let db = app.sim.db();
    let orders: Vec<_> = db
        .orders
        .iter()
        .filter(|o| wire::parse_date(&o.date).is_some_and(|d| d >= start && d <= end))
        .cloned()
        .collect();
    success(orders)
}
