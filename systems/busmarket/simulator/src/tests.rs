//! The simulator's protocol: the raw token on every request, rate-limit headers on every
//! answer and 429 past the limit, search paged with prices in the asked currency, products by
//! UUID or code, carts → reserve (shown as orders) and its invoice, documents, and the shared
//! parts catalogue.
use crate::data::{convert, WAREHOUSES};
use crate::{router, BusmarketSim, Seeding};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tiltas_sim::{Harness, SimSystem};

const TOKEN: &str = "t-123";
const SEED: u64 = 7;

async fn start(sim: BusmarketSim) -> (String, Arc<BusmarketSim>) {
    let sim = Arc::new(sim);
    let url = tiltas_sim::spawn(router(sim.clone(), Harness::new(sim.clone(), SEED)))
        .await
        .unwrap_or_else(|e| panic!("seed {SEED}: {e}"));
    (url, sim)
}

fn seeded(catalogue: usize, invoices: usize) -> BusmarketSim {
    BusmarketSim::new(
        TOKEN,
        Seeding {
            seed: SEED,
            catalogue,
            invoices,
        },
    )
}

/// A request with `token` (none when empty): status, headers, JSON body.
async fn call(
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if !token.is_empty() {
        request = request.header("authorization", token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

async fn get(url: &str) -> (StatusCode, Value) {
    let (status, _, body) = call(reqwest::Method::GET, url, TOKEN, None).await;
    (status, body)
}

fn header(headers: &reqwest::header::HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.parse().ok()
}

#[tokio::test]
async fn the_raw_token_is_checked_on_every_request_and_rate_limit_headers_are_on_every_answer() {
    let (url, _) = start(seeded(20, 0).with_rate_limit(5, Duration::from_secs(30))).await;
    let search = format!("{url}/search/products?q=");
    for token in ["", "wrong", &format!("Bearer {TOKEN}")] {
        let (status, headers, body) = call(reqwest::Method::GET, &search, token, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(body["error"]["code"], "401");
        assert!(header(&headers, "x-ratelimit-limit") == Some(5), "headers on a 401 too");
        if token.starts_with("Bearer") {
            assert!(body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("without \"Bearer\"")));
        }
    }
    let (status, headers, _) = call(reqwest::Method::GET, &search, TOKEN, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            header(&headers, "x-ratelimit-limit"),
            header(&headers, "x-ratelimit-remaining")
        ),
        (Some(5), Some(1))
    );
    assert!(header(&headers, "x-ratelimit-reset").is_some_and(|s| (1..=30).contains(&s)));
    let (status, headers, _) = call(reqwest::Method::GET, &search, TOKEN, None).await;
    assert_eq!(
        (status, header(&headers, "x-ratelimit-remaining")),
        (StatusCode::OK, Some(0))
    );
    let (status, headers, body) = call(reqwest::Method::GET, &search, TOKEN, None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(header(&headers, "x-ratelimit-remaining"), Some(0));
    assert!(header(&headers, "retry-after").is_some_and(|s| (1..=30).contains(&s)));
    let (status, _, _) = call(reqwest::Method::GET, &format!("{url}/__sim/stats"), "", None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the control API is neither authorised nor limited"
    );
}

#[tokio::test]
async fn search_is_paged_with_prices_in_the_asked_currency_and_products_are_found_by_uuid_or_code() {
    let (url, sim) = start(seeded(120, 0)).await;
    let parts = sim
        .records("part")
        .and_then(|p| p.as_array().cloned())
        .unwrap_or_default();
    let mut seen = Vec::new();
    for page in 1.. {
        let (status, body) = get(&format!(
            "{url}/search/products?q=&page={page}&per_page=30&currency=PLN"
        ))
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let products = body["products"].as_array().cloned().unwrap_or_default();
        assert_eq!(body["total"], parts.len());
        seen.extend(products);
        if page * 30 >= parts.len() {
            break;
        }
    }
    assert_eq!(seen.len(), parts.len());
    let eur: rust_decimal::Decimal = parts[0]["price_eur"]
        .as_str()
        .unwrap_or_default()
        .parse()
        .unwrap_or_default();
    assert_eq!(seen[0]["price"], json!(convert(eur, "PLN")));
    assert_eq!(
        (seen[0]["currency"].as_str(), seen[0]["article"].clone()),
        (Some("PLN"), parts[0]["article"].clone())
    );

    let (status, body) = get(&format!("{url}/search/products?q=x&currency=USD")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = get(&format!("{url}/search/products?per_page=101")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let uuid = parts[0]["uuid"].as_str().unwrap_or_default();
    let code = parts[0]["code"].as_str().unwrap_or_default();
    let (_, by_uuid) = get(&format!("{url}/product/{uuid}?currency=EUR")).await;
    let (_, by_code) = get(&format!("{url}/product/{code}?id_type=code&currency=EUR")).await;
    assert_eq!(by_uuid, by_code);
    assert_eq!(by_uuid["product"]["price"], json!(eur));
    let (status, _) = get(&format!("{url}/product/{code}")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a code is not a uuid without id_type=code"
    );
    let (_, stocks) = get(&format!("{url}/product/{uuid}/in_stocks")).await;
    let names: Vec<&str> = stocks["in_stocks"]
        .as_array()
        .map(|rows| rows.iter().filter_map(|r| r["warehouse"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, WAREHOUSES.iter().map(|(name, _)| *name).collect::<Vec<_>>());
    let (_, price) = get(&format!("{url}/product/{uuid}/price?currency=UAH")).await;
    assert_eq!(
        (price["currency"].as_str(), price["vat"].as_str()),
        (Some("UAH"), Some("20"))
    );
    let (_, prices) = get(&format!("{url}/product/{uuid}/prices")).await;
    assert_eq!(prices["prices"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn a_cart_becomes_a_reserve_listed_as_an_order_with_its_invoice() {
    let (url, sim) = start(seeded(30, 2)).await;
    let parts = sim
        .records("part")
        .and_then(|p| p.as_array().cloned())
        .unwrap_or_default();
    let product = parts[0]["uuid"].as_str().unwrap_or_default();
    let (status, _, cart) = call(
        reqwest::Method::POST,
        &format!("{url}/shopping/carts"),
        TOKEN,
        Some(json!({ "name": "WO-1" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let cart = cart["cart"]["uuid"].as_str().unwrap_or_default().to_owned();
    let line = format!("{url}/shopping/cart/{cart}/product/{product}");
    call(reqwest::Method::POST, &format!("{line}/2"), TOKEN, None).await;
    let (_, _, added) = call(reqwest::Method::POST, &format!("{line}/1"), TOKEN, None).await;
    assert_eq!(added["cart"]["products"][0]["quantity"], 3, "POST adds");
    let (_, _, set) = call(reqwest::Method::PUT, &format!("{line}/5"), TOKEN, None).await;
    assert_eq!(set["cart"]["products"][0]["quantity"], 5, "PUT sets");
    let reserve = json!({ "order_uuid": cart, "comment": "Tiltas order WO-1", "warehouse_uuid": "nope" });
    let process = format!("{url}/shopping/reserve/process");
    let (status, _, _) = call(reqwest::Method::POST, &process, TOKEN, Some(reserve.clone())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an unknown warehouse");
    let reserve = json!({ "order_uuid": cart, "comment": "Tiltas order WO-1", "warehouse_uuid": WAREHOUSES[0].1 });
    let (status, _, made) = call(reqwest::Method::POST, &process, TOKEN, Some(reserve)).await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let (_, orders) = get(&format!("{url}/__sim/records/order")).await;
    assert_eq!(orders[0]["uuid"], made["reserve"]["uuid"]);
    assert_eq!(orders[0]["products"][0]["quantity"], 5);
    let (_, carts) = get(&format!("{url}/shopping/carts")).await;
    assert_eq!(carts["carts"], json!([]), "the cart is used up");
    let (_, reserves) = get(&format!("{url}/shopping/reserves")).await;
    assert_eq!(reserves["total"], 1);

    let (_, list) = get(&format!("{url}/documents/list?type=invoice&direction=asc&per_page=100")).await;
    let documents = list["documents"].as_array().cloned().unwrap_or_default();
    assert_eq!(documents.len(), 3, "two seeded, one of the reserve");
    let newest = &documents[2];
    assert_eq!(newest["comment"], "Tiltas order WO-1");
    let (_, invoice) = get(&format!(
        "{url}/documents/invoice/{}",
        newest["uuid"].as_str().unwrap_or_default()
    ))
    .await;
    assert_eq!(invoice["document"]["products"][0]["quantity"], "5");
    assert_eq!(invoice["document"]["products"][0]["article"], parts[0]["article"]);
}

#[tokio::test]
async fn the_assortment_comes_from_the_shared_catalogue_with_its_article_and_brand() {
    let sim = seeded(100, 0);
    let parts = sim
        .records("part")
        .and_then(|p| p.as_array().cloned())
        .unwrap_or_default();
    let catalogue = tiltas_sim::parts::catalogue(SEED, 100);
    assert!(parts.len() > 50 && parts.len() < 90, "about 70 %: {}", parts.len());
    for part in &parts {
        assert!(
            catalogue
                .iter()
                .any(|c| part["article"] == c.article.as_str() && part["brand"] == c.brand.as_str()),
            "{part}"
        );
        assert_eq!(part["code"].as_str().map(str::len), Some(6));
    }
    let codes: std::collections::BTreeSet<_> = parts.iter().map(|p| p["code"].to_string()).collect();
    let uuids: std::collections::BTreeSet<_> = parts.iter().map(|p| p["uuid"].to_string()).collect();
    assert_eq!((codes.len(), uuids.len()), (parts.len(), parts.len()));
    assert!(parts
        .iter()
        .all(|p| tiltas_busmarket::wire::is_uuid(p["uuid"].as_str().unwrap_or_default())));
}
