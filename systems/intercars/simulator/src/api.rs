//! The IC API's handlers under `/ic`.
use crate::auth::{enter, token};
use crate::data::{day_start, IcPart, BRANCHES, VAT};
use crate::{error_body, App, REFUSED_ITEM};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use tiltas_intercars::wire::{
    self, InvoicePage, NewRequisition, Price, Product, ProductPage, Quote, QuoteLine, QuotedLine, Requisition,
    RequisitionPage, StockRow,
};
use tiltas_sim::RequestKind;

/// The routes of the token endpoint and the API.
pub(crate) fn routes(app: App) -> Router {
    Router::new()
        .route("/oauth2/token", post(token))
        .route("/ic/inventory/stock", get(stock))
        .route("/ic/pricing/quote", post(quote))
        .route("/ic/catalog/products", get(products))
        .route("/ic/sales/requisition", post(create_requisition).get(requisitions))
        .route("/ic/sales/requisition/{id}", get(requisition))
        .route("/ic/sales/requisition/{id}/{action}", post(decide))
        .route("/ic/sales/order/{id}", get(order))
        .route("/ic/invoice", get(invoices))
        .route("/ic/invoice/{id}", get(invoice))
        .with_state(app)
}

fn bad_request(message: &str) -> Response {
    error_body(StatusCode::BAD_REQUEST, "bad_request", message)
}

fn not_found(what: &str) -> Response {
    error_body(StatusCode::NOT_FOUND, "not_found", what)
}

/// A part as `/__sim/records/part` lists it: canonical `article` and `brand` beside IC's fields.
pub(crate) fn part_record(part: &IcPart) -> Value {
    json!({
        "article": part.part.article, "brand": part.part.brand, "ean": part.part.ean,
        "name": part.part.name, "sku": part.sku, "index": part.part.article,
        "listPriceNet": part.list_price.to_string(), "customerPriceNet": part.customer_price.to_string(),
        "stock": part.stock, "updatedAt": part.updated_at.to_rfc3339(),
    })
}

/// `limit` (1–100, default 100) and `offset` of a paged list, or the 400.
fn paging(query: &HashMap<String, String>) -> Result<(usize, usize), Response> {
    let number = |key: &str, default: usize| match query.get(key) {
        None => Ok(default),
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| bad_request(&format!("{key} must be a whole number, found {text:?}"))),
    };
    let limit = number("limit", wire::MAX_PAGE)?;
    if limit == 0 || limit > wire::MAX_PAGE {
        return Err(bad_request(&format!(
            "limit must be 1–{}, found {limit}",
            wire::MAX_PAGE
        )));
    }
    Ok((limit, number("offset", 0)?))
}

fn page<T: Clone>(all: &[T], limit: usize, offset: usize) -> (Vec<T>, bool) {
    let page = all.iter().skip(offset).take(limit).cloned().collect();
    (page, offset + limit < all.len())
}

async fn stock(State(app): State<App>, headers: HeaderMap, Query(query): Query<HashMap<String, String>>) -> Response {
    let _admitted = match enter(&app, &headers, RequestKind::Read).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let skus: Vec<&str> = query
        .get("sku")
        .map(|list| list.split(',').map(str::trim).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    if skus.is_empty() || skus.len() > wire::MAX_STOCK_SKUS {
        return bad_request(&format!(
            "sku must list 1–{} codes, found {}",
            wire::MAX_STOCK_SKUS,
            skus.len()
        ));
    }
    let location = query.get("location").filter(|l| !l.is_empty());
    if let Some(location) = location {
        if !BRANCHES.contains(&location.as_str()) {
            return bad_request(&format!("unknown location {location:?}"));
        }
    }
    let db = app.sim.db();
    let (mut rows, mut unknown) = (Vec::new(), Vec::new());
    for sku in skus {
        let Some(part) = db.part(sku).filter(|part| part.sold) else {
            unknown.push(sku.to_owned());
            continue;
        };
        for (branch, pieces) in &part.stock {
            if location.is_some_and(|l| l != branch) {
                continue;
            }
            rows.push(StockRow {
                location: branch.clone(),
                sku: part.sku.clone(),
                availability: (*pieces).min(wire::AVAILABILITY_CAP),
                latest_delivery_date: Some(part.updated_at.date_naive().to_string()),
                index: Some(part.part.article.clone()),
                name: Some(part.part.name.clone()),
                eans: vec![part.part.ean.clone()],
            });
        }
    }
    with_unknown(Json(rows).into_response(), &unknown)
}

fn with_unknown(mut response: Response, unknown: &[String]) -> Response {
    if !unknown.is_empty() {
        if let Ok(value) = HeaderValue::from_str(&unknown.join(",")) {
            response.headers_mut().insert(wire::UNKNOWN_SKUS_HEADER, value);
        }
    }
    response
}

fn price_of(part: &IcPart) -> Price {
    Price {
        currency_code: "PLN".into(),
        list_price_net: part.list_price,
        customer_price_net: part.customer_price,
        customer_price_gross: (part.customer_price * (Decimal::ONE_HUNDRED + VAT) / Decimal::ONE_HUNDRED).round_dp(2),
        vat_percentage: VAT,
    }
}

#[derive(Deserialize)]
struct QuoteRequest {
    lines: Vec<QuoteLine>,
}

async fn quote(State(app): State<App>, headers: HeaderMap, body: String) -> Response {
    let _admitted = match enter(&app, &headers, RequestKind::Read).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let request: QuoteRequest = match serde_json::from_str(&body) {
        Ok(request) => request,
        Err(error) => return bad_request(&format!("body: {error}")),
    };
    if request.lines.is_empty() || request.lines.len() > wire::MAX_QUOTE_LINES {
        return bad_request(&format!(
            "lines must hold 1–{} lines, found {}",
            wire::MAX_QUOTE_LINES,
            request.lines.len()
        ));
    }
    let db = app.sim.db();
    let (mut lines, mut unknown) = (Vec::new(), Vec::new());
    for line in request.lines {
        match db.part(&line.sku).filter(|part| part.sold) {
            Some(part) => lines.push(QuotedLine {
                sku: part.sku.clone(),
                quantity: line.quantity,
                price: price_of(part),
            }),
            None => unknown.push(line.sku),
        }
    }
    with_unknown(Json(Quote { lines }).into_response(), &unknown)
}

async fn products(
    State(app): State<App>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let _admitted = match enter(&app, &headers, RequestKind::Read).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let (limit, offset) = match paging(&query) {
        Ok(paging) => paging,
        Err(refused) => return refused,
    };
    let normal = |text: &str| {
        text.chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_uppercase()
    };
    let db = app.sim.db();
    let matching: Vec<Product> = db
        .parts
        .iter()
        .filter(|part| query.get("sku").is_none_or(|sku| part.sku.eq_ignore_ascii_case(sku)))
        .filter(|part| {
            query
                .get("index")
                .is_none_or(|index| normal(&part.part.article) == normal(index))
        })
        .filter(|part| {
            query.get("search").is_none_or(|search| {
                let search = normal(search);
                normal(&part.part.article).contains(&search) || normal(&part.part.name).contains(&search)
            })
        })
        .map(|part| Product {
            sku: part.sku.clone(),
            index: part.part.article.clone(),
            brand: part.part.brand.clone(),
            description: part.part.name.clone(),
            blocked_return: false,
            gtu_code: None,
            eans: vec![part.part.ean.clone()],
        })
        .collect();
    let (products, has_next_page) = page(&matching, limit, offset);
    Json(ProductPage {
        total_results: matching.len(),
        has_next_page,
        products,
    })
    .into_response()
}

async fn create_requisition(State(app): State<App>, headers: HeaderMap, body: String) -> Response {
    let admission = match enter(&app, &headers, RequestKind::Write).await {
        Ok((_, admission)) => admission,
        Err(refused) => return refused,
    };
    let request: NewRequisition = match serde_json::from_str(&body) {
        Ok(request) => request,
        Err(error) => return bad_request(&format!("body: {error}")),
    };
    if request.lines.is_empty() {
        return bad_request("lines: a requisition needs at least one line");
    }
    let mut db = app.sim.db();
    for (at, line) in request.lines.iter().enumerate() {
        if db.part(&line.sku).is_none() || line.required_quantity == 0 {
            return bad_request(&format!(
                "lines[{at}]: sku {:?} is unknown or requiredQuantity is 0",
                line.sku
            ));
        }
        if app.harness.refuses_item(&line.sku) {
            return bad_request(&format!("lines[{at}]: sku {} {REFUSED_ITEM}", line.sku));
        }
    }
    let id = format!("R{:08}", 40_000_000 + db.requisitions.len() + 1);
    db.requisitions.push(Requisition {
        id: id.clone(),
        custom_number: request.custom_number,
        status: "NEW".into(),
        creation_date: Utc::now().to_rfc3339(),
        order_id: None,
        lines: request.lines,
    });
    drop(db);
    if admission.fail_after_commit {
        return app.harness.commit_then_fail();
    }
    (StatusCode::CREATED, Json(json!({ "id": id }))).into_response()
}

fn date_param(query: &HashMap<String, String>, key: &str) -> Result<Option<NaiveDate>, Response> {
    query
        .get(key)
        .map(|text| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| bad_request(&format!("{key} must be a date YYYY-MM-DD, found {text:?}")))
        })
        .transpose()
}

/// A listing's date range (`from_key`..`to_key`, both optional) and its `limit`/`offset`.
type DatesAndPage = (Option<NaiveDate>, Option<NaiveDate>, (usize, usize));

fn dates_and_page(query: &HashMap<String, String>, from_key: &str, to_key: &str) -> Result<DatesAndPage, Response> {
    Ok((date_param(query, from_key)?, date_param(query, to_key)?, paging(query)?))
}

async fn requisitions(
    State(app): State<App>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let _admitted = match enter(&app, &headers, RequestKind::Read).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let (from, to, (limit, offset)) = match dates_and_page(&query, "creationDateFrom", "creationDateTo") {
        Ok(range) => range,
        Err(refused) => return refused,
    };
    let db = app.sim.db();
    let matching: Vec<Requisition> = db
        .requisitions
        .iter()
        .filter(|r| {
            let created = DateTime::parse_from_rfc3339(&r.creation_date)
                .map(|d| d.with_timezone(&Utc))
                .ok();
            created.is_some_and(|created| {
                from.is_none_or(|from| created >= day_start(from))
                    && to.is_none_or(|to| created < day_start(to + chrono::Duration::days(1)))
            })
        })
        .cloned()
        .collect();
    let (requisitions, has_next_page) = page(&matching, limit, offset);
    Json(RequisitionPage {
        total_results: matching.len(),
        has_next_page,
        requisitions,
    })
    .into_response()
}

async fn requisition(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let _admitted = match enter(&app, &headers, RequestKind::Read).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    match app.sim.db().requisition(&id) {
        Some(found) => Json(found.clone()).into_response(),
        None => not_found(&format!("requisition {id} not found")),
    }
}

async fn decide(State(app): State<App>, headers: HeaderMap, Path((id, action)): Path<(String, String)>) -> Response {
    let admission = match enter(&app, &headers, RequestKind::Write).await {
        Ok((_, admission)) => admission,
        Err(refused) => return refused,
    };
    let mut db = app.sim.db();
    let Some(found) = db.requisition(&id) else {
        return not_found(&format!("requisition {id} not found"));
    };
    let answer = match (action.as_str(), found.status.as_str()) {
        ("confirm", "NEW") => {
            found.status = "CONFIRMED".into();
            let order_id = format!("Z{}", &id[1..]);
            found.order_id = Some(order_id.clone());
            let confirmed = found.clone();
            db.invoice_order(&confirmed);
            json!({ "id": id, "status": "CONFIRMED", "orderId": order_id })
        }
        ("cancel", "NEW") => {
            found.status = "CANCELLED".into();
            json!({ "id": id, "status": "CANCELLED" })
        }
        ("confirm" | "cancel", status) => {
            return error_body(
                StatusCode::CONFLICT,
                "conflict",
                &format!("requisition {id} is {status}: only a NEW requisition can be confirmed or cancelled"),
            )
        }
        _ => return not_found(&format!("no action {action:?} on a requisition")),
    };
    drop(db);
    let lost = action == "confirm"
        && app
            .sim
            .lost_confirmations
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
    if admission.fail_after_commit || lost {
        return app.harness.commit_then_fail();
    }
    Json(answer).into_response()
}

async fn order(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let _admitted = match enter(&app, &headers, RequestKind::Read).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let db = app.sim.db();
    let Some(found) = db
        .requisitions
        .iter()
        .find(|r| r.order_id.as_deref() == Some(id.as_str()))
    else {
        return not_found(&format!("order {id} not found"));
    };
    let lines: Vec<Value> = found
        .lines
        .iter()
        .filter_map(|line| db.part(&line.sku).map(|part| (line, part)))
        .map(|(line, part)| json!({ "sku": part.sku, "quantity": line.required_quantity, "price": price_of(part) }))
        .collect();
    Json(
        json!({ "id": id, "requisitionId": found.id, "customNumber": found.custom_number,
                 "status": "IN_PROGRESS", "creationDate": found.creation_date, "lines": lines }),
    )
    .into_response()
}

async fn invoices(
    State(app): State<App>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let _admitted = match enter(&app, &headers, RequestKind::Read).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let (from, to, (limit, offset)) = match dates_and_page(&query, "issueDateFrom", "issueDateTo") {
        Ok(range) => range,
        Err(refused) => return refused,
    };
    let db = app.sim.db();
    let matching: Vec<_> = db
        .invoices
        .iter()
        .filter(|invoice| {
            let date = NaiveDate::parse_from_str(&invoice.head.issue_date, "%Y-%m-%d").ok();
            date.is_some_and(|date| from.is_none_or(|from| date >= from) && to.is_none_or(|to| date <= to))
        })
        .map(|invoice| invoice.head.clone())
        .collect();
    let (invoices, has_next_page) = page(&matching, limit, offset);
    Json(InvoicePage {
        total_results: matching.len(),
        has_next_page,
        invoices,
    })
    .into_response()
}

async fn invoice(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let _admitted = match enter(&app, &headers, RequestKind::Read).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    match app.sim.db().invoices.iter().find(|invoice| invoice.head.id == id) {
        Some(found) => Json(found.clone()).into_response(),
        None => not_found(&format!("invoice {id} not found")),
    }
}
