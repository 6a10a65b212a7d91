//! Carts, reserves and documents: `/shopping/carts`, `/shopping/cart/{cart}[/product/{product}/{qty}]`,
//! `/shopping/reserve/process`, `/shopping/reserves`, `/documents/list`, `/documents/{type}/{uuid}`.
use crate::api::{bad_request, not_found, paging, slice};
use crate::auth::enter;
use crate::data::WAREHOUSES;
use crate::{App, REFUSED_ITEM};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use std::collections::HashMap;
use tiltas_busmarket::wire::{
    Cart, CartAnswer, Carts, DocumentAnswer, DocumentsPage, Reserve, ReserveAnswer, ReserveRequest, ReservesPage,
};
use tiltas_sim::RequestKind;

/// The routes of carts, reserves and documents.
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/shopping/carts", get(carts).post(create_cart))
        .route("/shopping/cart/{cart}", get(cart).delete(delete_cart))
        .route(
            "/shopping/cart/{cart}/product/{product}/{quantity}",
            post(add).put(set).delete(remove),
        )
        .route(
            "/shopping/cart/{cart}/product/{product}",
            axum::routing::delete(remove_all),
        )
        .route("/shopping/reserve/process", post(reserve))
        .route("/shopping/reserves", get(reserves))
        .route("/documents/list", get(documents))
        .route("/documents/{kind}/{uuid}", get(document))
}

async fn carts(State(app): State<App>, headers: HeaderMap) -> Response {
    if let Err(refused) = enter(&app, &headers, RequestKind::Read).await {
        return refused;
    }
    let carts = app.sim.db().carts.clone();
    Json(Carts { carts }).into_response()
}

#[derive(Deserialize)]
struct NewCart {
    name: String,
}

async fn create_cart(State(app): State<App>, headers: HeaderMap, body: String) -> Response {
    let admission = match enter(&app, &headers, RequestKind::Write).await {
        Ok(admission) => admission,
        Err(refused) => return refused,
    };
    let request: NewCart = match serde_json::from_str(&body) {
        Ok(request) => request,
        Err(error) => return bad_request(&format!("body: {error}: a cart needs a name")),
    };
    if request.name.trim().is_empty() {
        return bad_request("name: a cart needs a name");
    }
    let mut db = app.sim.db();
    let cart = Cart {
        uuid: db.new_uuid("cart"),
        name: request.name,
        products: Vec::new(),
    };
    db.carts.push(cart.clone());
    drop(db);
    if admission.fail_after_commit {
        return app.harness.commit_then_fail();
    }
    (StatusCode::CREATED, Json(CartAnswer { cart })).into_response()
}

async fn cart(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(refused) = enter(&app, &headers, RequestKind::Read).await {
        return refused;
    }
    match app.sim.db().carts.iter().find(|c| c.uuid == id) {
        Some(cart) => Json(CartAnswer { cart: cart.clone() }).into_response(),
        None => not_found(&format!("Cart {id} not found")),
    }
}

async fn delete_cart(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(refused) = enter(&app, &headers, RequestKind::Write).await {
        return refused;
    }
    let mut db = app.sim.db();
    let before = db.carts.len();
    db.carts.retain(|c| c.uuid != id);
    if db.carts.len() == before {
        return not_found(&format!("Cart {id} not found"));
    }
    Json(serde_json::json!({ "deleted": id })).into_response()
}

/// How a cart call changes a product's quantity.
#[derive(Clone, Copy)]
enum Change {
    Add,
    Set,
    Remove,
}

async fn change(app: App, headers: HeaderMap, cart: String, product: String, quantity: u32, how: Change) -> Response {
    let admission = match enter(&app, &headers, RequestKind::Write).await {
        Ok(admission) => admission,
        Err(refused) => return refused,
    };
    let mut db = app.sim.db();
    let Some(line) = db.cart_line(&product, quantity) else {
        return not_found(&format!("Product {product} not found"));
    };
    if !matches!(how, Change::Remove) && quantity == 0 {
        return bad_request("quantity must be 1 or more");
    }
    if !matches!(how, Change::Remove) && app.harness.refuses_item(&line.code) {
        return bad_request(&format!("Product {} {REFUSED_ITEM}", line.code));
    }
    let Some(found) = db.carts.iter_mut().find(|c| c.uuid == cart) else {
        return not_found(&format!("Cart {cart} not found"));
    };
    let held = found.products.iter().position(|l| l.product_uuid == line.product_uuid);
    match (how, held) {
        (Change::Add, Some(at)) => found.products[at].quantity += quantity,
        (Change::Add | Change::Set, None) => found.products.push(line),
        (Change::Set, Some(at)) => found.products[at].quantity = quantity,
        (Change::Remove, Some(at)) => {
            found.products.remove(at);
        }
        (Change::Remove, None) => return not_found(&format!("Product {product} is not in cart {cart}")),
    }
    let answer = CartAnswer { cart: found.clone() };
    drop(db);
    if admission.fail_after_commit {
        return app.harness.commit_then_fail();
    }
    Json(answer).into_response()
}

async fn add(State(app): State<App>, headers: HeaderMap, Path(path): Path<(String, String, u32)>) -> Response {
    change(app, headers, path.0, path.1, path.2, Change::Add).await
}

async fn set(State(app): State<App>, headers: HeaderMap, Path(path): Path<(String, String, u32)>) -> Response {
    change(app, headers, path.0, path.1, path.2, Change::Set).await
}

async fn remove(State(app): State<App>, headers: HeaderMap, Path(path): Path<(String, String, u32)>) -> Response {
    change(app, headers, path.0, path.1, path.2, Change::Remove).await
}

async fn remove_all(State(app): State<App>, headers: HeaderMap, Path(path): Path<(String, String)>) -> Response {
    change(app, headers, path.0, path.1, 0, Change::Remove).await
}

/// `POST /shopping/reserve/process`: the cart becomes a reserve (and its invoice, dated today).
async fn reserve(State(app): State<App>, headers: HeaderMap, body: String) -> Response {
    let admission = match enter(&app, &headers, RequestKind::Write).await {
        Ok(admission) => admission,
        Err(refused) => return refused,
    };
    let request: ReserveRequest = match serde_json::from_str(&body) {
        Ok(request) => request,
        Err(error) => {
            return bad_request(&format!(
                "body: {error}: order_uuid, comment and warehouse_uuid are required"
            ))
        }
    };
    if !WAREHOUSES.iter().any(|(_, uuid)| *uuid == request.warehouse_uuid) {
        return bad_request(&format!(
            "warehouse_uuid {:?} is not a warehouse",
            request.warehouse_uuid
        ));
    }
    let mut db = app.sim.db();
    let Some(at) = db.carts.iter().position(|c| c.uuid == request.order_uuid) else {
        return not_found(&format!("Cart {} not found", request.order_uuid));
    };
    if db.carts[at].products.is_empty() {
        return bad_request(&format!("Cart {} is empty", request.order_uuid));
    }
    let cart = db.carts.remove(at);
    let reserve = Reserve {
        uuid: db.new_uuid("reserve"),
        number: format!("R-{:07}", 2_000_000 + db.reserves.len() + 1),
        comment: request.comment,
        warehouse_uuid: request.warehouse_uuid,
        created_at: Utc::now().to_rfc3339(),
        products: cart.products,
    };
    db.reserves.push(reserve.clone());
    db.invoice_reserve(&reserve);
    drop(db);
    if admission.fail_after_commit {
        return app.harness.commit_then_fail();
    }
    Json(ReserveAnswer { reserve }).into_response()
}

async fn reserves(
    State(app): State<App>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = enter(&app, &headers, RequestKind::Read).await {
        return refused;
    }
    let (page, per_page) = match paging(&query) {
        Ok(paging) => paging,
        Err(refused) => return refused,
    };
    let newest_first: Vec<Reserve> = app.sim.db().reserves.iter().rev().cloned().collect();
    Json(ReservesPage {
        reserves: slice(&newest_first, page, per_page),
        page,
        per_page,
        total: newest_first.len(),
    })
    .into_response()
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

async fn documents(
    State(app): State<App>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = enter(&app, &headers, RequestKind::Read).await {
        return refused;
    }
    let asked = paging(&query).and_then(|p| Ok((p, date_param(&query, "date_from")?, date_param(&query, "date_to")?)));
    let ((page, per_page), from, to) = match asked {
        Ok(asked) => asked,
        Err(refused) => return refused,
    };
    let kind = query.get("type");
    let db = app.sim.db();
    let mut matching: Vec<_> = db
        .invoices
        .iter()
        .filter(|d| kind.is_none_or(|k| *k == d.head.kind))
        .filter(|d| {
            let date = NaiveDate::parse_from_str(&d.head.date, "%Y-%m-%d").ok();
            date.is_some_and(|date| from.is_none_or(|from| date >= from) && to.is_none_or(|to| date <= to))
        })
        .map(|d| d.head.clone())
        .collect();
    // Newest first unless `direction=asc`, as bmapi-js documents the default.
    if query.get("direction").is_none_or(|d| d != "asc") {
        matching.reverse();
    }
    Json(DocumentsPage {
        documents: slice(&matching, page, per_page),
        page,
        per_page,
        total: matching.len(),
    })
    .into_response()
}

async fn document(State(app): State<App>, headers: HeaderMap, Path((kind, id)): Path<(String, String)>) -> Response {
    if let Err(refused) = enter(&app, &headers, RequestKind::Read).await {
        return refused;
    }
    let db = app.sim.db();
    match db.invoices.iter().find(|d| d.head.uuid == id && d.head.kind == kind) {
        Some(found) => Json(DocumentAnswer {
            document: found.clone(),
        })
        .into_response(),
        None => not_found(&format!("Document {kind}/{id} not found")),
    }
}
