//! The simulator against B1's protocol as the protocol notes and B1's help pages describe it.
use crate::{router, B1Sim, Seeding};
use serde_json::{json, Value};
use std::sync::Arc;
use tiltas_b1::sign::{self, Naming};
use tiltas_sim::Harness;

const KEY: &str = "KEY1";
const SECRET: &str = "SECRET";

async fn start(package: u64) -> String {
    let seeding = Seeding {
        seed: 3,
        items: 12,
        clients: 4,
        warehouses: 2,
        invoices: 2,
    };
    let sim = Arc::new(B1Sim::new(KEY, SECRET, seeding).with_package(package));
    tiltas_sim::spawn(router(sim.clone(), Harness::new(sim, 3)))
        .await
        .unwrap()
}

/// Sends `body` to `path` with the B1 headers given, signing them as `naming` says (or not).
async fn send(
    url: &str,
    path: &str,
    body: &Value,
    extra: &[(&str, &str)],
    naming: Option<Naming>,
    time: i64,
) -> (u16, Value) {
    let text = body.to_string();
    let length = text.len().to_string();
    let time = time.to_string();
    let mut headers: Vec<(&str, &str)> = vec![
        (sign::API_KEY, KEY),
        ("Content-Type", "application/json"),
        ("Content-Length", &length),
        (sign::TIME, &time),
    ];
    headers.extend_from_slice(extra);
    let mut request = reqwest::Client::new()
        .post(format!("{url}/api/{path}"))
        .body(text.clone());
    for (name, value) in &headers {
        if *name != "Content-Length" {
            request = request.header(*name, *value);
        }
    }
    if let Some(naming) = naming {
        request = request.header(
            sign::SIGNATURE,
            sign::signature(SECRET, &headers, text.as_bytes(), naming),
        );
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn list() -> Value {
    json!({"page": 1, "rows": 10, "sidx": "id", "sord": "asc"})
}

#[tokio::test]
async fn every_documented_signature_form_is_accepted() {
    let url = start(100).await;
    let library = [(sign::VERSION, "1.0"), (sign::PLATFORM, "php")];
    let (status, body) = send(
        &url,
        "reference-book/items/list",
        &list(),
        &library,
        Some(Naming::Unprefixed),
        now(),
    )
    .await;
    assert_eq!(status, 200, "B1's own library: {body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 10);
    assert_eq!(body["records"], 12);
    assert_eq!(body["pages"], 2);
    let (status, _) = send(
        &url,
        "reference-book/items/list",
        &list(),
        &library,
        Some(Naming::Prefixed),
        now(),
    )
    .await;
    assert_eq!(status, 200, "prefixed names");
    let v2 = [(sign::SIGNATURE_VERSION, "2")];
    let (status, _) = send(
        &url,
        "reference-book/items/list",
        &list(),
        &v2,
        Some(Naming::Prefixed),
        now(),
    )
    .await;
    assert_eq!(status, 200, "B1-Signature-Version: 2");
    let (status, _) = send(&url, "reference-book/items/list", &list(), &[], None, now()).await;
    assert_eq!(status, 200, "the key alone");
}

#[tokio::test]
async fn a_wrong_signature_a_skewed_time_and_a_missing_key_are_refused_in_b1_s_shape() {
    let url = start(100).await;
    let text = list().to_string();
    let (status, body) = {
        let response = reqwest::Client::new()
            .post(format!("{url}/api/reference-book/items/list"))
            .header(sign::API_KEY, KEY)
            .header(sign::TIME, now().to_string())
            .header(sign::SIGNATURE, "00ff")
            .body(text.clone())
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json::<Value>().await.unwrap())
    };
    assert_eq!((status, body["code"].clone()), (401, json!(401)));
    assert!(
        body["message"].as_str().unwrap().contains("Invalid signature"),
        "{body}"
    );
    let (status, body) = send(
        &url,
        "reference-book/items/list",
        &list(),
        &[],
        Some(Naming::Unprefixed),
        now() - 301,
    )
    .await;
    assert_eq!(status, 401);
    assert!(body["message"].as_str().unwrap().contains("5 minutes"), "{body}");
    let response = reqwest::Client::new()
        .post(format!("{url}/api/reference-book/items/list"))
        .body(text)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert!(response.text().await.unwrap().contains("API key is required"));
}

#[tokio::test]
async fn rows_outside_b1_s_allowed_set_are_refused() {
    let url = start(100).await;
    let (status, body) = send(&url, "clients/list", &json!({"page": 1, "rows": 25}), &[], None, now()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["errors"]["rows"][0].as_str().unwrap().contains("500"), "{body}");
}

#[tokio::test]
async fn the_daily_request_package_is_enforced_with_its_reset_time() {
    let url = start(3).await;
    for _ in 0..3 {
        assert_eq!(send(&url, "clients/list", &list(), &[], None, now()).await.0, 200);
    }
    let (status, body) = send(&url, "clients/list", &list(), &[], None, now()).await;
    assert_eq!(status, 429, "{body}");
    assert!(body["errors"]["package"].is_array(), "{body}");
    assert!(body["resetsAt"].as_str().unwrap().contains("T00:00:00"), "{body}");
}

#[tokio::test]
async fn a_sale_naming_a_missing_client_or_warehouse_fails_on_b1_s_foreign_keys() {
    let url = start(100).await;
    let sale = |client: i64, warehouse: i64| {
        json!({"number": "WEB-1", "saleDate": "2026-01-02", "clientId": client, "warehouseId": warehouse,
               "currencyCode": "EUR", "items": [{"code": "P00001", "name": "x", "quantity": "1", "price": "10", "vatPercent": "21"}]})
    };
    let (status, body) = send(&url, "e-commerce/orders/create-sale", &sale(9999, 1), &[], None, now()).await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("violates foreign key constraint \"PARDAVIMAI_fk1\""),
        "{body}"
    );
    let (_, clients) = send(&url, "clients/list", &list(), &[], None, now()).await;
    let client = clients["data"][0]["id"].as_i64().unwrap();
    let (status, body) = send(
        &url,
        "e-commerce/orders/create-sale",
        &sale(client, 9999),
        &[],
        None,
        now(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("PARDAVIMAI_fk8"), "{body}");
    let (status, body) = send(
        &url,
        "e-commerce/orders/create-sale",
        &sale(client, 1),
        &[],
        None,
        now(),
    )
    .await;
    assert_eq!((status, body["code"].clone()), (200, json!(200)), "{body}");
    assert!(body["data"]["id"].as_i64().is_some(), "{body}");
}

#[tokio::test]
async fn a_sale_with_an_unknown_item_is_created_without_that_line_and_answered_480() {
    let url = start(100).await;
    let (_, clients) = send(&url, "clients/list", &list(), &[], None, now()).await;
    let client = clients["data"][0]["id"].as_i64().unwrap();
    let sale = json!({"number": "WEB-2", "clientId": client, "warehouseId": 1, "items": [
        {"code": "P00001", "name": "x", "quantity": "1", "price": "10", "vatPercent": "21"},
        {"code": "NOPE", "name": "y", "quantity": "1", "price": "5", "vatPercent": "21"}]});
    let (status, body) = send(&url, "e-commerce/orders/create-sale", &sale, &[], None, now()).await;
    assert_eq!(status, 480, "{body}");
    let id = body["data"]["id"].as_i64().unwrap();
    assert!(
        body["errors"]["items.1"][0]
            .as_str()
            .unwrap()
            .contains("PARDAVIMU_PREKES_fk1"),
        "{body}"
    );
    let filter = json!({"page": 1, "rows": 10, "filters": {"groupOp": "AND", "rules": [{"field": "id", "op": "eq", "data": id.to_string()}]}});
    let (_, sales) = send(&url, "warehouse/sales/list", &filter, &[], None, now()).await;
    assert_eq!(sales["data"][0]["items"].as_array().unwrap().len(), 1, "{sales}");
    assert_eq!(sales["data"][0]["total"], "12.1");
}

#[tokio::test]
async fn companies_sharing_a_payers_package_draw_from_one_counter() {
    let seeding = || Seeding {
        seed: 3,
        items: 4,
        clients: 2,
        warehouses: 1,
        invoices: 0,
    };
    let payer = Arc::new(B1Sim::new(KEY, SECRET, seeding()).with_package(5));
    let other = Arc::new(B1Sim::new(KEY, SECRET, seeding()).sharing_package_of(&payer));
    let payer_url = tiltas_sim::spawn(router(payer.clone(), Harness::new(payer.clone(), 3)))
        .await
        .unwrap();
    let other_url = tiltas_sim::spawn(router(other.clone(), Harness::new(other.clone(), 3)))
        .await
        .unwrap();
    for url in [&payer_url, &payer_url, &payer_url, &other_url, &other_url] {
        assert_eq!(send(url, "clients/list", &list(), &[], None, now()).await.0, 200);
    }
    assert_eq!((payer.package_used(), other.package_used()), (5, 5));
    for url in [&other_url, &payer_url] {
        let (status, body) = send(url, "clients/list", &list(), &[], None, now()).await;
        assert_eq!(status, 429, "{body}");
        assert!(body["errors"]["package"][0].as_str().unwrap().contains("(5 "), "{body}");
    }
}
