//! Search and product handlers: `/search/products`, `/product/{id}` and its `in_stocks`,
//! `prices`, `price`, `in_waiting`.
use crate::auth::enter;
use crate::data::{convert, with_vat, BmPart, CONTRACT_CURRENCY, RATES, VAT};
use crate::{error_body, App};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use tiltas_busmarket::wire::{self, InStocks, Price, Product, ProductAnswer, SearchPage};
use tiltas_sim::RequestKind;

/// The routes of search and products.
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/search/products", get(search))
        .route("/product/{id}", get(product))
        .route("/product/{id}/{what}", get(product_part))
}

pub(crate) fn bad_request(message: &str) -> Response {
    error_body(StatusCode::BAD_REQUEST, "400", message)
}

pub(crate) fn not_found(message: &str) -> Response {
    error_body(StatusCode::NOT_FOUND, "404", message)
}

/// A part as `/__sim/records/part` lists it: canonical `article` and `brand` beside BM's fields.
pub(crate) fn part_record(part: &BmPart) -> Value {
    json!({
        "article": part.part.article, "brand": part.part.brand, "ean": part.part.ean,
        "name": part.part.name, "uuid": part.uuid, "code": part.code,
        "price_eur": part.price_eur.to_string(),
        "price_uah": convert(part.price_eur, "UAH").map(|p| p.to_string()),
        "stock": part.stock, "updated_at": part.updated_at.to_rfc3339(),
    })
}

/// `page` (from 1) and `per_page` (1–100, default 20) of a paged list, or the 400.
pub(crate) fn paging(query: &HashMap<String, String>) -> Result<(usize, usize), Response> {
    let number = |key: &str, default: usize| match query.get(key) {
        None => Ok(default),
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| bad_request(&format!("{key} must be a whole number, found {text:?}"))),
    };
    let page = number("page", 1)?;
    let per_page = number("per_page", 20)?;
    if page == 0 || per_page == 0 || per_page > wire::MAX_PER_PAGE {
        return Err(bad_request(&format!(
            "page must be 1 or more and per_page 1–{}, found {page} and {per_page}",
            wire::MAX_PER_PAGE
        )));
    }
    Ok((page, per_page))
}

/// The page `page` of `all`.
pub(crate) fn slice<T: Clone>(all: &[T], page: usize, per_page: usize) -> Vec<T> {
    all.iter().skip((page - 1) * per_page).take(per_page).cloned().collect()
}

/// The `currency` asked for (the contract's when absent), or the 400.
fn currency(query: &HashMap<String, String>) -> Result<String, Response> {
    let asked = query
        .get("currency")
        .map_or(CONTRACT_CURRENCY, String::as_str)
        .to_uppercase();
    if RATES.iter().any(|(code, _)| *code == asked) {
        return Ok(asked);
    }
    let known: Vec<&str> = RATES.iter().map(|(code, _)| *code).collect();
    Err(bad_request(&format!(
        "currency {asked:?} is not one of {}",
        known.join(", ")
    )))
}

fn product_of(part: &BmPart, currency: &str) -> Product {
    Product {
        uuid: part.uuid.clone(),
        code: part.code.clone(),
        article: part.part.article.clone(),
        brand: part.part.brand.clone(),
        name: part.part.name.clone(),
        ean: Some(part.part.ean.clone()),
        price: convert(part.price_eur, currency),
        currency: Some(currency.to_owned()),
    }
}

fn normal(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_uppercase()
}

async fn search(State(app): State<App>, headers: HeaderMap, Query(query): Query<HashMap<String, String>>) -> Response {
    if let Err(refused) = enter(&app, &headers, RequestKind::Read).await {
        return refused;
    }
    let ((page, per_page), currency) = match paging(&query).and_then(|p| Ok((p, currency(&query)?))) {
        Ok(asked) => asked,
        Err(refused) => return refused,
    };
    let wanted = normal(query.get("q").map_or("", String::as_str));
    let db = app.sim.db();
    let matching: Vec<Product> = db
        .parts
        .iter()
        .filter(|part| {
            wanted.is_empty()
                || normal(&part.part.article).contains(&wanted)
                || part.code.contains(&wanted)
                || normal(&part.part.name).contains(&wanted)
        })
        .map(|part| product_of(part, &currency))
        .collect();
    Json(SearchPage {
        products: slice(&matching, page, per_page),
        page,
        per_page,
        total: matching.len(),
    })
    .into_response()
}

/// The part `id` names (a UUID, or a code with `id_type=code`), or the 404.
fn find(app: &App, id: &str, query: &HashMap<String, String>) -> Result<BmPart, Response> {
    let by_code = query.get("id_type").is_some_and(|t| t == "code");
    app.sim
        .db()
        .part(id, by_code)
        .filter(|part| part.sold)
        .cloned()
        .ok_or_else(|| not_found(&format!("Product {id} not found")))
}

async fn product(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = enter(&app, &headers, RequestKind::Read).await {
        return refused;
    }
    match find(&app, &id, &query).and_then(|part| Ok((part, currency(&query)?))) {
        Ok((part, currency)) => Json(ProductAnswer {
            product: product_of(&part, &currency),
        })
        .into_response(),
        Err(refused) => refused,
    }
}

async fn product_part(
    State(app): State<App>,
    headers: HeaderMap,
    Path((id, what)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = enter(&app, &headers, RequestKind::Read).await {
        return refused;
    }
    let part = match find(&app, &id, &query) {
        Ok(part) => part,
        Err(refused) => return refused,
    };
    match what.as_str() {
        "in_stocks" => Json(InStocks {
            product_uuid: part.uuid.clone(),
            in_stocks: part.in_stocks(),
        })
        .into_response(),
        "price" => match currency(&query) {
            Ok(currency) => {
                let price = convert(part.price_eur, &currency).unwrap_or_default();
                Json(Price {
                    product_uuid: part.uuid.clone(),
                    currency,
                    price,
                    price_with_vat: with_vat(price),
                    vat: VAT,
                })
                .into_response()
            }
            Err(refused) => refused,
        },
        "prices" => {
            let prices: Vec<Value> = RATES
                .iter()
                .filter_map(|(code, _)| {
                    let price = convert(part.price_eur, code)?;
                    Some(json!({ "currency": code, "price": price, "price_with_vat": with_vat(price) }))
                })
                .collect();
            Json(json!({ "product_uuid": part.uuid, "prices": prices })).into_response()
        }
        // Nothing is on its way in the simulator: an empty list in the inferred shape.
        "in_waiting" => Json(json!({ "product_uuid": part.uuid, "in_waiting": [] })).into_response(),
        other => not_found(&format!("no /product/{{uuid}}/{other}")),
    }
}
